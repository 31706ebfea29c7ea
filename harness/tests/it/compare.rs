//! `sslwrite compare` and `sslwrite merge` on the real binary, over a folder of three small
//! scenarios (six runs) played on the linked OpenSSL and the test-only `faulty` implementation,
//! whose `lie=60` makes every 60-byte write report `want_write` after writing: a real
//! regression of the runs of `b-sixty` against a report where it lied about no length used.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

use crate::common;

/// Faults that strike no write of these scenarios, and one that strikes b-sixty's.
const HONEST: &str = "faulty:lie=77";
const LIAR: &str = "faulty:lie=60";

/// A folder with `scenarios/` holding a-fifty, b-sixty and c-seventy (TLS 1.2 and 1.3 each: a
/// handshake, a 100-byte write, then a write of that many bytes) and an empty known file.
fn suite(name: &str) -> common::TempDir {
    let d = common::TempDir::new("compare", name, &["scenarios"]);
    for (id, len) in [("a-fifty", 50), ("b-sixty", 60), ("c-seventy", 70)] {
        let text = format!(
            r#"{{"id": "{id}", "title": "write {len} bytes", "clauses": ["W1"], "tls": ["1.2", "1.3"],
                "steps": [{{"op": "handshake"}}, {{"op": "write", "len": 100}}, {{"op": "peer_read"}},
                          {{"op": "write", "len": {len}}}, {{"op": "peer_read"}}]}}"#
        );
        std::fs::write(d.path("scenarios").join(format!("{id}.json")), text).unwrap();
    }
    std::fs::write(d.path("known.json"), r#"{"entries": []}"#).unwrap();
    d
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

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Plays the suite on openssl and `faulty` into `json`, with `extra` arguments; the exit status.
fn play(d: &common::TempDir, faulty: &str, json: &Path, extra: &[&str]) -> i32 {
    let mut args = vec!["--impl", "openssl", "--impl", faulty, "--jobs", "2"];
    args.extend_from_slice(extra);
    let o = common::conformance(&d.path("scenarios"), &d.path("known.json"), json, &args);
    let c = code(&o);
    assert!(c == 0 || c == 1, "{}{}", out(&o), err(&o));
    c
}

/// The header line of a comparison with nothing in it.
fn nothing(old: &Path) -> String {
    format!(
        "compared with {}: 0 regression(s), 0 fixed, 0 changed, 0 new divergence(s), 0 changed outcome(s), 0 new run(s), 0 removed run(s)\n",
        old.display()
    )
}

#[test]
fn identical_reports_compare_clean() {
    let d = suite("same");
    let r = d.path("r.json");
    assert_eq!(play(&d, HONEST, &r, &[]), 0);
    let md = d.path("out/c.md");
    let o = sslwrite(&["compare", s(&r), s(&r), "--markdown", s(&md)]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    assert_eq!(
        out(&o),
        format!("{}Markdown comparison: {}\n", nothing(&r), md.display())
    );
    assert_eq!(
        std::fs::read_to_string(&md).unwrap(),
        format!(
            "## sslwrite compare: ✅ no regression\n\n{0} against {0}: 0 regressed, 0 fixed, 0 changed, 0 changed outcome(s), 0 new run(s), 0 gone run(s).\n\n",
            r.display().to_string().replace('_', "\\_")
        )
    );
}

#[test]
fn a_lying_write_is_a_regression_that_names_its_runs() {
    let d = suite("regression");
    let (old, new) = (d.path("old.json"), d.path("new.json"));
    assert_eq!(play(&d, HONEST, &old, &[]), 0);
    assert_eq!(play(&d, LIAR, &new, &[]), 1);
    let md = d.path("c.md");
    let o = sslwrite(&["compare", s(&old), s(&new), "--markdown", s(&md)]);
    assert_eq!(code(&o), 1, "{}", err(&o));
    let text = out(&o);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        format!(
            "compared with {}: 2 regression(s), 0 fixed, 0 changed, 2 new divergence(s), 2 changed outcome(s), 0 new run(s), 0 removed run(s)",
            old.display()
        )
    );
    assert_eq!(lines[1], "regressions:");
    for (line, tls) in lines[2..4].iter().zip(["1.2", "1.3"]) {
        assert_eq!(
            *line,
            format!(
                "  b-sixty/tls{tls}/client/auto_retry [faulty]: agree -> diverge (step 3 outcome: openssl ok(60), faulty want_write)"
            )
        );
    }
    assert!(
        text.contains("changed outcomes:\n  b-sixty/tls1.2/client/auto_retry [faulty] step 3 write buf=0 content=stream len=60: ok(60) -> want_write\n"),
        "{text}"
    );
    let md = std::fs::read_to_string(&md).unwrap();
    assert!(
        md.starts_with("## sslwrite compare: ❌ regressed\n"),
        "{md}"
    );
    assert!(
        md.contains("### Regressed (2)\n\n| run | implementation | before | now | what |\n|---|---|---|---|---|\n| b-sixty/tls1.2/client/auto\\_retry | faulty | agree | diverge | step 3 outcome: openssl ok(60), faulty want\\_write |\n"),
        "{md}"
    );

    // The other way round: the same two runs are fixed, and nothing regressed.
    let o = sslwrite(&["compare", s(&new), s(&old)]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    assert!(
        out(&o).starts_with(&format!(
            "compared with {}: 0 regression(s), 2 fixed, 0 changed, 0 new divergence(s), 2 changed outcome(s)",
            new.display()
        )),
        "{}",
        out(&o)
    );
    // --baseline goes through the same comparison.
    let again = d.path("again.json");
    let o = common::conformance(
        &d.path("scenarios"),
        &d.path("known.json"),
        &again,
        &["--impl", "openssl", "--impl", LIAR, "--baseline", s(&old)],
    );
    assert_eq!(code(&o), 1, "{}", err(&o));
    assert!(out(&o).contains(&lines[..4].join("\n")), "{}", out(&o));
}

#[test]
fn unreadable_input_exits_2_naming_the_file_and_the_reason() {
    let d = suite("unreadable");
    let good = d.path("r.json");
    assert_eq!(play(&d, HONEST, &good, &[]), 0);
    let (missing, broken, other) = (d.path("none.json"), d.path("b.json"), d.path("v9.json"));
    std::fs::write(&broken, "{\"schema_version\": 1,").unwrap();
    std::fs::write(&other, r#"{"schema_version": 9}"#).unwrap();
    for (args, why) in [
        (
            [s(&missing), s(&good)],
            format!("error: cannot read the report {}: ", missing.display()),
        ),
        (
            [s(&good), s(&broken)],
            format!("error: {} is not JSON: ", broken.display()),
        ),
        (
            [s(&other), s(&good)],
            format!(
                "error: {} has schema_version 9, this sslwrite reads schema_version 1",
                other.display()
            ),
        ),
    ] {
        let o = sslwrite(&["compare", args[0], args[1]]);
        assert_eq!(code(&o), 2, "{args:?}");
        assert!(err(&o).starts_with(&why), "{}", err(&o));
        assert_eq!(out(&o), "", "nothing is compared");
        let o = sslwrite(&["merge", args[0], args[1], "--json", s(&d.path("m.json"))]);
        assert_eq!(code(&o), 2, "{args:?}");
        assert!(err(&o).starts_with(&why), "{}", err(&o));
    }
    assert!(!d.path("m.json").exists());
}

/// A report as JSON without the fields that say when, where and how it was made.
fn findings(path: &Path) -> Value {
    let mut v: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    common::strip_timings(&mut v);
    v
}

#[test]
fn three_shards_merge_into_the_unsharded_report() {
    let d = suite("shards");
    let both = ["--transport", "both"];
    let whole = d.path("whole.json");
    assert_eq!(play(&d, LIAR, &whole, &both), 1);
    let mut shards = Vec::new();
    for (i, runs) in [(1, 2), (2, 2), (3, 2)] {
        let p = d.path(&format!("shard-{i}.json"));
        let mut args = both.to_vec();
        let spec = format!("{i}/3");
        args.extend(["--shard", &spec]);
        // The runs are dealt out in turn (a-1.2, a-1.3, b-1.2, b-1.3, c-1.2, c-1.3): shard 1
        // has b-sixty/tls1.3, shard 3 b-sixty/tls1.2; those two diverge, shard 2 is clean.
        assert_eq!(play(&d, LIAR, &p, &args), i32::from(i != 2), "shard {i}");
        let v: Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
        assert_eq!(v["shard"]["index"], i);
        assert_eq!(v["shard"]["count"], 3);
        assert_eq!(v["shard"]["suite"].as_array().unwrap().len(), 12);
        // Each run over both transports.
        assert_eq!(v["scenarios"].as_array().unwrap().len(), 2 * runs);
        shards.push(p);
    }
    let merged = d.path("merged.json");
    let html = d.path("merged.html");
    let o = sslwrite(&[
        "merge",
        s(&shards[2]),
        s(&shards[0]),
        s(&shards[1]),
        "--json",
        s(&merged),
        "--html",
        s(&html),
        "--quiet",
    ]);
    assert_eq!(
        code(&o),
        1,
        "the merged report diverges like the whole: {}",
        err(&o)
    );
    assert!(
        out(&o).starts_with("12 runs: 8 agree, 4 diverge, 0 known, 0 skip, 0 error\n"),
        "{}",
        out(&o)
    );
    assert_eq!(findings(&merged), findings(&whole));
    assert!(std::fs::read_to_string(&html)
        .unwrap()
        .contains("data-runs=\"12\""));
    let o = sslwrite(&["compare", s(&whole), s(&merged)]);
    assert_eq!((code(&o), out(&o)), (0, nothing(&whole)));

    // A shard run writes no default report: it is partial.
    let o = common::conformance(
        &d.path("scenarios"),
        &d.path("known.json"),
        &d.path("x.json"),
        &["--shard", "1/3"],
    );
    assert_eq!(code(&o), 0, "{}", err(&o));
    let o = Command::new(env!("CARGO_BIN_EXE_sslwrite"))
        .args([
            "conformance",
            "--shard",
            "1/3",
            "--impl",
            "openssl",
            "--known",
        ])
        .arg(d.path("known.json"))
        .arg("--scenarios")
        .arg(d.path("scenarios"))
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", err(&o));
    assert!(
        out(&o).contains(
            "shard 1/3: 2 of the selection's 6 runs (sslwrite merge joins the shards' reports)\n"
        ) && out(&o).contains(
            "report: not written (a partial run writes its report only where --json says)\n"
        ),
        "{}",
        out(&o)
    );
}

#[test]
fn merge_refuses_what_is_not_one_run_and_marks_a_missing_shard() {
    let d = suite("refuse");
    let shard = |faulty: &str, spec: &str| {
        let p = d.path(&format!(
            "{}-{}.json",
            faulty.replace([':', '='], "-"),
            spec.replace('/', "of")
        ));
        play(&d, faulty, &p, &["--shard", spec]);
        p
    };
    let (a1, a2, a3) = (
        shard(HONEST, "1/3"),
        shard(HONEST, "2/3"),
        shard(HONEST, "3/3"),
    );
    let m = d.path("m.json");
    let merge = |files: &[&Path]| {
        let mut args = vec!["merge"];
        args.extend(files.iter().map(|p| s(p)));
        args.extend(["--json", s(&m), "--quiet"]);
        sslwrite(&args)
    };
    let refused = |o: Output, why: String| {
        assert_eq!(code(&o), 2, "{}", out(&o));
        assert_eq!(err(&o), format!("error: {why}\n"));
    };
    refused(
        merge(&[&a1, &a2, &a1]),
        format!(
            "{} and {} are both shard 1/3: give each shard once",
            a1.display(),
            a1.display()
        ),
    );
    let b2 = shard(LIAR, "2/3");
    refused(
        merge(&[&a1, &b2, &a3]),
        format!(
            "{} and {} are not shards of one run: different implementations (openssl ({v}), faulty ({v} with faults lie=77 (test only)) against openssl ({v}), faulty ({v} with faults lie=60 (test only)))",
            a1.display(),
            b2.display(),
            v = openssl_version(&a1),
        ),
    );
    let c2 = shard(HONEST, "2/2");
    refused(
        merge(&[&a1, &c2]),
        format!(
            "{} and {} are not shards of one run: split into different numbers of shards (3 against 2)",
            a1.display(),
            c2.display()
        ),
    );
    let mut v: Value = serde_json::from_slice(&std::fs::read(&a2).unwrap()).unwrap();
    v["harness"]["version"] = "0.0.1-old".into();
    let old = d.path("old-harness.json");
    std::fs::write(&old, v.to_string()).unwrap();
    let o = merge(&[&a1, &old]);
    assert_eq!(code(&o), 2);
    assert!(
        err(&o).starts_with(&format!(
            "error: {} and {} are not shards of one run: different harness versions (sslwrite {}, schema_version {v} against sslwrite 0.0.1-old, schema_version {v})",
            a1.display(),
            old.display(),
            env!("CARGO_PKG_VERSION"),
            v = sslwrite::report::SCHEMA_VERSION
        )),
        "{}",
        err(&o)
    );
    assert!(!m.exists(), "nothing is written when refused");

    // A missing shard: merged, but incomplete, and exit 1.
    let o = merge(&[&a3, &a1]);
    assert_eq!(code(&o), 1, "{}", err(&o));
    let r: Value = serde_json::from_slice(&std::fs::read(&m).unwrap()).unwrap();
    assert_eq!(r["complete"], false);
    assert_eq!(r["summary"]["passed"], false);
    assert_eq!(r["summary"]["runs"], 4);
    assert_eq!(
        r["warnings"],
        serde_json::json!([
            "merged 2 of 3 shards: shard(s) 2 missing, so the report is incomplete"
        ])
    );

    for bad in ["0/0", "3/2", "x"] {
        let o = sslwrite(&["conformance", "--shard", bad, "--quiet"]);
        assert_eq!(code(&o), 2, "{bad}");
        assert!(
            err(&o).contains(&format!("invalid value '{bad}' for '--shard <I/N>'")),
            "{}",
            err(&o)
        );
    }
}

/// The linked OpenSSL's version string, as a report names it.
fn openssl_version(report: &Path) -> String {
    let v: Value = serde_json::from_slice(&std::fs::read(report).unwrap()).unwrap();
    v["implementations"][0]["version"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn a_known_entry_one_shard_used_is_not_stale_in_the_merge() {
    let d = common::TempDir::new("compare", "stale", &[]);
    let dir = sslwrite::project_root().join("scenarios");
    let known = dir.join("known-divergences.json");
    let play = |json: &Path, extra: &[&str]| {
        let mut args = vec!["--filter", "ku-*", "--jobs", "2"];
        args.extend_from_slice(extra);
        let o = common::conformance(&dir, &known, json, &args);
        assert_eq!(code(&o), 0, "{}{}", out(&o), err(&o));
    };
    let whole = d.path("whole.json");
    play(&whole, &[]);
    let (one, two) = (d.path("1.json"), d.path("2.json"));
    play(&one, &["--shard", "1/2"]);
    play(&two, &["--shard", "2/2"]);
    let warnings = |p: &Path| findings(p)["warnings"].clone();
    assert_eq!(warnings(&whole), serde_json::json!([]));
    // The case this test is about: an entry that explains a run of one shard only, so the
    // other shard calls it stale.
    assert!(
        [&one, &two]
            .iter()
            .any(|p| warnings(p).to_string().contains("stale")),
        "no shard of ku-* calls an entry stale any more: choose another --filter for this test"
    );
    let merged = d.path("merged.json");
    let o = sslwrite(&[
        "merge",
        s(&one),
        s(&two),
        "--json",
        s(&merged),
        "--quiet",
        "--strict",
    ]);
    assert_eq!(code(&o), 0, "{}{}", out(&o), err(&o));
    assert_eq!(findings(&merged), findings(&whole));
}

#[test]
fn warnings_about_runs_and_stale_entries_merge_in_place() {
    let d = suite("warnings");
    // An entry that expects faulty to differ in b-sixty, played where it does not lie.
    std::fs::write(
        d.path("known.json"),
        r#"{"entries": [{"id": "b-sixty/faulty", "scenario": "b-sixty", "implementation": "faulty", "families": ["openssl"], "clause": "W1",
                         "reason": "faulty lies about 60-byte writes"}]}"#,
    )
    .unwrap();
    let both = ["--transport", "both"];
    let whole = d.path("whole.json");
    assert_eq!(play(&d, HONEST, &whole, &both), 0);
    let agrees = |run: &str| {
        format!("{run}: faulty now agrees with openssl, but known-divergence entry b-sixty/faulty expects a difference")
    };
    let expected = vec![
        agrees("b-sixty/tls1.2/client/auto_retry"),
        agrees("b-sixty/tls1.3/client/auto_retry"),
        agrees("b-sixty/tls1.2/client/auto_retry"),
        agrees("b-sixty/tls1.3/client/auto_retry"),
        "known-divergence entry b-sixty/faulty (b-sixty / faulty) matches nothing in this run: stale".into(),
    ];
    assert_eq!(findings(&whole)["warnings"], serde_json::json!(expected));
    assert_eq!(
        findings(&whole)["summary"]["stale_entries"],
        serde_json::json!({"faulty": ["b-sixty/faulty"]})
    );
    let mut files = Vec::new();
    for i in [2, 1] {
        let p = d.path(&format!("{i}.json"));
        let spec = format!("{i}/2");
        let mut args = both.to_vec();
        args.extend(["--shard", &spec]);
        assert_eq!(play(&d, HONEST, &p, &args), 0);
        files.push(p);
    }
    let merged = d.path("merged.json");
    let o = sslwrite(&[
        "merge",
        s(&files[0]),
        s(&files[1]),
        "--json",
        s(&merged),
        "--quiet",
    ]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    assert_eq!(findings(&merged), findings(&whole));
    let o = sslwrite(&[
        "merge",
        s(&files[0]),
        s(&files[1]),
        "--json",
        s(&merged),
        "--quiet",
        "--strict",
    ]);
    assert_eq!(code(&o), 1, "--strict: the warnings fail");
}
