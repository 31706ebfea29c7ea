//! Watches the bytes crossing the transport and splits them into TLS records (content type and
//! length), so a run can report what really went over the wire in each direction.

use serde::{Deserialize, Serialize};

/// One TLS record header seen on the wire: `[content_type, length]` in the JSON report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireRecord(pub u8, pub u16);

impl WireRecord {
    pub const CHANGE_CIPHER_SPEC: u8 = 20;
    pub const ALERT: u8 = 21;
    pub const HANDSHAKE: u8 = 22;
    pub const APPLICATION_DATA: u8 = 23;

    pub fn content_type(&self) -> u8 {
        self.0
    }
    pub fn len(&self) -> u16 {
        self.1
    }
    pub fn is_empty(&self) -> bool {
        self.1 == 0
    }
}

/// Incremental record splitter for one direction. Bytes that do not form a record header
/// (injected garbage) are still framed by their first five bytes, as a receiver would.
#[derive(Debug, Default)]
pub struct RecordObserver {
    header: [u8; 5],
    have: usize,
    body_left: usize,
    records: Vec<WireRecord>,
    /// Cap on stored records; beyond it only the count grows (bulk runs).
    dropped: u64,
}

impl RecordObserver {
    const MAX_KEPT: usize = 4096;

    pub fn observe(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            if self.body_left > 0 {
                let n = self.body_left.min(bytes.len());
                self.body_left -= n;
                bytes = &bytes[n..];
                continue;
            }
            let n = (5 - self.have).min(bytes.len());
            self.header[self.have..self.have + n].copy_from_slice(&bytes[..n]);
            self.have += n;
            bytes = &bytes[n..];
            if self.have == 5 {
                let len = u16::from_be_bytes([self.header[3], self.header[4]]);
                if self.records.len() < Self::MAX_KEPT {
                    self.records.push(WireRecord(self.header[0], len));
                } else {
                    self.dropped += 1;
                }
                self.body_left = len as usize;
                self.have = 0;
            }
        }
    }

    pub fn records(&self) -> &[WireRecord] {
        &self.records
    }

    /// Records seen but not kept because of the cap.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_records_across_arbitrary_chunks() {
        let mut wire = vec![22, 3, 3, 0, 2, 0xaa, 0xbb];
        wire.extend_from_slice(&[23, 3, 3, 0, 3, 1, 2, 3]);
        wire.extend_from_slice(&[21, 3, 3, 0, 0]);
        let mut obs = RecordObserver::default();
        for b in wire.chunks(1) {
            obs.observe(b);
        }
        assert_eq!(
            obs.records(),
            &[WireRecord(22, 2), WireRecord(23, 3), WireRecord(21, 0)]
        );
    }
}
