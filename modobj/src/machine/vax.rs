//! vax: kobj_machdep.c 1.1 (2018; before it the port had no module
//! linker), ELF32 little-endian, RELA only. The linker applies exactly two
//! types, R_VAX_32 and R_VAX_PC32: every other one fails the load, even
//! R_VAX_NONE.

use object::elf;

use super::PointerReloc::Absolute;
use super::{Accepted, Pointer, Port, PortKernel, RelFailure, RelocSections, Widths, ELF32, LSB};

// `object` has no VAX relocation numbers: these are the GNU toolchain's
// (binutils include/elf/vax.h), of which kobj_machdep.c 1.1 names 1 and 4.
const R_VAX_NONE: u32 = 0;
const R_VAX_32: u32 = 1;
const R_VAX_16: u32 = 2;
const R_VAX_8: u32 = 3;
const R_VAX_PC32: u32 = 4;
const R_VAX_PC16: u32 = 5;
const R_VAX_PC8: u32 = 6;
const R_VAX_GOT32: u32 = 7;
const R_VAX_PLT32: u32 = 13;
const R_VAX_COPY: u32 = 19;
const R_VAX_GLOB_DAT: u32 = 20;
const R_VAX_JMP_SLOT: u32 = 21;
const R_VAX_RELATIVE: u32 = 22;

const ONLY: &str = "the vax linker applies only R_VAX_32 and R_VAX_PC32 (\"Bad relocation\")";

pub(super) const PORT: Port = Port {
    name: "vax",
    e_machines: &[elf::EM_VAX],
    kernels: &[PortKernel {
        reports: |m| m == "vax",
        e_machines: &[elf::EM_VAX],
        class: ELF32,
        data: LSB,
    }],
    source: "kobj_machdep.c 1.1 (2018/04/30), elf_machdep.h 1.5 (2001/12/09)",
    sections: Some(RelocSections::RelaOnly(RelFailure::Refused)),
    names: names![;
        R_VAX_NONE,
        R_VAX_32,
        R_VAX_16,
        R_VAX_8,
        R_VAX_PC32,
        R_VAX_PC16,
        R_VAX_PC8,
        R_VAX_GOT32,
        R_VAX_PLT32,
        R_VAX_COPY,
        R_VAX_GLOB_DAT,
        R_VAX_JMP_SLOT,
        R_VAX_RELATIVE,
    ],
    widths: Some(Widths {
        pointer_size: None,
        listed: &[
            (R_VAX_NONE, 0),
            (R_VAX_16, 2),
            (R_VAX_PC16, 2),
            (R_VAX_8, 1),
            (R_VAX_PC8, 1),
        ],
        other: 4,
    }),
    linker: Some(&[Accepted::always(R_VAX_32), Accepted::always(R_VAX_PC32)]),
    unjudged: &[],
    linker_type: None,
    notes: &[
        (
            R_VAX_NONE,
            "the vax linker applies only R_VAX_32 and R_VAX_PC32, and refuses even NONE \
             (\"Bad relocation 0\")",
        ),
        (R_VAX_16, ONLY),
        (R_VAX_8, ONLY),
        (R_VAX_PC16, ONLY),
        (R_VAX_PC8, ONLY),
        (R_VAX_GOT32, ONLY),
        (R_VAX_PLT32, ONLY),
        (R_VAX_COPY, ONLY),
        (R_VAX_GLOB_DAT, ONLY),
        (R_VAX_JMP_SLOT, ONLY),
        (R_VAX_RELATIVE, ONLY),
    ],
    branches: &[],
    pointers: &[Pointer::new(R_VAX_32, Absolute, Some(4))],
};
