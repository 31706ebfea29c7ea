//! `sslwrite conformance`: every scenario on every implementation (or the selection `--filter`,
//! `--tls`, `--explain`, `--shard` make), diffed against the reference; the table, the JSON
//! report and the files asked for. Exit 0 clean; 1 an unexplained divergence or violation
//! (with `--baseline`, a regression against it; with `--strict`, a warning; with
//! `--strict-aspects`, an unexplained queue or wire difference); 2 a run erred or the harness
//! could not do what was asked; 128 + N when signal N stopped it (the report is written, marked
//! incomplete).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Instant, SystemTime};

use sslwrite::contract::{ImplInfo, Implementation, Tls};
use sslwrite::impls;
use sslwrite::known::Known;
use sslwrite::render;
use sslwrite::report::Report;
use sslwrite::scenario::{self, KNOWN_DIVERGENCES_FILE};
use sslwrite::shard::{ShardPlan, ShardSpec};
use sslwrite::suite::{self, Selection};
use sslwrite::transport::TransportKind;

use super::output::{self, Detail, OutputArgs};
use super::{filter_glob, in_root, load, Failure, Outcome};

/// Where each run plays.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(super) enum IsolationMode {
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
pub struct ConformanceArgs {
    /// Implementation to run (repeatable; default: all built in): a name (openssl, rustls), or
    /// libssl:PATH[@label], a libssl-compatible library loaded at run time in worker processes
    /// of its own (PATH as the loader takes it: libssl.so.3, target/openssl-3.6.3/lib64/libssl.so.3).
    #[arg(long = "impl", value_name = "NAME")]
    impls: Vec<String>,
    /// The implementation every other one is compared with (a column name); default: the
    /// linked openssl when it runs, else the first --impl.
    #[arg(long, value_name = "NAME")]
    reference: Option<String>,
    /// The peer every run plays against, the second party of each connection (not an
    /// implementation under test; the report records it): a name as --impl takes (openssl,
    /// rustls, libssl:PATH[@label], wolfssl:PATH[@label]). Default: the linked openssl.
    #[arg(long, value_name = "NAME")]
    peer: Option<String>,
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

pub fn run(a: ConformanceArgs) -> Outcome {
    let started = (SystemTime::now(), Instant::now());
    let dir = a.scenarios.map_or_else(|| in_root("scenarios"), Ok)?;
    let scenarios = load(&dir)?;
    if let Some(k) = a.known.as_ref().filter(|k| !k.exists()) {
        // The default file may be absent (a folder of scenarios without one); a file named
        // on the command line must exist, or its entries would silently not apply.
        return Err(Failure::error(format!(
            "--known {}: no such file; give the known-divergences file to use, or leave --known out",
            k.display()
        )));
    }
    let known_path = a.known.unwrap_or_else(|| dir.join(KNOWN_DIVERGENCES_FILE));
    let known = Known::load(&known_path).map_err(Failure::error)?;
    let (names, infos, list) =
        implementations(&a.impls, a.reference.as_deref(), a.isolation, a.timeout)?;
    let peer_name = a
        .peer
        .clone()
        .unwrap_or_else(sslwrite::isolation::default_peer);
    let peer = peer_of(&peer_name, &names, a.isolation, a.timeout)?;
    let baseline = a
        .baseline
        .as_deref()
        .map(Report::read)
        .transpose()
        .map_err(|e| Failure::error(format!("--baseline: {e}")))?;
    let filter = a
        .filter
        .clone()
        .or_else(|| a.explain.as_deref().map(glob::Pattern::escape));
    let filter = filter_glob(filter.as_deref())?;
    let selection = Selection { filter, tls: a.tls };
    let runs = selection.runs(&scenarios);
    if scenarios.is_empty() {
        return Err(Failure::error(format!(
            "{}: no scenario files (*.json) in this folder; nothing to do",
            dir.display()
        )));
    }
    if runs.is_empty() {
        return Err(Failure::error(
            "no scenario run matches the selection (--filter/--tls); nothing to do",
        ));
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
        return Err(Failure::error(format!(
            "--timeout must be a positive number of seconds, at most {MAX_TIMEOUT_SECONDS} (a day)"
        )));
    }
    sslwrite::sys::install_stop_handlers()
        .map_err(|e| Failure::error(format!("cannot install the SIGINT/SIGTERM handlers: {e}")))?;
    let bar = output::progress(
        (runs.len() * names.len() * transports.len()) as u64,
        a.quiet,
    );
    let (mut played, mut kinds) = (Vec::new(), Vec::new());
    for &t in &transports {
        let traces = play(
            (a.isolation, a.timeout),
            &runs,
            (&names, &peer_name, peer.1.as_deref()),
            &list,
            jobs,
            t,
            &|| bar.inc(1),
        )?;
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
    let mut report = suite::assemble_with(
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
    report.peer = Some(peer.0);
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
    output::show(&report, a.explain.as_deref(), a.quiet, detail)?;
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
        (None, false) => Some(in_root("reports/conformance.json")?),
        (None, true) => None,
    };
    if let Some(json) = &json {
        report
            .write(json)
            .map_err(|e| Failure::error(format!("the report could not be written: {e}")))?;
        if !a.quiet {
            println!("report: {}", json.display());
        }
    } else if !a.quiet {
        println!("report: not written (a partial run writes its report only where --json says)");
    }
    a.outputs.write(&report, comparison.as_ref(), a.quiet)?;
    if let Some(sig) = stopped {
        return Ok(ExitCode::from(sslwrite::sys::stop_exit_code(sig)));
    }
    strict_aspects(&report, a.strict_aspects)?;
    output::exit_status(&report, comparison.as_ref(), a.strict)
}

/// With --strict-aspects, a failure (1) when a queue or wire difference is unexplained (unless
/// a run erred: that is 2, from [`output::exit_status`]).
fn strict_aspects(report: &Report, on: bool) -> Result<(), Failure> {
    let errored = report.summary.verdicts.get("error").copied().unwrap_or(0) > 0;
    let n = report.summary.aspects.unexplained;
    if !on || errored || n == 0 {
        return Ok(());
    }
    Err(Failure::findings(format!(
        "sslwrite: --strict-aspects: {n} queue/wire difference(s) no known entry explains"
    )))
}

/// What a shard's report records besides its runs: the names of every run of the selection
/// (over every transport, in the order the whole run reports them) and a digest of the scenario
/// files and the known-divergence file (an unreadable file counts as empty: it was read
/// already, or the run would not have started).
fn shard_plan(
    spec: ShardSpec,
    runs: &[(&scenario::Scenario, scenario::RunKey)],
    transports: &[TransportKind],
    known: &Path,
) -> ShardPlan {
    let suite = transports
        .iter()
        .flat_map(|&t| runs.iter().map(move |(_, k)| suite::run_name(k, t)))
        .collect();
    let mut files: Vec<&Path> = runs.iter().map(|(s, _)| s.path.as_path()).collect();
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
pub(super) fn implementations(
    given: &[String],
    reference: Option<&str>,
    isolation: IsolationMode,
    timeout: f64,
) -> Result<(Vec<String>, Vec<ImplInfo>, Vec<Box<dyn Implementation>>), Failure> {
    let names: Vec<String> = if given.is_empty() {
        impls::NAMES.iter().map(|s| s.to_string()).collect()
    } else {
        given.to_vec()
    };
    let mut chosen = Vec::new();
    for n in &names {
        if impls::is_loaded(n) {
            if isolation == IsolationMode::None {
                return Err(Failure::error(format!(
                    "{n}: a loaded library runs only in worker processes of its own; drop --isolation none"
                )));
            }
            let exe = std::env::current_exe().map_err(|e| {
                Failure::error(format!(
                    "cannot find the sslwrite binary for the workers: {e}"
                ))
            })?;
            let iso = sslwrite::isolation::Isolation {
                exe,
                timeout: std::time::Duration::try_from_secs_f64(timeout)
                    .unwrap_or(sslwrite::isolation::DEFAULT_TIMEOUT),
            };
            let info = sslwrite::isolation::describe(&iso, n).map_err(Failure::error)?;
            chosen.push((n.clone(), info, None));
        } else {
            let imp = impls::by_name(n).map_err(Failure::error)?;
            chosen.push((n.clone(), imp.info(), Some(imp)));
        }
    }
    for (i, (_, info, _)) in chosen.iter().enumerate() {
        if chosen[..i].iter().any(|(_, o, _)| o.name == info.name) {
            return Err(Failure::error(format!(
                "two implementations are called {:?}; label a library (libssl:PATH@label)",
                info.name
            )));
        }
    }
    let column = |name: &str| chosen.iter().position(|(_, i, _)| i.name == name);
    let reference = match reference {
        Some(r) => column(r).ok_or_else(|| {
            let all: Vec<&str> = chosen.iter().map(|(_, i, _)| i.name.as_str()).collect();
            Failure::error(format!(
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

/// The peer `--peer` names: its description (for the report) and, where it is not a loaded
/// library, the peer itself (for `--isolation none`). A loaded peer is described by a worker,
/// and may not share a worker with another loaded library.
#[allow(clippy::type_complexity)]
fn peer_of(
    name: &str,
    impls_given: &[String],
    isolation: IsolationMode,
    timeout: f64,
) -> Result<(ImplInfo, Option<Box<dyn Implementation>>), Failure> {
    let with = |e: String| Failure::error(format!("--peer {name}: {e}"));
    if !impls::is_loaded(name) {
        let imp = impls::by_name(name).map_err(with)?;
        return Ok((imp.info(), Some(imp)));
    }
    if isolation == IsolationMode::None {
        return Err(with(
            "a loaded library runs only in worker processes of its own; drop --isolation none"
                .into(),
        ));
    }
    if let Some(other) = impls_given
        .iter()
        .find(|n| impls::is_loaded(n) && n.as_str() != name)
    {
        return Err(with(format!(
            "a worker process hosts one loaded library, and {other} is another; play a loaded peer against openssl, rustls or the same library"
        )));
    }
    let exe = std::env::current_exe().map_err(|e| {
        with(format!(
            "cannot find the sslwrite binary for the workers: {e}"
        ))
    })?;
    let iso = sslwrite::isolation::Isolation {
        exe,
        timeout: std::time::Duration::try_from_secs_f64(timeout)
            .unwrap_or(sslwrite::isolation::DEFAULT_TIMEOUT),
    };
    let info = sslwrite::isolation::describe(&iso, name).map_err(Failure::error)?;
    Ok((info, None))
}

/// Plays the runs over one transport, in worker processes or in this one, against the peer
/// named (built here for `--isolation none`). `None` for a run that a stop signal cut short.
#[allow(clippy::too_many_arguments, clippy::type_complexity)]
fn play(
    (isolation, timeout): (IsolationMode, f64),
    runs: &[(&scenario::Scenario, scenario::RunKey)],
    (names, peer_name, peer): (&[String], &str, Option<&dyn Implementation>),
    list: &[Box<dyn Implementation>],
    jobs: usize,
    transport: TransportKind,
    on_done: &(dyn Fn() + Sync),
) -> Result<Vec<Option<Vec<sslwrite::runner::Trace>>>, Failure> {
    match isolation {
        IsolationMode::None => {
            let Some(peer) = peer else {
                unreachable!("a loaded peer is refused with --isolation none (peer_of)")
            };
            Ok(suite::play_with(runs, list, peer, jobs, on_done, transport))
        }
        IsolationMode::Process => {
            let exe = std::env::current_exe().map_err(|e| {
                Failure::error(format!(
                    "cannot find the sslwrite binary for the workers: {e}"
                ))
            })?;
            let iso = sslwrite::isolation::Isolation {
                exe,
                timeout: std::time::Duration::from_secs_f64(timeout),
            };
            sslwrite::isolation::play_against(
                runs, names, peer_name, transport, &iso, jobs, on_done,
            )
            .map_err(Failure::error)
        }
    }
}
