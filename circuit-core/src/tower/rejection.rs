//! What a service answers when its breaker rejects a call (or its key is refused).

use crate::{CallTimedOut, CircuitError, CircuitOpen, KeyError};

/// What a breaker's service returns for a rejected call, and how it carries the inner
/// service's own errors: its `Error` is the service's error type.
///
/// [`ReturnError`] (the default) returns the rejection as an error the caller matches on;
/// with feature `axum`, [`ServiceUnavailable`] answers it with a `503` response instead.
/// Both are stateless; so is any policy, since it runs with no access to the layer.
pub trait OnRejection<Response, Error> {
    /// The service's error type.
    type Error;

    /// The result of a call the breaker rejected (the inner service was not called).
    fn rejected(open: CircuitOpen) -> Result<Response, Self::Error>;

    /// The inner service's error, as the service's error.
    fn inner(error: Error) -> Self::Error;
}

/// What a per-key service returns when it cannot make a key's breaker (the key extractor
/// returned an empty key), on top of what [`OnRejection`] says.
pub trait OnKeyRefused<Response, Error>: OnRejection<Response, Error> {
    /// The result of a call whose key was refused (the inner service was not called).
    fn key_refused(error: KeyError) -> Result<Response, Self::Error>;
}

/// The rejection as an error: the service's error is [`CircuitError<E>`], `Open` for a
/// rejection and `Inner` for the inner service's error. The default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReturnError;

impl<R, E> OnRejection<R, E> for ReturnError {
    type Error = CircuitError<E>;

    #[inline]
    fn rejected(open: CircuitOpen) -> Result<R, CircuitError<E>> {
        Err(CircuitError::Open(open))
    }

    #[inline(always)]
    fn inner(error: E) -> CircuitError<E> {
        CircuitError::Inner(error)
    }
}

/// The rejection, or a refused key, as an error: the default of per-key layers. The
/// service's error is [`KeyedError<E>`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReturnKeyedError;

impl<R, E> OnRejection<R, E> for ReturnKeyedError {
    type Error = KeyedError<E>;

    #[inline]
    fn rejected(open: CircuitOpen) -> Result<R, KeyedError<E>> {
        Err(KeyedError::Open(open))
    }

    #[inline(always)]
    fn inner(error: E) -> KeyedError<E> {
        KeyedError::Inner(error)
    }
}

impl<R, E> OnKeyRefused<R, E> for ReturnKeyedError {
    fn key_refused(error: KeyError) -> Result<R, KeyedError<E>> {
        Err(KeyedError::Key(error))
    }
}

/// The error of a per-key service: [`CircuitError`]'s cases and a refused key.
#[derive(Debug, thiserror::Error)]
pub enum KeyedError<E> {
    /// The key's breaker rejected the call; it did not run.
    #[error(transparent)]
    Open(CircuitOpen),
    /// The call ran and the inner service returned this error.
    #[error(transparent)]
    Inner(E),
    /// The request's key was refused (it was empty); the call did not run.
    #[error(transparent)]
    Key(KeyError),
    /// The call ran past its breaker's `timeout` and was cancelled. The layers never time a
    /// call out (tower has its own timeout layer); this carries a [`CircuitError::Timeout`]
    /// converted into a `KeyedError`.
    #[error(transparent)]
    Timeout(CallTimedOut),
}

impl<E> KeyedError<E> {
    /// Whether the key's breaker rejected the call.
    pub fn is_open(&self) -> bool {
        matches!(self, KeyedError::Open(_))
    }

    /// The inner service's error, if the call ran.
    pub fn into_inner(self) -> Option<E> {
        match self {
            KeyedError::Inner(e) => Some(e),
            _ => None,
        }
    }
}

impl<E> From<CircuitError<E>> for KeyedError<E> {
    fn from(error: CircuitError<E>) -> Self {
        match error {
            CircuitError::Open(open) => KeyedError::Open(open),
            CircuitError::Inner(e) => KeyedError::Inner(e),
            CircuitError::Timeout(timed_out) => KeyedError::Timeout(timed_out),
        }
    }
}

/// The rejection as a `503 Service Unavailable` response, with `Retry-After` and the JSON
/// body of [`CircuitOpenResponse`](crate::axum::CircuitOpenResponse) (feature `axum`). The
/// service's error is the inner service's, so `Router::layer` takes it as it is.
///
/// In a per-key layer, a refused key answers `400 Bad Request` with the refusal's message as
/// JSON `detail`: the request did not carry what the key is made of (a `Host`, a tenant).
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ServiceUnavailable;

#[cfg(feature = "axum")]
impl<E> OnRejection<axum_core::response::Response, E> for ServiceUnavailable {
    type Error = E;

    fn rejected(open: CircuitOpen) -> Result<axum_core::response::Response, E> {
        Ok(axum_core::response::IntoResponse::into_response(open))
    }

    #[inline(always)]
    fn inner(error: E) -> E {
        error
    }
}

#[cfg(feature = "axum")]
impl<E> OnKeyRefused<axum_core::response::Response, E> for ServiceUnavailable {
    fn key_refused(error: KeyError) -> Result<axum_core::response::Response, E> {
        let body = serde_json::json!({ "detail": error.to_string() }).to_string();
        let mut response =
            axum_core::response::IntoResponse::into_response((http::StatusCode::BAD_REQUEST, body));
        response.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        );
        Ok(response)
    }
}
