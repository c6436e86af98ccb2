//! alpha: kobj_machdep.c 1.2.44.1, ELF64 little-endian, REL and RELA.
//! The linker applies no GP-relative type, which gcc's code uses for
//! every global access and call: whether alpha modules load in practice
//! is UNVERIFIED.

use object::elf;

use super::PointerReloc::{Absolute, Relative, Symbol};
use super::{Accepted, Pointer, Port, PortKernel, RelocSections, Widths, ELF64, LSB};

/// NetBSD's `EM_ALPHA` (41), which `object` calls `EM_FAKE_ALPHA`.
pub const EM_ALPHA: u16 = elf::EM_FAKE_ALPHA;
/// NetBSD's `EM_ALPHA_EXP` (0x9026), the number the GNU toolchain writes,
/// which `object` calls `EM_ALPHA`.
pub const EM_ALPHA_EXP: u16 = elf::EM_ALPHA;

const GP: &str = "gcc's alpha code reaches globals and calls through the GP (LITERAL, GPDISP, \
                  GPREL*, LITUSE), and the kernel's linker applies none of these types";

pub(super) const PORT: Port = Port {
    name: "alpha",
    e_machines: &[EM_ALPHA, EM_ALPHA_EXP],
    kernels: &[PortKernel {
        reports: |m| m == "alpha",
        e_machines: &[EM_ALPHA, EM_ALPHA_EXP],
        class: ELF64,
        data: LSB,
    }],
    source: "kobj_machdep.c 1.2.44.1 (2017/12/03), elf_machdep.h 1.10 (2001/12/09)",
    sections: Some(RelocSections::Both),
    names: names![
        R_ALPHA_NONE,
        R_ALPHA_REFLONG,
        R_ALPHA_REFQUAD,
        R_ALPHA_GPREL32,
        R_ALPHA_LITERAL,
        R_ALPHA_LITUSE,
        R_ALPHA_GPDISP,
        R_ALPHA_BRADDR,
        R_ALPHA_HINT,
        R_ALPHA_SREL16,
        R_ALPHA_SREL32,
        R_ALPHA_SREL64,
        R_ALPHA_GPRELHIGH,
        R_ALPHA_GPRELLOW,
        R_ALPHA_GPREL16,
        R_ALPHA_COPY,
        R_ALPHA_GLOB_DAT,
        R_ALPHA_JMP_SLOT,
        R_ALPHA_RELATIVE,
    ],
    widths: Some(Widths {
        pointer_size: None,
        listed: &[
            (elf::R_ALPHA_NONE, 0),
            (elf::R_ALPHA_REFQUAD, 8),
            (elf::R_ALPHA_SREL64, 8),
            (elf::R_ALPHA_GLOB_DAT, 8),
            (elf::R_ALPHA_JMP_SLOT, 8),
            (elf::R_ALPHA_RELATIVE, 8),
            (elf::R_ALPHA_SREL16, 2),
            (elf::R_ALPHA_GPREL16, 2),
            (elf::R_ALPHA_LITUSE, 0),
            (elf::R_ALPHA_HINT, 4),
        ],
        other: 4,
    }),
    linker: Some(&[
        Accepted::always(elf::R_ALPHA_NONE),
        Accepted::always(elf::R_ALPHA_REFQUAD),
        Accepted::always(elf::R_ALPHA_GLOB_DAT),
        Accepted::always(elf::R_ALPHA_JMP_SLOT),
        Accepted::always(elf::R_ALPHA_RELATIVE),
    ]),
    unjudged: &[],
    linker_type: None,
    notes: &[
        (elf::R_ALPHA_LITERAL, GP),
        (elf::R_ALPHA_LITUSE, GP),
        (elf::R_ALPHA_GPDISP, GP),
        (elf::R_ALPHA_GPREL32, GP),
        (elf::R_ALPHA_GPREL16, GP),
        (elf::R_ALPHA_GPRELHIGH, GP),
        (elf::R_ALPHA_GPRELLOW, GP),
        (
            elf::R_ALPHA_BRADDR,
            "a direct branch to another section: the linker handles no branch type",
        ),
        (
            elf::R_ALPHA_HINT,
            "a jump hint: the linker handles no branch type",
        ),
        (
            elf::R_ALPHA_COPY,
            "a dynamic-linking type (\"unexpected R_COPY relocation\")",
        ),
    ],
    branches: &[],
    pointers: &[
        Pointer::new(elf::R_ALPHA_REFQUAD, Absolute, Some(8)),
        Pointer::new(elf::R_ALPHA_GLOB_DAT, Absolute, Some(8)),
        Pointer::new(elf::R_ALPHA_JMP_SLOT, Symbol, Some(8)),
        Pointer::new(elf::R_ALPHA_RELATIVE, Relative, Some(8)),
    ],
};
