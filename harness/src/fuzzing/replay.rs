//! From a fuzzer finding to a scenario: `cargo xtask replay ARTIFACT`.
//!
//! The artifact's bytes go through the same generator as in the fuzz target, so they give the
//! same scenario. It is played on every implementation; the finding (if it still shows) names
//! the file and its title; the file goes under `scenarios/regressions/`, where every later
//! conformance run includes it.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::contract::Outcome;
use crate::runner::{self, Trace};
use crate::scenario::{ClauseId, Scenario};

use super::{differential, Finding, Oracles};

/// What a replay produced.
pub struct Replayed {
    pub scenario: Scenario,
    /// The finding, if the input still shows one.
    pub finding: Option<Finding>,
    /// Step-by-step comparison of the implementations.
    pub comparison: String,
    /// Where the scenario was written (when a folder was given).
    pub written: Option<PathBuf>,
}

/// File-name-safe form of a signature: `diverge-rustls-write-outcome-syscall-ok`.
fn slug(sig: &str) -> String {
    let mut out = String::new();
    for c in sig.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_string()
}

/// A short stable hash of the input, so two findings with one signature get two files.
fn short_hash(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{:08x}", h as u32)
}

/// The regression scenario of a generated run: named after its finding's signature and a hash
/// of the input (`regression-SIGNATURE-HASH`), titled by the finding, its clause added; the
/// run's key renamed with it.
pub fn regression(
    g: &super::Generated,
    finding: Option<&Finding>,
    bytes: &[u8],
) -> (Scenario, crate::scenario::RunKey) {
    let mut scenario = g.scenario.clone();
    let tag = match finding {
        Some(f) => format!("{}-{}", slug(&f.signature), short_hash(bytes)),
        None => format!("clean-{}", short_hash(bytes)),
    };
    scenario.id = format!("regression-{tag}");
    retitle(&mut scenario, finding);
    if let Some(f) = finding {
        let c = ClauseId(f.clause.clone());
        if !scenario.clauses.contains(&c) {
            scenario.clauses.push(c);
        }
    }
    let key = crate::scenario::RunKey {
        id: scenario.id.clone(),
        ..g.key.clone()
    };
    (scenario, key)
}

/// A regression scenario's title: its finding (signature and first line), as [`regression`]
/// gives it; again after minimizing, where the step it names moved.
pub fn retitle(scenario: &mut Scenario, finding: Option<&Finding>) {
    scenario.title = match finding {
        Some(f) => format!(
            "Fuzz finding {}: {}",
            f.signature,
            f.detail.lines().next().unwrap_or("")
        ),
        None => "Fuzz input that showed no finding when replayed".to_string(),
    };
}

/// Writes `scenario` as `DIR/ID.json` (atomically), creating `dir`.
pub fn write_regression(dir: &Path, scenario: &Scenario) -> Result<PathBuf, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let path = dir.join(format!("{}.json", scenario.id));
    crate::render::write_atomic(&path, scenario.to_json().as_bytes())?;
    Ok(path)
}

/// Replays `bytes` (a fuzz artifact); writes the scenario under `out` if given and the replay
/// shows a finding (an input that finds nothing is no regression to keep in the suite).
pub fn replay(o: &Oracles, bytes: &[u8], out: Option<&Path>) -> Result<Replayed, String> {
    let g = o
        .generate(bytes)
        .map_err(|e| format!("the input does not make a scenario: {e}"))?;
    let finding = differential(o, &g).err();
    let (scenario, key) = regression(&g, finding.as_ref(), bytes);
    let traces: Vec<(String, Trace)> = o
        .impls
        .iter()
        .map(|i| {
            (
                i.info().name,
                runner::run(i.as_ref(), o.reference.as_ref(), &scenario, &key),
            )
        })
        .collect();
    let comparison = side_by_side(&traces);
    let written = match out.filter(|_| finding.is_some()) {
        Some(dir) => Some(write_regression(dir, &scenario)?),
        None => None,
    };
    Ok(Replayed {
        scenario,
        finding,
        comparison,
        written,
    })
}

/// The steps of every implementation side by side; `>>` marks the first differing row.
pub fn side_by_side(traces: &[(String, Trace)]) -> String {
    let mut out = String::new();
    let width = 30;
    let _ = write!(out, "{:>4}  {:<44}", "step", "op");
    for (name, _) in traces {
        let _ = write!(out, "  {name:<width$}");
    }
    out.push('\n');
    let rows = traces.iter().map(|(_, t)| t.steps.len()).max().unwrap_or(0);
    let mut marked = false;
    for i in 0..rows {
        let cell = |t: &Trace| -> String {
            t.steps.get(i).map_or("-".into(), |s| {
                let o = s
                    .call
                    .as_ref()
                    .map_or(String::new(), |c| c.outcome.to_string());
                match s.bytes {
                    Some(b) => format!("{o} [{b} B]"),
                    None => o,
                }
            })
        };
        let cells: Vec<String> = traces.iter().map(|(_, t)| cell(t)).collect();
        let class = |t: &Trace| {
            t.steps
                .get(i)
                .and_then(|s| s.call.as_ref())
                .map(|c| match &c.outcome {
                    Outcome::Ok(n) => format!("ok{n}"),
                    o => o.class().to_string(),
                })
        };
        let differs = traces
            .iter()
            .map(|(_, t)| class(t))
            .collect::<Vec<_>>()
            .windows(2)
            .any(|w| w[0] != w[1]);
        let mark = if differs && !marked {
            marked = true;
            ">>"
        } else {
            "  "
        };
        let op = traces
            .iter()
            .find_map(|(_, t)| t.steps.get(i).map(|s| s.op.clone()))
            .unwrap_or_default();
        let _ = write!(out, "{mark}{i:>2}  {:<44}", truncate(&op, 44));
        for c in cells {
            let _ = write!(out, "  {:<width$}", truncate(&c, width));
        }
        out.push('\n');
    }
    for (name, t) in traces {
        let d = &t.delivery;
        let _ = writeln!(
            out,
            "{name}: confirmed {} received {} missing {} unconfirmed {}; {} violation(s){}",
            d.confirmed,
            d.received,
            d.missing,
            d.unconfirmed,
            t.violations.len(),
            t.violations
                .iter()
                .map(|v| format!("\n    {} step {:?}: {}", v.clause, v.step, v.detail))
                .collect::<String>()
        );
    }
    out
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n - 1).collect();
        t.push('~');
        t
    }
}
