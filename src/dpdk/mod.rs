//! Safe wrappers over DPDK 22.11 (feature `dpdk`): the EAL, packet-buffer pools, mbufs and
//! fixed-size bursts of them, Ethernet ports with their RX/TX queues, `rte_ring`, and
//! `rte_flow` offload with a counted software fallback.
//!
//! What it promises:
//! - **Ownership mirrors DPDK's.** Every C handle is an RAII type freed on drop; children
//!   borrow their parent ([`Mempool`], [`Port`], [`Ring`] borrow the [`Eal`]; a port borrows
//!   the pool its RX queues fill from; [`RxQueue`], [`TxQueue`] and [`FlowRule`] borrow the
//!   port). [`Mbuf`]s carry no lifetime, so they can travel as `u64` handles through GPU
//!   queues; free them before dropping their pool (a pool with mbufs still out is leaked, not
//!   freed) and the EAL.
//! - **No allocation on the fast path.** [`RxQueue::rx_burst`], [`TxQueue::tx_burst`],
//!   [`Mempool::alloc`], the ring bursts and [`MbufBurst`]'s operations work on the inline
//!   array of an [`MbufBurst`] (at most [`MAX_BURST`] = 32 mbufs, on the stack).
//!   Setup (`Eal::init`, creating pools, ports, rings, flow rules) may allocate.
//! - **No leak, no double free.** A partial TX or ring enqueue leaves the unsent mbufs in the
//!   burst; whatever a burst still holds is freed in one `rte_pktmbuf_free_bulk` call.
//! - **No panic.** Failing calls return [`DpdkError`], naming the DPDK call and its errno.
//!
//! - **The pipeline runs on mbufs.** [`Mbuf`] implements [`Frame`](crate::pipeline::Frame);
//!   [`process_mbufs`] runs a burst through a [`Pipeline`](crate::pipeline::Pipeline) and
//!   carries out its verdicts (admitted mbufs move into GPU-queue descriptors, drops are freed
//!   in bulk, host-bound ones go to a TX burst), and [`MbufConsumer`] frees the mbufs of a GPU
//!   queue's descriptors after a worker saw them.
//!
//! Running without a NIC: start the EAL with `-l 0 --no-huge --no-pci --no-shconf` and virtual
//! devices (`--vdev net_null0`, or [`Port::create_vdev`] at run time). DPDK 22.11 rejects
//! `--in-memory` together with `--no-huge` ("--legacy-mem is not compatible with
//! --in-memory"); `--no-shconf` plus a unique `--file-prefix` gives the same isolation.
//! Debian's poll-mode drivers are plugins that a dynamically linked EAL loads from
//! [`PMD_DIR`] by itself.
//!
//! ```no_run
//! use infersteer::dpdk::{Eal, Mempool, MempoolConfig, MbufBurst, Port, PortConfig};
//!
//! let eal = Eal::init(&["-l", "0", "--no-huge", "--no-pci", "--no-shconf", "--vdev", "net_null0"])?;
//! let pool = Mempool::new(&eal, "rx_pool", MempoolConfig::default())?;
//! let mut port = Port::by_name(&eal, "net_null0")?;
//! port.configure(&PortConfig::default(), &pool)?;
//! port.start()?;
//! let (mut rx, mut tx) = (port.rx_queue(0)?, port.tx_queue(0)?);
//! let mut burst = MbufBurst::new();
//! rx.rx_burst(&mut burst);
//! for m in burst.as_slice() {
//!     let _bytes: &[u8] = m.data();
//!     let _hash: Option<u32> = m.rss_hash();
//! }
//! tx.tx_burst(&mut burst); // what was not sent stays in `burst` and is freed with it
//! # Ok::<(), infersteer::dpdk::DpdkError>(())
//! ```
#![allow(unsafe_code)] // FFI: every unsafe block carries a `// SAFETY:` proof.

mod eal;
mod error;
mod flow;
mod mbuf;
mod mempool;
mod pipeline;
mod port;
mod ring;

pub use eal::{Eal, TscClock};
pub use error::{rte_errno, DpdkError};
pub use flow::{FiveTuple, FlowOffload, FlowRule, L4Proto};
pub use mbuf::{Drain, Mbuf, MbufBurst, RxBurst, MAX_BURST};
pub use mempool::{Mempool, MempoolConfig};
pub use pipeline::{process_mbufs, BurstOutcome, MbufConsumer};
pub use port::{LinkStatus, Port, PortConfig, PortStats, RxQueue, TxQueue, MAX_QUEUES};
pub use ring::{MbufRing, Ring, RingConsumer, RingProducer, RingSync};

/// Where Debian's DPDK keeps its poll-mode-driver plugins (computed by pkg-config at build
/// time); pass `-d PMD_DIR` to the EAL for a DPDK build that does not load it by default.
pub use infersteer_dpdk_sys::PMD_DIR;

/// The raw bindings, for DPDK calls not wrapped here.
pub use infersteer_dpdk_sys as sys;
