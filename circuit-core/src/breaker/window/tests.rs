//! The window's accuracy, checked against the calls each decision could and could not see.

use crate::config::SlidingWindow;
use crate::{CircuitBreaker, Config};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

fn counting_breaker() -> CircuitBreaker {
    // Every call stays in the window and no rate can trip: the tally counts calls, nothing more.
    let config = Config::builder()
        .failure_rate_threshold(1.0)
        .sliding_window(SlidingWindow::Count(u32::MAX))
        .minimum_calls(u32::MAX)
        .build()
        .unwrap();
    CircuitBreaker::new("accuracy", config)
}

#[test]
fn a_position_counts_every_call_that_finished_before_it() {
    let breaker = Arc::new(counting_breaker());
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let b = breaker.clone();
            std::thread::spawn(move || {
                for _ in 0..1000 {
                    let _ = b.call(|| Ok::<_, ()>(()));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let _ = breaker.call(|| Err::<(), _>(()));
    let (tally, _) = breaker.window_look().unwrap();
    assert_eq!((tally.calls, tally.failures), (4001, 1));
}

/// The bound the design states: a decision (here a look, which reads positions the same way)
/// counts every call finished before it began and none that had not started, so it misses at
/// most the calls in flight, one per thread.
#[test]
fn a_position_misses_at_most_the_calls_in_flight() {
    const THREADS: u64 = 3;
    let breaker = Arc::new(counting_breaker());
    let started = Arc::new(AtomicU64::new(0));
    let finished = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..THREADS)
        .map(|_| {
            let (b, started, finished, stop) = (
                breaker.clone(),
                started.clone(),
                finished.clone(),
                stop.clone(),
            );
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    started.fetch_add(1, Ordering::SeqCst);
                    let _ = b.call(|| Ok::<_, ()>(()));
                    finished.fetch_add(1, Ordering::SeqCst);
                }
            })
        })
        .collect();
    let mut widest_gap = 0;
    for _ in 0..20_000 {
        let before = finished.load(Ordering::SeqCst);
        let (tally, _) = breaker.window_look().unwrap();
        let after = started.load(Ordering::SeqCst);
        assert!(
            before <= tally.calls && tally.calls <= after,
            "{before} finished before the look, {after} started after it, the look saw {}",
            tally.calls
        );
        widest_gap = widest_gap.max(after - before);
    }
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().unwrap();
    }
    println!("calls in flight around a look: at most {widest_gap}");
}
