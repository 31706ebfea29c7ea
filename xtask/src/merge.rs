//! `cargo xtask merge A.json B.json ... --json OUT [--markdown/--html/--junit PATH]`: a release
//! build of the harness, then `sslwrite merge ARGS` (join the reports of `conformance --shard
//! I/N` into the report of the whole run).

use std::process::ExitCode;

use crate::cargo::sslwrite;

pub fn run(args: &[String]) -> ExitCode {
    sslwrite("merge", args)
}
