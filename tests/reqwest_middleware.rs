//! `circuit_core::reqwest::CircuitBreakerMiddleware` end to end, with reqwest against real
//! upstreams on 127.0.0.1: connection refused, a server that hangs (the client's timeout),
//! 5xx, 4xx that must not trip, recovery on the breaker's manual clock, the last good response
//! per URL, and a breaker per host.

mod common;
#[path = "common/upstream.rs"]
mod upstream;

use circuit_core::clock::ManualClock;
use circuit_core::reqwest::{rejection, CircuitBreakerMiddleware, ServedFromCache};
use circuit_core::tower::Outcome;
use circuit_core::{registry, FallbackCache, KeyedLimits, State};
use common::{quiet_deliberate_panics, secs, strikes, DELIBERATE};
use reqwest_middleware::{ClientBuilder, ClientWithMiddleware};
use upstream::{Mode, Upstream};

fn client(middleware: CircuitBreakerMiddleware) -> ClientWithMiddleware {
    let reqwest = reqwest::Client::builder()
        .timeout(upstream::client_timeout())
        .build()
        .unwrap();
    ClientBuilder::new(reqwest).with(middleware).build()
}

/// GET `url`: the status, the body, and whether the answer came from the cache.
async fn get(
    client: &ClientWithMiddleware,
    url: &str,
) -> reqwest_middleware::Result<(u16, String, bool)> {
    let response = tokio::time::timeout(secs(10), client.get(url).send())
        .await
        .expect("the client's timeout ends every request")?;
    let cached = response.extensions().get::<ServedFromCache>().is_some();
    let status = response.status().as_u16();
    Ok((status, response.text().await.unwrap(), cached))
}

#[tokio::test]
async fn refused_hanging_5xx_4xx_and_recovery() {
    let clock = ManualClock::new();
    let mut upstream = Upstream::start().await;
    let client = client(CircuitBreakerMiddleware::named_with(
        "reqwest-users",
        strikes(2, &clock),
    ));
    let breaker = registry().lookup("reqwest-users").unwrap();
    let url = upstream.url("/users/7");

    assert_eq!(get(&client, &url).await.unwrap().0, 200);
    // 4xx is the service answering: never trips.
    upstream.set(Mode::NotFound);
    for _ in 0..5 {
        assert_eq!(get(&client, &url).await.unwrap().0, 404);
    }
    assert_eq!(breaker.state(), State::Closed);

    // A hanging server: the client's timeout is a failure.
    upstream.set(Mode::Hang);
    let timed_out = get(&client, &url).await.unwrap_err();
    assert!(rejection(&timed_out).is_none());
    assert!(timed_out.is_timeout(), "{timed_out:?}");
    assert_eq!(breaker.snapshot().failure_count, 1);
    // A 500: the second consecutive failure opens the breaker.
    upstream.set(Mode::ServerError);
    assert_eq!(get(&client, &url).await.unwrap().0, 500);
    assert_eq!(breaker.state(), State::Open);

    // Open: rejected without a request.
    upstream.set(Mode::Ok);
    let hits = upstream.hits();
    let rejected = get(&client, &url).await.unwrap_err();
    let open = rejection(&rejected).expect("a rejection");
    assert_eq!(open.name(), "reqwest-users");
    assert_eq!(open.retry_after(), Some(secs(30)));
    assert_eq!(upstream.hits(), hits);

    // The server is killed: the trial meets a refused connection and opens the breaker again.
    upstream.stop().await;
    clock.advance(secs(30));
    let refused = get(&client, &url).await.unwrap_err();
    assert!(refused.is_connect(), "{refused:?}");
    assert_eq!(breaker.state(), State::Open);

    // Restarted: the next trial after the timeout closes it.
    upstream.restart().await;
    clock.advance(secs(30));
    assert_eq!(
        get(&client, &url).await.unwrap(),
        (200, "/users/7 v1".into(), false)
    );
    assert_eq!(breaker.state(), State::Closed);
    let s = breaker.snapshot();
    assert_eq!((s.successes, s.failures, s.rejected), (7, 3, 1));
    upstream.stop().await;
}

#[tokio::test]
async fn the_last_good_response_per_url_is_served_while_the_service_is_down() {
    let clock = ManualClock::new();
    let mut upstream = Upstream::start().await;
    let cache = FallbackCache::new().clock(clock.clone());
    let client = client(
        CircuitBreakerMiddleware::named_with("reqwest-products", strikes(2, &clock))
            .fallback_cache(cache),
    );
    let breaker = registry().lookup("reqwest-products").unwrap();
    let (one, two) = (upstream.url("/products/1"), upstream.url("/products/2"));

    assert_eq!(
        get(&client, &one).await.unwrap(),
        (200, "/products/1 v1".into(), false)
    );
    upstream.set_version(2);
    assert_eq!(
        get(&client, &one).await.unwrap(),
        (200, "/products/1 v2".into(), false)
    );
    // Only GETs are kept: a POST is neither cached nor served from the cache.
    let posted = client.post(&two).send().await.unwrap();
    assert_eq!(posted.text().await.unwrap(), "/products/2 v2");

    // A 5xx is a failure: the last good answer for that URL stands in for it.
    upstream.set(Mode::ServerError);
    assert_eq!(
        get(&client, &one).await.unwrap(),
        (200, "/products/1 v2".into(), true)
    );
    // Killed: connection refused, the cached answer again; the breaker opens.
    upstream.stop().await;
    assert_eq!(
        get(&client, &one).await.unwrap(),
        (200, "/products/1 v2".into(), true)
    );
    assert_eq!(breaker.state(), State::Open);
    // Open: rejected, and the cache answers; a URL never seen has nothing to serve.
    assert_eq!(
        get(&client, &one).await.unwrap(),
        (200, "/products/1 v2".into(), true)
    );
    assert!(rejection(&get(&client, &two).await.unwrap_err()).is_some());
    let s = breaker.snapshot();
    assert_eq!((s.failures, s.rejected, s.fallbacks), (2, 2, 3));

    // Past its time to live (300 s), the cached answer is gone.
    clock.advance(secs(301));
    upstream.restart().await;
    upstream.set(Mode::ServerError);
    assert_eq!(
        get(&client, &one).await.unwrap(),
        (500, "upstream failed".into(), false)
    );
    upstream.stop().await;
}

#[tokio::test]
async fn a_breaker_per_host() {
    let clock = ManualClock::new();
    let healthy = Upstream::start().await;
    let failing = Upstream::start().await;
    failing.set(Mode::ServerError);
    let set = registry().keyed("reqwest-hosts", strikes(2, &clock), KeyedLimits::default());
    let client = client(CircuitBreakerMiddleware::per_host(set.clone()));

    for _ in 0..2 {
        assert_eq!(get(&client, &failing.url("/")).await.unwrap().0, 500);
    }
    assert!(rejection(&get(&client, &failing.url("/")).await.unwrap_err()).is_some());
    assert_eq!(get(&client, &healthy.url("/")).await.unwrap().0, 200);
    let key = |u: &Upstream| format!("127.0.0.1:{}", u.addr().port());
    assert_eq!(set.peek(&key(&failing)).unwrap().state(), State::Open);
    assert_eq!(set.peek(&key(&healthy)).unwrap().state(), State::Closed);
    assert_eq!(
        set.peek(&key(&failing)).unwrap().name(),
        format!("reqwest-hosts:{}", key(&failing))
    );
}

#[tokio::test]
async fn a_panicking_classifier_counts_as_a_failure() {
    quiet_deliberate_panics();
    let clock = ManualClock::new();
    let upstream = Upstream::start().await;
    let breaker = std::sync::Arc::new(circuit_core::CircuitBreaker::new(
        "reqwest-panics",
        strikes(2, &clock),
    ));
    let panicking = |_: &Result<reqwest::Response, reqwest_middleware::Error>| -> Outcome {
        panic!("{DELIBERATE}: the classifier")
    };
    let middleware = CircuitBreakerMiddleware::new(breaker.clone()).classifier(panicking);
    let client = ClientBuilder::new(reqwest::Client::new())
        .with(middleware)
        .build();
    let url = upstream.url("/");
    // The panic unwinds out of the request's task.
    let task = tokio::spawn(async move { client.get(&url).send().await.map(|_| ()) });
    assert!(task.await.unwrap_err().is_panic());
    let s = breaker.snapshot();
    assert_eq!((s.successes, s.failures, s.failure_count), (0, 1, 1));
    assert_eq!(breaker.state(), State::Closed);
}
