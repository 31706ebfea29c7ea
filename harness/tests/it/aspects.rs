//! Queue and wire differences on the real binary: the linked OpenSSL against the test-only
//! `faulty` implementation, whose `stale=33` leaves a stale reason on the error queue after a
//! successful 33-byte write (what W14 forbids; the scenario cites W1 only, so no clause check
//! sees it and only the comparison does). The outcomes agree, so the run's verdict is `agree`; the
//! difference is reported as a `queue` aspect, fails only with `--strict-aspects`, and a known
//! entry with `"field": "queue"` explains it under either reference.

use std::path::Path;
use std::process::Output;

use serde_json::{json, Value};

use crate::common;

const FAULTY: &str = "faulty:stale=33";

const ENTRY: &str = r#"{"entries": [{"id": "q-stale/faulty/step1-queue", "scenario": "q-stale",
    "implementation": "faulty", "families": ["openssl"], "step": 1, "field": "queue",
    "reference_value": "(empty)", "value": "faulty: stale error", "clause": "W14",
    "reason": "faulty's stale fault reports a reason on the queue after a successful 33-byte write; OpenSSL leaves it empty."}]}"#;

/// A folder with `scenarios/q-stale.json` (TLS 1.3 client: a handshake, a 33-byte write, the
/// peer reads), an empty known file and one with [`ENTRY`].
fn suite(name: &str) -> common::TempDir {
    let d = common::TempDir::new("aspects", name, &["scenarios"]);
    let scenario = r#"{"id": "q-stale", "title": "a 33-byte write", "clauses": ["W1"], "tls": ["1.3"],
        "steps": [{"op": "handshake"}, {"op": "write", "len": 33}, {"op": "peer_read"}]}"#;
    std::fs::write(d.path("scenarios").join("q-stale.json"), scenario).unwrap();
    std::fs::write(d.path("empty.json"), r#"{"entries": []}"#).unwrap();
    std::fs::write(d.path("known.json"), ENTRY).unwrap();
    d
}

fn play(d: &common::TempDir, known: &str, extra: &[&str]) -> (Output, Value) {
    let json = d.path("r.json");
    let mut args = vec!["--impl", "openssl", "--impl", FAULTY, "--jobs", "2"];
    args.extend_from_slice(extra);
    let o = common::conformance(&d.path("scenarios"), &d.path(known), &json, &args);
    let report = std::fs::read(&json)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_else(|| panic!("a report: {}", String::from_utf8_lossy(&o.stderr)));
    (o, report)
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exited normally")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn the_run(r: &Value) -> &Value {
    let runs = r["scenarios"].as_array().unwrap();
    assert_eq!(runs.len(), 1);
    &runs[0]
}

#[test]
fn a_stale_reason_is_one_queue_difference_that_never_changes_the_verdict() {
    let d = suite("unexplained");
    let (o, r) = play(&d, "empty.json", &[]);
    assert_eq!(code(&o), 0, "{}{}", text(&o.stdout), text(&o.stderr));
    let run = the_run(&r);
    assert_eq!(run["verdict"], "agree");
    assert_eq!(
        run["aspects"],
        json!([{"kind": "queue", "aspect": "reasons", "implementation": "faulty",
                "reference": "openssl", "step": 1, "reference_value": "(empty)",
                "value": "faulty: stale error"}])
    );
    assert_eq!(
        r["summary"]["aspects"],
        json!({"queue": 1, "wire": 0, "unexplained": 1, "omitted": 0})
    );
    assert_eq!(r["summary"]["passed"], true);
    assert!(
        text(&o.stdout).contains("queue and wire: 1 queue, 0 wire difference(s), 1 unexplained"),
        "{}",
        text(&o.stdout)
    );

    let (o, _) = play(&d, "empty.json", &["--explain", "q-stale", "--verbose"]);
    assert!(
        text(&o.stdout)
            .contains("  aspect: faulty step 1 queue: openssl (empty) vs faulty: stale error\n"),
        "{}",
        text(&o.stdout)
    );

    let (o, _) = play(&d, "empty.json", &["--strict-aspects"]);
    assert_eq!(code(&o), 1);
    assert!(
        text(&o.stderr)
            .contains("--strict-aspects: 1 queue/wire difference(s) no known entry explains"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn a_known_entry_with_field_queue_explains_it_under_either_reference() {
    let d = suite("explained");
    let md = d.path("s.md");
    let (o, r) = play(
        &d,
        "known.json",
        &[
            "--strict-aspects",
            "--strict",
            "--markdown",
            md.to_str().unwrap(),
        ],
    );
    assert_eq!(code(&o), 0, "{}{}", text(&o.stdout), text(&o.stderr));
    let run = the_run(&r);
    assert_eq!(run["aspects"][0]["entry"], "q-stale/faulty/step1-queue");
    assert_eq!(run["aspects"][0].get("describes"), None);
    assert_eq!(r["summary"]["aspects"]["unexplained"], 0);
    assert_eq!(r["warnings"], json!([]), "the entry is in use, not stale");
    let md = std::fs::read_to_string(Path::new(&md)).unwrap();
    assert!(
        md.contains("### Queue and wire (1)\n")
            && md.contains("| faulty | queue | 1 | (empty) | faulty: stale error | q-stale/faulty/step1-queue |"),
        "{md}"
    );

    let (o, r) = play(
        &d,
        "known.json",
        &["--strict-aspects", "--strict", "--reference", "faulty"],
    );
    assert_eq!(code(&o), 0, "{}{}", text(&o.stdout), text(&o.stderr));
    let a = &the_run(&r)["aspects"][0];
    assert_eq!(
        (&a["implementation"], &a["reference_value"], &a["value"]),
        (
            &json!("openssl"),
            &json!("faulty: stale error"),
            &json!("(empty)")
        )
    );
    assert_eq!(a["entry"], "q-stale/faulty/step1-queue");
    assert_eq!(a["describes"], "faulty");
}
