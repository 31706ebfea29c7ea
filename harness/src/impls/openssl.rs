//! The `openssl` implementation: the OpenSSL that the `openssl` crate links (the system's via
//! pkg-config, or the vendored build), driven through its C API.
//!
//! Every write is a direct `SSL_write` / `SSL_write_ex` on the `SSL*` with the caller's buffer
//! pointer (not `SslStream::ssl_write`, which skips empty writes and uses `_ex`). The error queue
//! is cleared before and drained after every call; its reason strings go into [`Call::errors`].
//! The transport is the `openssl` crate's stream BIO over an [`Endpoint`]: `WouldBlock` from the
//! endpoint becomes a BIO retry, so `SSL_get_error` answers WANT_WRITE / WANT_READ.
//!
//! This file also serves as the reference peer (see `peer.rs`): the peer is an OpenSSL
//! connection of the other role.
//!
//! Each `unsafe` block says why it is sound.

use std::collections::HashMap;
use std::ffi::c_int;
use std::ffi::c_long;
use std::sync::Mutex;

use foreign_types::{ForeignType, ForeignTypeRef};
use openssl::error::ErrorStack;
use openssl::pkey::PKey;
use openssl::ssl::{
    Ssl, SslContext, SslMethod, SslOptions, SslSession, SslStream, SslVerifyMode, SslVersion,
};
use openssl::x509::X509;
use openssl_sys as ffi;

use crate::certs;
use crate::contract::{
    Call, ConnConfig, Connection, ImplInfo, Implementation, Modes, Outcome, Role, Session,
    SetupError, Tls, MAX_EARLY_DATA,
};
use crate::transport::Endpoint;

// Entry points that openssl-sys does not declare. They live in the libssl that openssl-sys
// links, with these exact C signatures (ssl.h; SSL_new_session_ticket and
// SSL_set_block_padding need OpenSSL 3.0 / 1.1.1, the others 1.1.1): this driver needs 3.0+.
extern "C" {
    fn SSL_key_update(s: *mut ffi::SSL, updatetype: c_int) -> c_int;
    fn SSL_renegotiate(s: *mut ffi::SSL) -> c_int;
    fn SSL_new_session_ticket(s: *mut ffi::SSL) -> c_int;
    fn SSL_set_tlsext_max_fragment_length(s: *mut ffi::SSL, mode: u8) -> c_int;
    fn SSL_set_block_padding(s: *mut ffi::SSL, block_size: usize) -> c_int;
    fn SSL_SESSION_is_resumable(s: *const ffi::SSL_SESSION) -> c_int;
    fn SSL_SESSION_dup(s: *const ffi::SSL_SESSION) -> *mut ffi::SSL_SESSION;
}

const SSL_CTRL_CLEAR_MODE: c_int = 78;
const SSL_CTRL_SET_MAX_SEND_FRAGMENT: c_int = 52;
const SSL_MODE_RELEASE_BUFFERS: c_long = 0x10;
/// `SSL_OP_ALLOW_CLIENT_RENEGOTIATION` (OpenSSL 3.0, bit 8).
const OP_ALLOW_CLIENT_RENEGOTIATION: u64 = 1 << 8;
/// `SSL_OP_NO_ENCRYPT_THEN_MAC` (bit 19).
const OP_NO_ENCRYPT_THEN_MAC: u64 = 1 << 19;

/// The linked OpenSSL as an implementation of the write contract.
pub struct OpensslImpl {
    contexts: Mutex<HashMap<CtxKey, SslContext>>,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct CtxKey {
    role: Role,
    tls: Tls,
    no_renegotiation: bool,
    allow_client_renegotiation: bool,
    no_encrypt_then_mac: bool,
    /// Runs that resume sessions (`ConnConfig::resume`): stateless tickets.
    resume: bool,
}

impl OpensslImpl {
    pub const NAME: &'static str = "openssl";

    pub fn new() -> OpensslImpl {
        OpensslImpl {
            contexts: Mutex::new(HashMap::new()),
        }
    }

    fn context(&self, key: CtxKey) -> Result<SslContext, ErrorStack> {
        let mut cache = self.contexts.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(ctx) = cache.get(&key) {
            return Ok(ctx.clone());
        }
        let ctx = build_context(key)?;
        cache.insert(key, ctx.clone());
        Ok(ctx)
    }
}

impl Default for OpensslImpl {
    fn default() -> Self {
        Self::new()
    }
}

fn build_context(key: CtxKey) -> Result<SslContext, ErrorStack> {
    let pki = certs::pki();
    let mut b = SslContext::builder(SslMethod::tls())?;
    let v = match key.tls {
        Tls::V12 => SslVersion::TLS1_2,
        Tls::V13 => SslVersion::TLS1_3,
    };
    b.set_min_proto_version(Some(v))?;
    b.set_max_proto_version(Some(v))?;
    match key.role {
        Role::Server => {
            let cert = X509::from_der(&pki.server_cert_der)?;
            let key = PKey::private_key_from_der(&pki.server_key_der)?;
            b.set_certificate(&cert)?;
            b.set_private_key(&key)?;
            b.check_private_key()?;
        }
        Role::Client => {
            b.cert_store_mut().add_cert(X509::from_der(&pki.ca_der)?)?;
            b.set_verify(SslVerifyMode::PEER);
        }
    }
    // Stateful session tickets (the session id): the stateless ones encrypt the session's
    // ASN.1 encoding, whose length can vary with random fields (ticket_age_add), so record
    // lengths on the wire could differ from run to run. Early-data runs resume a session
    // from the server's cache (SSL_free after a clean shutdown keeps it there), once: a TLS 1.3
    // stateful ticket is single-use. Resuming runs (`resume`) get stateless tickets, which any
    // number of connections may resume and no fatal alert evicts: the fuzzer's session pool
    // reuses one across executions.
    let mut opts = if key.resume {
        SslOptions::empty()
    } else {
        SslOptions::NO_TICKET
    };
    if key.no_renegotiation {
        opts |= SslOptions::NO_RENEGOTIATION;
    }
    if key.allow_client_renegotiation {
        opts |= SslOptions::from_bits_retain(OP_ALLOW_CLIENT_RENEGOTIATION as _);
    }
    if key.no_encrypt_then_mac {
        opts |= SslOptions::from_bits_retain(OP_NO_ENCRYPT_THEN_MAC as _);
    }
    b.set_options(opts);
    Ok(b.build())
}

fn setup_failed(what: &str, e: ErrorStack) -> SetupError {
    SetupError::Failed(format!("OpenSSL {what}: {e}"))
}

impl Implementation for OpensslImpl {
    fn info(&self) -> ImplInfo {
        ImplInfo {
            name: Self::NAME.to_string(),
            version: openssl::version::version().to_string(),
            family: "openssl".into(),
            library: None,
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
        let s = session.get::<SslSession>().ok_or_else(|| {
            SetupError::Failed("the session to resume is not an OpenSSL session".into())
        })?;
        self.open(cfg, io, Some(s))
    }
}

impl OpensslImpl {
    fn open(
        &self,
        cfg: &ConnConfig,
        io: Endpoint,
        session: Option<&SslSession>,
    ) -> Result<Box<dyn Connection>, SetupError> {
        let ctx = self
            .context(CtxKey {
                role: cfg.role,
                tls: cfg.tls,
                no_renegotiation: cfg.no_renegotiation,
                allow_client_renegotiation: cfg.allow_client_renegotiation,
                no_encrypt_then_mac: cfg.no_encrypt_then_mac,
                resume: cfg.resume,
            })
            .map_err(|e| setup_failed("context", e))?;
        let mut ssl = Ssl::new(&ctx).map_err(|e| setup_failed("SSL_new", e))?;
        if cfg.role == Role::Client {
            ssl.set_hostname(certs::SERVER_NAME)
                .map_err(|e| setup_failed("SNI", e))?;
            ssl.param_mut()
                .set_host(certs::SERVER_NAME)
                .map_err(|e| setup_failed("verify host", e))?;
        }
        if cfg.set_state {
            match cfg.role {
                Role::Client => ssl.set_connect_state(),
                Role::Server => ssl.set_accept_state(),
            }
        }
        if let Some(s) = session {
            // A copy per connection: a fatal alert marks the connection's session not
            // resumable, which must not spoil the one a pool hands to later runs.
            // SAFETY: `s` is a valid session; SSL_SESSION_dup returns a new one we own, or null.
            let copy = unsafe { SSL_SESSION_dup(s.as_ptr()) };
            if copy.is_null() {
                return Err(setup_failed("SSL_SESSION_dup", ErrorStack::get()));
            }
            // SAFETY: `copy` is a valid SSL_SESSION we own; SslSession takes that ownership.
            let copy = unsafe { SslSession::from_ptr(copy) };
            // SAFETY: the session comes from a connection of this driver, so from this
            // OpenSSL, and it was negotiated with a context of the same configuration.
            unsafe { ssl.set_session(&copy) }.map_err(|e| setup_failed("SSL_set_session", e))?;
        }
        if let (Some(n), Role::Server) = (cfg.tls13_tickets, cfg.role) {
            ssl.set_num_tickets(usize::from(n))
                .map_err(|e| setup_failed("SSL_set_num_tickets", e))?;
        }
        if cfg.early_data && cfg.role == Role::Server {
            ssl.set_max_early_data(MAX_EARLY_DATA)
                .map_err(|e| setup_failed("SSL_set_max_early_data", e))?;
        }
        if let Some(c) = &cfg.cipher {
            ssl.set_cipher_list(c).map_err(|e| {
                SetupError::Unsupported(format!("OpenSSL refused cipher list {c:?}: {e}"))
            })?;
        }
        let stream = SslStream::new(ssl, io).map_err(|e| setup_failed("BIO", e))?;
        let mut conn = OpensslConn {
            stream,
            last_ret: 1,
            keep_queue: false,
        };
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
            // SAFETY: the SSL* is valid; the mode is one of the four RFC 6066 codes.
            let ok = unsafe { SSL_set_tlsext_max_fragment_length(conn.ptr(), mode) };
            if ok != 1 {
                return Err(setup_failed("max_fragment_length", ErrorStack::get()));
            }
        }
        if let Some(block) = cfg.block_padding {
            // SAFETY: the SSL* is valid; any block size is accepted (1 switches padding off).
            let ok = unsafe { SSL_set_block_padding(conn.ptr(), usize::from(block)) };
            if ok != 1 {
                return Err(setup_failed("block padding", ErrorStack::get()));
            }
        }
        if let Some(frag) = cfg.max_send_fragment {
            // SAFETY: the SSL* is valid for the life of `conn.stream`; SSL_ctrl with
            // SSL_CTRL_SET_MAX_SEND_FRAGMENT reads only `larg` and ignores `parg`.
            let ok = unsafe {
                ffi::SSL_ctrl(
                    conn.ptr(),
                    SSL_CTRL_SET_MAX_SEND_FRAGMENT,
                    c_long::from(frag),
                    std::ptr::null_mut(),
                )
            };
            if ok != 1 {
                return Err(SetupError::Unsupported(format!(
                    "OpenSSL refused max send fragment {frag} (allowed: 512..=16384)"
                )));
            }
        }
        let set = conn.set_modes(cfg.modes);
        if !set.outcome.is_ok() {
            return Err(SetupError::Failed(format!(
                "setting modes: {}",
                set.outcome
            )));
        }
        clear_error_queue();
        Ok(Box::new(conn))
    }
}

struct OpensslConn {
    stream: SslStream<Endpoint>,
    /// The return value of the last I/O call, for `error_again` (RV-1).
    last_ret: c_int,
    /// Do not clear the error queue before the next call (RV-2).
    keep_queue: bool,
}

impl Drop for OpensslConn {
    fn drop(&mut self) {
        // SSL_free evicts the session from the context's cache when the connection did not
        // send close_notify (ssl_clear_bad_session). A run that ends mid-write must not take
        // away a session that later runs resume (the fuzzer's session pool), so disposal
        // counts as shut down. Nothing is sent; the run is over.
        // SAFETY: the SSL* is valid until `stream` drops, after this; the call sets flags only.
        unsafe {
            ffi::SSL_set_shutdown(
                self.ptr(),
                ffi::SSL_SENT_SHUTDOWN | ffi::SSL_RECEIVED_SHUTDOWN,
            )
        };
    }
}

/// Empties the thread's error queue, as the contract asks before an I/O call. The queue is
/// nearly always empty already, and ERR_clear_error walks all its slots: peek first.
fn clear_error_queue() {
    // SAFETY: ERR_peek_last_error and ERR_clear_error only touch this thread's error queue.
    unsafe {
        if ffi::ERR_peek_last_error() != 0 {
            ffi::ERR_clear_error()
        }
    }
}

/// Drains the thread's error queue into reason strings (never packed codes: those differ
/// between 1.1.1 and 3.x for the same reason).
fn drain_error_queue() -> Vec<String> {
    ErrorStack::get()
        .errors()
        .iter()
        .map(|e| match e.reason() {
            Some(r) => r.to_string(),
            None => format!("reason {}", e.reason_code()),
        })
        .collect()
}

impl OpensslConn {
    fn ptr(&self) -> *mut ffi::SSL {
        self.stream.ssl().as_ptr()
    }

    /// Before a call: clear the error queue, unless a scenario asked to leave it dirty.
    fn prepare(&mut self) {
        if !std::mem::take(&mut self.keep_queue) {
            clear_error_queue();
        }
    }

    /// Classifies the return value of an I/O call with `SSL_get_error`, then drains the queue.
    fn classify(&mut self, ret: c_int) -> Call {
        self.last_ret = ret;
        // SAFETY: the SSL* is valid; SSL_get_error reads the connection and the error queue.
        let code = unsafe { ffi::SSL_get_error(self.ptr(), ret) };
        let mut call = super::ssl_abi::io_call(ret, code, drain_error_queue());
        with_io_error(&mut call, &self.stream);
        call
    }

    /// A non-I/O call returning 1 on success, 0 on failure.
    fn simple(&self, ret: c_int) -> Call {
        super::ssl_abi::simple_call(ret, drain_error_queue())
    }
}

/// Adds the transport's last error (EPIPE, ECONNRESET, deadlock) to the call's errors, so a
/// `syscall` outcome says which system error it was.
fn with_io_error(call: &mut Call, stream: &SslStream<Endpoint>) {
    let ep = stream.get_ref();
    if let Some(e) = ep.pipe().take_io_error(ep.side()) {
        call.errors.push(format!("io: {e}"));
    }
}

fn len_as_int(len: usize) -> c_int {
    c_int::try_from(len).unwrap_or(c_int::MAX)
}

impl Connection for OpensslConn {
    fn handshake(&mut self) -> Call {
        self.prepare();
        // SAFETY: the SSL* is valid and its BIO (our endpoint) outlives the call.
        let ret = unsafe { ffi::SSL_do_handshake(self.ptr()) };
        self.classify(ret)
    }

    fn write(&mut self, buf: &[u8]) -> Call {
        self.prepare();
        // SAFETY: `buf` is valid for reads of `buf.len()` bytes for the duration of the call.
        // OpenSSL remembers the pointer of a write that must be retried, but only to compare
        // it with the retry's (W6), never to read through it after the call; an empty slice
        // has a dangling non-null pointer that OpenSSL never dereferences for num == 0.
        let ret = unsafe { ffi::SSL_write(self.ptr(), buf.as_ptr().cast(), len_as_int(buf.len())) };
        self.classify(ret)
    }

    fn write_ex(&mut self, buf: &[u8]) -> Call {
        self.prepare();
        let mut written: usize = 0;
        // SAFETY: as for SSL_write; `written` is a valid out-pointer for the call.
        let ret =
            unsafe { ffi::SSL_write_ex(self.ptr(), buf.as_ptr().cast(), buf.len(), &mut written) };
        let call = self.classify(ret);
        super::ssl_abi::counted(call, ret > 0, ret, written)
    }

    fn write_negative(&mut self, num: i32) -> Call {
        self.prepare();
        let byte = [0u8; 1];
        // SAFETY: with a negative num OpenSSL must reject the call before touching the buffer;
        // even so, the pointer is valid for one byte.
        let ret = unsafe { ffi::SSL_write(self.ptr(), byte.as_ptr().cast(), num) };
        self.classify(ret)
    }

    fn read(&mut self, buf: &mut [u8]) -> Call {
        self.prepare();
        // SAFETY: `buf` is valid for writes of `buf.len()` bytes for the duration of the call.
        let ret =
            unsafe { ffi::SSL_read(self.ptr(), buf.as_mut_ptr().cast(), len_as_int(buf.len())) };
        self.classify(ret)
    }

    fn shutdown(&mut self) -> Call {
        self.prepare();
        // SAFETY: the SSL* is valid and its BIO outlives the call.
        let ret = unsafe { ffi::SSL_shutdown(self.ptr()) };
        if ret >= 0 {
            // 0: close_notify sent, the peer's not yet seen; 1: both. Not errors
            // (SSL_shutdown(3) says not to call SSL_get_error for these).
            let mut call = self.simple(1);
            call.outcome = Outcome::Ok(ret as u64);
            call.ret = i64::from(ret);
            return call;
        }
        self.classify(ret)
    }

    fn key_update(&mut self, requested: bool) -> Call {
        self.prepare();
        // SAFETY: the SSL* is valid; the update type is SSL_KEY_UPDATE_(NOT_)REQUESTED (0/1).
        let ret = unsafe { SSL_key_update(self.ptr(), c_int::from(requested)) };
        self.simple(ret)
    }

    fn renegotiate(&mut self) -> Call {
        self.prepare();
        // SAFETY: the SSL* is valid; SSL_renegotiate only schedules the handshake.
        let ret = unsafe { SSL_renegotiate(self.ptr()) };
        self.simple(ret)
    }

    fn new_session_ticket(&mut self) -> Call {
        self.prepare();
        // SAFETY: the SSL* is valid; the call only queues a ticket for the next write.
        let ret = unsafe { SSL_new_session_ticket(self.ptr()) };
        self.simple(ret)
    }

    fn set_modes(&mut self, modes: Modes) -> Call {
        let all = ffi::SSL_MODE_ENABLE_PARTIAL_WRITE
            | ffi::SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER
            | ffi::SSL_MODE_AUTO_RETRY
            | SSL_MODE_RELEASE_BUFFERS;
        let mut bits: c_long = 0;
        if modes.partial_write {
            bits |= ffi::SSL_MODE_ENABLE_PARTIAL_WRITE;
        }
        if modes.moving_buffer {
            bits |= ffi::SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER;
        }
        if modes.auto_retry {
            bits |= ffi::SSL_MODE_AUTO_RETRY;
        }
        if modes.release_buffers {
            bits |= SSL_MODE_RELEASE_BUFFERS;
        }
        // SAFETY: the SSL* is valid; SSL_CTRL_CLEAR_MODE / SSL_CTRL_MODE read only `larg`.
        let now = unsafe {
            ffi::SSL_ctrl(self.ptr(), SSL_CTRL_CLEAR_MODE, all, std::ptr::null_mut());
            ffi::SSL_ctrl(self.ptr(), ffi::SSL_CTRL_MODE, bits, std::ptr::null_mut())
        };
        debug_assert_eq!(bits as u64, modes.bits());
        let outcome = if now & all == bits {
            Outcome::Ok((now & all) as u64)
        } else {
            Outcome::Ssl(format!("mode is {now:#x} after setting {bits:#x}"))
        };
        Call::new(outcome, i64::from(now as i32))
    }

    fn handshake_done(&self) -> bool {
        self.stream.ssl().is_init_finished()
    }

    fn session(&mut self) -> Result<Session, SetupError> {
        let Some(s) = self.stream.ssl().session() else {
            return Err(SetupError::Failed(
                "OpenSSL holds no session after the handshake".into(),
            ));
        };
        // SAFETY: the SSL_SESSION is valid while the connection holds it (borrowed here).
        match unsafe { SSL_SESSION_is_resumable(s.as_ptr()) } {
            1 => Ok(Session::new(s.to_owned())),
            _ => Err(SetupError::Failed(
                "OpenSSL holds no resumable session after the handshake".into(),
            )),
        }
    }

    fn resumed(&self) -> Option<bool> {
        Some(self.stream.ssl().session_reused())
    }

    fn write_early_data(&mut self, buf: &[u8]) -> Call {
        self.prepare();
        let mut written: usize = 0;
        // SAFETY: `buf` is valid for reads of `buf.len()` bytes during the call; `written` is
        // a valid out-pointer.
        let ret = unsafe {
            ffi::SSL_write_early_data(self.ptr(), buf.as_ptr().cast(), buf.len(), &mut written)
        };
        let call = self.classify(ret);
        super::ssl_abi::counted(call, ret > 0, ret, written)
    }

    fn read_early_data(&mut self, buf: &mut [u8]) -> Call {
        self.prepare();
        let mut read: usize = 0;
        // SAFETY: `buf` is valid for writes of `buf.len()` bytes during the call; `read` is a
        // valid out-pointer.
        let ret = unsafe {
            ffi::SSL_read_early_data(self.ptr(), buf.as_mut_ptr().cast(), buf.len(), &mut read)
        };
        let done = super::ssl_abi::read_early_data_done(ret);
        let call = if done {
            self.last_ret = ret;
            self.simple(1)
        } else {
            self.classify(0)
        };
        super::ssl_abi::counted(call, done, ret, read)
    }

    fn error_again(&mut self) -> Call {
        // No clearing: the point is what SSL_get_error says with the queue as the last call
        // left it (drained).
        self.classify(self.last_ret)
    }

    fn dirty_error_queue(&mut self) -> Call {
        clear_error_queue();
        let garbage = [0x30u8, 0x03, 0x02, 0x01];
        let mut p = garbage.as_ptr();
        // SAFETY: d2i_X509 reads at most `length` bytes from `p`, which points into `garbage`;
        // it fails (null) on these bytes and leaves ASN.1 errors on this thread's queue.
        let x = unsafe { ffi::d2i_X509(std::ptr::null_mut(), &mut p, garbage.len() as c_long) };
        if !x.is_null() {
            // SAFETY: a non-null result is an X509 we own.
            unsafe { ffi::X509_free(x) };
        }
        self.keep_queue = true;
        Call::new(Outcome::Ok(1), 1)
    }
}
