//! End to end: `examples/database_service` built in-process over real databases (a
//! PostgreSQL server started here, SQLite files), driven over real HTTP on 127.0.0.1, with
//! real faults: the server stopped, a table locked past `statement_timeout`, the pool
//! exhausted, SQLite locked by a writer. The breaker's time moves by hand; what waits is
//! only the database's own timeouts, set to one second.

// The example's own modules, so the service under test is the example's code; the parts only
// its `main` uses are dead here.
#[allow(dead_code)]
#[path = "../examples/database_service/db.rs"]
mod db;
#[allow(dead_code)]
#[path = "../examples/database_service/routes.rs"]
mod routes;
#[allow(dead_code)]
#[path = "../examples/database_service/settings.rs"]
mod settings;

mod common;
#[path = "common/http.rs"]
mod http;
#[path = "common/service.rs"]
mod service;

use circuit_core::State;
use common::postgres::Postgres;
use http::{get, post_json, request, Reply};
use service::{settings, Service, FAILURE_THRESHOLD, RECOVERY, SUCCESS_THRESHOLD};
use sqlx::{Connection, Executor};
use std::net::SocketAddr;
use std::time::Duration;

/// The database's own timeouts in these tests: pool, statement, SQLite busy.
const TIMEOUT: Duration = Duration::from_secs(1);

fn sqlite_url(dir: &tempfile::TempDir) -> String {
    format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("users.sqlite3").display()
    )
}

async fn create(addr: SocketAddr, name: &str, email: &str) -> Reply {
    let body = serde_json::json!({"name": name, "email": email}).to_string();
    post_json(addr, "/users", &body).await
}

async fn metrics(addr: SocketAddr) -> String {
    let reply = get(addr, "/metrics").await;
    assert_eq!(reply.status, 200);
    reply.body
}

async fn health_state(addr: SocketAddr) -> String {
    let reply = get(addr, "/health").await;
    assert_eq!(
        reply.status, 200,
        "the probe answers 200 whatever the breaker: {reply:?}"
    );
    reply.json()["breakers"]["database"]["state"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Writes a user and reads it back; returns its id.
async fn write_and_read(addr: SocketAddr, email: &str) -> i64 {
    let created = create(addr, "Ada", email).await;
    assert_eq!(created.status, 201, "{created:?}");
    let id = created.json()["id"].as_i64().unwrap();
    let read = get(addr, &format!("/users/{id}")).await;
    assert_eq!(read.status, 200, "{read:?}");
    assert_eq!(read.json()["email"], email);
    id
}

/// Answers the database itself gave, which must never trip the breaker: a duplicate email
/// (409) and a missing user (404), many more times than the threshold.
async fn application_errors_do_not_count(service: &Service, taken_email: &str) {
    for _ in 0..FAILURE_THRESHOLD * 3 {
        let duplicate = create(service.addr, "Again", taken_email).await;
        assert_eq!(duplicate.status, 409, "{duplicate:?}");
        let missing = get(service.addr, "/users/987654").await;
        assert_eq!(missing.status, 404, "{missing:?}");
    }
    assert_eq!(service.breaker.state(), State::Closed);
    assert_eq!(service.breaker.snapshot().failure_count, 0);
}

/// While the fault lasts: the first `FAILURE_THRESHOLD` requests reach the database and fail
/// (503 `DB_UNAVAILABLE`, after the database's timeout at most); then the breaker is open and
/// answers 503 `DB_CIRCUIT_BREAKER_OPEN` at once, without the database; `/health` and
/// `/metrics` say so.
async fn trips_and_fails_fast(service: &Service, path: &str) {
    let addr = service.addr;
    for n in 0..FAILURE_THRESHOLD {
        let reply = get(addr, path).await;
        assert_eq!(reply.status, 503, "failure {n}: {reply:?}");
        assert_eq!(reply.error_code(), "DB_UNAVAILABLE", "{reply:?}");
        assert_eq!(reply.header("retry-after"), None);
        assert!(
            reply.took < TIMEOUT * 10,
            "a failure must not hang: {reply:?}"
        );
    }
    assert_eq!(service.breaker.state(), State::Open);

    let rejected_before = service.breaker.snapshot().rejected;
    for _ in 0..5 {
        let reply = get(addr, path).await;
        assert_eq!(reply.status, 503, "{reply:?}");
        assert_eq!(reply.error_code(), "DB_CIRCUIT_BREAKER_OPEN", "{reply:?}");
        assert_eq!(reply.header("retry-after"), Some("30"), "{reply:?}");
        assert_eq!(reply.header("content-type"), Some("application/json"));
        assert!(
            reply.took < TIMEOUT / 2,
            "an open breaker must answer without waiting for the database's timeout: {reply:?}"
        );
        let posted = create(addr, "Eve", "eve@example.com").await;
        assert_eq!(posted.error_code(), "DB_CIRCUIT_BREAKER_OPEN", "{posted:?}");
    }
    // Ten rejections, none of which ran.
    assert_eq!(service.breaker.snapshot().rejected, rejected_before + 10);

    assert_eq!(health_state(addr).await, "open");
    let metrics = metrics(addr).await;
    assert!(
        metrics.contains("circuit_breaker_state{name=\"database\"} 2"),
        "{metrics}"
    );
    assert!(
        metrics.contains(&format!(
            "circuit_breaker_failures_total{{name=\"database\"}} {FAILURE_THRESHOLD}"
        )),
        "{metrics}"
    );
}

/// Once the fault is gone and the recovery timeout has passed: trial requests reach the
/// database again and close the breaker, and what was written before the outage is there.
async fn recovers_with_data_intact(service: &Service, written_before: i64, email: &str) {
    service.clock.advance(RECOVERY - Duration::from_millis(1));
    let early = get(service.addr, "/users/1").await;
    assert_eq!(early.error_code(), "DB_CIRCUIT_BREAKER_OPEN", "{early:?}");
    assert_eq!(
        early.header("retry-after"),
        Some("1"),
        "rounded up: {early:?}"
    );

    service.clock.advance(Duration::from_millis(1));
    assert_eq!(health_state(service.addr).await, "half_open");
    for _ in 0..SUCCESS_THRESHOLD {
        let read = get(service.addr, &format!("/users/{written_before}")).await;
        assert_eq!(read.status, 200, "{read:?}");
        assert_eq!(read.json()["email"], email, "written before the outage");
    }
    assert_eq!(service.breaker.state(), State::Closed);
    assert_eq!(health_state(service.addr).await, "closed");
    write_and_read(service.addr, "after@example.com").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_the_interface() {
    let dir = tempfile::tempdir().unwrap();
    let service = Service::start(settings(&sqlite_url(&dir), 4, TIMEOUT, None)).await;
    let addr = service.addr;

    let id = write_and_read(addr, "ada@example.com").await;
    assert!(id > 0);
    let created = create(addr, "Bob", "bob@example.com").await;
    assert_eq!(created.json()["name"], "Bob");
    assert_ne!(created.json()["id"].as_i64(), Some(id));
    application_errors_do_not_count(&service, "ada@example.com").await;

    // Bad bodies: 400 for broken JSON, 422 for a missing field or a wrong type, with a message.
    let broken = post_json(addr, "/users", "{\"name\": ").await;
    assert_eq!(broken.status, 400, "{broken:?}");
    let missing = post_json(addr, "/users", "{\"name\": \"Ada\"}").await;
    assert_eq!(missing.status, 422, "{missing:?}");
    assert!(missing.body.contains("email"), "{missing:?}");
    let wrong = post_json(addr, "/users", "{\"name\": 7, \"email\": \"x@y\"}").await;
    assert_eq!(wrong.status, 422, "{wrong:?}");
    assert!(!broken.body.is_empty() && !wrong.body.is_empty());

    assert_eq!(health_state(addr).await, "closed");
    assert!(metrics(addr)
        .await
        .contains("circuit_breaker_state{name=\"database\"} 0"));
    // Without ADMIN_TOKEN the admin routes do not exist.
    let admin = request(addr, "POST", "/admin/breakers/database/reset", &[], None).await;
    assert_eq!(admin.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_routes_need_the_token() {
    let dir = tempfile::tempdir().unwrap();
    let service = Service::start(settings(&sqlite_url(&dir), 4, TIMEOUT, Some("s3cret"))).await;
    let addr = service.addr;
    let admin = |path: &'static str, auth: Option<&'static str>| async move {
        let headers: Vec<(&str, &str)> = auth.map(|a| ("authorization", a)).into_iter().collect();
        request(addr, "POST", path, &headers, None).await
    };

    for auth in [
        None,
        Some("Bearer wrong"),
        Some("s3cret"),
        Some("Basic s3cret"),
    ] {
        let refused = admin("/admin/breakers/database/force-open", auth).await;
        assert_eq!(refused.status, 401, "{auth:?}: {refused:?}");
        assert_eq!(service.breaker.state(), State::Closed, "nothing changed");
    }

    let forced = admin("/admin/breakers/database/force-open", Some("Bearer s3cret")).await;
    assert_eq!(forced.status, 204, "{forced:?}");
    let rejected = get(addr, "/users/1").await;
    assert_eq!(rejected.status, 503);
    assert_eq!(rejected.error_code(), "DB_CIRCUIT_BREAKER_OPEN");
    assert_eq!(
        rejected.header("retry-after"),
        None,
        "forced open: nobody knows when"
    );
    assert_eq!(health_state(addr).await, "forced_open");

    let reset = admin("/admin/breakers/database/reset", Some("Bearer s3cret")).await;
    assert_eq!(reset.status, 204);
    assert_eq!(get(addr, "/users/1").await.status, 404);

    let disabled = admin("/admin/breakers/database/disable", Some("Bearer s3cret")).await;
    assert_eq!(disabled.status, 204);
    assert_eq!(service.breaker.state(), State::Disabled);

    let unknown = admin("/admin/breakers/payments/reset", Some("Bearer s3cret")).await;
    assert_eq!(unknown.status, 404);
    let bad_action = admin("/admin/breakers/database/explode", Some("Bearer s3cret")).await;
    assert_eq!(bad_action.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_locked_by_a_writer() {
    let dir = tempfile::tempdir().unwrap();
    let service = Service::start(settings(&sqlite_url(&dir), 4, TIMEOUT, None)).await;
    let id = write_and_read(service.addr, "ada@example.com").await;
    application_errors_do_not_count(&service, "ada@example.com").await;

    // Another process's writer holds the database: readers and writers wait `busy_timeout`
    // and get SQLITE_BUSY.
    let mut writer = sqlx::SqliteConnection::connect(&sqlite_url(&dir))
        .await
        .unwrap();
    writer.execute("BEGIN EXCLUSIVE").await.unwrap();
    trips_and_fails_fast(&service, &format!("/users/{id}")).await;
    writer.execute("ROLLBACK").await.unwrap();

    recovers_with_data_intact(&service, id, "ada@example.com").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_server_stopped_then_restarted() {
    let server = Postgres::start();
    let service = Service::start(settings(&server.url(), 4, TIMEOUT, None)).await;
    let id = write_and_read(service.addr, "ada@example.com").await;
    application_errors_do_not_count(&service, "ada@example.com").await;

    server.stop();
    trips_and_fails_fast(&service, &format!("/users/{id}")).await;
    server.start_again();

    recovers_with_data_intact(&service, id, "ada@example.com").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_table_locked_past_statement_timeout() {
    let server = Postgres::start();
    let service = Service::start(settings(&server.url(), 4, TIMEOUT, None)).await;
    let id = write_and_read(service.addr, "ada@example.com").await;
    application_errors_do_not_count(&service, "ada@example.com").await;

    let mut holder = sqlx::PgConnection::connect(&server.url()).await.unwrap();
    holder.execute("BEGIN").await.unwrap();
    holder
        .execute("LOCK TABLE users IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();
    trips_and_fails_fast(&service, &format!("/users/{id}")).await;
    holder.execute("ROLLBACK").await.unwrap();

    recovers_with_data_intact(&service, id, "ada@example.com").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_pool_exhausted_by_held_connections() {
    let server = Postgres::start();
    let service = Service::start(settings(&server.url(), 2, TIMEOUT, None)).await;
    let id = write_and_read(service.addr, "ada@example.com").await;
    application_errors_do_not_count(&service, "ada@example.com").await;

    let held = [
        service.db.pool().acquire().await.unwrap(),
        service.db.pool().acquire().await.unwrap(),
    ];
    trips_and_fails_fast(&service, &format!("/users/{id}")).await;
    drop(held);

    recovers_with_data_intact(&service, id, "ada@example.com").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starts_while_postgres_is_down_and_recovers_by_itself() {
    let server = Postgres::start();
    server.stop();
    let service = Service::start(settings(&server.url(), 4, TIMEOUT, None)).await;
    // The table cannot be created yet: every request is a database failure, then a rejection.
    trips_and_fails_fast(&service, "/users/1").await;

    server.start_again();
    service.clock.advance(RECOVERY);
    let first = create(service.addr, "Ada", "ada@example.com").await;
    assert_eq!(
        first.status, 201,
        "the table is created on the first trial: {first:?}"
    );
    let id = first.json()["id"].as_i64().unwrap();
    let read = get(service.addr, &format!("/users/{id}")).await;
    assert_eq!(read.status, 200);
    assert_eq!(service.breaker.state(), State::Closed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_rolled_back_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let service = Service::start(settings(&sqlite_url(&dir), 4, TIMEOUT, None)).await;
    write_and_read(service.addr, "ada@example.com").await;

    let mut session = service.db.session().await.unwrap();
    let user = session
        .insert_user("Temp", "temp@example.com")
        .await
        .unwrap();
    session.rollback().await.unwrap();
    let read = get(service.addr, &format!("/users/{}", user.id)).await;
    assert_eq!(read.status, 404, "{read:?}");
    // BEGIN, INSERT and ROLLBACK each went through the breaker as one success.
    assert!(service.breaker.snapshot().successes >= 3);
}
