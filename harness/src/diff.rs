//! Compares traces of one run across implementations, through the shared vocabulary only.
//!
//! What counts as a difference: a step's outcome class, or, for calls on the implementation,
//! its count for `ok(n)` and the bytes it moved; how the run ended; what the peer's application
//! received in all. The peer's per-step counts are not compared: they follow from how each
//! implementation cut its records, which the contract leaves open. What does not: the raw
//! return value of a failure (`0` vs `-1` carry no meaning, clause W10) and the wording of an
//! `ssl(reason)` — implementations word their errors differently; a reason that differs is
//! kept as a *note* on the run, shown in reports, never dropped.
//!
//! Values the runner marked timing-dependent ([`crate::trace::Timing`]: over TCP, how much the
//! kernel's buffers took before a write stopped short or deadlocked) are not compared when
//! *either* side marks them: a marked value is the kernel's choice in that run, so comparing
//! it with anything, marked or exact, compares kernel timing, not libraries (the in-memory
//! transport compares the same counts exactly). What is compared still is the outcome class of
//! every step, how the run ended and the bytes lost (`missing`). Where a marked value differs
//! the run gets a note that says so ([`timing_note`]), in place of the difference.

use serde::{Deserialize, Serialize};

use crate::runner::{RunStatus, Trace};
use crate::transport::TransportKind;

/// The verdict of one scenario run across implementations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Every implementation behaved the same.
    Agree,
    /// At least one difference that no known-divergence entry explains.
    Diverge,
    /// Every difference is explained by a known-divergence entry.
    Known,
    /// An implementation could not do a step (and nothing differed before it).
    Skip,
    /// The harness could not run it (set-up failure).
    Error,
}

impl Verdict {
    pub const ALL: [Verdict; 5] = [
        Verdict::Agree,
        Verdict::Diverge,
        Verdict::Known,
        Verdict::Skip,
        Verdict::Error,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Agree => "agree",
            Verdict::Diverge => "diverge",
            Verdict::Known => "known",
            Verdict::Skip => "skip",
            Verdict::Error => "error",
        }
    }
}

/// The first place where an implementation differs from the reference.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Difference {
    pub implementation: String,
    pub reference: String,
    /// The step index, or `None` for run-level fields (status, delivery).
    pub step: Option<usize>,
    /// `outcome`, `bytes`, `status`, `peer_received`, `missing`, `unconfirmed`, `resumed`.
    pub field: String,
    pub reference_value: String,
    pub value: String,
}

/// The note for a value not compared because a side marked it timing-dependent: `what` (`step
/// 2 count`, `peer_received`), the transport, and both values.
pub fn timing_note(
    what: &str,
    transport: TransportKind,
    (reference_name, a): (&str, &str),
    (name, b): (&str, &str),
) -> String {
    format!("{what} not compared, {TIMING_NOTE} {transport}: {reference_name} {a}, {name} {b}")
}

/// What every [`timing_note`] says (the determinism test finds them by it).
pub const TIMING_NOTE: &str = "timing-dependent over";

/// Whether `note` is a [`timing_note`]: derived from marked values, so it comes and goes with
/// kernel timing as they do.
pub fn is_timing_note(note: &str) -> bool {
    note.contains(&format!("not compared, {TIMING_NOTE} "))
}

fn status_class(s: &RunStatus) -> &'static str {
    match s {
        RunStatus::Completed => "completed",
        RunStatus::Skipped { .. } => "skipped",
        RunStatus::Deadlock { .. } => "deadlock",
        RunStatus::Crash { .. } => "crash",
        RunStatus::Timeout { .. } => "timeout",
        RunStatus::Error { .. } => "error",
    }
}

/// How much of two traces the contract lets us compare.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Policy {
    /// Stop at the step where the script broke W6 (generated sequences do; written scenarios
    /// that test the break on purpose compare it in full).
    pub stop_at_w6_break: bool,
    /// After the reference's first fatal outcome (ssl/syscall), compare only success against
    /// failure: the contract (W12) says no later write succeeds, not which error class follows
    /// nor, for a success that breaks it, how many bytes it reports (I1 still checks each).
    /// The peer's steps are not compared from then on: whether the implementation's fatal
    /// alert, or records it already held, still reach the peer is not the contract's; nor is
    /// a run that ended in a deadlock against one that completed (a later call that blocked
    /// forever against one that failed: neither succeeded).
    pub lenient_after_fatal: bool,
    /// After a loop cut at its call limit, do not compare what the peer received: each run
    /// stopped somewhere in the middle of a write (the status still counts).
    pub lenient_after_cap: bool,
    /// While the two implementations have read different totals of plaintext, do not compare
    /// the outcome of a read or of a peer write: SSL_read may return any count up to what was
    /// asked (OpenSSL one record per call, rustls all it holds), so one of them meets the end
    /// of the data (want_read), a queued alert or the peer's close_notify a call earlier, and
    /// the peer's writes find a transport the other has drained less. Compared again once the
    /// totals agree. A blocking read that deadlocks in that state (the data it waits for was
    /// returned by an earlier call) ends the comparison: the runs part there.
    pub reads_by_total: bool,
}

impl Policy {
    /// What the fuzz oracles use.
    pub const GENERATED: Policy = Policy {
        stop_at_w6_break: true,
        lenient_after_fatal: true,
        lenient_after_cap: true,
        reads_by_total: true,
    };
}

/// Compares `other` against `reference` in full. Returns the first difference (if any) and
/// notes on differences that are not divergences (error wording).
pub fn compare(
    reference_name: &str,
    reference: &Trace,
    name: &str,
    other: &Trace,
) -> (Option<Difference>, Vec<String>) {
    compare_with(Policy::default(), reference_name, reference, name, other)
}

/// [`compare`] under a [`Policy`].
pub fn compare_with(
    policy: Policy,
    reference_name: &str,
    reference: &Trace,
    name: &str,
    other: &Trace,
) -> (Option<Difference>, Vec<String>) {
    let mut fatal_seen = false;
    let mut capped = false;
    // Plaintext each implementation has read so far (its reads' ok(n)).
    let (mut read_a, mut read_b) = (0u64, 0u64);
    let mut notes = Vec::new();
    let diff = |step: Option<usize>, field: &str, a: String, b: String| Difference {
        implementation: name.to_string(),
        reference: reference_name.to_string(),
        step,
        field: field.to_string(),
        reference_value: a,
        value: b,
    };
    let cut = if policy.stop_at_w6_break {
        match (reference.broke_w6_at, other.broke_w6_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    } else {
        None
    };
    // A run that was to resume a session: one implementation resumed it, the other did a
    // full handshake. Everything after starts from different handshakes.
    if let (Some(x), Some(y)) = (reference.resumed, other.resumed) {
        if x != y {
            return (
                Some(diff(None, "resumed", x.to_string(), y.to_string())),
                notes,
            );
        }
    }
    for (a, b) in reference.steps.iter().zip(&other.steps) {
        if cut.is_some_and(|c| a.index >= c) {
            return (None, notes);
        }
        if a.capped || b.capped {
            // A loop cut at its call limit: later steps start from different places, but how
            // each run ended still counts.
            capped = true;
            break;
        }
        let (ca, cb) = (a.call.as_ref(), b.call.as_ref());
        // Either side's marker: its counts are the kernel's (module doc).
        let counts = |t: &crate::runner::Timing| t.counts();
        let timed = a
            .timing
            .filter(counts)
            .or(b.timing.filter(counts))
            .map(|t| t.transport);
        let mut noted = false;
        let is_read = a.actor == crate::runner::Actor::Impl && a.op.starts_with("read ");
        let offset_reads = policy.reads_by_total
            && read_a != read_b
            && (is_read || a.op.starts_with("peer_write "));
        if is_read {
            let got = |c: Option<&crate::contract::Call>| match c.map(|c| &c.outcome) {
                Some(crate::contract::Outcome::Ok(n)) => *n,
                _ => 0,
            };
            read_a += got(ca);
            read_b += got(cb);
        }
        if offset_reads {
            // A blocking read that waits for ever because this implementation already
            // returned that data in an earlier call (the other is one record behind): the two
            // runs part here for a reason the contract allows, so nothing after compares.
            let deadlocked = |c: Option<&crate::contract::Call>| {
                matches!(
                    c.map(|c| &c.outcome),
                    Some(crate::contract::Outcome::Deadlock)
                )
            };
            if is_read && (deadlocked(ca) || deadlocked(cb)) {
                return (None, notes);
            }
            continue;
        }
        if fatal_seen && policy.lenient_after_fatal && a.actor == crate::runner::Actor::Peer {
            // After the implementation's fatal error the peer's outcomes follow from what the
            // implementation still sent (its fatal alert, records it already held), which the
            // contract leaves open; what reached the peer's application is still held to what
            // each implementation reported (I1).
            continue;
        }
        if let (Some(ca), Some(cb)) = (ca, cb) {
            let (oa, ob) = (&ca.outcome, &cb.outcome);
            let skipped = oa.class() == "skip" || ob.class() == "skip";
            if skipped {
                return (None, notes);
            }
            // The peer's counts depend on how each implementation cut its records; only the
            // implementation's own `ok(n)` is compared by count.
            // SSL_read may return less than asked (OpenSSL: one record at a time; rustls: all
            // it holds), so reads are compared by class too.
            let by_count = a.actor == crate::runner::Actor::Impl && !a.op.starts_with("read ");
            let lenient = fatal_seen && policy.lenient_after_fatal;
            let same = match (oa, ob) {
                _ if lenient => oa.is_ok() == ob.is_ok(),
                (crate::contract::Outcome::Ok(x), crate::contract::Outcome::Ok(y)) if by_count => {
                    match timed {
                        Some(transport) if x != y => {
                            let what = format!("step {} count", a.index);
                            let (ra, rb) = (oa.to_string(), ob.to_string());
                            notes.push(timing_note(
                                &what,
                                transport,
                                (reference_name, &ra),
                                (name, &rb),
                            ));
                            noted = true;
                            true
                        }
                        _ => x == y,
                    }
                }
                _ => oa.class() == ob.class(),
            };
            if a.actor == crate::runner::Actor::Impl && oa.is_fatal() && a.io {
                fatal_seen = true;
            }
            if !same {
                return (
                    Some(diff(
                        Some(a.index),
                        "outcome",
                        oa.to_string(),
                        ob.to_string(),
                    )),
                    notes,
                );
            }
            if oa != ob && !noted {
                notes.push(format!(
                    "step {}: {name} says {ob} where {reference_name} says {oa}",
                    a.index
                ));
            }
        }
        let lenient = fatal_seen && policy.lenient_after_fatal;
        if a.actor == crate::runner::Actor::Impl && a.bytes != b.bytes && !lenient {
            let show = |v: Option<u64>| v.map_or("-".to_string(), |n| n.to_string());
            let (ra, rb) = (show(a.bytes), show(b.bytes));
            match timed {
                Some(transport) => {
                    let what = format!("step {} bytes", a.index);
                    notes.push(timing_note(
                        &what,
                        transport,
                        (reference_name, &ra),
                        (name, &rb),
                    ));
                }
                None => return (Some(diff(Some(a.index), "bytes", ra, rb)), notes),
            }
        }
    }
    let skipped = |t: &Trace| matches!(t.status, RunStatus::Skipped { .. });
    if skipped(reference) || skipped(other) || cut.is_some() {
        return (None, notes);
    }
    let (sa, sb) = (status_class(&reference.status), status_class(&other.status));
    // After a fatal error, a run that ended in a deadlock and one that completed differ only
    // in whether a later call blocked forever or failed at once: its step was already
    // compared by success against failure, and neither succeeded.
    let settled = |s: &str| matches!(s, "completed" | "deadlock");
    let lenient = fatal_seen && policy.lenient_after_fatal;
    if sa != sb && !(lenient && settled(sa) && settled(sb)) {
        return (
            Some(diff(None, "status", sa.to_string(), sb.to_string())),
            notes,
        );
    }
    // After a fatal error a success is already a W12 break; how many bytes each one then
    // delivered is not compared (I1 still holds each to what it reported).
    if (fatal_seen && policy.lenient_after_fatal) || (capped && policy.lenient_after_cap) {
        return (None, notes);
    }
    let (da, db) = (&reference.delivery, &other.delivery);
    // `missing` is never marked: bytes said written that never arrived are a fact.
    let timed = reference.timing.or(other.timing).map(|t| t.transport);
    for (field, x, y, marked) in [
        ("peer_received", da.received, db.received, timed),
        ("missing", da.missing, db.missing, None),
        ("unconfirmed", da.unconfirmed, db.unconfirmed, timed),
    ] {
        if x == y {
            continue;
        }
        let (x, y) = (x.to_string(), y.to_string());
        match marked {
            Some(transport) => notes.push(timing_note(
                field,
                transport,
                (reference_name, &x),
                (name, &y),
            )),
            None => return (Some(diff(None, field, x, y)), notes),
        }
    }
    (None, notes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::{Call, Outcome};
    use crate::payload::Delivery;
    use crate::runner::{Actor, StepRecord, Wire};

    fn trace(outcomes: &[Outcome]) -> Trace {
        Trace {
            status: RunStatus::Completed,
            steps: outcomes
                .iter()
                .enumerate()
                .map(|(i, o)| StepRecord {
                    index: i,
                    op: "write".into(),
                    actor: Actor::Impl,
                    call: Some(Call::new(o.clone(), -1)),
                    calls: vec![],
                    bytes: None,
                    expect: None,
                    conforms: None,
                    capped: false,
                    calls_omitted: 0,
                    io: true,
                    timing: None,
                })
                .collect(),
            delivery: Delivery::default(),
            wire: Wire::default(),
            violations: vec![],
            checked: vec![],
            peer_end: None,
            broke_w6_at: None,
            resumed: None,
            duration_us: None,
            timing: None,
        }
    }

    /// `trace` with each step's op text set (`peer_…` ops are the peer's, not I/O calls).
    fn with_ops(outcomes: &[Outcome], ops: &[&str]) -> Trace {
        let mut t = trace(outcomes);
        for (s, op) in t.steps.iter_mut().zip(ops) {
            s.op = op.to_string();
            if op.starts_with("peer_") {
                s.actor = Actor::Peer;
                s.io = false;
            }
        }
        t
    }

    /// A completed trace of `script` (steps as JSON) whose calls had these outcomes.
    fn played<const N: usize>(script: &[serde_json::Value; N], outcomes: [Outcome; N]) -> Trace {
        Trace {
            steps: script
                .iter()
                .zip(outcomes)
                .enumerate()
                .map(|(i, (s, o))| {
                    let step: crate::scenario::Step =
                        serde_json::from_value(s.clone()).expect("a step");
                    StepRecord::with_call(i, &step, Call::new(o, -1))
                })
                .collect(),
            ..Trace::empty(RunStatus::Completed)
        }
    }

    #[test]
    fn same_outcomes_agree_and_reason_wording_is_a_note() {
        let a = trace(&[Outcome::Ok(5), Outcome::Ssl("protocol is shutdown".into())]);
        let b = trace(&[Outcome::Ok(5), Outcome::Ssl("closed".into())]);
        let (d, notes) = compare("openssl", &a, "rustls", &b);
        assert_eq!(d, None);
        assert_eq!(notes.len(), 1);
        assert!(notes[0].contains("ssl(closed)"), "{notes:?}");
    }

    #[test]
    fn first_differing_step_is_reported_with_both_values() {
        let a = trace(&[Outcome::Ok(5), Outcome::WantWrite, Outcome::Ok(1)]);
        let b = trace(&[Outcome::Ok(5), Outcome::Ok(16384), Outcome::Syscall]);
        let (d, _) = compare("openssl", &a, "rustls", &b);
        let d = d.expect("a difference");
        assert_eq!(d.step, Some(1));
        assert_eq!(d.field, "outcome");
        assert_eq!(d.reference_value, "want_write");
        assert_eq!(d.value, "ok(16384)");
    }

    #[test]
    fn ok_counts_differ() {
        let (d, _) = compare(
            "a",
            &trace(&[Outcome::Ok(16384)]),
            "b",
            &trace(&[Outcome::Ok(100000)]),
        );
        assert_eq!(d.map(|d| d.value), Some("ok(100000)".to_string()));
    }

    #[test]
    fn delivery_differences_count() {
        let a = trace(&[Outcome::Ok(5)]);
        let mut b = a.clone();
        b.delivery.received = 3;
        let (d, _) = compare("a", &a, "b", &b);
        assert_eq!(d.map(|d| d.field), Some("peer_received".to_string()));
    }

    #[test]
    fn a_skip_stops_the_comparison() {
        let a = trace(&[Outcome::Ok(1), Outcome::Ok(1), Outcome::Ok(7)]);
        let b = trace(&[Outcome::Ok(1), Outcome::Skip("no renegotiation".into())]);
        let (d, _) = compare("a", &a, "b", &b);
        assert_eq!(d, None);
    }

    #[test]
    fn generated_runs_compare_reads_by_their_total() {
        let ops = [
            "read len=5536",
            "read len=5536",
            "peer_write len=5536",
            "read len=5536",
            "read len=5536",
        ];
        // OpenSSL: one record per read; rustls: all it holds, then the end of the data.
        let one = with_ops(
            &[
                Outcome::Ok(1000),
                Outcome::Ok(500),
                Outcome::WantWrite,
                Outcome::Ok(500),
                Outcome::WantRead,
            ],
            &ops,
        );
        let all = with_ops(
            &[
                Outcome::Ok(2000),
                Outcome::WantRead,
                Outcome::Ok(5536),
                Outcome::WantRead,
                Outcome::WantRead,
            ],
            &ops,
        );
        let (d, _) = compare_with(Policy::GENERATED, "a", &one, "b", &all);
        assert_eq!(d, None, "steps 1 to 3 come while the totals differ");
        let (d, _) = compare_with(Policy::default(), "a", &one, "b", &all);
        assert_eq!(
            d.map(|d| d.step),
            Some(Some(1)),
            "a written scenario compares each read"
        );
        // Once the totals agree, a read that differs is a difference again.
        let late = with_ops(
            &[
                Outcome::Ok(2000),
                Outcome::WantRead,
                Outcome::Ok(5536),
                Outcome::WantRead,
                Outcome::Ok(10),
            ],
            &ops,
        );
        let (d, _) = compare_with(Policy::GENERATED, "a", &one, "b", &late);
        assert_eq!(
            d.map(|d| (d.step, d.field)),
            Some((Some(4), "outcome".to_string()))
        );
    }

    /// Early data: `write_early` and `read_early` are I/O calls (`Step::is_io`), so after the
    /// reference's fatal `write_early` a later write is compared by success against failure
    /// only. The diff's own list of op names left them out and called this a divergence.
    #[test]
    fn a_fatal_early_data_write_makes_later_writes_lenient() {
        use serde_json::json;
        let script = [
            json!({"op": "write_early", "len": 100}),
            json!({"op": "write", "len": 100}),
        ];
        let played = |outcomes: [Outcome; 2]| played(&script, outcomes);
        let reference = played([Outcome::Ssl("bad".into()), Outcome::Ssl("bad".into())]);
        let other = played([Outcome::Ssl("bad".into()), Outcome::Syscall]);
        assert!(reference.steps.iter().all(|s| s.io));
        let (d, _) = compare_with(Policy::GENERATED, "a", &reference, "b", &other);
        assert_eq!(d, None);
        // Without the policy the error classes are compared.
        let (d, _) = compare("a", &reference, "b", &other);
        assert_eq!(d.map(|d| d.step), Some(Some(1)));
    }

    /// After the reference's fatal read, the peer's reads see whatever the implementation
    /// still sent (rustls flushes its fatal alert and the records it held; OpenSSL 3.0 drops an
    /// alert the full transport would not take): generated runs stop comparing peer steps
    /// there, written scenarios do not; a peer step before the fatal error still counts.
    #[test]
    fn peer_steps_after_a_fatal_error_are_not_compared_in_generated_runs() {
        use serde_json::json;
        let script = [
            json!({"op": "peer_read"}),
            json!({"op": "read", "len": 100}),
            json!({"op": "peer_read"}),
        ];
        let played = |outcomes: [Outcome; 3]| played(&script, outcomes);
        let bad = || Outcome::Ssl("decryption failed or bad record mac".into());
        let reference = played([Outcome::WantRead, bad(), Outcome::WantRead]);
        let other = played([Outcome::WantRead, bad(), Outcome::Ok(1)]);
        let (d, _) = compare_with(Policy::GENERATED, "a", &reference, "b", &other);
        assert_eq!(d, None);
        let (d, _) = compare("a", &reference, "b", &other);
        assert_eq!(
            d.map(|d| (d.step, d.value)),
            Some((Some(2), "ok(1)".to_string()))
        );
        // Before the fatal error a peer step is compared.
        let early = played([bad(), bad(), bad()]);
        let (d, _) = compare_with(Policy::GENERATED, "a", &reference, "b", &early);
        assert_eq!(d.map(|d| d.step), Some(Some(0)));
    }

    /// After the reference's fatal write, one implementation's next blocking write waits
    /// forever (the run ends in a deadlock) where the other's fails at once (OpenSSL 4.0 fails
    /// every call after a fatal error): neither succeeded, so generated runs take the two ends
    /// as the same; a written scenario does not, and a deadlock without a fatal error before
    /// it still counts.
    #[test]
    fn a_deadlock_against_a_completed_run_after_a_fatal_error_is_not_a_difference() {
        let mut stuck = trace(&[Outcome::Syscall, Outcome::Deadlock]);
        stuck.status = RunStatus::Deadlock { step: 1 };
        let failed = trace(&[Outcome::Syscall, Outcome::Ssl(String::new())]);
        let (d, _) = compare_with(Policy::GENERATED, "a", &stuck, "b", &failed);
        assert_eq!(d, None);
        let (d, _) = compare("a", &stuck, "b", &failed);
        assert_eq!(
            d.map(|d| (d.step, d.field)),
            Some((Some(1), "outcome".to_string()))
        );
        let mut early = trace(&[Outcome::Ok(5)]);
        early.status = stuck.status.clone();
        let done = trace(&[Outcome::Ok(5)]);
        let (d, _) = compare_with(Policy::GENERATED, "a", &early, "b", &done);
        assert_eq!(d.map(|d| d.field), Some("status".to_string()));
    }

    /// On a blocking transport rustls's first read returns two records (2337 bytes), OpenSSL's
    /// one (1121): the script's second read finds OpenSSL's second record and blocks for ever
    /// in rustls, whose run ends there. Generated runs stop comparing at that read; written
    /// scenarios still see the deadlock.
    #[test]
    fn a_read_that_deadlocks_one_record_ahead_ends_the_comparison() {
        let ops = ["read len=5536", "read len=5536", "write len=100"];
        let one = with_ops(
            &[Outcome::Ok(1121), Outcome::Ok(1216), Outcome::Ok(100)],
            &ops,
        );
        let mut all = with_ops(&[Outcome::Ok(2337), Outcome::Deadlock], &ops[..2]);
        all.status = RunStatus::Deadlock { step: 1 };
        let (d, _) = compare_with(Policy::GENERATED, "a", &one, "b", &all);
        assert_eq!(d, None);
        let (d, _) = compare_with(Policy::default(), "a", &one, "b", &all);
        assert_eq!(d.map(|d| d.step), Some(Some(1)));
    }

    fn tcp(cause: crate::runner::TimingCause) -> Option<crate::runner::Timing> {
        Some(crate::runner::Timing {
            transport: TransportKind::Tcp,
            cause,
        })
    }

    /// io-blocking-deadlock over TCP under load: the deadlocked write's bytes that reached
    /// the peer are what the kernel's buffers took (49152 or 65536 from run to run). Marked,
    /// they are not compared, and a note says where a difference would have been; marked on
    /// one side only, neither (that side's value is the kernel's).
    #[test]
    fn a_marked_total_is_not_compared_and_a_note_says_so() {
        use crate::runner::TimingCause::Blocked;
        let blocked = |received: u64, marked: bool| {
            let mut t = trace(&[Outcome::Ok(1), Outcome::Deadlock]);
            t.status = RunStatus::Deadlock { step: 1 };
            t.delivery.received = received;
            t.delivery.unconfirmed = received;
            if marked {
                t.steps[1].timing = tcp(Blocked);
                t.timing = tcp(Blocked);
            }
            t
        };
        let (a, b) = (blocked(65536, true), blocked(49152, true));
        let (d, notes) = compare("openssl", &a, "rustls", &b);
        assert_eq!(d, None);
        assert_eq!(
            notes,
            vec![
                "peer_received not compared, timing-dependent over tcp: openssl 65536, rustls 49152",
                "unconfirmed not compared, timing-dependent over tcp: openssl 65536, rustls 49152",
            ]
        );
        assert!(notes.iter().all(|n| is_timing_note(n)));
        let (d, _) = compare("openssl", &a, "rustls", &blocked(49152, false));
        assert_eq!(d, None, "either side's marker");
        let (d, notes) = compare("openssl", &a, "rustls", &blocked(65536, true));
        assert_eq!((d, notes), (None, vec![]), "no note where nothing differs");
        // Unmarked, the same traces differ.
        let (d, _) = compare(
            "openssl",
            &blocked(65536, false),
            "rustls",
            &blocked(49152, false),
        );
        assert_eq!(
            d.map(|d| (d.field, d.reference_value, d.value)),
            Some(("peer_received".into(), "65536".into(), "49152".into()))
        );
    }

    #[test]
    fn a_marked_step_count_is_not_compared_but_its_outcome_class_is() {
        use crate::runner::TimingCause::SendBufferFull;
        let partial = |n: u64| {
            let mut t = trace(&[Outcome::Ok(1), Outcome::Ok(n)]);
            t.steps[1].timing = tcp(SendBufferFull);
            t.steps[1].bytes = Some(n);
            t
        };
        let (d, notes) = compare("a", &partial(65536), "b", &partial(49152));
        assert_eq!(d, None);
        assert_eq!(
            notes,
            vec![
                "step 1 count not compared, timing-dependent over tcp: a ok(65536), b ok(49152)",
                "step 1 bytes not compared, timing-dependent over tcp: a 65536, b 49152",
            ]
        );
        // want_write against ok(n) is a difference in class, marked or not.
        let mut stopped = partial(1);
        stopped.steps[1].call = Some(Call::new(Outcome::WantWrite, -1));
        stopped.steps[1].bytes = Some(65536);
        let (d, _) = compare("a", &partial(65536), "b", &stopped);
        assert_eq!(
            d.map(|d| (d.step, d.field, d.value)),
            Some((Some(1), "outcome".into(), "want_write".into()))
        );
    }

    /// Beside a marked value, what is not marked still counts: an unmarked step's count, the
    /// bytes lost (`missing`, never marked), how the run ended.
    #[test]
    fn an_unmarked_difference_beside_a_marked_one_is_still_reported() {
        use crate::runner::TimingCause::{Blocked, WriteLoop};
        let marked = |first: u64, received: u64| {
            let mut t = trace(&[Outcome::Ok(first), Outcome::Deadlock]);
            t.steps[1].timing = tcp(Blocked);
            t.timing = tcp(Blocked);
            t.delivery.received = received;
            t
        };
        let (d, _) = compare("a", &marked(100, 65536), "b", &marked(99, 49152));
        assert_eq!(
            d.map(|d| (d.step, d.field)),
            Some((Some(0), "outcome".into()))
        );
        let mut lost = marked(100, 49152);
        lost.delivery.missing = 7;
        let (d, _) = compare("a", &marked(100, 65536), "b", &lost);
        assert_eq!(
            d.map(|d| (d.field, d.value)),
            Some(("missing".into(), "7".into()))
        );
        let mut ended = marked(100, 49152);
        ended.status = RunStatus::Deadlock { step: 1 };
        let (d, _) = compare("a", &marked(100, 65536), "b", &ended);
        assert_eq!(d.map(|d| d.field), Some("status".into()));
        // A write loop that wrote all it was asked marks its calls only: its count is compared.
        let looped = |n: u64| {
            let mut t = trace(&[Outcome::Ok(n)]);
            t.steps[0].timing = tcp(WriteLoop);
            t
        };
        let (d, _) = compare("a", &looped(100000), "b", &looped(50000));
        assert_eq!(d.map(|d| d.value), Some("ok(50000)".into()));
    }
}
