//! The fleet across separate processes: several `fleet_instance` processes share the breaker
//! `dependency` through a real Redis (`redis-server` on 127.0.0.1, started and stopped by the
//! test) and call a dependency the test controls. One trips and the others open once the
//! quorum is reached; one trial call per recovery reaches the dependency for the whole fleet;
//! a winner killed mid-lease is replaced; Redis killed and restarted mid-run stops no call and
//! the fleet resynchronises; a late joiner opens at once. (`cargo test` builds the example;
//! `cargo test --test fleet_processes` alone uses the one the last build left.)

mod common;

use common::fleet::{wait_for, Dependency, Process};
use common::redis_server::Redis;
use std::time::{Duration, Instant};

fn fleet(
    redis: &Redis,
    dependency: &Dependency,
    ids: &[&str],
    settings: &[(&str, &str)],
) -> Vec<Process> {
    let processes: Vec<Process> = ids
        .iter()
        .map(|id| Process::start(id, &redis.url(), dependency, settings))
        .collect();
    wait_for("every instance connects", Duration::from_secs(20), || {
        processes.iter().all(Process::connected)
    });
    processes
}

fn open(state: &str) -> bool {
    state == "Open"
}

#[test]
fn one_instance_trips_and_the_others_open_once_the_quorum_is_reached() {
    let redis = Redis::start();
    let dependency = Dependency::start();
    let settings = [("FLEET_QUORUM", "2"), ("RECOVERY_MS", "30000")];
    let fleet = fleet(&redis, &dependency, &["a", "b", "c"], &settings);

    // The dependency fails for a alone: a opens, the others see one witness and stay Closed.
    dependency.down_for(&["a"]);
    wait_for("a opens", Duration::from_secs(5), || {
        open(&fleet[0].state())
    });
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(fleet[1].state(), "Closed", "one witness is not a quorum");
    assert_eq!(fleet[2].state(), "Closed");

    // Then for b too: two witnesses, and c opens without a single failure of its own.
    dependency.down_for(&["a", "b"]);
    wait_for("c opens from the fleet", Duration::from_secs(5), || {
        open(&fleet[2].state())
    });
    assert_eq!(
        fleet[2].transitions(),
        [("Closed".into(), "Open".into(), "Fleet".into())]
    );
}

#[test]
fn one_trial_per_recovery_for_the_fleet_and_a_winner_killed_mid_lease_is_replaced() {
    let redis = Redis::start();
    let dependency = Dependency::start();
    let recovery = Duration::from_millis(1000);
    let settings = [("FLEET_QUORUM", "2"), ("RECOVERY_MS", "1000")];
    let mut fleet = fleet(&redis, &dependency, &["a", "b", "c"], &settings);

    // The dependency dies for everyone and stays down for three recovery periods.
    dependency.down_for(&["*"]);
    wait_for("all open", Duration::from_secs(5), || {
        fleet.iter().all(|p| open(&p.state()))
    });
    let down_since = Instant::now();
    std::thread::sleep(recovery * 3 + recovery / 2);
    let trials = dependency.trials();
    assert!(
        (2..=4).contains(&trials.len()),
        "one trial per recovery in {:?}: {trials:?}",
        down_since.elapsed()
    );
    for pair in trials.windows(2) {
        let gap = pair[1].at - pair[0].at;
        assert!(
            gap > recovery / 2,
            "two trials {gap:?} apart, within one recovery: {trials:?}"
        );
    }

    // The next winner hangs mid-trial, holding the lease; it is killed.
    dependency.hold_trials(true);
    let before = dependency.trials().len();
    wait_for("a trial is in flight", Duration::from_secs(5), || {
        dependency.trials().len() > before
    });
    let winner = dependency.trials().last().unwrap().instance.clone();
    let index = fleet.iter().position(|p| p.id == winner).unwrap();
    let mut dead = fleet.remove(index);
    dead.kill();
    let killed = Instant::now();
    dependency.hold_trials(false);
    dependency.up();

    // Once the lease runs out (a recovery period and the lead), another instance sends the
    // trial, and its success closes the survivors.
    wait_for("the survivors close", Duration::from_secs(10), || {
        fleet.iter().all(|p| p.state() == "Closed")
    });
    let after: Vec<_> = dependency
        .trials()
        .into_iter()
        .filter(|t| t.at > killed)
        .collect();
    assert_eq!(after.len(), 1, "one trial from a survivor: {after:?}");
    assert_ne!(after[0].instance, winner);
    assert!(
        killed.elapsed() < recovery * 4,
        "the fleet was held no longer than a lease: {:?}",
        killed.elapsed()
    );
}

#[test]
fn redis_killed_and_restarted_stops_no_call_and_the_fleet_resynchronises() {
    let redis = Redis::start();
    let dependency = Dependency::start();
    let settings = [("FLEET_QUORUM", "1"), ("RECOVERY_MS", "30000")];
    let fleet = fleet(&redis, &dependency, &["a", "b"], &settings);

    redis.kill();
    wait_for("both see Redis gone", Duration::from_secs(10), || {
        fleet.iter().all(|p| !p.connected())
    });
    // Calls keep flowing on both, with no Redis at all.
    let before = dependency.calls().len();
    std::thread::sleep(Duration::from_millis(300));
    let during: Vec<_> = dependency.calls()[before..].to_vec();
    for id in ["a", "b"] {
        assert!(
            during.iter().filter(|c| c.instance == id).count() > 10,
            "{id} kept calling"
        );
    }
    // a trips while Redis is down; b cannot know.
    dependency.down_for(&["a"]);
    wait_for("a opens alone", Duration::from_secs(5), || {
        open(&fleet[0].state())
    });
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(fleet[1].state(), "Closed");

    // Redis comes back empty; a sets its Open period again and b opens from it.
    redis.start_again();
    wait_for(
        "b opens once Redis is back",
        Duration::from_secs(15),
        || open(&fleet[1].state()),
    );
    // (b may act on the keys before it reports itself connected: the resynchronisation comes
    // first.)
    wait_for("both report Redis back", Duration::from_secs(5), || {
        fleet.iter().all(Process::connected)
    });
    assert_eq!(
        fleet[1].transitions(),
        [("Closed".into(), "Open".into(), "Fleet".into())]
    );
}

#[test]
fn a_late_joiner_opens_at_once_instead_of_spending_its_own_failures() {
    let redis = Redis::start();
    let dependency = Dependency::start();
    let settings = [
        ("FLEET_QUORUM", "2"),
        ("RECOVERY_MS", "30000"),
        ("FAILURE_THRESHOLD", "20"),
        // Slow callers: the late joiner's first calls must not trip it before it reads the
        // keys; 20 failures at 20 ms apart is 400 ms.
        ("CALL_EVERY_MS", "20"),
    ];
    dependency.down_for(&["*"]);
    let first = fleet(&redis, &dependency, &["a", "b"], &settings);
    wait_for("a and b open", Duration::from_secs(10), || {
        first.iter().all(|p| open(&p.state()))
    });

    let late = Process::start("late", &redis.url(), &dependency, &settings);
    wait_for("the late joiner opens", Duration::from_secs(5), || {
        open(&late.state())
    });
    assert_eq!(
        late.transitions(),
        [("Closed".into(), "Open".into(), "Fleet".into())],
        "opened from the keys, not from its own failures"
    );
    let its_calls = dependency
        .calls()
        .iter()
        .filter(|c| c.instance == "late")
        .count();
    assert!(its_calls < 20, "it spent {its_calls} calls");
}
