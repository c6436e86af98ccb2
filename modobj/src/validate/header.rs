//! `kobj_load`'s first checks: the ELF header as the target kernel reads
//! it, in its own class and byte order whatever the file says, then the
//! section header table's place and size.

use object::elf;

use super::{Certainty, Check, Detail, Finding, Validator};
use crate::kmod::{Elf, ElfClass, Endian, EI_CLASS, EI_DATA, EI_VERSION};
use crate::machine::{self, PortKernel};
use crate::rules::MAX_SHNUM;

/// The ELF header as a kernel of the target's class and byte order reads
/// it: the kernel checks neither `EI_CLASS` nor `EI_DATA`.
#[derive(Debug, Clone, Copy)]
struct KernelHeader {
    ei_version: u8,
    e_type: u16,
    e_machine: u16,
    e_version: u32,
    e_shoff: u64,
    e_shentsize: u16,
    e_shnum: u16,
    e_shstrndx: u16,
}

fn kernel_header(data: &[u8], class: ElfClass, endian: Endian) -> Option<KernelHeader> {
    let u16_at = |o: usize| {
        let b: [u8; 2] = data.get(o..o + 2)?.try_into().ok()?;
        Some(match endian {
            Endian::Little => u16::from_le_bytes(b),
            Endian::Big => u16::from_be_bytes(b),
        })
    };
    let u32_at = |o: usize| {
        let b: [u8; 4] = data.get(o..o + 4)?.try_into().ok()?;
        Some(match endian {
            Endian::Little => u32::from_le_bytes(b),
            Endian::Big => u32::from_be_bytes(b),
        })
    };
    let u64_at = |o: usize| {
        let b: [u8; 8] = data.get(o..o + 8)?.try_into().ok()?;
        Some(match endian {
            Endian::Little => u64::from_le_bytes(b),
            Endian::Big => u64::from_be_bytes(b),
        })
    };
    let (shoff, rest) = match class {
        ElfClass::Elf64 => (u64_at(0x28)?, 0x3A),
        ElfClass::Elf32 => (u64::from(u32_at(0x20)?), 0x2E),
    };
    Some(KernelHeader {
        ei_version: *data.get(EI_VERSION)?,
        e_type: u16_at(0x10)?,
        e_machine: u16_at(0x12)?,
        e_version: u32_at(0x14)?,
        e_shoff: shoff,
        e_shentsize: u16_at(rest)?,
        e_shnum: u16_at(rest + 2)?,
        e_shstrndx: u16_at(rest + 4)?,
    })
}

fn class_of(ei_class: u8) -> Option<ElfClass> {
    match ei_class {
        elf::ELFCLASS32 => Some(ElfClass::Elf32),
        elf::ELFCLASS64 => Some(ElfClass::Elf64),
        _ => None,
    }
}

fn endian_of(ei_data: u8) -> Option<Endian> {
    match ei_data {
        elf::ELFDATA2LSB => Some(Endian::Little),
        elf::ELFDATA2MSB => Some(Endian::Big),
        _ => None,
    }
}

/// The class and byte order the file states, and those the target kernel
/// reads it in.
struct Layouts {
    /// The target kernel's, where known.
    kernel_class: Option<ElfClass>,
    kernel_endian: Option<Endian>,
    file_class: Option<ElfClass>,
    file_endian: Option<Endian>,
    /// What the header is read as: the kernel's, else the file's own,
    /// else ELF64 little-endian.
    class: ElfClass,
    endian: Endian,
}

impl Layouts {
    fn of(data: &[u8], kernel: Option<&PortKernel>) -> Layouts {
        let kernel_class = kernel.and_then(|k| k.class).and_then(class_of);
        let kernel_endian = kernel.and_then(|k| k.data).and_then(endian_of);
        let file_class = data.get(EI_CLASS).copied().and_then(class_of);
        let file_endian = data.get(EI_DATA).copied().and_then(endian_of);
        Layouts {
            kernel_class,
            kernel_endian,
            file_class,
            file_endian,
            class: kernel_class.or(file_class).unwrap_or(ElfClass::Elf64),
            endian: kernel_endian.or(file_endian).unwrap_or(Endian::Little),
        }
    }

    fn class_mismatch(&self) -> bool {
        matches!((self.kernel_class, self.file_class), (Some(a), Some(b)) if a != b)
            || self.file_class.is_none()
    }

    fn endian_mismatch(&self) -> bool {
        matches!((self.kernel_endian, self.file_endian), (Some(a), Some(b)) if a != b)
            || self.file_endian.is_none()
    }
}

impl<'k> Validator<'k, '_> {
    /// The header checks; the object and its `e_shstrndx` when the kernel
    /// would go on to its sections.
    pub(super) fn header(&mut self) -> Option<(Elf<'k>, u16)> {
        let data = self.k.bytes();
        let kernel = machine::kernel(&self.t.machine);
        if kernel.is_none() {
            let machine = self.t.machine.clone();
            self.push(Check::UnknownMachine, Detail::UnknownMachine { machine });
        }
        let layouts = Layouts::of(data, kernel);
        if !self.is_elf(data, layouts.class) {
            return None;
        }
        let kh = kernel_header(data, layouts.class, layouts.endian)?;
        self.identity(&kh, kernel);
        if !self.layouts_match(data, &layouts) {
            // Nothing further the kernel does with this file is meaningful.
            return None;
        }
        if !self.section_table(&kh) {
            return None;
        }
        let elf = self.k.elf()?;
        if !elf.table_ok() {
            let detail = Detail::SectionTablePastEnd {
                entries: kh.e_shnum,
                offset: kh.e_shoff,
                file_size: self.k.file_size(),
            };
            self.push(Check::Truncated, detail);
            return None;
        }
        Some((elf, kh.e_shstrndx))
    }

    /// Long enough for the header the kernel reads, and ELF.
    fn is_elf(&mut self, data: &[u8], class: ElfClass) -> bool {
        let ehdr = match class {
            ElfClass::Elf32 => 52,
            ElfClass::Elf64 => 64,
        };
        if (data.len() as u64) < ehdr {
            let detail = Detail::ShortHeader {
                size: data.len() as u64,
                header: ehdr,
            };
            self.push(Check::Truncated, detail);
            return false;
        }
        if data[..4] != elf::ELFMAG {
            let magic = [data[0], data[1], data[2], data[3]];
            self.push(Check::NotElf, Detail::NotElf { magic });
            return false;
        }
        true
    }

    /// ELF version, file type and machine.
    fn identity(&mut self, kh: &KernelHeader, kernel: Option<&PortKernel>) {
        if kh.ei_version != 1 || kh.e_version != 1 {
            let detail = Detail::ElfVersion {
                ident: kh.ei_version,
                header: kh.e_version,
            };
            self.push(Check::ElfVersion, detail);
        }
        if kh.e_type != elf::ET_REL {
            let e_type = kh.e_type;
            self.push(Check::FileType, Detail::FileType { e_type });
        }
        if kernel.is_some_and(|k| !k.e_machines.contains(&kh.e_machine)) {
            let detail = Detail::Machine {
                e_machine: self.k.e_machine().unwrap_or(kh.e_machine),
                kernel: self.t.machine.clone(),
            };
            self.push(Check::Machine, detail);
        }
    }

    /// The kernel checks neither class nor byte order and misreads a
    /// header of the other kind: certain to fail unless an earlier
    /// refusal already explains the errno.
    fn layouts_match(&mut self, data: &[u8], l: &Layouts) -> bool {
        let (class_mismatch, endian_mismatch) = (l.class_mismatch(), l.endian_mismatch());
        if class_mismatch {
            let detail = Detail::ElfClass {
                file: data[EI_CLASS],
                kernel: self.t.machine.clone(),
                reads: l.class,
            };
            self.push_unless_refused(Check::ElfClass, detail);
        }
        if endian_mismatch {
            let detail = Detail::ByteOrder {
                file: data[EI_DATA],
                kernel: self.t.machine.clone(),
                reads: l.endian,
            };
            self.push_unless_refused(Check::ByteOrder, detail);
        }
        !class_mismatch && !endian_mismatch
    }

    /// Certain only when no earlier finding is.
    fn push_unless_refused(&mut self, check: Check, detail: Detail) {
        let certainty = if self.out.iter().any(|f| f.certain) {
            Certainty::Harmful
        } else {
            Certainty::Refused
        };
        self.add(Finding::new(check, detail).with_certainty(certainty));
    }

    /// `e_shnum`, `e_shoff` and `e_shentsize` as the kernel bounds them.
    fn section_table(&mut self, kh: &KernelHeader) -> bool {
        let want = self.k.elf().map_or(0, |e| e.shdr_size());
        let detail = if kh.e_shnum == 0 {
            Detail::NoSections
        } else if kh.e_shnum > MAX_SHNUM {
            Detail::TooManySections {
                shnum: kh.e_shnum,
                max: MAX_SHNUM,
            }
        } else if kh.e_shoff == 0 {
            Detail::NoSectionTable
        } else if u64::from(kh.e_shentsize) != want {
            Detail::SectionHeaderSize {
                size: kh.e_shentsize,
                want,
            }
        } else {
            return true;
        };
        self.push(Check::SectionTable, detail);
        false
    }
}
