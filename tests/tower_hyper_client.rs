//! `CircuitBreakerLayer` around hyper's pooled client, in a `tower::ServiceBuilder` with a
//! timeout, against a real upstream on 127.0.0.1: connection refused, a hanging server, 5xx,
//! 4xx that must not trip, recovery on the breaker's manual clock; and a breaker per upstream
//! with `KeyedCircuitBreakerLayer`.

mod common;
#[path = "common/upstream.rs"]
mod upstream;

use circuit_core::clock::ManualClock;
use circuit_core::tower::{CircuitBreakerLayer, KeyedCircuitBreakerLayer, KeyedError};
use circuit_core::{registry, CircuitError, KeyedLimits, State};
use common::{secs, strikes};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tower::{BoxError, Service, ServiceBuilder, ServiceExt};
use upstream::{Mode, Upstream};

fn hyper_client() -> Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>> {
    Client::builder(TokioExecutor::new()).build_http()
}

fn get(url: &str) -> http::Request<Full<Bytes>> {
    http::Request::get(url).body(Full::default()).unwrap()
}

type Answer = Result<http::Response<Incoming>, CircuitError<BoxError>>;

async fn send<S>(client: &mut S, url: &str) -> Answer
where
    S: Service<
        http::Request<Full<Bytes>>,
        Response = http::Response<Incoming>,
        Error = CircuitError<BoxError>,
    >,
{
    // Bounded whatever happens: the client's own timeout is far shorter.
    tokio::time::timeout(secs(10), client.ready().await?.call(get(url)))
        .await
        .expect("the client's timeout ends every call")
}

fn status(answer: &Answer) -> u16 {
    match answer {
        Ok(response) => response.status().as_u16(),
        Err(e) => panic!("expected an answer, got {e:?}"),
    }
}

#[tokio::test]
async fn hyper_client_refused_hanging_5xx_4xx_and_recovery() {
    let clock = ManualClock::new();
    let mut upstream = Upstream::start().await;
    let mut client = ServiceBuilder::new()
        .layer(CircuitBreakerLayer::named_with(
            "hyper-users",
            strikes(2, &clock),
        ))
        .timeout(upstream::client_timeout())
        .service(hyper_client());
    let url = upstream.url("/users/1");
    let breaker = registry().lookup("hyper-users").unwrap();

    // 4xx is the service answering: never trips, however many.
    upstream.set(Mode::NotFound);
    for _ in 0..5 {
        assert_eq!(status(&send(&mut client, &url).await), 404);
    }
    assert_eq!(breaker.state(), State::Closed);

    // One 500 and one timeout against a hanging server: two consecutive failures, open.
    upstream.set(Mode::ServerError);
    assert_eq!(status(&send(&mut client, &url).await), 500);
    upstream.set(Mode::Hang);
    match send(&mut client, &url).await {
        Err(CircuitError::Inner(e)) => assert!(e.is::<tower::timeout::error::Elapsed>(), "{e}"),
        other => panic!("expected the timeout, got {other:?}"),
    }
    assert_eq!(breaker.state(), State::Open);

    // Open: calls fail fast and never reach the server.
    upstream.set(Mode::Ok);
    let hits = upstream.hits();
    match send(&mut client, &url).await {
        Err(CircuitError::Open(open)) => {
            assert_eq!(open.name(), "hyper-users");
            assert_eq!(open.retry_after(), Some(secs(30)));
        }
        other => panic!("expected a rejection, got {other:?}"),
    }
    assert_eq!(upstream.hits(), hits);

    // The server goes away: after the timeout, the trial meets a refused connection.
    upstream.stop().await;
    clock.advance(secs(30));
    match send(&mut client, &url).await {
        Err(CircuitError::Inner(e)) => {
            let e = e.downcast::<hyper_util::client::legacy::Error>().unwrap();
            assert!(e.is_connect(), "{e:?}");
        }
        other => panic!("expected connection refused, got {other:?}"),
    }
    assert_eq!(breaker.state(), State::Open);

    // Back up: the next trial after the timeout closes the breaker.
    upstream.restart().await;
    clock.advance(secs(30));
    assert_eq!(status(&send(&mut client, &url).await), 200);
    assert_eq!(breaker.state(), State::Closed);
    let snapshot = breaker.snapshot();
    assert_eq!(
        (snapshot.successes, snapshot.failures, snapshot.rejected),
        (6, 3, 1)
    );
    upstream.stop().await;
}

#[tokio::test]
async fn a_breaker_per_upstream_with_a_keyed_layer() {
    let clock = ManualClock::new();
    let healthy = Upstream::start().await;
    let failing = Upstream::start().await;
    failing.set(Mode::ServerError);
    let set = registry().keyed(
        "hyper-authorities",
        strikes(2, &clock),
        KeyedLimits::default(),
    );
    // Keyed by `host:port` (both upstreams are on 127.0.0.1): a closure given inline, so its
    // signature is the one `new` names.
    let keyed =
        KeyedCircuitBreakerLayer::new(set.clone(), |request: &http::Request<Full<Bytes>>| {
            request.uri().authority().map_or("", |a| a.as_str())
        });
    let mut client = ServiceBuilder::new()
        .layer(keyed)
        .timeout(upstream::client_timeout())
        .service(hyper_client());
    let mut call = async |url: String| {
        tokio::time::timeout(secs(10), client.ready().await.unwrap().call(get(&url)))
            .await
            .expect("bounded")
    };

    for _ in 0..2 {
        assert_eq!(call(failing.url("/")).await.unwrap().status(), 500);
    }
    assert!(matches!(
        call(failing.url("/")).await,
        Err(KeyedError::Open(_))
    ));
    assert_eq!(call(healthy.url("/")).await.unwrap().status(), 200);
    assert_eq!(set.len(), 2);
    let failing_key = failing.addr().to_string();
    assert_eq!(set.peek(&failing_key).unwrap().state(), State::Open);
    assert_eq!(
        set.peek(&healthy.addr().to_string()).unwrap().state(),
        State::Closed
    );
    // A relative URI has no authority: refused, with the reason.
    let refused = tokio::time::timeout(
        secs(10),
        client.ready().await.unwrap().call(get("/relative")),
    )
    .await
    .unwrap();
    match refused {
        Err(KeyedError::Key(e)) => assert!(e.to_string().contains("empty key"), "{e}"),
        other => panic!("expected the key refused, got {other:?}"),
    }
}
