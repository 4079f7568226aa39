//! Moving generated tokens onto the user's code, so that a type error in the expansion is
//! reported on the user's token that caused it.

use proc_macro2::{Group, Span, TokenStream, TokenTree};

/// `tokens` with every token, nested ones included, placed at `span`.
pub(crate) fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|tree| match tree {
            TokenTree::Group(group) => {
                let mut inner = Group::new(group.delimiter(), respan(group.stream(), span));
                inner.set_span(span);
                TokenTree::Group(inner)
            }
            mut other => {
                other.set_span(span);
                other
            }
        })
        .collect()
}
