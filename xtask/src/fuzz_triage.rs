//! The summary at the end of a `--keep-going` fuzz session: the new artifacts replayed by
//! `sslwrite fuzz-triage` (each implementation in a worker process) and grouped by finding
//! signature, printed and written beside them as `summary-PID.md`.

use std::path::Path;

use crate::cargo::sslwrite;

pub fn summary(target: &str, artifacts: &Path, new: &[String], seen: &Path, impls: &[String]) {
    if new.is_empty() {
        eprintln!("xtask fuzz: the session left no new artifact");
        return;
    }
    if target == "scenario_file" {
        eprintln!(
            "xtask fuzz: {} new artifact(s) of the loader target (replay each with the fuzz binary)",
            new.len()
        );
        return;
    }
    let mut args: Vec<String> = Vec::new();
    for i in impls {
        args.push("--impl".into());
        args.push(i.clone());
    }
    if seen.exists() {
        args.push("--seen".into());
        args.push(seen.display().to_string());
    }
    args.push("--markdown".into());
    args.push(
        artifacts
            .join(format!("summary-{}.md", std::process::id()))
            .display()
            .to_string(),
    );
    args.extend(new.iter().map(|n| artifacts.join(n).display().to_string()));
    eprintln!(
        "xtask fuzz: triage: replaying {} new artifact(s) in worker processes",
        new.len()
    );
    let _ = sslwrite("fuzz-triage", &args);
}
