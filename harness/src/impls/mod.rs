//! The implementations under test, one driver per file, and the registry that names them.

pub mod dl;
pub mod faulty;
pub mod libssl;
pub mod openssl;
pub mod rustls;
pub mod ssl_abi;

use crate::contract::Implementation;

/// Every implementation this build can run, in report order (the first is the reference).
pub const NAMES: [&str; 2] = [openssl::OpensslImpl::NAME, rustls::RustlsImpl::NAME];

/// Builds the implementation called `name`.
pub fn by_name(name: &str) -> Result<Box<dyn Implementation>, String> {
    match name {
        openssl::OpensslImpl::NAME => Ok(Box::new(openssl::OpensslImpl::new())),
        rustls::RustlsImpl::NAME => Ok(Box::new(rustls::RustlsImpl::new())),
        // A libssl-compatible library loaded at run time (in a worker process of its own).
        spec if libssl::is_spec(spec) => Ok(Box::new(libssl::LibsslImpl::load(spec)?)),
        // Test only (crashes and hangs on purpose); never listed in NAMES.
        spec if spec.starts_with("faulty:") => Ok(Box::new(faulty::FaultyImpl::parse(spec)?)),
        other => Err(format!(
            "unknown implementation {other:?}; this build has: {}, and libssl:PATH[@label] loads a libssl-compatible library",
            NAMES.join(", ")
        )),
    }
}
