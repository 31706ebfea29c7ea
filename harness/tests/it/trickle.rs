//! A trickling transport (`"trickle": N`: every other write attempt is refused) must not look
//! like a peer that stopped reading. Found by the differential fuzzer
//! (`diverge/rustls/write_all/outcome/want_write->ok`, 62 hits): a TLS 1.3 OpenSSL client's
//! `write_all` that drives the handshake over `trickle=1` sometimes calls SSL_write when its one
//! BIO write lands on the refused attempt; the call moves nothing, the peer's drain has nothing
//! to take, and the loop used to stop there ("the peer reads nothing more") with `want_write`
//! where rustls, whose calls fell the other way, finished.

use std::path::Path;

use sslwrite::contract::{Modes, Outcome, Role, Tls};
use sslwrite::impls::openssl::OpensslImpl;
use sslwrite::runner;
use sslwrite::scenario::{RunKey, Scenario};

const TRICKLE: &str = r#"{"id": "trickle-handshake", "title": "a handshake and one byte over a trickle",
    "clauses": ["I3"], "tls": ["1.3"], "modes": [[]],
    "transport": {"capacity": 4096},
    "steps": [
    {"op": "transport", "capacity_to_peer": 40000, "trickle": 1},
    {"op": "write_all", "len": 1, "api": "write_ex", "max_calls": 2000}]}"#;

#[test]
fn a_write_all_over_a_trickle_is_not_stopped_by_the_trickles_refusals() {
    let s = Scenario::parse(Path::new("inline.json"), TRICKLE.as_bytes()).unwrap();
    let key = RunKey {
        id: "trickle-handshake".into(),
        tls: Tls::V13,
        role: Role::Client,
        modes: Modes::default(),
    };
    let t = runner::run(&OpensslImpl::new(), &OpensslImpl::new(), &s, &key);
    let step = &t.steps[1];
    assert_eq!(
        step.call.as_ref().map(|c| c.outcome.clone()),
        Some(Outcome::Ok(1)),
        "{}",
        step.op
    );
    assert!(!step.op.contains("stopped"), "{}", step.op);
    assert_eq!(step.bytes, Some(1));
    assert_eq!(t.delivery.received, 1);
}
