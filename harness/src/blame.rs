//! Who a panic belongs to: the implementation under test, or the harness.
//!
//! The runner catches a panic per step (I4). A panic while the implementation's connection is
//! running one of its calls is the implementation's (`crash`); any other (the harness's own
//! code, the reference peer) is a harness failure and must not be blamed on it. [`Blamed`]
//! wraps the implementation's connection and marks, on this thread, the span of each call;
//! the peer, which the transport's pump may run from inside such a call, is unmarked again
//! while it runs ([`outside`]).

use std::cell::Cell;

use crate::contract::{Call, Connection, Modes, Session, SetupError};

thread_local! {
    static IN_IMPLEMENTATION: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` as the implementation's code; a panic in it leaves the mark set.
fn inside<T>(f: impl FnOnce() -> T) -> T {
    let was = IN_IMPLEMENTATION.with(|c| c.replace(true));
    let out = f();
    IN_IMPLEMENTATION.with(|c| c.set(was));
    out
}

/// Runs `f` as harness code even from inside an implementation call (the reference peer run
/// by the transport's pump); a panic in it leaves the mark cleared.
pub fn outside<T>(f: impl FnOnce() -> T) -> T {
    let was = IN_IMPLEMENTATION.with(|c| c.replace(false));
    let out = f();
    IN_IMPLEMENTATION.with(|c| c.set(was));
    out
}

/// Whether the panic just caught happened inside an implementation call; clears the mark.
pub fn take_in_implementation() -> bool {
    IN_IMPLEMENTATION.with(|c| c.replace(false))
}

/// The implementation's connection, each call marked as the implementation's.
pub struct Blamed(pub Box<dyn Connection>);

impl Connection for Blamed {
    fn handshake(&mut self) -> Call {
        inside(|| self.0.handshake())
    }
    fn write(&mut self, buf: &[u8]) -> Call {
        inside(|| self.0.write(buf))
    }
    fn write_ex(&mut self, buf: &[u8]) -> Call {
        inside(|| self.0.write_ex(buf))
    }
    fn write_negative(&mut self, num: i32) -> Call {
        inside(|| self.0.write_negative(num))
    }
    fn read(&mut self, buf: &mut [u8]) -> Call {
        inside(|| self.0.read(buf))
    }
    fn shutdown(&mut self) -> Call {
        inside(|| self.0.shutdown())
    }
    fn key_update(&mut self, requested: bool) -> Call {
        inside(|| self.0.key_update(requested))
    }
    fn renegotiate(&mut self) -> Call {
        inside(|| self.0.renegotiate())
    }
    fn new_session_ticket(&mut self) -> Call {
        inside(|| self.0.new_session_ticket())
    }
    fn error_again(&mut self) -> Call {
        inside(|| self.0.error_again())
    }
    fn dirty_error_queue(&mut self) -> Call {
        inside(|| self.0.dirty_error_queue())
    }
    fn set_modes(&mut self, modes: Modes) -> Call {
        inside(|| self.0.set_modes(modes))
    }
    fn session(&mut self) -> Result<Session, SetupError> {
        inside(|| self.0.session())
    }
    fn resumed(&self) -> Option<bool> {
        inside(|| self.0.resumed())
    }
    fn write_early_data(&mut self, buf: &[u8]) -> Call {
        inside(|| self.0.write_early_data(buf))
    }
    fn read_early_data(&mut self, buf: &mut [u8]) -> Call {
        inside(|| self.0.read_early_data(buf))
    }
    fn handshake_done(&self) -> bool {
        inside(|| self.0.handshake_done())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mark_follows_the_panic() {
        let r = std::panic::catch_unwind(|| inside(|| panic!("in the implementation")));
        assert!(r.is_err());
        assert!(take_in_implementation());
        assert!(!take_in_implementation(), "taking it clears it");
        let r = std::panic::catch_unwind(|| inside(|| outside(|| panic!("in the peer"))));
        assert!(r.is_err());
        // The peer's panic unwound through the implementation's span: `inside` never got to
        // restore its mark, `outside` never got to restore `true`.
        assert!(!take_in_implementation());
    }
}
