//! Fuzz target `h2`: see [`infersteer_fuzz::h2`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| infersteer_fuzz::h2::run(data));
