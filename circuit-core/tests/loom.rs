//! Model checks of the lock-free state machine: loom runs each scenario under every
//! interleaving of its threads (up to a bound on preemptions) and every ordering the atomics'
//! memory orderings allow, and the assertions must hold in all of them.
//!
//! Compiled only under `--cfg loom`:
//!
//! ```sh
//! RUSTFLAGS="--cfg loom" cargo test -p circuit-core --release --test loom --target-dir target/loom
//! ```
//!
//! What loom sees (through `circuit-core/src/sync.rs`): the state word; the totals and the
//! call-duration histogram (every thread on the shared overflow stripe); the events' mutexes (`events/delivery.rs`), so a
//! transition's winner can be run late, after the winner of the next one; the breaker's clock
//! lock (`clock/swappable.rs`) and `ManualClock`'s atomic, so clock reads and the models'
//! `advance` steps are ordered against the state word; and the listener below, which records
//! through a loom mutex so that delivery interleaves with other threads' transitions. What it
//! does not see: the thread-local stripe leases of the totals and the coarse system clock (the
//! models use a `ManualClock`). `reconfigure` is modelled from one thread only: it holds the
//! config's parking_lot lock across a compare-and-swap, which loom's scheduler cannot
//! interleave with a second holder.
//!
//! RELIABILITY.md lists the models, the bounds and times measured, and the deliberate bugs
//! each was shown to catch.
#![cfg(loom)]

use circuit_core::clock::ManualClock;
use circuit_core::{
    CircuitBreaker, CircuitError, Config, ConfigBuilder, Reason, SlidingWindow, State,
};
use loom::sync::{Arc, Mutex};
use loom::thread;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(60);

/// The transitions of a breaker that tripped, waited out its timeout and closed again.
const TRIPPED_RECOVERED_CLOSED: [(State, State); 3] = [
    (State::Closed, State::Open),
    (State::Open, State::HalfOpen),
    (State::HalfOpen, State::Closed),
];

/// Runs `f` under loom. The preemption bound defaults to 4: every model here explores its
/// whole space at that bound in a few seconds on two cores (5 takes ~15 s, 6 about a minute);
/// `LOOM_MAX_PREEMPTIONS` overrides it.
fn model(f: impl Fn() + Sync + Send + 'static) {
    model_with_bound(4, f);
}

/// [`model`] with another default preemption bound, for models too long to run at 4.
fn model_with_bound(bound: usize, f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(bound);
    }
    builder.check(f);
}

/// One breaker for one execution of a model, with a manual clock and a recording listener.
struct Rig {
    breaker: Arc<CircuitBreaker>,
    clock: ManualClock,
    seen: Arc<Mutex<Vec<(State, State, Reason)>>>,
}

fn rig(config: ConfigBuilder) -> Rig {
    let clock = ManualClock::new();
    let config = config
        .recovery_timeout(TIMEOUT)
        .clock(clock.clone())
        .build()
        .unwrap();
    let breaker = Arc::new(CircuitBreaker::new("loom", config));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    breaker.on_state_change(move |t| s.lock().unwrap().push((t.from, t.to, t.reason)));
    Rig {
        breaker,
        clock,
        seen,
    }
}

impl Rig {
    /// Trips a breaker with `failure_threshold(1)` and lets its recovery timeout pass.
    fn to_half_open(&self) {
        let _ = fail(&self.breaker);
        self.clock.advance(TIMEOUT);
        assert_eq!(self.breaker.state(), State::HalfOpen);
    }

    fn moves(&self) -> Vec<(State, State)> {
        let seen = self.seen.lock().unwrap();
        seen.iter().map(|&(from, to, _)| (from, to)).collect()
    }

    /// The transitions heard form one valid path from Closed, along edges their reasons allow,
    /// and it ends in the breaker's state.
    fn assert_valid_path(&self) {
        let seen = self.seen.lock().unwrap();
        let mut at = State::Closed;
        for &(from, to, reason) in seen.iter() {
            assert_eq!(
                from, at,
                "a transition out of a state it was not in: {seen:?}"
            );
            let legal = match reason {
                Reason::FailureThreshold(_)
                | Reason::FailureRate { .. }
                | Reason::SlowCallRate { .. } => (from, to) == (State::Closed, State::Open),
                Reason::RecoveryTimeout => (from, to) == (State::Open, State::HalfOpen),
                Reason::TrialFailed | Reason::HalfOpenMaxWait => {
                    (from, to) == (State::HalfOpen, State::Open)
                }
                Reason::TrialsSucceeded(_) => (from, to) == (State::HalfOpen, State::Closed),
                Reason::ForcedOpen => to == State::ForcedOpen && from != to,
                Reason::Disabled => to == State::Disabled && from != to,
                Reason::Reset => to == State::Closed && from != to,
                other => panic!("unknown reason {other:?}"),
            };
            assert!(
                legal,
                "illegal edge {from:?} -> {to:?} ({reason:?}): {seen:?}"
            );
            at = to;
        }
        drop(seen);
        assert_eq!(
            self.breaker.state(),
            at,
            "the last transition heard is not the state"
        );
    }
}

fn succeed(b: &CircuitBreaker) -> Result<(), CircuitError<()>> {
    b.call(|| Ok(()))
}

fn fail(b: &CircuitBreaker) -> Result<(), CircuitError<()>> {
    b.call(|| Err(()))
}

/// Whether the call ran (as opposed to being rejected).
fn ran(r: &Result<(), CircuitError<()>>) -> bool {
    !matches!(r, Err(CircuitError::Open(_)))
}

/// Polls a future once with a no-op waker, then drops it.
fn poll_once_and_drop<F: Future>(fut: F) -> Option<F::Output> {
    let mut fut = pin!(fut);
    match fut.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(out) => Some(out),
        Poll::Pending => None,
    }
}

fn spawn<T: Send + 'static>(
    b: &Arc<CircuitBreaker>,
    f: impl FnOnce(&CircuitBreaker) -> T + Send + 'static,
) -> thread::JoinHandle<T> {
    let b = b.clone();
    thread::spawn(move || f(&b))
}

// ---- tripping ------------------------------------------------------------------------------

#[test]
fn concurrent_failures_reaching_the_threshold_trip_exactly_once() {
    model(|| {
        let rig = rig(Config::builder().failure_threshold(2));
        let b = &rig.breaker;
        let other = spawn(b, fail);
        let mine = fail(b);
        let theirs = other.join().unwrap();
        // Both ran: the first failure alone cannot trip the breaker.
        assert!(ran(&mine) && ran(&theirs));
        assert_eq!(b.state(), State::Open);
        assert_eq!(rig.moves(), [(State::Closed, State::Open)]);
        assert_eq!(b.snapshot().failures, 2);
    });
}

#[test]
fn failures_racing_past_the_threshold_trip_once_and_count_every_call() {
    model(|| {
        let rig = rig(Config::builder().failure_threshold(1));
        let b = &rig.breaker;
        let other = spawn(b, fail);
        let mine = fail(b);
        let theirs = other.join().unwrap();
        let ran = [ran(&mine), ran(&theirs)].iter().filter(|&&r| r).count() as u64;
        assert!(ran >= 1);
        assert_eq!(b.state(), State::Open);
        // A failure admitted before the trip but reported after it is stale: no second trip.
        assert_eq!(rig.moves(), [(State::Closed, State::Open)]);
        let s = b.snapshot();
        assert_eq!((s.failures, s.rejected), (ran, 2 - ran));
        assert_eq!(b.retry_after(), Some(TIMEOUT));
    });
}

#[test]
fn racing_trips_at_sub_millisecond_readings_end_when_retry_after_says() {
    model(|| {
        let rig = rig(Config::builder().failure_threshold(1));
        let b = &rig.breaker;
        let first = Duration::from_micros(1500);
        rig.clock.advance(first);
        // Two failures race to trip the breaker at different readings within one millisecond,
        // so each computes the same whole-millisecond deadline with its own remainder.
        let clock = rig.clock.clone();
        let other = spawn(b, move |b| {
            clock.advance(Duration::from_micros(300));
            fail(b)
        });
        let mine = fail(b);
        let theirs = other.join().unwrap();
        assert!(ran(&mine) || ran(&theirs));
        assert_eq!(rig.moves(), [(State::Closed, State::Open)]);
        let now = first + Duration::from_micros(300);
        let left = b.retry_after().expect("open");
        // The period ends a whole timeout after one of the trips' readings, or, should a
        // remainder be missing, at the deadline's whole millisecond: never before the first
        // reading's timeout, never a millisecond past the last one's.
        let end = now + left;
        assert!(
            end >= first + TIMEOUT && end < now + TIMEOUT + Duration::from_millis(1),
            "ends at {end:?}"
        );
        rig.clock.advance(left - Duration::from_nanos(1));
        assert_eq!(b.state(), State::Open, "{left:?} was too much");
        rig.clock.advance(Duration::from_nanos(1));
        assert_eq!(b.state(), State::HalfOpen, "{left:?} was not enough");
    });
}

// ---- half-open admission -------------------------------------------------------------------

#[test]
fn half_open_hands_out_exactly_max_calls_slots_and_announces_once() {
    model(|| {
        let rig = rig(Config::builder()
            .failure_threshold(1)
            .half_open_max_calls(2)
            .success_threshold(2));
        let b = &rig.breaker;
        let _ = fail(b);
        rig.clock.advance(TIMEOUT);
        // Three callers race into the recovery: two through `try_acquire`, one through
        // `state()` first. Each keeps its slot for the rest of the execution.
        let take = |b: &CircuitBreaker| b.try_acquire().map(std::mem::forget).is_ok();
        let t1 = spawn(b, take);
        let t2 = spawn(b, take);
        let _ = b.state();
        let mine = take(b);
        let admitted = [mine, t1.join().unwrap(), t2.join().unwrap()]
            .iter()
            .filter(|&&a| a)
            .count();
        assert_eq!(admitted, 2, "exactly half_open_max_calls trials");
        assert_eq!(
            rig.moves(),
            [(State::Closed, State::Open), (State::Open, State::HalfOpen)]
        );
        assert_eq!(b.state(), State::HalfOpen);
    });
}

#[test]
fn racing_trials_close_the_breaker_once() {
    model(|| {
        let rig = rig(Config::builder()
            .failure_threshold(1)
            .half_open_max_calls(2)
            .success_threshold(2));
        let b = &rig.breaker;
        rig.to_half_open();
        let t1 = spawn(b, succeed);
        let t2 = spawn(b, succeed);
        let mine = succeed(b);
        let results = [mine, t1.join().unwrap(), t2.join().unwrap()];
        let ran = results.iter().filter(|r| ran(r)).count() as u64;
        // Two trials always run and close it; the third runs only if it came after the close.
        assert!(ran >= 2);
        assert_eq!(b.state(), State::Closed);
        assert_eq!(rig.moves(), TRIPPED_RECOVERED_CLOSED);
        let s = b.snapshot();
        assert_eq!((s.successes, s.rejected), (ran, 3 - ran));
    });
}

// ---- reloads ----------------------------------------------------------------------------

#[test]
fn a_trial_success_racing_a_lowered_threshold_closes_the_breaker() {
    model(|| {
        let rig = rig(Config::builder()
            .failure_threshold(1)
            .half_open_max_calls(2)
            .success_threshold(2));
        let b = &rig.breaker;
        rig.to_half_open();
        let trial = spawn(b, succeed);
        let lowered = b
            .config()
            .to_builder()
            .success_threshold(1)
            .half_open_max_calls(1)
            .build()
            .unwrap();
        b.reconfigure(lowered);
        assert!(ran(&trial.join().unwrap()));
        // One success meets the new threshold, whichever saw the other first; stranded
        // HalfOpen (one success in, one slot allowed and taken) is the failure.
        assert_eq!(b.state(), State::Closed);
        assert_eq!(rig.moves(), TRIPPED_RECOVERED_CLOSED);
        rig.assert_valid_path();
    });
}

// ---- the half-open wait ------------------------------------------------------------------

#[test]
fn an_outwaited_half_open_reopens_once_and_the_next_period_has_its_own_start() {
    // Three threads with this many steps take 90 s at the default bound of 4; 2 keeps it
    // under ten seconds and still finds a reader that stamps a period already over.
    model_with_bound(2, || {
        let rig = rig(Config::builder()
            .failure_threshold(1)
            .half_open_max_calls(1)
            .success_threshold(1)
            .half_open_max_wait(Duration::from_secs(30)));
        let b = &rig.breaker;
        rig.to_half_open();
        std::mem::forget(b.try_acquire().unwrap());
        rig.clock.advance(Duration::from_secs(30));
        // Two callers and a reader of the state race to end the period.
        let t1 = spawn(b, succeed);
        let t2 = spawn(b, |b| b.state());
        let mine = succeed(b);
        assert!(!ran(&mine) && !ran(&t1.join().unwrap()));
        assert_eq!(
            t2.join().unwrap(),
            State::Open,
            "a reader stamped a period that was over"
        );
        let heard = rig.seen.lock().unwrap().clone();
        let reopened = heard
            .iter()
            .filter(|&&(_, _, reason)| reason == Reason::HalfOpenMaxWait)
            .count();
        assert_eq!(reopened, 1, "{heard:?}");
        rig.assert_valid_path();
        // The next period must not inherit the last one's start: it would reopen at once.
        rig.clock.advance(TIMEOUT);
        std::mem::forget(b.try_acquire().unwrap());
        assert_eq!(b.state(), State::HalfOpen);
    });
}

#[test]
fn a_period_entered_by_racing_callers_starts_when_it_began() {
    model(|| {
        let rig = rig(Config::builder()
            .failure_threshold(1)
            .half_open_max_calls(2)
            .success_threshold(2)
            .half_open_max_wait(Duration::from_secs(30)));
        let b = &rig.breaker;
        let _ = fail(b);
        rig.clock.advance(TIMEOUT);
        // Both race into the period (one through state()) and keep their slots.
        let t1 = spawn(b, |b| std::mem::forget(b.try_acquire().unwrap()));
        let t2 = spawn(b, |b| {
            let _ = b.state();
            std::mem::forget(b.try_acquire().unwrap());
        });
        t1.join().unwrap();
        t2.join().unwrap();
        rig.clock
            .advance(Duration::from_secs(30) - Duration::from_millis(1));
        assert_eq!(b.state(), State::HalfOpen, "ended early");
        rig.clock.advance(Duration::from_millis(1));
        assert_eq!(b.state(), State::Open, "never ended");
        rig.assert_valid_path();
    });
}

// ---- cancellation --------------------------------------------------------------------------

#[test]
fn a_cancelled_trial_gives_its_slot_back() {
    model(|| {
        let rig = rig(Config::builder()
            .failure_threshold(1)
            .half_open_max_calls(1)
            .success_threshold(1));
        let b = &rig.breaker;
        rig.to_half_open();
        // One future takes the only slot and is dropped while pending; another caller races it.
        let dropped = spawn(b, |b| {
            poll_once_and_drop(b.call_async(std::future::pending::<Result<(), ()>>()))
        });
        let mine = succeed(b);
        let polled = dropped.join().unwrap();
        assert!(
            polled.is_none() || matches!(polled, Some(Err(CircuitError::Open(_)))),
            "the pending future either was rejected or never finished"
        );
        if ran(&mine) {
            assert_eq!(b.state(), State::Closed);
        } else {
            // It was rejected while the other held the slot: the slot must be free again.
            assert_eq!(b.state(), State::HalfOpen);
            assert!(b.try_acquire().is_ok(), "the cancelled trial's slot leaked");
        }
        assert_eq!(
            b.snapshot().failures,
            1,
            "a cancelled call counts as nothing"
        );
        rig.assert_valid_path();
    });
}

#[test]
fn a_cancellation_arriving_after_the_period_ended_frees_nothing_in_the_next() {
    model(|| {
        let rig = rig(Config::builder()
            .failure_threshold(1)
            .half_open_max_calls(2)
            .success_threshold(2));
        let b = &rig.breaker;
        rig.to_half_open();
        let held = b.try_acquire().unwrap();
        // The other thread's trial fails, re-opening the breaker; then, if the recovery
        // timeout has passed by then, it takes a slot of the next HalfOpen period.
        let other = spawn(b, |b| {
            assert!(ran(&fail(b)), "a slot was free for it");
            b.try_acquire().map(std::mem::forget).is_ok()
        });
        rig.clock.advance(TIMEOUT);
        drop(held); // lands in the first period, in Open, or in the next period
        let took_next = other.join().unwrap();
        if b.state() == State::Open {
            // The trial failed after the clock moved: its Open period runs from then.
            rig.clock.advance(TIMEOUT);
        }
        assert_eq!(b.state(), State::HalfOpen);
        let mut free = 0;
        while let Ok(permit) = b.try_acquire() {
            std::mem::forget(permit);
            free += 1;
        }
        assert_eq!(
            free + u32::from(took_next),
            2,
            "the next period has exactly its own slots, wherever the cancellation landed"
        );
        rig.assert_valid_path();
    });
}

// ---- stale results -------------------------------------------------------------------------

#[test]
fn a_failure_admitted_while_closed_does_not_reopen_a_later_half_open() {
    model(|| {
        let rig = rig(Config::builder()
            .failure_threshold(1)
            .half_open_max_calls(1)
            .success_threshold(1));
        let b = &rig.breaker;
        let slow = b.try_acquire().unwrap(); // admitted while Closed
        rig.to_half_open();
        let trial = spawn(b, succeed);
        slow.failure(); // stale, racing the trial that closes the breaker
        assert!(ran(&trial.join().unwrap()));
        assert_eq!(b.state(), State::Closed);
        assert_eq!(rig.moves(), TRIPPED_RECOVERED_CLOSED);
        let s = b.snapshot();
        assert_eq!(
            (s.failures, s.successes),
            (2, 1),
            "stale results still count"
        );
    });
}

#[test]
fn a_trial_outcome_moves_state_only_within_its_own_period() {
    model(|| {
        let rig = rig(Config::builder()
            .failure_threshold(1)
            .half_open_max_calls(2)
            .success_threshold(1));
        let b = &rig.breaker;
        rig.to_half_open();
        // A failing trial admitted here races a succeeding one admitted in another thread,
        // which, if it comes too late, is rejected instead (never admitted under Closed).
        let failing = b.try_acquire().unwrap();
        let trial = spawn(b, succeed);
        failing.failure();
        let _ = trial.join().unwrap();
        // Whichever outcome lands first ends the period; the other is stale and moves nothing.
        let moves = rig.moves();
        let last = moves.last().copied();
        assert!(
            last == Some((State::HalfOpen, State::Closed))
                || last == Some((State::HalfOpen, State::Open)),
            "{moves:?}"
        );
        assert_eq!(
            moves.len(),
            3,
            "one outcome only moved the state: {moves:?}"
        );
        rig.assert_valid_path();
    });
}

// ---- administration racing with calls ------------------------------------------------------

#[test]
fn force_open_racing_a_closing_trial_always_ends_forced_open() {
    model(|| {
        let rig = rig(Config::builder()
            .failure_threshold(1)
            .half_open_max_calls(1)
            .success_threshold(1));
        let b = &rig.breaker;
        rig.to_half_open();
        let trial = spawn(b, succeed);
        b.force_open();
        let _ = trial.join().unwrap();
        // A trial success landing after force_open is stale: it cannot close the breaker.
        assert_eq!(b.state(), State::ForcedOpen);
        rig.assert_valid_path();
        b.reset();
        assert!(succeed(b).is_ok());
    });
}

#[test]
fn reset_and_force_open_racing_failures_leave_a_valid_history() {
    model(|| {
        let rig = rig(Config::builder().failure_threshold(2));
        let b = &rig.breaker;
        let failing = spawn(b, |b| [fail(b), fail(b)]);
        let forcing = spawn(b, CircuitBreaker::force_open);
        b.reset();
        let results = failing.join().unwrap();
        forcing.join().unwrap();
        let ran = results.iter().filter(|r| ran(r)).count() as u64;
        let s = b.snapshot();
        assert_eq!((s.failures, s.rejected), (ran, 2 - ran));
        rig.assert_valid_path();
        b.reset();
        assert!(succeed(b).is_ok(), "reset always brings it back");
    });
}

// ---- listeners -----------------------------------------------------------------------------

#[test]
fn a_listener_that_resets_the_breaker_races_another_trip_without_deadlock() {
    model(|| {
        let rig = rig(Config::builder().failure_threshold(1));
        let b = &rig.breaker;
        // The listener reaches its breaker through a slot emptied at the end, so that the
        // cycle breaker -> listener -> breaker does not trip loom's leak check.
        let slot = Arc::new(Mutex::new(Some(b.clone())));
        let held = slot.clone();
        b.on_state_change(move |t| {
            if t.to == State::Open {
                let b = held.lock().unwrap().clone();
                // Runs outside every lock of the breaker: changing it from here must not
                // deadlock, and the reset is delivered after this transition.
                if let Some(b) = b {
                    b.reset();
                }
            }
        });
        let other = spawn(b, fail);
        let _ = fail(b);
        let _ = other.join().unwrap();
        rig.assert_valid_path();
        assert_eq!(
            b.state(),
            State::Closed,
            "every trip was followed by its reset"
        );
        slot.lock().unwrap().take();
    });
}

#[test]
fn first_counts_racing_to_allocate_the_totals_are_exact() {
    // Both threads find no stripe table and race to install one (`breaker/totals.rs`); the
    // loser frees its own, and no count is lost or lands in a freed table.
    model(|| {
        let rig = rig(Config::builder());
        let other = spawn(&rig.breaker, succeed);
        let _ = succeed(&rig.breaker);
        let _ = fail(&rig.breaker);
        let _ = other.join().unwrap();
        let snapshot = rig.breaker.snapshot();
        assert_eq!((snapshot.successes, snapshot.failures), (2, 1));
    });
}

#[test]
fn a_lookup_racing_a_resize_of_the_registry_finds_every_breaker() {
    // The registry's table holds 16 slots and grows at the ninth name (`registry/table.rs`):
    // a reader probing while the writer copies into the bigger table and publishes it must
    // find every breaker made before, and the new one either not yet or whole.
    model(|| {
        let registry = Arc::new(circuit_core::Registry::new());
        for i in 0..8 {
            registry.get_or_create(&format!("n{i}"), Config::default());
        }
        let writer = registry.clone();
        let grower = thread::spawn(move || {
            writer
                .lookup_or_create("n8", Config::default)
                .name()
                .to_owned()
        });
        assert_eq!(registry.lookup("n0").map(|b| b.name()), Some("n0"));
        if let Some(b) = registry.lookup("n8") {
            assert_eq!(b.name(), "n8");
        }
        assert_eq!(grower.join().unwrap(), "n8");
        assert_eq!(registry.lookup("n7").map(|b| b.name()), Some("n7"));
        assert!(std::ptr::eq(
            registry.lookup("n8").unwrap(),
            &*registry.get("n8").unwrap()
        ));
    });
}

// ---- the failure-rate window (breaker/window) ------------------------------------------------

/// A failure-rate rule over the last 10 calls, the consecutive rule replaced.
fn rate_rule(threshold: f64, minimum_calls: u32) -> ConfigBuilder {
    Config::builder()
        .failure_rate_threshold(threshold)
        .sliding_window(SlidingWindow::Count(10))
        .minimum_calls(minimum_calls)
}

#[test]
fn two_failures_deciding_at_once_trip_exactly_once_on_both() {
    model(|| {
        // Either failure alone, with only its own call counted, is below the minimum of 2:
        // whichever takes the window's lock second sees both calls (the lock orders the first
        // one's count before its own). The first may see both calls counted too, the other
        // failure not yet recorded: 1 failure in 2 calls is already the threshold, and it
        // trips; the second then finds the period over. Either way, one transition.
        let rig = rig(rate_rule(0.5, 2));
        let b = &rig.breaker;
        let other = spawn(b, fail);
        let mine = fail(b);
        assert!(ran(&mine) && ran(&other.join().unwrap()));
        assert_eq!(b.state(), State::Open);
        let seen = rig.seen.lock().unwrap().clone();
        assert_eq!(seen.len(), 1, "{seen:?}");
        assert!(
            matches!(
                seen[0],
                (
                    State::Closed,
                    State::Open,
                    Reason::FailureRate {
                        failures: 1 | 2,
                        calls: 2
                    }
                )
            ),
            "{seen:?}"
        );
        drop(seen);
        rig.assert_valid_path();
    });
}

#[test]
fn a_failure_deciding_while_a_success_reads_the_flag_decides_by_the_next_call() {
    model(|| {
        // 1 failure in 2 calls reaches the threshold at the minimum. The success may count
        // itself after the failure summed the stripes and read the flag before the failure
        // set it: then neither decides with both, the accuracy the design states (a position
        // may miss a call in flight). The flag is then set, so the next call decides with
        // every call counted.
        let rig = rig(rate_rule(0.5, 2));
        let b = &rig.breaker;
        let other = spawn(b, succeed);
        let mine = fail(b);
        assert!(ran(&mine));
        assert!(ran(&other.join().unwrap()));
        let tripped_at_once = b.state() == State::Open;
        let next = fail(b);
        assert_eq!(
            b.state(),
            State::Open,
            "decided at the latest by the next call"
        );
        assert_eq!(ran(&next), !tripped_at_once);
        let seen = rig.seen.lock().unwrap().clone();
        let expected = if tripped_at_once {
            Reason::FailureRate {
                failures: 1,
                calls: 2,
            }
        } else {
            Reason::FailureRate {
                failures: 2,
                calls: 3,
            }
        };
        assert_eq!(seen, [(State::Closed, State::Open, expected)]);
        drop(seen);
        rig.assert_valid_path();
    });
}

#[test]
fn a_success_reading_a_set_flag_decides_while_a_failure_does() {
    model(|| {
        // The flag is set before the race (1 failure, below the minimum of 3), so the success
        // always decides: whichever of the two decides second sees all three calls.
        let rig = rig(rate_rule(0.6, 3));
        let b = &rig.breaker;
        assert!(ran(&fail(b)));
        let other = spawn(b, succeed);
        let mine = fail(b);
        assert!(ran(&mine) && ran(&other.join().unwrap()));
        assert_eq!(b.state(), State::Open);
        let seen = rig.seen.lock().unwrap().clone();
        assert_eq!(
            seen,
            [(
                State::Closed,
                State::Open,
                Reason::FailureRate {
                    failures: 2,
                    calls: 3
                }
            )]
        );
    });
}

// ---- call durations ------------------------------------------------------------------------

#[test]
fn recorded_calls_racing_to_allocate_the_histogram_count_each_whole() {
    // Two calls on a breaker that records call durations find no histogram stripes and race to
    // install their table (`breaker/stripes.rs`, as the totals do): the loser frees its own,
    // and each call lands once, in its outcome's bucket, with its own time.
    model(|| {
        let rig = rig(Config::builder().record_call_durations(true));
        let clock = rig.clock.clone();
        let other = spawn(&rig.breaker, move |b| {
            b.call(|| {
                clock.advance(Duration::from_millis(5));
                Ok::<_, ()>(())
            })
        });
        let _ = succeed(&rig.breaker);
        assert!(other.join().unwrap().is_ok());
        let d = rig.breaker.durations().unwrap();
        assert_eq!(d.success.count(), 2);
        // This thread's call ran while the other moved the clock, or not.
        let (sum, counts) = (d.success.sum(), d.success.counts());
        if sum == Duration::from_millis(5) {
            assert_eq!((counts[0], counts[2]), (1, 1), "0 and 5 ms");
        } else {
            assert_eq!(sum, Duration::from_millis(10));
            assert_eq!(counts[2], 2, "5 ms each");
        }
    });
}

#[test]
fn recording_turned_on_while_a_call_runs_counts_it_whole_or_not_at_all() {
    // `reconfigure` installs the window's shared part and sets the recording flag while
    // another thread's call reads them at admission and at its outcome: the call is counted
    // with its exact time or not at all, and every call after the reload is counted.
    model(|| {
        let rig = rig(Config::builder());
        let on = rig
            .breaker
            .config()
            .to_builder()
            .record_call_durations(true)
            .build()
            .unwrap();
        let clock = rig.clock.clone();
        let other = spawn(&rig.breaker, move |b| {
            b.call(|| {
                clock.advance(Duration::from_millis(30));
                Ok::<_, ()>(())
            })
        });
        rig.breaker.reconfigure(on);
        assert!(other.join().unwrap().is_ok());
        let d = rig.breaker.durations().unwrap();
        match d.success.count() {
            0 => assert_eq!(d.success.sum(), Duration::ZERO),
            1 => assert_eq!(d.success.sum(), Duration::from_millis(30)),
            n => panic!("one call counted {n} times"),
        }
        let before = d.success.count();
        let _ = succeed(&rig.breaker);
        let after = rig.breaker.durations().unwrap().success.count();
        assert_eq!(after, before + 1);
        assert_eq!(rig.breaker.snapshot().successes, 2);
    });
}
