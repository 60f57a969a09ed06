//! `rte_ring`: DPDK's bounded lock-free FIFO of pointers, here carrying `u64` handles (e.g.
//! [`Mbuf::into_handle`](super::Mbuf::into_handle)).
//!
//! - [`Ring`]: the raw FIFO. `&self` operations use the multi-producer/multi-consumer paths, so
//!   a shared `&Ring` is safe from any number of threads; [`Ring::split`] gives one
//!   [`RingProducer`] and one [`RingConsumer`] using the cheaper single-producer/consumer
//!   paths, exclusive by construction.
//! - [`MbufRing`]: a ring that only ever holds mbufs, so dequeuing gives back owned [`Mbuf`](super::Mbuf)s
//!   and dropping it frees what is left.

use core::ffi::c_void;
use core::marker::PhantomData;
use core::ptr::NonNull;
use std::ffi::CString;

use infersteer_dpdk_sys as sys;

use super::error::DpdkError;
use super::mbuf::MbufBurst;
use super::Eal;

/// `RING_F_EXACT_SZ`: the capacity is exactly the count asked for.
const RING_F_EXACT_SZ: u32 = 0x0004;

/// Which sync mode the ring's own default enqueue/dequeue use (recorded in DPDK's flags; the
/// wrappers below choose the path explicitly, so both kinds work with every method here).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RingSync {
    /// `RING_F_SP_ENQ | RING_F_SC_DEQ`: one producer, one consumer.
    SingleProducerSingleConsumer,
    /// Default flags: any number of producers and consumers.
    MultiProducerMultiConsumer,
}

/// A bounded FIFO of `u64` handles (`rte_ring_create`), freed on drop. Handles still in it
/// are not interpreted: use [`MbufRing`] for mbufs.
#[derive(Debug)]
pub struct Ring<'eal> {
    raw: NonNull<sys::rte_ring>,
    sync: RingSync,
    _eal: PhantomData<&'eal Eal>,
}

// SAFETY: the ring is a shared-memory structure made for inter-thread use; `&self` methods
// only use the multi-producer/multi-consumer paths, which are safe under concurrency.
unsafe impl Send for Ring<'_> {}
// SAFETY: as above.
unsafe impl Sync for Ring<'_> {}

impl<'eal> Ring<'eal> {
    /// Creates a ring holding exactly `capacity` handles. `name` must be unique in the
    /// process and at most 29 bytes.
    pub fn new(
        _eal: &'eal Eal,
        name: &str,
        capacity: u32,
        sync: RingSync,
    ) -> Result<Self, DpdkError> {
        let c_name = CString::new(name).map_err(|_| DpdkError::InvalidArgument {
            what: "ring name contains a NUL byte",
        })?;
        let mut flags = RING_F_EXACT_SZ;
        if sync == RingSync::SingleProducerSingleConsumer {
            flags |= sys::consts::RING_F_SP_ENQ | sys::consts::RING_F_SC_DEQ;
        }
        // SAFETY: a NUL-terminated name DPDK copies; size and flags are validated by DPDK,
        // which returns NULL with rte_errno on error. The EAL is initialised (`_eal`).
        let raw = unsafe {
            sys::rte_ring_create(c_name.as_ptr(), capacity, sys::consts::SOCKET_ID_ANY, flags)
        };
        let raw = NonNull::new(raw).ok_or_else(|| DpdkError::from_rte_errno("rte_ring_create"))?;
        Ok(Self {
            raw,
            sync,
            _eal: PhantomData,
        })
    }

    /// The sync mode given at creation.
    pub fn sync(&self) -> RingSync {
        self.sync
    }

    /// Handles it can hold.
    pub fn capacity(&self) -> u32 {
        // SAFETY: `raw` is a live ring (freed only in drop); reads a field.
        unsafe { sys::infersteer_ring_capacity(self.raw.as_ptr()) }
    }

    /// Handles in it now.
    pub fn count(&self) -> u32 {
        // SAFETY: `raw` is live; reads head/tail indices.
        unsafe { sys::infersteer_ring_count(self.raw.as_ptr()) }
    }

    /// Free slots now.
    pub fn free_count(&self) -> u32 {
        // SAFETY: `raw` is live; reads head/tail indices.
        unsafe { sys::infersteer_ring_free_count(self.raw.as_ptr()) }
    }

    /// Enqueues as many of `handles` as fit, in order (multi-producer safe); returns how
    /// many. No allocation.
    #[inline]
    pub fn enqueue_burst(&self, handles: &[u64]) -> usize {
        // SAFETY: `handles` is `len` readable 8-byte values, the layout of `len` pointers on
        // this 64-bit target; the MP path is safe with concurrent producers.
        unsafe { enqueue(self.raw, handles, sys::infersteer_ring_mp_enqueue_burst) }
    }

    /// Dequeues up to `out.len()` handles (multi-consumer safe); returns how many were
    /// written at the front of `out`.
    #[inline]
    pub fn dequeue_burst(&self, out: &mut [u64]) -> usize {
        // SAFETY: `out` is `len` writable 8-byte slots; the MC path is safe with concurrent
        // consumers.
        unsafe { dequeue(self.raw, out, sys::infersteer_ring_mc_dequeue_burst) }
    }

    /// One producer and one consumer handle using the single-producer/consumer paths. The
    /// `&mut` borrow makes them the only users of the ring while they live; each is `Send`
    /// (give one to another thread, e.g. with `std::thread::scope`).
    pub fn split(&mut self) -> (RingProducer<'_>, RingConsumer<'_>) {
        (
            RingProducer {
                raw: self.raw,
                _ring: PhantomData,
            },
            RingConsumer {
                raw: self.raw,
                _ring: PhantomData,
            },
        )
    }
}

impl Drop for Ring<'_> {
    fn drop(&mut self) {
        // SAFETY: `raw` came from `rte_ring_create` and no producer/consumer handle is alive
        // (they borrow the ring).
        unsafe { sys::rte_ring_free(self.raw.as_ptr()) }
    }
}

/// The single producer of a split [`Ring`].
#[derive(Debug)]
pub struct RingProducer<'r> {
    raw: NonNull<sys::rte_ring>,
    _ring: PhantomData<&'r mut Ring<'r>>,
}

// SAFETY: the producer is the ring's only enqueuer (exclusive borrow of the ring); moving it
// to another thread keeps that so. It is not `Sync`: two threads must not enqueue through it.
unsafe impl Send for RingProducer<'_> {}

impl RingProducer<'_> {
    /// Enqueues as many of `handles` as fit (single-producer path); returns how many.
    #[inline]
    pub fn enqueue_burst(&mut self, handles: &[u64]) -> usize {
        // SAFETY: as in `Ring::enqueue_burst`; this handle is the ring's only producer
        // (`&mut self`, not `Sync`, created once per exclusive borrow), as the SP path needs.
        unsafe { enqueue(self.raw, handles, sys::infersteer_ring_sp_enqueue_burst) }
    }
}

/// The single consumer of a split [`Ring`].
#[derive(Debug)]
pub struct RingConsumer<'r> {
    raw: NonNull<sys::rte_ring>,
    _ring: PhantomData<&'r mut Ring<'r>>,
}

// SAFETY: the consumer is the ring's only dequeuer (see `RingProducer`).
unsafe impl Send for RingConsumer<'_> {}

impl RingConsumer<'_> {
    /// Dequeues up to `out.len()` handles (single-consumer path); returns how many.
    #[inline]
    pub fn dequeue_burst(&mut self, out: &mut [u64]) -> usize {
        // SAFETY: as in `Ring::dequeue_burst`; this handle is the ring's only consumer.
        unsafe { dequeue(self.raw, out, sys::infersteer_ring_sc_dequeue_burst) }
    }
}

type EnqueueFn = unsafe extern "C" fn(*mut sys::rte_ring, *const *mut c_void, u32, *mut u32) -> u32;
type DequeueFn = unsafe extern "C" fn(*mut sys::rte_ring, *mut *mut c_void, u32, *mut u32) -> u32;

/// # Safety
/// `raw` is a live ring and `f` a path whose concurrency rule the caller upholds.
#[inline]
unsafe fn enqueue(raw: NonNull<sys::rte_ring>, handles: &[u64], f: EnqueueFn) -> usize {
    let n = u32::try_from(handles.len()).unwrap_or(u32::MAX);
    // SAFETY: `handles` provides `n` readable 8-byte values (`n` is clamped to the slice),
    // which DPDK copies as `void *` (same size and alignment on 64-bit targets); a NULL
    // `free_space` is allowed. Ring liveness and the path's rule are the caller's.
    let done = unsafe {
        f(
            raw.as_ptr(),
            handles.as_ptr().cast(),
            n,
            core::ptr::null_mut(),
        )
    };
    (done as usize).min(handles.len())
}

/// # Safety
/// `raw` is a live ring and `f` a path whose concurrency rule the caller upholds.
#[inline]
unsafe fn dequeue(raw: NonNull<sys::rte_ring>, out: &mut [u64], f: DequeueFn) -> usize {
    let n = u32::try_from(out.len()).unwrap_or(u32::MAX);
    // SAFETY: `out` provides `n` writable 8-byte slots; DPDK writes at most `n` pointers
    // there; a NULL `available` is allowed. Ring liveness and the path's rule are the
    // caller's.
    let done = unsafe {
        f(
            raw.as_ptr(),
            out.as_mut_ptr().cast(),
            n,
            core::ptr::null_mut(),
        )
    };
    (done as usize).min(out.len())
}

/// A ring that only holds mbufs (multi-producer/multi-consumer paths): what goes in is an
/// owned [`Mbuf`](super::Mbuf), what comes out is one again, and whatever is left is freed on drop.
#[derive(Debug)]
pub struct MbufRing<'eal> {
    ring: Ring<'eal>,
}

impl<'eal> MbufRing<'eal> {
    /// Creates a ring for exactly `capacity` mbufs.
    pub fn new(eal: &'eal Eal, name: &str, capacity: u32) -> Result<Self, DpdkError> {
        Ok(Self {
            ring: Ring::new(eal, name, capacity, RingSync::MultiProducerMultiConsumer)?,
        })
    }

    /// Mbufs in the ring.
    pub fn count(&self) -> u32 {
        self.ring.count()
    }

    /// Mbufs it can hold.
    pub fn capacity(&self) -> u32 {
        self.ring.capacity()
    }

    /// Moves as many mbufs as fit from the front of `burst` into the ring; returns how many.
    /// The rest stay in `burst`, in order, still owned by the caller (dropping the burst
    /// frees them in bulk).
    pub fn enqueue_burst(&self, burst: &mut MbufBurst) -> usize {
        let len = burst.len();
        let ptr = burst.raw_ptr();
        // SAFETY: the burst's first `len` slots are owned mbuf pointers (8 bytes each on this
        // 64-bit target); the ring takes ownership of the first `done` only, which
        // `consume_front` then forgets; the MP path is safe with concurrent producers.
        unsafe {
            let done = sys::infersteer_ring_mp_enqueue_burst(
                self.ring.raw.as_ptr(),
                ptr.cast::<*mut c_void>().cast_const(),
                len as u32, // <= 32
                core::ptr::null_mut(),
            );
            let done = (done as usize).min(len);
            burst.consume_front(done);
            done
        }
    }

    /// Moves up to `burst.spare()` mbufs from the ring into `burst`; returns how many.
    pub fn dequeue_burst(&self, burst: &mut MbufBurst) -> usize {
        let spare = burst.spare();
        // SAFETY: every entry of this ring is an owned mbuf put there by `enqueue_burst`;
        // DPDK writes at most `spare` of them into the burst's free slots and gives up
        // ownership, which `assume_filled` adopts; the MC path is safe with concurrent
        // consumers.
        unsafe {
            let done = sys::infersteer_ring_mc_dequeue_burst(
                self.ring.raw.as_ptr(),
                burst.spare_ptr().cast::<*mut c_void>(),
                spare as u32, // <= 32
                core::ptr::null_mut(),
            );
            let done = (done as usize).min(spare);
            burst.assume_filled(done);
            done
        }
    }
}

impl Drop for MbufRing<'_> {
    fn drop(&mut self) {
        let mut burst = MbufBurst::new();
        while self.dequeue_burst(&mut burst) > 0 {
            burst.clear();
        }
    }
}
