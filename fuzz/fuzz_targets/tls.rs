//! Fuzz target `tls`: see [`infersteer_fuzz::tls`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| infersteer_fuzz::tls::run(data));
