//! A libssl that lies and lacks things: a shim in C, compiled here with the system C compiler,
//! over the system's `libssl.so.3`. It forwards every entry point the driver may use to the real
//! library, except that
//! - its `SSL_get_error` ignores `ret` (it always asks the real one about -1),
//! - it exports neither `SSL_ctrl` nor `SSL_CTX_ctrl` (the controls are real functions, as in
//!   BoringSSL: `SSL_set_mode`, `SSL_clear_mode`, `SSL_get_mode`, `SSL_set_tlsext_host_name`,
//!   `SSL_set_max_send_fragment`, `SSL_CTX_set_min/max_proto_version`),
//! - it lacks `SSL_write_ex` and `SSL_CTX_use_certificate_ASN1`,
//! - with `SHIM_SET_MODE_STUB=1` in its environment, its `SSL_set_mode` is a stub that sets
//!   nothing and returns 0.
//!
//! The harness must report for it the system libssl's outcomes (the return value decides),
//! plus a W10 violation wherever the lie shows, skip the steps and runs it cannot do with the
//! reason, and never err.
//!
//! The forwarders are one-instruction trampolines (x86-64 and AArch64), so the shim needs no
//! OpenSSL header and no signature of the functions it passes through.

// It loads the system libssl to list its exports (FFI through libloading).
#![allow(unsafe_code)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use crate::common;

/// What the shim defines itself or leaves out: never forwarded.
const OWN: &[&str] = &[
    "SSL_get_error",
    "SSL_set_mode",
    "SSL_clear_mode",
    "SSL_get_mode",
    "SSL_set_tlsext_host_name",
    "SSL_set_max_send_fragment",
    "SSL_CTX_set_min_proto_version",
    "SSL_CTX_set_max_proto_version",
];
const LACKS: &[&str] = &[
    "SSL_ctrl",
    "SSL_CTX_ctrl",
    "SSL_write_ex",
    "SSL_CTX_use_certificate_ASN1",
];

const OWN_C: &str = r#"
typedef long (*ctrl_fn)(void *, int, long, void *);
static int (*real_get_error)(const void *, int);
static ctrl_fn real_ssl_ctrl, real_ctx_ctrl;

int SSL_get_error(const void *ssl, int ret) { (void)ret; return real_get_error(ssl, -1); }
uint32_t SSL_set_mode(void *ssl, uint32_t mode) {
    if (getenv("SHIM_SET_MODE_STUB")) return 0;
    return (uint32_t)real_ssl_ctrl(ssl, 33, (long)mode, NULL);
}
uint32_t SSL_clear_mode(void *ssl, uint32_t mode) { return (uint32_t)real_ssl_ctrl(ssl, 78, (long)mode, NULL); }
uint32_t SSL_get_mode(const void *ssl) { return (uint32_t)real_ssl_ctrl((void *)ssl, 33, 0, NULL); }
int SSL_set_tlsext_host_name(void *ssl, const char *name) { return (int)real_ssl_ctrl(ssl, 55, 0, (void *)name); }
int SSL_set_max_send_fragment(void *ssl, size_t n) { return (int)real_ssl_ctrl(ssl, 52, (long)n, NULL); }
int SSL_CTX_set_min_proto_version(void *ctx, uint16_t v) { return (int)real_ctx_ctrl(ctx, 123, v, NULL); }
int SSL_CTX_set_max_proto_version(void *ctx, uint16_t v) { return (int)real_ctx_ctrl(ctx, 124, v, NULL); }
"#;

/// The shim's C source: a trampoline per forwarded name, resolved when the shim loads.
fn shim_source(forwarded: &[&str]) -> String {
    let mut c = String::from(
        "#define _GNU_SOURCE\n#include <dlfcn.h>\n#include <stdio.h>\n#include <stdlib.h>\n\
         #include <stdint.h>\n#include <stddef.h>\n\n\
         #if defined(__x86_64__)\n\
         #define TRAMPOLINE(n) __asm__(\".text\\n.globl \" #n \"\\n.type \" #n \",@function\\n\" #n \":\\n\\tjmp *real_\" #n \"(%rip)\\n\");\n\
         #elif defined(__aarch64__)\n\
         #define TRAMPOLINE(n) __asm__(\".text\\n.globl \" #n \"\\n.type \" #n \",%function\\n\" #n \":\\n\\tadrp x16, real_\" #n \"\\n\\tldr x16, [x16, :lo12:real_\" #n \"]\\n\\tbr x16\\n\");\n\
         #else\n#error \"the shim's trampolines are written for x86-64 and AArch64\"\n#endif\n\
         #define FORWARD(n) __attribute__((visibility(\"hidden\"))) void *real_##n; TRAMPOLINE(n)\n\n",
    );
    for n in forwarded {
        c.push_str(&format!("FORWARD({n})\n"));
    }
    c.push_str(OWN_C);
    c.push_str(
        "\nstatic void *resolve(void *lib, const char *name) {\n\
         \x20   void *p = dlsym(lib, name);\n\
         \x20   if (!p) { fprintf(stderr, \"shim: libssl.so.3 has no %s\\n\", name); abort(); }\n\
         \x20   return p;\n}\n\n\
         __attribute__((constructor)) static void shim_init(void) {\n\
         \x20   void *lib = dlopen(\"libssl.so.3\", RTLD_NOW | RTLD_LOCAL);\n\
         \x20   if (!lib) { fprintf(stderr, \"shim: %s\\n\", dlerror()); abort(); }\n\
         \x20   real_get_error = resolve(lib, \"SSL_get_error\");\n\
         \x20   real_ssl_ctrl = resolve(lib, \"SSL_ctrl\");\n\
         \x20   real_ctx_ctrl = resolve(lib, \"SSL_CTX_ctrl\");\n",
    );
    for n in forwarded {
        c.push_str(&format!("    real_{n} = resolve(lib, \"{n}\");\n"));
    }
    c.push_str("}\n");
    c
}

/// Builds the shim into `dir`; `None` (the test is skipped, said why) where the system has no
/// libssl.so.3 or no C compiler.
fn build_shim(dir: &Path) -> Option<PathBuf> {
    // SAFETY: loading the system libssl runs its initialisers; this test process links an
    // OpenSSL already (the harness), and only looks symbols up.
    let real = match unsafe { libloading::Library::new("libssl.so.3") } {
        Ok(l) => l,
        Err(e) => {
            eprintln!("skipped: no libssl.so.3 here: {e}");
            return None;
        }
    };
    let (essential, optional) = sslwrite::impls::libssl::symbol_names();
    let skip: BTreeSet<&str> = OWN.iter().chain(LACKS).copied().collect();
    let forwarded: Vec<&str> = essential
        .iter()
        .chain(optional)
        .copied()
        .filter(|n| !skip.contains(n))
        // SAFETY: only the symbol's presence is asked; the pointer is never called.
        .filter(|n| unsafe { real.get::<*const u8>(n.as_bytes()) }.is_ok())
        .collect();
    let src = dir.join("shim.c");
    std::fs::write(&src, shim_source(&forwarded)).unwrap();
    let so = dir.join("libssl_shim.so");
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let out = Command::new(&cc)
        .args(["-shared", "-fPIC", "-O1", "-o"])
        .arg(&so)
        .arg(&src)
        .arg("-ldl")
        .output();
    match out {
        Ok(o) if o.status.success() => Some(so),
        Ok(o) => panic!(
            "the shim does not compile: {}",
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) => {
            eprintln!("skipped: no C compiler ({cc}): {e}");
            None
        }
    }
}

fn conformance(d: &common::TempDir, shim: &Path, stub: bool) -> (Output, Value) {
    let json = d.path(if stub { "stub.json" } else { "r.json" });
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sslwrite"));
    cmd.args(["conformance", "--quiet", "--jobs", "2", "--json"])
        .arg(&json)
        .args([
            "--impl",
            "libssl:libssl.so.3@system",
            "--reference",
            "system",
        ])
        .arg("--impl")
        .arg(format!("libssl:{}@shim", shim.display()))
        .env("NO_COLOR", "1");
    if stub {
        cmd.env("SHIM_SET_MODE_STUB", "1");
    }
    let o = cmd.output().expect("the sslwrite binary runs");
    let r = serde_json::from_slice(&std::fs::read(&json).unwrap_or_default())
        .unwrap_or_else(|_| panic!("no report: {}", String::from_utf8_lossy(&o.stderr)));
    (o, r)
}

/// The impl calls of a trace, each as (outcome, ret), step by step.
fn calls(trace: &Value) -> Vec<(String, Value, Value)> {
    let mut out = Vec::new();
    for s in trace["steps"].as_array().into_iter().flatten() {
        if s["actor"] != "impl" {
            continue;
        }
        let all: Vec<&Value> = match s["calls"].as_array() {
            Some(c) => c.iter().collect(),
            None => s.get("call").into_iter().collect(),
        };
        for c in all {
            out.push((
                s["op"].as_str().unwrap_or("").to_string(),
                c["outcome"].clone(),
                c["ret"].clone(),
            ));
        }
    }
    out
}

#[test]
fn a_lying_libssl_is_reported_by_its_return_values_with_w10_and_nothing_errs() {
    let d = common::TempDir::new("libssl-shim", "lying", &[]);
    let Some(shim) = build_shim(&d.0) else {
        return;
    };
    let (o, r) = conformance(&d, &shim, false);
    let out = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert_ne!(o.status.code(), Some(2), "no harness error: {out}");
    assert_eq!(r["summary"]["verdicts"]["error"], 0, "{out}");
    let info = r["implementations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "shim")
        .unwrap();
    let lib = &info["library"];
    assert_eq!(info["family"], "openssl", "{info}");
    let missing = lib["missing_symbols"].to_string();
    assert!(missing.contains("SSL_write_ex"), "{lib}");
    assert!(
        !missing.contains("SSL_ctrl") && !missing.contains("SSL_set_mode"),
        "served by their alternatives: {lib}"
    );
    let fallbacks = lib["fallbacks"].to_string();
    assert!(
        fallbacks.contains("for SSL_ctrl") && fallbacks.contains("for SSL_CTX_ctrl"),
        "{lib}"
    );
    let (mut ran, mut w10, mut skipped_ex) = (0, 0, 0);
    for run in r["scenarios"].as_array().unwrap() {
        let name = run["run"].as_str().unwrap();
        let (sys, shim) = (&run["results"]["system"], &run["results"]["shim"]);
        if shim["status"] == "skipped" {
            let reason = shim["reason"].as_str().unwrap();
            assert!(
                reason.contains("SSL_write_ex is not exported"),
                "{name}: the only thing the shim cannot do is SSL_write_ex: {reason}"
            );
            skipped_ex += 1;
            continue;
        }
        ran += 1;
        assert_eq!(shim["status"], sys["status"], "{name}");
        assert_eq!(
            calls(shim),
            calls(sys),
            "{name}: the return value decides the outcome, whatever SSL_get_error says"
        );
        assert_eq!(
            shim["delivery"], sys["delivery"],
            "{name}: I1 as the system's"
        );
        let lies: Vec<&Value> = shim["violations"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|v| v["clause"] == "W10")
            .collect();
        let successes = calls(sys)
            .iter()
            .filter(|(op, _, ret)| {
                ret.as_i64().is_some_and(|r| r > 0)
                    && !op.starts_with("shutdown")
                    && !op.starts_with("set_modes")
                    && !op.starts_with("key_update")
                    && !op.starts_with("renegotiate")
                    && !op.starts_with("new_session_ticket")
                    && !op.starts_with("error_again")
                    && !op.starts_with("dirty")
            })
            .count();
        if successes > 0 {
            assert!(!lies.is_empty(), "{name}: {successes} successes, no W10");
            for v in &lies {
                let detail = v["detail"].as_str().unwrap();
                assert!(
                    detail.contains("(success) but SSL_get_error"),
                    "{name}: {detail}"
                );
            }
            w10 += 1;
        }
        let others: Vec<&Value> = shim["violations"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|v| v["clause"] != "W10")
            .collect();
        let sys_v: Vec<&Value> = sys["violations"].as_array().unwrap().iter().collect();
        assert_eq!(others, sys_v, "{name}: W10 is the only violation added");
    }
    eprintln!("ran {ran}, W10 in {w10}, skipped for SSL_write_ex {skipped_ex}");
    assert!(
        ran > 100 && w10 > 100 && skipped_ex > 5,
        "ran {ran}, W10 in {w10}, skipped {skipped_ex}"
    );

    // A setter that exists but does nothing: the runs that need it skip, with the reason.
    let (o, r) = conformance(&d, &shim, true);
    assert_ne!(o.status.code(), Some(2));
    assert_eq!(r["summary"]["verdicts"]["error"], 0);
    let mut stubbed = 0;
    for run in r["scenarios"].as_array().unwrap() {
        let shim = &run["results"]["shim"];
        if shim["status"] == "skipped" && shim["reason"].as_str().unwrap().contains("did nothing") {
            stubbed += 1;
        }
    }
    assert!(
        stubbed > 100,
        "{stubbed} runs skipped for the stubbed SSL_set_mode"
    );
}
