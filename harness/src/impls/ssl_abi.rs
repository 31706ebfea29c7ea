//! The libssl ABI's answers mapped onto the shared vocabulary, for every driver that speaks
//! that ABI (the linked OpenSSL, and a libssl loaded at run time). No FFI here: the drivers
//! make the calls and hand over the numbers and the error-queue reasons.

use std::ffi::c_int;

use openssl_sys as ffi;

use crate::contract::{Call, Outcome};

/// An I/O call's result: its return value, what `SSL_get_error` said about it, and the
/// reason strings the error queue held afterwards (oldest first).
pub fn io_call(ret: c_int, ssl_get_error: c_int, errors: Vec<String>) -> Call {
    let outcome = match ssl_get_error {
        ffi::SSL_ERROR_NONE => Outcome::Ok(ret.max(0) as u64),
        ffi::SSL_ERROR_WANT_READ => Outcome::WantRead,
        ffi::SSL_ERROR_WANT_WRITE => Outcome::WantWrite,
        ffi::SSL_ERROR_ZERO_RETURN => Outcome::ZeroReturn,
        ffi::SSL_ERROR_SYSCALL => Outcome::Syscall,
        ffi::SSL_ERROR_SSL => Outcome::Ssl(errors.first().cloned().unwrap_or_default()),
        other => Outcome::Ssl(format!("unexpected SSL_get_error value {other}")),
    };
    let mut call = Call::new(outcome, i64::from(ret));
    call.errors = errors;
    call
}

/// A non-I/O call returning 1 on success and 0 on failure (the reason from the queue).
pub fn simple_call(ret: c_int, errors: Vec<String>) -> Call {
    let outcome = if ret == 1 {
        Outcome::Ok(1)
    } else {
        Outcome::Ssl(errors.first().cloned().unwrap_or_default())
    };
    let mut call = Call::new(outcome, i64::from(ret));
    call.errors = errors;
    call
}

/// A call that reports a count through an out-parameter (`SSL_write_ex`,
/// `SSL_write_early_data`, `SSL_read_early_data`): on success (`ok`) the outcome is that count;
/// the count and the raw return value are kept either way.
pub fn counted(mut call: Call, ok: bool, ret: c_int, count: usize) -> Call {
    if ok {
        call.outcome = Outcome::Ok(count as u64);
    }
    call.ret = i64::from(ret);
    call.written = Some(count as u64);
    call
}

/// Whether `SSL_read_early_data` returned a success: SSL_READ_EARLY_DATA_SUCCESS (1) or
/// SSL_READ_EARLY_DATA_FINISH (2, no more early data); 0 is an error for `SSL_get_error`.
pub fn read_early_data_done(ret: c_int) -> bool {
    ret == ffi::SSL_READ_EARLY_DATA_SUCCESS || ret == ffi::SSL_READ_EARLY_DATA_FINISH
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_classes_map_onto_the_vocabulary() {
        assert_eq!(
            io_call(5, ffi::SSL_ERROR_NONE, vec![]).outcome,
            Outcome::Ok(5)
        );
        assert_eq!(
            io_call(-1, ffi::SSL_ERROR_WANT_WRITE, vec![]).outcome,
            Outcome::WantWrite
        );
        let c = io_call(
            -1,
            ffi::SSL_ERROR_SSL,
            vec!["bad length".into(), "x".into()],
        );
        assert_eq!(c.outcome, Outcome::Ssl("bad length".into()));
        assert_eq!(c.errors.len(), 2);
        assert_eq!(simple_call(0, vec![]).outcome, Outcome::Ssl(String::new()));
        assert_eq!(simple_call(1, vec![]).outcome, Outcome::Ok(1));
    }

    #[test]
    fn counted_calls_report_the_out_parameter() {
        let ok = counted(io_call(1, ffi::SSL_ERROR_NONE, vec![]), true, 1, 500);
        assert_eq!(
            (ok.outcome, ok.ret, ok.written),
            (Outcome::Ok(500), 1, Some(500))
        );
        let finish = counted(simple_call(1, vec![]), read_early_data_done(2), 2, 0);
        assert_eq!((finish.outcome, finish.ret), (Outcome::Ok(0), 2));
        let blocked = counted(io_call(0, ffi::SSL_ERROR_WANT_WRITE, vec![]), false, 0, 0);
        assert_eq!(
            (blocked.outcome, blocked.written),
            (Outcome::WantWrite, Some(0))
        );
        assert!(!read_early_data_done(0));
    }
}
