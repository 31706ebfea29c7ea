//! A wolfSSL connection: each [`Connection`] call is one wolfSSL call, the return value first;
//! the network side is wolfSSL's I/O callbacks over the harness's [`Endpoint`].

use std::any::Any;
use std::ffi::{c_char, c_int, c_void};
use std::io::{self, Read, Write};
use std::sync::Arc;

use super::symbols::*;
use super::Loaded;
use crate::contract::{Call, Connection, Modes, Outcome, Session, SetupError};
use crate::impls::ssl_abi;
use crate::transport::Endpoint;

/// What the I/O callbacks work with (the callbacks' context pointer).
pub struct IoState {
    endpoint: Endpoint,
    /// A panic caught in the endpoint (the pump runs the peer), re-raised after the call.
    panic: Option<Box<dyn Any + Send>>,
}

impl IoState {
    pub fn new(endpoint: Endpoint) -> IoState {
        IoState {
            endpoint,
            panic: None,
        }
    }
}

/// What an endpoint error is to wolfSSL.
fn cbio_error(e: &io::Error) -> c_int {
    match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::NotConnected => WOLFSSL_CBIO_ERR_WANT,
        io::ErrorKind::ConnectionReset => WOLFSSL_CBIO_ERR_CONN_RST,
        io::ErrorKind::BrokenPipe => WOLFSSL_CBIO_ERR_CONN_CLOSE,
        _ => WOLFSSL_CBIO_ERR_GENERAL,
    }
}

fn cbio_result(st: &mut IoState, got: std::thread::Result<io::Result<usize>>, eof: c_int) -> c_int {
    match got {
        Ok(Ok(0)) => eof,
        Ok(Ok(n)) => n as c_int,
        Ok(Err(e)) => cbio_error(&e),
        Err(p) => {
            st.panic = Some(p);
            WOLFSSL_CBIO_ERR_GENERAL
        }
    }
}

/// `CallbackIORecv`: one endpoint read of at most `sz` bytes; EOF is CONN_CLOSE.
///
/// # Safety
/// Called by wolfSSL with `buf` valid for writes of `sz` bytes and `ctx` the connection's
/// [`IoState`] (set by the driver, valid while the connection lives).
pub unsafe extern "C" fn recv_cb(
    _ssl: *mut WolfSsl,
    buf: *mut c_char,
    sz: c_int,
    ctx: *mut c_void,
) -> c_int {
    // SAFETY: the caller's guarantee; nothing else borrows the state during the callback.
    let Some(st) = (unsafe { ctx.cast::<IoState>().as_mut() }) else {
        return WOLFSSL_CBIO_ERR_GENERAL;
    };
    if st.panic.is_some() || sz <= 0 || buf.is_null() {
        return WOLFSSL_CBIO_ERR_GENERAL;
    }
    // SAFETY: the caller's guarantee.
    let bytes = unsafe { std::slice::from_raw_parts_mut(buf.cast::<u8>(), sz as usize) };
    let endpoint = &mut st.endpoint;
    let got = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| endpoint.read(bytes)));
    cbio_result(st, got, WOLFSSL_CBIO_ERR_CONN_CLOSE)
}

/// `CallbackIOSend`: one endpoint write; what it did not take, wolfSSL sends again. A transport
/// that takes nothing (a zero-byte write) answers 0, as the transport said.
///
/// # Safety
/// Called by wolfSSL with `buf` valid for reads of `sz` bytes and `ctx` as for [`recv_cb`].
pub unsafe extern "C" fn send_cb(
    _ssl: *mut WolfSsl,
    buf: *mut c_char,
    sz: c_int,
    ctx: *mut c_void,
) -> c_int {
    // SAFETY: as in `recv_cb`.
    let Some(st) = (unsafe { ctx.cast::<IoState>().as_mut() }) else {
        return WOLFSSL_CBIO_ERR_GENERAL;
    };
    if st.panic.is_some() || sz < 0 || (buf.is_null() && sz > 0) {
        return WOLFSSL_CBIO_ERR_GENERAL;
    }
    let bytes: &[u8] = if sz == 0 {
        &[]
    } else {
        // SAFETY: the caller's guarantee.
        unsafe { std::slice::from_raw_parts(buf.cast::<u8>(), sz as usize) }
    };
    let endpoint = &mut st.endpoint;
    let got = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| endpoint.write(bytes)));
    cbio_result(st, got, 0)
}

/// A client session of a loaded wolfSSL (one reference, `wolfSSL_get1_session`'s).
pub struct WolfSession {
    pub lib: Arc<Loaded>,
    pub ptr: *mut WolfSession_,
}

/// The C session type, renamed so the Rust handle can take the short name.
pub type WolfSession_ = super::symbols::WolfSession;

// SAFETY: a WOLFSSL_SESSION is reference-counted with wolfSSL's own locking; this handle owns
// one reference and hands it only to wolfSSL_set_session (which copies it) or frees it.
unsafe impl Send for WolfSession {}
// SAFETY: as above.
unsafe impl Sync for WolfSession {}

impl Drop for WolfSession {
    fn drop(&mut self) {
        if let Some(free) = self.lib.sym.wolfSSL_SESSION_free {
            // SAFETY: the reference is ours.
            unsafe { free(self.ptr) };
        }
    }
}

pub struct WolfConn {
    lib: Arc<Loaded>,
    ssl: *mut WolfSsl,
    state: Box<IoState>,
    modes: Modes,
    last_ret: c_int,
}

impl WolfConn {
    pub fn new(lib: Arc<Loaded>, ssl: *mut WolfSsl, state: Box<IoState>, modes: Modes) -> WolfConn {
        WolfConn {
            lib,
            ssl,
            state,
            modes,
            last_ret: 1,
        }
    }

    /// One library call, then a panic the endpoint raised inside it re-raised.
    fn call<T>(&mut self, f: impl FnOnce(&Symbols, *mut WolfSsl) -> T) -> T {
        let out = f(&self.lib.sym, self.ssl);
        if let Some(p) = self.state.panic.take() {
            std::panic::resume_unwind(p);
        }
        out
    }

    /// The return value first; the class from `wolfSSL_get_error` in OpenSSL's numbering, its
    /// own negative codes raw and named.
    fn classify(&mut self, ret: c_int) -> Call {
        self.last_ret = ret;
        // SAFETY: `ssl` is live; get_error reads it and the queue.
        let raw = self.call(|s, ssl| unsafe { (s.wolfSSL_get_error)(ssl, ret) });
        let mut errors = self.lib.drain_errors();
        let class = match raw {
            WOLFSSL_ERROR_SSL => 1,
            WOLFSSL_ERROR_WANT_X509_LOOKUP => 4,
            c if c < 0 => {
                errors.push(format!(
                    "wolfSSL error {c}: {}",
                    self.lib.reason(i64::from(c))
                ));
                c
            }
            c => c,
        };
        let mut call = ssl_abi::io_call(ret, class, errors);
        let ep = &self.state.endpoint;
        if let Some(e) = ep.pipe().take_io_error(ep.side()) {
            call.errors.push(format!("io: {e}"));
        }
        call
    }

    /// An optional call that sends a handshake message at once (`wolfSSL_update_keys`,
    /// `wolfSSL_send_SessionTicket`): `ok(1)` on WOLFSSL_SUCCESS, else classified.
    fn send_now(
        &mut self,
        name: &str,
        f: Option<unsafe extern "C" fn(*mut WolfSsl) -> c_int>,
    ) -> Call {
        let Some(f) = f else {
            return Call::skip(self.lib.missing(name));
        };
        self.prepare();
        // SAFETY: `ssl` is live; the message goes out through the I/O callbacks.
        let ret = self.call(|_, ssl| unsafe { f(ssl) });
        if ret == WOLFSSL_SUCCESS {
            return Call::new(Outcome::Ok(1), 1);
        }
        self.classify(ret)
    }

    fn prepare(&mut self) {
        self.lib.clear_errors();
    }
}

impl Drop for WolfConn {
    fn drop(&mut self) {
        // SAFETY: `ssl` is ours; the I/O state it points at is freed after it.
        unsafe { (self.lib.sym.wolfSSL_free)(self.ssl) };
    }
}

fn len_as_int(len: usize) -> c_int {
    c_int::try_from(len).unwrap_or(c_int::MAX)
}

impl Connection for WolfConn {
    fn handshake(&mut self) -> Call {
        self.prepare();
        // SAFETY: `ssl` is live; its I/O callbacks serve the endpoint.
        let ret = self.call(|s, ssl| unsafe { (s.wolfSSL_negotiate)(ssl) });
        self.classify(ret)
    }

    fn write(&mut self, buf: &[u8]) -> Call {
        self.prepare();
        // SAFETY: `buf` is valid for reads of its length during the call.
        let ret = self.call(|s, ssl| unsafe {
            (s.wolfSSL_write)(ssl, buf.as_ptr().cast(), len_as_int(buf.len()))
        });
        self.classify(ret)
    }

    fn write_ex(&mut self, _buf: &[u8]) -> Call {
        Call::skip(
            "wolfSSL has no SSL_write_ex (wolfSSL_write takes an int length and returns the count)",
        )
    }

    fn write_negative(&mut self, num: i32) -> Call {
        self.prepare();
        let byte = [0u8; 1];
        // SAFETY: a negative length must be refused before the buffer is read; it is valid for
        // one byte anyway.
        let ret = self.call(|s, ssl| unsafe { (s.wolfSSL_write)(ssl, byte.as_ptr().cast(), num) });
        self.classify(ret)
    }

    fn read(&mut self, buf: &mut [u8]) -> Call {
        self.prepare();
        let (ptr, len) = (buf.as_mut_ptr(), len_as_int(buf.len()));
        // SAFETY: `buf` is valid for writes of its length during the call.
        let ret = self.call(|s, ssl| unsafe { (s.wolfSSL_read)(ssl, ptr.cast(), len) });
        self.classify(ret)
    }

    fn shutdown(&mut self) -> Call {
        self.prepare();
        // SAFETY: `ssl` is live.
        let ret = self.call(|s, ssl| unsafe { (s.wolfSSL_shutdown)(ssl) });
        match ret {
            // Done; or sent, the peer's not seen yet (wolfSSL's NOT_DONE is 2, OpenSSL's 0).
            WOLFSSL_SUCCESS | WOLFSSL_SHUTDOWN_NOT_DONE | 0 => {
                let mut call = Call::new(
                    Outcome::Ok(u64::from(ret == WOLFSSL_SUCCESS)),
                    i64::from(ret),
                );
                call.errors = self.lib.drain_errors();
                call
            }
            _ => self.classify(ret),
        }
    }

    fn key_update(&mut self, requested: bool) -> Call {
        if !requested {
            return Call::skip("wolfSSL_update_keys always requests the peer's update; a KeyUpdate that does not cannot be sent");
        }
        let f = self.lib.sym.wolfSSL_update_keys;
        self.send_now("wolfSSL_update_keys", f)
    }

    fn renegotiate(&mut self) -> Call {
        Call::skip("this wolfSSL build has no secure renegotiation, and wolfSSL_Rehandshake runs a handshake at once where SSL_renegotiate schedules one")
    }

    fn new_session_ticket(&mut self) -> Call {
        let f = self.lib.sym.wolfSSL_send_SessionTicket;
        self.send_now("wolfSSL_send_SessionTicket", f)
    }

    fn error_again(&mut self) -> Call {
        self.classify(self.last_ret)
    }

    fn set_modes(&mut self, modes: Modes) -> Call {
        if modes.partial_write == self.modes.partial_write
            && modes.auto_retry == self.modes.auto_retry
        {
            self.modes = modes;
            return Call::new(Outcome::Ok(modes.bits()), 1);
        }
        Call::skip("wolfSSL sets modes per context only (wolfSSL_CTX_set_mode): a live connection's modes cannot change")
    }

    fn handshake_done(&self) -> bool {
        // SAFETY: `ssl` is live; a pure query.
        unsafe { (self.lib.sym.wolfSSL_is_init_finished)(self.ssl) == 1 }
    }

    fn session(&mut self) -> Result<Session, SetupError> {
        let s = &self.lib.sym;
        let (Some(get), Some(_)) = (s.wolfSSL_get1_session, s.wolfSSL_SESSION_free) else {
            return Err(SetupError::Unsupported(
                self.lib
                    .missing("wolfSSL_get1_session or wolfSSL_SESSION_free"),
            ));
        };
        // SAFETY: `ssl` is live; a non-null result is one reference, ours.
        let ptr = unsafe { get(self.ssl) };
        if ptr.is_null() {
            return Err(SetupError::Failed(format!(
                "{} holds no session after the handshake",
                self.lib.label
            )));
        }
        let session = WolfSession {
            lib: self.lib.clone(),
            ptr,
        };
        if let Some(resumable) = s.wolfSSL_SESSION_is_resumable {
            // SAFETY: the session is live (we hold a reference).
            if unsafe { resumable(ptr) } != 1 {
                return Err(SetupError::Failed(format!(
                    "{} holds no resumable session after the handshake",
                    self.lib.label
                )));
            }
        }
        Ok(Session::new(session))
    }

    fn resumed(&self) -> Option<bool> {
        let f = self.lib.sym.wolfSSL_session_reused?;
        // SAFETY: `ssl` is live; a pure query.
        Some(unsafe { f(self.ssl) } == 1)
    }
}
