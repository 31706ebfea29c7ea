//! Project tasks: `cargo xtask <task>`. One file per task; this is only the dispatch.
//!
//! xtask does not link the harness (so it builds in a second even where OpenSSL is missing); it
//! runs cargo for it, switching on the vendored OpenSSL when the system has none.

mod awslc;
mod bench;
mod cargo;
mod conformance;
mod fuzz;
mod html_check;
mod libs;
mod lint;
mod openssl;
mod replay;
mod report;
mod test;

use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let task = args.next();
    let rest: Vec<String> = args.collect();
    match task.as_deref() {
        Some("conformance") => conformance::run(&rest),
        Some("test") => test::run(&rest),
        Some("lint") => lint::run(&rest),
        Some("report") => report::run(&rest),
        Some("html-check") => html_check::run(&rest),
        Some("fuzz") => fuzz::run(&rest),
        Some("bench") => bench::run(&rest),
        Some("replay") => replay::run(&rest),
        Some("openssl") => openssl::run(&rest),
        Some("libs") => libs::run(&rest),
        Some("awslc") => awslc::run(&rest),
        _ => {
            eprintln!(
                "usage: cargo xtask <task> [args]\n\n\
                 tasks:\n  \
                 conformance [ARGS]  run every scenario on every implementation (sslwrite conformance --help)\n  \
                 test [ARGS]         run the test suite (cargo test --workspace)\n  \
                 lint                cargo fmt --check and cargo clippy -D warnings\n  \
                 report PATH [ARGS]  re-render a saved report (sslwrite report --help)\n  \
                 html-check [PATH]   render the HTML report in headless Chromium, screenshot and check it\n  \
                 fuzz TARGET [--time S] [--jobs N]  cargo fuzz (differential | invariants | scenario_file)\n  \
                 replay ARTIFACT     turn a fuzz finding into a scenario under scenarios/regressions/\n  \
                 bench [ARGS]        measure the harness against the handshake floor (sslwrite bench --help)\n  \
                 openssl build VERSION  build a shared OpenSSL from openssl-src into target/openssl-VERSION/ (for --impl libssl:PATH)\n  \
                 libs [--args]       every built or installed libssl-family library, as --impl arguments\n  \
                 libs install boringssl  Debian's android-libboringssl (apt-get)\n  \
                 awslc build         AWS-LC (aws-lc-sys's source) into target/aws-lc-VERSION/ (CMake; minutes)"
            );
            ExitCode::from(2)
        }
    }
}
