//! The JSON report and reports/schema-v2.json describe the same format.
//!
//! A real report (a few scenarios chosen for the optional fields they produce, played
//! in-process on both implementations, plus the few fields a clean suite never shows) is checked
//! against the schema by the small validator in `json_schema/` (shared with the scenario
//! schema's test; any keyword it does not know fails the test, so the schema cannot outgrow it).
//! Drift either way fails: a field the Rust types add is an additional property; a field they
//! drop is a missing required one, or a declared property no report shows.

use std::collections::BTreeSet;

use serde_json::{json, Value};
use sslwrite::known::Known;
use sslwrite::project_root;
use sslwrite::report::{Report, SCHEMA_VERSION};
use sslwrite::scenario::{load_dir, KNOWN_DIVERGENCES_FILE};

use crate::json_schema;
use json_schema::{open_objects, validate, Validator};

use crate::common;

/// Scenarios whose runs carry the optional fields: a violation with its known entry and the
/// peer's end (sd-own-shutdown), a deadlock and error strings (io-blocking-deadlock), a skip
/// with no step (hs-no-state), a violation at a step (rt-other-buffer-fixed), a run-level
/// difference (rn-peer-requests-mid-write), `written` (hs-zero-length-first), loops
/// (pw-large-into-small-transport), `resumed` (hs-resumed-implicit-write).
const SCENARIOS: [&str; 8] = [
    "sd-own-shutdown",
    "io-blocking-deadlock",
    "hs-no-state",
    "rt-other-buffer-fixed",
    "rn-peer-requests-mid-write",
    "hs-zero-length-first",
    "pw-large-into-small-transport",
    "hs-resumed-implicit-write",
];

fn schema() -> Value {
    let path = project_root()
        .join("reports")
        .join(format!("schema-v{SCHEMA_VERSION}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{} must exist for schema_version {SCHEMA_VERSION}: {e}",
            path.display()
        )
    });
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// A real report as JSON, with an erred run, a first mismatch, unlisted records and a capped
/// loop added.
fn report() -> Value {
    let dir = project_root().join("scenarios");
    let mut scenarios = load_dir(&dir).expect("scenarios load");
    scenarios.retain(|s| SCENARIOS.contains(&s.id.as_str()));
    assert_eq!(
        scenarios.len(),
        SCENARIOS.len(),
        "every listed scenario exists"
    );
    let known = Known::load(&dir.join(KNOWN_DIVERGENCES_FILE)).expect("known divergences load");
    let report = common::judged(&scenarios, &common::default_impls(), &known, "schema-test");
    // Fields a clean suite never shows, set on the JSON and passed through the Rust types and
    // back: a field the types do not have disappears and the coverage check names it.
    let mut value = serde_json::to_value(&report).expect("a report serializes");
    let mut extra = value["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "sd-own-shutdown")
        .expect("sd-own-shutdown ran")
        .clone();
    extra["run"] = json!(format!("{}-synthetic", extra["run"].as_str().unwrap()));
    for trace in extra["results"].as_object_mut().unwrap().values_mut() {
        let t = trace.as_object_mut().unwrap();
        t.retain(|k, _| !["step", "reason"].contains(&k.as_str()));
        t.insert("status".into(), json!("error"));
        t.insert("message".into(), json!("set-up failed"));
        trace["delivery"]["first_mismatch"] = json!({"offset": 7, "expected": 1, "received": 2});
        trace["wire"]["unlisted"] = json!(3);
        trace["steps"][0]["capped"] = json!(true);
        trace["steps"][0]["calls_omitted"] = json!(12);
    }
    value["scenarios"]
        .as_array_mut()
        .unwrap()
        .push(extra.clone());
    // A worker that died (crash: signal, stderr) and one that hung (timeout), over TCP.
    let mut died = extra;
    died["run"] = json!(format!("{}-died", died["run"].as_str().unwrap()));
    died["transport"] = json!("tcp");
    // Its behaviour matrix, with every kind of observation: a call, a step not reached, an end.
    died["matrix"] = json!([
        {"step": 2, "op": "write_all api=write buf=0 len=100", "groups": [
            {"observation": {"outcome": "ok(100)", "ret": 100, "bytes": 100},
             "implementations": ["openssl"]},
            {"observation": {"status": "crash"}, "implementations": ["rustls"]}]},
        {"step": 3, "op": "write len=100000", "groups": [
            {"observation": {"outcome": "ok", "timing": {"transport": "tcp", "cause": "send_buffer_full"}},
             "implementations": ["openssl"]},
            {"observation": {"outcome": "want_write", "timing": {"transport": "tcp", "cause": "send_buffer_full"}},
             "implementations": ["rustls"]}]},
        {"step": null, "op": "end", "groups": [
            {"observation": {"status": "crash", "received": 0}, "implementations": ["openssl"]},
            {"observation": {"status": "timeout", "received": 0}, "implementations": ["rustls"]}]}
    ]);
    let mut traces = died["results"].as_object_mut().unwrap().values_mut();
    let crash = traces.next().unwrap().as_object_mut().unwrap();
    crash.insert("status".into(), json!("crash"));
    crash.insert("step".into(), json!(2));
    crash.insert("signal".into(), json!("SIGSEGV"));
    crash.insert("stderr".into(), json!("free(): invalid pointer"));
    // Over TCP: the kernel's timing decided how much of a write got through (the marker).
    let blocked = json!({"transport": "tcp", "cause": "blocked"});
    crash.insert("timing".into(), blocked.clone());
    crash["wire"]["timing"] = blocked.clone();
    crash["steps"].as_array_mut().unwrap()[0]
        .as_object_mut()
        .unwrap()
        .insert("timing".into(), blocked);
    let timeout = traces.next().unwrap().as_object_mut().unwrap();
    timeout.insert("status".into(), json!("timeout"));
    timeout.insert("step".into(), json!(null));
    timeout.insert("stderr".into(), json!("still waiting"));
    // Queue and wire differences (a clean default suite has none), one explained by an entry
    // about the reference.
    died["aspects"] = json!([
        {"kind": "queue", "aspect": "reasons", "implementation": "rustls", "reference": "openssl",
         "step": 2, "reference_value": "(empty)", "value": "io error"},
        {"kind": "wire", "aspect": "alerts", "implementation": "rustls", "reference": "openssl",
         "step": null, "reference_value": "alerts=1", "value": "alerts=0",
         "entry": "sd-own-shutdown/openssl/alert", "describes": "openssl"}
    ]);
    died["aspects_omitted"] = json!(3);
    value["scenarios"].as_array_mut().unwrap().push(died);
    // An entry about the reference explained a column's difference; an entry went unused.
    let described = value["scenarios"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|s| !s["known"].as_array().unwrap().is_empty())
        .expect("a run with a known difference");
    described["known"][0]["describes"] = json!("openssl");
    value["summary"]["stale_entries"] = json!({"rustls": ["z-write-zero/rustls/step1-W9"]});
    // A clause broken with no known reason.
    value["clauses"]["W6"]["implementations"]["rustls"]["verdict"] = json!("violates");
    value["clauses"]["W6"]["implementations"]["rustls"]["violating_runs"] =
        json!(["rt-other-buffer-fixed/tls1.3/client/auto_retry"]);
    value["transport_differences"] = json!([{
        "run": "sd-own-shutdown/tls1.3/client/auto_retry", "implementation": "openssl",
        "step": 3, "field": "outcome", "memory": "want_write", "tcp": "ok(100)"
    }]);
    // One shard of a sharded run (--shard I/N).
    value["shard"] = json!({
        "index": 2, "count": 3, "suite": ["sd-own-shutdown/tls1.3/client/auto_retry"],
        "digest": "cbf29ce484222325", "known_uses": [0, 1],
        "unused_known": [{"entry": 0, "warning": "known-divergence entry 0 matches nothing"}],
        "run_warnings": [{"run": "sd-own-shutdown/tls1.3/client/auto_retry", "warning": "agrees"}]
    });
    // A library loaded at run time (--impl libssl:PATH@label) describes itself.
    value["implementations"].as_array_mut().unwrap().push(json!({
        "name": "system", "version": "OpenSSL 3.0.19 27 Jan 2026", "family": "openssl",
        "library": {
            "path": "libssl.so.3", "file": "/usr/lib/libssl.so.3",
            "libcrypto": "/usr/lib/libcrypto.so.3", "version_number": "0x30000130",
            "abi": "OpenSSL 3.x libssl ABI", "build": ["platform: debian-amd64"],
            "loaded": "dlmopen: a link namespace of its own", "missing_symbols": ["SSLeay_version"],
            "fallbacks": ["SSL_get0_param + X509_VERIFY_PARAM_set1_host for SSL_set1_host"]
        }
    }));
    let report: Report = serde_json::from_value(value).expect("the edited report still reads");
    serde_json::to_value(&report).expect("a report serializes")
}

#[test]
fn a_real_report_matches_the_schema_and_shows_every_declared_field() {
    let schema = schema();
    let report = report();
    let (errors, seen) = validate(&schema, &report);
    assert!(
        errors.is_empty(),
        "the report does not match the schema:\n{}",
        errors.join("\n")
    );
    let mut declared = BTreeSet::new();
    Validator::declared(&schema, "#", &mut declared);
    let unseen: Vec<&String> = declared.difference(&seen).collect();
    assert!(
        unseen.is_empty(),
        "the schema declares fields no report has (dropped from the Rust types?): {unseen:#?}"
    );
}

#[test]
fn every_object_in_the_schema_closes_its_fields() {
    let open = open_objects(&schema());
    assert!(
        open.is_empty(),
        "objects without additionalProperties: {open:?}"
    );
}

#[test]
fn the_validator_rejects_an_extra_field() {
    let schema = schema();
    let mut report = report();
    report["surprise"] = json!(1);
    let trace = report["scenarios"][0]["results"]
        .as_object_mut()
        .unwrap()
        .values_mut()
        .next()
        .unwrap();
    trace["steps"][0]["elapsed_ns"] = json!(12);
    let (errors, _) = validate(&schema, &report);
    assert!(
        errors
            .iter()
            .any(|e| e == ": field \"surprise\" is not in the schema"),
        "{errors:?}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e.ends_with("/steps/0: field \"elapsed_ns\" is not in the schema")),
        "{errors:?}"
    );
}

/// The timing marker is typed: a cause the runner never sets, or one without its transport,
/// is not a report.
#[test]
fn the_validator_rejects_a_timing_marker_of_another_shape() {
    let schema = schema();
    let mut report = report();
    let trace = &mut report["scenarios"][0]["results"]["openssl"];
    trace["timing"] = json!({"transport": "tcp", "cause": "slow"});
    trace["steps"][0]["timing"] = json!({"cause": "blocked"});
    let (errors, _) = validate(&schema, &report);
    for expected in [
        "/scenarios/0/results/openssl/timing/cause",
        "/scenarios/0/results/openssl/steps/0/timing: required field \"transport\" is missing",
    ] {
        assert!(
            errors.iter().any(|e| e.starts_with(expected)),
            "{expected} in {errors:?}"
        );
    }
}

#[test]
fn the_validator_rejects_a_missing_required_field_and_a_wrong_type() {
    let schema = schema();
    let mut report = report();
    report.as_object_mut().unwrap().remove("summary");
    report["scenarios"][0]["verdict"] = json!("maybe");
    report["scenarios"][0]["results"]["openssl"]
        .as_object_mut()
        .unwrap()
        .remove("delivery");
    report["duration_ms"] = json!("fast");
    let (errors, _) = validate(&schema, &report);
    for expected in [
        ": required field \"summary\" is missing",
        "/scenarios/0/results/openssl: required field \"delivery\" is missing",
        "/duration_ms: \"fast\" is not of type \"integer\"",
    ] {
        assert!(
            errors.iter().any(|e| e == expected),
            "{expected:?} not in {errors:#?}"
        );
    }
    assert!(errors
        .iter()
        .any(|e| e.starts_with("/scenarios/0/verdict: \"maybe\" is not one of")));
}

#[test]
fn the_clause_verdicts_of_the_schema_are_those_of_the_report_types() {
    use sslwrite::report::ClauseVerdict;
    let all = [
        ClauseVerdict::Conforms,
        ClauseVerdict::Violates,
        ClauseVerdict::Known,
        ClauseVerdict::RecordedOnly,
        ClauseVerdict::NotExercised,
    ];
    let written: Vec<Value> = all
        .iter()
        .map(|v| {
            let j = serde_json::to_value(v).unwrap();
            assert_eq!(j, json!(v.as_str()));
            j
        })
        .collect();
    assert_eq!(
        schema()["$defs"]["clause_standing"]["properties"]["verdict"]["enum"],
        json!(written)
    );
}

#[test]
fn the_schema_is_the_one_for_this_schema_version() {
    let schema = schema();
    assert_eq!(
        schema["properties"]["schema_version"]["const"],
        json!(SCHEMA_VERSION),
        "bump the schema file with SCHEMA_VERSION"
    );
    assert_eq!(
        schema["$schema"],
        json!("https://json-schema.org/draft/2020-12/schema")
    );
}

#[test]
fn reports_readme_names_every_field_of_the_schema() {
    let readme = std::fs::read_to_string(project_root().join("reports").join("README.md")).unwrap();
    let mut declared = BTreeSet::new();
    Validator::declared(&schema(), "#", &mut declared);
    let names: BTreeSet<&str> = declared
        .iter()
        .filter_map(|p| p.rsplit("/properties/").next())
        .filter(|n| !n.starts_with(['W', 'I']) || n.len() > 3)
        .collect();
    let whole_word = |name: &str| {
        readme.match_indices(name).any(|(i, _)| {
            let before = readme[..i].chars().next_back();
            let after = readme[i + name.len()..].chars().next();
            let word = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
            !word(before) && !word(after)
        })
    };
    let missing: Vec<&&str> = names.iter().filter(|n| !whole_word(n)).collect();
    assert!(
        missing.is_empty(),
        "reports/README.md does not mention: {missing:?}"
    );
}
