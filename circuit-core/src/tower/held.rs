//! A breaker a service holds, and a permit a response future can own.
//!
//! [`Permit`] borrows its breaker, but a tower response future must own everything it uses
//! (axum and hyper want `'static` futures). A breaker from the process-wide registry lives as
//! long as the process, so its permit is `Permit<'static>` as it is. A breaker held in an
//! `Arc` is kept alive by a clone of that `Arc` travelling with its permit.

use crate::tower::classify::Outcome;
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

    #[inline]
    pub(crate) fn success(self) {
        self.permit.success();
    }

    pub(crate) fn failure(self) {
        self.permit.failure();
    }

    /// An outcome that counts as nothing: the trial slot, if any, goes back.
    pub(crate) fn ignore(self) {
        // Dropped unreported, a permit counts as a cancelled call.
        drop(self);
    }

    /// Reports `outcome`.
    #[inline]
    pub(crate) fn report(self, outcome: Outcome) {
        match outcome {
            Outcome::Success => self.success(),
            Outcome::Failure => self.failure(),
            Outcome::Ignored => self.ignore(),
        }
    }
}

/// Runs `f`, and should it panic, reports a failure for the permit in `slot` as the panic
/// unwinds: the inner service's code and the classifier run under it.
///
/// The guard is forgotten when `f` returns, so only unwinding runs its `Drop`: the call path
/// pays nothing for it, and never writes into the permit (a one-byte write into a permit that
/// is then moved as a whole costs a stalled store forward, measured at ~15 ns a call).
#[inline(always)]
pub(crate) fn fail_on_unwind<T>(slot: &mut Option<HeldPermit>, f: impl FnOnce() -> T) -> T {
    let guard = FailOnUnwind(slot);
    let out = f();
    std::mem::forget(guard);
    out
}

struct FailOnUnwind<'a>(&'a mut Option<HeldPermit>);

impl Drop for FailOnUnwind<'_> {
    #[cold]
    fn drop(&mut self) {
        if let Some(permit) = self.0.take() {
            permit.failure();
        }
    }
}

/// Awaits `future`, reporting a failure for the permit in `slot` if polling it panics; if
/// the returned future is dropped first (the caller gave up), the permit is left to count as
/// nothing. For `async` code that cannot use [`ResponseFuture`](super::ResponseFuture).
#[cfg_attr(not(feature = "reqwest"), allow(dead_code))]
pub(crate) async fn guarded<F: std::future::Future>(
    slot: &mut Option<HeldPermit>,
    future: F,
) -> F::Output {
    let mut future = std::pin::pin!(future);
    std::future::poll_fn(|cx| fail_on_unwind(slot, || future.as_mut().poll(cx))).await
}

impl fmt::Debug for HeldPermit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.permit.fmt(f)
    }
}
