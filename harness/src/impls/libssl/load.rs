//! Loading a libssl-family library: `dlmopen` into a link namespace of its own (with the
//! libcrypto beside it), the thread-specific-data keys the two namespaces share, the symbol
//! table, the family and identity, and the error queue of the loaded libcrypto.

use std::ffi::{c_int, c_void};
use std::sync::{Arc, OnceLock};

use libloading::os::unix::Library;

use super::bio::Method;
use super::family::Family;
use super::symbols::*;
use super::{parse_spec, HIDE_ENV};
use crate::contract::{LibraryInfo, SetupError};
use crate::impls::dl::{
    c_text, crypto_beside, file_of, keys_after_first_use, keys_before_first_use, open_isolated,
};

/// A loaded library: its handles (never unloaded) and its entry points.
pub struct Loaded {
    pub sym: Symbols,
    /// `OpenSSL_version_num()`, 0 if not exported.
    version_num: u64,
    pub label: String,
    pub info: LibraryInfo,
    /// What the library says it is: its own version function where the family has one
    /// (AWS-LC's `awslc_version_string`), else `OpenSSL_version(OPENSSL_VERSION)`.
    pub version: String,
    pub family: Family,
    /// The network side's method table (bio.rs), shared by every connection.
    pub method: Method,
    /// The OpenSSL the harness links (`openssl.rs`), not a library loaded at run time.
    pub linked: bool,
    /// Never closed: function pointers into them live in contexts, connections and BIO
    /// callbacks until the process ends (and OpenSSL's libraries are NODELETE anyway). None
    /// for the linked OpenSSL.
    _ssl: std::mem::ManuallyDrop<Option<Library>>,
    _crypto: std::mem::ManuallyDrop<Option<Library>>,
}
/// What makes a library create its per-thread keys: a context, a connection, the error queue.
fn first_use(s: &Symbols) {
    // SAFETY: plain constructors and destructors of the loaded library, each result freed.
    unsafe {
        let ctx = (s.SSL_CTX_new)((s.TLS_method)());
        if !ctx.is_null() {
            let ssl = (s.SSL_new)(ctx);
            if !ssl.is_null() {
                (s.SSL_free)(ssl);
            }
            (s.SSL_CTX_free)(ctx);
        }
        (s.ERR_get_error)();
        (s.ERR_clear_error)();
    }
}

/// The optional entry points `sym` lacks, leaving out those whose alternative it has
/// (`SSLeay_version` beside `OpenSSL_version`, the verify-parameter pair beside `SSL_set1_host`).
fn missing_symbols(sym: &Symbols) -> Vec<String> {
    let served = |name: &str| match name {
        "SSLeay_version" => sym.OpenSSL_version.is_some(),
        "OpenSSL_version" => sym.SSLeay_version.is_some(),
        "SSL_get0_param" | "X509_VERIFY_PARAM_set1_host" => sym.SSL_set1_host.is_some(),
        // A family's own entry points, not expected elsewhere.
        "awslc_version_string"
        | "SSL_set_renegotiate_mode"
        | "SSL_CTX_set_verify_algorithm_prefs"
        | "SSL_CTX_get_tlsext_ticket_keys"
        | "SSL_CTX_set_tlsext_ticket_keys" => true,
        // Only a copy per connection; the families without it copy sessions themselves.
        "SSL_SESSION_dup" => true,
        // The control macros' real functions, where SSL_ctrl / SSL_CTX_ctrl serve them.
        "SSL_CTX_set_min_proto_version"
        | "SSL_CTX_set_max_proto_version"
        | "SSL_CTX_set_options" => sym.SSL_CTX_ctrl.is_some(),
        "SSL_set_mode"
        | "SSL_clear_mode"
        | "SSL_get_mode"
        | "SSL_set_max_send_fragment"
        | "SSL_set_tlsext_host_name"
        | "SSL_set1_groups_list" => sym.SSL_ctrl.is_some(),
        "SSL_ctrl" => {
            sym.SSL_set_mode.is_some()
                && sym.SSL_clear_mode.is_some()
                && sym.SSL_get_mode.is_some()
                && sym.SSL_set_max_send_fragment.is_some()
                && sym.SSL_set_tlsext_host_name.is_some()
        }
        "SSL_CTX_ctrl" => {
            sym.SSL_CTX_set_min_proto_version.is_some()
                && sym.SSL_CTX_set_max_proto_version.is_some()
                && sym.SSL_CTX_set_options.is_some()
        }
        "SSL_CTX_set_num_tickets" => sym.SSL_set_num_tickets.is_some(),
        "SSL_set_num_tickets" => sym.SSL_CTX_set_num_tickets.is_some(),
        _ => false,
    };
    sym.missing_optional()
        .into_iter()
        .filter(|n| !served(n))
        .map(String::from)
        .collect()
}

/// The routes taken where the library lacks the usual entry point (for the report).
fn fallbacks(sym: &Symbols) -> Vec<String> {
    let mut out = Vec::new();
    if sym.SSL_CTX_ctrl.is_none() {
        out.push(
            "SSL_CTX_set_min/max_proto_version and SSL_CTX_set_options for SSL_CTX_ctrl".into(),
        );
    }
    if sym.SSL_ctrl.is_none() {
        out.push("SSL_set_mode/SSL_clear_mode/SSL_get_mode, SSL_set_max_send_fragment and SSL_set_tlsext_host_name for SSL_ctrl".into());
    }
    if sym.SSL_set_num_tickets.is_none() && sym.SSL_CTX_set_num_tickets.is_some() {
        out.push(
            "SSL_CTX_set_num_tickets (a context per ticket count) for SSL_set_num_tickets".into(),
        );
    }
    if sym.SSL_set1_host.is_none() {
        out.push("SSL_get0_param + X509_VERIFY_PARAM_set1_host for SSL_set1_host".into());
    }
    out
}

impl Loaded {
    pub fn open(spec: &str) -> Result<Loaded, String> {
        let (path, label) = parse_spec(spec)?;
        let crypto_path = crypto_beside(&path);
        let (ssl, crypto, namespace) = open_isolated(&path, crypto_path.as_deref())?;
        let mut libs: Vec<&Library> = vec![&ssl];
        if let Some(c) = &crypto {
            libs.push(c);
        }
        let hidden: Vec<String> = std::env::var(HIDE_ENV)
            .unwrap_or_default()
            .split(',')
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty())
            .collect();
        // SAFETY: the library claims the OpenSSL libssl ABI (that is what --impl libssl: means);
        // the signatures in symbols.rs are that ABI's.
        let sym = unsafe { Symbols::load(&libs, &hidden) }.map_err(|missing| {
            format!(
                "{path}: not usable as a libssl: it does not export {} (essential for the driver)",
                missing.join(", ")
            )
        })?;
        let own_namespace = namespace.starts_with("dlmopen");
        let mut loaded =
            Loaded::describe(sym, label, path, namespace, own_namespace.then_some(&ssl))?;
        loaded._ssl = std::mem::ManuallyDrop::new(Some(ssl));
        loaded._crypto = std::mem::ManuallyDrop::new(crypto);
        Ok(loaded)
    }

    /// The OpenSSL the harness links, as the same driver sees a loaded one (one per process:
    /// its sessions resume on any instance).
    pub fn linked() -> Arc<Loaded> {
        static LINKED: OnceLock<Arc<Loaded>> = OnceLock::new();
        LINKED
            .get_or_init(|| {
                openssl::init();
                // SAFETY: linked.rs gives the addresses of the linked OpenSSL's own functions
                // of these names, whose C types are the table's.
                let sym = unsafe { Symbols::from_lookup(super::linked::lookup) }
                    .unwrap_or_else(|m| panic!("linked.rs lacks essential entry points {m:?}"));
                let loaded = Loaded::describe(
                    sym,
                    super::super::openssl::OpensslImpl::NAME.to_string(),
                    "the linked OpenSSL".to_string(),
                    "linked into the harness".to_string(),
                    None,
                )
                .unwrap_or_else(|e| panic!("the linked OpenSSL: {e}"));
                Arc::new(Loaded {
                    linked: true,
                    ..loaded
                })
            })
            .clone()
    }

    /// Identity, build information and the method table of a library whose symbols are
    /// `sym`; `isolated` is the library's handle when it lives in a link namespace of its own
    /// (the thread-specific-data keys are then kept apart around its first use).
    fn describe(
        sym: Symbols,
        label: String,
        path: String,
        namespace: String,
        isolated: Option<&Library>,
    ) -> Result<Loaded, String> {
        let Some(version_fn) = sym.OpenSSL_version.or(sym.SSLeay_version) else {
            return Err(format!(
                "{path}: not usable as a libssl: it exports neither OpenSSL_version nor SSLeay_version"
            ));
        };
        if let Some(ssl) = isolated {
            keys_before_first_use(ssl)?;
        }
        if let Some(init) = sym.OPENSSL_init_ssl {
            // SAFETY: OPENSSL_init_ssl(opts, NULL) with documented option bits; it is what the
            // openssl crate calls on the linked library before first use.
            unsafe {
                init(
                    OPENSSL_INIT_LOAD_SSL_STRINGS
                        | OPENSSL_INIT_LOAD_CRYPTO_STRINGS
                        | OPENSSL_INIT_NO_ATEXIT,
                    std::ptr::null(),
                )
            };
        }
        // SAFETY: OpenSSL_version(t) returns a static NUL-terminated string for any t.
        let text = |t: c_int| unsafe { c_text(version_fn(t)) };
        let openssl_version = text(OPENSSL_VERSION);
        let family = Family::detect(&sym, &openssl_version);
        let version = match sym.awslc_version_string {
            Some(f) => {
                // SAFETY: awslc_version_string() returns a static NUL-terminated string.
                let v = unsafe { c_text(f()) };
                if v.starts_with("AWS-LC") {
                    v
                } else {
                    format!("AWS-LC {v}")
                }
            }
            None => openssl_version.clone(),
        };
        #[allow(clippy::unnecessary_cast)] // c_ulong is 32 bits on some targets
        let version_num = sym.OpenSSL_version_num.map_or(0, |f| {
            // SAFETY: OpenSSL_version_num() takes nothing and returns a number.
            unsafe { f() as u64 }
        });
        let abi = match version_num >> 28 {
            0 => "unknown (no OpenSSL_version_num)".to_string(),
            1 => "OpenSSL 1.1 libssl ABI".to_string(),
            n => format!("OpenSSL {n}.x libssl ABI"),
        };
        let mut build: Vec<String> = [
            OPENSSL_CFLAGS,
            OPENSSL_BUILT_ON,
            OPENSSL_PLATFORM,
            OPENSSL_DIR,
        ]
        .into_iter()
        .map(text)
        .filter(|s| !s.is_empty() && !s.starts_with("not available"))
        .collect();
        if version != openssl_version {
            build.insert(0, format!("OpenSSL_version: {openssl_version}"));
        }
        let method = Method::new(&sym).map_err(|e| format!("{path}: {e}"))?;
        if let Some(ssl) = isolated {
            first_use(&sym);
            keys_after_first_use(ssl)?;
        }
        let info = LibraryInfo {
            path: path.clone(),
            file: file_of(sym.SSL_new as *const c_void),
            libcrypto: file_of(sym.ERR_get_error as *const c_void),
            version_number: format!("{version_num:#010x}"),
            abi,
            build,
            loaded: namespace,
            missing_symbols: missing_symbols(&sym),
            fallbacks: fallbacks(&sym)
                .into_iter()
                .chain(family.mode_note().map(String::from))
                .collect(),
        };
        Ok(Loaded {
            sym,
            version_num,
            label,
            info,
            version,
            family,
            method,
            linked: false,
            _ssl: std::mem::ManuallyDrop::new(None),
            _crypto: std::mem::ManuallyDrop::new(None),
        })
    }

    /// `ERR_GET_REASON` of this library's ABI.
    fn reason_code(&self, e: u64) -> u64 {
        if self.version_num >> 28 >= 3 {
            if e & (1 << 31) != 0 {
                e & 0x7fff_ffff
            } else {
                e & 0x7f_ffff
            }
        } else {
            e & 0xfff
        }
    }

    /// Drains this thread's error queue (in the loaded libcrypto) into reason strings.
    pub fn drain_errors(&self) -> Vec<String> {
        let mut out = Vec::new();
        loop {
            // SAFETY: ERR_get_error pops this thread's queue; no arguments.
            let e = unsafe { (self.sym.ERR_get_error)() };
            if e == 0 {
                return out;
            }
            // SAFETY: ERR_reason_error_string returns null or a static string.
            let reason = unsafe { c_text((self.sym.ERR_reason_error_string)(e)) };
            if reason.is_empty() {
                #[allow(clippy::unnecessary_cast)] // c_ulong is 32 bits on some targets
                let code = self.reason_code(e as u64);
                out.push(format!("reason {code}"));
            } else {
                out.push(reason);
            }
        }
    }

    /// Empties this thread's error queue (peeking first: it is nearly always empty, and
    /// ERR_clear_error walks every slot).
    pub fn clear_errors(&self) {
        // SAFETY: both only touch this thread's error queue.
        unsafe {
            if (self.sym.ERR_peek_last_error)() != 0 {
                (self.sym.ERR_clear_error)()
            }
        }
    }

    pub fn missing(&self, symbol: &str) -> String {
        format!("{symbol} is not exported by {}", self.info.path)
    }

    pub fn failed(&self, what: &str) -> SetupError {
        let errors = self.drain_errors();
        SetupError::Failed(format!("{} {what}: {}", self.label, errors.join("; ")))
    }
}
