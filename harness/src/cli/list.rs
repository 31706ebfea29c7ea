//! `sslwrite list [--scenarios DIR]`: each scenario (id, clauses, title) and the runs it expands
//! into. Exit 0; 2 when a scenario file cannot be used.

use std::path::PathBuf;
use std::process::ExitCode;

use sslwrite::render;

use super::{in_root, load, Outcome};

#[derive(clap::Args)]
pub struct ListArgs {
    /// Folder of scenario files.
    #[arg(long)]
    scenarios: Option<PathBuf>,
}

pub fn run(a: ListArgs) -> Outcome {
    let dir = a.scenarios.map_or_else(|| in_root("scenarios"), Ok)?;
    let scenarios = load(&dir)?;
    for s in &scenarios {
        let clauses: Vec<&str> = s.clauses.iter().map(|c| c.0.as_str()).collect();
        println!(
            "{}  [{}]  {}",
            s.id,
            clauses.join(","),
            render::terminal_safe(&s.title)
        );
        for k in s.runs() {
            println!("    {k}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
