//! sslwrite: a differential conformance harness for OpenSSL's `SSL_write` contract.
//!
//! See ARCHITECTURE.md for the bird's-eye view. The pieces, in data-flow order:
//! [`scenario`] (files → runs) → [`runner`] (one run on one [`contract::Implementation`] over a
//! [`transport::Pipe`], with the [`peer`]) → [`diff`] and [`known`] (verdicts) → [`suite`]
//! (everything, in parallel) → [`report`] (JSON and the terminal table).
//!
//! `unsafe` is denied (the workspace's `unsafe_code` lint) everywhere but the two modules whose job is FFI: [`impls`] (the C
//! libraries) and [`sys`] (signals, process groups).

pub mod aspects;
pub mod bench;
pub mod blame;
pub mod certs;
pub mod contract;
pub mod diff;
pub mod fuzzing;
#[allow(unsafe_code)]
pub mod impls;
pub mod isolation;
pub mod known;
pub mod matrix;
pub mod merge;
pub mod payload;
pub mod peer;
pub mod render;
pub mod report;
pub mod runner;
pub mod scenario;
pub mod sessions;
pub mod shard;
pub mod step_pattern;
pub mod suite;
#[allow(unsafe_code)]
pub mod sys;
pub mod transport;
pub mod wire;

use std::path::PathBuf;

/// The project root as built (the folder holding `scenarios/` and `reports/`).
pub fn project_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest
        .parent()
        .map_or_else(|| manifest.clone(), std::path::Path::to_path_buf)
}
