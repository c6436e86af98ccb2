//! The text renderer: every kind of finding says something, on one line.

use libmodctl::ModName;

use super::*;
use crate::machine::{ElfClass, Endian};

fn sec() -> SectionRef {
    SectionRef {
        index: 3,
        name: Some(b".text".to_vec()),
    }
}

fn place() -> Place {
    Place {
        section: sec(),
        offset: 0x10,
    }
}

fn reloc() -> RelocType {
    RelocType {
        e_machine: object::elf::EM_X86_64,
        r_type: object::elf::R_X86_64_PC32,
    }
}

/// One of every kind.
fn samples() -> Vec<Detail> {
    vec![
        Detail::FileChanged,
        Detail::FileName {
            file: "amd64".into(),
            module: ModName::new(b"mod\x01".to_vec()),
        },
        Detail::PlistTooLarge {
            path: "amd64".into(),
            size: 2,
            limit: 2,
        },
        Detail::UnknownMachine {
            machine: "amd64".into(),
        },
        Detail::ShortHeader { size: 2, header: 2 },
        Detail::NotElf { magic: *b"MZ\0\0" },
        Detail::ElfVersion {
            ident: 2,
            header: 2,
        },
        Detail::FileType { e_type: 2 },
        Detail::Machine {
            e_machine: 2,
            kernel: "amd64".into(),
        },
        Detail::ElfClass {
            file: 2,
            kernel: "amd64".into(),
            reads: ElfClass::Elf64,
        },
        Detail::ByteOrder {
            file: 2,
            kernel: "amd64".into(),
            reads: Endian::Little,
        },
        Detail::NoSections,
        Detail::TooManySections { shnum: 2, max: 2 },
        Detail::NoSectionTable,
        Detail::SectionHeaderSize { size: 2, want: 2 },
        Detail::SectionTablePastEnd {
            entries: 2,
            offset: 2,
            file_size: 2,
        },
        Detail::RelocationTargetMissing {
            section: sec(),
            target: 2,
        },
        Detail::NoContents,
        Detail::NoSymbolTable,
        Detail::SymbolTables { count: 2 },
        Detail::SymbolStringsLink { link: 2 },
        Detail::NoSymbols,
        Detail::NoSymbolStrings,
        Detail::SectionNamesIndex {
            shstrndx: 2,
            shnum: 2,
        },
        Detail::OutsideFile {
            section: sec(),
            size: 2,
            offset: 2,
            file_size: 2,
        },
        Detail::SymbolNameOffset {
            symbol: 2,
            offset: 2,
            table: sec(),
            size: 2,
            count: 2,
        },
        Detail::SectionNameOffset {
            section: 2,
            offset: 2,
            table: sec(),
            size: 2,
            count: 2,
        },
        Detail::Unterminated {
            table: StringTable::Symbols,
            section: sec(),
        },
        Detail::Overlap {
            part: Extent {
                what: Region::ElfHeader,
                start: 0,
                end: 64,
            },
            with: Extent {
                what: Region::ElfHeader,
                start: 0,
                end: 64,
            },
            count: 2,
        },
        Detail::Alignment {
            section: sec(),
            align: 2,
        },
        Detail::NoLoadable,
        Detail::NoText { other: 2 },
        Detail::NoData,
        Detail::NoRodata,
        Detail::NonAlloc {
            section: sec(),
            size: 2,
        },
        Detail::IgnoredRelocations {
            section: sec(),
            target: sec(),
            target_type: 2,
        },
        Detail::SymbolClash {
            name: "amd64".into(),
        },
        Detail::Unresolved {
            name: "amd64".into(),
        },
        Detail::Common {
            names: vec![b"a".to_vec(), b"b".to_vec()],
        },
        Detail::RelocSymbolIndex {
            at: place(),
            symbol: 2,
            symcount: 2,
            count: 2,
        },
        Detail::RelocOutside {
            at: place(),
            width: 2,
            size: 2,
            count: 2,
        },
        Detail::BranchRange {
            reloc: reloc(),
            at: place(),
            symbol: b"sym".to_vec(),
            reach: "a reason",
            checked: true,
            count: 2,
        },
        Detail::Unsupported {
            reloc: reloc(),
            at: place(),
            symbol: b"sym".to_vec(),
            since: Some((1_000_000_000, "why")),
            count: 2,
        },
        Detail::Misapplied {
            reloc: reloc(),
            at: place(),
            symbol: b"sym".to_vec(),
            why: "a reason",
            count: 2,
        },
        Detail::RelNotApplied {
            e_machine: 2,
            at: place(),
            symbol: b"sym".to_vec(),
            panics: true,
            count: 2,
        },
        Detail::LocalUndefined {
            at: place(),
            index: 2,
            count: 2,
        },
        Detail::WeakUndefined {
            at: place(),
            symbol: b"sym".to_vec(),
            count: 2,
        },
        Detail::UnusualBinding {
            at: place(),
            symbol: b"sym".to_vec(),
            count: 2,
        },
        Detail::NameAtLeast {
            length: 2,
            limit: 2,
        },
        Detail::NameTooLong {
            name: ModName::new(b"mod\x01".to_vec()),
            limit: 2,
        },
        Detail::EmptyName,
        Detail::Class {
            class: 9,
            max: 9,
            unchecked_by: Some(900_000_000),
        },
        Detail::Version {
            module: 2,
            kernel: 2,
            current: true,
        },
        Detail::RequiredTooLong {
            name: ModName::new(b"mod\x01".to_vec()),
            limit: 2,
        },
        Detail::TooManyRequired {
            count: 2,
            kernel: 2,
            max: 2,
        },
        Detail::SelfDependency {
            name: ModName::new(b"mod\x01".to_vec()),
        },
        Detail::NoModcmd,
        Detail::Unreadable(Box::new(Detail::NullName)),
        Detail::NoSectionNameTable,
        Detail::NoLinkSet,
        Detail::LinkSetSize {
            size: 2,
            pointer: 2,
        },
        Detail::NullLinkSet,
        Detail::NullName,
        Detail::FixedPointer {
            field: Field::Name,
            raw: 2,
        },
        Detail::PointerType {
            field: Field::Name,
            reloc: reloc(),
            pointer: 2,
        },
        Detail::GlobalPointer {
            field: Field::Name,
            symbol: b"sym".to_vec(),
            raw: 2,
        },
        Detail::PointerWithoutSymbols { field: Field::Name },
        Detail::PointerSymbolIndex {
            field: Field::Name,
            symbol: 2,
            symcount: 2,
            raw: 2,
        },
        Detail::FixedAddress {
            field: Field::Name,
            value: 2,
        },
        Detail::PointsUndefined {
            field: Field::Name,
            symbol: b"sym".to_vec(),
        },
        Detail::PointsSpecial {
            field: Field::Name,
            symbol: b"sym".to_vec(),
            shndx: 2,
        },
        Detail::NoSuchSection {
            field: Field::Name,
            section: 2,
        },
        Detail::NotLoaded {
            field: Field::Name,
            section: 2,
            sh_type: 2,
        },
        Detail::FieldOutside {
            field: Field::Name,
            offset: 2,
            section: sec(),
            size: 2,
            needed: 2,
        },
        Detail::PastEnd { section: sec() },
        Detail::StringOutside {
            field: Field::Name,
            offset: 2,
            section: sec(),
            size: 2,
        },
        Detail::StringTooLong {
            field: Field::Name,
            max: 2,
        },
        Detail::StringUnterminated {
            field: Field::Name,
            shown: b"sym".to_vec(),
            section: sec(),
            length: 2,
        },
    ]
}

/// The kind's place in [`samples`]: a kind added to [`Detail`] fails to
/// compile here until it has a sample.
fn kind(d: &Detail) -> usize {
    match d {
        Detail::FileChanged => 0,
        Detail::FileName { .. } => 1,
        Detail::PlistTooLarge { .. } => 2,
        Detail::UnknownMachine { .. } => 3,
        Detail::ShortHeader { .. } => 4,
        Detail::NotElf { .. } => 5,
        Detail::ElfVersion { .. } => 6,
        Detail::FileType { .. } => 7,
        Detail::Machine { .. } => 8,
        Detail::ElfClass { .. } => 9,
        Detail::ByteOrder { .. } => 10,
        Detail::NoSections => 11,
        Detail::TooManySections { .. } => 12,
        Detail::NoSectionTable => 13,
        Detail::SectionHeaderSize { .. } => 14,
        Detail::SectionTablePastEnd { .. } => 15,
        Detail::RelocationTargetMissing { .. } => 16,
        Detail::NoContents => 17,
        Detail::NoSymbolTable => 18,
        Detail::SymbolTables { .. } => 19,
        Detail::SymbolStringsLink { .. } => 20,
        Detail::NoSymbols => 21,
        Detail::NoSymbolStrings => 22,
        Detail::SectionNamesIndex { .. } => 23,
        Detail::OutsideFile { .. } => 24,
        Detail::SymbolNameOffset { .. } => 25,
        Detail::SectionNameOffset { .. } => 26,
        Detail::Unterminated { .. } => 27,
        Detail::Overlap { .. } => 28,
        Detail::Alignment { .. } => 29,
        Detail::NoLoadable => 30,
        Detail::NoText { .. } => 31,
        Detail::NoData => 32,
        Detail::NoRodata => 33,
        Detail::NonAlloc { .. } => 34,
        Detail::IgnoredRelocations { .. } => 35,
        Detail::SymbolClash { .. } => 36,
        Detail::Unresolved { .. } => 37,
        Detail::Common { .. } => 38,
        Detail::RelocSymbolIndex { .. } => 39,
        Detail::RelocOutside { .. } => 40,
        Detail::BranchRange { .. } => 41,
        Detail::Unsupported { .. } => 42,
        Detail::Misapplied { .. } => 43,
        Detail::RelNotApplied { .. } => 44,
        Detail::LocalUndefined { .. } => 45,
        Detail::WeakUndefined { .. } => 46,
        Detail::UnusualBinding { .. } => 47,
        Detail::NameAtLeast { .. } => 48,
        Detail::NameTooLong { .. } => 49,
        Detail::EmptyName => 50,
        Detail::Class { .. } => 51,
        Detail::Version { .. } => 52,
        Detail::RequiredTooLong { .. } => 53,
        Detail::TooManyRequired { .. } => 54,
        Detail::SelfDependency { .. } => 55,
        Detail::NoModcmd => 56,
        Detail::Unreadable(_) => 57,
        Detail::NoSectionNameTable => 58,
        Detail::NoLinkSet => 59,
        Detail::LinkSetSize { .. } => 60,
        Detail::NullLinkSet => 61,
        Detail::NullName => 62,
        Detail::FixedPointer { .. } => 63,
        Detail::PointerType { .. } => 64,
        Detail::GlobalPointer { .. } => 65,
        Detail::PointerWithoutSymbols { .. } => 66,
        Detail::PointerSymbolIndex { .. } => 67,
        Detail::FixedAddress { .. } => 68,
        Detail::PointsUndefined { .. } => 69,
        Detail::PointsSpecial { .. } => 70,
        Detail::NoSuchSection { .. } => 71,
        Detail::NotLoaded { .. } => 72,
        Detail::FieldOutside { .. } => 73,
        Detail::PastEnd { .. } => 74,
        Detail::StringOutside { .. } => 75,
        Detail::StringTooLong { .. } => 76,
        Detail::StringUnterminated { .. } => 77,
    }
}

#[test]
fn every_kind_has_a_sample() {
    let kinds: Vec<usize> = samples().iter().map(kind).collect();
    assert_eq!(kinds, (0..78).collect::<Vec<_>>());
}

/// Printed after `modload: <path>: `: one line, no final period.
#[test]
fn every_kind_says_one_line() {
    for d in samples() {
        let s = d.to_string();
        assert!(!s.is_empty(), "{d:?}");
        assert!(!s.contains(['\n', '\r']), "{d:?}: {s:?}");
        assert_eq!(s.trim(), s, "{d:?}");
        assert!(!s.ends_with('.'), "{d:?}: {s:?}");
    }
}

#[test]
fn names_from_the_file_are_made_printable() {
    let d = Detail::NameTooLong {
        name: ModName::new(b"a\nb".to_vec()),
        limit: 31,
    };
    assert_eq!(
        d.to_string(),
        "the module name `a\\nb` is 3 characters; the limit is 31"
    );
}

#[test]
fn counts_and_symbols_are_said_only_when_there_are_some() {
    let weak = |symbol: &[u8], count| Detail::WeakUndefined {
        at: place(),
        symbol: symbol.to_vec(),
        count,
    };
    assert_eq!(
        weak(b"", 1).to_string(),
        "relocation at section 3 (.text)+0x10: the symbol is an undefined weak symbol, which \
         the kernel's linker does not support"
    );
    assert_eq!(
        weak(b"f", 3).to_string(),
        "relocation at section 3 (.text)+0x10 against `f`: the symbol is an undefined weak \
         symbol, which the kernel's linker does not support (3 such relocations)"
    );
}

#[test]
fn a_section_is_named_when_it_has_a_name() {
    let bare = SectionRef {
        index: 7,
        name: None,
    };
    let empty = SectionRef {
        index: 7,
        name: Some(Vec::new()),
    };
    assert_eq!(bare.to_string(), "section 7");
    // The decoder names a section by whatever name it has, even "".
    assert_eq!(empty.to_string(), "section 7 ()");
    assert_eq!(
        Detail::PastEnd { section: bare }.to_string(),
        "section 7 extends past the end of the file"
    );
}

#[test]
fn a_descriptor_note_is_worded_inside_the_finding() {
    let d = Detail::Unreadable(Box::new(Detail::NullName));
    assert_eq!(
        d.to_string(),
        "the module descriptor cannot be read: mi_name is NULL; the kernel would dereference \
         it and crash"
    );
}

#[test]
fn the_file_changed_sentence_is_the_constant() {
    assert_eq!(Detail::FileChanged.to_string(), FILE_CHANGED_REASON);
}
