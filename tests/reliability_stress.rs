//! Stress: worker threads making every kind of call (successes, counted and excluded errors,
//! panics, futures dropped mid-flight, results reported late) while an admin thread forces,
//! resets and moves the clock. The storm runs in rounds; between rounds nothing runs and the
//! breaker must add up: totals exactly what the threads saw, no half-open slot leaked, and the
//! transitions the listeners heard one valid path ending in the current state.
//!
//! What the threads interleave differs from run to run; what is asserted holds in every
//! interleaving. A watchdog turns a deadlock into a failure with a message.

mod common;

use circuit_core::clock::ManualClock;
use circuit_core::{CircuitBreaker, CircuitError, Config, Reason, State, Transition};
use common::{poll_once, quiet_deliberate_panics, DELIBERATE};
use std::io::Write;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Barrier, Mutex};
use std::time::Duration;

const WORKERS: usize = 6;
const ROUNDS: usize = 200;
const CALLS_PER_ROUND: usize = 1000;
const MIN_ADMIN_OPS: usize = 40;
const MAX_CALLS: u32 = 3;
const TIMEOUT: Duration = Duration::from_millis(2);
/// Far longer than the whole test takes on a loaded machine; reached only by a deadlock.
const WATCHDOG: Duration = Duration::from_secs(120);

/// What a call returns when it fails: counted against the service, or excluded (the service
/// answered, e.g. a 404).
#[derive(Debug)]
enum Boom {
    Counted,
    Excluded,
}

fn is_failure(e: &Boom) -> bool {
    matches!(e, Boom::Counted)
}

/// What the callers saw, to compare with the breaker's totals.
#[derive(Default)]
struct Tally {
    successes: AtomicU64,
    failures: AtomicU64,
    rejected: AtomicU64,
}

impl Tally {
    fn saw(&self, r: Result<(), CircuitError<Boom>>) {
        let total = match r {
            Ok(()) | Err(CircuitError::Inner(Boom::Excluded)) => &self.successes,
            Err(CircuitError::Inner(Boom::Counted)) => &self.failures,
            Err(CircuitError::Open(_)) => &self.rejected,
            Err(CircuitError::Timeout(t)) => panic!("no timeout is configured: {t}"),
        };
        total.fetch_add(1, Ordering::Relaxed);
    }

    fn assert_matches(&self, b: &CircuitBreaker, when: &str) {
        let s = b.snapshot();
        let seen = (
            self.successes.load(Ordering::Relaxed),
            self.failures.load(Ordering::Relaxed),
            self.rejected.load(Ordering::Relaxed),
        );
        assert_eq!(
            (s.successes, s.failures, s.rejected),
            seen,
            "totals (successes, failures, rejected) differ from what callers saw, {when}"
        );
    }
}

/// Small deterministic generator, one per thread, so each thread's mix is reproducible.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// One call of a kind drawn at random, its outcome added to `tally`; or, now and then, a move of
/// the clock, so that Open periods end while the calls go on.
fn one_call(b: &CircuitBreaker, clock: &ManualClock, rng: &mut Rng, tally: &Tally) {
    match rng.below(100) {
        93..=95 => clock.advance(Duration::from_millis(1)),
        0..=34 => tally.saw(b.call_with(|| Ok(()), is_failure)),
        35..=59 => tally.saw(b.call_with(|| Err(Boom::Counted), is_failure)),
        60..=69 => tally.saw(b.call_with(|| Err(Boom::Excluded), is_failure)),
        70..=74 => {
            let unwound = catch_unwind(AssertUnwindSafe(|| {
                b.call_with(
                    || -> Result<(), Boom> { panic!("{}", DELIBERATE) },
                    is_failure,
                )
            }));
            match unwound {
                Ok(rejected) => tally.saw(rejected),
                Err(_) => {
                    tally.failures.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        75..=84 => {
            // Admitted, polled once, dropped while pending: counts as nothing.
            let fut = b.call_async_with(std::future::pending(), is_failure);
            if let Some(rejected) = poll_once(fut) {
                tally.saw(rejected);
            }
        }
        85..=92 => {
            let fut = b.call_async_with(async { Ok(()) }, is_failure);
            tally.saw(poll_once(fut).expect("a ready future finishes in one poll"));
        }
        _ => {
            // A slow call: admitted, then another call runs, then it reports, maybe stale.
            let Ok(permit) = b.try_acquire() else {
                tally.rejected.fetch_add(1, Ordering::Relaxed);
                return;
            };
            tally.saw(b.call_with(|| Err(Boom::Counted), is_failure));
            if rng.below(2) == 0 {
                permit.success();
                tally.successes.fetch_add(1, Ordering::Relaxed);
            } else {
                permit.failure();
                tally.failures.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// Runs `test`, which calls its argument after every round; if a round takes longer than
/// `WATCHDOG`, the process is aborted with a message instead of hanging the suite.
fn with_watchdog(name: &'static str, test: impl FnOnce(&dyn Fn())) {
    let (beat, heartbeats) = mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || loop {
        match heartbeats.recv_timeout(WATCHDOG) {
            Ok(()) => continue,
            Err(mpsc::RecvTimeoutError::Disconnected) => return,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                // Straight to stderr: the harness's capture would be lost with the process.
                let _ = writeln!(
                    std::io::stderr(),
                    "{name}: no progress for {WATCHDOG:?}: a deadlock; aborting"
                );
                std::process::abort();
            }
        }
    });
    test(&|| {
        let _ = beat.send(());
    });
    drop(beat);
    watchdog.join().unwrap();
}

/// Follows the transitions heard since `at`, checking each starts where the previous ended and
/// takes an edge its reason allows; returns where the path ends.
fn follow_path(seen: &[Transition], mut at: State) -> State {
    for t in seen {
        assert_eq!(t.from, at, "transition out of a state it was not in: {t}");
        let legal = match t.reason {
            Reason::FailureThreshold(_) => (t.from, t.to) == (State::Closed, State::Open),
            Reason::RecoveryTimeout => (t.from, t.to) == (State::Open, State::HalfOpen),
            Reason::TrialFailed | Reason::HalfOpenMaxWait => {
                (t.from, t.to) == (State::HalfOpen, State::Open)
            }
            Reason::TrialsSucceeded(_) => (t.from, t.to) == (State::HalfOpen, State::Closed),
            Reason::ForcedOpen => t.to == State::ForcedOpen && t.from != t.to,
            Reason::Disabled => t.to == State::Disabled && t.from != t.to,
            Reason::Reset => t.to == State::Closed && t.from != t.to,
            _ => false,
        };
        assert!(legal, "illegal transition: {t}");
        at = t.to;
    }
    at
}

/// At a quiescent point of a HalfOpen period, every trial admitted has succeeded (a failure
/// would have ended the period, a cancellation given its slot back), so exactly
/// `MAX_CALLS - success_count` slots are free. Takes them all, then gives them back.
fn assert_no_slot_leaked(b: &CircuitBreaker, tally: &Tally) {
    let successes = b.snapshot().success_count;
    let mut held = Vec::new();
    while let Ok(permit) = b.try_acquire() {
        held.push(permit);
    }
    tally.rejected.fetch_add(1, Ordering::Relaxed);
    assert_eq!(
        held.len() as u32,
        MAX_CALLS - successes,
        "free trial slots with {successes} successes in this HalfOpen period"
    );
    drop(held); // cancelled: the slots come back
}

#[test]
fn a_storm_of_every_kind_of_call_leaves_the_breaker_consistent() {
    quiet_deliberate_panics();
    with_watchdog("stress", |heartbeat| {
        let clock = ManualClock::new();
        let config = Config::builder()
            .failure_threshold(3)
            .success_threshold(2)
            .half_open_max_calls(MAX_CALLS)
            .recovery_timeout(TIMEOUT)
            .clock(clock.clone())
            .build()
            .unwrap();
        let b = Arc::new(CircuitBreaker::new("stress", config));
        let seen = Arc::new(Mutex::new(Vec::<Transition>::new()));
        let s = seen.clone();
        b.on_state_change(move |t| s.lock().unwrap().push(t.clone()));
        // A listener that reads the breaker (it runs outside every lock) and one that panics
        // now and then (it harms nobody).
        let weak = Arc::downgrade(&b);
        b.on_state_change(move |_| {
            if let Some(b) = weak.upgrade() {
                let _ = b.state();
            }
        });
        let heard = AtomicUsize::new(0);
        b.on_state_change(move |_| {
            if heard.fetch_add(1, Ordering::Relaxed) % 50 == 49 {
                panic!("{} in a listener", DELIBERATE);
            }
        });

        let tally = Arc::new(Tally::default());
        let barrier = Arc::new(Barrier::new(WORKERS + 2));
        let working = Arc::new(AtomicUsize::new(0));
        let mut threads = Vec::new();
        for i in 0..WORKERS {
            let (b, clock, tally, barrier, working) = (
                b.clone(),
                clock.clone(),
                tally.clone(),
                barrier.clone(),
                working.clone(),
            );
            threads.push(std::thread::spawn(move || {
                let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (i as u64 + 1));
                for _ in 0..ROUNDS {
                    barrier.wait();
                    for _ in 0..CALLS_PER_ROUND {
                        one_call(&b, &clock, &mut rng, &tally);
                    }
                    working.fetch_sub(1, Ordering::AcqRel);
                    barrier.wait();
                }
            }));
        }
        let admin = {
            let (b, clock, barrier, working) =
                (b.clone(), clock.clone(), barrier.clone(), working.clone());
            std::thread::spawn(move || {
                let mut rng = Rng(0xD1B5_4A32_D192_ED03);
                for _ in 0..ROUNDS {
                    barrier.wait();
                    // Busy for as long as the workers are (every round races with them), and for
                    // a few operations at least, since rejected workers finish fast.
                    let mut ops = 0;
                    while ops < MIN_ADMIN_OPS || working.load(Ordering::Acquire) > 0 {
                        ops += 1;
                        match rng.below(1000) {
                            0..=699 => clock.advance(Duration::from_millis(1)),
                            700..=729 => b.reset(),
                            730..=749 => {
                                // A short forced-open window with calls racing in and out.
                                b.force_open();
                                std::thread::yield_now();
                                b.reset();
                            }
                            750 => b.force_open(),
                            _ => {
                                let _ = b.snapshot();
                            }
                        }
                        std::thread::yield_now();
                    }
                    barrier.wait();
                }
            })
        };

        let mut at = State::Closed;
        let mut checked = 0;
        let mut half_open_checks = 0;
        for round in 0..ROUNDS {
            working.store(WORKERS, Ordering::Release);
            barrier.wait();
            barrier.wait();
            // Quiescent: nothing runs until the next round starts.
            let when = format!("after round {round}");
            tally.assert_matches(&b, &when);
            {
                let seen = seen.lock().unwrap();
                at = follow_path(&seen[checked..], at);
                checked = seen.len();
            }
            let state = b.state();
            let seen_len = seen.lock().unwrap().len();
            if seen_len > checked {
                // `state()` itself may have moved Open to HalfOpen; follow that too.
                at = follow_path(&seen.lock().unwrap()[checked..], at);
                checked = seen_len;
            }
            assert_eq!(
                state, at,
                "the last transition heard is not the state, {when}"
            );
            match state {
                State::HalfOpen => {
                    assert_no_slot_leaked(&b, &tally);
                    half_open_checks += 1;
                }
                State::Closed => assert!(b.snapshot().failure_count < 3, "{when}"),
                State::Open => assert!(b.retry_after().unwrap() <= TIMEOUT, "{when}"),
                _ => {}
            }
            tally.assert_matches(&b, &when);
            heartbeat();
        }
        for t in threads {
            t.join().unwrap();
        }
        admin.join().unwrap();

        // Afterwards half-open admits again, exactly its slots, however the storm ended.
        b.reset();
        for _ in 0..3 {
            tally.saw(b.call_with(|| Err(Boom::Counted), is_failure));
        }
        assert_eq!(b.state(), State::Open);
        clock.advance(TIMEOUT);
        assert_eq!(b.state(), State::HalfOpen);
        assert_no_slot_leaked(&b, &tally);
        assert_no_slot_leaked(&b, &tally);
        tally.assert_matches(&b, "at the end");
        let seen = seen.lock().unwrap();
        assert_eq!(follow_path(&seen[checked..], at), State::HalfOpen);
        println!(
            "{} transitions heard; {half_open_checks} of {ROUNDS} rounds ended HalfOpen; {:?}",
            seen.len(),
            b.snapshot()
        );
    });
}
