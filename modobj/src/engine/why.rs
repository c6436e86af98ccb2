//! Why the kernel said no, as typed values, and the one place that turns
//! them into what the kernel prints on its console (`module_error`,
//! kobj's linker errors). Explanations in plain words are made from the
//! same values by the tools.

use libmodctl::abi::MAXMODNAME;
use libmodctl::errno::Errno;
use libmodctl::ModName;

use crate::kobj;

/// One refusal: the module it concerns (the name asked for, or
/// `mi_name` once known), its errno and its cause.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub module: ModName,
    pub errno: Errno,
    pub why: Why,
    /// Refused while loading it as another module's requirement.
    pub isdep: bool,
    /// The modules being loaded at the time, outermost first.
    pub chain: Vec<ModName>,
}

/// The cause of a refusal, with the values that make it.
#[derive(Debug, Clone, PartialEq)]
pub enum Why {
    /// `copyinstr` of the path: it does not fit `MAXPATHLEN` with its NUL.
    PathTooLong { len: usize },
    /// The properties are larger than `MAXPROPSLEN`.
    PropsTooLarge { len: usize },
    /// A module of this name is active (the check by name before kauth,
    /// or by `mi_name` after the file is read).
    AlreadyLoaded { by_info: bool },
    /// kauth said no.
    NotPermitted,
    /// Older kernels: too many `module_do_load` calls in one load.
    TooDeep { depth: usize, max: usize },
    /// A disabled built-in, without `MODCTL_LOAD_FORCE`.
    BuiltinNeedsForce { autoload: bool },
    /// A built-in requires one that is not built in.
    BuiltinMissing { parent: ModName },
    /// A built-in's requirement failed.
    BuiltinPrerequisite { dep: ModName },
    /// Built-ins that require each other past any sane depth.
    BuiltinTooDeep,
    /// A built-in's `MODULE_CMD_INIT` failed.
    BuiltinInit,
    /// Neither built in, nor on the boot list, nor active, and the root
    /// file system is not mounted yet. `in_progress`: it was taken off
    /// the boot list by a load still going on (a cycle).
    BootOnly { in_progress: bool },
    /// `kobj_load_vfs` failed (open, read, or the linker).
    Open {
        refusal: kobj::Refusal,
        autoload: bool,
    },
    /// Global symbols that exist already (`kobj_checksyms` at load).
    Clash { symbols: Vec<String> },
    /// The `.plist` beside the file cannot be read.
    Plist,
    /// The `.plist` says `noautoload`, and this is an autoload.
    NoAutoload,
    /// `module_fetch_info` failed.
    FetchInfo { refusal: kobj::Refusal },
    /// `mi_name` does not fit `MAXMODNAME`.
    NameTooLong,
    /// `mi_class` outside the kernel's range.
    BadClass { class: i32 },
    /// `mi_version` not compatible with the kernel.
    Version { module: u32, kernel: u32 },
    /// `module_init_class` asked for another class.
    WrongClass { class: i32, wanted: i32 },
    /// A requirement's file declares another name.
    NameMismatch { asked: ModName },
    /// On the pending list already: a cycle (`chain` shows it).
    Circular,
    /// Older kernels: more requirements than the fixed array holds.
    TooManyRequired,
    /// A name in `mi_required` does not fit `MAXMODNAME`.
    RequiredNameTooLong { required: Vec<u8> },
    /// The module requires itself.
    SelfDependency,
    /// A requirement could not be loaded (its own refusal came first).
    Dependency { dep: ModName, errno: Errno },
    /// A requirement loaded but is not active.
    DependencyInactive { dep: ModName },
    /// Undefined symbols nothing defines (`kobj_affix`).
    Unresolved { symbols: Vec<String> },
    /// `kobj_affix` failed otherwise (a relocation).
    Link { refusal: kobj::Refusal },
    /// The module's `MODULE_CMD_INIT` failed.
    Init,
    /// INIT loaded a module of the same name meanwhile.
    DuplicateAfterInit,
    /// `module_unload`: no active module of that name.
    NotFound,
    /// `module_unload`: other modules hold it.
    Busy,
    /// `module_unload`: built-in secmodels stay.
    BuiltinSecmodel,
    /// `module_unload`: its `MODULE_CMD_FINI` failed.
    Fini,
    /// `module_prime`: the name of a built-in.
    PrimeBuiltinName,
    /// `module_prime`: a boot module of that name is primed already.
    PrimeDuplicate,
    /// `module_prime`: `kobj_load_mem` failed.
    PrimeLoad { refusal: kobj::Refusal },
    /// `module_prime`: global symbols the kernel has.
    PrimeClash { symbols: Vec<String> },
    /// `module_prime`: `module_fetch_info` failed.
    PrimeFetchInfo { link_set_missing: bool },
    /// `module_builtin_add`: a built-in of that name is there.
    BuiltinDuplicate,
}

impl Refusal {
    /// What the kernel prints for it, in order. One piece: a table with
    /// one arm per cause, the kernel's texts side by side.
    pub fn console_lines(&self) -> Vec<String> {
        let name = &self.module;
        let e = self.errno.0;
        let err = |s: String| vec![format!("WARNING: module error: {s}")];
        match &self.why {
            Why::PathTooLong { .. }
            | Why::PropsTooLarge { .. }
            | Why::AlreadyLoaded { by_info: false }
            | Why::NotPermitted
            | Why::BootOnly { .. }
            | Why::Plist
            | Why::NoAutoload
            | Why::DependencyInactive { .. }
            | Why::Busy
            | Why::BuiltinSecmodel
            | Why::Fini
            | Why::BuiltinTooDeep => Vec::new(),
            Why::AlreadyLoaded { by_info: true } => {
                err(format!("module with name `{name}' already loaded"))
            }
            Why::TooDeep { depth, max } => {
                err(format!("recursion too deep for `{name}' {depth} > {max}"))
            }
            Why::BuiltinNeedsForce { autoload } => {
                if *autoload {
                    Vec::new()
                } else {
                    err(format!("use -f to reinstate builtin module `{name}'"))
                }
            }
            Why::BuiltinMissing { parent } => err(format!(
                "built-in module {parent} can't find builtin dependency `{name}'"
            )),
            Why::BuiltinPrerequisite { dep } => err(format!(
                "built-in module {name} prerequisite {dep} failed, error {e}"
            )),
            Why::BuiltinInit => err(format!(
                "built-in module {name} failed its MODULE_CMD_INIT, error {e}"
            )),
            Why::Open { autoload, .. } => {
                if *autoload {
                    Vec::new()
                } else {
                    err(format!("Cannot load kernel object `{name}' error={e}"))
                }
            }
            Why::Clash { symbols } => symbols
                .iter()
                .map(|s| {
                    format!("kobj_checksyms: [{name}]: linker error: global symbol `{s}' redefined")
                })
                .collect(),
            Why::FetchInfo { .. } => err(format!("cannot fetch info for `{name}', error {e}")),
            Why::NameTooLong => err(format!("module name `{name}' longer than {MAXMODNAME}")),
            Why::BadClass { class } => err(format!("module `{name}' has invalid class {class}")),
            Why::Version { module, kernel } => err(format!(
                "module `{name}' built for `{module}', system `{kernel}'"
            )),
            Why::WrongClass { class, wanted } => err(format!(
                "incompatible module class {class} for `{name}' (wanted {wanted})"
            )),
            Why::NameMismatch { asked } => {
                err(format!("dependency name mismatch (`{asked}' != `{name}')"))
            }
            Why::Circular => err(format!("circular dependency detected for `{name}'")),
            Why::TooManyRequired => err(format!("too many required modules for `{name}'")),
            Why::RequiredNameTooLong { required } => err(format!(
                "required module name `{}' longer than {MAXMODNAME}",
                String::from_utf8_lossy(required)
            )),
            Why::SelfDependency => err(format!("self-dependency detected for `{name}'")),
            Why::Dependency { dep, .. } => err(format!(
                "recursive load failed for `{name}' (`{dep}' required), error {e}"
            )),
            Why::Unresolved { symbols } => {
                let mut lines: Vec<String> = symbols
                    .iter()
                    .map(|s| {
                        format!("kobj_checksyms: [{name}]: linker error: symbol `{s}' not found")
                    })
                    .collect();
                lines.extend(err(format!("unable to affix module `{name}', error {e}")));
                lines
            }
            Why::Link { .. } => err(format!("unable to affix module `{name}', error {e}")),
            Why::Init => err(format!("modcmd(CMD_INIT) failed for `{name}', error {e}")),
            Why::DuplicateAfterInit => {
                err(format!("recursive load causes duplicate module `{name}'"))
            }
            Why::NotFound => err(format!("module `{name}' not found")),
            Why::PrimeBuiltinName => err(format!(
                "module `{name}' pushed by boot loader already exists"
            )),
            Why::PrimeDuplicate => err(format!("duplicate bootlist entry for module `{name}'")),
            Why::PrimeLoad { .. } => err(format!(
                "unable to load `{name}' pushed by boot loader, error {e}"
            )),
            Why::PrimeClash { symbols } => {
                let mut lines: Vec<String> = symbols
                    .iter()
                    .map(|s| {
                        format!(
                            "kobj_checksyms: [{name}]: linker error: global symbol `{s}' redefined"
                        )
                    })
                    .collect();
                lines.extend(err(format!(
                    "unable to load `{name}' pushed by boot loader, error {e}"
                )));
                lines
            }
            Why::PrimeFetchInfo { link_set_missing } => {
                let mut lines = Vec::new();
                if *link_set_missing {
                    lines.extend(err(format!(
                        "`link_set_modules' section not present, error {e}"
                    )));
                }
                lines.extend(err(format!(
                    "unable to fetch_info for `{name}' pushed by boot loader, error {e}"
                )));
                lines
            }
            Why::BuiltinDuplicate => err(format!("builtin {name} failed: {e}")),
        }
    }

    /// The chain of modules being loaded, outermost first, then this one,
    /// as `a -> b -> c`. `with_own` false leaves out the last pending
    /// entry when it is this module's own call (a circular dependency is
    /// found once the module is on the pending list).
    pub fn chain_text(&self, with_own: bool) -> String {
        let mut names: Vec<String> = self.chain.iter().map(ToString::to_string).collect();
        if !with_own {
            names.pop();
        }
        names.push(self.module.to_string());
        names.join(" -> ")
    }

    /// The `module_error` text of it without the console's prefix (the
    /// last line the kernel prints for it), if it prints one.
    pub fn error_text(&self) -> Option<String> {
        self.console_lines().last().and_then(|l| {
            l.strip_prefix("WARNING: module error: ")
                .map(str::to_string)
        })
    }
}
