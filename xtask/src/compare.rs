//! `cargo xtask compare OLD.json NEW.json [--markdown PATH]`: a release build of the harness,
//! then `sslwrite compare OLD.json NEW.json ARGS` (what changed between two saved reports; exit
//! 1 when something regressed, 2 when a report cannot be read).

use std::process::ExitCode;

use crate::cargo::sslwrite;

pub fn run(args: &[String]) -> ExitCode {
    sslwrite("compare", args)
}
