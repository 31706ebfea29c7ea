//! One scenario's runs side by side in the terminal: per step, its index, the op, and each
//! implementation's outcome in its own column; the first difference marked with `>` and a
//! trailing `<- first difference`. Below the steps: how each run ended, what the peer received,
//! the known reasons, notes and violations.

use super::{describe_violation, names, step_cell, step_rows, violations};
use crate::report::{status_label, Report, RunReport};
use crate::runner::Timing;

/// Marks the row of a first difference (in the left margin).
pub const MARK: &str = ">";
/// Ends the row of a first difference.
pub const TRAILER: &str = "<- first difference";

/// All runs of scenario `id`, side by side. `Err` when the report has no run of it, listing the
/// ids it does have.
pub fn explain(report: &Report, id: &str) -> Result<String, String> {
    let runs: Vec<&RunReport> = report.scenarios.iter().filter(|s| s.id == id).collect();
    if runs.is_empty() {
        let mut ids: Vec<&str> = report.scenarios.iter().map(|s| s.id.as_str()).collect();
        ids.dedup();
        return Err(format!(
            "no run of scenario {id:?} in this report (was it filtered out?); its scenarios are: {}",
            ids.join(", ")
        ));
    }
    Ok(runs
        .iter()
        .map(|r| explain_run(report, r))
        .collect::<Vec<_>>()
        .join("\n"))
}

/// One run, side by side.
pub fn explain_run(report: &Report, run: &RunReport) -> String {
    let names = names(report);
    let mut rows: Vec<(bool, String, String, Vec<String>, String)> = Vec::new();
    for row in step_rows(run, &names) {
        let trailer = if row.first_diff {
            let fields: Vec<&str> = run
                .differences
                .iter()
                .filter(|d| d.step == Some(row.index))
                .map(|d| d.field.as_str())
                .collect();
            format!("{TRAILER} ({})", fields.join(", "))
        } else {
            String::new()
        };
        rows.push((
            row.first_diff,
            row.index.to_string(),
            row.op.to_string(),
            row.records.iter().map(|r| step_cell(*r)).collect(),
            trailer,
        ));
    }
    let run_level = |field: &str| {
        run.differences
            .iter()
            .any(|d| d.step.is_none() && d.field == field)
    };
    let per_impl = |f: &dyn Fn(&crate::runner::Trace) -> String| -> Vec<String> {
        names
            .iter()
            .map(|n| run.results.get(*n).map_or("-".to_string(), f))
            .collect()
    };
    let mut endings: Vec<(&str, &str, Vec<String>)> = vec![
        (
            "status",
            "status",
            per_impl(&|t| status_label(t).to_string()),
        ),
        (
            "confirmed",
            "confirmed",
            per_impl(&|t| Timing::show(t.timing, t.delivery.confirmed.to_string())),
        ),
        (
            "peer_received",
            "peer received",
            per_impl(&|t| Timing::show(t.timing, t.delivery.received.to_string())),
        ),
        (
            "missing",
            "missing",
            per_impl(&|t| t.delivery.missing.to_string()),
        ),
        (
            "unconfirmed",
            "unconfirmed",
            per_impl(&|t| Timing::show(t.timing, t.delivery.unconfirmed.to_string())),
        ),
    ];
    if names
        .iter()
        .any(|n| run.results.get(*n).is_some_and(|t| t.resumed.is_some()))
    {
        endings.push((
            "resumed",
            "session resumed",
            per_impl(&|t| t.resumed.map_or("-".to_string(), |r| r.to_string())),
        ));
    }
    for (field, label, cells) in endings {
        let marked = run_level(field);
        let trailer = if marked {
            format!("{TRAILER} ({field})")
        } else {
            String::new()
        };
        rows.push((marked, String::new(), label.to_string(), cells, trailer));
    }

    let w_index = rows.iter().map(|r| r.1.len()).max().unwrap_or(0).max(4);
    let w_op = rows.iter().map(|r| r.2.len()).max().unwrap_or(0).max(2);
    let widths: Vec<usize> = (0..names.len())
        .map(|i| {
            rows.iter()
                .map(|r| r.3[i].chars().count())
                .chain([names[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();

    let mut out = format!("{}  {}\n  {}\n", run.run, run.verdict.as_str(), run.title);
    let mut header = format!("  {:>w_index$}  {:w_op$}", "step", "op");
    for (n, w) in names.iter().zip(&widths) {
        header.push_str(&format!("  {n:w$}"));
    }
    out.push_str(header.trim_end());
    out.push('\n');
    for (marked, index, op, cells, trailer) in &rows {
        let mark = if *marked { MARK } else { " " };
        let mut line = format!("{mark} {index:>w_index$}  {op:w_op$}");
        for (c, w) in cells.iter().zip(&widths) {
            let pad = w.saturating_sub(c.chars().count());
            line.push_str(&format!("  {c}{}", " ".repeat(pad)));
        }
        if !trailer.is_empty() {
            line.push_str("  ");
            line.push_str(trailer);
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    for k in &run.known {
        out.push_str(&format!(
            "  known ({}, {} {}): {}\n",
            k.implementation, k.kind, k.clause, k.reason
        ));
    }
    for n in &run.notes {
        out.push_str(&format!("  note: {n}\n"));
    }
    out.push_str(&super::aspects::run_lines(run));
    for name in &names {
        for (v, k) in violations(run, name) {
            let how = if k.is_some() { "known" } else { "unexplained" };
            out.push_str(&format!(
                "  violation ({name}, {how}): {}\n",
                describe_violation(v)
            ));
        }
        if let Some(t) = run.results.get(*name) {
            match &t.status {
                crate::runner::RunStatus::Skipped { step, reason } => {
                    let at = step.map_or(String::new(), |s| format!(" at step {s}"));
                    out.push_str(&format!("  {name} skipped{at}: {reason}\n"));
                }
                crate::runner::RunStatus::Error { message } => {
                    out.push_str(&format!("  {name} error: {message}\n"));
                }
                crate::runner::RunStatus::Deadlock { step } => {
                    out.push_str(&format!("  {name} deadlocked at step {step}\n"));
                }
                crate::runner::RunStatus::Crash {
                    step,
                    message,
                    stderr,
                    ..
                } => {
                    let at = step.map_or(" during set-up".into(), |s| format!(" at step {s}"));
                    out.push_str(&format!("  {name} crashed{at}: {message}\n"));
                    if let Some(tail) = stderr {
                        for line in tail.lines().rev().take(5).collect::<Vec<_>>().iter().rev() {
                            out.push_str(&format!("    stderr: {line}\n"));
                        }
                    }
                }
                crate::runner::RunStatus::Timeout { step, message, .. } => {
                    let at = step.map_or(" during set-up".into(), |s| format!(" at step {s}"));
                    out.push_str(&format!("  {name} timed out{at}: {message}\n"));
                }
                crate::runner::RunStatus::Completed => {}
            }
        }
    }
    if let Some(cmd) = crate::repro::offered(run) {
        out.push_str(&format!("  reproduce in C: {cmd}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::fixture;
    use super::*;

    #[test]
    fn the_first_difference_is_marked_on_its_step_only() {
        let r = fixture::report();
        let text = explain(&r, "shutdown").unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let marked: Vec<&&str> = lines.iter().filter(|l| l.starts_with(MARK)).collect();
        assert_eq!(marked.len(), 1, "{text}");
        let line = marked[0];
        assert!(line.contains("write len=100"), "{line}");
        assert!(line.contains("ssl(protocol is shutdown)"), "{line}");
        assert!(line.contains("ok(100)"), "{line}");
        assert!(line.ends_with(&format!("{TRAILER} (outcome)")), "{line}");
        let ssl = line.find("ssl(protocol").unwrap();
        let ok = line.find("ok(100)").unwrap();
        assert!(ssl < ok, "the reference's column comes first: {line}");
        assert!(
            text.contains("violation (rustls, unexplained): I1"),
            "{text}"
        );
    }

    #[test]
    fn columns_line_up_under_the_header() {
        let r = fixture::report();
        let text = explain(&r, "zero").unwrap();
        let header = text.lines().find(|l| l.contains("step")).unwrap();
        let col = header.find("rustls").unwrap();
        let row = text.lines().find(|l| l.contains("ok(0)")).unwrap();
        assert_eq!(row.find("ok(0)"), Some(col), "{text}");
        assert!(text.contains("known (rustls, divergence W9): zero-length writes differ"));
    }

    #[test]
    fn run_level_differences_mark_the_delivery_row() {
        let mut r = fixture::report();
        let run = &mut r.scenarios[0];
        run.differences.push(crate::diff::Difference {
            implementation: "rustls".into(),
            reference: "openssl".into(),
            step: None,
            field: "peer_received".into(),
            reference_value: "100".into(),
            value: "0".into(),
        });
        let text = explain(&r, "agrees").unwrap();
        let marked: Vec<&str> = text.lines().filter(|l| l.starts_with(MARK)).collect();
        assert_eq!(marked.len(), 1, "{text}");
        assert!(marked[0].contains("peer received"), "{text}");
    }

    #[test]
    fn marked_values_say_they_are_timing_dependent_where_they_are_printed() {
        let mut r = fixture::report();
        let tcp = Some(crate::runner::Timing {
            transport: crate::transport::TransportKind::Tcp,
            cause: crate::runner::TimingCause::Blocked,
        });
        let t = r.scenarios[0].results.get_mut("rustls").unwrap();
        t.timing = tcp;
        t.delivery.received = 49152;
        t.steps[1].timing = tcp;
        t.steps[1].bytes = Some(49152);
        let text = explain(&r, "agrees").unwrap();
        let received = text.lines().find(|l| l.contains("peer received")).unwrap();
        assert!(
            received.contains("49152 (timing-dependent over tcp)"),
            "{text}"
        );
        assert!(
            !received.contains("100 (timing"),
            "the other side is not marked: {text}"
        );
        let step = text.lines().find(|l| l.contains("bytes=49152")).unwrap();
        assert!(
            step.contains("bytes=49152 (timing-dependent over tcp)"),
            "{text}"
        );
        let html = crate::render::html::render(&r);
        assert!(
            html.contains("49152 (timing-dependent over tcp)"),
            "the run-end table"
        );
    }

    #[test]
    fn a_run_offers_its_c_reproducer() {
        let text = explain(&fixture::report(), "zero").unwrap();
        assert!(
            text.ends_with(
                "  reproduce in C: cargo xtask repro zero/tls1.3/client/auto_retry -o repro.c\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn an_unknown_id_lists_the_ids_there_are() {
        let err = explain(&fixture::report(), "nope").unwrap_err();
        assert!(
            err.contains("\"nope\"") && err.contains("agrees, shutdown"),
            "{err}"
        );
    }
}
