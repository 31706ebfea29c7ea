//! `cargo xtask lint`: `cargo fmt --check` and `cargo clippy --all-targets -D warnings`, with
//! the vendored OpenSSL where the system has none.

use std::process::{Command, ExitCode};

use crate::cargo::{cargo, project_root, status};

pub fn run(args: &[String]) -> ExitCode {
    let cargo_bin = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut fmt = Command::new(cargo_bin);
    fmt.current_dir(project_root())
        .args(["fmt", "--all", "--", "--check"]);
    let code = status(fmt);
    if code != ExitCode::SUCCESS {
        eprintln!("xtask: formatting differs; run `cargo fmt --all`");
        return code;
    }
    let mut extra: Vec<String> = vec!["--".into(), "-D".into(), "warnings".into()];
    extra.extend_from_slice(args);
    status(cargo(&["clippy", "--workspace", "--all-targets"], &extra))
}
