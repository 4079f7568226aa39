//! A breaker a service holds, and a permit a response future can own.
//!
//! [`Permit`] borrows its breaker, but a tower response future must own everything it uses
//! (axum and hyper want `'static` futures). A breaker from the process-wide registry lives as
//! long as the process, so its permit is `Permit<'static>` as it is. A breaker held in an
//! `Arc` is kept alive by a clone of that `Arc` travelling with its permit.

use crate::breaker::permit::OnDrop;
use crate::{CircuitBreaker, CircuitOpen, Outcome, Permit};
use std::fmt;
use std::mem::{ManuallyDrop, MaybeUninit};
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
            Breaker::Static(breaker) => Ok(HeldPermit::new(breaker.try_acquire()?, None)),
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
    /// Always initialised, and consumed or dropped only through this type, never lent out
    /// with its `'static` lifetime. `MaybeUninit` only so that moving it (into the response
    /// future, out of it) copies plain bytes: moved as a `Permit`, its padding was copied
    /// piece by piece and then read back whole, which stalled the store buffer (~15 ns a
    /// call).
    permit: MaybeUninit<Permit<'static>>,
    /// Keeps the breaker of an `Arc` alive; dropped after the permit (see `Drop`).
    keep: Option<Arc<CircuitBreaker>>,
}

impl HeldPermit {
    #[inline(always)]
    fn new(permit: Permit<'static>, keep: Option<Arc<CircuitBreaker>>) -> Self {
        HeldPermit {
            permit: MaybeUninit::new(permit),
            keep,
        }
    }

    /// The permit, for its report; the `Arc` that keeps its breaker alive is dropped after.
    #[inline(always)]
    fn into_parts(self) -> (Permit<'static>, Option<Arc<CircuitBreaker>>) {
        let this = ManuallyDrop::new(self);
        // SAFETY: `permit` is always initialised, and `this` is never dropped, so each field
        // is read out exactly once.
        unsafe { (this.permit.assume_init_read(), std::ptr::read(&this.keep)) }
    }

    /// A permit from `breaker`, which travels with it.
    pub(crate) fn owning(breaker: Arc<CircuitBreaker>) -> Result<HeldPermit, CircuitOpen> {
        let permit = breaker.try_acquire()?;
        // SAFETY: the permit borrows the breaker inside the `Arc`'s allocation, which does not
        // move and lives while any clone of the `Arc` does. `breaker` is stored beside the
        // permit and, by field order, dropped after it; the permit is consumed or dropped only
        // through this type, which never lends it out. So the borrow is valid for as long as
        // the permit exists, which is all `'static` is used to say here.
        let permit = unsafe { std::mem::transmute::<Permit<'_>, Permit<'static>>(permit) };
        Ok(HeldPermit::new(permit, Some(breaker)))
    }

    #[inline]
    pub(crate) fn success(self) {
        let (permit, keep) = self.into_parts();
        permit.success();
        drop(keep);
    }

    pub(crate) fn failure(self) {
        let (permit, keep) = self.into_parts();
        permit.failure();
        drop(keep);
    }

    /// An outcome that counts as ignored: it moves no state, and the trial slot, if any,
    /// goes back.
    pub(crate) fn ignore(self) {
        let (permit, keep) = self.into_parts();
        permit.ignore();
        drop(keep);
    }

    /// Reports `outcome`.
    #[inline]
    pub(crate) fn report(self, outcome: Outcome) {
        match outcome {
            Outcome::Success => self.success(),
            Outcome::Failure => self.failure(),
            Outcome::Ignored => self.ignore(),
            // The rarer outcomes, through the permit's own `report`.
            Outcome::Excluded | Outcome::OpenFor(_) => {
                let (permit, keep) = self.into_parts();
                permit.report(outcome);
                drop(keep);
            }
        }
    }
}

/// Runs `f`; should it panic, `permit` counts as a failure when the unwinding drops it. The
/// inner service's code and the classifier run under it.
///
/// The guard is forgotten when `f` returns, so only unwinding runs its `Drop`: the call path
/// never writes into the permit. (Setting the permit's drop behaviour around each call, as
/// `CircuitBreaker::call` does, cost ~15 ns a call here: the one-byte write, followed by the
/// permit being moved into the response future, stalled a store forward.)
#[inline(always)]
pub(crate) fn fail_on_unwind<T>(permit: &mut HeldPermit, f: impl FnOnce() -> T) -> T {
    let guard = FailOnUnwind(permit);
    let out = f();
    std::mem::forget(guard);
    out
}

struct FailOnUnwind<'a>(&'a mut HeldPermit);

impl Drop for FailOnUnwind<'_> {
    #[cold]
    fn drop(&mut self) {
        // SAFETY: `permit` is always initialised.
        unsafe { self.0.permit.assume_init_mut() }.on_drop = OnDrop::Failure;
    }
}

impl Drop for HeldPermit {
    fn drop(&mut self) {
        // SAFETY: `permit` is always initialised, and dropped here once (`into_parts` skips
        // this `Drop`). `keep` is dropped after this, as a field.
        unsafe { self.permit.assume_init_drop() }
    }
}

/// Awaits `future`, with a panic while polling it counting `permit` as a failure; if the
/// returned future is dropped first (the caller gave up), the permit is left to count as
/// nothing. For `async` code that cannot use [`ResponseFuture`](super::ResponseFuture).
#[cfg_attr(not(feature = "reqwest"), allow(dead_code))]
pub(crate) async fn guarded<F: std::future::Future>(
    permit: &mut HeldPermit,
    future: F,
) -> F::Output {
    let mut future = std::pin::pin!(future);
    std::future::poll_fn(|cx| fail_on_unwind(permit, || future.as_mut().poll(cx))).await
}

impl fmt::Debug for HeldPermit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // SAFETY: `permit` is always initialised.
        unsafe { self.permit.assume_init_ref() }.fmt(f)
    }
}
