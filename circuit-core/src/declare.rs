//! Breakers declared by `#[circuit_breaker]` attributes, collected at link time so the
//! registry can create all of them at start-up.
//!
//! Each attribute submits one [`Declaration`] with `inventory`; the registry creates their
//! breakers the first time it is used. `inventory` rather than `linkme`: its `submit!` is a
//! plain `macro_rules!`, so the attribute's expansion reaches it through `circuit_core` and
//! users need no dependency of their own.

use crate::{Config, Registry};
use std::time::Duration;

/// One breaker declared by an attribute: its name and the literals the attribute gave.
#[doc(hidden)]
#[derive(Debug)]
pub struct Declaration {
    pub name: &'static str,
    pub failure_threshold: Option<u32>,
    pub success_threshold: Option<u32>,
    pub half_open_max_calls: Option<u32>,
    pub recovery_timeout: Option<Duration>,
    /// `file:line` of the attribute, to tell declarations of one name apart.
    pub location: &'static str,
}

inventory::collect!(Declaration);

impl Declaration {
    /// The configuration the attribute's literals describe, on top of the defaults. The
    /// attribute checked every literal at compile time; should a combination still be refused
    /// here, the defaults stand in rather than a panic.
    pub fn config(&self) -> Config {
        let mut builder = Config::builder();
        if let Some(n) = self.failure_threshold {
            builder = builder.failure_threshold(n);
        }
        if let Some(n) = self.success_threshold {
            builder = builder.success_threshold(n);
        }
        if let Some(n) = self.half_open_max_calls {
            builder = builder.half_open_max_calls(n);
        }
        if let Some(t) = self.recovery_timeout {
            builder = builder.recovery_timeout(t);
        }
        builder.build().unwrap_or_default()
    }
}

/// Creates the breaker of every declaration in the program.
pub(crate) fn create_declared(registry: &Registry) {
    for declaration in inventory::iter::<Declaration> {
        registry.get_or_create(declaration.name, declaration.config());
    }
}
