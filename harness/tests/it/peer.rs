//! The scriptable peer: a raw record on the wire and the exact answer of the linked OpenSSL to
//! it, records re-sealed under the peer's keys, and `--peer` playing against another stack.

use std::path::Path;

use serde_json::Value;
use sslwrite::contract::{Modes, Outcome, Role, Tls};
use sslwrite::impls::openssl::OpensslImpl;
use sslwrite::runner::{self, RunStatus, Trace};
use sslwrite::scenario::{RunKey, Scenario};

use crate::common;

fn shipped(id: &str) -> Scenario {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    Scenario::load(&root.join("scenarios").join(format!("{id}.json"))).unwrap()
}

fn play(s: &Scenario, tls: Tls, role: Role) -> Trace {
    let key = RunKey {
        id: s.id.clone(),
        tls,
        role,
        modes: Modes::from_names(["auto_retry"]).unwrap(),
    };
    let openssl = OpensslImpl::new();
    runner::run(&openssl, &openssl, s, &key)
}

fn outcome(t: &Trace, step: usize) -> Outcome {
    t.steps[step].call.as_ref().expect("a call").outcome.clone()
}

/// `17 03 03 00 05 "hello"` under TLS 1.2: the record is too short for AES-GCM's explicit
/// nonce and tag. OpenSSL 3.x fails the read with `invalid aad` and tells the peer
/// `internal_error`, where the fixed 45-byte garbage record (`inject_malformed`) gets another
/// reason (3.0: `cipher operation failed`); 4.0 says `decryption failed or bad record mac` and
/// tells the peer `bad_record_mac`.
#[test]
fn the_ten_byte_record_under_tls12_gets_its_own_reason_from_the_linked_openssl() {
    let version = openssl::version::version();
    let hello = play(&shipped("sd-garbage-hello-record"), Tls::V12, Role::Client);
    assert_eq!(hello.status, RunStatus::Completed, "{hello:?}");
    // The injected bytes went on the wire as one record: type 23, 5 bytes of payload.
    assert!(
        hello
            .wire
            .to_impl
            .iter()
            .any(|r| r.content_type() == 23 && r.len() == 5),
        "{:?}",
        hello.wire.to_impl
    );
    let fixed = play(&shipped("sd-fatal-on-read"), Tls::V12, Role::Client);
    let bad_mac = Outcome::Ssl("decryption failed or bad record mac".into());
    if version.starts_with("OpenSSL 3.0.") {
        assert_eq!(
            outcome(&fixed, 2),
            Outcome::Ssl("cipher operation failed".into())
        );
    }
    if version.starts_with("OpenSSL 3.") {
        assert_eq!(outcome(&hello, 2), Outcome::Ssl("invalid aad".into()));
        assert_ne!(outcome(&fixed, 2), outcome(&hello, 2), "{version}");
        let errors = &hello.steps[2].call.as_ref().unwrap().errors;
        assert_eq!(errors[..2], ["invalid aad", "internal error"], "{version}");
        assert_eq!(
            outcome(&hello, 5),
            Outcome::Ssl("tlsv1 alert internal error".into()),
            "the peer is told internal_error"
        );
    } else {
        assert!(version.starts_with("OpenSSL 4."), "{version}");
        assert_eq!(outcome(&hello, 2), bad_mac);
        assert_eq!(
            outcome(&hello, 5),
            Outcome::Ssl("sslv3 alert bad record mac".into())
        );
    }
    // Both refuse the writes after it (W12), with the same outcome.
    assert_eq!(outcome(&hello, 3), outcome(&fixed, 3));
    assert!(outcome(&hello, 3).is_fatal(), "{:?}", outcome(&hello, 3));
}

/// The re-sealed records are real: the implementation reads past an empty record and a
/// warning alert to the peer's data, and the wire shows them at their exact sizes.
#[test]
fn empty_records_and_warning_alerts_arrive_sealed_under_the_peers_keys() {
    let s = shipped("rt-peer-empty-and-warning-while-pending");
    for (tls, empty, alert) in [(Tls::V12, 29, 31), (Tls::V13, 22, 24)] {
        for role in [Role::Client, Role::Server] {
            let t = play(&s, tls, role);
            assert_eq!(t.status, RunStatus::Completed, "{tls} {role}: {t:?}");
            assert_eq!(outcome(&t, 3), Outcome::Ok(empty), "{tls} {role}");
            assert_eq!(outcome(&t, 4), Outcome::Ok(alert), "{tls} {role}");
            assert_eq!(
                outcome(&t, 6),
                Outcome::Ok(100),
                "{tls} {role}: read past them"
            );
            assert_eq!(outcome(&t, 7), Outcome::Ok(100_000), "{tls} {role}");
            let (want_empty, want_alert) = match tls {
                // TLS 1.3 hides the content type: both are application-data records.
                Tls::V13 => ((23, 17), (23, 19)),
                Tls::V12 => ((23, 24), (21, 26)),
            };
            for (ty, len) in [want_empty, want_alert] {
                assert!(
                    t.wire
                        .to_impl
                        .iter()
                        .any(|r| r.content_type() == ty && r.len() == len),
                    "{tls} {role}: no ({ty}, {len}) record in {:?}",
                    t.wire.to_impl
                );
            }
            assert!(t.violations.is_empty(), "{:?}", t.violations);
        }
    }
}

/// `dir/scenarios` holds the scenarios, `dir/known.json` no entries.
fn played(peer: &str, top: &Path, json: &Path) -> Value {
    let known = top.join("known.json");
    let dir = &top.join("scenarios");
    std::fs::write(&known, r#"{"entries": []}"#).unwrap();
    for id in [
        "ku-peer-tickets-2",
        "rt-peer-empty-and-warning-while-pending",
    ] {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        std::fs::copy(
            root.join("scenarios").join(format!("{id}.json")),
            dir.join(format!("{id}.json")),
        )
        .unwrap();
    }
    let out = common::conformance(
        dir,
        &known,
        json,
        &["--impl", "openssl", "--impl", "rustls", "--peer", peer],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(&format!("peer: {peer} (")), "{text}");
    serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap()
}

#[test]
fn peer_rustls_plays_the_runs_and_the_report_records_it() {
    let dir = common::TempDir::new("peer", "rustls", &["scenarios"]);
    let report = played("rustls", &dir.0, &dir.path("report.json"));
    assert_eq!(report["peer"]["name"], "rustls");
    assert_eq!(report["peer"]["family"], "rustls");
    let runs = report["scenarios"].as_array().unwrap();
    for run in runs {
        let id = run["id"].as_str().unwrap();
        for imp in ["openssl", "rustls"] {
            let t = &run["results"][imp];
            if id == "ku-peer-tickets-2" {
                assert_eq!(t["status"], "completed", "{id} {imp}: {t}");
            } else {
                // A rustls peer does not tell its keys: the re-sealed record is skipped, with why.
                assert_eq!(t["status"], "skipped", "{id} {imp}: {t}");
                let reason = t["reason"].as_str().unwrap();
                assert!(
                    reason.contains("rustls gives its traffic secrets only to a config's KeyLog"),
                    "{reason}"
                );
                assert_eq!(t["step"], 3, "{t}");
            }
        }
    }
    // The default peer is recorded too.
    let dir = common::TempDir::new("peer", "openssl", &["scenarios"]);
    let report = played("openssl", &dir.0, &dir.path("report.json"));
    assert_eq!(report["peer"]["name"], "openssl");
    assert!(report["peer"]["version"]
        .as_str()
        .unwrap()
        .starts_with("OpenSSL "));
}
