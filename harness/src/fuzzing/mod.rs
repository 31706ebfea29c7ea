//! Fuzzing support: generators that turn bytes into valid write sequences, and the oracles
//! that judge them. The cargo-fuzz targets in `fuzz/` are a few lines of glue into these; the
//! same oracles run under `cargo test` over seeded inputs, without libFuzzer.

pub mod generate;
pub mod narrow;
pub mod oracle;
pub mod replay;
pub mod targets;
pub mod triage;

pub use generate::{generate, generate_for, seed_bytes, Generated, FUZZ_ID};
pub use narrow::{Feature, Lack, Narrowing, Why};
pub use oracle::{differential, invariants, judge, judge_run, scenario_file, Finding, Oracles};
