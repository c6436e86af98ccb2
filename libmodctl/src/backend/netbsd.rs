//! The real kernel: `modctl(2)` and `sysctlbyname(3)` of NetBSD's libc.
//!
//! Compiled on NetBSD; on other hosts `--cfg netbsd_backend_check` makes it
//! type-check (no linking) so it cannot rot.

use std::ffi::CString;
use std::os::raw::{c_char, c_int, c_void};

use super::{decode_sysctl, Backend, Sysctl, SysctlValue};
use crate::errno::Errno;

extern "C" {
    // libc has no binding for modctl; <sys/module.h> declares it.
    fn modctl(cmd: c_int, arg: *mut c_void) -> c_int;
    fn sysctlbyname(
        name: *const c_char,
        oldp: *mut c_void,
        oldlenp: *mut usize,
        newp: *const c_void,
        newlen: usize,
    ) -> c_int;
}

/// The NetBSD errno of the last failed call (the host's numbers are NetBSD's).
fn last_errno() -> Errno {
    Errno(std::io::Error::last_os_error().raw_os_error().unwrap_or(0))
}

/// The running NetBSD kernel.
#[derive(Debug, Default, Clone, Copy)]
pub struct NetBsd;

impl Backend for NetBsd {
    unsafe fn modctl(&self, cmd: c_int, arg: *mut c_void) -> Result<(), Errno> {
        // SAFETY: the caller gives `arg` as the kernel expects it for
        // `cmd` (the trait's contract), which is all modctl(2) needs.
        if unsafe { modctl(cmd, arg) } == 0 {
            Ok(())
        } else {
            Err(last_errno())
        }
    }

    fn sysctl(&self, node: Sysctl) -> Result<SysctlValue, Errno> {
        let name = CString::new(node.name()).map_err(|_| Errno::EINVAL)?;
        let mut buf = [0u8; 1024];
        let mut len = buf.len();
        // SAFETY: buf/len describe a writable buffer; no new value is set.
        let rc = unsafe {
            sysctlbyname(
                name.as_ptr(),
                buf.as_mut_ptr() as *mut c_void,
                &mut len,
                std::ptr::null(),
                0,
            )
        };
        if rc != 0 {
            return Err(last_errno());
        }
        let data = &buf[..len.min(buf.len())];
        Ok(decode_sysctl(node.kind(), data))
    }
}
