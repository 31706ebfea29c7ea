//! The bodies of the cargo-fuzz targets: each turns bytes into an oracle call and, on a finding,
//! prints its short, stable signature and aborts (libFuzzer records the input as a crash).
//!
//! The known-divergence list is compiled in, so a target built elsewhere (ClusterFuzzLite)
//! judges exactly as the tree it was built from.

use std::sync::OnceLock;

use super::Oracles;
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
        let names = super::oracle::impls_from_env();
        let o = Oracles::open(&names, known).unwrap_or_else(|e| {
            eprintln!("sslwrite: {}: {e}", super::oracle::IMPL_ENV);
            std::process::exit(2)
        });
        let columns: Vec<String> = o
            .impls
            .iter()
            .map(|i| {
                let info = i.info();
                format!("{} ({})", info.name, info.version)
            })
            .collect();
        eprintln!("sslwrite: fuzzing {}", columns.join(" vs "));
        for lack in o.narrowing.lacks() {
            eprintln!("sslwrite: not generated: {lack}");
        }
        o
    })
}

/// The environment variable naming a session's signature log (`cargo xtask fuzz
/// --keep-going` sets it): every finding appends its signature; one already there is counted
/// and the execution goes on, so a session keeps one artifact per signature and spends its time
/// on new ones.
pub const SEEN_ENV: &str = "SSLWRITE_FUZZ_SEEN";

/// Set by `cargo xtask fuzz --measure`: a finding is printed once per signature and the
/// session goes on, so that a measurement covers its whole time.
pub const MEASURE_ENV: &str = "SSLWRITE_FUZZ_MEASURE";

fn fail(f: super::Finding) {
    if std::env::var_os(MEASURE_ENV).is_some() {
        static SEEN: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
        let mut seen = SEEN.lock().unwrap_or_else(|e| e.into_inner());
        if !seen.contains(&f.signature) {
            eprintln!(
                "sslwrite: finding (measuring, not stopping) [{}]",
                f.signature
            );
            seen.push(f.signature);
        }
        return;
    }
    if let Some(path) = std::env::var_os(SEEN_ENV) {
        let seen = std::fs::read_to_string(&path).unwrap_or_default();
        let again = seen.lines().any(|l| l == f.signature);
        use std::io::Write as _;
        if let Ok(mut log) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
        {
            let _ = writeln!(log, "{}", f.signature);
        }
        if again {
            return;
        }
    }
    eprintln!("sslwrite finding [{}]\n{}", f.signature, f.detail);
    std::process::abort()
}

/// `differential`: every implementation, invariants and unexplained divergences.
pub fn differential(data: &[u8]) {
    let o = oracles();
    let Ok(g) = o.generate(data) else {
        return;
    };
    if let Err(f) = super::differential(o, &g) {
        fail(f);
    }
}

/// `invariants`: each selected implementation alone, invariants only.
pub fn invariants(data: &[u8]) {
    let o = oracles();
    let Ok(g) = o.generate(data) else {
        return;
    };
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
