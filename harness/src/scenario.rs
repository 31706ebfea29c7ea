//! Scenario files: the model, the loader, and the expansion of one file into runs.
//!
//! Parse, don't validate: every value that can be wrong on its own (a clause id, a mode name,
//! a length, an expectation) is checked while serde reads it, so serde_json's error carries the
//! line and column. Checks that span several values (unique ids, steps that need TLS 1.2)
//! name the scenario and step instead.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::certs::KeyType;
use crate::contract::{Modes, Outcome, Role, Tls};
use crate::payload::Content;
pub use crate::record::{Hex, RecordVersion};

/// Largest single write, read or peer write a scenario may ask for.
pub const MAX_LEN: u64 = 16 << 20;
/// Largest `write_stream` total (streamed, never held: 1 TiB).
pub const MAX_STREAM: u64 = 1 << 40;
/// Most steps one scenario may have.
pub const MAX_STEPS: usize = 10_000;
/// Largest transport capacity.
pub const MAX_CAPACITY: u64 = 1 << 30;
/// Largest scenario file read.
pub const MAX_FILE_BYTES: u64 = 4 << 20;

/// Contract clauses and invariants (../shared/spec/ssl-write-contract.md).
pub const CLAUSES: [&str; 19] = [
    "W1", "W2", "W3", "W4", "W5", "W6", "W7", "W8", "W9", "W10", "W11", "W12", "W13", "W14", "W15",
    "I1", "I2", "I3", "I4",
];

/// Situation ids (../shared/spec/situations.md).
pub const SITUATIONS: [&str; 52] = [
    "HS-1", "HS-2", "HS-3", "HS-4", "HS-5", "HS-6", "IO-1", "IO-2", "IO-3", "RT-1", "RT-2", "RT-3",
    "RT-4", "RT-5", "RT-6", "RT-7", "RT-8", "RT-9", "RT-10", "PW-1", "PW-2", "PW-3", "PW-4",
    "PW-5", "REC-1", "REC-2", "REC-3", "REC-4", "RN-1", "RN-2", "RN-3", "RN-4", "RN-5", "KU-1",
    "KU-2", "KU-3", "KU-4", "Z-1", "Z-2", "Z-3", "Z-4", "SD-1", "SD-2", "SD-3", "SD-4", "SD-5",
    "SD-6", "RV-1", "RV-2", "RV-3", "ED-1", "ED-2",
];

/// A clause id checked against [`CLAUSES`] while parsing.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String")]
pub struct ClauseId(pub String);

impl TryFrom<String> for ClauseId {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        if CLAUSES.contains(&s.as_str()) {
            Ok(ClauseId(s))
        } else {
            Err(format!(
                "unknown clause {s:?}: clauses are W1..W15 and invariants I1..I4"
            ))
        }
    }
}

impl fmt::Display for ClauseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A situation id checked against [`SITUATIONS`] while parsing.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String")]
pub struct SituationId(pub String);

impl TryFrom<String> for SituationId {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        if SITUATIONS.contains(&s.as_str()) {
            Ok(SituationId(s))
        } else {
            Err(format!(
                "unknown situation {s:?}: see situations.md (HS-1, IO-2, RT-3, ...)"
            ))
        }
    }
}

/// A byte count bounded by [`MAX_LEN`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "u64")]
pub struct Len(pub u64);

impl TryFrom<u64> for Len {
    type Error = String;
    fn try_from(n: u64) -> Result<Self, String> {
        if n <= MAX_LEN {
            Ok(Len(n))
        } else {
            Err(format!(
                "length {n} is larger than the limit of {MAX_LEN} bytes"
            ))
        }
    }
}

impl Len {
    pub fn get(self) -> usize {
        self.0 as usize
    }
}

/// A transport capacity bounded by [`MAX_CAPACITY`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "u64")]
pub struct Capacity(pub u64);

impl TryFrom<u64> for Capacity {
    type Error = String;
    fn try_from(n: u64) -> Result<Self, String> {
        if n <= MAX_CAPACITY {
            Ok(Capacity(n))
        } else {
            Err(format!(
                "capacity {n} is larger than the limit of {MAX_CAPACITY} bytes"
            ))
        }
    }
}

/// One alternative of an expectation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExpectPat {
    /// `ok`: any success.
    AnyOk,
    /// `ok(all)`: success with the full length of the call.
    OkAll,
    /// `ssl`: `SSL_ERROR_SSL` with any reason.
    AnySsl,
    /// `fail`: any outcome that is not a success.
    Fail,
    /// `retry`: `want_read` or `want_write`.
    Retry,
    /// An exact outcome (`ok(16384)`, `want_write`, `ssl(protocol is shutdown)`).
    Exact(Outcome),
}

impl ExpectPat {
    pub fn matches(&self, outcome: &Outcome, len: Option<u64>) -> bool {
        match self {
            ExpectPat::AnyOk => outcome.is_ok(),
            ExpectPat::OkAll => matches!((outcome, len), (Outcome::Ok(n), Some(l)) if *n == l),
            ExpectPat::AnySsl => matches!(outcome, Outcome::Ssl(_)),
            ExpectPat::Fail => !outcome.is_ok(),
            ExpectPat::Retry => outcome.is_retry(),
            ExpectPat::Exact(o) => o == outcome,
        }
    }
}

impl fmt::Display for ExpectPat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExpectPat::AnyOk => f.write_str("ok"),
            ExpectPat::OkAll => f.write_str("ok(all)"),
            ExpectPat::AnySsl => f.write_str("ssl"),
            ExpectPat::Fail => f.write_str("fail"),
            ExpectPat::Retry => f.write_str("retry"),
            ExpectPat::Exact(o) => write!(f, "{o}"),
        }
    }
}

impl std::str::FromStr for ExpectPat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "ok" => ExpectPat::AnyOk,
            "ok(all)" => ExpectPat::OkAll,
            "ssl" => ExpectPat::AnySsl,
            "fail" => ExpectPat::Fail,
            "retry" => ExpectPat::Retry,
            other => ExpectPat::Exact(other.parse().map_err(|e| {
                format!("{e}; an expectation is ok, ok(all), ok(N), want_read, want_write, zero_return, syscall, ssl, ssl(REASON), fail or retry")
            })?),
        })
    }
}

/// What the contract demands of a step: any one of the listed outcomes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expect(pub Vec<ExpectPat>);

impl Expect {
    pub fn matches(&self, outcome: &Outcome, len: Option<u64>) -> bool {
        self.0.iter().any(|p| p.matches(outcome, len))
    }
}

impl fmt::Display for Expect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        f.write_str(&parts.join(" | "))
    }
}

impl<'de> Deserialize<'de> for Expect {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum OneOrMany {
            One(String),
            Many(Vec<String>),
        }
        let list = match OneOrMany::deserialize(d)? {
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v,
        };
        if list.is_empty() {
            return Err(serde::de::Error::custom(
                "an empty expect list can never match",
            ));
        }
        list.iter()
            .map(|s| s.parse())
            .collect::<Result<Vec<_>, _>>()
            .map(Expect)
            .map_err(serde::de::Error::custom)
    }
}

impl Serialize for Expect {
    /// As written in files: one string, or a list of alternatives.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0.as_slice() {
            [one] => s.collect_str(one),
            many => s.collect_seq(many.iter().map(ToString::to_string)),
        }
    }
}

/// Which write API a looping step uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Api {
    #[default]
    Write,
    WriteEx,
}

fn default_max_calls() -> u32 {
    10_000
}

/// One scripted step. `op` names it; `expect` (where allowed) states what the contract demands.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Step {
    /// Drive the handshake to completion (the peer answering in between).
    Handshake {
        expect: Option<Expect>,
        clause: Option<ClauseId>,
    },
    /// One `SSL_write` of `len` bytes from buffer slot `buf`.
    Write {
        len: Len,
        #[serde(default)]
        buf: u8,
        #[serde(default)]
        content: Content,
        expect: Option<Expect>,
        clause: Option<ClauseId>,
    },
    /// One `SSL_write_ex`.
    WriteEx {
        len: Len,
        #[serde(default)]
        buf: u8,
        #[serde(default)]
        content: Content,
        expect: Option<Expect>,
        clause: Option<ClauseId>,
    },
    /// `SSL_write` with a negative `num` (Z-4).
    WriteNegative {
        num: i32,
        expect: Option<Expect>,
        clause: Option<ClauseId>,
    },
    /// Write `len` bytes following the contract: on want_* let the peer read `drain` bytes
    /// (all if absent) and retry with the same arguments; after a partial success continue
    /// with the rest. 100 calls in a row without progress while the peer drains is an I3
    /// violation; `max_calls` (at least 1) only bounds the loop (the step is then `capped`).
    WriteAll {
        len: Len,
        #[serde(default)]
        buf: u8,
        #[serde(default)]
        api: Api,
        drain: Option<Len>,
        #[serde(default = "default_max_calls")]
        max_calls: u32,
        expect: Option<Expect>,
        clause: Option<ClauseId>,
    },
    /// Write `total` bytes (up to 1 TiB) in chunks of `chunk` from one reused buffer, each
    /// chunk as `write_all` writes it: the bulk path.
    WriteStream {
        total: u64,
        chunk: Len,
        #[serde(default)]
        api: Api,
        drain: Option<Len>,
        expect: Option<Expect>,
        clause: Option<ClauseId>,
    },
    /// One `SSL_read` of up to `len` bytes.
    Read {
        len: Len,
        expect: Option<Expect>,
        clause: Option<ClauseId>,
    },
    /// `SSL_shutdown`.
    Shutdown {
        expect: Option<Expect>,
        clause: Option<ClauseId>,
    },
    /// TLS 1.3 `SSL_key_update`.
    KeyUpdate {
        requested: bool,
        expect: Option<Expect>,
        clause: Option<ClauseId>,
    },
    /// TLS 1.2 `SSL_renegotiate`.
    Renegotiate {
        expect: Option<Expect>,
        clause: Option<ClauseId>,
    },
    /// TLS 1.3 client `SSL_write_early_data` of `len` bytes from buffer slot `buf`
    /// (`connection.early_data`).
    WriteEarly {
        len: Len,
        #[serde(default)]
        buf: u8,
        expect: Option<Expect>,
        clause: Option<ClauseId>,
    },
    /// TLS 1.3 server `SSL_read_early_data` of up to `len` bytes: `ok(n)`, or `ok(0)` once
    /// the early data is finished (`connection.early_data`).
    ReadEarly {
        len: Len,
        expect: Option<Expect>,
        clause: Option<ClauseId>,
    },
    /// TLS 1.3 server `SSL_new_session_ticket`.
    NewSessionTicket {
        expect: Option<Expect>,
        clause: Option<ClauseId>,
    },
    /// Ask `SSL_get_error` again about the previous call (RV-1).
    ErrorAgain {
        expect: Option<Expect>,
        clause: Option<ClauseId>,
    },
    /// Leave a stale, unrelated error on the error queue before the next call (RV-2).
    DirtyErrorQueue {},
    /// Change modes on the live connection (W15).
    SetModes {
        modes: Modes,
        expect: Option<Expect>,
        clause: Option<ClauseId>,
    },
    /// The peer's application reads up to `len` bytes (everything available if absent).
    PeerRead {
        len: Option<Len>,
    },
    /// The peer stops / resumes reading when a blocking writer waits on it.
    PeerStopReading {},
    PeerResumeReading {},
    /// The peer's application writes `len` bytes.
    PeerWrite {
        len: Len,
    },
    /// The peer sends close_notify.
    PeerShutdown {},
    /// The peer half-closes its transport (FIN).
    PeerFin {},
    /// The peer closes its socket: what is sent to it from now on is lost.
    PeerClose {},
    /// The peer resets the connection.
    PeerReset {},
    /// The peer (TLS 1.2) starts a renegotiation: HelloRequest from a server, ClientHello
    /// from a client.
    PeerRenegotiate {},
    /// The peer (TLS 1.3) sends a KeyUpdate.
    PeerKeyUpdate {
        requested: bool,
    },
    /// The peer (TLS 1.3 server) sends an extra NewSessionTicket.
    PeerNewSessionTicket {},
    /// The peer (TLS 1.3 client resuming with `connection.early_data`) writes `len` bytes of
    /// its stream as early data, before its handshake goes on.
    PeerWriteEarly {
        len: Len,
    },
    /// The peer sends a fatal alert (it rejects a corrupt record and says so).
    PeerFatalAlert {},
    /// A malformed record arrives for the implementation.
    InjectMalformed {},
    /// A record of the scenario's making arrives for the implementation, raw on the wire:
    /// the 5-byte header (`content_type`, `version`, the payload's length) and `payload`
    /// (hex), or `len` bytes of 0x42 (exactly one of the two).
    InjectRecord {
        content_type: u8,
        #[serde(default)]
        version: RecordVersion,
        payload: Option<Hex>,
        len: Option<u16>,
    },
    /// The peer sends an application-data record without plaintext.
    PeerEmptyRecord {},
    /// The peer sends a warning alert (`description`, default 90: user_canceled).
    PeerWarningAlert {
        description: Option<u8>,
    },
    /// The peer's application writes `len` bytes, of which the transport takes only the
    /// first `first` bytes of its records now; the rest goes when the peer next writes
    /// (`peer_write` with `len` 0 sends it alone), or when a blocking writer's wait or the
    /// end of the run lets the peer go on.
    PeerWriteSplit {
        len: Len,
        first: Len,
    },
    /// Change the transport.
    Transport {
        capacity_to_peer: Option<Capacity>,
        capacity_to_impl: Option<Capacity>,
        blocking: Option<bool>,
        /// Take at most this many bytes per write attempt, blocking every other attempt.
        trickle: Option<Len>,
        /// The next N writes by the implementation report 0 bytes written.
        zero_writes: Option<u32>,
    },
}

impl Step {
    /// The expectation and the clause it concerns, for steps that call the implementation.
    pub fn expect(&self) -> (Option<&Expect>, Option<&ClauseId>) {
        match self {
            Step::Handshake { expect, clause }
            | Step::Write { expect, clause, .. }
            | Step::WriteEx { expect, clause, .. }
            | Step::WriteNegative { expect, clause, .. }
            | Step::WriteAll { expect, clause, .. }
            | Step::WriteStream { expect, clause, .. }
            | Step::Read { expect, clause, .. }
            | Step::Shutdown { expect, clause }
            | Step::KeyUpdate { expect, clause, .. }
            | Step::Renegotiate { expect, clause }
            | Step::NewSessionTicket { expect, clause }
            | Step::WriteEarly { expect, clause, .. }
            | Step::ReadEarly { expect, clause, .. }
            | Step::ErrorAgain { expect, clause }
            | Step::SetModes { expect, clause, .. } => (expect.as_ref(), clause.as_ref()),
            _ => (None, None),
        }
    }

    /// Whether this step is an I/O call on the implementation (one whose failure ends the
    /// connection in the sense of W12).
    pub fn is_io(&self) -> bool {
        matches!(
            self,
            Step::Handshake { .. }
                | Step::Write { .. }
                | Step::WriteEx { .. }
                | Step::WriteAll { .. }
                | Step::WriteStream { .. }
                | Step::Read { .. }
                | Step::Shutdown { .. }
                | Step::WriteEarly { .. }
                | Step::ReadEarly { .. }
        )
    }

    /// Whether this step disturbs the connection on purpose (a fault, a close, a
    /// renegotiation or key update the peer starts, an odd transport).
    pub fn disturbs(&self) -> bool {
        matches!(
            self,
            Step::PeerFatalAlert {}
                | Step::InjectMalformed {}
                | Step::InjectRecord { .. }
                | Step::PeerWarningAlert { .. }
                | Step::PeerClose {}
                | Step::PeerReset {}
                | Step::PeerFin {}
                | Step::PeerShutdown {}
                | Step::PeerRenegotiate {}
                | Step::PeerKeyUpdate { .. }
                | Step::Transport { .. }
                | Step::Renegotiate { .. }
                | Step::Shutdown { .. }
        )
    }

    /// Whether this step calls the implementation under test (rather than the peer or the
    /// transport).
    pub fn is_impl_call(&self) -> bool {
        matches!(
            self,
            Step::Handshake { .. }
                | Step::Write { .. }
                | Step::WriteEx { .. }
                | Step::WriteNegative { .. }
                | Step::WriteAll { .. }
                | Step::WriteStream { .. }
                | Step::Read { .. }
                | Step::Shutdown { .. }
                | Step::KeyUpdate { .. }
                | Step::Renegotiate { .. }
                | Step::NewSessionTicket { .. }
                | Step::WriteEarly { .. }
                | Step::ReadEarly { .. }
                | Step::ErrorAgain { .. }
                | Step::DirtyErrorQueue {}
                | Step::SetModes { .. }
        )
    }

    /// A one-line description for reports: `write buf=0 content=stream len=100000`.
    pub fn short(&self) -> String {
        let mut out = String::new();
        if let serde_json::Value::Object(map) = serde_json::to_value(self).unwrap_or_default() {
            if let Some(serde_json::Value::String(op)) = map.get("op") {
                out.push_str(op);
            }
            for (k, val) in &map {
                if k == "op" || k == "expect" || k == "clause" || val.is_null() {
                    continue;
                }
                let shown = match val {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                out.push_str(&format!(" {k}={shown}"));
            }
        }
        out
    }
}

/// The transport a scenario starts with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransportSpec {
    /// Capacity of both directions, unless one is given on its own.
    #[serde(default = "default_capacity")]
    pub capacity: Capacity,
    pub capacity_to_peer: Option<Capacity>,
    pub capacity_to_impl: Option<Capacity>,
    #[serde(default)]
    pub blocking: bool,
}

fn default_capacity() -> Capacity {
    Capacity(1 << 20)
}

impl Default for TransportSpec {
    fn default() -> Self {
        TransportSpec {
            capacity: default_capacity(),
            capacity_to_peer: None,
            capacity_to_impl: None,
            blocking: false,
        }
    }
}

/// Connection options beyond version, role and modes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectionSpec {
    pub max_send_fragment: Option<u16>,
    /// `false`: neither connect nor accept state is set (HS-3).
    pub set_state: Option<bool>,
    #[serde(default)]
    pub no_renegotiation: bool,
    #[serde(default)]
    pub allow_client_renegotiation: bool,
    /// TLS 1.2 cipher list, OpenSSL syntax (PW-5). It reaches a C API: no control characters.
    #[serde(default, deserialize_with = "c_text")]
    pub cipher: Option<String>,
    #[serde(default)]
    pub no_encrypt_then_mac: bool,
    /// RFC 6066 max_fragment_length requested by the client side (REC-2).
    pub max_fragment_length: Option<u16>,
    /// TLS 1.3 record padding block size (REC-3): 1..=16384.
    #[serde(default, deserialize_with = "padding_block")]
    pub block_padding: Option<u16>,
    /// TLS 1.3 early data (ED-*): a first connection, over a transport of its own, gets a
    /// ticket that allows early data; the run's connections resume it.
    #[serde(default)]
    pub early_data: bool,
    /// The run's client resumes a session that a first connection of the same configuration
    /// got (an abbreviated handshake: no certificates, TLS 1.2 without a key exchange).
    #[serde(default)]
    pub resume: bool,
    /// The peer's own options (the implementation's are the fields above).
    #[serde(default, skip_serializing_if = "PeerSpec::is_default")]
    pub peer: PeerSpec,
}

/// Most TLS 1.3 tickets a scenario may ask the peer to send after its handshake.
pub const MAX_PEER_TICKETS: u8 = 16;

/// The peer's configuration where a scenario sets it (`connection.peer`); each unset field
/// leaves the peer as it always is.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeerSpec {
    /// The peer (a TLS 1.2 server) refuses a renegotiation the implementation starts
    /// (without it, it accepts: `SSL_OP_ALLOW_CLIENT_RENEGOTIATION`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub refuse_client_renegotiation: bool,
    /// The peer (a TLS 1.3 server) sends this many tickets after its handshake
    /// (`SSL_set_num_tickets`), at most [`MAX_PEER_TICKETS`].
    #[serde(
        default,
        deserialize_with = "peer_tickets",
        skip_serializing_if = "Option::is_none"
    )]
    pub tls13_tickets: Option<u8>,
    /// The key type of the peer's certificate (a server peer): `ed25519` (the default),
    /// `p256`, `rsa2048`.
    #[serde(default, skip_serializing_if = "KeyType::is_default")]
    pub key: KeyType,
    /// The peer's TLS 1.2 cipher list, OpenSSL syntax. It reaches a C API: no control
    /// characters.
    #[serde(
        default,
        deserialize_with = "c_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub cipher: Option<String>,
    /// The peer's key exchange groups, a `:`-separated list (`X25519:P-256`). It reaches a C
    /// API: no control characters.
    #[serde(
        default,
        deserialize_with = "c_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub groups: Option<String>,
}

impl PeerSpec {
    pub fn is_default(&self) -> bool {
        *self == PeerSpec::default()
    }
}

fn peer_tickets<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u8>, D::Error> {
    let n = Option::<u8>::deserialize(d)?;
    match n {
        Some(t) if t > MAX_PEER_TICKETS => Err(serde::de::Error::custom(format!(
            "tls13_tickets {t} is more than the limit of {MAX_PEER_TICKETS}"
        ))),
        _ => Ok(n),
    }
}

fn default_tls() -> Vec<Tls> {
    vec![Tls::V12, Tls::V13]
}
fn default_modes() -> Vec<Modes> {
    vec![Modes {
        auto_retry: true,
        ..Modes::default()
    }]
}
fn default_roles() -> Vec<Role> {
    vec![Role::Client]
}

/// One scenario file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub id: String,
    pub title: String,
    pub clauses: Vec<ClauseId>,
    #[serde(default)]
    pub situations: Vec<SituationId>,
    /// Each listed once: a repeat would multiply the runs (so a file expands into at most
    /// 2 versions × 2 roles × 16 mode sets = 64 runs).
    #[serde(default = "default_tls", deserialize_with = "distinct")]
    pub tls: Vec<Tls>,
    /// Mode sets to run under; each is exact (unlisted modes are cleared).
    #[serde(default = "default_modes", deserialize_with = "distinct")]
    pub modes: Vec<Modes>,
    /// The role(s) of the implementation under test.
    #[serde(default = "default_roles", deserialize_with = "distinct")]
    pub roles: Vec<Role>,
    #[serde(default)]
    pub transport: TransportSpec,
    #[serde(default)]
    pub connection: ConnectionSpec,
    /// At most [`MAX_STEPS`], refused while reading (a file cannot make the loader hold more).
    #[serde(deserialize_with = "bounded_steps")]
    pub steps: Vec<Step>,
    /// Why the scenario runs only over the in-memory transport (it needs exact byte counts
    /// that kernel socket buffers do not give). Over TCP its runs are skipped with this reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_only: Option<String>,
    /// A generated sequence (the fuzzer's, kept as a regression): compared like the fuzzer
    /// compares (up to a W6 break by the script; success against failure after a fatal error).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub generated: bool,
    /// `"$schema"`: where an editor finds the file format (`scenarios/schema.json`). Accepted
    /// so that files can name it, and otherwise ignored (never written back).
    #[serde(rename = "$schema", default, skip_serializing)]
    pub editor_schema: Option<String>,
    /// Where it was loaded from (set by the loader).
    #[serde(skip)]
    pub path: PathBuf,
}

/// Reads the step list, refusing it as soon as it grows past [`MAX_STEPS`], so the error has the
/// place in the file and no more steps than the limit are ever held.
/// A list in which nothing is repeated (a repeated version, role or mode set would only make
/// the same runs again, up to any number of them).
fn distinct<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de> + PartialEq + Serialize,
{
    let v = Vec::<T>::deserialize(d)?;
    for (i, x) in v.iter().enumerate() {
        if v[..i].contains(x) {
            let shown = serde_json::to_string(x).unwrap_or_default();
            return Err(serde::de::Error::custom(format!(
                "{shown} is listed twice: each entry is a run of its own"
            )));
        }
    }
    Ok(v)
}

/// A string that reaches a C API (a NUL would cut it; control characters are no part of any
/// cipher list).
fn c_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let s = Option::<String>::deserialize(d)?;
    if let Some(t) = &s {
        if let Some(c) = t.chars().find(|c| c.is_control()) {
            return Err(serde::de::Error::custom(format!(
                "{t:?} holds the control character {c:?}; it is passed to the library as a C string"
            )));
        }
    }
    Ok(s)
}

/// A TLS 1.3 padding block size: 1 (no padding) up to a whole record, 16384.
fn padding_block<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u16>, D::Error> {
    let n = Option::<u16>::deserialize(d)?;
    match n {
        Some(b) if !(1..=16384).contains(&b) => Err(serde::de::Error::custom(format!(
            "block_padding {b} is outside 1..=16384 (a record holds at most 16384 bytes)"
        ))),
        _ => Ok(n),
    }
}

fn bounded_steps<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Step>, D::Error> {
    struct Bounded;
    impl<'de> serde::de::Visitor<'de> for Bounded {
        type Value = Vec<Step>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "a list of at most {MAX_STEPS} steps")
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(
            self,
            mut seq: A,
        ) -> Result<Vec<Step>, A::Error> {
            let mut steps = Vec::new();
            // A step's problem found after the step was read whole (a tagged enum is buffered)
            // has no place in the text of its own yet: name the step.
            let at = |i: usize, e: A::Error| {
                let text = e.to_string();
                if text.contains(" at line ") {
                    e
                } else {
                    serde::de::Error::custom(format!("step {i}: {text}"))
                }
            };
            while let Some(step) = seq.next_element::<Step>().map_err(|e| at(steps.len(), e))? {
                if steps.len() == MAX_STEPS {
                    return Err(serde::de::Error::custom(format!(
                        "more than {MAX_STEPS} steps; the limit is {MAX_STEPS}"
                    )));
                }
                steps.push(step);
            }
            Ok(steps)
        }
    }
    d.deserialize_seq(Bounded)
}

/// Most bytes of write buffers (the largest write of each slot, added up) one scenario may ask
/// the runner to hold.
pub const MAX_BUFFER_BYTES: u64 = 64 << 20;

/// Drops `null` members recursively (serialized `None`s), for tidy scenario files.
pub fn strip_nulls(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(map) => {
            map.retain(|_, x| !x.is_null());
            map.values_mut().for_each(strip_nulls);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(strip_nulls),
        _ => {}
    }
}

impl Scenario {
    /// The scenario as a file's text (pretty JSON, `None`s left out); `parse` reads it back.
    pub fn to_json(&self) -> String {
        let mut v = serde_json::to_value(self).expect("a scenario always serializes");
        strip_nulls(&mut v);
        serde_json::to_string_pretty(&v).expect("a JSON value always prints") + "\n"
    }
}

/// A scenario file that could not be used: which file, where, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    pub path: PathBuf,
    /// 1-based line and column, when the problem has a place in the text.
    pub line_col: Option<(usize, usize)>,
    pub message: String,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line_col {
            Some((l, c)) => write!(f, "{}:{l}:{c}: {}", self.path.display(), self.message),
            None => write!(f, "{}: {}", self.path.display(), self.message),
        }
    }
}

impl std::error::Error for LoadError {}

impl Scenario {
    /// Parses one scenario from text; `path` is only used in messages.
    pub fn parse(path: &Path, text: &[u8]) -> Result<Scenario, LoadError> {
        let err = |line_col, message: String| LoadError {
            path: path.to_path_buf(),
            line_col,
            message,
        };
        if text.len() as u64 > MAX_FILE_BYTES {
            return Err(err(
                None,
                format!(
                    "file is {} bytes; scenario files are limited to {MAX_FILE_BYTES}",
                    text.len()
                ),
            ));
        }
        let text = std::str::from_utf8(text).map_err(|e| {
            let good = &text[..e.valid_up_to()];
            let line = good.iter().filter(|b| **b == b'\n').count() + 1;
            let col = good.len() - good.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1) + 1;
            err(
                Some((line, col)),
                format!(
                    "not UTF-8 text (invalid byte {:#04x} at offset {})",
                    text[e.valid_up_to()],
                    e.valid_up_to()
                ),
            )
        })?;
        let mut s: Scenario = serde_json::from_str(text).map_err(|e| {
            let msg = e.to_string();
            // serde_json appends " at line L column C"; we show the place up front instead.
            let msg = match msg.rfind(" at line ") {
                Some(i) => msg[..i].to_string(),
                None => msg,
            };
            // serde_json's column 0 is "before the line's first character".
            err(Some((e.line(), e.column().max(1))), msg)
        })?;
        s.path = path.to_path_buf();
        s.check()
            .map_err(|m| err(None, format!("scenario {:?}: {m}", s.id)))?;
        Ok(s)
    }

    /// Reads and parses one file, refusing oversized ones before reading them.
    pub fn load(path: &Path) -> Result<Scenario, LoadError> {
        let err = |message: String| LoadError {
            path: path.to_path_buf(),
            line_col: None,
            message,
        };
        let meta = std::fs::metadata(path).map_err(|e| err(format!("cannot read: {e}")))?;
        if !meta.is_file() {
            // A FIFO or device would block or never end.
            return Err(err("not a regular file".into()));
        }
        if meta.len() > MAX_FILE_BYTES {
            return Err(err(format!(
                "file is {} bytes; scenario files are limited to {MAX_FILE_BYTES}",
                meta.len()
            )));
        }
        // Read at most one byte past the limit, in case the file grew since.
        let mut text = Vec::new();
        std::fs::File::open(path)
            .and_then(|f| {
                std::io::Read::read_to_end(
                    &mut std::io::Read::take(f, MAX_FILE_BYTES + 1),
                    &mut text,
                )
            })
            .map_err(|e| err(format!("cannot read: {e}")))?;
        Scenario::parse(path, &text)
    }

    /// Checks that span several fields.
    fn check(&self) -> Result<(), String> {
        let id_ok = !self.id.is_empty()
            && self
                .id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !id_ok {
            return Err("id must be non-empty lowercase letters, digits and '-'".into());
        }
        if self.clauses.is_empty() {
            return Err("names no clause: every scenario says which clauses it exercises".into());
        }
        for (what, empty) in [
            ("tls", self.tls.is_empty()),
            ("modes", self.modes.is_empty()),
            ("roles", self.roles.is_empty()),
            ("steps", self.steps.is_empty()),
        ] {
            if empty {
                return Err(format!("{what} is empty: nothing would run"));
            }
        }
        if let Some(why) = &self.memory_only {
            if why.trim().is_empty() {
                return Err("memory_only needs a reason (why TCP cannot run it)".into());
            }
        }
        let mut slots = [0u64; 256];
        for step in &self.steps {
            if let Step::Write { len, buf, .. }
            | Step::WriteEx { len, buf, .. }
            | Step::WriteAll { len, buf, .. }
            | Step::WriteEarly { len, buf, .. } = step
            {
                let s = &mut slots[usize::from(*buf)];
                *s = (*s).max(len.0);
            }
        }
        let buffers: u64 = slots.iter().sum();
        if buffers > MAX_BUFFER_BYTES {
            return Err(format!(
                "its write buffers add up to {buffers} bytes (the largest write of each buf slot); the limit is {MAX_BUFFER_BYTES}"
            ));
        }
        if self.steps.len() > MAX_STEPS {
            return Err(format!(
                "has {} steps; the limit is {MAX_STEPS}",
                self.steps.len()
            ));
        }
        if let Some(m) = self.connection.max_fragment_length {
            if ![512, 1024, 2048, 4096].contains(&m) {
                return Err(format!(
                    "connection.max_fragment_length {m} is not one of 512, 1024, 2048, 4096"
                ));
            }
        }
        if self.connection.early_data && self.tls.contains(&Tls::V12) {
            return Err(
                "connection.early_data exists only in TLS 1.3, but the scenario runs under TLS 1.2 too (set \"tls\": [\"1.3\"])".into(),
            );
        }
        if self.connection.early_data && self.connection.resume {
            return Err(
                "connection.early_data and connection.resume cannot both be set: an early-data run resumes the ticket its own first connection got".into(),
            );
        }
        if let Some(f) = self.connection.max_send_fragment {
            if !(512..=16384).contains(&f) {
                return Err(format!(
                    "connection.max_send_fragment {f} is outside 512..=16384"
                ));
            }
        }
        self.check_peer()?;
        for (i, step) in self.steps.iter().enumerate() {
            if let Step::InjectRecord { payload, len, .. } = step {
                if payload.is_some() == len.is_some() {
                    return Err(format!(
                        "step {i}: inject_record needs exactly one of payload (hex bytes) and len"
                    ));
                }
            }
            if let Step::PeerWriteSplit { len, first } = step {
                if first.0 == 0 || len.0 == 0 {
                    return Err(format!(
                        "step {i}: peer_write_split needs len >= 1 and first >= 1"
                    ));
                }
            }
            let needs = match step {
                Step::Renegotiate { .. } | Step::PeerRenegotiate {} => Some(Tls::V12),
                Step::KeyUpdate { .. }
                | Step::PeerKeyUpdate { .. }
                | Step::NewSessionTicket { .. }
                | Step::PeerNewSessionTicket {}
                | Step::WriteEarly { .. }
                | Step::ReadEarly { .. }
                | Step::PeerWriteEarly { .. } => Some(Tls::V13),
                _ => None,
            };
            let early = matches!(
                step,
                Step::WriteEarly { .. } | Step::ReadEarly { .. } | Step::PeerWriteEarly { .. }
            );
            if early && !self.connection.early_data {
                return Err(format!(
                    "step {i} ({}) needs a resumed session: set connection.early_data",
                    step.short()
                ));
            }
            if let Some(v) = needs {
                if self.tls.iter().any(|t| *t != v) {
                    return Err(format!(
                        "step {i} ({}) exists only in TLS {v}, but the scenario runs under {}",
                        step.short(),
                        self.tls
                            .iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
            }
            if let Step::WriteAll { max_calls: 0, .. } = step {
                return Err(format!("step {i}: write_all needs max_calls >= 1"));
            }
            if let Step::WriteStream { total, .. } = step {
                if *total == 0 {
                    return Err(format!("step {i}: write_stream needs total >= 1"));
                }
                if *total > MAX_STREAM {
                    return Err(format!(
                        "step {i}: write_stream total {total} is larger than the limit of {MAX_STREAM} bytes"
                    ));
                }
            }
            if let Step::WriteNegative { num, .. } = step {
                if *num >= 0 {
                    return Err(format!("step {i}: write_negative needs num < 0, got {num}"));
                }
            }
        }
        Ok(())
    }

    /// Checks of `connection.peer`: each option says something only where the peer plays the
    /// role and version it is about.
    fn check_peer(&self) -> Result<(), String> {
        let p = &self.connection.peer;
        let server_peer = self.roles.iter().all(|r| *r == Role::Client);
        let only = |v: Tls| self.tls.iter().all(|t| *t == v);
        if p.refuse_client_renegotiation && !(server_peer && only(Tls::V12)) {
            return Err("connection.peer.refuse_client_renegotiation is about a TLS 1.2 server peer: set \"tls\": [\"1.2\"] and \"roles\": [\"client\"]".into());
        }
        if !p.is_default() && (self.connection.resume || self.connection.early_data) {
            return Err("connection.peer cannot be set with resume or early_data: the session they resume comes from a peer of the default configuration".into());
        }
        if p.tls13_tickets.is_some() && !(server_peer && only(Tls::V13)) {
            return Err("connection.peer.tls13_tickets is about a TLS 1.3 server peer: set \"tls\": [\"1.3\"] and \"roles\": [\"client\"]".into());
        }
        if !p.key.is_default() && !server_peer {
            return Err(
                "connection.peer.key is the peer server's certificate: set \"roles\": [\"client\"]"
                    .into(),
            );
        }
        if p.cipher.is_some() && !only(Tls::V12) {
            return Err(
                "connection.peer.cipher is a TLS 1.2 cipher list: set \"tls\": [\"1.2\"]".into(),
            );
        }
        Ok(())
    }

    /// A rough cost of one run: the bytes its steps write, plus one handshake's worth.
    pub fn weight(&self) -> u64 {
        let bytes: u64 = self
            .steps
            .iter()
            .map(|s| match s {
                Step::Write { len, .. }
                | Step::WriteEx { len, .. }
                | Step::WriteAll { len, .. } => len.0,
                Step::WriteStream { total, .. } => *total,
                Step::PeerWrite { len }
                | Step::PeerWriteEarly { len }
                | Step::PeerWriteSplit { len, .. } => len.0,
                Step::WriteEarly { len, .. } => len.0,
                _ => 0,
            })
            .sum();
        bytes + 64 * 1024
    }

    /// The runs this file expands into: TLS versions × mode sets × roles.
    pub fn runs(&self) -> Vec<RunKey> {
        let mut out = Vec::new();
        for &tls in &self.tls {
            for &role in &self.roles {
                for &modes in &self.modes {
                    out.push(RunKey {
                        id: self.id.clone(),
                        tls,
                        role,
                        modes,
                    });
                }
            }
        }
        out
    }
}

/// Identifies one run of a scenario.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RunKey {
    pub id: String,
    pub tls: Tls,
    pub role: Role,
    pub modes: Modes,
}

impl fmt::Display for RunKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/tls{}/{}/{}",
            self.id, self.tls, self.role, self.modes
        )
    }
}

/// Loads every `*.json` scenario under `dir` (recursively, sorted; `known-divergences.json`
/// and `schema.json` excluded). Collects every error rather than stopping at the first; duplicate ids are errors.
pub fn load_dir(dir: &Path) -> Result<Vec<Scenario>, Vec<LoadError>> {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    collect_json(dir, &mut files, &mut errors);
    files.sort();
    let mut out: Vec<Scenario> = Vec::new();
    for f in files {
        match Scenario::load(&f) {
            Ok(s) => {
                if let Some(prev) = out.iter().find(|p| p.id == s.id) {
                    errors.push(LoadError {
                        path: f.clone(),
                        line_col: None,
                        message: format!(
                            "duplicate scenario id {:?} (also in {})",
                            s.id,
                            prev.path.display()
                        ),
                    });
                } else {
                    out.push(s);
                }
            }
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        errors.sort_by(|a, b| a.path.cmp(&b.path));
        Err(errors)
    }
}

/// The file name of the known-divergences list, skipped when loading scenarios.
pub const KNOWN_DIVERGENCES_FILE: &str = "known-divergences.json";

/// The JSON Schema of scenario files (`scenarios/schema.json`), skipped when loading scenarios.
pub const SCHEMA_FILE: &str = "schema.json";

/// Symbolic links are not followed: a scenario folder holds its files, it does not point
/// elsewhere (and a link cannot make the walk loop). A link is an error that names it.
fn collect_json(dir: &Path, files: &mut Vec<PathBuf>, errors: &mut Vec<LoadError>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            errors.push(LoadError {
                path: dir.to_path_buf(),
                line_col: None,
                message: format!("cannot list the scenario folder: {e}"),
            });
            return;
        }
    };
    for entry in entries.flatten() {
        let p = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        let hidden = p
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if hidden {
            // Editor lock files (`.#x.json`) and the like.
            continue;
        }
        if kind.is_symlink() {
            errors.push(LoadError {
                path: p,
                line_col: None,
                message: "is a symbolic link; scenario files and folders must be real files inside the scenario folder".into(),
            });
        } else if kind.is_dir() {
            collect_json(&p, files, errors);
        } else if p.extension().is_some_and(|e| e == "json")
            && p.file_name()
                .is_some_and(|n| n != KNOWN_DIVERGENCES_FILE && n != SCHEMA_FILE)
        {
            files.push(p);
        }
    }
}

#[cfg(test)]
mod tests;
