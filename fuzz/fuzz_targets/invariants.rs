//! One implementation at a time (SSLWRITE_FUZZ_IMPL, default all), invariants only.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sslwrite::fuzzing::targets::invariants(data));
