//! The implementations under test, one driver per file, and the registry that names them.

pub mod dl;
pub mod faulty;
pub mod libssl;
pub mod openssl;
pub mod rustls;
pub mod ssl_abi;
pub mod wolfssl;

use crate::contract::Implementation;

/// Whether `name` is a library loaded at run time (`libssl:`, `wolfssl:`): it runs only in
/// worker processes of its own.
pub fn is_loaded(name: &str) -> bool {
    libssl::is_spec(name) || wolfssl::is_spec(name)
}

/// Every implementation this build can run, in report order (the first is the reference).
pub const NAMES: [&str; 2] = [openssl::OpensslImpl::NAME, rustls::RustlsImpl::NAME];

/// Builds the implementation called `name`.
pub fn by_name(name: &str) -> Result<Box<dyn Implementation>, String> {
    match name {
        openssl::OpensslImpl::NAME => Ok(Box::new(openssl::OpensslImpl::new())),
        rustls::RustlsImpl::NAME => Ok(Box::new(rustls::RustlsImpl::new())),
        // A libssl-compatible library loaded at run time (in a worker process of its own).
        spec if libssl::is_spec(spec) => Ok(Box::new(libssl::LibsslImpl::load(spec)?)),
        // wolfSSL loaded at run time, through its own API (in a worker process of its own).
        spec if wolfssl::is_spec(spec) => Ok(Box::new(wolfssl::WolfsslImpl::load(spec)?)),
        // Test only (crashes and hangs on purpose); never listed in NAMES.
        spec if spec.starts_with("faulty:") => Ok(Box::new(faulty::FaultyImpl::parse(spec)?)),
        other => Err(format!(
            "unknown implementation {other:?}; this build has: {}, libssl:PATH[@label] loads a libssl-compatible library, wolfssl:PATH[@label] a wolfSSL",
            NAMES.join(", ")
        )),
    }
}
