//! The bounded single-producer single-consumer ring under every GPU queue.
//!
//! [`Ring::new`] allocates the slots once, at setup; [`Ring::split`] hands out the two ends, a
//! [`Producer`] and a [`Consumer`], each `Send` and neither `Clone`, sharing the slots through
//! an `Arc`. From then on no call allocates, locks, blocks or panics: a push into a full ring
//! and a pop from an empty one say so in their return values.
//!
//! # Memory-ordering proof
//!
//! `tail` counts items ever published and is written only by the producer; `head` counts items
//! ever popped and is written only by the consumer. Both run freely and wrap at `usize::MAX`;
//! a slot is `index & mask`. The producer owns the slots `[tail, head + capacity)` (free, or
//! staged: written but not yet published), the consumer owns `[head, tail)` (filled). The
//! producer's own `tail` field runs ahead of the published `tail` by the items it has staged;
//! everything below says `tail` for the published index. The protocol:
//!
//! 1. The producer writes the slots `[tail, tail + n)` and then stores `tail + n` with
//!    `Release`: at once for a push, or at `commit` for items staged one by one meanwhile
//!    (staged slots are written but not yet published, so they are still the producer's). A
//!    consumer that loads that `tail` (or a later one) with `Acquire` synchronises with the
//!    store, so the slot writes happen-before its slot reads: it never reads a slot before the
//!    write is complete.
//! 2. The consumer reads the slots `[head, head + n)` and then stores `head + n` with
//!    `Release`. A producer that loads that `head` with `Acquire` synchronises with it, so the
//!    reads happen-before the producer's next writes to those slots: a slot is never
//!    overwritten while it is being read.
//! 3. Each side keeps its own index in a plain field (it is the only writer) and a cached copy
//!    of the other side's index, reloaded only when the cache says there is not enough room
//!    (producer) or not enough items (consumer). A cached index is never ahead of the real
//!    one, because the real one only grows, so the cache can underestimate room or items but
//!    never overestimate them: a stale cache costs a reload, never a race.
//! 4. `tail - head` never exceeds `capacity` (the producer checks room against its cached
//!    `head`, which is not ahead of the real one), and `capacity <= 2^(usize::BITS - 1)`, so
//!    wrapping subtraction of the free-running indices is always the true count.
//!
//! `tests/loom_ring.rs` checks this protocol in every interleaving under loom
//! (`RUSTFLAGS="--cfg loom"`), where the atomics, `Arc` and the slot cells below are loom's.
#![allow(unsafe_code)] // the one place in `queue` that needs it; every block carries a SAFETY proof

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::alloc::Layout;
use core::fmt;
use core::mem::MaybeUninit;

use self::sync::{Arc, AtomicUsize, Ordering, SlotCell};

/// The synchronisation primitives: the real ones, or loom's model-checked ones under
/// `--cfg loom`. Both expose the same small surface.
#[cfg(not(loom))]
mod sync {
    pub(super) use alloc::sync::Arc;
    pub(super) use core::sync::atomic::{AtomicUsize, Ordering};

    /// One ring slot's interior mutability: `core::cell::UnsafeCell` (`repr(transparent)`,
    /// so a slice of cells has the layout of a slice of `T`).
    #[repr(transparent)]
    pub(super) struct SlotCell<T>(core::cell::UnsafeCell<T>);

    impl<T> SlotCell<T> {
        pub(super) const fn new(value: T) -> Self {
            Self(core::cell::UnsafeCell::new(value))
        }
    }
}

/// The synchronisation primitives: the real ones, or loom's model-checked ones under
/// `--cfg loom`. Both expose the same small surface.
#[cfg(loom)]
mod sync {
    pub(super) use loom::sync::atomic::{AtomicUsize, Ordering};
    pub(super) use loom::sync::Arc;

    /// One ring slot's interior mutability: loom's tracked `UnsafeCell`, which fails the model
    /// on any unsynchronised read/write or write/write pair.
    pub(super) struct SlotCell<T>(loom::cell::UnsafeCell<T>);

    impl<T> SlotCell<T> {
        pub(super) fn new(value: T) -> Self {
            Self(loom::cell::UnsafeCell::new(value))
        }

        pub(super) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
            self.0.with(f)
        }

        pub(super) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
            self.0.with_mut(f)
        }
    }
}

/// Pads and aligns a value to 128 bytes so that it has its cache line to itself: two 64-byte
/// lines, because x86 prefetches lines in adjacent pairs and some Arm cores have 128-byte lines.
#[repr(align(128))]
struct CachePadded<T>(T);

/// Why a ring could not be built. Returned only by [`Ring::new`], at setup.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RingError {
    /// A capacity of zero.
    ZeroCapacity,
    /// A capacity that is not a power of two (the capacity asked for). Rings index slots with a
    /// mask, so capacities are never rounded silently: ask for `n.next_power_of_two()`.
    NotPowerOfTwo(usize),
    /// A capacity whose slots would take more than `isize::MAX` bytes (the capacity).
    TooLarge(usize),
    /// The allocator could not provide the slots (the capacity).
    AllocFailed(usize),
}

impl fmt::Display for RingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ZeroCapacity => write!(f, "ring capacity is zero"),
            Self::NotPowerOfTwo(c) => write!(f, "ring capacity {c} is not a power of two"),
            Self::TooLarge(c) => write!(f, "ring capacity {c} is too large"),
            Self::AllocFailed(c) => write!(f, "could not allocate a ring of {c} slots"),
        }
    }
}

impl core::error::Error for RingError {}

/// What both ends share: the slots and the two indices, each index on its own cache line.
struct Shared<T> {
    /// Items ever popped (free-running); written only by the consumer.
    head: CachePadded<AtomicUsize>,
    /// Items ever pushed (free-running); written only by the producer.
    tail: CachePadded<AtomicUsize>,
    /// The slots, `capacity` of them, allocated once. Read-only as a field; the cells inside
    /// are written and read under the protocol in the module docs.
    slots: Box<[SlotCell<MaybeUninit<T>>]>,
}

// SAFETY: `Shared` is reached only through one `Producer` and one `Consumer` (neither is
// `Clone`, and the slot-touching methods take `&mut self`), so at most two threads touch it.
// The producer writes only free slots and the consumer reads only filled ones, and the
// Acquire/Release protocol in the module docs keeps those sets disjoint and orders every
// write before the read of the same slot. Items cross threads by value, hence `T: Send`.
unsafe impl<T: Send> Sync for Shared<T> {}

impl<T: Copy> Shared<T> {
    /// Copies `count` items from `src` into the slots `[start, start + count)`.
    ///
    /// # Safety
    ///
    /// `start + count <= capacity`; `src` is valid for `count` reads; the caller is the
    /// producer and the slots are free (not in `[head, tail)`).
    #[cfg(not(loom))]
    #[inline(always)]
    unsafe fn write_run(&self, start: usize, src: *const T, count: usize) {
        // `SlotCell<MaybeUninit<T>>` is `repr(transparent)` over `UnsafeCell<MaybeUninit<T>>`,
        // itself `repr(transparent)` over `T`'s layout, so the slot array is a `[T]` in memory.
        // The pointer comes from the whole slice, so it may reach every slot; writing through
        // a shared borrow is allowed because every byte of the slots is inside an `UnsafeCell`.
        let base = self.slots.as_ptr().cast::<T>().cast_mut();
        // SAFETY: the caller promises `start + count <= capacity`, so `base + start` and the
        // `count` slots after it are inside the allocation; `src` is readable for `count`
        // items and cannot overlap the slots (the ring's memory is never lent out); the
        // slots are free, so no reader touches them until `tail` is published with Release.
        unsafe { core::ptr::copy_nonoverlapping(src, base.add(start), count) }
    }

    /// Copies the slots `[start, start + count)` to `dst`.
    ///
    /// # Safety
    ///
    /// `start + count <= capacity`; `dst` is valid for `count` writes; the caller is the
    /// consumer and the slots are filled (in `[head, tail)` as loaded with Acquire).
    #[cfg(not(loom))]
    #[inline(always)]
    unsafe fn read_run(&self, start: usize, dst: *mut T, count: usize) {
        let base = self.slots.as_ptr().cast::<T>();
        // SAFETY: in bounds as in `write_run`; the slots are filled, so they hold initialised
        // `T`s written before the `tail` store this consumer acquired, and the producer does
        // not write them until `head` moves past them; `dst` is a caller's buffer, disjoint.
        unsafe { core::ptr::copy_nonoverlapping(base.add(start), dst, count) }
    }

    /// Calls `f` with a borrow of slot `index`, in place.
    ///
    /// # Safety
    ///
    /// `index < capacity`; the caller is the consumer and the slot is filled.
    #[cfg(not(loom))]
    #[inline(always)]
    unsafe fn read_at<R>(&self, index: usize, f: impl FnOnce(&T) -> R) -> R {
        let base = self.slots.as_ptr().cast::<T>();
        // SAFETY: in bounds (caller); the slot is filled, so it holds an initialised `T`
        // written before the `tail` store this consumer acquired, and the producer does not
        // write it until `head` moves past it, which happens only after `f` returns (the
        // borrow cannot outlive the call: `f` takes it for any lifetime).
        f(unsafe { &*base.add(index) })
    }

    /// Loom's version of `read_at`.
    ///
    /// # Safety
    ///
    /// As for the non-loom `read_at`.
    #[cfg(loom)]
    unsafe fn read_at<R>(&self, index: usize, f: impl FnOnce(&T) -> R) -> R {
        let cell = &self.slots[index];
        // SAFETY: the slot is filled (caller), so it holds an initialised `T`.
        cell.with(|p| f(unsafe { (*p).assume_init_ref() }))
    }

    /// Loom's version of `write_run`: one tracked cell access per slot.
    ///
    /// # Safety
    ///
    /// As for the non-loom `write_run`.
    #[cfg(loom)]
    unsafe fn write_run(&self, start: usize, src: *const T, count: usize) {
        for i in 0..count {
            if let Some(cell) = self.slots.get(start + i) {
                // SAFETY: `src` is readable for `count` items (caller), `i < count`; the cell
                // pointer is valid and loom checks that no other thread accesses it now.
                cell.with_mut(|p| unsafe { p.write(MaybeUninit::new(src.add(i).read())) });
            }
        }
    }

    /// Loom's version of `read_run`: one tracked cell access per slot.
    ///
    /// # Safety
    ///
    /// As for the non-loom `read_run`.
    #[cfg(loom)]
    unsafe fn read_run(&self, start: usize, dst: *mut T, count: usize) {
        for i in 0..count {
            if let Some(cell) = self.slots.get(start + i) {
                // SAFETY: the slot is filled (caller), so it holds an initialised `T`; `dst`
                // is writable for `count` items and `i < count`.
                cell.with(|p| unsafe { dst.add(i).write((*p).assume_init()) });
            }
        }
    }
}

/// A bounded SPSC ring of `T`, built once at setup and then [split](Ring::split) into its
/// [`Producer`] and [`Consumer`].
///
/// ```
/// use infersteer::queue::Ring;
///
/// let (mut tx, mut rx) = Ring::<u32>::new(8).unwrap().split();
/// assert_eq!(tx.push_burst(&[1, 2, 3]), 3);
/// let mut out = [0u32; 8];
/// assert_eq!(rx.pop_burst(&mut out), 3);
/// assert_eq!(out[..3], [1, 2, 3]);
/// ```
pub struct Ring<T> {
    shared: Arc<Shared<T>>,
}

impl<T: Copy + Send> Ring<T> {
    /// Allocates a ring of `capacity` slots, all usable.
    ///
    /// `capacity` must be a non-zero power of two; anything else is rejected, never rounded
    /// (see [`RingError`]). This is the ring's only allocation.
    pub fn new(capacity: usize) -> Result<Self, RingError> {
        if capacity == 0 {
            return Err(RingError::ZeroCapacity);
        }
        if !capacity.is_power_of_two() {
            return Err(RingError::NotPowerOfTwo(capacity));
        }
        // Any power of two is <= 2^(usize::BITS - 1), which the index arithmetic needs.
        if Layout::array::<T>(capacity).is_err() {
            return Err(RingError::TooLarge(capacity));
        }
        let mut slots = Vec::new();
        slots
            .try_reserve_exact(capacity)
            .map_err(|_| RingError::AllocFailed(capacity))?;
        slots.extend((0..capacity).map(|_| SlotCell::new(MaybeUninit::uninit())));
        Ok(Self {
            shared: Arc::new(Shared {
                head: CachePadded(AtomicUsize::new(0)),
                tail: CachePadded(AtomicUsize::new(0)),
                slots: slots.into_boxed_slice(),
            }),
        })
    }

    /// Splits the ring into its two ends. Give each to its thread.
    pub fn split(self) -> (Producer<T>, Consumer<T>) {
        let mask = self.shared.slots.len() - 1;
        (
            Producer {
                shared: Arc::clone(&self.shared),
                mask,
                tail: 0,
                published: 0,
                head_cache: 0,
            },
            Consumer {
                shared: self.shared,
                mask,
                head: 0,
                tail_cache: 0,
            },
        )
    }
}

impl<T> Ring<T> {
    /// The number of slots.
    pub fn capacity(&self) -> usize {
        self.shared.slots.len()
    }
}

impl<T> fmt::Debug for Ring<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ring")
            .field("capacity", &self.capacity())
            .finish()
    }
}

/// The producing end of a [`Ring`]: the only writer. `Send`, not `Clone`.
pub struct Producer<T> {
    shared: Arc<Shared<T>>,
    /// `capacity - 1`.
    mask: usize,
    /// Items ever written: pushed, or staged and not yet committed.
    tail: usize,
    /// Items ever published: the producer's own copy of `shared.tail` (`<= tail`).
    published: usize,
    /// The last `shared.head` this side loaded; never ahead of the real one.
    head_cache: usize,
}

impl<T: Copy> Producer<T> {
    /// Free slots according to the cached `head`: a lower bound on the real number.
    #[inline(always)]
    fn cached_room(&self) -> usize {
        // `tail - head_cache <= capacity` always (module docs, point 4), so this cannot wrap.
        (self.mask + 1).wrapping_sub(self.tail.wrapping_sub(self.head_cache))
    }

    /// Free slots, reloading the consumer's `head` only if the cache shows fewer than `want`.
    #[inline(always)]
    fn room(&mut self, want: usize) -> usize {
        let room = self.cached_room();
        if room >= want {
            return room;
        }
        self.head_cache = self.shared.head.0.load(Ordering::Acquire);
        self.cached_room()
    }

    /// Publishes `n` newly written items, and any staged before them, to the consumer (point 1
    /// of the module docs).
    #[inline(always)]
    fn publish(&mut self, n: usize) {
        self.tail = self.tail.wrapping_add(n);
        self.published = self.tail;
        self.shared.tail.0.store(self.tail, Ordering::Release);
    }

    /// Writes `item` into the next free slot without publishing it, or gives it back if the
    /// ring is full (staged items count as taken). The consumer sees staged items only at the
    /// next [`commit`](Self::commit) (or push, which publishes them ahead of its own), all
    /// together with one index store. A data plane stages each descriptor the moment it is
    /// decided, straight into the ring with no staging array, and commits once per burst.
    #[inline(always)]
    pub fn stage(&mut self, item: T) -> Result<(), T> {
        if self.room(1) == 0 {
            return Err(item);
        }
        // SAFETY: `room(1) >= 1` counts the staged slots as taken (they are in `self.tail`),
        // so the slot `self.tail & mask` is free: past every staged and published item and
        // within `capacity` of `head` (module docs, points 2 and 4). It is in bounds, and
        // `&item` is readable for one item. The consumer cannot read it before it is published.
        unsafe { self.shared.write_run(self.tail & self.mask, &item, 1) };
        self.tail = self.tail.wrapping_add(1);
        Ok(())
    }

    /// Items staged and not yet committed.
    #[inline(always)]
    pub fn staged(&self) -> usize {
        self.tail.wrapping_sub(self.published)
    }

    /// Forgets every staged item without publishing it (the slots stay free) and returns how
    /// many: for a producer abandoning a burst it could not finish.
    #[inline]
    pub fn discard_staged(&mut self) -> usize {
        self.discard_staged_with(|_| {})
    }

    /// [`discard_staged`](Self::discard_staged), first showing `f` each staged item, oldest
    /// first (to give back what they held, such as a quota).
    #[inline]
    pub fn discard_staged_with(&mut self, mut f: impl FnMut(&T)) -> usize {
        let n = self.staged();
        for k in 0..n {
            let index = self.published.wrapping_add(k) & self.mask;
            // SAFETY: `index < capacity` (masked). The slot is one of the `n` staged ones,
            // written by this producer and never published, so it holds an initialised `T`
            // that no consumer reads or writes (it is past the published `tail`); the borrow
            // ends before `f` returns, and nothing writes the slot meanwhile (`&mut self`).
            unsafe { self.shared.read_at(index, &mut f) };
        }
        self.tail = self.published;
        n
    }

    /// Publishes every staged item to the consumer with one index store (none if nothing is
    /// staged) and returns how many.
    #[inline]
    pub fn commit(&mut self) -> usize {
        let n = self.staged();
        if n != 0 {
            self.publish(0);
        }
        n
    }

    /// Pushes one item, or gives it back if the ring is full. Staged items are published
    /// with it, ahead of it.
    #[inline]
    pub fn push(&mut self, item: T) -> Result<(), T> {
        if self.room(1) == 0 {
            return Err(item);
        }
        // SAFETY: `room(1) >= 1`, so the slot `tail & mask` is free (module docs, point 2) and
        // in bounds (`(tail & mask) + 1 <= capacity`); `&item` is readable for one item.
        unsafe { self.shared.write_run(self.tail & self.mask, &item, 1) };
        self.publish(1);
        Ok(())
    }

    /// Pushes as many of `items` as there is room for, in order, and returns how many: all of
    /// them, a prefix, or none when the ring is full. The items pushed become visible to the
    /// consumer together, with one index store (and any staged items with them, ahead of them).
    #[inline]
    pub fn push_burst(&mut self, items: &[T]) -> usize {
        let n = self.room(items.len()).min(items.len());
        if n == 0 {
            return 0;
        }
        let start = self.tail & self.mask;
        // Slots up to the end of the array, then the rest from slot 0.
        let first = n.min(self.mask + 1 - start);
        let src = items.as_ptr();
        // SAFETY: `n <= room`, so the `n` slots from `tail` are free (point 2). The first run
        // is `[start, start + first)` with `start + first <= capacity`; the second is
        // `[0, n - first)` with `n - first <= n <= capacity`. `src` is readable for
        // `n <= items.len()` items, so for `first` items and for `n - first` items from
        // `src + first`.
        unsafe {
            self.shared.write_run(start, src, first);
            if first < n {
                self.shared.write_run(0, src.add(first), n - first);
            }
        }
        self.publish(n);
        n
    }
}

impl<T> Producer<T> {
    /// The number of slots.
    #[inline]
    pub fn capacity(&self) -> usize {
        self.mask + 1
    }

    /// Items in the ring now, staged ones included, as this side sees it (the consumer may be
    /// popping meanwhile, so the true number can only be lower).
    #[inline]
    pub fn len(&self) -> usize {
        self.tail
            .wrapping_sub(self.shared.head.0.load(Ordering::Acquire))
    }

    /// Whether the ring is empty now (it may fill the moment after; this side is the filler).
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the ring is full now (the consumer may make room the moment after).
    #[inline]
    pub fn is_full(&self) -> bool {
        self.len() == self.capacity()
    }
}

impl<T> fmt::Debug for Producer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Producer")
            .field("capacity", &self.capacity())
            .field("len", &self.len())
            .finish()
    }
}

/// The consuming end of a [`Ring`]: the only reader. `Send`, not `Clone`.
pub struct Consumer<T> {
    shared: Arc<Shared<T>>,
    /// `capacity - 1`.
    mask: usize,
    /// Items ever popped; the consumer's own copy of `shared.head`.
    head: usize,
    /// The last `shared.tail` this side loaded; never ahead of the real one.
    tail_cache: usize,
}

impl<T: Copy> Consumer<T> {
    /// Items available, reloading the producer's `tail` only if the cache shows fewer than
    /// `want`.
    #[inline(always)]
    fn available(&mut self, want: usize) -> usize {
        let avail = self.tail_cache.wrapping_sub(self.head);
        if avail >= want {
            return avail;
        }
        self.tail_cache = self.shared.tail.0.load(Ordering::Acquire);
        self.tail_cache.wrapping_sub(self.head)
    }

    /// Hands `n` read slots back to the producer (point 2 of the module docs).
    #[inline(always)]
    fn release(&mut self, n: usize) {
        self.head = self.head.wrapping_add(n);
        self.shared.head.0.store(self.head, Ordering::Release);
    }

    /// Pops the oldest item, or `None` if the ring is empty.
    #[inline]
    pub fn pop(&mut self) -> Option<T> {
        let item = self.peek()?;
        self.release(1);
        Some(item)
    }

    /// A copy of the oldest item without removing it, or `None` if the ring is empty.
    #[inline]
    pub fn peek(&mut self) -> Option<T> {
        if self.available(1) == 0 {
            return None;
        }
        let mut item = MaybeUninit::<T>::uninit();
        // SAFETY: `available(1) >= 1`, so the slot `head & mask` is filled and its write
        // happened-before (point 1); it is in bounds; `item` is writable for one `T`.
        unsafe {
            self.shared
                .read_run(self.head & self.mask, item.as_mut_ptr(), 1)
        };
        // SAFETY: `read_run` just wrote one initialised `T` into `item`.
        Some(unsafe { item.assume_init() })
    }

    /// Pops up to `out.len()` items into the front of `out`, oldest first, and returns how
    /// many: as many as `out` holds, fewer when the ring has fewer, `0` when it is empty. The
    /// slots popped return to the producer together, with one index store.
    #[inline]
    pub fn pop_burst(&mut self, out: &mut [T]) -> usize {
        let n = self.available(out.len()).min(out.len());
        if n == 0 {
            return 0;
        }
        let start = self.head & self.mask;
        let first = n.min(self.mask + 1 - start);
        let dst = out.as_mut_ptr();
        // SAFETY: `n <= available`, so the `n` slots from `head` are filled (point 1). The runs
        // are `[start, start + first)` and `[0, n - first)`, in bounds as in `push_burst`.
        // `dst` is writable for `n <= out.len()` items, so for `first` and then for
        // `n - first` from `dst + first`; `out` is a caller's buffer, disjoint from the slots.
        unsafe {
            self.shared.read_run(start, dst, first);
            if first < n {
                self.shared.read_run(0, dst.add(first), n - first);
            }
        }
        self.release(n);
        n
    }

    /// Pops up to `max` of the oldest items, reading each in place: `read(i, &item)` sees the
    /// `i`-th item in its slot, with no copy out. Returns how many were popped; their slots go
    /// back to the producer together, with one index store, after the last `read` returns. If
    /// `read` panics, nothing of this burst is popped.
    #[inline]
    pub fn pop_burst_with(&mut self, max: usize, mut read: impl FnMut(usize, &T)) -> usize {
        let n = self.available(max).min(max);
        if n == 0 {
            return 0;
        }
        let start = self.head & self.mask;
        let first = n.min(self.mask + 1 - start);
        for i in 0..first {
            // SAFETY: `start + i < capacity`, and the slot is one of the `n` filled slots from
            // `head` (`n <= available`, point 1).
            unsafe { self.shared.read_at(start + i, |item| read(i, item)) };
        }
        for i in first..n {
            // SAFETY: `i - first < capacity`: the rest of the filled slots, from slot 0.
            unsafe { self.shared.read_at(i - first, |item| read(i, item)) };
        }
        self.release(n);
        n
    }

    /// Borrows up to `max` of the oldest items where they lie, without popping them: the
    /// filled slots from the oldest on, as two runs (the second is non-empty only where the
    /// items wrap past the end of the slot array). A consumer that reads descriptors in place
    /// (or hands the runs to a DMA or a GPU copy) uses this and then [`advance`](Self::advance)
    /// by what it consumed; nothing is copied. While the runs are borrowed the consumer cannot
    /// advance, so the producer cannot reuse their slots.
    #[cfg(not(loom))]
    #[inline]
    pub fn peek_burst(&mut self, max: usize) -> (&[T], &[T]) {
        let n = self.available(max).min(max);
        let start = self.head & self.mask;
        let first = n.min(self.mask + 1 - start);
        let base = self.shared.slots.as_ptr().cast::<T>();
        // SAFETY: the runs `[start, start + first)` and `[0, n - first)` are inside the slot
        // array (`start + first <= capacity`, `n - first <= capacity`) and are among the `n`
        // filled slots from `head` (`n <= available`, point 1): initialised `T`s whose writes
        // happened-before the `tail` this consumer acquired. The producer writes a slot only
        // after `head` moves past it, and `head` moves only through `&mut self`, which the
        // returned borrows hold. The slots are `UnsafeCell`s that nobody writes meanwhile, so
        // shared references into them are sound. `n - first` is 0 unless the items wrap.
        unsafe {
            (
                core::slice::from_raw_parts(base.add(start), first),
                core::slice::from_raw_parts(base, n - first),
            )
        }
    }

    /// Pops the `n` oldest items without reading them (after [`peek_burst`](Self::peek_burst)
    /// read them in place), or all of them if there are fewer; returns how many. Their slots
    /// return to the producer with one index store.
    #[inline]
    pub fn advance(&mut self, n: usize) -> usize {
        let n = n.min(self.available(n));
        if n != 0 {
            self.release(n);
        }
        n
    }
}

impl<T> Consumer<T> {
    /// The number of slots.
    #[inline]
    pub fn capacity(&self) -> usize {
        self.mask + 1
    }

    /// Items in the ring now, as this side sees it (the producer may be pushing meanwhile, so
    /// the true number can only be higher).
    #[inline]
    pub fn len(&self) -> usize {
        self.shared
            .tail
            .0
            .load(Ordering::Acquire)
            .wrapping_sub(self.head)
    }

    /// Whether the ring is empty now (the producer may push the moment after).
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<T> fmt::Debug for Consumer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Consumer")
            .field("capacity", &self.capacity())
            .field("len", &self.len())
            .finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn rejects_bad_capacities() {
        assert_eq!(Ring::<u8>::new(0).err(), Some(RingError::ZeroCapacity));
        assert_eq!(Ring::<u8>::new(3).err(), Some(RingError::NotPowerOfTwo(3)));
        assert_eq!(
            Ring::<u64>::new(1 << (usize::BITS - 1)).err(),
            Some(RingError::TooLarge(1 << (usize::BITS - 1)))
        );
        assert_eq!(Ring::<u8>::new(1).map(|r| r.capacity()), Ok(1));
    }

    #[test]
    fn ends_are_send_and_shared_layout_is_padded() {
        fn send<S: Send>() {}
        send::<Producer<u64>>();
        send::<Consumer<u64>>();
        assert_eq!(core::mem::align_of::<CachePadded<AtomicUsize>>(), 128);
    }

    #[test]
    fn wraps_around_many_times() {
        let (mut tx, mut rx) = Ring::<u32>::new(4).unwrap().split();
        let mut next_in = 0u32;
        let mut next_out = 0u32;
        let mut out = [0u32; 3];
        for round in 0..1000 {
            let batch = [next_in, next_in + 1, next_in + 2];
            let want = 1 + round % 3;
            let pushed = tx.push_burst(&batch[..want]);
            next_in += pushed as u32;
            let got = rx.pop_burst(&mut out[..(round % 2) + 1]);
            for &v in &out[..got] {
                assert_eq!(v, next_out);
                next_out += 1;
            }
            assert!(tx.len() <= 4);
        }
        while let Some(v) = rx.pop() {
            assert_eq!(v, next_out);
            next_out += 1;
        }
        assert_eq!(next_in, next_out);
    }

    #[test]
    fn full_and_empty() {
        let (mut tx, mut rx) = Ring::<u8>::new(2).unwrap().split();
        assert!(tx.is_empty() && rx.is_empty());
        assert_eq!(rx.pop(), None);
        assert_eq!(tx.push(1), Ok(()));
        assert_eq!(tx.push_burst(&[2, 3, 4]), 1);
        assert!(tx.is_full());
        assert_eq!(tx.push(5), Err(5));
        assert_eq!(tx.push_burst(&[5]), 0);
        assert_eq!(rx.peek(), Some(1));
        assert_eq!(rx.len(), 2);
        let mut out = [0u8; 4];
        assert_eq!(rx.pop_burst(&mut out), 2);
        assert_eq!(out[..2], [1, 2]);
        assert_eq!(rx.pop_burst(&mut out), 0);
        assert_eq!(rx.pop_burst(&mut []), 0);
        assert_eq!(tx.push_burst(&[]), 0);
    }

    #[test]
    fn zero_sized_items() {
        let (mut tx, mut rx) = Ring::<()>::new(4).unwrap().split();
        assert_eq!(tx.push_burst(&[(); 6]), 4);
        assert_eq!(rx.pop_burst(&mut [(); 3]), 3);
        assert_eq!(rx.len(), 1);
    }
}
