//! `cargo xtask repro RUN [-o FILE.c]`: a release build of the harness, then `sslwrite repro
//! RUN [-o FILE.c]`: the standalone C reproducer of one run (`cc FILE.c -lssl -lcrypto &&
//! ./a.out`), on stdout or in FILE.c. Runs it cannot express are refused with the reason.

use std::process::ExitCode;

use crate::cargo::sslwrite;

pub fn run(args: &[String]) -> ExitCode {
    sslwrite("repro", args)
}
