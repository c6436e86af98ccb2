//! The dry run, the emulated kernel and the boot check run one engine.
//! Over generated module sets (dependencies, cycles, self dependencies,
//! missing files, disabled built-ins, versions, `noautoload`, failing
//! INIT, paths near MAXPATHLEN, boot lists) and generated operation
//! sequences, every step's dry-run verdict and errno equal what `modload`
//! then gets from the emulated kernel, and the boot check's fate of each
//! boot module equals what the emulated boot does.
//!
//! Seeded: `MODCTL_AGREE_SEED` picks the seed (a fixed one by default,
//! printed on failure), `MODCTL_AGREE_CASES` the number of cases.
//!
//! One test in this binary: it points `MODCTL_EMUL` at each case's kernel.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use e2e::{path_of_len, template_module, Rng};
use libmodctl::abi::{ModSource, MODCTL_LOAD_FORCE};
use libmodctl::plist::Dict;
use modtools::explain::bootcfg::{self, Status};
use modtools::explain::{diagnose, dryrun};
use modtools::kernel::{connect, EMUL_ENV};

struct Case {
    release: (u32, &'static str),
    names: Vec<String>,
    profile: String,
}

/// Writes a generated module set below `dir` and returns the case.
fn generate(rng: &mut Rng, dir: &Path, boot: bool) -> Case {
    let releases = [
        (1_001_000_000, "10.1"),
        (799_003_400, "7.99.34"),
        (903_000_000, "9.3"),
    ];
    let release = releases[rng.index(releases.len())];
    let n = 1 + rng.index(8);
    // m0..m{n-1} have files; two more names are missing; b0 and b1 are
    // built in.
    let all: Vec<String> = (0..n + 2).map(|i| format!("m{i}")).collect();
    let mut pool = all.clone();
    pool.extend(["b0".to_string(), "b1".to_string()]);
    let mut fail_init = Vec::new();
    let modules = dir.join(format!("root/stand/amd64/{}/modules", release.1));
    for (i, name) in all.iter().take(n).enumerate() {
        let mut req: Vec<String> = Vec::new();
        // Mostly a chain downwards (deep ones for the old depth limit),
        // sometimes anything: cycles and self dependencies included.
        if i > 0 && rng.chance(60) {
            req.push(format!("m{}", i - 1));
        }
        for _ in 0..rng.index(3) {
            if rng.chance(40) {
                req.push(pool[rng.index(pool.len())].clone());
            }
        }
        req.dedup();
        let class = if rng.chance(10) { 2 } else { 1 };
        let version = if rng.chance(10) {
            903_000_000
        } else {
            release.0
        };
        let d = modules.join(name);
        fs::create_dir_all(&d).unwrap();
        let bytes = template_module(name, &req.join(","), class, version);
        fs::write(d.join(format!("{name}.kmod")), bytes).unwrap();
        if rng.chance(10) {
            let plist = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE plist PUBLIC \"-//Apple Computer//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n<plist version=\"1.0\">\n<dict>\n\t<key>noautoload</key>\n\t<true/>\n</dict>\n</plist>\n";
            fs::write(d.join(format!("{name}.plist")), plist).unwrap();
        }
        if rng.chance(8) {
            fail_init.push(format!("\"{name}\": \"ENXIO\""));
        }
    }
    let mut profile = String::new();
    write!(
        profile,
        "{{\"osrevision\": {}, \"osrelease\": \"{}\", \"auto_unload\": false, \
         \"builtins\": [{{\"name\": \"b0\", \"class\": \"misc\"}}, \
         {{\"name\": \"b1\", \"class\": \"misc\", \"requires\": \"b0\"}}], \
         \"fail_init\": {{{}}}",
        release.0,
        release.1,
        fail_init.join(", ")
    )
    .unwrap();
    let mut names: Vec<String> = pool.clone();
    names.shuffle_with(rng);
    if boot {
        let k = rng.index(names.len() + 1);
        let list: Vec<String> = names[..k].iter().map(|n| format!("\"{n}\"")).collect();
        write!(profile, ", \"boot_modules\": [{}]", list.join(", ")).unwrap();
        names.truncate(k);
    }
    profile.push('}');
    fs::write(dir.join("profile.json"), &profile).unwrap();
    Case {
        release,
        names,
        profile,
    }
}

trait Shuffle {
    fn shuffle_with(&mut self, rng: &mut Rng);
}

impl<T> Shuffle for Vec<T> {
    fn shuffle_with(&mut self, rng: &mut Rng) {
        for i in (1..self.len()).rev() {
            let j = rng.index(i + 1);
            self.swap(i, j);
        }
    }
}

fn seed() -> u64 {
    std::env::var("MODCTL_AGREE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_0f0e_0de1)
}

#[test]
fn dry_run_load_and_boot_check_agree() {
    let seed = seed();
    let cases: usize = std::env::var("MODCTL_AGREE_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(400);
    let mut rng = Rng::new(seed | 1);
    let mut steps = 0;
    // What the loads came to, so that the test shows it met many kinds.
    let mut outcomes = std::collections::BTreeMap::new();
    for case in 0..cases {
        let tmp = tempfile_dir();
        let dir = tmp.join("k");
        fs::create_dir_all(&dir).unwrap();
        let boot = case % 3 == 0;
        let c = generate(&mut rng, &dir, boot);
        std::env::set_var(EMUL_ENV, &dir);
        let k = connect("modload").expect("emulated kernel");
        let at = |what: &str| format!("seed {seed} case {case} ({what}); profile {}", c.profile);
        if boot {
            check_boot(&k, &dir, &c, &at("boot"));
        }
        for op in 0..6 {
            steps += 1;
            let mut operand = c
                .names
                .get(rng.index(c.names.len().max(1)))
                .cloned()
                .unwrap_or_else(|| "m0".into());
            let mut flags = 0;
            if rng.chance(15) {
                flags |= MODCTL_LOAD_FORCE;
            }
            match rng.index(10) {
                0 | 1 => {
                    let _ = k.modctl().unload(operand.as_bytes());
                    continue;
                }
                2 => {
                    // A path near MAXPATHLEN (1024 with its NUL).
                    let len = 1020 + rng.index(8);
                    operand = path_of_len(len);
                }
                3 => {
                    operand = format!(
                        "{}/root/stand/amd64/{}/modules/{operand}/{operand}.kmod",
                        dir.display(),
                        c.release.1
                    );
                }
                _ => {}
            }
            let props = Dict::new();
            let report = dryrun::dry_run(&k, operand.as_bytes(), flags, &props);
            let result = match diagnose::prevalidate(&k, operand.as_bytes(), flags) {
                Some(refusal) => Err(refusal.errno),
                None => k
                    .modctl()
                    .load(operand.as_bytes(), flags, Some(&props.externalize()))
                    .map_err(|e| e.errno()),
            };
            *outcomes.entry(result.err().map(|e| e.0)).or_insert(0u32) += 1;
            assert_eq!(
                report.verdict,
                result.err(),
                "{}: load {operand:?} flags {flags}: load gave {result:?}\n{}",
                at(&format!("op {op}")),
                report.to_text()
            );
        }
        std::env::remove_var(EMUL_ENV);
        let _ = fs::remove_dir_all(&tmp);
    }
    assert!(steps >= cases * 6);
    // Loads that work and loads refused for many reasons (missing files,
    // cycles, versions, noautoload, INIT, MAXPATHLEN, ...) were all met.
    if cases >= 200 {
        assert!(
            outcomes.contains_key(&None) && outcomes.len() >= 8,
            "seed {seed}: too few kinds of outcome: {outcomes:?}"
        );
    }
}

/// The boot check of a boot.cfg naming the profile's boot modules says
/// of each what the emulated boot did.
fn check_boot(k: &modtools::kernel::KernelConnection, dir: &Path, c: &Case, at: &str) {
    let cfg = dir.join("boot.cfg");
    let mut text = String::new();
    for n in &c.names {
        text.push_str(&format!("load={n}\n"));
    }
    fs::write(&cfg, text).unwrap();
    let report = bootcfg::check(k, &cfg).expect("boot check");
    let entry = report.default_entry().expect("an entry");
    let booted = k.modctl().stat().expect("stat");
    for m in &entry.modules {
        let name = m
            .name
            .clone()
            .map(|n| n.to_string())
            .unwrap_or_else(|| String::from_utf8_lossy(&m.operand).into_owned());
        let active_boot = booted
            .modules
            .iter()
            .any(|s| s.name == name.as_str() && s.source == ModSource::Boot as i32);
        let claimed = m.status == Status::Loaded;
        // A second entry of one name is never the one that boots.
        let first = entry.modules.iter().position(|o| o.operand == m.operand)
            == entry.modules.iter().position(|o| std::ptr::eq(o, m));
        if first {
            assert_eq!(
                claimed,
                active_boot,
                "{at}: boot module {} ({:?}): check says {:?} ({:?})\n{}",
                String::from_utf8_lossy(&m.operand),
                name,
                m.status,
                m.reason,
                report.to_text()
            );
        }
    }
}

fn tempfile_dir() -> std::path::PathBuf {
    // The test harness runs tests on several threads: an atomic.
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let p = std::env::temp_dir().join(format!("one_model.{}.{n}", std::process::id()));
    let _ = fs::remove_dir_all(&p);
    fs::create_dir_all(&p).unwrap();
    p
}
