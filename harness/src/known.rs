//! `scenarios/known-divergences.json`: expected differences, each with a written reason.
//!
//! An entry *explains* a difference (or a violation), it never hides a run: the run is still
//! played, reported and diffed; its verdict becomes `known` and the reason is printed beside it.
//! Entries that match nothing are stale and reported as warnings.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::contract::{Role, Tls};
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
    patterns: Vec<glob::Pattern>,
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
            patterns.push(glob::Pattern::new(&e.scenario).map_err(|err| {
                format!("entry {i}: bad scenario pattern {:?}: {err}", e.scenario)
            })?);
        }
        Ok(Known {
            entries: file.entries,
            patterns,
        })
    }

    /// The first entry of `kind` that matches: run, implementation, step, and for violations
    /// the clause.
    pub fn find(
        &self,
        kind: KnownKind,
        key: &RunKey,
        implementation: &str,
        step: Option<usize>,
        clause: Option<&str>,
    ) -> Option<usize> {
        self.entries.iter().enumerate().position(|(i, e)| {
            e.kind == kind
                && e.implementation == implementation
                && self.patterns[i].matches(&key.id)
                && e.tls.is_none_or(|t| t == key.tls)
                && e.role.is_none_or(|r| r == key.role)
                && (e.step.is_none() || e.step == step)
                && clause.is_none_or(|c| e.clause.0 == c)
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

    #[test]
    fn matching_respects_glob_tls_step_and_kind() {
        let k = Known::parse(
            r#"{"entries":[{"scenario":"rn-*","implementation":"rustls","tls":"1.2","step":3,
                "clause":"W5","reason":"rustls never renegotiates; it answers no_renegotiation"}]}"#,
        )
        .unwrap();
        let d = KnownKind::Divergence;
        assert_eq!(
            k.find(d, &key("rn-mid-write", Tls::V12), "rustls", Some(3), None),
            Some(0)
        );
        assert_eq!(
            k.find(d, &key("rn-mid-write", Tls::V13), "rustls", Some(3), None),
            None
        );
        assert_eq!(
            k.find(d, &key("rn-mid-write", Tls::V12), "rustls", Some(4), None),
            None
        );
        assert_eq!(
            k.find(d, &key("rn-mid-write", Tls::V12), "openssl", Some(3), None),
            None
        );
        assert_eq!(
            k.find(d, &key("ku-x", Tls::V12), "rustls", Some(3), None),
            None
        );
        assert_eq!(
            k.find(
                KnownKind::Violation,
                &key("rn-a", Tls::V12),
                "rustls",
                Some(3),
                Some("W5")
            ),
            None
        );
    }
}
