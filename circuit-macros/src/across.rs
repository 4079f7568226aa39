//! The trip policies' rules across keys, checked at compile time as `ConfigBuilder::build`
//! checks them at run time (`circuit-core/src/config/rules.rs`), with the defaults standing in
//! for keys left out; and `ignore` beside `exclude`, `classify` beside both. Each error is
//! spanned on the key that was written, and the values that cannot be trusted are left out of
//! the expansion.

use crate::args::{Args, Errors};
use crate::table::{Growth, Setting, SlidingWindow, Value};
use quote::ToTokens;
use std::time::Duration;

/// Checks the rules after `success_threshold`'s, in `build()`'s order.
pub(crate) fn check(args: &mut Args, errors: &mut Errors) {
    minimum_calls_within_window(args, errors);
    slow_rate_with_duration(args, errors);
    backoff_not_below_recovery_timeout(args, errors);
    ignore_is_not_exclude(args, errors);
    classify_alone(args, errors);
}

/// `minimum_calls` above a count window's size: the window could never hold enough calls.
fn minimum_calls_within_window(args: &mut Args, errors: &mut Errors) {
    let Some(minimum) = args.setting(Setting::MinimumCalls) else {
        return;
    };
    let Value::Count(calls) = minimum.value else {
        return;
    };
    let window = args.setting(Setting::SlidingWindow);
    let size = match window.map_or(Setting::SlidingWindow.default_value(), |w| Some(w.value)) {
        Some(Value::Window(SlidingWindow::Count(n))) => n,
        _ => return,
    };
    if calls <= size {
        return;
    }
    let size_text = match window {
        Some(_) => format!("{size} calls"),
        None => format!("{size} calls, the default"),
    };
    errors.add(
        minimum.span,
        format!(
            "`minimum_calls` ({calls}) must not exceed the size of `sliding_window` \
             ({size_text}): the window could never hold enough calls for a rate to count; \
             lower `minimum_calls` or write `sliding_window = \"{calls} calls\"`"
        ),
    );
    args.settings[Setting::MinimumCalls.index()] = None;
}

/// `slow_call_rate_threshold` without `slow_call_duration`: no call would be timed.
fn slow_rate_with_duration(args: &mut Args, errors: &mut Errors) {
    let Some(rate) = args.setting(Setting::SlowCallRateThreshold) else {
        return;
    };
    if args.setting(Setting::SlowCallDuration).is_some() {
        return;
    }
    errors.add(
        rate.span,
        "`slow_call_rate_threshold` needs `slow_call_duration`: without it no call is timed, so \
         none is slow; write for example `slow_call_duration = \"2s\"`",
    );
    args.settings[Setting::SlowCallRateThreshold.index()] = None;
}

/// An exponential backoff whose longest period is shorter than `recovery_timeout`.
fn backoff_not_below_recovery_timeout(args: &mut Args, errors: &mut Errors) {
    let Some(backoff) = args.setting(Setting::Backoff) else {
        return;
    };
    let Value::Backoff(Growth::Exponential { max, .. }) = backoff.value else {
        return;
    };
    let timeout = args.setting(Setting::RecoveryTimeout);
    let recovery = match timeout.map_or(Setting::RecoveryTimeout.default_value(), |t| Some(t.value))
    {
        Some(Value::Duration(d)) => d,
        _ => return,
    };
    if max >= recovery {
        return;
    }
    let recovery_text = match timeout {
        Some(_) => millis_text(recovery),
        None => format!("{}, the default", millis_text(recovery)),
    };
    errors.add(
        backoff.span,
        format!(
            "`backoff`'s longest period ({}) must not be shorter than `recovery_timeout` \
             ({recovery_text}): the Open periods would shrink as the breaker kept failing; \
             write a longer one",
            millis_text(max)
        ),
    );
    args.settings[Setting::Backoff.index()] = None;
}

/// A duration as the grammar writes it, in its largest whole unit: `30s`, `5m`, `250ms`.
fn millis_text(d: Duration) -> String {
    let millis = d.as_millis();
    for (unit, per) in [("h", 3_600_000), ("m", 60_000), ("s", 1_000)] {
        if millis.is_multiple_of(per) {
            return format!("{}{unit}", millis / per);
        }
    }
    format!("{millis}ms")
}

/// `ignore` and `exclude` naming one function: an error would be both ignored and counted as
/// a success.
fn ignore_is_not_exclude(args: &mut Args, errors: &mut Errors) {
    let (Some(ignore), Some(exclude)) = (&args.ignore, &args.exclude) else {
        return;
    };
    let text = |p: &syn::Expr| p.to_token_stream().to_string().replace(' ', "");
    let name = text(ignore);
    if name != text(exclude) {
        return;
    }
    errors.add(
        syn::spanned::Spanned::span(ignore),
        format!(
            "`ignore` and `exclude` both name `{name}`: an error cannot both count as nothing \
             (`ignore`) and count as a success (`exclude`); keep one of them, or give each its \
             own predicate"
        ),
    );
    args.ignore = None;
}

/// `classify` beside `exclude` or `ignore`: it already decides every error's outcome, so the
/// other keys would have to be ordered against it. One vocabulary per function.
fn classify_alone(args: &mut Args, errors: &mut Errors) {
    if args.classify.is_none() {
        return;
    }
    let others = [("exclude", "Excluded"), ("ignore", "Ignored")];
    for (key, outcome) in others {
        let given = match key {
            "exclude" => args.exclude.take(),
            _ => args.ignore.take(),
        };
        let Some(given) = given else {
            continue;
        };
        errors.add(
            syn::spanned::Spanned::span(&given),
            format!(
                "`{key}` cannot go with `classify`, which decides every error's outcome: \
                 return `Outcome::{outcome}` from the classifier for these errors, and leave \
                 `{key}` out"
            ),
        );
    }
}
