//! `cargo xtask minimize SCENARIO.json [ARGS]`: a release build of the harness, then `sslwrite
//! minimize SCENARIO.json ARGS` (one run cut down to a small scenario with the same finding,
//! written in place; `sslwrite minimize --help`).
//!
//! `cargo xtask minimize --figures [--per-set N] [--debug] [--jobs N] DIR...`: the figures of
//! the README's note. Every `crash-*` artifact of each artifacts folder DIR (at most N per
//! folder, in name order) is replayed and minimized (`sslwrite replay ARTIFACT --minimize`,
//! with the set in the folder's `impls` file) into `target/minimize-figures/SET/`, never into
//! `scenarios/`; one row per artifact, then the medians of the steps before and after, the
//! candidates and the time to minimize.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use crate::cargo::{cargo, sslwrite, status, target_dir};
use crate::fuzz_set;

const USAGE: &str = "usage: cargo xtask minimize SCENARIO.json [--run RUN] [--impl NAME]... [-o OUT] (sslwrite minimize --help)\n       cargo xtask minimize --figures [--per-set N] [--debug] [--jobs N] ARTIFACTS-DIR...";

pub fn run(args: &[String]) -> ExitCode {
    if args.first().map(String::as_str) != Some("--figures") {
        return sslwrite("minimize", args);
    }
    let mut per_set = usize::MAX;
    let mut debug = false;
    let mut jobs = None;
    let mut dirs = Vec::new();
    let mut it = args[1..].iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--per-set" => match it.next().and_then(|n| n.parse().ok()) {
                Some(n) => per_set = n,
                None => return usage("--per-set needs a number"),
            },
            "--jobs" => match it.next() {
                Some(n) => jobs = Some(n.clone()),
                None => return usage("--jobs needs a number"),
            },
            "--debug" => debug = true,
            "--help" | "-h" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            other if !other.starts_with("--") => dirs.push(PathBuf::from(other)),
            other => return usage(&format!("unexpected argument {other:?}")),
        }
    }
    if dirs.is_empty() {
        return usage("name at least one artifacts folder");
    }
    let profile = if debug { "debug" } else { "release" };
    let mut build = vec![
        "build",
        "--quiet",
        "--package",
        "sslwrite",
        "--bin",
        "sslwrite",
    ];
    if !debug {
        build.push("--release");
    }
    let built = status(cargo(&build, &[]));
    if built != ExitCode::SUCCESS {
        return built;
    }
    let bin = target_dir().join(profile).join("sslwrite");
    let mut rows = Vec::new();
    for dir in &dirs {
        let mut artifacts: Vec<PathBuf> = std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .flatten()
                    .map(|e| e.path())
                    .filter(|p| {
                        p.file_name()
                            .is_some_and(|n| n.to_string_lossy().starts_with("crash-"))
                    })
                    .collect()
            })
            .unwrap_or_default();
        artifacts.sort();
        artifacts.truncate(per_set);
        let Some(set) = artifacts.first().and_then(|a| fuzz_set::recorded_for(a)) else {
            eprintln!(
                "xtask minimize: {} has no crash-* artifact or no impls file; skipped",
                dir.display()
            );
            continue;
        };
        let set_name = dir
            .file_name()
            .map_or("set".into(), |n| n.to_string_lossy().into_owned());
        let out = target_dir().join("minimize-figures").join(&set_name);
        for artifact in artifacts {
            let row = one(&bin, &artifact, &set, &out, jobs.as_deref());
            println!("{set_name}  {}", row.line(&artifact));
            rows.push(row);
        }
    }
    let done: Vec<&Row> = rows.iter().filter(|r| r.steps.is_some()).collect();
    println!(
        "\n{} artifact(s): {} minimized, {} without a finding or failed",
        rows.len(),
        done.len(),
        rows.len() - done.len()
    );
    if !done.is_empty() {
        let med = |f: &dyn Fn(&Row) -> f64| {
            let mut v: Vec<f64> = done.iter().map(|r| f(r)).collect();
            v.sort_by(f64::total_cmp);
            let n = v.len();
            if n % 2 == 1 {
                v[n / 2]
            } else {
                (v[n / 2 - 1] + v[n / 2]) / 2.0
            }
        };
        let steps = |r: &Row| r.steps.unwrap_or_default();
        println!(
            "median steps before {} after {}; median candidates {}; median time to minimize {:.2} s (whole command {:.2} s)",
            med(&|r| steps(r).0),
            med(&|r| steps(r).1),
            med(&|r| steps(r).2),
            med(&|r| steps(r).3),
            med(&|r| r.wall),
        );
    }
    ExitCode::SUCCESS
}

fn usage(why: &str) -> ExitCode {
    eprintln!("xtask minimize: {why}\n{USAGE}");
    ExitCode::from(2)
}

/// One artifact's minimization: steps before, after, candidates, seconds (from the summary
/// line `sslwrite` prints), and the whole command's wall time.
struct Row {
    steps: Option<(f64, f64, f64, f64)>,
    signature: String,
    wall: f64,
    status: String,
}

impl Row {
    fn line(&self, artifact: &Path) -> String {
        let name = artifact
            .file_name()
            .map_or(String::new(), |n| n.to_string_lossy().into_owned());
        match self.steps {
            Some((b, a, c, t)) => format!(
                "{name}  {b} -> {a} steps  {c} candidates  {t:.2} s  ({:.2} s in all)  {}",
                self.wall, self.signature
            ),
            None => format!("{name}  {}", self.status),
        }
    }
}

fn one(bin: &Path, artifact: &Path, set: &[String], out: &Path, jobs: Option<&str>) -> Row {
    let mut cmd = Command::new(bin);
    cmd.arg("replay")
        .arg(artifact)
        .arg("--minimize")
        .arg("--out")
        .arg(out);
    for i in set {
        cmd.arg("--impl").arg(i);
    }
    if let Some(j) = jobs {
        cmd.arg("--jobs").arg(j);
    }
    let started = Instant::now();
    let output = cmd.output();
    let wall = started.elapsed().as_secs_f64();
    let Ok(output) = output else {
        return Row {
            steps: None,
            signature: String::new(),
            wall,
            status: format!("cannot run {}", bin.display()),
        };
    };
    let text = String::from_utf8_lossy(&output.stdout);
    let steps = text.lines().find_map(summary_numbers);
    let signature = text
        .lines()
        .find_map(|l| l.strip_prefix("finding: ["))
        .and_then(|l| l.split(']').next())
        .unwrap_or("")
        .to_string();
    let status = if steps.is_some() {
        String::new()
    } else {
        let err = String::from_utf8_lossy(&output.stderr);
        let why = err
            .lines()
            .find(|l| l.starts_with("error:"))
            .unwrap_or("no summary line");
        format!("not minimized ({}): {why}", output.status)
    };
    Row {
        steps,
        signature,
        wall,
        status,
    }
}

/// `steps: 22 -> 5 (124 candidates tried, at most 500; 1.8 s, at most 300 s; ...` as
/// (before, after, candidates, seconds).
fn summary_numbers(line: &str) -> Option<(f64, f64, f64, f64)> {
    let rest = line.strip_prefix("steps: ")?;
    let (before, rest) = rest.split_once(" -> ")?;
    let (after, rest) = rest.split_once(" (")?;
    let (candidates, rest) = rest.split_once(" candidates tried")?;
    let secs = rest.split("; ").nth(1)?.split(' ').next()?;
    Some((
        before.parse().ok()?,
        after.parse().ok()?,
        candidates.parse().ok()?,
        secs.parse().ok()?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_line_gives_its_numbers() {
        let line = "steps: 22 -> 5 (124 candidates tried, at most 500; 1.8 s, at most 300 s; nothing left to simplify), kept diverge/rustls/shutdown/outcome/ok->ok";
        assert_eq!(summary_numbers(line), Some((22.0, 5.0, 124.0, 1.8)));
        assert_eq!(summary_numbers("finding: x"), None);
    }
}
