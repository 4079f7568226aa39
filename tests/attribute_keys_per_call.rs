//! `#[circuit_breaker(key = expr)]`: each call runs through the breaker of its key, from a set
//! of per-key breakers named after the attribute's `name` and made from its settings. One key
//! trips while the others keep serving; idle keys are dropped and the set is bounded
//! (`key_idle_timeout`, `max_keys`); an empty key is refused without running and through no
//! breaker. Every shape of function the attribute takes works with a key: sync and async,
//! methods, fallbacks (with and without a reason), predicates, `CircuitError<E>` returns,
//! `timeout`. Idle times and Open periods are moved on a `ManualClock` given to the set.

use circuit_core::clock::ManualClock;
use circuit_core::config::EnvConfig;
use circuit_core::{
    circuit_breaker, registry, CallTimedOut, CircuitError, CircuitOpen, Config, FallbackReason,
    KeyError, KeyedBreakers, Outcome, State,
};
use std::borrow::Cow;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The error type of the keyed functions here: it holds a rejection, a timeout and a refused
/// key, as a keyed function without a fallback needs.
#[derive(Debug, Clone, PartialEq, Eq)]
enum HostError {
    /// Rejected by the breaker of this name.
    Rejected(String),
    /// The key was refused.
    BadKey(KeyError),
    TimedOut,
    Down,
    NotFound,
}

impl From<CircuitOpen> for HostError {
    fn from(open: CircuitOpen) -> Self {
        HostError::Rejected(open.name().to_owned())
    }
}

impl From<KeyError> for HostError {
    fn from(error: KeyError) -> Self {
        HostError::BadKey(error)
    }
}

impl From<CallTimedOut> for HostError {
    fn from(_: CallTimedOut) -> Self {
        HostError::TimedOut
    }
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// Gives a set's template a manual clock, keeping the rest of it (the attribute's literals);
/// the set's breakers and its idle times then run on that clock.
fn manual_clock(set: &KeyedBreakers) -> ManualClock {
    let clock = ManualClock::new();
    let template = set
        .template()
        .to_builder()
        .clock(clock.clone())
        .build()
        .expect("the set's own template is valid");
    set.reconfigure(template);
    clock
}

fn empty_key(set: &str) -> KeyError {
    KeyError::Empty { set: set.into() }
}

/// Polls a future that never waits to its end.
fn run<F: Future>(fut: F) -> F::Output {
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    let mut fut = std::pin::pin!(fut);
    match fut.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(output) => output,
        std::task::Poll::Pending => panic!("the future waited"),
    }
}

#[circuit_breaker(
    name = "per-call-hosts",
    key = host,
    failure_threshold = 2,
    success_threshold = 1,
    recovery_timeout = "30s"
)]
fn fetch(host: &str, up: bool) -> Result<String, HostError> {
    if up {
        Ok(format!("{host}: 200"))
    } else {
        Err(HostError::Down)
    }
}

#[test]
fn one_key_trips_while_another_keeps_serving() {
    let clock = manual_clock(fetch::breakers());
    assert_eq!(fetch("a.example", false), Err(HostError::Down));
    assert_eq!(fetch("a.example", false), Err(HostError::Down));
    assert_eq!(
        fetch("a.example", true),
        Err(HostError::Rejected("per-call-hosts:a.example".into()))
    );
    assert_eq!(fetch("b.example", true), Ok("b.example: 200".into()));

    // (Other tests call `fetch` with keys of their own, so the set's size is not checked here.)
    let set = fetch::breakers();
    assert_eq!(set.name(), "per-call-hosts");
    assert_eq!(set.peek("a.example").unwrap().state(), State::Open);
    assert_eq!(set.peek("b.example").unwrap().state(), State::Closed);

    clock.advance(secs(30));
    assert_eq!(fetch("a.example", true), Ok("a.example: 200".into()));
    assert_eq!(set.peek("a.example").unwrap().state(), State::Closed);
}

#[test]
fn every_setting_of_the_attribute_configures_each_keys_breaker() {
    let config = fetch::breakers().template();
    assert_eq!(
        (
            config.failure_threshold(),
            config.success_threshold(),
            config.recovery_timeout()
        ),
        (2, 1, secs(30))
    );
    let _ = fetch("settings.example", true);
    let breaker = fetch::breakers().peek("settings.example").unwrap();
    assert_eq!(breaker.name(), "per-call-hosts:settings.example");
    assert_eq!(breaker.config().failure_threshold(), 2);
    assert_eq!(breaker.config().recovery_timeout(), secs(30));
}

#[test]
fn the_set_is_resolved_once_and_is_the_registrys() {
    let from_registry = registry()
        .keyed_set("per-call-hosts")
        .expect("made at start-up");
    assert!(Arc::ptr_eq(fetch::breakers(), &from_registry));
    // Its breakers are not named breakers: the registry's reports do not grow with keys.
    let _ = fetch("reports.example", true);
    assert!(registry().get("per-call-hosts:reports.example").is_none());
}

#[circuit_breaker(name = "per-call-idle", key = tenant, key_idle_timeout = "1m")]
fn for_tenant(tenant: String) -> Result<(), HostError> {
    let _ = tenant;
    Ok(())
}

#[test]
fn keys_idle_for_key_idle_timeout_are_dropped() {
    let set = for_tenant::breakers();
    let clock = manual_clock(set);
    assert_eq!(set.limits().idle_timeout(), secs(60));
    for_tenant("quiet".into()).unwrap();
    for_tenant("busy".into()).unwrap();
    clock.advance(secs(59));
    for_tenant("busy".into()).unwrap();
    assert_eq!(set.sweep(), 0, "nothing idle for a minute yet");
    clock.advance(secs(1));
    // A call sweeps on its own once a quarter of the idle time has passed since the last.
    clock.advance(secs(15));
    for_tenant("new".into()).unwrap();
    assert!(set.peek("quiet").is_none(), "idle for 75 s: dropped");
    assert!(set.peek("busy").is_some() && set.peek("new").is_some());
}

#[circuit_breaker(name = "per-call-bounded", key = key, max_keys = 3, failure_threshold = 1)]
fn bounded(key: &str, up: bool) -> Result<(), HostError> {
    if up {
        Ok(())
    } else {
        Err(HostError::Down)
    }
}

#[test]
fn max_keys_bounds_the_set_and_the_idlest_key_goes() {
    let set = bounded::breakers();
    let clock = manual_clock(set);
    assert_eq!(set.limits().max_breakers(), 3);
    for key in ["a", "b", "c"] {
        bounded(key, true).unwrap();
        clock.advance(secs(1));
    }
    // "a" trips, and is used last: "b" is now the idlest.
    assert_eq!(bounded("a", false), Err(HostError::Down));
    clock.advance(secs(1));
    bounded("d", true).unwrap();
    assert_eq!(set.len(), 3);
    assert!(set.peek("b").is_none(), "the idlest key went");
    assert_eq!(
        set.peek("a").unwrap().state(),
        State::Open,
        "kept, and still open"
    );
    for i in 0..20 {
        bounded(&format!("flood-{i}"), true).unwrap();
        assert!(set.len() <= 3);
    }
}

static EMPTY_RUNS: AtomicUsize = AtomicUsize::new(0);

#[circuit_breaker(name = "per-call-empty", key = host, failure_threshold = 1)]
fn strict(host: &str) -> Result<(), HostError> {
    EMPTY_RUNS.fetch_add(1, Ordering::SeqCst);
    Err(HostError::Down)
}

#[test]
fn an_empty_key_is_refused_without_running_and_through_no_breaker() {
    for _ in 0..5 {
        assert_eq!(
            strict(""),
            Err(HostError::BadKey(empty_key("per-call-empty")))
        );
    }
    assert_eq!(EMPTY_RUNS.load(Ordering::SeqCst), 0, "the body never ran");
    assert!(strict::breakers().is_empty(), "no breaker was made for it");
    // The refusals opened nothing another key goes through.
    assert_eq!(strict("real.example"), Err(HostError::Down));
    assert_eq!(EMPTY_RUNS.load(Ordering::SeqCst), 1);
    assert_eq!(strict::breakers().len(), 1);
    let message = empty_key("per-call-empty").to_string();
    assert!(message.contains("empty key"), "{message}");
}

fn cached(host: &str, why: FallbackReason<HostError>) -> Result<String, HostError> {
    match why {
        FallbackReason::KeyRefused(error) => Err(HostError::BadKey(error)),
        FallbackReason::Rejected(open) => Ok(format!("cached for {host} ({})", open.name())),
        other => Ok(format!("cached for {host} ({other:?})")),
    }
}

#[circuit_breaker(name = "per-call-fallback", key = host, failure_threshold = 1, fallback = cached)]
fn with_fallback(host: &str) -> Result<String, HostError> {
    Err(HostError::Down)
}

#[test]
fn a_fallback_answers_each_keys_rejections_and_is_told_of_a_refused_key() {
    assert_eq!(with_fallback("a"), Ok("cached for a (Failed(Down))".into()));
    assert_eq!(
        with_fallback("a"),
        Ok("cached for a (per-call-fallback:a)".into())
    );
    assert_eq!(
        with_fallback(""),
        Err(HostError::BadKey(empty_key("per-call-fallback")))
    );
    let a = with_fallback::breakers().peek("a").unwrap().snapshot();
    assert_eq!((a.failures, a.rejected, a.fallbacks), (1, 1, 2));
    assert_eq!(with_fallback::breakers().len(), 1);
}

fn plain_cached(_host: &str) -> Result<u32, HostError> {
    Ok(0)
}

#[circuit_breaker(name = "per-call-plain-fallback", key = host, fallback = plain_cached)]
fn with_plain_fallback(host: &str) -> Result<u32, HostError> {
    Ok(1)
}

#[test]
fn a_fallback_without_a_reason_answers_a_refused_key_too() {
    assert_eq!(with_plain_fallback("a"), Ok(1));
    assert_eq!(with_plain_fallback::breakers().refused_keys(), 0);
    assert_eq!(with_plain_fallback(""), Ok(0));
    assert_eq!(with_plain_fallback(""), Ok(0));
    assert_eq!(with_plain_fallback::breakers().len(), 1);
    // Answered by a fallback that is not told why, the refusals are still counted.
    assert_eq!(with_plain_fallback::breakers().refused_keys(), 2);
}

/// An error type of another crate, as far as the attribute can tell: no `From` of ours.
#[derive(Debug, PartialEq)]
struct ForeignError;

#[circuit_breaker(name = "per-call-kept", key = host, failure_threshold = 1)]
fn kept(host: &str) -> Result<(), CircuitError<HostError>> {
    Err(HostError::Down)
}

#[test]
fn a_circuit_error_return_keeps_a_refused_key_in_inner() {
    assert!(matches!(
        kept("a"),
        Err(CircuitError::Inner(HostError::Down))
    ));
    assert!(matches!(kept("a"), Err(CircuitError::Open(open)) if open.name() == "per-call-kept:a"));
    assert!(matches!(
        kept("b"),
        Err(CircuitError::Inner(HostError::Down))
    ));
    assert!(matches!(
        kept(""),
        Err(CircuitError::Inner(HostError::BadKey(
            KeyError::Empty { .. }
        )))
    ));
}

fn foreign_fallback(
    _host: &str,
    why: FallbackReason<ForeignError>,
) -> Result<u8, CircuitError<ForeignError>> {
    match why {
        FallbackReason::KeyRefused(_) => Ok(0),
        FallbackReason::Failed(error) => Err(CircuitError::Inner(error)),
        _ => Ok(1),
    }
}

#[circuit_breaker(
    name = "per-call-foreign",
    key = host,
    failure_threshold = 1,
    fallback = foreign_fallback
)]
fn foreign(host: &str) -> Result<u8, CircuitError<ForeignError>> {
    Err(ForeignError)
}

#[test]
fn a_foreign_error_type_with_a_fallback_needs_no_from_key_error() {
    assert!(matches!(
        foreign("a"),
        Err(CircuitError::Inner(ForeignError))
    ));
    assert!(matches!(foreign("a"), Ok(1)), "rejected");
    assert!(matches!(foreign(""), Ok(0)), "refused");
}

fn is_not_found(e: &HostError) -> bool {
    *e == HostError::NotFound
}

fn by_kind(e: &HostError) -> Outcome {
    match e {
        HostError::NotFound => Outcome::Excluded,
        HostError::TimedOut => Outcome::Ignored,
        _ => Outcome::Failure,
    }
}

#[circuit_breaker(name = "per-call-exclude", key = host, failure_threshold = 1, exclude = is_not_found)]
fn excluding(host: &str, error: HostError) -> Result<(), HostError> {
    Err(error)
}

#[circuit_breaker(name = "per-call-classify", key = host, failure_threshold = 1, classify = by_kind)]
fn classifying(host: &str, error: HostError) -> Result<(), HostError> {
    Err(error)
}

#[circuit_breaker(
    name = "per-call-ignore",
    key = host,
    failure_threshold = 1,
    ignore = |e| matches!(e, HostError::TimedOut)
)]
fn ignoring(host: &str, error: HostError) -> Result<(), HostError> {
    Err(error)
}

#[test]
fn predicates_decide_each_keys_outcomes() {
    for _ in 0..3 {
        assert_eq!(
            excluding("a", HostError::NotFound),
            Err(HostError::NotFound)
        );
        assert_eq!(
            classifying("a", HostError::NotFound),
            Err(HostError::NotFound)
        );
        assert_eq!(ignoring("a", HostError::TimedOut), Err(HostError::TimedOut));
    }
    let excluded = excluding::breakers().peek("a").unwrap().snapshot();
    assert_eq!((excluded.state, excluded.excluded), (State::Closed, 3));
    let classified = classifying::breakers().peek("a").unwrap().snapshot();
    assert_eq!((classified.state, classified.excluded), (State::Closed, 3));
    let ignored = ignoring::breakers().peek("a").unwrap().snapshot();
    assert_eq!((ignored.state, ignored.ignored), (State::Closed, 3));

    let _ = classifying("b", HostError::Down);
    assert_eq!(
        classifying::breakers().peek("b").unwrap().state(),
        State::Open
    );
    assert_eq!(
        classifying::breakers().peek("a").unwrap().state(),
        State::Closed
    );
}

/// A request the body consumes, whose key borrows it.
#[derive(Debug)]
struct Request {
    tenant: String,
    body: Vec<u8>,
}

impl Request {
    fn tenant(&self) -> String {
        self.tenant.clone()
    }

    fn tenant_cow(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.tenant)
    }
}

fn consume(request: Request) -> usize {
    request.body.len()
}

#[circuit_breaker(name = "per-call-borrowed-field", key = &request.tenant)]
fn send_field(request: Request) -> Result<usize, HostError> {
    Ok(consume(request))
}

#[circuit_breaker(name = "per-call-borrowed-method", key = request.tenant())]
fn send_method(request: Request) -> Result<usize, HostError> {
    Ok(consume(request))
}

#[circuit_breaker(name = "per-call-borrowed-cow", key = request.tenant_cow())]
fn send_cow(request: Request) -> Result<usize, HostError> {
    Ok(consume(request))
}

#[circuit_breaker(name = "per-call-moved-string", key = tenant)]
fn send_owned(tenant: String, body: Vec<u8>) -> Result<usize, HostError> {
    drop(tenant); // the body moves the argument the key was read from
    Ok(body.len())
}

#[test]
fn a_key_that_borrows_an_argument_the_body_moves_is_read_first() {
    let request = || Request {
        tenant: "acme".into(),
        body: vec![1, 2, 3],
    };
    assert_eq!(send_field(request()), Ok(3));
    assert_eq!(send_method(request()), Ok(3));
    assert_eq!(send_cow(request()), Ok(3));
    assert_eq!(send_owned("acme".into(), vec![1]), Ok(1));
    for set in [
        send_field::breakers(),
        send_method::breakers(),
        send_cow::breakers(),
        send_owned::breakers(),
    ] {
        assert!(set.peek("acme").is_some(), "{}", set.name());
    }
}

#[circuit_breaker(key = key.as_ref())]
fn generic_key<K: AsRef<str>>(key: K) -> Result<(), HostError> {
    Ok(())
}

#[circuit_breaker(key = key)]
fn key_of_any_text(key: impl AsRef<str>) -> Result<(), HostError> {
    Ok(())
}

#[test]
fn the_default_name_names_the_set_and_generic_keys_work() {
    generic_key("g").unwrap();
    generic_key(String::from("g")).unwrap();
    key_of_any_text(Box::<str>::from("h")).unwrap();
    let set = generic_key::breakers();
    assert_eq!(set.name(), "attribute_keys_per_call::generic_key");
    assert_eq!(
        set.peek("g").unwrap().name(),
        "attribute_keys_per_call::generic_key:g"
    );
    assert_eq!(set.len(), 1, "one key, two key types");
    assert!(key_of_any_text::breakers().peek("h").is_some());
}

struct Tenants {
    region: String,
}

impl Tenants {
    #[circuit_breaker(
        name = "per-call-method",
        key = &self.region,
        failure_threshold = 1,
        handle = region_breakers
    )]
    fn load(&self, up: bool) -> Result<&str, HostError> {
        if up {
            Ok(&self.region)
        } else {
            Err(HostError::Down)
        }
    }

    #[circuit_breaker(name = "per-call-method-by-value", key = &self.region, handle = false)]
    fn into_region(self) -> Result<String, HostError> {
        Ok(self.region)
    }
}

#[test]
fn a_method_keys_by_its_receiver_and_gets_the_set_as_its_handle() {
    let eu = Tenants {
        region: "eu".into(),
    };
    let us = Tenants {
        region: "us".into(),
    };
    assert_eq!(eu.load(false), Err(HostError::Down));
    assert_eq!(
        eu.load(true),
        Err(HostError::Rejected("per-call-method:eu".into()))
    );
    assert_eq!(us.load(true), Ok("us"));
    let set: &Arc<KeyedBreakers> = Tenants::region_breakers();
    assert_eq!(set.peek("eu").unwrap().state(), State::Open);
    assert_eq!(us.into_region(), Ok("us".into()));
    assert!(registry()
        .keyed_set("per-call-method-by-value")
        .unwrap()
        .peek("us")
        .is_some());
}

#[circuit_breaker(name = "per-call-async", key = host, failure_threshold = 1)]
async fn fetch_async(host: String, up: bool) -> Result<u8, HostError> {
    std::future::ready(()).await;
    if up {
        Ok(1)
    } else {
        Err(HostError::Down)
    }
}

async fn async_cached(
    _host: String,
    _up: bool,
    why: FallbackReason<HostError>,
) -> Result<u8, HostError> {
    match why {
        FallbackReason::KeyRefused(_) => Ok(0),
        _ => Ok(9),
    }
}

#[circuit_breaker(name = "per-call-async-fallback", key = &host, failure_threshold = 1, fallback = async_cached)]
async fn fetch_async_or_cached(host: String, up: bool) -> Result<u8, HostError> {
    if up {
        Ok(1)
    } else {
        Err(HostError::Down)
    }
}

#[test]
fn async_functions_go_through_the_breaker_of_their_key() {
    assert_eq!(run(fetch_async("a".into(), false)), Err(HostError::Down));
    assert_eq!(
        run(fetch_async("a".into(), true)),
        Err(HostError::Rejected("per-call-async:a".into()))
    );
    assert_eq!(run(fetch_async("b".into(), true)), Ok(1));
    assert_eq!(
        run(fetch_async(String::new(), true)),
        Err(HostError::BadKey(empty_key("per-call-async")))
    );

    assert_eq!(run(fetch_async_or_cached("a".into(), false)), Ok(9));
    assert_eq!(run(fetch_async_or_cached("a".into(), true)), Ok(9));
    assert_eq!(run(fetch_async_or_cached("b".into(), true)), Ok(1));
    assert_eq!(run(fetch_async_or_cached(String::new(), true)), Ok(0));
}

fn assert_send<T: Send>(_: &T) {}

#[test]
fn a_keyed_async_function_stays_send() {
    let future = fetch_async("send".into(), true);
    assert_send(&future);
    let future = fetch_async_or_cached("send".into(), true);
    assert_send(&future);
}

#[circuit_breaker(name = "per-call-timeout", key = host, timeout = "500ms", failure_threshold = 2)]
async fn slow(host: &str, answers_after: Duration) -> Result<u8, HostError> {
    tokio::time::sleep(answers_after).await;
    Ok(1)
}

#[tokio::test(start_paused = true)]
async fn a_timeout_cuts_each_keys_calls_short_and_trips_that_key_alone() {
    let ms = Duration::from_millis;
    assert_eq!(slow("a", ms(1500)).await, Err(HostError::TimedOut));
    assert_eq!(slow("a", ms(1500)).await, Err(HostError::TimedOut));
    assert_eq!(
        slow("a", ms(1)).await,
        Err(HostError::Rejected("per-call-timeout:a".into()))
    );
    assert_eq!(slow("b", ms(100)).await, Ok(1));
    assert_eq!(
        slow("", ms(1)).await,
        Err(HostError::BadKey(empty_key("per-call-timeout")))
    );
    let a = slow::breakers().peek("a").unwrap().snapshot();
    assert_eq!((a.timeouts, a.state), (2, State::Open));
}

fn slow_answer(
    _host: &str,
    _answers_after: Duration,
    why: FallbackReason<HostError>,
) -> Result<u8, HostError> {
    match why {
        FallbackReason::TimedOut(_) => Ok(0),
        FallbackReason::KeyRefused(error) => Err(HostError::BadKey(error)),
        _ => Ok(9),
    }
}

#[circuit_breaker(
    name = "per-call-timeout-fallback",
    key = host,
    timeout = "500ms",
    failure_threshold = 1,
    fallback = slow_answer
)]
async fn slow_or_answered(host: &str, answers_after: Duration) -> Result<u8, HostError> {
    tokio::time::sleep(answers_after).await;
    Ok(1)
}

#[tokio::test(start_paused = true)]
async fn the_fallback_answers_each_keys_timeouts_and_a_refused_key() {
    let ms = Duration::from_millis;
    assert_eq!(slow_or_answered("a", ms(1500)).await, Ok(0), "timed out");
    assert_eq!(slow_or_answered("a", ms(1)).await, Ok(9), "rejected");
    assert_eq!(slow_or_answered("b", ms(1)).await, Ok(1));
    assert_eq!(
        slow_or_answered("", ms(1)).await,
        Err(HostError::BadKey(empty_key("per-call-timeout-fallback")))
    );
    let a = slow_or_answered::breakers().peek("a").unwrap().snapshot();
    assert_eq!((a.timeouts, a.fallbacks), (1, 2));
}

#[circuit_breaker(name = "per-call-configured", key = host, failure_threshold = 5)]
fn configured(host: &str) -> Result<(), HostError> {
    Err(HostError::Down)
}

#[test]
fn configure_by_the_sets_name_reaches_its_template_and_live_breakers() {
    let _ = configured("live");
    registry().configure(
        "per-call-configured",
        Config::builder().failure_threshold(1).build().unwrap(),
    );
    let set = configured::breakers();
    assert_eq!(set.template().failure_threshold(), 1);
    assert_eq!(set.peek("live").unwrap().config().failure_threshold(), 1);
    let _ = configured("new");
    assert_eq!(set.peek("new").unwrap().state(), State::Open);

    // The environment goes through `configure`, laid over the set's template.
    EnvConfig::new()
        .breaker("per-call-configured")
        .apply_from(
            registry(),
            [("CIRCUIT_PER_CALL_CONFIGURED_RECOVERY_TIMEOUT", "5s")],
        )
        .unwrap();
    assert_eq!(set.template().recovery_timeout(), secs(5));
    assert_eq!(set.template().failure_threshold(), 1, "kept from before");
    assert_eq!(
        set.peek("live").unwrap().config().recovery_timeout(),
        secs(5)
    );
}

#[async_trait::async_trait]
trait Regions {
    async fn load(&self, region: String) -> Result<u8, HostError>;
}

struct RegionsClient {
    down: &'static str,
}

#[async_trait::async_trait]
impl Regions for RegionsClient {
    #[circuit_breaker(name = "per-call-async-trait", key = &region, failure_threshold = 1)]
    async fn load(&self, region: String) -> Result<u8, HostError> {
        if region == self.down {
            Err(HostError::Down)
        } else {
            Ok(1)
        }
    }
}

#[test]
fn an_async_trait_method_keys_each_call() {
    let client = RegionsClient { down: "eu" };
    assert_eq!(run(client.load("eu".into())), Err(HostError::Down));
    assert_eq!(
        run(client.load("eu".into())),
        Err(HostError::Rejected("per-call-async-trait:eu".into()))
    );
    assert_eq!(run(client.load("us".into())), Ok(1));
    assert_eq!(
        run(client.load(String::new())),
        Err(HostError::BadKey(empty_key("per-call-async-trait")))
    );
}
