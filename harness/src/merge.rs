//! `sslwrite merge`: joins the reports of the shards of one run (`conformance --shard I/N`)
//! into the report the whole run would have made.
//!
//! The runs are put back in suite order (the order every shard records in `shard.suite`); the
//! clause view, the summary and the transport differences are derived again from them by the
//! code that derives them for a whole run ([`crate::suite::derive`]); the per-implementation
//! violation counts, being per run, are the sums of the shards'. Warnings about a run keep
//! their place (each shard records them with their run); a known-divergence entry is stale
//! when some shard calls it stale and no shard used it. The run-specific fields: the earliest
//! start, the longest shard's duration (shards run side by side), the hosts, and the merge's
//! own command line.
//!
//! Refused (an error naming the files): a report that is no shard, shards of different suites
//! (scenario files, known-divergence file, selection, implementations, reference, number of
//! shards) or of different harness versions, two reports of the same shard, a run in two
//! reports. A missing shard is not refused: the result is marked incomplete and says which.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::report::{Report, RunReport};
use crate::shard::ShardRecord;

/// The merged report, and the shards that were missing (1-based; empty when all were there).
#[derive(Clone, Debug, PartialEq)]
pub struct Merged {
    pub report: Report,
    pub missing: Vec<usize>,
}

/// Merges `inputs` (each a label for messages, e.g. its path, and the report read from it).
pub fn merge(inputs: &[(String, Report)], command_line: Vec<String>) -> Result<Merged, String> {
    let Some((first_label, first)) = inputs.first() else {
        return Err("nothing to merge: give the shard reports".into());
    };
    let shard_of = |label: &str, r: &Report| -> Result<ShardRecord, String> {
        r.shard.clone().ok_or_else(|| {
            format!("{label} is not a shard's report (it has no `shard` record): only reports of `conformance --shard I/N` merge")
        })
    };
    let base = shard_of(first_label, first)?;
    let mut shards: Vec<(&str, &Report, ShardRecord)> = Vec::new();
    for (label, r) in inputs {
        let s = shard_of(label, r)?;
        same_suite((first_label, first, &base), (label, r, &s))?;
        if let Some((other, _, _)) = shards.iter().find(|(_, _, o)| o.index == s.index) {
            return Err(format!(
                "{other} and {label} are both shard {}/{}: give each shard once",
                s.index, s.count
            ));
        }
        shards.push((label, r, s));
    }
    shards.sort_by_key(|(_, _, s)| s.index);

    let position: HashMap<&str, usize> = base
        .suite
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i))
        .collect();
    let mut owner: HashMap<&str, &str> = HashMap::new();
    let mut runs: Vec<(usize, &RunReport)> = Vec::new();
    for (label, r, _) in &shards {
        for run in &r.scenarios {
            let Some(&p) = position.get(run.run.as_str()) else {
                return Err(format!(
                    "{label}: run {} is not in the suite its shard record lists",
                    run.run
                ));
            };
            if let Some(other) = owner.insert(run.run.as_str(), label) {
                return Err(format!(
                    "run {} is in both {other} and {label}: the shards overlap",
                    run.run
                ));
            }
            runs.push((p, run));
        }
    }
    runs.sort_by_key(|(p, _)| *p);
    let scenarios: Vec<RunReport> = runs.into_iter().map(|(_, r)| r.clone()).collect();

    let present: BTreeSet<usize> = shards.iter().map(|(_, _, s)| s.index).collect();
    let missing: Vec<usize> = (1..=base.count).filter(|i| !present.contains(i)).collect();
    let complete = missing.is_empty() && shards.iter().all(|(_, r, _)| r.complete);

    let mut unexpected: BTreeMap<String, usize> = BTreeMap::new();
    let mut known_violations: BTreeMap<String, usize> = BTreeMap::new();
    for (_, r, _) in &shards {
        for (name, n) in &r.summary.unexpected_violations {
            *unexpected.entry(name.clone()).or_default() += n;
        }
        for (name, n) in &r.summary.known_violations {
            *known_violations.entry(name.clone()).or_default() += n;
        }
    }
    let (mut warnings, stale) = warnings(&shards, &position);
    let derived = crate::suite::derive(
        &scenarios,
        &first.implementations,
        (unexpected, known_violations),
        stale,
        complete,
    );
    if !missing.is_empty() {
        let list: Vec<String> = missing.iter().map(usize::to_string).collect();
        warnings.push(format!(
            "merged {} of {} shards: shard(s) {} missing, so the report is incomplete",
            shards.len(),
            base.count,
            list.join(", ")
        ));
    }
    let mut hosts: Vec<&str> = Vec::new();
    for (_, r, _) in &shards {
        if !hosts.contains(&r.host.as_str()) {
            hosts.push(&r.host);
        }
    }
    let report = Report {
        schema_version: first.schema_version,
        harness: first.harness.clone(),
        implementations: first.implementations.clone(),
        reference: first.reference.clone(),
        peer: first.peer.clone(),
        host: hosts.join(", "),
        started_unix: shards
            .iter()
            .map(|(_, r, _)| r.started_unix)
            .min()
            .unwrap_or(0),
        duration_ms: shards
            .iter()
            .map(|(_, r, _)| r.duration_ms)
            .max()
            .unwrap_or(0),
        command_line,
        scenarios,
        clauses: derived.clauses,
        summary: derived.summary,
        warnings,
        complete,
        transports: derived.transports,
        transport_differences: derived.transport_differences,
        shard: None,
    };
    Ok(Merged { report, missing })
}

/// Refuses two shards that are not of one suite, naming both and what differs.
fn same_suite(
    (a, ra, sa): (&str, &Report, &ShardRecord),
    (b, rb, sb): (&str, &Report, &ShardRecord),
) -> Result<(), String> {
    let differ = |what: String| Err(format!("{a} and {b} are not shards of one run: {what}"));
    if ra.harness != rb.harness || ra.schema_version != rb.schema_version {
        return differ(format!(
            "different harness versions ({} {}, schema_version {} against {} {}, schema_version {})",
            ra.harness.name,
            ra.harness.version,
            ra.schema_version,
            rb.harness.name,
            rb.harness.version,
            rb.schema_version
        ));
    }
    if ra.implementations != rb.implementations {
        let names = |r: &Report| -> String {
            r.implementations
                .iter()
                .map(|i| format!("{} ({})", i.name, i.version))
                .collect::<Vec<_>>()
                .join(", ")
        };
        return differ(format!(
            "different implementations ({} against {})",
            names(ra),
            names(rb)
        ));
    }
    if ra.peer != rb.peer {
        let peer = |r: &Report| {
            r.peer.as_ref().map_or("(not recorded)".to_string(), |p| {
                format!("{} ({})", p.name, p.version)
            })
        };
        return differ(format!(
            "different peers ({} against {})",
            peer(ra),
            peer(rb)
        ));
    }
    if ra.reference != rb.reference {
        return differ(format!(
            "different references ({} against {})",
            ra.reference, rb.reference
        ));
    }
    if sa.count != sb.count {
        return differ(format!(
            "split into different numbers of shards ({} against {})",
            sa.count, sb.count
        ));
    }
    if sa.suite != sb.suite {
        return differ(format!(
            "different selections of runs ({} runs against {})",
            sa.suite.len(),
            sb.suite.len()
        ));
    }
    if sa.digest != sb.digest || sa.known_uses.len() != sb.known_uses.len() {
        return differ(
            "different scenario files or known-divergence files (their digests differ)".into(),
        );
    }
    Ok(())
}

/// The merged warnings as the whole run would give them: those about a run, in the runs'
/// suite order; any other warning a shard gave (once); then the stale entries, in the file's
/// order. Beside them, the stale entries' ids per implementation they concerned.
fn warnings(
    shards: &[(&str, &Report, ShardRecord)],
    position: &HashMap<&str, usize>,
) -> (Vec<String>, BTreeMap<String, Vec<String>>) {
    let mut about_runs: Vec<(usize, String)> = Vec::new();
    let mut others: Vec<String> = Vec::new();
    let mut total_uses: Vec<usize> = Vec::new();
    // Per entry: its warning, its id and the implementations it concerned in any shard.
    let mut stale: BTreeMap<usize, (String, String, BTreeSet<String>)> = BTreeMap::new();
    for (_, r, s) in shards {
        if total_uses.len() < s.known_uses.len() {
            total_uses.resize(s.known_uses.len(), 0);
        }
        for (t, n) in total_uses.iter_mut().zip(&s.known_uses) {
            *t += n;
        }
        for u in &s.unused_known {
            let seen = stale
                .entry(u.entry)
                .or_insert_with(|| (u.warning.clone(), u.id.clone(), BTreeSet::new()));
            seen.2.extend(u.implementations.iter().cloned());
        }
        for w in &s.run_warnings {
            let p = position.get(w.run.as_str()).copied().unwrap_or(usize::MAX);
            about_runs.push((p, w.warning.clone()));
        }
        let listed: BTreeSet<&str> = s
            .unused_known
            .iter()
            .map(|u| u.warning.as_str())
            .chain(s.run_warnings.iter().map(|w| w.warning.as_str()))
            .collect();
        for w in &r.warnings {
            if !listed.contains(w.as_str()) && !others.contains(w) {
                others.push(w.clone());
            }
        }
    }
    about_runs.sort_by_key(|(p, _)| *p);
    let mut out: Vec<String> = about_runs.into_iter().map(|(_, w)| w).collect();
    out.extend(others);
    let mut per_implementation: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (_, (warning, id, names)) in stale
        .into_iter()
        .filter(|(e, _)| total_uses.get(*e).copied().unwrap_or(0) == 0)
    {
        out.push(warning);
        for name in names {
            per_implementation.entry(name).or_default().push(id.clone());
        }
    }
    (out, per_implementation)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::fixture;
    use crate::shard::{RunWarning, UnusedKnown};

    /// The fixture report cut into `n` shards as `--shard I/N` would have played it.
    fn shards(whole: &Report, n: usize) -> Vec<(String, Report)> {
        let suite: Vec<String> = whole.scenarios.iter().map(|s| s.run.clone()).collect();
        (1..=n)
            .map(|i| {
                let spec = crate::shard::ShardSpec { index: i, count: n };
                let mut r = whole.clone();
                r.scenarios = spec.select(&whole.scenarios);
                r.warnings.clear();
                r.shard = Some(ShardRecord {
                    index: i,
                    count: n,
                    suite: suite.clone(),
                    digest: "d".into(),
                    known_uses: vec![0; 4],
                    unused_known: Vec::new(),
                    run_warnings: Vec::new(),
                });
                (format!("s{i}.json"), r)
            })
            .collect()
    }

    #[test]
    fn shards_merge_back_in_suite_order_with_the_views_derived_again() {
        let whole = fixture::report();
        let mut parts = shards(&whole, 3);
        parts.reverse();
        let m = merge(&parts, vec!["merge".into()]).unwrap();
        assert!(m.missing.is_empty());
        let runs = |r: &Report| {
            r.scenarios
                .iter()
                .map(|s| s.run.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(runs(&m.report), runs(&whole));
        // The fixture's clause view is hand-made for two clauses; those are derived the same.
        for (clause, view) in &whole.clauses {
            assert_eq!(&m.report.clauses[clause], view, "{clause}");
        }
        assert_eq!(m.report.summary.verdicts, whole.summary.verdicts);
        assert!(m.report.complete);
        assert_eq!(m.report.shard, None);
    }

    #[test]
    fn a_missing_shard_makes_an_incomplete_report_that_says_which() {
        let whole = fixture::report();
        let mut parts = shards(&whole, 3);
        parts.remove(1);
        let m = merge(&parts, Vec::new()).unwrap();
        assert_eq!(m.missing, vec![2]);
        assert!(!m.report.complete && !m.report.summary.passed);
        assert_eq!(
            m.report.warnings,
            vec!["merged 2 of 3 shards: shard(s) 2 missing, so the report is incomplete"]
        );
    }

    #[test]
    fn an_entry_is_stale_only_when_no_shard_used_it() {
        let whole = fixture::report();
        let mut parts = shards(&whole, 2);
        for (i, (_, r)) in parts.iter_mut().enumerate() {
            let s = r.shard.as_mut().unwrap();
            for e in [1, 2] {
                let warning = format!("known-divergence entry {e} matches nothing: stale");
                s.unused_known.push(UnusedKnown {
                    entry: e,
                    id: format!("e{e}"),
                    implementations: vec![if i == 0 { "openssl" } else { "rustls" }.into()],
                    warning: warning.clone(),
                });
                r.warnings.push(warning);
            }
            if i == 1 {
                s.unused_known.remove(0);
                r.warnings.remove(0);
                s.known_uses[1] = 1;
                let warning = format!("{}: rustls now agrees", r.scenarios[0].run);
                s.run_warnings.push(RunWarning {
                    run: r.scenarios[0].run.clone(),
                    warning: warning.clone(),
                });
                r.warnings.insert(0, warning);
            }
        }
        let m = merge(&parts, Vec::new()).unwrap();
        assert_eq!(
            m.report.warnings,
            vec![
                format!("{}: rustls now agrees", whole.scenarios[1].run),
                "known-divergence entry 2 matches nothing: stale".to_string()
            ]
        );
        // Entry 2 went unused for openssl in one shard and for rustls in the other.
        let stale: Vec<(&str, Vec<&str>)> = m
            .report
            .summary
            .stale_entries
            .iter()
            .map(|(k, v)| (k.as_str(), v.iter().map(String::as_str).collect()))
            .collect();
        assert_eq!(stale, vec![("openssl", vec!["e2"]), ("rustls", vec!["e2"])]);
    }

    #[test]
    fn what_is_not_one_run_is_refused_naming_the_files() {
        let whole = fixture::report();
        let refuse = |parts: &[(String, Report)], why: &str| {
            let err = merge(parts, Vec::new()).unwrap_err();
            assert!(err.contains(why), "{err}");
        };
        refuse(
            &[("w.json".into(), whole.clone())],
            "w.json is not a shard's report",
        );
        let parts = shards(&whole, 2);
        refuse(
            &[parts[0].clone(), parts[0].clone()],
            "s1.json and s1.json are both shard 1/2",
        );
        let mut other = parts.clone();
        other[1].1.harness.version = "9.9.9".into();
        refuse(&other, "s1.json and s2.json are not shards of one run: different harness versions (sslwrite 0.1.0");
        let mut other = parts.clone();
        other[1].1.implementations[1].version = "rustls 0.24".into();
        refuse(&other, "different implementations");
        let mut other = parts.clone();
        other[1].1.shard.as_mut().unwrap().digest = "e".into();
        refuse(&other, "different scenario files or known-divergence files");
        let mut other = parts.clone();
        other[1].1.shard.as_mut().unwrap().count = 3;
        refuse(&other, "different numbers of shards (2 against 3)");
        let mut other = parts.clone();
        let stolen = other[0].1.scenarios[0].clone();
        other[1].1.scenarios.push(stolen);
        refuse(&other, "is in both s1.json and s2.json: the shards overlap");
        refuse(&[], "nothing to merge");
    }
}
