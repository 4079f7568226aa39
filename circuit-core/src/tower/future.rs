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
    #[project_replace = KindReplace]
    enum Kind<F, C> {
        Admitted {
            #[pin]
            future: F,
            permit: HeldPermit,
            classifier: C,
        },
        Rejected {
            open: CircuitOpen,
        },
        // Finished: the permit reported, or the rejection returned.
        Done,
    }
}

impl<F, C, R> ResponseFuture<F, C, R> {
    #[inline]
    pub(crate) fn admitted(future: F, permit: HeldPermit, classifier: C) -> Self {
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
            kind: Kind::Rejected { open },
            _policy: PhantomData,
        }
    }

    /// A future that must not be polled: it stands in for one that never started.
    pub(crate) fn unused() -> Self {
        ResponseFuture {
            kind: Kind::Done,
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
        let mut kind = self.project().kind;
        let outcome = match kind.as_mut().project() {
            KindProj::Admitted {
                future,
                permit,
                classifier,
            } => {
                // A panic in the inner future or the classifier counts as a failure; the
                // future dropped between polls leaves the permit to count as nothing.
                let result = match fail_on_unwind(permit, || future.poll(cx)) {
                    Poll::Ready(result) => result,
                    Poll::Pending => return Poll::Pending,
                };
                let outcome = fail_on_unwind(permit, || classifier.classify(&result));
                Some((result, outcome))
            }
            KindProj::Rejected { .. } | KindProj::Done => None,
        };
        // Moves the permit (or the rejection) out, leaving `Done`.
        match (kind.project_replace(Kind::Done), outcome) {
            (KindReplace::Admitted { permit, .. }, Some((result, outcome))) => {
                permit.report(outcome);
                Poll::Ready(result.map_err(R::inner))
            }
            (KindReplace::Rejected { open }, _) => Poll::Ready(R::rejected(open)),
            _ => panic!("ResponseFuture polled after it finished"),
        }
    }
}

impl<F, C, R> fmt::Debug for ResponseFuture<F, C, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("ResponseFuture");
        match &self.kind {
            Kind::Admitted { permit, .. } => d.field("permit", permit),
            Kind::Rejected { open } => d.field("rejected", open),
            Kind::Done => d.field("done", &true),
        };
        d.finish_non_exhaustive()
    }
}
