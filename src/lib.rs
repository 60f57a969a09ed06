//! # infersteer
//!
//! The data plane of an edge AI-inference point of presence: every frame is parsed, tied to its
//! tenant, policed, checked against TLS policy and steered to the GPU queue that serves its
//! model, with no allocation and no lock on the hot path. It runs on the Arm cores of an NVIDIA
//! BlueField-3 DPU or on an x86-64/aarch64 host with DPDK.
//!
//! The layers, each a module, each depending only on those before it:
//!
//! - [`wire`]: a zero-copy, allocation-free, panic-free frame parser (Ethernet, 802.1Q/QinQ,
//!   IPv4, IPv6 with extension headers, UDP, TCP, VXLAN and GENEVE) and a frame emitter;
//! - [`l7`]: request classification on a flow's first bytes (TLS ClientHello, HTTP/1.1,
//!   HTTP/2 with HPACK, gRPC) and bounded first-flight reassembly;
//! - [`verdict`]: drop reasons and TLS termination hints;
//! - [`policy`]: tenants from trusted attributes, claim checks, model and pool ACLs, policers,
//!   TLS policy;
//! - [`queue`]: GPU queue rings of one-cache-line descriptors and their batching consumers;
//! - [`steer`]: the flow table, Maglev and GPU pools;
//! - [`pipeline`]: the burst pipeline, verdicts and counters;
//! - [`io`]: pcap files and the synthetic point of presence;
//! - `dpdk` (feature `dpdk`): a safe API over DPDK 22.11 and the pipeline over mbufs.
//!
//! See `docs/architecture.md` and the README's embedding example.
//!
//! ```
//! use infersteer::wire::{self, emit};
//!
//! // Build an Ethernet/IPv4/UDP frame with the emitter, then parse it back.
//! let spec = emit::FrameSpec::udp_v4([10, 0, 0, 1], [10, 0, 0, 2], 5000, 8080, b"hello");
//! let mut buf = [0u8; 128];
//! let len = emit::emit_frame(&spec, &mut buf).unwrap();
//! let summary = wire::parse_frame(&buf[..len]).unwrap();
//! let tuple = summary.tuple.unwrap();
//! assert_eq!(tuple.dst_port, 8080);
//! assert_eq!(summary.payload(&buf[..len]), b"hello");
//! ```
//!
//! The crate is `no_std` when built with `--no-default-features`.
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub mod capacity;
#[cfg(feature = "dpdk")]
pub mod dpdk;
pub mod io;
pub mod l7;
pub mod pipeline;
pub mod policy;
pub mod queue;
pub mod steer;
pub mod verdict;
pub mod wire;

// The README's Rust examples are compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
