//! The attribute's predicates, made into the one classifier the run functions take: each error
//! gets an [`Outcome`]. `classify = f` is that classifier already; `exclude` and `ignore` are
//! built into one here. Each takes the function's return type `R` first, named by the
//! expansion, so that a closure given to a key has its argument's type (`&E`) inferred.

use crate::macro_support::CircuitResult;
use crate::Outcome;

/// `classify = f`: `f` itself, as a function pointer returning an [`Outcome`]; a predicate
/// returning a `bool` is refused here, on the key's value (rustc: "expected fn pointer
/// `fn(&E) -> Outcome`, found fn item `fn(&E) -> bool`").
///
/// The predicates and the classifier are taken as function pointers: a function's path or a
/// closure that captures nothing coerces to one, and its argument type is inferred from it. A
/// generic `impl FnOnce` would have rustc report a predicate of the wrong type twice (once on
/// the key, once on the attribute, through the bounds of the closure returned). The pointer is
/// a constant at the call, which the optimiser calls directly.
#[inline(always)]
pub fn classifying<R: CircuitResult>(
    classify: fn(&R::Error) -> Outcome,
) -> fn(&R::Error) -> Outcome {
    classify
}

/// The classifier of an attribute without predicates: every error is a failure.
#[inline(always)]
pub fn every_error_fails<E>(_: &E) -> Outcome {
    Outcome::Failure
}

/// The `exclude` of an attribute with `ignore` alone: no error is excluded.
#[inline(always)]
pub fn no_exclusion<E>(_: &E) -> bool {
    false
}

/// `exclude = pred`: errors `pred` accepts are excluded (a success, counted as excluded), the
/// others failures.
#[inline(always)]
pub fn excluding<R: CircuitResult>(
    exclude: fn(&R::Error) -> bool,
) -> impl FnOnce(&R::Error) -> Outcome {
    move |error| {
        if exclude(error) {
            Outcome::Excluded
        } else {
            Outcome::Failure
        }
    }
}

/// `ignore = pred`, with `exclude = pred` or [`no_exclusion`]: `ignore` is asked first.
#[inline(always)]
pub fn ignoring<R: CircuitResult>(
    exclude: fn(&R::Error) -> bool,
    ignore: fn(&R::Error) -> bool,
) -> impl FnOnce(&R::Error) -> Outcome {
    move |error| {
        if ignore(error) {
            Outcome::Ignored
        } else if exclude(error) {
            Outcome::Excluded
        } else {
            Outcome::Failure
        }
    }
}
