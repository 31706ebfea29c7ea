//! The reference peer: an OpenSSL connection of the other role, driven by the scenario's
//! `peer_*` steps, whose application reads feed the I1 ledger.

use std::cell::RefCell;
use std::rc::Rc;

use crate::contract::{
    Call, ConnConfig, Connection, Implementation, Modes, Outcome, Role, Session, SetupError,
};
use crate::payload::{fill, Content, Ledger};
use crate::reseal;
use crate::scenario::PeerSpec;
use crate::transport::{Pipe, Side};

/// Largest plaintext read per `SSL_read` call.
const READ_CHUNK: usize = 16384;

/// A corrupt TLS record: an application_data header and bytes no key decrypts.
pub const GARBAGE_RECORD: [u8; 45] = {
    let mut r = [0x42u8; 45];
    r[0] = 23;
    r[1] = 3;
    r[2] = 3;
    r[3] = 0;
    r[4] = 40;
    r
};

pub struct Peer {
    conn: Box<dyn Connection>,
    pipe: Pipe,
    ledger: Rc<RefCell<Ledger>>,
    scratch: Vec<u8>,
    /// Whether a blocking writer's wait lets the peer read (`peer_stop_reading` clears it).
    pub reading: bool,
    /// The peer closed or reset its transport: it reads nothing more.
    pub transport_gone: bool,
    /// Bytes of the peer's own stream written so far.
    sent: u64,
    /// The rest of a peer write that the transport did not take yet (retried by `pump`).
    unsent: Vec<u8>,
    /// How the peer's connection ended, if it did: the first read that returned
    /// `zero_return` (close_notify received) or a fatal error.
    pub ended: Option<Outcome>,
    /// A server that accepts early data reads it with `SSL_read_early_data` until that says
    /// FINISH; only then does it read the normal way.
    early_reading: bool,
    /// A client that wrote early data: OpenSSL's client keeps its handshake open for more
    /// until the application calls SSL_do_handshake (or SSL_write), so the peer's next read
    /// does that first, as a client application would after `SSL_write_early_data`.
    early_written: bool,
}

impl Peer {
    /// The peer's configuration for a run where the implementation under test has `impl_cfg`.
    pub fn config(impl_cfg: &ConnConfig, spec: &PeerSpec) -> ConnConfig {
        let mut cfg = ConnConfig::new(
            impl_cfg.role.other(),
            impl_cfg.tls,
            Modes {
                partial_write: true,
                moving_buffer: true,
                auto_retry: true,
                release_buffers: false,
            },
        );
        cfg.allow_client_renegotiation = !spec.refuse_client_renegotiation;
        // The client side asks for max_fragment_length; when the peer is the client, it asks.
        cfg.max_fragment_length = impl_cfg.max_fragment_length;
        cfg.early_data = impl_cfg.early_data;
        cfg.resume = impl_cfg.resume;
        cfg.tls13_tickets = spec.tls13_tickets.or(impl_cfg.tls13_tickets);
        // The scenario's cipher list binds both ends unless the peer has one of its own (a
        // peer that cannot take it, rustls, makes the run `skip`).
        cfg.cipher = spec.cipher.clone().or_else(|| impl_cfg.cipher.clone());
        cfg.groups = spec.groups.clone();
        cfg.key = spec.key;
        cfg
    }

    /// Opens the peer for a run where the implementation under test has `impl_cfg`; a peer
    /// client resumes `session` (from a connection of `reference`) if given.
    pub fn new(
        reference: &dyn Implementation,
        (impl_cfg, spec): (&ConnConfig, &PeerSpec),
        pipe: &Pipe,
        ledger: Rc<RefCell<Ledger>>,
        session: Option<&Session>,
    ) -> Result<Peer, SetupError> {
        let cfg = Peer::config(impl_cfg, spec);
        let io = pipe.endpoint(Side::Peer);
        let conn = match session {
            Some(s) => reference.resume(&cfg, io, s)?,
            None => reference.connect(&cfg, io)?,
        };
        Ok(Peer {
            early_reading: cfg.early_data && cfg.role == Role::Server,
            early_written: false,
            conn,
            pipe: pipe.clone(),
            ledger,
            scratch: vec![0; READ_CHUNK],
            reading: true,
            transport_gone: false,
            sent: 0,
            unsent: Vec::new(),
            ended: None,
        })
    }

    /// The peer's application reads up to `limit` bytes (all it can if `None`). Returns the
    /// call that stopped the loop and the number of bytes read.
    pub fn read(&mut self, limit: Option<usize>) -> (Call, u64) {
        if self.early_written {
            let call = self.conn.handshake();
            if !call.outcome.is_ok() {
                self.note_end(&call.outcome);
                return (call, 0);
            }
            self.early_written = false;
        }
        let mut total: usize = 0;
        loop {
            let want = match limit {
                Some(l) if total >= l => {
                    return (
                        Call::new(Outcome::Ok(total as u64), total as i64),
                        total as u64,
                    )
                }
                Some(l) => (l - total).min(READ_CHUNK),
                None => READ_CHUNK,
            };
            let early = self.early_reading;
            let call = if early {
                self.conn.read_early_data(&mut self.scratch[..want])
            } else {
                self.conn.read(&mut self.scratch[..want])
            };
            match call.outcome {
                // SSL_READ_EARLY_DATA_FINISH: the normal reads take over.
                Outcome::Ok(0) if early => self.early_reading = false,
                Outcome::Ok(n) if n > 0 => {
                    let n = n as usize;
                    self.ledger.borrow_mut().receive(&self.scratch[..n]);
                    total += n;
                }
                _ => {
                    self.note_end(&call.outcome);
                    return (call, total as u64);
                }
            }
        }
    }

    /// Notes how the peer's connection ended, the first time a call says so (a fatal error,
    /// or `zero_return`: close_notify received).
    fn note_end(&mut self, outcome: &Outcome) {
        if self.ended.is_none() && (outcome.is_fatal() || *outcome == Outcome::ZeroReturn) {
            self.ended = Some(outcome.clone());
        }
    }

    /// One `SSL_do_handshake` step of the peer (a server still reading early data reads it:
    /// the handshake goes on from there).
    pub fn handshake(&mut self) -> Call {
        if self.early_reading {
            return self.read(None).0;
        }
        self.conn.handshake()
    }

    pub fn handshake_done(&self) -> bool {
        self.conn.handshake_done()
    }

    /// What a blocking writer's wait (and the end of a run) lets the peer do: go on with an
    /// unfinished write, then read all.
    ///
    /// A blocking implementation runs this from inside its own call (its BIO write); with an
    /// OpenSSL implementation that call may already have put errors on this thread's queue,
    /// which the peer's calls would clear. So the queue is set aside and put back around it.
    pub fn pump(&mut self) {
        if self.transport_gone {
            return;
        }
        // The pump may run from inside an implementation call: the peer is the harness's.
        crate::blame::outside(|| self.pump_inner());
    }

    fn pump_inner(&mut self) {
        let outer = openssl::error::ErrorStack::get();
        if !self.unsent.is_empty() {
            self.write(0);
        }
        if self.reading {
            self.read(None);
        }
        openssl::error::ErrorStack::get(); // the peer's own leftovers, if any
        outer.put();
    }

    /// The peer's application writes `len` more bytes of its own stream, after whatever an
    /// earlier write left unsent (retried with the same bytes, as the contract asks).
    pub fn write(&mut self, len: usize) -> (Call, u64) {
        let start = self.sent + self.unsent.len() as u64;
        let mut more = vec![0u8; len];
        fill(&mut more, start, Content::Stream);
        let mut buf = std::mem::take(&mut self.unsent);
        buf.extend_from_slice(&more);
        let mut off = 0;
        loop {
            let call = self.conn.write_ex(&buf[off..]);
            if let Outcome::Ok(n) = call.outcome {
                off += n as usize;
                self.sent += n;
                if off < buf.len() {
                    continue;
                }
            } else if call.outcome.is_retry() {
                self.unsent = buf[off..].to_vec();
            }
            return (call, off as u64);
        }
    }

    /// The peer client writes `len` more bytes of its own stream as early data.
    pub fn write_early(&mut self, len: usize) -> (Call, u64) {
        let mut buf = vec![0u8; len];
        fill(&mut buf, self.sent, Content::Stream);
        let call = self.conn.write_early_data(&buf);
        let n = match call.outcome {
            Outcome::Ok(n) => n,
            _ => 0,
        };
        self.early_written = true;
        self.sent += n;
        (call, n)
    }

    pub fn shutdown(&mut self) -> Call {
        self.conn.shutdown()
    }

    /// Schedules a renegotiation and sends its first message right away.
    pub fn renegotiate(&mut self) -> Call {
        let c = self.conn.renegotiate();
        if !c.outcome.is_ok() {
            return c;
        }
        self.conn.handshake()
    }

    /// Sends a KeyUpdate right away.
    pub fn key_update(&mut self, requested: bool) -> Call {
        let c = self.conn.key_update(requested);
        if !c.outcome.is_ok() {
            return c;
        }
        self.conn.handshake()
    }

    /// Issues an extra NewSessionTicket right away.
    pub fn new_session_ticket(&mut self) -> Call {
        let c = self.conn.new_session_ticket();
        if !c.outcome.is_ok() {
            return c;
        }
        self.conn.handshake()
    }

    /// The peer's application writes `len` bytes, of which the transport takes `first` now
    /// (the rest stays with the peer's connection, as after any short transport write, and
    /// goes with its next write or pump).
    pub fn write_split(&mut self, len: usize, first: usize) -> (Call, u64) {
        self.pipe.set_budget(Side::Peer, Some(first));
        let out = self.write(len);
        self.pipe.set_budget(Side::Peer, None);
        out
    }

    /// The peer sends a record its API cannot (an empty application-data record, a warning
    /// alert): it writes one byte, and the harness re-seals that record to hold `content`
    /// ([`crate::reseal`]). `skip` with the reason where it cannot.
    pub fn resealed(&mut self, content: reseal::Content) -> Call {
        if !self.unsent.is_empty() {
            return Call::skip(
                "the peer has an unfinished write: its next record would not be the one re-sealed",
            );
        }
        let secrets = match self.conn.write_secrets() {
            Ok(s) => s,
            Err(why) => return Call::skip(format!("the peer cannot send this record: {why}")),
        };
        self.pipe.set_capture(Side::Peer, true);
        let call = self.conn.write_ex(&[0x2a]);
        let captured = self.pipe.take_capture(Side::Peer);
        self.pipe.set_capture(Side::Peer, false);
        if !matches!(call.outcome, Outcome::Ok(1)) {
            self.pipe.inject(Side::Impl, &captured);
            return call;
        }
        let sent = self.pipe.records(Side::Peer).0.len() as u64;
        let made = reseal::records(&captured).and_then(|recs| {
            let (last, before) = recs.split_last().ok_or("the peer's write sent nothing")?;
            let new = reseal::reseal(last, &secrets, sent + recs.len() as u64, content)?;
            Ok((before.concat(), new))
        });
        match made {
            Ok((before, new)) => {
                self.pipe.inject(Side::Impl, &before);
                self.pipe.inject(Side::Impl, &new);
                Call::new(Outcome::Ok(new.len() as u64), 1)
            }
            Err(why) => {
                // Nothing re-sealed: the byte goes as written, and the step says why it failed.
                self.pipe.inject(Side::Impl, &captured);
                Call::skip(format!("the peer's record could not be re-sealed: {why}"))
            }
        }
    }

    /// Makes the peer send a fatal alert: it receives a corrupt record, rejects it, and says so.
    pub fn fatal_alert(&mut self) -> (Call, u64) {
        self.pipe.inject(Side::Peer, &GARBAGE_RECORD);
        self.read(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::certs::KeyType;
    use crate::contract::Tls;

    #[test]
    fn the_peer_takes_its_options_and_the_scenarios_cipher_list() {
        let mut imp = ConnConfig::new(Role::Client, Tls::V12, Modes::default());
        imp.cipher = Some("ECDHE-ECDSA-AES128-SHA".into());
        let plain = Peer::config(&imp, &PeerSpec::default());
        assert_eq!(plain.role, Role::Server);
        assert!(plain.allow_client_renegotiation, "the default peer accepts");
        assert_eq!(plain.cipher.as_deref(), Some("ECDHE-ECDSA-AES128-SHA"));
        assert_eq!(
            (plain.groups.as_deref(), plain.key),
            (None, KeyType::Ed25519)
        );
        let spec = PeerSpec {
            refuse_client_renegotiation: true,
            tls13_tickets: Some(0),
            key: KeyType::P256,
            cipher: Some("ECDHE-ECDSA-CHACHA20-POLY1305".into()),
            groups: Some("P-256".into()),
        };
        let p = Peer::config(&imp, &spec);
        assert!(!p.allow_client_renegotiation);
        assert_eq!(p.tls13_tickets, Some(0));
        assert_eq!(p.key, KeyType::P256);
        assert_eq!(p.cipher.as_deref(), Some("ECDHE-ECDSA-CHACHA20-POLY1305"));
        assert_eq!(p.groups.as_deref(), Some("P-256"));
        // The implementation's own configuration is not the peer's business.
        assert_eq!(imp.groups, None);
    }
}
