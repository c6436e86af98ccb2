//! Rules that differ between kernel eras, through the built tools: the
//! load regions `kobj_load` requires (subr_kobj.c r1.57 in 7.99.34 refuses
//! an empty text, data/bss or rodata; 10.1 only an empty text) and the
//! dependency depth limit (`MODULE_MAX_DEPTH` 6 → EMLINK in 7.99.34, none
//! in 10.1). Each case runs `modload`, `modload -n` and its JSON against a
//! 7.99.34 profile and a 10.1 profile, with modules built for each.

use e2e::{fixtures, EmulatedKernel, Via};

/// A kernel of release `osrelease` finding the fixtures built for it.
fn kernel(osrelease: &str) -> EmulatedKernel {
    let dir = if osrelease == "7.99.34" {
        "modules799"
    } else {
        "modules"
    };
    let profile = format!(
        r#"{{"osrelease": "{osrelease}", "module_path": "/{dir}", "module_root": "{}", "auto_unload": false}}"#,
        fixtures().display()
    );
    let k = EmulatedKernel::with_profile(Via::Emul, &profile);
    assert_eq!(k.run("modstat", &[] as &[&str]).status, 0);
    k
}

fn loaded(k: &EmulatedKernel, name: &str) -> bool {
    let out = k.run("modstat", &[name]);
    out.stdout
        .lines()
        .nth(1)
        .is_some_and(|l| l.starts_with(name))
}

/// `modload -n --json`: (would_load, [(module, check, errno name)]).
fn dry_json(k: &EmulatedKernel, name: &str) -> (bool, Vec<(String, String, String)>) {
    let out = k.run("modload", &["-n", "--json", name]);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let would = v["would_load"].as_bool().unwrap();
    assert_eq!(out.status, if would { 0 } else { 1 }, "{}", out.stdout);
    let findings = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["fatal"] == true)
        .map(|f| {
            (
                f["module"].as_str().unwrap().to_string(),
                f["check"].as_str().unwrap().to_string(),
                f["errno"]["name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    (would, findings)
}

const NO_DATA: &str = "no data/bss: no writable section (.data, .bss) has contents, and this kernel refuses a module without one";
const NO_RODATA: &str = "no rodata: no read-only data section (.rodata, link_set_modules) has contents, and this kernel refuses a module without one";

#[test]
fn empty_regions_on_799_are_refused_with_the_missing_part_named() {
    let k = kernel("7.99.34");
    let cases: [(&str, &str, &[&str]); 3] = [
        ("nodata", NO_DATA, &["NoData"]),
        ("norodata", NO_RODATA, &["NoRodata"]),
        // The kernel stops at the first; the dry run names both.
        ("textonly", NO_DATA, &["NoData", "NoRodata"]),
    ];
    for (name, reason, checks) in cases {
        let out = k.run("modload", &[name]);
        assert_eq!(
            (out.status, out.stdout.as_str(), out.stderr.as_str()),
            (
                1,
                "",
                format!("modload: Exec format error\nmodload: {name}: {reason}\n").as_str()
            ),
        );
        assert!(!loaded(&k, name));

        let dry = k.run("modload", &["-n", name]);
        assert_eq!(dry.status, 1);
        assert!(
            dry.stdout
                .contains(&format!("  error ENOEXEC: {name}: {reason}\n")),
            "{}",
            dry.stdout
        );
        assert!(dry
            .stdout
            .ends_with("verdict:    the kernel would refuse it: Exec format error\n"));

        let (would, findings) = dry_json(&k, name);
        assert!(!would);
        let want: Vec<_> = checks
            .iter()
            .map(|c| (name.to_string(), c.to_string(), "ENOEXEC".to_string()))
            .collect();
        assert_eq!(findings, want);
    }
}

#[test]
fn empty_data_and_rodata_load_on_10_1() {
    let k = kernel("10.1");
    for name in ["nodata", "norodata", "textonly"] {
        let (would, findings) = dry_json(&k, name);
        assert!(would && findings.is_empty(), "{name}: {findings:?}");
        assert_eq!(k.run("modload", &["-n", name]).status, 0);
        let out = k.run("modload", &[name]);
        assert_eq!((out.status, out.stderr.as_str()), (0, ""), "{name}");
        assert!(loaded(&k, name));
    }
}

const CHAIN7: &str = "the chain depth1 -> depth2 -> depth3 -> depth4 -> depth5 -> depth6 -> depth7 is 7 deep; this kernel stops at 6";

#[test]
fn a_dependency_chain_seven_deep_is_emlink_on_799() {
    let k = kernel("7.99.34");
    // Seven modules: the seventh module_do_load call is refused, and the
    // whole load fails; nothing is left loaded.
    let dry = k.run("modload", &["-n", "depth1"]);
    assert_eq!(dry.status, 1);
    assert!(
        dry.stdout
            .contains(&format!("  error EMLINK: depth7: {CHAIN7}\n")),
        "{}",
        dry.stdout
    );
    assert!(dry
        .stdout
        .ends_with("verdict:    the kernel would refuse it: Too many links\n"));
    assert_eq!(
        dry_json(&k, "depth1"),
        (
            false,
            vec![("depth7".into(), "Dependencies".into(), "EMLINK".into())]
        )
    );
    let out = k.run("modload", &["depth1"]);
    assert_eq!(
        (out.status, out.stderr.as_str()),
        (
            1,
            format!("modload: Too many links\nmodload: depth1: {CHAIN7}\n").as_str()
        )
    );
    // The refused call is the deepest one, before any module of the chain
    // was linked, so nothing is loaded.
    assert!(!loaded(&k, "depth1") && !loaded(&k, "depth7"));

    // Six modules are within the limit.
    let (would, findings) = dry_json(&k, "depth2");
    assert!(would && findings.is_empty(), "{findings:?}");
    let out = k.run("modload", &["depth2"]);
    assert_eq!((out.status, out.stderr.as_str()), (0, ""));
    assert!(loaded(&k, "depth7"));
    // Now depth2 is loaded, so depth1's chain ends there: two deep.
    assert_eq!(k.run("modload", &["depth1"]).status, 0);
}

#[test]
fn dependency_chains_have_no_depth_limit_on_10_1() {
    let k = kernel("10.1");
    let (would, findings) = dry_json(&k, "depth1");
    assert!(would && findings.is_empty(), "{findings:?}");
    let dry = k.run("modload", &["-n", "depth1"]);
    assert!(dry.stdout.contains(
        "\nload order: depth7 -> depth6 -> depth5 -> depth4 -> depth3 -> depth2 -> depth1\n"
    ));
    let out = k.run("modload", &["depth1"]);
    assert_eq!((out.status, out.stderr.as_str()), (0, ""));
    for i in 1..=7 {
        assert!(loaded(&k, &format!("depth{i}")));
    }
}

/// The bundled examples a new state directory gets are built for the
/// release its profile names, so they load on every era's kernel.
#[test]
fn the_bundled_examples_load_on_every_release() {
    for profile in [
        r#"{"osrelease": "10.1"}"#,
        r#"{"osrelease": "9.3"}"#,
        r#"{"osrelease": "7.99.34", "stat_abi": "v1"}"#,
        r#"{"osrelease": "10.1", "machine": "i386"}"#,
    ] {
        let k = EmulatedKernel::with_profile(Via::Emul, profile);
        for m in ["example", "needy"] {
            let out = k.run("modload", &[m]);
            assert_eq!((out.status, out.stderr.as_str()), (0, ""), "{profile} {m}");
        }
        assert!(loaded(&k, "hello"), "{profile}");
    }
}
