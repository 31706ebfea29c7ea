//! `cargo xtask conformance [ARGS]`: a release build of the harness, then
//! `sslwrite conformance ARGS` (report in reports/conformance.json).

use std::process::ExitCode;

use crate::cargo::{cargo, status};

pub fn run(args: &[String]) -> ExitCode {
    let mut rest = vec!["--".to_string(), "conformance".to_string()];
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
