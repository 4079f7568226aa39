//! A reference model of the design's semantics (`docs/design.md`), written from the text and
//! not from the implementation: plain fields, one call at a time, time in whole milliseconds.
//! The property test runs it beside a real breaker and compares them after every step.
#![allow(dead_code)]

use circuit_core::State;

/// The settings the model needs.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub failure_threshold: u32,
    pub success_threshold: u32,
    pub half_open_max_calls: u32,
    pub recovery_timeout_ms: u64,
    pub rules: Rules,
}

/// The rate rules: "Which rules trip: those configured. With no rate setting, consecutive
/// failures. A failure-rate or slow-call rule replaces the consecutive rule unless
/// `failure_threshold` is set explicitly."
#[derive(Clone, Copy, Debug)]
pub struct Rules {
    pub failure_rate: Option<f64>,
    /// `slow_call_duration`: a call taking at least this is slow.
    pub slow_ms: Option<u64>,
    /// Only with `slow_ms`.
    pub slow_rate: Option<f64>,
    pub window: Window,
    pub minimum_calls: u32,
    /// `failure_threshold` was set explicitly.
    pub explicit_threshold: bool,
}

#[derive(Clone, Copy, Debug)]
pub enum Window {
    /// The last N calls.
    Count(u32),
    /// The calls of the last period, in ten buckets of a tenth of it: the window starts at
    /// the oldest bucket boundary not older than the period.
    TimeMs(u64),
}

impl Rules {
    pub const NONE: Rules = Rules {
        failure_rate: None,
        slow_ms: None,
        slow_rate: None,
        window: Window::Count(100),
        minimum_calls: 100,
        explicit_threshold: true,
    };

    fn consecutive(&self) -> bool {
        (self.failure_rate.is_none() && self.slow_rate.is_none()) || self.explicit_threshold
    }
}

/// One call of the current Closed period, as its window sees it.
#[derive(Clone, Copy, Debug)]
struct Entry {
    at_ns: u64,
    failed: bool,
    slow: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Consecutive failures so far.
    Closed {
        failures: u32,
    },
    /// Rejecting until this time.
    Open {
        until_ms: u64,
    },
    /// Trials handed out, and how many of them succeeded.
    HalfOpen {
        admitted: u32,
        successes: u32,
    },
    ForcedOpen,
    Disabled,
}

impl Phase {
    fn state(self) -> State {
        match self {
            Phase::Closed { .. } => State::Closed,
            Phase::Open { .. } => State::Open,
            Phase::HalfOpen { .. } => State::HalfOpen,
            Phase::ForcedOpen => State::ForcedOpen,
            Phase::Disabled => State::Disabled,
        }
    }
}

/// A call the model let through: which period of the breaker admitted it, and whether it is
/// recorded at all (calls let through by a disabled breaker are not).
#[derive(Clone, Copy, Debug)]
pub struct Ticket {
    period: u64,
    recorded: bool,
    start_ms: u64,
}

/// A call the model turned away: in which state, and the time left when Open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rejection {
    pub state: State,
    pub retry_after_ms: Option<u64>,
}

#[derive(Debug)]
pub struct Model {
    limits: Limits,
    now_ms: u64,
    phase: Phase,
    /// Changes whenever the breaker changes state, and on every reset: a result admitted in
    /// another period is stale and moves nothing.
    period: u64,
    pub successes: u64,
    pub failures: u64,
    pub rejected: u64,
    pub ignored: u64,
    pub slow: u64,
    /// The calls of the current Closed period, oldest first.
    window: Vec<Entry>,
    /// Every change of state, as listeners should hear it.
    pub transitions: Vec<(State, State)>,
}

impl Model {
    pub fn new(limits: Limits) -> Self {
        Model {
            limits,
            now_ms: 0,
            phase: Phase::Closed { failures: 0 },
            period: 0,
            successes: 0,
            failures: 0,
            rejected: 0,
            ignored: 0,
            slow: 0,
            window: Vec::new(),
            transitions: Vec::new(),
        }
    }

    fn enter(&mut self, next: Phase) {
        let (from, to) = (self.phase.state(), next.state());
        if from != to {
            self.transitions.push((from, to));
        }
        self.phase = next;
        self.period += 1;
        // "reset: back to Closed, window counters cleared"; every Closed period starts empty.
        self.window.clear();
    }

    fn open(&mut self) {
        let until_ms = self.now_ms + self.limits.recovery_timeout_ms;
        self.enter(Phase::Open { until_ms });
    }

    /// "Once recovery_timeout has passed, state() reads HalfOpen and the next call is a trial."
    fn settle(&mut self) {
        if let Phase::Open { until_ms } = self.phase {
            if self.now_ms >= until_ms {
                self.enter(Phase::HalfOpen {
                    admitted: 0,
                    successes: 0,
                });
            }
        }
    }

    pub fn state(&mut self) -> State {
        self.settle();
        self.phase.state()
    }

    pub fn advance(&mut self, ms: u64) {
        self.now_ms += ms;
    }

    pub fn admit(&mut self) -> Result<Ticket, Rejection> {
        self.settle();
        let ticket = |recorded| Ticket {
            period: self.period,
            recorded,
            start_ms: self.now_ms,
        };
        let rejection = match self.phase {
            Phase::Closed { .. } => return Ok(ticket(true)),
            Phase::Disabled => return Ok(ticket(false)),
            Phase::HalfOpen {
                admitted,
                successes,
            } if admitted < self.limits.half_open_max_calls => {
                let t = ticket(true);
                self.phase = Phase::HalfOpen {
                    admitted: admitted + 1,
                    successes,
                };
                return Ok(t);
            }
            // The hint of a HalfOpen rejection: until `half_open_max_wait` (120 s) from the
            // period's start, at most a recovery timeout. The runs here last a few seconds, so
            // it is always the recovery timeout.
            Phase::HalfOpen { .. } => Rejection {
                state: State::HalfOpen,
                retry_after_ms: Some(self.limits.recovery_timeout_ms),
            },
            Phase::Open { until_ms } => Rejection {
                state: State::Open,
                retry_after_ms: Some(until_ms - self.now_ms),
            },
            Phase::ForcedOpen => Rejection {
                state: State::ForcedOpen,
                retry_after_ms: None,
            },
        };
        self.rejected += 1;
        Err(rejection)
    }

    fn current(&self, t: Ticket) -> bool {
        t.period == self.period
    }

    pub fn succeed(&mut self, t: Ticket) {
        if !t.recorded {
            return;
        }
        self.successes += 1;
        let slow = self.took_long(t);
        if !self.current(t) {
            return;
        }
        match self.phase {
            Phase::Closed { .. } => {
                self.phase = Phase::Closed { failures: 0 };
                self.record(false, slow);
            }
            // "In HalfOpen, with a slow-call rule configured, a slow trial counts as a failed
            // trial."
            Phase::HalfOpen { .. } if slow && self.limits.rules.slow_rate.is_some() => self.open(),
            Phase::HalfOpen {
                admitted,
                successes,
            } => {
                if successes + 1 >= self.limits.success_threshold {
                    self.enter(Phase::Closed { failures: 0 });
                } else {
                    self.phase = Phase::HalfOpen {
                        admitted,
                        successes: successes + 1,
                    };
                }
            }
            _ => {}
        }
    }

    pub fn fail(&mut self, t: Ticket) {
        if !t.recorded {
            return;
        }
        self.failures += 1;
        let slow = self.took_long(t);
        if !self.current(t) {
            return;
        }
        if let Phase::Closed { .. } = self.phase {
            if self.record(true, slow) {
                return;
            }
        }
        match self.phase {
            Phase::Closed { failures }
                if self.limits.rules.consecutive()
                    && failures + 1 >= self.limits.failure_threshold =>
            {
                self.open()
            }
            Phase::Closed { failures } => {
                self.phase = Phase::Closed {
                    failures: failures + 1,
                }
            }
            Phase::HalfOpen { .. } => self.open(),
            _ => {}
        }
    }

    /// "An ignored outcome is counted as ignored and moves no state (it does not clear
    /// consecutive failures, adds no half-open success, and gives its half-open slot back)";
    /// it enters no window.
    pub fn ignore(&mut self, t: Ticket) {
        if !t.recorded {
            return;
        }
        self.ignored += 1;
        self.cancel(t);
    }

    /// "A call that takes at least the duration is slow, whether it succeeds or fails";
    /// counted as slow in any state a call is recorded in.
    fn took_long(&mut self, t: Ticket) -> bool {
        let slow = self
            .limits
            .rules
            .slow_ms
            .is_some_and(|d| self.now_ms - t.start_ms >= d);
        self.slow += u64::from(slow);
        slow
    }

    /// Adds a Closed call to the window and decides: "trips a Closed breaker when the window
    /// holds at least `minimum_calls` calls and failures / calls >= the threshold" (the slow
    /// rate likewise). Returns whether it opened the breaker.
    fn record(&mut self, failed: bool, slow: bool) -> bool {
        let rules = self.limits.rules;
        if rules.failure_rate.is_none() && rules.slow_ms.is_none() {
            return false;
        }
        let at_ns = self.now_ms * 1_000_000;
        self.window.push(Entry {
            at_ns,
            failed,
            slow,
        });
        let inside: Vec<Entry> = match rules.window {
            Window::Count(n) => {
                let skip = self.window.len().saturating_sub(n as usize);
                self.window[skip..].to_vec()
            }
            Window::TimeMs(period) => {
                let bucket = period * 1_000_000 / 10;
                let first = (at_ns / bucket).saturating_sub(9);
                self.window
                    .iter()
                    .copied()
                    .filter(|e| e.at_ns / bucket >= first)
                    .collect()
            }
        };
        let calls = inside.len() as u64;
        if calls < u64::from(rules.minimum_calls) || calls == 0 {
            return false;
        }
        let over = |part: usize, threshold: Option<f64>| {
            threshold.is_some_and(|t| part as f64 / calls as f64 >= t)
        };
        let failing = over(
            inside.iter().filter(|e| e.failed).count(),
            rules.failure_rate,
        );
        let slowing = over(inside.iter().filter(|e| e.slow).count(), rules.slow_rate);
        if failing || slowing {
            self.open();
            return true;
        }
        false
    }

    /// "A future dropped before it finishes counts as nothing and gives its trial slot back."
    pub fn cancel(&mut self, t: Ticket) {
        if let Phase::HalfOpen {
            admitted,
            successes,
        } = self.phase
        {
            if self.current(t) {
                self.phase = Phase::HalfOpen {
                    admitted: admitted - 1,
                    successes,
                };
            }
        }
    }

    pub fn force_open(&mut self) {
        if self.phase != Phase::ForcedOpen {
            self.enter(Phase::ForcedOpen);
        }
    }

    pub fn disable(&mut self) {
        if self.phase != Phase::Disabled {
            self.enter(Phase::Disabled);
        }
    }

    /// "Back to Closed, window counters cleared"; calls in flight from before move nothing.
    pub fn reset(&mut self) {
        self.enter(Phase::Closed { failures: 0 });
    }

    pub fn failure_count(&self) -> u32 {
        match self.phase {
            Phase::Closed { failures } => failures,
            _ => 0,
        }
    }

    pub fn success_count(&self) -> u32 {
        match self.phase {
            Phase::HalfOpen { successes, .. } => successes,
            _ => 0,
        }
    }

    pub fn retry_after_ms(&mut self) -> Option<u64> {
        self.settle();
        match self.phase {
            Phase::Open { until_ms } => Some(until_ms - self.now_ms),
            _ => None,
        }
    }
}
