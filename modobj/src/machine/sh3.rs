//! sh3 (sh3eb, sh3el): kobj_machdep.c 1.6, ELF32 of the kernel's byte
//! order (each board has one; evbsh3 comes in both), RELA only; the
//! linker applies R_SH_DIR32 and (wrongly, as written) R_SH_REL32, each
//! adding the place's old contents.

use object::elf;

use super::PointerReloc::AbsolutePlusPlace;
use super::{
    Accepted, Pointer, Port, PortKernel, RelFailure, RelocSections, Widths, ELF32, LSB, MSB,
};

const PIC: &str =
    "it comes from position-independent code (-fpic); modules are built with -fno-pic";
const DYN: &str = "a dynamic-linking type; modules are linked with ld -r";
const PCREL: &str = "a PC-relative branch or load to another section: the linker applies only \
                     DIR32 and REL32";

pub(super) const PORT: Port = Port {
    name: "sh3",
    e_machines: &[elf::EM_SH],
    kernels: &[
        // Only evbsh3 is built in both byte orders (std.evbsh3.eb r1.6
        // includes std.sh3eb, std.evbsh3.el r1.5 sets MACHINE_ARCH=sh3el).
        PortKernel {
            reports: |m| m == "evbsh3",
            e_machines: &[elf::EM_SH],
            class: ELF32,
            data: None,
        },
        // Little-endian boards: landisk (conf/Makefile.landisk.inc
        // r1.1.12.3, MACHINE_ARCH=sh3el), dreamcast (conf/std.dreamcast
        // r1.2.6.1, ENDIAN="-EL"; Makefile.dreamcast.inc r1.9.98.1,
        // MACHINE_ARCH=sh3el), hpcsh (conf/std.hpcsh r1.4, ENDIAN="-EL",
        // MACHINE_ARCH=sh3el), all in sys/arch/<board>/.
        PortKernel {
            reports: |m| matches!(m, "sh3el" | "landisk" | "dreamcast" | "hpcsh"),
            e_machines: &[elf::EM_SH],
            class: ELF32,
            data: LSB,
        },
        // Big-endian: mmeye (sys/arch/mmeye/conf/std.mmeye r1.9,
        // ENDIAN="-EB").
        PortKernel {
            reports: |m| matches!(m, "sh3eb" | "mmeye"),
            e_machines: &[elf::EM_SH],
            class: ELF32,
            data: MSB,
        },
    ],
    source: "kobj_machdep.c 1.6 (2019/04/09), elf_machdep.h 1.8.60.1 (2006/12/10)",
    sections: Some(RelocSections::RelaOnly(RelFailure::Refused)),
    names: names![
        R_SH_NONE,
        R_SH_DIR32,
        R_SH_REL32,
        R_SH_DIR8WPN,
        R_SH_IND12W,
        R_SH_DIR8WPL,
        R_SH_DIR8WPZ,
        R_SH_DIR8BP,
        R_SH_DIR8W,
        R_SH_DIR8L,
        R_SH_SWITCH16,
        R_SH_SWITCH32,
        R_SH_USES,
        R_SH_COUNT,
        R_SH_ALIGN,
        R_SH_CODE,
        R_SH_DATA,
        R_SH_LABEL,
        R_SH_SWITCH8,
        R_SH_GOT32,
        R_SH_PLT32,
        R_SH_COPY,
        R_SH_GLOB_DAT,
        R_SH_JMP_SLOT,
        R_SH_RELATIVE,
        R_SH_GOTOFF,
        R_SH_GOTPC,
    ],
    widths: Some(Widths {
        pointer_size: None,
        listed: &[
            (elf::R_SH_NONE, 0),
            (elf::R_SH_DIR32, 4),
            (elf::R_SH_REL32, 4),
            (elf::R_SH_SWITCH32, 4),
            (elf::R_SH_SWITCH8, 1),
            (elf::R_SH_GOT32, 4),
            (elf::R_SH_PLT32, 4),
            (elf::R_SH_GLOB_DAT, 4),
            (elf::R_SH_JMP_SLOT, 4),
            (elf::R_SH_RELATIVE, 4),
            (elf::R_SH_GOTOFF, 4),
            (elf::R_SH_GOTPC, 4),
            (elf::R_SH_USES, 0),
            (elf::R_SH_COUNT, 0),
            (elf::R_SH_ALIGN, 0),
            (elf::R_SH_CODE, 0),
            (elf::R_SH_DATA, 0),
            (elf::R_SH_LABEL, 0),
        ],
        other: 2,
    }),
    linker: Some(&[
        Accepted::always(elf::R_SH_NONE),
        Accepted::always(elf::R_SH_DIR32),
        Accepted::always(elf::R_SH_REL32).misapplied(
            "as written (1.6) it computes S + *where + A - r_offset, subtracting the place's \
             offset where its address belongs",
        ),
    ]),
    unjudged: &[],
    linker_type: None,
    notes: &[
        (elf::R_SH_IND12W, PCREL),
        (elf::R_SH_DIR8WPN, PCREL),
        (elf::R_SH_DIR8WPL, PCREL),
        (elf::R_SH_DIR8WPZ, PCREL),
        (elf::R_SH_DIR8BP, PCREL),
        (elf::R_SH_DIR8W, PCREL),
        (elf::R_SH_DIR8L, PCREL),
        (
            elf::R_SH_SWITCH16,
            "linker relaxation (-mrelax) switch tables",
        ),
        (
            elf::R_SH_SWITCH32,
            "linker relaxation (-mrelax) switch tables",
        ),
        (
            elf::R_SH_SWITCH8,
            "linker relaxation (-mrelax) switch tables",
        ),
        (elf::R_SH_USES, "linker relaxation (-mrelax)"),
        (elf::R_SH_GOT32, PIC),
        (elf::R_SH_PLT32, PIC),
        (elf::R_SH_GOTOFF, PIC),
        (elf::R_SH_GOTPC, PIC),
        (elf::R_SH_COPY, DYN),
        (elf::R_SH_GLOB_DAT, DYN),
        (elf::R_SH_JMP_SLOT, DYN),
        (elf::R_SH_RELATIVE, DYN),
    ],
    branches: &[],
    pointers: &[Pointer::new(elf::R_SH_DIR32, AbsolutePlusPlace, Some(4))],
};
