//! The steps' expectations: which clause one concerns, and whether the outcome met it.

use super::*;

/// What a step's expectation is judged against besides the step: the state before the step.
#[derive(Clone, Copy, Debug, Default)]
pub struct CheckContext {
    /// The implementation's handshake was done before the step.
    pub handshake_done: bool,
    /// The implementation's transport blocks.
    pub blocking: bool,
    /// An I/O call of the implementation had failed fatally (ssl/syscall) before the step.
    pub after_fatal: bool,
    /// The script has retried with other arguments (broken W6) by this step.
    pub broke_w6: bool,
}

/// The clause an `expect` without a `clause` of its own concerns: the clause of the contract
/// that defines the expected outcome for that call in that state (reports/README.md has the
/// table). The violation of a failed expectation is charged there, not to whatever clause
/// the scenario happens to cite first.
pub fn concerned_clause(
    step: &Step,
    expect: &crate::scenario::Expect,
    len: Option<u64>,
    cx: CheckContext,
) -> &'static str {
    use crate::scenario::ExpectPat;
    let pats = &expect.0;
    let all = |f: fn(&ExpectPat) -> bool| pats.iter().all(f);
    let retry = |p: &ExpectPat| {
        matches!(p, ExpectPat::Retry) || matches!(p, ExpectPat::Exact(o) if o.is_retry())
    };
    let failure = |p: &ExpectPat| match p {
        ExpectPat::AnySsl | ExpectPat::Fail => true,
        ExpectPat::Exact(o) => !o.is_ok() && !o.is_retry(),
        _ => false,
    };
    let partial_count =
        |p: &ExpectPat| matches!((p, len), (ExpectPat::Exact(Outcome::Ok(n)), Some(l)) if *n < l);
    match step {
        Step::Handshake { .. } => "W2",
        Step::Write { .. }
        | Step::WriteEx { .. }
        | Step::WriteAll { .. }
        | Step::WriteStream { .. } => {
            if all(retry) {
                // W4: a transport that cannot take more (or progress that needs incoming
                // data) is want_write / want_read; W3 on a blocking transport.
                if cx.blocking {
                    "W3"
                } else {
                    "W4"
                }
            } else if !cx.handshake_done {
                "W2"
            } else if cx.after_fatal {
                "W12"
            } else if cx.broke_w6 {
                "W6"
            } else if len == Some(0) {
                "W9"
            } else if all(failure) {
                "W11"
            } else if pats.iter().any(partial_count) {
                // W8: a count below the length is a partial write.
                "W8"
            } else if cx.blocking {
                "W3"
            } else {
                "W1"
            }
        }
        Step::WriteEarly { .. } | Step::ReadEarly { .. } => "W1",
        Step::WriteNegative { .. } | Step::ErrorAgain { .. } => "W10",
        Step::Read { .. } => {
            if pats.iter().any(failure) {
                "W11"
            } else {
                "W5"
            }
        }
        Step::Shutdown { .. } => "W11",
        Step::KeyUpdate { .. } | Step::Renegotiate { .. } | Step::NewSessionTicket { .. } => "W5",
        Step::SetModes { .. } => "W15",
        // Steps of the peer and the transport carry no expectation.
        _ => "W1",
    }
}

impl Runner<'_> {
    pub(super) fn check_expect(
        &mut self,
        i: usize,
        step: &Step,
        rec: &mut StepRecord,
        len: Option<u64>,
        before: CheckContext,
    ) {
        let Some(call) = rec.call.as_ref() else {
            return;
        };
        let outcome = call.outcome.clone();
        // W12: after a fatal error no later write succeeds (checked where the scenario cites it).
        let is_write = matches!(
            step,
            Step::Write { .. }
                | Step::WriteEx { .. }
                | Step::WriteAll { .. }
                | Step::WriteStream { .. }
        );
        if let Some(f) = self.fatal_at {
            if is_write && self.cites("W12") {
                self.checked.insert("W12".into());
            }
            if is_write && outcome.is_ok() && len != Some(0) && self.cites("W12") {
                self.violation(
                    "W12",
                    "spec",
                    Some(i),
                    format!("write succeeded ({outcome}) after the fatal error at step {f}"),
                );
            }
        } else if outcome.is_fatal() && step.is_io() && !(is_write && len == Some(0)) {
            // Only a failed I/O call ends a connection; a refused key update, renegotiation
            // or negative length is an answer to that call alone, and so is a zero-length
            // write's failure (OpenSSL 3.0 answers every one with SSL_ERROR_SYSCALL: W9).
            self.fatal_at = Some(i);
        }
        // W14: a success leaves no error on the queue; an SSL_ERROR_SSL failure leaves its reason.
        if self.cites("W14") && !matches!(outcome, Outcome::Skip(_)) {
            self.checked.insert("W14".into());
            let problem = match &outcome {
                Outcome::Ok(_) if !call.errors.is_empty() => Some(format!(
                    "success left errors on the queue: {:?}",
                    call.errors
                )),
                Outcome::Ssl(_) if call.errors.is_empty() => {
                    Some("SSL_ERROR_SSL with nothing on the error queue".to_string())
                }
                _ => None,
            };
            if let Some(detail) = problem {
                self.violation("W14", "spec", Some(i), detail);
            }
        }
        let (Some(expect), clause) = step.expect() else {
            return;
        };
        if matches!(outcome, Outcome::Skip(_)) {
            return;
        }
        let ok = expect.matches(&outcome, len);
        let clause = clause.map_or_else(
            || concerned_clause(step, expect, len, before).to_string(),
            ClauseId::to_string,
        );
        rec.expect = Some(expect.to_string());
        rec.conforms = Some(ok);
        self.checked.insert(clause.clone());
        if !ok {
            self.violation(
                &clause,
                "spec",
                Some(i),
                format!("expected {expect}, got {outcome}"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The clause a step's expectation without a `clause` is charged to.
    fn concerns(step: serde_json::Value, len: Option<u64>, cx: CheckContext) -> &'static str {
        let step: Step = serde_json::from_value(step).expect("a step");
        let (Some(expect), None) = step.expect() else {
            panic!("a step with an expectation and no clause");
        };
        concerned_clause(&step, expect, len, cx)
    }

    #[test]
    fn an_expectation_without_a_clause_is_charged_to_the_clause_defining_its_outcome() {
        use serde_json::json;
        let done = CheckContext {
            handshake_done: true,
            ..CheckContext::default()
        };
        // hs-fails-then-write step 0: the implicit handshake's want_read is W4, not the
        // scenario's first clause (W2).
        let write = json!({"op": "write", "len": 100, "expect": "want_read"});
        assert_eq!(
            concerns(write.clone(), Some(100), CheckContext::default()),
            "W4"
        );
        let blocking = CheckContext {
            blocking: true,
            ..done
        };
        assert_eq!(concerns(write, Some(100), blocking), "W3");
        let ok_all = json!({"op": "write", "len": 100, "expect": "ok(all)"});
        assert_eq!(
            concerns(ok_all.clone(), Some(100), CheckContext::default()),
            "W2"
        );
        assert_eq!(concerns(ok_all.clone(), Some(100), done), "W1");
        assert_eq!(concerns(ok_all.clone(), Some(100), blocking), "W3");
        let after_fatal = CheckContext {
            after_fatal: true,
            ..done
        };
        let fail = json!({"op": "write", "len": 100, "expect": "fail"});
        assert_eq!(concerns(fail.clone(), Some(100), after_fatal), "W12");
        assert_eq!(concerns(fail, Some(100), done), "W11");
        let retried = CheckContext {
            broke_w6: true,
            ..done
        };
        let ssl = json!({"op": "write", "len": 100, "expect": "ssl"});
        assert_eq!(concerns(ssl, Some(100), retried), "W6");
        let zero = json!({"op": "write_ex", "len": 0, "expect": "ok(0)"});
        assert_eq!(concerns(zero, Some(0), done), "W9");
        // pw-cbc-no-etm, pw-max-fragment-4096 step 1: a count below the length is W8.
        let partial = json!({"op": "write", "len": 100000, "expect": ["ok(16384)", "want_write"]});
        assert_eq!(concerns(partial, Some(100_000), done), "W8");
        let cases = [
            (json!({"op": "read", "len": 100, "expect": "ok(100)"}), "W5"),
            (
                json!({"op": "read", "len": 100, "expect": "zero_return"}),
                "W11",
            ),
            (
                json!({"op": "read", "len": 100, "expect": ["ssl", "want_write"]}),
                "W11",
            ),
            (json!({"op": "shutdown", "expect": "ok(0)"}), "W11"),
            (json!({"op": "renegotiate", "expect": "ok(1)"}), "W5"),
            (
                json!({"op": "key_update", "requested": false, "expect": "ok(1)"}),
                "W5",
            ),
            (json!({"op": "new_session_ticket", "expect": "ok(1)"}), "W5"),
            (
                json!({"op": "write_negative", "num": -1, "expect": "fail"}),
                "W10",
            ),
            (json!({"op": "error_again", "expect": "want_write"}), "W10"),
            (json!({"op": "handshake", "expect": "ok(1)"}), "W2"),
        ];
        for (step, clause) in cases {
            assert_eq!(concerns(step.clone(), None, done), clause, "{step}");
        }
    }
}
