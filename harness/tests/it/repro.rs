//! The C reproducers checked against the harness: for every run of the default suite that the
//! generator can express, `repro::generate` writes the C file, `cc` compiles it against the
//! system libssl, and its output must equal, line for line, what `repro::expected_lines`
//! renders from the harness's trace of the same run on the linked OpenSSL (both ends of the
//! same library, as in the C program). An independent program re-plays every scenario.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sslwrite::impls::openssl::OpensslImpl;
use sslwrite::scenario::{self, RunKey, Scenario};
use sslwrite::{repro, runner};

use crate::common::TempDir;

/// Compilations and runs at a time (the machine's cores are shared).
const PARALLEL: usize = 2;
/// A reproducer that runs longer than this is a failure (the slowest, 8 MiB through a
/// 20000-byte pipe, takes well under a second).
const RUN_LIMIT: Duration = Duration::from_secs(60);

fn suite() -> Vec<Scenario> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    scenario::load_dir(&dir).expect("the default suite loads")
}

/// `cc` flags for the system libssl: pkg-config's when it knows OpenSSL, else the defaults.
fn libssl_flags() -> Vec<String> {
    let pc = Command::new("pkg-config")
        .args(["--cflags", "--libs", "openssl"])
        .output();
    match pc {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout)
            .split_whitespace()
            .map(String::from)
            .collect(),
        _ => vec!["-lssl".into(), "-lcrypto".into()],
    }
}

/// Compiles `c` into `bin` and runs it: its stdout and stderr, or what went wrong.
fn build_and_run(c: &Path, bin: &Path, flags: &[String]) -> Result<(String, String), String> {
    let cc = Command::new("cc")
        .arg("-w")
        .arg(c)
        .arg("-o")
        .arg(bin)
        .args(flags)
        .output()
        .map_err(|e| format!("cannot run cc: {e}"))?;
    if !cc.status.success() {
        return Err(format!(
            "cc failed:\n{}",
            String::from_utf8_lossy(&cc.stderr)
        ));
    }
    let mut child = Command::new(bin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", bin.display()))?;
    let mut stdout = child.stdout.take().expect("piped");
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let started = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().map_err(|e| e.to_string())? {
            break st;
        }
        if started.elapsed() > RUN_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("did not end within {RUN_LIMIT:?}"));
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let out = reader.join().unwrap_or_default();
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut err);
    }
    if !status.success() {
        return Err(format!(
            "exited with {status}; stderr:\n{err}\nstdout:\n{out}"
        ));
    }
    Ok((out, err))
}

struct Job {
    name: String,
    c: PathBuf,
    expected: Vec<String>,
}

/// What playing a set of scenarios both ways found.
struct Played {
    all: usize,
    expressed: usize,
    refused: Vec<(String, repro::Refusal)>,
    /// One text per run whose C program printed other lines than the harness recorded (or
    /// did not build or run).
    failures: Vec<String>,
    /// Each expressed run and how the harness's trace of it ended (`end ...`).
    ends: Vec<(String, String)>,
}

/// Every run of `scenarios`: the harness's trace on the linked OpenSSL, and, for each run the
/// generator expresses, the C program's output compared with it.
fn play(scenarios: &[Scenario], label: &str) -> Played {
    let openssl = OpensslImpl::new();
    let tmp = TempDir::new("repro", label, &[]);
    let mut jobs = Vec::new();
    let mut all = 0;
    let mut refused: Vec<(String, repro::Refusal)> = Vec::new();
    for s in scenarios {
        for key in s.runs() {
            all += 1;
            let name = key.to_string();
            if let Err(why) = repro::check(s, &key) {
                refused.push((name, why));
                continue;
            }
            let trace = runner::run(&openssl, &openssl, s, &key);
            let c = repro::generate(s, &key, None).expect("checked as expressible");
            let path = tmp.path(&format!("{}.c", file_name(&key)));
            std::fs::write(&path, c).unwrap();
            jobs.push(Job {
                name,
                c: path,
                expected: repro::expected_lines(&trace),
            });
        }
    }
    let flags = libssl_flags();
    let library = format!(
        "repro: {} (",
        sslwrite::contract::Implementation::info(&openssl).version
    );
    let next = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..PARALLEL {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(job) = jobs.get(i) else {
                    break;
                };
                let bin = job.c.with_extension("bin");
                let problem = match build_and_run(&job.c, &bin, &flags) {
                    // The trace is the linked OpenSSL's: the program must run on the same one.
                    Ok((_, err)) if !err.starts_with(&library) => Some(format!(
                        "the program runs on another libssl than the harness links ({library:?}); its stderr:\n{err}"
                    )),
                    Ok((out, _)) => {
                        let got: Vec<&str> = out.lines().collect();
                        (got != job.expected).then(|| {
                            format!(
                                "harness:\n  {}\nC program:\n  {}",
                                job.expected.join("\n  "),
                                got.join("\n  ")
                            )
                        })
                    }
                    Err(e) => Some(e),
                };
                if let Some(p) = problem {
                    failures.lock().unwrap().push(format!(
                        "{} ({}):\n{p}",
                        job.name,
                        job.c.display()
                    ));
                }
                let _ = std::fs::remove_file(&bin);
            });
        }
    });
    let ends = jobs
        .iter()
        .map(|j| {
            let end = j.expected.iter().find(|l| l.starts_with("end "));
            (j.name.clone(), end.cloned().unwrap_or_default())
        })
        .collect();
    Played {
        ends,
        all,
        expressed: jobs.len(),
        refused,
        failures: failures.into_inner().unwrap(),
    }
}

#[test]
fn every_expressible_run_prints_what_the_harness_recorded() {
    let Played {
        all,
        expressed,
        refused,
        failures,
        ..
    } = play(&suite(), "suite");
    let percent = 100.0 * expressed as f64 / all as f64;
    println!(
        "repro: {expressed} of {all} runs expressed ({percent:.1}%), {} differ",
        failures.len()
    );
    for (run, why) in &refused {
        println!("  refused {run}: {why}");
    }
    assert!(
        failures.is_empty(),
        "{} of {expressed} reproducers differ from the harness:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    assert!(
        expressed * 100 >= all * 80,
        "only {expressed} of {all} runs can be expressed ({percent:.1}%); at least 80% must be"
    );
    // A run is refused only for a step kind or option the generator does not express (each
    // is named above), never for anything else.
    for (run, why) in &refused {
        assert!(
            matches!(
                why,
                repro::Refusal::Step { .. } | repro::Refusal::Field { .. }
            ),
            "{run} refused: {why}"
        );
    }
}

/// Peer options and record shapes that no shipped scenario uses yet, each played both ways:
/// the peer server's P-256 and RSA certificates, its own cipher list and groups, a ticket
/// count with a split record, an injected record of filler in another version, and re-sealed
/// records under other suites and key generations. The RSA
/// run's 40-byte transport towards the implementation makes the sizes of the peer's records
/// (its certificate, key exchange, cipher) show in the call counts and the read's outcome.
#[test]
fn peer_options_no_shipped_scenario_uses_print_what_the_harness_recorded() {
    let scenario = |json: &str| {
        Scenario::parse(Path::new("extra.json"), json.as_bytes()).expect("the scenario loads")
    };
    let exchange = r#"{"op":"handshake"},{"op":"write","len":1000},{"op":"peer_read"},
        {"op":"peer_write","len":10},{"op":"read","len":100},{"op":"write","len":100},{"op":"peer_read"}"#;
    let scenarios = [
        scenario(&format!(
            r#"{{"id":"x-peer-p256","title":"t","clauses":["W1"],"roles":["client"],
                "connection":{{"peer":{{"key":"p256","groups":"P-256"}}}},"steps":[{exchange}]}}"#
        )),
        scenario(&format!(
            r#"{{"id":"x-peer-rsa","title":"t","clauses":["W1"],"roles":["client"],"tls":["1.2"],
                "connection":{{"peer":{{"key":"rsa2048","cipher":"ECDHE-RSA-AES128-SHA","groups":"P-256"}}}},
                "transport":{{"capacity_to_impl":40}},
                "steps":[{exchange}]}}"#
        )),
        scenario(&format!(
            r#"{{"id":"x-peer-tickets-split","title":"t","clauses":["W1"],"roles":["client"],"tls":["1.3"],
                "connection":{{"peer":{{"tls13_tickets":5}}}},
                "steps":[{exchange},{{"op":"peer_write_split","len":3000,"first":1000}},
                    {{"op":"read","len":5000}},{{"op":"peer_write","len":0}},{{"op":"read","len":5000}}]}}"#
        )),
        scenario(
            r#"{"id":"x-inject-filler","title":"t","clauses":["W11"],"roles":["client","server"],
                "steps":[{"op":"handshake"},{"op":"inject_record","content_type":22,"version":"0301","len":7},
                    {"op":"read","len":100},{"op":"write","len":100},{"op":"peer_read"}]}"#,
        ),
        // A handshake inside a write_all over a trickle: a call the trickle refused is not a
        // stall (Pipe::take_trickle_refusal, tests/it/trickle.rs), in the C loop too.
        scenario(
            r#"{"id":"x-trickle-handshake","title":"t","clauses":["I3"],"roles":["client"],"tls":["1.3"],
                "modes":[[]],"transport":{"capacity":4096},
                "steps":[{"op":"transport","capacity_to_peer":40000,"trickle":1},
                    {"op":"write_all","len":1,"api":"write_ex","max_calls":2000}]}"#,
        ),
        // Re-sealed records under TLS 1.2 ChaCha20 (no explicit nonce), after a TLS 1.3 key
        // update, and the reason a CBC suite cannot have one.
        scenario(
            r#"{"id":"x-reseal-chacha","title":"t","clauses":["W1"],"roles":["client","server"],"tls":["1.2"],
                "connection":{"cipher":"ECDHE-ECDSA-CHACHA20-POLY1305"},
                "steps":[{"op":"handshake"},{"op":"peer_empty_record"},{"op":"peer_warning_alert"},
                    {"op":"peer_write","len":10},{"op":"read","len":100},{"op":"write","len":10},{"op":"peer_read"}]}"#,
        ),
        scenario(
            r#"{"id":"x-reseal-key-update","title":"t","clauses":["W1"],"roles":["client","server"],"tls":["1.3"],
                "steps":[{"op":"handshake"},{"op":"peer_key_update","requested":false},
                    {"op":"peer_warning_alert","description":90},{"op":"peer_empty_record"},
                    {"op":"peer_write","len":10},{"op":"read","len":100},{"op":"write","len":10},{"op":"peer_read"}]}"#,
        ),
        scenario(
            r#"{"id":"x-reseal-cbc","title":"t","clauses":["W1"],"tls":["1.2"],
                "connection":{"cipher":"ECDHE-ECDSA-AES128-SHA"},
                "steps":[{"op":"handshake"},{"op":"peer_empty_record"},{"op":"read","len":100}]}"#,
        ),
    ];
    let played = play(&scenarios, "extra");
    assert_eq!(played.all, 14, "the runs of the eight scenarios");
    assert_eq!(
        (played.expressed, played.refused.len()),
        (14, 0),
        "{:?}",
        played.refused
    );
    assert!(
        played.failures.is_empty(),
        "{} reproducers differ from the harness:\n\n{}",
        played.failures.len(),
        played.failures.join("\n\n")
    );
    // Every option took effect on both sides: no run was skipped for one, but the CBC run
    // that cannot re-seal.
    for (run, end) in &played.ends {
        let want = if run.starts_with("x-reseal-cbc/") {
            "end skip at step 1: the peer's record could not be re-sealed: the peer's cipher suite 0xc009 is not an AES-GCM or ChaCha20-Poly1305 suite; only AEAD records are re-sealed"
        } else {
            "end completed"
        };
        assert_eq!(end, want, "{run}");
    }
}

/// A run's name as a file name.
fn file_name(key: &RunKey) -> String {
    key.to_string().replace(['/', '+', '.'], "_")
}

#[test]
fn the_cli_writes_the_file_and_refuses_what_it_cannot_express() {
    let tmp = TempDir::new("repro", "cli", &[]);
    let out = tmp.path("z.c");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let ok = Command::new(env!("CARGO_BIN_EXE_sslwrite"))
        .current_dir(&root)
        .args(["repro", "z-write-zero/tls1.3/client/auto_retry", "-o"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let c = std::fs::read_to_string(&out).unwrap();
    assert!(c.contains(" *   cc repro.c -lssl -lcrypto && ./a.out\n"));
    assert!(c.contains(" * What the harness observed (sslwrite's linked OpenSSL "));
    assert!(
        c.contains(" *   1 write buf=0 content=stream len=0 syscall ret=0\n"),
        "{c}"
    );
    let refused = Command::new(env!("CARGO_BIN_EXE_sslwrite"))
        .current_dir(&root)
        .args(["repro", "z-write-zero/tls1.3/client/auto_retry/tcp", "-o"])
        .arg(tmp.path("tcp.c"))
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&refused.stderr),
        "error: cannot reproduce z-write-zero/tls1.3/client/auto_retry/tcp: the reproducer plays over the in-memory pipe only; a /tcp run cannot be expressed\n"
    );
    assert!(!tmp.path("tcp.c").exists(), "no file for a refused run");
    let unknown = Command::new(env!("CARGO_BIN_EXE_sslwrite"))
        .current_dir(&root)
        .args(["repro", "no-such/tls1.2/client/auto_retry"])
        .output()
        .unwrap();
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr)
        .contains("no run \"no-such/tls1.2/client/auto_retry\""));
}
