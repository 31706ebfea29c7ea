//! Bad scenario files get an error that names the file, the place and the problem.

use std::path::Path;

use sslwrite::scenario::Scenario;

fn err(text: &[u8]) -> String {
    Scenario::parse(Path::new("scenarios/bad.json"), text)
        .expect_err("the file must be refused")
        .to_string()
}

const OK_HEAD: &str = r#"{"id": "x", "title": "t", "clauses": ["W1"], "steps": ["#;

#[test]
fn truncated_json_names_line_and_column() {
    let e = err(b"{\n  \"id\": \"x\",\n  \"title\": ");
    assert!(e.starts_with("scenarios/bad.json:3:"), "{e}");
    assert!(e.contains("EOF"), "{e}");
}

#[test]
fn unknown_field_is_refused_with_its_name() {
    let e = err(format!("{OK_HEAD}{{\"op\": \"write\", \"len\": 5, \"lenght\": 6}}]}}").as_bytes());
    assert!(e.starts_with("scenarios/bad.json:1:"), "{e}");
    assert!(e.contains("unknown field `lenght`"), "{e}");
    let e = err(br#"{"id": "x", "title": "t", "clauses": ["W1"], "steps": [], "colour": 1}"#);
    assert!(e.contains("unknown field `colour`"), "{e}");
}

#[test]
fn unknown_op_lists_the_known_ones() {
    let e = err(format!("{OK_HEAD}{{\"op\": \"wirte\", \"len\": 5}}]}}").as_bytes());
    assert!(e.contains("unknown variant `wirte`"), "{e}");
    assert!(e.contains("write_ex"), "{e}");
}

#[test]
fn unknown_clause_and_situation() {
    let e =
        err(br#"{"id": "x", "title": "t", "clauses": ["W99"], "steps": [{"op": "handshake"}]}"#);
    assert!(e.contains("unknown clause \"W99\""), "{e}");
    assert!(e.starts_with("scenarios/bad.json:1:"), "{e}");
    let e = err(
        br#"{"id": "x", "title": "t", "clauses": ["W1"], "situations": ["XX-1"], "steps": [{"op": "handshake"}]}"#,
    );
    assert!(e.contains("unknown situation \"XX-1\""), "{e}");
}

#[test]
fn absurd_and_negative_sizes() {
    let e = err(format!("{OK_HEAD}{{\"op\": \"write\", \"len\": 1099511627776}}]}}").as_bytes());
    assert!(
        e.contains("length 1099511627776 is larger than the limit"),
        "{e}"
    );
    let e = err(format!("{OK_HEAD}{{\"op\": \"write\", \"len\": -5}}]}}").as_bytes());
    assert!(e.contains("invalid value: integer `-5`"), "{e}");
    let e = err(br#"{"id": "x", "title": "t", "clauses": ["W1"], "transport": {"capacity": 1099511627776}, "steps": [{"op": "handshake"}]}"#);
    assert!(
        e.contains("capacity 1099511627776 is larger than the limit"),
        "{e}"
    );
}

#[test]
fn wrong_types_and_bad_expectations() {
    let e = err(format!("{OK_HEAD}{{\"op\": \"write\", \"len\": \"many\"}}]}}").as_bytes());
    assert!(e.contains("invalid type: string \"many\""), "{e}");
    let e = err(
        format!("{OK_HEAD}{{\"op\": \"write\", \"len\": 1, \"expect\": \"okay\"}}]}}").as_bytes(),
    );
    assert!(e.contains("not an outcome: \"okay\""), "{e}");
    let e = err(br#"{"id": "x", "title": "t", "clauses": ["W1"], "modes": [["turbo"]], "steps": [{"op": "handshake"}]}"#);
    assert!(e.contains("unknown mode \"turbo\""), "{e}");
}

#[test]
fn cross_field_problems_name_the_scenario_and_step() {
    let e = err(br#"{"id": "x", "title": "t", "clauses": ["W5"], "steps": [{"op": "handshake"}, {"op": "renegotiate"}]}"#);
    assert!(
        e.contains("scenario \"x\": step 1 (renegotiate) exists only in TLS 1.2"),
        "{e}"
    );
    let e = err(br#"{"id": "x", "title": "t", "clauses": [], "steps": [{"op": "handshake"}]}"#);
    assert!(e.contains("names no clause"), "{e}");
    let e = err(
        br#"{"id": "Bad Id", "title": "t", "clauses": ["W1"], "steps": [{"op": "handshake"}]}"#,
    );
    assert!(e.contains("id must be"), "{e}");
}

#[test]
fn non_utf8_and_deep_nesting() {
    let e = err(b"{\"id\": \"\xff\xfe\"}");
    assert!(e.contains("not UTF-8"), "{e}");
    let deep = "[".repeat(100_000);
    let e = err(deep.as_bytes());
    assert!(e.starts_with("scenarios/bad.json:1:"), "{e}");
}

#[test]
fn duplicate_ids_across_files() {
    let dir = std::env::temp_dir().join(format!("sslwrite-dup-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let body =
        br#"{"id": "same", "title": "t", "clauses": ["W1"], "steps": [{"op": "handshake"}]}"#;
    std::fs::write(dir.join("a.json"), body).unwrap();
    std::fs::write(dir.join("b.json"), body).unwrap();
    let errors = sslwrite::scenario::load_dir(&dir).expect_err("duplicates refused");
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(errors.len(), 1);
    let e = errors[0].to_string();
    assert!(
        e.contains("b.json: duplicate scenario id \"same\" (also in"),
        "{e}"
    );
}

#[test]
fn early_data_steps_need_the_option_and_tls_1_3() {
    let e = err(
        br#"{"id": "x", "title": "t", "clauses": ["W1"], "tls": ["1.3"], "steps": [{"op": "write_early", "len": 10}]}"#,
    );
    assert!(
        e.contains("needs a resumed session: set connection.early_data"),
        "{e}"
    );
    let e = err(
        br#"{"id": "x", "title": "t", "clauses": ["W1"], "connection": {"early_data": true}, "steps": [{"op": "handshake"}]}"#,
    );
    assert!(
        e.contains("connection.early_data exists only in TLS 1.3"),
        "{e}"
    );
}
