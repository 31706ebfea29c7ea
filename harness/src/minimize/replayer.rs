//! The check `sslwrite` minimizes with: candidates played in worker processes
//! (`isolation::play`, so one that crashes or hangs a library costs a worker and at most the
//! time limit), judged as `fuzzing::judge_run` judges a run, kept when the finding's signature
//! is the one being kept.

use crate::contract::ImplInfo;
use crate::fuzzing::{judge_run, Finding};
use crate::isolation::{self, Isolation};
use crate::known::Known;
use crate::runner::Trace;
use crate::scenario::{RunKey, Scenario};
use crate::transport::TransportKind;

use super::{Candidate, Check};

/// The implementations that play candidates, and how their runs are judged.
pub struct Players<'a> {
    /// `--impl` specs, the reference first (what a worker builds).
    pub names: &'a [String],
    /// Their descriptions, in the same order (what known entries match).
    pub infos: &'a [ImplInfo],
    pub known: &'a Known,
    pub isolation: &'a Isolation,
    /// Worker threads.
    pub jobs: usize,
}

impl Players<'_> {
    /// Plays `runs` in workers over the in-memory transport: the traces of each, one per
    /// implementation. `Err` when no worker can be started or the harness was stopped.
    pub fn play(&self, runs: &[(&Scenario, RunKey)]) -> Result<Vec<Vec<Trace>>, String> {
        let played = isolation::play(
            runs,
            self.names,
            TransportKind::Memory,
            self.isolation,
            self.jobs,
            &|| {},
        )
        .map_err(|e| e.to_string())?;
        played
            .into_iter()
            .map(|t| t.ok_or_else(|| "stopped before every candidate was played".to_string()))
            .collect()
    }

    /// The finding of each run, if it shows one.
    pub fn findings(&self, runs: &[(&Scenario, RunKey)]) -> Result<Vec<Option<Finding>>, String> {
        let traces = self.play(runs)?;
        Ok(runs
            .iter()
            .zip(&traces)
            .map(|((s, k), t)| self.judge(s, k, t))
            .collect())
    }

    /// The finding of one played run, if it shows one.
    pub fn judge(&self, scenario: &Scenario, key: &RunKey, traces: &[Trace]) -> Option<Finding> {
        judge_run(self.known, self.infos, scenario, key, traces).err()
    }
}

/// Holds for a candidate whose finding has `signature`.
pub struct SameFinding<'a> {
    pub players: &'a Players<'a>,
    pub signature: String,
}

impl Check for SameFinding<'_> {
    fn holds(&mut self, batch: &[Candidate]) -> Result<Vec<bool>, String> {
        let runs: Vec<(&Scenario, RunKey)> =
            batch.iter().map(|c| (&c.scenario, c.key.clone())).collect();
        Ok(self
            .players
            .findings(&runs)?
            .into_iter()
            .map(|f| f.is_some_and(|f| f.signature == self.signature))
            .collect())
    }
}
