//! `cargo xtask libs`: every libssl-family library there is to compare, built or installed, one
//! `--impl libssl:PATH@label` per line (the OpenSSL builds of `cargo xtask openssl build`,
//! AWS-LC from `cargo xtask awslc build`, Debian's BoringSSL from `android-libboringssl`), and
//! Debian's wolfSSL (`libwolfssl35`) as `--impl wolfssl:PATH@wolfssl`.
//! `cargo xtask libs --args`: the same on one line, to splice into a command.
//! `cargo xtask libs install boringssl|wolfssl`: installs Debian's `android-libboringssl` or
//! `libwolfssl35` (with the -dev headers the C confirmations under harness/tests/c/ use) with
//! apt-get (seconds; `apt-get update` first when apt knows no such package yet).

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use crate::cargo::{project_root, target_dir};

pub fn run(args: &[String]) -> ExitCode {
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        [] => {
            let found = found();
            if found.is_empty() {
                eprintln!(
                    "xtask libs: none yet (cargo xtask openssl build VERSION; cargo xtask libs install boringssl)"
                );
            }
            for lib in found {
                println!("{}", lib.arg());
            }
            ExitCode::SUCCESS
        }
        ["--args"] => {
            let args: Vec<String> = found().iter().map(Found::arg).collect();
            println!("{}", args.join(" "));
            ExitCode::SUCCESS
        }
        // The -dev package brings the headers the C confirmations under harness/tests/c/ need.
        ["install", "boringssl"] => install_debian(
            &["android-libboringssl", "android-libboringssl-dev"],
            || {
                debian_boringssl().is_some()
                    && Path::new("/usr/include/android/openssl/ssl.h").exists()
            },
        ),
        ["install", "wolfssl"] => install_debian(&["libwolfssl35", "libwolfssl-dev"], || {
            debian_wolfssl().is_some() && Path::new("/usr/include/wolfssl/ssl.h").exists()
        }),
        _ => {
            eprintln!(
                "usage: cargo xtask libs [--args]\n       cargo xtask libs install boringssl|wolfssl"
            );
            ExitCode::from(2)
        }
    }
}

/// A library found: its driver (`libssl` or `wolfssl`), label and path.
struct Found {
    driver: &'static str,
    label: String,
    path: PathBuf,
}

impl Found {
    fn arg(&self) -> String {
        format!(
            "--impl {}:{}@{}",
            self.driver,
            self.path.display(),
            self.label
        )
    }
}

/// Every library found, in a stable order.
fn found() -> Vec<Found> {
    let mut out = Vec::new();
    let target = target_dir();
    if let Ok(entries) = std::fs::read_dir(&target) {
        let mut builds: Vec<_> = entries.flatten().collect();
        builds.sort_by_key(|e| e.file_name());
        for entry in builds {
            let name = entry.file_name().to_string_lossy().into_owned();
            let lib = if name.starts_with("openssl-") && name != "openssl-src-fetch" {
                crate::openssl::installed_libssl(&entry.path().join("lib64"))
            } else if name.starts_with("aws-lc-") && name != "aws-lc-sys-fetch" {
                crate::awslc::installed_libssl(&entry.path())
            } else {
                None
            };
            if let Some(lib) = lib {
                let shown = lib
                    .strip_prefix(project_root())
                    .map_or(lib.clone(), PathBuf::from);
                out.push(Found {
                    driver: "libssl",
                    label: name,
                    path: shown,
                });
            }
        }
    }
    if let Some(b) = debian_boringssl() {
        out.push(Found {
            driver: "libssl",
            label: "boringssl".into(),
            path: b,
        });
    }
    if let Some(w) = debian_wolfssl() {
        out.push(Found {
            driver: "wolfssl",
            label: "wolfssl".into(),
            path: w,
        });
    }
    out
}

/// Debian's wolfSSL (`libwolfssl35`): `/usr/lib/<triplet>/libwolfssl.so.N`.
pub fn debian_wolfssl() -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib")
        .ok()?
        .flatten()
        .filter_map(|d| std::fs::read_dir(d.path()).ok())
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_prefix("libwolfssl.so."))
                .is_some_and(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
        })
        .collect();
    found.sort();
    found.pop()
}

/// Debian's BoringSSL (`android-libboringssl`): `/usr/lib/<triplet>/android/libssl.so.0`.
pub fn debian_boringssl() -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib")
        .ok()?
        .flatten()
        .map(|e| e.path().join("android").join("libssl.so.0"))
        .filter(|p| p.exists())
        .collect();
    found.sort();
    found.pop()
}

fn install_debian(packages: &[&str], installed: impl Fn() -> bool) -> ExitCode {
    let package = packages.join(" ");
    if installed() {
        eprintln!("xtask libs: {package} is installed");
        return ExitCode::SUCCESS;
    }
    let known = Command::new("apt-cache")
        .args(["policy", packages[0]])
        .output()
        .is_ok_and(|o| {
            String::from_utf8_lossy(&o.stdout).contains("Candidate: ")
                && !String::from_utf8_lossy(&o.stdout).contains("Candidate: (none)")
        });
    let mut steps = Vec::new();
    if !known {
        let mut update = Command::new("apt-get");
        update.args(["update", "-qq"]);
        steps.push(update);
    }
    let mut install = Command::new("apt-get");
    install
        .args(["install", "-y", "-qq", "--no-install-recommends"])
        .args(packages)
        .env("DEBIAN_FRONTEND", "noninteractive");
    steps.push(install);
    for mut step in steps {
        match step.status() {
            Ok(s) if s.success() => {}
            Ok(s) => {
                eprintln!("xtask libs: {step:?} failed ({s})");
                return ExitCode::from(2);
            }
            Err(e) => {
                eprintln!("xtask libs: cannot run {step:?}: {e}");
                return ExitCode::from(2);
            }
        }
    }
    if installed() {
        eprintln!("xtask libs: installed {package}");
        ExitCode::SUCCESS
    } else {
        eprintln!("xtask libs: apt-get installed {package}, but the library or its headers are not where expected");
        ExitCode::from(2)
    }
}
