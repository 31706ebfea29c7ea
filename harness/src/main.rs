//! The `sslwrite` command line. `cargo xtask conformance` runs `sslwrite conformance`.

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Instant, SystemTime};

mod cli;

use clap::{Parser, Subcommand};

use sslwrite::contract::{ImplInfo, Implementation, Tls};
use sslwrite::known::Known;
use sslwrite::render::{self, baseline::Comparison};
use sslwrite::report::Report;
use sslwrite::scenario::{self, KNOWN_DIVERGENCES_FILE};
use sslwrite::shard::{ShardPlan, ShardSpec};
use sslwrite::suite::{self, Selection};
use sslwrite::transport::TransportKind;
use sslwrite::{find_project_root, impls};

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
    /// Re-render a saved JSON report (table, --explain, --html, --markdown, --junit).
    Report(ReportArgs),
    /// Write a seed corpus for a fuzz target (generated inputs, or the scenario files).
    FuzzSeeds(FuzzSeedsArgs),
    /// Replay a fuzz session's artifacts in worker processes; one row per unique finding.
    FuzzTriage(cli::fuzz_triage::FuzzTriageArgs),
    /// What changed between two saved reports (exit 1 when something regressed).
    Compare(cli::compare::CompareArgs),
    /// Join the reports of `conformance --shard I/N` into the report of the whole run.
    Merge(cli::merge::MergeArgs),
    /// (isolation) a worker process: plays the runs sent on stdin (see isolation.rs).
    #[command(hide = true)]
    Worker(WorkerArgs),
    /// Measure the harness against the handshake floor (cargo xtask bench).
    Bench(BenchArgs),
    /// (bench helper) one bulk run in this process: prints seconds and peak RSS as JSON.
    #[command(hide = true)]
    BenchBulk(BenchBulkArgs),
    /// (bench helper) start up, load everything, run nothing.
    #[command(hide = true)]
    BenchStartup,
    /// (profiling helper) play the selected runs in this process on one thread, PASSES times,
    /// nothing else: a target for perf or valgrind --tool=callgrind.
    #[command(hide = true)]
    BenchLoop(BenchLoopArgs),
}

#[derive(clap::Args)]
struct BenchLoopArgs {
    /// Glob over scenario ids (all when absent).
    #[arg(long, value_name = "GLOB")]
    filter: Option<String>,
    /// How many times to play the selection.
    #[arg(long, default_value_t = 1)]
    passes: usize,
}

#[derive(clap::Args)]
struct BenchArgs {
    /// Where to write the figures as JSON.
    #[arg(long, value_name = "PATH")]
    json: Option<PathBuf>,
    /// Repetitions per measurement (the median is kept).
    #[arg(long, default_value_t = 5)]
    reps: usize,
    /// Size of the bulk run in MiB (0 skips it).
    #[arg(long, default_value_t = 1024)]
    bulk_mib: u64,
}

#[derive(clap::Args)]
struct BenchBulkArgs {
    /// `harness` (through the runner) or `bare` (a plain write/read loop).
    which: String,
    bytes: u64,
    /// Bytes per write call.
    #[arg(long, default_value_t = sslwrite::bench::BULK_CHUNK)]
    chunk: usize,
}

#[derive(clap::Args)]
struct WorkerArgs {
    /// The file the worker notes its progress in.
    #[arg(long, value_name = "PATH")]
    progress: PathBuf,
}

/// Where each run plays.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum IsolationMode {
    /// In this process (fastest; a crash or hang of an implementation ends the harness).
    None,
    /// In worker processes: a crash or hang costs that run only.
    Process,
}

/// Which transports the runs go over.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum TransportArg {
    Memory,
    Tcp,
    /// Every run over both; the report lists where they differ.
    Both,
}

#[derive(clap::Args)]
struct FuzzSeedsArgs {
    /// differential, invariants or scenario_file.
    target: String,
    /// The corpus folder to fill.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// How many generated inputs (differential, invariants).
    #[arg(long, default_value_t = 64)]
    count: u64,
}

/// Files rendered from the report, besides the JSON.
#[derive(clap::Args)]
struct OutputArgs {
    /// Write JUnit XML (one testcase per run × implementation) to PATH.
    #[arg(long, value_name = "PATH")]
    junit: Option<PathBuf>,
    /// Write a Markdown summary (for a pull request or $GITHUB_STEP_SUMMARY) to PATH.
    #[arg(long, value_name = "PATH")]
    markdown: Option<PathBuf>,
    /// Write the self-contained HTML page (matrix and step-by-step comparisons) to PATH.
    #[arg(long, value_name = "PATH")]
    html: Option<PathBuf>,
}

#[derive(clap::Args)]
struct ReportArgs {
    /// A report written by `sslwrite conformance` (reports/conformance.json).
    path: PathBuf,
    #[command(flatten)]
    outputs: OutputArgs,
    /// Print this scenario's runs side by side instead of the table.
    #[arg(long, value_name = "ID")]
    explain: Option<String>,
    /// Print only the summary.
    #[arg(long)]
    quiet: bool,
    /// Print the behaviour matrix under the table: every step where the implementations do
    /// not all agree, one column per implementation.
    #[arg(long)]
    matrix: bool,
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

#[derive(clap::Args)]
struct ListArgs {
    /// Folder of scenario files.
    #[arg(long)]
    scenarios: Option<PathBuf>,
}

#[derive(clap::Args)]
struct ConformanceArgs {
    /// Implementation to run (repeatable; default: all built in): a name (openssl, rustls), or
    /// libssl:PATH[@label], a libssl-compatible library loaded at run time in worker processes
    /// of its own (PATH as the loader takes it: libssl.so.3, target/openssl-3.6.3/lib64/libssl.so.3).
    #[arg(long = "impl", value_name = "NAME")]
    impls: Vec<String>,
    /// The implementation every other one is compared with (a column name); default: the
    /// linked openssl when it runs, else the first --impl.
    #[arg(long, value_name = "NAME")]
    reference: Option<String>,
    /// Only scenarios whose id matches this glob (or runs, if it contains '/').
    #[arg(long, value_name = "GLOB")]
    filter: Option<String>,
    /// Only runs under this TLS version.
    #[arg(long, value_name = "1.2|1.3", value_parser = parse_tls)]
    tls: Option<Tls>,
    /// Play only the I-th of N shards of the selected runs (1 <= I <= N; `sslwrite merge`
    /// joins the shards' reports).
    #[arg(long, value_name = "I/N")]
    shard: Option<ShardSpec>,
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
    /// Treat warnings (stale known-divergence entries; with --baseline, runs better than the
    /// baseline) as failures.
    #[arg(long)]
    strict: bool,
    /// Fail (exit 1) on queue and wire differences no known entry explains; without it they are
    /// reported and never change the exit status.
    #[arg(long)]
    strict_aspects: bool,
    #[command(flatten)]
    outputs: OutputArgs,
    /// Compare with an earlier report; exit 1 only on a regression against it.
    #[arg(long, value_name = "PATH")]
    baseline: Option<PathBuf>,
    /// Print this scenario's runs side by side instead of the table (runs only it, unless
    /// --filter says otherwise).
    #[arg(long, value_name = "ID")]
    explain: Option<String>,
    /// Print the notes and known reasons under the table, and the behaviour matrix.
    #[arg(long)]
    verbose: bool,
    /// Print the behaviour matrix under the table: every step where the implementations do
    /// not all agree, one column per implementation.
    #[arg(long)]
    matrix: bool,
    /// Play each run in a worker process (default) or in this one.
    #[arg(long, value_enum, default_value = "process")]
    isolation: IsolationMode,
    /// With process isolation: a run that takes longer than this many seconds is killed and
    /// gets the status `timeout`.
    #[arg(long, value_name = "SECONDS", default_value_t = sslwrite::isolation::DEFAULT_TIMEOUT.as_secs_f64())]
    timeout: f64,
    /// The in-memory pipe, loopback TCP sockets on 127.0.0.1, or both (compared).
    #[arg(long, value_enum, default_value = "memory")]
    transport: TransportArg,
}

/// The longest `--timeout` (a day): larger values would overflow a `Duration`.
const MAX_TIMEOUT_SECONDS: f64 = 86_400.0;

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
        Command::FuzzSeeds(a) => fuzz_seeds(a),
        Command::FuzzTriage(a) => cli::fuzz_triage::run(a),
        Command::Compare(a) => cli::compare::run(a),
        Command::Merge(a) => cli::merge::run(a),
        Command::Worker(a) => ExitCode::from(sslwrite::isolation::worker_main(&a.progress)),
        Command::Bench(a) => bench(a),
        Command::BenchBulk(a) => bench_bulk(a),
        Command::BenchStartup => bench_startup(),
        Command::BenchLoop(a) => bench_loop(a),
        Command::Report(a) => report(a),
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

/// `rel` under the project root found at run time; the error (exit 2) says how to name it.
fn in_root(rel: &str) -> Result<PathBuf, ExitCode> {
    find_project_root().map(|r| r.join(rel)).map_err(|e| {
        eprintln!("error: {e}");
        ExitCode::from(2)
    })
}

fn list(a: ListArgs) -> ExitCode {
    let dir = match a.scenarios.map_or_else(|| in_root("scenarios"), Ok) {
        Ok(d) => d,
        Err(code) => return code,
    };
    let scenarios = match load(&dir) {
        Ok(s) => s,
        Err(code) => return code,
    };
    for s in &scenarios {
        let clauses: Vec<&str> = s.clauses.iter().map(|c| c.0.as_str()).collect();
        println!(
            "{}  [{}]  {}",
            s.id,
            clauses.join(","),
            render::terminal_safe(&s.title)
        );
        for k in s.runs() {
            println!("    {k}");
        }
    }
    ExitCode::SUCCESS
}

fn conformance(a: ConformanceArgs) -> ExitCode {
    let started = (SystemTime::now(), Instant::now());
    let dir = match a.scenarios.map_or_else(|| in_root("scenarios"), Ok) {
        Ok(d) => d,
        Err(code) => return code,
    };
    let scenarios = match load(&dir) {
        Ok(s) => s,
        Err(code) => return code,
    };
    if let Some(k) = a.known.as_ref().filter(|k| !k.exists()) {
        // The default file may be absent (a folder of scenarios without one); a file named
        // on the command line must exist, or its entries would silently not apply.
        eprintln!(
            "error: --known {}: no such file; give the known-divergences file to use, or leave --known out",
            k.display()
        );
        return ExitCode::from(2);
    }
    let known_path = a.known.unwrap_or_else(|| dir.join(KNOWN_DIVERGENCES_FILE));
    let known = match Known::load(&known_path) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let (names, infos, list) =
        match implementations(&a.impls, a.reference.as_deref(), a.isolation, a.timeout) {
            Ok(chosen) => chosen,
            Err(code) => return code,
        };
    let baseline = match a.baseline.as_deref().map(Report::read).transpose() {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: --baseline: {e}");
            return ExitCode::from(2);
        }
    };
    let filter = a
        .filter
        .clone()
        .or_else(|| a.explain.as_deref().map(glob::Pattern::escape));
    let filter = match filter_glob(filter.as_deref()) {
        Ok(f) => f,
        Err(code) => return code,
    };
    let selection = Selection { filter, tls: a.tls };
    let runs = selection.runs(&scenarios);
    if scenarios.is_empty() {
        eprintln!(
            "error: {}: no scenario files (*.json) in this folder; nothing to do",
            dir.display()
        );
        return ExitCode::from(2);
    }
    if runs.is_empty() {
        eprintln!("error: no scenario run matches the selection (--filter/--tls); nothing to do");
        return ExitCode::from(2);
    }
    let transports = match a.transport {
        TransportArg::Memory => vec![TransportKind::Memory],
        TransportArg::Tcp => vec![TransportKind::Tcp],
        TransportArg::Both => vec![TransportKind::Memory, TransportKind::Tcp],
    };
    let (runs, shard) = match a.shard {
        None => (runs, None),
        Some(spec) => {
            let plan = shard_plan(spec, &runs, &transports, &known_path);
            (spec.select(&runs), Some(plan))
        }
    };
    let jobs = a
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    if !(a.timeout > 0.0 && a.timeout <= MAX_TIMEOUT_SECONDS) {
        eprintln!(
            "error: --timeout must be a positive number of seconds, at most {MAX_TIMEOUT_SECONDS} (a day)"
        );
        return ExitCode::from(2);
    }
    if let Err(e) = sslwrite::sys::install_stop_handlers() {
        eprintln!("error: cannot install the SIGINT/SIGTERM handlers: {e}");
        return ExitCode::from(2);
    }
    let bar = progress(
        (runs.len() * names.len() * transports.len()) as u64,
        a.quiet,
    );
    let (mut played, mut kinds) = (Vec::new(), Vec::new());
    for &t in &transports {
        let traces = match play(
            (a.isolation, a.timeout),
            &runs,
            &names,
            &list,
            jobs,
            t,
            &|| bar.inc(1),
        ) {
            Ok(t) => t,
            Err(code) => return code,
        };
        for (run, traces) in runs.iter().zip(traces) {
            played.push((run.clone(), traces));
            kinds.push(t);
        }
    }
    bar.finish_and_clear();
    // What an interrupted suite has: the runs every implementation finished.
    let complete = played.iter().all(|(_, t)| t.is_some());
    let (mut done, mut traces, mut done_kinds) = (Vec::new(), Vec::new(), Vec::new());
    for ((run, t), kind) in played.into_iter().zip(kinds) {
        if let Some(t) = t {
            done.push(run);
            traces.push(t);
            done_kinds.push(kind);
        }
    }
    let stopped = sslwrite::sys::stop_requested();
    let report = suite::assemble_with(
        &done,
        traces,
        &infos,
        &known,
        started,
        std::env::args().collect(),
        &suite::AssembleOptions {
            transports: done_kinds,
            complete: complete && stopped.is_none(),
            shard,
        },
    );
    if let Some(sig) = stopped {
        eprintln!(
            "sslwrite: stopped by {}: {} of {} runs finished; the report is marked incomplete",
            sslwrite::sys::signal_name(sig),
            report.scenarios.len(),
            runs.len() * transports.len()
        );
    }
    let detail = Detail {
        notes: a.verbose,
        matrix: a.matrix || a.verbose,
    };
    if let Err(code) = show(&report, a.explain.as_deref(), a.quiet, detail) {
        return code;
    }
    if let Some(s) = report.shard.as_ref().filter(|_| !a.quiet) {
        println!(
            "shard {}/{}: {} of the selection's {} runs (sslwrite merge joins the shards' reports)",
            s.index,
            s.count,
            report.scenarios.len(),
            s.suite.len()
        );
    }
    let comparison = baseline
        .as_ref()
        .zip(a.baseline.as_deref())
        .map(|(b, p)| render::baseline::compare(b, &report, &p.display().to_string()));
    if let Some(c) = &comparison {
        print!("{}", c.text());
        for w in c.improvements() {
            println!("warning: {w}");
        }
    }
    // Only a full run writes the default report: a partial one (--filter, --tls, --explain,
    // --shard) would replace the suite's report with a few runs; it writes where --json says.
    let partial = a.filter.is_some() || a.tls.is_some() || a.explain.is_some() || a.shard.is_some();
    let json = match (a.json, partial) {
        (Some(j), _) => Some(j),
        (None, false) => match in_root("reports/conformance.json") {
            Ok(p) => Some(p),
            Err(code) => return code,
        },
        (None, true) => None,
    };
    if let Some(json) = &json {
        if let Err(e) = report.write(json) {
            eprintln!("error: the report could not be written: {e}");
            return ExitCode::from(2);
        }
        if !a.quiet {
            println!("report: {}", json.display());
        }
    } else if !a.quiet {
        println!("report: not written (a partial run writes its report only where --json says)");
    }
    if let Err(code) = a.outputs.write(&report, comparison.as_ref(), a.quiet) {
        return code;
    }
    if let Some(sig) = stopped {
        return ExitCode::from(sslwrite::sys::stop_exit_code(sig));
    }
    if let Some(code) = strict_aspects(&report, a.strict_aspects) {
        return code;
    }
    exit_status(&report, comparison.as_ref(), a.strict)
}

/// With --strict-aspects, 1 when a queue or wire difference is unexplained (unless a run
/// erred: that is 2, from [`exit_status`]).
fn strict_aspects(report: &Report, on: bool) -> Option<ExitCode> {
    let errored = report.summary.verdicts.get("error").copied().unwrap_or(0) > 0;
    let n = report.summary.aspects.unexplained;
    if !on || errored || n == 0 {
        return None;
    }
    eprintln!("sslwrite: --strict-aspects: {n} queue/wire difference(s) no known entry explains");
    Some(ExitCode::from(1))
}

/// What a shard's report records besides its runs: the names of every run of the selection
/// (over every transport, in the order the whole run reports them) and a digest of the scenario
/// files and the known-divergence file (an unreadable file counts as empty: it was read
/// already, or the run would not have started).
fn shard_plan(
    spec: ShardSpec,
    runs: &[(&scenario::Scenario, scenario::RunKey)],
    transports: &[TransportKind],
    known: &std::path::Path,
) -> ShardPlan {
    let suite = transports
        .iter()
        .flat_map(|&t| runs.iter().map(move |(_, k)| suite::run_name(k, t)))
        .collect();
    let mut files: Vec<&std::path::Path> = runs.iter().map(|(s, _)| s.path.as_path()).collect();
    files.dedup();
    files.push(known);
    let contents: Vec<Vec<u8>> = files
        .iter()
        .map(|p| std::fs::read(p).unwrap_or_default())
        .collect();
    ShardPlan {
        spec,
        suite,
        digest: sslwrite::shard::digest(contents.iter().map(Vec::as_slice)),
    }
}

/// The implementations to run, the reference first: their `--impl` names (what a worker
/// builds), their descriptions (the report's columns) and the ones built in this process (for
/// `--isolation none`). A `libssl:` library is never loaded here: a worker loads it and
/// describes it (version, build, missing symbols), or says why it cannot be used.
#[allow(clippy::type_complexity)]
fn implementations(
    given: &[String],
    reference: Option<&str>,
    isolation: IsolationMode,
    timeout: f64,
) -> Result<(Vec<String>, Vec<ImplInfo>, Vec<Box<dyn Implementation>>), ExitCode> {
    let names: Vec<String> = if given.is_empty() {
        impls::NAMES.iter().map(|s| s.to_string()).collect()
    } else {
        given.to_vec()
    };
    let fail = |e: String| {
        eprintln!("error: {e}");
        ExitCode::from(2)
    };
    let mut chosen = Vec::new();
    for n in &names {
        if impls::is_loaded(n) {
            if isolation == IsolationMode::None {
                return Err(fail(format!(
                    "{n}: a loaded library runs only in worker processes of its own; drop --isolation none"
                )));
            }
            let exe = std::env::current_exe().map_err(|e| {
                fail(format!(
                    "cannot find the sslwrite binary for the workers: {e}"
                ))
            })?;
            let iso = sslwrite::isolation::Isolation {
                exe,
                timeout: std::time::Duration::try_from_secs_f64(timeout)
                    .unwrap_or(sslwrite::isolation::DEFAULT_TIMEOUT),
            };
            let info = sslwrite::isolation::describe(&iso, n).map_err(fail)?;
            chosen.push((n.clone(), info, None));
        } else {
            let imp = impls::by_name(n).map_err(fail)?;
            chosen.push((n.clone(), imp.info(), Some(imp)));
        }
    }
    for (i, (_, info, _)) in chosen.iter().enumerate() {
        if chosen[..i].iter().any(|(_, o, _)| o.name == info.name) {
            return Err(fail(format!(
                "two implementations are called {:?}; label a library (libssl:PATH@label)",
                info.name
            )));
        }
    }
    let column = |name: &str| chosen.iter().position(|(_, i, _)| i.name == name);
    let reference = match reference {
        Some(r) => column(r).ok_or_else(|| {
            let all: Vec<&str> = chosen.iter().map(|(_, i, _)| i.name.as_str()).collect();
            fail(format!(
                "--reference {r:?} is not one of the implementations ({})",
                all.join(", ")
            ))
        })?,
        None => column(impls::openssl::OpensslImpl::NAME).unwrap_or(0),
    };
    let first = chosen.remove(reference);
    chosen.insert(0, first);
    let mut out = (Vec::new(), Vec::new(), Vec::new());
    for (name, info, imp) in chosen {
        out.0.push(name);
        out.1.push(info);
        out.2.extend(imp);
    }
    Ok(out)
}

/// Plays the runs over one transport, in worker processes or in this one. `None` for a run
/// that a stop signal cut short.
#[allow(clippy::too_many_arguments)]
fn play(
    (isolation, timeout): (IsolationMode, f64),
    runs: &[(&scenario::Scenario, scenario::RunKey)],
    names: &[String],
    list: &[Box<dyn Implementation>],
    jobs: usize,
    transport: TransportKind,
    on_done: &(dyn Fn() + Sync),
) -> Result<Vec<Option<Vec<sslwrite::runner::Trace>>>, ExitCode> {
    match isolation {
        IsolationMode::None => {
            let reference = impls::openssl::OpensslImpl::new();
            Ok(suite::play_with(
                runs, list, &reference, jobs, on_done, transport,
            ))
        }
        IsolationMode::Process => {
            let exe = match std::env::current_exe() {
                Ok(p) => p,
                Err(e) => {
                    eprintln!("error: cannot find the sslwrite binary for the workers: {e}");
                    return Err(ExitCode::from(2));
                }
            };
            let iso = sslwrite::isolation::Isolation {
                exe,
                timeout: std::time::Duration::from_secs_f64(timeout),
            };
            sslwrite::isolation::play(runs, names, transport, &iso, jobs, on_done).map_err(|e| {
                eprintln!("error: {e}");
                ExitCode::from(2)
            })
        }
    }
}

/// 2 when a run erred (the harness failed); with a baseline, 1 only on a regression (with
/// --strict also on warnings and better-than-baseline runs); without one, 1 on any unexplained
/// divergence or violation (with --strict also on warnings); else 0.
fn exit_status(report: &Report, baseline: Option<&Comparison>, strict: bool) -> ExitCode {
    if report.summary.verdicts.get("error").copied().unwrap_or(0) > 0 {
        return ExitCode::from(2);
    }
    let (failed, warnings) = match baseline {
        Some(c) => (c.regressed(), report.warnings.len() + c.fixed.len()),
        None => (!report.summary.passed, report.warnings.len()),
    };
    if failed {
        return ExitCode::from(1);
    }
    if strict && warnings > 0 {
        eprintln!("sslwrite: --strict: {warnings} warning(s) count as failures");
        for (name, ids) in &report.summary.stale_entries {
            eprintln!("sslwrite: --strict: unused for {name}: {}", ids.join(", "));
        }
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}

/// The progress bar over runs × implementations: drawn only for a person watching (stdout is
/// a terminal, not CI, not --quiet).
fn progress(total: u64, quiet: bool) -> indicatif::ProgressBar {
    if quiet || !std::io::stdout().is_terminal() || std::env::var_os("CI").is_some() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(total),
        indicatif::ProgressDrawTarget::stderr(),
    );
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{wide_bar} {pos}/{len} runs × implementations, about {eta} left",
    ) {
        bar.set_style(style);
    }
    bar
}

/// What `show` prints under the tables.
#[derive(Clone, Copy, Default)]
struct Detail {
    /// Notes and known reasons run by run (`--verbose`).
    notes: bool,
    /// The behaviour matrix (`--matrix`, `--verbose`).
    matrix: bool,
}

/// Prints the table (coloured on a terminal unless NO_COLOR is set), or one scenario side by
/// side, then the summary. `--quiet`: the summary only.
fn show(
    report: &Report,
    explain: Option<&str>,
    quiet: bool,
    detail: Detail,
) -> Result<(), ExitCode> {
    if let Some(id) = explain {
        match render::explain::explain(report, id) {
            Ok(text) => println!("{}", render::terminal_safe(&text)),
            Err(e) => {
                eprintln!("error: --explain: {e}");
                return Err(ExitCode::from(2));
            }
        }
    } else if !quiet {
        let color = std::io::stdout().is_terminal()
            && std::env::var_os("NO_COLOR").is_none()
            && std::env::var_os("CI").is_none();
        print!("{}", report.table_styled(color));
        println!();
        print!("{}", report.clause_table());
        println!();
        if detail.notes {
            print!("{}", render::terminal_safe(&report.details_text()));
            println!();
            let aspects = render::aspects::text(report, render::aspects::MAX_ROWS);
            if !aspects.is_empty() {
                print!("{}", render::terminal_safe(&aspects));
                println!();
            }
        }
        if detail.matrix {
            let text = render::matrix::text(report, render::matrix::MAX_ROWS);
            if text.is_empty() {
                println!("behaviour matrix: every implementation observed the same at every step");
            } else {
                print!("{}", render::terminal_safe(&text));
            }
            println!();
        }
    }
    print!("{}", render::terminal_safe(&report.summary_text()));
    Ok(())
}

impl OutputArgs {
    /// Renders and writes each requested file atomically; an error names the file (exit 2).
    fn write(
        &self,
        report: &Report,
        baseline: Option<&Comparison>,
        quiet: bool,
    ) -> Result<(), ExitCode> {
        let mut files = Vec::new();
        if let Some(p) = &self.junit {
            files.push(("JUnit XML", p, render::junit::render(report)));
        }
        if let Some(p) = &self.markdown {
            let text = render::markdown::render(report, baseline);
            files.push(("Markdown summary", p, text));
        }
        if let Some(p) = &self.html {
            files.push(("HTML page", p, render::html::render(report)));
        }
        for (what, path, text) in files {
            if let Err(e) = render::write_atomic(path, text.as_bytes()) {
                eprintln!("error: the {what} could not be written: {e}");
                return Err(ExitCode::from(2));
            }
            if !quiet {
                println!("{what}: {}", path.display());
            }
        }
        Ok(())
    }
}

/// `sslwrite report PATH.json`: the table (or one scenario) and the summary of a saved report,
/// and the files asked for. Exit 0 once rendered; 2 when the report cannot be read or a file
/// cannot be written.
fn report(a: ReportArgs) -> ExitCode {
    let report = match Report::read(&a.path) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let detail = Detail {
        notes: false,
        matrix: a.matrix,
    };
    if let Err(code) = show(&report, a.explain.as_deref(), a.quiet, detail) {
        return code;
    }
    match a.outputs.write(&report, None, a.quiet) {
        Ok(()) => ExitCode::SUCCESS,
        Err(code) => code,
    }
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
    let names = if a.impls.is_empty() {
        sslwrite::fuzzing::oracle::impls_from_env()
    } else {
        a.impls.clone()
    };
    let oracles =
        match sslwrite::fuzzing::Oracles::open(&names, sslwrite::fuzzing::Oracles::project_known())
        {
            Ok(o) => o,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        };
    for lack in oracles.narrowing.lacks() {
        eprintln!("not generated: {lack}");
    }
    if a.scenario_only {
        return match oracles.generate(&bytes) {
            Ok(g) => {
                print!("{}", g.scenario.to_json());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: the input does not make a scenario: {e}");
                ExitCode::from(2)
            }
        };
    }
    match sslwrite::fuzzing::replay::replay(&oracles, &bytes, a.out.as_deref()) {
        Ok(r) => {
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

fn fuzz_seeds(a: FuzzSeedsArgs) -> ExitCode {
    if let Err(e) = std::fs::create_dir_all(&a.out) {
        eprintln!("error: cannot create {}: {e}", a.out.display());
        return ExitCode::from(2);
    }
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    match a.target.as_str() {
        "differential" | "invariants" => {
            for seed in 0..a.count {
                files.push((
                    format!("seed-{seed:04}"),
                    sslwrite::fuzzing::seed_bytes(seed, 256),
                ));
            }
        }
        "scenario_file" => {
            let dir = match in_root("scenarios") {
                Ok(d) => d,
                Err(code) => return code,
            };
            let Ok(entries) = std::fs::read_dir(&dir) else {
                eprintln!("error: cannot list {}", dir.display());
                return ExitCode::from(2);
            };
            for e in entries.flatten() {
                if let Ok(bytes) = std::fs::read(e.path()) {
                    files.push((e.file_name().to_string_lossy().into_owned(), bytes));
                }
            }
        }
        other => {
            eprintln!(
                "error: unknown fuzz target {other:?} (differential, invariants, scenario_file)"
            );
            return ExitCode::from(2);
        }
    }
    for (name, bytes) in &files {
        let path = a.out.join(name);
        if let Err(e) = std::fs::write(&path, bytes) {
            eprintln!("error: cannot write {}: {e}", path.display());
            return ExitCode::from(2);
        }
    }
    println!("{} seed(s) in {}", files.len(), a.out.display());
    ExitCode::SUCCESS
}

fn all_impls() -> Vec<Box<dyn Implementation>> {
    impls::NAMES
        .iter()
        .map(|n| impls::by_name(n).expect("built-in implementation"))
        .collect()
}

fn bench_bulk(a: BenchBulkArgs) -> ExitCode {
    let imp = impls::openssl::OpensslImpl::new();
    let seconds = match a.which.as_str() {
        "harness" => sslwrite::bench::bulk_through_harness(&imp, a.bytes, a.chunk),
        "bare" => sslwrite::bench::bulk_bare(&imp, a.bytes, a.chunk),
        other => {
            eprintln!("error: bench-bulk takes harness or bare, not {other:?}");
            return ExitCode::from(2);
        }
    };
    println!(
        "{{\"seconds\": {seconds}, \"peak_rss_mib\": {}}}",
        sslwrite::bench::peak_rss_mib()
    );
    ExitCode::SUCCESS
}

/// `--filter` as a glob, or the message and exit status 2.
fn filter_glob(filter: Option<&str>) -> Result<Option<glob::Pattern>, ExitCode> {
    filter.map(glob::Pattern::new).transpose().map_err(|e| {
        eprintln!("error: --filter is not a valid glob: {e}");
        ExitCode::from(2)
    })
}

fn bench_loop(a: BenchLoopArgs) -> ExitCode {
    let scenarios = match in_root("scenarios").and_then(|d| load(&d)) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let filter = match filter_glob(a.filter.as_deref()) {
        Ok(f) => f,
        Err(code) => return code,
    };
    let runs = sslwrite::suite::Selection { filter, tls: None }.runs(&scenarios);
    if runs.is_empty() {
        eprintln!("error: --filter selects no run");
        return ExitCode::from(2);
    }
    let list = all_impls();
    let reference = impls::openssl::OpensslImpl::new();
    let t = std::time::Instant::now();
    for _ in 0..a.passes {
        drop(sslwrite::suite::play(&runs, &list, &reference, 1, &|| {}));
    }
    let secs = t.elapsed().as_secs_f64();
    let n = runs.len() * list.len() * a.passes;
    println!(
        "{n} runs in {secs:.3} s ({:.0} us per run)",
        secs * 1e6 / n as f64
    );
    ExitCode::SUCCESS
}

fn bench_startup() -> ExitCode {
    let scenarios = match in_root("scenarios").and_then(|d| load(&d)) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let list = all_impls();
    let _ = sslwrite::certs::pki();
    let _ = (scenarios.len(), list.len());
    ExitCode::SUCCESS
}

/// Runs this binary's hidden `args` subcommand and parses the JSON line it prints.
fn child_json(args: &[String]) -> Result<serde_json::Value, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this binary: {e}"))?;
    let out = std::process::Command::new(exe)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run a bench child: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "bench child {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    serde_json::from_slice(&out.stdout).map_err(|e| format!("bench child output: {e}"))
}

fn bench(a: BenchArgs) -> ExitCode {
    use sslwrite::bench as b;
    let scenarios = match in_root("scenarios").and_then(|d| load(&d)) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let list = all_impls();
    let reps = a.reps.max(1);
    eprintln!("bench: suite throughput and handshake floor ({reps} repetitions)...");
    let suite = b::suite_bench(&scenarios, &list, reps);
    eprintln!("bench: worker isolation (the whole suite as a child, process vs none)...");
    let mut suite = suite;
    let whole = |isolation: &str, jobs: &str| -> Option<f64> {
        let exe = std::env::current_exe().ok()?;
        let out = std::env::temp_dir().join(format!("sslwrite-bench-{}.json", std::process::id()));
        let mut times = Vec::new();
        for _ in 0..reps {
            let t = std::time::Instant::now();
            let ok = std::process::Command::new(&exe)
                .args([
                    "conformance",
                    "--quiet",
                    "--jobs",
                    jobs,
                    "--isolation",
                    isolation,
                ])
                .arg("--json")
                .arg(&out)
                .stdout(std::process::Stdio::null())
                .status()
                .ok()?
                .code()
                .is_some_and(|c| c <= 1);
            if ok {
                times.push(t.elapsed().as_secs_f64());
            }
        }
        let _ = std::fs::remove_file(&out);
        times.sort_by(f64::total_cmp);
        times.get(times.len() / 2).copied()
    };
    suite.isolated_seconds_2_threads = whole("process", "2");
    suite.whole_run_in_process_seconds_2_threads = whole("none", "2");
    suite.isolated_seconds_1_thread = whole("process", "1");
    suite.whole_run_in_process_seconds_1_thread = whole("none", "1");
    eprintln!("bench: scaling...");
    let mut scaling = b::scaling_bench(&scenarios, &list, reps.min(3));
    let exe = std::env::current_exe();
    let startup: Vec<f64> = (0..reps)
        .filter_map(|_| {
            let t = std::time::Instant::now();
            let ok = exe
                .as_ref()
                .ok()
                .and_then(|e| {
                    std::process::Command::new(e)
                        .arg("bench-startup")
                        .status()
                        .ok()
                })
                .is_some_and(|s| s.success());
            ok.then(|| t.elapsed().as_secs_f64())
        })
        .collect();
    if !startup.is_empty() {
        let mut s = startup;
        s.sort_by(f64::total_cmp);
        scaling.startup_seconds = Some(s[s.len() / 2]);
    }
    eprintln!("bench: fuzz oracles...");
    let fuzz = b::fuzz_bench(200);
    let mut bulk = Vec::new();
    if a.bulk_mib > 0 {
        let bytes = a.bulk_mib << 20;
        let pairs = reps.max(5);
        for chunk in b::BULK_CHUNKS {
            eprintln!(
                "bench: bulk path, {} MiB in {} KiB writes ({pairs} pairs of harness and bare runs, each in its own process)...",
                a.bulk_mib,
                chunk >> 10
            );
            match bulk_pairs(bytes, chunk, pairs) {
                Ok(r) => bulk.push(r),
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::from(2);
                }
            }
        }
    }
    let report = b::BenchReport {
        schema_version: b::BENCH_SCHEMA,
        harness_version: env!("CARGO_PKG_VERSION").into(),
        host: std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_string())
            .unwrap_or_default(),
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        repetitions: reps,
        suite,
        bulk,
        fuzz,
        scaling,
    };
    print!("{}", bench_text(&report));
    let path = match a.json.map_or_else(|| in_root("reports/bench.json"), Ok) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let text = serde_json::to_vec_pretty(&report).expect("bench report serializes");
    if let Err(e) = sslwrite::render::write_atomic(&path, &text) {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    println!("figures: {}", path.display());
    ExitCode::SUCCESS
}

/// The bulk path at one write size: `pairs` harness runs and bare runs back to back, each in a
/// process of its own (for its peak RSS).
fn bulk_pairs(
    bytes: u64,
    chunk: usize,
    pairs: usize,
) -> Result<sslwrite::bench::BulkBench, String> {
    let one = |which: &str| -> Result<(f64, f64), String> {
        let v = child_json(&[
            "bench-bulk".into(),
            which.into(),
            bytes.to_string(),
            "--chunk".into(),
            chunk.to_string(),
        ])?;
        Ok((
            v["seconds"].as_f64().unwrap_or(f64::NAN),
            v["peak_rss_mib"].as_f64().unwrap_or(0.0),
        ))
    };
    let (mut h, mut b, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    let (mut h_rss, mut b_rss) = (0.0f64, 0.0f64);
    for _ in 0..pairs {
        let (hs, hr) = one("harness")?;
        let (bs, br) = one("bare")?;
        h.push(hs);
        b.push(bs);
        ratios.push(hs / bs);
        h_rss = h_rss.max(hr);
        b_rss = b_rss.max(br);
    }
    let median = sslwrite::bench::median;
    ratios.sort_by(f64::total_cmp);
    Ok(sslwrite::bench::BulkBench {
        bytes,
        chunk,
        harness_seconds: median(h),
        bare_seconds: median(b),
        ratio: median(ratios.clone()),
        pair_ratios: ratios,
        harness_peak_rss_mib: h_rss,
        bare_peak_rss_mib: b_rss,
    })
}

fn bench_text(r: &sslwrite::bench::BenchReport) -> String {
    let s = &r.suite;
    let mut out = format!(
        "suite: {} runs; 1 thread {:.3} s ({:.0} runs/s), 2 threads {:.3} s ({:.0} runs/s), speed-up {:.2}x\n",
        s.runs, s.seconds_1_thread, s.runs_per_second_1_thread, s.seconds_2_threads, s.runs_per_second_2_threads, s.speedup_2_threads
    );
    for h in &s.handshake_us {
        out.push_str(&format!(
            "  bare handshake {} TLS {} as {}: {:.0} us\n",
            h.implementation, h.tls, h.role, h.microseconds
        ));
    }
    out.push_str(&format!(
        "  handshake floor for the suite ({} handshakes) {:.3} s; overhead (1 thread) {:.2}x the floor\n",
        s.handshakes, s.handshake_floor_seconds, s.overhead_vs_floor
    ));
    let per_mib: Vec<String> = s
        .bare_us_per_mib
        .iter()
        .map(|(n, us)| format!("{n} {us:.0} us/MiB"))
        .collect();
    out.push_str(&format!(
        "  physical floor (handshakes + {} MiB moved at the bare loop's cost: {}) {:.3} s; overhead {:.2}x\n",
        s.bytes_moved >> 20,
        per_mib.join(", "),
        s.physical_floor_seconds,
        s.overhead_vs_physical_floor
    ));
    if !s.above_floor.is_empty() {
        out.push_str(
            "  furthest above their own floor (seconds taken / floor, all runs of the scenario):\n",
        );
        for c in &s.above_floor {
            out.push_str(&format!(
                "    {:<40} {:.4} s / {:.4} s (+{:.1} ms)\n",
                c.scenario,
                c.seconds,
                c.floor_seconds,
                (c.seconds - c.floor_seconds) * 1e3
            ));
        }
    }
    for (threads, isolated, in_process) in [
        (
            1,
            s.isolated_seconds_1_thread,
            s.whole_run_in_process_seconds_1_thread,
        ),
        (
            2,
            s.isolated_seconds_2_threads,
            s.whole_run_in_process_seconds_2_threads,
        ),
    ] {
        if let (Some(p), Some(n)) = (isolated, in_process) {
            out.push_str(&format!(
                "  whole `conformance` run, {threads} thread(s): isolated {p:.3} s, in-process {n:.3} s, ratio {:.2}x\n",
                p / n
            ));
        }
    }
    for b in &r.bulk {
        let (lo, hi) = (
            b.pair_ratios.first().copied().unwrap_or(f64::NAN),
            b.pair_ratios.last().copied().unwrap_or(f64::NAN),
        );
        out.push_str(&format!(
            "bulk {} MiB in {} KiB writes: harness {:.3} s, bare {:.3} s, ratio {:.3}x (median of {} pairs, {lo:.3}..{hi:.3}); peak RSS harness {:.0} MiB, bare {:.0} MiB\n",
            b.bytes >> 20, b.chunk >> 10, b.harness_seconds, b.bare_seconds, b.ratio, b.pair_ratios.len(), b.harness_peak_rss_mib, b.bare_peak_rss_mib
        ));
    }
    out.push_str(&format!(
        "fuzz ({} inputs): differential {:.0} execs/s",
        r.fuzz.inputs, r.fuzz.differential_execs_per_second
    ));
    for (n, e) in &r.fuzz.invariants_execs_per_second {
        out.push_str(&format!(", invariants[{n}] {e:.0} execs/s"));
    }
    out.push('\n');
    let sc = &r.scaling;
    out.push_str(&format!(
        "scaling: {} runs {:.3} s, {} runs {:.3} s, ratio {:.2} (2.00 is linear)",
        sc.n_runs,
        sc.n_seconds,
        sc.n_runs * 2,
        sc.two_n_seconds,
        sc.ratio
    ));
    if let Some(st) = sc.startup_seconds {
        out.push_str(&format!("; start-up of an empty run {:.3} s", st));
    }
    out.push('\n');
    out
}
