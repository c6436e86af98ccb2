//! m68k: kobj_machdep.c 1.4, ELF32 big-endian, RELA only. As written,
//! R_68K_32 and R_68K_GLOB_DAT add the place's old contents to S + A.

use object::elf;

use super::PointerReloc::{AbsolutePlusPlace, Relative};
use super::{Accepted, Pointer, Port, PortKernel, RelFailure, RelocSections, Widths, ELF32, MSB};

const SMALL: &str = "a 16- or 8-bit field: the linker applies only 32-bit types";
const PIC: &str =
    "it comes from position-independent code (-fpic); modules are built with -fno-pic";

pub(super) const PORT: Port = Port {
    name: "m68k",
    e_machines: &[elf::EM_68K],
    kernels: &[PortKernel {
        reports: |m| {
            matches!(
                m,
                "m68k"
                    | "m68000"
                    | "amiga"
                    | "atari"
                    | "cesfic"
                    | "hp300"
                    | "luna68k"
                    | "mac68k"
                    | "mvme68k"
                    | "news68k"
                    | "next68k"
                    | "sun2"
                    | "sun3"
                    | "x68k"
            )
        },
        e_machines: &[elf::EM_68K],
        class: ELF32,
        data: MSB,
    }],
    source: "kobj_machdep.c 1.4 (2017/11/03), elf_machdep.h 1.6 (2001/12/09)",
    sections: Some(RelocSections::RelaOnly(RelFailure::Refused)),
    names: names![
        R_68K_NONE,
        R_68K_32,
        R_68K_16,
        R_68K_8,
        R_68K_PC32,
        R_68K_PC16,
        R_68K_PC8,
        R_68K_GOT32,
        R_68K_GOT16,
        R_68K_GOT8,
        R_68K_GOT32O,
        R_68K_GOT16O,
        R_68K_GOT8O,
        R_68K_PLT32,
        R_68K_PLT16,
        R_68K_PLT8,
        R_68K_PLT32O,
        R_68K_PLT16O,
        R_68K_PLT8O,
        R_68K_COPY,
        R_68K_GLOB_DAT,
        R_68K_JMP_SLOT,
        R_68K_RELATIVE,
    ],
    widths: Some(Widths {
        pointer_size: None,
        listed: &[
            (elf::R_68K_NONE, 0),
            (elf::R_68K_16, 2),
            (elf::R_68K_PC16, 2),
            (elf::R_68K_GOT16, 2),
            (elf::R_68K_GOT16O, 2),
            (elf::R_68K_PLT16, 2),
            (elf::R_68K_PLT16O, 2),
            (elf::R_68K_8, 1),
            (elf::R_68K_PC8, 1),
            (elf::R_68K_GOT8, 1),
            (elf::R_68K_GOT8O, 1),
            (elf::R_68K_PLT8, 1),
            (elf::R_68K_PLT8O, 1),
        ],
        other: 4,
    }),
    linker: Some(&[
        Accepted::always(elf::R_68K_NONE),
        Accepted::always(elf::R_68K_32),
        Accepted::always(elf::R_68K_GLOB_DAT),
        Accepted::always(elf::R_68K_PC32),
        Accepted::always(elf::R_68K_RELATIVE),
    ]),
    unjudged: &[],
    linker_type: None,
    notes: &[
        (elf::R_68K_16, SMALL),
        (elf::R_68K_8, SMALL),
        (elf::R_68K_PC16, SMALL),
        (elf::R_68K_PC8, SMALL),
        (elf::R_68K_GOT32, PIC),
        (elf::R_68K_GOT16, PIC),
        (elf::R_68K_GOT32O, PIC),
        (elf::R_68K_GOT16O, PIC),
        (elf::R_68K_PLT32, PIC),
        (elf::R_68K_PLT16, PIC),
        (
            elf::R_68K_COPY,
            "a dynamic-linking type; modules are linked with ld -r",
        ),
        (
            elf::R_68K_JMP_SLOT,
            "a dynamic-linking type; modules are linked with ld -r",
        ),
    ],
    branches: &[],
    pointers: &[
        Pointer::new(elf::R_68K_32, AbsolutePlusPlace, Some(4)),
        Pointer::new(elf::R_68K_GLOB_DAT, AbsolutePlusPlace, Some(4)),
        Pointer::new(elf::R_68K_RELATIVE, Relative, Some(4)),
    ],
};
