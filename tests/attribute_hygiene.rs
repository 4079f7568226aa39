//! The expansion compiles under strict lints, beside user items that shadow what it names or
//! are named like its locals, and its locals stay out of the body's reach.

#![deny(unused_qualifications, missing_docs, unreachable_pub, unsafe_code)]
#![deny(clippy::all, clippy::pedantic)]
#![allow(clippy::missing_errors_doc, clippy::needless_pass_by_value)] // the functions are fixtures

//! (Crate docs, for `missing_docs`.)

use ::circuit_core::{circuit_breaker, CircuitOpen};
use ::std::future::Future;

/// Shadows `core` for code that names it relatively.
mod core {}
/// Shadows `std` likewise.
mod std {}
/// Shadows `circuit_core` likewise.
mod circuit_core {}

/// The error of the functions below.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub struct Failed;

impl From<CircuitOpen> for Failed {
    fn from(_: CircuitOpen) -> Self {
        Failed
    }
}

/// Items named like the expansion's locals and statics, beside an annotated function.
pub mod neighbours {
    #![allow(non_upper_case_globals, dead_code)]

    use super::{fallback, Failed};
    use ::circuit_core::circuit_breaker;

    static __circuit_breaker: u8 = 0;
    static __CIRCUIT_BREAKER: u8 = 0;
    const __circuit_args: u8 = 0;
    const __circuit_result: u8 = 0;
    const __circuit_arg0: u8 = 0;
    const __circuit_ret: u8 = 0;

    /// Sync, with a fallback: every local of the expansion is in play.
    #[circuit_breaker(fallback = fallback)]
    pub fn beside(a: u32, b: String) -> Result<u32, Failed> {
        Ok(a + u32::try_from(b.len()).unwrap_or(0))
    }

    /// Async, likewise.
    #[circuit_breaker(fallback = fallback)]
    pub async fn beside_async(a: u32, b: String) -> Result<u32, Failed> {
        Ok(a + u32::try_from(b.len()).unwrap_or(0))
    }
}

/// The fallback of every function here.
pub fn fallback(a: u32, b: String) -> Result<u32, Failed> {
    Ok(a + u32::try_from(b.len()).unwrap_or(0))
}

/// Public, so the handle module is public too and needs its docs.
#[circuit_breaker(fallback = fallback, failure_threshold = 1)]
pub fn guarded(a: u32, b: String) -> Result<u32, Failed> {
    // The body's own locals named like the expansion's.
    let __circuit_breaker = a;
    let __circuit_args = b.len();
    if a == 0 {
        return Err(Failed);
    }
    Ok(__circuit_breaker + u32::try_from(__circuit_args).unwrap_or(0))
}

/// An async one, with the same neighbours.
#[circuit_breaker(fallback = fallback)]
pub async fn guarded_async(a: u32, b: String) -> Result<u32, Failed> {
    let __circuit_breaker = a;
    Ok(__circuit_breaker + u32::try_from(b.len()).unwrap_or(0))
}

/// Whether an error says nothing about the service (for `ignore`).
#[must_use]
pub fn is_ignored(_: &Failed) -> bool {
    false
}

/// Every trip-policy key and `ignore`, whose expansion names more of the runtime (the window
/// and backoff values, the classifier built from the predicates).
#[circuit_breaker(
    failure_rate_threshold = 0.5,
    sliding_window = "100 calls",
    minimum_calls = 20,
    slow_call_duration = "2s",
    slow_call_rate_threshold = 0.5,
    backoff = "exponential(1.5, 5m)",
    jitter = 0.2,
    ignore = is_ignored,
    fallback = fallback
)]
pub fn with_policies(a: u32, b: String) -> Result<u32, Failed> {
    Ok(a + u32::try_from(b.len()).unwrap_or(0))
}

/// The same, async, with a time window.
#[circuit_breaker(sliding_window = "60s", failure_rate_threshold = 1, ignore = is_ignored)]
pub async fn with_policies_async(a: u32) -> Result<u32, Failed> {
    Ok(a)
}

/// A closure for `classify`, and an error type kept inside `CircuitError`.
#[circuit_breaker(classify = |_: &Failed| ::circuit_core::Outcome::Excluded)]
pub fn classified(a: u32) -> Result<u32, ::circuit_core::CircuitError<Failed>> {
    Ok(a)
}

/// A fallback told why it runs.
pub fn told(a: u32, why: ::circuit_core::FallbackReason<Failed>) -> Result<u32, Failed> {
    Ok(a + u32::from(why.is_rejected()))
}

/// A closure for `exclude`, and a fallback that takes the reason.
#[circuit_breaker(fallback = told, exclude = |e: &Failed| *e == Failed)]
pub fn with_reason(a: u32) -> Result<u32, Failed> {
    Ok(a)
}

impl From<::circuit_core::KeyError> for Failed {
    fn from(_: ::circuit_core::KeyError) -> Self {
        Failed
    }
}

/// A breaker per key, sync, without a fallback: the key read from an owned argument the body
/// then moves, and a refused key made into `Failed`.
#[circuit_breaker(key = b, max_keys = 100, key_idle_timeout = "5m")]
pub fn keyed(a: u32, b: String) -> Result<u32, Failed> {
    Ok(a + u32::try_from(b.len()).unwrap_or(0))
}

/// Async, with a fallback, the key borrowed and read through a method.
#[circuit_breaker(key = b.as_str(), fallback = fallback)]
pub async fn keyed_async(a: u32, b: String) -> Result<u32, Failed> {
    Ok(a + u32::try_from(b.len()).unwrap_or(0))
}

#[test]
fn the_expansion_does_not_see_the_neighbours_nor_the_body_its_locals() {
    assert_eq!(keyed(1, "ab".to_owned()), Ok(3));
    assert_eq!(keyed(1, String::new()), Err(Failed), "an empty key");
    assert_eq!(keyed::breakers().len(), 1);
    assert!(matches!(classified(3), Ok(3)));
    assert_eq!(with_reason(5), Ok(5));
    assert_eq!(with_policies(1, "a".to_owned()), Ok(2));
    let mut cx = ::std::task::Context::from_waker(::std::task::Waker::noop());
    let mut fut = ::std::pin::pin!(with_policies_async(4));
    assert_eq!(fut.as_mut().poll(&mut cx), ::std::task::Poll::Ready(Ok(4)));
    assert_eq!(guarded(1, "ab".to_owned()), Ok(3));
    assert_eq!(guarded(0, "abc".to_owned()), Ok(3), "the fallback");
    assert_eq!(guarded::breaker().snapshot().fallbacks, 1);
    let mut fut = ::std::pin::pin!(guarded_async(2, "a".to_owned()));
    assert_eq!(fut.as_mut().poll(&mut cx), ::std::task::Poll::Ready(Ok(3)));
    assert_eq!(neighbours::beside(1, String::new()), Ok(1));
    let mut fut = ::std::pin::pin!(neighbours::beside_async(2, String::new()));
    assert_eq!(fut.as_mut().poll(&mut cx), ::std::task::Poll::Ready(Ok(2)));
    let mut fut = ::std::pin::pin!(keyed_async(2, "k".to_owned()));
    assert_eq!(fut.as_mut().poll(&mut cx), ::std::task::Poll::Ready(Ok(3)));
}
