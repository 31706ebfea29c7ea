//! Running cargo for the harness: the project root, and the vendored-OpenSSL fallback.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// The workspace root, wherever cargo xtask is run from, found at run time: `SSLWRITE_ROOT`
/// when set, else the nearest folder above the current directory, else above the executable,
/// with `scenarios/` beside a `Cargo.toml` that declares a workspace. Not the compile-time
/// `CARGO_MANIFEST_DIR`: with a shared `CARGO_TARGET_DIR`, xtask may have been built in another
/// checkout. Exits (2) with the reason when there is none.
pub fn project_root() -> PathBuf {
    let is_root = |d: &Path| {
        d.join("scenarios").is_dir()
            && std::fs::read_to_string(d.join("Cargo.toml"))
                .is_ok_and(|t| t.contains("[workspace]"))
    };
    if let Some(dir) = std::env::var_os("SSLWRITE_ROOT") {
        let dir = PathBuf::from(dir);
        if !dir.join("scenarios").is_dir() {
            eprintln!(
                "xtask: SSLWRITE_ROOT={} has no scenarios/ folder: it is not an sslwrite project root",
                dir.display()
            );
            std::process::exit(2);
        }
        return dir;
    }
    let starts = [std::env::current_dir().ok(), std::env::current_exe().ok()];
    for start in starts.iter().flatten() {
        if let Some(root) = start.ancestors().find(|d| is_root(d)) {
            return root.to_path_buf();
        }
    }
    eprintln!(
        "xtask: cannot find the sslwrite project root above the current directory or the \
         executable; run from inside a checkout or set SSLWRITE_ROOT=DIR"
    );
    std::process::exit(2);
}

/// Cargo's target folder: `CARGO_TARGET_DIR` when set (relative to the current directory, as
/// cargo reads it), else `target/` in the project root. Libraries xtask builds
/// (`target/openssl-VERSION/`, `target/aws-lc-VERSION/`) and fetched sources go there, and
/// `openssl list` and `libs` look there.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR").filter(|d| !d.is_empty()) {
        Some(d) => std::env::current_dir()
            .map(|cwd| cwd.join(&d))
            .unwrap_or_else(|_| PathBuf::from(d)),
        None => project_root().join("target"),
    }
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
    let dir = target_dir().join(format!("{name}-fetch"));
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
