//! Crash and hang isolation: each run plays in a worker process (the harness binary itself,
//! `sslwrite worker`), so a segfault, an abort or a call that never returns costs that run
//! only. The report stays complete: such a run gets status `crash` (signal name, the step it
//! had begun, its stderr's tail) or `timeout`, with an I4 violation, and a fresh worker takes
//! the next run.
//!
//! Protocol (one JSON value per line): the parent sends `{"scenario": {"index", "scenario"}}`
//! once per scenario and worker, then `{"run": {"scenario", "key", "implementation",
//! "transport"}}`; the worker answers each run with its [`Trace`]. While it plays, the worker
//! appends its progress to a file the parent reads only after a death: `B i` when step `i`
//! begins, `R {step record}` when it ends (no pipe traffic, no wake-up per step). The worker's
//! stderr goes to a file too; the tail of what one run wrote is kept.
//!
//! A loaded library (`libssl:PATH`, `wolfssl:PATH`) is loaded only in workers of its own (one
//! library per worker process; the parent asks a worker to `describe` it rather than loading
//! it).
//!
//! Workers are reused across runs (one per job thread), started in a process group of their
//! own (a terminal's Ctrl-C reaches only the parent, which then ends them), and exit when their
//! stdin closes or their parent is gone.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Seek, Write};
use std::os::unix::fs::FileExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::contract::{Call, ImplInfo, Implementation, Outcome};
use crate::impls;
use crate::runner::{self, RunOptions, StepEvent};
use crate::scenario::{RunKey, Scenario};
use crate::trace::{RunStatus, StepRecord, Trace};
use crate::transport::TransportKind;

/// The default per-run time limit (`--timeout`): far above any run of the suite (the slowest
/// take well under a second), low enough that a hang costs little.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Most of one run's stderr kept on disk: a library that floods stderr has the older part
/// dropped (a line says how much) while the run goes on, so the temporary folder stays small.
pub const STDERR_CAP: u64 = 8 << 20;

/// How much of a dead worker's stderr a run keeps.
const STDERR_TAIL: usize = 2000;

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum ToWorker {
    Scenario {
        index: usize,
        scenario: Box<Scenario>,
    },
    Run(RunRequest),
    /// Build this implementation and answer with its [`Described`] (a `libssl:` library is
    /// only ever loaded in a worker: the parent learns its version this way).
    Describe {
        implementation: String,
    },
}

/// The answer to [`ToWorker::Describe`].
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Described {
    Info(Box<ImplInfo>),
    Error(String),
}

/// Which worker processes may play runs of `name`: a loaded library (`libssl:`, `wolfssl:`)
/// gets workers of its own (two loaded libraries never share an address space); everything
/// else shares.
fn host_of(name: &str) -> String {
    if impls::is_loaded(name) {
        name.to_string()
    } else {
        String::new()
    }
}

#[derive(Serialize, Deserialize)]
struct RunRequest {
    scenario: usize,
    key: RunKey,
    implementation: String,
    transport: TransportKind,
    /// The peer's implementation (`--peer`), by the same names as `implementation`.
    #[serde(default = "default_peer")]
    peer: String,
}

/// The peer when none is named: the linked OpenSSL.
pub fn default_peer() -> String {
    impls::openssl::OpensslImpl::NAME.to_string()
}

/// The worker host of a run of `name` against `peer`: a loaded library's own (the
/// implementation's, else the peer's), or the shared one.
fn host_with_peer(name: &str, peer: &str) -> String {
    match host_of(name) {
        h if h.is_empty() => host_of(peer),
        h => h,
    }
}

/// `sslwrite worker --progress PATH`: plays runs sent on stdin until it closes. Returns the
/// process exit status.
pub fn worker_main(progress: &Path) -> u8 {
    let parent = std::os::unix::process::parent_id();
    std::thread::spawn(move || loop {
        // Orphaned (the harness was killed): nobody will read the answer.
        if std::os::unix::process::parent_id() != parent {
            std::process::exit(3);
        }
        std::thread::sleep(Duration::from_millis(200));
    });
    let progress = match File::create(progress) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("sslwrite worker: cannot create {}: {e}", progress.display());
            return 2;
        }
    };
    let reference = impls::openssl::OpensslImpl::new();
    let mut scenarios: HashMap<usize, Scenario> = HashMap::new();
    let mut built: HashMap<String, Box<dyn Implementation>> = HashMap::new();
    let stdin = io::stdin().lock();
    let mut out = BufWriter::new(io::stdout().lock());
    for line in stdin.lines() {
        let Ok(line) = line else { return 2 };
        let msg: ToWorker = match serde_json::from_str(&line) {
            Ok(m) => m,
            Err(e) => {
                eprintln!("sslwrite worker: bad request: {e}");
                return 2;
            }
        };
        let req = match msg {
            ToWorker::Scenario { index, scenario } => {
                scenarios.insert(index, *scenario);
                continue;
            }
            ToWorker::Run(r) => r,
            ToWorker::Describe { implementation } => {
                let answer = match build(&mut built, &implementation) {
                    Ok(()) => Described::Info(Box::new(built[&implementation].info())),
                    Err(e) => Described::Error(e),
                };
                let sent = serde_json::to_writer(&mut out, &answer)
                    .map_err(io::Error::from)
                    .and_then(|()| out.write_all(b"\n"))
                    .and_then(|()| out.flush());
                if sent.is_err() {
                    return 2;
                }
                continue;
            }
        };
        let Some(scenario) = scenarios.get(&req.scenario) else {
            eprintln!("sslwrite worker: scenario {} was never sent", req.scenario);
            return 2;
        };
        if let Err(e) = build(&mut built, &req.implementation) {
            eprintln!("sslwrite worker: {e}");
            return 2;
        }
        if req.peer != default_peer() {
            if let Err(e) = build(&mut built, &req.peer) {
                eprintln!("sslwrite worker: peer {e}");
                return 2;
            }
        }
        let imp = built[&req.implementation].as_ref();
        let peer: &dyn Implementation = match built.get(&req.peer) {
            Some(p) if req.peer != default_peer() => p.as_ref(),
            _ => &reference,
        };
        let _ = progress.set_len(0);
        let at = std::cell::Cell::new(0u64);
        let note = |text: String| {
            let _ = progress.write_all_at(text.as_bytes(), at.get());
            at.set(at.get() + text.len() as u64);
        };
        let observer = |e: StepEvent<'_>| match e {
            StepEvent::Begin(i) => note(format!("B {i}\n")),
            StepEvent::End(rec) => {
                if let Ok(json) = serde_json::to_string(rec) {
                    note(format!("R {json}\n"));
                }
            }
        };
        let opts = RunOptions {
            transport: req.transport,
            observer: Some(&observer),
            sessions: None,
        };
        let trace = runner::run_with(imp, peer, scenario, &req.key, &opts);
        let sent = serde_json::to_writer(&mut out, &trace)
            .map_err(io::Error::from)
            .and_then(|()| out.write_all(b"\n"))
            .and_then(|()| out.flush());
        if sent.is_err() {
            return 2;
        }
    }
    0
}

/// Builds `name` into `built` once. A worker hosts at most one loaded library (`libssl:`,
/// `wolfssl:`), with any of the built-in implementations.
fn build(built: &mut HashMap<String, Box<dyn Implementation>>, name: &str) -> Result<(), String> {
    if built.contains_key(name) {
        return Ok(());
    }
    // Two loaded libraries never share a worker; the built-in ones go with either (a loaded
    // `--peer` plays against them in the loaded library's workers).
    if let Some(other) = built.keys().find(|k| {
        host_of(k) != host_of(name) && !host_of(k).is_empty() && !host_of(name).is_empty()
    }) {
        return Err(format!(
            "this worker hosts {other}; {name} needs a worker of its own"
        ));
    }
    built.insert(name.to_string(), impls::by_name(name)?);
    Ok(())
}

/// Builds the implementation `spec` in a worker process and returns its description: how the
/// parent learns what a `libssl:` library is (its version, build, missing symbols) without
/// loading it itself. `Err` has the reason it cannot be used (refused, or its worker died).
pub fn describe(iso: &Isolation, spec: &str) -> Result<ImplInfo, String> {
    let dir = TempDir::new().map_err(|e| format!("cannot create a folder for a worker: {e}"))?;
    let mut w = Worker::start(iso, &dir.0, 0)
        .map_err(|e| format!("cannot start a worker ({}): {e}", iso.exe.display()))?;
    let msg = ToWorker::Describe {
        implementation: spec.to_string(),
    };
    let answer = match w.send(&msg) {
        Ok(()) => w.answers.recv_timeout(iso.timeout).ok(),
        Err(_) => None,
    };
    let Some(line) = answer else {
        w.kill();
        let how = match w.child.try_wait() {
            Ok(Some(s)) => match s.signal() {
                Some(sig) => format!("was killed by {}", crate::sys::signal_name(sig)),
                None => format!("exited with {s}"),
            },
            _ => "did not answer in time".to_string(),
        };
        let tail = w.stderr_tail().unwrap_or_default();
        return Err(format!("{spec}: the worker loading it {how}. {tail}")
            .trim()
            .to_string());
    };
    w.finish();
    match serde_json::from_str(&line) {
        Ok(Described::Info(info)) => Ok(*info),
        Ok(Described::Error(e)) => Err(e),
        Err(e) => Err(format!(
            "{spec}: the worker's answer is not a description: {e}"
        )),
    }
}

/// How runs are isolated.
#[derive(Clone, Debug)]
pub struct Isolation {
    /// The harness binary (it has the hidden `worker` subcommand).
    pub exe: PathBuf,
    /// A run that takes longer is killed and gets `timeout`.
    pub timeout: Duration,
}

/// Why a run has no trace of its own.
enum Lost {
    /// The worker died (signal name, or exit status) or broke the protocol.
    Crash {
        signal: Option<String>,
        message: String,
    },
    Timeout,
    /// The harness is stopping (SIGINT/SIGTERM): the run is dropped, not judged.
    Stopped,
}

struct Worker {
    child: Child,
    stdin: BufWriter<ChildStdin>,
    answers: mpsc::Receiver<String>,
    progress: PathBuf,
    stderr: File,
    /// Where the current run's stderr starts.
    stderr_mark: u64,
    /// What [`Worker::cap_stderr`] dropped of the current run's stderr.
    stderr_dropped: u64,
    sent: HashSet<usize>,
}

impl Worker {
    fn start(iso: &Isolation, dir: &Path, n: usize) -> io::Result<Worker> {
        let progress = dir.join(format!("progress-{n}"));
        let stderr_path = dir.join(format!("stderr-{n}"));
        let stderr = File::options()
            .create(true)
            .append(true)
            .read(true)
            .open(&stderr_path)?;
        let mut child = Command::new(&iso.exe)
            .arg("worker")
            .arg("--progress")
            .arg(&progress)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr.try_clone()?)
            .process_group(0)
            .spawn()?;
        let stdin = BufWriter::new(child.stdin.take().expect("piped stdin"));
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, answers) = mpsc::channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            loop {
                let mut line = String::new();
                match r.read_line(&mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        if tx.send(line).is_err() {
                            break;
                        }
                    }
                }
            }
        });
        let stderr_mark = stderr.metadata().map_or(0, |m| m.len());
        Ok(Worker {
            child,
            stdin,
            answers,
            progress,
            stderr,
            stderr_mark,
            stderr_dropped: 0,
            sent: HashSet::new(),
        })
    }

    fn send(&mut self, msg: &ToWorker) -> io::Result<()> {
        serde_json::to_writer(&mut self.stdin, msg)?;
        self.stdin.write_all(b"\n")?;
        self.stdin.flush()
    }

    /// Plays one run; `Err` when the worker cannot answer (it is then finished).
    fn run(
        &mut self,
        index: usize,
        scenario: &Scenario,
        req: RunRequest,
        timeout: Duration,
    ) -> Result<Trace, Lost> {
        self.stderr_mark = self.stderr.metadata().map_or(0, |m| m.len());
        self.stderr_dropped = 0;
        if self.stderr_mark > 1 << 20 {
            // Idle worker, append-mode file: safe to start it over.
            let _ = self.stderr.set_len(0);
            self.stderr_mark = 0;
        }
        // The worker is idle: clear its progress, so that a death before it begins cannot
        // show the previous run's steps.
        let _ = File::options()
            .write(true)
            .open(&self.progress)
            .and_then(|f| f.set_len(0));
        let mut sent = Ok(());
        if !self.sent.contains(&index) {
            sent = self.send(&ToWorker::Scenario {
                index,
                scenario: Box::new(scenario.clone()),
            });
            self.sent.insert(index);
        }
        if sent.is_ok() {
            sent = self.send(&ToWorker::Run(req));
        }
        let deadline = Instant::now() + timeout;
        if sent.is_ok() {
            loop {
                if crate::sys::stop_requested().is_some() {
                    return Err(Lost::Stopped);
                }
                let now = Instant::now();
                if now >= deadline {
                    return Err(Lost::Timeout);
                }
                let slice = (deadline - now).min(Duration::from_millis(50));
                match self.answers.recv_timeout(slice) {
                    Ok(line) => {
                        return serde_json::from_str(&line).map_err(|e| Lost::Crash {
                            signal: None,
                            message: format!("the worker's answer is not a trace: {e}"),
                        })
                    }
                    Err(mpsc::RecvTimeoutError::Timeout) => self.cap_stderr(),
                    Err(mpsc::RecvTimeoutError::Disconnected) => break,
                }
            }
        }
        // The worker is gone (or cannot be written to): how did it end?
        let status = match self.child.wait() {
            Ok(s) => s,
            Err(e) => {
                return Err(Lost::Crash {
                    signal: None,
                    message: format!("the worker could not be waited for: {e}"),
                })
            }
        };
        Err(match status.signal() {
            Some(sig) => {
                let name = crate::sys::signal_name(sig);
                Lost::Crash {
                    message: format!("the worker was killed by {name}"),
                    signal: Some(name),
                }
            }
            None => Lost::Crash {
                signal: None,
                message: format!("the worker exited with {status} before answering"),
            },
        })
    }

    /// The steps the run got through (from the progress file) and the one it had begun.
    fn progress(&self) -> (Vec<StepRecord>, Option<usize>) {
        let text = std::fs::read_to_string(&self.progress).unwrap_or_default();
        let mut steps = Vec::new();
        let mut begun = None;
        for line in text.lines() {
            if let Some(i) = line.strip_prefix("B ") {
                begun = i.parse().ok();
            } else if let Some(json) = line.strip_prefix("R ") {
                if let Ok(r) = serde_json::from_str::<StepRecord>(json) {
                    steps.push(r);
                }
            }
        }
        (steps, begun)
    }

    /// Drops what the worker wrote to stderr during this run beyond [`STDERR_CAP`]: the file
    /// starts over where the run began (the worker appends, so its next write lands at the new
    /// end); the tail the report keeps says how much went.
    fn cap_stderr(&mut self) {
        let len = self.stderr.metadata().map_or(0, |m| m.len());
        if len.saturating_sub(self.stderr_mark) <= STDERR_CAP {
            return;
        }
        if self.stderr.set_len(self.stderr_mark).is_ok() {
            self.stderr_dropped += len - self.stderr_mark;
        }
    }

    /// The end of what the worker wrote to stderr during the current run.
    fn stderr_tail(&mut self) -> Option<String> {
        let len = self.stderr.metadata().ok()?.len();
        let from = self.stderr_mark.max(len.saturating_sub(STDERR_TAIL as u64));
        self.stderr.seek(io::SeekFrom::Start(from)).ok()?;
        let mut bytes = Vec::new();
        self.stderr.read_to_end(&mut bytes).ok()?;
        let mut text = String::from_utf8_lossy(&bytes).trim().to_string();
        if self.stderr_dropped > 0 {
            text = format!(
                "[sslwrite: {} MiB of this run's stderr dropped: at most {} MiB is kept]\n{text}",
                self.stderr_dropped >> 20,
                STDERR_CAP >> 20
            );
        }
        (!text.is_empty()).then_some(text)
    }

    /// Ends the worker now (it hangs, or the harness stops).
    /// Kills the worker and its process group: a library's forked children go with it.
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        crate::sys::kill_process_group(self.child.id());
    }

    /// Ends an idle worker: stdin closes, it exits.
    fn finish(mut self) {
        let _ = self.stdin.flush();
        drop(self.stdin);
        let deadline = Instant::now() + Duration::from_secs(2);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                // What the worker's libraries started ends with it.
                crate::sys::kill_process_group(self.child.id());
                return;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        crate::sys::kill_process_group(self.child.id());
    }
}

/// The trace of a run whose worker crashed or hung: the steps it finished, the step it was in
/// (its call's outcome `crash(SIGNAL)` or `timeout`), and an I4 violation.
fn lost_trace(
    scenario: &Scenario,
    steps: Vec<StepRecord>,
    begun: Option<usize>,
    status: RunStatus,
    outcome: Outcome,
    detail: String,
) -> Trace {
    let mut steps = steps;
    if let Some(i) = begun {
        let recorded = steps.last().map(|r| r.index);
        if recorded < Some(i) {
            if let Some(step) = scenario.steps.get(i) {
                steps.push(StepRecord::with_call(i, step, Call::new(outcome, 0)));
            }
        }
    }
    Trace::lost(status, steps, begun, detail)
}

/// A folder for the workers' progress and stderr files, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> io::Result<TempDir> {
        static N: AtomicUsize = AtomicUsize::new(0);
        loop {
            let p = std::env::temp_dir().join(format!(
                "sslwrite-workers-{}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            ));
            match std::fs::create_dir(&p) {
                Ok(()) => return Ok(TempDir(p)),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Plays `runs` on the implementations called `names` in worker processes, `jobs` at a time.
/// Traces in (run, implementation) order; a run is `None` when the harness was stopped
/// (SIGINT/SIGTERM) before all of its implementations finished. `Err` only when no worker can
/// be started at all.
pub fn play(
    runs: &[(&Scenario, RunKey)],
    names: &[String],
    transport: TransportKind,
    iso: &Isolation,
    jobs: usize,
    on_done: &(dyn Fn() + Sync),
) -> io::Result<Vec<Option<Vec<Trace>>>> {
    play_against(runs, names, &default_peer(), transport, iso, jobs, on_done)
}

/// [`play`] with another peer (`--peer`): `peer` by the names `--impl` takes. A loaded peer
/// library shares its workers with the implementations that are not loaded ones, or with
/// itself; never with another loaded library (the caller refuses that pairing).
#[allow(clippy::too_many_arguments)]
pub fn play_against(
    runs: &[(&Scenario, RunKey)],
    names: &[String],
    peer: &str,
    transport: TransportKind,
    iso: &Isolation,
    jobs: usize,
    on_done: &(dyn Fn() + Sync),
) -> io::Result<Vec<Option<Vec<Trace>>>> {
    let dir = TempDir::new()?;
    let n = runs.len() * names.len();
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Trace>>> = Mutex::new(vec![None; n]);
    let started = AtomicUsize::new(0);
    let failure: Mutex<Option<io::Error>> = Mutex::new(None);
    let give_up = AtomicBool::new(false);
    // Heaviest runs first, as in suite::play_with, so that no worker is left with a long tail.
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(runs[i / names.len()].0.weight()));
    // Scenario indices for the protocol: by address, so each is sent once per worker.
    let index_of = |s: &Scenario| -> usize {
        runs.iter()
            .position(|(x, _)| std::ptr::eq(*x, s))
            .unwrap_or(0)
    };
    std::thread::scope(|scope| {
        for _ in 0..jobs.max(1).min(n.max(1)) {
            scope.spawn(|| {
                // One worker per host (see `host_of`), started when first needed.
                let mut workers: HashMap<String, Worker> = HashMap::new();
                loop {
                    if crate::sys::stop_requested().is_some() || give_up.load(Ordering::Relaxed) {
                        break;
                    }
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    if k >= n {
                        break;
                    }
                    let i = order[k];
                    let (scenario, key) = &runs[i / names.len()];
                    let name = &names[i % names.len()];
                    let host = host_with_peer(name, peer);
                    if !workers.contains_key(&host) {
                        let id = started.fetch_add(1, Ordering::Relaxed);
                        match Worker::start(iso, &dir.0, id) {
                            Ok(w) => {
                                workers.insert(host.clone(), w);
                            }
                            Err(e) => {
                                *failure.lock().unwrap_or_else(|e| e.into_inner()) = Some(e);
                                give_up.store(true, Ordering::Relaxed);
                                break;
                            }
                        }
                    }
                    let w = workers.get_mut(&host).expect("started above");
                    let req = RunRequest {
                        scenario: index_of(scenario),
                        key: key.clone(),
                        implementation: name.clone(),
                        transport,
                        peer: peer.to_string(),
                    };
                    let asked = Instant::now();
                    let mut trace = match w.run(index_of(scenario), scenario, req, iso.timeout) {
                        Ok(t) => t,
                        Err(lost) => {
                            let mut w =
                                workers.remove(&host).expect("the worker that lost the run");
                            w.kill();
                            let (steps, begun) = w.progress();
                            let stderr = w.stderr_tail();
                            match lost {
                                Lost::Stopped => break,
                                Lost::Timeout => {
                                    let secs = iso.timeout.as_secs_f64();
                                    let message =
                                        format!("no answer within {secs} s; the worker was killed");
                                    lost_trace(
                                        scenario,
                                        steps,
                                        begun,
                                        RunStatus::Timeout {
                                            step: begun,
                                            message: message.clone(),
                                            stderr,
                                        },
                                        Outcome::Timeout,
                                        format!("the run hung: {message}"),
                                    )
                                }
                                Lost::Crash { signal, message } => lost_trace(
                                    scenario,
                                    steps,
                                    begun,
                                    RunStatus::Crash {
                                        step: begun,
                                        message: message.clone(),
                                        signal: signal.clone(),
                                        stderr,
                                    },
                                    Outcome::Crash(signal.unwrap_or_else(|| "worker died".into())),
                                    format!("crashed: {message}"),
                                ),
                            }
                        }
                    };
                    // A worker's trace says how long the run took there; a lost run's is the
                    // time until the worker died or was killed.
                    if trace.duration_us.is_none() {
                        trace.duration_us = Some(runner::micros(asked.elapsed()));
                    }
                    results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(trace);
                    on_done();
                }
                for w in workers.into_values() {
                    if crate::sys::stop_requested().is_some() {
                        let mut w = w;
                        w.kill();
                    } else {
                        w.finish();
                    }
                }
            });
        }
    });
    if let Some(e) = failure.into_inner().unwrap_or_else(|e| e.into_inner()) {
        return Err(io::Error::new(
            e.kind(),
            format!("cannot start a worker ({}): {e}", iso.exe.display()),
        ));
    }
    let flat = results.into_inner().unwrap_or_else(|e| e.into_inner());
    let mut out = Vec::with_capacity(runs.len());
    let mut it = flat.into_iter();
    for _ in runs {
        let traces: Vec<Option<Trace>> = it.by_ref().take(names.len()).collect();
        out.push(traces.into_iter().collect::<Option<Vec<Trace>>>());
    }
    Ok(out)
}
