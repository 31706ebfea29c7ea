//! The bodies of the cargo-fuzz targets: each turns bytes into an oracle call and panics with
//! the finding's short, stable signature (libFuzzer deduplicates crashes by it).
//!
//! The known-divergence list is compiled in, so a target built elsewhere (ClusterFuzzLite)
//! judges exactly as the tree it was built from.

use std::sync::OnceLock;

use arbitrary::Unstructured;

use super::{generate, Oracles};
use crate::known::Known;

/// The project's known-divergence list, as of the build.
pub const KNOWN_DIVERGENCES: &str = include_str!("../../../scenarios/known-divergences.json");

fn oracles() -> &'static Oracles {
    static O: OnceLock<Oracles> = OnceLock::new();
    O.get_or_init(|| {
        let known = Known::parse(KNOWN_DIVERGENCES)
            .unwrap_or_else(|e| panic!("scenarios/known-divergences.json: {e}"));
        let names: Vec<String> = match std::env::var("SSLWRITE_FUZZ_IMPL") {
            Ok(list) if !list.is_empty() => list.split(',').map(str::to_string).collect(),
            _ => crate::impls::NAMES.iter().map(|s| s.to_string()).collect(),
        };
        Oracles::with(names.iter().map(String::as_str).collect(), known)
    })
}

fn fail(f: super::Finding) -> ! {
    panic!("sslwrite finding [{}]\n{}", f.signature, f.detail)
}

/// `differential`: every implementation, invariants and unexplained divergences.
pub fn differential(data: &[u8]) {
    let Ok(g) = generate(&mut Unstructured::new(data)) else {
        return;
    };
    if let Err(f) = super::differential(oracles(), &g) {
        fail(f);
    }
}

/// `invariants`: each selected implementation alone, invariants only.
pub fn invariants(data: &[u8]) {
    let Ok(g) = generate(&mut Unstructured::new(data)) else {
        return;
    };
    let o = oracles();
    for imp in &o.impls {
        if let Err(f) = super::invariants(o, imp.as_ref(), &g) {
            fail(f);
        }
    }
}

/// `scenario_file`: the loader answers every input.
pub fn scenario_file(data: &[u8]) {
    if let Err(f) = super::scenario_file(data) {
        fail(f);
    }
}
