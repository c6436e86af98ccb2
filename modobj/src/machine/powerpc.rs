//! powerpc (32-bit): kobj_machdep.c 1.5.12.2, ELF32 big-endian, under the
//! names of its many machines; RELA only (a REL entry panics). No
//! R_PPC_REL24: modules are built with `-mlongcall`.

use object::elf;

use super::PointerReloc::{Absolute, Relative};
use super::{Accepted, Pointer, Port, PortKernel, RelFailure, RelocSections, Widths, ELF32, MSB};
use crate::rules::POWERPC_REL16_SINCE;

// Not in `object`'s list; the numbers are the psABI's.
const R_PPC_PLTSEQ: u32 = 119;
const R_PPC_PLTCALL: u32 = 120;

/// Why modules built for an older kernel carry the 2011 types.
pub(super) const LATER: &str = "gcc emits them for PC-relative and 16-bit values";
/// Why a module has calls the linker cannot reach.
pub(super) const LONGCALL: &str = "a relative call: the kernel's linker has no branch \
                                   trampolines, so NetBSD builds modules with gcc -mlongcall \
                                   (and -mno-pltseq with gcc 9 or later)";
pub(super) const PIC: &str =
    "it comes from position-independent code (-fpic); modules are built with -fno-pic";

/// The names of powerpc's many kernels.
fn powerpc(m: &str) -> bool {
    matches!(
        m,
        "powerpc"
            | "macppc"
            | "evbppc"
            | "ofppc"
            | "prep"
            | "bebox"
            | "amigappc"
            | "ibmnws"
            | "mvmeppc"
            | "rs6000"
            | "sandpoint"
    )
}

pub(super) const PORT: Port = Port {
    name: "powerpc",
    e_machines: &[elf::EM_PPC],
    kernels: &[PortKernel {
        reports: powerpc,
        e_machines: &[elf::EM_PPC],
        class: ELF32,
        data: MSB,
    }],
    source: "kobj_machdep.c 1.5.12.2 (2017/12/03) and 1.4.2.1 (2011/06/23), elf_machdep.h 1.16 (2019/12/08)",
    sections: Some(RelocSections::RelaOnly(RelFailure::Panics)),
    names: names![
        R_PPC_NONE,
        R_PPC_ADDR32,
        R_PPC_ADDR24,
        R_PPC_ADDR16,
        R_PPC_ADDR16_LO,
        R_PPC_ADDR16_HI,
        R_PPC_ADDR16_HA,
        R_PPC_ADDR14,
        R_PPC_REL24,
        R_PPC_REL14,
        R_PPC_GOT16,
        R_PPC_GOT16_LO,
        R_PPC_GOT16_HI,
        R_PPC_GOT16_HA,
        R_PPC_PLTREL24,
        R_PPC_COPY,
        R_PPC_GLOB_DAT,
        R_PPC_JMP_SLOT,
        R_PPC_RELATIVE,
        R_PPC_LOCAL24PC,
        R_PPC_UADDR32,
        R_PPC_REL32,
        R_PPC_PLT16_LO,
        R_PPC_PLT16_HI,
        R_PPC_PLT16_HA,
        R_PPC_SDAREL16,
        R_PPC_EMB_SDA21,
        R_PPC_REL16,
        R_PPC_REL16_LO,
        R_PPC_REL16_HI,
        R_PPC_REL16_HA;
        R_PPC_PLTSEQ,
        R_PPC_PLTCALL,
    ],
    widths: Some(Widths {
        pointer_size: None,
        listed: &[
            (elf::R_PPC_NONE, 0),
            (elf::R_PPC_ADDR16, 2),
            (elf::R_PPC_ADDR16_LO, 2),
            (elf::R_PPC_ADDR16_HI, 2),
            (elf::R_PPC_ADDR16_HA, 2),
            (elf::R_PPC_REL16, 2),
            (elf::R_PPC_REL16_LO, 2),
            (elf::R_PPC_REL16_HI, 2),
            (elf::R_PPC_REL16_HA, 2),
            (elf::R_PPC_GOT16, 2),
            (elf::R_PPC_GOT16_LO, 2),
            (elf::R_PPC_GOT16_HI, 2),
            (elf::R_PPC_GOT16_HA, 2),
            (elf::R_PPC_SDAREL16, 2),
        ],
        other: 4,
    }),
    linker: Some(&[
        Accepted::always(elf::R_PPC_NONE),
        Accepted::always(elf::R_PPC_RELATIVE),
        Accepted::always(elf::R_PPC_ADDR32),
        Accepted::always(elf::R_PPC_ADDR16_LO),
        Accepted::always(elf::R_PPC_ADDR16_HA),
        Accepted::since(elf::R_PPC_ADDR16, POWERPC_REL16_SINCE, LATER),
        Accepted::since(elf::R_PPC_ADDR16_HI, POWERPC_REL16_SINCE, LATER),
        Accepted::since(elf::R_PPC_REL32, POWERPC_REL16_SINCE, LATER),
        Accepted::since(elf::R_PPC_REL16, POWERPC_REL16_SINCE, LATER),
        Accepted::since(elf::R_PPC_REL16_LO, POWERPC_REL16_SINCE, LATER),
        Accepted::since(elf::R_PPC_REL16_HI, POWERPC_REL16_SINCE, LATER),
        Accepted::since(elf::R_PPC_REL16_HA, POWERPC_REL16_SINCE, LATER),
    ]),
    unjudged: &[],
    linker_type: None,
    notes: &[
        (elf::R_PPC_REL24, LONGCALL),
        (elf::R_PPC_PLTREL24, LONGCALL),
        (elf::R_PPC_LOCAL24PC, LONGCALL),
        (R_PPC_PLTSEQ, "an inline PLT sequence: modules are built with -mno-pltseq"),
        (R_PPC_PLTCALL, "an inline PLT sequence: modules are built with -mno-pltseq"),
        (elf::R_PPC_GOT16, PIC),
        (elf::R_PPC_GOT16_LO, PIC),
        (elf::R_PPC_GOT16_HI, PIC),
        (elf::R_PPC_GOT16_HA, PIC),
        (
            elf::R_PPC_SDAREL16,
            "small-data addressing: build the module with -msdata=none (-G 0)",
        ),
        (
            elf::R_PPC_EMB_SDA21,
            "small-data addressing: build the module with -msdata=none (-G 0)",
        ),
    ],
    branches: &[],
    pointers: &[
        Pointer::new(elf::R_PPC_ADDR32, Absolute, Some(4)),
        Pointer::new(elf::R_PPC_UADDR32, Absolute, Some(4)),
        Pointer::new(elf::R_PPC_RELATIVE, Relative, Some(4)),
    ],
};
