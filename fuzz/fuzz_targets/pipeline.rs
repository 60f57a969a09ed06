//! Fuzz target `pipeline`: see [`infersteer_fuzz::pipeline`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| infersteer_fuzz::pipeline::run(data));
