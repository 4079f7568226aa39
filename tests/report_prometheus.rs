//! Feature `prometheus`: the collector's text exposition, rendered and parsed back.

use circuit_core::clock::ManualClock;
use circuit_core::{CircuitBreaker, Config, Outcome, Registry};
use prometheus_client::encoding::text::encode;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

/// One sample line: metric name, labels, value.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// The exposition parsed: `# TYPE` of each family, and every sample.
#[derive(Debug)]
struct Exposition {
    types: HashMap<String, String>,
    samples: Vec<Sample>,
}

impl Exposition {
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let want: BTreeMap<String, String> = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let found: Vec<&Sample> = self
            .samples
            .iter()
            .filter(|s| s.name == name && s.labels == want)
            .collect();
        assert_eq!(found.len(), 1, "{name}{labels:?} in {:#?}", self.samples);
        found[0].value
    }
}

/// A parser of the text format, strict enough to catch malformed output: every line is a
/// comment we know, a sample, or the final `# EOF`.
fn parse(text: &str) -> Exposition {
    let mut types = HashMap::new();
    let mut samples = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines.last(),
        Some(&"# EOF"),
        "the exposition ends with # EOF"
    );
    for line in &lines[..lines.len() - 1] {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("# TYPE name type");
            types.insert(name.to_owned(), kind.to_owned());
        } else if line.starts_with("# HELP ") {
            continue;
        } else if let Some(rest) = line.strip_prefix("# UNIT ") {
            // OpenMetrics' unit of a family whose name ends in it: only seconds here.
            let (name, unit) = rest.split_once(' ').expect("# UNIT name unit");
            assert!(name.ends_with("_seconds") && unit == "seconds", "{line}");
        } else {
            samples.push(parse_sample(line));
        }
    }
    Exposition { types, samples }
}

fn parse_sample(line: &str) -> Sample {
    let name_end = line.find(['{', ' ']).expect("a metric name");
    let name = line[..name_end].to_owned();
    let mut labels = BTreeMap::new();
    let mut rest = &line[name_end..];
    if let Some(body) = rest.strip_prefix('{') {
        let mut chars = body.char_indices();
        loop {
            let (start, c) = chars.next().expect("a label or }");
            if c == '}' {
                rest = &body[start + 1..];
                break;
            }
            if c == ',' {
                continue;
            }
            let eq = body[start..].find("=\"").expect("label=\"") + start;
            let key = body[start..eq].to_owned();
            while chars.next().map(|(i, _)| i) != Some(eq + 1) {}
            let mut value = String::new();
            loop {
                match chars.next().expect("a closing quote").1 {
                    '"' => break,
                    '\\' => match chars.next().expect("an escaped char").1 {
                        'n' => value.push('\n'),
                        other => value.push(other),
                    },
                    other => value.push(other),
                }
            }
            labels.insert(key, value);
        }
    }
    let value = rest
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("a value in {line:?}"));
    Sample {
        name,
        labels,
        value,
    }
}

fn scrape(registry: &Arc<Registry>) -> Exposition {
    let mut metrics = prometheus_client::registry::Registry::default();
    circuit_core::prometheus::register(&mut metrics, registry.clone());
    let mut text = String::new();
    encode(&mut text, &metrics).unwrap();
    parse(&text)
}

fn breaker(registry: &Registry, name: &str, clock: &ManualClock) -> Arc<CircuitBreaker> {
    let config = Config::builder()
        .failure_threshold(3)
        .clock(clock.clone())
        .build()
        .unwrap();
    registry.get_or_create(name, config)
}

#[test]
fn families_have_the_designs_names_and_types() {
    let registry = Arc::new(Registry::new());
    breaker(&registry, "user-service", &ManualClock::new());
    let m = scrape(&registry);
    assert_eq!(m.types["circuit_breaker_state"], "gauge");
    assert_eq!(m.types["circuit_breaker_in_state"], "gauge");
    assert_eq!(m.types["circuit_breaker_failures"], "counter");
    assert_eq!(m.types["circuit_breaker_calls"], "counter");
    assert_eq!(m.types["circuit_breaker_failure_rate"], "gauge");
    assert_eq!(m.types["circuit_breaker_slow_call_rate"], "gauge");
    assert_eq!(
        m.types["circuit_breaker_call_duration_seconds"],
        "histogram"
    );
    assert_eq!(m.types.len(), 7);
    let names: std::collections::BTreeSet<&str> =
        m.samples.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names.into_iter().collect::<Vec<_>>(),
        [
            "circuit_breaker_calls_total",
            "circuit_breaker_failures_total",
            "circuit_breaker_in_state",
            "circuit_breaker_state",
        ]
    );
}

#[test]
fn totals_are_read_per_name_and_result() {
    let registry = Arc::new(Registry::new());
    let clock = ManualClock::new();
    let users = breaker(&registry, "user-service", &clock);
    let _ = users.call(|| Ok::<_, ()>(()));
    let _ = users.call(|| Ok::<_, ()>(()));
    // An error the service answered with: a success, and excluded.
    let _ = users.call_with(|| Err::<(), _>("not found"), |_| Outcome::Excluded);
    for _ in 0..3 {
        let _ = users.call(|| Err::<(), _>("down"));
    }
    for _ in 0..2 {
        assert!(users.call(|| Ok::<_, ()>(())).is_err());
        users.record_fallback();
    }
    breaker(&registry, "products", &clock);

    let m = scrape(&registry);
    let calls = |name, result| {
        m.value(
            "circuit_breaker_calls_total",
            &[("name", name), ("result", result)],
        )
    };
    assert_eq!(calls("user-service", "success"), 3.0);
    assert_eq!(calls("user-service", "excluded"), 1.0);
    assert_eq!(calls("user-service", "failure"), 3.0);
    assert_eq!(calls("user-service", "rejected"), 2.0);
    assert_eq!(calls("user-service", "fallback"), 2.0);
    assert_eq!(calls("products", "success"), 0.0);
    assert_eq!(
        m.value(
            "circuit_breaker_failures_total",
            &[("name", "user-service")]
        ),
        3.0
    );
    assert_eq!(
        m.value("circuit_breaker_failures_total", &[("name", "products")]),
        0.0
    );
}

#[test]
fn state_reads_0_1_2_with_forced_open_as_open_and_disabled_as_closed() {
    let registry = Arc::new(Registry::new());
    let clock = ManualClock::new();
    breaker(&registry, "closed", &clock);
    let open = breaker(&registry, "open", &clock);
    let half_open = breaker(&registry, "half-open", &clock);
    breaker(&registry, "forced", &clock).force_open();
    breaker(&registry, "disabled", &clock).disable();
    for _ in 0..3 {
        let _ = half_open.call(|| Err::<(), _>(()));
    }
    clock.advance(Duration::from_secs(60));
    for _ in 0..3 {
        let _ = open.call(|| Err::<(), _>(()));
    }

    let m = scrape(&registry);
    let state = |name| m.value("circuit_breaker_state", &[("name", name)]);
    assert_eq!(
        [
            state("closed"),
            state("half-open"),
            state("open"),
            state("forced"),
            state("disabled")
        ],
        [0.0, 1.0, 2.0, 2.0, 0.0]
    );
    for (name, current) in [
        ("closed", "closed"),
        ("half-open", "half_open"),
        ("open", "open"),
        ("forced", "forced_open"),
        ("disabled", "disabled"),
    ] {
        for state in ["closed", "open", "half_open", "forced_open", "disabled"] {
            let v = m.value(
                "circuit_breaker_in_state",
                &[("name", name), ("state", state)],
            );
            assert_eq!(v, f64::from(u8::from(state == current)), "{name} {state}");
        }
    }
}

#[test]
fn each_scrape_reads_the_live_state() {
    let registry = Arc::new(Registry::new());
    let users = breaker(&registry, "user-service", &ManualClock::new());
    let before = scrape(&registry);
    users.force_open();
    let _ = users.call(|| Ok::<_, ()>(()));
    let after = scrape(&registry);
    let state = |m: &Exposition| m.value("circuit_breaker_state", &[("name", "user-service")]);
    assert_eq!((state(&before), state(&after)), (0.0, 2.0));
    let rejected = |m: &Exposition| {
        m.value(
            "circuit_breaker_calls_total",
            &[("name", "user-service"), ("result", "rejected")],
        )
    };
    assert_eq!((rejected(&before), rejected(&after)), (0.0, 1.0));
}

#[test]
fn names_that_need_escaping_survive_the_round_trip() {
    let registry = Arc::new(Registry::new());
    let name = "quote\" backslash\\ newline\n end";
    breaker(&registry, name, &ManualClock::new());
    let m = scrape(&registry);
    assert_eq!(m.value("circuit_breaker_state", &[("name", name)]), 0.0);
}

#[test]
fn rate_gauges_are_absent_below_minimum_calls_and_read_the_window_above_it() {
    let registry = Arc::new(Registry::new());
    let clock = ManualClock::new();
    let config = Config::builder()
        .failure_rate_threshold(0.9)
        .slow_call_duration(Duration::from_millis(100))
        .sliding_window(circuit_core::SlidingWindow::Count(10))
        .minimum_calls(4)
        .clock(clock.clone())
        .build()
        .unwrap();
    let api = registry.get_or_create("api", config);
    breaker(&registry, "consecutive", &clock);
    let _ = api.call(|| Err::<(), _>("down"));
    let rates = |m: &Exposition| {
        m.samples
            .iter()
            .filter(|s| s.name.ends_with("_rate"))
            .map(|s| (s.name.clone(), s.labels["name"].clone(), s.value))
            .collect::<Vec<_>>()
    };
    assert_eq!(rates(&scrape(&registry)), [], "absent below minimum_calls");
    let _ = api.call(|| {
        clock.advance(Duration::from_millis(100));
        Ok::<_, &str>(())
    });
    let _ = api.call(|| Ok::<_, &str>(()));
    let _ = api.call(|| Ok::<_, &str>(()));
    api.try_acquire().unwrap().ignore();
    let m = scrape(&registry);
    assert_eq!(
        rates(&m),
        [
            (
                "circuit_breaker_failure_rate".to_owned(),
                "api".to_owned(),
                0.25
            ),
            (
                "circuit_breaker_slow_call_rate".to_owned(),
                "api".to_owned(),
                0.25
            ),
        ],
        "and never for a breaker without the rule"
    );
    let calls = |result| {
        m.value(
            "circuit_breaker_calls_total",
            &[("name", "api"), ("result", result)],
        )
    };
    assert_eq!((calls("ignored"), calls("slow")), (1.0, 1.0));
    assert_eq!((calls("success"), calls("failure")), (3.0, 1.0));
}

#[tokio::test(start_paused = true)]
async fn timeouts_and_abandoned_calls_have_their_results() {
    let registry = Arc::new(Registry::new());
    let clock = ManualClock::new();
    let config = Config::builder()
        .timeout(Duration::from_millis(500))
        .abandoned_call_duration(Duration::from_secs(1))
        .clock(clock.clone())
        .build()
        .unwrap();
    let upstream = registry.get_or_create("upstream", config);
    let slow = async {
        tokio::time::sleep(Duration::from_secs(2)).await;
        Ok::<_, ()>(())
    };
    assert!(upstream.call_async(slow).await.unwrap_err().is_timeout());
    // Two calls abandoned: one soon (counted only as abandoned), one late (also a failure).
    for waited in [Duration::from_millis(10), Duration::from_secs(1)] {
        let mut call = Box::pin(upstream.call_async(std::future::pending::<Result<(), ()>>()));
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        assert!(std::future::Future::poll(call.as_mut(), &mut cx).is_pending());
        clock.advance(waited);
        drop(call);
    }
    let m = scrape(&registry);
    let calls = |result| {
        m.value(
            "circuit_breaker_calls_total",
            &[("name", "upstream"), ("result", result)],
        )
    };
    assert_eq!(calls("timeout"), 1.0);
    assert_eq!(calls("abandoned"), 2.0);
    assert_eq!(calls("failure"), 2.0);
}

/// The samples of one breaker's call-duration histogram for `result`: `(le, count)` of its
/// buckets in the order written, then `_sum` and `_count`.
type Histogram = (Vec<(String, f64)>, f64, f64);

fn histogram(m: &Exposition, name: &str, result: &str) -> Histogram {
    const FAMILY: &str = "circuit_breaker_call_duration_seconds";
    let ours = |s: &&Sample| {
        s.labels.get("name").map(String::as_str) == Some(name)
            && s.labels.get("result").map(String::as_str) == Some(result)
    };
    let buckets = m
        .samples
        .iter()
        .filter(|s| s.name == format!("{FAMILY}_bucket"))
        .filter(ours)
        .map(|s| (s.labels["le"].clone(), s.value))
        .collect();
    let labels = [("name", name), ("result", result)];
    (
        buckets,
        m.value(&format!("{FAMILY}_sum"), &labels),
        m.value(&format!("{FAMILY}_count"), &labels),
    )
}

#[test]
fn call_durations_are_a_histogram_per_name_and_result_for_breakers_that_record() {
    let registry = Arc::new(Registry::new());
    let clock = ManualClock::new();
    let config = Config::builder()
        .record_call_durations(true)
        .failure_threshold(100)
        .clock(clock.clone())
        .build()
        .unwrap();
    let timed = registry.get_or_create("timed", config);
    breaker(&registry, "untimed", &clock);
    let took = |d: Duration, r: Result<(), &'static str>| {
        let _ = timed.call(|| {
            clock.advance(d);
            r
        });
    };
    for d in [1, 3, 3, 40, 700, 12_000] {
        took(Duration::from_millis(d), Ok(()));
    }
    took(Duration::from_millis(2), Err("down"));
    let _ = timed.call_with(|| Err::<(), _>("not found"), |_| Outcome::Excluded);

    let m = scrape(&registry);
    let (buckets, sum, count) = histogram(&m, "timed", "success");
    let les: Vec<&str> = buckets.iter().map(|(le, _)| le.as_str()).collect();
    assert_eq!(
        les,
        [
            "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1.0",
            "2.5", "5.0", "10.0", "+Inf"
        ]
    );
    let counts: Vec<f64> = buckets.iter().map(|(_, n)| *n).collect();
    assert!(
        counts.windows(2).all(|w| w[0] <= w[1]),
        "cumulative buckets never decrease: {counts:?}"
    );
    assert_eq!(
        counts,
        [1.0, 1.0, 3.0, 3.0, 3.0, 4.0, 4.0, 4.0, 4.0, 5.0, 5.0, 5.0, 5.0, 6.0]
    );
    assert_eq!(count, 6.0, "`_count` is the calls");
    assert_eq!(count, *counts.last().unwrap(), "and the +Inf bucket");
    assert!((sum - 12.747).abs() < 1e-9, "`_sum` in seconds: {sum}");

    let (failure, failure_sum, failure_count) = histogram(&m, "timed", "failure");
    assert_eq!(
        (failure[1].1, failure_sum, failure_count),
        (1.0, 0.002, 1.0)
    );
    assert_eq!(histogram(&m, "timed", "excluded").2, 1.0);
    assert_eq!(histogram(&m, "timed", "ignored").2, 0.0);
    let all_counts: f64 = ["success", "failure", "excluded", "ignored"]
        .iter()
        .map(|r| histogram(&m, "timed", r).2)
        .sum();
    let calls = |result| {
        m.value(
            "circuit_breaker_calls_total",
            &[("name", "timed"), ("result", result)],
        )
    };
    assert_eq!(
        all_counts,
        calls("success") + calls("failure") + calls("ignored"),
        "the results' counts add up to the calls made"
    );
    assert!(
        m.samples
            .iter()
            .all(|s| !s.name.starts_with("circuit_breaker_call_duration")
                || s.labels["name"] == "timed"),
        "absent for a breaker that does not record"
    );
}
