//! `circuit_core::sqlx` against errors produced by real servers: a PostgreSQL server started
//! for the test, and SQLite files. Every error here comes from a driver, none is constructed.

mod common;

use circuit_core::sqlx::{classify, is_application_error, is_infrastructure_error, ErrorClass};
use common::postgres::{self, free_port};
use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sqlx::{Connection, Executor, PgConnection, SqliteConnection};
use std::str::FromStr;
use std::time::Duration;

use ErrorClass::{Application, Infrastructure};

/// The classification of a real error, with the error itself in the failure message.
#[track_caller]
fn assert_class(error: &sqlx::Error, expected: ErrorClass) {
    assert_eq!(classify(error), expected, "{error:?}");
    // The two predicates are each other's opposite, for every error.
    assert_eq!(is_infrastructure_error(error), expected == Infrastructure);
    assert_eq!(is_application_error(error), expected == Application);
}

fn sqlstate(error: &sqlx::Error) -> Option<String> {
    error
        .as_database_error()
        .and_then(|e| e.code())
        .map(|c| c.into_owned())
}

async fn pg(url: &str) -> PgConnection {
    PgConnection::connect(url)
        .await
        .expect("connects to the test server")
}

#[tokio::test]
async fn postgres_refused_connection_is_infrastructure() {
    let url = format!("postgres://postgres@127.0.0.1:{}/postgres", free_port());
    let error = PgConnection::connect(&url).await.unwrap_err();
    assert!(matches!(error, sqlx::Error::Io(_)), "{error:?}");
    assert_class(&error, Infrastructure);
}

#[tokio::test]
async fn postgres_pool_timed_out_and_closed_are_infrastructure() {
    let server = postgres::shared();
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_millis(300))
        .connect(&server.url())
        .await
        .unwrap();
    let held = pool.acquire().await.unwrap();
    let error = pool.acquire().await.unwrap_err();
    assert!(matches!(error, sqlx::Error::PoolTimedOut), "{error:?}");
    assert_class(&error, Infrastructure);
    drop(held);

    pool.close().await;
    let error = pool.acquire().await.unwrap_err();
    assert!(matches!(error, sqlx::Error::PoolClosed), "{error:?}");
    assert_class(&error, Infrastructure);
}

#[tokio::test]
async fn postgres_statement_timeout_behind_an_exclusive_lock_is_infrastructure() {
    let server = postgres::shared();
    let mut holder = pg(&server.url()).await;
    holder
        .execute("CREATE TABLE IF NOT EXISTS locked_rows (id BIGINT)")
        .await
        .unwrap();
    let mut tx = holder.begin().await.unwrap();
    tx.execute("LOCK TABLE locked_rows IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();

    let mut waiter = pg(&server.url()).await;
    waiter.execute("SET statement_timeout = 200").await.unwrap();
    let error = waiter
        .execute("SELECT count(*) FROM locked_rows")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&error).as_deref(), Some("57014"), "{error:?}"); // query_canceled
    assert_class(&error, Infrastructure);
    tx.rollback().await.unwrap();
}

#[tokio::test]
async fn postgres_too_many_connections_is_infrastructure() {
    let server = postgres::shared();
    let mut admin = pg(&server.url()).await;
    admin
        .execute(
            "DO $$ BEGIN
               IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'one_conn') THEN
                 CREATE ROLE one_conn LOGIN CONNECTION LIMIT 1;
               END IF;
             END $$",
        )
        .await
        .unwrap();
    let url = format!("postgres://one_conn@127.0.0.1:{}/postgres", server.port());
    let _first = pg(&url).await;
    let error = PgConnection::connect(&url).await.unwrap_err();
    assert_eq!(sqlstate(&error).as_deref(), Some("53300"), "{error:?}"); // too_many_connections
    assert_class(&error, Infrastructure);
}

#[tokio::test]
async fn postgres_terminated_session_is_infrastructure() {
    let server = postgres::shared();
    let mut victim = pg(&server.url()).await;
    let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(&mut victim)
        .await
        .unwrap();
    let mut admin = pg(&server.url()).await;
    sqlx::query("SELECT pg_terminate_backend($1)")
        .bind(pid)
        .execute(&mut admin)
        .await
        .unwrap();
    // The server says 57P01 admin_shutdown and hangs up; which of the two the driver reports
    // first depends on timing, and both are the database not serving.
    let error = victim.execute("SELECT 1").await.unwrap_err();
    assert!(
        matches!(error, sqlx::Error::Io(_)) || sqlstate(&error).as_deref() == Some("57P01"),
        "{error:?}"
    );
    assert_class(&error, Infrastructure);
}

#[tokio::test]
async fn postgres_answers_are_application_errors() {
    let server = postgres::shared();
    let mut conn = pg(&server.url()).await;
    conn.execute("CREATE TABLE IF NOT EXISTS people (email TEXT UNIQUE NOT NULL)")
        .await
        .unwrap();
    conn.execute("INSERT INTO people VALUES ('ada@example.com') ON CONFLICT DO NOTHING")
        .await
        .unwrap();

    let unique = conn
        .execute("INSERT INTO people VALUES ('ada@example.com')")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&unique).as_deref(), Some("23505"), "{unique:?}");
    assert_class(&unique, Application);

    let not_null = conn
        .execute("INSERT INTO people VALUES (NULL)")
        .await
        .unwrap_err();
    assert_eq!(
        sqlstate(&not_null).as_deref(),
        Some("23502"),
        "{not_null:?}"
    );
    assert_class(&not_null, Application);

    let syntax = conn.execute("SELEKT 1").await.unwrap_err();
    assert_eq!(sqlstate(&syntax).as_deref(), Some("42601"), "{syntax:?}");
    assert_class(&syntax, Application);

    let no_table = conn.execute("SELECT * FROM nowhere").await.unwrap_err();
    assert_eq!(
        sqlstate(&no_table).as_deref(),
        Some("42P01"),
        "{no_table:?}"
    );
    assert_class(&no_table, Application);

    let division = conn.execute("SELECT 1 / 0").await.unwrap_err();
    assert_eq!(
        sqlstate(&division).as_deref(),
        Some("22012"),
        "{division:?}"
    );
    assert_class(&division, Application);

    let not_found = sqlx::query_scalar::<_, String>("SELECT email FROM people WHERE false")
        .fetch_one(&mut conn)
        .await
        .unwrap_err();
    assert!(
        matches!(not_found, sqlx::Error::RowNotFound),
        "{not_found:?}"
    );
    assert_class(&not_found, Application);

    let decode = sqlx::query_scalar::<_, i64>("SELECT 'not a number'::text")
        .fetch_one(&mut conn)
        .await
        .unwrap_err();
    assert!(
        matches!(decode, sqlx::Error::ColumnDecode { .. }),
        "{decode:?}"
    );
    assert_class(&decode, Application);
}

async fn sqlite_file(dir: &tempfile::TempDir, busy: Duration) -> SqliteConnection {
    let options = SqliteConnectOptions::new()
        .filename(dir.path().join("db.sqlite3"))
        .create_if_missing(true)
        .busy_timeout(busy);
    SqliteConnection::connect_with(&options).await.unwrap()
}

#[tokio::test]
async fn sqlite_busy_behind_a_held_write_transaction_is_infrastructure() {
    let dir = tempfile::tempdir().unwrap();
    let mut holder = sqlite_file(&dir, Duration::from_secs(5)).await;
    holder
        .execute("CREATE TABLE users (email TEXT UNIQUE NOT NULL)")
        .await
        .unwrap();
    holder.execute("BEGIN EXCLUSIVE").await.unwrap();

    let mut writer = sqlite_file(&dir, Duration::from_millis(100)).await;
    let error = writer
        .execute("INSERT INTO users VALUES ('ada@example.com')")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&error).as_deref(), Some("5"), "{error:?}"); // SQLITE_BUSY
    assert_class(&error, Infrastructure);
    holder.execute("ROLLBACK").await.unwrap();
}

#[tokio::test]
async fn sqlite_unopenable_file_is_infrastructure() {
    let dir = tempfile::tempdir().unwrap();
    let options = SqliteConnectOptions::from_str("sqlite://ignored")
        .unwrap()
        .filename(dir.path().join("no-such-dir").join("db.sqlite3"))
        .create_if_missing(true);
    let error = SqliteConnection::connect_with(&options).await.unwrap_err();
    assert_eq!(sqlstate(&error).as_deref(), Some("14"), "{error:?}"); // SQLITE_CANTOPEN
    assert_class(&error, Infrastructure);
}

#[tokio::test]
async fn sqlite_answers_are_application_errors() {
    let dir = tempfile::tempdir().unwrap();
    let pool = SqlitePoolOptions::new()
        .connect_with(
            SqliteConnectOptions::new()
                .filename(dir.path().join("db.sqlite3"))
                .create_if_missing(true),
        )
        .await
        .unwrap();
    pool.execute("CREATE TABLE users (email TEXT UNIQUE NOT NULL)")
        .await
        .unwrap();
    pool.execute("INSERT INTO users VALUES ('ada@example.com')")
        .await
        .unwrap();

    let unique = pool
        .execute("INSERT INTO users VALUES ('ada@example.com')")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&unique).as_deref(), Some("2067"), "{unique:?}"); // CONSTRAINT_UNIQUE
    assert_class(&unique, Application);

    let not_null = pool
        .execute("INSERT INTO users VALUES (NULL)")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&not_null).as_deref(), Some("1299"), "{not_null:?}"); // _NOTNULL
    assert_class(&not_null, Application);

    let syntax = pool.execute("SELEKT 1").await.unwrap_err();
    assert_eq!(sqlstate(&syntax).as_deref(), Some("1"), "{syntax:?}"); // SQLITE_ERROR
    assert_class(&syntax, Application);

    let not_found = sqlx::query_scalar::<_, String>("SELECT email FROM users WHERE 0")
        .fetch_one(&pool)
        .await
        .unwrap_err();
    assert_class(&not_found, Application);
}
