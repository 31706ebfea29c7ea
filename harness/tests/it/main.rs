//! The integration tests, one binary: each module is what was a test binary of its own (they
//! linked OpenSSL, rustls and rcgen each). Run one with `cargo test -p sslwrite --test it MODULE::`.

mod common;
mod json_schema;

mod aspects;
mod catalogue;
mod cli;
mod compare;
mod determinism;
mod early_data;
mod fuzz_oracles;
mod fuzz_witnesses;
mod hostile;
mod isolation;
mod libssl;
mod libssl_shim;
mod loader_errors;
mod matrix;
mod minimize;
mod openssl_findings;
mod outcomes;
mod peer;
mod repro;
mod rustls_findings;
mod scenario_docs;
mod schema;
mod transports;
mod trickle;
mod wolfssl;
