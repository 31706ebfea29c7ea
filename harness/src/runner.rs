//! Plays one run of a scenario (one TLS version, role and mode set) against one
//! implementation, and records what happened: a [`Trace`].
//!
//! Data flow: scenario step → implementation call over the shared [`Pipe`] (or a peer /
//! transport action) → [`StepRecord`]; the peer's reads feed the [`Ledger`]; at the end the
//! peer drains what is left and the invariants (I1–I3) and the steps' `expect`s give the
//! [`Violation`]s. A trace is plain data (serde), so it can cross a process boundary.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::rc::Rc;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::blame::{self, Blamed};
use crate::contract::{Call, ConnConfig, Connection, Implementation, Outcome, Role, SetupError};
use crate::payload::{fill, Content, Delivery, Ledger};
use crate::peer::{Peer, GARBAGE_RECORD};
use crate::scenario::{Api, ClauseId, RunKey, Scenario, Step};
use crate::sessions::{self, SessionPool};
use crate::transport::{Pipe, PipeConfig, Side, TransportKind};
use crate::wire::WireRecord;

/// Who a step acted on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Actor {
    Impl,
    Peer,
    Transport,
}

/// What one step did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    pub index: usize,
    /// The step in one line (`write len=100000 buf=0 content=stream`).
    pub op: String,
    pub actor: Actor,
    /// The call's observation (for loops: the summary; see `calls`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call: Option<Call>,
    /// Every call of a looping step (`handshake`, `write_all`), when there was more than one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub calls: Vec<Call>,
    /// Plaintext bytes moved by the step (written, or read by the peer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
    /// The step's expectation, and whether the outcome met it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conforms: Option<bool>,
    /// A looping step stopped at its call limit while still making progress: its counts say
    /// how far it got, not where it would end.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub capped: bool,
    /// Calls of a looping step left out of `calls` (at most [`MAX_CALLS_KEPT`] are kept: the
    /// first ones and the last), so that no library can make a report of hundreds of MB.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub calls_omitted: u64,
}

/// The calls a looping step keeps in its record: the first `MAX_CALLS_KEPT - 1` and the last.
pub const MAX_CALLS_KEPT: usize = 256;

/// A looping step's calls, capped at [`MAX_CALLS_KEPT`] (the last one always kept).
#[derive(Default)]
struct CallLog {
    calls: Vec<Call>,
    omitted: u64,
}

impl CallLog {
    fn push(&mut self, call: Call) {
        if self.calls.len() >= MAX_CALLS_KEPT {
            // Keep the first ones and the newest: the newest replaces the previous newest.
            if let Some(last) = self.calls.last_mut() {
                *last = call;
            }
            self.omitted += 1;
        } else {
            self.calls.push(call);
        }
    }
}

/// A broken invariant or a broken expectation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    /// `I1`..`I3` for invariants; the clause id (`W6`...) for spec expectations.
    pub clause: String,
    /// `invariant` or `spec`.
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<usize>,
    pub detail: String,
}

/// How a run ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum RunStatus {
    /// Every step ran.
    Completed,
    /// An action the implementation cannot do; the run stopped there.
    Skipped { step: Option<usize>, reason: String },
    /// A blocking call could not proceed and nothing the script does frees it.
    Deadlock { step: usize },
    /// The implementation crashed: it panicked at this step (the message says where), or its
    /// worker process died (`signal`, the step it had begun, if any, and its stderr's tail).
    Crash {
        step: Option<usize>,
        message: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        signal: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        stderr: Option<String>,
    },
    /// The run did not finish within the time limit: its worker was killed at this step.
    Timeout {
        step: Option<usize>,
        message: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        stderr: Option<String>,
    },
    /// The harness could not set the run up (a harness or library problem).
    Error { message: String },
}

/// The records that crossed the wire, per direction.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Wire {
    pub to_peer: Vec<WireRecord>,
    pub to_impl: Vec<WireRecord>,
    pub to_peer_bytes: u64,
    pub to_impl_bytes: u64,
    /// Records seen but not listed (the list is capped for bulk runs).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub unlisted: u64,
    /// Bytes the implementation sent to the peer after its first `shutdown` step that
    /// succeeded (its close_notify was out): absent when it never shut down.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_close_notify: Option<u64>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Everything observed in one run of one implementation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Trace {
    #[serde(flatten)]
    pub status: RunStatus,
    pub steps: Vec<StepRecord>,
    pub delivery: Delivery,
    pub wire: Wire,
    pub violations: Vec<Violation>,
    /// The clauses and invariants this run checked (expectations evaluated, automatic checks).
    pub checked: Vec<String>,
    /// How the peer's connection ended, if it did (`zero_return`: it read a close_notify;
    /// `ssl(...)`/`syscall`: it failed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_end: Option<Outcome>,
    /// The first step where the script broke W6 (a retry with other arguments); beyond it
    /// the contract does not say what must happen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub broke_w6_at: Option<usize>,
    /// For a run that resumes a session and got through its handshake: whether the
    /// implementation's first handshake did resume it (`SSL_session_reused` right after it),
    /// where it can tell.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resumed: Option<bool>,
    /// How long the run took, in microseconds, where it was played (set-up, a primed session
    /// and the peer's last reads included; for a worker that died or hung, from the request to
    /// its end). Absent in reports written before it was recorded. A measurement, not an
    /// observation: the diff, the behaviour matrix and report comparisons never look at it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_us: Option<u64>,
}

/// A duration in whole microseconds, for [`Trace::duration_us`].
pub fn micros(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// What a step observer is told: a step begins, or one ended with its record.
pub enum StepEvent<'a> {
    Begin(usize),
    End(&'a StepRecord),
}

/// How to play a run besides what the scenario says.
#[derive(Default)]
pub struct RunOptions<'a> {
    /// The in-memory pipe (default) or loopback TCP sockets.
    pub transport: TransportKind,
    /// Told of every step as it begins and ends (a worker process records its progress so
    /// that a crash or a hang can say where it happened).
    pub observer: Option<&'a dyn Fn(StepEvent<'_>)>,
    /// Where a resumed run takes its session (the fuzzer reuses TLS 1.2 sessions across
    /// runs); without one, each such run primes its own.
    pub sessions: Option<&'a SessionPool>,
}

/// The configuration of the implementation's connection in run `key` of `scenario`.
pub fn conn_config(scenario: &Scenario, key: &RunKey) -> ConnConfig {
    let mut cfg = ConnConfig::new(key.role, key.tls, key.modes);
    cfg.max_send_fragment = scenario.connection.max_send_fragment;
    cfg.set_state = scenario.connection.set_state.unwrap_or(true);
    cfg.no_renegotiation = scenario.connection.no_renegotiation;
    cfg.allow_client_renegotiation = scenario.connection.allow_client_renegotiation;
    cfg.cipher = scenario.connection.cipher.clone();
    cfg.no_encrypt_then_mac = scenario.connection.no_encrypt_then_mac;
    cfg.max_fragment_length = scenario.connection.max_fragment_length;
    cfg.block_padding = scenario.connection.block_padding;
    cfg.early_data = scenario.connection.early_data;
    cfg.resume = scenario.connection.resume;
    if cfg.resume {
        // After a resumed handshake neither server sends tickets: an OpenSSL stateless
        // ticket's length varies by a cipher block now and then, which would move record
        // boundaries from run to run. (The first connection gets its tickets: `sessions`.)
        cfg.tls13_tickets = Some(0);
    }
    cfg
}

/// Runs `key` of `scenario` on `imp`, with `reference` playing the peer.
pub fn run(
    imp: &dyn Implementation,
    reference: &dyn Implementation,
    scenario: &Scenario,
    key: &RunKey,
) -> Trace {
    run_with(imp, reference, scenario, key, &RunOptions::default())
}

/// [`run`] with [`RunOptions`]: another transport, a step observer.
pub fn run_with(
    imp: &dyn Implementation,
    reference: &dyn Implementation,
    scenario: &Scenario,
    key: &RunKey,
    opts: &RunOptions<'_>,
) -> Trace {
    let started = std::time::Instant::now();
    let mut trace = run_untimed(imp, reference, scenario, key, opts);
    trace.duration_us = Some(micros(started.elapsed()));
    trace
}

fn run_untimed(
    imp: &dyn Implementation,
    reference: &dyn Implementation,
    scenario: &Scenario,
    key: &RunKey,
    opts: &RunOptions<'_>,
) -> Trace {
    let pipe_cfg = PipeConfig {
        capacity_to_peer: cap(scenario.transport.capacity_to_peer, scenario),
        capacity_to_impl: cap(scenario.transport.capacity_to_impl, scenario),
        blocking: scenario.transport.blocking,
    };
    let cfg = conn_config(scenario, key);

    let ledger = Rc::new(RefCell::new(Ledger::default()));
    let empty = |status| Trace {
        status,
        steps: Vec::new(),
        delivery: Delivery::default(),
        wire: Wire::default(),
        violations: Vec::new(),
        checked: Vec::new(),
        peer_end: None,
        broke_w6_at: None,
        resumed: None,
        duration_us: None,
    };
    let pipe = match opts.transport {
        TransportKind::Memory => Pipe::new(&pipe_cfg),
        TransportKind::Tcp => {
            if let Some(why) = &scenario.memory_only {
                return empty(RunStatus::Skipped {
                    step: None,
                    reason: format!("memory-only scenario: {why}"),
                });
            }
            match Pipe::tcp(&pipe_cfg, smallest_capacities(scenario, &pipe_cfg)) {
                Ok(p) => p,
                Err(e) => {
                    return empty(RunStatus::Error {
                        message: format!("loopback TCP transport: {e}"),
                    })
                }
            }
        }
    };
    let setup = |e: SetupError, who: &str| match e {
        SetupError::Unsupported(reason) => RunStatus::Skipped {
            step: None,
            reason: format!("{who}: {reason}"),
        },
        SetupError::Failed(message) => RunStatus::Error {
            message: format!("{who}: {message}"),
        },
    };
    // A resumed run (and early data, which needs one) takes a session that a first connection
    // of the same configuration got: primed now, or from the pool.
    let session = if cfg.early_data || cfg.resume {
        let got = match opts.sessions {
            Some(pool) => pool.take(imp, reference, &cfg),
            None => sessions::prime(imp, reference, &cfg).map(Arc::new),
        };
        match got {
            Ok(s) => Some(s),
            Err((e, who)) => return empty(setup(e, who)),
        }
    } else {
        None
    };
    let impl_session = session.as_deref().filter(|_| cfg.role == Role::Client);
    let peer_session = session.as_deref().filter(|_| cfg.role == Role::Server);
    let io = pipe.endpoint(Side::Impl);
    let conn = match impl_session {
        Some(s) => imp.resume(&cfg, io, s),
        None => imp.connect(&cfg, io),
    };
    let conn: Box<dyn Connection> = match conn {
        Ok(c) => Box::new(Blamed(c)),
        Err(e) => return empty(setup(e, "implementation")),
    };
    let peer = match Peer::new(reference, &cfg, &pipe, ledger.clone(), peer_session) {
        Ok(p) => Rc::new(RefCell::new(p)),
        Err(e) => return empty(setup(e, "reference peer")),
    };
    let weak = Rc::downgrade(&peer);
    pipe.set_pump(Box::new(move || {
        if let Some(p) = weak.upgrade() {
            p.borrow_mut().pump();
        }
    }));

    let mut r = Runner {
        scenario,
        cfg,
        conn,
        peer,
        pipe,
        ledger,
        slot_content: vec![Content::Stream; 257],
        slots: slots(scenario),
        steps: Vec::new(),
        violations: Vec::new(),
        // Every played run checks I1 (the ledger), I2 (every write's return) and I4 (each call
        // returned, or the run is a crash or timeout).
        checked: ["I1", "I2", "I4"].iter().map(|c| c.to_string()).collect(),
        write_pending: false,
        retry_due: None,
        broke_w6_at: None,
        modes_now: key.modes,
        step_now: 0,
        fatal_at: None,
        resumed: None,
        w10_steps: BTreeSet::new(),
        observer: opts.observer,
        close_notify_at: None,
    };
    let status = r.play();
    let resumed = r.resumed;
    let mut trace = r.finish(status);
    trace.resumed = resumed;
    trace
}

/// The text of a panic payload (`&str` or `String`; anything else is named as such).
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic with a non-text payload".to_string())
}

/// The smallest capacity each direction (to the peer, to the implementation) ever has in the
/// scenario: over TCP, the receive buffers must have that size from the start (they cannot
/// shrink later without the kernel dropping data).
fn smallest_capacities(s: &Scenario, start: &PipeConfig) -> (usize, usize) {
    let (mut to_peer, mut to_impl) = (start.capacity_to_peer, start.capacity_to_impl);
    for step in &s.steps {
        if let Step::Transport {
            capacity_to_peer,
            capacity_to_impl,
            ..
        } = step
        {
            if let Some(c) = capacity_to_peer {
                to_peer = to_peer.min(c.0 as usize);
            }
            if let Some(c) = capacity_to_impl {
                to_impl = to_impl.min(c.0 as usize);
            }
        }
    }
    (to_peer, to_impl)
}

fn cap(one: Option<crate::scenario::Capacity>, s: &Scenario) -> usize {
    one.unwrap_or(s.transport.capacity).0 as usize
}

/// Allocates each buffer slot once, at the largest size any step asks of it, so that a
/// retry from the same slot passes the same pointer.
fn slots(s: &Scenario) -> Vec<Vec<u8>> {
    let mut sizes: Vec<usize> = Vec::new();
    for step in &s.steps {
        let (len, buf) = match step {
            Step::Write { len, buf, .. }
            | Step::WriteEx { len, buf, .. }
            | Step::WriteAll { len, buf, .. }
            | Step::WriteEarly { len, buf, .. } => (len.get(), usize::from(*buf)),
            _ => continue,
        };
        if sizes.len() <= buf {
            sizes.resize(buf + 1, 0);
        }
        sizes[buf] = sizes[buf].max(len);
    }
    // `write_stream` gets a slot of its own, after the numbered ones.
    let stream = s
        .steps
        .iter()
        .filter_map(|st| match st {
            Step::WriteStream { chunk, .. } => Some(chunk.get()),
            _ => None,
        })
        .max()
        .unwrap_or(0);
    sizes.push(stream);
    // Every slot gets at least one byte, so even an empty write passes a real pointer.
    sizes.into_iter().map(|n| vec![0u8; n.max(1)]).collect()
}

/// What a step's expectation is judged against besides the step: the state before the step.
#[derive(Clone, Copy, Debug, Default)]
pub struct CheckContext {
    /// The implementation's handshake was done before the step.
    pub handshake_done: bool,
    /// The implementation's transport blocks.
    pub blocking: bool,
    /// An I/O call of the implementation had failed fatally (ssl/syscall) before the step.
    pub after_fatal: bool,
    /// The script has retried with other arguments (broken W6) by this step.
    pub broke_w6: bool,
}

/// The clause an `expect` without a `clause` of its own concerns: the clause of the contract
/// that defines the expected outcome for that call in that state (reports/README.md has the
/// table). The violation of a failed expectation is charged there, not to whatever clause
/// the scenario happens to cite first.
pub fn concerned_clause(
    step: &Step,
    expect: &crate::scenario::Expect,
    len: Option<u64>,
    cx: CheckContext,
) -> &'static str {
    use crate::scenario::ExpectPat;
    let pats = &expect.0;
    let all = |f: fn(&ExpectPat) -> bool| pats.iter().all(f);
    let retry = |p: &ExpectPat| {
        matches!(p, ExpectPat::Retry) || matches!(p, ExpectPat::Exact(o) if o.is_retry())
    };
    let failure = |p: &ExpectPat| match p {
        ExpectPat::AnySsl | ExpectPat::Fail => true,
        ExpectPat::Exact(o) => !o.is_ok() && !o.is_retry(),
        _ => false,
    };
    let partial_count =
        |p: &ExpectPat| matches!((p, len), (ExpectPat::Exact(Outcome::Ok(n)), Some(l)) if *n < l);
    match step {
        Step::Handshake { .. } => "W2",
        Step::Write { .. }
        | Step::WriteEx { .. }
        | Step::WriteAll { .. }
        | Step::WriteStream { .. } => {
            if all(retry) {
                // W4: a transport that cannot take more (or progress that needs incoming
                // data) is want_write / want_read; W3 on a blocking transport.
                if cx.blocking {
                    "W3"
                } else {
                    "W4"
                }
            } else if !cx.handshake_done {
                "W2"
            } else if cx.after_fatal {
                "W12"
            } else if cx.broke_w6 {
                "W6"
            } else if len == Some(0) {
                "W9"
            } else if all(failure) {
                "W11"
            } else if pats.iter().any(partial_count) {
                // W8: a count below the length is a partial write.
                "W8"
            } else if cx.blocking {
                "W3"
            } else {
                "W1"
            }
        }
        Step::WriteEarly { .. } | Step::ReadEarly { .. } => "W1",
        Step::WriteNegative { .. } | Step::ErrorAgain { .. } => "W10",
        Step::Read { .. } => {
            if pats.iter().any(failure) {
                "W11"
            } else {
                "W5"
            }
        }
        Step::Shutdown { .. } => "W11",
        Step::KeyUpdate { .. } | Step::Renegotiate { .. } | Step::NewSessionTicket { .. } => "W5",
        Step::SetModes { .. } => "W15",
        // Steps of the peer and the transport carry no expectation.
        _ => "W1",
    }
}

struct Runner<'a> {
    scenario: &'a Scenario,
    cfg: ConnConfig,
    conn: Box<dyn Connection>,
    peer: Rc<RefCell<Peer>>,
    pipe: Pipe,
    ledger: Rc<RefCell<Ledger>>,
    slots: Vec<Vec<u8>>,
    /// What each slot was last filled with (what a success confirms).
    slot_content: Vec<Content>,
    steps: Vec<StepRecord>,
    violations: Vec<Violation>,
    checked: BTreeSet<String>,
    /// The last write call asked for a retry and none has completed it yet.
    write_pending: bool,
    /// The arguments a retry must repeat (length, slot, offset), after a write asked for one.
    retry_due: Option<(usize, usize, usize)>,
    /// The first step where the script broke W6 (see `call_write`).
    broke_w6_at: Option<usize>,
    /// The modes in force (the run's, then `set_modes`).
    modes_now: crate::contract::Modes,
    /// The step being played.
    step_now: usize,
    /// The step of the first fatal (ssl/syscall) outcome of the implementation.
    fatal_at: Option<usize>,
    /// Whether the first handshake resumed the session (a resuming run, once it is done;
    /// a later renegotiation is a full handshake and does not change it).
    resumed: Option<bool>,
    /// Steps with a W10 violation already recorded (one per step, the first pair).
    w10_steps: BTreeSet<usize>,
    observer: Option<&'a dyn Fn(StepEvent<'_>)>,
    /// What the implementation had sent to the peer when its first shutdown succeeded.
    close_notify_at: Option<u64>,
}

/// What one contract-following write loop did.
struct LoopResult {
    done: usize,
    last: Call,
    /// Every call, when asked for (`write_all` reports them; `write_stream` only counts).
    calls: CallLog,
    ncalls: u64,
    stalled: bool,
    capped: bool,
}

/// Calls in a row without progress, while the peer drains, that break I3.
const NO_PROGRESS_CALLS: u32 = 100;

/// Ciphertext a write may send without confirming a byte: twice what is left of it, plus
/// room for record overhead and handshake messages (renegotiation, KeyUpdate, tickets). An
/// implementation that sends more is retransmitting, not writing: I3, and the loop stops
/// (no library can make a stream loop run until the time limit).
fn unconfirmed_allowance(left: usize) -> u64 {
    2 * left as u64 + 65_536
}

/// Calls per looping handshake step before it is declared stuck.
const HANDSHAKE_ROUNDS: usize = 100_000;

impl Runner<'_> {
    fn cites(&self, clause: &str) -> bool {
        self.scenario.clauses.iter().any(|c| c.0 == clause)
    }

    /// W10: the call's raw pair (`ret`, `SSL_get_error`) must agree; the outcome already
    /// follows the return value. One violation per step (the first disagreeing call).
    fn check_w10(&mut self, i: usize, call: &Call) {
        if call.error_class.is_none() {
            return;
        }
        self.checked.insert("W10".into());
        if self.w10_steps.contains(&i) {
            return;
        }
        if let Some(detail) = crate::impls::ssl_abi::w10_disagreement(call) {
            self.w10_steps.insert(i);
            self.violation("W10", "spec", Some(i), detail);
        }
    }

    fn violation(&mut self, clause: &str, kind: &str, step: Option<usize>, detail: String) {
        self.violations.push(Violation {
            clause: clause.to_string(),
            kind: kind.to_string(),
            step,
            detail,
        });
    }

    fn play(&mut self) -> RunStatus {
        let steps = &self.scenario.steps;
        for (i, step) in steps.iter().enumerate() {
            let mut rec = StepRecord {
                index: i,
                op: step.short(),
                actor: if step.is_impl_call() {
                    Actor::Impl
                } else if matches!(step, Step::Transport { .. } | Step::InjectMalformed {}) {
                    Actor::Transport
                } else {
                    Actor::Peer
                },
                call: None,
                calls: Vec::new(),
                bytes: None,
                expect: None,
                conforms: None,
                capped: false,
                calls_omitted: 0,
            };
            self.step_now = i;
            if let Some(o) = self.observer {
                o(StepEvent::Begin(i));
            }
            if let Step::SetModes { modes, .. } = step {
                self.modes_now = *modes;
            }
            // A panic inside an implementation (a Rust library's assertion) is caught here and
            // becomes this run's `crash`; the other runs go on (I4). One outside its calls
            // (`blame`) is the harness's: the run is an `error`. Crashes of C code (signals)
            // need a worker process.
            let before = CheckContext {
                handshake_done: self.conn.handshake_done(),
                blocking: self.pipe.blocking(),
                after_fatal: self.fatal_at.is_some(),
                broke_w6: false,
            };
            let played = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                self.step(i, step, &mut rec)
            }));
            let len = match played {
                Ok(len) => len,
                Err(payload) => {
                    let message = panic_message(payload.as_ref());
                    if !blame::take_in_implementation() {
                        // The harness's own code (or the reference peer) panicked: a harness
                        // failure, not the implementation's crash.
                        self.steps.push(rec);
                        return RunStatus::Error {
                            message: format!(
                                "the harness panicked at step {i} (outside the implementation's calls): {message}; this is a harness bug, please report it with the scenario"
                            ),
                        };
                    }
                    rec.call = Some(Call::new(Outcome::Crash(format!("panic: {message}")), 0));
                    self.steps.push(rec);
                    self.violation("I4", "invariant", Some(i), format!("panicked: {message}"));
                    return RunStatus::Crash {
                        step: Some(i),
                        message,
                        signal: None,
                        stderr: None,
                    };
                }
            };
            let deadlocked = self.pipe.take_deadlock();
            if let Some(call) = rec.call.as_mut() {
                if deadlocked {
                    call.outcome = Outcome::Deadlock;
                }
                if call.outcome == Outcome::Deadlock && len.is_some() {
                    // The write never returned: its bytes are in flight, as for a retry.
                    self.write_pending = true;
                }
            }
            if rec.actor == Actor::Impl {
                for call in rec.call.iter().chain(&rec.calls) {
                    self.check_w10(i, call);
                }
                let before = CheckContext {
                    broke_w6: self.broke_w6_at.is_some_and(|b| b <= i),
                    ..before
                };
                self.check_expect(i, step, &mut rec, len, before);
            }
            let outcome = rec.call.as_ref().map(|c| c.outcome.clone());
            if let Some(o) = self.observer {
                o(StepEvent::End(&rec));
            }
            self.steps.push(rec);
            if self.resumed.is_none()
                && (self.cfg.resume || self.cfg.early_data)
                && self.conn.handshake_done()
            {
                self.resumed = self.conn.resumed();
            }
            match outcome {
                Some(Outcome::Skip(reason)) => {
                    return RunStatus::Skipped {
                        step: Some(i),
                        reason,
                    }
                }
                Some(Outcome::Deadlock) => return RunStatus::Deadlock { step: i },
                _ => {}
            }
        }
        RunStatus::Completed
    }

    fn check_expect(
        &mut self,
        i: usize,
        step: &Step,
        rec: &mut StepRecord,
        len: Option<u64>,
        before: CheckContext,
    ) {
        let Some(call) = rec.call.as_ref() else {
            return;
        };
        let outcome = call.outcome.clone();
        // W12: after a fatal error no later write succeeds (checked where the scenario cites it).
        let is_write = matches!(
            step,
            Step::Write { .. }
                | Step::WriteEx { .. }
                | Step::WriteAll { .. }
                | Step::WriteStream { .. }
        );
        if let Some(f) = self.fatal_at {
            if is_write && self.cites("W12") {
                self.checked.insert("W12".into());
            }
            if is_write && outcome.is_ok() && len != Some(0) && self.cites("W12") {
                self.violation(
                    "W12",
                    "spec",
                    Some(i),
                    format!("write succeeded ({outcome}) after the fatal error at step {f}"),
                );
            }
        } else if outcome.is_fatal() && step.is_io() {
            // Only a failed I/O call ends a connection; a refused key update, renegotiation
            // or negative length is an answer to that call alone.
            self.fatal_at = Some(i);
        }
        // W14: a success leaves no error on the queue; an SSL_ERROR_SSL failure leaves its reason.
        if self.cites("W14") && !matches!(outcome, Outcome::Skip(_)) {
            self.checked.insert("W14".into());
            let problem = match &outcome {
                Outcome::Ok(_) if !call.errors.is_empty() => Some(format!(
                    "success left errors on the queue: {:?}",
                    call.errors
                )),
                Outcome::Ssl(_) if call.errors.is_empty() => {
                    Some("SSL_ERROR_SSL with nothing on the error queue".to_string())
                }
                _ => None,
            };
            if let Some(detail) = problem {
                self.violation("W14", "spec", Some(i), detail);
            }
        }
        let (Some(expect), clause) = step.expect() else {
            return;
        };
        if matches!(outcome, Outcome::Skip(_)) {
            return;
        }
        let ok = expect.matches(&outcome, len);
        let clause = clause.map_or_else(
            || concerned_clause(step, expect, len, before).to_string(),
            ClauseId::to_string,
        );
        rec.expect = Some(expect.to_string());
        rec.conforms = Some(ok);
        self.checked.insert(clause.clone());
        if !ok {
            self.violation(
                &clause,
                "spec",
                Some(i),
                format!("expected {expect}, got {outcome}"),
            );
        }
    }

    /// Runs one step; returns the length the implementation was asked to write, if any.
    fn step(&mut self, i: usize, step: &Step, rec: &mut StepRecord) -> Option<u64> {
        match step {
            Step::Handshake { .. } => {
                let log = self.handshake();
                rec.call = log.calls.last().cloned();
                if log.calls.len() > 1 {
                    rec.calls = log.calls;
                    rec.calls_omitted = log.omitted;
                }
                None
            }
            Step::Write {
                len, buf, content, ..
            } => Some(self.write_once(i, rec, usize::from(*buf), len.get(), *content, Api::Write)),
            Step::WriteEx {
                len, buf, content, ..
            } => {
                Some(self.write_once(i, rec, usize::from(*buf), len.get(), *content, Api::WriteEx))
            }
            Step::WriteNegative { num, .. } => {
                let call = self.conn.write_negative(*num);
                if call.outcome.is_ok() {
                    self.violation(
                        "I2",
                        "invariant",
                        Some(i),
                        format!("a write of num={num} succeeded: {}", call.outcome),
                    );
                }
                rec.call = Some(call);
                Some(0)
            }
            Step::WriteAll { .. } => Some(self.write_all(i, rec, step)),
            Step::WriteStream { .. } => Some(self.write_stream(i, rec, step)),
            Step::Read { len, .. } => {
                let mut buf = vec![0u8; len.get()];
                let call = self.conn.read(&mut buf);
                rec.call = Some(call);
                None
            }
            Step::Shutdown { .. } => {
                let call = self.conn.shutdown();
                if call.outcome.is_ok() && self.close_notify_at.is_none() {
                    self.close_notify_at = Some(self.pipe.total_sent(Side::Impl));
                }
                rec.call = Some(call);
                None
            }
            Step::KeyUpdate { requested, .. } => {
                rec.call = Some(self.conn.key_update(*requested));
                None
            }
            Step::Renegotiate { .. } => {
                rec.call = Some(self.conn.renegotiate());
                None
            }
            Step::NewSessionTicket { .. } => {
                rec.call = Some(self.conn.new_session_ticket());
                None
            }
            Step::WriteEarly { len, buf, .. } => {
                let (slot, len) = (usize::from(*buf), len.get());
                self.fill_slot(slot, len, Content::Stream);
                self.ledger.borrow_mut().expect(Content::Stream);
                // Not an SSL_write (no W6 retry is due), but it confirms bytes like one, and a
                // want_* leaves them in flight like one.
                let call = self.conn.write_early_data(&self.slots[slot][..len]);
                self.confirm(i, slot, len, &call);
                rec.call = Some(call);
                Some(len as u64)
            }
            Step::ReadEarly { len, .. } => {
                let mut buf = vec![0u8; len.get()];
                rec.call = Some(self.conn.read_early_data(&mut buf));
                None
            }
            Step::ErrorAgain { .. } => {
                rec.call = Some(self.conn.error_again());
                None
            }
            Step::DirtyErrorQueue {} => {
                rec.call = Some(self.conn.dirty_error_queue());
                None
            }
            Step::SetModes { modes, .. } => {
                rec.call = Some(self.conn.set_modes(*modes));
                None
            }
            Step::PeerRead { len } => {
                let (call, n) = self.peer.borrow_mut().read(len.map(|l| l.get()));
                rec.call = Some(call);
                rec.bytes = Some(n);
                None
            }
            Step::PeerStopReading {} => {
                self.peer.borrow_mut().reading = false;
                None
            }
            Step::PeerResumeReading {} => {
                self.peer.borrow_mut().reading = true;
                None
            }
            Step::PeerWrite { len } => {
                let (call, n) = self.peer.borrow_mut().write(len.get());
                rec.call = Some(call);
                rec.bytes = Some(n);
                None
            }
            Step::PeerWriteEarly { len } => {
                let (call, n) = self.peer.borrow_mut().write_early(len.get());
                rec.call = Some(call);
                rec.bytes = Some(n);
                None
            }
            Step::PeerShutdown {} => {
                rec.call = Some(self.peer.borrow_mut().shutdown());
                None
            }
            Step::PeerFin {} => {
                self.pipe.fin(Side::Peer);
                None
            }
            Step::PeerClose {} => {
                self.pipe.close(Side::Peer);
                self.peer.borrow_mut().transport_gone = true;
                None
            }
            Step::PeerReset {} => {
                self.pipe.reset(Side::Peer);
                self.peer.borrow_mut().transport_gone = true;
                None
            }
            Step::PeerRenegotiate {} => {
                rec.call = Some(self.peer.borrow_mut().renegotiate());
                None
            }
            Step::PeerKeyUpdate { requested } => {
                rec.call = Some(self.peer.borrow_mut().key_update(*requested));
                None
            }
            Step::PeerNewSessionTicket {} => {
                rec.call = Some(self.peer.borrow_mut().new_session_ticket());
                None
            }
            Step::PeerFatalAlert {} => {
                let (call, n) = self.peer.borrow_mut().fatal_alert();
                rec.call = Some(call);
                rec.bytes = Some(n);
                None
            }
            Step::InjectMalformed {} => {
                self.pipe.inject(Side::Impl, &GARBAGE_RECORD);
                None
            }
            Step::Transport {
                capacity_to_peer,
                capacity_to_impl,
                blocking,
                trickle,
                zero_writes,
            } => {
                if let Some(c) = capacity_to_peer {
                    self.pipe.set_capacity(Side::Impl, c.0 as usize);
                }
                if let Some(c) = capacity_to_impl {
                    self.pipe.set_capacity(Side::Peer, c.0 as usize);
                }
                if let Some(b) = blocking {
                    self.pipe.set_blocking(*b);
                }
                if let Some(t) = trickle {
                    self.pipe
                        .set_trickle(Side::Impl, (t.0 > 0).then(|| t.get()));
                }
                if let Some(z) = zero_writes {
                    self.pipe.set_zero_writes(Side::Impl, *z);
                }
                None
            }
        }
    }

    /// Drives the handshake, letting the peer answer between calls; once the implementation
    /// is done, lets the peer finish too (TLS 1.3 server: the client's Finished), so that the
    /// steps after a `handshake` start from an established connection on both sides.
    fn handshake(&mut self) -> CallLog {
        let calls = self.handshake_impl();
        if calls.calls.last().is_some_and(|c| c.outcome.is_ok()) {
            let mut p = self.peer.borrow_mut();
            for _ in 0..4 {
                if p.handshake_done() || p.transport_gone {
                    break;
                }
                p.handshake();
            }
        }
        calls
    }

    fn handshake_impl(&mut self) -> CallLog {
        let mut calls = CallLog::default();
        let mut stuck = 0;
        for _ in 0..HANDSHAKE_ROUNDS {
            let before = self.motion();
            let mut call = self.conn.handshake();
            let retry = call.outcome.is_retry();
            let deadlocked = self.pipe.take_deadlock();
            if deadlocked {
                call.outcome = Outcome::Deadlock;
            }
            self.check_w10(self.step_now, &call);
            calls.push(call);
            if !retry || deadlocked {
                break;
            }
            self.peer.borrow_mut().pump();
            if self.motion() == before {
                stuck += 1;
                if stuck >= 2 {
                    break;
                }
            } else {
                stuck = 0;
            }
        }
        calls
    }

    /// Bytes sent and queued in both directions, and plaintext the peer's application read:
    /// changes whenever anything moved.
    fn motion(&self) -> [u64; 5] {
        [
            self.pipe.total_sent(Side::Impl),
            self.pipe.pending(Side::Peer) as u64,
            self.pipe.total_sent(Side::Peer),
            self.pipe.pending(Side::Impl) as u64,
            self.ledger.borrow().received_total(),
        ]
    }

    /// Records a write's bytes as confirmed and checks I2.
    fn confirm(&mut self, i: usize, slot: usize, len: usize, call: &Call) {
        self.check_w10(i, call);
        if let Some(w) = call.written {
            if w > len as u64 {
                self.violation(
                    "I2",
                    "invariant",
                    Some(i),
                    format!("written = {w} > num = {len}"),
                );
            }
        }
        match call.outcome {
            Outcome::Ok(n) => {
                if n > len as u64 {
                    self.violation(
                        "I2",
                        "invariant",
                        Some(i),
                        format!("returned {n} > num = {len}"),
                    );
                } else {
                    if n == 0 && len > 0 {
                        self.violation(
                            "I2",
                            "invariant",
                            Some(i),
                            "success with 0 bytes for a non-empty write".into(),
                        );
                    }
                    let content = self.slot_content[slot];
                    self.ledger.borrow_mut().confirm(n, content);
                }
                self.write_pending = false;
            }
            Outcome::WantRead | Outcome::WantWrite => self.write_pending = true,
            _ => {}
        }
    }

    fn call_write(&mut self, api: Api, slot: usize, range: std::ops::Range<usize>) -> Call {
        // W6: after want_*, the next write must pass the same length, and the same buffer
        // unless moving-buffer mode is on. Note where the script first breaks that: beyond it
        // the contract no longer says what an implementation must do.
        let (at, len) = (range.start, range.len());
        if let Some((plen, pslot, pat)) = self.retry_due.take() {
            let moved = pslot != slot || pat != at;
            if (plen != len || (moved && !self.modes_now.moving_buffer))
                && self.broke_w6_at.is_none()
            {
                self.broke_w6_at = Some(self.step_now);
            }
        }
        self.ledger.borrow_mut().expect(self.slot_content[slot]);
        let buf = &self.slots[slot][range];
        let call = match api {
            Api::Write => self.conn.write(buf),
            Api::WriteEx => self.conn.write_ex(buf),
        };
        if call.outcome.is_retry() {
            self.retry_due = Some((len, slot, at));
        }
        call
    }

    /// Puts the stream's next `len` bytes (from the confirmed offset), or other bytes, into
    /// buffer slot `slot`, and notes what it holds.
    fn fill_slot(&mut self, slot: usize, len: usize, content: Content) {
        let offset = self.ledger.borrow().confirmed_total();
        fill(&mut self.slots[slot][..len], offset, content);
        self.slot_content[slot] = content;
    }

    fn write_once(
        &mut self,
        i: usize,
        rec: &mut StepRecord,
        slot: usize,
        len: usize,
        content: Content,
        api: Api,
    ) -> u64 {
        self.fill_slot(slot, len, content);
        let call = self.call_write(api, slot, 0..len);
        self.confirm(i, slot, len, &call);
        rec.call = Some(call);
        len as u64
    }

    /// Writes `len` bytes the way the contract tells a caller to: retry with the same
    /// arguments after want_*, letting the peer drain; continue with the rest after a partial
    /// success.
    fn write_all(&mut self, i: usize, rec: &mut StepRecord, step: &Step) -> u64 {
        let Step::WriteAll {
            len,
            buf,
            api,
            drain,
            max_calls,
            ..
        } = step
        else {
            unreachable!("write_all is only called for Step::WriteAll");
        };
        let (slot, len) = (usize::from(*buf), len.get());
        self.checked.insert("I3".into());
        self.fill_slot(slot, len, Content::Stream);
        let r = self.write_loop(i, slot, len, *api, drain.map(|d| d.get()), *max_calls, true);
        let mut summary = r.last.clone();
        if r.done == len && r.last.outcome.is_ok() {
            summary.outcome = Outcome::Ok(len as u64);
        }
        rec.call = Some(summary);
        rec.bytes = Some(r.done as u64);
        if r.calls.calls.len() > 1 {
            rec.calls = r.calls.calls;
            rec.calls_omitted = r.calls.omitted;
        }
        if r.stalled {
            rec.op.push_str(" (stopped: the peer reads nothing more)");
        }
        rec.capped = r.capped;
        len as u64
    }

    /// Writes `total` bytes of the stream in chunks of `chunk` from one reused buffer, each
    /// chunk the way `write_all` writes: the bulk path (a 1 GiB run holds one chunk, not 1 GiB).
    fn write_stream(&mut self, i: usize, rec: &mut StepRecord, step: &Step) -> u64 {
        let Step::WriteStream {
            total,
            chunk,
            api,
            drain,
            ..
        } = step
        else {
            unreachable!("write_stream is only called for Step::WriteStream");
        };
        self.checked.insert("I3".into());
        let (total, chunk) = (*total, chunk.get().max(1));
        let slot = self.slots.len() - 1;
        let mut done: u64 = 0;
        let mut calls: u64 = 0;
        let mut last = Call::skip("no call");
        while done < total {
            let len = chunk.min((total - done) as usize);
            self.fill_slot(slot, len, Content::Stream);
            let r = self.write_loop(i, slot, len, *api, drain.map(|d| d.get()), u32::MAX, false);
            calls += r.ncalls;
            done += r.done as u64;
            last = r.last;
            if r.done < len || !last.outcome.is_ok() {
                break;
            }
        }
        let mut summary = last;
        if done == total && summary.outcome.is_ok() {
            summary.outcome = Outcome::Ok(total);
        }
        rec.call = Some(summary);
        rec.bytes = Some(done);
        rec.op.push_str(&format!(" ({calls} calls)"));
        total
    }

    /// The contract-following write loop of `write_all` and `write_stream`: retry with the
    /// same arguments after want_* while the peer drains, continue after a partial success.
    #[allow(clippy::too_many_arguments)]
    fn write_loop(
        &mut self,
        i: usize,
        slot: usize,
        len: usize,
        api: Api,
        drain: Option<usize>,
        max_calls: u32,
        keep_calls: bool,
    ) -> LoopResult {
        let mut r = LoopResult {
            done: 0,
            last: Call::skip("no call"),
            calls: CallLog::default(),
            ncalls: 0,
            stalled: false,
            capped: false,
        };
        let mut idle = 0u32;
        let mut chance = true;
        let mut sent_at_confirm = self.pipe.total_sent(Side::Impl);
        loop {
            let unconfirmed = self.pipe.total_sent(Side::Impl) - sent_at_confirm;
            if unconfirmed > unconfirmed_allowance(len - r.done.min(len)) {
                self.violation(
                    "I3",
                    "invariant",
                    Some(i),
                    format!(
                        "{} of {len} bytes written; {unconfirmed} bytes went to the transport since the last confirmed write, more than the {} bytes left can take",
                        r.done,
                        len - r.done.min(len)
                    ),
                );
                break;
            }
            if idle >= NO_PROGRESS_CALLS {
                self.violation(
                    "I3",
                    "invariant",
                    Some(i),
                    format!(
                        "{} of {len} bytes written; {idle} calls in a row that followed the contract made no progress while the peer drained",
                        r.done
                    ),
                );
                break;
            }
            if r.ncalls >= u64::from(max_calls) {
                r.capped = true;
                break;
            }
            let progress_before = (
                self.pipe.total_sent(Side::Impl),
                self.pipe.pending(Side::Impl),
            );
            let mut call = self.call_write(api, slot, r.done..len);
            self.confirm(i, slot, len - r.done, &call);
            let progress_after = (
                self.pipe.total_sent(Side::Impl),
                self.pipe.pending(Side::Impl),
            );
            // A success moves bytes; `ok(0)` for a non-empty write does not (and is an I2
            // violation, recorded by `confirm`): it ends the loop below.
            let wrote = matches!(call.outcome, Outcome::Ok(n) if n > 0);
            let moved = progress_before != progress_after || wrote;
            // A call counts as idle only when the last drain gave it a chance: freed transport
            // space or sent it bytes (a drain served from the peer's own buffer does not).
            idle = if moved {
                0
            } else if chance {
                idle + 1
            } else {
                idle
            };
            r.ncalls += 1;
            let deadlocked = self.pipe.take_deadlock();
            if deadlocked {
                call.outcome = Outcome::Deadlock;
            }
            let outcome = call.outcome.clone();
            if keep_calls {
                r.calls.push(call.clone());
            }
            r.last = call;
            if deadlocked {
                break;
            }
            match outcome {
                Outcome::Ok(0) => break,
                Outcome::Ok(n) => {
                    r.done += n as usize;
                    sent_at_confirm = self.pipe.total_sent(Side::Impl);
                    if r.done >= len {
                        break;
                    }
                }
                Outcome::WantRead | Outcome::WantWrite => {
                    // The contract's premise is a peer that drains. When the peer takes
                    // nothing (its transport is gone, its connection ended, or it has stopped
                    // reading), retrying cannot help: stop, without blaming the writer (I3).
                    let before = self.motion();
                    let mut p = self.peer.borrow_mut();
                    if !p.transport_gone {
                        p.read(drain);
                    }
                    drop(p);
                    let after = self.motion();
                    if after == before {
                        r.stalled = true;
                        break;
                    }
                    // A chance for the writer: the drain left room in its direction (a backlog
                    // above the capacity takes several drains before the first byte fits), or
                    // the peer sent it something (a handshake message, a KeyUpdate).
                    chance = after[..4] != before[..4]
                        && (self.pipe.has_room(Side::Impl) || after[2] != before[2]);
                }
                _ => break,
            }
        }
        r
    }

    fn finish(mut self, status: RunStatus) -> Trace {
        // The peer reads what is left (the run is over; eventually every byte is read).
        let mut peer_blocked = false;
        {
            let mut p = self.peer.borrow_mut();
            if !p.transport_gone {
                p.reading = true;
                for _ in 0..4 {
                    let before = self.pipe.pending(Side::Peer);
                    p.pump();
                    if self.pipe.pending(Side::Peer) == 0 || self.pipe.pending(Side::Peer) == before
                    {
                        break;
                    }
                }
                // Did the peer get to read everything? Only when it read until the transport
                // was empty (want_read) or it met the writer's close_notify (zero_return).
                // Otherwise its own state stopped it (output stuck behind a writer that does
                // not read, a failed renegotiation or shutdown of its own), and bytes it did
                // not read are not the writer's loss.
                let last = p.read(None).0.outcome;
                peer_blocked = match last {
                    Outcome::WantRead => self.pipe.pending(Side::Peer) > 0,
                    Outcome::ZeroReturn => false,
                    _ => true,
                };
            }
        }
        let delivery = self.ledger.borrow().delivery();
        let gone = self.peer.borrow().transport_gone;
        if let Some(m) = delivery.first_mismatch {
            self.violation(
                "I1",
                "invariant",
                None,
                format!(
                    "the peer read byte {:#04x} at stream offset {} where {:#04x} was written",
                    m.received, m.offset, m.expected
                ),
            );
        }
        let peer_end = self.peer.borrow().ended.clone();
        // Bytes the peer could not read because its transport is gone or its connection
        // failed are not the writer's loss; bytes the writer reported after the peer saw a
        // close_notify (or while it was still reading) are.
        // ... but only when the script itself disturbed the connection: a peer that fails on
        // its own has met something the writer sent, and the loss is the writer's.
        let scripted_fault = self.scenario.steps.iter().any(Step::disturbs);
        let peer_aborted = scripted_fault && peer_end.as_ref().is_some_and(Outcome::is_fatal);
        if delivery.missing > 0 && !gone && !peer_aborted && !peer_blocked {
            self.violation(
                "I1",
                "invariant",
                None,
                format!(
                    "{} bytes reported as written never reached the peer's application",
                    delivery.missing
                ),
            );
        }
        if delivery.unconfirmed > 0 && !self.write_pending {
            self.violation(
                "I1",
                "invariant",
                None,
                format!(
                    "the peer read {} bytes beyond what the writer was told was written",
                    delivery.unconfirmed
                ),
            );
        }
        let (to_peer, d1) = self.pipe.records(Side::Impl);
        let (to_impl, d2) = self.pipe.records(Side::Peer);
        if self.cites("W13") {
            self.checked.insert("W13".into());
            let frag = u64::from(self.cfg.max_send_fragment.unwrap_or(16384));
            // AEAD suites add at most 24 bytes (TLS 1.2 GCM) or 17 (TLS 1.3); 256 is RFC 8446's
            // bound on expansion and keeps CBC padding and TLS 1.3 record padding in bounds.
            let limit = frag + 256;
            if let Some(big) = to_peer.iter().find(|r| {
                r.content_type() == WireRecord::APPLICATION_DATA && u64::from(r.len()) > limit
            }) {
                self.violation(
                    "W13",
                    "spec",
                    None,
                    format!(
                        "a record of {} bytes exceeds max fragment {frag} plus overhead",
                        big.len()
                    ),
                );
            }
        }
        Trace {
            status,
            steps: self.steps,
            delivery,
            wire: Wire {
                to_peer_bytes: self.pipe.total_sent(Side::Impl),
                to_impl_bytes: self.pipe.total_sent(Side::Peer),
                to_peer,
                to_impl,
                unlisted: d1 + d2,
                after_close_notify: self
                    .close_notify_at
                    .map(|at| self.pipe.total_sent(Side::Impl).saturating_sub(at)),
            },
            violations: self.violations,
            checked: self.checked.into_iter().collect(),
            peer_end,
            broke_w6_at: self.broke_w6_at,
            resumed: None,
            duration_us: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_log_keeps_the_first_calls_and_the_last_and_counts_the_rest() {
        let mut log = CallLog::default();
        for n in 0..300u64 {
            log.push(Call::new(Outcome::Ok(n), n as i64));
        }
        assert_eq!(log.calls.len(), MAX_CALLS_KEPT);
        assert_eq!(log.omitted, 300 - MAX_CALLS_KEPT as u64);
        assert_eq!(log.calls[MAX_CALLS_KEPT - 2].outcome, Outcome::Ok(254));
        assert_eq!(log.calls.last().unwrap().outcome, Outcome::Ok(299));
        let mut short = CallLog::default();
        short.push(Call::new(Outcome::WantWrite, -1));
        assert_eq!((short.calls.len(), short.omitted), (1, 0));
    }

    /// The clause a step's expectation without a `clause` is charged to.
    fn concerns(step: serde_json::Value, len: Option<u64>, cx: CheckContext) -> &'static str {
        let step: Step = serde_json::from_value(step).expect("a step");
        let (Some(expect), None) = step.expect() else {
            panic!("a step with an expectation and no clause");
        };
        concerned_clause(&step, expect, len, cx)
    }

    #[test]
    fn an_expectation_without_a_clause_is_charged_to_the_clause_defining_its_outcome() {
        use serde_json::json;
        let done = CheckContext {
            handshake_done: true,
            ..CheckContext::default()
        };
        // hs-fails-then-write step 0: the implicit handshake's want_read is W4, not the
        // scenario's first clause (W2).
        let write = json!({"op": "write", "len": 100, "expect": "want_read"});
        assert_eq!(
            concerns(write.clone(), Some(100), CheckContext::default()),
            "W4"
        );
        let blocking = CheckContext {
            blocking: true,
            ..done
        };
        assert_eq!(concerns(write, Some(100), blocking), "W3");
        let ok_all = json!({"op": "write", "len": 100, "expect": "ok(all)"});
        assert_eq!(
            concerns(ok_all.clone(), Some(100), CheckContext::default()),
            "W2"
        );
        assert_eq!(concerns(ok_all.clone(), Some(100), done), "W1");
        assert_eq!(concerns(ok_all.clone(), Some(100), blocking), "W3");
        let after_fatal = CheckContext {
            after_fatal: true,
            ..done
        };
        let fail = json!({"op": "write", "len": 100, "expect": "fail"});
        assert_eq!(concerns(fail.clone(), Some(100), after_fatal), "W12");
        assert_eq!(concerns(fail, Some(100), done), "W11");
        let retried = CheckContext {
            broke_w6: true,
            ..done
        };
        let ssl = json!({"op": "write", "len": 100, "expect": "ssl"});
        assert_eq!(concerns(ssl, Some(100), retried), "W6");
        let zero = json!({"op": "write_ex", "len": 0, "expect": "ok(0)"});
        assert_eq!(concerns(zero, Some(0), done), "W9");
        // pw-cbc-no-etm, pw-max-fragment-4096 step 1: a count below the length is W8.
        let partial = json!({"op": "write", "len": 100000, "expect": ["ok(16384)", "want_write"]});
        assert_eq!(concerns(partial, Some(100_000), done), "W8");
        let cases = [
            (json!({"op": "read", "len": 100, "expect": "ok(100)"}), "W5"),
            (
                json!({"op": "read", "len": 100, "expect": "zero_return"}),
                "W11",
            ),
            (
                json!({"op": "read", "len": 100, "expect": ["ssl", "want_write"]}),
                "W11",
            ),
            (json!({"op": "shutdown", "expect": "ok(0)"}), "W11"),
            (json!({"op": "renegotiate", "expect": "ok(1)"}), "W5"),
            (
                json!({"op": "key_update", "requested": false, "expect": "ok(1)"}),
                "W5",
            ),
            (json!({"op": "new_session_ticket", "expect": "ok(1)"}), "W5"),
            (
                json!({"op": "write_negative", "num": -1, "expect": "fail"}),
                "W10",
            ),
            (json!({"op": "error_again", "expect": "want_write"}), "W10"),
            (json!({"op": "handshake", "expect": "ok(1)"}), "W2"),
        ];
        for (step, clause) in cases {
            assert_eq!(concerns(step.clone(), None, done), clause, "{step}");
        }
    }

    #[test]
    fn a_write_may_send_twice_what_is_left_plus_64_kib_unconfirmed() {
        assert_eq!(unconfirmed_allowance(0), 65_536);
        assert_eq!(unconfirmed_allowance(16_384), 98_304);
    }
}
