//! Loading a C library at run time, for the drivers of libraries the harness does not link
//! (`libssl.rs`, `wolfssl.rs`): `dlmopen` into a link namespace of its own (with a companion
//! library loaded first), the thread-specific-data keys two namespaces share, where a symbol
//! came from, C strings.

use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::path::{Path, PathBuf};

use libloading::os::unix::Library;

/// `dlerror()`'s message, if there is one.
pub fn dl_error() -> String {
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
pub(crate) fn file_of(addr: *const c_void) -> String {
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
pub fn crypto_beside(path: &str) -> Option<PathBuf> {
    let p = Path::new(path);
    let dir = p.parent().filter(|d| !d.as_os_str().is_empty())?;
    let name = p.file_name()?.to_str()?;
    if !name.contains("libssl") {
        return None;
    }
    let crypto = dir.join(name.replacen("libssl", "libcrypto", 1));
    crypto.exists().then_some(crypto)
}

/// `PREFIX PATH@label` → (`PATH`, `label`); without `@label` the label is the whole spec.
/// `example` is shown when the path is missing.
pub fn parse_spec(prefix: &str, spec: &str, example: &str) -> Result<(String, String), String> {
    let rest = spec
        .strip_prefix(prefix)
        .ok_or_else(|| format!("{spec:?} is not {prefix}PATH[@label]"))?;
    let (path, label) = match rest.rsplit_once('@') {
        Some((p, l)) if !l.is_empty() && !l.contains('/') => (p, l.to_string()),
        _ => (rest, spec.to_string()),
    };
    if path.is_empty() {
        return Err(format!(
            "{spec:?}: which library? ({prefix}PATH[@label], e.g. {example})"
        ));
    }
    Ok((path.to_string(), label))
}

pub fn cstring(s: &str) -> Result<CString, String> {
    CString::new(s).map_err(|_| format!("{s:?} contains a NUL byte"))
}

/// Opens `path` (and `crypto` first) in a link namespace of their own.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn open_isolated(
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
pub fn open_isolated(
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
pub unsafe fn c_text(p: *const c_char) -> String {
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
pub fn keys_before_first_use(loaded: &Library) -> Result<(), String> {
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
pub fn keys_after_first_use(loaded: &Library) -> Result<(), String> {
    let there = next_key(key_functions(Some(loaded))?)?;
    let here = key_functions(None)?;
    burn_keys_until(here, there + KEY_GAP)
}

/// The address of `name` in the first library that exports it (and is not `hidden`).
pub fn find(libs: &[&Library], name: &str, hidden: &[String]) -> Option<*const c_void> {
    if hidden.iter().any(|h| h == name) {
        return None;
    }
    let mut cname = name.as_bytes().to_vec();
    cname.push(0);
    libs.iter().find_map(|lib| {
        // SAFETY: only the address is taken (as a data pointer, never dereferenced here); it
        // stays valid while the library is loaded (never unloaded, see `Symbols`).
        unsafe { lib.get::<*const c_void>(&cname).ok().map(|s| *s) }.filter(|p| !p.is_null())
    })
}

/// A driver's symbol table: `essential { NAME: TYPE, ... } optional { NAME: TYPE, ... }` makes
/// `Symbols` (essential entry points as function pointers, optional ones as `Option`s),
/// `ESSENTIAL`, `OPTIONAL`, `Symbols::load` (from loaded libraries), `Symbols::from_lookup` and
/// `Symbols::missing_optional`.
macro_rules! symbol_table {
    (
        essential { $($e:ident : $et:ty,)* }
        optional { $($o:ident : $ot:ty,)* }
    ) => {
        /// Entry points of one loaded library (function pointers copied out of it: valid while
        /// the library handles that produced them stay loaded, which is for the life of the
        /// process: the driver never unloads them).
        #[allow(non_snake_case)]
        pub struct Symbols {
            $(pub $e: $et,)*
            $(pub $o: Option<$ot>,)*
        }

        /// Every name the driver may look up, essential ones first.
        pub const ESSENTIAL: &[&str] = &[$(stringify!($e),)*];
        pub const OPTIONAL: &[&str] = &[$(stringify!($o),)*];

        impl Symbols {
            /// Looks every symbol up in `libs` (first hit wins), except those named in
            /// `hidden`, taken as not exported. `Err` lists the essential symbols that none of
            /// them exports.
            ///
            /// # Safety
            /// Each library must be a libssl/libcrypto of the OpenSSL 1.1.1/3.x ABI, so that a
            /// symbol of one of these names has the C signature written here.
            pub unsafe fn load(libs: &[&libloading::os::unix::Library], hidden: &[String]) -> Result<Symbols, Vec<String>> {
                // SAFETY: the caller vouches for the ABI of what the lookup finds.
                unsafe { Symbols::from_lookup(|name| $crate::impls::dl::find(libs, name, hidden)) }
            }

            /// Every symbol from `lookup` (its address, or `None` when not there). `Err` lists
            /// the essential symbols it does not have.
            ///
            /// # Safety
            /// An address `lookup` gives for a name must be that of a C function with the
            /// signature written here for the name.
            #[allow(non_snake_case)]
            pub unsafe fn from_lookup(
                lookup: impl Fn(&str) -> Option<*const std::ffi::c_void>,
            ) -> Result<Symbols, Vec<String>> {
                let mut missing = Vec::new();
                $(
                    let $e: Option<$et> = lookup(stringify!($e)).map(|p| {
                        // SAFETY: the caller's guarantee: a function of this C type (a
                        // function pointer has the size of a data pointer on every target
                        // this builds for).
                        unsafe { std::mem::transmute::<*const std::ffi::c_void, $et>(p) }
                    });
                    if $e.is_none() {
                        missing.push(stringify!($e).to_string());
                    }
                )*
                $(
                    let $o: Option<$ot> = lookup(stringify!($o)).map(|p| {
                        // SAFETY: as above.
                        unsafe { std::mem::transmute::<*const std::ffi::c_void, $ot>(p) }
                    });
                )*
                if !missing.is_empty() {
                    return Err(missing);
                }
                Ok(Symbols {
                    $($e: $e.expect("checked above"),)*
                    $($o,)*
                })
            }

            /// The optional symbols the library does not export.
            pub fn missing_optional(&self) -> Vec<&'static str> {
                let mut out = Vec::new();
                $(
                    if self.$o.is_none() {
                        out.push(stringify!($o));
                    }
                )*
                out
            }
        }
    };
}

pub(crate) use symbol_table;
