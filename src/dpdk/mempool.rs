//! Packet-buffer pools (`rte_pktmbuf_pool_create`).

use core::marker::PhantomData;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicUsize, Ordering};
use std::ffi::CString;

use infersteer_dpdk_sys as sys;

use super::error::DpdkError;
use super::mbuf::{Mbuf, MbufBurst};
use super::Eal;

/// How to size a [`Mempool`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MempoolConfig {
    /// Number of mbufs (DPDK suggests 2^q - 1).
    pub size: u32,
    /// Per-lcore cache size (0 disables it; at most 512 and `size / 1.5`).
    pub cache_size: u32,
    /// Bytes per mbuf buffer, headroom included (`RTE_MBUF_DEFAULT_BUF_SIZE` = 2176).
    pub data_room: u16,
    /// NUMA socket, `None` for the calling thread's.
    pub socket: Option<i32>,
}

impl Default for MempoolConfig {
    fn default() -> Self {
        Self {
            size: 8191,
            cache_size: 256,
            data_room: sys::consts::RTE_MBUF_DEFAULT_BUF_SIZE,
            socket: None,
        }
    }
}

/// A pool of packet buffers. Borrows the [`Eal`].
///
/// Dropping a pool does **not** free it: mbufs carry no lifetime (they live in rings, GPU
/// queue descriptors, NIC queues, on other lcores), and freeing the pool under one of them, or
/// while another lcore is still returning one, would leave it dangling. The memory stays
/// mapped until the process exits (and [`Eal`]'s drop then skips `rte_eal_cleanup`, which
/// would unmap it); [`Mempool::free`] frees a pool whose caller can promise that no mbuf of it
/// is alive or in flight. Ports configured with the pool borrow it, so their
/// RX rings cannot outlive it.
#[derive(Debug)]
pub struct Mempool<'eal> {
    raw: NonNull<sys::rte_mempool>,
    _eal: PhantomData<&'eal Eal>,
}

// SAFETY: an `rte_mempool` is designed for use from any thread: get/put go through the pool's
// lock-free ring driver (per-lcore caches are only used by EAL threads, each its own).
unsafe impl Send for Mempool<'_> {}
// SAFETY: as above; every `&self` method is a thread-safe DPDK call.
unsafe impl Sync for Mempool<'_> {}

impl<'eal> Mempool<'eal> {
    /// Creates a packet-buffer pool (`rte_pktmbuf_pool_create`). `name` must be unique in the
    /// process and short (DPDK limits it to 25 bytes).
    pub fn new(_eal: &'eal Eal, name: &str, config: MempoolConfig) -> Result<Self, DpdkError> {
        let name = CString::new(name).map_err(|_| DpdkError::InvalidArgument {
            what: "mempool name contains a NUL byte",
        })?;
        // SAFETY: reads the calling thread's socket id; the EAL is initialised (`_eal`).
        let own_socket = unsafe { sys::rte_socket_id() };
        let socket = config
            .socket
            .unwrap_or_else(|| i32::try_from(own_socket).unwrap_or(sys::consts::SOCKET_ID_ANY));
        // SAFETY: `name` is a NUL-terminated string that DPDK copies; the sizes are plain
        // integers that DPDK validates itself (returning NULL with rte_errno on error).
        let raw = unsafe {
            sys::rte_pktmbuf_pool_create(
                name.as_ptr(),
                config.size,
                config.cache_size,
                0,
                config.data_room,
                socket,
            )
        };
        let raw = NonNull::new(raw)
            .ok_or_else(|| DpdkError::from_rte_errno("rte_pktmbuf_pool_create"))?;
        POOLS_LIVE.fetch_add(1, Ordering::AcqRel);
        Ok(Self {
            raw,
            _eal: PhantomData,
        })
    }

    /// The raw pool, for DPDK calls not wrapped here.
    pub fn as_ptr(&self) -> *mut sys::rte_mempool {
        self.raw.as_ptr()
    }

    /// Mbufs free in the pool, per-lcore caches included (`rte_mempool_avail_count`).
    pub fn available(&self) -> u32 {
        // SAFETY: `raw` is a live pool (freed only in `drop`); the call only reads counters.
        unsafe { sys::infersteer_mempool_avail_count(self.raw.as_ptr()) }
    }

    /// Mbufs currently taken from the pool (`rte_mempool_in_use_count`).
    pub fn in_use(&self) -> u32 {
        // SAFETY: as in `available`.
        unsafe { sys::infersteer_mempool_in_use_count(self.raw.as_ptr()) }
    }

    /// One mbuf, reset and empty; `None` when the pool is exhausted. No allocation.
    #[inline]
    pub fn alloc(&self) -> Option<Mbuf> {
        // SAFETY: `raw` is a live packet pool; the returned mbuf (if any) is fresh, refcnt 1,
        // and owned by nobody else, which is `Mbuf::from_raw`'s contract.
        unsafe {
            let m = sys::infersteer_pktmbuf_alloc(self.raw.as_ptr());
            NonNull::new(m).map(|m| Mbuf::from_raw(m))
        }
    }

    /// Fills `burst` up to `count` more mbufs, all or nothing (`rte_pktmbuf_alloc_bulk`).
    /// Errors: `InvalidArgument` when `count` exceeds the burst's free space,
    /// `Call { call: "rte_pktmbuf_alloc_bulk", errno: ENOBUFS }` when the pool has too few.
    pub fn alloc_bulk(&self, burst: &mut MbufBurst, count: usize) -> Result<(), DpdkError> {
        if count > burst.spare() {
            return Err(DpdkError::InvalidArgument {
                what: "alloc_bulk count exceeds the burst's free space",
            });
        }
        let n = u32::try_from(count).map_err(|_| DpdkError::InvalidArgument {
            what: "alloc_bulk count",
        })?;
        // SAFETY: `spare_ptr` points at `spare() >= count` writable pointer slots of the burst;
        // on success DPDK writes exactly `count` fresh, exclusively owned mbufs there, which
        // `assume_filled` then counts; on failure it writes nothing usable and nothing is
        // counted.
        unsafe {
            let ret = sys::infersteer_pktmbuf_alloc_bulk(self.raw.as_ptr(), burst.spare_ptr(), n);
            if ret != 0 {
                return Err(DpdkError::from_ret("rte_pktmbuf_alloc_bulk", ret));
            }
            burst.assume_filled(count);
        }
        Ok(())
    }
}

/// Pools created and not freed with [`Mempool::free`]: while any exists, DPDK memory must
/// stay mapped, so [`Eal`]'s drop skips `rte_eal_cleanup`.
pub(crate) static POOLS_LIVE: AtomicUsize = AtomicUsize::new(0);

impl Mempool<'_> {
    /// Frees the pool now (`rte_mempool_free`).
    ///
    /// # Safety
    ///
    /// No mbuf of this pool may be alive anywhere (in a burst, a ring, a GPU queue descriptor,
    /// a port's RX or TX ring) or be being freed on another thread, now or later.
    pub unsafe fn free(self) {
        let raw = self.raw;
        core::mem::forget(self);
        // SAFETY: `raw` was created by `rte_pktmbuf_pool_create` and is freed once (the
        // `Mempool` is forgotten); the caller promises no mbuf of it is alive or in flight.
        unsafe { sys::rte_mempool_free(raw.as_ptr()) };
        POOLS_LIVE.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Drop for Mempool<'_> {
    fn drop(&mut self) {
        // Deliberately not freed (see the type's docs): an mbuf of this pool may still be
        // alive, or be on its way back on another lcore (DPDK counts it returned before it has
        // finished writing it into the pool's cache), and neither can be seen safely from
        // here. The memory stays mapped until the process exits; `Mempool::free` frees it
        // for a caller who can promise quiescence.
    }
}
