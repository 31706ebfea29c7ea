//! TLS 1.3 early data (ED-1, ED-2) through the real runner: a first connection fetches a ticket,
//! the run's connection resumes it, and the exact outcome of each early-data call is asserted.

use std::path::Path;

use sslwrite::contract::{Implementation, Modes, Outcome, Role, Tls};
use sslwrite::impls::{openssl::OpensslImpl, rustls::RustlsImpl};
use sslwrite::runner::{self, RunStatus, Trace};
use sslwrite::scenario::{RunKey, Scenario};

fn scenario(json: &str) -> Scenario {
    Scenario::parse(Path::new("inline.json"), json.as_bytes()).expect("inline scenario parses")
}

fn play(imp: &dyn Implementation, s: &Scenario, role: Role) -> Trace {
    let key = RunKey {
        id: s.id.clone(),
        tls: Tls::V13,
        role,
        modes: Modes::from_names(["auto_retry"]).unwrap(),
    };
    runner::run(imp, &OpensslImpl::new(), s, &key)
}

fn outcome(t: &Trace, step: usize) -> Outcome {
    t.steps[step]
        .call
        .as_ref()
        .expect("the step made a call")
        .outcome
        .clone()
}

fn both() -> Vec<Box<dyn Implementation>> {
    vec![Box::new(OpensslImpl::new()), Box::new(RustlsImpl::new())]
}

#[test]
fn client_early_data_then_a_normal_write_delivers_both_in_order() {
    let s = scenario(
        r#"{"id": "t", "title": "t", "clauses": ["W1"], "tls": ["1.3"],
            "connection": {"early_data": true}, "steps": [
            {"op": "write_early", "len": 2000},
            {"op": "write_all", "len": 5000},
            {"op": "peer_read"}]}"#,
    );
    for imp in both() {
        let name = imp.info().name;
        let t = play(imp.as_ref(), &s, Role::Client);
        assert_eq!(t.status, RunStatus::Completed, "{name}");
        let early = t.steps[0].call.as_ref().unwrap();
        assert_eq!(early.outcome, Outcome::Ok(2000), "{name}");
        assert_eq!((early.ret, early.written), (1, Some(2000)), "{name}");
        assert_eq!(outcome(&t, 1), Outcome::Ok(5000), "{name}");
        // The peer read the early bytes (SSL_read_early_data) and then the rest, in order: a
        // rejected early write would show as 2000 missing bytes.
        assert_eq!(t.delivery.confirmed, 7000, "{name}");
        assert_eq!(t.delivery.received, 7000, "{name}");
        assert_eq!(t.delivery.missing, 0, "{name}");
        assert!(t.violations.is_empty(), "{name}: {:?}", t.violations);
    }
}

#[test]
fn early_data_over_the_limit_openssl_refuses_rustls_takes_what_fits() {
    let s = scenario(
        r#"{"id": "t", "title": "t", "clauses": ["W7"], "tls": ["1.3"],
            "connection": {"early_data": true}, "steps": [
            {"op": "write_early", "len": 20000}]}"#,
    );
    let t = play(&OpensslImpl::new(), &s, Role::Client);
    let c = t.steps[0].call.as_ref().unwrap();
    assert_eq!(c.outcome, Outcome::Ssl("too much early data".into()));
    assert_eq!((c.ret, c.written), (0, Some(0)));
    let t = play(&RustlsImpl::new(), &s, Role::Client);
    assert_eq!(outcome(&t, 0), Outcome::Ok(16384));
    assert_eq!(t.delivery.received, 16384);
}

#[test]
fn a_server_write_between_early_reads() {
    let s = scenario(
        r#"{"id": "t", "title": "t", "clauses": ["W2"], "tls": ["1.3"], "roles": ["server"],
            "connection": {"early_data": true}, "steps": [
            {"op": "peer_write_early", "len": 3000},
            {"op": "read_early", "len": 1000},
            {"op": "write", "len": 100},
            {"op": "read_early", "len": 16384},
            {"op": "peer_read"},
            {"op": "read_early", "len": 16384},
            {"op": "write_all", "len": 100},
            {"op": "peer_read"}]}"#,
    );
    for imp in both() {
        let name = imp.info().name;
        let t = play(imp.as_ref(), &s, Role::Server);
        assert_eq!(outcome(&t, 1), Outcome::Ok(1000), "{name}");
        assert_eq!(outcome(&t, 3), Outcome::Ok(2000), "{name}");
        // SSL_READ_EARLY_DATA_FINISH once the client's EndOfEarlyData is in.
        let finish = t.steps[5].call.as_ref().unwrap();
        assert_eq!(
            (finish.outcome.clone(), finish.ret),
            (Outcome::Ok(0), 2),
            "{name}"
        );
        assert_eq!(outcome(&t, 6), Outcome::Ok(100), "{name}");
        assert_eq!(t.delivery.received, 100, "{name}");
    }
    let t = play(&OpensslImpl::new(), &s, Role::Server);
    assert_eq!(
        outcome(&t, 2),
        Outcome::Ssl("called a function you should not call".into())
    );
    let t = play(&RustlsImpl::new(), &s, Role::Server);
    assert_eq!(outcome(&t, 2), Outcome::WantRead);
}
