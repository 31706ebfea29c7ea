//! The loader on the scriptable peer's fields: `inject_record`'s payload and bounds, the peer
//! steps and `connection.peer`, each refused with its place or its scenario and step.

use std::path::Path;

use super::*;

fn parse(text: &str) -> Result<Scenario, String> {
    Scenario::parse(Path::new("scenarios/bad.json"), text.as_bytes()).map_err(|e| e.to_string())
}

/// A scenario whose steps are `steps` (JSON), on lines of their own after line 2.
fn with_steps(steps: &str) -> String {
    format!("{{\"id\": \"x\", \"title\": \"t\", \"clauses\": [\"W1\"],\n\"steps\": [\n{steps}\n]}}")
}

fn with_peer(peer: &str, rest: &str) -> String {
    format!(
        "{{\"id\": \"x\", \"title\": \"t\", \"clauses\": [\"W1\"], {rest}\n\"connection\": {{\"peer\": {peer}}},\n\"steps\": [{{\"op\": \"handshake\"}}]}}"
    )
}

#[test]
fn the_ten_byte_record_loads_and_round_trips() {
    let s = parse(&with_steps(
        r#"{"op": "inject_record", "content_type": 23, "payload": "68 65 6c 6c 6f"}"#,
    ))
    .unwrap();
    let Step::InjectRecord {
        content_type,
        version,
        payload,
        len,
    } = &s.steps[0]
    else {
        panic!("not an inject_record: {:?}", s.steps[0]);
    };
    assert_eq!(
        (*content_type, *version, len),
        (23, RecordVersion(0x0303), &None)
    );
    assert_eq!(payload.as_ref().unwrap().0, b"hello");
    let again = Scenario::parse(Path::new("again.json"), s.to_json().as_bytes()).unwrap();
    assert_eq!(again.steps, s.steps);
    assert!(
        s.to_json().contains("\"payload\": \"68656c6c6f\""),
        "{}",
        s.to_json()
    );
}

/// A step is read whole before its fields are (serde buffers a tagged enum), so a bad field's
/// place is where its step ends, and the message names the step.
const AFTER_STEP_0: &str = "scenarios/bad.json:4:1: step 0: ";

#[test]
fn a_bad_hex_payload_is_refused_at_its_place() {
    let e = parse(&with_steps(
        r#"{"op": "inject_record", "content_type": 23, "payload": "68zz"}"#,
    ))
    .unwrap_err();
    assert!(e.starts_with(AFTER_STEP_0), "{e}");
    assert!(
        e.contains("payload character 'z' at position 2 is not a hex digit"),
        "{e}"
    );
    let e = parse(&with_steps(
        r#"{"op": "inject_record", "content_type": 23, "payload": "686"}"#,
    ))
    .unwrap_err();
    assert!(e.starts_with(AFTER_STEP_0), "{e}");
    assert!(e.contains("3 hex digits"), "{e}");
}

#[test]
fn payloads_and_lengths_are_bounded_by_the_length_field() {
    let big = "00".repeat(crate::record::MAX_RECORD_PAYLOAD + 1);
    let e = parse(&with_steps(&format!(
        r#"{{"op": "inject_record", "content_type": 23, "payload": "{big}"}}"#
    )))
    .unwrap_err();
    assert!(e.starts_with(AFTER_STEP_0), "{e}");
    assert!(e.contains("payload is 65536 bytes"), "{e}");
    let e = parse(&with_steps(
        r#"{"op": "inject_record", "content_type": 23, "len": 65536}"#,
    ))
    .unwrap_err();
    assert!(e.starts_with(AFTER_STEP_0), "{e}");
    assert!(e.contains("65536"), "{e}");
    let e = parse(&with_steps(
        r#"{"op": "inject_record", "content_type": 256, "len": 1}"#,
    ))
    .unwrap_err();
    assert!(e.contains("256"), "{e}");
    parse(&with_steps(
        r#"{"op": "inject_record", "content_type": 21, "version": "0301", "len": 65535}"#,
    ))
    .unwrap();
}

#[test]
fn inject_record_needs_exactly_one_of_payload_and_len() {
    for body in [r#""payload": "00", "len": 1"#, r#""version": "0303""#] {
        let e = parse(&with_steps(&format!(
            r#"{{"op": "handshake"}}, {{"op": "inject_record", "content_type": 23, {body}}}"#
        )))
        .unwrap_err();
        assert!(
            e.contains("scenario \"x\": step 1: inject_record needs exactly one of payload"),
            "{e}"
        );
    }
    let e = parse(&with_steps(
        r#"{"op": "inject_record", "content_type": 23, "version": "3.3", "len": 1}"#,
    ))
    .unwrap_err();
    assert!(
        e.contains("record version \"3.3\" is not four hex digits"),
        "{e}"
    );
}

#[test]
fn peer_write_split_needs_something_on_both_sides() {
    let e = parse(&with_steps(
        r#"{"op": "peer_write_split", "len": 10, "first": 0}"#,
    ))
    .unwrap_err();
    assert!(
        e.contains("step 0: peer_write_split needs len >= 1 and first >= 1"),
        "{e}"
    );
    parse(&with_steps(
        r#"{"op": "peer_write_split", "len": 10, "first": 3}, {"op": "peer_empty_record"}, {"op": "peer_warning_alert", "description": 100}"#,
    ))
    .unwrap();
}

#[test]
fn peer_options_are_checked_where_they_say_something() {
    let ok = parse(&with_peer(
        r#"{"tls13_tickets": 2, "key": "rsa2048", "groups": "X25519:P-256"}"#,
        r#""tls": ["1.3"],"#,
    ))
    .unwrap();
    assert_eq!(ok.connection.peer.tls13_tickets, Some(2));
    assert_eq!(ok.connection.peer.key, KeyType::Rsa2048);
    let cases = [
        (
            r#"{"tls13_tickets": 17}"#,
            r#""tls": ["1.3"],"#,
            "tls13_tickets 17 is more than the limit of 16",
        ),
        (
            r#"{"tls13_tickets": 0}"#,
            "",
            "tls13_tickets is about a TLS 1.3 server peer",
        ),
        (
            r#"{"tls13_tickets": 0}"#,
            r#""tls": ["1.3"], "roles": ["server"],"#,
            "tls13_tickets is about a TLS 1.3 server peer",
        ),
        (
            r#"{"refuse_client_renegotiation": true}"#,
            r#""tls": ["1.3"],"#,
            "refuse_client_renegotiation is about a TLS 1.2 server peer",
        ),
        (
            r#"{"key": "dsa"}"#,
            "",
            "unknown variant `dsa`, expected one of `ed25519`, `p256`, `rsa2048`",
        ),
        (
            r#"{"key": "p256"}"#,
            r#""roles": ["client", "server"],"#,
            "connection.peer.key is the peer server's certificate",
        ),
        (
            r#"{"groups": "X25519\u0000P-256"}"#,
            "",
            "control character",
        ),
        (
            r#"{"cipher": "AES128-SHA"}"#,
            "",
            "connection.peer.cipher is a TLS 1.2 cipher list",
        ),
        (r#"{"colour": 1}"#, "", "unknown field `colour`"),
    ];
    for (peer, rest, want) in cases {
        let e = parse(&with_peer(peer, rest)).unwrap_err();
        assert!(e.contains(want), "{peer} {rest}: {e}");
    }
    let e = parse(&with_peer(r#"{"tls13_tickets": 17}"#, r#""tls": ["1.3"],"#)).unwrap_err();
    assert!(e.starts_with("scenarios/bad.json:2:"), "{e}");
}

#[test]
fn peer_options_and_resumption_do_not_mix() {
    let e = parse(
        "{\"id\": \"x\", \"title\": \"t\", \"clauses\": [\"W1\"], \"connection\": {\"resume\": true, \"peer\": {\"groups\": \"P-256\"}}, \"steps\": [{\"op\": \"handshake\"}]}",
    )
    .unwrap_err();
    assert!(
        e.contains("connection.peer cannot be set with resume or early_data"),
        "{e}"
    );
}
