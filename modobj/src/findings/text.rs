//! Every sentence a finding says: the one text renderer of [`Detail`],
//! and the words for what it names (sections, places, relocation types,
//! file bytes made printable on one line).
//!
//! Sentences are one line with no final period, as `modload` prints them
//! after `modload: <path>: `.

use std::fmt::{self, Display, Formatter};

use object::elf;

use super::{Detail, Field, Place, Region, RelocType, SectionRef, StringTable};
use crate::machine::{self, ElfClass, Endian};
use crate::osrev::version_text;

/// Why nothing read from a file that shrank while it was read is trusted.
pub const FILE_CHANGED_REASON: &str = "the file changed (was truncated) while it was being read";

/// What a name offset past its string table makes the kernel do.
const NAME_OUTSIDE: &str = "the kernel would read the name from outside the module";

/// Text from the file made safe for a one-line message: control
/// characters are escaped.
pub(crate) fn printable(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

pub(crate) fn printable_bytes(b: &[u8]) -> String {
    printable(&String::from_utf8_lossy(b))
}

pub(crate) fn section_type_name(t: u32) -> String {
    match t {
        elf::SHT_NULL => "NULL".into(),
        elf::SHT_PROGBITS => "PROGBITS".into(),
        elf::SHT_SYMTAB => "SYMTAB".into(),
        elf::SHT_STRTAB => "STRTAB".into(),
        elf::SHT_RELA => "RELA".into(),
        elf::SHT_HASH => "HASH".into(),
        elf::SHT_DYNAMIC => "DYNAMIC".into(),
        elf::SHT_NOTE => "NOTE".into(),
        elf::SHT_NOBITS => "NOBITS".into(),
        elf::SHT_REL => "REL".into(),
        elf::SHT_DYNSYM => "DYNSYM".into(),
        elf::SHT_INIT_ARRAY => "INIT_ARRAY".into(),
        elf::SHT_FINI_ARRAY => "FINI_ARRAY".into(),
        elf::SHT_GROUP => "GROUP".into(),
        elf::SHT_SYMTAB_SHNDX => "SYMTAB_SHNDX".into(),
        other => format!("{other:#x}"),
    }
}

impl Display for SectionRef {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(n) => write!(f, "section {} ({})", self.index, printable_bytes(n)),
            None => write!(f, "section {}", self.index),
        }
    }
}

/// "section 2 (.text)+0x10".
impl Display for Place {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}+{:#x}", self.section, self.offset)
    }
}

/// "relocation type 24 (R_X86_64_PC64)", or "relocation type 200
/// (unknown)" for a type the port's table does not name.
impl Display for RelocType {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let name = machine::reloc_name(self.e_machine, self.r_type).unwrap_or("unknown");
        write!(f, "relocation type {} ({name})", self.r_type)
    }
}

impl Display for Field {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Field::LinkSet => "the pointer in link_set_modules",
            Field::Descriptor => "the module descriptor (modinfo_t)",
            Field::Name => "mi_name",
            Field::Required => "mi_required",
            Field::Modcmd => "mi_modcmd",
        })
    }
}

impl Display for Region {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Region::ElfHeader => f.write_str("the ELF header"),
            Region::SectionTable => f.write_str("the section header table"),
            Region::Section(s) => s.fmt(f),
        }
    }
}

/// " (3 such relocations)" when there is more than one of a problem.
struct Also(u64, &'static str);

impl Display for Also {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self.0 {
            n if n > 1 => write!(f, " ({n} such {})", self.1),
            _ => Ok(()),
        }
    }
}

/// " against `printf`", or nothing for a relocation without a symbol name.
struct Against<'a>(&'a [u8]);

impl Display for Against<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self.0 {
            [] => Ok(()),
            name => write!(f, " against `{}`", printable_bytes(name)),
        }
    }
}

/// "an amd64 kernel", "a sparc64 kernel".
struct KernelFor<'a>(&'a str);

impl Display for KernelFor<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let article = if self.0.starts_with(['a', 'e', 'i', 'o', 'u']) {
            "an"
        } else {
            "a"
        };
        write!(f, "{article} {} kernel", self.0)
    }
}

/// "; <note>" when the port's table explains the relocation type.
struct RelocNote(RelocType);

impl Display for RelocNote {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match machine::reloc_note(self.0.e_machine, self.0.r_type) {
            Some(n) => write!(f, "; {n}"),
            None => Ok(()),
        }
    }
}

/// "amd64 kobj_machdep.c 1.6": the port whose table judged the object,
/// and the revision its table was first written from.
fn linker_label(e_machine: u16) -> String {
    match machine::port(e_machine) {
        Some(p) => {
            let end = p.source.find([' ', ',']).map_or(p.source.len(), |i| {
                // After "kobj_machdep.c 1.6": the file and its revision.
                let rest = &p.source[i + 1..];
                i + 1 + rest.find([' ', ',']).unwrap_or(rest.len())
            });
            format!("{} {}", p.name, &p.source[..end])
        }
        None => format!("machine {e_machine}"),
    }
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

/// A module name as it is shown: printable.
fn shown(name: &libmodctl::ModName) -> String {
    printable_bytes(name.as_bytes())
}

impl Display for Detail {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        // One group of sentences per part of the kernel's walk, each
        // answering only for its own variants.
        let groups: [fn(&Detail, &mut Formatter<'_>) -> Option<fmt::Result>; 6] = [
            Detail::file_and_header,
            Detail::sections,
            Detail::relocations,
            Detail::descriptor,
            Detail::decoding,
            Detail::pointers,
        ];
        for g in groups {
            if let Some(r) = g(self, f) {
                return r;
            }
        }
        unreachable!("every Detail is worded by one group")
    }
}

impl Detail {
    /// The file, what lies beside it, the ELF header and the section
    /// header table.
    fn file_and_header(&self, f: &mut Formatter<'_>) -> Option<fmt::Result> {
        Some(match self {
            Detail::FileChanged => f.write_str(FILE_CHANGED_REASON),
            Detail::FileName { file, module } => write!(
                f,
                "the file is called `{}` but the module is named `{1}`; loading it by name, \
                 autoloading it or requiring it looks for `{1}/{1}.kmod`",
                printable(file),
                shown(module)
            ),
            Detail::PlistTooLarge { path, size, limit } => write!(
                f,
                "the property list {} is {size} bytes; the kernel reads at most {limit} (load \
                 with -P to skip it)",
                printable(path)
            ),
            Detail::UnknownMachine { machine } => write!(
                f,
                "the validator does not know which objects a `{machine}` kernel accepts; \
                 machine, class and byte order were not checked"
            ),
            Detail::ShortHeader { size, header } => write!(
                f,
                "the file is {size} bytes, shorter than the {header}-byte ELF header the kernel \
                 reads"
            ),
            Detail::NotElf { magic: m } => write!(
                f,
                "not an ELF object: it starts with {:02x} {:02x} {:02x} {:02x}, not 7f 45 4c 46",
                m[0], m[1], m[2], m[3]
            ),
            Detail::ElfVersion { ident, header } => write!(
                f,
                "unsupported ELF version {ident} (header version {header}); only version 1 exists"
            ),
            Detail::FileType { e_type } => write!(
                f,
                "file type is {e_type} ({}); a module must be a relocatable object (ET_REL, as \
                 made by ld -r)",
                e_type_name(*e_type)
            ),
            Detail::Machine { e_machine, kernel } => write!(
                f,
                "built for {} (e_machine {e_machine}); {} accepts only {}",
                machine::Machine::from_e_machine(*e_machine).name(),
                KernelFor(kernel),
                machine::kernel(kernel)
                    .map(|k| k.label())
                    .unwrap_or_default()
            ),
            Detail::ElfClass {
                file,
                kernel,
                reads,
            } => {
                let file = match *file {
                    elf::ELFCLASS32 => ElfClass::Elf32.name().to_string(),
                    elf::ELFCLASS64 => ElfClass::Elf64.name().to_string(),
                    other => format!("an invalid class ({other})"),
                };
                write!(
                    f,
                    "the object is {file} but {} reads every module as {}; it does not check \
                     the class and misreads the header",
                    KernelFor(kernel),
                    reads.name()
                )
            }
            Detail::ByteOrder {
                file,
                kernel,
                reads,
            } => {
                let file = match *file {
                    elf::ELFDATA2LSB => Endian::Little.name().to_string(),
                    elf::ELFDATA2MSB => Endian::Big.name().to_string(),
                    other => format!("of invalid byte order ({other})"),
                };
                write!(
                    f,
                    "the object is {file} but {} is {}; it would misread every field",
                    KernelFor(kernel),
                    reads.name()
                )
            }
            _ => return self.section_table(f),
        })
    }

    fn section_table(&self, f: &mut Formatter<'_>) -> Option<fmt::Result> {
        let why = match self {
            Detail::NoSections => {
                "e_shnum is 0 (no sections, or extended numbering the kernel does not support)"
                    .to_string()
            }
            Detail::TooManySections { shnum, max } => {
                format!("e_shnum is {shnum}, more than the kernel's limit of {max}")
            }
            Detail::NoSectionTable => "e_shoff is 0: there is no section header table".to_string(),
            Detail::SectionHeaderSize { size, want } => {
                format!("e_shentsize is {size}, not the {want} bytes of a section header")
            }
            Detail::SectionTablePastEnd {
                entries,
                offset,
                file_size,
            } => {
                return Some(write!(
                    f,
                    "the section header table ({entries} entries at offset {offset:#x}) extends \
                     past the end of the file ({file_size} bytes)"
                ))
            }
            _ => return None,
        };
        Some(write!(f, "bad section table: {why}"))
    }
}

impl Detail {
    /// The section scan, string tables, overlaps, load regions, symbols,
    /// and the advisories about sections.
    fn sections(&self, f: &mut Formatter<'_>) -> Option<fmt::Result> {
        Some(match self {
            Detail::RelocationTargetMissing { section, target } => write!(
                f,
                "relocation {section} applies to section {target}, which does not exist; the \
                 kernel reads a section header past the end of its table"
            ),
            Detail::NoContents => {
                f.write_str("the file has no contents: no PROGBITS or NOBITS section")
            }
            Detail::NoSymbolTable => {
                f.write_str("the file has no symbol table (SHT_SYMTAB); was it stripped?")
            }
            Detail::SymbolTables { count } => write!(
                f,
                "the file has {count} symbol tables; the kernel accepts exactly one"
            ),
            Detail::SymbolStringsLink { link } => write!(
                f,
                "the symbol table's string table (sh_link {link}) is not a valid string table \
                 section"
            ),
            Detail::NoSymbols => f.write_str("the symbol table has no entries"),
            Detail::NoSymbolStrings => f.write_str("the symbol string table is empty"),
            Detail::SectionNamesIndex { shstrndx, shnum } => write!(
                f,
                "e_shstrndx is {shstrndx} but there are only {shnum} sections"
            ),
            Detail::OutsideFile {
                section,
                size,
                offset,
                file_size,
            } => write!(
                f,
                "{section} ({size} bytes at offset {offset:#x}) extends past the end of the file \
                 ({file_size} bytes); the file is truncated"
            ),
            Detail::SymbolNameOffset {
                symbol,
                offset,
                table,
                size,
                count,
            } => write!(
                f,
                "symbol {symbol} has name offset {offset:#x} but its string table, {table}, is \
                 {size} bytes; {NAME_OUTSIDE}{}",
                Also(*count, "symbols")
            ),
            Detail::SectionNameOffset {
                section,
                offset,
                table,
                size,
                count,
            } => write!(
                f,
                "section {section} has name offset {offset:#x} but the section-name table, \
                 {table}, is {size} bytes; {NAME_OUTSIDE}{}",
                Also(*count, "sections")
            ),
            Detail::Unterminated { table, section } => write!(
                f,
                "the {}, {section}, does not end with a NUL byte; the kernel would read its last \
                 name past the end of the table",
                match table {
                    StringTable::Symbols => "symbol string table",
                    StringTable::SectionNames => "section-name table",
                }
            ),
            Detail::Overlap { part, with, count } => write!(
                f,
                "{} (file bytes {:#x}-{:#x}) overlaps {} ({:#x}-{:#x}); no linker writes such a \
                 file, so what the kernel would load is not what was built{}",
                part.what,
                part.start,
                part.end,
                with.what,
                with.start,
                with.end,
                Also(*count, "overlaps")
            ),
            _ => return self.regions(f),
        })
    }

    /// Load regions, advisories about sections, and symbols.
    fn regions(&self, f: &mut Formatter<'_>) -> Option<fmt::Result> {
        Some(match self {
            Detail::Alignment { section, align } => write!(
                f,
                "{section} has alignment {align}, not a power of two; the kernel's layout \
                 arithmetic would misplace it or miscount the module's size"
            ),
            Detail::NoLoadable => {
                f.write_str("no text, data or bss: every loadable section is empty")
            }
            Detail::NoText { other } => write!(
                f,
                "no text: no executable section has contents (this kernel loads code only from \
                 SHF_EXECINSTR sections; the module has {other} bytes of other data)"
            ),
            Detail::NoData => f.write_str(
                "no data/bss: no writable section (.data, .bss) has contents, and this kernel \
                 refuses a module without one",
            ),
            Detail::NoRodata => f.write_str(
                "no rodata: no read-only data section (.rodata, link_set_modules) has \
                 contents, and this kernel refuses a module without one",
            ),
            Detail::NonAlloc { section, size } => write!(
                f,
                "{section} is not part of the program image but the kernel loads it anyway, \
                 costing {size} bytes of wired memory"
            ),
            Detail::IgnoredRelocations {
                section,
                target,
                target_type,
            } => write!(
                f,
                "relocations in {section} apply to {target} of type {}, which the kernel never \
                 relocates",
                section_type_name(*target_type)
            ),
            Detail::SymbolClash { name } => write!(
                f,
                "the module defines global symbol `{}`, which the kernel or a loaded module \
                 already defines",
                printable(name)
            ),
            Detail::Unresolved { name } => write!(
                f,
                "undefined symbol `{}` is defined neither by the kernel nor by a loaded or \
                 required module",
                printable(name)
            ),
            Detail::Common { names } => {
                let names: Vec<String> = names.iter().map(|n| printable_bytes(n)).collect();
                write!(
                    f,
                    "common symbol `{}` has no storage: the kernel does not allocate SHN_COMMON \
                     symbols (link with ld -r -d)",
                    names.join("`, `")
                )
            }
            _ => return None,
        })
    }

    /// Both relocation passes.
    fn relocations(&self, f: &mut Formatter<'_>) -> Option<fmt::Result> {
        Some(match self {
            Detail::RelocSymbolIndex {
                at,
                symbol,
                symcount,
                count,
            } => write!(
                f,
                "relocation at {at} names symbol {symbol} but the symbol table has {symcount} \
                 entries; the kernel silently skips it and leaves the place unrelocated{}",
                Also(*count, "relocations")
            ),
            Detail::RelocOutside {
                at,
                width,
                size,
                count,
            } => write!(
                f,
                "a relocation of {} at offset {:#x} writes {width} bytes but the section is only \
                 {size} bytes long; the kernel would write outside the module{}",
                at.section,
                at.offset,
                Also(*count, "relocations")
            ),
            Detail::BranchRange {
                reloc,
                at,
                symbol,
                reach,
                checked,
                count,
            } => {
                let consequence = if *checked {
                    "the kernel's linker refuses the load (ENOEXEC) if it places the module \
                     farther than that from the target"
                } else {
                    "the kernel's linker does not check it and would silently truncate the \
                     displacement if it placed the module farther than that from the target"
                };
                write!(
                    f,
                    "{reloc} at {at} against `{}`, outside the module, reaches {reach}: \
                     {consequence}{}{}",
                    printable_bytes(symbol),
                    RelocNote(*reloc),
                    Also(*count, "relocations")
                )
            }
            _ => return self.refused_relocations(f),
        })
    }

    /// Relocations the kernel's linker refuses or applies wrongly.
    fn refused_relocations(&self, f: &mut Formatter<'_>) -> Option<fmt::Result> {
        Some(match self {
            Detail::Unsupported {
                reloc,
                at,
                symbol,
                since,
                count,
            } => {
                // A type only later kernels implement: say so.
                let hint = since.map_or_else(String::new, |(v, why)| {
                    format!(
                        "; kernels before NetBSD {} do not know it ({why})",
                        version_text(v)
                    )
                });
                write!(
                    f,
                    "{reloc} at {at}{}: this port's kernel linker does not apply it ({}){}{hint}{}",
                    Against(symbol),
                    linker_label(reloc.e_machine),
                    RelocNote(*reloc),
                    Also(*count, "relocations")
                )
            }
            Detail::Misapplied {
                reloc,
                at,
                symbol,
                why,
                count,
            } => write!(
                f,
                "{reloc} at {at}{}: this port's kernel linker accepts it but applies it wrongly \
                 ({}): {why}; the module would run with a wrong value there{}",
                Against(symbol),
                linker_label(reloc.e_machine),
                Also(*count, "relocations")
            ),
            Detail::RelNotApplied {
                e_machine,
                at,
                symbol,
                panics,
                count,
            } => {
                let outcome = if *panics {
                    "and panics on a REL entry (\"kobj_reloc: REL relocations not supported\")"
                } else {
                    "and fails the load on a REL entry"
                };
                write!(
                    f,
                    "relocation at {at}{} is in a REL section (SHT_REL): this port's kernel \
                     linker applies only RELA sections ({}) {outcome}{}",
                    Against(symbol),
                    linker_label(*e_machine),
                    Also(*count, "relocations")
                )
            }
            Detail::LocalUndefined { at, index, count } => write!(
                f,
                "relocation at {at} uses local symbol {index}, which is undefined{}",
                Also(*count, "relocations")
            ),
            Detail::WeakUndefined { at, symbol, count } => write!(
                f,
                "relocation at {at}{}: the symbol is an undefined weak symbol, which the \
                 kernel's linker does not support{}",
                Against(symbol),
                Also(*count, "relocations")
            ),
            Detail::UnusualBinding { at, symbol, count } => write!(
                f,
                "relocation at {at}{} uses an undefined symbol of unusual binding{}",
                Against(symbol),
                Also(*count, "relocations")
            ),
            _ => return None,
        })
    }

    /// The descriptor as `module_do_load` checks it.
    fn descriptor(&self, f: &mut Formatter<'_>) -> Option<fmt::Result> {
        Some(match self {
            Detail::NameAtLeast { length, limit } => write!(
                f,
                "the module name is at least {length} characters; the limit is {limit}"
            ),
            Detail::NameTooLong { name, limit } => write!(
                f,
                "the module name `{}` is {} characters; the limit is {limit}",
                shown(name),
                name.len()
            ),
            Detail::EmptyName => f.write_str(
                "the module name is empty; it can be loaded only by path and never unloaded by \
                 name",
            ),
            Detail::Class {
                class,
                max,
                unchecked_by,
            } => {
                // Older kernels do not look at the class.
                let unchecked = unchecked_by.map_or_else(String::new, |v| {
                    format!(
                        "; NetBSD {} does not check, but nothing will ever autoload it by class",
                        version_text(v)
                    )
                });
                write!(
                    f,
                    "class {class} is not a module class ({}){unchecked}",
                    class_names(*max)
                )
            }
            Detail::Version { .. } => write!(f, "{} (modload -f overrides)", Unforced(self)),
            Detail::RequiredTooLong { name, limit } => write!(
                f,
                "required module name `{}` is {} characters; the limit is {limit}",
                shown(name),
                name.len()
            ),
            Detail::TooManyRequired { count, kernel, max } => write!(
                f,
                "the module requires {count} modules; NetBSD {} allows at most {max}",
                version_text(*kernel)
            ),
            Detail::SelfDependency { name } => write!(
                f,
                "module `{}` lists itself among its required modules",
                shown(name)
            ),
            Detail::NoModcmd => f.write_str(
                "mi_modcmd is NULL: the kernel does not check and would call a NULL function at \
                 MODULE_CMD_INIT",
            ),
            Detail::Unreadable(note) => {
                write!(f, "the module descriptor cannot be read: {note}")
            }
            _ => return None,
        })
    }

    /// Finding the descriptor, and reading its fields and strings.
    fn decoding(&self, f: &mut Formatter<'_>) -> Option<fmt::Result> {
        Some(match self {
            Detail::NoSectionNameTable => f.write_str(
                "the object has no usable section-name table (.shstrtab), so the kernel cannot \
                 find section link_set_modules",
            ),
            Detail::NoLinkSet => f.write_str(
                "no section link_set_modules: the object carries no module descriptor (it was \
                 not built with the MODULE() macro)",
            ),
            Detail::LinkSetSize { size, pointer } => {
                // Whole pointers, or bytes when it is not a whole number (no
                // floating point, whose formatting code adds 17 KB to modload).
                let n = if size % pointer == 0 {
                    format!("{} pointers", size / pointer)
                } else {
                    "not a whole number of pointers".to_string()
                };
                write!(
                    f,
                    "section link_set_modules is {size} bytes ({n}); a module must hold exactly \
                     one {pointer}-byte pointer there"
                )
            }
            Detail::NullLinkSet => f.write_str(
                "the pointer in link_set_modules is NULL: there is no descriptor to read",
            ),
            Detail::NullName => {
                f.write_str("mi_name is NULL; the kernel would dereference it and crash")
            }
            Detail::FieldOutside {
                field,
                offset,
                section,
                size,
                needed,
            } => write!(
                f,
                "{field} lies at offset {offset:#x} of {section}, which is only {size} bytes long \
                 ({needed} bytes needed)"
            ),
            Detail::PastEnd { section } => {
                write!(f, "{section} extends past the end of the file")
            }
            Detail::StringOutside {
                field,
                offset,
                section,
                size,
            } => write!(
                f,
                "{field} points {offset:#x} bytes into {section}, which is only {size} bytes long"
            ),
            Detail::StringTooLong { field, max } => {
                write!(f, "{field} is longer than {max} bytes without a NUL")
            }
            Detail::StringUnterminated {
                field,
                shown,
                section,
                length,
            } => write!(
                f,
                "{field} (`{}`) runs to the end of {section} after {length} bytes without a \
                 terminating NUL",
                printable_bytes(shown)
            ),
            _ => return None,
        })
    }

    /// A descriptor pointer and the relocation that fills it.
    fn pointers(&self, f: &mut Formatter<'_>) -> Option<fmt::Result> {
        Some(match self {
            Detail::FixedPointer { field, raw } => write!(
                f,
                "{field} has no relocation and holds the fixed address {raw:#x}, which is \
                 nowhere inside the loaded module"
            ),
            Detail::PointerType {
                field,
                reloc,
                pointer,
            } => write!(
                f,
                "{field} is filled by {reloc}, which does not store a {pointer}-byte pointer on \
                 this machine"
            ),
            Detail::GlobalPointer { field, symbol, raw } => write!(
                f,
                "{field} is relocated against the global symbol `{}`; the kernel reads this \
                 pointer before it applies relocations against global symbols, so it would \
                 read the unrelocated value {raw:#x} (declare the object static)",
                printable_bytes(symbol)
            ),
            Detail::PointerWithoutSymbols { field } => {
                write!(f, "{field} is relocated but the object has no symbol table")
            }
            Detail::PointerSymbolIndex {
                field,
                symbol,
                symcount,
                raw,
            } => write!(
                f,
                "the relocation of {field} names symbol {symbol} but the symbol table has only \
                 {symcount}; the kernel skips it and reads the unrelocated value {raw:#x}"
            ),
            Detail::FixedAddress { field, value } => write!(
                f,
                "{field} is set to the fixed address {value:#x}, outside the module"
            ),
            Detail::PointsUndefined { field, symbol } => write!(
                f,
                "{field} points to the undefined symbol `{}`, which is not part of the module",
                printable_bytes(symbol)
            ),
            Detail::PointsSpecial {
                field,
                symbol,
                shndx,
            } => write!(
                f,
                "{field} points to symbol `{}` in special section {shndx:#x} (absolute or \
                 common), not into the module's sections",
                printable_bytes(symbol)
            ),
            Detail::NoSuchSection { field, section } => write!(
                f,
                "{field} points into section {section}, which does not exist"
            ),
            Detail::NotLoaded {
                field,
                section,
                sh_type,
            } => write!(
                f,
                "{field} points into section {section} of type {}, which the kernel does not \
                 load",
                section_type_name(*sh_type)
            ),
            _ => return None,
        })
    }
}

/// A detail's words without the advice to force the load with `modload
/// -f`, for where nothing forces it (a boot module).
pub struct Unforced<'a>(pub &'a Detail);

impl Detail {
    /// Whether its words advise forcing the load (`modload -f`).
    pub fn advises_force(&self) -> bool {
        matches!(self, Detail::Version { .. })
    }
}

impl fmt::Display for Unforced<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Detail::Version {
                module,
                kernel,
                current,
            } => {
                let rule = if *current {
                    "a -current kernel accepts only modules built for exactly its version"
                } else {
                    "a release kernel accepts only modules of the same major.minor release"
                };
                write!(
                    f,
                    "built for NetBSD {} ({module}) but the kernel is NetBSD {} ({kernel}); \
                     {rule}",
                    version_text(*module),
                    version_text(*kernel)
                )
            }
            d => d.fmt(f),
        }
    }
}
