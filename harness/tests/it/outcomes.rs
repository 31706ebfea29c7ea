//! Exact outcomes of both implementations in the situations the contract is most about.
//! Each test plays an inline scenario through the real runner, over the real transport, with
//! real handshakes, and asserts the specific outcome of each call that matters.

use std::path::Path;

use sslwrite::contract::{Implementation, Modes, Outcome, Role, Tls};
use sslwrite::impls::{openssl::OpensslImpl, rustls::RustlsImpl};
use sslwrite::runner::{self, RunStatus, Trace};
use sslwrite::scenario::{RunKey, Scenario};

use crate::common;

fn scenario(json: &str) -> Scenario {
    Scenario::parse(Path::new("inline.json"), json.as_bytes()).expect("inline scenario parses")
}

fn play(imp: &dyn Implementation, s: &Scenario, tls: Tls, modes: &[&str]) -> Trace {
    let key = RunKey {
        id: s.id.clone(),
        tls,
        role: Role::Client,
        modes: Modes::from_names(modes.iter().copied()).unwrap(),
    };
    runner::run(imp, &OpensslImpl::new(), s, &key)
}

fn outcome(t: &Trace, step: usize) -> &Outcome {
    &t.steps[step]
        .call
        .as_ref()
        .expect("the step made a call")
        .outcome
}

fn both() -> Vec<Box<dyn Implementation>> {
    vec![Box::new(OpensslImpl::new()), Box::new(RustlsImpl::new())]
}

const LARGE_INTO_SMALL: &str = r#"{
  "id": "t", "title": "t", "clauses": ["W8"],
  "transport": {"capacity": 20000},
  "steps": [
    {"op": "handshake"},
    {"op": "write", "len": 100000},
    {"op": "write_all", "len": 100000, "drain": 10000}
  ]
}"#;

#[test]
fn partial_write_mode_returns_one_record_of_a_large_write() {
    let s = scenario(LARGE_INTO_SMALL);
    for imp in both() {
        for tls in [Tls::V12, Tls::V13] {
            let t = play(imp.as_ref(), &s, tls, &["partial_write", "auto_retry"]);
            let name = imp.info().name;
            assert_eq!(outcome(&t, 1), &Outcome::Ok(16384), "{name} TLS {tls}");
            assert_eq!(t.steps[1].call.as_ref().unwrap().ret, 16384, "{name}");
            // The rest goes out in later calls; the peer holds every byte exactly once.
            assert_eq!(t.delivery.confirmed, 116384, "{name}");
            assert_eq!(t.delivery.received, 116384, "{name}");
            assert!(t.violations.is_empty(), "{name}: {:?}", t.violations);
        }
    }
}

#[test]
fn without_partial_write_the_write_blocks_and_retries_deliver_exactly_the_bytes() {
    let s = scenario(LARGE_INTO_SMALL);
    for imp in both() {
        for tls in [Tls::V12, Tls::V13] {
            let t = play(imp.as_ref(), &s, tls, &["auto_retry"]);
            let name = imp.info().name;
            assert_eq!(outcome(&t, 1), &Outcome::WantWrite, "{name} TLS {tls}");
            assert!(t.steps[1].call.as_ref().unwrap().ret <= 0, "{name}");
            // The retry loop uses the same buffer and length: it ends in ok(100000).
            assert_eq!(outcome(&t, 2), &Outcome::Ok(100000), "{name} TLS {tls}");
            assert!(t.steps[2].calls.len() > 1, "{name}: took several calls");
            assert!(
                t.steps[2].calls[..t.steps[2].calls.len() - 1]
                    .iter()
                    .all(|c| c.outcome == Outcome::WantWrite),
                "{name}: every call before the last asked for a retry"
            );
            assert_eq!(t.delivery.confirmed, 100000, "{name}");
            assert_eq!(t.delivery.received, 100000, "{name}");
            assert_eq!(t.delivery.first_mismatch, None, "{name}");
            assert_eq!(
                (t.delivery.missing, t.delivery.unconfirmed),
                (0, 0),
                "{name}"
            );
            assert!(t.violations.is_empty(), "{name}: {:?}", t.violations);
        }
    }
}

#[test]
fn write_after_own_shutdown() {
    let s = scenario(
        r#"{"id": "t", "title": "t", "clauses": ["W11"], "steps": [
            {"op": "handshake"}, {"op": "shutdown"},
            {"op": "write", "len": 100}, {"op": "write_ex", "len": 100}]}"#,
    );
    for tls in [Tls::V12, Tls::V13] {
        let t = play(&OpensslImpl::new(), &s, tls, &["auto_retry"]);
        assert_eq!(
            outcome(&t, 1),
            &Outcome::Ok(0),
            "close_notify sent, none received"
        );
        let w = t.steps[2].call.as_ref().unwrap();
        assert_eq!(w.outcome, Outcome::Ssl("protocol is shutdown".into()));
        assert_eq!(w.ret, -1);
        assert_eq!(w.errors, vec!["protocol is shutdown".to_string()]);
        let wx = t.steps[3].call.as_ref().unwrap();
        assert_eq!(wx.outcome, Outcome::Ssl("protocol is shutdown".into()));
        assert_eq!((wx.ret, wx.written), (0, Some(0)));
        assert!(t.violations.is_empty());

        // rustls keeps accepting plaintext after its close_notify; the peer never reads it.
        let t = play(&RustlsImpl::new(), &s, tls, &["auto_retry"]);
        assert_eq!(outcome(&t, 2), &Outcome::Ok(100));
        assert_eq!(t.delivery.missing, 200);
        assert!(
            t.violations.iter().any(|v| v.clause == "I1"),
            "{:?}",
            t.violations
        );
    }
}

#[test]
fn zero_length_writes() {
    let s = scenario(
        r#"{"id": "t", "title": "t", "clauses": ["W9"], "steps": [
            {"op": "handshake"}, {"op": "write", "len": 0}, {"op": "write_ex", "len": 0},
            {"op": "write", "len": 10}]}"#,
    );
    let t = play(&OpensslImpl::new(), &s, Tls::V13, &["auto_retry"]);
    // OpenSSL 3.0: SSL_write(num = 0) fails without an error on the queue; _ex succeeds.
    let w = t.steps[1].call.as_ref().unwrap();
    assert_eq!((w.outcome.clone(), w.ret), (Outcome::Syscall, 0));
    let wx = t.steps[2].call.as_ref().unwrap();
    assert_eq!(
        (wx.outcome.clone(), wx.ret, wx.written),
        (Outcome::Ok(0), 1, Some(0))
    );
    assert_eq!(
        outcome(&t, 3),
        &Outcome::Ok(10),
        "the connection is fine afterwards"
    );

    let t = play(&RustlsImpl::new(), &s, Tls::V13, &["auto_retry"]);
    assert_eq!(outcome(&t, 1), &Outcome::Ok(0));
    assert_eq!(outcome(&t, 2), &Outcome::Ok(0));
    assert_eq!(outcome(&t, 3), &Outcome::Ok(10));
    assert_eq!(t.delivery.received, 10);
}

#[test]
fn bad_retries_are_rejected() {
    let retry = |second: &str| {
        scenario(&format!(
            r#"{{"id": "t", "title": "t", "clauses": ["W6"], "transport": {{"capacity": 20000}},
                "steps": [{{"op": "handshake"}}, {{"op": "write", "len": 100000}}, {{"op": "peer_read"}},
                          {second}, {{"op": "write", "len": 100000}}]}}"#
        ))
    };
    let shorter = retry(r#"{"op": "write", "len": 10}"#);
    let moved = retry(r#"{"op": "write", "len": 100000, "buf": 1}"#);

    let t = play(&OpensslImpl::new(), &shorter, Tls::V13, &["auto_retry"]);
    assert_eq!(outcome(&t, 1), &Outcome::WantWrite);
    assert_eq!(outcome(&t, 3), &Outcome::Ssl("bad length".into()));
    // OpenSSL 3.0 treats the refusal as fatal: the proper retry now fails too (W12).
    assert_eq!(outcome(&t, 4), &Outcome::Syscall);
    let t = play(&OpensslImpl::new(), &moved, Tls::V13, &["auto_retry"]);
    assert_eq!(outcome(&t, 3), &Outcome::Ssl("bad write retry".into()));
    let t = play(
        &OpensslImpl::new(),
        &moved,
        Tls::V13,
        &["auto_retry", "moving_buffer"],
    );
    assert_eq!(
        outcome(&t, 3),
        &Outcome::WantWrite,
        "moving-buffer mode accepts it"
    );

    let t = play(&RustlsImpl::new(), &shorter, Tls::V13, &["auto_retry"]);
    assert_eq!(outcome(&t, 3), &Outcome::Ssl("bad length".into()));
    // rustls never holds the caller's pointer: another buffer is accepted in any mode.
    let t = play(&RustlsImpl::new(), &moved, Tls::V13, &["auto_retry"]);
    assert_eq!(outcome(&t, 3), &Outcome::WantWrite);
}

#[test]
fn negative_length() {
    let s = scenario(
        r#"{"id": "t", "title": "t", "clauses": ["W10"], "steps": [
            {"op": "handshake"}, {"op": "write_negative", "num": -1}, {"op": "write", "len": 5}]}"#,
    );
    let t = play(&OpensslImpl::new(), &s, Tls::V12, &["auto_retry"]);
    assert_eq!(outcome(&t, 1), &Outcome::Ssl("bad length".into()));
    assert_eq!(outcome(&t, 2), &Outcome::Ok(5));
    let t = play(&RustlsImpl::new(), &s, Tls::V12, &["auto_retry"]);
    assert!(matches!(outcome(&t, 1), Outcome::Skip(_)));
    assert!(matches!(t.status, RunStatus::Skipped { step: Some(1), .. }));
}

#[test]
fn blocking_write_that_cannot_finish_is_a_deadlock_not_a_hang() {
    let s = scenario(
        r#"{"id": "t", "title": "t", "clauses": ["W3"],
            "transport": {"capacity": 20000, "blocking": true},
            "steps": [{"op": "handshake"}, {"op": "peer_stop_reading"},
                      {"op": "write", "len": 100000}]}"#,
    );
    for imp in both() {
        let t = play(imp.as_ref(), &s, Tls::V13, &["auto_retry"]);
        assert_eq!(outcome(&t, 2), &Outcome::Deadlock, "{}", imp.info().name);
        assert_eq!(t.status, RunStatus::Deadlock { step: 2 });
        assert!(t.violations.is_empty(), "{:?}", t.violations);
    }
}

#[test]
fn blocking_write_returns_only_when_everything_is_written() {
    let s = scenario(
        r#"{"id": "t", "title": "t", "clauses": ["W3"],
            "transport": {"capacity": 16384, "blocking": true},
            "steps": [{"op": "handshake"}, {"op": "write", "len": 1000000}]}"#,
    );
    for imp in both() {
        let t = play(imp.as_ref(), &s, Tls::V12, &["auto_retry"]);
        assert_eq!(outcome(&t, 1), &Outcome::Ok(1000000), "{}", imp.info().name);
        assert_eq!(t.delivery.received, 1000000);
    }
}

#[test]
fn a_run_is_deterministic() {
    let s = scenario(LARGE_INTO_SMALL);
    for imp in both() {
        let a = play(imp.as_ref(), &s, Tls::V13, &["auto_retry"]);
        let b = play(imp.as_ref(), &s, Tls::V13, &["auto_retry"]);
        assert_eq!(a.steps, b.steps);
        assert_eq!(a.delivery, b.delivery);
        assert_eq!(
            a.wire.to_peer.len(),
            b.wire.to_peer.len(),
            "same records on the wire"
        );
    }
}

/// The clause table of a suite assembled from real runs: I1, I2 and I4 count every run (the
/// harness checks them in each), a known violation is `known`, and an `expect` without a
/// clause of its own is charged to the clause its outcome is defined by (here W4, want_write),
/// not to the scenario's first clause (W2).
#[test]
fn the_clause_table_counts_what_was_checked_and_charges_what_failed() {
    use sslwrite::known::Known;
    use sslwrite::scenario::{load_dir, KNOWN_DIVERGENCES_FILE};

    let dir = sslwrite::project_root().join("scenarios");
    let mut scenarios = load_dir(&dir).expect("scenarios load");
    scenarios.retain(|s| s.id == "sd-own-shutdown");
    scenarios.push(scenario(
        r#"{
  "id": "wrong-expectation", "title": "t", "clauses": ["W2", "W1"], "tls": ["1.3"],
  "transport": {"capacity": 100000},
  "steps": [
    {"op": "handshake", "expect": "ok(1)", "clause": "W2"},
    {"op": "write", "len": 100, "expect": "want_write"}
  ]
}"#,
    ));
    let known = Known::load(&dir.join(KNOWN_DIVERGENCES_FILE)).expect("known divergences load");
    let report = common::judged(&scenarios, &both(), &known, "clause-test");
    let n = report.scenarios.len();
    let row = |clause: &str| -> Vec<String> {
        report
            .clause_table()
            .lines()
            .find(|l| l.split_whitespace().next() == Some(clause))
            .unwrap_or_else(|| panic!("{clause} row"))
            .split_whitespace()
            .map(str::to_string)
            .collect()
    };
    let words = |s: &str| s.split_whitespace().map(str::to_string).collect::<Vec<_>>();
    for inv in ["I2", "I4"] {
        assert_eq!(
            row(inv),
            words(&format!("{inv} {n} conforms ({n}) conforms ({n})")),
            "{}",
            report.clause_table()
        );
    }
    let shutdown_runs = n - 1;
    // rustls's I1 violations in sd-own-shutdown are known ones: not `violates`.
    assert_eq!(
        row("I1"),
        words(&format!(
            "I1 {n} conforms ({n}) known ({shutdown_runs} of {n})"
        )),
        "{}",
        report.clause_table()
    );
    assert_eq!(
        row("W4"),
        words("W4 1 violates (1 of 1) violates (1 of 1)"),
        "{}",
        report.clause_table()
    );
    let wrong = report
        .scenarios
        .iter()
        .find(|s| s.id == "wrong-expectation")
        .unwrap();
    for t in wrong.results.values() {
        let v: Vec<(&str, Option<usize>)> = t
            .violations
            .iter()
            .map(|v| (v.clause.as_str(), v.step))
            .collect();
        assert_eq!(v, [("W4", Some(1))]);
    }
    // W2: the handshake's expectation, checked in every run that has one, held.
    assert_eq!(row("W2")[1], n.to_string(), "{}", report.clause_table());
}

/// A zero-length write's failure is an answer to that call alone (W9), not the fatal error W12
/// is about: OpenSSL 3.0 answers every zero-length SSL_write with 0 and SSL_ERROR_SYSCALL, and
/// the connection goes on, so the next write's success is no W12 violation. Before, it was
/// one, in fixed scenarios and in the fuzz witnesses that replay generated runs.
#[test]
fn a_zero_length_writes_failure_does_not_make_the_next_write_a_w12_violation() {
    let s = scenario(
        r#"{"id": "zero-then-write", "title": "a zero-length write, then a write",
        "clauses": ["W9", "W12"], "tls": ["1.3"],
        "steps": [{"op": "handshake"}, {"op": "write", "len": 0}, {"op": "write", "len": 100}]}"#,
    );
    let t = play(&OpensslImpl::new(), &s, Tls::V13, &["auto_retry"]);
    if OpensslImpl::new()
        .info()
        .version
        .starts_with("OpenSSL 3.0.")
    {
        assert_eq!(outcome(&t, 1), &Outcome::Syscall);
    }
    assert_eq!(outcome(&t, 2), &Outcome::Ok(100));
    assert!(
        t.violations.iter().all(|v| v.clause != "W12"),
        "{:?}",
        t.violations
    );
}
