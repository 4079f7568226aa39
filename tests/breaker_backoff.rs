//! The open period's backoff: each consecutive re-opening (a HalfOpen period that failed)
//! lengthens the Open period as `Backoff` says, up to its cap, spread by its jitter; a close or
//! a reset starts again from `recovery_timeout`; `retry_after` tells the truth throughout.

mod common;
use circuit_core::clock::ManualClock;
use circuit_core::{Backoff, CircuitBreaker, CircuitError, Config, Reason, State};
use common::*;
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(10);
const NS: Duration = Duration::from_nanos(1);

fn backed_off(backoff: Backoff) -> (CircuitBreaker, ManualClock) {
    breaker_with(
        Config::builder()
            .failure_threshold(1)
            .success_threshold(1)
            .half_open_max_calls(1)
            .recovery_timeout(TIMEOUT)
            .backoff(backoff),
    )
}

/// How long the Open period just begun lasts, found by the clock: it is Open a nanosecond
/// before and HalfOpen at the end, and `retry_after` said exactly that at the start.
fn measure_open_period(b: &CircuitBreaker, clock: &ManualClock) -> Duration {
    assert_eq!(b.state(), State::Open);
    let said = b.retry_after().expect("open");
    clock.advance(said - NS);
    assert_eq!(b.state(), State::Open, "still open a nanosecond early");
    clock.advance(NS);
    assert_eq!(
        b.state(),
        State::HalfOpen,
        "half-open when retry_after said"
    );
    said
}

/// Fails the trial of a HalfOpen breaker, reopening it.
fn fail_trial(b: &CircuitBreaker) {
    assert_eq!(b.state(), State::HalfOpen);
    assert!(matches!(fail(b), Err(CircuitError::Inner(_))));
}

/// The first period and the next `reopenings` after it.
fn periods(b: &CircuitBreaker, clock: &ManualClock, reopenings: usize) -> Vec<Duration> {
    let _ = fail(b);
    let mut seen = vec![measure_open_period(b, clock)];
    for _ in 0..reopenings {
        fail_trial(b);
        seen.push(measure_open_period(b, clock));
    }
    seen
}

#[test]
fn a_constant_backoff_keeps_every_period_at_the_timeout() {
    let (b, clock) = backed_off(Backoff::constant());
    assert_eq!(periods(&b, &clock, 3), [TIMEOUT; 4]);
}

#[test]
fn an_exponential_backoff_grows_each_reopening_up_to_its_cap() {
    let (b, clock) = backed_off(Backoff::exponential(2.0, secs(60)));
    assert_eq!(
        periods(&b, &clock, 5),
        [10, 20, 40, 60, 60, 60].map(secs),
        "10 s, doubled per re-opening, capped at 60 s"
    );
}

#[test]
fn reopenings_by_half_open_max_wait_grow_the_period_too() {
    let (b, clock) = breaker_with(
        Config::builder()
            .failure_threshold(1)
            .success_threshold(1)
            .half_open_max_calls(1)
            .recovery_timeout(TIMEOUT)
            .half_open_max_wait(secs(5))
            .backoff(Backoff::exponential(3.0, secs(3600))),
    );
    let _ = fail(&b);
    measure_open_period(&b, &clock);
    // A trial that never reports holds the only slot until the wait is over.
    std::mem::forget(b.try_acquire().expect("the trial"));
    clock.advance(secs(5));
    let seen = record_transitions(&b);
    assert_eq!(b.state(), State::Open);
    assert_eq!(seen.lock().unwrap()[0].reason, Reason::HalfOpenMaxWait);
    assert_eq!(measure_open_period(&b, &clock), secs(30));
}

#[test]
fn a_close_resets_the_backoff() {
    let (b, clock) = backed_off(Backoff::exponential(2.0, secs(600)));
    assert_eq!(periods(&b, &clock, 2), [10, 20, 40].map(secs));
    assert!(succeed(&b).is_ok(), "the trial succeeds");
    assert_eq!(b.state(), State::Closed);
    assert_eq!(
        periods(&b, &clock, 1),
        [10, 20].map(secs),
        "from the start again"
    );
}

#[test]
fn a_reset_resets_the_backoff() {
    let (b, clock) = backed_off(Backoff::exponential(2.0, secs(600)));
    assert_eq!(periods(&b, &clock, 2), [10, 20, 40].map(secs));
    fail_trial(&b);
    assert_eq!(b.retry_after(), Some(secs(80)));
    b.reset();
    assert_eq!(periods(&b, &clock, 0), [TIMEOUT], "from the start again");
}

#[test]
fn a_reset_from_forced_open_resets_the_backoff_too() {
    let (b, clock) = backed_off(Backoff::exponential(2.0, secs(600)));
    assert_eq!(periods(&b, &clock, 1), [10, 20].map(secs));
    b.force_open();
    b.reset();
    assert_eq!(periods(&b, &clock, 0), [TIMEOUT]);
}

#[test]
fn jittered_periods_stay_within_their_bounds_and_spread() {
    // 10 s base, jitter 0.5: every period in [10 s, 15 s); then 20 s base: [20 s, 30 s).
    let (b, clock) = backed_off(Backoff::exponential(2.0, secs(20)).with_jitter(0.5));
    let mut first = Vec::new();
    let mut capped = Vec::new();
    for _ in 0..200 {
        let seen = periods(&b, &clock, 2);
        first.push(seen[0]);
        capped.extend_from_slice(&seen[1..]);
        assert!(succeed(&b).is_ok());
    }
    for p in &first {
        assert!(*p >= secs(10) && *p < secs(15), "first period {p:?}");
    }
    for p in &capped {
        assert!(*p >= secs(20) && *p < secs(30), "capped period {p:?}");
    }
    // Uniform over [10 s, 15 s): each half second holds about a tenth of 200 draws. The
    // chance that a uniform draw leaves one of the ten bins empty is below 10 * 0.9^200.
    let mut bins = [0u32; 10];
    for p in &first {
        bins[((p.as_secs_f64() - 10.0) * 2.0) as usize] += 1;
    }
    assert!(
        bins.iter().all(|&n| n > 0),
        "spread over the range: {bins:?}"
    );
    let distinct: std::collections::BTreeSet<_> = first.iter().collect();
    assert!(
        distinct.len() > 150,
        "periods differ: {} distinct",
        distinct.len()
    );
}

#[test]
fn the_largest_jitter_stays_below_double_and_never_shortens_the_period() {
    // A jitter must be below 1 (build refuses 1.0), so the widest spread is just under double.
    let (b, clock) = backed_off(Backoff::constant().with_jitter(0.999));
    for _ in 0..100 {
        let p = periods(&b, &clock, 0)[0];
        assert!(p >= TIMEOUT && p < 2 * TIMEOUT, "{p:?}");
        assert!(succeed(&b).is_ok());
    }
}

#[test]
fn retry_after_over_a_backed_off_period_is_the_time_left() {
    let (b, clock) = backed_off(Backoff::exponential(4.0, secs(3600)));
    let _ = fail(&b);
    clock.advance(TIMEOUT);
    fail_trial(&b);
    assert_eq!(b.retry_after(), Some(secs(40)));
    clock.advance(secs(25));
    assert_eq!(b.retry_after(), Some(secs(15)));
    match succeed(&b) {
        Err(CircuitError::Open(open)) => assert_eq!(open.retry_after(), Some(secs(15))),
        other => panic!("expected a rejection, got {other:?}"),
    }
}

#[test]
fn retry_after_on_the_system_clock_never_exceeds_a_period_longer_than_the_timeout() {
    // The coarse clock may lag; what it reports is capped at the period itself. Here the
    // period (a Retry-After's second) is far longer than the timeout, which the cap used to
    // be: capped at the timeout, retry_after would have understated it a thousandfold.
    let b = CircuitBreaker::new(
        "system-clock-long-period",
        Config::builder()
            .recovery_timeout(Duration::from_millis(1))
            .build()
            .unwrap(),
    );
    b.try_acquire().unwrap().open_for(secs(1));
    let left = b.retry_after().expect("open for a second");
    assert!(left <= secs(1), "at most the period: {left:?}");
    assert!(
        left > Duration::from_millis(900),
        "close to the whole second: {left:?}"
    );
}

#[test]
fn lowering_the_timeout_shortens_a_backed_off_period_to_the_new_one() {
    let (b, clock) = backed_off(Backoff::exponential(2.0, secs(600)));
    let _ = fail(&b);
    clock.advance(TIMEOUT);
    fail_trial(&b);
    assert_eq!(b.retry_after(), Some(secs(20)));
    let lowered = b
        .config()
        .to_builder()
        .recovery_timeout(secs(2))
        .build()
        .unwrap();
    b.reconfigure(lowered);
    // One re-opening under the new settings: 2 s * 2.
    assert_eq!(measure_open_period(&b, &clock), secs(4));
}

#[test]
fn a_reconfigure_that_shortens_nothing_keeps_the_open_period() {
    let (b, clock) = backed_off(Backoff::exponential(2.0, secs(600)));
    let _ = fail(&b);
    clock.advance(TIMEOUT);
    fail_trial(&b);
    clock.advance(secs(5));
    let same = b
        .config()
        .to_builder()
        .failure_threshold(3)
        .build()
        .unwrap();
    b.reconfigure(same);
    assert_eq!(b.retry_after(), Some(secs(15)));
}
