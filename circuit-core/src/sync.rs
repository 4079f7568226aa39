//! Synchronisation for the state machine, its clock and its event delivery: std's and
//! parking_lot's, or loom's when model-checking (`RUSTFLAGS="--cfg loom"`), so the same code
//! runs under both.
//!
//! Beyond the state word, the events' mutexes and the clock go through here so that loom sees
//! them: taking the events queue's lock is a point where the model may switch threads (which
//! lets it run a transition's winner late, after the winner of the next transition: the
//! reordering events.rs exists to undo), and a `ManualClock`'s reads and advances are
//! operations the model orders against the state word's.

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{fence, AtomicPtr, AtomicU64, Ordering};
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{fence, AtomicPtr, AtomicU64, Ordering};

#[cfg(not(loom))]
pub(crate) use parking_lot::{Mutex, RwLock};

#[cfg(loom)]
pub(crate) use loom_locks::{Mutex, RwLock};

#[cfg(loom)]
mod loom_locks {
    use std::sync::PoisonError;

    /// loom's mutex with parking_lot's signature: `lock` hands back the guard directly.
    #[derive(Debug)]
    pub(crate) struct Mutex<T>(loom::sync::Mutex<T>);

    impl<T> Mutex<T> {
        pub(crate) fn new(value: T) -> Self {
            Mutex(loom::sync::Mutex::new(value))
        }

        pub(crate) fn lock(&self) -> loom::sync::MutexGuard<'_, T> {
            // parking_lot does not poison; a panic while locked fails the model anyway.
            self.0.lock().unwrap_or_else(PoisonError::into_inner)
        }

        /// parking_lot's `get_mut`; loom's mutex has none, so this takes the (uncontended)
        /// lock, which the exclusive borrow makes safe to hand out for the borrow's life.
        pub(crate) fn get_mut(&mut self) -> loom::sync::MutexGuard<'_, T> {
            self.lock()
        }
    }

    /// loom's read-write lock with parking_lot's signature.
    #[derive(Debug)]
    pub(crate) struct RwLock<T>(loom::sync::RwLock<T>);

    impl<T> RwLock<T> {
        pub(crate) fn new(value: T) -> Self {
            RwLock(loom::sync::RwLock::new(value))
        }

        pub(crate) fn read(&self) -> loom::sync::RwLockReadGuard<'_, T> {
            self.0.read().unwrap_or_else(PoisonError::into_inner)
        }

        pub(crate) fn write(&self) -> loom::sync::RwLockWriteGuard<'_, T> {
            self.0.write().unwrap_or_else(PoisonError::into_inner)
        }
    }
}
