//! Decoding the module descriptor: `link_set_modules` → `modinfo_t` →
//! its strings, each pointer through the relocation the kernel would
//! apply, with a note for whatever the kernel would trip over.

use object::elf;

use super::elf::{Elf, RelEnt, Shdr, SymEnt};
use super::reloc::relocs_at;
use super::{split_required, Endian, ModInfo};
use crate::checks::Check;
use crate::findings::{Detail, RelocType, SectionRef};
use crate::machine::{pointer_reloc, PointerReloc};
use libmodctl::ModName;

pub(crate) use crate::findings::Field;

/// Something found while decoding the descriptor; [`crate::validate`]
/// turns these into findings at the point in the kernel's order where the
/// kernel would trip over them.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Note {
    pub check: Check,
    pub field: Field,
    pub detail: Detail,
    /// For an unterminated string: the bytes available before the end of
    /// its section.
    pub available: u64,
}

/// Longest string read through a module pointer. The kernel itself reads
/// names only up to 32 bytes; required lists are never near this long.
const MAX_STRING: usize = 64 * 1024;

/// Where a decoded pointer points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ptr {
    Null,
    Into { section: u32, offset: u64 },
}

/// Decodes `link_set_modules` → `modinfo_t` → strings, collecting notes.
pub(super) struct Decoder<'e, 'a> {
    elf: &'e Elf<'a>,
    symtab: Option<Shdr>,
    notes: Vec<Note>,
    /// (section, offset, relocation there) found ahead of time.
    prefetched: Vec<(u32, u64, Option<RelEnt>)>,
}

/// Where the descriptor is (its section and offset), if it was found, and
/// the notes made finding it.
pub(super) type Located = (Option<(u32, u64)>, Vec<Note>);

/// Where the descriptor's three pointers lie (`desc_off` is where it
/// starts): after its `u_int` and `int`.
pub(super) fn descriptor_places(desc_off: u64, ptr: u64) -> [u64; 3] {
    [8, 8 + ptr, 8 + 2 * ptr].map(|o| desc_off.wrapping_add(o))
}

impl<'e, 'a> Decoder<'e, 'a> {
    pub(super) fn new(elf: &'e Elf<'a>) -> Self {
        Decoder {
            elf,
            symtab: elf.first_of_type(elf::SHT_SYMTAB),
            notes: Vec::new(),
            prefetched: Vec::new(),
        }
    }

    fn note(&mut self, check: Check, field: Field, detail: Detail) {
        self.notes.push(Note {
            check,
            field,
            detail,
            available: 0,
        });
    }

    /// Decodes the descriptor; `located` is what [`Decoder::locate`]
    /// found before, if it was asked.
    pub(super) fn decode(mut self, located: Option<Located>) -> (Option<ModInfo>, Vec<Note>) {
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
    pub(super) fn locate(mut self) -> Located {
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
                Detail::NoSectionNameTable,
            );
            return None;
        }
        let link_set = (0..u32::from(elf.l.e_shnum))
            .filter_map(|i| elf.shdr(i))
            .find(|s| s.is_progtab() && elf.section_name(s) == Some(b"link_set_modules"));
        let Some(link_set) = link_set else {
            self.note(Check::LinkSetMissing, Field::LinkSet, Detail::NoLinkSet);
            return None;
        };
        if link_set.size != ptr {
            let detail = Detail::LinkSetSize {
                size: link_set.size,
                pointer: ptr,
            };
            self.note(Check::LinkSetSize, Field::LinkSet, detail);
            return None;
        }
        let (desc_sec, desc_off) = match self.pointer(&link_set, 0, Field::LinkSet)? {
            Ptr::Null => {
                self.note(
                    Check::UnrelocatedPointer,
                    Field::LinkSet,
                    Detail::NullLinkSet,
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
                self.note(Check::UndecodablePointer, Field::Name, Detail::NullName);
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
            let detail = Detail::FixedPointer { field, raw };
            self.note(Check::UnrelocatedPointer, field, detail);
            return None;
        };
        let (sym, sym_name) = self.reloc_symbol(&r, raw, field)?;
        let Some(kind) = pointer_reloc(elf.l.e_machine, ptr, r.r_type) else {
            let detail = Detail::PointerType {
                field,
                reloc: RelocType {
                    e_machine: elf.l.e_machine,
                    r_type: r.r_type,
                },
                pointer: ptr,
            };
            self.note(Check::UndecodablePointer, field, detail);
            return None;
        };
        // module_fetch_info() reads the link-set entry, mi_name and
        // mi_required before kobj_affix() applies relocations against
        // global symbols; mi_modcmd is called only after it (kern_module.c
        // r1.155 and r1.115), so a global modcmd is fine.
        if sym.bind != elf::STB_LOCAL && r.sym != 0 && field != Field::Modcmd {
            let detail = Detail::GlobalPointer {
                field,
                symbol: sym_name.clone(),
                raw,
            };
            self.note(Check::GlobalPointerReloc, field, detail);
        }
        let addend = applied_addend(kind, &r, raw, ptr);
        let (section, target) = match kind {
            PointerReloc::Relative => (sec.index, wrap_to(ptr, addend as u64)),
            // Absolute (with or without the place), Symbol.
            _ => match self.symbol_target(&r, &sym, &sym_name, addend, field)? {
                Ptr::Null => return Some(Ptr::Null),
                Ptr::Into { section, offset } => (section, offset),
            },
        };
        self.loaded_target(section, target, field)
    }

    /// The symbol relocation `r` names, with its name's bytes; `None`
    /// (noted) when there is no such symbol.
    fn reloc_symbol(&mut self, r: &RelEnt, raw: u64, field: Field) -> Option<(SymEnt, Vec<u8>)> {
        let elf = *self.elf;
        let Some(symtab) = self.symtab else {
            let detail = Detail::PointerWithoutSymbols { field };
            self.note(Check::UndecodablePointer, field, detail);
            return None;
        };
        let Some(sym) = elf.symbol(&symtab, r.sym) else {
            let detail = Detail::PointerSymbolIndex {
                field,
                symbol: r.sym,
                symcount: elf.symbol_count(&symtab),
                raw,
            };
            self.note(Check::UnrelocatedPointer, field, detail);
            return None;
        };
        let sym_name = elf
            .symbol_name(&symtab, &sym)
            .map(<[u8]>::to_vec)
            .unwrap_or_default();
        Some((sym, sym_name))
    }

    /// Where an absolute or symbol relocation against `sym` points: into
    /// the symbol's section, or NULL; `None` (noted) when it points
    /// outside the module.
    fn symbol_target(
        &mut self,
        r: &RelEnt,
        sym: &SymEnt,
        sym_name: &[u8],
        addend: i64,
        field: Field,
    ) -> Option<Ptr> {
        let ptr = self.elf.l.class.pointer_size();
        match sym.shndx {
            elf::SHN_UNDEF if r.sym == 0 => {
                let value = wrap_to(ptr, addend as u64);
                if value == 0 {
                    return Some(Ptr::Null);
                }
                let detail = Detail::FixedAddress { field, value };
                self.note(Check::UnrelocatedPointer, field, detail);
                None
            }
            elf::SHN_UNDEF => {
                let symbol = sym_name.to_vec();
                let detail = Detail::PointsUndefined { field, symbol };
                self.note(Check::UndecodablePointer, field, detail);
                None
            }
            idx if idx >= elf::SHN_LORESERVE => {
                let detail = Detail::PointsSpecial {
                    field,
                    symbol: sym_name.to_vec(),
                    shndx: idx,
                };
                self.note(Check::UndecodablePointer, field, detail);
                None
            }
            idx => Some(Ptr::Into {
                section: u32::from(idx),
                offset: wrap_to(ptr, sym.value.wrapping_add(addend as u64)),
            }),
        }
    }

    /// `target` in `section`, when that is a section the kernel loads;
    /// `None` (noted) when it is not.
    fn loaded_target(&mut self, section: u32, target: u64, field: Field) -> Option<Ptr> {
        let Some(target_shdr) = self.elf.shdr(section) else {
            let detail = Detail::NoSuchSection { field, section };
            self.note(Check::PointerOutsideSection, field, detail);
            return None;
        };
        if !target_shdr.is_progtab() {
            let detail = Detail::NotLoaded {
                field,
                section,
                sh_type: target_shdr.sh_type,
            };
            self.note(Check::PointerOutsideSection, field, detail);
            return None;
        }
        Some(Ptr::Into {
            section,
            offset: target,
        })
    }

    /// A section as the notes name it (with its name even when empty).
    fn section_ref(&self, s: &Shdr) -> SectionRef {
        SectionRef {
            index: s.index,
            name: self.elf.section_name(s).map(<[u8]>::to_vec),
        }
    }

    /// The section's contents are not all in the file.
    fn past_end(&mut self, s: &Shdr, field: Field) {
        let section = self.section_ref(s);
        let detail = Detail::PastEnd { section };
        self.note(Check::ContentOutsideFile, field, detail);
    }

    /// `len` bytes at `offset` in a section (zeros for NOBITS).
    fn bytes_at(&mut self, s: &Shdr, offset: u64, len: u64, field: Field) -> Option<Vec<u8>> {
        let fits = offset.checked_add(len).is_some_and(|end| end <= s.size);
        if !fits {
            let detail = Detail::FieldOutside {
                field,
                offset,
                section: self.section_ref(s),
                size: s.size,
                needed: len,
            };
            self.note(Check::PointerOutsideSection, field, detail);
            return None;
        }
        if s.sh_type == elf::SHT_NOBITS {
            return Some(vec![0; len as usize]);
        }
        if !self.elf.within_file(s.offset, s.size) {
            self.past_end(s, field);
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
        if offset > s.size {
            let detail = Detail::StringOutside {
                field,
                offset,
                section: self.section_ref(&s),
                size: s.size,
            };
            self.note(Check::PointerOutsideSection, field, detail);
            return None;
        }
        if s.sh_type == elf::SHT_NOBITS {
            return Some(Vec::new());
        }
        if !self.elf.within_file(s.offset, s.size) {
            self.past_end(&s, field);
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
                let detail = if (window.len() as u64) < rest {
                    Detail::StringTooLong {
                        field,
                        max: MAX_STRING,
                    }
                } else {
                    Detail::StringUnterminated {
                        field,
                        shown: window[..window.len().min(40)].to_vec(),
                        section: self.section_ref(&s),
                        length: window.len() as u64,
                    }
                };
                self.notes.push(Note {
                    check: Check::StringWithoutNul,
                    field,
                    detail,
                    available: window.len() as u64,
                });
                None
            }
        }
    }
}

/// The addend a pointer relocation adds: RELA's own, REL's from the place
/// (`raw`), none for a symbol relocation, and for sh3's and m68k's
/// linkers the place's contents on top of RELA's.
fn applied_addend(kind: PointerReloc, r: &RelEnt, raw: u64, ptr: u64) -> i64 {
    let place = match ptr {
        4 => i64::from(raw as u32 as i32),
        _ => raw as i64,
    };
    // REL keeps the addend in the place itself.
    let addend = r.addend.unwrap_or(place);
    if kind == PointerReloc::Symbol {
        0
    } else if kind == PointerReloc::AbsolutePlusPlace && r.addend.is_some() {
        // sh3's and m68k's linkers add the place's contents too.
        addend.wrapping_add(place)
    } else {
        addend
    }
}

/// `v` as a pointer of `ptr` bytes holds it.
fn wrap_to(ptr: u64, v: u64) -> u64 {
    if ptr == 4 {
        v & 0xffff_ffff
    } else {
        v
    }
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
