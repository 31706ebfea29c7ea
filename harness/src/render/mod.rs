//! Everything that turns a [`Report`] into something to read: JUnit XML for CI test views,
//! Markdown for pull requests, one self-contained HTML page, the comparison with a baseline
//! report, and the side-by-side terminal view of one scenario. Every renderer is a pure function
//! of the report; [`write_atomic`] puts the result on disk.
//!
//! The helpers here are the judgement the renderers share, derived from the report alone: the
//! verdict of one implementation in one run ([`cell_verdict`]), which of its differences and
//! violations a known entry explains, and the steps of a run aligned across implementations.

pub mod aspects;
pub mod baseline;
pub mod compare;
pub mod explain;
pub mod html;
pub mod junit;
pub mod markdown;
pub mod matrix;

use std::io::Write as _;
use std::path::Path;

use crate::contract::Call;
use crate::diff::{Difference, Verdict};
use crate::report::{KnownMatch, Report, RunReport};
use crate::runner::{StepRecord, Violation};

/// Writes `contents` to `path` atomically: a temporary file beside it, synced, then renamed
/// over it, so a reader never sees half a file. A path that exists and is not a regular file
/// (a device, a symbolic link) is written in place instead. Errors name the path.
pub fn write_atomic(path: &Path, contents: &[u8]) -> Result<(), String> {
    // Only a regular file (or a new path) is replaced by rename: a device (`/dev/null`,
    // `/dev/stdout`, `/dev/full`) or a link is written in place, so it is never replaced by a
    // regular file (as root, rename would do that to a device node).
    match std::fs::symlink_metadata(path) {
        Ok(m) if !m.file_type().is_file() => {
            if m.file_type().is_dir() {
                return Err(format!("{} is a directory", path.display()));
            }
            return std::fs::OpenOptions::new()
                .write(true)
                .truncate(true)
                .open(path)
                .and_then(|mut f| f.write_all(contents).and_then(|()| f.flush()))
                .map_err(|e| format!("cannot write {}: {e}", path.display()));
        }
        _ => {}
    }
    let name = path
        .file_name()
        .ok_or_else(|| format!("{} is not a file path", path.display()))?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    remove_stale_temporaries(path, name);
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".{}.tmp", std::process::id()));
    let tmp = path.with_file_name(tmp_name);
    let written = std::fs::File::create(&tmp).and_then(|mut f| {
        f.write_all(contents)?;
        f.sync_all()
    });
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(format!("cannot write {}: {e}", tmp.display()));
    }
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        format!("cannot move {} to {}: {e}", tmp.display(), path.display())
    })
}

/// Removes the `.NAME.PID.tmp` files beside `path` that a writer killed mid-write left behind
/// (kill -9 between create and rename): those whose process is gone. A live writer's is left.
fn remove_stale_temporaries(path: &Path, name: &std::ffi::OsStr) {
    let dir = match path.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(d) => d.to_path_buf(),
        None => std::path::PathBuf::from("."),
    };
    let prefix = format!(".{}.", name.to_string_lossy());
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    for e in entries.flatten() {
        let file = e.file_name();
        let file = file.to_string_lossy();
        let Some(pid) = file
            .strip_prefix(&prefix)
            .and_then(|rest| rest.strip_suffix(".tmp"))
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        let alive = Path::new("/proc").join(pid.to_string()).exists();
        if !alive && e.file_type().is_ok_and(|t| t.is_file()) {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// Text for a terminal: control characters (but newline and tab), DEL, C1 controls and the
/// invisible format and direction characters (U+200B..U+200F, U+202A..U+202E,
/// U+2066..U+2069, U+FEFF) become a visible `\u{..}`, so that a title, a reason or a library's
/// version string can neither drive the terminal nor reorder what it shows.
pub fn terminal_safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if invisible(c) && c != '\n' && c != '\t' {
                format!("\\u{{{:x}}}", c as u32)
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// Control, direction and zero-width characters.
pub fn invisible(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

/// Escapes text for XML and HTML (content and attribute values). Characters XML 1.0 cannot
/// carry (control characters other than tab, newline and carriage return) become U+FFFD.
pub fn escape_xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// The implementation names in column order (the reference first).
pub fn names(report: &Report) -> Vec<&str> {
    report
        .implementations
        .iter()
        .map(|i| i.name.as_str())
        .collect()
}

/// The first difference of `implementation` in `run`, if it has one.
pub fn difference<'a>(run: &'a RunReport, implementation: &str) -> Option<&'a Difference> {
    run.differences
        .iter()
        .find(|d| d.implementation == implementation)
}

/// The known entry that explains `implementation`'s difference in `run`, if one does.
pub fn difference_reason<'a>(run: &'a RunReport, implementation: &str) -> Option<&'a KnownMatch> {
    run.known
        .iter()
        .find(|k| k.implementation == implementation && k.kind == "divergence")
}

/// `implementation`'s difference in `run` when no known entry explains it.
pub fn unexplained_difference<'a>(
    run: &'a RunReport,
    implementation: &str,
) -> Option<&'a Difference> {
    difference(run, implementation).filter(|_| difference_reason(run, implementation).is_none())
}

/// `implementation`'s violations in `run`, each with the known entry that explains it (if any).
///
/// The suite records one `violation` match per explained violation, in trace order, with the
/// violated clause; pairing them up by clause in that order recovers which ones are explained.
pub fn violations<'a>(
    run: &'a RunReport,
    implementation: &str,
) -> Vec<(&'a Violation, Option<&'a KnownMatch>)> {
    let Some(trace) = run.results.get(implementation) else {
        return Vec::new();
    };
    let mut matches: Vec<&KnownMatch> = run
        .known
        .iter()
        .filter(|k| k.implementation == implementation && k.kind == "violation")
        .collect();
    trace
        .violations
        .iter()
        .map(|v| {
            let m = matches
                .iter()
                .position(|k| k.clause == v.clause)
                .map(|i| matches.remove(i));
            (v, m)
        })
        .collect()
}

/// `implementation`'s violations in `run` that no known entry explains.
pub fn unexplained_violations<'a>(run: &'a RunReport, implementation: &str) -> Vec<&'a Violation> {
    violations(run, implementation)
        .into_iter()
        .filter(|(_, k)| k.is_none())
        .map(|(v, _)| v)
        .collect()
}

/// The verdict of one implementation in one run, in the run verdicts' vocabulary: `error`
/// (its set-up failed), `diverge` (a difference or violation no known entry explains),
/// `known` (all of them explained), `skip` (it could not do a step), else `agree`. `None` when
/// the run has no result for it.
pub fn cell_verdict(run: &RunReport, implementation: &str) -> Option<Verdict> {
    use crate::runner::RunStatus;
    let trace = run.results.get(implementation)?;
    let vs = violations(run, implementation);
    Some(if matches!(trace.status, RunStatus::Error { .. }) {
        Verdict::Error
    } else if unexplained_difference(run, implementation).is_some()
        || vs.iter().any(|(_, k)| k.is_none())
    {
        Verdict::Diverge
    } else if difference(run, implementation).is_some() || !vs.is_empty() {
        Verdict::Known
    } else if matches!(trace.status, RunStatus::Skipped { .. }) {
        Verdict::Skip
    } else {
        Verdict::Agree
    })
}

/// A difference in one line: `step 2 outcome: openssl ssl(protocol is shutdown), rustls
/// ok(100)`, or for run-level fields `peer_received: openssl 100, rustls 0`.
pub fn describe_difference(d: &Difference) -> String {
    let at = d.step.map_or(String::new(), |i| format!("step {i} "));
    format!(
        "{at}{}: {} {}, {} {}",
        d.field, d.reference, d.reference_value, d.implementation, d.value
    )
}

/// A violation in one line: `I1 (invariant) at step 3: detail`.
pub fn describe_violation(v: &Violation) -> String {
    let at = v.step.map_or(String::new(), |i| format!(" at step {i}"));
    format!("{} ({}){at}: {}", v.clause, v.kind, v.detail)
}

/// The calls of a looping step, run-length encoded: `want_write ×11, ok(16384)`.
pub fn calls_summary(calls: &[Call]) -> String {
    let mut parts: Vec<(String, usize)> = Vec::new();
    for c in calls {
        let o = c.outcome.to_string();
        match parts.last_mut() {
            Some((last, n)) if *last == o => *n += 1,
            _ => parts.push((o, 1)),
        }
    }
    parts
        .iter()
        .map(|(o, n)| {
            if *n > 1 {
                format!("{o} ×{n}")
            } else {
                o.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// One step of a run, aligned across implementations (column order).
pub struct StepRow<'a> {
    pub index: usize,
    /// The step's one-line form (the first implementation that reached it).
    pub op: &'a str,
    /// Each implementation's record of the step; `None` where its run stopped earlier.
    pub records: Vec<Option<&'a StepRecord>>,
    /// Whether an implementation's first difference is at this step.
    pub first_diff: bool,
}

/// The steps of `run` aligned by index, in the column order of `names`.
pub fn step_rows<'a>(run: &'a RunReport, names: &[&str]) -> Vec<StepRow<'a>> {
    let traces: Vec<_> = names.iter().map(|n| run.results.get(*n)).collect();
    let len = traces
        .iter()
        .flatten()
        .map(|t| t.steps.iter().map(|s| s.index + 1).max().unwrap_or(0))
        .max()
        .unwrap_or(0);
    (0..len)
        .filter_map(|index| {
            let records: Vec<Option<&StepRecord>> = traces
                .iter()
                .map(|t| t.and_then(|t| t.steps.iter().find(|s| s.index == index)))
                .collect();
            let op = records.iter().flatten().next()?.op.as_str();
            Some(StepRow {
                index,
                op,
                records,
                first_diff: run.differences.iter().any(|d| d.step == Some(index)),
            })
        })
        .collect()
}

/// The raw return value where the outcome does not already say it (a failure, or a success
/// whose count is not `ret`: `_ex`'s 1), with `SSL_get_error`'s answer where the two disagree
/// (W10): `ret=-1`, `ret=65536 SSL_get_error=3`.
pub fn raw_pair(c: &crate::contract::Call) -> Option<String> {
    let lie = crate::impls::ssl_abi::w10_disagreement(c).is_some();
    let implied =
        matches!(c.outcome, crate::contract::Outcome::Ok(n) if i64::try_from(n) == Ok(c.ret));
    let shown = matches!(
        c.outcome,
        crate::contract::Outcome::Skip(_)
            | crate::contract::Outcome::Deadlock
            | crate::contract::Outcome::Crash(_)
            | crate::contract::Outcome::Timeout
    );
    match (lie, c.error_class) {
        (true, Some(class)) => Some(format!("ret={} SSL_get_error={class}", c.ret)),
        _ if implied || shown => None,
        _ => Some(format!("ret={}", c.ret)),
    }
}

/// What one implementation's record of a step shows in a comparison cell: the outcome, the
/// bytes moved, the loop's calls and a broken expectation.
pub fn step_cell(r: Option<&StepRecord>) -> String {
    let Some(r) = r else {
        return "(not reached)".to_string();
    };
    let mut out = r
        .call
        .as_ref()
        .map_or("-".to_string(), |c| match raw_pair(c) {
            Some(raw) => format!("{} [{raw}]", c.outcome),
            None => c.outcome.to_string(),
        });
    if let Some(b) = r.bytes {
        out.push_str(&format!(" bytes={b}"));
    }
    if r.calls.len() > 1 {
        out.push_str(&format!(" ({} calls)", r.calls.len()));
    }
    // Marked counts, or a write loop's calls where it shows them.
    let follows = |t: &crate::runner::Timing| {
        t.cause == crate::runner::TimingCause::Follows && r.bytes.is_some()
    };
    // Only where a marked value is printed: a count, bytes, the calls.
    let counted = r.bytes.is_some() || r.call.as_ref().is_some_and(|c| c.outcome.is_ok());
    let shown = r
        .timing
        .filter(|t| (t.counts() && counted) || r.calls.len() > 1 || follows(t));
    out = crate::runner::Timing::show(shown, out);
    if r.conforms == Some(false) {
        let e = r.expect.as_deref().unwrap_or("?");
        out.push_str(&format!(" !expected {e}"));
    }
    out
}

#[cfg(test)]
pub(crate) mod fixture {
    //! A small two-implementation report built by hand, shared by the renderers' tests.

    use std::collections::BTreeMap;

    use crate::contract::{Call, ImplInfo, Modes, Outcome, Role, Tls};
    use crate::diff::{Difference, Verdict};
    use crate::report::{
        ClauseStanding, ClauseVerdict, ClauseView, KnownMatch, Report, RunReport, Summary,
        SCHEMA_VERSION,
    };
    use crate::runner::{RunStatus, StepRecord, Trace, Violation};

    /// Built from JSON, so fields other work adds to the types (with serde defaults) need no
    /// change here.
    pub fn step(index: usize, op: &str, outcome: Outcome) -> StepRecord {
        let actor = if op.starts_with("peer") {
            "peer"
        } else {
            "impl"
        };
        serde_json::from_value(serde_json::json!({
            "index": index, "op": op, "actor": actor,
            "call": Call::new(outcome, -1),
        }))
        .expect("a step record")
    }

    pub fn trace(outcomes: &[Outcome]) -> Trace {
        let steps: Vec<StepRecord> = outcomes
            .iter()
            .enumerate()
            .map(|(i, o)| {
                step(
                    i,
                    if i == 0 { "handshake" } else { "write len=100" },
                    o.clone(),
                )
            })
            .collect();
        serde_json::from_value(serde_json::json!({
            "status": "completed",
            "steps": steps,
            "delivery": {"confirmed": 100, "received": 100, "missing": 0, "unconfirmed": 0},
            "wire": {"to_peer": [[22, 201], [23, 117]], "to_impl": [[22, 90]],
                     "to_peer_bytes": 328, "to_impl_bytes": 95},
            "violations": [],
            "checked": ["I1"],
        }))
        .expect("a trace")
    }

    /// A run of scenario `id` whose `rustls` trace is `b` and whose `openssl` trace is `a`.
    pub fn run(id: &str, a: Trace, b: Trace) -> RunReport {
        RunReport {
            id: id.into(),
            run: format!("{id}/tls1.3/client/auto_retry"),
            transport: Default::default(),
            title: format!("the {id} scenario"),
            file: format!("scenarios/{id}.json"),
            clauses: vec!["W6".into()],
            situations: vec!["RT-1".into()],
            tls: Tls::V13,
            role: Role::Client,
            modes: Modes::from_names(["auto_retry"]).unwrap(),
            verdict: Verdict::Agree,
            differences: vec![],
            known: vec![],
            notes: vec![],
            matrix: crate::matrix::behaviours(&[("openssl", &a), ("rustls", &b)]),
            results: [("openssl".to_string(), a), ("rustls".to_string(), b)]
                .into_iter()
                .collect(),
            aspects: vec![],
            aspects_omitted: 0,
        }
    }

    pub fn differ(run: &mut RunReport, step: usize, a: &str, b: &str) {
        run.differences.push(Difference {
            implementation: "rustls".into(),
            reference: "openssl".into(),
            step: Some(step),
            field: "outcome".into(),
            reference_value: a.into(),
            value: b.into(),
        });
    }

    pub fn explain(run: &mut RunReport, kind: &str, clause: &str, reason: &str) {
        run.known.push(KnownMatch {
            implementation: "rustls".into(),
            kind: kind.into(),
            clause: clause.into(),
            reason: reason.into(),
            entry: None,
            describes: None,
        });
    }

    pub fn violation(clause: &str, step: usize, detail: &str) -> Violation {
        Violation {
            clause: clause.into(),
            kind: "invariant".into(),
            step: Some(step),
            detail: detail.into(),
        }
    }

    /// Four runs: `agrees` (agree), `shutdown` (diverge at step 1, rustls also loses bytes:
    /// an unexplained I1 violation), `zero` (known at step 1) and `reneg` (rustls skips).
    pub fn report() -> Report {
        let ok = Outcome::Ok;
        let agrees = run("agrees", trace(&[ok(1), ok(100)]), trace(&[ok(1), ok(100)]));
        let mut b = trace(&[ok(1), ok(100)]);
        b.violations.push(violation(
            "I1",
            1,
            "100 confirmed bytes <never> read & lost",
        ));
        b.delivery.received = 0;
        b.delivery.missing = 100;
        let mut shutdown = run(
            "shutdown",
            trace(&[ok(1), Outcome::Ssl("protocol is shutdown".into())]),
            b,
        );
        shutdown.verdict = Verdict::Diverge;
        differ(&mut shutdown, 1, "ssl(protocol is shutdown)", "ok(100)");
        let mut zero = run(
            "zero",
            trace(&[ok(1), Outcome::Syscall]),
            trace(&[ok(1), ok(0)]),
        );
        zero.verdict = Verdict::Known;
        differ(&mut zero, 1, "syscall", "ok(0)");
        explain(&mut zero, "divergence", "W9", "zero-length writes differ");
        let mut skipped = trace(&[ok(1), Outcome::Skip("no renegotiation".into())]);
        skipped.status = RunStatus::Skipped {
            step: Some(1),
            reason: "no renegotiation".into(),
        };
        let mut reneg = run("reneg", trace(&[ok(1), ok(1)]), skipped);
        reneg.verdict = Verdict::Skip;
        let scenarios = vec![agrees, shutdown, zero, reneg];
        let mut verdicts: BTreeMap<String, usize> = Verdict::ALL
            .iter()
            .map(|v| (v.as_str().to_string(), 0))
            .collect();
        for s in &scenarios {
            *verdicts.get_mut(s.verdict.as_str()).unwrap() += 1;
        }
        let standing = |verdict, checked_runs, runs: &[&str]| ClauseStanding {
            verdict,
            checked_runs,
            violating_runs: runs.iter().map(|r| r.to_string()).collect(),
            known_runs: vec![],
        };
        let all: Vec<String> = scenarios.iter().map(|s| s.run.clone()).collect();
        let mut clauses = BTreeMap::new();
        // Every trace checked I1; the scenarios cite W6, which nothing checks.
        clauses.insert(
            "I1".to_string(),
            ClauseView {
                runs: all.clone(),
                recorded_runs: vec![],
                implementations: [
                    (
                        "openssl".to_string(),
                        standing(ClauseVerdict::Conforms, 4, &[]),
                    ),
                    (
                        "rustls".to_string(),
                        standing(
                            ClauseVerdict::Violates,
                            4,
                            &["shutdown/tls1.3/client/auto_retry"],
                        ),
                    ),
                ]
                .into_iter()
                .collect(),
            },
        );
        clauses.insert(
            "W6".to_string(),
            ClauseView {
                runs: vec![],
                recorded_runs: all,
                implementations: [
                    (
                        "openssl".to_string(),
                        standing(ClauseVerdict::RecordedOnly, 0, &[]),
                    ),
                    (
                        "rustls".to_string(),
                        standing(ClauseVerdict::RecordedOnly, 0, &[]),
                    ),
                ]
                .into_iter()
                .collect(),
            },
        );
        Report {
            schema_version: SCHEMA_VERSION,
            harness: ImplInfo {
                name: "sslwrite".into(),
                version: "0.1.0".into(),
                family: "sslwrite".into(),
                library: None,
            },
            implementations: vec![
                ImplInfo {
                    name: "openssl".into(),
                    version: "OpenSSL 3.0.19".into(),
                    family: "openssl".into(),
                    library: None,
                },
                ImplInfo {
                    name: "rustls".into(),
                    version: "rustls 0.23 (ring)".into(),
                    family: "rustls".into(),
                    library: None,
                },
            ],
            reference: "openssl".into(),
            peer: None,
            host: "test".into(),
            started_unix: 1_700_000_000,
            duration_ms: 1234,
            command_line: vec!["sslwrite".into(), "conformance".into()],
            summary: Summary {
                runs: scenarios.len(),
                verdicts,
                unexpected_violations: [("openssl".to_string(), 0), ("rustls".to_string(), 1)]
                    .into_iter()
                    .collect(),
                known_violations: [("openssl".to_string(), 0), ("rustls".to_string(), 0)]
                    .into_iter()
                    .collect(),
                passed: false,
                stale_entries: BTreeMap::new(),
                aspects: Default::default(),
            },
            scenarios,
            clauses,
            warnings: vec!["known-divergence entry 3 matches nothing".into()],
            complete: true,
            transports: vec![Default::default()],
            transport_differences: vec![],
            shard: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup_quotes_and_control_characters() {
        assert_eq!(
            escape_xml("a<b>&\"c\" 'd'\u{1}\n"),
            "a&lt;b&gt;&amp;&quot;c&quot; &#39;d&#39;\u{fffd}\n"
        );
    }

    #[test]
    fn cell_verdicts_follow_differences_violations_and_skips() {
        let r = fixture::report();
        let v = |i: usize, n: &str| cell_verdict(&r.scenarios[i], n).unwrap();
        assert_eq!(v(0, "rustls"), Verdict::Agree);
        assert_eq!(v(1, "rustls"), Verdict::Diverge);
        assert_eq!(v(1, "openssl"), Verdict::Agree);
        assert_eq!(v(2, "rustls"), Verdict::Known);
        assert_eq!(v(3, "rustls"), Verdict::Skip);
        assert_eq!(cell_verdict(&r.scenarios[0], "boringssl"), None);
    }

    #[test]
    fn explained_violations_are_paired_by_clause_in_order() {
        let mut run = fixture::report().scenarios.remove(1);
        let t = run.results.get_mut("rustls").unwrap();
        t.violations.push(fixture::violation("I1", 2, "second"));
        fixture::explain(&mut run, "violation", "I1", "first one is known");
        let v = violations(&run, "rustls");
        assert!(v[0].1.is_some(), "the first I1 is explained");
        assert!(v[1].1.is_none(), "one match explains one violation");
        assert_eq!(unexplained_violations(&run, "rustls")[0].detail, "second");
    }

    #[test]
    fn calls_are_run_length_encoded() {
        use crate::contract::Outcome;
        let calls: Vec<Call> = [Outcome::WantWrite, Outcome::WantWrite, Outcome::Ok(5)]
            .into_iter()
            .map(|o| Call::new(o, -1))
            .collect();
        assert_eq!(calls_summary(&calls), "want_write ×2, ok(5)");
    }

    #[test]
    fn atomic_write_replaces_the_file_and_names_the_path_on_failure() {
        let dir = std::env::temp_dir().join(format!("sslwrite-atomic-{}", std::process::id()));
        let path = dir.join("out.txt");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "two");
        let leftovers = std::fs::read_dir(&dir).unwrap().count();
        assert_eq!(leftovers, 1, "no temporary file is left behind");
        let blocked = path.join("below-a-file.txt");
        let err = write_atomic(&blocked, b"x").unwrap_err();
        assert!(err.contains("out.txt"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A writer killed between create and rename (kill -9) leaves `.NAME.PID.tmp`; the next
    /// write of that path removes it, and leaves a live writer's alone (issue 16).
    #[test]
    fn a_dead_writers_temporary_file_is_removed() {
        let dir = std::env::temp_dir().join(format!("sslwrite-stale-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("r.json");
        // No process has a pid above the kernel's limit (4194304).
        let dead = dir.join(".r.json.4194999.tmp");
        let live = dir.join(".r.json.1.tmp");
        let other = dir.join(".other.json.4194999.tmp");
        for f in [&dead, &live, &other] {
            std::fs::write(f, "half").unwrap();
        }
        write_atomic(&path, b"whole").unwrap();
        assert!(!dead.exists(), "the dead writer's temporary is gone");
        assert!(live.exists(), "a live process's temporary stays");
        assert!(other.exists(), "another file's temporary stays");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
