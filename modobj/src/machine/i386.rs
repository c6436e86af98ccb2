//! i386: kobj_machdep.c 1.5.8.1 and the ~2018 copy, ELF32 little-endian,
//! REL and RELA. PC32 wraps around the 32-bit address space: no reach
//! limit.

use object::elf;

use super::PointerReloc::{Absolute, Relative, Symbol};
use super::{Accepted, Pointer, Port, PortKernel, RelocSections, Widths, ELF32, LSB};

const PIC: &str =
    "it comes from position-independent code (-fpic); modules are built with -fno-pic";
use crate::rules::I386_PLT32_SINCE;

/// `EM_486`, an old alias for i386 that NetBSD's i386 kernel accepts
/// (`object` does not define it).
pub const EM_486: u16 = 6;

pub(super) const PORT: Port = Port {
    name: "i386",
    e_machines: &[elf::EM_386, EM_486],
    kernels: &[PortKernel {
        reports: |m| matches!(m, "i386" | "i486" | "i586" | "i686"),
        e_machines: &[elf::EM_386, EM_486],
        class: ELF32,
        data: LSB,
    }],
    source: "kobj_machdep.c 1.5.8.1 (2009/01/19) and a copy of about 2018, elf_machdep.h 1.10.22.1 (2017/12/03)",
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
    unjudged: &[],
    linker_type: None,
    notes: &[
        (
            elf::R_386_PLT32,
            "newer binutils emit it for calls; no i386 kobj_machdep.c read applies it (HEAD UNVERIFIED)",
        ),
        (elf::R_386_GOT32, PIC),
        (elf::R_386_GOT32X, PIC),
        (elf::R_386_GOTOFF, PIC),
        (elf::R_386_GOTPC, PIC),
        (elf::R_386_COPY, "a dynamic-linking type; modules are linked with ld -r"),
    ],
    branches: &[],
    pointers: &[
        Pointer::new(elf::R_386_GLOB_DAT, Symbol, Some(4)),
        Pointer::new(elf::R_386_JMP_SLOT, Symbol, Some(4)),
        Pointer::new(elf::R_386_32, Absolute, Some(4)),
        Pointer::new(elf::R_386_RELATIVE, Relative, Some(4)),
    ],
};
