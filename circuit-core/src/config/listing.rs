//! Lists in error messages, bounded: a message names at most a few items of a list and says how
//! many it left out, so its size does not grow with the configuration it is about (a file with
//! thousands of sections, each instance of which names a missing one, must not give an error
//! that lists every section for every instance).

use std::fmt::{self, Display, Write};

/// How many items of one list a message names.
pub(crate) const ITEMS_SHOWN: usize = 8;

/// How many problems an error's `Display` writes out; all of them stay in its `problems()`.
pub(crate) const PROBLEMS_SHOWN: usize = 50;

/// `items` in backquotes, joined with `, `: at most [`ITEMS_SHOWN`] of them, then
/// `and N more` for the rest. `total` is how many `items` yields.
pub(crate) fn quoted<I>(items: I, total: usize) -> String
where
    I: IntoIterator,
    I::Item: Display,
{
    let mut text = String::new();
    for (i, item) in items.into_iter().take(ITEMS_SHOWN).enumerate() {
        if i > 0 {
            text.push_str(", ");
        }
        // Writing to a `String` cannot fail.
        let _ = write!(text, "`{item}`");
    }
    if total > ITEMS_SHOWN {
        let _ = write!(text, " and {} more", total - ITEMS_SHOWN);
    }
    text
}

/// Writes `problems` one a line, indented: at most [`PROBLEMS_SHOWN`] of them, then a line
/// saying how many more there are and where to find them.
pub(crate) fn write_problems<P: Display>(
    f: &mut fmt::Formatter<'_>,
    problems: &[P],
    kind: &str,
) -> fmt::Result {
    for p in problems.iter().take(PROBLEMS_SHOWN) {
        write!(f, "\n  {p}")?;
    }
    if problems.len() > PROBLEMS_SHOWN {
        write!(
            f,
            "\n  and {} more (the first {PROBLEMS_SHOWN} are shown; `{kind}::problems()` has \
             them all)",
            problems.len() - PROBLEMS_SHOWN
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_list_is_written_whole_and_a_long_one_says_how_many_it_left_out() {
        assert_eq!(quoted(["a"], 1), "`a`");
        assert_eq!(quoted(["a", "b"], 2), "`a`, `b`");
        let many: Vec<String> = (0..3000).map(|i| format!("s{i}")).collect();
        assert_eq!(
            quoted(&many, many.len()),
            "`s0`, `s1`, `s2`, `s3`, `s4`, `s5`, `s6`, `s7` and 2992 more"
        );
    }
}
