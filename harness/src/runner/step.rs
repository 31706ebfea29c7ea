//! Dispatch of one step: the implementation's call, the peer's or the transport's action.

use super::*;
use crate::{record, reseal};

impl Runner<'_> {
    /// Runs one step; returns the length the implementation was asked to write, if any.
    pub(super) fn step(&mut self, i: usize, step: &Step, rec: &mut StepRecord) -> Option<u64> {
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
            Step::InjectRecord {
                content_type,
                version,
                payload,
                len,
            } => {
                let filler;
                let body = match (payload, len) {
                    (Some(p), _) => p.0.as_slice(),
                    (None, n) => {
                        filler = vec![record::FILLER; usize::from(n.unwrap_or(0))];
                        filler.as_slice()
                    }
                };
                self.pipe.inject(
                    Side::Impl,
                    &record::raw_record(*content_type, *version, body),
                );
                None
            }
            Step::PeerEmptyRecord {} => {
                rec.call = Some(self.peer.borrow_mut().resealed(reseal::Content::Empty));
                None
            }
            Step::PeerWarningAlert { description } => {
                let d = description.unwrap_or(record::USER_CANCELED);
                rec.call = Some(
                    self.peer
                        .borrow_mut()
                        .resealed(reseal::Content::WarningAlert(d)),
                );
                None
            }
            Step::PeerWriteSplit { len, first } => {
                let (call, n) = self.peer.borrow_mut().write_split(len.get(), first.get());
                rec.call = Some(call);
                rec.bytes = Some(n);
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
    pub(super) fn handshake(&mut self) -> CallLog {
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

    pub(super) fn handshake_impl(&mut self) -> CallLog {
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
    pub(super) fn motion(&self) -> [u64; 5] {
        [
            self.pipe.total_sent(Side::Impl),
            self.pipe.pending(Side::Peer) as u64,
            self.pipe.total_sent(Side::Peer),
            self.pipe.pending(Side::Impl) as u64,
            self.ledger.borrow().received_total(),
        ]
    }
}
