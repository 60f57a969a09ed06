//! The one error type of the DPDK layer: a failing DPDK call names itself and its errno.

use core::ffi::{c_int, CStr};
use core::fmt;

use infersteer_dpdk_sys as sys;

/// Why a DPDK operation failed. Small and `Copy`: no strings are allocated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DpdkError {
    /// A DPDK call failed: `call` is the C function's name, `errno` is `rte_errno` or the
    /// negated return value (always positive, an `errno` or DPDK `E_RTE_*` code).
    Call {
        /// The DPDK function that failed, e.g. `"rte_eth_dev_configure"`.
        call: &'static str,
        /// The positive error code it reported.
        errno: i32,
    },
    /// [`Eal::init`](super::Eal::init) ran before in this process; DPDK initialises once.
    EalAlreadyInitialized,
    /// An argument was rejected before DPDK was called (`what` says which and why).
    InvalidArgument {
        /// The argument and the rule it broke, e.g. `"queue index >= configured RX queues"`.
        what: &'static str,
    },
    /// A queue was asked for while another handle to the same queue is alive.
    QueueInUse {
        /// The queue index.
        queue: u16,
    },
    /// A [`Port`](super::Port) was asked for while another handle to the same port is alive.
    PortInUse {
        /// The port id.
        port: u16,
    },
    /// An mbuf has too little tailroom for an append.
    NoTailroom {
        /// Bytes asked for.
        needed: usize,
        /// Bytes available after the data.
        tailroom: u16,
    },
    /// An mbuf may not be written: another reference shares it (reference count above 1) or
    /// its buffer is not its own (an indirect or external-buffer mbuf).
    NotWritable,
}

impl DpdkError {
    /// A failed `call` whose errno is the calling thread's `rte_errno`.
    pub(crate) fn from_rte_errno(call: &'static str) -> Self {
        Self::Call {
            call,
            errno: rte_errno(),
        }
    }

    /// A failed `call` that returned the negative errno `ret`.
    pub(crate) fn from_ret(call: &'static str, ret: c_int) -> Self {
        Self::Call {
            call,
            errno: ret.saturating_neg(),
        }
    }

    /// The errno of a failed call, `None` for the other variants.
    pub fn errno(&self) -> Option<i32> {
        match *self {
            Self::Call { errno, .. } => Some(errno),
            _ => None,
        }
    }
}

/// `Ok(ret)` for a non-negative return value, `Err(Call { call, errno: -ret })` otherwise.
pub(crate) fn check(call: &'static str, ret: c_int) -> Result<c_int, DpdkError> {
    if ret < 0 {
        Err(DpdkError::from_ret(call, ret))
    } else {
        Ok(ret)
    }
}

/// The calling thread's `rte_errno`.
pub fn rte_errno() -> i32 {
    // SAFETY: `infersteer_errno` only reads the calling thread's `rte_errno` (a `__thread`
    // int that exists from process start, EAL or not); no pointer is involved.
    unsafe { sys::infersteer_errno() }
}

impl fmt::Display for DpdkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Call { call, errno } => {
                // SAFETY: `rte_strerror` accepts any int and returns a pointer to a
                // NUL-terminated string: a static one, or the calling thread's per-lcore
                // buffer for unknown codes, valid until this thread's next call. The string
                // is formatted right away on this thread, before any other DPDK call.
                let text = unsafe {
                    let ptr = sys::rte_strerror(errno);
                    if ptr.is_null() {
                        None
                    } else {
                        Some(CStr::from_ptr(ptr))
                    }
                };
                let text = text
                    .and_then(|t| t.to_str().ok())
                    .unwrap_or("unknown error");
                write!(f, "{call} failed: {text} (errno {errno})")
            }
            Self::EalAlreadyInitialized => {
                f.write_str("the DPDK EAL is already initialised in this process")
            }
            Self::InvalidArgument { what } => write!(f, "invalid argument: {what}"),
            Self::QueueInUse { queue } => write!(f, "queue {queue} is already in use"),
            Self::PortInUse { port } => write!(f, "port {port} already has a live Port handle"),
            Self::NotWritable => f.write_str(
                "the mbuf is shared (reference count above 1) or indirect/external: not writable",
            ),
            Self::NoTailroom { needed, tailroom } => {
                write!(f, "mbuf tailroom {tailroom} < {needed} bytes to append")
            }
        }
    }
}

impl std::error::Error for DpdkError {}
