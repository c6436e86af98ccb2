//! The malformed-module corpus (tests/malformed, made by make.py): every
//! broken object is refused with exit 1, NetBSD's error line for the errno
//! the kernel would return, one reason line naming what is wrong, no panic,
//! and the emulated kernel exactly as it was.
//!
//! The expected errno of each object is in tests/malformed/MANIFEST, as
//! subr_kobj.c and kern_module.c return it (see make.py for the rule used
//! where the kernel would misbehave instead of refusing).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use e2e::{EmulatedKernel, Via};

/// NetBSD's strerror texts for the errnos the corpus expects.
fn netbsd_strerror(errno: &str) -> &'static str {
    match errno {
        "EINVAL" => "Invalid argument",
        "ENOEXEC" => "Exec format error",
        "ENOENT" => "No such file or directory",
        "EPROGMISMATCH" => "Program version wrong",
        "EDEADLK" => "Resource deadlock avoided",
        other => panic!("MANIFEST names an errno this test does not know: {other}"),
    }
}

struct Case {
    file: String,
    errno: String,
    words: Vec<String>,
    setup: Vec<String>,
}

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("malformed")
}

fn manifest() -> Vec<Case> {
    let text = std::fs::read_to_string(corpus().join("MANIFEST")).expect("MANIFEST");
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            assert_eq!(f.len(), 4, "bad MANIFEST line: {l}");
            Case {
                file: f[0].into(),
                errno: f[1].into(),
                words: f[2].split('|').map(String::from).collect(),
                setup: if f[3] == "-" {
                    Vec::new()
                } else {
                    f[3].split(',').map(String::from).collect()
                },
            }
        })
        .collect()
}

/// Everything a script or the next call could see of the kernel: the
/// listings and every file of the state directory.
#[derive(Debug, PartialEq, Eq)]
struct Snapshot {
    modstat: String,
    modstat_k: String,
    files: BTreeMap<PathBuf, Vec<u8>>,
}

fn snapshot(k: &EmulatedKernel) -> Snapshot {
    fn walk(dir: &Path, root: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, root, out);
            } else {
                let rel = p.strip_prefix(root).unwrap().to_path_buf();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    let list = |args: &[&str]| {
        let out = k.run("modstat", args);
        assert_eq!(
            (out.status, out.stderr.as_str()),
            (0, ""),
            "modstat {args:?}"
        );
        out.stdout
    };
    // Listing first: a new state directory is set up by the first call.
    let modstat = list(&[]);
    let modstat_k = list(&["-k"]);
    let mut files = BTreeMap::new();
    walk(k.state_dir(), k.state_dir(), &mut files);
    Snapshot {
        modstat,
        modstat_k,
        files,
    }
}

/// Runs `modload <object>` and checks everything about the refusal;
/// returns a description of what was wrong, if anything.
fn refusal_problem(k: &EmulatedKernel, case: &Case) -> Option<String> {
    let path = corpus().join(&case.file);
    let shown = path.to_str().unwrap();
    let before = snapshot(k);
    let out = k.run("modload", &[shown]);
    let after = snapshot(k);
    let lines: Vec<&str> = out.stderr.lines().collect();
    let want_first = format!("modload: {}", netbsd_strerror(&case.errno));
    let prefix = format!("modload: {shown}: ");
    let mut problems = Vec::new();
    if out.stderr.contains("panicked") || out.status > 1 || out.status < 0 {
        problems.push(format!("crashed (status {})", out.status));
    }
    if out.status != 1 {
        problems.push(format!("exit status {}, not 1", out.status));
    }
    if !out.stdout.is_empty() {
        problems.push(format!("printed on stdout: {:?}", out.stdout));
    }
    if lines.len() != 2 {
        problems.push(format!("{} stderr lines, not 2", lines.len()));
    }
    if lines.first() != Some(&want_first.as_str()) {
        problems.push(format!("first line is not {want_first:?}"));
    }
    match lines.get(1).and_then(|l| l.strip_prefix(&prefix)) {
        None => problems.push(format!("second line does not start with {prefix:?}")),
        Some(reason) => {
            for w in &case.words {
                if !reason.contains(w.as_str()) {
                    problems.push(format!("reason does not mention {w:?}"));
                }
            }
        }
    }
    if before != after {
        problems.push("the emulated kernel's state changed".into());
    }
    (!problems.is_empty()).then(|| {
        format!(
            "{}: {}\n    stderr: {:?}",
            case.file,
            problems.join("; "),
            out.stderr
        )
    })
}

/// A kernel set up as the case asks: another release, companion modules
/// installed under the module directory.
fn kernel_for(case: &Case) -> EmulatedKernel {
    let release = case.setup.iter().find_map(|s| s.strip_prefix("release="));
    let k = match release {
        Some(r) => EmulatedKernel::with_profile(Via::Emul, &format!(r#"{{"osrelease": "{r}"}}"#)),
        None => EmulatedKernel::new(Via::Emul),
    };
    let out = k.run("modstat", &[] as &[&str]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    // The default profile as written on first use names the module path.
    let module_path = || {
        let profile: serde_json::Value = serde_json::from_slice(
            &std::fs::read(k.state_dir().join("profile.json")).expect("profile.json"),
        )
        .unwrap();
        let p = profile["module_path"]
            .as_str()
            .expect("module_path")
            .to_string();
        p.trim_start_matches('/').to_string()
    };
    for s in &case.setup {
        if let Some(spec) = s.strip_prefix("install=") {
            let (file, name) = spec.split_once(':').unwrap();
            let dir = k.state_dir().join("root").join(module_path()).join(name);
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::copy(corpus().join(file), dir.join(format!("{name}.kmod"))).unwrap();
        } else {
            assert!(s.starts_with("release="), "unknown setup {s}");
        }
    }
    k
}

#[test]
fn corpus_is_large_and_every_object_exists() {
    let cases = manifest();
    assert!(cases.len() >= 60, "only {} objects", cases.len());
    for c in &cases {
        assert!(corpus().join(&c.file).is_file(), "{} missing", c.file);
    }
    // Every object on disk is in the manifest (or is a companion).
    for e in std::fs::read_dir(corpus()).unwrap() {
        let name = e.unwrap().file_name().into_string().unwrap();
        if name.ends_with(".kmod") {
            assert!(
                cases
                    .iter()
                    .any(|c| c.file == name || c.setup.iter().any(|s| s.contains(&name))),
                "{name} is not in MANIFEST"
            );
        }
    }
}

#[test]
fn every_malformed_object_is_refused_cleanly() {
    let cases = manifest();
    // One kernel for the objects that need no setup: a refusal must leave
    // it unchanged, so they cannot disturb one another.
    let shared = EmulatedKernel::new(Via::Emul);
    let mut problems = Vec::new();
    for case in &cases {
        let problem = if case.setup.is_empty() {
            refusal_problem(&shared, case)
        } else {
            refusal_problem(&kernel_for(case), case)
        };
        problems.extend(problem);
    }
    assert!(
        problems.is_empty(),
        "{} of {} objects were not refused as expected:\n{}",
        problems.len(),
        cases.len(),
        problems.join("\n")
    );
}

#[test]
fn the_shared_kernel_still_loads_good_modules_afterwards() {
    // The refusals above must not have left anything behind that would
    // stop a good load (a stale lock, a pending entry).
    let k = EmulatedKernel::new(Via::Emul);
    for case in manifest().iter().filter(|c| c.setup.is_empty()).take(20) {
        assert_eq!(k.run("modload", &[corpus().join(&case.file)]).status, 1);
    }
    let out = k.run("modload", &["needy"]);
    assert_eq!((out.status, out.stderr.as_str()), (0, ""));
    let out = k.run("modstat", &["needy"]);
    assert!(out.stdout.contains("needy"), "{}", out.stdout);
}
