//! Findings about rustls itself, each named after the case that found it, so they are kept
//! and a fix upstream shows (the test then fails and says so).

use std::path::Path;

use sslwrite::contract::{Modes, Outcome, Role, Tls};
use sslwrite::impls::{openssl::OpensslImpl, rustls::RustlsImpl};
use sslwrite::runner::{self, RunStatus};
use sslwrite::scenario::{RunKey, Scenario};

/// Found by the differential fuzzer (artifact replayed as a generated scenario): our own
/// close_notify, then a malformed record from the peer, then any call that processes it.
#[test]
fn malformed_record_after_own_close_notify_trips_a_debug_assertion_in_rustls() {
    let s = Scenario::parse(
        Path::new("inline.json"),
        br#"{"id": "t", "title": "t", "clauses": ["I4"], "steps": [
            {"op": "handshake"}, {"op": "shutdown"}, {"op": "inject_malformed"},
            {"op": "read", "len": 100}, {"op": "write", "len": 10}]}"#,
    )
    .unwrap();
    let key = RunKey {
        id: "t".into(),
        tls: Tls::V13,
        role: Role::Client,
        modes: Modes::from_names(["auto_retry"]).unwrap(),
    };
    let openssl = runner::run(&OpensslImpl::new(), &OpensslImpl::new(), &s, &key);
    assert!(
        matches!(openssl.status, RunStatus::Completed),
        "{:?}",
        openssl.status
    );
    assert!(openssl.steps[3].call.as_ref().unwrap().outcome.is_fatal());

    let rustls = runner::run(&RustlsImpl::new(), &OpensslImpl::new(), &s, &key);
    if cfg!(debug_assertions) {
        match &rustls.status {
            RunStatus::Crash {
                step: Some(3),
                message,
                ..
            } => {
                assert!(message.contains("!self.sent_fatal_alert"), "{message}")
            }
            other => panic!(
                "rustls no longer trips its debug assertion ({other:?}): the upstream bug may be fixed; update the known entries"
            ),
        }
        assert!(rustls.violations.iter().any(|v| v.clause == "I4"));
    } else {
        // Release builds skip the assertion: the read fails like any corrupt record.
        let read = &rustls.steps[3].call.as_ref().unwrap().outcome;
        assert!(matches!(read, Outcome::Ssl(_)), "{read}");
    }
}
