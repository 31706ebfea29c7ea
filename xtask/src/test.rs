//! `cargo xtask test [ARGS]`: the whole test suite (`cargo test --workspace`), with the
//! vendored OpenSSL where the system has none.

use std::process::ExitCode;

use crate::cargo::{cargo, status};

pub fn run(args: &[String]) -> ExitCode {
    status(cargo(&["test", "--workspace"], args))
}
