//! Looking breakers up by name on every call: the borrowed lookups find the registry's one
//! breaker per name, create it once, and stay right while other threads create more.

use circuit_core::{CircuitError, Config, Registry, State};
use std::sync::Arc;

#[test]
fn lookup_lends_the_breaker_that_get_or_create_made() {
    let r = Registry::new();
    assert!(r.lookup("users").is_none());
    let held = r.get_or_create("users", Config::default());
    let lent = r.lookup("users").expect("created");
    assert!(std::ptr::eq(lent, &*held));
    assert!(r.lookup("user").is_none() && r.lookup("users ").is_none());
}

#[test]
fn lookup_or_create_builds_the_configuration_only_when_it_creates() {
    let r = Registry::new();
    let mut built = 0;
    for _ in 0..3 {
        let b = r.lookup_or_create("orders", || {
            built += 1;
            Config::builder().failure_threshold(1).build().unwrap()
        });
        let _: Result<(), CircuitError<()>> = b.call(|| Err(()));
    }
    assert_eq!(built, 1);
    assert_eq!(r.state("orders"), Some(State::Open));
    assert!(Arc::ptr_eq(
        &r.get("orders").unwrap(),
        &r.get_or_create("orders", Config::default())
    ));
}

#[test]
fn lookup_or_create_takes_a_configuration_given_earlier() {
    let r = Registry::new();
    r.configure(
        "payments",
        Config::builder().failure_threshold(2).build().unwrap(),
    );
    let b = r.lookup_or_create("payments", Config::default);
    assert_eq!(b.config().failure_threshold(), 2);
}

#[test]
fn every_breaker_stays_found_while_the_table_grows() {
    let r = Registry::new();
    // Enough names to grow the table several times over.
    let names: Vec<String> = (0..5_000).map(|i| format!("svc-{i}")).collect();
    let first: Vec<*const _> = names
        .iter()
        .map(|n| r.lookup_or_create(n, Config::default) as *const _)
        .collect();
    for (name, &b) in names.iter().zip(&first) {
        assert!(std::ptr::eq(r.lookup(name).unwrap(), b), "{name}");
    }
    assert_eq!(r.names().len(), names.len());
    assert_eq!(r.all().len(), names.len());
}

#[test]
fn threads_creating_and_looking_up_at_once_agree_on_one_breaker_per_name() {
    let r = Registry::new();
    let found: Vec<Vec<usize>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    (0..2_000)
                        .map(|i| {
                            let b = r.lookup_or_create(&format!("n-{i}"), Config::default);
                            assert_eq!(b.name(), format!("n-{i}"));
                            b as *const _ as usize
                        })
                        .collect()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(found.windows(2).all(|w| w[0] == w[1]));
    assert_eq!(r.names().len(), 2_000);
}
