//! Fuzzing support: generators that turn bytes into valid write sequences, and the oracles
//! that judge them. The cargo-fuzz targets in `fuzz/` are a few lines of glue into these; the
//! same oracles run under `cargo test` over seeded inputs, without libFuzzer.

pub mod generate;
pub mod oracle;
pub mod replay;
pub mod targets;

pub use generate::{generate, seed_bytes, Generated, FUZZ_ID};
pub use oracle::{differential, invariants, scenario_file, Finding, Oracles};
