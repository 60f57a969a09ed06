//! Fuzz targets for infersteer, one module each, every one a `run(&[u8])` that panics on a
//! finding (a panic of the library, or an oracle that disagrees): libFuzzer's binaries in
//! `fuzz_targets/` call them, and so does the corpus replay in `tests/`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod config;
pub mod h2;
pub mod hpack;
pub mod http1;
pub mod pipeline;
pub mod reassembly;
pub mod tls;
pub mod wire;

/// Every target by name.
pub const TARGETS: [(&str, fn(&[u8])); 8] = [
    ("wire", wire::run),
    ("tls", tls::run),
    ("http1", http1::run),
    ("hpack", hpack::run),
    ("h2", h2::run),
    ("reassembly", reassembly::run),
    ("pipeline", pipeline::run),
    ("config", config::run),
];

/// Runs an oracle that may itself panic on some inputs (a bug of the oracle, not a finding):
/// `None` when it did. The panic hook (libFuzzer's aborts) is set aside meanwhile.
pub fn quietly<T>(f: impl FnOnce() -> T) -> Option<T> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).ok();
    std::panic::set_hook(hook);
    r
}
