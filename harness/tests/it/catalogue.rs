//! The scenario catalogue and the known-divergence list are consistent: every file loads, and
//! the whole default suite runs clean with every known-divergence entry used.

use std::collections::BTreeSet;
use std::time::{Instant, SystemTime};

use sslwrite::impls::openssl::OpensslImpl;
use sslwrite::known::Known;
use sslwrite::project_root;
use sslwrite::scenario::{load_dir, KNOWN_DIVERGENCES_FILE};
use sslwrite::suite::{self, Selection};

use crate::common;

#[test]
fn every_scenario_loads_and_cites_known_ids() {
    let scenarios = load_dir(&project_root().join("scenarios")).unwrap_or_else(|errors| {
        panic!(
            "{}",
            errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        )
    });
    assert!(scenarios.len() >= 20, "at least 20 scenarios ship");
    let situations: BTreeSet<&str> = scenarios
        .iter()
        .flat_map(|s| s.situations.iter().map(|x| x.0.as_str()))
        .collect();
    for family in ["HS-", "IO-", "RT-", "PW-", "RN-", "KU-", "Z-", "SD-"] {
        assert!(
            situations.iter().any(|s| s.starts_with(family)),
            "no scenario for the {family} family"
        );
    }
}

#[test]
fn the_default_suite_is_clean_under_every_reference_and_every_known_entry_is_used() {
    let dir = project_root().join("scenarios");
    let scenarios = load_dir(&dir).expect("scenarios load");
    let known = Known::load(&dir.join(KNOWN_DIVERGENCES_FILE)).expect("known divergences load");
    let impls = common::default_impls();
    let runs = Selection::all().runs(&scenarios);
    let traces = suite::play(&runs, &impls, &OpensslImpl::new(), 2, &|| {});
    let infos: Vec<_> = impls.iter().map(|i| i.info()).collect();
    // The same traces judged with each default implementation as the reference: the known
    // entries describe what each implementation does, so the suite is clean under every one.
    for first in 0..infos.len() {
        let mut order: Vec<usize> = (0..infos.len()).collect();
        order.swap(0, first);
        let infos: Vec<_> = order.iter().map(|&i| infos[i].clone()).collect();
        let traces: Vec<Vec<_>> = traces
            .iter()
            .map(|t| order.iter().map(|&i| t[i].clone()).collect())
            .collect();
        let report = suite::assemble(
            &runs,
            traces,
            &infos,
            &known,
            (SystemTime::now(), Instant::now()),
            vec![],
        );
        let reference = &infos[0].name;
        let diverging: Vec<String> = report
            .scenarios
            .iter()
            .filter(|s| s.verdict.as_str() == "diverge" || s.verdict.as_str() == "error")
            .map(|s| format!("{} {:?} {:?}", s.run, s.verdict, s.differences))
            .collect();
        assert!(
            diverging.is_empty(),
            "unexplained with reference {reference}:\n{}",
            diverging.join("\n")
        );
        assert!(report.summary.passed, "{}", report.summary_text());
        assert!(
            report.warnings.is_empty(),
            "warnings with reference {reference}: {:#?}",
            report.warnings
        );
        assert!(
            report
                .scenarios
                .iter()
                .any(|s| s.verdict.as_str() == "known"),
            "the differences are explained, not gone"
        );
    }
}

/// Situations no scenario covers yet, each with the reason (none today: early data, the last
/// gap, is driven through a resumed session since the runner primes one).
const UNCOVERED: [(&str, &str); 0] = [];

#[test]
fn every_clause_has_two_scenarios_and_every_situation_one() {
    use sslwrite::scenario::{CLAUSES, SITUATIONS};
    let scenarios = load_dir(&project_root().join("scenarios")).expect("scenarios load");
    for c in CLAUSES.iter().filter(|c| c.starts_with('W')) {
        let n = scenarios
            .iter()
            .filter(|s| s.clauses.iter().any(|x| x.0 == *c))
            .count();
        assert!(
            n >= 2,
            "clause {c} is exercised by {n} scenario(s); at least 2 needed"
        );
    }
    for sit in SITUATIONS {
        let covered = scenarios
            .iter()
            .any(|s| s.situations.iter().any(|x| x.0 == sit));
        let exempt = UNCOVERED.iter().any(|(id, _)| *id == sit);
        assert!(covered || exempt, "situation {sit} has no scenario");
        assert!(
            !(covered && exempt),
            "{sit} is covered now: drop it from UNCOVERED"
        );
    }
}

#[test]
fn the_default_suite_has_150_runs_per_implementation() {
    let scenarios = load_dir(&project_root().join("scenarios")).expect("scenarios load");
    let runs = Selection::all().runs(&scenarios).len();
    assert!(runs >= 150, "{runs} runs per implementation");
}
