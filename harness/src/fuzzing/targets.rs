//! The bodies of the cargo-fuzz targets: each turns bytes into an oracle call and, on a finding,
//! prints its short, stable signature and aborts (libFuzzer records the input as a crash).
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
        // libFuzzer's hook aborts on any panic; the runner catches an implementation's panic
        // and judges it (I4, with known entries like any finding), so let panics unwind and
        // abort only on findings (`fail`). A panic that escapes still aborts at the FFI edge.
        let _ = std::panic::take_hook();
        std::panic::set_hook(Box::new(|info| eprintln!("sslwrite: caught {info}")));
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
    eprintln!("sslwrite finding [{}]\n{}", f.signature, f.detail);
    std::process::abort()
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
