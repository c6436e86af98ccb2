//! sparc64: ELF64 big-endian. The kernel's linker is not modelled yet.

use object::elf;

use super::PointerReloc::{Absolute, Relative};
use super::{Kernel, Pointer, Port, ELF64, MSB};

pub(super) const PORT: Port = Port {
    name: "sparc64",
    e_machines: &[elf::EM_SPARCV9],
    kernels: &[Kernel {
        reports: |m| m == "sparc64",
        e_machines: &[elf::EM_SPARCV9],
        label: "EM_SPARCV9 (43)",
        class: ELF64,
        data: MSB,
    }],
    sections: None,
    names: super::sparc::NAMES,
    widths: None,
    linker: None,
    pointers: &[
        Pointer::new(elf::R_SPARC_64, Absolute, Some(8)),
        Pointer::new(elf::R_SPARC_UA64, Absolute, Some(8)),
        Pointer::new(elf::R_SPARC_RELATIVE, Relative, None),
    ],
};
