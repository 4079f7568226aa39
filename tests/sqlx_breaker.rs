//! The classifier where a breaker takes it: `call_async_with(.., is_infrastructure_error)`
//! and `#[circuit_breaker(exclude = is_application_error)]`, on a real SQLite database. The
//! database answering "no" never trips the breaker; the database failing does.

mod common;

use circuit_core::sqlx::{is_application_error, is_infrastructure_error, AsSqlxError};
use circuit_core::{circuit_breaker, CircuitError, CircuitOpen, Config, State};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};
use sqlx::Executor;
use std::time::Duration;

async fn users_db(dir: &tempfile::TempDir, busy: Duration) -> SqlitePool {
    let options = SqliteConnectOptions::new()
        .filename(dir.path().join("users.sqlite3"))
        .create_if_missing(true)
        .busy_timeout(busy);
    let pool = SqlitePoolOptions::new()
        .max_connections(2)
        .connect_with(options)
        .await
        .unwrap();
    pool.execute("CREATE TABLE IF NOT EXISTS users (email TEXT UNIQUE NOT NULL)")
        .await
        .unwrap();
    pool
}

async fn insert(pool: &SqlitePool, email: &str) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO users VALUES ($1)")
        .bind(email)
        .execute(pool)
        .await
        .map(drop)
}

#[tokio::test]
async fn call_async_with_counts_a_locked_database_and_not_a_duplicate() {
    let dir = tempfile::tempdir().unwrap();
    let pool = users_db(&dir, Duration::from_millis(50)).await;
    let (breaker, _clock) = common::breaker_with(Config::builder().failure_threshold(2));
    insert(&pool, "ada@example.com").await.unwrap();

    // Ten duplicates: ten answers from the database, no failure.
    for _ in 0..10 {
        let result = breaker
            .call_async_with(insert(&pool, "ada@example.com"), is_infrastructure_error)
            .await;
        assert!(matches!(result, Err(CircuitError::Inner(_))));
    }
    assert_eq!(breaker.snapshot().failure_count, 0);

    // Another connection holds the write lock: SQLITE_BUSY twice opens the breaker.
    let other = users_db(&dir, Duration::from_secs(5)).await;
    let mut holder = other.acquire().await.unwrap();
    holder.execute("BEGIN EXCLUSIVE").await.unwrap();
    for _ in 0..2 {
        let result = breaker
            .call_async_with(insert(&pool, "bob@example.com"), is_infrastructure_error)
            .await;
        assert!(matches!(result, Err(CircuitError::Inner(_))));
    }
    assert_eq!(breaker.state(), State::Open);
    holder.execute("ROLLBACK").await.unwrap();
}

/// The attribute's function must return an error type that holds a rejection.
#[derive(Debug)]
enum AppError {
    Db(sqlx::Error),
    Unavailable(CircuitOpen),
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        AppError::Db(e)
    }
}

impl From<CircuitOpen> for AppError {
    fn from(open: CircuitOpen) -> Self {
        AppError::Unavailable(open)
    }
}

impl AsSqlxError for AppError {
    fn as_sqlx_error(&self) -> Option<&sqlx::Error> {
        match self {
            AppError::Db(e) => Some(e),
            AppError::Unavailable(_) => None,
        }
    }
}

#[circuit_breaker(name = "sqlx-attribute-users", failure_threshold = 2,
                  exclude = circuit_core::sqlx::is_application_error)]
async fn add_user(pool: &SqlitePool, email: &str) -> Result<(), AppError> {
    Ok(insert(pool, email).await?)
}

#[tokio::test]
async fn the_attribute_excludes_what_the_database_answered() {
    let dir = tempfile::tempdir().unwrap();
    let pool = users_db(&dir, Duration::from_millis(50)).await;
    add_user(&pool, "ada@example.com").await.unwrap();
    for _ in 0..5 {
        let error = add_user(&pool, "ada@example.com").await.unwrap_err();
        assert!(is_application_error(&error), "{error:?}");
    }
    assert_eq!(add_user::breaker().state(), State::Closed);

    let other = users_db(&dir, Duration::from_secs(5)).await;
    let mut holder = other.acquire().await.unwrap();
    holder.execute("BEGIN EXCLUSIVE").await.unwrap();
    for _ in 0..2 {
        let error = add_user(&pool, "bob@example.com").await.unwrap_err();
        assert!(is_infrastructure_error(&error), "{error:?}");
    }
    assert_eq!(add_user::breaker().state(), State::Open);
    let rejected = add_user(&pool, "bob@example.com").await.unwrap_err();
    match &rejected {
        AppError::Unavailable(open) => assert_eq!(open.name(), "sqlx-attribute-users"),
        AppError::Db(e) => panic!("expected a rejection, got {e:?}"),
    }
    // A rejection carries no database error: it is not a database failure of its own.
    assert!(is_application_error(&rejected));
    holder.execute("ROLLBACK").await.unwrap();
}
