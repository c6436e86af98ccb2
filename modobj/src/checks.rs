//! What the validator checks, and one table with each check's metadata:
//! the stable name the JSON report uses, where in loading the kernel trips
//! over it, the errno it returns, how sure that is, and whether `modload
//! -f` overrides it.
//!
//! The names are part of the dry run's JSON document, so they are written
//! out here rather than taken from the variants' `Debug` text: renaming a
//! variant must not change the JSON. A finding takes its metadata from the
//! table; the few call sites where the kernel's answer depends on the case
//! (which relocation pass, which descriptor field, which release) override
//! it there, saying why.
//!
//! This module depends on nothing else in the crate, so the reader
//! (`kmod`, which records descriptor problems as checks) and the validator
//! can both use it.

use libmodctl::errno::Errno;

/// Where in loading the kernel would trip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// `kobj_load` and `module_fetch_info` (ENOEXEC, EINVAL, ENOENT).
    Load,
    /// The descriptor checks of `module_do_load` (name length, class,
    /// version, required names, self-dependency).
    Info,
    /// `kobj_affix`: symbols and relocations against globals.
    Link,
    /// Not refused by the kernel, but worth knowing.
    Advisory,
}

/// How a finding bears on a load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Certainty {
    /// The kernel always refuses it.
    Refused,
    /// The kernel accepts it but would misbehave (read or write outside
    /// the module, call a NULL pointer), which the tools do not risk.
    Harmful,
    /// Worth knowing; never stops a load. Always at [`Stage::Advisory`].
    Advisory,
}

/// Declares [`Check`] and [`Check::ALL`] from one list, so that no check
/// can be missing from `ALL` (which the tests walk).
macro_rules! checks {
    ($($(#[$doc:meta])* $check:ident,)*) => {
        /// What was checked.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Check {
            $($(#[$doc])* $check,)*
        }

        impl Check {
            /// Every check, in declaration order.
            pub const ALL: &'static [Check] = &[$(Check::$check,)*];
        }
    };
}

checks! {
    /// The file was truncated while it was being read, so nothing read
    /// from it can be trusted (EINVAL, as a short read; reported alone).
    FileChanged,
    /// The file ends before data the kernel reads (EINVAL).
    Truncated,
    /// No ELF magic.
    NotElf,
    /// `EI_VERSION` or `e_version` is not 1.
    ElfVersion,
    /// `e_type` is not `ET_REL`.
    FileType,
    /// `e_machine` is not one the kernel accepts.
    Machine,
    /// `EI_CLASS` differs from the kernel's (which the kernel ignores).
    ElfClass,
    /// `EI_DATA` differs from the kernel's byte order.
    ByteOrder,
    /// The validator does not know the target machine.
    UnknownMachine,
    /// `e_shnum`, `e_shoff` or `e_shentsize` out of bounds.
    SectionTable,
    /// A relocation section names a target section that does not exist.
    RelocationTarget,
    /// No PROGBITS/NOBITS section at all.
    NoContents,
    /// Not exactly one symbol table, or its string table is invalid.
    SymbolTable,
    /// The symbol table is empty.
    NoSymbols,
    /// The symbol string table is empty.
    NoSymbolStrings,
    /// `e_shstrndx` out of range.
    SectionNames,
    /// `sh_addralign` zero or not a power of two.
    Alignment,
    /// Nothing executable to load.
    NoText,
    /// Nothing writable to load, refused by 7.99-era kernels.
    NoData,
    /// No read-only data to load, refused by 7.99-era kernels.
    NoRodata,
    /// A section the kernel reads lies outside the file (EINVAL).
    ContentOutsideFile,
    /// A defined global symbol already exists in the kernel.
    SymbolClash,
    /// A relocation type the kernel's linker does not implement.
    UnsupportedRelocation,
    /// A relocation against an undefined local symbol.
    LocalUndefined,
    /// An `SHN_COMMON` symbol, which the kernel never allocates.
    CommonSymbol,
    /// Section `link_set_modules` is missing (ENOENT).
    LinkSetMissing,
    /// Section `link_set_modules` is not one pointer in size.
    LinkSetSize,
    /// A descriptor pointer has no usable relocation.
    UnrelocatedPointer,
    /// A descriptor pointer is relocated against a global symbol, which
    /// the kernel applies only after it has read the pointer.
    GlobalPointerReloc,
    /// A descriptor pointer cannot be followed.
    UndecodablePointer,
    /// A descriptor pointer points outside its section.
    PointerOutsideSection,
    /// A descriptor string has no terminating NUL within its section.
    StringWithoutNul,
    /// `mi_name` is 32 characters or longer.
    NameLength,
    /// `mi_name` is empty.
    EmptyName,
    /// `mi_class` out of range.
    Class,
    /// `mi_version` incompatible with the kernel.
    Version,
    /// A required module name of 31 characters or more.
    RequiredLength,
    /// More required modules than an old kernel's fixed array holds.
    TooManyRequired,
    /// The module requires itself.
    SelfDependency,
    /// `mi_modcmd` is NULL.
    NoModcmd,
    /// An undefined global symbol nobody defines.
    UnresolvedSymbol,
    /// A relocation uses an undefined weak symbol.
    WeakUndefined,
    /// A relocation names a symbol index past the symbol table.
    RelocationSymbolIndex,
    /// A relocation writes outside the section it applies to.
    RelocationOffset,
    /// Two sections (or a section and the ELF header or section header
    /// table) share bytes of the file.
    SectionOverlap,
    /// A string table does not end with a NUL, or a name offset lies
    /// outside its string table.
    StringTable,
    /// A non-allocated section with contents, loaded anyway.
    NonAllocSection,
    /// Relocations for a section the kernel does not relocate.
    IgnoredRelocations,
    /// The file's name does not match the module's name.
    FileName,
    /// The `.plist` beside the module is too large.
    PlistTooLarge,
    /// A REL section on a port whose kernel linker applies only RELA
    /// ones (where it panics instead, the call site says so).
    RelNotApplied,
    /// A relocation type the kernel's linker accepts but, as written,
    /// applies wrongly.
    MisappliedRelocation,
    /// A branch to a symbol outside the module, whose reach depends on
    /// where the kernel places the module.
    BranchRange,
}

/// A check's metadata: what a finding of it is unless its call site says
/// otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckInfo {
    /// The stable name in the JSON report.
    pub name: &'static str,
    pub stage: Stage,
    /// What the kernel would return (for findings that are not refusals,
    /// the errno it most likely returns, or the closest one when the
    /// kernel would misbehave instead of refusing).
    pub errno: Errno,
    pub certainty: Certainty,
    /// `MODCTL_LOAD_FORCE` (`modload -f`) overrides it.
    pub forceable: bool,
}

const fn row(
    name: &'static str,
    stage: Stage,
    errno: Errno,
    certainty: Certainty,
    forceable: bool,
) -> CheckInfo {
    CheckInfo {
        name,
        stage,
        errno,
        certainty,
        forceable,
    }
}

impl Check {
    /// The check's metadata. A `match` rather than an array, so that the
    /// compiler refuses a check without a row.
    #[rustfmt::skip]
    pub const fn info(self) -> CheckInfo {
        use Certainty as C;
        use Check as K;
        use Stage as S;
        match self {
            // check                 =>     JSON name                stage        errno                  certainty    -f
            K::FileChanged           => row("FileChanged",           S::Load,     Errno::EINVAL,         C::Refused,  false),
            K::Truncated             => row("Truncated",             S::Load,     Errno::EINVAL,         C::Refused,  false),
            K::NotElf                => row("NotElf",                S::Load,     Errno::ENOEXEC,        C::Refused,  false),
            K::ElfVersion            => row("ElfVersion",            S::Load,     Errno::ENOEXEC,        C::Refused,  false),
            K::FileType              => row("FileType",              S::Load,     Errno::ENOEXEC,        C::Refused,  false),
            K::Machine               => row("Machine",               S::Load,     Errno::ENOEXEC,        C::Refused,  false),
            K::ElfClass              => row("ElfClass",              S::Load,     Errno::ENOEXEC,        C::Refused,  false),
            K::ByteOrder             => row("ByteOrder",             S::Load,     Errno::ENOEXEC,        C::Refused,  false),
            K::UnknownMachine        => row("UnknownMachine",        S::Advisory, Errno::ENOEXEC,        C::Advisory, false),
            K::SectionTable          => row("SectionTable",          S::Load,     Errno::ENOEXEC,        C::Refused,  false),
            K::RelocationTarget      => row("RelocationTarget",      S::Load,     Errno::ENOEXEC,        C::Harmful,  false),
            K::NoContents            => row("NoContents",            S::Load,     Errno::ENOEXEC,        C::Refused,  false),
            K::SymbolTable           => row("SymbolTable",           S::Load,     Errno::ENOEXEC,        C::Refused,  false),
            K::NoSymbols             => row("NoSymbols",             S::Load,     Errno::ENOEXEC,        C::Refused,  false),
            K::NoSymbolStrings       => row("NoSymbolStrings",       S::Load,     Errno::ENOEXEC,        C::Refused,  false),
            K::SectionNames          => row("SectionNames",          S::Load,     Errno::ENOEXEC,        C::Refused,  false),
            K::Alignment             => row("Alignment",             S::Load,     Errno::ENOEXEC,        C::Harmful,  false),
            K::NoText                => row("NoText",                S::Load,     Errno::ENOEXEC,        C::Refused,  false),
            K::NoData                => row("NoData",                S::Load,     Errno::ENOEXEC,        C::Refused,  false),
            K::NoRodata              => row("NoRodata",              S::Load,     Errno::ENOEXEC,        C::Refused,  false),
            K::ContentOutsideFile    => row("ContentOutsideFile",    S::Load,     Errno::EINVAL,         C::Refused,  false),
            K::SymbolClash           => row("SymbolClash",           S::Load,     Errno::ENOEXEC,        C::Refused,  false),
            K::UnsupportedRelocation => row("UnsupportedRelocation", S::Load,     Errno::ENOEXEC,        C::Refused,  false),
            K::LocalUndefined        => row("LocalUndefined",        S::Load,     Errno::ENOEXEC,        C::Refused,  false),
            K::CommonSymbol          => row("CommonSymbol",          S::Load,     Errno::ENOEXEC,        C::Harmful,  false),
            K::LinkSetMissing        => row("LinkSetMissing",        S::Load,     Errno::ENOENT,         C::Refused,  false),
            K::LinkSetSize           => row("LinkSetSize",           S::Load,     Errno::ENOEXEC,        C::Refused,  false),
            K::UnrelocatedPointer    => row("UnrelocatedPointer",    S::Load,     Errno::ENOEXEC,        C::Harmful,  false),
            K::GlobalPointerReloc    => row("GlobalPointerReloc",    S::Load,     Errno::ENOEXEC,        C::Harmful,  false),
            K::UndecodablePointer    => row("UndecodablePointer",    S::Load,     Errno::ENOEXEC,        C::Harmful,  false),
            K::PointerOutsideSection => row("PointerOutsideSection", S::Load,     Errno::ENOEXEC,        C::Harmful,  false),
            K::StringWithoutNul      => row("StringWithoutNul",      S::Info,     Errno::ENOEXEC,        C::Harmful,  false),
            K::NameLength            => row("NameLength",            S::Info,     Errno::EINVAL,         C::Refused,  false),
            K::EmptyName             => row("EmptyName",             S::Advisory, Errno::EINVAL,         C::Advisory, false),
            K::Class                 => row("Class",                 S::Info,     Errno::EINVAL,         C::Refused,  false),
            K::Version               => row("Version",               S::Info,     Errno::EPROGMISMATCH,  C::Refused,  true),
            K::RequiredLength        => row("RequiredLength",        S::Info,     Errno::EINVAL,         C::Refused,  false),
            K::TooManyRequired       => row("TooManyRequired",       S::Info,     Errno::EINVAL,         C::Refused,  false),
            K::SelfDependency        => row("SelfDependency",        S::Info,     Errno::EDEADLK,        C::Refused,  false),
            K::NoModcmd              => row("NoModcmd",              S::Info,     Errno::ENOEXEC,        C::Harmful,  false),
            K::UnresolvedSymbol      => row("UnresolvedSymbol",      S::Link,     Errno::ENOEXEC,        C::Refused,  false),
            K::WeakUndefined         => row("WeakUndefined",         S::Link,     Errno::ENOEXEC,        C::Refused,  false),
            K::RelocationSymbolIndex => row("RelocationSymbolIndex", S::Load,     Errno::ENOEXEC,        C::Harmful,  false),
            K::RelocationOffset      => row("RelocationOffset",      S::Load,     Errno::ENOEXEC,        C::Harmful,  false),
            K::SectionOverlap        => row("SectionOverlap",        S::Load,     Errno::ENOEXEC,        C::Harmful,  false),
            K::StringTable           => row("StringTable",           S::Load,     Errno::ENOEXEC,        C::Harmful,  false),
            K::NonAllocSection       => row("NonAllocSection",       S::Advisory, Errno::ENOEXEC,        C::Advisory, false),
            K::IgnoredRelocations    => row("IgnoredRelocations",    S::Advisory, Errno::ENOEXEC,        C::Advisory, false),
            K::FileName              => row("FileName",              S::Advisory, Errno::ENOENT,         C::Advisory, false),
            K::PlistTooLarge         => row("PlistTooLarge",         S::Load,     Errno::EFBIG,          C::Refused,  false),
            K::RelNotApplied         => row("RelNotApplied",         S::Load,     Errno::ENOEXEC,        C::Refused,  false),
            K::MisappliedRelocation  => row("MisappliedRelocation",  S::Load,     Errno::ENOEXEC,        C::Harmful,  false),
            K::BranchRange           => row("BranchRange",           S::Advisory, Errno::ENOEXEC,        C::Advisory, false),
        }
    }

    /// The check's stable name, as the JSON report spells it.
    pub const fn name(self) -> &'static str {
        self.info().name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The JSON names, written out once more: changing one in the table
    /// changes the dry run's JSON, and must be done here too, on purpose.
    #[rustfmt::skip]
    const PINNED: &[(Check, &str)] = &[
        (Check::FileChanged, "FileChanged"),
        (Check::Truncated, "Truncated"),
        (Check::NotElf, "NotElf"),
        (Check::ElfVersion, "ElfVersion"),
        (Check::FileType, "FileType"),
        (Check::Machine, "Machine"),
        (Check::ElfClass, "ElfClass"),
        (Check::ByteOrder, "ByteOrder"),
        (Check::UnknownMachine, "UnknownMachine"),
        (Check::SectionTable, "SectionTable"),
        (Check::RelocationTarget, "RelocationTarget"),
        (Check::NoContents, "NoContents"),
        (Check::SymbolTable, "SymbolTable"),
        (Check::NoSymbols, "NoSymbols"),
        (Check::NoSymbolStrings, "NoSymbolStrings"),
        (Check::SectionNames, "SectionNames"),
        (Check::Alignment, "Alignment"),
        (Check::NoText, "NoText"),
        (Check::NoData, "NoData"),
        (Check::NoRodata, "NoRodata"),
        (Check::ContentOutsideFile, "ContentOutsideFile"),
        (Check::SymbolClash, "SymbolClash"),
        (Check::UnsupportedRelocation, "UnsupportedRelocation"),
        (Check::LocalUndefined, "LocalUndefined"),
        (Check::CommonSymbol, "CommonSymbol"),
        (Check::LinkSetMissing, "LinkSetMissing"),
        (Check::LinkSetSize, "LinkSetSize"),
        (Check::UnrelocatedPointer, "UnrelocatedPointer"),
        (Check::GlobalPointerReloc, "GlobalPointerReloc"),
        (Check::UndecodablePointer, "UndecodablePointer"),
        (Check::PointerOutsideSection, "PointerOutsideSection"),
        (Check::StringWithoutNul, "StringWithoutNul"),
        (Check::NameLength, "NameLength"),
        (Check::EmptyName, "EmptyName"),
        (Check::Class, "Class"),
        (Check::Version, "Version"),
        (Check::RequiredLength, "RequiredLength"),
        (Check::TooManyRequired, "TooManyRequired"),
        (Check::SelfDependency, "SelfDependency"),
        (Check::NoModcmd, "NoModcmd"),
        (Check::UnresolvedSymbol, "UnresolvedSymbol"),
        (Check::WeakUndefined, "WeakUndefined"),
        (Check::RelocationSymbolIndex, "RelocationSymbolIndex"),
        (Check::RelocationOffset, "RelocationOffset"),
        (Check::SectionOverlap, "SectionOverlap"),
        (Check::StringTable, "StringTable"),
        (Check::NonAllocSection, "NonAllocSection"),
        (Check::IgnoredRelocations, "IgnoredRelocations"),
        (Check::FileName, "FileName"),
        (Check::PlistTooLarge, "PlistTooLarge"),
        (Check::RelNotApplied, "RelNotApplied"),
        (Check::MisappliedRelocation, "MisappliedRelocation"),
        (Check::BranchRange, "BranchRange"),
    ];

    #[test]
    fn every_check_has_its_pinned_json_name() {
        for c in Check::ALL {
            let pinned = PINNED.iter().find(|(p, _)| p == c);
            assert_eq!(pinned.map(|p| p.1), Some(c.name()), "{c:?}");
        }
        assert_eq!(PINNED.len(), Check::ALL.len());
    }

    #[test]
    fn json_names_are_unique() {
        let mut names: Vec<&str> = Check::ALL.iter().map(|c| c.name()).collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(names.len(), before, "a JSON name is used twice");
    }

    #[test]
    fn the_table_is_consistent() {
        for c in Check::ALL {
            let i = c.info();
            // Advisories and only they are at the advisory stage.
            assert_eq!(
                i.certainty == Certainty::Advisory,
                i.stage == Stage::Advisory,
                "{c:?}"
            );
            // -f overrides only what the kernel would refuse.
            assert!(!i.forceable || i.certainty == Certainty::Refused, "{c:?}");
        }
    }
}
