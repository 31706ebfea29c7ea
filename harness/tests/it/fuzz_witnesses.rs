//! The `"scenario": "fuzz"` known-divergence entries explain generated runs, which no
//! conformance run plays, so nothing else tells when one goes stale or stops explaining what it
//! was written for. A witness is the generated scenario that led to an entry, kept under
//! `fuzz/witnesses/`: each one must still diverge (or still break an invariant), and all of it
//! must still be explained by the known-divergence file (the verdict `known`, or a known
//! violation; not `agree` with nothing known, not `diverge`, no unexpected violation).
//! When a library upgrade changes a witness's behaviour, this test names the witness; look at it
//! with `sslwrite conformance --scenarios DIR --explain fuzz` (the witness alone in DIR).
//!
//! Witnesses of the built-in pair lie in `fuzz/witnesses/`; those of another implementation set
//! in a folder of their own with an `impls` file (one `--impl` argument per line, paths
//! relative to the project root), played with that set where its libraries exist and skipped,
//! with a line saying so, where they do not (CI has no OpenSSL 4.0 build). Every generated-run
//! entry about an implementation that some played folder has must be used by a witness.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;
use sslwrite::contract::ImplInfo;
use sslwrite::known::{Known, KnownKind};

use crate::common;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap()
}

/// The `--impl` arguments of a witness folder, or `None` when one of its libraries is absent.
fn impl_args(dir: &Path) -> Option<Vec<String>> {
    let Ok(text) = std::fs::read_to_string(dir.join("impls")) else {
        return Some(Vec::new());
    };
    let mut args = Vec::new();
    for spec in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let spec = match spec.split_once(':') {
            Some((kind @ ("libssl" | "wolfssl"), rest)) => {
                let (path, label) = rest.rsplit_once('@').unwrap_or((rest, ""));
                let abs = root().join(path);
                if !abs.exists() {
                    eprintln!("{}: skipped: {} is not here", dir.display(), abs.display());
                    return None;
                }
                let label = if label.is_empty() {
                    String::new()
                } else {
                    format!("@{label}")
                };
                format!("{kind}:{}{label}", abs.display())
            }
            _ => spec.to_string(),
        };
        args.push("--impl".to_string());
        args.push(spec);
    }
    Some(args)
}

#[test]
fn every_fuzz_witness_still_diverges_and_is_explained() {
    let dir = root().join("fuzz/witnesses");
    let mut folders = vec![dir.clone()];
    folders.extend(
        std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .filter(|p| p.join("impls").is_file()),
    );
    let mut failures = Vec::new();
    let mut seen = Seen::default();
    for folder in &folders {
        let Some(args) = impl_args(folder) else {
            continue;
        };
        play(folder, &args, &mut failures, &mut seen);
    }
    assert!(seen.played > 0, "no witness in {}", dir.display());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Every generated-run entry that some witness folder could show (it played the entry's
    // subject and, for a divergence, an implementation the entry was written against) is used
    // by a witness: an entry without one could go stale unseen.
    let known = Known::load(&root().join("scenarios/known-divergences.json")).unwrap();
    let unwitnessed: Vec<&str> = known
        .entries
        .iter()
        .enumerate()
        .filter(|(i, e)| {
            let witnessable = |infos: &Vec<ImplInfo>| {
                infos
                    .iter()
                    .any(|info| known.concerns_implementation(*i, info))
                    && (e.kind == KnownKind::Violation
                        || infos.iter().any(|info| known.in_baseline(*i, info)))
            };
            e.scenario.0.iter().any(|s| s == "fuzz")
                && seen.sets.iter().any(witnessable)
                && !seen.entries.contains(&e.id)
        })
        .map(|(_, e)| e.id.as_str())
        .collect();
    assert!(
        unwitnessed.is_empty(),
        "{} generated-run entries have no witness that uses them (add one to fuzz/witnesses/ from the artifact that led to each):\n{}",
        unwitnessed.len(),
        unwitnessed.join("\n")
    );
}

/// What the witnesses played: how many, each folder's implementations, the entries they used.
#[derive(Default)]
struct Seen {
    played: usize,
    sets: Vec<Vec<ImplInfo>>,
    entries: BTreeSet<String>,
}

/// Plays every witness in `dir` with `args`, noting what they used in `seen`.
fn play(dir: &Path, args: &[String], failures: &mut Vec<String>, seen: &mut Seen) {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let known = root().join("scenarios/known-divergences.json");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    for file in &files {
        let name = file.file_stem().unwrap().to_string_lossy().into_owned();
        let d = common::TempDir::new("witness", &name, &["scenarios"]);
        std::fs::copy(file, d.path("scenarios/fuzz.json")).unwrap();
        let json = d.path("report.json");
        let out = common::conformance(&d.path("scenarios"), &known, &json, &args);
        let report: Value = match std::fs::read(&json) {
            Ok(b) => serde_json::from_slice(&b).unwrap(),
            Err(e) => {
                failures.push(format!(
                    "{name}: no report ({e}); stderr: {}",
                    String::from_utf8_lossy(&out.stderr)
                ));
                continue;
            }
        };
        if let Ok(infos) =
            serde_json::from_value::<Vec<ImplInfo>>(report["implementations"].clone())
        {
            if !seen.sets.contains(&infos) {
                seen.sets.push(infos);
            }
        }
        for run in report["scenarios"].as_array().into_iter().flatten() {
            for k in run["known"].as_array().into_iter().flatten() {
                if let Some(id) = k["entry"].as_str() {
                    seen.entries.insert(id.to_string());
                }
            }
        }
        let s = &report["summary"];
        let known_violations: u64 = s["known_violations"]
            .as_object()
            .map_or(0, |m| m.values().filter_map(Value::as_u64).sum());
        let explained = s["verdicts"]["known"] == s["runs"] || known_violations > 0;
        if s["passed"] != Value::Bool(true) || !explained {
            failures.push(format!(
                "{name}: expected the report to pass with every run known (or a known violation), got {s}"
            ));
        }
    }
    seen.played += files.len();
}
