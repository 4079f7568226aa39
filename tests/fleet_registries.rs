//! The fleet between registries of one process, each its own instance, on a real Redis
//! (`redis-server` on 127.0.0.1, started and stopped by the test): the quorum, one trial call
//! for the fleet, late joiners, orders, and what it does with messages it cannot read.
//! tests/fleet_processes.rs does the same across processes, with kills.

mod common;

use circuit_core::fleet::{Fleet, FleetError};
use circuit_core::{CircuitBreaker, CircuitError, Config, Reason, Registry, State, Transition};
use common::redis_server::Redis;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const NAME: &str = "inventory";

/// One instance: a registry with the breaker `NAME`, its fleet, and the transitions it heard.
struct Instance {
    registry: Arc<Registry>,
    breaker: Arc<CircuitBreaker>,
    fleet: Fleet,
    heard: Arc<Mutex<Vec<Transition>>>,
}

fn config(recovery: Duration) -> Config {
    Config::builder()
        .failure_threshold(2)
        .success_threshold(1)
        .half_open_max_calls(1)
        .recovery_timeout(recovery)
        .build()
        .unwrap()
}

fn instance(redis: &Redis, id: &str, quorum: u32, recovery: Duration) -> Instance {
    let registry = Arc::new(Registry::new());
    let breaker = registry.get_or_create(NAME, config(recovery));
    let heard = Arc::new(Mutex::new(Vec::new()));
    let h = heard.clone();
    registry.on_state_change(move |t| h.lock().unwrap().push(t.clone()));
    let fleet = Fleet::builder(redis.url(), "fleet-test")
        .instance(id)
        .quorum(quorum)
        .attach(registry.clone())
        .expect("the fleet attaches");
    Instance {
        registry,
        breaker,
        fleet,
        heard,
    }
}

async fn connected(instances: &[&Instance]) {
    eventually("every instance connects", Duration::from_secs(10), || {
        instances.iter().all(|i| i.fleet.is_connected())
    })
    .await;
}

/// Polls `done` every 2 ms until it holds, failing the test after `within`.
async fn eventually(what: &str, within: Duration, done: impl Fn() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < within, "not within {within:?}: {what}");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

fn trip(b: &CircuitBreaker) {
    for _ in 0..2 {
        let _ = b.call(|| Err::<(), _>("down"));
    }
    assert_eq!(b.state(), State::Open);
}

fn reasons(i: &Instance) -> Vec<(State, State, Reason)> {
    i.heard
        .lock()
        .unwrap()
        .iter()
        .map(|t| (t.from, t.to, t.reason))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_instance_alone_opens_no_other_but_a_quorum_of_two_opens_them_all() {
    let redis = Redis::start();
    let recovery = Duration::from_secs(30);
    let [a, b, c] = ["a", "b", "c"].map(|id| instance(&redis, id, 2, recovery));
    connected(&[&a, &b, &c]).await;

    trip(&a.breaker);
    // A negative needs a bound: 300 ms is a hundred times loopback's propagation.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        b.breaker.state(),
        State::Closed,
        "one witness is not a quorum"
    );
    assert_eq!(c.breaker.state(), State::Closed);

    trip(&b.breaker);
    eventually("c opens from the fleet", Duration::from_secs(2), || {
        c.registry.state(NAME) == Some(State::Open)
    })
    .await;
    assert_eq!(
        reasons(&c),
        [(State::Closed, State::Open, Reason::Fleet)],
        "opened by the fleet, not by its own calls"
    );
    let left = c.breaker.retry_after().unwrap();
    assert!(
        left > Duration::from_secs(29) && left <= recovery,
        "about the witnesses' period: {left:?}"
    );
    assert!(
        matches!(
            c.breaker.call(|| Ok::<_, ()>(())),
            Err(CircuitError::Open(_))
        ),
        "and it rejects"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_quorum_of_one_every_trip_opens_the_fleet() {
    let redis = Redis::start();
    let recovery = Duration::from_secs(30);
    let [a, b] = ["a", "b"].map(|id| instance(&redis, id, 1, recovery));
    connected(&[&a, &b]).await;
    trip(&a.breaker);
    eventually("b opens", Duration::from_secs(2), || {
        b.breaker.state() == State::Open
    })
    .await;
    assert_eq!(reasons(&b), [(State::Closed, State::Open, Reason::Fleet)]);
    // A reset withdraws a's evidence: its key goes.
    assert!(redis
        .command("KEYS circuit:fleet-test:open:*")
        .contains("inventory:a"));
    a.breaker.reset();
    eventually("a's key is gone", Duration::from_secs(2), || {
        !redis
            .command("KEYS circuit:fleet-test:open:*")
            .contains("inventory:a")
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_trial_call_reaches_the_service_per_recovery_for_the_whole_fleet() {
    let redis = Redis::start();
    let recovery = Duration::from_millis(800);
    let fleet = ["a", "b", "c"].map(|id| instance(&redis, id, 2, recovery));
    connected(&fleet.iter().collect::<Vec<_>>()).await;

    // The service dies: every instance trips.
    for i in &fleet {
        trip(&i.breaker);
    }
    // Then comes back. Every instance keeps calling it; a call admitted HalfOpen is a trial.
    let trials = Arc::new(AtomicU32::new(0));
    let calls = Arc::new(AtomicU32::new(0));
    let started = Instant::now();
    while fleet.iter().any(|i| i.breaker.state() != State::Closed) {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the fleet did not close: {:?}",
            fleet.iter().map(|i| i.breaker.state()).collect::<Vec<_>>()
        );
        for i in &fleet {
            let b = i.breaker.clone();
            let (trials, calls) = (trials.clone(), calls.clone());
            let _ = i.breaker.call(move || {
                calls.fetch_add(1, Ordering::Relaxed);
                if b.state() == State::HalfOpen {
                    trials.fetch_add(1, Ordering::Relaxed);
                }
                Ok::<_, ()>(())
            });
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(
        trials.load(Ordering::Relaxed),
        1,
        "one trial for the fleet, not one per instance"
    );
    let closed_by_fleet = fleet
        .iter()
        .filter(|i| reasons(i).last() == Some(&(State::Open, State::Closed, Reason::Fleet)))
        .count();
    assert_eq!(
        closed_by_fleet, 2,
        "the two others closed on the winner's word"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_winner_never_strands_the_fleet() {
    let redis = Redis::start();
    let recovery = Duration::from_millis(600);
    let [a, b] = ["a", "b"].map(|id| instance(&redis, id, 2, recovery));
    connected(&[&a, &b]).await;
    trip(&a.breaker);
    trip(&b.breaker);
    // Whoever wins the lease first, the winner dies with it: no more calls, no more fleet.
    eventually("someone holds the lease", Duration::from_secs(5), || {
        redis
            .command("GET circuit:fleet-test:trial:inventory")
            .starts_with('$')
            && !redis
                .command("GET circuit:fleet-test:trial:inventory")
                .starts_with("$-1")
    })
    .await;
    let holder = redis.command("GET circuit:fleet-test:trial:inventory");
    let (dead, survivor) = if holder.contains("\r\na\r\n") {
        (a, b)
    } else {
        (b, a)
    };
    drop(dead.fleet);
    let died = Instant::now();
    // The survivor keeps calling a service that answers again; it must get its trial once the
    // dead winner's lease (its recovery timeout, at most, plus the lead) has run out.
    eventually(
        "the survivor takes the lease and closes",
        Duration::from_secs(5),
        || {
            let _ = survivor.breaker.call(|| Ok::<_, ()>(()));
            survivor.breaker.state() == State::Closed
        },
    )
    .await;
    assert!(
        died.elapsed() < recovery * 3,
        "held no longer than a lease: {:?}",
        died.elapsed()
    );
    assert_eq!(
        reasons(&survivor).last().map(|r| r.2),
        Some(Reason::TrialsSucceeded(1)),
        "its own trial closed it"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_joiner_opens_at_once_from_the_keys() {
    let redis = Redis::start();
    let recovery = Duration::from_secs(30);
    let [a, b] = ["a", "b"].map(|id| instance(&redis, id, 2, recovery));
    connected(&[&a, &b]).await;
    trip(&a.breaker);
    trip(&b.breaker);
    eventually("both keys are set", Duration::from_secs(2), || {
        redis
            .command("KEYS circuit:fleet-test:open:*")
            .starts_with("*2")
    })
    .await;

    let late = instance(&redis, "late", 2, recovery);
    eventually("the late joiner opens", Duration::from_secs(5), || {
        late.breaker.state() == State::Open
    })
    .await;
    assert_eq!(
        reasons(&late),
        [(State::Closed, State::Open, Reason::Fleet)]
    );
    assert!(late.breaker.retry_after().unwrap() > Duration::from_secs(25));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_reach_every_instance() {
    let redis = Redis::start();
    let [a, b] = ["a", "b"].map(|id| instance(&redis, id, 2, Duration::from_secs(30)));
    connected(&[&a, &b]).await;
    a.fleet.force_open(NAME).await.unwrap();
    eventually("both are forced open", Duration::from_secs(2), || {
        [&a, &b]
            .iter()
            .all(|i| i.breaker.state() == State::ForcedOpen)
    })
    .await;
    b.fleet.reset(NAME).await.unwrap();
    eventually("both are reset", Duration::from_secs(2), || {
        [&a, &b].iter().all(|i| i.breaker.state() == State::Closed)
    })
    .await;
    b.fleet.disable(NAME).await.unwrap();
    eventually("both are disabled", Duration::from_secs(2), || {
        [&a, &b]
            .iter()
            .all(|i| i.breaker.state() == State::Disabled)
    })
    .await;
    assert!(matches!(
        a.fleet.reset("bad\nname").await,
        Err(FleetError::Name(_))
    ));
    // An order for a breaker nobody has changes nothing, and breaks nothing.
    a.fleet.force_open("nobody").await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_it_cannot_read_are_ignored_and_counted() {
    let redis = Redis::start();
    let a = instance(&redis, "a", 1, Duration::from_secs(30));
    connected(&[&a]).await;
    let long_name = "n".repeat(300);
    for junk in [
        "PUBLISH circuit:fleet-test:events hello".to_owned(),
        "PUBLISH circuit:fleet-test:events \"v2 opened b 100 inventory\"".to_owned(),
        "PUBLISH circuit:fleet-test:events \"v1 opened b 0 inventory\"".to_owned(),
        format!("PUBLISH circuit:fleet-test:events \"v1 opened b 100 {long_name}\""),
        "PUBLISH circuit:fleet-test:admin \"v1 explode inventory\"".to_owned(),
    ] {
        assert!(redis.command(&junk).starts_with(":1"), "{junk}");
    }
    eventually("all five are counted", Duration::from_secs(2), || {
        a.fleet.ignored() == 5
    })
    .await;
    assert_eq!(a.breaker.state(), State::Closed);
    assert!(a.fleet.is_connected(), "and the session goes on");
    // A well-formed message still works after them.
    redis.command("PUBLISH circuit:fleet-test:events \"v1 opened b 5000 inventory\"");
    eventually("a valid message opens it", Duration::from_secs(2), || {
        a.breaker.state() == State::Open
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_that_never_answers_leaves_every_breaker_working_alone() {
    // A partition, as the task meets it: connections accepted, nothing ever answered.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("redis://{}/", silent.local_addr().unwrap());
    let registry = Arc::new(Registry::new());
    let breaker = registry.get_or_create(NAME, config(Duration::from_secs(30)));
    let fleet = Fleet::builder(url, "fleet-test")
        .instance("alone")
        .timeout(Duration::from_millis(200))
        .attach(registry.clone())
        .unwrap();
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(1) {
        assert!(breaker.call(|| Ok::<_, ()>(())).is_ok());
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(!fleet.is_connected());
    trip(&breaker);
    assert!(matches!(
        breaker.call(|| Ok::<_, ()>(())),
        Err(CircuitError::Open(_))
    ));
    drop(silent);
}
