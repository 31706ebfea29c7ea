//! The C ABI the `libssl` driver uses: every entry point it calls in a loaded library, with its
//! C signature (OpenSSL 1.1.1 and 3.x/4.x `ssl.h`, `bio.h`, `err.h`, `x509.h`, `crypto.h`), and
//! the constants it passes. Essential symbols must all be exported (else the library is refused,
//! the missing ones named); optional ones may be absent (the steps needing them are `skip`).
//!
//! Lookups go to the libssl handle first (`dlsym` on it also searches its dependencies, so a
//! libcrypto it links is found) and then to the libcrypto the driver loaded beside it.

use std::ffi::{c_char, c_int, c_long, c_uchar, c_ulong, c_void};

/// Opaque C types (only ever behind pointers).
#[repr(C)]
pub struct Ssl {
    _private: [u8; 0],
}
#[repr(C)]
pub struct SslSession {
    _private: [u8; 0],
}
#[repr(C)]
pub struct SslCtx {
    _private: [u8; 0],
}
#[repr(C)]
pub struct SslMethod {
    _private: [u8; 0],
}
#[repr(C)]
pub struct Bio {
    _private: [u8; 0],
}
#[repr(C)]
pub struct X509 {
    _private: [u8; 0],
}
#[repr(C)]
pub struct X509Store {
    _private: [u8; 0],
}
#[repr(C)]
pub struct EvpPkey {
    _private: [u8; 0],
}
#[repr(C)]
pub struct VerifyParam {
    _private: [u8; 0],
}

#[repr(C)]
pub struct SslCipher {
    _private: [u8; 0],
}

/// `SSL_CTX_set_keylog_callback`'s callback (1.1.1+, BoringSSL).
pub type KeylogCallback = unsafe extern "C" fn(*const Ssl, *const c_char);

#[repr(C)]
pub struct BioMethod {
    _private: [u8; 0],
}

/// A BIO_METHOD's write, read and ctrl (bio.h, every family).
pub type BioWrite = unsafe extern "C" fn(*mut Bio, *const c_char, c_int) -> c_int;
pub type BioRead = unsafe extern "C" fn(*mut Bio, *mut c_char, c_int) -> c_int;
pub type BioCtrl = unsafe extern "C" fn(*mut Bio, c_int, c_long, *mut c_void) -> c_long;

// ssl.h (the SSL_ERROR_* classes are mapped in impls/ssl_abi.rs)
pub const SSL_CTRL_OPTIONS: c_int = 32;
pub const SSL_CTRL_MODE: c_int = 33;
pub const SSL_CTRL_SET_MAX_SEND_FRAGMENT: c_int = 52;
pub const SSL_CTRL_SET_TLSEXT_HOSTNAME: c_int = 55;
pub const SSL_CTRL_CLEAR_MODE: c_int = 78;
pub const SSL_CTRL_SET_GROUPS_LIST: c_int = 92;
pub const SSL_CTRL_SET_MIN_PROTO_VERSION: c_int = 123;
pub const SSL_CTRL_SET_MAX_PROTO_VERSION: c_int = 124;
pub const TLSEXT_NAMETYPE_HOST_NAME: c_long = 0;
pub const TLS1_2_VERSION: c_long = 0x0303;
pub const TLS1_3_VERSION: c_long = 0x0304;
pub const SSL_VERIFY_PEER: c_int = 1;
pub const SSL_MODE_ENABLE_PARTIAL_WRITE: c_long = 0x1;
pub const SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER: c_long = 0x2;
pub const SSL_MODE_AUTO_RETRY: c_long = 0x4;
pub const SSL_MODE_RELEASE_BUFFERS: c_long = 0x10;
pub const SSL_OP_ALLOW_CLIENT_RENEGOTIATION: u64 = 1 << 8;
pub const SSL_OP_NO_TICKET: u64 = 1 << 14;
pub const SSL_OP_NO_ENCRYPT_THEN_MAC: u64 = 1 << 19;
pub const SSL_OP_NO_RENEGOTIATION: u64 = 1 << 30;
pub const OPENSSL_INIT_LOAD_CRYPTO_STRINGS: u64 = 0x0000_0002;
pub const OPENSSL_INIT_NO_ATEXIT: u64 = 0x0008_0000;
pub const OPENSSL_INIT_LOAD_SSL_STRINGS: u64 = 0x0020_0000;
// crypto.h: OpenSSL_version(t)
pub const OPENSSL_VERSION: c_int = 0;
pub const OPENSSL_CFLAGS: c_int = 1;
pub const OPENSSL_BUILT_ON: c_int = 2;
pub const OPENSSL_PLATFORM: c_int = 3;
pub const OPENSSL_DIR: c_int = 4;
// bio.h
pub const BIO_CTRL_FLUSH: c_int = 11;
pub const BIO_FLAGS_READ: c_int = 0x01;
pub const BIO_FLAGS_WRITE: c_int = 0x02;
pub const BIO_FLAGS_RWS: c_int = 0x07;
pub const BIO_FLAGS_SHOULD_RETRY: c_int = 0x08;

use crate::impls::dl::symbol_table;

symbol_table! {
    essential {
        TLS_method: unsafe extern "C" fn() -> *const SslMethod,
        SSL_CTX_new: unsafe extern "C" fn(*const SslMethod) -> *mut SslCtx,
        SSL_CTX_free: unsafe extern "C" fn(*mut SslCtx),
        SSL_CTX_use_certificate: unsafe extern "C" fn(*mut SslCtx, *mut X509) -> c_int,
        SSL_CTX_use_PrivateKey: unsafe extern "C" fn(*mut SslCtx, *mut EvpPkey) -> c_int,
        SSL_CTX_check_private_key: unsafe extern "C" fn(*const SslCtx) -> c_int,
        SSL_CTX_get_cert_store: unsafe extern "C" fn(*const SslCtx) -> *mut X509Store,
        SSL_CTX_set_verify: unsafe extern "C" fn(*mut SslCtx, c_int, *const c_void),
        SSL_new: unsafe extern "C" fn(*mut SslCtx) -> *mut Ssl,
        SSL_free: unsafe extern "C" fn(*mut Ssl),
        SSL_set_bio: unsafe extern "C" fn(*mut Ssl, *mut Bio, *mut Bio),
        SSL_set_connect_state: unsafe extern "C" fn(*mut Ssl),
        SSL_set_accept_state: unsafe extern "C" fn(*mut Ssl),
        SSL_set_cipher_list: unsafe extern "C" fn(*mut Ssl, *const c_char) -> c_int,
        SSL_do_handshake: unsafe extern "C" fn(*mut Ssl) -> c_int,
        SSL_write: unsafe extern "C" fn(*mut Ssl, *const c_void, c_int) -> c_int,
        SSL_read: unsafe extern "C" fn(*mut Ssl, *mut c_void, c_int) -> c_int,
        SSL_get_error: unsafe extern "C" fn(*const Ssl, c_int) -> c_int,
        SSL_shutdown: unsafe extern "C" fn(*mut Ssl) -> c_int,
        SSL_is_init_finished: unsafe extern "C" fn(*const Ssl) -> c_int,
        // The network side: a BIO_METHOD of the driver's own (bio.rs).
        BIO_meth_new: unsafe extern "C" fn(c_int, *const c_char) -> *mut BioMethod,
        BIO_meth_set_write: unsafe extern "C" fn(*mut BioMethod, Option<BioWrite>) -> c_int,
        BIO_meth_set_read: unsafe extern "C" fn(*mut BioMethod, Option<BioRead>) -> c_int,
        BIO_meth_set_ctrl: unsafe extern "C" fn(*mut BioMethod, Option<BioCtrl>) -> c_int,
        BIO_new: unsafe extern "C" fn(*const BioMethod) -> *mut Bio,
        BIO_set_init: unsafe extern "C" fn(*mut Bio, c_int),
        BIO_free: unsafe extern "C" fn(*mut Bio) -> c_int,
        BIO_set_flags: unsafe extern "C" fn(*mut Bio, c_int),
        BIO_clear_flags: unsafe extern "C" fn(*mut Bio, c_int),
        ERR_get_error: unsafe extern "C" fn() -> c_ulong,
        ERR_clear_error: unsafe extern "C" fn(),
        ERR_peek_last_error: unsafe extern "C" fn() -> c_ulong,
        ERR_reason_error_string: unsafe extern "C" fn(c_ulong) -> *const c_char,
        d2i_X509: unsafe extern "C" fn(*mut *mut X509, *mut *const c_uchar, c_long) -> *mut X509,
        X509_free: unsafe extern "C" fn(*mut X509),
        X509_STORE_add_cert: unsafe extern "C" fn(*mut X509Store, *mut X509) -> c_int,
        d2i_AutoPrivateKey: unsafe extern "C" fn(*mut *mut EvpPkey, *mut *const c_uchar, c_long) -> *mut EvpPkey,
        EVP_PKEY_free: unsafe extern "C" fn(*mut EvpPkey),
    }
    optional {
        // Version and build information (one of the two version calls is required).
        OpenSSL_version: unsafe extern "C" fn(c_int) -> *const c_char,
        SSLeay_version: unsafe extern "C" fn(c_int) -> *const c_char,
        OpenSSL_version_num: unsafe extern "C" fn() -> c_ulong,
        OPENSSL_init_ssl: unsafe extern "C" fn(u64, *const c_void) -> c_int,
        // AWS-LC's own version ("1.18.0"); its OpenSSL_version says "OpenSSL 1.1.1 (compatible; AWS-LC ..)".
        awslc_version_string: unsafe extern "C" fn() -> *const c_char,
        // The controls: OpenSSL's macros over SSL_ctrl / SSL_CTX_ctrl where those are exported,
        // else the real functions of the BoringSSL family (family.rs says which one is used).
        SSL_CTX_ctrl: unsafe extern "C" fn(*mut SslCtx, c_int, c_long, *mut c_void) -> c_long,
        SSL_ctrl: unsafe extern "C" fn(*mut Ssl, c_int, c_long, *mut c_void) -> c_long,
        // 1.1.1 / 3.x: unsigned long / uint64_t; BoringSSL, AWS-LC: uint32_t (see family.rs).
        SSL_CTX_set_options: unsafe extern "C" fn(*mut SslCtx, u64) -> u64,
        SSL_CTX_set_min_proto_version: unsafe extern "C" fn(*mut SslCtx, u16) -> c_int,
        SSL_CTX_set_max_proto_version: unsafe extern "C" fn(*mut SslCtx, u16) -> c_int,
        SSL_set_mode: unsafe extern "C" fn(*mut Ssl, u32) -> u32,
        SSL_clear_mode: unsafe extern "C" fn(*mut Ssl, u32) -> u32,
        SSL_get_mode: unsafe extern "C" fn(*const Ssl) -> u32,
        SSL_set_max_send_fragment: unsafe extern "C" fn(*mut Ssl, usize) -> c_int,
        SSL_set_tlsext_host_name: unsafe extern "C" fn(*mut Ssl, *const c_char) -> c_int,
        SSL_CTX_set_num_tickets: unsafe extern "C" fn(*mut SslCtx, usize) -> c_int,
        // BoringSSL family: contexts that differ only in their ticket count share ticket keys.
        SSL_CTX_get_tlsext_ticket_keys: unsafe extern "C" fn(*mut SslCtx, *mut c_void, usize) -> c_int,
        SSL_CTX_set_tlsext_ticket_keys: unsafe extern "C" fn(*mut SslCtx, *const c_void, usize) -> c_int,
        // BoringSSL family: renegotiation is a mode (never / freely), and a client's verify
        // preferences leave Ed25519 out unless set.
        SSL_set_renegotiate_mode: unsafe extern "C" fn(*mut Ssl, c_int),
        SSL_CTX_set_verify_algorithm_prefs: unsafe extern "C" fn(*mut SslCtx, *const u16, usize) -> c_int,
        SSL_write_ex: unsafe extern "C" fn(*mut Ssl, *const c_void, usize, *mut usize) -> c_int,
        SSL_key_update: unsafe extern "C" fn(*mut Ssl, c_int) -> c_int,
        SSL_renegotiate: unsafe extern "C" fn(*mut Ssl) -> c_int,
        SSL_new_session_ticket: unsafe extern "C" fn(*mut Ssl) -> c_int,
        SSL_set_tlsext_max_fragment_length: unsafe extern "C" fn(*mut Ssl, u8) -> c_int,
        SSL_set_block_padding: unsafe extern "C" fn(*mut Ssl, usize) -> c_int,
        // TLS 1.3 early data and the session it resumes (1.1.1+).
        SSL_set_max_early_data: unsafe extern "C" fn(*mut Ssl, u32) -> c_int,
        SSL_write_early_data: unsafe extern "C" fn(*mut Ssl, *const c_void, usize, *mut usize) -> c_int,
        SSL_read_early_data: unsafe extern "C" fn(*mut Ssl, *mut c_void, usize, *mut usize) -> c_int,
        SSL_get1_session: unsafe extern "C" fn(*mut Ssl) -> *mut SslSession,
        SSL_set_session: unsafe extern "C" fn(*mut Ssl, *mut SslSession) -> c_int,
        SSL_SESSION_is_resumable: unsafe extern "C" fn(*const SslSession) -> c_int,
        SSL_SESSION_free: unsafe extern "C" fn(*mut SslSession),
        SSL_SESSION_dup: unsafe extern "C" fn(*mut SslSession) -> *mut SslSession,
        SSL_session_reused: unsafe extern "C" fn(*const Ssl) -> c_int,
        SSL_set_shutdown: unsafe extern "C" fn(*mut Ssl, c_int),
        SSL_set_num_tickets: unsafe extern "C" fn(*mut Ssl, usize) -> c_int,
        // Key exchange groups: SSL_ctrl(SSL_CTRL_SET_GROUPS_LIST), else the BoringSSL family's
        // real function.
        SSL_set1_groups_list: unsafe extern "C" fn(*mut Ssl, *const c_char) -> c_int,
        // What a peer's re-sealed record needs (`reseal.rs`): the write keys' inputs.
        SSL_get_session: unsafe extern "C" fn(*const Ssl) -> *mut SslSession,
        SSL_SESSION_get_master_key: unsafe extern "C" fn(*const SslSession, *mut c_uchar, usize) -> usize,
        SSL_get_client_random: unsafe extern "C" fn(*const Ssl, *mut c_uchar, usize) -> usize,
        SSL_get_server_random: unsafe extern "C" fn(*const Ssl, *mut c_uchar, usize) -> usize,
        SSL_get_current_cipher: unsafe extern "C" fn(*const Ssl) -> *const SslCipher,
        SSL_CIPHER_get_protocol_id: unsafe extern "C" fn(*const SslCipher) -> u16,
        SSL_CTX_set_keylog_callback: unsafe extern "C" fn(*mut SslCtx, Option<KeylogCallback>),
        SSL_version: unsafe extern "C" fn(*const Ssl) -> c_int,
        SSL_is_server: unsafe extern "C" fn(*const Ssl) -> c_int,
        // Host name check: SSL_set1_host (1.1.0+), else the verify parameter's.
        SSL_set1_host: unsafe extern "C" fn(*mut Ssl, *const c_char) -> c_int,
        SSL_get0_param: unsafe extern "C" fn(*mut Ssl) -> *mut VerifyParam,
        X509_VERIFY_PARAM_set1_host: unsafe extern "C" fn(*mut VerifyParam, *const c_char, usize) -> c_int,
    }
}
