//! `half_open_max_wait`: a HalfOpen period whose trial slots are all taken opens again once it
//! has gone that long undecided, so trials that never report cannot hold it HalfOpen.
//!
//! Regression: with `half_open_max_calls = 1`, a permit lost with `mem::forget`, or a trial
//! future that never completed, rejected every call for good, although no slot may ever leak.

mod common;
use circuit_core::clock::ManualClock;
use circuit_core::config::{EnvConfig, Setting, Value};
use circuit_core::{CircuitBreaker, CircuitError, Config, Reason, Registry, State};
use common::*;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(60);
const WAIT: Duration = Duration::from_secs(30);
const MS: Duration = Duration::from_millis(1);

/// A breaker tripped and recovered to HalfOpen, `max_calls` slots, `success_threshold` 1.
fn half_open(max_calls: u32) -> (CircuitBreaker, ManualClock) {
    let (b, clock) = breaker_with(
        Config::builder()
            .failure_threshold(1)
            .success_threshold(1)
            .half_open_max_calls(max_calls)
            .recovery_timeout(TIMEOUT)
            .half_open_max_wait(WAIT),
    );
    let _ = fail(&b);
    clock.advance(TIMEOUT);
    assert_eq!(b.state(), State::HalfOpen);
    (b, clock)
}

fn rejected_in(r: Result<u32, CircuitError<&'static str>>) -> Option<State> {
    match r {
        Err(CircuitError::Open(open)) => Some(open.state()),
        _ => None,
    }
}

fn heard_max_wait(seen: &std::sync::Mutex<Vec<circuit_core::Transition>>) -> usize {
    let seen = seen.lock().unwrap();
    seen.iter()
        .filter(|t| t.reason == Reason::HalfOpenMaxWait)
        .inspect(|t| assert_eq!((t.from, t.to), (State::HalfOpen, State::Open)))
        .count()
}

#[test]
fn a_forgotten_permit_holds_half_open_only_until_the_wait_ends() {
    let (b, clock) = half_open(1);
    let seen = record_transitions(&b);
    std::mem::forget(b.try_acquire().expect("the one slot"));
    assert_eq!(rejected_in(succeed(&b)), Some(State::HalfOpen));
    clock.advance(WAIT - MS);
    assert_eq!(rejected_in(succeed(&b)), Some(State::HalfOpen));
    assert_eq!(b.state(), State::HalfOpen);
    clock.advance(MS);
    let Err(CircuitError::Open(open)) = succeed(&b) else {
        panic!("expected a rejection")
    };
    assert_eq!(open.state(), State::Open);
    assert_eq!(open.retry_after(), Some(TIMEOUT), "a new recovery timeout");
    assert_eq!(heard_max_wait(&seen), 1);
    clock.advance(TIMEOUT);
    assert!(matches!(succeed(&b), Ok(1)), "a fresh trial");
    assert_eq!(b.state(), State::Closed);
    assert_eq!(heard_max_wait(&seen), 1);
}

#[test]
fn a_trial_future_that_never_completes_holds_half_open_only_until_the_wait_ends() {
    let (b, clock) = half_open(1);
    let mut stuck = pin!(b.call_async(std::future::pending::<Result<u32, &str>>()));
    let mut cx = Context::from_waker(Waker::noop());
    assert!(stuck.as_mut().poll(&mut cx).is_pending(), "took the slot");
    assert_eq!(rejected_in(succeed(&b)), Some(State::HalfOpen));
    clock.advance(WAIT);
    assert_eq!(b.state(), State::Open);
    clock.advance(TIMEOUT);
    assert!(matches!(succeed(&b), Ok(1)));
    assert_eq!(b.state(), State::Closed);
    // Still pending, from a period long over: polling or dropping it moves nothing.
    assert!(matches!(stuck.as_mut().poll(&mut cx), Poll::Pending));
    assert_eq!(b.state(), State::Closed);
}

#[test]
fn state_and_racing_callers_hear_the_reopening_once() {
    let (b, clock) = half_open(2);
    let seen = record_transitions(&b);
    let held = [b.try_acquire().unwrap(), b.try_acquire().unwrap()];
    clock.advance(WAIT);
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..50 {
                    let _ = b.state();
                    assert!(rejected_in(succeed(&b)).is_some());
                }
            });
        }
    });
    assert_eq!(heard_max_wait(&seen), 1);
    assert_eq!(b.state(), State::Open);
    for permit in held {
        permit.success(); // late: counted, moves nothing
    }
    assert_eq!(b.state(), State::Open);
    assert_eq!(b.snapshot().successes, 2);
}

#[test]
fn a_free_slot_keeps_the_breaker_half_open_past_the_wait() {
    let (b, clock) = half_open(2);
    std::mem::forget(b.try_acquire().unwrap());
    clock.advance(WAIT * 10);
    assert_eq!(b.state(), State::HalfOpen, "the next call is a trial");
    assert!(matches!(succeed(&b), Ok(1)));
    assert_eq!(b.state(), State::Closed);
}

#[test]
fn the_wait_counts_from_the_start_of_its_own_period() {
    let (b, clock) = half_open(1);
    let _ = fail(&b); // the trial fails: Open again
    clock.advance(TIMEOUT + WAIT * 3); // the next period begins late
    assert_eq!(b.state(), State::HalfOpen);
    std::mem::forget(b.try_acquire().unwrap());
    clock.advance(WAIT - MS);
    assert_eq!(
        b.state(),
        State::HalfOpen,
        "not the previous period's start"
    );
    clock.advance(MS);
    assert_eq!(b.state(), State::Open);
}

#[test]
fn a_period_begun_between_whole_milliseconds_waits_at_least_the_wait() {
    let (b, clock) = breaker_with(
        Config::builder()
            .failure_threshold(1)
            .half_open_max_calls(1)
            .success_threshold(1)
            .half_open_max_wait(WAIT),
    );
    clock.advance(Duration::from_micros(1_500));
    let _ = fail(&b);
    clock.advance(TIMEOUT);
    std::mem::forget(b.try_acquire().unwrap()); // the period begins at 60001.5 ms
    clock.advance(WAIT - Duration::from_nanos(1));
    assert_eq!(b.state(), State::HalfOpen);
    clock.advance(MS);
    assert_eq!(b.state(), State::Open);
}

#[test]
fn the_default_wait_is_two_minutes_and_applies() {
    assert_eq!(Config::default().half_open_max_wait(), secs(120));
    let (b, clock) = breaker_with(
        Config::builder()
            .failure_threshold(1)
            .half_open_max_calls(1)
            .success_threshold(1),
    );
    let _ = fail(&b);
    clock.advance(secs(60));
    std::mem::forget(b.try_acquire().unwrap());
    clock.advance(secs(119));
    assert_eq!(b.state(), State::HalfOpen);
    clock.advance(secs(1));
    assert_eq!(b.state(), State::Open);
}

#[test]
fn a_new_clock_restarts_the_wait() {
    let (b, clock) = half_open(1);
    std::mem::forget(b.try_acquire().unwrap());
    clock.advance(WAIT - MS);
    let other = ManualClock::new();
    b.reconfigure(
        b.config()
            .to_builder()
            .clock(other.clone())
            .build()
            .unwrap(),
    );
    clock.advance(WAIT);
    assert_eq!(b.state(), State::HalfOpen, "the old clock no longer counts");
    other.advance(WAIT);
    assert_eq!(b.state(), State::Open);
}

#[test]
fn the_setting_is_refused_at_zero_and_read_from_the_environment() {
    let err = Config::builder()
        .half_open_max_wait(Duration::ZERO)
        .build()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "`half_open_max_wait` must be longer than zero, got 0s"
    );
    assert_eq!(
        Setting::from_name("half_open_max_wait").and_then(Setting::default_value),
        Some(Value::Duration(secs(120)))
    );
    let registry = Registry::new();
    registry.get_or_create("db", Config::default());
    EnvConfig::new()
        .registered(&registry)
        .apply_from(&registry, [("CIRCUIT_DB_HALF_OPEN_MAX_WAIT", "5m")])
        .unwrap();
    assert_eq!(
        registry.get("db").unwrap().config().half_open_max_wait(),
        secs(300)
    );
}

#[circuit_core::circuit_breaker(name = "max-wait-attribute", half_open_max_wait = "90s")]
fn guarded() -> Result<(), AppError> {
    Ok(())
}

#[test]
fn the_attribute_takes_the_key() {
    assert!(guarded().is_ok());
    let b = circuit_core::registry()
        .get("max-wait-attribute")
        .expect("declared");
    assert_eq!(b.config().half_open_max_wait(), secs(90));
}
