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
//!
//! One concept per file, as the `object` crate splits `read/elf`:
//! [`file`] reads a file as `kobj_load` does, [`elf`] is the
//! bounds-checked view of what was read, [`reloc`] streams relocation
//! tables, [`descriptor`] decodes `modinfo_t`, [`symbols`] reads symbol
//! lists (`/dev/ksyms`). What an object was built for is named in
//! [`crate::machine`] (so that findings can name it too), and its notes'
//! words are in [`crate::findings`]. This file holds [`Kmod`], which ties
//! them together, and the public types it answers with.
//!
//! Nothing here is shared between threads: a [`Kmod`] is used by the
//! thread that opened it, so what it computes lazily lives in plain
//! cells, not locks.

mod descriptor;
mod elf;
mod file;
mod reloc;
mod symbols;
#[cfg(test)]
pub(crate) mod tests;

use std::cell::OnceCell;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::rc::Rc;

use object::elf::{SHN_UNDEF, SHT_REL, SHT_RELA, SHT_SYMTAB, STB_GLOBAL, STB_WEAK};

use crate::image::Image;
use crate::machine::reloc_name;
use libmodctl::errno::Errno;
use libmodctl::ModName;

use descriptor::{descriptor_places, Decoder, Located};
pub(crate) use file::{read_file, read_image, EHDR_MAX};
use reloc::DescriptorRelocs;
pub(crate) use symbols::symbol_table;

pub(crate) use crate::findings::section_type_name;
pub use crate::machine::{ElfClass, Endian, Machine};
pub(crate) use descriptor::{Field, Note};
pub(crate) use elf::{
    parse_layout, Elf, Layout, RelEnt, Shdr, SymEnt, EI_CLASS, EI_DATA, EI_VERSION,
};
pub(crate) use file::ReadStage;
pub use symbols::read_symbol_table;

/// What reading a file that was truncated while it was being read fails
/// with. The kernel, given the file now, would meet the same short read,
/// which kobj reports as EINVAL (`kobj_read_vfs` turns a short read into
/// EINVAL, sys/kern/subr_kobj_vfs.c r1.7.6.4).
pub const FILE_CHANGED_ERRNO: Errno = Errno::EINVAL;

/// Files up to this size are read whole by [`Kmod::open_whole`]; a larger
/// one is read by ranges, which bounds what a boot's worth of hostile
/// files can make it hold at once per file.
pub const BOOT_READ_WHOLE: u64 = 4 << 20;

/// Why nothing read from such a file is trusted (worded with the other
/// findings).
pub use crate::findings::FILE_CHANGED_REASON;

pub use crate::image::{KmodError, Waits};

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

/// A parsed module object.
#[derive(Clone)]
pub struct Kmod {
    data: Image,
    layout: Option<Layout>,
    /// The descriptor and the notes about it, decoded when first asked
    /// for (after the validator's pass over the relocations, which then
    /// found the descriptor's: see [`DescriptorRelocs`]).
    decoded: OnceCell<(Option<ModInfo>, Vec<Note>)>,
    /// Where the descriptor is, found when the file was opened.
    located: Option<Located>,
    /// The section headers, decoded once when the table is usable.
    shdrs: Option<Vec<Shdr>>,
    /// The first symbol table and its string table (section indexes):
    /// looked at entry by entry, so their contents are found once.
    symtab_sections: [Option<u32>; 2],
    /// The relocations passes over whole tables met at the descriptor's
    /// pointers. Shared (`Rc`) by clones, which read the same file.
    descriptor_relocs: Option<Rc<DescriptorRelocs>>,
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

    /// Opens a module the way the boot loader reads one for
    /// `kobj_load_mem`: a file of up to [`BOOT_READ_WHOLE`] bytes is read
    /// whole in one go. The verdict is [`Kmod::open`]'s: the same bytes
    /// are looked at; only the number of reads differs (one against about
    /// eleven, which is most of the cost of booting with many modules).
    /// `None` for a device, which the boot loader does not read (it reads
    /// only regular files; a FIFO, a directory or a socket is an error,
    /// as for [`Kmod::open`]).
    pub fn open_whole(path: &Path) -> Result<Option<Kmod>, KmodError> {
        let image = Image::open(path)?;
        if image.is_device() {
            return Ok(None);
        }
        let (image, shdrs) = read_image(image, &[SHT_SYMTAB], BOOT_READ_WHOLE, &mut |_| {})?;
        Kmod::checked(Kmod::from_data(image, shdrs)).map(Some)
    }

    /// [`Kmod::open`], calling `between` after each stage of reading (the
    /// tests shrink the file there).
    pub(crate) fn open_with(
        path: &Path,
        between: &mut dyn FnMut(ReadStage),
    ) -> Result<Kmod, KmodError> {
        let (image, shdrs) = read_file(path, &[SHT_SYMTAB], between)?;
        Kmod::checked(Kmod::from_data(image, shdrs))
    }

    /// `k`, unless a read of it failed.
    fn checked(k: Kmod) -> Result<Kmod, KmodError> {
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
            decoded: OnceCell::new(),
            located: None,
            shdrs: None,
            symtab_sections: [None; 2],
            descriptor_relocs: None,
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
            let symtab = elf.first_of_type(SHT_SYMTAB);
            k.symtab_sections = [symtab.map(|s| s.index), symtab.map(|s| s.link)];
        }
        if let Some(elf) = k.elf() {
            if elf.table_ok() {
                let regions = elf.regions();
                // Where the descriptor is costs little to find; what fills
                // its pointers may take a pass over a large table.
                let ptr = elf.l.class.pointer_size();
                let located = Decoder::new(&elf).locate();
                let descriptor_relocs = located
                    .0
                    .map(|(sec, off)| DescriptorRelocs::new(sec, descriptor_places(off, ptr)));
                k.regions = regions;
                k.located = Some(located);
                k.descriptor_relocs = descriptor_relocs.map(Rc::new);
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
        self.global_names(|s| s.bind == STB_GLOBAL && s.shndx != SHN_UNDEF)
    }

    /// Names of the undefined `STB_GLOBAL` symbols, which the kernel
    /// resolves against itself and loaded modules, sorted.
    pub fn undefined_globals(&self) -> Vec<String> {
        self.global_names(|s| s.bind == STB_GLOBAL && s.shndx == SHN_UNDEF)
    }

    /// Names of undefined `STB_WEAK` symbols (refused by the kernel when a
    /// relocation uses them), sorted.
    pub fn undefined_weak(&self) -> Vec<String> {
        self.global_names(|s| s.bind == STB_WEAK && s.shndx == SHN_UNDEF)
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
            if s.sh_type == SHT_REL || s.sh_type == SHT_RELA {
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
            elf.descriptor_relocs = self.descriptor_relocs.as_deref();
            elf.shdrs = self.shdrs.as_deref();
            let base = elf;
            elf.symtab_contents = self.symtab_sections.map(|i| {
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
        let Some(symtab) = elf.first_of_type(SHT_SYMTAB) else {
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
