//! The kernel's relocation passes: `kobj_load` applies the relocations
//! against local symbols, `kobj_affix` those against global ones, each
//! stopping at the first it cannot apply. One walk over the relocation
//! tables tallies the problems of both by kind; the local pass's are
//! reported in place, the global pass's returned to be reported after
//! the descriptor, where the kernel meets them.

use object::elf;

use super::{also, section_label, Check, Finding, Stage, Validator};
use crate::kmod::{printable_bytes, version_text, Elf, RelEnt, Shdr, SymEnt};
use crate::machine;
use crate::rules::KernelRules;

/// First place and count of one kind of relocation problem.
struct RelocTally {
    first_section: u32,
    first_offset: u64,
    symbol: String,
    sym_index: u32,
    count: u64,
}

impl RelocTally {
    fn first(section: u32, r: &RelEnt, symbol: String) -> RelocTally {
        RelocTally {
            first_section: section,
            first_offset: r.offset,
            symbol,
            sym_index: r.sym,
            count: 0,
        }
    }
}

/// Distinct relocation problems reported per pass.
const MAX_RELOC_KINDS: usize = 16;

/// A kind of relocation problem: the check, and for an unsupported type
/// the type (0 otherwise).
type Kind = (Check, u32);

/// What the walk found, each list in order of first occurrence (the
/// kernel stops at the first).
#[derive(Default)]
struct Tallies {
    /// Against local symbols: `kobj_load`'s pass.
    local: Vec<(Kind, RelocTally)>,
    /// Against the others: `kobj_affix`'s pass.
    global: Vec<(Kind, RelocTally)>,
    /// Naming a symbol past the symbol table.
    out_of_range: Option<RelocTally>,
    /// Writing past the end of their section, and how many bytes.
    outside: Option<(RelocTally, u64)>,
}

/// One walk over the relocation tables the kernel applies.
struct Scan<'e, 'a> {
    elf: &'e Elf<'a>,
    symtab: &'e Shdr,
    symcount: u64,
    rules: &'e KernelRules,
    /// Relocations mostly name a few symbols (section symbols) and use a
    /// few types: each run's is looked up once.
    last_sym: Option<(u32, SymEnt)>,
    last_type: Option<(u32, u64, Option<bool>)>,
    found: Tallies,
}

impl<'e, 'a> Scan<'e, 'a> {
    fn new(elf: &'e Elf<'a>, symtab: &'e Shdr, rules: &'e KernelRules) -> Self {
        Scan {
            elf,
            symtab,
            symcount: elf.symbol_count(symtab),
            rules,
            last_sym: None,
            last_type: None,
            found: Tallies::default(),
        }
    }

    fn run(mut self) -> Tallies {
        let elf = self.elf;
        let shnum = u32::from(elf.l.e_shnum);
        // The kernel relocates all REL sections, then all RELA sections,
        // and only those whose target is PROGBITS.
        for want in [elf::SHT_REL, elf::SHT_RELA] {
            for rs in (0..shnum).filter_map(|i| elf.shdr(i)) {
                let target = elf
                    .shdr(rs.info)
                    .filter(|t| rs.sh_type == want && t.sh_type == elf::SHT_PROGBITS);
                let Some(target) = target else {
                    continue;
                };
                for r in elf.relocs(&rs) {
                    self.one(rs.info, target.size, &r);
                }
            }
        }
        self.found
    }

    /// Width and acceptance of a relocation type.
    fn type_info(&mut self, r_type: u32) -> (u64, Option<bool>) {
        match self.last_type {
            Some((t, w, a)) if t == r_type => (w, a),
            _ => {
                let em = self.elf.l.e_machine;
                let w = machine::reloc_width(em, self.elf.l.class.pointer_size(), r_type);
                let a = self.rules.accepts_relocation(em, r_type);
                self.last_type = Some((r_type, w, a));
                (w, a)
            }
        }
    }

    fn symbol(&mut self, index: u32) -> Option<SymEnt> {
        match self.last_sym {
            Some((i, sym)) if i == index => Some(sym),
            _ => {
                let sym = self.elf.symbol(self.symtab, index)?;
                self.last_sym = Some((index, sym));
                Some(sym)
            }
        }
    }

    /// One relocation of section `section`, `size` bytes long.
    fn one(&mut self, section: u32, size: u64, r: &RelEnt) {
        let (width, accepted) = self.type_info(r.r_type);
        let fits = r.offset.checked_add(width).is_some_and(|end| end <= size);
        let in_table = u64::from(r.sym) < self.symcount;
        if !fits && in_table {
            let t = self
                .found
                .outside
                .get_or_insert_with(|| (RelocTally::first(section, r, String::new()), width));
            t.0.count += 1;
        }
        if !in_table {
            let t = self
                .found
                .out_of_range
                .get_or_insert_with(|| RelocTally::first(section, r, r.sym.to_string()));
            t.count += 1;
            return;
        }
        let Some(sym) = self.symbol(r.sym) else {
            return;
        };
        let Some(check) = problem(accepted, &sym, r.sym) else {
            return;
        };
        let key = if check == Check::UnsupportedRelocation {
            r.r_type
        } else {
            0
        };
        let (elf, symtab) = (self.elf, self.symtab);
        let table = if sym.bind == elf::STB_LOCAL {
            &mut self.found.local
        } else {
            &mut self.found.global
        };
        // The kernel stops at the first; a few kinds are plenty and keep
        // this linear on hostile files.
        let full = table.len() >= MAX_RELOC_KINDS;
        match table.iter_mut().find(|(k, _)| *k == (check, key)) {
            Some((_, t)) => t.count += 1,
            None if !full => {
                let name = elf
                    .symbol_name(symtab, &sym)
                    .map(printable_bytes)
                    .unwrap_or_default();
                let mut t = RelocTally::first(section, r, name);
                t.count = 1;
                table.push(((check, key), t));
            }
            None => {}
        }
    }
}

/// Why the kernel cannot apply a relocation against `sym` (index
/// `index`) of a type it does (`Some(true)`) or does not accept.
fn problem(accepted: Option<bool>, sym: &SymEnt, index: u32) -> Option<Check> {
    if accepted == Some(false) {
        Some(Check::UnsupportedRelocation)
    } else if sym.shndx == elf::SHN_UNDEF && index != 0 {
        if sym.bind == elf::STB_LOCAL {
            Some(Check::LocalUndefined)
        } else if sym.bind == elf::STB_WEAK {
            Some(Check::WeakUndefined)
        } else if sym.bind != elf::STB_GLOBAL {
            Some(Check::UnresolvedSymbol)
        } else {
            None
        }
    } else {
        None
    }
}

/// "section 2 (.rela.text)", or the bare index of a section that does not
/// exist.
fn place(elf: &Elf<'_>, section: u32) -> String {
    match elf.shdr(section) {
        Some(s) => section_label(elf, &s),
        None => format!("section {section}"),
    }
}

impl Validator<'_, '_> {
    /// The relocation passes: local relocations (in `kobj_load`) are
    /// reported now; global ones (in `kobj_affix`) are returned for later.
    pub(super) fn relocations(&mut self, elf: &Elf<'_>, symtab: &Shdr) -> Vec<Finding> {
        let symcount = elf.symbol_count(symtab);
        let found = Scan::new(elf, symtab, &self.rules).run();
        for (kind, t) in &found.local {
            let f = Finding::new(kind.0, self.reloc_reason(elf, *kind, t));
            self.add(f.with_stage(Stage::Load));
        }
        if let Some(t) = found.out_of_range {
            self.push(
                Check::RelocationSymbolIndex,
                format!(
                    "relocation at {}+{:#x} names symbol {} but the symbol table has {symcount} \
                     entries; the kernel silently skips it and leaves the place unrelocated{}",
                    place(elf, t.first_section),
                    t.first_offset,
                    t.symbol,
                    also(t.count, "relocations")
                ),
            );
        }
        if let Some((t, width)) = found.outside {
            let size = elf.shdr(t.first_section).map_or(0, |s| s.size);
            self.push(
                Check::RelocationOffset,
                format!(
                    "a relocation of {} at offset {:#x} writes {width} bytes but the section is \
                     only {size} bytes long; the kernel would write outside the module{}",
                    place(elf, t.first_section),
                    t.first_offset,
                    also(t.count, "relocations")
                ),
            );
        }
        self.common_symbols(elf, symtab);
        found
            .global
            .iter()
            .map(|(kind, t)| {
                Finding::new(kind.0, self.reloc_reason(elf, *kind, t)).with_stage(Stage::Link)
            })
            .collect()
    }

    fn reloc_reason(&self, elf: &Elf<'_>, (check, key): Kind, t: &RelocTally) -> String {
        let at = format!("{}+{:#x}", place(elf, t.first_section), t.first_offset);
        let more = also(t.count, "relocations");
        let against = if t.symbol.is_empty() {
            String::new()
        } else {
            format!(" against `{}`", t.symbol)
        };
        match check {
            Check::UnsupportedRelocation => {
                let em = elf.l.e_machine;
                let name = machine::reloc_name(em, key).unwrap_or("unknown");
                // A type only later kernels implement: say so.
                let hint = machine::accepted_since(em, key).map_or_else(String::new, |(v, why)| {
                    format!(
                        "; kernels before NetBSD {} do not know it ({why})",
                        version_text(v)
                    )
                });
                format!(
                    "relocation type {key} ({name}) at {at}{against} is not supported by the \
                     {} kernel's linker{hint}{more}",
                    self.t.machine
                )
            }
            Check::LocalUndefined => format!(
                "relocation at {at} uses local symbol {}, which is undefined{more}",
                t.sym_index
            ),
            Check::WeakUndefined => format!(
                "relocation at {at}{against}: the symbol is an undefined weak symbol, which the \
                 kernel's linker does not support{more}"
            ),
            _ => format!(
                "relocation at {at}{against} uses an undefined symbol of unusual binding{more}"
            ),
        }
    }

    /// SHN_COMMON symbols never get storage in the kernel.
    fn common_symbols(&mut self, elf: &Elf<'_>, symtab: &Shdr) {
        let symcount = elf.symbol_count(symtab);
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
                format!(
                    "common symbol `{}` has no storage: the kernel does not allocate SHN_COMMON \
                     symbols (link with ld -r -d)",
                    commons.join("`, `")
                ),
            );
        }
    }
}
