//! Differences beyond outcomes: what the error queue held after each call (`queue`) and what
//! went over the wire (`wire`), between each implementation and the reference.
//!
//! Only what a caller or a peer can act on is compared; what the contract leaves open is not:
//!
//! - `queue` (clause W14): at each of the implementation's steps, whether the error queue held
//!   a reason after the call, where the reference had none or the other way round (OpenSSL 3.2+
//!   puts a system error on the queue after EPIPE where 3.0 leaves it empty; 4.0 fails with
//!   `SSL_ERROR_SSL` and no reason). The wording is shown, never compared (each library words
//!   its own), nor the number of reasons; the drivers' notes of a transport error (`io: ...`,
//!   added after the queue's reasons) are not queue entries. Compared only at steps whose
//!   outcomes are of the same class, before the pair's first difference (after it the two
//!   connections are in different states, and the difference is already reported).
//! - `wire` (clauses W9, W11): for a pair whose runs completed without any difference, what
//!   the implementation sent to the peer: the number of alert records (TLS 1.3 encrypts alerts
//!   after the handshake, so there only the plaintext ones before it count), of empty
//!   application-data records (where the run's suite says how long one is: TLS 1.3, and TLS
//!   1.2 over AES-GCM or ChaCha20-Poly1305; never over CBC, whose padding hides it), and
//!   whether it sent bytes after its own close_notify. Record sizes and counts are not
//!   compared: how a write is cut into records, the key shares and extensions of a ClientHello
//!   (303 bytes on OpenSSL 3.0, about 1460 on 3.5+ with its ML-KEM share) and the number of
//!   session tickets differ between implementations without the contract saying anything.
//!
//! Aspect differences never change a run's verdict; `--strict-aspects` makes the ones no known
//! entry explains fail the run (see README.md). Generated runs (the fuzzer's) are compared by
//! outcome only.

use serde::{Deserialize, Serialize};

use crate::contract::{Call, ImplInfo, Tls};
use crate::diff::Difference;
use crate::known::{Known, Scope, Side};
use crate::runner::{Actor, RunStatus, Trace};
use crate::wire::WireRecord;

/// At most this many aspect differences are kept per run (the unexplained ones first); the
/// rest are counted in `aspects_omitted`.
pub const MAX_PER_RUN: usize = 16;

/// The longest value kept (a library's reasons are its own text).
const MAX_VALUE_CHARS: usize = 200;

/// The value of an empty error queue.
pub const EMPTY_QUEUE: &str = "(empty)";

/// The two kinds of aspect difference; also the `field` of the [`Difference`] a known entry
/// is matched against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AspectKind {
    Queue,
    Wire,
}

impl AspectKind {
    pub const ALL: [AspectKind; 2] = [AspectKind::Queue, AspectKind::Wire];

    pub fn as_str(self) -> &'static str {
        match self {
            AspectKind::Queue => "queue",
            AspectKind::Wire => "wire",
        }
    }

    /// The kind a difference's `field` names, if it is one.
    pub fn of_field(field: &str) -> Option<AspectKind> {
        AspectKind::ALL.into_iter().find(|k| k.as_str() == field)
    }
}

/// What exactly differs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Aspect {
    /// Whether the error queue held a reason after the call.
    Reasons,
    /// The alert records sent to the peer.
    Alerts,
    /// Application-data records without plaintext sent to the peer.
    EmptyRecords,
    /// Bytes sent to the peer after the implementation's own close_notify.
    AfterClose,
}

impl Aspect {
    pub fn kind(self) -> AspectKind {
        match self {
            Aspect::Reasons => AspectKind::Queue,
            Aspect::Alerts | Aspect::EmptyRecords | Aspect::AfterClose => AspectKind::Wire,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Aspect::Reasons => "reasons",
            Aspect::Alerts => "alerts",
            Aspect::EmptyRecords => "empty_records",
            Aspect::AfterClose => "after_close",
        }
    }
}

/// One aspect in which an implementation differs from the reference.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AspectDifference {
    pub kind: AspectKind,
    pub aspect: Aspect,
    pub implementation: String,
    pub reference: String,
    /// The step (`queue`), or `None` for the run as a whole (`wire`).
    pub step: Option<usize>,
    /// The reference's value: the queue's reasons joined by `; ` (`(empty)`), or for the wire
    /// `alerts=N`, `empty_records=N`, `after_close=N` (bytes).
    pub reference_value: String,
    pub value: String,
    /// The id of the known entry that explains it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry: Option<String>,
    /// The implementation the entry describes when that is the reference (as in `known`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub describes: Option<String>,
}

impl AspectDifference {
    /// The difference a known entry is matched against: `field` is the kind.
    pub fn as_difference(&self) -> Difference {
        Difference {
            implementation: self.implementation.clone(),
            reference: self.reference.clone(),
            step: self.step,
            field: self.kind.as_str().to_string(),
            reference_value: self.reference_value.clone(),
            value: self.value.clone(),
        }
    }

    /// One line: `rustls step 2 queue: (empty) vs io error` (with the entry that explains it).
    pub fn line(&self) -> String {
        let at = self.step.map_or(String::new(), |s| format!(" step {s}"));
        let known = self
            .entry
            .as_ref()
            .map_or(String::new(), |e| format!(" [known: {e}]"));
        format!(
            "{}{at} {}: {} {} vs {}{known}",
            self.implementation,
            self.kind.as_str(),
            self.reference,
            self.reference_value,
            self.value
        )
    }
}

/// What the comparison needs to know about the run besides its traces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunFacts {
    /// The length of an application-data record without plaintext, where the suite fixes it.
    pub empty_record: Option<u16>,
}

impl RunFacts {
    /// From the run's TLS version and the cipher list its scenario sets (none: the default
    /// AEAD suites, AES-GCM first in every implementation here).
    pub fn new(tls: Tls, cipher: Option<&str>) -> RunFacts {
        let empty_record = match (tls, cipher) {
            // 16 bytes of tag and the inner content type; every TLS 1.3 suite has a 16-byte tag.
            (Tls::V13, _) => Some(17),
            // An 8-byte explicit nonce and a 16-byte tag.
            (Tls::V12, None) => Some(24),
            (Tls::V12, Some(c)) if c.contains("GCM") && !c.contains(':') => Some(24),
            (Tls::V12, Some(c)) if c.contains("CHACHA20") && !c.contains(':') => Some(16),
            // CBC (padding), or a list that may negotiate either.
            (Tls::V12, Some(_)) => None,
        };
        RunFacts { empty_record }
    }
}

/// The reasons the queue held after `call`, without the drivers' transport notes (`io: ...`).
pub fn queue(call: &Call) -> Vec<&str> {
    call.errors
        .iter()
        .map(String::as_str)
        .filter(|e| !e.starts_with("io: "))
        .collect()
}

fn queue_value(reasons: &[&str]) -> String {
    if reasons.is_empty() {
        return EMPTY_QUEUE.to_string();
    }
    let joined = reasons.join("; ");
    if joined.chars().count() > MAX_VALUE_CHARS {
        let cut: String = joined.chars().take(MAX_VALUE_CHARS).collect();
        format!("{cut}...")
    } else {
        joined
    }
}

/// What the wire shows of one trace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct WireFacts {
    alerts: usize,
    empty: Option<usize>,
    after_close: Option<u64>,
}

fn wire_facts(t: &Trace, facts: RunFacts) -> WireFacts {
    let records = &t.wire.to_peer;
    let alerts = records
        .iter()
        .filter(|r| r.content_type() == WireRecord::ALERT)
        .count();
    let empty = facts.empty_record.map(|len| {
        records
            .iter()
            .filter(|r| r.content_type() == WireRecord::APPLICATION_DATA && r.len() == len)
            .count()
    });
    WireFacts {
        alerts,
        empty,
        after_close: t.wire.after_close_notify,
    }
}

/// The aspects in which `other` differs from `reference`; `first` is the pair's first
/// difference in outcome, bytes, status or delivery, if any.
pub fn compare(
    facts: RunFacts,
    (reference_name, reference): (&str, &Trace),
    (name, other): (&str, &Trace),
    first: Option<&Difference>,
) -> Vec<AspectDifference> {
    let mut out = Vec::new();
    let make = |aspect: Aspect, step: Option<usize>, a: String, b: String| AspectDifference {
        kind: aspect.kind(),
        aspect,
        implementation: name.to_string(),
        reference: reference_name.to_string(),
        step,
        reference_value: a,
        value: b,
        entry: None,
        describes: None,
    };
    // A resumption that happened on one side only: every step starts from another handshake.
    let stop = match first {
        Some(d) if d.field == "resumed" => Some(0),
        Some(d) => d.step,
        None => None,
    };
    for (a, b) in reference.steps.iter().zip(&other.steps) {
        if stop.is_some_and(|s| a.index >= s) {
            break;
        }
        let (Some(ca), Some(cb)) = (a.call.as_ref(), b.call.as_ref()) else {
            continue;
        };
        if ca.outcome.class() == "skip" || cb.outcome.class() == "skip" {
            break;
        }
        if a.actor != Actor::Impl || ca.outcome.class() != cb.outcome.class() {
            continue;
        }
        let (qa, qb) = (queue(ca), queue(cb));
        if qa.is_empty() != qb.is_empty() {
            out.push(make(
                Aspect::Reasons,
                Some(a.index),
                queue_value(&qa),
                queue_value(&qb),
            ));
        }
    }
    let completed = |t: &Trace| matches!(t.status, RunStatus::Completed);
    if first.is_some() || !completed(reference) || !completed(other) {
        return out;
    }
    let (wa, wb) = (wire_facts(reference, facts), wire_facts(other, facts));
    if wa.alerts != wb.alerts {
        out.push(make(
            Aspect::Alerts,
            None,
            format!("alerts={}", wa.alerts),
            format!("alerts={}", wb.alerts),
        ));
    }
    if let (Some(x), Some(y)) = (wa.empty, wb.empty) {
        if x != y {
            out.push(make(
                Aspect::EmptyRecords,
                None,
                format!("empty_records={x}"),
                format!("empty_records={y}"),
            ));
        }
    }
    if let (Some(x), Some(y)) = (wa.after_close, wb.after_close) {
        // How many bytes is a matter of record sizes; whether any is not.
        if (x == 0) != (y == 0) {
            out.push(make(
                Aspect::AfterClose,
                None,
                format!("after_close={x}"),
                format!("after_close={y}"),
            ));
        }
    }
    out
}

/// For a known entry about a queue or wire difference (its `field`, its `step`): whether the
/// pair's first difference `d` keeps the comparison from ever reaching what the entry
/// describes, so that the entry cannot be stale there. `None` for an entry about anything
/// else. The wire is not compared once a pair differs at all; the queue only before the
/// first difference (for an entry without a step, any step-level difference may hide it).
pub fn masks(field: Option<&str>, step: Option<usize>, d: &Difference) -> Option<bool> {
    let kind = AspectKind::of_field(field?)?;
    let before = |s: usize| step.is_none_or(|n| s <= n);
    Some(match kind {
        AspectKind::Wire => true,
        AspectKind::Queue => d.field == "resumed" || d.step.is_some_and(before),
    })
}

/// A run's aspect differences, judged against the known entries.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Judged {
    /// At most [`MAX_PER_RUN`], the unexplained ones first.
    pub aspects: Vec<AspectDifference>,
    /// How many more there were.
    pub omitted: usize,
}

/// The run's traces in column order (the reference first), with each column's first
/// difference.
pub struct RunTraces<'a> {
    pub infos: &'a [ImplInfo],
    pub traces: &'a [Trace],
    pub differences: &'a [Difference],
}

/// Compares every column with the reference and explains what differs with `known`; an entry
/// that describes a side of a difference counts as used in `used`.
pub fn judge(
    known: &Known,
    scope: Scope<'_>,
    facts: RunFacts,
    run: &RunTraces<'_>,
    used: &mut [usize],
) -> Judged {
    let (Some(ref_info), Some(ref_trace)) = (run.infos.first(), run.traces.first()) else {
        return Judged::default();
    };
    let mut all = Vec::new();
    for (info, trace) in run.infos.iter().zip(run.traces).skip(1) {
        let first = run
            .differences
            .iter()
            .find(|d| d.implementation == info.name);
        let found = compare(
            facts,
            (&ref_info.name, ref_trace),
            (&info.name, trace),
            first,
        );
        for mut a in found {
            let d = a.as_difference();
            let reference_side = Side::new(ref_info, &d.reference_value, &ref_trace.steps);
            let side = Side::new(info, &d.value, &trace.steps);
            let explained = known.explain_counting(scope, &d, reference_side, side, used);
            if let Some((e, about_reference)) = explained.and_then(|x| x.entries().first().copied())
            {
                a.entry = Some(known.entries[e].id.clone());
                a.describes = about_reference.then(|| ref_info.name.clone());
            }
            all.push(a);
        }
    }
    // The unexplained first, so that what is kept says whether any is unexplained.
    all.sort_by_key(|a| a.entry.is_some());
    let omitted = all.len().saturating_sub(MAX_PER_RUN);
    all.truncate(MAX_PER_RUN);
    Judged {
        aspects: all,
        omitted,
    }
}

#[cfg(test)]
mod tests;
