//! `sslwrite replay ARTIFACT | --seed N [--out DIR] [--scenario-only] [--minimize] [--impl
//! NAME]...`: a fuzz input made into a scenario (sslwrite::fuzzing::replay), played on the set it
//! was fuzzed with, and the step-by-step comparison. Exit 0 when it shows no finding; 1 when it
//! does; 2 when the input cannot be read or made into a scenario. With `--minimize` the run is
//! played in worker processes, and the regression file is written, then minimized
//! (sslwrite::minimize) and written again in its place; an input without a finding is refused
//! (exit 2).

use std::path::PathBuf;
use std::process::ExitCode;

use sslwrite::contract::ImplInfo;
use sslwrite::fuzzing::{oracle, replay, seed_bytes, Oracles};
use sslwrite::minimize::{self, replayer};

use super::minimize::LimitArgs;
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
    /// Minimize the finding (as `sslwrite minimize` does, every candidate in a worker
    /// process): the regression file is replaced by the minimized scenario.
    #[arg(long, conflicts_with = "scenario_only")]
    minimize: bool,
    /// The bounds of --minimize.
    #[command(flatten)]
    limits: LimitArgs,
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
    if a.minimize {
        return minimized(&a, &oracles, &names, &bytes);
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

/// `--minimize`: the finding as `fuzz-triage` judges it (in workers), its regression file
/// written, the generated run minimized (as the fuzzer judges it: known entries for generated
/// runs apply), and the result written in its place, named as before and titled by its
/// finding.
fn minimized(a: &ReplayArgs, o: &Oracles, names: &[String], bytes: &[u8]) -> Outcome {
    let limits = a.limits.limits()?;
    let iso = a.limits.isolation()?;
    let g = o
        .generate(bytes)
        .map_err(|e| Failure::error(format!("the input does not make a scenario: {e}")))?;
    let infos: Vec<ImplInfo> = o.impls.iter().map(|i| i.info()).collect();
    let players = replayer::Players {
        names,
        infos: &infos,
        known: &o.known,
        isolation: &iso,
        jobs: a.limits.jobs(),
    };
    let found = players
        .findings(&[(&g.scenario, g.key.clone())])
        .map_err(Failure::error)?;
    let Some(finding) = found.into_iter().next().flatten() else {
        return Err(Failure::error(
            "the input shows no finding (every implementation agrees, or differs as a known entry explains): nothing to minimize, nothing written",
        ));
    };
    println!("finding: {finding}");
    let (unminimized, _) = replay::regression(&g, Some(&finding), bytes);
    let written = match &a.out {
        Some(dir) => Some(replay::write_regression(dir, &unminimized).map_err(Failure::error)?),
        None => None,
    };
    let mut check = replayer::SameFinding {
        players: &players,
        signature: finding.signature.clone(),
    };
    let m = minimize::minimize(&g.scenario, &g.key, &mut check, &limits)
        .map_err(|e| Failure::error(format!("{}: {e}", unminimized.id)))?;
    let traces = players
        .play(&[(&m.scenario, m.key.clone())])
        .map_err(Failure::error)?
        .remove(0);
    let last = players.judge(&m.scenario, &m.key, &traces);
    let small = sslwrite::fuzzing::Generated {
        scenario: m.scenario.clone(),
        key: m.key.clone(),
    };
    let (mut scenario, _) = replay::regression(&small, Some(&finding), bytes);
    replay::retitle(&mut scenario, last.as_ref().or(Some(&finding)));
    let named: Vec<(String, sslwrite::runner::Trace)> =
        infos.iter().map(|i| i.name.clone()).zip(traces).collect();
    println!("{}", replay::side_by_side(&named));
    print!("{}", super::minimize::summary(&m, &limits, &finding));
    match written {
        Some(path) => {
            sslwrite::render::write_atomic(&path, scenario.to_json().as_bytes())
                .map_err(Failure::error)?;
            println!("scenario: {}", path.display());
        }
        None => print!("{}", scenario.to_json()),
    }
    Ok(ExitCode::from(1))
}
