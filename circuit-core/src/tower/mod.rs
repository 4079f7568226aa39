//! Breakers as tower middleware (feature `tower`): a [`CircuitBreakerLayer`] for one breaker,
//! and a [`KeyedCircuitBreakerLayer`] for a breaker per request key.
//!
//! The layer takes a permit in `call` (never in `poll_ready`), runs the inner service's future
//! under it, and reports the outcome its classifier reads off the result. Its breaker is a
//! breaker of the registry, found by name, so that every layer and clone of that name shares
//! it and reports see it; or one you hold in an `Arc`.
//!
//! ```text
//! // A client: each outbound call through the "payments" breaker.
//! let payments = ServiceBuilder::new()
//!     .timeout(Duration::from_secs(2))
//!     .layer(CircuitBreakerLayer::named("payments"))
//!     .service(hyper_client);
//!
//! // A server: a rejection is a 503 with Retry-After.
//! let app = Router::new()
//!     .route("/orders", get(list_orders))
//!     .layer(CircuitBreakerLayer::named("orders-db").service_unavailable());
//! ```
//!
//! - [`CircuitBreakerLayer`], its [`CircuitBreakerService`] and [`ResponseFuture`].
//! - [`KeyedCircuitBreakerLayer`], [`KeyedCircuitBreakerService`], [`KeyedResponseFuture`],
//!   and [`host`], the key extractor for a breaker per host.
//! - Outcomes: [`Classify`], [`Outcome`] (the crate's, re-exported), and the classifiers
//!   [`ServerErrors`] (the default: `5xx` and errors fail, `4xx` succeeds), [`ErrorsFail`] and
//!   [`RetryAfter`] (a `429` or `503` with `Retry-After: N` opens the breaker for N seconds).
//! - Rejections: [`OnRejection`] and [`OnKeyRefused`], with [`ReturnError`] (the default),
//!   [`ReturnKeyedError`] and, with feature `axum`, `ServiceUnavailable` (a `503`).

mod classify;
mod future;
pub(crate) mod held;
mod keyed;
mod layer;
mod rejection;
mod service;

pub use classify::{Classify, ErrorsFail, Outcome, RetryAfter, ServerErrors};
pub use future::ResponseFuture;
pub use keyed::{host, KeyedCircuitBreakerLayer, KeyedCircuitBreakerService, KeyedResponseFuture};
pub use layer::CircuitBreakerLayer;
pub use rejection::{KeyedError, OnKeyRefused, OnRejection, ReturnError, ReturnKeyedError};
pub use service::CircuitBreakerService;

#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub use rejection::ServiceUnavailable;
