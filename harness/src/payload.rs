//! What the writer sends and what the peer must receive (invariant I1).
//!
//! Write payloads are a deterministic, non-periodic byte stream indexed by stream offset, so a
//! retry "with the same bytes" is reproducible from any buffer, and "other bytes" is the same
//! stream flipped. The stream is a 16 KiB random table, XORed per 16 KiB block with a 64-bit
//! key drawn from the block number: filling and checking run at memory speed (the table stays
//! in the L1 cache next to a 16 KiB read buffer), and a loss or a
//! duplication of any length (a whole block included) changes the bytes.
//!
//! The [`Ledger`] compares, incrementally, the bytes the writer was told were written (kept as
//! stream ranges, not bytes) with the bytes the peer's application read, holding only bytes the
//! peer read before their write was confirmed: a 1 GiB run holds next to nothing.

use std::collections::VecDeque;
use std::sync::OnceLock;

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

const BLOCK: usize = 1 << 14;

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn table() -> &'static [u8] {
    static T: OnceLock<Vec<u8>> = OnceLock::new();
    T.get_or_init(|| {
        (0..BLOCK as u64 / 8)
            .flat_map(|i| splitmix(i ^ 0x5eed).to_le_bytes())
            .collect()
    })
}

/// The 8 key bytes of a block, rotated so that byte `j` of an 8-byte chunk starting at
/// stream offset `pos` is `key[j]`.
fn key_at(pos: u64, content: Content) -> [u8; 8] {
    let flip = match content {
        Content::Stream => 0,
        Content::Other => 0xa5a5_a5a5_a5a5_a5a5,
    };
    let key = splitmix((pos / BLOCK as u64) ^ 0xb10c) ^ flip;
    key.rotate_right(8 * (pos % 8) as u32).to_le_bytes()
}

/// Fills `buf` with the stream starting at `offset` (one fused pass: table word XOR key).
pub fn fill(buf: &mut [u8], offset: u64, content: Content) {
    let t = table();
    let mut pos = offset;
    let mut done = 0;
    while done < buf.len() {
        let within = (pos % BLOCK as u64) as usize;
        let n = (BLOCK - within).min(buf.len() - done);
        let key = key_at(pos, content);
        let k = u64::from_le_bytes(key);
        let out = buf[done..done + n].chunks_exact_mut(8);
        let src = t[within..within + n].chunks_exact(8);
        let tail = n - n % 8;
        for (o, i) in out.zip(src) {
            let v = u64::from_le_bytes(i.try_into().expect("8 bytes")) ^ k;
            o.copy_from_slice(&v.to_le_bytes());
        }
        for j in tail..n {
            buf[done + j] = t[within + j] ^ key[j % 8];
        }
        done += n;
        pos += n as u64;
    }
}

/// The index of the first byte of `got` that is not the stream at `offset`, if any (one
/// fused pass, no copy).
pub fn first_difference(got: &[u8], offset: u64, content: Content) -> Option<usize> {
    let t = table();
    let mut pos = offset;
    let mut done = 0;
    while done < got.len() {
        let within = (pos % BLOCK as u64) as usize;
        let n = (BLOCK - within).min(got.len() - done);
        let key = key_at(pos, content);
        let k = u64::from_le_bytes(key);
        let seg = &got[done..done + n];
        let table_seg = &t[within..within + n];
        // 64 bytes at a time, the differences OR-ed together: no early exit inside a group,
        // so the loop vectorizes; a group with a difference is searched byte by byte below.
        let word = |b: &[u8]| u64::from_le_bytes(b.try_into().expect("8 bytes"));
        let groups = seg.chunks_exact(64).zip(table_seg.chunks_exact(64));
        let grouped = n - n % 64;
        let mut words_equal = true;
        for (g, i) in groups {
            let mut acc = 0u64;
            for w in 0..8 {
                acc |= word(&g[8 * w..8 * w + 8]) ^ word(&i[8 * w..8 * w + 8]) ^ k;
            }
            if acc != 0 {
                words_equal = false;
                break;
            }
        }
        let words_equal = words_equal
            && seg[grouped..]
                .chunks_exact(8)
                .zip(table_seg[grouped..].chunks_exact(8))
                .all(|(g, i)| word(g) == word(i) ^ k);
        let tail = n - n % 8;
        let tail_equal = (tail..n).all(|j| seg[j] == table_seg[j] ^ key[j % 8]);
        if !(words_equal && tail_equal) {
            let j = (0..n)
                .find(|&j| seg[j] != table_seg[j] ^ key[j % 8])
                .expect("a differing byte");
            return Some(done + j);
        }
        done += n;
        pos += n as u64;
    }
    None
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

/// Incremental comparison of confirmed ranges and received bytes.
///
/// Bytes the peer reads before their write is confirmed (a write that returned want_* has
/// already sent records) are checked at once against the content of the write in progress
/// (`expect`), and only counted: nothing is held. When the confirmation comes with another
/// content (a retry from a buffer holding other bytes, RT-4), the first of those bytes is
/// reported as the mismatch, exactly as if it had been held and compared then.
#[derive(Debug, Default)]
pub struct Ledger {
    /// Confirmed ranges not yet fully checked: (start offset, length, content).
    ranges: VecDeque<(u64, u64, Content)>,
    /// Received bytes checked so far (= the stream offset of the next one).
    checked: u64,
    /// The content the write in progress put in its buffer.
    pending: Content,
    /// Received bytes beyond the confirmed ones (checked against `pending`).
    ahead: u64,
    ahead_content: Content,
    d: Delivery,
}

impl Ledger {
    /// The write about to be called carries this content.
    pub fn expect(&mut self, content: Content) {
        self.pending = content;
    }

    /// The writer was told `len` more bytes were written, with this content.
    pub fn confirm(&mut self, len: u64, content: Content) {
        if len == 0 {
            return;
        }
        let start = self.d.confirmed;
        self.d.confirmed += len;
        // Bytes read ahead of this confirmation were checked against the write in progress.
        let covered = self.ahead.min(len);
        if covered > 0 {
            if content != self.ahead_content && self.d.first_mismatch.is_none() {
                let (mut e, mut r) = ([0u8; 1], [0u8; 1]);
                fill(&mut e, start, content);
                fill(&mut r, start, self.ahead_content);
                self.d.first_mismatch = Some(Mismatch {
                    offset: start,
                    expected: e[0],
                    received: r[0],
                });
            }
            self.ahead -= covered;
            self.checked += covered;
        }
        if covered < len {
            self.ranges
                .push_back((start + covered, len - covered, content));
        }
    }

    /// The peer's application read these bytes.
    pub fn receive(&mut self, mut bytes: &[u8]) {
        self.d.received += bytes.len() as u64;
        while !bytes.is_empty() {
            let Some(&(start, len, content)) = self.ranges.front() else {
                // Ahead of every confirmation: check against the write in progress.
                if self.ahead == 0 {
                    self.ahead_content = self.pending;
                }
                let offset = self.d.confirmed + self.ahead;
                if self.d.first_mismatch.is_none() {
                    self.compare(bytes, offset, self.ahead_content);
                }
                self.ahead += bytes.len() as u64;
                return;
            };
            let into = self.checked - start;
            let n = ((len - into) as usize).min(bytes.len());
            if self.d.first_mismatch.is_none() {
                self.compare(&bytes[..n], self.checked, content);
            }
            self.checked += n as u64;
            bytes = &bytes[n..];
            if self.checked == start + len {
                self.ranges.pop_front();
            }
        }
    }

    /// Confirmed-so-far stream offset (where the next write's bytes start).
    pub fn confirmed_total(&self) -> u64 {
        self.d.confirmed
    }

    /// Bytes the peer's application has read so far.
    pub fn received_total(&self) -> u64 {
        self.d.received
    }

    fn compare(&mut self, got: &[u8], offset: u64, content: Content) {
        if let Some(i) = first_difference(got, offset, content) {
            let mut expected = [0u8; 1];
            let at = offset + i as u64;
            fill(&mut expected, at, content);
            self.d.first_mismatch = Some(Mismatch {
                offset: at,
                expected: expected[0],
                received: got[i],
            });
        }
    }

    /// The final observation.
    pub fn delivery(&self) -> Delivery {
        let mut d = self.d.clone();
        d.missing = d.confirmed - self.checked.min(d.confirmed);
        d.unconfirmed = self.ahead;
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_is_position_based_and_other_differs_everywhere() {
        let mut whole = vec![0u8; 200_000];
        fill(&mut whole, 0, Content::Stream);
        for start in [63usize, 65_530, 65_536, 131_070] {
            let mut tail = vec![0u8; 200_000 - start];
            fill(&mut tail, start as u64, Content::Stream);
            assert_eq!(&whole[start..], &tail[..], "from {start}");
        }
        let mut other = vec![0u8; 200_000];
        fill(&mut other, 0, Content::Other);
        assert!(whole.iter().zip(&other).all(|(a, b)| a != b));
    }

    #[test]
    fn the_stream_does_not_repeat_block_by_block() {
        let mut a = vec![0u8; BLOCK];
        let mut b = vec![0u8; BLOCK];
        fill(&mut a, 0, Content::Stream);
        fill(&mut b, BLOCK as u64, Content::Stream);
        assert_ne!(a, b, "a loss or duplication of exactly one block must show");
    }

    #[test]
    fn first_difference_finds_any_changed_byte() {
        let starts = [
            0,
            3,
            BLOCK as u64 - 2,
            BLOCK as u64 + 5,
            5 * BLOCK as u64 + 7,
        ];
        for offset in starts {
            for content in [Content::Stream, Content::Other] {
                let mut buf = vec![0u8; 3 * BLOCK];
                fill(&mut buf, offset, content);
                assert_eq!(first_difference(&buf, offset, content), None);
                // Both ends, and bytes either side of every block boundary and of every
                // 64-byte group boundary near it.
                let to_boundary = (BLOCK - (offset % BLOCK as u64) as usize) % BLOCK;
                let mut spots = vec![0, 1, 63, 64, buf.len() - 1];
                for b in (to_boundary..buf.len()).step_by(BLOCK) {
                    spots.extend(b.saturating_sub(65)..(b + 66).min(buf.len()));
                }
                for at in spots {
                    let mut bad = buf.clone();
                    bad[at] ^= 0x10;
                    assert_eq!(
                        first_difference(&bad, offset, content),
                        Some(at),
                        "offset {offset}, byte {at}, {content:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_shift_by_a_whole_block_changes_every_word() {
        let mut late = vec![0u8; BLOCK];
        fill(&mut late, BLOCK as u64, Content::Stream);
        // The peer received the stream one block late (a block lost): every 8-byte word
        // differs, so even a short read after such a loss shows it.
        let mut expected = vec![0u8; BLOCK];
        fill(&mut expected, 0, Content::Stream);
        assert!(late.chunks(8).zip(expected.chunks(8)).all(|(a, b)| a != b));
        assert_eq!(
            first_difference(&late[100..200], 100, Content::Stream),
            Some(0)
        );
    }

    fn stream(n: usize) -> Vec<u8> {
        let mut s = vec![0u8; n];
        fill(&mut s, 0, Content::Stream);
        s
    }

    #[test]
    fn ledger_detects_loss_duplication_and_mismatch() {
        let s = stream(200_000);

        let mut l = Ledger::default();
        l.receive(&s[..10]); // peer ahead of the confirmation
        l.confirm(20, Content::Stream);
        let d = l.delivery();
        assert_eq!((d.missing, d.unconfirmed, d.first_mismatch), (10, 0, None));

        let mut dup = Ledger::default();
        dup.confirm(10, Content::Stream);
        dup.receive(&s[..10]);
        dup.receive(&s[..5]); // the first 5 bytes again
        let d = dup.delivery();
        assert_eq!(d.unconfirmed, 5);

        let mut bad = Ledger::default();
        bad.confirm(150_000, Content::Stream);
        let mut wrong = s[..150_000].to_vec();
        wrong[70_007] ^= 1;
        bad.receive(&wrong);
        assert_eq!(
            bad.delivery().first_mismatch.map(|m| m.offset),
            Some(70_007)
        );

        let mut shifted = Ledger::default();
        shifted.confirm(200_000 - BLOCK as u64, Content::Stream);
        shifted.receive(&s[BLOCK..]); // a whole block lost at the start
        assert!(shifted.delivery().first_mismatch.is_some());
    }

    #[test]
    fn ledger_checks_other_content_and_ranges_across_writes() {
        let mut l = Ledger::default();
        let mut a = vec![0u8; 1000];
        fill(&mut a, 0, Content::Stream);
        let mut b = vec![0u8; 500];
        fill(&mut b, 1000, Content::Other);
        l.confirm(1000, Content::Stream);
        l.confirm(500, Content::Other);
        let mut all = a.clone();
        all.extend_from_slice(&b);
        for chunk in all.chunks(333) {
            l.receive(chunk);
        }
        let d = l.delivery();
        assert_eq!(
            (d.received, d.missing, d.unconfirmed, d.first_mismatch),
            (1500, 0, 0, None)
        );
    }
}
