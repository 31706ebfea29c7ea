//! Loopback TCP behind [`Pipe`]: the same endpoints, capacities, faults and counters, over two
//! real sockets on 127.0.0.1, so that the kernel's own behaviour shows (buffer sizes that force
//! WANT_WRITE, FIN, RST, EPIPE, blocking and non-blocking sockets).
//!
//! Mapping of the pipe's operations:
//! - capacity → `SO_SNDBUF` of the writer and `SO_RCVBUF` of the reader, the latter set before
//!   the TCP handshake to the smallest capacity the scenario ever gives that direction and never
//!   changed afterwards (a `transport` step changes send buffers only); the kernel doubles and
//!   clamps both, so counts are approximate: scenarios that need exact counts say
//!   `memory_only`;
//! - blocking → the implementation's socket is a blocking socket with a short `SO_SNDTIMEO` /
//!   `SO_RCVTIMEO`. A call first tries without waiting (`MSG_DONTWAIT`); when the kernel has no
//!   room (or no data) the pump lets the peer (same thread) drain or answer, and only when that
//!   moved nothing does the call block in the kernel for a slice (time for window updates);
//!   several such rounds without motion are a deadlock, as in memory;
//! - FIN → `shutdown(Write)`; close → the socket is closed (the kernel answers later data with
//!   RST, and closes with RST if unread data is queued); reset → `SO_LINGER` 0, then close;
//! - injection → the bytes are written from the other end's socket;
//! - pending → bytes sent towards a reader minus bytes it read (counted here, no ioctl); a read
//!   waits briefly for such bytes when the kernel has not delivered them yet, so runs do not
//!   depend on how fast loopback delivery and window updates happen to be;
//! - trickle and zero-byte writes stay harness-side shaping of the implementation's writes.
//!
//! Nagle is off on both sockets so records leave as they are written. The peer's socket never
//! blocks. Only 127.0.0.1 is ever bound or connected to, and the accepted connection must be the
//! one this process opened.

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, Shutdown, TcpListener, TcpStream};
use std::time::Duration;

use super::{Pipe, PipeConfig, Side};
use crate::sys;

/// How long the implementation's blocking socket waits in the kernel before the pump runs.
const BLOCK_SLICE: Duration = Duration::from_millis(2);

/// How long a read waits for bytes that were sent towards it and are still on their way
/// (loopback delivery and window updates are quick, not instant).
const IN_FLIGHT_WAIT: Duration = Duration::from_millis(50);

/// Pump rounds in a row that move nothing before a blocking call is a deadlock (the kernel may
/// still be passing bytes or window updates along the loopback).
const IDLE_ROUNDS: u32 = 5;

pub(super) struct Link {
    /// Indexed by `Side::outgoing()`: 0 the implementation's socket, 1 the peer's.
    socks: [Option<TcpStream>; 2],
    /// Bytes each side wrote, read, and had injected towards it.
    sent: [u64; 2],
    read: [u64; 2],
    injected: [u64; 2],
}

fn at(side: Side) -> usize {
    side.outgoing()
}

fn other(side: Side) -> Side {
    match side {
        Side::Impl => Side::Peer,
        Side::Peer => Side::Impl,
    }
}

impl Link {
    pub(super) fn open(
        cfg: &PipeConfig,
        (recv_peer, recv_impl): (usize, usize),
    ) -> io::Result<Link> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        // Inherited by the accepted socket; set before the handshake so the window fits it.
        sys::set_recv_buffer(&listener, recv_peer)?;
        let addr = match listener.local_addr()? {
            std::net::SocketAddr::V4(a) => a,
            other => return Err(io::Error::other(format!("not IPv4 loopback: {other}"))),
        };
        let imp = sys::connect_with_recv_buffer(addr, recv_impl)?;
        let (peer, from) = listener.accept()?;
        if from != imp.local_addr()? {
            return Err(io::Error::other(format!(
                "an unexpected connection from {from} reached the harness's listener"
            )));
        }
        for s in [&imp, &peer] {
            s.set_nodelay(true)?;
        }
        sys::set_send_buffer(&imp, cfg.capacity_to_peer)?;
        sys::set_send_buffer(&peer, cfg.capacity_to_impl)?;
        peer.set_nonblocking(true)?;
        let link = Link {
            socks: [Some(imp), Some(peer)],
            sent: [0; 2],
            read: [0; 2],
            injected: [0; 2],
        };
        link.set_blocking(cfg.blocking);
        Ok(link)
    }

    /// The implementation's socket blocks (in slices, see [`BLOCK_SLICE`]) or not.
    pub(super) fn set_blocking(&self, blocking: bool) {
        if let Some(s) = &self.socks[at(Side::Impl)] {
            let _ = s.set_nonblocking(!blocking);
            if blocking {
                let _ = s.set_read_timeout(Some(BLOCK_SLICE));
                let _ = s.set_write_timeout(Some(BLOCK_SLICE));
            }
        }
    }

    /// The writer's send buffer only: a receive buffer shrunk below the window it already
    /// advertised makes the kernel drop data and wait for retransmission (hundreds of ms), so
    /// receive buffers keep the size they had at connect. Best effort: the kernel clamps sizes.
    pub(super) fn set_capacity(&self, writer: Side, capacity: usize) {
        if let Some(s) = &self.socks[at(writer)] {
            let _ = sys::set_send_buffer(s, capacity);
        }
    }

    pub(super) fn fin(&self, side: Side) {
        if let Some(s) = &self.socks[at(side)] {
            let _ = s.shutdown(Shutdown::Write);
        }
    }

    /// Closes `side`'s socket; with `reset`, with `SO_LINGER` 0 (RST). What was queued towards
    /// the closed side is gone; after a reset, what was queued towards the other side too.
    pub(super) fn close(&mut self, side: Side, reset: bool) {
        if let Some(s) = self.socks[at(side)].take() {
            if reset {
                let _ = sys::set_linger_zero(&s);
            }
            drop(s);
        }
        self.forget_pending(side);
        if reset {
            self.forget_pending(other(side));
        }
    }

    fn forget_pending(&mut self, reader: Side) {
        self.read[at(reader)] = self.sent[at(other(reader))] + self.injected[at(reader)];
    }

    pub(super) fn inject(&mut self, reader: Side, bytes: &[u8]) {
        let Some(s) = self.socks[at(other(reader))].as_mut() else {
            return;
        };
        let mut off = 0;
        let mut tries = 0;
        while off < bytes.len() && tries < 100 {
            match s.write(&bytes[off..]) {
                Ok(n) => off += n,
                Err(_) => tries += 1,
            }
        }
        self.injected[at(reader)] += off as u64;
    }

    pub(super) fn pending(&self, reader: Side) -> usize {
        if self.socks[at(reader)].is_none() {
            return 0;
        }
        let queued = self.sent[at(other(reader))] + self.injected[at(reader)];
        queued.saturating_sub(self.read[at(reader)]) as usize
    }

    /// One write; `wait`: in the socket's own mode (a blocking socket waits up to its
    /// timeout), else without waiting.
    fn write(&mut self, side: Side, buf: &[u8], wait: bool) -> io::Result<usize> {
        let Some(s) = self.socks[at(side)].as_mut() else {
            return Err(io::ErrorKind::BrokenPipe.into());
        };
        let n = if wait {
            s.write(buf)?
        } else {
            sys::send_now(s, buf)?
        };
        self.sent[at(side)] += n as u64;
        Ok(n)
    }

    fn read(&mut self, side: Side, buf: &mut [u8], wait: bool) -> io::Result<usize> {
        let in_flight = self.pending(side) > 0;
        let Some(s) = self.socks[at(side)].as_mut() else {
            return Err(io::ErrorKind::WouldBlock.into());
        };
        if in_flight && !wait {
            // Bytes were sent this way and not read yet: they are in the kernel, on their way.
            let _ = sys::wait_readable(s, IN_FLIGHT_WAIT);
        }
        let n = if wait {
            s.read(buf)?
        } else {
            sys::recv_now(s, buf)?
        };
        self.read[at(side)] += n as u64;
        Ok(n)
    }
}

fn would_block(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

impl Pipe {
    pub(super) fn write_tcp(&self, side: Side, buf: &[u8]) -> io::Result<usize> {
        let mut idle = 0;
        // After a pump that moved nothing, give the kernel a slice of real blocking.
        let mut wait = false;
        loop {
            {
                let mut st = self.0.borrow_mut();
                let blocking = st.blocking && side == Side::Impl;
                let st = &mut *st;
                let d = &mut st.dirs[side.outgoing()];
                let link = st.tcp.as_mut().expect("write_tcp on a TCP pipe");
                if buf.is_empty() {
                    return Ok(0);
                }
                if d.zero_writes > 0 {
                    d.zero_writes -= 1;
                    return Ok(0);
                }
                let mut n = buf.len();
                if let Some(t) = d.trickle {
                    if !blocking && d.trickle_blocked_last {
                        n = 0;
                    } else {
                        n = n.min(t);
                    }
                    d.trickle_blocked_last = !d.trickle_blocked_last;
                }
                if let Some(b) = d.budget {
                    n = n.min(b);
                }
                if n == 0 {
                    return Err(io::ErrorKind::WouldBlock.into());
                }
                match link.write(side, &buf[..n], wait) {
                    Ok(k) => {
                        d.budget = d.budget.map(|b| b - k);
                        d.records.observe(&buf[..k]);
                        d.total += k as u64;
                        return Ok(k);
                    }
                    Err(e) if would_block(&e) => {
                        st.refused[side.outgoing()] += 1;
                        if !blocking {
                            return Err(io::ErrorKind::WouldBlock.into());
                        }
                    }
                    Err(e) => return Err(e),
                }
            }
            if self.pump(side) {
                idle = 0;
                wait = false;
            } else {
                idle += 1;
                wait = true;
                if idle >= IDLE_ROUNDS {
                    return Err(self.deadlock("write"));
                }
            }
        }
    }

    pub(super) fn read_tcp(&self, side: Side, buf: &mut [u8]) -> io::Result<usize> {
        let mut idle = 0;
        let mut wait = false;
        loop {
            {
                let mut st = self.0.borrow_mut();
                let blocking = st.blocking && side == Side::Impl;
                let link = st.tcp.as_mut().expect("read_tcp on a TCP pipe");
                if buf.is_empty() {
                    return Ok(0);
                }
                match link.read(side, buf, wait) {
                    Ok(n) => return Ok(n),
                    Err(e) if would_block(&e) && blocking => {}
                    Err(e) if would_block(&e) => return Err(io::ErrorKind::WouldBlock.into()),
                    Err(e) => return Err(e),
                }
            }
            if self.pump(side) {
                idle = 0;
                wait = false;
            } else {
                idle += 1;
                wait = true;
                if idle >= IDLE_ROUNDS {
                    return Err(self.deadlock("read"));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::*;
    use std::io::{Read, Write};

    fn tcp(cap: usize, blocking: bool) -> Pipe {
        Pipe::tcp(
            &PipeConfig {
                capacity_to_peer: cap,
                capacity_to_impl: cap,
                blocking,
            },
            (cap, cap),
        )
        .expect("loopback sockets")
    }

    /// Reads from `side` until `want` bytes came or nothing more arrives.
    fn read_some(e: &mut Endpoint, want: usize) -> Vec<u8> {
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        for _ in 0..1000 {
            match e.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    if out.len() >= want {
                        break;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
                Err(e) => panic!("{e}"),
            }
        }
        out
    }

    #[test]
    fn bytes_cross_and_are_counted() {
        let p = tcp(1 << 16, false);
        assert_eq!(p.kind(), TransportKind::Tcp);
        let (mut a, mut b) = (p.endpoint(Side::Impl), p.endpoint(Side::Peer));
        assert_eq!(a.write(b"hello").unwrap(), 5);
        assert_eq!(p.total_sent(Side::Impl), 5);
        assert_eq!(p.pending(Side::Peer), 5);
        assert_eq!(read_some(&mut b, 5), b"hello");
        assert_eq!(p.pending(Side::Peer), 0);
    }

    #[test]
    fn small_buffers_make_a_non_blocking_writer_would_block() {
        let p = tcp(1, false);
        let mut a = p.endpoint(Side::Impl);
        let chunk = vec![7u8; 65536];
        let mut total = 0;
        let err = loop {
            match a.write(&chunk) {
                Ok(n) => total += n,
                Err(e) => break e,
            }
            assert!(total < 16 << 20, "the kernel buffers should have filled");
        };
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
        assert!(total > 0);
        let mut b = p.endpoint(Side::Peer);
        assert_eq!(read_some(&mut b, total).len(), total);
    }

    #[test]
    fn blocking_writer_pumps_and_then_deadlocks_when_nobody_reads() {
        let p = tcp(1, true);
        let mut a = p.endpoint(Side::Impl);
        let drained = std::rc::Rc::new(std::cell::Cell::new(0usize));
        let (pipe, count) = (p.clone(), drained.clone());
        p.set_pump(Box::new(move || {
            let mut b = pipe.endpoint(Side::Peer);
            let mut sink = [0u8; 65536];
            while let Ok(n) = b.read(&mut sink) {
                if n == 0 {
                    break;
                }
                count.set(count.get() + n);
            }
        }));
        let big = vec![1u8; 1 << 20];
        let mut done = 0;
        while done < big.len() {
            done += a.write(&big[done..]).expect("the pump drains");
        }
        assert!(!p.take_deadlock());
        p.set_pump(Box::new(|| {}));
        let err = loop {
            if let Err(e) = a.write(&big) {
                break e;
            }
        };
        assert!(err.to_string().contains("deadlock"), "{err}");
        assert!(p.take_deadlock());
    }

    #[test]
    fn fin_reads_as_eof_and_reset_as_connection_reset() {
        let p = tcp(1 << 16, false);
        let mut a = p.endpoint(Side::Impl);
        p.fin(Side::Peer);
        assert!(read_some(&mut a, 0).is_empty());
        let mut buf = [0u8; 8];
        assert_eq!(a.read(&mut buf).unwrap(), 0, "EOF after FIN");

        let p = tcp(1 << 16, false);
        let mut a = p.endpoint(Side::Impl);
        p.reset(Side::Peer);
        let mut err = None;
        for _ in 0..1000 {
            match a.read(&mut buf) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    std::thread::sleep(std::time::Duration::from_millis(1))
                }
                other => {
                    err = Some(other);
                    break;
                }
            }
        }
        let err = err.expect("the reset arrives").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionReset);
    }

    #[test]
    fn writes_after_the_peer_closed_end_in_epipe_or_reset() {
        let p = tcp(1 << 16, false);
        let mut a = p.endpoint(Side::Impl);
        p.close(Side::Peer);
        let mut last = None;
        for _ in 0..1000 {
            match a.write_all(b"data") {
                Ok(_) => std::thread::sleep(std::time::Duration::from_millis(1)),
                Err(e) => {
                    last = Some(e.kind());
                    break;
                }
            }
        }
        assert!(
            matches!(
                last,
                Some(io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset)
            ),
            "{last:?}"
        );
    }

    #[test]
    fn injected_bytes_arrive_and_count_as_pending() {
        let p = tcp(1 << 16, false);
        p.inject(Side::Impl, b"xyz");
        assert_eq!(p.pending(Side::Impl), 3);
        let mut a = p.endpoint(Side::Impl);
        assert_eq!(read_some(&mut a, 3), b"xyz");
        assert_eq!(p.records(Side::Peer).0.len(), 0, "not a whole record");
    }
}
