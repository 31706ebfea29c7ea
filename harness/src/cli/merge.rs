//! `sslwrite merge A.json B.json ... --json OUT [--markdown/--html/--junit PATH]`: joins the
//! reports of the shards of one run (`conformance --shard I/N`) into the report the whole run
//! would have made (sslwrite::merge), and renders it as `sslwrite report` does. The exit status
//! is the one `conformance` gives for that report: 0 clean; 1 an unexplained divergence or
//! violation, or a shard missing (the report is incomplete), or with `--strict` a warning; 2 a
//! report cannot be read or is refused (not shards of one run), a run erred, or an output
//! cannot be written.

use std::path::PathBuf;
use std::process::ExitCode;

use sslwrite::report::Report;

#[derive(clap::Args)]
pub struct MergeArgs {
    /// The shards' reports, in any order.
    #[arg(required = true)]
    reports: Vec<PathBuf>,
    /// Where to write the merged JSON report.
    #[arg(long, value_name = "PATH")]
    json: PathBuf,
    #[command(flatten)]
    outputs: crate::OutputArgs,
    /// Print only the summary.
    #[arg(long)]
    quiet: bool,
    /// Treat warnings (known-divergence entries no shard used) as failures. Give it here
    /// rather than to the shards: a shard judges an entry by its own runs only.
    #[arg(long)]
    strict: bool,
}

pub fn run(a: MergeArgs) -> ExitCode {
    let mut inputs = Vec::new();
    for p in &a.reports {
        match Report::read(p) {
            Ok(r) => inputs.push((p.display().to_string(), r)),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        }
    }
    let merged = match sslwrite::merge::merge(&inputs, std::env::args().collect()) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let report = merged.report;
    if let Err(code) = crate::show(&report, None, a.quiet, crate::Detail::default()) {
        return code;
    }
    if let Err(e) = report.write(&a.json) {
        eprintln!("error: the merged report could not be written: {e}");
        return ExitCode::from(2);
    }
    if !a.quiet {
        println!("report: {}", a.json.display());
    }
    if let Err(code) = a.outputs.write(&report, None, a.quiet) {
        return code;
    }
    crate::exit_status(&report, None, a.strict)
}
