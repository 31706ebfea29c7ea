//! Sessions for resumed runs: the first connection that gets one ([`prime`]) and the pool
//! the fuzzer takes them from ([`SessionPool`]).
//!
//! A run with `connection.resume` (or `early_data`) needs a client session that an earlier
//! connection of the same configuration got. Priming one costs a full handshake, so the run
//! would cost two. Resuming configurations use stateless tickets (both drivers' servers), which
//! any number of connections may resume and which no fatal alert evicts from a server cache;
//! each connection resumes its own copy of the session (a fatal alert marks a session not
//! resumable). So the pool hands one session to [`SessionPool::MAX_USES`] runs within
//! [`SessionPool::MAX_AGE`] (TLS 1.2), or to [`SessionPool::TLS13_TICKETS`] runs (TLS 1.3: a
//! rustls client spends one of its tickets per resumption, and the primed connection's server
//! issued that many). Early data is primed for each run: its tickets are single-use (0-RTT
//! anti-replay).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::contract::{Call, ConnConfig, Implementation, Modes, Role, Session, SetupError};
use crate::peer::Peer;
use crate::transport::{Pipe, PipeConfig, Side};

/// Rounds of the first connection's handshake and ticket exchange before it is given up.
const PRIMING_ROUNDS: usize = 64;

/// The first connection of an early-data run, over a roomy transport of its own: both sides
/// with the run's configuration, a full handshake, the client reads the server's tickets, both
/// send close_notify (an OpenSSL session is dropped from the server's cache if its connection
/// ends without one). Returns the client's session; on failure, who failed and why.
pub fn prime(
    imp: &dyn Implementation,
    reference: &dyn Implementation,
    cfg: &ConnConfig,
) -> Result<Session, (SetupError, &'static str)> {
    const IMPL: &str = "implementation (first connection, for a session to resume)";
    const PEER: &str = "reference peer (first connection, for a session to resume)";
    let pipe = Pipe::new(&PipeConfig {
        capacity_to_peer: 1 << 20,
        capacity_to_impl: 1 << 20,
        blocking: false,
    });
    // A pooled TLS 1.3 session is resumed by several runs; a rustls client spends one ticket
    // per resumption (it keeps up to 8), so the first connection's server sends that many.
    let mut cfg = cfg.clone();
    if cfg.resume && !cfg.early_data {
        cfg.tls13_tickets = Some(SessionPool::TLS13_TICKETS as u8);
    }
    let cfg = &cfg;
    let mut ours = imp
        .connect(cfg, pipe.endpoint(Side::Impl))
        .map_err(|e| (e, IMPL))?;
    let mut theirs = reference
        .connect(
            &Peer::config(cfg, &crate::scenario::PeerSpec::default()),
            pipe.endpoint(Side::Peer),
        )
        .map_err(|e| (e, PEER))?;
    let failed = |who, what: &str, call: &Call| {
        (
            SetupError::Failed(format!("{what}: {} {:?}", call.outcome, call.errors)),
            who,
        )
    };
    let mut rounds = 0;
    while !(ours.handshake_done() && theirs.handshake_done()) {
        rounds += 1;
        if rounds > PRIMING_ROUNDS {
            return Err((
                SetupError::Failed("the handshake did not finish".into()),
                IMPL,
            ));
        }
        for (conn, who) in [(&mut ours, IMPL), (&mut theirs, PEER)] {
            let call = conn.handshake();
            if call.outcome.is_fatal() {
                return Err(failed(who, "handshake", &call));
            }
        }
    }
    // The client takes in the tickets (and answers nothing: there is no data).
    let (client, server) = match cfg.role {
        Role::Client => ((&mut ours, IMPL), (&mut theirs, PEER)),
        Role::Server => ((&mut theirs, PEER), (&mut ours, IMPL)),
    };
    let mut byte = [0u8; 1];
    for _ in 0..2 {
        let call = client.0.read(&mut byte);
        if !call.outcome.is_retry() {
            return Err(failed(client.1, "reading the session tickets", &call));
        }
        let call = server.0.handshake();
        if call.outcome.is_fatal() {
            return Err(failed(server.1, "after the handshake", &call));
        }
    }
    for (conn, who) in [(&mut *client.0, client.1), (&mut *server.0, server.1)] {
        let call = conn.shutdown();
        if !call.outcome.is_ok() {
            return Err(failed(who, "close_notify", &call));
        }
    }
    client.0.session().map_err(|e| (e, client.1))
}

/// The pool's key: the implementation and the configuration without its modes (set per
/// connection; the session does not depend on them).
fn pool_key(imp_name: &str, cfg: &ConnConfig) -> (String, ConnConfig) {
    let mut cfg = cfg.clone();
    cfg.modes = Modes::default();
    (imp_name.to_string(), cfg)
}

/// Reused sessions, per implementation under test and configuration.
#[derive(Default)]
pub struct SessionPool {
    entries: Mutex<HashMap<(String, ConnConfig), Entry>>,
}

struct Entry {
    session: Arc<Session>,
    born: Instant,
    uses: u32,
}

impl SessionPool {
    /// Runs one pooled TLS 1.2 session serves before a fresh one is primed.
    pub const MAX_USES: u32 = 512;
    /// Tickets a primed TLS 1.3 connection gets, and runs its session serves.
    pub const TLS13_TICKETS: u32 = 8;
    /// Age after which a fresh session is primed (well inside the tickets' lifetime).
    pub const MAX_AGE: Duration = Duration::from_secs(2);

    pub fn new() -> SessionPool {
        SessionPool::default()
    }

    /// A session for a run of `imp` with `cfg`: the pooled one while it has uses left and is
    /// young, else a freshly primed one (always, for early data).
    pub fn take(
        &self,
        imp: &dyn Implementation,
        reference: &dyn Implementation,
        cfg: &ConnConfig,
    ) -> Result<Arc<Session>, (SetupError, &'static str)> {
        if cfg.early_data || !cfg.resume {
            return prime(imp, reference, cfg).map(Arc::new);
        }
        // A server run resumes the reference client's session; a client run its own.
        let uses = match cfg.role {
            Role::Client => imp.resumptions_per_session(cfg.tls),
            Role::Server => reference.resumptions_per_session(cfg.tls),
        }
        .clamp(1, Self::MAX_USES);
        let key = pool_key(&imp.info().name, cfg);
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(e) = entries.get_mut(&key) {
            if e.uses < uses && e.born.elapsed() < Self::MAX_AGE {
                e.uses += 1;
                return Ok(e.session.clone());
            }
        }
        let session = Arc::new(prime(imp, reference, cfg)?);
        entries.insert(
            key,
            Entry {
                session: session.clone(),
                born: Instant::now(),
                uses: 1,
            },
        );
        Ok(session)
    }

    /// Forgets the session of `imp` with `cfg` (a run did not resume it).
    pub fn forget(&self, imp_name: &str, cfg: &ConnConfig) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.remove(&pool_key(imp_name, cfg));
    }
}
