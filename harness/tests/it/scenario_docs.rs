//! scenarios/schema.json, scenarios/README.md and the scenario model (harness/src/scenario.rs)
//! describe the same format.
//!
//! The ops and fields serde accepts are taken from serde itself: deserializing an unknown op or
//! field through an error type of our own receives the derive's list of every variant or field
//! (`unknown_variant`, `unknown_field`), so no list is kept by hand. The schema must declare
//! exactly those; its required fields must be the ones serde cannot do without, its `default`s
//! serde's defaults, each optional field (with the schema's example) must load and come back.
//! Every shipped scenario file must match the schema, a few bad ones must be refused by both,
//! and the README must name every op and field and have a JSON example of every op, each of
//! which loads through the real loader.

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use sslwrite::project_root;
use sslwrite::scenario::{
    load_dir, ConnectionSpec, Scenario, Step, TransportSpec, KNOWN_DIVERGENCES_FILE, SCHEMA_FILE,
};

use crate::common;
use crate::json_schema;
use json_schema::{open_objects, validate, Validator};

fn schema() -> Value {
    let path = project_root().join("scenarios").join(SCHEMA_FILE);
    let text = std::fs::read_to_string(&path).expect("scenarios/schema.json exists");
    serde_json::from_str(&text).expect("scenarios/schema.json is JSON")
}

fn readme() -> String {
    std::fs::read_to_string(project_root().join("scenarios").join("README.md"))
        .expect("scenarios/README.md exists")
}

/// What serde's derive tells a deserializer's error type about the names it knows.
#[derive(Debug)]
enum Names {
    Variants(&'static [&'static str]),
    Fields(&'static [&'static str]),
    Other(String),
}

impl fmt::Display for Names {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Names::Variants(v) => write!(f, "variants {v:?}"),
            Names::Fields(v) => write!(f, "fields {v:?}"),
            Names::Other(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for Names {}

impl serde::de::Error for Names {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Names::Other(msg.to_string())
    }
    fn unknown_variant(_: &str, expected: &'static [&'static str]) -> Self {
        Names::Variants(expected)
    }
    fn unknown_field(_: &str, expected: &'static [&'static str]) -> Self {
        Names::Fields(expected)
    }
}

/// The names serde's derive gives when `T` meets the map `entries` (which holds an unknown
/// name).
fn names<T: DeserializeOwned + fmt::Debug>(entries: &[(&'static str, &'static str)]) -> Names {
    let d = serde::de::value::MapDeserializer::<_, Names>::new(entries.iter().copied());
    T::deserialize(d).expect_err("an unknown name is refused")
}

fn fields_of<T: DeserializeOwned + fmt::Debug>() -> BTreeSet<String> {
    match names::<T>(&[("\u{0}unknown", "")]) {
        Names::Fields(f) => f.iter().map(ToString::to_string).collect(),
        other => panic!("expected the field list, got {other:?}"),
    }
}

/// Every op `Step` accepts.
fn serde_ops() -> BTreeSet<String> {
    match names::<Step>(&[("op", "\u{0}unknown")]) {
        Names::Variants(v) => v.iter().map(ToString::to_string).collect(),
        other => panic!("expected the variant list, got {other:?}"),
    }
}

/// The fields step `op` accepts besides `op`.
fn serde_step_fields(op: &'static str) -> BTreeSet<String> {
    match names::<Step>(&[("op", op), ("\u{0}unknown", "")]) {
        Names::Fields(f) => f.iter().map(ToString::to_string).collect(),
        other => panic!("{op}: expected the field list, got {other:?}"),
    }
}

/// The schema a `$ref` (or nothing) leads to.
fn resolve<'a>(root: &'a Value, s: &'a Value) -> &'a Value {
    match s.get("$ref").and_then(Value::as_str) {
        Some(r) => resolve(root, &root["$defs"][r.strip_prefix("#/$defs/").unwrap()]),
        None => s,
    }
}

/// The object schemas of the format: the file, its `transport` and `connection`, each step.
fn objects(root: &Value) -> Vec<(String, &Value)> {
    let mut out = vec![
        ("scenario".to_string(), root),
        ("transport".to_string(), &root["$defs"]["transport"]),
        ("connection".to_string(), &root["$defs"]["connection"]),
    ];
    for (op, s) in schema_steps(root) {
        out.push((format!("step {op}"), s));
    }
    out
}

/// Each step's schema, by its `op`.
fn schema_steps(root: &Value) -> Vec<(String, &Value)> {
    root["$defs"]["step"]["oneOf"]
        .as_array()
        .expect("$defs/step is a oneOf")
        .iter()
        .map(|r| {
            let s = resolve(root, r);
            let op = s["properties"]["op"]["const"]
                .as_str()
                .expect("each step schema has a const op");
            (op.to_string(), s)
        })
        .collect()
}

fn properties(s: &Value) -> BTreeSet<String> {
    s["properties"]
        .as_object()
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default()
}

fn required(s: &Value) -> BTreeSet<String> {
    s["required"]
        .as_array()
        .map(|r| r.iter().map(|x| x.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

/// A value the schema `s` describes: its const, first example, default or enum value, else one
/// built from its type (an object with its required fields only).
fn example(root: &Value, s: &Value) -> Value {
    if let Some(c) = s.get("const") {
        return c.clone();
    }
    if let Some(e) = s.get("examples").and_then(|e| e.get(0)) {
        return e.clone();
    }
    if let Some(d) = s.get("default") {
        return d.clone();
    }
    if let Some(e) = s.get("enum").and_then(|e| e.get(0)) {
        return e.clone();
    }
    if s.get("$ref").is_some() {
        return example(root, resolve(root, s));
    }
    if let Some(first) = ["anyOf", "oneOf"]
        .iter()
        .find_map(|k| s.get(*k).and_then(|o| o.get(0)))
    {
        return example(root, first);
    }
    match s["type"].as_str() {
        Some("boolean") => json!(true),
        Some("integer") => s.get("minimum").cloned().unwrap_or(json!(0)),
        Some("string") => json!("x"),
        Some("array") => json!([example(root, &s["items"])]),
        Some("object") => Value::Object(
            required(s)
                .iter()
                .map(|k| (k.clone(), example(root, &s["properties"][k])))
                .collect(),
        ),
        other => panic!("no example for a schema of type {other:?}: {s}"),
    }
}

/// Loads `v` as the Rust type of object `what`, and serializes it back.
fn through_serde(what: &str, v: &Value) -> Result<Value, String> {
    fn go<T: DeserializeOwned + serde::Serialize>(v: &Value) -> Result<Value, String> {
        let t: T = serde_json::from_value(v.clone()).map_err(|e| e.to_string())?;
        Ok(serde_json::to_value(&t).unwrap())
    }
    match what {
        "scenario" => Scenario::parse(
            Path::new("example.json"),
            serde_json::to_string(v).unwrap().as_bytes(),
        )
        .map(|s| serde_json::to_value(&s).unwrap())
        .map_err(|e| e.to_string()),
        "transport" => go::<TransportSpec>(v),
        "connection" => go::<ConnectionSpec>(v),
        _ => go::<Step>(v),
    }
}

#[test]
fn the_schema_declares_exactly_the_ops_and_fields_serde_accepts() {
    let root = schema();
    let schema_ops: BTreeSet<String> = schema_steps(&root).into_iter().map(|(op, _)| op).collect();
    assert_eq!(
        schema_ops,
        serde_ops(),
        "ops: schema (left) vs Step (right)"
    );
    for (op, s) in schema_steps(&root) {
        let mut declared = properties(s);
        assert!(declared.remove("op"), "{op}");
        let op: &'static str = Box::leak(op.into_boxed_str());
        assert_eq!(
            declared,
            serde_step_fields(op),
            "step {op}: schema (left) vs Step (right)"
        );
    }
    for (what, s, fields) in [
        ("scenario", &root, fields_of::<Scenario>()),
        (
            "transport",
            &root["$defs"]["transport"],
            fields_of::<TransportSpec>(),
        ),
        (
            "connection",
            &root["$defs"]["connection"],
            fields_of::<ConnectionSpec>(),
        ),
    ] {
        assert_eq!(
            properties(s),
            fields,
            "{what}: schema (left) vs Rust (right)"
        );
    }
    assert!(
        fields_of::<Scenario>().contains("$schema"),
        "the loader accepts the editor's $schema key"
    );
}

#[test]
fn every_object_closes_its_fields_and_every_keyword_is_checked() {
    let root = schema();
    assert_eq!(open_objects(&root), Vec::<String>::new());
    assert_eq!(
        root["$schema"],
        json!("https://json-schema.org/draft/2020-12/schema")
    );
    // The schema validates against itself as far as the validator goes: no unknown keyword
    // anywhere (a minimal file reaches every definition through the loop below).
    for (what, s) in objects(&root) {
        let v = example(&root, s);
        let loc = if what == "scenario" { "#" } else { &what };
        let mut errors = Vec::new();
        Validator::new(&root).check(s, loc, &v, "", &mut errors);
        assert!(errors.is_empty(), "{what}: its own example {v}: {errors:?}");
    }
}

#[test]
fn required_fields_defaults_and_optional_fields_are_serdes() {
    let root = schema();
    for (what, s) in objects(&root) {
        let minimal = example(&root, s);
        let back = through_serde(&what, &minimal)
            .unwrap_or_else(|e| panic!("{what}: the minimal {minimal} does not load: {e}"));
        // Each required field is one serde cannot do without.
        for r in required(s).iter().filter(|r| *r != "op") {
            let mut without = minimal.clone();
            without.as_object_mut().unwrap().remove(r);
            assert!(
                through_serde(&what, &without).is_err(),
                "{what}: {r} is required in the schema, but the loader does without it"
            );
        }
        // What serde fills in is the schema's default.
        let props = &s["properties"];
        for (k, v) in back.as_object().unwrap() {
            if minimal.get(k).is_some() || v.is_null() || v.is_object() {
                continue;
            }
            assert_eq!(
                props[k].get("default"),
                Some(v),
                "{what}: serde's default for {k} is {v}; the schema must say so"
            );
        }
        for (k, p) in props.as_object().unwrap() {
            if let Some(d) = p.get("default") {
                let got = back.get(k).unwrap_or(&json!(false));
                assert_eq!(got, d, "{what}: {k}'s default");
            }
        }
        // Each optional field, with the schema's example value, loads and comes back.
        for k in properties(s).difference(&required(s)) {
            let mut with = minimal.clone();
            let mut value = example(&root, &props[k]);
            if let (Some(on), true) = (value.as_bool(), props[k].get("default") == Some(&value)) {
                // Not the default: a field left at it may not be written back.
                value = json!(!on);
            }
            with[k] = value.clone();
            let back = through_serde(&what, &with)
                .unwrap_or_else(|e| panic!("{what}: {k}: {value} does not load: {e}"));
            if k == "$schema" {
                assert_eq!(back.get(k), None, "$schema is never written back");
                continue;
            }
            match &value {
                // An object comes back with its defaults filled in.
                Value::Object(fields) => {
                    for (f, x) in fields {
                        assert_eq!(&back[k.as_str()][f], x, "{what}: {k}.{f} round trip");
                    }
                }
                _ => assert_eq!(back[k.as_str()], value, "{what}: {k} round trip"),
            }
        }
    }
}

/// Every scenario file the project ships: the suite, its regressions, the fuzz witnesses.
fn shipped() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "json")
                && p.file_name()
                    .is_some_and(|n| n != KNOWN_DIVERGENCES_FILE && n != SCHEMA_FILE)
            {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(&project_root().join("scenarios"), &mut out);
    walk(&project_root().join("fuzz").join("witnesses"), &mut out);
    out.sort();
    out
}

#[test]
fn every_shipped_scenario_file_matches_the_schema() {
    let root = schema();
    let files = shipped();
    assert!(files.len() > 70, "{} files", files.len());
    let mut problems = Vec::new();
    for f in &files {
        Scenario::load(f).unwrap_or_else(|e| panic!("{e}"));
        let v: Value = serde_json::from_slice(&std::fs::read(f).unwrap()).unwrap();
        let (errors, _) = validate(&root, &v);
        problems.extend(errors.into_iter().map(|e| format!("{}: {e}", f.display())));
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn bad_files_are_refused_by_the_schema_and_by_the_loader() {
    let root = schema();
    let head = r#""id": "x", "title": "t", "clauses": ["W1"]"#;
    let cases = [
        (
            "an unknown op",
            format!(r#"{{{head}, "steps": [{{"op": "wirte", "len": 5}}]}}"#),
        ),
        (
            "an unknown step field",
            format!(r#"{{{head}, "steps": [{{"op": "write", "len": 5, "lenght": 6}}]}}"#),
        ),
        (
            "an unknown top-level field",
            format!(r#"{{{head}, "steps": [{{"op": "handshake"}}], "colour": 1}}"#),
        ),
        (
            "$schema misspelt",
            format!(r#"{{{head}, "steps": [{{"op": "handshake"}}], "$schemas": "x"}}"#),
        ),
        (
            "a $schema that is not a string",
            format!(r#"{{{head}, "steps": [{{"op": "handshake"}}], "$schema": 5}}"#),
        ),
        (
            "an unknown connection field",
            format!(
                r#"{{{head}, "connection": {{"resumed": true}}, "steps": [{{"op": "handshake"}}]}}"#
            ),
        ),
        (
            "a peer step with an expect",
            format!(r#"{{{head}, "steps": [{{"op": "peer_read", "expect": "ok"}}]}}"#),
        ),
        (
            "a bad expectation",
            format!(r#"{{{head}, "steps": [{{"op": "write", "len": 5, "expect": "okay"}}]}}"#),
        ),
        (
            "an empty expect list",
            format!(r#"{{{head}, "steps": [{{"op": "write", "len": 5, "expect": []}}]}}"#),
        ),
        (
            "a write over 16 MiB",
            format!(r#"{{{head}, "steps": [{{"op": "write", "len": 16777217}}]}}"#),
        ),
        (
            "an upper-case id",
            r#"{"id": "X", "title": "t", "clauses": ["W1"], "steps": [{"op": "handshake"}]}"#
                .to_string(),
        ),
        (
            "a version listed twice",
            format!(r#"{{{head}, "tls": ["1.3", "1.3"], "steps": [{{"op": "handshake"}}]}}"#),
        ),
        (
            "a NUL in the cipher list",
            format!(
                r#"{{{head}, "connection": {{"cipher": "AES128-SHA\u0000x"}}, "steps": [{{"op": "handshake"}}]}}"#
            ),
        ),
        (
            "no clause",
            r#"{"id": "x", "title": "t", "clauses": [], "steps": [{"op": "handshake"}]}"#
                .to_string(),
        ),
        (
            "an unknown mode",
            format!(r#"{{{head}, "modes": [["partial"]], "steps": [{{"op": "handshake"}}]}}"#),
        ),
    ];
    for (what, text) in &cases {
        let v: Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("{what}: {e}"));
        let (errors, _) = validate(&root, &v);
        assert!(!errors.is_empty(), "{what}: the schema accepts {text}");
        assert!(
            Scenario::parse(Path::new("bad.json"), text.as_bytes()).is_err(),
            "{what}: the loader accepts {text}"
        );
    }
    // The unknown op's message names it, as an editor would.
    let (errors, _) = validate(&root, &serde_json::from_str(&cases[0].1).unwrap());
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with("/steps/0: matches none of the 35 alternatives")),
        "{errors:?}"
    );
}

#[test]
fn expectations_the_loader_reads_are_the_ones_the_schema_allows() {
    let root = schema();
    let one = &root["$defs"]["expect"];
    let forms = [
        ("ok", true),
        ("ok(all)", true),
        ("ok(16384)", true),
        ("ok(+5)", true),
        ("want_read", true),
        ("want_write", true),
        ("zero_return", true),
        ("syscall", true),
        ("ssl", true),
        ("ssl(protocol is shutdown)", true),
        ("ssl()", true),
        ("fail", true),
        ("retry", true),
        ("unclassified", true),
        ("deadlock", true),
        ("timeout", true),
        ("skip(no)", true),
        ("crash(SIGSEGV)", true),
        ("okay", false),
        ("ok()", false),
        ("ok(x)", false),
        ("ok(-1)", false),
        ("ssl(x", false),
        ("want_read(1)", false),
        ("", false),
    ];
    for (form, valid) in forms {
        let step = format!(r#"{{"op": "write", "len": 1, "expect": {}}}"#, json!(form));
        let loads = serde_json::from_str::<Step>(&step).is_ok();
        let mut v = Validator::new(&root);
        let mut errors = Vec::new();
        v.check(one, "#/$defs/expect", &json!(form), "", &mut errors);
        assert_eq!(loads, valid, "the loader on {form:?}");
        assert_eq!(
            errors.is_empty(),
            valid,
            "the schema on {form:?}: {errors:?}"
        );
    }
}

#[test]
fn the_loader_ignores_the_editors_schema_key_and_the_folder_skips_the_schema() {
    let text = br#"{"$schema": "schema.json", "id": "x", "title": "t", "clauses": ["W1"], "steps": [{"op": "handshake"}]}"#;
    let s = Scenario::parse(Path::new("x.json"), text).expect("$schema is accepted");
    assert_eq!(s.editor_schema.as_deref(), Some("schema.json"));
    assert!(!s.to_json().contains("$schema"), "{}", s.to_json());
    let d = common::TempDir::new("scenario-docs", "folder", &[]);
    std::fs::write(d.path("x.json"), text).unwrap();
    std::fs::copy(
        project_root().join("scenarios").join(SCHEMA_FILE),
        d.path(SCHEMA_FILE),
    )
    .unwrap();
    let loaded = load_dir(&d.0).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(
        loaded.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
        ["x"]
    );
}

/// The ```json blocks of the README's first part, `# Scenario files` (up to the next top-level
/// heading: later parts, such as the known-divergence file's, hold JSON of other formats).
fn json_blocks(readme: &str) -> Vec<(usize, Value)> {
    let part = readme[1..]
        .find("\n# ")
        .map_or(readme, |i| &readme[..i + 2]);
    let mut out = Vec::new();
    let mut lines = part.lines().enumerate();
    while let Some((i, line)) = lines.next() {
        if line.trim_end() != "```json" {
            continue;
        }
        let body: Vec<&str> = lines
            .by_ref()
            .take_while(|(_, l)| l.trim_end() != "```")
            .map(|(_, l)| l)
            .collect();
        let v = serde_json::from_str(&body.join("\n"))
            .unwrap_or_else(|e| panic!("README.md line {}: not JSON: {e}", i + 1));
        out.push((i + 1, v));
    }
    out
}

/// A step example as a file: inside the smallest scenario the loader accepts for it (a step
/// that exists in one TLS version or needs early data gets that).
fn load_step(step: &Value) -> Result<Scenario, String> {
    let mut last = String::new();
    for extra in [
        json!({}),
        json!({"tls": ["1.2"]}),
        json!({"tls": ["1.3"]}),
        json!({"tls": ["1.3"], "connection": {"early_data": true}}),
    ] {
        let mut file = json!({"id": "example", "title": "t", "clauses": ["W1"], "steps": [step]});
        for (k, v) in extra.as_object().unwrap() {
            file[k] = v.clone();
        }
        match Scenario::parse(Path::new("README.md"), file.to_string().as_bytes()) {
            Ok(s) => return Ok(s),
            Err(e) => last = e.to_string(),
        }
    }
    Err(last)
}

#[test]
fn every_json_example_in_the_readme_loads_and_matches_the_schema() {
    let root = schema();
    let blocks = json_blocks(&readme());
    assert!(blocks.len() > 30, "{} examples", blocks.len());
    let mut shown: BTreeSet<String> = BTreeSet::new();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    for (line, v) in &blocks {
        let step_schema = json!({"$ref": "#/$defs/step"});
        if v.get("op").is_some() {
            let mut val = Validator::new(&root);
            let mut errors = Vec::new();
            val.check(&step_schema, "#/$defs/step", v, "", &mut errors);
            seen.extend(val.seen);
            assert!(errors.is_empty(), "README.md line {line}: {v}: {errors:?}");
            load_step(v).unwrap_or_else(|e| panic!("README.md line {line}: {v}: {e}"));
            shown.insert(v["op"].as_str().unwrap().to_string());
            continue;
        }
        // A whole file, or some of its fields over the smallest file.
        let mut file = json!({"id": "example", "title": "t", "clauses": ["W1"], "steps": [{"op": "handshake"}]});
        for (k, x) in v.as_object().expect("an example is an object") {
            file[k] = x.clone();
        }
        let (errors, fields) = validate(&root, &file);
        assert!(errors.is_empty(), "README.md line {line}: {errors:?}");
        seen.extend(fields);
        let s = Scenario::parse(Path::new("README.md"), file.to_string().as_bytes())
            .unwrap_or_else(|e| panic!("README.md line {line}: {e}"));
        for step in &s.steps {
            let v = serde_json::to_value(step).unwrap();
            shown.insert(v["op"].as_str().unwrap().to_string());
        }
    }
    let ops = serde_ops();
    let missing: Vec<&String> = ops.difference(&shown).collect();
    assert!(
        missing.is_empty(),
        "README.md has no JSON example of: {missing:?}"
    );
    // ... nor of any field.
    let mut declared = BTreeSet::new();
    Validator::declared(&root, "#", &mut declared);
    let unshown: Vec<&String> = declared.difference(&seen).collect();
    assert!(
        unshown.is_empty(),
        "README.md has no JSON example with: {unshown:#?}"
    );
}

#[test]
fn the_readme_names_every_op_field_and_expectation() {
    let readme = readme();
    let mut names = serde_ops();
    names.extend(fields_of::<Scenario>());
    names.extend(fields_of::<TransportSpec>());
    names.extend(fields_of::<ConnectionSpec>());
    for op in serde_ops() {
        let op: &'static str = Box::leak(op.into_boxed_str());
        names.extend(serde_step_fields(op));
    }
    let root = schema();
    for form in root["$defs"]["expect_one"]["anyOf"][0]["enum"]
        .as_array()
        .unwrap()
    {
        names.insert(form.as_str().unwrap().to_string());
    }
    let missing: Vec<&String> = names
        .iter()
        .filter(|n| !readme.contains(&format!("`{n}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "scenarios/README.md does not name (in backticks): {missing:?}"
    );
    assert!(
        readme.starts_with("# Scenario files\n"),
        "a top-level heading of its own, so other sections can follow"
    );
}
