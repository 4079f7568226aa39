//! The function's new body: the old one, run through its breaker, with the fallback on the
//! side. The signature is re-emitted as written.

use crate::args::{Args, Errors};
use crate::function::{boxed_async_block, plain_name, Function, Shape};
use crate::handle::Breaker;
use crate::respan::respan;
use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;
use syn::{FnArg, Ident, Stmt, Type};

/// What the fallback is given, argument by argument.
struct FallbackArgs {
    /// `let __circuit_args = (clone of a, clone of b, ..);`, before the body takes them.
    clones: Vec<TokenStream>,
    /// The names the clones are bound to again when the fallback runs.
    locals: Vec<Ident>,
    /// `&mut` arguments: the body gets a reborrow, and the fallback the argument itself
    /// afterwards (it cannot be cloned).
    reborrows: Vec<Ident>,
    /// The fallback's arguments, in order.
    pass: Vec<TokenStream>,
}

/// Sorts the arguments for a fallback; an argument it cannot be given is an error on it.
fn fallback_args(function: &Function, errors: &mut Errors) -> FallbackArgs {
    let mut args = FallbackArgs {
        clones: Vec::new(),
        locals: Vec::new(),
        reborrows: Vec::new(),
        pass: Vec::new(),
    };
    for (i, input) in function.inputs().iter().enumerate() {
        let local = format_ident!("__circuit_arg{}", i, span = Span::mixed_site());
        let name = match input {
            FnArg::Receiver(receiver) => {
                let mutable_ref = match &receiver.reference {
                    Some(_) => receiver.mutability.is_some(),
                    None => is_mut_ref(&receiver.ty) && receiver.colon_token.is_some(),
                };
                if mutable_ref {
                    errors.add(
                        receiver.span(),
                        "a fallback cannot be given `&mut self`: the guarded call holds it; take \
                         `&self`, or leave `fallback` out",
                    );
                    continue;
                }
                let token = receiver.self_token;
                token.to_token_stream()
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
                let ident = &pat.ident;
                if is_mut_ref(&typed.ty) {
                    args.reborrows.push(ident.clone());
                    args.pass.push(ident.to_token_stream());
                    continue;
                }
                ident.to_token_stream()
            }
        };
        // `Clone::clone(&x)` clones the argument's own type: for `x: &T` that copies the
        // reference (`x.clone()` would clone the `T` behind it).
        let span = name.span();
        args.clones
            .push(quote_spanned!(span=> ::core::clone::Clone::clone(&#name)));
        args.locals.push(local.clone());
        args.pass.push(local.to_token_stream());
    }
    args
}

fn is_mut_ref(ty: &Type) -> bool {
    match ty {
        Type::Reference(reference) => reference.mutability.is_some(),
        Type::Paren(inner) => is_mut_ref(&inner.elem),
        Type::Group(inner) => is_mut_ref(&inner.elem),
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

/// Generates the function, its new body, and the items beside it.
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
    let fallback = args
        .fallback
        .as_ref()
        .map(|path| (path, fallback_args(function, errors)));

    // Tells inference the body's type as if it were still the function's body, so `?` and
    // `return` in it convert as before, even where nothing else would pin the type down.
    let ret = Ident::new("__circuit_ret", Span::mixed_site());
    let output_infer = nameable(output);
    let fake_return = quote! {
        #[allow(unreachable_code, clippy::diverging_sub_expression, clippy::needless_return)]
        if let ::core::option::Option::Some(#ret) = ::core::option::Option::None::<#output_infer> {
            return #ret;
        }
    };

    // The body as a value: a closure for a sync function, a future for an async one.
    let (is_async, body_stmts): (bool, Vec<Stmt>) = match shape {
        Shape::Sync => (false, function.stmts.clone()),
        Shape::Async => (true, function.stmts.clone()),
        Shape::AsyncTrait { stmt } => {
            let (_, block) = boxed_async_block(&function.stmts[*stmt]).expect("checked by shape");
            (true, block.block.stmts.clone())
        }
    };
    let body = if is_async {
        quote!(async move { #fake_return #(#body_stmts)* })
    } else {
        quote!(move || { #fake_return #(#body_stmts)* })
    };
    let body = match &fallback {
        Some((_, fb)) if !fb.reborrows.is_empty() => {
            let reborrows = &fb.reborrows;
            quote!({ #(let #reborrows = &mut *#reborrows;)* #body })
        }
        _ => body,
    };

    let exclude = match &args.exclude {
        Some(path) => path.to_token_stream(),
        None => quote!(#private::no_exclusion),
    };
    let breaker_ident = Ident::new("__circuit_breaker", Span::mixed_site());
    let breaker_expr = breaker.expr();
    let await_ = is_async.then(|| quote!(.await));
    // Errors about the return type (not a `Result`, an error without `From<CircuitOpen>`)
    // come from the bounds of the function called here: put its path on the return type.
    let at_output = |name: &str| {
        let name = Ident::new(name, Span::call_site());
        respan(quote!(#private::#name), output.span())
    };

    let call = match &fallback {
        None => {
            let run = at_output(if is_async { "run_async" } else { "run" });
            quote!(#run(#breaker_ident, #body, #exclude) #await_)
        }
        Some((path, fb)) => {
            let run = at_output(if is_async {
                "run_async_or_fallback"
            } else {
                "run_or_fallback"
            });
            let args_ident = Ident::new("__circuit_args", Span::mixed_site());
            let result = Ident::new("__circuit_result", Span::mixed_site());
            let clones = &fb.clones;
            let locals = &fb.locals;
            let pass = &fb.pass;
            // On the fallback's path, so that a wrong argument list or return type is
            // reported there.
            let span = path.span();
            let fallback_call = quote_spanned!(span=> #path(#(#pass),*));
            let fallback_value = if is_async {
                let into = respan(quote!(#private::into_fallback), span);
                quote_spanned!(span=> #into(#fallback_call).await)
            } else {
                fallback_call
            };
            quote! {{
                let #args_ident = (#(#clones,)*);
                match #run(#breaker_ident, #body, #exclude) #await_ {
                    #private::Outcome::Done(#result) => #result,
                    #private::Outcome::Fallback => {
                        let (#(#locals,)*) = #args_ident;
                        #fallback_value
                    }
                }
            }}
        }
    };

    let inner = quote! {
        let #breaker_ident = #breaker_expr;
        #call
    };

    let body_items = breaker.body_items();
    let attrs = &function.attrs;
    let vis = &function.vis;
    let sig = &function.sig;
    let inner_attrs = &function.inner_attrs;
    let new_stmts = match shape {
        Shape::Sync | Shape::Async => quote!(#body_items #inner),
        Shape::AsyncTrait { stmt } => {
            let (call, block) =
                boxed_async_block(&function.stmts[*stmt]).expect("checked by shape");
            let before = &function.stmts[..*stmt];
            let func = &call.func;
            let block_attrs = &block.attrs;
            quote! {
                #body_items
                #(#before)*
                #func(#(#block_attrs)* async move { #inner })
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
