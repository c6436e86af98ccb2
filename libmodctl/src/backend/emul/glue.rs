//! The emulator's view of module objects and property lists: the only
//! place that talks to `kmod`, `validate`, `plist` and `path`.

use std::collections::BTreeSet;
use std::path::Path;

use crate::errno::Errno;
use crate::plist::{Dict, Value};

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
#[derive(Debug, Clone)]
#[allow(dead_code)] // read by the object reader once it lands
pub struct Target {
    pub osrevision: u32,
    pub machine: String,
}

/// `module_compatible()`: -current kernels need the exact version, releases
/// the same major.minor.rr (only the patch digits may differ).
pub fn version_compatible(module: u32, kernel: u32) -> bool {
    if kernel / 1_000_000 % 100 == 99 {
        module == kernel
    } else {
        module.abs_diff(kernel) < 10_000
    }
}

/// The loader over real files.
pub struct FileLoader;

impl ObjectLoader for FileLoader {
    fn load(&self, path: &Path, _target: &Target) -> Result<Box<dyn ModuleObject>, Errno> {
        // Filled in once the module-object reader lands: until then every
        // existing file is rejected as the kernel rejects a non-ELF file.
        std::fs::metadata(path).map_err(|e| Errno::from_io(&e))?;
        Err(Errno::ENOEXEC)
    }

    fn ksyms(&self, path: &Path) -> Result<BTreeSet<String>, String> {
        Err(format!(
            "{}: symbol tables are not readable yet",
            path.display()
        ))
    }
}

/// A property dictionary.
#[derive(Debug, Clone, PartialEq)]
pub struct Props(Dict);

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

/// The `.plist` next to a module object: `.kmod` replaced, else appended.
pub fn plist_path(kmod_path: &[u8]) -> Vec<u8> {
    let stem = kmod_path.strip_suffix(b".kmod").unwrap_or(kmod_path);
    let mut p = stem.to_vec();
    p.extend_from_slice(b".plist");
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compatibility_rule() {
        assert!(version_compatible(1_001_000_000, 1_001_000_000));
        assert!(version_compatible(1_001_000_100, 1_001_000_000));
        assert!(!version_compatible(1_000_000_000, 1_001_000_000));
        assert!(!version_compatible(902_000_000, 903_000_000));
        assert!(version_compatible(1_099_001_200, 1_099_001_200));
        assert!(!version_compatible(1_099_001_100, 1_099_001_200));
    }

    #[test]
    fn plist_paths() {
        assert_eq!(plist_path(b"/a/b.kmod"), b"/a/b.plist");
        assert_eq!(plist_path(b"/a/b.o"), b"/a/b.o.plist");
    }
}
