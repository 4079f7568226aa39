//! Breaker names, interned once per distinct name.
//!
//! A rejection returns a [`CircuitOpen`](crate::CircuitOpen) that carries the breaker's name
//! and must be `'static` (users convert it into their own error types). Interning makes that a
//! copy of a `&'static str`: no allocation and no reference-count traffic per rejection. Each
//! distinct name is stored once for the life of the process and stays reachable from the
//! interner, so memory is bounded by the number of distinct names, however many breakers come
//! and go.

use parking_lot::Mutex;
use std::collections::HashMap;

static NAMES: Mutex<Option<HashMap<&'static str, Name>>> = Mutex::new(None);

/// An interned name: a thin pointer, so the errors that carry it stay small.
#[derive(Clone, Copy)]
pub(crate) struct Name(&'static &'static str);

impl Name {
    pub(crate) fn as_str(self) -> &'static str {
        self.0
    }
}

impl PartialEq for Name {
    fn eq(&self, other: &Name) -> bool {
        // One copy per distinct name, so equal names are the same copy.
        std::ptr::eq(self.0, other.0)
    }
}

impl Eq for Name {}

/// The process-wide copy of `name`.
pub(crate) fn intern(name: &str) -> Name {
    let mut names = NAMES.lock();
    let names = names.get_or_insert_with(HashMap::new);
    if let Some(&interned) = names.get(name) {
        return interned;
    }
    let text: &'static str = Box::leak(name.to_owned().into_boxed_str());
    let interned = Name(Box::leak(Box::new(text)));
    names.insert(text, interned);
    interned
}

#[cfg(test)]
mod tests {
    #[test]
    fn one_copy_per_distinct_name() {
        let a = super::intern("name-test-a");
        let b = super::intern(&String::from("name-test-a"));
        assert!(a == b && std::ptr::eq(a.as_str(), b.as_str()));
        assert!(super::intern("name-test-b") != a);
        assert_eq!(a.as_str(), "name-test-a");
    }
}
