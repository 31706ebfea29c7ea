//! The JSON report (the contract with CI; documented field by field in reports/README.md)
//! and its compact terminal table.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::contract::{ImplInfo, Modes, Role, Tls};
use crate::diff::{Difference, Verdict};
use crate::runner::Trace;
use crate::transport::TransportKind;

/// Bumped on any change a consumer of the JSON could notice.
pub const SCHEMA_VERSION: u32 = 2;

/// The earlier versions [`Report::read`] still reads. Version 1 has no behaviour matrix: it is
/// computed from the report's traces as the report is read.
pub const READABLE_SCHEMA_VERSIONS: [u32; 2] = [1, SCHEMA_VERSION];

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub schema_version: u32,
    pub harness: ImplInfo,
    pub implementations: Vec<ImplInfo>,
    /// The implementation every other one is compared against.
    pub reference: String,
    /// The peer every run played against: the second party of each connection, not an
    /// implementation under test (`--peer`; the linked OpenSSL by default). Absent in reports
    /// written before `--peer` existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer: Option<ImplInfo>,
    pub host: String,
    /// Seconds since the Unix epoch when the run started.
    pub started_unix: u64,
    pub duration_ms: u64,
    pub command_line: Vec<String>,
    /// One entry per scenario run.
    pub scenarios: Vec<RunReport>,
    /// For each clause: the runs that cover it and each implementation's verdict there.
    pub clauses: BTreeMap<String, ClauseView>,
    pub summary: Summary,
    /// Stale known-divergence entries and the like.
    pub warnings: Vec<String>,
    /// False when the harness was stopped (SIGINT/SIGTERM) before every selected run finished:
    /// the report holds the runs that did.
    #[serde(default = "yes")]
    pub complete: bool,
    /// The transports the runs went over (`memory`, `tcp`).
    #[serde(default = "memory_only")]
    pub transports: Vec<TransportKind>,
    /// With both transports: where a TCP run and the same run in memory differ.
    #[serde(default)]
    pub transport_differences: Vec<TransportDifference>,
    /// Set when the report is one shard of a run (`--shard I/N`): what `merge` needs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<crate::shard::ShardRecord>,
}

/// The version number in a version string, for column headers: `OpenSSL 3.0.19 27 Jan 2026` →
/// `3.0.19`, `rustls 0.23.46 (ring)` → `0.23.46` (the whole string when none is found).
pub fn short_version(version: &str) -> &str {
    version
        .split_whitespace()
        .find(|w| w.starts_with(|c: char| c.is_ascii_digit()))
        .unwrap_or(version)
}

fn yes() -> bool {
    true
}

fn memory_only() -> Vec<TransportKind> {
    vec![TransportKind::Memory]
}

/// The first difference between one implementation's run over TCP and the same run in memory.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransportDifference {
    /// The run's name (the memory run's; the TCP run has `/tcp` after it).
    pub run: String,
    pub implementation: String,
    pub step: Option<usize>,
    /// As in a run's `differences`: `outcome`, `bytes`, `status`, ...
    pub field: String,
    pub memory: String,
    pub tcp: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    /// The scenario id.
    pub id: String,
    /// The run's full name: `id/tls1.3/client/partial_write`.
    pub run: String,
    /// The transport the run went over.
    #[serde(default)]
    pub transport: TransportKind,
    pub title: String,
    pub file: String,
    pub clauses: Vec<String>,
    pub situations: Vec<String>,
    pub tls: Tls,
    pub role: Role,
    pub modes: Modes,
    pub verdict: Verdict,
    /// First difference of each implementation that differs from the reference.
    pub differences: Vec<Difference>,
    /// Known-divergence entries that explain differences or violations here.
    pub known: Vec<KnownMatch>,
    /// Differences that are not divergences (error wording).
    pub notes: Vec<String>,
    /// Per implementation: its trace, with invariant and spec violations.
    pub results: BTreeMap<String, Trace>,
    /// The behaviour matrix: the steps (and the end) where the implementations do not all
    /// agree, each with the implementations grouped by observation ([`crate::matrix`]).
    /// Empty (and absent from the JSON) when they all agree.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub matrix: Vec<crate::matrix::Behaviour>,
    /// Where an implementation differs from the reference in the error queue or on the wire
    /// ([`crate::aspects`]): at most [`crate::aspects::MAX_PER_RUN`], the unexplained first.
    /// They never change the verdict.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aspects: Vec<crate::aspects::AspectDifference>,
    /// Aspect differences left out of `aspects`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub aspects_omitted: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// The aspect differences of a report, counted (`summary.aspects`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AspectCounts {
    /// Listed `queue` differences.
    pub queue: usize,
    /// Listed `wire` differences.
    pub wire: usize,
    /// Listed differences of either kind that no known entry explains (failures with
    /// `--strict-aspects`).
    pub unexplained: usize,
    /// Differences left out of the runs' lists (each run keeps the unexplained first).
    pub omitted: usize,
}

impl AspectCounts {
    /// Counts the aspect differences of `runs`.
    pub fn of(runs: &[RunReport]) -> AspectCounts {
        let mut c = AspectCounts::default();
        for r in runs {
            for a in &r.aspects {
                match a.kind {
                    crate::aspects::AspectKind::Queue => c.queue += 1,
                    crate::aspects::AspectKind::Wire => c.wire += 1,
                }
                c.unexplained += usize::from(a.entry.is_none());
            }
            c.omitted += r.aspects_omitted;
        }
        c
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KnownMatch {
    /// The implementation whose difference (or violation) is explained.
    pub implementation: String,
    /// `divergence` or `violation`.
    pub kind: String,
    pub clause: String,
    pub reason: String,
    /// The id of the known-divergence entry that explained it (absent in reports written
    /// before entries had ids).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry: Option<String>,
    /// The implementation whose behaviour the entry describes, when that is not
    /// `implementation`: the reference, which deviated there while `implementation` did what
    /// the entry was written against.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub describes: Option<String>,
}

/// One implementation's standing on one clause.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClauseVerdict {
    /// Checked, and every check of the clause held.
    Conforms,
    /// At least one run broke the clause and no known entry explains it.
    Violates,
    /// The clause was broken, and a known entry explains every such violation.
    Known,
    /// The clause is exercised (cited by the run's scenario), but nothing checked it: recorded
    /// and diffed only.
    RecordedOnly,
    /// No run of this implementation checked or exercised the clause (a partial selection).
    NotExercised,
}

impl ClauseVerdict {
    /// The verdict as the JSON writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            ClauseVerdict::Conforms => "conforms",
            ClauseVerdict::Violates => "violates",
            ClauseVerdict::Known => "known",
            ClauseVerdict::RecordedOnly => "recorded_only",
            ClauseVerdict::NotExercised => "not_exercised",
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ClauseView {
    /// The runs where some implementation's run checked the clause (`checked` of its trace).
    pub runs: Vec<String>,
    /// The runs whose scenario cites the clause but where nothing checked it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recorded_runs: Vec<String>,
    /// Per implementation: the verdict and the runs that violate the clause.
    pub implementations: BTreeMap<String, ClauseStanding>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClauseStanding {
    pub verdict: ClauseVerdict,
    /// How many of this implementation's runs checked the clause.
    #[serde(default)]
    pub checked_runs: usize,
    /// The runs with a violation of the clause that no known entry explains.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub violating_runs: Vec<String>,
    /// The runs whose violations of the clause known entries all explain.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub known_runs: Vec<String>,
}

impl ClauseStanding {
    /// The standing in a few words, as the tables show it: `conforms (12)` (runs checked),
    /// `violates (2 of 12)`, `known (1 of 12)`, `recorded only`, `not exercised`.
    pub fn label(&self) -> String {
        match self.verdict {
            ClauseVerdict::Conforms => format!("conforms ({})", self.checked_runs),
            ClauseVerdict::Violates => format!(
                "violates ({} of {})",
                self.violating_runs.len(),
                self.checked_runs
            ),
            ClauseVerdict::Known => {
                format!("known ({} of {})", self.known_runs.len(), self.checked_runs)
            }
            ClauseVerdict::RecordedOnly => "recorded only".to_string(),
            ClauseVerdict::NotExercised => "not exercised".to_string(),
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub runs: usize,
    /// Count of runs per verdict (every verdict listed, zero included).
    pub verdicts: BTreeMap<String, usize>,
    /// Per implementation: violations not explained by a known entry.
    pub unexpected_violations: BTreeMap<String, usize>,
    /// Per implementation: violations explained by a known entry.
    pub known_violations: BTreeMap<String, usize>,
    /// Whether the run is clean: no divergence, no unexplained violation, no error.
    pub passed: bool,
    /// Per implementation: the ids of the known entries about it (or written against it)
    /// that explained nothing where it played (stale; failures with `--strict`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub stale_entries: BTreeMap<String, Vec<String>>,
    /// The runs' queue and wire differences, counted: they never change `passed`.
    #[serde(default)]
    pub aspects: AspectCounts,
}

impl Report {
    /// Writes the report atomically: a temporary file beside `path`, then a rename.
    pub fn write(&self, path: &Path) -> Result<(), String> {
        let mut text = serde_json::to_vec_pretty(self).map_err(|e| format!("serializing: {e}"))?;
        text.push(b'\n');
        crate::render::write_atomic(path, &text)
    }

    /// Reads a saved report. Errors name the file and say what to do: a file that is not JSON
    /// or not a report, or one written with another `schema_version` than this build reads.
    pub fn read(path: &Path) -> Result<Report, String> {
        let bytes = std::fs::read(path)
            .map_err(|e| format!("cannot read the report {}: {e}", path.display()))?;
        let value: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|e| format!("{} is not JSON: {e}", path.display()))?;
        let version = match value.get("schema_version").and_then(serde_json::Value::as_u64) {
            Some(v) if READABLE_SCHEMA_VERSIONS.iter().any(|r| u64::from(*r) == v) => v,
            Some(v) => {
                return Err(format!(
                    "{} has schema_version {v}, this sslwrite reads schema_version {}; regenerate it with `cargo xtask conformance` (or use the sslwrite that wrote it)",
                    path.display(),
                    READABLE_SCHEMA_VERSIONS
                        .iter()
                        .map(u32::to_string)
                        .collect::<Vec<_>>()
                        .join(" or ")
                ))
            }
            None => {
                return Err(format!(
                    "{} is not an sslwrite report: it has no numeric schema_version",
                    path.display()
                ))
            }
        };
        let mut report: Report = serde_json::from_value(value).map_err(|e| {
            format!(
                "{} is not a valid sslwrite report (schema_version {version}): {e}",
                path.display()
            )
        })?;
        if version < u64::from(SCHEMA_VERSION) {
            report.upgrade();
        }
        Ok(report)
    }

    /// Brings a report of an earlier schema version read into this one up to date: the
    /// behaviour matrix of each run, computed from its traces in column order.
    fn upgrade(&mut self) {
        for run in &mut self.scenarios {
            let traces: Vec<(&str, &Trace)> = self
                .implementations
                .iter()
                .filter_map(|i| run.results.get_key_value(&i.name))
                .map(|(n, t)| (n.as_str(), t))
                .collect();
            run.matrix = crate::matrix::behaviours(&traces);
        }
        self.schema_version = SCHEMA_VERSION;
    }

    /// The compact table: one row per run, one column per implementation, and the verdict.
    pub fn table(&self) -> String {
        self.table_styled(false)
    }

    /// The columns of the terminal tables: each implementation's name, its version number
    /// (the line under the name) and the width that fits both (at least `min`).
    /// Column names and short versions, made safe for a terminal (a library's version string
    /// is its own text), with their widths.
    /// (the name as results are keyed by it, the name shown, the version shown, the width)
    fn columns(&self, min: usize) -> Vec<(&str, String, String, usize)> {
        self.implementations
            .iter()
            .map(|i| {
                let v = crate::render::terminal_safe(short_version(&i.version));
                let n = crate::render::terminal_safe(&i.name);
                let w = min.max(n.chars().count()).max(v.chars().count());
                (i.name.as_str(), n, v, w)
            })
            .collect()
    }

    /// The table, with the verdict column in ANSI colours when `color` is set.
    pub fn table_styled(&self, color: bool) -> String {
        let cols = self.columns(9);
        let width = self
            .scenarios
            .iter()
            .map(|s| s.run.len())
            .max()
            .unwrap_or(3)
            .max(3);
        let mut out = format!("{:width$}", "run");
        for (_, n, _, w) in &cols {
            out.push_str(&format!("  {n:<w$}"));
        }
        out.push_str("  verdict\n");
        let mut versions = format!("{:width$}", "");
        for (_, _, v, w) in &cols {
            versions.push_str(&format!("  {v:<w$}"));
        }
        out.push_str(versions.trim_end());
        out.push('\n');
        for s in &self.scenarios {
            out.push_str(&format!("{:width$}", s.run));
            for (n, _, _, w) in &cols {
                let cell = s.results.get(*n).map_or("-", status_label);
                out.push_str(&format!("  {cell:<w$}"));
            }
            let verdict = s.verdict.as_str();
            if color {
                out.push_str(&format!("  {}{verdict}\x1b[0m", ansi(s.verdict)));
            } else {
                out.push_str(&format!("  {verdict}"));
            }
            if let Some(d) = s.differences.first() {
                let at = d.step.map_or(String::new(), |i| format!(" step {i}"));
                // The raw return values behind two differing outcomes (`[ret=-1]`).
                let raw = |who: &str| -> String {
                    let call = d.step.and_then(|i| {
                        let t = s.results.get(who)?;
                        t.steps.iter().find(|r| r.index == i)?.call.as_ref()
                    });
                    match call.and_then(crate::render::raw_pair) {
                        Some(r) if d.field == "outcome" => format!(" [{r}]"),
                        _ => String::new(),
                    }
                };
                out.push_str(&crate::render::terminal_safe(&format!(
                    "  ({}{at} {}: {}{} vs {}{})",
                    d.implementation,
                    d.field,
                    d.reference_value,
                    raw(&d.reference),
                    d.value,
                    raw(&d.implementation)
                )));
            }
            out.push('\n');
        }
        out
    }

    /// The clause view as a table: clause, runs that checked it, each implementation's
    /// standing.
    pub fn clause_table(&self) -> String {
        let cols = self.columns(18);
        let mut out = format!("{:<7}{:>7}", "clause", "checked");
        for (_, n, _, w) in &cols {
            out.push_str(&format!("  {n:<w$}"));
        }
        out.push('\n');
        let mut versions = format!("{:<14}", "");
        for (_, _, v, w) in &cols {
            versions.push_str(&format!("  {v:<w$}"));
        }
        out.push_str(versions.trim_end());
        out.push('\n');
        let ordered = crate::scenario::CLAUSES
            .iter()
            .filter_map(|c| self.clauses.get(*c).map(|v| (c, v)));
        for (clause, view) in ordered {
            out.push_str(&format!("{clause:<7}{:>7}", view.runs.len()));
            for (n, _, _, w) in &cols {
                let v = view
                    .implementations
                    .get(*n)
                    .map_or("-".to_string(), ClauseStanding::label);
                out.push_str(&format!("  {v:<w$}"));
            }
            out.push('\n');
        }
        out
    }

    /// Notes and known reasons, run by run, for the runs that have any (`--verbose`).
    pub fn details_text(&self) -> String {
        let mut out = String::new();
        for s in &self.scenarios {
            if s.known.is_empty() && s.notes.is_empty() {
                continue;
            }
            out.push_str(&format!("{}  {}\n", s.run, s.verdict.as_str()));
            for k in &s.known {
                out.push_str(&format!(
                    "  known ({}, {} {}): {}\n",
                    k.implementation, k.kind, k.clause, k.reason
                ));
            }
            for n in &s.notes {
                out.push_str(&format!("  note: {n}\n"));
            }
        }
        out
    }

    /// The closing summary lines.
    pub fn summary_text(&self) -> String {
        let v = &self.summary.verdicts;
        let get = |k: &str| v.get(k).copied().unwrap_or(0);
        let mut out = format!(
            "{} runs: {} agree, {} diverge, {} known, {} skip, {} error\n",
            self.summary.runs,
            get("agree"),
            get("diverge"),
            get("known"),
            get("skip"),
            get("error")
        );
        for i in &self.implementations {
            out.push_str(&format!(
                "{}: {} unexpected violations, {} known ({})\n",
                i.name,
                self.summary
                    .unexpected_violations
                    .get(&i.name)
                    .unwrap_or(&0),
                self.summary.known_violations.get(&i.name).unwrap_or(&0),
                i.version
            ));
        }
        if let Some(p) = &self.peer {
            out.push_str(&format!("peer: {} ({})\n", p.name, p.version));
        }
        let (mut crashes, mut timeouts) = (0, 0);
        for t in self.scenarios.iter().flat_map(|s| s.results.values()) {
            match t.status {
                crate::runner::RunStatus::Crash { .. } => crashes += 1,
                crate::runner::RunStatus::Timeout { .. } => timeouts += 1,
                _ => {}
            }
        }
        if crashes + timeouts > 0 {
            out.push_str(&format!(
                "{crashes} crashed and {timeouts} timed-out run(s) (I4); every other run went on\n"
            ));
        }
        if self.transports.len() > 1 {
            out.push_str(&format!(
                "memory vs tcp: {} run × implementation pair(s) differ\n",
                self.transport_differences.len()
            ));
            for d in self.transport_differences.iter().take(10) {
                let at = d.step.map_or(String::new(), |i| format!(" step {i}"));
                out.push_str(&format!(
                    "  {} [{}]{at} {}: memory {}, tcp {}\n",
                    d.run, d.implementation, d.field, d.memory, d.tcp
                ));
            }
            if self.transport_differences.len() > 10 {
                out.push_str("  ... (all of them: transport_differences in the JSON report)\n");
            }
        }
        out.push_str(&crate::render::aspects::headline(self));
        if !self.complete {
            out.push_str(
                "INCOMPLETE: not every selected run is here (the harness was stopped before every run finished, or a merge lacks shards)\n",
            );
        }
        for w in &self.warnings {
            out.push_str(&format!("warning: {w}\n"));
        }
        out
    }
}

/// The ANSI colour that starts a verdict in the terminal table.
fn ansi(v: Verdict) -> &'static str {
    match v {
        Verdict::Agree => "\x1b[32m",
        Verdict::Diverge => "\x1b[1;31m",
        Verdict::Known => "\x1b[33m",
        Verdict::Skip => "\x1b[36m",
        Verdict::Error => "\x1b[1;35m",
    }
}

/// How one implementation's run went, in a word: `ok`, `violation`, `skip`, `deadlock`,
/// `crash`, `error` (the terminal table's cells, the HTML matrix's `data-status`).
pub fn status_label(t: &Trace) -> &'static str {
    use crate::runner::RunStatus;
    match &t.status {
        RunStatus::Error { .. } => "error",
        RunStatus::Skipped { .. } => "skip",
        RunStatus::Deadlock { .. } => "deadlock",
        RunStatus::Crash { .. } => "crash",
        RunStatus::Timeout { .. } => "timeout",
        RunStatus::Completed if !t.violations.is_empty() => "violation",
        RunStatus::Completed => "ok",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::fixture;

    fn temp(name: &str) -> std::path::PathBuf {
        std::env::temp_dir().join(format!("sslwrite-report-{}-{name}", std::process::id()))
    }

    #[test]
    fn table_columns_carry_name_and_version_number() {
        assert_eq!(short_version("OpenSSL 3.0.19 27 Jan 2026"), "3.0.19");
        assert_eq!(short_version("rustls 0.23.46 (ring)"), "0.23.46");
        assert_eq!(short_version("custom"), "custom");
        let mut r = fixture::report();
        r.implementations[1].name = "a-long-library-label".into();
        for s in &mut r.scenarios {
            if let Some(t) = s.results.remove("rustls") {
                s.results.insert("a-long-library-label".into(), t);
            }
        }
        let table = r.table();
        let mut lines = table.lines();
        let head = lines.next().unwrap();
        let versions = lines.next().unwrap();
        assert!(
            head.contains("openssl") && head.contains("a-long-library-label"),
            "{head}"
        );
        assert!(
            versions.contains("3.0.19") && versions.contains("0.23"),
            "{versions}"
        );
        assert_eq!(
            head.find("a-long-library-label"),
            versions.find("0.23"),
            "the version sits under its column"
        );
        let row = lines.next().unwrap();
        let verdict = head.find("verdict").unwrap();
        assert!(
            row.len() > verdict,
            "cells are as wide as the longest label: {row}"
        );
    }

    #[test]
    fn a_written_report_reads_back_equal() {
        let r = fixture::report();
        let p = temp("roundtrip.json");
        r.write(&p).unwrap();
        assert_eq!(Report::read(&p).unwrap(), r);
        std::fs::remove_file(&p).unwrap();
    }

    #[test]
    fn a_version_1_report_reads_with_its_matrix_computed_from_its_traces() {
        let r = fixture::report();
        assert!(r.scenarios.iter().any(|s| !s.matrix.is_empty()));
        let mut v = serde_json::to_value(&r).unwrap();
        v["schema_version"] = serde_json::json!(1);
        for s in v["scenarios"].as_array_mut().unwrap() {
            s.as_object_mut().unwrap().remove("matrix");
        }
        let p = temp("v1.json");
        std::fs::write(&p, v.to_string()).unwrap();
        assert_eq!(Report::read(&p).unwrap(), r);
        std::fs::remove_file(&p).unwrap();
    }

    #[test]
    fn reading_names_the_file_and_the_problem() {
        let p = temp("bad.json");
        std::fs::write(&p, "{not json").unwrap();
        let err = Report::read(&p).unwrap_err();
        assert!(
            err.contains(&p.display().to_string()) && err.contains("not JSON"),
            "{err}"
        );

        let mut v = serde_json::to_value(fixture::report()).unwrap();
        v["schema_version"] = serde_json::json!(SCHEMA_VERSION + 1);
        std::fs::write(&p, v.to_string()).unwrap();
        let err = Report::read(&p).unwrap_err();
        assert!(err.contains(&p.display().to_string()), "{err}");
        assert!(
            err.contains(&format!("schema_version {}", SCHEMA_VERSION + 1)),
            "{err}"
        );

        v["schema_version"] = serde_json::json!(SCHEMA_VERSION);
        v.as_object_mut().unwrap().remove("summary");
        std::fs::write(&p, v.to_string()).unwrap();
        let err = Report::read(&p).unwrap_err();
        assert!(err.contains("missing field `summary`"), "{err}");
        std::fs::remove_file(&p).unwrap();
        let err = Report::read(&p).unwrap_err();
        assert!(err.contains("cannot read the report"), "{err}");
    }

    #[test]
    fn only_the_styled_table_has_colours_and_only_on_the_verdict() {
        let r = fixture::report();
        assert!(!r.table().contains('\x1b'));
        let styled = r.table_styled(true);
        let row = styled.lines().find(|l| l.starts_with("shutdown/")).unwrap();
        assert!(row.contains("\x1b[1;31mdiverge\x1b[0m"), "{row:?}");
        assert_eq!(styled.matches("\x1b[0m").count(), r.scenarios.len());
    }

    #[test]
    fn the_summary_says_when_a_report_is_incomplete_crashed_or_over_two_transports() {
        let mut r = fixture::report();
        assert!(!r.summary_text().contains("INCOMPLETE"));
        r.complete = false;
        r.transports = vec![TransportKind::Memory, TransportKind::Tcp];
        r.transport_differences.push(TransportDifference {
            run: "agrees/tls1.3/client/auto_retry".into(),
            implementation: "rustls".into(),
            step: Some(2),
            field: "outcome".into(),
            memory: "want_write".into(),
            tcp: "ok(100)".into(),
        });
        let t = r.scenarios[0].results.get_mut("rustls").unwrap();
        t.status = crate::runner::RunStatus::Timeout {
            step: Some(2),
            message: "no answer".into(),
            stderr: None,
        };
        let text = r.summary_text();
        assert!(
            text.contains("INCOMPLETE: not every selected run is here (the harness was stopped"),
            "{text}"
        );
        assert!(
            text.contains("0 crashed and 1 timed-out run(s) (I4)"),
            "{text}"
        );
        assert!(
            text.contains("memory vs tcp: 1 run × implementation pair(s) differ\n  agrees/tls1.3/client/auto_retry [rustls] step 2 outcome: memory want_write, tcp ok(100)\n"),
            "{text}"
        );
        assert!(r.table().contains("timeout"));
        let md = crate::render::markdown::render(&r, None);
        assert!(md.contains("**Incomplete**"), "{md}");
        assert!(md.contains("Transports: memory and tcp; 1 run"), "{md}");
    }

    #[test]
    fn details_list_known_reasons_and_notes_of_the_runs_that_have_them() {
        let mut r = fixture::report();
        r.scenarios[0].notes.push("step 1: wording differs".into());
        let text = r.details_text();
        assert!(
            text.contains(
                "agrees/tls1.3/client/auto_retry  agree\n  note: step 1: wording differs\n"
            ),
            "{text}"
        );
        assert!(text.contains("known (rustls, divergence W9): zero-length writes differ"));
        assert!(
            !text.contains("reneg/"),
            "runs without notes or reasons are left out"
        );
    }
}
