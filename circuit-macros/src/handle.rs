//! The breaker's side of the expansion: its declaration (submitted at link time so the
//! registry lists it from program start), the static that holds its `Arc` once resolved, and
//! the inspection handle beside the function. With `key = ...` all three are about the set of
//! per-key breakers instead: the declaration carries the set's bounds, the static holds the
//! `Arc<KeyedBreakers>`, and the handle returns it (`breakers()` rather than `breaker()`, so
//! that code asking a keyed function for its one breaker does not compile).

use crate::args::{Args, Handle};
use crate::function::Function;
use crate::table::{Growth, Setting, SlidingWindow, Value};
use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned, ToTokens};
use syn::ext::IdentExt;
use syn::Ident;

/// Where the annotated function's breaker is reached from.
pub(crate) enum Place {
    /// `mod <fn name> { pub fn breaker() }` beside a free function, which also holds the
    /// declaration; the function calls `<fn name>::breaker()`.
    Module,
    /// A static in the function's own body (methods; or a handle function beside it, which
    /// keeps a static of its own: both resolve the same name once).
    Body { handle: Option<Ident> },
}

impl Place {
    /// A module is the default handle where one can be written: beside a function that is not
    /// in an `impl` or a trait. A receiver, or `Self` anywhere in the signature, proves the
    /// function is an associated one, where no module can go.
    pub(crate) fn choose(args: &Args, function: &Function) -> Place {
        match &args.handle {
            Some(Handle::Function(ident)) => Place::Body {
                handle: Some(ident.clone()),
            },
            Some(Handle::Nothing) => Place::Body { handle: None },
            None if function.sig.receiver().is_some() || mentions_self(&function.sig) => {
                Place::Body { handle: None }
            }
            None => Place::Module,
        }
    }
}

fn mentions_self(sig: &syn::Signature) -> bool {
    fn walk(tokens: TokenStream) -> bool {
        tokens.into_iter().any(|tree| match tree {
            proc_macro2::TokenTree::Ident(ident) => ident == "Self",
            proc_macro2::TokenTree::Group(group) => walk(group.stream()),
            _ => false,
        })
    }
    walk(sig.to_token_stream())
}

/// Generates the breaker's items and the expression the function's body reads it with.
pub(crate) struct Breaker<'a> {
    pub(crate) args: &'a Args,
    pub(crate) function: &'a Function,
    pub(crate) krate: &'a TokenStream,
    pub(crate) place: Place,
}

impl Breaker<'_> {
    /// Whether the function has a breaker per key: a set rather than a breaker.
    fn is_keyed(&self) -> bool {
        self.args.key.is_some()
    }

    /// The type the static and the handle hold: `Arc<CircuitBreaker>`, or `Arc<KeyedBreakers>`.
    fn held_type(&self) -> TokenStream {
        let krate = self.krate;
        if self.is_keyed() {
            quote!(::std::sync::Arc<#krate::KeyedBreakers>)
        } else {
            quote!(::std::sync::Arc<#krate::CircuitBreaker>)
        }
    }

    /// `Declaration::keyed`: the set's bounds as given, the defaults standing in for those left
    /// out; `None` without a `key`.
    fn keyed_limits(&self) -> TokenStream {
        if !self.is_keyed() {
            return quote!(::core::option::Option::None);
        }
        let krate = self.krate;
        let limits_type = quote!(#krate::__private::KeyedLimits);
        let max = match &self.args.max_keys {
            // As an unsuffixed literal: the parameter is a `usize`.
            Some(n) => proc_macro2::Literal::u32_unsuffixed(n.value).into_token_stream(),
            None => quote!(#limits_type::DEFAULT.max_breakers()),
        };
        let idle = match &self.args.key_idle_timeout {
            Some(d) => millis(d.value),
            None => quote!(#limits_type::DEFAULT.idle_timeout()),
        };
        quote!(::core::option::Option::Some(#limits_type::new(#max, #idle)))
    }

    /// The `Declaration` literal. `in_module`: written inside the handle module, whose own
    /// path is already the default name (the module is named after the function).
    fn declaration(&self, in_module: bool) -> TokenStream {
        let krate = self.krate;
        let ident = &self.function.sig.ident;
        let name = match &self.args.name {
            Some(name) => name.to_token_stream(),
            None if in_module => quote!(::core::module_path!()),
            None => {
                let fn_name = ident.unraw().to_string();
                quote!(::core::concat!(::core::module_path!(), "::", #fn_name))
            }
        };
        let default_name = self.args.name.is_none();
        let settings = self.settings();
        let keyed = self.keyed_limits();
        // The location macros read the span they are called with: the function's name.
        let at = ident.span();
        let file = quote_spanned!(at=> ::core::file!());
        let line = quote_spanned!(at=> ::core::line!());
        let column = quote_spanned!(at=> ::core::column!());
        quote! {
            #krate::__private::Declaration {
                name: #name,
                default_name: #default_name,
                settings: #settings,
                file: #file,
                line: #line,
                column: #column,
                keyed: #keyed,
            }
        }
    }

    /// The settings the attribute gave, as `(Setting, Value)` pairs in the table's order. In
    /// a `const` block: the slice must be `'static` where the declaration is built at run
    /// time too (`resolve_once`), and `Duration::from_millis` would not be promoted there.
    fn settings(&self) -> TokenStream {
        let krate = self.krate;
        let pairs = Setting::ALL.into_iter().filter_map(|setting| {
            let literal = self.args.setting(setting)?;
            // The variant's name, as `Debug` writes a unit variant.
            let variant = Ident::new(&format!("{setting:?}"), Span::call_site());
            let private = quote!(#krate::__private);
            let value = match literal.value {
                Value::Count(n) => quote!(Count(#n)),
                Value::Duration(d) => {
                    let d = millis(d);
                    quote!(Duration(#d))
                }
                Value::Ratio(r) => quote!(Ratio(#r)),
                Value::Window(SlidingWindow::Count(n)) => {
                    quote!(Window(#private::SlidingWindow::Count(#n)))
                }
                Value::Window(SlidingWindow::Time(d)) => {
                    let d = millis(d);
                    quote!(Window(#private::SlidingWindow::Time(#d)))
                }
                Value::Backoff(Growth::Constant) => quote!(Backoff(#private::Growth::Constant)),
                Value::Bool(b) => quote!(Bool(#b)),
                Value::Backoff(Growth::Exponential { multiplier, max }) => {
                    let max = millis(max);
                    quote!(Backoff(#private::Growth::Exponential {
                        multiplier: #multiplier,
                        max: #max,
                    }))
                }
            };
            Some(quote!((#krate::__private::Setting::#variant, #krate::__private::Value::#value)))
        });
        quote!(const { &[#(#pairs),*] })
    }

    fn submit(&self, in_module: bool) -> TokenStream {
        let krate = self.krate;
        let declaration = self.declaration(in_module);
        quote!(#krate::__private::inventory::submit! { #declaration })
    }

    /// A block that evaluates to the breaker's (or keyed set's) `&'static Arc`, resolved on
    /// first use. The static sits inside the block, out of reach of the function's own code.
    fn resolve_once(&self, in_module: bool) -> TokenStream {
        let krate = self.krate;
        let declaration = self.declaration(in_module);
        let cell = Ident::new("__CIRCUIT_BREAKER", Span::mixed_site());
        let held = self.held_type();
        let resolve = if self.is_keyed() {
            quote!(resolve_keyed)
        } else {
            quote!(resolve)
        };
        quote! {{
            static #cell: ::std::sync::OnceLock<#held> = ::std::sync::OnceLock::new();
            #cell.get_or_init(|| #krate::__private::#resolve(&#declaration))
        }}
    }

    /// Statements for the top of the function's body (the declaration, when it lives there).
    pub(crate) fn body_items(&self) -> TokenStream {
        match self.place {
            Place::Module => TokenStream::new(),
            Place::Body { .. } => self.submit(false),
        }
    }

    /// The expression that gives the function's body its `&'static Arc<CircuitBreaker>`, or
    /// with a `key` its `&'static Arc<KeyedBreakers>`.
    pub(crate) fn expr(&self) -> TokenStream {
        match &self.place {
            Place::Module => {
                let ident = &self.function.sig.ident;
                let handle = self.module_handle();
                quote!(#ident::#handle())
            }
            Place::Body { .. } => self.resolve_once(false),
        }
    }

    /// The name of the function in the handle module.
    fn module_handle(&self) -> Ident {
        let name = if self.is_keyed() {
            "breakers"
        } else {
            "breaker"
        };
        Ident::new(name, Span::call_site())
    }

    /// The docs of the handle function.
    fn handle_doc(&self) -> String {
        let ident = &self.function.sig.ident;
        if self.is_keyed() {
            format!(
                "The set of per-key breakers that the calls of `{ident}` go through, one breaker \
                 per key, from the process-wide registry: `len()`, `peek(key)`, `snapshots()`."
            )
        } else {
            format!(
                "The circuit breaker that every call of `{ident}` goes through, from the \
                 process-wide registry."
            )
        }
    }

    /// The items beside the function: the handle module or function, if any.
    pub(crate) fn beside(&self) -> TokenStream {
        let function = self.function;
        let vis = &function.vis;
        let ident = &function.sig.ident;
        // A handle exists exactly when its function does.
        let cfgs = function
            .attrs
            .iter()
            .filter(|a| a.path().is_ident("cfg") || a.path().is_ident("cfg_attr"));
        let cfgs: Vec<_> = cfgs.collect();
        let held = self.held_type();
        let returns = quote!(&'static #held);
        match &self.place {
            Place::Module => {
                let module_doc = if self.is_keyed() {
                    format!("The circuit breakers, one per key, of the function `{ident}`.")
                } else {
                    format!("The circuit breaker of the function `{ident}`.")
                };
                let fn_doc = self.handle_doc();
                let handle = self.module_handle();
                let resolve = self.resolve_once(true);
                let submit = self.submit(true);
                quote! {
                    #(#cfgs)*
                    #[doc = #module_doc]
                    #[allow(non_snake_case)]
                    #vis mod #ident {
                        #[doc = #fn_doc]
                        #[inline]
                        #[allow(unreachable_pub)]
                        pub fn #handle() -> #returns {
                            #resolve
                        }
                        #submit
                    }
                }
            }
            Place::Body {
                handle: Some(handle),
            } => {
                let doc = self.handle_doc();
                let resolve = self.resolve_once(false);
                quote! {
                    #(#cfgs)*
                    #[doc = #doc]
                    #[inline]
                    #vis fn #handle() -> #returns {
                        #resolve
                    }
                }
            }
            Place::Body { handle: None } => TokenStream::new(),
        }
    }
}

/// `Duration::from_millis(..)` of `d`: whole milliseconds, for the grammar has no finer unit.
fn millis(d: std::time::Duration) -> TokenStream {
    let millis = u64::try_from(d.as_millis()).expect("the grammar reads a u64 of milliseconds");
    quote!(::core::time::Duration::from_millis(#millis))
}
