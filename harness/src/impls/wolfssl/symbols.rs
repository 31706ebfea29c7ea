//! wolfSSL's own C API as the `wolfssl` driver uses it: every entry point with its C signature
//! (wolfSSL 5.x `ssl.h`, `wolfio.h`), and the constants it passes. Only `wolfSSL_*` names are
//! exported (the `SSL_*` names are header macros). Essential symbols must all be exported (else
//! the library is refused, the missing ones named); optional ones may be absent (the steps
//! needing them are `skip`).

use std::ffi::{c_char, c_int, c_long, c_uchar, c_ulong, c_ushort, c_void};

use crate::impls::dl::symbol_table;

/// Opaque C types (only ever behind pointers).
#[repr(C)]
pub struct WolfSsl {
    _private: [u8; 0],
}
#[repr(C)]
pub struct WolfCtx {
    _private: [u8; 0],
}
#[repr(C)]
pub struct WolfMethod {
    _private: [u8; 0],
}
#[repr(C)]
pub struct WolfSession {
    _private: [u8; 0],
}

/// `CallbackIORecv` / `CallbackIOSend` (wolfio.h).
pub type IoCallback = unsafe extern "C" fn(*mut WolfSsl, *mut c_char, c_int, *mut c_void) -> c_int;

// ssl.h
pub const WOLFSSL_SUCCESS: c_int = 1;
pub const WOLFSSL_FILETYPE_ASN1: c_int = 2;
pub const WOLFSSL_VERIFY_PEER: c_int = 1;
pub const WOLFSSL_SNI_HOST_NAME: c_uchar = 0;
/// `wolfSSL_shutdown`'s "sent, the peer's not seen yet" (without WOLFSSL_ERROR_CODE_OPENSSL).
pub const WOLFSSL_SHUTDOWN_NOT_DONE: c_int = 2;
/// The mode "values" `wolfSSL_CTX_set_mode` takes, one at a time (not bits).
pub const WOLFSSL_MODE_ENABLE_PARTIAL_WRITE: c_long = 2;
pub const WOLFSSL_MODE_AUTO_RETRY: c_long = 3;
/// `wolfSSL_get_error` classes that differ from OpenSSL's numbers (NONE 0, WANT_READ 2,
/// WANT_WRITE 3, SYSCALL 5, ZERO_RETURN 6, WANT_CONNECT 7, WANT_ACCEPT 8 are the same); other
/// negative values are wolfSSL's own error codes.
pub const WOLFSSL_ERROR_WANT_X509_LOOKUP: c_int = 83;
pub const WOLFSSL_ERROR_SSL: c_int = 85;
// wolfio.h: what an I/O callback returns besides a count.
pub const WOLFSSL_CBIO_ERR_GENERAL: c_int = -1;
pub const WOLFSSL_CBIO_ERR_WANT: c_int = -2;
pub const WOLFSSL_CBIO_ERR_CONN_RST: c_int = -3;
pub const WOLFSSL_CBIO_ERR_CONN_CLOSE: c_int = -5;

symbol_table! {
    essential {
        wolfSSL_Init: unsafe extern "C" fn() -> c_int,
        wolfSSL_lib_version: unsafe extern "C" fn() -> *const c_char,
        wolfTLSv1_2_client_method: unsafe extern "C" fn() -> *mut WolfMethod,
        wolfTLSv1_2_server_method: unsafe extern "C" fn() -> *mut WolfMethod,
        wolfSSL_CTX_new: unsafe extern "C" fn(*mut WolfMethod) -> *mut WolfCtx,
        wolfSSL_CTX_free: unsafe extern "C" fn(*mut WolfCtx),
        wolfSSL_CTX_use_certificate_buffer: unsafe extern "C" fn(*mut WolfCtx, *const c_uchar, c_long, c_int) -> c_int,
        wolfSSL_CTX_use_PrivateKey_buffer: unsafe extern "C" fn(*mut WolfCtx, *const c_uchar, c_long, c_int) -> c_int,
        wolfSSL_CTX_load_verify_buffer: unsafe extern "C" fn(*mut WolfCtx, *const c_uchar, c_long, c_int) -> c_int,
        wolfSSL_CTX_set_verify: unsafe extern "C" fn(*mut WolfCtx, c_int, *const c_void),
        wolfSSL_new: unsafe extern "C" fn(*mut WolfCtx) -> *mut WolfSsl,
        wolfSSL_free: unsafe extern "C" fn(*mut WolfSsl),
        wolfSSL_SSLSetIORecv: unsafe extern "C" fn(*mut WolfSsl, Option<IoCallback>),
        wolfSSL_SSLSetIOSend: unsafe extern "C" fn(*mut WolfSsl, Option<IoCallback>),
        wolfSSL_SetIOReadCtx: unsafe extern "C" fn(*mut WolfSsl, *mut c_void),
        wolfSSL_SetIOWriteCtx: unsafe extern "C" fn(*mut WolfSsl, *mut c_void),
        wolfSSL_negotiate: unsafe extern "C" fn(*mut WolfSsl) -> c_int,
        wolfSSL_write: unsafe extern "C" fn(*mut WolfSsl, *const c_void, c_int) -> c_int,
        wolfSSL_read: unsafe extern "C" fn(*mut WolfSsl, *mut c_void, c_int) -> c_int,
        wolfSSL_get_error: unsafe extern "C" fn(*mut WolfSsl, c_int) -> c_int,
        wolfSSL_shutdown: unsafe extern "C" fn(*mut WolfSsl) -> c_int,
        wolfSSL_is_init_finished: unsafe extern "C" fn(*mut WolfSsl) -> c_int,
    }
    optional {
        wolfTLSv1_3_client_method: unsafe extern "C" fn() -> *mut WolfMethod,
        wolfTLSv1_3_server_method: unsafe extern "C" fn() -> *mut WolfMethod,
        wolfSSL_lib_version_hex: unsafe extern "C" fn() -> u32,
        wolfSSL_CTX_set_mode: unsafe extern "C" fn(*mut WolfCtx, c_long) -> c_long,
        wolfSSL_CTX_NoTicketTLSv12: unsafe extern "C" fn(*mut WolfCtx) -> c_int,
        wolfSSL_CTX_set_num_tickets: unsafe extern "C" fn(*mut WolfCtx, usize) -> c_int,
        // The context the session-ticket callback encrypts with (the default callback's keys).
        wolfSSL_CTX_get_TicketEncCtx: unsafe extern "C" fn(*mut WolfCtx) -> *mut c_void,
        wolfSSL_CTX_set_TicketEncCtx: unsafe extern "C" fn(*mut WolfCtx, *mut c_void) -> c_int,
        wolfSSL_set_connect_state: unsafe extern "C" fn(*mut WolfSsl),
        wolfSSL_set_accept_state: unsafe extern "C" fn(*mut WolfSsl),
        wolfSSL_UseSNI: unsafe extern "C" fn(*mut WolfSsl, c_uchar, *const c_void, c_ushort) -> c_int,
        wolfSSL_check_domain_name: unsafe extern "C" fn(*mut WolfSsl, *const c_char) -> c_int,
        wolfSSL_set_cipher_list: unsafe extern "C" fn(*mut WolfSsl, *const c_char) -> c_int,
        wolfSSL_UseMaxFragment: unsafe extern "C" fn(*mut WolfSsl, c_uchar) -> c_int,
        wolfSSL_AllowEncryptThenMac: unsafe extern "C" fn(*mut WolfSsl, c_int) -> c_int,
        wolfSSL_update_keys: unsafe extern "C" fn(*mut WolfSsl) -> c_int,
        wolfSSL_send_SessionTicket: unsafe extern "C" fn(*mut WolfSsl) -> c_int,
        wolfSSL_get1_session: unsafe extern "C" fn(*mut WolfSsl) -> *mut WolfSession,
        wolfSSL_set_session: unsafe extern "C" fn(*mut WolfSsl, *mut WolfSession) -> c_int,
        wolfSSL_SESSION_is_resumable: unsafe extern "C" fn(*const WolfSession) -> c_int,
        wolfSSL_SESSION_free: unsafe extern "C" fn(*mut WolfSession),
        wolfSSL_session_reused: unsafe extern "C" fn(*mut WolfSsl) -> c_int,
        wolfSSL_set_shutdown: unsafe extern "C" fn(*mut WolfSsl, c_int),
        wolfSSL_ERR_get_error: unsafe extern "C" fn() -> c_ulong,
        wolfSSL_ERR_clear_error: unsafe extern "C" fn(),
        wolfSSL_ERR_reason_error_string: unsafe extern "C" fn(c_ulong) -> *const c_char,
        wolfSSL_ERR_error_string_n: unsafe extern "C" fn(c_ulong, *mut c_char, usize),
        // Entry points of the OpenSSL compatibility layer this driver has no use for are left
        // out; early data (`wolfSSL_write_early_data`) is not in Debian's build.
        wolfSSL_write_early_data: unsafe extern "C" fn(*mut WolfSsl, *const c_void, c_int, *mut c_int) -> c_int,
    }
}
