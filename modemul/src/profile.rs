//! The kernel profile: which NetBSD kernel the emulator pretends to be.
//!
//! Stored as `profile.json` in the state directory. Every key is optional
//! when a user writes the file; a missing key takes its default, and the
//! defaults that depend on other keys are derived from them as the kernel
//! derives them (`osrevision` from `osrelease`, `stat_abi` from
//! `osrevision`, `module_path` from `osrelease` and `machine`).

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::ser::{Serialize, Serializer};
use serde::Deserialize;

use crate::jsonio::{self, Bytes, Obj, TextOrBytes};
use libmodctl::abi::{ModClass, MODULE_CLASS_MAX, MODULE_CLASS_MAX_NO_BUFQ};
use libmodctl::errno::Errno;
use libmodctl::ModName;
use modobj::osrev::OsRevision;

/// Which modstat ABI the emulated kernel speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatAbiEra {
    /// NetBSD ≤ 8: `MODCTL_STAT` is command 2 with 392-byte records;
    /// command 4 is unknown (`EINVAL`).
    V1,
    /// NetBSD ≥ 9: `MODCTL_STAT` is command 4; command 2 is `MODCTL_OSTAT`,
    /// served only when `compat_80` is set.
    V2,
}

/// One module linked into the kernel (an entry of its `link_set_modules`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltinModule {
    /// `mi_name`; in the file a string, or an array of byte values for a
    /// name that is not UTF-8 (as in `state.json`).
    pub name: ModName,
    /// `mi_class`; written as a modstat class name (`"vfs"`) or a number.
    pub class: i32,
    /// `mi_required` exactly as the kernel holds it: a comma-separated list,
    /// or none. A JSON array of names is accepted too.
    pub requires: Option<Vec<u8>>,
}

impl BuiltinModule {
    pub fn new(name: &str, class: ModClass, requires: Option<&str>) -> BuiltinModule {
        BuiltinModule {
            name: name.into(),
            class: class as i32,
            requires: requires.map(|r| r.as_bytes().to_vec()),
        }
    }
}

/// The emulated kernel. `Default` is a NetBSD 10.1 amd64 GENERIC-like kernel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// `kern.osrelease`, e.g. "10.1" or "7.99.34".
    pub osrelease: String,
    /// `kern.osrevision` = `__NetBSD_Version__` (`MMmmrrpp00`).
    pub osrevision: u32,
    /// `hw.machine`.
    pub machine: String,
    pub stat_abi: StatAbiEra,
    /// Whether the compat_80 code is present (serves `MODCTL_OSTAT` on v2).
    pub compat_80: bool,
    /// `kern.module.path`: the NetBSD directory names are looked up in.
    pub module_path: String,
    /// Host directory that stands for the NetBSD root when looking up
    /// `module_path`; a relative path is relative to the state directory.
    pub module_root: String,
    /// The kernel's built-in modules, in link-set order.
    pub builtins: Vec<BuiltinModule>,
    /// `kern.module.autoload`.
    pub autoload: bool,
    /// `kern.module.autotime` (seconds; 0 disables auto-unload).
    pub autotime: u32,
    /// Whether the auto-unload thread is emulated (not a kernel setting:
    /// switch it off for runs that must not depend on the clock).
    pub auto_unload: bool,
    /// `kern.securelevel`.
    pub securelevel: i32,
    /// Effective uid of the emulated caller (0 = root).
    pub euid: u32,
    /// Optional ELF file whose symbol table stands for the kernel's; when
    /// set, loads check unresolved and duplicate global symbols.
    pub ksyms: Option<String>,
    /// Modules whose `MODULE_CMD_INIT` fails, with the errno it returns
    /// (JSON object keys are strings: only names that are UTF-8).
    pub fail_init: BTreeMap<String, Errno>,
    /// Modules whose `MODULE_CMD_FINI` fails, with the errno it returns.
    pub fail_fini: BTreeMap<String, Errno>,
    /// Modules the boot loader passes at boot, as `boot.cfg`'s `load=`
    /// lines give them: a path or a bare module name, found as the boot
    /// loader finds them ([`modobj::boot`]) below `module_root`.
    pub boot_modules: Vec<String>,
}

pub use modobj::rules::DEFAULT_RELEASE;
pub const DEFAULT_MACHINE: &str = "amd64";
pub const DEFAULT_MODULE_ROOT: &str = "root";
/// `module_autotime`'s initial value in kern_module.c.
pub const DEFAULT_AUTOTIME: u32 = 10;

impl Default for Profile {
    fn default() -> Profile {
        ProfileFile::default().resolve()
    }
}

impl Profile {
    /// Parses a `profile.json`, filling in and deriving missing keys.
    pub fn from_json(text: &str) -> Result<Profile, String> {
        let Obj(file) = jsonio::read::<Obj<ProfileFile>>(text.as_bytes())?;
        if let (Some(rel), None) = (&file.osrelease, file.osrevision) {
            if OsRevision::parse(rel).is_none() {
                return Err(format!(
                    "osrelease `{rel}' is not a NetBSD release such as 10.1 or 10.99.12; \
                     give osrevision too"
                ));
            }
        }
        let p = file.resolve();
        p.check()?;
        Ok(p)
    }

    /// The JSON written for a profile (every key spelled out but `ksyms`
    /// when unset and `boot_modules` when empty), in the order of the
    /// struct's fields.
    pub fn to_json(&self) -> String {
        let out = ProfileOut {
            osrelease: &self.osrelease,
            osrevision: self.osrevision,
            machine: &self.machine,
            stat_abi: self.stat_abi.name(),
            compat_80: self.compat_80,
            module_path: &self.module_path,
            module_root: &self.module_root,
            builtins: &self.builtins,
            autoload: self.autoload,
            autotime: self.autotime,
            auto_unload: self.auto_unload,
            securelevel: self.securelevel,
            euid: self.euid,
            ksyms: self.ksyms.as_deref(),
            fail_init: &self.fail_init,
            fail_fini: &self.fail_fini,
            boot_modules: &self.boot_modules,
        };
        String::from_utf8(jsonio::write(&out)).expect("serde_json writes UTF-8")
    }

    /// The errno `MODULE_CMD_INIT` of the module named `name` returns, if
    /// it fails.
    pub fn init_failure(&self, name: &[u8]) -> Option<Errno> {
        errno_for(&self.fail_init, name)
    }

    /// The errno `MODULE_CMD_FINI` of the module named `name` returns, if
    /// it fails.
    pub fn fini_failure(&self, name: &[u8]) -> Option<Errno> {
        errno_for(&self.fail_fini, name)
    }

    /// `MODULE_CLASS_MAX` of this kernel: valid classes are 1..max.
    pub fn class_max(&self) -> i32 {
        if self.osrevision >= modobj::rules::BUFQ_CLASS_SINCE {
            MODULE_CLASS_MAX
        } else {
            MODULE_CLASS_MAX_NO_BUFQ
        }
    }

    fn check(&self) -> Result<(), String> {
        // Both go into paths: a machine name such as `evbarm` or a release
        // such as `10.1_STABLE`, nothing that could climb out of one.
        let token = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
                && s != "."
                && s != ".."
        };
        if !token(&self.machine) {
            return Err(format!(
                "machine `{}' is not a NetBSD machine name (letters, digits, `_', `-')",
                self.machine.escape_debug()
            ));
        }
        if !token(&self.osrelease) {
            return Err(format!(
                "osrelease `{}' is not a NetBSD release such as 10.1",
                self.osrelease.escape_debug()
            ));
        }
        if !self.module_path.starts_with('/') {
            return Err(format!(
                "module_path `{}' is not an absolute NetBSD path",
                self.module_path
            ));
        }
        if self.module_path.contains('\0') || self.module_path.split('/').any(|c| c == "..") {
            return Err(format!(
                "module_path `{}' has a `..' component or a NUL; name the directory directly",
                self.module_path.escape_debug()
            ));
        }
        for (i, b) in self.builtins.iter().enumerate() {
            if b.name.is_empty() {
                return Err(format!("builtins[{i}] has an empty name"));
            }
            // A C string ends at its NUL.
            if b.name.as_bytes().contains(&0) {
                return Err(format!("builtins[{i}].name contains a NUL"));
            }
        }
        for (i, m) in self.boot_modules.iter().enumerate() {
            // The boot loader's strings end at a NUL.
            if m.contains('\0') {
                return Err(format!("boot_modules[{i}] contains a NUL"));
            }
        }
        Ok(())
    }
}

/// A realistic NetBSD 10.1 amd64 set of built-in modules. Classes and
/// requirements are those of the MODULE() declarations in NetBSD's sources
/// (suser, securelevel, extensions, secmodel_bsd44, mfs "ffs", null
/// "layerfs", exec_elf64 "coredump" with COREDUMP, ...). UNVERIFIED: ffs's
/// "wapbl" is what a NetBSD 7.99.34 kernel reported; the 10.1 declaration
/// was not available to us.
pub fn default_builtins() -> Vec<BuiltinModule> {
    use ModClass::*;
    [
        ("suser", Secmodel, None),
        ("securelevel", Secmodel, None),
        ("extensions", Secmodel, None),
        (
            "secmodel_bsd44",
            Secmodel,
            Some("suser,securelevel,extensions"),
        ),
        ("wapbl", Vfs, None),
        ("ffs", Vfs, Some("wapbl")),
        ("mfs", Vfs, Some("ffs")),
        ("layerfs", Misc, None),
        ("null", Vfs, Some("layerfs")),
        ("tmpfs", Vfs, None),
        ("kernfs", Vfs, None),
        ("procfs", Vfs, None),
        ("ptyfs", Vfs, None),
        ("msdos", Vfs, None),
        ("cd9660", Vfs, None),
        ("nfs", Vfs, None),
        ("ksem", Misc, None),
        ("coredump", Misc, None),
        ("exec_elf64", Exec, Some("coredump")),
        ("exec_script", Exec, None),
    ]
    .into_iter()
    .map(|(n, c, r)| BuiltinModule::new(n, c, r))
    .collect()
}

/// `profile.json` as written by a user: every key optional, `null` the
/// same as an absent key, unknown keys errors.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileFile {
    osrelease: Option<String>,
    osrevision: Option<u32>,
    machine: Option<String>,
    stat_abi: Option<StatAbiEra>,
    compat_80: Option<bool>,
    module_path: Option<String>,
    module_root: Option<String>,
    builtins: Option<Vec<BuiltinModule>>,
    autoload: Option<bool>,
    autotime: Option<u32>,
    auto_unload: Option<bool>,
    securelevel: Option<i32>,
    euid: Option<u32>,
    ksyms: Option<String>,
    #[serde(default, deserialize_with = "errno_map")]
    fail_init: Option<BTreeMap<String, Errno>>,
    #[serde(default, deserialize_with = "errno_map")]
    fail_fini: Option<BTreeMap<String, Errno>>,
    boot_modules: Option<Vec<String>>,
}

impl ProfileFile {
    fn resolve(self) -> Profile {
        let (osrelease, osrevision) = match (self.osrelease, self.osrevision) {
            (Some(rel), Some(rev)) => (rel, rev),
            (Some(rel), None) => {
                let rev = OsRevision::parse(&rel).map_or(0, OsRevision::get);
                (rel, rev)
            }
            (None, Some(rev)) => (OsRevision(rev).to_string(), rev),
            (None, None) => (DEFAULT_RELEASE.to_string(), DEFAULT_RELEASE.get()),
        };
        let machine = self.machine.unwrap_or_else(|| DEFAULT_MACHINE.to_string());
        let stat_abi = self
            .stat_abi
            .unwrap_or(if osrevision >= modobj::rules::STAT_V2_SINCE {
                StatAbiEra::V2
            } else {
                StatAbiEra::V1
            });
        let module_path = self
            .module_path
            .unwrap_or_else(|| modobj::path::default_module_path(&osrelease, &machine));
        Profile {
            osrelease,
            osrevision,
            machine,
            stat_abi,
            compat_80: self.compat_80.unwrap_or(true),
            module_path,
            module_root: self
                .module_root
                .unwrap_or_else(|| DEFAULT_MODULE_ROOT.to_string()),
            builtins: self.builtins.unwrap_or_else(default_builtins),
            // GENERIC kernels carry MODULAR_DEFAULT_AUTOLOAD.
            autoload: self.autoload.unwrap_or(true),
            autotime: self.autotime.unwrap_or(DEFAULT_AUTOTIME),
            auto_unload: self.auto_unload.unwrap_or(true),
            securelevel: self.securelevel.unwrap_or(0),
            euid: self.euid.unwrap_or(0),
            ksyms: self.ksyms,
            fail_init: self.fail_init.unwrap_or_default(),
            fail_fini: self.fail_fini.unwrap_or_default(),
            boot_modules: self.boot_modules.unwrap_or_default(),
        }
    }
}

/// The profile as written, in this order.
#[derive(serde::Serialize)]
struct ProfileOut<'a> {
    osrelease: &'a str,
    osrevision: u32,
    machine: &'a str,
    stat_abi: &'a str,
    compat_80: bool,
    module_path: &'a str,
    module_root: &'a str,
    builtins: &'a [BuiltinModule],
    autoload: bool,
    autotime: u32,
    auto_unload: bool,
    securelevel: i32,
    euid: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    ksyms: Option<&'a str>,
    #[serde(serialize_with = "errno_map_out")]
    fail_init: &'a BTreeMap<String, Errno>,
    #[serde(serialize_with = "errno_map_out")]
    fail_fini: &'a BTreeMap<String, Errno>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    boot_modules: &'a [String],
}

/// One entry of `builtins` as read. Unknown keys are ignored here (they
/// always were); `class` is a class name or a number, `requires` a
/// string, an array of names (joined with commas; empty is none) or
/// `null`.
#[derive(Deserialize)]
struct BuiltinIn {
    #[serde(deserialize_with = "jsonio::bytes")]
    name: Vec<u8>,
    class: ClassIn,
    #[serde(default)]
    requires: Option<RequiresIn>,
}

impl<'de> Deserialize<'de> for BuiltinModule {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<BuiltinModule, D::Error> {
        let Obj(b) = Obj::<BuiltinIn>::deserialize(d)?;
        Ok(BuiltinModule {
            name: ModName::new(b.name),
            class: b.class.0,
            requires: b.requires.and_then(|r| r.0),
        })
    }
}

/// `class` as its name when it has one; `requires` left out when none.
impl Serialize for BuiltinModule {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(serde::Serialize)]
        #[serde(untagged)]
        enum Class {
            Name(&'static str),
            Number(i32),
        }
        /// A list that is not UTF-8 cannot be one string: it goes as the
        /// array of what lies between its commas, which joins back to it.
        struct Requires<'a>(&'a [u8]);
        impl Serialize for Requires<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                match std::str::from_utf8(self.0) {
                    Ok(text) => s.serialize_str(text),
                    Err(_) => s.collect_seq(self.0.split(|&b| b == b',').map(TextOrBytes)),
                }
            }
        }
        #[derive(serde::Serialize)]
        struct Out<'a> {
            name: TextOrBytes<'a>,
            class: Class,
            #[serde(skip_serializing_if = "Option::is_none")]
            requires: Option<Requires<'a>>,
        }
        Out {
            name: TextOrBytes(self.name.as_bytes()),
            class: ModClass::from_raw(self.class)
                .map_or(Class::Number(self.class), |c| Class::Name(c.name())),
            requires: self.requires.as_deref().map(Requires),
        }
        .serialize(s)
    }
}

/// A module class: a modstat class name (`"vfs"`) or a number.
struct ClassIn(i32);

impl<'de> Deserialize<'de> for ClassIn {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<ClassIn, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = ClassIn;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(
                    f,
                    "a class name or an integer from {} to {}",
                    i32::MIN,
                    i32::MAX
                )
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<ClassIn, E> {
                i32::try_from(n)
                    .map(ClassIn)
                    .map_err(|_| E::invalid_value(de::Unexpected::Signed(n), &self))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<ClassIn, E> {
                i32::try_from(n)
                    .map(ClassIn)
                    .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(n), &self))
            }
            fn visit_str<E: de::Error>(self, n: &str) -> Result<ClassIn, E> {
                ModClass::from_name(n)
                    .map(|c| ClassIn(c as i32))
                    .ok_or_else(|| E::custom(format_args!("unknown module class `{n}'")))
            }
        }
        d.deserialize_any(V)
    }
}

/// `requires`: a string, or an array of names (each a string or an array
/// of bytes) joined with commas, none when empty.
struct RequiresIn(Option<Vec<u8>>);

impl<'de> Deserialize<'de> for RequiresIn {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<RequiresIn, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RequiresIn;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or an array of strings")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<RequiresIn, E> {
                Ok(RequiresIn(Some(s.as_bytes().to_vec())))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<RequiresIn, A::Error> {
                let mut names = Vec::new();
                while let Some(Bytes(b)) = seq.next_element()? {
                    names.push(b);
                }
                Ok(RequiresIn(
                    Some(names.join(&b',')).filter(|_| !names.is_empty()),
                ))
            }
        }
        d.deserialize_any(V)
    }
}

/// The entry of a `fail_*` map for a module name; a name that is not
/// UTF-8 has none.
fn errno_for(m: &BTreeMap<String, Errno>, name: &[u8]) -> Option<Errno> {
    std::str::from_utf8(name)
        .ok()
        .and_then(|n| m.get(n))
        .copied()
}

/// A `fail_*` map: errnos written by NetBSD name when they have one.
fn errno_map_out<S: Serializer>(m: &&BTreeMap<String, Errno>, s: S) -> Result<S::Ok, S::Error> {
    #[derive(serde::Serialize)]
    #[serde(untagged)]
    enum Spec {
        Name(&'static str),
        Number(i32),
    }
    s.collect_map(
        m.iter()
            .map(|(k, e)| (k, e.name().map_or(Spec::Number(e.0), Spec::Name))),
    )
}

/// An errno in a `fail_*` map: a NetBSD name ("EBUSY") or a positive
/// number (16).
struct ErrnoIn(Errno);

impl<'de> Deserialize<'de> for ErrnoIn {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<ErrnoIn, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = ErrnoIn;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a NetBSD errno name or a positive integer")
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<ErrnoIn, E> {
                match i32::try_from(n) {
                    Ok(n) if n > 0 => Ok(ErrnoIn(Errno(n))),
                    Ok(n) => Err(E::custom(format_args!("errno must be positive, not {n}"))),
                    Err(_) => Err(E::invalid_value(de::Unexpected::Signed(n), &self)),
                }
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<ErrnoIn, E> {
                match i64::try_from(n) {
                    Ok(n) => self.visit_i64(n),
                    Err(_) => Err(E::invalid_value(de::Unexpected::Unsigned(n), &self)),
                }
            }
            fn visit_str<E: de::Error>(self, n: &str) -> Result<ErrnoIn, E> {
                Errno::from_name(n)
                    .map(ErrnoIn)
                    .ok_or_else(|| E::custom(format_args!("`{n}' is not a NetBSD errno name")))
            }
        }
        d.deserialize_any(V)
    }
}

/// Reads a `fail_*` map: module name to [`ErrnoIn`]; `null` is none. A
/// repeated module name keeps its last errno.
fn errno_map<'de, D: Deserializer<'de>>(d: D) -> Result<Option<BTreeMap<String, Errno>>, D::Error> {
    let m = Option::<BTreeMap<String, ErrnoIn>>::deserialize(d)?;
    Ok(m.map(|m| m.into_iter().map(|(k, e)| (k, e.0)).collect()))
}

impl StatAbiEra {
    /// The name `profile.json` spells it with.
    pub fn name(self) -> &'static str {
        match self {
            StatAbiEra::V1 => "v1",
            StatAbiEra::V2 => "v2",
        }
    }
}

/// `"v1"` or `"v2"`.
impl<'de> Deserialize<'de> for StatAbiEra {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<StatAbiEra, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = StatAbiEra;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("`v1' or `v2'")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<StatAbiEra, E> {
                match s {
                    "v1" => Ok(StatAbiEra::V1),
                    "v2" => Ok(StatAbiEra::V2),
                    _ => Err(E::custom(format_args!(
                        "unknown ABI `{s}', expected `v1' or `v2'"
                    ))),
                }
            }
        }
        d.deserialize_str(V)
    }
}

impl fmt::Display for StatAbiEra {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        // Either key gives the other, -current patch levels past 99 too.
        for (rel, rev) in [
            ("10.1", 1_001_000_000),
            ("9.3", 903_000_000),
            ("10.99.12", 1_099_001_200),
            ("9.99.112", 999_011_200),
            ("7.99.34", 799_003_400),
        ] {
            let p = Profile::from_json(&format!("{{\"osrelease\": \"{rel}\"}}")).unwrap();
            assert_eq!(p.osrevision, rev, "{rel}");
            let p = Profile::from_json(&format!("{{\"osrevision\": {rev}}}")).unwrap();
            assert_eq!(p.osrelease, rel, "{rev}");
        }
        assert!(Profile::from_json("{\"osrelease\": \"x\"}").is_err());
    }

    #[test]
    fn defaults() {
        let p = Profile::default();
        assert_eq!(p.osrelease, "10.1");
        assert_eq!(p.osrevision, 1_001_000_000);
        assert_eq!(p.machine, "amd64");
        assert_eq!(p.stat_abi, StatAbiEra::V2);
        assert!(p.compat_80);
        assert_eq!(p.module_path, "/stand/amd64/10.1/modules");
        assert_eq!(p.module_root, "root");
        assert_eq!(p.builtins.len(), 20);
        assert_eq!(p.class_max(), 7);
        // Round trip through JSON.
        assert_eq!(Profile::from_json(&p.to_json()).unwrap(), p);
    }

    #[test]
    fn missing_keys_are_derived() {
        let p = Profile::from_json(r#"{"osrelease": "7.99.34", "builtins": []}"#).unwrap();
        assert_eq!(p.osrevision, 799_003_400);
        assert_eq!(p.stat_abi, StatAbiEra::V1);
        assert_eq!(p.module_path, "/stand/amd64/7.99.34/modules");
        assert!(p.builtins.is_empty());
        assert_eq!(p.class_max(), 6);
        let p = Profile::from_json(r#"{"osrevision": 903000000, "machine": "i386"}"#).unwrap();
        assert_eq!(p.osrelease, "9.3");
        assert_eq!(p.module_path, "/stand/i386/9.3/modules");
    }

    #[test]
    fn builtins_and_errnos_in_both_spellings() {
        let p = Profile::from_json(
            r#"{"builtins": [
                  {"name": "ffs", "class": "vfs", "requires": ["wapbl"]},
                  {"name": "odd", "class": 9, "requires": "a,,b"},
                  {"name": "wapbl", "class": 2}],
                "fail_init": {"kernfs": "EBUSY"}, "fail_fini": {"tmpfs": 16}}"#,
        )
        .unwrap();
        assert_eq!(p.builtins[0].requires.as_deref(), Some(&b"wapbl"[..]));
        assert_eq!(p.builtins[1].class, 9);
        assert_eq!(p.builtins[1].requires.as_deref(), Some(&b"a,,b"[..]));
        assert_eq!(p.builtins[2].requires, None);
        assert_eq!(p.fail_init["kernfs"], Errno::EBUSY);
        assert_eq!(p.fail_fini["tmpfs"], Errno::EBUSY);
        let json = p.to_json();
        assert!(json.contains("\"kernfs\": \"EBUSY\""), "{json}");
        assert!(json.contains("\"class\": \"vfs\""), "{json}");
        assert_eq!(Profile::from_json(&json).unwrap(), p);
    }

    /// The text the serde-based writer produced for this profile (taken
    /// from it before it was replaced): the format must not change.
    #[test]
    fn written_as_before() {
        let p = Profile::from_json(
            r#"{"osrelease": "7.99.34", "securelevel": -1,
                "builtins": [{"name": "x", "class": 9, "requires": ["a", "b"]},
                             {"name": "y\u00e9", "class": "vfs", "requires": []}],
                "fail_init": {"b": 200, "a": 16}, "fail_fini": {}, "ksyms": "/netbsd"}"#,
        )
        .unwrap();
        let expected = r#"{
  "osrelease": "7.99.34",
  "osrevision": 799003400,
  "machine": "amd64",
  "stat_abi": "v1",
  "compat_80": true,
  "module_path": "/stand/amd64/7.99.34/modules",
  "module_root": "root",
  "builtins": [
    {
      "name": "x",
      "class": 9,
      "requires": "a,b"
    },
    {
      "name": "yé",
      "class": "vfs"
    }
  ],
  "autoload": true,
  "autotime": 10,
  "auto_unload": true,
  "securelevel": -1,
  "euid": 0,
  "ksyms": "/netbsd",
  "fail_init": {
    "a": "EBUSY",
    "b": 200
  },
  "fail_fini": {}
}
"#;
        assert_eq!(p.to_json(), expected);
    }

    /// Every shape the serde-based reader accepted for a key still reads
    /// the same; `null` is an absent key.
    #[test]
    fn accepted_shapes() {
        let p = Profile::from_json(
            r#"{"osrelease": null, "osrevision": null, "machine": null, "stat_abi": null,
                "compat_80": null, "module_path": null, "module_root": null, "builtins": null,
                "autoload": null, "autotime": null, "auto_unload": null, "securelevel": null,
                "euid": null, "ksyms": null, "fail_init": null, "fail_fini": null}"#,
        )
        .unwrap();
        assert_eq!(p, Profile::default());
        let p = Profile::from_json(
            r#"{"builtins": [
                  {"name": "a", "class": -7, "requires": null, "ignored": {"x": [1]}},
                  {"name": "b", "class": "any", "requires": ""},
                  {"name": "c", "class": 1, "requires": ["x", ""]}],
                "stat_abi": "v1", "securelevel": -2147483648, "euid": 4294967295,
                "fail_init": {"m": 1, "m": "ENOENT"}}"#,
        )
        .unwrap();
        assert_eq!(p.builtins[0].class, -7);
        assert_eq!(p.builtins[0].requires, None);
        assert_eq!(p.builtins[1].class, 0);
        assert_eq!(p.builtins[1].requires.as_deref(), Some(&b""[..]));
        assert_eq!(p.builtins[2].requires.as_deref(), Some(&b"x,"[..]));
        assert_eq!(p.stat_abi, StatAbiEra::V1);
        assert_eq!(p.securelevel, i32::MIN);
        assert_eq!(p.euid, u32::MAX);
        // A repeated module name keeps its last errno, as a map did.
        assert_eq!(p.fail_init["m"], Errno::ENOENT);
    }

    /// Each error names the field and its place in the file.
    #[test]
    fn bad_profiles_say_where() {
        let err = |text: &str| Profile::from_json(text).unwrap_err();
        let unknown = err(r#"{"nosuchkey": 1}"#);
        assert!(
            unknown
                .starts_with("nosuchkey: unknown field `nosuchkey`, expected one of `osrelease`"),
            "{unknown}"
        );
        assert_eq!(
            err(r#"{"euid": 1, "euid": 1}"#),
            "duplicate field `euid` at line 1 column 18"
        );
        assert_eq!(
            err(r#"{"builtins": [{"name": "x", "class": 1}, {"name": "y", "class": "nope"}]}"#),
            "builtins[1].class: unknown module class `nope' at line 1 column 70"
        );
        assert_eq!(
            err(r#"{"builtins": [{"class": 1}]}"#),
            "builtins[0]: missing field `name` at line 1 column 26"
        );
        assert_eq!(
            err(r#"{"builtins": [{"name": "x", "class": 1, "requires": [1]}]}"#),
            "builtins[0].requires[0]: invalid type: integer `1`, expected a string or an array of \
             bytes at line 1 column 54"
        );
        assert_eq!(
            err(r#"{"osrevision": -1}"#),
            "osrevision: invalid value: integer `-1`, expected u32 at line 1 column 17"
        );
        assert_eq!(
            err(r#"{"stat_abi": "V2"}"#),
            "stat_abi: unknown ABI `V2', expected `v1' or `v2' at line 1 column 17"
        );
        assert_eq!(
            err(r#"{"fail_fini": {"x": 0}}"#),
            "fail_fini.x: errno must be positive, not 0 at line 1 column 21"
        );
        assert_eq!(
            err(r#"{"fail_init": {"x": null}}"#),
            "fail_init.x: invalid type: null, expected a NetBSD errno name or a positive integer \
             at line 1 column 24"
        );
        assert_eq!(
            err("{\n  \"machine\": \"x\",\n}"),
            "trailing comma at line 3 column 1"
        );
        assert_eq!(
            err("[]"),
            "invalid type: sequence, expected an object at line 1 column 0"
        );
        assert_eq!(
            err(r#"{"builtins": [["x", 1]]}"#),
            "builtins[0]: invalid type: sequence, expected an object at line 1 column 14"
        );
        assert_eq!(
            err(r#"{"builtins": [{"name": "x", "class": 4294967296}]}"#),
            "builtins[0].class: invalid value: integer `4294967296`, expected a class name or an \
             integer from -2147483648 to 2147483647 at line 1 column 47"
        );
    }

    #[test]
    fn boot_modules_are_kept_as_given() {
        let p =
            Profile::from_json(r#"{"boot_modules": ["needy", " /x/y.kmod", "hd0a:z"]}"#).unwrap();
        assert_eq!(p.boot_modules, ["needy", " /x/y.kmod", "hd0a:z"]);
        assert!(p.to_json().contains("\"boot_modules\": ["));
        assert_eq!(Profile::from_json(&p.to_json()).unwrap(), p);
        assert!(Profile::default().boot_modules.is_empty());
        assert!(!Profile::default().to_json().contains("boot_modules"));
        assert_eq!(
            Profile::from_json(r#"{"boot_modules": null}"#).unwrap(),
            Profile::default()
        );
        assert_eq!(
            Profile::from_json(r#"{"boot_modules": ["a\u0000b"]}"#).unwrap_err(),
            "boot_modules[0] contains a NUL"
        );
        assert_eq!(
            Profile::from_json(r#"{"boot_modules": [1]}"#).unwrap_err(),
            "boot_modules[0]: invalid type: integer `1`, expected a string at line 1 column 19"
        );
    }

    #[test]
    fn bad_profiles() {
        assert!(Profile::from_json("{").is_err());
        assert!(Profile::from_json(r#"{"nosuchkey": 1}"#).is_err());
        assert!(Profile::from_json(r#"{"fail_init": {"x": "EWHAT"}}"#).is_err());
        assert!(Profile::from_json(r#"{"builtins": [{"name": "x", "class": "nope"}]}"#).is_err());
        assert!(Profile::from_json(r#"{"module_path": "relative"}"#).is_err());
        assert!(Profile::from_json(r#"{"osrelease": "ten"}"#).is_err());
        let p = Profile::from_json(r#"{"osrelease": "ten", "osrevision": 1000000000}"#).unwrap();
        assert_eq!(p.osrelease, "ten");
    }

    /// Builtin names and requirements that are not UTF-8: arrays of byte
    /// values in, the same out.
    #[test]
    fn builtin_names_as_bytes() {
        let p = Profile::from_json(
            r#"{"builtins": [
                  {"name": [104, 255, 108, 108, 111], "class": "misc"},
                  {"name": "needy", "class": "misc", "requires": [[104, 255, 108, 108, 111], "b"]},
                  {"name": "x", "class": "misc", "requires": "plain"}]}"#,
        )
        .unwrap();
        assert_eq!(p.builtins[0].name, &b"h\xffllo"[..]);
        assert_eq!(p.builtins[1].requires.as_deref(), Some(&b"h\xffllo,b"[..]));
        let json = p.to_json();
        assert!(
            json.contains("\"requires\": [\n        [\n          104,"),
            "{json}"
        );
        assert!(json.contains("\"requires\": \"plain\""), "{json}");
        assert_eq!(Profile::from_json(&json).unwrap(), p);
        assert_eq!(
            Profile::from_json(r#"{"builtins": [{"name": [104, 0], "class": 1}]}"#).unwrap_err(),
            "builtins[0].name contains a NUL"
        );
        assert_eq!(
            Profile::from_json(r#"{"builtins": [{"name": [-1], "class": 1}]}"#).unwrap_err(),
            "builtins[0].name[0]: invalid value: integer `-1`, expected an integer from 0 to 255 \
             at line 1 column 26"
        );
        // fail_init's keys are strings: they match the names that are UTF-8.
        let p = Profile::from_json(r#"{"fail_init": {"hé": "EIO"}}"#).unwrap();
        assert_eq!(p.init_failure("hé".as_bytes()), Some(Errno::EIO));
        assert_eq!(p.init_failure(b"h\xe9"), None);
    }
}
