//! `modload -n --kernel FILE [--root DIR] module ...`: modules checked
//! against a kernel image (the fixture kernel, NetBSD 10.1 amd64 with the
//! built-ins kbase and kvfs), one line each and a summary, or one JSON
//! document; no kernel, emulated or real, is involved.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use e2e::{bin, fixtures, Output};
use serde_json::Value;

/// The module directory of the fixture kernel, below the root.
const MODULE_DIR: &str = "stand/amd64/10.1/modules";

fn kernel_image() -> PathBuf {
    fixtures().join("release/netbsd")
}

/// A release: below a fresh root, these fixture modules (paths below
/// the fixtures) in the kernel's module directory under their names.
fn release(modules: &[&str]) -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    for m in modules {
        let from = fixtures().join(m);
        let name = from.file_stem().unwrap().to_str().unwrap().to_string();
        let dir = root.path().join(MODULE_DIR).join(&name);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(&from, dir.join(format!("{name}.kmod"))).unwrap();
    }
    root
}

/// Every kind of failure, and modules that load.
const SHIPPED: &[&str] = &[
    "modules/example/example.kmod",
    "modules/hello/hello.kmod",
    "modules/needy/needy.kmod",
    "modules/chain_a/chain_a.kmod",
    "modules/chain_b/chain_b.kmod",
    "modules/cyc_a/cyc_a.kmod",
    "modules/cyc_b/cyc_b.kmod",
    "modules/selfdep/selfdep.kmod",
    "modules/old93/old93.kmod",
    "release/unres.kmod",
    "release/usebase.kmod",
    "release/usekvfs.kmod",
];

fn modload<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Output {
    let out = Command::new(bin("modload"))
        .args(args)
        .env_remove("MODCTL_EMUL")
        .env_remove("RUMP_SERVER")
        .stdin(Stdio::null())
        .output()
        .expect("run modload");
    Output {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        status: out.status.code().unwrap_or(-1),
    }
}

/// `modload -n [--json] --kernel <fixture> --root <root> operands...`.
fn check(root: &Path, json: bool, operands: &[&str]) -> Output {
    let mut args: Vec<std::ffi::OsString> = vec!["-n".into()];
    if json {
        args.push("--json".into());
    }
    args.extend([
        "--kernel".into(),
        kernel_image().into_os_string(),
        "--root".into(),
        root.as_os_str().to_owned(),
    ]);
    args.extend(operands.iter().map(|o| o.into()));
    modload(&args)
}

#[test]
fn each_kind_of_failure_one_line_each_then_the_summary() {
    let root = release(SHIPPED);
    let wrong_machine = fixtures().join("amd64/wrong_machine.kmod");
    let badclass = fixtures().join("amd64/badclass.kmod");
    let reloc = fixtures().join("amd64/unknown_reloc.kmod");
    let (wm, bc, rl) = (
        wrong_machine.to_str().unwrap(),
        badclass.to_str().unwrap(),
        reloc.to_str().unwrap(),
    );
    let out = check(
        root.path(),
        false,
        &[
            "example", "needy", "usebase", "usekvfs", "chain_a", "cyc_a", "selfdep", "old93",
            "unres", "kbase", "missing", wm, bc, rl,
        ],
    );
    let image = kernel_image();
    let expected = format!(
        "example: would load\n\
         needy: would load (after hello)\n\
         usebase: would load\n\
         usekvfs: would load (after hello)\n\
         chain_a: would not load: ENOENT: required module `chain_c' (required by `chain_b') is neither built into the kernel nor shipped: no file /stand/amd64/10.1/modules/chain_c/chain_c.kmod\n\
         cyc_a: would not load: EDEADLK: circular dependency: cyc_a -> cyc_b -> cyc_a\n\
         selfdep: would not load: EDEADLK: circular dependency: selfdep -> selfdep\n\
         old93: would not load: EPROGMISMATCH: `old93' is built for NetBSD 9.3 (903000000) but the kernel is NetBSD 10.1 (1001000000)\n\
         unres: would not load: ENOEXEC: `unres' uses symbols neither the kernel nor the modules loaded before it define: no_such_kernel_function\n\
         kbase: would not load: EEXIST: module `kbase' is built into this kernel\n\
         missing: would not load: ENOENT: no file /stand/amd64/10.1/modules/missing/missing.kmod\n\
         {wm}: would not load: ENOEXEC: built for powerpc64 (e_machine 21); an amd64 kernel accepts only EM_X86_64 (62)\n\
         {bc}: would not load: EINVAL: `badclass' has class 9, which this kernel does not know\n\
         {rl}: would not load: ENOEXEC: relocation type 24 (R_X86_64_PC64) at section 8 (.data.pc64)+0x0: this port's kernel linker does not apply it (amd64 kobj_machdep.c 1.6)\n\
         4 of 14 modules would load into {} (NetBSD 10.1 (1001000000) amd64, 2 built-in, modules in /stand/amd64/10.1/modules)\n",
        image.display()
    );
    assert_eq!(out.stdout, expected);
    assert_eq!(out.stderr, "");
    assert_eq!(out.status, 1);
    // The same operands again: the same bytes (stable output).
    let again = check(
        root.path(),
        false,
        &[
            "example", "needy", "usebase", "usekvfs", "chain_a", "cyc_a", "selfdep", "old93",
            "unres", "kbase", "missing", wm, bc, rl,
        ],
    );
    assert_eq!(again, out);
}

#[test]
fn exit_zero_when_every_module_would_load() {
    let root = release(SHIPPED);
    let out = check(
        root.path(),
        false,
        &["needy", "hello", "example", "usebase"],
    );
    assert_eq!(out.status, 0, "{out:?}");
    assert!(out.stdout.ends_with(
        "4 of 4 modules would load into {} (NetBSD 10.1 (1001000000) amd64, 2 built-in, modules in /stand/amd64/10.1/modules)\n"
            .replace("{}", &kernel_image().display().to_string())
            .as_str()
    ));
}

#[test]
fn operands_do_not_affect_each_other() {
    // hello loaded for needy is not loaded for the next operand: hello
    // itself still would load, and needy again needs it first.
    let root = release(SHIPPED);
    let out = check(root.path(), false, &["needy", "hello", "needy"]);
    assert_eq!(
        out.stdout.lines().take(3).collect::<Vec<_>>(),
        [
            "needy: would load (after hello)",
            "hello: would load",
            "needy: would load (after hello)"
        ]
    );
}

#[test]
fn json_document_validates_and_matches_the_text() {
    let root = release(SHIPPED);
    let out = check(root.path(), true, &["needy", "chain_a", "kbase"]);
    assert_eq!(out.status, 1);
    let schema_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/release.schema.json");
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(schema_path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let doc: Value = serde_json::from_str(&out.stdout).unwrap();
    let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(doc["kernel"]["machine"], "amd64");
    assert_eq!(doc["kernel"]["osrevision"], 1_001_000_000);
    assert_eq!(doc["kernel"]["version_source"], "note");
    assert_eq!(doc["kernel"]["module_path"], "/stand/amd64/10.1/modules");
    assert_eq!(
        doc["kernel"]["builtins"],
        serde_json::json!(["kvfs", "kbase"])
    );
    assert_eq!(
        doc["summary"],
        serde_json::json!({"checked": 3, "refused": 2, "would_load": 1})
    );
    let m = &doc["modules"];
    assert_eq!(m[0]["load_order"], serde_json::json!(["hello", "needy"]));
    assert_eq!(m[0]["would_load"], true);
    assert_eq!(m[1]["error"]["name"], "ENOENT");
    assert_eq!(m[1]["reason_module"], "chain_c");
    assert_eq!(m[1]["check"], "Dependencies");
    assert_eq!(m[2]["error"]["name"], "EEXIST");
    assert_eq!(m[2]["file"], Value::Null);
}

#[test]
fn path_operands_are_read_as_given_names_below_the_root() {
    // The same file by path loads (hello's requirement from below the root).
    let root = release(&["modules/hello/hello.kmod"]);
    let needy = fixtures().join("modules/needy/needy.kmod");
    let out = check(root.path(), false, &[needy.to_str().unwrap()]);
    assert_eq!(out.status, 0, "{out:?}");
    // Without hello below the root, needy's requirement is missing.
    let empty = release(&[]);
    let out = check(empty.path(), false, &[needy.to_str().unwrap()]);
    assert!(
        out.stdout
            .contains("required module `hello' (required by `needy') is neither built into"),
        "{out:?}"
    );
}

#[test]
fn errors_and_usage() {
    let root = release(&[]);
    let r = root.path().to_str().unwrap();
    let image = kernel_image();
    let k = image.to_str().unwrap();
    // Not a kernel image.
    let hello = fixtures().join("modules/hello/hello.kmod");
    let out = modload(&["-n", "--kernel", hello.to_str().unwrap(), "--root", r, "x"]);
    assert_eq!(out.status, 1);
    assert_eq!(
        out.stderr,
        format!(
            "modload: {}: not a kernel image: ELF type 1, not an executable (ET_EXEC)\n",
            hello.display()
        )
    );
    let out = modload(&["-n", "--kernel", "/nonexistent/netbsd", "x"]);
    assert_eq!(
        out.stderr,
        "modload: /nonexistent/netbsd: No such file or directory\n"
    );
    // Needs -n and a module; no -f.
    for args in [
        vec!["--kernel", k, "x"],
        vec!["-n", "--kernel", k],
        vec!["-n", "-f", "--kernel", k, "x"],
        vec!["-n", "--root", r, "x"],
    ] {
        let out = modload(&args);
        assert_eq!(out.status, 1, "{args:?}");
        assert!(
            out.stderr
                .starts_with("modload: --kernel FILE [--root DIR] checks"),
            "{out:?}"
        );
    }
    let out = modload(&["-n", "x", "--kernel"]);
    assert_eq!(out.status, 1);
}

#[test]
fn the_kernel_image_fifo_is_refused_unread() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("netbsd");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let out = modload(&["-n", "--kernel", fifo.to_str().unwrap(), "x"]);
    assert_eq!(out.status, 1);
    assert!(out.stderr.contains("FIFO"), "{out:?}");
}

/// modload runs modload-check from its own directory for the boot and
/// release checks; without it there, it says so and fails, and
/// modload-check alone does only those two checks.
#[test]
fn the_checks_run_in_modload_check_beside_modload() {
    let dir = tempfile::tempdir().unwrap();
    let alone = dir.path().join("modload");
    // Copied by another process: a file this (threaded) process held open
    // for writing could be inherited by a concurrent fork, and then fail
    // to run with ETXTBSY.
    let copied = Command::new("cp")
        .arg(bin("modload"))
        .arg(&alone)
        .status()
        .unwrap();
    assert!(copied.success());
    let image = kernel_image();
    let runs: [&[&str]; 2] = [
        &["-n", "--kernel", image.to_str().unwrap(), "example"],
        &["-n", "--boot-cfg", "/nonexistent/boot.cfg"],
    ];
    for args in runs {
        let out = Command::new(&alone).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(1));
        assert!(out.stdout.is_empty());
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            format!(
                "modload: cannot run {}/modload-check (the boot and release checks): \
                 No such file or directory\n",
                dir.path().display()
            )
        );
    }
    let out = Command::new(bin("modload-check"))
        .arg("example")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "modload-check: runs modload's -n --boot-cfg and -n --kernel checks: use it with one \
         of them\n"
    );
}
