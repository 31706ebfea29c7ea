//! `cargo xtask bench [ARGS]`: a release build of the harness, then `sslwrite bench ARGS`
//! (figures printed as ratios and written to reports/bench.json).

use std::process::ExitCode;

use crate::cargo::sslwrite;

pub fn run(args: &[String]) -> ExitCode {
    sslwrite("bench", args)
}
