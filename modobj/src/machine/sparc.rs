//! sparc (32-bit): ELF32 big-endian. The kernel's linker is not modelled
//! yet.

use object::elf;

use super::PointerReloc::{Absolute, Relative};
use super::{Kernel, Pointer, Port, ELF32, MSB};

/// The SPARC relocation names, shared with sparc64.
pub(super) const NAMES: &[(u32, &str)] = names![
    R_SPARC_NONE,
    R_SPARC_32,
    R_SPARC_WDISP30,
    R_SPARC_HI22,
    R_SPARC_LO10,
    R_SPARC_RELATIVE,
    R_SPARC_UA32,
    R_SPARC_64,
    R_SPARC_H44,
    R_SPARC_M44,
    R_SPARC_L44,
    R_SPARC_UA64,
];

pub(super) const PORT: Port = Port {
    name: "sparc",
    e_machines: &[elf::EM_SPARC, elf::EM_SPARC32PLUS],
    kernels: &[Kernel {
        reports: |m| m == "sparc",
        e_machines: &[elf::EM_SPARC, elf::EM_SPARC32PLUS],
        label: "EM_SPARC (2)",
        class: ELF32,
        data: MSB,
    }],
    sections: None,
    names: NAMES,
    widths: None,
    linker: None,
    pointers: &[
        Pointer::new(elf::R_SPARC_32, Absolute, Some(4)),
        Pointer::new(elf::R_SPARC_UA32, Absolute, Some(4)),
        Pointer::new(elf::R_SPARC_RELATIVE, Relative, None),
    ],
};
