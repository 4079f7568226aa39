//! `recovery_timeout = "30s"`: an integer with one unit, checked at compile time.

use syn::LitStr;

/// The longest timeout accepted, as in `circuit_core::config::MAX_RECOVERY_TIMEOUT` (365 days): the
/// attribute refuses at compile time what `Config::build()` would refuse at run time.
const MAX_MILLIS: u64 = 365 * 24 * 60 * 60 * 1000;

/// Parses `"250ms"`, `"30s"`, `"5m"` or `"1h"` into milliseconds.
pub(crate) fn parse_millis(lit: &LitStr) -> syn::Result<u64> {
    let text = lit.value();
    let digits_end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(digits_end);
    let malformed = || {
        syn::Error::new(
            lit.span(),
            format!(
                "`recovery_timeout` is an integer with one unit of `ms`, `s`, `m` or `h`, \
                 not {text:?}: write for example \"30s\" or \"500ms\""
            ),
        )
    };
    let millis_per_unit = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        _ => return Err(malformed()),
    };
    if digits.is_empty() {
        return Err(malformed());
    }
    let too_long = || {
        syn::Error::new(
            lit.span(),
            format!(
                "`recovery_timeout` must be at most 365 days, not {text:?}: write a shorter one"
            ),
        )
    };
    let count: u64 = digits.parse().map_err(|_| too_long())?;
    let millis = count.checked_mul(millis_per_unit).ok_or_else(too_long)?;
    if millis == 0 {
        return Err(syn::Error::new(
            lit.span(),
            format!("`recovery_timeout` must be longer than zero, not {text:?}: write for example \"30s\""),
        ));
    }
    if millis > MAX_MILLIS {
        return Err(too_long());
    }
    Ok(millis)
}

#[cfg(test)]
mod tests {
    use super::parse_millis;
    use proc_macro2::Span;
    use syn::LitStr;

    fn millis(text: &str) -> Result<u64, String> {
        parse_millis(&LitStr::new(text, Span::call_site())).map_err(|e| e.to_string())
    }

    #[test]
    fn each_unit() {
        assert_eq!(millis("250ms"), Ok(250));
        assert_eq!(millis("30s"), Ok(30_000));
        assert_eq!(millis("5m"), Ok(300_000));
        assert_eq!(millis("2h"), Ok(7_200_000));
        assert_eq!(millis("8760h"), Ok(super::MAX_MILLIS));
    }

    #[test]
    fn refused() {
        for text in [
            "", "30", "s", "30 s", "30sec", "1.5s", "-1s", "30s5", "1h30m", "0s", "8761h",
        ] {
            assert!(millis(text).is_err(), "{text:?} was accepted");
        }
        assert!(millis("99999999999999999999h")
            .unwrap_err()
            .contains("365 days"));
        assert!(millis("0ms").unwrap_err().contains("longer than zero"));
    }
}
