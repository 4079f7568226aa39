//! Error types that cannot hold a rejection (another crate's, like `sqlx::Error`): the function
//! returns `Result<T, CircuitError<E>>`, its body's errors stay `E` (its `?`s convert into
//! `E`), a failure comes back as `CircuitError::Inner` and a rejection as `CircuitError::Open`.
//! Predicates and fallbacks see `E`. And the check that an error type can hold a rejection
//! finds `From<CircuitOpen>` where it is: among a generic function's bounds, beside an `impl
//! Trait` value.

mod common;

use circuit_core::{circuit_breaker, CircuitError, FallbackReason, State};
use common::manual_clock;
use std::future::Future;

/// The database, answering with real `sqlx::Error`s.
fn query(answer: Option<sqlx::Error>) -> Result<u32, sqlx::Error> {
    match answer {
        None => Ok(41),
        Some(error) => Err(error),
    }
}

#[circuit_breaker(
    name = "foreign-sync",
    failure_threshold = 2,
    exclude = |e| matches!(e, sqlx::Error::RowNotFound)
)]
fn count_users(answer: Option<sqlx::Error>) -> Result<u32, CircuitError<sqlx::Error>> {
    // `?` converts into `sqlx::Error`: the body is written as if it returned it.
    let n = query(answer)?;
    if n == 0 {
        return Err(sqlx::Error::RowNotFound);
    }
    Ok(n + 1)
}

#[test]
fn failures_come_back_inner_and_rejections_open() {
    let _clock = manual_clock(count_users::breaker());
    assert_eq!(count_users(None).unwrap(), 42);
    // Excluded (the predicate sees `&sqlx::Error`): returned, no failure counted.
    assert!(matches!(
        count_users(Some(sqlx::Error::RowNotFound)),
        Err(CircuitError::Inner(sqlx::Error::RowNotFound))
    ));
    assert_eq!(count_users::breaker().snapshot().excluded, 1);
    for _ in 0..2 {
        assert!(matches!(
            count_users(Some(sqlx::Error::PoolTimedOut)),
            Err(CircuitError::Inner(sqlx::Error::PoolTimedOut))
        ));
    }
    assert_eq!(count_users::breaker().state(), State::Open);
    match count_users(None) {
        Err(CircuitError::Open(open)) => {
            assert_eq!(open.name(), "foreign-sync");
            assert_eq!(open.state(), State::Open);
        }
        other => panic!("expected a rejection, got {other:?}"),
    }
}

/// Polls a future that never waits to its end.
fn run<F: Future>(fut: F) -> F::Output {
    common::poll_once(fut).expect("the future waited")
}

async fn cached(
    _answer: Option<std::io::ErrorKind>,
    why: FallbackReason<std::io::Error>,
) -> Result<u32, circuit_core::CircuitError<std::io::Error>> {
    match why {
        // Pass a rejection on as it is; answer failures from the cache.
        FallbackReason::Rejected(open) => Err(CircuitError::Open(open)),
        _ => Ok(7),
    }
}

#[circuit_breaker(failure_threshold = 1, fallback = cached)]
async fn read_file(
    answer: Option<std::io::ErrorKind>,
) -> Result<u32, circuit_core::CircuitError<std::io::Error>> {
    std::future::ready(()).await;
    match answer {
        None => Ok(1),
        Some(kind) => Err(std::io::Error::from(kind)),
    }
}

#[test]
fn async_functions_and_fallbacks_keep_the_error_too() {
    let _clock = manual_clock(read_file::breaker());
    assert_eq!(run(read_file(None)).unwrap(), 1);
    assert_eq!(
        run(read_file(Some(std::io::ErrorKind::TimedOut))).unwrap(),
        7,
        "failed: the fallback answers"
    );
    assert!(matches!(run(read_file(None)), Err(CircuitError::Open(_))));
}

/// An error type of this crate without `From<CircuitOpen>` works the same way.
#[derive(Debug, PartialEq)]
struct Plain;

fn plain_step(fail: bool) -> Result<(), Plain> {
    if fail {
        Err(Plain)
    } else {
        Ok(())
    }
}

#[circuit_breaker(failure_threshold = 1)]
fn plain(fail: bool) -> Result<(), CircuitError<Plain>> {
    plain_step(fail)?;
    Ok(())
}

#[test]
fn any_error_type_may_be_kept() {
    let _clock = manual_clock(plain::breaker());
    assert!(matches!(plain(true), Err(CircuitError::Inner(Plain))));
    assert!(matches!(plain(false), Err(CircuitError::Open(_))));
}

/// A generic error type with `From<CircuitOpen>` among its bounds: the check that the error type
/// can hold a rejection finds it there.
#[circuit_breaker(name = "generic-error", failure_threshold = 1)]
fn generic_error<E: From<circuit_core::CircuitOpen>>(error: Option<E>) -> Result<(), E> {
    match error {
        Some(error) => Err(error),
        None => Ok(()),
    }
}

#[test]
fn a_generic_error_type_with_the_bound_is_accepted() {
    let _clock = manual_clock(&circuit_core::registry().get("generic-error").unwrap());
    assert_eq!(
        generic_error::<common::AppError>(Some(common::AppError::Down)),
        Err(common::AppError::Down)
    );
    assert_eq!(
        generic_error::<common::AppError>(None),
        Err(common::AppError::Rejected(State::Open))
    );
}

/// An `impl Trait` value: the check reads the error type from a return type written with `_`.
#[circuit_breaker(failure_threshold = 1)]
fn opaque(fail: bool) -> Result<impl std::fmt::Display, common::AppError> {
    if fail {
        return Err(common::AppError::Down);
    }
    Ok(5)
}

#[test]
fn an_impl_trait_value_is_accepted() {
    let _clock = manual_clock(opaque::breaker());
    assert_eq!(opaque(false).unwrap().to_string(), "5");
    assert!(opaque(true).is_err());
    assert!(matches!(
        opaque(false),
        Err(common::AppError::Rejected(State::Open))
    ));
}
