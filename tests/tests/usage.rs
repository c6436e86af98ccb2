//! Usage texts, getopt errors, property parsing and `modload -p`: the
//! parts of the tools that run before any kernel call, as NetBSD's
//! modload r1.15, modunload r1.6 and modstat print them. Every case runs both as the plain tools against the
//! emulator and as rump.* against the stand-in librumpclient.

use e2e::{EmulatedKernel, Via};

const MODLOAD_USAGE: &str = "Usage: {modload} [-fP] [-b var=boolean] [-i var=integer] [-s var=string] module\n       {modload} -p [-b var=boolean] [-d var] [-i var=integer] [-m plist]\n               [-s var=string]\n";

fn check(k: &EmulatedKernel, tool: &str, args: &[&str], status: i32, stdout: &str, stderr: &str) {
    let out = k.run(tool, args);
    assert_eq!(
        (out.status, out.stdout.as_str(), out.stderr.as_str()),
        (status, k.expect(stdout).as_str(), k.expect(stderr).as_str()),
        "{} {args:?}",
        k.prog(tool)
    );
}

fn both(f: impl Fn(&EmulatedKernel)) {
    f(&EmulatedKernel::new(Via::Emul));
    f(&EmulatedKernel::new(Via::Rump));
}

#[test]
fn modload_usage_and_getopt_errors() {
    both(|k| {
        check(k, "modload", &[], 1, "", MODLOAD_USAGE);
        check(k, "modload", &["a", "b"], 1, "", MODLOAD_USAGE);
        check(k, "modload", &["tmpfs", "-f"], 1, "", MODLOAD_USAGE);
        let req = format!("{{modload}}: option requires an argument -- i\n{MODLOAD_USAGE}");
        check(k, "modload", &["-i"], 1, "", &req);
        let req = format!("{{modload}}: option requires an argument -- b\n{MODLOAD_USAGE}");
        check(k, "modload", &["-fb"], 1, "", &req);
        let unk = format!("{{modload}}: unknown option -- z\n{MODLOAD_USAGE}");
        check(k, "modload", &["-z", "-b", "x=bad", "tmpfs"], 1, "", &unk);
        check(k, "modload", &["-fPz", "tmpfs"], 1, "", &unk);
        // Left to right: the bad -b is met before the unknown option.
        check(
            k,
            "modload",
            &["-b", "x=bad", "-z"],
            1,
            "",
            "{modload}: Invalid boolean value `bad'\n",
        );
    });
}

#[test]
fn modload_property_errors_of_t_modload() {
    both(|k| {
        let cases: &[(&[&str], &str)] = &[
            (&["-b", "foo", "k_helper.kmod"], "Invalid parameter `foo'"),
            (&["-b", "foo=", "k_helper.kmod"], "Invalid boolean value `'"),
            (
                &["-b", "foo=bar", "k_helper.kmod"],
                "Invalid boolean value `bar'",
            ),
            (
                &["-b", "foo=falsea", "k_helper.kmod"],
                "Invalid boolean value `falsea'",
            ),
            (
                &["-b", "foo=truea", "k_helper.kmod"],
                "Invalid boolean value `truea'",
            ),
            (&["-b", "x=maybe", "tmpfs"], "Invalid boolean value `maybe'"),
            (&["-i", "foo", "k_helper.kmod"], "Invalid parameter `foo'"),
            (
                &["-i", "foo=", "k_helper.kmod"],
                "Invalid integer value `': Invalid argument",
            ),
            (
                &["-i", "foo=bar", "k_helper.kmod"],
                "Invalid integer value `bar': Invalid argument",
            ),
            (
                &["-i", "foo=123a", "k_helper.kmod"],
                "Invalid integer value `123a': Invalid argument",
            ),
            (
                &["-i", "n=abc", "tmpfs"],
                "Invalid integer value `abc': Invalid argument",
            ),
            (
                &["-i", "n=5 ", "tmpfs"],
                "Invalid integer value `5 ': Undefined error: 0",
            ),
            (
                &["-i", "n=0x10", "tmpfs"],
                "Invalid integer value `0x10': Undefined error: 0",
            ),
            (
                &["-i", "n=1t", "tmpfs"],
                "Invalid integer value `1t': Invalid argument",
            ),
            (
                &["-i", "n=9223372036854775808", "tmpfs"],
                "Invalid integer value `9223372036854775808': Result too large or too small",
            ),
            (
                &["-i", "n=8589934592g", "tmpfs"],
                "Invalid integer value `8589934592g': Result too large or too small",
            ),
            (&["-s", "foo", "k_helper.kmod"], "Invalid parameter `foo'"),
            (&["-s", "novalue", "tmpfs"], "Invalid parameter `novalue'"),
            // Errors come before the operand count is looked at.
            (&["-s", "novalue"], "Invalid parameter `novalue'"),
        ];
        for (args, msg) in cases {
            check(k, "modload", args, 1, "", &format!("{{modload}}: {msg}\n"));
        }
    });
}

const HEADER: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE plist PUBLIC \"-//Apple Computer//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n<plist version=\"1.0\">\n";

#[test]
fn modload_p_output() {
    both(|k| {
        let empty = format!("{HEADER}<dict/>\n</plist>\n");
        assert_eq!(empty.len(), 190);
        check(k, "modload", &["-p"], 0, &empty, "");
        // Operands, -f, -P and -d without -m are ignored in output mode.
        check(
            k,
            "modload",
            &["-p", "-f", "-P", "-d", "x", "a", "b", "c"],
            0,
            &empty,
            "",
        );
        let hello = format!(
            "{HEADER}<dict>\n\t<key>a</key>\n\t<true/>\n\t<key>n</key>\n\t<integer>4096</integer>\n\t<key>s</key>\n\t<string>hello</string>\n</dict>\n</plist>\n"
        );
        check(
            k,
            "modload",
            &["-p", "-b", "a=yes", "-i", "n=4k", "-s", "s=hello"],
            0,
            &hello,
            "",
        );
        let worked = format!(
            "{HEADER}<dict>\n\t<key>count</key>\n\t<integer>4096</integer>\n\t<key>empty</key>\n\t<string/>\n\t<key>name</key>\n\t<string>a&lt;b &amp; \"c\"</string>\n\t<key>neg</key>\n\t<integer>-5</integer>\n\t<key>verbose</key>\n\t<true/>\n</dict>\n</plist>\n"
        );
        check(
            k,
            "modload",
            &[
                "-p",
                "-b",
                "verbose=YES",
                "-i",
                "count=4k",
                "-s",
                "name=a<b & \"c\"",
                "-s",
                "empty=",
                "-i",
                "neg=-5",
            ],
            0,
            &worked,
            "",
        );
        // The same key again replaces the value and its type; a bare suffix is 0.
        let replaced =
            format!("{HEADER}<dict>\n\t<key>x</key>\n\t<integer>0</integer>\n</dict>\n</plist>\n");
        check(
            k,
            "modload",
            &["-p", "-b", "x=1", "-i", "x=k"],
            0,
            &replaced,
            "",
        );
    });
}

#[test]
fn modload_p_merge_and_delete() {
    both(|k| {
        let props = k.state_dir().join("PROPS.plist");
        let made = k.run("modload", &["-p", "-s", "msg=fromfile"]);
        assert_eq!(made.status, 0);
        std::fs::write(&props, &made.stdout).unwrap();
        let p = props.to_str().unwrap();
        let extra = format!(
            "{HEADER}<dict>\n\t<key>extra</key>\n\t<string>1</string>\n</dict>\n</plist>\n"
        );
        check(
            k,
            "modload",
            &["-p", "-m", p, "-s", "extra=1", "-d", "msg"],
            0,
            &extra,
            "",
        );
        let both_keys = format!(
            "{HEADER}<dict>\n\t<key>extra</key>\n\t<string>1</string>\n\t<key>msg</key>\n\t<string>fromfile</string>\n</dict>\n</plist>\n"
        );
        check(
            k,
            "modload",
            &["-p", "-m", p, "-s", "extra=1"],
            0,
            &both_keys,
            "",
        );
        // Command-line keys win over the file's; -d can delete them too.
        let over = format!(
            "{HEADER}<dict>\n\t<key>msg</key>\n\t<integer>3</integer>\n</dict>\n</plist>\n"
        );
        check(k, "modload", &["-p", "-m", p, "-i", "msg=3"], 0, &over, "");
        let gone = format!("{HEADER}<dict/>\n</plist>\n");
        check(
            k,
            "modload",
            &["-p", "-m", p, "-i", "msg=3", "-d", "msg", "-d", "absent"],
            0,
            &gone,
            "",
        );
        // Nested values from the file keep their structure.
        std::fs::write(
            &props,
            format!("{HEADER}<dict>\n\t<key>d</key>\n\t<dict>\n\t\t<key>k</key>\n\t\t<integer>0x10</integer>\n\t</dict>\n</dict>\n</plist>\n"),
        )
        .unwrap();
        let nested = format!(
            "{HEADER}<dict>\n\t<key>d</key>\n\t<dict>\n\t\t<key>k</key>\n\t\t<integer>0x10</integer>\n\t</dict>\n</dict>\n</plist>\n"
        );
        check(k, "modload", &["-p", "-m", p], 0, &nested, "");
        check(
            k,
            "modload",
            &["-p", "-m", "/nonexistent.plist"],
            1,
            "",
            "{modload}: Failed to read existing property list\n",
        );
        std::fs::write(&props, "<plist><array/></plist>").unwrap();
        check(
            k,
            "modload",
            &["-p", "-m", p],
            1,
            "",
            "{modload}: Failed to read existing property list\n",
        );
    });
}

#[test]
fn modstat_usage_and_getopt_errors() {
    both(|k| {
        let usage = "Usage: {modstat} [-Aaen] [name]\n";
        check(
            k,
            "modstat",
            &["-x"],
            1,
            "",
            &format!("{{modstat}}: unknown option -- x\n{usage}"),
        );
        check(
            k,
            "modstat",
            &["-h"],
            1,
            "",
            &format!("{{modstat}}: unknown option -- h\n{usage}"),
        );
        check(
            k,
            "modstat",
            &["-n"],
            1,
            "",
            &format!("{{modstat}}: option requires an argument -- n\n{usage}"),
        );
        check(k, "modstat", &["a", "b"], 1, "", usage);
        check(k, "modstat", &["-n", "a", "b"], 1, "", usage);
        check(k, "modstat", &["-k", "-n", "a", "b"], 1, "", usage);
    });
}

#[test]
fn modunload_usage_and_no_option_parsing() {
    both(|k| {
        check(
            k,
            "modunload",
            &[] as &[&str],
            1,
            "",
            "Usage: {modunload} <module_name ...>\n",
        );
        check(k, "modunload", &["-f"], 1, "", "{modunload}: -f: No such file or directory\n{modunload}: -f: no module named `-f' is loaded\n");
    });
}

#[test]
fn rump_without_a_server() {
    let k = EmulatedKernel::new(Via::Rump);
    let run = |tool: &str, args: &[&str]| {
        let out = k
            .command(tool)
            .env_remove("RUMP_SERVER")
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code().unwrap(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    assert_eq!(
        run("modload", &["tmpfs"]),
        (1, String::new(), "error: RUMP_SERVER not set\nrump.modload: prog init failed: No such file or directory\n".into())
    );
    assert_eq!(
        run("modunload", &["tmpfs"]),
        (
            1,
            String::new(),
            "error: RUMP_SERVER not set\nrump.modunload: init failed: No such file or directory\n"
                .into()
        )
    );
    assert_eq!(
        run("modstat", &["-e"]),
        (1, String::new(), "error: RUMP_SERVER not set\nrump.modstat: prog init failed: No such file or directory\n".into())
    );
    // Output mode needs no kernel.
    assert_eq!(run("modload", &["-p"]).0, 0);
    // Usage errors come before the kernel is reached.
    assert_eq!(
        run("modunload", &[]).2,
        "Usage: rump.modunload <module_name ...>\n"
    );
}

/// The stand-in exports the `rump*` symbols a real `librumpclient.so`
/// exports (`nm -D` on one built from the 7.99.34 sources), and no others: a name a
/// real library lacks would let the tools pass here and fail on NetBSD.
#[test]
fn rump_stand_in_exports_what_the_real_library_does() {
    use object::{Object, ObjectSymbol};
    let data = std::fs::read(e2e::rumpstub()).unwrap();
    let file = object::File::parse(&*data).unwrap();
    let mut exported: Vec<String> = file
        .dynamic_symbols()
        .filter(|s| s.is_definition() && s.is_global())
        .filter_map(|s| s.name().ok().map(str::to_owned))
        .filter(|n| n.starts_with("rump"))
        .collect();
    exported.sort();
    assert_eq!(
        exported,
        [
            "rump___sysimpl___sysctl",
            "rump___sysimpl_modctl",
            "rumpclient_init"
        ]
    );
}

#[test]
fn rump_without_the_library() {
    let k = EmulatedKernel::new(Via::Rump);
    let out = k
        .command("modstat")
        .env("LD_LIBRARY_PATH", k.state_dir())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    let mut lines = err.lines();
    assert_eq!(
        lines.next(),
        Some("rump.modstat: prog init failed: No such file or directory")
    );
    assert!(lines
        .next()
        .unwrap()
        .starts_with("rump.modstat: cannot load librumpclient: "));
    assert_eq!(lines.next(), None);
}

#[test]
fn no_backend_on_linux_says_how_to_pick_one() {
    let out = std::process::Command::new(e2e::bin("modstat"))
        .env_remove("MODCTL_EMUL")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr)
        .starts_with("modstat: no kernel module interface on this host: set MODCTL_EMUL"));
}
