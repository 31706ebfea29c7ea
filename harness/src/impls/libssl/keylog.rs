//! TLS 1.3 application traffic secrets, from the library's key log callback
//! (`SSL_CTX_set_keylog_callback`, set on every context): what a peer's re-sealed record needs
//! (`reseal.rs`). Kept per connection (by its `SSL*`) until the connection is freed; only the
//! first application secrets are kept (later ones follow from them), nothing else of the log.

use std::collections::HashMap;
use std::ffi::{c_char, CStr};
use std::sync::Mutex;

use super::symbols::Ssl;

/// A connection's first application traffic secrets: the client's and the server's.
#[derive(Clone, Default)]
pub struct Secrets {
    pub client: Option<Vec<u8>>,
    pub server: Option<Vec<u8>>,
}

fn table() -> &'static Mutex<HashMap<usize, Secrets>> {
    static TABLE: std::sync::OnceLock<Mutex<HashMap<usize, Secrets>>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| Mutex::new(HashMap::new()))
}

/// The callback every context gets: keeps the two application traffic secret lines.
///
/// # Safety
/// Called by the library with a live `SSL*` and a NUL-terminated line (or null).
pub unsafe extern "C" fn callback(ssl: *const Ssl, line: *const c_char) {
    if line.is_null() {
        return;
    }
    // SAFETY: the library passes a NUL-terminated line that lives for the call.
    let line = unsafe { CStr::from_ptr(line) }.to_string_lossy();
    let mut parts = line.split(' ');
    let (Some(label), Some(_random), Some(secret)) = (parts.next(), parts.next(), parts.next())
    else {
        return;
    };
    let client = match label {
        "CLIENT_TRAFFIC_SECRET_0" => true,
        "SERVER_TRAFFIC_SECRET_0" => false,
        _ => return,
    };
    let Ok(bytes) = secret.parse::<crate::record::Hex>() else {
        return;
    };
    let mut t = table().lock().unwrap_or_else(|e| e.into_inner());
    let e = t.entry(ssl as usize).or_default();
    if client {
        e.client = Some(bytes.0);
    } else {
        e.server = Some(bytes.0);
    }
}

/// What the log gave for `ssl`.
pub fn secrets(ssl: *const Ssl) -> Secrets {
    let t = table().lock().unwrap_or_else(|e| e.into_inner());
    t.get(&(ssl as usize)).cloned().unwrap_or_default()
}

/// Forgets `ssl` (it is being freed; its address may be reused).
pub fn forget(ssl: *const Ssl) {
    table()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&(ssl as usize));
}
