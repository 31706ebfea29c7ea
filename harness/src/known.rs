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
use crate::scenario::{ClauseId, RunKey, Step};
use crate::step_pattern::StepPattern;
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

/// One expected difference: what an implementation does at one point of a run, and why.
///
/// A divergence entry describes the behaviour of the implementations it names (its *subject*:
/// `implementation`, `families`, `versions`) beside the behaviour it was written against (its
/// *norm*: `reference_value`, and the implementations of `reference_versions` in the OpenSSL
/// family, the linked OpenSSL every entry was written with). So it explains a difference
/// whichever of the two sides is the run's reference: the subject doing `value` where the other
/// side does the norm, in either direction (see [`Known::explain_pair`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KnownEntry {
    /// A stable name for the entry (`z-write-zero/rustls/zero-length-write`): reports name the
    /// entry that explained each difference by it. Unique in the file; letters, digits and
    /// `-_./` only.
    pub id: String,
    /// The scenarios it was written for: an id, or a list of ids (globs allowed, `rn-*`;
    /// `fuzz` for the fuzzer's generated runs).
    pub scenario: Scenarios,
    /// The implementation the entry is about, among those of `families`: a glob over column
    /// names (`rustls`, `openssl-3.*`). Absent: any column of those families.
    #[serde(default = "any_name", skip_serializing_if = "is_any_name")]
    pub implementation: String,
    /// The implementation families the entry is about, by the identity each column reports
    /// (`ImplInfo::family`: `openssl`, `rustls`, `boringssl`, `aws-lc`, `libressl`, `wolfssl`,
    /// `other`). Required: an entry never reaches a family it does not name, whatever its
    /// name glob says.
    pub families: Vec<String>,
    /// Only implementations whose version string matches one of these globs
    /// (`["OpenSSL 3.[2-9].*", "OpenSSL [4-9].*"]`: 3.2 and later). Empty: any version. An
    /// entry scoped to versions not in a run is not stale there.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<String>,
    /// Only when the *other* side of the difference (the norm: the reference when the entry
    /// describes a column, the column when it describes the reference) has a version matching
    /// one of these globs: a difference that exists because of the norm's version (the linked
    /// OpenSSL is 3.0 on one machine, the vendored 3.6 on another). Where no such side ran, the
    /// entry is neither used nor stale.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reference_versions: Vec<String>,
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
    /// The step of the difference (or violation), as a typed pattern: ops and field values
    /// (`{"names": ["write", "write_ex"], "args": {"len": 0}}`), for entries that describe a
    /// behaviour wherever it occurs (the fuzzer's generated runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub op: Option<StepPattern>,
    /// Globs over the two differing values, for divergence entries: `value` what the subject
    /// does (`ok(*)`), `reference_value` what the norm does there (`syscall`). Without
    /// `reference_value` the norm is whatever an implementation of the entry's baseline (the
    /// OpenSSL family, of `reference_versions`) does: the other side must be one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_value: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// The differing field (`outcome`, `bytes`, `peer_received`, ...), for divergence entries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Context: each must hold for some step before the difference (or violation): a step of
    /// the pattern `op` whose outcome matches the glob `outcome` (either may be left out).
    /// Steps of the norm's side for a divergence; of the implementation itself for a
    /// violation.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub after: Vec<Context>,
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

/// One scenario id or several, each a glob: written as a string or a list of strings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scenarios(pub Vec<String>);

impl std::fmt::Display for Scenarios {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.join(", "))
    }
}

impl Serialize for Scenarios {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0.as_slice() {
            [one] => s.serialize_str(one),
            many => many.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for Scenarios {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let bad = || serde::de::Error::custom("expected a scenario id or a non-empty list of them");
        match serde_json::Value::deserialize(d)? {
            serde_json::Value::String(one) => Ok(Scenarios(vec![one])),
            serde_json::Value::Array(many) if !many.is_empty() => many
                .into_iter()
                .map(|v| match v {
                    serde_json::Value::String(s) => Ok(s),
                    _ => Err(bad()),
                })
                .collect::<Result<_, _>>()
                .map(Scenarios),
            _ => Err(bad()),
        }
    }
}

/// One earlier step an entry's context asks for.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Context {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub op: Option<StepPattern>,
    /// Glob over the step's outcome in the shared vocabulary (`ok(*)`, `syscall`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
}

fn any_name() -> String {
    "*".into()
}

fn is_any_name(s: &str) -> bool {
    s == "*"
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
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

/// The families every divergence entry was written against: the linked OpenSSL was the
/// reference when each was written.
pub const BASELINE_FAMILIES: [&str; 1] = ["openssl"];

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

/// Which run an entry is asked about: its key, the transport it went over, and its script
/// (the scenario's steps, which entries' step patterns are matched against).
#[derive(Clone, Copy, Debug)]
pub struct Scope<'a> {
    pub key: &'a RunKey,
    pub transport: TransportKind,
    pub script: &'a [Step],
}

#[cfg(test)]
impl<'a> From<&'a RunKey> for Scope<'a> {
    fn from(key: &'a RunKey) -> Scope<'a> {
        Scope {
            key,
            transport: TransportKind::Memory,
            script: &[],
        }
    }
}

impl<'a> Scope<'a> {
    pub fn new(key: &'a RunKey, transport: TransportKind, script: &'a [Step]) -> Scope<'a> {
        Scope {
            key,
            transport,
            script,
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
    /// Any of them.
    scenario: Vec<glob::Pattern>,
    implementation: glob::Pattern,
    /// Any of them; empty: any version.
    versions: Vec<glob::Pattern>,
    /// Any of them, over the norm's version; empty: any.
    reference_versions: Vec<glob::Pattern>,
    /// Each context's outcome glob (all contexts must hold).
    after: Vec<Option<glob::Pattern>>,
    reference_value: Option<glob::Pattern>,
    /// `reference_value` in [`reason_words`].
    reference_value_worded: Option<glob::Pattern>,
    value: Option<glob::Pattern>,
}

/// A reason in the words OpenSSL's reason strings use: BoringSSL and AWS-LC spell the same
/// reason codes in capitals with underscores (`ssl(BAD_WRITE_RETRY)` for OpenSSL's
/// `ssl(bad write retry)`), so a norm written as one is met by the other; any other wording is
/// another reason.
fn reason_words(value: &str) -> String {
    value.to_lowercase().replace('_', " ")
}

/// The families whose `ssl(reason)` is an OpenSSL reason code (worded as OpenSSL does or as
/// BoringSSL spells it): there the reason tells one behaviour from another. Every other library
/// words its errors its own way, and for it, as in the diff, only the class counts.
const OPENSSL_WORDED: [&str; 4] = ["openssl", "boringssl", "aws-lc", "libressl"];

fn words_reasons_like_openssl(subject: Subject<'_>) -> bool {
    subject.family.is_none_or(|f| OPENSSL_WORDED.contains(&f))
}

/// Whether `value` is of the outcome class of the norm `norm` (`ssl(...)` against `ssl(...)`;
/// any other norm only by the glob itself).
fn same_class(norm: &str, value: &str) -> bool {
    norm.starts_with("ssl(") && value.starts_with("ssl(")
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
            if e.families.is_empty() {
                return Err(format!(
                    "entry {i} ({}): families is empty; name the families the entry is about",
                    e.id
                ));
            }
            if let Some(f) = e.families.iter().find(|f| !FAMILIES.contains(&f.as_str())) {
                return Err(format!(
                    "entry {i}: unknown family {f:?} (known: {})",
                    FAMILIES.join(", ")
                ));
            }
            let step_patterns =
                e.op.iter()
                    .chain(e.after.iter().filter_map(|c| c.op.as_ref()));
            for p in step_patterns {
                p.check()
                    .map_err(|err| format!("entry {i} ({}): {err}", e.id))?;
            }
            if let Some(c) = e
                .after
                .iter()
                .find(|c| c.op.is_none() && c.outcome.is_none())
            {
                return Err(format!(
                    "entry {i} ({}): a context asks for nothing: {c:?}",
                    e.id
                ));
            }
            let id_ok = !e.id.is_empty()
                && e.id.len() <= 100
                && e.id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c));
            if !id_ok {
                return Err(format!(
                    "entry {i}: id {:?} must be 1 to 100 letters, digits or -_./",
                    e.id
                ));
            }
            if let Some(j) = file.entries[..i].iter().position(|f| f.id == e.id) {
                return Err(format!("entry {i}: id {:?} is already entry {j}'s", e.id));
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
            let globs = |what: &str, list: &[String]| -> Result<Vec<glob::Pattern>, String> {
                list.iter().map(|p| compile(what, p)).collect()
            };
            patterns.push(Patterns {
                scenario: globs("scenario", &e.scenario.0)?,
                implementation: compile("implementation", &e.implementation)?,
                versions: globs("versions", &e.versions)?,
                reference_versions: globs("reference_versions", &e.reference_versions)?,
                after: e
                    .after
                    .iter()
                    .map(|c| opt("after outcome", &c.outcome))
                    .collect::<Result<_, _>>()?,
                reference_value: opt("reference_value", &e.reference_value)?,
                reference_value_worded: opt(
                    "reference_value",
                    &e.reference_value.as_deref().map(reason_words),
                )?,
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
        self.patterns[i].scenario.iter().any(|g| g.matches(id))
    }

    /// Whether entry `i` is about `subject` (its implementation, family and version globs
    /// match): the implementation whose behaviour it describes.
    pub fn concerns_implementation<'a>(&self, i: usize, subject: impl Into<Subject<'a>>) -> bool {
        self.subject_matches(i, subject.into())
    }

    /// Whether `subject` is of what divergence entry `i` was written against: the OpenSSL
    /// family (the linked OpenSSL), of `reference_versions` when it names some. A bare name
    /// (no family, tests) counts as of the family.
    pub fn in_baseline<'a>(&self, i: usize, subject: impl Into<Subject<'a>>) -> bool {
        let subject = subject.into();
        let p = &self.patterns[i].reference_versions;
        subject
            .family
            .is_none_or(|f| BASELINE_FAMILIES.contains(&f))
            && (p.is_empty()
                || subject
                    .version
                    .is_some_and(|v| p.iter().any(|g| g.matches(v))))
    }

    fn subject_matches(&self, i: usize, subject: Subject<'_>) -> bool {
        let p = &self.patterns[i];
        let family_ok = subject
            .family
            .is_none_or(|f| self.entries[i].families.iter().any(|g| g == f));
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
            && self.patterns[i].scenario.iter().any(|g| g.matches(&key.id))
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

    /// Whether entry `i`'s step pattern (if any) matches step `step` of the run's script.
    fn op_holds(&self, i: usize, scope: Scope<'_>, step: Option<usize>) -> bool {
        self.entries[i].op.as_ref().is_none_or(|p| {
            step.and_then(|s| scope.script.get(s))
                .is_some_and(|s| p.matches(s))
        })
    }

    /// Whether an entry's `after` context holds: each context is met by some step before
    /// `step` (any step when `None`), its op by the script, its outcome by `steps`.
    fn after_holds(
        &self,
        i: usize,
        scope: Scope<'_>,
        steps: &[StepRecord],
        step: Option<usize>,
    ) -> bool {
        let (contexts, globs) = (&self.entries[i].after, &self.patterns[i].after);
        let end = step.unwrap_or(steps.len()).min(steps.len());
        contexts.iter().zip(globs).all(|(c, glob)| {
            steps[..end].iter().any(|s| {
                let op_ok = c.op.as_ref().is_none_or(|p| {
                    scope
                        .script
                        .get(s.index)
                        .is_some_and(|step| p.matches(step))
                });
                let outcome = s
                    .call
                    .as_ref()
                    .map_or(String::new(), |c| c.outcome.to_string());
                op_ok && glob.as_ref().is_none_or(|g| g.matches(&outcome))
            })
        })
    }

    /// Whether divergence entry `i` describes what `this` side did at the difference `d`, the
    /// other side being `other`. With `norm`, the other side must also do what the entry was
    /// written against (`reference_value`, else be of its baseline); without, the entry must
    /// name the value it describes (both sides deviate, each described by an entry of its own).
    fn describes(
        &self,
        i: usize,
        scope: Scope<'_>,
        d: &Difference,
        this: &Side<'_>,
        other: &Side<'_>,
        norm: bool,
    ) -> bool {
        let (e, p) = (&self.entries[i], &self.patterns[i]);
        self.common(i, KnownKind::Divergence, scope, this.subject)
            && (e.step.is_none() || e.step == d.step)
            // An entry without a field is about outcomes: it never explains a queue or wire
            // difference (those need `"field": "queue"` or `"wire"`).
            && match &e.field {
                Some(f) => *f == d.field,
                None => crate::aspects::AspectKind::of_field(&d.field).is_none(),
            }
            && self.op_holds(i, scope, d.step)
            && opt_matches(&p.value, Some(this.value))
            && self.after_holds(i, scope, other.steps, d.step)
            && if norm {
                self.in_norm(i, other)
            } else {
                p.value.is_some()
            }
    }

    /// Whether `other` does the norm of entry `i`: its version within `reference_versions`,
    /// and the value `reference_value` names: in OpenSSL's words or the same reason code in
    /// BoringSSL's spelling; from a library that words its errors its own way (rustls,
    /// wolfSSL), any reason of the class (without `reference_value`: `other` is of the
    /// baseline).
    fn in_norm(&self, i: usize, other: &Side<'_>) -> bool {
        let p = &self.patterns[i];
        let versions = p.reference_versions.is_empty()
            || other
                .subject
                .version
                .is_some_and(|v| p.reference_versions.iter().any(|g| g.matches(v)));
        versions
            && match &p.reference_value {
                Some(g) => {
                    g.matches(other.value)
                        || p.reference_value_worded
                            .as_ref()
                            .is_some_and(|w| w.matches(&reason_words(other.value)))
                        || (!words_reasons_like_openssl(other.subject)
                            && same_class(g.as_str(), other.value))
                }
                None => self.in_baseline(i, other.subject),
            }
    }

    /// The entries that explain the difference `d` between the run's `reference` and an
    /// `implementation`, whichever of them deviates: an entry describing the implementation
    /// where the reference does the norm; else one describing the reference where the
    /// implementation does the norm; else one entry for each side, each naming the value it
    /// describes. The same file thus explains a difference under any `--reference`.
    pub fn explain_pair<'s>(
        &self,
        scope: impl Into<Scope<'s>>,
        d: &Difference,
        reference: Side<'_>,
        implementation: Side<'_>,
    ) -> Option<Explained> {
        let scope = scope.into();
        let find = |this: &Side<'_>, other: &Side<'_>, norm: bool| {
            (0..self.entries.len()).find(|&i| self.describes(i, scope, d, this, other, norm))
        };
        if let Some(i) = find(&implementation, &reference, true) {
            return Some(Explained::Implementation(i));
        }
        if let Some(i) = find(&reference, &implementation, true) {
            return Some(Explained::Reference(i));
        }
        let implementation_entry = find(&implementation, &reference, false)?;
        let reference_entry = find(&reference, &implementation, false)?;
        Some(Explained::Both {
            implementation: implementation_entry,
            reference: reference_entry,
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
        (0..self.entries.len()).find(|&i| {
            let e = &self.entries[i];
            self.common(i, KnownKind::Violation, scope, implementation)
                && e.clause.0 == v.clause
                && (e.step.is_none() || e.step == v.step)
                && self.op_holds(i, scope, v.step)
                && self.after_holds(i, scope, steps, v.step)
        })
    }

    /// Every entry that describes either side of `d` against the other doing its norm (the
    /// first two ways of [`Known::explain_pair`]), whichever would be chosen: all of them are
    /// in use, none is stale because another came first.
    pub fn describing<'s>(
        &self,
        scope: impl Into<Scope<'s>>,
        d: &Difference,
        reference: Side<'_>,
        implementation: Side<'_>,
    ) -> Vec<usize> {
        let scope = scope.into();
        (0..self.entries.len())
            .filter(|&i| {
                self.describes(i, scope, d, &implementation, &reference, true)
                    || self.describes(i, scope, d, &reference, &implementation, true)
            })
            .collect()
    }

    /// A divergence entry that expects *this run* to differ wherever it differs (no step, op or
    /// value filter) between `reference` and `implementation`, describing either while the
    /// other is of its baseline: used to warn when the run now agrees.
    pub fn expects_difference<'a, 'b, 's>(
        &self,
        scope: impl Into<Scope<'s>>,
        reference: impl Into<Subject<'a>>,
        implementation: impl Into<Subject<'b>>,
    ) -> Option<usize> {
        let (scope, reference, implementation) =
            (scope.into(), reference.into(), implementation.into());
        (0..self.entries.len()).find(|&i| {
            let e = &self.entries[i];
            let described = |this: Subject<'_>, other: Subject<'_>| {
                self.common(i, KnownKind::Divergence, scope, this) && self.in_baseline(i, other)
            };
            (described(implementation, reference) || described(reference, implementation))
                && e.step.is_none()
                && e.after.is_empty()
                && e.field.is_none()
                && e.op.is_none()
                && e.value.is_none()
                && e.reference_value.is_none()
        })
    }
}

/// One side of a difference: who, what it did at the differing place, and its steps.
#[derive(Clone, Copy, Debug)]
pub struct Side<'a> {
    pub subject: Subject<'a>,
    pub value: &'a str,
    pub steps: &'a [StepRecord],
}

impl<'a> Side<'a> {
    pub fn new(subject: impl Into<Subject<'a>>, value: &'a str, steps: &'a [StepRecord]) -> Self {
        Side {
            subject: subject.into(),
            value,
            steps,
        }
    }
}

/// Which entries explained a difference, by the side each describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Explained {
    /// The implementation deviates; the reference does the entry's norm.
    Implementation(usize),
    /// The reference deviates; the implementation does the entry's norm.
    Reference(usize),
    /// Both deviate, each as an entry of its own says.
    Both {
        implementation: usize,
        reference: usize,
    },
}

impl Explained {
    /// The entries used, each with whether it describes the reference.
    pub fn entries(self) -> Vec<(usize, bool)> {
        match self {
            Explained::Implementation(i) => vec![(i, false)],
            Explained::Reference(i) => vec![(i, true)],
            Explained::Both {
                implementation,
                reference,
            } => vec![(implementation, false), (reference, true)],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::{Call, Modes, Outcome};
    use crate::runner::Actor;

    /// The entry that explains `d` of `implementation` against a bare `openssl` reference,
    /// both sides with the steps `steps`.
    fn explain<'a, 's>(
        k: &Known,
        scope: impl Into<Scope<'s>>,
        implementation: impl Into<Subject<'a>>,
        d: &Difference,
        steps: &[StepRecord],
    ) -> Option<usize> {
        k.explain_pair(
            scope,
            d,
            Side::new("openssl", &d.reference_value, steps),
            Side {
                subject: implementation.into(),
                value: &d.value,
                steps,
            },
        )
        .map(|x| x.entries()[0].0)
    }

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
            r#"{"entries":[{"id":"e1","scenario":"x","implementation":"rustls","families":["rustls"],"clause":"W5","reason":""}]}"#,
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
            r#"{"entries":[{"id":"e2","scenario":"sd-*","implementation":"rustls","families":["rustls"],"transport":"tcp",
                "clause":"W11","reason":"the kernel resets the connection first"}]}"#,
        )
        .unwrap();
        let d = diff(4, "zero_return", "syscall");
        let none: &[StepRecord] = &[];
        let run = key("sd-x", Tls::V13);
        let tcp = Scope::new(&run, TransportKind::Tcp, &[]);
        assert_eq!(explain(&k, tcp, "rustls", &d, none), Some(0));
        assert!(k.in_scope(0, tcp));
        // A bare key is a run in memory.
        assert_eq!(explain(&k, &run, "rustls", &d, none), None);
        assert!(!k.in_scope(0, &run));
    }

    #[test]
    fn matching_respects_glob_tls_step_and_kind() {
        let k = Known::parse(
            r#"{"entries":[{"id":"e3","scenario":"rn-*","implementation":"rustls","families":["rustls"],"tls":"1.2","step":3,
                "clause":"W5","reason":"rustls never renegotiates; it answers no_renegotiation"}]}"#,
        )
        .unwrap();
        let d = diff(3, "ok(1)", "want_read");
        let none: &[StepRecord] = &[];
        let rn12 = key("rn-mid-write", Tls::V12);
        assert_eq!(explain(&k, &rn12, "rustls", &d, none), Some(0));
        let rn13 = key("rn-mid-write", Tls::V13);
        assert_eq!(explain(&k, &rn13, "rustls", &d, none), None);
        let other_step = diff(4, "a", "b");
        assert_eq!(explain(&k, &rn12, "rustls", &other_step, none), None);
        assert_eq!(explain(&k, &rn12, "openssl", &d, none), None);
        let ku = key("ku-x", Tls::V12);
        assert_eq!(explain(&k, &ku, "rustls", &d, none), None);
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
            r#"{"entries":[{"id":"e4","scenario":"sd-*","implementation":"*","families":["openssl"],"versions":["OpenSSL 1.1.*"],
                "clause":"W11","reason":"OpenSSL 1.1.1 answers syscall here"},
               {"id":"e5","scenario":"sd-*","implementation":"*","families":["boringssl"],
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
        assert_eq!(explain(&k, &key, &boring, &d, none), Some(1));
        assert_eq!(explain(&k, &key, &openssl111, &d, none), Some(0));
        let awslc = info_of("awslc", "AWS-LC 1.18.0", "aws-lc");
        assert_eq!(explain(&k, &key, &awslc, &d, none), None);
        assert!(!k.concerns_implementation(1, &openssl111));
        assert!(Known::parse(
            r#"{"entries":[{"id":"e6","scenario":"x","implementation":"*","families":["boring"],"clause":"W11","reason":"an unknown family is refused"}]}"#
        )
        .unwrap_err()
        .contains("unknown family"));
    }

    #[test]
    fn entries_scope_to_implementation_globs_and_version_ranges() {
        let k = Known::parse(
            r#"{"entries":[{"id":"e7","scenario":"rv-*","implementation":"*","families":["openssl"],"versions":["OpenSSL 3.0.*"],
                "kind":"violation","clause":"W4","reason":"OpenSSL 3.0 trusts a dirty error queue"},
               {"id":"e8","scenario":"rv-*","implementation":"openssl-3.*","families":["openssl"],"clause":"W4",
                "reason":"every build labelled openssl-3.x differs the same way"},
               {"id":"e9","scenario":"rv-*","implementation":"rustls","families":["rustls"],"clause":"W4",
                "reason":"an entry without versions, as before: the label alone"},
               {"id":"e10","scenario":"rv-*","implementation":"*","families":["openssl"],"versions":["OpenSSL 3.[2-9].*","OpenSSL [4-9].*"],
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
        assert_eq!(explain(&k, &key, &newer, &d, none), Some(1));
        assert_eq!(explain(&k, &key, &system, &d, none), None);
        assert_eq!(explain(&k, &key, "rustls", &d, none), Some(2));
        assert_eq!(
            explain(&k, &key, &info("rustls", "rustls 0.23"), &d, none),
            Some(2)
        );
        // Staleness is judged only where an entry's implementation and version ran.
        assert!(
            k.concerns_implementation(0, &linked),
            "violations concern the reference"
        );
        assert!(!k.concerns_implementation(0, &newer));
        assert!(
            !k.concerns_implementation(1, &linked),
            "no divergence for the reference"
        );
        assert!(k.concerns_implementation(1, &newer));
        assert!(!k.concerns_implementation(2, &system));
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
            r#"{"entries":[{"id":"e11","scenario":"x","implementation":"[","families":["openssl"],"clause":"W4","reason":"a bad glob is refused"}]}"#
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
            // Known entries match on `op` and the outcome; whether the step is I/O is the diff's.
            io: false,
        }
    }

    /// A script of steps (JSON, as in a scenario file) and the records of playing it with
    /// these outcomes.
    fn scripted(steps: &[(&str, Outcome)]) -> (Vec<Step>, Vec<StepRecord>) {
        let script: Vec<Step> = steps
            .iter()
            .map(|(json, _)| serde_json::from_str(json).unwrap())
            .collect();
        let records = script
            .iter()
            .zip(steps)
            .enumerate()
            .map(|(i, (s, (_, outcome)))| {
                StepRecord::with_call(i, s, Call::new(outcome.clone(), -1))
            })
            .collect();
        (script, records)
    }

    #[test]
    fn behaviour_entries_match_op_values_and_context() {
        let k = Known::parse(
            r#"{"entries":[{"id":"e12","scenario":"*","implementation":"rustls","families":["rustls"],
                "op":{"names":["write"],"args":{"len":0}},
                "reference_value":"syscall","value":"ok(*)","clause":"W9",
                "reason":"zero-length SSL_write: OpenSSL fails, rustls accepts"},
               {"id":"e13","scenario":"*","implementation":"rustls","families":["rustls"],
                "after":[{"op":{"names":["shutdown"]},"outcome":"ok(*)"}],
                "reference_value":"ssl(protocol is shutdown)","clause":"W11",
                "reason":"rustls writes after its own close_notify"}]}"#,
        )
        .unwrap();
        let k0 = key("fuzz", Tls::V13);
        let run = |script: &[Step], d: &Difference, records: &[StepRecord]| {
            explain(
                &k,
                Scope::new(&k0, TransportKind::Memory, script),
                "rustls",
                d,
                records,
            )
        };
        let (script, zero) = scripted(&[
            (r#"{"op":"handshake"}"#, Outcome::Ok(1)),
            (r#"{"op":"write","len":0}"#, Outcome::Syscall),
        ]);
        assert_eq!(run(&script, &diff(1, "syscall", "ok(0)"), &zero), Some(0));
        assert_eq!(run(&script, &diff(1, "want_write", "ok(0)"), &zero), None);
        // Without the script the step pattern has nothing to match.
        assert_eq!(
            explain(&k, &k0, "rustls", &diff(1, "syscall", "ok(0)"), &zero),
            None
        );
        let (script, ten) = scripted(&[
            (r#"{"op":"handshake"}"#, Outcome::Ok(1)),
            (r#"{"op":"write","len":10}"#, Outcome::Syscall),
        ]);
        assert_eq!(run(&script, &diff(1, "syscall", "ok(0)"), &ten), None);
        let shut = Outcome::Ssl("protocol is shutdown".into());
        let (script, after) = scripted(&[
            (r#"{"op":"shutdown"}"#, Outcome::Ok(0)),
            (r#"{"op":"write","len":5}"#, shut.clone()),
        ]);
        let d = diff(1, "ssl(protocol is shutdown)", "ok(5)");
        assert_eq!(run(&script, &d, &after), Some(1));
        let (script, before) = scripted(&[
            (r#"{"op":"write","len":5}"#, shut),
            (r#"{"op":"shutdown"}"#, Outcome::Ok(0)),
        ]);
        let d0 = diff(0, "ssl(protocol is shutdown)", "ok(5)");
        assert_eq!(run(&script, &d0, &before), None, "context must come first");
    }

    #[test]
    fn every_context_must_hold_and_patterns_are_checked_at_load() {
        let k = Known::parse(
            r#"{"entries":[{"id":"e14","scenario":"*","implementation":"rustls","families":["rustls"],
                "after":[{"op":{"names":["shutdown"]},"outcome":"ok(*)"},
                         {"op":{"names":["renegotiate"]},"outcome":"ok(1)"}],
                "reference_value":"ok(*)","clause":"W11",
                "reason":"both a shutdown and a renegotiation came before"}]}"#,
        )
        .unwrap();
        let k0 = key("fuzz", Tls::V12);
        let d = diff(2, "ok(100)", "ssl(protocol is shutdown)");
        let (script, both) = scripted(&[
            (r#"{"op":"shutdown"}"#, Outcome::Ok(0)),
            (r#"{"op":"renegotiate"}"#, Outcome::Ok(1)),
            (r#"{"op":"write","len":100}"#, Outcome::Ok(100)),
        ]);
        let scope = Scope::new(&k0, TransportKind::Memory, &script);
        assert_eq!(explain(&k, scope, "rustls", &d, &both), Some(0));
        let (script, one) = scripted(&[
            (r#"{"op":"shutdown"}"#, Outcome::Ok(0)),
            (r#"{"op":"read","len":5}"#, Outcome::WantRead),
            (r#"{"op":"write","len":100}"#, Outcome::Ok(100)),
        ]);
        let scope = Scope::new(&k0, TransportKind::Memory, &script);
        assert_eq!(explain(&k, scope, "rustls", &d, &one), None);
        let refused = |entry: &str| {
            Known::parse(&format!(
                r#"{{"entries":[{{"id":"x","scenario":"*","families":["rustls"],{entry},"clause":"W11","reason":"a reason of some length"}}]}}"#
            ))
            .unwrap_err()
        };
        assert!(
            refused(r#""op":{"names":["wrte"]}"#).starts_with("entry 0 (x): unknown op \"wrte\"")
        );
        assert_eq!(
            refused(r#""after":[{"op":{"names":["shutdown"],"args":{"len":1}}}]"#),
            "entry 0 (x): shutdown has no field \"len\""
        );
        assert!(refused(r#""after":[{}]"#).starts_with("entry 0 (x): a context asks for nothing"));
        assert!(refused(r#""op":"write*""#).contains("invalid type: string"));
        assert!(refused(r#""versions":"OpenSSL 3.*""#).contains("invalid type: string"));
        assert!(
            Known::parse(r#"{"entries":[{"id":"x","scenario":"*","families":[],"clause":"W11","reason":"a reason of some length"}]}"#)
                .unwrap_err()
                .contains("families is empty")
        );
    }

    #[test]
    fn an_entry_explains_the_same_difference_under_either_reference() {
        let k = Known::parse(
            r#"{"entries":[{"id":"zero/rustls","scenario":"z-*","implementation":"rustls",
                "families":["rustls"],"step":1,"reference_value":"syscall","value":"ok(0)",
                "clause":"W9","reason":"rustls accepts the zero-length write"},
               {"id":"zero/rustls-unpinned","scenario":"y-*","implementation":"rustls",
                "families":["rustls"],"step":1,"clause":"W9",
                "reason":"written against OpenSSL without naming its value"},
               {"id":"zero/wolfssl","scenario":"z-*","implementation":"*",
                "families":["wolfssl"],"step":1,"reference_value":"syscall",
                "value":"unclassified","clause":"W9",
                "reason":"wolfSSL gives no error class for it"}]}"#,
        )
        .unwrap();
        let (openssl, rustls) = (
            info("openssl", "OpenSSL 3.0.19 27 Jan 2026"),
            info("rustls", "rustls 0.23.46"),
        );
        let boring = info_of("boringssl", "BoringSSL", "boringssl");
        let wolf = info_of("wolfssl", "wolfSSL 5.5.4", "wolfssl");
        let steps = [step(0, "handshake", Outcome::Ok(1))];
        let pair = |run: &RunKey,
                    a: &crate::contract::ImplInfo,
                    av: &str,
                    b: &crate::contract::ImplInfo,
                    bv: &str| {
            let d = Difference {
                implementation: b.name.clone(),
                reference: a.name.clone(),
                step: Some(1),
                field: "outcome".into(),
                reference_value: av.into(),
                value: bv.into(),
            };
            k.explain_pair(run, &d, Side::new(a, av, &steps), Side::new(b, bv, &steps))
        };
        let z = key("z-write-zero", Tls::V13);
        // The same difference, with either side as the reference.
        assert_eq!(
            pair(&z, &openssl, "syscall", &rustls, "ok(0)"),
            Some(Explained::Implementation(0))
        );
        assert_eq!(
            pair(&z, &rustls, "ok(0)", &openssl, "syscall"),
            Some(Explained::Reference(0))
        );
        // Another library doing the norm the entry names is explained the same way.
        assert_eq!(
            pair(&z, &rustls, "ok(0)", &boring, "syscall"),
            Some(Explained::Reference(0))
        );
        // ... but not one that does something else there.
        assert_eq!(pair(&z, &rustls, "ok(0)", &boring, "want_read"), None);
        // Both deviate, each as its own entry says.
        assert_eq!(
            pair(&z, &rustls, "ok(0)", &wolf, "unclassified"),
            Some(Explained::Both {
                implementation: 2,
                reference: 0
            })
        );
        assert_eq!(pair(&z, &rustls, "ok(1)", &wolf, "unclassified"), None);
        // An entry that does not name the norm's value was written against OpenSSL: it explains
        // rustls against an OpenSSL of either role, never against BoringSSL.
        let y = key("y-write-zero", Tls::V13);
        assert_eq!(
            pair(&y, &rustls, "ok(0)", &openssl, "syscall"),
            Some(Explained::Reference(1))
        );
        assert_eq!(
            pair(&y, &openssl, "syscall", &rustls, "ok(0)"),
            Some(Explained::Implementation(1))
        );
        assert_eq!(pair(&y, &rustls, "ok(0)", &boring, "syscall"), None);
        assert_eq!(pair(&y, &boring, "syscall", &rustls, "ok(0)"), None);
    }

    #[test]
    fn ids_are_required_unique_and_plain() {
        let one = |id: &str| {
            format!(
                r#"{{"id":{id:?},"scenario":"x","implementation":"rustls","families":["rustls"],"clause":"W5","reason":"a reason of some length"}}"#
            )
        };
        let file = |entries: &[String]| format!(r#"{{"entries":[{}]}}"#, entries.join(","));
        assert!(Known::parse(&file(&[one("a/b-c_d.e")])).is_ok());
        let dup = Known::parse(&file(&[one("a"), one("a")])).unwrap_err();
        assert_eq!(dup, "entry 1: id \"a\" is already entry 0's");
        let bad = Known::parse(&file(&[one("a b")])).unwrap_err();
        assert!(bad.starts_with("entry 0: id \"a b\" must be"), "{bad}");
        let missing = Known::parse(
            r#"{"entries":[{"scenario":"x","implementation":"rustls","families":["rustls"],"clause":"W5","reason":"a reason of some length"}]}"#,
        )
        .unwrap_err();
        assert!(missing.contains("missing field `id`"), "{missing}");
    }

    #[test]
    fn an_entry_names_one_scenario_or_a_list_and_reaches_no_other() {
        let k = Known::parse(
            r#"{"entries":[{"id":"l","scenario":["sd-a","hs-*"],"families":["rustls"],
                "clause":"W12","reason":"written for these scenarios only"}]}"#,
        )
        .unwrap();
        let d = diff(1, "syscall", "ssl()");
        let none: &[StepRecord] = &[];
        for (id, explained) in [("sd-a", true), ("hs-b", true), ("sd-b", false)] {
            let run = key(id, Tls::V13);
            assert_eq!(
                explain(&k, &run, "rustls", &d, none).is_some(),
                explained,
                "{id}"
            );
        }
        assert_eq!(k.entries[0].scenario.to_string(), "sd-a, hs-*");
        for bad in [r#"[]"#, r#"[1]"#, r#"3"#] {
            let err = Known::parse(&format!(
                r#"{{"entries":[{{"id":"l","scenario":{bad},"families":["rustls"],"clause":"W12","reason":"a reason of some length"}}]}}"#
            ))
            .unwrap_err();
            assert!(
                err.starts_with("expected a scenario id or a non-empty list of them"),
                "{err}"
            );
        }
    }

    #[test]
    fn a_norm_reason_is_matched_in_openssl_words_and_by_class_elsewhere() {
        let k = Known::parse(
            r#"{"entries":[{"id":"w","scenario":"sd-x","families":["rustls"],"step":2,
                "reference_value":"ssl(protocol is shutdown)","value":"ok(100)",
                "clause":"W11","reason":"rustls writes after its own close_notify"}]}"#,
        )
        .unwrap();
        let rustls = info("rustls", "rustls 0.23.46");
        let steps = [step(0, "handshake", Outcome::Ok(1))];
        let run = key("sd-x", Tls::V13);
        let against = |other: &crate::contract::ImplInfo, norm: &str| {
            let d = Difference {
                implementation: other.name.clone(),
                reference: "rustls".into(),
                step: Some(2),
                field: "outcome".into(),
                reference_value: "ok(100)".into(),
                value: norm.into(),
            };
            k.explain_pair(
                &run,
                &d,
                Side::new(&rustls, "ok(100)", &steps),
                Side::new(other, norm, &steps),
            )
            .is_some()
        };
        let openssl = info("openssl", "OpenSSL 3.0.19 27 Jan 2026");
        let boring = info_of("boringssl", "BoringSSL", "boringssl");
        let wolf = info_of("wolfssl", "wolfSSL 5.5.4", "wolfssl");
        assert!(against(&openssl, "ssl(protocol is shutdown)"));
        assert!(
            !against(&openssl, "ssl(application data after close notify)"),
            "another OpenSSL reason is another behaviour"
        );
        assert!(against(&boring, "ssl(PROTOCOL_IS_SHUTDOWN)"));
        assert!(!against(&boring, "ssl(BAD_WRITE_RETRY)"));
        assert!(against(&wolf, "ssl(error -173)"), "wolfSSL words its own");
        assert!(!against(&wolf, "syscall"));
    }
}
