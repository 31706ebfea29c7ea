//! The subcommands of the `sslwrite` binary, one file each; `main.rs` parses [`Cli`] and
//! dispatches. Every subcommand's `run` returns an [`Outcome`]: `Ok` with the exit status the
//! run earned (0 clean, 1 findings, 2 a run erred, 128 + N stopped by signal N), or a
//! [`Failure`] that says on stderr why the subcommand ended and with which status.
//! What the subcommands share: [`output`] (the table, the rendered files, the exit status of a
//! report) and the inputs here ([`load`], [`in_root`], [`filter_glob`]).

use std::fmt::Display;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use sslwrite::find_project_root;
use sslwrite::scenario::{self, Scenario};

pub mod bench;
pub mod compare;
pub mod conformance;
pub mod fuzz_seeds;
pub mod fuzz_triage;
pub mod list;
pub mod merge;
pub mod minimize;
pub mod output;
pub mod replay;
pub mod report;
pub mod repro;

#[derive(Parser)]
#[command(
    name = "sslwrite",
    version,
    about = "How each implementation of SSL_write's contract behaves, side by side"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run every scenario on every implementation, diff them, write the JSON report.
    Conformance(Box<conformance::ConformanceArgs>),
    /// List the scenarios and the runs they expand into.
    List(list::ListArgs),
    /// Turn a fuzz artifact (or a seed) into a scenario and show the step-by-step diff.
    Replay(replay::ReplayArgs),
    /// Cut one run of a scenario down to a small scenario with the same finding (in place).
    Minimize(minimize::MinimizeArgs),
    /// Re-render a saved JSON report (table, --explain, --html, --markdown, --junit).
    Report(report::ReportArgs),
    /// Write a seed corpus for a fuzz target (generated inputs, or the scenario files).
    FuzzSeeds(fuzz_seeds::FuzzSeedsArgs),
    /// Replay a fuzz session's artifacts in worker processes; one row per unique finding.
    FuzzTriage(fuzz_triage::FuzzTriageArgs),
    /// What changed between two saved reports (exit 1 when something regressed).
    Compare(compare::CompareArgs),
    /// Join the reports of `conformance --shard I/N` into the report of the whole run.
    Merge(merge::MergeArgs),
    /// A standalone C reproducer of one run (both ends on the libssl it is built against).
    Repro(repro::ReproArgs),
    /// (isolation) a worker process: plays the runs sent on stdin (see isolation.rs).
    #[command(hide = true)]
    Worker(WorkerArgs),
    /// Measure the harness against the handshake floor (cargo xtask bench).
    Bench(bench::BenchArgs),
    /// (bench helper) one bulk run in this process: prints seconds and peak RSS as JSON.
    #[command(hide = true)]
    BenchBulk(bench::BenchBulkArgs),
    /// (bench helper) start up, load everything, run nothing.
    #[command(hide = true)]
    BenchStartup,
    /// (profiling helper) play the selected runs in this process on one thread, PASSES times,
    /// nothing else: a target for perf or valgrind --tool=callgrind.
    #[command(hide = true)]
    BenchLoop(bench::BenchLoopArgs),
}

/// `sslwrite worker`: all its logic is `isolation::worker_main`.
#[derive(clap::Args)]
pub struct WorkerArgs {
    /// The file the worker notes its progress in.
    #[arg(long, value_name = "PATH")]
    pub progress: PathBuf,
}

/// What a subcommand ends with: the exit status it earned, or why it could not finish.
pub type Outcome = Result<ExitCode, Failure>;

/// A subcommand that ends with a message on stderr: the message (whole lines, printed as they
/// are) and the exit status. Most are the harness unable to do what was asked (status 2,
/// `error: ...`); `--strict` and `--strict-aspects` end with status 1 and their own lines.
#[derive(Debug)]
pub struct Failure {
    pub status: u8,
    pub message: String,
}

impl Failure {
    /// Status 2, the message printed as `error: {e}`.
    pub fn error(e: impl Display) -> Self {
        Failure {
            status: 2,
            message: format!("error: {e}"),
        }
    }

    /// Status 1 (findings the flags turn into a failure), the message printed as it is.
    pub fn findings(message: String) -> Self {
        Failure { status: 1, message }
    }

    /// Both messages, this one first, with the higher status.
    pub fn and(self, other: Failure) -> Self {
        Failure {
            status: self.status.max(other.status),
            message: format!("{}\n{}", self.message, other.message),
        }
    }

    /// Prints the message on stderr and gives the exit status.
    pub fn report(self) -> ExitCode {
        eprintln!("{}", self.message);
        ExitCode::from(self.status)
    }
}

/// The scenario files of `dir`; when some cannot be used, every error and a count (exit 2).
pub fn load(dir: &Path) -> Result<Vec<Scenario>, Failure> {
    scenario::load_dir(dir).map_err(|errors| {
        let mut lines: Vec<String> = errors.iter().map(|e| format!("error: {e}")).collect();
        lines.push(format!(
            "sslwrite: {} scenario file(s) could not be used; fix them and run again (no report written)",
            errors.len()
        ));
        Failure {
            status: 2,
            message: lines.join("\n"),
        }
    })
}

/// `rel` under the project root found at run time; the error (exit 2) says how to name it.
pub fn in_root(rel: &str) -> Result<PathBuf, Failure> {
    find_project_root()
        .map(|r| r.join(rel))
        .map_err(Failure::error)
}

/// `--filter` as a glob (exit 2 when it is not one).
pub fn filter_glob(filter: Option<&str>) -> Result<Option<glob::Pattern>, Failure> {
    filter
        .map(glob::Pattern::new)
        .transpose()
        .map_err(|e| Failure::error(format!("--filter is not a valid glob: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_prints_its_lines_and_keeps_the_higher_status() {
        let e = Failure::error("cannot read the report a.json");
        assert_eq!(
            (e.status, e.message.as_str()),
            (2, "error: cannot read the report a.json")
        );
        let both = Failure::findings("sslwrite: --strict: 1 warning(s) count as failures".into())
            .and(Failure::error("b"));
        assert_eq!(both.status, 2);
        assert_eq!(
            both.message,
            "sslwrite: --strict: 1 warning(s) count as failures\nerror: b"
        );
    }

    #[test]
    fn an_unusable_scenario_folder_names_each_file_then_counts_them() {
        let dir = std::env::temp_dir().join(format!("sslwrite-cli-load-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("a.json"), "{").unwrap();
        std::fs::write(dir.join("b.json"), "nope").unwrap();
        let f = load(&dir).unwrap_err();
        std::fs::remove_dir_all(&dir).unwrap();
        let lines: Vec<&str> = f.message.lines().collect();
        assert_eq!(f.status, 2);
        assert_eq!(lines.len(), 3, "{}", f.message);
        assert!(
            lines[..2].iter().all(|l| l.starts_with("error: ")),
            "{}",
            f.message
        );
        assert_eq!(
            lines[2],
            "sslwrite: 2 scenario file(s) could not be used; fix them and run again (no report written)"
        );
    }

    #[test]
    fn a_bad_filter_fails_with_status_2() {
        let f = filter_glob(Some("[")).unwrap_err();
        assert_eq!(f.status, 2);
        assert!(
            f.message
                .starts_with("error: --filter is not a valid glob: "),
            "{}",
            f.message
        );
        assert!(filter_glob(None).unwrap().is_none());
    }
}
