//! The hand-off from the registry's listener to the fleet's task: a bounded queue, so that a
//! listener (which runs on the thread whose call made the transition) never waits on the
//! network nor grows memory without bound. When the task falls behind, the oldest transitions
//! are dropped and counted: the task reads each breaker's state when it acts, and resends its
//! own Open periods after every reconnect, so a dropped transition delays the fleet, it does not
//! mislead it.

use crate::Transition;
use parking_lot::Mutex;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use tokio::sync::Notify;

/// Transitions held for the task at most.
pub(crate) const CAPACITY: usize = 1024;

#[derive(Debug, Default)]
pub(crate) struct Outbox {
    queue: Mutex<VecDeque<Transition>>,
    ready: Notify,
    dropped: AtomicU64,
    /// Set when the fleet is dropped: the listener stays in the registry (listeners cannot be
    /// removed), but holds nothing from then on.
    closed: AtomicBool,
}

impl Outbox {
    /// Queues `t` for the task, dropping the oldest transition if the queue is full.
    pub(crate) fn push(&self, t: &Transition) {
        if self.closed.load(Ordering::Relaxed) {
            return;
        }
        let mut queue = self.queue.lock();
        if queue.len() >= CAPACITY {
            queue.pop_front();
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
        queue.push_back(t.clone());
        drop(queue);
        // Stores a wake-up if the task is not waiting now: none is lost.
        self.ready.notify_one();
    }

    /// Everything queued, oldest first.
    pub(crate) fn take(&self) -> VecDeque<Transition> {
        std::mem::take(&mut *self.queue.lock())
    }

    /// Resolves once something was pushed since the last wake-up.
    pub(crate) async fn ready(&self) {
        self.ready.notified().await;
    }

    /// Transitions dropped because the task fell behind.
    pub(crate) fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Relaxed);
        self.queue.lock().clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CircuitBreaker, Config};

    fn transitions(n: usize) -> Vec<Transition> {
        let breaker = CircuitBreaker::new("outbox", Config::default());
        let seen = std::sync::Arc::new(Mutex::new(Vec::new()));
        let s = seen.clone();
        breaker.on_state_change(move |t| s.lock().push(t.clone()));
        for i in 0..n {
            if i % 2 == 0 {
                breaker.force_open();
            } else {
                breaker.reset();
            }
        }
        let seen = seen.lock().clone();
        seen
    }

    #[test]
    fn keeps_the_newest_when_full_and_counts_the_rest() {
        let outbox = Outbox::default();
        let all = transitions(CAPACITY + 3);
        for t in &all {
            outbox.push(t);
        }
        assert_eq!(outbox.dropped(), 3);
        let kept: Vec<_> = outbox.take().into_iter().collect();
        assert_eq!(kept, all[3..]);
        assert!(outbox.take().is_empty());
    }

    #[test]
    fn a_closed_outbox_holds_nothing() {
        let outbox = Outbox::default();
        let all = transitions(2);
        outbox.push(&all[0]);
        outbox.close();
        outbox.push(&all[1]);
        assert!(outbox.take().is_empty());
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_push_before_the_task_waits_still_wakes_it() {
        let outbox = Outbox::default();
        outbox.push(&transitions(1)[0]);
        tokio::time::timeout(std::time::Duration::from_secs(5), outbox.ready())
            .await
            .expect("the stored wake-up");
        assert_eq!(outbox.take().len(), 1);
    }
}
