//! The kernel profile: which NetBSD kernel the emulator pretends to be.
//!
//! Stored as `profile.json` in the state directory. Every key is optional
//! when a user writes the file; a missing key takes its default, and the
//! defaults that depend on other keys are derived from them as the kernel
//! derives them (`osrevision` from `osrelease`, `stat_abi` from
//! `osrevision`, `module_path` from `osrelease` and `machine`).

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer};
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};

use crate::abi::{ModClass, MODULE_CLASS_MAX, MODULE_CLASS_MAX_NO_BUFQ};
use crate::errno::Errno;

/// Which modstat ABI the emulated kernel speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StatAbiEra {
    /// NetBSD ≤ 8: `MODCTL_STAT` is command 2 with 392-byte records;
    /// command 4 is unknown (`EINVAL`).
    V1,
    /// NetBSD ≥ 9: `MODCTL_STAT` is command 4; command 2 is `MODCTL_OSTAT`,
    /// served only when `compat_80` is set.
    V2,
}

/// One module linked into the kernel (an entry of its `link_set_modules`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuiltinModule {
    pub name: String,
    /// `mi_class`; written as a modstat class name (`"vfs"`) or a number.
    #[serde(with = "class_serde")]
    pub class: i32,
    /// `mi_required` exactly as the kernel holds it: a comma-separated list,
    /// or none. A JSON array of names is accepted too.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "requires_serde"
    )]
    pub requires: Option<String>,
}

impl BuiltinModule {
    pub fn new(name: &str, class: ModClass, requires: Option<&str>) -> BuiltinModule {
        BuiltinModule {
            name: name.to_string(),
            class: class as i32,
            requires: requires.map(str::to_string),
        }
    }
}

/// The emulated kernel. `Default` is a NetBSD 10.1 amd64 GENERIC-like kernel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ksyms: Option<String>,
    /// Modules whose `MODULE_CMD_INIT` fails, with the errno it returns.
    #[serde(serialize_with = "ser_errno_map")]
    pub fail_init: BTreeMap<String, Errno>,
    /// Modules whose `MODULE_CMD_FINI` fails, with the errno it returns.
    #[serde(serialize_with = "ser_errno_map")]
    pub fail_fini: BTreeMap<String, Errno>,
}

pub const DEFAULT_OSRELEASE: &str = "10.1";
pub const DEFAULT_MACHINE: &str = "amd64";
pub const DEFAULT_MODULE_ROOT: &str = "root";
/// `module_autotime`'s initial value in kern_module.c.
pub const DEFAULT_AUTOTIME: u32 = 10;

/// The first `__NetBSD_Version__` with the v2 stat ABI (NetBSD 9.0).
const V2_SINCE: u32 = 900_000_000;

impl Default for Profile {
    fn default() -> Profile {
        ProfileFile::default().resolve()
    }
}

impl Profile {
    /// Parses a `profile.json`, filling in and deriving missing keys.
    pub fn from_json(text: &str) -> Result<Profile, String> {
        let file: ProfileFile = serde_json::from_str(text).map_err(|e| e.to_string())?;
        if let (Some(rel), None) = (&file.osrelease, file.osrevision) {
            if osrevision_of(rel).is_none() {
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

    /// The JSON written for a profile (every key spelled out).
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_else(|_| "{}".to_string());
        s.push('\n');
        s
    }

    /// `MODULE_CLASS_MAX` of this kernel: valid classes are 1..max.
    pub fn class_max(&self) -> i32 {
        if self.osrevision >= crate::validate::BUFQ_CLASS_SINCE {
            MODULE_CLASS_MAX
        } else {
            MODULE_CLASS_MAX_NO_BUFQ
        }
    }

    fn check(&self) -> Result<(), String> {
        if self.machine.is_empty() {
            return Err("machine is empty".into());
        }
        if !self.module_path.starts_with('/') {
            return Err(format!(
                "module_path `{}' is not an absolute NetBSD path",
                self.module_path
            ));
        }
        for (i, b) in self.builtins.iter().enumerate() {
            if b.name.is_empty() {
                return Err(format!("builtins[{i}] has an empty name"));
            }
        }
        Ok(())
    }
}

/// `__NetBSD_Version__` of a release string: "10.1" → 1001000000,
/// "10.99.12" → 1099001200, "9.3" → 903000000.
pub fn osrevision_of(osrelease: &str) -> Option<u32> {
    let mut parts = osrelease.split('.');
    let major: u32 = parts.next()?.parse().ok()?;
    let minor: u32 = parts.next().map_or(Some(0), |s| s.parse().ok())?;
    let patch: u32 = parts.next().map_or(Some(0), |s| {
        s.trim_end_matches(|c: char| c.is_ascii_alphabetic())
            .parse()
            .ok()
    })?;
    if major > 41 || minor > 99 || patch > 9999 {
        return None;
    }
    Some(major * 100_000_000 + minor * 1_000_000 + patch * 100)
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
    #[serde(default, deserialize_with = "de_errno_map")]
    fail_init: Option<BTreeMap<String, Errno>>,
    #[serde(default, deserialize_with = "de_errno_map")]
    fail_fini: Option<BTreeMap<String, Errno>>,
}

impl ProfileFile {
    fn resolve(self) -> Profile {
        let (osrelease, osrevision) = match (self.osrelease, self.osrevision) {
            (Some(rel), Some(rev)) => (rel, rev),
            (Some(rel), None) => {
                let rev = osrevision_of(&rel).unwrap_or(0);
                (rel, rev)
            }
            (None, Some(rev)) => (crate::kmod::version_text(rev), rev),
            (None, None) => (
                DEFAULT_OSRELEASE.to_string(),
                osrevision_of(DEFAULT_OSRELEASE).unwrap_or(0),
            ),
        };
        let machine = self.machine.unwrap_or_else(|| DEFAULT_MACHINE.to_string());
        let stat_abi = self.stat_abi.unwrap_or(if osrevision >= V2_SINCE {
            StatAbiEra::V2
        } else {
            StatAbiEra::V1
        });
        let module_path = self
            .module_path
            .unwrap_or_else(|| crate::path::default_module_path(&osrelease, &machine));
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
        }
    }
}

fn ser_errno_map<S: Serializer>(m: &BTreeMap<String, Errno>, s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut map = s.serialize_map(Some(m.len()))?;
    for (k, e) in m {
        match e.name() {
            Some(n) => map.serialize_entry(k, n)?,
            None => map.serialize_entry(k, &e.0)?,
        }
    }
    map.end()
}

/// An errno written as a NetBSD name ("EBUSY") or a number (16).
#[derive(Deserialize)]
#[serde(untagged)]
enum ErrnoSpec {
    Num(i32),
    Name(String),
}

fn de_errno_map<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<BTreeMap<String, Errno>>, D::Error> {
    let raw: Option<BTreeMap<String, ErrnoSpec>> = Option::deserialize(d)?;
    let Some(raw) = raw else { return Ok(None) };
    let mut out = BTreeMap::new();
    for (k, v) in raw {
        let e = match v {
            ErrnoSpec::Num(n) if n > 0 => Errno(n),
            ErrnoSpec::Num(n) => {
                return Err(de::Error::custom(format!(
                    "errno for `{k}' must be positive, not {n}"
                )))
            }
            ErrnoSpec::Name(n) => Errno::from_name(&n).ok_or_else(|| {
                de::Error::custom(format!("`{n}' (for `{k}') is not a NetBSD errno name"))
            })?,
        };
        out.insert(k, e);
    }
    Ok(Some(out))
}

mod class_serde {
    use super::*;

    pub fn serialize<S: Serializer>(class: &i32, s: S) -> Result<S::Ok, S::Error> {
        match ModClass::from_raw(*class) {
            Some(c) => s.serialize_str(c.name()),
            None => s.serialize_i32(*class),
        }
    }

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum ClassSpec {
        Num(i32),
        Name(String),
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<i32, D::Error> {
        match ClassSpec::deserialize(d)? {
            ClassSpec::Num(n) => Ok(n),
            ClassSpec::Name(n) => ModClass::from_name(&n)
                .map(|c| c as i32)
                .ok_or_else(|| de::Error::custom(format!("unknown module class `{n}'"))),
        }
    }
}

mod requires_serde {
    use super::*;

    pub fn serialize<S: Serializer>(r: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
        match r {
            Some(r) => s.serialize_str(r),
            None => s.serialize_none(),
        }
    }

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum ReqSpec {
        List(Vec<String>),
        Str(String),
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        Ok(match Option::<ReqSpec>::deserialize(d)? {
            None => None,
            Some(ReqSpec::Str(s)) => Some(s),
            Some(ReqSpec::List(v)) if v.is_empty() => None,
            Some(ReqSpec::List(v)) => Some(v.join(",")),
        })
    }
}

impl fmt::Display for StatAbiEra {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StatAbiEra::V1 => "v1",
            StatAbiEra::V2 => "v2",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert_eq!(osrevision_of("10.1"), Some(1_001_000_000));
        assert_eq!(osrevision_of("9.3"), Some(903_000_000));
        assert_eq!(osrevision_of("10.99.12"), Some(1_099_001_200));
        assert_eq!(osrevision_of("7.99.34"), Some(799_003_400));
        assert_eq!(osrevision_of("x"), None);
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
        assert_eq!(p.builtins[0].requires.as_deref(), Some("wapbl"));
        assert_eq!(p.builtins[1].class, 9);
        assert_eq!(p.builtins[1].requires.as_deref(), Some("a,,b"));
        assert_eq!(p.builtins[2].requires, None);
        assert_eq!(p.fail_init["kernfs"], Errno::EBUSY);
        assert_eq!(p.fail_fini["tmpfs"], Errno::EBUSY);
        let json = p.to_json();
        assert!(json.contains("\"kernfs\": \"EBUSY\""), "{json}");
        assert!(json.contains("\"class\": \"vfs\""), "{json}");
        assert_eq!(Profile::from_json(&json).unwrap(), p);
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
}
