//! The kernel as the explanations see it: its module list and sysctls,
//! read once, and where it finds module files.

use std::path::PathBuf;

use libmodctl::abi::{ModSource, MODFLG_AUTO_LOADED};
use libmodctl::backend::Sysctl;
use libmodctl::errno::Errno;
use libmodctl::stat::ModStat;
use modobj::path;
use modobj::validate::Target;

use crate::explain::reason::{Origin, Reason};
use crate::kernel::KernelConnection;

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
    /// Why the module list could not be read, when it could not: the
    /// errno and what is known of the cause.
    pub unreadable: Option<(Errno, Reason)>,
}

impl KernelView {
    pub fn read(k: &KernelConnection) -> KernelView {
        let mc = k.modctl();
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
        let (modules, unreadable) = match mc.stat() {
            Ok(l) => (l.modules, None),
            Err(e) => {
                let errno = e.errno();
                let why = k
                    .failure_detail()
                    .map_or(Reason::ModuleListUnreadable { errno }, Reason::Connection);
                (Vec::new(), Some((errno, why)))
            }
        };
        KernelView {
            modules,
            unreadable,
            euid: k.euid(),
            securelevel: int(Sysctl::Securelevel).unwrap_or(0),
            target,
            module_dir: k.module_dir(),
            module_path: string(Sysctl::ModulePath),
            files_visible: k.files_visible(),
        }
    }

    /// The active module of exactly that name, compared as bytes
    /// (disabled builtins are not active).
    pub fn active(&self, name: impl AsRef<[u8]>) -> Option<&ModStat> {
        let name = name.as_ref();
        self.modules
            .iter()
            .find(|m| m.name == name && m.refcnt != u32::MAX)
    }

    /// The disabled builtin of exactly that name.
    pub fn disabled_builtin(&self, name: impl AsRef<[u8]>) -> Option<&ModStat> {
        let name = name.as_ref();
        self.modules
            .iter()
            .find(|m| m.name == name && m.refcnt == u32::MAX)
    }

    /// Why the kernel's authorisation would refuse a load or unload.
    pub fn permission_reason(&self) -> Option<Reason> {
        if self.securelevel > 0 {
            Some(Reason::Securelevel {
                level: self.securelevel,
            })
        } else if self.euid != 0 {
            Some(Reason::NotRoot { euid: self.euid })
        } else {
            None
        }
    }

    /// The host file the kernel opens for an operand, and its name as the
    /// kernel sees it.
    /// The operand is bytes, as the kernel has them: one that is not UTF-8
    /// still names exactly the file the kernel would open.
    pub fn module_file(&self, operand: &[u8]) -> Option<(PathBuf, String)> {
        use std::os::unix::ffi::OsStrExt;
        if !self.files_visible {
            return None;
        }
        let text = String::from_utf8_lossy(operand);
        if operand.contains(&b'/') {
            return Some((
                PathBuf::from(std::ffi::OsStr::from_bytes(operand)),
                text.into_owned(),
            ));
        }
        let dir = self.module_dir.as_ref()?;
        let mut file = operand.to_vec();
        file.extend_from_slice(b".kmod");
        let host = dir
            .join(std::ffi::OsStr::from_bytes(operand))
            .join(std::ffi::OsStr::from_bytes(&file));
        let shown = match &self.module_path {
            Some(p) => path::module_file(p, &text),
            None => host.display().to_string(),
        };
        Some((host, shown))
    }
}

/// Where a loaded module came from.
pub fn describe(m: &ModStat) -> Origin {
    Origin {
        source: ModSource::from_raw(m.source),
        auto: m.flags & MODFLG_AUTO_LOADED != 0,
    }
}
