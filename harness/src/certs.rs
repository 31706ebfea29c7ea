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
use serde::{Deserialize, Serialize};

/// The key type of a server certificate.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyType {
    #[default]
    Ed25519,
    P256,
    Rsa2048,
}

impl KeyType {
    pub fn is_default(&self) -> bool {
        *self == KeyType::Ed25519
    }
}

impl std::fmt::Display for KeyType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            KeyType::Ed25519 => "ed25519",
            KeyType::P256 => "p256",
            KeyType::Rsa2048 => "rsa2048",
        })
    }
}

/// A server certificate (DER) and its private key (PKCS#8 DER), issued by [`pki`]'s CA.
pub struct ServerCert {
    pub cert_der: Vec<u8>,
    pub key_der: Vec<u8>,
}

/// The server certificate of key type `key`: [`pki`]'s own for Ed25519, else one made on first
/// use and signed by the same CA. `Err` says why it could not be made.
pub fn server_for(key: KeyType) -> Result<&'static ServerCert, String> {
    static ED25519: OnceLock<ServerCert> = OnceLock::new();
    static P256: OnceLock<Result<ServerCert, String>> = OnceLock::new();
    static RSA: OnceLock<Result<ServerCert, String>> = OnceLock::new();
    match key {
        KeyType::Ed25519 => Ok(ED25519.get_or_init(|| ServerCert {
            cert_der: pki().server_cert_der.clone(),
            key_der: pki().server_key_der.clone(),
        })),
        KeyType::P256 => P256
            .get_or_init(|| other_server(key))
            .as_ref()
            .map_err(Clone::clone),
        KeyType::Rsa2048 => RSA
            .get_or_init(|| other_server(key))
            .as_ref()
            .map_err(Clone::clone),
    }
}

fn other_server(key: KeyType) -> Result<ServerCert, String> {
    let what = |e: &dyn std::fmt::Display| format!("making the {key} server certificate: {e}");
    let pair = match key {
        KeyType::P256 => {
            KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(|e| what(&e))?
        }
        KeyType::Rsa2048 | KeyType::Ed25519 => {
            let rsa = openssl::rsa::Rsa::generate(2048).map_err(|e| what(&e))?;
            let der = openssl::pkey::PKey::from_rsa(rsa)
                .and_then(|k| k.private_key_to_pkcs8())
                .map_err(|e| what(&e))?;
            let der = rustls::pki_types::PrivatePkcs8KeyDer::from(der);
            KeyPair::from_pkcs8_der_and_sign_algo(&der, &rcgen::PKCS_RSA_SHA256)
                .map_err(|e| what(&e))?
        }
    };
    let (ca, ca_key) = ca().map_err(|e| what(&e))?;
    let mut params = CertificateParams::new(vec![SERVER_NAME.to_string()]).map_err(|e| what(&e))?;
    params.serial_number = Some(rcgen::SerialNumber::from(vec![0x51, 0x03]));
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, SERVER_NAME);
    let cert = params
        .signed_by(&pair, &ca, &ca_key)
        .map_err(|e| what(&e))?;
    Ok(ServerCert {
        cert_der: cert.der().to_vec(),
        key_der: pair.serialize_der(),
    })
}

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

/// The process's CA: its key (generated once) and a certificate for it. rcgen signs with a
/// certificate it made itself; the one made again here from the same key and parameters
/// has the same subject and key, so what it signs chains to [`pki`]'s CA.
fn ca() -> Result<(rcgen::Certificate, KeyPair), rcgen::Error> {
    static CA_KEY: OnceLock<String> = OnceLock::new();
    let pem = CA_KEY.get_or_init(|| {
        KeyPair::generate_for(&rcgen::PKCS_ED25519)
            .map(|k| k.serialize_pem())
            .unwrap_or_default()
    });
    let ca_key = KeyPair::from_pem(pem)?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.serial_number = Some(rcgen::SerialNumber::from(vec![0x51, 0x01]));
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "sslwrite test CA");
    let ca = ca_params.self_signed(&ca_key)?;
    Ok((ca, ca_key))
}

fn generate() -> Result<TestPki, rcgen::Error> {
    let (ca, ca_key) = ca()?;

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

    #[test]
    fn other_key_types_are_signed_by_the_same_ca_and_both_libraries_read_them() {
        use openssl::x509::X509;
        let ca = X509::from_der(&super::pki().ca_der).unwrap();
        for (key, id) in [
            (super::KeyType::P256, openssl::pkey::Id::EC),
            (super::KeyType::Rsa2048, openssl::pkey::Id::RSA),
        ] {
            let c = super::server_for(key).unwrap();
            let cert = X509::from_der(&c.cert_der).unwrap();
            assert!(
                cert.verify(&ca.public_key().unwrap()).unwrap(),
                "{key}: signed by the CA"
            );
            let k = openssl::pkey::PKey::private_key_from_der(&c.key_der).unwrap();
            assert_eq!(k.id(), id, "{key}");
            assert!(
                cert.public_key().unwrap().public_eq(&k),
                "{key}: the key is the cert's"
            );
            rustls::pki_types::PrivateKeyDer::try_from(c.key_der.clone()).unwrap();
        }
        assert_eq!(
            super::server_for(super::KeyType::Ed25519).unwrap().cert_der,
            super::pki().server_cert_der
        );
    }
}
