//! The implementation's writes: one call, and the contract-following loops of `write_all`
//! and `write_stream` with their bounds (I2, I3).

use super::*;

/// What one contract-following write loop did.
struct LoopResult {
    done: usize,
    last: Call,
    /// Every call, when asked for (`write_all` reports them; `write_stream` only counts).
    calls: CallLog,
    ncalls: u64,
    stalled: bool,
    capped: bool,
}

/// Calls in a row without progress, while the peer drains, that break I3.
const NO_PROGRESS_CALLS: u32 = 100;

/// Ciphertext a write may send without confirming a byte: twice what is left of it, plus
/// room for record overhead and handshake messages (renegotiation, KeyUpdate, tickets). An
/// implementation that sends more is retransmitting, not writing: I3, and the loop stops
/// (no library can make a stream loop run until the time limit).
fn unconfirmed_allowance(left: usize) -> u64 {
    2 * left as u64 + 65_536
}

impl Runner<'_> {
    /// Records a write's bytes as confirmed and checks I2.
    pub(super) fn confirm(&mut self, i: usize, slot: usize, len: usize, call: &Call) {
        self.check_w10(i, call);
        if let Some(w) = call.written {
            if w > len as u64 {
                self.violation(
                    "I2",
                    "invariant",
                    Some(i),
                    format!("written = {w} > num = {len}"),
                );
            }
        }
        match call.outcome {
            Outcome::Ok(n) => {
                if n > len as u64 {
                    self.violation(
                        "I2",
                        "invariant",
                        Some(i),
                        format!("returned {n} > num = {len}"),
                    );
                } else {
                    if n == 0 && len > 0 {
                        self.violation(
                            "I2",
                            "invariant",
                            Some(i),
                            "success with 0 bytes for a non-empty write".into(),
                        );
                    }
                    let content = self.slot_content[slot];
                    self.ledger.borrow_mut().confirm(n, content);
                }
                self.write_pending = false;
            }
            Outcome::WantRead | Outcome::WantWrite => self.write_pending = true,
            _ => {}
        }
    }

    pub(super) fn call_write(
        &mut self,
        api: Api,
        slot: usize,
        range: std::ops::Range<usize>,
    ) -> Call {
        // W6: after want_*, the next write must pass the same length, and the same buffer
        // unless moving-buffer mode is on. Note where the script first breaks that: beyond it
        // the contract no longer says what an implementation must do.
        let (at, len) = (range.start, range.len());
        if let Some((plen, pslot, pat)) = self.retry_due.take() {
            let moved = pslot != slot || pat != at;
            if (plen != len || (moved && !self.modes_now.moving_buffer))
                && self.broke_w6_at.is_none()
            {
                self.broke_w6_at = Some(self.step_now);
            }
        }
        self.ledger.borrow_mut().expect(self.slot_content[slot]);
        let buf = &self.slots[slot][range];
        let refused = self.pipe.kernel_refused(Side::Impl);
        let call = match api {
            Api::Write => self.conn.write(buf),
            Api::WriteEx => self.conn.write_ex(buf),
        };
        if self.pipe.kernel_refused(Side::Impl) > refused {
            self.note_timing(&call, len);
        }
        if call.outcome.is_retry() {
            self.retry_due = Some((len, slot, at));
        }
        call
    }

    /// After a write of `len` bytes during which the kernel had no room for some of them: if
    /// the call then deadlocked or stopped short (want_write, or fewer bytes than it was
    /// given), where it stopped is the kernel's timing, and the step is marked
    /// ([`crate::trace::Timing`]). A write that got all its bytes through is not: its count is
    /// its length, whatever the kernel did meanwhile.
    fn note_timing(&mut self, call: &Call, len: usize) {
        let cause = if self.pipe.deadlocked() {
            TimingCause::Blocked
        } else {
            match call.outcome {
                Outcome::WantWrite => TimingCause::SendBufferFull,
                Outcome::Ok(n) if n < len as u64 => TimingCause::SendBufferFull,
                _ => return,
            }
        };
        // A deadlock anywhere in the step says more than a full buffer.
        self.timing_now = Some(match self.timing_now {
            Some(TimingCause::Blocked) => TimingCause::Blocked,
            _ => cause,
        });
    }

    /// Puts the stream's next `len` bytes (from the confirmed offset), or other bytes, into
    /// buffer slot `slot`, and notes what it holds.
    pub(super) fn fill_slot(&mut self, slot: usize, len: usize, content: Content) {
        let offset = self.ledger.borrow().confirmed_total();
        fill(&mut self.slots[slot][..len], offset, content);
        self.slot_content[slot] = content;
    }

    pub(super) fn write_once(
        &mut self,
        i: usize,
        rec: &mut StepRecord,
        slot: usize,
        len: usize,
        content: Content,
        api: Api,
    ) -> u64 {
        self.fill_slot(slot, len, content);
        let call = self.call_write(api, slot, 0..len);
        self.confirm(i, slot, len, &call);
        rec.call = Some(call);
        len as u64
    }

    /// Writes `len` bytes the way the contract tells a caller to: retry with the same
    /// arguments after want_*, letting the peer drain; continue with the rest after a partial
    /// success.
    pub(super) fn write_all(&mut self, i: usize, rec: &mut StepRecord, step: &Step) -> u64 {
        let Step::WriteAll {
            len,
            buf,
            api,
            drain,
            max_calls,
            ..
        } = step
        else {
            unreachable!("write_all is only called for Step::WriteAll");
        };
        let (slot, len) = (usize::from(*buf), len.get());
        self.checked.insert("I3".into());
        self.fill_slot(slot, len, Content::Stream);
        let r = self.write_loop(i, slot, len, *api, drain.map(|d| d.get()), *max_calls, true);
        let mut summary = r.last.clone();
        if r.done == len && r.last.outcome.is_ok() {
            summary.outcome = Outcome::Ok(len as u64);
        }
        rec.call = Some(summary);
        rec.bytes = Some(r.done as u64);
        if r.calls.calls.len() > 1 {
            rec.calls = r.calls.calls;
            rec.calls_omitted = r.calls.omitted;
        }
        if r.stalled {
            rec.op.push_str(" (stopped: the peer reads nothing more)");
        }
        rec.capped = r.capped;
        len as u64
    }

    /// Writes `total` bytes of the stream in chunks of `chunk` from one reused buffer, each
    /// chunk the way `write_all` writes: the bulk path (a 1 GiB run holds one chunk, not 1 GiB).
    pub(super) fn write_stream(&mut self, i: usize, rec: &mut StepRecord, step: &Step) -> u64 {
        let Step::WriteStream {
            total,
            chunk,
            api,
            drain,
            ..
        } = step
        else {
            unreachable!("write_stream is only called for Step::WriteStream");
        };
        self.checked.insert("I3".into());
        let (total, chunk) = (*total, chunk.get().max(1));
        let slot = self.slots.len() - 1;
        let mut done: u64 = 0;
        let mut calls: u64 = 0;
        let mut last = Call::skip("no call");
        while done < total {
            let len = chunk.min((total - done) as usize);
            self.fill_slot(slot, len, Content::Stream);
            let r = self.write_loop(i, slot, len, *api, drain.map(|d| d.get()), u32::MAX, false);
            calls += r.ncalls;
            done += r.done as u64;
            last = r.last;
            if r.done < len || !last.outcome.is_ok() {
                break;
            }
        }
        let mut summary = last;
        if done == total && summary.outcome.is_ok() {
            summary.outcome = Outcome::Ok(total);
        }
        rec.call = Some(summary);
        rec.bytes = Some(done);
        rec.op.push_str(&format!(" ({calls} calls)"));
        total
    }

    /// The contract-following write loop of `write_all` and `write_stream`: retry with the
    /// same arguments after want_* while the peer drains, continue after a partial success.
    #[allow(clippy::too_many_arguments)]
    fn write_loop(
        &mut self,
        i: usize,
        slot: usize,
        len: usize,
        api: Api,
        drain: Option<usize>,
        max_calls: u32,
        keep_calls: bool,
    ) -> LoopResult {
        let mut r = LoopResult {
            done: 0,
            last: Call::skip("no call"),
            calls: CallLog::default(),
            ncalls: 0,
            stalled: false,
            capped: false,
        };
        let mut idle = 0u32;
        let mut chance = true;
        let mut sent_at_confirm = self.pipe.total_sent(Side::Impl);
        loop {
            let unconfirmed = self.pipe.total_sent(Side::Impl) - sent_at_confirm;
            if unconfirmed > unconfirmed_allowance(len - r.done.min(len)) {
                self.violation(
                    "I3",
                    "invariant",
                    Some(i),
                    format!(
                        "{} of {len} bytes written; {unconfirmed} bytes went to the transport since the last confirmed write, more than the {} bytes left can take",
                        r.done,
                        len - r.done.min(len)
                    ),
                );
                break;
            }
            if idle >= NO_PROGRESS_CALLS {
                self.violation(
                    "I3",
                    "invariant",
                    Some(i),
                    format!(
                        "{} of {len} bytes written; {idle} calls in a row that followed the contract made no progress while the peer drained",
                        r.done
                    ),
                );
                break;
            }
            if r.ncalls >= u64::from(max_calls) {
                r.capped = true;
                break;
            }
            let progress_before = (
                self.pipe.total_sent(Side::Impl),
                self.pipe.pending(Side::Impl),
            );
            let mut call = self.call_write(api, slot, r.done..len);
            self.confirm(i, slot, len - r.done, &call);
            let progress_after = (
                self.pipe.total_sent(Side::Impl),
                self.pipe.pending(Side::Impl),
            );
            // A success moves bytes; `ok(0)` for a non-empty write does not (and is an I2
            // violation, recorded by `confirm`): it ends the loop below.
            let wrote = matches!(call.outcome, Outcome::Ok(n) if n > 0);
            let moved = progress_before != progress_after || wrote;
            // A call counts as idle only when the last drain gave it a chance: freed transport
            // space or sent it bytes (a drain served from the peer's own buffer does not).
            idle = if moved {
                0
            } else if chance {
                idle + 1
            } else {
                idle
            };
            r.ncalls += 1;
            let deadlocked = self.pipe.take_deadlock();
            if deadlocked {
                call.outcome = Outcome::Deadlock;
            }
            let outcome = call.outcome.clone();
            if keep_calls {
                r.calls.push(call.clone());
            }
            r.last = call;
            if deadlocked {
                break;
            }
            match outcome {
                Outcome::Ok(0) => break,
                Outcome::Ok(n) => {
                    r.done += n as usize;
                    sent_at_confirm = self.pipe.total_sent(Side::Impl);
                    if r.done >= len {
                        break;
                    }
                }
                Outcome::WantRead | Outcome::WantWrite => {
                    // The contract's premise is a peer that drains. When the peer takes
                    // nothing (its transport is gone, its connection ended, or it has stopped
                    // reading), retrying cannot help: stop, without blaming the writer (I3).
                    let before = self.motion();
                    let mut p = self.peer.borrow_mut();
                    if !p.transport_gone {
                        p.read(drain);
                    }
                    drop(p);
                    let after = self.motion();
                    // A call the trickle refused moved nothing for the drain to take, and
                    // the next attempt takes bytes: not a stall.
                    if after == before && !self.pipe.take_trickle_refusal(Side::Impl) {
                        r.stalled = true;
                        break;
                    }
                    // A chance for the writer: the drain left room in its direction (a backlog
                    // above the capacity takes several drains before the first byte fits), or
                    // the peer sent it something (a handshake message, a KeyUpdate).
                    chance = after[..4] != before[..4]
                        && (self.pipe.has_room(Side::Impl) || after[2] != before[2]);
                }
                _ => break,
            }
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_may_send_twice_what_is_left_plus_64_kib_unconfirmed() {
        assert_eq!(unconfirmed_allowance(0), 65_536);
        assert_eq!(unconfirmed_allowance(16_384), 98_304);
    }
}
