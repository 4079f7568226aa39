//! Breaker names, interned once per distinct name.
//!
//! A rejection returns a [`CircuitOpen`](crate::CircuitOpen) that carries the breaker's name
//! and must be `'static` (users convert it into their own error types). Interning makes that a
//! copy of a `&'static str`: no allocation and no reference-count traffic per rejection. Each
//! distinct name is stored once for the life of the process and stays reachable from the
//! interner, so memory is bounded by the number of distinct names, however many breakers come
//! and go.

use parking_lot::Mutex;
use std::collections::HashSet;

static NAMES: Mutex<Option<HashSet<&'static str>>> = Mutex::new(None);

/// The process-wide copy of `name`.
pub(crate) fn intern(name: &str) -> &'static str {
    let mut names = NAMES.lock();
    let names = names.get_or_insert_with(HashSet::new);
    if let Some(&interned) = names.get(name) {
        return interned;
    }
    let interned: &'static str = Box::leak(name.to_owned().into_boxed_str());
    names.insert(interned);
    interned
}

#[cfg(test)]
mod tests {
    #[test]
    fn one_copy_per_distinct_name() {
        let a = super::intern("name-test-a");
        let b = super::intern(&String::from("name-test-a"));
        assert!(std::ptr::eq(a, b));
        assert_ne!(super::intern("name-test-b"), a);
    }
}
