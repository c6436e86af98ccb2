//! The one seam to a kernel.
//!
//! Every backend has the shape of the system call itself: `modctl(cmd, arg)`
//! over raw pointers laid out as the kernel's ABI, plus the few sysctl reads
//! the tools need. The safe API in [`crate::modctl`] sits above it.

use std::os::raw::{c_int, c_void};

use crate::errno::Errno;

pub mod rump;

#[cfg(any(target_os = "netbsd", netbsd_backend_check))]
pub mod netbsd;

/// The sysctl nodes the tools read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sysctl {
    /// `kern.module.path` (string)
    ModulePath,
    /// `kern.module.autoload` (bool)
    ModuleAutoload,
    /// `kern.osrevision` (int, `__NetBSD_Version__`)
    OsRevision,
    /// `kern.osrelease` (string, e.g. "10.1")
    OsRelease,
    /// `hw.machine` (string, e.g. "amd64")
    Machine,
    /// `kern.securelevel` (int)
    Securelevel,
}

impl Sysctl {
    pub const ALL: [Sysctl; 6] = [
        Sysctl::ModulePath,
        Sysctl::ModuleAutoload,
        Sysctl::OsRevision,
        Sysctl::OsRelease,
        Sysctl::Machine,
        Sysctl::Securelevel,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Sysctl::ModulePath => "kern.module.path",
            Sysctl::ModuleAutoload => "kern.module.autoload",
            Sysctl::OsRevision => "kern.osrevision",
            Sysctl::OsRelease => "kern.osrelease",
            Sysctl::Machine => "hw.machine",
            Sysctl::Securelevel => "kern.securelevel",
        }
    }

    pub fn from_name(name: &str) -> Option<Sysctl> {
        Sysctl::ALL.into_iter().find(|s| s.name() == name)
    }

    /// The node's type as the kernel declares it.
    pub fn kind(self) -> SysctlKind {
        match self {
            Sysctl::ModulePath | Sysctl::OsRelease | Sysctl::Machine => SysctlKind::String,
            Sysctl::ModuleAutoload => SysctlKind::Bool,
            Sysctl::OsRevision | Sysctl::Securelevel => SysctlKind::Int,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SysctlKind {
    Int,
    Bool,
    String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SysctlValue {
    Int(i64),
    Bool(bool),
    Str(String),
}

impl SysctlValue {
    pub fn as_int(&self) -> Option<i64> {
        match self {
            SysctlValue::Int(v) => Some(*v),
            SysctlValue::Bool(b) => Some(*b as i64),
            SysctlValue::Str(_) => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            SysctlValue::Str(s) => Some(s),
            _ => None,
        }
    }
}

/// A kernel, real or emulated.
pub trait Backend {
    /// `modctl(2)`: `Ok` for 0, `Err` with the NetBSD errno for -1.
    ///
    /// # Safety
    /// `arg` must be what the kernel expects for `cmd`: a valid
    /// `ModctlLoad` for `MODCTL_LOAD` (with its strings), a NUL-terminated
    /// name for `MODCTL_UNLOAD`, a valid `IoVec` over writable memory for the
    /// stat commands, an integer for `MODCTL_EXISTS`.
    unsafe fn modctl(&self, cmd: c_int, arg: *mut c_void) -> Result<(), Errno>;

    /// Reads one of the sysctl nodes the tools need.
    fn sysctl(&self, node: Sysctl) -> Result<SysctlValue, Errno>;
}

impl<B: Backend + ?Sized> Backend for Box<B> {
    unsafe fn modctl(&self, cmd: c_int, arg: *mut c_void) -> Result<(), Errno> {
        // SAFETY: the same contract, passed on unchanged.
        unsafe { (**self).modctl(cmd, arg) }
    }
    fn sysctl(&self, node: Sysctl) -> Result<SysctlValue, Errno> {
        (**self).sysctl(node)
    }
}

/// A backend shared with the code that also asks it for more than the
/// kernel interface (the emulator's own facts).
impl<B: Backend + ?Sized> Backend for std::rc::Rc<B> {
    unsafe fn modctl(&self, cmd: c_int, arg: *mut c_void) -> Result<(), Errno> {
        // SAFETY: the same contract, passed on unchanged.
        unsafe { (**self).modctl(cmd, arg) }
    }
    fn sysctl(&self, node: Sysctl) -> Result<SysctlValue, Errno> {
        (**self).sysctl(node)
    }
}

/// Interprets a sysctl's bytes by the node's type. A bool node is one byte
/// (modstat's 4-byte read of it is a known big-endian bug we avoid).
pub fn decode_sysctl(kind: SysctlKind, data: &[u8]) -> SysctlValue {
    match kind {
        SysctlKind::Bool => SysctlValue::Bool(data.first().is_some_and(|&b| b != 0)),
        SysctlKind::Int => SysctlValue::Int(match data.len() {
            8 => i64::from_ne_bytes(data.try_into().unwrap_or_default()),
            4 => i32::from_ne_bytes(data.try_into().unwrap_or_default()) as i64,
            _ => 0,
        }),
        SysctlKind::String => {
            let end = data.iter().position(|&b| b == 0).unwrap_or(data.len());
            SysctlValue::Str(String::from_utf8_lossy(&data[..end]).into_owned())
        }
    }
}
