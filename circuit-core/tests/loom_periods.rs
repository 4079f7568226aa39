//! Model checks of the state beside the word that the open period's backoff and metrics-only
//! mode add (`breaker/backoff.rs`): the re-opening count and period published before the swap
//! that installs an Open word, and the metrics-only flag kept through every stamp.
//!
//! Compiled only under `--cfg loom`, like `loom.rs` (whose notes on what loom sees apply):
//!
//! ```sh
//! RUSTFLAGS="--cfg loom" cargo test -p circuit-core --release --test loom_periods --target-dir target/loom
//! ```
#![cfg(loom)]

use circuit_core::clock::ManualClock;
use circuit_core::{Backoff, CircuitBreaker, CircuitError, Config, State};
use loom::sync::Arc;
use loom::thread;
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(60);

fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(3);
    }
    builder.check(f);
}

fn breaker(max_calls: u32) -> (Arc<CircuitBreaker>, ManualClock) {
    let clock = ManualClock::new();
    let config = Config::builder()
        .failure_threshold(1)
        .success_threshold(1)
        .half_open_max_calls(max_calls)
        .recovery_timeout(TIMEOUT)
        .backoff(Backoff::exponential(2.0, TIMEOUT * 100))
        .clock(clock.clone())
        .build()
        .unwrap();
    (Arc::new(CircuitBreaker::new("loom", config)), clock)
}

fn fail(b: &CircuitBreaker) -> Result<(), CircuitError<()>> {
    b.call(|| Err(()))
}

#[test]
fn racing_failed_trials_reopen_once_with_one_more_reopening() {
    model(|| {
        let (b, clock) = breaker(2);
        let _ = fail(&b);
        clock.advance(TIMEOUT);
        // Both trials may be admitted before either fails; then both race to reopen.
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let b = b.clone();
                thread::spawn(move || {
                    let _ = fail(&b);
                })
            })
            .collect();
        // A reader racing the re-opening never sees the new Open word with an older period:
        // what it is told never exceeds the new period, nor is shorter than the time left.
        if let Some(left) = b.retry_after() {
            assert!(left <= TIMEOUT * 2, "{left:?}");
        }
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(b.state(), State::Open);
        assert_eq!(
            b.retry_after(),
            Some(TIMEOUT * 2),
            "one re-opening, not two"
        );
        clock.advance(TIMEOUT * 2);
        let _ = fail(&b);
        assert_eq!(
            b.retry_after(),
            Some(TIMEOUT * 4),
            "the count went on from there"
        );
    });
}

#[test]
fn metrics_only_admission_racing_a_trip_always_runs_the_call() {
    model(|| {
        let (b, _) = breaker(1);
        b.set_metrics_only(true);
        let other = b.clone();
        let tripper = thread::spawn(move || {
            let _ = fail(&other);
        });
        let ran = b.call(|| Ok::<_, ()>(()));
        tripper.join().unwrap();
        assert!(ran.is_ok(), "a metrics-only breaker rejects nothing");
        assert_eq!(b.state(), State::Open);
        let s = b.snapshot();
        assert_eq!((s.rejected, s.successes, s.failures), (0, 1, 1));
        assert!(s.would_reject <= 1);
    });
}

#[test]
fn turning_metrics_only_on_while_a_trip_stamps_its_period_keeps_both() {
    model(|| {
        let (b, _) = breaker(1);
        let other = b.clone();
        let tripper = thread::spawn(move || {
            let _ = fail(&other);
        });
        b.set_metrics_only(true);
        tripper.join().unwrap();
        assert!(b.is_metrics_only(), "the flag survived the period's stamp");
        assert_eq!(
            b.retry_after(),
            Some(TIMEOUT),
            "the stamp survived the flag"
        );
        assert!(b.call(|| Ok::<_, ()>(())).is_ok());
    });
}
