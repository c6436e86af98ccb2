//! Reading a module file the way `kobj_load` does: the header, the
//! section header table, then only the ranges the checks need.

use std::path::Path;

use object::elf;

use super::elf::{parse_layout, Elf, Layout, Shdr};
use super::KmodError;
use crate::image::Image;

/// The largest ELF header (ELF64). The kernel reads `sizeof(Elf_Ehdr)`
/// of its own class; the validator judges the header in that class.
pub(crate) const EHDR_MAX: u64 = 64;

/// Relocation tables at least this large are not read with the file but
/// in chunks as they are looked at ([`Elf::relocs`]): they are most of a
/// large module, and a chunk at a time through one buffer costs a copy
/// from the file's cache where holding them all would cost a fresh page
/// of memory for every 4 KiB (the 20 MB module of bench/run took about 30%
/// longer to check that way).
pub(super) const STREAMED_TABLE: u64 = 1 << 20;

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
    read_image(Image::open(path)?, symbol_types, 0, between)
}

/// [`read_file`] of a file already open; `whole`: a regular file up to
/// that size is read whole first (as the boot loader reads a module),
/// which spares the reads of its ranges.
pub(crate) fn read_image(
    mut image: Image,
    symbol_types: &[u32],
    whole: u64,
    between: &mut dyn FnMut(ReadStage),
) -> Result<(Image, Option<Vec<Shdr>>), KmodError> {
    image.read_whole_up_to(whole)?;
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
