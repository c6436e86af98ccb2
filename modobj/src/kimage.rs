//! A NetBSD kernel image (`netbsd`, `netbsd.gdb` as built), read for what
//! a freshly booted kernel of it would know about modules: its machine,
//! its version, its built-in modules and its global symbols.
//!
//! Read as a module file is ([`crate::image`]): the ELF header, the
//! section header table, the symbol table with its names and the few
//! sections looked at, then the built-ins' descriptors and strings
//! through the program headers, each read bounded by the claim and by
//! the file's size; never the whole image.
//!
//! Where NetBSD's build puts the facts:
//! - the version: sys/conf/newvers.sh (r1.61) writes vers.c with the
//!   strings `ostype` and `osrelease` and, unless `-n`, an ELF note in
//!   section `.note.netbsd.ident`: name "NetBSD" (namesz 7), type
//!   `ELF_NOTE_TYPE_NETBSD_TAG` (1), a 4-byte descriptor holding
//!   `__NetBSD_Version__`. The note is preferred; without it the
//!   `osrelease` string is parsed.
//! - the machine: the port of `e_machine`, named by machdep.c's
//!   `char machine[]` (sys/arch/amd64/amd64/machdep.c: "amd64") when the
//!   image has that string; kern_module.c (r1.106, `module_init`) builds
//!   the module directory from it (`module_machine = machine`).
//! - the built-ins: link set `modules` (section `link_set_modules`), one
//!   pointer per `modinfo_t`; `module_init` adds each with
//!   `module_builtin_add`, which skips the entry pointing at
//!   `module_dummy`, a zeroed descriptor that only keeps the set from
//!   being empty (kern_module.c r1.106; the same in later revisions read).
//! - the symbols: the image's symbol table, the one `/dev/ksyms` serves
//!   (its defined global and weak symbols).

use std::collections::BTreeSet;
use std::path::Path;

use object::elf;
use object::read::elf::{FileHeader, ProgramHeader};
use object::Endianness;

use libmodctl::errno::Errno;
use libmodctl::ModName;

use crate::image::Image;
use crate::kmod::{self, ElfClass, Endian, KmodError, Layout};
use crate::osrev::OsRevision;

/// `ELF_NOTE_TYPE_NETBSD_TAG` (sys/sys/exec_elf.h).
const NOTE_TYPE_NETBSD_TAG: u32 = 1;
/// `ELF_NOTE_NETBSD_NAME` as the note's name field holds it (namesz 7).
const NOTE_NAME: &[u8] = b"NetBSD\0";
/// Longest string read through a pointer of the image. `osrelease`,
/// `machine` and module names are short; a required list is a few names.
const MAX_STRING: u64 = 4096;

/// A built-in module, as its `modinfo_t` in the image says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Builtin {
    pub name: ModName,
    pub class: i32,
    /// `mi_required` (NULL = `None`).
    pub required: Option<Vec<u8>>,
}

/// What the image says about the kernel it is.
#[derive(Debug, Clone)]
pub struct KernelImage {
    /// `hw.machine`: the image's `machine` string, or its port's name.
    pub machine: String,
    /// `__NetBSD_Version__`.
    pub osrevision: u32,
    /// `kern.osrelease`: the image's `osrelease` string, or the version's
    /// text.
    pub osrelease: String,
    /// Where the version came from: the identity note, or `osrelease`.
    pub version_from_note: bool,
    /// Link set `modules`, in the image's order, `module_dummy` left out.
    pub builtins: Vec<Builtin>,
    /// The defined global symbols; `None` when the image has no symbol
    /// table (then no symbol can be checked).
    pub symbols: Option<BTreeSet<String>>,
}

/// Why an image cannot be read as a kernel.
#[derive(Debug, Clone, PartialEq)]
pub enum KimageError {
    Io(KmodError),
    NotElf,
    /// Not `ET_EXEC`, as every NetBSD kernel is linked.
    NotExecutable(u16),
    /// An `e_machine` of no NetBSD port known here.
    UnknownMachine(u16),
    NoSectionTable,
    NoProgramHeaders,
    /// Neither the identity note nor a readable `osrelease`.
    NoVersion,
    /// Entry `index` of `link_set_modules` cannot be read.
    BadBuiltin {
        index: usize,
        why: &'static str,
    },
    /// The file shrank while it was read.
    Changed,
}

impl KimageError {
    pub fn errno(&self) -> Errno {
        match self {
            KimageError::Io(e) => e.errno(),
            KimageError::Changed => kmod::FILE_CHANGED_ERRNO,
            _ => Errno::EFTYPE,
        }
    }
}

impl std::fmt::Display for KimageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KimageError::Io(e) => write!(f, "{e}"),
            KimageError::NotElf => write!(f, "not an ELF file"),
            KimageError::NotExecutable(t) => write!(
                f,
                "not a kernel image: ELF type {t}, not an executable (ET_EXEC)"
            ),
            KimageError::UnknownMachine(m) => {
                write!(f, "ELF machine {m} is not a NetBSD port known here")
            }
            KimageError::NoSectionTable => write!(f, "no readable section header table"),
            KimageError::NoProgramHeaders => write!(f, "no readable program headers"),
            KimageError::NoVersion => write!(
                f,
                "no NetBSD version: neither a .note.netbsd.ident note nor an osrelease string"
            ),
            KimageError::BadBuiltin { index, why } => {
                write!(f, "entry {index} of link_set_modules: {why}")
            }
            KimageError::Changed => write!(f, "{}", kmod::FILE_CHANGED_REASON),
        }
    }
}

impl std::error::Error for KimageError {}

/// A loadable segment: where its bytes lie in the file.
#[derive(Debug, Clone, Copy)]
struct Segment {
    vaddr: u64,
    offset: u64,
    filesz: u64,
}

/// The image as read, and how to reach what a pointer points at.
struct View<'a> {
    image: &'a Image,
    l: Layout,
    segments: Vec<Segment>,
}

impl View<'_> {
    fn pointer_size(&self) -> u64 {
        self.l.class.pointer_size()
    }

    /// The file range behind virtual address `va`, up to its segment's
    /// end in the file.
    fn place(&self, va: u64) -> Option<(u64, u64)> {
        self.segments.iter().find_map(|s| {
            let within = va.checked_sub(s.vaddr).filter(|&d| d < s.filesz)?;
            Some((s.offset.checked_add(within)?, s.filesz - within))
        })
    }

    fn word(&self, b: &[u8], at: usize, size: usize) -> Option<u64> {
        let b = b.get(at..at.checked_add(size)?)?;
        let mut v = [0u8; 8];
        Some(match (size, self.l.endian) {
            (4, Endian::Little) => u64::from(u32::from_le_bytes(b.try_into().ok()?)),
            (4, Endian::Big) => u64::from(u32::from_be_bytes(b.try_into().ok()?)),
            (_, Endian::Little) => {
                v.copy_from_slice(b);
                u64::from_le_bytes(v)
            }
            (_, Endian::Big) => {
                v.copy_from_slice(b);
                u64::from_be_bytes(v)
            }
        })
    }

    /// The NUL-terminated string at `va`, bounded by its segment and by
    /// [`MAX_STRING`].
    fn string(&self, va: u64) -> Option<Vec<u8>> {
        let (offset, room) = self.place(va)?;
        let bytes = self.image.fetch(offset, room.min(MAX_STRING))?;
        let end = bytes.iter().position(|&c| c == 0)?;
        Some(bytes[..end].to_vec())
    }

    /// The `modinfo_t` at `va` (kern module.h: version, class, modcmd,
    /// name, required; 32 bytes on LP64, 20 on ILP32).
    fn modinfo(&self, va: u64) -> Result<Option<Builtin>, &'static str> {
        let p = self.pointer_size() as usize;
        let size = 8 + 3 * p;
        let (offset, room) = self
            .place(va)
            .ok_or("the descriptor is outside the image")?;
        if room < size as u64 {
            return Err("the descriptor is cut short by its segment");
        }
        let b = self
            .image
            .fetch(offset, size as u64)
            .ok_or("the descriptor cannot be read")?;
        let class = self.word(&b, 4, 4).ok_or("short descriptor")? as u32 as i32;
        let name_va = self.word(&b, 8 + p, p).ok_or("short descriptor")?;
        let required_va = self.word(&b, 8 + 2 * p, p).ok_or("short descriptor")?;
        if name_va == 0 {
            // A descriptor without a name cannot be a built-in the kernel
            // adds: it is module_dummy (when its symbol is gone).
            return Ok(None);
        }
        let name = self.string(name_va).ok_or("its name cannot be read")?;
        let required = match required_va {
            0 => None,
            va => Some(self.string(va).ok_or("its required list cannot be read")?),
        };
        Ok(Some(Builtin {
            name: ModName::from(&name[..]),
            class,
            required,
        }))
    }
}

/// Reads the kernel image at `path`.
pub fn read(path: &Path) -> Result<KernelImage, KimageError> {
    let (mut image, shdrs) =
        kmod::read_file(path, &[elf::SHT_SYMTAB], &mut |_| {}).map_err(KimageError::Io)?;
    let head = image.available(0, kmod::EHDR_MAX).to_vec();
    let l = kmod::parse_layout(&head).ok_or(KimageError::NotElf)?;
    if l.e_type != elf::ET_EXEC {
        return Err(KimageError::NotExecutable(l.e_type));
    }
    let port = crate::machine::port(l.e_machine).ok_or(KimageError::UnknownMachine(l.e_machine))?;
    let shdrs = shdrs.ok_or(KimageError::NoSectionTable)?;
    let segments = read_segments(&mut image, &head, l)?;
    // The sections looked at whole: the notes and the link set.
    let wanted: Vec<(u64, u64)> = {
        let elf = kmod::Elf::new(&image, l).with_shdrs(&shdrs);
        shdrs
            .iter()
            .filter(|s| {
                s.sh_type == elf::SHT_NOTE
                    || elf.section_name(s) == Some(b"link_set_modules".as_slice())
            })
            .map(|s| (s.offset, s.size))
            .collect()
    };
    image.read(&wanted).map_err(KimageError::Io)?;
    let view = View {
        image: &image,
        l,
        segments,
    };
    let elf = kmod::Elf::new(&image, l).with_shdrs(&shdrs);
    let symbols = kmod::symbol_table(&image, Some(&shdrs))
        .ok()
        .filter(|s| !s.is_empty());
    let addr = symbol_addresses(&elf, &["osrelease", "machine", "module_dummy"]);
    let osrelease = addr[0].and_then(|va| view.string(va));
    let osrelease = osrelease.and_then(|b| String::from_utf8(b).ok());
    let note = shdrs
        .iter()
        .filter(|s| s.sh_type == elf::SHT_NOTE)
        .find_map(|s| netbsd_version(elf.contents(s)?, l.endian));
    let osrevision = note
        .or_else(|| OsRevision::parse(osrelease.as_deref()?).map(OsRevision::get))
        .ok_or(KimageError::NoVersion)?;
    let machine = addr[1]
        .and_then(|va| view.string(va))
        .and_then(|b| String::from_utf8(b).ok())
        .filter(|m| !m.is_empty() && m.bytes().all(|c| c.is_ascii_alphanumeric()))
        .unwrap_or_else(|| port.name.to_string());
    let link_set = shdrs
        .iter()
        .find(|s| elf.section_name(s) == Some(b"link_set_modules".as_slice()));
    let builtins = match link_set {
        Some(s) => builtins(&view, elf.contents(s).unwrap_or_default(), addr[2])?,
        None => Vec::new(),
    };
    if image.changed() {
        return Err(KimageError::Changed);
    }
    Ok(KernelImage {
        machine,
        osrevision,
        osrelease: osrelease.unwrap_or_else(|| OsRevision(osrevision).to_string()),
        version_from_note: note.is_some(),
        builtins,
        symbols,
    })
}

/// The program header table's loadable segments.
fn read_segments(image: &mut Image, head: &[u8], l: Layout) -> Result<Vec<Segment>, KimageError> {
    let e = l.endian.object();
    let (phoff, entsize, count) = match l.class {
        ElfClass::Elf64 => header_fields::<elf::FileHeader64<Endianness>>(head, e),
        ElfClass::Elf32 => header_fields::<elf::FileHeader32<Endianness>>(head, e),
    }
    .ok_or(KimageError::NoProgramHeaders)?;
    let len = u64::from(count) * u64::from(entsize);
    if count == 0 || phoff == 0 {
        return Err(KimageError::NoProgramHeaders);
    }
    image.read(&[(phoff, len)]).map_err(KimageError::Io)?;
    let table = image.get(phoff, len).ok_or(KimageError::NoProgramHeaders)?;
    let entries = table.chunks_exact(usize::from(entsize));
    let segments = match l.class {
        ElfClass::Elf64 => load_segments::<elf::ProgramHeader64<Endianness>>(entries, e),
        ElfClass::Elf32 => load_segments::<elf::ProgramHeader32<Endianness>>(entries, e),
    }
    .ok_or(KimageError::NoProgramHeaders)?;
    Ok(segments)
}

/// `e_phoff`, `e_phentsize` and `e_phnum`, when the entry size is the
/// class's.
fn header_fields<H: FileHeader<Endian = Endianness>>(
    head: &[u8],
    e: Endianness,
) -> Option<(u64, u16, u16)> {
    let size = std::mem::size_of::<H>();
    let (h, _) = object::pod::from_bytes::<H>(head.get(..size)?).ok()?;
    let entsize = h.e_phentsize(e);
    (usize::from(entsize) == std::mem::size_of::<H::ProgramHeader>())
        .then(|| (h.e_phoff(e).into(), entsize, h.e_phnum(e)))
}

fn load_segments<'a, P: ProgramHeader<Endian = Endianness>>(
    entries: impl Iterator<Item = &'a [u8]>,
    e: Endianness,
) -> Option<Vec<Segment>> {
    let mut out = Vec::new();
    for entry in entries {
        let (p, _) = object::pod::from_bytes::<P>(entry).ok()?;
        if p.p_type(e) == elf::PT_LOAD {
            out.push(Segment {
                vaddr: p.p_vaddr(e).into(),
                offset: p.p_offset(e).into(),
                filesz: p.p_filesz(e).into(),
            });
        }
    }
    Some(out)
}

/// The values of the named symbols (defined ones), by the order of
/// `names`.
fn symbol_addresses<const N: usize>(elf: &kmod::Elf<'_>, names: &[&str; N]) -> [Option<u64>; N] {
    let mut out = [None; N];
    let Some(symtab) = elf.first_of_type(elf::SHT_SYMTAB) else {
        return out;
    };
    elf.for_each_symbol(&symtab, |_, sym, name| {
        if sym.shndx == elf::SHN_UNDEF {
            return;
        }
        if let Some(i) = names.iter().position(|n| n.as_bytes() == name) {
            out[i].get_or_insert(sym.value);
        }
    });
    out
}

/// The `__NetBSD_Version__` of a NetBSD identity note among `notes` (a
/// note section's contents: namesz, descsz, type, then the name and the
/// descriptor, each padded to 4 bytes).
fn netbsd_version(notes: &[u8], endian: Endian) -> Option<u32> {
    let word = |at: usize| -> Option<u32> {
        let b: [u8; 4] = notes.get(at..at.checked_add(4)?)?.try_into().ok()?;
        Some(match endian {
            Endian::Little => u32::from_le_bytes(b),
            Endian::Big => u32::from_be_bytes(b),
        })
    };
    let pad = |n: usize| n.checked_add(3).map(|n| n & !3);
    let mut at = 0;
    while at + 12 <= notes.len() {
        let namesz = word(at)? as usize;
        let descsz = word(at + 4)? as usize;
        let n_type = word(at + 8)?;
        let name_at = at + 12;
        let desc_at = name_at.checked_add(pad(namesz)?)?;
        let name = notes.get(name_at..name_at.checked_add(namesz)?)?;
        if name == NOTE_NAME && n_type == NOTE_TYPE_NETBSD_TAG && descsz == 4 {
            return word(desc_at);
        }
        at = desc_at.checked_add(pad(descsz)?)?;
    }
    None
}

/// The built-ins of link set `modules` (its contents `set`), without
/// `module_dummy` (at `dummy`, when the symbol table names it).
fn builtins(view: &View<'_>, set: &[u8], dummy: Option<u64>) -> Result<Vec<Builtin>, KimageError> {
    let p = view.pointer_size() as usize;
    let mut out = Vec::new();
    for (index, entry) in set.chunks_exact(p).enumerate() {
        let bad = |why| KimageError::BadBuiltin { index, why };
        let va = view.word(entry, 0, p).ok_or_else(|| bad("short entry"))?;
        if Some(va) == dummy {
            continue;
        }
        if let Some(b) = view.modinfo(va).map_err(bad)? {
            out.push(b);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name)
    }

    #[test]
    fn reads_the_fixture_kernel() {
        let k = read(&fixture("release/netbsd")).unwrap();
        assert_eq!(k.machine, "amd64");
        assert_eq!(k.osrevision, 1_001_000_000);
        assert!(k.version_from_note);
        assert_eq!(k.osrelease, "10.1");
        let names: Vec<String> = k.builtins.iter().map(|b| b.name.to_string()).collect();
        assert_eq!(names, ["kvfs", "kbase"]);
        assert_eq!(k.builtins[0].class, 2);
        assert_eq!(k.builtins[0].required.as_deref(), Some(&b"kbase"[..]));
        assert_eq!(k.builtins[1].required, None);
        let syms = k.symbols.unwrap();
        assert!(syms.contains("printf") && syms.contains("kbase_hook"));
        assert!(!syms.contains("kbase_modcmd"), "a local symbol");
    }

    #[test]
    fn the_note_is_found_among_others() {
        let mut notes = Vec::new();
        for (name, ty, desc) in [(&b"GNU\0"[..], 3u32, 7u32), (NOTE_NAME, 1, 903_000_000)] {
            notes.extend((name.len() as u32).to_le_bytes());
            notes.extend(4u32.to_le_bytes());
            notes.extend(ty.to_le_bytes());
            notes.extend(name);
            notes.resize(notes.len().next_multiple_of(4), 0);
            notes.extend(desc.to_le_bytes());
        }
        assert_eq!(netbsd_version(&notes, Endian::Little), Some(903_000_000));
        assert_eq!(
            netbsd_version(&notes[..notes.len() - 2], Endian::Little),
            None
        );
        assert_eq!(netbsd_version(&[0xff; 40], Endian::Little), None);
    }

    #[test]
    fn refuses_what_is_not_a_kernel() {
        let module = fixture("modules/hello/hello.kmod");
        assert_eq!(read(&module).unwrap_err(), KimageError::NotExecutable(1));
        let dir = std::env::temp_dir().join(format!("kimage-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let text = dir.join("text");
        std::fs::write(&text, b"not a kernel\n").unwrap();
        assert_eq!(read(&text).unwrap_err(), KimageError::NotElf);
        // Cut inside the section table: read, but nothing to go on.
        let whole = std::fs::read(fixture("release/netbsd")).unwrap();
        let cut = dir.join("cut");
        std::fs::write(&cut, &whole[..whole.len() - 100]).unwrap();
        assert_eq!(read(&cut).unwrap_err(), KimageError::NoSectionTable);
        assert_eq!(
            read(&dir.join("absent")).unwrap_err().errno(),
            Errno::ENOENT
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
