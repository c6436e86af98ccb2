//! What an object was built for: its machine (`e_machine`), class
//! (`EI_CLASS`) and byte order (`EI_DATA`).

use object::Endianness;

/// The machine an object was built for (`e_machine`), named as NetBSD's
/// ports name their architectures: the port of the registry whose
/// objects have that `e_machine`, or another value.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub enum Machine {
    /// A port of the registry, by its name.
    Port(&'static str),
    Other(u16),
}

impl Machine {
    pub fn from_e_machine(em: u16) -> Machine {
        super::port(em).map_or(Machine::Other(em), |p| Machine::Port(p.name))
    }

    /// NetBSD's name for the architecture (`MACHINE_ARCH` family).
    pub fn name(self) -> String {
        match self {
            Machine::Port(name) => name.to_string(),
            Machine::Other(em) => format!("machine {em}"),
        }
    }
}

/// The port's name, or `Other(<e_machine>)`: what this type printed when
/// it was an enum of one variant per port, which listings lower-case.
impl std::fmt::Debug for Machine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Machine::Port(name) => f.write_str(name),
            Machine::Other(em) => write!(f, "Other({em})"),
        }
    }
}

/// `EI_CLASS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ElfClass {
    Elf32,
    Elf64,
}

impl ElfClass {
    pub fn name(self) -> &'static str {
        match self {
            ElfClass::Elf32 => "ELF32",
            ElfClass::Elf64 => "ELF64",
        }
    }

    /// Size of a pointer in objects of this class.
    pub fn pointer_size(self) -> u64 {
        match self {
            ElfClass::Elf32 => 4,
            ElfClass::Elf64 => 8,
        }
    }
}

/// `EI_DATA`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endian {
    Little,
    Big,
}

impl Endian {
    pub fn name(self) -> &'static str {
        match self {
            Endian::Little => "little-endian",
            Endian::Big => "big-endian",
        }
    }

    pub(crate) fn object(self) -> Endianness {
        match self {
            Endian::Little => Endianness::Little,
            Endian::Big => Endianness::Big,
        }
    }
}
