//! The fuzz oracles over seeded generated inputs, on stable, without libFuzzer: what
//! `cargo fuzz` checks, checked by `cargo test` too.

use std::collections::BTreeMap;

use arbitrary::Unstructured;
use sslwrite::fuzzing::{self, generate, seed_bytes, Oracles};

/// Inputs per oracle in `cargo test` (more in `cargo xtask fuzz`).
const SEEDS: u64 = 300;

fn inputs() -> impl Iterator<Item = (u64, fuzzing::Generated)> {
    (0..SEEDS).filter_map(|seed| {
        let bytes = seed_bytes(seed, 256);
        generate(&mut Unstructured::new(&bytes))
            .ok()
            .map(|g| (seed, g))
    })
}

fn report(findings: BTreeMap<String, (u64, String)>) {
    if findings.is_empty() {
        return;
    }
    let mut text = String::new();
    for (sig, (seed, detail)) in &findings {
        let first = detail.lines().next().unwrap_or("");
        text.push_str(&format!("{sig}  (seed {seed}): {first}\n"));
    }
    panic!("{} finding signature(s):\n{text}", findings.len());
}

#[test]
fn differential_oracle_over_seeded_inputs() {
    let o = Oracles::load();
    let mut findings = BTreeMap::new();
    for (seed, g) in inputs() {
        if let Err(f) = fuzzing::differential(&o, &g) {
            findings
                .entry(f.signature.clone())
                .or_insert((seed, f.detail));
        }
    }
    report(findings);
}

#[test]
fn invariants_oracle_over_seeded_inputs() {
    let o = Oracles::load();
    let mut findings = BTreeMap::new();
    for imp in &o.impls {
        for (seed, g) in inputs() {
            if let Err(f) = fuzzing::invariants(&o, imp.as_ref(), &g) {
                findings
                    .entry(f.signature.clone())
                    .or_insert((seed, f.detail));
            }
        }
    }
    // Invariant violations that the known list explains are not findings of this oracle's
    // job to excuse: list them all.
    report(findings);
}

#[test]
fn scenario_file_oracle_over_seeded_bytes() {
    for seed in 0..SEEDS {
        let bytes = seed_bytes(seed, (seed as usize % 300) + 1);
        fuzzing::scenario_file(&bytes).unwrap();
        // Mutations of a real file: truncations and byte flips.
        let real = std::fs::read(
            sslwrite::project_root().join("scenarios/pw-large-into-small-transport.json"),
        )
        .unwrap();
        let cut = (seed as usize * 7) % real.len();
        fuzzing::scenario_file(&real[..cut]).unwrap();
        let mut flipped = real.clone();
        flipped[cut] ^= bytes[0];
        fuzzing::scenario_file(&flipped).unwrap();
    }
}
