//! Administration by name on the registry, as an admin endpoint would use it.

use circuit_core::{Registry, State, Transition};
use std::sync::{Arc, Mutex};

fn registry_with_payments() -> (Registry, Arc<Mutex<Vec<Transition>>>) {
    let registry = Registry::new();
    let payments = registry.get_or_create("payments", Default::default());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    payments.on_state_change(move |t| s.lock().unwrap().push(t.clone()));
    (registry, seen)
}

#[test]
fn force_open_disable_and_reset_by_name() {
    let (registry, seen) = registry_with_payments();
    registry.force_open("payments").unwrap();
    assert_eq!(registry.state("payments"), Some(State::ForcedOpen));
    registry.disable("payments").unwrap();
    assert_eq!(registry.state("payments"), Some(State::Disabled));
    registry.reset("payments").unwrap();
    assert_eq!(registry.state("payments"), Some(State::Closed));
    let reasons: Vec<String> = seen.lock().unwrap().iter().map(|t| t.to_string()).collect();
    assert_eq!(
        reasons,
        [
            "payments: closed -> forced_open by force_open",
            "payments: forced_open -> disabled by disable",
            "payments: disabled -> closed by reset",
        ]
    );
}

#[test]
fn an_unknown_name_is_a_clear_error_and_changes_nothing() {
    let (registry, seen) = registry_with_payments();
    for op in [Registry::force_open, Registry::disable, Registry::reset] {
        let err = op(&registry, "paymnets").unwrap_err();
        assert_eq!(err.name(), "paymnets");
        assert_eq!(err.to_string(), "no circuit breaker is named \"paymnets\"");
    }
    assert_eq!(registry.names(), ["payments"], "no breaker was created");
    assert_eq!(registry.state("payments"), Some(State::Closed));
    assert!(seen.lock().unwrap().is_empty());
}
