//! A rejected call as a `503 Service Unavailable` response.

use crate::{CallTimedOut, CircuitError, CircuitOpen};
use axum_core::response::{IntoResponse, Response};
use http::header::{HeaderValue, CONTENT_TYPE, RETRY_AFTER};
use http::StatusCode;
use std::borrow::Cow;
use std::time::Duration;

/// The response to a rejection, with what it says adjustable: see the
/// [module's documentation](super#a-rejection). `CircuitOpen::into_response()` is
/// `CircuitOpenResponse::new(open).into_response()`.
#[derive(Clone, Debug)]
pub struct CircuitOpenResponse {
    open: CircuitOpen,
    detail: Option<Cow<'static, str>>,
    error_code: Option<Cow<'static, str>>,
}

impl CircuitOpenResponse {
    /// The response to `open`, saying what the rejection's `Display` says, with the breaker's
    /// [`error_code`](super::error_code).
    pub fn new(open: CircuitOpen) -> Self {
        CircuitOpenResponse {
            open,
            detail: None,
            error_code: None,
        }
    }

    /// Says `detail` instead (for a user-facing message, say).
    pub fn detail(mut self, detail: impl Into<Cow<'static, str>>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// Carries `code` instead of the breaker's error code.
    pub fn error_code(mut self, code: impl Into<Cow<'static, str>>) -> Self {
        self.error_code = Some(code.into());
        self
    }
}

impl IntoResponse for CircuitOpenResponse {
    fn into_response(self) -> Response {
        let detail = self
            .detail
            .unwrap_or_else(|| Cow::Owned(self.open.to_string()));
        let error_code = self
            .error_code
            .unwrap_or_else(|| super::error_code(self.open.name()));
        let body = serde_json::json!({
            "detail": detail,
            "error_code": error_code,
            "breaker": self.open.name(),
        });
        let mut response = (StatusCode::SERVICE_UNAVAILABLE, body.to_string()).into_response();
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if let Some(after) = self.open.retry_after() {
            headers.insert(RETRY_AFTER, retry_after_header(after));
        }
        response
    }
}

/// `Retry-After` for a wait of `after`: whole seconds, rounded up, so that a client that
/// waits as told never arrives before the breaker lets a trial call through.
pub fn retry_after_header(after: Duration) -> HeaderValue {
    let secs = after.as_secs() + u64::from(after.subsec_nanos() > 0);
    HeaderValue::from(secs)
}

impl IntoResponse for CircuitOpen {
    fn into_response(self) -> Response {
        CircuitOpenResponse::new(self).into_response()
    }
}

/// A call that ran past its timeout: `504 Gateway Timeout`, with the JSON body of a
/// rejection (`detail`, `error_code`, `breaker`) and no `Retry-After` (the breaker may well
/// be Closed).
impl IntoResponse for CallTimedOut {
    fn into_response(self) -> Response {
        let body = serde_json::json!({
            "detail": self.to_string(),
            "error_code": super::error_code(self.name()),
            "breaker": self.name(),
        });
        let mut response = (StatusCode::GATEWAY_TIMEOUT, body.to_string()).into_response();
        response
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        response
    }
}

/// A rejection answers 503 as [`CircuitOpen`] does, a timeout 504 as [`CallTimedOut`] does;
/// the call's own error answers as it does.
impl<E: IntoResponse> IntoResponse for CircuitError<E> {
    fn into_response(self) -> Response {
        match self {
            CircuitError::Open(open) => open.into_response(),
            CircuitError::Inner(error) => error.into_response(),
            CircuitError::Timeout(timed_out) => timed_out.into_response(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::retry_after_header;
    use std::time::Duration;

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        let header = |d| retry_after_header(d).to_str().unwrap().to_owned();
        assert_eq!(header(Duration::ZERO), "0");
        assert_eq!(header(Duration::from_nanos(1)), "1");
        assert_eq!(header(Duration::from_secs(41)), "41");
        assert_eq!(header(Duration::from_millis(41_200)), "42");
        assert_eq!(header(Duration::new(59, 999_999_999)), "60");
    }
}
