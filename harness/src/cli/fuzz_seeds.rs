//! `sslwrite fuzz-seeds TARGET --out DIR [--count N]`: a seed corpus for a fuzz target, the
//! generated inputs of the seeded loops (differential, invariants) or the scenario files
//! (scenario_file). Exit 0; 2 when the target is unknown or a file cannot be written.

use std::path::PathBuf;
use std::process::ExitCode;

use super::{in_root, Failure, Outcome};

#[derive(clap::Args)]
pub struct FuzzSeedsArgs {
    /// differential, invariants or scenario_file.
    target: String,
    /// The corpus folder to fill.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// How many generated inputs (differential, invariants).
    #[arg(long, default_value_t = 64)]
    count: u64,
}

pub fn run(a: FuzzSeedsArgs) -> Outcome {
    std::fs::create_dir_all(&a.out)
        .map_err(|e| Failure::error(format!("cannot create {}: {e}", a.out.display())))?;
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    match a.target.as_str() {
        "differential" | "invariants" => {
            for seed in 0..a.count {
                files.push((
                    format!("seed-{seed:04}"),
                    sslwrite::fuzzing::seed_bytes(seed, 256),
                ));
            }
        }
        "scenario_file" => {
            let dir = in_root("scenarios")?;
            let entries = std::fs::read_dir(&dir)
                .map_err(|_| Failure::error(format!("cannot list {}", dir.display())))?;
            for e in entries.flatten() {
                if let Ok(bytes) = std::fs::read(e.path()) {
                    files.push((e.file_name().to_string_lossy().into_owned(), bytes));
                }
            }
        }
        other => {
            return Err(Failure::error(format!(
                "unknown fuzz target {other:?} (differential, invariants, scenario_file)"
            )))
        }
    }
    for (name, bytes) in &files {
        let path = a.out.join(name);
        std::fs::write(&path, bytes)
            .map_err(|e| Failure::error(format!("cannot write {}: {e}", path.display())))?;
    }
    println!("{} seed(s) in {}", files.len(), a.out.display());
    Ok(ExitCode::SUCCESS)
}
