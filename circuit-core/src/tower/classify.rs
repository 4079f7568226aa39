//! What a finished call means for the breaker: the classifier and its defaults.

/// How a finished call counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// The service answered: clears the consecutive failures, counts toward closing a
    /// half-open breaker.
    Success,
    /// The service is failing: counts toward opening the breaker.
    Failure,
    /// Says nothing about the service (a call the client itself gave up on, say): counted
    /// as ignored and nowhere else; it moves no state, and a half-open trial slot it held
    /// goes back.
    Ignored,
}

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
