//! Why the kernel said no, from what userland can see.
//!
//! NetBSD's tools print only `strerror(errno)` and leave the reason on the
//! console. The tools print that same line, then at most one line from
//! here. Everything here is a fact read from the kernel's state or the
//! module file; when nothing concrete is known, the answer is `None`.

use std::path::PathBuf;

use crate::abi::{ModClass, ModSource, MODCTL_LOAD_FORCE};
use crate::backend::{Backend, Sysctl};
use crate::dryrun;
use crate::errno::Errno;
use crate::kmod::Kmod;
use crate::modctl::Modctl;
use crate::path;
use crate::plist::Dict;
use crate::stat::ModStat;
use crate::validate::{self, Finding, Target};

/// What the kernel's state looks like to us, read once.
pub struct KernelView {
    pub modules: Vec<ModStat>,
    pub euid: u32,
    pub securelevel: i64,
    pub target: Option<Target>,
    pub module_dir: Option<PathBuf>,
    /// `kern.module.path` as the kernel reports it (for messages).
    pub module_path: Option<String>,
    /// Whether the kernel's files are ours to read (not a rump kernel's).
    pub files_visible: bool,
}

impl KernelView {
    pub fn read<B: Backend>(mc: &Modctl<B>) -> KernelView {
        let b = mc.backend();
        let int = |n| mc.sysctl(n).ok().and_then(|v| v.as_int());
        let string = |n| {
            mc.sysctl(n)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
        };
        let target = match (int(Sysctl::OsRevision), string(Sysctl::Machine)) {
            (Some(rev), Some(machine)) => u32::try_from(rev).ok().map(|osrevision| Target {
                osrevision,
                machine,
            }),
            _ => None,
        };
        KernelView {
            modules: mc.stat().map(|l| l.modules).unwrap_or_default(),
            euid: b.euid(),
            securelevel: int(Sysctl::Securelevel).unwrap_or(0),
            target,
            module_dir: b.module_dir().ok(),
            module_path: string(Sysctl::ModulePath),
            files_visible: b.files_visible(),
        }
    }

    /// The active module of that name (disabled builtins are not active).
    pub fn active(&self, name: &str) -> Option<&ModStat> {
        self.modules
            .iter()
            .find(|m| m.name == name && m.refcnt != u32::MAX)
    }

    /// The disabled builtin of that name.
    pub fn disabled_builtin(&self, name: &str) -> Option<&ModStat> {
        self.modules
            .iter()
            .find(|m| m.name == name && m.refcnt == u32::MAX)
    }

    /// Why the kernel's authorisation would refuse a load or unload.
    pub fn permission_reason(&self) -> Option<String> {
        if self.securelevel > 0 {
            Some(format!(
                "kern.securelevel is {}; modules can be loaded and unloaded only at securelevel 0 or below",
                self.securelevel
            ))
        } else if self.euid != 0 {
            Some(format!(
                "only root may load and unload modules (effective uid {})",
                self.euid
            ))
        } else {
            None
        }
    }

    /// The host file the kernel opens for an operand, and its name as the
    /// kernel sees it.
    pub fn module_file(&self, operand: &str) -> Option<(PathBuf, String)> {
        if !self.files_visible {
            return None;
        }
        if path::is_path(operand) {
            return Some((PathBuf::from(operand), operand.to_string()));
        }
        let dir = self.module_dir.as_ref()?;
        let host = dir.join(operand).join(format!("{operand}.kmod"));
        let shown = match &self.module_path {
            Some(p) => path::module_file(p, operand),
            None => host.display().to_string(),
        };
        Some((host, shown))
    }
}

/// A load refused before submission, as the kernel would refuse it.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub errno: Errno,
    pub reason: String,
}

/// The finding that stops this load: the first the kernel certainly
/// refuses (its errno is what NetBSD would print), else the first that
/// would make the kernel misbehave (see [`Finding::blocks`]).
pub fn blocking_finding(findings: &[Finding], flags: i32) -> Option<&Finding> {
    let force = flags & MODCTL_LOAD_FORCE != 0;
    let mut blocking = findings.iter().filter(|f| f.blocks(force));
    findings
        .iter()
        .find(|f| f.certain && f.blocks(force))
        .or_else(|| blocking.next())
}

/// Checks the module file before submission when the kernel would get as
/// far as reading it; `Some` when the kernel would certainly refuse.
pub fn prevalidate<B: Backend>(mc: &Modctl<B>, operand: &[u8], flags: i32) -> Option<Refusal> {
    let operand = std::str::from_utf8(operand).ok()?;
    let view = KernelView::read(mc);
    // The kernel answers these before it opens any file.
    if view.permission_reason().is_some()
        || (!path::is_path(operand)
            && (view.active(operand).is_some() || view.disabled_builtin(operand).is_some()))
    {
        return None;
    }
    let target = view.target.as_ref()?;
    let (file, _) = view.module_file(operand)?;
    let kmod = Kmod::open(&file).ok()?;
    let findings = validate::validate(&kmod, target);
    let f = blocking_finding(&findings, flags)?;
    Some(Refusal {
        errno: f.errno,
        reason: f.reason.clone(),
    })
}

/// Where a loaded module came from, in words.
pub fn describe(m: &ModStat) -> String {
    let from = match ModSource::from_raw(m.source) {
        Some(ModSource::Builtin) => "built into the kernel",
        Some(ModSource::Boot) => "loaded by the boot loader",
        Some(ModSource::Filesys) => "loaded from the file system",
        None => "loaded",
    };
    if m.flags & crate::abi::MODFLG_AUTO_LOADED != 0 {
        format!("{from}, as a dependency or by autoload")
    } else {
        from.to_string()
    }
}

/// Loaded modules that require `name`.
fn dependants<'a>(view: &'a KernelView, name: &str) -> Vec<&'a str> {
    view.modules
        .iter()
        .filter(|m| m.refcnt != u32::MAX && m.required.split(',').any(|r| r == name))
        .map(|m| m.name.as_str())
        .collect()
}

/// Why a `MODCTL_LOAD` of `operand` failed with `errno`, when known: the
/// dry run's finding when it reaches the same errno, or the module's own
/// INIT when the errno is none the loader produces.
pub fn load<B: Backend>(
    mc: &Modctl<B>,
    operand: &[u8],
    flags: i32,
    props: &Dict,
    errno: Errno,
) -> Option<String> {
    let report = dryrun::dry_run(mc, operand, flags, props);
    if report.verdict == Some(errno) {
        return report
            .items
            .iter()
            .find(|i| i.fatal && i.errno == Some(errno))
            .map(|i| i.reason.clone());
    }
    // The loader itself never fails this way: the module's INIT did.
    (!LOADER_ERRNOS.contains(&errno) && report.would_load() && report.facts.is_some()).then(|| {
        format!(
            "the module's own initialisation failed with error {} ({}); the kernel log (dmesg) has its messages",
            errno.0,
            errno.name().unwrap_or("?")
        )
    })
}

/// The errnos the kernel's load path produces by itself (reference §12).
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

/// Why a `MODCTL_UNLOAD` of `name` failed with `errno`, when known.
pub fn unload<B: Backend>(mc: &Modctl<B>, name: &[u8], errno: Errno) -> Option<String> {
    let name = std::str::from_utf8(name).ok()?;
    if errno == Errno::ENAMETOOLONG {
        return Some(format!(
            "module names are at most 31 bytes; this one has {}",
            name.len()
        ));
    }
    let view = KernelView::read(mc);
    match errno {
        Errno::EBUSY => {
            let users = dependants(&view, name);
            let m = view.active(name)?;
            if !users.is_empty() {
                Some(format!(
                    "required by {}; unload {} first",
                    users.join(", "),
                    if users.len() > 1 { "them" } else { "it" }
                ))
            } else if m.refcnt == 0 {
                Some("the module refused to unload itself (for a file system: is one still mounted?)".into())
            } else {
                Some(format!(
                    "held by {} reference(s) from inside the kernel",
                    m.refcnt
                ))
            }
        }
        Errno::ENOENT => {
            if view.disabled_builtin(name).is_some() {
                Some(format!(
                    "builtin module `{name}' is already disabled (modload -f {name} reinstates it)"
                ))
            } else if name.ends_with(".kmod") || path::is_path(name) {
                Some("modunload takes a module name as modstat(8) shows it, not a file name".into())
            } else {
                Some(format!("no module named `{name}' is loaded"))
            }
        }
        Errno::EPERM => {
            if let Some(why) = view.permission_reason() {
                return Some(why);
            }
            let m = view.active(name)?;
            (m.source == ModSource::Builtin as i32 && m.class == ModClass::Secmodel as i32).then(
                || {
                    format!(
                        "`{name}' is a security model built into the kernel and cannot be unloaded"
                    )
                },
            )
        }
        _ => None,
    }
}
