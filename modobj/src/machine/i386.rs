//! i386: kobj_machdep.c 1.5.8.1, ELF32 little-endian.

use object::elf;

use super::PointerReloc::{Absolute, Relative, Symbol};
use super::{Accepted, Kernel, Pointer, Port, RelocSections, Widths, ELF32, LSB};
use crate::rules::I386_PLT32_SINCE;

/// `EM_486`, an old alias for i386 that NetBSD's i386 kernel accepts
/// (`object` does not define it).
pub const EM_486: u16 = 6;

pub(super) const PORT: Port = Port {
    name: "i386",
    e_machines: &[elf::EM_386, EM_486],
    kernels: &[Kernel {
        reports: |m| matches!(m, "i386" | "i486" | "i586" | "i686"),
        e_machines: &[elf::EM_386, EM_486],
        label: "EM_386 (3) or EM_486 (6)",
        class: ELF32,
        data: LSB,
    }],
    sections: Some(RelocSections::Both),
    names: names![
        R_386_NONE,
        R_386_32,
        R_386_PC32,
        R_386_GOT32,
        R_386_PLT32,
        R_386_COPY,
        R_386_GLOB_DAT,
        R_386_JMP_SLOT,
        R_386_RELATIVE,
        R_386_GOTOFF,
        R_386_GOTPC,
        R_386_GOT32X,
    ],
    widths: Some(Widths {
        pointer_size: None,
        listed: &[(elf::R_386_NONE, 0)],
        other: 4,
    }),
    linker: Some(&[
        Accepted::always(elf::R_386_NONE),
        Accepted::always(elf::R_386_32),
        Accepted::always(elf::R_386_PC32),
        Accepted::always(elf::R_386_GLOB_DAT),
        Accepted::always(elf::R_386_RELATIVE),
        Accepted::since(
            elf::R_386_PLT32,
            I386_PLT32_SINCE,
            "newer binutils emit it for calls",
        ),
    ]),
    pointers: &[
        Pointer::new(elf::R_386_GLOB_DAT, Symbol, Some(4)),
        Pointer::new(elf::R_386_JMP_SLOT, Symbol, Some(4)),
        Pointer::new(elf::R_386_32, Absolute, Some(4)),
        Pointer::new(elf::R_386_RELATIVE, Relative, Some(4)),
    ],
};
