//! The shared trait every implementation of the `SSL_write` contract sits behind, and the one
//! result vocabulary all of them speak.
//!
//! Design: an [`Implementation`] is a factory built once per process (contexts, certificates,
//! configs reused across runs; `Send + Sync` so runs can go in parallel). It opens a
//! [`Connection`] over an in-memory [`Endpoint`](crate::transport::Endpoint) for one run. Every
//! call on a connection returns a [`Call`]: the outcome in the shared vocabulary, the raw return
//! value, and the error-queue reason where the library has one. An action an implementation
//! cannot perform returns [`Outcome::Skip`] with the reason; it is never faked.

use std::any::Any;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::transport::Endpoint;

/// Which side of the handshake a connection plays.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Client,
    Server,
}

impl Role {
    pub fn other(self) -> Role {
        match self {
            Role::Client => Role::Server,
            Role::Server => Role::Client,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Role::Client => "client",
            Role::Server => "server",
        })
    }
}

/// The protocol version a run pins (minimum = maximum).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Tls {
    #[serde(rename = "1.2")]
    V12,
    #[serde(rename = "1.3")]
    V13,
}

impl fmt::Display for Tls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Tls::V12 => "1.2",
            Tls::V13 => "1.3",
        })
    }
}

/// The write-related modes of `SSL_CTX_set_mode(3)`. A run sets exactly these: anything not
/// listed is cleared, including `auto_retry`, which OpenSSL switches on by default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Modes {
    pub partial_write: bool,
    pub moving_buffer: bool,
    pub auto_retry: bool,
    pub release_buffers: bool,
}

impl Modes {
    pub const NAMES: [&'static str; 4] = [
        "partial_write",
        "moving_buffer",
        "auto_retry",
        "release_buffers",
    ];

    /// Parses a list of mode names; `Err` names the unknown one.
    pub fn from_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<Modes, String> {
        let mut m = Modes::default();
        for n in names {
            match n {
                "partial_write" => m.partial_write = true,
                "moving_buffer" => m.moving_buffer = true,
                "auto_retry" => m.auto_retry = true,
                "release_buffers" => m.release_buffers = true,
                other => {
                    return Err(format!(
                        "unknown mode {other:?} (known: {})",
                        Modes::NAMES.join(", ")
                    ))
                }
            }
        }
        Ok(m)
    }

    /// The modes as `SSL_MODE_*` bits (partial 0x1, moving 0x2, auto retry 0x4, release 0x10):
    /// what `set_modes` reports as `ok(bits)` in every driver.
    pub fn bits(&self) -> u64 {
        u64::from(self.partial_write)
            | u64::from(self.moving_buffer) << 1
            | u64::from(self.auto_retry) << 2
            | u64::from(self.release_buffers) << 4
    }

    pub fn names(&self) -> Vec<&'static str> {
        let flags = [
            self.partial_write,
            self.moving_buffer,
            self.auto_retry,
            self.release_buffers,
        ];
        Modes::NAMES
            .iter()
            .zip(flags)
            .filter(|(_, on)| *on)
            .map(|(n, _)| *n)
            .collect()
    }
}

impl fmt::Display for Modes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = self.names();
        if names.is_empty() {
            f.write_str("none")
        } else {
            f.write_str(&names.join("+"))
        }
    }
}

impl Serialize for Modes {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.names().serialize(s)
    }
}

impl<'de> Deserialize<'de> for Modes {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let names = Vec::<String>::deserialize(d)?;
        Modes::from_names(names.iter().map(String::as_str)).map_err(serde::de::Error::custom)
    }
}

/// Everything a connection is configured with before its first call.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ConnConfig {
    pub role: Role,
    pub tls: Tls,
    pub modes: Modes,
    /// `SSL_CTX_set_max_send_fragment`; `None` = the library default (16384).
    pub max_send_fragment: Option<u16>,
    /// Put the connection in connect/accept state before the first call (clause W2). `false`
    /// reproduces situation HS-3 (neither state set).
    pub set_state: bool,
    /// Refuse renegotiation (`SSL_OP_NO_RENEGOTIATION`).
    pub no_renegotiation: bool,
    /// Server side: accept renegotiation started by the client (`SSL_OP_ALLOW_CLIENT_RENEGOTIATION`).
    pub allow_client_renegotiation: bool,
    /// TLS 1.2 cipher list in OpenSSL's syntax (PW-5), e.g. "ECDHE-ECDSA-AES128-SHA".
    pub cipher: Option<String>,
    /// Switch off encrypt-then-MAC (matters for CBC suites).
    pub no_encrypt_then_mac: bool,
    /// The max_fragment_length extension (RFC 6066): 512, 1024, 2048 or 4096. Requested by
    /// whichever side is the client (REC-2).
    pub max_fragment_length: Option<u16>,
    /// TLS 1.3 record padding to a multiple of this block size (REC-3).
    pub block_padding: Option<u16>,
    /// TLS 1.3 early data (ED-*): a server accepts up to [`MAX_EARLY_DATA`] bytes of it and
    /// says so in its tickets; a client may send it when it resumes such a session.
    pub early_data: bool,
    /// The run resumes a session (a client offers one that an earlier connection of the same
    /// configuration got): the client keeps what it receives for [`Connection::session`].
    pub resume: bool,
    /// TLS 1.3 server: how many tickets to send after the handshake (`SSL_set_num_tickets`);
    /// `None`: the library's default (2 in both OpenSSL and rustls).
    pub tls13_tickets: Option<u8>,
    /// Key exchange groups, a `:`-separated list in OpenSSL's names (`X25519:P-256`); `None`:
    /// the library's default. Set only for the peer (`connection.peer.groups`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<String>,
    /// A server's certificate key type. Set only for the peer (`connection.peer.key`).
    #[serde(default, skip_serializing_if = "crate::certs::KeyType::is_default")]
    pub key: crate::certs::KeyType,
}

/// The early data limit a server with [`ConnConfig::early_data`] announces in its tickets.
pub const MAX_EARLY_DATA: u32 = 16384;

impl ConnConfig {
    pub fn new(role: Role, tls: Tls, modes: Modes) -> ConnConfig {
        ConnConfig {
            role,
            tls,
            modes,
            max_send_fragment: None,
            set_state: true,
            no_renegotiation: false,
            allow_client_renegotiation: false,
            cipher: None,
            no_encrypt_then_mac: false,
            max_fragment_length: None,
            block_padding: None,
            early_data: false,
            resume: false,
            tls13_tickets: None,
            groups: None,
            key: crate::certs::KeyType::Ed25519,
        }
    }
}

/// The shared result vocabulary (see the contract's "Error vocabulary").
///
/// Its text form (`ok(16384)`, `want_write`, `ssl(protocol is shutdown)`, `skip(...)`) is
/// what reports, expectations and the diff use.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Success; bytes written or read (for a handshake or shutdown: the positive return value).
    Ok(u64),
    WantRead,
    WantWrite,
    ZeroReturn,
    Syscall,
    /// `SSL_ERROR_SSL` with the reason string from the error queue (empty if none).
    Ssl(String),
    /// The implementation cannot do this action; the reason says why. Ends the run for it.
    Skip(String),
    /// A blocking transport could not make progress and the script frees no space.
    Deadlock,
    /// The implementation crashed (signal name); set by the runner, never by a driver.
    Crash(String),
    /// The call did not return in time; set by the runner.
    Timeout,
    /// A failure (`ret <= 0`) that `SSL_get_error` gave no class for (it said NONE, or a
    /// value outside the known classes): the caller cannot tell whether to retry. Always a
    /// W10 violation as well; never `ok(0)`.
    Unclassified,
}

impl Outcome {
    /// The class without its payload: `ok`, `want_read`, ..., used by the diff.
    pub fn class(&self) -> &'static str {
        match self {
            Outcome::Ok(_) => "ok",
            Outcome::WantRead => "want_read",
            Outcome::WantWrite => "want_write",
            Outcome::ZeroReturn => "zero_return",
            Outcome::Syscall => "syscall",
            Outcome::Ssl(_) => "ssl",
            Outcome::Skip(_) => "skip",
            Outcome::Deadlock => "deadlock",
            Outcome::Crash(_) => "crash",
            Outcome::Timeout => "timeout",
            Outcome::Unclassified => "unclassified",
        }
    }

    pub fn is_ok(&self) -> bool {
        matches!(self, Outcome::Ok(_))
    }

    pub fn is_retry(&self) -> bool {
        matches!(self, Outcome::WantRead | Outcome::WantWrite)
    }

    /// A fatal error in the sense of clause W12.
    pub fn is_fatal(&self) -> bool {
        matches!(self, Outcome::Syscall | Outcome::Ssl(_))
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Ok(n) => write!(f, "ok({n})"),
            Outcome::Ssl(r) => write!(f, "ssl({r})"),
            Outcome::Skip(r) => write!(f, "skip({r})"),
            Outcome::Crash(r) => write!(f, "crash({r})"),
            other => f.write_str(other.class()),
        }
    }
}

impl FromStr for Outcome {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (head, arg) = match s.find('(') {
            Some(i) if s.ends_with(')') => (&s[..i], Some(&s[i + 1..s.len() - 1])),
            Some(_) => return Err(format!("unbalanced parenthesis in outcome {s:?}")),
            None => (s, None),
        };
        Ok(match (head, arg) {
            ("ok", Some(n)) => Outcome::Ok(
                n.parse()
                    .map_err(|_| format!("ok(...) needs a byte count, got {n:?}"))?,
            ),
            ("want_read", None) => Outcome::WantRead,
            ("want_write", None) => Outcome::WantWrite,
            ("zero_return", None) => Outcome::ZeroReturn,
            ("syscall", None) => Outcome::Syscall,
            ("ssl", Some(r)) => Outcome::Ssl(r.to_string()),
            ("skip", Some(r)) => Outcome::Skip(r.to_string()),
            ("deadlock", None) => Outcome::Deadlock,
            ("crash", Some(r)) => Outcome::Crash(r.to_string()),
            ("timeout", None) => Outcome::Timeout,
            ("unclassified", None) => Outcome::Unclassified,
            _ => return Err(format!("not an outcome: {s:?}")),
        })
    }
}

impl Serialize for Outcome {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Outcome {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// One call into an implementation, as observed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Call {
    pub outcome: Outcome,
    /// The raw return value (`SSL_write`'s int; 1/0 for `SSL_write_ex`). Drivers without one
    /// (rustls) report what an OpenSSL caller would see for the same outcome: `n` or `-1`.
    pub ret: i64,
    /// `SSL_write_ex`'s `*written` (and `SSL_read_ex`-style counts), where the API has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub written: Option<u64>,
    /// What `SSL_get_error(ssl, ret)` answered, raw, where the driver asked (the libssl-ABI
    /// drivers ask after every I/O call): with `ret`, the pair W10 is judged on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_class: Option<i64>,
    /// Every reason string the error queue held after the call, oldest first (OpenSSL), or the
    /// native error's text (rustls). Empty when the call left nothing.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
}

impl Call {
    pub fn new(outcome: Outcome, ret: i64) -> Call {
        Call {
            outcome,
            ret,
            written: None,
            error_class: None,
            errors: Vec::new(),
        }
    }

    pub fn skip(reason: impl Into<String>) -> Call {
        Call::new(Outcome::Skip(reason.into()), 0)
    }
}

/// Describes a built implementation for the report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImplInfo {
    /// The label used on the command line and in report columns (`openssl`, `rustls`).
    pub name: String,
    /// The exact library version, e.g. "OpenSSL 3.0.19 27 Jan 2026": what the library says
    /// it is (for AWS-LC its own version function's answer).
    pub version: String,
    /// Which implementation family: `openssl`, `rustls`, and for a loaded library the member
    /// of the libssl ABI family told from its exports (`openssl`, `boringssl`, `aws-lc`,
    /// `libressl`, `other`). Known divergences scoped by version match only their own family.
    /// Empty in reports written before families existed.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub family: String,
    /// For a library loaded at run time (`libssl:PATH`): where it came from and how it was built.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub library: Option<LibraryInfo>,
}

/// A run-time loaded library (`--impl libssl:PATH`), as the report records it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LibraryInfo {
    /// The path as given on the command line (a bare soname is looked up by the loader).
    pub path: String,
    /// The file the loader actually opened, and the libcrypto the library uses.
    pub file: String,
    pub libcrypto: String,
    /// `OpenSSL_version_num()` in hex (`0x30000130`); `0x00000000` when not exported.
    pub version_number: String,
    /// The ABI it is driven as (`OpenSSL 3.x libssl ABI`).
    pub abi: String,
    /// What `OpenSSL_version()` says about the build: compiler and flags, build date,
    /// platform, OPENSSLDIR.
    pub build: Vec<String>,
    /// How it was loaded (`dlmopen: a link namespace of its own`).
    pub loaded: String,
    /// Optional entry points it does not export: the steps that need them are `skip`.
    pub missing_symbols: Vec<String>,
    /// The routes taken for entry points the library lacks (`SSL_set_mode` ... for `SSL_ctrl`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fallbacks: Vec<String>,
}

/// Why a connection could not be set up (certificate loading, unsupported configuration...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetupError {
    /// The configuration cannot be expressed in this implementation (e.g. a cipher it lacks).
    Unsupported(String),
    /// The library refused a configuration it should accept: a harness or library problem.
    Failed(String),
}

impl fmt::Display for SetupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SetupError::Unsupported(r) => write!(f, "unsupported configuration: {r}"),
            SetupError::Failed(r) => write!(f, "connection set-up failed: {r}"),
        }
    }
}

/// A client's resumable session, opaque to everyone but the implementation that made it
/// ([`Connection::session`]) and takes it back ([`Implementation::resume`]).
pub struct Session(Box<dyn Any + Send + Sync>);

impl Session {
    pub fn new<T: Any + Send + Sync>(inner: T) -> Session {
        Session(Box::new(inner))
    }

    /// The implementation's own session type; `None` for another implementation's session.
    pub fn get<T: Any>(&self) -> Option<&T> {
        self.0.downcast_ref()
    }
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Session(..)")
    }
}

/// An implementation of the write contract: a factory for connections.
pub trait Implementation: Send + Sync {
    fn info(&self) -> ImplInfo;

    /// Opens a connection over `io` with exactly `cfg`. No bytes move until the first call.
    fn connect(&self, cfg: &ConnConfig, io: Endpoint) -> Result<Box<dyn Connection>, SetupError>;

    /// As `connect`, for a client that offers to resume `session` (`SSL_set_session`), which
    /// an earlier connection of this implementation gave out.
    fn resume(
        &self,
        cfg: &ConnConfig,
        io: Endpoint,
        session: &Session,
    ) -> Result<Box<dyn Connection>, SetupError> {
        let _ = (cfg, io, session);
        Err(SetupError::Unsupported(
            "session resumption is not available".into(),
        ))
    }

    /// How many connections may resume one session this implementation's client gave out
    /// ([`Connection::session`]), for the fuzzer's session pool. Most clients resume a
    /// session (a TLS 1.3 stateless ticket included) as often as the server accepts it; one
    /// that spends a ticket per resumption says how many it holds. A session that stops
    /// resuming is forgotten and its run played again, so this is a cost, never a verdict.
    fn resumptions_per_session(&self, tls: Tls) -> u32 {
        let _ = tls;
        crate::sessions::SessionPool::MAX_USES
    }
}

/// One TLS connection under test. Each method is one library call (or, for drivers without
/// such a call, the documented equivalent) and returns what it observed.
pub trait Connection {
    /// `SSL_do_handshake`: one step of the handshake.
    fn handshake(&mut self) -> Call;

    /// `SSL_write(ssl, buf.as_ptr(), buf.len())`. The pointer is the caller's: a retry from
    /// another buffer with the same bytes is a different pointer (clause W6).
    fn write(&mut self, buf: &[u8]) -> Call;

    /// `SSL_write_ex(ssl, buf.as_ptr(), buf.len(), &written)`.
    fn write_ex(&mut self, buf: &[u8]) -> Call;

    /// `SSL_write` with a negative `num` (situation Z-4), where the API can express it.
    fn write_negative(&mut self, num: i32) -> Call {
        let _ = num;
        Call::skip("this API takes a slice; a negative length cannot be expressed")
    }

    /// `SSL_read` into `buf`; `Ok(n)` is the count of plaintext bytes placed in `buf[..n]`.
    fn read(&mut self, buf: &mut [u8]) -> Call;

    /// `SSL_shutdown`: send close_notify (and, if it arrived, note the peer's).
    fn shutdown(&mut self) -> Call;

    /// TLS 1.3 `SSL_key_update`, requested or not.
    fn key_update(&mut self, requested: bool) -> Call {
        let _ = requested;
        Call::skip("key update is not available")
    }

    /// TLS 1.2 `SSL_renegotiate` (schedules it; the next I/O call starts it).
    fn renegotiate(&mut self) -> Call {
        Call::skip("renegotiation is not available")
    }

    /// TLS 1.3 server: `SSL_new_session_ticket` (queues an extra ticket).
    fn new_session_ticket(&mut self) -> Call {
        Call::skip("issuing an extra session ticket is not available")
    }

    /// What the connection writes its records with, for a peer whose record the harness
    /// re-seals ([`crate::reseal`]: an empty record, a warning alert). `Err` says why it
    /// cannot tell.
    fn write_secrets(&self) -> Result<crate::reseal::WriteSecrets, String> {
        Err("this driver does not expose its record keys".into())
    }

    /// `SSL_get_error` asked a second time about the previous call (RV-1).
    fn error_again(&mut self) -> Call {
        Call::skip("this implementation has no separate error query")
    }

    /// Leave a stale, unrelated error on the error queue for the next call (RV-2).
    fn dirty_error_queue(&mut self) -> Call {
        Call::skip("this implementation has no error queue")
    }

    /// Change modes on the live connection (`SSL_set_mode`/`SSL_clear_mode`), clause W15.
    fn set_modes(&mut self, modes: Modes) -> Call;

    /// A client's session, to resume in a later connection (`SSL_get1_session`), once the
    /// handshake is done and the server's tickets were read. `Unsupported` where the
    /// implementation cannot resume; `Failed` where it has no session to give.
    fn session(&mut self) -> Result<Session, SetupError> {
        Err(SetupError::Unsupported(
            "session resumption is not available".into(),
        ))
    }

    /// Whether the handshake resumed a session (`SSL_session_reused`); `None` where the
    /// implementation cannot tell.
    fn resumed(&self) -> Option<bool> {
        None
    }

    /// TLS 1.3 client: `SSL_write_early_data(ssl, buf, len, &written)`, before the handshake
    /// is done. `Ok(written)` on success.
    fn write_early_data(&mut self, buf: &[u8]) -> Call {
        let _ = buf;
        Call::skip("early data is not available")
    }

    /// TLS 1.3 server: `SSL_read_early_data(ssl, buf, len, &readbytes)`. `Ok(n)` with n > 0 for
    /// SSL_READ_EARLY_DATA_SUCCESS, `Ok(0)` for SSL_READ_EARLY_DATA_FINISH (no more early
    /// data: the handshake goes on), `want_*` or an error for SSL_READ_EARLY_DATA_ERROR.
    fn read_early_data(&mut self, buf: &mut [u8]) -> Call {
        let _ = buf;
        Call::skip("early data is not available")
    }

    /// Whether the handshake has completed (`SSL_is_init_finished`).
    fn handshake_done(&self) -> bool;
}
