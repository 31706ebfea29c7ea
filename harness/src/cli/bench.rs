//! `sslwrite bench` (`cargo xtask bench`): the figures of sslwrite::bench gathered, printed and
//! written to reports/bench.json; and its hidden helpers: `bench-bulk` (one bulk run, in a
//! process of its own for its peak RSS), `bench-startup` (start-up alone) and `bench-loop` (the
//! selected runs in this process, for a profiler). Exit 0; 2 when the scenarios cannot be
//! loaded, a bench child fails or the figures cannot be written.

use std::path::PathBuf;
use std::process::ExitCode;

use sslwrite::contract::Implementation;
use sslwrite::impls;

use super::{filter_glob, in_root, load, Failure, Outcome};

#[derive(clap::Args)]
pub struct BenchLoopArgs {
    /// Glob over scenario ids (all when absent).
    #[arg(long, value_name = "GLOB")]
    filter: Option<String>,
    /// How many times to play the selection.
    #[arg(long, default_value_t = 1)]
    passes: usize,
}

#[derive(clap::Args)]
pub struct BenchArgs {
    /// Where to write the figures as JSON.
    #[arg(long, value_name = "PATH")]
    json: Option<PathBuf>,
    /// Repetitions per measurement (the median is kept).
    #[arg(long, default_value_t = 5)]
    reps: usize,
    /// Size of the bulk run in MiB (0 skips it).
    #[arg(long, default_value_t = 1024)]
    bulk_mib: u64,
}

#[derive(clap::Args)]
pub struct BenchBulkArgs {
    /// `harness` (through the runner) or `bare` (a plain write/read loop).
    which: String,
    bytes: u64,
    /// Bytes per write call.
    #[arg(long, default_value_t = sslwrite::bench::BULK_CHUNK)]
    chunk: usize,
}

fn all_impls() -> Vec<Box<dyn Implementation>> {
    impls::NAMES
        .iter()
        .map(|n| impls::by_name(n).expect("built-in implementation"))
        .collect()
}

/// `sslwrite bench-bulk harness|bare BYTES [--chunk N]`: prints `{"seconds", "peak_rss_mib"}`.
pub fn bulk(a: BenchBulkArgs) -> Outcome {
    let imp = impls::openssl::OpensslImpl::new();
    let seconds = match a.which.as_str() {
        "harness" => sslwrite::bench::bulk_through_harness(&imp, a.bytes, a.chunk),
        "bare" => sslwrite::bench::bulk_bare(&imp, a.bytes, a.chunk),
        other => {
            return Err(Failure::error(format!(
                "bench-bulk takes harness or bare, not {other:?}"
            )))
        }
    };
    println!(
        "{{\"seconds\": {seconds}, \"peak_rss_mib\": {}}}",
        sslwrite::bench::peak_rss_mib()
    );
    Ok(ExitCode::SUCCESS)
}

/// `sslwrite bench-loop [--filter GLOB] [--passes N]`: the runs on one thread, nothing else.
pub fn run_loop(a: BenchLoopArgs) -> Outcome {
    let scenarios = load(&in_root("scenarios")?)?;
    let filter = filter_glob(a.filter.as_deref())?;
    let runs = sslwrite::suite::Selection { filter, tls: None }.runs(&scenarios);
    if runs.is_empty() {
        return Err(Failure::error("--filter selects no run"));
    }
    let list = all_impls();
    let reference = impls::openssl::OpensslImpl::new();
    let t = std::time::Instant::now();
    for _ in 0..a.passes {
        drop(sslwrite::suite::play(&runs, &list, &reference, 1, &|| {}));
    }
    let secs = t.elapsed().as_secs_f64();
    let n = runs.len() * list.len() * a.passes;
    println!(
        "{n} runs in {secs:.3} s ({:.0} us per run)",
        secs * 1e6 / n as f64
    );
    Ok(ExitCode::SUCCESS)
}

/// `sslwrite bench-startup`: loads the scenarios, builds the implementations and the
/// certificates, and plays nothing.
pub fn startup() -> Outcome {
    let scenarios = load(&in_root("scenarios")?)?;
    let list = all_impls();
    let _ = sslwrite::certs::pki();
    let _ = (scenarios.len(), list.len());
    Ok(ExitCode::SUCCESS)
}
/// Runs this binary's hidden `args` subcommand and parses the JSON line it prints.
fn child_json(args: &[String]) -> Result<serde_json::Value, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this binary: {e}"))?;
    let out = std::process::Command::new(exe)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run a bench child: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "bench child {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    serde_json::from_slice(&out.stdout).map_err(|e| format!("bench child output: {e}"))
}

/// `sslwrite bench [--json PATH] [--reps N] [--bulk-mib N]`.
pub fn run(a: BenchArgs) -> Outcome {
    use sslwrite::bench as b;
    let scenarios = load(&in_root("scenarios")?)?;
    let list = all_impls();
    let reps = a.reps.max(1);
    eprintln!("bench: suite throughput and handshake floor ({reps} repetitions)...");
    let suite = b::suite_bench(&scenarios, &list, reps);
    eprintln!("bench: worker isolation (the whole suite as a child, process vs none)...");
    let mut suite = suite;
    let whole = |isolation: &str, jobs: &str| -> Option<f64> {
        let exe = std::env::current_exe().ok()?;
        let out = std::env::temp_dir().join(format!("sslwrite-bench-{}.json", std::process::id()));
        let mut times = Vec::new();
        for _ in 0..reps {
            let t = std::time::Instant::now();
            let ok = std::process::Command::new(&exe)
                .args([
                    "conformance",
                    "--quiet",
                    "--jobs",
                    jobs,
                    "--isolation",
                    isolation,
                ])
                .arg("--json")
                .arg(&out)
                .stdout(std::process::Stdio::null())
                .status()
                .ok()?
                .code()
                .is_some_and(|c| c <= 1);
            if ok {
                times.push(t.elapsed().as_secs_f64());
            }
        }
        let _ = std::fs::remove_file(&out);
        times.sort_by(f64::total_cmp);
        times.get(times.len() / 2).copied()
    };
    suite.isolated_seconds_2_threads = whole("process", "2");
    suite.whole_run_in_process_seconds_2_threads = whole("none", "2");
    suite.isolated_seconds_1_thread = whole("process", "1");
    suite.whole_run_in_process_seconds_1_thread = whole("none", "1");
    eprintln!("bench: scaling...");
    let mut scaling = b::scaling_bench(&scenarios, &list, reps.min(3));
    let exe = std::env::current_exe();
    let startup: Vec<f64> = (0..reps)
        .filter_map(|_| {
            let t = std::time::Instant::now();
            let ok = exe
                .as_ref()
                .ok()
                .and_then(|e| {
                    std::process::Command::new(e)
                        .arg("bench-startup")
                        .status()
                        .ok()
                })
                .is_some_and(|s| s.success());
            ok.then(|| t.elapsed().as_secs_f64())
        })
        .collect();
    if !startup.is_empty() {
        let mut s = startup;
        s.sort_by(f64::total_cmp);
        scaling.startup_seconds = Some(s[s.len() / 2]);
    }
    eprintln!("bench: fuzz oracles...");
    let fuzz = b::fuzz_bench(200);
    let mut bulk = Vec::new();
    if a.bulk_mib > 0 {
        let bytes = a.bulk_mib << 20;
        let pairs = reps.max(5);
        for chunk in b::BULK_CHUNKS {
            eprintln!(
                "bench: bulk path, {} MiB in {} KiB writes ({pairs} pairs of harness and bare runs, each in its own process)...",
                a.bulk_mib,
                chunk >> 10
            );
            bulk.push(bulk_pairs(bytes, chunk, pairs).map_err(Failure::error)?);
        }
    }
    let report = b::BenchReport {
        schema_version: b::BENCH_SCHEMA,
        harness_version: env!("CARGO_PKG_VERSION").into(),
        host: std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_string())
            .unwrap_or_default(),
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        repetitions: reps,
        suite,
        bulk,
        fuzz,
        scaling,
    };
    print!("{}", bench_text(&report));
    let path = a.json.map_or_else(|| in_root("reports/bench.json"), Ok)?;
    let text = serde_json::to_vec_pretty(&report).expect("bench report serializes");
    sslwrite::render::write_atomic(&path, &text).map_err(Failure::error)?;
    println!("figures: {}", path.display());
    Ok(ExitCode::SUCCESS)
}

/// The bulk path at one write size: `pairs` harness runs and bare runs back to back, each in a
/// process of its own (for its peak RSS).
fn bulk_pairs(
    bytes: u64,
    chunk: usize,
    pairs: usize,
) -> Result<sslwrite::bench::BulkBench, String> {
    let one = |which: &str| -> Result<(f64, f64), String> {
        let v = child_json(&[
            "bench-bulk".into(),
            which.into(),
            bytes.to_string(),
            "--chunk".into(),
            chunk.to_string(),
        ])?;
        Ok((
            v["seconds"].as_f64().unwrap_or(f64::NAN),
            v["peak_rss_mib"].as_f64().unwrap_or(0.0),
        ))
    };
    let (mut h, mut b, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    let (mut h_rss, mut b_rss) = (0.0f64, 0.0f64);
    for _ in 0..pairs {
        let (hs, hr) = one("harness")?;
        let (bs, br) = one("bare")?;
        h.push(hs);
        b.push(bs);
        ratios.push(hs / bs);
        h_rss = h_rss.max(hr);
        b_rss = b_rss.max(br);
    }
    let median = sslwrite::bench::median;
    ratios.sort_by(f64::total_cmp);
    Ok(sslwrite::bench::BulkBench {
        bytes,
        chunk,
        harness_seconds: median(h),
        bare_seconds: median(b),
        ratio: median(ratios.clone()),
        pair_ratios: ratios,
        harness_peak_rss_mib: h_rss,
        bare_peak_rss_mib: b_rss,
    })
}

fn bench_text(r: &sslwrite::bench::BenchReport) -> String {
    let s = &r.suite;
    let mut out = format!(
        "suite: {} runs; 1 thread {:.3} s ({:.0} runs/s), 2 threads {:.3} s ({:.0} runs/s), speed-up {:.2}x\n",
        s.runs, s.seconds_1_thread, s.runs_per_second_1_thread, s.seconds_2_threads, s.runs_per_second_2_threads, s.speedup_2_threads
    );
    for h in &s.handshake_us {
        out.push_str(&format!(
            "  bare handshake {} TLS {} as {}: {:.0} us\n",
            h.implementation, h.tls, h.role, h.microseconds
        ));
    }
    out.push_str(&format!(
        "  handshake floor for the suite ({} handshakes) {:.3} s; overhead (1 thread) {:.2}x the floor\n",
        s.handshakes, s.handshake_floor_seconds, s.overhead_vs_floor
    ));
    let per_mib: Vec<String> = s
        .bare_us_per_mib
        .iter()
        .map(|(n, us)| format!("{n} {us:.0} us/MiB"))
        .collect();
    out.push_str(&format!(
        "  physical floor (handshakes + {} MiB moved at the bare loop's cost: {}) {:.3} s; overhead {:.2}x\n",
        s.bytes_moved >> 20,
        per_mib.join(", "),
        s.physical_floor_seconds,
        s.overhead_vs_physical_floor
    ));
    if !s.above_floor.is_empty() {
        out.push_str(
            "  furthest above their own floor (seconds taken / floor, all runs of the scenario):\n",
        );
        for c in &s.above_floor {
            out.push_str(&format!(
                "    {:<40} {:.4} s / {:.4} s (+{:.1} ms)\n",
                c.scenario,
                c.seconds,
                c.floor_seconds,
                (c.seconds - c.floor_seconds) * 1e3
            ));
        }
    }
    for (threads, isolated, in_process) in [
        (
            1,
            s.isolated_seconds_1_thread,
            s.whole_run_in_process_seconds_1_thread,
        ),
        (
            2,
            s.isolated_seconds_2_threads,
            s.whole_run_in_process_seconds_2_threads,
        ),
    ] {
        if let (Some(p), Some(n)) = (isolated, in_process) {
            out.push_str(&format!(
                "  whole `conformance` run, {threads} thread(s): isolated {p:.3} s, in-process {n:.3} s, ratio {:.2}x\n",
                p / n
            ));
        }
    }
    for b in &r.bulk {
        let (lo, hi) = (
            b.pair_ratios.first().copied().unwrap_or(f64::NAN),
            b.pair_ratios.last().copied().unwrap_or(f64::NAN),
        );
        out.push_str(&format!(
            "bulk {} MiB in {} KiB writes: harness {:.3} s, bare {:.3} s, ratio {:.3}x (median of {} pairs, {lo:.3}..{hi:.3}); peak RSS harness {:.0} MiB, bare {:.0} MiB\n",
            b.bytes >> 20, b.chunk >> 10, b.harness_seconds, b.bare_seconds, b.ratio, b.pair_ratios.len(), b.harness_peak_rss_mib, b.bare_peak_rss_mib
        ));
    }
    out.push_str(&format!(
        "fuzz ({} inputs): differential {:.0} execs/s",
        r.fuzz.inputs, r.fuzz.differential_execs_per_second
    ));
    for (n, e) in &r.fuzz.invariants_execs_per_second {
        out.push_str(&format!(", invariants[{n}] {e:.0} execs/s"));
    }
    out.push('\n');
    let sc = &r.scaling;
    out.push_str(&format!(
        "scaling: {} runs {:.3} s, {} runs {:.3} s, ratio {:.2} (2.00 is linear)",
        sc.n_runs,
        sc.n_seconds,
        sc.n_runs * 2,
        sc.two_n_seconds,
        sc.ratio
    ));
    if let Some(st) = sc.startup_seconds {
        out.push_str(&format!("; start-up of an empty run {:.3} s", st));
    }
    out.push('\n');
    out
}
