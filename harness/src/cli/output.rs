//! What the subcommands that end with a report share: the terminal output ([`show`]), the
//! rendered files ([`OutputArgs`]), the exit status a report earns ([`exit_status`]) and the
//! progress bar.

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::process::ExitCode;

use sslwrite::render::{self, baseline::Comparison};
use sslwrite::report::Report;

use super::{Failure, Outcome};

/// Files rendered from the report, besides the JSON.
#[derive(clap::Args)]
pub struct OutputArgs {
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

impl OutputArgs {
    /// Renders and writes each requested file atomically; an error names the file (exit 2).
    pub fn write(
        &self,
        report: &Report,
        baseline: Option<&Comparison>,
        quiet: bool,
    ) -> Result<(), Failure> {
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
            render::write_atomic(path, text.as_bytes())
                .map_err(|e| Failure::error(format!("the {what} could not be written: {e}")))?;
            if !quiet {
                println!("{what}: {}", path.display());
            }
        }
        Ok(())
    }
}

/// What `show` prints under the tables.
#[derive(Clone, Copy, Default)]
pub struct Detail {
    /// Notes and known reasons run by run (`--verbose`).
    pub notes: bool,
    /// The behaviour matrix (`--matrix`, `--verbose`).
    pub matrix: bool,
}

/// Prints the table (coloured on a terminal unless NO_COLOR is set), or one scenario side by
/// side, then the summary. `--quiet`: the summary only.
pub fn show(
    report: &Report,
    explain: Option<&str>,
    quiet: bool,
    detail: Detail,
) -> Result<(), Failure> {
    if let Some(id) = explain {
        let text = render::explain::explain(report, id)
            .map_err(|e| Failure::error(format!("--explain: {e}")))?;
        println!("{}", render::terminal_safe(&text));
    } else if !quiet {
        let color = std::io::stdout().is_terminal()
            && std::env::var_os("NO_COLOR").is_none()
            && std::env::var_os("CI").is_none();
        // Another peer than the default is said before the table (the summary always names it).
        let default_peer = sslwrite::isolation::default_peer();
        if let Some(p) = report.peer.as_ref().filter(|p| p.name != default_peer) {
            let line = format!(
                "peer: {} ({}), the other party of every run",
                p.name, p.version
            );
            println!("{}", render::terminal_safe(&line));
        }
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

/// 2 when a run erred (the harness failed); with a baseline, 1 only on a regression (with
/// --strict also on warnings and better-than-baseline runs, a [`Failure`] that counts them);
/// without one, 1 on any unexplained divergence or violation (with --strict also on warnings);
/// else 0.
pub fn exit_status(report: &Report, baseline: Option<&Comparison>, strict: bool) -> Outcome {
    if report.summary.verdicts.get("error").copied().unwrap_or(0) > 0 {
        return Ok(ExitCode::from(2));
    }
    let (failed, warnings) = match baseline {
        Some(c) => (c.regressed(), report.warnings.len() + c.fixed.len()),
        None => (!report.summary.passed, report.warnings.len()),
    };
    if failed {
        return Ok(ExitCode::from(1));
    }
    if strict && warnings > 0 {
        let mut lines = vec![format!(
            "sslwrite: --strict: {warnings} warning(s) count as failures"
        )];
        for (name, ids) in &report.summary.stale_entries {
            lines.push(format!(
                "sslwrite: --strict: unused for {name}: {}",
                ids.join(", ")
            ));
        }
        return Err(Failure::findings(lines.join("\n")));
    }
    Ok(ExitCode::SUCCESS)
}

/// The progress bar over runs × implementations: drawn only for a person watching (stdout is
/// a terminal, not CI, not --quiet).
pub fn progress(total: u64, quiet: bool) -> indicatif::ProgressBar {
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
