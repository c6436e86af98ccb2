//! `module_load`, `module_do_load` and `module_do_builtin`
//! (kern_module.c r1.155; r1.115 for the older kernels' depth counter).
//!
//! The kernel recurses from a module to the modules it requires; here a
//! stack of [`Frame`]s stands for the kernel's stack, so that a chain of
//! any length needs no more than memory.

use libmodctl::abi::{
    ModClass, ModSource, MAXMODNAME, MAXPATHLEN, MAXPROPSLEN, MODCTL_LOAD_FORCE, MODCTL_NO_PROP,
    MODFLG_AUTO_LOADED, MODFLG_MUST_FORCE,
};
use libmodctl::errno::Errno;
use libmodctl::plist::{Dict, Value};
use libmodctl::ModName;

use super::{Engine, Event, Loaded, Module, Opened, Why};
use crate::kobj;
use crate::rules::{required_components, version_compatible, LongRequired};

/// Guard against built-ins that require each other (the kernel would
/// recurse until it crashed).
const BUILTIN_DEPTH_LIMIT: u32 = 64;

/// NetBSD's `NAME_MAX`: longer path components fail in namei.
const NAME_MAX: usize = 255;

/// One `module_do_load()` call's arguments.
pub(super) struct Call {
    pub name: Vec<u8>,
    /// Loaded because another module requires it.
    pub isdep: bool,
    pub flags: i32,
    pub props: Option<Dict>,
    /// The class `module_init_class` asks for (`Any` otherwise).
    pub class: i32,
    /// Through the autoload path (as every requirement is).
    pub autoload: bool,
}

/// The object a call works on: a file's, or a boot module's.
struct Fetched {
    info: kobj::Info,
    object: Box<kobj::Loaded>,
    /// The path the kernel read it from (`None`: the boot loader's).
    path: Option<Vec<u8>>,
    filedict: Option<Dict>,
    boot_index: Option<usize>,
}

/// A call waiting for the modules it requires.
struct Frame {
    call: Call,
    fetched: Fetched,
    pending_id: u64,
    /// `mi_required` as the kernel walks it, and how far.
    comps: Vec<Result<ModName, Errno>>,
    next: usize,
    /// The requirements loaded so far (it will hold a reference on each).
    deps: Vec<ModName>,
}

/// What starting a call came to.
enum Started {
    Done(Result<(), Errno>),
    Descend(Box<Frame>),
}

impl Engine<'_> {
    /// `MODCTL_LOAD` of `name` (a module name or a path): the system
    /// call's argument checks (sys_module.c `handle_modctl_load`), then
    /// `module_load()`.
    pub fn modctl_load(
        &mut self,
        name: &[u8],
        flags: i32,
        props: Option<(&Dict, usize)>,
    ) -> Result<(), Errno> {
        let asked = ModName::from(name);
        // copyinstr with MAXPATHLEN: the NUL must fit too.
        if name.len() >= MAXPATHLEN {
            let why = Why::PathTooLong { len: name.len() };
            return Err(self.refuse(&asked, Errno::ENAMETOOLONG, why, false));
        }
        if let Some((_, len)) = props {
            if len > MAXPROPSLEN {
                let why = Why::PropsTooLarge { len };
                return Err(self.refuse(&asked, Errno::ENOMEM, why, false));
            }
        }
        self.module_load(name, flags, props.map(|(d, _)| d.clone()))
    }

    /// `module_load()`: the check by name, kauth, then `module_do_load`.
    pub fn module_load(
        &mut self,
        name: &[u8],
        flags: i32,
        props: Option<Dict>,
    ) -> Result<(), Errno> {
        let asked = ModName::from(name);
        // Checked before authorization, so that EEXIST can be returned.
        if self.mods.active.contains(name) {
            let why = Why::AlreadyLoaded { by_info: false };
            return Err(self.refuse(&asked, Errno::EEXIST, why, false));
        }
        if !self.host.may_load(false) {
            return Err(self.refuse(&asked, Errno::EPERM, Why::NotPermitted, false));
        }
        self.pending.clear();
        self.pending_names.clear();
        self.do_load(Call {
            name: name.to_vec(),
            isdep: false,
            flags,
            props,
            class: ModClass::Any as i32,
            autoload: false,
        })
    }

    /// `module_do_load()` of `top` and, depth first, of everything it
    /// requires. Each call's result goes to the call that required it.
    pub(super) fn do_load(&mut self, top: Call) -> Result<(), Errno> {
        let mut stack: Vec<Box<Frame>> = Vec::new();
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
                    self.leave(&f, e);
                    finished = Some(Err(e));
                }
            }
        }
        finished.expect("the first call's result")
    }

    /// The start of `module_do_load()`: older kernels first count the call
    /// and refuse one past `MODULE_MAX_DEPTH`.
    fn start(&mut self, call: Call) -> Started {
        self.load_depth += 1;
        if let Some(max) = self.rules.max_depth.filter(|&max| self.load_depth > max) {
            let depth = self.load_depth;
            self.load_depth -= 1;
            let why = Why::TooDeep { depth, max };
            let e = self.refuse(
                &ModName::from(&call.name[..]),
                Errno::EMLINK,
                why,
                call.isdep,
            );
            return Started::Done(Err(e));
        }
        let started = self.start_counted(call);
        if matches!(started, Started::Done(_)) {
            self.load_depth -= 1;
        }
        started
    }

    fn start_counted(&mut self, call: Call) -> Started {
        let asked = ModName::from(&call.name[..]);
        // The disabled built-ins first: force reinstates one.
        if let Some(b) = self.mods.builtins.get(&call.name) {
            if b.flags & MODFLG_MUST_FORCE != 0 && call.flags & MODCTL_LOAD_FORCE == 0 {
                let why = Why::BuiltinNeedsForce {
                    autoload: call.autoload,
                };
                return Started::Done(Err(self.refuse(&asked, Errno::EPERM, why, call.isdep)));
            }
            return Started::Done(self.do_builtin(&asked, &asked, call.props.as_ref(), call.isdep));
        }
        // Then the boot list.
        let fetched = if let Some((index, (info, object, path))) = self.bootlist.take(&call.name) {
            Fetched {
                info,
                object,
                path,
                filedict: None,
                boot_index: Some(index),
            }
        } else {
            // A requirement that is active already is taken as it is.
            if call.isdep && self.mods.active.contains(&call.name) {
                self.host.event(&Event::AlreadyActive { name: asked });
                return Started::Done(Ok(()));
            }
            if !self.root_mounted {
                if self.mods.active.contains(&call.name) {
                    return Started::Done(Err(Errno::EEXIST));
                }
                // module_load_vfs is eopnotsupp until the root is mounted.
                let in_progress = self.bootlist.taken(&call.name);
                let why = Why::BootOnly { in_progress };
                return Started::Done(Err(self.refuse(&asked, Errno::EOPNOTSUPP, why, call.isdep)));
            }
            if self.mods.active.contains(&call.name) {
                let why = Why::AlreadyLoaded { by_info: false };
                return Started::Done(Err(self.refuse(&asked, Errno::EEXIST, why, call.isdep)));
            }
            match self.load_vfs(&call) {
                Ok(Some(f)) => f,
                Ok(None) => return Started::Done(self.unseen(&call)),
                Err(e) => return Started::Done(Err(e)),
            }
        };
        let pending_id = self.pend(fetched.info.name.clone());
        if let Err(e) = self.check_info(&call, &fetched) {
            self.unpend(pending_id);
            if let Some(i) = fetched.boot_index {
                let parent = self.parent(call.isdep);
                self.boot_failed(i, e, parent);
            }
            return Started::Done(Err(e));
        }
        let required = fetched.info.required_raw.clone().unwrap_or_default();
        let comps = required_components(&required, LongRequired::Refuse).collect();
        Started::Descend(Box::new(Frame {
            call,
            fetched,
            pending_id,
            comps,
            next: 0,
            deps: Vec::new(),
        }))
    }

    /// A file that cannot be looked at: the kernel is taken to load it.
    fn unseen(&mut self, call: &Call) -> Result<(), Errno> {
        let name = ModName::from(&call.name[..]);
        self.host.event(&Event::Unseen { name: name.clone() });
        let mut m = Module::builtin(name, ModClass::Any as i32, None);
        m.source = ModSource::Filesys as i32;
        self.enqueue(m);
        Ok(())
    }

    /// Off the pending list: a stack, but for the call that started last
    /// ending first, so usually the last entry.
    fn unpend(&mut self, id: u64) {
        let at = match self.pending.last() {
            Some((i, _)) if *i == id => self.pending.len() - 1,
            _ => match self.pending.iter().rposition(|(i, _)| *i == id) {
                Some(at) => at,
                None => return,
            },
        };
        let (_, name) = self.pending.remove(at);
        if let Some(n) = self.pending_names.get_mut(&name) {
            *n -= 1;
            if *n == 0 {
                self.pending_names.remove(&name);
            }
        }
    }

    fn pend(&mut self, name: ModName) -> u64 {
        let id = self.next_pending;
        self.next_pending += 1;
        *self.pending_names.entry(name.clone()).or_insert(0) += 1;
        self.pending.push((id, name));
        id
    }

    /// The module that required the one whose call just ended.
    fn parent(&self, isdep: bool) -> Option<ModName> {
        isdep
            .then(|| self.pending.last().map(|(_, n)| n.clone()))
            .flatten()
    }

    /// module_load_vfs(): find and read the object, then its `.plist`.
    /// `Ok(None)`: the file cannot be looked at from here.
    fn load_vfs(&mut self, call: &Call) -> Result<Option<Fetched>, Errno> {
        let asked = ModName::from(&call.name[..]);
        let (path, by_name) = self.vfs_path(call)?;
        let object = match self
            .host
            .open(&path, by_name.then_some(&call.name[..]), !call.isdep)
        {
            Opened::Object(o) => o,
            Opened::Unseen => return Ok(None),
            Opened::Refused(refusal) => {
                let e = refusal.errno;
                let why = Why::Open {
                    refusal,
                    autoload: call.autoload,
                };
                return Err(self.refuse(&asked, e, why, call.isdep));
            }
        };
        // kobj_load() refuses a global symbol that already exists.
        let clashes = if self.symbols_known() {
            crate::validate::clashing_names(&object.defined, &|s| self.is_defined(s))
        } else {
            Vec::new()
        };
        if !clashes.is_empty() {
            let why = Why::Clash { symbols: clashes };
            return Err(self.refuse(&asked, Errno::ENOEXEC, why, call.isdep));
        }
        let mut filedict = None;
        if call.flags & MODCTL_NO_PROP == 0 || call.autoload {
            match self.host.plist(&path, by_name.then_some(&call.name[..])) {
                Ok(Some(d)) => {
                    if call.autoload && d.get(b"noautoload") == Some(&Value::Bool(true)) {
                        return Err(self.refuse(&asked, Errno::EPERM, Why::NoAutoload, call.isdep));
                    }
                    filedict = Some(d);
                }
                Ok(None) => {}
                Err(e) => return Err(self.refuse(&asked, e, Why::Plist, call.isdep)),
            }
        }
        if !call.isdep {
            self.host.event(&Event::FileProperties {
                name: asked.clone(),
                dict: filedict.clone(),
            });
        }
        let info = match &object.info {
            Ok(i) => i.clone(),
            Err(r) => {
                let e = r.errno;
                let why = Why::FetchInfo { refusal: r.clone() };
                return Err(self.refuse(&asked, e, why, call.isdep));
            }
        };
        Ok(Some(Fetched {
            info,
            object,
            path: Some(path),
            filedict,
            boot_index: None,
        }))
    }

    /// The path `module_load_vfs` opens, and whether it was built from a
    /// module name: a user's path is opened as given; a name (or any
    /// autoload) is looked up as <module_path>/<name>/<name>.kmod; a path
    /// that does not exist is not retried as a name.
    fn vfs_path(&mut self, call: &Call) -> Result<(Vec<u8>, bool), Errno> {
        let asked = ModName::from(&call.name[..]);
        let has_slash = call.name.contains(&b'/');
        let by_name = call.autoload || !has_slash;
        let refused = |e: &mut Self, errno: Errno, cause: kobj::Cause| {
            let why = Why::Open {
                refusal: kobj::Refusal { errno, cause },
                autoload: call.autoload,
            };
            Err(e.refuse(&asked, errno, why, call.isdep))
        };
        let path = if !by_name {
            call.name.clone()
        } else if has_slash {
            return refused(self, Errno::ENOENT, kobj::Cause::AutoloadPath);
        } else {
            // As the kernel builds it: snprintf into MAXPATHLEN.
            let mut p = self.host.module_path().to_vec();
            p.push(b'/');
            p.extend_from_slice(&call.name);
            p.push(b'/');
            p.extend_from_slice(&call.name);
            p.extend_from_slice(b".kmod");
            p.truncate(MAXPATHLEN - 1);
            p
        };
        // namei's limit on one component.
        if path.split(|&c| c == b'/').any(|c| c.len() > NAME_MAX) {
            let why = kobj::Cause::ComponentTooLong { max: NAME_MAX };
            return refused(self, Errno::ENAMETOOLONG, why);
        }
        Ok((path, by_name))
    }

    /// The modinfo checks: name length, class, version, the class asked
    /// for, the name a requirement was looked up by, already loaded,
    /// circular dependency.
    fn check_info(&mut self, call: &Call, f: &Fetched) -> Result<(), Errno> {
        let mi = &f.info;
        let name = mi.name.clone();
        let isdep = call.isdep;
        if mi.name.len() >= MAXMODNAME {
            return Err(self.refuse(&name, Errno::EINVAL, Why::NameTooLong, isdep));
        }
        if self.rules.class_checked
            && (mi.class <= ModClass::Any as i32 || mi.class >= self.rules.class_max)
        {
            let why = Why::BadClass { class: mi.class };
            return Err(self.refuse(&name, Errno::EINVAL, why, isdep));
        }
        let kernel = self.host.target().osrevision;
        if !version_compatible(mi.version, kernel) {
            let why = Why::Version {
                module: mi.version,
                kernel,
            };
            // A boot module is never forced.
            if call.flags & MODCTL_LOAD_FORCE == 0 || f.boot_index.is_some() {
                return Err(self.refuse(&name, Errno::EPROGMISMATCH, why, isdep));
            }
            let r = super::Refusal {
                module: name.clone(),
                errno: Errno::EPROGMISMATCH,
                why,
                isdep,
                chain: Vec::new(),
            };
            for line in r.console_lines() {
                self.host.console(line);
            }
            self.module_error("forced load, system may be unstable".into());
        }
        if call.class != ModClass::Any as i32 && call.class != mi.class {
            let why = Why::WrongClass {
                class: mi.class,
                wanted: call.class,
            };
            return Err(self.refuse(&name, Errno::ENOENT, why, isdep));
        }
        if call.isdep && mi.name != call.name[..] {
            let why = Why::NameMismatch {
                asked: ModName::from(&call.name[..]),
            };
            return Err(self.refuse(&name, Errno::ENOENT, why, isdep));
        }
        // Only a file's name is checked against the list here.
        if f.boot_index.is_none() && self.mods.active.contains(mi.name.as_bytes()) {
            let why = Why::AlreadyLoaded { by_info: true };
            return Err(self.refuse(&name, Errno::EEXIST, why, isdep));
        }
        // The entry just pushed is this call's own.
        if self.pending_names.get(&mi.name).copied().unwrap_or(0) > 1 {
            return Err(self.refuse(&name, Errno::EDEADLK, Why::Circular, isdep));
        }
        Ok(())
    }

    /// The next requirement to load, through the autoload path; `None`
    /// when all are loaded.
    fn next_required(&mut self, f: &mut Frame) -> Result<Option<Call>, Errno> {
        let Some(comp) = f.comps.get(f.next).cloned() else {
            return Ok(None);
        };
        let n = f.next;
        f.next += 1;
        let name = f.fetched.info.name.clone();
        let isdep = f.call.isdep;
        if self.rules.max_required.is_some_and(|max| n >= max) {
            // NetBSD ≤ 8 kept requirements in a fixed array.
            return Err(self.refuse(&name, Errno::EINVAL, Why::TooManyRequired, isdep));
        }
        let Ok(comp) = comp else {
            let required = f.fetched.info.required_raw.clone().unwrap_or_default();
            let why = Why::RequiredNameTooLong { required };
            return Err(self.refuse(&name, Errno::EINVAL, why, isdep));
        };
        if comp == name {
            return Err(self.refuse(&name, Errno::EDEADLK, Why::SelfDependency, isdep));
        }
        Ok(Some(Call {
            name: comp.into_bytes(),
            isdep: true,
            flags: f.call.flags,
            props: None,
            class: ModClass::Any as i32,
            autoload: true,
        }))
    }

    /// What loading the requirement asked for last came to.
    fn required_loaded(&mut self, f: &mut Frame, r: Result<(), Errno>) -> Result<(), Errno> {
        let Some(Ok(comp)) = f.comps.get(f.next - 1).cloned() else {
            return Ok(());
        };
        let name = f.fetched.info.name.clone();
        match r {
            Ok(()) | Err(Errno::EEXIST) => {}
            Err(e) => {
                let why = Why::Dependency {
                    dep: comp,
                    errno: e,
                };
                return Err(self.refuse(&name, e, why, f.call.isdep));
            }
        }
        if !self.mods.active.contains(comp.as_bytes()) {
            let why = Why::DependencyInactive { dep: comp };
            return Err(self.refuse(&name, Errno::ENOENT, why, f.call.isdep));
        }
        f.deps.push(comp);
        Ok(())
    }

    /// A call that failed while loading its requirements: off the pending
    /// list, one level up.
    fn leave(&mut self, f: &Frame, errno: Errno) {
        self.unpend(f.pending_id);
        self.load_depth -= 1;
        if let Some(i) = f.fetched.boot_index {
            let parent = self.parent(f.call.isdep);
            self.boot_failed(i, errno, parent);
        }
    }

    /// `module_do_load()` once the requirements are loaded: affix, INIT,
    /// enqueue.
    fn complete(&mut self, f: Frame) -> Result<(), Errno> {
        self.unpend(f.pending_id);
        self.load_depth -= 1;
        self.finish(f.call, f.fetched, f.deps)
    }

    fn finish(&mut self, call: Call, fetched: Fetched, deps: Vec<ModName>) -> Result<(), Errno> {
        let name = fetched.info.name.clone();
        let parent = self.parent(call.isdep);
        let boot_index = fetched.boot_index;
        let fail = |e: &mut Self, errno: Errno, why: Why| -> Result<(), Errno> {
            let errno = e.refuse(&name, errno, why, call.isdep);
            if let Some(i) = boot_index {
                e.boot_failed(i, errno, parent.clone());
            }
            Err(errno)
        };
        // kobj_affix(): resolve against the kernel and the active modules.
        let missing = if self.symbols_known() {
            crate::validate::unresolved_names(&fetched.object.undefined, &|s| self.is_defined(s))
        } else {
            Vec::new()
        };
        if !missing.is_empty() {
            return fail(self, Errno::ENOEXEC, Why::Unresolved { symbols: missing });
        }
        if let Some(refusal) = fetched.object.link.clone() {
            let e = refusal.errno;
            return fail(self, e, Why::Link { refusal });
        }
        // The file's dictionary, with the caller's keys winning.
        let init_props = match (fetched.filedict, call.props) {
            (Some(mut file), Some(p)) => {
                file.merge(&p);
                Some(file)
            }
            (Some(file), None) => Some(file),
            (None, p) => p,
        };
        if let Err(e) = self.host.init(name.as_bytes()) {
            return fail(self, e, Why::Init);
        }
        if fetched.boot_index.is_some() && self.mods.active.contains(name.as_bytes()) {
            // MODULE_CMD_FINI is called, then the module goes.
            return fail(self, Errno::EEXIST, Why::DuplicateAfterInit);
        }
        let size = fetched.object.text_size;
        let source = match fetched.boot_index {
            Some(_) => ModSource::Boot,
            None => ModSource::Filesys,
        };
        let addr = self.host.place(&self.mods.active, size);
        let mut m = Module {
            name: name.clone(),
            class: fetched.info.class,
            source: source as i32,
            flags: 0,
            refcnt: 0,
            required: fetched.info.required_raw.clone(),
            deps,
            addr,
            size,
            version: fetched.info.version,
            path: fetched
                .path
                .as_ref()
                .map(|p| String::from_utf8_lossy(p).into_owned()),
            globals: fetched.object.defined.clone(),
            autotime: 0,
            props: init_props
                .as_ref()
                .map(|d| String::from_utf8_lossy(&d.externalize()).into_owned()),
        };
        let autotime = self.host.autotime();
        if call.autoload && autotime > 0 {
            m.autotime = self.host.now() + u64::from(autotime);
            m.flags |= MODFLG_AUTO_LOADED;
        }
        self.enqueue(m);
        if let Some(i) = fetched.boot_index {
            self.boot_loaded(i, parent);
        }
        self.host.event(&Event::Loaded {
            name,
            source: match fetched.boot_index {
                Some(i) => Loaded::Boot(i),
                None => Loaded::Filesys,
            },
            isdep: call.isdep,
            path: fetched.path,
        });
        Ok(())
    }

    /// module_do_builtin(): make a built-in active, initializing what it
    /// requires first (built-ins too, which need no force). Built-ins
    /// requiring each other are bounded by [`BUILTIN_DEPTH_LIMIT`].
    pub(super) fn do_builtin(
        &mut self,
        parent: &ModName,
        name: &ModName,
        props: Option<&Dict>,
        isdep: bool,
    ) -> Result<(), Errno> {
        if self.mods.active.contains(name.as_bytes()) {
            return Ok(());
        }
        let Some(b) = self.mods.builtins.get(name.as_bytes()) else {
            let why = Why::BuiltinMissing {
                parent: parent.clone(),
            };
            return Err(self.refuse(name, Errno::ENOENT, why, isdep));
        };
        if self.builtin_depth >= BUILTIN_DEPTH_LIMIT {
            return Err(self.refuse(name, Errno::EDEADLK, Why::BuiltinTooDeep, isdep));
        }
        let required = b.required.clone();
        let mut deps = Vec::new();
        self.builtin_depth += 1;
        let mut failed = None;
        for comp in required_components(
            required.as_deref().unwrap_or_default(),
            LongRequired::Truncate,
        ) {
            let Ok(c) = comp else { continue };
            if let Err(e) = self.do_builtin(name, &c, None, true) {
                failed = Some((e, c));
                break;
            }
            deps.push(c);
        }
        self.builtin_depth -= 1;
        if let Some((e, dep)) = failed {
            return Err(self.refuse(name, e, Why::BuiltinPrerequisite { dep }, isdep));
        }
        if let Err(e) = self.host.init(name.as_bytes()) {
            return Err(self.refuse(name, e, Why::BuiltinInit, isdep));
        }
        let Some(mut m) = self.mods.builtins.remove(name.as_bytes()) else {
            return Err(Errno::ENOENT);
        };
        m.deps = deps;
        m.props = props.map(|d| String::from_utf8_lossy(&d.externalize()).into_owned());
        self.enqueue(m);
        self.host.event(&Event::Loaded {
            name: name.clone(),
            source: Loaded::Builtin,
            isdep,
            path: None,
        });
        Ok(())
    }
}
