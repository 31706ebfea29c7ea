//! Subcommands of the `sslwrite` binary that live in files of their own (the rest are still in
//! main.rs).

pub mod compare;
pub mod fuzz_triage;
pub mod merge;
