//! Why the kernel said no, from what userland can see.
//!
//! NetBSD's tools print only `strerror(errno)` and leave the reason on the
//! console. The tools print that same line, then at most one line from
//! here. Everything here is a fact read from the kernel's state or the
//! module file; when nothing concrete is known, the answer is `None`.

use libmodctl::abi::{ModClass, ModSource};
use libmodctl::errno::Errno;
use libmodctl::plist::Dict;
use libmodctl::ModName;
use modobj::findings::Detail;
use modobj::kmod::Kmod;
use modobj::rules::split_required;
use modobj::validate::{self, blocking_finding};

use crate::explain::dryrun;
use crate::explain::reason::Reason;
use crate::explain::view::KernelView;
use crate::kernel::KernelConnection;

/// A load refused before submission, as the kernel would refuse it.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub errno: Errno,
    /// The validator's finding that refuses it.
    pub finding: Detail,
}

/// Checks the module file before submission when the kernel would get as
/// far as reading it; `Some` when the kernel would certainly refuse.
pub fn prevalidate(k: &KernelConnection, operand: &[u8], flags: i32) -> Option<Refusal> {
    let view = KernelView::read(k);
    // The kernel answers these before it opens any file; names compare
    // as bytes.
    let known = !operand.contains(&b'/')
        && (view.active(operand).is_some() || view.disabled_builtin(operand).is_some());
    if view.unreadable.is_some() || view.permission_reason().is_some() || known {
        return None;
    }
    let target = view.target.as_ref()?;
    let (file, _) = view.module_file(operand)?;
    // Only a regular file can be read twice: a pipe (`/dev/stdin`) read
    // here would reach the kernel empty, so the kernel reads it alone.
    if !std::fs::metadata(&file).is_ok_and(|m| m.is_file()) {
        return None;
    }
    let kmod = Kmod::open(&file).ok()?;
    let findings = validate::validate(&kmod, target);
    let f = blocking_finding(&findings, flags)?;
    Some(Refusal {
        errno: f.errno,
        finding: f.detail.clone(),
    })
}

/// Loaded modules that require `name`.
fn dependants(view: &KernelView, name: &[u8]) -> Vec<ModName> {
    view.modules
        .iter()
        .filter(|m| m.refcnt != u32::MAX && split_required(&m.required).iter().any(|r| r == name))
        .map(|m| m.name.clone())
        .collect()
}

/// Why a `MODCTL_LOAD` of `operand` failed with `errno`, when known: the
/// dry run's finding when it reaches the same errno, or the module's own
/// INIT when the errno is none the loader produces.
pub fn load(
    k: &KernelConnection,
    operand: &[u8],
    flags: i32,
    props: &Dict,
    errno: Errno,
) -> Option<String> {
    if errno == Errno::EIO {
        if let Some(why) = k.failure_detail() {
            return Some(why);
        }
    }
    let report = dryrun::dry_run(k, operand, flags, props);
    if report.verdict == Some(errno) {
        return report
            .items
            .iter()
            .find(|i| i.fatal && i.errno == Some(errno))
            .map(|i| i.reason.to_string());
    }
    // The loader itself never fails this way, nor does the file system:
    // the module's INIT did.
    let not_the_loader = !LOADER_ERRNOS.contains(&errno) && !FILE_ERRNOS.contains(&errno);
    (not_the_loader && report.would_load() && report.facts.is_some())
        .then(|| Reason::InitFailed { errno }.to_string())
}

/// The errnos the kernel's load path produces by itself (kern_module.c,
/// kern_module_vfs.c, subr_kobj.c).
const LOADER_ERRNOS: &[Errno] = &[
    Errno::EPERM,
    Errno::ENOENT,
    Errno::ENOEXEC,
    Errno::EDEADLK,
    Errno::ENOMEM,
    Errno::EFAULT,
    Errno::EEXIST,
    Errno::EINVAL,
    Errno::EFBIG,
    Errno::EMLINK,
    Errno::ENAMETOOLONG,
    Errno::EPROGMISMATCH,
    Errno::EOPNOTSUPP,
    Errno::ENOSYS,
    Errno::EACCES,
    Errno::EIO,
];

/// The errnos opening and reading a file can give (vn_open, namei,
/// VOP_READ): never blamed on the module's INIT.
const FILE_ERRNOS: &[Errno] = &[
    Errno::ELOOP,
    Errno::EISDIR,
    Errno::ENOTDIR,
    Errno::ETXTBSY,
    Errno::ESTALE,
];

/// Why a `MODCTL_UNLOAD` of `name` failed with `errno`, when known.
pub fn unload(k: &KernelConnection, name: &[u8], errno: Errno) -> Option<String> {
    unload_reason(k, name, errno).map(|why| why.unload_words())
}

fn unload_reason(k: &KernelConnection, name: &[u8], errno: Errno) -> Option<Reason> {
    if errno == Errno::EIO {
        if let Some(why) = k.failure_detail() {
            return Some(Reason::Connection(why));
        }
    }
    if errno == Errno::ENAMETOOLONG {
        return Some(Reason::NameTooLong { len: name.len() });
    }
    let failed_at = k.last_call_serial();
    let view = KernelView::read(k);
    // What is read now explains the failure only if nothing changed since.
    if failed_at != k.last_call_serial() {
        return None;
    }
    let module = ModName::from(name);
    match errno {
        Errno::EBUSY => {
            let users = dependants(&view, name);
            let m = view.active(name)?;
            Some(if !users.is_empty() {
                Reason::RequiredBy { users }
            } else if m.refcnt == 0 {
                Reason::RefusesUnload
            } else {
                Reason::Referenced { refcnt: m.refcnt }
            })
        }
        Errno::ENOENT => Some(if view.disabled_builtin(name).is_some() {
            Reason::AlreadyDisabled { module }
        } else if name.ends_with(b".kmod") || name.contains(&b'/') {
            Reason::NotAModuleName
        } else {
            Reason::NotLoaded { module }
        }),
        Errno::EPERM => {
            if let Some(why) = view.permission_reason() {
                return Some(why);
            }
            let m = view.active(name)?;
            (m.source == ModSource::Builtin as i32 && m.class == ModClass::Secmodel as i32)
                .then_some(Reason::BuiltinSecmodel { module })
        }
        _ => None,
    }
}
