//! The network side of a loaded library's connection: a `BIO_METHOD` of the driver's own, made
//! with the library's `BIO_meth_new` (every family has it: OpenSSL 1.1.0+, BoringSSL, AWS-LC,
//! LibreSSL 2.7+), whose write and read go straight to the harness's [`Endpoint`], as the
//! `openssl` crate's stream BIO does for the linked OpenSSL: one endpoint write per
//! `BIO_write` (a short count when the endpoint took less; the library sends the rest again),
//! one endpoint read of at most the asked length per `BIO_read`; `WouldBlock` sets the retry
//! flags, EOF is a 0 return, other errors -1; `BIO_CTRL_FLUSH` succeeds, every other control
//! answers 0. So the transport sees from a loaded library what it sees from the linked one.
//!
//! The callbacks find their connection through a thread-local set only around the driver's own
//! library calls ([`Entered`]): the method is shared by every connection of the library, and a
//! BIO used outside such a call (none is) would get -1.

use std::any::Any;
use std::cell::Cell;
use std::ffi::{c_char, c_int, c_long, c_void};
use std::io::{self, Read, Write};

use super::symbols::*;
use crate::transport::Endpoint;

/// One method table per loaded library, never freed (connections of every run use it).
pub struct Method(pub *mut BioMethod);

// SAFETY: the method table is filled once, before it is shared, and only read afterwards
// (BIO_new reads it); the library's BIO layer makes no other use of it.
unsafe impl Send for Method {}
// SAFETY: as above.
unsafe impl Sync for Method {}

impl Method {
    /// Makes the method table in the library `sym` comes from. `Err` names the call that
    /// failed.
    pub fn new(sym: &Symbols) -> Result<Method, String> {
        // SAFETY: BIO_meth_new copies nothing but the name pointer, which is 'static; the
        // setters store function pointers of the signatures bio.h gives them.
        unsafe {
            let m = (sym.BIO_meth_new)(0, c"sslwrite".as_ptr());
            if m.is_null() {
                return Err("BIO_meth_new failed".into());
            }
            let ok = (sym.BIO_meth_set_write)(m, Some(bio_write)) == 1
                && (sym.BIO_meth_set_read)(m, Some(bio_read)) == 1
                && (sym.BIO_meth_set_ctrl)(m, Some(bio_ctrl)) == 1;
            if !ok {
                return Err("BIO_meth_set_write/read/ctrl failed".into());
            }
            Ok(Method(m))
        }
    }
}

/// What the callbacks work with: the harness's endpoint, the BIO they serve, and a panic the
/// endpoint raised (the pump runs the peer), re-raised after the library call.
pub struct BioState {
    pub endpoint: Endpoint,
    pub bio: *mut Bio,
    pub panic: Option<Box<dyn Any + Send>>,
    set_flags: unsafe extern "C" fn(*mut Bio, c_int),
    clear_flags: unsafe extern "C" fn(*mut Bio, c_int),
}

impl BioState {
    /// A new BIO of `method` over `endpoint`, initialised; `Err` when BIO_new fails.
    pub fn new(sym: &Symbols, method: &Method, endpoint: Endpoint) -> Result<BioState, String> {
        // SAFETY: the method table is live (never freed); BIO_new returns an owned BIO or
        // null; BIO_set_init marks it usable (the method has no create callback to do it).
        let bio = unsafe { (sym.BIO_new)(method.0) };
        if bio.is_null() {
            return Err("BIO_new failed".into());
        }
        // SAFETY: as above.
        unsafe { (sym.BIO_set_init)(bio, 1) };
        Ok(BioState {
            endpoint,
            bio,
            panic: None,
            set_flags: sym.BIO_set_flags,
            clear_flags: sym.BIO_clear_flags,
        })
    }
}

thread_local! {
    /// The state of the connection whose library call is running on this thread.
    static CURRENT: Cell<*mut BioState> = const { Cell::new(std::ptr::null_mut()) };
}

/// Sets [`CURRENT`] for the duration of one library call (and restores it after).
pub struct Entered(*mut BioState);

impl Entered {
    pub fn new(state: *mut BioState) -> Entered {
        Entered(CURRENT.with(|c| c.replace(state)))
    }
}

impl Drop for Entered {
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(self.0));
    }
}

/// The state serving `b` in the call running on this thread, if any.
///
/// # Safety
/// CURRENT is null or points at the live state of the connection being driven on this thread
/// (set by `Entered` around the call), which nothing else borrows during the callback.
unsafe fn current<'a>(b: *mut Bio) -> Option<&'a mut BioState> {
    let p = CURRENT.with(Cell::get);
    // SAFETY: the caller's guarantee.
    let st = unsafe { p.as_mut() }?;
    (st.bio == b).then_some(st)
}

fn retriable(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::NotConnected
    )
}

/// The result of one endpoint operation as a BIO return value, with the retry flag set for
/// `WouldBlock`.
fn bio_result(
    st: &mut BioState,
    which: c_int,
    got: std::thread::Result<io::Result<usize>>,
) -> c_int {
    match got {
        Ok(Ok(n)) => n as c_int,
        Ok(Err(e)) => {
            if retriable(&e) {
                // SAFETY: `st.bio` is the live BIO of this call; the call only sets flags.
                unsafe { (st.set_flags)(st.bio, which | BIO_FLAGS_SHOULD_RETRY) };
            }
            -1
        }
        Err(p) => {
            st.panic = Some(p);
            -1
        }
    }
}

/// # Safety
/// Called by the library's BIO layer with a buffer valid for reads of `len` bytes.
unsafe extern "C" fn bio_write(b: *mut Bio, buf: *const c_char, len: c_int) -> c_int {
    // SAFETY: see `current`.
    let Some(st) = (unsafe { current(b) }) else {
        return -1;
    };
    // SAFETY: `b` is live; the call only clears flags.
    unsafe { (st.clear_flags)(b, BIO_FLAGS_RWS | BIO_FLAGS_SHOULD_RETRY) };
    if st.panic.is_some() || len < 0 || (buf.is_null() && len > 0) {
        return -1;
    }
    let bytes: &[u8] = if len == 0 {
        &[]
    } else {
        // SAFETY: the BIO layer passes a buffer valid for `len` bytes for this call.
        unsafe { std::slice::from_raw_parts(buf.cast(), len as usize) }
    };
    let endpoint = &mut st.endpoint;
    let got = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| endpoint.write(bytes)));
    bio_result(st, BIO_FLAGS_WRITE, got)
}

/// # Safety
/// Called by the library's BIO layer with a buffer valid for writes of `len` bytes.
unsafe extern "C" fn bio_read(b: *mut Bio, buf: *mut c_char, len: c_int) -> c_int {
    // SAFETY: see `current`.
    let Some(st) = (unsafe { current(b) }) else {
        return -1;
    };
    // SAFETY: `b` is live; the call only clears flags.
    unsafe { (st.clear_flags)(b, BIO_FLAGS_RWS | BIO_FLAGS_SHOULD_RETRY) };
    if st.panic.is_some() || len < 0 || (buf.is_null() && len > 0) {
        return -1;
    }
    let bytes: &mut [u8] = if len == 0 {
        &mut []
    } else {
        // SAFETY: the BIO layer passes a buffer valid for writes of `len` bytes for this call.
        unsafe { std::slice::from_raw_parts_mut(buf.cast(), len as usize) }
    };
    let endpoint = &mut st.endpoint;
    let got = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| endpoint.read(bytes)));
    bio_result(st, BIO_FLAGS_READ, got)
}

/// `BIO_CTRL_FLUSH` succeeds (the endpoint writes through); everything else answers 0, as the
/// `openssl` crate's stream BIO does.
///
/// # Safety
/// Called by the library's BIO layer; reads nothing through `ptr`.
unsafe extern "C" fn bio_ctrl(_b: *mut Bio, cmd: c_int, _num: c_long, _ptr: *mut c_void) -> c_long {
    c_long::from(cmd == BIO_CTRL_FLUSH)
}
