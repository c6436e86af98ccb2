//! The module reader and validator against the committed fixture objects
//! (built by tests/fixtures/build.sh; no compiler needed here).

use std::path::{Path, PathBuf};

use libmodctl::errno::Errno;
use modobj::kmod::{read_symbol_table, ElfClass, Endian, Kmod, Machine};
use modobj::path;
use modobj::validate::{
    clashing_symbols, file_findings, kernel_errno, required_symbols, unresolved_symbols, validate,
    validate_with_symbols, Check, Finding, Stage, Target,
};

const V10_1: u32 = 1001000000;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn modules_dir() -> String {
    fixtures().join("modules").to_str().unwrap().to_string()
}

fn open(rel: &str) -> Kmod {
    Kmod::open(&fixtures().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn good(name: &str) -> Kmod {
    Kmod::open(Path::new(&path::module_file(&modules_dir(), name))).unwrap()
}

fn certain(findings: &[Finding]) -> Vec<(Check, Errno)> {
    findings
        .iter()
        .filter(|f| f.certain)
        .map(|f| (f.check, f.errno))
        .collect()
}

/// (directory, machine, class, byte order, target machine name)
const PORTS: &[(&str, Machine, ElfClass, Endian, &str)] = &[
    (
        "amd64",
        Machine::Port("amd64"),
        ElfClass::Elf64,
        Endian::Little,
        "amd64",
    ),
    (
        "i386",
        Machine::Port("i386"),
        ElfClass::Elf32,
        Endian::Little,
        "i386",
    ),
    (
        "aarch64",
        Machine::Port("aarch64"),
        ElfClass::Elf64,
        Endian::Little,
        "aarch64",
    ),
    (
        "arm",
        Machine::Port("arm"),
        ElfClass::Elf32,
        Endian::Little,
        "earmv7hf",
    ),
    (
        "powerpc",
        Machine::Port("powerpc"),
        ElfClass::Elf32,
        Endian::Big,
        "macppc",
    ),
    (
        "sparc64",
        Machine::Port("sparc64"),
        ElfClass::Elf64,
        Endian::Big,
        "sparc64",
    ),
];

/// A good fixture of a port; amd64's live in the module directory.
fn port_module(dir: &str, name: &str) -> Kmod {
    if dir == "amd64" && name != "reqparse" {
        good(name)
    } else {
        open(&format!("{dir}/{name}.kmod"))
    }
}

#[test]
fn decodes_the_descriptor_on_every_port() {
    for &(dir, machine, class, endian, target) in PORTS {
        let [example, hello, needy, reqparse] =
            ["example", "hello", "needy", "reqparse"].map(|n| port_module(dir, n));
        let what = format!("{machine:?}");
        for k in [&example, &hello, &needy, &reqparse] {
            assert_eq!(k.machine(), Some(machine), "{what}");
            assert_eq!(k.class(), Some(class), "{what}");
            assert_eq!(k.endian(), Some(endian), "{what}");
            assert!(k.text_size() > 0, "{what}");
            let findings = validate(k, &Target::new(V10_1, target));
            assert!(certain(&findings).is_empty(), "{what}: {findings:#?}");
        }
        let mi = example.modinfo().expect(&what);
        assert_eq!(mi.name, "example", "{what}");
        assert_eq!(mi.class, 1, "{what}");
        assert_eq!(mi.version, V10_1, "{what}");
        assert_eq!(mi.required_raw, None, "{what}");
        assert!(mi.required.is_empty(), "{what}");
        assert!(mi.has_modcmd, "{what}");
        assert_eq!(example.undefined_globals(), vec!["printf"], "{what}");

        let mi = hello.modinfo().expect(&what);
        assert_eq!(mi.name, "hello", "{what}");
        assert_eq!(hello.defined_globals(), vec!["hello_greet"], "{what}");

        let mi = needy.modinfo().expect(&what);
        assert_eq!(mi.name, "needy", "{what}");
        assert_eq!(mi.required_raw.as_deref(), Some(&b"hello"[..]), "{what}");
        assert_eq!(mi.required, vec!["hello"], "{what}");
        assert_eq!(needy.undefined_globals(), vec!["hello_greet"], "{what}");
        assert!(needy.defined_globals().is_empty(), "{what}");

        let mi = reqparse.modinfo().expect(&what);
        assert_eq!(mi.name, "reqparse", "{what}");
        assert_eq!(
            mi.required_raw.as_deref(),
            Some(&b",hello,,ignored"[..]),
            "{what}"
        );
        assert_eq!(mi.required, vec!["hello"], "{what}");
    }
}

#[test]
fn the_module_directory_holds_the_emulator_modules() {
    let expect: &[(&str, u32, Option<&str>)] = &[
        ("example", V10_1, None),
        ("hello", V10_1, None),
        ("needy", V10_1, Some("hello")),
        ("chain_a", V10_1, Some("chain_b")),
        ("chain_b", V10_1, Some("chain_c")),
        ("chain_c", V10_1, None),
        ("cyc_a", V10_1, Some("cyc_b")),
        ("cyc_b", V10_1, Some("cyc_a")),
        ("selfdep", V10_1, Some("selfdep")),
        ("old93", 903000000, None),
    ];
    let amd64 = Target::new(V10_1, "amd64");
    for &(name, version, required) in expect {
        let k = good(name);
        let mi = k.modinfo().unwrap();
        assert_eq!(mi.name, name);
        assert_eq!(mi.class, 1, "{name}");
        assert_eq!(mi.version, version, "{name}");
        assert_eq!(
            mi.required_raw.as_deref(),
            required.map(str::as_bytes),
            "{name}"
        );
        assert!(mi.has_modcmd, "{name}");
        assert!(k.text_size() > 0, "{name}");
        let errno = kernel_errno(&validate(&k, &amd64), false);
        let want = match name {
            "selfdep" => Some(Errno::EDEADLK),
            "old93" => Some(Errno::EPROGMISMATCH),
            _ => None,
        };
        assert_eq!(errno, want, "{name}");
    }
}

#[test]
fn sections_relocations_and_sizes() {
    let k = good("example");
    // One .text section of 0x42 bytes, aligned to 16: the kernel's size.
    assert_eq!(k.text_size(), 0x42);
    let regions = k.regions();
    assert_eq!(regions.text, 0x42);
    assert!(regions.single > regions.text);
    let sections = k.sections();
    let link_set = sections
        .iter()
        .find(|s| s.name == "link_set_modules")
        .unwrap();
    assert_eq!(link_set.size, 8);
    assert_eq!(link_set.type_name(), "PROGBITS");
    let relocs = k.relocation_types();
    let plt32 = relocs.iter().find(|r| r.r_type == 4).unwrap();
    assert_eq!(plt32.name, Some("R_X86_64_PLT32"));
    assert_eq!(plt32.count, 2);
    assert!(relocs.iter().any(|r| r.name == Some("R_X86_64_64")));

    let k = open("i386/example.kmod");
    let relocs = k.relocation_types();
    assert!(relocs.iter().any(|r| r.name == Some("R_386_PC32")));
    assert!(relocs.iter().any(|r| r.name == Some("R_386_32")));
    assert!(k
        .sections()
        .iter()
        .any(|s| s.name == "link_set_modules" && s.size == 4));
}

/// One broken variant: file, target machine, the check expected, its
/// stage and errno, and the errno the kernel returns for the whole file.
struct Case {
    file: &'static str,
    machine: &'static str,
    check: Check,
    stage: Stage,
    errno: Errno,
    certain: bool,
    verdict: Option<Errno>,
}

const fn case(
    file: &'static str,
    machine: &'static str,
    check: Check,
    stage: Stage,
    errno: Errno,
    certain: bool,
    verdict: Option<Errno>,
) -> Case {
    Case {
        file,
        machine,
        check,
        stage,
        errno,
        certain,
        verdict,
    }
}

#[test]
fn broken_variants_yield_the_kernels_errno() {
    use Check as C;
    use Stage::{Advisory, Info, Link, Load};
    let (enoexec, einval, enoent) = (Errno::ENOEXEC, Errno::EINVAL, Errno::ENOENT);
    let cases = [
        case(
            "amd64/no_linkset.kmod",
            "amd64",
            C::LinkSetMissing,
            Load,
            enoent,
            true,
            Some(enoent),
        ),
        case(
            "amd64/no_shstrtab.kmod",
            "amd64",
            C::LinkSetMissing,
            Load,
            enoent,
            true,
            Some(enoent),
        ),
        case(
            "amd64/linkset_size.kmod",
            "amd64",
            C::LinkSetSize,
            Load,
            enoexec,
            true,
            Some(enoexec),
        ),
        case(
            "amd64/et_exec.kmod",
            "amd64",
            C::FileType,
            Load,
            enoexec,
            true,
            Some(enoexec),
        ),
        case(
            "amd64/et_dyn.kmod",
            "amd64",
            C::FileType,
            Load,
            enoexec,
            true,
            Some(enoexec),
        ),
        case(
            "amd64/wrong_machine.kmod",
            "amd64",
            C::Machine,
            Load,
            enoexec,
            true,
            Some(enoexec),
        ),
        case(
            "i386/example.kmod",
            "amd64",
            C::Machine,
            Load,
            enoexec,
            true,
            Some(enoexec),
        ),
        case(
            "modules/example/example.kmod",
            "i386",
            C::Machine,
            Load,
            enoexec,
            true,
            Some(enoexec),
        ),
        case(
            "sparc64/example.kmod",
            "amd64",
            C::Machine,
            Load,
            enoexec,
            true,
            Some(enoexec),
        ),
        case(
            "amd64/wrong_class.kmod",
            "amd64",
            C::ElfClass,
            Load,
            enoexec,
            true,
            Some(enoexec),
        ),
        case(
            "amd64/bad_ident_version.kmod",
            "amd64",
            C::ElfVersion,
            Load,
            enoexec,
            true,
            Some(enoexec),
        ),
        case(
            "amd64/name32.kmod",
            "amd64",
            C::NameLength,
            Info,
            einval,
            true,
            Some(einval),
        ),
        case(
            "i386/name32.kmod",
            "i386",
            C::NameLength,
            Info,
            einval,
            true,
            Some(einval),
        ),
        case(
            "amd64/badclass.kmod",
            "amd64",
            C::Class,
            Info,
            einval,
            true,
            Some(einval),
        ),
        case(
            "i386/badclass.kmod",
            "i386",
            C::Class,
            Info,
            einval,
            true,
            Some(einval),
        ),
        case(
            "amd64/longreq.kmod",
            "amd64",
            C::RequiredLength,
            Info,
            einval,
            true,
            Some(einval),
        ),
        case(
            "modules/selfdep/selfdep.kmod",
            "amd64",
            C::SelfDependency,
            Info,
            Errno::EDEADLK,
            true,
            Some(Errno::EDEADLK),
        ),
        case(
            "i386/selfdep.kmod",
            "i386",
            C::SelfDependency,
            Info,
            Errno::EDEADLK,
            true,
            Some(Errno::EDEADLK),
        ),
        case(
            "amd64/unknown_reloc.kmod",
            "amd64",
            C::UnsupportedRelocation,
            Load,
            enoexec,
            true,
            Some(enoexec),
        ),
        case(
            "amd64/weak.kmod",
            "amd64",
            C::WeakUndefined,
            Link,
            enoexec,
            true,
            Some(enoexec),
        ),
        case(
            "amd64/no_symtab.kmod",
            "amd64",
            C::SymbolTable,
            Load,
            enoexec,
            true,
            Some(enoexec),
        ),
        case(
            "amd64/notext.kmod",
            "amd64",
            C::NoText,
            Load,
            enoexec,
            true,
            Some(enoexec),
        ),
        case(
            "i386/notext.kmod",
            "i386",
            C::NoText,
            Load,
            enoexec,
            true,
            Some(enoexec),
        ),
        case(
            "amd64/bad_align.kmod",
            "amd64",
            C::Alignment,
            Load,
            enoexec,
            false,
            None,
        ),
        case(
            "amd64/zero_align.kmod",
            "amd64",
            C::Alignment,
            Load,
            enoexec,
            false,
            None,
        ),
        case(
            "amd64/truncated.kmod",
            "amd64",
            C::Truncated,
            Load,
            einval,
            true,
            Some(einval),
        ),
        case(
            "i386/truncated.kmod",
            "i386",
            C::Truncated,
            Load,
            einval,
            true,
            Some(einval),
        ),
        case(
            "amd64/truncated_header.kmod",
            "amd64",
            C::Truncated,
            Load,
            einval,
            true,
            Some(einval),
        ),
        case(
            "amd64/huge_shnum.kmod",
            "amd64",
            C::SectionTable,
            Load,
            enoexec,
            true,
            Some(enoexec),
        ),
        case(
            "amd64/many_shnum.kmod",
            "amd64",
            C::Truncated,
            Load,
            einval,
            true,
            Some(einval),
        ),
        case(
            "build.sh",
            "amd64",
            C::NotElf,
            Load,
            enoexec,
            true,
            Some(enoexec),
        ),
        case(
            "amd64/global_modinfo.kmod",
            "amd64",
            C::GlobalPointerReloc,
            Load,
            enoexec,
            false,
            None,
        ),
        case(
            "i386/global_modinfo.kmod",
            "i386",
            C::GlobalPointerReloc,
            Load,
            enoexec,
            false,
            None,
        ),
        case(
            "amd64/nonul.kmod",
            "amd64",
            C::StringWithoutNul,
            Info,
            // The kernel would read garbage; an unreadable descriptor
            // is an invalid object, as the emulator says.
            enoexec,
            false,
            None,
        ),
        case(
            "amd64/oob.kmod",
            "amd64",
            C::PointerOutsideSection,
            Info,
            // The kernel would read garbage; an unreadable descriptor
            // is an invalid object, as the emulator says.
            enoexec,
            false,
            None,
        ),
        case(
            "amd64/common.kmod",
            "amd64",
            C::CommonSymbol,
            Load,
            enoexec,
            false,
            None,
        ),
        case(
            "amd64/nomodcmd.kmod",
            "amd64",
            C::NoModcmd,
            Info,
            enoexec,
            false,
            None,
        ),
        case(
            "modules/old93/old93.kmod",
            "amd64",
            C::Version,
            Info,
            Errno::EPROGMISMATCH,
            true,
            Some(Errno::EPROGMISMATCH),
        ),
        case(
            "amd64/current.kmod",
            "amd64",
            C::Version,
            Info,
            Errno::EPROGMISMATCH,
            true,
            Some(Errno::EPROGMISMATCH),
        ),
        case(
            "i386/et_exec.kmod",
            "i386",
            C::FileType,
            Load,
            enoexec,
            true,
            Some(enoexec),
        ),
        case(
            "amd64/name31.kmod",
            "amd64",
            C::NameLength,
            Advisory,
            einval,
            false,
            None,
        ),
    ];
    for c in &cases {
        let k = open(c.file);
        let findings = validate(&k, &Target::new(V10_1, c.machine));
        if c.file.ends_with("name31.kmod") {
            // 31 characters is the longest name the kernel accepts.
            assert!(findings.is_empty(), "{}: {findings:#?}", c.file);
            assert_eq!(k.modinfo().unwrap().name.len(), 31);
            continue;
        }
        let found = findings
            .iter()
            .find(|f| f.check == c.check)
            .unwrap_or_else(|| panic!("{}: no {:?} in {findings:#?}", c.file, c.check));
        assert_eq!(found.stage, c.stage, "{}", c.file);
        assert_eq!(found.errno, c.errno, "{}", c.file);
        assert_eq!(found.certain, c.certain, "{}", c.file);
        assert!(
            !found.reason().is_empty() && !found.reason().contains('\n'),
            "{}",
            c.file
        );
        assert_eq!(
            kernel_errno(&findings, false),
            c.verdict,
            "{}: {findings:#?}",
            c.file
        );
    }
}

#[test]
fn reasons_name_the_offending_value() {
    let amd64 = Target::new(V10_1, "amd64");
    let reason = |file: &str, check: Check| {
        validate(&open(file), &amd64)
            .into_iter()
            .find(|f| f.check == check)
            .unwrap()
            .reason()
    };
    assert!(
        reason("amd64/name32.kmod", Check::NameLength).contains("name_exactly_thirty_two_chars_xx")
    );
    assert!(reason("amd64/badclass.kmod", Check::Class).contains("class 9"));
    assert!(reason("amd64/et_exec.kmod", Check::FileType).contains("ET_EXEC"));
    assert!(
        reason("amd64/unknown_reloc.kmod", Check::UnsupportedRelocation).contains("R_X86_64_PC64")
    );
    assert!(reason("amd64/weak.kmod", Check::WeakUndefined).contains("fixture_optional_hook"));
    assert!(reason("amd64/longreq.kmod", Check::RequiredLength)
        .contains("required_module_name_is_31_char"));
    assert!(reason("modules/old93/old93.kmod", Check::Version).contains("9.3"));
    assert!(reason("amd64/huge_shnum.kmod", Check::SectionTable).contains("40000"));
    assert!(
        reason("amd64/global_modinfo.kmod", Check::GlobalPointerReloc)
            .contains("global_modinfo_modinfo")
    );
    assert!(reason("amd64/oob.kmod", Check::PointerOutsideSection).contains("0x1000"));
    assert!(reason("amd64/nonul.kmod", Check::StringWithoutNul).contains("nonul"));
    let version = validate(&open("modules/old93/old93.kmod"), &amd64);
    assert!(version
        .iter()
        .any(|f| f.check == Check::Version && f.forceable));
}

#[test]
fn one_object_two_kernels_two_verdicts() {
    let t = |v: u32| Target::new(v, "amd64");
    let has = |k: &Kmod, v: u32, check: Check| validate(k, &t(v)).iter().any(|f| f.check == check);

    // Kernels that size one region accept a module without text; kernels
    // that split text from data refuse it.
    let notext = open("amd64/notext.kmod");
    assert!(has(&notext, V10_1, Check::NoText));
    assert!(!has(&notext, 703000000, Check::NoText));
    assert_eq!(kernel_errno(&validate(&notext, &t(703000000)), true), None);
    assert_eq!(
        kernel_errno(&validate(&notext, &t(V10_1)), true),
        Some(Errno::ENOEXEC)
    );

    // R_X86_64_PLT32 calls: refused by NetBSD 8's linker, fine on 10.
    let hello = good("hello");
    let on8 = validate(&hello, &t(800000000));
    let plt = on8
        .iter()
        .find(|f| f.check == Check::UnsupportedRelocation)
        .unwrap();
    assert_eq!(plt.stage, Stage::Link);
    assert!(plt.reason().contains("R_X86_64_PLT32"));
    assert_eq!(kernel_errno(&on8, true), Some(Errno::ENOEXEC));
    assert_eq!(kernel_errno(&validate(&hello, &t(V10_1)), true), None);

    // Ten requirements: too many for an old fixed array, fine later.
    let manyreq = open("amd64/manyreq.kmod");
    assert!(has(&manyreq, 800000000, Check::TooManyRequired));
    assert!(!has(&manyreq, V10_1, Check::TooManyRequired));

    // The class range: a bufq module is valid where bufq exists; a bad
    // class is refused only by kernels that check.
    let bufq = open("amd64/bufq.kmod");
    assert!(!has(&bufq, V10_1, Check::Class));
    let old = validate(&bufq, &t(703000000));
    let class = old.iter().find(|f| f.check == Check::Class).unwrap();
    assert_eq!((class.stage, class.certain), (Stage::Advisory, false));
    let badclass = open("amd64/badclass.kmod");
    assert_eq!(
        kernel_errno(&validate(&badclass, &t(V10_1)), true),
        Some(Errno::EINVAL)
    );
    assert_eq!(
        kernel_errno(&validate(&badclass, &t(703000000)), true),
        None
    );

    // Versions: release kernels compare major.minor, -current all of it.
    let current = open("amd64/current.kmod");
    assert_eq!(
        kernel_errno(&validate(&current, &t(1099001200)), false),
        None
    );
    assert_eq!(
        kernel_errno(&validate(&current, &t(1099001100)), false),
        Some(Errno::EPROGMISMATCH)
    );
    let old93 = good("old93");
    assert_eq!(kernel_errno(&validate(&old93, &t(903000000)), false), None);
    assert_eq!(
        kernel_errno(&validate(&old93, &t(902000000)), false),
        Some(Errno::EPROGMISMATCH)
    );
    // Forcing overrides only the version.
    assert_eq!(kernel_errno(&validate(&old93, &t(V10_1)), true), None);
}

#[test]
fn symbols_resolve_against_the_kernel_and_required_modules() {
    let ksyms = read_symbol_table(&fixtures().join("ksyms.o")).unwrap();
    for name in [
        "printf",
        "memcpy",
        "kmem_alloc",
        "kmem_free",
        "module_load",
        "hz",
    ] {
        assert!(ksyms.contains(name), "{name}");
    }
    let in_kernel = |n: &str| ksyms.contains(n);

    let example = good("example");
    assert!(unresolved_symbols(&example, &in_kernel).is_empty());

    let needy = good("needy");
    assert_eq!(unresolved_symbols(&needy, &in_kernel), vec!["hello_greet"]);
    let findings = validate_with_symbols(&needy, &Target::new(V10_1, "amd64"), &in_kernel);
    let f = findings
        .iter()
        .find(|f| f.check == Check::UnresolvedSymbol)
        .unwrap();
    assert_eq!(
        (f.stage, f.errno, f.certain),
        (Stage::Link, Errno::ENOEXEC, true)
    );
    assert!(f.reason().contains("hello_greet"));

    // hello, required by needy, defines it.
    let req = required_symbols(&needy, &modules_dir());
    assert!(req.missing.is_empty());
    assert!(req.defined.contains("hello_greet"));
    let with_required = |n: &str| ksyms.contains(n) || req.defined.contains(n);
    assert!(unresolved_symbols(&needy, &with_required).is_empty());
    assert_eq!(
        kernel_errno(
            &validate_with_symbols(&needy, &Target::new(V10_1, "amd64"), &with_required),
            false
        ),
        None
    );

    // A second copy of hello would redefine hello_greet.
    let hello = good("hello");
    assert!(clashing_symbols(&hello, &in_kernel).is_empty());
    let loaded = |n: &str| n == "hello_greet" || ksyms.contains(n);
    assert_eq!(clashing_symbols(&hello, &loaded), vec!["hello_greet"]);
    let findings = validate_with_symbols(&hello, &Target::new(V10_1, "amd64"), &loaded);
    let clash = findings
        .iter()
        .find(|f| f.check == Check::SymbolClash)
        .unwrap();
    assert_eq!((clash.stage, clash.errno), (Stage::Load, Errno::ENOEXEC));

    // Requirements are followed transitively; missing ones are named.
    let chain = required_symbols(&good("chain_a"), &modules_dir());
    assert!(chain.missing.is_empty());
    let cyc = required_symbols(&good("cyc_a"), &modules_dir());
    assert!(cyc.missing.is_empty());
    let missing = required_symbols(&open("amd64/manyreq.kmod"), &modules_dir());
    assert_eq!(missing.missing.len(), 10);
}

#[test]
fn symbol_lists_in_text_and_errors() {
    let dir = tempdir("symlist");
    let list = dir.join("ksyms.txt");
    std::fs::write(&list, "printf\nffffffff80200000 T memcpy\n U not_defined\n").unwrap();
    let names = read_symbol_table(&list).unwrap();
    assert!(names.contains("printf") && names.contains("memcpy"));
    assert!(!names.contains("not_defined"));
    let binary = dir.join("junk");
    std::fs::write(&binary, [0xffu8, 0x00, 0xfe, 0x01]).unwrap();
    assert_eq!(
        read_symbol_table(&binary).unwrap_err(),
        modobj::kmod::KmodError::Io(Errno::EFTYPE)
    );
    assert_eq!(
        read_symbol_table(&dir.join("absent")).unwrap_err(),
        modobj::kmod::KmodError::Io(Errno::ENOENT)
    );
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn file_names_and_property_lists() {
    let dir = tempdir("filefind");
    let example = std::fs::read(fixtures().join("modules/example/example.kmod")).unwrap();
    let renamed = dir.join("other.kmod");
    std::fs::write(&renamed, &example).unwrap();
    let k = Kmod::open(&renamed).unwrap();
    let f = file_findings(renamed.to_str().unwrap(), &k);
    assert_eq!(f.len(), 1);
    assert_eq!((f[0].check, f[0].stage), (Check::FileName, Stage::Advisory));
    assert!(f[0].reason().contains("`example`"));

    let right = dir.join("example.kmod");
    std::fs::write(&right, &example).unwrap();
    assert!(file_findings(right.to_str().unwrap(), &k).is_empty());
    std::fs::write(dir.join("example.plist"), vec![b' '; 8191]).unwrap();
    let f = file_findings(right.to_str().unwrap(), &k);
    assert_eq!(
        (f[0].check, f[0].errno, f[0].certain),
        (Check::PlistTooLarge, Errno::EFBIG, true)
    );
    std::fs::write(dir.join("example.plist"), vec![b' '; 8190]).unwrap();
    assert!(file_findings(right.to_str().unwrap(), &k).is_empty());
    std::fs::remove_dir_all(dir).ok();
}

fn tempdir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("libmodctl-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `mi_name` and `mi_required` are read as bytes: a 0xFF stays one byte
/// (the kernel's strlen), nothing is replaced.
#[test]
fn descriptor_strings_are_bytes() {
    let patch = |module: &str, from: &[u8], to: &[u8]| {
        let mut data = std::fs::read(path::module_file(&modules_dir(), module)).unwrap();
        let needle = [from, b"\0"].concat();
        let at = (0..data.len())
            .find(|&i| data[i..].starts_with(&needle))
            .unwrap();
        data[at..at + to.len()].copy_from_slice(to);
        Kmod::from_bytes(data)
    };
    let hello = patch("hello", b"hello", b"h\xffllo");
    let mi = hello.modinfo().unwrap();
    assert_eq!(mi.name.as_bytes(), b"h\xffllo");
    assert_eq!(mi.name.len(), 5);
    let needy = patch("needy", b"hello", b"h\xff\xfe\xfdo");
    let mi = needy.modinfo().unwrap();
    assert_eq!(mi.required_raw.as_deref(), Some(&b"h\xff\xfe\xfdo"[..]));
    assert_eq!(mi.required, vec![&b"h\xff\xfe\xfdo"[..]]);
    // Seven 0xFF are seven bytes, not 21 of U+FFFD.
    let k = patch("example", b"example", &[0xff; 7]);
    assert_eq!(k.modinfo().unwrap().name.as_bytes(), [0xff; 7]);
    let findings = validate(&k, &Target::new(V10_1, "amd64"));
    assert!(certain(&findings).is_empty(), "{findings:#?}");
}

#[test]
fn a_global_modcmd_is_no_finding() {
    // mi_modcmd is called after kobj_affix: relocated against a global
    // symbol it is right, unlike the descriptor's other pointers.
    let k = open("amd64/global_modcmd.kmod");
    let findings = validate(&k, &Target::new(V10_1, "amd64"));
    assert!(findings.iter().all(|f| !f.blocks(false)), "{findings:#?}");
    assert!(findings
        .iter()
        .all(|f| f.check != Check::GlobalPointerReloc));
    let mi = k.modinfo().expect("descriptor");
    assert_eq!(mi.name, "global_modcmd");
    assert!(mi.has_modcmd);
}
