//! # infersteer
//!
//! The data plane of an edge AI-inference point of presence: every frame is parsed, tied to its
//! tenant, policed, checked against TLS policy and steered to the GPU queue that serves its
//! model, with no allocation and no lock on the hot path. It runs on the Arm cores of an NVIDIA
//! BlueField-3 DPU or on an x86-64/aarch64 host with DPDK.
//!
//! This release holds the foundation: [`wire`], a zero-copy, allocation-free, panic-free frame
//! parser (Ethernet, 802.1Q/QinQ, IPv4, IPv6 with extension headers, UDP, TCP, VXLAN and
//! GENEVE), with read and write views for every header and a frame emitter for tests and
//! traffic generators. The layers above it (request classification, tenant policy, steering,
//! GPU queues, the burst pipeline and the DPDK backend) follow; see `docs/architecture.md`.
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
