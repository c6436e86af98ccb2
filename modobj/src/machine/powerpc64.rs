//! powerpc64: the powerpc kobj_machdep.c 1.5.12.2 compiled with `_LP64`,
//! ELF64 big-endian, RELA only (a REL entry panics). As written it stores
//! ADDR32 as a 64-bit `Elf_Addr`, REL32 through a 16-bit pointer, and
//! ADDR64 not at all; it applies no TOC type, so whether powerpc64
//! modules load at all is UNVERIFIED.

use object::elf;

use super::powerpc::{LATER, LONGCALL};
use super::PointerReloc::{Absolute, Relative};
use super::{Accepted, Pointer, Port, PortKernel, RelFailure, RelocSections, Widths, ELF64, MSB};
use crate::rules::POWERPC_REL16_SINCE;

const TOC: &str = "TOC-relative (ELFv1) code: the powerpc linker applies no TOC type";

pub(super) const PORT: Port = Port {
    name: "powerpc64",
    e_machines: &[elf::EM_PPC64],
    kernels: &[PortKernel {
        reports: |m| m == "powerpc64",
        e_machines: &[elf::EM_PPC64],
        class: ELF64,
        data: MSB,
    }],
    source: "kobj_machdep.c 1.5.12.2 (2017/12/03) of powerpc, with _LP64, elf_machdep.h 1.16 (2019/12/08)",
    sections: Some(RelocSections::RelaOnly(RelFailure::Panics)),
    names: names![
        R_PPC64_NONE,
        R_PPC64_ADDR32,
        R_PPC64_ADDR16,
        R_PPC64_ADDR16_LO,
        R_PPC64_ADDR16_HI,
        R_PPC64_ADDR16_HA,
        R_PPC64_REL24,
        R_PPC64_RELATIVE,
        R_PPC64_REL32,
        R_PPC64_ADDR64,
        R_PPC64_ADDR16_HIGHER,
        R_PPC64_ADDR16_HIGHERA,
        R_PPC64_ADDR16_HIGHEST,
        R_PPC64_ADDR16_HIGHESTA,
        R_PPC64_UADDR64,
        R_PPC64_REL64,
        R_PPC64_TOC16,
        R_PPC64_TOC16_LO,
        R_PPC64_TOC16_HI,
        R_PPC64_TOC16_HA,
        R_PPC64_TOC,
        R_PPC64_ADDR16_DS,
        R_PPC64_ADDR16_LO_DS,
        R_PPC64_TOC16_DS,
        R_PPC64_TOC16_LO_DS,
        R_PPC64_REL16,
        R_PPC64_REL16_LO,
        R_PPC64_REL16_HI,
        R_PPC64_REL16_HA,
    ],
    widths: Some(Widths {
        pointer_size: None,
        listed: &[
            (elf::R_PPC64_NONE, 0),
            (elf::R_PPC64_ADDR32, 8),
            (elf::R_PPC64_RELATIVE, 8),
            (elf::R_PPC64_REL32, 2),
            (elf::R_PPC64_ADDR64, 0),
            (elf::R_PPC64_UADDR64, 8),
            (elf::R_PPC64_REL64, 8),
            (elf::R_PPC64_TOC, 8),
            (elf::R_PPC64_ADDR16, 2),
            (elf::R_PPC64_ADDR16_LO, 2),
            (elf::R_PPC64_ADDR16_HI, 2),
            (elf::R_PPC64_ADDR16_HA, 2),
            (elf::R_PPC64_REL16, 2),
            (elf::R_PPC64_REL16_LO, 2),
            (elf::R_PPC64_REL16_HI, 2),
            (elf::R_PPC64_REL16_HA, 2),
        ],
        other: 4,
    }),
    linker: Some(&[
        Accepted::always(elf::R_PPC64_NONE),
        Accepted::always(elf::R_PPC64_RELATIVE),
        Accepted::always(elf::R_PPC64_ADDR32)
            .misapplied("as written it stores a 64-bit Elf_Addr into the 32-bit place"),
        Accepted::always(elf::R_PPC64_ADDR16_LO),
        Accepted::always(elf::R_PPC64_ADDR16_HA),
        Accepted::always(elf::R_PPC64_ADDR64)
            .lp64()
            .misapplied("as written (1.5.12.2) it is computed but never stored"),
        Accepted::since(elf::R_PPC64_ADDR16, POWERPC_REL16_SINCE, LATER),
        Accepted::since(elf::R_PPC64_ADDR16_HI, POWERPC_REL16_SINCE, LATER),
        Accepted::since(elf::R_PPC64_REL32, POWERPC_REL16_SINCE, LATER)
            .misapplied("as written it is stored through a 16-bit pointer"),
        Accepted::since(elf::R_PPC64_REL16, POWERPC_REL16_SINCE, LATER),
        Accepted::since(elf::R_PPC64_REL16_LO, POWERPC_REL16_SINCE, LATER),
        Accepted::since(elf::R_PPC64_REL16_HI, POWERPC_REL16_SINCE, LATER),
        Accepted::since(elf::R_PPC64_REL16_HA, POWERPC_REL16_SINCE, LATER),
    ]),
    unjudged: &[],
    linker_type: None,
    notes: &[
        (elf::R_PPC64_REL24, LONGCALL),
        (elf::R_PPC64_TOC16, TOC),
        (elf::R_PPC64_TOC16_LO, TOC),
        (elf::R_PPC64_TOC16_HI, TOC),
        (elf::R_PPC64_TOC16_HA, TOC),
        (elf::R_PPC64_TOC16_DS, TOC),
        (elf::R_PPC64_TOC16_LO_DS, TOC),
        (elf::R_PPC64_TOC, TOC),
        (
            elf::R_PPC64_ADDR16_HIGHER,
            "a 64-bit address built in registers: the linker applies only ADDR16_LO, _HI and _HA",
        ),
        (
            elf::R_PPC64_ADDR16_HIGHEST,
            "a 64-bit address built in registers: the linker applies only ADDR16_LO, _HI and _HA",
        ),
    ],
    branches: &[],
    pointers: &[
        Pointer::new(elf::R_PPC64_ADDR64, Absolute, Some(8)),
        Pointer::new(elf::R_PPC64_UADDR64, Absolute, Some(8)),
        Pointer::new(elf::R_PPC64_RELATIVE, Relative, Some(8)),
    ],
};
