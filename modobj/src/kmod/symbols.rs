//! The exported symbols of a whole file (`/dev/ksyms`, or an `nm`-style
//! list), which the dry run resolves a module's undefined symbols against.

use std::collections::BTreeSet;
use std::path::Path;

use object::elf;

use super::elf::{parse_layout, Elf, Shdr};
use super::file::{read_file, EHDR_MAX};
use super::{KmodError, FILE_CHANGED_ERRNO};
use crate::image::Image;
use libmodctl::errno::Errno;

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

pub(super) fn text_symbol_list(data: &[u8]) -> Option<BTreeSet<String>> {
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
