//! `modload -n --kernel FILE [--root DIR] module ...`: would a fresh boot
//! of the kernel image FILE load each module? For a packager checking a
//! release's modules against the kernel built with them.
//!
//! No rule of its own: the kernel is [`modobj::engine`] over a [`Host`]
//! made from the image ([`modobj::kimage`]): its release and machine,
//! its built-ins (booted with `Engine::boot`, so that they are active as
//! after a boot), its symbols; module files are read below the root in
//! the module path that kernel uses. Each operand is loaded on a fresh
//! copy of the booted lists, so operands do not affect each other, and
//! its requirements come from the same place. Every module file (and its
//! `.plist`) is read once whatever the number of operands that need it:
//! what the linker made of it is kept by path.

use std::collections::{BTreeSet, HashMap};
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use jsontext::object;
use libmodctl::errno::Errno;
use libmodctl::plist::Dict;
use libmodctl::ModName;
use modobj::engine::{Engine, Event, Host, Loaded, Module, Modules, Opened, Refusal, Why};

use crate::explain::reason::Reason;
use crate::explain::{kernel_reason, walk_reason};
use modobj::kimage::{self, KernelImage};
use modobj::kmod::{version_text, Kmod, KmodError};
use modobj::kobj;
use modobj::path::{below_root, default_module_path};
use modobj::plistfile;
use modobj::rules::Target;

use crate::json::{text_and_bytes, texts_and_bytes};

/// Version of the `modload -n --kernel --json` document.
pub const REPORT_SCHEMA: u64 = 1;

/// What became of one operand.
#[derive(Debug, Clone, PartialEq)]
pub struct ModuleCheck {
    /// The operand as given.
    pub operand: Vec<u8>,
    /// The file the kernel would open for it, as the kernel names it.
    pub file: Option<String>,
    /// Its `mi_name`, when its file was read.
    pub name: Option<ModName>,
    /// The modules loaded from files, in order (the operand last when it
    /// loads).
    pub order: Vec<ModName>,
    /// The errno of the load; `None`: it would load.
    pub error: Option<Errno>,
    /// The first refusal: the module it concerns, a check name, and why.
    pub cause: Option<(ModName, &'static str, Reason)>,
}

impl ModuleCheck {
    pub fn would_load(&self) -> bool {
        self.error.is_none()
    }
}

/// The kernel and every operand's fate.
#[derive(Debug, Clone, PartialEq)]
pub struct ReleaseReport {
    /// The image, as named on the command line.
    pub kernel_file: String,
    pub machine: String,
    pub osrevision: u32,
    pub osrelease: String,
    pub version_from_note: bool,
    pub root: String,
    /// `kern.module.path` of that kernel.
    pub module_path: String,
    /// The built-ins, and whether each is active after the boot.
    pub builtins: Vec<(ModName, bool)>,
    /// How many global symbols the image defines (`None`: no symbol
    /// table, so no symbol is checked).
    pub symbols: Option<usize>,
    pub modules: Vec<ModuleCheck>,
}

/// The kernel of the image, with the files below the root.
struct ReleaseHost<'a> {
    target: Target,
    module_path: Vec<u8>,
    root: &'a Path,
    symbols: Option<BTreeSet<String>>,
    /// What the linker made of each file read, by host path.
    objects: HashMap<PathBuf, Result<kobj::Loaded, kobj::Refusal>>,
    plists: HashMap<PathBuf, Result<Option<Dict>, Errno>>,
    /// The operand's file: the kernel's name and the host path.
    operand_file: Option<(String, PathBuf)>,
    /// Modules loaded from files during this operand's load.
    loaded: Vec<ModName>,
    /// Refusals during this operand's load, in order.
    refusals: Vec<Refusal>,
}

impl ReleaseHost<'_> {
    /// Where the kernel's `path` is here: below the root when the kernel
    /// built it from a name and its module path, as given otherwise.
    fn host_path(&self, path: &[u8], by_name: bool) -> PathBuf {
        if by_name {
            below_root(self.root, path)
        } else {
            PathBuf::from(OsStr::from_bytes(path))
        }
    }

    /// The file's refusal names it as it is `shown`.
    fn link(&self, host: &Path, shown: &str) -> Result<kobj::Loaded, kobj::Refusal> {
        let k = Kmod::open(host).map_err(|e| kobj::Refusal {
            errno: e.errno(),
            cause: match e {
                KmodError::Io(Errno::ENOENT) => kobj::Cause::NoFile { path: shown.into() },
                error => kobj::Cause::Unreadable {
                    path: shown.into(),
                    error,
                },
            },
        })?;
        kobj::judge(&k, &self.target)
    }
}

impl Host for ReleaseHost<'_> {
    fn target(&self) -> &Target {
        &self.target
    }

    /// The superuser at boot, before securelevel is raised.
    fn may_load(&self, _autoload: bool) -> bool {
        true
    }

    fn module_path(&self) -> &[u8] {
        &self.module_path
    }

    fn open(&mut self, path: &[u8], name: Option<&[u8]>, operand: bool) -> Opened {
        let host = self.host_path(path, name.is_some());
        let shown = String::from_utf8_lossy(path).into_owned();
        if operand {
            self.operand_file = Some((shown.clone(), host.clone()));
        }
        let result = match self.objects.get(&host) {
            Some(r) => r.clone(),
            None => {
                let r = self.link(&host, &shown);
                self.objects.insert(host, r.clone());
                r
            }
        };
        match result {
            Ok(o) => Opened::Object(Box::new(o)),
            Err(r) => Opened::Refused(r),
        }
    }

    fn plist(&mut self, path: &[u8], name: Option<&[u8]>) -> Result<Option<Dict>, Errno> {
        let host = self.host_path(&plistfile::plist_path(path), name.is_some());
        self.plists
            .entry(host)
            .or_insert_with_key(|h| plistfile::read(h).map_err(|e| e.errno()))
            .clone()
    }

    fn kernel_defines(&self, symbol: &str) -> Option<bool> {
        self.symbols.as_ref().map(|s| s.contains(symbol))
    }

    fn event(&mut self, e: &Event) {
        match e {
            Event::Loaded {
                name,
                source: Loaded::Filesys,
                ..
            } => self.loaded.push(name.clone()),
            Event::Refused(r) => self.refusals.push(r.clone()),
            _ => {}
        }
    }
}

/// Checks `operands` against the kernel image `kernel`, module files
/// below `root`. `Err`: the image cannot be read as a kernel.
pub fn check(kernel: &Path, root: &Path, operands: &[&[u8]]) -> Result<ReleaseReport, String> {
    checked(kernel, root, operands).map(|(report, _)| report)
}

/// [`check`], and how many module files were read.
fn checked(
    kernel: &Path,
    root: &Path,
    operands: &[&[u8]],
) -> Result<(ReleaseReport, usize), String> {
    let image = kimage::read(kernel).map_err(|e| format!("{}: {e}", kernel.display()))?;
    let KernelImage {
        machine,
        osrevision,
        osrelease,
        version_from_note,
        builtins,
        symbols,
    } = image;
    let module_path = default_module_path(&osrelease, &machine);
    let mut host = ReleaseHost {
        target: Target::new(osrevision, &machine),
        module_path: module_path.clone().into_bytes(),
        root,
        symbols,
        objects: HashMap::new(),
        plists: HashMap::new(),
        operand_file: None,
        loaded: Vec::new(),
        refusals: Vec::new(),
    };
    let records = builtins
        .iter()
        .map(|b| Module::builtin(b.name.clone(), b.class, b.required.clone()))
        .collect();
    let booted = Engine::boot(&mut host, records, Vec::new()).modules;
    let builtins = builtins
        .iter()
        .map(|b| (b.name.clone(), booted.active.contains(b.name.as_bytes())))
        .collect();
    let modules = operands
        .iter()
        .map(|op| check_one(&booted, &mut host, op))
        .collect();
    let report = ReleaseReport {
        kernel_file: kernel.display().to_string(),
        machine,
        osrevision,
        osrelease,
        version_from_note,
        root: root.display().to_string(),
        module_path,
        builtins,
        symbols: host.symbols.as_ref().map(BTreeSet::len),
        modules,
    };
    Ok((report, host.objects.len()))
}

/// `modload` of one operand (no flags, modload's empty property list) on
/// a fresh copy of the booted kernel's lists.
fn check_one(booted: &Modules, host: &mut ReleaseHost<'_>, operand: &[u8]) -> ModuleCheck {
    host.operand_file = None;
    host.loaded.clear();
    host.refusals.clear();
    let props = Dict::new();
    let len = props.externalize().len();
    let result = Engine::new(booted.clone(), host).modctl_load(operand, 0, Some((&props, len)));
    let name = host
        .operand_file
        .as_ref()
        .and_then(|(_, h)| host.objects.get(h))
        .and_then(|o| o.as_ref().ok())
        .and_then(|o| o.info.as_ref().ok())
        .map(|i| i.name.clone());
    let cause = result
        .is_err()
        .then(|| host.refusals.first().map(|r| explain(r, &host.refusals)))
        .flatten();
    ModuleCheck {
        operand: operand.to_vec(),
        file: host.operand_file.as_ref().map(|(s, _)| s.clone()),
        name,
        order: host.loaded.clone(),
        error: result.err(),
        cause,
    }
}

/// The module that required `module`, from the refusals after its own.
fn required_by(module: &ModName, refusals: &[Refusal]) -> Option<ModName> {
    refusals.iter().find_map(|r| match &r.why {
        Why::Dependency { dep, .. } if dep == module => Some(r.module.clone()),
        _ => None,
    })
}

/// The first refusal: the module it concerns, the check, the reason.
fn explain(r: &Refusal, all: &[Refusal]) -> (ModName, &'static str, Reason) {
    let module = r.module.clone();
    let by = || required_by(&module, all);
    let (check, why) = match &r.why {
        Why::Open { refusal, .. } if r.isdep && refusal.errno == Errno::ENOENT => (
            "Dependencies",
            Reason::RequiredNotShipped {
                module: module.clone(),
                required_by: by(),
                why: Box::new(Reason::Object(refusal.cause.clone())),
            },
        ),
        Why::Open { refusal, .. } => ("File", Reason::Object(refusal.cause.clone())),
        Why::AlreadyLoaded { .. } => (
            "Builtin",
            Reason::BuiltIn {
                module: module.clone(),
            },
        ),
        Why::BuiltinNeedsForce { .. } => (
            "Builtin",
            Reason::BuiltinFailedAtBoot {
                module: module.clone(),
            },
        ),
        Why::Version {
            module: built_for,
            kernel,
        } => (
            "Version",
            Reason::Version {
                module: module.clone(),
                built_for: *built_for,
                kernel: *kernel,
            },
        ),
        Why::BadClass { class } => (
            "Class",
            Reason::BadClass {
                module: module.clone(),
                class: *class,
            },
        ),
        Why::Unresolved { symbols } => (
            "Symbols",
            Reason::UnresolvedAfter {
                module: module.clone(),
                required_by: by(),
                symbols: symbols.clone(),
            },
        ),
        Why::Clash { symbols } => (
            "Symbols",
            Reason::Clash {
                module: Some(module.clone()),
                symbols: symbols.clone(),
            },
        ),
        Why::Link { refusal } => (
            "Relocations",
            Reason::LinkRefused {
                module: Some(module.clone()),
                why: refusal.cause.clone(),
            },
        ),
        Why::FetchInfo { refusal } => (
            "Descriptor",
            Reason::DescriptorUnreadable {
                module: Some(module.clone()),
                why: Some(Box::new(Reason::Object(refusal.cause.clone()))),
            },
        ),
        Why::Plist => (
            "Properties",
            Reason::PlistUnreadable {
                module: module.clone(),
                errno: r.errno,
            },
        ),
        _ => walk_reason(r).unwrap_or_else(|| kernel_reason(r)),
    };
    (module, check, why)
}

impl ReleaseReport {
    pub fn would_load(&self) -> bool {
        self.modules.iter().all(ModuleCheck::would_load)
    }

    fn loading(&self) -> usize {
        self.modules.iter().filter(|m| m.would_load()).count()
    }

    /// One line per operand, in operand order, then the summary.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for m in &self.modules {
            out += &String::from_utf8_lossy(&m.operand);
            match (&m.error, &m.cause) {
                (None, _) => {
                    let before = &m.order[..m.order.len().saturating_sub(1)];
                    if before.is_empty() {
                        out += ": would load\n";
                    } else {
                        let names: Vec<String> = before.iter().map(ToString::to_string).collect();
                        out += &format!(": would load (after {})\n", names.join(", "));
                    }
                }
                (Some(e), Some((_, _, why))) => {
                    out += &format!(": would not load: {}: {why}\n", e.name().unwrap_or("?"));
                }
                (Some(e), None) => out += &format!(": would not load: {e}\n"),
            }
        }
        let symbols = match self.symbols {
            Some(_) => "",
            None => ", no symbol table: symbols not checked",
        };
        out += &format!(
            "{} of {} modules would load into {} (NetBSD {} ({}) {}, {} built-in, modules in {}{symbols})\n",
            self.loading(),
            self.modules.len(),
            self.kernel_file,
            self.osrelease,
            self.osrevision,
            self.machine,
            self.builtins.len(),
            self.module_path,
        );
        out
    }

    /// The `--json` document; members written in byte order of their
    /// names, which `object` makes.
    pub fn to_json(&self) -> String {
        let errno_json = crate::json::errno;
        let builtins: Vec<ModName> = self.builtins.iter().map(|(n, _)| n.clone()).collect();
        let inactive: Vec<ModName> = self
            .builtins
            .iter()
            .filter(|(_, active)| !active)
            .map(|(n, _)| n.clone())
            .collect();
        let kernel = object(
            [
                texts_and_bytes("builtins", "builtins_bytes", &builtins),
                vec![("file", self.kernel_file.as_str().into())],
                texts_and_bytes("inactive_builtins", "inactive_builtins_bytes", &inactive),
                vec![
                    ("machine", self.machine.as_str().into()),
                    ("module_path", self.module_path.as_str().into()),
                    ("osrelease", self.osrelease.as_str().into()),
                    ("osrevision", self.osrevision.into()),
                    ("root", self.root.as_str().into()),
                    ("symbols", self.symbols.map(|n| n as u64).into()),
                    (
                        "version_source",
                        if self.version_from_note {
                            "note"
                        } else {
                            "osrelease"
                        }
                        .into(),
                    ),
                    ("version_text", version_text(self.osrevision).into()),
                ],
            ]
            .concat(),
        );
        let modules = self.modules.iter().map(|m| {
            let (about, check, reason) = match &m.cause {
                Some((n, c, r)) => (Some(n.to_string()), Some(*c), Some(r.to_string())),
                None => (None, None, None),
            };
            object(
                [
                    vec![
                        ("check", check.into()),
                        ("error", m.error.map(errno_json).into()),
                        ("file", m.file.as_deref().into()),
                    ],
                    texts_and_bytes("load_order", "load_order_bytes", &m.order),
                    vec![("name", m.name.as_ref().map(ToString::to_string).into())],
                    text_and_bytes("operand", "operand_bytes", &m.operand),
                    vec![
                        ("reason", reason.into()),
                        ("reason_module", about.into()),
                        ("would_load", m.would_load().into()),
                    ],
                ]
                .concat(),
            )
        });
        let loading = self.loading() as u64;
        let total = self.modules.len() as u64;
        object(vec![
            ("kernel", kernel),
            ("modules", modules.collect::<Vec<_>>().into()),
            ("schema", REPORT_SCHEMA.into()),
            (
                "summary",
                object(vec![
                    ("checked", total.into()),
                    ("refused", (total - loading).into()),
                    ("would_load", loading.into()),
                ]),
            ),
            ("would_load", self.would_load().into()),
        ])
        .to_document()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixtures() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../modobj/tests/fixtures")
    }

    /// A root with these fixture modules in the fixture kernel's module
    /// directory.
    fn root_with(tag: &str, modules: &[&str]) -> PathBuf {
        let root = std::env::temp_dir().join(format!("release-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        for m in modules {
            let dir = root.join("stand/amd64/10.1/modules").join(m);
            std::fs::create_dir_all(&dir).unwrap();
            let from = fixtures().join(format!("modules/{m}/{m}.kmod"));
            std::fs::copy(from, dir.join(format!("{m}.kmod"))).unwrap();
        }
        root
    }

    #[test]
    fn each_file_is_read_once() {
        let root = root_with("once", &["hello", "needy"]);
        let kernel = fixtures().join("release/netbsd");
        let ops: [&[u8]; 4] = [b"needy", b"hello", b"needy", b"kbase"];
        let (report, files) = checked(&kernel, &root, &ops).unwrap();
        assert_eq!(files, 2, "needy and hello, whatever the operands");
        let verdicts: Vec<bool> = report.modules.iter().map(ModuleCheck::would_load).collect();
        assert_eq!(verdicts, [true, true, true, false]);
        assert_eq!(report.modules[0].order, ["hello", "needy"]);
        assert_eq!(report.modules[2].order, ["hello", "needy"]);
        assert_eq!(report.modules[3].error, Some(Errno::EEXIST));
        assert!(!report.would_load());
        assert_eq!(
            report.builtins,
            [("kvfs".into(), true), ("kbase".into(), true)]
        );
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn the_first_reason_is_the_innermost() {
        let root = root_with("inner", &["chain_a", "chain_b"]);
        let kernel = fixtures().join("release/netbsd");
        let report = check(&kernel, &root, &[b"chain_a"]).unwrap();
        let m = &report.modules[0];
        assert_eq!(m.error, Some(Errno::ENOENT));
        let (about, check, why) = m.cause.clone().unwrap();
        assert_eq!(
            (about.to_string().as_str(), check),
            ("chain_c", "Dependencies")
        );
        let why = why.to_string();
        assert!(why.contains("(required by `chain_b')"), "{why}");
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn an_unreadable_image_is_an_error() {
        let e = check(Path::new("/nonexistent/netbsd"), Path::new("/"), &[b"x"]).unwrap_err();
        assert_eq!(e, "/nonexistent/netbsd: No such file or directory");
    }
}
