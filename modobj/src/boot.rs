//! Modules loaded by the boot loader: how NetBSD's boot loader finds the
//! files `boot.cfg` names. What the kernel does with them at boot
//! (`module_prime`, then `module_init_class` class by class) is the
//! engine's ([`crate::engine`]), for the emulator, which boots with them,
//! and for `modload -n --boot-cfg`, which says beforehand what a boot
//! would do.
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

use std::path::{Path, PathBuf};

use libmodctl::abi::ModClass;
use libmodctl::ModName;

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
/// the order `load` lines and commands added them. Entries are bytes, as
/// the loader keeps them: a path need not be UTF-8.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadList {
    entries: Vec<Vec<u8>>,
    /// The same paths, for the repeat check (a list may be long).
    seen: std::collections::HashSet<Vec<u8>>,
}

impl LoadList {
    pub fn new() -> LoadList {
        LoadList::default()
    }

    /// `module_add`: leading blanks and tabs go; a path already listed is
    /// ignored. Returns whether it was added.
    pub fn add(&mut self, arg: &[u8]) -> bool {
        let start = arg
            .iter()
            .position(|c| !matches!(c, b' ' | b'\t'))
            .unwrap_or(arg.len());
        let path = &arg[start..];
        if LOADER_DROPS_REPEATS && !self.seen.insert(path.to_vec()) {
            return false;
        }
        self.entries.push(path.to_vec());
        true
    }

    pub fn entries(&self) -> &[Vec<u8>] {
        &self.entries
    }
}

/// Where the loader looks for one entry: first the expanded path, then
/// the entry as given (exec.c `module_open`). Both are loader paths,
/// possibly with a device prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoaderPaths {
    pub expanded: Vec<u8>,
    pub raw: Vec<u8>,
}

/// exec.c `module_path`: the entry up to its first blank or tab; with a
/// device (`dev:`), a path after it is used as is and a name becomes
/// `dev:<base>/<name>/<name>.kmod`; without one, an absolute path is used
/// as is and a name becomes `<base>/<name>/<name>.kmod`. The kernel was
/// loaded without a device prefix, so none is added.
pub fn loader_paths(entry: &[u8], module_base: &str) -> LoaderPaths {
    let name = entry
        .split(|c| matches!(c, b' ' | b'\t'))
        .next()
        .unwrap_or(b"");
    let base = module_base.as_bytes();
    let under_base = |dev: &[u8], n: &[u8]| [dev, base, b"/", n, b"/", n, b".kmod"].concat();
    let mut expanded = match name.iter().position(|&c| c == b':') {
        Some(colon) if name[colon + 1..].starts_with(b"/") => name.to_vec(),
        Some(colon) => under_base(&name[..=colon], &name[colon + 1..]),
        None if name.starts_with(b"/") => name.to_vec(),
        None => under_base(b"", name),
    };
    expanded.truncate(LOADER_PATH_MAX);
    LoaderPaths {
        expanded,
        raw: entry.to_vec(),
    }
}

/// The file a loader path names on the boot disk, as a path from its
/// root: a device prefix goes (UNVERIFIED above), and libsa reads a
/// relative path from the root.
pub fn on_boot_disk(loader_path: &[u8]) -> Vec<u8> {
    let path = match loader_path.iter().position(|&c| c == b':') {
        Some(colon) if !loader_path[..colon].contains(&b'/') => &loader_path[colon + 1..],
        _ => loader_path,
    };
    if path.starts_with(b"/") {
        path.to_vec()
    } else {
        [b"/", path].concat()
    }
}

/// The host file standing for a path on the boot disk, `root` standing
/// for its `/`: `.` components go and `..` climbs, never above `root`
/// (the root's parent is the root), so the loader reads only below it.
pub fn on_host(root: &Path, disk_path: &[u8]) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    let mut parts: Vec<&[u8]> = Vec::new();
    for c in disk_path.split(|&c| c == b'/') {
        match c {
            b"" | b"." => {}
            b".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    let mut p = root.to_path_buf();
    p.extend(parts.into_iter().map(std::ffi::OsStr::from_bytes));
    p
}

/// The name `module_prime` is called with: the entry as the loader
/// recorded it, cut to [`BI_PATH_MAX`] bytes (wherever that falls).
pub fn prime_name(entry: &[u8]) -> ModName {
    ModName::from(&entry[..entry.len().min(BI_PATH_MAX)])
}

/// What the loader did with one entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The entry (`bm_path`).
    pub entry: Vec<u8>,
    /// The loader paths tried, in order.
    pub tried: Vec<Vec<u8>>,
    /// The loader path it read, and that file on the host.
    pub file: Option<(Vec<u8>, PathBuf)>,
}

/// exec.c `module_init`'s first pass for one entry: looks for its file
/// below `root` (the host directory standing for the boot disk) at each
/// path the loader tries, and reads it with `read`, which says `None`
/// where there is no regular file to read (the loader goes on to the next
/// path). Each entry is looked for on its own, so a caller may look for
/// many at once; [`loader_console`] then says what the loader printed.
pub fn find_entry<T>(
    entry: &[u8],
    module_base: &str,
    root: &Path,
    mut read: impl FnMut(&Path) -> Option<T>,
) -> (Found, Option<T>) {
    let paths = loader_paths(entry, module_base);
    let mut tried = vec![paths.expanded.clone()];
    if paths.raw != paths.expanded {
        tried.push(paths.raw.clone());
    }
    let mut file = None;
    let mut object = None;
    for p in &tried {
        let host = on_host(root, &on_boot_disk(p));
        if let Some(o) = read(&host) {
            file = Some((p.clone(), host));
            object = Some(o);
            break;
        }
    }
    let found = Found {
        entry: entry.to_vec(),
        tried,
        file,
    };
    (found, object)
}

/// Whether the boot loader takes the file at `path`: only a regular one
/// (a directory, a FIFO, a device or nothing at all is passed over).
pub fn loader_takes(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file())
}

/// What the loader prints for the entries it did not find, in order.
pub fn loader_console<'a>(found: impl IntoIterator<Item = &'a Found>) -> Vec<String> {
    let mut console = Vec::new();
    for f in found.into_iter().filter(|f| f.file.is_none()) {
        let mut line = format!(
            "WARNING: couldn't open {}",
            String::from_utf8_lossy(&f.entry)
        );
        // Both paths were tried: the expanded one first.
        if let [expanded, _raw] = f.tried.as_slice() {
            line += &format!(" ({})", String::from_utf8_lossy(expanded));
        }
        console.push(line);
    }
    let failed = console.len();
    if failed > 0 {
        console.push(format!(
            "WARNING: {failed} module{} failed to load",
            if failed == 1 { "" } else { "s" }
        ));
    }
    console
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let p = loader_paths(b"hello", base);
        assert_eq!(p.expanded, b"/stand/amd64/10.1/modules/hello/hello.kmod");
        assert_eq!(p.raw, b"hello");
        assert_eq!(loader_paths(b"/x/y.kmod", base).expanded, b"/x/y.kmod");
        assert_eq!(
            loader_paths(b"hello arg=1", base).expanded,
            b"/stand/amd64/10.1/modules/hello/hello.kmod"
        );
        assert_eq!(
            loader_paths(b"hd0a:hello", base).expanded,
            b"hd0a:/stand/amd64/10.1/modules/hello/hello.kmod"
        );
        assert_eq!(
            loader_paths(b"hd0a:/m.kmod", base).expanded,
            b"hd0a:/m.kmod"
        );
        assert_eq!(on_boot_disk(b"hd0a:/m.kmod"), b"/m.kmod");
        assert_eq!(on_boot_disk(b"hello"), b"/hello");
        assert_eq!(on_boot_disk(b"/a:b"), b"/a:b");
        let root = Path::new("/r");
        assert_eq!(on_host(root, b"/stand/./x//y"), Path::new("/r/stand/x/y"));
        assert_eq!(
            on_host(root, b"/../../etc/passwd"),
            Path::new("/r/etc/passwd")
        );
        assert_eq!(on_host(root, b"/a/../b"), Path::new("/r/b"));
        assert_eq!(prime_name("x".repeat(100).as_bytes()).len(), 79);
    }

    #[test]
    fn load_list_strips_and_drops_repeats() {
        let mut l = LoadList::new();
        assert!(l.add(b"  \thello"));
        assert!(!l.add(b"hello"));
        assert!(l.add(b"hello "));
        assert_eq!(l.entries(), [b"hello".to_vec(), b"hello ".to_vec()]);
    }
}
