//! Minimization: a scenario run cut down, by delta debugging, to a small scenario that still
//! shows the same finding (`sslwrite minimize`, `sslwrite replay --minimize`).
//!
//! The file is first narrowed to the one run (its TLS version, role and mode set). Then, in
//! rounds until a round changes nothing: ddmin over the steps ([`ddmin`]); the configuration
//! (connection options, transport, mode flags) back toward the defaults; each step's members
//! removed, shrunk or made false ([`edits`]). Every candidate is checked by the loader (an
//! invalid one is skipped, not played) and judged by a [`Check`], in batches: the one
//! `sslwrite` uses, [`replayer::SameFinding`], plays them in worker processes and keeps a
//! candidate when its finding has the same signature (`fuzzing::judge_run`: known entries
//! still explain what they explain, so the finding kept is the same *unexplained* one).
//! Bounded: at most [`Limits::max_candidates`] candidates played and [`Limits::max_time`] of
//! wall time; what held last is the result either way.

pub mod ddmin;
pub mod edits;
pub mod replayer;

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::scenario::{RunKey, Scenario};

use ddmin::Answer;
use edits::Edit;

/// One scenario to judge and its run (a candidate expands into exactly one).
#[derive(Clone, Debug)]
pub struct Candidate {
    pub scenario: Scenario,
    pub key: RunKey,
}

/// Whether candidates still show the finding being kept.
pub trait Check {
    /// One answer per candidate, in order. `Err` ends the minimization (no worker could be
    /// started, the harness is stopping).
    fn holds(&mut self, batch: &[Candidate]) -> Result<Vec<bool>, String>;
}

/// The bounds of one minimization.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Most candidates played (invalid and repeated ones are not played).
    pub max_candidates: usize,
    /// Most wall time; checked before each batch.
    pub max_time: Duration,
    /// Candidates judged per batch (worker processes are reused within one).
    pub batch: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_candidates: DEFAULT_MAX_CANDIDATES,
            max_time: DEFAULT_MAX_TIME,
            batch: 8,
        }
    }
}

/// The default cap on candidates played.
pub const DEFAULT_MAX_CANDIDATES: usize = 500;
/// The default cap on wall time.
pub const DEFAULT_MAX_TIME: Duration = Duration::from_secs(300);

/// Why the minimization ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ended {
    /// No simplification left that keeps the finding.
    Done,
    /// [`Limits::max_candidates`] reached.
    CandidateCap,
    /// [`Limits::max_time`] reached.
    TimeCap,
}

impl fmt::Display for Ended {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Ended::Done => "nothing left to simplify",
            Ended::CandidateCap => "stopped at the candidate cap",
            Ended::TimeCap => "stopped at the time cap",
        })
    }
}

/// What a minimization produced.
#[derive(Clone, Debug)]
pub struct Minimized {
    /// The smallest candidate that held (one run; the path of the scenario given).
    pub scenario: Scenario,
    pub key: RunKey,
    pub steps_before: usize,
    pub steps_after: usize,
    /// Candidates played (the start included).
    pub candidates: usize,
    pub elapsed: Duration,
    pub ended: Ended,
}

/// Why there is nothing to minimize.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// The run shows no finding (or another one) to begin with.
    NoFinding,
    /// The scenario narrowed to the run does not load (the message says why).
    Invalid(String),
    /// The check failed (see [`Check::holds`]).
    Check(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NoFinding => f.write_str("the run shows no such finding to begin with"),
            Error::Invalid(e) => write!(f, "the scenario narrowed to the run does not load: {e}"),
            Error::Check(e) => f.write_str(e),
        }
    }
}

/// `scenario` as a file that expands into the run `key` alone.
pub fn single_run(scenario: &Scenario, key: &RunKey) -> Scenario {
    let mut s = scenario.clone();
    s.tls = vec![key.tls];
    s.roles = vec![key.role];
    s.modes = vec![key.modes];
    s
}

/// Minimizes the run `key` of `scenario` while `check` holds. The run must show the finding
/// at the start ([`Error::NoFinding`] otherwise).
pub fn minimize(
    scenario: &Scenario,
    key: &RunKey,
    check: &mut dyn Check,
    limits: &Limits,
) -> Result<Minimized, Error> {
    let mut s = Search {
        check,
        limits,
        started: Instant::now(),
        path: scenario.path.clone(),
        tried: 0,
        cache: HashMap::new(),
        ended: None,
    };
    let start = serde_json::from_str::<Value>(&single_run(scenario, key).to_json())
        .map_err(|e| Error::Invalid(e.to_string()))?;
    let first = s.candidate(&start).map_err(Error::Invalid)?;
    let mut cur: Value =
        serde_json::from_str(&first.0).map_err(|e| Error::Invalid(e.to_string()))?;
    if !s.answers(&[Some(first)], true)?[0] {
        return Err(Error::NoFinding);
    }
    loop {
        let mut changed = s.drop_steps(&mut cur)?;
        while s.ended.is_none() && s.one_change(&mut cur, edits::config_slots)? {
            changed = true;
        }
        while s.ended.is_none() && s.one_change(&mut cur, edits::step_slots)? {
            changed = true;
        }
        if !changed || s.ended.is_some() {
            break;
        }
    }
    let (_, last) = s.candidate(&cur).map_err(Error::Invalid)?;
    Ok(Minimized {
        steps_before: scenario.steps.len(),
        steps_after: last.scenario.steps.len(),
        scenario: last.scenario,
        key: last.key,
        candidates: s.tried,
        elapsed: s.started.elapsed(),
        ended: s.ended.unwrap_or(Ended::Done),
    })
}

/// A candidate as its canonical text (the file `to_json` writes) and what it is.
type Cand = (String, Candidate);

struct Search<'a> {
    check: &'a mut dyn Check,
    limits: &'a Limits,
    started: Instant,
    path: PathBuf,
    tried: usize,
    /// Every candidate judged, by its canonical text.
    cache: HashMap<String, bool>,
    ended: Option<Ended>,
}

impl Search<'_> {
    /// `v` read as a scenario file (the loader's checks), in its canonical text.
    fn candidate(&self, v: &Value) -> Result<Cand, String> {
        let text = v.to_string();
        let s = Scenario::parse(&self.path, text.as_bytes()).map_err(|e| e.to_string())?;
        let key = s
            .runs()
            .into_iter()
            .next()
            .ok_or_else(|| "it has no run".to_string())?;
        Ok((s.to_json(), Candidate { scenario: s, key }))
    }

    /// Whether the budget allows another batch; notes why not.
    fn budget(&mut self) -> usize {
        if self.ended.is_some() {
            return 0;
        }
        if self.tried >= self.limits.max_candidates {
            self.ended = Some(Ended::CandidateCap);
            return 0;
        }
        if self.started.elapsed() >= self.limits.max_time {
            self.ended = Some(Ended::TimeCap);
            return 0;
        }
        self.limits.max_candidates - self.tried
    }

    /// Judges `cands` in order, in batches (an invalid candidate, `None`, never holds; a
    /// repeated one is answered from the cache). With `first_only`, stops after the batch in
    /// which one holds. What the budget leaves unjudged does not hold.
    fn answers(&mut self, cands: &[Option<Cand>], first_only: bool) -> Result<Vec<bool>, Error> {
        let mut out = vec![false; cands.len()];
        let mut i = 0;
        while i < cands.len() {
            let mut chunk: Vec<usize> = Vec::new();
            let mut j = i;
            while j < cands.len() && chunk.len() < self.limits.batch.max(1) {
                if let Some((text, _)) = &cands[j] {
                    let fresh = !self.cache.contains_key(text)
                        && !chunk
                            .iter()
                            .any(|&k| cands[k].as_ref().is_some_and(|c| &c.0 == text));
                    if fresh {
                        chunk.push(j);
                    }
                }
                j += 1;
            }
            if !chunk.is_empty() {
                let allowed = self.budget();
                if allowed == 0 {
                    break;
                }
                if chunk.len() > allowed {
                    chunk.truncate(allowed);
                    j = chunk[allowed - 1] + 1;
                }
                let batch: Vec<Candidate> = chunk
                    .iter()
                    .filter_map(|&k| cands[k].as_ref().map(|c| c.1.clone()))
                    .collect();
                let held = self.check.holds(&batch).map_err(Error::Check)?;
                self.tried += batch.len();
                for (&k, h) in chunk.iter().zip(held) {
                    if let Some((text, _)) = &cands[k] {
                        self.cache.insert(text.clone(), h);
                    }
                }
            }
            for k in i..j {
                if let Some((text, _)) = &cands[k] {
                    out[k] = self.cache.get(text).copied().unwrap_or(false);
                }
            }
            if first_only && out[i..j].contains(&true) {
                break;
            }
            i = j;
        }
        Ok(out)
    }

    /// ddmin over the steps of `cur`; true when it dropped some.
    fn drop_steps(&mut self, cur: &mut Value) -> Result<bool, Error> {
        let steps: Vec<Value> = cur["steps"].as_array().cloned().unwrap_or_default();
        if steps.len() < 2 {
            return Ok(false);
        }
        let base = cur.clone();
        let mut failed = None;
        let mut kept_text = None;
        let mut test = |subsets: &[Vec<usize>]| -> Answer {
            let cands: Vec<Option<Cand>> = subsets
                .iter()
                .map(|keep| self.candidate(&edits::with_steps(&base, &steps, keep)).ok())
                .collect();
            match self.answers(&cands, true) {
                Err(e) => {
                    failed = Some(e);
                    Answer::Stop
                }
                Ok(held) => match held.iter().position(|h| *h) {
                    Some(i) => {
                        kept_text = cands[i].as_ref().map(|c| c.0.clone());
                        Answer::Holds(i)
                    }
                    None if self.ended.is_some() => Answer::Stop,
                    None => Answer::Nothing,
                },
            }
        };
        let kept = ddmin::ddmin(steps.len(), &mut test);
        if let Some(e) = failed {
            return Err(e);
        }
        match kept_text {
            Some(text) if kept.len() < steps.len() => {
                *cur = serde_json::from_str(&text).map_err(|e| Error::Invalid(e.to_string()))?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// One pass over the slots `of` gives for `cur` (each a place and its edits, preferred
    /// first): every edit judged alone, the first that holds in each slot chosen, then all the
    /// chosen ones together, else the first alone. True when `cur` changed.
    fn one_change(
        &mut self,
        cur: &mut Value,
        of: fn(&Value) -> Vec<Vec<Edit>>,
    ) -> Result<bool, Error> {
        let slots = of(cur);
        let current = self.candidate(cur).map_err(Error::Invalid)?.0;
        let mut flat: Vec<(usize, &Edit)> = Vec::new();
        let mut cands: Vec<Option<Cand>> = Vec::new();
        for (slot, list) in slots.iter().enumerate() {
            for e in list {
                let c = self
                    .candidate(&edits::apply(cur, &[e]))
                    .ok()
                    .filter(|(text, _)| {
                        *text != current
                            && (!e.must_vanish
                                || serde_json::from_str::<Value>(text)
                                    .is_ok_and(|v| v.pointer(&e.path).is_none()))
                    });
                flat.push((slot, e));
                cands.push(c);
            }
        }
        let held = self.answers(&cands, false)?;
        let mut chosen: Vec<&Edit> = Vec::new();
        let mut first_text = None;
        let mut taken = vec![false; slots.len()];
        for (k, (slot, e)) in flat.iter().enumerate() {
            if held[k] && !taken[*slot] {
                taken[*slot] = true;
                chosen.push(e);
                if first_text.is_none() {
                    first_text = cands[k].as_ref().map(|c| c.0.clone());
                }
            }
        }
        let Some(first_text) = first_text else {
            return Ok(false);
        };
        let mut accepted = first_text;
        if chosen.len() > 1 {
            if let Ok(all) = self.candidate(&edits::apply(cur, &chosen)) {
                let text = all.0.clone();
                if self.answers(&[Some(all)], true)?[0] {
                    accepted = text;
                }
            }
        }
        *cur = serde_json::from_str(&accepted).map_err(|e| Error::Invalid(e.to_string()))?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A synthetic check: holds while the scenario still has a write of 9 bytes and a
    /// transport capacity under 100 (a finding that needs both).
    struct Needs9AndTight(usize);

    impl Check for Needs9AndTight {
        fn holds(&mut self, batch: &[Candidate]) -> Result<Vec<bool>, String> {
            self.0 += batch.len();
            Ok(batch
                .iter()
                .map(|c| {
                    c.scenario.transport.capacity.0 < 100
                        && c.scenario.steps.iter().any(
                            |s| matches!(s, crate::scenario::Step::Write { len, .. } if len.0 == 9),
                        )
                })
                .collect())
        }
    }

    fn scenario(text: &str) -> Scenario {
        Scenario::parse(std::path::Path::new("t.json"), text.as_bytes()).expect("valid")
    }

    #[test]
    fn a_synthetic_finding_minimizes_to_its_one_step_and_config() {
        let s = scenario(
            r#"{"id": "t", "title": "t", "clauses": ["W1"], "tls": ["1.2", "1.3"],
                "roles": ["client", "server"], "modes": [["auto_retry", "partial_write"], []],
                "transport": {"capacity": 60, "blocking": true},
                "connection": {"resume": true, "max_send_fragment": 1024},
                "steps": [{"op": "handshake"}, {"op": "write", "len": 100}, {"op": "peer_read"},
                          {"op": "write_all", "len": 5000, "drain": 10, "max_calls": 50},
                          {"op": "write", "len": 9, "content": "other", "expect": "ok"},
                          {"op": "peer_read", "len": 7}, {"op": "shutdown"}]}"#,
        );
        let key = s.runs().remove(0);
        let mut check = Needs9AndTight(0);
        let m = minimize(&s, &key, &mut check, &Limits::default()).expect("minimized");
        assert_eq!(m.steps_before, 7);
        assert_eq!(m.steps_after, 1);
        assert_eq!(m.ended, Ended::Done);
        assert_eq!(m.candidates, check.0);
        let out = &m.scenario;
        let write9 = crate::scenario::Step::Write {
            len: crate::scenario::Len(9),
            buf: 0,
            content: crate::payload::Content::Stream,
            expect: None,
            clause: None,
        };
        assert_eq!(out.steps, vec![write9]);
        assert_eq!(
            (out.tls.clone(), out.roles.clone()),
            (vec![key.tls], vec![key.role])
        );
        assert_eq!(out.modes, vec![crate::contract::Modes::default()]);
        assert_eq!(m.key.modes, crate::contract::Modes::default());
        assert!(!out.transport.blocking);
        assert_eq!(
            out.transport.capacity.0, 60,
            "the default capacity loses the finding"
        );
        assert_eq!(out.connection, crate::scenario::ConnectionSpec::default());
    }

    #[test]
    fn a_run_without_the_finding_is_refused_and_caps_stop_the_search() {
        let s = scenario(
            r#"{"id": "t", "title": "t", "clauses": ["W1"], "tls": ["1.3"],
                "steps": [{"op": "write", "len": 8}]}"#,
        );
        let key = s.runs().remove(0);
        let mut check = Needs9AndTight(0);
        let got = minimize(&s, &key, &mut check, &Limits::default());
        assert_eq!(got.unwrap_err(), Error::NoFinding);

        let s = scenario(
            r#"{"id": "t", "title": "t", "clauses": ["W1"], "tls": ["1.3"],
                "transport": {"capacity": 60},
                "steps": [{"op": "write", "len": 1}, {"op": "write", "len": 2},
                          {"op": "write", "len": 9}, {"op": "write", "len": 4}]}"#,
        );
        let limits = Limits {
            max_candidates: 3,
            ..Limits::default()
        };
        let mut check = Needs9AndTight(0);
        let m = minimize(&s, &s.runs()[0], &mut check, &limits).expect("minimized");
        assert_eq!(m.ended, Ended::CandidateCap);
        assert_eq!(m.candidates, 3);
        assert!(m.steps_after < 4, "{m:?}");
    }
}
