//! Randomized runtime scenarios: calls racing reconfigurations, clock jumps of any size and
//! permits that are forgotten, on one breaker, from three threads. After each scenario the
//! breaker must be one that decides: driven only by waiting and successful calls, it closes.
//! Along the way the totals equal what the callers saw, the transitions heard form one legal
//! path ending in `state()`, and a HalfOpen breaker has fewer successes than it needs.
//!
//! `cargo test --test reliability_fuzz` runs 512 scenarios (384,000 operations, under a
//! second). A longer run:
//!
//! ```sh
//! CIRCUIT_FUZZ_CASES=20000 cargo test --release --test reliability_fuzz -- --nocapture
//! ```
//!
//! Every scenario is numbered and generated from its number alone, so a failure names the case
//! to run again (`CIRCUIT_FUZZ_FIRST=<n> CIRCUIT_FUZZ_CASES=1`); the interleaving of its threads
//! is the operating system's, so a rare race may need several runs to show again. A scenario
//! that does not finish within 60 s fails the run as a hang.

mod common;
use circuit_core::clock::ManualClock;
use circuit_core::{CircuitBreaker, CircuitError, Config, Permit, Reason, State, Transition};
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::task::{Context, Waker};
use std::time::Duration;

/// A small generator (xorshift64*), enough to spread the choices; not for anything else.
struct Rng(u64);

impl Rng {
    fn for_case(case: u64) -> Rng {
        Rng(case.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// In `lo..=hi`.
    fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A valid configuration: thresholds up to 3, timeouts and waits of 1-300 ms, call durations
/// recorded or not (so reloads turn recording on and off under the calls).
fn config(rng: &mut Rng, clock: &ManualClock) -> Config {
    let max = rng.between(1, 3) as u32;
    let failures = rng.between(1, 3) as u32;
    let successes = rng.between(1, u64::from(max)) as u32;
    let recovery_ms = rng.between(1, 200);
    Config::builder()
        .failure_threshold(failures)
        .half_open_max_calls(max)
        .success_threshold(successes)
        .recovery_timeout(Duration::from_millis(recovery_ms))
        .half_open_max_wait(Duration::from_millis(rng.between(1, 300)))
        // From a draw already made, not a new one: each numbered case keeps the scenario it
        // had before recording existed.
        .record_call_durations(recovery_ms % 2 == 1)
        .clock(clock.clone())
        .build()
        .expect("valid by construction")
}

/// What one thread saw: outcomes it reported and rejections it met.
#[derive(Default)]
struct Seen {
    successes: u64,
    failures: u64,
    rejected: u64,
}

impl Seen {
    fn add(&mut self, other: &Seen) {
        self.successes += other.successes;
        self.failures += other.failures;
        self.rejected += other.rejected;
    }

    fn call(&mut self, r: Result<(), CircuitError<()>>, ok: bool) {
        match r {
            Err(CircuitError::Open(_)) => self.rejected += 1,
            _ if ok => self.successes += 1,
            _ => self.failures += 1,
        }
    }
}

/// A caller: calls, permits held and reported later, permits forgotten, futures dropped.
fn caller(b: &CircuitBreaker, rng: &mut Rng, ops: usize) -> Seen {
    let mut seen = Seen::default();
    let mut held: Vec<Permit<'_>> = Vec::new();
    for _ in 0..ops {
        match rng.below(100) {
            0..=39 => seen.call(b.call(|| Ok(())), true),
            40..=59 => seen.call(b.call(|| Err(())), false),
            60..=69 => match b.try_acquire() {
                Ok(p) if held.len() < 3 => held.push(p),
                Ok(p) => {
                    p.success();
                    seen.successes += 1;
                }
                Err(_) => seen.rejected += 1,
            },
            70..=79 => {
                if let Some(p) = held.pop() {
                    if rng.below(2) == 0 {
                        p.success();
                        seen.successes += 1;
                    } else {
                        p.failure();
                        seen.failures += 1;
                    }
                }
            }
            80..=81 => match b.try_acquire() {
                // Lost for good: only the half-open wait gets its slot back.
                Ok(p) => std::mem::forget(p),
                Err(_) => seen.rejected += 1,
            },
            82..=86 => {
                // Polled once, then dropped: counts nothing.
                let fut = pin!(b.call_async(std::future::pending::<Result<(), ()>>()));
                if let std::task::Poll::Ready(Err(CircuitError::Open(_))) =
                    fut.poll(&mut Context::from_waker(Waker::noop()))
                {
                    seen.rejected += 1;
                }
            }
            87..=94 => {
                let _ = b.state();
            }
            _ => drop(held.pop()), // cancelled
        }
    }
    for p in held {
        p.success();
        seen.successes += 1;
    }
    seen
}

/// The chaos: reloads and clock moves, small and huge.
fn chaos(b: &CircuitBreaker, clock: &ManualClock, rng: &mut Rng, ops: usize, jumps: &AtomicU64) {
    for _ in 0..ops {
        match rng.below(1000) {
            0..=349 => b.reconfigure(config(rng, clock)),
            350..=989 => clock.advance(Duration::from_micros(rng.between(0, 60_000))),
            990..=995 => {
                jumps.fetch_add(1, Ordering::Relaxed);
                clock.advance(Duration::from_secs(rng.between(1, 1 << 40)));
            }
            _ => {
                jumps.fetch_add(1, Ordering::Relaxed);
                clock.advance(Duration::MAX);
            }
        }
        if rng.below(4) == 0 {
            std::thread::yield_now();
        }
    }
}

fn legal(t: &Transition) -> bool {
    match t.reason {
        Reason::FailureThreshold(_) => (t.from, t.to) == (State::Closed, State::Open),
        Reason::RecoveryTimeout => (t.from, t.to) == (State::Open, State::HalfOpen),
        Reason::TrialFailed | Reason::HalfOpenMaxWait => {
            (t.from, t.to) == (State::HalfOpen, State::Open)
        }
        Reason::TrialsSucceeded(_) => (t.from, t.to) == (State::HalfOpen, State::Closed),
        _ => false,
    }
}

/// Runs scenario `case`; returns the operations it made.
fn scenario(case: u64) -> u64 {
    const CALLER_OPS: usize = 300;
    const CHAOS_OPS: usize = 150;
    let mut rng = Rng::for_case(case);
    let clock = ManualClock::new();
    let b = Arc::new(CircuitBreaker::new("fuzz", config(&mut rng, &clock)));
    let heard = Arc::new(Mutex::new(Vec::new()));
    let h = heard.clone();
    b.on_state_change(move |t| h.lock().unwrap().push(t.clone()));
    let jumps = Arc::new(AtomicU64::new(0));

    let mut seen = Seen::default();
    std::thread::scope(|s| {
        let callers: Vec<_> = (0..2)
            .map(|i| {
                let (b, mut rng) = (&b, Rng::for_case(case ^ (i + 1) << 32));
                s.spawn(move || caller(b, &mut rng, CALLER_OPS))
            })
            .collect();
        let (b2, clock2, jumps2) = (&b, &clock, &jumps);
        let mut chaos_rng = Rng::for_case(!case);
        s.spawn(move || chaos(b2, clock2, &mut chaos_rng, CHAOS_OPS, jumps2));
        for c in callers {
            seen.add(&c.join().unwrap());
        }
    });

    // Totals are what the callers saw.
    let snap = b.snapshot();
    assert_eq!(
        (snap.successes, snap.failures, snap.rejected),
        (seen.successes, seen.failures, seen.rejected),
        "case {case}: totals"
    );
    // Calls timed while recording was on, each once at most: never more than the calls with
    // an outcome.
    if let Some(d) = &snap.durations {
        assert!(
            d.count() <= snap.successes + snap.failures + snap.ignored,
            "case {case}: {} calls timed of {} with an outcome",
            d.count(),
            snap.successes + snap.failures + snap.ignored
        );
    }
    // One legal path, ending where the breaker is.
    let mut at = State::Closed;
    for t in heard.lock().unwrap().iter() {
        assert!(t.from == at && legal(t), "case {case}: illegal {t}");
        at = t.to;
    }
    assert_eq!(at, b.state(), "case {case}: the path ends in the state");
    drop(heard);

    // One more reload, with nothing running: a HalfOpen period whose successes meet the
    // threshold in force has closed.
    b.reconfigure(config(&mut rng, &clock));
    let snap = b.snapshot();
    if snap.state == State::HalfOpen {
        assert!(
            snap.success_count < b.config().success_threshold(),
            "case {case}: HalfOpen with {} successes of {} needed",
            snap.success_count,
            b.config().success_threshold()
        );
    }

    // It decides: waiting out its timeouts and calling successfully closes it.
    let config = b.config();
    let wait =
        config.recovery_timeout().max(config.half_open_max_wait()) + Duration::from_millis(1);
    for _ in 0..4 {
        if b.state() == State::Closed {
            break;
        }
        clock.advance(wait);
        for _ in 0..=config.half_open_max_calls() {
            let _ = b.call(|| Ok::<_, ()>(()));
        }
    }
    assert_eq!(
        b.state(),
        State::Closed,
        "case {case}: stranded, {b:?}, after jumps: {}",
        jumps.load(Ordering::Relaxed)
    );
    (2 * CALLER_OPS + CHAOS_OPS) as u64
}

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn random_races_of_calls_reloads_clock_jumps_and_lost_permits_leave_a_breaker_that_decides() {
    let first = env("CIRCUIT_FUZZ_FIRST", 0);
    let cases = env("CIRCUIT_FUZZ_CASES", 512);
    let mut ops = 0;
    for case in first..first + cases {
        // A watchdog per scenario: a hang fails the run instead of stalling it.
        let (done, finished) = mpsc::channel();
        let runner = std::thread::spawn(move || {
            let ops = scenario(case);
            let _ = done.send(ops);
        });
        match finished.recv_timeout(Duration::from_secs(60)) {
            Ok(n) => ops += n,
            Err(mpsc::RecvTimeoutError::Timeout) => panic!("case {case} hung"),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                // The scenario panicked: report its own message.
                if let Err(panic) = runner.join() {
                    std::panic::resume_unwind(panic);
                }
                unreachable!("a scenario that returns sends its count");
            }
        }
    }
    println!("{cases} scenarios, {ops} operations");
}
