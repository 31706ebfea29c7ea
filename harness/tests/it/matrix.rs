//! The behaviour matrix end to end: the real binary plays z-write-zero on the linked OpenSSL
//! and rustls (a difference a known entry explains: OpenSSL's zero-length `SSL_write` is
//! `syscall` with ret 0, rustls's `ok(0)`), and the JSON report, the Markdown summary and
//! `report --matrix` show it as one row per run with the cell of each implementation and the
//! reason once.

use std::process::Command;

use serde_json::{json, Value};
use sslwrite::report::short_version;

use crate::common;

fn sslwrite(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_sslwrite"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("the sslwrite binary runs")
}

#[test]
fn z_write_zero_is_one_matrix_row_per_run_with_the_outcome_of_each_implementation() {
    let d = common::TempDir::new("matrix", "z", &[]);
    let (json, md) = (d.path("r.json"), d.path("s.md"));
    let o = sslwrite(&[
        "conformance",
        "--impl",
        "openssl",
        "--impl",
        "rustls",
        "--filter",
        "z-write-zero",
        "--jobs",
        "2",
        "--quiet",
        "--json",
        json.to_str().unwrap(),
        "--markdown",
        md.to_str().unwrap(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let report: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(report["schema_version"], json!(2));
    let version = |i: usize| {
        short_version(report["implementations"][i]["version"].as_str().unwrap()).to_string()
    };
    let runs = report["scenarios"].as_array().unwrap();
    assert_eq!(runs.len(), 4);
    for run in runs {
        assert_eq!(
            run["matrix"],
            json!([{
                "step": 1,
                "op": "write buf=0 content=stream len=0",
                "groups": [
                    {"observation": {"outcome": "syscall", "ret": 0}, "implementations": ["openssl"]},
                    {"observation": {"outcome": "ok(0)", "ret": 0}, "implementations": ["rustls"]}
                ]
            }]),
            "{}",
            run["run"]
        );
    }

    let md = std::fs::read_to_string(&md).unwrap();
    assert!(md.contains("### Behaviour matrix (4)\n"), "{md}");
    let header = format!(
        "| run | step | op | openssl {} | rustls {} | reason |",
        version(0),
        version(1)
    );
    assert!(md.lines().any(|l| l == header), "{header:?} in\n{md}");
    let row = "| `z-write-zero/tls1.3/client/auto_retry` | 1 | write buf=0 content=stream len=0 | syscall \\[ret=0\\] | ok(0) | [1] |";
    assert!(md.lines().any(|l| l == row), "{row:?} in\n{md}");
    assert_eq!(
        md.lines()
            .filter(|l| l.starts_with("| `z-write-zero/")
                && l.ends_with("| syscall \\[ret=0\\] | ok(0) | [1] |"))
            .count(),
        4,
        "{md}"
    );
    // The reason is written once, under the table, however many rows it explains.
    let reason = md
        .lines()
        .find(|l| l.starts_with("1. "))
        .expect("the reason, numbered");
    assert!(
        reason.contains("A zero-length SSL\\_write on OpenSSL 3.0 returns 0"),
        "{reason}"
    );
    assert_eq!(
        md.matches("Writer::write, which accepts 0 bytes").count(),
        1 + 4,
        "the matrix's once, the Known table's once per run"
    );

    let o = sslwrite(&["report", json.to_str().unwrap(), "--matrix"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0));
    assert!(
        out.contains("behaviour matrix: 4 row(s) where the implementations do not all agree\n"),
        "{out}"
    );
    let section = &out[out.find("behaviour matrix:").unwrap()..];
    let line = section
        .lines()
        .find(|l| l.starts_with("z-write-zero/tls1.3/client/auto_retry "))
        .expect("the run's row");
    let cells: Vec<&str> = line.split("  ").filter(|c| !c.trim().is_empty()).collect();
    assert_eq!(
        cells.iter().map(|c| c.trim()).collect::<Vec<_>>(),
        [
            "z-write-zero/tls1.3/client/auto_retry",
            "1",
            "write buf=0 content=stream len=0",
            "syscall [ret=0]",
            "ok(0)",
            "[1]"
        ]
    );
    let o = sslwrite(&["report", json.to_str().unwrap()]);
    assert!(
        !String::from_utf8_lossy(&o.stdout).contains("behaviour matrix"),
        "only with --matrix"
    );
}
