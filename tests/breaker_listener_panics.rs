//! A listener's panic stays in the listener, even when its payload's own `Drop` panics.
//!
//! Regression: a listener that panicked with a payload whose `Drop` panicked sent that second
//! panic into the caller's `call()`, and the breaker's listeners and tracing heard no later
//! transition (the delivery was left marked as in progress).
//!
//! Every test here runs under a subscriber of its own: `tracing` caches, process-wide, whether
//! anyone listens at each event, and a test thread without a subscriber reaching the transition
//! event first would cache "nobody" and hide the events the other test counts.

mod common;
use circuit_core::{Config, State, Transition};
use common::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tracing::span;
use tracing::{Event, Metadata, Subscriber};

/// A panic payload that panics again when dropped.
struct PanicsOnDrop;

impl Drop for PanicsOnDrop {
    fn drop(&mut self) {
        panic!("the payload's own Drop panics");
    }
}

/// Counts `tracing` events: enough to see that transitions still reach tracing.
#[derive(Clone, Default)]
struct Counter(Arc<AtomicUsize>);

impl Subscriber for Counter {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &span::Attributes<'_>) -> span::Id {
        span::Id::from_u64(1)
    }
    fn record(&self, _: &span::Id, _: &span::Record<'_>) {}
    fn record_follows_from(&self, _: &span::Id, _: &span::Id) {}
    fn event(&self, _: &Event<'_>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
    fn enter(&self, _: &span::Id) {}
    fn exit(&self, _: &span::Id) {}
}

#[test]
fn a_listener_panicking_with_a_payload_that_panics_on_drop_is_contained() {
    let events = Counter::default();
    tracing::subscriber::with_default(events.clone(), || {
        let (b, clock) = breaker_with(Config::builder().failure_threshold(1));
        let first_only = Mutex::new(true);
        b.on_state_change(move |_| {
            if std::mem::take(&mut *first_only.lock().unwrap()) {
                std::panic::panic_any(PanicsOnDrop);
            }
        });
        let seen: Arc<Mutex<Vec<Transition>>> = record_transitions(&b);

        // The trip's listener panics twice over; the caller gets its own error, no panic.
        assert!(fail(&b).is_err());
        assert_eq!(b.state(), State::Open);

        clock.advance(secs(60));
        assert!(matches!(succeed(&b), Ok(1)));
        assert!(matches!(succeed(&b), Ok(1)));
        assert!(matches!(succeed(&b), Ok(1)));
        assert_eq!(b.state(), State::Closed);
        assert_eq!(
            moves(&seen),
            [
                (State::Closed, State::Open),
                (State::Open, State::HalfOpen),
                (State::HalfOpen, State::Closed)
            ],
            "later transitions still reach the listeners"
        );
        assert_eq!(events.0.load(Ordering::SeqCst), 3, "and tracing, once each");
    });
}

#[test]
fn a_listener_panicking_in_every_call_never_reaches_the_caller() {
    tracing::subscriber::with_default(Counter::default(), || {
        let (b, clock) = breaker_with(Config::builder().failure_threshold(1));
        b.on_state_change(|_| std::panic::panic_any(PanicsOnDrop));
        let seen = record_transitions(&b);
        for _ in 0..3 {
            assert!(fail(&b).is_err());
            clock.advance(secs(60));
            assert_eq!(b.state(), State::HalfOpen);
        }
        assert_eq!(seen.lock().unwrap().len(), 6);
    });
}
