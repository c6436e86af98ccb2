//! amd64 (x86_64): kobj_machdep.c 1.6, ELF64 little-endian, REL and
//! RELA. No reach advisory for R_X86_64_PC32: amd64 modules are built
//! with `-mcmodel=kernel`, for a kernel that places them within reach.

use object::elf;

use super::PointerReloc::{Absolute, Relative, Symbol};
use super::{Accepted, Pointer, Port, PortKernel, RelocSections, Widths, ELF64, LSB};

const PIC: &str =
    "it comes from position-independent code (-fpic); modules are built with -fno-pic";
use crate::rules::AMD64_PLT32_SINCE;

pub(super) const PORT: Port = Port {
    name: "amd64",
    e_machines: &[elf::EM_X86_64],
    kernels: &[PortKernel {
        reports: |m| matches!(m, "amd64" | "x86_64"),
        e_machines: &[elf::EM_X86_64],
        class: ELF64,
        data: LSB,
    }],
    source: "kobj_machdep.c 1.6 (2017/11/03), elf_machdep.h 1.7 (2025/11/29)",
    sections: Some(RelocSections::Both),
    names: names![
        R_X86_64_NONE,
        R_X86_64_64,
        R_X86_64_PC32,
        R_X86_64_GOT32,
        R_X86_64_PLT32,
        R_X86_64_COPY,
        R_X86_64_GLOB_DAT,
        R_X86_64_JUMP_SLOT,
        R_X86_64_RELATIVE,
        R_X86_64_GOTPCREL,
        R_X86_64_32,
        R_X86_64_32S,
        R_X86_64_16,
        R_X86_64_PC16,
        R_X86_64_8,
        R_X86_64_PC8,
        R_X86_64_PC64,
        R_X86_64_GOTOFF64,
        R_X86_64_GOTPC32,
        R_X86_64_GOTPCRELX,
        R_X86_64_REX_GOTPCRELX,
    ],
    // The 16- and 8-bit types count as 4 bytes: the kernel refuses them
    // anyway.
    widths: Some(Widths {
        pointer_size: Some(8),
        listed: &[
            (elf::R_X86_64_NONE, 0),
            (elf::R_X86_64_64, 8),
            (elf::R_X86_64_GLOB_DAT, 8),
            (elf::R_X86_64_JUMP_SLOT, 8),
            (elf::R_X86_64_RELATIVE, 8),
            (elf::R_X86_64_PC64, 8),
        ],
        other: 4,
    }),
    linker: Some(&[
        Accepted::always(elf::R_X86_64_NONE),
        Accepted::always(elf::R_X86_64_64),
        Accepted::always(elf::R_X86_64_PC32),
        Accepted::always(elf::R_X86_64_GLOB_DAT),
        Accepted::always(elf::R_X86_64_JUMP_SLOT),
        Accepted::always(elf::R_X86_64_RELATIVE),
        Accepted::always(elf::R_X86_64_32),
        Accepted::always(elf::R_X86_64_32S),
        Accepted::since(
            elf::R_X86_64_PLT32,
            Some(AMD64_PLT32_SINCE),
            "newer binutils emit it for calls",
        ),
    ]),
    unjudged: &[],
    linker_type: None,
    notes: &[
        (elf::R_X86_64_GOTPCREL, PIC),
        (elf::R_X86_64_GOTPCRELX, PIC),
        (elf::R_X86_64_REX_GOTPCRELX, PIC),
        (elf::R_X86_64_GOT32, PIC),
        (
            elf::R_X86_64_COPY,
            "a dynamic-linking type; modules are linked with ld -r",
        ),
    ],
    branches: &[],
    pointers: &[
        Pointer::new(elf::R_X86_64_64, Absolute, Some(8)),
        Pointer::new(elf::R_X86_64_RELATIVE, Relative, Some(8)),
        Pointer::new(elf::R_X86_64_GLOB_DAT, Symbol, Some(8)),
        Pointer::new(elf::R_X86_64_JUMP_SLOT, Symbol, Some(8)),
        // x32 objects: ELF32 with 4-byte pointers.
        Pointer::new(elf::R_X86_64_32, Absolute, Some(4)),
    ],
};
