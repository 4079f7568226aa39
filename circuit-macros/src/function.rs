//! The annotated item: a function with a body, in the shapes the attribute knows how to wrap.

use crate::args::Errors;
use proc_macro2::TokenStream;
use quote::{quote, ToTokens};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{
    braced, Attribute, Block, Expr, ExprAsync, ExprCall, FnArg, GenericArgument, Pat,
    PathArguments, ReturnType, Signature, Stmt, Token, Type, TypeParamBound, Visibility,
};

/// A function as written: its signature is re-emitted token for token and only its body is
/// rewritten.
pub(crate) struct Function {
    pub(crate) attrs: Vec<Attribute>,
    pub(crate) vis: Visibility,
    pub(crate) sig: Signature,
    pub(crate) inner_attrs: Vec<Attribute>,
    pub(crate) stmts: Vec<Stmt>,
}

/// How the body is run.
pub(crate) enum Shape {
    /// A plain `fn`: the body runs as a closure.
    Sync,
    /// An `async fn`: the body runs as an `async move` block inside the still-async function.
    Async,
    /// What `#[async_trait]` made of an `async fn`: a plain `fn` whose last statement is
    /// `Box::pin(async move { .. })`. The attribute wraps the inner block.
    AsyncTrait {
        /// The index of that statement in `stmts`.
        stmt: usize,
    },
}

/// Whether `attr` is this attribute again: `#[circuit_breaker]` or a path ending in it
/// (`#[circuit_core::circuit_breaker]`). A renamed import cannot be told from another
/// attribute.
pub(crate) fn is_circuit_breaker(attr: &Attribute) -> bool {
    attr.path()
        .segments
        .last()
        .is_some_and(|segment| segment.ident == "circuit_breaker")
}

/// Parses the item. Anything other than a function with a body is an error spanned on what is
/// missing or in the way.
pub(crate) fn parse(tokens: TokenStream) -> syn::Result<Function> {
    syn::parse2(tokens)
}

impl Parse for Function {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis: Visibility = input.parse()?;
        // What may begin a function's signature.
        let fork = input.fork();
        let is_fn = fork.peek(Token![fn])
            || fork.peek(Token![const])
            || fork.peek(Token![async])
            || fork.peek(Token![unsafe])
            || fork.peek(Token![extern]);
        if !is_fn || input.fork().parse::<Signature>().is_err() {
            let what = input
                .cursor()
                .token_tree()
                .map_or_else(|| input.span(), |(tree, _)| tree.span());
            return Err(syn::Error::new(
                what,
                "`#[circuit_breaker]` goes on a function: put it on the `fn` whose calls the \
                 breaker guards",
            ));
        }
        let sig: Signature = input.parse()?;
        if input.peek(Token![;]) {
            let semi: Token![;] = input.parse()?;
            return Err(syn::Error::new(
                semi.span,
                "a function without a body has nothing for `#[circuit_breaker]` to guard: put \
                 the attribute on the function's implementation",
            ));
        }
        let content;
        braced!(content in input);
        let inner_attrs = content.call(Attribute::parse_inner)?;
        let stmts = content.call(Block::parse_within)?;
        Ok(Function {
            attrs,
            vis,
            sig,
            inner_attrs,
            stmts,
        })
    }
}

/// The function as written (after the attributes removed from `attrs`).
impl ToTokens for Function {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        let (attrs, vis, sig) = (&self.attrs, &self.vis, &self.sig);
        let (inner_attrs, stmts) = (&self.inner_attrs, &self.stmts);
        tokens.extend(quote! {
            #(#attrs)* #vis #sig { #(#inner_attrs)* #(#stmts)* }
        });
    }
}

impl Function {
    /// Refuses what the attribute cannot wrap, and tells how the body is to run.
    pub(crate) fn check(&self, errors: &mut Errors) -> Shape {
        if let Some(constness) = &self.sig.constness {
            errors.add(
                constness.span,
                "a `const fn` cannot go through a circuit breaker: remove `const`",
            );
        }
        if let Some(variadic) = &self.sig.variadic {
            errors.add(
                variadic.span(),
                "`#[circuit_breaker]` cannot wrap a variadic function: take a slice instead",
            );
        }
        let shape = if self.sig.asyncness.is_some() {
            Shape::Async
        } else if let Some(stmt) = self.async_trait_block() {
            Shape::AsyncTrait { stmt }
        } else {
            Shape::Sync
        };
        match self.output() {
            None => errors.add(
                self.sig.ident.span(),
                format!(
                    "`{}` returns nothing: a `#[circuit_breaker]` function must return \
                     `Result<T, E>`, with an error type that implements \
                     `From<circuit_core::CircuitOpen>`",
                    self.sig.ident
                ),
            ),
            Some(ty) if !could_be_result(ty) => errors.add(
                ty.span(),
                "a `#[circuit_breaker]` function must return `Result<T, E>`: write \
                 `Result<_, E>` here, with an error type that implements \
                 `From<circuit_core::CircuitOpen>`",
            ),
            Some(_) => {}
        }
        shape
    }

    /// The type the caller finally gets: the declared return type, or for `#[async_trait]`
    /// output the `Output` of the boxed future.
    pub(crate) fn output(&self) -> Option<&Type> {
        let ReturnType::Type(_, ty) = &self.sig.output else {
            return None;
        };
        if self.sig.asyncness.is_none() && self.async_trait_block().is_some() {
            return future_output(ty);
        }
        Some(ty)
    }

    /// The index of `Box::pin(async move { .. })` as the last statement, if the signature
    /// returns a boxed future: the marks of `#[async_trait]`'s output (tracing-attributes
    /// recognises it the same way).
    fn async_trait_block(&self) -> Option<usize> {
        let ReturnType::Type(_, ty) = &self.sig.output else {
            return None;
        };
        future_output(ty)?;
        let index = self.stmts.len().checked_sub(1)?;
        boxed_async_block(&self.stmts[index]).map(|_| index)
    }

    /// The arguments, receiver included.
    pub(crate) fn inputs(&self) -> &Punctuated<FnArg, Token![,]> {
        &self.sig.inputs
    }
}

/// The `async move` block of `Box::pin(async move { .. })`.
pub(crate) fn boxed_async_block(stmt: &Stmt) -> Option<(&ExprCall, &ExprAsync)> {
    let Stmt::Expr(Expr::Call(call), None) = stmt else {
        return None;
    };
    let Expr::Path(func) = &*call.func else {
        return None;
    };
    let segments: Vec<String> = func
        .path
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    if !segments.ends_with(&["Box".to_owned(), "pin".to_owned()]) || call.args.len() != 1 {
        return None;
    }
    match &call.args[0] {
        Expr::Async(block) if block.capture.is_some() => Some((call, block)),
        _ => None,
    }
}

/// `R` in `Pin<Box<dyn Future<Output = R> + ..>>`.
fn future_output(ty: &Type) -> Option<&Type> {
    match ty {
        Type::Path(path) => {
            let last = path.path.segments.last()?;
            let PathArguments::AngleBracketed(args) = &last.arguments else {
                return None;
            };
            args.args.iter().find_map(|arg| match arg {
                GenericArgument::Type(inner) => future_output(inner),
                _ => None,
            })
        }
        Type::TraitObject(object) => object.bounds.iter().find_map(|bound| {
            let TypeParamBound::Trait(bound) = bound else {
                return None;
            };
            let last = bound.path.segments.last()?;
            if last.ident != "Future" {
                return None;
            }
            let PathArguments::AngleBracketed(args) = &last.arguments else {
                return None;
            };
            args.args.iter().find_map(|arg| match arg {
                GenericArgument::AssocType(assoc) if assoc.ident == "Output" => Some(&assoc.ty),
                _ => None,
            })
        }),
        Type::Paren(inner) => future_output(&inner.elem),
        Type::Group(inner) => future_output(&inner.elem),
        _ => None,
    }
}

/// Whether a return type may be a `Result`: any path may name one (`io::Result<T>`, an alias),
/// and the expansion checks those by type; the other kinds of types never are.
fn could_be_result(ty: &Type) -> bool {
    match ty {
        Type::Path(path) => path.qself.is_some() || path.path.segments.last().is_some(),
        Type::Paren(inner) => could_be_result(&inner.elem),
        Type::Group(inner) => could_be_result(&inner.elem),
        Type::Macro(_) | Type::Verbatim(_) => true,
        _ => false,
    }
}

/// The pattern of a typed argument, when it is a plain name.
pub(crate) fn plain_name(pat: &Pat) -> Option<&syn::PatIdent> {
    match pat {
        Pat::Ident(ident) if ident.subpat.is_none() && ident.by_ref.is_none() => Some(ident),
        _ => None,
    }
}
