//! The same scenarios over the in-memory pipe and over loopback TCP (`--transport both`): the
//! kernel's own answers (EPIPE after a close, ECONNRESET after a reset, a blocking socket, a
//! deadlock), memory-only scenarios skipped over TCP with their reason, and the report's list of
//! where the two transports differ.

use std::process::Command;

use serde_json::Value;
use sslwrite::project_root;

use crate::common;

const SCENARIOS: [&str; 6] = [
    "sd-transport-closed",
    "sd-transport-reset",
    "io-blocking-large",
    "io-blocking-deadlock",
    "pw-roomy",
    "io-tiny-transport",
];

fn both() -> Value {
    let d = common::TempDir::new("transports", "both", &["scenarios"]);
    for id in SCENARIOS {
        let from = project_root().join("scenarios").join(format!("{id}.json"));
        std::fs::copy(from, d.0.join("scenarios").join(format!("{id}.json"))).unwrap();
    }
    let json = d.0.join("r.json");
    let o = Command::new(env!("CARGO_BIN_EXE_sslwrite"))
        .args([
            "conformance",
            "--quiet",
            "--transport",
            "both",
            "--scenarios",
        ])
        .arg(d.0.join("scenarios"))
        .arg("--known")
        .arg(project_root().join("scenarios/known-divergences.json"))
        .arg("--json")
        .arg(&json)
        .output()
        .unwrap();
    assert!(
        matches!(o.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap()
}

fn run<'a>(r: &'a Value, name: &str) -> &'a Value {
    r["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["run"] == name)
        .unwrap_or_else(|| panic!("{name} is in the report"))
}

fn outcomes(trace: &Value) -> Vec<(String, Vec<String>)> {
    trace["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| {
            let call = s.get("call")?;
            let errors = call["errors"]
                .as_array()
                .map(|e| e.iter().map(|x| x.as_str().unwrap().to_string()).collect())
                .unwrap_or_default();
            Some((call["outcome"].as_str().unwrap().to_string(), errors))
        })
        .collect()
}

#[test]
fn every_run_goes_over_both_transports_and_their_differences_are_listed() {
    let r = both();
    assert_eq!(r["transports"], serde_json::json!(["memory", "tcp"]));
    let runs = r["scenarios"].as_array().unwrap();
    let memory: Vec<&str> = runs
        .iter()
        .filter(|s| s["transport"] == "memory")
        .map(|s| s["run"].as_str().unwrap())
        .collect();
    for m in &memory {
        let tcp = run(&r, &format!("{m}/tcp"));
        assert_eq!(tcp["transport"], "tcp");
    }
    assert_eq!(runs.len(), memory.len() * 2);

    // The kernel: after the peer closed, one write goes out, then EPIPE; after a reset,
    // ECONNRESET, then EPIPE.
    let closed = outcomes(
        &run(&r, "sd-transport-closed/tls1.3/client/auto_retry/tcp")["results"]["openssl"],
    );
    assert_eq!(closed[1].0, "ok(100)", "{closed:?}");
    assert_eq!(closed[2].0, "syscall");
    assert!(
        closed[2].1.iter().any(|e| e.contains("Broken pipe")),
        "{closed:?}"
    );
    let reset =
        outcomes(&run(&r, "sd-transport-reset/tls1.3/client/auto_retry/tcp")["results"]["rustls"]);
    assert!(
        reset
            .iter()
            .any(|(_, e)| e.iter().any(|x| x.contains("Connection reset"))),
        "{reset:?}"
    );

    // A blocking socket moves 4 MiB (the pump drains the peer while the kernel blocks), and
    // one nobody reads from deadlocks instead of hanging.
    for name in ["openssl", "rustls"] {
        let large = &run(&r, "io-blocking-large/tls1.3/client/auto_retry/tcp")["results"][name];
        assert_eq!(large["status"], "completed");
        assert_eq!(outcomes(large)[1].0, "ok(4194304)");
        let stuck = &run(&r, "io-blocking-deadlock/tls1.3/client/auto_retry/tcp")["results"][name];
        assert_eq!(stuck["status"], "deadlock");
    }

    // Memory-only scenarios do not run over TCP, and say why.
    let tiny = run(&r, "io-tiny-transport/tls1.2/client/auto_retry/tcp");
    assert_eq!(tiny["verdict"], "skip");
    let reason = tiny["results"]["openssl"]["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("memory-only scenario: expects WANT_WRITE"),
        "{reason}"
    );

    // Kernel buffers hold more than the scripted capacity: before the blocking writer
    // deadlocks, the peer got more over TCP than in memory. How much more is the kernel's
    // timing (49152 or 65536 under load): the trace marks it, and it is not a difference.
    let diffs = r["transport_differences"].as_array().unwrap();
    let memory = &run(&r, "io-blocking-deadlock/tls1.3/client/auto_retry")["results"]["rustls"];
    let tcp = &run(&r, "io-blocking-deadlock/tls1.3/client/auto_retry/tcp")["results"]["rustls"];
    assert_eq!(memory["delivery"]["received"], 16384);
    assert!(
        tcp["delivery"]["received"].as_u64().unwrap() > 16384,
        "{tcp}"
    );
    assert_eq!(tcp["timing"]["cause"], "blocked");
    assert!(memory.get("timing").is_none());
    assert!(
        !diffs
            .iter()
            .any(|d| d["run"] == "io-blocking-deadlock/tls1.3/client/auto_retry"),
        "{diffs:#?}"
    );
    assert!(
        !diffs
            .iter()
            .any(|d| d["run"].as_str().unwrap().starts_with("io-tiny-transport")),
        "memory-only runs are not compared"
    );
}
