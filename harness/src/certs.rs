//! Certificates generated at run time with rcgen: one CA and one server certificate for
//! "localhost" (ECDSA P-256), made once per process and shared by every implementation.
//! No key material is ever committed.

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
    let ca_key = KeyPair::generate()?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "sslwrite test CA");
    let ca = ca_params.self_signed(&ca_key)?;

    let key = KeyPair::generate()?;
    let mut params = CertificateParams::new(vec![SERVER_NAME.to_string()])?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, SERVER_NAME);
    let cert = params.signed_by(&key, &ca, &ca_key)?;

    Ok(TestPki {
        ca_der: ca.der().to_vec(),
        server_cert_der: cert.der().to_vec(),
        server_key_der: key.serialize_der(),
    })
}
