//! Inspection of NetBSD kernel module objects (`.kmod` files).
//!
//! A module is an ELF relocatable object (`ET_REL`). Section
//! `link_set_modules` holds one pointer, filled in by a relocation, to the
//! module's `modinfo_t` {version, class, modcmd, name, required}; the two
//! strings are reached through relocations as well. This module reads the
//! object the way the kernel's linker does (`kobj_load`, `kobj_relocate`,
//! sys/kern/subr_kobj.c r1.76):
//! it finds the section by name, applies the relocation that fills each
//! pointer (per machine: REL with implicit addends or RELA), and reads the
//! descriptor and strings it lands on.
//!
//! Nothing here fails on content: [`Kmod::from_bytes`] accepts any bytes,
//! and what it could not decode is recorded for [`crate::validate`] to
//! explain. The only error is failing to read the file. A file is read as
//! `kobj_load` reads it: the ELF header, the section header table,
//! then the ranges those name that the checks need (symbol and string
//! tables, section names, relocation tables), each bounded by the claim
//! and by the file's size ([`read_file`], [`crate::image`]); large
//! relocation tables a chunk at a time as they are looked at, and the
//! descriptor and its strings when it is first asked for. Everything else
//! is either a small summary or computed on demand, so memory stays at
//! most at the file size plus a small constant whatever the file claims
//! about itself. The file stays open with the [`Kmod`]; a read that comes
//! up short at any time is reported by [`Kmod::changed_while_read`].

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use std::borrow::Cow;

use object::elf;
use object::pod;
use object::read::elf::FileHeader;
use object::{BigEndian, Endianness, LittleEndian};

use crate::checks::Check;
use crate::image::Image;
use crate::machine::{pointer_reloc, reloc_name, PointerReloc};
use libmodctl::errno::Errno;
use libmodctl::ModName;

pub(crate) const EI_NIDENT: usize = 16;
pub(crate) const EI_CLASS: usize = 4;
pub(crate) const EI_DATA: usize = 5;
pub(crate) const EI_VERSION: usize = 6;

/// Longest string read through a module pointer. The kernel itself reads
/// names only up to 32 bytes; required lists are never near this long.
const MAX_STRING: usize = 64 * 1024;

/// What reading a file that was truncated while it was being read fails
/// with. The kernel, given the file now, would meet the same short read,
/// which kobj reports as EINVAL (`kobj_read_vfs` turns a short read into
/// EINVAL, sys/kern/subr_kobj_vfs.c r1.7.6.4).
pub const FILE_CHANGED_ERRNO: Errno = Errno::EINVAL;

/// Why nothing read from such a file is trusted.
pub const FILE_CHANGED_REASON: &str = "the file changed (was truncated) while it was being read";

pub use crate::image::{KmodError, Waits};

/// The machine an object was built for (`e_machine`), named as NetBSD's
/// ports name their architectures: the port of [`crate::machine`] whose
/// objects have that `e_machine`, or another value.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub enum Machine {
    /// A port of the registry, by its name.
    Port(&'static str),
    Other(u16),
}

impl Machine {
    pub fn from_e_machine(em: u16) -> Machine {
        crate::machine::port(em).map_or(Machine::Other(em), |p| Machine::Port(p.name))
    }

    /// NetBSD's name for the architecture (`MACHINE_ARCH` family).
    pub fn name(self) -> String {
        match self {
            Machine::Port(name) => name.to_string(),
            Machine::Other(em) => format!("machine {em}"),
        }
    }
}

/// The port's name, or `Other(<e_machine>)`: what this type printed when
/// it was an enum of one variant per port, which listings lower-case.
impl std::fmt::Debug for Machine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Machine::Port(name) => f.write_str(name),
            Machine::Other(em) => write!(f, "Other({em})"),
        }
    }
}

/// `EI_CLASS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ElfClass {
    Elf32,
    Elf64,
}

impl ElfClass {
    pub fn name(self) -> &'static str {
        match self {
            ElfClass::Elf32 => "ELF32",
            ElfClass::Elf64 => "ELF64",
        }
    }

    /// Size of a pointer in objects of this class.
    pub fn pointer_size(self) -> u64 {
        match self {
            ElfClass::Elf32 => 4,
            ElfClass::Elf64 => 8,
        }
    }
}

/// `EI_DATA`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endian {
    Little,
    Big,
}

impl Endian {
    pub fn name(self) -> &'static str {
        match self {
            Endian::Little => "little-endian",
            Endian::Big => "big-endian",
        }
    }

    pub(crate) fn object(self) -> Endianness {
        match self {
            Endian::Little => Endianness::Little,
            Endian::Big => Endianness::Big,
        }
    }
}

/// The module descriptor, `modinfo_t`, as decoded from the object.
#[derive(Debug, Clone, PartialEq)]
pub struct ModInfo {
    /// `mi_version`, a `__NetBSD_Version__` value.
    pub version: u32,
    /// `mi_class` (1 misc, 2 vfs, 3 driver, 4 exec, 5 secmodel, 6 bufq).
    pub class: i32,
    /// `mi_name`: the bytes before its NUL, never decoded.
    pub name: ModName,
    /// `mi_required` as stored; `None` when the pointer is NULL.
    pub required_raw: Option<Vec<u8>>,
    /// `mi_required` split as the kernel walks it ([`split_required`]).
    pub required: Vec<ModName>,
    /// Whether `mi_modcmd` points somewhere (it is not NULL).
    pub has_modcmd: bool,
}

/// One section header, for display.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionInfo {
    pub index: u32,
    /// Empty when the object has no usable section-name table.
    pub name: String,
    pub sh_type: u32,
    pub flags: u64,
    pub offset: u64,
    pub size: u64,
    pub addralign: u64,
    pub link: u32,
    pub info: u32,
}

impl SectionInfo {
    /// Short name of the section type (`PROGBITS`, `RELA`, ...).
    pub fn type_name(&self) -> String {
        section_type_name(self.sh_type)
    }
}

/// A relocation type the object uses, with how often it occurs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelocUse {
    pub r_type: u32,
    pub name: Option<&'static str>,
    pub count: u64,
}

/// Sizes of the three regions the kernel allocates for a module (text,
/// read-only data, data) and of the single region kernels before the
/// 2016 split used, computed with the kernel's alignment arithmetic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Regions {
    pub text: u64,
    pub rodata: u64,
    pub data: u64,
    /// All PROGBITS/NOBITS sections in one region (pre-split kernels).
    pub single: u64,
}

/// Which pointer a decoding note is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Field {
    LinkSet,
    Descriptor,
    Name,
    Required,
    Modcmd,
}

impl Field {
    fn what(self) -> &'static str {
        match self {
            Field::LinkSet => "the pointer in link_set_modules",
            Field::Descriptor => "the module descriptor (modinfo_t)",
            Field::Name => "mi_name",
            Field::Required => "mi_required",
            Field::Modcmd => "mi_modcmd",
        }
    }
}

/// Something found while decoding the descriptor; [`crate::validate`]
/// turns these into findings at the point in the kernel's order where the
/// kernel would trip over them.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Note {
    pub check: Check,
    pub field: Field,
    pub reason: String,
    /// For an unterminated string: the bytes available before the end of
    /// its section.
    pub available: u64,
}

/// A parsed module object.
#[derive(Clone)]
pub struct Kmod {
    data: Image,
    layout: Option<Layout>,
    /// The descriptor and the notes about it, decoded when first asked
    /// for (after the validator's pass over the relocations, which then
    /// found the descriptor's: see [`Watch`]).
    decoded: std::sync::OnceLock<(Option<ModInfo>, Vec<Note>)>,
    /// Where the descriptor is, found when the file was opened.
    located: Option<Located>,
    /// The section headers, decoded once when the table is usable.
    shdrs: Option<Vec<Shdr>>,
    /// The first symbol table and its string table (section indexes).
    hot: [Option<u32>; 2],
    watch: Option<std::sync::Arc<Watch>>,
    regions: Regions,
}

impl std::fmt::Debug for Kmod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kmod")
            .field("len", &self.data.len())
            .field("machine", &self.machine())
            .field("modinfo", &self.modinfo())
            .finish()
    }
}

impl Kmod {
    /// Reads a module file as the kernel does ([`read_file`]). Only a
    /// failure to open or read it is an error; a file that shrinks while
    /// it is read is not, [`Kmod::changed_while_read`] says so. The file
    /// stays open: what is read later (large relocation tables, the
    /// descriptor) is read from it.
    pub fn open(path: &Path) -> Result<Kmod, KmodError> {
        Kmod::open_with(path, &mut |_| {})
    }

    /// [`Kmod::open`], calling `between` after each stage of reading (the
    /// tests shrink the file there).
    pub(crate) fn open_with(
        path: &Path,
        between: &mut dyn FnMut(ReadStage),
    ) -> Result<Kmod, KmodError> {
        let (image, shdrs) = read_file(path, &[elf::SHT_SYMTAB], between)?;
        let k = Kmod::from_data(image, shdrs);
        if let Some(e) = k.data.failure() {
            return Err(KmodError::Io(e));
        }
        Ok(k)
    }

    /// Parses a module object held in memory. Never fails: whatever could
    /// not be decoded is explained by [`crate::validate::validate`].
    pub fn from_bytes(bytes: Vec<u8>) -> Kmod {
        Kmod::from_data(Image::from_bytes(bytes), None)
    }

    /// A module over what was read of it; `shdrs`, its section headers
    /// when they were decoded as they were read.
    fn from_data(bytes: Image, shdrs: Option<Vec<Shdr>>) -> Kmod {
        let layout = parse_layout(bytes.available(0, EHDR_MAX));
        let mut k = Kmod {
            data: bytes,
            layout,
            decoded: std::sync::OnceLock::new(),
            located: None,
            shdrs: None,
            hot: [None; 2],
            watch: None,
            regions: Regions::default(),
        };
        if let Some(elf) = k.elf().filter(Elf::table_ok) {
            let shdrs = shdrs.unwrap_or_else(|| {
                (0..u32::from(elf.l.e_shnum))
                    .map_while(|i| elf.decode_shdr(i))
                    .collect()
            });
            k.shdrs = Some(shdrs);
        }
        if let Some(elf) = k.elf().filter(Elf::table_ok) {
            let symtab = elf.first_of_type(elf::SHT_SYMTAB);
            k.hot = [symtab.map(|s| s.index), symtab.map(|s| s.link)];
        }
        if let Some(elf) = k.elf() {
            if elf.table_ok() {
                let regions = elf.regions();
                // Where the descriptor is costs little to find; what fills
                // its pointers may take a pass over a large table.
                let ptr = elf.l.class.pointer_size();
                let located = Decoder::new(&elf).locate();
                let watch = located
                    .0
                    .map(|(sec, off)| Watch::new(sec, descriptor_places(off, ptr)));
                k.regions = regions;
                k.located = Some(located);
                k.watch = watch.map(std::sync::Arc::new);
            }
        }
        k
    }

    /// The descriptor and the notes about it.
    fn decoded(&self) -> &(Option<ModInfo>, Vec<Note>) {
        self.decoded
            .get_or_init(|| match self.elf().filter(Elf::table_ok) {
                Some(elf) => Decoder::new(&elf).decode(self.located.clone()),
                None => (None, Vec::new()),
            })
    }

    /// The object's size in bytes (for a file, its size when opened).
    pub fn file_size(&self) -> u64 {
        self.data.len()
    }

    /// `e_machine`, when the file has an ELF header.
    pub fn machine(&self) -> Option<Machine> {
        self.layout.map(|l| Machine::from_e_machine(l.e_machine))
    }

    /// Raw `e_machine`.
    pub fn e_machine(&self) -> Option<u16> {
        self.layout.map(|l| l.e_machine)
    }

    /// Raw `e_type` (1 = `ET_REL`).
    pub fn e_type(&self) -> Option<u16> {
        self.layout.map(|l| l.e_type)
    }

    pub fn class(&self) -> Option<ElfClass> {
        self.layout.map(|l| l.class)
    }

    pub fn endian(&self) -> Option<Endian> {
        self.layout.map(|l| l.endian)
    }

    /// The decoded `modinfo_t`; `None` when it could not be decoded (then
    /// [`crate::validate::validate`] says why).
    pub fn modinfo(&self) -> Option<&ModInfo> {
        self.decoded().0.as_ref()
    }

    /// Text size as the kernel computes it (what `modstat` shows as
    /// SIZE): all PROGBITS/NOBITS sections with `SHF_EXECINSTR`, each
    /// aligned to its `sh_addralign` with the kernel's arithmetic.
    pub fn text_size(&self) -> u64 {
        self.regions.text
    }

    /// All region sizes; see [`Regions`].
    pub fn regions(&self) -> Regions {
        self.regions
    }

    /// Names of the defined `STB_GLOBAL` symbols (what the kernel checks
    /// for clashes and exports to later modules), sorted.
    pub fn defined_globals(&self) -> Vec<String> {
        self.global_names(|s| s.bind == elf::STB_GLOBAL && s.shndx != elf::SHN_UNDEF)
    }

    /// Names of the undefined `STB_GLOBAL` symbols, which the kernel
    /// resolves against itself and loaded modules, sorted.
    pub fn undefined_globals(&self) -> Vec<String> {
        self.global_names(|s| s.bind == elf::STB_GLOBAL && s.shndx == elf::SHN_UNDEF)
    }

    /// Names of undefined `STB_WEAK` symbols (refused by the kernel when a
    /// relocation uses them), sorted.
    pub fn undefined_weak(&self) -> Vec<String> {
        self.global_names(|s| s.bind == elf::STB_WEAK && s.shndx == elf::SHN_UNDEF)
    }

    /// The section headers, when the section table can be read.
    pub fn sections(&self) -> Vec<SectionInfo> {
        let Some(elf) = self.elf().filter(Elf::table_ok) else {
            return Vec::new();
        };
        (0..u32::from(elf.l.e_shnum))
            .filter_map(|i| {
                let s = elf.shdr(i)?;
                let name = elf
                    .section_name(&s)
                    .map(|n| String::from_utf8_lossy(n).into_owned())
                    .unwrap_or_default();
                Some(SectionInfo {
                    index: i,
                    name,
                    sh_type: s.sh_type,
                    flags: s.flags,
                    offset: s.offset,
                    size: s.size,
                    addralign: s.addralign,
                    link: s.link,
                    info: s.info,
                })
            })
            .collect()
    }

    /// Relocation types used in all REL/RELA sections, by type number.
    pub fn relocation_types(&self) -> Vec<RelocUse> {
        let Some(elf) = self.elf().filter(Elf::table_ok) else {
            return Vec::new();
        };
        let mut counts: BTreeMap<u32, u64> = BTreeMap::new();
        for i in 0..u32::from(elf.l.e_shnum) {
            let Some(s) = elf.shdr(i) else { continue };
            if s.sh_type == elf::SHT_REL || s.sh_type == elf::SHT_RELA {
                for r in elf.relocs(&s) {
                    *counts.entry(r.r_type).or_default() += 1;
                }
            }
        }
        let em = elf.l.e_machine;
        counts
            .into_iter()
            .map(|(r_type, count)| RelocUse {
                r_type,
                name: reloc_name(em, r_type),
                count,
            })
            .collect()
    }

    pub(crate) fn elf(&self) -> Option<Elf<'_>> {
        self.layout.map(|l| {
            let mut elf = Elf::new(&self.data, l);
            elf.watch = self.watch.as_deref();
            elf.shdrs = self.shdrs.as_deref();
            let base = elf;
            elf.hot = self.hot.map(|i| {
                let s = base.shdr(i?)?;
                Some((s.index, base.contents(&s)?))
            });
            elf
        })
    }

    pub(crate) fn notes(&self) -> &[Note] {
        &self.decoded().1
    }

    /// The ELF header as read: the file's first bytes, at most as many as
    /// the largest header (ELF64) has.
    pub(crate) fn bytes(&self) -> &[u8] {
        self.data.available(0, EHDR_MAX)
    }

    /// Whether the file was truncated while it was being read: a read of
    /// a range inside the size it had when opened came up short, as the
    /// kernel's would now. Everything read from it (descriptor, sections,
    /// symbols, findings) is then unreliable. [`crate::validate::validate`]
    /// reports it as a single [`Check::FileChanged`] finding.
    pub fn changed_while_read(&self) -> bool {
        self.data.changed()
    }

    fn global_names(&self, keep: impl Fn(&SymEnt) -> bool) -> Vec<String> {
        let Some(elf) = self.elf().filter(Elf::table_ok) else {
            return Vec::new();
        };
        let Some(symtab) = elf.first_of_type(elf::SHT_SYMTAB) else {
            return Vec::new();
        };
        let mut names = BTreeSet::new();
        elf.for_each_symbol(&symtab, |_, sym, name| {
            if keep(sym) && !name.is_empty() {
                names.insert(String::from_utf8_lossy(name).into_owned());
            }
        });
        names.into_iter().collect()
    }
}

pub use crate::osrev::version_text;

pub use crate::rules::split_required;

/// Names of the defined global (and weak) symbols of an ELF file, such as
/// NetBSD's `/dev/ksyms` or an `nm`-style text list (one name per line,
/// or `nm` output, whose undefined `U` entries are skipped). Any machine
/// or class; every symbol table in the file is read.
pub fn read_symbol_table(path: &Path) -> Result<BTreeSet<String>, KmodError> {
    let (mut data, shdrs) = read_file(path, &[elf::SHT_SYMTAB, elf::SHT_DYNSYM], &mut |_| {})?;
    let names = if parse_layout(data.available(0, EHDR_MAX)).is_some() {
        symbol_table(&data, shdrs.as_deref())
    } else {
        // Not ELF: a list of names, read whole.
        data.read(&[(0, u64::MAX)])?;
        let all = data.get(0, data.len()).unwrap_or_default();
        text_symbol_list(all).ok_or(KmodError::Io(Errno::EFTYPE))
    };
    if data.changed() {
        return Err(KmodError::Io(FILE_CHANGED_ERRNO));
    }
    names
}

pub(crate) fn symbol_table(
    data: &Image,
    shdrs: Option<&[Shdr]>,
) -> Result<BTreeSet<String>, KmodError> {
    let Some(layout) = parse_layout(data.available(0, EHDR_MAX)) else {
        return Err(KmodError::Io(Errno::EFTYPE));
    };
    let mut elf = Elf::new(data, layout);
    elf.shdrs = shdrs;
    let mut names = BTreeSet::new();
    if !elf.table_ok() {
        return Err(KmodError::Io(Errno::EFTYPE));
    }
    for i in 0..u32::from(layout.e_shnum) {
        let Some(s) = elf.shdr(i) else { continue };
        if s.sh_type != elf::SHT_SYMTAB && s.sh_type != elf::SHT_DYNSYM {
            continue;
        }
        elf.for_each_symbol(&s, |_, sym, name| {
            let exported = sym.bind == elf::STB_GLOBAL || sym.bind == elf::STB_WEAK;
            if exported && sym.shndx != elf::SHN_UNDEF && !name.is_empty() {
                names.insert(String::from_utf8_lossy(name).into_owned());
            }
        });
    }
    Ok(names)
}

fn text_symbol_list(data: &[u8]) -> Option<BTreeSet<String>> {
    let text = std::str::from_utf8(data).ok()?;
    let mut names = BTreeSet::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        let name = match fields.as_slice() {
            [name] => name,
            // nm: "[value] type name"; keep defined external symbols.
            [.., kind, name] => {
                let defined_extern =
                    kind.len() == 1 && kind.chars().all(|c| c.is_ascii_uppercase()) && *kind != "U";
                if !defined_extern {
                    continue;
                }
                name
            }
            [] => continue,
        };
        names.insert((*name).to_string());
    }
    Some(names)
}

/// The largest ELF header (ELF64). The kernel reads `sizeof(Elf_Ehdr)`
/// of its own class; the validator judges the header in that class.
pub(crate) const EHDR_MAX: u64 = 64;

/// Relocation tables at least this large are not read with the file but
/// in chunks as they are looked at ([`Elf::relocs`]): they are most of a
/// large module, and a chunk at a time through one buffer costs a copy
/// from the file's cache where holding them all would cost a fresh page
/// of memory for every 4 KiB (the 20 MB module of bench/run took about 30%
/// longer to check that way).
const STREAMED_TABLE: u64 = 1 << 20;

/// The stages of reading a file, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReadStage {
    /// The ELF header was read.
    Header,
    /// The section header table was read.
    Table,
}

/// Reads a file the way `kobj_load` does: the ELF header; when it is one
/// the kernel would go on with, the section header table; when that lies
/// inside the file, the contents of the sections of the types in
/// `symbol_types` and of the string tables they link to, of the
/// section-name table and of every REL and RELA section smaller than
/// [`STREAMED_TABLE`] (whole entries inside the file only, as the kernel
/// rounds sizes down; the validator and the reader look at all of them).
/// Each range is cut to the file's size; one that lies partly outside it
/// is then not [`Elf::contents`] (the kernel's read would come up short:
/// EINVAL) but its entries inside the file can be looked at. Larger
/// relocation tables are read a chunk at a time whenever they are looked
/// at ([`Elf::relocs`]), the descriptor and its strings when they are found
/// ([`Image::fetch`]), the module's other sections never (the kernel copies
/// them into memory; nothing checks their bytes). A device has no size:
/// it is read from its start, as far as the last section it is asked
/// about, the descriptor's included ([`crate::image::DEVICE_LIMIT`]).
pub(crate) fn read_file(
    path: &Path,
    symbol_types: &[u32],
    between: &mut dyn FnMut(ReadStage),
) -> Result<(Image, Option<Vec<Shdr>>), KmodError> {
    let mut image = Image::open(path)?;
    image.read(&[(0, EHDR_MAX)])?;
    between(ReadStage::Header);
    let Some(l) = parse_layout(image.available(0, EHDR_MAX)) else {
        return Ok((image, None));
    };
    let table_len = {
        let elf = Elf::new(&image, l);
        let plausible =
            l.e_shnum != 0 && l.e_shoff != 0 && u64::from(l.e_shentsize) == elf.shdr_size();
        if !plausible {
            return Ok((image, None));
        }
        u64::from(l.e_shnum) * elf.shdr_size()
    };
    // A device is read from its start: the table with the rest. A file's
    // table is decoded as it is read, not held (the headers are looked at
    // decoded, many times each).
    if image.is_device() {
        image.read(&[(l.e_shoff, table_len)])?;
    }
    if !Elf::new(&image, l).table_ok() {
        return Ok((image, None));
    }
    let shdrs = decode_table(&image, l);
    between(ReadStage::Table);
    let mut ranges = Vec::new();
    {
        let mut elf = Elf::new(&image, l);
        elf.shdrs = Some(&shdrs);
        let device = image.is_device();
        let mut want = |s: &Shdr| {
            if s.sh_type != elf::SHT_NOBITS {
                ranges.push((s.offset, s.size));
            }
        };
        for i in 0..u32::from(l.e_shnum) {
            let Some(s) = elf.shdr(i) else { continue };
            if symbol_types.contains(&s.sh_type) {
                want(&s);
                if let Some(link) = elf.shdr(s.link) {
                    want(&link);
                }
            } else if s.sh_type == elf::SHT_REL || s.sh_type == elf::SHT_RELA {
                // A large table is read in chunks as it is looked at.
                if s.size < STREAMED_TABLE || !image.can_read() {
                    want(&s);
                }
            } else if device {
                want(&s);
            }
        }
        if let Some(names) = elf.shstrtab() {
            want(&names);
        }
    }
    image.read(&ranges)?;
    Ok((image, Some(shdrs)))
}

/// The section headers in the table, as far as it can be read, decoded
/// as they are read.
fn decode_table(image: &Image, l: Layout) -> Vec<Shdr> {
    let elf = Elf::new(image, l);
    let size = elf.shdr_size() as usize;
    let mut out = Vec::with_capacity(usize::from(l.e_shnum));
    image.scan(l.e_shoff, u64::from(l.e_shnum) * size as u64, size, |run| {
        for entry in run.chunks_exact(size) {
            let index = out.len() as u32;
            if let Some(mut s) = elf.shdr_in(entry) {
                s.index = index;
                out.push(s);
            }
        }
    });
    out
}

// ---------------------------------------------------------------------
// A bounds-checked view of an ELF object of either class and byte order.

/// The ELF header fields the kernel looks at.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Layout {
    pub class: ElfClass,
    pub endian: Endian,
    pub e_type: u16,
    pub e_machine: u16,
    pub e_shoff: u64,
    pub e_shentsize: u16,
    pub e_shnum: u16,
    pub e_shstrndx: u16,
}

/// Parses the ELF header (the file's first bytes) in the file's own class
/// and byte order; `None` when the file is too short, not ELF, or its
/// class or byte order is not one ELF defines.
pub(crate) fn parse_layout(data: &[u8]) -> Option<Layout> {
    let ident = data.get(..EI_NIDENT)?;
    if ident[..4] != elf::ELFMAG {
        return None;
    }
    let class = match ident[EI_CLASS] {
        elf::ELFCLASS32 => ElfClass::Elf32,
        elf::ELFCLASS64 => ElfClass::Elf64,
        _ => return None,
    };
    let endian = match ident[EI_DATA] {
        elf::ELFDATA2LSB => Endian::Little,
        elf::ELFDATA2MSB => Endian::Big,
        _ => return None,
    };
    match class {
        ElfClass::Elf64 => {
            let h: &elf::FileHeader64<Endianness> = header_pod(data)?;
            Some(layout_of(h, class, endian))
        }
        ElfClass::Elf32 => {
            let h: &elf::FileHeader32<Endianness> = header_pod(data)?;
            Some(layout_of(h, class, endian))
        }
    }
}

fn layout_of<H: FileHeader<Endian = Endianness>>(h: &H, class: ElfClass, endian: Endian) -> Layout {
    let e = endian.object();
    Layout {
        class,
        endian,
        e_type: h.e_type(e),
        e_machine: h.e_machine(e),
        e_shoff: h.e_shoff(e).into(),
        e_shentsize: h.e_shentsize(e),
        e_shnum: h.e_shnum(e),
        e_shstrndx: h.e_shstrndx(e),
    }
}

fn header_pod<T: pod::Pod>(data: &[u8]) -> Option<&T> {
    pod::from_bytes::<T>(data.get(..std::mem::size_of::<T>())?)
        .ok()
        .map(|(t, _)| t)
}

/// A `T` at `at` in `bytes`.
fn pod_in<T: pod::Pod>(bytes: &[u8], at: usize) -> Option<&T> {
    let end = at.checked_add(std::mem::size_of::<T>())?;
    pod::from_bytes::<T>(bytes.get(at..end)?)
        .ok()
        .map(|(t, _)| t)
}

/// A section header, widened to 64 bits.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Shdr {
    pub index: u32,
    pub name: u32,
    pub sh_type: u32,
    pub flags: u64,
    pub offset: u64,
    pub size: u64,
    pub link: u32,
    pub info: u32,
    pub addralign: u64,
}

impl Shdr {
    pub fn is_progtab(&self) -> bool {
        self.sh_type == elf::SHT_PROGBITS || self.sh_type == elf::SHT_NOBITS
    }
}

/// A symbol, widened to 64 bits.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SymEnt {
    pub name: u32,
    pub bind: u8,
    pub shndx: u16,
    pub value: u64,
}

/// A relocation entry; `addend` is `None` for REL (implicit addend).
#[derive(Debug, Clone, Copy)]
pub(crate) struct RelEnt {
    pub offset: u64,
    pub sym: u32,
    pub r_type: u32,
    pub addend: Option<i64>,
}

/// An ELF object over what was read of it: every accessor answers from
/// the ranges read ([`read_file`]) and treats anything else as outside
/// the file.
#[derive(Clone, Copy)]
pub(crate) struct Elf<'a> {
    pub data: &'a Image,
    pub l: Layout,
    /// The section header table, as far as it was read.
    table: &'a [u8],
    /// The descriptor's places, for passes over relocation tables.
    watch: Option<&'a Watch>,
    /// The section headers decoded once (the checks look at each many
    /// times): those read, in order.
    shdrs: Option<&'a [Shdr]>,
    /// The contents of the sections looked at entry by entry (the symbol
    /// table and its names), by section index, found once.
    hot: [Option<(u32, &'a [u8])>; 2],
}

impl<'a> Elf<'a> {
    pub fn new(data: &'a Image, l: Layout) -> Elf<'a> {
        let mut elf = Elf {
            data,
            l,
            table: &[],
            watch: None,
            shdrs: None,
            hot: [None; 2],
        };
        let len = u64::from(l.e_shnum) * elf.shdr_size();
        elf.table = data.available(l.e_shoff, len);
        elf
    }

    /// With the section headers decoded as the file was read
    /// ([`read_file`] does not keep the table itself).
    pub fn with_shdrs(mut self, shdrs: &'a [Shdr]) -> Elf<'a> {
        self.shdrs = Some(shdrs);
        self
    }

    pub fn shdr_size(&self) -> u64 {
        match self.l.class {
            ElfClass::Elf32 => 40,
            ElfClass::Elf64 => 64,
        }
    }

    pub fn sym_size(&self) -> u64 {
        match self.l.class {
            ElfClass::Elf32 => 16,
            ElfClass::Elf64 => 24,
        }
    }

    pub fn rel_size(&self, rela: bool) -> u64 {
        match (self.l.class, rela) {
            (ElfClass::Elf32, false) => 8,
            (ElfClass::Elf32, true) => 12,
            (ElfClass::Elf64, false) => 16,
            (ElfClass::Elf64, true) => 24,
        }
    }

    /// Whether the section header table is where the header says, of the
    /// size the kernel expects, and entirely inside the file.
    pub fn table_ok(&self) -> bool {
        self.l.e_shnum != 0
            && self.l.e_shoff != 0
            && u64::from(self.l.e_shentsize) == self.shdr_size()
            && self.within_file(self.l.e_shoff, u64::from(self.l.e_shnum) * self.shdr_size())
    }

    pub fn within_file(&self, offset: u64, len: u64) -> bool {
        offset
            .checked_add(len)
            .is_some_and(|end| end <= self.data.len())
    }

    pub fn shdr(&self, index: u32) -> Option<Shdr> {
        if let Some(all) = self.shdrs {
            return all.get(index as usize).copied();
        }
        self.decode_shdr(index)
    }

    /// Section header `index`, decoded from the table as read.
    fn decode_shdr(&self, index: u32) -> Option<Shdr> {
        if index >= u32::from(self.l.e_shnum) {
            return None;
        }
        let at = index as usize * self.shdr_size() as usize;
        let mut s = self.shdr_in(self.table.get(at..)?)?;
        s.index = index;
        Some(s)
    }

    /// The section header at the start of `t` (its index left 0).
    fn shdr_in(&self, t: &[u8]) -> Option<Shdr> {
        // Decoded with the byte order fixed at compile time.
        let at = 0;
        Some(match (self.l.class, self.l.endian) {
            (ElfClass::Elf64, Endian::Little) => shdr_of(
                pod_in::<elf::SectionHeader64<LittleEndian>>(t, at)?,
                LittleEndian,
            ),
            (ElfClass::Elf64, Endian::Big) => {
                shdr_of(pod_in::<elf::SectionHeader64<BigEndian>>(t, at)?, BigEndian)
            }
            (ElfClass::Elf32, Endian::Little) => shdr_of(
                pod_in::<elf::SectionHeader32<LittleEndian>>(t, at)?,
                LittleEndian,
            ),
            (ElfClass::Elf32, Endian::Big) => {
                shdr_of(pod_in::<elf::SectionHeader32<BigEndian>>(t, at)?, BigEndian)
            }
        })
    }

    /// The bytes of a section that has file contents; `None` for NOBITS,
    /// when the section lies (partly) outside the file, or when its
    /// contents were not read ([`read_file`] says which are).
    pub fn contents(&self, s: &Shdr) -> Option<&'a [u8]> {
        if let Some((_, bytes)) = self.hot.iter().flatten().find(|h| h.0 == s.index) {
            return Some(bytes);
        }
        if s.sh_type == elf::SHT_NOBITS {
            return None;
        }
        self.data.get(s.offset, s.size)
    }

    /// `len` bytes at `offset` in a section that lies inside the file,
    /// read now when they were not read with the file (the descriptor and
    /// its strings).
    fn section_bytes(&self, s: &Shdr, offset: u64, len: u64) -> Option<Cow<'a, [u8]>> {
        let end = offset.checked_add(len)?;
        if s.sh_type == elf::SHT_NOBITS || end > s.size || !self.within_file(s.offset, s.size) {
            return None;
        }
        self.data.fetch(s.offset + offset, len)
    }

    /// The section-name table as the kernel accepts it: `e_shstrndx`
    /// non-zero and in range, a non-empty `SHT_STRTAB`.
    pub fn shstrtab(&self) -> Option<Shdr> {
        let idx = self.l.e_shstrndx;
        if idx == elf::SHN_UNDEF {
            return None;
        }
        let s = self.shdr(u32::from(idx))?;
        (s.size != 0 && s.sh_type == elf::SHT_STRTAB).then_some(s)
    }

    /// A section's name; the kernel names a section only when its
    /// `sh_name` is non-zero.
    pub fn section_name(&self, s: &Shdr) -> Option<&'a [u8]> {
        if s.name == 0 {
            return None;
        }
        let table = self.shstrtab()?;
        self.string_at(&table, u64::from(s.name))
    }

    /// The NUL-terminated string at `offset` in a string table, bounded by
    /// the table.
    pub fn string_at(&self, table: &Shdr, offset: u64) -> Option<&'a [u8]> {
        let bytes = self.contents(table)?;
        let rest = bytes.get(usize::try_from(offset).ok()?..)?;
        let end = rest.iter().position(|&b| b == 0)?;
        Some(&rest[..end])
    }

    /// The first section of a type.
    pub fn first_of_type(&self, sh_type: u32) -> Option<Shdr> {
        (0..u32::from(self.l.e_shnum))
            .filter_map(|i| self.shdr(i))
            .find(|s| s.sh_type == sh_type)
    }

    pub fn symbol_count(&self, symtab: &Shdr) -> u64 {
        symtab.size / self.sym_size()
    }

    pub fn symbol(&self, symtab: &Shdr, index: u32) -> Option<SymEnt> {
        if u64::from(index) >= self.symbol_count(symtab) {
            return None;
        }
        if let Some((_, table)) = self.hot[0].filter(|h| h.0 == symtab.index) {
            return self.sym_in(table, index as usize * self.sym_size() as usize);
        }
        let at = symtab
            .offset
            .checked_add(u64::from(index) * self.sym_size())?;
        self.sym_in(self.data.get(at, self.sym_size())?, 0)
    }

    /// The symbol at `at` in `bytes` (a symbol table's).
    fn sym_in(&self, bytes: &[u8], at: usize) -> Option<SymEnt> {
        let b = bytes;
        Some(match (self.l.class, self.l.endian) {
            (ElfClass::Elf64, Endian::Little) => {
                sym_of(pod_in::<elf::Sym64<LittleEndian>>(b, at)?, LittleEndian)
            }
            (ElfClass::Elf64, Endian::Big) => {
                sym_of(pod_in::<elf::Sym64<BigEndian>>(b, at)?, BigEndian)
            }
            (ElfClass::Elf32, Endian::Little) => {
                sym_of(pod_in::<elf::Sym32<LittleEndian>>(b, at)?, LittleEndian)
            }
            (ElfClass::Elf32, Endian::Big) => {
                sym_of(pod_in::<elf::Sym32<BigEndian>>(b, at)?, BigEndian)
            }
        })
    }

    pub fn symbol_name(&self, symtab: &Shdr, sym: &SymEnt) -> Option<&'a [u8]> {
        let strtab = self.shdr(symtab.link)?;
        self.string_at(&strtab, u64::from(sym.name))
    }

    /// Calls `f(index, symbol, name)` for every readable symbol after the
    /// null entry. Names that cannot be read are passed as empty.
    pub fn for_each_symbol(&self, symtab: &Shdr, mut f: impl FnMut(u32, &SymEnt, &[u8])) {
        let count = self.symbol_count(symtab).min(u64::from(u32::MAX));
        // The table and its names looked up once, not for each symbol.
        let size = self.sym_size();
        let table = self.data.available(symtab.offset, count * size);
        let names = self.shdr(symtab.link).and_then(|t| self.contents(&t));
        for i in 1..count as u32 {
            let Some(sym) = self.sym_in(table, i as usize * size as usize) else {
                break;
            };
            let name = names
                .and_then(|n| {
                    let rest = n.get(usize::try_from(sym.name).ok()?..)?;
                    Some(&rest[..rest.iter().position(|&b| b == 0)?])
                })
                .unwrap_or(&[]);
            f(i, &sym, name);
        }
    }

    /// The entries of a REL or RELA section that lie inside the file
    /// (whole entries only, as the kernel rounds the size down): from
    /// what was read, or for a large table read from the file in chunks as
    /// they are needed ([`STREAMED_TABLE`]).
    pub fn relocs(&self, s: &Shdr) -> RelIter<'a> {
        let rela = s.sh_type == elf::SHT_RELA;
        let entsize = self.rel_size(rela);
        let fmt = RelFormat {
            class: self.l.class,
            endian: self.l.endian,
            rela,
        };
        let inside = s.size.min(self.data.len().saturating_sub(s.offset));
        let len = inside - inside % entsize;
        let tap = self.watch.filter(|w| w.section == s.info).map(|watch| Tap {
            watch,
            table: s.index,
            found: [None; 3],
        });
        let table = match self.data.get(s.offset, len) {
            Some(t) => t,
            None if self.data.can_read() => {
                return RelIter::streamed(self.data, s.offset, s.offset + len, entsize, fmt, tap)
            }
            // Cut short by a read that was: whole entries of what is there.
            None => {
                let t = self.data.available(s.offset, len);
                &t[..t.len() - t.len() % entsize as usize]
            }
        };
        RelIter {
            entries: Entries::Read(table.chunks_exact(entsize as usize), table),
            fmt,
            tap,
        }
    }

    /// Region sizes with the kernel's alignment arithmetic: `int mask =
    /// sh_addralign - 1; size += mask; size &= ~mask; size += sh_size`, in
    /// the kernel's `size_t` (64 or 32 bits).
    pub fn regions(&self) -> Regions {
        let wide = self.l.class == ElfClass::Elf64;
        let mut r = Regions::default();
        for i in 0..u32::from(self.l.e_shnum) {
            let Some(s) = self.shdr(i) else { continue };
            if !s.is_progtab() {
                continue;
            }
            let region = if s.flags & u64::from(elf::SHF_EXECINSTR) != 0 {
                &mut r.text
            } else if s.flags & u64::from(elf::SHF_WRITE) == 0 {
                &mut r.rodata
            } else {
                &mut r.data
            };
            *region = kernel_align_add(*region, s.addralign, s.size, wide);
            r.single = kernel_align_add(r.single, s.addralign, s.size, wide);
        }
        r
    }
}

/// One step of the kernel's region sizing, overflow and all.
pub(crate) fn kernel_align_add(size: u64, addralign: u64, add: u64, wide: bool) -> u64 {
    let mask = addralign.wrapping_sub(1) as u32 as i32;
    if wide {
        let m = mask as i64 as u64;
        (size.wrapping_add(m) & !m).wrapping_add(add)
    } else {
        let m = mask as u32;
        let s = size as u32;
        u64::from((s.wrapping_add(m) & !m).wrapping_add(add as u32))
    }
}

fn shdr_of<S: object::read::elf::SectionHeader>(s: &S, e: S::Endian) -> Shdr {
    Shdr {
        index: 0,
        name: s.sh_name(e),
        sh_type: s.sh_type(e),
        flags: s.sh_flags(e).into(),
        offset: s.sh_offset(e).into(),
        size: s.sh_size(e).into(),
        link: s.sh_link(e),
        info: s.sh_info(e),
        addralign: s.sh_addralign(e).into(),
    }
}

fn sym_of<S: object::read::elf::Sym>(s: &S, e: S::Endian) -> SymEnt {
    SymEnt {
        name: s.st_name(e),
        bind: s.st_bind(),
        shndx: s.st_shndx(e),
        value: s.st_value(e).into(),
    }
}

/// How the entries of one REL or RELA table are laid out.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RelFormat {
    class: ElfClass,
    endian: Endian,
    rela: bool,
}

impl RelFormat {
    fn entsize(self) -> usize {
        match (self.class, self.rela) {
            (ElfClass::Elf32, false) => 8,
            (ElfClass::Elf32, true) => 12,
            (ElfClass::Elf64, false) => 16,
            (ElfClass::Elf64, true) => 24,
        }
    }

    /// One entry (`r` is exactly one entry long), decoded with the
    /// layout fixed at compile time: there may be millions.
    #[inline(always)]
    fn decode(self, r: &[u8]) -> RelEnt {
        match (self.class, self.endian) {
            (ElfClass::Elf64, Endian::Little) => decode64(r, self.rela, u64::from_le_bytes),
            (ElfClass::Elf64, Endian::Big) => decode64(r, self.rela, u64::from_be_bytes),
            (ElfClass::Elf32, Endian::Little) => decode32(r, self.rela, u32::from_le_bytes),
            (ElfClass::Elf32, Endian::Big) => decode32(r, self.rela, u32::from_be_bytes),
        }
    }
}

#[inline(always)]
fn decode64(r: &[u8], rela: bool, word: impl Fn([u8; 8]) -> u64) -> RelEnt {
    let head: [u8; 16] = r[..16].try_into().unwrap_or([0; 16]);
    let at = |i: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&head[i..i + 8]);
        word(w)
    };
    let info = at(8);
    RelEnt {
        offset: at(0),
        sym: (info >> 32) as u32,
        r_type: info as u32,
        addend: rela.then(|| word(r[16..24].try_into().unwrap_or([0; 8])) as i64),
    }
}

#[inline(always)]
fn decode32(r: &[u8], rela: bool, word: impl Fn([u8; 4]) -> u32) -> RelEnt {
    let head: [u8; 8] = r[..8].try_into().unwrap_or([0; 8]);
    let info = word([head[4], head[5], head[6], head[7]]);
    RelEnt {
        offset: u64::from(word([head[0], head[1], head[2], head[3]])),
        sym: info >> 8,
        r_type: info & 0xff,
        addend: rela.then(|| i64::from(word(r[8..12].try_into().unwrap_or([0; 4])) as i32)),
    }
}

/// How much of a streamed relocation table is read at a time.
const RELOC_CHUNK: usize = 128 << 10;

/// The entries of one REL or RELA table, decoded straight from the
/// table's bytes (cut to whole entries inside the file): all of them
/// when they were read with the file, else a chunk at a time.
pub(crate) struct RelIter<'a> {
    entries: Entries<'a>,
    fmt: RelFormat,
    /// Notes the descriptor's relocations on the way (see [`Watch`]).
    tap: Option<Tap<'a>>,
}

enum Entries<'a> {
    /// The table as read with the file: its entries still to come, and
    /// all of it.
    Read(std::slice::ChunksExact<'a, u8>, &'a [u8]),
    /// Read a chunk at a time.
    Streamed(Stream<'a>),
}

/// A relocation table read a chunk at a time through one buffer (its
/// memory touched once).
struct Stream<'a> {
    /// The chunk at hand, and where in it the next entry starts.
    chunk: Vec<u8>,
    pos: usize,
    entsize: usize,
    image: &'a Image,
    /// The next offset to read, and the table's end.
    next: u64,
    end: u64,
}

impl Stream<'_> {
    /// Reads the next chunk; false at the table's end, or when the read
    /// came up short (the image says so).
    #[inline(never)]
    fn refill(&mut self) -> bool {
        if self.next >= self.end {
            return false;
        }
        let step = (RELOC_CHUNK - RELOC_CHUNK % self.entsize) as u64;
        let n = (self.end - self.next).min(step) as usize;
        self.chunk.resize(n, 0);
        let got = self.image.read_at(self.next, &mut self.chunk);
        self.chunk.truncate(got - got % self.entsize);
        self.pos = 0;
        // After a short read, nothing more.
        self.next = if got == n {
            self.next + n as u64
        } else {
            self.end
        };
        !self.chunk.is_empty()
    }

    /// The rest of the chunk at hand, or the next chunk: whole entries.
    fn next_chunk(&mut self) -> Option<&[u8]> {
        if self.pos >= self.chunk.len() && !self.refill() {
            return None;
        }
        let at = self.pos;
        self.pos = self.chunk.len();
        Some(&self.chunk[at..])
    }
}

impl<'a> RelIter<'a> {
    fn streamed(
        image: &'a Image,
        from: u64,
        to: u64,
        entsize: u64,
        fmt: RelFormat,
        tap: Option<Tap<'a>>,
    ) -> Self {
        RelIter {
            entries: Entries::Streamed(Stream {
                chunk: Vec::new(),
                pos: 0,
                entsize: entsize as usize,
                image,
                next: from,
                end: to,
            }),
            fmt,
            tap,
        }
    }

    /// The whole table was passed over: the tap, if any, reports.
    #[cold]
    fn end_of_table(&mut self) {
        let whole = match &self.entries {
            Entries::Read(..) => true,
            Entries::Streamed(s) => !s.image.changed(),
        };
        if let Some(tap) = self.tap.take().filter(|_| whole) {
            tap.done();
        }
    }

    /// The raw bytes of the next run of entries (whole entries; the rest
    /// of the table, or of the chunk read last).
    fn next_chunk(&mut self) -> Option<&[u8]> {
        match &mut self.entries {
            Entries::Read(entries, table) => {
                let entsize = self.fmt.entsize();
                let rest = &table[table.len() - entries.len() * entsize..];
                *entries = rest[rest.len()..].chunks_exact(entsize);
                (!rest.is_empty()).then_some(rest)
            }
            Entries::Streamed(s) => s.next_chunk(),
        }
    }
}

impl Iterator for RelIter<'_> {
    type Item = RelEnt;

    #[inline]
    fn next(&mut self) -> Option<RelEnt> {
        let fmt = self.fmt;
        let r = match &mut self.entries {
            Entries::Read(entries, _) => entries.next().map(|r| fmt.decode(r)),
            Entries::Streamed(s) => {
                let end = s.pos + s.entsize;
                if end > s.chunk.len() {
                    if s.refill() {
                        return self.next();
                    }
                    None
                } else {
                    let r = &s.chunk[s.pos..end];
                    s.pos = end;
                    Some(fmt.decode(r))
                }
            }
        };
        match (&r, &mut self.tap) {
            (Some(r), Some(tap)) => tap.note(r),
            (None, Some(_)) => self.end_of_table(),
            _ => {}
        }
        r
    }

    /// Internal iteration (`for_each`, `fold`): a chunk at a time, as a
    /// table may hold millions of entries.
    fn fold<B, F>(mut self, mut acc: B, mut f: F) -> B
    where
        F: FnMut(B, RelEnt) -> B,
    {
        let fmt = self.fmt;
        let entsize = fmt.entsize();
        let mut tap = self.tap.take();
        while let Some(run) = self.next_chunk() {
            for entry in run.chunks_exact(entsize) {
                let r = fmt.decode(entry);
                if let Some(tap) = &mut tap {
                    tap.note(&r);
                }
                acc = f(acc, r);
            }
        }
        self.tap = tap;
        self.end_of_table();
        acc
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = match &self.entries {
            Entries::Read(entries, _) => entries.len(),
            Entries::Streamed(s) => {
                (s.chunk.len() - s.pos) / s.entsize + ((s.end - s.next) / s.entsize as u64) as usize
            }
        };
        (n, Some(n))
    }
}

/// Where a decoded pointer points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ptr {
    Null,
    Into { section: u32, offset: u64 },
}

/// Decodes `link_set_modules` → `modinfo_t` → strings, collecting notes.
struct Decoder<'e, 'a> {
    elf: &'e Elf<'a>,
    symtab: Option<Shdr>,
    notes: Vec<Note>,
    /// (section, offset, relocation there) found ahead of time.
    prefetched: Vec<(u32, u64, Option<RelEnt>)>,
}

/// Where the descriptor is (its section and offset), if it was found, and
/// the notes made finding it.
type Located = (Option<(u32, u64)>, Vec<Note>);

/// Where the descriptor's three pointers lie (`desc_off` is where it
/// starts): after its `u_int` and `int`.
fn descriptor_places(desc_off: u64, ptr: u64) -> [u64; 3] {
    [8, 8 + ptr, 8 + 2 * ptr].map(|o| desc_off.wrapping_add(o))
}

/// The places of the descriptor's pointers, found when the file is
/// opened, and the relocations at them that passes over whole relocation
/// tables of their section have met. The validator makes such a pass over
/// every table; decoding the descriptor after it then needs no pass of
/// its own over what may be millions of entries, read from the file a
/// chunk at a time. A table not passed over whole is scanned as before.
#[derive(Debug)]
pub(crate) struct Watch {
    section: u32,
    places: [u64; 3],
    lo: u64,
    hi: u64,
    /// Per table (its section index): the last entry at each place.
    seen: std::sync::Mutex<Vec<(u32, [Option<RelEnt>; 3])>>,
}

impl Watch {
    fn new(section: u32, places: [u64; 3]) -> Watch {
        Watch {
            section,
            places,
            lo: places.iter().copied().min().unwrap_or(0),
            hi: places.iter().copied().max().unwrap_or(0),
            seen: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// What a whole pass over `table` met at `places` of `section`.
    fn seen(&self, section: u32, places: &[u64], table: u32) -> Option<[Option<RelEnt>; 3]> {
        if section != self.section || places != self.places {
            return None;
        }
        let seen = self.seen.lock().ok()?;
        seen.iter().find(|(t, _)| *t == table).map(|(_, r)| *r)
    }
}

/// A pass over one relocation table of the descriptor's section, noting
/// the last entry at each of the watched places.
struct Tap<'a> {
    watch: &'a Watch,
    table: u32,
    found: [Option<RelEnt>; 3],
}

impl Tap<'_> {
    #[inline(always)]
    fn note(&mut self, r: &RelEnt) {
        if r.offset >= self.watch.lo && r.offset <= self.watch.hi {
            for (slot, p) in self.found.iter_mut().zip(self.watch.places) {
                if r.offset == p {
                    *slot = Some(*r);
                }
            }
        }
    }

    /// The pass reached the table's end: what it met is now known.
    fn done(self) {
        if let Ok(mut seen) = self.watch.seen.lock() {
            if !seen.iter().any(|(t, _)| *t == self.table) {
                seen.push((self.table, self.found));
            }
        }
    }
}

/// The relocation the kernel applies last at each of `places` in `sec`
/// (it applies only relocation sections whose target is PROGBITS), in one
/// pass over the section's relocations.
fn relocs_at(elf: &Elf<'_>, sec: &Shdr, places: &[u64]) -> Vec<Option<RelEnt>> {
    let mut found = vec![None; places.len()];
    if sec.sh_type != elf::SHT_PROGBITS {
        return found;
    }
    for i in 0..u32::from(elf.l.e_shnum) {
        let Some(rs) = elf.shdr(i) else { continue };
        let is_rel = rs.sh_type == elf::SHT_REL || rs.sh_type == elf::SHT_RELA;
        if !is_rel || rs.info != sec.index {
            continue;
        }
        // Found by a pass over the whole table made before (the
        // validator's): no pass of its own.
        if let Some(seen) = elf.watch.and_then(|w| w.seen(sec.index, places, rs.index)) {
            for (slot, r) in found.iter_mut().zip(seen) {
                if r.is_some() {
                    *slot = r;
                }
            }
            continue;
        }
        // Only the offsets matter until one matches: compare them raw.
        let table = elf.relocs(&rs);
        // Offsets are read with the layout fixed outside the loop (a
        // generic reader, inlined: a function pointer cost a call per
        // entry), and most fall outside the places' range.
        fn scan<const N: usize>(
            mut table: RelIter<'_>,
            places: &[u64],
            found: &mut [Option<RelEnt>],
            offset: impl Fn([u8; N]) -> u64,
        ) {
            let lo = places.iter().copied().min().unwrap_or(u64::MAX);
            let hi = places.iter().copied().max().unwrap_or(0);
            let fmt = table.fmt;
            let entsize = fmt.entsize();
            while let Some(run) = table.next_chunk() {
                for entry in run.chunks_exact(entsize) {
                    let mut head = [0u8; N];
                    head.copy_from_slice(&entry[..N]);
                    let at = offset(head);
                    if at < lo || at > hi {
                        continue;
                    }
                    if let Some(slot) = places.iter().position(|p| *p == at) {
                        found[slot] = Some(fmt.decode(entry));
                    }
                }
            }
        }
        match (table.fmt.class, table.fmt.endian) {
            (ElfClass::Elf64, Endian::Little) => {
                scan(table, places, &mut found, u64::from_le_bytes)
            }
            (ElfClass::Elf64, Endian::Big) => scan(table, places, &mut found, u64::from_be_bytes),
            (ElfClass::Elf32, Endian::Little) => scan(table, places, &mut found, |b| {
                u64::from(u32::from_le_bytes(b))
            }),
            (ElfClass::Elf32, Endian::Big) => scan(table, places, &mut found, |b| {
                u64::from(u32::from_be_bytes(b))
            }),
        }
    }
    found
}

impl<'e, 'a> Decoder<'e, 'a> {
    fn new(elf: &'e Elf<'a>) -> Self {
        Decoder {
            elf,
            symtab: elf.first_of_type(elf::SHT_SYMTAB),
            notes: Vec::new(),
            prefetched: Vec::new(),
        }
    }

    fn note(&mut self, check: Check, field: Field, reason: String) {
        self.notes.push(Note {
            check,
            field,
            reason,
            available: 0,
        });
    }

    /// Decodes the descriptor; `located` is what [`Decoder::locate`]
    /// found before, if it was asked.
    fn decode(mut self, located: Option<Located>) -> (Option<ModInfo>, Vec<Note>) {
        let at = match located {
            Some((at, notes)) => {
                self.notes = notes;
                at
            }
            None => self.descriptor_at(),
        };
        let info = at.and_then(|at| self.decode_inner(at));
        (info, self.notes)
    }

    /// Where the descriptor is, with what was noted on the way.
    fn locate(mut self) -> Located {
        let at = self.descriptor_at();
        (at, self.notes)
    }

    /// Where the descriptor is: the section and offset the pointer in
    /// `link_set_modules` leads to.
    fn descriptor_at(&mut self) -> Option<(u32, u64)> {
        let elf = *self.elf;
        let ptr = elf.l.class.pointer_size();
        if elf.shstrtab().is_none() {
            self.note(
                Check::LinkSetMissing,
                Field::LinkSet,
                "the object has no usable section-name table (.shstrtab), so the kernel \
                 cannot find section link_set_modules"
                    .into(),
            );
            return None;
        }
        let link_set = (0..u32::from(elf.l.e_shnum))
            .filter_map(|i| elf.shdr(i))
            .find(|s| s.is_progtab() && elf.section_name(s) == Some(b"link_set_modules"));
        let Some(link_set) = link_set else {
            self.note(
                Check::LinkSetMissing,
                Field::LinkSet,
                "no section link_set_modules: the object carries no module descriptor \
                 (it was not built with the MODULE() macro)"
                    .into(),
            );
            return None;
        };
        if link_set.size != ptr {
            // Whole pointers, or bytes when it is not a whole number (no
            // floating point, whose formatting code adds 17 KB to modload).
            let n = if link_set.size % ptr == 0 {
                format!("{} pointers", link_set.size / ptr)
            } else {
                "not a whole number of pointers".to_string()
            };
            self.note(
                Check::LinkSetSize,
                Field::LinkSet,
                format!(
                    "section link_set_modules is {} bytes ({n}); a module must hold exactly \
                     one {}-byte pointer there",
                    link_set.size, ptr
                ),
            );
            return None;
        }
        let (desc_sec, desc_off) = match self.pointer(&link_set, 0, Field::LinkSet)? {
            Ptr::Null => {
                self.note(
                    Check::UnrelocatedPointer,
                    Field::LinkSet,
                    "the pointer in link_set_modules is NULL: there is no descriptor to read"
                        .into(),
                );
                return None;
            }
            Ptr::Into { section, offset } => (section, offset),
        };
        Some((desc_sec, desc_off))
    }

    fn decode_inner(&mut self, (desc_sec, desc_off): (u32, u64)) -> Option<ModInfo> {
        let elf = *self.elf;
        let ptr = elf.l.class.pointer_size();
        let desc_shdr = elf.shdr(desc_sec)?;
        // The three pointers of the descriptor, in one pass over the
        // section's relocations (there may be very many).
        let places = descriptor_places(desc_off, ptr);
        for (place, r) in places.iter().zip(relocs_at(&elf, &desc_shdr, &places)) {
            self.prefetched.push((desc_sec, *place, r));
        }
        // modinfo_t: u_int, int, then three pointers (ILP32 20 bytes, LP64 32).
        let size = 8 + 3 * ptr;
        let bytes = self.bytes_at(&desc_shdr, desc_off, size, Field::Descriptor)?;
        let version = read_u32(&bytes[0..4], elf.l.endian);
        let class = read_u32(&bytes[4..8], elf.l.endian) as i32;
        let modcmd = self.pointer(&desc_shdr, desc_off + 8, Field::Modcmd);
        let has_modcmd = matches!(modcmd, Some(Ptr::Into { .. }));
        let name = match self.pointer(&desc_shdr, desc_off + 8 + ptr, Field::Name) {
            Some(Ptr::Into { section, offset }) => self.string(section, offset, Field::Name),
            Some(Ptr::Null) => {
                self.note(
                    Check::UndecodablePointer,
                    Field::Name,
                    "mi_name is NULL; the kernel would dereference it and crash".into(),
                );
                None
            }
            None => None,
        };
        let required_raw = match self.pointer(&desc_shdr, desc_off + 8 + 2 * ptr, Field::Required) {
            Some(Ptr::Into { section, offset }) => self.string(section, offset, Field::Required),
            _ => None,
        };
        let name = ModName::new(name?);
        let required = required_raw
            .as_deref()
            .map(split_required)
            .unwrap_or_default();
        Some(ModInfo {
            version,
            class,
            name,
            required_raw,
            required,
            has_modcmd,
        })
    }

    /// Decodes the pointer stored at `offset` in section `sec`, applying
    /// the relocation the kernel would apply there.
    fn pointer(&mut self, sec: &Shdr, offset: u64, field: Field) -> Option<Ptr> {
        let elf = *self.elf;
        let ptr = elf.l.class.pointer_size();
        let what = field.what();
        let raw = self.word_at(sec, offset, ptr)?;
        let found = match self
            .prefetched
            .iter()
            .find(|p| p.0 == sec.index && p.1 == offset)
        {
            Some(p) => p.2,
            None => relocs_at(&elf, sec, &[offset])[0],
        };
        let Some(r) = found else {
            if raw == 0 {
                return Some(Ptr::Null);
            }
            self.note(
                Check::UnrelocatedPointer,
                field,
                format!(
                    "{what} has no relocation and holds the fixed address {raw:#x}, which \
                     is nowhere inside the loaded module"
                ),
            );
            return None;
        };
        let Some(symtab) = self.symtab else {
            self.note(
                Check::UndecodablePointer,
                field,
                format!("{what} is relocated but the object has no symbol table"),
            );
            return None;
        };
        let Some(sym) = elf.symbol(&symtab, r.sym) else {
            self.note(
                Check::UnrelocatedPointer,
                field,
                format!(
                    "the relocation of {what} names symbol {} but the symbol table has only \
                     {}; the kernel skips it and reads the unrelocated value {raw:#x}",
                    r.sym,
                    elf.symbol_count(&symtab)
                ),
            );
            return None;
        };
        let sym_name = elf
            .symbol_name(&symtab, &sym)
            .map(printable_bytes)
            .unwrap_or_default();
        let Some(kind) = pointer_reloc(elf.l.e_machine, ptr, r.r_type) else {
            self.note(
                Check::UndecodablePointer,
                field,
                format!(
                    "{what} is filled by relocation type {} ({}), which does not store a \
                     {ptr}-byte pointer on this machine",
                    r.r_type,
                    reloc_name(elf.l.e_machine, r.r_type).unwrap_or("unknown")
                ),
            );
            return None;
        };
        // module_fetch_info() reads the link-set entry, mi_name and
        // mi_required before kobj_affix() applies relocations against
        // global symbols; mi_modcmd is called only after it (kern_module.c
        // r1.155 and r1.115), so a global modcmd is fine.
        if sym.bind != elf::STB_LOCAL && r.sym != 0 && field != Field::Modcmd {
            self.note(
                Check::GlobalPointerReloc,
                field,
                format!(
                    "{what} is relocated against the global symbol `{sym_name}`; the kernel \
                     reads this pointer before it applies relocations against global \
                     symbols, so it would read the unrelocated value {raw:#x} (declare the \
                     object static)"
                ),
            );
        }
        // REL keeps the addend in the place itself.
        let addend = r.addend.unwrap_or(match ptr {
            4 => i64::from(raw as u32 as i32),
            _ => raw as i64,
        });
        let wrap = |v: u64| if ptr == 4 { v & 0xffff_ffff } else { v };
        let addend = if kind == PointerReloc::Symbol {
            0
        } else if kind == PointerReloc::AbsolutePlusPlace && r.addend.is_some() {
            // sh3's and m68k's linkers add the place's contents too.
            addend.wrapping_add(match ptr {
                4 => i64::from(raw as u32 as i32),
                _ => raw as i64,
            })
        } else {
            addend
        };
        let (section, target) = match kind {
            PointerReloc::Relative => (sec.index, wrap(addend as u64)),
            // Absolute (with or without the place), Symbol.
            _ => match sym.shndx {
                elf::SHN_UNDEF if r.sym == 0 => {
                    let value = wrap(addend as u64);
                    if value == 0 {
                        return Some(Ptr::Null);
                    }
                    self.note(
                        Check::UnrelocatedPointer,
                        field,
                        format!(
                            "{what} is set to the fixed address {value:#x}, outside the module"
                        ),
                    );
                    return None;
                }
                elf::SHN_UNDEF => {
                    self.note(
                        Check::UndecodablePointer,
                        field,
                        format!(
                            "{what} points to the undefined symbol `{sym_name}`, which is not \
                             part of the module"
                        ),
                    );
                    return None;
                }
                idx if idx >= elf::SHN_LORESERVE => {
                    self.note(
                        Check::UndecodablePointer,
                        field,
                        format!(
                            "{what} points to symbol `{sym_name}` in special section {idx:#x} \
                             (absolute or common), not into the module's sections"
                        ),
                    );
                    return None;
                }
                idx => (u32::from(idx), wrap(sym.value.wrapping_add(addend as u64))),
            },
        };
        let Some(target_shdr) = elf.shdr(section) else {
            self.note(
                Check::PointerOutsideSection,
                field,
                format!("{what} points into section {section}, which does not exist"),
            );
            return None;
        };
        if !target_shdr.is_progtab() {
            self.note(
                Check::PointerOutsideSection,
                field,
                format!(
                    "{what} points into section {section} of type {}, which the kernel does \
                     not load",
                    section_type_name(target_shdr.sh_type)
                ),
            );
            return None;
        }
        Some(Ptr::Into {
            section,
            offset: target,
        })
    }

    fn section_label(&self, s: &Shdr) -> String {
        match self.elf.section_name(s) {
            Some(n) => format!("section {} ({})", s.index, printable_bytes(n)),
            None => format!("section {}", s.index),
        }
    }

    /// `len` bytes at `offset` in a section (zeros for NOBITS).
    fn bytes_at(&mut self, s: &Shdr, offset: u64, len: u64, field: Field) -> Option<Vec<u8>> {
        let fits = offset.checked_add(len).is_some_and(|end| end <= s.size);
        if !fits {
            let label = self.section_label(s);
            self.note(
                Check::PointerOutsideSection,
                field,
                format!(
                    "{} lies at offset {offset:#x} of {label}, which is only {} bytes long \
                     ({len} bytes needed)",
                    field.what(),
                    s.size
                ),
            );
            return None;
        }
        if s.sh_type == elf::SHT_NOBITS {
            return Some(vec![0; len as usize]);
        }
        if !self.elf.within_file(s.offset, s.size) {
            let label = self.section_label(s);
            self.note(
                Check::ContentOutsideFile,
                field,
                format!("{label} extends past the end of the file"),
            );
            return None;
        }
        self.elf
            .section_bytes(s, offset, len)
            .map(std::borrow::Cow::into_owned)
    }

    fn word_at(&mut self, s: &Shdr, offset: u64, size: u64) -> Option<u64> {
        let bytes = self.bytes_at(s, offset, size, Field::Descriptor)?;
        Some(match size {
            4 => u64::from(read_u32(&bytes, self.elf.l.endian)),
            _ => read_u64(&bytes, self.elf.l.endian),
        })
    }

    /// The NUL-terminated string at `offset` in section `sec`.
    fn string(&mut self, sec: u32, offset: u64, field: Field) -> Option<Vec<u8>> {
        let s = self.elf.shdr(sec)?;
        let what = field.what();
        if offset > s.size {
            let label = self.section_label(&s);
            self.note(
                Check::PointerOutsideSection,
                field,
                format!(
                    "{what} points {offset:#x} bytes into {label}, which is only {} bytes long",
                    s.size
                ),
            );
            return None;
        }
        if s.sh_type == elf::SHT_NOBITS {
            return Some(Vec::new());
        }
        if !self.elf.within_file(s.offset, s.size) {
            let label = self.section_label(&s);
            self.note(
                Check::ContentOutsideFile,
                field,
                format!("{label} extends past the end of the file"),
            );
            return None;
        }
        // The rest of the section, at most MAX_STRING bytes of it.
        let rest = s.size - offset;
        let window = self
            .elf
            .section_bytes(&s, offset, rest.min(MAX_STRING as u64))?;
        match window.iter().position(|&b| b == 0) {
            Some(end) => Some(window[..end].to_vec()),
            None => {
                let label = self.section_label(&s);
                let shown = printable_bytes(&window[..window.len().min(40)]);
                let reason = if (window.len() as u64) < rest {
                    format!("{what} is longer than {MAX_STRING} bytes without a NUL")
                } else {
                    format!(
                        "{what} (`{shown}`) runs to the end of {label} after {} bytes without \
                         a terminating NUL",
                        window.len()
                    )
                };
                self.notes.push(Note {
                    check: Check::StringWithoutNul,
                    field,
                    reason,
                    available: window.len() as u64,
                });
                None
            }
        }
    }
}

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

fn read_u32(b: &[u8], endian: Endian) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[..4]);
    match endian {
        Endian::Little => u32::from_le_bytes(a),
        Endian::Big => u32::from_be_bytes(a),
    }
}

fn read_u64(b: &[u8], endian: Endian) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[..8]);
    match endian {
        Endian::Little => u64::from_le_bytes(a),
        Endian::Big => u64::from_be_bytes(a),
    }
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn fixtures() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
    }

    /// A temporary file named after `tag` holding `bytes`.
    pub(crate) fn temp_file(tag: &str, bytes: &[u8]) -> std::path::PathBuf {
        let path = std::env::temp_dir().join(format!(
            "kmod-{tag}-{}-{:?}.kmod",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::write(&path, bytes).unwrap();
        path
    }

    /// A module file whose section header table sits 1 MiB past its
    /// sections (the example module, then zeros, then a copy of its
    /// section headers), written to a temporary file named after `tag`.
    /// Cutting it to a few pages cuts off the section table, which every
    /// check reads.
    pub(crate) fn big_module_file(tag: &str) -> std::path::PathBuf {
        let mut bytes = std::fs::read(fixtures().join("modules/example/example.kmod")).unwrap();
        let field = |at: usize, n: usize| -> usize {
            let mut v = [0u8; 8];
            v[..n].copy_from_slice(&bytes[at..at + n]);
            u64::from_le_bytes(v) as usize
        };
        let (shoff, shentsize, shnum) = (field(0x28, 8), field(0x3a, 2), field(0x3c, 2));
        let table = bytes[shoff..shoff + shentsize * shnum].to_vec();
        let new_shoff = (1 << 20) + 4096;
        bytes.resize(new_shoff, 0);
        bytes.extend_from_slice(&table);
        bytes[0x28..0x30].copy_from_slice(&(new_shoff as u64).to_le_bytes());
        temp_file(tag, &bytes)
    }

    /// Truncates the file at `path` (as someone else would) to `len`.
    pub(crate) fn truncate(path: &Path, len: u64) {
        let f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
        f.set_len(len).unwrap();
    }

    /// Opens `path`, cutting the file to `len` bytes (as someone else
    /// would) right after reading stage `at`.
    pub(crate) fn open_cut_after(path: &Path, at: ReadStage, len: u64) -> Kmod {
        Kmod::open_with(path, &mut |stage| {
            if stage == at {
                truncate(path, len);
            }
        })
        .unwrap()
    }

    #[test]
    fn a_file_cut_between_the_header_and_the_section_table_changed_while_read() {
        let path = big_module_file("cut-table");
        let size = std::fs::metadata(&path).unwrap().len();
        let k = open_cut_after(&path, ReadStage::Header, 8192);
        std::fs::remove_file(&path).unwrap();
        // The table lay inside the size fstat gave: its read came up short.
        assert!(k.changed_while_read());
        assert_eq!(k.file_size(), size);
        assert_eq!(&k.bytes()[..4], b"\x7fELF");
        // Nothing decoded from what was not there, and no panic.
        assert_eq!(k.modinfo(), None);
        let _ = (k.sections(), k.defined_globals(), k.relocation_types());
        // A clone knows too.
        assert!(k.clone().changed_while_read());
    }

    #[test]
    fn a_file_cut_between_the_section_table_and_the_sections_changed_while_read() {
        let bytes = std::fs::read(fixtures().join("modules/example/example.kmod")).unwrap();
        let whole = Kmod::from_bytes(bytes.clone());
        let symtab = whole
            .sections()
            .into_iter()
            .find(|s| s.sh_type == elf::SHT_SYMTAB)
            .unwrap();
        let path = temp_file("cut-symtab", &bytes);
        // Cut inside the symbol table, after the headers were read.
        let k = open_cut_after(&path, ReadStage::Table, symtab.offset + 8);
        std::fs::remove_file(&path).unwrap();
        assert!(k.changed_while_read());
        // The section headers were read whole before the cut (the names,
        // in .shstrtab, not: the reads stopped at the short one).
        let placed = |k: &Kmod| -> Vec<(u32, u64, u64)> {
            k.sections()
                .iter()
                .map(|s| (s.sh_type, s.offset, s.size))
                .collect()
        };
        assert_eq!(placed(&k), placed(&whole));
        let t = crate::validate::Target::new(1001000000, "amd64");
        let findings = crate::validate::validate(&k, &t);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].check, Check::FileChanged);
        assert_eq!(findings[0].errno, FILE_CHANGED_ERRNO);
        assert_eq!(findings[0].reason, FILE_CHANGED_REASON);
        // Cut after the descriptor was decoded: it is not read again.
        let path = temp_file("cut-late", &bytes);
        let k = Kmod::open(&path).unwrap();
        assert_eq!(k.modinfo().unwrap().name, "example");
        truncate(&path, 100);
        assert_eq!(k.modinfo().unwrap().name, "example");
        assert!(!k.changed_while_read());
        // Cut after opening, before the descriptor was asked for: it is
        // read then, and the read comes up short.
        std::fs::write(&path, &bytes).unwrap();
        let k = Kmod::open(&path).unwrap();
        truncate(&path, 100);
        std::fs::remove_file(&path).unwrap();
        assert_eq!(k.modinfo(), None);
        assert!(k.changed_while_read());
    }

    /// Every fixture and malformed module, from its file and from memory.
    fn module_files() -> Vec<std::path::PathBuf> {
        fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
            for e in std::fs::read_dir(dir).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    walk(&p, out);
                } else if p.extension().is_some_and(|x| x == "kmod" || x == "o") {
                    out.push(p);
                }
            }
        }
        let mut out = Vec::new();
        walk(&fixtures(), &mut out);
        walk(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/malformed"),
            &mut out,
        );
        out.sort();
        assert!(out.len() > 100, "{} module files", out.len());
        out
    }

    #[test]
    fn a_file_read_in_ranges_reads_as_the_whole_file_does() {
        use crate::validate::{file_findings, validate, Target};
        let targets = [
            Target::new(1001000000, "amd64"),
            Target::new(799003400, "amd64"),
            Target::new(1001000000, "i386"),
            Target::new(1001000000, "aarch64"),
            Target::new(1001000000, "sparc64"),
        ];
        for path in module_files() {
            let bytes = std::fs::read(&path).unwrap();
            let size = bytes.len() as u64;
            let read = Kmod::open(&path).unwrap();
            let whole = Kmod::from_bytes(bytes);
            let p = path.display();
            // The descriptor decoded after the validator's pass over the
            // relocations (which finds the descriptor's on the way) is the
            // one decoded by a pass of its own.
            let first = validate(&read, &targets[0]);
            assert_eq!(whole.modinfo(), read.modinfo(), "{p}");
            assert_eq!(first, validate(&whole, &targets[0]), "{p}");
            assert!(!read.changed_while_read(), "{p}");
            assert_eq!(read.file_size(), size, "{p}");
            // Never more than the file holds.
            assert!(
                read.data.held() <= size,
                "{p}: {} bytes read",
                read.data.held()
            );
            assert_eq!(
                read.bytes(),
                &whole.bytes()[..whole.bytes().len().min(64)],
                "{p}"
            );
            assert_eq!(read.modinfo(), whole.modinfo(), "{p}");
            assert_eq!(read.notes(), whole.notes(), "{p}");
            assert_eq!(read.regions(), whole.regions(), "{p}");
            assert_eq!(read.sections(), whole.sections(), "{p}");
            assert_eq!(read.relocation_types(), whole.relocation_types(), "{p}");
            assert_eq!(read.defined_globals(), whole.defined_globals(), "{p}");
            assert_eq!(read.undefined_globals(), whole.undefined_globals(), "{p}");
            assert_eq!(read.undefined_weak(), whole.undefined_weak(), "{p}");
            for t in &targets {
                assert_eq!(validate(&read, t), validate(&whole, t), "{p} for {t:?}");
            }
            let name = path.to_str().unwrap();
            assert_eq!(
                file_findings(name, &read),
                file_findings(name, &whole),
                "{p}"
            );
        }
    }

    /// The example module with its relocation tables moved past its end
    /// and each repeated to more than [`STREAMED_TABLE`] bytes (the same
    /// entries again and again: the same relocations, applied again).
    fn module_with_large_relocation_tables() -> Vec<u8> {
        let mut d = std::fs::read(fixtures().join("modules/example/example.kmod")).unwrap();
        let shoff = u64::from_le_bytes(d[0x28..0x30].try_into().unwrap()) as usize;
        let shnum = u16::from_le_bytes(d[0x3c..0x3e].try_into().unwrap()) as usize;
        for i in 1..shnum {
            let h = shoff + i * 64;
            let sh_type = u32::from_le_bytes(d[h + 4..h + 8].try_into().unwrap());
            if sh_type != elf::SHT_RELA {
                continue;
            }
            let off = u64::from_le_bytes(d[h + 0x18..h + 0x20].try_into().unwrap()) as usize;
            let size = u64::from_le_bytes(d[h + 0x20..h + 0x28].try_into().unwrap()) as usize;
            let table = d[off..off + size].to_vec();
            let copies = (STREAMED_TABLE as usize * 3 / 2) / size + 1;
            let at = d.len().next_multiple_of(8);
            d.resize(at, 0);
            for _ in 0..copies {
                d.extend_from_slice(&table);
            }
            d[h + 0x18..h + 0x20].copy_from_slice(&(at as u64).to_le_bytes());
            d[h + 0x20..h + 0x28].copy_from_slice(&((copies * size) as u64).to_le_bytes());
            // The last relocation at a place is the one applied: in the
            // last copy, mi_name's (the second entry of .rela.rodata,
            // at offset 16) points one byte further.
            let last = d.len() - size;
            let info = u32::from_le_bytes(d[h + 0x2c..h + 0x30].try_into().unwrap());
            let target_type = u32::from_le_bytes(
                d[shoff + info as usize * 64 + 4..shoff + info as usize * 64 + 8]
                    .try_into()
                    .unwrap(),
            );
            let flags = u64::from_le_bytes(
                d[shoff + info as usize * 64 + 8..shoff + info as usize * 64 + 16]
                    .try_into()
                    .unwrap(),
            );
            let rodata = target_type == elf::SHT_PROGBITS && flags == u64::from(elf::SHF_ALLOC);
            if rodata && size >= 48 {
                let e = last + 24;
                assert_eq!(u64::from_le_bytes(d[e..e + 8].try_into().unwrap()), 16);
                let addend = i64::from_le_bytes(d[e + 16..e + 24].try_into().unwrap());
                d[e + 16..e + 24].copy_from_slice(&(addend + 1).to_le_bytes());
            }
        }
        d
    }

    #[test]
    fn large_relocation_tables_are_read_in_chunks_as_the_whole_file_reads() {
        let d = module_with_large_relocation_tables();
        let path = temp_file("streamed", &d);
        let k = Kmod::open(&path).unwrap();
        let whole = Kmod::from_bytes(d.clone());
        // Not held: read a chunk at a time when looked at.
        assert!(k.data.held() < 64 << 10, "{} bytes held", k.data.held());
        // The last of the relocations at mi_name is the one applied, by a
        // pass of the decoder's own and one of the validator's alike.
        assert_eq!(whole.modinfo().unwrap().name, "xample");
        let t = crate::validate::Target::new(1001000000, "amd64");
        let first = crate::validate::validate(&k, &t);
        // The validator's pass noted what the descriptor needs (and the
        // validator's look at the descriptor came after it).
        let watch = k.watch.as_ref().unwrap();
        assert!(!watch.seen.lock().unwrap().is_empty());
        assert_eq!(k.modinfo(), whole.modinfo());
        assert_eq!(first, crate::validate::validate(&whole, &t));
        let again = Kmod::open(&path).unwrap();
        assert_eq!(again.modinfo(), whole.modinfo());
        assert_eq!(k.relocation_types(), whole.relocation_types());
        let counted: u64 = k.relocation_types().iter().map(|r| r.count).sum();
        assert!(counted * 24 > 3 * STREAMED_TABLE, "{counted} relocations");
        for t in [
            crate::validate::Target::new(1001000000, "amd64"),
            crate::validate::Target::new(799003400, "amd64"),
        ] {
            assert_eq!(
                crate::validate::validate(&k, &t),
                crate::validate::validate(&whole, &t)
            );
        }
        assert!(!k.changed_while_read());
        // Cut inside the tables after the file was opened: the next look
        // at them comes up short.
        truncate(&path, d.len() as u64 - STREAMED_TABLE);
        std::fs::remove_file(&path).unwrap();
        let t = crate::validate::Target::new(1001000000, "amd64");
        let findings = crate::validate::validate(&k, &t);
        assert!(k.changed_while_read());
        assert_eq!(findings.len(), 1, "{findings:#?}");
        assert_eq!(findings[0].check, Check::FileChanged);
    }

    #[test]
    fn only_the_ranges_the_checks_need_are_read() {
        let path = fixtures().join("modules/example/example.kmod");
        let bytes = std::fs::read(&path).unwrap();
        let whole = Kmod::from_bytes(bytes.clone());
        let k = Kmod::open(&path).unwrap();
        // .text is never read: nothing checks its bytes.
        let text = whole
            .sections()
            .into_iter()
            .find(|s| s.name == ".text")
            .unwrap();
        assert!(text.size > 0);
        assert_eq!(k.elf().unwrap().contents(&shdr_of_info(&text)), None);
        // The symbol table is.
        let symtab = whole
            .sections()
            .into_iter()
            .find(|s| s.sh_type == elf::SHT_SYMTAB)
            .unwrap();
        let got = k.elf().unwrap().contents(&shdr_of_info(&symtab)).unwrap();
        let at = symtab.offset as usize;
        assert_eq!(got, &bytes[at..at + symtab.size as usize]);
        assert!(k.data.held() < bytes.len() as u64);
    }

    fn shdr_of_info(s: &SectionInfo) -> Shdr {
        Shdr {
            index: s.index,
            name: 0,
            sh_type: s.sh_type,
            flags: s.flags,
            offset: s.offset,
            size: s.size,
            link: s.link,
            info: s.info,
            addralign: s.addralign,
        }
    }

    #[test]
    fn claimed_sizes_are_never_allocated_or_read_past_the_file() {
        // Every section of the example module claims 1 TiB.
        let mut d = std::fs::read(fixtures().join("modules/example/example.kmod")).unwrap();
        let shoff = u64::from_le_bytes(d[0x28..0x30].try_into().unwrap()) as usize;
        let shnum = u16::from_le_bytes(d[0x3c..0x3e].try_into().unwrap()) as usize;
        for i in 1..shnum {
            let at = shoff + i * 64 + 0x20;
            d[at..at + 8].copy_from_slice(&(1u64 << 40).to_le_bytes());
        }
        let path = temp_file("lying", &d);
        let k = Kmod::open(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert!(k.data.held() <= d.len() as u64);
        assert!(!k.changed_while_read());
        let t = crate::validate::Target::new(1001000000, "amd64");
        assert_eq!(
            crate::validate::validate(&k, &t),
            crate::validate::validate(&Kmod::from_bytes(d), &t)
        );
    }

    #[test]
    fn a_module_at_the_start_of_a_huge_sparse_file_reads_as_the_module() {
        let small = fixtures().join("modules/example/example.kmod");
        let bytes = std::fs::read(&small).unwrap();
        let path = temp_file("sparse", &bytes);
        let huge = 100u64 << 30;
        if std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(huge)
            .is_err()
        {
            // A file system without files this large: nothing to show.
            std::fs::remove_file(&path).unwrap();
            return;
        }
        let k = Kmod::open(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(k.file_size(), huge);
        assert!(k.data.held() <= bytes.len() as u64);
        let t = crate::validate::Target::new(1001000000, "amd64");
        let one = Kmod::open(&small).unwrap();
        assert_eq!(
            crate::validate::validate(&k, &t),
            crate::validate::validate(&one, &t)
        );
        assert_eq!(k.modinfo(), one.modinfo());
    }

    #[test]
    fn devices_fifos_sockets_and_directories_read_as_the_kernel_would() {
        // /dev/zero: a character device of size 0 whose reads give zeros;
        // only its header is read, which is not ELF.
        let k = Kmod::open(Path::new("/dev/zero")).unwrap();
        assert_eq!(k.file_size(), EHDR_MAX);
        assert_eq!(k.data.held(), EHDR_MAX);
        let t = crate::validate::Target::new(1001000000, "amd64");
        let f = crate::validate::validate(&k, &t);
        assert_eq!(f[0].check, Check::NotElf, "{f:#?}");
        assert_eq!(f[0].errno, Errno::ENOEXEC);
        // /dev/null gives nothing: shorter than a header.
        let k = Kmod::open(Path::new("/dev/null")).unwrap();
        assert_eq!(k.file_size(), 0);
        assert_eq!(crate::validate::validate(&k, &t)[0].errno, Errno::EINVAL);
        let dir = std::env::temp_dir().join(format!("kmod-kinds-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let fifo = dir.join("fifo.kmod");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let e = Kmod::open(&fifo).unwrap_err();
        assert_eq!(e, KmodError::WouldWait(Waits::Fifo));
        assert_eq!(e.errno(), Errno::EINTR);
        assert!(e.to_string().contains("would wait for a writer"), "{e}");
        assert_eq!(
            read_symbol_table(&fifo).unwrap_err(),
            KmodError::WouldWait(Waits::Fifo)
        );
        let sock = dir.join("sock.kmod");
        let _listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
        assert_eq!(
            Kmod::open(&sock).unwrap_err(),
            KmodError::Io(Errno::EOPNOTSUPP)
        );
        assert_eq!(Kmod::open(&dir).unwrap_err(), KmodError::Io(Errno::EISDIR));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn version_texts() {
        assert_eq!(version_text(1001000000), "10.1");
        assert_eq!(version_text(1000000000), "10.0");
        assert_eq!(version_text(1099001200), "10.99.12");
        assert_eq!(version_text(903000000), "9.3");
        assert_eq!(version_text(601000500), "6.1.5");
    }

    #[test]
    fn kernel_alignment_arithmetic() {
        // Power-of-two alignment rounds up.
        assert_eq!(kernel_align_add(3, 16, 5, true), 21);
        assert_eq!(kernel_align_add(3, 16, 5, false), 21);
        // sh_addralign 0 makes the mask -1, which clears the running size.
        assert_eq!(kernel_align_add(100, 0, 7, true), 7);
        assert_eq!(kernel_align_add(100, 0, 7, false), 7);
        // Alignment 1 leaves the size alone.
        assert_eq!(kernel_align_add(3, 1, 5, true), 8);
    }

    #[test]
    fn arbitrary_bytes_are_not_a_module() {
        let k = Kmod::from_bytes(b"hello world".to_vec());
        assert_eq!(k.machine(), None);
        assert_eq!(k.modinfo(), None);
        assert_eq!(k.text_size(), 0);
        assert!(k.sections().is_empty());
        assert!(k.defined_globals().is_empty());
    }

    #[test]
    fn text_lists_of_symbols() {
        let list = text_symbol_list(
            b"printf\n# comment\n\nffffffff80001000 T memcpy\n U undefined_one\n0 t local_one\n",
        )
        .unwrap();
        let names: Vec<&str> = list.iter().map(String::as_str).collect();
        assert_eq!(names, vec!["memcpy", "printf"]);
        assert!(text_symbol_list(&[0xff, 0xfe]).is_none());
    }

    /// The amd64 `example` fixture with the link-set relocation's type and
    /// addend replaced.
    fn example_with_link_reloc(r_type: u32, addend: i64) -> Kmod {
        let mut d = include_bytes!("../tests/fixtures/modules/example/example.kmod").to_vec();
        let k = Kmod::from_bytes(d.clone());
        let rel = k
            .sections()
            .into_iter()
            .find(|s| s.name == ".relalink_set_modules")
            .unwrap();
        let at = rel.offset as usize;
        let info = u64::from_le_bytes(d[at + 8..at + 16].try_into().unwrap());
        let info = (info & !0xffff_ffff) | u64::from(r_type);
        d[at + 8..at + 16].copy_from_slice(&info.to_le_bytes());
        d[at + 16..at + 24].copy_from_slice(&addend.to_le_bytes());
        Kmod::from_bytes(d)
    }

    #[test]
    fn pointer_relocations_by_kind() {
        // S + A with A = 0: the descriptor at .rodata+0.
        let k = example_with_link_reloc(elf::R_X86_64_64, 0);
        assert_eq!(k.modinfo().unwrap().name, "example");
        // GLOB_DAT stores S alone: the addend is ignored.
        let k = example_with_link_reloc(elf::R_X86_64_GLOB_DAT, 16);
        assert_eq!(k.modinfo().unwrap().name, "example");
        // S + A with A = 16 lands inside the descriptor: no longer fits.
        let k = example_with_link_reloc(elf::R_X86_64_64, 16);
        assert_eq!(k.modinfo(), None);
        assert_eq!(k.notes()[0].check, Check::PointerOutsideSection);
        // B + A points into link_set_modules itself, 8 bytes long.
        let k = example_with_link_reloc(elf::R_X86_64_RELATIVE, 0);
        assert_eq!(k.modinfo(), None);
        assert_eq!(k.notes()[0].check, Check::PointerOutsideSection);
        // A PC-relative relocation does not store a pointer.
        let k = example_with_link_reloc(elf::R_X86_64_PC32, 0);
        assert_eq!(k.modinfo(), None);
        assert_eq!(k.notes()[0].check, Check::UndecodablePointer);
    }

    #[test]
    fn file_text_is_made_one_line() {
        assert_eq!(printable("a\nb\tc"), "a\\nb\\tc");
        assert_eq!(printable_bytes(b"ok\x01"), "ok\\u{1}");
        assert_eq!(printable("hello_greet"), "hello_greet");
    }

    #[test]
    fn reading_a_missing_file_is_an_io_error() {
        let err = Kmod::open(Path::new("/nonexistent/kmod/x.kmod")).unwrap_err();
        assert_eq!(err, KmodError::Io(Errno::ENOENT));
    }
}
