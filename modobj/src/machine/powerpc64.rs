//! powerpc64: ELF64 big-endian. Neither its relocation names nor the
//! kernel's linker are modelled yet.

use object::elf;

use super::PointerReloc::{Absolute, Relative};
use super::{Kernel, Pointer, Port, ELF64, MSB};

pub(super) const PORT: Port = Port {
    name: "powerpc64",
    e_machines: &[elf::EM_PPC64],
    kernels: &[Kernel {
        reports: |m| m == "powerpc64",
        e_machines: &[elf::EM_PPC64],
        label: "EM_PPC64 (21)",
        class: ELF64,
        data: MSB,
    }],
    sections: None,
    names: &[],
    widths: None,
    linker: None,
    pointers: &[
        Pointer::new(elf::R_PPC64_ADDR64, Absolute, Some(8)),
        Pointer::new(elf::R_PPC64_UADDR64, Absolute, Some(8)),
        Pointer::new(elf::R_PPC64_RELATIVE, Relative, Some(8)),
    ],
};
