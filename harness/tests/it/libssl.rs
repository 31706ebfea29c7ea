//! `--impl libssl:PATH[@label]` end to end, on the real binary (the libraries load only in
//! worker processes): the system's own libssl, loaded at run time, against the linked OpenSSL
//! of the same version over every scenario (the self-check: identical traces); refusal of a
//! library without the libssl ABI, naming the missing symbols; a missing optional symbol makes
//! its steps `skip`; `--reference`; and, when `cargo xtask openssl build VERSION` has built
//! one, a version matrix (skipped, with a note, when there is none: CI does not build OpenSSL).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use crate::common;

/// A temporary folder for one test; its report goes to `r.json`.
fn dir(name: &str) -> common::TempDir {
    common::TempDir::new("libssl", name, &[])
}

/// `sslwrite conformance --quiet --json DIR/r.json ARGS`.
fn conformance(d: &common::TempDir, args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sslwrite"))
        .args(["conformance", "--quiet", "--jobs", "2", "--json"])
        .arg(d.path("r.json"))
        .args(args)
        .envs(env.iter().copied())
        .env("NO_COLOR", "1")
        .output()
        .expect("the sslwrite binary runs")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn report(d: &common::TempDir) -> Value {
    serde_json::from_slice(&std::fs::read(d.path("r.json")).unwrap()).unwrap()
}

/// A trace without how long its run took.
fn untimed(trace: &Value) -> Value {
    let mut t = trace.clone();
    common::strip_trace_timing(&mut t);
    t
}

fn implementation<'a>(r: &'a Value, name: &str) -> &'a Value {
    r["implementations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == name)
        .unwrap_or_else(|| panic!("no column {name}: {}", r["implementations"]))
}

/// The self-check: the system's libssl, as the dynamic loader finds it, loaded at run time and
/// driven through the C ABI only (a BIO_METHOD of the driver's own), against the linked OpenSSL. Where both are the
/// same version, every run must agree, and the traces (every call, the bytes the peer got, the
/// records on the wire, the violations) must be identical.
#[test]
fn the_system_libssl_loaded_at_run_time_matches_the_linked_openssl_on_every_run() {
    let d = dir("self-check");
    let o = conformance(
        &d,
        &["--impl", "openssl", "--impl", "libssl:libssl.so.3@system"],
        &[],
    );
    let out = text(&o);
    if o.status.code() == Some(2) && out.contains("cannot load libssl.so.3") {
        eprintln!("skipped: this system has no libssl.so.3 for the loader to find: {out}");
        return;
    }
    let r = report(&d);
    let linked = implementation(&r, "openssl");
    let system = implementation(&r, "system");
    if linked["version"] != system["version"] {
        eprintln!(
            "skipped: the linked OpenSSL ({}) is not the system's ({}): a vendored build",
            linked["version"], system["version"]
        );
        return;
    }
    assert_eq!(o.status.code(), Some(0), "{out}");
    let lib = &system["library"];
    assert_eq!(lib["path"], "libssl.so.3");
    assert!(
        lib["file"].as_str().unwrap().ends_with("libssl.so.3"),
        "{lib}"
    );
    assert!(
        lib["libcrypto"].as_str().unwrap().contains("libcrypto"),
        "{lib}"
    );
    assert!(lib["abi"].as_str().unwrap().contains("libssl ABI"), "{lib}");
    assert_eq!(lib["missing_symbols"], serde_json::json!([]), "{lib}");
    assert!(
        lib["build"].as_array().is_some_and(|b| !b.is_empty()),
        "{lib}"
    );
    if cfg!(all(target_os = "linux", target_env = "gnu")) {
        assert_eq!(lib["loaded"], "dlmopen: a link namespace of its own");
    }
    assert!(linked.get("library").is_none());
    let runs = r["scenarios"].as_array().unwrap();
    assert!(runs.len() > 150, "the whole scenario set: {}", runs.len());
    for run in runs {
        let name = run["run"].as_str().unwrap();
        assert_eq!(run["verdict"], "agree", "{name}: {}", run["differences"]);
        assert_eq!(run["notes"], serde_json::json!([]), "{name}");
        assert_eq!(
            untimed(&run["results"]["openssl"]),
            untimed(&run["results"]["system"]),
            "{name}: the traces differ"
        );
    }
    let v = &r["summary"]["verdicts"];
    assert_eq!(
        (v["diverge"].as_u64(), v["error"].as_u64()),
        (Some(0), Some(0))
    );
    assert_eq!(
        r["summary"]["unexpected_violations"]["system"], 0,
        "the OpenSSL entries of the known file apply to every OpenSSL version"
    );
    assert_eq!(
        r["warnings"],
        serde_json::json!([]),
        "no stale entry: {}",
        r["warnings"]
    );
}

/// Two loaded libraries (here the same file under two labels) each get workers of their own,
/// and a library appears as a column named by its label, with its version under it.
#[test]
fn two_loaded_libraries_run_side_by_side_in_workers_of_their_own() {
    let d = dir("two");
    let o = conformance(
        &d,
        &[
            "--impl",
            "openssl",
            "--impl",
            "libssl:libssl.so.3@one",
            "--impl",
            "libssl:libssl.so.3@two",
            "--filter",
            "pw-*",
        ],
        &[],
    );
    let out = text(&o);
    if out.contains("cannot load libssl.so.3") {
        eprintln!("skipped: no libssl.so.3 on this system");
        return;
    }
    let r = report(&d);
    let names: Vec<&str> = r["implementations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["openssl", "one", "two"]);
    for run in r["scenarios"].as_array().unwrap() {
        assert_eq!(
            untimed(&run["results"]["one"]),
            untimed(&run["results"]["two"]),
            "{}",
            run["run"]
        );
        for t in run["results"].as_object().unwrap().values() {
            assert!(
                !["crash", "error", "timeout"].contains(&t["status"].as_str().unwrap()),
                "{}: {t}",
                run["run"]
            );
        }
    }
    let table = Command::new(env!("CARGO_BIN_EXE_sslwrite"))
        .arg("report")
        .arg(d.path("r.json"))
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&table.stdout).into_owned();
    let mut lines = table.lines();
    let (head, versions) = (lines.next().unwrap(), lines.next().unwrap());
    assert!(head.contains("one") && head.contains("two"), "{head}");
    // Each column's version number sits under its name (the linked openssl may be another
    // version than the system's libssl: vendored builds link 3.6).
    for name in ["openssl", "one", "two"] {
        let version = implementation(&r, name)["version"].as_str().unwrap();
        let number = version.split_whitespace().nth(1).unwrap();
        let at = head.find(&format!(" {name} ")).map(|i| i + 1).unwrap();
        assert!(
            versions[at..].starts_with(number),
            "the version number sits under each column ({name}: {number}): {head}\n{versions}"
        );
    }
}

#[test]
fn a_library_without_the_libssl_abi_is_refused_naming_the_missing_symbols() {
    let d = dir("refused");
    let o = conformance(
        &d,
        &[
            "--impl",
            "openssl",
            "--impl",
            "libssl:libc.so.6@libc",
            "--filter",
            "z-write-zero",
        ],
        &[],
    );
    let out = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}");
    for symbol in ["SSL_CTX_new", "SSL_write", "SSL_get_error", "BIO_meth_new"] {
        assert!(out.contains(symbol), "{symbol} not named: {out}");
    }
    assert!(
        !d.path("r.json").exists(),
        "no report for a refused implementation"
    );

    // A real libssl that lacks one essential symbol (hidden for the test): only that one.
    let o = conformance(
        &d,
        &["--impl", "libssl:libssl.so.3@x", "--filter", "z-write-zero"],
        &[("SSLWRITE_LIBSSL_HIDE", "SSL_get_error")],
    );
    let out = text(&o);
    if !out.contains("cannot load libssl.so.3") {
        assert_eq!(o.status.code(), Some(2), "{out}");
        assert!(
            out.contains("does not export SSL_get_error (essential"),
            "{out}"
        );
    }

    let o = conformance(&d, &["--impl", "libssl:/nonexistent/libssl.so.3"], &[]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}");
    assert!(out.contains("/nonexistent/libssl.so.3"), "{out}");
}

#[test]
fn a_missing_optional_symbol_makes_its_steps_skip_and_the_report_lists_it() {
    for (filter, symbol) in [
        ("z-write-ex-zero", "SSL_write_ex"),
        ("ku-update-while-pending", "SSL_key_update"),
    ] {
        let d = dir("optional");
        let o = conformance(
            &d,
            &[
                "--impl",
                "openssl",
                "--impl",
                "libssl:libssl.so.3@partial",
                "--filter",
                filter,
            ],
            &[("SSLWRITE_LIBSSL_HIDE", "SSL_write_ex,SSL_key_update")],
        );
        let out = text(&o);
        if out.contains("cannot load libssl.so.3") {
            eprintln!("skipped: no libssl.so.3 on this system");
            return;
        }
        let r = report(&d);
        assert_eq!(
            implementation(&r, "partial")["library"]["missing_symbols"],
            serde_json::json!(["SSL_write_ex", "SSL_key_update"])
        );
        let runs = r["scenarios"].as_array().unwrap();
        assert!(!runs.is_empty(), "{out}");
        for run in runs {
            skipped_for(run, symbol);
        }
    }
}

/// The run stopped for the loaded library at the step that needs `symbol`.
fn skipped_for(run: &Value, symbol: &str) {
    let t = &run["results"]["partial"];
    assert_eq!(t["status"], "skipped", "{}: {t}", run["run"]);
    let reason = t["reason"].as_str().unwrap();
    assert!(
        reason.contains(&format!("{symbol} is not exported by libssl.so.3")),
        "{}: {reason}",
        run["run"]
    );
    assert_eq!(run["verdict"], "skip", "{}", run["run"]);
    assert_eq!(run["results"]["openssl"]["status"], "completed");
}

#[test]
fn a_loaded_library_never_runs_in_the_harness_process() {
    let d = dir("in-process");
    let o = conformance(
        &d,
        &[
            "--impl",
            "libssl:libssl.so.3",
            "--isolation",
            "none",
            "--filter",
            "z-write-zero",
        ],
        &[],
    );
    let out = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}");
    assert!(out.contains("worker processes of its own"), "{out}");
}

#[test]
fn the_reference_is_the_linked_openssl_by_default_and_can_be_chosen() {
    let d = dir("reference");
    let base = [
        "--impl",
        "rustls",
        "--impl",
        "openssl",
        "--filter",
        "z-write-zero",
    ];
    let o = conformance(&d, &base, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let r = report(&d);
    assert_eq!(r["reference"], "openssl");
    assert_eq!(
        r["implementations"][0]["name"], "openssl",
        "reference first"
    );
    let diffs = r["scenarios"][0]["differences"].as_array().unwrap();
    assert!(diffs.iter().all(|x| x["reference"] == "openssl"));

    let mut chosen = base.to_vec();
    chosen.extend(["--reference", "rustls"]);
    let o = conformance(&d, &chosen, &[]);
    assert_ne!(o.status.code(), Some(2), "{}", text(&o));
    let r = report(&d);
    assert_eq!(r["reference"], "rustls");
    assert_eq!(r["implementations"][0]["name"], "rustls");

    let mut unknown = base.to_vec();
    unknown.extend(["--reference", "nope"]);
    let o = conformance(&d, &unknown, &[]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}");
    assert!(
        out.contains("\"nope\"") && out.contains("rustls, openssl"),
        "{out}"
    );
}

/// The builds `cargo xtask openssl build VERSION` left under target/.
fn built_openssls() -> Vec<(String, PathBuf)> {
    let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(target).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(version) = name.strip_prefix("openssl-") else {
            continue;
        };
        // libssl.so.3 for 3.x, libssl.so.4 for 4.x.
        let libs = std::fs::read_dir(entry.path().join("lib64"))
            .into_iter()
            .flatten();
        for lib in libs.flatten() {
            let file = lib.file_name().to_string_lossy().into_owned();
            let so = file.strip_prefix("libssl.so.").unwrap_or("");
            if !so.is_empty() && so.bytes().all(|b| b.is_ascii_digit()) {
                out.push((version.to_string(), lib.path()));
            }
        }
    }
    out.sort();
    out
}

/// The version matrix: the linked OpenSSL, every OpenSSL built under target/, and the system's
/// libssl, in one report. What differs between versions is for the report to show; here: every
/// library loads, describes itself as the version it was built as, and plays every run to the
/// end (no crash, error or timeout).
#[test]
fn a_built_openssl_joins_the_matrix_when_there_is_one() {
    let built = built_openssls();
    if built.is_empty() {
        eprintln!(
            "skipped: no target/openssl-VERSION/lib64/libssl.so.N (cargo xtask openssl build VERSION)"
        );
        return;
    }
    let d = dir("matrix");
    let mut args = vec!["--impl".to_string(), "openssl".to_string()];
    for (version, lib) in &built {
        args.push("--impl".into());
        args.push(format!("libssl:{}@openssl-{version}", lib.display()));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = conformance(&d, &args, &[]);
    let out = text(&o);
    assert_ne!(o.status.code(), Some(2), "{out}");
    let r = report(&d);
    for (version, lib) in &built {
        let info = implementation(&r, &format!("openssl-{version}"));
        assert!(
            info["version"]
                .as_str()
                .unwrap()
                .starts_with(&format!("OpenSSL {version} ")),
            "{info}"
        );
        let file = info["library"]["file"].as_str().unwrap();
        assert_eq!(Path::new(file), lib.canonicalize().unwrap());
        let crypto = info["library"]["libcrypto"].as_str().unwrap();
        assert!(
            Path::new(crypto).starts_with(lib.parent().unwrap().canonicalize().unwrap()),
            "its own libcrypto, not the system's: {crypto}"
        );
    }
    for run in r["scenarios"].as_array().unwrap() {
        for (name, t) in run["results"].as_object().unwrap() {
            assert!(
                !["crash", "error", "timeout"].contains(&t["status"].as_str().unwrap()),
                "{} on {name}: {t}",
                run["run"]
            );
        }
    }
}

/// Debian's BoringSSL (`android-libboringssl`, which `.ci/run` installs with
/// `cargo xtask libs install boringssl`): no `SSL_ctrl`, other mode and option bits, no
/// `SSL_write_ex`. Every run gets a verdict, none errs, its differences from OpenSSL are the
/// ones the known file explains for the boringssl family, and every skip names what is missing.
#[test]
fn debians_boringssl_runs_every_scenario_with_a_verdict_and_no_unexplained_difference() {
    let Some(lib) = std::fs::read_dir("/usr/lib").ok().and_then(|d| {
        d.flatten()
            .map(|e| e.path().join("android").join("libssl.so.0"))
            .find(|p| p.exists())
    }) else {
        eprintln!(
            "skipped: android-libboringssl is not installed (cargo xtask libs install boringssl)"
        );
        return;
    };
    let d = dir("boringssl");
    let spec = format!("libssl:{}@boringssl", lib.display());
    let o = conformance(&d, &["--impl", "openssl", "--impl", &spec], &[]);
    let out = text(&o);
    let r = report(&d);
    let b = implementation(&r, "boringssl");
    assert_eq!(b["family"], "boringssl", "{b}");
    assert_eq!(b["version"], "BoringSSL", "{b}");
    let fallbacks = b["library"]["fallbacks"].to_string();
    assert!(fallbacks.contains("for SSL_ctrl"), "{b}");
    assert!(
        b["library"]["missing_symbols"]
            .to_string()
            .contains("SSL_write_ex"),
        "{b}"
    );
    let v = &r["summary"]["verdicts"];
    assert_eq!(
        (v["error"].as_u64(), v["diverge"].as_u64()),
        (Some(0), Some(0)),
        "{out}"
    );
    assert!(v["known"].as_u64().unwrap() > 10, "{v}");
    assert!(v["agree"].as_u64().unwrap() > 100, "{v}");
    for run in r["scenarios"].as_array().unwrap() {
        let t = &run["results"]["boringssl"];
        if t["status"] == "skipped" {
            let reason = t["reason"].as_str().unwrap();
            assert!(
                reason.contains("is not exported by"),
                "{}: a skip names the missing entry point: {reason}",
                run["run"]
            );
        }
    }
    assert_eq!(r["summary"]["unexpected_violations"]["boringssl"], 0);
    assert_eq!(o.status.code(), Some(0), "{out}");
}

/// Three BoringSSL behaviours the harness reports (no client renegotiation; a write after a
/// failed read; a write that succeeds after the peer's fatal alert, W12) confirmed by a small
/// C program that calls Debian's BoringSSL directly (`tests/c/boringssl_confirm.c`): its raw
/// return values, `SSL_get_error` answers and first queued reasons equal the harness's.
#[test]
fn a_c_program_calling_boringssl_directly_prints_the_raw_values_the_harness_reports() {
    let Some(lib) = std::fs::read_dir("/usr/lib").ok().and_then(|d| {
        d.flatten()
            .map(|e| e.path().join("android"))
            .find(|p| p.join("libssl.so.0").exists() && p.join("libssl.so").exists())
    }) else {
        eprintln!("skipped: android-libboringssl(-dev) is not installed (cargo xtask libs install boringssl)");
        return;
    };
    if !Path::new("/usr/include/android/openssl/ssl.h").exists() {
        eprintln!("skipped: no BoringSSL headers (android-libboringssl-dev)");
        return;
    }
    let d = dir("boringssl-c");
    let exe = d.path("confirm");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/c/boringssl_confirm.c");
    let built = Command::new(std::env::var("CC").unwrap_or_else(|_| "cc".into()))
        .arg(&src)
        .arg("-I/usr/include/android")
        .arg(format!("-L{}", lib.display()))
        .arg(format!("-Wl,-rpath,{}", lib.display()))
        .args(["-lssl", "-lcrypto", "-o"])
        .arg(&exe)
        .output()
        .expect("a C compiler");
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
    let spec = format!("libssl:{}@boringssl", lib.join("libssl.so.0").display());
    let o = conformance(&d, &["--impl", "openssl", "--impl", &spec], &[]);
    let r = report(&d);
    assert!(
        r["scenarios"].as_array().is_some_and(|s| s.len() >= 5),
        "{}",
        text(&o)
    );
    let mut compared = 0;
    for tls in ["1.2", "1.3"] {
        let out = Command::new(&exe).arg(tls).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            // SCENARIO STEP OP ret=R err=E reason=TEXT
            let (head, reason) = line.split_once(" reason=").unwrap();
            let f: Vec<&str> = head.split(' ').collect();
            let (scenario, step, ret, err) = (f[0], f[1].parse::<u64>().unwrap(), f[3], f[4]);
            let run = r["scenarios"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| {
                    s["id"] == scenario
                        && s["tls"] == tls
                        && s["role"] == "client"
                        && s["transport"] != "tcp"
                })
                .unwrap_or_else(|| panic!("no run of {scenario} over TLS {tls} as client"));
            let rec = run["results"]["boringssl"]["steps"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["index"] == step)
                .unwrap_or_else(|| panic!("{scenario}: no step {step}"));
            let call = &rec["call"];
            assert_eq!(
                format!("ret={}", call["ret"]),
                ret,
                "{scenario} {tls}: {line}"
            );
            let class = call["error_class"].as_i64().unwrap_or(-1);
            assert_eq!(format!("err={class}"), err, "{scenario} {tls}: {line}");
            let first = call["errors"][0].as_str().unwrap_or("-");
            assert_eq!(first, reason, "{scenario} {tls}: {line}");
            compared += 1;
        }
    }
    assert_eq!(compared, 9, "every line of the C program compared");
}
