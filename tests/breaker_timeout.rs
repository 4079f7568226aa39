//! `timeout`: an async call still waiting after it is cancelled (its future dropped), counted
//! as a failure and a timeout, and returned as `CircuitError::Timeout`. Time is tokio's paused
//! clock: nothing here sleeps for real.

mod common;
use circuit_core::{CircuitBreaker, CircuitError, Config, Reason, State};
use common::*;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::{advance, sleep};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// A breaker with a 500 ms timeout, tripping after `failures` consecutive failures.
fn timed(failures: u32) -> CircuitBreaker {
    let config = Config::builder()
        .timeout(ms(500))
        .failure_threshold(failures)
        .build()
        .unwrap();
    CircuitBreaker::new("slow-upstream", config)
}

/// An upstream that answers after `after`.
async fn answer_after(after: Duration) -> Result<u32, &'static str> {
    sleep(after).await;
    Ok(7)
}

#[tokio::test(start_paused = true)]
async fn a_call_past_its_timeout_is_cancelled_and_counted_as_a_failure() {
    let b = timed(5);
    let started = tokio::time::Instant::now();
    let r = b.call_async(answer_after(ms(1500))).await;
    let Err(CircuitError::Timeout(timed_out)) = r else {
        panic!("expected a timeout, got {r:?}");
    };
    // Cut at the timeout, not when the upstream would have answered.
    assert_eq!(started.elapsed(), ms(500));
    assert_eq!(timed_out.name(), "slow-upstream");
    assert_eq!(timed_out.timeout(), ms(500));
    assert_eq!(
        timed_out.to_string(),
        "call through circuit breaker \"slow-upstream\" timed out after 0.500s"
    );
    let s = b.snapshot();
    assert_eq!((s.successes, s.failures, s.timeouts), (0, 1, 1));
    assert_eq!(s.failure_count, 1);
}

#[tokio::test(start_paused = true)]
async fn a_call_that_answers_in_time_is_a_success() {
    let b = timed(5);
    assert_eq!(b.call_async(answer_after(ms(499))).await.unwrap(), 7);
    let s = b.snapshot();
    assert_eq!((s.successes, s.failures, s.timeouts), (1, 0, 0));
}

#[tokio::test(start_paused = true)]
async fn the_cancelled_future_is_dropped_at_the_timeout() {
    let b = timed(5);
    let dropped = Arc::new(AtomicBool::new(false));
    struct SetOnDrop(Arc<AtomicBool>);
    impl Drop for SetOnDrop {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }
    let guard = SetOnDrop(dropped.clone());
    let call = b.call_async(async move {
        let _guard = guard;
        sleep(ms(10_000)).await;
        Ok::<_, &str>(())
    });
    let mut call = Box::pin(call);
    // Polled by hand so the future outlives its result: the upstream is dropped on time, not
    // when the caller drops the call.
    let r = std::future::poll_fn(|cx| call.as_mut().poll(cx)).await;
    assert!(r.unwrap_err().is_timeout());
    assert!(dropped.load(Ordering::SeqCst));
}

#[tokio::test(start_paused = true)]
async fn slow_calls_trip_the_breaker() {
    let b = timed(3);
    let transitions = record_transitions(&b);
    for _ in 0..3 {
        assert!(b
            .call_async(answer_after(ms(1500)))
            .await
            .unwrap_err()
            .is_timeout());
    }
    assert_eq!(b.state(), State::Open);
    assert_eq!(
        transitions.lock().unwrap().last().map(|t| t.reason),
        Some(Reason::FailureThreshold(3))
    );
    // Open: rejected at once, without waiting for anything.
    let r = b.call_async(answer_after(ms(1500))).await;
    assert!(matches!(r, Err(CircuitError::Open(_))));
    let s = b.snapshot();
    assert_eq!((s.failures, s.timeouts, s.rejected), (3, 3, 1));
}

#[tokio::test(start_paused = true)]
async fn a_timed_out_trial_fails_its_half_open_period() {
    let clock = circuit_core::clock::ManualClock::new();
    let config = Config::builder()
        .timeout(ms(500))
        .failure_threshold(1)
        .recovery_timeout(secs(30))
        .clock(clock.clone())
        .build()
        .unwrap();
    let b = CircuitBreaker::new("trial", config);
    assert!(b
        .call_async(answer_after(ms(600)))
        .await
        .unwrap_err()
        .is_timeout());
    assert_eq!(b.state(), State::Open);
    clock.advance(secs(30));
    assert_eq!(b.state(), State::HalfOpen);
    let transitions = record_transitions(&b);
    assert!(b
        .call_async(answer_after(ms(600)))
        .await
        .unwrap_err()
        .is_timeout());
    assert_eq!(b.state(), State::Open);
    assert_eq!(
        transitions.lock().unwrap().last().map(|t| t.reason),
        Some(Reason::TrialFailed)
    );
}

#[tokio::test(start_paused = true)]
async fn a_timeout_counts_as_a_failure_whatever_the_classifier_says() {
    let b = timed(5);
    // The classifier would excuse every error; a timeout is not an error it sees.
    let r = b
        .call_async_with(answer_after(ms(600)), |_: &&str| false)
        .await;
    assert!(r.unwrap_err().is_timeout());
    assert_eq!(b.snapshot().failures, 1);
}

#[tokio::test(start_paused = true)]
async fn without_a_timeout_a_slow_call_runs_to_the_end() {
    let b = CircuitBreaker::new("patient", Config::default());
    assert_eq!(b.call_async(answer_after(secs(3600))).await.unwrap(), 7);
    let s = b.snapshot();
    assert_eq!((s.successes, s.timeouts), (1, 0));
}

#[tokio::test(start_paused = true)]
async fn reconfigure_sets_and_removes_the_timeout() {
    let b = CircuitBreaker::new("reconfigured", Config::default());
    b.reconfigure(Config::builder().timeout(ms(100)).build().unwrap());
    assert!(b
        .call_async(answer_after(ms(200)))
        .await
        .unwrap_err()
        .is_timeout());
    b.reconfigure(Config::default());
    assert_eq!(b.call_async(answer_after(ms(200))).await.unwrap(), 7);
    assert_eq!(b.snapshot().timeouts, 1);
}

#[tokio::test(start_paused = true)]
async fn the_timer_starts_when_the_call_first_waits() {
    let b = timed(5);
    // Time passing before the call is polled does not count against it.
    let call = b.call_async(answer_after(ms(400)));
    advance(ms(1000)).await;
    assert_eq!(call.await.unwrap(), 7);
}
