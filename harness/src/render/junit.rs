//! JUnit XML, for CI test views: one `<testcase>` per scenario run × implementation
//! (`classname` = scenario id, `name` = `RUN [IMPLEMENTATION]`, `time` = how long that run took,
//! from the trace's `duration_us`, absent for a report that has none); the suite's `time` is
//! the whole run's wall-clock time.
//!
//! A testcase fails (`<failure>`) when its implementation diverges from the reference without a
//! known reason or breaks the contract without one: the message names the first difference (step,
//! field, both values) and the violations; the body holds the run side by side. An
//! implementation that could not do a step is `<skipped>` with the reason; one whose set-up
//! failed, or that crashed or hung (I4) without a known entry for it, is an `<error>` (the test
//! could not finish: JUnit's error, not its failure). Explained differences pass, their reason
//! in `<system-out>`.

use super::explain::explain_run;
use super::{
    cell_verdict, describe_difference, describe_violation, difference, difference_reason,
    escape_xml, names, unexplained_difference, unexplained_violations, violations,
};
use crate::diff::Verdict;
use crate::report::Report;
use crate::runner::RunStatus;

/// The JUnit XML document for `report`.
pub fn render(report: &Report) -> String {
    let names = names(report);
    let mut cases = String::new();
    let (mut tests, mut failures, mut errors, mut skipped) = (0, 0, 0, 0);
    for run in &report.scenarios {
        for name in &names {
            let Some(trace) = run.results.get(*name) else {
                continue;
            };
            tests += 1;
            let time = trace.duration_us.map_or(String::new(), |us| {
                format!(" time=\"{}\"", seconds(us, 1_000_000))
            });
            cases.push_str(&format!(
                "    <testcase classname=\"{}\" name=\"{}\"{time}>\n",
                escape_xml(&run.id),
                escape_xml(&format!("{} [{name}]", run.run))
            ));
            let lost = match &trace.status {
                RunStatus::Crash { message, .. } => Some(("crash", message.as_str())),
                RunStatus::Timeout { message, .. } => Some(("timeout", message.as_str())),
                _ => None,
            };
            match cell_verdict(run, name) {
                Some(Verdict::Diverge) if lost.is_some() => {
                    errors += 1;
                    let (kind, message) = lost.unwrap_or_default();
                    cases.push_str(&format!(
                        "      <error message=\"{}\" type=\"{kind}\">{}</error>\n",
                        escape_xml(message),
                        escape_xml(&explain_run(report, run))
                    ));
                }
                Some(Verdict::Error) => {
                    errors += 1;
                    let message = match &trace.status {
                        RunStatus::Error { message } => message.as_str(),
                        _ => "the run could not be set up",
                    };
                    cases.push_str(&format!(
                        "      <error message=\"{}\" type=\"error\"/>\n",
                        escape_xml(message)
                    ));
                }
                Some(Verdict::Diverge) => {
                    failures += 1;
                    let mut message = Vec::new();
                    if let Some(d) = unexplained_difference(run, name) {
                        message.push(format!("first difference: {}", describe_difference(d)));
                    }
                    for v in unexplained_violations(run, name) {
                        message.push(format!("violation: {}", describe_violation(v)));
                    }
                    let message = message.join("; ");
                    cases.push_str(&format!(
                        "      <failure message=\"{}\" type=\"diverge\">{}</failure>\n",
                        escape_xml(&message),
                        escape_xml(&format!("{message}\n\n{}", explain_run(report, run)))
                    ));
                }
                Some(Verdict::Skip) => {
                    skipped += 1;
                    let reason = match &trace.status {
                        RunStatus::Skipped { step, reason } => {
                            let at = step.map_or(String::new(), |s| format!("step {s}: "));
                            format!("{at}{reason}")
                        }
                        _ => "skipped".to_string(),
                    };
                    cases.push_str(&format!(
                        "      <skipped message=\"{}\"/>\n",
                        escape_xml(&reason)
                    ));
                }
                Some(Verdict::Known) => {
                    let mut out = Vec::new();
                    if let (Some(d), Some(k)) =
                        (difference(run, name), difference_reason(run, name))
                    {
                        out.push(format!(
                            "known difference: {} ({} {}: {})",
                            describe_difference(d),
                            k.kind,
                            k.clause,
                            k.reason
                        ));
                    }
                    for (v, k) in violations(run, name) {
                        if let Some(k) = k {
                            out.push(format!(
                                "known violation: {} ({})",
                                describe_violation(v),
                                k.reason
                            ));
                        }
                    }
                    cases.push_str(&format!(
                        "      <system-out>{}</system-out>\n",
                        escape_xml(&out.join("\n"))
                    ));
                }
                Some(Verdict::Agree) | None => {}
            }
            cases.push_str("    </testcase>\n");
        }
    }
    // An interrupted run says so where a CI page shows it: a suite-level system-err line (the
    // runs that never played are not test cases).
    let incomplete = if report.complete {
        String::new()
    } else {
        "    <system-err>Incomplete: the harness was stopped (SIGINT/SIGTERM) before every run finished; these are the runs that did.</system-err>\n".to_string()
    };
    let time = seconds(report.duration_ms, 1000);
    let counts = format!(
        "tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\" time=\"{time}\""
    );
    let impls: Vec<String> = report
        .implementations
        .iter()
        .map(|i| format!("{} ({})", i.name, i.version))
        .collect();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <testsuites name=\"sslwrite\" {counts}>\n\
         \x20 <testsuite name=\"sslwrite conformance\" {counts} hostname=\"{}\">\n\
         \x20   <properties>\n\
         \x20     <property name=\"reference\" value=\"{}\"/>\n\
         \x20     <property name=\"implementations\" value=\"{}\"/>\n\
         \x20     <property name=\"schema_version\" value=\"{}\"/>\n\
         \x20     <property name=\"complete\" value=\"{}\"/>\n\
         \x20   </properties>\n\
         {incomplete}{cases}\
         \x20 </testsuite>\n\
         </testsuites>\n",
        escape_xml(&report.host),
        escape_xml(&report.reference),
        escape_xml(&impls.join(", ")),
        report.schema_version,
        report.complete,
    )
}

/// `n` units of `1/per` seconds as JUnit's decimal seconds, exactly (`1234` ms: `1.234`).
fn seconds(n: u64, per: u64) -> String {
    let digits = per.ilog10() as usize;
    format!("{}.{:0digits$}", n / per, n % per)
}

#[cfg(test)]
mod tests {
    use super::super::fixture;
    use super::*;

    /// An element of a parsed document: name, attributes (unescaped), text inside (raw).
    struct Element {
        name: String,
        attrs: Vec<(String, String)>,
        text: String,
    }

    impl Element {
        fn attr(&self, k: &str) -> &str {
            &self
                .attrs
                .iter()
                .find(|(n, _)| n == k)
                .expect("attribute present")
                .1
        }
    }

    /// A minimal XML well-formedness check: balanced, properly nested elements, quoted
    /// attributes, only the five predefined entities, no raw `<` in text or attributes.
    fn parse(xml: &str) -> Vec<Element> {
        let body = xml
            .strip_prefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
            .expect("XML declaration first");
        let mut stack: Vec<usize> = Vec::new();
        let mut elements: Vec<Element> = Vec::new();
        let mut rest = body;
        while !rest.is_empty() {
            let lt = rest.find('<').unwrap_or(rest.len());
            let text = &rest[..lt];
            check_entities(text);
            if let Some(i) = stack.last() {
                elements[*i].text.push_str(text);
            }
            rest = &rest[lt..];
            if rest.is_empty() {
                break;
            }
            let gt = rest.find('>').expect("tag closes");
            let tag = &rest[1..gt];
            rest = &rest[gt + 1..];
            if let Some(name) = tag.strip_prefix('/') {
                let i = stack.pop().expect("closing tag has an opener");
                assert_eq!(elements[i].name, name, "tags nest properly");
                continue;
            }
            let self_closing = tag.ends_with('/');
            let tag = tag.trim_end_matches('/');
            let (name, mut attrs_src) = tag.split_once(' ').unwrap_or((tag, ""));
            let mut attrs = Vec::new();
            loop {
                attrs_src = attrs_src.trim_start();
                if attrs_src.is_empty() {
                    break;
                }
                let (k, v) = attrs_src.split_once("=\"").expect("attribute is quoted");
                let end = v.find('"').expect("attribute value closes");
                check_entities(&v[..end]);
                assert!(!v[..end].contains('<'), "raw < in an attribute");
                attrs.push((k.to_string(), unescape(&v[..end])));
                attrs_src = &v[end + 1..];
            }
            elements.push(Element {
                name: name.to_string(),
                attrs,
                text: String::new(),
            });
            if !self_closing {
                stack.push(elements.len() - 1);
            }
        }
        assert!(stack.is_empty(), "every element is closed");
        elements
    }

    fn check_entities(s: &str) {
        for (i, _) in s.match_indices('&') {
            let ent = &s[i..s[i..].find(';').map_or(s.len(), |j| i + j + 1)];
            assert!(
                ["&amp;", "&lt;", "&gt;", "&quot;", "&#39;"].contains(&ent),
                "bad entity {ent:?}"
            );
        }
    }

    fn unescape(s: &str) -> String {
        s.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&amp;", "&")
    }

    fn find<'a>(elements: &'a [Element], name: &str) -> &'a Element {
        elements
            .iter()
            .find(|e| e.name == name)
            .unwrap_or_else(|| panic!("no <{name}>"))
    }

    #[test]
    fn an_interrupted_run_says_it_is_incomplete() {
        let mut r = fixture::report();
        assert!(!render(&r).contains("Incomplete"));
        r.complete = false;
        let xml = render(&r);
        let elements = parse(&xml);
        assert!(
            xml.contains("<property name=\"complete\" value=\"false\"/>"),
            "{xml}"
        );
        assert!(elements.iter().any(|e| e.name == "system-err"), "{xml}");
        assert!(xml.contains("Incomplete: the harness was stopped"), "{xml}");
    }

    #[test]
    fn well_formed_with_one_testcase_per_run_and_implementation() {
        let xml = render(&fixture::report());
        let elements = parse(&xml);
        let count = |n: &str| elements.iter().filter(|e| e.name == n).count();
        assert_eq!(count("testcase"), 8);
        assert_eq!(count("failure"), 1);
        assert_eq!(count("skipped"), 1);
        assert_eq!(count("error"), 0);
        let suite = find(&elements, "testsuite");
        assert_eq!(suite.attr("tests"), "8");
        assert_eq!(suite.attr("failures"), "1");
        assert_eq!(suite.attr("skipped"), "1");
        assert_eq!(suite.attr("errors"), "0");
        let case = elements
            .iter()
            .find(|e| e.name == "testcase" && e.attr("name").starts_with("shutdown/"))
            .unwrap();
        assert_eq!(case.attr("classname"), "shutdown");
        assert_eq!(
            case.attr("name"),
            "shutdown/tls1.3/client/auto_retry [openssl]"
        );
    }

    #[test]
    fn the_failure_message_carries_the_diff_and_the_violation() {
        let elements = parse(&render(&fixture::report()));
        let failure = find(&elements, "failure");
        let message = failure.attr("message");
        assert!(
            message.contains(
                "first difference: step 1 outcome: openssl ssl(protocol is shutdown), rustls ok(100)"
            ),
            "{message}"
        );
        assert!(
            message.contains(
                "violation: I1 (invariant) at step 1: 100 confirmed bytes <never> read & lost"
            ),
            "the detail is escaped and comes back intact: {message}"
        );
        assert!(
            failure.text.contains("&gt; "),
            "the body marks the step: {}",
            failure.text
        );
    }

    #[test]
    fn each_case_has_the_time_its_run_took_and_the_suite_the_whole() {
        let mut r = fixture::report();
        r.scenarios[0]
            .results
            .get_mut("openssl")
            .unwrap()
            .duration_us = Some(1_000_250);
        r.scenarios[0]
            .results
            .get_mut("rustls")
            .unwrap()
            .duration_us = Some(37);
        let xml = render(&r);
        assert!(xml.contains(
            "<testcase classname=\"agrees\" name=\"agrees/tls1.3/client/auto_retry [openssl]\" time=\"1.000250\">"
        ), "{xml}");
        assert!(xml.contains(
            "<testcase classname=\"agrees\" name=\"agrees/tls1.3/client/auto_retry [rustls]\" time=\"0.000037\">"
        ), "{xml}");
        // A report written before runs were timed: no time rather than a made-up one.
        assert!(xml.contains(
            "<testcase classname=\"shutdown\" name=\"shutdown/tls1.3/client/auto_retry [openssl]\">"
        ), "{xml}");
        let elements = parse(&xml);
        for e in elements
            .iter()
            .filter(|e| e.name == "testsuites" || e.name == "testsuite")
        {
            assert_eq!(e.attr("time"), "1.234", "the report's duration_ms");
        }
        assert_eq!(seconds(0, 1000), "0.000");
        assert_eq!(seconds(61_005, 1000), "61.005");
        assert_eq!(seconds(u64::MAX, 1_000_000), "18446744073709.551615");
    }

    #[test]
    fn errors_are_counted_and_known_reasons_are_shown() {
        let mut r = fixture::report();
        r.scenarios[0].results.get_mut("rustls").unwrap().status = RunStatus::Error {
            message: "no \u{7} certificate".into(),
        };
        let elements = parse(&render(&r));
        assert_eq!(find(&elements, "testsuite").attr("errors"), "1");
        let error = find(&elements, "error");
        assert_eq!(error.attr("message"), "no \u{fffd} certificate");
        let out = find(&elements, "system-out");
        assert!(
            out.text.contains("zero-length writes differ"),
            "{}",
            out.text
        );
    }
}
