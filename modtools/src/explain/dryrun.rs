//! `modload -n`: everything up to the `MODCTL_LOAD` call, as the kernel
//! would do it, and a report of what it found.

use crate::explain::view::{describe, KernelView};
use crate::json::{text_and_bytes, texts_and_bytes};
use crate::kernel::KernelConnection;
use jsontext::object;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

use libmodctl::abi::{class_name, MAXPROPSLEN, MODCTL_LOAD_FORCE, MODCTL_NO_PROP};
use libmodctl::errno::Errno;
use libmodctl::plist::{Dict, Value as PValue};
use libmodctl::ModName;
use modobj::kmod::{version_text, Kmod, KmodError, FILE_CHANGED_ERRNO, FILE_CHANGED_REASON};
use modobj::plistfile::{self, PlistFileError};
use modobj::rules::MAX_PLIST_FILE;
use modobj::validate;
use modobj::validate::{blocking_finding, Check};

/// Version of the `modload -n --json` document.
pub const REPORT_SCHEMA: u64 = 1;

/// One problem found, in the module it concerns.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// The module it concerns: a name, or the operand as given.
    pub module: ModName,
    pub check: String,
    pub errno: Option<Errno>,
    pub reason: String,
    /// The kernel certainly refuses (as opposed to a warning).
    pub fatal: bool,
}

/// What happens to one module of the load.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub name: ModName,
    /// "load", "reinstate builtin" or "already loaded".
    pub action: &'static str,
    pub file: Option<String>,
}

/// Facts about the requested module, as read from its file.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Facts {
    pub name: ModName,
    pub class: i32,
    pub version: u32,
    pub machine: String,
    pub text_size: u64,
    pub required: Vec<ModName>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// The operand as given (bytes, as the kernel gets them).
    pub operand: Vec<u8>,
    pub file: Option<String>,
    pub facts: Option<Facts>,
    pub kernel: String,
    pub properties: Option<Dict>,
    pub order: Vec<Step>,
    pub items: Vec<Item>,
    /// The errno the kernel would return; `None` = it would load.
    pub verdict: Option<Errno>,
    /// The verdict's finding is one the kernel would not refuse but would
    /// misbehave on (see `validate::Finding::certain`): the tools refuse
    /// to submit the file, with the validator's errno.
    pub refused_by_tools: bool,
}

/// A dependency being loaded: its requirements are walked first.
struct Pending {
    name: ModName,
    required: Vec<ModName>,
    /// The next of `required` to walk.
    next: usize,
    kmod: Kmod,
    shown: String,
}

struct Walk<'a> {
    kernel: &'a KernelConnection,
    view: KernelView,
    flags: i32,
    report: Report,
    pending: Vec<ModName>,
    /// The names in `pending` and in the load order, for quick look-ups
    /// (a chain may be thousands long).
    pending_names: HashSet<ModName>,
    in_order: HashSet<ModName>,
    /// Defined globals of modules this load brings in, for symbol checks.
    new_symbols: HashSet<String>,
}

impl Walk<'_> {
    fn fail(
        &mut self,
        module: &ModName,
        check: &str,
        errno: Errno,
        reason: String,
    ) -> Result<(), ()> {
        self.report.items.push(Item {
            module: module.clone(),
            check: check.into(),
            errno: Some(errno),
            reason,
            fatal: true,
        });
        self.report.verdict.get_or_insert(errno);
        Err(())
    }

    /// [`Walk::fail`] where a step of the chain is expected.
    fn fail_dep(
        &mut self,
        module: &ModName,
        check: &str,
        errno: Errno,
        reason: String,
    ) -> Result<Option<Pending>, ()> {
        self.fail(module, check, errno, reason).map(|()| None)
    }

    /// Refuses a file that was truncated after [`Walk::check_file`] (whose
    /// findings cover what was read before): what was just read from it
    /// is not its contents.
    fn unchanged(&mut self, module: &ModName, kmod: &Kmod) -> Result<(), ()> {
        if kmod.changed_while_read() {
            let why = FILE_CHANGED_REASON.to_string();
            return self.fail(module, Check::FileChanged.name(), FILE_CHANGED_ERRNO, why);
        }
        Ok(())
    }

    /// A disabled builtin: `-f` reinstates it, without it the kernel says
    /// EPERM (every inactive builtin needs force after boot).
    fn reinstate(&mut self, name: &ModName, check: &str, why: String) -> Result<(), ()> {
        if self.flags & MODCTL_LOAD_FORCE == 0 {
            return self.fail(name, check, Errno::EPERM, why);
        }
        self.push_step(Step {
            name: name.clone(),
            action: "reinstate builtin",
            file: None,
        });
        Ok(())
    }

    /// Says that a module's file could not be looked at, so the verdict
    /// rests on the kernel's state alone.
    fn unchecked(&mut self, module: &ModName) {
        let why = if self.view.files_visible {
            "the kernel's module directory is unknown, so the module file was not checked"
        } else {
            "a rump kernel opens module files in its own namespace, so the module file was not checked"
        };
        self.report.items.push(Item {
            module: module.clone(),
            check: "File".into(),
            errno: None,
            reason: why.into(),
            fatal: false,
        });
        // Nothing said no: the kernel would go on and load it.
        self.push_step(Step {
            name: module.clone(),
            action: "load",
            file: None,
        });
    }

    /// A file the validator passed but whose `modinfo_t` cannot be read
    /// (a pointer out of its section, a name without NUL): the kernel
    /// would read whatever lies there; we, like the emulator, call it an
    /// invalid object.
    fn unreadable_descriptor(&mut self, module: &ModName) -> Result<(), ()> {
        let why = self
            .report
            .items
            .iter()
            .find(|i| i.module == *module && !i.fatal)
            .map_or_else(|| "it is malformed".to_string(), |i| i.reason.clone());
        self.report.refused_by_tools |= self.report.verdict.is_none();
        self.fail(
            module,
            "Descriptor",
            Errno::ENOEXEC,
            format!("the module descriptor cannot be read: {why}"),
        )
    }

    /// Validates one file; records every finding; stops at a blocking one.
    fn check_file(&mut self, module: &ModName, kmod: &Kmod) -> Result<(), ()> {
        let Some(target) = self.view.target.clone() else {
            return Ok(());
        };
        let findings = validate::validate(kmod, &target);
        let blocking = blocking_finding(&findings, self.flags).cloned();
        for f in &findings {
            let fatal = f.blocks(false);
            let forced = f.forceable && self.flags & MODCTL_LOAD_FORCE != 0;
            self.report.items.push(Item {
                module: module.clone(),
                check: f.check.name().to_string(),
                errno: fatal.then_some(f.errno),
                reason: if forced {
                    format!("{} (overridden by -f)", f.reason)
                } else {
                    f.reason.clone()
                },
                fatal: fatal && !forced,
            });
        }
        match blocking {
            Some(f) => {
                if self.report.verdict.is_none() {
                    self.report.verdict = Some(f.errno);
                    self.report.refused_by_tools = !f.certain;
                }
                Err(())
            }
            None => Ok(()),
        }
    }

    /// The modules `required` names, each through the autoload path as the
    /// kernel loads it, depth first. The chain is walked with a stack of
    /// its own, not by recursion: a kernel without a depth limit may be
    /// asked for a chain of any length.
    fn dependencies(&mut self, required: &[ModName]) -> Result<(), ()> {
        let mut stack: Vec<Pending> = Vec::new();
        let mut next_top = 0;
        loop {
            let name = match stack.last_mut() {
                Some(top) if top.next < top.required.len() => {
                    top.next += 1;
                    top.required[top.next - 1].clone()
                }
                Some(_) => {
                    let done = stack.pop().expect("a pending module");
                    self.pop_pending();
                    self.loaded(done)?;
                    continue;
                }
                None if next_top < required.len() => {
                    next_top += 1;
                    required[next_top - 1].clone()
                }
                None => return Ok(()),
            };
            if let Some(p) = self.dependency(&name)? {
                self.push_pending(name);
                stack.push(p);
            }
        }
    }

    fn push_step(&mut self, step: Step) {
        self.in_order.insert(step.name.clone());
        self.report.order.push(step);
    }

    fn push_pending(&mut self, name: ModName) {
        self.pending_names.insert(name.clone());
        self.pending.push(name);
    }

    fn pop_pending(&mut self) {
        if let Some(name) = self.pending.pop() {
            self.pending_names.remove(&name);
        }
    }

    /// A dependency whose own requirements have all been walked.
    fn loaded(&mut self, p: Pending) -> Result<(), ()> {
        let defined = p.kmod.defined_globals();
        self.unchanged(&p.name, &p.kmod)?;
        self.new_symbols.extend(defined);
        self.push_step(Step {
            name: p.name,
            action: "load",
            file: Some(p.shown),
        });
        Ok(())
    }

    /// One dependency up to its own requirements: `Some` when it is to be
    /// loaded, after what it requires.
    fn dependency(&mut self, dep: &ModName) -> Result<Option<Pending>, ()> {
        // Older kernels count every module_do_load call of the chain, the
        // requested module being the first, before anything else.
        let max_depth = self
            .view
            .target
            .as_ref()
            .and_then(|t| validate::KernelRules::for_target(t).max_depth);
        if let Some(max) = max_depth.filter(|&max| self.pending.len() >= max) {
            let chain = format!("{} -> {dep}", self.pending_chain());
            return self.fail_dep(
                dep,
                "Dependencies",
                Errno::EMLINK,
                format!(
                    "the chain {chain} is {} deep; this kernel stops at {max}",
                    self.pending.len() + 1
                ),
            );
        }
        let in_order = self.in_order.contains(dep);
        if in_order || self.view.active(dep).is_some() {
            if !in_order {
                self.push_step(Step {
                    name: dep.clone(),
                    action: "already loaded",
                    file: None,
                });
            }
            return Ok(None);
        }
        if self.pending_names.contains(dep) {
            let cycle = format!("{} -> {dep}", self.pending_chain());
            return self.fail_dep(
                dep,
                "Dependencies",
                Errno::EDEADLK,
                format!("circular dependency: {cycle}"),
            );
        }
        // Every builtin left inactive after boot, or disabled by modunload,
        // needs force (module_builtin_require_force); stat does not say so.
        if self.view.disabled_builtin(dep).is_some() {
            let why = format!("required builtin module `{dep}' is disabled; -f reinstates it");
            return self.reinstate(dep, "Dependencies", why).map(|()| None);
        }
        let Some((host, shown)) = self.view.module_file(dep.as_bytes()) else {
            self.unchecked(dep);
            return Ok(None);
        };
        let kmod = match Kmod::open(&host) {
            Ok(k) => k,
            Err(e @ KmodError::WouldWait(_)) => {
                let why = format!("the module file of `{dep}', {shown}, is {e}");
                return self.fail_dep(dep, "Dependencies", e.errno(), why);
            }
            Err(KmodError::Io(Errno::ENOENT)) => {
                return self.fail_dep(
                    dep,
                    "Dependencies",
                    Errno::ENOENT,
                    format!(
                        "required module `{dep}' is not loaded and has no module file at {shown}"
                    ),
                )
            }
            Err(KmodError::Io(errno)) => {
                let why = format!("required module `{dep}': cannot read {shown}: {errno}");
                return self.fail_dep(dep, "Dependencies", errno, why);
            }
        };
        self.check_file(dep, &kmod)?;
        let Some(info) = kmod.modinfo().cloned() else {
            return self.unreadable_descriptor(dep).map(|()| None);
        };
        if info.name != *dep {
            return self.fail_dep(
                dep,
                "Dependencies",
                Errno::ENOENT,
                format!("{shown} declares the name `{}', not `{dep}'", info.name),
            );
        }
        // The autoload path reads the .plist whatever -P says, and honours
        // `noautoload` in it.
        let (plist, plist_shown) = plist_beside(&host, &shown);
        let dict = match read_plist(&plist, &plist_shown) {
            Ok(d) => d,
            Err((errno, why)) => return self.fail_dep(dep, "Properties", errno, why),
        };
        if let Some(d) = dict {
            if d.get(b"noautoload") == Some(&PValue::Bool(true)) {
                return self.fail_dep(
                    dep,
                    "Properties",
                    Errno::EPERM,
                    format!("the .plist of `{dep}' sets noautoload, so it cannot be loaded as a dependency"),
                );
            }
        }
        Ok(Some(Pending {
            name: dep.clone(),
            required: info.required,
            next: 0,
            kmod,
            shown,
        }))
    }

    fn run(&mut self, operand: &ModName, cmdline: &Dict) -> Result<(), ()> {
        if self.kernel_refuses(operand, cmdline)? == Flow::Done {
            return Ok(());
        }
        let Some((kmod, host, shown)) = self.operand_file(operand)? else {
            return Ok(());
        };
        // kobj_load refuses redefinitions before anything else is read.
        let kernel_symbols = match self.kernel.kernel_symbols() {
            Ok(syms) => syms,
            Err(why) => return self.fail(operand, "Symbols", Errno::EIO, why),
        };
        if let Some(syms) = &kernel_symbols {
            let clash = validate::clashing_symbols(&kmod, &|s| syms.contains(s));
            self.unchanged(operand, &kmod)?;
            if !clash.is_empty() {
                let why = format!(
                    "defines global symbols the kernel already has: {}",
                    clash.join(", ")
                );
                return self.fail(operand, "Symbols", Errno::ENOEXEC, why);
            }
        }
        self.properties(operand, &host, &shown, cmdline)?;
        let Some(info) = kmod.modinfo().cloned() else {
            return self.unreadable_descriptor(operand);
        };
        if let Some(m) = self.view.active(&info.name) {
            let why = format!(
                "a module named `{}' is already loaded ({})",
                m.name,
                describe(m)
            );
            return self.fail(operand, "Loaded", Errno::EEXIST, why);
        }
        self.push_pending(info.name.clone());
        self.dependencies(&info.required)?;
        self.pop_pending();
        if let Some(syms) = kernel_symbols {
            let new = &self.new_symbols;
            let missing =
                validate::unresolved_symbols(&kmod, &|s| syms.contains(s) || new.contains(s));
            self.unchanged(operand, &kmod)?;
            if !missing.is_empty() {
                let why = format!(
                    "undefined symbols not in the kernel or the modules it requires: {}",
                    missing.join(", ")
                );
                return self.fail(operand, "Symbols", Errno::ENOEXEC, why);
            }
        }
        self.push_step(Step {
            name: info.name.clone(),
            action: "load",
            file: Some(shown),
        });
        Ok(())
    }

    /// What the kernel answers before it opens a file: the properties'
    /// size, a module of that name already loaded, permission, a disabled
    /// builtin (which `-f` reinstates without a file).
    fn kernel_refuses(&mut self, operand: &ModName, cmdline: &Dict) -> Result<Flow, ()> {
        if let Some((errno, why)) = self.view.unreadable.clone() {
            return self
                .fail(operand, "Kernel", errno, why)
                .map(|()| Flow::Done);
        }
        let props = cmdline.externalize();
        if props.len() > MAXPROPSLEN {
            let why = format!(
                "the properties take {} bytes; the kernel accepts at most {MAXPROPSLEN}",
                props.len()
            );
            return self
                .fail(operand, "Properties", Errno::ENOMEM, why)
                .map(|()| Flow::Done);
        }
        // Names compare as bytes, as strcmp compares them.
        let name = !is_path(operand);
        if let Some(m) = self.view.active(operand).filter(|_| name) {
            let why = format!("module `{}' is already loaded ({})", m.name, describe(m));
            return self
                .fail(operand, "Loaded", Errno::EEXIST, why)
                .map(|()| Flow::Done);
        }
        if let Some(why) = self.view.permission_reason() {
            return self
                .fail(operand, "Permission", Errno::EPERM, why)
                .map(|()| Flow::Done);
        }
        if name && self.view.disabled_builtin(operand).is_some() {
            let why = format!(
                "builtin module `{operand}' was disabled by modunload; use modload -f to reinstate it"
            );
            return self.reinstate(operand, "Builtin", why).map(|()| Flow::Done);
        }
        Ok(Flow::Continue)
    }

    /// The file the kernel would open, read and validated: `None` when it
    /// cannot be looked at (the verdict then rests on the kernel's state).
    fn operand_file(&mut self, operand: &ModName) -> Result<Option<(Kmod, PathBuf, String)>, ()> {
        let Some((host, shown)) = self.view.module_file(operand.as_bytes()) else {
            self.unchecked(operand);
            return Ok(None);
        };
        self.report.file = Some(shown.clone());
        let kmod = match Kmod::open(&host) {
            Ok(k) => k,
            Err(KmodError::Io(errno)) => {
                let why = match (errno, is_path(operand)) {
                    (Errno::ENOENT, false) => format!("no module file at {shown}"),
                    (Errno::ENOENT, true) => format!("no such file: {shown}"),
                    (Errno::EISDIR, _) => format!("{shown} is a directory: {errno}"),
                    (Errno::EOPNOTSUPP, _) => {
                        format!("{shown} is a socket, which the kernel cannot open: {errno}")
                    }
                    _ => format!("cannot read {shown}: {errno}"),
                };
                return self.fail(operand, "File", errno, why).map(|()| None);
            }
            Err(e @ KmodError::WouldWait(_)) => {
                return self
                    .fail(operand, "File", e.errno(), format!("{shown} is {e}"))
                    .map(|()| None);
            }
        };
        // The file is checked first: the checks' pass over its relocations
        // also finds the descriptor's, which reading the facts then needs.
        let checked = self.check_file(operand, &kmod);
        self.report.facts = kmod.modinfo().map(|i| Facts {
            name: i.name.clone(),
            class: i.class,
            version: i.version,
            machine: kmod
                .machine()
                .map(|m| format!("{m:?}").to_lowercase())
                .unwrap_or_default(),
            text_size: kmod.text_size(),
            required: i.required.clone(),
        });
        if kmod.changed_while_read() {
            // Read from the file while, or after, it shrank.
            self.report.facts = None;
        }
        checked?;
        Ok(Some((kmod, host, shown)))
    }

    /// The `.plist` beside the module, merged under the command line's.
    fn properties(
        &mut self,
        operand: &ModName,
        host: &Path,
        shown: &str,
        cmdline: &Dict,
    ) -> Result<(), ()> {
        let mut merged = Dict::new();
        if self.flags & MODCTL_NO_PROP == 0 {
            let (plist, plist_shown) = plist_beside(host, shown);
            match read_plist(&plist, &plist_shown) {
                Ok(Some(d)) => merged = d,
                Ok(None) => {}
                Err((errno, why)) => return self.fail(operand, "Properties", errno, why),
            }
        }
        merged.merge(cmdline);
        self.report.properties = Some(merged);
        Ok(())
    }
}

impl Walk<'_> {
    /// The modules being loaded, outermost first, for a reason.
    fn pending_chain(&self) -> String {
        let names: Vec<String> = self.pending.iter().map(ToString::to_string).collect();
        names.join(" -> ")
    }
}

/// Whether the kernel takes the operand as a path (it holds a `/`).
fn is_path(operand: &ModName) -> bool {
    operand.as_bytes().contains(&b'/')
}

/// Whether a step of the walk settled the verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    Continue,
    Done,
}

/// Reads a module's `.plist` as the kernel does (absent is fine).
/// `host` is where we read it; `shown`, the name the kernel knows it by,
/// is the one the reason names.
fn read_plist(host: &Path, shown: &str) -> Result<Option<Dict>, (Errno, String)> {
    plistfile::read(host).map_err(|e| {
        let why = match &e {
            PlistFileError::TooLarge(size) => format!(
                "{shown} has {size} bytes; the kernel reads at most {}",
                MAX_PLIST_FILE - 1
            ),
            PlistFileError::Fifo => {
                format!("{shown} is a FIFO: the kernel would wait for a writer (not done here)")
            }
            PlistFileError::Io(errno) => format!("cannot read {shown}: {errno}"),
            PlistFileError::NotDictionary(why) => {
                format!("{shown} is not a property list dictionary: {why}")
            }
        };
        (e.errno(), why)
    })
}

/// The `.plist` beside a module file: where we read it, and its name as
/// the kernel knows it.
fn plist_beside(host: &Path, shown: &str) -> (PathBuf, String) {
    use std::os::unix::ffi::OsStrExt;
    let host = plistfile::plist_path(host.as_os_str().as_bytes());
    let shown = plistfile::plist_path(shown.as_bytes());
    (
        PathBuf::from(std::ffi::OsStr::from_bytes(&host)),
        String::from_utf8_lossy(&shown).into_owned(),
    )
}

/// Runs the dry run of loading `operand` with `flags` and the command
/// line's properties.
pub fn dry_run(kernel: &KernelConnection, operand: &[u8], flags: i32, cmdline: &Dict) -> Report {
    let view = KernelView::read(kernel);
    let kernel_text = match &view.target {
        Some(t) => format!(
            "NetBSD {} ({}) {}",
            version_text(t.osrevision),
            t.osrevision,
            t.machine
        ),
        None => "unknown".into(),
    };
    let mut walk = Walk {
        kernel,
        view,
        flags,
        report: Report {
            operand: operand.to_vec(),
            file: None,
            facts: None,
            kernel: kernel_text,
            properties: None,
            order: Vec::new(),
            items: Vec::new(),
            verdict: None,
            refused_by_tools: false,
        },
        pending: Vec::new(),
        pending_names: HashSet::new(),
        in_order: HashSet::new(),
        new_symbols: HashSet::new(),
    };
    let _ = walk.run(&ModName::from(operand), cmdline);
    walk.report
}

impl Report {
    pub fn would_load(&self) -> bool {
        self.verdict.is_none()
    }

    /// The human report.
    pub fn to_text(&self) -> String {
        let operand = String::from_utf8_lossy(&self.operand).into_owned();
        let mut rows: Vec<(&str, String)> = vec![("module", operand)];
        if let Some(f) = &self.file {
            rows.push(("file", f.clone()));
        }
        rows.push(("kernel", self.kernel.clone()));
        if let Some(f) = &self.facts {
            rows.push(("name", f.name.to_string()));
            rows.push(("class", class_name(f.class).into()));
            rows.push((
                "version",
                format!("{} ({})", version_text(f.version), f.version),
            ));
            rows.push(("machine", f.machine.clone()));
            rows.push(("text size", f.text_size.to_string()));
            rows.push((
                "requires",
                if f.required.is_empty() {
                    "-".into()
                } else {
                    let names: Vec<String> = f.required.iter().map(ToString::to_string).collect();
                    names.join(",")
                },
            ));
        }
        if let Some(p) = &self.properties {
            let keys: Vec<String> = p
                .iter()
                .map(|(k, _)| String::from_utf8_lossy(k).into_owned())
                .collect();
            rows.push((
                "properties",
                if keys.is_empty() {
                    "-".into()
                } else {
                    keys.join(", ")
                },
            ));
        }
        let order: Vec<String> = self
            .order
            .iter()
            .map(|s| {
                if s.action == "load" {
                    s.name.to_string()
                } else {
                    format!("{} ({})", s.name, s.action)
                }
            })
            .collect();
        rows.push((
            "load order",
            if order.is_empty() {
                "-".into()
            } else {
                order.join(" -> ")
            },
        ));
        let mut out = String::new();
        for (k, v) in rows {
            out += &format!("{:<12}{v}\n", format!("{k}:"));
        }
        if !self.items.is_empty() {
            out += "findings:\n";
            for i in &self.items {
                let level = if i.fatal { "error" } else { "warning" };
                let errno = i
                    .errno
                    .and_then(|e| e.name())
                    .map(|n| format!(" {n}"))
                    .unwrap_or_default();
                out += &format!("  {level}{errno}: {}: {}\n", i.module, i.reason);
            }
        }
        out += &match self.verdict {
            None => "verdict:    the kernel would load it\n".to_string(),
            Some(e) if self.refused_by_tools => format!(
                "verdict:    modload refuses it, the kernel would load it and misbehave: {e}\n"
            ),
            // A FIFO (the module's or its .plist): the load would not end
            // until a writer came, or with EINTR when interrupted.
            Some(e) if e == Errno::EINTR => {
                format!("verdict:    the kernel would wait, and end only when interrupted: {e}\n")
            }
            Some(e) => format!("verdict:    the kernel would refuse it: {e}\n"),
        };
        out
    }

    /// The `--json` report. Members are in byte order of their names, as
    /// serde_json's sorted maps wrote them before (see `json::module`).
    pub fn to_json(&self) -> String {
        let errno_json = |e: Errno| {
            object(vec![
                ("errno", e.0.into()),
                ("message", e.strerror().into()),
                ("name", e.name().into()),
            ])
        };
        let module = self.facts.as_ref().map(|f| {
            object(
                [
                    vec![
                        ("class", class_name(f.class).into()),
                        ("class_id", f.class.into()),
                        ("machine", f.machine.as_str().into()),
                    ],
                    text_and_bytes("name", "name_bytes", f.name.as_bytes()),
                    texts_and_bytes("required", "required_bytes", &f.required),
                    vec![
                        ("text_size", f.text_size.into()),
                        ("version", f.version.into()),
                        ("version_text", version_text(f.version).into()),
                    ],
                ]
                .concat(),
            )
        });
        let properties = self
            .properties
            .as_ref()
            .map(|p| String::from_utf8_lossy(&p.externalize()).into_owned());
        let load_order = self.order.iter().map(|s| {
            let mut members = vec![
                ("action", s.action.into()),
                ("file", s.file.as_deref().into()),
            ];
            members.extend(text_and_bytes("name", "name_bytes", s.name.as_bytes()));
            object(members)
        });
        let findings = self.items.iter().map(|i| {
            object(
                [
                    vec![
                        ("check", i.check.as_str().into()),
                        ("errno", i.errno.map(errno_json).into()),
                        ("fatal", i.fatal.into()),
                    ],
                    text_and_bytes("module", "module_bytes", i.module.as_bytes()),
                    vec![("reason", i.reason.as_str().into())],
                ]
                .concat(),
            )
        });
        let doc = object(
            [
                vec![
                    ("error", self.verdict.map(errno_json).into()),
                    ("file", self.file.as_deref().into()),
                    ("findings", findings.collect::<Vec<_>>().into()),
                    ("kernel", self.kernel.as_str().into()),
                    ("load_order", load_order.collect::<Vec<_>>().into()),
                    ("module", module.into()),
                ],
                text_and_bytes("operand", "operand_bytes", &self.operand),
                vec![
                    ("properties", properties.into()),
                    ("schema", REPORT_SCHEMA.into()),
                    ("would_load", self.would_load().into()),
                ],
            ]
            .concat(),
        );
        doc.to_document()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    /// The report as the serde_json code that used to build it wrote it.
    fn to_json_by_serde_json(r: &Report) -> String {
        let errno_json =
            |e: Errno| json!({"errno": e.0, "name": e.name(), "message": e.strerror()});
        let doc = json!({
            "schema": REPORT_SCHEMA,
            "operand": String::from_utf8_lossy(&r.operand),
            "file": r.file,
            "kernel": r.kernel,
            "module": r.facts.as_ref().map(|f| json!({
                "name": f.name.to_string(),
                "class": class_name(f.class),
                "class_id": f.class,
                "version": f.version,
                "version_text": version_text(f.version),
                "machine": f.machine,
                "text_size": f.text_size,
                "required": f.required.iter().map(ToString::to_string).collect::<Vec<_>>(),
            })),
            "properties": r.properties.as_ref().map(|p| {
                Value::String(String::from_utf8_lossy(&p.externalize()).into_owned())
            }),
            "load_order": r.order.iter().map(|s| json!({
                "name": s.name.to_string(), "action": s.action, "file": s.file,
            })).collect::<Vec<_>>(),
            "findings": r.items.iter().map(|i| json!({
                "module": i.module.to_string(),
                "check": i.check,
                "fatal": i.fatal,
                "errno": i.errno.map(errno_json),
                "reason": i.reason,
            })).collect::<Vec<_>>(),
            "would_load": r.would_load(),
            "error": r.verdict.map(errno_json),
        });
        let mut out = serde_json::to_string_pretty(&doc).unwrap();
        out.push('\n');
        out
    }

    #[test]
    fn json_same_text_as_serde_json() {
        let mut props = Dict::new();
        props.set("key", PValue::String("va\"l\tue".into()));
        let full = Report {
            operand: "needy\u{1}".into(),
            file: Some("/stand/amd64/10.1/modules/needy/needy.kmod".into()),
            facts: Some(Facts {
                name: "needy".into(),
                class: 99,
                version: 1_001_000_000,
                machine: "amd64".into(),
                text_size: u64::MAX,
                required: vec!["hello".into(), "é".into()],
            }),
            kernel: "NetBSD 10.1 amd64".into(),
            properties: Some(props),
            order: vec![
                Step {
                    name: "hello".into(),
                    action: "load",
                    file: None,
                },
                Step {
                    name: "needy".into(),
                    action: "already loaded",
                    file: Some("/x".into()),
                },
            ],
            items: vec![
                Item {
                    module: "needy".into(),
                    check: "version".into(),
                    errno: Some(Errno::EPROGMISMATCH),
                    reason: "too \"new\"\n".into(),
                    fatal: true,
                },
                Item {
                    module: "hello".into(),
                    check: "odd".into(),
                    errno: Some(Errno(1234)),
                    reason: String::new(),
                    fatal: false,
                },
                Item {
                    module: "hello".into(),
                    check: "warn".into(),
                    errno: None,
                    reason: "w".into(),
                    fatal: false,
                },
            ],
            verdict: Some(Errno::EPROGMISMATCH),
            refused_by_tools: false,
        };
        assert_eq!(full.to_json(), to_json_by_serde_json(&full));
        let empty = Report {
            operand: Vec::new(),
            file: None,
            facts: None,
            kernel: String::new(),
            properties: None,
            order: Vec::new(),
            items: Vec::new(),
            verdict: None,
            refused_by_tools: false,
        };
        assert_eq!(empty.to_json(), to_json_by_serde_json(&empty));
    }
}
