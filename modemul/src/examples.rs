//! The project's example modules, installed under a new state directory's
//! default `module_root` so that a new user can load them by name.

use std::fs;
use std::path::Path;

use super::{statedir, EmulError};

type Examples = [(&'static str, &'static [u8]); 3];

/// NetBSD 10.1 amd64 builds of `example`, `hello` and `needy` (requires
/// hello), from the test fixtures.
const AMD64: Examples = [
    (
        "example",
        include_bytes!("../../modobj/tests/fixtures/modules/example/example.kmod"),
    ),
    (
        "hello",
        include_bytes!("../../modobj/tests/fixtures/modules/hello/hello.kmod"),
    ),
    (
        "needy",
        include_bytes!("../../modobj/tests/fixtures/modules/needy/needy.kmod"),
    ),
];

/// The same modules built for i386.
const I386: Examples = [
    (
        "example",
        include_bytes!("../../modobj/tests/fixtures/i386/example.kmod"),
    ),
    (
        "hello",
        include_bytes!("../../modobj/tests/fixtures/i386/hello.kmod"),
    ),
    (
        "needy",
        include_bytes!("../../modobj/tests/fixtures/i386/needy.kmod"),
    ),
];

/// The examples for a machine. Other machines get the amd64 objects,
/// which their kernel refuses as the real one would (ENOEXEC).
fn example_modules(machine: &str) -> &'static Examples {
    match machine {
        "i386" => &I386,
        _ => &AMD64,
    }
}

/// `__NetBSD_Version__` the example objects were built for (a fact of
/// the fixtures, not the default profile's release).
const BUILT_FOR: u32 = modobj::osrev::OsRevision::new(10, 1, 0).get();

/// Writes each example to `<root>/<module_path>/<name>/<name>.kmod` unless
/// a file is already there, as built for the emulated kernel.
pub fn install(
    root: &Path,
    module_path: &str,
    machine: &str,
    osrevision: u32,
) -> Result<(), EmulError> {
    let base = modobj::path::below_root(root, module_path.as_bytes());
    for (name, bytes) in example_modules(machine) {
        let dir = base.join(name);
        let file = dir.join(format!("{name}.kmod"));
        if fs::symlink_metadata(&file).is_ok() {
            continue;
        }
        statedir::create_dirs(&dir)?;
        statedir::write_new(&file, &for_kernel(bytes, osrevision))?;
    }
    Ok(())
}

/// An example object as its build for the kernel of `osrevision` would
/// be: `mi_version` is that release's, and for amd64 kernels whose linker
/// predates `R_X86_64_PLT32` the calls carry `R_X86_64_PC32`, which
/// binutils before 2.31 emitted (for a direct call the two compute the
/// same value).
fn for_kernel(obj: &[u8], osrevision: u32) -> Vec<u8> {
    let mut out = obj.to_vec();
    let built = BUILT_FOR.to_le_bytes();
    let at: Vec<usize> = out
        .windows(4)
        .enumerate()
        .filter(|(_, w)| *w == built)
        .map(|(i, _)| i)
        .collect();
    // The descriptor's version is the one place the number occurs; were
    // that not so, the object is left as it is.
    if let [at] = at[..] {
        out[at..at + 4].copy_from_slice(&osrevision.to_le_bytes());
    }
    let rules =
        modobj::rules::KernelRules::for_target(&modobj::rules::Target::new(osrevision, "amd64"));
    let plt32 = object::elf::R_X86_64_PLT32;
    if rules.accepts_relocation(object::elf::EM_X86_64, plt32) == Some(false) {
        retype_rela(&mut out, plt32, object::elf::R_X86_64_PC32);
    }
    out
}

/// Changes relocation type `from` to `to` in every `SHT_RELA` section of a
/// little-endian ELF64 object (other objects are left as they are).
fn retype_rela(elf: &mut [u8], from: u32, to: u32) {
    let u16_at = |b: &[u8], o: usize| b.get(o..o + 2).map(|s| u16::from_le_bytes([s[0], s[1]]));
    let u64_at = |b: &[u8], o: usize| {
        b.get(o..o + 8)
            .map(|s| u64::from_le_bytes(s.try_into().expect("8 bytes")))
    };
    if elf.get(..6) != Some(b"\x7fELF\x02\x01") {
        return;
    }
    let (Some(shoff), Some(shentsize), Some(shnum)) =
        (u64_at(elf, 0x28), u16_at(elf, 0x3a), u16_at(elf, 0x3c))
    else {
        return;
    };
    for i in 0..usize::from(shnum) {
        let sh = shoff as usize + i * usize::from(shentsize);
        let sh_type = elf
            .get(sh + 4..sh + 8)
            .map(|s| u32::from_le_bytes(s.try_into().expect("4 bytes")));
        if sh_type != Some(object::elf::SHT_RELA) {
            continue;
        }
        let (Some(off), Some(size)) = (u64_at(elf, sh + 0x18), u64_at(elf, sh + 0x20)) else {
            continue;
        };
        for r in (off..off + size).step_by(24) {
            let info = r as usize + 8;
            if let Some(t) = elf.get_mut(info..info + 4) {
                if u32::from_le_bytes([t[0], t[1], t[2], t[3]]) == from {
                    t.copy_from_slice(&to.to_le_bytes());
                }
            }
        }
    }
}
