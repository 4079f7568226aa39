//! `CircuitBreakerLayer` under axum's `Router::layer`, served on 127.0.0.1: a rejection is a
//! 503 with `Retry-After` that never reaches the handler, and the breaker recovers on its
//! manual clock; a breaker per tenant with `KeyedCircuitBreakerLayer`, a missing tenant a 400.

mod common;
#[path = "common/http.rs"]
mod http_client;

use axum::extract::{Request, State as AxumState};
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use circuit_core::clock::ManualClock;
use circuit_core::tower::{CircuitBreakerLayer, KeyedCircuitBreakerLayer};
use circuit_core::{registry, KeyedLimits, State};
use common::{secs, strikes};
use http_client::request;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU16, AtomicU32, Ordering};
use std::sync::Arc;

/// The handler's answer (a status), and how many requests reached it.
#[derive(Clone, Default)]
struct Backend {
    status: Arc<AtomicU16>,
    reached: Arc<AtomicU32>,
}

async fn handler(AxumState(backend): AxumState<Backend>) -> StatusCode {
    backend.reached.fetch_add(1, Ordering::SeqCst);
    StatusCode::from_u16(backend.status.load(Ordering::SeqCst)).unwrap()
}

/// Serves `app` on a free port of 127.0.0.1 until the test's runtime ends.
async fn serve(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

#[tokio::test]
async fn router_layer_answers_a_rejection_with_503_and_recovers() {
    let clock = ManualClock::new();
    let backend = Backend::default();
    backend.status.store(200, Ordering::SeqCst);
    let app = Router::new()
        .route("/orders", get(handler))
        .layer(
            CircuitBreakerLayer::named_with("axum-orders", strikes(2, &clock))
                .service_unavailable(),
        )
        .with_state(backend.clone());
    let addr = serve(app).await;

    assert_eq!(request(addr, "GET", "/orders", &[], None).await.status, 200);
    // 404 from the router itself (no route) is an answer, not a failure.
    assert_eq!(
        request(addr, "GET", "/nowhere", &[], None).await.status,
        404
    );
    backend.status.store(500, Ordering::SeqCst);
    for _ in 0..2 {
        assert_eq!(request(addr, "GET", "/orders", &[], None).await.status, 500);
    }
    assert_eq!(registry().state("axum-orders"), Some(State::Open));

    let reached = backend.reached.load(Ordering::SeqCst);
    clock.advance(secs(12));
    let reply = request(addr, "GET", "/orders", &[], None).await;
    assert_eq!(reply.status, 503);
    assert_eq!(reply.header("retry-after"), Some("18"));
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(reply.error_code(), "CIRCUIT_OPEN");
    assert_eq!(reply.json()["breaker"], "axum-orders");
    assert_eq!(backend.reached.load(Ordering::SeqCst), reached);

    backend.status.store(200, Ordering::SeqCst);
    clock.advance(secs(18));
    assert_eq!(request(addr, "GET", "/orders", &[], None).await.status, 200);
    assert_eq!(registry().state("axum-orders"), Some(State::Closed));
}

/// The key: the tenant header, empty when it is missing.
fn tenant(request: &Request) -> &str {
    request
        .headers()
        .get("x-tenant")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

#[tokio::test]
async fn a_breaker_per_tenant_and_a_missing_tenant_is_a_400() {
    let clock = ManualClock::new();
    let backend = Backend::default();
    let set = registry().keyed("axum-tenants", strikes(2, &clock), KeyedLimits::default());
    // Tenant "acme" fails; the others succeed.
    let app = Router::new()
        .route(
            "/reports",
            get(
                |AxumState(b): AxumState<Backend>, request: Request| async move {
                    b.reached.fetch_add(1, Ordering::SeqCst);
                    if request.headers()["x-tenant"] == "acme" {
                        StatusCode::BAD_GATEWAY
                    } else {
                        StatusCode::OK
                    }
                },
            ),
        )
        .layer(KeyedCircuitBreakerLayer::new(set.clone(), tenant).service_unavailable())
        .with_state(backend.clone());
    let addr = serve(app).await;

    for _ in 0..2 {
        let reply = request(addr, "GET", "/reports", &[("x-tenant", "acme")], None).await;
        assert_eq!(reply.status, 502);
    }
    let reply = request(addr, "GET", "/reports", &[("x-tenant", "acme")], None).await;
    assert_eq!(reply.status, 503);
    assert_eq!(reply.json()["breaker"], "axum-tenants:acme");
    let reply = request(addr, "GET", "/reports", &[("x-tenant", "globex")], None).await;
    assert_eq!(reply.status, 200);

    let reached = backend.reached.load(Ordering::SeqCst);
    let reply = request(addr, "GET", "/reports", &[], None).await;
    assert_eq!(reply.status, 400);
    assert!(
        reply.json()["detail"]
            .as_str()
            .unwrap()
            .contains("empty key"),
        "{}",
        reply.body
    );
    assert_eq!(backend.reached.load(Ordering::SeqCst), reached);
    assert_eq!(set.len(), 2);
}
