//! The validator against the example module and edited copies of it.

use object::elf;

use super::*;

fn example() -> Vec<u8> {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/modules/example/example.kmod");
    std::fs::read(p).unwrap()
}

/// Offset of field `at` of section header `i` (ELF64, LE).
fn shdr_field(data: &[u8], i: usize, at: usize) -> usize {
    let shoff = u64::from_le_bytes(data[0x28..0x30].try_into().unwrap()) as usize;
    shoff + i * 64 + at
}

#[test]
fn a_file_truncated_while_being_read_is_one_certain_finding() {
    use crate::kmod::tests::{big_module_file, open_cut_after};
    use crate::kmod::ReadStage;
    let t = Target::new(1001000000, "amd64");
    let path = big_module_file("validate");
    let whole = validate(&Kmod::open(&path).unwrap(), &t);
    assert!(whole.iter().all(|f| !f.certain), "{whole:#?}");
    // Cut before the section headers once the ELF header was read.
    let k = open_cut_after(&path, ReadStage::Header, 8192);
    let findings = validate(&k, &t);
    let with_symbols = validate_with_symbols(&k, &t, &|_| true);
    std::fs::remove_file(&path).unwrap();
    let expected = Finding {
        check: Check::FileChanged,
        stage: Stage::Load,
        errno: Errno::EINVAL,
        detail: Detail::FileChanged,
        certain: true,
        forceable: false,
    };
    assert_eq!(findings, vec![expected.clone()]);
    assert_eq!(
        findings[0].reason(),
        "the file changed (was truncated) while it was being read"
    );
    assert_eq!(with_symbols, vec![expected]);
    assert_eq!(kernel_errno(&findings, true), Some(Errno::EINVAL));
    // Its descriptor was read before, but the file's name is not
    // judged against it any more.
    assert!(file_findings("/nonexistent/other.kmod", &k).is_empty());
}

fn findings_of(data: Vec<u8>) -> Vec<Finding> {
    validate(&Kmod::from_bytes(data), &Target::new(1001000000, "amd64"))
}

fn blocking(data: Vec<u8>) -> Option<Finding> {
    findings_of(data).into_iter().find(|f| f.blocks(false))
}

#[test]
fn good_example_has_no_blocking_finding() {
    assert_eq!(blocking(example()), None);
}

#[test]
fn overlapping_sections_block() {
    // .rela.text (2) moved onto .rela.rodata (4).
    let mut d = example();
    let off = d[shdr_field(&d, 4, 24)..][..8].to_vec();
    let at = shdr_field(&d, 2, 24);
    d[at..at + 8].copy_from_slice(&off);
    let f = blocking(d).unwrap();
    assert_eq!((f.check, f.certain), (Check::SectionOverlap, false));
    assert!(f.reason().contains(".rela.text") && f.reason().contains(".rela.rodata"));
}

#[test]
fn string_table_without_nul_blocks() {
    // .strtab (12) one byte shorter: its last name loses its NUL.
    let mut d = example();
    let at = shdr_field(&d, 12, 32);
    let size = u64::from_le_bytes(d[at..at + 8].try_into().unwrap());
    d[at..at + 8].copy_from_slice(&(size - 1).to_le_bytes());
    let f = blocking(d).unwrap();
    assert_eq!(f.check, Check::StringTable);
    assert!(f.reason().contains("NUL"), "{}", f.reason());
}

#[test]
fn relocation_outside_its_section_blocks() {
    // First .rela.text entry (section 2) moved to offset 0x1000.
    let mut d = example();
    let rel = u64::from_le_bytes(d[shdr_field(&d, 2, 24)..][..8].try_into().unwrap());
    let at = rel as usize;
    d[at..at + 8].copy_from_slice(&0x1000u64.to_le_bytes());
    let f = blocking(d).unwrap();
    assert_eq!(
        (f.check, f.errno),
        (Check::RelocationOffset, Errno::ENOEXEC)
    );
    assert!(f.reason().contains("offset 0x1000"), "{}", f.reason());
}

#[test]
fn a_relocation_like_the_last_good_one_but_outside_still_blocks() {
    // The second .rela.text entry gets the first's type and symbol (a
    // run the scan checks by place only) and an offset past the section.
    let mut d = example();
    let rel = u64::from_le_bytes(d[shdr_field(&d, 2, 24)..][..8].try_into().unwrap()) as usize;
    let info = d[rel + 8..rel + 16].to_vec();
    d[rel + 24 + 8..rel + 24 + 16].copy_from_slice(&info);
    assert_eq!(blocking(d.clone()), None);
    d[rel + 24..rel + 24 + 8].copy_from_slice(&0x1000u64.to_le_bytes());
    let f = blocking(d).unwrap();
    assert_eq!(f.check, Check::RelocationOffset);
    assert!(f.reason().contains("offset 0x1000"), "{}", f.reason());
}

#[test]
fn certain_refusals_win_over_harm() {
    // Both a bad alignment (harm) and no text (refusal): NetBSD's errno
    // is the refusal's, whatever comes first in the list.
    let mut d = example();
    let at = shdr_field(&d, 1, 48);
    d[at..at + 8].copy_from_slice(&0u64.to_le_bytes());
    let at = shdr_field(&d, 1, 32);
    d[at..at + 8].copy_from_slice(&0u64.to_le_bytes());
    let findings = findings_of(d);
    assert_eq!(
        findings.iter().find(|f| f.blocks(false)).unwrap().check,
        Check::Alignment
    );
    let f = blocking_finding(&findings, 0).unwrap();
    assert_eq!(f.check, Check::NoText);
}

#[test]
fn version_rule_for_releases_and_current() {
    // Release: only the patch digits may differ.
    assert!(version_compatible(1001000000, 1001000000));
    assert!(version_compatible(1001000100, 1001000000));
    assert!(!version_compatible(1000000000, 1001000000));
    assert!(!version_compatible(903000000, 1001000000));
    assert!(!version_compatible(902000000, 903000000));
    // -current: exact.
    assert!(version_compatible(1099001200, 1099001200));
    assert!(!version_compatible(1099001100, 1099001200));
    assert!(!version_compatible(1099001201, 1099001200));
}

#[test]
fn rules_follow_the_kernel_version() {
    let r8 = KernelRules::for_target(&Target::new(800000000, "amd64"));
    let r10 = KernelRules::for_target(&Target::new(1001000000, "amd64"));
    let r7 = KernelRules::for_target(&Target::new(703000000, "amd64"));
    assert_eq!(
        r8.accepts_relocation(elf::EM_X86_64, elf::R_X86_64_PLT32),
        Some(false)
    );
    assert_eq!(
        r10.accepts_relocation(elf::EM_X86_64, elf::R_X86_64_PLT32),
        Some(true)
    );
    assert_eq!(
        r10.accepts_relocation(elf::EM_X86_64, elf::R_X86_64_PC64),
        Some(false)
    );
    assert_eq!(
        r10.accepts_relocation(elf::EM_386, elf::R_386_PC32),
        Some(true)
    );
    assert_eq!(r10.accepts_relocation(elf::EM_AARCH64, 283), Some(true));
    assert_eq!(r10.accepts_relocation(0x1234, 1), None);
    let r799 = KernelRules::for_target(&Target::new(799003400, "amd64"));
    assert_eq!(r10.regions, RegionRule::TextRequired);
    assert_eq!(r8.regions, RegionRule::TextRequired);
    assert_eq!(r799.regions, RegionRule::EveryRegionRequired);
    assert_eq!(r7.regions, RegionRule::SingleRegion);
    assert_eq!(r799.max_depth, Some(6));
    assert_eq!(r8.max_depth, Some(6));
    assert_eq!(r10.max_depth, None);
    assert!(r10.class_checked && !r7.class_checked);
    assert_eq!(r10.class_max, 7);
    assert_eq!(r7.class_max, 6);
    assert_eq!(r8.max_required, Some(9));
    assert_eq!(r10.max_required, None);
    assert!(Target::new(1099001200, "amd64").is_current());
    assert!(!Target::new(1001000000, "amd64").is_current());
}

#[test]
fn first_certain_finding_gives_the_errno() {
    let f = |errno, certain, forceable| Finding {
        check: Check::Version,
        stage: Stage::Info,
        errno,
        detail: Detail::NoModcmd,
        certain,
        forceable,
    };
    let list = vec![
        f(Errno::ENOEXEC, false, false),
        f(Errno::EPROGMISMATCH, true, true),
        f(Errno::EDEADLK, true, false),
    ];
    assert_eq!(kernel_errno(&list, false), Some(Errno::EPROGMISMATCH));
    assert_eq!(kernel_errno(&list, true), Some(Errno::EDEADLK));
    assert_eq!(kernel_errno(&list[..1], false), None);
}

#[test]
fn random_bytes_are_not_elf() {
    let k = Kmod::from_bytes(vec![0x42; 200]);
    let f = validate(&k, &Target::new(1001000000, "amd64"));
    assert_eq!(f[0].check, Check::NotElf);
    assert_eq!(f[0].errno, Errno::ENOEXEC);
    assert_eq!(f.len(), 1);
}

#[test]
fn a_tiny_file_is_truncated() {
    let k = Kmod::from_bytes(b"\x7fELF".to_vec());
    let f = validate(&k, &Target::new(1001000000, "amd64"));
    assert_eq!(f[0].check, Check::Truncated);
    assert_eq!(f[0].errno, Errno::EINVAL);
}

#[test]
fn a_changed_file_has_the_readers_errno() {
    // The reader and the emulator use the constant; the table must agree.
    assert_eq!(
        Check::FileChanged.info().errno,
        crate::kmod::FILE_CHANGED_ERRNO
    );
}
