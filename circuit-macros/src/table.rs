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
//! 2. `circuit-core/src/config/mod.rs`: one line in `typed_settings!`, which gives `Config` its
//!    field and getter and `ConfigBuilder` its setter;
//! 3. `circuit-core/src/macro_support/attribute.md`: the key's section;
//! 4. the code that acts on it (the breaker);
//! 5. only for a setting tied to another by a rule: the rule in `ConfigBuilder::build`, and its
//!    compile-time twin in `circuit-macros/src/args.rs` (`check_across`).
//!
//! The attribute's key, its parsing, checks and declaration, the environment variable, the
//! file key, `Settings` and `ConfigError` follow from the row. (Tried with a count setting:
//! places 1 and 2 alone gave a working attribute key, environment variable and file key.) The
//! compile-fail tests that list every key (`tests/ui/unknown_key.stderr`,
//! `all_errors_at_once.stderr`) are then regenerated with `TRYBUILD=overwrite`.
//!
//! A new kind of value (a fraction, an enum such as a sliding window) is more work, done once
//! for all the settings of that kind: a variant of [`Kind`] and of [`Value`], what zero and
//! "too large" mean for it (`Value::is_zero`, `Value::exceeds`), its Rust type and how it is
//! written (`circuit-core/src/config/value.rs`, `error.rs`), how text and files hold it
//! (`config/text.rs`, `config/file.rs`), and how the attribute reads and writes its literal
//! (`circuit-macros/src/args.rs`, `handle.rs`). The compiler points at each match to extend.

use std::time::Duration;

/// The largest `half_open_max_calls` (and so `success_threshold`): the breaker's state word
/// counts trial calls in 20 bits.
pub const MAX_HALF_OPEN_CALLS: u32 = (1 << 20) - 1;

/// The longest `recovery_timeout`: anything longer is surely a unit mistake.
pub const MAX_RECOVERY_TIMEOUT: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// One setting of a breaker.
///
/// Each has a name (the attribute's key, the file's key, the name in error messages), a
/// [`Kind`] of value, a default, limits (zero is refused, and some have a largest value) and
/// the suffix of its environment variable.
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
}

/// The kind of value a setting takes.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A whole number (`u32`).
    Count,
    /// A length of time.
    Duration,
}

/// The value of one setting.
// Not `Eq`: kinds to come include fractions.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value {
    /// A value of [`Kind::Count`].
    Count(u32),
    /// A value of [`Kind::Duration`].
    Duration(Duration),
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
}

/// A row of the table.
struct Row {
    name: &'static str,
    kind: Kind,
    default: Value,
    /// `None`: as large as the kind holds.
    max: Option<Value>,
    env_suffix: &'static str,
}

impl Setting {
    /// Every setting, in the order the docs, the attribute's keys and error reports give them.
    /// `ALL[s.index()] == s`.
    pub const ALL: [Setting; 5] = [
        Setting::FailureThreshold,
        Setting::SuccessThreshold,
        Setting::HalfOpenMaxCalls,
        Setting::RecoveryTimeout,
        Setting::HalfOpenMaxWait,
    ];

    /// How many settings there are.
    pub const COUNT: usize = Setting::ALL.len();

    const fn row(self) -> Row {
        match self {
            Setting::FailureThreshold => Row {
                name: "failure_threshold",
                kind: Kind::Count,
                default: Value::Count(5),
                max: None,
                env_suffix: "FAILURE_THRESHOLD",
            },
            Setting::SuccessThreshold => Row {
                name: "success_threshold",
                kind: Kind::Count,
                default: Value::Count(3),
                max: Some(Value::Count(MAX_HALF_OPEN_CALLS)),
                env_suffix: "SUCCESS_THRESHOLD",
            },
            Setting::HalfOpenMaxCalls => Row {
                name: "half_open_max_calls",
                kind: Kind::Count,
                default: Value::Count(3),
                max: Some(Value::Count(MAX_HALF_OPEN_CALLS)),
                env_suffix: "HALF_OPEN_MAX_CALLS",
            },
            Setting::RecoveryTimeout => Row {
                name: "recovery_timeout",
                kind: Kind::Duration,
                default: Value::Duration(Duration::from_secs(60)),
                max: Some(Value::Duration(MAX_RECOVERY_TIMEOUT)),
                env_suffix: "RECOVERY_TIMEOUT",
            },
            Setting::HalfOpenMaxWait => Row {
                name: "half_open_max_wait",
                kind: Kind::Duration,
                default: Value::Duration(Duration::from_secs(120)),
                // The same bound as the recovery timeout, for the same reason.
                max: Some(Value::Duration(MAX_RECOVERY_TIMEOUT)),
                env_suffix: "HALF_OPEN_MAX_WAIT",
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

    /// The value a breaker has when nothing sets it.
    pub const fn default_value(self) -> Value {
        self.row().default
    }

    /// The largest value accepted; `None` when any value of its kind but zero is.
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
            Some(Refusal::WrongKind)
        } else if value.is_zero() {
            Some(Refusal::Zero)
        } else {
            match self.max() {
                Some(max) if value.exceeds(max) => Some(Refusal::TooLarge { max }),
                _ => None,
            }
        }
    }
}

impl Value {
    /// The kind of this value.
    pub const fn kind(self) -> Kind {
        match self {
            Value::Count(_) => Kind::Count,
            Value::Duration(_) => Kind::Duration,
        }
    }

    /// Whether it is zero (no setting accepts zero).
    pub(crate) const fn is_zero(self) -> bool {
        match self {
            Value::Count(n) => n == 0,
            Value::Duration(d) => d.is_zero(),
        }
    }

    /// Whether it is above `max`, a value of its own kind.
    pub(crate) fn exceeds(self, max: Value) -> bool {
        match (self, max) {
            (Value::Count(v), Value::Count(max)) => v > max,
            (Value::Duration(v), Value::Duration(max)) => v > max,
            // Of another kind: the kind is refused on its own. Listed by kind, not with `_`,
            // so that a new kind cannot be forgotten here.
            (Value::Count(_), _) | (Value::Duration(_), _) => false,
        }
    }
}
