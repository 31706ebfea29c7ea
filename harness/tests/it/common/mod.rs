//! What the integration tests share.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A fresh temporary folder, removed when dropped: `sslwrite-<tag>-<pid>-<name>`, with the
/// `subdirs` created inside.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str, name: &str, subdirs: &[&str]) -> TempDir {
        let d = std::env::temp_dir().join(format!("sslwrite-{tag}-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        for s in subdirs {
            std::fs::create_dir_all(d.join(s)).unwrap();
        }
        TempDir(d)
    }

    // Not every test file joins paths through it.
    #[allow(dead_code)]
    pub fn path(&self, f: &str) -> PathBuf {
        self.0.join(f)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `sslwrite conformance --quiet` on the scenarios in `scenarios` with the known file `known`,
/// the report written to `json`, and `extra` arguments.
// Not every test file plays a whole folder.
#[allow(dead_code)]
pub fn conformance(scenarios: &Path, known: &Path, json: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sslwrite"))
        .args(["conformance", "--quiet"])
        .args(extra)
        .arg("--scenarios")
        .arg(scenarios)
        .arg("--known")
        .arg(known)
        .arg("--json")
        .arg(json)
        .output()
        .expect("the sslwrite binary runs")
}

/// Leaves out of a JSON report what says when, where and how it was made rather than what it
/// found: the start time, the durations (the whole run's and each trace's `duration_us`), the
/// host and the command line. Each top-level one must be there.
// Not every test file compares whole reports.
#[allow(dead_code)]
pub fn strip_timings(report: &mut serde_json::Value) {
    let top = report.as_object_mut().expect("a report is an object");
    for k in ["started_unix", "duration_ms", "host", "command_line"] {
        assert!(top.remove(k).is_some(), "the report has {k}");
    }
    for run in top["scenarios"].as_array_mut().expect("scenarios") {
        for trace in run["results"]
            .as_object_mut()
            .expect("results")
            .values_mut()
        {
            strip_trace_timing(trace);
        }
    }
}

/// A trace's behaviour without how long it took (`duration_us`), for comparing traces.
#[allow(dead_code)]
pub fn strip_trace_timing(trace: &mut serde_json::Value) {
    trace
        .as_object_mut()
        .expect("a trace is an object")
        .remove("duration_us");
}

/// The default implementations (`impls::NAMES`), built in.
pub fn default_impls() -> Vec<Box<dyn sslwrite::contract::Implementation>> {
    sslwrite::impls::NAMES
        .iter()
        .map(|n| sslwrite::impls::by_name(n).unwrap())
        .collect()
}

/// Every run of `scenarios` played on `impls` in this process (the linked OpenSSL the peer)
/// and judged with `known`: the report a `conformance` run would write, `command` its command
/// line.
pub fn judged(
    scenarios: &[sslwrite::scenario::Scenario],
    impls: &[Box<dyn sslwrite::contract::Implementation>],
    known: &sslwrite::known::Known,
    command: &str,
) -> sslwrite::report::Report {
    use sslwrite::suite;
    let runs = suite::Selection::all().runs(scenarios);
    let openssl = sslwrite::impls::openssl::OpensslImpl::new();
    let traces = suite::play(&runs, impls, &openssl, 2, &|| {});
    let infos: Vec<_> = impls.iter().map(|i| i.info()).collect();
    let now = (std::time::SystemTime::now(), std::time::Instant::now());
    let mut report = suite::assemble(&runs, traces, &infos, known, now, vec![command.into()]);
    report.peer = Some(sslwrite::contract::Implementation::info(&openssl));
    report
}
