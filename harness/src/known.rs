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
}

mod explain;
use explain::reason_words;
pub use explain::{Explained, Side};

#[cfg(test)]
mod tests;
