//! `scenarios/known-divergences.json`: expected differences, each with a written reason.
//!
//! An entry *explains* a difference (or a violation), it never hides a run: the run is still
//! played, reported and diffed; its verdict becomes `known` and the reason is printed beside it.
//! Entries that match nothing are stale and reported as warnings.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::contract::{Role, Tls};
use crate::diff::Difference;
use crate::runner::Violation;
use crate::scenario::{ClauseId, RunKey};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KnownKind {
    /// The implementation differs from the reference.
    #[default]
    Divergence,
    /// The implementation breaks the contract there (a spec or invariant violation).
    Violation,
}

/// One expected difference.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KnownEntry {
    /// Glob over scenario ids (`rn-*`).
    pub scenario: String,
    /// The implementation label the entry is about.
    pub implementation: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<Tls>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// The step of the first difference (or of the violation), when it matters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<usize>,
    /// Glob over the step's one-line form (`write buf=0 content=stream len=0`), for entries
    /// that describe a behaviour wherever it occurs (the fuzzer's generated runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub op: Option<String>,
    /// Globs over the two differing values (`syscall`, `ok(*)`), for divergence entries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_value: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(default)]
    pub kind: KnownKind,
    /// The clause the difference concerns (for a violation: the violated clause).
    pub clause: ClauseId,
    /// Why: what the run actually shows and why it is expected.
    pub reason: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KnownFile {
    pub entries: Vec<KnownEntry>,
}

/// Loaded entries with compiled patterns.
#[derive(Debug)]
pub struct Known {
    pub entries: Vec<KnownEntry>,
    patterns: Vec<Patterns>,
}

#[derive(Debug)]
struct Patterns {
    scenario: glob::Pattern,
    op: Option<glob::Pattern>,
    reference_value: Option<glob::Pattern>,
    value: Option<glob::Pattern>,
}

fn opt_matches(p: &Option<glob::Pattern>, s: Option<&str>) -> bool {
    match (p, s) {
        (None, _) => true,
        (Some(p), Some(s)) => p.matches(s),
        (Some(_), None) => false,
    }
}

impl Known {
    pub fn empty() -> Known {
        Known {
            entries: Vec::new(),
            patterns: Vec::new(),
        }
    }

    /// Loads the file; a missing file is an empty list.
    pub fn load(path: &Path) -> Result<Known, String> {
        if !path.exists() {
            return Ok(Known::empty());
        }
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
        Known::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    pub fn parse(text: &str) -> Result<Known, String> {
        let file: KnownFile = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let mut patterns = Vec::new();
        for (i, e) in file.entries.iter().enumerate() {
            if e.reason.trim().len() < 10 {
                return Err(format!(
                    "entry {i} ({}, {}): every entry needs a written reason (at least a sentence)",
                    e.scenario, e.implementation
                ));
            }
            let compile = |what: &str, p: &str| {
                glob::Pattern::new(p)
                    .map_err(|err| format!("entry {i}: bad {what} pattern {p:?}: {err}"))
            };
            let opt =
                |what: &str, p: &Option<String>| p.as_deref().map(|p| compile(what, p)).transpose();
            patterns.push(Patterns {
                scenario: compile("scenario", &e.scenario)?,
                op: opt("op", &e.op)?,
                reference_value: opt("reference_value", &e.reference_value)?,
                value: opt("value", &e.value)?,
            });
        }
        Ok(Known {
            entries: file.entries,
            patterns,
        })
    }

    fn common(&self, i: usize, kind: KnownKind, key: &RunKey, implementation: &str) -> bool {
        let e = &self.entries[i];
        e.kind == kind
            && e.implementation == implementation
            && self.patterns[i].scenario.matches(&key.id)
            && e.tls.is_none_or(|t| t == key.tls)
            && e.role.is_none_or(|r| r == key.role)
    }

    /// The first divergence entry that explains `d` (at a step whose one-line form is `op`).
    pub fn explain_difference(
        &self,
        key: &RunKey,
        implementation: &str,
        d: &Difference,
        op: Option<&str>,
    ) -> Option<usize> {
        (0..self.entries.len()).find(|&i| {
            let (e, p) = (&self.entries[i], &self.patterns[i]);
            self.common(i, KnownKind::Divergence, key, implementation)
                && (e.step.is_none() || e.step == d.step)
                && opt_matches(&p.op, op)
                && opt_matches(&p.reference_value, Some(&d.reference_value))
                && opt_matches(&p.value, Some(&d.value))
        })
    }

    /// The first violation entry that explains `v` (at a step whose one-line form is `op`).
    pub fn explain_violation(
        &self,
        key: &RunKey,
        implementation: &str,
        v: &Violation,
        op: Option<&str>,
    ) -> Option<usize> {
        (0..self.entries.len()).find(|&i| {
            let (e, p) = (&self.entries[i], &self.patterns[i]);
            self.common(i, KnownKind::Violation, key, implementation)
                && e.clause.0 == v.clause
                && (e.step.is_none() || e.step == v.step)
                && opt_matches(&p.op, op)
        })
    }

    /// A divergence entry that expects *this run* to differ wherever it differs (no step, op or
    /// value filter): used to warn when the run now agrees.
    pub fn expects_difference(&self, key: &RunKey, implementation: &str) -> Option<usize> {
        (0..self.entries.len()).find(|&i| {
            let e = &self.entries[i];
            self.common(i, KnownKind::Divergence, key, implementation)
                && e.step.is_none()
                && e.op.is_none()
                && e.value.is_none()
                && e.reference_value.is_none()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::Modes;

    fn key(id: &str, tls: Tls) -> RunKey {
        RunKey {
            id: id.into(),
            tls,
            role: Role::Client,
            modes: Modes::default(),
        }
    }

    #[test]
    fn entries_need_reasons() {
        let e = Known::parse(
            r#"{"entries":[{"scenario":"x","implementation":"rustls","clause":"W5","reason":""}]}"#,
        );
        assert!(e.unwrap_err().contains("written reason"));
    }

    fn diff(step: usize, a: &str, b: &str) -> Difference {
        Difference {
            implementation: "rustls".into(),
            reference: "openssl".into(),
            step: Some(step),
            field: "outcome".into(),
            reference_value: a.into(),
            value: b.into(),
        }
    }

    #[test]
    fn matching_respects_glob_tls_step_and_kind() {
        let k = Known::parse(
            r#"{"entries":[{"scenario":"rn-*","implementation":"rustls","tls":"1.2","step":3,
                "clause":"W5","reason":"rustls never renegotiates; it answers no_renegotiation"}]}"#,
        )
        .unwrap();
        let d = diff(3, "ok(1)", "want_read");
        assert_eq!(
            k.explain_difference(&key("rn-mid-write", Tls::V12), "rustls", &d, None),
            Some(0)
        );
        assert_eq!(
            k.explain_difference(&key("rn-mid-write", Tls::V13), "rustls", &d, None),
            None
        );
        assert_eq!(
            k.explain_difference(
                &key("rn-mid-write", Tls::V12),
                "rustls",
                &diff(4, "a", "b"),
                None
            ),
            None
        );
        assert_eq!(
            k.explain_difference(&key("rn-mid-write", Tls::V12), "openssl", &d, None),
            None
        );
        assert_eq!(
            k.explain_difference(&key("ku-x", Tls::V12), "rustls", &d, None),
            None
        );
        let v = Violation {
            clause: "W5".into(),
            kind: "spec".into(),
            step: Some(3),
            detail: String::new(),
        };
        assert_eq!(
            k.explain_violation(&key("rn-a", Tls::V12), "rustls", &v, None),
            None,
            "kind differs"
        );
    }

    #[test]
    fn behaviour_entries_match_op_and_values() {
        let k = Known::parse(
            r#"{"entries":[{"scenario":"*","implementation":"rustls","op":"write *len=0",
                "reference_value":"syscall","value":"ok(*)","clause":"W9",
                "reason":"zero-length SSL_write: OpenSSL fails, rustls accepts"}]}"#,
        )
        .unwrap();
        let k0 = key("fuzz", Tls::V13);
        let op = Some("write buf=0 content=stream len=0");
        assert_eq!(
            k.explain_difference(&k0, "rustls", &diff(1, "syscall", "ok(0)"), op),
            Some(0)
        );
        assert_eq!(
            k.explain_difference(&k0, "rustls", &diff(1, "want_write", "ok(0)"), op),
            None
        );
        let other = Some("write buf=0 content=stream len=10");
        assert_eq!(
            k.explain_difference(&k0, "rustls", &diff(1, "syscall", "ok(0)"), other),
            None
        );
    }
}
