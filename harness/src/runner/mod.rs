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

use crate::blame::{self, Blamed};
use crate::contract::{Call, ConnConfig, Connection, Implementation, Outcome, Role, SetupError};
use crate::payload::{fill, Content, Ledger};
use crate::peer::{Peer, GARBAGE_RECORD};
use crate::scenario::{Api, ClauseId, RunKey, Scenario, Step};
use crate::sessions::{self, SessionPool};
use crate::transport::{Pipe, PipeConfig, Side, TransportKind};

mod checks;
mod finish;
mod step;
mod write;

pub use self::checks::{concerned_clause, CheckContext};
use crate::trace::CallLog;
pub use crate::trace::{
    micros, Actor, RunStatus, StepRecord, Timing, TimingCause, Trace, Violation, Wire,
    MAX_CALLS_KEPT,
};

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
    let empty = Trace::empty;
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
    let peer = match Peer::new(
        reference,
        (&cfg, &scenario.connection.peer),
        &pipe,
        ledger.clone(),
        peer_session,
    ) {
        Ok(p) => Rc::new(RefCell::new(p)),
        Err(e) => return empty(setup(e, "peer")),
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
        timing_now: None,
        timing_short: false,
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
    /// The step being played made a write whose count the kernel's timing decided
    /// (`note_timing`); becomes the step record's [`Timing`].
    timing_now: Option<TimingCause>,
    /// A marked step's count stopped short of what it was asked (see `play`).
    timing_short: bool,
    observer: Option<&'a dyn Fn(StepEvent<'_>)>,
    /// What the implementation had sent to the peer when its first shutdown succeeded.
    close_notify_at: Option<u64>,
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

    /// What of step record `rec` (asked to write `len`) depends on kernel timing, from what the
    /// writes saw (`note_timing`): over TCP, a write loop that wrote all it was asked marks
    /// only its calls, whether or not one of them met a full buffer (that too is timing); any
    /// other write that the kernel stopped short or blocked marks its counts, and a count short
    /// of what it was asked is then in the confirmed total (`timing_short`).
    fn timing_cause(
        &mut self,
        step: &Step,
        rec: &StepRecord,
        len: Option<u64>,
    ) -> Option<TimingCause> {
        let seen = self.timing_now.take();
        if self.pipe.kind() != TransportKind::Tcp || rec.actor != Actor::Impl {
            return None;
        }
        let asked = len.unwrap_or(0);
        let looped = matches!(step, Step::WriteAll { .. } | Step::WriteStream { .. });
        let complete = rec
            .call
            .as_ref()
            .is_some_and(|c| c.outcome == Outcome::Ok(asked));
        if looped && complete {
            return Some(TimingCause::WriteLoop);
        }
        let counted = |c: &Call| matches!(c.outcome, Outcome::Ok(n) if n < asked);
        if seen.is_some() {
            self.timing_short |=
                rec.call.as_ref().is_some_and(counted) || rec.bytes.is_some_and(|b| b < asked);
        }
        seen
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
            let mut rec = StepRecord::new(i, step);
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
            if let Some(cause) = self.timing_cause(step, &rec, len) {
                rec.timing = Some(Timing {
                    transport: self.pipe.kind(),
                    cause,
                });
            }
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
}
