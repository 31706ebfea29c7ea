//! The same scenario set run several times gives byte-identical reports once the run-specific
//! fields (start time, durations, host, command line) are left out: in worker processes (each
//! with its own freshly generated keys) and in process. What used to differ, and why it no
//! longer does: certs.rs (Ed25519: fixed-length signatures and certificates) and the OpenSSL
//! contexts' stateful session tickets (fixed-length tickets).

use std::path::PathBuf;
use std::process::Command;

use sslwrite::project_root;

// Only its report helper is used here.
#[allow(dead_code)]
use crate::common;

fn report(json: &PathBuf, isolation: &str) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_sslwrite"))
        .args(["conformance", "--quiet", "--isolation", isolation, "--json"])
        .arg(json)
        .arg("--scenarios")
        .arg(project_root().join("scenarios"))
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(json).unwrap()).unwrap();
    common::strip_timings(&mut v);
    serde_json::to_string_pretty(&v).unwrap()
}

/// The first line where two texts differ, with its neighbours, for the failure message.
fn first_difference(a: &str, b: &str) -> String {
    let (la, lb): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    let i = la
        .iter()
        .zip(&lb)
        .position(|(x, y)| x != y)
        .unwrap_or(la.len().min(lb.len()));
    let from = i.saturating_sub(8);
    format!(
        "line {i}:\n--- first\n{}\n--- again\n{}",
        la[from..(i + 2).min(la.len())].join("\n"),
        lb[from..(i + 2).min(lb.len())].join("\n")
    )
}

#[test]
fn reruns_give_byte_identical_reports() {
    let json =
        std::env::temp_dir().join(format!("sslwrite-determinism-{}.json", std::process::id()));
    let first = report(&json, "process");
    for (i, isolation) in ["process", "none"].iter().enumerate() {
        let again = report(&json, isolation);
        assert!(
            first == again,
            "rerun {} ({isolation}) differs: {}",
            i + 1,
            first_difference(&first, &again)
        );
    }
    let _ = std::fs::remove_file(&json);
}
