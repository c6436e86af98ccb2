//! NetBSD's module subsystem (`sys/kern/kern_module.c`) as one engine:
//! `module_load`/`module_do_load`, `module_do_builtin`, `module_prime`,
//! `module_init_class`, `module_do_unload` and the auto-unload pass,
//! written as the kernel's steps in the kernel's order.
//!
//! Three users apply it and state no rule of their own: the emulated
//! kernel (to its state directory), the dry run `modload -n` (to a copy of
//! what `MODCTL_STAT` returned, or of the emulator's state) and the boot
//! model (the emulator's boot and `modload -n --boot-cfg`). What differs
//! between them is behind [`Host`]: where files come from, the kernel's
//! version and symbols, kauth, what a module's INIT returns, and who
//! listens to the console and to the typed [`Event`]s.
//!
//! Sources: `kern_module.c` r1.155 (NetBSD 10) and r1.115 (7.99.34) for
//! the order of the steps; the differences between releases (depth limit,
//! the fixed requirement array, the class range) are in [`crate::rules`].
//! Every walk of a dependency chain is iterative and every lookup is by
//! map: the engine is linear in modules and dependencies.

mod boot;
mod list;
mod load;
mod unload;
mod why;

pub use boot::{BootEntry, BootOutcome, Fate};
pub use list::ModList;
pub use why::{Refusal, Why};

use std::collections::{HashMap, HashSet};

use libmodctl::abi::{ModClass, ModSource};
use libmodctl::errno::Errno;
use libmodctl::plist::Dict;
use libmodctl::ModName;

use crate::kobj;
use crate::rules::{KernelRules, Target};

/// A module as the kernel keeps it (`struct module`), with what the
/// emulator keeps beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Module {
    pub name: ModName,
    /// `mi_class`.
    pub class: i32,
    /// `mod_source`.
    pub source: i32,
    /// `mod_flags` (`MODFLG_*`).
    pub flags: u32,
    /// `mod_refcnt`.
    pub refcnt: u32,
    /// `mi_required`.
    pub required: Option<Vec<u8>>,
    /// `mod_required`: the active modules this one holds a reference on.
    pub deps: Vec<ModName>,
    /// Text address (`kobj_stat`); 0 for built-ins.
    pub addr: u64,
    /// Text size (`kobj_stat`); 0 for built-ins.
    pub size: u64,
    /// `mi_version` (0 for built-ins).
    pub version: u32,
    /// Host file the module came from.
    pub path: Option<String>,
    /// Global symbols it defines (resolve later modules' references).
    pub globals: Vec<String>,
    /// `mod_autotime`: the auto-unload deadline (Unix seconds), 0 = none.
    pub autotime: u64,
    /// The property dictionary MODULE_CMD_INIT received (externalized).
    pub props: Option<String>,
}

impl Module {
    pub fn builtin(name: impl Into<ModName>, class: i32, required: Option<Vec<u8>>) -> Module {
        Module {
            name: name.into(),
            class,
            source: ModSource::Builtin as i32,
            flags: 0,
            refcnt: 0,
            required,
            deps: Vec::new(),
            addr: 0,
            size: 0,
            version: 0,
            path: None,
            globals: Vec::new(),
            autotime: 0,
            props: None,
        }
    }

    pub fn is_builtin(&self) -> bool {
        self.source == ModSource::Builtin as i32
    }

    pub fn auto_loaded(&self) -> bool {
        self.flags & libmodctl::abi::MODFLG_AUTO_LOADED != 0
    }
}

/// The kernel's module lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Modules {
    /// `module_list`: active modules, newest first.
    pub active: ModList,
    /// `module_builtins`: built-ins that are not active, in list order.
    pub builtins: ModList,
}

/// What `kobj_load_vfs` (or `kobj_load_mem`) made of a file.
pub enum Opened {
    /// The linker took it.
    Object(Box<kobj::Loaded>),
    /// The open, the read or the linker refused it.
    Refused(kobj::Refusal),
    /// The file cannot be looked at from here (a rump kernel's namespace,
    /// an unknown module directory): taken as loading, with no
    /// requirements, and said so with [`Event::Unseen`].
    Unseen,
}

/// What the engine reads and asks about, and who hears what it does.
pub trait Host {
    /// The kernel's release and machine.
    fn target(&self) -> &Target;
    /// kauth's answer for a module action (`autoload`: on the autoload
    /// path, which the module listener allows anyone).
    fn may_load(&self, autoload: bool) -> bool;
    /// `kern.module.path` as the kernel knows it.
    fn module_path(&self) -> &[u8];
    /// `kobj_load_vfs` of `path` as the kernel names it: `name` is the
    /// module name when the kernel built the path from it and
    /// `kern.module.path` (`None`: a user's path); `operand` for the file
    /// a user asked for (not a requirement).
    fn open(&mut self, path: &[u8], name: Option<&[u8]>, operand: bool) -> Opened;
    /// `module_load_plist_vfs`: the dictionary in the `.plist` beside
    /// `path` (named as for [`Host::open`]); `Ok(None)` when there is none.
    fn plist(&mut self, path: &[u8], name: Option<&[u8]>) -> Result<Option<Dict>, Errno>;
    /// Whether the kernel itself (not its modules) defines a global
    /// symbol; `None` when its symbol table is not known, and no symbol
    /// is checked.
    fn kernel_defines(&self, symbol: &str) -> Option<bool>;
    /// What a module's `MODULE_CMD_INIT` returns (by default it
    /// succeeds: module code is not run, only modelled).
    fn init(&mut self, _name: &[u8]) -> Result<(), Errno> {
        Ok(())
    }
    /// What a module's `MODULE_CMD_FINI` returns (by default it succeeds).
    fn fini(&mut self, _name: &[u8]) -> Result<(), Errno> {
        Ok(())
    }
    /// `kern.module.autotime` (by default 0: nothing is flagged
    /// auto-loaded or unloaded later).
    fn autotime(&self) -> u32 {
        0
    }
    /// `time_second` (by default 0).
    fn now(&self) -> u64 {
        0
    }
    /// Where `size` bytes of module text go (`kobj_stat`'s address).
    fn place(&mut self, _active: &ModList, _size: u64) -> u64 {
        0
    }
    /// A line the kernel prints on its console.
    fn console(&mut self, _line: String) {}
    /// A step the engine took (for explanations).
    fn event(&mut self, _e: &Event) {}
}

/// A step of the engine, typed, for those who explain it.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A module became active.
    Loaded {
        name: ModName,
        source: Loaded,
        /// Loaded because another module requires it.
        isdep: bool,
        /// The file it came from, as the kernel names it.
        path: Option<Vec<u8>>,
    },
    /// A requirement that was active already.
    AlreadyActive { name: ModName },
    /// A file that could not be looked at (see [`Opened::Unseen`]).
    Unseen { name: ModName },
    /// The `.plist` step of the module a user named is over: the
    /// dictionary read from beside its file, if any.
    FileProperties { name: ModName, dict: Option<Dict> },
    /// The kernel refused something.
    Refused(Refusal),
}

/// Where a module that became active came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loaded {
    /// A built-in made active.
    Builtin,
    /// A boot module, by its index in the boot list given.
    Boot(usize),
    /// A file.
    Filesys,
}

/// One kernel, for one operation: the lists it works on and the host.
pub struct Engine<'h> {
    pub mods: Modules,
    host: &'h mut dyn Host,
    rules: KernelRules,
    /// `module_bootlist`, while booting.
    bootlist: boot::BootList,
    /// Whether the root file system is mounted (module files readable).
    root_mounted: bool,
    /// The pending list of the load in progress: modules being loaded
    /// whose requirements are still being loaded, by a unique id.
    pending: Vec<(u64, ModName)>,
    /// How often each name is on the pending list.
    pending_names: HashMap<ModName, usize>,
    next_pending: u64,
    /// `module_do_load` calls in progress (the old kernels' `depth`).
    load_depth: usize,
    /// `module_do_builtin` calls in progress.
    builtin_depth: u32,
    /// The global symbols of active modules, built when first needed.
    module_symbols: Option<HashSet<String>>,
    /// The class pass running (boot).
    pass: ModClass,
    /// Booting: refusals are kept for the boot entries' fates.
    booting: bool,
    /// The last refusal.
    last_refusal: Option<Refusal>,
}

impl<'h> Engine<'h> {
    /// A kernel that has booted, with `mods` as its lists.
    pub fn new(mods: Modules, host: &'h mut dyn Host) -> Engine<'h> {
        let rules = KernelRules::for_target(host.target());
        Engine {
            mods,
            host,
            rules,
            bootlist: boot::BootList::default(),
            root_mounted: true,
            pending: Vec::new(),
            pending_names: HashMap::new(),
            next_pending: 0,
            load_depth: 0,
            builtin_depth: 0,
            module_symbols: None,
            pass: ModClass::Any,
            booting: false,
            last_refusal: None,
        }
    }

    /// The lists, once the operation is over.
    pub fn into_modules(self) -> Modules {
        self.mods
    }

    fn module_error(&mut self, text: String) {
        self.host.console(format!("WARNING: module error: {text}"));
    }

    /// Says no: the console line the kernel prints, and the typed event.
    fn refuse(&mut self, module: &ModName, errno: Errno, why: Why, isdep: bool) -> Errno {
        // Only the reasons that show the chain get it: in a deep chain
        // that fails at its bottom every level refuses.
        let chain = if matches!(
            why,
            Why::Circular | Why::SelfDependency | Why::TooDeep { .. } | Why::BootOnly { .. }
        ) {
            self.pending.iter().map(|(_, n)| n.clone()).collect()
        } else {
            Vec::new()
        };
        let r = Refusal {
            module: module.clone(),
            errno,
            why,
            isdep,
            chain,
        };
        for line in r.console_lines() {
            self.host.console(line);
        }
        self.host.event(&Event::Refused(r.clone()));
        if self.booting {
            self.bootlist.log.push(r.clone());
        }
        self.last_refusal = Some(r);
        errno
    }

    /// Whether the kernel's symbols are known (then symbols are checked);
    /// builds the set of the active modules' symbols when they are.
    fn symbols_known(&mut self) -> bool {
        if self.host.kernel_defines("").is_none() {
            return false;
        }
        if self.module_symbols.is_none() {
            let set = self
                .mods
                .active
                .iter()
                .flat_map(|m| m.globals.iter().cloned())
                .collect();
            self.module_symbols = Some(set);
        }
        true
    }

    /// Whether a global symbol exists: the kernel's or an active module's
    /// (after [`Engine::symbols_known`]).
    fn is_defined(&self, s: &str) -> bool {
        self.host.kernel_defines(s) == Some(true)
            || self
                .module_symbols
                .as_ref()
                .is_some_and(|set| set.contains(s))
    }

    /// module_enqueue(): at the head of the list, holding its requirements.
    fn enqueue(&mut self, m: Module) {
        for d in &m.deps {
            if let Some(dep) = self.mods.active.get_mut(d.as_bytes()) {
                dep.refcnt = dep.refcnt.saturating_add(1);
            }
        }
        if let Some(set) = &mut self.module_symbols {
            set.extend(m.globals.iter().cloned());
        }
        self.mods.active.push_head(m);
    }
}
