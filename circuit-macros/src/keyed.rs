//! `key = expr`: a breaker per key, from a set named after the attribute's `name`, with the
//! set's bounds `max_keys = N` and `key_idle_timeout = "10m"`. Their values are read here, and
//! the bounds refused without a `key`; `handle.rs` declares the set, `expand.rs` runs each
//! call through the breaker of its key.

use crate::args::{Args, Errors, Literal};
use crate::duration;
use crate::table::MAX_RECOVERY_TIMEOUT;
use std::time::Duration;
use syn::{Expr, ExprLit, Lit, LitStr};

/// `key = expr`: any expression over the function's arguments. A literal is refused: every
/// call would have the same key, which is one breaker with extra steps.
pub(crate) fn key(value: Expr) -> syn::Result<Expr> {
    match &value {
        Expr::Lit(ExprLit { lit, .. }) => {
            let written = match lit {
                Lit::Str(s) => format!("{:?}", s.value()),
                other => quote::ToTokens::to_token_stream(other).to_string(),
            };
            Err(syn::Error::new(
                lit.span(),
                format!(
                    "`key` takes an expression over the function's arguments, like `key = host` \
                     or `key = &user.region`: the fixed key {written} would give every call one \
                     breaker; for that, leave `key` out (and give the key to `name`)"
                ),
            ))
        }
        _ => Ok(value),
    }
}

/// `max_keys = N`: the most breakers the set holds, at least 1. Read as every count setting
/// is ([`args::count`](crate::args::count)), with the same messages.
pub(crate) fn max_keys(value: &Expr) -> syn::Result<Literal<u32>> {
    let n = crate::args::count("max_keys", value, "10_000")?;
    if n.value == 0 {
        return Err(syn::Error::new(
            n.span,
            "`max_keys` must be at least 1: write for example `max_keys = 10_000`",
        ));
    }
    Ok(n)
}

/// `key_idle_timeout = "10m"`: how long a key's breaker stays without a call, in the grammar
/// of every other duration, longer than zero and at most 365 days.
pub(crate) fn idle_timeout(lit: &LitStr) -> syn::Result<Literal<Duration>> {
    let value = duration::parse_within("key_idle_timeout", MAX_RECOVERY_TIMEOUT, lit)?;
    Ok(Literal {
        value,
        span: lit.span(),
    })
}

/// The set's bounds given without a `key`: there is no set for them to bound.
pub(crate) fn check(args: &mut Args, errors: &mut Errors) {
    if args.key.is_some() {
        return;
    }
    if let Some(max) = args.max_keys.take() {
        errors.add(
            max.span,
            "`max_keys` bounds the breakers of a `key`, and this attribute has none: add \
             `key = ...` (for example `key = host`), or remove `max_keys`",
        );
    }
    if let Some(idle) = args.key_idle_timeout.take() {
        errors.add(
            idle.span,
            "`key_idle_timeout` drops the idle breakers of a `key`, and this attribute has none: \
             add `key = ...` (for example `key = host`), or remove `key_idle_timeout`",
        );
    }
}
