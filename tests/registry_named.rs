//! The registry: one breaker per name, configuration that wins, snapshots of all.

mod common;
use circuit_core::clock::ManualClock;
use circuit_core::{registry, Config, Registry, State};
use std::sync::Arc;

#[test]
fn one_breaker_per_name() {
    let r = Registry::new();
    let a = r.get_or_create("svc", Config::default());
    let b = r.get_or_create(
        "svc",
        Config::builder().failure_threshold(1).build().unwrap(),
    );
    assert!(Arc::ptr_eq(&a, &b));
    assert_eq!(
        b.config().failure_threshold(),
        5,
        "the first configuration stays"
    );
    assert_eq!(r.state("svc"), Some(State::Closed));
    assert_eq!(r.state("missing"), None);
    assert!(r.get("missing").is_none());
}

#[test]
fn configure_applies_to_a_breaker_created_later() {
    let r = Registry::new();
    r.configure(
        "later",
        Config::builder().failure_threshold(1).build().unwrap(),
    );
    let b = r.get_or_create("later", Config::default());
    assert_eq!(b.config().failure_threshold(), 1);
    let _ = b.call(|| Err::<(), _>(()));
    assert_eq!(r.state("later"), Some(State::Open));
}

#[test]
fn configure_applies_to_a_live_breaker() {
    let r = Registry::new();
    let b = r.get_or_create("live", Config::default());
    let _ = b.call(|| Err::<(), _>(()));
    r.configure(
        "live",
        Config::builder().failure_threshold(2).build().unwrap(),
    );
    let _ = b.call(|| Err::<(), _>(()));
    assert_eq!(
        b.state(),
        State::Open,
        "the new threshold applies to the count so far"
    );
}

#[test]
fn configuring_a_new_clock_while_open_restarts_the_open_period_on_it() {
    let r = Registry::new();
    let b = r.get_or_create(
        "clock-swap",
        Config::builder().failure_threshold(1).build().unwrap(),
    );
    let _ = b.call(|| Err::<(), _>(()));
    let clock = ManualClock::new();
    r.configure(
        "clock-swap",
        Config::builder()
            .failure_threshold(1)
            .clock(clock.clone())
            .build()
            .unwrap(),
    );
    assert_eq!(b.state(), State::Open);
    clock.advance(std::time::Duration::from_secs(60));
    assert_eq!(b.state(), State::HalfOpen);
}

#[test]
fn snapshots_list_every_breaker_by_name() {
    let r = Registry::new();
    r.get_or_create("b", Config::default());
    r.get_or_create("a", Config::default());
    let names: Vec<_> = r.snapshots().into_iter().map(|s| s.name).collect();
    assert_eq!(names, ["a", "b"]);
    assert_eq!(r.names(), ["a", "b"]);
}

#[test]
fn the_process_wide_registry_is_one_instance() {
    let a = registry().get_or_create("process-wide", Config::default());
    let b = registry().get("process-wide").unwrap();
    assert!(Arc::ptr_eq(&a, &b));
    assert!(std::ptr::eq(registry(), registry()));
}
