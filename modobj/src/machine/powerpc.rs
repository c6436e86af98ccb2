//! powerpc (32-bit): ELF32 big-endian, under the names of its many
//! machines. The kernel's linker is not modelled yet.

use object::elf;

use super::PointerReloc::{Absolute, Relative};
use super::{Kernel, Pointer, Port, ELF32, MSB};

// Not in `object`'s list; the numbers are the psABI's.
const R_PPC_PLTSEQ: u32 = 119;
const R_PPC_PLTCALL: u32 = 120;

pub(super) const PORT: Port = Port {
    name: "powerpc",
    e_machines: &[elf::EM_PPC],
    kernels: &[Kernel {
        reports: |m| {
            matches!(
                m,
                "powerpc"
                    | "macppc"
                    | "evbppc"
                    | "ofppc"
                    | "prep"
                    | "bebox"
                    | "amigappc"
                    | "ibmnws"
                    | "mvmeppc"
                    | "rs6000"
                    | "sandpoint"
            )
        },
        e_machines: &[elf::EM_PPC],
        label: "EM_PPC (20)",
        class: ELF32,
        data: MSB,
    }],
    sections: None,
    names: names![
        R_PPC_NONE,
        R_PPC_ADDR32,
        R_PPC_ADDR16_LO,
        R_PPC_ADDR16_HI,
        R_PPC_ADDR16_HA,
        R_PPC_REL24,
        R_PPC_PLTREL24,
        R_PPC_RELATIVE,
        R_PPC_UADDR32,
        R_PPC_REL32,
        R_PPC_PLT16_LO,
        R_PPC_PLT16_HI,
        R_PPC_PLT16_HA;
        R_PPC_PLTSEQ,
        R_PPC_PLTCALL,
    ],
    widths: None,
    linker: None,
    pointers: &[
        Pointer::new(elf::R_PPC_ADDR32, Absolute, Some(4)),
        Pointer::new(elf::R_PPC_UADDR32, Absolute, Some(4)),
        Pointer::new(elf::R_PPC_RELATIVE, Relative, Some(4)),
    ],
};
