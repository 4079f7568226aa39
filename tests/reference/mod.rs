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
        if !self.current(t) {
            return;
        }
        match self.phase {
            Phase::Closed { .. } => self.phase = Phase::Closed { failures: 0 },
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
        if !self.current(t) {
            return;
        }
        match self.phase {
            Phase::Closed { failures } if failures + 1 >= self.limits.failure_threshold => {
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
