//! Loading and unloading real module objects on the emulated kernel: the
//! NetBSD line, stdout and exit status as NetBSD's tools give them, the
//! reason line after them, and the kernel's state afterwards.

use e2e::{fixtures, EmulatedKernel, Via};

/// A kernel that finds the fixture modules by name under /modules and
/// never auto-unloads (so results do not depend on the clock).
fn fixture_kernel(via: Via, extra: &str) -> EmulatedKernel {
    let root = fixtures();
    let profile = format!(
        r#"{{"module_path": "/modules", "module_root": "{}", "auto_unload": false {extra}}}"#,
        root.display()
    );
    booted(EmulatedKernel::with_profile(via, &profile))
}

/// The first call boots the emulated kernel and writes its state.
fn booted(k: EmulatedKernel) -> EmulatedKernel {
    assert_eq!(k.run("modstat", &[] as &[&str]).status, 0);
    k
}

fn default_kernel(via: Via) -> EmulatedKernel {
    booted(EmulatedKernel::with_profile(
        via,
        r#"{"auto_unload": false}"#,
    ))
}

/// Runs and checks (stdout, stderr, status). Expected texts name the
/// plain tools; through rump the names are `rump.*`, and a reason that
/// needs the kernel's files is left out (they are the rump kernel's), so
/// there the second line must be the expected one or absent.
fn check(k: &EmulatedKernel, tool: &str, args: &[&str], status: i32, stdout: &str, stderr: &str) {
    let out = k.run(tool, args);
    let stderr = rename(k, stderr);
    if k.via == Via::Rump && out.stderr != stderr {
        let mut want = stderr.lines();
        let mut got = out.stderr.lines();
        assert_eq!(got.next(), want.next(), "{tool} {args:?}");
        assert_eq!(got.next(), None, "{tool} {args:?}: {}", out.stderr);
        assert_eq!(
            (out.stdout.as_str(), out.status),
            (stdout, status),
            "{tool} {args:?}"
        );
        return;
    }
    assert_eq!(
        (out.stdout.as_str(), out.stderr.as_str(), out.status),
        (stdout, stderr.as_str(), status),
        "{tool} {args:?}"
    );
}

/// An expected text with the program names this kernel is run by.
fn rename(k: &EmulatedKernel, text: &str) -> String {
    let mut out = String::new();
    for line in text.split_inclusive('\n') {
        match ["modload", "modunload", "modstat"]
            .into_iter()
            .find(|t| line.starts_with(&format!("{t}: ")))
        {
            Some(t) => out += &format!("{}{}", k.prog(t), &line[t.len()..]),
            None => out += line,
        }
    }
    out
}

/// The modstat rows of modules not built into the kernel.
fn loaded(k: &EmulatedKernel) -> String {
    let out = k.run("modstat", &["-k"]);
    assert_eq!(out.status, 0);
    out.stdout
        .lines()
        .skip(1)
        .filter(|l| !l.contains(" builtin "))
        .map(|l| format!("{l}\n"))
        .collect()
}

fn state(k: &EmulatedKernel) -> String {
    std::fs::read_to_string(k.state_dir().join("state.json")).unwrap_or_default()
}

fn bundled_examples_load_by_name_with_dependencies(via: Via) {
    let k = default_kernel(via);
    check(&k, "modload", &["example"], 0, "", "");
    check(&k, "modload", &["needy"], 0, "", "");
    assert_eq!(
        loaded(&k),
        "example          misc     filesys  -        0 ffffffff82000000      66 -\n\
hello            misc     filesys  a        1 ffffffff82001000      81 -\n\
needy            misc     filesys  -        0 ffffffff82002000      47 hello\n"
    );
    check(
        &k,
        "modunload",
        &["hello"],
        1,
        "",
        "modunload: hello: Device busy\nmodunload: hello: required by needy; unload it first\n",
    );
    check(&k, "modunload", &["needy", "example"], 0, "", "");
    // Dependencies are not unloaded with the module that needed them.
    assert_eq!(
        loaded(&k),
        "hello            misc     filesys  a        0 ffffffff82001000      81 -\n"
    );
    check(&k, "modunload", &["hello"], 0, "", "");
    assert_eq!(loaded(&k), "");
    check(
        &k,
        "modstat",
        &["example"],
        0,
        "NAME             CLASS    SOURCE   FLAG  REFS    SIZE REQUIRES \n",
        "",
    );
}

fn already_loaded(via: Via) {
    let k = default_kernel(via);
    check(&k, "modload", &["example"], 0, "", "");
    let before = state(&k);
    check(
        &k,
        "modload",
        &["example"],
        1,
        "",
        "modload: File exists\nmodload: example: module `example' is already loaded (loaded from the file system)\n",
    );
    // The same module by path: the kernel reads it, then finds the name.
    let path = k
        .state_dir()
        .join("root/stand/amd64/10.1/modules/example/example.kmod");
    let p = path.to_str().unwrap();
    check(
        &k,
        "modload",
        &[p],
        1,
        "",
        &format!("modload: File exists\nmodload: {p}: a module named `example' is already loaded (loaded from the file system)\n"),
    );
    assert_eq!(state(&k), before);
}

fn version_mismatch_and_force(via: Via) {
    let k = fixture_kernel(via, "");
    let before = state(&k);
    check(
        &k,
        "modload",
        &["old93"],
        1,
        "",
        "modload: Program version wrong\n\
modload: old93: built for NetBSD 9.3 (903000000) but the kernel is NetBSD 10.1 (1001000000); a release kernel accepts only modules of the same major.minor release (modload -f overrides)\n",
    );
    assert_eq!(state(&k), before);
    check(&k, "modload", &["-f", "old93"], 0, "", "");
    assert!(loaded(&k).starts_with("old93            misc     filesys  -        0 "));
}

fn not_root_and_securelevel(via: Via) {
    let k = default_kernel(via);
    check(&k, "modload", &["example"], 0, "", "");
    std::fs::write(
        k.state_dir().join("profile.json"),
        r#"{"auto_unload": false, "euid": 1000}"#,
    )
    .unwrap();
    let before = state(&k);
    let why = "only root may load and unload modules (effective uid 1000)";
    check(
        &k,
        "modload",
        &["hello"],
        1,
        "",
        &format!("modload: Operation not permitted\nmodload: hello: {why}\n"),
    );
    check(
        &k,
        "modunload",
        &["example"],
        1,
        "",
        &format!("modunload: example: Operation not permitted\nmodunload: example: {why}\n"),
    );
    assert_eq!(state(&k), before);
    check(
        &k,
        "modstat",
        &["-e"],
        1,
        "",
        "modstat: You are not allowed to load modules right now.\n",
    );
    check(
        &k,
        "modstat",
        &["-a"],
        0,
        "",
        "modstat: Modules can be autoloaded.\n",
    );
    // Unprivileged callers see neither addresses nor sizes.
    check(
        &k,
        "modstat",
        &["-k", "example"],
        0,
        "NAME             CLASS    SOURCE   FLAG  REFS ADDRESS             SIZE REQUIRES \n\
example          misc     filesys  -        0 0                      - -\n",
        "",
    );

    std::fs::write(
        k.state_dir().join("profile.json"),
        r#"{"auto_unload": false, "securelevel": 1}"#,
    )
    .unwrap();
    let why =
        "kern.securelevel is 1; modules can be loaded and unloaded only at securelevel 0 or below";
    check(
        &k,
        "modload",
        &["hello"],
        1,
        "",
        &format!("modload: Operation not permitted\nmodload: hello: {why}\n"),
    );
    check(
        &k,
        "modstat",
        &["-e"],
        1,
        "",
        "modstat: You are not allowed to load modules right now.\n",
    );
    check(
        &k,
        "modstat",
        &["-a"],
        1,
        "",
        "modstat: Modules can not be autoloaded right now.\n",
    );
    check(
        &k,
        "modstat",
        &["-A"],
        1,
        "",
        "modstat: Modules can not be autoloaded right now.\n",
    );
    assert_eq!(state(&k), before);
}

fn autoload_queries(via: Via) {
    let k = EmulatedKernel::with_profile(via, r#"{"autoload": true}"#);
    check(
        &k,
        "modstat",
        &["-A"],
        0,
        "",
        "modstat: Modules can be autoloaded.\n",
    );
    let k = EmulatedKernel::with_profile(via, r#"{"autoload": false}"#);
    check(
        &k,
        "modstat",
        &["-A"],
        0,
        "",
        "modstat: Modules can be autoloaded, but kern.module.autoload = 0.\n",
    );
    check(
        &k,
        "modstat",
        &["-a"],
        0,
        "",
        "modstat: Modules can be autoloaded.\n",
    );
    check(
        &k,
        "modstat",
        &["-e"],
        0,
        "",
        "modstat: You can load modules.\n",
    );
}

fn missing_module_and_missing_dependency(via: Via) {
    let k = default_kernel(via);
    check(
        &k,
        "modload",
        &["nosuch"],
        1,
        "",
        "modload: No such file or directory\nmodload: nosuch: no module file at /stand/amd64/10.1/modules/nosuch/nosuch.kmod\n",
    );
    // A file name is not a module name: the kernel looks for foo.kmod/foo.kmod.kmod.
    check(
        &k,
        "modload",
        &["example.kmod"],
        1,
        "",
        "modload: No such file or directory\nmodload: example.kmod: no module file at /stand/amd64/10.1/modules/example.kmod/example.kmod.kmod\n",
    );
    let dir = k.state_dir().join("root/stand/amd64/10.1/modules/hello");
    std::fs::remove_dir_all(dir).unwrap();
    let before = state(&k);
    check(
        &k,
        "modload",
        &["needy"],
        1,
        "",
        "modload: No such file or directory\n\
modload: needy: required module `hello' is not loaded and has no module file at /stand/amd64/10.1/modules/hello/hello.kmod\n",
    );
    assert_eq!(state(&k), before);
}

fn dependency_cycles_and_self_dependency(via: Via) {
    let k = fixture_kernel(via, "");
    let before = state(&k);
    check(
        &k,
        "modload",
        &["cyc_a"],
        1,
        "",
        "modload: Resource deadlock avoided\nmodload: cyc_a: circular dependency: cyc_a -> cyc_b -> cyc_a\n",
    );
    check(
        &k,
        "modload",
        &["selfdep"],
        1,
        "",
        "modload: Resource deadlock avoided\nmodload: selfdep: module `selfdep` lists itself among its required modules\n",
    );
    assert_eq!(state(&k), before);
}

fn three_deep_chain(via: Via) {
    let k = fixture_kernel(via, "");
    if via == Via::Emul {
        let dry = k.run("modload", &["-n", "chain_a"]);
        assert_eq!(dry.status, 0, "{}", dry.stderr);
        assert!(dry
            .stdout
            .contains("\nload order: chain_c -> chain_b -> chain_a\n"));
        assert!(dry
            .stdout
            .ends_with("verdict:    the kernel would load it\n"));
        assert_eq!(loaded(&k), "", "a dry run loads nothing");
    }
    check(&k, "modload", &["chain_a"], 0, "", "");
    let rows: Vec<String> = loaded(&k)
        .lines()
        .map(|l| l.split_whitespace().take(5).collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(
        rows,
        [
            "chain_a misc filesys - 0",
            "chain_b misc filesys a 1",
            "chain_c misc filesys a 1"
        ]
    );
    check(
        &k,
        "modunload",
        &["chain_c"],
        1,
        "",
        "modunload: chain_c: Device busy\nmodunload: chain_c: required by chain_b; unload it first\n",
    );
}

fn invalid_objects_are_refused_before_submission(via: Via) {
    let k = fixture_kernel(via, "");
    let before = state(&k);
    let amd64 = fixtures().join("amd64");
    let cases = [
        ("wrong_machine", "Exec format error", "built for powerpc64 (e_machine 21); an amd64 kernel accepts only EM_X86_64 (62)"),
        ("et_dyn", "Exec format error", "file type is 3 (ET_DYN, a shared object); a module must be a relocatable object (ET_REL, as made by ld -r)"),
        ("no_linkset", "No such file or directory", "no section link_set_modules: the object carries no module descriptor (it was not built with the MODULE() macro)"),
        ("name32", "Invalid argument", "the module name `name_exactly_thirty_two_chars_xx` is 32 characters; the limit is 31"),
        ("badclass", "Invalid argument", "class 9 is not a module class (1-6: misc, vfs, driver, exec, secmodel, bufq)"),
        ("linkset_size", "Exec format error", "section link_set_modules is 16 bytes (2 pointers); a module must hold exactly one 8-byte pointer there"),
        ("truncated_header", "Invalid argument", "the file is 40 bytes, shorter than the 64-byte ELF header the kernel reads"),
    ];
    for (name, strerror, reason) in cases {
        let p = amd64.join(format!("{name}.kmod"));
        let p = p.to_str().unwrap();
        check(
            &k,
            "modload",
            &[p],
            1,
            "",
            &format!("modload: {strerror}\nmodload: {p}: {reason}\n"),
        );
    }
    // Not certain in the kernel, but the descriptor cannot be read.
    let p = amd64.join("nonul.kmod");
    let p = p.to_str().unwrap();
    let out = k.run("modload", &[p]);
    assert_eq!(out.status, 1);
    assert_eq!(out.first_err(), rename(&k, "modload: Exec format error"));
    if via == Via::Emul {
        assert!(out
            .stderr
            .contains(": the module descriptor cannot be read: mi_name (`nonul`)"));
    }
    assert_eq!(state(&k), before);
}

fn symbols_against_the_kernel_symbol_table(via: Via) {
    // A symbol list without printf: example cannot be linked.
    let list = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(list.path(), "memcpy\nkmem_alloc\nhello_greet\n").unwrap();
    let k = fixture_kernel(via, &format!(r#", "ksyms": "{}""#, list.path().display()));
    check(
        &k,
        "modload",
        &["example"],
        1,
        "",
        "modload: Exec format error\nmodload: example: undefined symbols not in the kernel or the modules it requires: printf\n",
    );
    // hello defines hello_greet, which this kernel already has.
    check(
        &k,
        "modload",
        &["hello"],
        1,
        "",
        "modload: Exec format error\nmodload: hello: defines global symbols the kernel already has: hello_greet\n",
    );
    assert_eq!(loaded(&k), "");
}

fn property_lists_beside_modules(via: Via) {
    let k = default_kernel(via);
    let dir = k.state_dir().join("root/stand/amd64/10.1/modules/example");
    let plist = dir.join("example.plist");
    std::fs::write(&plist, vec![b' '; 9000]).unwrap();
    let before = state(&k);
    check(
        &k,
        "modload",
        &["example"],
        1,
        "",
        &format!(
            "modload: File too large\nmodload: example: {} has 9000 bytes; the kernel reads at most 8190\n",
            "/stand/amd64/10.1/modules/example/example.plist"
        ),
    );
    assert_eq!(state(&k), before);
    // -P: the kernel does not read it.
    check(&k, "modload", &["-P", "example"], 0, "", "");
    check(&k, "modunload", &["example"], 0, "", "");
    std::fs::write(&plist, "<plist><array/></plist>").unwrap();
    let out = k.run("modload", &["example"]);
    assert_eq!(out.status, 1);
    assert_eq!(out.first_err(), rename(&k, "modload: Invalid argument"));
    if via == Via::Emul {
        assert!(out
            .stderr
            .contains("example.plist is not a property list dictionary"));
    }
    std::fs::write(&plist, k.run("modload", &["-p", "-s", "a=b"]).stdout).unwrap();
    check(&k, "modload", &["example"], 0, "", "");
}

fn properties_too_big(via: Via) {
    let k = default_kernel(via);
    let big = format!("x={}", "y".repeat(5000));
    let size = k.run("modload", &["-p", "-s", &big]).stdout.len();
    assert!(size > 4096);
    check(
        &k,
        "modload",
        &["-s", &big, "example"],
        1,
        "",
        &format!("modload: Cannot allocate memory\nmodload: example: the properties take {size} bytes; the kernel accepts at most 4096\n"),
    );
}

fn module_init_and_fini_failures(via: Via) {
    let k = EmulatedKernel::with_profile(
        via,
        r#"{"auto_unload": false, "fail_init": {"example": "ENXIO"}, "fail_fini": {"hello": "EBUSY"}}"#,
    );
    check(
        &k,
        "modload",
        &["example"],
        1,
        "",
        "modload: Device not configured\n\
modload: example: the module's own initialisation failed with error 6 (ENXIO); the kernel log (dmesg) has its messages\n",
    );
    check(&k, "modload", &["hello"], 0, "", "");
    check(
        &k,
        "modunload",
        &["hello"],
        1,
        "",
        "modunload: hello: Device busy\nmodunload: hello: the module refused to unload itself (for a file system: is one still mounted?)\n",
    );
}

fn builtins_disable_and_reinstate_with_dependencies(via: Via) {
    let k = default_kernel(via);
    check(&k, "modunload", &["mfs", "ffs"], 0, "", "");
    let out = k.run("modstat", &["ffs"]);
    assert!(out
        .stdout
        .ends_with("ffs              vfs      builtin  -       -1       - wapbl\n"));
    check(
        &k,
        "modload",
        &["mfs"],
        1,
        "",
        "modload: Operation not permitted\nmodload: mfs: builtin module `mfs' was disabled by modunload; use modload -f to reinstate it\n",
    );
    check(&k, "modload", &["-f", "mfs"], 0, "", "");
    let out = k.run("modstat", &[] as &[&str]).stdout;
    assert!(
        out.contains("\nmfs              vfs      builtin  f        0       - ffs\n"),
        "{out}"
    );
    assert!(
        out.contains("\nffs              vfs      builtin  "),
        "{out}"
    );
    // The reference count is looked at before the class.
    check(
        &k,
        "modunload",
        &["suser"],
        1,
        "",
        "modunload: suser: Device busy\nmodunload: suser: required by secmodel_bsd44; unload it first\n",
    );
    check(
        &k,
        "modunload",
        &["secmodel_bsd44"],
        1,
        "",
        "modunload: secmodel_bsd44: Operation not permitted\n\
modunload: secmodel_bsd44: `secmodel_bsd44' is a security model built into the kernel and cannot be unloaded\n",
    );
}

fn unload_names(via: Via) {
    let k = default_kernel(via);
    let long = "a".repeat(40);
    check(
        &k,
        "modunload",
        &[&long],
        1,
        "",
        &format!("modunload: {long}: File name too long\nmodunload: {long}: module names are at most 31 bytes; this one has 40\n"),
    );
    check(
        &k,
        "modunload",
        &["example.kmod"],
        1,
        "",
        "modunload: example.kmod: No such file or directory\n\
modunload: example.kmod: modunload takes a module name as modstat(8) shows it, not a file name\n",
    );
}

#[test]
fn no_reason_when_nothing_is_known() {
    // Through rump the kernel's files are not ours: only NetBSD's line.
    let k = EmulatedKernel::with_profile(Via::Rump, r#"{"auto_unload": false}"#);
    check(
        &k,
        "modload",
        &["nosuch"],
        1,
        "",
        "rump.modload: No such file or directory\n",
    );
    check(&k, "modload", &["example"], 0, "", "");
    check(&k, "modunload", &["example"], 0, "", "");
}

/// Every scenario above, run as the plain tools against the emulator and
/// as rump.* through the stand-in librumpclient.
macro_rules! both_ways {
    ($($name:ident),* $(,)?) => {
        mod emul {
            $( #[test] fn $name() { super::$name(e2e::Via::Emul) } )*
        }
        mod rump {
            $( #[test] fn $name() { super::$name(e2e::Via::Rump) } )*
        }
    };
}

both_ways!(
    bundled_examples_load_by_name_with_dependencies,
    already_loaded,
    version_mismatch_and_force,
    not_root_and_securelevel,
    autoload_queries,
    missing_module_and_missing_dependency,
    dependency_cycles_and_self_dependency,
    three_deep_chain,
    invalid_objects_are_refused_before_submission,
    symbols_against_the_kernel_symbol_table,
    property_lists_beside_modules,
    properties_too_big,
    module_init_and_fini_failures,
    builtins_disable_and_reinstate_with_dependencies,
    unload_names,
);

#[test]
fn rump_dry_runs_say_what_they_could_not_check() {
    let k = EmulatedKernel::with_profile(Via::Rump, r#"{"auto_unload": false}"#);
    let out = k.run("modload", &["-n", "example"]);
    assert_eq!(out.status, 0);
    assert!(out.stdout.contains(
        "  warning: example: a rump kernel opens module files in its own namespace, so the module file was not checked\n"
    ));
}

/// t_modload.sh's positive cases, with the bundled example standing in
/// for k_helper: options parse, the load succeeds silently, unload too.
fn t_modload_positive(via: Via) {
    let k = default_kernel(via);
    let path = k
        .state_dir()
        .join("root/stand/amd64/10.1/modules/example/example.kmod");
    let path = path.to_str().unwrap();
    check(&k, "modload", &["non-existent.o"], 1, "", "modload: No such file or directory\nmodload: non-existent.o: no module file at /stand/amd64/10.1/modules/non-existent.o/non-existent.o.kmod\n");
    check(&k, "modload", &[path], 0, "", "");
    check(&k, "modunload", &["example"], 0, "", "");
    for v in ["5", "10"] {
        check(
            &k,
            "modload",
            &["-i", &format!("prop_int={v}"), path],
            0,
            "",
            "",
        );
        check(&k, "modunload", &["example"], 0, "", "");
    }
    for v in ["1st string", "2nd string"] {
        check(
            &k,
            "modload",
            &["-s", &format!("prop_str={v}"), path],
            0,
            "",
            "",
        );
        check(&k, "modunload", &["example"], 0, "", "");
    }
    check(
        &k,
        "modload",
        &["-b", "flag=true", "-f", "-P", "example"],
        0,
        "",
        "",
    );
}

/// A name longer than 16 characters widens NAME for every row.
fn long_names_widen_the_listing(via: Via) {
    let k = booted(EmulatedKernel::with_profile(
        via,
        r#"{"builtins": [{"name": "ffs", "class": "vfs"}, {"name": "a_rather_long_module_name", "class": "driver"}]}"#,
    ));
    check(
        &k,
        "modstat",
        &[],
        0,
        "NAME                      CLASS    SOURCE   FLAG  REFS    SIZE REQUIRES \n\
a_rather_long_module_name driver   builtin  -        0       - -\n\
ffs                       vfs      builtin  -        0       - -\n",
        "",
    );
    check(
        &k,
        "modstat",
        &["-k", "ffs"],
        0,
        "NAME                      CLASS    SOURCE   FLAG  REFS ADDRESS             SIZE REQUIRES \n\
ffs                       vfs      builtin  -        0 0                      - -\n",
        "",
    );
}

mod more {
    use super::*;

    #[test]
    fn t_modload_positive_emul() {
        t_modload_positive(Via::Emul);
    }
    #[test]
    fn t_modload_positive_rump() {
        t_modload_positive(Via::Rump);
    }
    #[test]
    fn long_names_emul() {
        long_names_widen_the_listing(Via::Emul);
    }
    #[test]
    fn long_names_rump() {
        long_names_widen_the_listing(Via::Rump);
    }
}
