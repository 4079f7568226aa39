//! Per-key breakers: made from a template on first use, one per key, bounded in number with the
//! idlest evicted, dropped when idle on the template's clock, empty keys refused, names freed.

use circuit_core::clock::ManualClock;
use circuit_core::{CircuitError, Config, KeyError, KeyedBreakers, KeyedLimits, Registry, State};
use std::sync::Arc;
use std::time::Duration;

fn set(max: usize, idle_secs: u64) -> (KeyedBreakers, ManualClock) {
    let clock = ManualClock::new();
    let template = Config::builder()
        .failure_threshold(1)
        .clock(clock.clone())
        .build()
        .unwrap();
    let limits = KeyedLimits::new(max, Duration::from_secs(idle_secs));
    (KeyedBreakers::new("hosts", template, limits), clock)
}

fn trip(b: &circuit_core::CircuitBreaker) {
    let _: Result<(), CircuitError<()>> = b.call(|| Err(()));
}

#[test]
fn one_breaker_per_key_from_the_template() {
    let (hosts, _) = set(10, 60);
    let a = hosts.get("a.example").unwrap();
    assert!(Arc::ptr_eq(&a, &hosts.get("a.example").unwrap()));
    assert_eq!(a.name(), "hosts:a.example");
    assert_eq!(a.config().failure_threshold(), 1);
    trip(&a);
    assert_eq!(hosts.get("a.example").unwrap().state(), State::Open);
    assert_eq!(hosts.get("b.example").unwrap().state(), State::Closed);
    assert_eq!(hosts.len(), 2);
    let names: Vec<String> = hosts.snapshots().into_iter().map(|s| s.name).collect();
    assert_eq!(names, ["hosts:a.example", "hosts:b.example"]);
}

#[test]
fn an_empty_key_is_refused_with_a_message() {
    let (hosts, _) = set(10, 60);
    let err = hosts.get("").unwrap_err();
    assert_eq!(
        err,
        KeyError::Empty {
            set: "hosts".into()
        }
    );
    let message = err.to_string();
    assert!(
        message.contains("empty key") && message.contains("\"hosts\""),
        "{message}"
    );
    assert!(hosts.is_empty());
    // Counted, since no breaker counts a call that went through none.
    assert_eq!(hosts.refused_keys(), 1);
    hosts.get("").unwrap_err();
    hosts.get("a.example").unwrap();
    assert_eq!(hosts.refused_keys(), 2);
}

#[test]
fn at_the_bound_the_idlest_breaker_is_evicted() {
    let (hosts, clock) = set(3, 3600);
    for key in ["a", "b", "c"] {
        hosts.get(key).unwrap();
        clock.advance(Duration::from_secs(1));
    }
    // "a" is used again, so "b" is now the idlest.
    trip(&hosts.get("a").unwrap());
    clock.advance(Duration::from_secs(1));
    hosts.get("d").unwrap();
    assert_eq!(hosts.len(), 3);
    assert!(hosts.peek("b").is_none(), "the idlest went");
    assert!(hosts.peek("c").is_some() && hosts.peek("d").is_some());
    assert_eq!(
        hosts.peek("a").unwrap().state(),
        State::Open,
        "kept with its state"
    );
}

#[test]
fn a_large_set_evicts_a_sixteenth_at_once_and_never_exceeds_its_bound() {
    let (hosts, clock) = set(64, 3600);
    for i in 0..64 {
        hosts.get(&format!("k{i}")).unwrap();
        clock.advance(Duration::from_millis(1));
    }
    hosts.get("new").unwrap();
    // 4 of the oldest went (64 / 16), so the next 3 new keys evict nothing more.
    assert_eq!(hosts.len(), 61);
    assert!((0..4).all(|i| hosts.peek(&format!("k{i}")).is_none()));
    assert!(hosts.peek("k4").is_some());
    for i in 0..1000 {
        hosts.get(&format!("flood{i}")).unwrap();
        assert!(hosts.len() <= 64);
    }
}

#[test]
fn idle_breakers_are_dropped_after_the_idle_time_on_the_templates_clock() {
    let (hosts, clock) = set(100, 60);
    let kept = hosts.get("busy").unwrap();
    hosts.get("quiet").unwrap();
    clock.advance(Duration::from_secs(59));
    hosts.get("busy").unwrap();
    assert_eq!(hosts.sweep(), 0, "nothing idle for 60 s yet");
    clock.advance(Duration::from_secs(1));
    assert_eq!(hosts.sweep(), 1);
    assert!(hosts.peek("quiet").is_none() && hosts.peek("busy").is_some());
    // Lookups sweep on their own, a quarter of the idle time after the last sweep.
    clock.advance(Duration::from_secs(61));
    hosts.get("other").unwrap();
    assert!(hosts.peek("busy").is_none());
    // A caller holding a dropped breaker keeps using it; the key gets a new one.
    trip(&kept);
    assert_eq!(kept.state(), State::Open);
    assert_eq!(hosts.get("busy").unwrap().state(), State::Closed);
}

#[test]
fn a_dropped_breakers_rejection_keeps_its_name_readable() {
    let (hosts, clock) = set(1, 60);
    let b = hosts.get("gone").unwrap();
    trip(&b);
    let open = b.call(|| Ok::<_, ()>(())).unwrap_err();
    drop(b);
    clock.advance(Duration::from_secs(1));
    hosts.get("evicts-gone").unwrap();
    assert!(hosts.peek("gone").is_none());
    let CircuitError::Open(open) = open else {
        panic!("rejected")
    };
    let copy = open.clone();
    drop(open);
    assert_eq!(copy.name(), "hosts:gone");
    assert_eq!(
        copy.to_string(),
        "circuit breaker \"hosts:gone\" is open; retry in 60.000s"
    );
    assert_eq!(std::mem::size_of_val(&copy), 16);
}

#[test]
fn the_registry_shares_one_set_per_name_outside_its_named_breakers() {
    let r = Registry::new();
    let a = r.keyed("tenants", Config::default(), KeyedLimits::default());
    let b = r.keyed(
        "tenants",
        Config::default(),
        KeyedLimits::new(1, Duration::ZERO),
    );
    assert!(Arc::ptr_eq(&a, &b));
    assert_eq!(b.limits(), KeyedLimits::default());
    b.get("t1").unwrap();
    assert!(r.names().is_empty() && r.snapshots().is_empty());
    assert_eq!(KeyedLimits::new(0, Duration::ZERO).max_breakers(), 1);
}

#[test]
fn reconfigure_replaces_the_template_and_reconfigures_live_breakers_keeping_their_state() {
    let (hosts, clock) = set(10, 60);
    let open = hosts.get("open").unwrap();
    trip(&open);
    let closed = hosts.get("closed").unwrap();
    let template = Config::builder()
        .failure_threshold(4)
        .clock(clock.clone())
        .build()
        .unwrap();
    hosts.reconfigure(template);
    assert_eq!(hosts.template().failure_threshold(), 4);
    assert_eq!(closed.config().failure_threshold(), 4);
    assert_eq!(open.state(), State::Open, "the state is kept");
    assert_eq!(
        hosts.get("new").unwrap().config().failure_threshold(),
        4,
        "breakers made from now on take the new template"
    );
    trip(&closed);
    assert_eq!(closed.state(), State::Closed, "one failure of four");
}

#[test]
fn a_template_with_another_clock_measures_idle_times_on_it_from_now() {
    let (hosts, old_clock) = set(10, 60);
    hosts.get("a").unwrap();
    old_clock.advance(Duration::from_secs(59));
    let new_clock = ManualClock::new();
    let template = Config::builder()
        .failure_threshold(1)
        .clock(new_clock.clone())
        .build()
        .unwrap();
    hosts.reconfigure(template);
    old_clock.advance(Duration::from_secs(3600));
    assert_eq!(hosts.sweep(), 0, "the old clock no longer counts");
    new_clock.advance(Duration::from_secs(59));
    assert_eq!(
        hosts.sweep(),
        0,
        "idle from the swap, not from the last lookup"
    );
    new_clock.advance(Duration::from_secs(1));
    assert_eq!(hosts.sweep(), 1);
}

#[test]
fn configure_by_name_reaches_a_set_made_before_or_after_it() {
    let r = Registry::new();
    let one = || Config::builder().failure_threshold(1).build().unwrap();
    // Before: the configuration wins over the template the set is made with.
    r.configure("early", one());
    let early = r.keyed("early", Config::default(), KeyedLimits::default());
    assert_eq!(early.template().failure_threshold(), 1);
    // After: the set and its live breakers are reconfigured.
    let late = r.keyed("late", Config::default(), KeyedLimits::default());
    let live = late.get("k").unwrap();
    r.configure("late", one());
    assert_eq!(late.template().failure_threshold(), 1);
    assert_eq!(live.config().failure_threshold(), 1);
    assert!(Arc::ptr_eq(&r.keyed_set("late").unwrap(), &late));
    assert!(r.keyed_set("never").is_none());
    assert!(r.names().is_empty(), "no named breaker was made");
}
