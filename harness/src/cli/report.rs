//! `sslwrite report PATH.json`: the table (or one scenario) and the summary of a saved report,
//! and the files asked for. Exit 0 once rendered; 2 when the report cannot be read or a file
//! cannot be written.

use std::path::PathBuf;
use std::process::ExitCode;

use sslwrite::report::Report;

use super::output::{self, Detail, OutputArgs};
use super::{Failure, Outcome};

#[derive(clap::Args)]
pub struct ReportArgs {
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

pub fn run(a: ReportArgs) -> Outcome {
    let report = Report::read(&a.path).map_err(Failure::error)?;
    let detail = Detail {
        notes: false,
        matrix: a.matrix,
    };
    output::show(&report, a.explain.as_deref(), a.quiet, detail)?;
    a.outputs.write(&report, None, a.quiet)?;
    Ok(ExitCode::SUCCESS)
}
