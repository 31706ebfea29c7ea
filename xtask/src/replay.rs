//! `cargo xtask replay ARTIFACT`: a fuzz finding becomes a scenario under
//! `scenarios/regressions/` (named after its signature), played on every implementation with
//! the step-by-step diff printed. From then on `cargo xtask conformance` includes it.

use std::process::ExitCode;

use crate::cargo::{project_root, sslwrite};

pub fn run(args: &[String]) -> ExitCode {
    let [artifact] = args else {
        eprintln!("usage: cargo xtask replay ARTIFACT   (a file under fuzz/artifacts/TARGET/)");
        return ExitCode::from(2);
    };
    let artifact = std::path::Path::new(artifact);
    let artifact = if artifact.is_absolute() {
        artifact.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|d| d.join(artifact))
            .unwrap_or_else(|_| artifact.to_path_buf())
    };
    let out = project_root().join("scenarios").join("regressions");
    let out = out.display().to_string();
    sslwrite(
        "replay",
        &[artifact.display().to_string(), "--out".to_string(), out],
    )
}
