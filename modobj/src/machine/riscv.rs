//! riscv (riscv64 and riscv32): kobj_machdep.c 1.6 (the 2023 rewrite,
//! 1.5, with spelling fixes) and 1.3 for older kernels, elf_machdep.h 1.9;
//! ELF little-endian, RELA only (a REL entry panics).

use object::elf;

use super::PointerReloc::{Absolute, Relative};
use super::{
    Accepted, Branch, Pointer, Port, PortKernel, RelFailure, RelocSections, Widths, ELF32, ELF64,
    LSB,
};
use crate::rules::RISCV_REWRITE_SINCE;

/// Why modules built for an older kernel contain the rewrite's types.
const LATER: &str = "gcc and gas emit it for stores, relaxation and data";

/// A type of the 2023 rewrite (`kobj_machdep.c` 1.5).
const fn later(r_type: u32) -> Accepted {
    Accepted::since(r_type, RISCV_REWRITE_SINCE, LATER)
}

const AS_WRITTEN: &str = "as written (1.5, 1.6) it is in the linker's store switch but not in \
                          its calculation switch, which refuses it";

pub(super) const PORT: Port = Port {
    name: "riscv",
    e_machines: &[elf::EM_RISCV],
    kernels: &[
        PortKernel {
            reports: |m| matches!(m, "riscv" | "riscv64"),
            e_machines: &[elf::EM_RISCV],
            class: ELF64,
            data: LSB,
        },
        PortKernel {
            reports: |m| m == "riscv32",
            e_machines: &[elf::EM_RISCV],
            class: ELF32,
            data: LSB,
        },
    ],
    source: "kobj_machdep.c 1.6 (2024/01/18), 1.5 (2023/05/07) and 1.3 (2020/03/14), elf_machdep.h 1.9 (2022/12/03)",
    sections: Some(RelocSections::RelaOnly(RelFailure::Panics)),
    names: names![
        R_RISCV_NONE,
        R_RISCV_32,
        R_RISCV_64,
        R_RISCV_RELATIVE,
        R_RISCV_COPY,
        R_RISCV_JUMP_SLOT,
        R_RISCV_BRANCH,
        R_RISCV_JAL,
        R_RISCV_CALL,
        R_RISCV_CALL_PLT,
        R_RISCV_GOT_HI20,
        R_RISCV_TLS_GOT_HI20,
        R_RISCV_TLS_GD_HI20,
        R_RISCV_PCREL_HI20,
        R_RISCV_PCREL_LO12_I,
        R_RISCV_PCREL_LO12_S,
        R_RISCV_HI20,
        R_RISCV_LO12_I,
        R_RISCV_LO12_S,
        R_RISCV_TPREL_HI20,
        R_RISCV_TPREL_LO12_I,
        R_RISCV_TPREL_LO12_S,
        R_RISCV_TPREL_ADD,
        R_RISCV_ADD8,
        R_RISCV_ADD16,
        R_RISCV_ADD32,
        R_RISCV_ADD64,
        R_RISCV_SUB8,
        R_RISCV_SUB16,
        R_RISCV_SUB32,
        R_RISCV_SUB64,
        R_RISCV_ALIGN,
        R_RISCV_RVC_BRANCH,
        R_RISCV_RVC_JUMP,
        R_RISCV_RVC_LUI,
        R_RISCV_GPREL_I,
        R_RISCV_GPREL_S,
        R_RISCV_RELAX,
        R_RISCV_SUB6,
        R_RISCV_SET6,
        R_RISCV_SET8,
        R_RISCV_SET16,
        R_RISCV_SET32,
        R_RISCV_32_PCREL,
        R_RISCV_PLT32,
        R_RISCV_SET_ULEB128,
        R_RISCV_SUB_ULEB128,
    ],
    widths: Some(Widths {
        pointer_size: None,
        listed: &[
            (elf::R_RISCV_NONE, 0),
            (elf::R_RISCV_RELAX, 0),
            (elf::R_RISCV_ALIGN, 0),
            (elf::R_RISCV_64, 8),
            (elf::R_RISCV_ADD64, 8),
            (elf::R_RISCV_SUB64, 8),
            (elf::R_RISCV_RELATIVE, 8),
            (elf::R_RISCV_CALL, 8),
            (elf::R_RISCV_CALL_PLT, 8),
            (elf::R_RISCV_ADD16, 2),
            (elf::R_RISCV_SUB16, 2),
            (elf::R_RISCV_SET16, 2),
            (elf::R_RISCV_RVC_BRANCH, 2),
            (elf::R_RISCV_RVC_JUMP, 2),
            (elf::R_RISCV_RVC_LUI, 2),
            (elf::R_RISCV_ADD8, 1),
            (elf::R_RISCV_SUB8, 1),
            (elf::R_RISCV_SET8, 1),
            (elf::R_RISCV_SUB6, 1),
            (elf::R_RISCV_SET6, 1),
            (elf::R_RISCV_SET_ULEB128, 1),
            (elf::R_RISCV_SUB_ULEB128, 1),
        ],
        other: 4,
    }),
    linker: Some(&[
        // kobj_machdep.c 1.3's set.
        Accepted::always(elf::R_RISCV_NONE),
        Accepted::always(elf::R_RISCV_64).lp64(),
        Accepted::always(elf::R_RISCV_BRANCH),
        Accepted::always(elf::R_RISCV_JAL),
        Accepted::always(elf::R_RISCV_CALL),
        Accepted::always(elf::R_RISCV_CALL_PLT),
        Accepted::always(elf::R_RISCV_PCREL_HI20),
        Accepted::always(elf::R_RISCV_PCREL_LO12_I),
        Accepted::always(elf::R_RISCV_LO12_I),
        Accepted::always(elf::R_RISCV_LO12_S),
        // The rewrite's additions.
        later(elf::R_RISCV_RELAX),
        later(elf::R_RISCV_PCREL_LO12_S),
        later(elf::R_RISCV_HI20),
        later(elf::R_RISCV_ADD8),
        later(elf::R_RISCV_ADD16),
        later(elf::R_RISCV_ADD32),
        later(elf::R_RISCV_ADD64).lp64(),
        later(elf::R_RISCV_SUB8),
        later(elf::R_RISCV_SUB16),
        later(elf::R_RISCV_SUB32),
        later(elf::R_RISCV_SUB64).lp64(),
        later(elf::R_RISCV_SUB6),
        later(elf::R_RISCV_SET6),
        later(elf::R_RISCV_SET8),
        later(elf::R_RISCV_SET16),
        later(elf::R_RISCV_SET32),
        later(elf::R_RISCV_RVC_BRANCH),
        later(elf::R_RISCV_RVC_JUMP),
        later(elf::R_RISCV_32_PCREL),
    ]),
    unjudged: &[],
    linker_type: None,
    notes: &[
        (elf::R_RISCV_32, AS_WRITTEN),
        (elf::R_RISCV_RVC_LUI, AS_WRITTEN),
        (
            elf::R_RISCV_ALIGN,
            "alignment under linker relaxation: build the module with -mno-relax",
        ),
        (
            elf::R_RISCV_GOT_HI20,
            "it comes from position-independent code reaching a global through the GOT",
        ),
        (elf::R_RISCV_GPREL_I, "gp-relative addressing"),
        (elf::R_RISCV_GPREL_S, "gp-relative addressing"),
        (
            elf::R_RISCV_SET_ULEB128,
            "LEB128 fields of newer toolchains' exception or debug tables",
        ),
        (
            elf::R_RISCV_SUB_ULEB128,
            "LEB128 fields of newer toolchains' exception or debug tables",
        ),
    ],
    branches: &[
        Branch {
            r_type: elf::R_RISCV_CALL,
            reach: "±2 GiB",
            checked: false,
        },
        Branch {
            r_type: elf::R_RISCV_CALL_PLT,
            reach: "±2 GiB",
            checked: false,
        },
        Branch {
            r_type: elf::R_RISCV_JAL,
            reach: "±1 MiB",
            checked: false,
        },
        Branch {
            r_type: elf::R_RISCV_BRANCH,
            reach: "±4 KiB",
            checked: false,
        },
        Branch {
            r_type: elf::R_RISCV_RVC_JUMP,
            reach: "±2 KiB",
            checked: false,
        },
        Branch {
            r_type: elf::R_RISCV_RVC_BRANCH,
            reach: "±256 bytes",
            checked: false,
        },
    ],
    pointers: &[
        Pointer::new(elf::R_RISCV_32, Absolute, Some(4)),
        Pointer::new(elf::R_RISCV_64, Absolute, Some(8)),
        Pointer::new(elf::R_RISCV_RELATIVE, Relative, None),
    ],
};
