//! `sslwrite compare OLD.json NEW.json [--markdown PATH]`: what changed between two saved
//! reports, run by run and implementation by implementation (regressed, fixed, changed, changed
//! outcomes step by step, new and gone runs), through the comparison `--baseline` uses
//! (sslwrite::render::baseline). Exit 0 when nothing regressed, 1 when something did, 2 when a
//! report cannot be read or the Markdown cannot be written.

use std::path::PathBuf;
use std::process::ExitCode;

use sslwrite::render::{self, baseline};
use sslwrite::report::Report;

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

pub fn run(a: CompareArgs) -> ExitCode {
    let read = |p: &PathBuf| {
        Report::read(p).map_err(|e| {
            eprintln!("error: {e}");
            ExitCode::from(2)
        })
    };
    let (old, new) = match (read(&a.old), read(&a.new)) {
        (Ok(o), Ok(n)) => (o, n),
        (Err(code), _) | (_, Err(code)) => return code,
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
        if let Err(e) = render::write_atomic(path, md.as_bytes()) {
            eprintln!("error: the Markdown comparison could not be written: {e}");
            return ExitCode::from(2);
        }
        if !a.quiet {
            println!("Markdown comparison: {}", path.display());
        }
    }
    if c.regressed() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
