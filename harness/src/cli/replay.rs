//! `sslwrite replay ARTIFACT | --seed N [--out DIR] [--scenario-only] [--impl NAME]...`: a fuzz
//! input made into a scenario (sslwrite::fuzzing::replay), played on the set it was fuzzed
//! with, and the step-by-step comparison. Exit 0 when it shows no finding; 1 when it does; 2
//! when the input cannot be read or made into a scenario.

use std::path::PathBuf;
use std::process::ExitCode;

use sslwrite::fuzzing::{oracle, replay, seed_bytes, Oracles};

use super::{Failure, Outcome};

#[derive(clap::Args)]
pub struct ReplayArgs {
    /// The crash/finding file cargo fuzz wrote (fuzz/artifacts/...).
    artifact: Option<PathBuf>,
    /// Instead of a file: the bytes of a seeded input (as in the seeded cargo test loops).
    #[arg(long)]
    seed: Option<u64>,
    /// Folder to write the scenario into (default: print it only).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Print the generated scenario without playing it (for an input that crashes a library:
    /// play the printed file with `run`, where a worker process takes the crash).
    #[arg(long, conflicts_with = "out")]
    scenario_only: bool,
    /// The implementations the input was fuzzed with, as in `cargo xtask fuzz --impl`
    /// (default: SSLWRITE_FUZZ_IMPL, else the built-in ones). The set decides what the
    /// generator produces, so give the one the finding came from.
    #[arg(long = "impl", value_name = "NAME")]
    impls: Vec<String>,
}

pub fn run(a: ReplayArgs) -> Outcome {
    let bytes = match (&a.artifact, a.seed) {
        (Some(p), None) => std::fs::read(p)
            .map_err(|e| Failure::error(format!("cannot read {}: {e}", p.display())))?,
        (None, Some(seed)) => seed_bytes(seed, 256),
        _ => {
            return Err(Failure::error(
                "give an artifact file or --seed N (not both)",
            ))
        }
    };
    let names = if a.impls.is_empty() {
        oracle::impls_from_env()
    } else {
        a.impls.clone()
    };
    let oracles = Oracles::open(&names, Oracles::project_known()).map_err(Failure::error)?;
    for lack in oracles.narrowing.lacks() {
        eprintln!("not generated: {lack}");
    }
    if a.scenario_only {
        let g = oracles
            .generate(&bytes)
            .map_err(|e| Failure::error(format!("the input does not make a scenario: {e}")))?;
        print!("{}", g.scenario.to_json());
        return Ok(ExitCode::SUCCESS);
    }
    let r = replay::replay(&oracles, &bytes, a.out.as_deref()).map_err(Failure::error)?;
    match &r.finding {
        Some(f) => println!("finding: {f}"),
        None => println!("no finding: every implementation agrees or differs as known"),
    }
    println!("{}", r.comparison);
    match (&r.written, a.out.is_some()) {
        (Some(p), _) => println!("scenario: {}", p.display()),
        (None, true) => println!("nothing written: the input shows no finding"),
        (None, false) => print!("{}", r.scenario.to_json()),
    }
    Ok(if r.finding.is_some() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
