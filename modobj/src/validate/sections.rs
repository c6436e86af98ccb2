//! `kobj_load`'s section scan: the symbol table and its strings, the
//! section names, the load regions, and what the kernel would read from
//! outside the file or outside a table; and the advisories about sections.

use object::elf;

use super::{section_ref, Check, Detail, Validator};
use crate::findings::{Extent, Region, StringTable};
use crate::kmod::{Elf, ElfClass, Shdr};
use crate::rules::RegionRule;

impl Validator<'_, '_> {
    /// The section checks, in the kernel's order; the symbol table (the
    /// first, if there are several).
    pub(super) fn sections(&mut self, elf: &Elf<'_>, shstrndx: u16) -> Option<Shdr> {
        let symtabs = self.section_scan(elf);
        let symtab = symtabs.first().copied();
        let strtab_ok = self.symbol_table(elf, &symtabs);
        self.section_names(elf, shstrndx);
        self.regions(elf);
        if strtab_ok {
            if let Some(st) = symtab {
                self.string_tables(elf, &st);
            }
        }
        self.overlaps(elf);
        self.contents_in_file(elf);
        symtab
    }

    /// One pass over the section headers: contents, symbol tables,
    /// relocation sections naming a section past the table.
    fn section_scan(&mut self, elf: &Elf<'_>) -> Vec<Shdr> {
        let shnum = u32::from(elf.l.e_shnum);
        let mut nprogtab = 0u32;
        let mut symtabs = Vec::new();
        for s in (0..shnum).filter_map(|i| elf.shdr(i)) {
            match s.sh_type {
                elf::SHT_PROGBITS | elf::SHT_NOBITS => nprogtab += 1,
                elf::SHT_SYMTAB => symtabs.push(s),
                elf::SHT_REL | elf::SHT_RELA if s.info >= shnum => {
                    let detail = Detail::RelocationTargetMissing {
                        section: section_ref(elf, &s),
                        target: s.info,
                    };
                    self.push(Check::RelocationTarget, detail);
                }
                _ => {}
            }
        }
        if nprogtab == 0 {
            self.push(Check::NoContents, Detail::NoContents);
        }
        symtabs
    }

    /// Exactly one symbol table, with entries, and a string table that is
    /// one, not empty and inside the file (then true).
    fn symbol_table(&mut self, elf: &Elf<'_>, symtabs: &[Shdr]) -> bool {
        if symtabs.len() != 1 {
            let detail = if symtabs.is_empty() {
                Detail::NoSymbolTable
            } else {
                Detail::SymbolTables {
                    count: symtabs.len(),
                }
            };
            self.push(Check::SymbolTable, detail);
        }
        let Some(&st) = symtabs.first() else {
            return false;
        };
        let link = elf
            .shdr(st.link)
            .filter(|l| st.link != 0 && l.sh_type == elf::SHT_STRTAB);
        let Some(strtab) = link else {
            let link = st.link;
            self.push(Check::SymbolTable, Detail::SymbolStringsLink { link });
            return false;
        };
        if elf.symbol_count(&st) == 0 {
            self.push(Check::NoSymbols, Detail::NoSymbols);
        } else if !elf.within_file(st.offset, elf.symbol_count(&st) * elf.sym_size()) {
            self.push_outside(elf, &st);
        }
        if strtab.size == 0 {
            self.push(Check::NoSymbolStrings, Detail::NoSymbolStrings);
        } else if !elf.within_file(strtab.offset, strtab.size) {
            self.push_outside(elf, &strtab);
        } else {
            return true;
        }
        false
    }

    /// `e_shstrndx` names a section, and its table lies inside the file.
    fn section_names(&mut self, elf: &Elf<'_>, shstrndx: u16) {
        let shnum = u32::from(elf.l.e_shnum);
        if shstrndx == elf::SHN_UNDEF {
            return;
        }
        if u32::from(shstrndx) >= shnum {
            let detail = Detail::SectionNamesIndex { shstrndx, shnum };
            self.push(Check::SectionNames, detail);
        } else if let Some(t) = elf.shstrtab() {
            if !elf.within_file(t.offset, t.size) {
                self.push_outside(elf, &t);
            }
        }
    }

    /// Section contents and relocation tables the kernel reads, in section
    /// order, inside the file.
    fn contents_in_file(&mut self, elf: &Elf<'_>) {
        let shnum = u32::from(elf.l.e_shnum);
        for s in (0..shnum).filter_map(|i| elf.shdr(i)) {
            let relocs = (s.sh_type == elf::SHT_REL || s.sh_type == elf::SHT_RELA)
                && elf
                    .shdr(s.info)
                    .is_some_and(|t| t.sh_type == elf::SHT_PROGBITS);
            if (s.sh_type == elf::SHT_PROGBITS || relocs) && !elf.within_file(s.offset, s.size) {
                self.push_outside(elf, &s);
            }
        }
    }

    /// A section the kernel reads that the file is too short for.
    fn push_outside(&mut self, elf: &Elf<'_>, s: &Shdr) {
        let detail = Detail::OutsideFile {
            section: section_ref(elf, s),
            size: s.size,
            offset: s.offset,
            file_size: elf.data.len(),
        };
        self.push(Check::ContentOutsideFile, detail);
    }

    /// Names the kernel reads run to a NUL inside their table: the last
    /// byte of each string table is NUL and every name offset lies inside
    /// it (else the kernel reads names from outside the module).
    fn string_tables(&mut self, elf: &Elf<'_>, symtab: &Shdr) {
        let shnum = u32::from(elf.l.e_shnum);
        if let Some(strtab) = elf.shdr(symtab.link) {
            self.string_table(elf, &strtab, StringTable::Symbols);
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
            if let Some((symbol, offset)) = bad {
                let detail = Detail::SymbolNameOffset {
                    symbol,
                    offset,
                    table: section_ref(elf, &strtab),
                    size: strtab.size,
                    count,
                };
                self.push(Check::StringTable, detail);
            }
        }
        if let Some(names) = elf.shstrtab().filter(|t| elf.within_file(t.offset, t.size)) {
            self.string_table(elf, &names, StringTable::SectionNames);
            let bad: Vec<Shdr> = (0..shnum)
                .filter_map(|i| elf.shdr(i))
                .filter(|s| u64::from(s.name) >= names.size)
                .collect();
            if let Some(s) = bad.first() {
                let detail = Detail::SectionNameOffset {
                    section: s.index,
                    offset: s.name,
                    table: section_ref(elf, &names),
                    size: names.size,
                    count: bad.len() as u64,
                };
                self.push(Check::StringTable, detail);
            }
        }
    }

    /// The table's last byte is a NUL.
    fn string_table(&mut self, elf: &Elf<'_>, t: &Shdr, table: StringTable) {
        let terminated = elf
            .contents(t)
            .is_none_or(|b| b.last().is_none_or(|&c| c == 0));
        if !terminated {
            let section = section_ref(elf, t);
            self.push(Check::StringTable, Detail::Unterminated { table, section });
        }
    }

    /// No two sections share bytes of the file, nor with the ELF header or
    /// the section header table. The kernel would not notice, but no linker
    /// writes such a file: what it would load is not what was built.
    fn overlaps(&mut self, elf: &Elf<'_>) {
        let shnum = u32::from(elf.l.e_shnum);
        // (start, end, section index or 0 for the ELF header and the
        // section header table)
        let mut ranges: Vec<(u64, u64, u32)> = Vec::with_capacity(shnum as usize + 2);
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
        let extent = |r: &(u64, u64, u32)| Extent {
            what: match elf.shdr(r.2).filter(|_| r.2 != 0) {
                Some(s) => Region::Section(section_ref(elf, &s)),
                None if r.0 == 0 && r.1 == ehdr => Region::ElfHeader,
                None => Region::SectionTable,
            },
            start: r.0,
            end: r.1,
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
            let detail = Detail::Overlap {
                part: extent(&ranges[b]),
                with: extent(&ranges[a]),
                count,
            };
            self.push(Check::SectionOverlap, detail);
        }
    }

    /// Alignments the kernel's layout arithmetic handles, and the load
    /// regions this kernel requires not to be empty.
    fn regions(&mut self, elf: &Elf<'_>) {
        for s in (0..u32::from(elf.l.e_shnum)).filter_map(|i| elf.shdr(i)) {
            if !s.is_progtab() {
                continue;
            }
            let a = s.addralign;
            if a == 0 || !a.is_power_of_two() || a > 1 << 30 {
                let section = section_ref(elf, &s);
                self.push(Check::Alignment, Detail::Alignment { section, align: a });
            }
        }
        let r = elf.regions();
        if self.rules.regions == RegionRule::SingleRegion {
            if r.single == 0 {
                self.push(Check::NoText, Detail::NoLoadable);
            }
            return;
        }
        if r.text == 0 {
            self.push(Check::NoText, Detail::NoText { other: r.single });
        }
        if self.rules.regions == RegionRule::EveryRegionRequired {
            if r.data == 0 {
                self.push(Check::NoData, Detail::NoData);
            }
            if r.rodata == 0 {
                self.push(Check::NoRodata, Detail::NoRodata);
            }
        }
    }

    /// What the kernel does not refuse but costs or ignores: sections
    /// loaded though not allocated, relocations never applied.
    pub(super) fn advisory_sections(&mut self, elf: &Elf<'_>) {
        let shnum = u32::from(elf.l.e_shnum);
        for s in (0..shnum).filter_map(|i| elf.shdr(i)) {
            if s.sh_type == elf::SHT_PROGBITS
                && s.size > 0
                && s.flags & u64::from(elf::SHF_ALLOC) == 0
            {
                let section = section_ref(elf, &s);
                let detail = Detail::NonAlloc {
                    section,
                    size: s.size,
                };
                self.push(Check::NonAllocSection, detail);
            }
            let is_rel = s.sh_type == elf::SHT_REL || s.sh_type == elf::SHT_RELA;
            if is_rel && s.size > 0 {
                if let Some(target) = elf.shdr(s.info) {
                    if target.sh_type != elf::SHT_PROGBITS {
                        let detail = Detail::IgnoredRelocations {
                            section: section_ref(elf, &s),
                            target: section_ref(elf, &target),
                            target_type: target.sh_type,
                        };
                        self.push(Check::IgnoredRelocations, detail);
                    }
                }
            }
        }
    }
}
