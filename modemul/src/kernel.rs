//! kern_module.c's algorithms over the emulator's [`State`]: boot,
//! `module_load`, `module_do_load`, `module_do_builtin`, `module_unload`,
//! the auto-unload pass, and the records `MODCTL_STAT` reports.

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use super::glue::{self, ModInfoLite, ModuleObject, ObjectLoader, Props, Target};
use super::profile::Profile;
use super::state::{ModRec, State};
use libmodctl::abi::{
    ModClass, ModSource, MAXMODNAME, MAXPATHLEN, MODCTL_LOAD_FORCE, MODCTL_NO_PROP,
    MODFLG_AUTO_LOADED, MODFLG_MUST_FORCE,
};
use libmodctl::errno::Errno;
use libmodctl::ModName;
use modobj::boot;
use modobj::plistfile;
use modobj::rules::{required_components, LongRequired};

/// NetBSD's `NAME_MAX`: longer path components fail in namei.
const NAME_MAX: usize = 255;
/// Guard against built-ins that require each other (the kernel would
/// recurse until it crashed).
const BUILTIN_DEPTH_LIMIT: u32 = 64;
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

/// One `modstat_t`, before it is encoded for an ABI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatRec {
    pub name: ModName,
    pub class: i32,
    pub source: i32,
    pub flags: u32,
    pub refcnt: u32,
    pub addr: u64,
    pub size: u32,
    /// `mi_required`; `Some("")` is an empty but present list.
    pub required: Option<Vec<u8>>,
}

/// The records `MODCTL_STAT` builds: active modules in list order, then the
/// built-ins that are not active. `show_addr` is false when the caller may
/// not see kernel addresses.
pub fn stat_records(st: &State, show_addr: bool) -> Vec<StatRec> {
    let active = st.active.iter().map(|m| StatRec {
        name: m.name.clone(),
        class: m.class,
        source: m.source,
        flags: m.flags,
        refcnt: m.refcnt,
        // Only modules with a kobj (not built-ins) have an address.
        addr: if show_addr && !m.is_builtin() {
            m.addr
        } else {
            0
        },
        size: if show_addr && !m.is_builtin() {
            u32::try_from(m.size).unwrap_or(u32::MAX)
        } else {
            0
        },
        required: m.required.clone(),
    });
    // ms_flags is not filled in for this list (sys_module.c, kern_mod_80.c).
    let builtins = st.builtins.iter().map(|m| StatRec {
        name: m.name.clone(),
        class: m.class,
        source: ModSource::Builtin as i32,
        flags: 0,
        refcnt: u32::MAX,
        addr: 0,
        size: 0,
        required: m.required.clone(),
    });
    active.chain(builtins).collect()
}

/// The state of a freshly booted kernel ([`modobj::boot`]): the boot
/// loader finds the profile's `boot_modules` below `root`, the kernel
/// primes them, adds its built-ins, initializes both class by class as
/// its main() does, and marks the built-ins left over as needing force.
/// Boot modules get text addresses in the order they became active, and
/// what the loader and the kernel printed is kept in the state.
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
        list.add(m);
    }
    let base = boot::loader_module_base(p.osrevision, &p.machine);
    let (found, mut messages) = boot::run_loader(list.entries(), &base, root);
    // What the loader passed: its entry, the host file, and the object.
    let mut passed = Vec::new();
    for f in found {
        if let Some((_, host)) = f.file {
            let obj = loader.load(&host, &target);
            passed.push((f.entry, host, obj));
        }
    }
    let preloaded: Vec<boot::Preloaded> = passed
        .iter()
        .map(|(entry, _, obj)| boot::Preloaded {
            name: boot::prime_name(entry),
            object: match obj {
                Ok(o) => Ok(boot::Object {
                    defined: o.defined_globals(),
                    undefined: o.unresolved(&|_| false),
                    info: o.modinfo().map(|mi| boot::Info {
                        name: mi.name.clone(),
                        class: mi.class,
                        version: mi.version,
                        required: mi.required.clone(),
                    }),
                    link_errno: o.link_errno(),
                }),
                Err(e) => Err(*e),
            },
        })
        .collect();
    let builtins: Vec<boot::Builtin> = p
        .builtins
        .iter()
        .map(|b| boot::Builtin {
            name: b.name.clone(),
            class: b.class,
            requires: b.requires.clone(),
        })
        .collect();
    let fail_init = |n: &[u8]| p.init_failure(n);
    let out = boot::boot(&boot::Input {
        target,
        builtins: &builtins,
        preloaded: &preloaded,
        ksyms,
        fail_init: &fail_init,
        autotime: p.autotime,
    });

    let mut st = State::empty();
    // Oldest first, so that addresses follow the order of loading.
    for a in out.active.iter().rev() {
        let mut rec = match a.source {
            boot::Source::Builtin(_) => ModRec::builtin(&a.name, a.class, a.required.clone()),
            boot::Source::Boot(i) => {
                let (_, host, obj) = &passed[i];
                let (size, version, globals) = match obj {
                    Ok(o) => (
                        o.text_size(),
                        o.modinfo().map_or(0, |mi| mi.version),
                        o.defined_globals(),
                    ),
                    Err(_) => (0, 0, Vec::new()),
                };
                ModRec {
                    name: a.name.clone(),
                    class: a.class,
                    source: ModSource::Boot as i32,
                    flags: 0,
                    refcnt: 0,
                    required: a.required.clone(),
                    deps: Vec::new(),
                    addr: allocate(&st.active, &p.machine, size),
                    size,
                    version,
                    path: Some(host.to_string_lossy().into_owned()),
                    globals,
                    autotime: 0,
                    props: None,
                }
            }
        };
        rec.flags = a.flags;
        rec.refcnt = a.refcnt;
        rec.deps = a.deps.clone();
        if rec.flags & MODFLG_AUTO_LOADED != 0 {
            rec.autotime = now + u64::from(p.autotime);
        }
        st.active.insert(0, rec);
    }
    for &i in &out.inactive {
        let b = &builtins[i];
        let mut rec = ModRec::builtin(&b.name, b.class, b.requires.clone());
        rec.flags = MODFLG_MUST_FORCE;
        st.builtins.push(rec);
    }
    messages.extend(out.messages);
    st.boot_messages = messages;
    st
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

    fn target(&self) -> Target {
        Target::new(self.prof.osrevision, &self.prof.machine)
    }
}

/// An object read from the file system: the object, its host path, and
/// the dictionary of the `.plist` next to it.
type VfsObject = (Box<dyn ModuleObject>, PathBuf, Option<Props>);

/// One module_do_load() call's arguments.
struct LoadCall {
    filename: Vec<u8>,
    /// Loaded because another module requires it.
    isdep: bool,
    flags: i32,
    props: Option<Props>,
    /// Through the autoload path (as every dependency is).
    autoload: bool,
}

/// A module_do_load() call waiting for the modules it requires: the
/// kernel recurses here; the emulator keeps a stack of these instead, so
/// that a chain of any length needs no more than memory.
struct LoadFrame {
    call: LoadCall,
    fetched: Fetched,
    pending_id: u64,
    /// `mi_required` as the kernel walks it, and how far.
    comps: Vec<Result<ModName, Errno>>,
    next: usize,
    /// The requirements loaded so far (it will hold a reference on each).
    deps: Vec<ModName>,
}

/// What starting a module_do_load() call came to.
enum Started {
    /// Settled without loading anything from a file.
    Done(Result<(), Errno>),
    /// Its requirements are to be loaded first.
    Descend(Box<LoadFrame>),
}

/// An object module_load_vfs() read, with its modinfo.
struct Fetched {
    mi: ModInfoLite,
    obj: Box<dyn ModuleObject>,
    path: PathBuf,
    filedict: Option<Props>,
}

/// One call's view of the kernel.
pub struct Kernel<'s, 'c> {
    st: &'s mut State,
    cx: &'c Ctx<'c>,
    /// The pending list of the current top-level load: modules being
    /// loaded (by `mi_name`) whose dependencies are still being loaded.
    pending: Vec<(u64, ModName)>,
    next_pending: u64,
    depth: u32,
    /// `module_do_load` calls in progress (the kernel's `depth` counter,
    /// checked against `MODULE_MAX_DEPTH` where the kernel has one).
    load_depth: usize,
    /// What the kernel printed (module_error and kobj linker errors).
    log: Vec<String>,
}

impl<'s, 'c> Kernel<'s, 'c> {
    pub fn new(st: &'s mut State, cx: &'c Ctx<'c>) -> Kernel<'s, 'c> {
        Kernel {
            st,
            cx,
            pending: Vec::new(),
            next_pending: 0,
            depth: 0,
            load_depth: 0,
            log: Vec::new(),
        }
    }

    /// The kernel messages of this call, as printed on the console.
    pub fn messages(&self) -> &[String] {
        &self.log
    }

    fn error(&mut self, msg: String) {
        self.log.push(format!("WARNING: module error: {msg}"));
    }

    /// The records `MODCTL_STAT` would report now.
    pub fn stat(&self, show_addr: bool) -> Vec<StatRec> {
        stat_records(self.st, show_addr)
    }

    fn fail_init(&self, name: &[u8]) -> Option<Errno> {
        self.cx.prof.init_failure(name)
    }

    fn fail_fini(&self, name: &[u8]) -> Option<Errno> {
        self.cx.prof.fini_failure(name)
    }

    /// module_do_builtin(): make a built-in active, initializing what it
    /// requires first (those are built-ins too, and need no force).
    fn do_builtin(&mut self, name: &ModName, props: Option<&Props>) -> Result<(), Errno> {
        if self.st.active(name).is_some() {
            return Ok(());
        }
        let Some(i) = self.st.builtins.iter().position(|m| m.name == *name) else {
            self.error(format!(
                "built-in module can't find builtin dependency `{name}'"
            ));
            return Err(Errno::ENOENT);
        };
        if self.depth >= BUILTIN_DEPTH_LIMIT {
            return Err(Errno::EDEADLK);
        }
        let required = self.st.builtins[i].required.clone();
        let mut deps = Vec::new();
        self.depth += 1;
        let r = (|| -> Result<(), Errno> {
            for comp in required_components(
                required.as_deref().unwrap_or_default(),
                LongRequired::Truncate,
            ) {
                let comp = comp?;
                self.do_builtin(&comp, None)?;
                deps.push(comp);
            }
            Ok(())
        })();
        self.depth -= 1;
        if let Err(e) = r {
            self.error(format!(
                "built-in module {name} prerequisite failed, error {}",
                e.0
            ));
            return Err(e);
        }
        if let Some(e) = self.fail_init(name.as_bytes()) {
            self.error(format!(
                "built-in module {name} failed its MODULE_CMD_INIT, error {}",
                e.0
            ));
            return Err(e);
        }
        let Some(i) = self.st.builtins.iter().position(|m| m.name == *name) else {
            return Err(Errno::ENOENT);
        };
        let mut m = self.st.builtins.remove(i);
        m.deps = deps;
        m.props = props.map(Props::externalize);
        self.enqueue(m);
        Ok(())
    }

    /// Whether a module of exactly this name (bytes) is active.
    fn active_named(&self, name: &[u8]) -> bool {
        self.st.active(name).is_some()
    }

    /// module_enqueue(): at the head of the list, holding its requirements.
    fn enqueue(&mut self, m: ModRec) {
        for d in &m.deps {
            if let Some(dep) = self.st.active_mut(d) {
                dep.refcnt = dep.refcnt.saturating_add(1);
            }
        }
        self.st.active.insert(0, m);
    }

    /// module_load(): a `MODCTL_LOAD` of `filename` (a name or a path).
    pub fn load(
        &mut self,
        filename: &[u8],
        flags: i32,
        props: Option<&Props>,
    ) -> Result<(), Errno> {
        // Checked before authorization, so that EEXIST can be returned.
        if self.active_named(filename) {
            return Err(Errno::EEXIST);
        }
        if !kauth_module(self.cx.prof, false) {
            return Err(Errno::EPERM);
        }
        self.pending.clear();
        self.do_load(LoadCall {
            filename: filename.to_vec(),
            isdep: false,
            flags,
            props: props.cloned(),
            autoload: false,
        })
    }

    /// module_do_load() of `top` and, depth first, of everything it
    /// requires. Each call's result goes to the call that required it,
    /// which logs and passes on a failure as the kernel's recursion does.
    fn do_load(&mut self, top: LoadCall) -> Result<(), Errno> {
        let mut stack: Vec<Box<LoadFrame>> = Vec::new();
        let mut finished = match self.start(top) {
            Started::Done(r) => return r,
            Started::Descend(f) => {
                stack.push(f);
                None
            }
        };
        while let Some(f) = stack.last_mut() {
            let step = match finished.take() {
                Some(r) => self.required_loaded(f, r),
                None => Ok(()),
            };
            let step = step.and_then(|()| self.next_required(f));
            match step {
                Ok(Some(child)) => match self.start(child) {
                    Started::Done(r) => finished = Some(r),
                    Started::Descend(c) => stack.push(c),
                },
                Ok(None) => {
                    let f = stack.pop().expect("a frame");
                    finished = Some(self.complete(*f));
                }
                Err(e) => {
                    let f = stack.pop().expect("a frame");
                    self.leave(&f);
                    finished = Some(Err(e));
                }
            }
        }
        finished.expect("the first call's result")
    }

    /// The start of module_do_load(): older kernels first count the call
    /// and refuse one past `MODULE_MAX_DEPTH`, before looking at the name
    /// at all; then built-ins, the file and its modinfo checks.
    fn start(&mut self, call: LoadCall) -> Started {
        let max_depth = glue::rules(self.cx.prof.osrevision, &self.cx.prof.machine).max_depth;
        self.load_depth += 1;
        if let Some(max) = max_depth.filter(|&max| self.load_depth > max) {
            let name = String::from_utf8_lossy(&call.filename);
            let depth = self.load_depth;
            self.error(format!("recursion too deep for `{name}' {depth} > {max}"));
            self.load_depth -= 1;
            return Started::Done(Err(Errno::EMLINK));
        }
        let started = self.start_counted(call);
        if matches!(started, Started::Done(_)) {
            self.load_depth -= 1;
        }
        started
    }

    fn start_counted(&mut self, call: LoadCall) -> Started {
        let name = String::from_utf8_lossy(&call.filename).into_owned();

        // A built-in that is not active: needs force once disabled. Names
        // compare as bytes, as strcmp does.
        if let Some(b) = self
            .st
            .builtins
            .iter()
            .find(|m| m.name == call.filename[..])
        {
            if b.flags & MODFLG_MUST_FORCE != 0 && call.flags & MODCTL_LOAD_FORCE == 0 {
                if !call.autoload {
                    self.error(format!("use -f to reinstate builtin module `{name}'"));
                }
                return Started::Done(Err(Errno::EPERM));
            }
            let exact = b.name.clone();
            return Started::Done(self.do_builtin(&exact, call.props.as_ref()));
        }
        // The boot list is empty once the kernel has booted.
        if self.active_named(&call.filename) {
            return Started::Done(Err(Errno::EEXIST));
        }

        let (obj, path, filedict) = match self.load_vfs(&call.filename, call.flags, call.autoload) {
            Ok(v) => v,
            Err(e) => {
                if !call.autoload {
                    self.error(format!("Cannot load kernel object `{name}' error={}", e.0));
                }
                return Started::Done(Err(e));
            }
        };
        let mi = match obj.modinfo() {
            Ok(mi) => mi.clone(),
            Err(e) => {
                self.error(format!("cannot fetch info for `{name}', error {}", e.0));
                return Started::Done(Err(e));
            }
        };
        let pending_id = self.next_pending;
        self.next_pending += 1;
        self.pending.push((pending_id, mi.name.clone()));
        if let Err(e) = self.check_info(&call, &mi) {
            self.pending.retain(|(i, _)| *i != pending_id);
            return Started::Done(Err(e));
        }
        let required = mi.required.clone().unwrap_or_default();
        let comps = required_components(&required, LongRequired::Refuse).collect();
        Started::Descend(Box::new(LoadFrame {
            call,
            fetched: Fetched {
                mi,
                obj,
                path,
                filedict,
            },
            pending_id,
            comps,
            next: 0,
            deps: Vec::new(),
        }))
    }

    /// The next requirement to load, through the autoload path; `None`
    /// when all are loaded. Those loaded stay loaded whatever happens to
    /// this module afterwards.
    fn next_required(&mut self, f: &mut LoadFrame) -> Result<Option<LoadCall>, Errno> {
        let Some(comp) = f.comps.get(f.next).cloned() else {
            return Ok(None);
        };
        let n = f.next;
        f.next += 1;
        let mi = &f.fetched.mi;
        let rules = glue::rules(self.cx.prof.osrevision, &self.cx.prof.machine);
        if rules.max_required.is_some_and(|max| n >= max) {
            // NetBSD ≤ 8 kept requirements in a fixed array.
            self.error(format!("too many required modules for `{}'", mi.name));
            return Err(Errno::EINVAL);
        }
        let Ok(comp) = comp else {
            let required = String::from_utf8_lossy(mi.required.as_deref().unwrap_or_default());
            self.error(format!(
                "required module name `{required}' longer than {MAXMODNAME}"
            ));
            return Err(Errno::EINVAL);
        };
        if comp == mi.name {
            self.error(format!("self-dependency detected for `{}'", mi.name));
            return Err(Errno::EDEADLK);
        }
        Ok(Some(LoadCall {
            filename: comp.into_bytes(),
            isdep: true,
            flags: f.call.flags,
            props: None,
            autoload: true,
        }))
    }

    /// What loading the requirement asked for last came to.
    fn required_loaded(&mut self, f: &mut LoadFrame, r: Result<(), Errno>) -> Result<(), Errno> {
        let Some(Ok(comp)) = f.comps.get(f.next - 1).cloned() else {
            return Ok(());
        };
        match r {
            Ok(()) | Err(Errno::EEXIST) => {}
            Err(e) => {
                self.error(format!(
                    "recursive load failed for `{}' (`{comp}' required), error {}",
                    f.fetched.mi.name, e.0
                ));
                return Err(e);
            }
        }
        if self.st.active(&comp).is_none() {
            return Err(Errno::ENOENT);
        }
        f.deps.push(comp);
        Ok(())
    }

    /// A call that is over: off the pending list, one level up.
    fn leave(&mut self, f: &LoadFrame) {
        self.pending.retain(|(i, _)| *i != f.pending_id);
        self.load_depth -= 1;
    }

    /// module_do_load() once the requirements are loaded: link, INIT,
    /// enqueue.
    fn complete(&mut self, f: LoadFrame) -> Result<(), Errno> {
        self.leave(&f);
        let LoadFrame {
            call,
            fetched,
            deps,
            ..
        } = f;
        self.affix(&fetched.mi, fetched.obj.as_ref())?;

        // The file's dictionary, with the caller's keys winning.
        let init_props = match (fetched.filedict, call.props) {
            (Some(mut file), Some(p)) => {
                file.merge(&p);
                Some(file)
            }
            (Some(file), None) => Some(file),
            (None, p) => p,
        };
        let mi = &fetched.mi;
        if let Some(e) = self.fail_init(mi.name.as_bytes()) {
            self.error(format!(
                "modcmd(CMD_INIT) failed for `{}', error {}",
                mi.name, e.0
            ));
            return Err(e);
        }

        let size = fetched.obj.text_size();
        let mut rec = ModRec {
            name: mi.name.clone(),
            class: mi.class,
            source: ModSource::Filesys as i32,
            flags: 0,
            refcnt: 0,
            required: mi.required.clone(),
            deps,
            addr: self.allocate(size),
            size,
            version: mi.version,
            path: Some(fetched.path.to_string_lossy().into_owned()),
            globals: fetched.obj.defined_globals(),
            autotime: 0,
            props: init_props.as_ref().map(Props::externalize),
        };
        let prof = self.cx.prof;
        if call.autoload && prof.autotime > 0 {
            rec.autotime = self.cx.now + u64::from(prof.autotime);
            rec.flags |= MODFLG_AUTO_LOADED;
        }
        self.enqueue(rec);
        Ok(())
    }

    /// The modinfo checks: name length, class, version, the name a
    /// dependency was looked up by, already loaded, circular dependency.
    fn check_info(&mut self, call: &LoadCall, mi: &ModInfoLite) -> Result<(), Errno> {
        let prof = self.cx.prof;
        if mi.name.len() >= MAXMODNAME {
            self.error(format!(
                "module name `{}' longer than {MAXMODNAME}",
                mi.name
            ));
            return Err(Errno::EINVAL);
        }
        let rules = glue::rules(prof.osrevision, &prof.machine);
        if rules.class_checked && (mi.class <= ModClass::Any as i32 || mi.class >= rules.class_max)
        {
            self.error(format!(
                "module `{}' has invalid class {}",
                mi.name, mi.class
            ));
            return Err(Errno::EINVAL);
        }
        if !modobj::validate::version_compatible(mi.version, prof.osrevision) {
            self.error(format!(
                "module `{}' built for `{}', system `{}'",
                mi.name, mi.version, prof.osrevision
            ));
            if call.flags & MODCTL_LOAD_FORCE == 0 {
                return Err(Errno::EPROGMISMATCH);
            }
            self.error("forced load, system may be unstable".into());
        }
        if call.isdep && mi.name != call.filename[..] {
            let name = String::from_utf8_lossy(&call.filename);
            self.error(format!(
                "dependency name mismatch (`{name}' != `{}')",
                mi.name
            ));
            return Err(Errno::ENOENT);
        }
        if self.st.active(&mi.name).is_some() {
            self.error(format!("module with name `{}' already loaded", mi.name));
            return Err(Errno::EEXIST);
        }
        let me = self.pending.last().map(|(id, _)| *id);
        if self
            .pending
            .iter()
            .any(|(id, n)| Some(*id) != me && *n == mi.name)
        {
            self.error(format!("circular dependency detected for `{}'", mi.name));
            return Err(Errno::EDEADLK);
        }
        Ok(())
    }

    /// kobj_affix(): resolve against the kernel and loaded modules.
    fn affix(&mut self, mi: &ModInfoLite, obj: &dyn ModuleObject) -> Result<(), Errno> {
        if let Some(ksyms) = &self.cx.ksyms {
            let active = &self.st.active;
            let is_defined = |s: &str| {
                ksyms.contains(s) || active.iter().any(|m| m.globals.iter().any(|g| g == s))
            };
            let missing = obj.unresolved(&is_defined);
            if !missing.is_empty() {
                for s in missing {
                    self.log.push(format!(
                        "kobj_checksyms: [{}]: linker error: symbol `{s}' not found",
                        mi.name
                    ));
                }
                self.error(format!(
                    "unable to affix module `{}', error {}",
                    mi.name,
                    Errno::ENOEXEC.0
                ));
                return Err(Errno::ENOEXEC);
            }
        }
        if let Some(e) = obj.link_errno() {
            self.error(format!(
                "unable to affix module `{}', error {}",
                mi.name, e.0
            ));
            return Err(e);
        }
        Ok(())
    }

    /// module_load_vfs(): find and read the object, then its `.plist`.
    fn load_vfs(
        &mut self,
        filename: &[u8],
        flags: i32,
        autoload: bool,
    ) -> Result<VfsObject, Errno> {
        let has_slash = filename.contains(&b'/');
        // A user's path is opened as given; a name (or any autoload) is
        // looked up as <module_path>/<name>/<name>.kmod; a path that does
        // not exist is not retried as a name.
        let path = if !autoload && has_slash {
            check_components(filename)?;
            PathBuf::from(OsStr::from_bytes(filename))
        } else if has_slash {
            return Err(Errno::ENOENT);
        } else {
            self.name_path(filename)?
        };
        let obj = self.cx.loader.load(&path, &self.cx.target())?;

        // kobj_load() refuses a global symbol that already exists.
        if let Some(ksyms) = &self.cx.ksyms {
            let active = &self.st.active;
            let is_defined = |s: &str| {
                ksyms.contains(s) || active.iter().any(|m| m.globals.iter().any(|g| g == s))
            };
            let clashes = obj.clashing(&is_defined);
            if !clashes.is_empty() {
                for s in clashes {
                    self.log.push(format!(
                        "kobj_checksyms: [{}]: linker error: global symbol `{s}' redefined",
                        String::from_utf8_lossy(filename)
                    ));
                }
                return Err(Errno::ENOEXEC);
            }
        }

        let mut filedict = None;
        if flags & MODCTL_NO_PROP == 0 || autoload {
            let plist = PathBuf::from(OsStr::from_bytes(&plistfile::plist_path(
                path.as_os_str().as_bytes(),
            )));
            if let Some(d) = read_plist(&plist)? {
                if autoload && d.get_bool("noautoload") == Some(true) {
                    // "autoloading is disallowed for %s"
                    return Err(Errno::EPERM);
                }
                filedict = Some(d);
            }
        }
        Ok((obj, path, filedict))
    }

    /// The host file for a module name: `<root>/<module_path>/<n>/<n>.kmod`,
    /// built as the kernel builds it (snprintf into MAXPATHLEN).
    fn name_path(&self, name: &[u8]) -> Result<PathBuf, Errno> {
        let mut p = self.cx.prof.module_path.as_bytes().to_vec();
        p.push(b'/');
        p.extend_from_slice(name);
        p.push(b'/');
        p.extend_from_slice(name);
        p.extend_from_slice(b".kmod");
        p.truncate(MAXPATHLEN - 1);
        check_components(&p)?;
        Ok(modobj::path::below_root(&self.cx.root, &p))
    }

    /// Where `size` bytes of text go ([`allocate`]).
    fn allocate(&self, size: u64) -> u64 {
        allocate(&self.st.active, &self.cx.prof.machine, size)
    }

    /// module_unload(): a `MODCTL_UNLOAD` of a name as the caller gave it.
    pub fn unload(&mut self, name: &[u8]) -> Result<(), Errno> {
        if !kauth_module(self.cx.prof, false) {
            return Err(Errno::EPERM);
        }
        self.do_unload(name, true)
    }

    /// module_do_unload().
    fn do_unload(&mut self, name: &[u8], load_requires_force: bool) -> Result<(), Errno> {
        let Some(i) = self.st.active.iter().position(|m| m.name == name) else {
            let name = String::from_utf8_lossy(name);
            self.error(format!("module `{name}' not found"));
            return Err(Errno::ENOENT);
        };
        let m = &self.st.active[i];
        if m.refcnt != 0 {
            return Err(Errno::EBUSY);
        }
        // Built-in secmodels are there to stay.
        if m.is_builtin() && m.class == ModClass::Secmodel as i32 {
            return Err(Errno::EPERM);
        }
        if let Some(e) = self.fail_fini(name) {
            return Err(e);
        }
        let mut m = self.st.active.remove(i);
        for d in &m.deps {
            if let Some(dep) = self.st.active_mut(d) {
                dep.refcnt = dep.refcnt.saturating_sub(1);
            }
        }
        if m.is_builtin() {
            m.deps.clear();
            m.props = None;
            if load_requires_force {
                m.flags |= MODFLG_MUST_FORCE;
            }
            self.st.builtins.push(m);
        }
        Ok(())
    }

    /// One pass of the auto-unload thread (module_thread) at time `now`:
    /// each auto-loaded module whose deadline has passed gets one try.
    /// Memory-pressure unloading is not emulated. Emulated modules answer
    /// MODULE_CMD_AUTOUNLOAD with ENOTTY, i.e. "go ahead".
    pub fn autounload_pass(&mut self) {
        if self.cx.prof.autotime == 0 {
            return;
        }
        let now = self.cx.now;
        // Only the modules whose deadline has passed, found in one pass:
        // a kernel may hold tens of thousands of auto-loaded modules, and
        // looking each one up again would make every call quadratic.
        let due: Vec<ModName> = self
            .st
            .active
            .iter()
            .filter(|m| !m.is_builtin() && m.auto_loaded() && m.autotime != 0 && now >= m.autotime)
            .map(|m| m.name.clone())
            .collect();
        // Newest first, so a module goes before the modules it requires.
        for name in due {
            let Some(m) = self.st.active_mut(&name) else {
                continue;
            };
            m.autotime = 0;
            let _ = self.do_unload(name.as_bytes(), false);
        }
    }
}

/// The lowest page-aligned address where `size` bytes of text fit
/// between the modules of `active`.
fn allocate(active: &[ModRec], machine: &str, size: u64) -> u64 {
    let len = size.max(1).div_ceil(PAGE).saturating_mul(PAGE);
    let mut used: Vec<(u64, u64)> = active
        .iter()
        .filter(|m| !m.is_builtin() && m.addr != 0)
        .map(|m| {
            let len = m.size.max(1).div_ceil(PAGE).saturating_mul(PAGE);
            (m.addr, m.addr.saturating_add(len))
        })
        .collect();
    used.sort_unstable();
    let mut at = text_base(machine);
    for (start, end) in used {
        if at.saturating_add(len) <= start {
            break;
        }
        at = at.max(end);
    }
    at
}

/// namei's component limit.
fn check_components(path: &[u8]) -> Result<(), Errno> {
    if path.split(|&c| c == b'/').any(|c| c.len() > NAME_MAX) {
        return Err(Errno::ENAMETOOLONG);
    }
    Ok(())
}

/// module_load_plist_vfs(); a FIFO, which the kernel would wait on, ends
/// the load as an interrupted wait would.
fn read_plist(path: &Path) -> Result<Option<Props>, Errno> {
    plistfile::read(path)
        .map(|d| d.map(Props::from))
        .map_err(|e| e.errno())
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn text_bases() {
        assert_eq!(text_base("amd64"), 0xffff_ffff_8200_0000);
        assert_eq!(text_base("i386"), 0xc200_0000);
    }
}
