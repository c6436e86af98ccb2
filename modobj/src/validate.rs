//! The kernel's checks on a module object, as a list of findings.
//!
//! The kernel refuses a bad module with a bare errno and explains only on
//! the console. [`validate`] walks the same checks in the same order
//! (`kobj_load`, `module_fetch_info`, `module_do_load`, `kobj_affix`;
//! netbsd-kernel-abi.md §4.3, §8, §13) and says, for each problem, which
//! errno the kernel would return and why, in plain words.
//!
//! Checks that changed between NetBSD releases take the target kernel's
//! version from a [`Target`], so one file can be judged for NetBSD 8, 9,
//! 10 or -current. Where the version at which behaviour changed is not
//! confirmed, it is a named constant below marked UNVERIFIED.

use std::collections::BTreeSet;

use object::elf;

use crate::kmod::{
    printable, printable_bytes, version_text, ElfClass, Endian, Field, Kmod, Note, Shdr, EI_CLASS,
    EI_DATA, EI_VERSION, EM_486, FILE_CHANGED_ERRNO, FILE_CHANGED_REASON,
};
use libmodctl::errno::Errno;

pub use crate::rules::{version_compatible, KernelRules, RegionRule, Target};
use crate::rules::{AMD64_PLT32_SINCE, MAXMODNAME, MAX_PLIST_FILE, MAX_SHNUM};

/// Where in loading the kernel would trip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// `kobj_load` and `module_fetch_info` (ENOEXEC, EINVAL, ENOENT).
    Load,
    /// The descriptor checks of `module_do_load` (name length, class,
    /// version, required names, self-dependency).
    Info,
    /// `kobj_affix`: symbols and relocations against globals.
    Link,
    /// Not refused by the kernel, but worth knowing.
    Advisory,
}

/// What was checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Check {
    /// The file was truncated while it was being read, so nothing read
    /// from it can be trusted (EINVAL, as a short read; reported alone).
    FileChanged,
    /// The file ends before data the kernel reads (EINVAL).
    Truncated,
    /// No ELF magic.
    NotElf,
    /// `EI_VERSION` or `e_version` is not 1.
    ElfVersion,
    /// `e_type` is not `ET_REL`.
    FileType,
    /// `e_machine` is not one the kernel accepts.
    Machine,
    /// `EI_CLASS` differs from the kernel's (which the kernel ignores).
    ElfClass,
    /// `EI_DATA` differs from the kernel's byte order.
    ByteOrder,
    /// The validator does not know the target machine.
    UnknownMachine,
    /// `e_shnum`, `e_shoff` or `e_shentsize` out of bounds.
    SectionTable,
    /// A relocation section names a target section that does not exist.
    RelocationTarget,
    /// No PROGBITS/NOBITS section at all.
    NoContents,
    /// Not exactly one symbol table, or its string table is invalid.
    SymbolTable,
    /// The symbol table is empty.
    NoSymbols,
    /// The symbol string table is empty.
    NoSymbolStrings,
    /// `e_shstrndx` out of range.
    SectionNames,
    /// `sh_addralign` zero or not a power of two.
    Alignment,
    /// Nothing executable to load.
    NoText,
    /// Nothing writable to load, refused by 7.99-era kernels.
    NoData,
    /// No read-only data to load, refused by 7.99-era kernels.
    NoRodata,
    /// A section the kernel reads lies outside the file (EINVAL).
    ContentOutsideFile,
    /// A defined global symbol already exists in the kernel.
    SymbolClash,
    /// A relocation type the kernel's linker does not implement.
    UnsupportedRelocation,
    /// A relocation against an undefined local symbol.
    LocalUndefined,
    /// An `SHN_COMMON` symbol, which the kernel never allocates.
    CommonSymbol,
    /// Section `link_set_modules` is missing (ENOENT).
    LinkSetMissing,
    /// Section `link_set_modules` is not one pointer in size.
    LinkSetSize,
    /// A descriptor pointer has no usable relocation.
    UnrelocatedPointer,
    /// A descriptor pointer is relocated against a global symbol, which
    /// the kernel applies only after it has read the pointer.
    GlobalPointerReloc,
    /// A descriptor pointer cannot be followed.
    UndecodablePointer,
    /// A descriptor pointer points outside its section.
    PointerOutsideSection,
    /// A descriptor string has no terminating NUL within its section.
    StringWithoutNul,
    /// `mi_name` is 32 characters or longer.
    NameLength,
    /// `mi_name` is empty.
    EmptyName,
    /// `mi_class` out of range.
    Class,
    /// `mi_version` incompatible with the kernel.
    Version,
    /// A required module name of 31 characters or more.
    RequiredLength,
    /// More required modules than an old kernel's fixed array holds.
    TooManyRequired,
    /// The module requires itself.
    SelfDependency,
    /// `mi_modcmd` is NULL.
    NoModcmd,
    /// An undefined global symbol nobody defines.
    UnresolvedSymbol,
    /// A relocation uses an undefined weak symbol.
    WeakUndefined,
    /// A relocation names a symbol index past the symbol table.
    RelocationSymbolIndex,
    /// A relocation writes outside the section it applies to.
    RelocationOffset,
    /// Two sections (or a section and the ELF header or section header
    /// table) share bytes of the file.
    SectionOverlap,
    /// A string table does not end with a NUL, or a name offset lies
    /// outside its string table.
    StringTable,
    /// A non-allocated section with contents, loaded anyway.
    NonAllocSection,
    /// Relocations for a section the kernel does not relocate.
    IgnoredRelocations,
    /// The file's name does not match the module's name.
    FileName,
    /// The `.plist` beside the module is too large.
    PlistTooLarge,
}

/// One problem, as the kernel would see it.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub check: Check,
    pub stage: Stage,
    /// What the kernel would return (for `certain: false` findings, the
    /// errno it most likely returns, or the closest one when the kernel
    /// would misbehave instead of refusing).
    pub errno: Errno,
    /// One line, naming the offending value.
    pub reason: String,
    /// The kernel always refuses this (otherwise: advisory, or the kernel
    /// would misbehave rather than refuse).
    pub certain: bool,
    /// `MODCTL_LOAD_FORCE` (`modload -f`) overrides it (version mismatch).
    pub forceable: bool,
}

impl Finding {
    /// Whether this finding stops a load (with `force`: `modload -f`):
    /// the kernel refuses it, or it would misbehave (read or write outside
    /// the module, call a NULL pointer), which the tools do not risk.
    /// Advisories never stop a load.
    pub fn blocks(&self, force: bool) -> bool {
        self.stage != Stage::Advisory && !(self.forceable && force)
    }

    fn new(check: Check, stage: Stage, errno: Errno, certain: bool, reason: String) -> Finding {
        Finding {
            check,
            stage,
            errno,
            reason,
            certain,
            forceable: false,
        }
    }
}

/// The errno the kernel would return for a module with these findings:
/// that of the first certain finding, skipping forceable ones when the
/// load is forced. `None` when nothing certain stands in the way.
pub fn kernel_errno(findings: &[Finding], force: bool) -> Option<Errno> {
    findings
        .iter()
        .find(|f| f.certain && !(f.forceable && force))
        .map(|f| f.errno)
}

/// The kernel's exceptions to the "global symbol redefined" check.
fn clash_exempt(name: &str) -> bool {
    matches!(
        name,
        "_bss_start"
            | "__bss_start"
            | "_bss_end__"
            | "__bss_end__"
            | "_edata"
            | "_end"
            | "__end"
            | "__end__"
    ) || name.starts_with("__start_link_set_")
        || name.starts_with("__stop_link_set_")
}

/// Undefined global symbols of the module that `is_defined` (the kernel's
/// symbols plus those of the modules it requires) does not provide.
/// Reads the file: ask [`Kmod::changed_while_read`] after.
pub fn unresolved_symbols(k: &Kmod, is_defined: &dyn Fn(&str) -> bool) -> Vec<String> {
    unresolved_names(&k.undefined_globals(), is_defined)
}

/// [`unresolved_symbols`] of a module whose undefined globals are `undefined`.
pub fn unresolved_names(undefined: &[String], is_defined: &dyn Fn(&str) -> bool) -> Vec<String> {
    undefined
        .iter()
        .filter(|n| !is_defined(n))
        .cloned()
        .collect()
}

/// Defined global symbols of the module that already exist (the kernel
/// refuses to load a module redefining one), minus the kernel's
/// exceptions (`__start_link_set_*`, `__stop_link_set_*`, `_end`, ...).
/// Reads the file: ask [`Kmod::changed_while_read`] after.
pub fn clashing_symbols(k: &Kmod, is_defined: &dyn Fn(&str) -> bool) -> Vec<String> {
    clashing_names(&k.defined_globals(), is_defined)
}

/// [`clashing_symbols`] of a module whose defined globals are `defined`.
pub fn clashing_names(defined: &[String], is_defined: &dyn Fn(&str) -> bool) -> Vec<String> {
    defined
        .iter()
        .filter(|n| is_defined(n) && !clash_exempt(n))
        .cloned()
        .collect()
}

/// Symbols the modules a module requires would bring, found where the
/// kernel finds dependencies (`<module_path>/<name>/<name>.kmod`),
/// following their own requirements in turn.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RequiredSymbols {
    /// Defined globals of every required module reached.
    pub defined: BTreeSet<String>,
    /// Required modules that could not be read or decoded.
    pub missing: Vec<String>,
}

/// Collects the defined globals of the modules `k` requires (directly or
/// through other required modules). Each file is read and dropped in
/// turn, so memory stays at one module plus the name sets.
pub fn required_symbols(k: &Kmod, module_path: &str) -> RequiredSymbols {
    let mut out = RequiredSymbols::default();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut queue: Vec<String> = k.modinfo().map(|m| m.required.clone()).unwrap_or_default();
    if let Some(m) = k.modinfo() {
        seen.insert(m.name.clone());
    }
    while let Some(name) = queue.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        let file = crate::path::module_file(module_path, &name);
        let dep = Kmod::open(std::path::Path::new(&file)).ok();
        let found = dep.as_ref().and_then(|dep| {
            let info = dep.modinfo()?;
            let defined = dep.defined_globals();
            // Asked after reading: a file that shrank meanwhile is unreadable.
            (!dep.changed_while_read()).then(|| (defined, info.required.clone()))
        });
        match found {
            Some((defined, required)) => {
                out.defined.extend(defined);
                queue.extend(required);
            }
            None => out.missing.push(name),
        }
    }
    out
}

/// The kernel's checks that need only the file and the target kernel, in
/// the kernel's order; advisories last.
pub fn validate(k: &Kmod, t: &Target) -> Vec<Finding> {
    Validator::new(k, t, None).run()
}

/// [`validate`], plus symbol resolution: `is_defined` says whether a name
/// is defined by the kernel or an already loaded or required module.
/// Clashes are reported where `kobj_load` checks them (before local
/// relocation), unresolved symbols where `kobj_affix` does.
pub fn validate_with_symbols(
    k: &Kmod,
    t: &Target,
    is_defined: &dyn Fn(&str) -> bool,
) -> Vec<Finding> {
    Validator::new(k, t, Some(is_defined)).run()
}

/// The one finding for a file truncated while it was being read.
fn file_changed() -> Finding {
    Finding::new(
        Check::FileChanged,
        Stage::Load,
        FILE_CHANGED_ERRNO,
        true,
        FILE_CHANGED_REASON.to_string(),
    )
}

/// Checks that need the file's location: a file name that does not match
/// the module's name (bare-name loads, autoload and dependencies look for
/// `<name>/<name>.kmod`), and a `.plist` beside it too large to read.
pub fn file_findings(path: &str, k: &Kmod) -> Vec<Finding> {
    let mut out = Vec::new();
    if let Some(mi) = k.modinfo().filter(|_| !k.changed_while_read()) {
        let file = printable(path.rsplit('/').next().unwrap_or(path));
        let stem = file.strip_suffix(".kmod").unwrap_or(&file);
        if stem != mi.name {
            out.push(Finding::new(
                Check::FileName,
                Stage::Advisory,
                Errno::ENOENT,
                false,
                format!(
                    "the file is called `{file}` but the module is named `{}`; loading it by \
                     name, autoloading it or requiring it looks for `{0}/{0}.kmod`",
                    printable(&mi.name)
                ),
            ));
        }
    }
    let plist =
        String::from_utf8_lossy(&crate::plistfile::plist_path(path.as_bytes())).into_owned();
    if let Ok(meta) = std::fs::metadata(&plist) {
        let plist = printable(&plist);
        if meta.len() >= MAX_PLIST_FILE {
            out.push(Finding::new(
                Check::PlistTooLarge,
                Stage::Load,
                Errno::EFBIG,
                true,
                format!(
                    "the property list {plist} is {} bytes; the kernel reads at most {} \
                     (load with -P to skip it)",
                    meta.len(),
                    MAX_PLIST_FILE - 1
                ),
            ));
        }
    }
    out
}

/// What the target machine's kernel expects of an object.
struct MachineRule {
    class: Option<ElfClass>,
    endian: Option<Endian>,
    ems: &'static [u16],
    label: &'static str,
}

/// Maps `hw.machine`/`hw.machine_arch` names to what the kernel accepts
/// (`ELF{32,64}_MACHDEP_ID_CASES`). Ports whose machine name covers both
/// byte orders or both word sizes (evbarm, evbmips, ...) leave those open.
fn machine_rule(machine: &str) -> Option<MachineRule> {
    use ElfClass::{Elf32, Elf64};
    use Endian::{Big, Little};
    let m = machine;
    let rule = |class, endian, ems, label| {
        Some(MachineRule {
            class,
            endian,
            ems,
            label,
        })
    };
    match m {
        "amd64" | "x86_64" => rule(
            Some(Elf64),
            Some(Little),
            &[elf::EM_X86_64],
            "EM_X86_64 (62)",
        ),
        "i386" | "i486" | "i586" | "i686" => rule(
            Some(Elf32),
            Some(Little),
            &[elf::EM_386, EM_486],
            "EM_386 (3) or EM_486 (6)",
        ),
        "aarch64" => rule(
            Some(Elf64),
            Some(Little),
            &[elf::EM_AARCH64],
            "EM_AARCH64 (183)",
        ),
        "aarch64eb" => rule(
            Some(Elf64),
            Some(Big),
            &[elf::EM_AARCH64],
            "EM_AARCH64 (183)",
        ),
        "evbarm" => rule(
            None,
            None,
            &[elf::EM_ARM, elf::EM_AARCH64],
            "EM_ARM (40) or EM_AARCH64 (183)",
        ),
        _ if m.starts_with("earm") || m.starts_with("arm") => {
            let endian = if m.contains("eb") { Big } else { Little };
            rule(Some(Elf32), Some(endian), &[elf::EM_ARM], "EM_ARM (40)")
        }
        "powerpc" | "macppc" | "evbppc" | "ofppc" | "prep" | "bebox" | "amigappc" | "ibmnws"
        | "mvmeppc" | "rs6000" | "sandpoint" => {
            rule(Some(Elf32), Some(Big), &[elf::EM_PPC], "EM_PPC (20)")
        }
        "powerpc64" => rule(Some(Elf64), Some(Big), &[elf::EM_PPC64], "EM_PPC64 (21)"),
        "sparc64" => rule(
            Some(Elf64),
            Some(Big),
            &[elf::EM_SPARCV9],
            "EM_SPARCV9 (43)",
        ),
        "sparc" => rule(
            Some(Elf32),
            Some(Big),
            &[elf::EM_SPARC, elf::EM_SPARC32PLUS],
            "EM_SPARC (2)",
        ),
        "riscv" | "riscv64" => rule(
            Some(Elf64),
            Some(Little),
            &[elf::EM_RISCV],
            "EM_RISCV (243)",
        ),
        _ if m.starts_with("mips") || m.ends_with("mips") || m == "pmax" || m == "sgimips" => {
            rule(None, None, &[elf::EM_MIPS], "EM_MIPS (8)")
        }
        _ => None,
    }
}

/// The ELF header as a kernel of the target's class and byte order reads
/// it: the kernel checks neither `EI_CLASS` nor `EI_DATA`.
#[derive(Debug, Clone, Copy)]
struct KernelHeader {
    ei_version: u8,
    e_type: u16,
    e_machine: u16,
    e_version: u32,
    e_shoff: u64,
    e_shentsize: u16,
    e_shnum: u16,
    e_shstrndx: u16,
}

fn kernel_header(data: &[u8], class: ElfClass, endian: Endian) -> Option<KernelHeader> {
    let u16_at = |o: usize| {
        let b: [u8; 2] = data.get(o..o + 2)?.try_into().ok()?;
        Some(match endian {
            Endian::Little => u16::from_le_bytes(b),
            Endian::Big => u16::from_be_bytes(b),
        })
    };
    let u32_at = |o: usize| {
        let b: [u8; 4] = data.get(o..o + 4)?.try_into().ok()?;
        Some(match endian {
            Endian::Little => u32::from_le_bytes(b),
            Endian::Big => u32::from_be_bytes(b),
        })
    };
    let u64_at = |o: usize| {
        let b: [u8; 8] = data.get(o..o + 8)?.try_into().ok()?;
        Some(match endian {
            Endian::Little => u64::from_le_bytes(b),
            Endian::Big => u64::from_be_bytes(b),
        })
    };
    let (shoff, rest) = match class {
        ElfClass::Elf64 => (u64_at(0x28)?, 0x3A),
        ElfClass::Elf32 => (u64::from(u32_at(0x20)?), 0x2E),
    };
    Some(KernelHeader {
        ei_version: *data.get(EI_VERSION)?,
        e_type: u16_at(0x10)?,
        e_machine: u16_at(0x12)?,
        e_version: u32_at(0x14)?,
        e_shoff: shoff,
        e_shentsize: u16_at(rest)?,
        e_shnum: u16_at(rest + 2)?,
        e_shstrndx: u16_at(rest + 4)?,
    })
}

/// "an amd64 kernel", "a sparc64 kernel".
fn kernel_for(machine: &str) -> String {
    let article = if machine.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {machine} kernel")
}

fn e_type_name(t: u16) -> &'static str {
    match t {
        elf::ET_NONE => "ET_NONE, no file type",
        elf::ET_REL => "ET_REL, relocatable",
        elf::ET_EXEC => "ET_EXEC, an executable",
        elf::ET_DYN => "ET_DYN, a shared object",
        elf::ET_CORE => "ET_CORE, a core dump",
        _ => "unknown",
    }
}

fn class_names(max: i32) -> &'static str {
    if max > 6 {
        "1-6: misc, vfs, driver, exec, secmodel, bufq"
    } else {
        "1-5: misc, vfs, driver, exec, secmodel"
    }
}

fn section_label(elf: &crate::kmod::Elf<'_>, s: &Shdr) -> String {
    match elf.section_name(s) {
        Some(n) if !n.is_empty() => format!("section {} ({})", s.index, printable_bytes(n)),
        _ => format!("section {}", s.index),
    }
}

/// " (3 such relocations)" when there is more than one of a problem.
fn also(count: u64, what: &str) -> String {
    if count > 1 {
        format!(" ({count} such {what})")
    } else {
        String::new()
    }
}

/// Bytes a relocation type stores at its place: exact for the machines
/// whose kernel linker is modelled (amd64, i386), else one byte, so that
/// only a place starting outside its section is flagged.
fn reloc_width(em: u16, class: ElfClass, r_type: u32) -> u64 {
    match (em, class) {
        (elf::EM_X86_64, ElfClass::Elf64) => match r_type {
            elf::R_X86_64_NONE => 0,
            elf::R_X86_64_64
            | elf::R_X86_64_GLOB_DAT
            | elf::R_X86_64_JUMP_SLOT
            | elf::R_X86_64_RELATIVE
            | elf::R_X86_64_PC64 => 8,
            _ => 4,
        },
        (elf::EM_386 | EM_486, _) => match r_type {
            elf::R_386_NONE => 0,
            _ => 4,
        },
        _ => 1,
    }
}

/// First place and count of one kind of relocation problem.
struct RelocTally {
    first_section: u32,
    first_offset: u64,
    symbol: String,
    sym_index: u32,
    count: u64,
}

/// Distinct relocation problems reported per pass.
const MAX_RELOC_KINDS: usize = 16;

struct Validator<'k, 'f> {
    k: &'k Kmod,
    t: &'k Target,
    rules: KernelRules,
    symbols: Option<&'f dyn Fn(&str) -> bool>,
    out: Vec<Finding>,
    advisories: Vec<Finding>,
}

impl<'k, 'f> Validator<'k, 'f> {
    fn new(k: &'k Kmod, t: &'k Target, symbols: Option<&'f dyn Fn(&str) -> bool>) -> Self {
        Validator {
            k,
            t,
            rules: KernelRules::for_target(t),
            symbols,
            out: Vec::new(),
            advisories: Vec::new(),
        }
    }

    fn push(&mut self, check: Check, stage: Stage, errno: Errno, certain: bool, reason: String) {
        let f = Finding::new(check, stage, errno, certain, reason);
        if stage == Stage::Advisory {
            self.advisories.push(f);
        } else {
            self.out.push(f);
        }
    }

    fn run(mut self) -> Vec<Finding> {
        self.check();
        // Asked last, after every read above: findings about zeros that
        // stood in for a truncated file's contents would only mislead.
        if self.k.changed_while_read() {
            return vec![file_changed()];
        }
        let mut out = self.out;
        out.append(&mut self.advisories);
        out
    }

    fn check(&mut self) {
        let data = self.k.bytes();
        let rule = machine_rule(&self.t.machine);
        if rule.is_none() {
            self.push(
                Check::UnknownMachine,
                Stage::Advisory,
                Errno::ENOEXEC,
                false,
                format!(
                    "the validator does not know which objects a `{}` kernel accepts; machine, \
                     class and byte order were not checked",
                    self.t.machine
                ),
            );
        }
        let file_class = match data.get(EI_CLASS) {
            Some(&elf::ELFCLASS32) => Some(ElfClass::Elf32),
            Some(&elf::ELFCLASS64) => Some(ElfClass::Elf64),
            _ => None,
        };
        let file_endian = match data.get(EI_DATA) {
            Some(&elf::ELFDATA2LSB) => Some(Endian::Little),
            Some(&elf::ELFDATA2MSB) => Some(Endian::Big),
            _ => None,
        };
        // The kernel reads the header in its own layout.
        let kclass = rule
            .as_ref()
            .and_then(|r| r.class)
            .or(file_class)
            .unwrap_or(ElfClass::Elf64);
        let kendian = rule
            .as_ref()
            .and_then(|r| r.endian)
            .or(file_endian)
            .unwrap_or(Endian::Little);
        let ehdr = match kclass {
            ElfClass::Elf32 => 52,
            ElfClass::Elf64 => 64,
        };
        if (data.len() as u64) < ehdr {
            self.push(
                Check::Truncated,
                Stage::Load,
                Errno::EINVAL,
                true,
                format!(
                    "the file is {} bytes, shorter than the {ehdr}-byte ELF header the kernel reads",
                    data.len()
                ),
            );
            return;
        }
        if data[..4] != elf::ELFMAG {
            self.push(
                Check::NotElf,
                Stage::Load,
                Errno::ENOEXEC,
                true,
                format!(
                    "not an ELF object: it starts with {:02x} {:02x} {:02x} {:02x}, not 7f 45 4c 46",
                    data[0], data[1], data[2], data[3]
                ),
            );
            return;
        }
        let Some(kh) = kernel_header(data, kclass, kendian) else {
            return;
        };
        if kh.ei_version != 1 || kh.e_version != 1 {
            self.push(
                Check::ElfVersion,
                Stage::Load,
                Errno::ENOEXEC,
                true,
                format!(
                    "unsupported ELF version {} (header version {}); only version 1 exists",
                    kh.ei_version, kh.e_version
                ),
            );
        }
        if kh.e_type != elf::ET_REL {
            self.push(
                Check::FileType,
                Stage::Load,
                Errno::ENOEXEC,
                true,
                format!(
                    "file type is {} ({}); a module must be a relocatable object (ET_REL, as \
                     made by ld -r)",
                    kh.e_type,
                    e_type_name(kh.e_type)
                ),
            );
        }
        if let Some(rule) = &rule {
            if !rule.ems.contains(&kh.e_machine) {
                let file_em = self.k.e_machine().unwrap_or(kh.e_machine);
                self.push(
                    Check::Machine,
                    Stage::Load,
                    Errno::ENOEXEC,
                    true,
                    format!(
                        "built for {} (e_machine {file_em}); {} accepts only {}",
                        crate::kmod::Machine::from_e_machine(file_em).name(),
                        kernel_for(&self.t.machine),
                        rule.label
                    ),
                );
            }
        }
        let mismatched_class = matches!((rule.as_ref().and_then(|r| r.class), file_class), (Some(a), Some(b)) if a != b)
            || file_class.is_none();
        let mismatched_endian = matches!((rule.as_ref().and_then(|r| r.endian), file_endian), (Some(a), Some(b)) if a != b)
            || file_endian.is_none();
        if mismatched_class {
            let had_certain = self.out.iter().any(|f| f.certain);
            let file = file_class.map_or_else(
                || format!("an invalid class ({})", data[EI_CLASS]),
                |c| c.name().to_string(),
            );
            self.push(
                Check::ElfClass,
                Stage::Load,
                Errno::ENOEXEC,
                !had_certain,
                format!(
                    "the object is {file} but {} reads every module as {}; it does not check \
                     the class and misreads the header",
                    kernel_for(&self.t.machine),
                    kclass.name()
                ),
            );
        }
        if mismatched_endian {
            let had_certain = self.out.iter().any(|f| f.certain);
            let file = file_endian.map_or_else(
                || format!("of invalid byte order ({})", data[EI_DATA]),
                |e| e.name().to_string(),
            );
            self.push(
                Check::ByteOrder,
                Stage::Load,
                Errno::ENOEXEC,
                !had_certain,
                format!(
                    "the object is {file} but {} is {}; it would misread every field",
                    kernel_for(&self.t.machine),
                    kendian.name()
                ),
            );
        }
        if mismatched_class || mismatched_endian {
            // Nothing further the kernel does with this file is meaningful.
            return;
        }
        if kh.e_shnum == 0
            || kh.e_shnum > MAX_SHNUM
            || kh.e_shoff == 0
            || u64::from(kh.e_shentsize) != self.k.elf().map_or(0, |e| e.shdr_size())
        {
            let want = self.k.elf().map_or(0, |e| e.shdr_size());
            let why = if kh.e_shnum == 0 {
                "e_shnum is 0 (no sections, or extended numbering the kernel does not support)"
                    .to_string()
            } else if kh.e_shnum > MAX_SHNUM {
                format!(
                    "e_shnum is {}, more than the kernel's limit of {MAX_SHNUM}",
                    kh.e_shnum
                )
            } else if kh.e_shoff == 0 {
                "e_shoff is 0: there is no section header table".to_string()
            } else {
                format!(
                    "e_shentsize is {}, not the {want} bytes of a section header",
                    kh.e_shentsize
                )
            };
            self.push(
                Check::SectionTable,
                Stage::Load,
                Errno::ENOEXEC,
                true,
                format!("bad section table: {why}"),
            );
            return;
        }
        let Some(elf) = self.k.elf() else { return };
        if !elf.table_ok() {
            self.push(
                Check::Truncated,
                Stage::Load,
                Errno::EINVAL,
                true,
                format!(
                    "the section header table ({} entries at offset {:#x}) extends past the end \
                     of the file ({} bytes)",
                    kh.e_shnum,
                    kh.e_shoff,
                    self.k.file_size()
                ),
            );
            return;
        }
        self.sections(&elf, kh.e_shstrndx);
    }

    fn label(&self, elf: &crate::kmod::Elf<'_>, s: &Shdr) -> String {
        section_label(elf, s)
    }

    /// `kobj_load` from the section scan on, then the descriptor.
    fn sections(&mut self, elf: &crate::kmod::Elf<'_>, shstrndx: u16) {
        let shnum = u32::from(elf.l.e_shnum);
        let shdrs = || (0..shnum).filter_map(|i| elf.shdr(i));
        let mut nprogtab = 0u32;
        let mut symtabs = Vec::new();
        for s in shdrs() {
            match s.sh_type {
                elf::SHT_PROGBITS | elf::SHT_NOBITS => nprogtab += 1,
                elf::SHT_SYMTAB => symtabs.push(s),
                elf::SHT_REL | elf::SHT_RELA if s.info >= shnum => {
                    let label = self.label(elf, &s);
                    self.push(
                        Check::RelocationTarget,
                        Stage::Load,
                        Errno::ENOEXEC,
                        false,
                        format!(
                            "relocation {label} applies to section {}, which does not exist; the \
                             kernel reads a section header past the end of its table",
                            s.info
                        ),
                    );
                }
                _ => {}
            }
        }
        if nprogtab == 0 {
            self.push(
                Check::NoContents,
                Stage::Load,
                Errno::ENOEXEC,
                true,
                "the file has no contents: no PROGBITS or NOBITS section".into(),
            );
        }
        let symtab = symtabs.first().copied();
        if symtabs.len() != 1 {
            let why = if symtabs.is_empty() {
                "the file has no symbol table (SHT_SYMTAB); was it stripped?".to_string()
            } else {
                format!(
                    "the file has {} symbol tables; the kernel accepts exactly one",
                    symtabs.len()
                )
            };
            self.push(Check::SymbolTable, Stage::Load, Errno::ENOEXEC, true, why);
        }
        let mut strtab_ok = false;
        if let Some(st) = symtab {
            let link = elf
                .shdr(st.link)
                .filter(|l| st.link != 0 && l.sh_type == elf::SHT_STRTAB);
            match link {
                None => self.push(
                    Check::SymbolTable,
                    Stage::Load,
                    Errno::ENOEXEC,
                    true,
                    format!(
                        "the symbol table's string table (sh_link {}) is not a valid string table section",
                        st.link
                    ),
                ),
                Some(strtab) => {
                    if elf.symbol_count(&st) == 0 {
                        self.push(
                            Check::NoSymbols,
                            Stage::Load,
                            Errno::ENOEXEC,
                            true,
                            "the symbol table has no entries".into(),
                        );
                    } else if !elf.within_file(st.offset, elf.symbol_count(&st) * elf.sym_size()) {
                        self.push_outside(elf, &st);
                    }
                    if strtab.size == 0 {
                        self.push(
                            Check::NoSymbolStrings,
                            Stage::Load,
                            Errno::ENOEXEC,
                            true,
                            "the symbol string table is empty".into(),
                        );
                    } else if !elf.within_file(strtab.offset, strtab.size) {
                        self.push_outside(elf, &strtab);
                    } else {
                        strtab_ok = true;
                    }
                }
            }
        }
        if shstrndx != elf::SHN_UNDEF {
            if u32::from(shstrndx) >= shnum {
                self.push(
                    Check::SectionNames,
                    Stage::Load,
                    Errno::ENOEXEC,
                    true,
                    format!("e_shstrndx is {shstrndx} but there are only {shnum} sections"),
                );
            } else if let Some(t) = elf.shstrtab() {
                if !elf.within_file(t.offset, t.size) {
                    self.push_outside(elf, &t);
                }
            }
        }
        self.regions(elf);
        if strtab_ok {
            if let Some(st) = symtab {
                self.string_tables(elf, &st);
            }
        }
        self.overlaps(elf);
        // Section contents and relocation tables, read in section order.
        for s in shdrs() {
            let relocs = (s.sh_type == elf::SHT_REL || s.sh_type == elf::SHT_RELA)
                && elf
                    .shdr(s.info)
                    .is_some_and(|t| t.sh_type == elf::SHT_PROGBITS);
            if (s.sh_type == elf::SHT_PROGBITS || relocs) && !elf.within_file(s.offset, s.size) {
                self.push_outside(elf, &s);
            }
        }
        if let (Some(is_defined), Some(_)) = (self.symbols, symtab) {
            for name in clashing_symbols(self.k, is_defined)
                .iter()
                .map(|n| printable(n))
            {
                self.push(
                    Check::SymbolClash,
                    Stage::Load,
                    Errno::ENOEXEC,
                    true,
                    format!(
                        "the module defines global symbol `{name}`, which the kernel or a loaded \
                         module already defines"
                    ),
                );
            }
        }
        let link_findings = match symtab {
            Some(st) if strtab_ok || elf.shdr(st.link).is_some() => self.relocations(elf, &st),
            _ => Vec::new(),
        };
        self.descriptor(elf);
        self.out.extend(link_findings);
        if let (Some(is_defined), Some(_)) = (self.symbols, symtab) {
            for name in unresolved_symbols(self.k, is_defined)
                .iter()
                .map(|n| printable(n))
            {
                self.push(
                    Check::UnresolvedSymbol,
                    Stage::Link,
                    Errno::ENOEXEC,
                    true,
                    format!(
                        "undefined symbol `{name}` is defined neither by the kernel nor by a \
                         loaded or required module"
                    ),
                );
            }
        }
        self.advisory_sections(elf);
    }

    fn push_outside(&mut self, elf: &crate::kmod::Elf<'_>, s: &Shdr) {
        let label = self.label(elf, s);
        self.push(
            Check::ContentOutsideFile,
            Stage::Load,
            Errno::EINVAL,
            true,
            format!(
                "{label} ({} bytes at offset {:#x}) extends past the end of the file ({} bytes); \
                 the file is truncated",
                s.size,
                s.offset,
                elf.data.len()
            ),
        );
    }

    /// Names the kernel reads run to a NUL inside their table: the last
    /// byte of each string table is NUL and every name offset lies inside
    /// it (else the kernel reads names from outside the module).
    fn string_tables(&mut self, elf: &crate::kmod::Elf<'_>, symtab: &Shdr) {
        let shnum = u32::from(elf.l.e_shnum);
        if let Some(strtab) = elf.shdr(symtab.link) {
            self.string_table(elf, &strtab, "symbol string table");
            let mut bad: Option<(u32, u32)> = None;
            let mut count = 0u64;
            let symcount = elf.symbol_count(symtab).min(u64::from(u32::MAX)) as u32;
            for i in 1..symcount {
                let Some(sym) = elf.symbol(symtab, i) else {
                    break;
                };
                if u64::from(sym.name) >= strtab.size {
                    bad.get_or_insert((i, sym.name));
                    count += 1;
                }
            }
            if let Some((i, name)) = bad {
                let label = self.label(elf, &strtab);
                self.push(
                    Check::StringTable,
                    Stage::Load,
                    Errno::ENOEXEC,
                    false,
                    format!(
                        "symbol {i} has name offset {name:#x} but its string table, {label}, is \
                         {} bytes; the kernel would read the name from outside the module{}",
                        strtab.size,
                        also(count, "symbols")
                    ),
                );
            }
        }
        if let Some(names) = elf.shstrtab().filter(|t| elf.within_file(t.offset, t.size)) {
            self.string_table(elf, &names, "section-name table");
            let bad: Vec<Shdr> = (0..shnum)
                .filter_map(|i| elf.shdr(i))
                .filter(|s| u64::from(s.name) >= names.size)
                .collect();
            if let Some(s) = bad.first() {
                let label = self.label(elf, &names);
                self.push(
                    Check::StringTable,
                    Stage::Load,
                    Errno::ENOEXEC,
                    false,
                    format!(
                        "section {} has name offset {:#x} but the section-name table, {label}, \
                         is {} bytes; the kernel would read the name from outside the module{}",
                        s.index,
                        s.name,
                        names.size,
                        also(bad.len() as u64, "sections")
                    ),
                );
            }
        }
    }

    fn string_table(&mut self, elf: &crate::kmod::Elf<'_>, t: &Shdr, what: &str) {
        let terminated = elf
            .contents(t)
            .is_none_or(|b| b.last().is_none_or(|&c| c == 0));
        if !terminated {
            let label = self.label(elf, t);
            self.push(
                Check::StringTable,
                Stage::Load,
                Errno::ENOEXEC,
                false,
                format!(
                    "the {what}, {label}, does not end with a NUL byte; the kernel would read its \
                     last name past the end of the table"
                ),
            );
        }
    }

    /// No two sections share bytes of the file, nor with the ELF header or
    /// the section header table. The kernel would not notice, but no linker
    /// writes such a file: what it would load is not what was built.
    fn overlaps(&mut self, elf: &crate::kmod::Elf<'_>) {
        let shnum = u32::from(elf.l.e_shnum);
        // (start, end, section index or 0 for the ELF header and the
        // section header table)
        let mut ranges: Vec<(u64, u64, u32)> = Vec::new();
        let ehdr = match elf.l.class {
            ElfClass::Elf32 => 52,
            ElfClass::Elf64 => 64,
        };
        ranges.push((0, ehdr, 0));
        let table_end = elf
            .l
            .e_shoff
            .saturating_add(u64::from(shnum) * elf.shdr_size());
        ranges.push((elf.l.e_shoff, table_end, 0));
        for s in (1..shnum).filter_map(|i| elf.shdr(i)) {
            if s.sh_type == elf::SHT_NOBITS || s.sh_type == elf::SHT_NULL || s.size == 0 {
                continue;
            }
            if let Some(end) = s.offset.checked_add(s.size) {
                ranges.push((s.offset, end, s.index));
            }
        }
        ranges.sort_unstable();
        let name = |r: &(u64, u64, u32)| match elf.shdr(r.2).filter(|_| r.2 != 0) {
            Some(s) => section_label(elf, &s),
            None if r.0 == 0 && r.1 == ehdr => "the ELF header".to_string(),
            None => "the section header table".to_string(),
        };
        let mut count = 0u64;
        let mut first: Option<(usize, usize)> = None;
        // The range reaching furthest so far; a later start before its end
        // is an overlap.
        let mut reach = 0usize;
        for i in 1..ranges.len() {
            if ranges[i].0 < ranges[reach].1 {
                count += 1;
                first.get_or_insert((reach, i));
            }
            if ranges[i].1 > ranges[reach].1 {
                reach = i;
            }
        }
        if let Some((a, b)) = first {
            let (ra, rb) = (&ranges[a], &ranges[b]);
            self.push(
                Check::SectionOverlap,
                Stage::Load,
                Errno::ENOEXEC,
                false,
                format!(
                    "{} (file bytes {:#x}-{:#x}) overlaps {} ({:#x}-{:#x}); no linker writes \
                     such a file, so what the kernel would load is not what was built{}",
                    name(rb),
                    rb.0,
                    rb.1,
                    name(ra),
                    ra.0,
                    ra.1,
                    also(count, "overlaps")
                ),
            );
        }
    }

    fn regions(&mut self, elf: &crate::kmod::Elf<'_>) {
        for s in (0..u32::from(elf.l.e_shnum)).filter_map(|i| elf.shdr(i)) {
            if !s.is_progtab() {
                continue;
            }
            let a = s.addralign;
            if a == 0 || !a.is_power_of_two() || a > 1 << 30 {
                let label = self.label(elf, &s);
                self.push(
                    Check::Alignment,
                    Stage::Load,
                    Errno::ENOEXEC,
                    false,
                    format!(
                        "{label} has alignment {a}, not a power of two; the kernel's layout \
                         arithmetic would misplace it or miscount the module's size"
                    ),
                );
            }
        }
        let r = elf.regions();
        if self.rules.regions == RegionRule::SingleRegion {
            if r.single == 0 {
                let why = "no text, data or bss: every loadable section is empty";
                self.push(Check::NoText, Stage::Load, Errno::ENOEXEC, true, why.into());
            }
            return;
        }
        if r.text == 0 {
            let why = format!(
                "no text: no executable section has contents (this kernel loads code only \
                 from SHF_EXECINSTR sections; the module has {} bytes of other data)",
                r.single
            );
            self.push(Check::NoText, Stage::Load, Errno::ENOEXEC, true, why);
        }
        if self.rules.regions == RegionRule::EveryRegionRequired {
            if r.data == 0 {
                let why = "no data/bss: no writable section (.data, .bss) has contents, \
                           and this kernel refuses a module without one";
                self.push(Check::NoData, Stage::Load, Errno::ENOEXEC, true, why.into());
            }
            if r.rodata == 0 {
                let why = "no rodata: no read-only data section (.rodata, link_set_modules) \
                           has contents, and this kernel refuses a module without one";
                self.push(
                    Check::NoRodata,
                    Stage::Load,
                    Errno::ENOEXEC,
                    true,
                    why.into(),
                );
            }
        }
    }

    /// The relocation passes: local relocations (in `kobj_load`) are
    /// reported now; global ones (in `kobj_affix`) are returned for later.
    fn relocations(&mut self, elf: &crate::kmod::Elf<'_>, symtab: &Shdr) -> Vec<Finding> {
        let em = elf.l.e_machine;
        let symcount = elf.symbol_count(symtab);
        // In order of first occurrence: the kernel stops at the first.
        let mut local_bad: Vec<((Check, u32), RelocTally)> = Vec::new();
        let mut global_bad: Vec<((Check, u32), RelocTally)> = Vec::new();
        let mut out_of_range: Option<RelocTally> = None;
        let mut outside: Option<(RelocTally, u64)> = None;
        let mut last_sym: Option<(u32, crate::kmod::SymEnt)> = None;
        let mut last_type: Option<(u32, u64, Option<bool>)> = None;
        let shnum = u32::from(elf.l.e_shnum);
        // The kernel relocates all REL sections, then all RELA sections.
        for want in [elf::SHT_REL, elf::SHT_RELA] {
            for rs in (0..shnum).filter_map(|i| elf.shdr(i)) {
                let target = elf
                    .shdr(rs.info)
                    .filter(|t| rs.sh_type == want && t.sh_type == elf::SHT_PROGBITS);
                let Some(target) = target else {
                    continue;
                };
                for r in elf.relocs(&rs) {
                    // Likewise a few types: look each run's up once.
                    let (width, accepted) = match last_type {
                        Some((t, w, a)) if t == r.r_type => (w, a),
                        _ => {
                            let w = reloc_width(em, elf.l.class, r.r_type);
                            let a = self.rules.accepts_relocation(em, r.r_type);
                            last_type = Some((r.r_type, w, a));
                            (w, a)
                        }
                    };
                    let fits = r
                        .offset
                        .checked_add(width)
                        .is_some_and(|end| end <= target.size);
                    if !fits && u64::from(r.sym) < symcount {
                        let t = outside.get_or_insert((
                            RelocTally {
                                first_section: rs.info,
                                first_offset: r.offset,
                                symbol: String::new(),
                                sym_index: r.sym,
                                count: 0,
                            },
                            width,
                        ));
                        t.0.count += 1;
                    }
                    if u64::from(r.sym) >= symcount {
                        let t = out_of_range.get_or_insert(RelocTally {
                            first_section: rs.info,
                            first_offset: r.offset,
                            symbol: r.sym.to_string(),
                            sym_index: r.sym,
                            count: 0,
                        });
                        t.count += 1;
                        continue;
                    }
                    // Relocations mostly name a few symbols (section
                    // symbols); decode each run's symbol once.
                    let sym = match last_sym {
                        Some((i, sym)) if i == r.sym => sym,
                        _ => {
                            let Some(sym) = elf.symbol(symtab, r.sym) else {
                                continue;
                            };
                            last_sym = Some((r.sym, sym));
                            sym
                        }
                    };
                    let local = sym.bind == elf::STB_LOCAL;
                    let name = || {
                        elf.symbol_name(symtab, &sym)
                            .map(printable_bytes)
                            .unwrap_or_default()
                    };
                    let mut problem = None;
                    if accepted == Some(false) {
                        problem = Some(Check::UnsupportedRelocation);
                    } else if sym.shndx == elf::SHN_UNDEF && r.sym != 0 {
                        if local {
                            problem = Some(Check::LocalUndefined);
                        } else if sym.bind == elf::STB_WEAK {
                            problem = Some(Check::WeakUndefined);
                        } else if sym.bind != elf::STB_GLOBAL {
                            problem = Some(Check::UnresolvedSymbol);
                        }
                    }
                    let Some(check) = problem else { continue };
                    let table = if local {
                        &mut local_bad
                    } else {
                        &mut global_bad
                    };
                    let key = (
                        check,
                        if check == Check::UnsupportedRelocation {
                            r.r_type
                        } else {
                            0
                        },
                    );
                    // The kernel stops at the first; a few kinds are plenty
                    // and keep this linear on hostile files.
                    let full = table.len() >= MAX_RELOC_KINDS;
                    match table.iter_mut().find(|(k, _)| *k == key) {
                        Some((_, t)) => t.count += 1,
                        None if !full => table.push((
                            key,
                            RelocTally {
                                first_section: rs.info,
                                first_offset: r.offset,
                                symbol: name(),
                                sym_index: r.sym,
                                count: 1,
                            },
                        )),
                        None => {}
                    }
                }
            }
        }
        let label = |sec: u32| match elf.shdr(sec) {
            Some(s) => section_label(elf, &s),
            None => format!("section {sec}"),
        };
        let machine = self.t.machine.clone();
        let describe = |(check, key): (Check, u32),
                        t: &RelocTally,
                        local: bool|
         -> (Check, String) {
            let at = format!("{}+{:#x}", label(t.first_section), t.first_offset);
            let more = if t.count > 1 {
                format!(" ({} such relocations)", t.count)
            } else {
                String::new()
            };
            let against = if t.symbol.is_empty() {
                String::new()
            } else {
                format!(" against `{}`", t.symbol)
            };
            let reason = match check {
                Check::UnsupportedRelocation => {
                    let name = crate::kmod::reloc_name(em, key).unwrap_or("unknown");
                    let hint = if em == elf::EM_X86_64 && key == elf::R_X86_64_PLT32 {
                        format!(
                            "; kernels before NetBSD {} do not know it (newer binutils emit it for calls)",
                            version_text(AMD64_PLT32_SINCE)
                        )
                    } else {
                        String::new()
                    };
                    format!(
                        "relocation type {key} ({name}) at {at}{against} is not supported by the \
                         {machine} kernel's linker{hint}{more}"
                    )
                }
                Check::LocalUndefined => format!("relocation at {at} uses local symbol {}, which is undefined{more}", t.sym_index),
                Check::WeakUndefined => format!(
                    "relocation at {at}{against}: the symbol is an undefined weak symbol, which the \
                     kernel's linker does not support{more}"
                ),
                _ => format!("relocation at {at}{against} uses an undefined symbol of unusual binding{more}"),
            };
            let _ = local;
            (check, reason)
        };
        for (key, t) in &local_bad {
            let (check, reason) = describe(*key, t, true);
            self.push(check, Stage::Load, Errno::ENOEXEC, true, reason);
        }
        if let Some(t) = out_of_range {
            self.push(
                Check::RelocationSymbolIndex,
                Stage::Load,
                Errno::ENOEXEC,
                false,
                format!(
                    "relocation at {}+{:#x} names symbol {} but the symbol table has {symcount} \
                     entries; the kernel silently skips it and leaves the place unrelocated{}",
                    label(t.first_section),
                    t.first_offset,
                    t.symbol,
                    also(t.count, "relocations")
                ),
            );
        }
        if let Some((t, width)) = outside {
            let size = elf.shdr(t.first_section).map_or(0, |s| s.size);
            self.push(
                Check::RelocationOffset,
                Stage::Load,
                Errno::ENOEXEC,
                false,
                format!(
                    "a relocation of {} at offset {:#x} writes {width} bytes but the section is \
                     only {size} bytes long; the kernel would write outside the module{}",
                    label(t.first_section),
                    t.first_offset,
                    also(t.count, "relocations")
                ),
            );
        }
        // SHN_COMMON symbols never get storage in the kernel.
        let mut commons = Vec::new();
        for i in 1..symcount.min(u64::from(u32::MAX)) as u32 {
            let Some(sym) = elf.symbol(symtab, i) else {
                break;
            };
            if sym.shndx == elf::SHN_COMMON && commons.len() < 4 {
                let name = elf.symbol_name(symtab, &sym).unwrap_or_default();
                commons.push(printable_bytes(name));
            }
        }
        if !commons.is_empty() {
            self.push(
                Check::CommonSymbol,
                Stage::Load,
                Errno::ENOEXEC,
                false,
                format!(
                    "common symbol `{}` has no storage: the kernel does not allocate SHN_COMMON \
                     symbols (link with ld -r -d)",
                    commons.join("`, `")
                ),
            );
        }
        global_bad
            .iter()
            .map(|(key, t)| {
                let (check, reason) = describe(*key, t, false);
                Finding::new(check, Stage::Link, Errno::ENOEXEC, true, reason)
            })
            .collect()
    }

    /// `module_fetch_info` and the descriptor checks of `module_do_load`.
    fn descriptor(&mut self, _elf: &crate::kmod::Elf<'_>) {
        let notes: Vec<Note> = self.k.notes().to_vec();
        let of = |field: Field| notes.iter().filter(move |n| n.field == field);
        // A descriptor that cannot be decoded: the kernel would read
        // whatever lies there; like the emulator, call it an invalid object.
        let unreadable = |n: &Note| format!("the module descriptor cannot be read: {}", n.reason);
        for n in of(Field::LinkSet).chain(of(Field::Descriptor)) {
            let (errno, certain, reason) = match n.check {
                Check::LinkSetMissing => (Errno::ENOENT, true, n.reason.clone()),
                Check::LinkSetSize => (Errno::ENOEXEC, true, n.reason.clone()),
                _ => (Errno::ENOEXEC, false, unreadable(n)),
            };
            self.push(n.check, Stage::Load, errno, certain, reason);
        }
        for n in of(Field::Name) {
            self.push(n.check, Stage::Info, Errno::ENOEXEC, false, unreadable(n));
            if n.check == Check::StringWithoutNul && n.available >= MAXMODNAME as u64 {
                self.push(
                    Check::NameLength,
                    Stage::Info,
                    Errno::EINVAL,
                    true,
                    format!(
                        "the module name is at least {} characters; the limit is {}",
                        n.available,
                        MAXMODNAME - 1
                    ),
                );
            }
        }
        let mi = self.k.modinfo().cloned();
        if let Some(mi) = &mi {
            if mi.name.len() >= MAXMODNAME {
                self.push(
                    Check::NameLength,
                    Stage::Info,
                    Errno::EINVAL,
                    true,
                    format!(
                        "the module name `{}` is {} characters; the limit is {}",
                        printable(&mi.name),
                        mi.name.len(),
                        MAXMODNAME - 1
                    ),
                );
            } else if mi.name.is_empty() {
                self.push(
                    Check::EmptyName,
                    Stage::Advisory,
                    Errno::EINVAL,
                    false,
                    "the module name is empty; it can be loaded only by path and never unloaded by name".into(),
                );
            }
            let valid = mi.class > 0 && mi.class < self.rules.class_max;
            if !valid && self.rules.class_checked {
                self.push(
                    Check::Class,
                    Stage::Info,
                    Errno::EINVAL,
                    true,
                    format!(
                        "class {} is not a module class ({})",
                        mi.class,
                        class_names(self.rules.class_max)
                    ),
                );
            } else if !valid {
                self.push(
                    Check::Class,
                    Stage::Advisory,
                    Errno::EINVAL,
                    false,
                    format!(
                        "class {} is not a module class ({}); NetBSD {} does not check, but \
                         nothing will ever autoload it by class",
                        mi.class,
                        class_names(self.rules.class_max),
                        version_text(self.t.osrevision)
                    ),
                );
            }
            if !version_compatible(mi.version, self.t.osrevision) {
                let rule = if self.rules.current {
                    "a -current kernel accepts only modules built for exactly its version"
                } else {
                    "a release kernel accepts only modules of the same major.minor release"
                };
                let mut f = Finding::new(
                    Check::Version,
                    Stage::Info,
                    Errno::EPROGMISMATCH,
                    true,
                    format!(
                        "built for NetBSD {} ({}) but the kernel is NetBSD {} ({}); {rule} \
                         (modload -f overrides)",
                        version_text(mi.version),
                        mi.version,
                        version_text(self.t.osrevision),
                        self.t.osrevision
                    ),
                );
                f.forceable = true;
                self.out.push(f);
            }
        }
        for n in of(Field::Required) {
            self.push(n.check, Stage::Info, Errno::ENOEXEC, false, unreadable(n));
        }
        if let Some(mi) = &mi {
            for (i, dep) in mi.required.iter().enumerate() {
                if dep.len() + 1 >= MAXMODNAME {
                    self.push(
                        Check::RequiredLength,
                        Stage::Info,
                        Errno::EINVAL,
                        true,
                        format!(
                            "required module name `{}` is {} characters; the limit is {}",
                            printable(dep),
                            dep.len(),
                            MAXMODNAME - 2
                        ),
                    );
                    break;
                }
                if let Some(max) = self.rules.max_required {
                    if i >= max {
                        self.push(
                            Check::TooManyRequired,
                            Stage::Info,
                            Errno::EINVAL,
                            true,
                            format!(
                                "the module requires {} modules; NetBSD {} allows at most {max}",
                                mi.required.len(),
                                version_text(self.t.osrevision)
                            ),
                        );
                        break;
                    }
                }
                if *dep == mi.name {
                    self.push(
                        Check::SelfDependency,
                        Stage::Info,
                        Errno::EDEADLK,
                        true,
                        format!(
                            "module `{}` lists itself among its required modules",
                            printable(&mi.name)
                        ),
                    );
                    break;
                }
            }
        }
        for n in of(Field::Modcmd) {
            self.push(n.check, Stage::Info, Errno::ENOEXEC, false, unreadable(n));
        }
        if let Some(mi) = &mi {
            if !mi.has_modcmd && !notes.iter().any(|n| n.field == Field::Modcmd) {
                self.push(
                    Check::NoModcmd,
                    Stage::Info,
                    Errno::ENOEXEC,
                    false,
                    "mi_modcmd is NULL: the kernel does not check and would call a NULL function \
                     at MODULE_CMD_INIT"
                        .into(),
                );
            }
        }
    }

    fn advisory_sections(&mut self, elf: &crate::kmod::Elf<'_>) {
        let shnum = u32::from(elf.l.e_shnum);
        for s in (0..shnum).filter_map(|i| elf.shdr(i)) {
            if s.sh_type == elf::SHT_PROGBITS
                && s.size > 0
                && s.flags & u64::from(elf::SHF_ALLOC) == 0
            {
                let label = self.label(elf, &s);
                self.push(
                    Check::NonAllocSection,
                    Stage::Advisory,
                    Errno::ENOEXEC,
                    false,
                    format!(
                        "{label} is not part of the program image but the kernel loads it anyway, \
                         costing {} bytes of wired memory",
                        s.size
                    ),
                );
            }
            let is_rel = s.sh_type == elf::SHT_REL || s.sh_type == elf::SHT_RELA;
            if is_rel && s.size > 0 {
                if let Some(target) = elf.shdr(s.info) {
                    if target.sh_type != elf::SHT_PROGBITS {
                        let label = self.label(elf, &s);
                        let tlabel = self.label(elf, &target);
                        self.push(
                            Check::IgnoredRelocations,
                            Stage::Advisory,
                            Errno::ENOEXEC,
                            false,
                            format!(
                                "relocations in {label} apply to {tlabel} of type {}, which the \
                                 kernel never relocates",
                                crate::kmod::section_type_name(target.sh_type)
                            ),
                        );
                    }
                }
            }
        }
    }
}

/// The finding that stops this load: the first the kernel certainly
/// refuses (its errno is what NetBSD would print), else the first that
/// would make the kernel misbehave (see [`Finding::blocks`]).
pub fn blocking_finding(findings: &[Finding], flags: i32) -> Option<&Finding> {
    let force = flags & libmodctl::abi::MODCTL_LOAD_FORCE != 0;
    let mut blocking = findings.iter().filter(|f| f.blocks(force));
    findings
        .iter()
        .find(|f| f.certain && f.blocks(force))
        .or_else(|| blocking.next())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> Vec<u8> {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/modules/example/example.kmod");
        std::fs::read(p).unwrap()
    }

    /// Offset of field `at` of section header `i` (ELF64, LE).
    fn shdr_field(data: &[u8], i: usize, at: usize) -> usize {
        let shoff = u64::from_le_bytes(data[0x28..0x30].try_into().unwrap()) as usize;
        shoff + i * 64 + at
    }

    #[test]
    fn a_file_truncated_while_being_read_is_one_certain_finding() {
        use crate::kmod::tests::{big_module_file, open_cut_after};
        use crate::kmod::ReadStage;
        let t = Target::new(1001000000, "amd64");
        let path = big_module_file("validate");
        let whole = validate(&Kmod::open(&path).unwrap(), &t);
        assert!(whole.iter().all(|f| !f.certain), "{whole:#?}");
        // Cut before the section headers once the ELF header was read.
        let k = open_cut_after(&path, ReadStage::Header, 8192);
        let findings = validate(&k, &t);
        let with_symbols = validate_with_symbols(&k, &t, &|_| true);
        std::fs::remove_file(&path).unwrap();
        let expected = Finding {
            check: Check::FileChanged,
            stage: Stage::Load,
            errno: Errno::EINVAL,
            reason: "the file changed (was truncated) while it was being read".into(),
            certain: true,
            forceable: false,
        };
        assert_eq!(findings, vec![expected.clone()]);
        assert_eq!(with_symbols, vec![expected]);
        assert_eq!(kernel_errno(&findings, true), Some(Errno::EINVAL));
        // Its descriptor was read before, but the file's name is not
        // judged against it any more.
        assert!(file_findings("/nonexistent/other.kmod", &k).is_empty());
    }

    fn findings_of(data: Vec<u8>) -> Vec<Finding> {
        validate(&Kmod::from_bytes(data), &Target::new(1001000000, "amd64"))
    }

    fn blocking(data: Vec<u8>) -> Option<Finding> {
        findings_of(data).into_iter().find(|f| f.blocks(false))
    }

    #[test]
    fn good_example_has_no_blocking_finding() {
        assert_eq!(blocking(example()), None);
    }

    #[test]
    fn overlapping_sections_block() {
        // .rela.text (2) moved onto .rela.rodata (4).
        let mut d = example();
        let off = d[shdr_field(&d, 4, 24)..][..8].to_vec();
        let at = shdr_field(&d, 2, 24);
        d[at..at + 8].copy_from_slice(&off);
        let f = blocking(d).unwrap();
        assert_eq!((f.check, f.certain), (Check::SectionOverlap, false));
        assert!(f.reason.contains(".rela.text") && f.reason.contains(".rela.rodata"));
    }

    #[test]
    fn string_table_without_nul_blocks() {
        // .strtab (12) one byte shorter: its last name loses its NUL.
        let mut d = example();
        let at = shdr_field(&d, 12, 32);
        let size = u64::from_le_bytes(d[at..at + 8].try_into().unwrap());
        d[at..at + 8].copy_from_slice(&(size - 1).to_le_bytes());
        let f = blocking(d).unwrap();
        assert_eq!(f.check, Check::StringTable);
        assert!(f.reason.contains("NUL"), "{}", f.reason);
    }

    #[test]
    fn relocation_outside_its_section_blocks() {
        // First .rela.text entry (section 2) moved to offset 0x1000.
        let mut d = example();
        let rel = u64::from_le_bytes(d[shdr_field(&d, 2, 24)..][..8].try_into().unwrap());
        let at = rel as usize;
        d[at..at + 8].copy_from_slice(&0x1000u64.to_le_bytes());
        let f = blocking(d).unwrap();
        assert_eq!(
            (f.check, f.errno),
            (Check::RelocationOffset, Errno::ENOEXEC)
        );
        assert!(f.reason.contains("offset 0x1000"), "{}", f.reason);
    }

    #[test]
    fn certain_refusals_win_over_harm() {
        // Both a bad alignment (harm) and no text (refusal): NetBSD's errno
        // is the refusal's, whatever comes first in the list.
        let mut d = example();
        let at = shdr_field(&d, 1, 48);
        d[at..at + 8].copy_from_slice(&0u64.to_le_bytes());
        let at = shdr_field(&d, 1, 32);
        d[at..at + 8].copy_from_slice(&0u64.to_le_bytes());
        let findings = findings_of(d);
        assert_eq!(
            findings.iter().find(|f| f.blocks(false)).unwrap().check,
            Check::Alignment
        );
        let f = blocking_finding(&findings, 0).unwrap();
        assert_eq!(f.check, Check::NoText);
    }

    #[test]
    fn version_rule_for_releases_and_current() {
        // Release: only the patch digits may differ.
        assert!(version_compatible(1001000000, 1001000000));
        assert!(version_compatible(1001000100, 1001000000));
        assert!(!version_compatible(1000000000, 1001000000));
        assert!(!version_compatible(903000000, 1001000000));
        assert!(!version_compatible(902000000, 903000000));
        // -current: exact.
        assert!(version_compatible(1099001200, 1099001200));
        assert!(!version_compatible(1099001100, 1099001200));
        assert!(!version_compatible(1099001201, 1099001200));
    }

    #[test]
    fn rules_follow_the_kernel_version() {
        let r8 = KernelRules::for_target(&Target::new(800000000, "amd64"));
        let r10 = KernelRules::for_target(&Target::new(1001000000, "amd64"));
        let r7 = KernelRules::for_target(&Target::new(703000000, "amd64"));
        assert_eq!(
            r8.accepts_relocation(elf::EM_X86_64, elf::R_X86_64_PLT32),
            Some(false)
        );
        assert_eq!(
            r10.accepts_relocation(elf::EM_X86_64, elf::R_X86_64_PLT32),
            Some(true)
        );
        assert_eq!(
            r10.accepts_relocation(elf::EM_X86_64, elf::R_X86_64_PC64),
            Some(false)
        );
        assert_eq!(
            r10.accepts_relocation(elf::EM_386, elf::R_386_PC32),
            Some(true)
        );
        assert_eq!(r10.accepts_relocation(elf::EM_AARCH64, 283), None);
        let r799 = KernelRules::for_target(&Target::new(799003400, "amd64"));
        assert_eq!(r10.regions, RegionRule::TextRequired);
        assert_eq!(r8.regions, RegionRule::TextRequired);
        assert_eq!(r799.regions, RegionRule::EveryRegionRequired);
        assert_eq!(r7.regions, RegionRule::SingleRegion);
        assert_eq!(r799.max_depth, Some(6));
        assert_eq!(r8.max_depth, Some(6));
        assert_eq!(r10.max_depth, None);
        assert!(r10.class_checked && !r7.class_checked);
        assert_eq!(r10.class_max, 7);
        assert_eq!(r7.class_max, 6);
        assert_eq!(r8.max_required, Some(9));
        assert_eq!(r10.max_required, None);
        assert!(Target::new(1099001200, "amd64").is_current());
        assert!(!Target::new(1001000000, "amd64").is_current());
    }

    #[test]
    fn clash_exceptions_are_the_kernels() {
        assert!(clash_exempt("__start_link_set_modules"));
        assert!(clash_exempt("__stop_link_set_sysctl_funcs"));
        assert!(clash_exempt("_end"));
        assert!(!clash_exempt("printf"));
        assert!(!clash_exempt("__start_other"));
    }

    #[test]
    fn first_certain_finding_gives_the_errno() {
        let f = |errno, certain, forceable| Finding {
            check: Check::Version,
            stage: Stage::Info,
            errno,
            reason: String::new(),
            certain,
            forceable,
        };
        let list = vec![
            f(Errno::ENOEXEC, false, false),
            f(Errno::EPROGMISMATCH, true, true),
            f(Errno::EDEADLK, true, false),
        ];
        assert_eq!(kernel_errno(&list, false), Some(Errno::EPROGMISMATCH));
        assert_eq!(kernel_errno(&list, true), Some(Errno::EDEADLK));
        assert_eq!(kernel_errno(&list[..1], false), None);
    }

    #[test]
    fn random_bytes_are_not_elf() {
        let k = Kmod::from_bytes(vec![0x42; 200]);
        let f = validate(&k, &Target::new(1001000000, "amd64"));
        assert_eq!(f[0].check, Check::NotElf);
        assert_eq!(f[0].errno, Errno::ENOEXEC);
        assert_eq!(f.len(), 1);
    }

    #[test]
    fn a_tiny_file_is_truncated() {
        let k = Kmod::from_bytes(b"\x7fELF".to_vec());
        let f = validate(&k, &Target::new(1001000000, "amd64"));
        assert_eq!(f[0].check, Check::Truncated);
        assert_eq!(f[0].errno, Errno::EINVAL);
    }
}
