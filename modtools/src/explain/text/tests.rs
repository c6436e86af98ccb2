//! Every reason and note in words: the sentences as the explanations
//! wrote them before they were data.

use super::*;
use libmodctl::errno::Errno as E;
use modobj::findings::Detail;
use modobj::kmod::Waits;

fn m(s: &str) -> ModName {
    ModName::from(s)
}

fn p(s: &str) -> String {
    s.to_string()
}

/// A finding whose words advise `modload -f`.
fn version() -> Detail {
    Detail::Version {
        module: 903000000,
        kernel: 1001000000,
        current: false,
    }
}

/// A refusal's cause that says `no file <path>`.
fn o(path: &str) -> modobj::kobj::Cause {
    modobj::kobj::Cause::NoFile { path: path.into() }
}

#[test]
fn every_reason_has_its_words() {
    use Reason::*;
    let e = E::ENOENT;
    let cases: Vec<(Reason, &str)> = vec![
        (TooDeep { chain: vec![m("a"), m("b")], depth: 3, max: 2 }, "the chain a -> b is 3 deep; this kernel stops at 2"),
        (Circular { chain: vec![m("a"), m("a")] }, "circular dependency: a -> a"),
        (NoAutoload { module: m("a") }, "the .plist of `a' sets noautoload, so it cannot be loaded as a dependency"),
        (ModuleListUnreadable { errno: e }, "the kernel's module list cannot be read: No such file or directory"),
        (Securelevel { level: 1 }, "kern.securelevel is 1; modules can be loaded and unloaded only at securelevel 0 or below"),
        (NotRoot { euid: 5 }, "only root may load and unload modules (effective uid 5)"),
        (PathTooLong { len: 2000 }, "the path is 2000 bytes long; the kernel copies in at most 1024 bytes with its NUL (MAXPATHLEN)"),
        (PropsTooLarge { len: 9 }, "the properties take 9 bytes; the kernel accepts at most 4096"),
        (AlreadyLoaded { module: m("a"), by_info: true, origin: Origin { source: Some(ModSource::Boot), auto: true } }, "a module named `a' is already loaded (loaded by the boot loader, as a dependency or by autoload)"),
        (AlreadyLoaded { module: m("a"), by_info: false, origin: Origin::default() }, "module `a' is already loaded (loaded)"),
        (BuiltinDisabled { module: m("a") }, "builtin module `a' was disabled by modunload; use modload -f to reinstate it"),
        (RequiredBuiltinDisabled { module: m("a") }, "required builtin module `a' is disabled; -f reinstates it"),
        (BuiltIn { module: m("a") }, "module `a' is built into this kernel"),
        (BuiltinFailedAtBoot { module: m("a") }, "built-in module `a' failed to initialise at boot (modload -f retries it)"),
        (InitFailed { errno: e }, "the module's own initialisation failed with error 2 (ENOENT); the kernel log (dmesg) has its messages"),
        (NameTooLong { len: 40 }, "module names are at most 31 bytes; this one has 40"),
        (RequiredBy { users: vec![m("a"), m("b")] }, "required by a, b; unload them first"),
        (RequiredBy { users: vec![m("a")] }, "required by a; unload it first"),
        (RefusesUnload, "the module refused to unload itself (for a file system: is one still mounted?)"),
        (Referenced { refcnt: 2 }, "held by 2 reference(s) from inside the kernel"),
        (AlreadyDisabled { module: m("a") }, "builtin module `a' is already disabled (modload -f a reinstates it)"),
        (NotAModuleName, "modunload takes a module name as modstat(8) shows it, not a file name"),
        (NotLoaded { module: m("a") }, "no module named `a' is loaded"),
        (BuiltinSecmodel { module: m("a") }, "`a' is a security model built into the kernel and cannot be unloaded"),
        (FileNotChecked { rump: false }, "the kernel's module directory is unknown, so the module file was not checked"),
        (FileNotChecked { rump: true }, "a rump kernel opens module files in its own namespace, so the module file was not checked"),
        (WouldWait { path: p("/p"), required: None, waits: Waits::Fifo }, "/p is a FIFO or pipe: the kernel would wait for a writer (not done here)"),
        (WouldWait { path: p("/p"), required: Some(m("a")), waits: Waits::Device }, "the module file of `a', /p, is a device with nothing to read yet: the kernel would wait for input (not done here)"),
        (NoModuleFile { path: p("/p") }, "no module file at /p"),
        (NoSuchFile { path: p("/p") }, "no such file: /p"),
        (NoFile { path: p("/p") }, "no file /p"),
        (IsDirectory { path: p("/p"), errno: E::EISDIR }, "/p is a directory: Is a directory"),
        (Socket { path: p("/p"), errno: E::EOPNOTSUPP }, "/p is a socket, which the kernel cannot open: Operation not supported"),
        (CannotRead { path: p("/p"), error: KmodError::Io(e) }, "cannot read /p: No such file or directory"),
        (RequiredNoFile { module: m("a"), path: p("/p") }, "required module `a' is not loaded and has no module file at /p"),
        (RequiredCannotRead { module: m("a"), path: p("/p"), errno: e }, "required module `a': cannot read /p: No such file or directory"),
        (RequiredNotShipped { module: m("a"), required_by: Some(m("b")), why: Box::new(NoFile { path: p("/p") }) }, "required module `a' (required by `b') is neither built into the kernel nor shipped: no file /p"),
        (NameMismatch { path: p("/p"), name: m("a"), asked: m("b") }, "/p declares the name `a', not `b'"),
        (DescriptorUnreadable { module: None, why: None }, "the module descriptor cannot be read: it is malformed"),
        (DescriptorUnreadable { module: Some(m("a")), why: Some(Box::new(Object(o("w")))) }, "the module descriptor of `a' cannot be read: no file w"),
        (Version { module: m("a"), built_for: 900000000, kernel: 1001000000 }, "`a' is built for NetBSD 9.0 (900000000) but the kernel is NetBSD 10.1 (1001000000)"),
        (BadClass { module: m("a"), class: 77 }, "`a' has class 77, which this kernel does not know"),
        (Clash { module: None, symbols: vec![p("x"), p("y")] }, "defines global symbols the kernel already has: x, y"),
        (Clash { module: Some(m("a")), symbols: vec![p("x")] }, "`a' defines global symbols the kernel already has: x"),
        (Unresolved { symbols: vec![p("x"), p("y")] }, "undefined symbols not in the kernel or the modules it requires: x, y"),
        (UnresolvedAfter { module: m("a"), required_by: None, symbols: vec![p("x")] }, "`a' uses symbols neither the kernel nor the modules loaded before it define: x"),
        (LinkRefused { module: None, why: o("w") }, "no file w"),
        (LinkRefused { module: Some(m("a")), why: o("w") }, "`a': no file w"),
        (PlistTooLarge { path: p("/p"), size: 9 }, "/p has 9 bytes; the kernel reads at most 8190"),
        (PlistFifo { path: p("/p") }, "/p is a FIFO: the kernel would wait for a writer (not done here)"),
        (PlistNotDictionary { path: p("/p"), why: p("w") }, "/p is not a property list dictionary: w"),
        (PlistUnreadable { module: m("a"), errno: e }, "the .plist of `a' cannot be read (No such file or directory)"),
        (Multiboot { kernel: p("/xen") }, "multiboot hands the modules to /xen, not to NetBSD's kernel: not checked"),
        (ModulesOff, "modules are disabled (`modules off'): the boot loader passes none"),
        (NotFound { tried: vec![], dos: false }, "the boot loader finds no file"),
        (NotFound { tried: vec![p("/a")], dos: true }, "the boot loader finds no file /a (the name ends in a carriage return: boot.cfg has DOS line ends)"),
        (NotFound { tried: vec![p("/a"), p("/a")], dos: false }, "the boot loader finds no file /a"),
        (NotFound { tried: vec![p("/a"), p("/b")], dos: false }, "the boot loader finds neither /a nor /b"),
        (PrimeLinker { why: o("w") }, "the kernel's linker refuses it: no file w"),
        (PrimeNoModule { why: o("w") }, "the kernel finds no module in it: no file w"),
        (BuiltinNamed { module: m("a") }, "`a' is the name of a module built into the kernel, and the kernel refuses a boot module of that name"),
        (EarlierBootModule { module: m("a") }, "an earlier boot module is named `a', and the kernel refuses a second entry of that name"),
        (Unforceable { finding: Box::new(version()) }, "built for NetBSD 9.3 (903000000) but the kernel is NetBSD 10.1 (1001000000); a release kernel accepts only modules of the same major.minor release; a boot module cannot be forced"),
        (Unforceable { finding: Box::new(Detail::NoModcmd) }, "mi_modcmd is NULL: the kernel does not check and would call a NULL function at MODULE_CMD_INIT"),
        (FailInit { errno: e }, "its MODULE_CMD_INIT fails with ENOENT (the profile's fail_init)"),
        (AlreadyActive { module: m("a") }, "a module named `a' is already active (an earlier boot module or a built-in): this one is initialised, finalised and dropped"),
        (RootNotMounted, "the root file system is not mounted"),
        (StillListed, "it is still on the boot list after every pass (not initialised)"),
        (RequiresPending { subject: None, dep: m("b"), chain: vec![m("a"), m("b")] }, "it requires `b', which is being initialised already: a circular dependency (a -> b)"),
        (RequiresFailed { subject: None, dep: m("b"), inner: Box::new(RequiresAbsent { subject: Some(m("b")), dep: m("c") }) }, "it requires `b', which the kernel does not initialise: `b' requires `c', which is neither built into the kernel nor loaded by the boot loader; modules are read from the file system only once the root file system is mounted, after the boot modules are initialised"),
        (RequiresErrno { subject: Some(m("a")), dep: m("b"), errno: e }, "`a' requires `b', which the kernel does not initialise (No such file or directory)"),
        (Finding { detail: Box::new(version()), forced: true }, "built for NetBSD 9.3 (903000000) but the kernel is NetBSD 10.1 (1001000000); a release kernel accepts only modules of the same major.minor release (modload -f overrides) (overridden by -f)"),
        (Finding { detail: Box::new(Detail::NoModcmd), forced: false }, "mi_modcmd is NULL: the kernel does not check and would call a NULL function at MODULE_CMD_INIT"),
        (Object(o("o")), "no file o"),
        (Console(p("c")), "c"),
        (Errno(e), "No such file or directory"),
        (Connection(p("k")), "k"),
    ];
    for (reason, words) in cases {
        assert_eq!(reason.to_string(), words, "{reason:?}");
        // What modunload gives is worded by its own groups, the same.
        if matches!(
            reason,
            NameTooLong { .. }
                | RequiredBy { .. }
                | RefusesUnload
                | Referenced { .. }
                | AlreadyDisabled { .. }
                | NotAModuleName
                | NotLoaded { .. }
                | BuiltinSecmodel { .. }
                | Securelevel { .. }
                | NotRoot { .. }
                | Connection(_)
        ) {
            assert_eq!(reason.unload_words(), words, "{reason:?}");
        }
    }
}

#[test]
fn every_note_has_its_words() {
    use Note::*;
    let cases: Vec<(Note, &str)> = vec![
        (TooLarge { size: 32769 }, "the file has 32769 bytes; the boot loader ignores a boot.cfg of more than 32768 bytes"),
        (MenuFull { line: 21 }, "line 21: the boot loader keeps only 20 menu entries"),
        (MenuWithoutColon { line: 1 }, "line 1: a menu line without `:' is not a menu entry"),
        (NumberedMenu { entries: 12 }, "with format=n and a timeout only the first 9 of 12 menu entries can be chosen"),
        (CommandTooLong { command: p("load x"), len: 605 }, "the command `load x' has 605 bytes; the boot loader's buffer holds 79"),
        (ModulesFlag { arg: p("maybe") }, "`modules maybe': the flag must be `enabled' or `disabled'"),
        (LeadingBlank { line: p(" load y") }, "` load y' starts with a blank, which the boot loader does not skip there: an unknown command"),
        (UnknownCommand { command: p("frob") }, "`frob' is not a boot loader command"),
        (BootArguments { arg: p("x y") }, "`boot x y': invalid arguments, so it does not boot"),
        (BootDefaultAgain, "`boot' without a kernel or flags runs this, the default entry, once more (bootdefault)"),
        (BootDefaultFirst { entry: 9 }, "`boot' without a kernel or flags first runs the default entry (9) (bootdefault)"),
        (Prompt, "it drops to the boot prompt"),
        (MenuAgain, "it shows the menu again"),
        (Quit, "`quit' restarts the machine"),
        (EndsWithoutBoot, "its commands end without booting, so the menu comes back"),
        (Unreadable(E::EISDIR), "Is a directory"),
        (Socket, "a socket, not a file: not read"),
        (Fifo, "a FIFO or pipe, not a file: not read (the boot loader reads a file; a FIFO would wait for a writer)"),
        (Device, "a device, not a file: not read (the boot loader reads boot.cfg from a file system)"),
    ];
    for (note, words) in cases {
        assert_eq!(note.to_string(), words, "{note:?}");
    }
}
