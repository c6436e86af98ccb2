//! The kernel's relocation passes: `kobj_load` applies the relocations
//! against local symbols, `kobj_affix` those against global ones, each
//! stopping at the first it cannot apply. One walk over the relocation
//! tables tallies the problems of both by kind; the local pass's are
//! reported in place, the global pass's returned to be reported after
//! the descriptor, where the kernel meets them.
//!
//! What each port's linker applies is in its table in `machine`: the
//! relocation sections (a RELA-only port refuses, or panics on, a REL
//! entry), the types (every other one is refused), the types it applies
//! wrongly as written, and the branches whose reach depends on where the
//! kernel places the module (advisories, never refusals).

use object::elf;

use super::{section_ref, Certainty, Check, Detail, Finding, SectionRef, Stage, Validator};
use crate::findings::{Place, RelocType};
use crate::kmod::{Elf, Endian, RelEnt, Shdr, SymEnt};
use crate::machine::{self, Applied, RelFailure, RelocSections};
use crate::rules::KernelRules;

/// First place and count of one kind of relocation problem.
struct RelocTally {
    first_section: u32,
    first_offset: u64,
    /// The symbol's name (empty when it has none or is out of range).
    symbol: Vec<u8>,
    sym_index: u32,
    count: u64,
}

impl RelocTally {
    fn first(section: u32, r: &RelEnt, symbol: Vec<u8>) -> RelocTally {
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

/// A kind of relocation problem: the check, and for a type the linker
/// refuses or misapplies the type (0 otherwise).
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
    /// Branches to symbols outside the module, by type.
    branches: Vec<(u32, RelocTally)>,
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
    last_type: Option<(u32, u64, Option<Applied>)>,
    /// The last (type, symbol, RELA) that had nothing to tally but a
    /// place outside its section, and the type's width: most entries of
    /// a big table repeat it, and need only that check.
    clean: Option<(u32, u32, bool, u64)>,
    /// How the port's linker meets REL entries, where it is RELA-only.
    rel_failure: Option<RelFailure>,
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
            clean: None,
            rel_failure: match machine::reloc_sections(elf.l.e_machine) {
                Some(RelocSections::RelaOnly(f)) => Some(f),
                _ => None,
            },
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
                let rela = want == elf::SHT_RELA;
                elf.relocs(&rs)
                    .for_each(|r| self.one(rs.info, target.size, rela, &r));
            }
        }
        self.found
    }

    /// Width of a relocation type, and what the linker does with it.
    fn type_info(&mut self, r_type: u32) -> (u64, Option<Applied>) {
        match self.last_type {
            Some((t, w, a)) if t == r_type => (w, a),
            _ => {
                let l = &self.elf.l;
                let pointer = l.class.pointer_size();
                let w = machine::reloc_width(l.e_machine, pointer, r_type);
                let big = l.endian == Endian::Big;
                let a = self.rules.applies(l.e_machine, pointer, big, r_type);
                self.last_type = Some((r_type, w, a));
                (w, a)
            }
        }
    }

    /// Whether the linker refuses (or panics on) this entry of a REL
    /// section.
    fn rel_refused(&self, r_type: u32) -> bool {
        match self.rel_failure {
            Some(RelFailure::RefusedAfterNone) => r_type != 0,
            Some(_) => true,
            None => false,
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

    /// One relocation (of a RELA section if `rela`) of section `section`,
    /// `size` bytes long.
    #[inline(always)]
    fn one(&mut self, section: u32, size: u64, rela: bool, r: &RelEnt) {
        match self.clean {
            Some((t, s, rl, width)) if t == r.r_type && s == r.sym && rl == rela => {
                if !fits(r, width, size) {
                    self.outside(section, r, width);
                }
            }
            _ => self.first_of_run(section, size, rela, r),
        }
    }

    #[cold]
    fn outside(&mut self, section: u32, r: &RelEnt, width: u64) {
        let t = self
            .found
            .outside
            .get_or_insert_with(|| (RelocTally::first(section, r, Vec::new()), width));
        t.0.count += 1;
    }

    /// An entry whose type, symbol or section kind differs from the
    /// last clean one's.
    #[inline(never)]
    fn first_of_run(&mut self, section: u32, size: u64, rela: bool, r: &RelEnt) {
        let (width, applied) = self.type_info(r.r_type);
        let in_table = u64::from(r.sym) < self.symcount;
        if !fits(r, width, size) && in_table {
            self.outside(section, r, width);
        }
        if !in_table {
            let t = self
                .found
                .out_of_range
                .get_or_insert_with(|| RelocTally::first(section, r, Vec::new()));
            t.count += 1;
            return;
        }
        let Some(sym) = self.symbol(r.sym) else {
            return;
        };
        let external = applied == Some(Applied::Yes) && is_external(&sym, r.sym);
        if external {
            self.branch(section, r, &sym);
        }
        let check = if !rela && self.rel_refused(r.r_type) {
            Some(Check::RelNotApplied)
        } else {
            problem(applied, &sym, r.sym)
        };
        let Some(check) = check else {
            if !external {
                self.clean = Some((r.r_type, r.sym, rela, width));
            }
            return;
        };
        let key = match check {
            Check::UnsupportedRelocation | Check::MisappliedRelocation => r.r_type,
            _ => 0,
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
                    .map(<[u8]>::to_vec)
                    .unwrap_or_default();
                let mut t = RelocTally::first(section, r, name);
                t.count = 1;
                table.push(((check, key), t));
            }
            None => {}
        }
    }
}

impl Scan<'_, '_> {
    /// Tallies a relocation against a symbol outside the module when it is
    /// a branch of limited reach.
    fn branch(&mut self, section: u32, r: &RelEnt, sym: &SymEnt) {
        if machine::branch(self.elf.l.e_machine, r.r_type).is_none() {
            return;
        }
        let branches = &mut self.found.branches;
        let full = branches.len() >= MAX_RELOC_KINDS;
        match branches.iter_mut().find(|(t, _)| *t == r.r_type) {
            Some((_, t)) => t.count += 1,
            None if !full => {
                let name = self
                    .elf
                    .symbol_name(self.symtab, sym)
                    .map(<[u8]>::to_vec)
                    .unwrap_or_default();
                let mut t = RelocTally::first(section, r, name);
                t.count = 1;
                branches.push((r.r_type, t));
            }
            None => {}
        }
    }
}

/// Whether the `width` bytes a relocation writes lie in its section of
/// `size` bytes.
#[inline(always)]
fn fits(r: &RelEnt, width: u64, size: u64) -> bool {
    r.offset.checked_add(width).is_some_and(|end| end <= size)
}

/// A symbol the module does not define: the kernel or another module
/// does, at a place the module's placement decides the distance to.
fn is_external(sym: &SymEnt, index: u32) -> bool {
    sym.shndx == elf::SHN_UNDEF && index != 0 && sym.bind != elf::STB_LOCAL
}

/// Why the kernel cannot apply, or applies wrongly, a relocation against
/// `sym` (index `index`) of a type it does (`Some(Applied::Yes)`) or does
/// not accept.
fn problem(applied: Option<Applied>, sym: &SymEnt, index: u32) -> Option<Check> {
    if applied == Some(Applied::No) {
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
    } else if let Some(Applied::Wrongly(_)) = applied {
        Some(Check::MisappliedRelocation)
    } else {
        None
    }
}

/// The place a tally first met: "section 2 (.rela.text)", or the bare
/// index of a section that does not exist, and the offset.
fn place(elf: &Elf<'_>, t: &RelocTally) -> Place {
    let section = match elf.shdr(t.first_section) {
        Some(s) => section_ref(elf, &s),
        None => SectionRef {
            index: t.first_section,
            name: None,
        },
    };
    Place {
        section,
        offset: t.first_offset,
    }
}

impl Validator<'_, '_> {
    /// The relocation passes: local relocations (in `kobj_load`) are
    /// reported now; global ones (in `kobj_affix`) are returned for later.
    pub(super) fn relocations(&mut self, elf: &Elf<'_>, symtab: &Shdr) -> Vec<Finding> {
        let symcount = elf.symbol_count(symtab);
        let found = Scan::new(elf, symtab, &self.rules).run();
        for (kind, t) in &found.local {
            let f = self.reloc_finding(elf, *kind, t);
            self.add(f.with_stage(Stage::Load));
        }
        if let Some(t) = found.out_of_range {
            let detail = Detail::RelocSymbolIndex {
                at: place(elf, &t),
                symbol: t.sym_index,
                symcount,
                count: t.count,
            };
            self.push(Check::RelocationSymbolIndex, detail);
        }
        if let Some((t, width)) = found.outside {
            let detail = Detail::RelocOutside {
                at: place(elf, &t),
                width,
                size: elf.shdr(t.first_section).map_or(0, |s| s.size),
                count: t.count,
            };
            self.push(Check::RelocationOffset, detail);
        }
        self.common_symbols(elf, symtab);
        for (r_type, t) in &found.branches {
            self.branch_advisory(elf, *r_type, t);
        }
        found
            .global
            .iter()
            .map(|(kind, t)| self.reloc_finding(elf, *kind, t).with_stage(Stage::Link))
            .collect()
    }

    /// The finding for one kind of relocation problem; a REL entry on a
    /// port whose linker panics on one is harmful rather than refused.
    fn reloc_finding(&self, elf: &Elf<'_>, kind: Kind, t: &RelocTally) -> Finding {
        let f = Finding::new(kind.0, self.reloc_detail(elf, kind, t));
        let panics = matches!(
            machine::reloc_sections(elf.l.e_machine),
            Some(RelocSections::RelaOnly(RelFailure::Panics))
        );
        if kind.0 == Check::RelNotApplied && panics {
            f.with_certainty(Certainty::Harmful)
        } else {
            f
        }
    }

    /// The advisory for branches of one type to symbols outside the
    /// module: whether they reach depends on where the kernel puts it.
    fn branch_advisory(&mut self, elf: &Elf<'_>, r_type: u32, t: &RelocTally) {
        let em = elf.l.e_machine;
        let Some(b) = machine::branch(em, r_type) else {
            return;
        };
        let detail = Detail::BranchRange {
            reloc: RelocType {
                e_machine: em,
                r_type,
            },
            at: place(elf, t),
            symbol: t.symbol.clone(),
            reach: b.reach,
            checked: b.checked,
            count: t.count,
        };
        self.push(Check::BranchRange, detail);
    }

    /// What is wrong with one kind of relocation, first met at `t`.
    fn reloc_detail(&self, elf: &Elf<'_>, (check, key): Kind, t: &RelocTally) -> Detail {
        let (at, symbol, count) = (place(elf, t), t.symbol.clone(), t.count);
        let em = elf.l.e_machine;
        let reloc = RelocType {
            e_machine: em,
            r_type: key,
        };
        match check {
            Check::UnsupportedRelocation => Detail::Unsupported {
                reloc,
                at,
                symbol,
                since: machine::accepted_since(em, key),
                count,
            },
            Check::MisappliedRelocation => {
                let why = self
                    .rules
                    .applies(
                        em,
                        elf.l.class.pointer_size(),
                        elf.l.endian == Endian::Big,
                        key,
                    )
                    .and_then(|a| match a {
                        Applied::Wrongly(why) => Some(why),
                        _ => None,
                    })
                    .unwrap_or("as written it is applied wrongly");
                Detail::Misapplied {
                    reloc,
                    at,
                    symbol,
                    why,
                    count,
                }
            }
            Check::RelNotApplied => Detail::RelNotApplied {
                e_machine: em,
                at,
                symbol,
                panics: matches!(
                    machine::reloc_sections(em),
                    Some(RelocSections::RelaOnly(RelFailure::Panics))
                ),
                count,
            },
            Check::LocalUndefined => Detail::LocalUndefined {
                at,
                index: t.sym_index,
                count,
            },
            Check::WeakUndefined => Detail::WeakUndefined { at, symbol, count },
            _ => Detail::UnusualBinding { at, symbol, count },
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
                commons.push(name.to_vec());
            }
        }
        if !commons.is_empty() {
            self.push(Check::CommonSymbol, Detail::Common { names: commons });
        }
    }
}
