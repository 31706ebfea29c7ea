//! `sslwrite fuzz-triage [--impl NAME]... [--seen LOG] [--markdown OUT] ARTIFACT...`: replays a
//! fuzz session's artifacts, each implementation in a worker process, and prints one row per
//! unique finding signature (see sslwrite::fuzzing::triage).

use std::path::PathBuf;
use std::process::ExitCode;

use sslwrite::fuzzing::{oracle, triage, Oracles};
use sslwrite::isolation::{Isolation, DEFAULT_TIMEOUT};

use super::{Failure, Outcome};

#[derive(clap::Args)]
pub struct FuzzTriageArgs {
    /// The artifacts (crash-*, timeout-* files libFuzzer wrote).
    #[arg(required = true)]
    artifacts: Vec<PathBuf>,
    /// The implementations the session fuzzed (default: SSLWRITE_FUZZ_IMPL, else the built-in
    /// ones).
    #[arg(long = "impl", value_name = "NAME")]
    impls: Vec<String>,
    /// The session's signature log (SSLWRITE_FUZZ_SEEN): how often each finding was hit.
    #[arg(long, value_name = "LOG")]
    seen: Option<PathBuf>,
    /// Also write the summary here.
    #[arg(long, value_name = "FILE")]
    markdown: Option<PathBuf>,
}

pub fn run(a: FuzzTriageArgs) -> Outcome {
    let names = if a.impls.is_empty() {
        oracle::impls_from_env()
    } else {
        a.impls.clone()
    };
    let o = Oracles::open(&names, Oracles::project_known()).map_err(Failure::error)?;
    let exe = std::env::current_exe().map_err(|e| {
        Failure::error(format!(
            "cannot find the sslwrite binary for the workers: {e}"
        ))
    })?;
    let iso = Isolation {
        exe,
        timeout: DEFAULT_TIMEOUT,
    };
    // Oldest first: the first artifact of a signature is the one the session found first.
    let mut artifacts = a.artifacts.clone();
    artifacts.sort_by_key(|p| {
        std::fs::metadata(p)
            .and_then(|m| m.modified())
            .ok()
            .map(|t| (t, p.clone()))
    });
    let skipped = artifacts.len().saturating_sub(triage::MAX_ARTIFACTS);
    let triaged = triage::triage(&o, &names, &iso, &artifacts);
    let hits = match &a.seen {
        Some(p) => triage::count_hits(&std::fs::read_to_string(p).unwrap_or_default()),
        None => Default::default(),
    };
    let text = triage::summary(&triaged, &hits, skipped);
    print!("{text}");
    if let Some(out) = &a.markdown {
        std::fs::write(out, &text)
            .map_err(|e| Failure::error(format!("cannot write {}: {e}", out.display())))?;
        println!("\nsummary: {}", out.display());
    }
    Ok(ExitCode::SUCCESS)
}
