//! What the writer sends and what the peer must receive (invariant I1).
//!
//! Write payloads are a deterministic, non-periodic byte stream indexed by stream offset, so a
//! retry "with the same bytes" is reproducible from any buffer, and "other bytes" is the same
//! stream flipped. The [`Ledger`] compares, incrementally, the bytes the writer was told were
//! written (confirmed) with the bytes the peer's application read, holding only what is in
//! flight: a 1 GiB run never holds 1 GiB.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

/// Which bytes a write step puts in its buffer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Content {
    /// The stream's next bytes (from the confirmed offset): what a correct caller sends.
    #[default]
    Stream,
    /// Different bytes of the same length (the stream XOR 0xA5), for situation RT-4.
    Other,
}

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Fills `buf` with the stream starting at `offset`.
pub fn fill(buf: &mut [u8], offset: u64, content: Content) {
    let flip = match content {
        Content::Stream => 0,
        Content::Other => 0xa5,
    };
    let mut pos = offset;
    let mut i = 0;
    while i < buf.len() {
        let word = splitmix(pos / 8).to_le_bytes();
        let start = (pos % 8) as usize;
        let n = (8 - start).min(buf.len() - i);
        for k in 0..n {
            buf[i + k] = word[start + k] ^ flip;
        }
        i += n;
        pos += n as u64;
    }
}

/// The I1 observation of one run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    /// Bytes the implementation reported as written.
    pub confirmed: u64,
    /// Bytes the peer's application read.
    pub received: u64,
    /// Stream offset of the first byte that differs, with the expected and received values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_mismatch: Option<Mismatch>,
    /// Confirmed bytes the peer never read.
    pub missing: u64,
    /// Bytes the peer read beyond what was confirmed.
    pub unconfirmed: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mismatch {
    pub offset: u64,
    pub expected: u8,
    pub received: u8,
}

/// Incremental comparison of confirmed and received bytes.
#[derive(Debug, Default)]
pub struct Ledger {
    confirmed: VecDeque<u8>,
    received: VecDeque<u8>,
    d: Delivery,
    /// Offset of the front of the queues.
    settled: u64,
}

impl Ledger {
    /// The writer was told these bytes were written.
    pub fn confirm(&mut self, bytes: &[u8]) {
        self.d.confirmed += bytes.len() as u64;
        self.confirmed.extend(bytes);
        self.settle();
    }

    /// The peer's application read these bytes.
    pub fn receive(&mut self, bytes: &[u8]) {
        self.d.received += bytes.len() as u64;
        self.received.extend(bytes);
        self.settle();
    }

    /// Confirmed-so-far stream offset (where the next write's bytes start).
    pub fn confirmed_total(&self) -> u64 {
        self.d.confirmed
    }

    /// Bytes the peer's application has read so far.
    pub fn received_total(&self) -> u64 {
        self.d.received
    }

    fn settle(&mut self) {
        let n = self.confirmed.len().min(self.received.len());
        if n == 0 {
            return;
        }
        if self.d.first_mismatch.is_none() {
            let pairs = self.confirmed.iter().zip(self.received.iter()).take(n);
            if let Some((i, (e, r))) = pairs.enumerate().find(|(_, (e, r))| e != r) {
                self.d.first_mismatch = Some(Mismatch {
                    offset: self.settled + i as u64,
                    expected: *e,
                    received: *r,
                });
            }
        }
        self.confirmed.drain(..n);
        self.received.drain(..n);
        self.settled += n as u64;
    }

    /// The final observation.
    pub fn delivery(&self) -> Delivery {
        let mut d = self.d.clone();
        d.missing = self.confirmed.len() as u64;
        d.unconfirmed = self.received.len() as u64;
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_is_position_based_and_other_differs_everywhere() {
        let mut whole = vec![0u8; 100];
        fill(&mut whole, 0, Content::Stream);
        let mut tail = vec![0u8; 37];
        fill(&mut tail, 63, Content::Stream);
        assert_eq!(&whole[63..], &tail[..]);
        let mut other = vec![0u8; 100];
        fill(&mut other, 0, Content::Other);
        assert!(whole.iter().zip(&other).all(|(a, b)| a != b));
    }

    #[test]
    fn ledger_detects_loss_duplication_and_mismatch() {
        let mut s = vec![0u8; 30];
        fill(&mut s, 0, Content::Stream);

        let mut l = Ledger::default();
        l.receive(&s[..10]); // peer ahead of the confirmation
        l.confirm(&s[..20]);
        let d = l.delivery();
        assert_eq!((d.missing, d.unconfirmed, d.first_mismatch), (10, 0, None));

        let mut dup = Ledger::default();
        dup.confirm(&s[..10]);
        dup.receive(&s[..10]);
        dup.receive(&s[..5]); // the first 5 bytes again
        let d = dup.delivery();
        assert_eq!(d.unconfirmed, 5);

        let mut bad = Ledger::default();
        bad.confirm(&s[..10]);
        let mut wrong = s[..10].to_vec();
        wrong[7] ^= 1;
        bad.receive(&wrong);
        assert_eq!(bad.delivery().first_mismatch.map(|m| m.offset), Some(7));
    }
}
