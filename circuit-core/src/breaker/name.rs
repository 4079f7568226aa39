//! Breaker names: interned for the life of the process, or counted and freed with their last
//! holder.
//!
//! A rejection returns a [`CircuitOpen`](crate::CircuitOpen) that carries the breaker's name,
//! must be `'static` (users convert it into their own error types), two words in size, and
//! cheap to make. A [`Name`] is one tagged pointer, to one of two things:
//!
//! - **Interned** (breakers made by [`CircuitBreaker::new`](crate::CircuitBreaker::new), the
//!   registry and the attribute): each distinct name is stored once for the life of the
//!   process, so copying it into a rejection is a pointer copy, with no write to shared memory.
//!   Memory is bounded by the number of distinct names, which a program spells out in its code.
//! - **Counted** (per-key breakers, see [`KeyedBreakers`](crate::KeyedBreakers)):
//!   keys come from requests and come and go, so their names must not stay forever. A counted
//!   name is one allocation, a reference count and the text, freed when the breaker and every
//!   `CircuitOpen` holding it are gone. A rejection then costs one atomic increment (and a
//!   decrement when it is dropped) on the name's count: a write to memory shared by the
//!   threads that are rejected by the same key, and the price of freeing the name.

use crate::sync::{fence, AtomicU64, Ordering};
use parking_lot::Mutex;
use std::alloc::{self, Layout};
use std::collections::HashMap;
use std::ptr::{self, NonNull};

static NAMES: Mutex<Option<HashMap<&'static str, &'static &'static str>>> = Mutex::new(None);

/// The low bit of a [`Name`]'s pointer: set for a counted name. Both targets are aligned to at
/// least 8 bytes, so the bit is free.
const COUNTED: usize = 1;

/// A breaker's name: a thin pointer, so the errors that carry it stay small.
pub(crate) struct Name(NonNull<u8>);

/// The head of a counted name's allocation; the text follows it.
#[repr(C)]
struct Counted {
    refs: AtomicU64,
    len: usize,
}

// SAFETY: a name is immutable text, shared either for the life of the process or under an
// atomic reference count, like `Arc<str>`.
unsafe impl Send for Name {}
// SAFETY: as above.
unsafe impl Sync for Name {}

impl Name {
    /// A counted name holding a copy of `text`, freed with its last holder.
    pub(crate) fn counted(text: &str) -> Name {
        let layout = counted_layout(text.len());
        // SAFETY: the layout is not zero-sized (it holds the head).
        let block = unsafe { alloc::alloc(layout) };
        let Some(block) = NonNull::new(block) else {
            alloc::handle_alloc_error(layout)
        };
        // SAFETY: `block` is fresh, sized and aligned for the head followed by the text.
        unsafe {
            ptr::write(
                block.as_ptr().cast::<Counted>(),
                Counted {
                    refs: AtomicU64::new(1),
                    len: text.len(),
                },
            );
            let bytes = block.as_ptr().add(size_of::<Counted>());
            ptr::copy_nonoverlapping(text.as_ptr(), bytes, text.len());
            Name(NonNull::new_unchecked(
                block.as_ptr().map_addr(|a| a | COUNTED),
            ))
        }
    }

    /// The counted name's head, or `None` for an interned name.
    fn head(&self) -> Option<&Counted> {
        let addr = self.0.as_ptr();
        (addr.addr() & COUNTED != 0).then(|| {
            // SAFETY: a tagged pointer points at a live counted name's head: this `Name` holds
            // one of its references.
            unsafe { &*addr.map_addr(|a| a & !COUNTED).cast::<Counted>() }
        })
    }

    /// The text.
    #[inline]
    pub(crate) fn as_str(&self) -> &str {
        match self.head() {
            None => self.interned().unwrap_or_default(),
            Some(head) => {
                let head_ptr: *const Counted = head;
                // SAFETY: `counted` wrote `len` bytes of UTF-8 right after the head, and they
                // live as long as the reference this `Name` holds.
                unsafe {
                    let bytes = head_ptr.cast::<u8>().add(size_of::<Counted>());
                    std::str::from_utf8_unchecked(std::slice::from_raw_parts(bytes, head.len))
                }
            }
        }
    }

    /// The text of an interned name, which lives as long as the process; `None` if counted.
    pub(crate) fn interned(&self) -> Option<&'static str> {
        if self.0.as_ptr().addr() & COUNTED != 0 {
            return None;
        }
        // SAFETY: an untagged pointer came from `intern`, which leaked it.
        Some(unsafe { *self.0.as_ptr().cast::<&'static str>() })
    }

    /// Whether this name is counted (freed with its last holder) rather than interned.
    #[cfg(test)]
    fn is_counted(&self) -> bool {
        self.head().is_some()
    }
}

fn counted_layout(len: usize) -> Layout {
    let (layout, _) = Layout::new::<Counted>()
        .extend(Layout::array::<u8>(len).expect("a name shorter than isize::MAX"))
        .expect("a name shorter than isize::MAX");
    layout.pad_to_align()
}

impl Clone for Name {
    #[inline]
    fn clone(&self) -> Name {
        if let Some(head) = self.head() {
            // Relaxed, as `Arc`: the new reference comes from an existing one, which keeps the
            // text alive and already made it visible to this thread.
            let old = head.refs.fetch_add(1, Ordering::Relaxed);
            if old > u64::MAX / 2 {
                // Billions of live copies can only be a leak (`mem::forget` in a loop).
                std::process::abort();
            }
        }
        Name(self.0)
    }
}

impl Drop for Name {
    #[inline]
    fn drop(&mut self) {
        let Some(head) = self.head() else { return };
        // Release, then Acquire before freeing (as `Arc`): every holder's reads of the text
        // happen before the last holder frees it.
        if head.refs.fetch_sub(1, Ordering::Release) != 1 {
            return;
        }
        fence(Ordering::Acquire);
        let len = head.len;
        let block: *mut Counted = ptr::from_ref(head).cast_mut();
        // SAFETY: this was the last reference; the block came from `counted` with this layout.
        unsafe {
            ptr::drop_in_place(block);
            alloc::dealloc(block.cast::<u8>(), counted_layout(len));
        }
    }
}

impl PartialEq for Name {
    fn eq(&self, other: &Name) -> bool {
        // One copy per distinct interned name, so most equal names are the same pointer.
        self.0 == other.0 || self.as_str() == other.as_str()
    }
}

impl Eq for Name {}

impl std::fmt::Debug for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

/// The process-wide copy of `name`.
pub(crate) fn intern(name: &str) -> Name {
    let mut names = NAMES.lock();
    let names = names.get_or_insert_with(HashMap::new);
    let interned: &'static &'static str = match names.get(name) {
        Some(&interned) => interned,
        None => {
            let text: &'static str = Box::leak(name.to_owned().into_boxed_str());
            let interned: &'static &'static str = Box::leak(Box::new(text));
            names.insert(text, interned);
            interned
        }
    };
    // Untagged: a `&'static str` is aligned to 8, so its low bit is clear.
    Name(NonNull::from(interned).cast::<u8>())
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn one_copy_per_distinct_interned_name() {
        let a = intern("name-test-a");
        let b = intern(&String::from("name-test-a"));
        assert!(a == b && std::ptr::eq(a.as_str(), b.as_str()));
        assert!(intern("name-test-b") != a);
        assert_eq!(a.as_str(), "name-test-a");
        assert_eq!(a.interned(), Some("name-test-a"));
        assert!(!a.is_counted());
    }

    #[test]
    fn a_counted_name_reads_back_compares_by_text_and_lives_while_held() {
        let a = Name::counted("tenant-42");
        assert!(a.is_counted() && a.interned().is_none());
        assert_eq!(a.as_str(), "tenant-42");
        assert!(a == intern("tenant-42"));
        let copies: Vec<Name> = (0..10).map(|_| a.clone()).collect();
        drop(a);
        // Still readable through every copy after the original is gone (miri and valgrind
        // would flag a read after free here).
        assert!(copies.iter().all(|c| c.as_str() == "tenant-42"));
        let empty = Name::counted("");
        assert_eq!(empty.as_str(), "");
    }

    #[test]
    fn a_name_is_one_pointer() {
        assert_eq!(size_of::<Name>(), 8);
        assert_eq!(size_of::<Option<Name>>(), 8);
    }
}
