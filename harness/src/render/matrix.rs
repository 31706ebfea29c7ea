//! The behaviour matrix as the renderers show it: one row per behaviour where the
//! implementations of a run do not all agree (`RunReport::matrix`), one column per
//! implementation, the observation in each cell and the known reasons once per row.
//!
//! Columns fold: adjacent implementations of the same family (the `family` each one reports)
//! that are in the same group in every row shown become one column, headed by the family and
//! the range of versions (`openssl 3.2.4 to 4.0.3`). Reasons are numbered once for the whole
//! matrix and rows refer to them, so a reason shared by many rows is written once. The rows
//! shown are capped; the view says how many there are in all.
//!
//! Everything here is plain text; each renderer escapes it for its output.

use super::difference_reason;
use crate::contract::ImplInfo;
use crate::matrix::Behaviour;
use crate::report::{short_version, Report, RunReport};

/// Rows a Markdown summary or the terminal shows at most.
pub const MAX_ROWS: usize = 300;

/// Rows the HTML page shows at most.
pub const MAX_ROWS_HTML: usize = 1000;

/// One column: the implementations folded into it, in column order (at least one).
#[derive(Debug)]
pub struct Column<'a> {
    pub members: Vec<&'a ImplInfo>,
}

impl Column<'_> {
    /// The column's title: `rustls 0.23.46` (the name alone when it has the version already:
    /// `openssl-3.6.3`, `boringssl` for a version without a number, `BoringSSL`), or folded
    /// `openssl 3.2.4 to 4.0.3`.
    pub fn header(&self) -> String {
        let first = self.members[0];
        let version = short_version(&first.version);
        let named = first.name.to_lowercase().contains(&version.to_lowercase());
        if self.members.len() == 1 && named {
            return first.name.clone();
        }
        match self.members.last() {
            Some(last) if self.members.len() > 1 => format!(
                "{} {} to {}",
                first.family,
                short_version(&first.version),
                short_version(&last.version)
            ),
            _ => format!("{} {}", first.name, short_version(&first.version)),
        }
    }

    /// The column names of a folded column, comma-separated (empty for a single one).
    pub fn folded_names(&self) -> String {
        if self.members.len() < 2 {
            return String::new();
        }
        self.members
            .iter()
            .map(|i| i.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// One row of the matrix.
#[derive(Debug)]
pub struct Row<'a> {
    pub run: &'a RunReport,
    pub behaviour: &'a Behaviour,
    /// The observation of each column, as text (`-` where the run has no result for it).
    pub cells: Vec<String>,
    /// The group of each column (its index in the behaviour's groups), for styling.
    pub groups: Vec<Option<usize>>,
    /// Indices into [`View::reasons`].
    pub reasons: Vec<usize>,
}

impl Row<'_> {
    /// The step as shown: its index, or `end` for how the run ended.
    pub fn step(&self) -> String {
        self.behaviour
            .step
            .map_or("end".to_string(), |s| s.to_string())
    }

    /// What was asked: the step in one line, or for the end what its cells say.
    pub fn op(&self) -> String {
        match self.behaviour.step {
            Some(_) => self.behaviour.op.clone(),
            None => "how the run ended".to_string(),
        }
    }
}

/// The matrix of a report, folded and capped.
#[derive(Debug)]
pub struct View<'a> {
    pub columns: Vec<Column<'a>>,
    pub rows: Vec<Row<'a>>,
    /// Behaviours in the report (the rows shown are the first ones).
    pub total: usize,
    /// The known reasons the rows shown refer to, numbered from 1 in this order.
    pub reasons: Vec<&'a str>,
}

impl View<'_> {
    /// Rows left out by the cap.
    pub fn omitted(&self) -> usize {
        self.total - self.rows.len()
    }

    /// A row's reason references: `[1] [3]`.
    pub fn refs(&self, row: &Row<'_>) -> String {
        row.reasons
            .iter()
            .map(|i| format!("[{}]", i + 1))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// The matrix of `report` with at most `max_rows` rows.
pub fn view(report: &Report, max_rows: usize) -> View<'_> {
    let all: Vec<(&RunReport, &Behaviour)> = report
        .scenarios
        .iter()
        .flat_map(|run| run.matrix.iter().map(move |b| (run, b)))
        .collect();
    let total = all.len();
    let impls = &report.implementations;
    // The group of each implementation in each row shown.
    let membership: Vec<Vec<Option<usize>>> = all
        .iter()
        .take(max_rows)
        .map(|(_, b)| {
            impls
                .iter()
                .map(|i| {
                    b.groups
                        .iter()
                        .position(|g| g.implementations.contains(&i.name))
                })
                .collect()
        })
        .collect();
    let mut columns: Vec<Column> = Vec::new();
    let mut first_of: Vec<usize> = Vec::new();
    for (k, info) in impls.iter().enumerate() {
        let folds = match (columns.last(), first_of.last()) {
            (Some(c), Some(&j)) => {
                let prev = c.members[0];
                !info.family.is_empty()
                    && info.family == prev.family
                    && !membership.is_empty()
                    && membership.iter().all(|m| m[k].is_some() && m[k] == m[j])
            }
            _ => false,
        };
        match columns.last_mut() {
            Some(c) if folds => c.members.push(info),
            _ => {
                columns.push(Column {
                    members: vec![info],
                });
                first_of.push(k);
            }
        }
    }
    let mut reasons: Vec<&str> = Vec::new();
    let mut rows = Vec::new();
    for ((run, b), m) in all.into_iter().zip(membership) {
        let groups: Vec<Option<usize>> = first_of.iter().map(|&k| m[k]).collect();
        let cells = groups
            .iter()
            .map(|g| g.map_or("-".to_string(), |g| b.groups[g].observation.cell()))
            .collect();
        let mut refs = Vec::new();
        for info in impls {
            let at_this_row = run
                .differences
                .iter()
                .any(|d| d.implementation == info.name && d.step == b.step);
            let Some(k) = difference_reason(run, &info.name).filter(|_| at_this_row) else {
                continue;
            };
            let i = match reasons.iter().position(|r| *r == k.reason) {
                Some(i) => i,
                None => {
                    reasons.push(&k.reason);
                    reasons.len() - 1
                }
            };
            if !refs.contains(&i) {
                refs.push(i);
            }
        }
        rows.push(Row {
            run,
            behaviour: b,
            cells,
            groups,
            reasons: refs,
        });
    }
    View {
        columns,
        rows,
        total,
        reasons,
    }
}

/// The matrix for a terminal: a fixed-width table, the reasons numbered under it. Empty when
/// every implementation agrees everywhere. Text from the report is not made terminal-safe
/// here: the caller prints it through [`super::terminal_safe`].
pub fn text(report: &Report, max_rows: usize) -> String {
    let v = view(report, max_rows);
    if v.rows.is_empty() {
        return String::new();
    }
    const OP_WIDTH: usize = 40;
    let op = |r: &Row| -> String {
        let op = r.op();
        if op.chars().count() > OP_WIDTH {
            let cut: String = op.chars().take(OP_WIDTH - 1).collect();
            format!("{cut}…")
        } else {
            op
        }
    };
    let run_w = v.rows.iter().map(|r| r.run.run.len()).max().unwrap_or(3);
    let op_w = v
        .rows
        .iter()
        .map(|r| op(r).chars().count())
        .max()
        .unwrap_or(2)
        .max(2);
    let widths: Vec<usize> = v
        .columns
        .iter()
        .enumerate()
        .map(|(c, col)| {
            v.rows
                .iter()
                .map(|r| r.cells[c].chars().count())
                .chain([col.header().chars().count()])
                .max()
                .unwrap_or(1)
        })
        .collect();
    let pad = |s: &str, w: usize| format!("{s}{}", " ".repeat(w.saturating_sub(s.chars().count())));
    let mut out = format!(
        "behaviour matrix: {} row(s) where the implementations do not all agree\n",
        v.total
    );
    let mut head = format!("{}  step  {}", pad("run", run_w), pad("op", op_w));
    for (col, w) in v.columns.iter().zip(&widths) {
        head.push_str(&format!("  {}", pad(&col.header(), *w)));
    }
    head.push_str("  reason");
    out.push_str(&head);
    out.push('\n');
    for r in &v.rows {
        let mut line = format!(
            "{}  {}  {}",
            pad(&r.run.run, run_w),
            pad(&r.step(), 4),
            pad(&op(r), op_w)
        );
        for (cell, w) in r.cells.iter().zip(&widths) {
            line.push_str(&format!("  {}", pad(cell, *w)));
        }
        line.push_str(&format!("  {}", v.refs(r)));
        out.push_str(line.trim_end());
        out.push('\n');
    }
    if v.omitted() > 0 {
        out.push_str(&format!(
            "... {} more row(s) (all of them: `matrix` of each run in the JSON report)\n",
            v.omitted()
        ));
    }
    for col in v.columns.iter().filter(|c| c.members.len() > 1) {
        out.push_str(&format!("{}: {}\n", col.header(), col.folded_names()));
    }
    for (i, reason) in v.reasons.iter().enumerate() {
        out.push_str(&format!("[{}] {reason}\n", i + 1));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::fixture;
    use super::*;
    use crate::contract::Outcome;

    /// The fixture report with `extra` columns whose traces are copies of `openssl`'s (or, for
    /// `(name, true)`, of `rustls`'s), all of family `openssl` but for rustls.
    fn with_columns(extra: &[(&str, &str, bool)]) -> Report {
        let mut r = fixture::report();
        for (name, version, like_rustls) in extra {
            r.implementations.push(ImplInfo {
                name: name.to_string(),
                version: version.to_string(),
                family: "openssl".into(),
                library: None,
            });
            for s in &mut r.scenarios {
                let from = if *like_rustls { "rustls" } else { "openssl" };
                let t = s.results[from].clone();
                s.results.insert(name.to_string(), t);
            }
        }
        recompute(&mut r);
        r
    }

    fn recompute(r: &mut Report) {
        for s in &mut r.scenarios {
            let traces: Vec<(&str, &crate::runner::Trace)> = r
                .implementations
                .iter()
                .map(|i| (i.name.as_str(), &s.results[&i.name]))
                .collect();
            s.matrix = crate::matrix::behaviours(&traces);
        }
    }

    fn headers(v: &View) -> Vec<String> {
        v.columns.iter().map(Column::header).collect()
    }

    #[test]
    fn adjacent_identical_columns_of_one_family_fold() {
        // openssl, rustls, then 3.6 and 4.0 (both as openssl): 3.6 and 4.0 fold together;
        // the reference does not fold with them, rustls stands between.
        let r = with_columns(&[
            ("openssl-3.6", "OpenSSL 3.6.3 1 Jan 2026", false),
            ("openssl-4.0", "OpenSSL 4.0.3 1 Jan 2026", false),
        ]);
        let v = view(&r, MAX_ROWS);
        assert_eq!(
            headers(&v),
            ["openssl 3.0.19", "rustls 0.23", "openssl 3.6.3 to 4.0.3"]
        );
        assert_eq!(v.columns[2].folded_names(), "openssl-3.6, openssl-4.0");
        let zero = v.rows.iter().find(|r| r.run.id == "zero").unwrap();
        assert_eq!(
            zero.cells,
            ["syscall [ret=-1]", "ok(0) [ret=-1]", "syscall [ret=-1]"]
        );
        assert_eq!(
            zero.reasons
                .iter()
                .map(|i| v.reasons[*i])
                .collect::<Vec<_>>(),
            ["zero-length writes differ"]
        );
    }

    #[test]
    fn headers_name_the_version_once() {
        let info = |name: &str, version: &str| ImplInfo {
            name: name.into(),
            version: version.into(),
            family: "boringssl".into(),
            library: None,
        };
        let (b, r) = (
            info("boringssl", "BoringSSL"),
            info("system", "OpenSSL 3.0.19 27 Jan"),
        );
        let one = |i: &ImplInfo| Column { members: vec![i] }.header();
        assert_eq!(one(&b), "boringssl");
        assert_eq!(one(&r), "system 3.0.19");
        let both = Column {
            members: vec![&r, &b],
        };
        assert_eq!(both.header(), "boringssl 3.0.19 to BoringSSL");
        assert_eq!(both.folded_names(), "system, boringssl");
    }

    #[test]
    fn a_single_differing_cell_prevents_folding() {
        let mut r = with_columns(&[
            ("openssl-3.6", "OpenSSL 3.6.3", false),
            ("openssl-4.0.3", "OpenSSL 4.0.3", false),
        ]);
        // 4.0 differs from 3.6 in one row only.
        let zero = r.scenarios.iter_mut().find(|s| s.id == "zero").unwrap();
        let t = zero.results.get_mut("openssl-4.0.3").unwrap();
        t.steps[1].call = Some(crate::contract::Call::new(Outcome::WantWrite, -1));
        recompute(&mut r);
        let v = view(&r, MAX_ROWS);
        assert_eq!(
            headers(&v),
            [
                "openssl 3.0.19",
                "rustls 0.23",
                "openssl-3.6 3.6.3",
                "openssl-4.0.3"
            ]
        );
        let zero = v.rows.iter().find(|r| r.run.id == "zero").unwrap();
        assert_eq!(zero.cells[3], "want_write [ret=-1]");
        assert_eq!(zero.groups, [Some(0), Some(1), Some(0), Some(2)]);
    }

    #[test]
    fn columns_of_other_families_or_other_behaviour_do_not_fold() {
        // A copy of rustls declared as openssl: identical cells, but another family than its
        // neighbour; and one behaving like rustls next to the openssl ones does not fold.
        let r = with_columns(&[("rustls-like", "OpenSSL 3.6.3", true)]);
        let v = view(&r, MAX_ROWS);
        assert_eq!(
            headers(&v),
            ["openssl 3.0.19", "rustls 0.23", "rustls-like 3.6.3"]
        );
    }

    #[test]
    fn the_cap_counts_the_rest_and_the_text_numbers_reasons_once() {
        let r = with_columns(&[("openssl-3.6", "OpenSSL 3.6.3", false)]);
        let all = view(&r, MAX_ROWS);
        assert_eq!(all.total, all.rows.len());
        let one = view(&r, 1);
        assert_eq!((one.rows.len(), one.omitted()), (1, all.total - 1));
        let t = text(&r, MAX_ROWS);
        assert!(t.contains("[1] zero-length writes differ\n"), "{t}");
        assert_eq!(t.matches("zero-length writes differ").count(), 1, "{t}");
        let zero = t.lines().find(|l| l.starts_with("zero/")).unwrap();
        assert!(zero.ends_with("[1]"), "{zero}");
        assert!(text(&r, 1).contains(&format!("... {} more row(s)", all.total - 1)));
        let mut agree = fixture::report();
        agree.scenarios.truncate(1);
        assert_eq!(text(&agree, MAX_ROWS), "");
    }
}
