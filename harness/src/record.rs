//! Raw TLS records of a scenario's making (`inject_record`): the header's fields as a file
//! writes them, the payload as hex, and the bytes that go on the wire.
//!
//! Checked while serde reads them, so a bad payload is an error with the file's line and
//! column: hex digits only (spaces between bytes allowed), an even count, at most
//! [`MAX_RECORD_PAYLOAD`] bytes (what the header's 16-bit length field can say).

use std::fmt;

use serde::{Deserialize, Serialize};

/// The largest payload a record header can announce.
pub const MAX_RECORD_PAYLOAD: usize = u16::MAX as usize;

/// What `inject_record` with `len` fills its payload with (the byte the fixed garbage record
/// of `inject_malformed` is made of).
pub const FILLER: u8 = 0x42;

/// The alert description a `peer_warning_alert` without one sends (RFC 8446 6.1: the one
/// warning besides close_notify that TLS 1.3 keeps).
pub const USER_CANCELED: u8 = 90;

/// The record's wire bytes: type, version, the payload's length (big-endian), the payload.
/// `payload` is at most [`MAX_RECORD_PAYLOAD`] bytes (the loader's bound).
pub fn raw_record(content_type: u8, version: RecordVersion, payload: &[u8]) -> Vec<u8> {
    let len = u16::try_from(payload.len()).unwrap_or(u16::MAX);
    let mut out = Vec::with_capacity(5 + payload.len());
    out.push(content_type);
    out.extend_from_slice(&version.0.to_be_bytes());
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&payload[..usize::from(len)]);
    out
}

/// Bytes written in a file as hex: `"68656c6c6f"` or `"68 65 6c 6c 6f"`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hex(pub Vec<u8>);

impl std::str::FromStr for Hex {
    type Err = String;
    fn from_str(s: &str) -> Result<Hex, String> {
        let mut digits = Vec::new();
        for (i, c) in s.chars().enumerate() {
            if c == ' ' {
                continue;
            }
            match c.to_digit(16) {
                Some(d) => digits.push(d as u8),
                None => {
                    return Err(format!(
                        "payload character {c:?} at position {i} is not a hex digit (write bytes as hex, e.g. \"68656c6c6f\")"
                    ))
                }
            }
        }
        if digits.len() % 2 != 0 {
            return Err(format!(
                "payload has {} hex digits; a byte takes two, so the count must be even",
                digits.len()
            ));
        }
        if digits.len() / 2 > MAX_RECORD_PAYLOAD {
            return Err(format!(
                "payload is {} bytes; a record's length field allows at most {MAX_RECORD_PAYLOAD}",
                digits.len() / 2
            ));
        }
        Ok(Hex(digits.chunks(2).map(|p| p[0] << 4 | p[1]).collect()))
    }
}

impl fmt::Display for Hex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl Serialize for Hex {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Hex {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// A record header's version field, written as four hex digits (`"0303"`, the only value
/// TLS 1.2 and 1.3 records carry after the first ClientHello; the default).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordVersion(pub u16);

impl Default for RecordVersion {
    fn default() -> Self {
        RecordVersion(0x0303)
    }
}

impl fmt::Display for RecordVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04x}", self.0)
    }
}

impl Serialize for RecordVersion {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for RecordVersion {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let ok = s.len() == 4 && s.chars().all(|c| c.is_ascii_hexdigit());
        match u16::from_str_radix(&s, 16) {
            Ok(v) if ok => Ok(RecordVersion(v)),
            _ => Err(serde::de::Error::custom(format!(
                "record version {s:?} is not four hex digits (e.g. \"0303\")"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ten_byte_hello_record() {
        let payload: Hex = "68656c6c6f".parse().unwrap();
        assert_eq!(
            raw_record(0x17, RecordVersion::default(), &payload.0),
            [0x17, 0x03, 0x03, 0x00, 0x05, b'h', b'e', b'l', b'l', b'o']
        );
    }

    #[test]
    fn the_fixed_garbage_record_is_a_raw_record_of_filler() {
        assert_eq!(
            raw_record(23, RecordVersion(0x0303), &[FILLER; 40]),
            crate::peer::GARBAGE_RECORD
        );
    }

    #[test]
    fn an_empty_payload_and_another_version() {
        assert_eq!(
            raw_record(21, RecordVersion(0x0301), &[]),
            [21, 0x03, 0x01, 0, 0]
        );
    }

    #[test]
    fn hex_accepts_spaces_and_both_cases_and_refuses_the_rest() {
        assert_eq!("0A ff".parse::<Hex>().unwrap().0, [0x0a, 0xff]);
        assert_eq!("".parse::<Hex>().unwrap().0, Vec::<u8>::new());
        let e = "0g".parse::<Hex>().unwrap_err();
        assert!(e.contains("'g' at position 1"), "{e}");
        let e = "abc".parse::<Hex>().unwrap_err();
        assert!(e.contains("3 hex digits"), "{e}");
        let big = "00".repeat(MAX_RECORD_PAYLOAD + 1);
        let e = big.parse::<Hex>().unwrap_err();
        assert!(e.contains("65536 bytes"), "{e}");
        assert_eq!(
            "00".repeat(MAX_RECORD_PAYLOAD)
                .parse::<Hex>()
                .unwrap()
                .0
                .len(),
            MAX_RECORD_PAYLOAD
        );
    }

    #[test]
    fn version_is_four_hex_digits() {
        let v: RecordVersion = serde_json::from_str("\"0301\"").unwrap();
        assert_eq!(v, RecordVersion(0x0301));
        for bad in ["\"303\"", "\"+303\"", "\"03030\"", "\"zz03\""] {
            let e = serde_json::from_str::<RecordVersion>(bad).unwrap_err();
            assert!(e.to_string().contains("four hex digits"), "{bad}: {e}");
        }
        assert_eq!(serde_json::to_string(&v).unwrap(), "\"0301\"");
    }
}
