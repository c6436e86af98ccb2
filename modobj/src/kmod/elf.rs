//! A bounds-checked view of an ELF object of either class and byte order,
//! over what was read of it: the header fields the kernel looks at,
//! section headers, symbols and strings, and the kernel's region sizes.

use object::elf;
use object::pod;
use object::read::elf::FileHeader;
use object::{BigEndian, Endianness, LittleEndian};
use std::borrow::Cow;

use super::reloc::DescriptorRelocs;
use super::{ElfClass, Endian, Regions};
use crate::image::Image;

const EI_NIDENT: usize = 16;
pub(crate) const EI_CLASS: usize = 4;
pub(crate) const EI_DATA: usize = 5;
pub(crate) const EI_VERSION: usize = 6;

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
/// the ranges read ([`super::file::read_file`]) and treats anything else as outside
/// the file.
#[derive(Clone, Copy)]
pub(crate) struct Elf<'a> {
    pub data: &'a Image,
    pub l: Layout,
    /// The section header table, as far as it was read.
    table: &'a [u8],
    /// Where passes over relocation tables record what they meet at the
    /// descriptor's pointers.
    pub(super) descriptor_relocs: Option<&'a DescriptorRelocs>,
    /// The section headers decoded once (the checks look at each many
    /// times): those read, in order.
    pub(super) shdrs: Option<&'a [Shdr]>,
    /// The contents of the sections looked at entry by entry (the symbol
    /// table and its names), by section index, found once.
    pub(super) symtab_contents: [Option<(u32, &'a [u8])>; 2],
}

impl<'a> Elf<'a> {
    pub fn new(data: &'a Image, l: Layout) -> Elf<'a> {
        let mut elf = Elf {
            data,
            l,
            table: &[],
            descriptor_relocs: None,
            shdrs: None,
            symtab_contents: [None; 2],
        };
        let len = u64::from(l.e_shnum) * elf.shdr_size();
        elf.table = data.available(l.e_shoff, len);
        elf
    }

    /// With the section headers decoded as the file was read
    /// ([`super::read_file`] does not keep the table itself).
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
    pub(super) fn decode_shdr(&self, index: u32) -> Option<Shdr> {
        if index >= u32::from(self.l.e_shnum) {
            return None;
        }
        let at = index as usize * self.shdr_size() as usize;
        let mut s = self.shdr_in(self.table.get(at..)?)?;
        s.index = index;
        Some(s)
    }

    /// The section header at the start of `t` (its index left 0).
    pub(super) fn shdr_in(&self, t: &[u8]) -> Option<Shdr> {
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
    /// contents were not read ([`super::file::read_file`] says which are).
    pub fn contents(&self, s: &Shdr) -> Option<&'a [u8]> {
        if let Some((_, bytes)) = self
            .symtab_contents
            .iter()
            .flatten()
            .find(|h| h.0 == s.index)
        {
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
    pub(super) fn section_bytes(&self, s: &Shdr, offset: u64, len: u64) -> Option<Cow<'a, [u8]>> {
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
        if let Some((_, table)) = self.symtab_contents[0].filter(|h| h.0 == symtab.index) {
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
