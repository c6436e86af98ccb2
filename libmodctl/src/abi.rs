//! `#[repr(C)]` mirrors of the modctl(2) ABI (`sys/sys/module.h`).
//!
//! The native structs (`ModctlLoad`, `IoVec`) use host pointers; the
//! explicit-width twins (`*32`, `*64`) pin the ILP32 and LP64 layouts so both
//! are checked at compile time on any host.

use std::mem::{align_of, offset_of, size_of};
use std::os::raw::{c_char, c_int, c_void};

/// modctl(2) command numbers.
pub const MODCTL_LOAD: c_int = 0;
pub const MODCTL_UNLOAD: c_int = 1;
/// `MODCTL_STAT` on NetBSD ≤ 8; `MODCTL_OSTAT` (compat_80) on NetBSD ≥ 9.
pub const MODCTL_OSTAT: c_int = 2;
pub const MODCTL_EXISTS: c_int = 3;
/// The NetBSD ≥ 9 `MODCTL_STAT` (count + 64-byte records + strings).
pub const MODCTL_STAT: c_int = 4;

/// `ml_flags` bits.
pub const MODCTL_LOAD_FORCE: c_int = 0x1;
pub const MODCTL_NO_PROP: c_int = 0x2;

/// `ms_flags` bits (kernel-only in module.h, so defined here).
pub const MODFLG_MUST_FORCE: u32 = 0x1;
pub const MODFLG_AUTO_LOADED: u32 = 0x2;

/// `MODCTL_EXISTS` arguments.
pub const EXISTS_LOAD: usize = 0;
pub const EXISTS_AUTOLOAD: usize = 1;

/// Kernel limits.
pub const MAXMODNAME: usize = 32;
pub const MAXMODDEPS: usize = 10;
pub const MAXPATHLEN: usize = 1024;
pub const MAXPROPSLEN: usize = 4096;

/// `modctl_load_t` with host pointers.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ModctlLoad {
    pub ml_filename: *const c_char,
    pub ml_flags: c_int,
    pub ml_props: *const c_char,
    pub ml_propslen: usize,
}

/// `struct iovec` with host pointers.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct IoVec {
    pub iov_base: *mut c_void,
    pub iov_len: usize,
}

/// `modctl_load_t` of an ILP32 process (i386, netbsd32).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ModctlLoad32 {
    pub ml_filename: u32,
    pub ml_flags: i32,
    pub ml_props: u32,
    pub ml_propslen: u32,
}

/// `modctl_load_t` of an LP64 process (amd64). The padding an LP64 ABI
/// puts after `ml_flags` is spelled out, and the struct aligned to 8,
/// because `u64` alone is aligned to 4 on i386 hosts.
#[repr(C, align(8))]
#[derive(Debug, Clone, Copy)]
pub struct ModctlLoad64 {
    pub ml_filename: u64,
    pub ml_flags: i32,
    pub _pad: i32,
    pub ml_props: u64,
    pub ml_propslen: u64,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct IoVec32 {
    pub iov_base: u32,
    pub iov_len: u32,
}

/// `struct iovec` of an LP64 process; `align(8)` as for `ModctlLoad64`.
#[repr(C, align(8))]
#[derive(Debug, Clone, Copy)]
pub struct IoVec64 {
    pub iov_base: u64,
    pub iov_len: u64,
}

/// NetBSD ≥ 9 `modstat_t`: 64 bytes on every port. In the kernel's buffer
/// the records start at byte 4, so never cast the buffer to this type.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ModstatV2 {
    pub ms_name: [u8; MAXMODNAME],
    pub ms_addr: u64,
    pub ms_source: i32,
    pub ms_class: i32,
    pub ms_size: u32,
    pub ms_refcnt: u32,
    pub ms_flags: u32,
    /// Offset into the strings area after the records; 0 = none.
    pub ms_reqoffset: u32,
}

/// NetBSD ≤ 8 `modstat_t` (= ≥ 9 `omodstat_t`): 392 bytes on every port.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ModstatV1 {
    pub ms_name: [u8; MAXMODNAME],
    pub ms_required: [u8; MAXMODNAME * MAXMODDEPS],
    pub ms_addr: u64,
    pub ms_source: i32,
    pub ms_class: i32,
    pub ms_size: u32,
    pub ms_refcnt: u32,
    pub ms_flags: u32,
    pub ms_reserved: [u32; 3],
}

pub const MODSTAT_V2_SIZE: usize = 64;
pub const MODSTAT_V1_SIZE: usize = 392;

// Field offsets of modstat_t v2 (identical on ILP32 and LP64).
pub const V2_NAME: usize = 0;
pub const V2_ADDR: usize = 32;
pub const V2_SOURCE: usize = 40;
pub const V2_CLASS: usize = 44;
pub const V2_SIZE: usize = 48;
pub const V2_REFCNT: usize = 52;
pub const V2_FLAGS: usize = 56;
pub const V2_REQOFFSET: usize = 60;

// Field offsets of modstat_t v1 (identical on ILP32 and LP64).
pub const V1_NAME: usize = 0;
pub const V1_REQUIRED: usize = 32;
pub const V1_ADDR: usize = 352;
pub const V1_SOURCE: usize = 360;
pub const V1_CLASS: usize = 364;
pub const V1_SIZE: usize = 368;
pub const V1_REFCNT: usize = 372;
pub const V1_FLAGS: usize = 376;
pub const V1_RESERVED: usize = 380;

const _: () = {
    // LP64 (amd64).
    assert!(size_of::<ModctlLoad64>() == 32);
    assert!(offset_of!(ModctlLoad64, ml_filename) == 0);
    assert!(offset_of!(ModctlLoad64, ml_flags) == 8);
    assert!(offset_of!(ModctlLoad64, ml_props) == 16);
    assert!(offset_of!(ModctlLoad64, ml_propslen) == 24);
    assert!(size_of::<IoVec64>() == 16);
    assert!(offset_of!(IoVec64, iov_base) == 0);
    assert!(offset_of!(IoVec64, iov_len) == 8);
    // ILP32 (i386).
    assert!(size_of::<ModctlLoad32>() == 16);
    assert!(offset_of!(ModctlLoad32, ml_filename) == 0);
    assert!(offset_of!(ModctlLoad32, ml_flags) == 4);
    assert!(offset_of!(ModctlLoad32, ml_props) == 8);
    assert!(offset_of!(ModctlLoad32, ml_propslen) == 12);
    assert!(size_of::<IoVec32>() == 8);
    assert!(offset_of!(IoVec32, iov_base) == 0);
    assert!(offset_of!(IoVec32, iov_len) == 4);
    // modstat_t v2 and v1 are the same on both widths.
    assert!(size_of::<ModstatV2>() == MODSTAT_V2_SIZE);
    assert!(offset_of!(ModstatV2, ms_name) == V2_NAME);
    assert!(offset_of!(ModstatV2, ms_addr) == V2_ADDR);
    assert!(offset_of!(ModstatV2, ms_source) == V2_SOURCE);
    assert!(offset_of!(ModstatV2, ms_class) == V2_CLASS);
    assert!(offset_of!(ModstatV2, ms_size) == V2_SIZE);
    assert!(offset_of!(ModstatV2, ms_refcnt) == V2_REFCNT);
    assert!(offset_of!(ModstatV2, ms_flags) == V2_FLAGS);
    assert!(offset_of!(ModstatV2, ms_reqoffset) == V2_REQOFFSET);
    assert!(size_of::<ModstatV1>() == MODSTAT_V1_SIZE);
    assert!(offset_of!(ModstatV1, ms_name) == V1_NAME);
    assert!(offset_of!(ModstatV1, ms_required) == V1_REQUIRED);
    assert!(offset_of!(ModstatV1, ms_addr) == V1_ADDR);
    assert!(offset_of!(ModstatV1, ms_source) == V1_SOURCE);
    assert!(offset_of!(ModstatV1, ms_class) == V1_CLASS);
    assert!(offset_of!(ModstatV1, ms_size) == V1_SIZE);
    assert!(offset_of!(ModstatV1, ms_refcnt) == V1_REFCNT);
    assert!(offset_of!(ModstatV1, ms_flags) == V1_FLAGS);
    assert!(offset_of!(ModstatV1, ms_reserved) == V1_RESERVED);
    // The host structs match the layout of the host's pointer width.
    #[cfg(target_pointer_width = "64")]
    {
        assert!(size_of::<ModctlLoad>() == size_of::<ModctlLoad64>());
        assert!(offset_of!(ModctlLoad, ml_flags) == offset_of!(ModctlLoad64, ml_flags));
        assert!(offset_of!(ModctlLoad, ml_props) == offset_of!(ModctlLoad64, ml_props));
        assert!(offset_of!(ModctlLoad, ml_propslen) == offset_of!(ModctlLoad64, ml_propslen));
        assert!(align_of::<ModctlLoad>() == 8);
        assert!(size_of::<IoVec>() == size_of::<IoVec64>());
        assert!(offset_of!(IoVec, iov_len) == offset_of!(IoVec64, iov_len));
    }
    #[cfg(target_pointer_width = "32")]
    {
        assert!(size_of::<ModctlLoad>() == size_of::<ModctlLoad32>());
        assert!(offset_of!(ModctlLoad, ml_flags) == offset_of!(ModctlLoad32, ml_flags));
        assert!(offset_of!(ModctlLoad, ml_props) == offset_of!(ModctlLoad32, ml_props));
        assert!(offset_of!(ModctlLoad, ml_propslen) == offset_of!(ModctlLoad32, ml_propslen));
        assert!(align_of::<ModctlLoad>() == 4);
        assert!(size_of::<IoVec>() == size_of::<IoVec32>());
        assert!(offset_of!(IoVec, iov_len) == offset_of!(IoVec32, iov_len));
    }
    // Built for NetBSD, the host iovec is the one the libc crate declares.
    #[cfg(target_os = "netbsd")]
    {
        assert!(size_of::<IoVec>() == size_of::<libc::iovec>());
        assert!(align_of::<IoVec>() == align_of::<libc::iovec>());
        assert!(offset_of!(IoVec, iov_len) == offset_of!(libc::iovec, iov_len));
    }
};

// Every NetBSD port is ILP32 or LP64; the asserts above cover only those.
#[cfg(not(any(target_pointer_width = "32", target_pointer_width = "64")))]
compile_error!("modctl(2) layouts are checked for 32- and 64-bit pointers only");

/// `modclass_t`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i32)]
pub enum ModClass {
    Any = 0,
    Misc = 1,
    Vfs = 2,
    Driver = 3,
    Exec = 4,
    Secmodel = 5,
    Bufq = 6,
}

/// `MODULE_CLASS_MAX` of NetBSD ≥ 8 (with bufq); before bufq it was 6.
pub const MODULE_CLASS_MAX: i32 = 7;
pub const MODULE_CLASS_MAX_NO_BUFQ: i32 = 6;

impl ModClass {
    pub const ALL: [ModClass; 7] = [
        ModClass::Any,
        ModClass::Misc,
        ModClass::Vfs,
        ModClass::Driver,
        ModClass::Exec,
        ModClass::Secmodel,
        ModClass::Bufq,
    ];

    pub fn from_raw(v: i32) -> Option<ModClass> {
        usize::try_from(v)
            .ok()
            .and_then(|i| ModClass::ALL.get(i).copied())
    }

    /// The name modstat(8) prints.
    pub fn name(self) -> &'static str {
        ["any", "misc", "vfs", "driver", "exec", "secmodel", "bufq"][self as usize]
    }

    pub fn from_name(name: &str) -> Option<ModClass> {
        ModClass::ALL.into_iter().find(|c| c.name() == name)
    }
}

/// modstat's name for a raw class value; `UNKNOWN` out of range.
pub fn class_name(raw: i32) -> &'static str {
    ModClass::from_raw(raw).map_or("UNKNOWN", ModClass::name)
}

/// `modsrc_t`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i32)]
pub enum ModSource {
    Builtin = 0,
    Boot = 1,
    Filesys = 2,
}

impl ModSource {
    pub fn from_raw(v: i32) -> Option<ModSource> {
        match v {
            0 => Some(ModSource::Builtin),
            1 => Some(ModSource::Boot),
            2 => Some(ModSource::Filesys),
            _ => None,
        }
    }

    /// The name modstat(8) prints.
    pub fn name(self) -> &'static str {
        ["builtin", "boot", "filesys"][self as usize]
    }
}

/// modstat's name for a raw source value; `UNKNOWN` out of range.
pub fn source_name(raw: i32) -> &'static str {
    ModSource::from_raw(raw).map_or("UNKNOWN", ModSource::name)
}

/// modstat's FLAG column: `{"-","f","a","af"}[flags & 3]`.
pub fn flag_name(flags: u32) -> &'static str {
    ["-", "f", "a", "af"][(flags & 3) as usize]
}

/// `arg` for `MODCTL_EXISTS`: the integer travels in the pointer.
pub fn exists_arg(which: usize) -> *mut c_void {
    which as *mut c_void
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(class_name(5), "secmodel");
        assert_eq!(class_name(6), "bufq");
        assert_eq!(class_name(7), "UNKNOWN");
        assert_eq!(class_name(-1), "UNKNOWN");
        assert_eq!(source_name(0), "builtin");
        assert_eq!(source_name(2), "filesys");
        assert_eq!(source_name(3), "UNKNOWN");
        assert_eq!(flag_name(0), "-");
        assert_eq!(flag_name(1), "f");
        assert_eq!(flag_name(2), "a");
        assert_eq!(flag_name(3 | 4), "af");
        assert_eq!(ModClass::from_name("vfs"), Some(ModClass::Vfs));
    }

    #[test]
    fn runtime_layouts_match_the_constants() {
        assert_eq!(size_of::<ModctlLoad64>(), 32);
        assert_eq!(align_of::<ModctlLoad64>(), 8);
        assert_eq!(size_of::<ModctlLoad32>(), 16);
        assert_eq!(size_of::<ModstatV2>(), 64);
        assert_eq!(size_of::<ModstatV1>(), 392);
        assert_eq!(exists_arg(EXISTS_AUTOLOAD) as usize, 1);
    }
}
