//! The oracles: what makes a generated run a finding.
//!
//! - [`differential`]: every implementation plays the same input; a finding is an invariant
//!   violation (I1 loss/duplication/corruption, I2 bad return, I3 no progress) in any of them,
//!   or a divergence from the reference that no known-divergence entry explains.
//! - [`invariants`]: one implementation, invariants only.
//! - [`scenario_file`]: arbitrary bytes into the scenario loader; it must answer, not panic.
//!
//! A finding carries a short, stable *signature* (what kind, which implementation, which step
//! operation, which field and values, without sizes), so that libFuzzer deduplicates by it and
//! `cargo xtask replay` names the regression scenario after it.

use std::fmt;
use std::path::Path;

use crate::contract::{ImplInfo, Implementation};
use crate::diff;
use crate::impls;
use crate::known::{Known, Scope, Side};
use crate::runner::{self, RunOptions, Trace};
use crate::scenario::{RunKey, Scenario};
use crate::sessions::SessionPool;
use crate::transport::TransportKind;

use super::{Generated, Narrowing};

/// What the oracle found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// Short and stable: `diverge/rustls/write/outcome/syscall->ok`, `I1/openssl/write_all`.
    pub signature: String,
    /// The clause the finding concerns (for the regression scenario).
    pub clause: String,
    /// What happened, in a sentence.
    pub detail: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let first = self.detail.lines().next().unwrap_or("");
        write!(f, "[{}] {first}", self.signature)
    }
}

/// The environment variable that names the fuzzed implementations: `--impl` arguments
/// (`openssl`, `rustls`, `libssl:PATH[@label]`, `wolfssl:PATH[@label]`) separated by commas.
pub const IMPL_ENV: &str = "SSLWRITE_FUZZ_IMPL";

/// The implementation set of this process: [`IMPL_ENV`] if set; else the file beside the
/// executable named after it with `.impls` appended (one `--impl` argument per line, library
/// paths relative to the executable's folder: how a ClusterFuzzLite build, whose runners set
/// no environment, names the libraries it ships in `$OUT/lib`); else the built-in ones.
pub fn impls_from_env() -> Vec<String> {
    if let Ok(list) = std::env::var(IMPL_ENV) {
        if !list.trim().is_empty() {
            return list
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect();
        }
    }
    if let Some(set) = std::env::current_exe().ok().and_then(|exe| sidecar(&exe)) {
        return set;
    }
    impls::NAMES.iter().map(|s| s.to_string()).collect()
}

/// The set named by `EXE.impls`, relative library paths resolved against `EXE`'s folder.
pub fn sidecar(exe: &Path) -> Option<Vec<String>> {
    let mut name = exe.file_name()?.to_os_string();
    name.push(".impls");
    let text = std::fs::read_to_string(exe.with_file_name(name)).ok()?;
    let dir = exe.parent()?;
    let set: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|spec| match spec.split_once(':') {
            Some((kind @ ("libssl" | "wolfssl"), rest)) if !rest.starts_with('/') => {
                format!("{kind}:{}", dir.join(rest).display())
            }
            _ => spec.to_string(),
        })
        .collect();
    (!set.is_empty()).then_some(set)
}

/// The implementations, the reference peer and the known list, built once per process.
pub struct Oracles {
    /// In the order given; the first is the one the others are diffed against.
    pub impls: Vec<Box<dyn Implementation>>,
    pub reference: Box<dyn Implementation>,
    pub known: Known,
    /// TLS 1.2 sessions reused across executions by inputs that resume one.
    pub sessions: SessionPool,
    /// What the generator leaves out because some implementation of the set cannot do it.
    pub narrowing: Narrowing,
}

impl Oracles {
    /// Every built implementation and the project's known-divergence list.
    pub fn load() -> Oracles {
        let names: Vec<String> = impls::NAMES.iter().map(|s| s.to_string()).collect();
        Oracles::open(&names, Oracles::project_known()).unwrap_or_else(|e| panic!("{e}"))
    }

    /// The project's known-divergence file.
    pub fn project_known() -> Known {
        let known_path = crate::project_root()
            .join("scenarios")
            .join(crate::scenario::KNOWN_DIVERGENCES_FILE);
        Known::load(&known_path).unwrap_or_else(|e| panic!("{e}"))
    }

    /// The implementations `names` (built-in names or `libssl:`/`wolfssl:` specs, opened in
    /// this process, each loaded library in a link namespace of its own), probed for what the
    /// generator may ask of them.
    pub fn open(names: &[String], known: Known) -> Result<Oracles, String> {
        if names.is_empty() {
            return Err("no implementation to fuzz".to_string());
        }
        let impls = names
            .iter()
            .map(|n| impls::by_name(n))
            .collect::<Result<Vec<_>, _>>()?;
        let mut seen = std::collections::BTreeSet::new();
        for i in &impls {
            let name = i.info().name;
            if !seen.insert(name.clone()) {
                return Err(format!(
                    "{name} is named twice; give loaded libraries distinct labels (PATH@label)"
                ));
            }
        }
        let reference: Box<dyn Implementation> = Box::new(impls::openssl::OpensslImpl::new());
        let narrowing = Narrowing::probe(&impls, reference.as_ref());
        Ok(Oracles {
            impls,
            reference,
            known,
            sessions: SessionPool::new(),
            narrowing,
        })
    }

    /// The generated run `bytes` stand for, for this set of implementations.
    pub fn generate(&self, bytes: &[u8]) -> arbitrary::Result<Generated> {
        super::generate_for(&mut arbitrary::Unstructured::new(bytes), &self.narrowing)
    }
}

/// The step's operation name without its arguments: `write`, `peer_read`.
fn op_name(trace: &Trace, step: Option<usize>) -> String {
    step.and_then(|i| trace.steps.get(i))
        .map(|s| s.op.split(' ').next().unwrap_or("").to_string())
        .unwrap_or_else(|| "end".to_string())
}

/// The value's class without counts: `ok`, `ssl`, `want_write`, or the number's field name.
fn class(v: &str) -> &str {
    v.split('(').next().unwrap_or(v)
}

/// The first violation of `trace` that no known entry explains, as a finding. In a generated
/// scenario only invariants count, up to the script's W6 break (the fuzzer's oracle); in a
/// written one every violation counts (the suite's: an `expect` broken is a finding there).
fn unexplained_violation(
    known: &Known,
    info: &ImplInfo,
    scenario: &Scenario,
    scope: Scope<'_>,
    trace: &Trace,
) -> Option<Finding> {
    let name = &info.name;
    // Beyond the step where the script broke W6 (a retry with other arguments) the contract
    // does not say what must happen, and the stream the ledger checks is no longer the one the
    // implementation committed to: as the diff stops there (diff::Policy::GENERATED), so do
    // the invariants. Written scenarios that break W6 on purpose keep theirs (the suite).
    let after_w6_break = |v: &&crate::runner::Violation| {
        trace
            .broke_w6_at
            .is_some_and(|b| v.step.is_none_or(|s| s >= b))
    };
    let counts = |v: &&crate::runner::Violation| {
        !scenario.generated || (v.kind == "invariant" && !after_w6_break(v))
    };
    let v = trace.violations.iter().find(|v| {
        counts(v)
            && known
                .explain_violation(scope, info, v, &trace.steps)
                .is_none()
    })?;
    Some(Finding {
        signature: format!("{}/{name}/{}", v.clause, op_name(trace, v.step)),
        clause: v.clause.clone(),
        detail: format!(
            "{name} broke {} at step {}: {}",
            v.clause,
            v.step.map_or("end".to_string(), |s| s.to_string()),
            v.detail
        ),
    })
}

/// [`unexplained_violation`] of a generated run.
fn unexplained_invariant(
    o: &Oracles,
    info: &ImplInfo,
    g: &Generated,
    trace: &Trace,
) -> Option<Finding> {
    unexplained_violation(&o.known, info, &g.scenario, g.scope(), trace)
}

/// One run of `g` on `imp`; a resuming input takes its session from the pool. If the pooled
/// session was not resumed after all (the server no longer had it), the pool forgets it and
/// the run is played again with a freshly primed session, as a replay would play it: a stale
/// cache entry never decides a verdict.
pub fn play(o: &Oracles, imp: &dyn Implementation, g: &Generated) -> Trace {
    let opts = RunOptions {
        sessions: Some(&o.sessions),
        ..RunOptions::default()
    };
    let trace = runner::run_with(imp, o.reference.as_ref(), &g.scenario, &g.key, &opts);
    if !g.scenario.connection.resume {
        return trace;
    }
    if trace.resumed == Some(false) {
        o.sessions
            .forget(&imp.info().name, &runner::conn_config(&g.scenario, &g.key));
        return runner::run(imp, o.reference.as_ref(), &g.scenario, &g.key);
    }
    trace
}

/// Every implementation plays `g`; invariants, then the diff against the reference.
pub fn differential(o: &Oracles, g: &Generated) -> Result<(), Finding> {
    let traces: Vec<Trace> = o.impls.iter().map(|i| play(o, i.as_ref(), g)).collect();
    judge(o, g, &traces)
}

/// The verdict on `traces` (one per implementation of `o`, in order), however they were
/// played: in this process, or in worker processes by `fuzz-triage`.
pub fn judge(o: &Oracles, g: &Generated, traces: &[Trace]) -> Result<(), Finding> {
    let infos: Vec<ImplInfo> = o.impls.iter().map(|i| i.info()).collect();
    judge_run(&o.known, &infos, &g.scenario, &g.key, traces)
}

/// The verdict on one run of any scenario (`traces` one per implementation of `infos`, the
/// first the reference), over the in-memory transport: the first violation no known entry
/// explains, else the first difference from the reference none explains. A generated scenario
/// is judged as the fuzzer judges it (invariants only, compared under
/// [`diff::Policy::GENERATED`]); a written one as the suite counts its findings (every
/// violation, the whole diff). `sslwrite minimize` keeps a run's finding by this signature.
pub fn judge_run(
    known: &Known,
    infos: &[ImplInfo],
    scenario: &Scenario,
    key: &RunKey,
    traces: &[Trace],
) -> Result<(), Finding> {
    let scope = Scope::new(key, TransportKind::Memory, &scenario.steps);
    for (info, trace) in infos.iter().zip(traces) {
        if let Some(mut f) = unexplained_violation(known, info, scenario, scope, trace) {
            f.detail.push_str(&format!("\n{}", scenario.to_json()));
            return Err(f);
        }
    }
    let (Some(reference), Some(first)) = (infos.first(), traces.first()) else {
        return Ok(());
    };
    let ref_name = &reference.name;
    let policy = if scenario.generated {
        diff::Policy::GENERATED
    } else {
        diff::Policy::default()
    };
    for (info, trace) in infos.iter().zip(traces).skip(1) {
        let name = &info.name;
        let (d, _) = diff::compare_with(policy, ref_name, first, name, trace);
        let Some(d) = d else { continue };
        let op = d
            .step
            .and_then(|i| first.steps.get(i))
            .map(|s| s.op.as_str());
        let explained = known.explain_pair(
            scope,
            &d,
            Side::new(reference, &d.reference_value, &first.steps),
            Side::new(info, &d.value, &trace.steps),
        );
        if explained.is_some() {
            continue;
        }
        return Err(Finding {
            signature: format!(
                "diverge/{name}/{}/{}/{}->{}",
                op_name(first, d.step),
                d.field,
                class(&d.reference_value),
                class(&d.value)
            ),
            clause: scenario
                .clauses
                .last()
                .map_or("W1".to_string(), |c| c.0.clone()),
            detail: format!(
                "{name} differs from {ref_name} at step {} ({}): {} = {} vs {}\n{}",
                d.step.map_or("end".to_string(), |s| s.to_string()),
                op.unwrap_or("-"),
                d.field,
                d.reference_value,
                d.value,
                scenario.to_json()
            ),
        });
    }
    Ok(())
}

/// One implementation plays `g`; only the invariants count.
pub fn invariants(o: &Oracles, imp: &dyn Implementation, g: &Generated) -> Result<(), Finding> {
    let trace = play(o, imp, g);
    match unexplained_invariant(o, &imp.info(), g, &trace) {
        Some(mut f) => {
            f.detail.push_str(&format!("\n{}", g.scenario.to_json()));
            Err(f)
        }
        None => Ok(()),
    }
}

/// Arbitrary bytes into the loader: an error value or a scenario, never a panic. A scenario
/// that loads must survive a round trip through its own JSON.
pub fn scenario_file(bytes: &[u8]) -> Result<(), Finding> {
    let Ok(s) = Scenario::parse(Path::new("fuzz-input.json"), bytes) else {
        return Ok(());
    };
    let again = Scenario::parse(Path::new("round-trip.json"), s.to_json().as_bytes());
    match again {
        Ok(t) if t.steps == s.steps => Ok(()),
        other => Err(Finding {
            signature: "scenario_file/round-trip".into(),
            clause: "W1".into(),
            detail: format!("a loaded scenario does not survive its own JSON: {other:?}"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An invariant broken after the script broke W6 is no finding; one before it is.
    #[test]
    fn invariants_beyond_the_scripts_w6_break_are_not_findings() {
        let o = Oracles::load();
        let bytes = super::super::seed_bytes(1, 256);
        let g = o.generate(&bytes).expect("a scenario");
        let mut trace = play(&o, o.impls[0].as_ref(), &g);
        trace.violations = vec![crate::runner::Violation {
            clause: "I1".into(),
            kind: "invariant".into(),
            step: None,
            detail: "the peer read byte 0x2d where 0x15 was written".into(),
        }];
        let info = o.impls[0].info();
        trace.broke_w6_at = None;
        let f = unexplained_invariant(&o, &info, &g, &trace).expect("a finding");
        assert_eq!(f.clause, "I1");
        trace.broke_w6_at = Some(0);
        assert_eq!(unexplained_invariant(&o, &info, &g, &trace), None);
        trace.violations[0].step = Some(0);
        trace.broke_w6_at = Some(1);
        assert!(
            unexplained_invariant(&o, &info, &g, &trace).is_some(),
            "before the break"
        );
    }

    #[test]
    fn a_sidecar_names_libraries_relative_to_the_executable() {
        let dir = std::env::temp_dir().join(format!("sslwrite-sidecar-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let exe = dir.join("differential_boringssl");
        std::fs::write(
            dir.join("differential_boringssl.impls"),
            "# the linked OpenSSL against BoringSSL\nopenssl\nlibssl:lib/libssl.so.0@boringssl\nwolfssl:/abs/libwolfssl.so\n",
        )
        .unwrap();
        let set = sidecar(&exe).expect("a set");
        assert_eq!(
            set,
            vec![
                "openssl".to_string(),
                format!("libssl:{}/lib/libssl.so.0@boringssl", dir.display()),
                "wolfssl:/abs/libwolfssl.so".to_string(),
            ]
        );
        assert_eq!(sidecar(&dir.join("other")), None);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
