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

    // `Result<T, CircuitError<E>>` written out: the body is typed `Result<T, E>`, so that its
    // `?`s convert into `E` (see `macro_support/finish.rs`, `Kept`).
    let kept = kept_error(output);
    let body_type = kept.as_ref().unwrap_or(output);
    // Tells inference the body's type as if it were still the function's body, so that `?`
    // and `return` in it convert as before.
    let output_infer = nameable(body_type);
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

    let breaker_expr = breaker.expr();
    // On the return type too: an async run function's future repeats its bounds, and rustc
    // reports an unmet one a second time where it is awaited.
    let await_ = is_async.then(|| respan(quote!(.await), output_span));
    let classify = classifier(args, &private, &output_infer);
    let finish = strategy(
        &private,
        &output_infer,
        kept.is_some(),
        args.fallback.is_some(),
    );
    // The return type decides `R` (not the fallback, which is checked against it), and the
    // call sits on the return type: errors about it (not a `Result`, an error without
    // `From<CircuitOpen>`) are reported there.
    // The inferred parameters after `R`: `K` (the strategy, see `strategy`), then with a
    // fallback `A` (the clones), `F` and `M` (the fallback and its shape) and, async, `N` (what
    // it returns). A bound rustc cannot meet is reported on the parameter's `_`: those of the
    // fallback sit on the fallback's path, the others on the return type.
    let on_output = |tokens: TokenStream| respan(tokens, output_span);
    // With a `key` and without a fallback, one more after `K`: `Q`, how a refused key becomes
    // the error type (see `refusal`), on the return type as well.
    let keyed_tail = (args.key.is_some() && args.fallback.is_none()).then(|| quote!(, _));
    let (name, inferred) = match (is_async, &args.fallback) {
        (false, None) => ("run", on_output(quote!(, _ #keyed_tail))),
        (true, None) => ("run_async", on_output(quote!(, _ #keyed_tail))),
        (is_async, Some(fallback)) => {
            let on_fallback = respan(quote!(, _, _), fallback.span());
            let head = on_output(quote!(, _, _));
            let tail = is_async.then(|| on_output(quote!(, _)));
            let name = if is_async {
                "run_async_or_fallback"
            } else {
                "run_or_fallback"
            };
            (name, quote!(#head #on_fallback #tail))
        }
    };
    let mut name = timed(name, args, is_async, errors);
    // With a `key`: the same function's keyed variant, which takes the breaker of the call's
    // key (or the set's refusal of it) instead of the function's one breaker.
    let breaker_arg = match &args.key {
        Some(key) => {
            name = format!("keyed_{name}");
            key_breaker(key, &breaker_expr, &private)
        }
        None => breaker_expr,
    };
    let name = Ident::new(&name, Span::call_site());
    let run = respan(quote!(#private::#name), output_span);
    // The breaker comes first: with a `key`, the key is read (and its borrows of the arguments
    // end) before the clones and the body take the arguments.
    let arguments = match (&args.fallback, clones) {
        // The clones come first: the body takes the originals.
        (Some(fallback), Some(clones)) => {
            quote!(#breaker_arg, (#(#clones,)*), #body, #classify, #finish, #fallback)
        }
        _ if args.key.is_some() => {
            let refuse = refusal(&private, &output_infer);
            quote!(#breaker_arg, #body, #classify, #finish, #refuse)
        }
        _ => quote!(#breaker_arg, #body, #classify, #finish),
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

/// The breaker of the call's key, from the function's set (`set`, a `&'static
/// Arc<KeyedBreakers>`): `Result<Arc<CircuitBreaker>, KeyError>`. The key is borrowed and read
/// as a `&str` by method resolution (`macro_support/keyed.rs`), on the key's own tokens, so that
/// a key of the wrong type is reported once, there. The whole is one block whose value is
/// owned, evaluated before the clones and the body take the arguments: the key's borrows end
/// with it (its temporaries too, in the 2024 edition; in 2021 they live to the end of the
/// statement, which borrow checking minds only for a key type with a `Drop` impl of its own
/// that borrows an argument the body moves: a `Cow` or a `String` is fine).
fn key_breaker(key: &syn::Expr, set: &TokenStream, private: &TokenStream) -> TokenStream {
    // Every token of ours on the key's first token: an expression joining tokens of two places
    // would be reported on the whole attribute. (A range cannot be given to one token, so a
    // key of the wrong type is pointed at by its first token.)
    let span = key
        .to_token_stream()
        .into_iter()
        .next()
        .map_or_else(|| key.span(), |t| t.span());
    let and = respan(quote!(&), span);
    let mut key_group = Group::new(Delimiter::Parenthesis, key.to_token_stream());
    key_group.set_span(span);
    let mut borrowed = Group::new(Delimiter::Parenthesis, quote!(#and #key_group));
    borrowed.set_span(span);
    let probe = respan(quote!(#private::KeyProbe), span);
    let mut receiver = Group::new(Delimiter::Parenthesis, quote!(#and #probe #borrowed));
    receiver.set_span(span);
    let read = respan(quote!(.key_text()), span);
    let lookup = respan(quote!(#private::breaker_for), span);
    let mut arguments = Group::new(Delimiter::Parenthesis, quote!(#set, #receiver #read));
    arguments.set_span(span);
    let mut block = Group::new(
        Delimiter::Brace,
        quote! {
            use #private::{KeyNotAsRef as _, KeyViaAsRef as _};
            #lookup #arguments
        },
    );
    block.set_span(span);
    block.into_token_stream()
}

/// How a refused key becomes the body's error type, for a keyed function without a fallback:
/// `E::from(key_error)` if the error type has that impl, else a value that is refused with a
/// message about it (see `macro_support/keyed.rs`). On the return type, as `strategy`'s probe.
fn refusal(private: &TokenStream, body_type: &Type) -> TokenStream {
    let probe = quote! {
        use #private::{RefuseNotViaFrom as _, RefuseViaFrom as _};
        (&#private::RefusalProbe::<#body_type>::NEW).refusal()
    };
    let mut block = Group::new(Delimiter::Brace, probe);
    block.set_span(body_type.span());
    block.into_token_stream()
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

/// The one classifier of the body's errors: `classify` as given, or `exclude` and `ignore`
/// made into one, or "every error is a failure". `R` is named so that a closure's argument
/// type is inferred.
fn classifier(args: &Args, private: &TokenStream, body_type: &Type) -> TokenStream {
    if let Some(classify) = &args.classify {
        // On the key's value: a classifier returning something else than an `Outcome` is
        // reported there.
        return on_predicate(
            quote!(#private::classifying::<#body_type>),
            classify,
            classify,
        );
    }
    match (&args.exclude, &args.ignore) {
        (None, None) => quote!(#private::every_error_fails),
        // The call sits on the predicate, so that rustc reports a predicate of the wrong type
        // once, there, and not a second time on the attribute.
        (Some(exclude), None) => {
            on_predicate(quote!(#private::excluding::<#body_type>), exclude, exclude)
        }
        (exclude, Some(ignore)) => {
            let exclude = match exclude {
                Some(exclude) => exclude.to_token_stream(),
                None => quote!(#private::no_exclusion),
            };
            on_predicate(
                quote!(#private::ignoring::<#body_type>),
                quote!(#exclude, #ignore),
                ignore,
            )
        }
    }
}

/// `function(arguments)`, the call and its parentheses on `at` (a predicate the user wrote):
/// rustc reports a predicate of the wrong type once, there, and not a second time on the
/// attribute, as it does on a call that is partly the attribute's.
fn on_predicate(function: TokenStream, arguments: impl ToTokens, at: &syn::Expr) -> TokenStream {
    let span = at.span();
    let function = respan(function, span);
    let mut call = Group::new(Delimiter::Parenthesis, arguments.into_token_stream());
    call.set_span(span);
    quote!(#function #call)
}

/// How the function's result is made (`macro_support/finish.rs`): `Kept` for a declared
/// `CircuitError`; `Flat` with a fallback, which never converts a rejection; and otherwise
/// whichever of `Flat` and `Foreign` method resolution finds for the error type, so that an
/// error type without `From<CircuitOpen>` is refused with a message about it. The probe is on
/// the attribute's own span, not the user's: it is not their code to lint.
fn strategy(private: &TokenStream, body_type: &Type, kept: bool, fallback: bool) -> TokenStream {
    if kept {
        return quote!(#private::Kept);
    }
    if fallback {
        return quote!(#private::Flat::<#body_type>::NEW);
    }
    let probe = quote! {
        use #private::{NotViaFrom as _, ViaFrom as _};
        (&#private::Probe::<#body_type>::NEW).finish()
    };
    // The block on the return type, where a refused error type is reported; its insides stay
    // the attribute's.
    let mut block = Group::new(Delimiter::Brace, probe);
    block.set_span(body_type.span());
    block.into_token_stream()
}

/// For a return type written `Result<T, CircuitError<E>>` (any path to either, under those
/// names), the body's type `Result<T, E>`.
fn kept_error(output: &Type) -> Option<Type> {
    let Type::Path(path) = output else {
        return None;
    };
    if path.qself.is_some() {
        return None;
    }
    let mut body = path.clone();
    let result = body.path.segments.last_mut()?;
    if result.ident != "Result" {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &mut result.arguments else {
        return None;
    };
    if args.args.len() != 2 {
        return None;
    }
    let syn::GenericArgument::Type(Type::Path(error)) = &mut args.args[1] else {
        return None;
    };
    if error.qself.is_some() {
        return None;
    }
    let last = error.path.segments.last()?;
    if last.ident != "CircuitError" {
        return None;
    }
    let syn::PathArguments::AngleBracketed(inner) = &last.arguments else {
        return None;
    };
    let [syn::GenericArgument::Type(inner)] = inner.args.iter().collect::<Vec<_>>()[..] else {
        return None;
    };
    let inner = inner.clone();
    args.args[1] = syn::GenericArgument::Type(inner);
    Some(Type::Path(body))
}
