//! The end of a fuzz session: every artifact it left, replayed with each implementation in a
//! worker process of its own (so an input that crashes a library is judged, not fatal), named
//! by its finding's signature and grouped: `sslwrite fuzz-triage`, which `cargo xtask fuzz
//! --keep-going` calls.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::isolation::{self, Isolation};
use crate::transport::TransportKind;

use super::{judge, Oracles};

/// Most artifacts one triage replays (each takes a worker round trip per implementation).
pub const MAX_ARTIFACTS: usize = 500;

/// One artifact and what its replay showed.
#[derive(Clone, Debug)]
pub struct Triaged {
    pub artifact: PathBuf,
    /// The finding's signature; `None` when the replay shows none (any more).
    pub signature: Option<String>,
    /// The finding's first line, or why there is none.
    pub detail: String,
}

/// Replays each artifact on the implementations `names` (the specs `o` was opened with).
pub fn triage(
    o: &Oracles,
    names: &[String],
    iso: &Isolation,
    artifacts: &[PathBuf],
) -> Vec<Triaged> {
    artifacts
        .iter()
        .take(MAX_ARTIFACTS)
        .map(|path| {
            let (signature, detail) = match one(o, names, iso, path) {
                Ok(Some(f)) => (
                    Some(f.signature.clone()),
                    f.detail.lines().next().unwrap_or("").to_string(),
                ),
                Ok(None) => (None, "no finding when replayed".to_string()),
                Err(e) => (None, e),
            };
            Triaged {
                artifact: path.clone(),
                signature,
                detail,
            }
        })
        .collect()
}

fn one(
    o: &Oracles,
    names: &[String],
    iso: &Isolation,
    path: &Path,
) -> Result<Option<super::Finding>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read it: {e}"))?;
    let g = o
        .generate(&bytes)
        .map_err(|e| format!("it does not make a scenario: {e}"))?;
    let runs = [(&g.scenario, g.key.clone())];
    let played = isolation::play(&runs, names, TransportKind::Memory, iso, 1, &|| {})
        .map_err(|e| format!("cannot start a worker: {e}"))?;
    let Some(Some(traces)) = played.into_iter().next() else {
        return Err("the replay was stopped".to_string());
    };
    Ok(judge(o, &g, &traces).err())
}

/// The session's summary in Markdown: one row per unique signature (how often the session
/// hit it, its artifacts, the first of them), then the artifacts without a finding.
/// `hits` counts the signatures the fuzz target logged (a finding it had already reported
/// is counted there and not saved again; a crash is counted by its artifacts).
pub fn summary(triaged: &[Triaged], hits: &BTreeMap<String, u64>, skipped: usize) -> String {
    let mut groups: BTreeMap<&str, Vec<&Triaged>> = BTreeMap::new();
    let mut clean = Vec::new();
    for t in triaged {
        match &t.signature {
            Some(s) => groups.entry(s.as_str()).or_default().push(t),
            None => clean.push(t),
        }
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} unique signature(s) in {} artifact(s){}\n",
        groups.len(),
        triaged.len(),
        if skipped > 0 {
            format!(" ({skipped} more not replayed: at most {MAX_ARTIFACTS})")
        } else {
            String::new()
        }
    );
    if !groups.is_empty() {
        out.push_str(
            "| signature | hits | artifacts | first artifact | what |\n|---|---|---|---|---|\n",
        );
        for (sig, ts) in &groups {
            let hit = hits.get(*sig).copied().unwrap_or(0).max(ts.len() as u64);
            let first = ts[0];
            let _ = writeln!(
                out,
                "| `{sig}` | {hit} | {} | {} | {} |",
                ts.len(),
                file_name(&first.artifact),
                crate::render::markdown::cell(&first.detail)
            );
        }
    }
    for (sig, n) in hits {
        if !groups.contains_key(sig.as_str()) {
            let _ = writeln!(
                out,
                "\n`{sig}` was hit {n} time(s) but its artifact did not reproduce it"
            );
        }
    }
    if !clean.is_empty() {
        let _ = writeln!(out, "\nWithout a finding when replayed:");
        for t in clean {
            let _ = writeln!(out, "- {}: {}", file_name(&t.artifact), t.detail);
        }
    }
    out
}

fn file_name(p: &Path) -> String {
    p.file_name().map_or_else(
        || p.display().to_string(),
        |f| f.to_string_lossy().into_owned(),
    )
}

/// The signature log's lines counted.
pub fn count_hits(log: &str) -> BTreeMap<String, u64> {
    let mut hits = BTreeMap::new();
    for l in log.lines().map(str::trim).filter(|l| !l.is_empty()) {
        *hits.entry(l.to_string()).or_insert(0) += 1;
    }
    hits
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_groups_by_signature_and_counts_hits() {
        let t = |a: &str, s: Option<&str>| Triaged {
            artifact: PathBuf::from(a),
            signature: s.map(str::to_string),
            detail: "d".to_string(),
        };
        let triaged = [
            t("crash-1", Some("I4/openssl/write")),
            t("crash-2", Some("diverge/rustls/shutdown/outcome/ok->ssl")),
            t("crash-3", Some("I4/openssl/write")),
            t("crash-4", None),
        ];
        let hits = count_hits(
            "diverge/rustls/shutdown/outcome/ok->ssl\n"
                .repeat(5)
                .as_str(),
        );
        let s = summary(&triaged, &hits, 0);
        assert!(
            s.starts_with("2 unique signature(s) in 4 artifact(s)"),
            "{s}"
        );
        assert!(
            s.contains("| `I4/openssl/write` | 2 | 2 | crash-1 |"),
            "{s}"
        );
        assert!(
            s.contains("| `diverge/rustls/shutdown/outcome/ok->ssl` | 5 | 1 | crash-2 |"),
            "{s}"
        );
        assert!(s.contains("- crash-4: d"), "{s}");
    }
}
