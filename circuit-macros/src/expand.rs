//! The function's new body: the old one, run through its breaker, with the fallback on the
//! side. The signature is re-emitted as written.

use crate::args::{Args, Errors};
use crate::function::{boxed_async_block, plain_name, Function, Shape};
use crate::handle::Breaker;
use crate::respan::respan;
use crate::table::Setting;
use proc_macro2::{Delimiter, Group, Span, TokenStream};
use quote::{quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;
use syn::{FnArg, Ident, Stmt, Type};

/// The clones the fallback is given, one per argument in order: `Clone::clone(&x)`. An
/// argument that cannot be cloned for it is an error on that argument.
fn fallback_args(function: &Function, errors: &mut Errors) -> Vec<TokenStream> {
    let mut clones = Vec::new();
    for input in function.inputs() {
        let name = match input {
            FnArg::Receiver(receiver) => {
                match &receiver.reference {
                    Some(_) if receiver.mutability.is_some() => {
                        errors.add(
                            receiver.span(),
                            "a fallback cannot be given `&mut self`: the guarded call holds it; \
                             take `&self`, or leave `fallback` out",
                        );
                        continue;
                    }
                    // `self: Pin<&mut Self>`, `self: &mut Self`: a `&mut` anywhere in the
                    // receiver's type.
                    None if receiver.colon_token.is_some() && holds_mut_ref(&receiver.ty) => {
                        errors.add(
                            receiver.span(),
                            "a fallback cannot be given this `self`, which holds a `&mut`: the \
                             guarded call holds it; take `&self` (or `self: Pin<&Self>`), or \
                             leave `fallback` out",
                        );
                        continue;
                    }
                    _ => {}
                }
                receiver.self_token.to_token_stream()
            }
            FnArg::Typed(typed) => {
                let Some(pat) = plain_name(&typed.pat) else {
                    errors.add(
                        typed.pat.span(),
                        "a function with a fallback takes each argument by name, for the \
                         fallback receives it too: write `name: Type` and destructure in the body",
                    );
                    continue;
                };
                if holds_mut_ref(&typed.ty) {
                    errors.add(
                        typed.ty.span(),
                        "a fallback cannot be given a `&mut` argument: the guarded call holds \
                         it; take `&` or an owned value, or leave `fallback` out",
                    );
                    continue;
                }
                pat.ident.to_token_stream()
            }
        };
        // `Clone::clone(&x)` clones the argument's own type: for `x: &T` it copies the
        // reference (`x.clone()` would clone the `T` behind it). On the argument, so that a
        // missing `Clone` is reported there.
        let span = name.span();
        clones.push(quote_spanned!(span=> ::core::clone::Clone::clone(&#name)));
    }
    clones
}

/// Whether a value of this type holds a `&mut`, which cannot be cloned for the fallback:
/// `&mut T` itself, or inside the type arguments of a path (`Pin<&mut Self>`), a tuple, an
/// array or a slice. A shared reference is `Copy` whatever it points to, and a function
/// pointer or trait object only names `&mut` in its signature.
fn holds_mut_ref(ty: &Type) -> bool {
    match ty {
        Type::Reference(reference) => reference.mutability.is_some(),
        Type::Paren(inner) => holds_mut_ref(&inner.elem),
        Type::Group(inner) => holds_mut_ref(&inner.elem),
        Type::Array(inner) => holds_mut_ref(&inner.elem),
        Type::Slice(inner) => holds_mut_ref(&inner.elem),
        Type::Tuple(tuple) => tuple.elems.iter().any(holds_mut_ref),
        Type::Path(path) => path.path.segments.iter().any(|segment| {
            let syn::PathArguments::AngleBracketed(args) = &segment.arguments else {
                return false;
            };
            args.args.iter().any(|arg| match arg {
                syn::GenericArgument::Type(ty) => holds_mut_ref(ty),
                _ => false,
            })
        }),
        _ => false,
    }
}

/// The return type with `impl Trait` replaced by `_`, so it can be written in a turbofish.
fn nameable(ty: &Type) -> Type {
    struct Infer;
    impl VisitMut for Infer {
        fn visit_type_mut(&mut self, ty: &mut Type) {
            if let Type::ImplTrait(it) = ty {
                *ty = Type::Infer(syn::TypeInfer {
                    underscore_token: syn::Token![_](it.impl_token.span),
                });
            } else {
                syn::visit_mut::visit_type_mut(self, ty);
            }
        }
    }
    let mut ty = ty.clone();
    Infer.visit_type_mut(&mut ty);
    ty
}

/// Generates the function with its new body. The expansion binds no name of its own (a `let`
/// cannot shadow a user's `const` or `static` of the same name, whatever its hygiene): values
/// flow through the arguments of the functions it calls.
pub(crate) fn expand(
    args: &Args,
    function: &Function,
    shape: &Shape,
    krate: &TokenStream,
    breaker: &Breaker<'_>,
    errors: &mut Errors,
) -> TokenStream {
    let Some(output) = function.output() else {
        return TokenStream::new();
    };
    let private = quote!(#krate::__private);
    let clones = args
        .fallback
        .as_ref()
        .map(|_| fallback_args(function, errors));

    // Tells inference the body's type as if it were still the function's body, so that `?`
    // and `return` in it convert as before.
    let output_infer = nameable(output);
    let fake_return = quote! {
        #[allow(unreachable_code, clippy::diverging_sub_expression, clippy::needless_return)]
        if false {
            return #private::fake_return::<#output_infer>();
        }
    };

    // The body as a value: a closure for a sync function, a future for an async one.
    let (is_async, body_stmts): (bool, &[Stmt]) = match shape {
        Shape::Sync => (false, &function.stmts),
        Shape::Async => (true, &function.stmts),
        Shape::AsyncTrait { stmt } => {
            let (_, block) = boxed_async_block(&function.stmts[*stmt]).expect("checked by shape");
            (true, &block.block.stmts)
        }
    };
    // The closure or block itself sits on the return type: it is what the type errors about
    // the return type are reported on.
    let output_span = output.span();
    let opener = if is_async {
        respan(quote!(async move), output_span)
    } else {
        respan(quote!(move ||), output_span)
    };
    let mut block = Group::new(Delimiter::Brace, quote!(#fake_return #(#body_stmts)*));
    block.set_span(output_span);
    let body = quote!(#opener #block);

    let exclude = match &args.exclude {
        Some(path) => path.to_token_stream(),
        None => quote!(#private::no_exclusion),
    };
    let breaker_expr = breaker.expr();
    let await_ = is_async.then(|| quote!(.await));
    // The return type decides `R` (not the fallback, which is checked against it), and the
    // call sits on the return type: errors about it (not a `Result`, an error without
    // `From<CircuitOpen>`) are reported there.
    // With `ignore`, the `_ignoring` variants, which report through a permit; without it,
    // those that go through `call_with` as before.
    let ignoring = args.ignore.is_some();
    let (name, inferred) = match (is_async, &args.fallback, ignoring) {
        (false, None, false) => ("run", quote!()),
        (true, None, false) => ("run_async", quote!()),
        (false, Some(_), false) => ("run_or_fallback", quote!(, _, _)),
        (true, Some(_), false) => ("run_async_or_fallback", quote!(, _, _, _)),
        (false, None, true) => ("run_ignoring", quote!()),
        (true, None, true) => ("run_async_ignoring", quote!()),
        (false, Some(_), true) => ("run_ignoring_or_fallback", quote!(, _, _)),
        (true, Some(_), true) => ("run_async_ignoring_or_fallback", quote!(, _, _, _)),
    };
    let name = timed(name, args, is_async, errors);
    let name = Ident::new(&name, Span::call_site());
    let run = respan(quote!(#private::#name), output_span);
    // `exclude`, then `ignore` when given.
    let classify = match &args.ignore {
        Some(ignore) => quote!(#exclude, #ignore),
        None => exclude,
    };
    let arguments = match (&args.fallback, clones) {
        // The clones come first: the body takes the originals.
        (Some(fallback), Some(clones)) => {
            quote!(#breaker_expr, (#(#clones,)*), #body, #classify, #fallback)
        }
        _ => quote!(#breaker_expr, #body, #classify),
    };
    let mut arguments = Group::new(Delimiter::Parenthesis, arguments);
    arguments.set_span(output_span);
    let call = quote!(#run::<#output_infer #inferred> #arguments #await_);

    let body_items = breaker.body_items();
    let attrs = &function.attrs;
    let vis = &function.vis;
    let sig = &function.sig;
    let inner_attrs = &function.inner_attrs;
    let new_stmts = match shape {
        Shape::Sync | Shape::Async => quote!(#body_items #call),
        Shape::AsyncTrait { stmt } => {
            let (boxed, block) =
                boxed_async_block(&function.stmts[*stmt]).expect("checked by shape");
            let before = &function.stmts[..*stmt];
            let func = &boxed.func;
            let block_attrs = &block.attrs;
            quote! {
                #body_items
                #(#before)*
                #func(#(#block_attrs)* async move { #call })
            }
        }
    };
    quote! {
        #(#attrs)*
        #vis #sig {
            #(#inner_attrs)*
            #new_stmts
        }
    }
}

/// The runtime function for `name` (`run_async`, ...) once `timeout` is given: its `timed`
/// variant, which cancels the call and needs `E: From<CallTimedOut>`. On a sync function the
/// key is an error on it: a thread cannot be cancelled.
fn timed(name: &str, args: &Args, is_async: bool, errors: &mut Errors) -> String {
    let Some(timeout) = args.setting(Setting::Timeout) else {
        return name.to_owned();
    };
    if !is_async {
        errors.add(
            timeout.span,
            "`timeout` applies only to an `async fn`: a sync call cannot be cancelled; make \
             the function `async`, or remove `timeout`",
        );
        return name.to_owned();
    }
    name.replacen("run_async", "run_async_timed", 1)
}
