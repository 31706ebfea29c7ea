//! Project tasks: `cargo xtask <task>`. One file per task; this is only the dispatch.
//!
//! xtask does not link the harness (so it builds in a second even where OpenSSL is missing); it
//! runs cargo for it, switching on the vendored OpenSSL when the system has none.

mod awslc;
mod bench;
mod cargo;
mod compare;
mod conformance;
mod fuzz;
mod fuzz_set;
mod fuzz_triage;
mod html_check;
mod libs;
mod lint;
mod merge;
mod minimize;
mod openssl;
mod replay;
mod report;
mod repro;
mod test;

use std::process::ExitCode;

/// One line per task: the usage `--help` prints.
const TASKS: &[(&str, &str)] = &[
    ("conformance", "conformance [ARGS]  run every scenario on every implementation; --shard I/N one shard of them (sslwrite conformance --help)"),
    ("test", "test [ARGS]         run the test suite (cargo test --workspace)"),
    ("lint", "lint                cargo fmt --check and cargo clippy -D warnings"),
    ("report", "report PATH [ARGS]  re-render a saved report (sslwrite report --help)"),
    ("compare", "compare OLD NEW [--markdown PATH]  what changed between two saved reports (sslwrite compare --help)"),
    ("merge", "merge A.json B.json ... --json OUT  join the reports of conformance --shard I/N (sslwrite merge --help)"),
    ("html-check", "html-check [PATH]   render the HTML report in headless Chromium, screenshot and check it"),
    ("fuzz", "fuzz TARGET [--impl NAME]... [--time S] [--jobs N] [--keep-going] [--measure]  cargo fuzz (differential | invariants | scenario_file)"),
    ("replay", "replay ARTIFACT [--minimize]  turn a fuzz finding into a scenario under scenarios/regressions/ (minimized)"),
    ("minimize", "minimize SCENARIO.json [--run RUN] [ARGS]  cut a run down to a small scenario with the same finding, in place; --figures DIR... the medians over artifacts"),
    ("repro", "repro RUN [-o FILE.c]  a standalone C reproducer of one run (sslwrite repro --help)"),
    ("bench", "bench [ARGS]        measure the harness against the handshake floor (sslwrite bench --help)"),
    ("openssl", "openssl build VERSION | list  a shared OpenSSL (1.1.1, 3.x, 4.x) from openssl-src into target/openssl-VERSION/"),
    ("libs", "libs [--args] | install boringssl|wolfssl  every built or installed library as --impl arguments; Debian's packages"),
    ("awslc", "awslc build         AWS-LC (aws-lc-sys's source) into target/aws-lc-VERSION/ (CMake; minutes)"),
];

fn usage() -> String {
    let mut out = String::from("usage: cargo xtask <task> [args]\n\ntasks:\n");
    for (_, line) in TASKS {
        out.push_str("  ");
        out.push_str(line);
        out.push('\n');
    }
    out
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let task = args.next();
    let rest: Vec<String> = args.collect();
    let help = |a: &String| a == "--help" || a == "-h";
    // The tasks that hand their arguments to sslwrite or cargo answer --help there.
    let passes_help = matches!(
        task.as_deref(),
        Some(
            "conformance"
                | "test"
                | "report"
                | "bench"
                | "compare"
                | "merge"
                | "minimize"
                | "repro"
        )
    );
    if let (Some(t), Some(first)) = (task.as_deref(), rest.first()) {
        if help(first) && !passes_help {
            if let Some((_, line)) = TASKS.iter().find(|(name, _)| *name == t) {
                println!("usage: cargo xtask {line}");
                return ExitCode::SUCCESS;
            }
        }
    }
    match task.as_deref() {
        Some("help" | "--help" | "-h") => {
            print!("{}", usage());
            ExitCode::SUCCESS
        }
        Some("conformance") => conformance::run(&rest),
        Some("test") => test::run(&rest),
        Some("lint") => lint::run(&rest),
        Some("report") => report::run(&rest),
        Some("compare") => compare::run(&rest),
        Some("merge") => merge::run(&rest),
        Some("html-check") => html_check::run(&rest),
        Some("fuzz") => fuzz::run(&rest),
        Some("bench") => bench::run(&rest),
        Some("replay") => replay::run(&rest),
        Some("minimize") => minimize::run(&rest),
        Some("repro") => repro::run(&rest),
        Some("openssl") => openssl::run(&rest),
        Some("libs") => libs::run(&rest),
        Some("awslc") => awslc::run(&rest),
        _ => {
            eprint!("{}", usage());
            ExitCode::from(2)
        }
    }
}
