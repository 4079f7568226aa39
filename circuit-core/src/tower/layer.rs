//! The layer: which breaker, which classifier, which answer to a rejection.

use crate::tower::classify::ServerErrors;
use crate::tower::held::Breaker;
use crate::tower::rejection::ReturnError;
use crate::tower::service::CircuitBreakerService;
use crate::{registry, CircuitBreaker, Config};
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use tower_layer::Layer;

/// Runs every call of the wrapped service through one breaker.
///
/// - **Which breaker**: [`named`](Self::named) binds the layer to a breaker of the
///   process-wide [`registry()`], so building the layer twice, or cloning the service, shares
///   one breaker, which health reports and metrics see under its name;
///   [`new`](Self::new) binds it to a breaker you hold.
/// - **What counts**: the classifier decides each outcome from the inner service's
///   `Result<Response, Error>`; the default, [`ServerErrors`], fails `5xx` responses and
///   errors and lets everything else (`4xx` included) succeed. See
///   [`classifier`](Self::classifier).
/// - **A rejection** is `Err(CircuitError::Open(_))` (the service's error is
///   [`CircuitError<E>`](crate::CircuitError)); with feature `axum`,
///   [`service_unavailable`](Self::service_unavailable) makes it a `503` response.
///
/// `poll_ready` is the inner service's and holds no permit. `call` takes a permit: a rejected
/// call never reaches the inner service, and an admitted one reports its outcome when its
/// response future finishes. A response future dropped before that counts as nothing and gives
/// back a half-open trial slot. Nothing is allocated per call.
///
/// ```
/// use circuit_core::tower::{CircuitBreakerLayer, ErrorsFail};
/// use circuit_core::{CircuitError, Config};
/// use tower_layer::Layer;
/// use tower_service::Service;
/// # fn poll_once<F: std::future::Future>(f: F) -> F::Output {
/// #     let mut f = std::pin::pin!(f);
/// #     match f.as_mut().poll(&mut std::task::Context::from_waker(std::task::Waker::noop())) {
/// #         std::task::Poll::Ready(out) => out,
/// #         std::task::Poll::Pending => unreachable!(),
/// #     }
/// # }
///
/// /// A service that always fails, as a downstream that refuses connections would.
/// #[derive(Clone)]
/// struct Refusing;
/// impl Service<&'static str> for Refusing {
///     type Response = String;
///     type Error = std::io::Error;
///     type Future = std::future::Ready<Result<String, std::io::Error>>;
///     fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Self::Error>> {
///         std::task::Poll::Ready(Ok(()))
///     }
///     fn call(&mut self, _: &'static str) -> Self::Future {
///         std::future::ready(Err(std::io::ErrorKind::ConnectionRefused.into()))
///     }
/// }
///
/// let config = Config::builder().failure_threshold(2).build()?;
/// let layer = CircuitBreakerLayer::named_with("layer-doc-inventory", config).classifier(ErrorsFail);
/// let mut service = layer.layer(Refusing);
/// for _ in 0..2 {
///     assert!(matches!(poll_once(service.call("sku-1")), Err(CircuitError::Inner(_))));
/// }
/// // Open: the next call does not reach the inner service.
/// assert!(matches!(poll_once(service.call("sku-1")), Err(CircuitError::Open(_))));
///
/// // A second layer of the same name shares the breaker.
/// let mut again = CircuitBreakerLayer::named("layer-doc-inventory").classifier(ErrorsFail).layer(Refusing);
/// assert!(matches!(poll_once(again.call("sku-2")), Err(CircuitError::Open(_))));
/// # Ok::<(), circuit_core::ConfigError>(())
/// ```
pub struct CircuitBreakerLayer<C = ServerErrors, R = ReturnError> {
    breaker: Breaker,
    classifier: C,
    _policy: PhantomData<fn() -> R>,
}

impl CircuitBreakerLayer {
    /// The breaker named `name` in the process-wide [`registry()`], made with the default
    /// [`Config`] (or the one given to [`Registry::configure`](crate::Registry::configure)) if
    /// there is none yet.
    pub fn named(name: &str) -> Self {
        Self::from_static(registry().lookup_or_create(name, Config::default))
    }

    /// The breaker named `name` in the process-wide [`registry()`], made with `config` if
    /// there is none yet. A breaker that exists keeps its configuration (as
    /// [`Registry::get_or_create`](crate::Registry::get_or_create) does).
    pub fn named_with(name: &str, config: Config) -> Self {
        Self::from_static(registry().lookup_or_create(name, || config))
    }

    /// The breaker you hold. Each admitted call clones the `Arc` into its response future
    /// (one reference-count increment); a layer bound by name pays none.
    pub fn new(breaker: Arc<CircuitBreaker>) -> Self {
        Self::with(Breaker::Shared(breaker))
    }

    /// A breaker that lives as long as the program (one of a `static` or leaked registry).
    pub fn from_static(breaker: &'static CircuitBreaker) -> Self {
        Self::with(Breaker::Static(breaker))
    }

    fn with(breaker: Breaker) -> Self {
        CircuitBreakerLayer {
            breaker,
            classifier: ServerErrors,
            _policy: PhantomData,
        }
    }
}

impl<C, R> CircuitBreakerLayer<C, R> {
    /// The same layer, deciding outcomes with `classifier`: a
    /// [`Classify`](super::Classify) implementation, such as [`ErrorsFail`](super::ErrorsFail)
    /// for services that do not answer `http::Response`, or a closure
    /// `Fn(&Result<Response, Error>) -> Outcome`.
    pub fn classifier<C2>(self, classifier: C2) -> CircuitBreakerLayer<C2, R> {
        CircuitBreakerLayer {
            breaker: self.breaker,
            classifier,
            _policy: PhantomData,
        }
    }

    /// The same layer, answering rejections as the [`OnRejection`](super::OnRejection)
    /// policy `R2` says.
    pub fn on_rejection<R2>(self) -> CircuitBreakerLayer<C, R2> {
        CircuitBreakerLayer {
            breaker: self.breaker,
            classifier: self.classifier,
            _policy: PhantomData,
        }
    }

    /// The same layer, answering a rejection with a `503 Service Unavailable` response
    /// carrying `Retry-After` (see [`ServiceUnavailable`](super::ServiceUnavailable)): for
    /// axum's `Router::layer` and `route_layer`, which want services that do not fail.
    #[cfg(feature = "axum")]
    #[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
    pub fn service_unavailable(self) -> CircuitBreakerLayer<C, super::ServiceUnavailable> {
        self.on_rejection()
    }

    /// The layer's breaker.
    pub fn breaker(&self) -> &CircuitBreaker {
        self.breaker.get()
    }
}

impl<S, C: Clone, R> Layer<S> for CircuitBreakerLayer<C, R> {
    type Service = CircuitBreakerService<S, C, R>;

    fn layer(&self, inner: S) -> Self::Service {
        CircuitBreakerService::new(inner, self.breaker.clone(), self.classifier.clone())
    }
}

impl<C: Clone, R> Clone for CircuitBreakerLayer<C, R> {
    fn clone(&self) -> Self {
        CircuitBreakerLayer {
            breaker: self.breaker.clone(),
            classifier: self.classifier.clone(),
            _policy: PhantomData,
        }
    }
}

impl<C: fmt::Debug, R> fmt::Debug for CircuitBreakerLayer<C, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CircuitBreakerLayer")
            .field("breaker", &self.breaker.get().name())
            .field("classifier", &self.classifier)
            .field("on_rejection", &std::any::type_name::<R>())
            .finish()
    }
}
