//! A connection of a loaded library: each [`Connection`] call is one call into it, the return
//! value first (`impls/ssl_abi.rs`), the error queue cleared before and drained after.

use std::ffi::{c_int, c_long};
use std::sync::Arc;

use super::bio::{BioState, Entered};
use super::load::Loaded;
use super::symbols::*;
use super::LibsslSession;
use crate::contract::{Call, Connection, Modes, Outcome, Session, SetupError};
use crate::impls::ssl_abi;
use crate::reseal::WriteSecrets;

/// `SSL_write_ex` and `SSL_write_early_data`.
type WriteCounted =
    unsafe extern "C" fn(*mut Ssl, *const std::ffi::c_void, usize, *mut usize) -> c_int;

pub struct LibsslConn {
    pub lib: Arc<Loaded>,
    pub ssl: *mut Ssl,
    /// The network side (its BIO is owned by `ssl`, which frees it with itself).
    pub state: Box<BioState>,
    pub last_ret: c_int,
    pub keep_queue: bool,
}

impl Drop for LibsslConn {
    fn drop(&mut self) {
        // As the linked driver: disposal counts as shut down, so SSL_free keeps the session
        // in the context's cache (SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN = 3).
        if let Some(set) = self.lib.sym.SSL_set_shutdown {
            // SAFETY: `ssl` is live; the call only sets flags.
            unsafe { set(self.ssl, 3) };
        }
        super::keylog::forget(self.ssl);
        // SAFETY: `ssl` is ours; it frees its BIO with itself (the state, freed after it,
        // is no longer reachable from the library).
        unsafe { (self.lib.sym.SSL_free)(self.ssl) };
    }
}

fn len_as_int(len: usize) -> c_int {
    c_int::try_from(len).unwrap_or(c_int::MAX)
}

impl LibsslConn {
    /// Runs one library call with the callback state in place, then re-raises a panic that
    /// the endpoint raised inside it.
    fn call<T>(&mut self, f: impl FnOnce(&Symbols, *mut Ssl) -> T) -> T {
        let out = {
            let _entered = Entered::new(&mut *self.state);
            f(&self.lib.sym, self.ssl)
        };
        if let Some(p) = self.state.panic.take() {
            std::panic::resume_unwind(p);
        }
        out
    }

    fn prepare(&mut self) {
        if !std::mem::take(&mut self.keep_queue) {
            self.lib.clear_errors();
        }
    }

    fn classify(&mut self, ret: c_int) -> Call {
        self.last_ret = ret;
        // SAFETY: `ssl` is live; SSL_get_error reads it and the error queue.
        let code = self.call(|s, ssl| unsafe { (s.SSL_get_error)(ssl, ret) });
        let mut call = ssl_abi::io_call(ret, code, self.lib.drain_errors());
        let ep = &self.state.endpoint;
        if let Some(e) = ep.pipe().take_io_error(ep.side()) {
            call.errors.push(format!("io: {e}"));
        }
        call
    }

    fn simple(&self, ret: c_int) -> Call {
        ssl_abi::simple_call(ret, self.lib.drain_errors())
    }

    /// `SSL_write_ex` or `SSL_write_early_data` (same signature): the count through the
    /// out-parameter, the return value first.
    fn write_counted(&mut self, name: &str, f: Option<WriteCounted>, buf: &[u8]) -> Call {
        let Some(f) = f else {
            return Call::skip(self.lib.missing(name));
        };
        self.prepare();
        let mut written: usize = 0;
        // SAFETY: `buf` is valid for reads of its length during the call (the library keeps
        // the pointer only to compare a retry's with it); `written` is a valid out-pointer.
        let ret =
            self.call(|_, ssl| unsafe { f(ssl, buf.as_ptr().cast(), buf.len(), &mut written) });
        let call = self.classify(ret);
        ssl_abi::counted(call, ret > 0, ret, written)
    }

    /// One optional entry point taking the `SSL*` only, as a simple (1/0) call.
    fn optional(&mut self, name: &str, f: Option<unsafe extern "C" fn(*mut Ssl) -> c_int>) -> Call {
        let Some(f) = f else {
            return Call::skip(self.lib.missing(name));
        };
        self.prepare();
        // SAFETY: `ssl` is live; the entry point takes only it.
        let ret = self.call(|_, ssl| unsafe { f(ssl) });
        self.simple(ret)
    }
}

impl LibsslConn {
    /// Sets exactly `modes` (the family's bits; everything else of them cleared), through
    /// `SSL_ctrl` where exported, else `SSL_clear_mode` / `SSL_set_mode` / `SSL_get_mode`,
    /// and reads them back: `ok(bits)` in the shared numbering ([`Modes::bits`]); `Err` when
    /// there is no route or the read-back shows the setter did nothing (the run is `skip` with
    /// that reason). A mode the family defines as 0 sets nothing (`family.rs`).
    pub fn set_modes_checked(&mut self, modes: Modes) -> Result<Call, String> {
        let table = self.lib.family.mode_bits();
        let all = table.all();
        let bits = table.of(modes);
        let s = &self.lib.sym;
        let now: c_long = match (s.SSL_ctrl, s.SSL_clear_mode, s.SSL_set_mode, s.SSL_get_mode) {
            (Some(ctrl), _, _, _) => {
                // SAFETY: SSL_CTRL_CLEAR_MODE / SSL_CTRL_MODE read only larg.
                self.call(|_, ssl| unsafe {
                    ctrl(ssl, SSL_CTRL_CLEAR_MODE, all, std::ptr::null_mut());
                    ctrl(ssl, SSL_CTRL_MODE, bits, std::ptr::null_mut())
                })
            }
            (None, Some(clear), Some(set), Some(get)) => {
                // SAFETY: `ssl` is live; the mode calls take and return a bit mask.
                self.call(|_, ssl| unsafe {
                    clear(ssl, all as u32);
                    set(ssl, bits as u32);
                    c_long::from(get(ssl))
                })
            }
            _ => {
                return Err(self
                    .lib
                    .missing("SSL_ctrl (or SSL_set_mode, SSL_clear_mode and SSL_get_mode)"))
            }
        };
        if now & all != bits {
            return Err(format!(
                "setting modes {bits:#x} did nothing: the mode reads {:#x} after it",
                now & all
            ));
        }
        Ok(Call::new(Outcome::Ok(modes.bits()), i64::from(now as i32)))
    }
}

impl Connection for LibsslConn {
    fn session(&mut self) -> Result<Session, SetupError> {
        let s = &self.lib.sym;
        let (Some(get), Some(resumable), Some(_)) = (
            s.SSL_get1_session,
            s.SSL_SESSION_is_resumable,
            s.SSL_SESSION_free,
        ) else {
            return Err(SetupError::Unsupported(self.lib.missing(
                "SSL_get1_session, SSL_SESSION_is_resumable or SSL_SESSION_free",
            )));
        };
        // SAFETY: `ssl` is live; a non-null result is one reference, ours.
        let ptr = unsafe { get(self.ssl) };
        if ptr.is_null() {
            return Err(SetupError::Failed(format!(
                "{} holds no session after the handshake",
                self.lib.label
            )));
        }
        let session = LibsslSession {
            lib: self.lib.clone(),
            ptr,
        };
        // SAFETY: the session is live (we hold a reference).
        if unsafe { resumable(ptr) } != 1 {
            return Err(SetupError::Failed(format!(
                "{} holds no resumable session after the handshake",
                self.lib.label
            )));
        }
        Ok(Session::new(session))
    }

    fn resumed(&self) -> Option<bool> {
        let f = self.lib.sym.SSL_session_reused?;
        // SAFETY: `ssl` is live; the call only reads it.
        Some(unsafe { f(self.ssl) } == 1)
    }

    fn write_early_data(&mut self, buf: &[u8]) -> Call {
        let f = self.lib.sym.SSL_write_early_data;
        self.write_counted("SSL_write_early_data", f, buf)
    }

    fn read_early_data(&mut self, buf: &mut [u8]) -> Call {
        let Some(f) = self.lib.sym.SSL_read_early_data else {
            return Call::skip(self.lib.missing("SSL_read_early_data"));
        };
        self.prepare();
        let mut read: usize = 0;
        let (ptr, len) = (buf.as_mut_ptr(), buf.len());
        // SAFETY: `buf` is valid for writes of its length during the call; `read` is a valid
        // out-pointer.
        let ret = self.call(|_, ssl| unsafe { f(ssl, ptr.cast(), len, &mut read) });
        let done = ssl_abi::read_early_data_done(ret);
        let call = if done {
            self.last_ret = ret;
            self.simple(1)
        } else {
            self.classify(0)
        };
        ssl_abi::counted(call, done, ret, read)
    }

    fn handshake(&mut self) -> Call {
        self.prepare();
        // SAFETY: `ssl` is live; its BIO is the driver's own (bio.rs).
        let ret = self.call(|s, ssl| unsafe { (s.SSL_do_handshake)(ssl) });
        self.classify(ret)
    }

    fn write(&mut self, buf: &[u8]) -> Call {
        self.prepare();
        // SAFETY: `buf` is valid for reads of its length during the call; the library does not
        // keep the pointer past it (a retry passes it again).
        let ret = self.call(|s, ssl| unsafe {
            (s.SSL_write)(ssl, buf.as_ptr().cast(), len_as_int(buf.len()))
        });
        self.classify(ret)
    }

    fn write_ex(&mut self, buf: &[u8]) -> Call {
        let f = self.lib.sym.SSL_write_ex;
        self.write_counted("SSL_write_ex", f, buf)
    }

    fn write_negative(&mut self, num: i32) -> Call {
        self.prepare();
        let byte = [0u8; 1];
        // SAFETY: a negative num must be refused before the buffer is read; it is valid for
        // one byte anyway.
        let ret = self.call(|s, ssl| unsafe { (s.SSL_write)(ssl, byte.as_ptr().cast(), num) });
        self.classify(ret)
    }

    fn read(&mut self, buf: &mut [u8]) -> Call {
        self.prepare();
        let len = len_as_int(buf.len());
        let ptr = buf.as_mut_ptr();
        // SAFETY: `buf` is valid for writes of its length during the call.
        let ret = self.call(|s, ssl| unsafe { (s.SSL_read)(ssl, ptr.cast(), len) });
        self.classify(ret)
    }

    fn shutdown(&mut self) -> Call {
        self.prepare();
        // SAFETY: `ssl` is live.
        let ret = self.call(|s, ssl| unsafe { (s.SSL_shutdown)(ssl) });
        if ret >= 0 {
            let mut call = self.simple(1);
            call.outcome = Outcome::Ok(ret as u64);
            call.ret = i64::from(ret);
            return call;
        }
        self.classify(ret)
    }

    fn key_update(&mut self, requested: bool) -> Call {
        let Some(f) = self.lib.sym.SSL_key_update else {
            return Call::skip(self.lib.missing("SSL_key_update"));
        };
        self.prepare();
        // SAFETY: `ssl` is live; the type is SSL_KEY_UPDATE_(NOT_)REQUESTED (0/1).
        let ret = self.call(|_, ssl| unsafe { f(ssl, c_int::from(requested)) });
        self.simple(ret)
    }

    fn renegotiate(&mut self) -> Call {
        self.optional("SSL_renegotiate", self.lib.sym.SSL_renegotiate)
    }

    fn new_session_ticket(&mut self) -> Call {
        self.optional(
            "SSL_new_session_ticket",
            self.lib.sym.SSL_new_session_ticket,
        )
    }

    fn set_modes(&mut self, modes: Modes) -> Call {
        self.set_modes_checked(modes)
            .unwrap_or_else(|reason| Call::skip(format!("{}: {reason}", self.lib.label)))
    }

    fn write_secrets(&self) -> Result<WriteSecrets, String> {
        let s = &self.lib.sym;
        let need = |name: &str| self.lib.missing(name);
        let (Some(version), Some(current), Some(protocol_id), Some(is_server)) = (
            s.SSL_version,
            s.SSL_get_current_cipher,
            s.SSL_CIPHER_get_protocol_id,
            s.SSL_is_server,
        ) else {
            return Err(need(
                "SSL_version, SSL_get_current_cipher, SSL_CIPHER_get_protocol_id or SSL_is_server",
            ));
        };
        // SAFETY: `ssl` is live; pure queries. The cipher is the connection's (or null).
        let (v, cipher, server) = unsafe {
            (
                version(self.ssl),
                current(self.ssl),
                is_server(self.ssl) == 1,
            )
        };
        if cipher.is_null() {
            return Err("no cipher suite negotiated yet".into());
        }
        // SAFETY: a live cipher of this connection.
        let suite = unsafe { protocol_id(cipher) };
        match v {
            0x0304 => {
                let k = super::keylog::secrets(self.ssl);
                let secret = if server { k.server } else { k.client };
                let secret = secret.ok_or_else(|| {
                    format!("{}: the key log gave no application traffic secret (SSL_CTX_set_keylog_callback)", self.lib.label)
                })?;
                Ok(WriteSecrets::Tls13 { suite, secret })
            }
            0x0303 => {
                let (Some(session), Some(master_key), Some(client_random), Some(server_random)) = (
                    s.SSL_get_session,
                    s.SSL_SESSION_get_master_key,
                    s.SSL_get_client_random,
                    s.SSL_get_server_random,
                ) else {
                    return Err(need("SSL_get_session, SSL_SESSION_get_master_key, SSL_get_client_random or SSL_get_server_random"));
                };
                let mut master = [0u8; 48];
                let (mut cr, mut sr) = ([0u8; 32], [0u8; 32]);
                // SAFETY: `ssl` and its session are live; each buffer is valid for the length
                // passed, and the calls copy at most that many bytes.
                let (m, c, r) = unsafe {
                    let sess = session(self.ssl);
                    if sess.is_null() {
                        return Err("no session yet".into());
                    }
                    (
                        master_key(sess, master.as_mut_ptr(), master.len()),
                        client_random(self.ssl, cr.as_mut_ptr(), cr.len()),
                        server_random(self.ssl, sr.as_mut_ptr(), sr.len()),
                    )
                };
                if m != 48 || c != 32 || r != 32 {
                    return Err(
                        "the session's master secret or the hello randoms are not available".into(),
                    );
                }
                Ok(WriteSecrets::Tls12 {
                    suite,
                    master: master.to_vec(),
                    client_random: cr.to_vec(),
                    server_random: sr.to_vec(),
                    client: !server,
                })
            }
            other => Err(format!(
                "protocol version {other:#06x} is neither TLS 1.2 nor 1.3"
            )),
        }
    }

    fn handshake_done(&self) -> bool {
        // SAFETY: `ssl` is live; a pure query.
        unsafe { (self.lib.sym.SSL_is_init_finished)(self.ssl) == 1 }
    }

    fn error_again(&mut self) -> Call {
        self.classify(self.last_ret)
    }

    fn dirty_error_queue(&mut self) -> Call {
        self.lib.clear_errors();
        let garbage = [0x30u8, 0x03, 0x02, 0x01];
        let mut p = garbage.as_ptr();
        let s = &self.lib.sym;
        // SAFETY: d2i_X509 reads at most `len` bytes from `p` (inside `garbage`); it fails on
        // these bytes and leaves ASN.1 errors on this thread's queue of the loaded libcrypto.
        unsafe {
            let x = (s.d2i_X509)(std::ptr::null_mut(), &mut p, garbage.len() as c_long);
            if !x.is_null() {
                (s.X509_free)(x);
            }
        }
        self.keep_queue = true;
        Call::new(Outcome::Ok(1), 1)
    }
}
