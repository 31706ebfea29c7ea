//! The libssl ABI's answers mapped onto the shared vocabulary, for every driver that speaks
//! that ABI (the linked OpenSSL, and a libssl loaded at run time). No FFI here: the drivers
//! make the calls and hand over the numbers and the error-queue reasons.

use std::ffi::c_int;

use openssl_sys as ffi;

use crate::contract::{Call, Outcome};

/// An I/O call's result, the return value first (clause W10): `ret > 0` is `ok(ret)` whatever
/// `SSL_get_error` said; `ret <= 0` takes its class from `SSL_get_error(ssl, ret)`, and one
/// with no class (NONE, or a value outside the known ones) is [`Outcome::Unclassified`], never
/// `ok(0)`. The raw pair is kept either way (`ret`, `error_class`); [`w10_disagreement`] says
/// where the two disagree. `errors` are the reason strings the error queue held afterwards
/// (oldest first).
pub fn io_call(ret: c_int, ssl_get_error: c_int, errors: Vec<String>) -> Call {
    let outcome = if ret > 0 {
        Outcome::Ok(ret as u64)
    } else {
        match ssl_get_error {
            ffi::SSL_ERROR_WANT_READ => Outcome::WantRead,
            ffi::SSL_ERROR_WANT_WRITE => Outcome::WantWrite,
            ffi::SSL_ERROR_ZERO_RETURN => Outcome::ZeroReturn,
            ffi::SSL_ERROR_SYSCALL => Outcome::Syscall,
            ffi::SSL_ERROR_SSL => Outcome::Ssl(errors.first().cloned().unwrap_or_default()),
            // Classes outside the shared five (X509 lookup, connect, accept, async, client
            // hello callback; BoringSSL's pending-session family and early-data rejection).
            c if OTHER_CLASSES.contains(&c) => Outcome::Ssl(format!("SSL_get_error {c}")),
            _ => Outcome::Unclassified,
        }
    };
    let mut call = Call::new(outcome, i64::from(ret));
    call.error_class = Some(i64::from(ssl_get_error));
    call.errors = errors;
    call
}

/// `SSL_get_error` values that are classes of some libssl-family library but not among the
/// shared five: 4 and 7..=20 (OpenSSL's X509_LOOKUP, CONNECT, ACCEPT, ASYNC, ASYNC_JOB,
/// CLIENT_HELLO_CB, RETRY_VERIFY; BoringSSL's CHANNEL_ID_LOOKUP .. HANDSHAKE_HINTS_READY).
const OTHER_CLASSES: std::ops::RangeInclusive<c_int> = 4..=20;

/// Where a call's raw pair breaks W10: a class other than NONE for `ret > 0`, or NONE (or no
/// known class) for `ret <= 0`. `None` where they agree or the driver did not ask. Calls
/// whose success is another value than `ret > 0` (`SSL_shutdown`'s 0) never carry a class.
pub fn w10_disagreement(call: &Call) -> Option<String> {
    let class = call.error_class?;
    let ret = call.ret;
    let known = |c: i64| {
        c == i64::from(ffi::SSL_ERROR_SSL)
            || (i64::from(ffi::SSL_ERROR_WANT_READ)..=20).contains(&c)
    };
    if ret > 0 && class != i64::from(ffi::SSL_ERROR_NONE) {
        Some(format!(
            "ret {ret} (success) but SSL_get_error {class} ({})",
            class_name(class)
        ))
    } else if ret <= 0 && !known(class) {
        Some(format!(
            "ret {ret} (failure) but SSL_get_error {class} ({}): no class to act on",
            class_name(class)
        ))
    } else {
        None
    }
}

/// The OpenSSL name of an `SSL_get_error` value (for messages).
pub fn class_name(class: i64) -> &'static str {
    match class {
        0 => "NONE",
        1 => "SSL",
        2 => "WANT_READ",
        3 => "WANT_WRITE",
        4 => "WANT_X509_LOOKUP",
        5 => "SYSCALL",
        6 => "ZERO_RETURN",
        7 => "WANT_CONNECT",
        8 => "WANT_ACCEPT",
        9..=20 => "a class outside the shared vocabulary",
        _ => "not a class",
    }
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
    }

    #[test]
    fn the_return_value_decides_and_disagreements_are_w10() {
        // A success whatever SSL_get_error says; the raw pair kept; the disagreement named.
        let c = io_call(65536, ffi::SSL_ERROR_WANT_WRITE, vec![]);
        assert_eq!(
            (c.outcome.clone(), c.ret, c.error_class),
            (Outcome::Ok(65536), 65536, Some(3))
        );
        assert_eq!(
            w10_disagreement(&c).as_deref(),
            Some("ret 65536 (success) but SSL_get_error 3 (WANT_WRITE)")
        );
        // A failure with NONE is not a success with 0 bytes.
        let c = io_call(-1, ffi::SSL_ERROR_NONE, vec![]);
        assert_eq!(c.outcome, Outcome::Unclassified);
        assert_eq!(
            w10_disagreement(&c).as_deref(),
            Some("ret -1 (failure) but SSL_get_error 0 (NONE): no class to act on")
        );
        let c = io_call(0, 77, vec![]);
        assert_eq!(c.outcome, Outcome::Unclassified);
        assert!(w10_disagreement(&c).unwrap().contains("77 (not a class)"));
        // Agreeing pairs are not violations.
        assert_eq!(w10_disagreement(&io_call(5, 0, vec![])), None);
        assert_eq!(w10_disagreement(&io_call(-1, 3, vec![])), None);
        assert_eq!(
            io_call(-1, 11, vec![]).outcome,
            Outcome::Ssl("SSL_get_error 11".into())
        );
        assert_eq!(w10_disagreement(&io_call(-1, 11, vec![])), None);
        // `_ex`: ret 0 with NONE is no success, whatever the out-parameter says.
        let c = counted(io_call(0, 0, vec![]), false, 0, 7);
        assert_eq!(c.outcome, Outcome::Unclassified);
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
