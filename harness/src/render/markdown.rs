//! Markdown for a pull request comment or `$GITHUB_STEP_SUMMARY`: the outcome, runs per
//! verdict, violations per implementation, the clause view, and the runs that diverge, fail or
//! differ for a known reason, each with its first difference and the reason.

use super::baseline::Comparison;
use super::{
    describe_difference, describe_violation, difference, difference_reason, names,
    unexplained_difference, unexplained_violations, violations,
};
use crate::diff::Verdict;
use crate::report::{ClauseVerdict, Report};
use crate::runner::RunStatus;

/// Text for a table cell: `|` escaped, markup characters as entities, one line.
pub fn cell(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' | '\n' => out.push(' '),
            // Markup: a link or an image (`![x](https://..)`), emphasis, code, a table cell.
            '|' | '\\' | '`' | '*' | '_' | '[' | ']' | '!' | '#' | '~' => {
                out.push('\\');
                out.push(c);
            }
            c if super::invisible(c) => out.push_str(&format!("U+{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// The summary for `report`, and the comparison with a baseline when there is one.
pub fn render(report: &Report, baseline: Option<&Comparison>) -> String {
    let names = names(report);
    let passed = report.summary.passed && baseline.is_none_or(|b| !b.regressed());
    let mut out = format!(
        "## sslwrite conformance: {}\n\n",
        if passed { "✅ passed" } else { "❌ failed" }
    );
    let compared: Vec<String> = report
        .implementations
        .iter()
        .skip(1)
        .map(|i| format!("**{}** ({})", cell(&i.name), cell(&i.version)))
        .collect();
    let reference = report.implementations.first().map_or(String::new(), |i| {
        format!("**{}** ({})", cell(&i.name), cell(&i.version))
    });
    out.push_str(&format!(
        "{} runs; reference {reference}; compared: {}. Took {:.1} s on {}.\n\n",
        report.summary.runs,
        if compared.is_empty() {
            "nothing".to_string()
        } else {
            compared.join(", ")
        },
        report.duration_ms as f64 / 1000.0,
        cell(&report.host)
    ));
    if !report.complete {
        out.push_str(
            "**Incomplete**: the harness was stopped (SIGINT/SIGTERM) before every run finished, or a merge lacks shards; these are the runs that did.\n\n",
        );
    }
    if report.transports.len() > 1 {
        out.push_str(&format!(
            "Transports: {}; {} run × implementation pair(s) differ between memory and TCP (`transport_differences` in the JSON report).\n\n",
            report
                .transports
                .iter()
                .map(|t| t.as_str())
                .collect::<Vec<_>>()
                .join(" and "),
            report.transport_differences.len()
        ));
    }

    out.push_str("| verdict | runs |\n|---|---:|\n");
    for v in Verdict::ALL {
        let n = report
            .summary
            .verdicts
            .get(v.as_str())
            .copied()
            .unwrap_or(0);
        out.push_str(&format!("| {} | {n} |\n", v.as_str()));
    }
    out.push('\n');

    out.push_str(
        "| implementation | version | unexpected violations | known violations |\n\
         |---|---|---:|---:|\n",
    );
    for i in &report.implementations {
        let get =
            |m: &std::collections::BTreeMap<String, usize>| m.get(&i.name).copied().unwrap_or(0);
        out.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            cell(&i.name),
            cell(&i.version),
            get(&report.summary.unexpected_violations),
            get(&report.summary.known_violations)
        ));
    }
    out.push('\n');

    out.push_str("### Clauses\n\n| clause | runs checked |");
    for n in &names {
        out.push_str(&format!(" {} |", cell(n)));
    }
    out.push_str("\n|---|---:|");
    out.push_str(&"---|".repeat(names.len()));
    out.push('\n');
    for clause in crate::scenario::CLAUSES {
        let Some(view) = report.clauses.get(clause) else {
            continue;
        };
        out.push_str(&format!("| {clause} | {} |", view.runs.len()));
        for n in &names {
            let v = view
                .implementations
                .get(*n)
                .map_or("-".to_string(), |st| match st.verdict {
                    ClauseVerdict::Violates => format!("**{}**", st.label()),
                    _ => st.label(),
                });
            out.push_str(&format!(" {v} |"));
        }
        out.push('\n');
    }
    out.push('\n');

    let mut failing = Vec::new();
    let mut known = Vec::new();
    for run in &report.scenarios {
        for n in names.iter().copied() {
            let Some(trace) = run.results.get(n) else {
                continue;
            };
            if let RunStatus::Error { message } = &trace.status {
                failing.push(format!(
                    "| `{}` | {} | error: {} |",
                    run.run,
                    cell(n),
                    cell(message)
                ));
                continue;
            }
            let mut problems: Vec<String> = Vec::new();
            if let Some(d) = unexplained_difference(run, n) {
                problems.push(describe_difference(d));
            }
            for v in unexplained_violations(run, n) {
                problems.push(format!("violation {}", describe_violation(v)));
            }
            if !problems.is_empty() {
                failing.push(format!(
                    "| `{}` | {} | {} |",
                    run.run,
                    cell(n),
                    cell(&problems.join("; "))
                ));
            }
            if let (Some(d), Some(k)) = (difference(run, n), difference_reason(run, n)) {
                known.push(format!(
                    "| `{}` | {} | {} | {} {}: {} |",
                    run.run,
                    cell(n),
                    cell(&describe_difference(d)),
                    cell(&k.kind),
                    cell(&k.clause),
                    cell(&k.reason)
                ));
            }
            for (v, k) in violations(run, n) {
                if let Some(k) = k {
                    known.push(format!(
                        "| `{}` | {} | violation {} | {} {}: {} |",
                        run.run,
                        cell(n),
                        cell(&describe_violation(v)),
                        cell(&k.kind),
                        cell(&k.clause),
                        cell(&k.reason)
                    ));
                }
            }
        }
    }
    out.push_str(&format!("### Diverging or failing ({})\n\n", failing.len()));
    if failing.is_empty() {
        out.push_str("None: every difference and violation has a known reason.\n\n");
    } else {
        out.push_str("| run | implementation | first difference / violations |\n|---|---|---|\n");
        for l in &failing {
            out.push_str(l);
            out.push('\n');
        }
        out.push('\n');
    }
    out.push_str(&format!("### Known ({})\n\n", known.len()));
    if known.is_empty() {
        out.push_str("None.\n\n");
    } else {
        out.push_str(&format!(
            "<details><summary>{} differences and violations explained by scenarios/known-divergences.json</summary>\n\n\
             | run | implementation | first difference / violation | reason |\n|---|---|---|---|\n",
            known.len()
        ));
        for l in &known {
            out.push_str(l);
            out.push('\n');
        }
        out.push_str("\n</details>\n\n");
    }
    out.push_str(&behaviour_matrix(report));
    out.push_str(&super::aspects::markdown(report));
    if !report.warnings.is_empty() {
        out.push_str(&format!("### Warnings ({})\n\n", report.warnings.len()));
        for w in &report.warnings {
            out.push_str(&format!("- {}\n", cell(w)));
        }
        out.push('\n');
    }
    if let Some(b) = baseline {
        out.push_str(&format!(
            "### Baseline: {}\n\n```\n{}```\n",
            if b.regressed() {
                "❌ regressed"
            } else {
                "✅ no regression"
            },
            b.text()
        ));
    }
    out
}

/// The behaviour matrix ([`super::matrix`]): every step where the implementations do not all
/// agree, the outcome per column, the reasons numbered under the table.
fn behaviour_matrix(report: &Report) -> String {
    let v = super::matrix::view(report, super::matrix::MAX_ROWS);
    let mut out = format!("### Behaviour matrix ({})\n\n", v.total);
    if v.rows.is_empty() {
        out.push_str("None: at every step every implementation observed the same.\n\n");
        return out;
    }
    out.push_str(
        "One row per step (or run end) where the implementations do not all agree, every pair \
         compared, not only against the reference; adjacent columns of one family that behave \
         alike in every row are folded into one.\n\n| run | step | op |",
    );
    for c in &v.columns {
        out.push_str(&format!(" {} |", cell(&c.header())));
    }
    out.push_str(" reason |\n|---|---|---|");
    out.push_str(&"---|".repeat(v.columns.len()));
    out.push_str("---|\n");
    for r in &v.rows {
        out.push_str(&format!(
            "| `{}` | {} | {} |",
            r.run.run,
            r.step(),
            cell(&r.op())
        ));
        for c in &r.cells {
            out.push_str(&format!(" {} |", cell(c)));
        }
        out.push_str(&format!(" {} |\n", v.refs(r)));
    }
    out.push('\n');
    if v.omitted() > 0 {
        out.push_str(&format!(
            "… and {} more row(s) (all of them: `matrix` of each run in the JSON report).\n\n",
            v.omitted()
        ));
    }
    for c in v.columns.iter().filter(|c| c.members.len() > 1) {
        out.push_str(&format!(
            "- **{}**: {}\n",
            cell(&c.header()),
            cell(&c.folded_names())
        ));
    }
    if v.columns.iter().any(|c| c.members.len() > 1) {
        out.push('\n');
    }
    for (i, reason) in v.reasons.iter().enumerate() {
        out.push_str(&format!("{}. {}\n", i + 1, cell(reason)));
    }
    if !v.reasons.is_empty() {
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::fixture;
    use super::*;

    #[test]
    fn verdict_implementation_and_clause_rows() {
        let md = render(&fixture::report(), None);
        assert!(
            md.starts_with("## sslwrite conformance: ❌ failed\n"),
            "{md}"
        );
        for row in [
            "| agree | 1 |",
            "| diverge | 1 |",
            "| known | 1 |",
            "| skip | 1 |",
            "| error | 0 |",
            "| rustls | rustls 0.23 (ring) | 1 | 0 |",
            "| clause | runs checked | openssl | rustls |",
            "| W6 | 0 | recorded only | recorded only |",
            "| I1 | 4 | conforms (4) | **violates (1 of 4)** |",
        ] {
            assert!(md.lines().any(|l| l == row), "missing row {row:?} in\n{md}");
        }
    }

    #[test]
    fn diverging_and_known_runs_with_difference_and_reason() {
        let md = render(&fixture::report(), None);
        let diverging = md
            .lines()
            .find(|l| l.starts_with("| `shutdown/"))
            .expect("the diverging run is listed");
        assert!(
            diverging.contains("step 1 outcome: openssl ssl(protocol is shutdown), rustls ok(100)"),
            "{diverging}"
        );
        assert!(
            diverging.contains("&lt;never&gt; read &amp; lost"),
            "{diverging}"
        );
        let known = md.lines().find(|l| l.starts_with("| `zero/")).unwrap();
        assert!(
            known.contains("divergence W9: zero-length writes differ"),
            "{known}"
        );
        assert!(md.contains("### Diverging or failing (1)"));
        assert!(md.contains("- known-divergence entry 3 matches nothing"));
        assert!(!md.contains("agrees/"), "agreeing runs are not listed");
    }

    #[test]
    fn the_behaviour_matrix_has_a_row_per_disagreement_and_each_reason_once() {
        let md = render(&fixture::report(), None);
        assert!(md.contains("### Behaviour matrix (5)\n"), "{md}");
        assert!(
            md.contains("| run | step | op | openssl 3.0.19 | rustls 0.23 | reason |\n"),
            "{md}"
        );
        for row in [
            "| `shutdown/tls1.3/client/auto_retry` | 1 | write len=100 | ssl(protocol is shutdown) \\[ret=-1\\] | ok(100) \\[ret=-1\\] |  |",
            "| `shutdown/tls1.3/client/auto_retry` | end | how the run ended | completed, peer got 100 | completed, peer got 0 |  |",
            "| `zero/tls1.3/client/auto_retry` | 1 | write len=100 | syscall \\[ret=-1\\] | ok(0) \\[ret=-1\\] | [1] |",
        ] {
            assert!(md.lines().any(|l| l == row), "missing row {row:?} in\n{md}");
        }
        assert!(md.contains("\n1. zero-length writes differ\n"), "{md}");
        assert!(
            !md.contains("| `agrees/"),
            "a run where all agree has no row"
        );
    }

    #[test]
    fn untrusted_text_in_the_matrix_is_escaped() {
        let mut r = fixture::report();
        r.implementations[1].version = "rustls 0<b>|</b>".into();
        r.scenarios[2].known[0].reason = "a | b\n<i>c</i>".into();
        let md = render(&r, None);
        assert!(md.contains("| rustls 0&lt;b&gt;\\|&lt;/b&gt; |"), "{md}");
        assert!(md.contains("\n1. a \\| b &lt;i&gt;c&lt;/i&gt;\n"), "{md}");
    }

    #[test]
    fn pipes_in_cells_are_escaped() {
        let mut r = fixture::report();
        r.scenarios[2].known[0].reason = "a | b\nc".into();
        let md = render(&r, None);
        assert!(md.contains("a \\| b c |"), "{md}");
    }
}
