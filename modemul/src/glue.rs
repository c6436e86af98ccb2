//! The emulator's view of module objects and property lists: the only
//! place that talks to `kmod`, `validate`, `plist` and `path`.

use std::collections::BTreeSet;
use std::path::Path;

use libmodctl::errno::Errno;
use libmodctl::plist::{Dict, Value};
use libmodctl::ModName;
use modobj::kmod;
use modobj::validate::{self, KernelRules};

/// The `modinfo_t` of a module object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModInfoLite {
    pub name: ModName,
    pub version: u32,
    pub class: i32,
    /// `mi_required` as the object holds it (NULL = `None`).
    pub required: Option<Vec<u8>>,
}

/// A module object after `kobj_load` accepted it.
pub trait ModuleObject {
    /// `module_fetch_info`: the modinfo, or the errno the kernel gives when
    /// it cannot be found (`link_set_modules` missing or the wrong size).
    fn modinfo(&self) -> Result<&ModInfoLite, Errno>;
    /// Total size of the executable sections (what `kobj_stat` reports).
    fn text_size(&self) -> u64;
    /// Defined `STB_GLOBAL` symbols.
    fn defined_globals(&self) -> Vec<String>;
    /// Undefined global symbols that `is_defined` does not know.
    fn unresolved(&self, is_defined: &dyn Fn(&str) -> bool) -> Vec<String>;
    /// Defined global symbols that already exist (kobj's exceptions apart).
    fn clashing(&self, is_defined: &dyn Fn(&str) -> bool) -> Vec<String>;
    /// The errno of a certain failure of `kobj_affix` other than symbol
    /// resolution (e.g. an unsupported relocation).
    fn link_errno(&self) -> Option<Errno>;
}

/// Reads module objects and kernel symbol tables from the host.
pub trait ObjectLoader {
    /// `kobj_load_vfs`: opens and checks the object. `Err` carries the
    /// errno of the open/read or of the first `kobj_load` rejection.
    fn load(&self, path: &Path, target: &Target) -> Result<Box<dyn ModuleObject>, Errno>;
    /// The global symbols of the ELF file that stands for the kernel.
    fn ksyms(&self, path: &Path) -> Result<BTreeSet<String>, String>;
    /// The loader the boot loader reads modules with: this one, unless it
    /// is one that reads none.
    fn boot_loader(&self) -> &dyn ObjectLoader;
}

/// The kernel an object is checked against.
pub use modobj::validate::Target;

/// The version-dependent rules of the emulated kernel (class range, the
/// old fixed-size dependency array), shared with the validator.
pub fn rules(osrevision: u32, machine: &str) -> KernelRules {
    KernelRules::for_target(&Target::new(osrevision, machine))
}

/// A module object read by [`modobj::kmod`], with the validator's verdicts.
/// Everything is read from the file in [`FileLoader::load`], so that a
/// file truncated meanwhile is refused there rather than judged on zeros.
struct KmodObject {
    text_size: u64,
    defined: Vec<String>,
    undefined: Vec<String>,
    info: Result<ModInfoLite, Errno>,
    link_errno: Option<Errno>,
}

impl ModuleObject for KmodObject {
    fn modinfo(&self) -> Result<&ModInfoLite, Errno> {
        self.info.as_ref().map_err(|e| *e)
    }
    fn text_size(&self) -> u64 {
        self.text_size
    }
    fn defined_globals(&self) -> Vec<String> {
        self.defined.clone()
    }
    fn unresolved(&self, is_defined: &dyn Fn(&str) -> bool) -> Vec<String> {
        validate::unresolved_names(&self.undefined, is_defined)
    }
    fn clashing(&self, is_defined: &dyn Fn(&str) -> bool) -> Vec<String> {
        validate::clashing_names(&self.defined, is_defined)
    }
    fn link_errno(&self) -> Option<Errno> {
        self.link_errno
    }
}

/// The loader over real files: the module-object reader and the
/// validator's certain findings, split by where the kernel makes them.
pub struct FileLoader;

impl ObjectLoader for FileLoader {
    fn load(&self, path: &Path, target: &Target) -> Result<Box<dyn ModuleObject>, Errno> {
        let o = modobj::kobj::load(path, target).map_err(|r| r.errno)?;
        Ok(Box::new(KmodObject {
            text_size: o.text_size,
            defined: o.defined,
            undefined: o.undefined,
            info: o.info.map_err(|r| r.errno).map(|i| ModInfoLite {
                name: i.name,
                version: i.version,
                class: i.class,
                required: i.required,
            }),
            link_errno: o.link.map(|r| r.errno),
        }))
    }

    fn ksyms(&self, path: &Path) -> Result<BTreeSet<String>, String> {
        kmod::read_symbol_table(path).map_err(|e| e.to_string())
    }

    fn boot_loader(&self) -> &dyn ObjectLoader {
        self
    }
}

/// The loader of tools that never load a module (modstat, modunload):
/// loads fail with ENOSYS. A kernel booting with boot modules still reads
/// them, with [`FileLoader`].
pub struct NoLoader;

impl ObjectLoader for NoLoader {
    fn load(&self, _path: &Path, _target: &Target) -> Result<Box<dyn ModuleObject>, Errno> {
        Err(Errno::ENOSYS)
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

    /// The boolean stored under `key`, if that is a boolean.
    pub fn get_bool(&self, key: &str) -> Option<bool> {
        match self.0.get(key.as_bytes()) {
            Some(Value::Bool(b)) => Some(*b),
            _ => None,
        }
    }

    /// `module_merge_dicts`: `other`'s keys win.
    pub fn merge(&mut self, other: &Props) {
        self.0.merge(&other.0);
    }

    pub fn externalize(&self) -> String {
        String::from_utf8_lossy(&self.0.externalize()).into_owned()
    }
}
