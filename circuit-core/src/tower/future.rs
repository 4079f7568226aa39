//! The response future: the inner service's future, the permit it runs under, and the
//! classifier that reports its outcome. Written by hand so that a call allocates nothing.

use crate::tower::classify::Classify;
use crate::tower::held::{fail_on_unwind, HeldPermit};
use crate::tower::rejection::OnRejection;
use crate::CircuitOpen;
use pin_project_lite::pin_project;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

pin_project! {
    /// The future of [`CircuitBreakerService`](super::CircuitBreakerService): the inner
    /// service's response, after its outcome was reported to the breaker, or the rejection.
    ///
    /// Dropped before it finishes, it counts as nothing and gives back a half-open trial slot.
    /// If the inner future or the classifier panics, the call counts as a failure.
    pub struct ResponseFuture<F, C, R> {
        #[pin]
        kind: Kind<F, C>,
        // `fn() -> R`: the policy is a type, never a value, and must not make the future
        // `!Send` or `!Sync`.
        _policy: PhantomData<fn() -> R>,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<F, C> {
        Admitted {
            #[pin]
            future: F,
            // `None` once the outcome is reported.
            permit: Option<HeldPermit>,
            classifier: C,
        },
        Rejected {
            // `None` once returned.
            open: Option<CircuitOpen>,
        },
    }
}

impl<F, C, R> ResponseFuture<F, C, R> {
    #[inline]
    /// `permit` is `Some`, or `None` if the inner `call` panicked (then unreachable).
    pub(crate) fn admitted(future: F, permit: Option<HeldPermit>, classifier: C) -> Self {
        ResponseFuture {
            kind: Kind::Admitted {
                future,
                permit,
                classifier,
            },
            _policy: PhantomData,
        }
    }

    #[inline]
    pub(crate) fn rejected(open: CircuitOpen) -> Self {
        ResponseFuture {
            kind: Kind::Rejected { open: Some(open) },
            _policy: PhantomData,
        }
    }

    /// A future that must not be polled: it stands in for one that never started.
    pub(crate) fn unused() -> Self {
        ResponseFuture {
            kind: Kind::Rejected { open: None },
            _policy: PhantomData,
        }
    }
}

impl<F, C, R, T, E> Future for ResponseFuture<F, C, R>
where
    F: Future<Output = Result<T, E>>,
    C: Classify<T, E>,
    R: OnRejection<T, E>,
{
    type Output = Result<T, R::Error>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().kind.project() {
            KindProj::Rejected { open } => {
                let open = open
                    .take()
                    .expect("ResponseFuture polled after it finished");
                Poll::Ready(R::rejected(open))
            }
            KindProj::Admitted {
                future,
                permit,
                classifier,
            } => {
                assert!(permit.is_some(), "ResponseFuture polled after it finished");
                // A panic in the inner future or the classifier counts as a failure; the
                // future dropped between polls leaves the permit to count as nothing.
                let result = match fail_on_unwind(permit, || future.poll(cx)) {
                    Poll::Ready(result) => result,
                    Poll::Pending => return Poll::Pending,
                };
                let outcome = fail_on_unwind(permit, || classifier.classify(&result));
                permit.take().expect("checked above").report(outcome);
                Poll::Ready(result.map_err(R::inner))
            }
        }
    }
}

impl<F, C, R> fmt::Debug for ResponseFuture<F, C, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Admitted { permit, .. } => f
                .debug_struct("ResponseFuture")
                .field("permit", permit)
                .finish_non_exhaustive(),
            Kind::Rejected { open } => f
                .debug_struct("ResponseFuture")
                .field("rejected", open)
                .finish(),
        }
    }
}
