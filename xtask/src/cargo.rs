//! Running cargo for the harness: the project root, and the vendored-OpenSSL fallback.

use std::path::PathBuf;
use std::process::{Command, ExitCode};

/// The workspace root, wherever cargo xtask is run from.
pub fn project_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}

/// Whether the system OpenSSL can be linked (what openssl-sys itself would find).
pub fn system_openssl() -> bool {
    if std::env::var_os("OPENSSL_DIR").is_some() || std::env::var_os("OPENSSL_LIB_DIR").is_some() {
        return true;
    }
    Command::new("pkg-config")
        .args(["--exists", "openssl"])
        .status()
        .is_ok_and(|s| s.success())
}

/// `cargo <args>` in the project root, with `--features sslwrite/vendored` inserted when the
/// system has no OpenSSL (or `SSLWRITE_VENDORED=1` asks for it).
pub fn cargo(args: &[&str], extra: &[String]) -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(project_root()).args(args);
    let forced = std::env::var("SSLWRITE_VENDORED").is_ok_and(|v| v == "1");
    if forced || !system_openssl() {
        eprintln!(
            "xtask: no system OpenSSL found by pkg-config; building the vendored OpenSSL (first build takes a few minutes)"
        );
        cmd.args(["--features", "sslwrite/vendored"]);
    }
    cmd.args(extra);
    cmd
}

/// `cargo run --release` of the harness binary: `sslwrite SUBCOMMAND ARGS`, with the
/// vendored-OpenSSL fallback, as an exit code.
pub fn sslwrite(subcommand: &str, args: &[String]) -> ExitCode {
    let mut rest = vec!["--".to_string(), subcommand.to_string()];
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

/// Runs a command and turns its status into an exit code.
pub fn status(mut cmd: Command) -> ExitCode {
    match cmd.status() {
        Ok(s) => match s.code() {
            Some(c) => ExitCode::from(u8::try_from(c).unwrap_or(2)),
            None => {
                eprintln!("xtask: {cmd:?} was killed by a signal");
                ExitCode::from(2)
            }
        },
        Err(e) => {
            eprintln!("xtask: cannot run {cmd:?}: {e}");
            ExitCode::from(2)
        }
    }
}
