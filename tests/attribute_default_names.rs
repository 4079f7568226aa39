//! Two functions nested in different functions of one module get the same default name (the
//! module path does not name the enclosing function), and so one breaker. The attribute cannot
//! see the enclosing function; the registry warns at start-up, naming both places.

use circuit_core::{circuit_breaker, registry, CircuitOpen};
use std::sync::{Arc, Mutex};
use tracing::field::{Field, Visit};
use tracing::{span, Event, Level, Metadata, Subscriber};

#[derive(Debug)]
struct AppError;

impl From<CircuitOpen> for AppError {
    fn from(_: CircuitOpen) -> Self {
        AppError
    }
}

fn load_users() -> Result<u32, AppError> {
    #[circuit_breaker]
    fn helper() -> Result<u32, AppError> {
        Ok(1)
    }
    helper()
}

fn load_orders() -> Result<u32, AppError> {
    #[circuit_breaker]
    fn helper() -> Result<u32, AppError> {
        Ok(2)
    }
    helper()
}

fn named_on_purpose() -> Result<u32, AppError> {
    #[circuit_breaker(name = "shared-on-purpose")]
    fn a() -> Result<u32, AppError> {
        Ok(3)
    }
    #[circuit_breaker(name = "shared-on-purpose")]
    fn b() -> Result<u32, AppError> {
        Ok(4)
    }
    Ok(a()? + b()?)
}

/// Keeps the message of every warning.
#[derive(Clone, Default)]
struct Warnings(Arc<Mutex<Vec<String>>>);

struct Message<'a>(&'a mut String);

impl Visit for Message<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            *self.0 = format!("{value:?}");
        }
    }
}

impl Subscriber for Warnings {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        *metadata.level() == Level::WARN
    }
    fn new_span(&self, _: &span::Attributes<'_>) -> span::Id {
        span::Id::from_u64(1)
    }
    fn record(&self, _: &span::Id, _: &span::Record<'_>) {}
    fn record_follows_from(&self, _: &span::Id, _: &span::Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut message = String::new();
        event.record(&mut Message(&mut message));
        self.0.lock().unwrap().push(message);
    }
    fn enter(&self, _: &span::Id) {}
    fn exit(&self, _: &span::Id) {}
}

#[test]
fn nested_functions_of_one_name_in_one_module_are_warned_of_at_start_up() {
    let warnings = Warnings::default();
    // The first use of the registry creates the declared breakers, and warns.
    tracing::subscriber::with_default(warnings.clone(), || {
        registry();
    });
    let warnings = warnings.0.lock().unwrap().clone();
    let name = "attribute_default_names::helper";
    let file = file!();
    assert_eq!(
        warnings,
        [format!(
            "the #[circuit_breaker] functions at {file}:21:8 and {file}:29:8 share the default \
             name `{name}`, and so one breaker: give each a `name = \"...\"` of its own (or give \
             them one `name` to share it on purpose)"
        )],
        "one warning, for the default name only"
    );

    // What the warning is about: both go through one breaker.
    assert_eq!((load_users().unwrap(), load_orders().unwrap()), (1, 2));
    assert_eq!(registry().get(name).unwrap().snapshot().successes, 2);
    assert_eq!(named_on_purpose().unwrap(), 7);
}
