//! State-change events and their delivery to listeners: each transition exactly once, in the
//! order the transitions happened, outside every lock.
//!
//! Transitions happen by compare-and-swap on the state word, so two threads can win two
//! successive transitions and reach the listeners in the wrong order. Every transition has an
//! epoch, though, and epochs are consecutive. Winners put their transition in a queue keyed by
//! epoch; whichever thread finds the next expected epoch there becomes the deliverer and hands
//! out every transition in epoch order, releasing the queue's lock around each listener call.
//! A listener may therefore read the breaker, change its state (the new transition is queued
//! and delivered after the current one) or register another listener.

use super::Transition;
use crate::sync::Mutex;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

pub(crate) type Listener = Arc<dyn Fn(&Transition) + Send + Sync>;

/// The listeners of one breaker and the transitions waiting for them.
pub(crate) struct Events {
    /// One lock for the listeners and the queue, which keeps an idle breaker a word smaller
    /// than two would; it is never held while a listener runs.
    queue: Mutex<Queue>,
}

/// Listeners shared by many breakers (a registry's). Each delivery reads the list as it is
/// then, so a listener added later is heard for every breaker that already exists, and a
/// breaker made later hears every listener added before: nobody has to subscribe each breaker.
///
/// A breaker reaches them through its own list of listeners, which starts as the
/// forwarder [`SharedListeners::new`] returns: one list, shared by every breaker of the
/// registry, holding one listener that calls the shared ones. So hearing the registry costs a
/// breaker no byte (a million per-key breakers are no bigger), and its own listeners, added
/// to a copy of that list, come after the registry's.
pub(crate) struct SharedListeners {
    /// Copy-on-write, as a breaker's own list.
    list: Mutex<Arc<Vec<Listener>>>,
}

impl SharedListeners {
    /// No listener yet, and the forwarder to give the breakers that will hear them.
    pub(crate) fn new() -> (Arc<SharedListeners>, Arc<Vec<Listener>>) {
        let shared = Arc::new(SharedListeners {
            list: Mutex::new(no_listeners()),
        });
        let to = shared.clone();
        let forward: Listener = Arc::new(move |transition: &Transition| {
            let listeners = Arc::clone(&to.list.lock());
            for listener in listeners.iter() {
                // Contained one by one, so one that panics does not silence the next.
                contain(|| listener(transition));
            }
        });
        (shared, Arc::new(vec![forward]))
    }

    pub(crate) fn add(&self, listener: Listener) {
        let mut list = self.list.lock();
        let mut updated = Vec::clone(&list);
        updated.push(listener);
        *list = Arc::new(updated);
    }
}

struct Queue {
    /// Copy-on-write, so delivery clones one `Arc` and holds no lock while listeners run.
    listeners: Arc<Vec<Listener>>,
    /// The epoch of the next transition to deliver.
    next: u32,
    /// Transitions whose turn has not come; `None` marks an epoch with nothing to deliver
    /// (a `reset` of a breaker that was already Closed).
    /// Boxed: an idle breaker holds one pointer, not a vector's three words (a registry may
    /// hold a million per-key breakers); allocated at the first transition and kept.
    waiting: Option<Box<Waiting>>,
    /// Whether some thread is delivering now; it will also deliver what others queue.
    delivering: bool,
}

/// Transitions by epoch; `None` marks an epoch with nothing to deliver.
type Waiting = Vec<(u32, Option<Transition>)>;

/// The empty list every breaker starts with, shared, so that an idle breaker allocates no list
/// of its own (a registry may hold a million per-key breakers).
fn no_listeners() -> Arc<Vec<Listener>> {
    static EMPTY: std::sync::LazyLock<Arc<Vec<Listener>>> =
        std::sync::LazyLock::new(|| Arc::new(Vec::new()));
    EMPTY.clone()
}

impl Events {
    pub(crate) fn new() -> Self {
        Events {
            queue: Mutex::new(Queue {
                listeners: no_listeners(),
                next: 1,
                waiting: None,
                delivering: false,
            }),
        }
    }

    /// Makes the breaker's transitions heard by the shared listeners `forwarder` calls (see
    /// [`SharedListeners`]). Called before the breaker is shared, so before any subscription.
    pub(crate) fn share_with(&mut self, forwarder: Arc<Vec<Listener>>) {
        self.queue.get_mut().listeners = forwarder;
    }

    pub(crate) fn subscribe(&self, listener: Listener) {
        let mut queue = self.queue.lock();
        let mut updated = Vec::clone(&queue.listeners);
        updated.push(listener);
        queue.listeners = Arc::new(updated);
    }

    /// Hands the transition that moved the state word to `epoch` to the listeners, after every
    /// earlier one. `next_epoch` gives the epoch after a given one (the word wraps).
    pub(crate) fn publish(
        &self,
        epoch: u32,
        transition: Option<Transition>,
        next_epoch: fn(u32) -> u32,
    ) {
        let mut queue = self.queue.lock();
        let waiting = queue.waiting.get_or_insert_with(Box::default);
        waiting.push((epoch, transition));
        if queue.delivering {
            return; // the deliverer will reach it
        }
        queue.delivering = true;
        loop {
            let next = queue.next;
            let waiting = queue
                .waiting
                .as_mut()
                .expect("allocated by the first publication");
            let Some(at) = waiting.iter().position(|(e, _)| *e == next) else {
                // The transition before it has been won but not queued yet; its winner will
                // find this one waiting and deliver both in order.
                queue.delivering = false;
                return;
            };
            let (_, transition) = waiting.swap_remove(at);
            queue.next = next_epoch(next);
            if let Some(transition) = transition {
                drop(queue);
                self.deliver(&transition);
                queue = self.queue.lock();
            }
        }
    }

    fn deliver(&self, transition: &Transition) {
        // Logged here, once per transition and in order, rather than on the call path. A
        // subscriber that panics is contained like a listener.
        #[cfg(feature = "tracing")]
        contain(|| crate::events::trace::transition(transition));
        let listeners = Arc::clone(&self.queue.lock().listeners);
        for listener in listeners.iter() {
            // A listener that panics must not stop the others nor poison the breaker; its panic
            // has already been reported by the panic hook.
            contain(|| listener(transition));
        }
    }

    /// The number of listeners registered.
    pub(crate) fn listener_count(&self) -> usize {
        self.queue.lock().listeners.len()
    }
}

/// Runs `f`, containing a panic: neither its unwinding nor its payload's reaches the caller.
///
/// Dropping a payload runs its `Drop`, which may panic too (a listener can panic with any
/// value); that drop therefore runs under `catch_unwind` as well, and so does the drop of the
/// payload that panic carries, and so on. The usual second payload is a message whose drop
/// cannot panic, so the chain ends there and nothing leaks. Only a chain of payloads that keep
/// panicking as they drop is cut after [`MAX_DROP_PANICS`] and its last payload leaked: a leak
/// beats a panic escaping into `call()` with the delivery flag left set, which silenced every
/// later transition.
fn contain(f: impl FnOnce()) {
    let Err(mut payload) = catch_unwind(AssertUnwindSafe(f)) else {
        return;
    };
    for _ in 0..MAX_DROP_PANICS {
        match catch_unwind(AssertUnwindSafe(move || drop(payload))) {
            Ok(()) => return,
            Err(next) => payload = next,
        }
    }
    std::mem::forget(payload);
}

/// How many panics in a row, each raised by dropping the previous one's payload, are dropped
/// before the last payload is leaked instead.
const MAX_DROP_PANICS: usize = 8;

impl fmt::Debug for Events {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Events")
            .field("listeners", &self.listener_count())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::Reason;
    use crate::State;

    fn next(e: u32) -> u32 {
        e + 1
    }

    fn t(to: State) -> Option<Transition> {
        Some(Transition {
            name: "t".into(),
            from: State::Closed,
            to,
            reason: Reason::Reset,
            metrics_only: false,
        })
    }

    #[test]
    fn out_of_order_publications_are_delivered_in_epoch_order() {
        let events = Events::new();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = seen.clone();
        events.subscribe(Arc::new(move |t: &Transition| s.lock().push(t.to)));
        events.publish(2, t(State::HalfOpen), next);
        assert!(seen.lock().is_empty(), "epoch 1 has not been published");
        events.publish(1, t(State::Open), next);
        events.publish(3, None, next);
        events.publish(4, t(State::Closed), next);
        assert_eq!(*seen.lock(), [State::Open, State::HalfOpen, State::Closed]);
    }
}
