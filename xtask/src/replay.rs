//! `cargo xtask replay ARTIFACT [--impl NAME]... [--minimize]`: a fuzz finding becomes a
//! scenario under `scenarios/regressions/` (named after its signature), played on every
//! implementation with the step-by-step diff printed. From then on `cargo xtask conformance`
//! includes it. With `--minimize` (and its bounds `--max-candidates N`, `--max-time S`,
//! `--timeout S`, `--jobs N`) the file is replaced by the minimized scenario
//! (`sslwrite replay --minimize`).
//!
//! The implementation set decides what the generator produces, so the replay uses the set the
//! artifact was found with: the `impls` file `cargo xtask fuzz --impl` writes beside it, unless
//! `--impl` names another.

use std::process::ExitCode;

use crate::cargo::{project_root, sslwrite};
use crate::fuzz_set;

const USAGE: &str = "usage: cargo xtask replay ARTIFACT [--impl NAME]... [--minimize [--max-candidates N] [--max-time S] [--timeout S] [--jobs N]]   (a file under fuzz/artifacts/TARGET/)";

pub fn run(args: &[String]) -> ExitCode {
    let mut artifact = None;
    let mut impls: Vec<String> = Vec::new();
    let mut passed: Vec<String> = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--help" | "-h" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            "--impl" => match it.next() {
                Some(v) => impls.push(v.clone()),
                None => {
                    eprintln!("xtask replay: --impl needs a name\n{USAGE}");
                    return ExitCode::from(2);
                }
            },
            "--minimize" => passed.push(a.clone()),
            "--max-candidates" | "--max-time" | "--timeout" | "--jobs" => match it.next() {
                Some(v) => passed.extend([a.clone(), v.clone()]),
                None => {
                    eprintln!("xtask replay: {a} needs a value\n{USAGE}");
                    return ExitCode::from(2);
                }
            },
            other if artifact.is_none() && !other.starts_with("--") => artifact = Some(other),
            other => {
                eprintln!("xtask replay: unexpected argument {other:?}\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    let Some(artifact) = artifact else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let artifact = std::path::Path::new(artifact);
    let artifact = if artifact.is_absolute() {
        artifact.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|d| d.join(artifact))
            .unwrap_or_else(|_| artifact.to_path_buf())
    };
    if impls.is_empty() {
        if let Some(set) = fuzz_set::recorded_for(&artifact) {
            eprintln!(
                "xtask replay: the implementations the artifact was found with: {}",
                set.join(" ")
            );
            impls = set;
        }
    }
    let out = project_root().join("scenarios").join("regressions");
    let mut rest = vec![
        artifact.display().to_string(),
        "--out".to_string(),
        out.display().to_string(),
    ];
    for i in impls {
        rest.push("--impl".into());
        rest.push(i);
    }
    rest.extend(passed);
    sslwrite("replay", &rest)
}
