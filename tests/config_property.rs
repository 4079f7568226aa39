//! Generated configurations, from the environment, TOML and JSON, checked against an oracle:
//! a plain restatement of the documented rules (the grammar of values, the limits of the
//! table, base sections, the rule between `success_threshold` and `half_open_max_calls`, and
//! which breaker reads which variable), written here without the crate's parsers.
//!
//! Every case checks that the source accepts exactly what the oracle accepts, configures
//! exactly the breakers and values the oracle expects, applies nothing when it refuses, names
//! each bad variable (environment), and never panics. 256 cases per source in `cargo test`;
//! `PROPTEST_CASES=100000 cargo test --release --test config_property` is the longer run
//! (RELIABILITY.md gives its counts).

use circuit_core::config::{EnvConfig, FileConfig};
use circuit_core::{Config, Registry};
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

// ---- the oracle -----------------------------------------------------------------------------

/// The settings in the order of the table, with their environment suffixes and file keys.
const KEYS: [(&str, &str); 4] = [
    ("failure_threshold", "FAILURE_THRESHOLD"),
    ("success_threshold", "SUCCESS_THRESHOLD"),
    ("half_open_max_calls", "HALF_OPEN_MAX_CALLS"),
    ("recovery_timeout", "RECOVERY_TIMEOUT"),
];
const TIMEOUT: usize = 3;
const MAX_CALLS: u128 = (1 << 20) - 1;
const MAX_TIMEOUT_MS: u128 = 365 * 24 * 3600 * 1000;
/// The defaults, in the order of `KEYS` (the timeout in milliseconds).
const DEFAULTS: [u128; 4] = [5, 3, 3, 60_000];

/// A setting's value: a count, or a duration in milliseconds. `None`: refused.
fn check(setting: usize, v: u128) -> Option<u128> {
    let max = match setting {
        0 => u32::MAX as u128,
        1 | 2 => MAX_CALLS,
        _ => MAX_TIMEOUT_MS,
    };
    (v >= 1 && v <= max).then_some(v)
}

fn all_digits(t: &str) -> bool {
    !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit())
}

/// The value of `text` for `setting`, as written in a variable or a file's string.
fn text_value(setting: usize, text: &str) -> Option<u128> {
    let t = text.trim();
    if setting != TIMEOUT {
        return if all_digits(t) {
            check(setting, t.parse().ok()?)
        } else {
            None
        };
    }
    let ms: u128 = if all_digits(t) {
        t.parse::<u128>().ok()? * 1000
    } else {
        let digits = t.bytes().take_while(u8::is_ascii_digit).count();
        let (n, unit) = t.split_at(digits);
        let per = match unit {
            "ms" => 1,
            "s" => 1000,
            "m" => 60_000,
            "h" => 3_600_000,
            _ => return None,
        };
        n.parse::<u128>().ok()? * per
    };
    check(TIMEOUT, ms)
}

/// A configuration the oracle expects: the four values (timeout in milliseconds), or `None`
/// when the rule between two settings refuses it.
fn laid_over_defaults(given: &[Option<u128>; 4]) -> Option<[u128; 4]> {
    let mut v = DEFAULTS;
    for (i, g) in given.iter().enumerate() {
        if let Some(g) = g {
            v[i] = *g;
        }
    }
    (v[1] <= v[2]).then_some(v)
}

fn values(c: &Config) -> [u128; 4] {
    [
        c.failure_threshold().into(),
        c.success_threshold().into(),
        c.half_open_max_calls().into(),
        c.recovery_timeout().as_millis(),
    ]
}

/// The prefix the oracle expects a name to read: `CIRCUIT_` and its runs of ASCII letters and
/// digits, upper-cased, joined by `_`.
fn prefix(name: &str) -> Option<String> {
    let runs: Vec<String> = name
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|r| !r.is_empty())
        .map(str::to_ascii_uppercase)
        .collect();
    (!runs.is_empty()).then(|| format!("CIRCUIT_{}", runs.join("_")))
}

/// Nothing was configured: every breaker of `names`, created now, has the defaults.
fn nothing_applied(registry: &Registry, names: impl IntoIterator<Item = String>) {
    for name in names {
        let c = registry.get_or_create(&name, Config::default()).config();
        assert_eq!(values(&c), DEFAULTS, "{name} was configured");
    }
}

// ---- generated values -------------------------------------------------------------------------

fn count_text() -> impl Strategy<Value = String> {
    prop_oneof![
        20 => (1u64..6).prop_map(|n| n.to_string()),
        1 => prop::sample::select(vec![
            "0",
            "1048575",
            "1048576",
            "4294967295",
            "4294967296",
            "99999999999999999999999",
            "-1",
            "1.5",
            "1e3",
            "",
            "x",
            "+3",
            "0x10",
            "007",
        ])
        .prop_map(str::to_owned),
        1 => "[0-9a-z.+ -]{0,5}",
    ]
    .prop_flat_map(padded)
}

fn duration_text() -> impl Strategy<Value = String> {
    let number = prop_oneof![
        20 => 1u128..100,
        1 => prop::sample::select(vec![
            0,
            525_600u128,
            525_601,
            8_760,
            8_761,
            31_536_000,
            31_536_001,
            31_536_000_000,
            31_536_000_001,
            18_446_744_073_709_552,
            u64::MAX as u128,
            u64::MAX as u128 + 1,
        ]),
    ];
    let unit = prop_oneof![
        20 => prop::sample::select(vec!["", "ms", "s", "m", "h"]),
        1 => prop::sample::select(vec!["d", " s", "S", "sec", "ms ", "1", "s5"]),
    ];
    prop_oneof![
        20 => (number, unit).prop_map(|(n, u)| format!("{n}{u}")),
        1 => "[0-9a-z.:+ -]{0,6}",
    ]
    .prop_flat_map(padded)
}

/// `text`, sometimes with whitespace around it.
fn padded(text: String) -> impl Strategy<Value = String> {
    let pad = prop::sample::select(vec!["", "", "", " ", "\t", "  "]);
    (pad.clone(), pad).prop_map(move |(a, b)| format!("{a}{text}{b}"))
}

fn setting_text(setting: usize) -> BoxedStrategy<String> {
    if setting == TIMEOUT {
        duration_text().boxed()
    } else {
        count_text().boxed()
    }
}

// ---- the environment --------------------------------------------------------------------------

/// Names of which some read the same prefix (`a-b`, `a_b`) and one reads none (`--`).
const NAMES: [&str; 7] = ["db", "user-service", "a-b", "a_b", "cache.main", "--", "DB"];

fn env_case() -> impl Strategy<Value = (Vec<String>, Vec<(String, String)>)> {
    let breakers = prop::sample::subsequence(NAMES.to_vec(), 1..=4)
        .prop_map(|names| names.into_iter().map(str::to_owned).collect::<Vec<_>>());
    breakers.prop_flat_map(|names| {
        let prefixes: Vec<String> = names.iter().filter_map(|n| prefix(n)).collect();
        let vars = prop::collection::vec(
            (
                prop::sample::select(if prefixes.is_empty() {
                    vec!["CIRCUIT_NONE".to_owned()]
                } else {
                    prefixes
                }),
                0..KEYS.len(),
            )
                .prop_flat_map(|(prefix, setting)| {
                    setting_text(setting)
                        .prop_map(move |text| (format!("{prefix}_{}", KEYS[setting].1), text))
                }),
            0..6,
        );
        let noise = prop::collection::vec(
            ("CIRCUIT_[A-Z_]{0,8}", "[0-9a-z]{0,3}").prop_map(|(k, v)| (k, v)),
            0..3,
        );
        (Just(names), vars, noise).prop_map(|(names, mut vars, noise)| {
            vars.extend(noise);
            (names, vars)
        })
    })
}

fn check_env(names: &[String], vars: &[(String, String)]) {
    // The environment holds one value per variable: the last given.
    let env: BTreeMap<&str, &str> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let mut readers: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for name in names {
        if let Some(p) = prefix(name) {
            readers.entry(p).or_default().push(name);
        }
    }
    let mut bad: BTreeSet<String> = BTreeSet::new();
    let mut expected: BTreeMap<String, [u128; 4]> = BTreeMap::new();
    for (p, readers) in &readers {
        let set: Vec<(usize, String, &str)> = (0..KEYS.len())
            .filter_map(|i| {
                let var = format!("{p}_{}", KEYS[i].1);
                let value = *env.get(var.as_str())?;
                Some((i, var, value))
            })
            .collect();
        if readers.len() > 1 {
            bad.extend(set.into_iter().map(|(_, var, _)| var));
            continue;
        }
        if set.is_empty() {
            continue;
        }
        let mut given = [None; 4];
        let mut any_bad = false;
        for (i, var, value) in &set {
            match text_value(*i, value) {
                Some(v) => given[*i] = Some(v),
                None => {
                    bad.insert(var.clone());
                    any_bad = true;
                }
            }
        }
        if any_bad {
            continue;
        }
        match laid_over_defaults(&given) {
            Some(v) => {
                expected.insert(readers[0].to_owned(), v);
            }
            None => {
                // Blamed: the variable of success_threshold, else of half_open_max_calls.
                let blamed = set.iter().find(|(i, _, _)| *i == 1 || *i == 2).unwrap();
                bad.insert(blamed.1.clone());
            }
        }
    }

    let registry = Registry::new();
    let env_config = names
        .iter()
        .fold(EnvConfig::new(), |env, name| env.breaker(name));
    match env_config.apply_from(&registry, vars.iter().map(|(k, v)| (k, v))) {
        Ok(applied) => {
            assert!(bad.is_empty(), "accepted, but the oracle refuses {bad:?}");
            let got: BTreeMap<String, [u128; 4]> = applied
                .iter()
                .map(|(n, c)| (n.clone(), values(c)))
                .collect();
            assert_eq!(got, expected);
            for (name, v) in &expected {
                let c = registry.get_or_create(name, Config::default()).config();
                assert_eq!(&values(&c), v, "{name}");
            }
        }
        Err(err) => {
            let named: BTreeSet<String> = err
                .problems()
                .iter()
                .map(|p| p.variable().to_owned())
                .collect();
            assert_eq!(named, bad, "{err}");
            assert_eq!(
                err.problems().len(),
                bad.len(),
                "one problem a variable: {err}"
            );
            for p in err.problems() {
                assert_eq!(p.value(), env[p.variable()], "the value as given");
            }
            let _ = err.to_string();
            nothing_applied(&registry, names.iter().cloned());
        }
    }
}

// ---- files ------------------------------------------------------------------------------------

/// A value in a file: a number, or a string.
#[derive(Clone, Debug)]
enum FileValue {
    Int(i128),
    Str(String),
}

#[derive(Clone, Debug)]
struct Table {
    name: String,
    base: Option<String>,
    /// `(setting, value)`, each setting at most once.
    settings: Vec<(usize, FileValue)>,
}

#[derive(Clone, Debug)]
struct File {
    sections: Vec<Table>,
    instances: Vec<Table>,
}

fn file_value(setting: usize) -> BoxedStrategy<FileValue> {
    if setting == TIMEOUT {
        // Mostly strings: the grammar is where durations go wrong.
        return prop_oneof![
            1 => (1i128..100).prop_map(FileValue::Int),
            3 => setting_text(setting).prop_map(FileValue::Str),
        ]
        .boxed();
    }
    let ints = prop_oneof![
        30 => 1i128..6,
        1 => -2i128..1,
        1 => prop::sample::select(vec![
            1_048_575i128,
            1_048_576,
            4_294_967_295,
            4_294_967_296,
            31_536_000,
            31_536_001,
            18_446_744_073_709_552,
            i64::MAX as i128,
        ]),
    ];
    prop_oneof![
        20 => ints.prop_map(FileValue::Int),
        1 => setting_text(setting).prop_map(FileValue::Str),
    ]
    .boxed()
}

fn table(names: Vec<&'static str>, bases: Vec<&'static str>) -> impl Strategy<Value = Table> {
    let settings = prop::sample::subsequence((0..KEYS.len()).collect::<Vec<_>>(), 0..=3)
        .prop_flat_map(|chosen| {
            chosen
                .into_iter()
                .map(|s| file_value(s).prop_map(move |v| (s, v)))
                .collect::<Vec<_>>()
        });
    let base = if bases.is_empty() {
        Just(None).boxed()
    } else {
        prop::option::weighted(0.3, prop::sample::select(bases).prop_map(str::to_owned)).boxed()
    };
    (prop::sample::select(names), base, settings).prop_map(|(name, base, settings)| Table {
        name: name.to_owned(),
        base,
        settings,
    })
}

fn file_case() -> impl Strategy<Value = File> {
    // Names given twice now and then; a base section missing now and then.
    let sections = prop::collection::vec(
        table(
            vec!["default", "slow", "fast", "s1", "s2", "s3", "s4"],
            vec![],
        ),
        0..3,
    );
    let instances = prop::collection::vec(
        table(
            vec![
                "db",
                "user-service",
                "inventory::db",
                "search",
                "a b",
                "c",
                "d",
                "e",
                "f",
            ],
            vec!["default", "slow", "fast", "s1", "s2", "s3", "missing"],
        ),
        0..4,
    );
    (sections, instances).prop_map(|(sections, instances)| File {
        sections,
        instances,
    })
}

/// A string as TOML and JSON both read it (the generated text is printable ASCII).
fn quoted(s: &str) -> String {
    format!("{s:?}")
}

fn render(v: &FileValue) -> String {
    match v {
        FileValue::Int(n) => n.to_string(),
        FileValue::Str(s) => quoted(s),
    }
}

fn toml(file: &File) -> String {
    let mut text = String::new();
    for (group, tables) in [("configs", &file.sections), ("instances", &file.instances)] {
        for t in tables {
            text.push_str(&format!("[{group}.{}]\n", quoted(&t.name)));
            if let Some(base) = &t.base {
                text.push_str(&format!("base_config = {}\n", quoted(base)));
            }
            for (s, v) in &t.settings {
                text.push_str(&format!("{} = {}\n", KEYS[*s].0, render(v)));
            }
        }
    }
    text
}

fn json(file: &File) -> String {
    let group = |tables: &[Table]| {
        let tables: Vec<String> = tables
            .iter()
            .map(|t| {
                let mut entries: Vec<String> = Vec::new();
                if let Some(base) = &t.base {
                    entries.push(format!("\"base_config\": {}", quoted(base)));
                }
                for (s, v) in &t.settings {
                    entries.push(format!("\"{}\": {}", KEYS[*s].0, render(v)));
                }
                format!("{}: {{{}}}", quoted(&t.name), entries.join(", "))
            })
            .collect();
        format!("{{{}}}", tables.join(", "))
    };
    format!(
        "{{\"configs\": {}, \"instances\": {}}}",
        group(&file.sections),
        group(&file.instances)
    )
}

/// The value of one setting in a file.
fn file_setting(setting: usize, v: &FileValue) -> Option<u128> {
    match (setting, v) {
        (TIMEOUT, FileValue::Int(n)) => check(TIMEOUT, u128::try_from(*n).ok()? * 1000),
        (TIMEOUT, FileValue::Str(s)) => text_value(TIMEOUT, s),
        (_, FileValue::Int(n)) => check(setting, u128::try_from(*n).ok()?),
        // A count is a number, not a string.
        (_, FileValue::Str(_)) => None,
    }
}

/// What the oracle expects of a file: `None` if reading it fails; else, the result of
/// applying it to an empty registry (`None` if refused).
#[allow(clippy::type_complexity)]
fn expected_file(file: &File) -> Option<Option<BTreeMap<String, [u128; 4]>>> {
    let mut sections: BTreeMap<&str, [Option<u128>; 4]> = BTreeMap::new();
    for t in &file.sections {
        let mut given = [None; 4];
        for (s, v) in &t.settings {
            given[*s] = Some(file_setting(*s, v)?);
        }
        if sections.insert(&t.name, given).is_some() {
            return None; // a section given twice
        }
    }
    let mut instances: BTreeMap<&str, (Option<&str>, [Option<u128>; 4])> = BTreeMap::new();
    for t in &file.instances {
        let mut given = [None; 4];
        for (s, v) in &t.settings {
            given[*s] = Some(file_setting(*s, v)?);
        }
        if instances
            .insert(&t.name, (t.base.as_deref(), given))
            .is_some()
        {
            return None; // an instance given twice
        }
    }
    let mut applied = BTreeMap::new();
    let mut refused = false;
    for (name, (base, given)) in &instances {
        let base = match base {
            Some(b) => *sections.get(b)?, // a missing base section
            None => sections.get("default").copied().unwrap_or([None; 4]),
        };
        let mut merged = base;
        for (i, g) in given.iter().enumerate() {
            if g.is_some() {
                merged[i] = *g;
            }
        }
        match laid_over_defaults(&merged) {
            Some(v) => {
                applied.insert((*name).to_owned(), v);
            }
            None => refused = true,
        }
    }
    Some((!refused).then_some(applied))
}

fn check_file(file: &File) {
    let expected = expected_file(file);
    let (toml, json) = (toml(file), json(file));
    let read = [
        ("toml", FileConfig::from_toml(&toml)),
        ("json", FileConfig::from_json(&json)),
        (
            "serde_json",
            FileConfig::from_deserializer(&mut serde_json::Deserializer::from_str(&json)),
        ),
    ];
    for (format, read) in read {
        let text = if format == "toml" { &toml } else { &json };
        match (&expected, read) {
            (None, Ok(_)) => panic!("{format} accepted what the oracle refuses:\n{text}"),
            (None, Err(err)) => {
                assert!(!err.problems().is_empty());
                let _ = err.to_string();
            }
            (Some(_), Err(err)) => panic!("{format} refused:\n{text}\n{err}"),
            (Some(outcome), Ok(config)) => {
                let registry = Registry::new();
                match (outcome, config.apply(&registry)) {
                    (Some(want), Ok(applied)) => {
                        let got: BTreeMap<String, [u128; 4]> = applied
                            .iter()
                            .map(|(n, c)| (n.clone(), values(c)))
                            .collect();
                        assert_eq!(&got, want, "{format}:\n{text}");
                    }
                    (None, Err(err)) => {
                        let _ = err.to_string();
                        nothing_applied(&registry, file.instances.iter().map(|t| t.name.clone()));
                    }
                    (want, got) => panic!("{format}:\n{text}\nexpected {want:?}, got {got:?}"),
                }
            }
        }
    }
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(256)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn environments_are_read_as_the_oracle_reads_them((names, vars) in env_case()) {
        check_env(&names, &vars);
    }

    #[test]
    fn toml_and_json_files_are_read_as_the_oracle_reads_them(file in file_case()) {
        check_file(&file);
    }
}

#[test]
fn the_oracle_reads_the_documented_examples() {
    // The oracle itself, on the examples of the docs: a wrong oracle would pass wrong code.
    assert_eq!(text_value(TIMEOUT, " 500ms "), Some(500));
    assert_eq!(text_value(TIMEOUT, "60"), Some(60_000));
    assert_eq!(text_value(TIMEOUT, "1m30s"), None);
    assert_eq!(text_value(TIMEOUT, "8761h"), None);
    assert_eq!(text_value(2, "1048576"), None);
    assert_eq!(text_value(0, "4294967295"), Some(4_294_967_295));
    assert_eq!(
        prefix("user-service").as_deref(),
        Some("CIRCUIT_USER_SERVICE")
    );
    assert_eq!(prefix("--"), None);
    assert_eq!(Duration::from_millis(60_000).as_millis(), DEFAULTS[TIMEOUT]);
}
