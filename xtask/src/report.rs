//! `cargo xtask report PATH.json [ARGS]`: a release build of the harness, then
//! `sslwrite report PATH.json ARGS` (re-render a saved report: `--html`, `--markdown`,
//! `--junit`, `--explain ID`).

use std::process::ExitCode;

use crate::cargo::{cargo, status};

pub fn run(args: &[String]) -> ExitCode {
    let mut rest = vec!["--".to_string(), "report".to_string()];
    rest.extend_from_slice(args);
    status(cargo(
        &[
            "run",
            "--quiet",
            "--release",
            "--package",
            "sslwrite",
            "--bin",
            "sslwrite",
        ],
        &rest,
    ))
}
