//! The `sslwrite` command line. `cargo xtask conformance` runs `sslwrite conformance`.
//! One subcommand per file under `cli/`; this only parses and dispatches, and turns a
//! [`cli::Failure`] into its message on stderr and its exit status.

use std::process::ExitCode;

use clap::Parser as _;

mod cli;

use cli::{Cli, Command};

fn main() -> ExitCode {
    let outcome = match Cli::parse().command {
        Command::Conformance(a) => cli::conformance::run(*a),
        Command::List(a) => cli::list::run(a),
        Command::Replay(a) => cli::replay::run(a),
        Command::Minimize(a) => cli::minimize::run(a),
        Command::Report(a) => cli::report::run(a),
        Command::FuzzSeeds(a) => cli::fuzz_seeds::run(a),
        Command::FuzzTriage(a) => cli::fuzz_triage::run(a),
        Command::Compare(a) => cli::compare::run(a),
        Command::Merge(a) => cli::merge::run(a),
        Command::Repro(a) => cli::repro::run(a),
        Command::Worker(a) => Ok(ExitCode::from(sslwrite::isolation::worker_main(
            &a.progress,
        ))),
        Command::Bench(a) => cli::bench::run(a),
        Command::BenchBulk(a) => cli::bench::bulk(a),
        Command::BenchStartup => cli::bench::startup(),
        Command::BenchLoop(a) => cli::bench::run_loop(a),
    };
    outcome.unwrap_or_else(cli::Failure::report)
}
