//! A stand-in for NetBSD's `librumpclient`, for tests on any host.
//!
//! Exports exactly the `rump*` symbols a real `librumpclient.so` exports
//! and the tools use: `rumpclient_init`, `rump___sysimpl_modctl` and
//! `rump___sysimpl___sysctl` (the header's `rump_sys_X` is a macro for
//! `rump___sysimpl_X`, not a symbol). `rumpclient_init` behaves like
//! the real one when `RUMP_SERVER` is unset (message on stderr, ENOENT);
//! otherwise the "server" is the emulated kernel in `MODCTL_EMUL`. Errnos
//! go back as NetBSD numbers, as a real rump server's do.

use std::cell::RefCell;
use std::io::Write;
use std::os::raw::{c_int, c_uint, c_void};

use libmodctl::backend::{Backend, Sysctl, SysctlValue};
use libmodctl::Errno;
use modemul::Emul;
use modtools::kernel::EMUL_ENV;

thread_local! {
    static SERVER: RefCell<Option<Emul>> = const { RefCell::new(None) };
}

fn set_errno(e: c_int) {
    // SAFETY: the calling thread's errno slot, always valid.
    #[cfg(target_os = "netbsd")]
    unsafe {
        *libc::__errno() = e
    };
    // SAFETY: the calling thread's errno slot, always valid.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    unsafe {
        *libc::__errno_location() = e
    };
    // SAFETY: the calling thread's errno slot, always valid.
    #[cfg(any(target_os = "freebsd", target_os = "macos"))]
    unsafe {
        *libc::__error() = e
    };
}

/// MIB numbers of the dynamic `kern.module` nodes in this stand-in.
const KERN_MODULE: c_int = 1030;
const MODULE_PATH: c_int = 1031;
const MODULE_AUTOLOAD: c_int = 1032;
const NODE_SIZE: usize = 64 + 4 * std::mem::size_of::<usize>();

#[no_mangle]
pub extern "C" fn rumpclient_init() -> c_int {
    if std::env::var_os("RUMP_SERVER").is_none() {
        let _ = std::io::stderr().write_all(b"error: RUMP_SERVER not set\n");
        set_errno(libc::ENOENT);
        return -1;
    }
    let Some(dir) = std::env::var_os(EMUL_ENV) else {
        set_errno(libc::ECONNREFUSED);
        return -1;
    };
    match Emul::open(std::path::Path::new(&dir)) {
        Ok(e) => {
            SERVER.with(|s| *s.borrow_mut() = Some(e));
            0
        }
        Err(_) => {
            set_errno(libc::ECONNREFUSED);
            -1
        }
    }
}

fn with_server<T>(f: impl FnOnce(&Emul) -> Result<T, Errno>) -> Result<T, Errno> {
    SERVER.with(|s| match s.borrow().as_ref() {
        Some(e) => f(e),
        None => Err(Errno::ENOTCONN),
    })
}

/// # Safety
/// As modctl(2).
#[no_mangle]
pub unsafe extern "C" fn rump___sysimpl_modctl(cmd: c_int, arg: *mut c_void) -> c_int {
    // SAFETY: the caller passes `arg` as modctl(2) takes it for `cmd`,
    // which is the emulator's contract too.
    match with_server(|e| unsafe { e.modctl(cmd, arg) }) {
        Ok(()) => 0,
        Err(e) => {
            set_errno(e.0);
            -1
        }
    }
}

fn node(num: c_int, name: &str) -> Vec<u8> {
    let mut n = vec![0u8; NODE_SIZE];
    n[4..8].copy_from_slice(&num.to_ne_bytes());
    n[8..8 + name.len()].copy_from_slice(name.as_bytes());
    n
}

fn answer(mib: &[c_int]) -> Result<Vec<u8>, Errno> {
    let value = |node: Sysctl| -> Result<Vec<u8>, Errno> {
        Ok(match with_server(|e| e.sysctl(node))? {
            SysctlValue::Str(s) => {
                let mut v = s.into_bytes();
                v.push(0);
                v
            }
            SysctlValue::Bool(b) => vec![b as u8],
            SysctlValue::Int(i) => (i as i32).to_ne_bytes().to_vec(),
        })
    };
    match mib {
        [1, 2] => value(Sysctl::OsRelease),
        [1, 3] => value(Sysctl::OsRevision),
        [1, 9] => value(Sysctl::Securelevel),
        [6, 1] => value(Sysctl::Machine),
        [1, -2] => Ok(node(KERN_MODULE, "module")),
        [1, KERN_MODULE, -2] => {
            let mut v = node(MODULE_PATH, "path");
            v.extend(node(MODULE_AUTOLOAD, "autoload"));
            Ok(v)
        }
        [1, KERN_MODULE, MODULE_PATH] => value(Sysctl::ModulePath),
        [1, KERN_MODULE, MODULE_AUTOLOAD] => value(Sysctl::ModuleAutoload),
        _ => Err(Errno::ENOENT),
    }
}

/// # Safety
/// As sysctl(3): `name` has `namelen` entries, `oldp`/`oldlenp` describe a
/// writable buffer (or are NULL).
#[no_mangle]
pub unsafe extern "C" fn rump___sysimpl___sysctl(
    name: *const c_int,
    namelen: c_uint,
    oldp: *mut c_void,
    oldlenp: *mut usize,
    _newp: *const c_void,
    _newlen: usize,
) -> c_int {
    // SAFETY: the caller's `name` has `namelen` entries.
    let mib = unsafe { std::slice::from_raw_parts(name, namelen as usize) };
    match answer(mib) {
        Ok(data) => {
            if !oldlenp.is_null() {
                // SAFETY: `oldlenp` is not null and the caller's to read.
                let room = unsafe { *oldlenp };
                let n = data.len().min(if oldp.is_null() { 0 } else { room });
                if n > 0 {
                    // SAFETY: `oldp` holds `room` >= n writable bytes,
                    // apart from `data`.
                    unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), oldp as *mut u8, n) };
                }
                // SAFETY: `oldlenp` is not null and the caller's to write.
                unsafe { *oldlenp = data.len() };
            }
            0
        }
        Err(e) => {
            set_errno(e.0);
            -1
        }
    }
}
