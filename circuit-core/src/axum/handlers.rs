//! The registry's health report and Prometheus metrics as handlers.

use crate::Registry;
use axum_core::response::{IntoResponse, Response};
use http::header::{HeaderValue, CONTENT_TYPE};
use http::StatusCode;
use std::fmt;
use std::ops::Deref;

/// The content type of [`metrics`]' body: the OpenMetrics text format that
/// `prometheus-client` writes, which Prometheus reads.
pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// `GET /health`: the process-wide registry's health report as JSON, status 200. Mount it
/// with `.route("/health", get(circuit_core::axum::health))`.
pub async fn health() -> Response {
    health_response(crate::registry())
}

/// `GET /metrics`: the process-wide registry's Prometheus metrics. Mount it with
/// `.route("/metrics", get(circuit_core::axum::metrics))`.
pub async fn metrics() -> Response {
    metrics_response(crate::registry())
}

/// `registry`'s [`health_report`](Registry::health_report) as a JSON response, status 200
/// whatever the breakers' states (they are in the body).
pub fn health_response(registry: &Registry) -> Response {
    match serde_json::to_string(&registry.health_report()) {
        Ok(body) => {
            let mut response = (StatusCode::OK, body).into_response();
            response
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            response
        }
        // Only a serializer bug could get here: the report holds strings, numbers and times.
        Err(error) => (StatusCode::INTERNAL_SERVER_ERROR, error.to_string()).into_response(),
    }
}

/// `registry`'s metrics (see [`prometheus`](crate::prometheus)) as an OpenMetrics response.
/// `registry` is `&'static Registry` or `Arc<Registry>`, as the collector needs.
pub fn metrics_response<R>(registry: R) -> Response
where
    R: Deref<Target = Registry> + fmt::Debug + Send + Sync + 'static,
{
    let mut metrics = prometheus_client::registry::Registry::default();
    crate::prometheus::register(&mut metrics, registry);
    let mut body = String::new();
    match prometheus_client::encoding::text::encode(&mut body, &metrics) {
        Ok(()) => {
            let mut response = (StatusCode::OK, body).into_response();
            response.headers_mut().insert(
                CONTENT_TYPE,
                HeaderValue::from_static(OPENMETRICS_CONTENT_TYPE),
            );
            response
        }
        Err(error) => (StatusCode::INTERNAL_SERVER_ERROR, error.to_string()).into_response(),
    }
}
