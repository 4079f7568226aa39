//! The service: a permit per call, the inner service's readiness passed through.

use crate::tower::classify::{Classify, ServerErrors};
use crate::tower::future::ResponseFuture;
use crate::tower::held::{fail_on_unwind, Breaker};
use crate::tower::rejection::{OnRejection, ReturnError};
use crate::CircuitBreaker;
use std::fmt;
use std::marker::PhantomData;
use std::task::{Context, Poll};
use tower_service::Service;

/// A service whose calls run through a breaker; made by
/// [`CircuitBreakerLayer`](super::CircuitBreakerLayer), whose documentation says how it
/// behaves. Clones share the breaker.
pub struct CircuitBreakerService<S, C = ServerErrors, R = ReturnError> {
    inner: S,
    breaker: Breaker,
    classifier: C,
    _policy: PhantomData<fn() -> R>,
}

impl<S, C, R> CircuitBreakerService<S, C, R> {
    pub(crate) fn new(inner: S, breaker: Breaker, classifier: C) -> Self {
        CircuitBreakerService {
            inner,
            breaker,
            classifier,
            _policy: PhantomData,
        }
    }

    /// The service's breaker.
    pub fn breaker(&self) -> &CircuitBreaker {
        self.breaker.get()
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// The inner service, unwrapped.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, Request, C, R> Service<Request> for CircuitBreakerService<S, C, R>
where
    S: Service<Request>,
    C: Classify<S::Response, S::Error> + Clone,
    R: OnRejection<S::Response, S::Error>,
{
    type Response = S::Response;
    type Error = R::Error;
    type Future = ResponseFuture<S::Future, C, R>;

    /// The inner service's readiness. No permit is taken here: a service kept ready (as
    /// `Buffer` and hyper's pools do) must not hold a half-open trial slot while it waits.
    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(R::inner)
    }

    #[inline]
    fn call(&mut self, request: Request) -> Self::Future {
        match self.breaker.acquire() {
            Ok(mut permit) => {
                // The inner `call` may run code of its own before returning its future (a
                // `service_fn` does): a panic there counts as a failure, as it would later.
                let inner = &mut self.inner;
                let future = fail_on_unwind(&mut permit, || inner.call(request));
                ResponseFuture::admitted(future, permit, self.classifier.clone())
            }
            Err(open) => ResponseFuture::rejected(open),
        }
    }
}

impl<S: Clone, C: Clone, R> Clone for CircuitBreakerService<S, C, R> {
    fn clone(&self) -> Self {
        CircuitBreakerService::new(
            self.inner.clone(),
            self.breaker.clone(),
            self.classifier.clone(),
        )
    }
}

impl<S: fmt::Debug, C: fmt::Debug, R> fmt::Debug for CircuitBreakerService<S, C, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CircuitBreakerService")
            .field("inner", &self.inner)
            .field("breaker", &self.breaker.get().name())
            .field("classifier", &self.classifier)
            .finish()
    }
}
