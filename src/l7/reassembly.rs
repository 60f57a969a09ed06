//! Bounded, in-order reassembly of the first bytes a TCP client sends (a TLS ClientHello split
//! over two segments, an HTTP/1.1 request head, the HTTP/2 preface and first HEADERS), so that
//! the classifiers of [`super`] see contiguous bytes.
//!
//! # Promises
//!
//! - **No allocation after setup, bounded memory.** A [`Pool`] is one fixed-size value: `SLOTS`
//!   buffers of `SLOT_BYTES` bytes each (const generics, range-checked at compile time)
//!   plus a few words of bookkeeping per slot. Nothing grows: a segment is either copied into
//!   its slot's buffer (up to `SLOT_BYTES`) or rejected, never queued. The module uses `core`
//!   only.
//! - **No panic, on any input.** Any `seq`, any payload length (empty, or larger than a slot),
//!   any [`SlotId`] (forged, stale, from before a release), any timestamp. Every buffer access
//!   is a `get`; every list walk is bounded by `SLOTS` steps; counters saturate. Property tests
//!   drive random operations.
//! - **TCP sequence arithmetic modulo 2^32** (RFC 9293 §3.4): a segment's place is the signed
//!   32-bit difference between its sequence number and the next one expected, so a request
//!   whose sequence numbers wrap past 2^32 gathers like any other.
//! - **No evasion by overlap.** Bytes of a segment that fall on bytes already held must equal
//!   them (retransmissions included); otherwise the segment is dropped as
//!   [`Outcome::Conflict`] and nothing changes. A classifier never sees bytes that a later,
//!   different copy could replace.
//! - **Every outcome is counted** in [`Stats`], read with [`Pool::stats`].
//!
//! # What a push does
//!
//! A slot holds the bytes from `isn` (the sequence number of the first payload byte, given to
//! [`Pool::open`]) up to the next byte expected. [`Pool::push`] places a segment against that:
//!
//! | segment | result | counter |
//! |---|---|---|
//! | starts at the next byte expected | appended | `appended` |
//! | overlaps the end, overlap equal to the bytes held | new part appended | `appended` |
//! | lies entirely within the bytes held (a retransmission), equal | `Ok`, nothing added | `duplicate` |
//! | overlaps bytes held with different bytes | [`Outcome::Conflict`], nothing changes | `conflict` |
//! | starts after the next byte expected (a hole) | [`Outcome::OutOfOrder`], not stored | `out_of_order` |
//! | brings more bytes than the slot has room for | the part that fits is kept, [`Outcome::TooLong`] | `too_long` |
//! | empty payload (a pure ACK) | `Ok`, nothing added | none |
//!
//! Only in-order bytes are kept: a segment after a hole is dropped, and the sender's
//! retransmission fills the hole later. Bytes before `isn` (a segment that starts earlier and
//! reaches into the slot) are ignored: only bytes from `isn` on are compared or kept.
//!
//! After [`Outcome::TooLong`] the slot keeps its first `SLOT_BYTES` bytes and stays open, so a
//! classifier can still look at that prefix ([`Pool::bytes`]); any later segment that brings
//! bytes past the end is [`Outcome::TooLong`] again. Releasing the slot is the caller's call.
//! So is what to do after [`Outcome::Conflict`]: the pool drops the segment and keeps the slot
//! as it was; treating the flow as hostile (dropping it, releasing the slot) is policy.
//!
//! # Design
//!
//! - **Slots and ids.** A [`SlotId`] is a slot index and the slot's generation, which goes up
//!   each time the slot is freed; an id whose generation no longer matches is
//!   [`Outcome::UnknownSlot`], so a stale id held by a flow table can never reach another
//!   flow's bytes.
//! - **Finding a free slot is O(1):** freed slots sit on a free list threaded through the slot
//!   records, and slots never used yet are taken from a high-water mark.
//! - **Finding a slot by key ([`Pool::find`]) uses an index, not a scan:** `SLOTS` hash
//!   buckets, each a chain threaded through the slot records (one `u32` per slot, shared with
//!   the free list). The key is mixed with the seed given to [`Pool::new`] (the splitmix64
//!   finaliser) and mapped onto the buckets by multiply-shift, so with at most `SLOTS` keys the
//!   expected chain is about one slot long. Keys should already be a keyed hash of the 5-tuple
//!   (the flow table's); even with chosen collisions a lookup walks at most `SLOTS` records.
//! - **Expiry is O(expired + 1) per call:** open slots sit on a list in the order they were
//!   opened, so [`Pool::age`] frees from the oldest end and stops at the first slot still
//!   within its lifetime. The lifetime counts from [`Pool::open`], not from the last segment: a
//!   client that trickles one byte at a time cannot hold a slot longer than anyone else.
//!   Timestamps are caller-supplied nanoseconds (one per burst is enough); the pool runs its
//!   own clock that advances by each forward step of the caller's and ignores steps back, so a
//!   timestamp that goes backwards can neither reorder the list nor make a slot immortal.
//!
//! # Sizing and placement
//!
//! A pool takes about `SLOTS × (SLOT_BYTES + 52)` bytes. Build it once at setup where it will
//! live: [`Pool::new`] is a `const fn`, so a large pool can be a `static` or be built straight
//! into its owner; avoid moving a pool of megabytes through the stack (a `Box::new(Pool::new(..))`
//! of a large pool may build it on the stack first in unoptimised builds). `SLOT_BYTES` must
//! cover the first flight a classifier needs: a ClientHello with a post-quantum key share is
//! near 1.8 KB, so 4096 is a sensible size.
//!
//! Under a SYN flood, slots opened on SYNs are held until [`Pool::age`] expires them; opening
//! a slot on the first segment that carries payload (with `isn` its sequence number) keeps
//! slots for flows that send data.
//!
//! ```
//! use infersteer::l7::reassembly::{Outcome, Pool};
//!
//! // 4 slots of 64 bytes; slots live 1 s from open.
//! let mut pool = Pool::<4, 64>::new(1_000_000_000, 0x5eed);
//! let isn = u32::MAX - 3; // this request's sequence numbers wrap past 2^32
//! let slot = pool.open(7, isn, 0).unwrap();
//!
//! assert_eq!(pool.push(slot, isn, b"GET / HT").unwrap().bytes, b"GET / HT");
//! // A hole: not stored.
//! assert_eq!(pool.push(slot, isn.wrapping_add(12), b"\r\n"), Err(Outcome::OutOfOrder));
//! // An overlapping retransmission: only the new part is added.
//! let got = pool.push(slot, isn.wrapping_add(6), b"HTTP/1.1\r\n").unwrap();
//! assert_eq!((got.bytes, got.added), (&b"GET / HTTP/1.1\r\n"[..], 8));
//! // The same bytes with different content: an evasion attempt, dropped.
//! assert_eq!(pool.push(slot, isn, b"PUT"), Err(Outcome::Conflict));
//!
//! assert_eq!(pool.find(7), Some(slot));
//! assert_eq!(pool.age(2_000_000_000), 1); // expired
//! assert_eq!(pool.bytes(slot), Err(Outcome::UnknownSlot));
//! assert_eq!(pool.stats().conflict, 1);
//! ```
#![forbid(unsafe_code)]
#![deny(
    clippy::indexing_slicing,
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used
)]

use core::fmt;

/// Largest `SLOT_BYTES` a [`Pool`] accepts (1 GiB): it keeps every offset within a slot far
/// below 2^31, where TCP sequence comparisons stop being meaningful.
pub const MAX_SLOT_BYTES: usize = 1 << 30;

/// Largest `SLOTS` a [`Pool`] accepts (one index value is reserved as "none").
pub const MAX_SLOTS: usize = (u32::MAX - 1) as usize;

/// "No slot" in the lists threaded through the slot records.
const NIL: u32 = u32::MAX;

/// The signed distance from `b` to `a` in sequence space (RFC 9293 §3.4): positive when `a`
/// comes after `b`, within 2^31 either way.
#[inline(always)]
fn seq_diff(a: u32, b: u32) -> i32 {
    // Reinterpreting the wrapped difference as signed is the RFC's comparison.
    a.wrapping_sub(b) as i32
}

/// Adds one to a counter; counters saturate instead of overflowing.
#[inline(always)]
fn bump(counter: &mut u64) {
    *counter = counter.saturating_add(1);
}

/// A handle on an open slot: its index and generation. Ids of released or expired slots are
/// refused with [`Outcome::UnknownSlot`], whatever happened to the slot since.
///
/// An id is only meaningful for the pool that gave it; ids of another pool of the same size
/// are not told apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SlotId {
    index: u32,
    generation: u32,
}

impl SlotId {
    /// The slot's index in its pool, below `SLOTS`.
    #[inline]
    pub const fn index(self) -> usize {
        self.index as usize
    }

    /// The id as one `u64` (generation in the high half), to be stored in a flow table entry.
    #[inline]
    pub const fn to_bits(self) -> u64 {
        ((self.generation as u64) << 32) | self.index as u64
    }

    /// An id back from [`SlotId::to_bits`]. Any value is accepted; the pool checks it on use.
    #[inline]
    pub const fn from_bits(bits: u64) -> Self {
        Self {
            index: bits as u32,
            generation: (bits >> 32) as u32,
        }
    }
}

/// Why a pool operation did not take a segment or a slot. Each one is counted in [`Stats`].
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// The segment starts after the next byte expected: a hole. It is not stored; the sender
    /// will retransmit the missing bytes.
    OutOfOrder,
    /// Bytes of the segment differ from bytes already held at the same sequence numbers (an
    /// evasion attempt). The segment is dropped and the slot keeps what it had.
    Conflict,
    /// The segment brings bytes past the end of the slot. The bytes that fit were kept; the
    /// slot stays open with its first `SLOT_BYTES` bytes.
    TooLong,
    /// Every slot is in use: nothing was opened.
    PoolExhausted,
    /// The id names no open slot: out of range, released, expired or replaced since.
    UnknownSlot,
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::OutOfOrder => "segment out of order: it starts after a hole",
            Self::Conflict => "segment overlaps bytes already held with different bytes",
            Self::TooLong => "more bytes than the reassembly slot holds",
            Self::PoolExhausted => "no free reassembly slot",
            Self::UnknownSlot => "unknown or stale reassembly slot id",
        })
    }
}

impl core::error::Error for Outcome {}

/// Counters of a [`Pool`], one per outcome; each saturates at `u64::MAX`.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Stats {
    /// Slots opened (including one that replaced a slot of the same key with another `isn`).
    pub opened: u64,
    /// Segments that added bytes and fit entirely.
    pub appended: u64,
    /// Segments that lay entirely within the bytes held (or before `isn`) and matched them.
    pub duplicate: u64,
    /// Segments dropped because they started after a hole ([`Outcome::OutOfOrder`]).
    pub out_of_order: u64,
    /// Segments dropped because they contradicted bytes held ([`Outcome::Conflict`]).
    pub conflict: u64,
    /// Segments that did not fit, whole or in part ([`Outcome::TooLong`]).
    pub too_long: u64,
    /// Opens refused because every slot was in use ([`Outcome::PoolExhausted`]).
    pub exhausted: u64,
    /// Slots freed by [`Pool::age`].
    pub expired: u64,
    /// Slots freed by [`Pool::release`], or replaced by an open of the same key with another
    /// `isn`.
    pub released: u64,
    /// Pushes and releases with an id that names no open slot ([`Outcome::UnknownSlot`]).
    pub unknown_slot: u64,
}

/// What a successful [`Pool::push`] returns: every byte gathered so far, from `isn` on.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Gathered<'a> {
    /// The contiguous bytes held, from the flow's first payload byte.
    pub bytes: &'a [u8],
    /// How many of them this push added; 0 for a duplicate or an empty payload, when there is
    /// nothing new to classify.
    pub added: usize,
}

/// Bookkeeping of one slot.
#[derive(Clone, Copy)]
struct Meta {
    /// The flow key (meaningful while in use).
    key: u64,
    /// Pool clock when the slot was opened.
    opened_at: u64,
    /// Sequence number of byte 0 of the buffer.
    isn: u32,
    /// Bytes held, at most `SLOT_BYTES`.
    len: u32,
    /// Goes up each time the slot is freed.
    generation: u32,
    /// Next slot in the same hash bucket (in use) or on the free list (free).
    link: u32,
    /// The slot opened just before this one (toward the oldest), or `NIL`.
    older: u32,
    /// The slot opened just after this one (toward the newest), or `NIL`.
    newer: u32,
    /// Whether the slot is open.
    in_use: bool,
}

impl Meta {
    const FREE: Self = Self {
        key: 0,
        opened_at: 0,
        isn: 0,
        len: 0,
        generation: 0,
        link: NIL,
        older: NIL,
        newer: NIL,
        in_use: false,
    };
}

/// Where a segment falls against the bytes held; computed before anything changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Placement {
    /// Empty payload.
    Empty,
    /// Starts after the next byte expected, and the slot still has room.
    Hole,
    /// Brings bytes past the end of a full slot.
    Full,
    /// Contradicts bytes held.
    Conflict,
    /// Nothing new, and what overlaps matches.
    Duplicate,
    /// Append `payload[from..from + take]`; `cut` when more bytes followed that did not fit.
    Append { from: usize, take: usize, cut: bool },
}

/// Places `payload`, whose first byte has sequence number `seq`, against `held`, the bytes of
/// a slot starting at `isn` and holding at most `cap` bytes.
fn place(held: &[u8], cap: usize, isn: u32, seq: u32, payload: &[u8]) -> Placement {
    if payload.is_empty() {
        return Placement::Empty;
    }
    // Offsets relative to `isn`, in i64: `held.len()` is at most `MAX_SLOT_BYTES` and a slice
    // is at most `isize::MAX` bytes, so nothing below overflows (and saturation guards anyway).
    let len = i64::try_from(held.len()).unwrap_or(i64::MAX);
    let end_seq = isn.wrapping_add(u32::try_from(held.len()).unwrap_or(u32::MAX));
    let gap = i64::from(seq_diff(seq, end_seq));
    if gap > 0 {
        return if held.len() >= cap {
            Placement::Full
        } else {
            Placement::Hole
        };
    }
    // Offset of payload[0]; negative when the segment starts before `isn`.
    let start = len.saturating_add(gap);
    let stop = start.saturating_add(i64::try_from(payload.len()).unwrap_or(i64::MAX));
    // Bytes both held and in the segment: offsets [lo, hi) from `isn`.
    let lo = start.max(0);
    let hi = stop.min(len);
    if lo < hi {
        let ours = usize::try_from(lo)
            .ok()
            .zip(usize::try_from(hi).ok())
            .and_then(|(a, b)| held.get(a..b));
        let theirs = usize::try_from(lo.saturating_sub(start))
            .ok()
            .zip(usize::try_from(hi.saturating_sub(start)).ok())
            .and_then(|(a, b)| payload.get(a..b));
        match (ours, theirs) {
            (Some(ours), Some(theirs)) if ours == theirs => {}
            _ => return Placement::Conflict,
        }
    }
    if stop <= len {
        return Placement::Duplicate;
    }
    // `start <= len < stop`: the new bytes are payload[len - start..].
    let Ok(from) = usize::try_from(len.saturating_sub(start)) else {
        return Placement::Conflict;
    };
    let new = payload.len().saturating_sub(from);
    let room = cap.saturating_sub(held.len());
    if room == 0 {
        return Placement::Full;
    }
    let take = new.min(room);
    Placement::Append {
        from,
        take,
        cut: take < new,
    }
}

/// A fixed pool of `SLOTS` reassembly buffers of `SLOT_BYTES` bytes each, keyed by flow.
///
/// See the [module documentation](self) for what each operation does and costs.
/// `SLOTS` must be in `1..=MAX_SLOTS` and `SLOT_BYTES` in `1..=MAX_SLOT_BYTES`; other sizes
/// fail the build.
#[derive(Clone)]
pub struct Pool<const SLOTS: usize, const SLOT_BYTES: usize> {
    data: [[u8; SLOT_BYTES]; SLOTS],
    meta: [Meta; SLOTS],
    /// Head of each hash bucket's chain.
    buckets: [u32; SLOTS],
    /// Head of the free list (slots freed since setup).
    free_head: u32,
    /// Slots `fresh..SLOTS` have never been used.
    fresh: u32,
    /// Oldest and newest open slot.
    oldest: u32,
    newest: u32,
    in_use: u32,
    /// The pool's own clock: starts at the first timestamp seen and advances by every forward
    /// step of the caller's clock, never back ([`Pool::tick`]).
    clock: u64,
    /// The caller's last timestamp (`None` before the first).
    last_now: Option<u64>,
    lifetime_ns: u64,
    seed: u64,
    stats: Stats,
}

impl<const SLOTS: usize, const SLOT_BYTES: usize> fmt::Debug for Pool<SLOTS, SLOT_BYTES> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool")
            .field("slots", &SLOTS)
            .field("slot_bytes", &SLOT_BYTES)
            .field("in_use", &self.in_use)
            .field("lifetime_ns", &self.lifetime_ns)
            .field("clock", &self.clock)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl<const SLOTS: usize, const SLOT_BYTES: usize> Pool<SLOTS, SLOT_BYTES> {
    /// Fails the build of a pool whose sizes are out of range.
    const SIZES_OK: () = assert!(
        SLOTS >= 1 && SLOTS <= MAX_SLOTS && SLOT_BYTES >= 1 && SLOT_BYTES <= MAX_SLOT_BYTES,
        "reassembly::Pool: SLOTS must be in 1..=MAX_SLOTS and SLOT_BYTES in 1..=MAX_SLOT_BYTES"
    );

    /// An empty pool. Slots live `lifetime_ns` nanoseconds from [`Pool::open`] before
    /// [`Pool::age`] frees them (`u64::MAX`: never); `seed` keys the hash of flow keys (any
    /// value; a random one per process makes bucket collisions hard to choose).
    pub const fn new(lifetime_ns: u64, seed: u64) -> Self {
        #[allow(clippy::let_unit_value)]
        let () = Self::SIZES_OK;
        Self {
            data: [[0; SLOT_BYTES]; SLOTS],
            meta: [Meta::FREE; SLOTS],
            buckets: [NIL; SLOTS],
            free_head: NIL,
            fresh: 0,
            oldest: NIL,
            newest: NIL,
            in_use: 0,
            clock: 0,
            last_now: None,
            lifetime_ns,
            seed,
            stats: Stats {
                opened: 0,
                appended: 0,
                duplicate: 0,
                out_of_order: 0,
                conflict: 0,
                too_long: 0,
                exhausted: 0,
                expired: 0,
                released: 0,
                unknown_slot: 0,
            },
        }
    }

    /// Number of slots (`SLOTS`).
    #[inline]
    pub const fn capacity(&self) -> usize {
        SLOTS
    }

    /// Bytes per slot (`SLOT_BYTES`): the most a flow gathers.
    #[inline]
    pub const fn slot_bytes(&self) -> usize {
        SLOT_BYTES
    }

    /// Slots open now; never more than `SLOTS`.
    #[inline]
    pub fn in_use(&self) -> usize {
        self.in_use as usize
    }

    /// The counters.
    #[inline]
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// Opens a slot for flow `key`, whose first payload byte has sequence number `isn` (the
    /// SYN's sequence number plus one, or the sequence number of the first data segment seen),
    /// at time `now` (nanoseconds, caller's clock).
    ///
    /// If `key` already has a slot: with the same `isn` that slot is returned unchanged (a
    /// retransmitted SYN does not reset it, nor extend its lifetime); with another `isn` it is a
    /// new connection on the same key, and the old slot is released (its id goes stale) and a
    /// fresh one opened.
    ///
    /// # Errors
    ///
    /// [`Outcome::PoolExhausted`] when every slot is in use.
    pub fn open(&mut self, key: u64, isn: u32, now: u64) -> Result<SlotId, Outcome> {
        self.tick(now);
        if let Some(i) = self.lookup(key) {
            let same = self.meta.get(i).map(|m| (m.isn == isn, m.generation));
            match same {
                Some((true, generation)) => {
                    return Ok(SlotId {
                        index: i as u32,
                        generation,
                    })
                }
                _ => {
                    self.free(i);
                    bump(&mut self.stats.released);
                }
            }
        }
        let Some(i) = self.take_free() else {
            bump(&mut self.stats.exhausted);
            return Err(Outcome::PoolExhausted);
        };
        let index = i as u32;
        let bucket = self.bucket(key);
        let chain = self.buckets.get(bucket).copied().unwrap_or(NIL);
        let newest = self.newest;
        let opened_at = self.clock;
        let Some(m) = self.meta.get_mut(i) else {
            // Unreachable: `take_free` returns indices below `SLOTS`.
            bump(&mut self.stats.exhausted);
            return Err(Outcome::PoolExhausted);
        };
        m.key = key;
        m.opened_at = opened_at;
        m.isn = isn;
        m.len = 0;
        m.link = chain;
        m.older = newest;
        m.newer = NIL;
        m.in_use = true;
        let generation = m.generation;
        if let Some(head) = self.buckets.get_mut(bucket) {
            *head = index;
        }
        match self.meta.get_mut(newest as usize) {
            Some(n) => n.newer = index,
            None => self.oldest = index,
        }
        self.newest = index;
        self.in_use = self.in_use.saturating_add(1);
        bump(&mut self.stats.opened);
        Ok(SlotId { index, generation })
    }

    /// The open slot of flow `key`, if any.
    #[inline]
    pub fn find(&self, key: u64) -> Option<SlotId> {
        let i = self.lookup(key)?;
        let m = self.meta.get(i)?;
        Some(SlotId {
            index: i as u32,
            generation: m.generation,
        })
    }

    /// Adds a segment of the flow: `payload` is its TCP payload and `seq` its sequence number.
    /// Returns every byte gathered so far (see the [module documentation](self) for how
    /// duplicates, overlaps and holes are handled).
    ///
    /// # Errors
    ///
    /// - [`Outcome::UnknownSlot`]: `slot` names no open slot.
    /// - [`Outcome::OutOfOrder`]: the segment starts after a hole; it is not stored.
    /// - [`Outcome::Conflict`]: it contradicts bytes already held; nothing changes.
    /// - [`Outcome::TooLong`]: the bytes that fit were kept, the rest dropped; the slot holds
    ///   `SLOT_BYTES` bytes, read them with [`Pool::bytes`].
    pub fn push(
        &mut self,
        slot: SlotId,
        seq: u32,
        payload: &[u8],
    ) -> Result<Gathered<'_>, Outcome> {
        let Some(i) = self.live(slot) else {
            bump(&mut self.stats.unknown_slot);
            return Err(Outcome::UnknownSlot);
        };
        let placement = match (self.meta.get(i), self.data.get(i)) {
            (Some(m), Some(buf)) => {
                let held = buf.get(..m.len as usize).unwrap_or(&[]);
                place(held, SLOT_BYTES, m.isn, seq, payload)
            }
            // Unreachable: `live` checked the index.
            _ => Placement::Conflict,
        };
        let added = match placement {
            Placement::Empty => 0,
            Placement::Duplicate => {
                bump(&mut self.stats.duplicate);
                0
            }
            Placement::Hole => {
                bump(&mut self.stats.out_of_order);
                return Err(Outcome::OutOfOrder);
            }
            Placement::Full => {
                bump(&mut self.stats.too_long);
                return Err(Outcome::TooLong);
            }
            Placement::Conflict => {
                bump(&mut self.stats.conflict);
                return Err(Outcome::Conflict);
            }
            Placement::Append { from, take, cut } => {
                let appended = self.append(i, payload, from, take);
                if cut || appended < take {
                    bump(&mut self.stats.too_long);
                    return Err(Outcome::TooLong);
                }
                bump(&mut self.stats.appended);
                appended
            }
        };
        Ok(Gathered {
            bytes: self.held(i),
            added,
        })
    }

    /// The bytes gathered so far in `slot`, from its first payload byte.
    ///
    /// # Errors
    ///
    /// [`Outcome::UnknownSlot`] when `slot` names no open slot (not counted: this method does
    /// not change the pool).
    #[inline]
    pub fn bytes(&self, slot: SlotId) -> Result<&[u8], Outcome> {
        self.live(slot)
            .map(|i| self.held(i))
            .ok_or(Outcome::UnknownSlot)
    }

    /// The sequence number of the next byte `slot` expects.
    ///
    /// # Errors
    ///
    /// [`Outcome::UnknownSlot`] when `slot` names no open slot (not counted).
    #[inline]
    pub fn next_seq(&self, slot: SlotId) -> Result<u32, Outcome> {
        self.live(slot)
            .and_then(|i| self.meta.get(i))
            .map(|m| m.isn.wrapping_add(m.len))
            .ok_or(Outcome::UnknownSlot)
    }

    /// Gives `slot` back to the pool; its id (and every copy of it) goes stale.
    ///
    /// # Errors
    ///
    /// [`Outcome::UnknownSlot`] when `slot` names no open slot (already released, expired).
    pub fn release(&mut self, slot: SlotId) -> Result<(), Outcome> {
        match self.live(slot) {
            Some(i) => {
                self.free(i);
                bump(&mut self.stats.released);
                Ok(())
            }
            None => {
                bump(&mut self.stats.unknown_slot);
                Err(Outcome::UnknownSlot)
            }
        }
    }

    /// Frees every slot opened `lifetime_ns` or more before `now` (on the pool's clock, which
    /// ignores steps back of the caller's); returns how many. Call it once per burst: it costs one
    /// check plus one per slot freed.
    pub fn age(&mut self, now: u64) -> usize {
        self.tick(now);
        let mut expired = 0;
        for _ in 0..SLOTS {
            let Some(m) = self.meta.get(self.oldest as usize) else {
                break;
            };
            if self.clock.saturating_sub(m.opened_at) < self.lifetime_ns {
                break;
            }
            self.free(self.oldest as usize);
            bump(&mut self.stats.expired);
            expired += 1;
        }
        expired
    }

    /// Moves the pool's clock by the caller's step from its last timestamp: forward steps
    /// add, a step back adds nothing and the next step counts from the earlier time. So the
    /// order of the open list (by opening time) always holds, and after a clock that jumped
    /// ahead comes back, slots keep expiring one lifetime after they opened (with the largest
    /// timestamp as the clock, slots opened after the step back would live as long as the
    /// jump).
    #[inline]
    fn tick(&mut self, now: u64) {
        match self.last_now {
            None => self.clock = now,
            Some(last) => self.clock = self.clock.saturating_add(now.saturating_sub(last)),
        }
        self.last_now = Some(now);
    }

    /// The index of `slot` if it names an open slot.
    #[inline(always)]
    fn live(&self, slot: SlotId) -> Option<usize> {
        let i = slot.index as usize;
        let m = self.meta.get(i)?;
        (m.in_use && m.generation == slot.generation).then_some(i)
    }

    /// The bytes held by slot `i`.
    #[inline(always)]
    fn held(&self, i: usize) -> &[u8] {
        match (self.meta.get(i), self.data.get(i)) {
            (Some(m), Some(buf)) => buf.get(..m.len as usize).unwrap_or(&[]),
            _ => &[],
        }
    }

    /// Copies `payload[from..from + take]` after the bytes of slot `i`; returns how many bytes
    /// were copied (`take`, unless the range is out of bounds, which `place` rules out).
    fn append(&mut self, i: usize, payload: &[u8], from: usize, take: usize) -> usize {
        let (Some(m), Some(buf)) = (self.meta.get_mut(i), self.data.get_mut(i)) else {
            return 0;
        };
        let len = m.len as usize;
        let src = from
            .checked_add(take)
            .and_then(|stop| payload.get(from..stop));
        let dst = len
            .checked_add(take)
            .and_then(|stop| buf.get_mut(len..stop));
        match (dst, src) {
            (Some(dst), Some(src)) => {
                // Both ranges are `take` bytes long.
                dst.copy_from_slice(src);
                // `len + take <= SLOT_BYTES <= MAX_SLOT_BYTES < 2^32`.
                m.len = (len + take) as u32;
                take
            }
            _ => 0,
        }
    }

    /// The bucket of `key`.
    #[inline(always)]
    fn bucket(&self, key: u64) -> usize {
        // splitmix64's finaliser over the seeded key, then multiply-shift onto the buckets.
        let mut z = key ^ self.seed;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        ((u128::from(z) * SLOTS as u128) >> 64) as usize
    }

    /// The open slot of `key`, walking its bucket's chain (at most `SLOTS` records).
    fn lookup(&self, key: u64) -> Option<usize> {
        let mut at = self.buckets.get(self.bucket(key)).copied().unwrap_or(NIL);
        for _ in 0..SLOTS {
            let m = self.meta.get(at as usize)?;
            if m.key == key {
                return Some(at as usize);
            }
            at = m.link;
        }
        None
    }

    /// A slot to open: from the free list, else one never used.
    fn take_free(&mut self) -> Option<usize> {
        if let Some(m) = self.meta.get(self.free_head as usize) {
            let i = self.free_head as usize;
            self.free_head = m.link;
            return Some(i);
        }
        if (self.fresh as usize) < SLOTS {
            let i = self.fresh as usize;
            self.fresh += 1;
            return Some(i);
        }
        None
    }

    /// Closes open slot `i`: off its bucket chain and the age list, generation up, onto the
    /// free list.
    fn free(&mut self, i: usize) {
        let Some(&m) = self.meta.get(i) else {
            return;
        };
        if !m.in_use {
            return;
        }
        let index = i as u32;
        // Unlink from the bucket chain.
        let bucket = self.bucket(m.key);
        if self.buckets.get(bucket).copied() == Some(index) {
            if let Some(head) = self.buckets.get_mut(bucket) {
                *head = m.link;
            }
        } else {
            let mut at = self.buckets.get(bucket).copied().unwrap_or(NIL);
            for _ in 0..SLOTS {
                let Some(prev) = self.meta.get_mut(at as usize) else {
                    break;
                };
                if prev.link == index {
                    prev.link = m.link;
                    break;
                }
                at = prev.link;
            }
        }
        // Unlink from the age list.
        match self.meta.get_mut(m.older as usize) {
            Some(o) => o.newer = m.newer,
            None => self.oldest = m.newer,
        }
        match self.meta.get_mut(m.newer as usize) {
            Some(n) => n.older = m.older,
            None => self.newest = m.older,
        }
        let free_head = self.free_head;
        if let Some(slot) = self.meta.get_mut(i) {
            *slot = Meta {
                generation: m.generation.wrapping_add(1),
                link: free_head,
                ..Meta::FREE
            };
        }
        self.free_head = index;
        self.in_use = self.in_use.saturating_sub(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SECOND: u64 = 1_000_000_000;

    type Small = Pool<4, 32>;

    fn pool() -> Small {
        Small::new(SECOND, 0x0123_4567_89ab_cdef)
    }

    fn gathered<const S: usize, const B: usize>(
        p: &mut Pool<S, B>,
        slot: SlotId,
        seq: u32,
        payload: &[u8],
    ) -> (Vec<u8>, usize) {
        let g = p.push(slot, seq, payload).unwrap();
        (g.bytes.to_vec(), g.added)
    }

    #[test]
    fn in_order_segments_append() {
        let mut p = pool();
        let s = p.open(1, 1000, 0).unwrap();
        assert_eq!(gathered(&mut p, s, 1000, b"GET "), (b"GET ".to_vec(), 4));
        assert_eq!(
            gathered(&mut p, s, 1004, b"/ HTTP/1.1"),
            (b"GET / HTTP/1.1".to_vec(), 10)
        );
        assert_eq!(p.next_seq(s), Ok(1014));
        assert_eq!(p.bytes(s), Ok(&b"GET / HTTP/1.1"[..]));
        assert_eq!(p.stats().appended, 2);
        assert_eq!(p.stats().opened, 1);
    }

    #[test]
    fn client_hello_in_two_segments() {
        // A TLS record header announcing 40 bytes, cut after 20 bytes of body.
        let mut record = vec![0x16, 0x03, 0x01, 0x00, 40];
        record.extend((0..40u8).map(|b| b.wrapping_mul(7)));
        let mut p = Pool::<2, 64>::new(SECOND, 1);
        let isn = 0x8000_0000;
        let s = p.open(9, isn, 0).unwrap();
        let (first, second) = record.split_at(25);
        assert_eq!(p.push(s, isn, first).unwrap().bytes, first);
        let g = p.push(s, isn + 25, second).unwrap();
        assert_eq!(g.bytes, &record[..]);
        assert_eq!(g.added, second.len());
    }

    #[test]
    fn pure_retransmission_is_duplicate() {
        let mut p = pool();
        let s = p.open(1, 10, 0).unwrap();
        p.push(s, 10, b"hello").unwrap();
        p.push(s, 15, b"world").unwrap();
        // Whole retransmissions, and a segment strictly inside.
        for (seq, payload) in [(10, &b"hello"[..]), (15, b"world"), (12, b"llowo")] {
            let g = p.push(s, seq, payload).unwrap();
            assert_eq!((g.bytes, g.added), (&b"helloworld"[..], 0));
        }
        assert_eq!(p.stats().duplicate, 3);
        assert_eq!(p.stats().appended, 2);
    }

    #[test]
    fn retransmission_with_other_bytes_is_conflict() {
        let mut p = pool();
        let s = p.open(1, 10, 0).unwrap();
        p.push(s, 10, b"hello").unwrap();
        assert_eq!(p.push(s, 10, b"jello"), Err(Outcome::Conflict));
        assert_eq!(p.push(s, 13, b"lO"), Err(Outcome::Conflict));
        assert_eq!(p.bytes(s), Ok(&b"hello"[..]));
        assert_eq!(p.stats().conflict, 2);
        assert_eq!(p.stats().duplicate, 0);
    }

    #[test]
    fn overlap_at_end_appends_only_new_part() {
        let mut p = pool();
        let s = p.open(1, 100, 0).unwrap();
        p.push(s, 100, b"abcdef").unwrap();
        let g = p.push(s, 103, b"defghi").unwrap();
        assert_eq!((g.bytes, g.added), (&b"abcdefghi"[..], 3));
        // A segment covering everything held and more.
        let g = p.push(s, 100, b"abcdefghijk").unwrap();
        assert_eq!((g.bytes, g.added), (&b"abcdefghijk"[..], 2));
        assert_eq!(p.stats().appended, 3);
    }

    #[test]
    fn overlap_at_end_with_other_bytes_is_conflict() {
        let mut p = pool();
        let s = p.open(1, 100, 0).unwrap();
        p.push(s, 100, b"abcdef").unwrap();
        assert_eq!(p.push(s, 104, b"eXgh"), Err(Outcome::Conflict));
        assert_eq!(p.bytes(s), Ok(&b"abcdef"[..]));
        assert_eq!(p.next_seq(s), Ok(106));
        // The honest copy still goes in.
        assert_eq!(p.push(s, 104, b"efgh").unwrap().bytes, b"abcdefgh");
        assert_eq!(p.stats().conflict, 1);
    }

    #[test]
    fn hole_is_out_of_order_and_not_stored() {
        let mut p = pool();
        let s = p.open(1, 0, 0).unwrap();
        p.push(s, 0, b"ab").unwrap();
        assert_eq!(p.push(s, 3, b"def"), Err(Outcome::OutOfOrder));
        assert_eq!(p.bytes(s), Ok(&b"ab"[..]));
        // The retransmission fills the hole; the segment after it must come again.
        assert_eq!(p.push(s, 2, b"c").unwrap().bytes, b"abc");
        assert_eq!(p.push(s, 3, b"def").unwrap().bytes, b"abcdef");
        assert_eq!(p.stats().out_of_order, 1);
    }

    #[test]
    fn too_long_keeps_what_fits() {
        let mut p = Pool::<1, 8>::new(SECOND, 0);
        let s = p.open(1, 50, 0).unwrap();
        p.push(s, 50, b"12345").unwrap();
        assert_eq!(p.push(s, 55, b"6789ab"), Err(Outcome::TooLong));
        assert_eq!(p.bytes(s), Ok(&b"12345678"[..]));
        assert_eq!(p.next_seq(s), Ok(58));
        // Anything past the end of a full slot, in order or after a hole, is TooLong again;
        // a retransmission of what is held is still a duplicate and still checked.
        assert_eq!(p.push(s, 58, b"9"), Err(Outcome::TooLong));
        assert_eq!(p.push(s, 61, b"c"), Err(Outcome::TooLong));
        assert_eq!(p.push(s, 55, b"6789ab"), Err(Outcome::TooLong));
        assert_eq!(p.push(s, 52, b"345").unwrap().added, 0);
        assert_eq!(p.push(s, 52, b"3X5"), Err(Outcome::Conflict));
        assert_eq!(p.stats().too_long, 4);
        assert_eq!(p.stats().duplicate, 1);
        assert_eq!(p.in_use(), 1);
    }

    #[test]
    fn payload_larger_than_slot() {
        let mut p = Pool::<1, 16>::new(SECOND, 0);
        let s = p.open(1, u32::MAX - 100, 0).unwrap();
        let big: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
        assert_eq!(p.push(s, u32::MAX - 100, &big), Err(Outcome::TooLong));
        assert_eq!(p.bytes(s), Ok(&big[..16]));
        // A huge retransmission starting before isn: compared on the 16 bytes held.
        assert_eq!(p.push(s, u32::MAX - 110, &big[..]), Err(Outcome::Conflict));
        let mut shifted = vec![0u8; 10];
        shifted.extend_from_slice(&big);
        assert_eq!(p.push(s, u32::MAX - 110, &shifted), Err(Outcome::TooLong));
        assert_eq!(p.bytes(s), Ok(&big[..16]));
    }

    #[test]
    fn pool_exhausted() {
        let mut p = pool();
        let ids: Vec<_> = (0..4).map(|k| p.open(k, 0, 0).unwrap()).collect();
        assert_eq!(p.open(99, 0, 0), Err(Outcome::PoolExhausted));
        assert_eq!(p.stats().exhausted, 1);
        assert_eq!(p.in_use(), 4);
        p.release(ids[2]).unwrap();
        let again = p.open(99, 0, 0).unwrap();
        assert_eq!(again.index(), ids[2].index());
        assert_ne!(again, ids[2]);
        assert_eq!(p.find(99), Some(again));
        assert_eq!(p.find(2), None);
    }

    #[test]
    fn unknown_and_stale_slots() {
        let mut p = pool();
        let forged = SlotId::from_bits(u64::MAX);
        assert_eq!(p.push(forged, 0, b"x"), Err(Outcome::UnknownSlot));
        assert_eq!(p.release(forged), Err(Outcome::UnknownSlot));
        assert_eq!(p.bytes(forged), Err(Outcome::UnknownSlot));
        assert_eq!(p.next_seq(forged), Err(Outcome::UnknownSlot));
        // A never-opened index.
        assert_eq!(
            p.push(SlotId::from_bits(1), 0, b"x"),
            Err(Outcome::UnknownSlot)
        );
        let s = p.open(5, 0, 0).unwrap();
        p.push(s, 0, b"secret").unwrap();
        p.release(s).unwrap();
        assert_eq!(p.release(s), Err(Outcome::UnknownSlot));
        assert_eq!(p.push(s, 6, b"x"), Err(Outcome::UnknownSlot));
        // The slot is reused by another flow; the old id cannot reach it.
        let t = p.open(6, 0, 0).unwrap();
        assert_eq!(t.index(), s.index());
        assert_eq!(p.bytes(s), Err(Outcome::UnknownSlot));
        assert_eq!(p.bytes(t), Ok(&b""[..]));
        assert_eq!(p.stats().unknown_slot, 5);
        assert_eq!(p.stats().released, 1);
    }

    #[test]
    fn slot_id_bits_round_trip() {
        let mut p = pool();
        let s = p.open(1, 0, 0).unwrap();
        p.release(s).unwrap();
        let s = p.open(1, 0, 0).unwrap();
        assert_eq!(SlotId::from_bits(s.to_bits()), s);
        assert_eq!(s.to_bits() >> 32, 1);
    }

    #[test]
    fn open_same_key() {
        let mut p = pool();
        let s = p.open(7, 500, 0).unwrap();
        p.push(s, 500, b"data").unwrap();
        // A retransmitted SYN: same slot, bytes kept, lifetime not extended.
        assert_eq!(p.open(7, 500, SECOND / 2), Ok(s));
        assert_eq!(p.bytes(s), Ok(&b"data"[..]));
        assert_eq!(p.age(SECOND), 1);
        // A new connection on the key: the old slot is replaced.
        let s = p.open(7, 500, 0).unwrap();
        let t = p.open(7, 9000, 0).unwrap();
        assert_ne!(s, t);
        assert_eq!(p.bytes(s), Err(Outcome::UnknownSlot));
        assert_eq!(p.find(7), Some(t));
        assert_eq!(p.in_use(), 1);
        let st = p.stats();
        assert_eq!((st.opened, st.released, st.expired), (3, 1, 1));
    }

    #[test]
    fn age_frees_by_open_time() {
        let mut p = pool();
        let a = p.open(1, 0, 0).unwrap();
        let b = p.open(2, 0, 100).unwrap();
        let c = p.open(3, 0, 200).unwrap();
        // Activity does not extend a slot's life.
        p.push(a, 0, b"x").unwrap();
        assert_eq!(p.age(SECOND - 1), 0);
        assert_eq!(p.age(SECOND + 100), 2);
        assert_eq!(p.bytes(a), Err(Outcome::UnknownSlot));
        assert_eq!(p.bytes(b), Err(Outcome::UnknownSlot));
        assert_eq!(p.bytes(c), Ok(&b""[..]));
        assert_eq!(p.find(1), None);
        // Time going backwards does not bring anything back, nor reorder the list, nor pin a
        // slot: the pool's clock pauses at the step back and counts on from the earlier time.
        assert_eq!(p.age(5), 0);
        let d = p.open(4, 0, 5).unwrap();
        // c (opened at S - 100 before the step) has 100 ns left: raw 105.
        assert_eq!(p.age(104), 0);
        assert_eq!(p.age(105), 1);
        assert_eq!(p.bytes(c), Err(Outcome::UnknownSlot));
        // d lives one lifetime from its opening at raw 5, not until the clock passes the
        // largest time seen before the step.
        assert_eq!(p.age(SECOND + 4), 0);
        assert_eq!(p.bytes(d), Ok(&b""[..]));
        assert_eq!(p.age(SECOND + 5), 1);
        assert_eq!(p.in_use(), 0);
        assert_eq!(p.stats().expired, 4);
        // A released slot in the middle of the list.
        let e = p.open(5, 0, 3 * SECOND).unwrap();
        let f = p.open(6, 0, 3 * SECOND + 1).unwrap();
        let g = p.open(7, 0, 3 * SECOND + 2).unwrap();
        let _ = c;
        p.release(f).unwrap();
        assert_eq!(p.age(u64::MAX), 2);
        assert_eq!(
            (p.bytes(e), p.bytes(g)),
            (Err(Outcome::UnknownSlot), Err(Outcome::UnknownSlot))
        );
        assert_eq!(p.in_use(), 0);
    }

    #[test]
    fn lifetime_edges() {
        let mut p = Pool::<2, 8>::new(0, 0);
        p.open(1, 0, 10).unwrap();
        assert_eq!(p.age(10), 1);
        let mut p = Pool::<2, 8>::new(u64::MAX, 0);
        p.open(1, 0, 0).unwrap();
        assert_eq!(p.age(u64::MAX - 1), 0);
        assert_eq!(p.age(u64::MAX), 1);
    }

    #[test]
    fn sequence_wraps_mid_request() {
        let mut p = pool();
        let isn = u32::MAX - 4;
        let s = p.open(1, isn, 0).unwrap();
        assert_eq!(p.push(s, isn, b"GET ").unwrap().bytes, b"GET ");
        // Crosses 2^32: bytes at u32::MAX, 0, 1, ...
        assert_eq!(p.push(s, u32::MAX, b"/ HT").unwrap().bytes, b"GET / HT");
        assert_eq!(p.next_seq(s), Ok(3));
        // Retransmission across the wrap, and an overlap across it.
        assert_eq!(p.push(s, u32::MAX - 2, b"T / ").unwrap().added, 0);
        assert_eq!(
            p.push(s, u32::MAX - 1, b" / HTTP").unwrap().bytes,
            b"GET / HTTP"
        );
        // Holes after the wrap; a segment far behind (2^31 away) is not mistaken for new.
        assert_eq!(p.push(s, 10, b"x"), Err(Outcome::OutOfOrder));
        assert_eq!(
            p.push(s, 5u32.wrapping_add(1 << 31), b"x"),
            Ok(Gathered {
                bytes: b"GET / HTTP",
                added: 0
            })
        );
        assert_eq!(p.stats().duplicate, 2);
    }

    #[test]
    fn seq_at_u32_max() {
        let mut p = pool();
        let s = p.open(1, u32::MAX, 0).unwrap();
        assert_eq!(p.push(s, u32::MAX, b"a").unwrap().bytes, b"a");
        assert_eq!(p.next_seq(s), Ok(0));
        assert_eq!(p.push(s, 0, b"b").unwrap().bytes, b"ab");
        assert_eq!(p.push(s, u32::MAX, b"ab").unwrap().added, 0);
    }

    #[test]
    fn segment_starting_before_isn() {
        let mut p = pool();
        let s = p.open(1, 5, 0).unwrap();
        // Bytes before isn are ignored; the rest is gathered.
        assert_eq!(p.push(s, 2, b"xyzabc").unwrap().bytes, b"abc");
        // Entirely before isn: a duplicate.
        assert_eq!(p.push(s, 0, b"xy").unwrap().added, 0);
        assert_eq!(
            p.push(s, u32::MAX - 3, b"qqqqqqqqqabcd").unwrap().bytes,
            b"abcd"
        );
        assert_eq!(
            p.push(s, u32::MAX - 3, b"qqqqqqqqqaXcd"),
            Err(Outcome::Conflict)
        );
    }

    #[test]
    fn empty_payloads_change_nothing() {
        let mut p = pool();
        let s = p.open(1, 0, 0).unwrap();
        for seq in [0, 1, 100, u32::MAX, 1 << 31] {
            let g = p.push(s, seq, b"").unwrap();
            assert_eq!((g.bytes, g.added), (&b""[..], 0));
        }
        p.push(s, 0, b"ab").unwrap();
        assert_eq!(p.push(s, 2, b"").unwrap().bytes, b"ab");
        let st = p.stats();
        assert_eq!((st.appended, st.duplicate, st.out_of_order), (1, 0, 0));
    }

    #[test]
    fn many_keys_share_buckets() {
        // Every key lands in one of 8 buckets; chains must stay consistent through release.
        let mut p = Pool::<8, 4>::new(SECOND, 42);
        let ids: Vec<_> = (0..8u64).map(|k| p.open(k * 1000, 0, k).unwrap()).collect();
        for (k, id) in (0..8u64).zip(&ids) {
            assert_eq!(p.find(k * 1000), Some(*id));
        }
        for id in ids.iter().step_by(2) {
            p.release(*id).unwrap();
        }
        for (k, id) in (0..8u64).zip(&ids) {
            let want = (k % 2 == 1).then_some(*id);
            assert_eq!(p.find(k * 1000), want);
        }
        assert_eq!(p.age(SECOND + 7), 4);
        assert_eq!(p.in_use(), 0);
        for k in 0..8u64 {
            assert_eq!(p.find(k * 1000), None);
        }
    }

    #[test]
    fn display_and_debug() {
        for o in [
            Outcome::OutOfOrder,
            Outcome::Conflict,
            Outcome::TooLong,
            Outcome::PoolExhausted,
            Outcome::UnknownSlot,
        ] {
            assert!(!o.to_string().is_empty());
        }
        let mut p = pool();
        let s = p.open(1, 0, 0).unwrap();
        p.push(s, 0, b"SECRETBYTES").unwrap();
        let d = format!("{p:?}");
        assert!(d.contains("in_use: 1"), "{d}");
        assert!(!d.contains("SECRET") && !d.contains("83, 69"), "{d}");
    }

    #[test]
    fn placement_directly() {
        assert_eq!(place(b"abc", 8, 0, 0, b""), Placement::Empty);
        assert_eq!(place(b"abc", 8, 0, 4, b"e"), Placement::Hole);
        assert_eq!(place(b"abc", 3, 0, 4, b"e"), Placement::Full);
        assert_eq!(place(b"abc", 3, 0, 3, b"d"), Placement::Full);
        assert_eq!(place(b"abc", 8, 0, 1, b"b"), Placement::Duplicate);
        assert_eq!(place(b"abc", 8, 0, 1, b"X"), Placement::Conflict);
        assert_eq!(
            place(b"abc", 4, 0, 2, b"cdef"),
            Placement::Append {
                from: 1,
                take: 1,
                cut: true
            }
        );
        assert_eq!(
            place(b"", 4, u32::MAX, u32::MAX, b"ab"),
            Placement::Append {
                from: 0,
                take: 2,
                cut: false
            }
        );
    }

    /// Splits `data` into segments that never leave a hole, mixing in retransmissions and
    /// overlaps of the right bytes: each step starts up to `back` bytes before the current end.
    fn segments(data: &[u8], steps: &[(u16, u16)]) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let mut end = 0usize;
        for &(back, len) in steps {
            let start = end - usize::from(back) % (end + 1);
            let stop = (start + usize::from(len)).min(data.len());
            out.push((start, stop));
            end = end.max(stop);
        }
        while end < data.len() {
            let stop = (end + 50).min(data.len());
            out.push((end, stop));
            end = stop;
        }
        out
    }

    fn isn_strategy() -> impl Strategy<Value = u32> {
        prop_oneof![any::<u32>(), (u32::MAX - 600)..=u32::MAX]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn in_order_with_retransmissions_gathers_the_prefix(
            data in proptest::collection::vec(any::<u8>(), 0..400),
            steps in proptest::collection::vec((0u16..300, 0u16..120), 0..40),
            isn in isn_strategy(),
        ) {
            const CAP: usize = 256;
            let mut p = Pool::<2, CAP>::new(SECOND, 7);
            let s = p.open(3, isn, 0).unwrap();
            let mut end = 0usize;
            for (start, stop) in segments(&data, &steps) {
                let seq = isn.wrapping_add(start as u32);
                let payload = &data[start..stop];
                end = end.max(stop);
                // TooLong exactly when the segment brings bytes past the slot's end.
                let too_long = stop > CAP && stop > start;
                match p.push(s, seq, payload) {
                    Ok(g) => {
                        prop_assert!(!too_long);
                        prop_assert_eq!(g.bytes, &data[..end.min(CAP)]);
                    }
                    Err(Outcome::TooLong) => prop_assert!(too_long),
                    Err(e) => prop_assert!(false, "unexpected {:?}", e),
                }
                prop_assert_eq!(p.bytes(s).unwrap(), &data[..end.min(CAP)]);
            }
            prop_assert_eq!(p.bytes(s).unwrap(), &data[..data.len().min(CAP)]);
            prop_assert_eq!(p.next_seq(s).unwrap(), isn.wrapping_add(data.len().min(CAP) as u32));
            let st = p.stats();
            prop_assert_eq!((st.conflict, st.out_of_order, st.unknown_slot), (0, 0, 0));
        }

        #[test]
        fn corrupted_retransmission_is_always_conflict(
            data in proptest::collection::vec(any::<u8>(), 1..200),
            at in any::<prop::sample::Index>(),
            span in (any::<prop::sample::Index>(), 1usize..100),
            flip in 1u8..=255,
            isn in isn_strategy(),
        ) {
            let mut p = Pool::<1, 256>::new(SECOND, 0);
            let s = p.open(1, isn, 0).unwrap();
            p.push(s, isn, &data).unwrap();
            // A segment covering byte `at`, with that byte changed.
            let at = at.index(data.len());
            let start = span.0.index(at + 1);
            let mut seg = data[start..].to_vec();
            seg.truncate(span.1.max(at - start + 1));
            seg[at - start] ^= flip;
            seg.extend_from_slice(b"more");
            prop_assert_eq!(p.push(s, isn.wrapping_add(start as u32), &seg), Err(Outcome::Conflict));
            prop_assert_eq!(p.bytes(s).unwrap(), &data[..]);
        }
    }

    #[derive(Clone, Debug)]
    enum Op {
        Open {
            key: u8,
            isn: u32,
        },
        Push {
            which: prop::sample::Index,
            forged: Option<u64>,
            seq_off: i32,
            len: usize,
            fill: u8,
        },
        PushRaw {
            seq: u32,
            len: usize,
        },
        Release {
            which: prop::sample::Index,
            forged: Option<u64>,
        },
        Age {
            advance: u64,
        },
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => (any::<u8>(), isn_strategy()).prop_map(|(key, isn)| Op::Open { key: key % 24, isn }),
            6 => (
                any::<prop::sample::Index>(),
                proptest::option::weighted(0.1, any::<u64>()),
                prop_oneof![-40i32..40, any::<i32>()],
                prop_oneof![0usize..40, 0usize..3000],
                any::<u8>(),
            )
                .prop_map(|(which, forged, seq_off, len, fill)| Op::Push { which, forged, seq_off, len, fill }),
            1 => (any::<u32>(), 0usize..100).prop_map(|(seq, len)| Op::PushRaw { seq, len }),
            2 => (any::<prop::sample::Index>(), proptest::option::weighted(0.1, any::<u64>()))
                .prop_map(|(which, forged)| Op::Release { which, forged }),
            1 => prop_oneof![0u64..SECOND, Just(u64::MAX / 2), Just(u64::MAX)]
                .prop_map(|advance| Op::Age { advance }),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 1500, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn random_operations_stay_bounded(
            ops in proptest::collection::vec(op(), 0..120),
            lifetime in prop_oneof![Just(0u64), 1u64..(3 * SECOND), Just(u64::MAX)],
            seed in any::<u64>(),
        ) {
            const SLOTS: usize = 6;
            const BYTES: usize = 48;
            let mut p = Pool::<SLOTS, BYTES>::new(lifetime, seed);
            let mut ids: Vec<SlotId> = Vec::new();
            let mut now = 0u64;
            let buf = [0xa5u8; 3000];
            for op in ops {
                match op {
                    Op::Open { key, isn } => {
                        if let Ok(id) = p.open(u64::from(key), isn, now) {
                            prop_assert_eq!(p.find(u64::from(key)), Some(id));
                            prop_assert!(id.index() < SLOTS);
                            ids.push(id);
                        }
                    }
                    Op::Push { which, forged, seq_off, len, fill } => {
                        let id = match forged {
                            Some(bits) => SlotId::from_bits(bits),
                            None if ids.is_empty() => SlotId::from_bits(0),
                            None => ids[which.index(ids.len())],
                        };
                        let seq = p.next_seq(id).unwrap_or(0).wrapping_add(seq_off as u32);
                        let payload = vec![fill; len];
                        match p.push(id, seq, &payload) {
                            Ok(g) => prop_assert!(g.bytes.len() <= BYTES && g.added <= len),
                            Err(Outcome::UnknownSlot) => prop_assert!(p.bytes(id).is_err()),
                            Err(_) => {}
                        }
                    }
                    Op::PushRaw { seq, len } => {
                        if let Some(&id) = ids.last() {
                            let _ = p.push(id, seq, &buf[..len]);
                        }
                    }
                    Op::Release { which, forged } => {
                        let id = match forged {
                            Some(bits) => SlotId::from_bits(bits),
                            None if ids.is_empty() => continue,
                            None => ids[which.index(ids.len())],
                        };
                        let was_live = p.bytes(id).is_ok();
                        prop_assert_eq!(p.release(id).is_ok(), was_live);
                        prop_assert!(p.bytes(id).is_err());
                    }
                    Op::Age { advance } => {
                        now = now.saturating_add(advance);
                        p.age(now);
                    }
                }
                prop_assert!(p.in_use() <= SLOTS);
                let live = {
                    let mut l: Vec<_> = ids.iter().filter(|id| p.bytes(**id).is_ok()).collect();
                    l.sort_by_key(|id| id.to_bits());
                    l.dedup();
                    l.len()
                };
                prop_assert_eq!(live, p.in_use());
                let st = p.stats();
                prop_assert_eq!(st.opened - st.released - st.expired, p.in_use() as u64);
                for id in &ids {
                    if let Ok(bytes) = p.bytes(*id) {
                        prop_assert!(bytes.len() <= BYTES);
                    }
                }
            }
            // Everything expires once its lifetime has passed.
            if u64::MAX - now >= lifetime {
                p.age(u64::MAX);
                prop_assert_eq!(p.in_use(), 0);
            }
        }
    }
}
