//! Every implementation plays one generated write sequence; see sslwrite::fuzzing::oracle.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sslwrite::fuzzing::targets::differential(data));
