//! The literals of the trip-policy keys: a ratio (`failure_rate_threshold = 0.5`), a sliding
//! window (`sliding_window = "100 calls"` or `"60s"`) and a backoff
//! (`backoff = "exponential(2, 5m)"`), read in the forms of `grammar.rs` and checked at compile
//! time against the table's ranges; and a yes or no (`record_call_durations = true`).

use crate::args::Literal;
use crate::grammar::{bool_meant, parse_backoff, parse_ratio, parse_window, FormError};
use crate::table::{Setting, Value};
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, ExprUnary, Lit, LitStr, UnOp};

/// An example of the setting's value, for messages: `0.5`, `0.2` for `jitter`.
fn ratio_example(setting: Setting) -> &'static str {
    match setting {
        Setting::Jitter => "0.2",
        _ => "0.5",
    }
}

/// A ratio: a float or integer literal (`0.5`, `1`), checked against the setting's range. A
/// negative one is read so that the message can say what the range is.
pub(crate) fn ratio(setting: Setting, value: &Expr) -> syn::Result<Literal<Value>> {
    let key = setting.name();
    let example = ratio_example(setting);
    let wrong_type = || {
        syn::Error::new_spanned(
            value,
            format!("`{key}` takes a ratio, a number like {example}: write `{key} = {example}`"),
        )
    };
    let (negative, lit) = match value {
        Expr::Lit(ExprLit { lit, .. }) => (false, lit),
        Expr::Unary(ExprUnary {
            op: UnOp::Neg(_),
            expr,
            ..
        }) => match &**expr {
            Expr::Lit(ExprLit { lit, .. }) => (true, lit),
            _ => return Err(wrong_type()),
        },
        _ => return Err(wrong_type()),
    };
    let number: f64 = match lit {
        Lit::Float(f) if matches!(f.suffix(), "" | "f64") => f.base10_parse()?,
        Lit::Int(i) if matches!(i.suffix(), "" | "f64") => i.base10_parse()?,
        Lit::Str(s) => {
            // A percentage or a number in a string: say which literal to write.
            let instead = match parse_ratio(&s.value()) {
                Ok(r) => format!("{r}"),
                Err(FormError::Percent(r)) => r.to_string(),
                Err(_) => example.to_owned(),
            };
            return Err(syn::Error::new(
                s.span(),
                format!("`{key}` takes a number, not a string: write `{key} = {instead}`"),
            ));
        }
        _ => return Err(wrong_type()),
    };
    let ratio = if negative { -number } else { number };
    if setting.refusal(Value::Ratio(ratio)).is_some() {
        // As written: `1.50` stays `1.50`.
        let literal = lit.to_token_stream().to_string();
        let written = if negative {
            format!("-{literal}")
        } else {
            literal
        };
        // On the whole expression: `-0.5`, not its `-` alone.
        return Err(syn::Error::new_spanned(
            value,
            format!(
                "`{key}` must {}, not {written}: write for example `{key} = {example}`",
                setting.expected(Value::Ratio(ratio))
            ),
        ));
    }
    Ok(Literal {
        value: Value::Ratio(ratio),
        span: value.span(),
    })
}

/// A sliding window: `"100 calls"` or a duration such as `"60s"`.
pub(crate) fn window(setting: Setting, lit: &LitStr) -> syn::Result<Literal<Value>> {
    let key = setting.name();
    let text = lit.value();
    let error = |message: String| syn::Error::new(lit.span(), message);
    let window = parse_window(&text).map_err(|e| match e {
        FormError::TooLong => error(format!(
            "`{key}` must be at most 4294967295 calls or 365 days, not {text:?}: write a \
             smaller one, like \"100 calls\""
        )),
        _ if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) => error(format!(
            "`{key}` is a number of calls or a duration, not a bare number: write \
             \"{text} calls\" or \"{text}s\""
        )),
        _ => error(format!(
            "`{key}` is a number of calls or a duration with one unit of `ms`, `s`, `m` or `h`, \
             not {text:?}: write for example \"100 calls\" or \"60s\""
        )),
    })?;
    let value = Value::Window(window);
    if setting.refusal(value).is_some() {
        return Err(error(format!(
            "`{key}` must {}, not {text:?}: write for example \"100 calls\" or \"60s\"",
            setting.expected(value)
        )));
    }
    Ok(Literal {
        value,
        span: lit.span(),
    })
}

/// A backoff: `"constant"` or `"exponential(2, 5m)"`.
pub(crate) fn backoff(setting: Setting, lit: &LitStr) -> syn::Result<Literal<Value>> {
    let key = setting.name();
    let text = lit.value();
    let error = |message: String| syn::Error::new(lit.span(), message);
    let growth = parse_backoff(&text).map_err(|e| match e {
        FormError::TooLong => error(format!(
            "`{key}`'s longest period must be at most 365 days, not {text:?}: write a shorter \
             one, like \"exponential(2, 5m)\""
        )),
        _ => error(format!(
            "`{key}` is \"constant\" or \"exponential(M, MAX)\", the multiplier then the longest \
             period, not {text:?}: write for example \"exponential(2, 5m)\""
        )),
    })?;
    let value = Value::Backoff(growth);
    if setting.refusal(value).is_some() {
        return Err(error(format!(
            "`{key}` must {}, not {text:?}: write for example \"exponential(2, 5m)\"",
            setting.expected(value)
        )));
    }
    Ok(Literal {
        value,
        span: lit.span(),
    })
}

/// A yes or no: the literal `true` or `false`. A string or a number is refused with the
/// literal it most likely meant (`"true"`, `1`: write `true`).
pub(crate) fn boolean(setting: Setting, value: &Expr) -> syn::Result<Literal<Value>> {
    let key = setting.name();
    let lit = match value {
        Expr::Lit(ExprLit { lit, .. }) => lit,
        other => {
            return Err(syn::Error::new_spanned(
                other,
                format!("`{key}` takes `true` or `false`: write `{key} = true`"),
            ))
        }
    };
    let meant = match lit {
        Lit::Bool(b) => {
            return Ok(Literal {
                value: Value::Bool(b.value),
                span: b.span(),
            })
        }
        Lit::Str(s) => bool_meant(&s.value()),
        Lit::Int(i) => bool_meant(i.base10_digits()),
        _ => None,
    };
    let instead = meant.unwrap_or(true);
    Err(syn::Error::new(
        lit.span(),
        format!(
            "`{key}` takes `true` or `false`, not {}: write `{key} = {instead}`",
            lit.to_token_stream()
        ),
    ))
}
