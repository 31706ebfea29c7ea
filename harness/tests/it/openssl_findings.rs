//! Findings about OpenSSL itself, each named after what it shows, so they are kept and a fix
//! upstream shows (the test then fails and says so).
//!
//! Found by the differential fuzzer (an ASan run of `cargo xtask fuzz differential`): a TLS 1.2
//! client that is asked to renegotiate before its first handshake. `SSL_renegotiate` accepts;
//! the next write fails (`ssl(internal error)`); after a second `SSL_renegotiate`, a write
//! *succeeds* and its bytes leave as a plaintext application-data record (its length is the
//! payload's: no MAC, no tag), after a fatal error (W12). A large write then crashes OpenSSL
//! 3.0.19 (SIGSEGV, a null `EVP_CIPHER` in `EVP_CIPHER_get_flags` under `SSL_write_ex`);
//! OpenSSL 3.6.3 sends all of it, in plaintext records.
//! Not in the default suite: a crash in the linked library would take the in-process runs
//! (tests, `--isolation none`, the benchmark) down with it.
//!
//! Also: `SSL_shutdown` with a write pending answers with the retry reason of the last
//! transport operation (`want_read` after a read), not with what it waits for.

use std::path::Path;

use serde_json::Value;
use sslwrite::contract::{Modes, Outcome, Role, Tls};
use sslwrite::impls::openssl::OpensslImpl;
use sslwrite::runner;
use sslwrite::scenario::{RunKey, Scenario};

use crate::common;

const BEFORE_HANDSHAKE: &str = r#"{"id": "renegotiate-before-handshake", "title": "SSL_renegotiate before the first handshake, then writes",
    "clauses": ["W12", "I4"], "tls": ["1.2"], "steps": [
    {"op": "renegotiate"}, {"op": "write_ex", "len": 1000},
    {"op": "renegotiate"}, {"op": "write_ex", "len": 500}, STEP]}"#;

fn key() -> RunKey {
    RunKey {
        id: "renegotiate-before-handshake".into(),
        tls: Tls::V12,
        role: Role::Client,
        modes: Modes::from_names(["auto_retry"]).unwrap(),
    }
}

#[test]
fn a_write_after_renegotiate_before_the_handshake_goes_out_in_plaintext() {
    let text = BEFORE_HANDSHAKE.replace("STEP", r#"{"op": "peer_read"}"#);
    let s = Scenario::parse(Path::new("inline.json"), text.as_bytes()).unwrap();
    let t = runner::run(&OpensslImpl::new(), &OpensslImpl::new(), &s, &key());
    let outcome = |i: usize| t.steps[i].call.as_ref().unwrap().outcome.clone();
    assert_eq!(outcome(0), Outcome::Ok(1), "SSL_renegotiate accepted");
    assert_eq!(outcome(1), Outcome::Ssl("internal error".into()));
    assert_eq!(outcome(2), Outcome::Ok(1));
    // A success after a fatal error (W12) ...
    assert_eq!(outcome(3), Outcome::Ok(500));
    // The peer, still waiting for a ClientHello, rejects the record.
    assert!(outcome(4).is_fatal(), "{:?}", outcome(4));
    // ... whose bytes are one application-data record of exactly 500 bytes: no encryption.
    let first = t.wire.to_peer.first().copied();
    assert_eq!(
        first.map(|r| (r.0, r.1)),
        Some((23, 500)),
        "the 500 bytes should leave as a plaintext record; wire: {:?}",
        t.wire.to_peer
    );
}

#[test]
fn a_large_write_after_it_crashes_openssl_3_0() {
    let d = common::TempDir::new("openssl-finding", "crash", &["scenarios"]);
    let text = BEFORE_HANDSHAKE.replace("STEP", r#"{"op": "write_ex", "len": 100000}"#);
    std::fs::write(d.path("scenarios/finding.json"), text).unwrap();
    let known = d.path("known.json");
    std::fs::write(&known, r#"{"entries": []}"#).unwrap();
    let json = d.path("report.json");
    let out = common::conformance(
        &d.path("scenarios"),
        &known,
        &json,
        &["--impl", "openssl", "--isolation", "process"],
    );
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap_or_else(|e| {
        panic!(
            "no report ({e}); stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    }))
    .unwrap();
    let version = report["implementations"][0]["version"]
        .as_str()
        .unwrap()
        .to_string();
    let trace = &report["scenarios"][0]["results"]["openssl"];
    let status = trace["status"].as_str().unwrap();
    if version.starts_with("OpenSSL 3.0.") {
        assert_eq!(status, "crash", "{version}: {trace}");
        assert_eq!(trace["signal"], "SIGSEGV", "{trace}");
        assert_eq!(trace["step"], 4, "{trace}");
    } else if version.starts_with("OpenSSL 3.6.") {
        // No crash: the whole write goes out, every record in plaintext (each record is its
        // payload plus the 5-byte header, nothing else).
        assert_eq!(status, "completed", "{version}: {trace}");
        assert_eq!(
            trace["steps"][4]["call"]["outcome"], "ok(100000)",
            "{trace}"
        );
        let records = trace["wire"]["to_peer"].as_array().unwrap().len() as u64;
        assert_eq!(
            trace["wire"]["to_peer_bytes"].as_u64(),
            Some(100_500 + 5 * records),
            "{trace}"
        );
    } else {
        eprintln!("{version}: {status} (not checked: only 3.0 and 3.6 were seen)");
    }
}

/// The fuzz finding end to end: minimized to SSL_renegotiate, a zero-length read and one large
/// write, its C reproducer is written even though the run crashes the linked OpenSSL 3.0 (the
/// `repro` command plays it in a worker first, and used to die with it), and the file's header
/// says what the harness saw.
#[test]
fn the_c_reproducer_of_the_renegotiate_crash_is_written_with_what_the_harness_saw() {
    let d = common::TempDir::new("openssl-finding", "repro", &["scenarios"]);
    std::fs::write(
        d.path("scenarios/reneg.json"),
        r#"{"id": "reneg", "title": "SSL_renegotiate before the handshake, a read, a write",
        "clauses": ["I4"], "tls": ["1.2"], "modes": [[]], "steps": [
        {"op": "renegotiate"}, {"op": "read", "len": 0}, {"op": "write_ex", "len": 100000}]}"#,
    )
    .unwrap();
    let c = d.path("repro.c");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sslwrite"))
        .args(["repro", "reneg/tls1.2/client/none", "--scenarios"])
        .arg(d.path("scenarios"))
        .arg("-o")
        .arg(&c)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let text = std::fs::read_to_string(&c).unwrap();
    let version = openssl::version::version();
    if version.starts_with("OpenSSL 3.0.") {
        assert!(
            text.contains(" *   2 write_ex buf=0 content=stream len=100000 crash(SIGSEGV)")
                && text.contains(" *   end crash at step 2: the worker was killed by SIGSEGV"),
            "{version}: {text}"
        );
    } else {
        assert!(text.contains(" *   end completed"), "{version}: {text}");
    }
}

/// Found by the differential fuzzer: `SSL_shutdown` while a write is pending returns -1 and
/// `SSL_get_error` answers with the retry reason of the last transport operation, not its own.
/// With a record pending, `ssl3_send_alert` only marks the close_notify for dispatch and
/// touches no BIO, so after a read that would have blocked the answer is `want_read`, although
/// what the connection waits for is room to write. A caller that waits for readability, as
/// told, waits for the wrong thing.
#[test]
fn shutdown_with_a_write_pending_answers_with_the_last_reads_retry_reason() {
    let play = |read_first: bool| {
        let read = if read_first {
            r#"{"op": "read", "len": 100},"#
        } else {
            ""
        };
        let text = format!(
            r#"{{"id": "shutdown-pending", "title": "shutdown while a write is pending",
                "clauses": ["W11"], "tls": ["1.3"], "transport": {{"capacity": 16384}}, "steps": [
                {{"op": "handshake"}}, {{"op": "write_ex", "len": 16384}}, {read}
                {{"op": "shutdown"}}]}}"#
        );
        let s = Scenario::parse(Path::new("inline.json"), text.as_bytes()).unwrap();
        let key = RunKey {
            id: "shutdown-pending".into(),
            tls: Tls::V13,
            role: Role::Client,
            modes: Modes::default(),
        };
        let t = runner::run(&OpensslImpl::new(), &OpensslImpl::new(), &s, &key);
        let outcomes: Vec<Outcome> = t
            .steps
            .iter()
            .map(|s| s.call.as_ref().unwrap().outcome.clone())
            .collect();
        outcomes
    };
    // The 16384-byte record (plus its header and tag) does not fit: the write is pending.
    let direct = play(false);
    assert_eq!(direct[1], Outcome::WantWrite);
    assert_eq!(direct[2], Outcome::WantWrite, "{direct:?}");
    let after_read = play(true);
    assert_eq!(after_read[1], Outcome::WantWrite);
    assert_eq!(after_read[2], Outcome::WantRead);
    assert_eq!(
        after_read[3],
        Outcome::WantRead,
        "SSL_shutdown's answer should be the read's stale retry reason; {after_read:?}"
    );
}

/// Found by the differential fuzzer, kept as scenario `sd-renegotiate-after-shutdown`: after its
/// own close_notify, OpenSSL accepts `SSL_renegotiate`, and the next `SSL_read` starts the
/// renegotiation, sending a handshake record after the close_notify (RFC 5246 7.2.1: nothing
/// may follow it). As a server, the `SSL_write` after that succeeds, although writes after
/// `SSL_shutdown` fail with "protocol is shutdown", and its record follows the close_notify:
/// the peer, which has read the close_notify, never hands it to its application (I1).
#[test]
fn renegotiate_after_shutdown_sends_records_after_the_close_notify() {
    let text = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../scenarios/sd-renegotiate-after-shutdown.json"),
    )
    .unwrap();
    let s = Scenario::parse(Path::new("sd-renegotiate-after-shutdown.json"), &text).unwrap();
    for role in [Role::Client, Role::Server] {
        let key = RunKey {
            id: s.id.clone(),
            tls: Tls::V12,
            role,
            modes: Modes::from_names(["auto_retry"]).unwrap(),
        };
        let t = runner::run(&OpensslImpl::new(), &OpensslImpl::new(), &s, &key);
        let outcome = |i: usize| t.steps[i].call.as_ref().unwrap().outcome.clone();
        assert_eq!(
            outcome(1),
            Outcome::Ok(0),
            "{role}: the close_notify is sent"
        );
        assert_eq!(
            outcome(2),
            Outcome::Ok(1),
            "{role}: SSL_renegotiate accepted"
        );
        let types: Vec<u8> = t.wire.to_peer.iter().map(|r| r.0).collect();
        let alert = types
            .iter()
            .position(|&c| c == 21)
            .unwrap_or_else(|| panic!("{role}: no close_notify on the wire: {types:?}"));
        let after = &types[alert + 1..];
        assert_eq!(
            after.first(),
            Some(&22),
            "{role}: a handshake record follows the close_notify; wire: {types:?}"
        );
        match role {
            Role::Server => {
                assert_eq!(
                    outcome(4),
                    Outcome::Ok(100),
                    "the write after shutdown succeeds"
                );
                assert_eq!(after, [22, 23], "HelloRequest, then the application data");
                assert_eq!(
                    t.delivery.received, 0,
                    "the peer's application gets none of it"
                );
            }
            Role::Client => {
                // The client's ClientHello went out; the write waits for the server's answer
                // instead of failing with "protocol is shutdown".
                assert_eq!(outcome(4), Outcome::WantRead);
                assert_eq!(after, [22]);
            }
        }
    }
}

/// Found by the differential fuzzer, kept as scenario `ku-read-while-pending`: a write is
/// pending (want_write) when two KeyUpdates with update_requested arrive; the `SSL_read` before
/// the retry has to answer them and fails with a fatal "bad length", and the retry then fails
/// with syscall: the connection is lost. With partial-write mode (no pending write) the same
/// read answers want_read and the write completes.
#[test]
fn a_read_answering_two_key_update_requests_while_a_write_is_pending_kills_the_connection() {
    let text = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/ku-read-while-pending.json"),
    )
    .unwrap();
    let s = Scenario::parse(Path::new("ku-read-while-pending.json"), &text).unwrap();
    for (modes, pending) in [
        (["auto_retry"].as_slice(), true),
        (&["partial_write", "auto_retry"], false),
    ] {
        let key = RunKey {
            id: s.id.clone(),
            tls: Tls::V13,
            role: Role::Client,
            modes: Modes::from_names(modes.iter().copied()).unwrap(),
        };
        let t = runner::run(&OpensslImpl::new(), &OpensslImpl::new(), &s, &key);
        let outcome = |i: usize| t.steps[i].call.as_ref().unwrap().outcome.clone();
        if pending {
            assert_eq!(outcome(1), Outcome::WantWrite);
            assert_eq!(outcome(4), Outcome::Ssl("bad length".into()), "the read");
            assert_eq!(outcome(5), Outcome::Syscall, "the retry after it");
        } else {
            assert_eq!(outcome(1), Outcome::Ok(16384));
            assert_eq!(outcome(4), Outcome::WantRead);
            assert_eq!(outcome(5), Outcome::Ok(100000));
        }
    }
}
