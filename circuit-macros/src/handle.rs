//! The breaker's side of the expansion: its declaration (submitted at link time so the
//! registry lists it from program start), the static that holds its `Arc` once resolved, and
//! the inspection handle beside the function.

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

    /// A block that evaluates to the breaker's `&'static Arc`, resolved on first use. The
    /// static sits inside the block, out of reach of the function's own code.
    fn resolve_once(&self, in_module: bool) -> TokenStream {
        let krate = self.krate;
        let declaration = self.declaration(in_module);
        let cell = Ident::new("__CIRCUIT_BREAKER", Span::mixed_site());
        quote! {{
            static #cell: ::std::sync::OnceLock<::std::sync::Arc<#krate::CircuitBreaker>> =
                ::std::sync::OnceLock::new();
            #cell.get_or_init(|| #krate::__private::resolve(&#declaration))
        }}
    }

    /// Statements for the top of the function's body (the declaration, when it lives there).
    pub(crate) fn body_items(&self) -> TokenStream {
        match self.place {
            Place::Module => TokenStream::new(),
            Place::Body { .. } => self.submit(false),
        }
    }

    /// The expression that gives the function's body its `&'static Arc<CircuitBreaker>`.
    pub(crate) fn expr(&self) -> TokenStream {
        match &self.place {
            Place::Module => {
                let ident = &self.function.sig.ident;
                quote!(#ident::breaker())
            }
            Place::Body { .. } => self.resolve_once(false),
        }
    }

    /// The items beside the function: the handle module or function, if any.
    pub(crate) fn beside(&self) -> TokenStream {
        let krate = self.krate;
        let function = self.function;
        let vis = &function.vis;
        let ident = &function.sig.ident;
        // A handle exists exactly when its function does.
        let cfgs = function
            .attrs
            .iter()
            .filter(|a| a.path().is_ident("cfg") || a.path().is_ident("cfg_attr"));
        let cfgs: Vec<_> = cfgs.collect();
        let returns = quote!(&'static ::std::sync::Arc<#krate::CircuitBreaker>);
        match &self.place {
            Place::Module => {
                let module_doc = format!("The circuit breaker of the function `{ident}`.");
                let fn_doc = format!(
                    "The circuit breaker that every call of `{ident}` goes through, from the \
                     process-wide registry."
                );
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
                        pub fn breaker() -> #returns {
                            #resolve
                        }
                        #submit
                    }
                }
            }
            Place::Body {
                handle: Some(handle),
            } => {
                let doc = format!(
                    "The circuit breaker that every call of `{ident}` goes through, from the \
                     process-wide registry."
                );
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
