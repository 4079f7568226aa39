//! The attribute's arguments: parsed, checked against each other, every mistake kept with the
//! span of the token at fault and reported together with the others.

use crate::duration;
use proc_macro2::Span;
use syn::ext::IdentExt;
use syn::parse::{ParseStream, Parser};
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, ExprPath, Ident, Lit, LitStr, Path, Token};

/// Every key, in the order the docs give them.
const KEYS: &[&str] = &[
    "name",
    "failure_threshold",
    "success_threshold",
    "half_open_max_calls",
    "recovery_timeout",
    "fallback",
    "exclude",
    "handle",
    "crate",
];

/// `Config`'s defaults, which a key left out stands for in the checks across keys.
const DEFAULT_SUCCESS_THRESHOLD: u32 = 3;
const DEFAULT_HALF_OPEN_MAX_CALLS: u32 = 3;

/// The largest `half_open_max_calls`, as `circuit_core::config::MAX_HALF_OPEN_CALLS` (the state word
/// counts trial calls in 20 bits); a test in the root package keeps the two equal.
const MAX_HALF_OPEN_CALLS: u32 = (1 << 20) - 1;

/// A checked value and the span of the literal that gave it.
#[derive(Clone, Copy)]
pub(crate) struct Literal<T> {
    pub(crate) value: T,
    pub(crate) span: Span,
}

/// Where the inspection handle goes.
pub(crate) enum Handle {
    /// A function of this name beside the annotated one.
    Function(Ident),
    /// None at all (`handle = false`).
    Nothing,
}

/// The attribute's arguments. A key given with a wrong value is left out, so the expansion
/// can go on with the rest while the error is reported.
#[derive(Default)]
pub(crate) struct Args {
    pub(crate) name: Option<LitStr>,
    pub(crate) failure_threshold: Option<Literal<u32>>,
    pub(crate) success_threshold: Option<Literal<u32>>,
    pub(crate) half_open_max_calls: Option<Literal<u32>>,
    /// In milliseconds.
    pub(crate) recovery_timeout: Option<Literal<u64>>,
    pub(crate) fallback: Option<ExprPath>,
    pub(crate) exclude: Option<ExprPath>,
    pub(crate) handle: Option<Handle>,
    pub(crate) krate: Option<Path>,
}

/// Collects errors to report them all at once.
#[derive(Default)]
pub(crate) struct Errors(Option<syn::Error>);

impl Errors {
    pub(crate) fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(error),
            None => self.0 = Some(error),
        }
    }

    pub(crate) fn add(&mut self, span: Span, message: impl std::fmt::Display) {
        self.push(syn::Error::new(span, message));
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_none()
    }

    pub(crate) fn append(&mut self, other: Errors) {
        if let Some(error) = other.0 {
            self.push(error);
        }
    }

    /// `tokens`, followed by a `compile_error!` for each error.
    pub(crate) fn emit_with(
        self,
        mut tokens: proc_macro2::TokenStream,
    ) -> proc_macro2::TokenStream {
        if let Some(error) = self.0 {
            tokens.extend(error.into_compile_error());
        }
        tokens
    }
}

impl Args {
    /// Parses and checks the arguments. The arguments that are right come back even when
    /// others are wrong; syntax the parser cannot get past is an error on its own.
    pub(crate) fn parse(tokens: proc_macro2::TokenStream, errors: &mut Errors) -> Args {
        let mut args = Args::default();
        let parser = |input: ParseStream<'_>| args.parse_pairs(input, errors);
        if let Err(error) = parser.parse2(tokens) {
            errors.push(error);
        }
        args.check_across(errors);
        args
    }

    fn parse_pairs(&mut self, input: ParseStream<'_>, errors: &mut Errors) -> syn::Result<()> {
        let mut seen: Vec<String> = Vec::new();
        while !input.is_empty() {
            // `parse_any` so that the keyword `crate` is a key like the others.
            let key = Ident::parse_any(input)?;
            let key_text = key.unraw().to_string();
            if !input.peek(Token![=]) {
                errors.add(
                    key.span(),
                    format!(
                        "expected `=` and a value after `{key_text}`: write `{key_text} = ...`"
                    ),
                );
                // Skip to the next pair.
                while !input.is_empty() && !input.peek(Token![,]) {
                    input.parse::<proc_macro2::TokenTree>()?;
                }
            } else {
                input.parse::<Token![=]>()?;
                let value: Expr = input.parse()?;
                if seen.contains(&key_text) {
                    errors.add(
                        key.span(),
                        format!("duplicate key `{key_text}`: give each key once"),
                    );
                } else if KEYS.contains(&key_text.as_str()) {
                    seen.push(key_text.clone());
                    self.set(&key_text, value, errors);
                } else {
                    errors.add(key.span(), unknown_key(&key_text));
                }
            }
            if input.is_empty() {
                break;
            }
            input.parse::<Token![,]>()?;
        }
        Ok(())
    }

    fn set(&mut self, key: &str, value: Expr, errors: &mut Errors) {
        let result = match key {
            "name" => string(key, &value, "\"user-service\"").and_then(|lit| {
                if lit.value().is_empty() {
                    Err(syn::Error::new(
                        lit.span(),
                        "the breaker's name must not be empty: write a name like \
                         `name = \"user-service\"`, or leave `name` out to use the module path \
                         and the function's name",
                    ))
                } else {
                    self.name = Some(lit);
                    Ok(())
                }
            }),
            "failure_threshold" => {
                count(key, &value, "5").map(|n| self.failure_threshold = Some(n))
            }
            "success_threshold" => {
                count(key, &value, "3").map(|n| self.success_threshold = Some(n))
            }
            "half_open_max_calls" => count(key, &value, "3").and_then(|n| {
                if n.value > MAX_HALF_OPEN_CALLS {
                    Err(syn::Error::new(
                        n.span,
                        format!(
                            "`half_open_max_calls` must be at most {MAX_HALF_OPEN_CALLS}: write a \
                             smaller number of trial calls"
                        ),
                    ))
                } else {
                    self.half_open_max_calls = Some(n);
                    Ok(())
                }
            }),
            "recovery_timeout" => string(key, &value, "\"30s\"").and_then(|lit| {
                let millis = duration::parse_millis(&lit)?;
                self.recovery_timeout = Some(Literal {
                    value: millis,
                    span: lit.span(),
                });
                Ok(())
            }),
            "fallback" => {
                function_path(key, value, "get_user_fallback").map(|p| self.fallback = Some(p))
            }
            "exclude" => function_path(key, value, "is_not_found").map(|p| self.exclude = Some(p)),
            "handle" => handle(value).map(|h| self.handle = Some(h)),
            "crate" => string(key, &value, "\"circuit_core\"").and_then(|lit| {
                let path = lit.parse::<Path>().map_err(|_| {
                    syn::Error::new(
                        lit.span(),
                        "`crate` takes the path of circuit-core as a string: write for example \
                         `crate = \"circuit\"` for a dependency renamed to `circuit`",
                    )
                })?;
                self.krate = Some(path);
                Ok(())
            }),
            _ => unreachable!("only keys of KEYS reach here"),
        };
        if let Err(error) = result {
            errors.push(error);
        }
    }

    /// What `Config::build()` would refuse across keys, checked with the defaults standing in
    /// for keys left out.
    fn check_across(&mut self, errors: &mut Errors) {
        let success = self
            .success_threshold
            .map_or(DEFAULT_SUCCESS_THRESHOLD, |s| s.value);
        let max_calls = self
            .half_open_max_calls
            .map_or(DEFAULT_HALF_OPEN_MAX_CALLS, |s| s.value);
        if success <= max_calls {
            return;
        }
        let max_text = match self.half_open_max_calls {
            Some(_) => format!("{max_calls}"),
            None => format!("{max_calls}, the default"),
        };
        let message = format!(
            "`success_threshold` ({success}) must not exceed `half_open_max_calls` ({max_text}): \
             the breaker could never close; lower `success_threshold` or write \
             `half_open_max_calls = {success}`"
        );
        // On the key that was written: the threshold if given, else the limit that is too low.
        let span = match (self.success_threshold, self.half_open_max_calls) {
            (Some(s), _) => s.span,
            (None, Some(m)) => m.span,
            (None, None) => unreachable!("the defaults agree"),
        };
        errors.add(span, message);
        // Neither value can be trusted; expand with the defaults.
        self.success_threshold = None;
        self.half_open_max_calls = None;
    }
}

fn unknown_key(key: &str) -> String {
    let keys: Vec<String> = KEYS.iter().map(|k| format!("`{k}`")).collect();
    let (last, first) = keys.split_last().expect("KEYS is not empty");
    format!(
        "unknown key `{key}`: the keys are {}, and {last}",
        first.join(", ")
    )
}

fn string(key: &str, value: &Expr, example: &str) -> syn::Result<LitStr> {
    match value {
        Expr::Lit(ExprLit {
            lit: Lit::Str(lit), ..
        }) => Ok(lit.clone()),
        _ => Err(syn::Error::new(
            value.span(),
            format!("`{key}` takes a string: write `{key} = {example}`"),
        )),
    }
}

fn count(key: &str, value: &Expr, example: &str) -> syn::Result<Literal<u32>> {
    let wrong_type = || {
        syn::Error::new(
            value.span(),
            format!("`{key}` takes a whole number of at least 1: write `{key} = {example}`"),
        )
    };
    let Expr::Lit(ExprLit {
        lit: Lit::Int(lit), ..
    }) = value
    else {
        return Err(wrong_type());
    };
    if !matches!(lit.suffix(), "" | "u32") {
        return Err(wrong_type());
    }
    let n: u32 = lit.base10_parse().map_err(|_| {
        syn::Error::new(
            lit.span(),
            format!(
                "`{key}` must fit in a `u32`: write a smaller number, like `{key} = {example}`"
            ),
        )
    })?;
    if n == 0 {
        return Err(syn::Error::new(
            lit.span(),
            format!("`{key}` must be at least 1: write for example `{key} = {example}`"),
        ));
    }
    Ok(Literal {
        value: n,
        span: lit.span(),
    })
}

fn function_path(key: &str, value: Expr, example: &str) -> syn::Result<ExprPath> {
    match value {
        Expr::Path(path) if path.attrs.is_empty() => Ok(path),
        Expr::Lit(ExprLit {
            lit: Lit::Str(lit), ..
        }) => Err(syn::Error::new(
            lit.span(),
            format!(
                "`{key}` takes the path of a function, not a string: write `{key} = {}`",
                lit.value()
            ),
        )),
        other => Err(syn::Error::new(
            other.span(),
            format!("`{key}` takes the path of a function: write for example `{key} = {example}`"),
        )),
    }
}

fn handle(value: Expr) -> syn::Result<Handle> {
    match value {
        Expr::Path(path) if path.qself.is_none() && path.path.get_ident().is_some() => {
            let ident = path.path.get_ident().expect("checked above").clone();
            Ok(Handle::Function(ident))
        }
        Expr::Lit(ExprLit {
            lit: Lit::Bool(b), ..
        }) if !b.value => Ok(Handle::Nothing),
        other => Err(syn::Error::new(
            other.span(),
            "`handle` takes the name of the function to add, or `false` for none: write for \
             example `handle = get_user_breaker`",
        )),
    }
}
