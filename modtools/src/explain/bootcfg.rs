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
use modobj::kmod::version_text;
use modobj::kobj;
use modobj::validate::Check;

use crate::json::{text_and_bytes, texts_and_bytes};
use crate::kernel::{KernelConnection, NextKernel};

/// Version of the `modload -n --boot-cfg FILE --json` document.
pub const REPORT_SCHEMA: u64 = 1;

/// One `menu=` line: its text and its commands. The commands are bytes
/// as the file has them (the paths they name need not be UTF-8); the
/// text is only shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MenuEntry {
    pub desc: String,
    pub command: Vec<u8>,
}

/// A `boot.cfg` as the boot loader reads it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BootCfg {
    /// The `load=` values, in order (added to the loader's list as the
    /// file is read, so they apply to every entry).
    pub loads: Vec<Vec<u8>>,
    /// The menu entries the loader offers.
    pub menu: Vec<MenuEntry>,
    /// The entry chosen on Return or at the timeout (an index into
    /// `menu`), when there is a menu.
    pub default: Option<usize>,
    /// `timeout=`: seconds, or -1 for none.
    pub timeout: i64,
    /// Why the loader ignores the whole file, when it does.
    pub ignored: Option<String>,
    /// Lines the loader drops, in words.
    pub notes: Vec<String>,
}

/// Bytes for a message: what is not UTF-8 shows as U+FFFD.
fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// `s` without the `strip` bytes at its start.
fn trim_start<'a>(s: &'a [u8], strip: &[u8]) -> &'a [u8] {
    let at = s.iter().position(|c| !strip.contains(c)).unwrap_or(s.len());
    &s[at..]
}

/// `s` without the `strip` bytes at its end.
fn trim_end<'a>(s: &'a [u8], strip: &[u8]) -> &'a [u8] {
    let at = s
        .iter()
        .rposition(|c| !strip.contains(c))
        .map_or(0, |i| i + 1);
    &s[..at]
}

/// `s` cut at its first blank or tab: the word and the rest, blanks and
/// tabs skipped.
fn split_word(s: &[u8]) -> (&[u8], &[u8]) {
    match s.iter().position(|c| matches!(c, b' ' | b'\t')) {
        Some(at) => (&s[..at], trim_start(&s[at + 1..], b" \t")),
        None => (s, b""),
    }
}

/// What the loader does with a file of `size` bytes: ignored whole above
/// [`BOOTCFG_MAX_SIZE`].
fn too_large(size: u64) -> Option<BootCfg> {
    (size > BOOTCFG_MAX_SIZE).then(|| BootCfg {
        timeout: 10,
        ignored: Some(format!(
            "the file has {size} bytes; the boot loader ignores a boot.cfg of more than \
             {BOOTCFG_MAX_SIZE} bytes"
        )),
        ..BootCfg::default()
    })
}

/// Reads `boot.cfg` as `perform_bootcfg` does: lines end at `\n`; a `#`
/// anywhere ends the line; a line without `=` is ignored; keys are
/// matched by their first letters (`strncmp`), so `loadx=` is a `load=`;
/// nothing is trimmed (a `\r` stays in the value). A file larger than
/// [`BOOTCFG_MAX_SIZE`] is not read at all.
pub fn parse(bytes: &[u8]) -> BootCfg {
    if let Some(ignored) = too_large(bytes.len() as u64) {
        return ignored;
    }
    let mut cfg = BootCfg {
        timeout: 10,
        ..BootCfg::default()
    };
    // The loader reads up to a NUL byte.
    let bytes = &bytes[..bytes.iter().position(|&c| c == 0).unwrap_or(bytes.len())];
    let mut format = b'a';
    let mut def: i64 = 0;
    for (n, raw) in bytes.split(|&c| c == b'\n').enumerate() {
        let line = &raw[..raw.iter().position(|&c| c == b'#').unwrap_or(raw.len())];
        let Some(eq) = line.iter().position(|&c| c == b'=') else {
            continue;
        };
        let (key, value) = (&line[..eq], &line[eq + 1..]);
        if key.starts_with(b"menu") {
            if cfg.menu.len() >= BOOTCFG_MAXMENU {
                cfg.notes.push(format!(
                    "line {}: the boot loader keeps only {BOOTCFG_MAXMENU} menu entries",
                    n + 1
                ));
                continue;
            }
            match value.iter().position(|&c| c == b':') {
                Some(colon) => {
                    let command = value[colon + 1..].to_vec();
                    let desc = if colon == 0 {
                        text(&command)
                    } else {
                        text(&value[..colon])
                    };
                    cfg.menu.push(MenuEntry { desc, command });
                }
                None => cfg.notes.push(format!(
                    "line {}: a menu line without `:' is not a menu entry",
                    n + 1
                )),
            }
        } else if key.starts_with(b"banner") {
        } else if key.starts_with(b"timeout") {
            cfg.timeout = if value.first().is_some_and(u8::is_ascii_digit) {
                cnum::atoi(value)
            } else {
                -1
            };
        } else if key.starts_with(b"default") {
            def = cnum::atoi(value).saturating_sub(1);
        } else if key.starts_with(b"consdev") {
        } else if key.starts_with(b"load") {
            cfg.loads.push(value.to_vec());
        } else if key.starts_with(b"format") {
            if let Some(&c) = value.first() {
                if b"aAnNdDlL".contains(&c) {
                    format = c.to_ascii_lowercase();
                }
            }
        }
    }
    // With the format forced to numbers and a countdown, only the first
    // nine entries can be chosen.
    if matches!(format, b'n' | b'd') && cfg.menu.len() > 9 && cfg.timeout > 0 {
        cfg.notes.push(format!(
            "with format=n and a timeout only the first 9 of {} menu entries can be chosen",
            cfg.menu.len()
        ));
        cfg.menu.truncate(9);
    }
    if !cfg.menu.is_empty() {
        let last = cfg.menu.len() as i64 - 1;
        cfg.default = Some(def.clamp(0, last) as usize);
    }
    cfg
}

/// How an entry ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ends {
    /// `boot` (or `pkboot`): a NetBSD kernel starts with the modules;
    /// the file it names, if any.
    Boots(Option<String>),
    /// `multiboot`: the modules go to another kernel (Xen, say).
    Multiboot(String),
    /// The entry does not boot by itself; why.
    Stays(String),
}

/// What the boot loader does for one entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The loader's list of kernel modules when the kernel starts.
    pub modules: Vec<Vec<u8>>,
    /// Whether the loader passes them (`modules off` stops it).
    pub enabled: bool,
    pub ends: Ends,
    pub notes: Vec<String>,
}

/// Commands of the x86 boot prompt that do not touch kernel modules.
const OTHER_COMMANDS: &[&str] = &[
    "help", "?", "ls", "dev", "consdev", "vesa", "splash", "rndseed", "fs", "userconf", "root",
    "text", "gop", "mem", "version", "memmap", "devpath", "efivar",
];

struct Run<'a> {
    cfg: &'a BootCfg,
    list: LoadList,
    enabled: bool,
    entered: bool,
    /// The entry whose commands are running.
    current: Option<usize>,
    notes: Vec<String>,
}

impl Run<'_> {
    /// `docommandchoice`: the entry's commands, split at `;`, each run as
    /// if typed. `Some` when one of them started a kernel.
    fn entry(&mut self, choice: usize) -> Option<Ends> {
        let outer = self.current.replace(choice);
        let ends = self.entry_commands(choice);
        self.current = outer;
        ends
    }

    fn entry_commands(&mut self, choice: usize) -> Option<Ends> {
        let command = self.cfg.menu[choice].command.clone();
        if command == b"prompt" {
            return Some(Ends::Stays("it drops to the boot prompt".into()));
        }
        let mut first = true;
        for piece in command.split(|&c| c == b';') {
            // Blanks after a `;` are skipped, trailing blanks dropped; the
            // first command keeps its leading blanks.
            let piece = if first {
                piece
            } else {
                trim_start(piece, b" ")
            };
            first = false;
            let piece = trim_end(piece, b" ");
            if piece.is_empty() && boot::MENU_EMPTY_COMMAND_SKIPPED {
                continue;
            }
            if piece.len() >= MENU_COMMAND_MAX {
                self.notes.push(format!(
                    "the command `{}' has {} bytes; the boot loader's buffer holds {}",
                    text(piece),
                    piece.len(),
                    MENU_COMMAND_MAX - 1
                ));
            }
            if let Some(ends) = self.command(piece) {
                return Some(ends);
            }
        }
        None
    }

    /// `docommand`: the word up to the first blank or tab names the
    /// command; the rest, blanks skipped, is its argument.
    fn command(&mut self, line: &[u8]) -> Option<Ends> {
        let (cmd, arg) = split_word(line);
        match cmd {
            b"load" => {
                self.list.add(arg);
            }
            b"modules" => match arg {
                b"enabled" | b"on" => self.enabled = true,
                b"disabled" | b"off" => self.enabled = false,
                _ => self.notes.push(format!(
                    "`modules {}': the flag must be `enabled' or `disabled'",
                    text(arg)
                )),
            },
            b"boot" | b"pkboot" => return self.boot(arg),
            b"multiboot" => return Some(Ends::Multiboot(text(arg))),
            b"menu" => return Some(Ends::Stays("it shows the menu again".into())),
            b"quit" => return Some(Ends::Stays("`quit' restarts the machine".into())),
            c if OTHER_COMMANDS.iter().any(|o| o.as_bytes() == c) => {}
            b"" => self.notes.push(format!(
                "`{}' starts with a blank, which the boot loader does not skip there: \
                 an unknown command",
                text(line)
            )),
            c => self
                .notes
                .push(format!("`{}' is not a boot loader command", text(c))),
        }
        None
    }

    /// `command_boot`: `boot [file] [-flags]`. Without a file or flags
    /// the default entry's commands run first, once (`bootdefault`).
    fn boot(&mut self, arg: &[u8]) -> Option<Ends> {
        let (file, opts) = if arg.is_empty() || arg.starts_with(b"-") {
            (None, arg)
        } else {
            let (f, rest) = split_word(arg);
            (Some(text(f)), rest)
        };
        if !opts.is_empty() && !opts.starts_with(b"-") {
            self.notes.push(format!(
                "`boot {}': invalid arguments, so it does not boot",
                text(arg)
            ));
            return None;
        }
        if file.is_none() && opts.is_empty() {
            if let Some(def) = self.cfg.default.filter(|_| !self.entered) {
                self.entered = true;
                self.notes.push(if self.current == Some(def) {
                    "`boot' without a kernel or flags runs this, the default entry, once more \
                     (bootdefault)"
                        .to_string()
                } else {
                    format!(
                        "`boot' without a kernel or flags first runs the default entry ({}) \
                         (bootdefault)",
                        def + 1
                    )
                });
                if let Some(ends) = self.entry(def) {
                    return Some(ends);
                }
            }
        }
        Some(Ends::Boots(file))
    }
}

/// What the loader does for menu entry `choice` (`None`: no menu, the
/// `load=` lines and the default kernel).
pub fn plan(cfg: &BootCfg, choice: Option<usize>) -> Plan {
    let mut run = Run {
        cfg,
        list: LoadList::new(),
        enabled: true,
        entered: false,
        current: None,
        notes: Vec::new(),
    };
    for l in &cfg.loads {
        run.list.add(l);
    }
    let ends = match choice {
        None => Ends::Boots(None),
        Some(c) => run.entry(c).unwrap_or_else(|| {
            Ends::Stays("its commands end without booting, so the menu comes back".into())
        }),
    };
    Plan {
        modules: run.list.entries().to_vec(),
        enabled: run.enabled,
        ends,
        notes: run.notes,
    }
}

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
#[derive(Debug, Clone, PartialEq, Eq)]
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
    pub reason: Option<String>,
    /// The boot loader's or the kernel's console line about it.
    pub console: Vec<String>,
}

/// One entry of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub boot_cfg: String,
    pub kernel: String,
    pub described_by: String,
    pub loader_path: String,
    pub notes: Vec<String>,
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

/// Reads and parses the `boot.cfg` at `path`, reading at most one byte
/// more than the loader would take: the file is the user's, and may be
/// huge or endless. What the loader reads from a file system is a
/// regular file; anything else is refused unread, and nothing waits
/// (opened `O_NONBLOCK`, so a FIFO's open does not wait for a writer).
/// `Err` is why, in words.
pub fn read(path: &Path) -> Result<BootCfg, String> {
    use std::io::Read;
    use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
    let file = std::fs::File::options()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(|e| {
            // Linux says ENXIO for a socket; NetBSD's open, EOPNOTSUPP.
            if std::fs::metadata(path).is_ok_and(|m| m.file_type().is_socket()) {
                "a socket, not a file: not read".to_string()
            } else {
                Errno::from_io(&e).to_string()
            }
        })?;
    let meta = file
        .metadata()
        .map_err(|e| Errno::from_io(&e).to_string())?;
    let t = meta.file_type();
    if t.is_dir() {
        return Err(Errno::EISDIR.to_string());
    }
    if t.is_fifo() {
        return Err(
            "a FIFO or pipe, not a file: not read (the boot loader reads a file; \
                    a FIFO would wait for a writer)"
                .into(),
        );
    }
    if t.is_socket() {
        return Err("a socket, not a file: not read".into());
    }
    if !t.is_file() {
        return Err(
            "a device, not a file: not read (the boot loader reads boot.cfg from \
                    a file system)"
                .into(),
        );
    }
    if let Some(ignored) = too_large(meta.len()) {
        return Ok(ignored);
    }
    // The file may have grown since fstat: one byte past the limit is
    // enough to know.
    let mut bytes = Vec::with_capacity(meta.len() as usize + 1);
    file.take(BOOTCFG_MAX_SIZE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Errno::from_io(&e).to_string())?;
    Ok(parse(&bytes))
}

/// The report for a parsed `boot.cfg` against `next`.
pub fn report(cfg: &BootCfg, next: &NextKernel, shown: &str) -> Report {
    let t = &next.target;
    let loader_path = boot::loader_module_base(t.osrevision, &t.machine);
    let mut notes: Vec<String> = cfg.ignored.iter().cloned().collect();
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
        kernel: format!(
            "NetBSD {} ({}) {}",
            version_text(t.osrevision),
            t.osrevision,
            t.machine
        ),
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
        let why =
            format!("multiboot hands the modules to {kernel}, not to NetBSD's kernel: not checked");
        e.modules = e.plan.modules.iter().map(|m| unchecked(m, &why)).collect();
        e.checked = false;
        return e;
    }
    if !e.plan.enabled {
        let why = "modules are disabled (`modules off'): the boot loader passes none";
        e.modules = e.plan.modules.iter().map(|m| unchecked(m, why)).collect();
        return e;
    }
    let (found, console) = boot::run_loader(&e.plan.modules, loader_path, &next.root);
    // What the loader passed, with what the linker made of each.
    let mut passed = Vec::new();
    let mut entries = Vec::new();
    for (k, f) in found.iter().enumerate() {
        if let Some((_, host)) = &f.file {
            let loaded = kobj::load(host, &next.target);
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
fn unchecked(op: &[u8], why: &str) -> ModuleResult {
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
        reason: Some(why.to_string()),
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
            r.reason = Some(prime_reason(refusal.errno, &why, prime_name, loaded, next));
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
            r.reason =
                Some("it is still on the boot list after every pass (not initialised)".into());
        }
    }
    None
}

/// Why the loader finds no file.
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
            reason: "the root file system is not mounted".into(),
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
    fn fini(&mut self, _name: &[u8]) -> Result<(), Errno> {
        Ok(())
    }
    fn autotime(&self) -> u32 {
        self.next.autotime
    }
    fn now(&self) -> u64 {
        0
    }
}

fn not_found_reason(f: &boot::Found) -> String {
    let on_disk: Vec<String> = f
        .tried
        .iter()
        .map(|p| text(&boot::on_boot_disk(p)))
        .collect();
    let mut why = match on_disk.as_slice() {
        [one] => format!("the boot loader finds no file {one}"),
        [a, b, ..] if a == b => format!("the boot loader finds no file {a}"),
        [a, b, ..] => format!("the boot loader finds neither {a} nor {b}"),
        [] => "the boot loader finds no file".to_string(),
    };
    if f.entry.ends_with(b"\r") {
        why += " (the name ends in a carriage return: boot.cfg has DOS line ends)";
    }
    why
}

/// The validator's reason for a finding of this kind, if it has one.
fn finding_reason(
    loaded: &Result<kobj::Loaded, kobj::Refusal>,
    checks: &[Check],
) -> Option<String> {
    let o = loaded.as_ref().ok()?;
    o.findings
        .iter()
        .find(|f| checks.contains(&f.check))
        .map(|f| f.reason.clone())
}

/// Why `module_prime` refuses it, in plain words.
fn prime_reason(
    errno: Errno,
    why: &str,
    prime_name: &ModName,
    loaded: &Result<kobj::Loaded, kobj::Refusal>,
    next: &NextKernel,
) -> String {
    match loaded {
        Err(r) => return format!("the kernel's linker refuses it: {}", r.reason),
        Ok(o) => {
            if let Err(r) = &o.info {
                if why.starts_with("unable to fetch_info") {
                    return format!("the kernel finds no module in it: {}", r.reason);
                }
            }
        }
    }
    if errno == Errno::EEXIST && why.contains("already exists") {
        return format!(
            "`{prime_name}' is the name of a module built into the kernel, and the kernel \
             refuses a boot module of that name"
        );
    }
    if errno == Errno::EEXIST {
        return format!(
            "an earlier boot module is named `{prime_name}', and the kernel refuses a second \
             entry of that name"
        );
    }
    if let (Some(ksyms), Ok(o)) = (&next.ksyms, loaded) {
        let clash = modobj::validate::clashing_names(&o.defined, &|s| ksyms.contains(s));
        if !clash.is_empty() {
            return format!(
                "defines global symbols the kernel already has: {}",
                clash.join(", ")
            );
        }
    }
    why.to_string()
}

/// Why the kernel refuses it when initialising it, in plain words.
/// `causes` are the refusals of its load, innermost first.
fn init_reason(
    errno: Errno,
    why: &str,
    causes: &[Refusal],
    loaded: &Result<kobj::Loaded, kobj::Refusal>,
    name: &ModName,
    next: &NextKernel,
) -> String {
    if let Some((own, before)) = causes.split_last() {
        if let Why::Dependency { dep, errno } = &own.why {
            return dependency_reason("it", dep, *errno, before);
        }
    }
    let checks: &[Check] = match errno {
        Errno::EPROGMISMATCH => &[Check::Version],
        Errno::EINVAL => &[Check::NameLength, Check::Class, Check::RequiredLength],
        _ => &[],
    };
    if let Some(r) = finding_reason(loaded, checks) {
        // Nothing forces a boot module.
        return match r.find(" (modload -f") {
            Some(at) => format!("{}; a boot module cannot be forced", &r[..at]),
            None => r,
        };
    }
    if next.init_failure(name.as_bytes()) == Some(errno) {
        return format!(
            "its MODULE_CMD_INIT fails with {} (the profile's fail_init)",
            errno.name().unwrap_or("an error")
        );
    }
    if errno == Errno::EEXIST {
        return format!(
            "a module named `{name}' is already active (an earlier boot module or a built-in): \
             this one is initialised, finalised and dropped"
        );
    }
    why.to_string()
}

/// Why `subject` cannot have `dep`, from the refusals before (the
/// requirement's own refusal is the last one about it): a cycle is a
/// cycle, and a requirement that failed for want of its own says so.
fn dependency_reason(subject: &str, dep: &ModName, errno: Errno, before: &[Refusal]) -> String {
    let own = before.iter().rposition(|r| r.module == *dep);
    let Some(at) = own else {
        return dependency_errno_reason(subject, dep, errno);
    };
    let r = &before[at];
    match &r.why {
        Why::BootOnly { in_progress: true } => {
            let mut chain: Vec<String> = r.chain.iter().map(ToString::to_string).collect();
            chain.push(dep.to_string());
            format!(
                "{subject} requires `{dep}', which is being initialised already: a circular \
                 dependency ({})",
                chain.join(" -> ")
            )
        }
        Why::Dependency { dep: next, errno } => {
            let inner = dependency_reason(&format!("`{dep}'"), next, *errno, &before[..at]);
            format!("{subject} requires `{dep}', which the kernel does not initialise: {inner}")
        }
        _ => dependency_errno_reason(subject, dep, errno),
    }
}

/// [`dependency_reason`] when only the errno is known.
fn dependency_errno_reason(subject: &str, dep: &ModName, errno: Errno) -> String {
    if errno == Errno::EOPNOTSUPP {
        format!(
            "{subject} requires `{dep}', which is neither built into the kernel nor loaded by \
             the boot loader; modules are read from the file system only once the root file \
             system is mounted, after the boot modules are initialised"
        )
    } else {
        format!("{subject} requires `{dep}', which the kernel does not initialise ({errno})")
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

impl ModuleResult {
    /// The result in a few words, for the text report.
    fn summary(&self) -> String {
        let called = match &self.name {
            Some(n) if n.as_bytes() != self.operand.as_slice() => format!(" as `{n}'"),
            _ => String::new(),
        };
        match self.status {
            Status::Loaded => {
                let mut how = format!(
                    "{}, pass {}",
                    ordinal(self.nth.unwrap_or(0) + 1),
                    pass_name(self.pass.unwrap_or(ModClass::Any))
                );
                if let Some(d) = &self.dependency_of {
                    how += &format!(", as a dependency of {d}");
                }
                if self.auto_loaded {
                    how += "; flag a";
                }
                format!(
                    "loaded{called} ({how}) from {}",
                    self.file.as_deref().map_or_else(|| "?".into(), text)
                )
            }
            Status::NotPassed => format!(
                "not passed: {}",
                self.reason.as_deref().unwrap_or("not passed")
            ),
            _ => {
                let errno = self
                    .errno
                    .and_then(|e| e.name())
                    .map(|n| format!(" {n}"))
                    .unwrap_or_default();
                format!(
                    "error{errno}{called}: {}",
                    self.reason.as_deref().unwrap_or("")
                )
            }
        }
    }
}

impl Report {
    /// The human report.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        out += &format!("boot.cfg:    {}\n", self.boot_cfg);
        out += &format!("kernel:      {} ({})\n", self.kernel, self.described_by);
        out += &format!("loader path: {}\n", self.loader_path);
        for n in &self.notes {
            out += &format!("note:        {n}\n");
        }
        for e in &self.entries {
            out += "\n";
            let default = if e.default { " (default)" } else { "" };
            match (e.number, &e.desc) {
                (Some(n), Some(d)) => out += &format!("entry {n}{default}: {d}\n"),
                _ => out += &format!("no menu{default}: the load= lines, then boot\n"),
            }
            if let Some(c) = &e.command {
                out += &format!("  commands:   {}\n", text(c));
            }
            match &e.plan.ends {
                Ends::Boots(Some(f)) => out += &format!("  boots:      {f}\n"),
                Ends::Boots(None) => {}
                Ends::Multiboot(k) => out += &format!("  multiboot:  {k}\n"),
                Ends::Stays(why) => out += &format!("  note:       does not boot: {why}\n"),
            }
            for n in &e.plan.notes {
                out += &format!("  note:       {n}\n");
            }
            if e.modules.is_empty() {
                out += "  modules:    none\n";
            }
            let width = e
                .modules
                .iter()
                .map(|m| text(&m.operand).chars().count())
                .max()
                .unwrap_or(0);
            for m in &e.modules {
                let operand = text(&m.operand);
                let pad = width - operand.chars().count();
                out += &format!(
                    "  {}:{} {}\n",
                    operand.escape_debug(),
                    " ".repeat(pad),
                    m.summary()
                );
            }
            if e.checked && !e.modules.is_empty() {
                let order = if e.load_order.is_empty() {
                    "-".to_string()
                } else {
                    let names: Vec<String> = e.load_order.iter().map(ToString::to_string).collect();
                    names.join(" -> ")
                };
                out += &format!("  load order: {order}\n");
            }
            let bad = e
                .modules
                .iter()
                .filter(|m| !matches!(m.status, Status::Loaded | Status::NotPassed))
                .count();
            let verdict = if !e.checked {
                "not checked".to_string()
            } else if !matches!(e.plan.ends, Ends::Boots(_)) {
                // The modules were checked as if it booted; it does not.
                format!(
                    "no kernel boots, so no module is loaded{}",
                    if bad == 0 {
                        String::new()
                    } else {
                        format!(" ({bad} of {} would not load if it did)", e.modules.len())
                    }
                )
            } else if bad == 0 {
                "every module would load".to_string()
            } else {
                format!("{bad} of {} modules would not load", e.modules.len())
            };
            out += &format!("  verdict:    {verdict}\n");
        }
        out
    }

    /// The `--json` report (members written in byte order of their names,
    /// which `object` makes).
    pub fn to_json(&self) -> String {
        let errno_json = |e: Errno| {
            object(vec![
                ("errno", e.0.into()),
                ("message", e.strerror().into()),
                ("name", e.name().into()),
            ])
        };
        // A name that may be absent: `null`, or text and maybe bytes.
        let opt_name = |key, bytes_key, n: &Option<ModName>| match n {
            Some(n) => text_and_bytes(key, bytes_key, n.as_bytes()),
            None => vec![(key, Value::Null)],
        };
        let module = |m: &ModuleResult| {
            object(
                [
                    vec![
                        ("auto_loaded", m.auto_loaded.into()),
                        ("class", m.class.map(class_name).into()),
                        ("console", strings(&m.console)),
                    ],
                    opt_name("dependency_of", "dependency_of_bytes", &m.dependency_of),
                    vec![("error", m.errno.map(errno_json).into())],
                    match &m.file {
                        Some(f) => text_and_bytes("file", "file_bytes", f),
                        None => vec![("file", Value::Null)],
                    },
                    opt_name("name", "name_bytes", &m.name),
                    text_and_bytes("operand", "operand_bytes", &m.operand),
                    vec![
                        ("order", m.nth.map(|n| n as u64 + 1).into()),
                        ("pass", m.pass.map(pass_name).into()),
                        ("reason", m.reason.as_deref().into()),
                        ("status", m.status.name().into()),
                    ],
                    texts_and_bytes("tried", "tried_bytes", &m.tried),
                ]
                .concat(),
            )
        };
        let entry = |e: &EntryReport| {
            let (ends, target) = match &e.plan.ends {
                Ends::Boots(f) => ("boot", f.as_deref().map(Value::from)),
                Ends::Multiboot(k) => ("multiboot", Some(Value::from(k.as_str()))),
                Ends::Stays(why) => ("none", Some(Value::from(why.as_str()))),
            };
            object(
                [
                    vec![("checked", e.checked.into())],
                    match &e.command {
                        Some(c) => text_and_bytes("commands", "commands_bytes", c),
                        None => vec![("commands", Value::Null)],
                    },
                    vec![
                        ("default", e.default.into()),
                        ("description", e.desc.as_deref().into()),
                        ("ends", ends.into()),
                        ("ends_detail", target.into()),
                        ("entry", e.number.map(|n| n as u64).into()),
                    ],
                    texts_and_bytes("load_order", "load_order_bytes", &e.load_order),
                    vec![
                        (
                            "modules",
                            e.modules.iter().map(module).collect::<Vec<_>>().into(),
                        ),
                        ("modules_enabled", e.plan.enabled.into()),
                        ("notes", strings(&e.plan.notes)),
                        ("would_load", e.would_load().into()),
                    ],
                ]
                .concat(),
            )
        };
        let doc = object(vec![
            ("boot_cfg", self.boot_cfg.as_str().into()),
            (
                "default_entry",
                self.default_entry()
                    .and_then(|e| e.number)
                    .map(|n| n as u64)
                    .into(),
            ),
            ("described_by", self.described_by.as_str().into()),
            (
                "entries",
                self.entries.iter().map(entry).collect::<Vec<_>>().into(),
            ),
            ("kernel", self.kernel.as_str().into()),
            ("loader_path", self.loader_path.as_str().into()),
            ("notes", strings(&self.notes)),
            ("schema", REPORT_SCHEMA.into()),
            ("would_load", self.would_load().into()),
        ]);
        doc.to_document()
    }
}

#[cfg(test)]
mod tests;
