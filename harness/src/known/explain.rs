//! Matching: whether an entry describes a side of a difference, and which entries explain a
//! difference whichever side is the reference ([`Known::explain_pair`]), a violation, or an
//! agreement that some entry expected to differ.

use super::*;

/// A reason in the words OpenSSL's reason strings use: BoringSSL and AWS-LC spell the same
/// reason codes in capitals with underscores (`ssl(BAD_WRITE_RETRY)` for OpenSSL's
/// `ssl(bad write retry)`), so a norm written as one is met by the other; any other wording is
/// another reason.
pub(super) fn reason_words(value: &str) -> String {
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

    /// [`Known::explain_pair`], counting in `used` (one slot per entry) every entry in use
    /// there: the chosen ones and every other that describes a side ([`Known::describing`]),
    /// so that none is called stale because another came first.
    pub fn explain_counting<'s>(
        &self,
        scope: impl Into<Scope<'s>>,
        d: &Difference,
        reference: Side<'_>,
        implementation: Side<'_>,
        used: &mut [usize],
    ) -> Option<Explained> {
        let scope = scope.into();
        let explained = self.explain_pair(scope, d, reference, implementation);
        let mut in_use = self.describing(scope, d, reference, implementation);
        in_use.extend(explained.iter().flat_map(|x| x.entries()).map(|(e, _)| e));
        in_use.sort_unstable();
        in_use.dedup();
        for e in in_use {
            if let Some(n) = used.get_mut(e) {
                *n += 1;
            }
        }
        explained
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
