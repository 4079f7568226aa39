//! Administration by name, for an admin endpoint: `POST /breakers/{name}/force-open` and the
//! like map one to one onto these methods, and an unknown name maps onto a 404.

use crate::Registry;

impl Registry {
    /// Forces the breaker `name` open: it rejects every call until [`reset`](Self::reset).
    /// See [`CircuitBreaker::force_open`](crate::CircuitBreaker::force_open).
    ///
    /// ```
    /// use circuit_core::{Registry, State};
    ///
    /// let registry = Registry::new();
    /// registry.get_or_create("payments", Default::default());
    ///
    /// // In an admin endpoint's handler, with `name` taken from the request:
    /// match registry.force_open("payments") {
    ///     Ok(()) => { /* 200 */ }
    ///     Err(unknown) => { /* 404, with `unknown.to_string()` as the body */ }
    /// }
    /// assert_eq!(registry.state("payments"), Some(State::ForcedOpen));
    /// assert!(registry.force_open("paymnets").is_err());
    /// ```
    ///
    /// # Errors
    ///
    /// [`UnknownBreaker`] if the registry has no breaker of that name; nothing changes.
    pub fn force_open(&self, name: &str) -> Result<(), UnknownBreaker> {
        self.known(name)?.force_open();
        Ok(())
    }

    /// Disables the breaker `name`: it lets every call through and records nothing, until
    /// [`reset`](Self::reset). See [`CircuitBreaker::disable`](crate::CircuitBreaker::disable).
    ///
    /// # Errors
    ///
    /// [`UnknownBreaker`] if the registry has no breaker of that name; nothing changes.
    pub fn disable(&self, name: &str) -> Result<(), UnknownBreaker> {
        self.known(name)?.disable();
        Ok(())
    }

    /// Resets the breaker `name` to Closed with its counters cleared, ending a
    /// [`force_open`](Self::force_open) or [`disable`](Self::disable).
    /// See [`CircuitBreaker::reset`](crate::CircuitBreaker::reset).
    ///
    /// # Errors
    ///
    /// [`UnknownBreaker`] if the registry has no breaker of that name; nothing changes.
    pub fn reset(&self, name: &str) -> Result<(), UnknownBreaker> {
        self.known(name)?.reset();
        Ok(())
    }

    /// Turns metrics-only mode of the breaker `name` on or off: while on, it counts and moves
    /// through its states as usual but rejects nothing (its transitions are marked
    /// "would have"). See
    /// [`CircuitBreaker::set_metrics_only`](crate::CircuitBreaker::set_metrics_only).
    ///
    /// ```
    /// use circuit_core::Registry;
    ///
    /// let registry = Registry::new();
    /// let payments = registry.get_or_create("payments", Default::default());
    /// registry.set_metrics_only("payments", true)?;
    /// assert!(payments.is_metrics_only());
    /// assert!(registry.set_metrics_only("paymnets", true).is_err());
    /// # Ok::<(), circuit_core::UnknownBreaker>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`UnknownBreaker`] if the registry has no breaker of that name; nothing changes.
    pub fn set_metrics_only(&self, name: &str, on: bool) -> Result<(), UnknownBreaker> {
        self.known(name)?.set_metrics_only(on);
        Ok(())
    }

    fn known(&self, name: &str) -> Result<std::sync::Arc<crate::CircuitBreaker>, UnknownBreaker> {
        self.get(name).ok_or_else(|| UnknownBreaker {
            name: name.to_owned(),
        })
    }
}

/// An administrative operation named a breaker the registry does not have.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("no circuit breaker is named {name:?}")]
pub struct UnknownBreaker {
    name: String,
}

impl UnknownBreaker {
    /// The name asked for.
    pub fn name(&self) -> &str {
        &self.name
    }
}
