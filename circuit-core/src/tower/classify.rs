//! What a finished call means for the breaker: the classifier and its defaults, and
//! [`RetryAfter`], which honours a service's `Retry-After`.

/// How a finished call counts: the crate's [`Outcome`](crate::Outcome), here too so that
/// tower code names it beside [`Classify`].
pub use crate::Outcome;
use std::time::Duration;

/// Decides the [`Outcome`] of a call from the inner service's result.
///
/// A classifier is cloned into every response future, so keep it cheap to clone: a unit
/// struct, a `fn`, or a closure that captures nothing costs nothing. A closure
/// `Fn(&Result<Response, Error>) -> Outcome` is a classifier:
///
/// ```
/// use circuit_core::tower::{Classify, Outcome};
///
/// let timeouts_only = |result: &Result<u32, std::io::Error>| match result {
///     Err(e) if e.kind() == std::io::ErrorKind::TimedOut => Outcome::Failure,
///     _ => Outcome::Success,
/// };
/// let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
/// assert_eq!(timeouts_only.classify(&Err(refused)), Outcome::Success);
/// ```
///
/// A classifier that panics counts the call as a failure, and the panic goes on unwinding.
pub trait Classify<Response, Error> {
    /// The outcome of `result`.
    fn classify(&self, result: &Result<Response, Error>) -> Outcome;
}

impl<F, Response, Error> Classify<Response, Error> for F
where
    F: Fn(&Result<Response, Error>) -> Outcome,
{
    #[inline]
    fn classify(&self, result: &Result<Response, Error>) -> Outcome {
        self(result)
    }
}

/// The default for HTTP: an error from the inner service (the request never got an answer:
/// connection refused, reset, timed out) and a `5xx` response are failures; any other
/// response, `4xx` included, is a success, because the service answered.
///
/// ```
/// use circuit_core::tower::{Classify, Outcome, ServerErrors};
///
/// let answer = |status: u16| {
///     let response = http::Response::builder().status(status).body(()).unwrap();
///     ServerErrors.classify(&Ok::<_, std::io::Error>(response))
/// };
/// assert_eq!(answer(200), Outcome::Success);
/// assert_eq!(answer(404), Outcome::Success);
/// assert_eq!(answer(503), Outcome::Failure);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ServerErrors;

impl<B, E> Classify<http::Response<B>, E> for ServerErrors {
    #[inline]
    fn classify(&self, result: &Result<http::Response<B>, E>) -> Outcome {
        match result {
            Ok(response) if response.status().is_server_error() => Outcome::Failure,
            Ok(_) => Outcome::Success,
            Err(_) => Outcome::Failure,
        }
    }
}

/// For any service: `Ok` is a success and `Err` a failure.
///
/// ```
/// use circuit_core::tower::{Classify, ErrorsFail, Outcome};
///
/// assert_eq!(ErrorsFail.classify(&Ok::<_, ()>(7)), Outcome::Success);
/// assert_eq!(ErrorsFail.classify(&Err::<u8, _>("refused")), Outcome::Failure);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ErrorsFail;

impl<T, E> Classify<T, E> for ErrorsFail {
    #[inline]
    fn classify(&self, result: &Result<T, E>) -> Outcome {
        match result {
            Ok(_) => Outcome::Success,
            Err(_) => Outcome::Failure,
        }
    }
}

/// A classifier that honours `Retry-After`: a `429 Too Many Requests` or `503 Service
/// Unavailable` response whose `Retry-After` is a number of seconds is
/// [`Outcome::OpenFor`] those seconds (the breaker opens at once, for at least that long);
/// every other result is classified by the wrapped classifier (by default [`ServerErrors`]).
///
/// Only the delta-seconds form is read (`Retry-After: 120`); an HTTP date, a malformed value
/// or a missing header leaves the response to the wrapped classifier (a `503` is then a
/// failure under `ServerErrors`, a `429` a success: the service answered). Values above
/// [`MAX_RECOVERY_TIMEOUT`](crate::config::MAX_RECOVERY_TIMEOUT) open for that long.
///
/// ```
/// use circuit_core::tower::{Classify, Outcome, RetryAfter, ServerErrors};
/// use std::time::Duration;
///
/// let answer = |status: u16, retry_after: Option<&str>| {
///     let mut response = http::Response::builder().status(status);
///     if let Some(value) = retry_after {
///         response = response.header(http::header::RETRY_AFTER, value);
///     }
///     RetryAfter(ServerErrors).classify(&Ok::<_, std::io::Error>(response.body(()).unwrap()))
/// };
/// assert_eq!(answer(429, Some("30")), Outcome::OpenFor(Duration::from_secs(30)));
/// assert_eq!(answer(503, Some("5")), Outcome::OpenFor(Duration::from_secs(5)));
/// assert_eq!(answer(503, None), Outcome::Failure);
/// assert_eq!(answer(429, Some("Wed, 21 Oct 2015 07:28:00 GMT")), Outcome::Success);
/// assert_eq!(answer(200, Some("30")), Outcome::Success);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RetryAfter<C = ServerErrors>(pub C);

impl<C> RetryAfter<C> {
    /// `Retry-After` on 429 and 503 first, then `inner`.
    pub fn new(inner: C) -> Self {
        RetryAfter(inner)
    }

    /// The open period a response of `status` with `headers` asks for, if any.
    pub(crate) fn asked(status: http::StatusCode, headers: &http::HeaderMap) -> Option<Duration> {
        if status != http::StatusCode::TOO_MANY_REQUESTS
            && status != http::StatusCode::SERVICE_UNAVAILABLE
        {
            return None;
        }
        let value = headers
            .get(http::header::RETRY_AFTER)?
            .to_str()
            .ok()?
            .trim();
        // Delta-seconds: digits only (no sign, no fraction).
        if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let secs = value.parse::<u64>().unwrap_or(u64::MAX);
        Some(Duration::from_secs(secs).min(crate::config::MAX_RECOVERY_TIMEOUT))
    }
}

impl<B, E, C> Classify<http::Response<B>, E> for RetryAfter<C>
where
    C: Classify<http::Response<B>, E>,
{
    fn classify(&self, result: &Result<http::Response<B>, E>) -> Outcome {
        match result {
            Ok(response) => match Self::asked(response.status(), response.headers()) {
                Some(period) => Outcome::OpenFor(period),
                None => self.0.classify(result),
            },
            Err(_) => self.0.classify(result),
        }
    }
}
