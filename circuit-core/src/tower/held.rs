//! A breaker a service holds, and a permit a response future can own.
//!
//! [`Permit`] borrows its breaker, but a tower response future must own everything it uses
//! (axum and hyper want `'static` futures). A breaker from the process-wide registry lives as
//! long as the process, so its permit is `Permit<'static>` as it is. A breaker held in an
//! `Arc` is kept alive by a clone of that `Arc` travelling with its permit.

use crate::breaker::permit::OnDrop;
use crate::{CircuitBreaker, CircuitOpen, Permit};
use std::fmt;
use std::sync::Arc;

/// The breaker behind a layer: one borrowed from the process-wide registry (no reference count
/// on the call path), or one the caller shares in an `Arc`.
#[derive(Clone)]
pub(crate) enum Breaker {
    Static(&'static CircuitBreaker),
    Shared(Arc<CircuitBreaker>),
}

impl Breaker {
    pub(crate) fn get(&self) -> &CircuitBreaker {
        match self {
            Breaker::Static(breaker) => breaker,
            Breaker::Shared(breaker) => breaker,
        }
    }

    /// A permit for one call. A registry breaker's costs what `try_acquire` costs; an `Arc`'s
    /// adds a reference-count increment, on admitted calls only.
    #[inline]
    pub(crate) fn acquire(&self) -> Result<HeldPermit, CircuitOpen> {
        match self {
            Breaker::Static(breaker) => Ok(HeldPermit {
                permit: breaker.try_acquire()?,
                _keep: None,
            }),
            Breaker::Shared(breaker) => HeldPermit::owning(breaker.clone()),
        }
    }
}

impl fmt::Debug for Breaker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Breaker").field(&self.get().name()).finish()
    }
}

/// A permit that keeps its breaker alive.
pub(crate) struct HeldPermit {
    // Declared before `_keep`, so dropped before it: the permit never outlives the `Arc` that
    // keeps its breaker alive. Never handed out with its `'static` lifetime.
    permit: Permit<'static>,
    _keep: Option<Arc<CircuitBreaker>>,
}

impl HeldPermit {
    /// A permit from `breaker`, which travels with it.
    pub(crate) fn owning(breaker: Arc<CircuitBreaker>) -> Result<HeldPermit, CircuitOpen> {
        let permit = breaker.try_acquire()?;
        // SAFETY: the permit borrows the breaker inside the `Arc`'s allocation, which does not
        // move and lives while any clone of the `Arc` does. `breaker` is stored beside the
        // permit and, by field order, dropped after it; the permit is consumed or dropped only
        // through this type, which never lends it out. So the borrow is valid for as long as
        // the permit exists, which is all `'static` is used to say here.
        let permit = unsafe { std::mem::transmute::<Permit<'_>, Permit<'static>>(permit) };
        Ok(HeldPermit {
            permit,
            _keep: Some(breaker),
        })
    }

    /// Whether dropping the permit unreported counts as a failure (set while the inner future
    /// or the classifier runs, so a panic there counts against the service) or as nothing
    /// (a cancelled call).
    #[inline(always)]
    pub(crate) fn fail_if_dropped(&mut self, fail: bool) {
        self.permit.on_drop = if fail {
            OnDrop::Failure
        } else {
            OnDrop::Cancel
        };
    }

    #[inline]
    pub(crate) fn success(self) {
        self.permit.success();
    }

    pub(crate) fn failure(self) {
        self.permit.failure();
    }

    /// Awaits `future` with the permit set to count a failure while it is polled (a panic
    /// there) and nothing between polls (the caller dropped the call). For `async` code that
    /// cannot use [`ResponseFuture`](super::ResponseFuture).
    #[cfg_attr(not(feature = "reqwest"), allow(dead_code))]
    pub(crate) async fn guard<F: std::future::Future>(&mut self, future: F) -> F::Output {
        let mut future = std::pin::pin!(future);
        std::future::poll_fn(|cx| {
            self.fail_if_dropped(true);
            let poll = future.as_mut().poll(cx);
            self.fail_if_dropped(false);
            poll
        })
        .await
    }

    /// An outcome that counts as nothing: the trial slot, if any, goes back.
    pub(crate) fn ignore(mut self) {
        self.fail_if_dropped(false);
    }
}

impl fmt::Debug for HeldPermit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.permit.fmt(f)
    }
}
