//! `sslwrite compare OLD.json NEW.json [--markdown PATH]`: what changed between two saved
//! reports, run by run and implementation by implementation (regressed, fixed, changed, changed
//! outcomes step by step, new and gone runs), through the comparison `--baseline` uses
//! (sslwrite::render::baseline). Exit 0 when nothing regressed, 1 when something did, 2 when a
//! report cannot be read or the Markdown cannot be written.

use std::path::PathBuf;
use std::process::ExitCode;

use sslwrite::render::{self, baseline};
use sslwrite::report::Report;

use super::{Failure, Outcome};

#[derive(clap::Args)]
pub struct CompareArgs {
    /// The earlier report (e.g. main's reports/conformance.json).
    old: PathBuf,
    /// The later report.
    new: PathBuf,
    /// Also write the comparison as Markdown (for a pull request or $GITHUB_STEP_SUMMARY).
    #[arg(long, value_name = "PATH")]
    markdown: Option<PathBuf>,
    /// Print only the counts.
    #[arg(long)]
    quiet: bool,
}

pub fn run(a: CompareArgs) -> Outcome {
    let read = |p: &PathBuf| Report::read(p).map_err(Failure::error);
    // Both read, so that two unreadable reports are both named.
    let (old, new) = match (read(&a.old), read(&a.new)) {
        (Ok(o), Ok(n)) => (o, n),
        (Err(o), Err(n)) => return Err(o.and(n)),
        (Err(f), _) | (_, Err(f)) => return Err(f),
    };
    let c = baseline::compare(&old, &new, &a.old.display().to_string());
    let text = c.text();
    if a.quiet {
        print!(
            "{}",
            render::terminal_safe(text.lines().next().unwrap_or(""))
        );
        println!();
    } else {
        print!("{}", render::terminal_safe(&text));
    }
    if let Some(path) = &a.markdown {
        let md = render::compare::render(&c, &a.new.display().to_string());
        render::write_atomic(path, md.as_bytes()).map_err(|e| {
            Failure::error(format!("the Markdown comparison could not be written: {e}"))
        })?;
        if !a.quiet {
            println!("Markdown comparison: {}", path.display());
        }
    }
    Ok(if c.regressed() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
