//! Raw bindings to DPDK 22.11 LTS for `infersteer`.
//!
//! - [`bindings`] (re-exported at the crate root): bindgen output for the `rte_eal_*`,
//!   `rte_eth_*`, `rte_pktmbuf_*`, `rte_mbuf_*`, `rte_mempool_*`, `rte_ring_*`, `rte_flow_*`,
//!   `rte_lcore_*`, `rte_hash_*`, `rte_meter_*`, `rte_vdev_*` APIs and their constants. By
//!   default the pre-generated `vendor/dpdk-22.11/bindings.rs` (x86-64) is used, so no libclang
//!   is needed; feature `bindgen` regenerates them from the installed headers, and
//!   `INFERSTEER_WRITE_VENDOR=1` with that feature refreshes the vendored copy.
//! - [`shim`] (re-exported too): real functions for DPDK's `static inline` fast path
//!   (`rte_eth_rx_burst`, `rte_pktmbuf_alloc`, `rte_ring_*_burst`, `rte_errno`, ...), compiled
//!   from `shim/shim.c` against the installed DPDK.
//! - [`consts`]: constants defined through function-like macros (`RTE_BIT64`) that bindgen
//!   cannot evaluate, checked against the C headers by `_Static_assert`s in the shim.
//!
//! `rte_mbuf`, `rte_mempool`, `rte_ring`, `rte_hash` and `rte_flow` are incomplete types here:
//! only pointers to them cross the boundary, and their fields are read through the shim. That
//! keeps the cache-line-size-dependent layouts (64-byte lines on x86-64, 128 on Debian's
//! generic arm64 build) out of Rust. The one exception is the handful of `rte_mbuf` fields the
//! per-packet fast path reads (data pointer and length, port, flags, RSS hash): they sit in
//! the mbuf's first 64 bytes, whose layout does not depend on the cache-line size, and are read
//! in place at the offsets in [`consts`] (`MBUF_OFF_*`), which the shim checks against
//! `offsetof` with `_Static_assert`s, so a different layout fails the build.
//!
//! Linking: the libraries pkg-config lists for `libdpdk` (shared). Debian's DPDK loads its
//! poll-mode drivers (`net_null`, `net_ring`, `net_pcap`, ...) as plugins from [`PMD_DIR`];
//! a dynamically linked EAL does that on its own (`RTE_EAL_PMD_PATH` is compiled in), so
//! `-d PMD_DIR` is only needed for a DPDK whose build lacks that default.
#![no_std]
// The one crate (with `src/dpdk/` and the GPU queue ring) where the workspace's `unsafe_code`
// denial is lifted: FFI is unsafe by nature. Each block carries a `// SAFETY:` proof
// (`clippy::undocumented_unsafe_blocks` stays denied).
#![allow(unsafe_code)]

/// Directory of DPDK's PMD plugins, from `pkg-config --variable=libdir libdpdk` at build time
/// (e.g. `/usr/lib/x86_64-linux-gnu/dpdk/pmds-23.0` on Debian bookworm x86-64).
pub const PMD_DIR: &str = env!("INFERSTEER_DPDK_PMD_DIR");

/// The DPDK version pkg-config reported at build time (e.g. `22.11.11`).
pub const DPDK_VERSION: &str = env!("INFERSTEER_DPDK_VERSION");

/// Bindgen output for DPDK 22.11 (see the crate docs for how it is produced).
#[allow(
    missing_docs,
    missing_debug_implementations,
    non_camel_case_types,
    non_snake_case,
    non_upper_case_globals,
    unreachable_pub,
    clippy::all,
    clippy::pedantic,
    clippy::undocumented_unsafe_blocks,
    rustdoc::all
)]
pub mod bindings {
    include!(concat!(env!("OUT_DIR"), "/bindings.rs"));
}

pub use bindings::*;
pub use shim::*;

/// Forwarders for DPDK's `static inline` functions, compiled from `shim/shim.c`. Each one
/// has exactly the contract of the DPDK function it names (see `shim/shim.h`).
pub mod shim {
    use crate::bindings::{rte_flow, rte_flow_error, rte_mbuf, rte_mempool, rte_ring};
    use crate::bindings::{rte_meter_trtcm, rte_meter_trtcm_profile};
    use core::ffi::{c_int, c_uint, c_void};

    extern "C" {
        /// `rte_eth_rx_burst`.
        pub fn infersteer_eth_rx_burst(
            port_id: u16,
            queue_id: u16,
            rx_pkts: *mut *mut rte_mbuf,
            nb_pkts: u16,
        ) -> u16;
        /// `rte_eth_tx_burst`: the first `n` returned mbufs now belong to the driver.
        pub fn infersteer_eth_tx_burst(
            port_id: u16,
            queue_id: u16,
            tx_pkts: *mut *mut rte_mbuf,
            nb_pkts: u16,
        ) -> u16;
        /// `rte_pktmbuf_alloc`: NULL when the pool is empty.
        pub fn infersteer_pktmbuf_alloc(mp: *mut rte_mempool) -> *mut rte_mbuf;
        /// `rte_pktmbuf_alloc_bulk`: 0 and all `count` filled, or a negative errno and none.
        pub fn infersteer_pktmbuf_alloc_bulk(
            pool: *mut rte_mempool,
            mbufs: *mut *mut rte_mbuf,
            count: c_uint,
        ) -> c_int;
        /// `rte_pktmbuf_free` (NULL is accepted).
        pub fn infersteer_pktmbuf_free(m: *mut rte_mbuf);
        /// `rte_pktmbuf_free_bulk` (NULL entries are skipped).
        pub fn infersteer_pktmbuf_free_bulk(mbufs: *mut *mut rte_mbuf, count: c_uint);
        /// `rte_pktmbuf_mtod(m, uint8_t *)`.
        pub fn infersteer_pktmbuf_data(m: *const rte_mbuf) -> *mut u8;
        /// `rte_pktmbuf_data_len`: bytes in the first segment.
        pub fn infersteer_pktmbuf_data_len(m: *const rte_mbuf) -> u16;
        /// `rte_pktmbuf_pkt_len`: bytes in all segments.
        pub fn infersteer_pktmbuf_pkt_len(m: *const rte_mbuf) -> u32;
        /// `m->nb_segs`.
        pub fn infersteer_pktmbuf_nb_segs(m: *const rte_mbuf) -> u16;
        /// 1 and `*hash = m->hash.rss` when `RTE_MBUF_F_RX_RSS_HASH` is set, else 0.
        pub fn infersteer_pktmbuf_rss_hash(m: *const rte_mbuf, hash: *mut u32) -> c_int;
        /// `m->ol_flags`.
        pub fn infersteer_pktmbuf_ol_flags(m: *const rte_mbuf) -> u64;
        /// `rte_pktmbuf_append`: pointer to `len` new bytes, or NULL without tailroom.
        pub fn infersteer_pktmbuf_append(m: *mut rte_mbuf, len: u16) -> *mut u8;
        /// `rte_pktmbuf_tailroom`.
        pub fn infersteer_pktmbuf_tailroom(m: *const rte_mbuf) -> u16;
        /// 1 when the mbuf may be written (reference count 1, direct: neither
        /// `RTE_MBUF_F_INDIRECT` nor `RTE_MBUF_F_EXTERNAL`), else 0.
        pub fn infersteer_pktmbuf_writable(m: *const rte_mbuf) -> c_int;
        /// `rte_mbuf_refcnt_update(m, 1)`: the new reference count.
        pub fn infersteer_pktmbuf_ref(m: *mut rte_mbuf) -> u16;
        /// `rte_pktmbuf_chain(head, tail)`: 0, or `-EOVERFLOW` (the chain unchanged) when it
        /// would exceed `RTE_MBUF_MAX_NB_SEGS` segments.
        pub fn infersteer_pktmbuf_chain(head: *mut rte_mbuf, tail: *mut rte_mbuf) -> c_int;
        /// `rte_pktmbuf_trim`: 0, or -1 when `len` exceeds the last segment.
        pub fn infersteer_pktmbuf_trim(m: *mut rte_mbuf, len: u16) -> c_int;
        /// `rte_pktmbuf_reset`.
        pub fn infersteer_pktmbuf_reset(m: *mut rte_mbuf);
        /// `m->pool`.
        pub fn infersteer_pktmbuf_pool(m: *const rte_mbuf) -> *mut rte_mempool;
        /// `m->port`: the input port the driver set on receive (`RTE_MBUF_PORT_INVALID`,
        /// 0xffff, for an mbuf no port filled).
        pub fn infersteer_pktmbuf_port(m: *const rte_mbuf) -> u16;
        /// `rte_mempool_avail_count`.
        pub fn infersteer_mempool_avail_count(mp: *const rte_mempool) -> c_uint;
        /// `rte_mempool_in_use_count`.
        pub fn infersteer_mempool_in_use_count(mp: *const rte_mempool) -> c_uint;
        /// `rte_ring_sp_enqueue_burst` (single producer only).
        pub fn infersteer_ring_sp_enqueue_burst(
            r: *mut rte_ring,
            obj_table: *const *mut c_void,
            n: c_uint,
            free_space: *mut c_uint,
        ) -> c_uint;
        /// `rte_ring_mp_enqueue_burst` (safe with concurrent producers).
        pub fn infersteer_ring_mp_enqueue_burst(
            r: *mut rte_ring,
            obj_table: *const *mut c_void,
            n: c_uint,
            free_space: *mut c_uint,
        ) -> c_uint;
        /// `rte_ring_sc_dequeue_burst` (single consumer only).
        pub fn infersteer_ring_sc_dequeue_burst(
            r: *mut rte_ring,
            obj_table: *mut *mut c_void,
            n: c_uint,
            available: *mut c_uint,
        ) -> c_uint;
        /// `rte_ring_mc_dequeue_burst` (safe with concurrent consumers).
        pub fn infersteer_ring_mc_dequeue_burst(
            r: *mut rte_ring,
            obj_table: *mut *mut c_void,
            n: c_uint,
            available: *mut c_uint,
        ) -> c_uint;
        /// `rte_ring_sp_enqueue_burst_elem` (single producer only): copies up to `n` elements
        /// of `esize` bytes (a multiple of 4, the size the ring was created with by
        /// `rte_ring_create_elem`) from `obj_table`; returns how many.
        pub fn infersteer_ring_sp_enqueue_burst_elem(
            r: *mut rte_ring,
            obj_table: *const c_void,
            esize: c_uint,
            n: c_uint,
            free_space: *mut c_uint,
        ) -> c_uint;
        /// `rte_ring_sc_dequeue_burst_elem` (single consumer only): copies up to `n` elements
        /// of `esize` bytes into `obj_table`; returns how many.
        pub fn infersteer_ring_sc_dequeue_burst_elem(
            r: *mut rte_ring,
            obj_table: *mut c_void,
            esize: c_uint,
            n: c_uint,
            available: *mut c_uint,
        ) -> c_uint;
        /// `rte_ring_count`.
        pub fn infersteer_ring_count(r: *const rte_ring) -> c_uint;
        /// `rte_ring_free_count`.
        pub fn infersteer_ring_free_count(r: *const rte_ring) -> c_uint;
        /// `rte_ring_get_capacity`.
        pub fn infersteer_ring_capacity(r: *const rte_ring) -> c_uint;
        /// The calling thread's `rte_errno`.
        pub fn infersteer_errno() -> c_int;
        /// `rte_lcore_id`: the calling thread's lcore, `LCORE_ID_ANY` for a non-EAL thread.
        pub fn infersteer_lcore_id() -> c_uint;
        /// `rte_rdtsc`: the time-stamp counter (the generic timer on arm64).
        pub fn infersteer_rdtsc() -> u64;
        /// `rte_meter_trtcm_color_blind_check` (RFC 2698): 0 green, 1 yellow, 2 red.
        pub fn infersteer_meter_trtcm_rfc2698_color_blind_check(
            m: *mut rte_meter_trtcm,
            p: *mut rte_meter_trtcm_profile,
            time: u64,
            pkt_len: u32,
        ) -> c_int;
        /// `rte_jhash`.
        pub fn infersteer_jhash(key: *const c_void, length: u32, initval: u32) -> u32;
        /// `rte_flow_validate` for an ETH / VLAN{0,2} / IPV4|IPV6 / UDP|TCP 5-tuple rule
        /// steering to `queue`: 0 or a negative errno. Addresses are 4 or 16 bytes in network
        /// order, ports in host order; `vlan_count` ids (0..=2, each at most 0xfff) are read
        /// from `vlan_ids`, outermost first.
        pub fn infersteer_flow_validate_5tuple(
            port_id: u16,
            ip_version: u8,
            src_addr: *const u8,
            dst_addr: *const u8,
            src_port: u16,
            dst_port: u16,
            l4_proto: u8,
            vlan_count: u8,
            vlan_ids: *const u16,
            queue: u16,
            error: *mut rte_flow_error,
        ) -> c_int;
        /// `rte_flow_create` for the same rule: the rule, or NULL with `rte_errno` set.
        pub fn infersteer_flow_create_5tuple(
            port_id: u16,
            ip_version: u8,
            src_addr: *const u8,
            dst_addr: *const u8,
            src_port: u16,
            dst_port: u16,
            l4_proto: u8,
            vlan_count: u8,
            vlan_ids: *const u16,
            queue: u16,
            error: *mut rte_flow_error,
        ) -> *mut rte_flow;
    }
}

/// Constants DPDK defines with function-like macros (`RTE_BIT64(n)`), which bindgen cannot
/// evaluate. `shim/shim.c` asserts each value against the C headers at build time.
pub mod consts {
    /// `RTE_ETH_RSS_IPV4`.
    pub const RTE_ETH_RSS_IPV4: u64 = 1 << 2;
    /// `RTE_ETH_RSS_FRAG_IPV4`.
    pub const RTE_ETH_RSS_FRAG_IPV4: u64 = 1 << 3;
    /// `RTE_ETH_RSS_NONFRAG_IPV4_TCP`.
    pub const RTE_ETH_RSS_NONFRAG_IPV4_TCP: u64 = 1 << 4;
    /// `RTE_ETH_RSS_NONFRAG_IPV4_UDP`.
    pub const RTE_ETH_RSS_NONFRAG_IPV4_UDP: u64 = 1 << 5;
    /// `RTE_ETH_RSS_NONFRAG_IPV4_OTHER`.
    pub const RTE_ETH_RSS_NONFRAG_IPV4_OTHER: u64 = 1 << 7;
    /// `RTE_ETH_RSS_IPV6`.
    pub const RTE_ETH_RSS_IPV6: u64 = 1 << 8;
    /// `RTE_ETH_RSS_FRAG_IPV6`.
    pub const RTE_ETH_RSS_FRAG_IPV6: u64 = 1 << 9;
    /// `RTE_ETH_RSS_NONFRAG_IPV6_TCP`.
    pub const RTE_ETH_RSS_NONFRAG_IPV6_TCP: u64 = 1 << 10;
    /// `RTE_ETH_RSS_NONFRAG_IPV6_UDP`.
    pub const RTE_ETH_RSS_NONFRAG_IPV6_UDP: u64 = 1 << 11;
    /// `RTE_ETH_RSS_NONFRAG_IPV6_OTHER`.
    pub const RTE_ETH_RSS_NONFRAG_IPV6_OTHER: u64 = 1 << 13;
    /// `RTE_ETH_RSS_IPV6_EX`.
    pub const RTE_ETH_RSS_IPV6_EX: u64 = 1 << 15;
    /// `RTE_ETH_RSS_IPV6_TCP_EX`.
    pub const RTE_ETH_RSS_IPV6_TCP_EX: u64 = 1 << 16;
    /// `RTE_ETH_RSS_IPV6_UDP_EX`.
    pub const RTE_ETH_RSS_IPV6_UDP_EX: u64 = 1 << 17;
    /// `RTE_ETH_RSS_IP`: IPv4/IPv6 addresses, fragments and non-TCP/UDP included.
    pub const RTE_ETH_RSS_IP: u64 = RTE_ETH_RSS_IPV4
        | RTE_ETH_RSS_FRAG_IPV4
        | RTE_ETH_RSS_NONFRAG_IPV4_OTHER
        | RTE_ETH_RSS_IPV6
        | RTE_ETH_RSS_FRAG_IPV6
        | RTE_ETH_RSS_NONFRAG_IPV6_OTHER
        | RTE_ETH_RSS_IPV6_EX;
    /// `RTE_ETH_RSS_TCP`.
    pub const RTE_ETH_RSS_TCP: u64 =
        RTE_ETH_RSS_NONFRAG_IPV4_TCP | RTE_ETH_RSS_NONFRAG_IPV6_TCP | RTE_ETH_RSS_IPV6_TCP_EX;
    /// `RTE_ETH_RSS_UDP`.
    pub const RTE_ETH_RSS_UDP: u64 =
        RTE_ETH_RSS_NONFRAG_IPV4_UDP | RTE_ETH_RSS_NONFRAG_IPV6_UDP | RTE_ETH_RSS_IPV6_UDP_EX;
    /// `RTE_MBUF_F_RX_RSS_HASH`: the mbuf's `hash.rss` holds the NIC's RSS hash.
    pub const RTE_MBUF_F_RX_RSS_HASH: u64 = 1 << 1;
    /// `RTE_MBUF_F_RX_L4_CKSUM_BAD`: the NIC found the L4 checksum wrong.
    pub const RTE_MBUF_F_RX_L4_CKSUM_BAD: u64 = 1 << 3;
    /// `RTE_MBUF_F_RX_L4_CKSUM_GOOD`: the NIC found the L4 checksum right.
    pub const RTE_MBUF_F_RX_L4_CKSUM_GOOD: u64 = 1 << 8;
    /// `RTE_MBUF_F_RX_L4_CKSUM_NONE`: the L4 data is valid, its checksum field not filled in.
    pub const RTE_MBUF_F_RX_L4_CKSUM_NONE: u64 =
        RTE_MBUF_F_RX_L4_CKSUM_BAD | RTE_MBUF_F_RX_L4_CKSUM_GOOD;
    /// `RTE_MBUF_F_RX_L4_CKSUM_MASK`; 0 within it is `RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN`.
    pub const RTE_MBUF_F_RX_L4_CKSUM_MASK: u64 = RTE_MBUF_F_RX_L4_CKSUM_NONE;
    /// `offsetof(struct rte_mbuf, buf_addr)` (a `void *`).
    pub const MBUF_OFF_BUF_ADDR: usize = 0;
    /// `offsetof(struct rte_mbuf, data_off)` (`u16`).
    pub const MBUF_OFF_DATA_OFF: usize = 16;
    /// `offsetof(struct rte_mbuf, nb_segs)` (`u16`).
    pub const MBUF_OFF_NB_SEGS: usize = 20;
    /// `offsetof(struct rte_mbuf, port)` (`u16`).
    pub const MBUF_OFF_PORT: usize = 22;
    /// `offsetof(struct rte_mbuf, ol_flags)` (`u64`).
    pub const MBUF_OFF_OL_FLAGS: usize = 24;
    /// `offsetof(struct rte_mbuf, pkt_len)` (`u32`).
    pub const MBUF_OFF_PKT_LEN: usize = 36;
    /// `offsetof(struct rte_mbuf, data_len)` (`u16`).
    pub const MBUF_OFF_DATA_LEN: usize = 40;
    /// `offsetof(struct rte_mbuf, hash.rss)` (`u32`).
    pub const MBUF_OFF_HASH_RSS: usize = 44;
    /// `RTE_ETH_LINK_UP`.
    pub const RTE_ETH_LINK_UP: u8 = 1;
    /// `RTE_MBUF_DEFAULT_BUF_SIZE`: 2048 bytes of data room plus the 128-byte headroom.
    pub const RTE_MBUF_DEFAULT_BUF_SIZE: u16 = 2048 + 128;
    /// `RING_F_SP_ENQ`: the ring's default enqueue is single-producer.
    pub const RING_F_SP_ENQ: u32 = 0x0001;
    /// `RING_F_SC_DEQ`: the ring's default dequeue is single-consumer.
    pub const RING_F_SC_DEQ: u32 = 0x0002;
    /// `RTE_ETH_MQ_RX_NONE`.
    pub const RTE_ETH_MQ_RX_NONE: u32 = 0;
    /// `RTE_ETH_MQ_RX_RSS`.
    pub const RTE_ETH_MQ_RX_RSS: u32 = 1;
    /// `SOCKET_ID_ANY`.
    pub const SOCKET_ID_ANY: i32 = -1;
    /// `RTE_MAX_ETHPORTS` in Debian's 22.11 build.
    pub const RTE_MAX_ETHPORTS: u16 = 32;
}
