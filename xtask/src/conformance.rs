//! `cargo xtask conformance [ARGS]`: a release build of the harness, then
//! `sslwrite conformance ARGS` (report in reports/conformance.json).

use std::process::ExitCode;

use crate::cargo::sslwrite;

pub fn run(args: &[String]) -> ExitCode {
    sslwrite("conformance", args)
}
