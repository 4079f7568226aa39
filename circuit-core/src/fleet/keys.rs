//! The Redis names of one service's fleet: everything under `circuit:{service}:`, so that two
//! services sharing a Redis never meet.
//!
//! | name | what |
//! |---|---|
//! | `circuit:{service}:events` | channel: transitions ([`message::Event`](super::message::Event)) |
//! | `circuit:{service}:admin` | channel: operators' orders |
//! | `circuit:{service}:open:{breaker}:{instance}` | key: `instance` has `breaker` open, expiring with its period |
//! | `circuit:{service}:trial:{breaker}` | key: the instance holding the trial lease, expiring with it |
//!
//! A breaker's name may hold `:`; an instance id may not, so an `open` key splits at its last
//! `:`. Service names and instance ids hold no glob characters, so the `SCAN` pattern needs no
//! escaping.

use super::message::{valid_id, valid_name};

#[derive(Clone, Debug)]
pub(crate) struct Keys {
    prefix: String,
}

impl Keys {
    /// The names for `service`, which [`valid_id`] has accepted.
    pub(crate) fn new(service: &str) -> Keys {
        debug_assert!(valid_id(service));
        Keys {
            prefix: format!("circuit:{service}:"),
        }
    }

    pub(crate) fn events(&self) -> String {
        format!("{}events", self.prefix)
    }

    pub(crate) fn admin(&self) -> String {
        format!("{}admin", self.prefix)
    }

    pub(crate) fn open(&self, breaker: &str, instance: &str) -> String {
        format!("{}open:{breaker}:{instance}", self.prefix)
    }

    pub(crate) fn trial(&self, breaker: &str) -> String {
        format!("{}trial:{breaker}", self.prefix)
    }

    /// The `SCAN` pattern matching every `open` key of the service.
    pub(crate) fn open_pattern(&self) -> String {
        format!("{}open:*", self.prefix)
    }

    /// `(breaker, instance)` of an `open` key, or `None` for a key that is not one of ours or
    /// breaks the bounds (a stranger's, or damaged: ignored).
    pub(crate) fn parse_open<'k>(&self, key: &'k str) -> Option<(&'k str, &'k str)> {
        let rest = key.strip_prefix(&self.prefix)?.strip_prefix("open:")?;
        let (breaker, instance) = rest.rsplit_once(':')?;
        (valid_name(breaker) && valid_id(instance)).then_some((breaker, instance))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_keys_split_at_the_last_colon() {
        let keys = Keys::new("shop");
        let key = keys.open("db::primary", "i-7");
        assert_eq!(key, "circuit:shop:open:db::primary:i-7");
        assert_eq!(keys.parse_open(&key), Some(("db::primary", "i-7")));
        assert_eq!(keys.open_pattern(), "circuit:shop:open:*");
        assert_eq!(keys.trial("db"), "circuit:shop:trial:db");
        assert_eq!(keys.events(), "circuit:shop:events");
        assert_eq!(keys.admin(), "circuit:shop:admin");
    }

    #[test]
    fn foreign_and_damaged_keys_are_not_ours() {
        let keys = Keys::new("shop");
        for key in [
            "circuit:other:open:db:i-7",
            "circuit:shop:trial:db",
            "circuit:shop:open:db",
            "circuit:shop:open::i-7",
            "circuit:shop:open:db:",
            "circuit:shop:open:db:i 7",
        ] {
            assert_eq!(keys.parse_open(key), None, "{key}");
        }
        let long = keys.open(&"n".repeat(200), "i-7");
        assert_eq!(keys.parse_open(&long), None, "a name past the bound");
    }
}
