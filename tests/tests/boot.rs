//! Boot-loader modules: an emulated kernel booted with `boot_modules`
//! (listing, unload and reload, the modules that fail and why), and
//! `modload -n --boot-cfg` checking a boot.cfg against the kernel that
//! will boot, in text and JSON, agreeing with what the boot then does.

use std::path::{Path, PathBuf};

use e2e::{fixtures, EmulatedKernel, Output, Via};
use serde_json::Value;

/// The boot loader's module directory of NetBSD 10.1 amd64.
const LOADER_DIR: &str = "stand/amd64/10.1/modules";

/// A directory standing for `/`, with these fixture modules where the
/// boot loader (and the kernel) look for them by name.
fn root_with(modules: &[&str]) -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    for m in modules {
        put(root.path(), m, m);
    }
    root
}

/// Copies fixture module `fixture` to `<root>/<loader dir>/<name>/<name>.kmod`.
fn put(root: &Path, fixture: &str, name: &str) -> PathBuf {
    let dir = root.join(LOADER_DIR).join(name);
    std::fs::create_dir_all(&dir).unwrap();
    let to = dir.join(format!("{name}.kmod"));
    std::fs::copy(
        fixtures()
            .join("modules")
            .join(fixture)
            .join(format!("{fixture}.kmod")),
        &to,
    )
    .unwrap();
    to
}

/// A kernel over `root` booting with `boot_modules` (and `extra` keys).
fn booted(root: &Path, boot_modules: &[&str], extra: &str) -> EmulatedKernel {
    let list = serde_json::to_string(boot_modules).unwrap();
    let k = EmulatedKernel::with_profile(
        Via::Emul,
        &format!(
            r#"{{"module_root": "{}", "auto_unload": false, "boot_modules": {list} {extra}}}"#,
            root.display()
        ),
    );
    assert_eq!(k.run("modstat", &["-n", "none"]).status, 0);
    k
}

fn boot_messages(k: &EmulatedKernel) -> Vec<String> {
    let st: Value =
        serde_json::from_slice(&std::fs::read(k.state_dir().join("state.json")).unwrap()).unwrap();
    st["boot_messages"]
        .as_array()
        .map(|a| a.iter().map(|m| m.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

fn rows_from(k: &EmulatedKernel, source: &str) -> String {
    let out = k.run("modstat", &["-k"]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    out.stdout
        .lines()
        .filter(|l| l.split_whitespace().nth(2) == Some(source))
        .map(|l| format!("{l}\n"))
        .collect()
}

const ALL: [&str; 5] = ["needy", "bootfs", "hello", "bootsec", "example"];

#[test]
fn modstat_lists_boot_modules_as_netbsd_does() {
    let root = root_with(&ALL);
    let k = booted(root.path(), &ALL, "");
    let out = k.run("modstat", &[] as &[&str]);
    assert_eq!(
        (out.stdout.as_str(), out.stderr.as_str(), out.status),
        (
            "NAME             CLASS    SOURCE   FLAG  REFS    SIZE REQUIRES \n\
             bootfs           vfs      boot     -        0      66 hello\n\
             bootsec          secmodel boot     -        0      66 -\n\
             cd9660           vfs      builtin  -        0       - -\n\
             coredump         misc     builtin  -        1       - -\n\
             example          misc     boot     -        0      66 -\n\
             exec_elf64       exec     builtin  -        0       - coredump\n\
             exec_script      exec     builtin  -        0       - -\n\
             extensions       secmodel builtin  -        1       - -\n\
             ffs              vfs      builtin  -        1       - wapbl\n\
             hello            misc     boot     a        2      81 -\n\
             kernfs           vfs      builtin  -        0       - -\n\
             ksem             misc     builtin  -        0       - -\n\
             layerfs          misc     builtin  -        1       - -\n\
             mfs              vfs      builtin  -        0       - ffs\n\
             msdos            vfs      builtin  -        0       - -\n\
             needy            misc     boot     -        0      47 hello\n\
             nfs              vfs      builtin  -        0       - -\n\
             null             vfs      builtin  -        0       - layerfs\n\
             procfs           vfs      builtin  -        0       - -\n\
             ptyfs            vfs      builtin  -        0       - -\n\
             secmodel_bsd44   secmodel builtin  -        0       - suser,securelevel,extensions\n\
             securelevel      secmodel builtin  -        1       - -\n\
             suser            secmodel builtin  -        1       - -\n\
             tmpfs            vfs      builtin  -        0       - -\n\
             wapbl            vfs      builtin  -        1       - -\n",
            "",
            0
        )
    );
    // Text in the order of initialisation: the secmodel pass, the vfs
    // pass (bootfs pulls hello off the boot list first), then the rest.
    assert_eq!(
        rows_from(&k, "boot"),
        "bootfs           vfs      boot     -        0 ffffffff82002000      66 hello\n\
         bootsec          secmodel boot     -        0 ffffffff82000000      66 -\n\
         example          misc     boot     -        0 ffffffff82004000      66 -\n\
         hello            misc     boot     a        2 ffffffff82001000      81 -\n\
         needy            misc     boot     -        0 ffffffff82003000      47 hello\n"
    );
    assert!(boot_messages(&k).is_empty());
    // modstat --json says the same.
    let out = k.run("modstat", &["--json"]);
    let doc: Value = serde_json::from_str(&out.stdout).unwrap();
    let hello = doc["modules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "hello")
        .unwrap();
    assert_eq!(hello["source"], "boot");
    assert_eq!(hello["auto_loaded"], true);
}

#[test]
fn boot_modules_unload_for_good_and_come_back_from_the_file_system() {
    let root = root_with(&ALL);
    let k = booted(root.path(), &ALL, "");
    let out = k.run("modunload", &["hello"]);
    assert_eq!(out.status, 1);
    assert_eq!(out.first_err(), "modunload: hello: Device busy");
    for m in ["needy", "bootfs", "hello", "bootsec"] {
        let out = k.run("modunload", &[m]);
        assert_eq!((out.status, out.stderr.as_str()), (0, ""), "{m}");
    }
    assert_eq!(
        rows_from(&k, "boot"),
        "example          misc     boot     -        0 ffffffff82004000      66 -\n"
    );
    // Unloaded boot modules are gone; loading one reads its file.
    assert_eq!(k.run("modload", &["needy"]).status, 0);
    assert_eq!(
        rows_from(&k, "filesys"),
        "hello            misc     filesys  a        1 ffffffff82000000      81 -\n\
         needy            misc     filesys  -        0 ffffffff82001000      47 hello\n"
    );
}

#[test]
fn boot_modules_that_fail_are_dropped_with_the_kernels_messages() {
    let root = root_with(&["hello", "needy", "example", "old93", "chain_a", "chain_b"]);
    // A file named like a built-in, and a second path to hello.
    put(root.path(), "hello", "ffs");
    let hello_path = format!("/{LOADER_DIR}/hello/hello.kmod");
    let k = booted(
        root.path(),
        &[
            "ffs",
            "old93",
            "nosuch",
            "example",
            "hello",
            &hello_path,
            "chain_a",
            "chain_b",
        ],
        r#", "fail_init": {"example": "ENXIO"}"#,
    );
    // chain_b requires chain_c, which is neither built in nor passed.
    assert_eq!(
        rows_from(&k, "boot"),
        "hello            misc     boot     -        0 ffffffff82000000      81 -\n"
    );
    assert_eq!(
        boot_messages(&k),
        [
            "WARNING: couldn't open nosuch (/stand/amd64/10.1/modules/nosuch/nosuch.kmod)",
            "WARNING: 1 module failed to load",
            "WARNING: module error: module `ffs' pushed by boot loader already exists",
            "WARNING: module error: module `old93' built for `903000000', system `1001000000'",
            "WARNING: module error: modcmd(CMD_INIT) failed for `example', error 6",
            "WARNING: module error: recursive load causes duplicate module `hello'",
            "WARNING: module error: recursive load failed for `chain_b' (`chain_c' required), error 45",
            "WARNING: module error: recursive load failed for `chain_a' (`chain_b' required), error 45",
        ]
    );
}

#[test]
fn a_dependency_comes_only_from_the_boot_list() {
    let root = root_with(&["hello", "needy"]);
    // needy alone: hello is on the disk, but the disk is not mounted yet.
    let k = booted(root.path(), &["needy"], "");
    assert_eq!(rows_from(&k, "boot"), "");
    assert_eq!(
        boot_messages(&k),
        ["WARNING: module error: recursive load failed for `needy' (`hello' required), error 45"]
    );
    // With hello passed too, in either order.
    for list in [["needy", "hello"], ["hello", "needy"]] {
        let k = booted(root.path(), &list, "");
        let rows = rows_from(&k, "boot");
        assert!(
            rows.contains("needy            misc     boot     -        0"),
            "{rows}"
        );
        assert!(rows.contains("hello            misc     boot"), "{rows}");
    }
}

// ---------------------------------------------------------------------
// modload -n --boot-cfg

fn schema() -> jsonschema::Validator {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/bootcfg.schema.json");
    let text = std::fs::read_to_string(path).unwrap();
    jsonschema::validator_for(&serde_json::from_str(&text).unwrap()).unwrap()
}

fn valid(out: &Output) -> Value {
    let doc: Value = serde_json::from_str(&out.stdout).expect("one JSON document");
    let errors: Vec<String> = schema().iter_errors(&doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}\n{}", out.stdout);
    doc
}

/// A kernel whose profile describes the next boot (nothing booted yet
/// but what the profile says), and a boot.cfg beside it.
fn next_kernel(root: &Path, extra: &str, cfg: &str) -> (EmulatedKernel, PathBuf) {
    let k = EmulatedKernel::with_profile(
        Via::Emul,
        &format!(
            r#"{{"module_root": "{}", "auto_unload": false {extra}}}"#,
            root.display()
        ),
    );
    let file = k.state_dir().join("boot.cfg");
    std::fs::write(&file, cfg).unwrap();
    (k, file)
}

const CFG: &str = "# modules for every entry\n\
load=hello\n\
menu=Boot normally:boot\n\
menu=Boot with the lot:load needy;load bootfs;load bootsec;boot\n\
menu=Old:load old93;boot netbsd\n\
menu=Broken:load nosuch;load ffs;load needy;load /stand/amd64/10.1/modules/hello/hello.kmod;boot netbsd\n\
menu=Without modules:modules off;boot netbsd -s\n\
menu=Drop to the prompt:prompt\n\
default=2\n\
timeout=5\n";

#[test]
fn boot_cfg_check_text() {
    let root = root_with(&["hello", "needy", "bootfs", "bootsec", "old93"]);
    put(root.path(), "hello", "ffs");
    let (k, file) = next_kernel(root.path(), "", CFG);
    let out = k.run("modload", &["-n", "--boot-cfg", file.to_str().unwrap()]);
    let dir = k.state_dir().display().to_string();
    let expected = format!(
        "boot.cfg:    {dir}/boot.cfg\n\
kernel:      NetBSD 10.1 (1001000000) amd64 (the emulated kernel's profile, {dir}/profile.json)\n\
loader path: /stand/amd64/10.1/modules\n\
\n\
entry 1: Boot normally\n  \
commands:   boot\n  \
note:       `boot' without a kernel or flags first runs the default entry (2) (bootdefault)\n  \
hello:   loaded (2nd, pass vfs, as a dependency of bootfs; flag a) from /stand/amd64/10.1/modules/hello/hello.kmod\n  \
needy:   loaded (4th, pass any) from /stand/amd64/10.1/modules/needy/needy.kmod\n  \
bootfs:  loaded (3rd, pass vfs) from /stand/amd64/10.1/modules/bootfs/bootfs.kmod\n  \
bootsec: loaded (1st, pass secmodel) from /stand/amd64/10.1/modules/bootsec/bootsec.kmod\n  \
load order: bootsec -> hello -> bootfs -> needy\n  \
verdict:    every module would load\n\
\n\
entry 2 (default): Boot with the lot\n  \
commands:   load needy;load bootfs;load bootsec;boot\n  \
note:       `boot' without a kernel or flags runs this, the default entry, once more (bootdefault)\n  \
hello:   loaded (2nd, pass vfs, as a dependency of bootfs; flag a) from /stand/amd64/10.1/modules/hello/hello.kmod\n  \
needy:   loaded (4th, pass any) from /stand/amd64/10.1/modules/needy/needy.kmod\n  \
bootfs:  loaded (3rd, pass vfs) from /stand/amd64/10.1/modules/bootfs/bootfs.kmod\n  \
bootsec: loaded (1st, pass secmodel) from /stand/amd64/10.1/modules/bootsec/bootsec.kmod\n  \
load order: bootsec -> hello -> bootfs -> needy\n  \
verdict:    every module would load\n\
\n\
entry 3: Old\n  \
commands:   load old93;boot netbsd\n  \
boots:      netbsd\n  \
hello: loaded (1st, pass any) from /stand/amd64/10.1/modules/hello/hello.kmod\n  \
old93: error EPROGMISMATCH: built for NetBSD 9.3 (903000000) but the kernel is NetBSD 10.1 (1001000000); a release kernel accepts only modules of the same major.minor release; a boot module cannot be forced\n  \
load order: hello\n  \
verdict:    1 of 2 modules would not load\n\
\n\
entry 4: Broken\n  \
commands:   load nosuch;load ffs;load needy;load /stand/amd64/10.1/modules/hello/hello.kmod;boot netbsd\n  \
boots:      netbsd\n  \
hello:                                      loaded (1st, pass any) from /stand/amd64/10.1/modules/hello/hello.kmod\n  \
nosuch:                                     error ENOENT: the boot loader finds neither /stand/amd64/10.1/modules/nosuch/nosuch.kmod nor /nosuch\n  \
ffs:                                        error EEXIST as `hello': `ffs' is the name of a module built into the kernel, and the kernel refuses a boot module of that name\n  \
needy:                                      loaded (2nd, pass any) from /stand/amd64/10.1/modules/needy/needy.kmod\n  \
/stand/amd64/10.1/modules/hello/hello.kmod: error EEXIST as `hello': a module named `hello' is already active (an earlier boot module or a built-in): this one is initialised, finalised and dropped\n  \
load order: hello -> needy\n  \
verdict:    3 of 5 modules would not load\n\
\n\
entry 5: Without modules\n  \
commands:   modules off;boot netbsd -s\n  \
boots:      netbsd\n  \
hello: not passed: modules are disabled (`modules off'): the boot loader passes none\n  \
load order: -\n  \
verdict:    every module would load\n\
\n\
entry 6: Drop to the prompt\n  \
commands:   prompt\n  \
note:       does not boot: it drops to the boot prompt\n  \
hello: loaded (1st, pass any) from /stand/amd64/10.1/modules/hello/hello.kmod\n  \
load order: hello\n  \
verdict:    no kernel boots, so no module is loaded\n"
    );
    assert_eq!(out.stdout, expected);
    assert_eq!((out.stderr.as_str(), out.status), ("", 0));

    // The default entry decides the exit status.
    let (k, file) = next_kernel(root.path(), "", &CFG.replace("default=2", "default=3"));
    let out = k.run("modload", &["-n", "--boot-cfg", file.to_str().unwrap()]);
    assert_eq!(out.status, 1, "{}", out.stdout);
    // The running emulated kernel is left as it was: nothing booted.
    assert_eq!(rows_from(&k, "boot"), "");
}

#[test]
fn boot_cfg_check_json() {
    let root = root_with(&["hello", "needy", "bootfs", "bootsec", "old93"]);
    put(root.path(), "hello", "ffs");
    let (k, file) = next_kernel(root.path(), "", CFG);
    let out = k.run(
        "modload",
        &["-n", "--json", "--boot-cfg", file.to_str().unwrap()],
    );
    assert_eq!(out.status, 0, "{}", out.stderr);
    let doc = valid(&out);
    assert_eq!(doc["schema"], 1);
    assert_eq!(doc["default_entry"], 2);
    assert_eq!(doc["would_load"], true);
    let entries = doc["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 6);
    assert_eq!(
        entries[1]["load_order"],
        serde_json::json!(["bootsec", "hello", "bootfs", "needy"])
    );
    let old = &entries[2]["modules"][1];
    assert_eq!(old["status"], "failed");
    assert_eq!(old["error"]["name"], "EPROGMISMATCH");
    assert_eq!(old["pass"], "any");
    assert_eq!(
        old["console"][0],
        "WARNING: module error: module `old93' built for `903000000', system `1001000000'"
    );
    let broken = entries[3]["modules"].as_array().unwrap();
    let status: Vec<&str> = broken
        .iter()
        .map(|m| m["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        status,
        ["loaded", "not found", "not primed", "loaded", "failed"]
    );
    assert_eq!(
        broken[1]["tried"],
        serde_json::json!(["/stand/amd64/10.1/modules/nosuch/nosuch.kmod", "nosuch"])
    );
    assert_eq!(entries[4]["modules_enabled"], false);
    assert_eq!(entries[5]["ends"], "none");

    // --json may come before or after; the file may be attached.
    let arg = format!("--boot-cfg={}", file.display());
    let again = k.run("modload", &["--json", "-n", &arg]);
    assert_eq!(again.stdout, out.stdout);
}

/// What the check says a list of modules does is what the boot does.
#[test]
fn the_check_agrees_with_the_boot() {
    let root = root_with(&[
        "hello", "needy", "bootfs", "bootsec", "example", "old93", "chain_a",
    ]);
    put(root.path(), "hello", "ffs");
    // hello comes by path first, so its name is then refused when primed.
    let list = [
        "chain_a",
        "needy",
        "old93",
        "ffs",
        "bootfs",
        "nosuch",
        "/stand/amd64/10.1/modules/hello/hello.kmod",
        "hello",
        "bootsec",
        "example",
    ];
    let cfg: String = list.iter().map(|m| format!("load={m}\n")).collect();
    let extra = r#", "fail_init": {"example": "EIO"}"#;
    let (k, file) = next_kernel(root.path(), extra, &cfg);
    let out = k.run(
        "modload",
        &["-n", "--json", "--boot-cfg", file.to_str().unwrap()],
    );
    assert_eq!(out.status, 1);
    let doc = valid(&out);
    let entry = &doc["entries"][0];
    assert_eq!(entry["entry"], Value::Null);
    assert_eq!(entry["default"], true);
    let hello = &entry["modules"][7];
    assert_eq!(hello["status"], "not primed");
    assert_eq!(
        hello["console"][0],
        "WARNING: module error: duplicate bootlist entry for module `hello'"
    );
    let needs = &entry["modules"][0];
    assert_eq!(needs["error"]["name"], "EOPNOTSUPP");
    assert!(
        needs["reason"]
            .as_str()
            .unwrap()
            .starts_with("it requires `chain_b', which is neither built into the kernel"),
        "{needs}"
    );
    let loaded: Vec<String> = entry["load_order"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(loaded, ["bootsec", "hello", "bootfs", "needy"]);

    let booted = booted(root.path(), &list, extra);
    let rows = rows_from(&booted, "boot");
    let mut names: Vec<&str> = rows
        .lines()
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    names.sort_unstable();
    let mut expected = loaded.clone();
    expected.sort();
    assert_eq!(names, expected);
    // The boot's console lines are the check's, module by module.
    let messages = boot_messages(&booted);
    for m in entry["modules"].as_array().unwrap() {
        for line in m["console"].as_array().unwrap() {
            assert!(
                messages.iter().any(|l| l == line),
                "{line} not in {messages:?}"
            );
        }
    }
}

/// The same boot.cfg against the release after this one: a profile for
/// NetBSD 9.3 here, whose loader looks in /stand/amd64/9.3/modules.
#[test]
fn checked_against_another_release() {
    let root = tempfile::tempdir().unwrap();
    for m in ["hello", "old93"] {
        let dir = root.path().join("stand/amd64/9.3/modules").join(m);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(
            fixtures().join("modules").join(m).join(format!("{m}.kmod")),
            dir.join(format!("{m}.kmod")),
        )
        .unwrap();
    }
    let (k, file) = next_kernel(
        root.path(),
        r#", "osrelease": "9.3""#,
        "load=old93\nload=hello\n",
    );
    let out = k.run("modload", &["-n", "--boot-cfg", file.to_str().unwrap()]);
    assert_eq!(out.status, 1);
    assert!(
        out.stdout
            .contains("loader path: /stand/amd64/9.3/modules\n"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains(
            "  old93: loaded (1st, pass any) from /stand/amd64/9.3/modules/old93/old93.kmod\n"
        ),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("  hello: error EPROGMISMATCH: built for NetBSD 10.1"),
        "{}",
        out.stdout
    );
}

#[test]
fn boot_cfg_usage_errors() {
    let root = root_with(&["hello"]);
    let (k, file) = next_kernel(root.path(), "", "load=hello\n");
    let f = file.to_str().unwrap();

    let out = k.run("modload", &["--boot-cfg", f]);
    assert_eq!(out.status, 1);
    assert_eq!(
        out.stderr,
        "modload: --boot-cfg FILE checks a boot configuration: use it with -n and no module\n"
    );
    let out = k.run("modload", &["-n", "--boot-cfg", f, "hello"]);
    assert_eq!(out.status, 1);
    let out = k.run("modload", &["-n", "--boot-cfg"]);
    assert_eq!(out.status, 1);
    assert_eq!(
        out.first_err(),
        "modload: option requires an argument -- --boot-cfg"
    );
    assert!(out.stderr.contains("Usage: modload"), "{}", out.stderr);
    let out = k.run("modload", &["-n", "--boot-cfg", "/nonexistent/boot.cfg"]);
    assert_eq!(
        (out.stdout.as_str(), out.stderr.as_str(), out.status),
        (
            "",
            "modload: /nonexistent/boot.cfg: No such file or directory\n",
            1
        )
    );
    // A rump kernel is not booted by a boot loader.
    let k = EmulatedKernel::with_profile(Via::Rump, "{}");
    let out = k.run("modload", &["-n", "--boot-cfg", f]);
    assert_eq!(
        (out.stderr.as_str(), out.status),
        (
            "rump.modload: a rump kernel is not started by a boot loader\n",
            1
        )
    );
}
