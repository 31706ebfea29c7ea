//! The command line around the reports: every output written, `report` re-rendering and
//! refusing what it cannot read, `--explain`, and the exit status with `--baseline` (1 only on
//! a regression; fixed runs fail only with `--strict`). Runs the real binary on the four runs of
//! z-write-zero, whose difference is explained by a known entry.

use std::path::Path;
use std::process::{Command, Output};

use crate::common;

/// A temporary folder for one test.
fn dir(name: &str) -> common::TempDir {
    common::TempDir::new("cli", name, &[])
}

fn sslwrite(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sslwrite"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("the sslwrite binary runs")
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exited normally")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// `conformance` on z-write-zero with `extra` arguments, the report in `json`.
fn conformance(json: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "conformance",
        "--filter",
        "z-write-zero",
        "--jobs",
        "2",
        "--json",
        json.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    sslwrite(&args)
}

#[test]
fn conformance_writes_every_output_and_report_re_renders_and_explains() {
    let d = dir("outputs");
    let (json, junit, md, html) = (
        d.path("r.json"),
        d.path("out/j.xml"),
        d.path("out/s.md"),
        d.path("out/c.html"),
    );
    let o = conformance(
        &json,
        &[
            "--junit",
            junit.to_str().unwrap(),
            "--markdown",
            md.to_str().unwrap(),
            "--html",
            html.to_str().unwrap(),
        ],
    );
    assert_eq!(code(&o), 0, "{}{}", text(&o.stdout), text(&o.stderr));
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains("<testsuites name=\"sslwrite\" tests=\"8\" failures=\"0\""),
        "{xml}"
    );
    assert!(std::fs::read_to_string(&md)
        .unwrap()
        .contains("| known | 4 |"));
    assert!(std::fs::read_to_string(&html)
        .unwrap()
        .contains("<table id=\"matrix\" data-runs=\"4\">"));
    let leftovers: Vec<_> = std::fs::read_dir(d.path("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");

    let again = d.path("again.html");
    let o = sslwrite(&[
        "report",
        json.to_str().unwrap(),
        "--quiet",
        "--html",
        again.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    assert_eq!(
        std::fs::read(&again).unwrap(),
        std::fs::read(&html).unwrap(),
        "re-rendering the saved report gives the same page"
    );

    let o = sslwrite(&[
        "report",
        json.to_str().unwrap(),
        "--explain",
        "z-write-zero",
    ]);
    let out = text(&o.stdout);
    assert_eq!(code(&o), 0);
    assert_eq!(
        out.matches("<- first difference (outcome)").count(),
        4,
        "{out}"
    );
    let o = sslwrite(&["report", json.to_str().unwrap(), "--explain", "nope"]);
    assert_eq!(code(&o), 2);
    assert!(text(&o.stderr).contains("no run of scenario \"nope\""));
}

#[test]
fn report_refuses_what_it_cannot_read_naming_the_file() {
    let d = dir("refuse");
    let bad = d.path("bad.json");
    std::fs::write(&bad, "{").unwrap();
    let o = sslwrite(&["report", bad.to_str().unwrap()]);
    assert_eq!(code(&o), 2);
    let err = text(&o.stderr);
    assert!(
        err.contains(bad.to_str().unwrap()) && err.contains("is not JSON"),
        "{err}"
    );

    let old = d.path("v99.json");
    std::fs::write(&old, r#"{"schema_version": 99}"#).unwrap();
    let o = sslwrite(&["report", old.to_str().unwrap()]);
    assert_eq!(code(&o), 2);
    let err = text(&o.stderr);
    assert!(
        err.contains(old.to_str().unwrap()) && err.contains("schema_version 99"),
        "{err}"
    );
}

#[test]
fn an_unwritable_output_exits_2_naming_the_path() {
    let d = dir("unwritable");
    let file = d.path("a-file");
    std::fs::write(&file, "").unwrap();
    let target = file.join("c.html");
    let o = conformance(&d.path("r.json"), &["--html", target.to_str().unwrap()]);
    assert_eq!(code(&o), 2, "{}", text(&o.stderr));
    let err = text(&o.stderr);
    assert!(
        err.contains("HTML page could not be written") && err.contains("a-file"),
        "{err}"
    );
}

#[test]
fn a_baseline_gates_only_on_regressions() {
    let d = dir("baseline");
    let empty_known = d.path("known.json");
    std::fs::write(&empty_known, r#"{"entries": []}"#).unwrap();
    let known = ["--known", empty_known.to_str().unwrap()];
    // Only the entry for z-write-zero, so that no other entry is stale (a warning).
    let all: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(sslwrite::project_root().join("scenarios/known-divergences.json"))
            .unwrap(),
    )
    .unwrap();
    let entries: Vec<&serde_json::Value> = all["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["scenario"] == "z-write-zero" && e["implementation"] == "rustls")
        .collect();
    assert_eq!(
        entries.len(),
        1,
        "one known entry explains rustls's z-write-zero"
    );
    let only_known = d.path("only.json");
    std::fs::write(
        &only_known,
        serde_json::json!({ "entries": entries }).to_string(),
    )
    .unwrap();
    let only = ["--known", only_known.to_str().unwrap()];

    // With the known entry: 4 known runs. Without it: 4 diverging runs, exit 1.
    let explained = d.path("explained.json");
    let o = conformance(&explained, &only);
    assert_eq!(code(&o), 0);
    assert!(!text(&o.stdout).contains("warning"), "{}", text(&o.stdout));
    let diverging = d.path("diverging.json");
    assert_eq!(code(&conformance(&diverging, &known)), 1);

    // Diverging as before the baseline: not a regression.
    let mut args = known.to_vec();
    args.extend(["--baseline", diverging.to_str().unwrap()]);
    let o = conformance(&d.path("now.json"), &args);
    assert_eq!(code(&o), 0, "{}", text(&o.stdout));
    assert!(text(&o.stdout).contains("0 regression(s)"));

    // Known in the baseline, diverging now: a regression.
    let mut args = known.to_vec();
    args.extend(["--baseline", explained.to_str().unwrap()]);
    let o = conformance(&d.path("now.json"), &args);
    let out = text(&o.stdout);
    assert_eq!(code(&o), 1, "{out}");
    assert!(
        out.contains(
            "regressions:\n  z-write-zero/tls1.2/client/auto_retry [rustls]: known -> diverge"
        ),
        "{out}"
    );

    // Diverging in the baseline, explained now: fixed, a warning; a failure with --strict.
    let mut base = only.to_vec();
    base.extend(["--baseline", diverging.to_str().unwrap()]);
    let o = conformance(&d.path("now.json"), &base);
    assert_eq!(code(&o), 0, "{}", text(&o.stdout));
    assert!(text(&o.stdout).contains("is fixed (diverge in the baseline"));
    let mut strict = base.to_vec();
    strict.push("--strict");
    let o = conformance(&d.path("now.json"), &strict);
    assert_eq!(code(&o), 1);
    assert!(text(&o.stderr).contains("--strict"));

    let o = conformance(&d.path("now.json"), &["--baseline", "/nonexistent/b.json"]);
    assert_eq!(code(&o), 2);
    assert!(text(&o.stderr).contains("/nonexistent/b.json"));
}

#[test]
fn a_known_file_named_on_the_command_line_must_exist() {
    let d = dir("known-missing");
    let json = d.path("r.json");
    let missing = d.path("no-such-known.json");
    let o = conformance(&json, &["--known", missing.to_str().unwrap()]);
    assert_eq!(code(&o), 2);
    let err = text(&o.stderr);
    assert!(
        err.contains("--known")
            && err.contains("no-such-known.json")
            && err.contains("no such file"),
        "{err}"
    );
    assert!(!json.exists(), "no report is written");
}

#[test]
fn bench_loop_plays_the_selection_and_refuses_an_empty_one() {
    let o = sslwrite(&["bench-loop", "--filter", "z-write-zero", "--passes", "2"]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    // z-write-zero: its four runs on both built-in implementations, twice.
    let out = text(&o.stdout);
    let n: usize = out
        .split_whitespace()
        .next()
        .and_then(|w| w.parse().ok())
        .unwrap_or_else(|| panic!("no run count in {out:?}"));
    assert_eq!(n, 4 * 2 * 2, "{out}");
    let o = sslwrite(&["bench-loop", "--filter", "no-such-scenario"]);
    assert_eq!(code(&o), 2);
    assert!(
        text(&o.stderr).contains("selects no run"),
        "{}",
        text(&o.stderr)
    );
}

/// Hostile inputs around the command line (issue 16): a FIFO named like the known-divergence
/// file, a device given as the known file, and a time limit too large for a `Duration` each
/// end in exit 2 with the reason, at once; before, the first hung for ever, the second grew
/// to gigabytes and the third panicked (exit 101).
#[test]
fn a_fifo_or_device_as_known_file_and_a_huge_timeout_are_refused_at_once() {
    let d = dir("hostile-cli");
    let folder = d.path("scenarios");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::copy(
        sslwrite::project_root().join("scenarios/z-write-zero.json"),
        folder.join("z-write-zero.json"),
    )
    .unwrap();
    let fifo = folder.join("known-divergences.json");
    let made = Command::new("mkfifo").arg(&fifo).status();
    assert!(made.is_ok_and(|s| s.success()), "mkfifo");
    let started = std::time::Instant::now();
    let json = d.path("r.json");
    let o = sslwrite(&[
        "conformance",
        "--quiet",
        "--scenarios",
        folder.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
    ]);
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    assert_eq!(code(&o), 2, "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("known-divergences.json: not a regular file"),
        "{}",
        text(&o.stderr)
    );
    std::fs::remove_file(&fifo).unwrap();
    let o = sslwrite(&[
        "conformance",
        "--quiet",
        "--scenarios",
        folder.to_str().unwrap(),
        "--known",
        "/dev/zero",
        "--json",
        json.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 2, "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("/dev/zero: not a regular file"),
        "{}",
        text(&o.stderr)
    );
    let o = sslwrite(&[
        "conformance",
        "--quiet",
        "--scenarios",
        folder.to_str().unwrap(),
        "--timeout",
        "1e20",
        "--json",
        json.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 2, "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("--timeout must be"),
        "{}",
        text(&o.stderr)
    );
    assert!(!json.exists(), "no report for refused input");
}

/// Outputs to devices are written in place, never replaced by a regular file (as root, the
/// write-then-rename would have turned `/dev/null` into a file); a full device is an error
/// naming it (issue 16, item 5).
#[test]
fn outputs_to_devices_are_written_in_place() {
    use std::os::unix::fs::FileTypeExt;
    let o = conformance(Path::new("/dev/null"), &[]);
    assert_ne!(code(&o), 2, "{}", text(&o.stderr));
    let meta = std::fs::metadata("/dev/null").unwrap();
    assert!(
        meta.file_type().is_char_device(),
        "/dev/null is still a device"
    );
    let o = conformance(Path::new("/dev/full"), &[]);
    assert_eq!(code(&o), 2, "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("/dev/full"), "{}", text(&o.stderr));
    assert!(std::fs::metadata("/dev/full")
        .unwrap()
        .file_type()
        .is_char_device());
}

/// Titles, reasons and version strings are text the harness did not write: a terminal gets
/// control and direction characters as visible `\u{..}` (ESC, BEL, U+202E cannot drive it or
/// reorder it), and Markdown gets markup escaped (an image link renders as text), in `list`,
/// `--verbose`, `--explain` and `--markdown` (issue 16, item 7).
#[test]
fn control_characters_and_markup_from_inputs_are_escaped() {
    let d = dir("escape");
    let folder = d.path("scenarios");
    std::fs::create_dir_all(&folder).unwrap();
    let hostile = "\u{1b}[31mred\u{7} \u{202e}desrever ![x](https://e.invalid/p.png)";
    let mut s: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(sslwrite::project_root().join("scenarios/z-write-zero.json"))
            .unwrap(),
    )
    .unwrap();
    s["title"] = hostile.into();
    std::fs::write(folder.join("z-write-zero.json"), s.to_string()).unwrap();
    let all: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(sslwrite::project_root().join("scenarios/known-divergences.json"))
            .unwrap(),
    )
    .unwrap();
    let mut entry = all["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["scenario"] == "z-write-zero" && e["implementation"] == "rustls")
        .unwrap()
        .clone();
    entry["reason"] = format!("a reason with {hostile} in it").into();
    let known = d.path("known.json");
    std::fs::write(
        &known,
        serde_json::json!({ "entries": [entry] }).to_string(),
    )
    .unwrap();
    let raw = |out: &str| out.contains(['\u{1b}', '\u{7}', '\u{202e}']);
    let o = sslwrite(&["list", "--scenarios", folder.to_str().unwrap()]);
    let out = text(&o.stdout);
    assert!(
        !raw(&out) && out.contains("\\u{1b}[31mred\\u{7}"),
        "{out:?}"
    );
    let (json, md) = (d.path("r.json"), d.path("s.md"));
    let args = [
        "conformance",
        "--scenarios",
        folder.to_str().unwrap(),
        "--known",
        known.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
        "--markdown",
        md.to_str().unwrap(),
    ];
    let o = sslwrite(&[&args[..], &["--verbose"]].concat());
    let out = text(&o.stdout);
    assert!(!raw(&out) && out.contains("\\u{202e}"), "{out:?}");
    let markdown = std::fs::read_to_string(&md).unwrap();
    assert!(!raw(&markdown), "{markdown:?}");
    assert!(
        !markdown.contains("![x](") && markdown.contains("\\!\\[x\\]"),
        "{markdown}"
    );
    let o = sslwrite(&[&args[..], &["--explain", "z-write-zero"]].concat());
    let out = text(&o.stdout);
    assert!(!raw(&out) && out.contains("desrever"), "{out:?}");
}

/// A partial run (`--filter`, `--tls`, `--explain`) does not replace the suite's default report
/// (reports/conformance.json) with a few runs; an empty scenario folder says so (issue 16).
#[test]
fn partial_runs_leave_the_default_report_alone_and_an_empty_folder_is_named() {
    let default = sslwrite::project_root().join("reports/conformance.json");
    let before = std::fs::metadata(&default)
        .ok()
        .and_then(|m| m.modified().ok());
    let o = sslwrite(&["conformance", "--filter", "z-write-zero", "--jobs", "2"]);
    assert_ne!(code(&o), 2, "{}", text(&o.stderr));
    assert!(
        text(&o.stdout).contains("report: not written"),
        "{}",
        text(&o.stdout)
    );
    let after = std::fs::metadata(&default)
        .ok()
        .and_then(|m| m.modified().ok());
    assert_eq!(before, after, "the default report was not touched");
    let d = dir("empty");
    let empty = d.path("none");
    std::fs::create_dir_all(&empty).unwrap();
    let o = sslwrite(&["conformance", "--scenarios", empty.to_str().unwrap()]);
    assert_eq!(code(&o), 2);
    assert!(
        text(&o.stderr).contains("no scenario files (*.json) in this folder"),
        "{}",
        text(&o.stderr)
    );
}

/// `replay` of an input that finds nothing writes no `regression-clean-*.json` into the suite
/// (issue 16).
#[test]
fn replaying_an_input_without_a_finding_writes_nothing() {
    let d = dir("replay-clean");
    let out = d.path("regressions");
    let o = sslwrite(&["replay", "--seed", "1", "--out", out.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("nothing written: the input shows no finding"));
    let files = std::fs::read_dir(&out).map_or(0, |e| e.count());
    assert_eq!(files, 0, "no regression file for a clean input");
}

/// The project root is found at run time (issue 16), not taken from where the binary was built:
/// run from a folder inside another checkout (a workspace `Cargo.toml` and `scenarios/`), the
/// default report lands in that checkout's `reports/`; `SSLWRITE_ROOT` names the root from
/// anywhere; a root without `scenarios/` is refused with the reason (exit 2). Before, every
/// default output went to the checkout the binary was compiled in.
#[test]
fn the_default_report_goes_to_the_root_found_at_run_time() {
    let d = dir("root");
    let root = d.path("checkout");
    std::fs::create_dir_all(root.join("scenarios")).unwrap();
    std::fs::create_dir_all(root.join("deep/inside")).unwrap();
    std::fs::write(root.join("Cargo.toml"), "[workspace]\nmembers = []\n").unwrap();
    std::fs::copy(
        sslwrite::project_root().join("scenarios/z-write-zero.json"),
        root.join("scenarios/z-write-zero.json"),
    )
    .unwrap();
    let run = |cwd: &Path, env_root: Option<&Path>| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_sslwrite"));
        cmd.args(["conformance", "--quiet", "--isolation", "none"])
            .current_dir(cwd)
            .env("NO_COLOR", "1")
            .env_remove(sslwrite::ROOT_ENV);
        if let Some(r) = env_root {
            cmd.env(sslwrite::ROOT_ENV, r);
        }
        cmd.output().expect("the sslwrite binary runs")
    };
    let report = root.join("reports/conformance.json");
    let o = run(&root.join("deep/inside"), None);
    assert!(matches!(code(&o), 0 | 1), "{}", text(&o.stderr));
    let r: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report).expect("the report is in the checkout"))
            .unwrap();
    assert_eq!(
        r["scenarios"][0]["id"], "z-write-zero",
        "the checkout's own scenarios ran"
    );
    std::fs::remove_file(&report).unwrap();

    // SSLWRITE_ROOT, from a folder outside any checkout.
    let elsewhere = d.path("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let o = run(&elsewhere, Some(&root));
    assert!(matches!(code(&o), 0 | 1), "{}", text(&o.stderr));
    assert!(
        report.is_file(),
        "SSLWRITE_ROOT decides where the report goes"
    );

    let o = run(&elsewhere, Some(&elsewhere));
    assert_eq!(code(&o), 2, "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains(&format!(
            "error: SSLWRITE_ROOT={} has no scenarios/ folder: it is not an sslwrite project root",
            elsewhere.display()
        )),
        "{}",
        text(&o.stderr)
    );
}
