//! The `openssl` implementation: the OpenSSL that the `openssl` crate links (the system's via
//! pkg-config, or the vendored build), driven by the same libssl-ABI driver as a library
//! loaded at run time (`libssl.rs`), its symbol table filled from the linked library
//! (`libssl/linked.rs`) instead of a `dlmopen`ed one. So the linked OpenSSL and any loaded
//! library are compared through one piece of code: context set-up, option and mode bits, the
//! return value first, error-queue handling, the network side (a `BIO_METHOD` over the
//! [`Endpoint`](crate::transport::Endpoint)).
//!
//! Every write is a direct `SSL_write` / `SSL_write_ex` on the `SSL*` with the caller's buffer
//! pointer. This is also the reference peer (see `peer.rs`): an OpenSSL connection of the
//! other role. All its `unsafe` lives in `libssl.rs`, `libssl/` and `dl.rs`.

use crate::contract::{ConnConfig, Connection, ImplInfo, Implementation, Session, SetupError};
use crate::transport::Endpoint;

use super::libssl::LibsslImpl;

/// The linked OpenSSL as an implementation of the write contract.
pub struct OpensslImpl(LibsslImpl);

impl OpensslImpl {
    pub const NAME: &'static str = "openssl";

    pub fn new() -> OpensslImpl {
        OpensslImpl(LibsslImpl::linked())
    }
}

impl Default for OpensslImpl {
    fn default() -> Self {
        Self::new()
    }
}

impl Implementation for OpensslImpl {
    fn info(&self) -> ImplInfo {
        self.0.info()
    }

    fn connect(&self, cfg: &ConnConfig, io: Endpoint) -> Result<Box<dyn Connection>, SetupError> {
        self.0.connect(cfg, io)
    }

    fn resume(
        &self,
        cfg: &ConnConfig,
        io: Endpoint,
        session: &Session,
    ) -> Result<Box<dyn Connection>, SetupError> {
        self.0.resume(cfg, io, session)
    }
}
