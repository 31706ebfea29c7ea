//! The behaviour matrix: for each step of a run, and for how the run ended, the
//! implementations grouped by identical observation. The verdict of a run compares each
//! implementation with the reference only; the matrix shows every pair.
//!
//! What counts as the same observation follows [`crate::diff`]: a step's outcome class; for
//! a call on the implementation other than a read also its `ok(n)` count, its raw return value
//! and the bytes it moved. Not compared (as in the diff): the wording of an `ssl(reason)`, the
//! count of a read (`SSL_read` may return any count up to what was asked), the return value of
//! a looping step's last call (`write_all`: its summary is what counts) and the counts of the
//! peer's steps (they follow from how each implementation cut its records). A step an
//! implementation did not reach (its run stopped before it) is an observation too (`status`),
//! shown beside the others but not a disagreement by itself: where the run stopped is the
//! stopping step's outcome (`skip(...)`, `crash(...)`), and how it ended is the run's end
//! (`step: null`), which compares the status and the bytes the peer's application received.
//!
//! Only steps where the implementations that reached them do not all agree become a
//! [`Behaviour`]; a run where every implementation agrees has none. The leniency the diff
//! applies to generated runs (nothing compared past a W6 break, only success against failure
//! after a fatal error) is not applied: the matrix shows what differs, the verdict decides
//! what counts.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::runner::{Actor, RunStatus, StepRecord, Timing, Trace};

/// One step of one run (or its end) where the implementations do not all agree.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Behaviour {
    /// The step index; `None` for how the run ended.
    pub step: Option<usize>,
    /// What was asked: the step in one line (`write len=0`), `end` for the run's end.
    pub op: String,
    /// Implementations with the same observation, in column order of their first member;
    /// every implementation of the run is in exactly one group.
    pub groups: Vec<Group>,
}

/// Implementations that observed the same thing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    pub observation: Observation,
    /// Column names, in column order.
    pub implementations: Vec<String>,
}

/// What one implementation showed at one step, or at the end of its run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Observation {
    /// The outcome in the shared vocabulary: the exact text where every member of the group
    /// says the same (`ok(100)`, `ssl(protocol is shutdown)`), else the part compared (`ssl`
    /// for reasons worded differently, `ok` for reads or peer steps of other counts). Absent
    /// for a step without a call, one not reached, and the run's end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    /// The raw return value (calls on the implementation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ret: Option<i64>,
    /// Plaintext bytes the step moved (calls on the implementation that count them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
    /// For a step the implementation did not reach, and for the run's end: how its run ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Ended>,
    /// For the run's end: the bytes the peer's application received in all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub received: Option<u64>,
    /// A side marked the counts here timing-dependent ([`Timing`]): they are left out (a
    /// step's `ok(n)` is shown as `ok`, no `ret` or `bytes`; the end has no `received`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timing: Option<Timing>,
}

/// How a run ended, without its details (those are in the trace).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ended {
    Completed,
    Skipped,
    Deadlock,
    Crash,
    Timeout,
    Error,
}

impl Ended {
    pub fn of(status: &RunStatus) -> Ended {
        match status {
            RunStatus::Completed => Ended::Completed,
            RunStatus::Skipped { .. } => Ended::Skipped,
            RunStatus::Deadlock { .. } => Ended::Deadlock,
            RunStatus::Crash { .. } => Ended::Crash,
            RunStatus::Timeout { .. } => Ended::Timeout,
            RunStatus::Error { .. } => Ended::Error,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Ended::Completed => "completed",
            Ended::Skipped => "skipped",
            Ended::Deadlock => "deadlock",
            Ended::Crash => "crash",
            Ended::Timeout => "timeout",
            Ended::Error => "error",
        }
    }
}

impl Observation {
    /// The observation in one line, as matrix cells show it: `syscall [ret=0]`,
    /// `ok(16384) bytes=16384`, `not reached (skipped)`, `completed, peer got 110`.
    pub fn cell(&self) -> String {
        let status = self.status.map_or("-", Ended::as_str);
        if let Some(n) = self.received {
            return format!("{status}, peer got {n}");
        }
        if let (None, Some(t)) = (&self.outcome, self.timing) {
            return format!("{status}, peer's total {}", t.suffix());
        }
        if self.outcome.is_none() && self.status.is_some() {
            return format!("not reached ({status})");
        }
        let mut out = self.outcome.clone().unwrap_or_else(|| "-".to_string());
        if let Some(ret) = self.ret {
            // The return value where the outcome does not already say it.
            if out != format!("ok({ret})") {
                out.push_str(&format!(" [ret={ret}]"));
            }
        }
        if let Some(b) = self.bytes {
            out.push_str(&format!(" bytes={b}"));
        }
        if let Some(t) = self.timing {
            out.push_str(&format!(" {}", t.suffix()));
        }
        out
    }
}

/// What is compared of one observation, and the observation itself.
#[derive(Clone, PartialEq, Eq)]
struct Seen {
    key: Observation,
    exact: Observation,
}

/// The behaviours of one run where its implementations do not all agree, from their traces
/// (column order, the reference first). Empty when they all agree.
pub fn behaviours(traces: &[(&str, &Trace)]) -> Vec<Behaviour> {
    // Each trace's steps by index (the first record of an index counts), and every index some
    // trace has, in order: linear in the steps, whatever indices a report read from a file has.
    let by_index: Vec<BTreeMap<usize, &StepRecord>> = traces
        .iter()
        .map(|(_, t)| {
            let mut m = BTreeMap::new();
            for s in &t.steps {
                m.entry(s.index).or_insert(s);
            }
            m
        })
        .collect();
    let indices: BTreeSet<usize> = by_index.iter().flat_map(|m| m.keys().copied()).collect();
    let mut out = Vec::new();
    for index in indices {
        let records: Vec<Option<&StepRecord>> =
            by_index.iter().map(|m| m.get(&index).copied()).collect();
        let Some(op) = records.iter().flatten().next().map(|r| r.op.clone()) else {
            continue;
        };
        // As in the diff: where a side marked the step's counts timing-dependent, they are
        // compared (and shown) by class only.
        let timed = records
            .iter()
            .flatten()
            .find_map(|r| r.timing.filter(|t| t.counts()));
        let seen: Vec<Seen> = traces
            .iter()
            .zip(&records)
            .map(|((_, t), r)| match r {
                Some(r) => step_seen(r, timed),
                None => {
                    let o = Observation {
                        status: Some(Ended::of(&t.status)),
                        ..Observation::default()
                    };
                    Seen {
                        key: o.clone(),
                        exact: o,
                    }
                }
            })
            .collect();
        // Only those that reached the step decide whether it is a disagreement.
        let mut reached = seen
            .iter()
            .zip(&records)
            .filter(|(_, r)| r.is_some())
            .map(|(s, _)| &s.key);
        let first = reached.next();
        if reached.all(|k| Some(k) == first) {
            continue;
        }
        out.push(Behaviour {
            step: Some(index),
            op,
            groups: group(traces, &seen),
        });
    }
    let totals_timed = traces.iter().find_map(|(_, t)| t.timing);
    let ends: Vec<Seen> = traces
        .iter()
        .map(|(_, t)| {
            let o = Observation {
                status: Some(Ended::of(&t.status)),
                received: Some(t.delivery.received).filter(|_| totals_timed.is_none()),
                timing: totals_timed,
                ..Observation::default()
            };
            Seen {
                key: o.clone(),
                exact: o,
            }
        })
        .collect();
    if ends.iter().any(|s| s.key != ends[0].key) {
        out.push(Behaviour {
            step: None,
            op: "end".to_string(),
            groups: group(traces, &ends),
        });
    }
    out
}

/// The observation of a step that was played: the exact one and what the diff compares;
/// `timed`: some side marked the step's counts timing-dependent (they are left out).
fn step_seen(r: &StepRecord, timed: Option<Timing>) -> Seen {
    let on_impl = r.actor == Actor::Impl;
    let is_read = on_impl && r.op.starts_with("read ");
    let by_count = on_impl && !is_read && timed.is_none();
    // A write loop's summary carries its last call's return value (its outcome and bytes are
    // what count), and a read's is its count (not compared).
    let write_loop = matches!(r.op.split(' ').next(), Some("write_all" | "write_stream"));
    let exact = Observation {
        outcome: r.call.as_ref().map(|c| match &c.outcome {
            o @ crate::contract::Outcome::Ok(_) if timed.is_some() => o.class().to_string(),
            o => o.to_string(),
        }),
        ret: r
            .call
            .as_ref()
            .filter(|c| by_count && !write_loop && !harness_outcome(&c.outcome))
            .map(|c| c.ret),
        bytes: r.bytes.filter(|_| on_impl && timed.is_none()),
        status: None,
        received: None,
        timing: timed,
    };
    let compared = r.call.as_ref().map(|c| match &c.outcome {
        crate::contract::Outcome::Ok(n) if by_count => format!("ok({n})"),
        o => o.class().to_string(),
    });
    let key = Observation {
        outcome: compared,
        ..exact.clone()
    };
    Seen { key, exact }
}

/// Outcomes the harness sets, not a call's (their return value means nothing).
fn harness_outcome(o: &crate::contract::Outcome) -> bool {
    use crate::contract::Outcome;
    matches!(
        o,
        Outcome::Skip(_) | Outcome::Deadlock | Outcome::Crash(_) | Outcome::Timeout
    )
}

/// Groups `seen` (one per trace, in column order) by key, each group in the order of its
/// first member; a group's outcome is its members' exact one when they all share it.
fn group(traces: &[(&str, &Trace)], seen: &[Seen]) -> Vec<Group> {
    let mut groups: Vec<(Observation, Group)> = Vec::new();
    for ((name, _), s) in traces.iter().zip(seen) {
        match groups.iter_mut().find(|(k, _)| *k == s.key) {
            Some((_, g)) => {
                if g.observation.outcome != s.exact.outcome {
                    g.observation.outcome = s.key.outcome.clone();
                }
                g.implementations.push(name.to_string());
            }
            None => groups.push((
                s.key.clone(),
                Group {
                    observation: s.exact.clone(),
                    implementations: vec![name.to_string()],
                },
            )),
        }
    }
    groups.into_iter().map(|(_, g)| g).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::Outcome;
    use crate::render::fixture;

    fn names(g: &Group) -> Vec<&str> {
        g.implementations.iter().map(String::as_str).collect()
    }

    #[test]
    fn three_implementations_two_agree_one_differs_make_two_groups() {
        let a = fixture::trace(&[Outcome::Ok(1), Outcome::Syscall]);
        let b = fixture::trace(&[Outcome::Ok(1), Outcome::Ok(0)]);
        let c = a.clone();
        let rows = behaviours(&[("openssl", &a), ("rustls", &b), ("openssl-3.6", &c)]);
        assert_eq!(rows.len(), 1, "{rows:#?}");
        let row = &rows[0];
        assert_eq!((row.step, row.op.as_str()), (Some(1), "write len=100"));
        assert_eq!(row.groups.len(), 2);
        assert_eq!(names(&row.groups[0]), ["openssl", "openssl-3.6"]);
        assert_eq!(names(&row.groups[1]), ["rustls"]);
        assert_eq!(row.groups[0].observation.cell(), "syscall [ret=-1]");
        assert_eq!(row.groups[1].observation.cell(), "ok(0) [ret=-1]");
    }

    #[test]
    fn when_all_agree_there_is_no_row() {
        let a = fixture::trace(&[Outcome::Ok(1), Outcome::Ok(100)]);
        assert_eq!(behaviours(&[("x", &a), ("y", &a), ("z", &a)]), vec![]);
        assert_eq!(behaviours(&[("x", &a)]), vec![]);
        assert_eq!(behaviours(&[]), vec![]);
    }

    #[test]
    fn huge_step_indices_from_a_file_are_grouped_without_walking_every_index() {
        let mut a = fixture::trace(&[Outcome::Ok(1), Outcome::Ok(100)]);
        let mut b = fixture::trace(&[Outcome::Ok(1), Outcome::Ok(5)]);
        a.steps[1].index = usize::MAX;
        b.steps[1].index = usize::MAX;
        let rows = behaviours(&[("a", &a), ("b", &b)]);
        assert_eq!(rows.len(), 1, "{rows:#?}");
        assert_eq!(rows[0].step, Some(usize::MAX));
    }

    #[test]
    fn what_the_diff_does_not_compare_makes_no_row() {
        // Reasons worded differently, and a read's count: one group, the outcome as compared.
        let mut a = fixture::trace(&[Outcome::Ok(1), Outcome::Ssl("protocol is shutdown".into())]);
        let mut b = fixture::trace(&[Outcome::Ok(1), Outcome::Ssl("closed".into())]);
        for (t, n) in [(&mut a, 10), (&mut b, 99)] {
            let mut read = fixture::step(2, "read len=100", Outcome::Ok(n));
            read.call.as_mut().unwrap().ret = n as i64;
            t.steps.push(read);
        }
        assert_eq!(behaviours(&[("a", &a), ("b", &b)]), vec![]);
        // With a third that differs, the agreeing two show the compared part only.
        let mut c = a.clone();
        c.steps[1].call = Some(crate::contract::Call::new(Outcome::WantWrite, -1));
        let rows = behaviours(&[("a", &a), ("b", &b), ("c", &c)]);
        assert_eq!(rows.len(), 1, "{rows:#?}");
        assert_eq!(names(&rows[0].groups[0]), ["a", "b"]);
        assert_eq!(
            rows[0].groups[0].observation.outcome.as_deref(),
            Some("ssl")
        );
        assert_eq!(rows[0].groups[1].observation.cell(), "want_write [ret=-1]");
    }

    #[test]
    fn a_run_that_stops_early_is_an_observation_at_its_stop_and_its_end() {
        let a = fixture::trace(&[Outcome::Ok(1), Outcome::Ok(100), Outcome::Ok(100)]);
        let mut b = fixture::trace(&[Outcome::Ok(1), Outcome::Skip("no renegotiation".into())]);
        b.status = RunStatus::Skipped {
            step: Some(1),
            reason: "no renegotiation".into(),
        };
        b.delivery.received = 0;
        let mut c = fixture::trace(&[Outcome::Ok(1), Outcome::Ok(100)]);
        c.status = RunStatus::Crash {
            step: Some(2),
            message: "SIGSEGV".into(),
            signal: Some("SIGSEGV".into()),
            stderr: None,
        };
        let rows = behaviours(&[("a", &a), ("b", &b), ("c", &c)]);
        let shown: Vec<(Option<usize>, Vec<String>)> = rows
            .iter()
            .map(|r| {
                let cells = r
                    .groups
                    .iter()
                    .map(|g| format!("{}: {}", g.implementations.join("+"), g.observation.cell()))
                    .collect();
                (r.step, cells)
            })
            .collect();
        assert_eq!(
            shown,
            vec![
                (
                    Some(1),
                    vec![
                        "a+c: ok(100) [ret=-1]".to_string(),
                        "b: skip(no renegotiation)".to_string()
                    ]
                ),
                (
                    None,
                    vec![
                        "a: completed, peer got 100".to_string(),
                        "b: skipped, peer got 0".to_string(),
                        "c: crash, peer got 100".to_string()
                    ]
                ),
            ],
            "step 2, reached by one implementation only, is not a disagreement"
        );
        // A step some did not reach is shown for them when others disagree there.
        let mut d = a.clone();
        d.steps[2].call = Some(crate::contract::Call::new(Outcome::WantRead, -1));
        let rows = behaviours(&[("a", &a), ("b", &b), ("d", &d)]);
        let step2 = rows.iter().find(|r| r.step == Some(2)).unwrap();
        assert_eq!(step2.groups[1].observation.cell(), "not reached (skipped)");
        assert_eq!(names(&step2.groups[1]), ["b"]);
    }

    /// As in the diff: counts a side marked timing-dependent make no row; with a row for
    /// another reason they are left out and the cell says why.
    #[test]
    fn marked_counts_make_no_row_and_are_left_out_of_cells() {
        let tcp = Some(Timing {
            transport: crate::transport::TransportKind::Tcp,
            cause: crate::runner::TimingCause::Blocked,
        });
        let marked = |n: u64, received: u64| {
            let mut t = fixture::trace(&[Outcome::Ok(1), Outcome::Ok(n)]);
            t.steps[1].timing = tcp;
            t.timing = tcp;
            t.delivery.received = received;
            t
        };
        let (a, b) = (marked(65536, 65536), marked(49152, 49152));
        assert_eq!(behaviours(&[("a", &a), ("b", &b)]), vec![]);
        let mut c = marked(49152, 49152);
        c.steps[1].call = Some(crate::contract::Call::new(Outcome::WantWrite, -1));
        c.status = RunStatus::Deadlock { step: 1 };
        let rows = behaviours(&[("a", &a), ("c", &c)]);
        let cells: Vec<Vec<String>> = rows
            .iter()
            .map(|r| r.groups.iter().map(|g| g.observation.cell()).collect())
            .collect();
        assert_eq!(
            cells,
            [
                vec![
                    "ok (timing-dependent over tcp)",
                    "want_write (timing-dependent over tcp)"
                ],
                vec![
                    "completed, peer's total (timing-dependent over tcp)",
                    "deadlock, peer's total (timing-dependent over tcp)"
                ],
            ]
        );
    }
}
