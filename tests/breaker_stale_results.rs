//! Results that come back after the breaker changed state are counted but move no state.

mod common;
use circuit_core::{Config, State};
use common::*;

#[test]
fn a_failure_admitted_before_a_trip_does_not_extend_the_open_period() {
    let (b, clock) = breaker_with(
        Config::builder()
            .failure_threshold(1)
            .half_open_max_calls(1)
            .success_threshold(1),
    );
    let slow = b.try_acquire().unwrap(); // admitted while Closed
    let _ = fail(&b); // trips
    clock.advance(secs(60));
    assert_eq!(b.state(), State::HalfOpen);
    slow.failure(); // comes back late
    assert_eq!(
        b.state(),
        State::HalfOpen,
        "a stale failure must not re-open the breaker"
    );
    assert_eq!(b.snapshot().failures, 2, "but it is counted");
}

#[test]
fn a_success_admitted_in_an_earlier_half_open_does_not_close_a_later_one() {
    let (b, clock) = breaker_with(
        Config::builder()
            .failure_threshold(1)
            .half_open_max_calls(2)
            .success_threshold(1),
    );
    let _ = fail(&b);
    clock.advance(secs(60));
    let early = b.try_acquire().unwrap(); // trial of the first HalfOpen
    let _ = fail(&b); // re-opens
    clock.advance(secs(60));
    assert_eq!(b.state(), State::HalfOpen);
    early.success();
    assert_eq!(
        b.state(),
        State::HalfOpen,
        "a stale success must not close the breaker"
    );
    assert_eq!(b.snapshot().successes, 1);
}

#[test]
fn results_in_flight_across_a_reset_move_nothing() {
    let (b, _clock) = breaker_with(Config::builder().failure_threshold(2));
    let in_flight = b.try_acquire().unwrap();
    let _ = fail(&b);
    b.reset();
    in_flight.failure();
    assert_eq!(b.snapshot().failure_count, 0);
    let _ = fail(&b);
    assert_eq!(
        b.state(),
        State::Closed,
        "one fresh failure is below the threshold of 2"
    );
}
