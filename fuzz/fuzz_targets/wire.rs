//! Fuzz target `wire`: see [`infersteer_fuzz::wire`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| infersteer_fuzz::wire::run(data));
