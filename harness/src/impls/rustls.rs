//! The `rustls` implementation: the `SSL_write` contract built on rustls 0.23's public API.
//!
//! rustls has no `SSL_write`; this driver is the write contract implemented the way a careful
//! port to rustls would, and it reports what rustls really does where rustls differs.
//!
//! | contract call | rustls mapping |
//! |---|---|
//! | `handshake` | flush `write_tls`; while `is_handshaking()`: `read_tls` + `process_new_packets`, flush. Blocked output → `want_write`; no input → `want_read`. |
//! | `write` / `write_ex` | implicit handshake first (W2). Then plaintext goes in through `writer().write` and out through `write_tls`. Success (`ok(n)`) only once the records holding those `n` bytes have left for the transport, as with OpenSSL. Partial mode commits one record's worth (the max fragment) per call. |
//! | WANT_WRITE retry | bytes that rustls accepted before the transport filled up are *committed*: the driver remembers how many, and a retry resumes after them, so nothing is sent twice or lost (I1). A retry shorter than the committed count is refused as `ssl(bad length)`. A retry from another buffer is accepted whatever the mode: rustls copies plaintext, it never holds the caller's pointer. |
//! | writes that read (W5) | not done: rustls's writer never consumes incoming records; post-handshake messages (KeyUpdate, HelloRequest, tickets) are processed on the next `read`. |
//! | `read` | `reader().read`; on `WouldBlock`: `read_tls` + `process_new_packets` + flush, again. `Ok(0)` after close_notify → `zero_return`; EOF without close_notify → `syscall`. |
//! | `shutdown` | `send_close_notify` + flush: `ok(1)` if the peer's close_notify was already received, else `ok(0)`; blocked → `want_write`. A second call waits for the peer's close_notify: `read_tls` + `process_new_packets` until it is in (`ok(1)`) or nothing more arrives (`want_read`). |
//! | `key_update(requested)` | `refresh_traffic_keys()`, which always sets update_requested; `requested = false` is `skip`. |
//! | `renegotiate`, `new_session_ticket`, negative length | `skip`: rustls never renegotiates, has no on-demand ticket API, and takes slices. |
//! | errors | a `rustls::Error` → `ssl(<its Display>)`; a transport error → `syscall`. |
//! | return values | `ret` is what an OpenSSL caller would read for the same outcome: `n` / `-1` (`write`), `1` / `0` (`write_ex`). |
//! | `session`, `resume` | an early-data or resuming client has a config of its own whose session store keeps the tickets it receives; resuming opens a client from that config (`enable_early_data` on). An early-data server announces `max_early_data_size` = 16384. |
//! | `write_early_data` | `ClientConnection::early_data().write`, then a flush; `ok(n)` with what rustls took (it may take less than asked: the rest of the early data limit). No early data possible → `ssl(early data not possible)`. |
//! | `read_early_data` | `ServerConnection::early_data().read`; nothing buffered: `read_tls` + `process_new_packets`, again; `ok(0)` (FINISH) once the handshake is done and nothing is left; `want_read` if nothing arrives. rustls does not send 0.5-RTT data (`send_half_rtt_data` off): a server write before the handshake ends is held until it does. |
//! | modes | recorded; `auto_retry` and `release_buffers` have no rustls counterpart and change nothing. |

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::sync::{Arc, Mutex};

use rustls::crypto::ring;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, ServerConfig, ServerConnection};

use crate::certs::{self, KeyType};
use crate::contract::{
    Call, ConnConfig, Connection, ImplInfo, Implementation, Modes, Outcome, Role, Session,
    SetupError, Tls, MAX_EARLY_DATA,
};
use crate::transport::Endpoint;

/// The rustls version this driver was built against (checked by a test against Cargo.lock).
pub const RUSTLS_VERSION: &str = "0.23.46";

/// TLS record header size; rustls's `max_fragment_size` counts it.
const RECORD_HEADER: usize = 5;
const MAX_FRAGMENT: usize = 16384;

pub struct RustlsImpl {
    configs: Mutex<HashMap<CfgKey, Cfg>>,
    /// One ticket key for every server config of this implementation: a session primed with
    /// one config (8 tickets) is resumed under another (none), as with OpenSSL's one context.
    ticketer: Mutex<Option<Arc<dyn rustls::server::ProducesTickets>>>,
}

/// Role, version, max fragment, early data, resumption, TLS 1.3 tickets, and a server's key
/// type and the groups: what a rustls config depends on.
type CfgKey = (
    Role,
    Tls,
    Option<u16>,
    bool,
    bool,
    Option<u8>,
    (KeyType, Option<String>),
);

#[derive(Clone)]
enum Cfg {
    Client(Arc<ClientConfig>),
    Server(Arc<ServerConfig>),
}

impl RustlsImpl {
    pub const NAME: &'static str = "rustls";

    pub fn new() -> RustlsImpl {
        RustlsImpl {
            configs: Mutex::new(HashMap::new()),
            ticketer: Mutex::new(None),
        }
    }

    fn ticketer(&self) -> Result<Arc<dyn rustls::server::ProducesTickets>, rustls::Error> {
        let mut t = self.ticketer.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(t) = t.as_ref() {
            return Ok(t.clone());
        }
        let made = ring::Ticketer::new()?;
        *t = Some(made.clone());
        Ok(made)
    }

    fn config(&self, cfg: &ConnConfig) -> Result<Cfg, SetupError> {
        let key = (
            cfg.role,
            cfg.tls,
            cfg.max_send_fragment,
            cfg.early_data,
            cfg.resume,
            cfg.tls13_tickets,
            (
                if cfg.role == Role::Server {
                    cfg.key
                } else {
                    KeyType::Ed25519
                },
                cfg.groups.clone(),
            ),
        );
        let mut cache = self.configs.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = cache.get(&key) {
            return Ok(c.clone());
        }
        let groups = match &key.6 .1 {
            Some(list) => Some(kx_groups(list)?),
            None => None,
        };
        let server = certs::server_for(key.6 .0).map_err(SetupError::Failed)?;
        let c = self
            .ticketer()
            .and_then(|t| build_config(key.clone(), (server, groups), t))
            .map_err(|e| SetupError::Failed(format!("rustls config: {e}")))?;
        cache.insert(key, c.clone());
        Ok(c)
    }
}

impl Default for RustlsImpl {
    fn default() -> Self {
        Self::new()
    }
}

/// The ring provider's key exchange groups named by an OpenSSL-style list (`X25519:P-256`),
/// in its order. A name ring does not have makes the run `skip`.
fn kx_groups(list: &str) -> Result<Vec<&'static dyn rustls::crypto::SupportedKxGroup>, SetupError> {
    list.split(':')
        .map(|name| {
            let g: &'static dyn rustls::crypto::SupportedKxGroup = match name {
                "X25519" | "x25519" => ring::kx_group::X25519,
                "P-256" | "prime256v1" | "secp256r1" => ring::kx_group::SECP256R1,
                "P-384" | "secp384r1" => ring::kx_group::SECP384R1,
                other => {
                    return Err(SetupError::Unsupported(format!(
                        "rustls (ring) has no key exchange group {other:?} (it has X25519, P-256, P-384)"
                    )))
                }
            };
            Ok(g)
        })
        .collect()
}

#[allow(clippy::type_complexity)]
fn build_config(
    (role, tls, frag, early_data, resume, tickets, _): CfgKey,
    (server, groups): (
        &certs::ServerCert,
        Option<Vec<&'static dyn rustls::crypto::SupportedKxGroup>>,
    ),
    ticketer: Arc<dyn rustls::server::ProducesTickets>,
) -> Result<Cfg, rustls::Error> {
    let pki = certs::pki();
    let mut provider = ring::default_provider();
    if let Some(g) = groups {
        provider.kx_groups = g;
    }
    let provider = Arc::new(provider);
    let version: &'static rustls::SupportedProtocolVersion = match tls {
        Tls::V12 => &rustls::version::TLS12,
        Tls::V13 => &rustls::version::TLS13,
    };
    let max_fragment_size = frag.map(|f| usize::from(f) + RECORD_HEADER);
    Ok(match role {
        Role::Client => {
            let mut roots = RootCertStore::empty();
            roots.add(CertificateDer::from(pki.ca_der.clone()))?;
            let mut c = ClientConfig::builder_with_provider(provider)
                .with_protocol_versions(&[version])?
                .with_root_certificates(roots)
                .with_no_client_auth();
            c.max_fragment_size = max_fragment_size;
            // Runs share this config; a session cached by one run must not turn the next
            // run's handshake into a resumption (results would depend on run order).
            c.resumption = rustls::client::Resumption::disabled();
            Cfg::Client(Arc::new(c))
        }
        Role::Server => {
            let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server.key_der.clone()));
            let chain = vec![CertificateDer::from(server.cert_der.clone())];
            let mut c = ServerConfig::builder_with_provider(provider)
                .with_protocol_versions(&[version])?
                .with_no_client_auth()
                .with_single_cert(chain, key)?;
            c.max_fragment_size = max_fragment_size;
            if early_data {
                // Announced in the tickets; the default stateful session cache gives each
                // ticket out once, as 0-RTT anti-replay asks.
                c.max_early_data_size = MAX_EARLY_DATA;
            }
            if resume {
                // Stateless tickets, as the OpenSSL driver's resuming contexts: any number of
                // connections may resume one (the stateful cache gives a TLS 1.3 ticket once).
                c.ticketer = ticketer;
            }
            if let Some(n) = tickets {
                c.send_tls13_tickets = usize::from(n);
            }
            Cfg::Server(Arc::new(c))
        }
    })
}

impl Implementation for RustlsImpl {
    fn info(&self) -> ImplInfo {
        ImplInfo {
            name: Self::NAME.to_string(),
            version: format!("rustls {RUSTLS_VERSION} (ring)"),
            family: "rustls".into(),
            library: None,
        }
    }

    fn connect(&self, cfg: &ConnConfig, io: Endpoint) -> Result<Box<dyn Connection>, SetupError> {
        self.open(cfg, io, None)
    }

    fn resume(
        &self,
        cfg: &ConnConfig,
        io: Endpoint,
        session: &Session,
    ) -> Result<Box<dyn Connection>, SetupError> {
        let c = session.get::<Arc<ClientConfig>>().ok_or_else(|| {
            SetupError::Failed("the session to resume is not a rustls client's".into())
        })?;
        self.open(cfg, io, Some(c.clone()))
    }

    /// A rustls client spends one TLS 1.3 ticket per resumption, and the first connection's
    /// server issued [`SessionPool::TLS13_TICKETS`](crate::sessions::SessionPool::TLS13_TICKETS).
    fn resumptions_per_session(&self, tls: Tls) -> u32 {
        match tls {
            Tls::V12 => crate::sessions::SessionPool::MAX_USES,
            Tls::V13 => crate::sessions::SessionPool::TLS13_TICKETS,
        }
    }
}

impl RustlsImpl {
    /// Opens a connection; `resume` is the client config (with its own session store) of an
    /// earlier connection whose session this one resumes.
    fn open(
        &self,
        cfg: &ConnConfig,
        io: Endpoint,
        resume: Option<Arc<ClientConfig>>,
    ) -> Result<Box<dyn Connection>, SetupError> {
        if !cfg.set_state {
            return Err(SetupError::Unsupported(
                "a rustls connection always has a role; 'neither connect nor accept state' cannot be expressed".into(),
            ));
        }
        if cfg.cipher.is_some() || cfg.no_encrypt_then_mac {
            return Err(SetupError::Unsupported(
                "rustls implements only AEAD cipher suites; OpenSSL cipher lists and encrypt-then-MAC do not apply".into(),
            ));
        }
        if cfg.max_fragment_length.is_some() && cfg.role == Role::Client {
            return Err(SetupError::Unsupported(
                "rustls does not implement the max_fragment_length extension (RFC 6066)".into(),
            ));
        }
        if cfg.block_padding.is_some() {
            return Err(SetupError::Unsupported(
                "rustls has no TLS 1.3 record padding option".into(),
            ));
        }
        let mut own_config = None;
        let conn: rustls::Connection = match self.config(cfg)? {
            Cfg::Client(shared) => {
                // An early-data client gets a config of its own, with a session store only it
                // uses: the ticket it receives is resumed by the run's connection, never by
                // another run's.
                let c = match resume {
                    Some(c) => c,
                    None if cfg.early_data || cfg.resume => {
                        let mut c = (*shared).clone();
                        c.resumption = rustls::client::Resumption::in_memory_sessions(8);
                        c.enable_early_data = cfg.early_data;
                        Arc::new(c)
                    }
                    None => shared,
                };
                if cfg.early_data || cfg.resume {
                    own_config = Some(c.clone());
                }
                let name = ServerName::try_from(certs::SERVER_NAME)
                    .map_err(|e| SetupError::Failed(e.to_string()))?;
                ClientConnection::new(c, name)
                    .map_err(|e| SetupError::Failed(format!("rustls client: {e}")))?
                    .into()
            }
            Cfg::Server(c) => ServerConnection::new(c)
                .map_err(|e| SetupError::Failed(format!("rustls server: {e}")))?
                .into(),
        };
        Ok(Box::new(RustlsConn {
            conn,
            io,
            modes: cfg.modes,
            fragment: cfg.max_send_fragment.map_or(MAX_FRAGMENT, usize::from),
            committed: None,
            peer_closed: false,
            sent_close: false,
            own_config,
        }))
    }
}

struct RustlsConn {
    conn: rustls::Connection,
    io: Endpoint,
    modes: Modes,
    fragment: usize,
    /// Bytes of the current (unfinished) write that rustls already holds.
    committed: Option<usize>,
    /// The peer's close_notify has been processed.
    peer_closed: bool,
    /// Our close_notify has been queued (`shutdown` was called).
    sent_close: bool,
    /// An early-data client's own config: its session store holds the tickets received.
    own_config: Option<Arc<ClientConfig>>,
}

/// Why the driver stopped making progress.
enum Stop {
    WantRead,
    WantWrite,
    Io(io::Error),
    Tls(rustls::Error),
    Eof,
    /// The driver itself refuses the call (reason, detail), as OpenSSL's checks would.
    Refused(&'static str, String),
}

impl Stop {
    fn into_call(self, ex: bool) -> Call {
        let (outcome, errors) = match self {
            Stop::WantRead => (Outcome::WantRead, vec![]),
            Stop::WantWrite => (Outcome::WantWrite, vec![]),
            Stop::Io(e) => (Outcome::Syscall, vec![format!("io: {e}")]),
            Stop::Eof => (
                Outcome::Syscall,
                vec!["io: unexpected EOF from the transport".into()],
            ),
            Stop::Tls(e) => (Outcome::Ssl(e.to_string()), vec![e.to_string()]),
            Stop::Refused(reason, detail) => (Outcome::Ssl(reason.to_string()), vec![detail]),
        };
        let mut call = Call::new(outcome, if ex { 0 } else { -1 });
        call.errors = errors;
        call
    }
}

/// A `Writer` error carries the connection's `rustls::Error`; unwrap it.
fn io_to_stop(e: io::Error) -> Stop {
    if e.get_ref().is_some_and(|i| i.is::<rustls::Error>()) {
        if let Some(Ok(tls)) = e.into_inner().map(|i| i.downcast::<rustls::Error>()) {
            return Stop::Tls(*tls);
        }
        unreachable!("checked to be a rustls::Error");
    }
    Stop::Io(e)
}

impl RustlsConn {
    /// Writes queued TLS bytes to the transport. `Ok(true)` when nothing is left queued.
    fn flush(&mut self) -> Result<bool, Stop> {
        while self.conn.wants_write() {
            match self.conn.write_tls(&mut self.io) {
                Ok(0) => {
                    return Err(Stop::Io(io::Error::new(
                        io::ErrorKind::WriteZero,
                        "transport accepted 0 bytes",
                    )))
                }
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) => return Err(Stop::Io(e)),
            }
        }
        Ok(true)
    }

    /// Reads what the transport has and processes it; `Ok(false)` when nothing was there.
    fn pull(&mut self) -> Result<bool, Stop> {
        match self.conn.read_tls(&mut self.io) {
            Ok(0) => Err(Stop::Eof),
            Ok(_) => {
                let res = self.conn.process_new_packets();
                // Send whatever processing produced (alerts, KeyUpdate answers), best effort:
                // a blocked or failing transport shows on the next write, not on this read.
                let _ = self.flush();
                let state = res.map_err(Stop::Tls)?;
                self.peer_closed |= state.peer_has_closed();
                Ok(true)
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(false),
            Err(e) => Err(Stop::Io(e)),
        }
    }

    /// Drives the handshake as far as the transport allows.
    fn drive_handshake(&mut self) -> Result<(), Stop> {
        loop {
            if !self.flush()? {
                // Full duplex: while our flight is stuck, take in what the peer sends (it may
                // be stuck behind us). Only when nothing arrives is this a WANT_WRITE.
                self.conn.process_new_packets().map_err(Stop::Tls)?;
                if self.pull()? {
                    continue;
                }
                return Err(Stop::WantWrite);
            }
            if !self.conn.is_handshaking() {
                return Ok(());
            }
            // Surfaces an earlier fatal error again (rustls repeats it), and processes what
            // is buffered.
            self.conn.process_new_packets().map_err(Stop::Tls)?;
            if !self.pull()? {
                return Err(Stop::WantRead);
            }
        }
    }

    fn write_common(&mut self, buf: &[u8], ex: bool) -> Call {
        let r = self.write_inner(buf);
        match r {
            Ok(n) => {
                let mut call = Call::new(Outcome::Ok(n as u64), if ex { 1 } else { n as i64 });
                if ex {
                    call.written = Some(n as u64);
                }
                call
            }
            Err(stop) => {
                let mut call = stop.into_call(ex);
                if ex {
                    call.written = Some(0);
                }
                call
            }
        }
    }

    fn write_inner(&mut self, buf: &[u8]) -> Result<usize, Stop> {
        if self.conn.is_handshaking() {
            self.drive_handshake()?;
        }
        // The writer repeats an earlier fatal error without doing I/O.
        if let Err(e) = self.conn.writer().flush() {
            self.committed = None;
            return Err(io_to_stop(e));
        }
        let mut done = match self.committed {
            Some(c) if buf.len() < c => {
                return Err(Stop::Refused(
                    "bad length",
                    format!(
                        "retry of {} bytes is shorter than the {c} bytes already committed",
                        buf.len()
                    ),
                ))
            }
            Some(c) => c,
            None => 0,
        };
        loop {
            match self.flush() {
                Ok(true) => {}
                Ok(false) => {
                    self.committed = Some(done);
                    return Err(Stop::WantWrite);
                }
                Err(e) => {
                    // The committed bytes stay in rustls and go out with the next flush: the
                    // next call is this write's retry, as with OpenSSL's pending write.
                    self.committed = (done > 0).then_some(done);
                    return Err(e);
                }
            }
            if done == buf.len() || (self.modes.partial_write && done > 0) {
                self.committed = None;
                return Ok(done);
            }
            let end = if self.modes.partial_write {
                buf.len().min(done + self.fragment)
            } else {
                buf.len()
            };
            match self.conn.writer().write(&buf[done..end]) {
                Ok(n) => done += n,
                Err(e) => {
                    self.committed = None;
                    return Err(io_to_stop(e));
                }
            }
        }
    }
}

impl Connection for RustlsConn {
    fn handshake(&mut self) -> Call {
        match self.drive_handshake() {
            Ok(()) => Call::new(Outcome::Ok(1), 1),
            Err(stop) => stop.into_call(false),
        }
    }

    fn write(&mut self, buf: &[u8]) -> Call {
        self.write_common(buf, false)
    }

    fn write_ex(&mut self, buf: &[u8]) -> Call {
        self.write_common(buf, true)
    }

    fn read(&mut self, buf: &mut [u8]) -> Call {
        if self.conn.is_handshaking() {
            if let Err(stop) = self.drive_handshake() {
                return stop.into_call(false);
            }
        }
        loop {
            match self.conn.reader().read(buf) {
                Ok(0) if !buf.is_empty() => return Call::new(Outcome::ZeroReturn, 0),
                Ok(n) => return Call::new(Outcome::Ok(n as u64), n as i64),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => match self
                    .conn
                    .process_new_packets()
                    .map_err(Stop::Tls)
                    .and_then(|_| self.pull())
                {
                    Ok(true) => continue,
                    Ok(false) => return Stop::WantRead.into_call(false),
                    // EOF: let the reader say whether it was clean (close_notify) or not.
                    Err(Stop::Eof) => match self.conn.reader().read(buf) {
                        Ok(0) => return Call::new(Outcome::ZeroReturn, 0),
                        Ok(n) => return Call::new(Outcome::Ok(n as u64), n as i64),
                        Err(_) => return Stop::Eof.into_call(false),
                    },
                    Err(stop) => return stop.into_call(false),
                },
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                    return Stop::Eof.into_call(false)
                }
                Err(e) => return Stop::Io(e).into_call(false),
            }
        }
    }

    fn shutdown(&mut self) -> Call {
        // SSL_shutdown(3): the first call sends close_notify (1 if the peer's was already in,
        // else 0); a later call waits for the peer's close_notify (1 once it is in).
        let again = self.sent_close;
        self.conn.send_close_notify();
        self.sent_close = true;
        match self.flush() {
            Ok(true) => {}
            Ok(false) => return Stop::WantWrite.into_call(false),
            Err(stop) => return stop.into_call(false),
        }
        if again && !self.peer_closed {
            loop {
                match self.pull() {
                    Ok(true) if self.peer_closed => break,
                    Ok(true) => continue,
                    Ok(false) => return Stop::WantRead.into_call(false),
                    Err(stop) => return stop.into_call(false),
                }
            }
        }
        let both = self.peer_closed;
        Call::new(Outcome::Ok(u64::from(both)), i64::from(both))
    }

    fn key_update(&mut self, requested: bool) -> Call {
        if !requested {
            return Call::skip(
                "rustls 0.23 sends KeyUpdate only with update_requested (refresh_traffic_keys)",
            );
        }
        match self.conn.refresh_traffic_keys() {
            Ok(()) => Call::new(Outcome::Ok(1), 1),
            Err(e) => Stop::Tls(e).into_call(true),
        }
    }

    fn renegotiate(&mut self) -> Call {
        Call::skip("rustls never renegotiates: it has no API to start a TLS 1.2 renegotiation")
    }

    fn new_session_ticket(&mut self) -> Call {
        Call::skip("rustls 0.23 has no API to issue an extra session ticket on demand")
    }

    fn set_modes(&mut self, modes: Modes) -> Call {
        self.modes = modes;
        let bits = modes.bits();
        Call::new(Outcome::Ok(bits), bits as i64)
    }

    fn write_secrets(&self) -> Result<crate::reseal::WriteSecrets, String> {
        Err("rustls gives its traffic secrets only to a config's KeyLog (shared by every connection of the config, keyed by a client random the connection does not expose), so its records cannot be re-sealed".into())
    }

    fn handshake_done(&self) -> bool {
        !self.conn.is_handshaking()
    }

    fn session(&mut self) -> Result<Session, SetupError> {
        // The tickets went into the config's store as they were processed; a connection made
        // from the same config takes one out.
        self.own_config.clone().map(Session::new).ok_or_else(|| {
            SetupError::Failed(
                "this rustls connection keeps no session (neither early_data nor resume is set)"
                    .into(),
            )
        })
    }

    fn resumed(&self) -> Option<bool> {
        self.conn
            .handshake_kind()
            .map(|k| k == rustls::HandshakeKind::Resumed)
    }

    fn write_early_data(&mut self, buf: &[u8]) -> Call {
        let rustls::Connection::Client(client) = &mut self.conn else {
            return Stop::Refused("not a client", "only a client writes early data".into())
                .into_call(true);
        };
        let Some(mut early) = client.early_data() else {
            return Stop::Refused(
                "early data not possible",
                "rustls offers no early data on this connection (no resumable ticket allowing it, or the handshake went past it)".into(),
            )
            .into_call(true);
        };
        match early.write(buf) {
            Ok(n) => {
                // The records go out now where the transport takes them, else with the next
                // flush: rustls holds them either way.
                if let Err(stop) = self.flush() {
                    return stop.into_call(true);
                }
                let mut call = Call::new(Outcome::Ok(n as u64), 1);
                call.written = Some(n as u64);
                call
            }
            Err(e) => {
                let mut call = io_to_stop(e).into_call(true);
                call.written = Some(0);
                call
            }
        }
    }

    fn read_early_data(&mut self, buf: &mut [u8]) -> Call {
        let finished = |n: usize, ret: i64| {
            let mut call = Call::new(Outcome::Ok(n as u64), ret);
            call.written = Some(n as u64);
            call
        };
        loop {
            let rustls::Connection::Server(server) = &mut self.conn else {
                return Stop::Refused("not a server", "only a server reads early data".into())
                    .into_call(true);
            };
            if let Some(mut early) = server.early_data() {
                match early.read(buf) {
                    Ok(n) if n > 0 => return finished(n, 1),
                    Ok(_) => {}
                    Err(e) => return Stop::Io(e).into_call(true),
                }
            }
            if !self.conn.is_handshaking() {
                // SSL_READ_EARLY_DATA_FINISH: no (more) early data.
                return finished(0, 2);
            }
            if let Err(stop) = self.flush() {
                return stop.into_call(true);
            }
            match self.pull() {
                Ok(true) => continue,
                Ok(false) => return Stop::WantRead.into_call(true),
                Err(stop) => return stop.into_call(true),
            }
        }
    }
}
