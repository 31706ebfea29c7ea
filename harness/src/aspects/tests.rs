//! The aspect comparison's unit tests: what is a queue or wire difference, what is noise, and
//! how known entries explain them.

use super::*;
use crate::contract::{Modes, Outcome, Role};
use crate::payload::Delivery;
use crate::runner::{StepRecord, Wire};
use crate::scenario::RunKey;

fn call(outcome: Outcome, errors: &[&str]) -> Call {
    let mut c = Call::new(outcome, -1);
    c.errors = errors.iter().map(|e| e.to_string()).collect();
    c
}

fn trace(calls: Vec<Call>, to_peer: &[(u8, u16)]) -> Trace {
    Trace {
        status: RunStatus::Completed,
        steps: calls
            .into_iter()
            .enumerate()
            .map(|(i, c)| StepRecord {
                index: i,
                op: "write len=100".into(),
                actor: Actor::Impl,
                call: Some(c),
                calls: vec![],
                bytes: None,
                expect: None,
                conforms: None,
                capped: false,
                calls_omitted: 0,
                io: true,
                timing: None,
            })
            .collect(),
        delivery: Delivery::default(),
        wire: Wire {
            to_peer: to_peer.iter().map(|&(t, l)| WireRecord(t, l)).collect(),
            ..Wire::default()
        },
        violations: vec![],
        checked: vec![],
        peer_end: None,
        broke_w6_at: None,
        resumed: None,
        duration_us: None,
        timing: None,
    }
}

const TLS13: RunFacts = RunFacts {
    empty_record: Some(17),
};

fn cmp(a: &Trace, b: &Trace, first: Option<&Difference>) -> Vec<AspectDifference> {
    compare(TLS13, ("openssl", a), ("other", b), first)
}

fn handshake() -> Vec<(u8, u16)> {
    vec![(22, 234), (20, 1), (23, 69)]
}

#[test]
fn a_reason_on_the_queue_where_the_reference_has_none_is_a_queue_difference() {
    let a = trace(
        vec![
            call(Outcome::Ok(1), &[]),
            call(Outcome::Syscall, &["io: broken pipe"]),
        ],
        &handshake(),
    );
    let b = trace(
        vec![
            call(Outcome::Ok(1), &[]),
            call(Outcome::Syscall, &["reason 0", "io: broken pipe"]),
        ],
        &handshake(),
    );
    assert_eq!(
        cmp(&a, &b, None),
        vec![AspectDifference {
            kind: AspectKind::Queue,
            aspect: Aspect::Reasons,
            implementation: "other".into(),
            reference: "openssl".into(),
            step: Some(1),
            reference_value: "(empty)".into(),
            value: "reason 0".into(),
            entry: None,
            describes: None,
        }]
    );
    // The other way round: a failure with no reason where the reference has one.
    let reasons = trace(
        vec![call(
            Outcome::Ssl("bad write retry".into()),
            &["bad write retry"],
        )],
        &handshake(),
    );
    let none = trace(vec![call(Outcome::Ssl(String::new()), &[])], &handshake());
    let d = cmp(&reasons, &none, None);
    assert_eq!(d.len(), 1);
    assert_eq!(
        (
            d[0].step,
            d[0].reference_value.as_str(),
            d[0].value.as_str()
        ),
        (Some(0), "bad write retry", "(empty)")
    );
    assert_eq!(
        d[0].line(),
        "other step 0 queue: openssl bad write retry vs (empty)"
    );
}

#[test]
fn wording_count_and_the_drivers_io_notes_are_not_queue_differences() {
    let a = trace(
        vec![
            call(
                Outcome::Ssl("protocol is shutdown".into()),
                &["protocol is shutdown"],
            ),
            call(Outcome::Syscall, &[]),
        ],
        &handshake(),
    );
    let b = trace(
        vec![
            call(Outcome::Ssl("closed".into()), &["closed", "and more"]),
            call(Outcome::Syscall, &["io: transport accepted 0 bytes"]),
        ],
        &handshake(),
    );
    assert_eq!(cmp(&a, &b, None), vec![]);
}

#[test]
fn the_queue_is_compared_only_before_the_first_difference_and_where_classes_agree() {
    let a = trace(
        vec![
            call(Outcome::Ok(5), &[]),
            call(Outcome::WantWrite, &[]),
            call(Outcome::Ok(5), &[]),
        ],
        &handshake(),
    );
    let b = trace(
        vec![
            call(Outcome::Ok(5), &["stale"]),
            call(Outcome::Syscall, &["reason"]),
            call(Outcome::Ok(5), &["stale"]),
        ],
        &handshake(),
    );
    assert_eq!(
        cmp(&a, &b, None).iter().map(|d| d.step).collect::<Vec<_>>(),
        vec![Some(0), Some(2)],
        "step 1's classes differ"
    );
    let first = Difference {
        implementation: "other".into(),
        reference: "openssl".into(),
        step: Some(1),
        field: "outcome".into(),
        reference_value: "want_write".into(),
        value: "syscall".into(),
    };
    let d = cmp(&a, &b, Some(&first));
    assert_eq!(d.iter().map(|d| d.step).collect::<Vec<_>>(), vec![Some(0)]);
}

#[test]
fn an_empty_record_and_an_alert_are_wire_differences() {
    let a = trace(vec![call(Outcome::Ok(0), &[])], &handshake());
    let mut with = handshake();
    with.push((23, 17));
    with.push((21, 2));
    let b = trace(vec![call(Outcome::Ok(0), &[])], &with);
    let d = cmp(&a, &b, None);
    assert_eq!(
        d.iter()
            .map(|d| (d.aspect, d.reference_value.as_str(), d.value.as_str()))
            .collect::<Vec<_>>(),
        vec![
            (Aspect::Alerts, "alerts=0", "alerts=1"),
            (Aspect::EmptyRecords, "empty_records=0", "empty_records=1")
        ]
    );
    assert!(d
        .iter()
        .all(|d| d.kind == AspectKind::Wire && d.step.is_none()));
    // After a difference in outcome the wire is not compared: it follows from it.
    let first = Difference {
        implementation: "other".into(),
        reference: "openssl".into(),
        step: None,
        field: "status".into(),
        reference_value: "completed".into(),
        value: "deadlock".into(),
    };
    assert_eq!(cmp(&a, &b, Some(&first)), vec![]);
}

#[test]
fn record_sizes_and_counts_of_the_same_data_are_noise() {
    // 100000 bytes in seven records of 16 KiB or in 25 of 4 KiB, a larger ClientHello, a
    // ticket more: the same data, the same alerts, nothing empty.
    let mut a = vec![(22, 234), (20, 1), (23, 69)];
    a.extend(std::iter::repeat_n((23, 16401), 6));
    a.push((23, 1713));
    let mut b = vec![(22, 1458), (20, 1), (23, 69), (23, 250)];
    b.extend(std::iter::repeat_n((23, 4113), 24));
    b.push((23, 1713));
    let ta = trace(vec![call(Outcome::Ok(100000), &[])], &a);
    let tb = trace(vec![call(Outcome::Ok(100000), &[])], &b);
    assert_eq!(cmp(&ta, &tb, None), vec![]);
}

#[test]
fn bytes_after_close_notify_count_only_where_the_reference_sent_none() {
    let mut a = trace(vec![call(Outcome::Ok(0), &[])], &handshake());
    let mut b = a.clone();
    a.wire.after_close_notify = Some(0);
    b.wire.after_close_notify = Some(53);
    let d = cmp(&a, &b, None);
    assert_eq!(d.len(), 1);
    assert_eq!(
        (d[0].aspect, d[0].value.as_str()),
        (Aspect::AfterClose, "after_close=53")
    );
    a.wire.after_close_notify = Some(24);
    assert_eq!(cmp(&a, &b, None), vec![], "how many is record sizes");
    a.wire.after_close_notify = None;
    assert_eq!(cmp(&a, &b, None), vec![], "the reference never closed");
}

#[test]
fn only_suites_that_fix_an_empty_records_length_count_them() {
    assert_eq!(RunFacts::new(Tls::V13, None).empty_record, Some(17));
    assert_eq!(RunFacts::new(Tls::V12, None).empty_record, Some(24));
    assert_eq!(
        RunFacts::new(Tls::V12, Some("ECDHE-ECDSA-CHACHA20-POLY1305")).empty_record,
        Some(16)
    );
    assert_eq!(
        RunFacts::new(Tls::V12, Some("ECDHE-ECDSA-AES128-SHA")).empty_record,
        None
    );
    let cbc = RunFacts::new(Tls::V12, Some("ECDHE-ECDSA-AES128-SHA"));
    let a = trace(vec![call(Outcome::Ok(1), &[])], &[(23, 48)]);
    let b = trace(vec![call(Outcome::Ok(1), &[])], &[(23, 24), (23, 48)]);
    assert_eq!(compare(cbc, ("a", &a), ("b", &b), None), vec![]);
}

fn info(name: &str, family: &str) -> ImplInfo {
    ImplInfo {
        name: name.into(),
        version: format!("{name} 1.0"),
        family: family.into(),
        library: None,
    }
}

#[test]
fn a_known_entry_with_the_field_explains_it_and_one_without_does_not() {
    let known = Known::parse(
        r#"{"entries":[
            {"id":"any-field","scenario":"q-*","implementation":"faulty","families":["openssl"],
             "clause":"W14","reason":"an entry about outcomes, with no field"},
            {"id":"q/faulty/stale","scenario":"q-*","implementation":"faulty","families":["openssl"],
             "field":"queue","value":"faulty*","clause":"W14",
             "reason":"faulty leaves a stale reason after a successful write"}]}"#,
    )
    .unwrap();
    let infos = [info("openssl", "openssl"), info("faulty", "openssl")];
    let traces = [
        trace(vec![call(Outcome::Ok(5), &[])], &handshake()),
        trace(
            vec![call(Outcome::Ok(5), &["faulty: stale error"])],
            &handshake(),
        ),
    ];
    let key = RunKey {
        id: "q-stale".into(),
        tls: Tls::V13,
        role: Role::Client,
        modes: Modes::default(),
    };
    let mut used = vec![0; 2];
    let run = RunTraces {
        infos: &infos,
        traces: &traces,
        differences: &[],
    };
    let j = judge(&known, Scope::from(&key), TLS13, &run, &mut used);
    assert_eq!(j.omitted, 0);
    assert_eq!(j.aspects.len(), 1);
    assert_eq!(j.aspects[0].entry.as_deref(), Some("q/faulty/stale"));
    assert_eq!(j.aspects[0].describes, None);
    assert_eq!(used, vec![0, 1]);
    // With the reference swapped, the same entry explains it, describing the reference.
    let (rinfos, rtraces) = (
        [infos[1].clone(), infos[0].clone()],
        [traces[1].clone(), traces[0].clone()],
    );
    let run = RunTraces {
        infos: &rinfos,
        traces: &rtraces,
        differences: &[],
    };
    let j = judge(&known, Scope::from(&key), TLS13, &run, &mut used);
    assert_eq!(j.aspects[0].entry.as_deref(), Some("q/faulty/stale"));
    assert_eq!(j.aspects[0].describes.as_deref(), Some("faulty"));
    // Without the field-named entry nothing explains it.
    let only_any = Known::parse(
        r#"{"entries":[{"id":"any-field","scenario":"q-*","implementation":"faulty","families":["openssl"],
             "clause":"W14","reason":"an entry about outcomes, with no field"}]}"#,
    )
    .unwrap();
    let run = RunTraces {
        infos: &infos,
        traces: &traces,
        differences: &[],
    };
    let j = judge(&only_any, Scope::from(&key), TLS13, &run, &mut [0]);
    assert_eq!(j.aspects[0].entry, None);
}

#[test]
fn an_earlier_difference_masks_aspect_entries_so_they_are_not_stale() {
    let d = |step: Option<usize>, field: &str| Difference {
        implementation: "b".into(),
        reference: "a".into(),
        step,
        field: field.into(),
        reference_value: "x".into(),
        value: "y".into(),
    };
    assert_eq!(masks(None, Some(3), &d(Some(1), "outcome")), None);
    assert_eq!(masks(Some("outcome"), None, &d(Some(1), "outcome")), None);
    assert_eq!(masks(Some("wire"), None, &d(None, "status")), Some(true));
    assert_eq!(
        masks(Some("queue"), Some(3), &d(Some(3), "outcome")),
        Some(true)
    );
    assert_eq!(
        masks(Some("queue"), Some(3), &d(Some(4), "outcome")),
        Some(false)
    );
    assert_eq!(masks(Some("queue"), None, &d(Some(9), "bytes")), Some(true));
    assert_eq!(
        masks(Some("queue"), None, &d(None, "peer_received")),
        Some(false),
        "a run-level difference leaves every step compared"
    );
    assert_eq!(
        masks(Some("queue"), Some(2), &d(None, "resumed")),
        Some(true)
    );
}

#[test]
fn a_run_keeps_at_most_max_per_run_the_unexplained_first() {
    let known = Known::parse(
        r#"{"entries":[{"id":"q/step0","scenario":"*","implementation":"b","families":["openssl"],
             "field":"queue","step":0,"clause":"W14","reason":"the first step's reason is expected"}]}"#,
    )
    .unwrap();
    let n = MAX_PER_RUN + 4;
    let infos = [info("a", "openssl"), info("b", "openssl")];
    let traces = [
        trace(vec![call(Outcome::Ok(5), &[]); n], &handshake()),
        trace(vec![call(Outcome::Ok(5), &["stale"]); n], &handshake()),
    ];
    let key = RunKey {
        id: "many".into(),
        tls: Tls::V13,
        role: Role::Client,
        modes: Modes::default(),
    };
    let run = RunTraces {
        infos: &infos,
        traces: &traces,
        differences: &[],
    };
    let j = judge(&known, Scope::from(&key), TLS13, &run, &mut [0]);
    assert_eq!((j.aspects.len(), j.omitted), (MAX_PER_RUN, 4));
    assert_eq!(j.aspects[0].step, Some(1), "the explained step 0 goes last");
    assert!(j.aspects.iter().all(|a| a.entry.is_none()));
}
