//! Worker isolation end to end, on the real binary: the test-only `faulty` implementation
//! aborts, segfaults (a null write inside libcrypto), hangs and panics at chosen steps; the
//! suite finishes, those runs say what happened, every other run is intact. And a stop signal
//! (SIGTERM, SIGINT) mid-suite writes what there is, marked incomplete, with exit 143/130.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common;

/// A temporary folder for one test, with a `scenarios/` folder in it.
fn dir(name: &str) -> common::TempDir {
    common::TempDir::new("iso", name, &["scenarios"])
}

/// A TLS 1.3 client scenario: handshake, a 100-byte write, then a write of `len` bytes (where
/// the faulty implementation strikes, if it is one of its lengths).
fn scenario(dir: &Path, id: &str, len: u64) {
    let text = format!(
        r#"{{"id": "{id}", "title": "write {len} bytes", "clauses": ["I4", "W1"], "tls": ["1.3"],
            "steps": [{{"op": "handshake"}}, {{"op": "write", "len": 100}}, {{"op": "peer_read"}},
                      {{"op": "write", "len": {len}}}, {{"op": "peer_read"}}]}}"#
    );
    std::fs::write(dir.join("scenarios").join(format!("{id}.json")), text).unwrap();
}

const FAULTS: &str = "faulty:abort=7,segv=9,hang=11,panic=13";

fn sslwrite() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sslwrite"));
    c.env("NO_COLOR", "1");
    c
}

fn conformance(d: &common::TempDir, extra: &[&str]) -> Command {
    let mut c = sslwrite();
    c.args([
        "conformance",
        "--quiet",
        "--impl",
        "openssl",
        "--impl",
        FAULTS,
    ])
    .arg("--scenarios")
    .arg(d.path("scenarios"))
    .arg("--json")
    .arg(d.path("r.json"))
    .args(extra);
    c
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn report(d: &common::TempDir) -> Value {
    serde_json::from_slice(&std::fs::read(d.path("r.json")).unwrap()).unwrap()
}

fn run<'a>(r: &'a Value, id: &str) -> &'a Value {
    r["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == id)
        .unwrap_or_else(|| panic!("run {id} is in the report"))
}

#[test]
fn crashes_and_hangs_cost_their_run_only() {
    let d = dir("faults");
    for (id, len) in [
        ("a-fine", 50),
        ("b-abort", 7),
        ("c-segv", 9),
        ("d-hang", 11),
        ("e-panic", 13),
        ("f-fine", 60),
    ] {
        scenario(&d.0, id, len);
    }
    let started = Instant::now();
    let o = conformance(&d, &["--jobs", "2", "--timeout", "2"])
        .output()
        .unwrap();
    let took = started.elapsed();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(took < Duration::from_secs(20), "took {took:?}");
    let r = report(&d);
    assert_eq!(r["complete"], true);
    assert_eq!(r["summary"]["runs"], 6);
    assert_eq!(r["implementations"][1]["name"], "faulty");

    for id in ["a-fine", "f-fine"] {
        let s = run(&r, id);
        assert_eq!(s["verdict"], "agree", "{id}: {s}");
        for name in ["openssl", "faulty"] {
            assert_eq!(s["results"][name]["status"], "completed", "{id} {name}");
            assert_eq!(s["results"][name]["steps"].as_array().unwrap().len(), 5);
        }
    }
    for (id, signal) in [("b-abort", "SIGABRT"), ("c-segv", "SIGSEGV")] {
        let s = run(&r, id);
        assert_eq!(s["results"]["openssl"]["status"], "completed", "{id}");
        let t = &s["results"]["faulty"];
        assert_eq!(t["status"], "crash", "{id}: {t}");
        assert_eq!(t["signal"], signal, "{id}");
        assert_eq!(t["step"], 3, "{id}: the step it had begun");
        let steps = t["steps"].as_array().unwrap();
        assert_eq!(steps.len(), 4, "{id}: three steps done, the fourth crashed");
        assert_eq!(steps[1]["call"]["outcome"], "ok(100)");
        assert_eq!(
            steps[3]["call"]["outcome"],
            format!("crash({signal})").as_str()
        );
        let stderr = t["stderr"].as_str().unwrap_or_default();
        assert!(stderr.contains("faulty: "), "{id}: stderr tail {stderr:?}");
        assert!(t["violations"][0]["clause"] == "I4", "{id}");
        assert_eq!(s["verdict"], "diverge", "{id}");
        let d = &s["differences"][0];
        assert_eq!((&d["step"], &d["field"]), (&3.into(), &"outcome".into()));
        assert_eq!(d["value"], format!("crash({signal})").as_str());
    }
    let t = &run(&r, "d-hang")["results"]["faulty"];
    assert_eq!(t["status"], "timeout", "{t}");
    assert_eq!(t["step"], 3);
    assert_eq!(t["steps"][3]["call"]["outcome"], "timeout");
    assert!(t["message"]
        .as_str()
        .unwrap()
        .contains("no answer within 2 s"));
    // Every trace says how long its run took: the hung one at least the time limit, measured
    // by the harness; the others as the worker measured them.
    let hung = t["duration_us"].as_u64().expect("a hung run is timed");
    assert!((2_000_000..20_000_000).contains(&hung), "{hung} µs");
    for id in ["a-fine", "b-abort", "c-segv", "e-panic", "f-fine"] {
        for name in ["openssl", "faulty"] {
            let us = run(&r, id)["results"][name]["duration_us"].as_u64();
            assert!(
                us.is_some_and(|us| us > 0 && us < 2_000_000),
                "{id} {name}: {us:?}"
            );
        }
    }
    // A panic is caught inside the worker (the runner's own I4 path): no process died.
    let t = &run(&r, "e-panic")["results"]["faulty"];
    assert_eq!(t["status"], "crash", "{t}");
    assert!(t.get("signal").is_none(), "{t}");
    assert!(t["message"].as_str().unwrap().contains("faulty: panic"));
}

#[test]
fn the_faulty_implementation_is_never_run_by_default() {
    let d = dir("default");
    scenario(&d.0, "a-fine", 7);
    let o = sslwrite()
        .args(["conformance", "--quiet", "--scenarios"])
        .arg(d.path("scenarios"))
        .arg("--json")
        .arg(d.path("r.json"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let r = report(&d);
    let names: Vec<&str> = r["implementations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["openssl", "rustls"]);
}

#[test]
fn in_process_runs_give_the_same_report_as_workers() {
    let d = dir("same");
    for (id, len) in [("a-fine", 50), ("e-panic", 13)] {
        scenario(&d.0, id, len);
    }
    let mut reports = Vec::new();
    for mode in ["process", "none"] {
        let o = conformance(&d, &["--isolation", mode]).output().unwrap();
        assert_eq!(o.status.code(), Some(1), "{mode}: {}", text(&o));
        let mut r = report(&d);
        common::strip_timings(&mut r);
        reports.push(r);
    }
    assert_eq!(reports[0], reports[1]);
}

/// The workers of the harness process `pid` still alive (their command line names the
/// harness's private folder).
fn workers_of(pid: u32) -> Vec<String> {
    let mark = format!("sslwrite-workers-{pid}-");
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        if let Ok(cmd) = std::fs::read(e.path().join("cmdline")) {
            let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
            if cmd.contains(&mark) {
                out.push(cmd);
            }
        }
    }
    out
}

/// Waits until a worker of `pid` sits in step 3 (where the hang is): its progress file ends
/// with the step's beginning and stays so.
fn wait_for_the_hang(pid: u32) {
    let dir = std::env::temp_dir().join(format!("sslwrite-workers-{pid}-0"));
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        let read = || std::fs::read_to_string(dir.join("progress-0")).unwrap_or_default();
        let before = read();
        std::thread::sleep(Duration::from_millis(300));
        if before.ends_with("B 3\n") && read() == before {
            return;
        }
    }
    panic!("the worker never reached the hanging step");
}

fn stopped_by(signal: &str, code: i32) {
    let d = dir(signal);
    for (id, len) in [("a-fine", 50), ("b-fine", 60), ("z-hang", 11)] {
        scenario(&d.0, id, len);
    }
    let mut child = conformance(&d, &["--jobs", "1", "--timeout", "600"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    wait_for_the_hang(pid);
    assert!(!workers_of(pid).is_empty(), "a worker is running");
    let killed = Command::new("kill")
        .args([format!("-{signal}"), pid.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "the harness did not stop");
        std::thread::sleep(Duration::from_millis(20));
    };
    let o = child.wait_with_output().unwrap();
    assert_eq!(status.code(), Some(code), "{}", text(&o));
    assert!(
        text(&o).contains(&format!("stopped by SIG{signal}")),
        "{}",
        text(&o)
    );
    let r = report(&d);
    assert_eq!(r["complete"], false);
    assert_eq!(r["summary"]["passed"], false);
    let ids: Vec<&str> = r["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        ["a-fine", "b-fine"],
        "the finished runs, not the cut one"
    );
    assert!(
        workers_of(pid).is_empty(),
        "workers left: {:?}",
        workers_of(pid)
    );
    let leftovers: Vec<_> = std::fs::read_dir(&d.0)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn sigterm_writes_an_incomplete_report_and_exits_143() {
    stopped_by("TERM", 143);
}

#[test]
fn sigint_writes_an_incomplete_report_and_exits_130() {
    stopped_by("INT", 130);
}

/// A library whose answer hides a success (`faulty:lie=16384`: each 16 KiB write happens and
/// is reported as want_write) makes a contract-following caller send the same bytes again and
/// again. The stream loop stops by itself with I3 once far more went to the transport than the
/// write holds, long before the time limit, and the report stays small.
#[test]
fn a_write_loop_against_a_library_hiding_its_successes_stops_with_i3() {
    let d = dir("lie");
    let file = r#"{"id": "lie-stream", "title": "an 8 MiB stream in 16 KiB writes", "clauses": ["I3", "W4"],
        "tls": ["1.3"], "steps": [{"op": "handshake"},
        {"op": "write_stream", "total": 8388608, "chunk": 16384}]}"#;
    std::fs::write(d.path("scenarios").join("lie-stream.json"), file).unwrap();
    let started = Instant::now();
    let o = sslwrite()
        .args([
            "conformance",
            "--quiet",
            "--impl",
            "openssl",
            "--impl",
            "faulty:lie=16384",
        ])
        .arg("--scenarios")
        .arg(d.path("scenarios"))
        .arg("--json")
        .arg(d.path("r.json"))
        .output()
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    let r = report(&d);
    let t = &r["scenarios"][0]["results"]["faulty"];
    assert_eq!(t["status"], "completed", "{}", text(&o));
    let i3: Vec<&Value> = t["violations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["clause"] == "I3")
        .collect();
    assert_eq!(i3.len(), 1, "{}", t["violations"]);
    assert!(
        i3[0]["detail"]
            .as_str()
            .unwrap()
            .contains("went to the transport since the last confirmed write"),
        "{}",
        i3[0]
    );
    assert!(std::fs::metadata(d.path("r.json")).unwrap().len() < 1 << 20);
}

/// `sslwrite conformance` of `d`'s scenarios on the linked OpenSSL and the faulty library
/// `faults`, the JSON report in `r.json`.
fn with_faults(d: &common::TempDir, faults: &str) -> Command {
    let mut c = sslwrite();
    c.args([
        "conformance",
        "--quiet",
        "--impl",
        "openssl",
        "--impl",
        faults,
    ])
    .arg("--scenarios")
    .arg(d.path("scenarios"))
    .arg("--json")
    .arg(d.path("r.json"));
    c
}

/// A library that starts a child process and never waits for it (`faulty:fork=7`): the worker's
/// process group goes when the worker does, the child with it (issue 16).
#[test]
fn a_librarys_children_do_not_outlive_its_worker() {
    let d = dir("fork");
    scenario(&d.path(""), "forks", 7);
    let pids = d.path("pids");
    let out = with_faults(&d, "faulty:fork=7")
        .env("SSLWRITE_FAULTY_PIDS", &pids)
        .output()
        .unwrap();
    assert!(out.status.code().is_some(), "{}", text(&out));
    let pids = std::fs::read_to_string(&pids).expect("the faulty library started a child");
    let pids: Vec<u32> = pids.lines().map(|l| l.parse().unwrap()).collect();
    assert!(!pids.is_empty());
    for pid in pids {
        // Gone, or a zombie nobody has reaped yet: not running.
        let state = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|s| s.rsplit(')').next().map(|r| r.trim().chars().next()))
            .flatten();
        assert!(
            matches!(state, None | Some('Z') | Some('X')),
            "child {pid} still runs (state {state:?})"
        );
    }
}

/// A library that floods stderr (`faulty:flood=7`: 48 MiB, then abort): the worker keeps at
/// most 8 MiB of one run's stderr, says what it dropped, and the crash still has its tail.
#[test]
fn a_stderr_flood_is_capped() {
    let d = dir("flood");
    scenario(&d.path(""), "floods", 7);
    let out = with_faults(&d, "faulty:flood=7").output().unwrap();
    assert!(out.status.code().is_some(), "{}", text(&out));
    let r = report(&d);
    let t = &run(&r, "floods")["results"]["faulty"];
    assert_eq!(t["status"], "crash", "{t}");
    let stderr = t["stderr"].as_str().unwrap_or_default();
    assert!(stderr.contains("faulty: flooded stderr"), "{stderr:?}");
    assert!(
        stderr.starts_with("[sslwrite: ") && stderr.contains("of this run's stderr dropped"),
        "the tail says what was dropped: {:?}",
        &stderr[..stderr.len().min(300)]
    );
}

/// In JUnit a run whose implementation crashed or hung is an error (the test could not
/// finish), not a failure (issue 16).
#[test]
fn junit_counts_a_crash_as_an_error() {
    let d = dir("junit-crash");
    scenario(&d.path(""), "aborts", 7);
    let junit = d.path("r.xml");
    let out = with_faults(&d, "faulty:abort=7")
        .arg("--junit")
        .arg(&junit)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("errors=\"1\""), "{xml}");
    assert!(xml.contains("failures=\"0\""), "{xml}");
    assert!(
        xml.contains("<error message=\"the worker was killed by SIGABRT\" type=\"crash\">"),
        "{xml}"
    );
}
