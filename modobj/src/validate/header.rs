//! `kobj_load`'s first checks: the ELF header as the target kernel reads
//! it, in its own class and byte order whatever the file says, then the
//! section header table's place and size.

use object::elf;

use super::{kernel_for, Certainty, Check, Finding, Validator};
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

fn e_type_name(t: u16) -> &'static str {
    match t {
        elf::ET_NONE => "ET_NONE, no file type",
        elf::ET_REL => "ET_REL, relocatable",
        elf::ET_EXEC => "ET_EXEC, an executable",
        elf::ET_DYN => "ET_DYN, a shared object",
        elf::ET_CORE => "ET_CORE, a core dump",
        _ => "unknown",
    }
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
            self.push(
                Check::UnknownMachine,
                format!(
                    "the validator does not know which objects a `{}` kernel accepts; machine, \
                     class and byte order were not checked",
                    self.t.machine
                ),
            );
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
            self.push(
                Check::Truncated,
                format!(
                    "the section header table ({} entries at offset {:#x}) extends past the end \
                     of the file ({} bytes)",
                    kh.e_shnum,
                    kh.e_shoff,
                    self.k.file_size()
                ),
            );
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
            self.push(
                Check::Truncated,
                format!(
                    "the file is {} bytes, shorter than the {ehdr}-byte ELF header the kernel reads",
                    data.len()
                ),
            );
            return false;
        }
        if data[..4] != elf::ELFMAG {
            self.push(
                Check::NotElf,
                format!(
                    "not an ELF object: it starts with {:02x} {:02x} {:02x} {:02x}, not 7f 45 4c 46",
                    data[0], data[1], data[2], data[3]
                ),
            );
            return false;
        }
        true
    }

    /// ELF version, file type and machine.
    fn identity(&mut self, kh: &KernelHeader, kernel: Option<&PortKernel>) {
        if kh.ei_version != 1 || kh.e_version != 1 {
            self.push(
                Check::ElfVersion,
                format!(
                    "unsupported ELF version {} (header version {}); only version 1 exists",
                    kh.ei_version, kh.e_version
                ),
            );
        }
        if kh.e_type != elf::ET_REL {
            self.push(
                Check::FileType,
                format!(
                    "file type is {} ({}); a module must be a relocatable object (ET_REL, as \
                     made by ld -r)",
                    kh.e_type,
                    e_type_name(kh.e_type)
                ),
            );
        }
        if let Some(kernel) = kernel.filter(|k| !k.e_machines.contains(&kh.e_machine)) {
            let file_em = self.k.e_machine().unwrap_or(kh.e_machine);
            let built_for = machine::port(file_em)
                .map_or_else(|| format!("machine {file_em}"), |p| p.name.to_string());
            self.push(
                Check::Machine,
                format!(
                    "built for {built_for} (e_machine {file_em}); {} accepts only {}",
                    kernel_for(&self.t.machine),
                    kernel.label()
                ),
            );
        }
    }

    /// The kernel checks neither class nor byte order and misreads a
    /// header of the other kind: certain to fail unless an earlier
    /// refusal already explains the errno.
    fn layouts_match(&mut self, data: &[u8], l: &Layouts) -> bool {
        let (class_mismatch, endian_mismatch) = (l.class_mismatch(), l.endian_mismatch());
        if class_mismatch {
            let file = l.file_class.map_or_else(
                || format!("an invalid class ({})", data[EI_CLASS]),
                |c| c.name().to_string(),
            );
            let reason = format!(
                "the object is {file} but {} reads every module as {}; it does not check the \
                 class and misreads the header",
                kernel_for(&self.t.machine),
                l.class.name()
            );
            self.push_unless_refused(Check::ElfClass, reason);
        }
        if endian_mismatch {
            let file = l.file_endian.map_or_else(
                || format!("of invalid byte order ({})", data[EI_DATA]),
                |e| e.name().to_string(),
            );
            let reason = format!(
                "the object is {file} but {} is {}; it would misread every field",
                kernel_for(&self.t.machine),
                l.endian.name()
            );
            self.push_unless_refused(Check::ByteOrder, reason);
        }
        !class_mismatch && !endian_mismatch
    }

    /// Certain only when no earlier finding is.
    fn push_unless_refused(&mut self, check: Check, reason: String) {
        let certainty = if self.out.iter().any(|f| f.certain) {
            Certainty::Harmful
        } else {
            Certainty::Refused
        };
        self.add(Finding::new(check, reason).with_certainty(certainty));
    }

    /// `e_shnum`, `e_shoff` and `e_shentsize` as the kernel bounds them.
    fn section_table(&mut self, kh: &KernelHeader) -> bool {
        let want = self.k.elf().map_or(0, |e| e.shdr_size());
        let why = if kh.e_shnum == 0 {
            "e_shnum is 0 (no sections, or extended numbering the kernel does not support)"
                .to_string()
        } else if kh.e_shnum > MAX_SHNUM {
            format!(
                "e_shnum is {}, more than the kernel's limit of {MAX_SHNUM}",
                kh.e_shnum
            )
        } else if kh.e_shoff == 0 {
            "e_shoff is 0: there is no section header table".to_string()
        } else if u64::from(kh.e_shentsize) != want {
            format!(
                "e_shentsize is {}, not the {want} bytes of a section header",
                kh.e_shentsize
            )
        } else {
            return true;
        };
        self.push(Check::SectionTable, format!("bad section table: {why}"));
        false
    }
}
