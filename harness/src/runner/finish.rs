//! The end of a run: the peer reads what is left, the end-of-run invariants (I1, W13) are
//! checked, and the trace is assembled.

use super::*;
use crate::wire::WireRecord;

impl Runner<'_> {
    pub(super) fn finish(mut self, status: RunStatus) -> Trace {
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
        // From the first step whose counts the kernel's timing decided on, what each peer
        // step read is timing too (the peer reads what the kernel let through, in the cuts
        // it let through). The run's totals are when some of it stayed the kernel's choice:
        // bytes went out that no write confirmed (a pending or deadlocked write), or a marked
        // count that stopped short is in the confirmed total. Writes that the script retried
        // until they were confirmed in full leave the totals facts.
        let first = self.steps.iter().find_map(|s| s.timing);
        let counts = self
            .steps
            .iter()
            .find_map(|s| s.timing.filter(|t| t.counts()));
        if let Some(t) = first {
            let mut marked = false;
            for s in &mut self.steps {
                marked |= s.timing.is_some();
                let quotes = |c: &Call| s.actor == Actor::Impl && !c.errors.is_empty();
                let follows = (s.actor == Actor::Peer && s.bytes.is_some())
                    || s.call.as_ref().is_some_and(quotes);
                if marked && follows {
                    s.timing.get_or_insert(Timing {
                        cause: TimingCause::Follows,
                        ..t
                    });
                }
            }
        }
        let timing = counts.filter(|_| delivery.unconfirmed > 0 || self.timing_short);
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
                timing: first,
            },
            violations: self.violations,
            checked: self.checked.into_iter().collect(),
            peer_end,
            broke_w6_at: self.broke_w6_at,
            resumed: None,
            duration_us: None,
            timing,
        }
    }
}
