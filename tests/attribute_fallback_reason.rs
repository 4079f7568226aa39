//! A fallback may take a `FallbackReason` after the function's arguments: `Rejected` with the
//! breaker's `CircuitOpen`, or `Failed` with the call's own error. Sync and async fallbacks,
//! functions and methods; excluded errors never reach it.

mod common;

use circuit_core::{circuit_breaker, FallbackReason, State};
use common::{is_not_found, manual_clock, AppError};
use std::cell::RefCell;
use std::future::Future;

thread_local! {
    /// What a fallback was told, for the test to read. Per thread: the tests run in parallel,
    /// each on its own thread, and every fallback here runs on its caller's (async calls are
    /// polled by hand); one list shared by all let one test take another's entries.
    static TOLD: RefCell<Vec<(u32, String)>> = const { RefCell::new(Vec::new()) };
}

fn told() -> Vec<(u32, String)> {
    TOLD.with(|t| std::mem::take(&mut *t.borrow_mut()))
}

/// How a reason reads in the assertions.
fn describe(why: &FallbackReason<AppError>) -> String {
    match why {
        FallbackReason::Rejected(open) => {
            format!("rejected by {} ({:?})", open.name(), open.state())
        }
        FallbackReason::Failed(error) => format!("failed with {error:?}"),
        _ => unreachable!("no other reason yet"),
    }
}

fn told_fallback(
    id: u32,
    _outcome: Result<u32, AppError>,
    why: FallbackReason<AppError>,
) -> Result<u32, AppError> {
    TOLD.with(|t| t.borrow_mut().push((id, describe(&why))));
    // The failure's own error can be handed back.
    match why {
        FallbackReason::Failed(error) if id == 0 => Err(error),
        _ => Ok(id + 100),
    }
}

#[circuit_breaker(
    name = "reason-sync",
    failure_threshold = 1,
    exclude = is_not_found,
    fallback = told_fallback
)]
fn sync_call(id: u32, outcome: Result<u32, AppError>) -> Result<u32, AppError> {
    let _ = id;
    outcome
}

#[test]
fn a_sync_fallback_is_told_of_a_failure_then_of_a_rejection() {
    let _clock = manual_clock(sync_call::breaker());
    told();
    // Excluded: returned as it is, no fallback.
    assert_eq!(
        sync_call(1, Err(AppError::NotFound)),
        Err(AppError::NotFound)
    );
    assert_eq!(told(), []);
    // A failure: the fallback gets the error itself.
    assert_eq!(sync_call(2, Err(AppError::Down)), Ok(102));
    assert_eq!(told(), [(2, "failed with Down".to_owned())]);
    assert_eq!(sync_call::breaker().state(), State::Open);
    // A rejection: the fallback gets the breaker's `CircuitOpen`.
    assert_eq!(sync_call(3, Ok(3)), Ok(103));
    assert_eq!(told(), [(3, "rejected by reason-sync (Open)".to_owned())]);
    assert_eq!(sync_call::breaker().snapshot().fallbacks, 2);
}

#[circuit_breaker(failure_threshold = 5, fallback = told_fallback)]
fn hands_back(id: u32, outcome: Result<u32, AppError>) -> Result<u32, AppError> {
    let _ = id;
    outcome
}

#[test]
fn a_fallback_may_return_the_failure_it_was_given() {
    let _clock = manual_clock(hands_back::breaker());
    assert_eq!(hands_back(0, Err(AppError::Down)), Err(AppError::Down));
    assert_eq!(hands_back::breaker().snapshot().fallbacks, 1);
}

/// Polls a future that never waits to its end.
fn run<F: Future>(fut: F) -> F::Output {
    common::poll_once(fut).expect("the future waited")
}

async fn told_async_fallback(
    id: u32,
    _outcome: Result<u32, AppError>,
    why: FallbackReason<AppError>,
) -> Result<u32, AppError> {
    // Held across an await: the reason is owned.
    std::future::ready(()).await;
    Ok(id + u32::from(why.is_rejected()) * 1000)
}

#[circuit_breaker(failure_threshold = 1, fallback = told_async_fallback)]
async fn async_call(id: u32, outcome: Result<u32, AppError>) -> Result<u32, AppError> {
    let _ = id;
    std::future::ready(outcome).await
}

#[circuit_breaker(failure_threshold = 1, fallback = told_fallback)]
async fn async_with_sync_fallback(
    id: u32,
    outcome: Result<u32, AppError>,
) -> Result<u32, AppError> {
    let _ = id;
    std::future::ready(outcome).await
}

#[test]
fn an_async_fallback_sync_or_async_is_told_why() {
    let _clock = manual_clock(async_call::breaker());
    assert_eq!(run(async_call(4, Err(AppError::Down))), Ok(4), "failed");
    assert_eq!(run(async_call(4, Ok(4))), Ok(1004), "rejected");

    let _clock = manual_clock(async_with_sync_fallback::breaker());
    told();
    assert_eq!(
        run(async_with_sync_fallback(5, Err(AppError::Down))),
        Ok(105)
    );
    assert_eq!(run(async_with_sync_fallback(6, Ok(6))), Ok(106));
    let told = told();
    assert_eq!(told[0], (5, "failed with Down".to_owned()));
    assert!(told[1].1.starts_with("rejected by "), "{told:?}");
}

struct Prices {
    last: u32,
}

impl Prices {
    #[circuit_breaker(name = "reason-method", failure_threshold = 1, fallback = Self::last_known)]
    fn quote(&self, item: u32) -> Result<u32, AppError> {
        let _ = item;
        Err(AppError::Down)
    }

    fn last_known(&self, item: u32, why: FallbackReason<AppError>) -> Result<u32, AppError> {
        match why {
            FallbackReason::Rejected(_) => Ok(self.last + item),
            _ => Ok(self.last),
        }
    }

    #[circuit_breaker(
        name = "reason-async-method",
        failure_threshold = 1,
        fallback = Self::last_known_async
    )]
    async fn quote_async(&self, item: u32) -> Result<u32, AppError> {
        let _ = item;
        Err(AppError::Down)
    }

    async fn last_known_async(
        &self,
        item: u32,
        why: FallbackReason<AppError>,
    ) -> Result<u32, AppError> {
        Ok(self.last + item * u32::from(why.error().is_none()))
    }
}

#[test]
fn a_method_s_fallback_takes_self_the_arguments_and_the_reason() {
    let prices = Prices { last: 10 };
    let _clock = manual_clock(&circuit_core::registry().get("reason-method").unwrap());
    assert_eq!(prices.quote(1), Ok(10), "failed");
    assert_eq!(prices.quote(1), Ok(11), "rejected");
    let _clock = manual_clock(&circuit_core::registry().get("reason-async-method").unwrap());
    assert_eq!(run(prices.quote_async(2)), Ok(10), "failed");
    assert_eq!(run(prices.quote_async(2)), Ok(12), "rejected");
}
