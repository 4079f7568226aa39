//! Feature `tracing`: one event per transition, at a level that says what it means, and
//! nothing per call.
//!
//! Keep this file a test binary of its own: `tracing` caches, for the whole process, whether
//! anyone listens at each event's call site, decided by the first thread to reach it. Every
//! test here installs its recording subscriber first; in a binary shared with tests that make
//! breakers change state without a subscriber, one of those could reach circuit-core's
//! transition event first, cache "nobody listens", and the recorder here would miss events.

mod common;
use circuit_core::clock::ManualClock;
use circuit_core::{CircuitBreaker, Config};
use common::*;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use tracing::field::{Field, Visit};
use tracing::{span, Event, Level, Metadata, Subscriber};

/// One event as the subscriber saw it: level and fields, the message included.
#[derive(Debug, Clone)]
struct Seen {
    level: Level,
    target: String,
    fields: BTreeMap<String, String>,
}

/// A subscriber that keeps every event: enough to test what we emit without pulling in
/// `tracing-subscriber`.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<Seen>>>);

struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
}

impl Subscriber for Recorder {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &span::Attributes<'_>) -> span::Id {
        span::Id::from_u64(1)
    }
    fn record(&self, _: &span::Id, _: &span::Record<'_>) {}
    fn record_follows_from(&self, _: &span::Id, _: &span::Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut fields = BTreeMap::new();
        event.record(&mut Fields(&mut fields));
        self.0.lock().unwrap().push(Seen {
            level: *event.metadata().level(),
            target: event.metadata().target().to_owned(),
            fields,
        });
    }
    fn enter(&self, _: &span::Id) {}
    fn exit(&self, _: &span::Id) {}
}

/// Runs `f` with a recorder as the thread's subscriber and returns what it recorded.
fn recorded(f: impl FnOnce()) -> Vec<Seen> {
    let recorder = Recorder::default();
    tracing::subscriber::with_default(recorder.clone(), f);
    let seen = recorder.0.lock().unwrap().clone();
    seen
}

fn user_service() -> (CircuitBreaker, ManualClock) {
    let clock = ManualClock::new();
    let config = Config::builder()
        .failure_threshold(3)
        .success_threshold(1)
        .clock(clock.clone())
        .build()
        .unwrap();
    (CircuitBreaker::new("user-service", config), clock)
}

#[test]
fn opening_is_one_warning_with_name_from_to_and_why() {
    let (b, _clock) = user_service();
    let seen = recorded(|| {
        for _ in 0..3 {
            let _ = fail(&b);
        }
    });
    assert_eq!(seen.len(), 1, "{seen:?}");
    let e = &seen[0];
    assert_eq!(e.level, Level::WARN);
    assert!(e.target.starts_with("circuit_core"), "{}", e.target);
    assert_eq!(
        e.fields["message"],
        "user-service: closed -> open after 3 consecutive failures"
    );
    assert_eq!(e.fields["breaker"], "user-service");
    assert_eq!(e.fields["from"], "closed");
    assert_eq!(e.fields["to"], "open");
    assert_eq!(e.fields["reason"], "after 3 consecutive failures");
}

#[test]
fn each_transition_has_its_level() {
    let (b, clock) = user_service();
    let seen = recorded(|| {
        for _ in 0..3 {
            let _ = fail(&b);
        }
        clock.advance(secs(60));
        let _ = fail(&b); // trial fails: half-open, then open again
        clock.advance(secs(60));
        let _ = succeed(&b); // trial succeeds: half-open, then closed
        b.force_open();
        b.disable();
        b.reset();
    });
    let levels: Vec<(String, Level)> = seen
        .iter()
        .map(|e| (e.fields["message"].clone(), e.level))
        .collect();
    let expected = [
        (
            "user-service: closed -> open after 3 consecutive failures",
            Level::WARN,
        ),
        (
            "user-service: open -> half_open after the recovery timeout",
            Level::INFO,
        ),
        (
            "user-service: half_open -> open after a trial call failed",
            Level::WARN,
        ),
        (
            "user-service: open -> half_open after the recovery timeout",
            Level::INFO,
        ),
        (
            "user-service: half_open -> closed after a successful trial call",
            Level::INFO,
        ),
        (
            "user-service: closed -> forced_open by force_open",
            Level::WARN,
        ),
        (
            "user-service: forced_open -> disabled by disable",
            Level::WARN,
        ),
        ("user-service: disabled -> closed by reset", Level::INFO),
    ];
    let expected: Vec<(String, Level)> =
        expected.iter().map(|(m, l)| (m.to_string(), *l)).collect();
    assert_eq!(levels, expected);
}

#[test]
fn calls_that_change_no_state_log_nothing() {
    let (b, _clock) = user_service();
    let seen = recorded(|| {
        for _ in 0..100 {
            let _ = succeed(&b);
        }
        let _ = fail(&b);
        let _ = fail(&b); // two failures: below the threshold
        let _ = succeed(&b);
        b.reset(); // a reset of a Closed breaker changes no state
    });
    assert!(seen.is_empty(), "{seen:?}");

    let (b, _clock) = user_service();
    for _ in 0..3 {
        let _ = fail(&b);
    }
    let seen = recorded(|| {
        for _ in 0..100 {
            assert!(succeed(&b).is_err(), "rejected while open");
        }
    });
    assert!(seen.is_empty(), "rejections log nothing: {seen:?}");
}
