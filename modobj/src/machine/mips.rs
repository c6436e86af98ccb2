//! mips: kobj_machdep.c 1.2 (n64 kernels only: it does not compile for
//! o32 or n32), one `e_machine` for both classes and byte orders, under
//! the names of its many machines; RELA only. Relocation types of
//! little-endian ELF64 objects are not judged: how the kernel reads their
//! `r_info` (the n64 layout) is UNVERIFIED.

use object::elf;

use super::PointerReloc::{Absolute, Relative};
use super::{
    Accepted, Branch, Pointer, Port, PortKernel, RelFailure, RelocSections, Widths, ELF32, ELF64,
    LSB, MSB,
};

const ABICALLS: &str = "position-independent (abicalls) code; modules are built with -mno-abicalls";
const GP: &str = "GP-relative small data; modules are built with -G 0";

/// The class and byte order of a kernel named by `hw.machine_arch`.
fn arch(m: &str) -> Option<(Option<u8>, Option<u8>)> {
    match m {
        "mips64eb" | "mipsn64eb" => Some((ELF64, MSB)),
        "mips64el" | "mipsn64el" => Some((ELF64, LSB)),
        "mipseb" => Some((ELF32, MSB)),
        "mipsel" => Some((ELF32, LSB)),
        _ => None,
    }
}

/// A kernel of one class and byte order.
const fn arch_kernel(reports: fn(&str) -> bool, class: Option<u8>, data: Option<u8>) -> PortKernel {
    PortKernel {
        reports,
        e_machines: &[elf::EM_MIPS],
        class,
        data,
    }
}

pub(super) const PORT: Port = Port {
    name: "mips",
    e_machines: &[elf::EM_MIPS],
    kernels: &[
        // The machines (evbmips, pmax, sgimips, ...) cover both classes
        // and byte orders.
        PortKernel {
            reports: |m| {
                arch(m).is_none() && (m.starts_with("mips") || m.ends_with("mips") || m == "pmax")
            },
            e_machines: &[elf::EM_MIPS],
            class: None,
            data: None,
        },
        arch_kernel(|m| arch(m) == Some((ELF64, MSB)), ELF64, MSB),
        arch_kernel(|m| arch(m) == Some((ELF64, LSB)), ELF64, LSB),
        arch_kernel(|m| arch(m) == Some((ELF32, MSB)), ELF32, MSB),
        arch_kernel(|m| arch(m) == Some((ELF32, LSB)), ELF32, LSB),
    ],
    source:
        "kobj_machdep.c 1.2 (2023/04/28) and 1.1.2.2 (2021/04/03), elf_machdep.h 1.20 (2017/11/06)",
    sections: Some(RelocSections::RelaOnly(RelFailure::Refused)),
    names: names![
        R_MIPS_NONE,
        R_MIPS_16,
        R_MIPS_32,
        R_MIPS_REL32,
        R_MIPS_26,
        R_MIPS_HI16,
        R_MIPS_LO16,
        R_MIPS_GPREL16,
        R_MIPS_LITERAL,
        R_MIPS_GOT16,
        R_MIPS_PC16,
        R_MIPS_CALL16,
        R_MIPS_GPREL32,
        R_MIPS_SHIFT5,
        R_MIPS_SHIFT6,
        R_MIPS_64,
        R_MIPS_GOT_DISP,
        R_MIPS_GOT_PAGE,
        R_MIPS_GOT_OFST,
        R_MIPS_GOT_HI16,
        R_MIPS_GOT_LO16,
        R_MIPS_SUB,
        R_MIPS_HIGHER,
        R_MIPS_HIGHEST,
        R_MIPS_CALL_HI16,
        R_MIPS_CALL_LO16,
        R_MIPS_JALR,
    ],
    widths: Some(Widths {
        pointer_size: None,
        listed: &[(elf::R_MIPS_NONE, 0), (elf::R_MIPS_64, 8)],
        other: 4,
    }),
    linker: Some(&[
        Accepted::always(elf::R_MIPS_NONE),
        Accepted::always(elf::R_MIPS_32),
        Accepted::always(elf::R_MIPS_26),
        Accepted::always(elf::R_MIPS_HI16),
        Accepted::always(elf::R_MIPS_LO16),
        Accepted::always(elf::R_MIPS_64).lp64(),
        Accepted::always(elf::R_MIPS_HIGHER).lp64(),
        Accepted::always(elf::R_MIPS_HIGHEST).lp64(),
    ]),
    unjudged: &[(8, false)],
    linker_type: None,
    notes: &[
        (elf::R_MIPS_GOT16, ABICALLS),
        (elf::R_MIPS_CALL16, ABICALLS),
        (elf::R_MIPS_GOT_DISP, ABICALLS),
        (elf::R_MIPS_GOT_PAGE, ABICALLS),
        (elf::R_MIPS_GOT_OFST, ABICALLS),
        (elf::R_MIPS_GOT_HI16, ABICALLS),
        (elf::R_MIPS_GOT_LO16, ABICALLS),
        (elf::R_MIPS_CALL_HI16, ABICALLS),
        (elf::R_MIPS_CALL_LO16, ABICALLS),
        (elf::R_MIPS_JALR, ABICALLS),
        (elf::R_MIPS_GPREL16, GP),
        (elf::R_MIPS_GPREL32, GP),
        (elf::R_MIPS_LITERAL, GP),
        (
            elf::R_MIPS_PC16,
            "a PC-relative branch to another section: the linker applies only R_MIPS_26 jumps",
        ),
    ],
    branches: &[Branch {
        r_type: elf::R_MIPS_26,
        reach: "the 256 MiB region of the jump",
        checked: false,
    }],
    pointers: &[
        Pointer::new(elf::R_MIPS_32, Absolute, Some(4)),
        Pointer::new(elf::R_MIPS_64, Absolute, Some(8)),
        Pointer::new(elf::R_MIPS_REL32, Relative, None),
    ],
};
