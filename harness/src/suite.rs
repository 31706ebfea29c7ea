//! Runs every selected scenario run on every implementation (in parallel across threads),
//! diffs each run against the reference, applies the known-divergence list, and assembles the
//! [`Report`].

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crate::contract::{ImplInfo, Implementation, Tls};
use crate::diff::{self, Verdict};
use crate::known::{Known, KnownKind, Scope, Side};
use crate::report::{
    ClauseStanding, ClauseVerdict, ClauseView, KnownMatch, Report, RunReport, Summary,
    TransportDifference, SCHEMA_VERSION,
};
use crate::runner::{self, RunOptions, RunStatus, Trace};
use crate::scenario::{RunKey, Scenario, CLAUSES};
use crate::shard::{RunWarning, ShardPlan, ShardRecord, UnusedKnown};
use crate::transport::TransportKind;

/// What to run.
pub struct Selection {
    /// Glob over scenario ids (or, when it contains '/', over full run names).
    pub filter: Option<glob::Pattern>,
    pub tls: Option<Tls>,
}

impl Selection {
    pub fn all() -> Selection {
        Selection {
            filter: None,
            tls: None,
        }
    }

    pub fn runs<'a>(&self, scenarios: &'a [Scenario]) -> Vec<(&'a Scenario, RunKey)> {
        let mut out = Vec::new();
        for s in scenarios {
            for key in s.runs() {
                if self.tls.is_some_and(|t| t != key.tls) {
                    continue;
                }
                if let Some(p) = &self.filter {
                    let subject = if p.as_str().contains('/') {
                        key.to_string()
                    } else {
                        key.id.clone()
                    };
                    if !p.matches(&subject) {
                        continue;
                    }
                }
                out.push((s, key));
            }
        }
        out
    }
}

/// Plays `runs` on every implementation with `jobs` threads; traces in (run, impl) order.
pub fn play(
    runs: &[(&Scenario, RunKey)],
    impls: &[Box<dyn Implementation>],
    reference: &dyn Implementation,
    jobs: usize,
    on_done: &(dyn Fn() + Sync),
) -> Vec<Vec<Trace>> {
    play_with(runs, impls, reference, jobs, on_done, TransportKind::Memory)
        .into_iter()
        .map(|t| t.expect("every work item ran"))
        .collect()
}

/// [`play`] over `transport`, stopping early when a stop signal arrived
/// ([`crate::sys::stop_requested`]): a run is `None` when not all of its implementations ran.
pub fn play_with(
    runs: &[(&Scenario, RunKey)],
    impls: &[Box<dyn Implementation>],
    reference: &dyn Implementation,
    jobs: usize,
    on_done: &(dyn Fn() + Sync),
    transport: TransportKind,
) -> Vec<Option<Vec<Trace>>> {
    let n = runs.len() * impls.len();
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Trace>>> = Mutex::new(vec![None; n]);
    // Heaviest runs first (bytes they move), so that no thread is left with a long tail.
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(runs[i / impls.len()].0.weight()));
    std::thread::scope(|s| {
        for _ in 0..jobs.max(1).min(n.max(1)) {
            s.spawn(|| loop {
                let opts = RunOptions {
                    transport,
                    observer: None,
                    sessions: None,
                };
                if crate::sys::stop_requested().is_some() {
                    break;
                }
                let k = next.fetch_add(1, Ordering::Relaxed);
                if k >= n {
                    break;
                }
                let i = order[k];
                let (scenario, key) = &runs[i / impls.len()];
                let imp = &impls[i % impls.len()];
                let trace = runner::run_with(imp.as_ref(), reference, scenario, key, &opts);
                results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(trace);
                on_done();
            });
        }
    });
    let flat = results.into_inner().unwrap_or_else(|e| e.into_inner());
    let mut out = Vec::new();
    let mut it = flat.into_iter();
    for _ in runs {
        let traces: Vec<Option<Trace>> = it.by_ref().take(impls.len()).collect();
        out.push(traces.into_iter().collect());
    }
    out
}

/// What [`assemble_with`] adds to [`assemble`].
#[derive(Clone, Debug, Default)]
pub struct AssembleOptions {
    /// The transport of each run (all memory when empty). With both kinds, every TCP run is
    /// also compared with the memory run of the same name: `transport_differences`.
    pub transports: Vec<TransportKind>,
    /// False when the harness was stopped before every selected run finished.
    pub complete: bool,
    /// Set when the runs are one shard of the selection: the report gets a `shard` record.
    pub shard: Option<ShardPlan>,
}

/// Diffs and judges played runs and builds the report.
pub fn assemble(
    runs: &[(&Scenario, RunKey)],
    traces: Vec<Vec<Trace>>,
    infos: &[ImplInfo],
    known: &Known,
    started: (SystemTime, Instant),
    command_line: Vec<String>,
) -> Report {
    let opts = AssembleOptions {
        transports: Vec::new(),
        complete: true,
        shard: None,
    };
    assemble_with(runs, traces, infos, known, started, command_line, &opts)
}

/// [`assemble`] for runs over several transports, or an interrupted suite.
pub fn assemble_with(
    runs: &[(&Scenario, RunKey)],
    traces: Vec<Vec<Trace>>,
    infos: &[ImplInfo],
    known: &Known,
    started: (SystemTime, Instant),
    command_line: Vec<String>,
    opts: &AssembleOptions,
) -> Report {
    let transport_of = |i: usize| {
        opts.transports
            .get(i)
            .copied()
            .unwrap_or(TransportKind::Memory)
    };
    let reference = infos.first().map(|i| i.name.clone()).unwrap_or_default();
    let mut used = vec![0usize; known.entries.len()];
    let mut warnings = Vec::new();
    let mut unused_known = Vec::new();
    let mut run_warnings = Vec::new();
    let mut reports = Vec::new();
    let mut unexpected: BTreeMap<String, usize> =
        infos.iter().map(|i| (i.name.clone(), 0)).collect();
    let mut known_v: BTreeMap<String, usize> = unexpected.clone();

    for (run_index, ((scenario, key), traces)) in runs.iter().zip(traces).enumerate() {
        let transport = transport_of(run_index);
        let scope = Scope::new(key, transport, &scenario.steps);
        let mut differences = Vec::new();
        let mut notes = Vec::new();
        let mut known_matches = Vec::new();
        let mut all_known = true;
        for (info, trace) in infos.iter().zip(&traces).skip(1) {
            let policy = if scenario.generated {
                diff::Policy::GENERATED
            } else {
                diff::Policy::default()
            };
            let (d, n) = diff::compare_with(policy, &reference, &traces[0], &info.name, trace);
            notes.extend(n);
            if let Some(d) = d {
                let reference_side = Side::new(&infos[0], &d.reference_value, &traces[0].steps);
                let side = Side::new(info, &d.value, &trace.steps);
                let explained = known.explain_counting(scope, &d, reference_side, side, &mut used);
                match explained {
                    Some(x) => {
                        for (e, about_reference) in x.entries() {
                            let entry = &known.entries[e];
                            known_matches.push(KnownMatch {
                                implementation: info.name.clone(),
                                kind: "divergence".into(),
                                clause: entry.clause.0.clone(),
                                reason: entry.reason.clone(),
                                entry: Some(entry.id.clone()),
                                describes: about_reference.then(|| reference.clone()),
                            });
                        }
                    }
                    None => all_known = false,
                }
                differences.push(d);
            }
        }
        for (info, trace) in infos.iter().zip(&traces) {
            for v in &trace.violations {
                match known.explain_violation(scope, info, v, &trace.steps) {
                    Some(e) => {
                        used[e] += 1;
                        *known_v.entry(info.name.clone()).or_default() += 1;
                        known_matches.push(KnownMatch {
                            implementation: info.name.clone(),
                            kind: "violation".into(),
                            clause: v.clause.clone(),
                            reason: known.entries[e].reason.clone(),
                            entry: Some(known.entries[e].id.clone()),
                            describes: None,
                        });
                    }
                    None => *unexpected.entry(info.name.clone()).or_default() += 1,
                }
            }
        }
        let aspects = if scenario.generated {
            crate::aspects::Judged::default()
        } else {
            let facts =
                crate::aspects::RunFacts::new(key.tls, scenario.connection.cipher.as_deref());
            let run = crate::aspects::RunTraces {
                infos,
                traces: &traces,
                differences: &differences,
            };
            crate::aspects::judge(known, scope, facts, &run, &mut used)
        };
        let error = traces
            .iter()
            .any(|t| matches!(t.status, RunStatus::Error { .. }));
        let skipped = traces
            .iter()
            .any(|t| matches!(t.status, RunStatus::Skipped { .. }));
        let verdict = if error {
            Verdict::Error
        } else if !differences.is_empty() {
            if all_known {
                Verdict::Known
            } else {
                Verdict::Diverge
            }
        } else if skipped {
            Verdict::Skip
        } else {
            Verdict::Agree
        };
        if verdict == Verdict::Agree {
            for info in infos.iter().skip(1) {
                if let Some(e) = known.expects_difference(scope, &infos[0], info) {
                    let warning = format!(
                        "{key}: {} now agrees with {reference}, but known-divergence entry {} expects a difference",
                        info.name, known.entries[e].id
                    );
                    run_warnings.push(RunWarning {
                        run: run_name(key, transport),
                        warning: warning.clone(),
                    });
                    warnings.push(warning);
                }
            }
        }
        reports.push(RunReport {
            id: scenario.id.clone(),
            run: run_name(key, transport),
            transport,
            title: scenario.title.clone(),
            file: scenario.path.display().to_string(),
            clauses: scenario.clauses.iter().map(|c| c.0.clone()).collect(),
            situations: scenario.situations.iter().map(|c| c.0.clone()).collect(),
            tls: key.tls,
            role: key.role,
            modes: key.modes,
            verdict,
            differences,
            known: known_matches,
            notes,
            matrix: crate::matrix::behaviours(
                &infos
                    .iter()
                    .map(|i| i.name.as_str())
                    .zip(&traces)
                    .collect::<Vec<_>>(),
            ),
            results: infos.iter().map(|i| i.name.clone()).zip(traces).collect(),
            aspects: aspects.aspects,
            aspects_omitted: aspects.omitted,
        });
    }
    // An entry is stale when it concerns a scenario that ran, and an implementation (label and
    // version) that ran, and matched nothing there. Entries for scenarios or implementations
    // outside this run (filtered out, the fuzzer's generated runs, versions not in the matrix)
    // are not judged. A run only counts when it is in the entry's scope and the implementation
    // it describes really played it (not skipped); for a divergence entry, so must another
    // implementation of what the entry was written against (its baseline), on either side of
    // the diff.
    let played = |r: &RunReport, info: &ImplInfo| {
        r.results
            .get(&info.name)
            .is_some_and(|t| !matches!(t.status, RunStatus::Skipped { .. }))
    };
    let mut stale: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (i, n) in used.iter().enumerate() {
        let e = &known.entries[i];
        let mut concerned = Vec::new();
        for ((scenario, key), r) in runs.iter().zip(&reports) {
            let scope = Scope::new(key, r.transport, &scenario.steps);
            if !known.in_scope(i, scope) {
                continue;
            }
            for (k, info) in infos.iter().enumerate() {
                // A pair the entry could explain: its subject against the reference, or as the
                // reference against a column, the other side of its baseline, both played, and
                // their first difference not before the entry's step (a difference that is
                // never looked at cannot be explained).
                let unmasked = |other: &ImplInfo| {
                    let column = if k == 0 { &other.name } else { &info.name };
                    !r.differences.iter().any(|d| {
                        d.implementation == *column
                            && crate::aspects::masks(e.field.as_deref(), e.step, d)
                                .unwrap_or(matches!((d.step, e.step), (Some(s), Some(n)) if s < n))
                    })
                };
                let baseline = e.kind == KnownKind::Violation
                    || infos.iter().enumerate().any(|(j, other)| {
                        j != k
                            && (j == 0 || k == 0)
                            && known.in_baseline(i, other)
                            && played(r, other)
                            && unmasked(other)
                    });
                if known.concerns_implementation(i, info)
                    && played(r, info)
                    && baseline
                    && !concerned.contains(&info.name)
                {
                    concerned.push(info.name.clone());
                }
            }
        }
        if *n == 0 && !concerned.is_empty() {
            let warning = format!(
                "known-divergence entry {} ({} / {}) matches nothing in this run: stale",
                e.id, e.scenario, e.implementation
            );
            for name in &concerned {
                stale.entry(name.clone()).or_default().push(e.id.clone());
            }
            unused_known.push(UnusedKnown {
                entry: i,
                id: e.id.clone(),
                implementations: concerned,
                warning: warning.clone(),
            });
            warnings.push(warning);
        }
    }
    let derived = derive(&reports, infos, (unexpected, known_v), stale, opts.complete);
    let shard = opts.shard.as_ref().map(|plan| ShardRecord {
        index: plan.spec.index,
        count: plan.spec.count,
        suite: plan.suite.clone(),
        digest: plan.digest.clone(),
        known_uses: used.clone(),
        unused_known,
        run_warnings,
    });
    Report {
        schema_version: SCHEMA_VERSION,
        harness: ImplInfo {
            name: "sslwrite".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            family: "sslwrite".into(),
            library: None,
        },
        implementations: infos.to_vec(),
        reference,
        peer: None,
        host: std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_string())
            .unwrap_or_else(|_| "unknown".into()),
        started_unix: started
            .0
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        duration_ms: started.1.elapsed().as_millis() as u64,
        command_line,
        summary: derived.summary,
        scenarios: reports,
        clauses: derived.clauses,
        warnings,
        complete: opts.complete,
        transports: derived.transports,
        transport_differences: derived.transport_differences,
        shard,
    }
}

/// What a report derives from its runs alone (besides the violation counts, which come from
/// judging them): the clause view, the summary, the transports and where they differ.
#[derive(Clone, Debug, PartialEq)]
pub struct Derived {
    pub clauses: BTreeMap<String, ClauseView>,
    pub summary: Summary,
    pub transports: Vec<TransportKind>,
    pub transport_differences: Vec<TransportDifference>,
}

/// Derives the rest of a report from `reports` (in report order) judged as they are, with
/// per implementation the violations no known entry explains (`unexpected`) and those one
/// does (`known_violations`). [`assemble_with`] and [`crate::merge`] both end here.
pub fn derive(
    reports: &[RunReport],
    infos: &[ImplInfo],
    (unexpected, known_violations): (BTreeMap<String, usize>, BTreeMap<String, usize>),
    stale_entries: BTreeMap<String, Vec<String>>,
    complete: bool,
) -> Derived {
    let transport_differences = transport_differences(reports, infos);
    let clauses = clause_view(reports, infos);
    let mut verdicts: BTreeMap<String, usize> = Verdict::ALL
        .iter()
        .map(|v| (v.as_str().to_string(), 0))
        .collect();
    for r in reports {
        *verdicts.entry(r.verdict.as_str().to_string()).or_default() += 1;
    }
    let passed = complete
        && verdicts["diverge"] == 0
        && verdicts["error"] == 0
        && unexpected.values().all(|n| *n == 0);
    let mut transports: Vec<TransportKind> = Vec::new();
    for r in reports {
        if !transports.contains(&r.transport) {
            transports.push(r.transport);
        }
    }
    transports.sort_by_key(|t| t.as_str());
    Derived {
        clauses,
        summary: Summary {
            runs: reports.len(),
            verdicts,
            unexpected_violations: unexpected,
            known_violations,
            passed,
            stale_entries,
            aspects: crate::report::AspectCounts::of(reports),
        },
        transports,
        transport_differences,
    }
}

/// The name of a run in reports: the run key, with `/tcp` after it for a TCP run.
pub fn run_name(key: &RunKey, transport: TransportKind) -> String {
    match transport {
        TransportKind::Memory => key.to_string(),
        other => format!("{key}/{other}"),
    }
}

/// Where a run over TCP and the same run in memory differ, per implementation (the memory
/// run standing as the reference of the comparison).
fn transport_differences(reports: &[RunReport], infos: &[ImplInfo]) -> Vec<TransportDifference> {
    let memory: BTreeMap<&str, &RunReport> = reports
        .iter()
        .filter(|r| r.transport == TransportKind::Memory)
        .map(|r| (r.run.as_str(), r))
        .collect();
    let mut out = Vec::new();
    for tcp in reports.iter().filter(|r| r.transport == TransportKind::Tcp) {
        let name = tcp.run.trim_end_matches("/tcp");
        let Some(mem) = memory.get(name) else {
            continue;
        };
        for info in infos {
            let (Some(a), Some(b)) = (mem.results.get(&info.name), tcp.results.get(&info.name))
            else {
                continue;
            };
            if matches!(b.status, RunStatus::Skipped { step: None, .. }) {
                // Not run over TCP (a memory-only scenario, or a set-up it cannot do).
                continue;
            }
            if let (Some(d), _) = diff::compare("memory", a, "tcp", b) {
                out.push(TransportDifference {
                    run: name.to_string(),
                    implementation: info.name.clone(),
                    step: d.step,
                    field: d.field,
                    memory: d.reference_value,
                    tcp: d.value,
                });
            }
        }
    }
    out
}

/// Per clause: the runs that checked it, the runs that only cite it, and each
/// implementation's standing (reports/README.md, "clause view"). A run checked a clause for an
/// implementation when its trace lists the clause in `checked` (an expectation concerning it
/// was evaluated, or an automatic check ran: I1, I2 and I4 in every played run) or broke it;
/// a violation counts against the clause it is charged to, as `known` when the run's known
/// matches explain every violation of that clause there.
fn clause_view(reports: &[RunReport], infos: &[ImplInfo]) -> BTreeMap<String, ClauseView> {
    let mut out = BTreeMap::new();
    let broke = |t: &Trace, c: &str| t.violations.iter().filter(|v| v.clause == c).count();
    let checks = |t: &Trace, c: &str| t.checked.iter().any(|x| x == c) || broke(t, c) > 0;
    for c in CLAUSES {
        let mut view = ClauseView::default();
        for r in reports {
            if r.results.values().any(|t| checks(t, c)) {
                view.runs.push(r.run.clone());
            } else if r.clauses.iter().any(|x| x == c) {
                view.recorded_runs.push(r.run.clone());
            }
        }
        for info in infos {
            let mut checked_runs = 0;
            let mut exercised = false;
            let mut violating = Vec::new();
            let mut known = Vec::new();
            for r in reports {
                let Some(t) = r.results.get(&info.name) else {
                    continue;
                };
                if checks(t, c) {
                    checked_runs += 1;
                } else if r.clauses.iter().any(|x| x == c) && !t.steps.is_empty() {
                    exercised = true;
                }
                let broken = broke(t, c);
                if broken == 0 {
                    continue;
                }
                let explained = r
                    .known
                    .iter()
                    .filter(|k| {
                        k.implementation == info.name && k.kind == "violation" && k.clause == c
                    })
                    .count();
                if explained >= broken {
                    known.push(r.run.clone());
                } else {
                    violating.push(r.run.clone());
                }
            }
            let verdict = if !violating.is_empty() {
                ClauseVerdict::Violates
            } else if !known.is_empty() {
                ClauseVerdict::Known
            } else if checked_runs > 0 {
                ClauseVerdict::Conforms
            } else if exercised {
                ClauseVerdict::RecordedOnly
            } else {
                ClauseVerdict::NotExercised
            };
            view.implementations.insert(
                info.name.clone(),
                ClauseStanding {
                    verdict,
                    checked_runs,
                    violating_runs: violating,
                    known_runs: known,
                },
            );
        }
        out.insert(c.to_string(), view);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::fixture;

    fn derived(r: &Report) -> Derived {
        derive(
            &r.scenarios,
            &r.implementations,
            (BTreeMap::new(), BTreeMap::new()),
            BTreeMap::new(),
            true,
        )
    }

    #[test]
    fn the_clause_view_counts_the_runs_that_checked_each_clause() {
        let r = fixture::report();
        let d = derived(&r);
        let i1 = &d.clauses["I1"];
        assert_eq!(i1.runs.len(), 4, "every trace checked I1");
        assert!(i1.recorded_runs.is_empty());
        let rustls = &i1.implementations["rustls"];
        assert_eq!(rustls.verdict, ClauseVerdict::Violates);
        assert_eq!(rustls.checked_runs, 4);
        assert_eq!(
            rustls.violating_runs,
            vec!["shutdown/tls1.3/client/auto_retry".to_string()]
        );
        assert_eq!(rustls.label(), "violates (1 of 4)");
        assert_eq!(
            i1.implementations["openssl"].label(),
            "conforms (4)",
            "checked in every run"
        );
        // Cited by every scenario, checked by none: recorded only.
        let w6 = &d.clauses["W6"];
        assert!(w6.runs.is_empty());
        assert_eq!(w6.recorded_runs.len(), 4);
        assert_eq!(
            w6.implementations["openssl"].verdict,
            ClauseVerdict::RecordedOnly
        );
        // Neither checked nor cited anywhere.
        assert_eq!(
            d.clauses["W9"].implementations["rustls"].verdict,
            ClauseVerdict::NotExercised
        );
    }

    #[test]
    fn a_violation_a_known_entry_explains_makes_the_clause_known_not_violated() {
        let mut r = fixture::report();
        let shutdown = r.scenarios.iter_mut().find(|s| s.id == "shutdown").unwrap();
        fixture::explain(shutdown, "violation", "I1", "rustls drops bytes here");
        let d = derived(&r);
        let rustls = &d.clauses["I1"].implementations["rustls"];
        assert_eq!(rustls.verdict, ClauseVerdict::Known);
        assert!(rustls.violating_runs.is_empty());
        assert_eq!(
            rustls.known_runs,
            vec!["shutdown/tls1.3/client/auto_retry".to_string()]
        );
        // A second violation of the clause in that run, which no entry explains, is not.
        let shutdown = r.scenarios.iter_mut().find(|s| s.id == "shutdown").unwrap();
        let t = shutdown.results.get_mut("rustls").unwrap();
        t.violations
            .push(fixture::violation("I1", 1, "and reads bytes never written"));
        let d = derived(&r);
        assert_eq!(
            d.clauses["I1"].implementations["rustls"].verdict,
            ClauseVerdict::Violates
        );
    }

    #[test]
    fn the_clause_tables_paint_a_known_violation_as_known() {
        let mut r = fixture::report();
        let shutdown = r.scenarios.iter_mut().find(|s| s.id == "shutdown").unwrap();
        fixture::explain(shutdown, "violation", "I1", "rustls drops bytes here");
        r.clauses = derived(&r).clauses;
        let md = crate::render::markdown::render(&r, None);
        assert!(
            md.lines()
                .any(|l| l == "| I1 | 4 | conforms (4) | known (1 of 4) |"),
            "{md}"
        );
        let html = crate::render::html::render(&r);
        assert!(
            html.contains(
                "<tr data-clause=\"I1\"><td><a href=\"#group-I1\">I1</a></td><td>4</td><td data-verdict=\"agree\">conforms (4)</td><td data-verdict=\"known\">known (1 of 4)</td></tr>"
            ),
            "{html}"
        );
        let table = r.clause_table();
        let row = table.lines().find(|l| l.starts_with("I1 ")).unwrap();
        assert_eq!(
            row.split_whitespace().collect::<Vec<_>>(),
            ["I1", "4", "conforms", "(4)", "known", "(1", "of", "4)"]
        );
    }
}
