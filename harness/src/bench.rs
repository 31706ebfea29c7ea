//! `sslwrite bench` (run by `cargo xtask bench`): the harness measured against the physical
//! floor, as ratios taken in one run so that machine noise cancels.
//!
//! 1. Suite throughput, 1 and 2 threads, against the handshake floor: a bare loop of the same
//!    handshakes (same libraries, same transport, same version and role, no runner); and
//!    against the physical floor, which adds the suite's bytes at the bare loop's cost.
//! 2. Bulk path: a 1 GiB `write_stream` through the runner against a bare write/read loop over
//!    the same transport, in 16 KiB and in 1 MiB writes; peak RSS of each, in a process of its
//!    own.
//! 3. Fuzz oracle executions per second over a fixed set of generated inputs.
//! 4. Scaling: N and 2N runs; the start-up cost of a run with nothing to do.
//!
//! Every figure is the median of several repetitions.

use std::path::Path;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::contract::{ConnConfig, Implementation, Modes, Outcome, Role, Tls};
use crate::fuzzing::{self, Oracles};
use crate::scenario::{RunKey, Scenario};
use crate::suite;
use crate::transport::{Pipe, PipeConfig, Side};

/// The write size of the bulk path when none is named: one MiB per call.
pub const BULK_CHUNK: usize = 1 << 20;

/// The write sizes the bulk path is measured at: one full record per call (what applications
/// write) and one MiB per call (64 records per call).
pub const BULK_CHUNKS: [usize; 2] = [1 << 14, BULK_CHUNK];

/// Bumped when a field changes.
pub const BENCH_SCHEMA: u32 = 2;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BenchReport {
    pub schema_version: u32,
    pub harness_version: String,
    pub host: String,
    pub cores: usize,
    pub repetitions: usize,
    pub suite: SuiteBench,
    /// The bulk path, one entry per write size.
    pub bulk: Vec<BulkBench>,
    pub fuzz: FuzzBench,
    pub scaling: ScalingBench,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SuiteBench {
    /// Scenario runs × implementations played per suite pass.
    pub runs: usize,
    pub seconds_1_thread: f64,
    pub seconds_2_threads: f64,
    pub runs_per_second_1_thread: f64,
    pub runs_per_second_2_threads: f64,
    /// seconds_1_thread / seconds_2_threads (median of per-repetition ratios).
    pub speedup_2_threads: f64,
    /// Cost of one bare handshake (implementation + reference peer), per implementation,
    /// version and role, in microseconds: the median of batch means.
    pub handshake_us: Vec<HandshakeCost>,
    /// Σ over the suite's runs of that run's bare handshake cost, in seconds.
    pub handshake_floor_seconds: f64,
    /// seconds_1_thread / handshake_floor_seconds, the median of that ratio over repetitions
    /// (each measures the suite and the floor back to back).
    pub overhead_vs_floor: f64,
    /// Handshakes per suite pass: one per run, two for a run that primes a session first.
    #[serde(default)]
    pub handshakes: usize,
    /// Plaintext the implementations wrote and the peer read in one pass, all runs.
    #[serde(default)]
    pub bytes_moved: u64,
    /// Cost of moving one MiB with a bare write/read loop, per implementation (microseconds).
    #[serde(default)]
    pub bare_us_per_mib: Vec<(String, f64)>,
    /// The physical floor: the handshake floor plus the bare cost of the bytes the suite
    /// moves, per implementation (seconds).
    #[serde(default)]
    pub physical_floor_seconds: f64,
    /// seconds_1_thread / physical_floor_seconds (median of per-repetition ratios).
    #[serde(default)]
    pub overhead_vs_physical_floor: f64,
    /// A whole `sslwrite conformance --jobs 2` (start-up, suite, report) with worker
    /// isolation, and the same in-process (filled by the caller, which runs them as children).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub isolated_seconds_2_threads: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub whole_run_in_process_seconds_2_threads: Option<f64>,
    /// The same two with one thread (`--jobs 1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub isolated_seconds_1_thread: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub whole_run_in_process_seconds_1_thread: Option<f64>,
    /// The scenarios furthest above their own physical floor (all their runs, each timed
    /// alone on one thread), heaviest first.
    #[serde(default)]
    pub above_floor: Vec<ScenarioCost>,
}

/// One scenario's runs, all implementations: time taken and physical floor.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ScenarioCost {
    pub scenario: String,
    pub seconds: f64,
    pub floor_seconds: f64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct HandshakeCost {
    pub implementation: String,
    pub tls: Tls,
    /// The implementation's role (the OpenSSL peer plays the other).
    pub role: Role,
    pub microseconds: f64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BulkBench {
    pub bytes: u64,
    /// Bytes per write call (the same in both loops).
    pub chunk: usize,
    /// Median over the pairs.
    pub harness_seconds: f64,
    pub bare_seconds: f64,
    /// The median of harness / bare over pairs run back to back (each pair sees the same
    /// machine state, so the noise between pairs cancels).
    pub ratio: f64,
    /// Every pair's ratio, sorted.
    pub pair_ratios: Vec<f64>,
    pub harness_peak_rss_mib: f64,
    pub bare_peak_rss_mib: f64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FuzzBench {
    pub inputs: usize,
    pub differential_execs_per_second: f64,
    /// Per implementation.
    pub invariants_execs_per_second: Vec<(String, f64)>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ScalingBench {
    pub n_runs: usize,
    pub n_seconds: f64,
    pub two_n_seconds: f64,
    /// two_n_seconds / n_seconds (2.0 is linear).
    pub ratio: f64,
    /// Process start to a loaded, ready harness with nothing to run (filled by the caller).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub startup_seconds: Option<f64>,
}

/// The median (upper median for an even count) of `v`.
pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn timed(f: impl FnOnce()) -> f64 {
    let t = Instant::now();
    f();
    t.elapsed().as_secs_f64()
}

/// One bare handshake: the implementation in `role`, the OpenSSL peer in the other, over a
/// roomy pipe, nothing else.
fn bare_handshake(imp: &dyn Implementation, peer: &dyn Implementation, tls: Tls, role: Role) {
    let pipe = Pipe::new(&PipeConfig {
        capacity_to_peer: 1 << 20,
        capacity_to_impl: 1 << 20,
        blocking: false,
    });
    let modes = Modes {
        auto_retry: true,
        ..Modes::default()
    };
    let mut c = imp
        .connect(
            &ConnConfig::new(role, tls, modes),
            pipe.endpoint(Side::Impl),
        )
        .expect("bench connection");
    let mut s = peer
        .connect(
            &ConnConfig::new(role.other(), tls, modes),
            pipe.endpoint(Side::Peer),
        )
        .expect("bench peer");
    for _ in 0..16 {
        // The client speaks first.
        let (a, b) = match role {
            Role::Client => (c.handshake(), s.handshake()),
            Role::Server => {
                let b = s.handshake();
                (c.handshake(), b)
            }
        };
        if a.outcome.is_ok() && b.outcome.is_ok() {
            return;
        }
    }
    panic!("bench handshake did not finish");
}

/// Handshakes per timed batch.
const HANDSHAKE_BATCH: usize = 20;

/// The cost of one bare handshake per implementation, version and role: the median, over
/// `batches` batches, of a batch's mean. The suite's time is a sum over runs, so its floor is
/// a sum of means (a median of single handshakes would leave out their slow tail).
pub fn handshake_costs(impls: &[Box<dyn Implementation>], batches: usize) -> Vec<HandshakeCost> {
    let peer = crate::impls::openssl::OpensslImpl::new();
    let mut out = Vec::new();
    for imp in impls {
        for tls in [Tls::V12, Tls::V13] {
            for role in [Role::Client, Role::Server] {
                // Warm the caches (contexts, configs) once.
                bare_handshake(imp.as_ref(), &peer, tls, role);
                let means: Vec<f64> = (0..batches.max(1))
                    .map(|_| {
                        timed(|| {
                            for _ in 0..HANDSHAKE_BATCH {
                                bare_handshake(imp.as_ref(), &peer, tls, role);
                            }
                        }) / HANDSHAKE_BATCH as f64
                    })
                    .collect();
                out.push(HandshakeCost {
                    implementation: imp.info().name,
                    tls,
                    role,
                    microseconds: median(means) * 1e6,
                });
            }
        }
    }
    out
}

/// Seconds of one bare handshake of `name` in this version and role (0 when not measured).
fn cost_of(costs: &[HandshakeCost], name: &str, tls: Tls, role: Role) -> f64 {
    costs
        .iter()
        .find(|c| c.implementation == name && c.tls == tls && c.role == role)
        .map_or(0.0, |c| c.microseconds / 1e6)
}

/// Seconds the bare loop takes to move `bytes` at `us_per_mib` microseconds per MiB.
fn data_cost(us_per_mib: f64, bytes: u64) -> f64 {
    us_per_mib * 1e-6 * bytes as f64 / f64::from(1u32 << 20)
}

/// One repetition of the suite measurement: the suite's times and, right after, its floors.
struct Rep {
    one: f64,
    two: f64,
    costs: Vec<HandshakeCost>,
    bare_us_per_mib: Vec<(String, f64)>,
    floor: f64,
    physical: f64,
}

/// Suite throughput and the handshake floor.
pub fn suite_bench(
    scenarios: &[Scenario],
    impls: &[Box<dyn Implementation>],
    reps: usize,
) -> SuiteBench {
    let reference = crate::impls::openssl::OpensslImpl::new();
    let runs = suite::Selection::all().runs(scenarios);
    let n = runs.len() * impls.len();
    let pass = |jobs| timed(|| drop(suite::play(&runs, impls, &reference, jobs, &|| {})));
    // Warm-up (certificates, contexts, configs), and what one pass moves, per implementation.
    let traces = suite::play(&runs, impls, &reference, 2, &|| {});
    let moved: Vec<u64> = (0..impls.len())
        .map(|i| traces.iter().map(|t| t[i].delivery.received).sum())
        .collect();
    drop(traces);
    // A run that resumes a session primes one first: two full handshakes (an upper bound:
    // the resumed one is abbreviated).
    let primes = |s: &Scenario| 1 + usize::from(s.connection.resume || s.connection.early_data);
    let handshakes = runs.iter().map(|(s, _)| primes(s)).sum::<usize>() * impls.len();
    // Each repetition measures the suite and its floors back to back, and the overheads are
    // the medians of the per-repetition ratios: the machine's speed drifts over seconds, and
    // a ratio of two figures taken far apart would measure the drift.
    let mut reps_out = Vec::new();
    for _ in 0..reps {
        let one = pass(1);
        let two = pass(2);
        let costs = handshake_costs(impls, 2);
        let bare_us_per_mib: Vec<(String, f64)> = impls
            .iter()
            .map(|imp| {
                const MIB: u64 = 64;
                let secs = bulk_bare(imp.as_ref(), MIB << 20, BULK_CHUNK);
                (imp.info().name, secs / MIB as f64 * 1e6)
            })
            .collect();
        let floor: f64 = runs
            .iter()
            .flat_map(|(s, key)| {
                impls
                    .iter()
                    .map(move |i| (i.info().name, key.tls, key.role, primes(s)))
            })
            .map(|(name, tls, role, n)| n as f64 * cost_of(&costs, &name, tls, role))
            .sum();
        let data_floor: f64 = bare_us_per_mib
            .iter()
            .zip(&moved)
            .map(|((_, us), bytes)| data_cost(*us, *bytes))
            .sum();
        reps_out.push(Rep {
            one,
            two,
            costs,
            bare_us_per_mib,
            floor,
            physical: floor + data_floor,
        });
    }
    let med = |f: &dyn Fn(&Rep) -> f64| median(reps_out.iter().map(f).collect());
    let one = med(&|r| r.one);
    let two = med(&|r| r.two);
    let floor = med(&|r| r.floor);
    let physical = med(&|r| r.physical);
    let overhead = med(&|r| r.one / r.floor);
    let physical_overhead = med(&|r| r.one / r.physical);
    let speedup = med(&|r| r.one / r.two);
    let costs: Vec<HandshakeCost> = reps_out[0]
        .costs
        .iter()
        .enumerate()
        .map(|(k, c)| HandshakeCost {
            microseconds: med(&|r| r.costs[k].microseconds),
            ..c.clone()
        })
        .collect();
    let bare_us_per_mib: Vec<(String, f64)> = reps_out[0]
        .bare_us_per_mib
        .iter()
        .enumerate()
        .map(|(k, (name, _))| (name.clone(), med(&|r| r.bare_us_per_mib[k].1)))
        .collect();
    // Where the time above the physical floor goes: each run timed alone (one thread), less
    // its own floor, summed per scenario.
    let us_per_mib = |name: &str| {
        bare_us_per_mib
            .iter()
            .find(|(n, _)| n == name)
            .map_or(0.0, |(_, us)| *us)
    };
    let mut excess: Vec<(String, f64, f64)> = Vec::new();
    for (s, key) in &runs {
        for imp in impls {
            let name = imp.info().name;
            let mut moved = 0;
            let secs = median(
                (0..reps.max(3))
                    .map(|_| {
                        let t = Instant::now();
                        let trace = crate::runner::run(imp.as_ref(), &reference, s, key);
                        let secs = t.elapsed().as_secs_f64();
                        moved = trace.delivery.received;
                        secs
                    })
                    .collect(),
            );
            let own_floor = primes(s) as f64 * cost_of(&costs, &name, key.tls, key.role)
                + data_cost(us_per_mib(&name), moved);
            match excess.iter_mut().find(|(id, _, _)| *id == s.id) {
                Some(e) => {
                    e.1 += secs;
                    e.2 += own_floor;
                }
                None => excess.push((s.id.clone(), secs, own_floor)),
            }
        }
    }
    excess.sort_by(|a, b| (b.1 - b.2).total_cmp(&(a.1 - a.2)));
    let heaviest = excess
        .into_iter()
        .take(12)
        .map(|(scenario, seconds, floor_seconds)| ScenarioCost {
            scenario,
            seconds,
            floor_seconds,
        })
        .collect();
    SuiteBench {
        runs: n,
        seconds_1_thread: one,
        seconds_2_threads: two,
        runs_per_second_1_thread: n as f64 / one,
        runs_per_second_2_threads: n as f64 / two,
        speedup_2_threads: speedup,
        handshake_us: costs,
        handshake_floor_seconds: floor,
        overhead_vs_floor: overhead,
        handshakes,
        bytes_moved: moved.iter().sum(),
        bare_us_per_mib,
        physical_floor_seconds: physical,
        overhead_vs_physical_floor: physical_overhead,
        isolated_seconds_2_threads: None,
        whole_run_in_process_seconds_2_threads: None,
        isolated_seconds_1_thread: None,
        whole_run_in_process_seconds_1_thread: None,
        above_floor: heaviest,
    }
}

/// The bulk scenario: `total` bytes in writes of `chunk` bytes through a 1 MiB transport.
pub fn bulk_scenario(total: u64, chunk: usize) -> Scenario {
    let text = format!(
        r#"{{"id": "bench-bulk", "title": "bulk", "clauses": ["W1"], "tls": ["1.3"],
            "modes": [["auto_retry"]], "transport": {{"capacity": 1048576}},
            "steps": [{{"op": "handshake"}},
                      {{"op": "write_stream", "total": {total}, "chunk": {chunk}}}]}}"#
    );
    Scenario::parse(Path::new("bench-bulk.json"), text.as_bytes()).expect("bench scenario")
}

/// The bulk path through the runner; returns seconds, and checks every byte arrived.
pub fn bulk_through_harness(imp: &dyn Implementation, total: u64, chunk: usize) -> f64 {
    let s = bulk_scenario(total, chunk);
    let key = RunKey {
        id: s.id.clone(),
        tls: Tls::V13,
        role: Role::Client,
        modes: s.modes[0],
    };
    let reference = crate::impls::openssl::OpensslImpl::new();
    let t = Instant::now();
    let trace = crate::runner::run(imp, &reference, &s, &key);
    let secs = t.elapsed().as_secs_f64();
    assert_eq!(trace.delivery.received, total, "bulk run lost bytes");
    assert!(trace.violations.is_empty(), "{:?}", trace.violations);
    secs
}

/// The same bytes with a bare write/read loop over the same transport: no runner, no ledger.
pub fn bulk_bare(imp: &dyn Implementation, total: u64, chunk: usize) -> f64 {
    let pipe = Pipe::new(&PipeConfig {
        capacity_to_peer: 1 << 20,
        capacity_to_impl: 1 << 20,
        blocking: false,
    });
    let peer = crate::impls::openssl::OpensslImpl::new();
    let modes = Modes {
        auto_retry: true,
        ..Modes::default()
    };
    let t = Instant::now();
    let mut c = imp
        .connect(
            &ConnConfig::new(Role::Client, Tls::V13, modes),
            pipe.endpoint(Side::Impl),
        )
        .expect("bench connection");
    let mut s = peer
        .connect(
            &ConnConfig::new(Role::Server, Tls::V13, modes),
            pipe.endpoint(Side::Peer),
        )
        .expect("bench peer");
    for _ in 0..16 {
        let a = c.handshake().outcome.is_ok();
        let b = s.handshake().outcome.is_ok();
        if a && b {
            break;
        }
    }
    let chunk = vec![0x5au8; chunk];
    let mut sink = vec![0u8; 1 << 14];
    let (mut sent, mut got) = (0u64, 0u64);
    while got < total {
        if sent < total {
            let n = chunk.len().min((total - sent) as usize);
            if let Outcome::Ok(w) = c.write(&chunk[..n]).outcome {
                sent += w;
            }
        }
        while let Outcome::Ok(r) = s.read(&mut sink).outcome {
            got += r;
        }
    }
    t.elapsed().as_secs_f64()
}

/// Executions per second of the fuzz oracles over `n` fixed generated inputs.
pub fn fuzz_bench(n: usize) -> FuzzBench {
    let o = Oracles::load();
    let inputs: Vec<_> = (0..n as u64)
        .filter_map(|seed| {
            let bytes = fuzzing::seed_bytes(seed, 256);
            o.generate(&bytes).ok()
        })
        .collect();
    let diff = timed(|| {
        for g in &inputs {
            let _ = fuzzing::differential(&o, g);
        }
    });
    let invariants = o
        .impls
        .iter()
        .map(|imp| {
            let t = timed(|| {
                for g in &inputs {
                    let _ = fuzzing::invariants(&o, imp.as_ref(), g);
                }
            });
            (imp.info().name, inputs.len() as f64 / t)
        })
        .collect();
    FuzzBench {
        inputs: inputs.len(),
        differential_execs_per_second: inputs.len() as f64 / diff,
        invariants_execs_per_second: invariants,
    }
}

/// Suite time for N and 2N runs (the run list twice), single thread.
pub fn scaling_bench(
    scenarios: &[Scenario],
    impls: &[Box<dyn Implementation>],
    reps: usize,
) -> ScalingBench {
    let reference = crate::impls::openssl::OpensslImpl::new();
    let runs = suite::Selection::all().runs(scenarios);
    let doubled: Vec<_> = runs.iter().chain(runs.iter()).cloned().collect();
    let time = |r: &[(&Scenario, RunKey)]| {
        median(
            (0..reps)
                .map(|_| timed(|| drop(suite::play(r, impls, &reference, 1, &|| {}))))
                .collect(),
        )
    };
    let n = time(&runs);
    let two = time(&doubled);
    ScalingBench {
        n_runs: runs.len() * impls.len(),
        n_seconds: n,
        two_n_seconds: two,
        ratio: two / n,
        startup_seconds: None,
    }
}

/// This process's peak resident set size in MiB (Linux: VmHWM).
pub fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}
