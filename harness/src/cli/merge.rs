//! `sslwrite merge A.json B.json ... --json OUT [--markdown/--html/--junit PATH]`: joins the
//! reports of the shards of one run (`conformance --shard I/N`) into the report the whole run
//! would have made (sslwrite::merge), and renders it as `sslwrite report` does. The exit status
//! is the one `conformance` gives for that report: 0 clean; 1 an unexplained divergence or
//! violation, or a shard missing (the report is incomplete), or with `--strict` a warning; 2 a
//! report cannot be read or is refused (not shards of one run), a run erred, or an output
//! cannot be written.

use std::path::PathBuf;

use sslwrite::report::Report;

use super::output::{self, Detail, OutputArgs};
use super::{Failure, Outcome};

#[derive(clap::Args)]
pub struct MergeArgs {
    /// The shards' reports, in any order.
    #[arg(required = true)]
    reports: Vec<PathBuf>,
    /// Where to write the merged JSON report.
    #[arg(long, value_name = "PATH")]
    json: PathBuf,
    #[command(flatten)]
    outputs: OutputArgs,
    /// Print only the summary.
    #[arg(long)]
    quiet: bool,
    /// Treat warnings (known-divergence entries no shard used) as failures. Give it here
    /// rather than to the shards: a shard judges an entry by its own runs only.
    #[arg(long)]
    strict: bool,
}

pub fn run(a: MergeArgs) -> Outcome {
    let mut inputs = Vec::new();
    for p in &a.reports {
        let r = Report::read(p).map_err(Failure::error)?;
        inputs.push((p.display().to_string(), r));
    }
    let merged =
        sslwrite::merge::merge(&inputs, std::env::args().collect()).map_err(Failure::error)?;
    let report = merged.report;
    output::show(&report, None, a.quiet, Detail::default())?;
    report
        .write(&a.json)
        .map_err(|e| Failure::error(format!("the merged report could not be written: {e}")))?;
    if !a.quiet {
        println!("report: {}", a.json.display());
    }
    a.outputs.write(&report, None, a.quiet)?;
    output::exit_status(&report, None, a.strict)
}
