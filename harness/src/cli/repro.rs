//! `sslwrite repro RUN [-o FILE] [--scenarios DIR]`: the standalone C reproducer of one run
//! (`repro/`), on stdout or written atomically to FILE. The run is played once on the linked
//! OpenSSL first, in a worker process (a run that crashes the library is what a reproducer is
//! often for), so the file's header shows what the harness observed. Exit 0; 2 when the
//! run does not exist or cannot be expressed (with the reason), or the file cannot be written.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use sslwrite::impls::openssl::OpensslImpl;
use sslwrite::isolation::{self, Isolation};
use sslwrite::transport::TransportKind;
use sslwrite::{render, repro};

use super::{in_root, load, Failure, Outcome};

#[derive(clap::Args)]
pub struct ReproArgs {
    /// The run, as reports name it: ID/tlsVERSION/ROLE/MODES (`sslwrite list` prints them).
    run: String,
    /// Write the C file here (atomically) instead of to stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE.c")]
    output: Option<PathBuf>,
    /// Folder of scenario files.
    #[arg(long)]
    scenarios: Option<PathBuf>,
}

pub fn run(a: ReproArgs) -> Outcome {
    let dir = a.scenarios.map_or_else(|| in_root("scenarios"), Ok)?;
    let scenarios = load(&dir)?;
    let refused = |e: repro::Refusal| Failure::error(format!("cannot reproduce {}: {e}", a.run));
    let (scenario, key) = repro::find_run(&scenarios, &a.run).map_err(refused)?;
    repro::check(scenario, &key).map_err(refused)?;
    let openssl = OpensslImpl::new();
    let exe = std::env::current_exe()
        .map_err(|e| Failure::error(format!("cannot find the sslwrite binary: {e}")))?;
    let iso = Isolation {
        exe,
        timeout: Duration::from_secs(30),
    };
    let runs = [(scenario, key.clone())];
    let names = ["openssl".to_string()];
    let played = isolation::play(&runs, &names, TransportKind::Memory, &iso, 1, &|| {})
        .map_err(|e| Failure::error(format!("cannot start a worker: {e}")))?;
    let Some(Some(mut traces)) = played.into_iter().next() else {
        return Err(Failure::error("the run was stopped before it ended"));
    };
    let trace = traces.remove(0);
    let lines = repro::expected_lines(&trace);
    let who = format!(
        "sslwrite's linked {}",
        sslwrite::contract::Implementation::info(&openssl).version
    );
    let c = repro::generate(scenario, &key, Some((&who, &lines))).map_err(refused)?;
    match &a.output {
        Some(path) => {
            render::write_atomic(path, c.as_bytes()).map_err(Failure::error)?;
            eprintln!(
                "sslwrite: wrote {} (cc {} -lssl -lcrypto && ./a.out)",
                path.display(),
                path.display()
            );
        }
        None => print!("{c}"),
    }
    Ok(ExitCode::SUCCESS)
}
