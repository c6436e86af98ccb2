//! riscv: ELF64 little-endian kernels. Neither its relocation names nor
//! the kernel's linker are modelled yet.

use object::elf;

use super::PointerReloc::{Absolute, Relative};
use super::{Kernel, Pointer, Port, ELF64, LSB};

pub(super) const PORT: Port = Port {
    name: "riscv",
    e_machines: &[elf::EM_RISCV],
    kernels: &[Kernel {
        reports: |m| matches!(m, "riscv" | "riscv64"),
        e_machines: &[elf::EM_RISCV],
        label: "EM_RISCV (243)",
        class: ELF64,
        data: LSB,
    }],
    sections: None,
    names: &[],
    widths: None,
    linker: None,
    pointers: &[
        Pointer::new(elf::R_RISCV_32, Absolute, Some(4)),
        Pointer::new(elf::R_RISCV_64, Absolute, Some(8)),
        Pointer::new(elf::R_RISCV_RELATIVE, Relative, None),
    ],
};
