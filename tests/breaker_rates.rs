//! The failure-rate rule over count and time windows, minimum calls, which rules trip a
//! breaker, and what clears a window. Every test moves a `ManualClock` by hand.

use circuit_core::clock::ManualClock;
use circuit_core::{CircuitBreaker, Config, ConfigBuilder, Reason, SlidingWindow, State};
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn breaker(config: ConfigBuilder) -> (CircuitBreaker, ManualClock, Arc<Mutex<Vec<Reason>>>) {
    let clock = ManualClock::new();
    let b = CircuitBreaker::new("rates", config.clock(clock.clone()).build().unwrap());
    let heard = Arc::new(Mutex::new(Vec::new()));
    let h = heard.clone();
    b.on_state_change(move |t| h.lock().unwrap().push(t.reason));
    (b, clock, heard)
}

fn ok(b: &CircuitBreaker) {
    b.call(|| Ok::<_, ()>(())).expect("admitted and succeeded");
}

fn fail(b: &CircuitBreaker) {
    let r = b.call(|| Err::<(), _>("down"));
    assert!(
        matches!(r, Err(circuit_core::CircuitError::Inner(_))),
        "a failure expected to run"
    );
}

fn rate(threshold: f64, window: SlidingWindow, minimum: u32) -> ConfigBuilder {
    Config::builder()
        .failure_rate_threshold(threshold)
        .sliding_window(window)
        .minimum_calls(minimum)
}

#[test]
fn the_rate_trips_once_the_window_holds_minimum_calls_and_reaches_the_threshold() {
    let (b, _, heard) = breaker(rate(0.5, SlidingWindow::Count(10), 4));
    ok(&b);
    fail(&b);
    ok(&b);
    assert_eq!(b.state(), State::Closed);
    assert_eq!(b.failure_rate(), None, "3 calls, below the minimum of 4");
    fail(&b); // 2 of 4
    assert_eq!(b.state(), State::Open);
    assert_eq!(
        *heard.lock().unwrap(),
        [Reason::FailureRate {
            failures: 2,
            calls: 4
        }]
    );
    assert_eq!(
        heard.lock().unwrap()[0].to_string(),
        "after 2 failures in 4 calls"
    );
}

#[test]
fn a_count_window_forgets_calls_older_than_its_size() {
    let (b, _, _) = breaker(rate(0.75, SlidingWindow::Count(4), 4));
    fail(&b);
    fail(&b);
    ok(&b);
    assert_eq!(b.failure_rate(), None, "3 calls, below the minimum");
    ok(&b); // F F S S
    assert_eq!(b.failure_rate(), Some(0.5));
    ok(&b); // F S S S
    ok(&b); // S S S S: both failures have left
    assert_eq!(b.failure_rate(), Some(0.0));
    fail(&b);
    fail(&b); // S S F F
    assert_eq!(b.failure_rate(), Some(0.5));
    fail(&b); // S F F F
    assert_eq!(b.state(), State::Open);
}

#[test]
fn minimum_calls_reached_by_a_failure() {
    let (b, _, heard) = breaker(rate(0.6, SlidingWindow::Count(100), 5));
    for _ in 0..2 {
        ok(&b);
    }
    for _ in 0..2 {
        fail(&b);
    }
    assert_eq!(b.state(), State::Closed, "4 calls, below the minimum");
    fail(&b); // 3 of 5
    assert_eq!(b.state(), State::Open);
    assert_eq!(
        heard.lock().unwrap()[0],
        Reason::FailureRate {
            failures: 3,
            calls: 5
        }
    );
}

#[test]
fn minimum_calls_reached_by_a_success() {
    let (b, _, heard) = breaker(rate(0.5, SlidingWindow::Count(100), 4));
    for _ in 0..3 {
        fail(&b);
    }
    assert_eq!(b.state(), State::Closed, "3 calls, below the minimum");
    ok(&b); // 3 of 4: the success decides
    assert_eq!(b.state(), State::Open);
    assert_eq!(
        heard.lock().unwrap()[0],
        Reason::FailureRate {
            failures: 3,
            calls: 4
        }
    );
}

#[test]
fn successes_that_bring_the_rate_below_the_threshold_before_the_minimum_do_not_trip() {
    let (b, _, _) = breaker(rate(0.5, SlidingWindow::Count(100), 6));
    fail(&b);
    fail(&b);
    for _ in 0..4 {
        ok(&b);
    }
    assert_eq!(b.state(), State::Closed, "2 of 6 is below 0.5");
    assert_eq!(b.failure_rate(), Some(2.0 / 6.0));
}

#[test]
fn a_time_window_forgets_calls_older_than_its_period() {
    // Ten buckets of 1 s.
    let (b, clock, _) = breaker(rate(0.5, SlidingWindow::Time(Duration::from_secs(10)), 4));
    fail(&b);
    fail(&b);
    fail(&b);
    assert_eq!(b.state(), State::Closed, "3 calls, below the minimum");
    clock.advance(Duration::from_secs(10)); // their bucket is now 10 s old
    ok(&b);
    ok(&b);
    ok(&b);
    assert_eq!(
        b.failure_rate(),
        None,
        "3 calls in the window, the failures gone"
    );
    ok(&b);
    assert_eq!(b.failure_rate(), Some(0.0));
    assert_eq!(b.state(), State::Closed);
}

#[test]
fn a_time_window_covers_between_nine_and_ten_tenths_of_its_period() {
    // Ten buckets of 1 s; a rate of 1.0 never trips while a success is in the window.
    let (b, clock, _) = breaker(rate(1.0, SlidingWindow::Time(Duration::from_secs(10)), 1));
    let at = |ms: u64| clock.advance(Duration::from_millis(ms) - clock_now(&clock));
    at(500);
    ok(&b);
    fail(&b);
    at(9_900); // bucket 9
    ok(&b);
    assert_eq!(
        b.failure_rate(),
        Some(1.0 / 3.0),
        "a failure 9.4 s old is in"
    );
    at(10_100); // bucket 10: the window starts at 1 s, bucket 0 has left
    ok(&b);
    assert_eq!(b.failure_rate(), Some(0.0), "so has the failure 9.6 s old");
    fail(&b);
    at(19_950); // bucket 19: the window starts at 10 s
    ok(&b);
    assert_eq!(
        b.failure_rate(),
        Some(1.0 / 3.0),
        "the calls at 10.1 s, 9.85 s old, are in; the one at 9.9 s, 10.05 s old, is out"
    );
    at(20_050); // bucket 20: the window starts at 11 s, covering 9.05 s
    ok(&b);
    assert_eq!(
        b.failure_rate(),
        Some(0.0),
        "the calls at 10.1 s, 9.95 s old, have left"
    );
}

fn clock_now(clock: &ManualClock) -> Duration {
    use circuit_core::clock::Clock;
    clock.now()
}

#[test]
fn old_successes_leaving_a_time_window_raise_the_rate_and_the_next_call_decides() {
    let (b, clock, heard) = breaker(rate(0.5, SlidingWindow::Time(Duration::from_secs(10)), 2));
    for _ in 0..8 {
        ok(&b);
    }
    clock.advance(Duration::from_secs(5));
    fail(&b);
    fail(&b);
    assert_eq!(b.state(), State::Closed, "2 of 10");
    clock.advance(Duration::from_secs(6)); // the 8 successes are 11 s old
    ok(&b); // 2 failures in 3 calls: the success that finds the new bucket decides
    assert_eq!(b.state(), State::Open);
    assert_eq!(
        heard.lock().unwrap()[0],
        Reason::FailureRate {
            failures: 2,
            calls: 3
        }
    );
}

#[test]
fn ignored_outcomes_and_rejections_never_enter_the_window() {
    let (b, _, _) = breaker(rate(0.5, SlidingWindow::Count(4), 2));
    fail(&b);
    for _ in 0..5 {
        b.try_acquire().unwrap().ignore();
    }
    assert_eq!(
        b.failure_rate(),
        None,
        "one call: ignored outcomes are not calls"
    );
    ok(&b);
    assert_eq!(b.state(), State::Open, "1 of 2");
    assert!(b.call(|| Ok::<_, ()>(())).is_err());
    assert_eq!(
        b.failure_rate(),
        Some(0.5),
        "the rejection is not a call either"
    );
}

#[test]
fn reset_clears_the_window() {
    let (b, _, _) = breaker(rate(0.5, SlidingWindow::Count(10), 4));
    fail(&b);
    fail(&b);
    ok(&b);
    b.reset();
    assert_eq!(b.failure_rate(), None);
    ok(&b);
    ok(&b);
    fail(&b);
    ok(&b);
    assert_eq!(
        b.failure_rate(),
        Some(0.25),
        "only the calls since the reset"
    );
    assert_eq!(b.state(), State::Closed);
}

#[test]
fn a_closed_breaker_starts_a_fresh_window() {
    let (b, clock, _) = breaker(
        rate(0.5, SlidingWindow::Count(10), 2)
            .recovery_timeout(Duration::from_secs(1))
            .success_threshold(1),
    );
    fail(&b);
    fail(&b);
    assert_eq!(b.state(), State::Open);
    clock.advance(Duration::from_secs(1));
    ok(&b); // the trial closes it
    assert_eq!(b.state(), State::Closed);
    assert_eq!(b.failure_rate(), None, "the trial belongs to no window");
    ok(&b);
    fail(&b);
    assert_eq!(b.failure_rate(), Some(0.5));
}

#[test]
fn reconfiguring_to_another_window_starts_afresh_and_the_same_window_keeps_its_calls() {
    let (b, clock, _) = breaker(rate(0.9, SlidingWindow::Count(10), 4));
    fail(&b);
    fail(&b);
    ok(&b);
    ok(&b);
    assert_eq!(b.failure_rate(), Some(0.5));
    let same = rate(0.8, SlidingWindow::Count(10), 4).clock(clock.clone());
    b.reconfigure(same.build().unwrap());
    assert_eq!(b.failure_rate(), Some(0.5), "new threshold, same window");
    let other = rate(0.8, SlidingWindow::Count(20), 4).clock(clock.clone());
    b.reconfigure(other.build().unwrap());
    assert_eq!(b.failure_rate(), None, "another window starts empty");
}

#[test]
fn a_lowered_threshold_takes_effect_at_the_next_call() {
    let (b, clock, _) = breaker(rate(0.9, SlidingWindow::Count(10), 4));
    fail(&b);
    fail(&b);
    ok(&b);
    ok(&b);
    b.reconfigure(
        rate(0.5, SlidingWindow::Count(10), 4)
            .clock(clock.clone())
            .build()
            .unwrap(),
    );
    ok(&b); // 2 of 5 < 0.5
    assert_eq!(b.state(), State::Closed);
    fail(&b); // 3 of 6
    assert_eq!(b.state(), State::Open);
}

// Which rules trip a breaker.

#[test]
fn with_no_rate_setting_consecutive_failures_trip_as_before() {
    let (b, _, heard) = breaker(Config::builder());
    for _ in 0..5 {
        fail(&b);
    }
    assert_eq!(*heard.lock().unwrap(), [Reason::FailureThreshold(5)]);
    assert_eq!(b.failure_rate(), None, "no rate rule, no rate");
}

#[test]
fn a_rate_rule_replaces_the_consecutive_rule() {
    let (b, _, _) = breaker(rate(0.9, SlidingWindow::Count(100), 50));
    for _ in 0..20 {
        fail(&b);
    }
    assert_eq!(
        b.state(),
        State::Closed,
        "20 consecutive failures, below the minimum"
    );
    assert_eq!(
        b.snapshot().failure_count,
        20,
        "still counted, for the snapshot"
    );
}

#[test]
fn a_rate_rule_beside_an_explicit_failure_threshold_trips_on_either() {
    let both = || rate(0.5, SlidingWindow::Count(100), 10).failure_threshold(3);
    let (b, _, heard) = breaker(both());
    for _ in 0..3 {
        fail(&b);
    }
    assert_eq!(*heard.lock().unwrap(), [Reason::FailureThreshold(3)]);

    let (b, _, heard) = breaker(both());
    for i in 0..10 {
        if i % 2 == 0 {
            fail(&b);
        } else {
            ok(&b);
        }
    }
    assert_eq!(
        *heard.lock().unwrap(),
        [Reason::FailureRate {
            failures: 5,
            calls: 10
        }]
    );
}

#[test]
fn the_default_minimum_is_capped_at_a_count_windows_size() {
    let (b, _, _) = breaker(
        Config::builder()
            .failure_rate_threshold(0.5)
            .sliding_window(SlidingWindow::Count(4)),
    );
    fail(&b);
    fail(&b);
    ok(&b);
    assert_eq!(b.state(), State::Closed);
    ok(&b);
    assert_eq!(b.state(), State::Open, "2 of 4, the minimum being 4");
}

#[test]
fn a_stale_failure_moves_no_window() {
    let (b, _, _) = breaker(rate(0.5, SlidingWindow::Count(10), 1));
    let permit = b.try_acquire().unwrap();
    b.reset();
    permit.failure();
    assert_eq!(b.state(), State::Closed);
    assert_eq!(b.snapshot().failures, 1, "counted in the totals");
}

#[test]
fn a_success_at_the_very_boundary_opens_the_new_bucket() {
    // Buckets of 3 ms (a 30 ms window). A success at exactly 3 ms belongs to bucket 1, which
    // is still in the window 28 ms later; had it been counted in bucket 0 (a boundary seen a
    // few nanoseconds late), it would have left with bucket 0 and the failure would be alone
    // in the window, below the minimum of 2.
    let (b, clock, heard) = breaker(rate(0.5, SlidingWindow::Time(Duration::from_millis(30)), 2));
    ok(&b);
    clock.advance(Duration::from_millis(3));
    ok(&b);
    clock.advance(Duration::from_millis(28)); // 31 ms: bucket 10; the window starts at bucket 1
    fail(&b);
    assert_eq!(b.state(), State::Open, "1 failure in 2 calls");
    assert_eq!(
        heard.lock().unwrap()[0],
        Reason::FailureRate {
            failures: 1,
            calls: 2
        }
    );
}
