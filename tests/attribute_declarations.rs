//! Every breaker an attribute declares is in the registry from program start, and attributes
//! that give one name different settings resolve to one choice, the same on every run.
//!
//! Keep this file a test binary of its own: it tests the process-wide registry as the program
//! starts it, from the declarations linked into this binary. Nothing here calls a function
//! before the registry is read; tests of other files in the same process could call these
//! breakers first, `configure` them, or link in declarations of their own for the same names,
//! and the first-by-location rule would then be choosing among other files' attributes.

mod common;

use circuit_core::{circuit_breaker, registry, State};
use common::AppError;

#[circuit_breaker(name = "declared-never-called")]
fn never_called() -> Result<(), AppError> {
    Ok(())
}

#[circuit_breaker]
async fn never_called_async() -> Result<(), AppError> {
    Ok(())
}

#[allow(dead_code)] // declared and never called, on purpose
struct Repo;

impl Repo {
    #[circuit_breaker(name = "declared-method-never-called")]
    fn load(&self) -> Result<(), AppError> {
        Ok(())
    }
}

#[test]
fn every_declared_breaker_is_listed_before_its_first_call() {
    let names: Vec<String> = registry().snapshots().into_iter().map(|s| s.name).collect();
    for name in [
        "declared-never-called",
        "attribute_declarations::never_called_async",
        "declared-method-never-called",
    ] {
        assert!(
            names.iter().any(|n| n == name),
            "{name} missing from {names:?}"
        );
        assert_eq!(registry().state(name), Some(State::Closed));
    }
    let snapshot = registry().get("declared-never-called").unwrap().snapshot();
    assert_eq!(snapshot.successes + snapshot.failures, 0, "it never ran");
}

// Three attributes for one name: the first gives no settings, so the next one by source
// location decides, and the third's literals are not used.

#[circuit_breaker(name = "declared-conflict")]
fn conflict_bare() -> Result<(), AppError> {
    Ok(())
}

#[circuit_breaker(
    name = "declared-conflict",
    failure_threshold = 2,
    recovery_timeout = "5s"
)]
fn conflict_first_with_settings() -> Result<(), AppError> {
    Ok(())
}

#[circuit_breaker(name = "declared-conflict", failure_threshold = 9)]
fn conflict_later() -> Result<(), AppError> {
    Err(AppError::Down)
}

#[test]
fn the_first_attribute_by_location_that_gives_settings_decides_for_the_name() {
    let config = registry().get("declared-conflict").unwrap().config();
    assert_eq!(config.failure_threshold(), 2);
    assert_eq!(config.recovery_timeout(), std::time::Duration::from_secs(5));
    // Every function of the name has that one breaker, the later one included.
    assert!(std::sync::Arc::ptr_eq(
        conflict_bare::breaker(),
        conflict_later::breaker()
    ));
    let _ = conflict_later();
    let _ = conflict_later();
    assert_eq!(conflict_first_with_settings::breaker().state(), State::Open);
}

// A breaker per key: the set is made at start-up too, and of two keyed attributes of one name
// the first by location that gives settings configures it, whichever function runs first.

impl From<circuit_core::KeyError> for AppError {
    fn from(_: circuit_core::KeyError) -> Self {
        AppError::Down
    }
}

#[circuit_breaker(name = "declared-keyed", key = host, failure_threshold = 2, max_keys = 50)]
fn keyed_first(host: &str) -> Result<(), AppError> {
    Ok(())
}

#[circuit_breaker(name = "declared-keyed", key = host, failure_threshold = 7)]
fn keyed_later(host: &str) -> Result<(), AppError> {
    Err(AppError::Down)
}

#[test]
fn a_keyed_set_is_made_at_start_up_by_its_first_attribute() {
    let set = registry()
        .keyed_set("declared-keyed")
        .expect("made before any call");
    assert!(set.is_empty(), "no key was called");
    assert_eq!(set.template().failure_threshold(), 2);
    assert_eq!(set.limits().max_breakers(), 50);
    assert!(std::sync::Arc::ptr_eq(keyed_later::breakers(), &set));
    // The later function's calls go through breakers of the first one's settings.
    let _ = keyed_later("h");
    let _ = keyed_later("h");
    assert_eq!(set.peek("h").unwrap().state(), State::Open);
    assert_eq!(keyed_first("h"), Err(AppError::Rejected(State::Open)));
    // Not a named breaker: the registry's reports list none of it.
    assert!(registry().get("declared-keyed").is_none());
}
