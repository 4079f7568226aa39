//! Listeners of a whole registry: they hear every breaker of it, made before or after they
//! were added, named or per key, and declared by the attribute in the process-wide registry.

use circuit_core::{circuit_breaker, registry, CircuitOpen, Config, KeyedLimits, Registry, State};
use std::sync::{Arc, Mutex};

type Heard = Arc<Mutex<Vec<(String, State)>>>;

fn listen(registry: &Registry) -> Heard {
    let heard: Heard = Arc::default();
    let h = heard.clone();
    registry.on_state_change(move |t| h.lock().unwrap().push((t.name.clone(), t.to)));
    heard
}

fn trips_at_once() -> Config {
    Config::builder().failure_threshold(1).build().unwrap()
}

fn heard(heard: &Heard) -> Vec<(String, State)> {
    heard.lock().unwrap().clone()
}

#[test]
fn breakers_made_before_and_after_the_listener_are_heard() {
    let registry = Registry::new();
    let before = registry.get_or_create("before", trips_at_once());
    let all = listen(&registry);
    let after = registry.get_or_create("after", trips_at_once());

    let _ = before.call(|| Err::<(), _>("refused"));
    let _ = after.call(|| Err::<(), _>("refused"));
    before.reset();

    assert_eq!(
        heard(&all),
        [
            ("before".to_owned(), State::Open),
            ("after".to_owned(), State::Open),
            ("before".to_owned(), State::Closed),
        ]
    );
}

#[test]
fn per_key_breakers_are_heard_and_other_registries_are_not() {
    let registry = Registry::new();
    let other = Registry::new();
    let all = listen(&registry);
    let none = listen(&other);

    let hosts = registry.keyed("hosts", trips_at_once(), KeyedLimits::default());
    let a = hosts.get("a.example").unwrap();
    let _ = a.call(|| Err::<(), _>("timeout"));
    // A set made outside any registry is heard by none.
    let loose = circuit_core::KeyedBreakers::new("loose", trips_at_once(), KeyedLimits::default());
    let _ = loose.get("b").unwrap().call(|| Err::<(), _>("timeout"));

    assert_eq!(heard(&all), [("hosts:a.example".to_owned(), State::Open)]);
    assert!(heard(&none).is_empty());
}

#[test]
fn the_registrys_listeners_come_first_and_a_panicking_listener_is_contained() {
    let registry = Registry::new();
    let order = Arc::new(Mutex::new(Vec::new()));
    let o = order.clone();
    registry.on_state_change(|_| panic!("a registry listener that panics"));
    registry.on_state_change(move |t| o.lock().unwrap().push(format!("registry {}", t.to)));
    let breaker = registry.get_or_create("db", trips_at_once());
    let o = order.clone();
    breaker.on_state_change(move |t| o.lock().unwrap().push(format!("own {}", t.to)));

    let _ = breaker.call(|| Err::<(), _>("refused"));
    breaker.reset();

    assert_eq!(
        *order.lock().unwrap(),
        ["registry open", "own open", "registry closed", "own closed"]
    );
    assert_eq!(breaker.state(), State::Closed);
}

#[derive(Debug)]
#[allow(dead_code)] // read through Debug
enum Error {
    Refused,
    Open(CircuitOpen),
}

impl From<CircuitOpen> for Error {
    fn from(open: CircuitOpen) -> Self {
        Error::Open(open)
    }
}

#[circuit_breaker(name = "registry-listeners-declared", failure_threshold = 1)]
fn declared() -> Result<(), Error> {
    Err(Error::Refused)
}

#[test]
fn declared_and_run_time_breakers_of_the_process_registry_are_heard() {
    // Declared by the attribute before the listener existed; made at run time after it.
    let all = listen(registry());
    let _ = declared();
    let made = registry().get_or_create("registry-listeners-made", trips_at_once());
    let _ = made.call(|| Err::<(), _>("refused"));

    let mine: Vec<_> = heard(&all)
        .into_iter()
        .filter(|(name, _)| name.starts_with("registry-listeners-"))
        .collect();
    assert_eq!(
        mine,
        [
            ("registry-listeners-declared".to_owned(), State::Open),
            ("registry-listeners-made".to_owned(), State::Open),
        ]
    );
}
