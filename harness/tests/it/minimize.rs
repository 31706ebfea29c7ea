//! `sslwrite minimize` end to end, on the real binary and real libraries: a crash buried in
//! twelve steps (the test-only `faulty` implementation segfaults on a write of 9 bytes, so
//! every candidate must be played in a worker process) minimizes to the one write; an
//! unexplained divergence (rustls's ok(0) for a zero-length write, under a known file that
//! lacks its entry) to its one step; the same scenario under a known file that explains it, and
//! a clean scenario, are refused (exit 2) and left as they were; the output file loads.

use std::path::Path;
use std::process::{Command, Output};

use sslwrite::contract::{Modes, Role, Tls};
use sslwrite::payload::Content;
use sslwrite::scenario::{Api, Len, Scenario, Step};

use crate::common;

fn sslwrite() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sslwrite"));
    c.env("NO_COLOR", "1");
    c
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// `sslwrite minimize FILE --known KNOWN ARGS`.
fn minimize(file: &Path, known: &Path, args: &[&str]) -> Output {
    sslwrite()
        .arg("minimize")
        .arg(file)
        .arg("--known")
        .arg(known)
        .args(["--jobs", "2"])
        .args(args)
        .output()
        .expect("the sslwrite binary runs")
}

fn write(len: u64) -> Step {
    Step::Write {
        len: Len(len),
        buf: 0,
        content: Content::Stream,
        expect: None,
        clause: None,
    }
}

/// Twelve steps of a TLS 1.3 client (two mode sets, so two runs) with a write of `len` among
/// them.
fn padded(id: &str, len: u64) -> String {
    format!(
        r#"{{"id": "{id}", "title": "a write of {len} bytes among eleven other steps",
            "clauses": ["W1", "I4"], "tls": ["1.3"], "modes": [["auto_retry"], ["partial_write"]],
            "transport": {{"capacity": 40000}},
            "steps": [{{"op": "handshake"}}, {{"op": "write", "len": 100}}, {{"op": "peer_read"}},
                      {{"op": "write", "len": 200}}, {{"op": "peer_read", "len": 50}},
                      {{"op": "write_all", "len": 3000, "max_calls": 50}}, {{"op": "peer_read"}},
                      {{"op": "write_ex", "len": 30}},
                      {{"op": "write", "len": {len}}}, {{"op": "peer_read"}},
                      {{"op": "write", "len": 20}}, {{"op": "shutdown"}}]}}"#
    )
}

fn empty_known(d: &common::TempDir) -> std::path::PathBuf {
    let known = d.path("known.json");
    std::fs::write(&known, r#"{"entries": []}"#).unwrap();
    known
}

#[test]
fn a_crash_buried_in_twelve_steps_minimizes_to_the_one_write() {
    let d = common::TempDir::new("min", "crash", &[]);
    let file = d.path("crash.json");
    std::fs::write(&file, padded("crash-buried", 9)).unwrap();
    let known = empty_known(&d);
    let o = minimize(
        &file,
        &known,
        &["--impl", "openssl", "--impl", "faulty:segv=9"],
    );
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(
        out.contains("finding: [I4/faulty/write] faulty broke I4 at step 8: crashed: the worker was killed by SIGSEGV"),
        "{out}"
    );
    assert!(out.contains("steps: 12 -> 1 ("), "{out}");
    assert!(
        out.contains("minimize: crash-buried/tls1.3/client/auto_retry"),
        "{out}"
    );
    // Written in place, and it loads: the one write, one run, the default configuration.
    let s = Scenario::load(&file).expect("the minimized file loads");
    assert_eq!(s.steps, vec![write(9)]);
    assert_eq!(
        (s.tls.clone(), s.roles.clone(), s.modes.clone()),
        (vec![Tls::V13], vec![Role::Client], vec![Modes::default()])
    );
    assert_eq!(s.transport, Default::default());
    assert_eq!(s.runs().len(), 1);
    assert_eq!((s.id.as_str(), s.clauses.len()), ("crash-buried", 2));
}

#[test]
fn an_unexplained_divergence_minimizes_to_its_step_and_a_known_one_is_refused() {
    let d = common::TempDir::new("min", "diverge", &[]);
    let file = d.path("zero.json");
    let original = padded("zero-buried", 0);
    std::fs::write(&file, &original).unwrap();

    // Under a known file that explains rustls's ok(0) (by its op pattern), nothing to do.
    let explained = d.path("explained.json");
    std::fs::write(
        &explained,
        r#"{"entries": [{"id": "zero-buried/rustls/W9", "scenario": "zero-buried",
            "implementation": "rustls", "families": ["rustls"],
            "op": {"names": ["write"], "args": {"len": 0}},
            "reference_value": "syscall", "value": "ok(0)", "clause": "W9",
            "reason": "OpenSSL 3.0 answers a zero-length SSL_write with 0 and SSL_ERROR_SYSCALL; rustls accepts the empty slice."}]}"#,
    )
    .unwrap();
    let o = minimize(
        &file,
        &explained,
        &["--impl", "openssl", "--impl", "rustls"],
    );
    let out = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}");
    assert!(
        out.contains("none of its runs shows a finding (every implementation agrees, or differs as a known entry explains): nothing to minimize, nothing written"),
        "{out}"
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), original);

    // Without the entry, the second run (partial_write) minimizes to the zero-length write
    // after a one-byte write_all (which makes the handshake: a zero-length write on a fresh
    // connection does not show the difference), its call cap shrunk as far as the handshake's
    // calls allow.
    let known = empty_known(&d);
    let out_file = d.path("min.json");
    let run = "zero-buried/tls1.3/client/partial_write";
    let o = minimize(
        &file,
        &known,
        &[
            "--impl",
            "openssl",
            "--impl",
            "rustls",
            "--run",
            run,
            "-o",
            out_file.to_str().unwrap(),
        ],
    );
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(
        out.contains("finding: [diverge/rustls/write/outcome/syscall->ok] rustls differs from openssl at step 8 (write buf=0 content=stream len=0)"),
        "{out}"
    );
    assert!(out.contains("steps: 12 -> 2 ("), "{out}");
    assert!(
        out.contains(", kept diverge/rustls/write/outcome/syscall->ok"),
        "{out}"
    );
    let s = Scenario::load(&out_file).expect("the output loads");
    let write_all = Step::WriteAll {
        len: Len(1),
        buf: 0,
        api: Api::Write,
        drain: None,
        max_calls: 3,
        expect: None,
        clause: None,
    };
    assert_eq!(s.steps, vec![write_all, write(0)]);
    assert_eq!(
        s.modes,
        vec![Modes::default()],
        "partial_write is not needed"
    );
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        original,
        "-o leaves the file"
    );

    // The minimized file still shows it (and is minimal already).
    let o = minimize(
        &out_file,
        &known,
        &["--impl", "openssl", "--impl", "rustls"],
    );
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("steps: 2 -> 2 ("), "{out}");
}

#[test]
fn a_clean_scenario_and_an_unknown_run_are_refused() {
    let d = common::TempDir::new("min", "clean", &[]);
    let file = d.path("clean.json");
    let original = padded("clean-buried", 7);
    std::fs::write(&file, &original).unwrap();
    let known = empty_known(&d);
    let o = minimize(
        &file,
        &known,
        &["--impl", "openssl", "--impl", "faulty:segv=9"],
    );
    let out = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}");
    assert!(out.contains("none of its runs shows a finding"), "{out}");
    let o = minimize(
        &file,
        &known,
        &["--run", "clean-buried/tls1.2/client/auto_retry"],
    );
    let out = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}");
    assert!(
        out.contains("no run \"clean-buried/tls1.2/client/auto_retry\"; its runs: clean-buried/tls1.3/client/auto_retry, clean-buried/tls1.3/client/partial_write"),
        "{out}"
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), original);
}
