//! Atomics for the lock-free state machine: std's, or loom's when model-checking
//! (`RUSTFLAGS="--cfg loom"`), so the same code runs under both.

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicU64, Ordering};
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicU64, Ordering};
