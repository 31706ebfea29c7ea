//! Certificates generated at run time with rcgen: one CA and one server certificate for
//! "localhost", made once per process (every worker process makes its own) and shared by every
//! implementation. No key material is ever committed.
//!
//! Ed25519 keys and fixed serial numbers: every signature is 64 bytes and every certificate has
//! the same length whatever the key, so handshake records (Certificate, CertificateVerify,
//! ServerKeyExchange) have the same lengths in every process and every run. ECDSA signatures
//! are 70 to 72 bytes at random, which made reports differ from run to run.

use std::sync::OnceLock;

use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};

/// DER encodings of the test PKI.
pub struct TestPki {
    pub ca_der: Vec<u8>,
    pub server_cert_der: Vec<u8>,
    /// PKCS#8 DER of the server's private key.
    pub server_key_der: Vec<u8>,
}

/// The server name the certificate is valid for.
pub const SERVER_NAME: &str = "localhost";

/// The process-wide test PKI, generated on first use.
pub fn pki() -> &'static TestPki {
    static PKI: OnceLock<TestPki> = OnceLock::new();
    PKI.get_or_init(|| generate().expect("rcgen failed to generate the test PKI"))
}

fn generate() -> Result<TestPki, rcgen::Error> {
    let ca_key = KeyPair::generate_for(&rcgen::PKCS_ED25519)?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.serial_number = Some(rcgen::SerialNumber::from(vec![0x51, 0x01]));
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "sslwrite test CA");
    let ca = ca_params.self_signed(&ca_key)?;

    let key = KeyPair::generate_for(&rcgen::PKCS_ED25519)?;
    let mut params = CertificateParams::new(vec![SERVER_NAME.to_string()])?;
    params.serial_number = Some(rcgen::SerialNumber::from(vec![0x51, 0x02]));
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, SERVER_NAME);
    let cert = params.signed_by(&key, &ca, &ca_key)?;

    Ok(TestPki {
        ca_der: ca.der().to_vec(),
        server_cert_der: cert.der().to_vec(),
        server_key_der: pkcs8_v1(key.serialize_der()),
    })
}

/// ring writes Ed25519 keys as PKCS#8 v2 (RFC 5958: the public key follows the seed), which
/// OpenSSL 3.0 does not decode; both libraries read the v1 form: the same seed, no public key.
fn pkcs8_v1(v2: Vec<u8>) -> Vec<u8> {
    // SEQUENCE (any length) { INTEGER 1, AlgorithmIdentifier { Ed25519 }, OCTET STRING {
    // OCTET STRING (32 bytes: the seed) }, [1] public key }
    const V2_BODY: [u8; 14] = [
        0x02, 0x01, 0x01, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
    ];
    const V1_HEAD: [u8; 16] = [
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    if v2.len() < 48 || v2[0] != 0x30 || v2[2..16] != V2_BODY {
        return v2;
    }
    let mut v1 = V1_HEAD.to_vec();
    v1.extend_from_slice(&v2[16..48]);
    v1
}

#[cfg(test)]
mod tests {
    #[test]
    fn both_libraries_read_the_key_and_its_length_is_fixed() {
        let pki = super::pki();
        assert_eq!(pki.server_key_der.len(), 48, "PKCS#8 v1 of an Ed25519 seed");
        openssl::pkey::PKey::private_key_from_der(&pki.server_key_der).expect("OpenSSL reads it");
        let again = super::generate().unwrap();
        assert_eq!(again.server_cert_der.len(), pki.server_cert_der.len());
        assert_eq!(again.ca_der.len(), pki.ca_der.len());
    }
}
