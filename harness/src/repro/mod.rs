//! A standalone C reproducer for one run (`sslwrite repro RUN`, `cargo xtask repro RUN`).
//!
//! The file is the runtime (`runtime/*.c`, the harness's run in plain C over the libssl API:
//! the test PKI, both connections in one process, the in-memory pipe behind a `BIO_METHOD`,
//! the peer, the contract-following write loops, the first connection of a resuming run, the
//! outcome vocabulary) followed by the run's configuration and one C statement per step
//! (`emit.rs`). It prints one line per step of the implementation under test, `STEP OP
//! OUTCOME ret=RET` (with ` bytes=N` for write loops, ` calls=N` for a handshake or write
//! loop of more than one call and ` errors=[...]` for the error queue), how the run ended,
//! whether a resuming run resumed, and what the peer received: exactly the lines
//! [`expected_lines`] renders from the harness's trace of the same run, so the two can be
//! compared as text (`harness/tests/it/repro.rs`).
//!
//! Every step kind and connection option of today's model (the peer's, `connection.peer`,
//! included) is expressed; the peer's re-sealed records (`peer_empty_record`,
//! `peer_warning_alert`) too, with `reseal.rs`'s key schedules in C (`runtime/reseal.c`). What
//! the generator cannot express is refused with a typed reason ([`Refusal`]): loopback TCP, and
//! a step kind or a `connection`/`connection.peer`/`transport` option it does not know (one
//! added to the model later is refused until the generator is taught to emit it).

mod emit;

use std::fmt;

use crate::report::RunReport;
use crate::scenario::{RunKey, Scenario};
use crate::trace::{Actor, RunStatus, Trace};
use crate::transport::TransportKind;

/// The fixed C runtime every reproducer starts with: `runtime/*.c`, one concept each, in the
/// order C needs them.
pub const RUNTIME_C: &str = concat!(
    include_str!("runtime/config.c"),
    "\n",
    include_str!("runtime/stream.c"),
    "\n",
    include_str!("runtime/pipe.c"),
    "\n",
    include_str!("runtime/record.c"),
    "\n",
    include_str!("runtime/pki.c"),
    "\n",
    include_str!("runtime/calls.c"),
    "\n",
    include_str!("runtime/ssl.c"),
    "\n",
    include_str!("runtime/peer.c"),
    "\n",
    include_str!("runtime/reseal.c"),
    "\n",
    include_str!("runtime/run.c"),
    "\n",
    include_str!("runtime/steps.c"),
    "\n",
    include_str!("runtime/main.c"),
);

/// Why a run cannot be turned into a C reproducer.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refusal {
    /// No run of that name in the scenario folder.
    UnknownRun(String),
    /// Runs over loopback TCP (`RUN/tcp`): the reproducer has the in-memory pipe only.
    Tcp,
    /// A `connection`, `connection.peer` or `transport` field the generator does not know,
    /// set to something other than its default (one added to the model after the generator).
    Field {
        section: &'static str,
        field: String,
    },
    /// A step kind the generator does not express.
    Step {
        index: usize,
        op: String,
        why: &'static str,
    },
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::UnknownRun(name) => write!(
                f,
                "no run {name:?} in the scenarios (names as `sslwrite list` prints them: ID/tlsV/ROLE/MODES)"
            ),
            Refusal::Tcp => f.write_str(
                "the reproducer plays over the in-memory pipe only; a /tcp run cannot be expressed",
            ),
            Refusal::Field { section, field } => write!(
                f,
                "{section}.{field} is not expressed: the reproducer's generator does not know this option"
            ),
            Refusal::Step { index, op, why } => {
                write!(f, "step {index} ({op}) is not expressed: {why}")
            }
        }
    }
}

impl std::error::Error for Refusal {}

/// The run named `name` (`ID/tlsV/ROLE/MODES`, as reports and `sslwrite list` name it).
pub fn find_run<'a>(
    scenarios: &'a [Scenario],
    name: &str,
) -> Result<(&'a Scenario, RunKey), Refusal> {
    if name.ends_with("/tcp") {
        return Err(Refusal::Tcp);
    }
    scenarios
        .iter()
        .find_map(|s| {
            s.runs()
                .into_iter()
                .find(|k| k.to_string() == name)
                .map(|k| (s, k))
        })
        .ok_or_else(|| Refusal::UnknownRun(name.to_string()))
}

/// Whether run `key` of `scenario` can be expressed; the reason when it cannot.
pub fn check(scenario: &Scenario, key: &RunKey) -> Result<(), Refusal> {
    emit::Emitter::new(scenario, key).map(|_| ())
}

/// The C reproducer of run `key` of `scenario`. `observed`, when given, are the lines the
/// harness recorded for the run (shown in the header, for the reader to compare with).
pub fn generate(
    scenario: &Scenario,
    key: &RunKey,
    observed: Option<(&str, &[String])>,
) -> Result<String, Refusal> {
    Ok(emit::Emitter::new(scenario, key)?.file(observed))
}

/// The command that makes the reproducer of `run`.
pub fn command(run: &str) -> String {
    format!("cargo xtask repro {run} -o repro.c")
}

/// The command `--explain` and the HTML comparison offer for a run of a report: every run
/// over the in-memory pipe (a TCP run is reproduced by its memory twin, without `/tcp`).
pub fn offered(run: &RunReport) -> Option<String> {
    (run.transport == TransportKind::Memory).then(|| command(&run.run))
}

/// The lines a reproducer prints, rendered from the harness's trace of the same run: one per
/// step of the implementation, the end, whether a resuming run resumed, what the peer
/// received.
pub fn expected_lines(trace: &Trace) -> Vec<String> {
    let mut out = Vec::new();
    for rec in trace.steps.iter().filter(|r| r.actor == Actor::Impl) {
        let Some(call) = &rec.call else {
            continue;
        };
        let mut line = format!("{} {} {} ret={}", rec.index, rec.op, call.outcome, call.ret);
        if let Some(b) = rec.bytes {
            line.push_str(&format!(" bytes={b}"));
        }
        // A looping step keeps its calls when there was more than one (the first ones and the
        // last, the rest counted).
        if !rec.calls.is_empty() {
            let n = rec.calls.len() as u64 + rec.calls_omitted;
            line.push_str(&format!(" calls={n}"));
        }
        // The drivers' notes of the transport's own errors (`io: ...`) are not on the queue.
        let reasons: Vec<&str> = call
            .errors
            .iter()
            .filter(|e| !e.starts_with("io: "))
            .map(String::as_str)
            .collect();
        if !reasons.is_empty() {
            line.push_str(&format!(" errors=[{}]", reasons.join("; ")));
        }
        out.push(line);
    }
    out.push(match &trace.status {
        RunStatus::Completed => "end completed".to_string(),
        RunStatus::Deadlock { step } => format!("end deadlock at step {step}"),
        RunStatus::Skipped {
            step: Some(step),
            reason,
        } => format!("end skip at step {step}: {reason}"),
        RunStatus::Skipped { step: None, reason } => format!("end skip({reason})"),
        // A crash or hang ends the C program as it ended the worker: these lines appear only
        // in the file's header, as what the harness observed.
        RunStatus::Crash { step, message, .. } => match step {
            Some(step) => format!("end crash at step {step}: {message}"),
            None => format!("end crash: {message}"),
        },
        RunStatus::Timeout { step, message, .. } => match step {
            Some(step) => format!("end timeout at step {step}: {message}"),
            None => format!("end timeout: {message}"),
        },
        RunStatus::Error { message } => format!("end error: {message}"),
    });
    if let Some(r) = trace.resumed {
        out.push(format!("session resumed: {}", if r { "yes" } else { "no" }));
    }
    let d = &trace.delivery;
    let mut peer = format!(
        "peer received {} bytes, {} confirmed as written",
        d.received, d.confirmed
    );
    if let Some(m) = &d.first_mismatch {
        peer.push_str(&format!(", first difference at stream offset {}", m.offset));
    }
    out.push(peer);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::Outcome;

    fn scenario(json: &str) -> Scenario {
        Scenario::parse(std::path::Path::new("t.json"), json.as_bytes()).unwrap()
    }

    #[test]
    fn tcp_and_unknown_runs_are_refused_with_the_reason() {
        let res = scenario(
            r#"{"id":"r","title":"t","clauses":["W1"],"connection":{"resume":true},"steps":[{"op":"handshake"}]}"#,
        );
        assert_eq!(check(&res, &res.runs()[0]), Ok(()));
        let all = [res.clone()];
        assert_eq!(
            find_run(&all, "r/tls1.2/client/auto_retry/tcp").unwrap_err(),
            Refusal::Tcp
        );
        let e = find_run(&all, "nope/tls1.2/client/auto_retry").unwrap_err();
        assert!(e.to_string().contains("no run \"nope/"), "{e}");
        assert_eq!(
            find_run(&all, "r/tls1.3/client/auto_retry").unwrap().1,
            res.runs()[1]
        );
        let step = Refusal::Step {
            index: 3,
            op: "peer_new_thing len=1".into(),
            why: "the reproducer's generator does not know this step kind",
        };
        assert_eq!(
            step.to_string(),
            "step 3 (peer_new_thing len=1) is not expressed: the reproducer's generator does not know this step kind"
        );
    }

    #[test]
    fn injected_and_resealed_records_split_writes_and_the_peers_options_are_in_the_file() {
        let s = scenario(
            r#"{"id":"i","title":"t","clauses":["W1"],"roles":["client"],"tls":["1.2"],
                "connection":{"cipher":"ECDHE-ECDSA-AES128-SHA","peer":{"refuse_client_renegotiation":true,
                    "key":"rsa2048","cipher":"ECDHE-RSA-AES128-SHA","groups":"P-256:X25519"}},
                "steps":[{"op":"inject_record","content_type":23,"payload":"68 65"},
                    {"op":"inject_record","content_type":21,"version":"0301","len":7},
                    {"op":"inject_record","content_type":22,"payload":""},
                    {"op":"peer_write_split","len":100,"first":3},{"op":"peer_empty_record"},
                    {"op":"peer_warning_alert"},{"op":"peer_warning_alert","description":100}]}"#,
        );
        let c = generate(&s, &s.runs()[0], None).unwrap();
        for want in [
            "STEP(do_inject_record(r, 23, 0x0303, (const unsigned char[]){0x68, 0x65}, 2));",
            "STEP(do_inject_record(r, 21, 0x0301, NULL, 7));",
            "STEP(do_inject_record(r, 22, 0x0303, NULL, 0));",
            "STEP(do_peer_write_split(r, 3, \"peer_write_split first=3 len=100\", 100, 3));",
            "STEP(do_peer_empty_record(r, 4, \"peer_empty_record\"));",
            "STEP(do_peer_warning_alert(r, 5, \"peer_warning_alert\", 90));",
            "STEP(do_peer_warning_alert(r, 6, \"peer_warning_alert description=100\", 100));",
            "        .cipher = \"ECDHE-ECDSA-AES128-SHA\",\n        .no_encrypt_then_mac",
            "    .peer = {\n        .refuse_client_renegotiation = 1,\n        .tls13_tickets = -1,\n        .key = KEY_RSA2048,\n        .cipher = \"ECDHE-RSA-AES128-SHA\",\n        .groups = \"P-256:X25519\",\n    },\n",
        ] {
            assert!(c.contains(want), "{want} missing in:\n{c}");
        }
        let t = scenario(
            r#"{"id":"k","title":"t","clauses":["W1"],"roles":["client"],"tls":["1.3"],
                "connection":{"peer":{"tls13_tickets":0}},"steps":[{"op":"handshake"}]}"#,
        );
        let c = generate(&t, &t.runs()[0], None).unwrap();
        assert!(c.contains("    .peer = {\n        .refuse_client_renegotiation = 0,\n        .tls13_tickets = 0,\n        .key = KEY_ED25519,\n        .cipher = NULL,\n        .groups = NULL,\n    },\n"), "{c}");
    }

    #[test]
    fn early_data_steps_and_the_first_connection_are_in_the_file() {
        let ed = scenario(
            r#"{"id":"e","title":"t","clauses":["W1"],"tls":["1.3"],"connection":{"early_data":true},
                "steps":[{"op":"write_early","len":10},{"op":"peer_read"}]}"#,
        );
        let c = generate(&ed, &ed.runs()[0], None).unwrap();
        assert!(c.contains("STEP(do_write_early(r, 0, \"write_early buf=0 len=10\", 0, 10));"));
        assert!(c.contains("        .early_data = 1,\n"));
    }

    #[test]
    fn the_file_has_its_build_line_the_runtime_and_one_statement_per_step() {
        let s = scenario(
            r#"{"id":"z","title":"zero","clauses":["W9"],"steps":[{"op":"handshake"},
                {"op":"transport","capacity_to_peer":100,"trickle":3},{"op":"write","len":0},
                {"op":"peer_read"}]}"#,
        );
        let c = generate(&s, &s.runs()[0], None).unwrap();
        assert!(c.starts_with("/* sslwrite reproducer: z/tls1.2/client/auto_retry"));
        assert!(c.contains("cc repro.c -lssl -lcrypto && ./a.out"));
        assert!(c.contains(RUNTIME_C));
        for want in [
            "STEP(do_handshake(r, 0, \"handshake\"));",
            "STEP(do_transport(r, 100, -1, -1, 3, -1));",
            "STEP(do_write(r, 2, \"write buf=0 content=stream len=0\", API_WRITE, 0, 0, STREAM));",
            "STEP(do_peer_read(r, 3, \"peer_read\", -1));",
        ] {
            assert!(c.contains(want), "{want} missing in the play function");
        }
    }

    #[test]
    fn the_command_is_offered_for_memory_runs() {
        use crate::render::fixture;
        let mut run = fixture::run("z", fixture::trace(&[]), fixture::trace(&[]));
        assert_eq!(
            offered(&run).as_deref(),
            Some("cargo xtask repro z/tls1.3/client/auto_retry -o repro.c")
        );
        run.transport = TransportKind::Tcp;
        assert_eq!(offered(&run), None);
    }

    #[test]
    fn expected_lines_print_impl_steps_without_the_drivers_io_notes() {
        use crate::contract::Call;
        use crate::trace::StepRecord;
        let s = scenario(
            r#"{"id":"z","title":"zero","clauses":["W9"],"steps":[{"op":"handshake"},{"op":"peer_read"},
                {"op":"write","len":5}]}"#,
        );
        let mut t = Trace::empty(RunStatus::Completed);
        t.steps.push(StepRecord::with_call(
            0,
            &s.steps[0],
            Call::new(Outcome::Ok(1), 1),
        ));
        t.steps.push(StepRecord::with_call(
            1,
            &s.steps[1],
            Call::new(Outcome::WantRead, -1),
        ));
        let mut c = Call::new(Outcome::Syscall, -1);
        c.errors = vec!["io: broken pipe".into(), "bad thing".into()];
        t.steps.push(StepRecord::with_call(2, &s.steps[2], c));
        t.delivery.received = 7;
        t.delivery.confirmed = 5;
        assert_eq!(
            expected_lines(&t),
            [
                "0 handshake ok(1) ret=1",
                "2 write buf=0 content=stream len=5 syscall ret=-1 errors=[bad thing]",
                "end completed",
                "peer received 7 bytes, 5 confirmed as written",
            ]
        );
    }
}
