//! arm (earm*, arm*: ELF32, either byte order, REL and RELA) and evbarm,
//! whose name covers 32-bit arm and aarch64 kernels alike:
//! kobj_machdep.c 1.3.22.2 (the 1.9.4.1 switch), arm elf_machdep.h
//! 1.10.2.2.

use object::elf;

use super::PointerReloc::{Absolute, Relative};
use super::{Accepted, Branch, Pointer, Port, PortKernel, RelocSections, Widths, ELF32, LSB, MSB};
use crate::rules::ARM_BRANCHES_SINCE;

/// `earmv7hf`, `armeb`, ...: arm names; big-endian ones say "eb".
fn arm(m: &str) -> bool {
    m.starts_with("earm") || m.starts_with("arm")
}

/// Why modules built for an older kernel lack the 2014 types.
const LATER: &str = "gcc emits it for calls, moves and unwind data";
const PIC: &str =
    "it comes from position-independent code (-fpic); modules are built with -fno-pic";
const THUMB: &str =
    "Thumb code: the kernel's linker applies no Thumb type; build the module with -marm";
const CALL: &str =
    "NetBSD's module build routes calls to undefined symbols through trampolines (kmodwrap.awk)";

pub(super) const PORT: Port = Port {
    name: "arm",
    e_machines: &[elf::EM_ARM],
    kernels: &[
        PortKernel {
            reports: |m| m == "evbarm",
            e_machines: &[elf::EM_ARM, elf::EM_AARCH64],
            class: None,
            data: None,
        },
        PortKernel {
            reports: |m| arm(m) && !m.contains("eb"),
            e_machines: &[elf::EM_ARM],
            class: ELF32,
            data: LSB,
        },
        PortKernel {
            reports: |m| arm(m) && m.contains("eb"),
            e_machines: &[elf::EM_ARM],
            class: ELF32,
            data: MSB,
        },
    ],
    source: "kobj_machdep.c 1.3.22.2 (2017/12/03) and 1.9.4.1 (2014/11/14), elf_machdep.h 1.10.2.2 (2014/08/20)",
    sections: Some(RelocSections::Both),
    names: names![
        R_ARM_NONE,
        R_ARM_PC24,
        R_ARM_ABS32,
        R_ARM_REL32,
        R_ARM_ABS16,
        R_ARM_ABS8,
        R_ARM_THM_PC22,
        R_ARM_COPY,
        R_ARM_GLOB_DAT,
        R_ARM_JUMP_SLOT,
        R_ARM_RELATIVE,
        R_ARM_GOTOFF,
        R_ARM_GOTPC,
        R_ARM_GOT32,
        R_ARM_PLT32,
        R_ARM_CALL,
        R_ARM_JUMP24,
        R_ARM_THM_JUMP24,
        R_ARM_TARGET1,
        R_ARM_V4BX,
        R_ARM_TARGET2,
        R_ARM_PREL31,
        R_ARM_MOVW_ABS_NC,
        R_ARM_MOVT_ABS,
        R_ARM_MOVW_PREL_NC,
        R_ARM_MOVT_PREL,
        R_ARM_THM_MOVW_ABS_NC,
        R_ARM_THM_MOVT_ABS,
        R_ARM_THM_MOVW_PREL_NC,
        R_ARM_THM_MOVT_PREL,
        R_ARM_THM_JUMP19,
        R_ARM_GOT_PREL,
        R_ARM_TLS_LE32,
    ],
    widths: Some(Widths {
        pointer_size: None,
        listed: &[(elf::R_ARM_NONE, 0), (elf::R_ARM_V4BX, 0)],
        other: 4,
    }),
    linker: Some(&[
        Accepted::always(elf::R_ARM_NONE),
        Accepted::always(elf::R_ARM_ABS32),
        Accepted::always(elf::R_ARM_JUMP_SLOT),
        Accepted::always(elf::R_ARM_RELATIVE),
        Accepted::since(elf::R_ARM_V4BX, ARM_BRANCHES_SINCE, LATER),
        Accepted::since(elf::R_ARM_REL32, ARM_BRANCHES_SINCE, LATER),
        Accepted::since(elf::R_ARM_MOVW_ABS_NC, ARM_BRANCHES_SINCE, LATER),
        Accepted::since(elf::R_ARM_MOVT_ABS, ARM_BRANCHES_SINCE, LATER),
        Accepted::since(elf::R_ARM_CALL, ARM_BRANCHES_SINCE, LATER),
        Accepted::since(elf::R_ARM_JUMP24, ARM_BRANCHES_SINCE, LATER),
        Accepted::since(elf::R_ARM_PC24, ARM_BRANCHES_SINCE, LATER),
    ]),
    unjudged: &[],
    linker_type: None,
    notes: &[
        (
            elf::R_ARM_PREL31,
            "as written (1.3.22.2, 1.9.4.1) the linker stores it and then falls through to its \
             error; it comes from unwind tables (modules are built with -fno-unwind-tables)",
        ),
        (elf::R_ARM_THM_PC22, THUMB),
        (elf::R_ARM_THM_JUMP24, THUMB),
        (elf::R_ARM_THM_JUMP19, THUMB),
        (elf::R_ARM_THM_MOVW_ABS_NC, THUMB),
        (elf::R_ARM_THM_MOVT_ABS, THUMB),
        (elf::R_ARM_THM_MOVW_PREL_NC, THUMB),
        (elf::R_ARM_THM_MOVT_PREL, THUMB),
        (elf::R_ARM_GOT32, PIC),
        (elf::R_ARM_GOT_PREL, PIC),
        (elf::R_ARM_GOTOFF, PIC),
        (elf::R_ARM_GOTPC, PIC),
        (elf::R_ARM_PLT32, PIC),
        (elf::R_ARM_COPY, "a dynamic-linking type; modules are linked with ld -r"),
        (elf::R_ARM_CALL, CALL),
        (elf::R_ARM_JUMP24, CALL),
        (elf::R_ARM_PC24, CALL),
    ],
    branches: &[
        Branch {
            r_type: elf::R_ARM_CALL,
            reach: "±32 MiB",
            checked: true,
        },
        Branch {
            r_type: elf::R_ARM_JUMP24,
            reach: "±32 MiB",
            checked: true,
        },
        Branch {
            r_type: elf::R_ARM_PC24,
            reach: "±32 MiB",
            checked: true,
        },
    ],
    pointers: &[
        Pointer::new(elf::R_ARM_ABS32, Absolute, Some(4)),
        Pointer::new(elf::R_ARM_TARGET1, Absolute, Some(4)),
        Pointer::new(elf::R_ARM_RELATIVE, Relative, Some(4)),
    ],
};
