//! Listeners: every transition once, in order, outside every lock; panics harm nothing.

mod common;
use circuit_core::{Config, Reason, State};
use common::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

#[test]
fn listeners_hear_every_transition_in_order_with_its_reason() {
    let (b, clock) = breaker_with(Config::builder().failure_threshold(2).success_threshold(1));
    let seen = record_transitions(&b);
    let _ = fail(&b);
    let _ = fail(&b);
    clock.advance(secs(60));
    let _ = fail(&b);
    clock.advance(secs(60));
    let _ = succeed(&b);
    let seen = seen.lock().unwrap();
    let got: Vec<_> = seen.iter().map(|t| (t.from, t.to, t.reason)).collect();
    assert_eq!(
        got,
        [
            (State::Closed, State::Open, Reason::FailureThreshold(2)),
            (State::Open, State::HalfOpen, Reason::RecoveryTimeout),
            (State::HalfOpen, State::Open, Reason::TrialFailed),
            (State::Open, State::HalfOpen, Reason::RecoveryTimeout),
            (State::HalfOpen, State::Closed, Reason::TrialsSucceeded(1)),
        ]
    );
    assert!(seen.iter().all(|t| t.name == "test"));
    assert_eq!(
        seen[0].to_string(),
        "test: closed -> open after 2 consecutive failures"
    );
}

#[test]
fn a_listener_may_read_and_change_the_breaker() {
    let (b, _clock) = breaker_with(Config::builder().failure_threshold(1));
    let b = Arc::new(b);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (weak, s) = (Arc::downgrade(&b), seen.clone());
    b.on_state_change(move |t| {
        let b = weak.upgrade().unwrap();
        // Reading the breaker from inside a listener must not deadlock.
        s.lock()
            .unwrap()
            .push((t.to, b.state(), b.snapshot().failures));
        if t.to == State::Open {
            b.reset(); // a transition from inside a listener is delivered after this one
        }
    });
    let _ = fail(&b);
    assert_eq!(
        *seen.lock().unwrap(),
        [
            (State::Open, State::Open, 1),
            (State::Closed, State::Closed, 1)
        ]
    );
}

#[test]
fn a_panicking_listener_harms_neither_the_breaker_nor_other_listeners() {
    let (b, _clock) = breaker_with(Config::builder().failure_threshold(1));
    b.on_state_change(|_| panic!("listener bug"));
    let count = Arc::new(AtomicUsize::new(0));
    let c = count.clone();
    b.on_state_change(move |_| {
        c.fetch_add(1, Ordering::SeqCst);
    });
    let _ = fail(&b);
    assert_eq!(b.state(), State::Open);
    b.reset();
    assert_eq!(count.load(Ordering::SeqCst), 2);
    assert_eq!(succeed(&b).unwrap(), 1);
}

#[test]
fn a_listener_may_register_another_listener() {
    let (b, _clock) = breaker_with(Config::builder().failure_threshold(1));
    let b = Arc::new(b);
    let weak = Arc::downgrade(&b);
    let later = Arc::new(AtomicUsize::new(0));
    let l = later.clone();
    b.on_state_change(move |_| {
        let l = l.clone();
        weak.upgrade().unwrap().on_state_change(move |_| {
            l.fetch_add(1, Ordering::SeqCst);
        });
    });
    let _ = fail(&b);
    b.reset();
    assert_eq!(
        later.load(Ordering::SeqCst),
        1,
        "registered during the first, hears the second"
    );
}

#[test]
fn the_open_to_half_open_transition_is_announced_once_however_many_callers_race() {
    let (b, clock) = breaker_with(
        Config::builder()
            .failure_threshold(1)
            .half_open_max_calls(3)
            .success_threshold(3),
    );
    let b = Arc::new(b);
    let seen = record_transitions(&b);
    let _ = fail(&b);
    clock.advance(secs(60));
    let admitted = Arc::new(AtomicUsize::new(0));
    std::thread::scope(|s| {
        for _ in 0..8 {
            let (b, admitted) = (b.clone(), admitted.clone());
            s.spawn(move || {
                if let Ok(p) = b.try_acquire() {
                    admitted.fetch_add(1, Ordering::SeqCst);
                    std::mem::forget(p); // hold the slot for the rest of the test
                }
                let _ = b.state();
            });
        }
    });
    assert_eq!(
        admitted.load(Ordering::SeqCst),
        3,
        "exactly half_open_max_calls slots"
    );
    assert_eq!(
        moves(&seen),
        [(State::Closed, State::Open), (State::Open, State::HalfOpen)]
    );
}
