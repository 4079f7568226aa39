//! Which other instances have which breaker open, and until when: the quorum's evidence, as
//! this instance last heard it (from `opened` and `closed` messages, and from the `open` keys
//! read at each resynchronisation). An entry counts only until its period ends, as its key
//! would, so a dead instance's evidence runs out on its own.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// The most entries kept. Each instance's breakers are bounded by the application; this bounds
/// what a stranger writing on the channel can make us hold. Past it, new witnesses are refused
/// (and logged by the caller) until expired ones are swept out.
pub(crate) const MAX_WITNESSES: usize = 65_536;

#[derive(Debug, Default)]
pub(crate) struct Witnesses {
    /// breaker -> instance -> end of its Open period.
    open: HashMap<String, HashMap<String, Instant>>,
    len: usize,
}

impl Witnesses {
    /// `instance` has `breaker` open until `until`. False if the table is full.
    pub(crate) fn opened(&mut self, breaker: &str, instance: &str, until: Instant) -> bool {
        if let Some(entry) = self
            .open
            .get_mut(breaker)
            .and_then(|by| by.get_mut(instance))
        {
            *entry = until;
            return true;
        }
        if self.len >= MAX_WITNESSES {
            self.sweep(Instant::now());
            if self.len >= MAX_WITNESSES {
                return false;
            }
        }
        self.open
            .entry(breaker.to_owned())
            .or_default()
            .insert(instance.to_owned(), until);
        self.len += 1;
        true
    }

    /// `instance` no longer has `breaker` open.
    pub(crate) fn closed(&mut self, breaker: &str, instance: &str) {
        if let Some(by) = self.open.get_mut(breaker) {
            if by.remove(instance).is_some() {
                self.len -= 1;
            }
            if by.is_empty() {
                self.open.remove(breaker);
            }
        }
    }

    /// How many instances have `breaker` open at `now`, and the longest time left among them.
    pub(crate) fn live(&self, breaker: &str, now: Instant) -> (usize, Duration) {
        let Some(by) = self.open.get(breaker) else {
            return (0, Duration::ZERO);
        };
        by.values()
            .filter(|until| **until > now)
            .fold((0, Duration::ZERO), |(n, longest), until| {
                (n + 1, longest.max(*until - now))
            })
    }

    /// The breakers anyone has open, for a resynchronisation to act on.
    pub(crate) fn breakers(&self) -> Vec<String> {
        self.open.keys().cloned().collect()
    }

    /// Forgets everything: a resynchronisation starts from the keys alone.
    pub(crate) fn clear(&mut self) {
        self.open.clear();
        self.len = 0;
    }

    /// Drops the entries whose period has ended.
    pub(crate) fn sweep(&mut self, now: Instant) {
        let mut len = 0;
        self.open.retain(|_, by| {
            by.retain(|_, until| *until > now);
            len += by.len();
            !by.is_empty()
        });
        self.len = len;
    }

    #[cfg(test)]
    pub(crate) fn count(&self) -> usize {
        self.len
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn counts_distinct_live_instances_and_the_longest_time_left() {
        let now = Instant::now();
        let mut w = Witnesses::default();
        assert_eq!(w.live("db", now), (0, Duration::ZERO));
        assert!(w.opened("db", "a", now + 2 * S));
        assert!(w.opened("db", "b", now + 5 * S));
        assert!(w.opened("db", "a", now + 3 * S), "a again: one witness");
        assert!(w.opened("cache", "a", now + 9 * S));
        assert_eq!(w.live("db", now), (2, 5 * S));
        assert_eq!(w.live("db", now + 4 * S), (1, S), "a's period has ended");
        assert_eq!(w.live("db", now + 5 * S), (0, Duration::ZERO));
        w.closed("db", "b");
        assert_eq!(w.live("db", now), (1, 3 * S));
        assert_eq!(w.count(), 2);
        w.closed("db", "nobody");
        assert_eq!(w.count(), 2);
    }

    #[test]
    fn sweeping_forgets_ended_periods_and_clear_forgets_all() {
        let now = Instant::now();
        let mut w = Witnesses::default();
        w.opened("db", "a", now + S);
        w.opened("db", "b", now + 3 * S);
        w.opened("cache", "a", now + S);
        w.sweep(now + 2 * S);
        assert_eq!(w.count(), 1);
        assert_eq!(w.breakers(), ["db"]);
        w.clear();
        assert_eq!((w.count(), w.breakers().len()), (0, 0));
    }

    #[test]
    fn a_full_table_refuses_new_witnesses_but_updates_known_ones() {
        let now = Instant::now();
        let mut w = Witnesses::default();
        for i in 0..MAX_WITNESSES {
            assert!(w.opened("db", &i.to_string(), now + 60 * S));
        }
        assert!(!w.opened("db", "one too many", now + 60 * S));
        assert!(w.opened("db", "7", now + 90 * S));
        assert_eq!(w.live("db", now), (MAX_WITNESSES, 90 * S));
    }
}
