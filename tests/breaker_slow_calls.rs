//! Slow calls: a call that takes at least `slow_call_duration`, succeeding or failing, is slow;
//! the slow-call rule trips at its rate like the failure rate, and in HalfOpen a slow trial is
//! a failed one. Calls take time by moving a `ManualClock` inside them.

use circuit_core::clock::ManualClock;
use circuit_core::{
    CircuitBreaker, CircuitError, Config, ConfigBuilder, Reason, SlidingWindow, State,
};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const SLOW: Duration = Duration::from_secs(2);

struct Rig {
    b: CircuitBreaker,
    clock: ManualClock,
    heard: Arc<Mutex<Vec<Reason>>>,
}

fn rig(config: ConfigBuilder) -> Rig {
    let clock = ManualClock::new();
    let b = CircuitBreaker::new("slow", config.clock(clock.clone()).build().unwrap());
    let heard = Arc::new(Mutex::new(Vec::new()));
    let h = heard.clone();
    b.on_state_change(move |t| h.lock().unwrap().push(t.reason));
    Rig { b, clock, heard }
}

impl Rig {
    /// A call that takes `took` and returns `result`.
    fn call(
        &self,
        took: Duration,
        result: Result<(), &'static str>,
    ) -> Result<(), CircuitError<&'static str>> {
        self.b.call(|| {
            self.clock.advance(took);
            result
        })
    }

    fn ok(&self, took: Duration) {
        self.call(took, Ok(())).expect("admitted and succeeded");
    }

    fn fail(&self, took: Duration) {
        assert!(matches!(
            self.call(took, Err("down")),
            Err(CircuitError::Inner(_))
        ));
    }

    fn reasons(&self) -> Vec<Reason> {
        self.heard.lock().unwrap().clone()
    }
}

fn slow_rule(threshold: f64, minimum: u32) -> ConfigBuilder {
    Config::builder()
        .slow_call_duration(SLOW)
        .slow_call_rate_threshold(threshold)
        .sliding_window(SlidingWindow::Count(10))
        .minimum_calls(minimum)
}

const FAST: Duration = Duration::from_millis(10);

#[test]
fn a_call_that_takes_the_duration_is_slow_and_one_that_takes_less_is_not() {
    let r = rig(slow_rule(1.0, 2));
    r.ok(SLOW - Duration::from_nanos(1));
    assert_eq!(r.b.snapshot().slow, 0);
    r.ok(SLOW);
    assert_eq!(r.b.snapshot().slow, 1);
    assert_eq!(r.b.slow_call_rate(), Some(0.5));
    assert_eq!(r.b.state(), State::Closed);
}

#[test]
fn slow_successes_trip_the_breaker_at_the_slow_rate() {
    let r = rig(slow_rule(0.5, 4));
    r.ok(FAST);
    r.ok(SLOW);
    r.ok(FAST);
    assert_eq!(r.b.state(), State::Closed, "3 calls, below the minimum");
    r.ok(SLOW); // 2 of 4, and the call itself succeeded
    assert_eq!(r.b.state(), State::Open);
    assert_eq!(r.reasons(), [Reason::SlowCallRate { slow: 2, calls: 4 }]);
    assert_eq!(r.reasons()[0].to_string(), "after 2 slow calls in 4 calls");
    let s = r.b.snapshot();
    assert_eq!((s.successes, s.failures, s.slow), (4, 0, 2));
}

#[test]
fn slow_failures_count_as_slow_and_as_failures() {
    let r = rig(slow_rule(0.5, 2).failure_rate_threshold(1.0));
    r.ok(FAST);
    r.fail(SLOW); // 1 slow of 2
    assert_eq!(r.b.state(), State::Open);
    assert_eq!(r.reasons(), [Reason::SlowCallRate { slow: 1, calls: 2 }]);
    let s = r.b.snapshot();
    assert_eq!((s.failures, s.slow), (1, 1));
}

#[test]
fn a_duration_alone_times_calls_and_trips_nothing() {
    let r = rig(Config::builder().slow_call_duration(SLOW).minimum_calls(2));
    for _ in 0..10 {
        r.ok(SLOW);
    }
    assert_eq!(r.b.state(), State::Closed);
    assert_eq!(r.b.slow_call_rate(), Some(1.0));
    assert_eq!(r.b.failure_rate(), None, "no failure-rate rule");
    // The consecutive rule is still the one that trips it.
    for _ in 0..5 {
        r.fail(FAST);
    }
    assert_eq!(r.reasons(), [Reason::FailureThreshold(5)]);
}

#[test]
fn calls_are_not_timed_without_a_duration() {
    let r = rig(Config::builder().failure_rate_threshold(0.5));
    r.ok(Duration::from_secs(3600));
    assert_eq!(r.b.snapshot().slow, 0);
    assert_eq!(r.b.slow_call_rate(), None);
}

#[test]
fn a_slow_trial_is_a_failed_trial_and_a_fast_one_succeeds() {
    let r = rig(slow_rule(0.5, 2)
        .recovery_timeout(Duration::from_secs(30))
        .success_threshold(1));
    r.ok(SLOW);
    r.ok(SLOW);
    assert_eq!(r.b.state(), State::Open);
    r.clock.advance(Duration::from_secs(30));
    r.ok(SLOW); // the trial succeeds, slowly
    assert_eq!(r.b.state(), State::Open, "a slow trial reopens the breaker");
    assert_eq!(
        r.reasons()[1..],
        [Reason::RecoveryTimeout, Reason::TrialFailed]
    );
    r.clock.advance(Duration::from_secs(30));
    r.ok(FAST);
    assert_eq!(r.b.state(), State::Closed);
}

#[test]
fn a_slow_trial_succeeds_when_only_the_duration_is_set() {
    let r = rig(Config::builder()
        .slow_call_duration(SLOW)
        .failure_threshold(1)
        .success_threshold(1)
        .recovery_timeout(Duration::from_secs(30)));
    r.fail(FAST);
    r.clock.advance(Duration::from_secs(30));
    r.ok(SLOW);
    assert_eq!(
        r.b.state(),
        State::Closed,
        "no slow-call rule: slow is only reported"
    );
}

#[test]
fn a_slow_call_rule_replaces_the_consecutive_rule_unless_the_threshold_is_set() {
    let r = rig(slow_rule(0.5, 10));
    for _ in 0..8 {
        r.fail(FAST);
    }
    assert_eq!(
        r.b.state(),
        State::Closed,
        "failures alone never trip a slow-call rule"
    );

    let r = rig(slow_rule(0.5, 10).failure_threshold(3));
    for _ in 0..3 {
        r.fail(FAST);
    }
    assert_eq!(r.reasons(), [Reason::FailureThreshold(3)]);
}

#[test]
fn rate_and_slow_rules_together_trip_on_either() {
    let both = || slow_rule(0.5, 4).failure_rate_threshold(0.5);
    let r = rig(both());
    r.ok(SLOW);
    r.ok(FAST);
    r.ok(FAST);
    r.ok(SLOW);
    assert_eq!(r.reasons(), [Reason::SlowCallRate { slow: 2, calls: 4 }]);

    let r = rig(both());
    r.fail(FAST);
    r.ok(FAST);
    r.fail(FAST);
    r.ok(FAST);
    assert_eq!(
        r.reasons(),
        [Reason::FailureRate {
            failures: 2,
            calls: 4
        }]
    );

    // With `failure_threshold` set, the consecutive rule trips it too.
    let r = rig(both().failure_threshold(2).minimum_calls(10));
    r.fail(FAST);
    r.fail(FAST);
    assert_eq!(r.reasons(), [Reason::FailureThreshold(2)]);
}

#[test]
fn an_ignored_slow_call_is_not_slow() {
    let r = rig(slow_rule(0.5, 1));
    let permit = r.b.try_acquire().unwrap();
    r.clock.advance(SLOW);
    permit.ignore();
    let s = r.b.snapshot();
    assert_eq!((s.ignored, s.slow), (1, 0));
    assert_eq!(r.b.state(), State::Closed);
    assert_eq!(r.b.slow_call_rate(), None, "no calls");
}

#[test]
fn a_time_window_forgets_slow_calls_older_than_its_period() {
    let r = rig(slow_rule(0.5, 2).sliding_window(SlidingWindow::Time(Duration::from_secs(60))));
    r.ok(SLOW);
    r.clock.advance(Duration::from_secs(60));
    r.ok(FAST);
    r.ok(FAST);
    assert_eq!(r.b.slow_call_rate(), Some(0.0));
    assert_eq!(r.b.state(), State::Closed);
}
