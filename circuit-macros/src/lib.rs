//! The `#[circuit_breaker]` attribute. Use it through `circuit_core::circuit_breaker`, whose
//! documentation describes it.
//!
//! Stages, one file each: `args` parses and checks the arguments (settings through `table`,
//! durations through `grammar`, both shared with the runtime; ratios, windows and backoffs in
//! `forms`; the trip policies' rules across keys in `across`; `key` and its bounds in `keyed`),
//! `function` the item, `handle` generates the breaker's (or keyed set's) declaration and
//! inspection handle, `expand` the new body. Every mistake is a `syn::Error` on the token at
//! fault; all of them are reported at once, and the function is still emitted so that the user
//! sees only the real errors.

mod across;
mod args;
mod duration;
mod expand;
mod forms;
mod function;
// The duration grammar and the table of settings, shared with circuit-core as copies of the
// same text. Some of what the runtime needs (environment suffixes, conversions) goes unused
// here, hence the `allow`.
#[allow(dead_code)]
mod grammar;
mod handle;
mod keyed;
mod respan;
#[allow(dead_code)]
mod table;

use proc_macro::TokenStream;
use proc_macro2::TokenStream as TokenStream2;
use quote::{quote, ToTokens};
use syn::spanned::Spanned;

/// Runs a function through a named circuit breaker; see `circuit_core::circuit_breaker`.
#[proc_macro_attribute]
pub fn circuit_breaker(args: TokenStream, item: TokenStream) -> TokenStream {
    circuit_breaker2(args.into(), item.into()).into()
}

fn circuit_breaker2(args: TokenStream2, item: TokenStream2) -> TokenStream2 {
    let mut errors = args::Errors::default();
    let args = args::Args::parse(args, &mut errors);
    let mut function = match function::parse(item.clone()) {
        Ok(function) => function,
        Err(error) => {
            errors.push(error);
            return errors.emit_with(item);
        }
    };
    // Another `#[circuit_breaker]` still on the function would wrap it again: every call
    // would be counted twice. It is refused, and left out of what is emitted.
    function.attrs.retain(|attr| {
        let again = function::is_circuit_breaker(attr);
        if again {
            errors.add(
                attr.path().span(),
                "`#[circuit_breaker]` is written twice on this function: each call would go \
                 through it twice and count every failure twice; keep one attribute, with all \
                 the keys",
            );
        }
        !again
    });
    let item = if errors.is_empty() {
        item
    } else {
        function.to_token_stream()
    };
    let krate = match &args.krate {
        Some(path) => path.to_token_stream(),
        None => quote!(::circuit_core),
    };
    let breaker = handle::Breaker {
        args: &args,
        function: &function,
        krate: &krate,
        place: handle::Place::choose(&args, &function),
    };
    // Errors in the arguments leave the faulty keys out of the expansion; errors in the
    // function's shape leave the function as written. Either way the handle is there, so
    // code that uses it does not fail as well, and the user sees only the real errors.
    let mut shape_errors = args::Errors::default();
    let shape = function.check(&mut shape_errors);
    let expanded = expand::expand(
        &args,
        &function,
        &shape,
        &krate,
        &breaker,
        &mut shape_errors,
    );
    let function_tokens = if shape_errors.is_empty() {
        expanded
    } else {
        item
    };
    errors.append(shape_errors);
    let beside = breaker.beside();
    errors.emit_with(quote!(#function_tokens #beside))
}
