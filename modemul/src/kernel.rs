//! The emulated kernel: the one engine ([`modobj::engine`]) applied to
//! the emulator's [`State`], with the profile, the files below the module
//! root and the console as its host; and the records `MODCTL_STAT`
//! reports.

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

use super::glue::{ObjectLoader, Props, Target};
use super::par;
use super::profile::Profile;
use super::state::{ModRec, State};
use libmodctl::abi::ModSource;
use libmodctl::errno::Errno;
use libmodctl::plist::Dict;
use libmodctl::stat::ModStat;
use modobj::boot;
use modobj::engine::{BootEntry, Engine, Host, ModList, Module, Modules, Opened};
use modobj::plistfile;
/// Page size used to lay out module text.
const PAGE: u64 = 4096;

/// Whether kauth lets the emulated caller do a module action.
/// secmodel_securelevel denies everything above securelevel 0; suser
/// allows root; kern_module.c's listener allows autoloads for anyone.
pub fn kauth_module(p: &Profile, autoload: bool) -> bool {
    p.securelevel <= 0 && (p.euid == 0 || autoload)
}

/// Where module text is placed: plausible kernel addresses for the port,
/// 32-bit ones for a kernel the port registry does not call 64-bit (a
/// name covering both classes, such as evbarm, included).
pub fn text_base(machine: &str) -> u64 {
    match modobj::machine::kernel(machine) {
        Some(k) if !k.is_64bit() => 0xc200_0000,
        _ => 0xffff_ffff_8200_0000,
    }
}

/// One `modstat_t` as `MODCTL_STAT` reports it, and whether the module's
/// `mi_required` is there at all (a present but empty list still gets an
/// offset in NetBSD ≥ 9's buffer).
pub type StatRecord = (ModStat, bool);

/// The records `MODCTL_STAT` builds: active modules in list order, then the
/// built-ins that are not active. `show_addr` is false when the caller may
/// not see kernel addresses.
pub fn stat_records(st: &State, show_addr: bool) -> Vec<StatRecord> {
    let required = |m: &ModRec| (m.required.clone().unwrap_or_default(), m.required.is_some());
    let active = st.active.iter().map(|m| {
        // Only modules with a kobj (not built-ins) have an address.
        let addressed = show_addr && !m.is_builtin();
        let (req, present) = required(m);
        let rec = ModStat {
            name: m.name.clone(),
            class: m.class,
            source: m.source,
            flags: m.flags,
            refcnt: m.refcnt,
            addr: if addressed { m.addr } else { 0 },
            size: if addressed {
                u32::try_from(m.size).unwrap_or(u32::MAX)
            } else {
                0
            },
            required: req,
        };
        (rec, present)
    });
    // ms_flags is not filled in for this list (sys_module.c, kern_mod_80.c).
    let builtins = st.builtins.iter().map(|m| {
        let (req, present) = required(m);
        let rec = ModStat {
            name: m.name.clone(),
            class: m.class,
            source: ModSource::Builtin as i32,
            flags: 0,
            refcnt: u32::MAX,
            addr: 0,
            size: 0,
            required: req,
        };
        (rec, present)
    });
    active.chain(builtins).collect()
}

/// The state of a freshly booted kernel ([`Engine::boot`]): the boot
/// loader finds the profile's `boot_modules` below `root`, the kernel
/// primes them, adds its built-ins and initializes both class by class,
/// as the one engine does for the boot check. What the loader and the
/// kernel printed is kept in the state.
/// `ksyms` are the kernel's symbols (checked only when known); `now` is
/// the boot time, from which auto-unload deadlines count.
pub fn boot(
    p: &Profile,
    loader: &dyn ObjectLoader,
    root: &Path,
    ksyms: Option<&BTreeSet<String>>,
    now: u64,
) -> State {
    let target = Target::new(p.osrevision, &p.machine);
    let mut list = boot::LoadList::new();
    for m in &p.boot_modules {
        list.add(m.as_bytes());
    }
    let base = boot::loader_module_base(p.osrevision, &p.machine);
    // The boot loader's first pass, each entry found and read on its own:
    // a boot with 100,000 modules is bound by this, so it is spread over
    // the cores.
    let passed = par::map(list.entries(), |entry| {
        boot::find_entry(entry, &base, root, |host| loader.load_boot(host, &target))
    });
    let mut messages = boot::loader_console(passed.iter().map(|(f, _)| f));
    let entries: Vec<BootEntry> = passed
        .into_iter()
        .filter_map(|(f, object)| {
            let (_, host) = f.file?;
            Some(BootEntry {
                name: boot::prime_name(&f.entry),
                path: Some(host.into_os_string().into_vec()),
                object: object?,
            })
        })
        .collect();
    let builtins = p
        .builtins
        .iter()
        .map(|b| Module::builtin(b.name.clone(), b.class, b.requires.clone()))
        .collect();
    let cx = Ctx {
        prof: p,
        loader,
        root: root.to_path_buf(),
        now,
        ksyms: ksyms.cloned(),
    };
    let mut host = EmulHost::new(&cx);
    let out = Engine::boot(&mut host, builtins, entries);
    let mut st = State::empty();
    st.active = out.modules.active.into_vec();
    st.builtins = out.modules.builtins.into_vec();
    messages.extend(host.log);
    st.boot_messages = messages;
    st
}

/// Whether the auto-unload thread has work at `now`: an auto-loaded
/// module whose deadline has passed.
pub fn any_due(st: &State, now: u64) -> bool {
    st.active
        .iter()
        .any(|m| !m.is_builtin() && m.auto_loaded() && m.autotime != 0 && now >= m.autotime)
}

/// What a call works with besides the state.
pub struct Ctx<'a> {
    pub prof: &'a Profile,
    pub loader: &'a dyn ObjectLoader,
    /// Host directory standing for `/` when looking up `module_path`.
    pub root: PathBuf,
    /// Unix time of the call.
    pub now: u64,
    /// The kernel's symbols, when the profile names a ksyms file.
    pub ksyms: Option<BTreeSet<String>>,
}

impl<'a> Ctx<'a> {
    pub fn new(prof: &'a Profile, loader: &'a dyn ObjectLoader, root: &Path) -> Ctx<'a> {
        Ctx {
            prof,
            loader,
            root: root.to_path_buf(),
            now: 0,
            ksyms: None,
        }
    }
}

/// The emulated kernel as the engine's [`Host`]: the profile, files
/// below the module root, and the console.
struct EmulHost<'c> {
    cx: &'c Ctx<'c>,
    target: Target,
    log: Vec<String>,
    /// Free text space, made from the active list at the first placement
    /// of a call (nothing is unloaded between placements of one call).
    free: Option<FreeText>,
}

impl<'c> EmulHost<'c> {
    fn new(cx: &'c Ctx<'c>) -> EmulHost<'c> {
        EmulHost {
            cx,
            target: Target::new(cx.prof.osrevision, &cx.prof.machine),
            log: Vec::new(),
            free: None,
        }
    }

    /// The host file for a path as the kernel names it: a user's path as
    /// given, a path built from a name below the module root.
    fn host_path(&self, path: &[u8], by_name: bool) -> PathBuf {
        if by_name {
            modobj::path::below_root(&self.cx.root, path)
        } else {
            PathBuf::from(OsStr::from_bytes(path))
        }
    }
}

impl Host for EmulHost<'_> {
    fn target(&self) -> &Target {
        &self.target
    }
    fn may_load(&self, autoload: bool) -> bool {
        kauth_module(self.cx.prof, autoload)
    }
    fn module_path(&self) -> &[u8] {
        self.cx.prof.module_path.as_bytes()
    }
    fn open(&mut self, path: &[u8], name: Option<&[u8]>, _operand: bool) -> Opened {
        let host = self.host_path(path, name.is_some());
        match self.cx.loader.load(&host, &self.target) {
            Ok(o) => Opened::Object(Box::new(o)),
            Err(r) => Opened::Refused(r),
        }
    }
    fn plist(&mut self, path: &[u8], name: Option<&[u8]>) -> Result<Option<Dict>, Errno> {
        let host = self.host_path(&plistfile::plist_path(path), name.is_some());
        // A FIFO, which the kernel would wait on, ends the load as an
        // interrupted wait would.
        plistfile::read(&host).map_err(|e| e.errno())
    }
    fn kernel_defines(&self, symbol: &str) -> Option<bool> {
        self.cx.ksyms.as_ref().map(|k| k.contains(symbol))
    }
    fn init(&mut self, name: &[u8]) -> Result<(), Errno> {
        self.cx.prof.init_failure(name).map_or(Ok(()), Err)
    }
    fn fini(&mut self, name: &[u8]) -> Result<(), Errno> {
        self.cx.prof.fini_failure(name).map_or(Ok(()), Err)
    }
    fn autotime(&self) -> u32 {
        self.cx.prof.autotime
    }
    fn now(&self) -> u64 {
        self.cx.now
    }
    fn place(&mut self, active: &ModList, size: u64) -> u64 {
        let machine = &self.cx.prof.machine;
        self.free
            .get_or_insert_with(|| FreeText::of(active.iter(), machine))
            .take(size)
    }
    fn console(&mut self, line: String) {
        self.log.push(line);
    }
}

/// One call's view of the kernel: the engine over the state.
pub struct Kernel<'s, 'c> {
    st: &'s mut State,
    cx: &'c Ctx<'c>,
    /// What the kernel printed (module_error and kobj linker errors).
    log: Vec<String>,
}

impl<'s, 'c> Kernel<'s, 'c> {
    pub fn new(st: &'s mut State, cx: &'c Ctx<'c>) -> Kernel<'s, 'c> {
        Kernel {
            st,
            cx,
            log: Vec::new(),
        }
    }

    /// The kernel messages of this call, as printed on the console.
    pub fn messages(&self) -> &[String] {
        &self.log
    }

    /// The records `MODCTL_STAT` would report now.
    pub fn stat(&self, show_addr: bool) -> Vec<StatRecord> {
        stat_records(self.st, show_addr)
    }

    /// Runs `op` on the engine over the state's lists.
    fn run<R>(&mut self, op: impl FnOnce(&mut Engine<'_>) -> R) -> R {
        let mods = Modules {
            active: ModList::from_vec(std::mem::take(&mut self.st.active)),
            builtins: ModList::from_vec(std::mem::take(&mut self.st.builtins)),
        };
        let mut host = EmulHost::new(self.cx);
        let mut engine = Engine::new(mods, &mut host);
        let r = op(&mut engine);
        let mods = engine.into_modules();
        self.st.active = mods.active.into_vec();
        self.st.builtins = mods.builtins.into_vec();
        self.log.extend(host.log);
        r
    }

    /// A `MODCTL_LOAD` of `filename` (a name or a path).
    /// `props` with the length the caller gave for them.
    pub fn load(
        &mut self,
        filename: &[u8],
        flags: i32,
        props: Option<(&Props, usize)>,
    ) -> Result<(), Errno> {
        self.run(|e| e.modctl_load(filename, flags, props.map(|(p, len)| (p.dict(), len))))
    }

    /// A `MODCTL_UNLOAD` of a name as the caller gave it.
    pub fn unload(&mut self, name: &[u8]) -> Result<(), Errno> {
        self.run(|e| e.module_unload(name))
    }

    /// One pass of the auto-unload thread at the call's time.
    pub fn autounload_pass(&mut self) {
        if self.cx.prof.autotime == 0 {
            return;
        }
        // Nothing due: the lists need not be rebuilt.
        if any_due(self.st, self.cx.now) {
            self.run(|e| e.autounload_pass());
        }
    }
}

/// The text space not used by modules: the gaps between them, lowest
/// first, the last one open-ended. Few unless modules were unloaded, so
/// a placement is quick however many modules there are.
struct FreeText {
    gaps: Vec<(u64, u64)>,
}

impl FreeText {
    fn of<'a>(active: impl Iterator<Item = &'a ModRec>, machine: &str) -> FreeText {
        let mut used: Vec<(u64, u64)> = active
            .filter(|m| !m.is_builtin() && m.addr != 0)
            .map(|m| (m.addr, m.addr.saturating_add(pages(m.size))))
            .collect();
        used.sort_unstable();
        let mut gaps = Vec::new();
        let mut at = text_base(machine);
        for (start, end) in used {
            if start > at {
                gaps.push((at, start));
            }
            at = at.max(end);
        }
        gaps.push((at, u64::MAX));
        FreeText { gaps }
    }

    /// The lowest page-aligned address where `size` bytes fit, now used.
    fn take(&mut self, size: u64) -> u64 {
        let len = pages(size);
        let Some(i) = self.gaps.iter().position(|&(s, e)| e - s >= len) else {
            return 0;
        };
        let (start, end) = self.gaps[i];
        if start.saturating_add(len) >= end && end != u64::MAX {
            self.gaps.remove(i);
        } else {
            self.gaps[i].0 = start.saturating_add(len);
        }
        start
    }
}

/// `size` bytes of text rounded up to whole pages (at least one).
fn pages(size: u64) -> u64 {
    size.max(1).div_ceil(PAGE).saturating_mul(PAGE)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::glue;
    use libmodctl::abi::MODFLG_MUST_FORCE;

    #[test]
    fn kauth_rules() {
        let mut p = Profile::default();
        assert!(kauth_module(&p, false));
        p.euid = 1000;
        assert!(!kauth_module(&p, false));
        assert!(kauth_module(&p, true));
        p.euid = 0;
        p.securelevel = 1;
        assert!(!kauth_module(&p, false));
        assert!(!kauth_module(&p, true));
    }

    #[test]
    fn boot_order_and_refcounts() {
        let p = Profile::default();
        let st = boot(&p, &glue::NoLoader, Path::new("/"), None, 0);
        assert!(st.builtins.is_empty());
        assert_eq!(st.active.len(), 20);
        let names: Vec<&str> = st.active.iter().map(|m| m.name.to_str().unwrap()).collect();
        // Secmodels first (so last in the list), then file systems, then the rest.
        assert_eq!(
            &names[16..],
            ["secmodel_bsd44", "extensions", "securelevel", "suser"]
        );
        assert_eq!(
            &names[..4],
            ["exec_script", "exec_elf64", "coredump", "ksem"]
        );
        assert_eq!(st.active("wapbl").unwrap().refcnt, 1);
        assert_eq!(st.active("ffs").unwrap().refcnt, 1);
        assert_eq!(st.active("suser").unwrap().refcnt, 1);
        assert_eq!(st.active("coredump").unwrap().refcnt, 1);
        assert_eq!(st.active("ffs").unwrap().deps, ["wapbl"]);
    }

    #[test]
    fn boot_with_failing_and_missing_builtins() {
        let p = Profile::from_json(
            r#"{"builtins": [
                {"name": "a", "class": "misc", "requires": "nosuch"},
                {"name": "b", "class": "vfs"},
                {"name": "c", "class": "misc"}],
               "fail_init": {"b": "EIO"}}"#,
        )
        .unwrap();
        let st = boot(&p, &glue::NoLoader, Path::new("/"), None, 0);
        let active: Vec<&str> = st.active.iter().map(|m| m.name.to_str().unwrap()).collect();
        assert_eq!(active, ["c"]);
        let left: Vec<(&str, u32)> = st
            .builtins
            .iter()
            .map(|m| (m.name.to_str().unwrap(), m.flags))
            .collect();
        // b failed in the VFS pass and went back to the tail without
        // MUST_FORCE, so the ANY pass tried it again after a.
        assert_eq!(left, [("a", MODFLG_MUST_FORCE), ("b", MODFLG_MUST_FORCE)]);
    }

    #[test]
    fn text_goes_in_the_lowest_gap() {
        let at = |addr: u64, size: u64| {
            let mut m = ModRec::builtin("m", 1, None);
            m.source = ModSource::Filesys as i32;
            m.addr = addr;
            m.size = size;
            m
        };
        let base = text_base("amd64");
        let mods = [at(base, 4096), at(base + 3 * 4096, 1)];
        let mut free = FreeText::of(mods.iter(), "amd64");
        assert_eq!(free.take(8192), base + 4096);
        assert_eq!(free.take(1), base + 4 * 4096);
        assert_eq!(free.take(0), base + 5 * 4096);
    }

    #[test]
    fn text_bases() {
        assert_eq!(text_base("amd64"), 0xffff_ffff_8200_0000);
        assert_eq!(text_base("i386"), 0xc200_0000);
    }
}
