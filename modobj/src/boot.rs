//! Modules loaded by the boot loader: how NetBSD's boot loader finds the
//! files `boot.cfg` names, and what the kernel does with them at boot
//! (`module_prime`, then `module_init_class` class by class). One home for
//! the emulator, which boots with them, and for `modload -n --boot-cfg`,
//! which says beforehand what a boot would do.
//!
//! Sources read (NetBSD's public tree): `sys/arch/i386/stand/lib/exec.c`
//! 1.78.4.2 (netbsd-10: `module_add_common`, `module_path`,
//! `module_open`, `module_base_path`, `module_init`), `bootmenu.c`,
//! `sys/lib/libsa/bootcfg.c`, `sys/arch/i386/stand/boot/boot2.c`,
//! `sys/arch/x86/x86/x86_machdep.c` (`module_init_md`: every ELF module
//! goes to `module_prime` under the name the loader recorded),
//! `sys/kern/kern_module.c` 1.155 (`module_prime`, `module_init_class`,
//! `module_do_load`'s boot-list branch, `module_do_unload`),
//! `sys/kern/subr_kobj.c` 1.76 (`kobj_load_mem`, `kobj_read_mem`:
//! "preloaded object short" is EINVAL), `sys/kern/init_main.c` and
//! `sys/kern/vfs_init.c` (where the passes run), `vfs_mount.c`
//! (`vfs_mountroot` enables loading from the file system only once the
//! root is mounted, after every pass).
//!
//! # UNVERIFIED
//!
//! What could not be confirmed is here, and only here:
//!
//! * [`BOOT_CLASS_PASSES`]: the secmodel pass (init_main.c `main()`), the
//!   vfs pass (vfs_init.c `vfsinit()`) and the final pass for every class
//!   (init_main.c, before the root is mounted) were read in init_main.c
//!   1.470; whether NetBSD 9 or 10 run further passes (drivers during
//!   autoconfiguration, say) before the final one is not confirmed.
//! * The boot loader modelled is the x86 one of netbsd-10 (exec.c
//!   1.78.4.2, which also serves EFI boot). Other ports' loaders were not
//!   read: for them the directory is formed the same way with the
//!   kernel's `hw.machine` ([`loader_machine`]). Older loaders (exec.c
//!   1.60, 2016) did not drop a repeated `load` ([`LOADER_DROPS_REPEATS`]
//!   says which is modelled: the netbsd-10 one, for every release).
//! * A device prefix (`hd0a:`, `NAME=label:`) is taken to name the disk
//!   the kernel boots from: the emulator has one disk.
//! * The kernel's linker is modelled as `subr_kobj.c` 1.76 has it for
//!   every release: it copies a preloaded object like a file. r1.19 (2008)
//!   linked it in place and refused a non-empty bss ("non-loadable BSS
//!   section in pre-loaded module", EINVAL) and misaligned sections; when
//!   that ended is not known.
//! * In `bootmenu.c` an empty command of a menu entry (`;;`) is undefined
//!   behaviour (the copy loop `continue`s without advancing); it is taken
//!   as skipped ([`MENU_EMPTY_COMMAND_SKIPPED`]). A command of 80 bytes or
//!   more overflows the loader's buffer; the check only warns.
//! * Checked against the running kernel (`modload -n --boot-cfg` without
//!   the emulator), the order of its built-ins in `link_set_modules` is
//!   not known: the order in which its module list says they were
//!   initialised is used instead.
//! * The root file system's module the loader adds for an unusual root
//!   (`fsmod`), and a file the loader cannot read fully (" FAILED"), are
//!   not modelled; a file that is not a regular file counts as not found.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use libmodctl::abi::{ModClass, MAXMODNAME, MODFLG_AUTO_LOADED, MODFLG_MUST_FORCE};
use libmodctl::errno::Errno;
use libmodctl::ModName;

use crate::rules::{required_components, version_compatible, KernelRules, LongRequired, Target};
use crate::validate::{clashing_names, unresolved_names};

/// The classes `module_init_class` is called with during boot, in order.
/// UNVERIFIED beyond these three (see the module documentation).
pub const BOOT_CLASS_PASSES: [ModClass; 3] = [ModClass::Secmodel, ModClass::Vfs, ModClass::Any];

/// Whether the boot loader ignores a `load` of a path it already has
/// (exec.c 1.78.4.2 `module_add_common`; exec.c 1.60 did not). The
/// netbsd-10 loader is modelled for every release (UNVERIFIED above).
pub const LOADER_DROPS_REPEATS: bool = true;

/// Whether an empty command between two `;` of a menu entry is skipped
/// (UNVERIFIED: undefined behaviour in bootmenu.c).
pub const MENU_EMPTY_COMMAND_SKIPPED: bool = true;

/// The loader hands the kernel at most this many bytes of a module's path
/// (`bi_modulelist_entry.path[80]`, copied with `strncpy(.., 79)`):
/// `module_prime` sees the name cut there.
pub const BI_PATH_MAX: usize = 79;

/// `module_path`'s buffer in exec.c: longer paths are cut by snprintf.
const LOADER_PATH_MAX: usize = 255;

/// The boot loader's largest `boot.cfg` (`parsebootconf` passes 32768 to
/// `perform_bootcfg`, which ignores a larger file with EFBIG).
pub const BOOTCFG_MAX_SIZE: u64 = 32768;
/// `BOOTCFG_MAXMENU`: menu lines after the twentieth are ignored.
pub const BOOTCFG_MAXMENU: usize = 20;
/// `bootmenu.c`'s command buffer: a command must be shorter.
pub const MENU_COMMAND_MAX: usize = 80;

// ---------------------------------------------------------------------
// The boot loader

/// The machine name in the loader's module directory: the x86 loader
/// takes `amd64` or `i386` from the kernel's ELF class; other ports'
/// loaders are taken to use `hw.machine` (UNVERIFIED above).
pub fn loader_machine(machine: &str) -> &str {
    machine
}

/// The loader's module directory for a kernel (exec.c
/// `module_base_path`): `/stand/<machine>/<major>.<minor>/modules` for a
/// release, `/stand/<machine>/<major>.<minor>.<patch>/modules` for
/// -current, and `/` for a kernel without a version note.
pub fn loader_module_base(osrevision: u32, machine: &str) -> String {
    let machine = loader_machine(machine);
    let v = crate::osrev::OsRevision(osrevision);
    if osrevision == 0 {
        "/".to_string()
    } else if v.is_current() {
        format!("/stand/{machine}/{v}/modules")
    } else {
        format!("/stand/{machine}/{}.{}/modules", v.major(), v.minor())
    }
}

/// The loader's list of kernel modules (`boot_modules` of type KMOD), in
/// the order `load` lines and commands added them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadList {
    entries: Vec<String>,
}

impl LoadList {
    pub fn new() -> LoadList {
        LoadList::default()
    }

    /// `module_add`: leading blanks and tabs go; a path already listed is
    /// ignored. Returns whether it was added.
    pub fn add(&mut self, arg: &str) -> bool {
        let path = arg.trim_start_matches([' ', '\t']);
        if LOADER_DROPS_REPEATS && self.entries.iter().any(|e| e == path) {
            return false;
        }
        self.entries.push(path.to_string());
        true
    }

    pub fn entries(&self) -> &[String] {
        &self.entries
    }
}

/// Where the loader looks for one entry: first the expanded path, then
/// the entry as given (exec.c `module_open`). Both are loader paths,
/// possibly with a device prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoaderPaths {
    pub expanded: String,
    pub raw: String,
}

/// exec.c `module_path`: the entry up to its first blank or tab; with a
/// device (`dev:`), a path after it is used as is and a name becomes
/// `dev:<base>/<name>/<name>.kmod`; without one, an absolute path is used
/// as is and a name becomes `<base>/<name>/<name>.kmod`. The kernel was
/// loaded without a device prefix, so none is added.
pub fn loader_paths(entry: &str, module_base: &str) -> LoaderPaths {
    let name = entry.split([' ', '\t']).next().unwrap_or("");
    let mut expanded = match name.split_once(':') {
        Some((_, rest)) if rest.starts_with('/') => name.to_string(),
        Some((dev, rest)) => format!("{dev}:{module_base}/{rest}/{rest}.kmod"),
        None if name.starts_with('/') => name.to_string(),
        None => format!("{module_base}/{name}/{name}.kmod"),
    };
    truncate_bytes(&mut expanded, LOADER_PATH_MAX);
    LoaderPaths {
        expanded,
        raw: entry.to_string(),
    }
}

/// The file a loader path names on the boot disk, as a path from its
/// root: a device prefix goes (UNVERIFIED above), and libsa reads a
/// relative path from the root.
pub fn on_boot_disk(loader_path: &str) -> String {
    let path = match loader_path.split_once(':') {
        Some((dev, rest)) if !dev.contains('/') => rest,
        _ => loader_path,
    };
    if path.starts_with('/') {
        path.to_string()
    } else {
        format!("/{path}")
    }
}

/// The host file standing for a path on the boot disk, `root` standing
/// for its `/`: `.` components go and `..` climbs, never above `root`
/// (the root's parent is the root), so the loader reads only below it.
pub fn on_host(root: &Path, disk_path: &str) -> PathBuf {
    let mut parts: Vec<&str> = Vec::new();
    for c in disk_path.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    let mut p = root.to_path_buf();
    p.extend(parts);
    p
}

/// The name `module_prime` is called with: the entry as the loader
/// recorded it, cut to [`BI_PATH_MAX`] bytes (wherever that falls).
pub fn prime_name(entry: &str) -> ModName {
    let b = entry.as_bytes();
    ModName::from(&b[..b.len().min(BI_PATH_MAX)])
}

fn truncate_bytes(s: &mut String, max: usize) {
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
}

/// What the loader did with one entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The entry (`bm_path`).
    pub entry: String,
    /// The loader paths tried, in order.
    pub tried: Vec<String>,
    /// The loader path it read, and that file on the host.
    pub file: Option<(String, PathBuf)>,
}

/// exec.c `module_init`'s first pass: finds each entry's file below
/// `root` (the host directory standing for the boot disk). Returns what
/// was found and the loader's console lines.
pub fn run_loader(entries: &[String], module_base: &str, root: &Path) -> (Vec<Found>, Vec<String>) {
    let mut console = Vec::new();
    let mut failed = 0;
    let found: Vec<Found> = entries
        .iter()
        .map(|entry| {
            let paths = loader_paths(entry, module_base);
            let mut tried = vec![paths.expanded.clone()];
            if paths.raw != paths.expanded {
                tried.push(paths.raw.clone());
            }
            let file = tried.iter().find_map(|p| {
                let host = on_host(root, &on_boot_disk(p));
                std::fs::metadata(&host)
                    .ok()
                    .filter(|m| m.is_file())
                    .map(|_| (p.clone(), host))
            });
            if file.is_none() {
                failed += 1;
                let mut line = format!("WARNING: couldn't open {entry}");
                if paths.raw != paths.expanded {
                    line += &format!(" ({})", paths.expanded);
                }
                console.push(line);
            }
            Found {
                entry: entry.clone(),
                tried,
                file,
            }
        })
        .collect();
    if failed > 0 {
        console.push(format!(
            "WARNING: {failed} module{} failed to load",
            if failed == 1 { "" } else { "s" }
        ));
    }
    (found, console)
}

// ---------------------------------------------------------------------
// The kernel

/// A module linked into the kernel (an entry of its `link_set_modules`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Builtin {
    pub name: ModName,
    pub class: i32,
    /// `mi_required` as the kernel holds it.
    pub requires: Option<Vec<u8>>,
}

/// The descriptor of a preloaded object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Info {
    pub name: ModName,
    pub class: i32,
    pub version: u32,
    pub required: Option<Vec<u8>>,
}

/// What `kobj_load_mem` made of an object the loader passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    pub defined: Vec<String>,
    pub undefined: Vec<String>,
    /// `module_fetch_info`.
    pub info: Result<Info, Errno>,
    /// A certain failure of `kobj_affix` other than symbol resolution.
    pub link_errno: Option<Errno>,
}

/// One object the loader passed: the name `module_prime` gets, and what
/// the linker made of it (`Err`: `kobj_load_mem`'s errno).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preloaded {
    pub name: ModName,
    pub object: Result<Object, Errno>,
}

/// What the boot works with.
pub struct Input<'a> {
    pub target: Target,
    /// The kernel's `link_set_modules`, in order.
    pub builtins: &'a [Builtin],
    /// What the loader passed, in its order.
    pub preloaded: &'a [Preloaded],
    /// The kernel's global symbols, when known (the boot list's symbols
    /// are added as modules are linked).
    pub ksyms: Option<&'a BTreeSet<String>>,
    /// The errno a module's `MODULE_CMD_INIT` returns, if it fails.
    pub fail_init: &'a dyn Fn(&[u8]) -> Option<Errno>,
    /// `kern.module.autotime`: a module loaded as a dependency is flagged
    /// auto-loaded when it is above 0.
    pub autotime: u32,
}

/// Where an active module came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// `Input::builtins[i]`.
    Builtin(usize),
    /// `Input::preloaded[i]`.
    Boot(usize),
}

/// A module on `module_list` after boot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Active {
    pub name: ModName,
    pub class: i32,
    pub source: Source,
    pub flags: u32,
    pub refcnt: u32,
    /// The active modules it holds (`mod_required`).
    pub deps: Vec<ModName>,
    pub required: Option<Vec<u8>>,
}

/// What became of one preloaded object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fate {
    /// `module_prime` refused it: not on the boot list.
    NotPrimed { errno: Errno, why: String },
    /// Initialised: the `nth` (from 0) boot module to become active.
    Loaded {
        nth: usize,
        pass: ModClass,
        dependency_of: Option<ModName>,
    },
    /// Taken off the boot list and refused.
    Failed {
        errno: Errno,
        why: String,
        pass: ModClass,
        dependency_of: Option<ModName>,
        /// The requirement that could not be had, and why.
        failed_dependency: Option<(ModName, Errno)>,
    },
    /// Still on the boot list after every pass (should not happen).
    Left,
}

impl Fate {
    pub fn errno(&self) -> Option<Errno> {
        match self {
            Fate::NotPrimed { errno, .. } | Fate::Failed { errno, .. } => Some(*errno),
            _ => None,
        }
    }
}

/// The kernel after boot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// `module_list`, newest first.
    pub active: Vec<Active>,
    /// `module_builtins` afterwards (all of them `MODFLG_MUST_FORCE`), as
    /// indexes into `Input::builtins`.
    pub inactive: Vec<usize>,
    /// One per `Input::preloaded`.
    pub fates: Vec<Fate>,
    /// The kernel's console lines (module_error and linker errors).
    pub messages: Vec<String>,
}

/// Why a boot module was refused, as `module_error` said it.
struct Refused {
    errno: Errno,
    why: String,
    dependency: Option<(ModName, Errno)>,
}

impl Refused {
    fn new(errno: Errno, why: String) -> Refused {
        Refused {
            errno,
            why,
            dependency: None,
        }
    }
}

/// Guard against built-ins that require each other (the kernel would
/// recurse until it crashed).
const BUILTIN_DEPTH_LIMIT: u32 = 64;

struct Boot<'a> {
    inp: &'a Input<'a>,
    rules: KernelRules,
    active: Vec<Active>,
    /// `module_builtins`: indexes into `inp.builtins`, with their flags.
    builtins: Vec<(usize, u32)>,
    /// `module_bootlist`: indexes into `inp.preloaded`.
    bootlist: Vec<usize>,
    fates: Vec<Fate>,
    messages: Vec<String>,
    pass: ModClass,
    loaded: usize,
    builtin_depth: u32,
    load_depth: usize,
    /// The pending lists of the loads in progress (one per top-level
    /// `module_do_load`), each holding names.
    pending: Vec<Vec<ModName>>,
}

/// Boots: primes what the loader passed, adds the built-ins, runs the
/// class passes, and marks the built-ins left over as needing force.
pub fn boot(inp: &Input<'_>) -> Outcome {
    let mut b = Boot {
        inp,
        rules: KernelRules::for_target(&inp.target),
        active: Vec::new(),
        builtins: Vec::new(),
        bootlist: Vec::new(),
        fates: vec![Fate::Left; inp.preloaded.len()],
        messages: Vec::new(),
        pass: ModClass::Any,
        loaded: 0,
        builtin_depth: 0,
        load_depth: 0,
        pending: Vec::new(),
    };
    // module_init(): module_init_md() primes before the built-ins are added.
    for i in 0..inp.preloaded.len() {
        if let Err((errno, why)) = b.prime(i) {
            b.fates[i] = Fate::NotPrimed { errno, why };
        }
    }
    for (i, m) in inp.builtins.iter().enumerate() {
        // module_builtin_add refuses a name already there.
        if b.builtins
            .iter()
            .any(|&(j, _)| inp.builtins[j].name == m.name)
        {
            b.error(format!("builtin {} failed: {}", m.name, Errno::EEXIST.0));
            continue;
        }
        b.builtins.push((i, 0));
    }
    for class in BOOT_CLASS_PASSES {
        b.init_class(class);
    }
    for f in &mut b.builtins {
        f.1 |= MODFLG_MUST_FORCE;
    }
    Outcome {
        active: b.active,
        inactive: b.builtins.iter().map(|&(i, _)| i).collect(),
        fates: b.fates,
        messages: b.messages,
    }
}

impl<'a> Boot<'a> {
    fn error(&mut self, msg: String) {
        self.messages.push(format!("WARNING: module error: {msg}"));
    }

    /// The descriptor of a primed object (those on the boot list).
    fn info(&self, i: usize) -> &'a Info {
        let inp: &'a Input<'a> = self.inp;
        match &inp.preloaded[i].object {
            Ok(Object { info: Ok(info), .. }) => info,
            _ => unreachable!("only primed objects are on the boot list"),
        }
    }

    fn object(&self, i: usize) -> &'a Object {
        let inp: &'a Input<'a> = self.inp;
        match &inp.preloaded[i].object {
            Ok(o) => o,
            Err(_) => unreachable!("only primed objects are on the boot list"),
        }
    }

    /// module_prime().
    fn prime(&mut self, i: usize) -> Result<(), (Errno, String)> {
        let inp: &'a Input<'a> = self.inp;
        let p = &inp.preloaded[i];
        let name = &p.name;
        if self.inp.builtins.iter().any(|b| b.name == *name) {
            let why = format!("module `{name}' pushed by boot loader already exists");
            self.error(why.clone());
            return Err((Errno::EEXIST, why));
        }
        if self.bootlist.iter().any(|&j| self.info(j).name == *name) {
            let why = format!("duplicate bootlist entry for module `{name}'");
            self.error(why.clone());
            return Err((Errno::EEXIST, why));
        }
        let o = match &p.object {
            Ok(o) => o,
            Err(e) => {
                let why = format!(
                    "unable to load `{name}' pushed by boot loader, error {}",
                    e.0
                );
                self.error(why.clone());
                return Err((*e, why));
            }
        };
        // kobj_load's kobj_checksyms: only the kernel's symbols exist yet.
        if let Some(ksyms) = self.inp.ksyms {
            let clashes = clashing_names(&o.defined, &|s| ksyms.contains(s));
            if !clashes.is_empty() {
                for s in &clashes {
                    self.messages.push(format!(
                        "kobj_checksyms: [{name}]: linker error: global symbol `{s}' redefined"
                    ));
                }
                let e = Errno::ENOEXEC;
                let why = format!(
                    "unable to load `{name}' pushed by boot loader, error {}",
                    e.0
                );
                self.error(why.clone());
                return Err((e, why));
            }
        }
        if let Err(e) = o.info {
            if e == Errno::ENOENT {
                self.error(format!(
                    "`link_set_modules' section not present, error {}",
                    e.0
                ));
            }
            let why = format!(
                "unable to fetch_info for `{name}' pushed by boot loader, error {}",
                e.0
            );
            self.error(why.clone());
            return Err((e, why));
        }
        self.bootlist.push(i);
        Ok(())
    }

    /// module_init_class(): the built-ins of the class one at a time from
    /// the head of the list (failures set aside and put back at the tail
    /// afterwards), then the boot list's modules of the class.
    fn init_class(&mut self, class: ModClass) {
        self.pass = class;
        let matches = |c: i32| class == ModClass::Any || c == class as i32;
        let mut failed = Vec::new();
        while let Some(pos) = self
            .builtins
            .iter()
            .position(|&(i, _)| matches(self.inp.builtins[i].class))
        {
            let (i, flags) = self.builtins[pos];
            let name = self.inp.builtins[i].name.clone();
            if flags & MODFLG_MUST_FORCE != 0 || self.do_builtin(&name, &name).is_err() {
                if let Some(p) = self.builtins.iter().position(|&(j, _)| j == i) {
                    failed.push(self.builtins.remove(p));
                }
            }
        }
        // A boot module named like a built-in not yet initialised makes
        // module_do_load initialise the built-in instead; the next round
        // takes the module. Bounded in case something keeps it there.
        let mut rounds = 0;
        while let Some(&i) = self.bootlist.iter().find(|&&i| matches(self.info(i).class)) {
            rounds += 1;
            if rounds > 4 * self.inp.preloaded.len() + 4 {
                break;
            }
            let name = self.info(i).name.clone();
            let _ = self.do_load(&name, false, class as i32, false, None);
        }
        self.builtins.extend(failed);
    }

    /// module_do_builtin(): make a built-in active, initializing what it
    /// requires first.
    fn do_builtin(&mut self, parent: &ModName, name: &ModName) -> Result<(), Errno> {
        if self.active.iter().any(|m| m.name == *name) {
            return Ok(());
        }
        let Some(&(i, _)) = self
            .builtins
            .iter()
            .find(|&&(i, _)| self.inp.builtins[i].name == *name)
        else {
            self.error(format!(
                "built-in module {parent} can't find builtin dependency `{name}'"
            ));
            return Err(Errno::ENOENT);
        };
        if self.builtin_depth >= BUILTIN_DEPTH_LIMIT {
            return Err(Errno::EDEADLK);
        }
        let inp: &'a Input<'a> = self.inp;
        let b = &inp.builtins[i];
        let mut deps = Vec::new();
        self.builtin_depth += 1;
        let mut r = Ok(());
        for comp in required_components(
            b.requires.as_deref().unwrap_or_default(),
            LongRequired::Truncate,
        ) {
            let Ok(c) = comp else { continue };
            if let Err(e) = self.do_builtin(name, &c) {
                r = Err((e, c));
                break;
            }
            deps.push(c);
        }
        self.builtin_depth -= 1;
        if let Err((e, c)) = r {
            self.error(format!(
                "built-in module {name} prerequisite {c} failed, error {}",
                e.0
            ));
            return Err(e);
        }
        if let Some(e) = (self.inp.fail_init)(name.as_bytes()) {
            self.error(format!(
                "built-in module {name} failed its MODULE_CMD_INIT, error {}",
                e.0
            ));
            return Err(e);
        }
        let Some(p) = self.builtins.iter().position(|&(j, _)| j == i) else {
            return Err(Errno::ENOENT);
        };
        let (_, flags) = self.builtins.remove(p);
        self.enqueue(Active {
            name: b.name.clone(),
            class: b.class,
            source: Source::Builtin(i),
            flags: flags & !MODFLG_MUST_FORCE,
            refcnt: 0,
            deps,
            required: b.requires.clone(),
        });
        Ok(())
    }

    /// module_enqueue(): at the head, holding what it requires.
    fn enqueue(&mut self, m: Active) {
        for d in &m.deps {
            if let Some(dep) = self.active.iter_mut().find(|a| a.name == *d) {
                dep.refcnt = dep.refcnt.saturating_add(1);
            }
        }
        self.active.insert(0, m);
    }

    /// module_do_load() as it runs during boot: built-ins, then the boot
    /// list, then what is active; nothing can be read from the file system
    /// before the root is mounted (EOPNOTSUPP). No properties, no force.
    fn do_load(
        &mut self,
        name: &ModName,
        isdep: bool,
        class: i32,
        autoload: bool,
        dependant: Option<&ModName>,
    ) -> Result<(), Errno> {
        self.load_depth += 1;
        let r = match self.rules.max_depth {
            Some(max) if self.load_depth > max => {
                let depth = self.load_depth;
                self.error(format!("recursion too deep for `{name}' {depth} > {max}"));
                Err(Errno::EMLINK)
            }
            _ => {
                if !isdep {
                    self.pending.push(Vec::new());
                }
                let r = self.do_load_counted(name, class, autoload, dependant);
                if !isdep {
                    self.pending.pop();
                }
                r
            }
        };
        self.load_depth -= 1;
        r
    }

    fn do_load_counted(
        &mut self,
        name: &ModName,
        class: i32,
        autoload: bool,
        dependant: Option<&ModName>,
    ) -> Result<(), Errno> {
        if let Some(&(_, flags)) = self
            .builtins
            .iter()
            .find(|&&(i, _)| self.inp.builtins[i].name == *name)
        {
            if flags & MODFLG_MUST_FORCE != 0 {
                if !autoload {
                    self.error(format!("use -f to reinstate builtin module `{name}'"));
                }
                return Err(Errno::EPERM);
            }
            return self.do_builtin(name, name);
        }
        let Some(pos) = self
            .bootlist
            .iter()
            .position(|&i| self.info(i).name == *name)
        else {
            if self.active.iter().any(|m| m.name == *name) {
                return Err(Errno::EEXIST);
            }
            // module_load_vfs_vec is still eopnotsupp.
            return Err(Errno::EOPNOTSUPP);
        };
        let i = self.bootlist.remove(pos);
        if let Some(p) = self.pending.last_mut() {
            p.push(name.clone());
        }
        let r = self.load_boot_module(i, class, autoload);
        if let Some(p) = self.pending.last_mut() {
            if let Some(at) = p.iter().rposition(|n| n == name) {
                p.remove(at);
            }
        }
        let dependency_of = dependant.cloned();
        let pass = self.pass;
        self.fates[i] = match r {
            Ok(()) => {
                let nth = self.loaded;
                self.loaded += 1;
                Fate::Loaded {
                    nth,
                    pass,
                    dependency_of,
                }
            }
            Err(ref r) => Fate::Failed {
                errno: r.errno,
                why: r.why.clone(),
                pass,
                dependency_of,
                failed_dependency: r.dependency.clone(),
            },
        };
        r.map_err(|r| r.errno)
    }

    /// From the compatibility checks on, for boot list entry `i`.
    fn load_boot_module(&mut self, i: usize, class: i32, autoload: bool) -> Result<(), Refused> {
        let mi = self.info(i).clone();
        let fail = |b: &mut Self, e: Errno, why: String| {
            b.error(why.clone());
            Err(Refused::new(e, why))
        };
        if mi.name.len() >= MAXMODNAME {
            return fail(
                self,
                Errno::EINVAL,
                format!("module name `{}' longer than {MAXMODNAME}", mi.name),
            );
        }
        if self.rules.class_checked
            && (mi.class <= ModClass::Any as i32 || mi.class >= self.rules.class_max)
        {
            let why = format!("module `{}' has invalid class {}", mi.name, mi.class);
            return fail(self, Errno::EINVAL, why);
        }
        let kernel = self.inp.target.osrevision;
        if !version_compatible(mi.version, kernel) {
            let why = format!(
                "module `{}' built for `{}', system `{kernel}'",
                mi.name, mi.version
            );
            return fail(self, Errno::EPROGMISMATCH, why);
        }
        if class != ModClass::Any as i32 && class != mi.class {
            let why = format!(
                "incompatible module class {} for `{}' (wanted {class})",
                mi.class, mi.name
            );
            return fail(self, Errno::ENOENT, why);
        }
        // The FILESYS-only "already loaded" check does not apply.
        let mine = self
            .pending
            .last()
            .map_or(0, |p| p.iter().filter(|n| **n == mi.name).count());
        if mine > 1 {
            let why = format!("circular dependency detected for `{}'", mi.name);
            return fail(self, Errno::EDEADLK, why);
        }
        let deps = self.load_required(&mi)?;
        self.affix(&mi, i)?;
        if let Some(e) = (self.inp.fail_init)(mi.name.as_bytes()) {
            let why = format!("modcmd(CMD_INIT) failed for `{}', error {}", mi.name, e.0);
            return fail(self, e, why);
        }
        if self.active.iter().any(|m| m.name == mi.name) {
            // MODULE_CMD_FINI is called, then the module goes.
            let why = format!("recursive load causes duplicate module `{}'", mi.name);
            return fail(self, Errno::EEXIST, why);
        }
        let flags = if autoload && self.inp.autotime > 0 {
            MODFLG_AUTO_LOADED
        } else {
            0
        };
        self.enqueue(Active {
            name: mi.name.clone(),
            class: mi.class,
            source: Source::Boot(i),
            flags,
            refcnt: 0,
            deps,
            required: mi.required.clone(),
        });
        Ok(())
    }

    /// The requirements, each through the autoload path.
    fn load_required(&mut self, mi: &Info) -> Result<Vec<ModName>, Refused> {
        let mut deps = Vec::new();
        let required = mi.required.as_deref().unwrap_or_default();
        for (n, comp) in required_components(required, LongRequired::Refuse).enumerate() {
            if self.rules.max_required.is_some_and(|max| n >= max) {
                let why = format!("too many required modules for `{}'", mi.name);
                self.error(why.clone());
                return Err(Refused::new(Errno::EINVAL, why));
            }
            let Ok(comp) = comp else {
                let required = String::from_utf8_lossy(required);
                let why = format!("required module name `{required}' longer than {MAXMODNAME}");
                self.error(why.clone());
                return Err(Refused::new(Errno::EINVAL, why));
            };
            if comp == mi.name {
                let why = format!("self-dependency detected for `{}'", mi.name);
                self.error(why.clone());
                return Err(Refused::new(Errno::EDEADLK, why));
            }
            match self.do_load(&comp, true, ModClass::Any as i32, true, Some(&mi.name)) {
                Ok(()) | Err(Errno::EEXIST) => {}
                Err(e) => {
                    let why = format!(
                        "recursive load failed for `{}' (`{comp}' required), error {}",
                        mi.name, e.0
                    );
                    self.error(why.clone());
                    return Err(Refused {
                        errno: e,
                        why,
                        dependency: Some((comp, e)),
                    });
                }
            }
            if !self.active.iter().any(|m| m.name == comp) {
                let why = format!("`{comp}' did not become active");
                return Err(Refused::new(Errno::ENOENT, why));
            }
            deps.push(comp);
        }
        Ok(deps)
    }

    /// kobj_affix(): resolve against the kernel and the boot modules
    /// linked so far.
    fn affix(&mut self, mi: &Info, i: usize) -> Result<(), Refused> {
        let o = self.object(i);
        if let Some(ksyms) = self.inp.ksyms {
            let linked: BTreeSet<&str> = self
                .active
                .iter()
                .filter_map(|m| match m.source {
                    Source::Boot(j) => Some(j),
                    Source::Builtin(_) => None,
                })
                .flat_map(|j| self.object(j).defined.iter().map(String::as_str))
                .collect();
            let missing =
                unresolved_names(&o.undefined, &|s| ksyms.contains(s) || linked.contains(s));
            if !missing.is_empty() {
                for s in &missing {
                    self.messages.push(format!(
                        "kobj_checksyms: [{}]: linker error: symbol `{s}' not found",
                        mi.name
                    ));
                }
                let why = format!(
                    "unable to affix module `{}', error {}",
                    mi.name,
                    Errno::ENOEXEC.0
                );
                self.error(why.clone());
                return Err(Refused::new(Errno::ENOEXEC, why));
            }
        }
        if let Some(e) = o.link_errno {
            let why = format!("unable to affix module `{}', error {}", mi.name, e.0);
            self.error(why.clone());
            return Err(Refused::new(e, why));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn builtin(name: &str, class: ModClass, requires: Option<&str>) -> Builtin {
        Builtin {
            name: name.into(),
            class: class as i32,
            requires: requires.map(Into::into),
        }
    }

    fn module(prime: &str, name: &str, class: ModClass, required: Option<&str>) -> Preloaded {
        Preloaded {
            name: prime.into(),
            object: Ok(Object {
                defined: vec![format!("{name}_sym")],
                undefined: Vec::new(),
                info: Ok(Info {
                    name: name.into(),
                    class: class as i32,
                    version: 1_001_000_000,
                    required: required.map(Into::into),
                }),
                link_errno: None,
            }),
        }
    }

    fn run(builtins: &[Builtin], pre: &[Preloaded], fail: &[(&str, Errno)]) -> Outcome {
        let fail_init = |n: &[u8]| {
            fail.iter()
                .find(|(m, _)| m.as_bytes() == n)
                .map(|(_, e)| *e)
        };
        boot(&Input {
            target: Target::new(1_001_000_000, "amd64"),
            builtins,
            preloaded: pre,
            ksyms: None,
            fail_init: &fail_init,
            autotime: 10,
        })
    }

    fn names(o: &Outcome) -> Vec<(&str, u32, u32)> {
        o.active
            .iter()
            .map(|m| (m.name.to_str().unwrap(), m.flags, m.refcnt))
            .collect()
    }

    #[test]
    fn loader_directory_and_paths() {
        assert_eq!(
            loader_module_base(1_001_000_000, "amd64"),
            "/stand/amd64/10.1/modules"
        );
        assert_eq!(
            loader_module_base(1_001_000_300, "amd64"),
            "/stand/amd64/10.1/modules"
        );
        assert_eq!(
            loader_module_base(1_099_001_200, "i386"),
            "/stand/i386/10.99.12/modules"
        );
        assert_eq!(loader_module_base(0, "amd64"), "/");
        let base = "/stand/amd64/10.1/modules";
        let p = loader_paths("hello", base);
        assert_eq!(p.expanded, "/stand/amd64/10.1/modules/hello/hello.kmod");
        assert_eq!(p.raw, "hello");
        assert_eq!(loader_paths("/x/y.kmod", base).expanded, "/x/y.kmod");
        assert_eq!(
            loader_paths("hello arg=1", base).expanded,
            "/stand/amd64/10.1/modules/hello/hello.kmod"
        );
        assert_eq!(
            loader_paths("hd0a:hello", base).expanded,
            "hd0a:/stand/amd64/10.1/modules/hello/hello.kmod"
        );
        assert_eq!(loader_paths("hd0a:/m.kmod", base).expanded, "hd0a:/m.kmod");
        assert_eq!(on_boot_disk("hd0a:/m.kmod"), "/m.kmod");
        assert_eq!(on_boot_disk("hello"), "/hello");
        assert_eq!(on_boot_disk("/a:b"), "/a:b");
        let root = Path::new("/r");
        assert_eq!(on_host(root, "/stand/./x//y"), Path::new("/r/stand/x/y"));
        assert_eq!(
            on_host(root, "/../../etc/passwd"),
            Path::new("/r/etc/passwd")
        );
        assert_eq!(on_host(root, "/a/../b"), Path::new("/r/b"));
        assert_eq!(prime_name(&"x".repeat(100)).len(), 79);
    }

    #[test]
    fn load_list_strips_and_drops_repeats() {
        let mut l = LoadList::new();
        assert!(l.add("  \thello"));
        assert!(!l.add("hello"));
        assert!(l.add("hello "));
        assert_eq!(l.entries(), ["hello", "hello "]);
    }

    #[test]
    fn classes_in_passes_and_dependencies_from_the_boot_list() {
        let b = [
            builtin("suser", ModClass::Secmodel, None),
            builtin("ffs", ModClass::Vfs, None),
        ];
        let pre = [
            module("needy", "needy", ModClass::Misc, Some("hello")),
            module("fs", "fs", ModClass::Vfs, Some("hello")),
            module("hello", "hello", ModClass::Misc, None),
            module("sec", "sec", ModClass::Secmodel, None),
        ];
        let o = run(&b, &pre, &[]);
        assert_eq!(
            names(&o),
            [
                ("needy", 0, 0),
                ("fs", 0, 0),
                ("hello", MODFLG_AUTO_LOADED, 2),
                ("ffs", 0, 0),
                ("sec", 0, 0),
                ("suser", 0, 0)
            ]
        );
        assert_eq!(
            o.fates[2],
            Fate::Loaded {
                nth: 1,
                pass: ModClass::Vfs,
                dependency_of: Some("fs".into())
            }
        );
        assert!(o.messages.is_empty(), "{:?}", o.messages);
    }

    #[test]
    fn refusals() {
        let b = [builtin("ffs", ModClass::Vfs, None)];
        let mut old = module("old", "old", ModClass::Misc, None);
        if let Ok(o) = &mut old.object {
            o.info.as_mut().unwrap().version = 903_000_000;
        }
        let pre = [
            module("ffs", "ffs", ModClass::Vfs, None),
            module("/a/hello.kmod", "hello", ModClass::Misc, None),
            module("hello", "hello", ModClass::Misc, None),
            module("/b/hello.kmod", "hello", ModClass::Misc, None),
            old,
            module("needy", "needy", ModClass::Misc, Some("nosuch")),
            module("bad", "bad", ModClass::Misc, None),
            Preloaded {
                name: "broken".into(),
                object: Err(Errno::ENOEXEC),
            },
        ];
        let o = run(&b, &pre, &[("bad", Errno::ENXIO)]);
        assert_eq!(o.fates[0].errno(), Some(Errno::EEXIST));
        assert!(matches!(o.fates[1], Fate::Loaded { .. }));
        // Named like the first's module: refused when primed.
        assert_eq!(o.fates[2].errno(), Some(Errno::EEXIST));
        // Another path to the same module: refused after its INIT.
        assert!(
            matches!(&o.fates[3], Fate::Failed { errno: Errno::EEXIST, why, .. }
                if why.contains("recursive load causes duplicate"))
        );
        assert_eq!(o.fates[4].errno(), Some(Errno::EPROGMISMATCH));
        assert!(matches!(
            &o.fates[5],
            Fate::Failed { errno: Errno::EOPNOTSUPP, failed_dependency: Some((d, Errno::EOPNOTSUPP)), .. }
                if d == "nosuch"
        ));
        assert_eq!(o.fates[6].errno(), Some(Errno::ENXIO));
        assert_eq!(o.fates[7].errno(), Some(Errno::ENOEXEC));
        let active: Vec<&str> = o.active.iter().map(|m| m.name.to_str().unwrap()).collect();
        assert_eq!(active, ["hello", "ffs"]);
        let log = o.messages.join("\n");
        assert!(
            log.contains("module `ffs' pushed by boot loader already exists"),
            "{log}"
        );
        assert!(
            log.contains("duplicate bootlist entry for module `hello'"),
            "{log}"
        );
        assert!(log.contains("recursive load failed for `needy' (`nosuch' required), error 45"));
    }

    #[test]
    fn builtins_as_before() {
        let b = [
            builtin("a", ModClass::Misc, Some("nosuch")),
            builtin("b", ModClass::Vfs, None),
            builtin("c", ModClass::Misc, None),
        ];
        let o = run(&b, &[], &[("b", Errno::EIO)]);
        assert_eq!(names(&o), [("c", 0, 0)]);
        assert_eq!(o.inactive, [0, 1]);
    }

    #[test]
    fn a_failed_dependency_stays_loaded_flagged() {
        let pre = [
            module("top", "top", ModClass::Misc, Some("dep")),
            module("dep", "dep", ModClass::Misc, None),
        ];
        let o = run(&[], &pre, &[("top", Errno::EBUSY)]);
        assert_eq!(names(&o), [("dep", MODFLG_AUTO_LOADED, 0)]);
        assert!(matches!(
            &o.fates[1],
            Fate::Loaded { dependency_of: Some(d), .. } if d == "top"
        ));
    }
}
