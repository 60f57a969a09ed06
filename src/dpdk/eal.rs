//! The DPDK Environment Abstraction Layer: initialised once per process.

use core::ffi::{c_char, c_int};
use core::marker::PhantomData;
use std::ffi::CString;
use std::sync::atomic::{AtomicBool, Ordering};

use infersteer_dpdk_sys as sys;

use super::error::DpdkError;

/// Set by the first [`Eal::init`]; never cleared, because DPDK cannot initialise again in a
/// process, not even after `rte_eal_cleanup`.
static EAL_CLAIMED: AtomicBool = AtomicBool::new(false);

/// The initialised EAL. Every other DPDK object borrows it (`Mempool<'eal>`, `Port<'eal>`,
/// `Ring<'eal>`), so none of them can outlive it.
///
/// Dropping it calls `rte_eal_cleanup`, which releases DPDK's memory. DPDK **cannot be
/// initialised again** in the same process afterwards: a second [`Eal::init`] returns
/// [`DpdkError::EalAlreadyInitialized`] whether or not the first one was dropped (or failed).
/// A long-running data plane keeps its `Eal` for the life of the process (e.g. in a
/// `static OnceLock<Eal>`, whose value is never dropped).
///
/// [`Mbuf`](super::Mbuf)s carry no lifetime (they travel as `u64` handles through GPU queues),
/// so the borrow checker does not tie them to the EAL: free or drop every mbuf before the
/// `Eal` is dropped.
#[derive(Debug)]
pub struct Eal {
    /// The argument strings: `rte_eal_init` may keep pointers into `argv`.
    _args: Vec<CString>,
    /// Not `Clone`, not constructible outside [`Eal::init`].
    _private: PhantomData<()>,
}

impl Eal {
    /// Initialises DPDK with EAL arguments (`args` excludes the program name, which is added
    /// as `argv[0]`), e.g. `["-l", "0", "--no-huge", "--no-pci", "--vdev", "net_null0"]`.
    ///
    /// Setup-time only: allocates the C strings. Errors: [`DpdkError::EalAlreadyInitialized`]
    /// on any second call in the process, [`DpdkError::InvalidArgument`] for an argument with
    /// a NUL byte, `Call { call: "rte_eal_init", .. }` when DPDK refuses.
    pub fn init<S: AsRef<str>>(args: &[S]) -> Result<Self, DpdkError> {
        let mut owned = Vec::with_capacity(args.len().saturating_add(1));
        owned.push(CString::from(c"infersteer"));
        for arg in args {
            let c = CString::new(arg.as_ref()).map_err(|_| DpdkError::InvalidArgument {
                what: "EAL argument contains a NUL byte",
            })?;
            owned.push(c);
        }
        let argc = c_int::try_from(owned.len()).map_err(|_| DpdkError::InvalidArgument {
            what: "too many EAL arguments",
        })?;
        if EAL_CLAIMED.swap(true, Ordering::AcqRel) {
            return Err(DpdkError::EalAlreadyInitialized);
        }
        // `rte_eal_init` permutes `argv` (getopt), so it gets a copy of the pointer array;
        // the strings themselves live in `owned`, which the `Eal` keeps.
        let mut argv: Vec<*mut c_char> = owned.iter().map(|s| s.as_ptr().cast_mut()).collect();
        argv.push(core::ptr::null_mut());
        // SAFETY: `argv` holds `argc` pointers to NUL-terminated strings followed by NULL, as
        // `main` would; the strings outlive the EAL because `Eal` owns them. getopt may
        // reorder the pointer array (ours, discarded afterwards) but never writes through the
        // pointers. `EAL_CLAIMED` guarantees this is the process's only call.
        let ret = unsafe { sys::rte_eal_init(argc, argv.as_mut_ptr()) };
        if ret < 0 {
            return Err(DpdkError::from_rte_errno("rte_eal_init"));
        }
        Ok(Self {
            _args: owned,
            _private: PhantomData,
        })
    }

    /// Whether [`Eal::init`] has been called in this process (successfully or not).
    pub fn is_claimed() -> bool {
        EAL_CLAIMED.load(Ordering::Acquire)
    }

    /// The calling thread's lcore id (`rte_lcore_id`), `None` for a thread DPDK did not
    /// start or register.
    pub fn lcore_id(&self) -> Option<u32> {
        // SAFETY: reads the calling thread's per-lcore variable; the EAL is initialised.
        let id = unsafe { sys::infersteer_lcore_id() };
        (id != u32::MAX).then_some(id)
    }

    /// The NUMA socket of the calling thread (`rte_socket_id`).
    pub fn socket_id(&self) -> i32 {
        // SAFETY: reads the calling thread's per-lcore socket; the EAL is initialised.
        let id = unsafe { sys::rte_socket_id() };
        i32::try_from(id).unwrap_or(sys::consts::SOCKET_ID_ANY)
    }

    /// Number of Ethernet ports DPDK found (`rte_eth_dev_count_avail`).
    pub fn port_count(&self) -> u16 {
        // SAFETY: a read-only query of the ethdev table; the EAL is initialised.
        unsafe { sys::rte_eth_dev_count_avail() }
    }
}

impl Drop for Eal {
    fn drop(&mut self) {
        // `rte_eal_cleanup` unmaps DPDK's memory. Mbufs carry no lifetime, so while any pool
        // exists (pools are only freed by the unsafe `Mempool::free`) one of its mbufs may
        // still be alive: then the memory stays mapped until the process exits.
        if super::mempool::POOLS_LIVE.load(Ordering::Acquire) != 0 {
            return;
        }
        // SAFETY: every mempool, port and ring borrows `self`, so all of them have been
        // dropped, and no pool is left, so no mbuf can point into DPDK memory; it runs once
        // because `Eal` is created once per process. The return value is ignored: nothing
        // can be done about a failed cleanup in `drop`.
        let _ = unsafe { sys::rte_eal_cleanup() };
    }
}

/// A cycle counter for one timestamp per burst: `rte_rdtsc` (the TSC on x86-64, the generic
/// timer on arm64) and its frequency `rte_get_tsc_hz`.
#[derive(Debug, Clone, Copy)]
pub struct TscClock {
    hz: u64,
}

impl TscClock {
    /// Reads the counter frequency DPDK calibrated at EAL start.
    pub fn new(_eal: &Eal) -> Self {
        // SAFETY: returns a value computed during `rte_eal_init`, which has run (`_eal`).
        let hz = unsafe { sys::rte_get_tsc_hz() };
        Self { hz: hz.max(1) }
    }

    /// Counter ticks per second.
    pub fn hz(&self) -> u64 {
        self.hz
    }

    /// The current counter value.
    #[inline]
    pub fn now(&self) -> u64 {
        // SAFETY: `rte_rdtsc` reads a CPU counter register; no memory is touched.
        unsafe { sys::infersteer_rdtsc() }
    }

    /// `ticks` converted to nanoseconds (saturating).
    #[inline]
    pub fn ticks_to_ns(&self, ticks: u64) -> u64 {
        let ns = u128::from(ticks) * 1_000_000_000 / u128::from(self.hz);
        u64::try_from(ns).unwrap_or(u64::MAX)
    }
}
