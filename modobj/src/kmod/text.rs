//! Text for messages: file bytes made printable on one line, section
//! type names.

use object::elf;

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
