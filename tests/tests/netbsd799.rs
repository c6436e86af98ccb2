//! What NetBSD's own tools printed on a real NetBSD 7.99.34 kernel,
//! replayed against an emulated 7.99.34 kernel with the same builtins, in
//! the r1.24 listing format. The first
//! stderr line, stdout and exit status are NetBSD's; our extra reason
//! lines are asserted too.

use e2e::{EmulatedKernel, Via};

const PROFILE: &str = r#"{
  "osrelease": "7.99.34",
  "machine": "amd64",
  "autoload": false,
  "builtins": [
    {"name": "ffs", "class": "vfs", "requires": "wapbl"},
    {"name": "kernfs", "class": "vfs"},
    {"name": "ksem", "class": "misc"},
    {"name": "layerfs", "class": "misc"},
    {"name": "null", "class": "vfs", "requires": "layerfs"},
    {"name": "suser", "class": "secmodel"},
    {"name": "tmpfs", "class": "vfs"},
    {"name": "wapbl", "class": "vfs"}
  ]
}"#;

const HEADER: &str = "NAME             CLASS    SOURCE   FLAG  REFS    SIZE REQUIRES \n";

fn step(k: &EmulatedKernel, tool: &str, args: &[&str], status: i32, stdout: &str, stderr: &str) {
    let out = k.run(tool, args);
    assert_eq!(
        (out.stdout.as_str(), out.stderr.as_str(), out.status),
        (k.expect(stdout).as_str(), k.expect(stderr).as_str(), status),
        "{} {args:?}",
        k.prog(tool)
    );
}

fn scenario(via: Via) {
    let k = EmulatedKernel::with_profile(via, PROFILE);
    let listing = format!(
        "{HEADER}\
ffs              vfs      builtin  -        0       - wapbl\n\
kernfs           vfs      builtin  -        0       - -\n\
ksem             misc     builtin  -        0       - -\n\
layerfs          misc     builtin  -        1       - -\n\
null             vfs      builtin  -        0       - layerfs\n\
suser            secmodel builtin  -        0       - -\n\
tmpfs            vfs      builtin  -        0       - -\n\
wapbl            vfs      builtin  -        1       - -\n"
    );
    step(&k, "modstat", &[], 0, &listing, "");
    let with_k =
        "NAME             CLASS    SOURCE   FLAG  REFS ADDRESS             SIZE REQUIRES \n";
    let out = k.run("modstat", &["-k"]);
    assert_eq!(out.status, 0);
    assert!(out.stdout.starts_with(with_k));
    assert!(out
        .stdout
        .contains("\nsuser            secmodel builtin  -        0 0                      - -\n"));
    assert_eq!(out.stdout.lines().count(), 9);
    step(
        &k,
        "modstat",
        &["-k", "-n", "ffs"],
        0,
        &format!("{with_k}ffs              vfs      builtin  -        0 0                      - wapbl\n"),
        "",
    );
    let tmpfs = format!("{HEADER}tmpfs            vfs      builtin  -        0       - -\n");
    step(&k, "modstat", &["tmpfs"], 0, &tmpfs, "");
    step(&k, "modstat", &["-n", "tmpfs"], 0, &tmpfs, "");
    step(&k, "modstat", &["nosuch"], 0, HEADER, "");
    step(
        &k,
        "modstat",
        &["-e"],
        0,
        "",
        "{modstat}: You can load modules.\n",
    );
    step(
        &k,
        "modstat",
        &["-a"],
        0,
        "",
        "{modstat}: Modules can be autoloaded.\n",
    );
    step(
        &k,
        "modstat",
        &["-A"],
        0,
        "",
        "{modstat}: Modules can be autoloaded, but kern.module.autoload = 0.\n",
    );
    // The last of -A/-a/-e wins.
    step(
        &k,
        "modstat",
        &["-Ae"],
        0,
        "",
        "{modstat}: You can load modules.\n",
    );

    // §7.2: disable and reinstate a builtin.
    step(&k, "modunload", &["tmpfs"], 0, "", "");
    step(
        &k,
        "modstat",
        &["tmpfs"],
        0,
        &format!("{HEADER}tmpfs            vfs      builtin  -       -1       - -\n"),
        "",
    );
    step(
        &k,
        "modunload",
        &["tmpfs"],
        1,
        "",
        "{modunload}: tmpfs: No such file or directory\n\
{modunload}: tmpfs: builtin module `tmpfs' is already disabled (modload -f tmpfs reinstates it)\n",
    );
    step(
        &k,
        "modload",
        &["tmpfs"],
        1,
        "",
        "{modload}: Operation not permitted\n\
{modload}: tmpfs: builtin module `tmpfs' was disabled by modunload; use modload -f to reinstate it\n",
    );
    step(&k, "modload", &["-f", "tmpfs"], 0, "", "");
    step(
        &k,
        "modstat",
        &["tmpfs"],
        0,
        &format!("{HEADER}tmpfs            vfs      builtin  f        0       - -\n"),
        "",
    );
    step(
        &k,
        "modload",
        &["tmpfs"],
        1,
        "",
        "{modload}: File exists\n{modload}: tmpfs: module `tmpfs' is already loaded (built into the kernel)\n",
    );
    step(
        &k,
        "modunload",
        &["wapbl"],
        1,
        "",
        "{modunload}: wapbl: Device busy\n{modunload}: wapbl: required by ffs; unload it first\n",
    );
    step(
        &k,
        "modunload",
        &["layerfs"],
        1,
        "",
        "{modunload}: layerfs: Device busy\n{modunload}: layerfs: required by null; unload it first\n",
    );
    // A builtin security model cannot be unloaded.
    step(
        &k,
        "modunload",
        &["suser"],
        1,
        "",
        "{modunload}: suser: Operation not permitted\n\
{modunload}: suser: `suser' is a security model built into the kernel and cannot be unloaded\n",
    );

    // §7.3: missing modules.
    step(
        &k,
        "modunload",
        &["nosuch"],
        1,
        "",
        "{modunload}: nosuch: No such file or directory\n{modunload}: nosuch: no module named `nosuch' is loaded\n",
    );
    let (nosuch, missing_path, empty) = if via == Via::Emul {
        (
            "{modload}: nosuch: no module file at /stand/amd64/7.99.34/modules/nosuch/nosuch.kmod\n",
            "{modload}: /nonexistent/foo.kmod: no such file: /nonexistent/foo.kmod\n",
            "{modload}: : no module file at /stand/amd64/7.99.34/modules//.kmod\n",
        )
    } else {
        // A rump kernel's files are not ours to look at.
        ("", "", "")
    };
    step(
        &k,
        "modload",
        &["nosuch"],
        1,
        "",
        &format!("{{modload}}: No such file or directory\n{nosuch}"),
    );
    step(
        &k,
        "modload",
        &["/nonexistent/foo.kmod"],
        1,
        "",
        &format!("{{modload}}: No such file or directory\n{missing_path}"),
    );
    step(
        &k,
        "modload",
        &[""],
        1,
        "",
        &format!("{{modload}}: No such file or directory\n{empty}"),
    );
    step(
        &k,
        "modunload",
        &[""],
        1,
        "",
        "{modunload}: : No such file or directory\n{modunload}: : no module named `' is loaded\n",
    );

    // modunload stops at the first failure; names before it stay unloaded.
    step(
        &k,
        "modunload",
        &["kernfs", "wapbl", "ksem"],
        1,
        "",
        "{modunload}: wapbl: Device busy\n{modunload}: wapbl: required by ffs; unload it first\n",
    );
    let after = k.run("modstat", &[] as &[&str]).stdout;
    assert!(after.contains("\nkernfs           vfs      builtin  -       -1       - -\n"));
    assert!(after.contains("\nksem             misc     builtin  -        0       - -\n"));
}

#[test]
fn observed_799_through_the_emulator() {
    scenario(Via::Emul);
}

#[test]
fn observed_799_through_rump() {
    scenario(Via::Rump);
}
