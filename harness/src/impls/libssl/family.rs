//! Which member of the libssl ABI family a loaded library is, what it says it is, and the
//! constants that differ between members.
//!
//! The family is told from the library's exports, never from its version text alone (AWS-LC's
//! `OpenSSL_version()` says "OpenSSL 1.1.1 (compatible; AWS-LC 1.18.0)", BoringSSL's "OpenSSL
//! 1.1.1 (compatible; BoringSSL)"): `awslc_version_string` is AWS-LC's, the BoringSSL-only
//! `SSL_set_renegotiate_mode` / `SSL_CTX_set_verify_algorithm_prefs` mark the BoringSSL family,
//! a version text starting "LibreSSL" is LibreSSL, one starting "OpenSSL" with none of those
//! exports is OpenSSL. The family goes into the report ([`LibraryInfo::family`]) and known
//! divergences scoped by version never reach another family (`known.rs`).

use std::ffi::{c_int, c_long};

use serde::{Deserialize, Serialize};

use super::symbols::*;

/// A member of the libssl ABI family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Family {
    Openssl,
    Boringssl,
    AwsLc,
    Libressl,
    Other,
}

impl Family {
    /// Tells the family from the exports and the version text.
    pub fn detect(sym: &Symbols, version_text: &str) -> Family {
        if sym.awslc_version_string.is_some() {
            Family::AwsLc
        } else if sym.SSL_set_renegotiate_mode.is_some()
            || sym.SSL_CTX_set_verify_algorithm_prefs.is_some()
        {
            Family::Boringssl
        } else if version_text.starts_with("LibreSSL") {
            Family::Libressl
        } else if version_text.starts_with("OpenSSL") {
            Family::Openssl
        } else {
            Family::Other
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Family::Openssl => "openssl",
            Family::Boringssl => "boringssl",
            Family::AwsLc => "aws-lc",
            Family::Libressl => "libressl",
            Family::Other => "other",
        }
    }

    fn boring(self) -> bool {
        matches!(self, Family::Boringssl | Family::AwsLc)
    }

    /// The `SSL_MODE_*` bit of each mode in this family, as its headers define it: BoringSSL
    /// and AWS-LC define `SSL_MODE_AUTO_RETRY` and `SSL_MODE_RELEASE_BUFFERS` as 0 ("do
    /// nothing ... included only to make it easier to compile code"), so a program that sets
    /// them there sets nothing, and a run with them on plays the library's only behaviour.
    pub fn mode_bits(self) -> ModeBits {
        let (auto_retry, release_buffers) = if self.boring() {
            (0, 0)
        } else {
            (SSL_MODE_AUTO_RETRY, SSL_MODE_RELEASE_BUFFERS)
        };
        ModeBits {
            partial_write: SSL_MODE_ENABLE_PARTIAL_WRITE,
            moving_buffer: SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER,
            auto_retry,
            release_buffers,
        }
    }

    /// What the report says about modes that are no-ops in this family.
    pub fn mode_note(self) -> Option<&'static str> {
        self.boring().then_some(
            "SSL_MODE_AUTO_RETRY and SSL_MODE_RELEASE_BUFFERS are 0 in this family's headers: runs with them on set nothing and play the library's only behaviour",
        )
    }

    /// The context options of this family for a configuration: `Ok(bits)`, or `Err` naming an
    /// option the family does not have (the runs that need it are `skip`).
    pub fn options(self, want: &Options) -> Result<u64, String> {
        let mut opts = if want.tickets { 0 } else { SSL_OP_NO_TICKET };
        if self.boring() {
            // Renegotiation is a per-connection mode there (`renegotiate_mode`); a server
            // never renegotiates; there is no encrypt-then-MAC to switch off (never offered).
            if want.allow_client_renegotiation {
                return Err(format!(
                    "{} servers do not renegotiate (no SSL_OP_ALLOW_CLIENT_RENEGOTIATION)",
                    self.name()
                ));
            }
            return Ok(opts);
        }
        if want.no_renegotiation {
            opts |= SSL_OP_NO_RENEGOTIATION;
        }
        if want.allow_client_renegotiation {
            opts |= SSL_OP_ALLOW_CLIENT_RENEGOTIATION;
        }
        if want.no_encrypt_then_mac {
            opts |= SSL_OP_NO_ENCRYPT_THEN_MAC;
        }
        Ok(opts)
    }

    /// BoringSSL family: the `ssl_renegotiate_mode_t` that gives OpenSSL's meaning of the
    /// configuration (a client accepts the server's renegotiation unless told not to).
    pub fn renegotiate_mode(self, no_renegotiation: bool) -> Option<c_int> {
        const NEVER: c_int = 0;
        const FREELY: c_int = 2;
        self.boring()
            .then_some(if no_renegotiation { NEVER } else { FREELY })
    }
}

/// The context options a configuration asks for, before they become a family's bits.
pub struct Options {
    /// Session tickets (stateless) instead of `SSL_OP_NO_TICKET`.
    pub tickets: bool,
    pub no_renegotiation: bool,
    pub allow_client_renegotiation: bool,
    pub no_encrypt_then_mac: bool,
}

/// A family's bit for each mode (0: the family defines the mode as nothing).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ModeBits {
    pub partial_write: c_long,
    pub moving_buffer: c_long,
    pub auto_retry: c_long,
    pub release_buffers: c_long,
}

impl ModeBits {
    /// Every bit this family has.
    pub fn all(&self) -> c_long {
        self.partial_write | self.moving_buffer | self.auto_retry | self.release_buffers
    }

    /// The bits for `modes`.
    pub fn of(&self, modes: crate::contract::Modes) -> c_long {
        [
            (modes.partial_write, self.partial_write),
            (modes.moving_buffer, self.moving_buffer),
            (modes.auto_retry, self.auto_retry),
            (modes.release_buffers, self.release_buffers),
        ]
        .into_iter()
        .filter(|(on, _)| *on)
        .fold(0, |bits, (_, b)| bits | b)
    }
}

/// The TLS 1.3 signature schemes a BoringSSL-family client verifies, in its default order
/// with Ed25519 added (its default leaves Ed25519 out, and the harness's certificates are
/// Ed25519): ed25519, ecdsa_secp256r1_sha256, rsa_pss_rsae_sha256, rsa_pkcs1_sha256,
/// ecdsa_secp384r1_sha384, rsa_pss_rsae_sha384, rsa_pkcs1_sha384, rsa_pss_rsae_sha512,
/// rsa_pkcs1_sha512.
pub const VERIFY_PREFS: [u16; 9] = [
    0x0807, 0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601,
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::Modes;

    #[test]
    fn boringssl_defines_auto_retry_as_nothing_and_openssl_has_all_four() {
        let on = Modes::from_names(["partial_write", "auto_retry"]).unwrap();
        assert_eq!(Family::Openssl.mode_bits().of(on), 0x5);
        assert_eq!(Family::Openssl.mode_bits().all(), 0x17);
        assert_eq!(Family::Boringssl.mode_bits().of(on), 0x1);
        assert_eq!(Family::AwsLc.mode_bits().all(), 0x3);
        assert!(Family::Boringssl.mode_note().is_some() && Family::Openssl.mode_note().is_none());
    }

    #[test]
    fn option_bits_per_family() {
        let want = Options {
            tickets: false,
            no_renegotiation: true,
            allow_client_renegotiation: false,
            no_encrypt_then_mac: true,
        };
        assert_eq!(
            Family::Openssl.options(&want),
            Ok(SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_ENCRYPT_THEN_MAC)
        );
        assert_eq!(Family::Boringssl.options(&want), Ok(SSL_OP_NO_TICKET));
        assert_eq!(Family::Boringssl.renegotiate_mode(true), Some(0));
        assert_eq!(Family::Boringssl.renegotiate_mode(false), Some(2));
        assert_eq!(Family::Openssl.renegotiate_mode(false), None);
        let server = Options {
            allow_client_renegotiation: true,
            ..want
        };
        assert!(Family::AwsLc.options(&server).is_err());
    }
}
