//! The safe API over a [`Backend`]: load, unload, stat, exists.
//!
//! This layer marshals arguments exactly as NetBSD's tools do, so the same
//! bytes reach a real kernel, a rump kernel or the emulator.

use std::ffi::CString;
use std::fmt;
use std::os::raw::c_void;

use crate::abi::*;
use crate::backend::{Backend, Sysctl, SysctlValue};
use crate::errno::Errno;
use crate::stat::{self, ModStat, StatAbi, StatError};

/// What the stat call starts with; NetBSD's modstat uses the same.
pub const STAT_INITIAL_LEN: usize = 8192;

/// A failed modctl(2) operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModctlError {
    /// The kernel refused with this NetBSD errno.
    Kernel(Errno),
    /// The kernel returned a stat buffer we cannot decode.
    Decode(StatError),
    /// A string argument holds a NUL byte, which C strings cannot carry.
    InteriorNul,
}

impl ModctlError {
    /// The NetBSD errno to report: the kernel's, or EINVAL for the rest.
    pub fn errno(&self) -> Errno {
        match self {
            ModctlError::Kernel(e) => *e,
            ModctlError::Decode(_) | ModctlError::InteriorNul => Errno::EINVAL,
        }
    }
}

impl fmt::Display for ModctlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ModctlError::Kernel(e) => write!(f, "{e}"),
            ModctlError::Decode(e) => write!(f, "{e}"),
            ModctlError::InteriorNul => write!(f, "{}", Errno::EINVAL),
        }
    }
}

impl std::error::Error for ModctlError {}

impl From<Errno> for ModctlError {
    fn from(e: Errno) -> Self {
        ModctlError::Kernel(e)
    }
}

/// The result of a listing: the modules and the ABI they came in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatList {
    pub abi: StatAbi,
    pub modules: Vec<ModStat>,
}

/// `modctl(2)` made safe.
pub struct Modctl<B: Backend> {
    backend: B,
}

impl<B: Backend> Modctl<B> {
    pub fn new(backend: B) -> Self {
        Modctl { backend }
    }

    pub fn backend(&self) -> &B {
        &self.backend
    }

    /// `MODCTL_LOAD`. `props` is the externalized plist without its NUL
    /// (modload always sends one); `None` passes NULL/0.
    pub fn load(
        &self,
        filename: &[u8],
        flags: i32,
        props: Option<&[u8]>,
    ) -> Result<(), ModctlError> {
        let filename = CString::new(filename).map_err(|_| ModctlError::InteriorNul)?;
        let props = props
            .map(|p| CString::new(p).map_err(|_| ModctlError::InteriorNul))
            .transpose()?;
        let mut ml = ModctlLoad {
            ml_filename: filename.as_ptr(),
            ml_flags: flags,
            ml_props: props.as_ref().map_or(std::ptr::null(), |p| p.as_ptr()),
            ml_propslen: props.as_ref().map_or(0, |p| p.as_bytes().len()),
        };
        // SAFETY: `ml` and the strings it points to outlive the call.
        unsafe {
            self.backend
                .modctl(MODCTL_LOAD, &mut ml as *mut ModctlLoad as *mut c_void)
        }
        .map_err(ModctlError::Kernel)
    }

    /// `MODCTL_UNLOAD`.
    pub fn unload(&self, name: &[u8]) -> Result<(), ModctlError> {
        let name = CString::new(name).map_err(|_| ModctlError::InteriorNul)?;
        // SAFETY: a NUL-terminated string that outlives the call.
        unsafe {
            self.backend
                .modctl(MODCTL_UNLOAD, name.as_ptr() as *mut c_void)
        }
        .map_err(ModctlError::Kernel)
    }

    /// `MODCTL_EXISTS` with [`EXISTS_LOAD`] or [`EXISTS_AUTOLOAD`].
    pub fn exists(&self, which: usize) -> Result<(), Errno> {
        // SAFETY: the argument is an integer, never dereferenced.
        unsafe { self.backend.modctl(MODCTL_EXISTS, exists_arg(which)) }
    }

    /// The raw stat buffer of one command: grows to the `iov_len` the
    /// kernel reports and retries until everything fits.
    pub fn stat_raw(&self, cmd: i32) -> Result<Vec<u8>, Errno> {
        let mut len = STAT_INITIAL_LEN;
        loop {
            let mut buf = vec![0u8; len];
            let mut iov = IoVec {
                iov_base: buf.as_mut_ptr() as *mut c_void,
                iov_len: len,
            };
            // SAFETY: `iov` covers `buf`, which outlives the call.
            unsafe {
                self.backend
                    .modctl(cmd, &mut iov as *mut IoVec as *mut c_void)?
            };
            if iov.iov_len <= len {
                buf.truncate(iov.iov_len);
                return Ok(buf);
            }
            len = iov.iov_len;
        }
    }

    /// The module list: `MODCTL_STAT` (4) first, `MODCTL_STAT`/`OSTAT` (2)
    /// when the kernel does not know 4 (EINVAL).
    pub fn stat(&self) -> Result<StatList, ModctlError> {
        let (abi, buf) = match self.stat_raw(MODCTL_STAT) {
            Ok(buf) => (StatAbi::V2, buf),
            Err(Errno::EINVAL) => (StatAbi::V1, self.stat_raw(MODCTL_OSTAT)?),
            Err(e) => return Err(ModctlError::Kernel(e)),
        };
        let modules = stat::decode(abi, &buf).map_err(ModctlError::Decode)?;
        Ok(StatList { abi, modules })
    }

    pub fn sysctl(&self, node: Sysctl) -> Result<SysctlValue, Errno> {
        self.backend.sysctl(node)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::ffi::CStr;

    /// A backend that answers from a script and records what it was asked.
    struct Scripted {
        /// Full stat buffers by command; absent = EINVAL.
        v2: Option<Vec<u8>>,
        v1: Option<Vec<u8>>,
        calls: RefCell<Vec<(i32, usize)>>,
        loads: RefCell<Vec<(String, i32, Option<String>)>>,
    }

    impl Backend for Scripted {
        unsafe fn modctl(&self, cmd: i32, arg: *mut c_void) -> Result<(), Errno> {
            match cmd {
                MODCTL_STAT | MODCTL_OSTAT => {
                    // SAFETY: the library passes its own aligned IoVec.
                    let iov = unsafe { &mut *(arg as *mut IoVec) };
                    self.calls.borrow_mut().push((cmd, iov.iov_len));
                    let full = if cmd == MODCTL_STAT {
                        &self.v2
                    } else {
                        &self.v1
                    };
                    let full = full.as_ref().ok_or(Errno::EINVAL)?;
                    let n = full.len().min(iov.iov_len);
                    // SAFETY: `iov_base` holds `iov_len` >= n writable bytes.
                    unsafe {
                        std::ptr::copy_nonoverlapping(full.as_ptr(), iov.iov_base as *mut u8, n)
                    };
                    iov.iov_len = full.len();
                    Ok(())
                }
                MODCTL_LOAD => {
                    // SAFETY: the library passes its own aligned ModctlLoad,
                    // whose strings are NUL-terminated (or props null).
                    let ml = unsafe { &*(arg as *const ModctlLoad) };
                    // SAFETY: as above.
                    let name = unsafe { CStr::from_ptr(ml.ml_filename) };
                    let name = name.to_str().unwrap().to_string();
                    let props = (!ml.ml_props.is_null()).then(|| {
                        // SAFETY: as above, and not null.
                        let p = unsafe { CStr::from_ptr(ml.ml_props) };
                        p.to_str().unwrap().to_string()
                    });
                    if let Some(p) = &props {
                        assert_eq!(p.len(), ml.ml_propslen);
                    }
                    self.loads.borrow_mut().push((name, ml.ml_flags, props));
                    Ok(())
                }
                MODCTL_UNLOAD => {
                    // SAFETY: the library passes a NUL-terminated name.
                    let name = unsafe { CStr::from_ptr(arg as *const _) }.to_bytes();
                    if name == b"busy" {
                        Err(Errno::EBUSY)
                    } else {
                        Ok(())
                    }
                }
                MODCTL_EXISTS => match arg as usize {
                    0 => Ok(()),
                    1 => Err(Errno::EPERM),
                    _ => Err(Errno::EINVAL),
                },
                _ => Err(Errno::EINVAL),
            }
        }
        fn sysctl(&self, _: Sysctl) -> Result<SysctlValue, Errno> {
            Err(Errno::ENOENT)
        }
    }

    fn scripted(v2: Option<Vec<u8>>, v1: Option<Vec<u8>>) -> Modctl<Scripted> {
        Modctl::new(Scripted {
            v2,
            v1,
            calls: RefCell::default(),
            loads: RefCell::default(),
        })
    }

    fn many(n: usize) -> Vec<ModStat> {
        (0..n)
            .map(|i| ModStat {
                name: format!("mod{i}").into(),
                class: 1,
                source: 2,
                flags: 0,
                refcnt: 0,
                addr: 0,
                size: 0,
                required: if i % 2 == 0 {
                    b"a,b".to_vec()
                } else {
                    Vec::new()
                },
            })
            .collect()
    }

    #[test]
    fn grows_and_retries_v2() {
        let mods = many(300); // 4 + 300*64 + strings > 8192
        let mc = scripted(Some(stat::encode_v2(&mods)), None);
        let list = mc.stat().unwrap();
        assert_eq!(list.abi, StatAbi::V2);
        assert_eq!(list.modules, mods);
        let calls = mc.backend().calls.borrow();
        let full = stat::encode_v2(&mods).len();
        assert_eq!(*calls, vec![(MODCTL_STAT, 8192), (MODCTL_STAT, full)]);
    }

    #[test]
    fn falls_back_to_command_2_on_einval() {
        let mods = many(30); // 30*392 > 8192
        let mc = scripted(None, Some(stat::encode_v1(&mods, false)));
        let list = mc.stat().unwrap();
        assert_eq!(list.abi, StatAbi::V1);
        assert_eq!(list.modules, mods);
        let calls = mc.backend().calls.borrow();
        assert_eq!(
            *calls,
            vec![
                (MODCTL_STAT, 8192),
                (MODCTL_OSTAT, 8192),
                (MODCTL_OSTAT, 30 * 392)
            ]
        );
    }

    #[test]
    fn stat_fails_when_neither_command_works() {
        let mc = scripted(None, None);
        assert_eq!(mc.stat(), Err(ModctlError::Kernel(Errno::EINVAL)));
    }

    #[test]
    fn small_buffers_need_no_retry() {
        let mods = many(2);
        let mc = scripted(Some(stat::encode_v2(&mods)), None);
        mc.stat().unwrap();
        assert_eq!(mc.backend().calls.borrow().len(), 1);
    }

    #[test]
    fn undecodable_buffers_are_errors() {
        let mc = scripted(Some(vec![5, 0, 0, 0, 1]), None);
        assert!(matches!(mc.stat(), Err(ModctlError::Decode(_))));
    }

    #[test]
    fn load_marshals_like_modload() {
        let mc = scripted(None, None);
        mc.load(b"tmpfs", MODCTL_LOAD_FORCE, Some(b"<plist/>"))
            .unwrap();
        mc.load(b"/x/y.kmod", MODCTL_NO_PROP, None).unwrap();
        assert_eq!(
            *mc.backend().loads.borrow(),
            vec![
                ("tmpfs".into(), 1, Some("<plist/>".into())),
                ("/x/y.kmod".into(), 2, None)
            ]
        );
        assert_eq!(mc.load(b"a\0b", 0, None), Err(ModctlError::InteriorNul));
    }

    #[test]
    fn unload_and_exists() {
        let mc = scripted(None, None);
        assert_eq!(mc.unload(b"x"), Ok(()));
        assert_eq!(mc.unload(b"busy"), Err(ModctlError::Kernel(Errno::EBUSY)));
        assert_eq!(mc.exists(EXISTS_LOAD), Ok(()));
        assert_eq!(mc.exists(EXISTS_AUTOLOAD), Err(Errno::EPERM));
        assert_eq!(mc.exists(7), Err(Errno::EINVAL));
    }
}
