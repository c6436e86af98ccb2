//! hppa: kobj_machdep.c 1.7.6.2, ELF32 big-endian, RELA only. Modules are
//! built with `-mlong-calls`; a 17-bit PC-relative call is applied
//! without a range check.

use object::elf;

use super::PointerReloc::Absolute;
use super::{
    Accepted, Branch, Pointer, Port, PortKernel, RelFailure, RelocSections, Widths, ELF32, MSB,
};

const PIC: &str =
    "it comes from position-independent code (-fpic); modules are built with -fno-pic";
const BRANCH: &str = "a PC-relative branch form the linker does not apply; modules are built with \
                      -mlong-calls";

pub(super) const PORT: Port = Port {
    name: "hppa",
    e_machines: &[elf::EM_PARISC],
    kernels: &[PortKernel {
        reports: |m| m == "hppa",
        e_machines: &[elf::EM_PARISC],
        class: ELF32,
        data: MSB,
    }],
    source: "kobj_machdep.c 1.7.6.2 (2017/12/03), elf_machdep.h 1.3.22.1 (2017/12/03)",
    sections: Some(RelocSections::RelaOnly(RelFailure::Refused)),
    names: names![
        R_PARISC_NONE,
        R_PARISC_DIR32,
        R_PARISC_DIR21L,
        R_PARISC_DIR17R,
        R_PARISC_DIR17F,
        R_PARISC_DIR14R,
        R_PARISC_PCREL32,
        R_PARISC_PCREL21L,
        R_PARISC_PCREL17R,
        R_PARISC_PCREL17F,
        R_PARISC_PCREL14R,
        R_PARISC_DPREL21L,
        R_PARISC_DPREL14R,
        R_PARISC_GPREL21L,
        R_PARISC_GPREL14R,
        R_PARISC_LTOFF21L,
        R_PARISC_LTOFF14R,
        R_PARISC_SEGREL32,
        R_PARISC_PLTOFF21L,
        R_PARISC_PLTOFF14R,
        R_PARISC_PLABEL32,
        R_PARISC_PLABEL21L,
        R_PARISC_PLABEL14R,
        R_PARISC_PCREL22F,
        R_PARISC_DIR64,
        R_PARISC_COPY,
        R_PARISC_IPLT,
    ],
    widths: Some(Widths {
        pointer_size: None,
        listed: &[(elf::R_PARISC_NONE, 0), (elf::R_PARISC_DIR64, 8)],
        other: 4,
    }),
    linker: Some(&[
        Accepted::always(elf::R_PARISC_NONE),
        Accepted::always(elf::R_PARISC_DIR32),
        Accepted::always(elf::R_PARISC_DIR21L),
        Accepted::always(elf::R_PARISC_DIR17R),
        Accepted::always(elf::R_PARISC_DIR14R),
        Accepted::always(elf::R_PARISC_PCREL32),
        Accepted::always(elf::R_PARISC_PCREL17F),
        Accepted::always(elf::R_PARISC_DPREL21L),
        Accepted::always(elf::R_PARISC_DPREL14R),
        Accepted::always(elf::R_PARISC_SEGREL32),
        Accepted::always(elf::R_PARISC_PLABEL32),
    ]),
    unjudged: &[],
    linker_type: None,
    notes: &[
        (elf::R_PARISC_DIR17F, BRANCH),
        (elf::R_PARISC_PCREL21L, BRANCH),
        (elf::R_PARISC_PCREL17R, BRANCH),
        (elf::R_PARISC_PCREL14R, BRANCH),
        (elf::R_PARISC_PCREL22F, BRANCH),
        (elf::R_PARISC_GPREL21L, PIC),
        (elf::R_PARISC_GPREL14R, PIC),
        (elf::R_PARISC_LTOFF21L, PIC),
        (elf::R_PARISC_LTOFF14R, PIC),
        (elf::R_PARISC_PLTOFF21L, PIC),
        (elf::R_PARISC_PLTOFF14R, PIC),
        (elf::R_PARISC_PLABEL21L, PIC),
        (elf::R_PARISC_PLABEL14R, PIC),
        (
            elf::R_PARISC_COPY,
            "a dynamic-linking type; modules are linked with ld -r",
        ),
        (
            elf::R_PARISC_IPLT,
            "a dynamic-linking type; modules are linked with ld -r",
        ),
        (
            elf::R_PARISC_PCREL17F,
            "NetBSD builds modules with -mlong-calls, which calls the kernel through DIR21L and \
             DIR17R instead",
        ),
    ],
    branches: &[Branch {
        r_type: elf::R_PARISC_PCREL17F,
        reach: "±256 KiB",
        checked: false,
    }],
    pointers: &[
        Pointer::new(elf::R_PARISC_DIR32, Absolute, Some(4)),
        Pointer::new(elf::R_PARISC_PLABEL32, Absolute, Some(4)),
    ],
};
