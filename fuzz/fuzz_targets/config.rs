//! Fuzz target `config`: see [`infersteer_fuzz::config`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| infersteer_fuzz::config::run(data));
