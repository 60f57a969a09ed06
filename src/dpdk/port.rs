//! Ethernet ports (`rte_eth_*`): configure, start, stop, stats, link, MAC, and their RX/TX
//! queues.

use core::marker::PhantomData;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::ffi::CString;

use infersteer_dpdk_sys as sys;

use super::error::{check, DpdkError};
use super::mbuf::{MbufBurst, MAX_BURST};
use super::{Eal, Mempool};

/// Most RX or TX queues a [`Port`] hands out (one bit each in its in-use masks).
pub const MAX_QUEUES: u16 = 64;

/// How to configure a [`Port`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortConfig {
    /// RX queues (1..=[`MAX_QUEUES`]).
    pub rx_queues: u16,
    /// TX queues (1..=[`MAX_QUEUES`]).
    pub tx_queues: u16,
    /// RX descriptors per queue (adjusted to the device's limits).
    pub rx_descriptors: u16,
    /// TX descriptors per queue (adjusted to the device's limits).
    pub tx_descriptors: u16,
    /// Spread flows over the RX queues by RSS on IP addresses and TCP/UDP ports. Ignored (see
    /// [`Port::rss_enabled`]) when the device offers no RSS hash types.
    pub rss: bool,
    /// Accept every destination MAC.
    pub promiscuous: bool,
}

impl Default for PortConfig {
    fn default() -> Self {
        Self {
            rx_queues: 1,
            tx_queues: 1,
            rx_descriptors: 1024,
            tx_descriptors: 1024,
            rss: false,
            promiscuous: true,
        }
    }
}

/// Port counters (`rte_eth_stats_get`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PortStats {
    /// Packets received.
    pub rx_packets: u64,
    /// Packets sent.
    pub tx_packets: u64,
    /// Bytes received.
    pub rx_bytes: u64,
    /// Bytes sent.
    pub tx_bytes: u64,
    /// Packets dropped by the NIC for lack of RX descriptors.
    pub rx_missed: u64,
    /// Erroneous received packets.
    pub rx_errors: u64,
    /// Failed transmissions.
    pub tx_errors: u64,
    /// RX mbuf allocation failures.
    pub rx_nombuf: u64,
}

/// Link state (`rte_eth_link_get_nowait`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkStatus {
    /// Whether the link is up.
    pub up: bool,
    /// Speed in Mb/s (0 when unknown).
    pub speed_mbps: u32,
    /// Full duplex.
    pub full_duplex: bool,
}

/// An Ethernet port of the EAL. Dropping it stops it; a port created from a vdev by
/// [`Port::create_vdev`] is also closed and its vdev removed.
///
/// Lifetimes: `'a` covers the [`Eal`] and the [`Mempool`] its RX queues take buffers from, so
/// neither can be dropped while the port lives. [`RxQueue`]s and [`TxQueue`]s borrow the port,
/// so it cannot be stopped, reconfigured or dropped while one is alive.
#[derive(Debug)]
pub struct Port<'a> {
    id: u16,
    /// The vdev name when this `Port` created the device (closed and removed on drop).
    vdev: Option<CString>,
    rx_queues: u16,
    tx_queues: u16,
    configured: bool,
    started: bool,
    rss: bool,
    rx_taken: AtomicU64,
    tx_taken: AtomicU64,
    flows_offloaded: AtomicU64,
    flows_software: AtomicU64,
    _borrows: PhantomData<(&'a Eal, &'a Mempool<'a>)>,
}

impl<'a> Port<'a> {
    /// The port with DPDK id `id`.
    pub fn by_id(_eal: &'a Eal, id: u16) -> Result<Self, DpdkError> {
        // SAFETY: a read-only lookup in the ethdev table; the EAL is initialised (`_eal`).
        if unsafe { sys::rte_eth_dev_is_valid_port(id) } == 0 {
            return Err(DpdkError::Call {
                call: "rte_eth_dev_is_valid_port",
                errno: libc_enodev(),
            });
        }
        Self::new(id, None)
    }

    /// The port of a device by name (`rte_eth_dev_get_port_by_name`), e.g. `"net_null0"` for
    /// `--vdev net_null0` or a PCI address.
    pub fn by_name(_eal: &'a Eal, name: &str) -> Result<Self, DpdkError> {
        let name = CString::new(name).map_err(|_| DpdkError::InvalidArgument {
            what: "port name contains a NUL byte",
        })?;
        let id = port_id_by_name(&name)?;
        Self::new(id, None)
    }

    /// Creates a virtual device at run time (`rte_vdev_init(name, args)`, e.g.
    /// `("net_pcap0", "rx_pcap=in.pcap,tx_pcap=out.pcap")`) and returns its port; dropping
    /// the port closes it and removes the vdev (`rte_vdev_uninit`).
    pub fn create_vdev(_eal: &'a Eal, name: &str, args: &str) -> Result<Self, DpdkError> {
        let c_name = CString::new(name).map_err(|_| DpdkError::InvalidArgument {
            what: "vdev name contains a NUL byte",
        })?;
        let c_args = CString::new(args).map_err(|_| DpdkError::InvalidArgument {
            what: "vdev arguments contain a NUL byte",
        })?;
        // SAFETY: both are NUL-terminated strings that DPDK parses and copies; the EAL is
        // initialised (`_eal`).
        check("rte_vdev_init", unsafe {
            sys::rte_vdev_init(c_name.as_ptr(), c_args.as_ptr())
        })?;
        match port_id_by_name(&c_name).and_then(|id| Self::new(id, Some(c_name.clone()))) {
            Ok(port) => Ok(port),
            Err(e) => {
                // SAFETY: removes the vdev created just above, which no port object uses.
                let _ = unsafe { sys::rte_vdev_uninit(c_name.as_ptr()) };
                Err(e)
            }
        }
    }

    fn new(id: u16, vdev: Option<CString>) -> Result<Self, DpdkError> {
        claim_port(id)?;
        Ok(Self {
            id,
            vdev,
            rx_queues: 0,
            tx_queues: 0,
            configured: false,
            started: false,
            rss: false,
            rx_taken: AtomicU64::new(0),
            tx_taken: AtomicU64::new(0),
            flows_offloaded: AtomicU64::new(0),
            flows_software: AtomicU64::new(0),
            _borrows: PhantomData,
        })
    }

    /// The DPDK port id.
    pub fn id(&self) -> u16 {
        self.id
    }

    /// Configures the device and sets up its queues, RX queues taking buffers from `pool`
    /// (`rte_eth_dev_configure`, `rte_eth_rx_queue_setup`, `rte_eth_tx_queue_setup`). The
    /// port must be stopped. Setup-time only.
    pub fn configure(
        &mut self,
        config: &PortConfig,
        pool: &'a Mempool<'_>,
    ) -> Result<(), DpdkError> {
        if config.rx_queues == 0
            || config.tx_queues == 0
            || config.rx_queues > MAX_QUEUES
            || config.tx_queues > MAX_QUEUES
        {
            return Err(DpdkError::InvalidArgument {
                what: "queue counts must be 1..=64",
            });
        }
        if self.started {
            return Err(DpdkError::InvalidArgument {
                what: "configure needs a stopped port",
            });
        }
        // Until every step below succeeds the port counts as unconfigured with no queues: a
        // failed (re)configuration leaves no handle to a queue DPDK did not set up.
        self.configured = false;
        self.rx_queues = 0;
        self.tx_queues = 0;
        self.rss = false;
        let info = self.dev_info()?;
        if config.rx_queues > info.max_rx_queues || config.tx_queues > info.max_tx_queues {
            return Err(DpdkError::InvalidArgument {
                what: "more queues than the device supports",
            });
        }
        // SAFETY: `rte_eth_conf` is a plain C struct for which all-zero is the documented
        // default (no offloads, no multi-queue mode).
        let mut conf: sys::rte_eth_conf = unsafe { core::mem::zeroed() };
        let rss_hf = (sys::consts::RTE_ETH_RSS_IP
            | sys::consts::RTE_ETH_RSS_TCP
            | sys::consts::RTE_ETH_RSS_UDP)
            & info.flow_type_rss_offloads;
        let rss = config.rss && rss_hf != 0;
        if rss {
            conf.rxmode.mq_mode = sys::consts::RTE_ETH_MQ_RX_RSS;
            conf.rx_adv_conf.rss_conf.rss_hf = rss_hf;
            // NULL key: the driver's default Toeplitz key.
            conf.rx_adv_conf.rss_conf.rss_key = core::ptr::null_mut();
        } else {
            conf.rxmode.mq_mode = sys::consts::RTE_ETH_MQ_RX_NONE;
        }
        // SAFETY: `conf` is a valid, initialised configuration that DPDK copies; the port id
        // is valid (checked at construction) and the port is stopped.
        check("rte_eth_dev_configure", unsafe {
            sys::rte_eth_dev_configure(self.id, config.rx_queues, config.tx_queues, &conf)
        })?;
        let (mut nb_rx, mut nb_tx) = (config.rx_descriptors, config.tx_descriptors);
        // SAFETY: two valid `u16` out-pointers; the port is configured.
        check("rte_eth_dev_adjust_nb_rx_tx_desc", unsafe {
            sys::rte_eth_dev_adjust_nb_rx_tx_desc(self.id, &mut nb_rx, &mut nb_tx)
        })?;
        // SAFETY: a read-only query of a valid port.
        let socket = unsafe { sys::rte_eth_dev_socket_id(self.id) };
        let socket = u32::try_from(socket).unwrap_or(u32::MAX); // SOCKET_ID_ANY as unsigned
        for q in 0..config.rx_queues {
            // SAFETY: the port is configured with `rx_queues > q`; NULL rxconf selects the
            // driver defaults; `pool` is a live pktmbuf pool that outlives the port (`'a`).
            check("rte_eth_rx_queue_setup", unsafe {
                sys::rte_eth_rx_queue_setup(
                    self.id,
                    q,
                    nb_rx,
                    socket,
                    core::ptr::null(),
                    pool.as_ptr(),
                )
            })?;
        }
        for q in 0..config.tx_queues {
            // SAFETY: the port is configured with `tx_queues > q`; NULL txconf selects the
            // driver defaults.
            check("rte_eth_tx_queue_setup", unsafe {
                sys::rte_eth_tx_queue_setup(self.id, q, nb_tx, socket, core::ptr::null())
            })?;
        }
        if config.promiscuous {
            // SAFETY: a valid, configured port. Some virtual PMDs do not implement it
            // (-ENOTSUP), which is harmless: they accept every frame anyway.
            let ret = unsafe { sys::rte_eth_promiscuous_enable(self.id) };
            if ret < 0 && ret != -ENOTSUP {
                return Err(DpdkError::from_ret("rte_eth_promiscuous_enable", ret));
            }
        }
        self.rx_queues = config.rx_queues;
        self.tx_queues = config.tx_queues;
        self.rss = rss;
        self.configured = true;
        Ok(())
    }

    /// Whether RSS is on (asked for and offered by the device).
    pub fn rss_enabled(&self) -> bool {
        self.rss
    }

    /// Configured RX queues.
    pub fn rx_queue_count(&self) -> u16 {
        self.rx_queues
    }

    /// Configured TX queues.
    pub fn tx_queue_count(&self) -> u16 {
        self.tx_queues
    }

    /// Starts the port (`rte_eth_dev_start`).
    pub fn start(&mut self) -> Result<(), DpdkError> {
        if !self.configured {
            return Err(DpdkError::InvalidArgument {
                what: "start needs a configured port",
            });
        }
        // SAFETY: a valid, configured port; no queue handle is alive (`&mut self`).
        check("rte_eth_dev_start", unsafe {
            sys::rte_eth_dev_start(self.id)
        })?;
        self.started = true;
        Ok(())
    }

    /// Stops the port (`rte_eth_dev_stop`); RX/TX bursts then return 0.
    pub fn stop(&mut self) -> Result<(), DpdkError> {
        if !self.started {
            return Ok(());
        }
        // SAFETY: a valid, started port; no queue handle is alive (`&mut self`), so no burst
        // call runs concurrently.
        check("rte_eth_dev_stop", unsafe {
            sys::rte_eth_dev_stop(self.id)
        })?;
        self.started = false;
        Ok(())
    }

    /// Whether the port is started.
    pub fn is_started(&self) -> bool {
        self.started
    }

    /// The port's counters.
    pub fn stats(&self) -> Result<PortStats, DpdkError> {
        // SAFETY: `rte_eth_stats` is plain integers; all-zero is valid.
        let mut s: sys::rte_eth_stats = unsafe { core::mem::zeroed() };
        // SAFETY: a valid port and a valid out-pointer.
        check("rte_eth_stats_get", unsafe {
            sys::rte_eth_stats_get(self.id, &mut s)
        })?;
        Ok(PortStats {
            rx_packets: s.ipackets,
            tx_packets: s.opackets,
            rx_bytes: s.ibytes,
            tx_bytes: s.obytes,
            rx_missed: s.imissed,
            rx_errors: s.ierrors,
            tx_errors: s.oerrors,
            rx_nombuf: s.rx_nombuf,
        })
    }

    /// Zeroes the port's counters (`rte_eth_stats_reset`).
    pub fn reset_stats(&self) -> Result<(), DpdkError> {
        // SAFETY: a valid port.
        check("rte_eth_stats_reset", unsafe {
            sys::rte_eth_stats_reset(self.id)
        })?;
        Ok(())
    }

    /// The link state, without waiting (`rte_eth_link_get_nowait`).
    pub fn link(&self) -> Result<LinkStatus, DpdkError> {
        let mut link = sys::rte_eth_link::default();
        // SAFETY: a valid port and a valid out-pointer.
        check("rte_eth_link_get_nowait", unsafe {
            sys::rte_eth_link_get_nowait(self.id, &mut link)
        })?;
        Ok(LinkStatus {
            up: link.link_status() != 0,
            speed_mbps: link.link_speed,
            full_duplex: link.link_duplex() != 0,
        })
    }

    /// The port's MAC address (`rte_eth_macaddr_get`).
    pub fn mac(&self) -> Result<[u8; 6], DpdkError> {
        let mut addr = sys::rte_ether_addr::default();
        // SAFETY: a valid port and a valid out-pointer.
        check("rte_eth_macaddr_get", unsafe {
            sys::rte_eth_macaddr_get(self.id, &mut addr)
        })?;
        Ok(addr.addr_bytes)
    }

    /// RX queue `queue`; one handle per queue at a time.
    pub fn rx_queue(&self, queue: u16) -> Result<RxQueue<'_>, DpdkError> {
        if queue >= self.rx_queues {
            return Err(DpdkError::InvalidArgument {
                what: "RX queue index >= configured RX queues",
            });
        }
        claim(&self.rx_taken, queue)?;
        Ok(RxQueue { port: self, queue })
    }

    /// TX queue `queue`; one handle per queue at a time.
    pub fn tx_queue(&self, queue: u16) -> Result<TxQueue<'_>, DpdkError> {
        if queue >= self.tx_queues {
            return Err(DpdkError::InvalidArgument {
                what: "TX queue index >= configured TX queues",
            });
        }
        claim(&self.tx_taken, queue)?;
        Ok(TxQueue { port: self, queue })
    }

    fn dev_info(&self) -> Result<sys::rte_eth_dev_info, DpdkError> {
        // SAFETY: `rte_eth_dev_info` is integers and pointers; all-zero is valid and
        // `rte_eth_dev_info_get` overwrites it.
        let mut info: sys::rte_eth_dev_info = unsafe { core::mem::zeroed() };
        // SAFETY: a valid port and a valid out-pointer.
        check("rte_eth_dev_info_get", unsafe {
            sys::rte_eth_dev_info_get(self.id, &mut info)
        })?;
        Ok(info)
    }

    pub(crate) fn count_flow(&self, offloaded: bool) {
        let counter = if offloaded {
            &self.flows_offloaded
        } else {
            &self.flows_software
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Flow rules installed in hardware, and flows left to software steering because the
    /// device has no `rte_flow` support ([`FlowOffload`](super::FlowOffload)).
    pub fn flow_counts(&self) -> (u64, u64) {
        (
            self.flows_offloaded.load(Ordering::Relaxed),
            self.flows_software.load(Ordering::Relaxed),
        )
    }
}

/// Port ids claimed by a live [`Port`]: one handle per device in the process, so two handles
/// can never drive the same queue, or stop or close a device under another's queues.
static CLAIMED: [AtomicBool; MAX_PORT_IDS] = [const { AtomicBool::new(false) }; MAX_PORT_IDS];

/// Port ids a [`Port`] can claim (DPDK's `RTE_MAX_ETHPORTS` is far below this).
const MAX_PORT_IDS: usize = 1024;

fn claim_port(id: u16) -> Result<(), DpdkError> {
    let Some(flag) = CLAIMED.get(usize::from(id)) else {
        return Err(DpdkError::InvalidArgument {
            what: "port id above the ids a Port can claim",
        });
    };
    flag.compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
        .map(|_| ())
        .map_err(|_| DpdkError::PortInUse { port: id })
}

impl Drop for Port<'_> {
    fn drop(&mut self) {
        if self.started {
            // SAFETY: a valid, started port with no queue handle alive (they borrow it).
            let _ = unsafe { sys::rte_eth_dev_stop(self.id) };
        }
        if let Some(name) = &self.vdev {
            // SAFETY: we created this vdev; its port is stopped and no handle to it is left.
            // `rte_eth_dev_close` releases the queues, `rte_vdev_uninit` removes the device.
            unsafe {
                let _ = sys::rte_eth_dev_close(self.id);
                let _ = sys::rte_vdev_uninit(name.as_ptr());
            }
        }
        if let Some(flag) = CLAIMED.get(usize::from(self.id)) {
            flag.store(false, Ordering::Release);
        }
    }
}

/// An RX queue of a configured port (it receives only while the port is started). `Send`:
/// move it to the lcore that polls it; bursts need `&mut`, so one thread polls it at a time.
#[derive(Debug)]
pub struct RxQueue<'p> {
    port: &'p Port<'p>,
    queue: u16,
}

impl RxQueue<'_> {
    /// Receives into the free space of `burst` (`rte_eth_rx_burst`, at most
    /// [`MAX_BURST`] - `burst.len()` frames); returns how many arrived. No allocation.
    #[inline]
    pub fn rx_burst(&mut self, burst: &mut MbufBurst) -> usize {
        let spare = burst.spare() as u16; // <= MAX_BURST = 32
                                          // A port that is not started has nothing to receive; DPDK's not-ready burst would
                                          // log and dump a stack. `started` cannot change while this handle borrows the port.
        if spare == 0 || !self.port.started {
            return 0;
        }
        // SAFETY: `spare_ptr` points at `spare` writable pointer slots; this handle is the
        // only one for (port, queue) (claimed bit), so no other thread polls the queue; the
        // driver writes `n <= spare` fresh mbufs (refcnt 1) that it no longer owns, which
        // `assume_filled(n)` adopts. The port is started.
        unsafe {
            let n =
                sys::infersteer_eth_rx_burst(self.port.id, self.queue, burst.spare_ptr(), spare);
            let n = usize::from(n).min(usize::from(spare));
            burst.assume_filled(n);
            n
        }
    }

    /// The queue index.
    pub fn index(&self) -> u16 {
        self.queue
    }
}

impl Drop for RxQueue<'_> {
    fn drop(&mut self) {
        release(&self.port.rx_taken, self.queue);
    }
}

/// A TX queue of a configured port (it sends only while the port is started). `Send`; bursts
/// need `&mut`, so one thread uses it at a time.
#[derive(Debug)]
pub struct TxQueue<'p> {
    port: &'p Port<'p>,
    queue: u16,
}

impl TxQueue<'_> {
    /// Transmits from the front of `burst` (`rte_eth_tx_burst`); returns how many the driver
    /// took. Those leave the burst; the ones not sent stay in it, in order, still owned by the
    /// caller (retry, or drop the burst to free them): no double free, no leak.
    #[inline]
    pub fn tx_burst(&mut self, burst: &mut MbufBurst) -> usize {
        let len = burst.len() as u16; // <= MAX_BURST = 32
                                      // A port that is not started sends nothing (all mbufs stay in the burst) without
                                      // calling DPDK's not-ready burst, which would log and dump a stack.
        if len == 0 || !self.port.started {
            return 0;
        }
        // SAFETY: `raw_ptr` points at `len` owned mbufs; the driver takes ownership of the
        // first `n` it returns (and only those), which `consume_front(n)` then forgets. This
        // handle is the only one for (port, queue), and the port is started.
        unsafe {
            let n = sys::infersteer_eth_tx_burst(self.port.id, self.queue, burst.raw_ptr(), len);
            let n = usize::from(n).min(usize::from(len));
            burst.consume_front(n);
            n
        }
    }

    /// The queue index.
    pub fn index(&self) -> u16 {
        self.queue
    }
}

impl Drop for TxQueue<'_> {
    fn drop(&mut self) {
        release(&self.port.tx_taken, self.queue);
    }
}

const _: () = assert!(MAX_BURST <= u16::MAX as usize);

fn claim(mask: &AtomicU64, queue: u16) -> Result<(), DpdkError> {
    let bit = 1u64 << queue; // queue < MAX_QUEUES = 64, checked by the callers
    if mask.fetch_or(bit, Ordering::AcqRel) & bit != 0 {
        return Err(DpdkError::QueueInUse { queue });
    }
    Ok(())
}

fn release(mask: &AtomicU64, queue: u16) {
    mask.fetch_and(!(1u64 << queue), Ordering::AcqRel);
}

fn port_id_by_name(name: &CString) -> Result<u16, DpdkError> {
    let mut id = 0u16;
    // SAFETY: a NUL-terminated name and a valid out-pointer.
    check("rte_eth_dev_get_port_by_name", unsafe {
        sys::rte_eth_dev_get_port_by_name(name.as_ptr(), &mut id)
    })?;
    Ok(id)
}

/// `ENOTSUP` (Linux: 95).
pub(crate) const ENOTSUP: i32 = 95;

fn libc_enodev() -> i32 {
    19 // ENODEV on Linux
}
