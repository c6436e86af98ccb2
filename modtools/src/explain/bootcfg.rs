//! `modload -n --boot-cfg FILE`: what the next boot would do with the
//! modules a `boot.cfg` names. The file is read as NetBSD's boot loader
//! reads it (`perform_bootcfg` in libsa's bootcfg.c, the x86 boot menu's
//! `docommandchoice` and commands), each menu entry's list of modules is
//! put together as the loader would put it, and the boot is run as the
//! kernel would run it ([`modobj::boot`]) against the kernel that will
//! boot ([`KernelConnection::next_boot`]). The facts and what is
//! UNVERIFIED about them are [`modobj::boot`]'s.

use std::path::Path;

use jsontext::{object, strings, Value};
use libmodctl::abi::{class_name, ModClass, MODFLG_AUTO_LOADED};
use libmodctl::cnum;
use libmodctl::errno::Errno;
use libmodctl::ModName;
use modobj::boot::{self, LoadList, BOOTCFG_MAXMENU, BOOTCFG_MAX_SIZE, MENU_COMMAND_MAX};
use modobj::engine::{BootEntry, BootOutcome, Engine, Fate, Host, Opened, Refusal, Why};
use modobj::findings::Detail;
use modobj::kobj;
use modobj::validate::Check;

use crate::explain::reason::{Note, Reason};
use crate::explain::text::kernel_name;
use crate::json::{text_and_bytes, texts_and_bytes};
use crate::kernel::{KernelConnection, NextKernel};
mod parse;
mod render;

use parse::text;
pub use parse::{parse, plan, read, BootCfg, Ends, MenuEntry, Plan};

/// Version of the `modload -n --boot-cfg FILE --json` document.
pub const REPORT_SCHEMA: u64 = 1;

/// What becomes of one module of an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// Initialised by the kernel.
    Loaded,
    /// The boot loader finds no file.
    NotFound,
    /// `module_prime` refuses it.
    NotPrimed,
    /// Refused when initialised.
    Failed,
    /// Not passed to the kernel (`modules off`), or not checked
    /// (`multiboot`).
    NotPassed,
}

impl Status {
    fn name(&self) -> &'static str {
        match self {
            Status::Loaded => "loaded",
            Status::NotFound => "not found",
            Status::NotPrimed => "not primed",
            Status::Failed => "failed",
            Status::NotPassed => "not passed",
        }
    }
}

/// One module of an entry.
#[derive(Debug, Clone, PartialEq)]
pub struct ModuleResult {
    /// The loader's entry, as `boot.cfg` gave it.
    pub operand: Vec<u8>,
    /// The loader paths tried, in order.
    pub tried: Vec<Vec<u8>>,
    /// The loader path it read.
    pub file: Option<Vec<u8>>,
    /// `mi_name`, when the object could be read.
    pub name: Option<ModName>,
    pub class: Option<i32>,
    pub status: Status,
    /// The pass it was initialised (or refused) in.
    pub pass: Option<ModClass>,
    /// Its place among the boot modules initialised (from 0).
    pub nth: Option<usize>,
    pub dependency_of: Option<ModName>,
    /// Listed with flag `a` (loaded as a dependency).
    pub auto_loaded: bool,
    pub errno: Option<Errno>,
    pub reason: Option<Reason>,
    /// The boot loader's or the kernel's console line about it.
    pub console: Vec<String>,
}

/// One entry of the report.
#[derive(Debug, Clone, PartialEq)]
pub struct EntryReport {
    /// The menu entry (from 1), or `None` for the boot without a menu.
    pub number: Option<usize>,
    pub desc: Option<String>,
    pub command: Option<Vec<u8>>,
    pub default: bool,
    pub plan: Plan,
    pub modules: Vec<ModuleResult>,
    /// The boot modules initialised, in order, by module name.
    pub load_order: Vec<ModName>,
    /// Whether the modules were checked (not for `multiboot`).
    pub checked: bool,
}

impl EntryReport {
    /// It boots NetBSD's kernel and every module it passes would be
    /// initialised. An entry that never starts a kernel loads nothing.
    pub fn would_load(&self) -> bool {
        self.checked
            && matches!(self.plan.ends, Ends::Boots(_))
            && self
                .modules
                .iter()
                .all(|m| matches!(m.status, Status::Loaded | Status::NotPassed))
    }
}

/// The whole report.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub boot_cfg: String,
    pub kernel: String,
    pub described_by: String,
    pub loader_path: String,
    pub notes: Vec<Note>,
    pub entries: Vec<EntryReport>,
}

impl Report {
    /// The entry that boots unattended.
    pub fn default_entry(&self) -> Option<&EntryReport> {
        self.entries.iter().find(|e| e.default)
    }

    /// The default entry boots the kernel and every module of it would be
    /// initialised.
    pub fn would_load(&self) -> bool {
        self.default_entry().is_some_and(EntryReport::would_load)
    }
}

/// Runs the check of the `boot.cfg` at `path` against the kernel that
/// will boot. `Err` is the line saying why it cannot be done (the file
/// cannot be read, no kernel to boot).
pub fn check(kernel: &KernelConnection, path: &Path) -> Result<Report, String> {
    let next = kernel.next_boot()?;
    let cfg = read(path).map_err(|why| format!("{}: {why}", path.display()))?;
    Ok(report(&cfg, &next, &path.display().to_string()))
}

/// The report for a parsed `boot.cfg` against `next`.
pub fn report(cfg: &BootCfg, next: &NextKernel, shown: &str) -> Report {
    let t = &next.target;
    let loader_path = boot::loader_module_base(t.osrevision, &t.machine);
    let mut notes: Vec<Note> = cfg.ignored.iter().cloned().collect();
    notes.extend(cfg.notes.iter().cloned());
    let mut entries = Vec::new();
    if cfg.menu.is_empty() {
        entries.push(check_entry(cfg, None, next, &loader_path));
    } else {
        for i in 0..cfg.menu.len() {
            entries.push(check_entry(cfg, Some(i), next, &loader_path));
        }
    }
    Report {
        boot_cfg: shown.to_string(),
        kernel: kernel_name(t.osrevision, &t.machine),
        described_by: next.described_by.clone(),
        loader_path,
        notes,
        entries,
    }
}

fn check_entry(
    cfg: &BootCfg,
    choice: Option<usize>,
    next: &NextKernel,
    loader_path: &str,
) -> EntryReport {
    let plan = plan(cfg, choice);
    let mut e = EntryReport {
        number: choice.map(|c| c + 1),
        desc: choice.map(|c| cfg.menu[c].desc.clone()),
        command: choice.map(|c| cfg.menu[c].command.clone()),
        default: choice == cfg.default,
        modules: Vec::new(),
        load_order: Vec::new(),
        checked: true,
        plan,
    };
    if let Ends::Multiboot(kernel) = &e.plan.ends {
        let why = Reason::Multiboot {
            kernel: kernel.clone(),
        };
        e.modules = e.plan.modules.iter().map(|m| unchecked(m, &why)).collect();
        e.checked = false;
        return e;
    }
    if !e.plan.enabled {
        let why = Reason::ModulesOff;
        e.modules = e.plan.modules.iter().map(|m| unchecked(m, &why)).collect();
        return e;
    }
    // The loader's first pass: what it found and read of each entry.
    let (found, objects): (Vec<_>, Vec<_>) = (e.plan.modules.iter())
        .map(|m| {
            boot::find_entry(m, loader_path, &next.root, |host| {
                kobj::load_boot(host, &next.target)
            })
        })
        .unzip();
    let console = boot::loader_console(&found);
    // What the loader passed, with what the linker made of each.
    let mut passed = Vec::new();
    let mut entries = Vec::new();
    for (k, (f, object)) in found.iter().zip(objects).enumerate() {
        if let (Some(_), Some(loaded)) = (&f.file, object) {
            entries.push(BootEntry {
                name: boot::prime_name(&f.entry),
                path: None,
                object: loaded.clone(),
            });
            passed.push((k, loaded));
        }
    }
    let prime_names: Vec<ModName> = entries.iter().map(|b| b.name.clone()).collect();
    let mut host = NextBoot::new(next);
    let out = Engine::boot(&mut host, next.builtins.clone(), entries);

    let mut order: Vec<(usize, ModName)> = Vec::new();
    for (k, f) in found.iter().enumerate() {
        let mut r = ModuleResult {
            operand: f.entry.clone(),
            tried: f.tried.clone(),
            file: f.file.as_ref().map(|(p, _)| p.clone()),
            name: None,
            class: None,
            status: Status::NotFound,
            pass: None,
            nth: None,
            dependency_of: None,
            auto_loaded: false,
            errno: None,
            reason: None,
            console: Vec::new(),
        };
        let Some(i) = passed.iter().position(|(j, _)| *j == k) else {
            r.errno = Some(Errno::ENOENT);
            r.reason = Some(not_found_reason(f));
            let line = format!("WARNING: couldn't open {}", text(&f.entry));
            r.console = console
                .iter()
                .filter(|l| l.starts_with(&format!("{line} ")) || **l == line)
                .cloned()
                .collect();
            e.modules.push(r);
            continue;
        };
        let loaded = &passed[i].1;
        if let Ok(Some(info)) = loaded.as_ref().map(|o| o.info.as_ref().ok()) {
            r.name = Some(info.name.clone());
            r.class = Some(info.class);
        }
        if let Some(at) = record_fate(&mut r, &out.fates[i], &out, &prime_names[i], loaded, next) {
            order.push(at);
        }
        e.modules.push(r);
    }
    order.sort();
    e.load_order = order.into_iter().map(|(_, n)| n).collect();
    e
}

/// A module the boot loader does not pass to NetBSD's kernel, and why.
fn unchecked(op: &[u8], why: &Reason) -> ModuleResult {
    ModuleResult {
        operand: op.to_vec(),
        tried: Vec::new(),
        file: None,
        name: None,
        class: None,
        status: Status::NotPassed,
        pass: None,
        nth: None,
        dependency_of: None,
        auto_loaded: false,
        errno: None,
        reason: Some(why.clone()),
        console: Vec::new(),
    }
}

/// Records in `r` what the boot made of a module the loader passed;
/// returns its place in the load order when it was initialised.
fn record_fate(
    r: &mut ModuleResult,
    fate: &Fate,
    out: &BootOutcome,
    prime_name: &ModName,
    loaded: &Result<kobj::Loaded, kobj::Refusal>,
    next: &NextKernel,
) -> Option<(usize, ModName)> {
    match fate {
        Fate::Loaded {
            nth,
            pass,
            dependency_of,
        } => {
            r.status = Status::Loaded;
            r.pass = Some(*pass);
            r.nth = Some(*nth);
            r.dependency_of.clone_from(dependency_of);
            let name = r.name.clone().unwrap_or_default();
            let name = &name;
            r.auto_loaded = out
                .modules
                .active
                .get(name.as_bytes())
                .is_some_and(|a| a.flags & MODFLG_AUTO_LOADED != 0);
            return Some((*nth, name.clone()));
        }
        Fate::NotPrimed(refusal) => {
            let why = refusal.error_text().unwrap_or_default();
            r.status = Status::NotPrimed;
            r.errno = Some(refusal.errno);
            r.reason = Some(prime_reason(refusal, &why, prime_name, loaded, next));
            r.console = vec![format!("WARNING: module error: {why}")];
        }
        Fate::Failed {
            errno,
            pass,
            dependency_of,
            causes,
        } => {
            let why = causes
                .last()
                .and_then(Refusal::error_text)
                .unwrap_or_default();
            r.status = Status::Failed;
            r.errno = Some(*errno);
            r.pass = Some(*pass);
            r.dependency_of.clone_from(dependency_of);
            r.reason = Some(init_reason(
                *errno,
                &why,
                causes,
                loaded,
                &r.name.clone().unwrap_or_default(),
                next,
            ));
            if !why.is_empty() {
                r.console = vec![format!("WARNING: module error: {why}")];
            }
        }
        Fate::Left => {
            r.status = Status::Failed;
            r.errno = Some(Errno::EDEADLK);
            r.reason = Some(Reason::StillListed);
        }
    }
    None
}

/// The kernel of the next boot as the engine's host: its release,
/// built-ins, symbols and `fail_init`; no file is read before the root
/// file system is mounted.
struct NextBoot<'a> {
    next: &'a NextKernel,
}

impl<'a> NextBoot<'a> {
    fn new(next: &'a NextKernel) -> NextBoot<'a> {
        NextBoot { next }
    }
}

impl Host for NextBoot<'_> {
    fn target(&self) -> &modobj::rules::Target {
        &self.next.target
    }
    fn may_load(&self, _autoload: bool) -> bool {
        true
    }
    fn module_path(&self) -> &[u8] {
        b""
    }
    fn open(&mut self, _path: &[u8], _name: Option<&[u8]>, _operand: bool) -> Opened {
        Opened::Refused(kobj::Refusal {
            errno: Errno::EOPNOTSUPP,
            cause: kobj::Cause::RootNotMounted,
        })
    }
    fn plist(
        &mut self,
        _path: &[u8],
        _name: Option<&[u8]>,
    ) -> Result<Option<libmodctl::plist::Dict>, Errno> {
        Ok(None)
    }
    fn kernel_defines(&self, symbol: &str) -> Option<bool> {
        self.next.ksyms.as_ref().map(|k| k.contains(symbol))
    }
    fn init(&mut self, name: &[u8]) -> Result<(), Errno> {
        self.next.init_failure(name).map_or(Ok(()), Err)
    }
    fn autotime(&self) -> u32 {
        self.next.autotime
    }
}

/// Why the loader finds no file.
fn not_found_reason(f: &boot::Found) -> Reason {
    Reason::NotFound {
        tried: f
            .tried
            .iter()
            .map(|p| text(&boot::on_boot_disk(p)))
            .collect(),
        dos: f.entry.ends_with(b"\r"),
    }
}

/// The validator's reason for a finding of this kind, if it has one.
fn finding_reason(
    loaded: &Result<kobj::Loaded, kobj::Refusal>,
    checks: &[Check],
) -> Option<Detail> {
    let o = loaded.as_ref().ok()?;
    o.findings
        .iter()
        .find(|f| checks.contains(&f.check))
        .map(|f| f.detail.clone())
}

/// Why `module_prime` refuses it (`refusal`); `why` is the kernel's
/// console text for it.
fn prime_reason(
    refusal: &Refusal,
    why: &str,
    prime_name: &ModName,
    loaded: &Result<kobj::Loaded, kobj::Refusal>,
    next: &NextKernel,
) -> Reason {
    match loaded {
        Err(r) => {
            return Reason::PrimeLinker {
                why: r.cause.clone(),
            }
        }
        Ok(o) => {
            if let Err(r) = &o.info {
                if matches!(refusal.why, Why::PrimeFetchInfo { .. }) {
                    return Reason::PrimeNoModule {
                        why: r.cause.clone(),
                    };
                }
            }
        }
    }
    let module = prime_name.clone();
    if matches!(refusal.why, Why::PrimeBuiltinName) {
        return Reason::BuiltinNamed { module };
    }
    if refusal.errno == Errno::EEXIST {
        return Reason::EarlierBootModule { module };
    }
    if let (Some(ksyms), Ok(o)) = (&next.ksyms, loaded) {
        let clash = modobj::validate::clashing_names(&o.defined, &|s| ksyms.contains(s));
        if !clash.is_empty() {
            return Reason::Clash {
                module: None,
                symbols: clash,
            };
        }
    }
    Reason::Console(why.to_string())
}

/// Why the kernel refuses it when initialising it; `why` is the kernel's
/// console text. `causes` are the refusals of its load, innermost first.
fn init_reason(
    errno: Errno,
    why: &str,
    causes: &[Refusal],
    loaded: &Result<kobj::Loaded, kobj::Refusal>,
    name: &ModName,
    next: &NextKernel,
) -> Reason {
    if let Some((own, before)) = causes.split_last() {
        if let Why::Dependency { dep, errno } = &own.why {
            return dependency_reason(None, dep, *errno, before);
        }
    }
    let checks: &[Check] = match errno {
        Errno::EPROGMISMATCH => &[Check::Version],
        Errno::EINVAL => &[Check::NameLength, Check::Class, Check::RequiredLength],
        _ => &[],
    };
    if let Some(finding) = finding_reason(loaded, checks) {
        return Reason::Unforceable {
            finding: Box::new(finding),
        };
    }
    if next.init_failure(name.as_bytes()) == Some(errno) {
        return Reason::FailInit { errno };
    }
    if errno == Errno::EEXIST {
        return Reason::AlreadyActive {
            module: name.clone(),
        };
    }
    Reason::Console(why.to_string())
}

/// Why `subject` (`None`: the module itself) cannot have `dep`, from the
/// refusals before (the requirement's own refusal is the last one about
/// it): a cycle is a cycle, and a requirement that failed for want of its
/// own says so.
fn dependency_reason(
    subject: Option<ModName>,
    dep: &ModName,
    errno: Errno,
    before: &[Refusal],
) -> Reason {
    let own = before.iter().rposition(|r| r.module == *dep);
    let Some(at) = own else {
        return dependency_errno_reason(subject, dep, errno);
    };
    let r = &before[at];
    match &r.why {
        // The refusal is of `dep`, which is not on the pending list.
        Why::BootOnly { in_progress: true } => Reason::RequiresPending {
            subject,
            dep: dep.clone(),
            chain: super::chain(r, true),
        },
        Why::Dependency { dep: next, errno } => Reason::RequiresFailed {
            subject,
            dep: dep.clone(),
            inner: Box::new(dependency_reason(
                Some(dep.clone()),
                next,
                *errno,
                &before[..at],
            )),
        },
        _ => dependency_errno_reason(subject, dep, errno),
    }
}

/// [`dependency_reason`] when only the errno is known.
fn dependency_errno_reason(subject: Option<ModName>, dep: &ModName, errno: Errno) -> Reason {
    let dep = dep.clone();
    if errno == Errno::EOPNOTSUPP {
        Reason::RequiresAbsent { subject, dep }
    } else {
        Reason::RequiresErrno {
            subject,
            dep,
            errno,
        }
    }
}

fn ordinal(n: usize) -> String {
    let suffix = match (n % 10, n % 100) {
        (1, 11) | (2, 12) | (3, 13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// A pass of `module_init_class`, by its class.
fn pass_name(c: ModClass) -> &'static str {
    c.name()
}

#[cfg(test)]
mod tests;
