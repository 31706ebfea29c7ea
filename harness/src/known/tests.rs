use super::*;
use crate::contract::{Call, Modes, Outcome};
use crate::runner::Actor;

/// The entry that explains `d` of `implementation` against a bare `openssl` reference,
/// both sides with the steps `steps`.
fn explain<'a, 's>(
    k: &Known,
    scope: impl Into<Scope<'s>>,
    implementation: impl Into<Subject<'a>>,
    d: &Difference,
    steps: &[StepRecord],
) -> Option<usize> {
    k.explain_pair(
        scope,
        d,
        Side::new("openssl", &d.reference_value, steps),
        Side {
            subject: implementation.into(),
            value: &d.value,
            steps,
        },
    )
    .map(|x| x.entries()[0].0)
}

fn key(id: &str, tls: Tls) -> RunKey {
    RunKey {
        id: id.into(),
        tls,
        role: Role::Client,
        modes: Modes::default(),
    }
}

#[test]
fn entries_need_reasons() {
    let e = Known::parse(
        r#"{"entries":[{"id":"e1","scenario":"x","implementation":"rustls","families":["rustls"],"clause":"W5","reason":""}]}"#,
    );
    assert!(e.unwrap_err().contains("written reason"));
}

fn diff(step: usize, a: &str, b: &str) -> Difference {
    Difference {
        implementation: "rustls".into(),
        reference: "openssl".into(),
        step: Some(step),
        field: "outcome".into(),
        reference_value: a.into(),
        value: b.into(),
    }
}

#[test]
fn a_transport_scoped_entry_matches_only_runs_over_that_transport() {
    let k = Known::parse(
        r#"{"entries":[{"id":"e2","scenario":"sd-*","implementation":"rustls","families":["rustls"],"transport":"tcp",
            "clause":"W11","reason":"the kernel resets the connection first"}]}"#,
    )
    .unwrap();
    let d = diff(4, "zero_return", "syscall");
    let none: &[StepRecord] = &[];
    let run = key("sd-x", Tls::V13);
    let tcp = Scope::new(&run, TransportKind::Tcp, &[]);
    assert_eq!(explain(&k, tcp, "rustls", &d, none), Some(0));
    assert!(k.in_scope(0, tcp));
    // A bare key is a run in memory.
    assert_eq!(explain(&k, &run, "rustls", &d, none), None);
    assert!(!k.in_scope(0, &run));
}

#[test]
fn matching_respects_glob_tls_step_and_kind() {
    let k = Known::parse(
        r#"{"entries":[{"id":"e3","scenario":"rn-*","implementation":"rustls","families":["rustls"],"tls":"1.2","step":3,
            "clause":"W5","reason":"rustls never renegotiates; it answers no_renegotiation"}]}"#,
    )
    .unwrap();
    let d = diff(3, "ok(1)", "want_read");
    let none: &[StepRecord] = &[];
    let rn12 = key("rn-mid-write", Tls::V12);
    assert_eq!(explain(&k, &rn12, "rustls", &d, none), Some(0));
    let rn13 = key("rn-mid-write", Tls::V13);
    assert_eq!(explain(&k, &rn13, "rustls", &d, none), None);
    let other_step = diff(4, "a", "b");
    assert_eq!(explain(&k, &rn12, "rustls", &other_step, none), None);
    assert_eq!(explain(&k, &rn12, "openssl", &d, none), None);
    let ku = key("ku-x", Tls::V12);
    assert_eq!(explain(&k, &ku, "rustls", &d, none), None);
    let v = Violation {
        clause: "W5".into(),
        kind: "spec".into(),
        step: Some(3),
        detail: String::new(),
    };
    assert_eq!(
        k.explain_violation(&rn12, "rustls", &v, none),
        None,
        "kind differs"
    );
}

fn info(name: &str, version: &str) -> crate::contract::ImplInfo {
    let family = if version.starts_with("rustls") {
        "rustls"
    } else {
        "openssl"
    };
    info_of(name, version, family)
}

fn info_of(name: &str, version: &str, family: &str) -> crate::contract::ImplInfo {
    crate::contract::ImplInfo {
        name: name.into(),
        version: version.into(),
        family: family.into(),
        library: None,
    }
}

#[test]
fn entries_never_reach_a_family_they_were_not_written_for() {
    let k = Known::parse(
        r#"{"entries":[{"id":"e4","scenario":"sd-*","implementation":"*","families":["openssl"],"versions":["OpenSSL 1.1.*"],
            "clause":"W11","reason":"OpenSSL 1.1.1 answers syscall here"},
           {"id":"e5","scenario":"sd-*","implementation":"*","families":["boringssl"],
            "clause":"W11","reason":"BoringSSL answers with PROTOCOL_IS_SHUTDOWN"}]}"#,
    )
    .unwrap();
    let key = key("sd-fatal-on-read", Tls::V12);
    let d = diff(3, "syscall", "ssl(PROTOCOL_IS_SHUTDOWN)");
    let none: &[StepRecord] = &[];
    // BoringSSL says it is "OpenSSL 1.1.1 (compatible; BoringSSL)" in some builds: the
    // version glob matches, the family does not.
    let boring = info_of("bssl", "OpenSSL 1.1.1 (compatible; BoringSSL)", "boringssl");
    let openssl111 = info("o111", "OpenSSL 1.1.1w  11 Sep 2023");
    assert_eq!(explain(&k, &key, &boring, &d, none), Some(1));
    assert_eq!(explain(&k, &key, &openssl111, &d, none), Some(0));
    let awslc = info_of("awslc", "AWS-LC 1.18.0", "aws-lc");
    assert_eq!(explain(&k, &key, &awslc, &d, none), None);
    assert!(!k.concerns_implementation(1, &openssl111));
    assert!(Known::parse(
        r#"{"entries":[{"id":"e6","scenario":"x","implementation":"*","families":["boring"],"clause":"W11","reason":"an unknown family is refused"}]}"#
    )
    .unwrap_err()
    .contains("unknown family"));
}

#[test]
fn entries_scope_to_implementation_globs_and_version_ranges() {
    let k = Known::parse(
        r#"{"entries":[{"id":"e7","scenario":"rv-*","implementation":"*","families":["openssl"],"versions":["OpenSSL 3.0.*"],
            "kind":"violation","clause":"W4","reason":"OpenSSL 3.0 trusts a dirty error queue"},
           {"id":"e8","scenario":"rv-*","implementation":"openssl-3.*","families":["openssl"],"clause":"W4",
            "reason":"every build labelled openssl-3.x differs the same way"},
           {"id":"e9","scenario":"rv-*","implementation":"rustls","families":["rustls"],"clause":"W4",
            "reason":"an entry without versions, as before: the label alone"},
           {"id":"e10","scenario":"rv-*","implementation":"*","families":["openssl"],"versions":["OpenSSL 3.[2-9].*","OpenSSL [4-9].*"],
            "kind":"violation","clause":"W6","reason":"from 3.2 on, whatever the label"}]}"#,
    )
    .unwrap();
    let key = key("rv-dirty-queue", Tls::V13);
    let v = Violation {
        clause: "W4".into(),
        kind: "spec".into(),
        step: Some(2),
        detail: String::new(),
    };
    let none: &[StepRecord] = &[];
    let linked = info("openssl", "OpenSSL 3.0.19 27 Jan 2026");
    let system = info("system", "OpenSSL 3.0.19 27 Jan 2026");
    let newer = info("openssl-3.6", "OpenSSL 3.6.3 9 Jun 2026");
    assert_eq!(k.explain_violation(&key, &linked, &v, none), Some(0));
    assert_eq!(k.explain_violation(&key, &system, &v, none), Some(0));
    assert_eq!(
        k.explain_violation(&key, &newer, &v, none),
        None,
        "3.6 is outside 3.0.*"
    );
    assert_eq!(
        k.explain_violation(&key, "openssl", &v, none),
        None,
        "a bare name has no version: a version-scoped entry does not apply"
    );
    let d = diff(2, "ok(1)", "want_read");
    assert_eq!(explain(&k, &key, &newer, &d, none), Some(1));
    assert_eq!(explain(&k, &key, &system, &d, none), None);
    assert_eq!(explain(&k, &key, "rustls", &d, none), Some(2));
    assert_eq!(
        explain(&k, &key, &info("rustls", "rustls 0.23"), &d, none),
        Some(2)
    );
    // Staleness is judged only where an entry's implementation and version ran.
    assert!(
        k.concerns_implementation(0, &linked),
        "violations concern the reference"
    );
    assert!(!k.concerns_implementation(0, &newer));
    assert!(
        !k.concerns_implementation(1, &linked),
        "no divergence for the reference"
    );
    assert!(k.concerns_implementation(1, &newer));
    assert!(!k.concerns_implementation(2, &system));
    let w6 = Violation {
        clause: "W6".into(),
        ..v.clone()
    };
    let four = info("lib", "OpenSSL 4.0.3 29 Sep 2026");
    assert_eq!(k.explain_violation(&key, &newer, &w6, none), Some(3));
    assert_eq!(k.explain_violation(&key, &four, &w6, none), Some(3));
    assert_eq!(
        k.explain_violation(&key, &linked, &w6, none),
        None,
        "3.0 is not 3.2+"
    );
    assert!(Known::parse(
        r#"{"entries":[{"id":"e11","scenario":"x","implementation":"[","families":["openssl"],"clause":"W4","reason":"a bad glob is refused"}]}"#
    )
    .unwrap_err()
    .contains("implementation"));
}

fn step(i: usize, op: &str, outcome: Outcome) -> StepRecord {
    StepRecord {
        index: i,
        op: op.into(),
        actor: Actor::Impl,
        call: Some(Call::new(outcome, -1)),
        calls: vec![],
        bytes: None,
        expect: None,
        conforms: None,
        capped: false,
        calls_omitted: 0,
        // Known entries match on `op` and the outcome; whether the step is I/O is the diff's.
        io: false,
        timing: None,
    }
}

/// A script of steps (JSON, as in a scenario file) and the records of playing it with
/// these outcomes.
fn scripted(steps: &[(&str, Outcome)]) -> (Vec<Step>, Vec<StepRecord>) {
    let script: Vec<Step> = steps
        .iter()
        .map(|(json, _)| serde_json::from_str(json).unwrap())
        .collect();
    let records = script
        .iter()
        .zip(steps)
        .enumerate()
        .map(|(i, (s, (_, outcome)))| StepRecord::with_call(i, s, Call::new(outcome.clone(), -1)))
        .collect();
    (script, records)
}

#[test]
fn behaviour_entries_match_op_values_and_context() {
    let k = Known::parse(
        r#"{"entries":[{"id":"e12","scenario":"*","implementation":"rustls","families":["rustls"],
            "op":{"names":["write"],"args":{"len":0}},
            "reference_value":"syscall","value":"ok(*)","clause":"W9",
            "reason":"zero-length SSL_write: OpenSSL fails, rustls accepts"},
           {"id":"e13","scenario":"*","implementation":"rustls","families":["rustls"],
            "after":[{"op":{"names":["shutdown"]},"outcome":"ok(*)"}],
            "reference_value":"ssl(protocol is shutdown)","clause":"W11",
            "reason":"rustls writes after its own close_notify"}]}"#,
    )
    .unwrap();
    let k0 = key("fuzz", Tls::V13);
    let run = |script: &[Step], d: &Difference, records: &[StepRecord]| {
        explain(
            &k,
            Scope::new(&k0, TransportKind::Memory, script),
            "rustls",
            d,
            records,
        )
    };
    let (script, zero) = scripted(&[
        (r#"{"op":"handshake"}"#, Outcome::Ok(1)),
        (r#"{"op":"write","len":0}"#, Outcome::Syscall),
    ]);
    assert_eq!(run(&script, &diff(1, "syscall", "ok(0)"), &zero), Some(0));
    assert_eq!(run(&script, &diff(1, "want_write", "ok(0)"), &zero), None);
    // Without the script the step pattern has nothing to match.
    assert_eq!(
        explain(&k, &k0, "rustls", &diff(1, "syscall", "ok(0)"), &zero),
        None
    );
    let (script, ten) = scripted(&[
        (r#"{"op":"handshake"}"#, Outcome::Ok(1)),
        (r#"{"op":"write","len":10}"#, Outcome::Syscall),
    ]);
    assert_eq!(run(&script, &diff(1, "syscall", "ok(0)"), &ten), None);
    let shut = Outcome::Ssl("protocol is shutdown".into());
    let (script, after) = scripted(&[
        (r#"{"op":"shutdown"}"#, Outcome::Ok(0)),
        (r#"{"op":"write","len":5}"#, shut.clone()),
    ]);
    let d = diff(1, "ssl(protocol is shutdown)", "ok(5)");
    assert_eq!(run(&script, &d, &after), Some(1));
    let (script, before) = scripted(&[
        (r#"{"op":"write","len":5}"#, shut),
        (r#"{"op":"shutdown"}"#, Outcome::Ok(0)),
    ]);
    let d0 = diff(0, "ssl(protocol is shutdown)", "ok(5)");
    assert_eq!(run(&script, &d0, &before), None, "context must come first");
}

#[test]
fn every_context_must_hold_and_patterns_are_checked_at_load() {
    let k = Known::parse(
        r#"{"entries":[{"id":"e14","scenario":"*","implementation":"rustls","families":["rustls"],
            "after":[{"op":{"names":["shutdown"]},"outcome":"ok(*)"},
                     {"op":{"names":["renegotiate"]},"outcome":"ok(1)"}],
            "reference_value":"ok(*)","clause":"W11",
            "reason":"both a shutdown and a renegotiation came before"}]}"#,
    )
    .unwrap();
    let k0 = key("fuzz", Tls::V12);
    let d = diff(2, "ok(100)", "ssl(protocol is shutdown)");
    let (script, both) = scripted(&[
        (r#"{"op":"shutdown"}"#, Outcome::Ok(0)),
        (r#"{"op":"renegotiate"}"#, Outcome::Ok(1)),
        (r#"{"op":"write","len":100}"#, Outcome::Ok(100)),
    ]);
    let scope = Scope::new(&k0, TransportKind::Memory, &script);
    assert_eq!(explain(&k, scope, "rustls", &d, &both), Some(0));
    let (script, one) = scripted(&[
        (r#"{"op":"shutdown"}"#, Outcome::Ok(0)),
        (r#"{"op":"read","len":5}"#, Outcome::WantRead),
        (r#"{"op":"write","len":100}"#, Outcome::Ok(100)),
    ]);
    let scope = Scope::new(&k0, TransportKind::Memory, &script);
    assert_eq!(explain(&k, scope, "rustls", &d, &one), None);
    let refused = |entry: &str| {
        Known::parse(&format!(
            r#"{{"entries":[{{"id":"x","scenario":"*","families":["rustls"],{entry},"clause":"W11","reason":"a reason of some length"}}]}}"#
        ))
        .unwrap_err()
    };
    assert!(refused(r#""op":{"names":["wrte"]}"#).starts_with("entry 0 (x): unknown op \"wrte\""));
    assert_eq!(
        refused(r#""after":[{"op":{"names":["shutdown"],"args":{"len":1}}}]"#),
        "entry 0 (x): shutdown has no field \"len\""
    );
    assert!(refused(r#""after":[{}]"#).starts_with("entry 0 (x): a context asks for nothing"));
    assert!(refused(r#""op":"write*""#).contains("invalid type: string"));
    assert!(refused(r#""versions":"OpenSSL 3.*""#).contains("invalid type: string"));
    assert!(
        Known::parse(r#"{"entries":[{"id":"x","scenario":"*","families":[],"clause":"W11","reason":"a reason of some length"}]}"#)
            .unwrap_err()
            .contains("families is empty")
    );
}

#[test]
fn an_entry_explains_the_same_difference_under_either_reference() {
    let k = Known::parse(
        r#"{"entries":[{"id":"zero/rustls","scenario":"z-*","implementation":"rustls",
            "families":["rustls"],"step":1,"reference_value":"syscall","value":"ok(0)",
            "clause":"W9","reason":"rustls accepts the zero-length write"},
           {"id":"zero/rustls-unpinned","scenario":"y-*","implementation":"rustls",
            "families":["rustls"],"step":1,"clause":"W9",
            "reason":"written against OpenSSL without naming its value"},
           {"id":"zero/wolfssl","scenario":"z-*","implementation":"*",
            "families":["wolfssl"],"step":1,"reference_value":"syscall",
            "value":"unclassified","clause":"W9",
            "reason":"wolfSSL gives no error class for it"}]}"#,
    )
    .unwrap();
    let (openssl, rustls) = (
        info("openssl", "OpenSSL 3.0.19 27 Jan 2026"),
        info("rustls", "rustls 0.23.46"),
    );
    let boring = info_of("boringssl", "BoringSSL", "boringssl");
    let wolf = info_of("wolfssl", "wolfSSL 5.5.4", "wolfssl");
    let steps = [step(0, "handshake", Outcome::Ok(1))];
    let pair = |run: &RunKey,
                a: &crate::contract::ImplInfo,
                av: &str,
                b: &crate::contract::ImplInfo,
                bv: &str| {
        let d = Difference {
            implementation: b.name.clone(),
            reference: a.name.clone(),
            step: Some(1),
            field: "outcome".into(),
            reference_value: av.into(),
            value: bv.into(),
        };
        k.explain_pair(run, &d, Side::new(a, av, &steps), Side::new(b, bv, &steps))
    };
    let z = key("z-write-zero", Tls::V13);
    // The same difference, with either side as the reference.
    assert_eq!(
        pair(&z, &openssl, "syscall", &rustls, "ok(0)"),
        Some(Explained::Implementation(0))
    );
    assert_eq!(
        pair(&z, &rustls, "ok(0)", &openssl, "syscall"),
        Some(Explained::Reference(0))
    );
    // Another library doing the norm the entry names is explained the same way.
    assert_eq!(
        pair(&z, &rustls, "ok(0)", &boring, "syscall"),
        Some(Explained::Reference(0))
    );
    // ... but not one that does something else there.
    assert_eq!(pair(&z, &rustls, "ok(0)", &boring, "want_read"), None);
    // Both deviate, each as its own entry says.
    assert_eq!(
        pair(&z, &rustls, "ok(0)", &wolf, "unclassified"),
        Some(Explained::Both {
            implementation: 2,
            reference: 0
        })
    );
    assert_eq!(pair(&z, &rustls, "ok(1)", &wolf, "unclassified"), None);
    // An entry that does not name the norm's value was written against OpenSSL: it explains
    // rustls against an OpenSSL of either role, never against BoringSSL.
    let y = key("y-write-zero", Tls::V13);
    assert_eq!(
        pair(&y, &rustls, "ok(0)", &openssl, "syscall"),
        Some(Explained::Reference(1))
    );
    assert_eq!(
        pair(&y, &openssl, "syscall", &rustls, "ok(0)"),
        Some(Explained::Implementation(1))
    );
    assert_eq!(pair(&y, &rustls, "ok(0)", &boring, "syscall"), None);
    assert_eq!(pair(&y, &boring, "syscall", &rustls, "ok(0)"), None);
}

#[test]
fn ids_are_required_unique_and_plain() {
    let one = |id: &str| {
        format!(
            r#"{{"id":{id:?},"scenario":"x","implementation":"rustls","families":["rustls"],"clause":"W5","reason":"a reason of some length"}}"#
        )
    };
    let file = |entries: &[String]| format!(r#"{{"entries":[{}]}}"#, entries.join(","));
    assert!(Known::parse(&file(&[one("a/b-c_d.e")])).is_ok());
    let dup = Known::parse(&file(&[one("a"), one("a")])).unwrap_err();
    assert_eq!(dup, "entry 1: id \"a\" is already entry 0's");
    let bad = Known::parse(&file(&[one("a b")])).unwrap_err();
    assert!(bad.starts_with("entry 0: id \"a b\" must be"), "{bad}");
    let missing = Known::parse(
        r#"{"entries":[{"scenario":"x","implementation":"rustls","families":["rustls"],"clause":"W5","reason":"a reason of some length"}]}"#,
    )
    .unwrap_err();
    assert!(missing.contains("missing field `id`"), "{missing}");
}

#[test]
fn an_entry_names_one_scenario_or_a_list_and_reaches_no_other() {
    let k = Known::parse(
        r#"{"entries":[{"id":"l","scenario":["sd-a","hs-*"],"families":["rustls"],
            "clause":"W12","reason":"written for these scenarios only"}]}"#,
    )
    .unwrap();
    let d = diff(1, "syscall", "ssl()");
    let none: &[StepRecord] = &[];
    for (id, explained) in [("sd-a", true), ("hs-b", true), ("sd-b", false)] {
        let run = key(id, Tls::V13);
        assert_eq!(
            explain(&k, &run, "rustls", &d, none).is_some(),
            explained,
            "{id}"
        );
    }
    assert_eq!(k.entries[0].scenario.to_string(), "sd-a, hs-*");
    for bad in [r#"[]"#, r#"[1]"#, r#"3"#] {
        let err = Known::parse(&format!(
            r#"{{"entries":[{{"id":"l","scenario":{bad},"families":["rustls"],"clause":"W12","reason":"a reason of some length"}}]}}"#
        ))
        .unwrap_err();
        assert!(
            err.starts_with("expected a scenario id or a non-empty list of them"),
            "{err}"
        );
    }
}

#[test]
fn a_norm_reason_is_matched_in_openssl_words_and_by_class_elsewhere() {
    let k = Known::parse(
        r#"{"entries":[{"id":"w","scenario":"sd-x","families":["rustls"],"step":2,
            "reference_value":"ssl(protocol is shutdown)","value":"ok(100)",
            "clause":"W11","reason":"rustls writes after its own close_notify"}]}"#,
    )
    .unwrap();
    let rustls = info("rustls", "rustls 0.23.46");
    let steps = [step(0, "handshake", Outcome::Ok(1))];
    let run = key("sd-x", Tls::V13);
    let against = |other: &crate::contract::ImplInfo, norm: &str| {
        let d = Difference {
            implementation: other.name.clone(),
            reference: "rustls".into(),
            step: Some(2),
            field: "outcome".into(),
            reference_value: "ok(100)".into(),
            value: norm.into(),
        };
        k.explain_pair(
            &run,
            &d,
            Side::new(&rustls, "ok(100)", &steps),
            Side::new(other, norm, &steps),
        )
        .is_some()
    };
    let openssl = info("openssl", "OpenSSL 3.0.19 27 Jan 2026");
    let boring = info_of("boringssl", "BoringSSL", "boringssl");
    let wolf = info_of("wolfssl", "wolfSSL 5.5.4", "wolfssl");
    assert!(against(&openssl, "ssl(protocol is shutdown)"));
    assert!(
        !against(&openssl, "ssl(application data after close notify)"),
        "another OpenSSL reason is another behaviour"
    );
    assert!(against(&boring, "ssl(PROTOCOL_IS_SHUTDOWN)"));
    assert!(!against(&boring, "ssl(BAD_WRITE_RETRY)"));
    assert!(against(&wolf, "ssl(error -173)"), "wolfSSL words its own");
    assert!(!against(&wolf, "syscall"));
}
