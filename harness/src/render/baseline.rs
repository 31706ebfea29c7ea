//! Compares a report with an earlier one, run by run and implementation by implementation
//! (matched by run name + implementation name): `conformance --baseline` (a committed baseline)
//! and `sslwrite compare OLD NEW` (two saved reports) both go through [`compare`].
//!
//! A *regression* is a run × implementation that agreed, differed for a known reason or skipped
//! in the baseline and now diverges or errs, or that has an unexplained violation the baseline
//! did not have. A run × implementation the baseline does not have is judged as if it had agreed
//! there: a new scenario that diverges is a regression. A *fix* is the reverse: it diverged or
//! erred and now does not — better than the baseline expects, so the baseline is out of date.
//! A *change* is neither, but the verdict or what was seen (the first difference, the
//! violations, the error) is not the same: `agree` → `known`, or a run that diverges as before
//! at another step.

use std::collections::BTreeMap;

use super::{cell_verdict, describe_difference, describe_violation, names, unexplained_violations};
use crate::diff::Verdict;
use crate::report::{Report, RunReport};
use crate::runner::RunStatus;

/// Most entries [`Comparison::text`] lists per section; the counts are always complete.
pub const LIST_LIMIT: usize = 30;

/// A run of one implementation.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Key {
    pub run: String,
    pub implementation: String,
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} [{}]", self.run, self.implementation)
    }
}

/// A run × implementation whose verdict changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub key: Key,
    /// The verdict in the baseline; `None` for a run the baseline does not have.
    pub before: Option<Verdict>,
    pub after: Verdict,
    /// What is wrong now (for a regression) or what was wrong (for a fix).
    pub why: String,
}

/// A step whose outcome changed between the baseline and now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutcomeChange {
    pub key: Key,
    pub step: usize,
    pub op: String,
    /// The outcomes; `-` where the step was not reached (or made no call).
    pub before: String,
    pub after: String,
}

/// The comparison of a report with its baseline.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Comparison {
    /// Where the baseline came from (for the text).
    pub baseline: String,
    /// Worse than the baseline: these fail the run.
    pub regressions: Vec<Change>,
    /// Better than the baseline (diverge/error → agree/known/skip).
    pub fixed: Vec<Change>,
    /// Neither worse nor better, but another verdict or first difference (`why`: before and
    /// now).
    pub changed: Vec<Change>,
    /// Run × implementations that diverge now and did not before (new runs included).
    pub new_divergences: Vec<Change>,
    /// Steps whose outcome changed, whatever the verdicts say.
    pub changed_outcomes: Vec<OutcomeChange>,
    pub new_runs: Vec<Key>,
    pub removed_runs: Vec<Key>,
}

fn cells(report: &Report) -> BTreeMap<Key, &RunReport> {
    let names = names(report);
    let mut out = BTreeMap::new();
    for run in &report.scenarios {
        for n in &names {
            if run.results.contains_key(*n) {
                out.insert(
                    Key {
                        run: run.run.clone(),
                        implementation: n.to_string(),
                    },
                    run,
                );
            }
        }
    }
    out
}

/// What is wrong with `implementation` in `run`, in one line.
fn trouble(run: &RunReport, implementation: &str) -> String {
    let mut out = Vec::new();
    if let Some(RunStatus::Error { message }) = run.results.get(implementation).map(|t| &t.status) {
        out.push(format!("error: {message}"));
    }
    if let Some(d) = super::unexplained_difference(run, implementation) {
        out.push(describe_difference(d));
    }
    for v in unexplained_violations(run, implementation) {
        out.push(format!("violation {}", describe_violation(v)));
    }
    out.join("; ")
}

/// What `implementation` showed in `run`, explained or not, in one line: the error, the first
/// difference, the violations (empty when it agreed).
fn seen(run: &RunReport, implementation: &str) -> String {
    let mut out = Vec::new();
    if let Some(RunStatus::Error { message }) = run.results.get(implementation).map(|t| &t.status) {
        out.push(format!("error: {message}"));
    }
    if let Some(d) = super::difference(run, implementation) {
        out.push(describe_difference(d));
    }
    for (v, _) in super::violations(run, implementation) {
        out.push(format!("violation {}", describe_violation(v)));
    }
    out.join("; ")
}

fn bad(v: Verdict) -> bool {
    matches!(v, Verdict::Diverge | Verdict::Error)
}

/// Compares `current` with `baseline` (described as `label`, e.g. its path).
pub fn compare(baseline: &Report, current: &Report, label: &str) -> Comparison {
    let before = cells(baseline);
    let after = cells(current);
    let mut c = Comparison {
        baseline: label.to_string(),
        ..Comparison::default()
    };
    c.removed_runs = before
        .keys()
        .filter(|k| !after.contains_key(*k))
        .cloned()
        .collect();
    for (key, run) in &after {
        let name = key.implementation.as_str();
        let now = cell_verdict(run, name).expect("cells() only lists runs with a result");
        let old = before.get(key).copied();
        let was = old.and_then(|r| cell_verdict(r, name));
        if old.is_none() {
            c.new_runs.push(key.clone());
        }
        let change = |why: String| Change {
            key: key.clone(),
            before: was,
            after: now,
            why,
        };
        if now == Verdict::Diverge && was != Some(Verdict::Diverge) {
            c.new_divergences.push(change(trouble(run, name)));
        }
        if bad(now) && !was.is_some_and(bad) {
            c.regressions.push(change(trouble(run, name)));
        } else if was.is_some_and(bad) && !bad(now) {
            c.fixed
                .push(change(old.map_or(String::new(), |r| trouble(r, name))));
        } else {
            let mut known_before: Vec<_> = old
                .map(|r| unexplained_violations(r, name))
                .unwrap_or_default()
                .into_iter()
                .map(|v| (&v.clause, &v.kind, v.step))
                .collect();
            let fresh: Vec<String> = unexplained_violations(run, name)
                .into_iter()
                .filter(|v| {
                    let k = (&v.clause, &v.kind, v.step);
                    match known_before.iter().position(|x| *x == k) {
                        Some(i) => {
                            known_before.remove(i);
                            false
                        }
                        None => true,
                    }
                })
                .map(|v| format!("new violation {}", describe_violation(v)))
                .collect();
            if !fresh.is_empty() {
                c.regressions.push(change(fresh.join("; ")));
            } else if let Some(old) = old {
                let (then, now_seen) = (seen(old, name), seen(run, name));
                if was != Some(now) || then != now_seen {
                    let or_nothing = |s: String| if s.is_empty() { "nothing".into() } else { s };
                    c.changed.push(change(format!(
                        "was: {}; now: {}",
                        or_nothing(then),
                        or_nothing(now_seen)
                    )));
                }
            }
        }
        if let Some(old) = old {
            let (Some(a), Some(b)) = (old.results.get(name), run.results.get(name)) else {
                continue;
            };
            let len = a.steps.len().max(b.steps.len());
            for i in 0..len {
                let outcome = |t: &crate::runner::Trace| {
                    t.steps
                        .iter()
                        .find(|s| s.index == i)
                        .and_then(|s| s.call.as_ref())
                        .map_or("-".to_string(), |c| c.outcome.to_string())
                };
                let (x, y) = (outcome(a), outcome(b));
                if x != y {
                    let op = b
                        .steps
                        .iter()
                        .chain(&a.steps)
                        .find(|s| s.index == i)
                        .map_or(String::new(), |s| s.op.clone());
                    c.changed_outcomes.push(OutcomeChange {
                        key: key.clone(),
                        step: i,
                        op,
                        before: x,
                        after: y,
                    });
                }
            }
        }
    }
    c
}

impl Comparison {
    /// Whether the run is worse than the baseline (the exit status is 1).
    pub fn regressed(&self) -> bool {
        !self.regressions.is_empty()
    }

    /// Better-than-baseline results, one line each: warnings (failures with `--strict`), since
    /// the baseline should be updated to keep them.
    pub fn improvements(&self) -> Vec<String> {
        self.fixed
            .iter()
            .map(|f| {
                format!(
                    "{} is fixed ({} in the baseline {}, {} now): update the baseline",
                    f.key,
                    f.before.map_or("-", Verdict::as_str),
                    self.baseline,
                    f.after.as_str()
                )
            })
            .collect()
    }

    /// The comparison as text.
    pub fn text(&self) -> String {
        let verdict = |v: Option<Verdict>| v.map_or("new", Verdict::as_str);
        let mut out = format!(
            "compared with {}: {} regression(s), {} fixed, {} changed, {} new divergence(s), {} changed outcome(s), {} new run(s), {} removed run(s)\n",
            self.baseline,
            self.regressions.len(),
            self.fixed.len(),
            self.changed.len(),
            self.new_divergences.len(),
            self.changed_outcomes.len(),
            self.new_runs.len(),
            self.removed_runs.len()
        );
        let more = |n: usize, out: &mut String| {
            if n > LIST_LIMIT {
                out.push_str(&format!(
                    "  ... and {} more (all of them: the JSON reports)\n",
                    n - LIST_LIMIT
                ));
            }
        };
        let changes = |title: &str, list: &[Change], out: &mut String| {
            if list.is_empty() {
                return;
            }
            out.push_str(&format!("{title}:\n"));
            for c in list.iter().take(LIST_LIMIT) {
                out.push_str(&format!(
                    "  {}: {} -> {}",
                    c.key,
                    verdict(c.before),
                    c.after.as_str()
                ));
                if !c.why.is_empty() {
                    out.push_str(&format!(" ({})", c.why));
                }
                out.push('\n');
            }
            more(list.len(), out);
        };
        changes("regressions", &self.regressions, &mut out);
        changes("fixed", &self.fixed, &mut out);
        changes("changed", &self.changed, &mut out);
        changes("new divergences", &self.new_divergences, &mut out);
        if !self.changed_outcomes.is_empty() {
            out.push_str("changed outcomes:\n");
            for o in self.changed_outcomes.iter().take(LIST_LIMIT) {
                out.push_str(&format!(
                    "  {} step {} {}: {} -> {}\n",
                    o.key, o.step, o.op, o.before, o.after
                ));
            }
            more(self.changed_outcomes.len(), &mut out);
        }
        for (title, list) in [
            ("new runs", &self.new_runs),
            ("removed runs", &self.removed_runs),
        ] {
            if !list.is_empty() {
                out.push_str(&format!("{title}:\n"));
                for k in list.iter().take(LIST_LIMIT) {
                    out.push_str(&format!("  {k}\n"));
                }
                more(list.len(), &mut out);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture;
    use super::*;
    use crate::contract::Outcome;

    fn key(run: &str, imp: &str) -> Key {
        Key {
            run: format!("{run}/tls1.3/client/auto_retry"),
            implementation: imp.into(),
        }
    }

    #[test]
    fn the_same_report_changes_nothing() {
        let r = fixture::report();
        let c = compare(&r, &r, "base.json");
        assert_eq!(
            c,
            Comparison {
                baseline: "base.json".into(),
                ..Comparison::default()
            }
        );
        assert!(!c.regressed());
    }

    #[test]
    fn a_known_run_that_now_diverges_is_a_regression() {
        let base = fixture::report();
        let mut now = base.clone();
        now.scenarios[2].known.clear();
        now.scenarios[2].verdict = Verdict::Diverge;
        let c = compare(&base, &now, "base.json");
        assert!(c.regressed());
        assert_eq!(c.regressions.len(), 1);
        let r = &c.regressions[0];
        assert_eq!(r.key, key("zero", "rustls"));
        assert_eq!(
            (r.before, r.after),
            (Some(Verdict::Known), Verdict::Diverge)
        );
        assert!(
            r.why
                .contains("step 1 outcome: openssl syscall, rustls ok(0)"),
            "{}",
            r.why
        );
        assert_eq!(c.new_divergences.len(), 1);
        assert!(c.fixed.is_empty());
        assert!(
            c.text().contains(
                "regressions:\n  zero/tls1.3/client/auto_retry [rustls]: known -> diverge"
            ),
            "{}",
            c.text()
        );
    }

    #[test]
    fn a_diverging_run_that_now_agrees_is_fixed_with_its_outcome_change() {
        let base = fixture::report();
        let mut now = base.clone();
        let fixed = &mut now.scenarios[1];
        fixed.differences.clear();
        fixed.verdict = Verdict::Agree;
        let t = fixed.results.get_mut("rustls").unwrap();
        t.violations.clear();
        t.steps[1].call.as_mut().unwrap().outcome = Outcome::Ssl("closed".into());
        let c = compare(&base, &now, "base.json");
        assert!(!c.regressed(), "{}", c.text());
        assert_eq!(c.fixed.len(), 1);
        assert_eq!(c.fixed[0].key, key("shutdown", "rustls"));
        assert!(
            c.fixed[0].why.contains("violation I1"),
            "{}",
            c.fixed[0].why
        );
        assert_eq!(
            c.changed_outcomes,
            vec![OutcomeChange {
                key: key("shutdown", "rustls"),
                step: 1,
                op: "write len=100".into(),
                before: "ok(100)".into(),
                after: "ssl(closed)".into(),
            }]
        );
        assert_eq!(c.improvements().len(), 1);
        assert!(c.improvements()[0].contains("update the baseline"));
    }

    #[test]
    fn a_known_run_that_now_agrees_and_a_difference_that_moved_are_changes() {
        let base = fixture::report();
        let mut now = base.clone();
        now.scenarios[2].differences.clear();
        now.scenarios[2].known.clear();
        now.scenarios[2].verdict = Verdict::Agree;
        now.scenarios[1].differences[0].step = Some(2);
        let c = compare(&base, &now, "base.json");
        assert!(!c.regressed() && c.fixed.is_empty(), "{}", c.text());
        assert_eq!(
            c.changed
                .iter()
                .map(|x| (x.key.clone(), x.before, x.after))
                .collect::<Vec<_>>(),
            vec![
                (
                    key("shutdown", "rustls"),
                    Some(Verdict::Diverge),
                    Verdict::Diverge
                ),
                (key("zero", "rustls"), Some(Verdict::Known), Verdict::Agree),
            ]
        );
        assert!(
            c.changed[0].why.starts_with(
                "was: step 1 outcome: openssl ssl(protocol is shutdown), rustls ok(100); \
                 violation I1"
            ) && c.changed[0].why.contains("; now: step 2 outcome:"),
            "{}",
            c.changed[0].why
        );
        assert_eq!(
            c.changed[1].why,
            "was: step 1 outcome: openssl syscall, rustls ok(0); now: nothing"
        );
        assert!(
            c.text().contains(
                "changed:\n  shutdown/tls1.3/client/auto_retry [rustls]: diverge -> diverge (was: "
            ),
            "{}",
            c.text()
        );
    }

    #[test]
    fn a_new_unexplained_violation_in_a_diverging_run_is_a_regression() {
        let base = fixture::report();
        let mut now = base.clone();
        let t = now.scenarios[1].results.get_mut("rustls").unwrap();
        t.violations.push(fixture::violation("I2", 1, "bad return"));
        let c = compare(&base, &now, "b");
        assert_eq!(c.regressions.len(), 1, "{}", c.text());
        assert!(c.regressions[0].why.contains("new violation I2"));
        assert!(
            !c.regressions[0].why.contains("I1"),
            "the old one is not new"
        );
    }

    #[test]
    fn new_and_removed_runs_are_listed_and_a_new_diverging_run_regresses() {
        let base = fixture::report();
        let mut now = base.clone();
        let removed = now.scenarios.remove(0);
        let mut added = now.scenarios[0].clone();
        added.run = "added/tls1.2/client/auto_retry".into();
        now.scenarios.push(added);
        let c = compare(&base, &now, "b");
        assert_eq!(c.removed_runs.len(), 2);
        assert_eq!(c.removed_runs[0].run, removed.run);
        assert_eq!(c.new_runs.len(), 2);
        assert_eq!(
            c.regressions.len(),
            1,
            "the added copy diverges: {}",
            c.text()
        );
        assert_eq!(c.regressions[0].before, None);
        assert!(c
            .text()
            .contains("added/tls1.2/client/auto_retry [rustls]: new -> diverge"));
    }

    #[test]
    fn long_lists_are_cut_in_the_text_but_counted_in_full() {
        let base = fixture::report();
        let mut now = base.clone();
        now.scenarios.clear();
        let mut many = base.clone();
        for i in 0..LIST_LIMIT {
            let mut r = base.scenarios[0].clone();
            r.run = format!("extra-{i}/tls1.3/client/auto_retry");
            many.scenarios.push(r);
        }
        let c = compare(&many, &now, "b");
        let n = 2 * (4 + LIST_LIMIT);
        assert_eq!(c.removed_runs.len(), n);
        let text = c.text();
        assert!(text.contains(&format!("{n} removed run(s)")), "{text}");
        assert!(
            text.contains(&format!("... and {} more", n - LIST_LIMIT)),
            "{text}"
        );
        assert_eq!(
            text.lines().filter(|l| l.contains("/tls1.3/")).count(),
            LIST_LIMIT
        );
    }
}
