//! The table of a breaker's settings: for each one its name, the kind of value it takes, its
//! default, its limits and the suffix of its environment variable. Every path that reads or
//! checks a setting goes through this table: `ConfigBuilder::build`, `ConfigError`, the
//! `Settings` overlay, the environment and file sources, the attribute's literals and their
//! runtime declaration.
//!
//! Both crates compile this file: the attribute checks its literals at compile time and a
//! proc-macro crate cannot depend on the runtime. The canonical copy is
//! `circuit-macros/src/table.rs`; `circuit-core/src/config/table.rs` is the same text, and
//! `tests/attribute_limits.rs` fails when the two differ. So this file names nothing of
//! either crate, and its docs link only to its own items.
//!
//! # Adding a setting
//!
//! A setting of a kind the table already has touches these places, and no other:
//!
//! 1. here: a variant of [`Setting`], its place in `Setting::ALL`, and its row in
//!    `Setting::row` (then copy this file over `circuit-core/src/config/table.rs`);
//! 2. `circuit-core/src/config/mod.rs`: one line in `typed_settings!` (under `always`, or
//!    under `optional` for a setting without a default), which gives `Config` its field and
//!    getter and `ConfigBuilder` its setter;
//! 3. `circuit-core/src/macro_support/attribute.md`: the key's section;
//! 4. the code that acts on it (the breaker);
//! 5. only for a setting tied to another by a rule: the rule in `config/rules.rs` (which
//!    `ConfigBuilder::build` runs), and its compile-time twin in `circuit-macros/src/args.rs`
//!    or `across.rs` (`check_across`).
//!
//! The attribute's key, its parsing, checks and declaration, the environment variable, the
//! file key, `Settings` and `ConfigError` follow from the row. (Tried with a count setting:
//! places 1 and 2 alone gave a working attribute key, environment variable and file key.) The
//! compile-fail tests that list every key (`tests/ui/unknown_key.stderr`,
//! `all_errors_at_once.stderr`) are then regenerated with `TRYBUILD=overwrite`.
//!
//! A new kind of value is more work, done once for all the settings of that kind: a variant
//! of [`Kind`] and of [`Value`], what it accepts (`Setting::refusal`, and for the kinds with a
//! range of their own, `Setting::expected`), its text form (`grammar.rs`, shared like this
//! file), its Rust type and how it is written (`circuit-core/src/config/value.rs`,
//! `error.rs`), how text and files hold it (`config/text.rs`, `config/file.rs`), and how the
//! attribute reads and writes its literal (`circuit-macros/src/args.rs`, `handle.rs`). The
//! compiler points at each match to extend.
//!
//! A setting may have no default (`Row::default` is `None`): it is "not configured", and the
//! rule it belongs to is off until a source gives it.
//!
//! A yes-or-no setting (`Kind::Bool`) always has a default, `false`, so that turning it on is
//! always the explicit choice of a source, and it has no limits. Its one text form is `true`
//! or `false`: the attribute takes the literal (`record_call_durations = true`), a file its
//! boolean (or the same word as a string), the environment the word; `1`, `yes` and `on` are
//! refused with the word to write, as a percentage is where a ratio is written.

use std::time::Duration;

/// The largest `half_open_max_calls` (and so `success_threshold`): the breaker's state word
/// counts trial calls in 20 bits.
pub const MAX_HALF_OPEN_CALLS: u32 = (1 << 20) - 1;

/// The longest `recovery_timeout`: anything longer is surely a unit mistake. The same bound
/// holds for every duration of the table: `half_open_max_wait`, `slow_call_duration`, a time
/// `sliding_window`, a backoff's longest period, `timeout` and `abandoned_call_duration`.
pub const MAX_RECOVERY_TIMEOUT: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// The calls a failure rate or slow-call rate is measured over.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SlidingWindow {
    /// The last this many calls.
    Count(u32),
    /// The calls of the last period.
    Time(Duration),
}

impl Default for SlidingWindow {
    /// The last 100 calls, as resilience4j.
    fn default() -> Self {
        SlidingWindow::Count(100)
    }
}

/// How the Open period grows with each consecutive re-opening: the `backoff` setting's value.
/// Its random spread is a setting of its own, `jitter`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Growth {
    /// Every Open period lasts `recovery_timeout`.
    Constant,
    /// Each consecutive re-opening multiplies the period by `multiplier` (a finite number of
    /// at least 1), up to `max` (longer than zero, at most 365 days, and not shorter than
    /// `recovery_timeout`).
    Exponential {
        /// What each re-opening multiplies the period by.
        multiplier: f64,
        /// The longest period.
        max: Duration,
    },
}

/// One setting of a breaker.
///
/// Each has a name (the attribute's key, the file's key, the name in error messages), a
/// [`Kind`] of value, a default or none ("not configured": its rule is off), limits (a count
/// or a duration refuses zero, and some have a largest value; a ratio, a window and a backoff
/// have the ranges their variants give; a yes or no takes either) and the suffix of its
/// environment variable.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Setting {
    /// `failure_threshold`: consecutive failures, while Closed, that open the breaker. A
    /// count; default 5; at least 1.
    FailureThreshold,
    /// `success_threshold`: successful trial calls, while HalfOpen, that close the breaker. A
    /// count; default 3; at least 1, at most `half_open_max_calls`.
    SuccessThreshold,
    /// `half_open_max_calls`: trial calls admitted in one HalfOpen period. A count; default 3;
    /// at least 1, at most `MAX_HALF_OPEN_CALLS` (1,048,575).
    HalfOpenMaxCalls,
    /// `recovery_timeout`: how long the breaker stays Open before it lets trial calls
    /// through. A duration; default 60 s; longer than zero, at most 365 days.
    RecoveryTimeout,
    /// `half_open_max_wait`: how long a HalfOpen period whose trial slots are all taken may
    /// go undecided before the breaker opens again. A duration; default 120 s, longer than
    /// the request timeouts clients commonly default to (30 s to 100 s), so a slow but real
    /// trial is not cut off; longer than zero, at most 365 days.
    HalfOpenMaxWait,
    /// `failure_rate_threshold`: the failure rate over `sliding_window` at or above which the
    /// breaker opens, once the window holds `minimum_calls` calls. A ratio above 0 and at most
    /// 1; no default (no failure-rate rule).
    FailureRateThreshold,
    /// `sliding_window`: the calls the failure and slow-call rates are measured over, the
    /// last N calls or the calls of the last period. Default the last 100 calls; a count of at
    /// least 1, or a period longer than zero and at most 365 days.
    SlidingWindow,
    /// `minimum_calls`: the calls the window must hold before a rate can open the breaker. A
    /// count; no default of its own: 100, or a count window's size when that is smaller; at
    /// least 1, at most a count window's size.
    MinimumCalls,
    /// `slow_call_duration`: how long a call must take, succeeding or failing, to count as
    /// slow. A duration; no default (calls are not timed); longer than zero, at most 365
    /// days. Alone, it times calls and reports the slow-call rate without tripping anything.
    SlowCallDuration,
    /// `slow_call_rate_threshold`: the slow-call rate over `sliding_window` at or above which
    /// the breaker opens. A ratio above 0 and at most 1; no default (no slow-call rule); needs
    /// `slow_call_duration`.
    SlowCallRateThreshold,
    /// `backoff`: how the Open period grows with each consecutive re-opening. Default
    /// constant; an exponential multiplier is a finite number of at least 1, its longest
    /// period longer than zero, at most 365 days and not shorter than `recovery_timeout`.
    Backoff,
    /// `jitter`: the ratio by which each Open period is spread at random. A ratio of at least
    /// 0 and below 1; default 0 (no spread), the one setting where zero means something.
    Jitter,
    /// `timeout`: how long an async call may run before it is cancelled and counted as a
    /// failure. A duration; no default (no timeout); longer than zero, at most 365 days.
    /// Only async calls are cut short: a thread cannot be cancelled.
    Timeout,
    /// `abandoned_call_duration`: how long an async call must have run, when its caller drops
    /// it unfinished, to count as a failure. A duration; no default (an abandoned call counts
    /// as nothing); longer than zero, at most 365 days.
    AbandonedCallDuration,
    /// `record_call_durations`: whether each call admitted is timed on the precise clock, from
    /// admission to its outcome, into a histogram of call durations per outcome. A yes or no;
    /// default `false` (calls are not timed for it).
    RecordCallDurations,
}

/// The kind of value a setting takes.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A whole number (`u32`).
    Count,
    /// A length of time.
    Duration,
    /// A ratio (`f64`), such as 0.5 for half the calls.
    Ratio,
    /// A [`SlidingWindow`].
    Window,
    /// How the Open period grows ([`Growth`]).
    Backoff,
    /// Yes or no (`bool`): `true` or `false`.
    Bool,
}

/// The value of one setting.
// Not `Eq`: a ratio is a float.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value {
    /// A value of [`Kind::Count`].
    Count(u32),
    /// A value of [`Kind::Duration`].
    Duration(Duration),
    /// A value of [`Kind::Ratio`].
    Ratio(f64),
    /// A value of [`Kind::Window`].
    Window(SlidingWindow),
    /// A value of [`Kind::Backoff`].
    Backoff(Growth),
    /// A value of [`Kind::Bool`].
    Bool(bool),
}

/// Why a value is refused on its own. The rules that tie two settings together are not here:
/// they are checked where both values are known.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Refusal {
    /// The value is of another kind than the setting takes.
    WrongKind,
    /// The value is zero.
    Zero,
    /// The value is above `max`, the setting's largest.
    TooLarge {
        /// The largest value accepted.
        max: Value,
    },
    /// A ratio, a window or a backoff outside what the setting accepts:
    /// [`Setting::expected`] says what it must be.
    OutOfRange,
}

/// A row of the table.
struct Row {
    name: &'static str,
    kind: Kind,
    /// `None`: not configured unless a source gives it.
    default: Option<Value>,
    /// For a count or a duration: the largest value, `None` for as large as the kind holds.
    /// The other kinds' ranges are their own (`Setting::refusal`).
    max: Option<Value>,
    env_suffix: &'static str,
}

impl Setting {
    /// Every setting, in the order the docs, the attribute's keys and error reports give them.
    /// `ALL[s.index()] == s`.
    pub const ALL: [Setting; 15] = [
        Setting::FailureThreshold,
        Setting::SuccessThreshold,
        Setting::HalfOpenMaxCalls,
        Setting::RecoveryTimeout,
        Setting::HalfOpenMaxWait,
        Setting::FailureRateThreshold,
        Setting::SlidingWindow,
        Setting::MinimumCalls,
        Setting::SlowCallDuration,
        Setting::SlowCallRateThreshold,
        Setting::Backoff,
        Setting::Jitter,
        Setting::Timeout,
        Setting::AbandonedCallDuration,
        Setting::RecordCallDurations,
    ];

    /// How many settings there are.
    pub const COUNT: usize = Setting::ALL.len();

    const fn row(self) -> Row {
        match self {
            Setting::FailureThreshold => Row {
                name: "failure_threshold",
                kind: Kind::Count,
                default: Some(Value::Count(5)),
                max: None,
                env_suffix: "FAILURE_THRESHOLD",
            },
            Setting::SuccessThreshold => Row {
                name: "success_threshold",
                kind: Kind::Count,
                default: Some(Value::Count(3)),
                max: Some(Value::Count(MAX_HALF_OPEN_CALLS)),
                env_suffix: "SUCCESS_THRESHOLD",
            },
            Setting::HalfOpenMaxCalls => Row {
                name: "half_open_max_calls",
                kind: Kind::Count,
                default: Some(Value::Count(3)),
                max: Some(Value::Count(MAX_HALF_OPEN_CALLS)),
                env_suffix: "HALF_OPEN_MAX_CALLS",
            },
            Setting::RecoveryTimeout => Row {
                name: "recovery_timeout",
                kind: Kind::Duration,
                default: Some(Value::Duration(Duration::from_secs(60))),
                max: Some(Value::Duration(MAX_RECOVERY_TIMEOUT)),
                env_suffix: "RECOVERY_TIMEOUT",
            },
            Setting::HalfOpenMaxWait => Row {
                name: "half_open_max_wait",
                kind: Kind::Duration,
                default: Some(Value::Duration(Duration::from_secs(120))),
                // The same bound as the recovery timeout, for the same reason.
                max: Some(Value::Duration(MAX_RECOVERY_TIMEOUT)),
                env_suffix: "HALF_OPEN_MAX_WAIT",
            },
            Setting::FailureRateThreshold => Row {
                name: "failure_rate_threshold",
                kind: Kind::Ratio,
                default: None,
                max: None,
                env_suffix: "FAILURE_RATE_THRESHOLD",
            },
            Setting::SlidingWindow => Row {
                name: "sliding_window",
                kind: Kind::Window,
                default: Some(Value::Window(SlidingWindow::Count(100))),
                max: None,
                env_suffix: "SLIDING_WINDOW",
            },
            Setting::MinimumCalls => Row {
                name: "minimum_calls",
                kind: Kind::Count,
                // 100, or a count window's size when that is smaller: `Config::minimum_calls`.
                default: None,
                max: None,
                env_suffix: "MINIMUM_CALLS",
            },
            Setting::SlowCallDuration => Row {
                name: "slow_call_duration",
                kind: Kind::Duration,
                default: None,
                max: Some(Value::Duration(MAX_RECOVERY_TIMEOUT)),
                env_suffix: "SLOW_CALL_DURATION",
            },
            Setting::SlowCallRateThreshold => Row {
                name: "slow_call_rate_threshold",
                kind: Kind::Ratio,
                default: None,
                max: None,
                env_suffix: "SLOW_CALL_RATE_THRESHOLD",
            },
            Setting::Backoff => Row {
                name: "backoff",
                kind: Kind::Backoff,
                default: Some(Value::Backoff(Growth::Constant)),
                max: None,
                env_suffix: "BACKOFF",
            },
            Setting::Jitter => Row {
                name: "jitter",
                kind: Kind::Ratio,
                default: Some(Value::Ratio(0.0)),
                max: None,
                env_suffix: "JITTER",
            },
            Setting::Timeout => Row {
                name: "timeout",
                kind: Kind::Duration,
                default: None,
                max: Some(Value::Duration(MAX_RECOVERY_TIMEOUT)),
                env_suffix: "TIMEOUT",
            },
            Setting::AbandonedCallDuration => Row {
                name: "abandoned_call_duration",
                kind: Kind::Duration,
                default: None,
                max: Some(Value::Duration(MAX_RECOVERY_TIMEOUT)),
                env_suffix: "ABANDONED_CALL_DURATION",
            },
            Setting::RecordCallDurations => Row {
                name: "record_call_durations",
                kind: Kind::Bool,
                default: Some(Value::Bool(false)),
                max: None,
                env_suffix: "RECORD_CALL_DURATIONS",
            },
        }
    }

    /// The name: `failure_threshold`. The attribute's key, the file's key, and the name in
    /// error messages.
    pub const fn name(self) -> &'static str {
        self.row().name
    }

    /// The kind of value it takes.
    pub const fn kind(self) -> Kind {
        self.row().kind
    }

    /// The value a breaker has when nothing sets it; `None` for a setting that is not
    /// configured until a source gives it (its rule is off).
    pub const fn default_value(self) -> Option<Value> {
        self.row().default
    }

    /// The largest count or duration accepted; `None` when any value of its kind but zero
    /// is, and for a ratio, a window or a backoff, whose ranges [`Setting`]'s docs give.
    pub const fn max(self) -> Option<Value> {
        self.row().max
    }

    /// The end of its environment variable's name: `FAILURE_THRESHOLD`, read as
    /// `CIRCUIT_<NAME>_FAILURE_THRESHOLD`.
    pub const fn env_suffix(self) -> &'static str {
        self.row().env_suffix
    }

    /// The setting of this name, if any.
    pub fn from_name(name: &str) -> Option<Setting> {
        Setting::ALL.into_iter().find(|s| s.name() == name)
    }

    /// Its place in [`Setting::ALL`].
    pub(crate) const fn index(self) -> usize {
        self as usize
    }

    /// Why `value` is refused for this setting on its own, if it is.
    pub(crate) fn refusal(self, value: Value) -> Option<Refusal> {
        if value.kind() != self.kind() {
            return Some(Refusal::WrongKind);
        }
        match value {
            Value::Count(_) | Value::Duration(_) => {
                if value.is_zero() {
                    Some(Refusal::Zero)
                } else {
                    match self.max() {
                        Some(max) if value.exceeds(max) => Some(Refusal::TooLarge { max }),
                        _ => None,
                    }
                }
            }
            Value::Ratio(r) => {
                // `!(..)` so that NaN, which compares false with everything, is refused.
                let accepted = if self.zero_is_a_ratio() {
                    (0.0..1.0).contains(&r)
                } else {
                    r > 0.0 && r <= 1.0
                };
                (!accepted).then_some(Refusal::OutOfRange)
            }
            Value::Window(_) | Value::Backoff(_) => {
                self.out_of_range(value).map(|_| Refusal::OutOfRange)
            }
            // Either answer is a setting's value.
            Value::Bool(_) => None,
        }
    }

    /// Whether this ratio setting takes zero and refuses one: `jitter` (0 is no spread, and a
    /// spread of the whole period could make it nothing). The rates take (0, 1].
    const fn zero_is_a_ratio(self) -> bool {
        matches!(self, Setting::Jitter)
    }

    /// What a window or a backoff refused on its own must be instead: see
    /// [`expected`](Self::expected).
    fn out_of_range(self, value: Value) -> Option<&'static str> {
        match value {
            Value::Window(SlidingWindow::Count(0)) => Some("be at least 1 call"),
            Value::Window(SlidingWindow::Time(d)) if d.is_zero() => Some("be longer than zero"),
            Value::Window(SlidingWindow::Time(d)) if d > MAX_RECOVERY_TIMEOUT => {
                Some("be at most 365 days")
            }
            Value::Backoff(Growth::Exponential { multiplier, max }) => {
                if !(multiplier.is_finite() && multiplier >= 1.0) {
                    Some("have a finite multiplier of at least 1")
                } else if max.is_zero() {
                    Some("have a longest period longer than zero")
                } else if max > MAX_RECOVERY_TIMEOUT {
                    Some("have a longest period of at most 365 days")
                } else {
                    None
                }
            }
            Value::Ratio(_) => Some(if self.zero_is_a_ratio() {
                "be a ratio of at least 0 and below 1"
            } else {
                "be a ratio above 0 and at most 1"
            }),
            _ => None,
        }
    }

    /// For a value refused as [`Refusal::OutOfRange`], what it must be, as the rest of the
    /// sentence "`jitter` must ...": `be a ratio of at least 0 and below 1`.
    pub(crate) fn expected(self, value: Value) -> &'static str {
        self.out_of_range(value).unwrap_or("be another value")
    }
}

impl Value {
    /// The kind of this value.
    pub const fn kind(self) -> Kind {
        match self {
            Value::Count(_) => Kind::Count,
            Value::Duration(_) => Kind::Duration,
            Value::Ratio(_) => Kind::Ratio,
            Value::Window(_) => Kind::Window,
            Value::Backoff(_) => Kind::Backoff,
            Value::Bool(_) => Kind::Bool,
        }
    }

    /// Whether a count or a duration is zero (no count or duration setting accepts zero).
    pub(crate) const fn is_zero(self) -> bool {
        match self {
            Value::Count(n) => n == 0,
            Value::Duration(d) => d.is_zero(),
            // Their ranges are their own: `Setting::refusal`.
            Value::Ratio(_) | Value::Window(_) | Value::Backoff(_) | Value::Bool(_) => false,
        }
    }

    /// Whether it is above `max`, a value of its own kind.
    pub(crate) fn exceeds(self, max: Value) -> bool {
        match (self, max) {
            (Value::Count(v), Value::Count(max)) => v > max,
            (Value::Duration(v), Value::Duration(max)) => v > max,
            // Of another kind: the kind is refused on its own. Listed by kind, not with `_`,
            // so that a new kind cannot be forgotten here. The other kinds have no `max`.
            (Value::Count(_), _)
            | (Value::Duration(_), _)
            | (Value::Ratio(_), _)
            | (Value::Window(_), _)
            | (Value::Backoff(_), _)
            | (Value::Bool(_), _) => false,
        }
    }
}
