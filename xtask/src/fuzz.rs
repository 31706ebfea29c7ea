//! `cargo xtask fuzz TARGET [--time SECONDS] [--jobs N] [--keep-going] [--runs N --seed S]`:
//! cargo fuzz on one target, with a seeded corpus (`--runs`/`--seed`: a deterministic smoke, as
//! CI runs it). AddressSanitizer when a nightly toolchain is installed; otherwise stable with
//! `-s none`. Installs cargo-fuzz when it is missing. Exits non-zero on any finding; stops at the
//! first one unless `--keep-going` (fork mode, every finding kept as an artifact until the time
//! is up, for a triage session).

use std::process::{Command, ExitCode};

use crate::cargo::{project_root, sslwrite, status, system_openssl};

const TARGETS: [&str; 3] = ["differential", "invariants", "scenario_file"];

fn has_cargo_fuzz() -> bool {
    Command::new("cargo")
        .args(["fuzz", "--version"])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn has_nightly() -> bool {
    Command::new("rustup")
        .args(["toolchain", "list"])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("nightly"))
}

pub fn run(args: &[String]) -> ExitCode {
    let mut target = None;
    let mut time: u64 = 60;
    let mut jobs: u32 = 1;
    let mut runs: Option<u64> = None;
    let mut seed: Option<u64> = None;
    let mut keep_going = false;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--time" => match it.next().and_then(|v| v.parse().ok()) {
                Some(t) => time = t,
                None => return usage("--time needs a number of seconds"),
            },
            "--runs" => match it.next().and_then(|v| v.parse().ok()) {
                Some(r) => runs = Some(r),
                None => return usage("--runs needs a number of executions"),
            },
            "--seed" => match it.next().and_then(|v| v.parse().ok()) {
                Some(v) => seed = Some(v),
                None => return usage("--seed needs a number"),
            },
            "--keep-going" => keep_going = true,
            "--jobs" => match it.next().and_then(|v| v.parse().ok()) {
                Some(j) if j >= 1 => jobs = j,
                _ => return usage("--jobs needs a number >= 1"),
            },
            t if TARGETS.contains(&t) && target.is_none() => target = Some(t.to_string()),
            other => return usage(&format!("unexpected argument {other:?}")),
        }
    }
    let Some(target) = target else {
        return usage("which target?");
    };
    if !has_cargo_fuzz() {
        eprintln!(
            "xtask: cargo-fuzz is missing; installing it (cargo install cargo-fuzz --locked)"
        );
        let mut install = Command::new("cargo");
        install.args(["install", "cargo-fuzz", "--locked"]);
        let code = status(install);
        if code != ExitCode::SUCCESS {
            eprintln!("xtask: could not install cargo-fuzz; install it by hand and run again");
            return code;
        }
    }
    // Seed the corpus from generated inputs (or the scenario files) the first time.
    let corpus = project_root().join("fuzz").join("corpus").join(&target);
    let empty = std::fs::read_dir(&corpus).map_or(true, |mut d| d.next().is_none());
    if empty {
        let code = sslwrite(
            "fuzz-seeds",
            &[
                target.clone(),
                "--out".to_string(),
                corpus.display().to_string(),
            ],
        );
        if code != ExitCode::SUCCESS {
            return code;
        }
    }
    let nightly = has_nightly();
    let mut cmd = Command::new("cargo");
    cmd.current_dir(project_root());
    if nightly {
        eprintln!("xtask: nightly toolchain found: fuzzing with AddressSanitizer");
        cmd.args(["+nightly", "fuzz", "run"]);
    } else {
        eprintln!("xtask: no nightly toolchain: fuzzing on stable without a sanitizer (-s none)");
        cmd.args(["fuzz", "run", "-s", "none"]);
    }
    if !system_openssl() {
        cmd.args(["--features", "vendored"]);
    }
    cmd.arg(&target).arg(&corpus).arg("--");
    cmd.arg(format!("-max_total_time={time}"));
    // A fixed seed and run count make a smoke run deterministic (CI): same inputs every time.
    if let Some(r) = runs {
        cmd.arg(format!("-runs={r}"));
    }
    if let Some(v) = seed {
        cmd.arg(format!("-seed={v}"));
    }
    cmd.arg("-print_final_stats=1");
    if jobs > 1 || keep_going {
        // libFuzzer's fork mode: N worker processes, crashes collected, merged corpus. With
        // --keep-going a finding (or a library crash) does not end the session.
        cmd.arg(format!("-fork={jobs}"));
        cmd.arg(format!("-ignore_crashes={}", u8::from(keep_going)));
    }
    let artifacts = project_root().join("fuzz").join("artifacts").join(&target);
    let before = artifact_names(&artifacts);
    let code = status(cmd);
    let new: Vec<String> = artifact_names(&artifacts)
        .into_iter()
        .filter(|n| !before.contains(n))
        .collect();
    if code != ExitCode::SUCCESS || !new.is_empty() {
        eprintln!(
            "xtask: {target} found something ({} new artifact(s) in fuzz/artifacts/{target}/: {}). Turn one into a scenario with: cargo xtask replay fuzz/artifacts/{target}/<file>",
            new.len(),
            new.join(" ")
        );
        return ExitCode::from(1);
    }
    code
}

/// The files in an artifacts folder (none if it does not exist yet).
fn artifact_names(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir).map_or(Vec::new(), |d| {
        d.filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect()
    })
}

fn usage(problem: &str) -> ExitCode {
    eprintln!(
        "xtask fuzz: {problem}\nusage: cargo xtask fuzz <{}> [--time SECONDS] [--jobs N] [--keep-going] [--runs N --seed S]",
        TARGETS.join("|")
    );
    ExitCode::from(2)
}
