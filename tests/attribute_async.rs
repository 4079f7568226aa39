//! `#[circuit_breaker]` on async functions and methods, `#[async_trait]` impls included: the
//! same keys and rules as the sync ones, and futures that stay `Send`.

mod common;

use async_trait::async_trait;
use circuit_core::{circuit_breaker, State};
use common::{is_not_found, manual_clock, secs, AppError};
use std::future::Future;

/// Polls a future that never waits to its end (the functions here finish on first poll).
fn run<F: Future>(fut: F) -> F::Output {
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    let mut fut = std::pin::pin!(fut);
    match fut.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(output) => output,
        std::task::Poll::Pending => panic!("the future waited"),
    }
}

async fn remote(outcome: Result<u32, AppError>) -> Result<u32, AppError> {
    std::future::ready(outcome).await
}

#[circuit_breaker(
    failure_threshold = 2,
    success_threshold = 1,
    half_open_max_calls = 1,
    recovery_timeout = "1m",
    exclude = is_not_found
)]
async fn fetch(outcome: Result<u32, AppError>) -> Result<u32, AppError> {
    if let Err(AppError::NotFound) = outcome {
        return Err(AppError::NotFound);
    }
    let n = remote(outcome).await?;
    Ok(n + 1)
}

#[test]
fn every_key_applies_to_an_async_function() {
    let clock = manual_clock(fetch::breaker());
    assert_eq!(run(fetch(Ok(1))), Ok(2));
    for _ in 0..3 {
        assert_eq!(run(fetch(Err(AppError::NotFound))), Err(AppError::NotFound));
    }
    assert_eq!(
        fetch::breaker().state(),
        State::Closed,
        "excluded errors are successes"
    );
    let _ = run(fetch(Err(AppError::Down)));
    let _ = run(fetch(Err(AppError::Down)));
    assert_eq!(fetch::breaker().state(), State::Open);
    assert_eq!(run(fetch(Ok(1))), Err(AppError::Rejected(State::Open)));
    clock.advance(secs(60));
    assert_eq!(fetch::breaker().state(), State::HalfOpen);
    assert_eq!(run(fetch(Ok(1))), Ok(2));
    assert_eq!(
        fetch::breaker().state(),
        State::Closed,
        "success_threshold = 1"
    );
}

async fn async_fallback(id: u32) -> Result<u32, AppError> {
    std::future::ready(Ok(1000 + id)).await
}

fn sync_fallback(id: u32) -> Result<u32, AppError> {
    Ok(2000 + id)
}

#[circuit_breaker(failure_threshold = 1, fallback = async_fallback, exclude = is_not_found)]
async fn with_async_fallback(id: u32) -> Result<u32, AppError> {
    match id {
        0 => Err(AppError::Down),
        404 => Err(AppError::NotFound),
        _ => Ok(id),
    }
}

#[circuit_breaker(failure_threshold = 1, fallback = sync_fallback)]
async fn with_sync_fallback(id: u32) -> Result<u32, AppError> {
    if id == 0 {
        return Err(AppError::Down);
    }
    Ok(id)
}

#[test]
fn an_async_functions_fallback_may_be_async_or_sync() {
    assert_eq!(run(with_async_fallback(404)), Err(AppError::NotFound));
    assert_eq!(run(with_async_fallback(0)), Ok(1000));
    assert_eq!(run(with_async_fallback(1)), Ok(1001), "rejected");
    assert_eq!(with_async_fallback::breaker().snapshot().fallbacks, 2);

    assert_eq!(run(with_sync_fallback(0)), Ok(2000));
    assert_eq!(run(with_sync_fallback(1)), Ok(2001), "rejected");
    assert_eq!(with_sync_fallback::breaker().snapshot().fallbacks, 2);
}

#[circuit_breaker(failure_threshold = 1, half_open_max_calls = 1, success_threshold = 1)]
async fn slow(outcome: Result<(), AppError>, wait: bool) -> Result<(), AppError> {
    if wait {
        std::future::pending::<()>().await;
    }
    outcome
}

#[test]
fn a_dropped_call_gives_its_trial_slot_back() {
    let clock = manual_clock(slow::breaker());
    let _ = run(slow(Err(AppError::Down), false));
    clock.advance(secs(60));
    {
        // The only trial starts, waits, and is dropped.
        let mut trial = Box::pin(slow(Ok(()), true));
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        assert!(trial.as_mut().poll(&mut cx).is_pending());
        assert_eq!(
            run(slow(Ok(()), false)),
            Err(AppError::Rejected(State::HalfOpen))
        );
    }
    assert_eq!(run(slow(Ok(()), false)), Ok(()), "the slot came back");
    assert_eq!(slow::breaker().state(), State::Closed);
}

#[derive(Clone)]
struct Service {
    base: u32,
}

impl Service {
    #[circuit_breaker(name = "async-service-get")]
    async fn get(&self, id: u32) -> Result<u32, AppError> {
        tokio::task::yield_now().await;
        Ok(self.base + id)
    }

    #[circuit_breaker(name = "async-service-take")]
    async fn take(mut self, id: u32) -> Result<u32, AppError> {
        self.base += id;
        Ok(self.base)
    }

    #[circuit_breaker(name = "async-service-bump", handle = bump_breaker)]
    async fn bump(&mut self) -> Result<u32, AppError> {
        self.base += 1;
        Ok(self.base)
    }
}

#[circuit_breaker(name = "async-spawned")]
async fn spawned(id: u32) -> Result<u32, AppError> {
    // Held across an await: the future is `Send` only if everything held is.
    let text = format!("{id}");
    tokio::task::yield_now().await;
    text.parse().map_err(|_| AppError::Down)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn futures_stay_send_and_run_on_the_multi_thread_runtime() {
    let service = Service { base: 10 };
    let a = tokio::spawn(spawned(5));
    let b = tokio::spawn({
        let service = service.clone();
        async move { service.get(1).await }
    });
    let c = tokio::spawn(service.clone().take(2));
    let d = tokio::spawn(async move {
        let mut service = service;
        service.bump().await
    });
    assert_eq!(a.await.unwrap(), Ok(5));
    assert_eq!(b.await.unwrap(), Ok(11));
    assert_eq!(c.await.unwrap(), Ok(12));
    assert_eq!(d.await.unwrap(), Ok(11));
    assert_eq!(Service::bump_breaker().snapshot().successes, 1);
}

#[async_trait]
trait Users {
    async fn user(&self, id: u32) -> Result<String, AppError>;
    async fn count(&self) -> Result<u32, AppError>;
}

struct RemoteUsers {
    up: bool,
}

impl RemoteUsers {
    fn unknown(&self, id: u32) -> Result<String, AppError> {
        Ok(format!("unknown-{id}"))
    }
}

#[async_trait]
impl Users for RemoteUsers {
    #[circuit_breaker(name = "async-trait-user", failure_threshold = 1, fallback = Self::unknown)]
    async fn user(&self, id: u32) -> Result<String, AppError> {
        if !self.up {
            return Err(AppError::Down);
        }
        tokio::task::yield_now().await;
        Ok(format!("user-{id}"))
    }

    #[circuit_breaker(name = "async-trait-count", failure_threshold = 1)]
    async fn count(&self) -> Result<u32, AppError> {
        if !self.up {
            return Err(AppError::Down);
        }
        Ok(3)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inside_async_trait_impls() {
    let up: std::sync::Arc<dyn Users + Send + Sync> = std::sync::Arc::new(RemoteUsers { up: true });
    let down = RemoteUsers { up: false };
    assert_eq!(
        tokio::spawn(async move { up.user(1).await }).await.unwrap(),
        Ok("user-1".into())
    );
    assert_eq!(
        down.user(2).await,
        Ok("unknown-2".into()),
        "a counted failure"
    );
    assert_eq!(down.user(3).await, Ok("unknown-3".into()), "a rejection");
    let breaker = circuit_core::registry().get("async-trait-user").unwrap();
    assert_eq!(breaker.snapshot().fallbacks, 2);
    assert_eq!(down.count().await, Err(AppError::Down));
    assert_eq!(down.count().await, Err(AppError::Rejected(State::Open)));
}
