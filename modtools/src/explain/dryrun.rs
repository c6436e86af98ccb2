//! `modload -n`: everything up to the `MODCTL_LOAD` call, as the kernel
//! would do it, and a report of what it found.

use crate::explain::reason::Reason;
use crate::explain::text::kernel_name;
use crate::explain::view::{describe, KernelView};
use crate::explain::{kernel_reason, walk_reason};
use crate::json::{text_and_bytes, texts_and_bytes};
use crate::kernel::KernelConnection;
use jsontext::object;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

use libmodctl::abi::{class_name, MODCTL_LOAD_FORCE, MODFLG_MUST_FORCE};
use libmodctl::errno::Errno;
use libmodctl::plist::Dict;
use libmodctl::ModName;
use modobj::engine::{Engine, Event, Host, Loaded, Module, Modules, Opened, Refusal, Why};
use modobj::findings::Detail;
use modobj::kmod::{version_text, Kmod, KmodError, Machine, ModInfo};
use modobj::kobj::{self, Cause};
use modobj::plistfile::{self, PlistFileError};
use modobj::rules::Target;
use modobj::validate;
use modobj::validate::{blocking_finding, Check, Finding};

/// Version of the `modload -n --json` document.
pub const REPORT_SCHEMA: u64 = 1;

/// One problem found, in the module it concerns.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// The module it concerns: a name, or the operand as given.
    pub module: ModName,
    pub check: String,
    pub errno: Option<Errno>,
    pub reason: Reason,
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

/// Facts about the requested module, as read from its file: its
/// `modinfo_t` (the reader's one type for it) and what the file says
/// besides.
#[derive(Debug, Clone, PartialEq)]
pub struct Facts {
    pub info: ModInfo,
    pub machine: String,
    pub text_size: u64,
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

/// The dry run's kernel: the engine's [`Host`] over a copy of the
/// kernel's lists, the files it would read, and what it is known to
/// answer. It writes the report as the engine goes.
struct DryHost<'a> {
    kernel: &'a KernelConnection,
    view: &'a KernelView,
    target: Target,
    /// The kernel's release and machine are known, so files can be
    /// judged; without them no file is read.
    judged: bool,
    flags: i32,
    cmdline: &'a Dict,
    symbols: Option<BTreeSet<String>>,
    report: Report,
    /// Names in the load order, for "already loaded" once only.
    in_order: HashSet<ModName>,
    /// The files opened, by the paths the kernel names them by: where we
    /// read each, and the name it is shown by.
    files: HashMap<Vec<u8>, (PathBuf, String)>,
    /// The last file refusal, with its check and reason and whether a
    /// finding of the validator already says it.
    open_failure: Option<(kobj::Refusal, String, Reason, bool)>,
    /// The reason of the last `.plist` refusal.
    plist_failure: Option<Reason>,
    /// The first refusal of the load.
    first_refusal: Option<Refusal>,
}

impl DryHost<'_> {
    fn push_step(&mut self, name: ModName, action: &'static str, file: Option<String>) {
        self.in_order.insert(name.clone());
        self.report.order.push(Step { name, action, file });
    }

    /// Says that a module's file could not be looked at, so the verdict
    /// rests on the kernel's state alone.
    fn unchecked(&mut self, module: &ModName) {
        self.report.items.push(Item {
            module: module.clone(),
            check: "File".into(),
            errno: None,
            reason: Reason::FileNotChecked {
                rump: !self.view.files_visible,
            },
            fatal: false,
        });
        // Nothing said no: the kernel would go on and load it.
        self.push_step(module.clone(), "load", None);
    }

    /// Validates one file, records every finding, and says whether one
    /// stops the load (the tools refuse what the kernel would certainly
    /// refuse, and what it would misbehave on).
    /// A requirement's findings are the kernel's to act on, in its order:
    /// they are reported, and only the load decides.
    fn check_file(
        &mut self,
        module: &ModName,
        kmod: &Kmod,
        operand: bool,
    ) -> (Vec<Finding>, Option<Finding>) {
        let findings = validate::validate(kmod, &self.target);
        let blocking = blocking_finding(&findings, self.flags)
            .filter(|_| operand)
            .cloned();
        for f in &findings {
            let fatal = f.blocks(false) && operand;
            let forced = f.forceable && self.flags & MODCTL_LOAD_FORCE != 0;
            self.report.items.push(Item {
                module: module.clone(),
                check: f.check.name().to_string(),
                errno: fatal.then_some(f.errno),
                reason: Reason::Finding {
                    detail: Box::new(f.detail.clone()),
                    forced,
                },
                fatal: fatal && !forced,
            });
        }
        (findings, blocking)
    }

    /// A file refusal, remembered with the host's reason for it (which
    /// can say more than the refusal's cause: a requirement's name, say).
    fn open_refused(
        &mut self,
        check: &str,
        refusal: kobj::Refusal,
        why: Reason,
        said: bool,
    ) -> Opened {
        self.open_failure = Some((refusal.clone(), check.to_string(), why, said));
        Opened::Refused(refusal)
    }
}

impl Host for DryHost<'_> {
    fn target(&self) -> &Target {
        &self.target
    }

    fn may_load(&self, autoload: bool) -> bool {
        self.view.securelevel <= 0 && (self.view.euid == 0 || autoload)
    }

    fn module_path(&self) -> &[u8] {
        self.view
            .module_path
            .as_deref()
            .unwrap_or_default()
            .as_bytes()
    }

    fn open(&mut self, path: &[u8], name: Option<&[u8]>, operand: bool) -> Opened {
        let module = ModName::from(name.unwrap_or(path));
        let Some((host, shown)) = self
            .view
            .module_file(name.unwrap_or(path))
            .filter(|_| self.judged)
        else {
            return Opened::Unseen;
        };
        self.files
            .insert(path.to_vec(), (host.clone(), shown.clone()));
        if operand {
            self.report.file = Some(shown.clone());
        }
        let check = if operand { "File" } else { "Dependencies" };
        let kmod = match Kmod::open(&host) {
            Ok(k) => k,
            Err(e) => {
                let refusal = kobj::Refusal {
                    errno: e.errno(),
                    cause: Cause::Unreadable {
                        path: shown.clone(),
                        error: e.clone(),
                    },
                };
                let why = unreadable(e, shown, (!operand).then(|| module.clone()), name);
                return self.open_refused(check, refusal, why, false);
            }
        };
        // The file is checked first: the checks' pass over its relocations
        // also finds the descriptor's, which reading the facts then needs.
        let (findings, blocking) = self.check_file(&module, &kmod, operand);
        if operand {
            self.report.facts = kmod.modinfo().map(|i| Facts {
                info: i.clone(),
                machine: kmod
                    .machine()
                    // The port's name, or `other(<e_machine>)`, as the
                    // report has always said it.
                    .map(|m| match m {
                        Machine::Port(name) => name.to_string(),
                        Machine::Other(em) => format!("other({em})"),
                    })
                    .unwrap_or_default(),
                text_size: kmod.text_size(),
            });
            if kmod.changed_while_read() {
                // Read from the file while, or after, it shrank.
                self.report.facts = None;
            }
        }
        if let Some(f) = blocking {
            if self.report.verdict.is_none() {
                self.report.refused_by_tools = !f.certain;
            }
            let why = Reason::Finding {
                detail: Box::new(f.detail.clone()),
                forced: false,
            };
            let refusal = kobj::Refusal {
                errno: f.errno,
                cause: Cause::Finding(Box::new(f.detail)),
            };
            return self.open_refused(f.check.name(), refusal, why, true);
        }
        if operand && kmod.modinfo().is_none() {
            // The validator passed it, but its `modinfo_t` cannot be read:
            // the kernel would read whatever lies there; like the
            // emulator, call it an invalid object.
            let why = self
                .report
                .items
                .iter()
                .find(|i| i.module == module && !i.fatal)
                .map(|i| Box::new(i.reason.clone()));
            self.report.refused_by_tools |= self.report.verdict.is_none();
            let why = Reason::DescriptorUnreadable { module: None, why };
            let refusal = kobj::Refusal {
                errno: Errno::ENOEXEC,
                cause: Cause::DescriptorUnreadable,
            };
            return self.open_refused("Descriptor", refusal, why, false);
        }
        match kobj::judge_with(&kmod, findings, self.symbols.is_some()) {
            Ok(o) => Opened::Object(Box::new(o)),
            Err(r) => {
                let check = match &r.cause {
                    Cause::Finding(d) if matches!(**d, Detail::FileChanged) => {
                        Check::FileChanged.name()
                    }
                    _ => check,
                };
                let why = Reason::Object(r.cause.clone());
                self.open_refused(check, r, why, false)
            }
        }
    }

    fn plist(&mut self, path: &[u8], _name: Option<&[u8]>) -> Result<Option<Dict>, Errno> {
        // Only a file that was opened has its .plist read.
        let Some((host, shown)) = self.files.get(path).cloned() else {
            return Ok(None);
        };
        let (plist, plist_shown) = plist_beside(&host, &shown);
        read_plist(&plist, &plist_shown).map_err(|(errno, why)| {
            self.plist_failure = Some(why);
            errno
        })
    }

    fn kernel_defines(&self, symbol: &str) -> Option<bool> {
        self.symbols.as_ref().map(|s| s.contains(symbol))
    }

    fn init(&mut self, name: &[u8]) -> Result<(), Errno> {
        self.kernel.init_failure(name).map_or(Ok(()), Err)
    }

    fn event(&mut self, e: &Event) {
        match e {
            Event::Loaded {
                name,
                source: Loaded::Builtin,
                ..
            } => self.push_step(name.clone(), "reinstate builtin", None),
            Event::Loaded { name, path, .. } => {
                let file = path
                    .as_ref()
                    .and_then(|p| self.files.get(p).map(|(_, shown)| shown.clone()));
                self.push_step(name.clone(), "load", file);
            }
            Event::AlreadyActive { name } => {
                if !self.in_order.contains(name) {
                    self.push_step(name.clone(), "already loaded", None);
                }
            }
            Event::Unseen { name } => self.unchecked(name),
            Event::FileProperties { dict, .. } => {
                let mut merged = dict.clone().unwrap_or_default();
                merged.merge(self.cmdline);
                self.report.properties = Some(merged);
            }
            Event::Refused(r) => {
                if self.first_refusal.is_none() {
                    self.first_refusal = Some(r.clone());
                }
            }
        }
    }
}

impl DryHost<'_> {
    /// The first refusal as the report's finding: its check and reason.
    /// `None` when a finding of the validator already says it.
    fn finding(&self, r: &Refusal) -> Option<(String, Reason)> {
        // One piece: a table with one arm per refusal, read top to bottom.
        let module = r.module.clone();
        let found = |check: &str, why: Reason| Some((check.to_string(), why));
        // Said by the host when it refused; the errno otherwise.
        let said = |why: &Option<Reason>| why.clone().unwrap_or(Reason::Errno(r.errno));
        match &r.why {
            Why::PathTooLong { len } => found("File", Reason::PathTooLong { len: *len }),
            Why::PropsTooLarge { len } => found("Properties", Reason::PropsTooLarge { len: *len }),
            Why::AlreadyLoaded { by_info } => {
                let origin = self.view.active(&module).map(describe).unwrap_or_default();
                let by_info = *by_info;
                let why = Reason::AlreadyLoaded {
                    module,
                    by_info,
                    origin,
                };
                found("Loaded", why)
            }
            Why::NotPermitted => found("Permission", said(&self.view.permission_reason())),
            Why::BuiltinNeedsForce { .. } if !r.isdep => {
                found("Builtin", Reason::BuiltinDisabled { module })
            }
            Why::BuiltinNeedsForce { .. } => {
                found("Dependencies", Reason::RequiredBuiltinDisabled { module })
            }
            Why::Open { refusal, .. } => match self.open_failure.clone() {
                // The host's words for what it refused; the kernel's own
                // refusals before any file is opened (namei) have theirs.
                Some((made, check, why, said)) if made == *refusal => {
                    (!said).then_some((check, why))
                }
                _ => found(
                    if r.isdep { "Dependencies" } else { "File" },
                    Reason::Object(refusal.cause.clone()),
                ),
            },
            Why::Clash { symbols } => found(
                "Symbols",
                Reason::Clash {
                    module: None,
                    symbols: symbols.clone(),
                },
            ),
            Why::Unresolved { symbols } => found(
                "Symbols",
                Reason::Unresolved {
                    symbols: symbols.clone(),
                },
            ),
            Why::Plist => found("Properties", said(&self.plist_failure)),
            Why::NameMismatch { asked } => {
                let path = self
                    .report
                    .order
                    .last()
                    .and_then(|s| s.file.clone())
                    .or_else(|| self.view.module_file(asked.as_bytes()).map(|(_, s)| s))
                    .unwrap_or_default();
                let asked = asked.clone();
                let why = Reason::NameMismatch {
                    path,
                    name: module,
                    asked,
                };
                found("Dependencies", why)
            }
            Why::Init => found("Init", Reason::InitFailed { errno: r.errno }),
            Why::Link { refusal } => found(
                "Relocations",
                Reason::LinkRefused {
                    module: None,
                    why: refusal.cause.clone(),
                },
            ),
            Why::FetchInfo { refusal } => found(
                "Descriptor",
                Reason::DescriptorUnreadable {
                    module: None,
                    why: Some(Box::new(Reason::Object(refusal.cause.clone()))),
                },
            ),
            _ => {
                let (check, why) = walk_reason(r).unwrap_or_else(|| kernel_reason(r));
                found(check, why)
            }
        }
    }
}

/// Why a module file cannot be read: `path` is it as the kernel names
/// it, `required` the module when it is a requirement's, `name` the name
/// the kernel built the path from (none: a path was given).
fn unreadable(
    e: KmodError,
    path: String,
    required: Option<ModName>,
    name: Option<&[u8]>,
) -> Reason {
    let errno = match e {
        KmodError::WouldWait(waits) => {
            return Reason::WouldWait {
                path,
                required,
                waits,
            }
        }
        KmodError::Io(errno) => errno,
    };
    match (errno, required, name.is_none()) {
        (Errno::ENOENT, None, false) => Reason::NoModuleFile { path },
        (Errno::ENOENT, None, true) => Reason::NoSuchFile { path },
        (Errno::EISDIR, None, _) => Reason::IsDirectory { path, errno },
        (Errno::EOPNOTSUPP, None, _) => Reason::Socket { path, errno },
        (_, None, _) => Reason::CannotRead { path, error: e },
        (Errno::ENOENT, Some(module), _) => Reason::RequiredNoFile { module, path },
        (_, Some(module), _) => Reason::RequiredCannotRead {
            module,
            path,
            errno,
        },
    }
}

/// A copy of the kernel's lists as `MODCTL_STAT` gave them: the active
/// modules in list order, and the built-ins that are not active (each of
/// which needs force once the kernel has booted).
fn snapshot(view: &KernelView) -> Modules {
    let mut mods = Modules::default();
    for m in &view.modules {
        let mut rec = Module::builtin(
            m.name.clone(),
            m.class,
            Some(m.required.clone()).filter(|r| !r.is_empty()),
        );
        rec.source = m.source;
        if m.refcnt == u32::MAX {
            rec.flags = MODFLG_MUST_FORCE;
            mods.builtins.push_tail(rec);
        } else {
            rec.flags = m.flags;
            rec.refcnt = m.refcnt;
            mods.active.push_tail(rec);
        }
    }
    mods
}

/// Reads a module's `.plist` as the kernel does (absent is fine).
/// `host` is where we read it; `shown`, the name the kernel knows it by,
/// is the one the reason names.
fn read_plist(host: &Path, shown: &str) -> Result<Option<Dict>, (Errno, Reason)> {
    plistfile::read(host).map_err(|e| {
        let path = shown.to_string();
        let why = match &e {
            PlistFileError::TooLarge(size) => Reason::PlistTooLarge { path, size: *size },
            PlistFileError::Fifo => Reason::PlistFifo { path },
            PlistFileError::Io(errno) => Reason::CannotRead {
                path,
                error: KmodError::Io(*errno),
            },
            PlistFileError::NotDictionary(why) => Reason::PlistNotDictionary {
                path,
                why: why.clone(),
            },
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
/// line's properties: the kernel's own steps ([`modobj::engine`]) on a
/// copy of its lists, reading the files it would read.
pub fn dry_run(kernel: &KernelConnection, operand: &[u8], flags: i32, cmdline: &Dict) -> Report {
    let view = KernelView::read(kernel);
    let kernel_text = match &view.target {
        Some(t) => kernel_name(t.osrevision, &t.machine),
        None => "unknown".into(),
    };
    let report = Report {
        operand: operand.to_vec(),
        file: None,
        facts: None,
        kernel: kernel_text,
        properties: None,
        order: Vec::new(),
        items: Vec::new(),
        verdict: None,
        refused_by_tools: false,
    };
    let module = ModName::from(operand);
    let fail = |mut report: Report, check: &str, errno: Errno, reason: Reason| {
        report.items.push(Item {
            module: module.clone(),
            check: check.into(),
            errno: Some(errno),
            reason,
            fatal: true,
        });
        report.verdict = Some(errno);
        report
    };
    if let Some((errno, why)) = view.unreadable.clone() {
        return fail(report, "Kernel", errno, why);
    }
    let symbols = match kernel.kernel_symbols() {
        Ok(syms) => syms,
        Err(why) => return fail(report, "Symbols", Errno::EIO, Reason::Connection(why)),
    };
    // Without the kernel's release and machine no file can be judged: the
    // kernel is taken to load what it finds.
    let (target, judged) = match &view.target {
        Some(t) => (t.clone(), true),
        None => (Target::new(0, ""), false),
    };
    let mods = snapshot(&view);
    let mut host = DryHost {
        kernel,
        view: &view,
        target,
        judged,
        flags,
        cmdline,
        symbols,
        report,
        in_order: HashSet::new(),
        files: HashMap::new(),
        open_failure: None,
        plist_failure: None,
        first_refusal: None,
    };
    let props = cmdline.externalize();
    let result = {
        let mut engine = Engine::new(mods, &mut host);
        engine.modctl_load(operand, flags, Some((cmdline, props.len())))
    };
    if let Err(errno) = result {
        let first = host.first_refusal.clone();
        if let Some((check, why)) = first.as_ref().and_then(|r| host.finding(r)) {
            let module = first.map_or_else(|| module.clone(), |r| r.module);
            host.report.items.push(Item {
                module,
                check,
                errno: Some(errno),
                reason: why,
                fatal: true,
            });
        }
        host.report.verdict.get_or_insert(errno);
    } else {
        host.report.refused_by_tools = false;
    }
    host.report
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
            rows.push(("name", f.info.name.to_string()));
            rows.push(("class", class_name(f.info.class).into()));
            rows.push((
                "version",
                format!("{} ({})", version_text(f.info.version), f.info.version),
            ));
            rows.push(("machine", f.machine.clone()));
            rows.push(("text size", f.text_size.to_string()));
            rows.push((
                "requires",
                if f.info.required.is_empty() {
                    "-".into()
                } else {
                    let names: Vec<String> =
                        f.info.required.iter().map(ToString::to_string).collect();
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

    /// The `--json` report. Members are written in byte order of their
    /// names, as serde_json's sorted maps wrote them before: `object`
    /// orders them, whatever order they are listed in here.
    pub fn to_json(&self) -> String {
        let errno_json = crate::json::errno;
        let module = self.facts.as_ref().map(|f| {
            let mut members = text_and_bytes("name", "name_bytes", f.info.name.as_bytes());
            members.extend([
                ("class", class_name(f.info.class).into()),
                ("class_id", f.info.class.into()),
                ("version", f.info.version.into()),
                ("version_text", version_text(f.info.version).into()),
                ("machine", f.machine.as_str().into()),
                ("text_size", f.text_size.into()),
            ]);
            members.extend(texts_and_bytes(
                "required",
                "required_bytes",
                &f.info.required,
            ));
            object(members)
        });
        let properties = self
            .properties
            .as_ref()
            .map(|p| String::from_utf8_lossy(&p.externalize()).into_owned());
        let load_order = self.order.iter().map(|s| {
            let mut members = text_and_bytes("name", "name_bytes", s.name.as_bytes());
            members.extend([
                ("action", s.action.into()),
                ("file", s.file.as_deref().into()),
            ]);
            object(members)
        });
        let findings = self.items.iter().map(|i| {
            crate::json::finding(
                i.module.as_bytes(),
                &i.check,
                i.fatal,
                i.errno,
                &i.reason.to_string(),
            )
        });
        let mut members = vec![
            ("schema", REPORT_SCHEMA.into()),
            ("would_load", self.would_load().into()),
            ("error", self.verdict.map(errno_json).into()),
            ("kernel", self.kernel.as_str().into()),
            ("file", self.file.as_deref().into()),
            ("module", module.into()),
            ("properties", properties.into()),
            ("load_order", load_order.collect::<Vec<_>>().into()),
            ("findings", findings.collect::<Vec<_>>().into()),
        ];
        members.extend(text_and_bytes("operand", "operand_bytes", &self.operand));
        let doc = object(members);
        doc.to_document()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use libmodctl::plist::Value as PValue;
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
                "name": f.info.name.to_string(),
                "class": class_name(f.info.class),
                "class_id": f.info.class,
                "version": f.info.version,
                "version_text": version_text(f.info.version),
                "machine": f.machine,
                "text_size": f.text_size,
                "required": f.info.required.iter().map(ToString::to_string).collect::<Vec<_>>(),
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
                "reason": i.reason.to_string(),
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
                info: ModInfo {
                    name: "needy".into(),
                    class: 99,
                    version: 1_001_000_000,
                    required_raw: Some("hello,é".into()),
                    required: vec!["hello".into(), "é".into()],
                    has_modcmd: true,
                },
                machine: "amd64".into(),
                text_size: u64::MAX,
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
                    reason: Reason::Console("too \"new\"\n".into()),
                    fatal: true,
                },
                Item {
                    module: "hello".into(),
                    check: "odd".into(),
                    errno: Some(Errno(1234)),
                    reason: Reason::Console(String::new()),
                    fatal: false,
                },
                Item {
                    module: "hello".into(),
                    check: "warn".into(),
                    errno: None,
                    reason: Reason::Console("w".into()),
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
