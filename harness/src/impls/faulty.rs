//! `faulty`: a test-only implementation that crashes or hangs on purpose, to prove that worker
//! isolation survives it. Never in [`super::NAMES`] (so never in a default run); reachable only
//! by its explicit name with a fault list, e.g.
//! `--impl openssl --impl 'faulty:abort=7,segv=9,hang=11'`.
//!
//! It is the OpenSSL driver, except that a `write` or `write_ex` of exactly the listed length:
//! - `abort=N`: calls `abort()` (SIGABRT);
//! - `segv=N`: writes through a null pointer inside libcrypto (SIGSEGV);
//! - `hang=N`: never returns;
//! - `panic=N`: panics (the in-process runner catches that one);
//! - `lie=N`: the write happens, but the call reports `want_write` (with `ret` -1 and class
//!   WANT_WRITE): a library whose answer hides a success, so that a contract-following caller
//!   writes the same bytes again and again (the runner's loops must stop by themselves);
//! - `fork=N`: starts a child process (`sleep 300`) that it never waits for, as a library that
//!   forks a helper does, and writes on; the child's pid is appended to the file
//!   `SSLWRITE_FAULTY_PIDS` names, if set (the worker's process group must not outlive it);
//! - `stale=N`: the write happens, and its call reports a stale reason on the error queue
//!   (`faulty: stale error`) although it succeeded: a library that breaks W14, for the
//!   harness's `queue` comparison;
//! - `flood=N`: writes 48 MiB to stderr over about a quarter of a second, then aborts (the
//!   worker keeps at most `isolation::STDERR_CAP` of one run's stderr).
//!
//! A scenario chooses where the fault strikes by the length it writes at that step.

use crate::contract::{Call, ConnConfig, Connection, ImplInfo, Implementation, Modes, SetupError};
use crate::transport::Endpoint;

use super::openssl::OpensslImpl;

/// What a `stale` fault leaves on the queue.
pub const STALE_REASON: &str = "faulty: stale error";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    Abort,
    Segv,
    Hang,
    Panic,
    Lie,
    Fork,
    Flood,
    Stale,
}

pub struct FaultyImpl {
    inner: OpensslImpl,
    spec: String,
    faults: Vec<(usize, Fault)>,
}

impl FaultyImpl {
    pub const NAME: &'static str = "faulty";

    /// Parses `faulty:KIND=LEN,...`.
    pub fn parse(name: &str) -> Result<FaultyImpl, String> {
        let usage =
            "faulty:KIND=LEN[,KIND=LEN...] with KIND abort, segv, hang, panic, lie, stale, fork or flood";
        let spec = name
            .strip_prefix("faulty:")
            .ok_or_else(|| format!("{name:?}: expected {usage}"))?;
        let mut faults = Vec::new();
        for part in spec.split(',') {
            let (kind, len) = part
                .split_once('=')
                .ok_or_else(|| format!("{part:?} in {name:?}: expected {usage}"))?;
            let fault = match kind {
                "abort" => Fault::Abort,
                "segv" => Fault::Segv,
                "hang" => Fault::Hang,
                "panic" => Fault::Panic,
                "lie" => Fault::Lie,
                "fork" => Fault::Fork,
                "flood" => Fault::Flood,
                "stale" => Fault::Stale,
                other => return Err(format!("unknown fault {other:?} in {name:?}: {usage}")),
            };
            let len = len
                .parse()
                .map_err(|_| format!("{len:?} in {name:?} is not a length: {usage}"))?;
            faults.push((len, fault));
        }
        Ok(FaultyImpl {
            inner: OpensslImpl::new(),
            spec: spec.to_string(),
            faults,
        })
    }
}

impl Implementation for FaultyImpl {
    fn info(&self) -> ImplInfo {
        ImplInfo {
            name: Self::NAME.to_string(),
            family: "openssl".into(),
            version: format!(
                "{} with faults {} (test only)",
                self.inner.info().version,
                self.spec
            ),
            library: None,
        }
    }

    fn connect(&self, cfg: &ConnConfig, io: Endpoint) -> Result<Box<dyn Connection>, SetupError> {
        Ok(Box::new(FaultyConn {
            inner: self.inner.connect(cfg, io)?,
            faults: self.faults.clone(),
        }))
    }
}

struct FaultyConn {
    inner: Box<dyn Connection>,
    faults: Vec<(usize, Fault)>,
}

impl FaultyConn {
    fn strike(&self, len: usize) {
        let fault = self.faults.iter().find(|(l, _)| *l == len).map(|(_, f)| *f);
        if let Some(f) = fault {
            // What a failing C library leaves on stderr before it dies (the report keeps it).
            eprintln!("faulty: {f:?} on a write of {len} bytes");
        }
        match fault {
            Some(Fault::Abort) => std::process::abort(),
            // SAFETY: not safe, on purpose: a segfault that ends this worker process is the
            // fault this test-only implementation exists to produce.
            Some(Fault::Segv) => unsafe { crate::sys::segfault_in_c() },
            Some(Fault::Hang) => loop {
                std::thread::sleep(std::time::Duration::from_secs(3600));
            },
            Some(Fault::Panic) => panic!("faulty: panic on a write of {len} bytes"),
            Some(Fault::Fork) => fork_a_sleeper(),
            Some(Fault::Flood) => {
                use std::io::Write as _;
                let chunk = vec![b'x'; 1 << 20];
                let mut err = std::io::stderr().lock();
                for _ in 0..48 {
                    let _ = err.write_all(&chunk);
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
                let _ = writeln!(err, "\nfaulty: flooded stderr");
                std::process::abort()
            }
            Some(Fault::Lie) | Some(Fault::Stale) | None => {}
        }
    }

    /// A `lie` fault: the call's success reported as a retry.
    fn maybe_lie(&self, len: usize, mut call: Call) -> Call {
        if self.faults.contains(&(len, Fault::Lie)) && call.outcome.is_ok() {
            call.outcome = crate::contract::Outcome::WantWrite;
            call.ret = -1;
            call.error_class = Some(3);
        }
        if self.faults.contains(&(len, Fault::Stale)) && call.outcome.is_ok() {
            call.errors.push(STALE_REASON.to_string());
        }
        call
    }
}

impl Connection for FaultyConn {
    fn handshake(&mut self) -> Call {
        self.inner.handshake()
    }
    fn write(&mut self, buf: &[u8]) -> Call {
        self.strike(buf.len());
        let call = self.inner.write(buf);
        self.maybe_lie(buf.len(), call)
    }
    fn write_ex(&mut self, buf: &[u8]) -> Call {
        self.strike(buf.len());
        let call = self.inner.write_ex(buf);
        self.maybe_lie(buf.len(), call)
    }
    fn write_negative(&mut self, num: i32) -> Call {
        self.inner.write_negative(num)
    }
    fn read(&mut self, buf: &mut [u8]) -> Call {
        self.inner.read(buf)
    }
    fn shutdown(&mut self) -> Call {
        self.inner.shutdown()
    }
    fn key_update(&mut self, requested: bool) -> Call {
        self.inner.key_update(requested)
    }
    fn renegotiate(&mut self) -> Call {
        self.inner.renegotiate()
    }
    fn new_session_ticket(&mut self) -> Call {
        self.inner.new_session_ticket()
    }
    fn error_again(&mut self) -> Call {
        self.inner.error_again()
    }
    fn dirty_error_queue(&mut self) -> Call {
        self.inner.dirty_error_queue()
    }
    fn set_modes(&mut self, modes: Modes) -> Call {
        self.inner.set_modes(modes)
    }
    fn handshake_done(&self) -> bool {
        self.inner.handshake_done()
    }
}

/// The `fork` fault: a child process this one never waits for.
fn fork_a_sleeper() {
    let child = std::process::Command::new("sleep")
        .arg("300")
        .stdin(std::process::Stdio::null())
        .spawn();
    if let (Ok(child), Some(file)) = (child, std::env::var_os("SSLWRITE_FAULTY_PIDS")) {
        use std::io::Write as _;
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(file)
        {
            let _ = writeln!(f, "{}", child.id());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fault_list_parses_and_bad_ones_are_refused() {
        let f = FaultyImpl::parse("faulty:abort=7,segv=9,hang=11,panic=13,stale=15").unwrap();
        assert_eq!(
            f.faults,
            vec![
                (7, Fault::Abort),
                (9, Fault::Segv),
                (11, Fault::Hang),
                (13, Fault::Panic),
                (15, Fault::Stale)
            ]
        );
        assert_eq!(f.info().name, "faulty");
        let err = |s: &str| FaultyImpl::parse(s).err().expect("refused");
        assert!(err("faulty:boom=1").contains("unknown fault"));
        assert!(err("faulty:abort=x").contains("not a length"));
        assert!(err("faulty").contains("expected faulty:KIND=LEN"));
    }

    #[test]
    fn it_is_never_in_the_default_list() {
        assert!(!super::super::NAMES.contains(&FaultyImpl::NAME));
    }
}
