//! The words of every [`Reason`] and [`Note`]: the one place their
//! sentences are written. The reports' text and JSON both take them from
//! here.

use std::fmt::{self, Display, Formatter};

use libmodctl::abi::{ModSource, MAXMODNAME, MAXPATHLEN, MAXPROPSLEN};
use libmodctl::ModName;
use modobj::boot::{BOOTCFG_MAXMENU, BOOTCFG_MAX_SIZE, MENU_COMMAND_MAX};
use modobj::findings::Unforced;
use modobj::kmod::{version_text, KmodError};
use modobj::rules::MAX_PLIST_FILE;

use super::reason::{Note, Origin, Reason};

/// Names joined by `sep`.
fn joined(names: &[ModName], sep: &str) -> String {
    let names: Vec<String> = names.iter().map(ToString::to_string).collect();
    names.join(sep)
}

/// " (required by `p')", or nothing.
fn required_by(p: &Option<ModName>) -> String {
    p.as_ref()
        .map_or_else(String::new, |p| format!(" (required by `{p}')"))
}

/// The subject of a boot module's requirement: `it`, or a module.
fn subject(s: &Option<ModName>) -> String {
    s.as_ref()
        .map_or_else(|| "it".to_string(), |s| format!("`{s}'"))
}

/// A kernel as the reports name it: release, revision, machine.
pub(crate) fn kernel_name(osrevision: u32, machine: &str) -> String {
    format!(
        "NetBSD {} ({osrevision}) {machine}",
        version_text(osrevision)
    )
}

impl Display for Origin {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(match self.source {
            Some(ModSource::Builtin) => "built into the kernel",
            Some(ModSource::Boot) => "loaded by the boot loader",
            Some(ModSource::Filesys) => "loaded from the file system",
            None => "loaded",
        })?;
        if self.auto {
            f.write_str(", as a dependency or by autoload")?;
        }
        Ok(())
    }
}

impl Display for Reason {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        use Reason::*;
        // Every variant names its group here, so the compiler sees that
        // none goes without words.
        match self {
            TooDeep { .. }
            | Circular { .. }
            | NoAutoload { .. }
            | ModuleListUnreadable { .. }
            | Securelevel { .. }
            | NotRoot { .. }
            | PathTooLong { .. }
            | PropsTooLarge { .. }
            | AlreadyLoaded { .. }
            | BuiltinDisabled { .. }
            | RequiredBuiltinDisabled { .. }
            | BuiltIn { .. }
            | BuiltinFailedAtBoot { .. }
            | InitFailed { .. } => self.fmt_kernel(f),
            NameTooLong { .. }
            | RequiredBy { .. }
            | RefusesUnload
            | Referenced { .. }
            | AlreadyDisabled { .. }
            | NotAModuleName
            | NotLoaded { .. }
            | BuiltinSecmodel { .. } => self.fmt_unload(f),
            FileNotChecked { .. }
            | WouldWait { .. }
            | NoModuleFile { .. }
            | NoSuchFile { .. }
            | NoFile { .. }
            | IsDirectory { .. }
            | Socket { .. }
            | CannotRead { .. }
            | RequiredNoFile { .. }
            | RequiredCannotRead { .. }
            | RequiredNotShipped { .. }
            | NameMismatch { .. }
            | DescriptorUnreadable { .. }
            | Version { .. }
            | BadClass { .. } => self.fmt_file(f),
            Clash { .. }
            | Unresolved { .. }
            | UnresolvedAfter { .. }
            | LinkRefused { .. }
            | PlistTooLarge { .. }
            | PlistFifo { .. }
            | PlistNotDictionary { .. }
            | PlistUnreadable { .. }
            | Finding { .. }
            | Object(_)
            | Console(_)
            | Errno(_)
            | Connection(_) => self.fmt_symbols(f),
            Multiboot { .. }
            | ModulesOff
            | NotFound { .. }
            | PrimeLinker { .. }
            | PrimeNoModule { .. }
            | BuiltinNamed { .. }
            | EarlierBootModule { .. }
            | Unforceable { .. }
            | FailInit { .. }
            | AlreadyActive { .. }
            | StillListed
            | RootNotMounted => self.fmt_boot(f),
            RequiresPending { .. }
            | RequiresFailed { .. }
            | RequiresAbsent { .. }
            | RequiresErrno { .. } => self.fmt_requires(f),
        }
    }
}

/// A reason modunload gives, worded by its own group: `Reason`'s whole
/// `Display` would link every explanation's sentences, and through them
/// the validator's and the ports' tables, into modunload (90 KB).
struct UnloadWords<'a>(&'a Reason);

impl Display for UnloadWords<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self.0 {
            Reason::Connection(why) => f.write_str(why),
            r @ (Reason::Securelevel { .. } | Reason::NotRoot { .. }) => r.fmt_kernel(f),
            r => r.fmt_unload(f),
        }
    }
}

impl Reason {
    /// The words of a reason [`crate::explain::diagnose::unload`] gives.
    pub fn unload_words(&self) -> String {
        UnloadWords(self).to_string()
    }
}

impl Reason {
    /// The words about the kernel's state and the walk.
    fn fmt_kernel(&self, f: &mut Formatter<'_>) -> fmt::Result {
        use Reason::*;
        match self {
            TooDeep { chain, depth, max } => write!(
                f,
                "the chain {} is {depth} deep; this kernel stops at {max}",
                joined(chain, " -> ")
            ),
            Circular { chain } => write!(f, "circular dependency: {}", joined(chain, " -> ")),
            NoAutoload { module } => write!(
                f,
                "the .plist of `{module}' sets noautoload, so it cannot be loaded as a dependency"
            ),
            ModuleListUnreadable { errno } => {
                write!(f, "the kernel's module list cannot be read: {errno}")
            }
            Securelevel { level } => write!(
                f,
                "kern.securelevel is {level}; modules can be loaded and unloaded only at \
                 securelevel 0 or below"
            ),
            NotRoot { euid } => write!(
                f,
                "only root may load and unload modules (effective uid {euid})"
            ),
            PathTooLong { len } => write!(
                f,
                "the path is {len} bytes long; the kernel copies in at most {MAXPATHLEN} bytes \
                 with its NUL (MAXPATHLEN)"
            ),
            PropsTooLarge { len } => write!(
                f,
                "the properties take {len} bytes; the kernel accepts at most {MAXPROPSLEN}"
            ),
            AlreadyLoaded {
                module,
                by_info: true,
                origin,
            } => write!(f, "a module named `{module}' is already loaded ({origin})"),
            AlreadyLoaded { module, origin, .. } => {
                write!(f, "module `{module}' is already loaded ({origin})")
            }
            BuiltinDisabled { module } => write!(
                f,
                "builtin module `{module}' was disabled by modunload; use modload -f to reinstate it"
            ),
            RequiredBuiltinDisabled { module } => write!(
                f,
                "required builtin module `{module}' is disabled; -f reinstates it"
            ),
            BuiltIn { module } => write!(f, "module `{module}' is built into this kernel"),
            BuiltinFailedAtBoot { module } => write!(
                f,
                "built-in module `{module}' failed to initialise at boot (modload -f retries it)"
            ),
            InitFailed { errno } => write!(
                f,
                "the module's own initialisation failed with error {} ({}); the kernel log \
                 (dmesg) has its messages",
                errno.0,
                errno.name().unwrap_or("?")
            ),
            _ => self.unworded(),
        }
    }

    /// A variant sent to a group that does not word it: `fmt` sends
    /// each to its own.
    fn unworded(&self) -> fmt::Result {
        // Without the reason's Debug text, which would link the Debug code
        // of every value a reason holds into the programs.
        unreachable!("a reason sent to the wrong group")
    }

    /// The words of modunload's refusals.
    fn fmt_unload(&self, f: &mut Formatter<'_>) -> fmt::Result {
        use Reason::*;
        match self {
            NameTooLong { len } => write!(
                f,
                "module names are at most {} bytes; this one has {len}",
                MAXMODNAME - 1
            ),
            RequiredBy { users } => write!(
                f,
                "required by {}; unload {} first",
                joined(users, ", "),
                if users.len() > 1 { "them" } else { "it" }
            ),
            RefusesUnload => f.write_str(
                "the module refused to unload itself (for a file system: is one still mounted?)",
            ),
            Referenced { refcnt } => {
                write!(f, "held by {refcnt} reference(s) from inside the kernel")
            }
            AlreadyDisabled { module } => write!(
                f,
                "builtin module `{module}' is already disabled (modload -f {module} reinstates it)"
            ),
            NotAModuleName => {
                f.write_str("modunload takes a module name as modstat(8) shows it, not a file name")
            }
            NotLoaded { module } => write!(f, "no module named `{module}' is loaded"),
            BuiltinSecmodel { module } => write!(
                f,
                "`{module}' is a security model built into the kernel and cannot be unloaded"
            ),
            _ => self.unworded(),
        }
    }

    /// The words about module files and their contents.
    fn fmt_file(&self, f: &mut Formatter<'_>) -> fmt::Result {
        use Reason::*;
        match self {
            FileNotChecked { rump: false } => f.write_str(
                "the kernel's module directory is unknown, so the module file was not checked",
            ),
            FileNotChecked { rump: true } => f.write_str(
                "a rump kernel opens module files in its own namespace, so the module file was \
                 not checked",
            ),
            WouldWait {
                path,
                required: None,
                waits,
            } => write!(f, "{path} is {}", KmodError::WouldWait(*waits)),
            WouldWait {
                path,
                required: Some(module),
                waits,
            } => write!(
                f,
                "the module file of `{module}', {path}, is {}",
                KmodError::WouldWait(*waits)
            ),
            NoModuleFile { path } => write!(f, "no module file at {path}"),
            NoSuchFile { path } => write!(f, "no such file: {path}"),
            NoFile { path } => write!(f, "no file {path}"),
            IsDirectory { path, errno } => write!(f, "{path} is a directory: {errno}"),
            Socket { path, errno } => write!(
                f,
                "{path} is a socket, which the kernel cannot open: {errno}"
            ),
            CannotRead { path, error } => write!(f, "cannot read {path}: {error}"),
            RequiredNoFile { module, path } => write!(
                f,
                "required module `{module}' is not loaded and has no module file at {path}"
            ),
            RequiredCannotRead {
                module,
                path,
                errno,
            } => write!(f, "required module `{module}': cannot read {path}: {errno}"),
            RequiredNotShipped {
                module,
                required_by: by,
                why,
            } => write!(
                f,
                "required module `{module}'{} is neither built into the kernel nor shipped: {why}",
                required_by(by)
            ),
            NameMismatch { path, name, asked } => {
                write!(f, "{path} declares the name `{name}', not `{asked}'")
            }
            DescriptorUnreadable { module, why } => {
                match module {
                    Some(m) => write!(f, "the module descriptor of `{m}' cannot be read: ")?,
                    None => f.write_str("the module descriptor cannot be read: ")?,
                }
                match why {
                    Some(why) => write!(f, "{why}"),
                    None => f.write_str("it is malformed"),
                }
            }
            Version {
                module,
                built_for,
                kernel,
            } => write!(
                f,
                "`{module}' is built for NetBSD {} ({built_for}) but the kernel is NetBSD {} \
                 ({kernel})",
                version_text(*built_for),
                version_text(*kernel)
            ),
            BadClass { module, class } => write!(
                f,
                "`{module}' has class {class}, which this kernel does not know"
            ),
            _ => self.unworded(),
        }
    }

    /// The words about symbols, the `.plist` and what was passed through.
    fn fmt_symbols(&self, f: &mut Formatter<'_>) -> fmt::Result {
        use Reason::*;
        match self {
            Clash { module, symbols } => {
                if let Some(m) = module {
                    write!(f, "`{m}' ")?;
                }
                write!(
                    f,
                    "defines global symbols the kernel already has: {}",
                    symbols.join(", ")
                )
            }
            Unresolved { symbols } => write!(
                f,
                "undefined symbols not in the kernel or the modules it requires: {}",
                symbols.join(", ")
            ),
            UnresolvedAfter {
                module,
                required_by: by,
                symbols,
            } => write!(
                f,
                "`{module}'{} uses symbols neither the kernel nor the modules loaded before it \
                 define: {}",
                required_by(by),
                symbols.join(", ")
            ),
            LinkRefused {
                module: Some(m),
                why,
            } => write!(f, "`{m}': {why}"),
            PlistTooLarge { path, size } => write!(
                f,
                "{path} has {size} bytes; the kernel reads at most {}",
                MAX_PLIST_FILE - 1
            ),
            PlistFifo { path } => write!(
                f,
                "{path} is a FIFO: the kernel would wait for a writer (not done here)"
            ),
            PlistNotDictionary { path, why } => {
                write!(f, "{path} is not a property list dictionary: {why}")
            }
            PlistUnreadable { module, errno } => {
                write!(f, "the .plist of `{module}' cannot be read ({errno})")
            }
            Finding {
                detail,
                forced: true,
            } => write!(f, "{detail} (overridden by -f)"),
            Finding { detail, .. } => detail.fmt(f),
            LinkRefused { module: None, why } | Object(why) => why.fmt(f),
            Console(why) | Connection(why) => f.write_str(why),
            Errno(errno) => write!(f, "{errno}"),
            _ => self.unworded(),
        }
    }

    /// The words of the boot check.
    fn fmt_boot(&self, f: &mut Formatter<'_>) -> fmt::Result {
        use Reason::*;
        match self {
            Multiboot { kernel } => write!(
                f,
                "multiboot hands the modules to {kernel}, not to NetBSD's kernel: not checked"
            ),
            ModulesOff => {
                f.write_str("modules are disabled (`modules off'): the boot loader passes none")
            }
            NotFound { tried, dos } => {
                match tried.as_slice() {
                    [one] => write!(f, "the boot loader finds no file {one}")?,
                    [a, b, ..] if a == b => write!(f, "the boot loader finds no file {a}")?,
                    [a, b, ..] => write!(f, "the boot loader finds neither {a} nor {b}")?,
                    [] => f.write_str("the boot loader finds no file")?,
                }
                if *dos {
                    f.write_str(
                        " (the name ends in a carriage return: boot.cfg has DOS line ends)",
                    )?;
                }
                Ok(())
            }
            PrimeLinker { why } => write!(f, "the kernel's linker refuses it: {why}"),
            PrimeNoModule { why } => write!(f, "the kernel finds no module in it: {why}"),
            BuiltinNamed { module } => write!(
                f,
                "`{module}' is the name of a module built into the kernel, and the kernel \
                 refuses a boot module of that name"
            ),
            EarlierBootModule { module } => write!(
                f,
                "an earlier boot module is named `{module}', and the kernel refuses a second \
                 entry of that name"
            ),
            // Nothing forces a boot module: the validator's advice to use
            // -f is replaced.
            Unforceable { finding } if finding.advises_force() => {
                write!(f, "{}; a boot module cannot be forced", Unforced(finding))
            }
            Unforceable { finding } => finding.fmt(f),
            FailInit { errno } => write!(
                f,
                "its MODULE_CMD_INIT fails with {} (the profile's fail_init)",
                errno.name().unwrap_or("an error")
            ),
            AlreadyActive { module } => write!(
                f,
                "a module named `{module}' is already active (an earlier boot module or a \
                 built-in): this one is initialised, finalised and dropped"
            ),
            RootNotMounted => f.write_str("the root file system is not mounted"),
            StillListed => {
                f.write_str("it is still on the boot list after every pass (not initialised)")
            }
            _ => self.unworded(),
        }
    }

    /// The words for a boot module's requirement.
    fn fmt_requires(&self, f: &mut Formatter<'_>) -> fmt::Result {
        use Reason::*;
        match self {
            RequiresPending {
                subject: s,
                dep,
                chain,
            } => write!(
                f,
                "{} requires `{dep}', which is being initialised already: a circular \
                 dependency ({})",
                subject(s),
                joined(chain, " -> ")
            ),
            RequiresFailed {
                subject: s,
                dep,
                inner,
            } => write!(
                f,
                "{} requires `{dep}', which the kernel does not initialise: {inner}",
                subject(s)
            ),
            RequiresAbsent { subject: s, dep } => write!(
                f,
                "{} requires `{dep}', which is neither built into the kernel nor loaded by \
                 the boot loader; modules are read from the file system only once the root \
                 file system is mounted, after the boot modules are initialised",
                subject(s)
            ),
            RequiresErrno {
                subject: s,
                dep,
                errno,
            } => write!(
                f,
                "{} requires `{dep}', which the kernel does not initialise ({errno})",
                subject(s)
            ),
            _ => self.unworded(),
        }
    }
}

impl Display for Note {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        use Note::*;
        match self {
            TooLarge { size } => write!(
                f,
                "the file has {size} bytes; the boot loader ignores a boot.cfg of more than \
                 {BOOTCFG_MAX_SIZE} bytes"
            ),
            MenuFull { line } => write!(
                f,
                "line {line}: the boot loader keeps only {BOOTCFG_MAXMENU} menu entries"
            ),
            MenuWithoutColon { line } => write!(
                f,
                "line {line}: a menu line without `:' is not a menu entry"
            ),
            NumberedMenu { entries } => write!(
                f,
                "with format=n and a timeout only the first 9 of {entries} menu entries can be \
                 chosen"
            ),
            CommandTooLong { command, len } => write!(
                f,
                "the command `{command}' has {len} bytes; the boot loader's buffer holds {}",
                MENU_COMMAND_MAX - 1
            ),
            ModulesFlag { arg } => write!(
                f,
                "`modules {arg}': the flag must be `enabled' or `disabled'"
            ),
            LeadingBlank { line } => write!(
                f,
                "`{line}' starts with a blank, which the boot loader does not skip there: \
                 an unknown command"
            ),
            UnknownCommand { command } => write!(f, "`{command}' is not a boot loader command"),
            BootArguments { arg } => {
                write!(f, "`boot {arg}': invalid arguments, so it does not boot")
            }
            BootDefaultAgain => f.write_str(
                "`boot' without a kernel or flags runs this, the default entry, once more \
                 (bootdefault)",
            ),
            BootDefaultFirst { entry } => write!(
                f,
                "`boot' without a kernel or flags first runs the default entry ({entry}) \
                 (bootdefault)"
            ),
            Prompt => f.write_str("it drops to the boot prompt"),
            MenuAgain => f.write_str("it shows the menu again"),
            Quit => f.write_str("`quit' restarts the machine"),
            EndsWithoutBoot => {
                f.write_str("its commands end without booting, so the menu comes back")
            }
            Unreadable(errno) => write!(f, "{errno}"),
            Socket => f.write_str("a socket, not a file: not read"),
            Fifo => f.write_str(
                "a FIFO or pipe, not a file: not read (the boot loader reads a file; a FIFO \
                 would wait for a writer)",
            ),
            Device => f.write_str(
                "a device, not a file: not read (the boot loader reads boot.cfg from a file \
                 system)",
            ),
        }
    }
}

#[cfg(test)]
mod tests;
