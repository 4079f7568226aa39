//! `circuit_core::axum` served by a real axum server on 127.0.0.1: a rejection answers 503
//! with `Retry-After` and a JSON body, the error code is the breaker's own, a rejection inside
//! a user's error type answers the same, and the health and metrics handlers mount in one line.

#[path = "common/http.rs"]
mod http;

use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use circuit_core::axum::{CircuitOpenResponse, DEFAULT_ERROR_CODE};
use circuit_core::clock::ManualClock;
use circuit_core::{registry, CallTimedOut, CircuitError, CircuitOpen, Config};
use std::net::SocketAddr;
use std::time::Duration;

async fn serve(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

/// A breaker in the process-wide registry, open, on a manual clock.
fn open_breaker(name: &str) -> ManualClock {
    let clock = ManualClock::new();
    let config = Config::builder()
        .failure_threshold(1)
        .recovery_timeout(Duration::from_secs(30))
        .clock(clock.clone())
        .build()
        .unwrap();
    let breaker = registry().get_or_create(name, config);
    let _ = breaker.call(|| Err::<(), _>("down"));
    clock
}

async fn through(
    name: &'static str,
) -> Result<String, CircuitError<(axum::http::StatusCode, &'static str)>> {
    let breaker = registry().get(name).unwrap();
    breaker.call_async(async { Ok("served".to_owned()) }).await
}

#[tokio::test]
async fn a_rejection_is_a_503_with_retry_after_rounded_up_and_json() {
    let clock = open_breaker("axum-plain");
    let app = Router::new().route("/", get(|| through("axum-plain")));
    let addr = serve(app).await;

    let reply = http::get(addr, "/").await;
    assert_eq!(reply.status, 503);
    assert_eq!(reply.header("retry-after"), Some("30"));
    assert_eq!(reply.header("content-type"), Some("application/json"));
    let body = reply.json();
    assert_eq!(body["error_code"], DEFAULT_ERROR_CODE);
    assert_eq!(body["breaker"], "axum-plain");
    assert!(
        body["detail"].as_str().unwrap().contains("axum-plain"),
        "{body}"
    );

    clock.advance(Duration::from_millis(20_500)); // 9.5 s left: says 10
    assert_eq!(http::get(addr, "/").await.header("retry-after"), Some("10"));

    // Forced open: nobody can say when, so no Retry-After.
    registry().force_open("axum-plain").unwrap();
    let forced = http::get(addr, "/").await;
    assert_eq!(forced.status, 503);
    assert_eq!(forced.header("retry-after"), None);

    // The call's own error answers as it does.
    registry().reset("axum-plain").unwrap();
    let breaker = registry().get("axum-plain").unwrap();
    let inner: Result<(), _> =
        breaker.call(|| Err((axum::http::StatusCode::NOT_FOUND, "no such thing")));
    assert_eq!(inner.into_response().status(), 404);
}

#[tokio::test]
async fn the_error_code_is_set_per_breaker() {
    open_breaker("axum-db");
    open_breaker("axum-other");
    circuit_core::axum::set_error_code("axum-db", "DB_CIRCUIT_BREAKER_OPEN");
    let app = Router::new()
        .route("/db", get(|| through("axum-db")))
        .route("/other", get(|| through("axum-other")));
    let addr = serve(app).await;
    assert_eq!(
        http::get(addr, "/db").await.error_code(),
        "DB_CIRCUIT_BREAKER_OPEN"
    );
    assert_eq!(
        http::get(addr, "/other").await.error_code(),
        DEFAULT_ERROR_CODE
    );
}

/// A user's error type that holds a rejection among its other cases.
enum ApiError {
    Invalid,
    Unavailable(CircuitOpen),
    TimedOut(CallTimedOut),
}

impl From<CircuitOpen> for ApiError {
    fn from(open: CircuitOpen) -> Self {
        ApiError::Unavailable(open)
    }
}

impl From<CallTimedOut> for ApiError {
    fn from(timed_out: CallTimedOut) -> Self {
        ApiError::TimedOut(timed_out)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::Invalid => (axum::http::StatusCode::BAD_REQUEST, "invalid").into_response(),
            ApiError::Unavailable(open) => CircuitOpenResponse::new(open)
                .detail("Database service is temporarily unavailable")
                .into_response(),
            ApiError::TimedOut(timed_out) => timed_out.into_response(),
        }
    }
}

#[tokio::test]
async fn a_rejection_inside_the_users_error_type() {
    open_breaker("axum-custom");
    async fn handler() -> Result<&'static str, ApiError> {
        let breaker = registry().get("axum-custom").unwrap();
        breaker
            .call(|| Err::<&str, _>(ApiError::Invalid))
            .map_err(CircuitError::flatten)
    }
    let addr = serve(Router::new().route("/", get(handler))).await;
    let reply = http::get(addr, "/").await;
    assert_eq!(reply.status, 503);
    assert_eq!(reply.header("retry-after"), Some("30"));
    assert_eq!(
        reply.json()["detail"],
        "Database service is temporarily unavailable"
    );
    assert_eq!(reply.error_code(), DEFAULT_ERROR_CODE);
}

#[tokio::test]
async fn health_and_metrics_mount_in_one_line_each() {
    open_breaker("axum-observed");
    let app = Router::new()
        .route("/health", get(circuit_core::axum::health))
        .route("/metrics", get(circuit_core::axum::metrics));
    let addr = serve(app).await;

    let health = http::get(addr, "/health").await;
    assert_eq!(
        health.status, 200,
        "an open breaker is in the body, not the status"
    );
    assert_eq!(health.json()["breakers"]["axum-observed"]["state"], "open");
    assert_eq!(health.json()["all_healthy"], false);

    let metrics = http::get(addr, "/metrics").await;
    assert_eq!(metrics.status, 200);
    assert_eq!(
        metrics.header("content-type"),
        Some(circuit_core::axum::OPENMETRICS_CONTENT_TYPE)
    );
    assert!(
        metrics
            .body
            .contains("circuit_breaker_state{name=\"axum-observed\"} 2"),
        "{}",
        metrics.body
    );
}
