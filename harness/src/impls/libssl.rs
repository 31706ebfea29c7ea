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
//! The network side is a BIO pair created by the loaded libcrypto (`BIO_new_bio_pair`): the
//! `SSL*` reads and writes one half, the driver moves bytes between the other half and the
//! harness's [`Endpoint`], inside the library's own BIO calls (a `BIO_set_callback_ex` on the
//! SSL's half), so that the transport sees exactly what it sees from the linked OpenSSL's
//! stream BIO: one endpoint write per `BIO_write` (what the endpoint did not take is handed
//! back, and the library sends it again), one endpoint read of at most the asked length per
//! `BIO_read`; `WouldBlock` becomes the BIO's retry flag, EOF a 0 return, other errors -1.
//!
//! Calls mirror `openssl.rs` one for one (same context set-up, same error-queue handling, same
//! classification), so a library identical to the linked one agrees with it on every run.
//!
//! All `unsafe` of this driver lives in this file and in `libssl/symbols.rs`; each block says
//! why it is sound.

mod symbols;

use std::any::Any;
use std::cell::Cell;
use std::collections::HashMap;
use std::ffi::{c_char, c_int, c_long, c_void, CStr, CString};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use libloading::os::unix::Library;

use self::symbols::*;
use crate::certs;
use crate::contract::{
    Call, ConnConfig, Connection, ImplInfo, Implementation, LibraryInfo, Modes, Outcome, Role,
    Session, SetupError, Tls, MAX_EARLY_DATA,
};
use crate::transport::Endpoint;

/// What `--impl` names start with.
pub const PREFIX: &str = "libssl:";

/// Each half of the BIO pair buffers this much: more than any single `BIO_write` a TLS library
/// makes (a record, or a multi-block flight of four), so the pair never cuts a write short and
/// the endpoint sees the library's write sizes unchanged.
const PAIR_BUFFER: usize = 1 << 18;

/// Test support: a comma-separated list of symbols the driver takes as not exported, so that
/// the `skip` and refusal paths can be shown with a complete library (`harness/tests/libssl.rs`).
pub const HIDE_ENV: &str = "SSLWRITE_LIBSSL_HIDE";

/// Whether `spec` names a run-time loaded library (`libssl:PATH[@label]`).
pub fn is_spec(spec: &str) -> bool {
    spec.starts_with(PREFIX)
}

/// `libssl:PATH@label` → (`PATH`, `label`); without `@label` the label is the spec itself.
pub fn parse_spec(spec: &str) -> Result<(String, String), String> {
    let rest = spec
        .strip_prefix(PREFIX)
        .ok_or_else(|| format!("{spec:?} is not libssl:PATH[@label]"))?;
    let (path, label) = match rest.rsplit_once('@') {
        Some((p, l)) if !l.is_empty() && !l.contains('/') => (p, l.to_string()),
        _ => (rest, spec.to_string()),
    };
    if path.is_empty() {
        return Err(format!(
            "{spec:?}: which library? (libssl:PATH[@label], e.g. libssl:libssl.so.3@system)"
        ));
    }
    Ok((path.to_string(), label))
}

/// The column name `spec` gets in reports.
pub fn label(spec: &str) -> String {
    parse_spec(spec).map_or_else(|_| spec.to_string(), |(_, l)| l)
}

/// A loaded library: its handles (never unloaded) and its entry points.
struct Loaded {
    sym: Symbols,
    /// `OpenSSL_version_num()`, 0 if not exported.
    version_num: u64,
    label: String,
    info: LibraryInfo,
    version: String,
    /// Never closed: function pointers into them live in contexts, connections and BIO
    /// callbacks until the process ends (and OpenSSL's libraries are NODELETE anyway).
    _ssl: std::mem::ManuallyDrop<Library>,
    _crypto: std::mem::ManuallyDrop<Option<Library>>,
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
}

/// A libssl-compatible library as an implementation of the write contract.
pub struct LibsslImpl {
    lib: Arc<Loaded>,
    contexts: Mutex<HashMap<CtxKey, CtxPtr>>,
}

/// `dlerror()`'s message, if there is one.
fn dl_error() -> String {
    // SAFETY: dlerror returns null or a NUL-terminated string valid until the next dl* call on
    // this thread; it is copied at once.
    let p = unsafe { libc::dlerror() };
    if p.is_null() {
        "unknown error".into()
    } else {
        // SAFETY: non-null, NUL-terminated (above).
        unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
    }
}

/// The file a symbol was loaded from (`dladdr`, made absolute), or "" when the loader does
/// not say.
fn file_of(addr: *const c_void) -> String {
    // SAFETY: Dl_info is plain data; dladdr fills it for any address and returns 0 when the
    // address is in no loaded object; dli_fname, when set, is a NUL-terminated string owned by
    // the loader for as long as the object stays loaded (for ever here).
    unsafe {
        let mut info: libc::Dl_info = std::mem::zeroed();
        if libc::dladdr(addr, &mut info) == 0 || info.dli_fname.is_null() {
            return String::new();
        }
        let name = CStr::from_ptr(info.dli_fname)
            .to_string_lossy()
            .into_owned();
        std::fs::canonicalize(&name).map_or(name, |p| p.display().to_string())
    }
}

/// The libcrypto beside `path` (same folder, `libssl` → `libcrypto` in the file name).
fn crypto_beside(path: &str) -> Option<PathBuf> {
    let p = Path::new(path);
    let dir = p.parent().filter(|d| !d.as_os_str().is_empty())?;
    let name = p.file_name()?.to_str()?;
    if !name.contains("libssl") {
        return None;
    }
    let crypto = dir.join(name.replacen("libssl", "libcrypto", 1));
    crypto.exists().then_some(crypto)
}

fn cstring(s: &str) -> Result<CString, String> {
    CString::new(s).map_err(|_| format!("{s:?} contains a NUL byte"))
}

/// Opens `path` (and `crypto` first) in a link namespace of their own.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn open_isolated(
    path: &str,
    crypto: Option<&Path>,
) -> Result<(Library, Option<Library>, String), String> {
    let flags = libc::RTLD_NOW | libc::RTLD_LOCAL;
    let mut lmid: libc::Lmid_t = libc::LM_ID_NEWLM;
    let crypto_lib = match crypto {
        Some(c) => {
            let name = cstring(&c.to_string_lossy())?;
            // SAFETY: a NUL-terminated file name; loading runs the library's initialisers,
            // which is what loading a libcrypto is for; the new namespace shares nothing with
            // this one.
            let h = unsafe { libc::dlmopen(lmid, name.as_ptr(), flags) };
            if h.is_null() {
                return Err(format!("cannot load {}: {}", c.display(), dl_error()));
            }
            // SAFETY: `h` is a live handle; RTLD_DI_LMID writes one Lmid_t.
            let got = unsafe {
                libc::dlinfo(
                    h,
                    libc::RTLD_DI_LMID,
                    (&mut lmid as *mut libc::Lmid_t).cast(),
                )
            };
            if got != 0 {
                return Err(format!("dlinfo({}): {}", c.display(), dl_error()));
            }
            // SAFETY: `h` came from dlmopen and is handed over to the Library (never closed).
            Some(unsafe { Library::from_raw(h) })
        }
        None => None,
    };
    let name = cstring(path)?;
    // SAFETY: as above; in the namespace of the libcrypto just loaded, if any, so that the
    // libssl's libcrypto dependency is that one.
    let h = unsafe { libc::dlmopen(lmid, name.as_ptr(), flags) };
    if h.is_null() {
        return Err(format!("cannot load {path}: {}", dl_error()));
    }
    // SAFETY: as above.
    let ssl = unsafe { Library::from_raw(h) };
    Ok((
        ssl,
        crypto_lib,
        "dlmopen: a link namespace of its own".into(),
    ))
}

/// Where there is no `dlmopen`: `dlopen(RTLD_LOCAL)` (a library of the same soname as the linked
/// OpenSSL is then the linked one).
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn open_isolated(
    path: &str,
    crypto: Option<&Path>,
) -> Result<(Library, Option<Library>, String), String> {
    let flags = libc::RTLD_NOW | libc::RTLD_LOCAL;
    let open = |p: &str| {
        // SAFETY: loading runs the library's initialisers, which is what loading is for.
        unsafe { Library::open(Some(p), flags) }.map_err(|e| format!("cannot load {p}: {e}"))
    };
    let crypto_lib = match crypto {
        Some(c) => Some(open(&c.to_string_lossy())?),
        None => None,
    };
    Ok((
        open(path)?,
        crypto_lib,
        "dlopen: shared with the process".into(),
    ))
}

/// A NUL-terminated C string from the library, copied.
///
/// # Safety
/// `p` is null or points to a NUL-terminated string that stays valid during the call.
unsafe fn c_text(p: *const c_char) -> String {
    if p.is_null() {
        String::new()
    } else {
        // SAFETY: the caller's guarantee.
        unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
    }
}

/// Thread-specific-data keys: the one thing two C libraries share across link namespaces.
///
/// A `dlmopen`ed namespace has its own libc, and so its own table of `pthread_key_t`s, but the
/// values live in the thread descriptor both libcs use: key 3 of the linked OpenSSL and key 3
/// of the loaded one are the same slot, and each then frees the other's per-thread error state
/// (a `double free or corruption` within a few runs). So the two are given disjoint ranges:
/// the linked OpenSSL is initialised first (its keys made), the new namespace's libc burns
/// indices up to [`KEY_GAP`] past the linked side's next key before the loaded library makes
/// any, and after the loaded library's first use this namespace's libc burns indices up to
/// [`KEY_GAP`] past the loaded side's next key. The burnt keys are never set. Either side may
/// still make up to `KEY_GAP` keys later without meeting the other. With OpenSSL's handful of
/// keys on each side everything stays below 32, the keys glibc keeps inside the thread
/// descriptor (no second-level blocks allocated by one libc and freed by the other).
const KEY_GAP: libc::pthread_key_t = 8;

type KeyCreate = unsafe extern "C" fn(
    *mut libc::pthread_key_t,
    Option<unsafe extern "C" fn(*mut c_void)>,
) -> c_int;
type KeyDelete = unsafe extern "C" fn(libc::pthread_key_t) -> c_int;

/// A libc's key functions: this namespace's, or those `lib`'s dependencies resolve to.
fn key_functions(lib: Option<&Library>) -> Result<(KeyCreate, KeyDelete), String> {
    match lib {
        None => Ok((libc::pthread_key_create, libc::pthread_key_delete)),
        Some(lib) => {
            // SAFETY: these are libc's pthread_key_create/delete, with libc's signatures; the
            // pointers stay valid while the library is loaded (for ever).
            unsafe {
                let create = lib.get::<KeyCreate>(b"pthread_key_create\0");
                let delete = lib.get::<KeyDelete>(b"pthread_key_delete\0");
                match (create, delete) {
                    (Ok(c), Ok(d)) => Ok((*c, *d)),
                    _ => Err("the loaded library's libc has no pthread_key_create".into()),
                }
            }
        }
    }
}

/// The next key index a libc hands out.
fn next_key((create, delete): (KeyCreate, KeyDelete)) -> Result<libc::pthread_key_t, String> {
    let mut k: libc::pthread_key_t = 0;
    // SAFETY: a valid out-pointer and no destructor; the key is deleted at once.
    unsafe {
        if create(&mut k, None) != 0 {
            return Err("no thread-specific-data key left".into());
        }
        delete(k);
    }
    Ok(k)
}

/// Makes (and leaks) keys in one libc until its next one is at least `at`.
fn burn_keys_until(
    (create, _): (KeyCreate, KeyDelete),
    at: libc::pthread_key_t,
) -> Result<(), String> {
    loop {
        let mut k: libc::pthread_key_t = 0;
        // SAFETY: as in `next_key`; the key is kept (never set) so the index stays taken.
        if unsafe { create(&mut k, None) } != 0 {
            return Err("no thread-specific-data key left".into());
        }
        if k + 1 >= at {
            return Ok(());
        }
    }
}

/// Before the loaded library makes its keys: the linked OpenSSL makes all of its own (a
/// context, a connection, the error queue, the random generator), then the new namespace's
/// libc skips past them.
fn keys_before_first_use(loaded: &Library) -> Result<(), String> {
    openssl::init();
    if let Ok(b) = openssl::ssl::SslContext::builder(openssl::ssl::SslMethod::tls()) {
        let ctx = b.build();
        let _ = openssl::ssl::Ssl::new(&ctx);
    }
    let mut byte = [0u8; 1];
    let _ = openssl::rand::rand_bytes(&mut byte);
    let _ = openssl::error::ErrorStack::get();
    let here = next_key(key_functions(None)?)?;
    let there = key_functions(Some(loaded))?;
    let start = next_key(there)?;
    burn_keys_until(there, start.max(here + KEY_GAP))
}

/// After the loaded library's first use: this namespace's libc skips past its keys.
fn keys_after_first_use(loaded: &Library) -> Result<(), String> {
    let there = next_key(key_functions(Some(loaded))?)?;
    let here = key_functions(None)?;
    burn_keys_until(here, there + KEY_GAP)
}

/// What makes a library create its per-thread keys: a context, a connection, the error queue.
fn first_use(s: &Symbols) {
    // SAFETY: plain constructors and destructors of the loaded library, each result freed.
    unsafe {
        let ctx = (s.SSL_CTX_new)((s.TLS_method)());
        if !ctx.is_null() {
            let ssl = (s.SSL_new)(ctx);
            if !ssl.is_null() {
                (s.SSL_free)(ssl);
            }
            (s.SSL_CTX_free)(ctx);
        }
        (s.ERR_get_error)();
        (s.ERR_clear_error)();
    }
}

/// The optional entry points `sym` lacks, leaving out those whose alternative it has
/// (`SSLeay_version` beside `OpenSSL_version`, the verify-parameter pair beside `SSL_set1_host`).
fn missing_symbols(sym: &Symbols) -> Vec<String> {
    let served = |name: &str| match name {
        "SSLeay_version" => sym.OpenSSL_version.is_some(),
        "OpenSSL_version" => sym.SSLeay_version.is_some(),
        "SSL_get0_param" | "X509_VERIFY_PARAM_set1_host" => sym.SSL_set1_host.is_some(),
        _ => false,
    };
    sym.missing_optional()
        .into_iter()
        .filter(|n| !served(n))
        .map(String::from)
        .collect()
}

impl Loaded {
    fn open(spec: &str) -> Result<Loaded, String> {
        let (path, label) = parse_spec(spec)?;
        let crypto_path = crypto_beside(&path);
        let (ssl, crypto, namespace) = open_isolated(&path, crypto_path.as_deref())?;
        let mut libs: Vec<&Library> = vec![&ssl];
        if let Some(c) = &crypto {
            libs.push(c);
        }
        let hidden: Vec<String> = std::env::var(HIDE_ENV)
            .unwrap_or_default()
            .split(',')
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty())
            .collect();
        // SAFETY: the library claims the OpenSSL libssl ABI (that is what --impl libssl: means);
        // the signatures in symbols.rs are that ABI's.
        let sym = unsafe { Symbols::load(&libs, &hidden) }.map_err(|missing| {
            format!(
                "{path}: not usable as a libssl: it does not export {} (essential for the driver)",
                missing.join(", ")
            )
        })?;
        let Some(version_fn) = sym.OpenSSL_version.or(sym.SSLeay_version) else {
            return Err(format!(
                "{path}: not usable as a libssl: it exports neither OpenSSL_version nor SSLeay_version"
            ));
        };
        let own_namespace = namespace.starts_with("dlmopen");
        if own_namespace {
            keys_before_first_use(&ssl)?;
        }
        if let Some(init) = sym.OPENSSL_init_ssl {
            // SAFETY: OPENSSL_init_ssl(opts, NULL) with documented option bits; it is what the
            // openssl crate calls on the linked library before first use.
            unsafe {
                init(
                    OPENSSL_INIT_LOAD_SSL_STRINGS
                        | OPENSSL_INIT_LOAD_CRYPTO_STRINGS
                        | OPENSSL_INIT_NO_ATEXIT,
                    std::ptr::null(),
                )
            };
        }
        // SAFETY: OpenSSL_version(t) returns a static NUL-terminated string for any t.
        let text = |t: c_int| unsafe { c_text(version_fn(t)) };
        let version = text(OPENSSL_VERSION);
        // SAFETY: OpenSSL_version_num() takes nothing and returns a number.
        #[allow(clippy::unnecessary_cast)] // c_ulong is 32 bits on some targets
        let version_num = sym.OpenSSL_version_num.map_or(0, |f| unsafe { f() } as u64);
        let abi = match version_num >> 28 {
            0 => "unknown (no OpenSSL_version_num)".to_string(),
            1 => "OpenSSL 1.1 libssl ABI".to_string(),
            n => format!("OpenSSL {n}.x libssl ABI"),
        };
        let build = [
            OPENSSL_CFLAGS,
            OPENSSL_BUILT_ON,
            OPENSSL_PLATFORM,
            OPENSSL_DIR,
        ]
        .into_iter()
        .map(text)
        .filter(|s| !s.is_empty() && !s.starts_with("not available"))
        .collect();
        if own_namespace {
            first_use(&sym);
            keys_after_first_use(&ssl)?;
        }
        let info = LibraryInfo {
            path: path.clone(),
            file: file_of(sym.SSL_new as *const c_void),
            libcrypto: file_of(sym.ERR_get_error as *const c_void),
            version_number: format!("{version_num:#010x}"),
            abi,
            build,
            loaded: namespace,
            missing_symbols: missing_symbols(&sym),
        };
        Ok(Loaded {
            sym,
            version_num,
            label,
            info,
            version,
            _ssl: std::mem::ManuallyDrop::new(ssl),
            _crypto: std::mem::ManuallyDrop::new(crypto),
        })
    }

    /// `ERR_GET_REASON` of this library's ABI.
    fn reason_code(&self, e: u64) -> u64 {
        if self.version_num >> 28 >= 3 {
            if e & (1 << 31) != 0 {
                e & 0x7fff_ffff
            } else {
                e & 0x7f_ffff
            }
        } else {
            e & 0xfff
        }
    }

    /// Drains this thread's error queue (in the loaded libcrypto) into reason strings.
    fn drain_errors(&self) -> Vec<String> {
        let mut out = Vec::new();
        loop {
            // SAFETY: ERR_get_error pops this thread's queue; no arguments.
            let e = unsafe { (self.sym.ERR_get_error)() };
            if e == 0 {
                return out;
            }
            // SAFETY: ERR_reason_error_string returns null or a static string.
            let reason = unsafe { c_text((self.sym.ERR_reason_error_string)(e)) };
            if reason.is_empty() {
                #[allow(clippy::unnecessary_cast)] // c_ulong is 32 bits on some targets
                let code = self.reason_code(e as u64);
                out.push(format!("reason {code}"));
            } else {
                out.push(reason);
            }
        }
    }

    /// Empties this thread's error queue (peeking first: it is nearly always empty, and
    /// ERR_clear_error walks every slot).
    fn clear_errors(&self) {
        // SAFETY: both only touch this thread's error queue.
        unsafe {
            if (self.sym.ERR_peek_last_error)() != 0 {
                (self.sym.ERR_clear_error)()
            }
        }
    }

    fn missing(&self, symbol: &str) -> String {
        format!("{symbol} is not exported by {}", self.info.path)
    }

    fn failed(&self, what: &str) -> SetupError {
        let errors = self.drain_errors();
        SetupError::Failed(format!("{} {what}: {}", self.label, errors.join("; ")))
    }
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

    fn context(&self, key: CtxKey) -> Result<*mut SslCtx, SetupError> {
        let mut cache = self.contexts.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(ctx) = cache.get(&key) {
            return Ok(ctx.0);
        }
        let ctx = self.build_context(key)?;
        cache.insert(key, CtxPtr(ctx));
        Ok(ctx)
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
        // SAFETY: SSL_CTX_set_min/max_proto_version are SSL_CTX_ctrl with a version in larg
        // and no pointer.
        let versions = unsafe {
            (s.SSL_CTX_ctrl)(ctx, SSL_CTRL_SET_MIN_PROTO_VERSION, v, std::ptr::null_mut()) == 1
                && (s.SSL_CTX_ctrl)(ctx, SSL_CTRL_SET_MAX_PROTO_VERSION, v, std::ptr::null_mut())
                    == 1
        };
        if !versions {
            return fail("protocol version");
        }
        match key.role {
            Role::Server => {
                let cert = &pki.server_cert_der;
                // SAFETY: the DER buffer is valid for its length during the call (copied).
                let ok = unsafe {
                    (s.SSL_CTX_use_certificate_ASN1)(ctx, cert.len() as c_int, cert.as_ptr())
                };
                if ok != 1 {
                    return fail("certificate");
                }
                let der = &pki.server_key_der;
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
        // As in openssl.rs: stateful tickets (fixed record lengths), stateless ones for
        // resuming runs.
        let mut opts = if key.resume { 0 } else { SSL_OP_NO_TICKET };
        if key.no_renegotiation {
            opts |= SSL_OP_NO_RENEGOTIATION;
        }
        if key.allow_client_renegotiation {
            opts |= SSL_OP_ALLOW_CLIENT_RENEGOTIATION;
        }
        if key.no_encrypt_then_mac {
            opts |= SSL_OP_NO_ENCRYPT_THEN_MAC;
        }
        match s.SSL_CTX_set_options {
            // SAFETY: SSL_CTX_set_options ORs the bits into the context's options.
            Some(f) => unsafe {
                f(ctx, opts);
            },
            // SAFETY: 1.1.1's SSL_CTX_set_options macro: SSL_CTX_ctrl(SSL_CTRL_OPTIONS), larg
            // the bits, no pointer.
            None => unsafe {
                (s.SSL_CTX_ctrl)(ctx, SSL_CTRL_OPTIONS, opts as c_long, std::ptr::null_mut());
            },
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
        let ctx = self.context(CtxKey {
            role: cfg.role,
            tls: cfg.tls,
            no_renegotiation: cfg.no_renegotiation,
            allow_client_renegotiation: cfg.allow_client_renegotiation,
            no_encrypt_then_mac: cfg.no_encrypt_then_mac,
            resume: cfg.resume,
        })?;
        lib.clear_errors();
        // SAFETY: `ctx` is a live, configured context (cached, never freed before the impl).
        let ssl = unsafe { (s.SSL_new)(ctx) };
        if ssl.is_null() {
            return Err(lib.failed("SSL_new"));
        }
        let (mut internal, mut network) = (std::ptr::null_mut(), std::ptr::null_mut());
        // SAFETY: two out-pointers; on success both BIOs are ours, paired, PAIR_BUFFER each.
        let paired =
            unsafe { (s.BIO_new_bio_pair)(&mut internal, PAIR_BUFFER, &mut network, PAIR_BUFFER) };
        if paired != 1 {
            let e = lib.failed("BIO_new_bio_pair");
            // SAFETY: `ssl` is ours and has no BIO yet.
            unsafe { (s.SSL_free)(ssl) };
            return Err(e);
        }
        // SAFETY: the callback is a plain function that finds its state through CURRENT (set
        // only around this driver's calls); SSL_set_bio hands the internal half (one reference
        // for both directions) to the SSL, which frees it with itself.
        unsafe {
            (s.BIO_set_callback_ex)(internal, Some(bio_callback));
            (s.SSL_set_bio)(ssl, internal, internal);
        }
        let mut conn = LibsslConn {
            lib: lib.clone(),
            ssl,
            state: Box::new(BioState {
                endpoint: io,
                internal,
                network,
                scratch: vec![0; PAIR_BUFFER],
                panic: None,
                lib: lib.clone(),
            }),
            last_ret: 1,
            keep_queue: false,
        };
        if cfg.role == Role::Client {
            let host = cstring(certs::SERVER_NAME).map_err(SetupError::Failed)?;
            // SAFETY: SSL_set_tlsext_host_name is SSL_ctrl(SSL_CTRL_SET_TLSEXT_HOSTNAME) with
            // the name type in larg and a NUL-terminated name (copied) in parg.
            let sni = unsafe {
                (s.SSL_ctrl)(
                    ssl,
                    SSL_CTRL_SET_TLSEXT_HOSTNAME,
                    TLSEXT_NAMETYPE_HOST_NAME,
                    host.as_ptr() as *mut c_void,
                )
            };
            if sni != 1 {
                return Err(lib.failed("SNI"));
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
                return Err(lib.failed("verify host"));
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
            // SAFETY: `ssl` is live; the session comes from this library and the SSL takes its
            // own reference to it.
            if unsafe { f(ssl, sess.ptr) } != 1 {
                return Err(lib.failed("SSL_set_session"));
            }
        }
        if let (Some(n), Role::Server) = (cfg.tls13_tickets, cfg.role) {
            let Some(f) = s.SSL_set_num_tickets else {
                return Err(SetupError::Unsupported(lib.missing("SSL_set_num_tickets")));
            };
            // SAFETY: `ssl` is live; the call sets a count.
            if unsafe { f(ssl, usize::from(n)) } != 1 {
                return Err(lib.failed("SSL_set_num_tickets"));
            }
        }
        if cfg.early_data && cfg.role == Role::Server {
            let Some(f) = s.SSL_set_max_early_data else {
                return Err(SetupError::Unsupported(
                    lib.missing("SSL_set_max_early_data"),
                ));
            };
            // SAFETY: `ssl` is live.
            if unsafe { f(ssl, MAX_EARLY_DATA) } != 1 {
                return Err(lib.failed("SSL_set_max_early_data"));
            }
        }
        if let Some(c) = &cfg.cipher {
            let list = cstring(c).map_err(SetupError::Failed)?;
            // SAFETY: a NUL-terminated cipher list, parsed and not kept.
            if unsafe { (s.SSL_set_cipher_list)(ssl, list.as_ptr()) } != 1 {
                let errors = lib.drain_errors();
                return Err(SetupError::Unsupported(format!(
                    "{} refused cipher list {c:?}: {}",
                    lib.label,
                    errors.join("; ")
                )));
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
                return Err(lib.failed("max_fragment_length"));
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
                return Err(lib.failed("block padding"));
            }
        }
        if let Some(frag) = cfg.max_send_fragment {
            // SAFETY: SSL_CTRL_SET_MAX_SEND_FRAGMENT reads only larg.
            let ok = unsafe {
                (s.SSL_ctrl)(
                    ssl,
                    SSL_CTRL_SET_MAX_SEND_FRAGMENT,
                    c_long::from(frag),
                    std::ptr::null_mut(),
                )
            };
            if ok != 1 {
                return Err(SetupError::Unsupported(format!(
                    "{} refused max send fragment {frag} (allowed: 512..=16384)",
                    lib.label
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
        lib.clear_errors();
        Ok(Box::new(conn))
    }
}

/// What the BIO callback works with: the harness's endpoint and the pair's network half.
struct BioState {
    endpoint: Endpoint,
    /// The SSL's half (the callback acts only on it).
    internal: *mut Bio,
    /// The driver's half.
    network: *mut Bio,
    scratch: Vec<u8>,
    /// A panic caught in the endpoint (the pump runs the peer), re-raised after the C call.
    panic: Option<Box<dyn Any + Send>>,
    lib: Arc<Loaded>,
}

thread_local! {
    /// The state of the connection whose library call is running on this thread.
    static CURRENT: Cell<*mut BioState> = const { Cell::new(std::ptr::null_mut()) };
}

/// Sets [`CURRENT`] for the duration of one library call (and restores it after).
struct Entered(*mut BioState);

impl Entered {
    fn new(state: &mut BioState) -> Entered {
        Entered(CURRENT.with(|c| c.replace(state)))
    }
}

impl Drop for Entered {
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(self.0));
    }
}

fn retriable(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::NotConnected
    )
}

/// The `BIO_callback_fn_ex` on the SSL's half of the pair: before a read, moves at most the
/// asked length from the endpoint into the pair (or answers EOF/retry/error itself); after a
/// write, moves what the SSL wrote from the pair to the endpoint in one write and reports what
/// the endpoint took. Everything else passes through.
///
/// # Safety
/// Called by the loaded libcrypto with its documented arguments: `processed` is null or valid
/// for a write; CURRENT is null or the state of the connection being driven on this thread.
unsafe extern "C" fn bio_callback(
    b: *mut Bio,
    oper: c_int,
    _argp: *const c_char,
    len: usize,
    _argi: c_int,
    _argl: c_long,
    ret: c_int,
    processed: *mut usize,
) -> c_long {
    let after = oper & BIO_CB_RETURN != 0;
    let pass = if after { c_long::from(ret) } else { 1 };
    let state = CURRENT.with(Cell::get);
    if state.is_null() {
        return pass;
    }
    // SAFETY: CURRENT points at the BioState of the connection whose call is on the stack of
    // this thread (set by `Entered`, cleared when the call returns); nothing else borrows it
    // during the callback.
    let st = unsafe { &mut *state };
    if st.internal != b {
        return pass;
    }
    let s = &st.lib.sym;
    // SAFETY: `b` is the live internal BIO; the flag calls only change its retry flags.
    let clear = || unsafe { (s.BIO_clear_flags)(b, BIO_FLAGS_RWS | BIO_FLAGS_SHOULD_RETRY) };
    // SAFETY: as above.
    let retry = |which: c_int| unsafe { (s.BIO_set_flags)(b, which | BIO_FLAGS_SHOULD_RETRY) };
    match (oper & !BIO_CB_RETURN, after) {
        (BIO_CB_READ, false) => {
            if st.panic.is_some() {
                clear();
                return -1;
            }
            // SAFETY: `b` is live; BIO_ctrl_pending reads a count.
            if unsafe { (s.BIO_ctrl_pending)(b) } > 0 {
                return 1;
            }
            let want = len.min(st.scratch.len());
            let (endpoint, scratch) = (&mut st.endpoint, &mut st.scratch[..want]);
            let got =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| endpoint.read(scratch)));
            match got {
                Ok(Ok(0)) => {
                    clear();
                    0
                }
                Ok(Ok(n)) => {
                    // SAFETY: `network` is the live other half; `scratch[..n]` is valid; the
                    // pair has room (it is empty and PAIR_BUFFER >= n).
                    let put = unsafe {
                        (s.BIO_write)(st.network, st.scratch.as_ptr().cast(), n as c_int)
                    };
                    debug_assert_eq!(put, n as c_int);
                    1
                }
                Ok(Err(e)) => {
                    clear();
                    if retriable(&e) {
                        retry(BIO_FLAGS_READ);
                    }
                    -1
                }
                Err(p) => {
                    st.panic = Some(p);
                    clear();
                    -1
                }
            }
        }
        (BIO_CB_WRITE, true) => {
            if ret <= 0 || processed.is_null() {
                return c_long::from(ret);
            }
            // SAFETY: non-null `processed` is the BIO layer's count of bytes the pair took.
            let k = unsafe { *processed }.min(st.scratch.len());
            let mut have = 0;
            while have < k {
                // SAFETY: reads into `scratch[have..k]`, valid and ours.
                let n = unsafe {
                    (s.BIO_read)(
                        st.network,
                        st.scratch[have..].as_mut_ptr().cast(),
                        (k - have) as c_int,
                    )
                };
                if n <= 0 {
                    break;
                }
                have += n as usize;
            }
            let (endpoint, bytes) = (&mut st.endpoint, &st.scratch[..have]);
            let sent = if st.panic.is_some() {
                Ok(Err(io::Error::other("an earlier callback panicked")))
            } else {
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| endpoint.write(bytes)))
            };
            clear();
            let (taken, r) = match sent {
                Ok(Ok(n)) if n > 0 => (n, 1),
                Ok(Ok(_)) => (0, 0),
                Ok(Err(e)) => {
                    if retriable(&e) {
                        retry(BIO_FLAGS_WRITE);
                    }
                    (0, -1)
                }
                Err(p) => {
                    st.panic = Some(p);
                    (0, -1)
                }
            };
            // SAFETY: as above; what the endpoint did not take is dropped from the pair (it
            // is gone from the network half already) and the SSL, told it was not written,
            // sends it again.
            unsafe { *processed = taken };
            r
        }
        _ => pass,
    }
}

struct LibsslConn {
    lib: Arc<Loaded>,
    ssl: *mut Ssl,
    state: Box<BioState>,
    last_ret: c_int,
    keep_queue: bool,
}

impl Drop for LibsslConn {
    fn drop(&mut self) {
        // As the linked driver: disposal counts as shut down, so SSL_free keeps the session
        // in the context's cache (SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN = 3).
        if let Some(set) = self.lib.sym.SSL_set_shutdown {
            // SAFETY: `ssl` is live; the call only sets flags.
            unsafe { set(self.ssl, 3) };
        }
        // SAFETY: `ssl` is ours (it frees the internal half with itself); then the network
        // half, unpaired by then, is ours to free.
        unsafe {
            (self.lib.sym.SSL_free)(self.ssl);
            (self.lib.sym.BIO_free)(self.state.network);
        }
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
            let _entered = Entered::new(&mut self.state);
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
        let mut call = super::ssl_abi::io_call(ret, code, self.lib.drain_errors());
        let ep = &self.state.endpoint;
        if let Some(e) = ep.pipe().take_io_error(ep.side()) {
            call.errors.push(format!("io: {e}"));
        }
        call
    }

    fn simple(&self, ret: c_int) -> Call {
        super::ssl_abi::simple_call(ret, self.lib.drain_errors())
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
        let Some(f) = self.lib.sym.SSL_write_early_data else {
            return Call::skip(self.lib.missing("SSL_write_early_data"));
        };
        self.prepare();
        let mut written: usize = 0;
        // SAFETY: `buf` is valid for reads of its length during the call; `written` is a
        // valid out-pointer.
        let ret =
            self.call(|_, ssl| unsafe { f(ssl, buf.as_ptr().cast(), buf.len(), &mut written) });
        let call = self.classify(ret);
        super::ssl_abi::counted(call, ret > 0, ret, written)
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
        let done = super::ssl_abi::read_early_data_done(ret);
        let call = if done {
            self.last_ret = ret;
            self.simple(1)
        } else {
            self.classify(0)
        };
        super::ssl_abi::counted(call, done, ret, read)
    }

    fn handshake(&mut self) -> Call {
        self.prepare();
        // SAFETY: `ssl` is live; its BIO is the pair, served by the callback.
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
        let Some(f) = self.lib.sym.SSL_write_ex else {
            return Call::skip(self.lib.missing("SSL_write_ex"));
        };
        self.prepare();
        let mut written: usize = 0;
        // SAFETY: as for SSL_write; `written` is a valid out-pointer for the call.
        let ret =
            self.call(|_, ssl| unsafe { f(ssl, buf.as_ptr().cast(), buf.len(), &mut written) });
        let call = self.classify(ret);
        super::ssl_abi::counted(call, ret > 0, ret, written)
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
        let all = SSL_MODE_ENABLE_PARTIAL_WRITE
            | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER
            | SSL_MODE_AUTO_RETRY
            | SSL_MODE_RELEASE_BUFFERS;
        let mut bits: c_long = 0;
        if modes.partial_write {
            bits |= SSL_MODE_ENABLE_PARTIAL_WRITE;
        }
        if modes.moving_buffer {
            bits |= SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER;
        }
        if modes.auto_retry {
            bits |= SSL_MODE_AUTO_RETRY;
        }
        if modes.release_buffers {
            bits |= SSL_MODE_RELEASE_BUFFERS;
        }
        // SAFETY: SSL_CTRL_CLEAR_MODE / SSL_CTRL_MODE read only larg.
        let now = self.call(|s, ssl| unsafe {
            (s.SSL_ctrl)(ssl, SSL_CTRL_CLEAR_MODE, all, std::ptr::null_mut());
            (s.SSL_ctrl)(ssl, SSL_CTRL_MODE, bits, std::ptr::null_mut())
        });
        debug_assert_eq!(bits as u64, modes.bits());
        let outcome = if now & all == bits {
            Outcome::Ok((now & all) as u64)
        } else {
            Outcome::Ssl(format!("mode is {now:#x} after setting {bits:#x}"))
        };
        Call::new(outcome, i64::from(now as i32))
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
            e.contains("SSL_CTX_new") && e.contains("BIO_new_bio_pair"),
            "{e}"
        );
    }
}
