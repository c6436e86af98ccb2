//! Every port's kernel linker, through the built tools: for each port of
//! the kobj ports reference, `modload -n` and `modload -n --json` of a
//! module its linker accepts (exit 0) and of one with a relocation it
//! refuses (exit 1, the relocation named), against a profile for that
//! machine; the fixtures are `modobj/tests/fixtures/ports/` (`build.sh
//! ports`). And README.md's "Ports checked" table against the registry.

use e2e::{fixtures, EmulatedKernel, Output, Via};
use modobj::machine::{self, Port, RelFailure, RelocSections, Since};
use serde_json::Value;

/// One variant of a port: its fixtures' directory, the profile's
/// `machine` and release, the relocations its refused fixture is refused
/// for, and whether it has an accepted fixture.
struct Case {
    variant: &'static str,
    machine: &'static str,
    osrelease: &'static str,
    refused: &'static [&'static str],
    accepted: bool,
}

const fn case(
    variant: &'static str,
    machine: &'static str,
    refused: &'static [&'static str],
) -> Case {
    Case {
        variant,
        machine,
        osrelease: "10.1",
        refused,
        accepted: true,
    }
}

const CASES: &[Case] = &[
    case("amd64", "amd64", &["R_X86_64_PC64"]),
    case("i386", "i386", &["R_386_GOTOFF"]),
    case(
        "aarch64",
        "evbarm",
        &["R_AARCH64_ADR_GOT_PAGE", "R_AARCH64_LD64_GOT_LO12_NC"],
    ),
    case(
        "aarch64eb",
        "aarch64eb",
        &["R_AARCH64_ADR_GOT_PAGE", "R_AARCH64_LD64_GOT_LO12_NC"],
    ),
    case("arm", "earmv7hf", &["R_ARM_THM_PC22"]),
    case("armeb", "earmv7hfeb", &["R_ARM_THM_PC22"]),
    case("sparc64", "sparc64", &["R_SPARC_UA32"]),
    case("sparc", "sparc", &["R_SPARC_TLS_LE_HIX22"]),
    case("powerpc", "macppc", &["R_PPC_REL24"]),
    // No powerpc64 module can be accepted (see build.sh): the refused one
    // is the accepted source built with the module flags.
    Case {
        accepted: false,
        ..case(
            "powerpc64",
            "powerpc64",
            &["R_PPC64_TOC16_HA", "R_PPC64_TOC"],
        )
    },
    case("mips64", "evbmips", &["R_MIPS_GOT_DISP"]),
    // Built for 11.0: riscv's linker took today's types in 2023.
    Case {
        osrelease: "11.0",
        ..case("riscv64", "riscv", &["R_RISCV_32"])
    },
    case("m68k", "mac68k", &["R_68K_16"]),
    case("hppa", "hppa", &["R_PARISC_LTOFF21L"]),
    case("sh3el", "landisk", &["R_SH_GOTOFF"]),
    case("sh3eb", "sh3eb", &["R_SH_GOTOFF"]),
    case("alpha", "alpha", &["R_ALPHA_GPDISP", "R_ALPHA_LITERAL"]),
    case("vax", "vax", &["R_VAX_NONE"]),
];

fn kernel(machine: &str, osrelease: &str) -> EmulatedKernel {
    let k = EmulatedKernel::with_profile(
        Via::Emul,
        &format!(r#"{{"machine": "{machine}", "osrelease": "{osrelease}"}}"#),
    );
    assert_eq!(k.run("modstat", &[] as &[&str]).status, 0);
    k
}

fn fixture(variant: &str, kind: &str) -> String {
    fixtures()
        .join(format!("ports/{variant}/{variant}_{kind}.kmod"))
        .display()
        .to_string()
}

fn json(out: &Output) -> Value {
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", out.stdout))
}

/// The findings of a JSON report that stop the load.
fn fatal(doc: &Value) -> Vec<&Value> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["fatal"] == true)
        .collect()
}

#[test]
fn each_port_accepts_its_module_and_refuses_a_relocation_its_linker_lacks() {
    for c in CASES {
        let k = kernel(c.machine, c.osrelease);
        let what = format!("{} on {}", c.variant, c.machine);
        if c.accepted {
            let ok = fixture(c.variant, "ok");
            let out = k.run("modload", &["-n", &ok]);
            assert_eq!(out.status, 0, "{what}: {out:?}");
            assert!(
                out.stdout.contains("verdict:    the kernel would load it"),
                "{what}: {}",
                out.stdout
            );
            assert!(!out.stdout.contains("error "), "{what}: {}", out.stdout);
            let out = k.run("modload", &["-n", "--json", &ok]);
            let doc = json(&out);
            assert_eq!(out.status, 0, "{what}: {}", out.stdout);
            assert_eq!(doc["would_load"], true, "{what}");
            assert!(fatal(&doc).is_empty(), "{what}: {}", out.stdout);
            assert_eq!(
                doc["module"]["name"].as_str(),
                Some(format!("{}_ok", c.variant).as_str()),
                "{what}"
            );
        }

        let bad = fixture(c.variant, "bad");
        let out = k.run("modload", &["-n", &bad]);
        assert_eq!(out.status, 1, "{what}: {out:?}");
        assert!(
            out.stdout
                .contains("verdict:    the kernel would refuse it: Exec format error"),
            "{what}: {}",
            out.stdout
        );
        for name in c.refused {
            let line = out
                .stdout
                .lines()
                .find(|l| l.contains(&format!("({name}) at section ")))
                .unwrap_or_else(|| panic!("{what}: {name} not named:\n{}", out.stdout));
            assert!(line.starts_with("  error ENOEXEC: "), "{what}: {line}");
            assert!(
                line.contains("this port's kernel linker does not apply it"),
                "{what}: {line}"
            );
            assert!(line.contains(" at section "), "{what}: {line}");
        }

        let out = k.run("modload", &["-n", "--json", &bad]);
        let doc = json(&out);
        assert_eq!(out.status, 1, "{what}: {}", out.stdout);
        assert_eq!(doc["would_load"], false, "{what}");
        let fatal = fatal(&doc);
        for name in c.refused {
            let f = fatal
                .iter()
                .find(|f| {
                    f["reason"]
                        .as_str()
                        .is_some_and(|r| r.contains(&format!("({name}) at section ")))
                })
                .unwrap_or_else(|| panic!("{what}: {name}: {}", out.stdout));
            assert_eq!(f["check"], "UnsupportedRelocation", "{what}");
            assert_eq!(f["errno"]["name"], "ENOEXEC", "{what}");
        }

        // A load (not a dry run) is refused before it reaches the kernel,
        // with NetBSD's line and the reason.
        let out = k.run("modload", &[&bad]);
        assert_eq!(out.status, 1, "{what}: {out:?}");
        assert_eq!(out.first_err(), "modload: Exec format error", "{what}");
        assert!(
            out.stderr
                .contains("this port's kernel linker does not apply it"),
            "{what}: {}",
            out.stderr
        );
    }
}

#[test]
fn every_port_of_the_registry_has_fixtures() {
    for port in machine::PORTS {
        let covered = CASES.iter().any(|c| {
            let k =
                modobj::kmod::Kmod::open(std::path::Path::new(&fixture(c.variant, "bad"))).unwrap();
            k.e_machine().and_then(machine::port).map(|p| p.name) == Some(port.name)
        });
        assert!(covered, "{}: no fixture", port.name);
    }
}

#[test]
fn a_rel_section_on_a_rela_only_port_is_refused() {
    let k = kernel("vax", "10.1");
    let rel = fixture("vax", "rel");
    let out = k.run("modload", &["-n", "--json", &rel]);
    assert_eq!(out.status, 1, "{}", out.stdout);
    let doc = json(&out);
    let f = fatal(&doc);
    assert!(!f.is_empty(), "{}", out.stdout);
    assert!(
        f.iter().all(|f| f["check"] == "RelNotApplied"),
        "{}",
        out.stdout
    );
    assert!(f[0]["reason"]
        .as_str()
        .unwrap()
        .contains("is in a REL section (SHT_REL): this port's kernel linker applies only RELA"));
    // The same object with RELA is accepted.
    let out = k.run("modload", &["-n", &fixture("vax", "ok")]);
    assert_eq!(out.status, 0, "{}", out.stdout);
}

#[test]
fn branches_out_of_the_module_are_advisories_with_their_reach() {
    for (variant, machine, name, reach) in [
        ("aarch64", "evbarm", "R_AARCH64_CALL26", "±128 MiB"),
        ("arm", "earmv7hf", "R_ARM_CALL", "±32 MiB"),
        ("sparc64", "sparc64", "R_SPARC_WDISP30", "±2 GiB"),
    ] {
        let k = kernel(machine, "10.1");
        let out = k.run("modload", &["-n", "--json", &fixture(variant, "ok")]);
        assert_eq!(out.status, 0, "{}", out.stdout);
        let doc = json(&out);
        let f = doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["check"] == "BranchRange")
            .unwrap_or_else(|| panic!("{variant}: {}", out.stdout));
        assert_eq!(f["fatal"], false);
        let reason = f["reason"].as_str().unwrap();
        assert!(reason.contains(name) && reason.contains(reach), "{reason}");
        assert!(reason.contains("`printf`"), "{reason}");
    }
}

#[test]
fn an_older_kernel_refuses_types_its_linker_took_later() {
    // The riscv module uses R_RISCV_RELAX and PCREL_LO12_S, which
    // kobj_machdep.c 1.3 (before the 2023 rewrite) does not apply.
    let k = kernel("riscv", "10.1");
    let out = k.run("modload", &["-n", "-f", &fixture("riscv64", "ok")]);
    assert_eq!(out.status, 1, "{}", out.stdout);
    assert!(
        out.stdout
            .contains("kernels before NetBSD 10.99.4 do not know it"),
        "{}",
        out.stdout
    );
}

// README.md's table of ports.

/// "ELF32", "ELF32 or ELF64": the classes (or byte orders) a port's
/// kernels take.
fn either(values: &[Option<u8>], names: [(u8, &str); 2]) -> String {
    let found: Vec<&str> = names
        .iter()
        .filter(|(v, _)| values.contains(&Some(*v)))
        .map(|(_, n)| *n)
        .collect();
    found.join(" or ")
}

/// The README row for a port, from the registry.
fn row(p: &Port) -> Vec<String> {
    use object::elf;
    let ems: Vec<String> = p.e_machines.iter().map(|e| e.to_string()).collect();
    let classes: Vec<Option<u8>> = p.kernels.iter().map(|k| k.class).collect();
    let datas: Vec<Option<u8>> = p.kernels.iter().map(|k| k.data).collect();
    let sections = match p.sections {
        Some(RelocSections::Both) => "REL, RELA",
        Some(RelocSections::RelaOnly(RelFailure::Refused)) => "RELA (REL refused)",
        Some(RelocSections::RelaOnly(RelFailure::RefusedAfterNone)) => {
            "RELA (REL refused, but NONE)"
        }
        Some(RelocSections::RelaOnly(RelFailure::Panics)) => "RELA (REL panics)",
        None => "not modelled",
    };
    let types: Vec<String> = p
        .linker
        .unwrap_or(&[])
        .iter()
        // Types no kernel read applies are not listed.
        .filter(|a| a.since != Since::Never)
        .map(|a| {
            let name = p
                .names
                .get(a.r_type)
                .map_or_else(|| format!("type {}", a.r_type), str::to_string);
            let mut notes = Vec::new();
            match a.since {
                Since::Version { osrevision, .. } => {
                    notes.push(format!("from {}", modobj::kmod::version_text(osrevision)))
                }
                Since::Always | Since::Never => {}
            }
            if a.lp64 {
                notes.push("64-bit".to_string());
            }
            if a.misapplied.is_some() {
                notes.push("wrongly".to_string());
            }
            if notes.is_empty() {
                name
            } else {
                format!("{name} ({})", notes.join(", "))
            }
        })
        .collect();
    vec![
        p.name.to_string(),
        ems.join(", "),
        either(
            &classes,
            [(elf::ELFCLASS32, "ELF32"), (elf::ELFCLASS64, "ELF64")],
        ),
        either(
            &datas,
            [(elf::ELFDATA2LSB, "LSB"), (elf::ELFDATA2MSB, "MSB")],
        ),
        sections.to_string(),
        types.join(", "),
        p.source.to_string(),
    ]
}

/// The rows of the table under "## Ports checked", cells trimmed and
/// unquoted from code spans.
fn readme_rows() -> Vec<Vec<String>> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md");
    let text = std::fs::read_to_string(path).unwrap();
    let section = text
        .split("\n## Ports checked\n")
        .nth(1)
        .expect("README.md has a section \"Ports checked\"");
    let section = section.split("\n## ").next().unwrap();
    section
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2)
        .map(|l| {
            l.trim_matches('|')
                .split(" | ")
                .map(|c| c.trim().replace('`', ""))
                .collect()
        })
        .collect()
}

#[test]
fn the_readmes_table_of_ports_is_the_registry() {
    let expected: Vec<Vec<String>> = machine::PORTS.iter().map(|p| row(p)).collect();
    let got = readme_rows();
    let render = |rows: &[Vec<String>]| {
        rows.iter()
            .map(|r| format!("| {} |", r.join(" | ")))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert!(
        got == expected,
        "README.md's \"Ports checked\" table differs from modobj::machine::PORTS; \
         the registry's rows are:\n{}",
        render(&expected)
    );
}

#[test]
fn each_sh3_board_takes_its_kernels_byte_order() {
    // landisk, dreamcast and hpcsh kernels are little-endian, mmeye's
    // big-endian; only evbsh3 is configured in both (see
    // modobj/src/machine/sh3.rs for the NetBSD files).
    for (machine, variant, loads) in [
        ("landisk", "sh3eb", false),
        ("landisk", "sh3el", true),
        ("dreamcast", "sh3eb", false),
        ("hpcsh", "sh3eb", false),
        ("mmeye", "sh3el", false),
        ("mmeye", "sh3eb", true),
        ("evbsh3", "sh3eb", true),
        ("evbsh3", "sh3el", true),
    ] {
        let k = kernel(machine, "10.1");
        let out = k.run("modload", &["-n", &fixture(variant, "ok")]);
        let what = format!("{variant} on {machine}: {}", out.stdout);
        if loads {
            assert_eq!(out.status, 0, "{what}");
        } else {
            assert_eq!(out.status, 1, "{what}");
            let other = if variant == "sh3eb" { "little" } else { "big" };
            assert!(
                out.stdout
                    .contains(&format!("a {machine} kernel is {other}-endian")),
                "{what}"
            );
        }
    }
}
