//! `scenarios/known-divergences.json`: expected differences, each with a written reason.
//!
//! An entry *explains* a difference (or a violation), it never hides a run: the run is still
//! played, reported and diffed; its verdict becomes `known` and the reason is printed beside it.
//! Entries that match nothing are stale and reported as warnings.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::contract::{Role, Tls};
use crate::diff::Difference;
use crate::runner::{StepRecord, Violation};
use crate::scenario::{ClauseId, RunKey};
use crate::transport::TransportKind;

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
    /// The implementation the entry is about: a glob over column names (`rustls`, `openssl*`,
    /// `*`). A plain name matches only itself.
    pub implementation: String,
    /// The implementation families it was written for, by the identity each column reports
    /// (`ImplInfo::family`: `openssl`, `rustls`, `boringssl`, `aws-lc`, `libressl`, `other`).
    /// Absent: `openssl` and `rustls`, the families every entry before families existed was
    /// written for. A glob over names never reaches another family: a wildcard entry about
    /// OpenSSL explains nothing of a BoringSSL column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub families: Option<Vec<String>>,
    /// Only implementations whose version string matches this glob (`OpenSSL 3.0.*`), or one
    /// of several separated by `|` (`OpenSSL 3.[2-9].*|OpenSSL [4-9].*`: 3.2 and later). An
    /// entry scoped to versions not in a run is not stale there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub versions: Option<String>,
    /// Only when the run's *reference* has a version matching this glob (alternatives with
    /// `|`): a difference that exists because of the reference's version (the linked OpenSSL
    /// is 3.0 on one machine, the vendored 3.6 on another). Entries for other references are
    /// neither used nor stale.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_versions: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<Tls>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// Only runs over this transport (`tcp`: a difference the kernel's sockets make, such as
    /// a reset that arrives before buffered bytes are read). Absent: either.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transport: Option<TransportKind>,
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
    /// The differing field (`outcome`, `bytes`, `peer_received`, ...), for divergence entries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Context: a glob that some earlier step must match, written `OP => OUTCOME`
    /// (`shutdown => ok(*)`, `* => ssl(bad length)`); several joined by ` & ` must all hold,
    /// each for some earlier step (`shutdown => ok(*) & renegotiate => ok(1)`). Earlier steps
    /// of the reference for a divergence; of the implementation itself for a violation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    /// Modes that must be on in the run (`["partial_write"]`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub modes_on: Vec<String>,
    /// Modes that must be off in the run (`["auto_retry"]`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub modes_off: Vec<String>,
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

/// What an entry is matched against: an implementation's column name and, when known, its
/// version string (a bare name matches no entry scoped to `versions`).
#[derive(Clone, Copy, Debug)]
pub struct Subject<'a> {
    pub name: &'a str,
    pub version: Option<&'a str>,
    /// The family the implementation reports (`None`: a bare name, tests only).
    pub family: Option<&'a str>,
}

/// Every family an entry may name.
pub const FAMILIES: [&str; 7] = [
    "openssl",
    "rustls",
    "boringssl",
    "aws-lc",
    "libressl",
    "wolfssl",
    "other",
];

/// The families an entry without `families` was written for.
pub const DEFAULT_FAMILIES: [&str; 2] = ["openssl", "rustls"];

impl<'a> From<&'a str> for Subject<'a> {
    fn from(name: &'a str) -> Subject<'a> {
        Subject {
            name,
            version: None,
            family: None,
        }
    }
}

impl<'a> From<&'a String> for Subject<'a> {
    fn from(name: &'a String) -> Subject<'a> {
        Subject::from(name.as_str())
    }
}

impl<'a> From<&'a crate::contract::ImplInfo> for Subject<'a> {
    fn from(info: &'a crate::contract::ImplInfo) -> Subject<'a> {
        Subject {
            name: &info.name,
            version: Some(&info.version),
            family: (!info.family.is_empty()).then_some(info.family.as_str()),
        }
    }
}

/// Which run an entry is asked about: its key and the transport it went over (a bare
/// `&RunKey` is a run in memory).
#[derive(Clone, Copy, Debug)]
pub struct Scope<'a> {
    pub key: &'a RunKey,
    pub transport: TransportKind,
}

impl<'a> From<&'a RunKey> for Scope<'a> {
    fn from(key: &'a RunKey) -> Scope<'a> {
        Scope {
            key,
            transport: TransportKind::Memory,
        }
    }
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
    implementation: glob::Pattern,
    /// Alternatives (`|`); empty: any version.
    versions: Vec<glob::Pattern>,
    /// Alternatives (`|`) over the reference's version; empty: any reference.
    reference_versions: Vec<glob::Pattern>,
    /// All must hold; empty: no context asked.
    after: Vec<glob::Pattern>,
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

    /// Loads the file; a missing file is an empty list. Guarded like scenario files: a
    /// regular file (a FIFO would block the reader for ever, `/dev/zero` never end), not a
    /// symbolic link, at most [`MAX_FILE_BYTES`](crate::scenario::MAX_FILE_BYTES).
    pub fn load(path: &Path) -> Result<Known, String> {
        let limit = crate::scenario::MAX_FILE_BYTES;
        let fail = |why: String| format!("{}: {why}", path.display());
        let meta = match std::fs::symlink_metadata(path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Known::empty()),
            Err(e) => return Err(fail(format!("cannot read: {e}"))),
        };
        if meta.file_type().is_symlink() {
            return Err(fail(
                "is a symbolic link; the known-divergence file is read only as a regular file"
                    .into(),
            ));
        }
        if !meta.is_file() {
            return Err(fail("not a regular file".into()));
        }
        if meta.len() > limit {
            return Err(fail(format!(
                "file is {} bytes; the known-divergence file is limited to {limit}",
                meta.len()
            )));
        }
        let mut bytes = Vec::new();
        std::fs::File::open(path)
            .and_then(|f| {
                std::io::Read::read_to_end(&mut std::io::Read::take(f, limit + 1), &mut bytes)
            })
            .map_err(|e| fail(format!("cannot read: {e}")))?;
        if bytes.len() as u64 > limit {
            return Err(fail(format!(
                "file grew past {limit} bytes while being read"
            )));
        }
        let text = String::from_utf8(bytes).map_err(|e| fail(format!("not UTF-8 text: {e}")))?;
        Known::parse(&text).map_err(fail)
    }

    pub fn parse(text: &str) -> Result<Known, String> {
        let file: KnownFile = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let mut patterns = Vec::new();
        for (i, e) in file.entries.iter().enumerate() {
            let named = e.modes_on.iter().chain(&e.modes_off).map(String::as_str);
            if let Err(err) = crate::contract::Modes::from_names(named) {
                return Err(format!("entry {i}: {err}"));
            }
            if let Some(f) = e
                .families
                .iter()
                .flatten()
                .find(|f| !FAMILIES.contains(&f.as_str()))
            {
                return Err(format!(
                    "entry {i}: unknown family {f:?} (known: {})",
                    FAMILIES.join(", ")
                ));
            }
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
                implementation: compile("implementation", &e.implementation)?,
                versions: e.versions.as_deref().map_or(Ok(Vec::new()), |v| {
                    v.split('|').map(|p| compile("versions", p)).collect()
                })?,
                reference_versions: e.reference_versions.as_deref().map_or(
                    Ok(Vec::new()),
                    |v| {
                        v.split('|')
                            .map(|p| compile("reference_versions", p))
                            .collect()
                    },
                )?,
                after: e.after.as_deref().map_or(Ok(Vec::new()), |v| {
                    v.split(" & ").map(|p| compile("after", p.trim())).collect()
                })?,
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

    /// Whether entry `i` is about scenario `id` at all (its scenario glob matches).
    pub fn concerns(&self, i: usize, id: &str) -> bool {
        self.patterns[i].scenario.matches(id)
    }

    /// Whether entry `i` can apply to `subject` (its implementation and version globs match;
    /// a divergence entry never applies to the reference, which is not diffed).
    pub fn concerns_implementation<'a>(
        &self,
        i: usize,
        subject: impl Into<Subject<'a>>,
        is_reference: bool,
    ) -> bool {
        let kind = self.entries[i].kind;
        !(is_reference && kind == KnownKind::Divergence) && self.subject_matches(i, subject.into())
    }

    fn subject_matches(&self, i: usize, subject: Subject<'_>) -> bool {
        let p = &self.patterns[i];
        let family_ok = subject
            .family
            .is_none_or(|f| match &self.entries[i].families {
                Some(list) => list.iter().any(|g| g == f),
                None => DEFAULT_FAMILIES.contains(&f),
            });
        family_ok
            && p.implementation.matches(subject.name)
            && (p.versions.is_empty()
                || subject
                    .version
                    .is_some_and(|v| p.versions.iter().any(|g| g.matches(v))))
    }

    /// Whether the run `key` is inside the entry's scope (scenario, TLS version, role, modes).
    pub fn in_scope<'a>(&self, i: usize, scope: impl Into<Scope<'a>>) -> bool {
        let scope = scope.into();
        let (e, key) = (&self.entries[i], scope.key);
        e.transport.is_none_or(|t| t == scope.transport)
            && self.patterns[i].scenario.matches(&key.id)
            && e.tls.is_none_or(|t| t == key.tls)
            && e.role.is_none_or(|r| r == key.role)
            && e.modes_on
                .iter()
                .all(|m| key.modes.names().contains(&m.as_str()))
            && !e
                .modes_off
                .iter()
                .any(|m| key.modes.names().contains(&m.as_str()))
    }

    fn common(
        &self,
        i: usize,
        kind: KnownKind,
        scope: Scope<'_>,
        implementation: Subject<'_>,
    ) -> bool {
        self.entries[i].kind == kind
            && self.subject_matches(i, implementation)
            && self.in_scope(i, scope)
    }

    /// Whether an entry's `after` context holds: some step before `step` (any step when
    /// `None`) matches it.
    fn after_holds(&self, i: usize, steps: &[StepRecord], step: Option<usize>) -> bool {
        let patterns = &self.patterns[i].after;
        if patterns.is_empty() {
            return true;
        }
        let end = step.unwrap_or(steps.len()).min(steps.len());
        let seen = |s: &StepRecord| {
            let outcome = s
                .call
                .as_ref()
                .map_or(String::new(), |c| c.outcome.to_string());
            format!("{} => {outcome}", s.op)
        };
        patterns
            .iter()
            .all(|p| steps[..end].iter().any(|s| p.matches(&seen(s))))
    }

    /// The first divergence entry that explains `d`; `steps` is the reference's trace.
    pub fn explain_difference<'a, 's>(
        &self,
        scope: impl Into<Scope<'s>>,
        implementation: impl Into<Subject<'a>>,
        d: &Difference,
        steps: &[StepRecord],
    ) -> Option<usize> {
        self.explain_difference_against(scope, implementation, None, d, steps)
    }

    /// Whether entry `i` holds for a run whose reference has this version (`None`: unknown,
    /// which only entries without `reference_versions` accept).
    pub fn reference_matches(&self, i: usize, reference_version: Option<&str>) -> bool {
        let p = &self.patterns[i].reference_versions;
        p.is_empty() || reference_version.is_some_and(|v| p.iter().any(|g| g.matches(v)))
    }

    /// [`Known::explain_difference`] for a run whose reference has version `reference_version`.
    pub fn explain_difference_against<'a, 's>(
        &self,
        scope: impl Into<Scope<'s>>,
        implementation: impl Into<Subject<'a>>,
        reference_version: Option<&str>,
        d: &Difference,
        steps: &[StepRecord],
    ) -> Option<usize> {
        let (scope, implementation) = (scope.into(), implementation.into());
        let op = d.step.and_then(|i| steps.get(i)).map(|s| s.op.as_str());
        (0..self.entries.len()).find(|&i| {
            let (e, p) = (&self.entries[i], &self.patterns[i]);
            self.common(i, KnownKind::Divergence, scope, implementation)
                && self.reference_matches(i, reference_version)
                && (e.step.is_none() || e.step == d.step)
                && e.field.as_ref().is_none_or(|f| *f == d.field)
                && opt_matches(&p.op, op)
                && opt_matches(&p.reference_value, Some(&d.reference_value))
                && opt_matches(&p.value, Some(&d.value))
                && self.after_holds(i, steps, d.step)
        })
    }

    /// The first violation entry that explains `v`; `steps` is the violating trace.
    pub fn explain_violation<'a, 's>(
        &self,
        scope: impl Into<Scope<'s>>,
        implementation: impl Into<Subject<'a>>,
        v: &Violation,
        steps: &[StepRecord],
    ) -> Option<usize> {
        let (scope, implementation) = (scope.into(), implementation.into());
        let op = v.step.and_then(|i| steps.get(i)).map(|s| s.op.as_str());
        (0..self.entries.len()).find(|&i| {
            let (e, p) = (&self.entries[i], &self.patterns[i]);
            self.common(i, KnownKind::Violation, scope, implementation)
                && e.clause.0 == v.clause
                && (e.step.is_none() || e.step == v.step)
                && opt_matches(&p.op, op)
                && self.after_holds(i, steps, v.step)
        })
    }

    /// A divergence entry that expects *this run* to differ wherever it differs (no step, op or
    /// value filter): used to warn when the run now agrees.
    pub fn expects_difference<'a, 's>(
        &self,
        scope: impl Into<Scope<'s>>,
        implementation: impl Into<Subject<'a>>,
    ) -> Option<usize> {
        let (scope, implementation) = (scope.into(), implementation.into());
        (0..self.entries.len()).find(|&i| {
            let e = &self.entries[i];
            self.common(i, KnownKind::Divergence, scope, implementation)
                && e.step.is_none()
                && e.after.is_none()
                && e.field.is_none()
                && e.op.is_none()
                && e.value.is_none()
                && e.reference_value.is_none()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::{Call, Modes, Outcome};
    use crate::runner::Actor;

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
    fn a_transport_scoped_entry_matches_only_runs_over_that_transport() {
        let k = Known::parse(
            r#"{"entries":[{"scenario":"sd-*","implementation":"rustls","transport":"tcp",
                "clause":"W11","reason":"the kernel resets the connection first"}]}"#,
        )
        .unwrap();
        let d = diff(4, "zero_return", "syscall");
        let none: &[StepRecord] = &[];
        let run = key("sd-x", Tls::V13);
        let tcp = Scope {
            key: &run,
            transport: TransportKind::Tcp,
        };
        assert_eq!(k.explain_difference(tcp, "rustls", &d, none), Some(0));
        assert!(k.in_scope(0, tcp));
        // A bare key is a run in memory.
        assert_eq!(k.explain_difference(&run, "rustls", &d, none), None);
        assert!(!k.in_scope(0, &run));
    }

    #[test]
    fn matching_respects_glob_tls_step_and_kind() {
        let k = Known::parse(
            r#"{"entries":[{"scenario":"rn-*","implementation":"rustls","tls":"1.2","step":3,
                "clause":"W5","reason":"rustls never renegotiates; it answers no_renegotiation"}]}"#,
        )
        .unwrap();
        let d = diff(3, "ok(1)", "want_read");
        let none: &[StepRecord] = &[];
        let rn12 = key("rn-mid-write", Tls::V12);
        assert_eq!(k.explain_difference(&rn12, "rustls", &d, none), Some(0));
        let rn13 = key("rn-mid-write", Tls::V13);
        assert_eq!(k.explain_difference(&rn13, "rustls", &d, none), None);
        let other_step = diff(4, "a", "b");
        assert_eq!(
            k.explain_difference(&rn12, "rustls", &other_step, none),
            None
        );
        assert_eq!(k.explain_difference(&rn12, "openssl", &d, none), None);
        let ku = key("ku-x", Tls::V12);
        assert_eq!(k.explain_difference(&ku, "rustls", &d, none), None);
        let v = Violation {
            clause: "W5".into(),
            kind: "spec".into(),
            step: Some(3),
            detail: String::new(),
        };
        assert_eq!(
            k.explain_violation(&rn12, "rustls", &v, none),
            None,
            "kind differs"
        );
    }

    fn info(name: &str, version: &str) -> crate::contract::ImplInfo {
        let family = if version.starts_with("rustls") {
            "rustls"
        } else {
            "openssl"
        };
        info_of(name, version, family)
    }

    fn info_of(name: &str, version: &str, family: &str) -> crate::contract::ImplInfo {
        crate::contract::ImplInfo {
            name: name.into(),
            version: version.into(),
            family: family.into(),
            library: None,
        }
    }

    #[test]
    fn entries_never_reach_a_family_they_were_not_written_for() {
        let k = Known::parse(
            r#"{"entries":[{"scenario":"sd-*","implementation":"*","versions":"OpenSSL 1.1.*",
                "clause":"W11","reason":"OpenSSL 1.1.1 answers syscall here"},
               {"scenario":"sd-*","implementation":"*","families":["boringssl"],
                "clause":"W11","reason":"BoringSSL answers with PROTOCOL_IS_SHUTDOWN"}]}"#,
        )
        .unwrap();
        let key = key("sd-fatal-on-read", Tls::V12);
        let d = diff(3, "syscall", "ssl(PROTOCOL_IS_SHUTDOWN)");
        let none: &[StepRecord] = &[];
        // BoringSSL says it is "OpenSSL 1.1.1 (compatible; BoringSSL)" in some builds: the
        // version glob matches, the family does not.
        let boring = info_of("bssl", "OpenSSL 1.1.1 (compatible; BoringSSL)", "boringssl");
        let openssl111 = info("o111", "OpenSSL 1.1.1w  11 Sep 2023");
        assert_eq!(k.explain_difference(&key, &boring, &d, none), Some(1));
        assert_eq!(k.explain_difference(&key, &openssl111, &d, none), Some(0));
        let awslc = info_of("awslc", "AWS-LC 1.18.0", "aws-lc");
        assert_eq!(k.explain_difference(&key, &awslc, &d, none), None);
        assert!(!k.concerns_implementation(1, &openssl111, false));
        assert!(Known::parse(
            r#"{"entries":[{"scenario":"x","implementation":"*","families":["boring"],"clause":"W11","reason":"an unknown family is refused"}]}"#
        )
        .unwrap_err()
        .contains("unknown family"));
    }

    #[test]
    fn entries_scope_to_implementation_globs_and_version_ranges() {
        let k = Known::parse(
            r#"{"entries":[{"scenario":"rv-*","implementation":"*","versions":"OpenSSL 3.0.*",
                "kind":"violation","clause":"W4","reason":"OpenSSL 3.0 trusts a dirty error queue"},
               {"scenario":"rv-*","implementation":"openssl-3.*","clause":"W4",
                "reason":"every build labelled openssl-3.x differs the same way"},
               {"scenario":"rv-*","implementation":"rustls","clause":"W4",
                "reason":"an entry without versions, as before: the label alone"},
               {"scenario":"rv-*","implementation":"*","versions":"OpenSSL 3.[2-9].*|OpenSSL [4-9].*",
                "kind":"violation","clause":"W6","reason":"from 3.2 on, whatever the label"}]}"#,
        )
        .unwrap();
        let key = key("rv-dirty-queue", Tls::V13);
        let v = Violation {
            clause: "W4".into(),
            kind: "spec".into(),
            step: Some(2),
            detail: String::new(),
        };
        let none: &[StepRecord] = &[];
        let linked = info("openssl", "OpenSSL 3.0.19 27 Jan 2026");
        let system = info("system", "OpenSSL 3.0.19 27 Jan 2026");
        let newer = info("openssl-3.6", "OpenSSL 3.6.3 9 Jun 2026");
        assert_eq!(k.explain_violation(&key, &linked, &v, none), Some(0));
        assert_eq!(k.explain_violation(&key, &system, &v, none), Some(0));
        assert_eq!(
            k.explain_violation(&key, &newer, &v, none),
            None,
            "3.6 is outside 3.0.*"
        );
        assert_eq!(
            k.explain_violation(&key, "openssl", &v, none),
            None,
            "a bare name has no version: a version-scoped entry does not apply"
        );
        let d = diff(2, "ok(1)", "want_read");
        assert_eq!(k.explain_difference(&key, &newer, &d, none), Some(1));
        assert_eq!(k.explain_difference(&key, &system, &d, none), None);
        assert_eq!(k.explain_difference(&key, "rustls", &d, none), Some(2));
        assert_eq!(
            k.explain_difference(&key, &info("rustls", "rustls 0.23"), &d, none),
            Some(2)
        );
        // Staleness is judged only where an entry's implementation and version ran.
        assert!(
            k.concerns_implementation(0, &linked, true),
            "violations concern the reference"
        );
        assert!(!k.concerns_implementation(0, &newer, false));
        assert!(
            !k.concerns_implementation(1, &linked, true),
            "no divergence for the reference"
        );
        assert!(k.concerns_implementation(1, &newer, false));
        assert!(!k.concerns_implementation(2, &system, false));
        let w6 = Violation {
            clause: "W6".into(),
            ..v.clone()
        };
        let four = info("lib", "OpenSSL 4.0.3 29 Sep 2026");
        assert_eq!(k.explain_violation(&key, &newer, &w6, none), Some(3));
        assert_eq!(k.explain_violation(&key, &four, &w6, none), Some(3));
        assert_eq!(
            k.explain_violation(&key, &linked, &w6, none),
            None,
            "3.0 is not 3.2+"
        );
        assert!(Known::parse(
            r#"{"entries":[{"scenario":"x","implementation":"[","clause":"W4","reason":"a bad glob is refused"}]}"#
        )
        .unwrap_err()
        .contains("implementation"));
    }

    fn step(i: usize, op: &str, outcome: Outcome) -> StepRecord {
        StepRecord {
            index: i,
            op: op.into(),
            actor: Actor::Impl,
            call: Some(Call::new(outcome, -1)),
            calls: vec![],
            bytes: None,
            expect: None,
            conforms: None,
            capped: false,
            calls_omitted: 0,
        }
    }

    #[test]
    fn behaviour_entries_match_op_values_and_context() {
        let k = Known::parse(
            r#"{"entries":[{"scenario":"*","implementation":"rustls","op":"write *len=0",
                "reference_value":"syscall","value":"ok(*)","clause":"W9",
                "reason":"zero-length SSL_write: OpenSSL fails, rustls accepts"},
               {"scenario":"*","implementation":"rustls","after":"shutdown => ok(*)",
                "reference_value":"ssl(protocol is shutdown)","clause":"W11",
                "reason":"rustls writes after its own close_notify"}]}"#,
        )
        .unwrap();
        let k0 = key("fuzz", Tls::V13);
        let zero = [
            step(0, "handshake", Outcome::Ok(1)),
            step(1, "write buf=0 content=stream len=0", Outcome::Syscall),
        ];
        assert_eq!(
            k.explain_difference(&k0, "rustls", &diff(1, "syscall", "ok(0)"), &zero),
            Some(0)
        );
        assert_eq!(
            k.explain_difference(&k0, "rustls", &diff(1, "want_write", "ok(0)"), &zero),
            None
        );
        let ten = [
            step(0, "handshake", Outcome::Ok(1)),
            step(1, "write buf=0 content=stream len=10", Outcome::Syscall),
        ];
        assert_eq!(
            k.explain_difference(&k0, "rustls", &diff(1, "syscall", "ok(0)"), &ten),
            None
        );
        let shut = Outcome::Ssl("protocol is shutdown".into());
        let after = [
            step(0, "shutdown", Outcome::Ok(0)),
            step(1, "write len=5", shut.clone()),
        ];
        let before = [
            step(0, "write len=5", shut),
            step(1, "shutdown", Outcome::Ok(0)),
        ];
        let d = diff(1, "ssl(protocol is shutdown)", "ok(5)");
        assert_eq!(k.explain_difference(&k0, "rustls", &d, &after), Some(1));
        let d0 = diff(0, "ssl(protocol is shutdown)", "ok(5)");
        assert_eq!(
            k.explain_difference(&k0, "rustls", &d0, &before),
            None,
            "context must come first"
        );
    }

    #[test]
    fn after_joined_by_ampersands_needs_every_context() {
        let k = Known::parse(
            r#"{"entries":[{"scenario":"*","implementation":"rustls",
                "after":"shutdown => ok(*) & renegotiate => ok(1)",
                "reference_value":"ok(*)","clause":"W11",
                "reason":"both a shutdown and a renegotiation came before"}]}"#,
        )
        .unwrap();
        let k0 = key("fuzz", Tls::V12);
        let d = diff(2, "ok(100)", "ssl(protocol is shutdown)");
        let both = [
            step(0, "shutdown", Outcome::Ok(0)),
            step(1, "renegotiate", Outcome::Ok(1)),
            step(2, "write len=100", Outcome::Ok(100)),
        ];
        assert_eq!(k.explain_difference(&k0, "rustls", &d, &both), Some(0));
        let one = [
            step(0, "shutdown", Outcome::Ok(0)),
            step(1, "read len=5", Outcome::WantRead),
            step(2, "write len=100", Outcome::Ok(100)),
        ];
        assert_eq!(k.explain_difference(&k0, "rustls", &d, &one), None);
    }
}
