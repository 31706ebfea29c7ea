//! The `wolfssl:PATH[@label]` implementation: wolfSSL loaded at run time and driven through its
//! own API (`wolfSSL_*`; the `SSL_*` names of its OpenSSL compatibility layer are header
//! macros). wolfSSL is GPL: it is loaded, never linked, and only in worker processes of its
//! own, in a link namespace of its own (`impls/dl.rs`), because it also exports a few names
//! OpenSSL exports.
//!
//! The mapping onto the shared vocabulary:
//! - **The return value first.** `ret > 0` is `ok(ret)` whatever `wolfSSL_get_error` says;
//!   `ret <= 0` takes its class from `wolfSSL_get_error(ssl, ret)`: WANT_READ (2), WANT_WRITE
//!   (3), ZERO_RETURN (6), SYSCALL (5) as in OpenSSL, `WOLFSSL_ERROR_SSL` (85) is `ssl(reason)`
//!   with the first reason of wolfSSL's error queue. `Call::error_class` is in OpenSSL's
//!   numbering (85 is recorded as 1, `WANT_X509_LOOKUP` 83 as 4), so W10 is judged the same
//!   way for every driver. wolfSSL also answers with its own negative error codes (-173,
//!   BAD_FUNC_ARG): those are kept raw in `error_class`, named in `errors`
//!   (`wolfSSL error -173: ...`), and, being no class, make the outcome `unclassified` with a
//!   W10 violation, as for any libssl-family library whose `SSL_get_error` gives no class.
//! - **The network side** is wolfSSL's per-connection I/O callbacks (`wolfSSL_SSLSetIORecv` /
//!   `wolfSSL_SSLSetIOSend`) over the same [`Endpoint`] every other driver gets: one endpoint
//!   write per send callback (a short count when it took less: wolfSSL sends the rest), one
//!   endpoint read of at most the asked length per receive callback; `WouldBlock` is
//!   `WOLFSSL_CBIO_ERR_WANT_*`, EOF and EPIPE `CONN_CLOSE`, ECONNRESET `CONN_RST`.
//! - **Modes** exist per context only, one value at a time (`wolfSSL_CTX_set_mode`: partial
//!   write 2, auto retry 3): each mode set gets a context of its own, and a `set_modes` step
//!   that would change them on a live connection is `skip`. Accepting a moved write buffer is
//!   always on (there is nothing to switch off) and release-buffers is a no-op value: runs
//!   asking for either play the library's only behaviour (the report says so).
//! - **What this build cannot do** is `skip` with the reason: `SSL_write_ex` (wolfSSL has
//!   none), early data (not in Debian's build), renegotiation (no secure renegotiation in it,
//!   and `wolfSSL_Rehandshake` would run the handshake at once, not schedule it), a KeyUpdate
//!   that does not request one (`wolfSSL_update_keys` always requests), an unrelated error left
//!   on the queue, max send fragment, record padding, "neither connect nor accept state" (the
//!   role comes from the method).
//!
//! Certificates are the same rcgen material (DER) the other drivers use.

mod conn;
mod symbols;

use std::collections::HashMap;
use std::ffi::{c_long, c_void};
use std::sync::{Arc, Mutex};

use libloading::os::unix::Library;

use self::conn::{IoState, WolfConn, WolfSession as Session_};
use self::symbols::*;
use crate::certs;
use crate::contract::{
    ConnConfig, Connection, ImplInfo, Implementation, LibraryInfo, Role, Session, SetupError, Tls,
};
use crate::impls::dl;
use crate::transport::Endpoint;

/// What `--impl` names start with.
pub const PREFIX: &str = "wolfssl:";

/// Whether `spec` names a wolfSSL library to load (`wolfssl:PATH[@label]`).
pub fn is_spec(spec: &str) -> bool {
    spec.starts_with(PREFIX)
}

/// `wolfssl:PATH@label` → (`PATH`, `label`); without `@label` the label is the spec itself.
pub fn parse_spec(spec: &str) -> Result<(String, String), String> {
    dl::parse_spec(PREFIX, spec, "wolfssl:libwolfssl.so.35@wolfssl")
}

/// A loaded wolfSSL: its entry points and identity (never unloaded).
pub struct Loaded {
    pub sym: Symbols,
    pub label: String,
    pub version: String,
    pub info: LibraryInfo,
    _lib: std::mem::ManuallyDrop<Library>,
}

impl Loaded {
    fn open(spec: &str) -> Result<Loaded, String> {
        let (path, label) = parse_spec(spec)?;
        let (lib, _, namespace) = dl::open_isolated(&path, None)?;
        // SAFETY: the library claims wolfSSL's API (that is what --impl wolfssl: means); the
        // signatures in wolfssl/symbols.rs are that API's.
        let sym = unsafe { Symbols::load(&[&lib], &[]) }.map_err(|missing| {
            format!(
                "{path}: not usable as wolfSSL: it does not export {} (essential for the driver)",
                missing.join(", ")
            )
        })?;
        let isolated = namespace.starts_with("dlmopen");
        if isolated {
            dl::keys_before_first_use(&lib)?;
        }
        // SAFETY: wolfSSL_Init takes nothing; it is what every wolfSSL program calls first.
        if unsafe { (sym.wolfSSL_Init)() } != WOLFSSL_SUCCESS {
            return Err(format!("{path}: wolfSSL_Init failed"));
        }
        if isolated {
            first_use(&sym);
            dl::keys_after_first_use(&lib)?;
        }
        // SAFETY: wolfSSL_lib_version returns a static NUL-terminated string.
        let number = unsafe { dl::c_text((sym.wolfSSL_lib_version)()) };
        // SAFETY: takes nothing, returns a number.
        let hex = sym.wolfSSL_lib_version_hex.map_or(0, |f| unsafe { f() });
        let missing_symbols = sym
            .missing_optional()
            .into_iter()
            .map(String::from)
            .collect();
        let info = LibraryInfo {
            path: path.clone(),
            file: dl::file_of(sym.wolfSSL_new as *const c_void),
            libcrypto: dl::file_of(sym.wolfSSL_new as *const c_void),
            version_number: format!("{hex:#010x}"),
            abi: "wolfSSL API (wolfSSL_*)".into(),
            build: Vec::new(),
            loaded: namespace,
            missing_symbols,
            fallbacks: vec![
                "modes per context (wolfSSL_CTX_set_mode), one context per mode set".into(),
                "accepting a moved write buffer is always on; release-buffers is a no-op: runs asking for either play the library's only behaviour".into(),
            ],
        };
        Ok(Loaded {
            sym,
            label,
            version: format!("wolfSSL {number}"),
            info,
            _lib: std::mem::ManuallyDrop::new(lib),
        })
    }

    /// wolfSSL's error queue, drained into reason strings.
    pub fn drain_errors(&self) -> Vec<String> {
        let mut out = Vec::new();
        let Some(get) = self.sym.wolfSSL_ERR_get_error else {
            return out;
        };
        for _ in 0..64 {
            // SAFETY: pops this thread's queue.
            let e = unsafe { get() };
            if e == 0 {
                break;
            }
            out.push(self.reason(e as i64));
        }
        out
    }

    /// The text wolfSSL gives an error code (queue entries and `wolfSSL_get_error`'s own
    /// negative codes).
    pub fn reason(&self, code: i64) -> String {
        if let Some(f) = self.sym.wolfSSL_ERR_reason_error_string {
            // SAFETY: returns null or a static string for any code.
            let text = unsafe { dl::c_text(f(code as std::ffi::c_ulong)) };
            if !text.is_empty() {
                return text;
            }
        }
        format!("wolfSSL error {code}")
    }

    pub fn clear_errors(&self) {
        if let Some(f) = self.sym.wolfSSL_ERR_clear_error {
            // SAFETY: only touches this thread's queue.
            unsafe { f() };
        }
    }

    pub fn missing(&self, symbol: &str) -> String {
        format!("{symbol} is not exported by {}", self.info.path)
    }

    fn failed(&self, what: &str) -> SetupError {
        SetupError::Failed(format!(
            "{} {what}: {}",
            self.label,
            self.drain_errors().join("; ")
        ))
    }
}

/// What makes wolfSSL create its per-thread state: a context, a connection, the queue.
fn first_use(s: &Symbols) {
    // SAFETY: plain constructors and destructors of the loaded library, each result freed.
    unsafe {
        let ctx = (s.wolfSSL_CTX_new)((s.wolfTLSv1_2_client_method)());
        if !ctx.is_null() {
            let ssl = (s.wolfSSL_new)(ctx);
            if !ssl.is_null() {
                (s.wolfSSL_free)(ssl);
            }
            (s.wolfSSL_CTX_free)(ctx);
        }
        if let Some(f) = s.wolfSSL_ERR_clear_error {
            f();
        }
    }
}

struct CtxPtr(*mut WolfCtx);

// SAFETY: a WOLFSSL_CTX is safe to share between threads once configured (wolfSSL's rules:
// connections take their own reference); it is only configured before it is cached.
unsafe impl Send for CtxPtr {}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct CtxKey {
    role: Role,
    tls: Tls,
    partial_write: bool,
    auto_retry: bool,
    resume: bool,
    tickets: Option<u8>,
}

/// wolfSSL as an implementation of the write contract.
pub struct WolfsslImpl {
    lib: Arc<Loaded>,
    contexts: Mutex<HashMap<CtxKey, CtxPtr>>,
}

impl WolfsslImpl {
    /// Loads the library `wolfssl:PATH[@label]` names; `Err` says why it cannot be used.
    pub fn load(spec: &str) -> Result<WolfsslImpl, String> {
        Ok(WolfsslImpl {
            lib: Arc::new(Loaded::open(spec)?),
            contexts: Mutex::new(HashMap::new()),
        })
    }

    fn context(&self, key: CtxKey) -> Result<*mut WolfCtx, SetupError> {
        let mut cache = self.contexts.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = cache.get(&key) {
            return Ok(c.0);
        }
        let ctx = self.build_context(key)?;
        if key.role == Role::Server {
            // A session ticket is sealed with its context's ticket keys: a server context of
            // other options (the first connection's ticket count, another mode set) could not
            // open the ticket a client got from the first, and every resumption would fall
            // back to a full handshake. All server contexts share the first one's keys.
            let first = cache.iter().find(|(k, _)| k.role == Role::Server);
            let s = &self.lib.sym;
            if let (Some((_, owner)), Some(get), Some(set)) = (
                first,
                s.wolfSSL_CTX_get_TicketEncCtx,
                s.wolfSSL_CTX_set_TicketEncCtx,
            ) {
                // SAFETY: both contexts are ours and live as long as the implementation (freed
                // together on drop, after every connection); the pointer is the first
                // context's own ticket-key state, which the default callback reads.
                unsafe { set(ctx, get(owner.0)) };
            }
        }
        cache.insert(key, CtxPtr(ctx));
        Ok(ctx)
    }

    fn build_context(&self, key: CtxKey) -> Result<*mut WolfCtx, SetupError> {
        let lib = &self.lib;
        let s = &lib.sym;
        let method = match (key.tls, key.role) {
            (Tls::V12, Role::Client) => Some(s.wolfTLSv1_2_client_method),
            (Tls::V12, Role::Server) => Some(s.wolfTLSv1_2_server_method),
            (Tls::V13, Role::Client) => s.wolfTLSv1_3_client_method,
            (Tls::V13, Role::Server) => s.wolfTLSv1_3_server_method,
        };
        let Some(method) = method else {
            return Err(SetupError::Unsupported(lib.missing("wolfTLSv1_3_*_method")));
        };
        lib.clear_errors();
        // SAFETY: the method constructor returns a method the context takes over.
        let ctx = unsafe { (s.wolfSSL_CTX_new)(method()) };
        if ctx.is_null() {
            return Err(lib.failed("wolfSSL_CTX_new"));
        }
        let fail = |e: SetupError| {
            // SAFETY: the context is ours and not shared yet.
            unsafe { (s.wolfSSL_CTX_free)(ctx) };
            Err(e)
        };
        let pki = certs::pki();
        let der = |d: &[u8]| (d.as_ptr(), d.len() as c_long);
        match key.role {
            Role::Server => {
                let (cp, cl) = der(&pki.server_cert_der);
                let (kp, kl) = der(&pki.server_key_der);
                // SAFETY: DER buffers valid for their lengths during the calls (copied).
                let ok = unsafe {
                    (s.wolfSSL_CTX_use_certificate_buffer)(ctx, cp, cl, WOLFSSL_FILETYPE_ASN1)
                        == WOLFSSL_SUCCESS
                        && (s.wolfSSL_CTX_use_PrivateKey_buffer)(ctx, kp, kl, WOLFSSL_FILETYPE_ASN1)
                            == WOLFSSL_SUCCESS
                };
                if !ok {
                    return fail(lib.failed("certificate and key (DER)"));
                }
            }
            Role::Client => {
                let (p, l) = der(&pki.ca_der);
                // SAFETY: as above; set_verify with no callback.
                let ok = unsafe {
                    let ok = (s.wolfSSL_CTX_load_verify_buffer)(ctx, p, l, WOLFSSL_FILETYPE_ASN1);
                    (s.wolfSSL_CTX_set_verify)(ctx, WOLFSSL_VERIFY_PEER, std::ptr::null());
                    ok
                };
                if ok != WOLFSSL_SUCCESS {
                    return fail(lib.failed("trust store (DER)"));
                }
            }
        }
        for (on, mode, name) in [
            (
                key.partial_write,
                WOLFSSL_MODE_ENABLE_PARTIAL_WRITE,
                "partial write",
            ),
            (key.auto_retry, WOLFSSL_MODE_AUTO_RETRY, "auto retry"),
        ] {
            if !on {
                continue;
            }
            let Some(set) = s.wolfSSL_CTX_set_mode else {
                return fail(SetupError::Unsupported(lib.missing("wolfSSL_CTX_set_mode")));
            };
            // SAFETY: the context is ours; the mode is one of the values set_mode takes. It
            // answers with the mode it took (wolfSSL_CTX_get_mode reads 0 whatever is set in
            // 5.5.4, so there is no other read-back).
            let took = unsafe { set(ctx, mode) };
            if took != mode {
                return fail(SetupError::Unsupported(format!(
                    "{}: wolfSSL_CTX_set_mode({mode}) ({name}) answered {took}",
                    lib.label
                )));
            }
        }
        if !key.resume && key.tls == Tls::V12 {
            if let Some(f) = s.wolfSSL_CTX_NoTicketTLSv12 {
                // SAFETY: the context is ours.
                unsafe { f(ctx) };
            }
        }
        if let Some(n) = key.tickets {
            let Some(f) = s.wolfSSL_CTX_set_num_tickets else {
                return fail(SetupError::Unsupported(
                    lib.missing("wolfSSL_CTX_set_num_tickets"),
                ));
            };
            // SAFETY: the context is ours; the call sets a count.
            if unsafe { f(ctx, usize::from(n)) } != WOLFSSL_SUCCESS {
                return fail(lib.failed("wolfSSL_CTX_set_num_tickets"));
            }
        }
        lib.clear_errors();
        Ok(ctx)
    }

    fn open(
        &self,
        cfg: &ConnConfig,
        io: Endpoint,
        session: Option<&Session_>,
    ) -> Result<Box<dyn Connection>, SetupError> {
        // The peer's options (`connection.peer`) this driver does not set: refused, never
        // ignored.
        if cfg.groups.is_some() || !cfg.key.is_default() {
            return Err(SetupError::Unsupported(
                "the wolfSSL driver sets neither key exchange groups nor another certificate key type".into(),
            ));
        }
        let lib = &self.lib;
        let s = &lib.sym;
        let unsupported =
            |what: &str| Err(SetupError::Unsupported(format!("{}: {what}", lib.label)));
        if !cfg.set_state {
            return unsupported("a wolfSSL connection's role comes from its method; 'neither connect nor accept state' cannot be expressed");
        }
        if cfg.early_data && s.wolfSSL_write_early_data.is_none() {
            return Err(SetupError::Unsupported(
                lib.missing("wolfSSL_write_early_data"),
            ));
        }
        if cfg.allow_client_renegotiation {
            return unsupported("this build has no secure renegotiation (a server that accepts the client's renegotiation cannot be set up)");
        }
        if cfg.max_send_fragment.is_some() {
            return unsupported("wolfSSL has no maximum send fragment setting (only the max_fragment_length extension)");
        }
        if cfg.block_padding.is_some() {
            return unsupported("wolfSSL has no TLS 1.3 record padding option");
        }
        let ctx = self.context(CtxKey {
            role: cfg.role,
            tls: cfg.tls,
            partial_write: cfg.modes.partial_write,
            auto_retry: cfg.modes.auto_retry,
            resume: cfg.resume,
            tickets: match (cfg.role, cfg.tls) {
                (Role::Server, Tls::V13) => cfg.tls13_tickets,
                _ => None,
            },
        })?;
        lib.clear_errors();
        // SAFETY: a live, configured context (cached for the life of the implementation).
        let ssl = unsafe { (s.wolfSSL_new)(ctx) };
        if ssl.is_null() {
            return Err(lib.failed("wolfSSL_new"));
        }
        let mut state = Box::new(IoState::new(io));
        let state_ptr: *mut IoState = &mut *state;
        // SAFETY: `ssl` is live; the callbacks are plain functions that find their state
        // through the context pointer, which stays valid as long as the connection (the box
        // is owned by it and freed after wolfSSL_free).
        unsafe {
            (s.wolfSSL_SSLSetIORecv)(ssl, Some(conn::recv_cb));
            (s.wolfSSL_SSLSetIOSend)(ssl, Some(conn::send_cb));
            (s.wolfSSL_SetIOReadCtx)(ssl, state_ptr.cast());
            (s.wolfSSL_SetIOWriteCtx)(ssl, state_ptr.cast());
        }
        let conn = WolfConn::new(lib.clone(), ssl, state, cfg.modes);
        let refused = |what: &str| {
            let errors = lib.drain_errors();
            SetupError::Unsupported(format!(
                "{} refused {what}: {}",
                lib.label,
                errors.join("; ")
            ))
        };
        let state_fn = match cfg.role {
            Role::Client => s.wolfSSL_set_connect_state,
            Role::Server => s.wolfSSL_set_accept_state,
        };
        if let Some(f) = state_fn {
            // SAFETY: `ssl` is live.
            unsafe { f(ssl) };
        }
        if cfg.role == Role::Client {
            let host = dl::cstring(certs::SERVER_NAME).map_err(SetupError::Failed)?;
            if let Some(sni) = s.wolfSSL_UseSNI {
                // SAFETY: the name is copied; its length fits a u16.
                let ok = unsafe {
                    sni(
                        ssl,
                        WOLFSSL_SNI_HOST_NAME,
                        host.as_ptr().cast(),
                        certs::SERVER_NAME.len() as u16,
                    )
                };
                if ok != WOLFSSL_SUCCESS {
                    return Err(refused("the server name (SNI)"));
                }
            }
            let Some(check) = s.wolfSSL_check_domain_name else {
                return Err(SetupError::Unsupported(
                    lib.missing("wolfSSL_check_domain_name"),
                ));
            };
            // SAFETY: a NUL-terminated name, copied.
            if unsafe { check(ssl, host.as_ptr()) } != WOLFSSL_SUCCESS {
                return Err(refused("the host name check"));
            }
        }
        if let Some(sess) = session {
            let Some(f) = s.wolfSSL_set_session else {
                return Err(SetupError::Unsupported(lib.missing("wolfSSL_set_session")));
            };
            // SAFETY: `ssl` is live; the session comes from this library (it copies it).
            if unsafe { f(ssl, sess.ptr) } != WOLFSSL_SUCCESS {
                return Err(lib.failed("wolfSSL_set_session"));
            }
        }
        if let Some(c) = &cfg.cipher {
            let list = dl::cstring(c).map_err(SetupError::Failed)?;
            let Some(f) = s.wolfSSL_set_cipher_list else {
                return Err(SetupError::Unsupported(
                    lib.missing("wolfSSL_set_cipher_list"),
                ));
            };
            // SAFETY: a NUL-terminated list, parsed and not kept.
            if unsafe { f(ssl, list.as_ptr()) } != WOLFSSL_SUCCESS {
                return Err(refused(&format!("cipher list {c:?}")));
            }
        }
        if cfg.no_encrypt_then_mac {
            let Some(f) = s.wolfSSL_AllowEncryptThenMac else {
                return Err(SetupError::Unsupported(
                    lib.missing("wolfSSL_AllowEncryptThenMac"),
                ));
            };
            // SAFETY: `ssl` is live.
            if unsafe { f(ssl, 0) } != WOLFSSL_SUCCESS {
                return Err(refused("switching encrypt-then-MAC off"));
            }
        }
        if let (Some(len), Role::Client) = (cfg.max_fragment_length, cfg.role) {
            let code: u8 = match len {
                512 => 1,
                1024 => 2,
                2048 => 3,
                4096 => 4,
                other => {
                    return unsupported(&format!(
                        "max_fragment_length {other} (RFC 6066 allows 512, 1024, 2048, 4096)"
                    ))
                }
            };
            let Some(f) = s.wolfSSL_UseMaxFragment else {
                return Err(SetupError::Unsupported(
                    lib.missing("wolfSSL_UseMaxFragment"),
                ));
            };
            // SAFETY: `ssl` is live; one of the four codes.
            if unsafe { f(ssl, code) } != WOLFSSL_SUCCESS {
                return Err(refused("max_fragment_length"));
            }
        }
        lib.clear_errors();
        Ok(Box::new(conn))
    }
}

impl Drop for WolfsslImpl {
    fn drop(&mut self) {
        let cache = self.contexts.get_mut().unwrap_or_else(|e| e.into_inner());
        for (_, ctx) in cache.drain() {
            // SAFETY: each cached context is ours; connections hold their own references.
            unsafe { (self.lib.sym.wolfSSL_CTX_free)(ctx.0) };
        }
    }
}

impl Implementation for WolfsslImpl {
    fn info(&self) -> ImplInfo {
        ImplInfo {
            name: self.lib.label.clone(),
            version: self.lib.version.clone(),
            family: "wolfssl".into(),
            library: Some(self.lib.info.clone()),
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
        match session.get::<Session_>() {
            Some(s) if Arc::ptr_eq(&s.lib, &self.lib) => self.open(cfg, io, Some(s)),
            _ => Err(SetupError::Failed(format!(
                "the session to resume does not come from {}",
                self.lib.label
            ))),
        }
    }
}

/// The names of the symbols the driver looks up.
pub fn symbol_names() -> (&'static [&'static str], &'static [&'static str]) {
    (ESSENTIAL, OPTIONAL)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_and_labels() {
        assert_eq!(
            parse_spec("wolfssl:libwolfssl.so.35@w").unwrap(),
            ("libwolfssl.so.35".to_string(), "w".to_string())
        );
        assert!(parse_spec("wolfssl:").is_err());
        assert!(is_spec("wolfssl:x") && !is_spec("libssl:x"));
    }

    #[test]
    fn a_library_that_is_not_wolfssl_is_refused_naming_the_missing_symbols() {
        let e = WolfsslImpl::load("wolfssl:libc.so.6@libc").err().unwrap();
        assert!(
            e.contains("wolfSSL_write") && e.contains("wolfSSL_get_error"),
            "{e}"
        );
    }
}
