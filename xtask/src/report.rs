//! `cargo xtask report PATH.json [ARGS]`: a release build of the harness, then
//! `sslwrite report PATH.json ARGS` (re-render a saved report: `--html`, `--markdown`,
//! `--junit`, `--explain ID`).

use std::process::ExitCode;

use crate::cargo::sslwrite;

pub fn run(args: &[String]) -> ExitCode {
    sslwrite("report", args)
}
