//! Records a peer's API cannot send (an empty application-data record, a warning alert), made
//! by re-sealing one it did send.
//!
//! No TLS library here has a call that sends an empty application-data record (`SSL_write` of
//! 0 bytes sends nothing) or a warning alert other than close_notify. So the peer writes one
//! byte, the harness takes the record off the transport before the implementation sees it,
//! opens it with the peer's own write key (the driver says what it knows: [`WriteSecrets`]),
//! and seals the wanted content in its place under the same key and sequence number. The
//! peer's record layer and the implementation's stay in step: exactly one record went out with
//! that number, and the implementation receives exactly one. The one byte never reaches the
//! implementation's application, so the peer's stream does not count it.
//!
//! Only AEAD suites (AES-GCM, ChaCha20-Poly1305): a CBC record's MAC and padding are not
//! re-sealed. The sequence number and (TLS 1.3) the key generation are found by opening the
//! record with each candidate in turn, bounded ([`MAX_SEQ_TRIED`], [`MAX_KEY_UPDATES`]): an
//! AEAD opens only under the right key and nonce. The crypto is the linked OpenSSL's
//! (`openssl::symm`, HMAC), whatever library the peer is.

use openssl::hash::MessageDigest;
use openssl::pkey::PKey;
use openssl::sign::Signer;
use openssl::symm::{decrypt_aead, encrypt_aead, Cipher};

use crate::contract::Tls;

/// Most sequence numbers tried per key.
pub const MAX_SEQ_TRIED: u64 = 4096;
/// Most TLS 1.3 key updates followed from the first application traffic secret.
pub const MAX_KEY_UPDATES: u32 = 16;

const APPLICATION_DATA: u8 = 23;
const ALERT: u8 = 21;
const TAG: usize = 16;

/// What a peer's driver knows of the keys it writes records with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WriteSecrets {
    /// TLS 1.2: the session's master secret and the hello randoms; `client`: the peer is the
    /// client (it writes with the client's key).
    Tls12 {
        suite: u16,
        master: Vec<u8>,
        client_random: Vec<u8>,
        server_random: Vec<u8>,
        client: bool,
    },
    /// TLS 1.3: the peer's first application traffic secret (its later ones follow from it).
    Tls13 { suite: u16, secret: Vec<u8> },
}

impl WriteSecrets {
    pub fn tls(&self) -> Tls {
        match self {
            WriteSecrets::Tls12 { .. } => Tls::V12,
            WriteSecrets::Tls13 { .. } => Tls::V13,
        }
    }
}

/// What goes in the re-sealed record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Content {
    /// An application-data record without plaintext.
    Empty,
    /// A warning alert (level 1) of this description.
    WarningAlert(u8),
}

impl Content {
    fn parts(self) -> (u8, Vec<u8>) {
        match self {
            Content::Empty => (APPLICATION_DATA, Vec::new()),
            Content::WarningAlert(d) => (ALERT, vec![1, d]),
        }
    }
}

#[derive(Clone, Copy)]
enum Aead {
    Aes128Gcm,
    Aes256Gcm,
    Chacha,
}

impl Aead {
    fn cipher(self) -> Cipher {
        match self {
            Aead::Aes128Gcm => Cipher::aes_128_gcm(),
            Aead::Aes256Gcm => Cipher::aes_256_gcm(),
            Aead::Chacha => Cipher::chacha20_poly1305(),
        }
    }
    fn key_len(self) -> usize {
        match self {
            Aead::Aes128Gcm => 16,
            Aead::Aes256Gcm | Aead::Chacha => 32,
        }
    }
}

/// The AEAD and hash of a suite by its IANA number; `None` for the rest (CBC, CCM, ...).
fn suite(id: u16) -> Option<(Aead, MessageDigest)> {
    Some(match id {
        0x1301 => (Aead::Aes128Gcm, MessageDigest::sha256()),
        0x1302 => (Aead::Aes256Gcm, MessageDigest::sha384()),
        0x1303 => (Aead::Chacha, MessageDigest::sha256()),
        // ECDHE-ECDSA / ECDHE-RSA / DHE-RSA / RSA with AES-GCM.
        0xc02b | 0xc02f | 0x009e | 0x009c => (Aead::Aes128Gcm, MessageDigest::sha256()),
        0xc02c | 0xc030 | 0x009f | 0x009d => (Aead::Aes256Gcm, MessageDigest::sha384()),
        0xcca8..=0xccaa => (Aead::Chacha, MessageDigest::sha256()),
        _ => return None,
    })
}

fn hmac(md: MessageDigest, key: &[u8], parts: &[&[u8]]) -> Result<Vec<u8>, String> {
    let err = |e: openssl::error::ErrorStack| format!("HMAC: {e}");
    let k = PKey::hmac(key).map_err(err)?;
    let mut s = Signer::new(md, &k).map_err(err)?;
    for p in parts {
        s.update(p).map_err(err)?;
    }
    s.sign_to_vec().map_err(err)
}

/// TLS 1.2's PRF (RFC 5246 5): P_hash(secret, label + seed), `len` bytes.
fn prf12(
    md: MessageDigest,
    secret: &[u8],
    label: &[u8],
    seed: &[u8],
    len: usize,
) -> Result<Vec<u8>, String> {
    let mut a = hmac(md, secret, &[label, seed])?;
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        out.extend(hmac(md, secret, &[&a, label, seed])?);
        a = hmac(md, secret, &[&a])?;
    }
    out.truncate(len);
    Ok(out)
}

/// TLS 1.3's HKDF-Expand-Label with an empty context (RFC 8446 7.1).
fn expand_label(
    md: MessageDigest,
    secret: &[u8],
    label: &str,
    len: usize,
) -> Result<Vec<u8>, String> {
    let full = format!("tls13 {label}");
    let mut info = Vec::new();
    info.extend_from_slice(&(len as u16).to_be_bytes());
    info.push(full.len() as u8);
    info.extend_from_slice(full.as_bytes());
    info.push(0);
    let mut out = Vec::new();
    let mut t = Vec::new();
    let mut i = 1u8;
    while out.len() < len {
        t = hmac(md, secret, &[&t, &info, &[i]])?;
        out.extend_from_slice(&t);
        i += 1;
    }
    out.truncate(len);
    Ok(out)
}

/// One write key: the AEAD, its key and its IV (TLS 1.2 GCM: the 4-byte salt).
struct Key {
    aead: Aead,
    key: Vec<u8>,
    iv: Vec<u8>,
}

impl Key {
    /// The per-record nonce: the IV XOR the sequence number (TLS 1.3, TLS 1.2 ChaCha), or the
    /// salt and the record's explicit part (TLS 1.2 GCM).
    fn nonce(&self, seq: u64, explicit: Option<&[u8]>) -> Vec<u8> {
        match explicit {
            Some(e) => [self.iv.as_slice(), e].concat(),
            None => {
                let mut n = self.iv.clone();
                let s = seq.to_be_bytes();
                for (i, b) in s.iter().enumerate() {
                    n[4 + i] ^= b;
                }
                n
            }
        }
    }
}

fn tls12_key(s: &WriteSecrets) -> Result<Key, String> {
    let WriteSecrets::Tls12 {
        suite: id,
        master,
        client_random,
        server_random,
        client,
    } = s
    else {
        unreachable!("tls12_key of a TLS 1.2 secret only")
    };
    let (aead, md) = suite(*id).ok_or_else(|| not_aead(*id))?;
    let (kl, ivl) = (
        aead.key_len(),
        if matches!(aead, Aead::Chacha) { 12 } else { 4 },
    );
    let seed = [server_random.as_slice(), client_random].concat();
    let block = prf12(md, master, b"key expansion", &seed, 2 * (kl + ivl))?;
    let (ck, rest) = block.split_at(kl);
    let (sk, rest) = rest.split_at(kl);
    let (civ, siv) = rest.split_at(ivl);
    let (key, iv) = if *client { (ck, civ) } else { (sk, siv) };
    Ok(Key {
        aead,
        key: key.to_vec(),
        iv: iv.to_vec(),
    })
}

fn tls13_key(aead: Aead, md: MessageDigest, secret: &[u8]) -> Result<Key, String> {
    Ok(Key {
        aead,
        key: expand_label(md, secret, "key", aead.key_len())?,
        iv: expand_label(md, secret, "iv", 12)?,
    })
}

fn not_aead(id: u16) -> String {
    format!("the peer's cipher suite {id:#06x} is not an AES-GCM or ChaCha20-Poly1305 suite; only AEAD records are re-sealed")
}

/// Re-seals `record` (one whole record the peer wrote with `secrets`, of at most
/// `max_seq` + 1 sent under its key) to hold `content` instead, under the same key and
/// sequence number. `Err` says why it cannot.
pub fn reseal(
    record: &[u8],
    secrets: &WriteSecrets,
    max_seq: u64,
    content: Content,
) -> Result<Vec<u8>, String> {
    if record.len() < 5 + TAG || record[0] != APPLICATION_DATA {
        return Err("the peer's write did not end in an application-data record".into());
    }
    let (header, body) = record.split_at(5);
    let tries = max_seq.min(MAX_SEQ_TRIED);
    let (new_type, plain) = content.parts();
    match secrets {
        WriteSecrets::Tls12 { .. } => {
            let key = tls12_key(secrets)?;
            let explicit = !matches!(key.aead, Aead::Chacha);
            let (nonce_part, sealed) = if explicit {
                if body.len() < 8 + TAG {
                    return Err("the peer's record is too short for an explicit nonce".into());
                }
                body.split_at(8)
            } else {
                body.split_at(0)
            };
            let (ct, tag) = sealed.split_at(sealed.len() - TAG);
            let aad = |seq: u64, ty: u8, len: usize| {
                let mut a = seq.to_be_bytes().to_vec();
                a.push(ty);
                a.extend_from_slice(&header[1..3]);
                a.extend_from_slice(&(len as u16).to_be_bytes());
                a
            };
            // OpenSSL and BoringSSL put the sequence number in the explicit nonce: try it first.
            let first =
                explicit.then(|| u64::from_be_bytes(nonce_part.try_into().unwrap_or([0; 8])));
            let seqs = first.into_iter().chain(0..=tries);
            for seq in seqs {
                let nonce = key.nonce(seq, explicit.then_some(nonce_part));
                let opened = decrypt_aead(
                    key.aead.cipher(),
                    &key.key,
                    Some(&nonce),
                    &aad(seq, APPLICATION_DATA, ct.len()),
                    ct,
                    tag,
                );
                if opened.is_ok() {
                    let mut t = [0u8; TAG];
                    let ct2 = encrypt_aead(
                        key.aead.cipher(),
                        &key.key,
                        Some(&nonce),
                        &aad(seq, new_type, plain.len()),
                        &plain,
                        &mut t,
                    )
                    .map_err(|e| format!("sealing: {e}"))?;
                    let len = nonce_part.len() + ct2.len() + TAG;
                    let mut out = vec![new_type, header[1], header[2]];
                    out.extend_from_slice(&(len as u16).to_be_bytes());
                    out.extend_from_slice(nonce_part);
                    out.extend_from_slice(&ct2);
                    out.extend_from_slice(&t);
                    return Ok(out);
                }
            }
            Err(format!("the peer's record did not open under its TLS 1.2 write key with any sequence number up to {tries}"))
        }
        WriteSecrets::Tls13 { suite: id, secret } => {
            let (aead, md) = suite(*id).ok_or_else(|| not_aead(*id))?;
            let (ct, tag) = body.split_at(body.len() - TAG);
            let mut secret = secret.clone();
            for _ in 0..=MAX_KEY_UPDATES {
                let key = tls13_key(aead, md, &secret)?;
                for seq in 0..=tries {
                    let nonce = key.nonce(seq, None);
                    if decrypt_aead(aead.cipher(), &key.key, Some(&nonce), header, ct, tag).is_err()
                    {
                        continue;
                    }
                    let mut inner = plain.clone();
                    inner.push(new_type);
                    let len = (inner.len() + TAG) as u16;
                    let mut out = vec![APPLICATION_DATA, 3, 3];
                    out.extend_from_slice(&len.to_be_bytes());
                    let mut t = [0u8; TAG];
                    let ct2 =
                        encrypt_aead(aead.cipher(), &key.key, Some(&nonce), &out, &inner, &mut t)
                            .map_err(|e| format!("sealing: {e}"))?;
                    out.extend_from_slice(&ct2);
                    out.extend_from_slice(&t);
                    return Ok(out);
                }
                secret = expand_label(md, &secret, "traffic upd", secret.len())?;
            }
            Err(format!("the peer's record did not open under its TLS 1.3 write keys (the first and {MAX_KEY_UPDATES} updates) with any sequence number up to {tries}"))
        }
    }
}

/// Splits `bytes` into whole records; `Err` when they do not end on a record boundary.
pub fn records(bytes: &[u8]) -> Result<Vec<&[u8]>, String> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        if rest.len() < 5 {
            return Err("the peer's write ended inside a record header".into());
        }
        let n = 5 + usize::from(u16::from_be_bytes([rest[3], rest[4]]));
        if rest.len() < n {
            return Err("the peer's write ended inside a record".into());
        }
        let (r, tail) = rest.split_at(n);
        out.push(r);
        rest = tail;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 8448 (TLS 1.3 traces), "Simple 1-RTT Handshake": the server's application traffic
    /// secret and the key and IV derived from it.
    #[test]
    fn tls13_key_schedule_matches_rfc_8448() {
        let hex = |s: &str| -> Vec<u8> { s.parse::<crate::record::Hex>().unwrap().0 };
        let secret = hex("a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643");
        let key = tls13_key(Aead::Aes128Gcm, MessageDigest::sha256(), &secret).unwrap();
        assert_eq!(key.key, hex("9f02283b6c9c07efc26bb9f2ac92e356"));
        assert_eq!(key.iv, hex("cf782b88dd83549aadf1e984"));
    }

    fn sealed13(key: &Key, seq: u64, inner: &[u8]) -> Vec<u8> {
        let mut out = vec![23, 3, 3];
        out.extend_from_slice(&((inner.len() + TAG) as u16).to_be_bytes());
        let mut t = [0u8; TAG];
        let ct = encrypt_aead(
            key.aead.cipher(),
            &key.key,
            Some(&key.nonce(seq, None)),
            &out,
            inner,
            &mut t,
        )
        .unwrap();
        out.extend(ct);
        out.extend(t);
        out
    }

    #[test]
    fn a_tls13_record_becomes_an_empty_one_and_an_alert_under_the_same_number() {
        let secret = vec![7u8; 32];
        let s = WriteSecrets::Tls13 {
            suite: 0x1301,
            secret: secret.clone(),
        };
        let key = tls13_key(Aead::Aes128Gcm, MessageDigest::sha256(), &secret).unwrap();
        let rec = sealed13(&key, 5, &[b'x', 23]);
        let empty = reseal(&rec, &s, 10, Content::Empty).unwrap();
        assert_eq!(empty, sealed13(&key, 5, &[23]));
        assert_eq!(
            empty.len(),
            5 + 1 + TAG,
            "an empty TLS 1.3 record is 17 bytes after its header"
        );
        let alert = reseal(&rec, &s, 10, Content::WarningAlert(90)).unwrap();
        assert_eq!(alert, sealed13(&key, 5, &[1, 90, 21]));
        assert!(
            reseal(&rec, &s, 4, Content::Empty).is_err(),
            "sequence 5 is beyond the bound"
        );
    }

    #[test]
    fn a_tls13_record_after_a_key_update_is_found() {
        let secret = vec![9u8; 48];
        let md = MessageDigest::sha384();
        let next = expand_label(md, &secret, "traffic upd", 48).unwrap();
        let key = tls13_key(Aead::Aes256Gcm, md, &next).unwrap();
        let rec = sealed13(&key, 0, &[b'x', 23]);
        let s = WriteSecrets::Tls13 {
            suite: 0x1302,
            secret,
        };
        assert_eq!(
            reseal(&rec, &s, 3, Content::Empty).unwrap(),
            sealed13(&key, 0, &[23])
        );
    }

    #[test]
    fn a_tls12_gcm_record_keeps_its_explicit_nonce() {
        let s = WriteSecrets::Tls12 {
            suite: 0xc02b,
            master: vec![1; 48],
            client_random: vec![2; 32],
            server_random: vec![3; 32],
            client: false,
        };
        let key = tls12_key(&s).unwrap();
        let seal = |seq: u64, ty: u8, plain: &[u8]| {
            let explicit = seq.to_be_bytes();
            let mut aad = seq.to_be_bytes().to_vec();
            aad.extend([ty, 3, 3]);
            aad.extend((plain.len() as u16).to_be_bytes());
            let mut t = [0u8; TAG];
            let ct = encrypt_aead(
                key.aead.cipher(),
                &key.key,
                Some(&key.nonce(seq, Some(&explicit))),
                &aad,
                plain,
                &mut t,
            )
            .unwrap();
            let mut out = vec![ty, 3, 3];
            out.extend(((8 + ct.len() + TAG) as u16).to_be_bytes());
            out.extend(explicit);
            out.extend(ct);
            out.extend(t);
            out
        };
        let rec = seal(3, 23, b"x");
        assert_eq!(
            reseal(&rec, &s, 10, Content::Empty).unwrap(),
            seal(3, 23, b"")
        );
        assert_eq!(
            reseal(&rec, &s, 10, Content::WarningAlert(100)).unwrap(),
            seal(3, 21, &[1, 100])
        );
    }

    #[test]
    fn cbc_suites_and_cut_records_are_refused() {
        let s = WriteSecrets::Tls12 {
            suite: 0xc009,
            master: vec![1; 48],
            client_random: vec![2; 32],
            server_random: vec![3; 32],
            client: true,
        };
        let e = reseal(
            &[23, 3, 3, 0, 30]
                .iter()
                .copied()
                .chain([0; 30])
                .collect::<Vec<_>>(),
            &s,
            1,
            Content::Empty,
        )
        .unwrap_err();
        assert!(e.contains("0xc009"), "{e}");
        assert!(records(&[23, 3, 3, 0, 5, 1]).is_err());
        assert_eq!(
            records(&[21, 3, 3, 0, 0, 23, 3, 3, 0, 1, 9]).unwrap().len(),
            2
        );
    }
}
