//! sslwrite: a differential conformance harness for OpenSSL's `SSL_write` contract.
//!
//! See ARCHITECTURE.md for the bird's-eye view. The pieces, in data-flow order:
//! [`scenario`] (files → runs) → [`runner`] (one run on one [`contract::Implementation`] over a
//! [`transport::Pipe`], with the [`peer`], recorded as a [`trace`]) → [`diff`] and [`known`]
//! (verdicts) → [`suite`] (everything, in parallel) → [`report`] (JSON and the terminal table).
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
pub mod minimize;
pub mod payload;
pub mod peer;
pub mod record;
pub mod render;
pub mod report;
pub mod repro;
pub mod reseal;
pub mod runner;
pub mod scenario;
pub mod sessions;
pub mod shard;
pub mod step_pattern;
pub mod suite;
#[allow(unsafe_code)]
pub mod sys;
pub mod trace;
pub mod transport;
pub mod wire;

use std::path::{Path, PathBuf};

/// The environment variable that names the project root, over any search.
pub const ROOT_ENV: &str = "SSLWRITE_ROOT";

/// Whether `dir` is an sslwrite project root: a `scenarios/` folder beside a `Cargo.toml` that
/// declares a workspace.
fn is_root(dir: &Path) -> bool {
    dir.join("scenarios").is_dir()
        && std::fs::read_to_string(dir.join("Cargo.toml")).is_ok_and(|t| t.contains("[workspace]"))
}

/// The project root (the folder holding `scenarios/` and `reports/`), found at run time:
/// `SSLWRITE_ROOT` when set (it must hold `scenarios/`), else the nearest folder above the
/// current directory, else above the executable, that [is a root](is_root). Never the folder
/// the binary was built in: with a shared `CARGO_TARGET_DIR` that is another checkout.
pub fn find_project_root() -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os(ROOT_ENV) {
        let dir = PathBuf::from(dir);
        return if dir.join("scenarios").is_dir() {
            Ok(dir)
        } else {
            Err(format!(
                "{ROOT_ENV}={} has no scenarios/ folder: it is not an sslwrite project root",
                dir.display()
            ))
        };
    }
    let cwd = std::env::current_dir().ok();
    let exe = std::env::current_exe().ok();
    for start in cwd.iter().chain(exe.iter()) {
        if let Some(root) = start.ancestors().find(|d| is_root(d)) {
            return Ok(root.to_path_buf());
        }
    }
    let shown = |p: &Option<PathBuf>| p.as_ref().map_or("?".into(), |p| p.display().to_string());
    Err(format!(
        "cannot find the sslwrite project root: no folder above the current directory ({}) or \
         the executable ({}) has scenarios/ beside a workspace Cargo.toml; run from inside a \
         checkout, set {ROOT_ENV}=DIR, or name the paths (--scenarios, --json)",
        shown(&cwd),
        shown(&exe)
    ))
}

/// [`find_project_root`] for callers that cannot go on without it (tests, the fuzz oracles):
/// panics with its message.
pub fn project_root() -> PathBuf {
    find_project_root().unwrap_or_else(|e| panic!("{e}"))
}
