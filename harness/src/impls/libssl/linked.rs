//! The linked OpenSSL's entry points, for the same driver as a loaded library's: the symbol
//! table filled from the OpenSSL that openssl-sys links (the system's, or the vendored
//! build), so the `openssl` implementation is one instance of the libssl-ABI driver.
//!
//! Each name is declared here only to take its address (`fn()`: the table gives it its real
//! C type, `symbols.rs`); the linker resolves it in the linked libssl/libcrypto, shared or
//! static. The list is every entry point of the table that OpenSSL 3.x exports: the others
//! (BoringSSL's and AWS-LC's own functions, the controls OpenSSL has only as macros over
//! `SSL_ctrl`, `SSLeay_version`) are not there, as for a loaded OpenSSL 3.x.

use std::ffi::c_void;

macro_rules! linked {
    ($($n:ident),* $(,)?) => {
        // Declared with a placeholder type, for the address only: openssl-sys declares some
        // of the same names with their real signatures.
        #[allow(clashing_extern_declarations, dead_code)]
        mod decl {
            extern "C" {
                $(pub fn $n();)*
            }
        }

        /// The address of a linked entry point, by name.
        pub fn lookup(name: &str) -> Option<*const c_void> {
            match name {
                $(stringify!($n) => Some(decl::$n as *const c_void),)*
                _ => None,
            }
        }
    };
}

linked! {
    TLS_method,
    SSL_CTX_new,
    SSL_CTX_free,
    SSL_CTX_use_certificate,
    SSL_CTX_use_PrivateKey,
    SSL_CTX_check_private_key,
    SSL_CTX_get_cert_store,
    SSL_CTX_set_verify,
    SSL_new,
    SSL_free,
    SSL_set_bio,
    SSL_set_connect_state,
    SSL_set_accept_state,
    SSL_set_cipher_list,
    SSL_do_handshake,
    SSL_write,
    SSL_read,
    SSL_get_error,
    SSL_shutdown,
    SSL_is_init_finished,
    BIO_meth_new,
    BIO_meth_set_write,
    BIO_meth_set_read,
    BIO_meth_set_ctrl,
    BIO_new,
    BIO_set_init,
    BIO_free,
    BIO_set_flags,
    BIO_clear_flags,
    ERR_get_error,
    ERR_clear_error,
    ERR_peek_last_error,
    ERR_reason_error_string,
    d2i_X509,
    X509_free,
    X509_STORE_add_cert,
    d2i_AutoPrivateKey,
    EVP_PKEY_free,
    OpenSSL_version,
    OpenSSL_version_num,
    OPENSSL_init_ssl,
    SSL_CTX_ctrl,
    SSL_ctrl,
    SSL_CTX_set_options,
    SSL_CTX_set_num_tickets,
    SSL_write_ex,
    SSL_key_update,
    SSL_renegotiate,
    SSL_new_session_ticket,
    SSL_set_tlsext_max_fragment_length,
    SSL_set_block_padding,
    SSL_set_max_early_data,
    SSL_write_early_data,
    SSL_read_early_data,
    SSL_get1_session,
    SSL_set_session,
    SSL_SESSION_is_resumable,
    SSL_SESSION_free,
    SSL_SESSION_dup,
    SSL_session_reused,
    SSL_set_shutdown,
    SSL_set_num_tickets,
    SSL_set1_host,
    SSL_get0_param,
    X509_VERIFY_PARAM_set1_host,
    SSL_get_session,
    SSL_SESSION_get_master_key,
    SSL_get_client_random,
    SSL_get_server_random,
    SSL_get_current_cipher,
    SSL_CIPHER_get_protocol_id,
    SSL_CTX_set_keylog_callback,
    SSL_version,
    SSL_is_server,
}
