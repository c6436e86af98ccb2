//! The emulator's view of module objects and property lists: the only
//! place that talks to `kmod`, `validate`, `plist` and `path`.

use std::collections::BTreeSet;
use std::path::Path;

use libmodctl::errno::Errno;
use libmodctl::plist::{Dict, Value};
use modobj::kmod::{self, Kmod, KmodError};
use modobj::validate::{self, Check, KernelRules, Stage};

/// The `modinfo_t` of a module object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModInfoLite {
    pub name: String,
    pub version: u32,
    pub class: i32,
    /// `mi_required` as the object holds it (NULL = `None`).
    pub required: Option<String>,
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
}

/// The kernel an object is checked against.
pub use modobj::validate::Target;

/// The version-dependent rules of the emulated kernel (class range, the
/// old fixed-size dependency array), shared with the validator.
pub fn rules(osrevision: u32, machine: &str) -> KernelRules {
    KernelRules::for_target(&Target::new(osrevision, machine))
}

/// The checks `module_fetch_info` makes (the rest of the validator's
/// Load stage is `kobj_load`'s, which comes before the `.plist` is read).
fn is_fetch_info(check: Check) -> bool {
    matches!(check, Check::LinkSetMissing | Check::LinkSetSize)
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
        // A FIFO, which the kernel would wait on, ends the load as an
        // interrupted wait would (EINTR); nothing here waits.
        let kmod = Kmod::open(path).map_err(|e: KmodError| e.errno())?;
        let findings = validate::validate(&kmod, target);
        let certain = || findings.iter().filter(|f| f.certain);
        // kobj_load's rejections (symbol clashes are the emulator's to
        // judge, against what is loaded at the time).
        if let Some(f) = certain().find(|f| {
            f.stage == Stage::Load && !is_fetch_info(f.check) && f.check != Check::SymbolClash
        }) {
            return Err(f.errno);
        }
        let fetch = certain()
            .find(|f| f.stage == Stage::Load && is_fetch_info(f.check))
            .map(|f| f.errno);
        let info = match (fetch, kmod.modinfo()) {
            (Some(e), _) => Err(e),
            (None, Some(mi)) => Ok(ModInfoLite {
                name: mi.name.clone(),
                version: mi.version,
                class: mi.class,
                required: mi.required_raw.clone(),
            }),
            // A descriptor the reader could not decode: the kernel would
            // read garbage; report what the validator expects it to say.
            (None, None) => Err(certain()
                .find(|f| f.stage == Stage::Info)
                .map_or(Errno::ENOEXEC, |f| f.errno)),
        };
        let link_errno = certain()
            .find(|f| f.stage == Stage::Link && f.check != Check::UnresolvedSymbol)
            .map(|f| f.errno);
        let defined = kmod.defined_globals();
        let undefined = kmod.undefined_globals();
        // The validator said so if the file shrank before it finished;
        // this covers the symbol tables read since.
        if kmod.changed_while_read() {
            return Err(kmod::FILE_CHANGED_ERRNO);
        }
        Ok(Box::new(KmodObject {
            text_size: kmod.text_size(),
            defined,
            undefined,
            info,
            link_errno,
        }))
    }

    fn ksyms(&self, path: &Path) -> Result<BTreeSet<String>, String> {
        kmod::read_symbol_table(path).map_err(|e| e.to_string())
    }
}

/// The loader of tools that never load a module (modstat, modunload):
/// using it instead of [`FileLoader`] keeps the module reader and the
/// validator out of those programs.
pub struct NoLoader;

impl ObjectLoader for NoLoader {
    fn load(&self, _path: &Path, _target: &Target) -> Result<Box<dyn ModuleObject>, Errno> {
        Err(Errno::ENOSYS)
    }

    fn ksyms(&self, path: &Path) -> Result<BTreeSet<String>, String> {
        Err(format!("{}: not read by this program", path.display()))
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
