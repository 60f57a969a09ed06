//! Fuzz target `reassembly`: see [`infersteer_fuzz::reassembly`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| infersteer_fuzz::reassembly::run(data));
