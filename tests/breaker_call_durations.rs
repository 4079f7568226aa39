//! `record_call_durations`: each admitted call is timed on the breaker's precise clock from
//! admission to its outcome (async calls from their first poll) into a histogram of fixed
//! buckets per outcome. Calls take time by moving a `ManualClock` inside them.

use circuit_core::clock::ManualClock;
use circuit_core::report::{CallDurations, DurationHistogram, DURATION_BUCKETS};
use circuit_core::{CircuitBreaker, Config, ConfigBuilder, Outcome, Registry, State};
use std::future::{pending, Future};
use std::pin::pin;
use std::sync::{Arc, Barrier};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// A breaker that records call durations, on a manual clock the test holds.
fn recording(builder: ConfigBuilder) -> (CircuitBreaker, ManualClock) {
    let clock = ManualClock::new();
    let config = builder
        .record_call_durations(true)
        .clock(clock.clone())
        .build()
        .unwrap();
    (CircuitBreaker::new("timed", config), clock)
}

/// A call that takes `took` and ends as `result`.
fn call(b: &CircuitBreaker, clock: &ManualClock, took: Duration, result: Result<(), &str>) {
    let _ = b.call(|| {
        clock.advance(took);
        result
    });
}

fn durations(b: &CircuitBreaker) -> DurationHistogram {
    b.durations().expect("the breaker records call durations")
}

/// The bucket a duration belongs in, by its bound (`None`: past the last).
fn bucket(bound: Option<Duration>) -> usize {
    match bound {
        Some(bound) => DURATION_BUCKETS.iter().position(|&b| b == bound).unwrap(),
        None => DURATION_BUCKETS.len(),
    }
}

/// `(bucket, count)` of every non-empty bucket.
fn filled(d: &CallDurations) -> Vec<(usize, u64)> {
    d.counts()
        .iter()
        .copied()
        .enumerate()
        .filter(|&(_, n)| n > 0)
        .collect()
}

#[test]
fn by_default_calls_are_not_timed_and_there_is_no_histogram() {
    let clock = ManualClock::new();
    let b = CircuitBreaker::new(
        "plain",
        Config::builder().clock(clock.clone()).build().unwrap(),
    );
    assert!(!b.config().record_call_durations());
    call(&b, &clock, ms(30), Ok(()));
    assert_eq!(b.durations(), None);
    assert_eq!(b.snapshot().durations, None);
}

#[test]
fn each_duration_lands_in_the_first_bucket_whose_bound_it_does_not_exceed() {
    let (b, clock) = recording(Config::builder());
    let took = [
        (Duration::ZERO, Some(ms(1))),
        (ms(1), Some(ms(1))),
        (
            ms(1) + Duration::from_nanos(1),
            Some(Duration::from_micros(2500)),
        ),
        (ms(30), Some(ms(50))),
        (ms(250), Some(ms(250))),
        (ms(999), Some(ms(1000))),
        (Duration::from_secs(10), Some(Duration::from_secs(10))),
        (Duration::from_secs(10) + Duration::from_nanos(1), None),
        (Duration::from_secs(3600), None),
    ];
    for (duration, _) in took {
        call(&b, &clock, duration, Ok(()));
    }
    let d = durations(&b);
    let mut want = [0u64; DURATION_BUCKETS.len() + 1];
    for (_, bound) in took {
        want[bucket(bound)] += 1;
    }
    assert_eq!(d.success.counts(), &want);
    assert_eq!(d.success.count(), took.len() as u64);
    let sum: Duration = took.iter().map(|(d, _)| *d).sum();
    assert_eq!(d.success.sum(), sum, "to the nanosecond on a manual clock");
    assert_eq!(d.count(), took.len() as u64);
    assert_eq!(b.snapshot().durations, Some(d));
}

#[test]
fn each_outcome_has_its_own_histogram() {
    let (b, clock) = recording(Config::builder().failure_threshold(100));
    call(&b, &clock, ms(3), Ok(()));
    call(&b, &clock, ms(40), Err("down"));
    let classify = |e: &&str| match *e {
        "not found" => Outcome::Excluded,
        "cancelled" => Outcome::Ignored,
        _ => Outcome::Failure,
    };
    let _ = b.call_with(
        || {
            clock.advance(ms(7));
            Err::<(), _>("not found")
        },
        classify,
    );
    let _ = b.call_with(
        || {
            clock.advance(ms(600));
            Err::<(), _>("cancelled")
        },
        classify,
    );
    let d = durations(&b);
    assert_eq!(filled(&d.success), [(bucket(Some(ms(5))), 1)]);
    assert_eq!(filled(&d.failure), [(bucket(Some(ms(50))), 1)]);
    assert_eq!(filled(&d.excluded), [(bucket(Some(ms(10))), 1)]);
    assert_eq!(filled(&d.ignored), [(bucket(Some(ms(1000))), 1)]);
    assert_eq!(
        [
            d.success.sum(),
            d.failure.sum(),
            d.excluded.sum(),
            d.ignored.sum()
        ],
        [ms(3), ms(40), ms(7), ms(600)]
    );
    // The totals count the same calls: an excluded error is also a success there.
    let s = b.snapshot();
    assert_eq!(
        (s.successes, s.failures, s.excluded, s.ignored),
        (2, 1, 1, 1)
    );
}

#[test]
fn a_retry_after_and_a_panic_are_timed_as_failures() {
    let (b, clock) = recording(Config::builder().failure_threshold(100));
    let permit = b.try_acquire().unwrap();
    clock.advance(ms(20));
    permit.open_for(Duration::from_secs(30));
    assert_eq!(b.state(), State::Open);
    b.reset();
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = b.call(|| -> Result<(), ()> {
            clock.advance(ms(200));
            panic!("the call panics");
        });
    }));
    assert!(panicked.is_err());
    let d = durations(&b);
    assert_eq!(
        filled(&d.failure),
        [(bucket(Some(ms(25))), 1), (bucket(Some(ms(250))), 1)]
    );
    assert_eq!(
        d.success.count() + d.excluded.count() + d.ignored.count(),
        0
    );
}

#[test]
fn rejected_calls_cancelled_permits_and_disabled_calls_are_not_timed() {
    let (b, clock) = recording(Config::builder().failure_threshold(1));
    call(&b, &clock, ms(2), Err("down"));
    assert_eq!(b.state(), State::Open);
    for _ in 0..5 {
        call(&b, &clock, ms(0), Ok(()));
    }
    assert_eq!(b.snapshot().rejected, 5);
    b.reset();
    // A permit dropped without a report is a call without an outcome.
    let permit = b.try_acquire().unwrap();
    clock.advance(ms(80));
    drop(permit);
    b.disable();
    call(&b, &clock, ms(9), Ok(()));
    let d = durations(&b);
    assert_eq!(d.count(), 1, "only the failure that tripped it: {d:?}");
    assert_eq!(d.failure.sum(), ms(2));
}

#[test]
fn trials_and_a_metrics_only_breakers_calls_are_timed() {
    let (b, clock) = recording(
        Config::builder()
            .failure_threshold(1)
            .success_threshold(1)
            .half_open_max_calls(1),
    );
    call(&b, &clock, ms(1), Err("down"));
    clock.advance(Duration::from_secs(60));
    call(&b, &clock, ms(4), Ok(())); // the trial: closes it
    assert_eq!(b.state(), State::Closed);
    b.set_metrics_only(true);
    call(&b, &clock, ms(1), Err("down"));
    call(&b, &clock, ms(60), Ok(())); // would have been rejected
    assert_eq!(b.snapshot().would_reject, 1);
    let d = durations(&b);
    assert_eq!(
        filled(&d.success),
        [(bucket(Some(ms(5))), 1), (bucket(Some(ms(100))), 1)]
    );
    assert_eq!(d.failure.count(), 2);
}

#[test]
fn a_result_that_comes_back_after_a_trip_is_timed_like_any_other() {
    let (b, clock) = recording(Config::builder().failure_threshold(1));
    let late = b.try_acquire().unwrap();
    call(&b, &clock, ms(1), Err("down"));
    clock.advance(ms(400));
    late.success(); // stale: counted, moves nothing
    assert_eq!(b.state(), State::Open);
    assert_eq!(filled(&durations(&b).success), [(bucket(Some(ms(500))), 1)]);
}

#[test]
fn slow_calls_and_durations_read_one_clock() {
    let (b, clock) = recording(Config::builder().slow_call_duration(ms(100)));
    call(&b, &clock, ms(99), Ok(()));
    call(&b, &clock, ms(100), Ok(()));
    call(&b, &clock, ms(150), Err("down"));
    let s = b.snapshot();
    assert_eq!(s.slow, 2);
    let d = s.durations.unwrap();
    assert_eq!(d.success.sum(), ms(199));
    assert_eq!(d.failure.sum(), ms(150));
}

/// Polls `fut` once with a waker that does nothing.
fn poll_once<F: Future>(fut: std::pin::Pin<&mut F>) -> Poll<F::Output> {
    fut.poll(&mut Context::from_waker(Waker::noop()))
}

#[test]
fn an_async_call_is_timed_from_its_first_poll_to_its_outcome() {
    let (b, clock) = recording(Config::builder());
    let mut ready = false;
    let upstream = std::future::poll_fn(|_| {
        if ready {
            Poll::Ready(Ok::<_, &str>(()))
        } else {
            ready = true;
            Poll::Pending
        }
    });
    let mut fut = pin!(b.call_async(upstream));
    clock.advance(Duration::from_secs(5)); // made, not polled: not the call's time
    assert!(poll_once(fut.as_mut()).is_pending());
    clock.advance(ms(70));
    assert!(matches!(poll_once(fut.as_mut()), Poll::Ready(Ok(()))));
    let d = durations(&b);
    assert_eq!(filled(&d.success), [(bucket(Some(ms(100))), 1)]);
    assert_eq!(d.success.sum(), ms(70));
}

#[test]
fn an_async_failure_is_timed_as_a_failure() {
    let (b, clock) = recording(Config::builder());
    let fut = b.call_async(async {
        clock.advance(ms(12));
        Err::<(), _>("down")
    });
    assert!(matches!(
        poll_once(pin!(fut)),
        Poll::Ready(Err(circuit_core::CircuitError::Inner("down")))
    ));
    assert_eq!(filled(&durations(&b).failure), [(bucket(Some(ms(25))), 1)]);
}

#[test]
fn an_abandoned_call_is_timed_only_when_it_counts_as_a_failure() {
    let (b, clock) = recording(Config::builder().abandoned_call_duration(ms(500)));
    for waited in [ms(100), ms(700)] {
        let mut fut = Box::pin(b.call_async(pending::<Result<(), ()>>()));
        assert!(poll_once(fut.as_mut()).is_pending());
        clock.advance(waited);
        drop(fut);
    }
    let s = b.snapshot();
    assert_eq!((s.abandoned, s.failures), (2, 1));
    let d = s.durations.unwrap();
    assert_eq!(d.count(), 1, "the short one has no outcome");
    assert_eq!(d.failure.sum(), ms(700));
}

#[tokio::test(start_paused = true)]
async fn a_timed_out_call_is_timed_as_a_failure_until_its_cancellation() {
    let (b, clock) = recording(Config::builder().timeout(ms(500)));
    let r = b
        .call_async(async {
            // The breaker's clock moves with the call; tokio's clock decides the timeout.
            clock.advance(ms(300));
            tokio::time::sleep(Duration::from_secs(2)).await;
            clock.advance(ms(9000));
            Ok::<_, ()>(())
        })
        .await;
    assert!(r.unwrap_err().is_timeout());
    let d = durations(&b);
    assert_eq!(filled(&d.failure), [(bucket(Some(ms(500))), 1)]);
    assert_eq!(d.failure.sum(), ms(300));
}

#[test]
fn calls_recorded_from_many_threads_add_up_exactly() {
    // More threads than a breaker has stripes on a small machine (8), so the shared overflow
    // stripe counts too. Every permit is taken at one time and reported at another, so each
    // call takes exactly 30 ms whatever the interleaving.
    const THREADS: usize = 12;
    const CALLS: usize = 2_001; // a multiple of the three outcomes
    let (b, clock) = recording(Config::builder().failure_threshold(u32::MAX));
    let b = Arc::new(b);
    let (taken, moved) = (
        Arc::new(Barrier::new(THREADS + 1)),
        Arc::new(Barrier::new(THREADS + 1)),
    );
    let workers: Vec<_> = (0..THREADS)
        .map(|_| {
            let (b, taken, moved) = (b.clone(), taken.clone(), moved.clone());
            std::thread::spawn(move || {
                let permits: Vec<_> = (0..CALLS).map(|_| b.try_acquire().unwrap()).collect();
                taken.wait();
                moved.wait();
                for (i, permit) in permits.into_iter().enumerate() {
                    match i % 3 {
                        0 => permit.success(),
                        1 => permit.failure(),
                        _ => permit.exclude(),
                    }
                }
            })
        })
        .collect();
    taken.wait();
    clock.advance(ms(30));
    moved.wait();
    for w in workers {
        w.join().unwrap();
    }
    let d = durations(&b);
    let per_outcome = (THREADS * CALLS / 3) as u64;
    for (result, calls) in d.by_result() {
        let want = if result == "ignored" { 0 } else { per_outcome };
        assert_eq!(
            filled(calls),
            if want == 0 {
                vec![]
            } else {
                vec![(bucket(Some(ms(50))), want)]
            },
            "{result}"
        );
        assert_eq!(calls.sum(), ms(30) * want as u32, "{result}");
    }
    assert_eq!(d.count(), (THREADS * CALLS) as u64);
}

#[test]
fn reconfiguring_turns_recording_on_and_off_and_the_counts_are_kept() {
    let clock = ManualClock::new();
    let off = Config::builder().clock(clock.clone()).build().unwrap();
    let on = off
        .to_builder()
        .record_call_durations(true)
        .build()
        .unwrap();
    let b = CircuitBreaker::new("reloaded", off.clone());
    call(&b, &clock, ms(5), Ok(()));
    assert_eq!(b.durations(), None);

    b.reconfigure(on.clone());
    call(&b, &clock, ms(5), Ok(()));
    assert_eq!(durations(&b).success.count(), 1, "from the next call on");
    // Admitted while recording, finished after it stopped: not counted.
    let admitted_on = b.try_acquire().unwrap();
    b.reconfigure(off.clone());
    assert_eq!(b.durations(), None, "hidden while off");
    call(&b, &clock, ms(5), Ok(()));
    admitted_on.success();
    // Admitted while off, finished while on: it was never timed.
    let admitted_off = b.try_acquire().unwrap();
    b.reconfigure(on);
    admitted_off.success();
    call(&b, &clock, ms(5), Err("down"));
    let d = durations(&b);
    assert_eq!(
        (d.success.count(), d.failure.count()),
        (1, 1),
        "the count kept from before, and the new call"
    );
    assert_eq!(b.snapshot().successes, 5, "the totals counted every call");
}

#[test]
fn a_registry_reload_turns_recording_on_for_a_named_breaker() {
    let registry = Registry::new();
    let clock = ManualClock::new();
    let base = Config::builder().clock(clock.clone()).build().unwrap();
    let b = registry.get_or_create("orders", base.clone());
    call(&b, &clock, ms(3), Ok(()));
    registry.configure(
        "orders",
        base.to_builder()
            .record_call_durations(true)
            .build()
            .unwrap(),
    );
    call(&b, &clock, ms(3), Ok(()));
    let snapshots = registry.snapshots();
    let d = snapshots[0]
        .durations
        .as_ref()
        .expect("recording after the reload");
    assert_eq!(d.success.count(), 1);
    registry.configure("orders", base);
    assert_eq!(registry.snapshots()[0].durations, None);
}

#[test]
fn reset_keeps_the_counts_like_the_totals() {
    let (b, clock) = recording(Config::builder());
    call(&b, &clock, ms(3), Ok(()));
    b.reset();
    assert_eq!(durations(&b).success.count(), 1);
}
