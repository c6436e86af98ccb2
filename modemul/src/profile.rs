//! The kernel profile: which NetBSD kernel the emulator pretends to be.
//!
//! Stored as `profile.json` in the state directory. Every key is optional
//! when a user writes the file; a missing key takes its default, and the
//! defaults that depend on other keys are derived from them as the kernel
//! derives them (`osrevision` from `osrelease`, `stat_abi` from
//! `osrevision`, `module_path` from `osrelease` and `machine`).

use std::collections::BTreeMap;
use std::fmt;

use jsontext::{self, object, text_or_bytes, Fields, Place, Value};
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
        let doc = jsontext::parse(text.as_bytes()).map_err(|e| e.to_string())?;
        let file = ProfileFile::from_json(&doc)?;
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
        let builtins = self.builtins.iter().map(BuiltinModule::to_json);
        let mut members = vec![
            ("osrelease", self.osrelease.as_str().into()),
            ("osrevision", self.osrevision.into()),
            ("machine", self.machine.as_str().into()),
            ("stat_abi", self.stat_abi.name().into()),
            ("compat_80", self.compat_80.into()),
            ("module_path", self.module_path.as_str().into()),
            ("module_root", self.module_root.as_str().into()),
            ("builtins", builtins.collect::<Vec<_>>().into()),
            ("autoload", self.autoload.into()),
            ("autotime", self.autotime.into()),
            ("auto_unload", self.auto_unload.into()),
            ("securelevel", self.securelevel.into()),
            ("euid", self.euid.into()),
        ];
        if let Some(k) = &self.ksyms {
            members.push(("ksyms", k.as_str().into()));
        }
        members.push(("fail_init", errno_map_json(&self.fail_init)));
        members.push(("fail_fini", errno_map_json(&self.fail_fini)));
        if !self.boot_modules.is_empty() {
            members.push(("boot_modules", jsontext::strings(&self.boot_modules)));
        }
        object(members).to_document()
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

/// `profile.json` as written by a user: every key optional.
#[derive(Debug, Default)]
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
    fail_init: Option<BTreeMap<String, Errno>>,
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

const PROFILE_FIELDS: &[&str] = &[
    "osrelease",
    "osrevision",
    "machine",
    "stat_abi",
    "compat_80",
    "module_path",
    "module_root",
    "builtins",
    "autoload",
    "autotime",
    "auto_unload",
    "securelevel",
    "euid",
    "ksyms",
    "fail_init",
    "fail_fini",
    "boot_modules",
];

const U32_MAX: u64 = u32::MAX as u64;
const I32_MIN: i64 = i32::MIN as i64;
const I32_MAX: i64 = i32::MAX as i64;

impl ProfileFile {
    /// Reads the document: unknown keys are errors, `null` is the same as
    /// an absent key. (The `as` casts narrow values already range-checked.)
    fn from_json(v: &Value) -> Result<ProfileFile, String> {
        let f = Fields::new(v, "", PROFILE_FIELDS, true)?;
        let stat_abi = match f.opt_string("stat_abi")?.as_deref() {
            None => None,
            Some("v1") => Some(StatAbiEra::V1),
            Some("v2") => Some(StatAbiEra::V2),
            Some(other) => {
                return Err(f.field_error(
                    "stat_abi",
                    &format!("unknown ABI `{other}', expected `v1' or `v2'"),
                ))
            }
        };
        let builtins = match f.opt_array("builtins")? {
            None => None,
            Some(items) => Some(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, b)| BuiltinModule::from_json(b, Place::Item("builtins", i)))
                    .collect::<Result<_, _>>()?,
            ),
        };
        Ok(ProfileFile {
            osrelease: f.opt_string("osrelease")?,
            osrevision: f.opt_uint("osrevision", U32_MAX)?.map(|u| u as u32),
            machine: f.opt_string("machine")?,
            stat_abi,
            compat_80: f.opt_bool("compat_80")?,
            module_path: f.opt_string("module_path")?,
            module_root: f.opt_string("module_root")?,
            builtins,
            autoload: f.opt_bool("autoload")?,
            autotime: f.opt_uint("autotime", U32_MAX)?.map(|u| u as u32),
            auto_unload: f.opt_bool("auto_unload")?,
            securelevel: f
                .opt_int("securelevel", I32_MIN, I32_MAX)?
                .map(|i| i as i32),
            euid: f.opt_uint("euid", U32_MAX)?.map(|u| u as u32),
            ksyms: f.opt_string("ksyms")?,
            fail_init: errno_map(&f, "fail_init")?,
            fail_fini: errno_map(&f, "fail_fini")?,
            boot_modules: match f.opt_value("boot_modules") {
                None => None,
                Some(_) => f.strings("boot_modules")?,
            },
        })
    }
}

impl BuiltinModule {
    /// Reads one entry of `builtins`. Unknown keys are ignored here (they
    /// always were); `class` is a class name or a number, `requires` a
    /// string, an array of names (joined with commas; empty is none) or
    /// `null`.
    fn from_json(v: &Value, place: Place<'_>) -> Result<BuiltinModule, String> {
        let f = Fields::new(v, place, &["name", "class", "requires"], false)?;
        let name = ModName::new(f.bytes("name")?.ok_or_else(|| f.missing("name"))?);
        let class = f.value("class").ok_or_else(|| f.missing("class"))?;
        let class = match (class.as_i64().map(i32::try_from), class.as_str()) {
            (Some(Ok(n)), _) => n,
            (_, Some(n)) => ModClass::from_name(n)
                .map(|c| c as i32)
                .ok_or_else(|| f.field_error("class", &format!("unknown module class `{n}'")))?,
            _ => {
                return Err(f.field_error(
                    "class",
                    &format!(
                        "expected a class name or an integer from {I32_MIN} to {I32_MAX}, \
                         found {}",
                        class.kind()
                    ),
                ))
            }
        };
        // An array of names, each a string or an array of bytes, is joined
        // with commas.
        let requires = match f.opt_value("requires") {
            None => None,
            Some(Value::String(s)) => Some(s.as_bytes().to_vec()),
            Some(Value::Array(_)) => {
                let names = f.bytes_list("requires")?.unwrap_or_default();
                Some(names.join(&b','))
                    .filter(|_| !names.is_empty())
                    .map(|n| n.to_vec())
            }
            Some(other) => {
                return Err(f.field_error(
                    "requires",
                    &format!(
                        "expected a string or an array of strings, found {}",
                        other.kind()
                    ),
                ))
            }
        };
        Ok(BuiltinModule {
            name,
            class,
            requires,
        })
    }

    /// `class` as its name when it has one; `requires` left out when none.
    fn to_json(&self) -> Value {
        let class =
            ModClass::from_raw(self.class).map_or(Value::from(self.class), |c| c.name().into());
        let mut members = vec![
            ("name", text_or_bytes(self.name.as_bytes())),
            ("class", class),
        ];
        // A list that is not UTF-8 cannot be one string: it goes as the
        // array of what lies between its commas, which joins back to it.
        if let Some(r) = &self.requires {
            let value = match std::str::from_utf8(r) {
                Ok(s) => s.into(),
                Err(_) => Value::Array(r.split(|&b| b == b',').map(text_or_bytes).collect()),
            };
            members.push(("requires", value));
        }
        object(members)
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
fn errno_map_json(m: &BTreeMap<String, Errno>) -> Value {
    Value::Object(
        m.iter()
            .map(|(k, e)| (k.clone(), e.name().map_or(Value::from(e.0), Value::from)))
            .collect(),
    )
}

/// Reads a `fail_*` map: module name to errno, as a NetBSD name ("EBUSY")
/// or a positive number (16). A repeated module name keeps its last errno.
fn errno_map(f: &Fields, name: &str) -> Result<Option<BTreeMap<String, Errno>>, String> {
    let Some(v) = f.opt_value(name) else {
        return Ok(None);
    };
    let members = v
        .as_object()
        .ok_or_else(|| f.field_error(name, &format!("expected an object, found {}", v.kind())))?;
    let mut out = BTreeMap::new();
    for (k, spec) in members {
        let e = match (spec.as_i64().map(i32::try_from), spec.as_str()) {
            (Some(Ok(n)), _) if n > 0 => Errno(n),
            (Some(Ok(n)), _) => {
                return Err(
                    f.field_error(name, &format!("errno for `{k}' must be positive, not {n}"))
                )
            }
            (_, Some(n)) => Errno::from_name(n).ok_or_else(|| {
                f.field_error(
                    name,
                    &format!("`{n}' (for `{k}') is not a NetBSD errno name"),
                )
            })?,
            _ => {
                return Err(f.field_error(
                    name,
                    &format!(
                        "errno for `{k}': expected a NetBSD errno name or a positive integer, \
                         found {}",
                        spec.kind()
                    ),
                ))
            }
        };
        out.insert(k.clone(), e);
    }
    Ok(Some(out))
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

    #[test]
    fn bad_profiles_say_where() {
        let err = |text: &str| Profile::from_json(text).unwrap_err();
        assert_eq!(err(r#"{"nosuchkey": 1}"#), "unknown field `nosuchkey'");
        assert_eq!(err(r#"{"euid": 1, "euid": 1}"#), "duplicate field `euid'");
        assert_eq!(
            err(r#"{"builtins": [{"name": "x", "class": 1}, {"name": "y", "class": "nope"}]}"#),
            "builtins[1].class: unknown module class `nope'"
        );
        assert_eq!(
            err(r#"{"builtins": [{"class": 1}]}"#),
            "builtins[0]: missing field `name'"
        );
        assert_eq!(
            err(r#"{"builtins": [{"name": "x", "class": 1, "requires": [1]}]}"#),
            "builtins[0].requires[0]: expected a string or an array of bytes, found an integer"
        );
        assert_eq!(
            err(r#"{"osrevision": -1}"#),
            "osrevision: expected an integer from 0 to 4294967295, found an integer"
        );
        assert_eq!(
            err(r#"{"stat_abi": "V2"}"#),
            "stat_abi: unknown ABI `V2', expected `v1' or `v2'"
        );
        assert_eq!(
            err(r#"{"fail_fini": {"x": 0}}"#),
            "fail_fini: errno for `x' must be positive, not 0"
        );
        assert_eq!(
            err(r#"{"fail_init": {"x": null}}"#),
            "fail_init: errno for `x': expected a NetBSD errno name or a positive integer, \
             found null"
        );
        assert_eq!(
            err("{\n  \"machine\": \"x\",\n}"),
            "trailing comma at line 3 column 1"
        );
        assert_eq!(
            err("[]"),
            "the document: expected an object, found an array"
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
            "boot_modules[0]: expected a string, found an integer"
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
            "builtins[0].name[0]: expected an integer from 0 to 255, found an integer"
        );
        // fail_init's keys are strings: they match the names that are UTF-8.
        let p = Profile::from_json(r#"{"fail_init": {"hé": "EIO"}}"#).unwrap();
        assert_eq!(p.init_failure("hé".as_bytes()), Some(Errno::EIO));
        assert_eq!(p.init_failure(b"h\xe9"), None);
    }
}
