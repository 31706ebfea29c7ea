//! `cargo xtask bench [ARGS]`: a release build of the harness, then `sslwrite bench ARGS`
//! (figures printed as ratios and written to reports/bench.json).

use std::process::ExitCode;

use crate::cargo::{cargo, status};

pub fn run(args: &[String]) -> ExitCode {
    let mut rest = vec!["--".to_string(), "bench".to_string()];
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
