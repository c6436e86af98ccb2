//! The one engine's users agree, end to end: the cases that once went
//! wrong in one of the three copies of the kernel's module code.

use std::fs;
use std::path::Path;

use e2e::{fixtures, path_of_len, template_module, EmulatedKernel as Kernel, Via};

fn install(k: &Kernel, name: &str, required: &str) {
    let dir = k
        .state_dir()
        .join("root/stand/amd64/10.1/modules")
        .join(name);
    fs::create_dir_all(&dir).unwrap();
    fs::write(
        dir.join(format!("{name}.kmod")),
        template_module(name, required, 1, 1_001_000_000),
    )
    .unwrap();
}

#[test]
fn a_deep_chain_of_boot_modules_boots() {
    // The boot model once recursed per link and overflowed at ~9,000.
    let n = 10_000;
    let names: Vec<String> = (0..n).map(|i| format!("c{i}")).collect();
    let list: Vec<String> = names.iter().rev().map(|n| format!("\"{n}\"")).collect();
    let k = Kernel::with_profile(
        Via::Emul,
        &format!(
            r#"{{"auto_unload": false, "boot_modules": [{}]}}"#,
            list.join(",")
        ),
    );
    for (i, name) in names.iter().enumerate() {
        let req = if i == 0 {
            String::new()
        } else {
            format!("c{}", i - 1)
        };
        install(&k, name, &req);
    }
    let out = k.run("modstat", &["c0"]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert!(out.stdout.contains("c0"), "{}", out.stdout);
    let top = k.run("modstat", &[format!("c{}", n - 1)]);
    assert!(top.stdout.contains("boot"), "{}", top.stdout);
}

#[test]
fn the_dry_run_knows_maxpathlen() {
    let k = Kernel::new(Via::Emul);
    for len in [1023usize, 1024, 1030] {
        let p = path_of_len(len);
        let load = k.run("modload", &[&p]);
        let dry = k.run("modload", &["-n", "--json", &p]);
        assert_eq!(load.status, 1);
        assert_eq!(dry.status, 1, "{len}: {}", dry.stdout);
        let errno = if len >= 1024 {
            "ENAMETOOLONG"
        } else {
            "ENOENT"
        };
        assert!(
            dry.stdout.contains(&format!("\"name\": \"{errno}\"")),
            "{len}: {}",
            dry.stdout
        );
        let text = if len >= 1024 {
            "modload: File name too long"
        } else {
            "modload: No such file or directory"
        };
        assert_eq!(load.first_err(), text, "{len}");
    }
}

#[test]
fn the_boot_check_calls_a_cycle_a_cycle() {
    let k = Kernel::with_profile(Via::Emul, r#"{"auto_unload": false}"#);
    install(&k, "cyc_a", "cyc_b");
    install(&k, "cyc_b", "cyc_a");
    install(&k, "top", "mid");
    install(&k, "mid", "nosuch");
    let cfg = k.state_dir().join("boot.cfg");
    fs::write(&cfg, "load=cyc_a\nload=cyc_b\nload=top\nload=mid\n").unwrap();
    let out = k.run("modload", &["-n", "--boot-cfg", cfg.to_str().unwrap()]);
    assert_eq!(out.status, 1, "{}", out.stdout);
    assert!(
        out.stdout
            .contains("circular dependency (cyc_a -> cyc_b -> cyc_a)"),
        "{}",
        out.stdout
    );
    assert!(
        !out.stdout.contains("requires `cyc_b', which is neither"),
        "{}",
        out.stdout
    );
    // The top of a chain whose bottom is missing names the bottom.
    assert!(
        out.stdout.contains(
            "it requires `mid', which the kernel does not initialise: `mid' requires `nosuch', which is neither"
        ),
        "{}",
        out.stdout
    );
    // The emulated boot of the same list agrees: none of them is active.
    let k2 = Kernel::with_profile(
        Via::Emul,
        r#"{"auto_unload": false, "boot_modules": ["cyc_a", "cyc_b", "top", "mid"]}"#,
    );
    for (n, r) in [
        ("cyc_a", "cyc_b"),
        ("cyc_b", "cyc_a"),
        ("top", "mid"),
        ("mid", "nosuch"),
    ] {
        install(&k2, n, r);
    }
    let stat = k2.run("modstat", &[] as &[&str]);
    for n in ["cyc_a", "cyc_b", "top", "mid"] {
        assert!(!stat.stdout.contains(&format!("\n{n} ")), "{}", stat.stdout);
    }
}

#[test]
fn a_global_modcmd_loads() {
    let k = Kernel::new(Via::Emul);
    let file = fixtures().join("amd64/global_modcmd.kmod");
    let file = file.to_str().unwrap();
    let dry = k.run("modload", &["-n", file]);
    assert_eq!(dry.status, 0, "{}", dry.stdout);
    let out = k.run("modload", &[file]);
    assert_eq!((out.status, out.stderr.as_str()), (0, ""));
    assert!(k
        .run("modstat", &["global_modcmd"])
        .stdout
        .contains("global_modcmd"));
    assert_eq!(k.run("modunload", &["global_modcmd"]).status, 0);
    let _ = Path::new(file);
}
