//! aarch64 and aarch64eb: ELF64, either byte order. The kernel's linker
//! is not modelled yet.

use object::elf;

use super::PointerReloc::{Absolute, Relative};
use super::{Kernel, Pointer, Port, ELF64, LSB, MSB};

pub(super) const PORT: Port = Port {
    name: "aarch64",
    e_machines: &[elf::EM_AARCH64],
    kernels: &[
        Kernel {
            reports: |m| m == "aarch64",
            e_machines: &[elf::EM_AARCH64],
            label: "EM_AARCH64 (183)",
            class: ELF64,
            data: LSB,
        },
        Kernel {
            reports: |m| m == "aarch64eb",
            e_machines: &[elf::EM_AARCH64],
            label: "EM_AARCH64 (183)",
            class: ELF64,
            data: MSB,
        },
    ],
    sections: None,
    names: names![
        R_AARCH64_NONE,
        R_AARCH64_ABS64,
        R_AARCH64_ABS32,
        R_AARCH64_PREL64,
        R_AARCH64_PREL32,
        R_AARCH64_ADR_PREL_PG_HI21,
        R_AARCH64_ADD_ABS_LO12_NC,
        R_AARCH64_LDST8_ABS_LO12_NC,
        R_AARCH64_JUMP26,
        R_AARCH64_CALL26,
        R_AARCH64_LDST16_ABS_LO12_NC,
        R_AARCH64_LDST32_ABS_LO12_NC,
        R_AARCH64_LDST64_ABS_LO12_NC,
        R_AARCH64_LDST128_ABS_LO12_NC,
        R_AARCH64_RELATIVE,
    ],
    widths: None,
    linker: None,
    pointers: &[
        Pointer::new(elf::R_AARCH64_ABS64, Absolute, Some(8)),
        Pointer::new(elf::R_AARCH64_RELATIVE, Relative, Some(8)),
    ],
};
