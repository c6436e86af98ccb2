use super::elf::kernel_align_add;
use super::file::STREAMED_TABLE;
use super::symbols::text_symbol_list;
use super::*;
use crate::checks::Check;
use crate::findings::{printable, printable_bytes};
use object::elf;

fn fixtures() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// A temporary file named after `tag` holding `bytes`.
pub(crate) fn temp_file(tag: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!(
        "kmod-{tag}-{}-{:?}.kmod",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::write(&path, bytes).unwrap();
    path
}

/// A module file whose section header table sits 1 MiB past its
/// sections (the example module, then zeros, then a copy of its
/// section headers), written to a temporary file named after `tag`.
/// Cutting it to a few pages cuts off the section table, which every
/// check reads.
pub(crate) fn big_module_file(tag: &str) -> std::path::PathBuf {
    let mut bytes = std::fs::read(fixtures().join("modules/example/example.kmod")).unwrap();
    let field = |at: usize, n: usize| -> usize {
        let mut v = [0u8; 8];
        v[..n].copy_from_slice(&bytes[at..at + n]);
        u64::from_le_bytes(v) as usize
    };
    let (shoff, shentsize, shnum) = (field(0x28, 8), field(0x3a, 2), field(0x3c, 2));
    let table = bytes[shoff..shoff + shentsize * shnum].to_vec();
    let new_shoff = (1 << 20) + 4096;
    bytes.resize(new_shoff, 0);
    bytes.extend_from_slice(&table);
    bytes[0x28..0x30].copy_from_slice(&(new_shoff as u64).to_le_bytes());
    temp_file(tag, &bytes)
}

/// Truncates the file at `path` (as someone else would) to `len`.
pub(crate) fn truncate(path: &Path, len: u64) {
    let f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    f.set_len(len).unwrap();
}

/// Opens `path`, cutting the file to `len` bytes (as someone else
/// would) right after reading stage `at`.
pub(crate) fn open_cut_after(path: &Path, at: ReadStage, len: u64) -> Kmod {
    Kmod::open_with(path, &mut |stage| {
        if stage == at {
            truncate(path, len);
        }
    })
    .unwrap()
}

#[test]
fn a_file_cut_between_the_header_and_the_section_table_changed_while_read() {
    let path = big_module_file("cut-table");
    let size = std::fs::metadata(&path).unwrap().len();
    let k = open_cut_after(&path, ReadStage::Header, 8192);
    std::fs::remove_file(&path).unwrap();
    // The table lay inside the size fstat gave: its read came up short.
    assert!(k.changed_while_read());
    assert_eq!(k.file_size(), size);
    assert_eq!(&k.bytes()[..4], b"\x7fELF");
    // Nothing decoded from what was not there, and no panic.
    assert_eq!(k.modinfo(), None);
    let _ = (k.sections(), k.defined_globals(), k.relocation_types());
    // A clone knows too.
    assert!(k.clone().changed_while_read());
}

#[test]
fn a_file_cut_between_the_section_table_and_the_sections_changed_while_read() {
    let bytes = std::fs::read(fixtures().join("modules/example/example.kmod")).unwrap();
    let whole = Kmod::from_bytes(bytes.clone());
    let symtab = whole
        .sections()
        .into_iter()
        .find(|s| s.sh_type == elf::SHT_SYMTAB)
        .unwrap();
    let path = temp_file("cut-symtab", &bytes);
    // Cut inside the symbol table, after the headers were read.
    let k = open_cut_after(&path, ReadStage::Table, symtab.offset + 8);
    std::fs::remove_file(&path).unwrap();
    assert!(k.changed_while_read());
    // The section headers were read whole before the cut (the names,
    // in .shstrtab, not: the reads stopped at the short one).
    let placed = |k: &Kmod| -> Vec<(u32, u64, u64)> {
        k.sections()
            .iter()
            .map(|s| (s.sh_type, s.offset, s.size))
            .collect()
    };
    assert_eq!(placed(&k), placed(&whole));
    let t = crate::validate::Target::new(1001000000, "amd64");
    let findings = crate::validate::validate(&k, &t);
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].check, Check::FileChanged);
    assert_eq!(findings[0].errno, FILE_CHANGED_ERRNO);
    assert_eq!(findings[0].reason(), FILE_CHANGED_REASON);
    // Cut after the descriptor was decoded: it is not read again.
    let path = temp_file("cut-late", &bytes);
    let k = Kmod::open(&path).unwrap();
    assert_eq!(k.modinfo().unwrap().name, "example");
    truncate(&path, 100);
    assert_eq!(k.modinfo().unwrap().name, "example");
    assert!(!k.changed_while_read());
    // Cut after opening, before the descriptor was asked for: it is
    // read then, and the read comes up short.
    std::fs::write(&path, &bytes).unwrap();
    let k = Kmod::open(&path).unwrap();
    truncate(&path, 100);
    std::fs::remove_file(&path).unwrap();
    assert_eq!(k.modinfo(), None);
    assert!(k.changed_while_read());
}

/// Every fixture and malformed module, from its file and from memory.
fn module_files() -> Vec<std::path::PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "kmod" || x == "o") {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(&fixtures(), &mut out);
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/malformed"),
        &mut out,
    );
    out.sort();
    assert!(out.len() > 100, "{} module files", out.len());
    out
}

#[test]
fn a_file_read_in_ranges_reads_as_the_whole_file_does() {
    use crate::validate::{file_findings, validate, Target};
    let targets = [
        Target::new(1001000000, "amd64"),
        Target::new(799003400, "amd64"),
        Target::new(1001000000, "i386"),
        Target::new(1001000000, "aarch64"),
        Target::new(1001000000, "sparc64"),
    ];
    for path in module_files() {
        let bytes = std::fs::read(&path).unwrap();
        let size = bytes.len() as u64;
        let read = Kmod::open(&path).unwrap();
        let whole = Kmod::from_bytes(bytes);
        let p = path.display();
        // The descriptor decoded after the validator's pass over the
        // relocations (which finds the descriptor's on the way) is the
        // one decoded by a pass of its own.
        let first = validate(&read, &targets[0]);
        assert_eq!(whole.modinfo(), read.modinfo(), "{p}");
        assert_eq!(first, validate(&whole, &targets[0]), "{p}");
        assert!(!read.changed_while_read(), "{p}");
        assert_eq!(read.file_size(), size, "{p}");
        // Never more than the file holds.
        assert!(
            read.data.held() <= size,
            "{p}: {} bytes read",
            read.data.held()
        );
        assert_eq!(
            read.bytes(),
            &whole.bytes()[..whole.bytes().len().min(64)],
            "{p}"
        );
        assert_eq!(read.modinfo(), whole.modinfo(), "{p}");
        assert_eq!(read.notes(), whole.notes(), "{p}");
        assert_eq!(read.regions(), whole.regions(), "{p}");
        assert_eq!(read.sections(), whole.sections(), "{p}");
        assert_eq!(read.relocation_types(), whole.relocation_types(), "{p}");
        assert_eq!(read.defined_globals(), whole.defined_globals(), "{p}");
        assert_eq!(read.undefined_globals(), whole.undefined_globals(), "{p}");
        assert_eq!(read.undefined_weak(), whole.undefined_weak(), "{p}");
        for t in &targets {
            assert_eq!(validate(&read, t), validate(&whole, t), "{p} for {t:?}");
        }
        let name = path.to_str().unwrap();
        assert_eq!(
            file_findings(name, &read),
            file_findings(name, &whole),
            "{p}"
        );
    }
}

/// The example module with its relocation tables moved past its end
/// and each repeated to more than [`STREAMED_TABLE`] bytes (the same
/// entries again and again: the same relocations, applied again).
fn module_with_large_relocation_tables() -> Vec<u8> {
    let mut d = std::fs::read(fixtures().join("modules/example/example.kmod")).unwrap();
    let shoff = u64::from_le_bytes(d[0x28..0x30].try_into().unwrap()) as usize;
    let shnum = u16::from_le_bytes(d[0x3c..0x3e].try_into().unwrap()) as usize;
    for i in 1..shnum {
        let h = shoff + i * 64;
        let sh_type = u32::from_le_bytes(d[h + 4..h + 8].try_into().unwrap());
        if sh_type != elf::SHT_RELA {
            continue;
        }
        let off = u64::from_le_bytes(d[h + 0x18..h + 0x20].try_into().unwrap()) as usize;
        let size = u64::from_le_bytes(d[h + 0x20..h + 0x28].try_into().unwrap()) as usize;
        let table = d[off..off + size].to_vec();
        let copies = (STREAMED_TABLE as usize * 3 / 2) / size + 1;
        let at = d.len().next_multiple_of(8);
        d.resize(at, 0);
        for _ in 0..copies {
            d.extend_from_slice(&table);
        }
        d[h + 0x18..h + 0x20].copy_from_slice(&(at as u64).to_le_bytes());
        d[h + 0x20..h + 0x28].copy_from_slice(&((copies * size) as u64).to_le_bytes());
        // The last relocation at a place is the one applied: in the
        // last copy, mi_name's (the second entry of .rela.rodata,
        // at offset 16) points one byte further.
        let last = d.len() - size;
        let info = u32::from_le_bytes(d[h + 0x2c..h + 0x30].try_into().unwrap());
        let target_type = u32::from_le_bytes(
            d[shoff + info as usize * 64 + 4..shoff + info as usize * 64 + 8]
                .try_into()
                .unwrap(),
        );
        let flags = u64::from_le_bytes(
            d[shoff + info as usize * 64 + 8..shoff + info as usize * 64 + 16]
                .try_into()
                .unwrap(),
        );
        let rodata = target_type == elf::SHT_PROGBITS && flags == u64::from(elf::SHF_ALLOC);
        if rodata && size >= 48 {
            let e = last + 24;
            assert_eq!(u64::from_le_bytes(d[e..e + 8].try_into().unwrap()), 16);
            let addend = i64::from_le_bytes(d[e + 16..e + 24].try_into().unwrap());
            d[e + 16..e + 24].copy_from_slice(&(addend + 1).to_le_bytes());
        }
    }
    d
}

#[test]
fn large_relocation_tables_are_read_in_chunks_as_the_whole_file_reads() {
    let d = module_with_large_relocation_tables();
    let path = temp_file("streamed", &d);
    let k = Kmod::open(&path).unwrap();
    let whole = Kmod::from_bytes(d.clone());
    // Not held: read a chunk at a time when looked at.
    assert!(k.data.held() < 64 << 10, "{} bytes held", k.data.held());
    // The last of the relocations at mi_name is the one applied, by a
    // pass of the decoder's own and one of the validator's alike.
    assert_eq!(whole.modinfo().unwrap().name, "xample");
    let t = crate::validate::Target::new(1001000000, "amd64");
    let first = crate::validate::validate(&k, &t);
    // The validator's pass noted what the descriptor needs (and the
    // validator's look at the descriptor came after it).
    let relocs = k.descriptor_relocs.as_ref().unwrap();
    assert!(!relocs.met.borrow().is_empty());
    assert_eq!(k.modinfo(), whole.modinfo());
    assert_eq!(first, crate::validate::validate(&whole, &t));
    let again = Kmod::open(&path).unwrap();
    assert_eq!(again.modinfo(), whole.modinfo());
    assert_eq!(k.relocation_types(), whole.relocation_types());
    let counted: u64 = k.relocation_types().iter().map(|r| r.count).sum();
    assert!(counted * 24 > 3 * STREAMED_TABLE, "{counted} relocations");
    for t in [
        crate::validate::Target::new(1001000000, "amd64"),
        crate::validate::Target::new(799003400, "amd64"),
    ] {
        assert_eq!(
            crate::validate::validate(&k, &t),
            crate::validate::validate(&whole, &t)
        );
    }
    assert!(!k.changed_while_read());
    // Cut inside the tables after the file was opened: the next look
    // at them comes up short.
    truncate(&path, d.len() as u64 - STREAMED_TABLE);
    std::fs::remove_file(&path).unwrap();
    let t = crate::validate::Target::new(1001000000, "amd64");
    let findings = crate::validate::validate(&k, &t);
    assert!(k.changed_while_read());
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0].check, Check::FileChanged);
}

#[test]
fn only_the_ranges_the_checks_need_are_read() {
    let path = fixtures().join("modules/example/example.kmod");
    let bytes = std::fs::read(&path).unwrap();
    let whole = Kmod::from_bytes(bytes.clone());
    let k = Kmod::open(&path).unwrap();
    // .text is never read: nothing checks its bytes.
    let text = whole
        .sections()
        .into_iter()
        .find(|s| s.name == ".text")
        .unwrap();
    assert!(text.size > 0);
    assert_eq!(k.elf().unwrap().contents(&shdr_of_info(&text)), None);
    // The symbol table is.
    let symtab = whole
        .sections()
        .into_iter()
        .find(|s| s.sh_type == elf::SHT_SYMTAB)
        .unwrap();
    let got = k.elf().unwrap().contents(&shdr_of_info(&symtab)).unwrap();
    let at = symtab.offset as usize;
    assert_eq!(got, &bytes[at..at + symtab.size as usize]);
    assert!(k.data.held() < bytes.len() as u64);
}

fn shdr_of_info(s: &SectionInfo) -> Shdr {
    Shdr {
        index: s.index,
        name: 0,
        sh_type: s.sh_type,
        flags: s.flags,
        offset: s.offset,
        size: s.size,
        link: s.link,
        info: s.info,
        addralign: s.addralign,
    }
}

#[test]
fn claimed_sizes_are_never_allocated_or_read_past_the_file() {
    // Every section of the example module claims 1 TiB.
    let mut d = std::fs::read(fixtures().join("modules/example/example.kmod")).unwrap();
    let shoff = u64::from_le_bytes(d[0x28..0x30].try_into().unwrap()) as usize;
    let shnum = u16::from_le_bytes(d[0x3c..0x3e].try_into().unwrap()) as usize;
    for i in 1..shnum {
        let at = shoff + i * 64 + 0x20;
        d[at..at + 8].copy_from_slice(&(1u64 << 40).to_le_bytes());
    }
    let path = temp_file("lying", &d);
    let k = Kmod::open(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert!(k.data.held() <= d.len() as u64);
    assert!(!k.changed_while_read());
    let t = crate::validate::Target::new(1001000000, "amd64");
    assert_eq!(
        crate::validate::validate(&k, &t),
        crate::validate::validate(&Kmod::from_bytes(d), &t)
    );
}

#[test]
fn a_module_at_the_start_of_a_huge_sparse_file_reads_as_the_module() {
    let small = fixtures().join("modules/example/example.kmod");
    let bytes = std::fs::read(&small).unwrap();
    let path = temp_file("sparse", &bytes);
    let huge = 100u64 << 30;
    if std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(huge)
        .is_err()
    {
        // A file system without files this large: nothing to show.
        std::fs::remove_file(&path).unwrap();
        return;
    }
    let k = Kmod::open(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(k.file_size(), huge);
    assert!(k.data.held() <= bytes.len() as u64);
    let t = crate::validate::Target::new(1001000000, "amd64");
    let one = Kmod::open(&small).unwrap();
    assert_eq!(
        crate::validate::validate(&k, &t),
        crate::validate::validate(&one, &t)
    );
    assert_eq!(k.modinfo(), one.modinfo());
}

#[test]
fn devices_fifos_sockets_and_directories_read_as_the_kernel_would() {
    // /dev/zero: a character device of size 0 whose reads give zeros;
    // only its header is read, which is not ELF.
    let k = Kmod::open(Path::new("/dev/zero")).unwrap();
    assert_eq!(k.file_size(), EHDR_MAX);
    assert_eq!(k.data.held(), EHDR_MAX);
    let t = crate::validate::Target::new(1001000000, "amd64");
    let f = crate::validate::validate(&k, &t);
    assert_eq!(f[0].check, Check::NotElf, "{f:#?}");
    assert_eq!(f[0].errno, Errno::ENOEXEC);
    // /dev/null gives nothing: shorter than a header.
    let k = Kmod::open(Path::new("/dev/null")).unwrap();
    assert_eq!(k.file_size(), 0);
    assert_eq!(crate::validate::validate(&k, &t)[0].errno, Errno::EINVAL);
    let dir = std::env::temp_dir().join(format!("kmod-kinds-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let fifo = dir.join("fifo.kmod");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let e = Kmod::open(&fifo).unwrap_err();
    assert_eq!(e, KmodError::WouldWait(Waits::Fifo));
    assert_eq!(e.errno(), Errno::EINTR);
    assert!(e.to_string().contains("would wait for a writer"), "{e}");
    assert_eq!(
        read_symbol_table(&fifo).unwrap_err(),
        KmodError::WouldWait(Waits::Fifo)
    );
    let sock = dir.join("sock.kmod");
    let _listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    assert_eq!(
        Kmod::open(&sock).unwrap_err(),
        KmodError::Io(Errno::EOPNOTSUPP)
    );
    assert_eq!(Kmod::open(&dir).unwrap_err(), KmodError::Io(Errno::EISDIR));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn version_texts() {
    assert_eq!(version_text(1001000000), "10.1");
    assert_eq!(version_text(1000000000), "10.0");
    assert_eq!(version_text(1099001200), "10.99.12");
    assert_eq!(version_text(903000000), "9.3");
    assert_eq!(version_text(601000500), "6.1.5");
}

#[test]
fn kernel_alignment_arithmetic() {
    // Power-of-two alignment rounds up.
    assert_eq!(kernel_align_add(3, 16, 5, true), 21);
    assert_eq!(kernel_align_add(3, 16, 5, false), 21);
    // sh_addralign 0 makes the mask -1, which clears the running size.
    assert_eq!(kernel_align_add(100, 0, 7, true), 7);
    assert_eq!(kernel_align_add(100, 0, 7, false), 7);
    // Alignment 1 leaves the size alone.
    assert_eq!(kernel_align_add(3, 1, 5, true), 8);
}

#[test]
fn arbitrary_bytes_are_not_a_module() {
    let k = Kmod::from_bytes(b"hello world".to_vec());
    assert_eq!(k.machine(), None);
    assert_eq!(k.modinfo(), None);
    assert_eq!(k.text_size(), 0);
    assert!(k.sections().is_empty());
    assert!(k.defined_globals().is_empty());
}

#[test]
fn text_lists_of_symbols() {
    let list = text_symbol_list(
        b"printf\n# comment\n\nffffffff80001000 T memcpy\n U undefined_one\n0 t local_one\n",
    )
    .unwrap();
    let names: Vec<&str> = list.iter().map(String::as_str).collect();
    assert_eq!(names, vec!["memcpy", "printf"]);
    assert!(text_symbol_list(&[0xff, 0xfe]).is_none());
}

/// The amd64 `example` fixture with the link-set relocation's type and
/// addend replaced.
fn example_with_link_reloc(r_type: u32, addend: i64) -> Kmod {
    let mut d = include_bytes!("../../tests/fixtures/modules/example/example.kmod").to_vec();
    let k = Kmod::from_bytes(d.clone());
    let rel = k
        .sections()
        .into_iter()
        .find(|s| s.name == ".relalink_set_modules")
        .unwrap();
    let at = rel.offset as usize;
    let info = u64::from_le_bytes(d[at + 8..at + 16].try_into().unwrap());
    let info = (info & !0xffff_ffff) | u64::from(r_type);
    d[at + 8..at + 16].copy_from_slice(&info.to_le_bytes());
    d[at + 16..at + 24].copy_from_slice(&addend.to_le_bytes());
    Kmod::from_bytes(d)
}

#[test]
fn pointer_relocations_by_kind() {
    // S + A with A = 0: the descriptor at .rodata+0.
    let k = example_with_link_reloc(elf::R_X86_64_64, 0);
    assert_eq!(k.modinfo().unwrap().name, "example");
    // GLOB_DAT stores S alone: the addend is ignored.
    let k = example_with_link_reloc(elf::R_X86_64_GLOB_DAT, 16);
    assert_eq!(k.modinfo().unwrap().name, "example");
    // S + A with A = 16 lands inside the descriptor: no longer fits.
    let k = example_with_link_reloc(elf::R_X86_64_64, 16);
    assert_eq!(k.modinfo(), None);
    assert_eq!(k.notes()[0].check, Check::PointerOutsideSection);
    // B + A points into link_set_modules itself, 8 bytes long.
    let k = example_with_link_reloc(elf::R_X86_64_RELATIVE, 0);
    assert_eq!(k.modinfo(), None);
    assert_eq!(k.notes()[0].check, Check::PointerOutsideSection);
    // A PC-relative relocation does not store a pointer.
    let k = example_with_link_reloc(elf::R_X86_64_PC32, 0);
    assert_eq!(k.modinfo(), None);
    assert_eq!(k.notes()[0].check, Check::UndecodablePointer);
}

#[test]
fn file_text_is_made_one_line() {
    assert_eq!(printable("a\nb\tc"), "a\\nb\\tc");
    assert_eq!(printable_bytes(b"ok\x01"), "ok\\u{1}");
    assert_eq!(printable("hello_greet"), "hello_greet");
}

#[test]
fn reading_a_missing_file_is_an_io_error() {
    let err = Kmod::open(Path::new("/nonexistent/kmod/x.kmod")).unwrap_err();
    assert_eq!(err, KmodError::Io(Errno::ENOENT));
}
