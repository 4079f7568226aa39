//! A layer that picks a breaker per request key (a host, a tenant, a route) from a
//! [`KeyedBreakers`] set.

use crate::tower::classify::{Classify, ServerErrors};
use crate::tower::future::ResponseFuture;
use crate::tower::held::{fail_on_unwind, HeldPermit};
use crate::tower::rejection::{OnKeyRefused, OnRejection, ReturnKeyedError};
use crate::{KeyError, KeyedBreakers};
use pin_project_lite::pin_project;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tower_layer::Layer;
use tower_service::Service;

/// Runs each call through the breaker of its key, made on first use from the set's template.
///
/// The key comes from the request through a function `Fn(&Request) -> &str` ([`host`] is one).
/// The set ([`Registry::keyed`](crate::Registry::keyed)) bounds the number of breakers, drops
/// idle ones, and keeps them out of the registry's reports; see [`KeyedBreakers`]. A request
/// whose key is empty is refused without running, with [`KeyError::Empty`]: the default
/// policy returns it as [`KeyedError::Key`](super::KeyedError::Key), and
/// [`ServiceUnavailable`](super::ServiceUnavailable) as a `400` response.
///
/// Per call this costs a lookup in the set (a hash of the key and one shard's read lock) and
/// an `Arc` reference count for the breaker; still no allocation once the key's breaker exists.
///
/// ```
/// use circuit_core::tower::{host, KeyedCircuitBreakerLayer, KeyedError};
/// use circuit_core::{registry, Config, KeyedLimits};
/// use tower_layer::Layer;
/// use tower_service::Service;
/// # fn poll_once<F: std::future::Future>(f: F) -> F::Output {
/// #     let mut f = std::pin::pin!(f);
/// #     match f.as_mut().poll(&mut std::task::Context::from_waker(std::task::Waker::noop())) {
/// #         std::task::Poll::Ready(out) => out,
/// #         std::task::Poll::Pending => unreachable!(),
/// #     }
/// # }
/// # #[derive(Clone)]
/// # struct Upstream;
/// # impl Service<http::Request<()>> for Upstream {
/// #     type Response = http::Response<()>;
/// #     type Error = std::io::Error;
/// #     type Future = std::future::Ready<Result<http::Response<()>, std::io::Error>>;
/// #     fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Self::Error>> {
/// #         std::task::Poll::Ready(Ok(()))
/// #     }
/// #     fn call(&mut self, request: http::Request<()>) -> Self::Future {
/// #         let status = if request.uri().host() == Some("down.example") { 503 } else { 200 };
/// #         std::future::ready(Ok(http::Response::builder().status(status).body(()).unwrap()))
/// #     }
/// # }
///
/// let template = Config::builder().failure_threshold(1).build()?;
/// let hosts = registry().keyed("keyed-doc-hosts", template, KeyedLimits::default());
/// let mut client = KeyedCircuitBreakerLayer::new(hosts.clone(), host).layer(Upstream);
///
/// let get = |uri: &str| http::Request::get(uri).body(()).unwrap();
/// let _ = poll_once(client.call(get("http://down.example/")));   // a 503: opens its breaker
/// assert!(matches!(poll_once(client.call(get("http://down.example/"))), Err(KeyedError::Open(_))));
/// assert!(poll_once(client.call(get("http://up.example/"))).is_ok()); // another host, another breaker
/// assert!(matches!(poll_once(client.call(get("/no-host"))), Err(KeyedError::Key(_))));
/// assert_eq!(hosts.len(), 2);
/// # Ok::<(), circuit_core::ConfigError>(())
/// ```
pub struct KeyedCircuitBreakerLayer<K, C = ServerErrors, R = ReturnKeyedError> {
    set: Arc<KeyedBreakers>,
    key: K,
    classifier: C,
    _policy: PhantomData<fn() -> R>,
}

impl<K> KeyedCircuitBreakerLayer<K> {
    /// Breakers from `set`, one per key that `key` reads off each request.
    ///
    /// The request type is named here so that a closure's signature is known:
    /// `|request: &http::Request<Body>| request.uri().path()`.
    pub fn new<Request>(set: Arc<KeyedBreakers>, key: K) -> Self
    where
        K: Fn(&Request) -> &str,
    {
        KeyedCircuitBreakerLayer {
            set,
            key,
            classifier: ServerErrors,
            _policy: PhantomData,
        }
    }
}

impl<K, C, R> KeyedCircuitBreakerLayer<K, C, R> {
    /// The same layer, deciding outcomes with `classifier` (see
    /// [`CircuitBreakerLayer::classifier`](super::CircuitBreakerLayer::classifier)).
    pub fn classifier<C2>(self, classifier: C2) -> KeyedCircuitBreakerLayer<K, C2, R> {
        KeyedCircuitBreakerLayer {
            set: self.set,
            key: self.key,
            classifier,
            _policy: PhantomData,
        }
    }

    /// The same layer, answering rejections and refused keys as the policy `R2` says.
    pub fn on_rejection<R2>(self) -> KeyedCircuitBreakerLayer<K, C, R2> {
        KeyedCircuitBreakerLayer {
            set: self.set,
            key: self.key,
            classifier: self.classifier,
            _policy: PhantomData,
        }
    }

    /// The same layer, answering a rejection with a `503` and a refused key with a `400`
    /// (see [`ServiceUnavailable`](super::ServiceUnavailable)).
    #[cfg(feature = "axum")]
    #[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
    pub fn service_unavailable(self) -> KeyedCircuitBreakerLayer<K, C, super::ServiceUnavailable> {
        self.on_rejection()
    }

    /// The set of breakers.
    pub fn set(&self) -> &Arc<KeyedBreakers> {
        &self.set
    }
}

impl<S, K: Clone, C: Clone, R> Layer<S> for KeyedCircuitBreakerLayer<K, C, R> {
    type Service = KeyedCircuitBreakerService<S, K, C, R>;

    fn layer(&self, inner: S) -> Self::Service {
        KeyedCircuitBreakerService {
            inner,
            set: self.set.clone(),
            key: self.key.clone(),
            classifier: self.classifier.clone(),
            _policy: PhantomData,
        }
    }
}

impl<K: Clone, C: Clone, R> Clone for KeyedCircuitBreakerLayer<K, C, R> {
    fn clone(&self) -> Self {
        KeyedCircuitBreakerLayer {
            set: self.set.clone(),
            key: self.key.clone(),
            classifier: self.classifier.clone(),
            _policy: PhantomData,
        }
    }
}

impl<K, C: fmt::Debug, R> fmt::Debug for KeyedCircuitBreakerLayer<K, C, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyedCircuitBreakerLayer")
            .field("set", &self.set)
            .field("classifier", &self.classifier)
            .finish_non_exhaustive()
    }
}

/// A service whose calls run through the breaker of their key; made by
/// [`KeyedCircuitBreakerLayer`].
pub struct KeyedCircuitBreakerService<S, K, C = ServerErrors, R = ReturnKeyedError> {
    inner: S,
    set: Arc<KeyedBreakers>,
    key: K,
    classifier: C,
    _policy: PhantomData<fn() -> R>,
}

impl<S, K, C, R> KeyedCircuitBreakerService<S, K, C, R> {
    /// The set of breakers.
    pub fn set(&self) -> &Arc<KeyedBreakers> {
        &self.set
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }
}

impl<S, K, C, R, Request> Service<Request> for KeyedCircuitBreakerService<S, K, C, R>
where
    S: Service<Request>,
    K: Fn(&Request) -> &str,
    C: Classify<S::Response, S::Error> + Clone,
    R: OnKeyRefused<S::Response, S::Error>,
{
    type Response = S::Response;
    type Error = R::Error;
    type Future = KeyedResponseFuture<S::Future, C, R>;

    /// The inner service's readiness; no permit is taken here.
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(R::inner)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let breaker = match self.set.get((self.key)(&request)) {
            Ok(breaker) => breaker,
            Err(refused) => return KeyedResponseFuture::refused(refused),
        };
        let future = match HeldPermit::owning(breaker) {
            Ok(mut permit) => {
                let inner = &mut self.inner;
                let future = fail_on_unwind(&mut permit, || inner.call(request));
                ResponseFuture::admitted(future, permit, self.classifier.clone())
            }
            Err(open) => ResponseFuture::rejected(open),
        };
        KeyedResponseFuture {
            inner: future,
            refused: None,
        }
    }
}

impl<S: Clone, K: Clone, C: Clone, R> Clone for KeyedCircuitBreakerService<S, K, C, R> {
    fn clone(&self) -> Self {
        KeyedCircuitBreakerService {
            inner: self.inner.clone(),
            set: self.set.clone(),
            key: self.key.clone(),
            classifier: self.classifier.clone(),
            _policy: PhantomData,
        }
    }
}

impl<S: fmt::Debug, K, C: fmt::Debug, R> fmt::Debug for KeyedCircuitBreakerService<S, K, C, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyedCircuitBreakerService")
            .field("inner", &self.inner)
            .field("set", &self.set)
            .field("classifier", &self.classifier)
            .finish_non_exhaustive()
    }
}

pin_project! {
    /// The future of [`KeyedCircuitBreakerService`]: a [`ResponseFuture`], or a refused key.
    pub struct KeyedResponseFuture<F, C, R> {
        #[pin]
        inner: ResponseFuture<F, C, R>,
        refused: Option<KeyError>,
    }
}

impl<F, C, R> KeyedResponseFuture<F, C, R> {
    fn refused(error: KeyError) -> Self {
        KeyedResponseFuture {
            inner: ResponseFuture::unused(),
            refused: Some(error),
        }
    }
}

impl<F, C, R, T, E> Future for KeyedResponseFuture<F, C, R>
where
    F: Future<Output = Result<T, E>>,
    C: Classify<T, E>,
    R: OnKeyRefused<T, E>,
{
    type Output = Result<T, <R as OnRejection<T, E>>::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Some(refused) = this.refused.take() {
            return Poll::Ready(R::key_refused(refused));
        }
        this.inner.poll(cx)
    }
}

impl<F, C, R> fmt::Debug for KeyedResponseFuture<F, C, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.refused {
            Some(refused) => f
                .debug_struct("KeyedResponseFuture")
                .field("refused", refused)
                .finish(),
            None => self.inner.fmt(f),
        }
    }
}

/// The request's host, for [`KeyedCircuitBreakerLayer`]: the URI's (a client's requests carry
/// absolute URIs), else the `Host` header's without its port (a server's requests), else
/// empty, which the layer refuses.
pub fn host<B>(request: &http::Request<B>) -> &str {
    if let Some(host) = request.uri().host() {
        return host;
    }
    request
        .headers()
        .get(http::header::HOST)
        .and_then(|value| value.to_str().ok())
        .map_or("", |value| {
            // `[::1]:8080` keeps its brackets; `example.com:8080` loses its port.
            match value.rfind(':') {
                Some(colon) if !value[colon..].contains(']') => &value[..colon],
                _ => value,
            }
        })
}
