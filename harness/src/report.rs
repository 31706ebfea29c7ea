//! The JSON report (the contract with CI; documented field by field in reports/README.md)
//! and its compact terminal table.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::contract::{ImplInfo, Modes, Role, Tls};
use crate::diff::{Difference, Verdict};
use crate::runner::Trace;

/// Bumped on any change a consumer of the JSON could notice.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub schema_version: u32,
    pub harness: ImplInfo,
    pub implementations: Vec<ImplInfo>,
    /// The implementation every other one is compared against.
    pub reference: String,
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
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    /// The scenario id.
    pub id: String,
    /// The run's full name: `id/tls1.3/client/partial_write`.
    pub run: String,
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
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KnownMatch {
    pub implementation: String,
    /// `divergence` or `violation`.
    pub kind: String,
    pub clause: String,
    pub reason: String,
}

/// One implementation's standing on one clause.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClauseVerdict {
    /// Every expectation about the clause held.
    Conforms,
    /// At least one run broke an expectation or invariant for the clause.
    Violates,
    /// The clause is exercised, but nothing states what must happen: recorded and diffed only.
    RecordedOnly,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ClauseView {
    pub runs: Vec<String>,
    /// Per implementation: the verdict and the runs that violate the clause.
    pub implementations: BTreeMap<String, ClauseStanding>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClauseStanding {
    pub verdict: ClauseVerdict,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub violating_runs: Vec<String>,
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
}

impl Report {
    /// Writes the report atomically: a temporary file beside `path`, then a rename.
    pub fn write(&self, path: &Path) -> Result<(), String> {
        let text = serde_json::to_vec_pretty(self).map_err(|e| format!("serializing: {e}"))?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        let tmp = path.with_extension("json.tmp");
        let mut f = std::fs::File::create(&tmp)
            .map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
        f.write_all(&text)
            .and_then(|()| f.write_all(b"\n"))
            .and_then(|()| f.sync_all())
            .map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
        std::fs::rename(&tmp, path)
            .map_err(|e| format!("cannot move {} to {}: {e}", tmp.display(), path.display()))
    }

    /// The compact table: one row per run, one column per implementation, and the verdict.
    pub fn table(&self) -> String {
        let names: Vec<&str> = self
            .implementations
            .iter()
            .map(|i| i.name.as_str())
            .collect();
        let width = self
            .scenarios
            .iter()
            .map(|s| s.run.len())
            .max()
            .unwrap_or(3)
            .max(3);
        let mut out = format!("{:width$}", "run");
        for n in &names {
            out.push_str(&format!("  {n:<9}"));
        }
        out.push_str("  verdict\n");
        for s in &self.scenarios {
            out.push_str(&format!("{:width$}", s.run));
            for n in &names {
                let cell = s.results.get(*n).map_or("-", cell);
                out.push_str(&format!("  {cell:<9}"));
            }
            out.push_str(&format!("  {}", s.verdict.as_str()));
            if let Some(d) = s.differences.first() {
                let at = d.step.map_or(String::new(), |i| format!(" step {i}"));
                out.push_str(&format!(
                    "  ({}{at} {}: {} vs {})",
                    d.implementation, d.field, d.reference_value, d.value
                ));
            }
            out.push('\n');
        }
        out
    }

    /// The clause view as a table: clause, runs citing it, each implementation's verdict.
    pub fn clause_table(&self) -> String {
        let names: Vec<&str> = self
            .implementations
            .iter()
            .map(|i| i.name.as_str())
            .collect();
        let mut out = format!("{:<7}{:>5}", "clause", "runs");
        for n in &names {
            out.push_str(&format!("  {n:<14}"));
        }
        out.push('\n');
        let ordered = crate::scenario::CLAUSES
            .iter()
            .filter_map(|c| self.clauses.get(*c).map(|v| (c, v)));
        for (clause, view) in ordered {
            out.push_str(&format!("{clause:<7}{:>5}", view.runs.len()));
            for n in &names {
                let v =
                    view.implementations
                        .get(*n)
                        .map_or("-".to_string(), |st| match st.verdict {
                            ClauseVerdict::Conforms => "conforms".to_string(),
                            ClauseVerdict::RecordedOnly => "recorded-only".to_string(),
                            ClauseVerdict::Violates => {
                                format!("violates({})", st.violating_runs.len())
                            }
                        });
                out.push_str(&format!("  {v:<14}"));
            }
            out.push('\n');
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
        for w in &self.warnings {
            out.push_str(&format!("warning: {w}\n"));
        }
        out
    }
}

/// A table cell: how one implementation's run went.
fn cell(t: &Trace) -> &'static str {
    use crate::runner::RunStatus;
    match &t.status {
        RunStatus::Error { .. } => "error",
        RunStatus::Skipped { .. } => "skip",
        RunStatus::Deadlock { .. } => "deadlock",
        RunStatus::Completed if !t.violations.is_empty() => "violation",
        RunStatus::Completed => "ok",
    }
}
