//! Reading a `boot.cfg` as the boot loader reads it, and the plan of
//! each menu entry: the modules it loads and how it ends.

use super::*;

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
    pub ignored: Option<Note>,
    /// Lines the loader drops.
    pub notes: Vec<Note>,
}

/// Bytes for a message: what is not UTF-8 shows as U+FFFD.
pub(super) fn text(b: &[u8]) -> String {
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
        ignored: Some(Note::TooLarge { size }),
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
                cfg.notes.push(Note::MenuFull { line: n + 1 });
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
                None => cfg.notes.push(Note::MenuWithoutColon { line: n + 1 }),
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
        cfg.notes.push(Note::NumberedMenu {
            entries: cfg.menu.len(),
        });
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
    Stays(Note),
}

/// What the boot loader does for one entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The loader's list of kernel modules when the kernel starts.
    pub modules: Vec<Vec<u8>>,
    /// Whether the loader passes them (`modules off` stops it).
    pub enabled: bool,
    pub ends: Ends,
    pub notes: Vec<Note>,
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
    notes: Vec<Note>,
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
            return Some(Ends::Stays(Note::Prompt));
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
                self.notes.push(Note::CommandTooLong {
                    command: text(piece),
                    len: piece.len(),
                });
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
                _ => self.notes.push(Note::ModulesFlag { arg: text(arg) }),
            },
            b"boot" | b"pkboot" => return self.boot(arg),
            b"multiboot" => return Some(Ends::Multiboot(text(arg))),
            b"menu" => return Some(Ends::Stays(Note::MenuAgain)),
            b"quit" => return Some(Ends::Stays(Note::Quit)),
            c if OTHER_COMMANDS.iter().any(|o| o.as_bytes() == c) => {}
            b"" => self.notes.push(Note::LeadingBlank { line: text(line) }),
            c => self.notes.push(Note::UnknownCommand { command: text(c) }),
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
            self.notes.push(Note::BootArguments { arg: text(arg) });
            return None;
        }
        if file.is_none() && opts.is_empty() {
            if let Some(def) = self.cfg.default.filter(|_| !self.entered) {
                self.entered = true;
                self.notes.push(if self.current == Some(def) {
                    Note::BootDefaultAgain
                } else {
                    Note::BootDefaultFirst { entry: def + 1 }
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
        Some(c) => run.entry(c).unwrap_or(Ends::Stays(Note::EndsWithoutBoot)),
    };
    Plan {
        modules: run.list.entries().to_vec(),
        enabled: run.enabled,
        ends,
        notes: run.notes,
    }
}

/// Reads and parses the `boot.cfg` at `path`, reading at most one byte
/// more than the loader would take: the file is the user's, and may be
/// huge or endless. What the loader reads from a file system is a
/// regular file; anything else is refused unread, and nothing waits
/// (opened `O_NONBLOCK`, so a FIFO's open does not wait for a writer).
/// `Err` is why.
pub fn read(path: &Path) -> Result<BootCfg, Note> {
    use std::io::Read;
    use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
    let file = std::fs::File::options()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(|e| {
            // Linux says ENXIO for a socket; NetBSD's open, EOPNOTSUPP.
            if std::fs::metadata(path).is_ok_and(|m| m.file_type().is_socket()) {
                Note::Socket
            } else {
                Note::Unreadable(Errno::from_io(&e))
            }
        })?;
    let meta = file
        .metadata()
        .map_err(|e| Note::Unreadable(Errno::from_io(&e)))?;
    let t = meta.file_type();
    if t.is_dir() {
        return Err(Note::Unreadable(Errno::EISDIR));
    }
    if t.is_fifo() {
        return Err(Note::Fifo);
    }
    if t.is_socket() {
        return Err(Note::Socket);
    }
    if !t.is_file() {
        return Err(Note::Device);
    }
    if let Some(ignored) = too_large(meta.len()) {
        return Ok(ignored);
    }
    // The file may have grown since fstat: one byte past the limit is
    // enough to know.
    let mut bytes = Vec::with_capacity(meta.len() as usize + 1);
    file.take(BOOTCFG_MAX_SIZE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Note::Unreadable(Errno::from_io(&e)))?;
    Ok(parse(&bytes))
}
