//! `cargo xtask fuzz TARGET [--impl NAME]... [--time SECONDS] [--jobs N] [--keep-going]
//! [--runs N --seed S] [--measure] [--skip-absent]`: cargo fuzz on one target, with a seeded
//! corpus (`--runs`/`--seed`: a deterministic smoke, as CI runs it). AddressSanitizer when a
//! nightly toolchain is installed; otherwise stable with `-s none`. Installs cargo-fuzz when it
//! is missing. Exits non-zero on any finding; stops at the first one unless `--keep-going`
//! (fork mode, one artifact per finding signature until the time is up, then a triage summary).
//!
//! `--impl` takes the same arguments as `conformance` (built-in names, `libssl:PATH[@label]`,
//! `wolfssl:PATH[@label]`); the target opens them in its own process. A set's artifacts go to
//! `fuzz/artifacts/TARGET/SET/`, with the set recorded beside them for `cargo xtask replay`.
//! `--measure` fuzzes a fresh copy of the seed corpus for `--time` seconds and prints the
//! execution rate. `--skip-absent`: a named library that is not on this machine skips the
//! session (exit 0) instead of failing it.

use std::path::Path;
use std::process::{Command, ExitCode};

use crate::cargo::{project_root, sslwrite, status, system_openssl};
use crate::fuzz_set::{self, IMPL_ENV, SET_FILE};

const TARGETS: [&str; 3] = ["differential", "invariants", "scenario_file"];

/// libFuzzer's per-input time limit (`-timeout`), in seconds.
const UNIT_TIMEOUT_SECONDS: u32 = 10;

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
    let mut measure = false;
    let mut skip_absent = false;
    let mut sanitizer: Option<String> = None;
    let mut debug_assertions = false;
    // None: the target's default (see below).
    let mut trace_compares: Option<bool> = None;
    let mut impls: Vec<String> = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--impl" => match it.next() {
                Some(v) => impls.push(v.clone()),
                None => return usage("--impl needs a name (openssl, rustls, libssl:PATH[@label], wolfssl:PATH[@label])"),
            },
            "--measure" => measure = true,
            "--debug-assertions" => debug_assertions = true,
            "--no-trace-compares" => trace_compares = Some(false),
            "--trace-compares" => trace_compares = Some(true),
            "--sanitizer" => match it.next().map(String::as_str) {
                Some(v @ ("none" | "address")) => sanitizer = Some(v.to_string()),
                _ => return usage("--sanitizer takes none or address"),
            },
            "--skip-absent" => skip_absent = true,
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
    if measure && keep_going {
        return usage("--measure and --keep-going do not go together");
    }
    let impls = match fuzz_set::resolve(&impls) {
        Ok(v) => v,
        Err(a) if skip_absent => {
            eprintln!(
                "xtask fuzz: skipped: {} names {}, which is not on this machine",
                a.spec,
                a.path.display()
            );
            return ExitCode::SUCCESS;
        }
        Err(a) => {
            eprintln!(
                "xtask fuzz: {} names {}, which does not exist (cargo xtask libs lists what this machine has; --skip-absent skips instead)",
                a.spec,
                a.path.display()
            );
            return ExitCode::from(2);
        }
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
    // Seed the corpus from generated inputs (or the scenario files) the first time. A
    // measurement starts from the seeds alone, so that it does not depend on a grown corpus.
    let corpus = if measure {
        let dir = crate::cargo::target_dir()
            .join("fuzz-measure")
            .join(&target);
        let _ = std::fs::remove_dir_all(&dir);
        dir
    } else {
        project_root().join("fuzz").join("corpus").join(&target)
    };
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
    let nightly = match sanitizer.as_deref() {
        Some("none") => false,
        Some(_) if !has_nightly() => {
            eprintln!("xtask fuzz: --sanitizer address needs a nightly toolchain (rustup toolchain install nightly)");
            return ExitCode::from(2);
        }
        Some(_) => true,
        None => has_nightly(),
    };
    let mut cmd = Command::new("cargo");
    cmd.current_dir(project_root());
    if nightly {
        eprintln!("xtask: nightly toolchain found: fuzzing with AddressSanitizer");
        cmd.args(["+nightly", "fuzz", "run"]);
    } else {
        eprintln!("xtask: no nightly toolchain: fuzzing on stable without a sanitizer (-s none)");
        cmd.args(["fuzz", "run", "-s", "none"]);
    }
    // cargo fuzz's default build has debug assertions and overflow checks on; `-O` is the
    // release build (see the speed notes in fuzz/README.md).
    if !debug_assertions {
        cmd.arg("-O");
    }
    // Comparison tracing guides mutations towards the operands of comparisons. The loader
    // target parses JSON, where that finds keys and values; the two run targets decode their
    // input through ranges (arbitrary), and tracing every comparison of the harness's and the
    // libraries' hot loops cost 40% of their executions (445 vs 742 execs/s, see README).
    if !trace_compares.unwrap_or(target == "scenario_file") {
        cmd.arg("--no-trace-compares");
    }
    if !system_openssl() {
        cmd.args(["--features", "vendored"]);
    }
    let artifacts = if impls.is_empty() {
        project_root().join("fuzz").join("artifacts").join(&target)
    } else {
        project_root()
            .join("fuzz")
            .join("artifacts")
            .join(&target)
            .join(fuzz_set::slug(&impls))
    };
    if let Err(e) = std::fs::create_dir_all(&artifacts) {
        eprintln!("xtask fuzz: cannot create {}: {e}", artifacts.display());
        return ExitCode::from(2);
    }
    if !impls.is_empty() {
        cmd.env(IMPL_ENV, impls.join(","));
        let set = artifacts.join(SET_FILE);
        if let Err(e) = std::fs::write(&set, impls.join("\n") + "\n") {
            eprintln!("xtask fuzz: cannot write {}: {e}", set.display());
            return ExitCode::from(2);
        }
    }
    let seen = artifacts.join(format!("signatures-{}.log", std::process::id()));
    if keep_going {
        cmd.env(SEEN_ENV, &seen);
    }
    if measure {
        cmd.env("SSLWRITE_FUZZ_MEASURE", "1");
    }
    cmd.arg(&target).arg(&corpus).arg("--");
    cmd.arg(format!("-artifact_prefix={}/", artifacts.display()));
    cmd.arg(format!("-max_total_time={time}"));
    // An execution takes milliseconds (tens under AddressSanitizer); one that takes seconds is
    // a library that hangs (wolfSSL 5.5.4 spun in wolfSSL_accept_TLSv13 for minutes in a
    // campaign). libFuzzer's default of 1200 s would hold a fork-mode job that long; with this
    // the input becomes a timeout- artifact, which the triage replays in a worker.
    cmd.arg(format!("-timeout={UNIT_TIMEOUT_SECONDS}"));
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
    let before = artifact_names(&artifacts);
    let code = if measure {
        measured(cmd, impls.len().max(2), nightly)
    } else {
        status(cmd)
    };
    let new: Vec<String> = artifact_names(&artifacts)
        .into_iter()
        .filter(|n| !before.contains(n))
        .collect();
    if keep_going {
        crate::fuzz_triage::summary(&target, &artifacts, &new, &seen, &impls);
    }
    let shown = artifacts
        .strip_prefix(project_root())
        .unwrap_or(&artifacts)
        .display()
        .to_string();
    if code != ExitCode::SUCCESS || !new.is_empty() {
        eprintln!(
            "xtask: {target} found something ({} new artifact(s) in {shown}/: {}). Turn one into a scenario with: cargo xtask replay {shown}/<file>",
            new.len(),
            new.join(" ")
        );
        return ExitCode::from(1);
    }
    code
}

/// The name of the variable sslwrite::fuzzing::targets::SEEN_ENV.
const SEEN_ENV: &str = "SSLWRITE_FUZZ_SEEN";

/// Runs the measuring session and prints libFuzzer's execution rate from its final stats.
fn measured(mut cmd: Command, columns: usize, nightly: bool) -> ExitCode {
    let out = match cmd.stderr(std::process::Stdio::piped()).output() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("xtask fuzz: cannot run {cmd:?}: {e}");
            return ExitCode::from(2);
        }
    };
    let log = String::from_utf8_lossy(&out.stderr);
    let stat = |name: &str| {
        log.lines()
            .find_map(|l| l.strip_prefix(&format!("stat::{name}:")))
            .map(|v| v.trim().to_string())
    };
    for l in log.lines().filter(|l| l.starts_with("sslwrite: ")) {
        eprintln!("{l}");
    }
    match (
        stat("average_exec_per_sec"),
        stat("number_of_executed_units"),
    ) {
        (Some(rate), Some(units)) => {
            println!(
                "execs/s: {rate} ({units} executions, {} new corpus units, {columns} implementation(s), sanitizer: {})",
                stat("new_units_added").unwrap_or_else(|| "?".into()),
                if nightly { "address" } else { "none" }
            );
            if out.status.success() {
                ExitCode::SUCCESS
            } else {
                eprintln!("xtask fuzz: the measuring session found something; its log:\n{log}");
                ExitCode::from(1)
            }
        }
        _ => {
            eprintln!("xtask fuzz: no final stats in libFuzzer's output:\n{log}");
            ExitCode::from(2)
        }
    }
}

/// The artifact files in an artifacts folder (none if it does not exist yet).
pub fn artifact_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir).map_or(Vec::new(), |d| {
        d.filter_map(|e| e.ok())
            .filter(|e| e.path().is_file())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| {
                ["crash-", "timeout-", "oom-", "leak-", "slow-unit-"]
                    .iter()
                    .any(|p| n.starts_with(p))
            })
            .collect()
    });
    names.sort();
    names
}

fn usage(problem: &str) -> ExitCode {
    eprintln!(
        "xtask fuzz: {problem}\nusage: cargo xtask fuzz <{}> [--impl NAME]... [--time SECONDS] [--jobs N] [--keep-going] [--runs N --seed S] [--measure] [--sanitizer none|address] [--debug-assertions] [--[no-]trace-compares] [--skip-absent]",
        TARGETS.join("|")
    );
    ExitCode::from(2)
}
