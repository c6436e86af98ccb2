//! aarch64 and aarch64eb: kobj_machdep.c 1.5 (same set as 1.2), ELF64
//! either byte order, RELA only.

use object::elf;

use super::PointerReloc::{Absolute, Relative};
use super::{
    Accepted, Branch, Pointer, Port, PortKernel, RelFailure, RelocSections, Widths, ELF64, LSB, MSB,
};

/// The alternative NONE, which `object` does not name.
const R_AARCH64_NONE2: u32 = 256;

const PIC: &str =
    "it comes from position-independent code (-fpic); modules are built with -fno-pic";

pub(super) const PORT: Port = Port {
    name: "aarch64",
    e_machines: &[elf::EM_AARCH64],
    kernels: &[
        PortKernel {
            reports: |m| m == "aarch64",
            e_machines: &[elf::EM_AARCH64],
            class: ELF64,
            data: LSB,
        },
        PortKernel {
            reports: |m| m == "aarch64eb",
            e_machines: &[elf::EM_AARCH64],
            class: ELF64,
            data: MSB,
        },
    ],
    source: "kobj_machdep.c 1.5 (2020/09/14), elf_machdep.h 1.6 (2025/11/26)",
    sections: Some(RelocSections::RelaOnly(RelFailure::Refused)),
    names: names![
        R_AARCH64_NONE,
        R_AARCH64_ABS64,
        R_AARCH64_ABS32,
        R_AARCH64_ABS16,
        R_AARCH64_PREL64,
        R_AARCH64_PREL32,
        R_AARCH64_PREL16,
        R_AARCH64_MOVW_UABS_G0,
        R_AARCH64_MOVW_UABS_G0_NC,
        R_AARCH64_MOVW_UABS_G1,
        R_AARCH64_MOVW_UABS_G1_NC,
        R_AARCH64_MOVW_UABS_G2,
        R_AARCH64_MOVW_UABS_G2_NC,
        R_AARCH64_MOVW_UABS_G3,
        R_AARCH64_LD_PREL_LO19,
        R_AARCH64_ADR_PREL_LO21,
        R_AARCH64_ADR_PREL_PG_HI21,
        R_AARCH64_ADR_PREL_PG_HI21_NC,
        R_AARCH64_ADD_ABS_LO12_NC,
        R_AARCH64_LDST8_ABS_LO12_NC,
        R_AARCH64_TSTBR14,
        R_AARCH64_CONDBR19,
        R_AARCH64_JUMP26,
        R_AARCH64_CALL26,
        R_AARCH64_LDST16_ABS_LO12_NC,
        R_AARCH64_LDST32_ABS_LO12_NC,
        R_AARCH64_LDST64_ABS_LO12_NC,
        R_AARCH64_LDST128_ABS_LO12_NC,
        R_AARCH64_ADR_GOT_PAGE,
        R_AARCH64_LD64_GOT_LO12_NC,
        R_AARCH64_COPY,
        R_AARCH64_GLOB_DAT,
        R_AARCH64_JUMP_SLOT,
        R_AARCH64_RELATIVE;
        R_AARCH64_NONE2,
    ],
    widths: Some(Widths {
        pointer_size: None,
        listed: &[
            (elf::R_AARCH64_NONE, 0),
            (R_AARCH64_NONE2, 0),
            (elf::R_AARCH64_ABS64, 8),
            (elf::R_AARCH64_PREL64, 8),
            (elf::R_AARCH64_ABS16, 2),
            (elf::R_AARCH64_PREL16, 2),
            (elf::R_AARCH64_GLOB_DAT, 8),
            (elf::R_AARCH64_JUMP_SLOT, 8),
            (elf::R_AARCH64_RELATIVE, 8),
        ],
        other: 4,
    }),
    linker: Some(&[
        Accepted::always(elf::R_AARCH64_NONE),
        Accepted::always(R_AARCH64_NONE2),
        Accepted::always(elf::R_AARCH64_ABS64),
        Accepted::always(elf::R_AARCH64_ABS32),
        Accepted::always(elf::R_AARCH64_ABS16),
        Accepted::always(elf::R_AARCH64_PREL64),
        Accepted::always(elf::R_AARCH64_PREL32),
        Accepted::always(elf::R_AARCH64_PREL16),
        Accepted::always(elf::R_AARCH64_ADR_PREL_PG_HI21),
        Accepted::always(elf::R_AARCH64_ADR_PREL_PG_HI21_NC),
        Accepted::always(elf::R_AARCH64_ADD_ABS_LO12_NC),
        Accepted::always(elf::R_AARCH64_LDST8_ABS_LO12_NC),
        Accepted::always(elf::R_AARCH64_LDST16_ABS_LO12_NC),
        Accepted::always(elf::R_AARCH64_LDST32_ABS_LO12_NC),
        Accepted::always(elf::R_AARCH64_LDST64_ABS_LO12_NC),
        Accepted::always(elf::R_AARCH64_JUMP26),
        Accepted::always(elf::R_AARCH64_CALL26),
    ]),
    unjudged: &[],
    linker_type: None,
    notes: &[
        (elf::R_AARCH64_ADR_GOT_PAGE, PIC),
        (elf::R_AARCH64_LD64_GOT_LO12_NC, PIC),
        (
            elf::R_AARCH64_LDST128_ABS_LO12_NC,
            "128-bit loads and stores come from FP/SIMD code; modules are built with \
             -march=armv8-a+nofp+nosimd",
        ),
        (
            elf::R_AARCH64_LD_PREL_LO19,
            "it comes from -mcmodel=tiny or a literal load; NetBSD sets no -mcmodel for modules",
        ),
        (
            elf::R_AARCH64_ADR_PREL_LO21,
            "it comes from -mcmodel=tiny; NetBSD sets no -mcmodel for modules",
        ),
    ],
    branches: &[
        Branch {
            r_type: elf::R_AARCH64_CALL26,
            reach: "±128 MiB",
            checked: true,
        },
        Branch {
            r_type: elf::R_AARCH64_JUMP26,
            reach: "±128 MiB",
            checked: true,
        },
    ],
    pointers: &[
        Pointer::new(elf::R_AARCH64_ABS64, Absolute, Some(8)),
        Pointer::new(elf::R_AARCH64_RELATIVE, Relative, Some(8)),
    ],
};
