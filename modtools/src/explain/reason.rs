//! Why a module would be refused (or was not checked), and what the boot
//! check notes about a `boot.cfg`, as data: the decision sites of the dry
//! run, the boot check, the release check and modunload's diagnosis fill
//! these in, and `explain/text.rs` words them, each sentence once (their
//! `Display`). Where two explanations say the same thing they use the
//! same variant.
//!
//! Paths are held as the kernel (or the boot loader) names them, the way
//! they are shown; module names as bytes ([`ModName`]). What the module
//! reader and linker refuse is their typed [`Cause`], worded by its own
//! `Display`; a `why` or `finding` string is words made elsewhere (the
//! validator, the kernel's console), passed through.

use libmodctl::abi::ModSource;
use libmodctl::errno::Errno;
use libmodctl::ModName;
use modobj::findings::Detail;
use modobj::kmod::{KmodError, Waits};
use modobj::kobj::Cause;

/// Where a loaded module came from (`modstat`'s source and flag `a`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Origin {
    /// `None`: not known (shown as plain "loaded").
    pub source: Option<ModSource>,
    /// Loaded as a dependency or by autoload.
    pub auto: bool,
}

/// One reason. The last group holds words made elsewhere (the
/// validator, the module reader and linker, the kernel's console, the
/// kernel connection), passed through as they are.
#[derive(Debug, Clone, PartialEq)]
pub enum Reason {
    // The dependency walk, in every explanation.
    /// The chain of requirements (the refused module last) is deeper
    /// than the kernel goes.
    TooDeep {
        chain: Vec<ModName>,
        depth: usize,
        max: usize,
    },
    /// A module requires itself, through `chain` (it last).
    Circular {
        chain: Vec<ModName>,
    },
    /// Its `.plist` forbids loading it as a dependency.
    NoAutoload {
        module: ModName,
    },

    // The kernel's state.
    /// `MODCTL_STAT` failed.
    ModuleListUnreadable {
        errno: Errno,
    },
    /// `kern.securelevel` forbids loads.
    Securelevel {
        level: i64,
    },
    /// Not the superuser.
    NotRoot {
        euid: u32,
    },
    /// The path operand is longer than `MAXPATHLEN` allows.
    PathTooLong {
        len: usize,
    },
    /// The externalized properties are larger than `MAXPROPSLEN`.
    PropsTooLarge {
        len: usize,
    },
    /// A module of that name is active; `by_info`: found by the file's
    /// `mi_name`, not the operand.
    AlreadyLoaded {
        module: ModName,
        by_info: bool,
        origin: Origin,
    },
    /// A built-in disabled by modunload, asked for without -f.
    BuiltinDisabled {
        module: ModName,
    },
    /// A required built-in disabled by modunload.
    RequiredBuiltinDisabled {
        module: ModName,
    },
    /// The release check: the operand is built into the kernel.
    BuiltIn {
        module: ModName,
    },
    /// The release check: a built-in whose init failed at boot.
    BuiltinFailedAtBoot {
        module: ModName,
    },
    /// The module's `MODULE_CMD_INIT` failed.
    InitFailed {
        errno: Errno,
    },

    // The module file.
    /// The dry run cannot see the module file: rump's namespace, or an
    /// unknown module directory.
    FileNotChecked {
        rump: bool,
    },
    /// The file is one the kernel would wait on; `required`: it is the
    /// file of a requirement.
    WouldWait {
        path: String,
        required: Option<ModName>,
        waits: Waits,
    },
    /// No file at the path the kernel builds from a name.
    NoModuleFile {
        path: String,
    },
    /// No file at the path given.
    NoSuchFile {
        path: String,
    },
    /// The release check: no file below the root.
    NoFile {
        path: String,
    },
    IsDirectory {
        path: String,
        errno: Errno,
    },
    Socket {
        path: String,
        errno: Errno,
    },
    CannotRead {
        path: String,
        error: KmodError,
    },
    /// A requirement that is not loaded and has no file.
    RequiredNoFile {
        module: ModName,
        path: String,
    },
    /// A requirement whose file cannot be read.
    RequiredCannotRead {
        module: ModName,
        path: String,
        errno: Errno,
    },
    /// The release check: a requirement neither built in nor shipped;
    /// `why` is the refusal of its file.
    RequiredNotShipped {
        module: ModName,
        required_by: Option<ModName>,
        why: Box<Reason>,
    },
    /// The file's name differs from what it declares.
    NameMismatch {
        path: String,
        name: ModName,
        asked: ModName,
    },
    /// `modinfo_t` cannot be read; `why`: what else is known (else "it is
    /// malformed").
    DescriptorUnreadable {
        module: Option<ModName>,
        why: Option<Box<Reason>>,
    },
    /// `mi_version` not this kernel's.
    Version {
        module: ModName,
        built_for: u32,
        kernel: u32,
    },
    /// `mi_class` unknown to the kernel.
    BadClass {
        module: ModName,
        class: i32,
    },

    // Symbols.
    /// Global symbols the kernel already defines.
    Clash {
        module: Option<ModName>,
        symbols: Vec<String>,
    },
    /// The dry run: symbols nothing defines.
    Unresolved {
        symbols: Vec<String>,
    },
    /// The release check: symbols nothing loaded before defines.
    UnresolvedAfter {
        module: ModName,
        required_by: Option<ModName>,
        symbols: Vec<String>,
    },
    /// The linker refused it; `module` names it in the release check.
    LinkRefused {
        module: Option<ModName>,
        why: Cause,
    },

    // The `.plist` beside a module.
    PlistTooLarge {
        path: String,
        size: u64,
    },
    PlistFifo {
        path: String,
    },
    PlistNotDictionary {
        path: String,
        why: String,
    },
    /// The release check: its `.plist` cannot be read.
    PlistUnreadable {
        module: ModName,
        errno: Errno,
    },

    // modunload's refusals.
    /// The name is longer than `MAXMODNAME` allows.
    NameTooLong {
        len: usize,
    },
    /// Loaded modules require it.
    RequiredBy {
        users: Vec<ModName>,
    },
    /// Its `MODULE_CMD_FINI` refused.
    RefusesUnload,
    /// References from inside the kernel hold it.
    Referenced {
        refcnt: u32,
    },
    /// A built-in disabled already.
    AlreadyDisabled {
        module: ModName,
    },
    /// A file name where a module name belongs.
    NotAModuleName,
    /// No module of that name.
    NotLoaded {
        module: ModName,
    },
    /// A built-in security model, which stays.
    BuiltinSecmodel {
        module: ModName,
    },

    // The boot check.
    /// `multiboot`: another kernel gets the modules.
    Multiboot {
        kernel: String,
    },
    /// `modules off`.
    ModulesOff,
    /// The boot loader finds no file (the paths tried, on the boot
    /// disk); `dos`: the name ends in a carriage return.
    NotFound {
        tried: Vec<String>,
        dos: bool,
    },
    /// `module_prime`: the linker refuses it.
    PrimeLinker {
        why: Cause,
    },
    /// `module_prime`: no module in it.
    PrimeNoModule {
        why: Cause,
    },
    /// A boot module named as a built-in.
    BuiltinNamed {
        module: ModName,
    },
    /// A second boot module of one name.
    EarlierBootModule {
        module: ModName,
    },
    /// A validator finding for a boot module, which nothing forces.
    Unforceable {
        finding: Box<Detail>,
    },
    /// The profile's `fail_init` for it.
    FailInit {
        errno: Errno,
    },
    /// Initialised and dropped: a module of its name is active.
    AlreadyActive {
        module: ModName,
    },
    /// Still on the boot list after every pass.
    StillListed,
    /// A module file asked for before the root file system is mounted.
    RootNotMounted,
    /// `subject` (`None`: "it") requires `dep`, already being
    /// initialised through `chain`.
    RequiresPending {
        subject: Option<ModName>,
        dep: ModName,
        chain: Vec<ModName>,
    },
    /// `dep` is not initialised for want of its own requirement.
    RequiresFailed {
        subject: Option<ModName>,
        dep: ModName,
        inner: Box<Reason>,
    },
    /// `dep` is neither built in nor a boot module.
    RequiresAbsent {
        subject: Option<ModName>,
        dep: ModName,
    },
    /// `dep` is not initialised, with `errno`.
    RequiresErrno {
        subject: Option<ModName>,
        dep: ModName,
        errno: Errno,
    },

    // Words from elsewhere, passed through.
    /// A validator finding; `forced`: overridden by -f.
    Finding {
        detail: Box<Detail>,
        forced: bool,
    },
    /// What the module reader or linker refused.
    Object(Cause),
    /// The kernel's console words for a refusal.
    Console(String),
    /// Only the errno is known.
    Errno(Errno),
    /// The kernel connection's words (an emulator or rump failure).
    Connection(String),
}

/// What the boot check notes about a `boot.cfg` as the boot loader reads
/// it: lines it drops, commands it does not run, why an entry does not
/// boot, why the file is not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    /// Larger than the loader reads: the whole file is ignored.
    TooLarge {
        size: u64,
    },
    /// A `menu=` line past the loader's last entry (`line` from 1).
    MenuFull {
        line: usize,
    },
    /// A `menu=` line without `:`.
    MenuWithoutColon {
        line: usize,
    },
    /// `format=n` with a timeout: only nine entries can be chosen.
    NumberedMenu {
        entries: usize,
    },
    /// A command longer than the loader's buffer.
    CommandTooLong {
        command: String,
        len: usize,
    },
    /// `modules` with a flag other than enabled or disabled.
    ModulesFlag {
        arg: String,
    },
    /// A command starting with a blank.
    LeadingBlank {
        line: String,
    },
    /// Not a command of the loader.
    UnknownCommand {
        command: String,
    },
    /// `boot` with arguments it refuses.
    BootArguments {
        arg: String,
    },
    /// `boot` alone in the default entry runs that entry once more.
    BootDefaultAgain,
    /// `boot` alone first runs the default entry (`entry` from 1).
    BootDefaultFirst {
        entry: usize,
    },
    /// How an entry that does not boot ends.
    Prompt,
    MenuAgain,
    Quit,
    EndsWithoutBoot,
    /// Why the file is not read.
    Unreadable(Errno),
    Socket,
    Fifo,
    Device,
}
