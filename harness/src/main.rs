//! The `sslwrite` command line. `cargo xtask conformance` runs `sslwrite conformance`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Instant, SystemTime};

use clap::{Parser, Subcommand};

use sslwrite::contract::{Implementation, Tls};
use sslwrite::known::Known;
use sslwrite::scenario::{self, KNOWN_DIVERGENCES_FILE};
use sslwrite::suite::{self, Selection};
use sslwrite::{impls, project_root};

#[derive(Parser)]
#[command(
    name = "sslwrite",
    version,
    about = "How each implementation of SSL_write's contract behaves, side by side"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run every scenario on every implementation, diff them, write the JSON report.
    Conformance(ConformanceArgs),
    /// List the scenarios and the runs they expand into.
    List(ListArgs),
    /// Turn a fuzz artifact (or a seed) into a scenario and show the step-by-step diff.
    Replay(ReplayArgs),
}

#[derive(clap::Args)]
struct ReplayArgs {
    /// The crash/finding file cargo fuzz wrote (fuzz/artifacts/...).
    artifact: Option<PathBuf>,
    /// Instead of a file: the bytes of a seeded input (as in the seeded cargo test loops).
    #[arg(long)]
    seed: Option<u64>,
    /// Folder to write the scenario into (default: print it only).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

#[derive(clap::Args)]
struct ListArgs {
    /// Folder of scenario files.
    #[arg(long)]
    scenarios: Option<PathBuf>,
}

#[derive(clap::Args)]
struct ConformanceArgs {
    /// Implementation to run (repeatable; default: all). The first is the reference.
    #[arg(long = "impl", value_name = "NAME")]
    impls: Vec<String>,
    /// Only scenarios whose id matches this glob (or runs, if it contains '/').
    #[arg(long, value_name = "GLOB")]
    filter: Option<String>,
    /// Only runs under this TLS version.
    #[arg(long, value_name = "1.2|1.3", value_parser = parse_tls)]
    tls: Option<Tls>,
    /// Where to write the JSON report.
    #[arg(long, value_name = "PATH")]
    json: Option<PathBuf>,
    /// Folder of scenario files.
    #[arg(long, value_name = "DIR")]
    scenarios: Option<PathBuf>,
    /// The known-divergences file (default: SCENARIOS/known-divergences.json).
    #[arg(long, value_name = "PATH")]
    known: Option<PathBuf>,
    /// Worker threads (default: the number of cores).
    #[arg(long, value_name = "N")]
    jobs: Option<usize>,
    /// Print only the summary.
    #[arg(long)]
    quiet: bool,
    /// Treat warnings (stale known-divergence entries) as failures.
    #[arg(long)]
    strict: bool,
}

fn parse_tls(s: &str) -> Result<Tls, String> {
    match s {
        "1.2" => Ok(Tls::V12),
        "1.3" => Ok(Tls::V13),
        other => Err(format!(
            "{other:?} is not a TLS version this harness runs (1.2 or 1.3)"
        )),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Conformance(a) => conformance(a),
        Command::List(a) => list(a),
        Command::Replay(a) => replay(a),
    }
}

fn load(dir: &std::path::Path) -> Result<Vec<scenario::Scenario>, ExitCode> {
    scenario::load_dir(dir).map_err(|errors| {
        for e in &errors {
            eprintln!("error: {e}");
        }
        eprintln!(
            "sslwrite: {} scenario file(s) could not be used; fix them and run again (no report written)",
            errors.len()
        );
        ExitCode::from(2)
    })
}

fn list(a: ListArgs) -> ExitCode {
    let dir = a
        .scenarios
        .unwrap_or_else(|| project_root().join("scenarios"));
    let scenarios = match load(&dir) {
        Ok(s) => s,
        Err(code) => return code,
    };
    for s in &scenarios {
        let clauses: Vec<&str> = s.clauses.iter().map(|c| c.0.as_str()).collect();
        println!("{}  [{}]  {}", s.id, clauses.join(","), s.title);
        for k in s.runs() {
            println!("    {k}");
        }
    }
    ExitCode::SUCCESS
}

fn conformance(a: ConformanceArgs) -> ExitCode {
    let started = (SystemTime::now(), Instant::now());
    let dir = a
        .scenarios
        .unwrap_or_else(|| project_root().join("scenarios"));
    let scenarios = match load(&dir) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let known_path = a.known.unwrap_or_else(|| dir.join(KNOWN_DIVERGENCES_FILE));
    let known = match Known::load(&known_path) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let names: Vec<String> = if a.impls.is_empty() {
        impls::NAMES.iter().map(|s| s.to_string()).collect()
    } else {
        a.impls
    };
    let mut list: Vec<Box<dyn Implementation>> = Vec::new();
    for n in &names {
        match impls::by_name(n) {
            Ok(i) => list.push(i),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        }
    }
    let filter = match a.filter.as_deref().map(glob::Pattern::new).transpose() {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: --filter is not a valid glob: {e}");
            return ExitCode::from(2);
        }
    };
    let selection = Selection { filter, tls: a.tls };
    let runs = selection.runs(&scenarios);
    if runs.is_empty() {
        eprintln!("error: no scenario run matches the selection (--filter/--tls); nothing to do");
        return ExitCode::from(2);
    }
    let reference = impls::openssl::OpensslImpl::new();
    let jobs = a
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let traces = suite::play(&runs, &list, &reference, jobs, &|| {});
    let infos: Vec<_> = list.iter().map(|i| i.info()).collect();
    let report = suite::assemble(
        &runs,
        traces,
        &infos,
        &known,
        started,
        std::env::args().collect(),
    );
    if !a.quiet {
        print!("{}", report.table());
        println!();
        print!("{}", report.clause_table());
        println!();
    }
    print!("{}", report.summary_text());
    let json = a
        .json
        .unwrap_or_else(|| project_root().join("reports").join("conformance.json"));
    if let Err(e) = report.write(&json) {
        eprintln!("error: the report could not be written: {e}");
        return ExitCode::from(2);
    }
    println!("report: {}", json.display());
    if report.summary.verdicts.get("error").copied().unwrap_or(0) > 0 {
        return ExitCode::from(2);
    }
    if !report.summary.passed || (a.strict && !report.warnings.is_empty()) {
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}

fn replay(a: ReplayArgs) -> ExitCode {
    let bytes = match (&a.artifact, a.seed) {
        (Some(p), None) => match std::fs::read(p) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("error: cannot read {}: {e}", p.display());
                return ExitCode::from(2);
            }
        },
        (None, Some(seed)) => sslwrite::fuzzing::seed_bytes(seed, 256),
        _ => {
            eprintln!("error: give an artifact file or --seed N (not both)");
            return ExitCode::from(2);
        }
    };
    let oracles = sslwrite::fuzzing::Oracles::load();
    match sslwrite::fuzzing::replay::replay(&oracles, &bytes, a.out.as_deref()) {
        Ok(r) => {
            match &r.finding {
                Some(f) => println!("finding: {f}"),
                None => println!("no finding: every implementation agrees or differs as known"),
            }
            println!("{}", r.comparison);
            match &r.written {
                Some(p) => println!("scenario: {}", p.display()),
                None => print!("{}", r.scenario.to_json()),
            }
            if r.finding.is_some() {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
