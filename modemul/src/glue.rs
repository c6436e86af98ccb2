//! The emulator's view of module objects and property lists: the only
//! place that talks to `kmod`, `validate`, `plist` and `path`.

use std::collections::BTreeSet;
use std::path::Path;

use libmodctl::errno::Errno;
use libmodctl::plist::Dict;
use modobj::{kmod, kobj};

/// Reads module objects and kernel symbol tables from the host.
/// `Sync`: a boot reads its files on several threads.
pub trait ObjectLoader: Sync {
    /// `kobj_load_vfs`: opens and checks the object. `Err` carries the
    /// errno of the open/read or of the first `kobj_load` rejection.
    fn load(&self, path: &Path, target: &Target) -> Result<kobj::Loaded, kobj::Refusal>;
    /// The global symbols of the ELF file that stands for the kernel.
    fn ksyms(&self, path: &Path) -> Result<BTreeSet<String>, String>;
    /// The loader the boot loader reads modules with: this one, unless it
    /// is one that reads none.
    fn boot_loader(&self) -> &dyn ObjectLoader;
    /// What the boot loader passes for the file at `path`, which it reads
    /// whole; `None` when there is no regular file there.
    fn load_boot(
        &self,
        path: &Path,
        target: &Target,
    ) -> Option<Result<kobj::Loaded, kobj::Refusal>> {
        modobj::boot::loader_takes(path).then(|| self.load(path, target))
    }
}

/// The kernel an object is checked against.
pub use modobj::validate::Target;

/// The loader over real files: the module-object reader and the
/// validator's certain findings, split by where the kernel makes them.
pub struct FileLoader;

impl ObjectLoader for FileLoader {
    fn load(&self, path: &Path, target: &Target) -> Result<kobj::Loaded, kobj::Refusal> {
        kobj::load(path, target)
    }

    fn ksyms(&self, path: &Path) -> Result<BTreeSet<String>, String> {
        kmod::read_symbol_table(path).map_err(|e| e.to_string())
    }

    fn boot_loader(&self) -> &dyn ObjectLoader {
        self
    }

    fn load_boot(
        &self,
        path: &Path,
        target: &Target,
    ) -> Option<Result<kobj::Loaded, kobj::Refusal>> {
        kobj::load_boot(path, target)
    }
}

/// The loader of tools that never load a module (modstat, modunload):
/// loads fail with ENOSYS. A kernel booting with boot modules still reads
/// them, with [`FileLoader`].
pub struct NoLoader;

impl ObjectLoader for NoLoader {
    fn load(&self, _path: &Path, _target: &Target) -> Result<kobj::Loaded, kobj::Refusal> {
        Err(kobj::Refusal {
            errno: Errno::ENOSYS,
            cause: kobj::Cause::NoLoader,
        })
    }

    fn ksyms(&self, path: &Path) -> Result<BTreeSet<String>, String> {
        Err(format!("{}: not read by this program", path.display()))
    }

    fn boot_loader(&self) -> &dyn ObjectLoader {
        &FileLoader
    }
}

/// A property dictionary.
#[derive(Debug, Clone, PartialEq)]
pub struct Props(Dict);

impl From<Dict> for Props {
    fn from(d: Dict) -> Props {
        Props(d)
    }
}

impl Props {
    /// `prop_dictionary_internalize`: `None` unless the text is a plist
    /// whose top-level object is a dictionary.
    pub fn internalize(text: &[u8]) -> Option<Props> {
        Dict::internalize(text).ok().map(Props)
    }

    pub fn dict(&self) -> &Dict {
        &self.0
    }
}
