//! Arbitrary bytes into the scenario loader: an error value, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sslwrite::fuzzing::targets::scenario_file(data));
