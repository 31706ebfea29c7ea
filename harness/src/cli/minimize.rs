//! `sslwrite minimize SCENARIO.json [--run RUN] [--impl NAME]... [--known PATH] [-o OUT]`: one
//! run of a scenario file cut down by delta debugging (sslwrite::minimize) to a small scenario
//! with the same finding, every candidate played in worker processes; written in place of the
//! file (or to OUT), atomically. Exit 0 when written; 2 when the run shows no finding (nothing
//! is written) or the harness cannot do it. `replay --minimize` shares the flags and the
//! summary here.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use sslwrite::fuzzing::Finding;
use sslwrite::isolation::Isolation;
use sslwrite::known::Known;
use sslwrite::minimize::{self, replayer, Limits, Minimized};
use sslwrite::scenario::{RunKey, Scenario, KNOWN_DIVERGENCES_FILE};

use super::conformance::{implementations, IsolationMode};
use super::{in_root, Failure, Outcome};

#[derive(clap::Args)]
pub struct MinimizeArgs {
    /// The scenario file (a regression under scenarios/regressions/, or any other).
    scenario: PathBuf,
    /// The run to minimize, as `list` and the reports name it (`ID/tls1.3/client/auto_retry`);
    /// default: the first run of the file that shows a finding.
    #[arg(long, value_name = "RUN")]
    run: Option<String>,
    /// The implementations (as for `conformance`; default: the built-in ones). The reference
    /// is the linked openssl when it is one of them, else the first.
    #[arg(long = "impl", value_name = "NAME")]
    impls: Vec<String>,
    /// The known-divergences file (default: the project's scenarios/known-divergences.json).
    #[arg(long, value_name = "PATH")]
    known: Option<PathBuf>,
    /// Where to write the minimized scenario (default: in place of SCENARIO).
    #[arg(short = 'o', long = "out", value_name = "OUT")]
    out: Option<PathBuf>,
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// The bounds of a minimization and of each candidate's run.
#[derive(clap::Args)]
pub struct LimitArgs {
    /// Most candidates played.
    #[arg(long, value_name = "N", default_value_t = minimize::DEFAULT_MAX_CANDIDATES)]
    max_candidates: usize,
    /// Most wall time for the whole minimization, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = minimize::DEFAULT_MAX_TIME.as_secs_f64())]
    max_time: f64,
    /// Per-candidate time limit in the worker processes, in seconds (a candidate that hangs a
    /// library costs this much).
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0)]
    timeout: f64,
    /// Worker threads (default: the number of cores).
    #[arg(long, value_name = "N")]
    jobs: Option<usize>,
}

impl LimitArgs {
    pub fn limits(&self) -> Result<Limits, Failure> {
        Ok(Limits {
            max_candidates: self.max_candidates,
            max_time: seconds("--max-time", self.max_time)?,
            ..Limits::default()
        })
    }

    pub fn isolation(&self) -> Result<Isolation, Failure> {
        let exe = std::env::current_exe().map_err(|e| {
            Failure::error(format!(
                "cannot find the sslwrite binary for the workers: {e}"
            ))
        })?;
        Ok(Isolation {
            exe,
            timeout: seconds("--timeout", self.timeout)?,
        })
    }

    pub fn timeout(&self) -> f64 {
        self.timeout
    }

    pub fn jobs(&self) -> usize {
        self.jobs
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
            .max(1)
    }
}

/// A positive number of seconds, at most a day.
fn seconds(flag: &str, s: f64) -> Result<Duration, Failure> {
    if !(s > 0.0 && s <= 86_400.0) {
        return Err(Failure::error(format!(
            "{flag} {s}: give a number of seconds above 0, at most 86400"
        )));
    }
    Ok(Duration::from_secs_f64(s))
}

pub fn run(a: MinimizeArgs) -> Outcome {
    let scenario = Scenario::load(&a.scenario).map_err(Failure::error)?;
    let known_path = match &a.known {
        Some(k) => k.clone(),
        None => in_root("scenarios")?.join(KNOWN_DIVERGENCES_FILE),
    };
    let known = Known::load(&known_path).map_err(Failure::error)?;
    let limits = a.limits.limits()?;
    let iso = a.limits.isolation()?;
    let (names, infos, _) =
        implementations(&a.impls, None, IsolationMode::Process, a.limits.timeout())?;
    let players = replayer::Players {
        names: &names,
        infos: &infos,
        known: &known,
        isolation: &iso,
        jobs: a.limits.jobs(),
    };
    let all = scenario.runs();
    let keys: Vec<RunKey> = match &a.run {
        Some(r) => {
            let key = all.iter().find(|k| k.to_string() == *r).ok_or_else(|| {
                let names: Vec<String> = all.iter().map(ToString::to_string).collect();
                Failure::error(format!(
                    "{}: no run {r:?}; its runs: {}",
                    a.scenario.display(),
                    names.join(", ")
                ))
            })?;
            vec![key.clone()]
        }
        None => all,
    };
    let runs: Vec<(&Scenario, RunKey)> = keys.iter().map(|k| (&scenario, k.clone())).collect();
    let findings = players.findings(&runs).map_err(Failure::error)?;
    let Some((key, finding)) = keys
        .iter()
        .zip(findings)
        .find_map(|(k, f)| f.map(|f| (k.clone(), f)))
    else {
        let which = match &a.run {
            Some(r) => format!("run {r} shows"),
            None => "none of its runs shows".to_string(),
        };
        return Err(Failure::error(format!(
            "{}: {which} a finding (every implementation agrees, or differs as a known entry explains): nothing to minimize, nothing written",
            a.scenario.display()
        )));
    };
    println!("minimize: {key} ({})", a.scenario.display());
    println!("finding: {finding}");
    let mut check = replayer::SameFinding {
        players: &players,
        signature: finding.signature.clone(),
    };
    let m = minimize::minimize(&scenario, &key, &mut check, &limits)
        .map_err(|e| Failure::error(format!("{}: {e}", a.scenario.display())))?;
    let out = a.out.clone().unwrap_or_else(|| a.scenario.clone());
    sslwrite::render::write_atomic(&out, m.scenario.to_json().as_bytes())
        .map_err(Failure::error)?;
    print!("{}", summary(&m, &limits, &finding));
    println!("written: {}", out.display());
    Ok(ExitCode::SUCCESS)
}

/// What a minimization did: steps before and after, the candidates and the time against
/// their caps, why it ended, and the steps left.
pub fn summary(m: &Minimized, limits: &Limits, finding: &Finding) -> String {
    let mut out = format!(
        "steps: {} -> {} ({} candidates tried, at most {}; {:.1} s, at most {} s; {}), kept {}\n",
        m.steps_before,
        m.steps_after,
        m.candidates,
        limits.max_candidates,
        m.elapsed.as_secs_f64(),
        limits.max_time.as_secs_f64(),
        m.ended,
        finding.signature
    );
    for (i, s) in m.scenario.steps.iter().enumerate() {
        out.push_str(&format!("  {i:>3}  {}\n", s.short()));
    }
    out
}
