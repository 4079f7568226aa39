//! The `error_code` each breaker's rejections carry, set by name at start-up.
//!
//! A process-wide table beside the registry, rather than a field of `Config`: the code is a
//! matter of the HTTP interface, not of the breaker's behaviour, and a breaker declared by
//! `#[circuit_breaker]` gets its code without touching its configuration.

use parking_lot::RwLock;
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::OnceLock;

/// The `error_code` of a breaker not given one.
pub const DEFAULT_ERROR_CODE: &str = "CIRCUIT_OPEN";

type Codes = RwLock<HashMap<String, Cow<'static, str>>>;

fn codes() -> &'static Codes {
    static CODES: OnceLock<Codes> = OnceLock::new();
    CODES.get_or_init(Default::default)
}

/// Gives the rejections of the breaker named `breaker` the `error_code` `code` (such as
/// `DB_CIRCUIT_BREAKER_OPEN`), in every registry. The breaker need not exist yet. Setting it
/// again replaces it.
pub fn set_error_code(breaker: &str, code: impl Into<Cow<'static, str>>) {
    codes().write().insert(breaker.to_owned(), code.into());
}

/// The `error_code` of the breaker named `breaker`'s rejections: the one
/// [`set_error_code`] gave it, or [`DEFAULT_ERROR_CODE`].
pub fn error_code(breaker: &str) -> Cow<'static, str> {
    codes()
        .read()
        .get(breaker)
        .cloned()
        .unwrap_or(Cow::Borrowed(DEFAULT_ERROR_CODE))
}
