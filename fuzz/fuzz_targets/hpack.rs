//! Fuzz target `hpack`: see [`infersteer_fuzz::hpack`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| infersteer_fuzz::hpack::run(data));
