//! What a run records: a [`Trace`] of [`StepRecord`]s, its [`RunStatus`], the [`Violation`]s
//! and what crossed the [`Wire`]. Plain data (serde), so that a trace can cross a process
//! boundary (isolation.rs) and be written in a report (reports/README.md has the format).

use serde::{Deserialize, Serialize};

use crate::contract::{Call, Outcome};
use crate::payload::Delivery;
use crate::scenario::Step;
use crate::transport::TransportKind;
use crate::wire::WireRecord;

/// Who a step acted on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Actor {
    Impl,
    Peer,
    Transport,
}

/// What one step did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    pub index: usize,
    /// The step in one line (`write len=100000 buf=0 content=stream`).
    pub op: String,
    pub actor: Actor,
    /// The call's observation (for loops: the summary; see `calls`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call: Option<Call>,
    /// Every call of a looping step (`handshake`, `write_all`), when there was more than one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub calls: Vec<Call>,
    /// Plaintext bytes moved by the step (written, or read by the peer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
    /// The step's expectation, and whether the outcome met it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conforms: Option<bool>,
    /// A looping step stopped at its call limit while still making progress: its counts say
    /// how far it got, not where it would end.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub capped: bool,
    /// Calls of a looping step left out of `calls` (at most [`MAX_CALLS_KEPT`] are kept: the
    /// first ones and the last), so that no library can make a report of hundreds of MB.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub calls_omitted: u64,
    /// The step is an I/O call on the implementation ([`Step::is_io`]: one whose fatal failure
    /// ends the connection, W12), as the runner saw it. Absent (false) in reports written
    /// before it was recorded, and for every other step.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub io: bool,
    /// Some of the step's values depend on kernel timing, not on the implementation alone:
    /// the wording of its `call.errors` (a driver may quote a count the kernel decided), and
    /// as its [`TimingCause`] says: its `calls` (how many, which of them got want_write, their
    /// counts), `calls_omitted` and `call.ret`; with [`Timing::counts`] also its `ok(n)` count,
    /// `call.written` and `bytes`; a peer step's `bytes` ([`TimingCause::Follows`]). Its
    /// outcome *class* is still a fact. Absent when nothing is (always over memory).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timing: Option<Timing>,
}

/// Why a value depends on kernel timing rather than on the implementation alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimingCause {
    /// A blocking write could not finish (a deadlock): what it had sent is what the kernel's
    /// socket buffers took before the writer blocked.
    Blocked,
    /// A write stopped early because the kernel's send buffer was full (want_write, or fewer
    /// bytes than it was given): how much fitted depends on how far the kernel had already
    /// passed earlier bytes on to the receiver (ACKs, window updates), which is timing.
    SendBufferFull,
    /// A write loop (`write_all`, `write_stream`) wrote all it was asked: its count is a fact,
    /// but how many calls it took, and which of them met a full send buffer, are the kernel's
    /// timing (only the calls are marked, and `write_stream`'s call count in `op`).
    WriteLoop,
    /// A step after a marked one: what a peer step read (`bytes`) is what the kernel had let
    /// through by then, in the cuts it let through, and an implementation's error wording
    /// (`call.errors`) may quote a count the kernel decided ("shorter than the 65536 bytes
    /// already committed"). Its outcome and the implementation's counts are compared as usual.
    Follows,
}

/// The marker of a value that depends on kernel timing over a transport (only TCP sets it):
/// the runner sets it from what it saw (the kernel refused the implementation's bytes during
/// a write that then stopped short or deadlocked), never from a scenario's name. The diff does
/// not compare a value either side marks (it notes it instead), the determinism test masks
/// them, and renders print them with "(timing-dependent over tcp)".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Timing {
    pub transport: TransportKind,
    pub cause: TimingCause,
}

impl Timing {
    /// Whether the marked step's `ok(n)` count and `bytes` are marked (not only its calls, or
    /// what follows a marked step): then the diff does not compare them.
    pub fn counts(self) -> bool {
        matches!(
            self.cause,
            TimingCause::Blocked | TimingCause::SendBufferFull
        )
    }

    /// What renders append to a marked value: `(timing-dependent over tcp)`.
    pub fn suffix(self) -> String {
        format!("(timing-dependent over {})", self.transport)
    }

    /// `value`, with [`Timing::suffix`] when `timing` marks it: `49152 (timing-dependent over
    /// tcp)`.
    pub fn show(timing: Option<Timing>, value: String) -> String {
        match timing {
            Some(t) => format!("{value} {}", t.suffix()),
            None => value,
        }
    }
}

/// The calls a looping step keeps in its record: the first `MAX_CALLS_KEPT - 1` and the last.
pub const MAX_CALLS_KEPT: usize = 256;

/// A looping step's calls, capped at [`MAX_CALLS_KEPT`] (the last one always kept).
#[derive(Default)]
pub(crate) struct CallLog {
    pub(crate) calls: Vec<Call>,
    pub(crate) omitted: u64,
}

impl CallLog {
    pub(crate) fn push(&mut self, call: Call) {
        if self.calls.len() >= MAX_CALLS_KEPT {
            // Keep the first ones and the newest: the newest replaces the previous newest.
            if let Some(last) = self.calls.last_mut() {
                *last = call;
            }
            self.omitted += 1;
        } else {
            self.calls.push(call);
        }
    }
}

/// A broken invariant or a broken expectation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    /// `I1`..`I3` for invariants; the clause id (`W6`...) for spec expectations.
    pub clause: String,
    /// `invariant` or `spec`.
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<usize>,
    pub detail: String,
}

/// How a run ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum RunStatus {
    /// Every step ran.
    Completed,
    /// An action the implementation cannot do; the run stopped there.
    Skipped { step: Option<usize>, reason: String },
    /// A blocking call could not proceed and nothing the script does frees it.
    Deadlock { step: usize },
    /// The implementation crashed: it panicked at this step (the message says where), or its
    /// worker process died (`signal`, the step it had begun, if any, and its stderr's tail).
    Crash {
        step: Option<usize>,
        message: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        signal: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        stderr: Option<String>,
    },
    /// The run did not finish within the time limit: its worker was killed at this step.
    Timeout {
        step: Option<usize>,
        message: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        stderr: Option<String>,
    },
    /// The harness could not set the run up (a harness or library problem).
    Error { message: String },
}

/// The records that crossed the wire, per direction.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Wire {
    pub to_peer: Vec<WireRecord>,
    pub to_impl: Vec<WireRecord>,
    pub to_peer_bytes: u64,
    pub to_impl_bytes: u64,
    /// What went to the peer (`to_peer`, `to_peer_bytes`, `unlisted`, `after_close_notify`:
    /// the records, their cuts and their order) depends on kernel timing: set when some step is
    /// marked ([`Timing`]); the first step's marker. Never compared by the diff.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timing: Option<Timing>,
    /// Records seen but not listed (the list is capped for bulk runs).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub unlisted: u64,
    /// Bytes the implementation sent to the peer after its first `shutdown` step that
    /// succeeded (its close_notify was out): absent when it never shut down.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_close_notify: Option<u64>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Everything observed in one run of one implementation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Trace {
    #[serde(flatten)]
    pub status: RunStatus,
    pub steps: Vec<StepRecord>,
    pub delivery: Delivery,
    pub wire: Wire,
    pub violations: Vec<Violation>,
    /// The clauses and invariants this run checked (expectations evaluated, automatic checks).
    pub checked: Vec<String>,
    /// How the peer's connection ended, if it did (`zero_return`: it read a close_notify;
    /// `ssl(...)`/`syscall`: it failed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_end: Option<Outcome>,
    /// The first step where the script broke W6 (a retry with other arguments); beyond it
    /// the contract does not say what must happen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub broke_w6_at: Option<usize>,
    /// For a run that resumes a session and got through its handshake: whether the
    /// implementation's first handshake did resume it (`SSL_session_reused` right after it),
    /// where it can tell.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resumed: Option<bool>,
    /// How long the run took, in microseconds, where it was played (set-up, a primed session
    /// and the peer's last reads included; for a worker that died or hung, from the request to
    /// its end). Absent in reports written before it was recorded. A measurement, not an
    /// observation: the diff, the behaviour matrix and report comparisons never look at it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_us: Option<u64>,
    /// The run's totals depend on kernel timing (the first step whose counts are marked): the
    /// peer's `delivery` counts (`received`, `confirmed`, `unconfirmed`; `missing` is still a
    /// fact: bytes said written that never arrived) and `peer_end` (whether the last records,
    /// say an alert queued behind a full buffer, got through before the run ended). What went
    /// to the peer has a marker of its own ([`Wire::timing`]). The `bytes` of every peer step
    /// from the first
    /// marked step on, of any cause (the peer reads what the kernel let through, in the cuts
    /// it let through), are marked on those steps. Absent when the totals are facts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timing: Option<Timing>,
}

/// A duration in whole microseconds, for [`Trace::duration_us`].
pub fn micros(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

impl Actor {
    /// Who `step` acts on: the implementation (its calls), the transport (its changes and
    /// injected bytes), or else the peer.
    pub fn of(step: &Step) -> Actor {
        if step.is_impl_call() {
            Actor::Impl
        } else if matches!(
            step,
            Step::Transport { .. } | Step::InjectMalformed {} | Step::InjectRecord { .. }
        ) {
            Actor::Transport
        } else {
            Actor::Peer
        }
    }
}

impl StepRecord {
    /// The record of step `index` before it is played: its one-line form, who it acts on and
    /// whether it is an I/O call; no call observed yet.
    pub fn new(index: usize, step: &Step) -> StepRecord {
        StepRecord {
            index,
            op: step.short(),
            actor: Actor::of(step),
            call: None,
            calls: Vec::new(),
            bytes: None,
            expect: None,
            conforms: None,
            capped: false,
            calls_omitted: 0,
            io: step.is_io(),
            timing: None,
        }
    }

    /// [`StepRecord::new`] with the call it made.
    pub fn with_call(index: usize, step: &Step, call: Call) -> StepRecord {
        StepRecord {
            call: Some(call),
            ..StepRecord::new(index, step)
        }
    }
}

impl Violation {
    /// A broken invariant (`I1`..`I4`).
    pub fn invariant(clause: &str, step: Option<usize>, detail: String) -> Violation {
        Violation {
            clause: clause.into(),
            kind: "invariant".into(),
            step,
            detail,
        }
    }
}

impl Trace {
    /// A run that ended before its first step (skipped, or not set up): nothing observed.
    pub fn empty(status: RunStatus) -> Trace {
        Trace {
            status,
            steps: Vec::new(),
            delivery: Delivery::default(),
            wire: Wire::default(),
            violations: Vec::new(),
            checked: Vec::new(),
            peer_end: None,
            broke_w6_at: None,
            resumed: None,
            duration_us: None,
            timing: None,
        }
    }

    /// The trace with every value its [`Timing`] markers cover blanked (counts 0, lists
    /// empty, `ok(n)` as `ok(0)`), and nothing else touched: what reruns over TCP must agree
    /// on byte for byte (harness/tests/it/determinism.rs). The markers themselves stay.
    pub fn timing_masked(&self) -> Trace {
        let mut t = self.clone();
        for s in &mut t.steps {
            let Some(timing) = s.timing else { continue };
            let follows = timing.cause == TimingCause::Follows;
            if !follows {
                s.calls.clear();
                s.calls_omitted = 0;
            }
            if follows && s.actor == Actor::Peer {
                s.bytes = None;
            }
            if let Some(c) = &mut s.call {
                c.errors.clear();
                if !follows {
                    c.ret = 0;
                }
                if timing.counts() {
                    c.written = None;
                    if let Outcome::Ok(_) = c.outcome {
                        c.outcome = Outcome::Ok(0);
                    }
                }
            }
            if timing.counts() {
                s.bytes = None;
            }
            // `write_stream`'s call count, in its one-line form.
            let calls =
                s.op.strip_suffix(" calls)")
                    .and_then(|head| head.rfind(" ("));
            if let Some(at) = calls.filter(|_| s.op.starts_with("write_stream ")) {
                s.op.truncate(at);
            }
        }
        if t.timing.is_some() {
            let d = &mut t.delivery;
            (d.received, d.confirmed, d.unconfirmed) = (0, 0, 0);
            t.peer_end = None;
        }
        if t.wire.timing.is_some() {
            let w = &mut t.wire;
            w.to_peer.clear();
            (w.to_peer_bytes, w.unlisted, w.after_close_notify) = (0, 0, None);
        }
        t
    }

    /// The trace of a run whose worker was lost (it crashed or hung; `status` says which):
    /// the steps it finished, and an I4 violation at the step it had begun, if any. Nothing
    /// else of the run is known, and I4 is all it checked.
    pub fn lost(
        status: RunStatus,
        steps: Vec<StepRecord>,
        begun: Option<usize>,
        detail: String,
    ) -> Trace {
        Trace {
            steps,
            violations: vec![Violation::invariant("I4", begun, detail)],
            checked: vec!["I4".into()],
            ..Trace::empty(status)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(json: serde_json::Value) -> Step {
        serde_json::from_value(json).expect("a step")
    }

    #[test]
    fn a_call_log_keeps_the_first_calls_and_the_last_and_counts_the_rest() {
        let mut log = CallLog::default();
        for n in 0..300u64 {
            log.push(Call::new(Outcome::Ok(n), n as i64));
        }
        assert_eq!(log.calls.len(), MAX_CALLS_KEPT);
        assert_eq!(log.omitted, 300 - MAX_CALLS_KEPT as u64);
        assert_eq!(log.calls[MAX_CALLS_KEPT - 2].outcome, Outcome::Ok(254));
        assert_eq!(log.calls.last().unwrap().outcome, Outcome::Ok(299));
        let mut short = CallLog::default();
        short.push(Call::new(Outcome::WantWrite, -1));
        assert_eq!((short.calls.len(), short.omitted), (1, 0));
    }

    #[test]
    fn a_new_step_record_says_who_the_step_acts_on_and_whether_it_is_io() {
        use serde_json::json;
        let write = StepRecord::new(3, &step(json!({"op": "write", "len": 10})));
        assert_eq!((write.index, write.actor, write.io), (3, Actor::Impl, true));
        assert_eq!(write.op, step(json!({"op": "write", "len": 10})).short());
        assert_eq!(write.call, None);
        let early = StepRecord::new(0, &step(json!({"op": "write_early", "len": 10})));
        assert_eq!((early.actor, early.io), (Actor::Impl, true));
        let renegotiate = StepRecord::new(1, &step(json!({"op": "renegotiate"})));
        assert_eq!((renegotiate.actor, renegotiate.io), (Actor::Impl, false));
        let alert = StepRecord::new(2, &step(json!({"op": "peer_fatal_alert"})));
        assert_eq!((alert.actor, alert.io), (Actor::Peer, false));
        let malformed = StepRecord::new(2, &step(json!({"op": "inject_malformed"})));
        assert_eq!(malformed.actor, Actor::Transport);
        let called = StepRecord::with_call(
            4,
            &step(json!({"op": "read", "len": 5})),
            Call::new(Outcome::WantRead, -1),
        );
        assert_eq!(called.call.map(|c| c.outcome), Some(Outcome::WantRead));
    }

    #[test]
    fn io_is_written_only_when_true_and_read_as_false_when_absent() {
        use serde_json::json;
        let write = StepRecord::new(0, &step(json!({"op": "write", "len": 10})));
        let json = serde_json::to_value(&write).unwrap();
        assert_eq!(json["io"], json!(true));
        let mut old = json.clone();
        old.as_object_mut().unwrap().remove("io");
        let read: StepRecord = serde_json::from_value(old).unwrap();
        assert!(!read.io);
        let peer = StepRecord::new(0, &step(json!({"op": "peer_fatal_alert"})));
        assert!(serde_json::to_value(&peer).unwrap().get("io").is_none());
    }

    #[test]
    fn a_lost_trace_has_the_steps_done_and_one_i4_violation_at_the_step_begun() {
        let t = Trace::lost(
            RunStatus::Timeout {
                step: Some(2),
                message: "killed".into(),
                stderr: None,
            },
            Vec::new(),
            Some(2),
            "no answer".into(),
        );
        assert_eq!(t.checked, vec!["I4".to_string()]);
        assert_eq!(
            t.violations,
            vec![Violation {
                clause: "I4".into(),
                kind: "invariant".into(),
                step: Some(2),
                detail: "no answer".into(),
            }]
        );
        assert_eq!(
            (t.wire, t.delivery, t.duration_us),
            (Wire::default(), Delivery::default(), None)
        );
    }

    #[test]
    fn an_empty_trace_is_its_status_and_nothing_else() {
        let t = Trace::empty(RunStatus::Completed);
        assert!(t.steps.is_empty() && t.violations.is_empty() && t.checked.is_empty());
        assert_eq!(t.status, RunStatus::Completed);
    }

    /// Two reruns of io-blocking-deadlock over TCP under load: they differ in what the kernel
    /// took (marked) and agree once that is masked; a difference the markers do not cover
    /// (here the handshake's outcome) survives the mask.
    #[test]
    fn timing_masked_blanks_what_the_markers_cover_and_nothing_else() {
        use serde_json::json;
        let blocked = Timing {
            transport: TransportKind::Tcp,
            cause: TimingCause::Blocked,
        };
        let rerun = |took: u64, records: usize| {
            let handshake = step(json!({"op": "handshake"}));
            let write = step(json!({"op": "write", "len": 100000}));
            let read = step(json!({"op": "peer_read"}));
            let mut w = StepRecord::with_call(1, &write, Call::new(Outcome::Deadlock, -1));
            w.timing = Some(blocked);
            let mut r = StepRecord::with_call(2, &read, Call::new(Outcome::WantRead, -1));
            r.bytes = Some(took);
            r.timing = Some(Timing {
                cause: TimingCause::Follows,
                ..blocked
            });
            let mut t = Trace {
                steps: vec![
                    StepRecord::with_call(0, &handshake, Call::new(Outcome::Ok(1), 1)),
                    w,
                    r,
                ],
                timing: Some(blocked),
                ..Trace::empty(RunStatus::Deadlock { step: 1 })
            };
            t.delivery.received = took;
            t.delivery.unconfirmed = took;
            t.wire.to_peer = vec![WireRecord(23, 16408); records];
            t.wire.to_peer_bytes = 16408 * records as u64;
            t.wire.timing = Some(blocked);
            t
        };
        let (a, b) = (rerun(65536, 4), rerun(49152, 3));
        assert_ne!(a, b);
        assert_eq!(a.timing_masked(), b.timing_masked());
        let masked = a.timing_masked();
        assert_eq!(
            (masked.delivery.received, masked.delivery.unconfirmed),
            (0, 0)
        );
        assert_eq!(
            (masked.steps[2].bytes, masked.steps[1].timing),
            (None, Some(blocked))
        );
        let mut c = rerun(49152, 3);
        c.steps[0].call = Some(Call::new(Outcome::WantRead, -1));
        assert_ne!(a.timing_masked(), c.timing_masked());
        let mut lost = rerun(49152, 3);
        lost.delivery.missing = 1;
        assert_ne!(
            a.timing_masked(),
            lost.timing_masked(),
            "missing is never masked"
        );
    }

    #[test]
    fn a_write_loop_marker_masks_its_calls_but_not_its_count() {
        use serde_json::json;
        let all = step(json!({"op": "write_all", "len": 100000}));
        let mut r = StepRecord::with_call(0, &all, Call::new(Outcome::Ok(100000), 1696));
        r.bytes = Some(100000);
        r.calls = vec![Call::new(Outcome::WantWrite, -1); 3];
        r.timing = Some(Timing {
            transport: TransportKind::Tcp,
            cause: TimingCause::WriteLoop,
        });
        let t = Trace {
            steps: vec![r],
            ..Trace::empty(RunStatus::Completed)
        };
        let m = t.timing_masked();
        let s = &m.steps[0];
        assert_eq!((s.calls.len(), s.bytes), (0, Some(100000)));
        assert_eq!(
            s.call.as_ref().map(|c| (&c.outcome, c.ret)),
            Some((&Outcome::Ok(100000), 0))
        );
        let stream = step(json!({"op": "write_stream", "total": 1000, "chunk": 100}));
        let mut r = StepRecord::with_call(0, &stream, Call::new(Outcome::Ok(1000), 100));
        r.op.push_str(" (12 calls)");
        r.timing = t.steps[0].timing;
        let masked = Trace {
            steps: vec![r],
            ..t
        }
        .timing_masked();
        assert_eq!(masked.steps[0].op, stream.short());
    }
}
