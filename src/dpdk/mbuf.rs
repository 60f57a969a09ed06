//! Owned packet buffers (`rte_mbuf`) and fixed-size bursts of them.
//!
//! An [`Mbuf`] is one pointer wide (`#[repr(transparent)]` over `NonNull<rte_mbuf>`), so a
//! burst of them is exactly the `struct rte_mbuf **` array DPDK's burst calls take, and one
//! fits a GPU queue descriptor as a `u64` handle ([`Mbuf::into_handle`]). A
//! [`MbufBurst`] holds up to [`MAX_BURST`] mbufs inline (no heap), frees whatever is left
//! in one `rte_pktmbuf_free_bulk` call when dropped or cleared, and is what
//! [`RxQueue::rx_burst`](super::RxQueue::rx_burst) fills and
//! [`TxQueue::tx_burst`](super::TxQueue::tx_burst) drains.

use core::fmt;
use core::mem::MaybeUninit;
use core::ptr::NonNull;

use infersteer_dpdk_sys as sys;

use super::error::DpdkError;

/// Most mbufs one burst holds (DPDK's customary burst size).
pub const MAX_BURST: usize = 32;

// Handles are pointers carried in `u64`s, and bursts are handed to DPDK as pointer arrays.
const _: () = assert!(
    core::mem::size_of::<usize>() == 8,
    "DPDK needs a 64-bit target"
);
const _: () = assert!(core::mem::size_of::<Mbuf>() == core::mem::size_of::<*mut sys::rte_mbuf>());

/// One packet buffer, owned: freed (`rte_pktmbuf_free`) on drop.
///
/// Invariant: the pointer is a live mbuf from a pktmbuf pool, and this `Mbuf` owns one of its
/// references (the one its drop gives back). An mbuf is usually direct with reference count
/// 1, but one adopted from a driver or another DPDK component may be shared (a clone, a
/// mirrored frame) or indirect: every write ([`Mbuf::data_mut`], [`Mbuf::append`]) first
/// checks [`Mbuf::is_writable`] and refuses with [`DpdkError::NotWritable`] otherwise.
///
/// An `Mbuf` carries no lifetime; it must be freed (or handed to DPDK) before its
/// [`Mempool`](super::Mempool) and the [`Eal`](super::Eal) are dropped. A pool dropped with
/// mbufs still out is leaked rather than freed, which keeps a late `Mbuf` from dangling.
#[repr(transparent)]
pub struct Mbuf(NonNull<sys::rte_mbuf>);

// SAFETY: an `Mbuf` owns its buffer exclusively; DPDK's free path (`rte_pktmbuf_free` to the
// mempool) is thread-safe, so moving the owner to another thread is sound.
unsafe impl Send for Mbuf {}
// SAFETY: `&Mbuf` only permits reads of the buffer (`data`, lengths, flags); writes need
// `&mut Mbuf`.
unsafe impl Sync for Mbuf {}

impl Mbuf {
    /// Takes ownership of a raw mbuf.
    ///
    /// # Safety
    /// `raw` must be a live mbuf from a pktmbuf pool, with reference count 1, that nothing
    /// else frees or uses afterwards (e.g. one returned by [`Mbuf::into_raw`] once).
    #[inline]
    pub unsafe fn from_raw(raw: NonNull<sys::rte_mbuf>) -> Self {
        Self(raw)
    }

    /// Gives up ownership without freeing; [`Mbuf::from_raw`] takes it back.
    #[inline]
    pub fn into_raw(self) -> NonNull<sys::rte_mbuf> {
        let raw = self.0;
        core::mem::forget(self);
        raw
    }

    /// The mbuf as a `u64` handle (its address) for a GPU-queue descriptor; never 0.
    #[inline]
    pub fn into_handle(self) -> u64 {
        self.into_raw().as_ptr() as usize as u64
    }

    /// Takes back an mbuf from a handle; `None` for 0.
    ///
    /// # Safety
    /// `handle` must come from [`Mbuf::into_handle`] and be turned back only once.
    #[inline]
    pub unsafe fn from_handle(handle: u64) -> Option<Self> {
        // SAFETY: forwarded to the caller: the handle is an address from `into_handle`.
        NonNull::new(handle as usize as *mut sys::rte_mbuf).map(|m| unsafe { Self::from_raw(m) })
    }

    /// The raw pointer, still owned by `self`.
    #[inline]
    pub fn as_ptr(&self) -> *mut sys::rte_mbuf {
        self.0.as_ptr()
    }

    /// Reads the first-cache-line field of type `T` at byte `offset` (one of
    /// `sys::consts::MBUF_OFF_*`) in place: the per-packet accessors below inline to a load
    /// instead of a call into the C shim.
    ///
    /// # Safety
    /// `offset` must be the `offsetof` of an `rte_mbuf` field of type `T` (the shim's
    /// `_Static_assert`s pin the `MBUF_OFF_*` constants to the C layout).
    #[inline(always)]
    unsafe fn field<T: Copy>(&self, offset: usize) -> T {
        // SAFETY: the mbuf is live (type invariant) and, by the caller's contract, a `T` sits
        // at `offset`, naturally aligned because `rte_mbuf` is cache-line aligned and its C
        // layout aligns every field. Nothing writes it while `&self` is held (refcount 1, we
        // own it; DPDK wrote it before handing the mbuf over).
        unsafe { self.0.as_ptr().cast::<u8>().add(offset).cast::<T>().read() }
    }

    /// The packet bytes of the first segment (`rte_pktmbuf_mtod`, `data_len` long). A frame
    /// longer than one buffer continues in chained segments: see [`Mbuf::segments`].
    #[inline]
    pub fn data(&self) -> &[u8] {
        // SAFETY: by the type invariant the mbuf is live; `buf_addr + data_off` (what
        // `rte_pktmbuf_mtod` computes) points at `data_len` initialised bytes inside its
        // buffer, which stays put while `self` is borrowed. The offsets name a `void *` and
        // two `u16`s.
        unsafe {
            let base: *mut u8 = self.field(sys::consts::MBUF_OFF_BUF_ADDR);
            let off: u16 = self.field(sys::consts::MBUF_OFF_DATA_OFF);
            let len: u16 = self.field(sys::consts::MBUF_OFF_DATA_LEN);
            if base.is_null() || len == 0 {
                return &[];
            }
            core::slice::from_raw_parts(base.add(usize::from(off)), usize::from(len))
        }
    }

    /// Hints the CPU to load the first cache line of the packet bytes (`rte_prefetch0` of
    /// `mtod`), so that parsing a burst does not wait on one cache miss per frame. Reads only
    /// the mbuf's header; a no-op on targets without a prefetch hint here.
    #[inline]
    pub fn prefetch_data(&self) {
        #[cfg(target_arch = "x86_64")]
        {
            // SAFETY: `buf_addr` is a `void *` and `data_off` a `u16` at these offsets; the
            // address is only computed (wrapping), never dereferenced here.
            let ptr = unsafe {
                let base: *const u8 = self.field(sys::consts::MBUF_OFF_BUF_ADDR);
                let off: u16 = self.field(sys::consts::MBUF_OFF_DATA_OFF);
                base.wrapping_add(usize::from(off))
            };
            // SAFETY: a prefetch is a hint: it never faults, whatever the address, and has no
            // effect on memory; SSE is part of the x86-64 baseline.
            unsafe {
                core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>(
                    ptr.cast::<i8>(),
                )
            };
        }
    }

    /// Whether the mbuf may be written: reference count 1 and a direct buffer of its own
    /// (neither indirect nor external). A shared or indirect mbuf's bytes are someone else's
    /// too, so the library never writes them.
    #[inline]
    pub fn is_writable(&self) -> bool {
        // SAFETY: reads the reference count and flags of a live mbuf (type invariant).
        unsafe { sys::infersteer_pktmbuf_writable(self.0.as_ptr()) == 1 }
    }

    /// Another owner of the same packet (`rte_mbuf_refcnt_update(m, 1)`): both must be
    /// dropped before the buffer returns to its pool, and neither is writable while both live.
    pub fn share(&self) -> Self {
        // SAFETY: the mbuf is live; adding a reference makes the new `Mbuf` the owner of one
        // reference, which its drop (`rte_pktmbuf_free`) gives back.
        unsafe {
            sys::infersteer_pktmbuf_ref(self.0.as_ptr());
        }
        Self(self.0)
    }

    /// Appends the segments of `tail` to this mbuf's chain (`rte_pktmbuf_chain`): one packet
    /// of `pkt_len` both, freed together. A chained mbuf is what a port with scattered RX
    /// gives for a frame longer than one buffer.
    ///
    /// # Errors
    ///
    /// [`DpdkError::NotWritable`] when this mbuf is shared or indirect, and
    /// `Call { call: "rte_pktmbuf_chain", errno: EOVERFLOW }` when the chain would have too
    /// many segments; both give `tail` back unchanged.
    pub fn chain(&mut self, tail: Mbuf) -> Result<(), (DpdkError, Mbuf)> {
        if !self.is_writable() {
            return Err((DpdkError::NotWritable, tail));
        }
        // SAFETY: both mbufs are live; `self` is exclusively ours (refcnt 1, direct) and
        // `tail` is owned by value. On success the chain owns `tail`'s segments (freed with
        // the head), so `tail` is forgotten, not dropped; on failure nothing changed and it is
        // handed back.
        let ret = unsafe { sys::infersteer_pktmbuf_chain(self.0.as_ptr(), tail.0.as_ptr()) };
        if ret != 0 {
            return Err((DpdkError::from_ret("rte_pktmbuf_chain", ret), tail));
        }
        core::mem::forget(tail);
        Ok(())
    }

    /// An indirect clone of this packet (`rte_pktmbuf_clone`): new mbuf headers from `pool`
    /// that point at this packet's buffers (their reference counts raised), as a port
    /// mirroring a frame hands it. Neither is writable while both live.
    ///
    /// # Errors
    ///
    /// `Call { call: "rte_pktmbuf_clone", errno }` (`rte_errno`, `ENOMEM` for an empty pool).
    pub fn clone_indirect(&self, pool: &super::Mempool<'_>) -> Result<Mbuf, DpdkError> {
        // SAFETY: `self` is live and `pool` a live packet pool; the clone, when DPDK makes one,
        // is a fresh mbuf with refcnt 1 owned by nobody else (`from_raw`'s contract), and it
        // holds its own references to the buffers it attaches.
        unsafe {
            let m = sys::rte_pktmbuf_clone(self.0.as_ptr(), pool.as_ptr());
            NonNull::new(m)
                .map(|m| Mbuf::from_raw(m))
                .ok_or_else(|| DpdkError::from_rte_errno("rte_pktmbuf_clone"))
        }
    }

    /// The first segment's bytes, writable.
    ///
    /// # Errors
    ///
    /// [`DpdkError::NotWritable`] when the mbuf is shared or indirect ([`Mbuf::is_writable`]).
    #[inline]
    pub fn data_mut(&mut self) -> Result<&mut [u8], DpdkError> {
        if !self.is_writable() {
            return Err(DpdkError::NotWritable);
        }
        // SAFETY: as in `data`; the reference count is 1 and the buffer direct (checked just
        // above) and `&mut self` is exclusive, so no one else reads or writes these bytes
        // meanwhile.
        Ok(unsafe {
            let base: *mut u8 = self.field(sys::consts::MBUF_OFF_BUF_ADDR);
            let off: u16 = self.field(sys::consts::MBUF_OFF_DATA_OFF);
            let len: u16 = self.field(sys::consts::MBUF_OFF_DATA_LEN);
            if base.is_null() || len == 0 {
                return Ok(&mut []);
            }
            core::slice::from_raw_parts_mut(base.add(usize::from(off)), usize::from(len))
        })
    }

    /// Bytes in the first segment.
    #[inline]
    pub fn data_len(&self) -> u16 {
        // SAFETY: `data_len` is a `u16` at this offset.
        unsafe { self.field(sys::consts::MBUF_OFF_DATA_LEN) }
    }

    /// Bytes in the whole packet (all segments).
    #[inline]
    pub fn pkt_len(&self) -> u32 {
        // SAFETY: `pkt_len` is a `u32` at this offset.
        unsafe { self.field(sys::consts::MBUF_OFF_PKT_LEN) }
    }

    /// Number of chained segments (1 for a frame that fits one buffer).
    #[inline]
    pub fn segments(&self) -> u16 {
        // SAFETY: `nb_segs` is a `u16` at this offset.
        unsafe { self.field(sys::consts::MBUF_OFF_NB_SEGS) }
    }

    /// The NIC's RSS hash, when the driver set `RTE_MBUF_F_RX_RSS_HASH`.
    #[inline]
    pub fn rss_hash(&self) -> Option<u32> {
        if self.ol_flags() & sys::consts::RTE_MBUF_F_RX_RSS_HASH == 0 {
            return None;
        }
        // SAFETY: `hash.rss` is a `u32` at this offset.
        Some(unsafe { self.field(sys::consts::MBUF_OFF_HASH_RSS) })
    }

    /// The input port the driver recorded on receive (`m->port`); `0xffff`
    /// (`RTE_MBUF_PORT_INVALID`) for an mbuf no port filled, e.g. one from [`Mempool::alloc`](super::Mempool::alloc).
    #[inline]
    pub fn port(&self) -> u16 {
        // SAFETY: `port` is a `u16` at this offset.
        unsafe { self.field(sys::consts::MBUF_OFF_PORT) }
    }

    /// The offload flags (`ol_flags`, `RTE_MBUF_F_*`).
    #[inline]
    pub fn ol_flags(&self) -> u64 {
        // SAFETY: `ol_flags` is a `u64` at this offset.
        unsafe { self.field(sys::consts::MBUF_OFF_OL_FLAGS) }
    }

    /// Bytes free after the data in the last segment.
    #[inline]
    pub fn tailroom(&self) -> u16 {
        // SAFETY: reads fields of a live mbuf (type invariant).
        unsafe { sys::infersteer_pktmbuf_tailroom(self.0.as_ptr()) }
    }

    /// Appends `bytes` (`rte_pktmbuf_append` + copy). Errors with
    /// [`DpdkError::NoTailroom`] and leaves the mbuf unchanged when they do not fit, and with
    /// [`DpdkError::NotWritable`] when the mbuf is shared or indirect.
    pub fn append(&mut self, bytes: &[u8]) -> Result<(), DpdkError> {
        if !self.is_writable() {
            return Err(DpdkError::NotWritable);
        }
        let tailroom = self.tailroom();
        let len = u16::try_from(bytes.len())
            .ok()
            .filter(|&l| l <= tailroom)
            .ok_or(DpdkError::NoTailroom {
                needed: bytes.len(),
                tailroom,
            })?;
        // SAFETY: the mbuf is live and exclusively ours (`&mut self`, refcnt 1); `len` fits
        // the tailroom, so `append` returns a pointer to `len` writable bytes inside the
        // buffer (NULL is still handled), which cannot overlap `bytes` (a Rust borrow that is
        // not into this buffer, since `&mut self` excludes borrows of its data).
        unsafe {
            let dst = sys::infersteer_pktmbuf_append(self.0.as_ptr(), len);
            if dst.is_null() {
                return Err(DpdkError::NoTailroom {
                    needed: bytes.len(),
                    tailroom,
                });
            }
            core::ptr::copy_nonoverlapping(bytes.as_ptr(), dst, bytes.len());
        }
        Ok(())
    }

    /// Empties a one-segment mbuf (`rte_pktmbuf_reset`): length 0, default headroom, flags
    /// cleared.
    ///
    /// # Errors
    ///
    /// [`DpdkError::InvalidArgument`] for a chained mbuf: `rte_pktmbuf_reset` would drop the
    /// link to its other segments without freeing them.
    pub fn reset(&mut self) -> Result<(), DpdkError> {
        if self.segments() > 1 {
            return Err(DpdkError::InvalidArgument {
                what: "reset of a chained mbuf would leak its other segments",
            });
        }
        // SAFETY: a live, exclusively owned mbuf of one segment; `rte_pktmbuf_reset` only
        // rewrites its header fields.
        unsafe { sys::infersteer_pktmbuf_reset(self.0.as_ptr()) };
        Ok(())
    }
}

impl Drop for Mbuf {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: we own the live mbuf (type invariant) and never use it again.
        unsafe { sys::infersteer_pktmbuf_free(self.0.as_ptr()) }
    }
}

impl fmt::Debug for Mbuf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mbuf")
            .field("ptr", &self.0)
            .field("data_len", &self.data_len())
            .field("pkt_len", &self.pkt_len())
            .field("rss_hash", &self.rss_hash())
            .finish()
    }
}

impl AsRef<[u8]> for Mbuf {
    fn as_ref(&self) -> &[u8] {
        self.data()
    }
}

/// Up to [`MAX_BURST`] owned mbufs, inline (no heap). What is still in the burst when it is
/// dropped or [`clear`](MbufBurst::clear)ed is freed in bulk (`rte_pktmbuf_free_bulk`).
///
/// The burst is the unit the pipeline works on: [`as_slice`](MbufBurst::as_slice) gives
/// `&[Mbuf]` (each exposing [`Mbuf::data`] and [`Mbuf::rss_hash`]); verdicts are then carried
/// out with [`drain`](MbufBurst::drain) (turn admitted mbufs into handles, move others to a TX
/// burst) or [`retain`](MbufBurst::retain) (free drops in one bulk call).
pub struct MbufBurst {
    len: usize,
    slots: [MaybeUninit<Mbuf>; MAX_BURST],
}

/// A burst filled by [`RxQueue::rx_burst`](super::RxQueue::rx_burst).
pub type RxBurst = MbufBurst;

impl MbufBurst {
    /// An empty burst.
    #[inline]
    pub const fn new() -> Self {
        Self {
            len: 0,
            slots: [const { MaybeUninit::uninit() }; MAX_BURST],
        }
    }

    /// Mbufs held.
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether it holds none.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether it holds [`MAX_BURST`].
    #[inline]
    pub fn is_full(&self) -> bool {
        self.len == MAX_BURST
    }

    /// Room left.
    #[inline]
    pub fn spare(&self) -> usize {
        MAX_BURST - self.len
    }

    /// The mbufs, in arrival order.
    #[inline]
    pub fn as_slice(&self) -> &[Mbuf] {
        // SAFETY: `slots[..len]` are initialised (struct invariant) and `MaybeUninit<Mbuf>`
        // has `Mbuf`'s layout.
        unsafe { core::slice::from_raw_parts(self.slots.as_ptr().cast::<Mbuf>(), self.len) }
    }

    /// The mbufs, writable.
    #[inline]
    pub fn as_mut_slice(&mut self) -> &mut [Mbuf] {
        // SAFETY: as in `as_slice`, with exclusive access through `&mut self`.
        unsafe { core::slice::from_raw_parts_mut(self.slots.as_mut_ptr().cast::<Mbuf>(), self.len) }
    }

    /// Adds an mbuf at the end; hands it back when the burst is full.
    #[inline]
    pub fn push(&mut self, mbuf: Mbuf) -> Result<(), Mbuf> {
        match self.slots.get_mut(self.len) {
            Some(slot) => {
                slot.write(mbuf);
                self.len += 1;
                Ok(())
            }
            None => Err(mbuf),
        }
    }

    /// Takes the last mbuf.
    #[inline]
    pub fn pop(&mut self) -> Option<Mbuf> {
        let last = self.len.checked_sub(1)?;
        self.len = last;
        // SAFETY: slot `last` was initialised and is now outside `..len`, so it is read once.
        Some(unsafe { self.slots[last].assume_init_read() })
    }

    /// Takes the mbuf at `index`, replacing it with the last one (order not kept).
    #[inline]
    pub fn swap_remove(&mut self, index: usize) -> Option<Mbuf> {
        if index >= self.len {
            return None;
        }
        self.slots.swap(index, self.len - 1);
        self.pop()
    }

    /// Frees every mbuf in one `rte_pktmbuf_free_bulk` call.
    pub fn clear(&mut self) {
        let n = self.len;
        if n == 0 {
            return;
        }
        self.len = 0;
        // SAFETY: `slots[..n]` held `n` owned mbufs; `len` is already 0, so they are no
        // longer reachable, and an `Mbuf` is a `*mut rte_mbuf` (repr(transparent)), so the
        // slots are the pointer array `rte_pktmbuf_free_bulk` frees. `n <= 32` fits `u32`.
        unsafe { sys::infersteer_pktmbuf_free_bulk(self.raw_ptr(), n as u32) }
    }

    /// Keeps the mbufs for which `keep` returns `true` (in order) and frees the others in
    /// one bulk call.
    pub fn retain(&mut self, mut keep: impl FnMut(&Mbuf) -> bool) {
        let mut rejected = [core::ptr::null_mut::<sys::rte_mbuf>(); MAX_BURST];
        let mut n_rejected = 0usize;
        let mut kept = 0usize;
        let n = self.len;
        // Leave the burst empty while reshuffling, so a panic in `keep` leaks instead of
        // double-freeing.
        self.len = 0;
        for i in 0..n {
            // SAFETY: slot `i < n` is initialised and read exactly once here; it is either
            // written back to slot `kept <= i` or recorded for the bulk free below.
            let m = unsafe { self.slots[i].assume_init_read() };
            if keep(&m) {
                self.slots[kept].write(m);
                kept += 1;
                self.len = kept;
            } else {
                rejected[n_rejected] = m.into_raw().as_ptr();
                n_rejected += 1;
            }
        }
        if n_rejected > 0 {
            // SAFETY: `rejected[..n_rejected]` are owned mbufs given up by `into_raw` above;
            // the count is at most 32.
            unsafe { sys::infersteer_pktmbuf_free_bulk(rejected.as_mut_ptr(), n_rejected as u32) }
        }
    }

    /// Takes every mbuf out, in order; those the iterator does not yield (if dropped early)
    /// are freed in bulk.
    pub fn drain(&mut self) -> Drain<'_> {
        let end = self.len;
        self.len = 0;
        Drain {
            burst: self,
            next: 0,
            end,
        }
    }

    /// Empties the burst without freeing anything: its mbufs now belong to someone else
    /// (the GPU-queue descriptors that hold their handles, see `process_mbufs`). Leaking is
    /// safe; freeing here would not be.
    #[inline]
    pub(crate) fn forget_all(&mut self) {
        self.len = 0;
    }

    /// Lends the mbufs to `run` as a slice, with the burst marked empty meanwhile: if `run`
    /// panics they are leaked, never freed (the pipeline may already have published some of
    /// them in GPU-queue descriptors). They are the burst's again when `run` returns.
    #[inline]
    pub(crate) fn lend<R>(&mut self, run: impl FnOnce(&[Mbuf]) -> R) -> R {
        let n = self.len;
        self.len = 0;
        // SAFETY: `slots[..n]` are initialised (struct invariant, `n` read before clearing
        // `len`) and `MaybeUninit<Mbuf>` has `Mbuf`'s layout. `self` is exclusively borrowed
        // for the whole call and `run` cannot reach it, so nothing moves or frees the slots
        // while the slice lives.
        let mbufs = unsafe { core::slice::from_raw_parts(self.slots.as_ptr().cast::<Mbuf>(), n) };
        let r = run(mbufs);
        self.len = n;
        r
    }

    /// Start of the slot array as DPDK's `struct rte_mbuf **`.
    #[inline]
    pub(crate) fn raw_ptr(&mut self) -> *mut *mut sys::rte_mbuf {
        self.slots.as_mut_ptr().cast::<*mut sys::rte_mbuf>()
    }

    /// First free slot as DPDK's `struct rte_mbuf **` (`spare()` slots follow).
    #[inline]
    pub(crate) fn spare_ptr(&mut self) -> *mut *mut sys::rte_mbuf {
        // `len <= MAX_BURST`, so this is at most one past the end of `slots`.
        self.raw_ptr().wrapping_add(self.len)
    }

    /// Counts `n` more slots, written by DPDK through [`spare_ptr`](Self::spare_ptr).
    ///
    /// # Safety
    /// The `n <= spare()` slots after the current ones must hold owned, live mbufs (refcnt 1).
    #[inline]
    pub(crate) unsafe fn assume_filled(&mut self, n: usize) {
        debug_assert!(n <= self.spare());
        self.len += n;
    }

    /// Forgets the first `n` mbufs (now owned by DPDK) and moves the rest to the front.
    ///
    /// # Safety
    /// The first `n <= len` mbufs must have been handed over to DPDK (e.g. transmitted).
    #[inline]
    pub(crate) unsafe fn consume_front(&mut self, n: usize) {
        debug_assert!(n <= self.len);
        let rest = self.len - n;
        // SAFETY: source `n..len` and destination `0..rest` are within `slots`; `copy`
        // allows overlap. The first `n` are no longer ours (caller), so overwriting them
        // forgets them without a free.
        unsafe {
            let base = self.slots.as_mut_ptr();
            core::ptr::copy(base.add(n), base, rest);
        }
        self.len = rest;
    }
}

impl Default for MbufBurst {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for MbufBurst {
    fn drop(&mut self) {
        self.clear();
    }
}

impl fmt::Debug for MbufBurst {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MbufBurst")
            .field("len", &self.len)
            .field("mbufs", &self.as_slice())
            .finish()
    }
}

/// Iterator of [`MbufBurst::drain`]: yields the mbufs in order, frees the rest in bulk when
/// dropped.
pub struct Drain<'a> {
    burst: &'a mut MbufBurst,
    next: usize,
    end: usize,
}

impl Iterator for Drain<'_> {
    type Item = Mbuf;

    #[inline]
    fn next(&mut self) -> Option<Mbuf> {
        if self.next >= self.end {
            return None;
        }
        let i = self.next;
        self.next += 1;
        // SAFETY: slots `next..end` are initialised and unreachable from the burst (its `len`
        // is 0); each is read once because `next` only grows.
        Some(unsafe { self.burst.slots[i].assume_init_read() })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.end - self.next;
        (n, Some(n))
    }
}

impl ExactSizeIterator for Drain<'_> {}

impl Drop for Drain<'_> {
    fn drop(&mut self) {
        let rest = self.end - self.next;
        if rest == 0 {
            return;
        }
        // SAFETY: slots `next..end` still hold owned mbufs that nobody else can reach; they
        // form a pointer array (repr(transparent)) of `rest <= 32` entries.
        unsafe {
            let ptr = self.burst.raw_ptr().add(self.next);
            sys::infersteer_pktmbuf_free_bulk(ptr, rest as u32);
        }
        self.next = self.end;
    }
}

impl fmt::Debug for Drain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Drain")
            .field("remaining", &(self.end - self.next))
            .finish()
    }
}
