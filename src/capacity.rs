//! Capacities fixed at build time.
//!
//! `build.rs` writes these from `INFERSTEER_*` environment variables so that every table and
//! burst array on the hot path has a size known before the first packet arrives.
#![forbid(unsafe_code)]

include!(concat!(env!("OUT_DIR"), "/capacity.rs"));
