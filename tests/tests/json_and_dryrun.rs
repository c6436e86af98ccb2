//! `modstat --json`, `modload -n` and `modload -n --json` (our additions):
//! documents validate against the checked-in schemas, the JSON listing
//! carries the same data as the column listing, and the dry run reaches
//! the kernel's verdict without changing anything.

use std::path::Path;

use e2e::{fixtures, EmulatedKernel, Output, Via};
use serde_json::Value;

fn schema(name: &str) -> jsonschema::Validator {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("schema")
        .join(name);
    let text = std::fs::read_to_string(path).unwrap();
    jsonschema::validator_for(&serde_json::from_str(&text).unwrap()).unwrap()
}

fn valid(validator: &jsonschema::Validator, out: &Output) -> Value {
    let doc: Value = serde_json::from_str(&out.stdout).expect("one JSON document");
    let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}\n{}", out.stdout);
    doc
}

fn kernel(profile: &str) -> EmulatedKernel {
    let k = EmulatedKernel::with_profile(Via::Emul, profile);
    assert_eq!(k.run("modstat", &[] as &[&str]).status, 0);
    k
}

fn fixture_kernel(extra: &str) -> EmulatedKernel {
    kernel(&format!(
        r#"{{"module_path": "/modules", "module_root": "{}", "auto_unload": false {extra}}}"#,
        fixtures().display()
    ))
}

/// Renders JSON modules the way modstat prints its columns (r1.24).
fn columns(doc: &Value, with_addr: bool) -> String {
    let mods = doc["modules"].as_array().unwrap();
    let width = mods
        .iter()
        .map(|m| m["name"].as_str().unwrap().len())
        .max()
        .unwrap_or(0)
        .max(16);
    let mut out = format!(
        "{:<width$} {:<8} {:<8} {:<4} {:>5} ",
        "NAME", "CLASS", "SOURCE", "FLAG", "REFS"
    );
    if with_addr {
        out += &format!("{:<16} ", "ADDRESS");
    }
    out += &format!("{:>7} {} \n", "SIZE", "REQUIRES");
    for m in mods {
        let flag = match (
            m["must_force"].as_bool().unwrap(),
            m["auto_loaded"].as_bool().unwrap(),
        ) {
            (false, false) => "-",
            (true, false) => "f",
            (false, true) => "a",
            (true, true) => "af",
        };
        out += &format!(
            "{:<width$} {:<8} {:<8} {:<4} {:>5} ",
            m["name"].as_str().unwrap(),
            m["class"].as_str().unwrap(),
            m["source"].as_str().unwrap(),
            flag,
            m["refcnt"].as_i64().unwrap()
        );
        if with_addr {
            let addr = m["address"].as_str().unwrap().trim_start_matches("0x");
            out += &format!("{addr:<16} ");
        }
        let size = match m["size"].as_u64().unwrap() {
            0 => "-".to_string(),
            n => n.to_string(),
        };
        let req: Vec<&str> = m["required"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_str().unwrap())
            .collect();
        assert_eq!(req.join(","), m["requires"].as_str().unwrap());
        let req = if req.is_empty() {
            "-".to_string()
        } else {
            req.join(",")
        };
        out += &format!("{size:>7} {req}\n");
    }
    out
}

#[test]
fn modstat_json_matches_the_columns() {
    let k = fixture_kernel("");
    assert_eq!(k.run("modload", &["needy"]).status, 0);
    assert_eq!(k.run("modload", &["chain_a"]).status, 0);
    assert_eq!(k.run("modunload", &["tmpfs"]).status, 0);
    let v = schema("modstat.schema.json");
    for (flags, json_flags) in [(vec![], vec!["--json"]), (vec!["-k"], vec!["--json", "-k"])] {
        let doc = valid(&v, &k.run("modstat", &json_flags));
        assert_eq!(doc["schema"], 1);
        assert_eq!(doc["stat_abi"], "v2");
        let text = k.run("modstat", &flags);
        assert_eq!(columns(&doc, !flags.is_empty()), text.stdout);
    }
    let tmpfs = valid(&v, &k.run("modstat", &["--json", "tmpfs"]));
    assert_eq!(tmpfs["modules"].as_array().unwrap().len(), 1);
    assert_eq!(tmpfs["modules"][0]["refcnt"], -1);
    let hello = valid(&v, &k.run("modstat", &["--json", "-n", "hello"]));
    assert_eq!(hello["modules"][0]["auto_loaded"], true);
    assert_eq!(hello["modules"][0]["source"], "filesys");
    // --json changes nothing else: a bad option is still NetBSD's error.
    let bad = k.run("modstat", &["--json", "-x"]);
    assert_eq!(bad.status, 1);
    assert_eq!(
        bad.stderr,
        "modstat: unknown option -- x\nUsage: modstat [-Aaen] [name]\n"
    );
}

#[test]
fn modstat_json_on_the_old_abi() {
    let k = kernel(
        r#"{"osrelease": "8.2", "builtins": [{"name": "ffs", "class": "vfs", "requires": "wapbl"}, {"name": "wapbl", "class": "vfs"}]}"#,
    );
    let doc = valid(
        &schema("modstat.schema.json"),
        &k.run("modstat", &["--json"]),
    );
    assert_eq!(doc["stat_abi"], "v1");
    assert_eq!(
        columns(&doc, false),
        k.run("modstat", &[] as &[&str]).stdout
    );
    assert_eq!(doc["modules"][0]["required"], serde_json::json!(["wapbl"]));
}

#[test]
fn dry_run_that_succeeds_changes_nothing() {
    let k = fixture_kernel("");
    let state = std::fs::read(k.state_dir().join("state.json")).unwrap();
    let out = k.run("modload", &["-n", "-s", "greeting=hi", "needy"]);
    assert_eq!((out.status, out.stderr.as_str()), (0, ""));
    assert_eq!(
        out.stdout,
        "module:     needy\n\
file:       /modules/needy/needy.kmod\n\
kernel:     NetBSD 10.1 (1001000000) amd64\n\
name:       needy\n\
class:      misc\n\
version:    10.1 (1001000000)\n\
machine:    amd64\n\
text size:  47\n\
requires:   hello\n\
properties: greeting\n\
load order: hello -> needy\n\
verdict:    the kernel would load it\n"
    );
    let doc = valid(
        &schema("dryrun.schema.json"),
        &k.run("modload", &["-n", "--json", "needy"]),
    );
    assert_eq!(doc["would_load"], true);
    assert_eq!(doc["error"], Value::Null);
    assert_eq!(doc["module"]["version_text"], "10.1");
    assert_eq!(doc["module"]["required"], serde_json::json!(["hello"]));
    let order: Vec<&str> = doc["load_order"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(order, ["hello", "needy"]);
    assert_eq!(
        std::fs::read(k.state_dir().join("state.json")).unwrap(),
        state
    );
}

/// One failing dry run: profile keys to add, modules to load first, the
/// arguments after `-n`, the errno's name and part of the reason.
type Case<'a> = (&'a str, &'a [&'a str], Vec<String>, &'a str, &'a str);

/// Each kind of check the dry run makes, failing.
#[test]
fn dry_run_fails_at_each_kind_of_check() {
    let amd64 = fixtures().join("amd64");
    let wrong = amd64.join("wrong_machine.kmod");
    let manyreq = amd64.join("manyreq.kmod");
    let cases: Vec<Case> = vec![
        (
            "",
            &[],
            vec!["nosuch".into()],
            "ENOENT",
            "no module file at /modules/nosuch/nosuch.kmod",
        ),
        (
            "",
            &[],
            vec![wrong.display().to_string()],
            "ENOEXEC",
            "an amd64 kernel accepts only EM_X86_64",
        ),
        (
            "",
            &[],
            vec!["old93".into()],
            "EPROGMISMATCH",
            "built for NetBSD 9.3",
        ),
        (
            "",
            &[],
            vec!["cyc_a".into()],
            "EDEADLK",
            "circular dependency: cyc_a -> cyc_b -> cyc_a",
        ),
        (
            "",
            &[],
            vec![manyreq.display().to_string()],
            "ENOENT",
            "required module `r1' is not loaded",
        ),
        (
            "",
            &["example"],
            vec!["example".into()],
            "EEXIST",
            "already loaded",
        ),
        (
            r#", "euid": 1000"#,
            &[],
            vec!["example".into()],
            "EPERM",
            "only root may load",
        ),
        (
            r#", "securelevel": 2"#,
            &[],
            vec!["example".into()],
            "EPERM",
            "kern.securelevel is 2",
        ),
        (
            "",
            &[],
            vec![
                "-s".into(),
                format!("x={}", "y".repeat(5000)),
                "example".into(),
            ],
            "ENOMEM",
            "the kernel accepts at most 4096",
        ),
    ];
    for (extra, setup, args, errno, reason) in cases {
        let k = fixture_kernel(extra);
        for m in setup {
            assert_eq!(k.run("modload", &[m]).status, 0);
        }
        let mut dry = vec!["-n".to_string()];
        dry.extend(args.iter().cloned());
        let out = k.run("modload", &dry);
        assert_eq!(out.status, 1, "{args:?}: {}", out.stdout);
        assert!(
            out.stdout.contains(&format!("error {errno}: ")),
            "{args:?}: {}",
            out.stdout
        );
        assert!(out.stdout.contains(reason), "{args:?}: {}", out.stdout);
        let mut json = vec!["-n".to_string(), "--json".to_string()];
        json.extend(args.iter().cloned());
        let doc = valid(&schema("dryrun.schema.json"), &k.run("modload", &json));
        assert_eq!(doc["would_load"], false);
        assert_eq!(doc["error"]["name"], errno, "{args:?}");
        // The real load agrees with the dry run.
        let real = k.run("modload", &args);
        assert_eq!(real.status, 1);
        assert_eq!(
            real.first_err(),
            format!("modload: {}", doc["error"]["message"].as_str().unwrap())
        );
    }
}

#[test]
fn dry_run_against_another_release() {
    // No kernel: a profile of NetBSD 9.3 judges the module set.
    let k = fixture_kernel(r#", "osrelease": "9.3""#);
    let ok = k.run("modload", &["-n", "old93"]);
    assert_eq!(ok.status, 0, "{}", ok.stdout);
    assert!(ok
        .stdout
        .contains("kernel:     NetBSD 9.3 (903000000) amd64\n"));
    let bad = k.run("modload", &["-n", "example"]);
    assert_eq!(bad.status, 1);
    assert!(bad.stdout.contains("error EPROGMISMATCH: example: built for NetBSD 10.1 (1001000000) but the kernel is NetBSD 9.3 (903000000)"));
    // -f overrides the version check; the finding stays as a warning.
    let forced = k.run("modload", &["-n", "-f", "example"]);
    assert_eq!(forced.status, 0, "{}", forced.stdout);
    assert!(forced.stdout.contains("(overridden by -f)"));
}

/// The verdict says who refuses: the kernel, or (for a file the kernel
/// would load and then misbehave on) the tools, which do not submit it.
#[test]
fn dry_run_verdict_says_who_refuses() {
    let malformed = Path::new(env!("CARGO_MANIFEST_DIR")).join("malformed");
    let k = kernel("{}");
    for (file, verdict) in [
        (
            "overlapping_rodata_and_text.kmod",
            "verdict:    modload refuses it, the kernel would load it and misbehave: Exec format error\n",
        ),
        (
            "truncated_after_elf_header.kmod",
            "verdict:    the kernel would refuse it: Invalid argument\n",
        ),
    ] {
        let out = k.run("modload", &[Path::new("-n"), &malformed.join(file)]);
        assert_eq!(out.status, 1, "{file}");
        assert!(out.stdout.ends_with(verdict), "{file}: {}", out.stdout);
    }
}
