//! Packet I/O backends: where bursts of frames come from and where verdicts go.
//!
//! The pipeline never knows where bytes came from (see [`crate::pipeline::Frame`]); the
//! backends here feed it. Today: [`synthetic`], an embedded point of presence (tenants, models,
//! GPU pools) and a deterministic traffic generator built from real client first flights, for
//! the `gateway` example, the integration tests and the benches. The pcap replay and the DPDK
//! backend plug in beside it.
#![forbid(unsafe_code)]

pub mod pcap;
pub mod synthetic;
