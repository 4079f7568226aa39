//! Property: random sequences of calls (successes, counted and excluded errors, panics,
//! cancelled futures, permits held and reported late), administration and clock moves, run
//! one at a time against a breaker and against the reference model of `docs/design.md` in
//! `reference/`, under the consecutive rule or any mix of the failure-rate and slow-call rules
//! (count and time windows), with slow calls and ignored outcomes. After every step they agree on the state, the counters, the totals, the
//! last step's result (down to a rejection's state and `retry_after`), and the transitions
//! the listeners heard.

mod common;
mod reference;

use circuit_core::clock::ManualClock;
use circuit_core::SlidingWindow;
use circuit_core::{CircuitBreaker, CircuitError, CircuitOpen, Config, Permit, State};
use common::{poll_once, quiet_deliberate_panics, DELIBERATE};
use proptest::prelude::*;
use reference::{Limits, Model, Rejection, Rules, Ticket, Window};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Permits held at once, at most: enough for every trial slot and a stale one or two.
const MAX_HELD: usize = 4;

#[derive(Clone, Copy, Debug)]
enum Call {
    Success,
    Failure,
    /// An error the classifier says is not a failure (the service answered).
    Excluded,
    Panic,
    /// An async call polled once while pending, then dropped.
    Cancelled,
    /// A success, then a failure, that take 3 ms of the clock.
    SlowSuccess,
    SlowFailure,
}

/// How long the slow calls take: slow or not, depending on the breaker's duration (1 to 5 ms).
const SLOW_CALL_MS: u64 = 3;

#[derive(Clone, Copy, Debug)]
enum Report {
    Success,
    Failure,
    Drop,
    Ignore,
}

#[derive(Clone, Debug)]
enum Op {
    Call(Call),
    /// `try_acquire`, keeping the permit to report later (maybe after the state changed).
    Hold,
    /// Reports the held permit at this index (modulo how many are held).
    Report(usize, Report),
    Advance(u64),
    ForceOpen,
    Disable,
    Reset,
}

fn rules() -> impl Strategy<Value = Rules> {
    let window = prop_oneof![
        (1..=6u32).prop_map(Window::Count),
        (10..=60u64).prop_map(Window::TimeMs),
    ];
    let configured = (
        prop::option::of(prop_oneof![Just(0.25), Just(0.5), Just(1.0)]),
        prop::option::of(1..=5u64),
        any::<bool>(),
        window,
        1..=6u32,
        any::<bool>(),
    )
        .prop_map(
            |(failure_rate, slow_ms, slow_rule, window, minimum, explicit)| Rules {
                failure_rate,
                slow_ms,
                slow_rate: slow_ms.filter(|_| slow_rule).map(|_| 0.5),
                window,
                minimum_calls: match window {
                    Window::Count(n) => minimum.min(n),
                    Window::TimeMs(_) => minimum,
                },
                explicit_threshold: explicit,
            },
        );
    prop_oneof![1 => Just(Rules::NONE), 2 => configured]
}

fn limits() -> impl Strategy<Value = Limits> {
    (1..=3u32, 1..=3u32, 1..=20u64, rules()).prop_flat_map(
        |(failure, max_calls, timeout, rules)| {
            (1..=max_calls).prop_map(move |success| Limits {
                failure_threshold: failure,
                success_threshold: success,
                half_open_max_calls: max_calls,
                recovery_timeout_ms: timeout,
                rules,
            })
        },
    )
}

fn op() -> impl Strategy<Value = Op> {
    let call = prop_oneof![
        3 => Just(Call::Success),
        3 => Just(Call::Failure),
        1 => Just(Call::Excluded),
        1 => Just(Call::Panic),
        1 => Just(Call::Cancelled),
        2 => Just(Call::SlowSuccess),
        1 => Just(Call::SlowFailure),
    ];
    let report = prop_oneof![
        Just(Report::Success),
        Just(Report::Failure),
        Just(Report::Drop),
        Just(Report::Ignore),
    ];
    prop_oneof![
        10 => call.prop_map(Op::Call),
        4 => Just(Op::Hold),
        4 => (0..MAX_HELD, report).prop_map(|(i, r)| Op::Report(i, r)),
        4 => (0..=30u64).prop_map(Op::Advance),
        1 => Just(Op::ForceOpen),
        1 => Just(Op::Disable),
        2 => Just(Op::Reset),
    ]
}

#[derive(Debug)]
enum Fault {
    Counted,
    Excluded,
}

fn is_failure(e: &Fault) -> bool {
    matches!(e, Fault::Counted)
}

/// What a step returned, in terms both sides can produce.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Ran,
    Rejected(Rejection),
    /// A step with no result of its own (administration, time, a report).
    Done,
}

fn rejected(open: &CircuitOpen) -> Outcome {
    Outcome::Rejected(Rejection {
        state: open.state(),
        retry_after_ms: open.retry_after().map(|d| {
            assert_eq!(
                d.subsec_nanos() % 1_000_000,
                0,
                "whole ms on a whole-ms clock"
            );
            d.as_millis() as u64
        }),
    })
}

/// Runs a call on the breaker; `Ran` if it ran (whatever it returned).
fn run_call(b: &CircuitBreaker, clock: &ManualClock, call: Call) -> Outcome {
    let slowly = |r: Result<(), Fault>| {
        clock.advance(Duration::from_millis(SLOW_CALL_MS));
        r
    };
    let result: Result<(), CircuitError<Fault>> = match call {
        Call::SlowSuccess => b.call_with(|| slowly(Ok(())), is_failure),
        Call::SlowFailure => b.call_with(|| slowly(Err(Fault::Counted)), is_failure),
        Call::Success => b.call_with(|| Ok(()), is_failure),
        Call::Failure => b.call_with(|| Err(Fault::Counted), is_failure),
        Call::Excluded => {
            let r = b.call_with(|| Err(Fault::Excluded), is_failure);
            if let Err(CircuitError::Inner(e)) = &r {
                assert!(matches!(e, Fault::Excluded), "returned unchanged");
            }
            r
        }
        Call::Panic => {
            let unwound = catch_unwind(AssertUnwindSafe(|| {
                b.call_with(
                    || -> Result<(), Fault> { panic!("{}", DELIBERATE) },
                    is_failure,
                )
            }));
            match unwound {
                Err(_) => return Outcome::Ran, // it ran, and the panic kept unwinding
                Ok(r) => r,
            }
        }
        Call::Cancelled => {
            let fut = b.call_async_with(std::future::pending::<Result<(), Fault>>(), is_failure);
            match poll_once(fut) {
                None => return Outcome::Ran,
                Some(r) => r,
            }
        }
    };
    match result {
        Err(CircuitError::Open(open)) => rejected(&open),
        _ => Outcome::Ran,
    }
}

/// The same call on the model.
fn model_call(m: &mut Model, call: Call) -> Outcome {
    match m.admit() {
        Err(rejection) => Outcome::Rejected(rejection),
        Ok(t) => {
            match call {
                Call::Success | Call::Excluded => m.succeed(t),
                Call::Failure | Call::Panic => m.fail(t),
                Call::Cancelled => m.cancel(t),
                Call::SlowSuccess => {
                    m.advance(SLOW_CALL_MS);
                    m.succeed(t);
                }
                Call::SlowFailure => {
                    m.advance(SLOW_CALL_MS);
                    m.fail(t);
                }
            }
            Outcome::Ran
        }
    }
}

fn report(m: &mut Model, permit: Permit<'_>, t: Ticket, r: Report) {
    match r {
        Report::Success => {
            permit.success();
            m.succeed(t);
        }
        Report::Failure => {
            permit.failure();
            m.fail(t);
        }
        Report::Drop => {
            drop(permit);
            m.cancel(t);
        }
        Report::Ignore => {
            permit.ignore();
            m.ignore(t);
        }
    }
}

fn check(limits: Limits, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let clock = ManualClock::new();
    let rules = limits.rules;
    let mut builder = Config::builder()
        .success_threshold(limits.success_threshold)
        .half_open_max_calls(limits.half_open_max_calls)
        .recovery_timeout(Duration::from_millis(limits.recovery_timeout_ms))
        .clock(clock.clone());
    let rate_rule = rules.failure_rate.is_some() || rules.slow_rate.is_some();
    if rules.explicit_threshold || !rate_rule {
        builder = builder.failure_threshold(limits.failure_threshold);
    }
    if let Some(threshold) = rules.failure_rate {
        builder = builder.failure_rate_threshold(threshold);
    }
    if let Some(ms) = rules.slow_ms {
        builder = builder.slow_call_duration(Duration::from_millis(ms));
    }
    if let Some(threshold) = rules.slow_rate {
        builder = builder.slow_call_rate_threshold(threshold);
    }
    if rules.failure_rate.is_some() || rules.slow_ms.is_some() {
        builder = builder
            .sliding_window(match rules.window {
                Window::Count(n) => SlidingWindow::Count(n),
                Window::TimeMs(ms) => SlidingWindow::Time(Duration::from_millis(ms)),
            })
            .minimum_calls(rules.minimum_calls);
    }
    let config = builder.build().unwrap();
    let b = CircuitBreaker::new("property", config);
    let heard = Arc::new(Mutex::new(Vec::new()));
    let h = heard.clone();
    b.on_state_change(move |t| h.lock().unwrap().push((t.from, t.to)));
    let mut m = Model::new(limits);
    let mut held: Vec<(Permit<'_>, Ticket)> = Vec::new();

    for (step, op) in ops.iter().enumerate() {
        let (real, expected) = match *op {
            Op::Call(call) => (run_call(&b, &clock, call), model_call(&mut m, call)),
            Op::Hold if held.len() < MAX_HELD => match (b.try_acquire(), m.admit()) {
                (Ok(p), Ok(t)) => {
                    held.push((p, t));
                    (Outcome::Ran, Outcome::Ran)
                }
                (Err(open), Err(rejection)) => (rejected(&open), Outcome::Rejected(rejection)),
                (real, model) => {
                    return Err(TestCaseError::fail(format!(
                        "step {step} {op:?}: breaker {real:?}, model {model:?}"
                    )))
                }
            },
            Op::Report(i, r) if !held.is_empty() => {
                let (permit, t) = held.remove(i % held.len());
                report(&mut m, permit, t, r);
                (Outcome::Done, Outcome::Done)
            }
            Op::Advance(ms) => {
                clock.advance(Duration::from_millis(ms));
                m.advance(ms);
                (Outcome::Done, Outcome::Done)
            }
            Op::ForceOpen => {
                b.force_open();
                m.force_open();
                (Outcome::Done, Outcome::Done)
            }
            Op::Disable => {
                b.disable();
                m.disable();
                (Outcome::Done, Outcome::Done)
            }
            Op::Reset => {
                b.reset();
                m.reset();
                (Outcome::Done, Outcome::Done)
            }
            Op::Hold | Op::Report(..) => (Outcome::Done, Outcome::Done),
        };
        let at = format!("step {step}: {op:?}");
        prop_assert_eq!(real, expected, "{}", at);
        prop_assert_eq!(b.state(), m.state(), "{}", at);
        let s = b.snapshot();
        prop_assert_eq!(
            (s.failure_count, s.success_count),
            (m.failure_count(), m.success_count()),
            "counters, {}",
            at
        );
        prop_assert_eq!(
            (s.successes, s.failures, s.rejected),
            (m.successes, m.failures, m.rejected),
            "totals, {}",
            at
        );
        prop_assert_eq!(
            (s.ignored, s.slow),
            (m.ignored, m.slow),
            "ignored and slow, {}",
            at
        );
        let retry = b.retry_after().map(|d| d.as_millis() as u64);
        prop_assert_eq!(retry, m.retry_after_ms(), "retry_after, {}", at);
        prop_assert_eq!(
            &*heard.lock().unwrap(),
            &m.transitions,
            "transitions, {}",
            at
        );
    }
    // Whatever happened, once every permit is reported a half-open breaker admits again.
    for (permit, t) in held.drain(..) {
        drop(permit);
        m.cancel(t);
    }
    if b.state() == State::HalfOpen {
        let free = limits.half_open_max_calls - b.snapshot().success_count;
        let permits: Vec<_> = (0..free).map_while(|_| b.try_acquire().ok()).collect();
        prop_assert_eq!(permits.len() as u32, free, "free trial slots at the end");
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn breaker_and_reference_model_agree_at_every_step(
        limits in limits(),
        ops in prop::collection::vec(op(), 1..100),
    ) {
        quiet_deliberate_panics();
        check(limits, ops)?;
    }
}
