//! One million per-key breakers fit in 256 MiB of resident memory, and an idle breaker, its
//! name and its place in the set take at most 256 bytes of heap however many cores the machine
//! has (the totals' per-thread stripes are allocated only once a breaker is called).
//!
//! Keep this file a test binary of its own: it reads the resident memory of the whole process
//! (`VmRSS`) and counts the bytes every thread allocates, so another test running beside it
//! would move both readings.
#![cfg(target_os = "linux")]

use circuit_core::{CircuitBreaker, Config, KeyedBreakers, KeyedLimits, Registry};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// Bytes allocated and not yet freed, by every thread.
static LIVE_BYTES: AtomicUsize = AtomicUsize::new(0);

struct Counting;

// SAFETY: every method forwards to `System` with the caller's arguments unchanged; counting
// touches only an atomic.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE_BYTES.fetch_add(layout.size(), Ordering::Relaxed);
        // SAFETY: forwarded unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: forwarded unchanged; `ptr` came from `System`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const MILLION: usize = 1_000_000;
const MIB: u64 = 1024;

/// Resident memory of this process, in KiB.
fn resident_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("procfs");
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .expect("VmRSS in /proc/self/status");
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Heap bytes per breaker of `make(i)` for `n` fresh breakers, after a warm-up.
fn heap_bytes_per_breaker<T>(n: usize, mut make: impl FnMut(usize) -> T) -> (usize, Vec<T>) {
    let mut kept: Vec<T> = Vec::with_capacity(n + 100);
    for i in 0..100 {
        kept.push(make(i));
    }
    let before = LIVE_BYTES.load(Ordering::Relaxed);
    for i in 100..n + 100 {
        kept.push(make(i));
    }
    ((LIVE_BYTES.load(Ordering::Relaxed) - before) / n, kept)
}

#[test]
fn idle_breakers_are_small_and_a_million_fit_in_256_mib() {
    // An idle breaker with its `Arc`, whatever the core count: no stripe is allocated before
    // its first call. Its name is interned first (an interned name is the program's, kept
    // for the life of the process; per-key breakers' names, below, are counted in).
    for i in 0..10_100 {
        drop(CircuitBreaker::new(format!("idle-{i}"), Config::default()));
    }
    let (bare, kept) = heap_bytes_per_breaker(10_000, |i| {
        std::sync::Arc::new(CircuitBreaker::new(format!("idle-{i}"), Config::default()))
    });
    println!("an idle breaker: {bare} heap bytes");
    assert!(bare <= 256, "an idle breaker takes {bare} heap bytes");
    // Called once, it holds its stripe table and two stripes; they go with it.
    let called = LIVE_BYTES.load(Ordering::Relaxed);
    let _ = kept[0].call(|| Ok::<_, ()>(()));
    println!(
        "its first call allocates {} bytes",
        LIVE_BYTES.load(Ordering::Relaxed) - called
    );
    drop(kept);

    // Per-key breakers: the breaker, its counted name and its entry in the set.
    let set = KeyedBreakers::new(
        "tenants",
        Config::default(),
        KeyedLimits::new(2 * MILLION, Duration::from_secs(3600)),
    );
    let (keyed, _) = heap_bytes_per_breaker(100_000, |i| {
        set.get(&format!("tenant-{i}")).map(drop).unwrap()
    });
    println!("a keyed breaker, name and entry: {keyed} heap bytes");
    assert!(
        keyed <= 256,
        "a keyed breaker takes {keyed} heap bytes with its entry"
    );
    drop(set);

    // Recording call durations costs only the breakers that record: the window's shared part
    // (236 bytes: the rate rules' ledger sits in it, empty) holding the histogram's pointer,
    // installed when the breaker is made; the histogram's stripes come with the first call.
    // Never an inline histogram (2 KiB and more).
    let recording = Config::builder()
        .record_call_durations(true)
        .build()
        .unwrap();
    let set = KeyedBreakers::new(
        "timed-tenants",
        recording,
        KeyedLimits::new(2 * MILLION, Duration::from_secs(3600)),
    );
    let (timed, kept) =
        heap_bytes_per_breaker(10_000, |i| set.get(&format!("tenant-{i}")).unwrap());
    println!("a keyed breaker that records call durations, idle: {timed} heap bytes");
    assert!(
        timed <= keyed + 256,
        "recording adds {} bytes to an idle breaker",
        timed - keyed
    );
    let called = LIVE_BYTES.load(Ordering::Relaxed);
    let _ = kept[0].call(|| Ok::<_, ()>(()));
    println!(
        "its first call allocates {} bytes (totals and histogram)",
        LIVE_BYTES.load(Ordering::Relaxed) - called
    );
    drop(kept);
    drop(set);

    // A million in a set, by resident memory (allocator overhead and all).
    let before = resident_kib();
    let set = KeyedBreakers::new(
        "tenants",
        Config::default(),
        KeyedLimits::new(MILLION, Duration::from_secs(3600)),
    );
    for i in 0..MILLION {
        drop(set.get(&format!("tenant-{i}")).unwrap());
    }
    assert_eq!(set.len(), MILLION);
    let grown = resident_kib().saturating_sub(before);
    println!("a million keyed breakers: {} MiB resident", grown / MIB);
    assert!(
        grown <= 256 * MIB,
        "a million keyed breakers took {grown} KiB"
    );
    drop(set);

    // And a million named ones in a registry, interned names included.
    let before = resident_kib();
    let registry = Registry::new();
    for i in 0..MILLION {
        registry.lookup_or_create(&format!("service-{i}"), Config::default);
    }
    let grown = resident_kib().saturating_sub(before);
    println!("a million named breakers: {} MiB resident", grown / MIB);
    assert!(
        grown <= 256 * MIB,
        "a million named breakers took {grown} KiB"
    );
}
