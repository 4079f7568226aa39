//! A counting global allocator, for the test binaries that prove a path allocates nothing
//! (`reliability_zero_allocations.rs`, `tower_zero_allocations.rs`). Each includes this file by
//! `#[path]` and declares `#[global_allocator] static ALLOCATOR: Counting = Counting;` itself:
//! the allocator replaces the whole binary's, so it must not reach the binaries that
//! `tests/common/mod.rs` serves.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// Forwards to `System`, counting this thread's allocations.
pub struct Counting;

thread_local! {
    /// Allocations made by this thread. Per thread, so the test harness's other threads
    /// (other tests, output capture) cannot disturb the count.
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: forwards every call to `System` unchanged; counting touches a const thread-local
// `Cell`, which neither allocates nor unwinds.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        // SAFETY: forwarded unchanged; the caller upholds `alloc`'s contract.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged; `ptr` came from `System`.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        // SAFETY: forwarded unchanged; `ptr` came from `System`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Allocations this thread makes while running `f` `n` times.
pub fn allocations(n: usize, mut f: impl FnMut()) -> u64 {
    let before = ALLOCATIONS.with(Cell::get);
    for _ in 0..n {
        f();
    }
    ALLOCATIONS.with(Cell::get) - before
}
