//! The controllable in-memory transport every implementation runs over.
//!
//! A [`Pipe`] holds two directions (implementation → peer and peer → implementation), each a
//! byte queue with a capacity. Its two [`Endpoint`]s are `Read + Write`: a write into a full
//! direction answers `WouldBlock`, which both OpenSSL's BIO and rustls's `write_tls` turn into
//! "try again", so WANT_WRITE, partial progress and retries are reproducible byte for byte.
//!
//! Blocking mode (clause W3): when the implementation's endpoint would block, the pipe runs the
//! *pump* (the runner lets the peer read what it is scripted to read) and tries again; when the
//! pump frees nothing, the call fails with a deadlock error and [`Pipe::take_deadlock`] reports
//! it, so a run ends with a clear `deadlock` instead of hanging.
//!
//! Faults: FIN (half close), close (reader gone: the next write is swallowed, later ones get
//! EPIPE, as a kernel does), reset (ECONNRESET once, then EOF/EPIPE), a trickle mode that takes
//! a few bytes per attempt and blocks every other attempt (situation RT-9), writes that report
//! 0 bytes (RT-10), and raw injection of bytes.
//!
//! Everything here is single-threaded (`Rc<RefCell<_>>`): one run lives on one thread.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io;
use std::rc::Rc;

use serde::{Deserialize, Serialize};

use crate::wire::{RecordObserver, WireRecord};

mod tcp;

/// Which transport a run goes over.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum TransportKind {
    /// The in-memory [`Pipe`]: exact capacities, faults as scripted.
    #[default]
    Memory,
    /// Two real sockets over 127.0.0.1: the kernel's buffers, FIN, RST and EPIPE.
    Tcp,
}

impl TransportKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TransportKind::Memory => "memory",
            TransportKind::Tcp => "tcp",
        }
    }
}

impl std::fmt::Display for TransportKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which endpoint of the pipe.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// The implementation under test.
    Impl,
    /// The reference peer.
    Peer,
}

impl Side {
    fn outgoing(self) -> usize {
        match self {
            Side::Impl => 0,
            Side::Peer => 1,
        }
    }
    fn incoming(self) -> usize {
        1 - self.outgoing()
    }
}

/// How a pipe starts out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PipeConfig {
    /// Bytes the implementation → peer direction holds before the writer would block.
    pub capacity_to_peer: usize,
    /// Bytes the peer → implementation direction holds.
    pub capacity_to_impl: usize,
    /// The implementation's endpoint blocks (pumping the peer) instead of answering WouldBlock.
    pub blocking: bool,
}

/// Called when the implementation's blocking endpoint cannot proceed. Lets the peer run.
pub type Pump = Box<dyn FnMut()>;

#[derive(Default)]
struct Direction {
    buf: VecDeque<u8>,
    capacity: usize,
    /// Writer half-closed (FIN): the reader sees EOF once the queue is empty.
    eof: bool,
    /// The reader is gone: one write is swallowed, later ones fail with EPIPE.
    reader_gone: bool,
    swallowed_one: bool,
    /// A reset is pending for the writer / the reader of this direction.
    reset_writer: bool,
    reset_reader: bool,
    /// After a reset was reported: writes fail with EPIPE.
    broken: bool,
    /// The writer itself half-closed, closed or reset its end: its own writes fail (EPIPE),
    /// as on a socket after shutdown(SHUT_WR) or close.
    writer_gone: bool,
    /// Trickle mode: at most this many bytes per attempt, every other attempt blocks.
    trickle: Option<usize>,
    trickle_blocked_last: bool,
    /// The writer's last attempt was refused by the trickle alone (its next one takes bytes).
    trickle_refused: bool,
    /// The next this many writes report 0 bytes written.
    zero_writes: u32,
    /// Bytes the direction takes before its writer's writes block (`peer_write_split`).
    budget: Option<usize>,
    /// While set, the writer's bytes are kept here instead of sent (a record to re-seal).
    capture: Option<Vec<u8>>,
    total: u64,
    records: RecordObserver,
}

struct State {
    dirs: [Direction; 2],
    blocking: bool,
    pump: Option<Pump>,
    deadlocked: bool,
    /// The last transport error each side saw (not WouldBlock), for the call record.
    io_error: [Option<String>; 2],
    /// `Some` for loopback TCP: the sockets replace the byte queues (see `tcp.rs`).
    tcp: Option<tcp::Link>,
    /// Per writing side: how often the kernel had no room for its bytes (TCP only).
    refused: [u64; 2],
}

/// The shared transport of one run. Cheap to clone (a handle).
#[derive(Clone)]
pub struct Pipe(Rc<RefCell<State>>);

/// One end of a [`Pipe`]; what a TLS implementation reads from and writes to.
pub struct Endpoint {
    pipe: Pipe,
    side: Side,
}

impl Pipe {
    pub fn new(cfg: &PipeConfig) -> Pipe {
        let mut dirs: [Direction; 2] = Default::default();
        dirs[0].capacity = cfg.capacity_to_peer;
        dirs[1].capacity = cfg.capacity_to_impl;
        Pipe(Rc::new(RefCell::new(State {
            dirs,
            blocking: cfg.blocking,
            pump: None,
            deadlocked: false,
            io_error: [None, None],
            tcp: None,
            refused: [0; 2],
        })))
    }

    /// A pipe over two connected loopback TCP sockets (127.0.0.1 only): the implementation's
    /// end connects, the peer's is accepted. Capacities become send buffer sizes; `receive`
    /// (to the peer, to the implementation) are the receive buffers, fixed before the TCP
    /// handshake (see `transport/tcp.rs`).
    pub fn tcp(cfg: &PipeConfig, receive: (usize, usize)) -> io::Result<Pipe> {
        let link = tcp::Link::open(cfg, receive)?;
        let pipe = Pipe::new(cfg);
        pipe.0.borrow_mut().tcp = Some(link);
        Ok(pipe)
    }

    /// Which transport this pipe is.
    pub fn kind(&self) -> TransportKind {
        if self.0.borrow().tcp.is_some() {
            TransportKind::Tcp
        } else {
            TransportKind::Memory
        }
    }

    pub fn endpoint(&self, side: Side) -> Endpoint {
        Endpoint {
            pipe: self.clone(),
            side,
        }
    }

    /// Installs the function a blocking implementation endpoint runs when it cannot proceed.
    pub fn set_pump(&self, pump: Pump) {
        self.0.borrow_mut().pump = Some(pump);
    }

    /// How often the kernel had no room for `writer`'s bytes so far (a send that would block):
    /// always 0 in memory, where capacities are exact. The runner marks what such a write
    /// then reported as timing-dependent ([`crate::trace::Timing`]).
    pub fn kernel_refused(&self, writer: Side) -> u64 {
        self.0.borrow().refused[writer.outgoing()]
    }

    /// Whether a blocking call deadlocked since the last [`Pipe::take_deadlock`] (kept).
    pub fn deadlocked(&self) -> bool {
        self.0.borrow().deadlocked
    }

    /// Whether a blocking call deadlocked since the last look (and forget it).
    pub fn take_deadlock(&self) -> bool {
        std::mem::take(&mut self.0.borrow_mut().deadlocked)
    }

    /// The last transport error `side` got (EPIPE, ECONNRESET, deadlock), and forget it.
    pub fn take_io_error(&self, side: Side) -> Option<String> {
        self.0.borrow_mut().io_error[side.outgoing()].take()
    }

    fn note_error(&self, side: Side, r: io::Result<usize>) -> io::Result<usize> {
        if let Err(e) = &r {
            if e.kind() != io::ErrorKind::WouldBlock {
                self.0.borrow_mut().io_error[side.outgoing()] = Some(e.to_string());
            }
        }
        r
    }

    /// Whether the implementation's endpoint blocks.
    pub fn blocking(&self) -> bool {
        self.0.borrow().blocking
    }

    pub fn set_blocking(&self, blocking: bool) {
        let mut st = self.0.borrow_mut();
        st.blocking = blocking;
        if let Some(t) = &st.tcp {
            t.set_blocking(blocking);
        }
    }

    /// Sets the capacity of the direction `writer` writes into.
    pub fn set_capacity(&self, writer: Side, capacity: usize) {
        let mut st = self.0.borrow_mut();
        st.dirs[writer.outgoing()].capacity = capacity;
        if let Some(t) = &st.tcp {
            t.set_capacity(writer, capacity);
        }
    }

    pub fn set_trickle(&self, writer: Side, bytes: Option<usize>) {
        self.0.borrow_mut().dirs[writer.outgoing()].trickle = bytes;
    }

    /// The direction `writer` writes into takes `bytes` more, then blocks (`None`: no limit).
    pub fn set_budget(&self, writer: Side, bytes: Option<usize>) {
        self.0.borrow_mut().dirs[writer.outgoing()].budget = bytes;
    }

    /// While on, what `writer` writes is kept aside (taken with [`Pipe::take_capture`]) rather
    /// than sent: not observed, not counted, never seen by the reader.
    pub fn set_capture(&self, writer: Side, on: bool) {
        self.0.borrow_mut().dirs[writer.outgoing()].capture = on.then(Vec::new);
    }

    /// The bytes captured from `writer` so far.
    pub fn take_capture(&self, writer: Side) -> Vec<u8> {
        let mut st = self.0.borrow_mut();
        st.dirs[writer.outgoing()]
            .capture
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default()
    }

    pub fn set_zero_writes(&self, writer: Side, count: u32) {
        self.0.borrow_mut().dirs[writer.outgoing()].zero_writes = count;
    }

    /// `side` half-closes its sending direction (shutdown(SHUT_WR)).
    pub fn fin(&self, side: Side) {
        let mut st = self.0.borrow_mut();
        if let Some(t) = &st.tcp {
            t.fin(side);
        }
        st.dirs[side.outgoing()].eof = true;
        st.dirs[side.outgoing()].writer_gone = true;
    }

    /// `side` closes its socket: FIN outwards, and what is sent to it from now on is lost.
    pub fn close(&self, side: Side) {
        let mut st = self.0.borrow_mut();
        if let Some(t) = &mut st.tcp {
            t.close(side, false);
        }
        st.dirs[side.outgoing()].eof = true;
        st.dirs[side.outgoing()].writer_gone = true;
        let inc = &mut st.dirs[side.incoming()];
        inc.reader_gone = true;
        inc.buf.clear();
    }

    /// `side` resets the connection (SO_LINGER 0): the other end's next read or write fails
    /// with ECONNRESET; queued bytes in both directions are dropped.
    pub fn reset(&self, side: Side) {
        let mut st = self.0.borrow_mut();
        if let Some(t) = &mut st.tcp {
            t.close(side, true);
            return;
        }
        for d in &mut st.dirs {
            d.buf.clear();
        }
        st.dirs[side.incoming()].reset_writer = true;
        st.dirs[side.incoming()].reader_gone = true;
        st.dirs[side.incoming()].swallowed_one = true;
        st.dirs[side.outgoing()].reset_reader = true;
        st.dirs[side.outgoing()].writer_gone = true;
    }

    /// Puts raw bytes on the wire towards `reader`, ignoring capacity.
    pub fn inject(&self, reader: Side, bytes: &[u8]) {
        let mut st = self.0.borrow_mut();
        if let Some(t) = &mut st.tcp {
            t.inject(reader, bytes);
            st.dirs[reader.incoming()].records.observe(bytes);
            return;
        }
        let d = &mut st.dirs[reader.incoming()];
        d.buf.extend(bytes);
        d.records.observe(bytes);
    }

    /// Bytes queued towards `reader`, not yet read.
    pub fn pending(&self, reader: Side) -> usize {
        let st = self.0.borrow();
        match &st.tcp {
            Some(t) => t.pending(reader),
            None => st.dirs[reader.incoming()].buf.len(),
        }
    }

    /// Whether the direction `writer` writes into holds less than its capacity (a write
    /// could put bytes in it now).
    pub fn has_room(&self, writer: Side) -> bool {
        let capacity = self.0.borrow().dirs[writer.outgoing()].capacity;
        let reader = match writer {
            Side::Impl => Side::Peer,
            Side::Peer => Side::Impl,
        };
        self.pending(reader) < capacity
    }

    /// Whether `writer`'s last write attempt was refused by the trickle alone, with room in
    /// the transport: its next attempt takes bytes, whatever the reader does. Cleared by the
    /// asking, so that one refusal excuses one call that moved nothing.
    pub fn take_trickle_refusal(&self, writer: Side) -> bool {
        std::mem::take(&mut self.0.borrow_mut().dirs[writer.outgoing()].trickle_refused)
    }

    /// Total bytes `writer` put on the wire.
    pub fn total_sent(&self, writer: Side) -> u64 {
        self.0.borrow().dirs[writer.outgoing()].total
    }

    /// The records `writer` put on the wire, and how many more were not kept.
    pub fn records(&self, writer: Side) -> (Vec<WireRecord>, u64) {
        let st = self.0.borrow();
        let r = &st.dirs[writer.outgoing()].records;
        (r.records().to_vec(), r.dropped())
    }

    /// A fingerprint of everything that moves: bytes sent and queued in both directions.
    fn motion(&self) -> [u64; 4] {
        [
            self.total_sent(Side::Impl),
            self.pending(Side::Peer) as u64,
            self.total_sent(Side::Peer),
            self.pending(Side::Impl) as u64,
        ]
    }

    /// Runs the pump if this side blocks; returns false when there is nothing to run or the
    /// pump moved nothing (the peer can do nothing more for us: a deadlock).
    fn pump(&self, side: Side) -> bool {
        let mut pump = {
            let mut st = self.0.borrow_mut();
            if side != Side::Impl || !st.blocking {
                return false;
            }
            match st.pump.take() {
                Some(p) => p,
                None => return false,
            }
        };
        let before = self.motion();
        pump();
        self.0.borrow_mut().pump = Some(pump);
        self.motion() != before
    }

    fn deadlock(&self, what: &str) -> io::Error {
        self.0.borrow_mut().deadlocked = true;
        io::Error::other(format!(
            "sslwrite transport deadlock: blocking {what} cannot proceed and the peer frees nothing"
        ))
    }

    fn write(&self, side: Side, buf: &[u8]) -> io::Result<usize> {
        if let Some(kept) = self.0.borrow_mut().dirs[side.outgoing()].capture.as_mut() {
            kept.extend_from_slice(buf);
            return Ok(buf.len());
        }
        let r = if self.0.borrow().tcp.is_some() {
            self.write_tcp(side, buf)
        } else {
            self.write_inner(side, buf)
        };
        self.note_error(side, r)
    }

    fn read(&self, side: Side, buf: &mut [u8]) -> io::Result<usize> {
        let r = if self.0.borrow().tcp.is_some() {
            self.read_tcp(side, buf)
        } else {
            self.read_inner(side, buf)
        };
        self.note_error(side, r)
    }

    /// Blocking mode pumps the peer for as long as that moves bytes; each pump either moves
    /// at least one byte or ends the call with a deadlock, so the loop is bounded by the bytes
    /// the scenario can move.
    fn write_inner(&self, side: Side, buf: &[u8]) -> io::Result<usize> {
        loop {
            {
                let mut st = self.0.borrow_mut();
                let blocking = st.blocking && side == Side::Impl;
                let d = &mut st.dirs[side.outgoing()];
                if d.writer_gone {
                    return Err(io::Error::new(
                        io::ErrorKind::BrokenPipe,
                        "this end was closed (FIN, close or reset): it cannot write",
                    ));
                }
                if d.reset_writer {
                    d.reset_writer = false;
                    d.broken = true;
                    return Err(io::ErrorKind::ConnectionReset.into());
                }
                if d.broken {
                    return Err(io::ErrorKind::BrokenPipe.into());
                }
                if d.reader_gone {
                    if !d.swallowed_one {
                        d.swallowed_one = true;
                        d.total += buf.len() as u64;
                        return Ok(buf.len());
                    }
                    return Err(io::ErrorKind::BrokenPipe.into());
                }
                if buf.is_empty() {
                    return Ok(0);
                }
                if d.zero_writes > 0 {
                    d.zero_writes -= 1;
                    return Ok(0);
                }
                let mut n = d.capacity.saturating_sub(d.buf.len()).min(buf.len());
                d.trickle_refused = false;
                if let Some(t) = d.trickle {
                    if !blocking && d.trickle_blocked_last {
                        d.trickle_refused = n > 0;
                        n = 0;
                    } else {
                        n = n.min(t);
                    }
                    d.trickle_blocked_last = !d.trickle_blocked_last;
                }
                if let Some(b) = d.budget {
                    n = n.min(b);
                    d.budget = Some(b - n);
                }
                if n > 0 {
                    d.buf.extend(&buf[..n]);
                    d.records.observe(&buf[..n]);
                    d.total += n as u64;
                    return Ok(n);
                }
                if !blocking {
                    return Err(io::ErrorKind::WouldBlock.into());
                }
            }
            if !self.pump(side) {
                return Err(self.deadlock("write"));
            }
        }
    }

    fn read_inner(&self, side: Side, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            {
                let mut st = self.0.borrow_mut();
                let blocking = st.blocking && side == Side::Impl;
                let d = &mut st.dirs[side.incoming()];
                if d.reset_reader {
                    d.reset_reader = false;
                    d.eof = true;
                    return Err(io::ErrorKind::ConnectionReset.into());
                }
                if !d.buf.is_empty() {
                    let n = d.buf.len().min(buf.len());
                    let (a, b) = d.buf.as_slices();
                    let from_a = a.len().min(n);
                    buf[..from_a].copy_from_slice(&a[..from_a]);
                    buf[from_a..n].copy_from_slice(&b[..n - from_a]);
                    d.buf.drain(..n);
                    return Ok(n);
                }
                if d.eof || buf.is_empty() {
                    return Ok(0);
                }
                if !blocking {
                    return Err(io::ErrorKind::WouldBlock.into());
                }
            }
            if !self.pump(side) {
                return Err(self.deadlock("read"));
            }
        }
    }
}

impl Endpoint {
    pub fn side(&self) -> Side {
        self.side
    }
    pub fn pipe(&self) -> &Pipe {
        &self.pipe
    }
}

impl io::Read for Endpoint {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.pipe.read(self.side, buf)
    }
}

impl io::Write for Endpoint {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.pipe.write(self.side, buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    fn pipe(cap: usize) -> Pipe {
        Pipe::new(&PipeConfig {
            capacity_to_peer: cap,
            capacity_to_impl: cap,
            blocking: false,
        })
    }

    #[test]
    fn full_direction_would_block_then_drains() {
        let p = pipe(4);
        let (mut a, mut b) = (p.endpoint(Side::Impl), p.endpoint(Side::Peer));
        assert_eq!(a.write(b"abcdef").unwrap(), 4);
        assert_eq!(
            a.write(b"ef").unwrap_err().kind(),
            io::ErrorKind::WouldBlock
        );
        let mut buf = [0u8; 3];
        assert_eq!(b.read(&mut buf).unwrap(), 3);
        assert_eq!(&buf, b"abc");
        assert_eq!(a.write(b"ef").unwrap(), 2);
    }

    #[test]
    fn close_swallows_one_write_then_epipe() {
        let p = pipe(100);
        let mut a = p.endpoint(Side::Impl);
        p.close(Side::Peer);
        assert_eq!(a.write(b"x").unwrap(), 1);
        assert_eq!(a.write(b"y").unwrap_err().kind(), io::ErrorKind::BrokenPipe);
        let mut buf = [0u8; 1];
        assert_eq!(a.read(&mut buf).unwrap(), 0, "EOF after the peer closed");
    }

    #[test]
    fn reset_reports_once_then_eof_and_epipe() {
        let p = pipe(100);
        let mut a = p.endpoint(Side::Impl);
        p.reset(Side::Peer);
        let mut buf = [0u8; 1];
        assert_eq!(
            a.read(&mut buf).unwrap_err().kind(),
            io::ErrorKind::ConnectionReset
        );
        assert_eq!(a.read(&mut buf).unwrap(), 0);
        assert_eq!(
            a.write(b"y").unwrap_err().kind(),
            io::ErrorKind::ConnectionReset
        );
        assert_eq!(a.write(b"y").unwrap_err().kind(), io::ErrorKind::BrokenPipe);
    }

    #[test]
    fn trickle_takes_bytes_and_blocks_alternately() {
        let p = pipe(100);
        let mut a = p.endpoint(Side::Impl);
        p.set_trickle(Side::Impl, Some(1));
        assert_eq!(a.write(b"abc").unwrap(), 1);
        assert!(
            !p.take_trickle_refusal(Side::Impl),
            "that attempt took a byte"
        );
        assert_eq!(
            a.write(b"bc").unwrap_err().kind(),
            io::ErrorKind::WouldBlock
        );
        assert!(
            p.take_trickle_refusal(Side::Impl),
            "refused by the trickle alone"
        );
        assert!(!p.take_trickle_refusal(Side::Impl), "asking clears it");
        assert_eq!(a.write(b"bc").unwrap(), 1);
    }

    #[test]
    fn a_budget_takes_that_many_bytes_then_blocks_until_lifted() {
        let p = pipe(100);
        let mut w = p.endpoint(Side::Peer);
        let mut r = p.endpoint(Side::Impl);
        p.set_budget(Side::Peer, Some(3));
        assert_eq!(w.write(b"hello").unwrap(), 3);
        assert_eq!(
            w.write(b"lo").unwrap_err().kind(),
            io::ErrorKind::WouldBlock
        );
        p.set_budget(Side::Peer, None);
        assert_eq!(w.write(b"lo").unwrap(), 2);
        let mut got = [0u8; 10];
        assert_eq!(r.read(&mut got).unwrap(), 5);
        assert_eq!(&got[..5], b"hello");
    }

    #[test]
    fn captured_bytes_are_kept_aside_unseen_and_uncounted() {
        let p = pipe(100);
        let mut w = p.endpoint(Side::Peer);
        p.set_capture(Side::Peer, true);
        assert_eq!(w.write(&[23, 3, 3, 0, 1, 9]).unwrap(), 6);
        assert_eq!(p.pending(Side::Impl), 0);
        assert_eq!(p.total_sent(Side::Peer), 0);
        assert_eq!(p.take_capture(Side::Peer), [23, 3, 3, 0, 1, 9]);
        p.set_capture(Side::Peer, false);
        assert!(p.take_capture(Side::Peer).is_empty());
        assert_eq!(w.write(b"x").unwrap(), 1);
        assert_eq!(p.pending(Side::Impl), 1);
    }

    #[test]
    fn blocking_write_pumps_and_reports_deadlock() {
        let p = Pipe::new(&PipeConfig {
            capacity_to_peer: 2,
            capacity_to_impl: 2,
            blocking: true,
        });
        let mut a = p.endpoint(Side::Impl);
        let drain = p.clone();
        p.set_pump(Box::new(move || {
            let mut b = drain.endpoint(Side::Peer);
            let mut sink = [0u8; 1];
            let _ = b.read(&mut sink);
        }));
        assert_eq!(a.write(b"ab").unwrap(), 2);
        // Full: the pump frees one byte, so the write proceeds.
        assert_eq!(a.write(b"c").unwrap(), 1);
        assert!(!p.take_deadlock());
        // Replace the pump with one that frees nothing: deadlock, reported once.
        p.set_pump(Box::new(|| {}));
        assert!(a.write(b"d").is_err());
        assert!(p.take_deadlock());
        assert!(!p.take_deadlock());
    }
}
