//! The `libssl:PATH[@label]` implementation: any shared library exporting the OpenSSL 1.1.1 /
//! 3.x libssl ABI (another OpenSSL release, a fork, a Rust reimplementation of the ABI), loaded
//! at run time and driven only through that C ABI.
//!
//! Loading. The library (and the `libcrypto` beside it, when there is one in the same folder,
//! loaded first so that the libssl binds to it and not to one of the same soname elsewhere) is
//! opened with `dlmopen(LM_ID_NEWLM)`: a link namespace of its own, so that it never shares
//! symbols, globals or its libcrypto with the OpenSSL the harness links (which plays the peer
//! in the same process), even when both are `libssl.so.3`. Where `dlmopen` does not exist
//! (non-glibc), plain `dlopen(RTLD_LOCAL)`; the report says which. It is only ever loaded in a
//! worker process of its own (see `isolation.rs`): two loaded libraries never meet in one
//! address space. Symbols are in `libssl/symbols.rs`: a library missing an essential one is
//! refused with the names; a missing optional one (`SSL_write_ex`, `SSL_key_update`,
//! `SSL_new_session_ticket`, ...) makes the steps that need it `skip`, and the report lists it.
//!
//! Families. BoringSSL and AWS-LC have no `SSL_ctrl` / `SSL_CTX_ctrl` (the controls are real
//! functions there), other option and mode bits, no `BIO_set_callback_ex`: a missing
//! convenience is never a refusal. Each control goes through `SSL_ctrl` where it is exported,
//! else its real function; the certificate through `d2i_X509` + `SSL_CTX_use_certificate`; a
//! setter that fails, or whose read-back shows it did nothing, makes the runs that need it
//! `skip` with the reason (`SetupError::Unsupported`). `libssl/family.rs` tells the family
//! from the exports and holds the bits that differ; the report lists the family, the missing
//! entry points and the fallbacks used.
//!
//! The network side is a `BIO_METHOD` of the driver's own (`libssl/bio.rs`) whose write and
//! read go straight to the harness's [`Endpoint`], as the `openssl` crate's stream BIO does
//! for the linked OpenSSL, so the transport sees the same thing from both.
//!
//! Outcomes come from the return value first (`impls/ssl_abi.rs`): `ret > 0` is `ok(ret)`
//! whatever `SSL_get_error` says, and the raw pair is recorded (W10).
//!
//! The linked OpenSSL (`openssl.rs`) is an instance of this same driver, its symbol table filled
//! from the linked library (`libssl/linked.rs`): a loaded library identical to the linked one
//! agrees with it on every run because the same code drives both.
//!
//! All `unsafe` of this driver lives in this file, in `libssl/` and in the loader it shares with
//! the wolfSSL driver (`impls/dl.rs`); each block says why it is sound.

mod bio;
mod conn;
pub mod family;
mod keylog;
mod linked;
mod load;
mod symbols;

use std::collections::HashMap;
use std::ffi::{c_int, c_long, c_void};
use std::sync::{Arc, Mutex};

use self::bio::BioState;
use self::conn::LibsslConn;
use self::load::Loaded;
use self::symbols::*;
use crate::certs::{self, KeyType};
use crate::contract::{
    ConnConfig, Connection, ImplInfo, Implementation, Role, Session, SetupError, Tls,
    MAX_EARLY_DATA,
};
use crate::impls::dl::cstring;
use crate::transport::Endpoint;

/// What `--impl` names start with.
pub const PREFIX: &str = "libssl:";

/// Test support: a comma-separated list of symbols the driver takes as not exported, so that
/// the `skip` and refusal paths can be shown with a complete library (`harness/tests/it/libssl.rs`).
pub const HIDE_ENV: &str = "SSLWRITE_LIBSSL_HIDE";

/// Whether `spec` names a run-time loaded library (`libssl:PATH[@label]`).
pub fn is_spec(spec: &str) -> bool {
    spec.starts_with(PREFIX)
}

/// `libssl:PATH@label` → (`PATH`, `label`); without `@label` the label is the spec itself.
pub fn parse_spec(spec: &str) -> Result<(String, String), String> {
    crate::impls::dl::parse_spec(PREFIX, spec, "libssl:libssl.so.3@system")
}

/// The column name `spec` gets in reports.
pub fn label(spec: &str) -> String {
    parse_spec(spec).map_or_else(|_| spec.to_string(), |(_, l)| l)
}

/// The `SSL_CTX*` cache entry: shared across runs like the linked driver's contexts.
struct CtxPtr(*mut SslCtx);

// SAFETY: an SSL_CTX is reference-counted and safe to use from several threads once
// configured (OpenSSL's threading rules); it is only configured before it is cached.
unsafe impl Send for CtxPtr {}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct CtxKey {
    role: Role,
    tls: Tls,
    no_renegotiation: bool,
    allow_client_renegotiation: bool,
    no_encrypt_then_mac: bool,
    resume: bool,
    /// Only where the library sets the TLS 1.3 ticket count per context (no
    /// `SSL_set_num_tickets`): the count.
    tickets: Option<u8>,
    /// A server's certificate key type.
    key: KeyType,
}

/// A libssl-compatible library as an implementation of the write contract.
pub struct LibsslImpl {
    lib: Arc<Loaded>,
    contexts: Mutex<HashMap<CtxKey, CtxPtr>>,
}

impl LibsslImpl {
    /// Loads the library `libssl:PATH[@label]` names. `Err` says why it cannot be used (not
    /// found, not a libssl, essential symbols missing: named).
    pub fn load(spec: &str) -> Result<LibsslImpl, String> {
        Ok(LibsslImpl {
            lib: Arc::new(Loaded::open(spec)?),
            contexts: Mutex::new(HashMap::new()),
        })
    }

    /// The OpenSSL the harness links, driven by this same driver (`openssl.rs`).
    pub fn linked() -> LibsslImpl {
        LibsslImpl {
            lib: Loaded::linked(),
            contexts: Mutex::new(HashMap::new()),
        }
    }

    fn context(&self, key: CtxKey) -> Result<*mut SslCtx, SetupError> {
        // A context with its own ticket count (a library without SSL_set_num_tickets) takes
        // the ticket keys of the one without, so that a session one issued resumes on the
        // other (the first connection of a resuming run asks for more tickets than the run).
        let base = match key.tickets {
            Some(_) => Some(self.context(CtxKey {
                tickets: None,
                ..key
            })?),
            None => None,
        };
        let mut cache = self.contexts.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(ctx) = cache.get(&key) {
            return Ok(ctx.0);
        }
        let ctx = self.build_context(key)?;
        if let Some(base) = base {
            if let Err(e) = self.share_ticket_keys(base, ctx) {
                // SAFETY: the context is ours and not shared yet.
                unsafe { (self.lib.sym.SSL_CTX_free)(ctx) };
                return Err(e);
            }
        }
        cache.insert(key, CtxPtr(ctx));
        Ok(ctx)
    }

    /// Copies `from`'s session ticket keys into `to` (BoringSSL family: 48 bytes).
    fn share_ticket_keys(&self, from: *mut SslCtx, to: *mut SslCtx) -> Result<(), SetupError> {
        let s = &self.lib.sym;
        let (Some(get), Some(set)) = (
            s.SSL_CTX_get_tlsext_ticket_keys,
            s.SSL_CTX_set_tlsext_ticket_keys,
        ) else {
            return Err(SetupError::Unsupported(self.lib.missing(
                "SSL_CTX_get/set_tlsext_ticket_keys (to resume across ticket counts)",
            )));
        };
        let mut keys = [0u8; 48];
        // SAFETY: both contexts are live; the buffer is valid for its 48 bytes, the length
        // the calls take.
        let ok = unsafe {
            get(from, keys.as_mut_ptr().cast(), keys.len()) == 1
                && set(to, keys.as_ptr().cast(), keys.len()) == 1
        };
        if ok {
            Ok(())
        } else {
            Err(self.lib.failed("sharing session ticket keys"))
        }
    }

    /// The same context `openssl.rs` builds, through the C ABI.
    fn build_context(&self, key: CtxKey) -> Result<*mut SslCtx, SetupError> {
        let lib = &self.lib;
        let s = &lib.sym;
        let pki = certs::pki();
        lib.clear_errors();
        // SAFETY: TLS_method returns a static method table; SSL_CTX_new returns an owned
        // context or null.
        let ctx = unsafe { (s.SSL_CTX_new)((s.TLS_method)()) };
        if ctx.is_null() {
            return Err(lib.failed("SSL_CTX_new"));
        }
        let fail = |what: &str| {
            let e = lib.failed(what);
            // SAFETY: the context is ours and not shared yet.
            unsafe { (s.SSL_CTX_free)(ctx) };
            Err(e)
        };
        let v = match key.tls {
            Tls::V12 => TLS1_2_VERSION,
            Tls::V13 => TLS1_3_VERSION,
        };
        let versions = match (
            s.SSL_CTX_ctrl,
            s.SSL_CTX_set_min_proto_version,
            s.SSL_CTX_set_max_proto_version,
        ) {
            // SAFETY: SSL_CTX_set_min/max_proto_version are SSL_CTX_ctrl with a version in
            // larg and no pointer.
            (Some(ctrl), _, _) => unsafe {
                ctrl(ctx, SSL_CTRL_SET_MIN_PROTO_VERSION, v, std::ptr::null_mut()) == 1
                    && ctrl(ctx, SSL_CTRL_SET_MAX_PROTO_VERSION, v, std::ptr::null_mut()) == 1
            },
            // SAFETY: the real functions (BoringSSL family) take the version as a uint16_t.
            (None, Some(min), Some(max)) => unsafe {
                min(ctx, v as u16) == 1 && max(ctx, v as u16) == 1
            },
            _ => {
                // SAFETY: the context is ours and not shared yet.
                unsafe { (s.SSL_CTX_free)(ctx) };
                return Err(SetupError::Unsupported(lib.missing(
                    "SSL_CTX_ctrl (or SSL_CTX_set_min_proto_version and SSL_CTX_set_max_proto_version)",
                )));
            }
        };
        if !versions {
            return fail("protocol version");
        }
        match key.role {
            Role::Server => {
                let server = match certs::server_for(key.key) {
                    Ok(c) => c,
                    Err(e) => {
                        // SAFETY: the context is ours and not shared yet.
                        unsafe { (s.SSL_CTX_free)(ctx) };
                        return Err(SetupError::Failed(e));
                    }
                };
                let der = &server.cert_der;
                let mut p = der.as_ptr();
                // SAFETY: d2i reads at most `len` bytes from `p` (inside `der`) and returns an
                // owned certificate or null.
                let x = unsafe { (s.d2i_X509)(std::ptr::null_mut(), &mut p, der.len() as c_long) };
                if x.is_null() {
                    return fail("certificate (DER)");
                }
                // SAFETY: SSL_CTX_use_certificate takes its own reference; ours is freed.
                let ok = unsafe {
                    let ok = (s.SSL_CTX_use_certificate)(ctx, x);
                    (s.X509_free)(x);
                    ok
                };
                if ok != 1 {
                    return fail("certificate");
                }
                let der = &server.key_der;
                let mut p = der.as_ptr();
                // SAFETY: d2i reads at most `len` bytes from `p` (inside `der`) and returns an
                // owned key or null.
                let pkey = unsafe {
                    (s.d2i_AutoPrivateKey)(std::ptr::null_mut(), &mut p, der.len() as c_long)
                };
                if pkey.is_null() {
                    return fail("private key (DER)");
                }
                // SAFETY: SSL_CTX_use_PrivateKey takes its own reference; ours is freed.
                let ok = unsafe {
                    let ok = (s.SSL_CTX_use_PrivateKey)(ctx, pkey);
                    (s.EVP_PKEY_free)(pkey);
                    ok == 1 && (s.SSL_CTX_check_private_key)(ctx) == 1
                };
                if !ok {
                    return fail("private key");
                }
            }
            Role::Client => {
                let der = &pki.ca_der;
                let mut p = der.as_ptr();
                // SAFETY: as for the key: an owned X509 or null.
                let x = unsafe { (s.d2i_X509)(std::ptr::null_mut(), &mut p, der.len() as c_long) };
                if x.is_null() {
                    return fail("CA certificate (DER)");
                }
                // SAFETY: the store belongs to the context; X509_STORE_add_cert takes its own
                // reference, ours is freed; SSL_CTX_set_verify with no callback.
                let ok = unsafe {
                    let store = (s.SSL_CTX_get_cert_store)(ctx);
                    let ok = (s.X509_STORE_add_cert)(store, x);
                    (s.X509_free)(x);
                    (s.SSL_CTX_set_verify)(ctx, SSL_VERIFY_PEER, std::ptr::null());
                    ok
                };
                if ok != 1 {
                    return fail("trust store");
                }
            }
        }
        if let (Role::Client, Some(prefs)) = (key.role, s.SSL_CTX_set_verify_algorithm_prefs) {
            // SAFETY: a list of VERIFY_PREFS.len() signature scheme codes, copied.
            let ok = unsafe {
                prefs(
                    ctx,
                    family::VERIFY_PREFS.as_ptr(),
                    family::VERIFY_PREFS.len(),
                )
            };
            if ok != 1 {
                return fail("verify algorithm preferences (with Ed25519)");
            }
        }
        if let Some(n) = key.tickets {
            let Some(f) = s.SSL_CTX_set_num_tickets else {
                unreachable!(
                    "a per-context ticket count is only asked for where the library has it"
                );
            };
            // SAFETY: the context is ours; the call sets a count.
            if unsafe { f(ctx, usize::from(n)) } != 1 {
                return fail("SSL_CTX_set_num_tickets");
            }
        }
        // As in openssl.rs: stateful tickets (fixed record lengths), stateless ones for
        // resuming runs; the bits of the library's family.
        let opts = match lib.family.options(&family::Options {
            tickets: key.resume,
            no_renegotiation: key.no_renegotiation,
            allow_client_renegotiation: key.allow_client_renegotiation,
            no_encrypt_then_mac: key.no_encrypt_then_mac,
        }) {
            Ok(o) => o,
            Err(reason) => {
                // SAFETY: the context is ours and not shared yet.
                unsafe { (s.SSL_CTX_free)(ctx) };
                return Err(SetupError::Unsupported(format!("{}: {reason}", lib.label)));
            }
        };
        match (s.SSL_CTX_set_options, s.SSL_CTX_ctrl) {
            // SAFETY: SSL_CTX_set_options ORs the bits into the context's options. Its
            // parameter is a uint64_t (3.x), an unsigned long (1.1.1) or a uint32_t (BoringSSL
            // family, whose bits all fit in 32): on the LP64 targets this driver builds for, a
            // 32-bit parameter is the low half of the same register; the result is unused.
            (Some(f), _) => unsafe {
                f(ctx, opts);
            },
            // SAFETY: 1.1.1's SSL_CTX_set_options macro: SSL_CTX_ctrl(SSL_CTRL_OPTIONS), larg
            // the bits, no pointer.
            (None, Some(ctrl)) => unsafe {
                ctrl(ctx, SSL_CTRL_OPTIONS, opts as c_long, std::ptr::null_mut());
            },
            (None, None) => {
                // SAFETY: the context is ours and not shared yet.
                unsafe { (s.SSL_CTX_free)(ctx) };
                return Err(SetupError::Unsupported(
                    lib.missing("SSL_CTX_set_options (or SSL_CTX_ctrl)"),
                ));
            }
        }
        if let Some(f) = s.SSL_CTX_set_keylog_callback {
            // SAFETY: the context is ours; the callback is a plain function that outlives it.
            unsafe { f(ctx, Some(keylog::callback)) };
        }
        lib.clear_errors();
        Ok(ctx)
    }
}

impl Drop for LibsslImpl {
    fn drop(&mut self) {
        let cache = self.contexts.get_mut().unwrap_or_else(|e| e.into_inner());
        for (_, ctx) in cache.drain() {
            // SAFETY: each cached context is ours; connections hold their own references.
            unsafe { (self.lib.sym.SSL_CTX_free)(ctx.0) };
        }
    }
}

impl Implementation for LibsslImpl {
    fn info(&self) -> ImplInfo {
        ImplInfo {
            name: self.lib.label.clone(),
            version: self.lib.version.clone(),
            family: self.lib.family.name().to_string(),
            library: (!self.lib.linked).then(|| self.lib.info.clone()),
        }
    }

    fn connect(&self, cfg: &ConnConfig, io: Endpoint) -> Result<Box<dyn Connection>, SetupError> {
        self.open(cfg, io, None)
    }

    fn resume(
        &self,
        cfg: &ConnConfig,
        io: Endpoint,
        session: &Session,
    ) -> Result<Box<dyn Connection>, SetupError> {
        match session.get::<LibsslSession>() {
            Some(s) if Arc::ptr_eq(&s.lib, &self.lib) => self.open(cfg, io, Some(s)),
            _ => Err(SetupError::Failed(format!(
                "the session to resume does not come from {}",
                self.lib.label
            ))),
        }
    }
}

/// A client session of a loaded library (one reference, `SSL_get1_session`'s).
struct LibsslSession {
    lib: Arc<Loaded>,
    ptr: *mut SslSession,
}

// SAFETY: an SSL_SESSION is reference-counted with the library's own locking; this handle owns
// one reference and only hands it to SSL_set_session (which takes a reference of its own and
// reads the session under the session's lock) or SSL_SESSION_free, from any thread.
unsafe impl Send for LibsslSession {}
// SAFETY: as above: shared use is SSL_set_session only, which the library makes thread-safe.
unsafe impl Sync for LibsslSession {}

impl Drop for LibsslSession {
    fn drop(&mut self) {
        if let Some(free) = self.lib.sym.SSL_SESSION_free {
            // SAFETY: the reference is ours (from SSL_get1_session).
            unsafe { free(self.ptr) };
        }
    }
}

impl LibsslImpl {
    fn open(
        &self,
        cfg: &ConnConfig,
        io: Endpoint,
        session: Option<&LibsslSession>,
    ) -> Result<Box<dyn Connection>, SetupError> {
        let lib = &self.lib;
        let s = &lib.sym;
        // Where the ticket count can only be set per context, the context carries it.
        let per_context_tickets =
            s.SSL_set_num_tickets.is_none() && s.SSL_CTX_set_num_tickets.is_some();
        let ctx = self.context(CtxKey {
            role: cfg.role,
            tls: cfg.tls,
            no_renegotiation: cfg.no_renegotiation,
            allow_client_renegotiation: cfg.allow_client_renegotiation,
            no_encrypt_then_mac: cfg.no_encrypt_then_mac,
            resume: cfg.resume,
            tickets: match (cfg.role, cfg.tls) {
                (Role::Server, Tls::V13) if per_context_tickets => cfg.tls13_tickets,
                _ => None,
            },
            key: match cfg.role {
                Role::Server => cfg.key,
                Role::Client => KeyType::Ed25519,
            },
        })?;
        lib.clear_errors();
        let state = BioState::new(s, &lib.method, io)
            .map_err(|e| SetupError::Failed(format!("{}: {e}", lib.label)))?;
        // SAFETY: `ctx` is a live, configured context (cached, never freed before the impl).
        let ssl = unsafe { (s.SSL_new)(ctx) };
        if ssl.is_null() {
            // SAFETY: the BIO is ours and unused.
            unsafe { (s.BIO_free)(state.bio) };
            return Err(lib.failed("SSL_new"));
        }
        // SAFETY: SSL_set_bio hands the BIO (one reference for both directions) to the SSL,
        // which frees it with itself.
        unsafe { (s.SSL_set_bio)(ssl, state.bio, state.bio) };
        let mut conn = LibsslConn {
            lib: lib.clone(),
            ssl,
            state: Box::new(state),
            last_ret: 1,
            keep_queue: false,
        };
        // A setter that exists but fails makes the run `skip`, with the library's reasons.
        let refused = |what: &str| {
            let errors = lib.drain_errors();
            SetupError::Unsupported(format!(
                "{} refused {what}: {}",
                lib.label,
                if errors.is_empty() {
                    "no reason on the error queue".to_string()
                } else {
                    errors.join("; ")
                }
            ))
        };
        if let Some(mode) = lib.family.renegotiate_mode(cfg.no_renegotiation) {
            if let Some(f) = s.SSL_set_renegotiate_mode {
                // SAFETY: `ssl` is live; the mode is an ssl_renegotiate_mode_t value.
                unsafe { f(ssl, mode) };
            }
        }
        if cfg.role == Role::Client {
            let host = cstring(certs::SERVER_NAME).map_err(SetupError::Failed)?;
            let sni = match (s.SSL_ctrl, s.SSL_set_tlsext_host_name) {
                // SAFETY: SSL_set_tlsext_host_name is SSL_ctrl(SSL_CTRL_SET_TLSEXT_HOSTNAME)
                // with the name type in larg and a NUL-terminated name (copied) in parg.
                (Some(ctrl), _) => unsafe {
                    ctrl(
                        ssl,
                        SSL_CTRL_SET_TLSEXT_HOSTNAME,
                        TLSEXT_NAMETYPE_HOST_NAME,
                        host.as_ptr() as *mut c_void,
                    ) as c_int
                },
                // SAFETY: the real function takes a NUL-terminated name (copied).
                (None, Some(f)) => unsafe { f(ssl, host.as_ptr()) },
                (None, None) => {
                    return Err(SetupError::Unsupported(
                        lib.missing("SSL_ctrl (or SSL_set_tlsext_host_name)"),
                    ))
                }
            };
            if sni != 1 {
                return Err(refused("the server name (SNI)"));
            }
            let checked = match (
                s.SSL_set1_host,
                s.SSL_get0_param,
                s.X509_VERIFY_PARAM_set1_host,
            ) {
                // SAFETY: a NUL-terminated host name, copied by the library.
                (Some(f), _, _) => unsafe { f(ssl, host.as_ptr()) },
                // SAFETY: the parameter block belongs to `ssl`; the name is copied.
                (None, Some(param), Some(set)) => unsafe {
                    set(param(ssl), host.as_ptr(), certs::SERVER_NAME.len())
                },
                _ => {
                    return Err(SetupError::Unsupported(lib.missing(
                        "SSL_set1_host (or SSL_get0_param + X509_VERIFY_PARAM_set1_host)",
                    )))
                }
            };
            if checked != 1 {
                return Err(refused("the host name check"));
            }
        }
        if cfg.set_state {
            // SAFETY: `ssl` is live.
            unsafe {
                match cfg.role {
                    Role::Client => (s.SSL_set_connect_state)(ssl),
                    Role::Server => (s.SSL_set_accept_state)(ssl),
                }
            }
        }
        if let Some(sess) = session {
            let Some(f) = s.SSL_set_session else {
                return Err(SetupError::Unsupported(lib.missing("SSL_set_session")));
            };
            // A copy per connection where the library can make one: a fatal alert marks the
            // connection's session not resumable, which must not spoil the one a pool hands to
            // later runs (BoringSSL-family sessions are immutable: it copies them itself).
            let copy = match s.SSL_SESSION_dup {
                // SAFETY: the session is live; a non-null result is a new one we own.
                Some(dup) => unsafe { dup(sess.ptr) },
                None => std::ptr::null_mut(),
            };
            let given = if copy.is_null() { sess.ptr } else { copy };
            // SAFETY: `ssl` is live; the session comes from this library and the SSL takes its
            // own reference to it; our copy's reference is dropped after.
            let ok = unsafe {
                let ok = f(ssl, given);
                if let (false, Some(free)) = (copy.is_null(), s.SSL_SESSION_free) {
                    free(copy);
                }
                ok
            };
            if ok != 1 {
                return Err(lib.failed("SSL_set_session"));
            }
        }
        if let (Some(n), Role::Server, false) = (cfg.tls13_tickets, cfg.role, per_context_tickets) {
            let Some(f) = s.SSL_set_num_tickets else {
                return Err(SetupError::Unsupported(
                    lib.missing("SSL_set_num_tickets (or SSL_CTX_set_num_tickets)"),
                ));
            };
            // SAFETY: `ssl` is live; the call sets a count.
            if unsafe { f(ssl, usize::from(n)) } != 1 {
                return Err(refused("SSL_set_num_tickets"));
            }
        }
        if cfg.early_data && cfg.role == Role::Client && s.SSL_write_early_data.is_none() {
            return Err(SetupError::Unsupported(lib.missing("SSL_write_early_data")));
        }
        if cfg.early_data && cfg.role == Role::Server {
            let Some(f) = s.SSL_set_max_early_data else {
                return Err(SetupError::Unsupported(
                    lib.missing("SSL_set_max_early_data"),
                ));
            };
            // SAFETY: `ssl` is live.
            if unsafe { f(ssl, MAX_EARLY_DATA) } != 1 {
                return Err(refused("SSL_set_max_early_data"));
            }
        }
        if let Some(g) = &cfg.groups {
            let list = cstring(g).map_err(SetupError::Failed)?;
            let ok = match (s.SSL_ctrl, s.SSL_set1_groups_list) {
                // SAFETY: SSL_set1_groups_list is SSL_ctrl(SSL_CTRL_SET_GROUPS_LIST) with a
                // NUL-terminated list in parg, parsed and not kept.
                (Some(ctrl), _) => unsafe {
                    ctrl(
                        ssl,
                        SSL_CTRL_SET_GROUPS_LIST,
                        0,
                        list.as_ptr() as *mut c_void,
                    ) as c_int
                },
                // SAFETY: the real function takes a NUL-terminated list, parsed and not kept.
                (None, Some(f)) => unsafe { f(ssl, list.as_ptr()) },
                (None, None) => {
                    return Err(SetupError::Unsupported(
                        lib.missing("SSL_ctrl (or SSL_set1_groups_list)"),
                    ))
                }
            };
            if ok != 1 {
                return Err(refused(&format!("groups {g:?}")));
            }
        }
        if let Some(c) = &cfg.cipher {
            let list = cstring(c).map_err(SetupError::Failed)?;
            // SAFETY: a NUL-terminated cipher list, parsed and not kept.
            if unsafe { (s.SSL_set_cipher_list)(ssl, list.as_ptr()) } != 1 {
                return Err(refused(&format!("cipher list {c:?}")));
            }
        }
        if let (Some(len), Role::Client) = (cfg.max_fragment_length, cfg.role) {
            let mode: u8 = match len {
                512 => 1,
                1024 => 2,
                2048 => 3,
                4096 => 4,
                other => {
                    return Err(SetupError::Unsupported(format!(
                        "max_fragment_length {other} (RFC 6066 allows 512, 1024, 2048, 4096)"
                    )))
                }
            };
            let Some(f) = s.SSL_set_tlsext_max_fragment_length else {
                return Err(SetupError::Unsupported(
                    lib.missing("SSL_set_tlsext_max_fragment_length"),
                ));
            };
            // SAFETY: `ssl` is live; the mode is one of the four RFC 6066 codes.
            if unsafe { f(ssl, mode) } != 1 {
                return Err(refused("max_fragment_length"));
            }
        }
        if let Some(block) = cfg.block_padding {
            let Some(f) = s.SSL_set_block_padding else {
                return Err(SetupError::Unsupported(
                    lib.missing("SSL_set_block_padding"),
                ));
            };
            // SAFETY: `ssl` is live; any block size is accepted.
            if unsafe { f(ssl, usize::from(block)) } != 1 {
                return Err(refused("block padding"));
            }
        }
        if let Some(frag) = cfg.max_send_fragment {
            let ok = match (s.SSL_ctrl, s.SSL_set_max_send_fragment) {
                // SAFETY: SSL_CTRL_SET_MAX_SEND_FRAGMENT reads only larg.
                (Some(ctrl), _) => unsafe {
                    ctrl(
                        ssl,
                        SSL_CTRL_SET_MAX_SEND_FRAGMENT,
                        c_long::from(frag),
                        std::ptr::null_mut(),
                    ) == 1
                },
                // SAFETY: `ssl` is live; the call sets a size.
                (None, Some(f)) => unsafe { f(ssl, usize::from(frag)) == 1 },
                (None, None) => {
                    return Err(SetupError::Unsupported(
                        lib.missing("SSL_ctrl (or SSL_set_max_send_fragment)"),
                    ))
                }
            };
            if !ok {
                return Err(refused(&format!(
                    "max send fragment {frag} (OpenSSL allows 512..=16384)"
                )));
            }
        }
        conn.set_modes_checked(cfg.modes)
            .map_err(|reason| SetupError::Unsupported(format!("{}: {reason}", lib.label)))?;
        lib.clear_errors();
        Ok(Box::new(conn))
    }
}

/// The names of the symbols the driver looks up (for documentation and tests).
pub fn symbol_names() -> (&'static [&'static str], &'static [&'static str]) {
    (ESSENTIAL, OPTIONAL)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_and_labels() {
        assert_eq!(
            parse_spec("libssl:libssl.so.3@system").unwrap(),
            ("libssl.so.3".to_string(), "system".to_string())
        );
        assert_eq!(
            parse_spec("libssl:target/x/lib64/libssl.so.3").unwrap(),
            (
                "target/x/lib64/libssl.so.3".to_string(),
                "libssl:target/x/lib64/libssl.so.3".to_string()
            )
        );
        assert!(parse_spec("libssl:").is_err());
        assert!(parse_spec("openssl").is_err());
        assert_eq!(label("libssl:/a/b@c"), "c");
        assert!(is_spec("libssl:x") && !is_spec("openssl"));
    }

    #[test]
    fn a_missing_library_is_refused_with_its_name() {
        let e = LibsslImpl::load("libssl:/nonexistent/libssl.so.3@x")
            .err()
            .unwrap();
        assert!(e.contains("/nonexistent/libssl.so.3"), "{e}");
    }

    #[test]
    fn a_library_that_is_not_a_libssl_is_refused_naming_the_missing_symbols() {
        // libc exports none of the libssl entry points.
        let e = LibsslImpl::load("libssl:libc.so.6@libc").err().unwrap();
        assert!(
            e.contains("SSL_CTX_new") && e.contains("BIO_meth_new"),
            "{e}"
        );
    }
}
