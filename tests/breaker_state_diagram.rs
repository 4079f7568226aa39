//! The design's state diagram: Closed -(5 failures)-> Open -(60 s)-> HalfOpen, then
//! success after success to Closed, or one failure back to Open.

mod common;
use circuit_core::State;
use common::*;

#[test]
fn closed_five_failures_open_sixty_seconds_half_open_successes_closed() {
    let (b, clock) = breaker();
    let seen = record_transitions(&b);
    for _ in 0..5 {
        let _ = fail(&b);
    }
    assert_eq!(b.state(), State::Open);
    clock.advance(secs(60));
    assert_eq!(b.state(), State::HalfOpen);
    for expected in [State::HalfOpen, State::HalfOpen, State::Closed] {
        assert_eq!(succeed(&b).unwrap(), 1);
        assert_eq!(b.state(), expected);
    }
    assert_eq!(
        moves(&seen),
        [
            (State::Closed, State::Open),
            (State::Open, State::HalfOpen),
            (State::HalfOpen, State::Closed)
        ]
    );
}

#[test]
fn closed_five_failures_open_sixty_seconds_half_open_one_failure_open_again() {
    let (b, clock) = breaker();
    for _ in 0..5 {
        let _ = fail(&b);
    }
    clock.advance(secs(60));
    let _ = succeed(&b);
    let _ = fail(&b);
    assert_eq!(b.state(), State::Open);
    clock.advance(secs(59));
    assert_eq!(b.state(), State::Open);
    clock.advance(secs(1));
    assert_eq!(b.state(), State::HalfOpen);
}
