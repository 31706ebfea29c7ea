//! The few operating-system calls std does not offer: stop signals (SIGINT/SIGTERM) turned
//! into a flag, socket options of the loopback TCP transport (`SO_LINGER` 0, `SO_SNDBUF`,
//! `SO_RCVBUF`), and signal names for a worker that died.
//!
//! Through `libc`, which the build already links (openssl-sys depends on the same version),
//! rather than socket2 and signal-hook: five calls do not justify two more crates with the same
//! `unsafe` inside. This file and `impls/openssl.rs` hold all of the crate's `unsafe`.

use std::ffi::c_int;
use std::io;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicI32, Ordering};

/// The stop signal received (SIGINT or SIGTERM), 0 while none was.
static STOP: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_stop(sig: c_int) {
    // Async-signal-safe: an atomic store; signal() and raise() are on POSIX's list too.
    if STOP
        .compare_exchange(0, sig, Ordering::SeqCst, Ordering::SeqCst)
        .is_err()
    {
        // A second stop signal: the user insists. Die of it, as without the handler.
        // SAFETY: restoring the default disposition and re-raising are async-signal-safe.
        unsafe {
            libc::signal(sig, libc::SIG_DFL);
            libc::raise(sig);
        }
    }
}

/// Catches SIGINT and SIGTERM: instead of dying, the process notes the signal; long loops ask
/// [`stop_requested`] and wind down. A second stop signal kills the process as usual.
pub fn install_stop_handlers() -> io::Result<()> {
    for sig in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: a zeroed sigaction is a valid "no flags, empty mask" value; the handler is an
        // `extern "C" fn(c_int)` that only does an atomic store (async-signal-safe), and
        // sigaction copies the struct before returning.
        let r = unsafe {
            let mut act: libc::sigaction = std::mem::zeroed();
            act.sa_sigaction = on_stop as extern "C" fn(c_int) as libc::sighandler_t;
            act.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut act.sa_mask);
            libc::sigaction(sig, &act, std::ptr::null_mut())
        };
        if r != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// The stop signal received so far, if any.
pub fn stop_requested() -> Option<i32> {
    match STOP.load(Ordering::SeqCst) {
        0 => None,
        s => Some(s),
    }
}

/// The exit status of a process stopped by `sig`: 128 + the signal number (130, 143).
pub fn stop_exit_code(sig: i32) -> u8 {
    u8::try_from(128 + sig).unwrap_or(2)
}

/// `SIGSEGV`, `SIGABRT`, ... for a signal number.
pub fn signal_name(sig: i32) -> String {
    let name = match sig {
        libc::SIGHUP => "SIGHUP",
        libc::SIGINT => "SIGINT",
        libc::SIGQUIT => "SIGQUIT",
        libc::SIGILL => "SIGILL",
        libc::SIGTRAP => "SIGTRAP",
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGALRM => "SIGALRM",
        libc::SIGTERM => "SIGTERM",
        libc::SIGSYS => "SIGSYS",
        other => return format!("signal {other}"),
    };
    name.to_string()
}

fn setsockopt_int(fd: &impl AsRawFd, opt: c_int, value: c_int) -> io::Result<()> {
    // SAFETY: `fd` is an open socket for the duration of the call; the option value is a
    // c_int read by the kernel through a pointer valid for size_of::<c_int>() bytes.
    let r = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            opt,
            (&value as *const c_int).cast(),
            std::mem::size_of::<c_int>() as libc::socklen_t,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// `SO_SNDBUF` (the kernel doubles it and applies its minimum and `wmem_max`).
pub fn set_send_buffer(fd: &impl AsRawFd, bytes: usize) -> io::Result<()> {
    setsockopt_int(
        fd,
        libc::SO_SNDBUF,
        c_int::try_from(bytes).unwrap_or(c_int::MAX),
    )
}

/// `SO_RCVBUF` (doubled and clamped by the kernel like `SO_SNDBUF`).
pub fn set_recv_buffer(fd: &impl AsRawFd, bytes: usize) -> io::Result<()> {
    setsockopt_int(
        fd,
        libc::SO_RCVBUF,
        c_int::try_from(bytes).unwrap_or(c_int::MAX),
    )
}

/// `SO_LINGER` on with a zero timeout: closing the socket then sends a reset (RST) instead of
/// a FIN, and drops what is queued.
pub fn set_linger_zero(fd: &impl AsRawFd) -> io::Result<()> {
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: `fd` is an open socket; `linger` is valid for size_of::<linger>() bytes.
    let r = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// One `send` that does not wait, whatever the socket's mode (`MSG_DONTWAIT`), and raises no
/// SIGPIPE (`MSG_NOSIGNAL`): `WouldBlock` when the kernel has no room.
pub fn send_now(fd: &impl AsRawFd, buf: &[u8]) -> io::Result<usize> {
    // SAFETY: `fd` is an open socket; `buf` is valid for reads of `buf.len()` bytes.
    let n = unsafe {
        libc::send(
            fd.as_raw_fd(),
            buf.as_ptr().cast(),
            buf.len(),
            libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
        )
    };
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}

/// One `recv` that does not wait, whatever the socket's mode (`MSG_DONTWAIT`).
pub fn recv_now(fd: &impl AsRawFd, buf: &mut [u8]) -> io::Result<usize> {
    // SAFETY: `fd` is an open socket; `buf` is valid for writes of `buf.len()` bytes.
    let n = unsafe {
        libc::recv(
            fd.as_raw_fd(),
            buf.as_mut_ptr().cast(),
            buf.len(),
            libc::MSG_DONTWAIT,
        )
    };
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}

/// Connects to `addr` (an IPv4 address) with `SO_RCVBUF` set before the handshake, so that the
/// window advertised never exceeds the buffer (shrinking it later makes the kernel drop data
/// and wait for retransmission timeouts).
pub fn connect_with_recv_buffer(
    addr: std::net::SocketAddrV4,
    bytes: usize,
) -> io::Result<std::net::TcpStream> {
    use std::os::fd::FromRawFd;
    // SAFETY: plain socket(2); the result is checked before use.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` is a socket we own and nothing else does; the stream closes it when dropped.
    let stream = unsafe { std::net::TcpStream::from_raw_fd(fd) };
    set_recv_buffer(&stream, bytes)?;
    let sin = libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: addr.port().to_be(),
        sin_addr: libc::in_addr {
            s_addr: u32::from_ne_bytes(addr.ip().octets()),
        },
        sin_zero: [0; 8],
    };
    // SAFETY: `sin` is a valid sockaddr_in for the duration of the call, its size is given.
    let r = unsafe {
        libc::connect(
            stream.as_raw_fd(),
            (&sin as *const libc::sockaddr_in).cast(),
            std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
        )
    };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(stream)
}

/// Waits until `fd` has something to read (data, EOF or an error) or `timeout` passes;
/// whether it has.
pub fn wait_readable(fd: &impl AsRawFd, timeout: std::time::Duration) -> io::Result<bool> {
    let mut p = libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    let ms = c_int::try_from(timeout.as_millis()).unwrap_or(c_int::MAX);
    // SAFETY: one valid pollfd for the duration of the call.
    let n = unsafe { libc::poll(&mut p, 1, ms) };
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n > 0)
    }
}

extern "C" {
    /// libcrypto's `void OPENSSL_cleanse(void *ptr, size_t len)`: zeroes `len` bytes at `ptr`.
    fn OPENSSL_cleanse(ptr: *mut std::ffi::c_void, len: usize);
}

/// Kills the process with SIGSEGV the way a buggy C library would: a write through a null
/// pointer, inside libcrypto. Only the test-only `faulty` implementation calls it.
///
/// # Safety
/// Never safe: it is undefined behaviour by design, and must only be called to end the
/// process (the test-only `faulty` implementation, inside a worker).
#[doc(hidden)]
pub unsafe fn segfault_in_c() -> ! {
    // SAFETY: none, on purpose (see the function's contract): this is the crash the worker
    // isolation must survive. The write happens in C (so the compiler cannot reason it away)
    // and the kernel ends the process.
    unsafe { OPENSSL_cleanse(std::ptr::null_mut(), 16) };
    // Not reached; should the page at 0 ever be mapped, still do not return.
    std::process::abort()
}

/// Sends SIGKILL to every process of the process group `pgid` (a worker started as the leader
/// of a group of its own, and whatever a library it loaded has started). A group with no
/// process left is not an error.
pub fn kill_process_group(pgid: u32) {
    let Ok(pgid) = libc::pid_t::try_from(pgid) else {
        return;
    };
    if pgid <= 1 {
        return;
    }
    // SAFETY: kill(2) with a negative pid signals that process group; it touches no memory.
    unsafe {
        libc::kill(-pgid, libc::SIGKILL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signal_names_and_exit_codes() {
        assert_eq!(signal_name(libc::SIGSEGV), "SIGSEGV");
        assert_eq!(signal_name(libc::SIGABRT), "SIGABRT");
        assert_eq!(signal_name(77), "signal 77");
        assert_eq!(stop_exit_code(libc::SIGINT), 130);
        assert_eq!(stop_exit_code(libc::SIGTERM), 143);
    }

    #[test]
    fn socket_options_apply_to_a_loopback_socket() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        set_recv_buffer(&l, 4096).unwrap();
        let s = std::net::TcpStream::connect(l.local_addr().unwrap()).unwrap();
        set_send_buffer(&s, 4096).unwrap();
        set_linger_zero(&s).unwrap();
    }
}
