//! Raw bindings to DPDK 22.11 LTS for `infersteer`.
//!
//! This crate is a placeholder until the DPDK issue lands: it will hold bindgen output for the
//! `rte_eal_*`, `rte_eth_*`, `rte_pktmbuf_*`, `rte_mempool_*`, `rte_ring_*` and `rte_flow_*`
//! APIs, pre-generated copies under `vendor/` for builds without libclang, and a C shim for
//! DPDK's `static inline` fast-path functions. It links nothing yet and exports nothing.
#![no_std]
// The one crate (with `src/dpdk/` and the GPU queue ring) where the workspace's `unsafe_code`
// denial is lifted: FFI is unsafe by nature. Each block carries a `// SAFETY:` proof
// (`clippy::undocumented_unsafe_blocks` stays denied).
#![allow(unsafe_code)]
