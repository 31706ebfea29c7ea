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

/// The registry's unpacked crates (`$CARGO_HOME/registry/src/*/`).
pub fn registry_dirs() -> Vec<PathBuf> {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
    let Some(home) = home else {
        return Vec::new();
    };
    let Ok(entries) = std::fs::read_dir(home.join("registry").join("src")) else {
        return Vec::new();
    };
    entries.flatten().map(|e| e.path()).collect()
}

/// Brings crate `name` at `requirement` into cargo's registry cache, sources only: `cargo
/// fetch` of a throw-away manifest under `target/NAME-fetch/` that depends on it (nothing is
/// built; crates.io is the only place it comes from). `task` names the xtask in messages.
pub fn fetch_crate(task: &str, name: &str, requirement: &str) -> Result<(), String> {
    let dir = project_root().join("target").join(format!("{name}-fetch"));
    let src = dir.join("src");
    std::fs::create_dir_all(&src).map_err(|e| format!("cannot create {}: {e}", src.display()))?;
    let manifest = format!(
        "# Written by `cargo xtask {task}`: only fetched, never built.\n\
         [package]\nname = \"{name}-fetch\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
         [workspace]\n\n\
         [dependencies]\n{name} = \"{requirement}\"\n"
    );
    let write = |path: PathBuf, text: &str| {
        std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
    };
    write(dir.join("Cargo.toml"), &manifest)?;
    write(src.join("lib.rs"), "")?;
    let _ = std::fs::remove_file(dir.join("Cargo.lock"));
    eprintln!("xtask {task}: {name} {requirement} is not in the registry cache; cargo fetch");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .arg("fetch")
        .arg("--manifest-path")
        .arg(dir.join("Cargo.toml"))
        .status()
        .map_err(|e| format!("cannot run cargo fetch: {e}"))?;
    if !status.success() {
        return Err(format!(
            "cargo fetch of {name} {requirement} failed ({status})"
        ));
    }
    Ok(())
}
