//! What a finding (or a note of the descriptor's decoder) says, as data:
//! each check names the values it found, and [`text`] alone words them,
//! so a sentence is written in one place and a check only decides.
//!
//! The values are the file's own (indices, offsets, sizes, raw names as
//! bytes) or the tables' (`&'static` facts of [`crate::machine`]); names
//! are made printable only when they are worded.

use libmodctl::ModName;

use crate::machine::{ElfClass, Endian};

#[cfg(test)]
mod tests;
mod text;

pub(crate) use text::section_type_name;
#[cfg(test)]
pub(crate) use text::{printable, printable_bytes};
pub use text::{Unforced, FILE_CHANGED_REASON};

/// Which pointer of the module descriptor a decoding note is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    LinkSet,
    Descriptor,
    Name,
    Required,
    Modcmd,
}

/// A section, by index, with its name when it has one worth saying.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionRef {
    pub index: u32,
    /// The name's bytes as the section-name table holds them.
    pub name: Option<Vec<u8>>,
}

/// A place in a section: where a relocation applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub section: SectionRef,
    pub offset: u64,
}

/// A relocation type of a machine's objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RelocType {
    pub e_machine: u16,
    pub r_type: u32,
}

/// A run of file bytes an overlap names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extent {
    pub what: Region,
    pub start: u64,
    pub end: u64,
}

/// What occupies bytes of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Region {
    ElfHeader,
    SectionTable,
    Section(SectionRef),
}

/// Which string table a check is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StringTable {
    Symbols,
    SectionNames,
}

/// What a finding says, with the values it names. `count` members count
/// the problems of one kind, the first of which is named.
#[derive(Debug, Clone, PartialEq)]
pub enum Detail {
    // The file and what lies beside it.
    FileChanged,
    FileName {
        file: String,
        module: ModName,
    },
    PlistTooLarge {
        path: String,
        size: u64,
        limit: u64,
    },

    // The ELF header and the section header table.
    UnknownMachine {
        machine: String,
    },
    ShortHeader {
        size: u64,
        header: u64,
    },
    NotElf {
        magic: [u8; 4],
    },
    ElfVersion {
        ident: u8,
        header: u32,
    },
    FileType {
        e_type: u16,
    },
    /// `kernel` is the target's machine name.
    Machine {
        e_machine: u16,
        kernel: String,
    },
    /// `file` is the raw `EI_CLASS` byte.
    ElfClass {
        file: u8,
        kernel: String,
        reads: ElfClass,
    },
    /// `file` is the raw `EI_DATA` byte.
    ByteOrder {
        file: u8,
        kernel: String,
        reads: Endian,
    },
    NoSections,
    TooManySections {
        shnum: u16,
        max: u16,
    },
    NoSectionTable,
    SectionHeaderSize {
        size: u16,
        want: u64,
    },
    SectionTablePastEnd {
        entries: u16,
        offset: u64,
        file_size: u64,
    },

    // The section scan.
    RelocationTargetMissing {
        section: SectionRef,
        target: u32,
    },
    NoContents,
    NoSymbolTable,
    SymbolTables {
        count: usize,
    },
    SymbolStringsLink {
        link: u32,
    },
    NoSymbols,
    NoSymbolStrings,
    SectionNamesIndex {
        shstrndx: u16,
        shnum: u32,
    },
    OutsideFile {
        section: SectionRef,
        size: u64,
        offset: u64,
        file_size: u64,
    },
    SymbolNameOffset {
        symbol: u32,
        offset: u32,
        table: SectionRef,
        size: u64,
        count: u64,
    },
    SectionNameOffset {
        section: u32,
        offset: u32,
        table: SectionRef,
        size: u64,
        count: u64,
    },
    Unterminated {
        table: StringTable,
        section: SectionRef,
    },
    /// `part` starts inside `with`.
    Overlap {
        part: Extent,
        with: Extent,
        count: u64,
    },
    Alignment {
        section: SectionRef,
        align: u64,
    },
    NoLoadable,
    NoText {
        other: u64,
    },
    NoData,
    NoRodata,
    NonAlloc {
        section: SectionRef,
        size: u64,
    },
    IgnoredRelocations {
        section: SectionRef,
        target: SectionRef,
        target_type: u32,
    },

    // Symbols.
    SymbolClash {
        name: String,
    },
    Unresolved {
        name: String,
    },
    /// The first few common symbols.
    Common {
        names: Vec<Vec<u8>>,
    },

    // Relocations. `symbol` is the name of the symbol relocated against
    // (empty when it has none).
    RelocSymbolIndex {
        at: Place,
        symbol: u32,
        symcount: u64,
        count: u64,
    },
    RelocOutside {
        at: Place,
        width: u64,
        size: u64,
        count: u64,
    },
    BranchRange {
        reloc: RelocType,
        at: Place,
        symbol: Vec<u8>,
        reach: &'static str,
        checked: bool,
        count: u64,
    },
    /// `since`: the release that first applies it, and why modules have it.
    Unsupported {
        reloc: RelocType,
        at: Place,
        symbol: Vec<u8>,
        since: Option<(u32, &'static str)>,
        count: u64,
    },
    Misapplied {
        reloc: RelocType,
        at: Place,
        symbol: Vec<u8>,
        why: &'static str,
        count: u64,
    },
    RelNotApplied {
        e_machine: u16,
        at: Place,
        symbol: Vec<u8>,
        panics: bool,
        count: u64,
    },
    LocalUndefined {
        at: Place,
        index: u32,
        count: u64,
    },
    WeakUndefined {
        at: Place,
        symbol: Vec<u8>,
        count: u64,
    },
    UnusualBinding {
        at: Place,
        symbol: Vec<u8>,
        count: u64,
    },

    // The descriptor as `module_do_load` checks it.
    NameAtLeast {
        length: u64,
        limit: usize,
    },
    NameTooLong {
        name: ModName,
        limit: usize,
    },
    EmptyName,
    /// `unchecked_by`: the release of a kernel that does not check.
    Class {
        class: i32,
        max: i32,
        unchecked_by: Option<u32>,
    },
    Version {
        module: u32,
        kernel: u32,
        current: bool,
    },
    RequiredTooLong {
        name: ModName,
        limit: usize,
    },
    TooManyRequired {
        count: usize,
        kernel: u32,
        max: usize,
    },
    SelfDependency {
        name: ModName,
    },
    NoModcmd,
    /// A decoding note the kernel would read garbage over.
    Unreadable(Box<Detail>),

    // Decoding the descriptor.
    NoSectionNameTable,
    NoLinkSet,
    LinkSetSize {
        size: u64,
        pointer: u64,
    },
    NullLinkSet,
    NullName,
    FixedPointer {
        field: Field,
        raw: u64,
    },
    PointerType {
        field: Field,
        reloc: RelocType,
        pointer: u64,
    },
    GlobalPointer {
        field: Field,
        symbol: Vec<u8>,
        raw: u64,
    },
    PointerWithoutSymbols {
        field: Field,
    },
    PointerSymbolIndex {
        field: Field,
        symbol: u32,
        symcount: u64,
        raw: u64,
    },
    FixedAddress {
        field: Field,
        value: u64,
    },
    PointsUndefined {
        field: Field,
        symbol: Vec<u8>,
    },
    PointsSpecial {
        field: Field,
        symbol: Vec<u8>,
        shndx: u16,
    },
    NoSuchSection {
        field: Field,
        section: u32,
    },
    NotLoaded {
        field: Field,
        section: u32,
        sh_type: u32,
    },
    FieldOutside {
        field: Field,
        offset: u64,
        section: SectionRef,
        size: u64,
        needed: u64,
    },
    PastEnd {
        section: SectionRef,
    },
    StringOutside {
        field: Field,
        offset: u64,
        section: SectionRef,
        size: u64,
    },
    StringTooLong {
        field: Field,
        max: usize,
    },
    /// `shown`: the string's first bytes.
    StringUnterminated {
        field: Field,
        shown: Vec<u8>,
        section: SectionRef,
        length: u64,
    },
}
