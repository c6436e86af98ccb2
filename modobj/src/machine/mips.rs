//! mips: one `e_machine` for both classes and byte orders, under the
//! names of its many machines. The kernel's linker is not modelled yet.

use object::elf;

use super::PointerReloc::{Absolute, Relative};
use super::{Kernel, Pointer, Port};

pub(super) const PORT: Port = Port {
    name: "mips",
    e_machines: &[elf::EM_MIPS],
    kernels: &[Kernel {
        reports: |m| m.starts_with("mips") || m.ends_with("mips") || m == "pmax",
        e_machines: &[elf::EM_MIPS],
        label: "EM_MIPS (8)",
        class: None,
        data: None,
    }],
    sections: None,
    names: names![
        R_MIPS_NONE,
        R_MIPS_32,
        R_MIPS_REL32,
        R_MIPS_26,
        R_MIPS_HI16,
        R_MIPS_LO16,
        R_MIPS_64
    ],
    widths: None,
    linker: None,
    pointers: &[
        Pointer::new(elf::R_MIPS_32, Absolute, Some(4)),
        Pointer::new(elf::R_MIPS_64, Absolute, Some(8)),
        Pointer::new(elf::R_MIPS_REL32, Relative, None),
    ],
};
