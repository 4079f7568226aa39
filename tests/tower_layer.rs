//! `circuit_core::tower::CircuitBreakerLayer` on in-memory services: which breaker it binds,
//! how outcomes are classified, readiness, cancellation, panics, recovery, and tower's
//! `ServiceBuilder`. (Real sockets: tower_hyper_client.rs and tower_axum.rs.)

mod common;

use circuit_core::clock::ManualClock;
use circuit_core::tower::{
    CircuitBreakerLayer, CircuitBreakerService, Classify, ErrorsFail, Outcome, ResponseFuture,
    ServerErrors,
};
use circuit_core::{registry, CircuitBreaker, CircuitError, State};
use common::{poll_once, quiet_deliberate_panics, secs, strikes, DELIBERATE};
use std::future::{pending, ready, Future, Ready};
use std::io;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use tower::{service_fn, Layer, Service, ServiceBuilder, ServiceExt};

type Response = http::Response<()>;

/// An upstream in memory: answers the status in the path (`/503`), or fails to connect on
/// `/refused`, and counts the requests that reach it.
#[derive(Clone, Default)]
struct Upstream {
    calls: Arc<AtomicU32>,
}

impl Service<http::Request<()>> for Upstream {
    type Response = Response;
    type Error = io::Error;
    type Future = Ready<Result<Response, io::Error>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), io::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<()>) -> Self::Future {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let path = request.uri().path().trim_start_matches('/');
        if path == "refused" {
            return ready(Err(io::ErrorKind::ConnectionRefused.into()));
        }
        let status: u16 = path.parse().unwrap_or(200);
        ready(Ok(http::Response::builder()
            .status(status)
            .body(())
            .unwrap()))
    }
}

fn get(path: &str) -> http::Request<()> {
    http::Request::get(path).body(()).unwrap()
}

/// Sends one request and returns its result (every future here is ready at once).
fn send<S>(service: &mut S, path: &str) -> Result<Response, CircuitError<io::Error>>
where
    S: Service<http::Request<()>, Response = Response, Error = CircuitError<io::Error>>,
{
    poll_once(service.call(get(path))).expect("an in-memory answer is ready at once")
}

#[test]
fn layers_built_twice_by_name_share_one_breaker() {
    let clock = ManualClock::new();
    let first = CircuitBreakerLayer::named_with("tower-twice", strikes(2, &clock));
    let second = CircuitBreakerLayer::named("tower-twice");
    let mut a = first.layer(Upstream::default());
    let mut b = second.layer(Upstream::default());

    assert!(send(&mut a, "/500").is_ok());
    assert!(send(&mut b, "/500").is_ok());
    // One breaker saw both failures: it is open for both layers and in the registry.
    assert_eq!(registry().state("tower-twice"), Some(State::Open));
    assert!(matches!(send(&mut a, "/200"), Err(CircuitError::Open(_))));
    assert!(matches!(send(&mut b, "/200"), Err(CircuitError::Open(_))));
    assert!(std::ptr::eq(first.breaker(), second.breaker()));
}

#[test]
fn cloned_services_share_one_breaker() {
    let clock = ManualClock::new();
    let mut a = CircuitBreakerLayer::named_with("tower-clone", strikes(2, &clock))
        .layer(Upstream::default());
    let mut b = a.clone();
    send(&mut a, "/refused").unwrap_err();
    send(&mut b, "/refused").unwrap_err();
    assert_eq!(a.breaker().state(), State::Open);
    assert!(std::ptr::eq(a.breaker(), b.breaker()));
}

#[test]
fn an_explicit_breaker_is_the_one_used() {
    let clock = ManualClock::new();
    let breaker = Arc::new(CircuitBreaker::new("tower-explicit", strikes(1, &clock)));
    let mut service = CircuitBreakerLayer::new(breaker.clone()).layer(Upstream::default());
    send(&mut service, "/502").unwrap();
    assert_eq!(breaker.state(), State::Open);
    // Not a registry breaker: the name is free there.
    assert_eq!(registry().state("tower-explicit"), None);
}

#[test]
fn server_errors_and_transport_errors_fail_client_errors_succeed() {
    let clock = ManualClock::new();
    let mut service = CircuitBreakerLayer::named_with("tower-classes", strikes(3, &clock))
        .layer(Upstream::default());
    for status in ["/400", "/401", "/404", "/409", "/429", "/404"] {
        assert!(send(&mut service, status).is_ok());
    }
    let snapshot = service.breaker().snapshot();
    assert_eq!((snapshot.successes, snapshot.failures), (6, 0));

    send(&mut service, "/500").unwrap();
    assert!(matches!(
        send(&mut service, "/refused"),
        Err(CircuitError::Inner(e)) if e.kind() == io::ErrorKind::ConnectionRefused
    ));
    assert_eq!(service.breaker().snapshot().failure_count, 2);
    // A 404 is the service answering: it clears the consecutive failures.
    send(&mut service, "/404").unwrap();
    assert_eq!(service.breaker().snapshot().failure_count, 0);
    for _ in 0..3 {
        send(&mut service, "/503").unwrap();
    }
    assert_eq!(service.breaker().state(), State::Open);
}

#[test]
fn a_rejected_call_never_reaches_the_inner_service() {
    let clock = ManualClock::new();
    let upstream = Upstream::default();
    let mut service = CircuitBreakerLayer::named_with("tower-rejects", strikes(1, &clock))
        .layer(upstream.clone());
    send(&mut service, "/500").unwrap();
    let reached = upstream.calls.load(Ordering::SeqCst);
    for _ in 0..5 {
        match send(&mut service, "/200") {
            Err(CircuitError::Open(open)) => {
                assert_eq!(open.name(), "tower-rejects");
                assert_eq!(open.retry_after(), Some(secs(30)));
            }
            other => panic!("expected a rejection, got {other:?}"),
        }
    }
    assert_eq!(upstream.calls.load(Ordering::SeqCst), reached);
    assert_eq!(service.breaker().snapshot().rejected, 5);
}

#[test]
fn the_breaker_recovers_after_its_timeout_on_the_manual_clock() {
    let clock = ManualClock::new();
    let mut service = CircuitBreakerLayer::named_with("tower-recovers", strikes(1, &clock))
        .layer(Upstream::default());
    send(&mut service, "/500").unwrap();
    clock.advance(secs(29));
    assert!(matches!(
        send(&mut service, "/200"),
        Err(CircuitError::Open(_))
    ));
    clock.advance(secs(1));
    assert_eq!(service.breaker().state(), State::HalfOpen);
    assert_eq!(send(&mut service, "/200").unwrap().status(), 200);
    assert_eq!(service.breaker().state(), State::Closed);
}

/// A service whose readiness the test sets.
#[derive(Clone)]
struct Gate {
    ready: Arc<AtomicU32>, // 0 pending, 1 ready, 2 failed
    inner: Upstream,
}

impl Service<http::Request<()>> for Gate {
    type Response = Response;
    type Error = io::Error;
    type Future = Ready<Result<Response, io::Error>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), io::Error>> {
        match self.ready.load(Ordering::SeqCst) {
            0 => Poll::Pending,
            1 => Poll::Ready(Ok(())),
            _ => Poll::Ready(Err(io::ErrorKind::BrokenPipe.into())),
        }
    }

    fn call(&mut self, request: http::Request<()>) -> Self::Future {
        self.inner.call(request)
    }
}

#[test]
fn poll_ready_passes_the_inner_readiness_through_and_holds_no_permit() {
    let clock = ManualClock::new();
    let ready_state = Arc::new(AtomicU32::new(0));
    let gate = Gate {
        ready: ready_state.clone(),
        inner: Upstream::default(),
    };
    let mut service =
        CircuitBreakerLayer::named_with("tower-ready", strikes(1, &clock)).layer(gate);
    let mut cx = Context::from_waker(Waker::noop());
    assert!(service.poll_ready(&mut cx).is_pending());
    ready_state.store(2, Ordering::SeqCst);
    match service.poll_ready(&mut cx) {
        Poll::Ready(Err(CircuitError::Inner(e))) => assert_eq!(e.kind(), io::ErrorKind::BrokenPipe),
        other => panic!("expected the inner error, got {other:?}"),
    }
    // Readiness errors are not calls: nothing counted.
    assert_eq!(service.breaker().snapshot().failures, 0);

    // Half-open with one trial slot: being ready, however often, takes none of it.
    ready_state.store(1, Ordering::SeqCst);
    send(&mut service, "/500").unwrap();
    clock.advance(secs(30));
    for _ in 0..10 {
        assert!(matches!(service.poll_ready(&mut cx), Poll::Ready(Ok(()))));
    }
    assert_eq!(service.breaker().state(), State::HalfOpen);
    assert_eq!(send(&mut service, "/200").unwrap().status(), 200);
    assert_eq!(service.breaker().state(), State::Closed);
}

/// A service whose futures never finish, or panic when polled.
#[derive(Clone, Copy)]
enum Stuck {
    Forever,
    Panics,
    PanicsInCall,
}

impl Service<http::Request<()>> for Stuck {
    type Response = Response;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response, io::Error>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), io::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: http::Request<()>) -> Self::Future {
        match self {
            Stuck::Forever => Box::pin(pending()),
            Stuck::Panics => Box::pin(async { panic!("{DELIBERATE}: the inner future") }),
            Stuck::PanicsInCall => panic!("{DELIBERATE}: the inner call"),
        }
    }
}

/// A breaker named `name`, open and past its timeout: half-open at its next call, one slot.
fn half_open(name: &str) -> (Arc<CircuitBreaker>, ManualClock) {
    let clock = ManualClock::new();
    let breaker = Arc::new(CircuitBreaker::new(name, strikes(1, &clock)));
    let _ = breaker.call(|| Err::<(), _>("down"));
    clock.advance(secs(30));
    assert_eq!(breaker.state(), State::HalfOpen);
    (breaker, clock)
}

#[test]
fn a_dropped_response_future_gives_its_trial_slot_back() {
    let (breaker, _clock) = half_open("tower-dropped");
    let mut stuck = CircuitBreakerLayer::new(breaker.clone()).layer(Stuck::Forever);
    let future = stuck.call(get("/"));
    // The only trial slot is taken...
    let mut other = CircuitBreakerLayer::new(breaker.clone()).layer(Upstream::default());
    assert!(matches!(
        send(&mut other, "/200"),
        Err(CircuitError::Open(_))
    ));
    // ...until the pending call is dropped, which counts as nothing.
    assert!(poll_once(future).is_none());
    let before = breaker.snapshot();
    assert_eq!(send(&mut other, "/200").unwrap().status(), 200);
    assert_eq!(breaker.state(), State::Closed);
    assert_eq!(before.failures, 1);
}

#[test]
fn a_panicking_inner_future_counts_as_a_failure() {
    quiet_deliberate_panics();
    let (breaker, clock) = half_open("tower-inner-panic");
    let mut service = CircuitBreakerLayer::new(breaker.clone()).layer(Stuck::Panics);
    let future = service.call(get("/"));
    assert!(catch_unwind(AssertUnwindSafe(|| poll_once(future))).is_err());
    // The trial failed: open again, for a new timeout.
    assert_eq!(breaker.state(), State::Open);
    assert_eq!(breaker.snapshot().failures, 2);
    clock.advance(secs(30));
    let mut healthy = CircuitBreakerLayer::new(breaker.clone()).layer(Upstream::default());
    assert_eq!(send(&mut healthy, "/200").unwrap().status(), 200);
    assert_eq!(breaker.state(), State::Closed);
}

#[test]
fn a_panic_in_the_inner_call_counts_as_a_failure() {
    quiet_deliberate_panics();
    let (breaker, _clock) = half_open("tower-call-panic");
    let mut service = CircuitBreakerLayer::new(breaker.clone()).layer(Stuck::PanicsInCall);
    assert!(catch_unwind(AssertUnwindSafe(|| service.call(get("/")))).is_err());
    assert_eq!(breaker.state(), State::Open);
    assert_eq!(breaker.snapshot().failures, 2);
}

#[test]
fn a_panicking_classifier_counts_as_a_failure_and_keeps_the_breaker_sound() {
    quiet_deliberate_panics();
    let (breaker, clock) = half_open("tower-classifier-panic");
    let panicking =
        |_: &Result<Response, io::Error>| -> Outcome { panic!("{DELIBERATE}: the classifier") };
    let mut service = CircuitBreakerLayer::new(breaker.clone())
        .classifier(panicking)
        .layer(Upstream::default());
    let future = service.call(get("/200"));
    assert!(catch_unwind(AssertUnwindSafe(|| poll_once(future))).is_err());
    // Counted as the trial failing: open again, no slot leaked, totals exact.
    assert_eq!(breaker.state(), State::Open);
    let snapshot = breaker.snapshot();
    assert_eq!((snapshot.successes, snapshot.failures), (0, 2));
    clock.advance(secs(30));
    let mut healthy = CircuitBreakerLayer::new(breaker.clone()).layer(Upstream::default());
    assert_eq!(send(&mut healthy, "/200").unwrap().status(), 200);
    assert_eq!(breaker.state(), State::Closed);
}

#[test]
fn an_ignored_outcome_counts_nothing_and_frees_its_trial_slot() {
    let (breaker, _clock) = half_open("tower-ignored");
    // 409s mean nothing about the service's health here.
    let classifier = |result: &Result<Response, io::Error>| match result {
        Ok(r) if r.status() == 409 => Outcome::Ignored,
        other => ServerErrors.classify(other),
    };
    let mut service = CircuitBreakerLayer::new(breaker.clone())
        .classifier(classifier)
        .layer(Upstream::default());
    let before = breaker.snapshot();
    for _ in 0..3 {
        // Each takes the one trial slot and gives it back.
        assert_eq!(send(&mut service, "/409").unwrap().status(), 409);
    }
    let after = breaker.snapshot();
    assert_eq!(
        (after.successes, after.failures),
        (before.successes, before.failures)
    );
    assert_eq!(breaker.state(), State::HalfOpen);
    send(&mut service, "/200").unwrap();
    assert_eq!(breaker.state(), State::Closed);
}

#[test]
fn futures_and_services_are_send_and_static() {
    fn send_static<T: Send + Sync + 'static>(_: &T) {}
    fn send_future<T: Send + 'static>(_: &T) {}
    let service: CircuitBreakerService<Upstream> =
        CircuitBreakerLayer::named("tower-send").layer(Upstream::default());
    send_static(&service);
    let mut service = service;
    let future: ResponseFuture<_, _, _> = service.call(get("/"));
    send_future(&future);
    let (breaker, _clock) = half_open("tower-send-arc");
    let mut shared = CircuitBreakerLayer::new(breaker).layer(Upstream::default());
    send_future(&shared.call(get("/")));
}

#[tokio::test]
async fn works_under_service_builder_with_any_service() {
    let clock = ManualClock::new();
    // Not an HTTP service: `ErrorsFail` counts its errors.
    let mut service = ServiceBuilder::new()
        .layer(
            CircuitBreakerLayer::named_with("tower-builder", strikes(2, &clock))
                .classifier(ErrorsFail),
        )
        .map_request(|n: u32| n * 2)
        .service(service_fn(|n: u32| async move {
            if n.is_multiple_of(4) {
                Ok(n)
            } else {
                Err(format!("{n} is not a multiple of 4"))
            }
        }));
    assert_eq!(service.ready().await.unwrap().call(2).await.unwrap(), 4);
    for _ in 0..2 {
        let error = service.ready().await.unwrap().call(1).await.unwrap_err();
        assert_eq!(error.into_inner().unwrap(), "2 is not a multiple of 4");
    }
    let rejected = service.ready().await.unwrap().call(2).await.unwrap_err();
    assert!(rejected.is_open());
    assert_eq!(registry().state("tower-builder"), Some(State::Open));
    clock.advance(secs(30));
    assert_eq!(service.oneshot(4).await.unwrap(), 8);
    assert_eq!(registry().state("tower-builder"), Some(State::Closed));
}
