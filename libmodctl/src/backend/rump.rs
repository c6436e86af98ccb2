//! A rump kernel through `librumpclient`, loaded at run time.
//!
//! NetBSD's convention: a tool invoked as `rump.modload` (etc.) talks to
//! the rump kernel named by `RUMP_SERVER`. Errnos come back from the server
//! as NetBSD numbers, whatever the host.

use std::fmt;
use std::os::raw::{c_int, c_uint, c_void};

use super::{decode_sysctl, Backend, Sysctl, SysctlValue};
use crate::errno::Errno;

/// Library names tried in order.
pub const LIBRARY_NAMES: [&str; 2] = ["librumpclient.so.0", "librumpclient.so"];

/// sysctl(3) MIB constants (`sys/sysctl.h`).
const CTL_KERN: c_int = 1;
const CTL_HW: c_int = 6;
const KERN_OSRELEASE: c_int = 2;
const KERN_OSREV: c_int = 3;
const KERN_SECURELVL: c_int = 9;
const HW_MACHINE: c_int = 1;
const CTL_QUERY: c_int = -2;
const SYSCTL_VERSION: u32 = 0x0100_0000;

/// `struct sysctlnode`: flags u32 @0, num i32 @4, name[32] @8, ver, rsvd,
/// a 16-byte union, then size_t and three pointers.
pub const SYSCTLNODE_NAME_OFF: usize = 8;
pub const SYSCTLNODE_SIZE: usize = 64 + 4 * std::mem::size_of::<usize>();

type InitFn = unsafe extern "C" fn() -> c_int;
type ModctlFn = unsafe extern "C" fn(c_int, *mut c_void) -> c_int;
type SysctlFn = unsafe extern "C" fn(
    *const c_int,
    c_uint,
    *mut c_void,
    *mut usize,
    *const c_void,
    usize,
) -> c_int;

/// Why a rump kernel could not be reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RumpError {
    /// No `librumpclient` could be loaded (the loader's message).
    LibraryMissing(String),
    /// The library lacks a symbol we need.
    MissingSymbol(&'static str),
    /// `rumpclient_init()` failed with this errno (the library has already
    /// said why on stderr, e.g. `error: RUMP_SERVER not set`).
    InitFailed(Errno),
}

impl RumpError {
    /// The errno NetBSD's tools would report as `prog init failed: ...`.
    pub fn errno(&self) -> Errno {
        match self {
            RumpError::LibraryMissing(_) | RumpError::MissingSymbol(_) => Errno::ENOENT,
            RumpError::InitFailed(e) => *e,
        }
    }
}

impl fmt::Display for RumpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RumpError::LibraryMissing(why) => write!(f, "cannot load librumpclient: {why}"),
            RumpError::MissingSymbol(s) => write!(f, "librumpclient has no {s}"),
            RumpError::InitFailed(e) => write!(f, "rumpclient_init: {e}"),
        }
    }
}

impl std::error::Error for RumpError {}

/// The exported names of `modctl` and `__sysctl`, first the one a real
/// `librumpclient` exports (`<rump/rump_syscalls.h>` maps the C spelling
/// `rump_sys_X` to the symbol `rump___sysimpl_X` with a macro), then the C
/// spelling itself, which only some old libraries export.
pub const MODCTL_SYMBOLS: [&str; 2] = ["rump___sysimpl_modctl", "rump_sys_modctl"];
pub const SYSCTL_SYMBOLS: [&str; 2] = ["rump___sysimpl___sysctl", "rump_sys___sysctl"];

/// The first of `names` the library exports; when it has none, the error
/// names the first, the one a real library has.
///
/// # Safety
/// `T` must be the C type of each named symbol.
unsafe fn symbol<'l, T>(
    lib: &'l libloading::Library,
    names: [&'static str; 2],
) -> Result<libloading::Symbol<'l, T>, RumpError> {
    for name in names {
        let mut c = Vec::with_capacity(name.len() + 1);
        c.extend_from_slice(name.as_bytes());
        c.push(0);
        // SAFETY: the caller vouches that `T` is the symbol's C type.
        if let Ok(sym) = unsafe { lib.get::<T>(&c) } {
            return Ok(sym);
        }
    }
    Err(RumpError::MissingSymbol(names[0]))
}

/// A connected rump client.
pub struct Rump {
    _lib: libloading::Library,
    modctl: ModctlFn,
    sysctl: SysctlFn,
}

fn last_errno_raw() -> c_int {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

impl Rump {
    /// Loads `librumpclient` and calls `rumpclient_init()`.
    pub fn connect() -> Result<Rump, RumpError> {
        let mut why = String::new();
        for name in LIBRARY_NAMES {
            // SAFETY: loading librumpclient runs only its initialisers.
            match unsafe { libloading::Library::new(name) } {
                Ok(lib) => return Rump::init(lib),
                Err(e) => {
                    if why.is_empty() {
                        why = e.to_string();
                    }
                }
            }
        }
        Err(RumpError::LibraryMissing(why))
    }

    fn init(lib: libloading::Library) -> Result<Rump, RumpError> {
        // SAFETY: the symbols have these C signatures in librumpclient.
        unsafe {
            let init: InitFn = *lib
                .get::<InitFn>(b"rumpclient_init\0")
                .map_err(|_| RumpError::MissingSymbol("rumpclient_init"))?;
            let modctl: ModctlFn = *symbol(&lib, MODCTL_SYMBOLS)?;
            let sysctl: SysctlFn = *symbol(&lib, SYSCTL_SYMBOLS)?;
            if init() != 0 {
                // The client library's own failure: a host errno.
                return Err(RumpError::InitFailed(Errno::from_host(last_errno_raw())));
            }
            Ok(Rump {
                _lib: lib,
                modctl,
                sysctl,
            })
        }
    }

    fn sysctl_raw(
        &self,
        mib: &[c_int],
        old: &mut [u8],
        new: Option<&[u8]>,
    ) -> Result<usize, Errno> {
        let mut len = old.len();
        let (newp, newlen) = new.map_or((std::ptr::null(), 0), |n| (n.as_ptr(), n.len()));
        // SAFETY: mib, old and new are valid for the lengths given.
        let rc = unsafe {
            (self.sysctl)(
                mib.as_ptr(),
                mib.len() as c_uint,
                old.as_mut_ptr() as *mut c_void,
                &mut len,
                newp as *const c_void,
                newlen,
            )
        };
        if rc != 0 {
            // rump syscalls report the server's (NetBSD) errno.
            return Err(Errno(last_errno_raw()));
        }
        Ok(len.min(old.len()))
    }

    /// Finds a dynamic node's number under `parent` with CTL_QUERY, as
    /// sysctlbyname(3) does.
    fn child_num(&self, parent: &[c_int], name: &str) -> Result<c_int, Errno> {
        let mut mib = parent.to_vec();
        mib.push(CTL_QUERY);
        let mut query = vec![0u8; SYSCTLNODE_SIZE];
        query[0..4].copy_from_slice(&SYSCTL_VERSION.to_ne_bytes());
        let mut buf = vec![0u8; SYSCTLNODE_SIZE * 256];
        let len = self.sysctl_raw(&mib, &mut buf, Some(&query))?;
        find_node(&buf[..len], name).ok_or(Errno::ENOENT)
    }

    fn mib(&self, node: Sysctl) -> Result<Vec<c_int>, Errno> {
        Ok(match node {
            Sysctl::OsRelease => vec![CTL_KERN, KERN_OSRELEASE],
            Sysctl::OsRevision => vec![CTL_KERN, KERN_OSREV],
            Sysctl::Securelevel => vec![CTL_KERN, KERN_SECURELVL],
            Sysctl::Machine => vec![CTL_HW, HW_MACHINE],
            Sysctl::ModulePath | Sysctl::ModuleAutoload => {
                let module = self.child_num(&[CTL_KERN], "module")?;
                let leaf = if node == Sysctl::ModulePath {
                    "path"
                } else {
                    "autoload"
                };
                let num = self.child_num(&[CTL_KERN, module], leaf)?;
                vec![CTL_KERN, module, num]
            }
        })
    }
}

/// The number of the node called `name` in a CTL_QUERY answer.
pub fn find_node(nodes: &[u8], name: &str) -> Option<c_int> {
    nodes.chunks_exact(SYSCTLNODE_SIZE).find_map(|n| {
        let raw = &n[SYSCTLNODE_NAME_OFF..SYSCTLNODE_NAME_OFF + 32];
        let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
        (&raw[..end] == name.as_bytes()).then(|| c_int::from_ne_bytes(n[4..8].try_into().unwrap()))
    })
}

impl Backend for Rump {
    unsafe fn modctl(&self, cmd: c_int, arg: *mut c_void) -> Result<(), Errno> {
        // SAFETY: `self.modctl` is librumpclient's modctl, which the rump
        // kernel serves as modctl(2); `arg` is as the trait's contract says.
        if unsafe { (self.modctl)(cmd, arg) } == 0 {
            Ok(())
        } else {
            Err(Errno(last_errno_raw()))
        }
    }

    fn sysctl(&self, node: Sysctl) -> Result<SysctlValue, Errno> {
        let mib = self.mib(node)?;
        let mut buf = [0u8; 1024];
        let len = self.sysctl_raw(&mib, &mut buf, None)?;
        Ok(decode_sysctl(node.kind(), &buf[..len]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lookup order, against a library every Linux host has.
    #[cfg(target_os = "linux")]
    #[test]
    fn symbol_falls_back_and_names_the_first() {
        // SAFETY: loading libc runs no initialisers of consequence.
        let lib = unsafe { libloading::Library::new("libc.so.6") }.unwrap();
        type GetPid = unsafe extern "C" fn() -> c_int;
        // SAFETY: getpid has this signature.
        let pid = unsafe { (*symbol::<GetPid>(&lib, ["no_such_symbol_x", "getpid"]).unwrap())() };
        assert_eq!(pid as u32, std::process::id());
        // SAFETY: never called.
        let missing = unsafe { symbol::<GetPid>(&lib, ["no_such_a", "no_such_b"]) };
        assert_eq!(missing.err(), Some(RumpError::MissingSymbol("no_such_a")));
        assert_eq!(
            RumpError::MissingSymbol(MODCTL_SYMBOLS[0]).to_string(),
            "librumpclient has no rump___sysimpl_modctl"
        );
    }

    #[test]
    fn finds_nodes_in_a_query_answer() {
        let mut buf = vec![0u8; SYSCTLNODE_SIZE * 2];
        buf[4..8].copy_from_slice(&7i32.to_ne_bytes());
        buf[8..12].copy_from_slice(b"path");
        let second = &mut buf[SYSCTLNODE_SIZE..];
        second[4..8].copy_from_slice(&1030i32.to_ne_bytes());
        second[8..16].copy_from_slice(b"autoload");
        assert_eq!(find_node(&buf, "autoload"), Some(1030));
        assert_eq!(find_node(&buf, "path"), Some(7));
        assert_eq!(find_node(&buf, "pat"), None);
        assert_eq!(find_node(&buf[..10], "path"), None);
    }
}
