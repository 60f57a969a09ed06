//! Fuzz target `http1`: see [`infersteer_fuzz::http1`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| infersteer_fuzz::http1::run(data));
