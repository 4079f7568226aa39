//! Breakers declared by `#[circuit_breaker]` attributes, collected at link time so the
//! registry can create all of them at start-up.
//!
//! Each attribute submits one [`Declaration`] with `inventory`; the registry creates their
//! breakers the first time it is used. `inventory` rather than `linkme`: its `submit!` is a
//! plain `macro_rules!`, so the attribute's expansion reaches it through `circuit_core` and
//! users need no dependency of their own.
//!
//! Several attributes may declare one name (that is how functions share a breaker). When they
//! give different settings, one declaration is chosen, the same one on every run and whatever
//! order the linker put them in: among the declarations that give any setting, the first by
//! source location (file, then line, then column); if none gives a setting, the defaults. The
//! registry then warns once at start-up, naming every place and the settings each gives.
//!
//! An attribute with `key = ...` declares a set of per-key breakers rather than a breaker
//! ([`Declaration::keyed`]): the registry makes the set at start-up, from the chosen
//! declaration among the keyed ones of its name, so which attribute configures it does not
//! depend on which function is called first. A set and a named breaker of one name are two
//! things (the set's breakers are named `name:key`); the registry warns of such a pair.

use crate::config::{Setting, Settings, Value};
use crate::{Config, KeyedLimits, Registry};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};

/// One breaker declared by an attribute: its name and the literals the attribute gave.
#[doc(hidden)]
#[derive(Debug)]
pub struct Declaration {
    pub name: &'static str,
    /// Whether `name` is the default one (the module path and the function's name) rather
    /// than given with `name = ...`.
    pub default_name: bool,
    /// The settings the attribute gave, each checked at compile time against the table the
    /// runtime checks with (the attribute compiles the same table). Pairs rather than
    /// `Settings`, whose fields the user's crate cannot write.
    pub settings: &'static [(Setting, Value)],
    /// Where the attribute is, to choose between declarations of one name.
    pub file: &'static str,
    pub line: u32,
    pub column: u32,
    /// For an attribute with `key = ...`, the bounds of its set of per-key breakers (the
    /// defaults where the attribute gives none); `None` for a single named breaker.
    pub keyed: Option<KeyedLimits>,
}

inventory::collect!(Declaration);

impl Declaration {
    /// The configuration the attribute's literals describe, on top of the defaults. The
    /// attribute checked every literal at compile time; should one still be refused here, the
    /// defaults stand in rather than a panic.
    pub fn config(&self) -> Config {
        let mut settings = Settings::new();
        self.settings
            .iter()
            .try_for_each(|&(setting, value)| settings.set(setting, value))
            .and_then(|()| settings.apply(&Config::default()))
            .unwrap_or_default()
    }

    /// Whether the attribute gave any setting, rather than relying on the defaults. Bounds of
    /// a keyed set other than the defaults count as settings.
    fn gives_settings(&self) -> bool {
        !self.settings.is_empty() || self.keyed.is_some_and(|l| l != KeyedLimits::default())
    }

    /// Whether it declares a set of per-key breakers.
    fn is_keyed(&self) -> bool {
        self.keyed.is_some()
    }

    /// Sorts before every other declaration of its name and kind that should lose to it.
    fn precedence(&self) -> impl Ord + '_ {
        (
            self.name,
            self.is_keyed(),
            Reverse(self.gives_settings()),
            self.file,
            self.line,
            self.column,
        )
    }

    /// `file:line:column`.
    fn place(&self) -> String {
        format!("{}:{}:{}", self.file, self.line, self.column)
    }
}

/// The declarations that decide the settings of their names: one per name and kind (a named
/// breaker, a keyed set).
pub(crate) fn chosen<'a>(
    declarations: impl IntoIterator<Item = &'a Declaration>,
) -> Vec<&'a Declaration> {
    let mut all: Vec<&Declaration> = declarations.into_iter().collect();
    all.sort_by(|a, b| a.precedence().cmp(&b.precedence()));
    all.dedup_by(|later, first| later.name == first.name && later.is_keyed() == first.is_keyed());
    all
}

/// Creates the breaker or keyed set of every declaration in the program, and warns of
/// functions that share a breaker by accident (see [`accidental_shares`]), give one breaker
/// different settings (see [`conflicting_settings`]) or give one name to a breaker and a keyed
/// set (see [`named_and_keyed`]).
pub(crate) fn create_declared(registry: &Registry) {
    for warning in accidental_shares(inventory::iter::<Declaration>) {
        warn(&warning);
    }
    for warning in conflicting_settings(inventory::iter::<Declaration>) {
        warn(&warning);
    }
    for warning in named_and_keyed(inventory::iter::<Declaration>) {
        warn(&warning);
    }
    for declaration in chosen(inventory::iter::<Declaration>) {
        match declaration.keyed {
            Some(limits) => {
                registry.keyed(declaration.name, declaration.config(), limits);
            }
            None => {
                registry.get_or_create(declaration.name, declaration.config());
            }
        }
    }
}

/// A warning for each default name that attributes in two places declare. Sharing a breaker is
/// meant when functions give one `name`; a default name is the module path and the function's
/// name, which two functions share only by accident: functions nested in different functions
/// of one module (`module_path!` does not name the enclosing function), or methods of one
/// name in different `impl` blocks. A macro cannot see the enclosing function to tell them
/// apart, so the registry warns at start-up, naming both places.
pub(crate) fn accidental_shares<'a>(
    declarations: impl IntoIterator<Item = &'a Declaration>,
) -> Vec<String> {
    let mut places: BTreeMap<&str, BTreeSet<(&str, u32, u32)>> = BTreeMap::new();
    for d in declarations.into_iter().filter(|d| d.default_name) {
        places
            .entry(d.name)
            .or_default()
            .insert((d.file, d.line, d.column));
    }
    places
        .into_iter()
        .filter(|(_, at)| at.len() > 1)
        .map(|(name, at)| {
            let at: Vec<String> = at
                .into_iter()
                .map(|(file, line, column)| format!("{file}:{line}:{column}"))
                .collect();
            format!(
                "the #[circuit_breaker] functions at {} share the default name `{name}`, and so \
                 one breaker: give each a `name = \"...\"` of its own (or give them one `name` \
                 to share it on purpose)",
                at.join(" and ")
            )
        })
        .collect()
}

/// One warning for each name whose attributes give different settings: one of them is chosen
/// (see [`chosen`]) and the others' settings are silently lost, which is surely not what their
/// authors meant. Attributes that give no setting, or the same settings, agree with any.
pub(crate) fn conflicting_settings<'a>(
    declarations: impl IntoIterator<Item = &'a Declaration>,
) -> Vec<String> {
    let mut by_name: BTreeMap<(&str, bool), Vec<&Declaration>> = BTreeMap::new();
    for d in declarations.into_iter().filter(|d| d.gives_settings()) {
        by_name.entry((d.name, d.is_keyed())).or_default().push(d);
    }
    let mut warnings = Vec::new();
    for ((name, keyed), mut given) in by_name {
        given.sort_by(|a, b| a.precedence().cmp(&b.precedence()));
        let first = written(given[0]);
        if given.iter().all(|d| written(d) == first) {
            continue;
        }
        let places: Vec<String> = given
            .iter()
            .map(|d| format!("{} ({})", d.place(), written(d)))
            .collect();
        let what = if keyed {
            format!("the per-key breakers `{name}:...`")
        } else {
            format!("the breaker `{name}`")
        };
        warnings.push(format!(
            "the #[circuit_breaker] attributes at {} give {what} different settings; the first \
             is used: give them in one place (the others may name the breaker alone)",
            places.join(" and ")
        ));
    }
    warnings
}

/// One warning for each name that some attributes give a single breaker and others, with
/// `key = ...`, a set of per-key breakers. Both are made and work (the set's breakers are named
/// `name:key`), but one name then means two things: `registry().state(name)` reads the single
/// breaker alone, and `configure(name, ..)` configures both. Surely one of them was meant to
/// have another name.
pub(crate) fn named_and_keyed<'a>(
    declarations: impl IntoIterator<Item = &'a Declaration>,
) -> Vec<String> {
    let mut by_name: BTreeMap<&str, (BTreeSet<String>, BTreeSet<String>)> = BTreeMap::new();
    for d in declarations {
        let (named, keyed) = by_name.entry(d.name).or_default();
        if d.is_keyed() { keyed } else { named }.insert(d.place());
    }
    by_name
        .into_iter()
        .filter(|(_, (named, keyed))| !named.is_empty() && !keyed.is_empty())
        .map(|(name, (named, keyed))| {
            let list = |at: BTreeSet<String>| at.into_iter().collect::<Vec<_>>().join(" and ");
            format!(
                "the #[circuit_breaker] attributes at {} declare one breaker `{name}`, and those \
                 at {} a breaker per key under the same name (`{name}:<key>`): they are two \
                 things, and `configure(\"{name}\", ..)` reaches both; give one of them another \
                 `name`",
                list(named),
                list(keyed)
            )
        })
        .collect()
}

/// `failure_threshold = 3, recovery_timeout = 30s`: a declaration's settings in the table's
/// order, then a keyed set's bounds, to compare two declarations and to name them.
fn written(d: &Declaration) -> String {
    let mut settings = d.settings.to_vec();
    settings.sort_by_key(|&(setting, _)| setting);
    let mut written: Vec<String> = settings
        .iter()
        .map(|(setting, value)| format!("{} = {value}", setting.name()))
        .collect();
    if let Some(limits) = d.keyed {
        written.push(format!("max_keys = {}", limits.max_breakers()));
        let idle = Value::Duration(limits.idle_timeout());
        written.push(format!("key_idle_timeout = {idle}"));
    }
    written.join(", ")
}

/// Warns once, through `tracing` when it is on, else on standard error.
fn warn(message: &str) {
    #[cfg(feature = "tracing")]
    tracing::warn!(target: "circuit_breaker", "{message}");
    #[cfg(not(feature = "tracing"))]
    eprintln!("warning: {message}");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn declared(
        name: &'static str,
        file: &'static str,
        line: u32,
        settings: &'static [(Setting, Value)],
    ) -> Declaration {
        Declaration {
            name,
            default_name: false,
            settings,
            file,
            line,
            column: 1,
            keyed: None,
        }
    }

    /// `failure_threshold = 7`, `= 9`, `= 2`.
    const SEVEN: &[(Setting, Value)] = &[(Setting::FailureThreshold, Value::Count(7))];
    const NINE: &[(Setting, Value)] = &[(Setting::FailureThreshold, Value::Count(9))];
    const TWO: &[(Setting, Value)] = &[(Setting::FailureThreshold, Value::Count(2))];

    #[test]
    fn the_first_declaration_by_location_that_gives_settings_wins_in_any_order() {
        let bare = declared("db", "a.rs", 1, &[]);
        let late = declared("db", "b.rs", 2, SEVEN);
        let early = declared("db", "b.rs", 10, NINE); // line 10 after line 2: not by text
        let other = declared("cache", "z.rs", 1, &[]);
        let forwards = [&bare, &late, &early, &other];
        let backwards = [&other, &early, &late, &bare];
        for order in [forwards, backwards] {
            let chosen = chosen(order);
            let names: Vec<_> = chosen.iter().map(|d| (d.name, d.line)).collect();
            assert_eq!(names, [("cache", 1), ("db", 2)]);
        }
    }

    #[test]
    fn a_default_name_declared_in_two_places_is_an_accidental_share() {
        let nested = |line| Declaration {
            default_name: true,
            ..declared("app::helper", "src/app.rs", line, &[])
        };
        let (first, second) = (nested(3), nested(9));
        // Given names are shared on purpose; one place declares only once.
        let named = declared("app::helper", "src/app.rs", 20, &[]);
        let alone = Declaration {
            default_name: true,
            ..declared("app::other", "src/app.rs", 30, &[])
        };
        assert_eq!(
            accidental_shares([&first, &named, &second, &alone]),
            [
                "the #[circuit_breaker] functions at src/app.rs:3:1 and src/app.rs:9:1 share the \
              default name `app::helper`, and so one breaker: give each a `name = \"...\"` of \
              its own (or give them one `name` to share it on purpose)"
            ]
        );
        assert!(accidental_shares([&first, &first, &named, &alone]).is_empty());
    }

    #[test]
    fn attributes_giving_one_name_different_settings_are_named_with_their_settings() {
        let second = declared("db", "src/b.rs", 4, NINE);
        let first = declared("db", "src/a.rs", 12, SEVEN);
        let agrees = declared("db", "src/c.rs", 1, SEVEN);
        let bare = declared("db", "src/d.rs", 1, &[]);
        let other = declared("cache", "src/e.rs", 1, TWO);
        for order in [
            [&second, &first, &agrees, &bare, &other],
            [&other, &bare, &agrees, &first, &second],
        ] {
            assert_eq!(
                conflicting_settings(order),
                [
                    "the #[circuit_breaker] attributes at src/a.rs:12:1 (failure_threshold = 7) \
                     and src/b.rs:4:1 (failure_threshold = 9) and src/c.rs:1:1 \
                     (failure_threshold = 7) give the breaker `db` different settings; the \
                     first is used: give them in one place (the others may name the breaker \
                     alone)"
                ]
            );
        }
        // The same settings, in any order of keys, or none at all: no warning.
        const BOTH: &[(Setting, Value)] = &[
            (Setting::FailureThreshold, Value::Count(7)),
            (Setting::SuccessThreshold, Value::Count(2)),
        ];
        const BOTH_REVERSED: &[(Setting, Value)] = &[
            (Setting::SuccessThreshold, Value::Count(2)),
            (Setting::FailureThreshold, Value::Count(7)),
        ];
        let a = declared("q", "a.rs", 1, BOTH);
        let b = declared("q", "b.rs", 1, BOTH_REVERSED);
        assert!(conflicting_settings([&a, &b, &bare]).is_empty());
    }

    #[test]
    fn without_settings_the_defaults_stand() {
        let a = declared("x", "b.rs", 1, &[]);
        let b = declared("x", "a.rs", 1, &[]);
        let chosen = chosen([&a, &b]);
        assert_eq!(chosen.len(), 1);
        assert_eq!(chosen[0].file, "a.rs");
        assert_eq!(chosen[0].config().failure_threshold(), 5);
    }

    #[test]
    fn the_literals_lay_over_the_defaults_and_a_refused_one_leaves_the_defaults() {
        let given = declared("y", "a.rs", 1, TWO);
        assert_eq!(
            (
                given.config().failure_threshold(),
                given.config().success_threshold()
            ),
            (2, 3)
        );
        let refused = Declaration {
            settings: &[
                (Setting::FailureThreshold, Value::Count(2)),
                (Setting::SuccessThreshold, Value::Count(9)),
            ],
            ..declared("y", "a.rs", 1, &[])
        };
        assert_eq!(refused.config().failure_threshold(), 5);
    }

    /// A declaration with `key = ...`, with the given bounds.
    fn keyed(
        name: &'static str,
        file: &'static str,
        settings: &'static [(Setting, Value)],
        limits: KeyedLimits,
    ) -> Declaration {
        Declaration {
            keyed: Some(limits),
            ..declared(name, file, 1, settings)
        }
    }

    #[test]
    fn a_keyed_set_and_a_named_breaker_of_one_name_are_chosen_apart() {
        let named = declared("hosts", "a.rs", 1, SEVEN);
        let per_key = keyed("hosts", "b.rs", NINE, KeyedLimits::DEFAULT);
        let chosen = chosen([&per_key, &named]);
        let kinds: Vec<_> = chosen.iter().map(|d| (d.name, d.keyed.is_some())).collect();
        assert_eq!(kinds, [("hosts", false), ("hosts", true)]);
        assert_eq!(chosen[1].config().failure_threshold(), 9);
        // Different kinds do not conflict in their settings: they are two things.
        assert!(conflicting_settings([&named, &per_key]).is_empty());
    }

    #[test]
    fn a_name_given_to_a_breaker_and_to_a_keyed_set_is_warned_of_naming_both_places() {
        let named = declared("hosts", "src/a.rs", 3, &[]);
        let per_key = keyed("hosts", "src/b.rs", &[], KeyedLimits::DEFAULT);
        let other = keyed("tenants", "src/c.rs", &[], KeyedLimits::DEFAULT);
        assert_eq!(
            named_and_keyed([&per_key, &other, &named]),
            [
                "the #[circuit_breaker] attributes at src/a.rs:3:1 declare one breaker `hosts`, \
                 and those at src/b.rs:1:1 a breaker per key under the same name \
                 (`hosts:<key>`): they are two things, and `configure(\"hosts\", ..)` reaches \
                 both; give one of them another `name`"
            ]
        );
        assert!(named_and_keyed([&per_key, &other]).is_empty());
    }

    #[test]
    fn keyed_sets_of_one_name_with_different_bounds_are_warned_of_and_the_first_wins() {
        let minutes = |m: u64| std::time::Duration::from_secs(60 * m);
        let small = keyed("hosts", "src/a.rs", &[], KeyedLimits::new(10, minutes(1)));
        let large = keyed(
            "hosts",
            "src/b.rs",
            &[],
            KeyedLimits::new(1_000, minutes(10)),
        );
        // The default bounds and no setting: agrees with any.
        let bare = keyed("hosts", "src/c.rs", &[], KeyedLimits::DEFAULT);
        assert_eq!(
            conflicting_settings([&large, &bare, &small]),
            [
                "the #[circuit_breaker] attributes at src/a.rs:1:1 (max_keys = 10, \
                 key_idle_timeout = 60s) and src/b.rs:1:1 (max_keys = 1000, key_idle_timeout = \
                 600s) give the per-key breakers `hosts:...` different settings; the first is \
                 used: give them in one place (the others may name the breaker alone)"
            ]
        );
        let chosen = chosen([&large, &bare, &small]);
        assert_eq!(chosen.len(), 1);
        assert_eq!(chosen[0].keyed.unwrap().max_breakers(), 10);
    }
}
