//! sparc64: kobj_machdep.c 1.4.18.1 (table-driven, no overflow checks),
//! ELF64 big-endian, RELA only.

use object::elf;

use super::sparc::{NO_S, PIC};
use super::PointerReloc::{Absolute, Relative};
use super::{
    Accepted, Branch, Pointer, Port, PortKernel, RelFailure, RelocSections, Widths, ELF64, MSB,
};

const NO_XOR: &str = "as written the linker applies it without the XOR and 0x1c00 that the \
                      type calls for";

pub(super) const PORT: Port = Port {
    name: "sparc64",
    e_machines: &[elf::EM_SPARCV9],
    kernels: &[PortKernel {
        reports: |m| m == "sparc64",
        e_machines: &[elf::EM_SPARCV9],
        class: ELF64,
        data: MSB,
    }],
    source: "kobj_machdep.c 1.4.18.1 (2014/08/20), elf_machdep.h 1.5.4.1 (2000/07/18) and 1.14 (2017/11/06)",
    sections: Some(RelocSections::RelaOnly(RelFailure::Refused)),
    names: super::sparc::NAMES,
    // The 8- and 16-bit types are ORed into a 32-bit word, as written.
    widths: Some(Widths {
        pointer_size: None,
        listed: &[
            (elf::R_SPARC_NONE, 0),
            (elf::R_SPARC_64, 8),
            (elf::R_SPARC_DISP64, 8),
            (elf::R_SPARC_GLOB_DAT, 8),
            (elf::R_SPARC_REGISTER, 8),
            (elf::R_SPARC_PLT64, 8),
            (elf::R_SPARC_RELATIVE, 8),
            (elf::R_SPARC_UA64, 8),
        ],
        other: 4,
    }),
    linker: Some(&[
        Accepted::always(elf::R_SPARC_NONE),
        // Absolute.
        Accepted::always(elf::R_SPARC_8).misapplied("as written it is ORed into a 32-bit word"),
        Accepted::always(elf::R_SPARC_16).misapplied("as written it is ORed into a 32-bit word"),
        Accepted::always(elf::R_SPARC_32),
        Accepted::always(elf::R_SPARC_LO10),
        Accepted::always(elf::R_SPARC_13),
        Accepted::always(elf::R_SPARC_22),
        Accepted::always(elf::R_SPARC_10),
        Accepted::always(elf::R_SPARC_11),
        Accepted::always(elf::R_SPARC_64),
        Accepted::always(elf::R_SPARC_GLOB_DAT),
        Accepted::always(elf::R_SPARC_GLOB_JMP),
        Accepted::always(elf::R_SPARC_7),
        Accepted::always(elf::R_SPARC_5),
        Accepted::always(elf::R_SPARC_6),
        Accepted::always(elf::R_SPARC_L44),
        Accepted::always(elf::R_SPARC_REGISTER),
        Accepted::always(elf::R_SPARC_LOX10).misapplied(NO_XOR),
        // Absolute, shifted.
        Accepted::always(elf::R_SPARC_HI22),
        Accepted::always(elf::R_SPARC_LM22),
        Accepted::always(elf::R_SPARC_HIX22).misapplied(NO_XOR),
        Accepted::always(elf::R_SPARC_HH22),
        Accepted::always(elf::R_SPARC_HM10),
        Accepted::always(elf::R_SPARC_H44),
        Accepted::always(elf::R_SPARC_M44),
        // PC-relative.
        Accepted::always(elf::R_SPARC_DISP8).misapplied("as written it is ORed into a 32-bit word"),
        Accepted::always(elf::R_SPARC_DISP16).misapplied("as written it is ORed into a 32-bit word"),
        Accepted::always(elf::R_SPARC_DISP32),
        Accepted::always(elf::R_SPARC_PC10),
        Accepted::always(elf::R_SPARC_DISP64),
        Accepted::always(elf::R_SPARC_PC22),
        Accepted::always(elf::R_SPARC_PC_LM22),
        Accepted::always(elf::R_SPARC_PC_HH22),
        Accepted::always(elf::R_SPARC_PC_HM10),
        Accepted::always(elf::R_SPARC_WDISP30),
        Accepted::always(elf::R_SPARC_WDISP22),
        Accepted::always(elf::R_SPARC_WDISP19),
        Accepted::always(elf::R_SPARC_WDISP16).misapplied(
            "as written it is inserted as one contiguous 16-bit field, not the split d16hi/d16lo",
        ),
        Accepted::always(elf::R_SPARC_OLO10),
        Accepted::always(elf::R_SPARC_RELATIVE),
        // Accepted without S.
        Accepted::always(elf::R_SPARC_GOT10).misapplied(NO_S),
        Accepted::always(elf::R_SPARC_GOT13).misapplied(NO_S),
        Accepted::always(elf::R_SPARC_GOT22).misapplied(NO_S),
        Accepted::always(elf::R_SPARC_WPLT30).misapplied(NO_S),
        Accepted::always(elf::R_SPARC_PLT32).misapplied(NO_S),
        Accepted::always(elf::R_SPARC_HIPLT22).misapplied(NO_S),
        Accepted::always(elf::R_SPARC_LOPLT10).misapplied(NO_S),
        Accepted::always(elf::R_SPARC_PCPLT32).misapplied(NO_S),
        Accepted::always(elf::R_SPARC_PCPLT22).misapplied(NO_S),
        Accepted::always(elf::R_SPARC_PCPLT10).misapplied(NO_S),
        Accepted::always(elf::R_SPARC_PLT64).misapplied(NO_S),
    ]),
    unjudged: &[],
    // OLO10 keeps data in the type bits above the low byte; the linker
    // takes the low byte as the type for OLO10 alone (kobj_machdep.c
    // 1.4.18.1, `(rtype & 0xff) == R_TYPE(OLO10)`).
    linker_type: Some(|t| {
        if t & 0xff == elf::R_SPARC_OLO10 {
            elf::R_SPARC_OLO10
        } else {
            t
        }
    }),
    notes: &[
        (elf::R_SPARC_COPY, "a dynamic-linking type; modules are linked with ld -r"),
        (elf::R_SPARC_JMP_SLOT, "a dynamic-linking type; modules are linked with ld -r"),
        (
            elf::R_SPARC_UA32,
            "unaligned data: the linker applies no UA type",
        ),
        (
            elf::R_SPARC_UA64,
            "unaligned data: the linker applies no UA type",
        ),
        (
            elf::R_SPARC_UA16,
            "unaligned data: the linker applies no UA type",
        ),
        (elf::R_SPARC_TLS_GD_HI22, "thread-local storage"),
        (elf::R_SPARC_GOT10, PIC),
        (elf::R_SPARC_GOT13, PIC),
        (elf::R_SPARC_GOT22, PIC),
    ],
    branches: &[
        Branch {
            r_type: elf::R_SPARC_WDISP30,
            reach: "±2 GiB",
            checked: false,
        },
        Branch {
            r_type: elf::R_SPARC_WDISP22,
            reach: "±8 MiB",
            checked: false,
        },
        Branch {
            r_type: elf::R_SPARC_WDISP19,
            reach: "±1 MiB",
            checked: false,
        },
    ],
    pointers: &[
        Pointer::new(elf::R_SPARC_64, Absolute, Some(8)),
        Pointer::new(elf::R_SPARC_UA64, Absolute, Some(8)),
        Pointer::new(elf::R_SPARC_RELATIVE, Relative, None),
    ],
};
