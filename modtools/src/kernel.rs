//! Picking the kernel to talk to, the words for failing to reach it, and
//! what the tools know about that kernel beyond its system call (whose
//! files it reads, whom it sees as the caller, its symbol table). Nothing
//! here prints; the tools print the lines this returns.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::fmt;
use std::path::PathBuf;

use libmodctl::backend::rump::{Rump, RumpError};
use libmodctl::backend::{Backend, Sysctl, SysctlValue};
use libmodctl::errno::Errno;
use libmodctl::modctl::Modctl;
#[cfg(with_emul)]
use modemul::{Emul, EmulError};

/// The environment variable naming an emulated kernel's state directory.
pub const EMUL_ENV: &str = "MODCTL_EMUL";

/// Which kernel a tool talks to, by NetBSD's conventions plus ours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice {
    /// Invoked as `rump.<tool>`: librumpclient and `RUMP_SERVER`.
    Rump,
    /// `MODCTL_EMUL` names a state directory.
    Emul(PathBuf),
    /// The running NetBSD kernel.
    NetBsd,
    /// None of the above is possible on this host.
    None,
}

/// Decides the backend from the program name and environment. On NetBSD
/// `MODCTL_EMUL` counts only in a build with the emulator (the `emul`
/// feature), and there [`KernelConnection::notice`] says so on every run.
pub fn choose(progname: &str, emul_dir: Option<OsString>) -> Choice {
    let emul_dir = emul_dir.filter(|d| !d.is_empty() && cfg!(with_emul));
    if progname.starts_with("rump.") {
        Choice::Rump
    } else if let Some(dir) = emul_dir {
        Choice::Emul(PathBuf::from(dir))
    } else if cfg!(target_os = "netbsd") {
        Choice::NetBsd
    } else {
        Choice::None
    }
}

/// Why no kernel could be reached.
#[derive(Debug)]
pub enum ConnectError {
    Rump(RumpError),
    #[cfg(with_emul)]
    Emul(EmulError),
    NoBackend,
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConnectError::Rump(e) => write!(f, "{e}"),
            #[cfg(with_emul)]
            ConnectError::Emul(e) => write!(f, "{e}"),
            ConnectError::NoBackend if cfg!(with_emul) => write!(
                f,
                "no kernel module interface on this host: set {EMUL_ENV} to a directory \
                 for an emulated NetBSD kernel, run as rump.<tool> with RUMP_SERVER set, \
                 or run on NetBSD"
            ),
            ConnectError::NoBackend => write!(
                f,
                "no kernel module interface on this host: run as rump.<tool> with \
                 RUMP_SERVER set, or run on NetBSD (this build has no emulated kernel)"
            ),
        }
    }
}

impl ConnectError {
    /// The lines to print, NetBSD's first. `init_label` is the tool's word
    /// for a failed rump init: `prog init failed` (modload, modstat) or
    /// `init failed` (modunload).
    pub fn messages(&self, prog: &str, init_label: &str) -> Vec<String> {
        match self {
            ConnectError::Rump(e) => {
                let mut lines = vec![format!("{prog}: {init_label}: {}", e.errno())];
                if !matches!(e, RumpError::InitFailed(_)) {
                    lines.push(format!("{prog}: {e}"));
                }
                lines
            }
            other => vec![format!("{prog}: {other}")],
        }
    }

    pub fn errno(&self) -> Errno {
        match self {
            ConnectError::Rump(e) => e.errno(),
            #[cfg(with_emul)]
            ConnectError::Emul(_) => Errno::EIO,
            ConnectError::NoBackend => Errno::ENOSYS,
        }
    }
}

/// The kernel a tool talks to: its system call, and what the tools may
/// know about it besides.
pub struct KernelConnection {
    mc: Modctl<Box<dyn Backend>>,
    kind: Kind,
}

enum Kind {
    /// The running NetBSD kernel.
    Native,
    /// A rump kernel, whose files are in its own namespace.
    Rump,
    #[cfg(with_emul)]
    Emul(std::rc::Rc<Emul>),
}

impl KernelConnection {
    /// The safe modctl(2) API over this kernel.
    pub fn modctl(&self) -> &Modctl<Box<dyn Backend>> {
        &self.mc
    }

    /// The effective uid this kernel sees for us (the emulator's may differ
    /// from the host's). Used only to explain a refusal.
    pub fn euid(&self) -> u32 {
        match &self.kind {
            #[cfg(with_emul)]
            Kind::Emul(e) => e.euid(),
            // SAFETY: geteuid has no preconditions.
            _ => unsafe { libc::geteuid() },
        }
    }

    /// Whether the files this kernel opens are the files we see (not so
    /// for a rump kernel, which has a file namespace of its own).
    pub fn files_visible(&self) -> bool {
        !matches!(self.kind, Kind::Rump)
    }

    /// The host directory where this kernel looks up modules by name
    /// (`kern.module.path`; the emulator maps it under its module root).
    pub fn module_dir(&self) -> Option<PathBuf> {
        match &self.kind {
            #[cfg(with_emul)]
            Kind::Emul(e) => Some(e.module_dir()),
            _ => match self.mc.sysctl(Sysctl::ModulePath).ok()? {
                SysctlValue::Str(s) => Some(s.into()),
                _ => None,
            },
        }
    }

    /// The kernel's global symbols, including those of loaded modules:
    /// `Ok(None)` when they cannot be known (a rump kernel's, or NetBSD's
    /// `/dev/ksyms` unreadable), `Err` when they should be and are not (the
    /// emulator's profile names a file that cannot be read).
    pub fn kernel_symbols(&self) -> Result<Option<BTreeSet<String>>, String> {
        match &self.kind {
            Kind::Native => {
                Ok(modobj::kmod::read_symbol_table(std::path::Path::new("/dev/ksyms")).ok())
            }
            Kind::Rump => Ok(None),
            #[cfg(with_emul)]
            Kind::Emul(e) => e.kernel_symbols().map_err(|e| e.to_string()),
        }
    }

    /// The errno the `MODULE_CMD_INIT` of the module named `name` returns,
    /// when this kernel says (the emulator's `fail_init`); a real
    /// module's INIT cannot be known beforehand.
    pub fn init_failure(&self, name: &[u8]) -> Option<Errno> {
        match &self.kind {
            #[cfg(with_emul)]
            Kind::Emul(e) => e.profile().init_failure(name),
            _ => {
                let _ = name;
                None
            }
        }
    }

    /// The emulator's count of state changes as of this process's last
    /// call (`None` for kernels that keep none): two equal readings mean
    /// nothing changed between the two calls.
    pub fn last_call_serial(&self) -> Option<u64> {
        match &self.kind {
            #[cfg(with_emul)]
            Kind::Emul(e) => e.last_call().map(|c| c.serial),
            _ => None,
        }
    }

    /// Why the last call failed with EIO, when the kernel is one whose
    /// failures have a cause we can tell (the emulator's state files).
    pub fn failure_detail(&self) -> Option<String> {
        match &self.kind {
            #[cfg(with_emul)]
            Kind::Emul(e) => e.last_error(),
            _ => None,
        }
    }

    /// A message to print before anything else when the kernel is not the
    /// one a NetBSD user would expect: the emulator on NetBSD.
    pub fn notice(&self) -> Option<String> {
        match &self.kind {
            #[cfg(all(with_emul, target_os = "netbsd"))]
            Kind::Emul(e) => Some(format!(
                "{EMUL_ENV}={}: this is an emulated kernel, not the running one",
                e.dir().display()
            )),
            _ => None,
        }
    }
}

/// The kernel the next boot starts, as far as the tools can know it.
#[derive(Debug, Clone)]
pub struct NextKernel {
    pub target: modobj::rules::Target,
    /// Its built-in modules, in link-set order as far as known.
    pub builtins: Vec<modobj::engine::Module>,
    /// The host directory standing for the boot disk's `/`.
    pub root: PathBuf,
    /// Its global symbols, when known.
    pub ksyms: Option<BTreeSet<String>>,
    /// Modules whose `MODULE_CMD_INIT` fails (the emulator's `fail_init`).
    pub fail_init: BTreeMap<String, Errno>,
    /// `kern.module.autotime`.
    pub autotime: u32,
    /// Where the description comes from, in words.
    pub described_by: String,
}

impl NextKernel {
    /// The errno `MODULE_CMD_INIT` of the module named `name` returns, if
    /// it fails (`fail_init`'s keys are strings: a name that is not UTF-8
    /// has none).
    pub fn init_failure(&self, name: &[u8]) -> Option<Errno> {
        std::str::from_utf8(name)
            .ok()
            .and_then(|n| self.fail_init.get(n))
            .copied()
    }
}

impl KernelConnection {
    /// The kernel the next boot starts: an emulated kernel's profile (its
    /// built-ins, release, files and `fail_init`), or the running NetBSD
    /// kernel as it is now. A rump kernel is not booted by a boot loader.
    pub fn next_boot(&self) -> Result<NextKernel, String> {
        match &self.kind {
            #[cfg(with_emul)]
            Kind::Emul(e) => {
                let p = e.profile();
                Ok(NextKernel {
                    target: modobj::rules::Target::new(p.osrevision, &p.machine),
                    builtins: p
                        .builtins
                        .iter()
                        .map(|b| {
                            modobj::engine::Module::builtin(
                                b.name.clone(),
                                b.class,
                                b.requires.clone(),
                            )
                        })
                        .collect(),
                    root: e.root_dir(),
                    ksyms: e.boot_symbols().map_err(|e| e.to_string())?,
                    fail_init: p.fail_init.clone(),
                    autotime: p.autotime,
                    described_by: format!(
                        "the emulated kernel's profile, {}",
                        e.dir().join(modemul::PROFILE_FILE).display()
                    ),
                })
            }
            Kind::Rump => Err("a rump kernel is not started by a boot loader".into()),
            Kind::Native => self.running_kernel(),
        }
    }

    /// The running kernel as the next one: its built-ins from the module
    /// list (the order of initialisation, then the inactive ones), its
    /// release and machine from sysctl, its files under `/`. Its symbol
    /// table is not used: it holds the symbols of modules loaded now.
    fn running_kernel(&self) -> Result<NextKernel, String> {
        let mc = self.modctl();
        let list = mc
            .stat()
            .map_err(|e| format!("the kernel's module list cannot be read: {}", e.errno()))?;
        let int = |n| mc.sysctl(n).ok().and_then(|v| v.as_int());
        let machine = mc
            .sysctl(Sysctl::Machine)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .ok_or("hw.machine cannot be read")?;
        let osrevision = int(Sysctl::OsRevision)
            .and_then(|v| u32::try_from(v).ok())
            .ok_or("kern.osrevision cannot be read")?;
        let builtin =
            |m: &&libmodctl::stat::ModStat| m.source == libmodctl::abi::ModSource::Builtin as i32;
        let to_builtin = |m: &libmodctl::stat::ModStat| {
            modobj::engine::Module::builtin(
                m.name.clone(),
                m.class,
                Some(m.required.clone()).filter(|r| !r.is_empty()),
            )
        };
        let (inactive, active): (Vec<_>, Vec<_>) = list
            .modules
            .iter()
            .filter(builtin)
            .partition(|m| m.refcnt == u32::MAX);
        let builtins = active
            .iter()
            .rev()
            .chain(inactive.iter())
            .map(|m| to_builtin(m))
            .collect();
        Ok(NextKernel {
            target: modobj::rules::Target::new(osrevision, &machine),
            builtins,
            root: PathBuf::from("/"),
            ksyms: None,
            fail_init: BTreeMap::new(),
            autotime: 10,
            described_by: "the running kernel".into(),
        })
    }
}

/// Opens the chosen kernel.
pub fn connect(progname: &str) -> Result<KernelConnection, ConnectError> {
    connect_with(progname, true)
}

/// [`connect`] for programs that never load a module (modstat, modunload):
/// an emulated kernel is opened with loads refused. (Its boot loader
/// still reads the boot modules of a kernel that boots, so the emulated
/// builds of these programs contain the module reader.)
pub fn connect_without_loader(progname: &str) -> Result<KernelConnection, ConnectError> {
    connect_with(progname, false)
}

fn connect_with(progname: &str, loader: bool) -> Result<KernelConnection, ConnectError> {
    let _ = loader;
    let (backend, kind): (Box<dyn Backend>, Kind) =
        match choose(progname, std::env::var_os(EMUL_ENV)) {
            Choice::Rump => (
                Box::new(Rump::connect().map_err(ConnectError::Rump)?),
                Kind::Rump,
            ),
            #[cfg(with_emul)]
            Choice::Emul(dir) => {
                let open = if loader {
                    Emul::open
                } else {
                    Emul::open_without_loader
                };
                let e = std::rc::Rc::new(open(&dir).map_err(ConnectError::Emul)?);
                (Box::new(e.clone()), Kind::Emul(e))
            }
            #[cfg(not(with_emul))]
            Choice::Emul(_) => return Err(ConnectError::NoBackend),
            Choice::NetBsd => (netbsd()?, Kind::Native),
            Choice::None => return Err(ConnectError::NoBackend),
        };
    Ok(KernelConnection {
        mc: Modctl::new(backend),
        kind,
    })
}

#[cfg(target_os = "netbsd")]
fn netbsd() -> Result<Box<dyn Backend>, ConnectError> {
    Ok(Box::new(libmodctl::backend::netbsd::NetBsd))
}

#[cfg(not(target_os = "netbsd"))]
fn netbsd() -> Result<Box<dyn Backend>, ConnectError> {
    Err(ConnectError::NoBackend)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choice_follows_name_then_environment() {
        assert_eq!(choose("rump.modstat", Some("/x".into())), Choice::Rump);
        assert_eq!(
            choose("modstat", Some("/x".into())),
            Choice::Emul("/x".into())
        );
        let host = if cfg!(target_os = "netbsd") {
            Choice::NetBsd
        } else {
            Choice::None
        };
        assert_eq!(choose("modstat", Some("".into())), host);
        assert_eq!(choose("modstat", None), host);
    }

    #[test]
    fn connect_messages() {
        let e = ConnectError::Rump(RumpError::InitFailed(Errno::ENOENT));
        assert_eq!(
            e.messages("rump.modload", "prog init failed"),
            vec!["rump.modload: prog init failed: No such file or directory"]
        );
        let e = ConnectError::Rump(RumpError::LibraryMissing("nope".into()));
        assert_eq!(
            e.messages("rump.modunload", "init failed"),
            vec![
                "rump.modunload: init failed: No such file or directory",
                "rump.modunload: cannot load librumpclient: nope"
            ]
        );
    }
}
