//! arm (earm*, arm*: ELF32, either byte order) and evbarm, whose name
//! covers 32-bit arm and aarch64 kernels alike. The kernel's linker is not
//! modelled yet.

use object::elf;

use super::PointerReloc::{Absolute, Relative};
use super::{Kernel, Pointer, Port, ELF32, LSB, MSB};

/// `earmv7hf`, `armeb`, ...: arm names; big-endian ones say "eb".
fn arm(m: &str) -> bool {
    m.starts_with("earm") || m.starts_with("arm")
}

pub(super) const PORT: Port = Port {
    name: "arm",
    e_machines: &[elf::EM_ARM],
    kernels: &[
        Kernel {
            reports: |m| m == "evbarm",
            e_machines: &[elf::EM_ARM, elf::EM_AARCH64],
            label: "EM_ARM (40) or EM_AARCH64 (183)",
            class: None,
            data: None,
        },
        Kernel {
            reports: |m| arm(m) && !m.contains("eb"),
            e_machines: &[elf::EM_ARM],
            label: "EM_ARM (40)",
            class: ELF32,
            data: LSB,
        },
        Kernel {
            reports: |m| arm(m) && m.contains("eb"),
            e_machines: &[elf::EM_ARM],
            label: "EM_ARM (40)",
            class: ELF32,
            data: MSB,
        },
    ],
    sections: None,
    names: names![
        R_ARM_NONE,
        R_ARM_ABS32,
        R_ARM_REL32,
        R_ARM_RELATIVE,
        R_ARM_CALL,
        R_ARM_JUMP24,
        R_ARM_TARGET1,
        R_ARM_V4BX,
        R_ARM_PREL31,
        R_ARM_MOVW_ABS_NC,
        R_ARM_MOVT_ABS,
    ],
    widths: None,
    linker: None,
    pointers: &[
        Pointer::new(elf::R_ARM_ABS32, Absolute, Some(4)),
        Pointer::new(elf::R_ARM_TARGET1, Absolute, Some(4)),
        Pointer::new(elf::R_ARM_RELATIVE, Relative, Some(4)),
    ],
};
