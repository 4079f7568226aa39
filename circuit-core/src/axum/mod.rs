//! axum responses for breakers (feature `axum`): a rejection becomes a 503 with `Retry-After`
//! and a JSON body, and the registry's health report and Prometheus metrics become handlers.
//!
//! Mounted with axum's router, one line each:
//!
//! ```text
//! Router::new()
//!     .route("/users/{id}", get(get_user))       // returns Result<Json<User>, ApiError>
//!     .route("/health", get(circuit_core::axum::health))
//!     .route("/metrics", get(circuit_core::axum::metrics))
//! ```
//!
//! ```
//! use axum_core::response::IntoResponse;
//! use circuit_core::{CircuitError, Config, Registry};
//!
//! // While "database" is open, its rejections carry this code instead of `CIRCUIT_OPEN`.
//! circuit_core::axum::set_error_code("database", "DB_CIRCUIT_BREAKER_OPEN");
//!
//! let registry = Registry::new();
//! let db = registry.get_or_create("database", Config::builder().failure_threshold(1).build()?);
//! let _ = db.call(|| Err::<(), _>("connection refused"));
//!
//! // A handler returning `Result<_, CircuitError<E>>` answers 503 for a rejection, and as
//! // `E` does for the call's own error.
//! let rejected: Result<String, CircuitError<String>> = db.call(|| Ok("never runs".into()));
//! let response = rejected.into_response();
//! assert_eq!(response.status(), 503);
//! assert_eq!(response.headers()["retry-after"], "60");
//! # Ok::<(), circuit_core::ConfigError>(())
//! ```
//!
//! # A rejection
//!
//! [`CircuitOpen`](crate::CircuitOpen) (and [`CircuitError`](crate::CircuitError) whose
//! inner error is itself a response) implements `IntoResponse`:
//!
//! - status `503 Service Unavailable`;
//! - `Retry-After`: [`CircuitOpen::retry_after`](crate::CircuitOpen::retry_after) in whole
//!   seconds rounded up (`41.2 s` is `42`): while Open, the time until the breaker lets a trial
//!   call through; while half-open with every trial slot taken, a hint (until the trials must
//!   have decided, at most a recovery timeout); absent only when forced open;
//! - a JSON body: `{"detail": "circuit breaker \"database\" is open; retry in 41.200s",
//!   "error_code": "DB_CIRCUIT_BREAKER_OPEN", "breaker": "database"}`. `error_code` is
//!   `CIRCUIT_OPEN` unless [`set_error_code`] gave the breaker one of its own.
//!
//! Inside your own error type, hand the rejection over in your `IntoResponse` impl, and use
//! [`CircuitOpenResponse`] to say something else in `detail`:
//!
//! ```
//! use axum_core::response::{IntoResponse, Response};
//! use circuit_core::CircuitOpen;
//!
//! enum ApiError {
//!     NotFound,
//!     Unavailable(CircuitOpen),
//! }
//! impl From<CircuitOpen> for ApiError {
//!     fn from(open: CircuitOpen) -> Self { ApiError::Unavailable(open) }
//! }
//! impl IntoResponse for ApiError {
//!     fn into_response(self) -> Response {
//!         match self {
//!             ApiError::NotFound => http::StatusCode::NOT_FOUND.into_response(),
//!             ApiError::Unavailable(open) => circuit_core::axum::CircuitOpenResponse::new(open)
//!                 .detail("Database service is temporarily unavailable")
//!                 .into_response(),
//!         }
//!     }
//! }
//! ```
//!
//! # Health and metrics
//!
//! [`health`] answers the registry's [`HealthReport`](crate::report::HealthReport) as JSON,
//! always with status 200: the process answering is the probe, and an open breaker is
//! reported in the body, so that an orchestrator does not restart a service for a database
//! outage that a restart cannot fix: wire it to liveness, if to anything. For readiness, read
//! the report's `condition` and see [`Condition`](crate::report::Condition): never take an
//! instance out of traffic while a breaker is `probing` (HalfOpen needs calls to close).
//! [`metrics`] answers the
//! [`prometheus`](crate::prometheus) metrics in the OpenMetrics text format. Both read the
//! process-wide [`registry()`](crate::registry()); for another registry, answer
//! [`health_response`] or [`metrics_response`] from your own handler.

mod codes;
mod handlers;
mod rejection;

pub use codes::{error_code, set_error_code, DEFAULT_ERROR_CODE};
pub use handlers::{health, health_response, metrics, metrics_response, OPENMETRICS_CONTENT_TYPE};
pub use rejection::{retry_after_header, CircuitOpenResponse};
