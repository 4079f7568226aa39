//! The attribute's arguments: parsed, checked against each other, every mistake kept with the
//! span of the token at fault and reported together with the others.

use crate::duration;
use crate::forms;
use crate::table::{Kind, Refusal, Setting, Value};
use proc_macro2::Span;
use syn::ext::IdentExt;
use syn::parse::{ParseStream, Parser};
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, ExprPath, Ident, Lit, LitStr, Path, Token};

/// Every key, in the order the docs give them: the name and the per-key keys, the settings of
/// the table, then the keys of the expansion itself.
fn keys() -> Vec<&'static str> {
    let settings = Setting::ALL.into_iter().map(Setting::name);
    ["name", "key", "max_keys", "key_idle_timeout"]
        .into_iter()
        .chain(settings)
        .chain([
            "fallback", "exclude", "ignore", "classify", "handle", "crate",
        ])
        .collect()
}

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
    /// `key = expr`: a breaker per key (see `keyed.rs`), and the bounds of its set.
    pub(crate) key: Option<Expr>,
    pub(crate) max_keys: Option<Literal<u32>>,
    pub(crate) key_idle_timeout: Option<Literal<std::time::Duration>>,
    /// The settings given, by `Setting::index`.
    pub(crate) settings: [Option<Literal<Value>>; Setting::COUNT],
    pub(crate) fallback: Option<ExprPath>,
    /// `exclude`, `ignore` and `classify`: a path or a closure (see [`predicate`]).
    pub(crate) exclude: Option<Expr>,
    pub(crate) ignore: Option<Expr>,
    pub(crate) classify: Option<Expr>,
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
        let keys = keys();
        let mut seen: Vec<String> = Vec::new();
        while !input.is_empty() {
            if !input.peek(Ident::peek_any) {
                self.not_a_key(input, errors)?;
                continue;
            }
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
                } else if keys.contains(&key_text.as_str()) {
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

    /// Something other than a key where a key goes: a name given without `name =`
    /// (`#[circuit_breaker("user-service")]`), or a value without its key. Reported, and
    /// skipped to the next pair.
    fn not_a_key(&mut self, input: ParseStream<'_>, errors: &mut Errors) -> syn::Result<()> {
        if input.peek(LitStr) {
            let lit: LitStr = input.parse()?;
            let written = lit.token().to_string();
            errors.add(
                lit.span(),
                format!("the breaker's name is given with its key: write `name = {written}`"),
            );
        } else {
            errors.add(
                input.span(),
                "expected a key and its value here: write `key = value`, like \
                 `failure_threshold = 3`",
            );
        }
        while !input.is_empty() && !input.peek(Token![,]) {
            input.parse::<proc_macro2::TokenTree>()?;
        }
        if !input.is_empty() {
            input.parse::<Token![,]>()?;
        }
        Ok(())
    }

    fn set(&mut self, key: &str, value: Expr, errors: &mut Errors) {
        if let Some(setting) = Setting::from_name(key) {
            match setting_literal(setting, &value) {
                Ok(literal) => self.settings[setting.index()] = Some(literal),
                Err(error) => errors.push(error),
            }
            return;
        }
        let result = match key {
            "name" => string(key, &value, "\"user-service\"").and_then(|lit| {
                check_name(&lit.value()).map_err(|why| syn::Error::new(lit.span(), why))?;
                self.name = Some(lit);
                Ok(())
            }),
            "key" => crate::keyed::key(value).map(|k| self.key = Some(k)),
            "max_keys" => crate::keyed::max_keys(&value).map(|n| self.max_keys = Some(n)),
            "key_idle_timeout" => string(key, &value, "\"10m\"")
                .and_then(|lit| crate::keyed::idle_timeout(&lit))
                .map(|d| self.key_idle_timeout = Some(d)),
            "fallback" => {
                function_path(key, value, "get_user_fallback").map(|p| self.fallback = Some(p))
            }
            "exclude" => predicate(key, value, "is_not_found").map(|p| self.exclude = Some(p)),
            "ignore" => predicate(key, value, "is_cancelled").map(|p| self.ignore = Some(p)),
            "classify" => predicate(key, value, "classify_error").map(|p| self.classify = Some(p)),
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
            _ => unreachable!("only keys of keys() reach here"),
        };
        if let Err(error) = result {
            errors.push(error);
        }
    }

    /// The value given for `setting`, if any.
    pub(crate) fn setting(&self, setting: Setting) -> Option<Literal<Value>> {
        self.settings[setting.index()]
    }

    /// The value given for `setting`, or its default (`None`: not configured).
    fn value_or_default(&self, setting: Setting) -> Option<Value> {
        self.setting(setting)
            .map(|l| l.value)
            .or(setting.default_value())
    }

    /// A count given for `setting`, or its default.
    fn count_or_default(&self, setting: Setting) -> u32 {
        match self.value_or_default(setting) {
            Some(Value::Count(n)) => n,
            _ => unreachable!("{} is a count with a default", setting.name()),
        }
    }

    /// What `Config::build()` would refuse across keys (`config/rules.rs`, in the same
    /// order), checked with the defaults standing in for keys left out; and `ignore` and
    /// `exclude` naming one function.
    fn check_across(&mut self, errors: &mut Errors) {
        self.check_success_threshold(errors);
        crate::across::check(self, errors);
        crate::keyed::check(self, errors);
    }

    /// `success_threshold` above `half_open_max_calls`.
    fn check_success_threshold(&mut self, errors: &mut Errors) {
        let (threshold, limit) = (Setting::SuccessThreshold, Setting::HalfOpenMaxCalls);
        let success = self.count_or_default(threshold);
        let max_calls = self.count_or_default(limit);
        if success <= max_calls {
            return;
        }
        let max_text = match self.setting(limit) {
            Some(_) => format!("{max_calls}"),
            None => format!("{max_calls}, the default"),
        };
        let message = format!(
            "`success_threshold` ({success}) must not exceed `half_open_max_calls` ({max_text}): \
             the breaker could never close; lower `success_threshold` or write \
             `half_open_max_calls = {success}`"
        );
        // On the key that was written: the threshold if given, else the limit that is too low.
        let span = match (self.setting(threshold), self.setting(limit)) {
            (Some(s), _) => s.span,
            (None, Some(m)) => m.span,
            (None, None) => unreachable!("the defaults agree"),
        };
        errors.add(span, message);
        // Neither value can be trusted; expand with the defaults.
        self.settings[threshold.index()] = None;
        self.settings[limit.index()] = None;
    }
}

/// Refuses a name no configuration source could reach, or that reads as a mistake. A
/// breaker's environment variables are spelled from the ASCII letters and digits of its name
/// (`user-service` reads `CIRCUIT_USER_SERVICE_*`), so a name needs one; a control character
/// (a NUL, a newline) cannot be written in a variable's value, a file's key or a log line as
/// it is; and whitespace around a name makes a second breaker that looks like the first.
fn check_name(name: &str) -> Result<(), String> {
    let instead = "write a name like `name = \"user-service\"`, or leave `name` out to use the \
                   module path and the function's name";
    if name.is_empty() {
        return Err(format!("the breaker's name must not be empty: {instead}"));
    }
    if let Some(c) = name.chars().find(|c| c.is_control()) {
        return Err(format!(
            "the breaker's name must not contain the control character {:?}: configuration \
             files, logs and metrics cannot show it as written; {instead}",
            c
        ));
    }
    if !name.chars().any(|c| c.is_ascii_alphanumeric()) {
        return Err(format!(
            "the breaker's name has no ASCII letter or digit, so no environment variable can \
             configure it (`CIRCUIT_<NAME>_*` is spelled from them): {instead}"
        ));
    }
    let trimmed = name.trim();
    if trimmed != name {
        return Err(format!(
            "the breaker's name must not start or end with whitespace: write `name = {:?}`",
            trimmed
        ));
    }
    Ok(())
}

/// The literal given for `setting`, read as its kind and checked against the table's limits.
fn setting_literal(setting: Setting, value: &Expr) -> syn::Result<Literal<Value>> {
    let key = setting.name();
    match setting.kind() {
        Kind::Count => {
            // The default makes the example of every message.
            let example = match setting.default_value() {
                Some(default) => count_text(default),
                None => "20".to_owned(),
            };
            let n = count(key, value, &example)?;
            let refused = match setting.refusal(Value::Count(n.value)) {
                None => {
                    return Ok(Literal {
                        value: Value::Count(n.value),
                        span: n.span,
                    })
                }
                Some(Refusal::Zero) => {
                    format!("`{key}` must be at least 1: write for example `{key} = {example}`")
                }
                Some(Refusal::TooLarge { max }) => format!(
                    "`{key}` must be at most {}: write a smaller number, like `{key} = {example}`",
                    count_text(max)
                ),
                Some(Refusal::WrongKind | Refusal::OutOfRange) => {
                    unreachable!("a count is read as one, and has no range of its own")
                }
            };
            Err(syn::Error::new(n.span, refused))
        }
        Kind::Duration => {
            let lit = string(key, value, "\"30s\"")?;
            let d = duration::parse(setting, &lit)?;
            Ok(Literal {
                value: Value::Duration(d),
                span: lit.span(),
            })
        }
        Kind::Ratio => forms::ratio(setting, value),
        Kind::Window => {
            let lit = string(key, value, "\"100 calls\"")?;
            forms::window(setting, &lit)
        }
        Kind::Backoff => {
            let lit = string(key, value, "\"exponential(2, 5m)\"")?;
            forms::backoff(setting, &lit)
        }
        Kind::Bool => forms::boolean(setting, value),
    }
}

/// A count as its literal (`5`), for messages.
fn count_text(value: Value) -> String {
    match value {
        Value::Count(n) => n.to_string(),
        _ => unreachable!("only counts are written as literals"),
    }
}

fn unknown_key(key: &str) -> String {
    let keys: Vec<String> = keys().iter().map(|k| format!("`{k}`")).collect();
    let (last, first) = keys.split_last().expect("there are keys");
    format!(
        "unknown key `{key}`: the keys are {}, and {last}",
        first.join(", ")
    )
}

pub(crate) fn string(key: &str, value: &Expr, example: &str) -> syn::Result<LitStr> {
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

/// A whole number for `key`, as a `u32` literal (unsuffixed or `u32`); its limits are the
/// caller's to check.
pub(crate) fn count(key: &str, value: &Expr, example: &str) -> syn::Result<Literal<u32>> {
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

/// A predicate or classifier: the path of a function, or a closure (which rustc's own help
/// proposes when a function's signature does not fit). Either is passed as it is to a runtime
/// function that names the argument's type, so a closure's argument needs no annotation.
fn predicate(key: &str, value: Expr, example: &str) -> syn::Result<Expr> {
    match value {
        Expr::Closure(closure) if closure.attrs.is_empty() => Ok(Expr::Closure(closure)),
        Expr::Lit(ExprLit {
            lit: Lit::Str(lit), ..
        }) => Err(syn::Error::new(
            lit.span(),
            format!(
                "`{key}` takes the path of a function or a closure, not a string: write \
                 `{key} = {}`",
                lit.value()
            ),
        )),
        Expr::Path(path) if path.attrs.is_empty() => Ok(Expr::Path(path)),
        other => Err(syn::Error::new(
            other.span(),
            format!(
                "`{key}` takes the path of a function or a closure: write for example \
                 `{key} = {example}` or `{key} = |error| ...`"
            ),
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
