//! The shapes of function `#[circuit_breaker]` wraps: methods, generics, `impl Trait`
//! arguments, `return` and `?` in the body, and the handle of each.

mod common;

use circuit_core::{circuit_breaker, registry, State};
use common::AppError;
use std::fmt::Display;

#[derive(Debug, PartialEq)]
struct ParseFailed;

impl From<ParseFailed> for AppError {
    fn from(_: ParseFailed) -> Self {
        AppError::Down
    }
}

fn parse(text: &str) -> Result<u32, ParseFailed> {
    text.parse().map_err(|_| ParseFailed)
}

#[circuit_breaker(failure_threshold = 1)]
fn early_return_and_question_mark(text: &str) -> Result<u32, AppError> {
    if text.is_empty() {
        return Ok(0);
    }
    // `?` converts through `From`, as in the function before the attribute.
    let n = parse(text)?;
    Ok(n * 2)
}

#[test]
fn return_and_question_mark_keep_their_meaning() {
    assert_eq!(early_return_and_question_mark(""), Ok(0));
    assert_eq!(early_return_and_question_mark("21"), Ok(42));
    assert_eq!(early_return_and_question_mark("x"), Err(AppError::Down));
    assert_eq!(
        early_return_and_question_mark("21"),
        Err(AppError::Rejected(State::Open)),
        "the error that `?` returned counted as a failure"
    );
}

#[circuit_breaker(name = "shapes-generic")]
fn generic<T: Display + Clone>(value: T, also: impl Display) -> Result<String, AppError> {
    Ok(format!("{value} {also}"))
}

#[test]
fn generic_functions_and_impl_trait_arguments() {
    assert_eq!(generic(1, "a"), Ok("1 a".to_owned()));
    assert_eq!(generic("b", 2.5), Ok("b 2.5".to_owned()));
    assert_eq!(
        generic::breaker().snapshot().successes,
        2,
        "one breaker for every T"
    );
}

#[circuit_breaker]
fn returns_impl_trait(n: u32) -> Result<impl Display, AppError> {
    Ok(n + 1)
}

#[test]
fn an_impl_trait_in_the_return_type_is_kept() {
    assert_eq!(
        returns_impl_trait(1).map(|d| d.to_string()),
        Ok("2".to_owned())
    );
}

#[derive(Clone, Debug, PartialEq)]
struct Client {
    base: u32,
    calls: u32,
}

impl Client {
    #[circuit_breaker(name = "shapes-client-get", failure_threshold = 1, handle = get_breaker)]
    fn get(&self, id: u32) -> Result<u32, AppError> {
        if id == 0 {
            return Err(AppError::Down);
        }
        Ok(self.base + id)
    }

    #[circuit_breaker(name = "shapes-client-peek")]
    fn peek(&self) -> Result<u32, AppError> {
        Ok(self.calls)
    }

    #[circuit_breaker(name = "shapes-client-bump")]
    fn bump(&mut self) -> Result<u32, AppError> {
        self.calls += 1;
        Ok(self.calls)
    }

    #[circuit_breaker(name = "shapes-client-into")]
    fn into_base(self) -> Result<u32, AppError> {
        Ok(self.base)
    }

    /// No receiver, but `Self` in the signature: an associated function, no module beside it.
    #[circuit_breaker(name = "shapes-client-connect", fallback = Self::offline)]
    fn connect(base: u32) -> Result<Self, AppError> {
        if base == 0 {
            return Err(AppError::Down);
        }
        Ok(Client { base, calls: 0 })
    }

    fn offline(_base: u32) -> Result<Self, AppError> {
        Ok(Client { base: 0, calls: 0 })
    }

    #[circuit_breaker(name = "shapes-client-cached", failure_threshold = 1, fallback = Self::cached)]
    fn fetch(&self, id: u32) -> Result<u32, AppError> {
        if id == 0 {
            return Err(AppError::Down);
        }
        Ok(self.base + id)
    }

    fn cached(&self, id: u32) -> Result<u32, AppError> {
        Ok(self.base * 100 + id)
    }
}

#[test]
fn methods_taking_ref_self_mut_self_and_self() {
    let mut client = Client::connect(10).unwrap();
    assert_eq!(client.bump(), Ok(1));
    assert_eq!(client.bump(), Ok(2));
    assert_eq!(client.peek(), Ok(2));
    assert_eq!(client.clone().into_base(), Ok(10));
    for name in [
        "shapes-client-peek",
        "shapes-client-bump",
        "shapes-client-into",
    ] {
        assert_eq!(registry().state(name), Some(State::Closed), "{name}");
    }
}

#[test]
fn a_method_reaches_its_breaker_through_the_handle_it_names() {
    let client = Client::connect(10).unwrap();
    let _ = client.get(0);
    assert_eq!(Client::get_breaker().name(), "shapes-client-get");
    assert_eq!(Client::get_breaker().state(), State::Open);
    assert_eq!(client.get(1), Err(AppError::Rejected(State::Open)));
}

#[test]
fn a_methods_fallback_takes_self_and_the_arguments() {
    let client = Client::connect(7).unwrap();
    assert_eq!(client.fetch(1), Ok(8));
    assert_eq!(client.fetch(0), Ok(700), "a counted failure");
    assert_eq!(client.fetch(2), Ok(702), "a rejection");
    assert_eq!(Client::connect(0), Ok(Client { base: 0, calls: 0 }));
}

#[circuit_breaker(failure_threshold = 1)]
fn panics(really: bool) -> Result<(), AppError> {
    if really {
        panic!("the service client panicked");
    }
    Ok(())
}

#[test]
fn a_panic_in_the_body_counts_as_a_failure_and_keeps_unwinding() {
    let unwound = std::panic::catch_unwind(|| panics(true));
    assert!(unwound.is_err());
    assert_eq!(panics::breaker().state(), State::Open);
}

mod nested {
    use super::AppError;
    use circuit_core::circuit_breaker;

    #[circuit_breaker]
    pub(crate) fn inner() -> Result<(), AppError> {
        Ok(())
    }
}

#[test]
fn the_handle_module_has_the_functions_visibility_and_the_default_name_its_path() {
    assert_eq!(nested::inner(), Ok(()));
    assert_eq!(
        nested::inner::breaker().name(),
        "attribute_shapes::nested::inner"
    );
}

#[test]
fn a_function_declared_inside_a_block() {
    #[circuit_breaker(name = "shapes-in-block")]
    fn local() -> Result<u8, AppError> {
        Ok(3)
    }
    assert_eq!(local(), Ok(3));
    assert_eq!(local::breaker().snapshot().successes, 1);
}
