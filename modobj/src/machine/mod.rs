//! What the tools know about each NetBSD port, one file per port, each
//! holding one [`Port`] table: the objects its kernels accept (the
//! `ELF{32,64}_MACHDEP_ID_CASES` of `elf_machdep.h`, class and byte
//! order), the relocation sections (REL, RELA) its kernel's linker
//! applies, the relocation types by name and width, which of them the
//! linker (`kobj_machdep.c`) implements and from which release, which it
//! applies wrongly, which are branches whose reach depends on where the
//! kernel places the module, and which store a whole pointer (for
//! following the module descriptor's pointers). Each table names the
//! source revisions it was written from (`source`): each port's
//! sys/arch/<port>/include/elf_machdep.h and kobj_machdep.c, and
//! sys/kern/subr_kobj.c r1.76.
//!
//! The reader and the validator ask the registry below rather than match
//! on `e_machine` or relocation numbers themselves; so does [`Machine`]
//! (`class.rs`, with [`ElfClass`] and [`Endian`]: what an object was built
//! for, here so that the reader and the findings can both name it).
//!
//! # Adding a port
//!
//! 1. Write `machine/<port>.rs` with `pub(super) const PORT: Port`
//!    (`riscv.rs` is a short example). Take relocation numbers from
//!    `object::elf` through `names!`, so that each name is its
//!    constant's; define a constant in the port's file only where
//!    `object` lacks one.
//! 2. Register it below: its `mod` line and its entry in [`PORTS`].
//!
//! 3. Add the port to the table in README.md's "Ports checked" section
//!    (a test compares the two) and to the list in man/modload.8.
//!
//! Every port is modelled today. A port whose `kobj_machdep.c` is not
//! known would leave `linker: None`, `sections: None` and `widths: None`:
//! the validator then does not judge relocation types or sections and
//! counts each relocation as writing one byte, so that only a place
//! starting outside its section is flagged. A type the linker accepts
//! only from some release gets a named `*_SINCE` constant in `rules.rs`
//! (every release-dependent rule lives there) and an [`Accepted::since`]
//! row here.
//!
//! Depends on `object` and `rules` only: the reader (`kmod`) and the
//! validator import it, never the reverse.

use object::elf;

use crate::rules::KernelRules;

/// Relocation names from `object::elf` constants:
/// `names![R_X86_64_NONE, R_X86_64_64]` is the [`Names`] of
/// `elf::R_X86_64_NONE` and `elf::R_X86_64_64`.
/// Types `object` lacks follow a `;`, as constants of the port's file.
macro_rules! names {
    ($($name:ident),* $(,)? $(; $($own:ident),* $(,)?)?) => {
        super::Names {
            types: &[$(object::elf::$name,)* $($($own,)*)?],
            text: concat!($(stringify!($name), " ",)* $($(stringify!($own), " ",)*)?),
        }
    };
}

// The registry: a port's module and its entry in `PORTS`. (A macro could
// make this one line per port, but rustfmt does not see modules that a
// macro declares.)
mod aarch64;
mod alpha;
mod amd64;
mod arm;
mod class;
mod hppa;
mod i386;
mod m68k;
mod mips;
mod powerpc;
mod powerpc64;
mod riscv;
mod sh3;
mod sparc;
mod sparc64;
mod vax;

/// Every port, in lookup order.
pub const PORTS: &[&Port] = &[
    &amd64::PORT,
    &i386::PORT,
    &aarch64::PORT,
    &arm::PORT,
    &powerpc::PORT,
    &powerpc64::PORT,
    &sparc::PORT,
    &sparc64::PORT,
    &mips::PORT,
    &riscv::PORT,
    &alpha::PORT,
    &m68k::PORT,
    &hppa::PORT,
    &sh3::PORT,
    &vax::PORT,
];

pub use alpha::{EM_ALPHA, EM_ALPHA_EXP};
pub use class::{ElfClass, Endian, Machine};
pub use i386::EM_486;

/// One port's table.
#[derive(Debug)]
pub struct Port {
    /// NetBSD's name for the architecture (`MACHINE_ARCH` family).
    pub name: &'static str,
    /// The `e_machine` values of objects built for it: the relocation
    /// tables below describe those objects.
    pub e_machines: &'static [u16],
    /// Its kernels, by the names they report.
    pub kernels: &'static [PortKernel],
    /// The source revisions the table was written from, e.g.
    /// "kobj_machdep.c 1.6 (2017/11/03)".
    pub source: &'static str,
    /// The relocation sections its kernel's linker applies; `None` where
    /// not modelled.
    pub sections: Option<RelocSections>,
    /// Relocation types by name, for messages and listings.
    pub names: Names,
    /// How many bytes each relocation type writes at its place; `None`
    /// where not modelled.
    pub widths: Option<Widths>,
    /// The types the kernel's linker implements, every other one failing
    /// the load with ENOEXEC; `None` where not modelled.
    pub linker: Option<&'static [Accepted]>,
    /// Objects whose relocation types are not judged although the linker
    /// is modelled, by (pointer size, big-endian): where the kernel's
    /// reading of `r_info` is not known.
    pub unjudged: &'static [(u64, bool)],
    /// The relocation type the linker reads from an entry's type field,
    /// where that is not the field itself; `None`: the field.
    pub linker_type: Option<fn(u32) -> u32>,
    /// Why modules contain some types the linker refuses, or why it
    /// refuses them, for the message.
    pub notes: &'static [(u32, &'static str)],
    /// Accepted branch types whose reach depends on where the kernel
    /// places the module.
    pub branches: &'static [Branch],
    /// The types that store a whole pointer.
    pub pointers: &'static [Pointer],
}

/// Relocation types and their names. The names are one string, each
/// followed by a space, rather than a `&str` per type: a table of 900
/// string slices costs a pointer, a length and a load-time relocation
/// each in a position-independent program, three times the names.
#[derive(Debug)]
pub struct Names {
    pub types: &'static [u32],
    text: &'static str,
}

impl Names {
    /// The name of `r_type`.
    pub fn get(&self, r_type: u32) -> Option<&'static str> {
        let i = self.types.iter().position(|t| *t == r_type)?;
        self.text.split(' ').nth(i)
    }

    /// Every type with its name, in table order.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &'static str)> {
        self.types.iter().copied().zip(self.text.split(' '))
    }
}

/// A branch (or PC-relative) type of limited reach.
#[derive(Debug)]
pub struct Branch {
    pub r_type: u32,
    /// The reach, as a message says it ("±128 MiB").
    pub reach: &'static str,
    /// The kernel checks the reach and refuses the load beyond it;
    /// otherwise it truncates the displacement silently.
    pub checked: bool,
}

/// The kernels of a port that report some `hw.machine` or
/// `hw.machine_arch` names, and what objects they accept.
#[derive(Debug)]
pub struct PortKernel {
    /// Whether a kernel reporting this name is one of them.
    pub reports: fn(&str) -> bool,
    /// `e_machine` values accepted (`ELF*_MACHDEP_ID_CASES` of the
    /// kernel's class).
    pub e_machines: &'static [u16],
    /// `EI_CLASS` of the kernel; `None` where the name covers both.
    pub class: Option<u8>,
    /// `EI_DATA` of the kernel; `None` where the name covers both.
    pub data: Option<u8>,
}

impl PortKernel {
    /// The `e_machine` values accepted as a message names them, e.g.
    /// "EM_X86_64 (62)" or "EM_386 (3) or EM_486 (6)".
    pub fn label(&self) -> String {
        let names: Vec<String> = self
            .e_machines
            .iter()
            .map(|&em| format!("{} ({em})", em_name(em).unwrap_or("EM_?")))
            .collect();
        names.join(" or ")
    }

    /// A 64-bit kernel (`ELFCLASS64`); false for 32-bit ones and for names
    /// that cover both classes.
    pub fn is_64bit(&self) -> bool {
        self.class == ELF64
    }
}

/// The `EM_*` name of every `e_machine` a port's kernel accepts
/// (sys/sys/exec_elf.h).
const EM_NAMES: &[(u16, &str)] = &[
    (elf::EM_SPARC, "EM_SPARC"),
    (elf::EM_386, "EM_386"),
    (elf::EM_68K, "EM_68K"),
    (EM_486, "EM_486"),
    (elf::EM_MIPS, "EM_MIPS"),
    (elf::EM_PARISC, "EM_PARISC"),
    (elf::EM_SPARC32PLUS, "EM_SPARC32PLUS"),
    (elf::EM_PPC, "EM_PPC"),
    (elf::EM_PPC64, "EM_PPC64"),
    (elf::EM_ARM, "EM_ARM"),
    (EM_ALPHA, "EM_ALPHA"),
    (elf::EM_SH, "EM_SH"),
    (elf::EM_SPARCV9, "EM_SPARCV9"),
    (elf::EM_X86_64, "EM_X86_64"),
    (elf::EM_VAX, "EM_VAX"),
    (elf::EM_AARCH64, "EM_AARCH64"),
    (elf::EM_RISCV, "EM_RISCV"),
    (EM_ALPHA_EXP, "EM_ALPHA_EXP"),
];

/// The `EM_*` name of `e_machine`, for the values the ports know.
pub fn em_name(e_machine: u16) -> Option<&'static str> {
    EM_NAMES
        .iter()
        .find(|(em, _)| *em == e_machine)
        .map(|(_, name)| *name)
}

/// Which relocation sections a kernel's linker applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelocSections {
    /// `SHT_REL` and `SHT_RELA`.
    Both,
    /// `SHT_RELA` only: an entry of a REL section (whose target is
    /// PROGBITS) fails the load, as the variant says.
    RelaOnly(RelFailure),
}

/// How a RELA-only linker meets a REL entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelFailure {
    /// It returns an error: the load fails with ENOEXEC.
    Refused,
    /// The same, but only after it has let the NONE type through (sparc).
    RefusedAfterNone,
    /// It panics (`panic("kobj_reloc: REL relocations not supported")`).
    Panics,
}

/// Bytes written at a relocation's place.
#[derive(Debug)]
pub struct Widths {
    /// The pointer size (4 or 8) of the objects these hold for, where
    /// pointer-sized types make them differ; `None`: any.
    pub pointer_size: Option<u64>,
    /// Types whose width is not `other`.
    pub listed: &'static [(u32, u64)],
    /// The width of every other type.
    pub other: u64,
}

/// A relocation type the kernel's linker implements.
#[derive(Debug)]
pub struct Accepted {
    pub r_type: u32,
    pub since: Since,
    /// Only 64-bit kernels (`_LP64`) implement it.
    pub lp64: bool,
    /// The linker accepts it but, as written, computes or stores it
    /// wrongly: why.
    pub misapplied: Option<&'static str>,
}

/// What a kernel's linker does with a relocation type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// Applies it.
    Yes,
    /// Refuses it: the load fails with ENOEXEC.
    No,
    /// Accepts it but applies it wrongly, for this reason.
    Wrongly(&'static str),
}

/// From which kernel on the linker implements a type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Since {
    /// Every kernel modelled.
    Always,
    /// Kernels from this `kern.osrevision` on; `why` says why modules
    /// contain the type anyway, for the message to older kernels.
    Version { osrevision: u32, why: &'static str },
    /// No kernel known.
    Never,
}

impl Pointer {
    pub const fn new(r_type: u32, kind: PointerReloc, size: Option<u64>) -> Pointer {
        Pointer { r_type, kind, size }
    }
}

impl Accepted {
    pub const fn always(r_type: u32) -> Accepted {
        Accepted {
            r_type,
            since: Since::Always,
            lp64: false,
            misapplied: None,
        }
    }

    /// Implemented by 64-bit kernels only.
    pub const fn lp64(self) -> Accepted {
        Accepted { lp64: true, ..self }
    }

    /// Accepted, but applied wrongly as written, for this reason.
    pub const fn misapplied(self, why: &'static str) -> Accepted {
        Accepted {
            misapplied: Some(why),
            ..self
        }
    }

    /// From `osrevision` on, if a release is known (`rules.rs` keeps the
    /// version, `None` when none is).
    pub const fn since(r_type: u32, osrevision: Option<u32>, why: &'static str) -> Accepted {
        let since = match osrevision {
            Some(osrevision) => Since::Version { osrevision, why },
            None => Since::Never,
        };
        Accepted {
            r_type,
            since,
            lp64: false,
            misapplied: None,
        }
    }

    fn by(&self, osrevision: u32) -> bool {
        match self.since {
            Since::Always => true,
            Since::Version { osrevision: v, .. } => osrevision >= v,
            Since::Never => false,
        }
    }
}

/// How a relocation computes the pointer it stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PointerReloc {
    /// S + A: symbol value plus addend.
    Absolute,
    /// S + *where + A: the place's old contents added too, as sh3's and
    /// m68k's linkers do (the GNU toolchain's sh objects keep an addend
    /// in the place as well as in `r_addend`).
    AbsolutePlusPlace,
    /// B + A: the base of the section being relocated plus addend.
    Relative,
    /// S: the symbol value alone (GLOB_DAT, JUMP_SLOT).
    Symbol,
}

/// A relocation type that stores a whole pointer.
#[derive(Debug)]
pub struct Pointer {
    pub r_type: u32,
    pub kind: PointerReloc,
    /// The pointer size (4 or 8) of the objects it does so in; `None`:
    /// both.
    pub size: Option<u64>,
}

/// The port whose objects have this `e_machine`.
pub fn port(e_machine: u16) -> Option<&'static Port> {
    PORTS
        .iter()
        .copied()
        .find(|p| p.e_machines.contains(&e_machine))
}

/// What a kernel reporting `machine` (`hw.machine` or `hw.machine_arch`)
/// accepts; `None` for machines not in the registry.
pub fn kernel(machine: &str) -> Option<&'static PortKernel> {
    PORTS
        .iter()
        .flat_map(|p| p.kernels)
        .find(|k| (k.reports)(machine))
}

/// The name of a relocation type.
pub fn reloc_name(e_machine: u16, r_type: u32) -> Option<&'static str> {
    port(e_machine)?.names.get(r_type)
}

/// Bytes a relocation type writes at its place, in an object with
/// pointers of `pointer_size` bytes: exact where the port's widths are
/// modelled, else one byte, so that only a place starting outside its
/// section is flagged.
pub fn reloc_width(e_machine: u16, pointer_size: u64, r_type: u32) -> u64 {
    let widths = port(e_machine)
        .and_then(|p| p.widths.as_ref())
        .filter(|w| w.pointer_size.is_none_or(|s| s == pointer_size));
    match widths {
        Some(w) => w
            .listed
            .iter()
            .find(|(t, _)| *t == r_type)
            .map_or(w.other, |(_, width)| *width),
        None => 1,
    }
}

/// How a relocation type fills a pointer in an object with pointers of
/// `pointer_size` bytes; `None` when it does not store one.
pub fn pointer_reloc(e_machine: u16, pointer_size: u64, r_type: u32) -> Option<PointerReloc> {
    port(e_machine)?
        .pointers
        .iter()
        .find(|p| p.r_type == r_type && p.size.is_none_or(|s| s == pointer_size))
        .map(|p| p.kind)
}

/// Why modules contain `r_type` although the port's linker refuses it, or
/// why the linker refuses it, when the table says.
pub fn reloc_note(e_machine: u16, r_type: u32) -> Option<&'static str> {
    let notes = port(e_machine)?.notes;
    notes.iter().find(|(t, _)| *t == r_type).map(|(_, n)| *n)
}

/// The reach of a branch type, when it depends on the module's place.
pub fn branch(e_machine: u16, r_type: u32) -> Option<&'static Branch> {
    port(e_machine)?
        .branches
        .iter()
        .find(|b| b.r_type == r_type)
}

/// How the port's linker meets REL sections; `None` where not modelled.
pub fn reloc_sections(e_machine: u16) -> Option<RelocSections> {
    port(e_machine)?.sections
}

/// The release from which the port's linker implements `r_type`, when
/// that is later than every kernel, with why modules contain it.
pub fn accepted_since(e_machine: u16, r_type: u32) -> Option<(u32, &'static str)> {
    let linker = port(e_machine)?.linker?;
    linker
        .iter()
        .find(|a| a.r_type == r_type)
        .and_then(|a| match a.since {
            Since::Version { osrevision, why } => Some((osrevision, why)),
            _ => None,
        })
}

// Here rather than in `rules.rs`, which depends on nothing in the crate:
// the version gates are rules, the lists are the ports'.
impl KernelRules {
    /// Whether the kernel's linker implements a relocation type; `None`
    /// for machines whose linker is not modelled here.
    pub fn accepts_relocation(&self, e_machine: u16, r_type: u32) -> Option<bool> {
        let linker = port(e_machine)?.linker?;
        Some(
            linker
                .iter()
                .any(|a| a.r_type == r_type && a.by(self.osrevision)),
        )
    }

    /// What the kernel's linker does with a relocation type in an object
    /// with pointers of `pointer_size` bytes and the given byte order;
    /// `None` where that is not modelled.
    pub fn applies(
        &self,
        e_machine: u16,
        pointer_size: u64,
        big_endian: bool,
        r_type: u32,
    ) -> Option<Applied> {
        let port = port(e_machine)?;
        if port.unjudged.contains(&(pointer_size, big_endian)) {
            return None;
        }
        let r_type = port.linker_type.map_or(r_type, |f| f(r_type));
        let found = port.linker?.iter().find(|a| {
            a.r_type == r_type && a.by(self.osrevision) && (!a.lp64 || pointer_size == 8)
        });
        Some(match found {
            None => Applied::No,
            Some(Accepted {
                misapplied: Some(why),
                ..
            }) => Applied::Wrongly(why),
            Some(_) => Applied::Yes,
        })
    }
}

/// `ELFCLASS32`/`ELFCLASS64` and `ELFDATA2LSB`/`ELFDATA2MSB`, short, for
/// the port files.
const ELF32: Option<u8> = Some(elf::ELFCLASS32);
const ELF64: Option<u8> = Some(elf::ELFCLASS64);
const LSB: Option<u8> = Some(elf::ELFDATA2LSB);
const MSB: Option<u8> = Some(elf::ELFDATA2MSB);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_e_machine_belongs_to_one_port() {
        let mut seen = Vec::new();
        for p in PORTS {
            for em in p.e_machines {
                assert!(!seen.contains(em), "{} repeats e_machine {em}", p.name);
                seen.push(*em);
            }
        }
    }

    #[test]
    fn each_name_is_one_kernels() {
        let names = [
            "amd64",
            "x86_64",
            "i386",
            "i686",
            "aarch64",
            "aarch64eb",
            "evbarm",
            "earmv7hf",
            "earmv7hfeb",
            "armeb",
            "powerpc",
            "macppc",
            "powerpc64",
            "sparc",
            "sparc64",
            "riscv64",
            "mips64el",
            "mips64eb",
            "mipsel",
            "evbmips",
            "pmax",
            "riscv32",
            "alpha",
            "m68k",
            "mac68k",
            "hppa",
            "sh3eb",
            "sh3el",
            "landisk",
            "vax",
        ];
        for name in names {
            let n = PORTS
                .iter()
                .flat_map(|p| p.kernels)
                .filter(|k| (k.reports)(name))
                .count();
            assert_eq!(n, 1, "{name}");
        }
        assert!(kernel("pdp11").is_none());
    }

    #[test]
    fn relocation_names_are_unique_per_port() {
        for p in PORTS {
            let all: Vec<_> = p.names.iter().collect();
            assert_eq!(all.len(), p.names.types.len(), "{}", p.name);
            for (i, (t, n)) in all.iter().enumerate() {
                assert!(!n.is_empty(), "{}: {t}", p.name);
                assert!(
                    all[..i].iter().all(|(u, m)| u != t && m != n),
                    "{}: {n}",
                    p.name
                );
            }
        }
    }

    #[test]
    fn the_readers_machine_names_are_the_ports() {
        for p in PORTS {
            for &em in p.e_machines {
                let m = crate::kmod::Machine::from_e_machine(em);
                assert_eq!(m.name(), p.name);
                // Listings show the Debug text lower-cased.
                assert_eq!(format!("{m:?}").to_lowercase(), p.name);
            }
        }
        let other = crate::kmod::Machine::from_e_machine(1000);
        assert_eq!(other.name(), "machine 1000");
        assert_eq!(format!("{other:?}"), "Other(1000)");
    }

    #[test]
    fn labels_name_what_each_kernel_accepts() {
        for k in PORTS.iter().flat_map(|p| p.kernels) {
            for em in k.e_machines {
                assert!(em_name(*em).is_some(), "{em}");
            }
        }
        for (machine, label) in [
            ("amd64", "EM_X86_64 (62)"),
            ("i386", "EM_386 (3) or EM_486 (6)"),
            ("evbarm", "EM_ARM (40) or EM_AARCH64 (183)"),
            ("alpha", "EM_ALPHA (41) or EM_ALPHA_EXP (36902)"),
            ("sparc", "EM_SPARC (2) or EM_SPARC32PLUS (18)"),
            ("sparc64", "EM_SPARCV9 (43)"),
            ("landisk", "EM_SH (42)"),
        ] {
            assert_eq!(kernel(machine).unwrap().label(), label);
        }
    }

    #[test]
    fn sh3_boards_have_one_byte_order_but_evbsh3() {
        for (machine, data) in [
            ("landisk", LSB),
            ("dreamcast", LSB),
            ("hpcsh", LSB),
            ("sh3el", LSB),
            ("mmeye", MSB),
            ("sh3eb", MSB),
            ("evbsh3", None),
        ] {
            assert_eq!(kernel(machine).unwrap().data, data, "{machine}");
        }
    }

    #[test]
    fn lookups() {
        assert_eq!(reloc_name(elf::EM_X86_64, 4), Some("R_X86_64_PLT32"));
        assert_eq!(reloc_name(EM_486, 7), Some("R_386_JMP_SLOT"));
        assert_eq!(reloc_name(elf::EM_SPARCV9, 50), Some("R_SPARC_H44"));
        assert_eq!(reloc_name(elf::EM_RISCV, 2), Some("R_RISCV_64"));
        assert_eq!(reloc_name(elf::EM_VAX, 0), Some("R_VAX_NONE"));
        assert_eq!(reloc_name(elf::EM_RISCV, 1000), None);
        assert_eq!(reloc_width(elf::EM_X86_64, 8, elf::R_X86_64_64), 8);
        assert_eq!(reloc_width(elf::EM_X86_64, 8, elf::R_X86_64_PC32), 4);
        assert_eq!(reloc_width(elf::EM_X86_64, 4, elf::R_X86_64_PC32), 1);
        assert_eq!(reloc_width(elf::EM_386, 4, elf::R_386_NONE), 0);
        assert_eq!(reloc_width(elf::EM_AARCH64, 8, elf::R_AARCH64_ABS64), 8);
        assert_eq!(reloc_width(elf::EM_PPC, 4, elf::R_PPC_ADDR16_HA), 2);
        assert_eq!(
            pointer_reloc(elf::EM_X86_64, 4, elf::R_X86_64_32),
            Some(PointerReloc::Absolute)
        );
        assert_eq!(pointer_reloc(elf::EM_X86_64, 8, elf::R_X86_64_32), None);
        assert_eq!(
            pointer_reloc(elf::EM_MIPS, 8, elf::R_MIPS_REL32),
            Some(PointerReloc::Relative)
        );
        assert_eq!(
            accepted_since(elf::EM_X86_64, elf::R_X86_64_PLT32).map(|s| s.0),
            Some(crate::rules::AMD64_PLT32_SINCE)
        );
        assert_eq!(accepted_since(elf::EM_386, elf::R_386_PLT32), None);
        let k = kernel("earmv7hfeb").unwrap();
        assert_eq!((k.class, k.data), (ELF32, MSB));
        assert_eq!(
            branch(elf::EM_AARCH64, elf::R_AARCH64_CALL26).map(|b| (b.reach, b.checked)),
            Some(("±128 MiB", true))
        );
        assert!(branch(elf::EM_AARCH64, elf::R_AARCH64_ABS64).is_none());
        assert_eq!(
            reloc_sections(elf::EM_RISCV),
            Some(RelocSections::RelaOnly(RelFailure::Panics))
        );
        assert!(reloc_note(elf::EM_RISCV, elf::R_RISCV_32).is_some());
    }

    fn rules(osrevision: u32) -> KernelRules {
        KernelRules::for_target(&crate::rules::Target::new(osrevision, "any"))
    }

    #[test]
    fn what_the_linkers_apply() {
        let r = rules(1_001_000_000);
        // 64-bit types of ports with both classes: 64-bit kernels only.
        assert_eq!(r.applies(elf::EM_RISCV, 8, false, 2), Some(Applied::Yes));
        assert_eq!(r.applies(elf::EM_RISCV, 4, false, 2), Some(Applied::No));
        assert_eq!(
            r.applies(elf::EM_MIPS, 8, true, elf::R_MIPS_HIGHEST),
            Some(Applied::Yes)
        );
        assert_eq!(
            r.applies(elf::EM_MIPS, 4, true, elf::R_MIPS_HIGHEST),
            Some(Applied::No)
        );
        // Little-endian n64 objects are not judged.
        assert_eq!(r.applies(elf::EM_MIPS, 8, false, elf::R_MIPS_26), None);
        // sparc64's OLO10 carries data in its type bits.
        let olo10 = (5 << 8) | elf::R_SPARC_OLO10;
        assert_eq!(
            r.applies(elf::EM_SPARCV9, 8, true, olo10),
            Some(Applied::Yes)
        );
        assert_eq!(
            r.applies(elf::EM_SPARCV9, 8, true, (5 << 8) | elf::R_SPARC_32),
            Some(Applied::No)
        );
        // Accepted but applied wrongly, as written.
        assert!(matches!(
            r.applies(elf::EM_SH, 4, false, elf::R_SH_REL32),
            Some(Applied::Wrongly(_))
        ));
        // vax: not even NONE.
        assert_eq!(r.applies(elf::EM_VAX, 4, false, 0), Some(Applied::No));
        // Release gates: riscv's rewrite, arm's 2014 types.
        assert_eq!(
            r.applies(elf::EM_RISCV, 8, false, elf::R_RISCV_RELAX),
            Some(Applied::No)
        );
        assert_eq!(
            rules(1_100_000_000).applies(elf::EM_RISCV, 8, false, elf::R_RISCV_RELAX),
            Some(Applied::Yes)
        );
        assert_eq!(
            rules(603_000_000).applies(elf::EM_ARM, 4, false, elf::R_ARM_CALL),
            Some(Applied::No)
        );
        assert_eq!(
            r.applies(elf::EM_ARM, 4, false, elf::R_ARM_CALL),
            Some(Applied::Yes)
        );
    }

    #[test]
    fn every_port_is_modelled_and_names_what_it_applies() {
        for p in PORTS {
            assert!(p.sections.is_some() && p.widths.is_some(), "{}", p.name);
            assert!(!p.source.is_empty(), "{}", p.name);
            let linker = p.linker.unwrap_or_else(|| panic!("{}", p.name));
            for a in linker {
                assert!(
                    p.names.iter().any(|(t, _)| t == a.r_type),
                    "{}: type {} has no name",
                    p.name,
                    a.r_type
                );
            }
            for b in p.branches {
                assert!(linker.iter().any(|a| a.r_type == b.r_type), "{}", p.name);
            }
        }
    }
}
