//! Inspecting and validating any bytes never panics: every fixture is
//! mutated a bounded number of times (byte flips, header and section
//! header fields set to edge values, truncation) and random buffers are
//! thrown at the reader, with every accessor and the validator exercised.

use std::path::{Path, PathBuf};

use libmodctl::errno::Errno;
use modobj::kmod::Kmod;
use modobj::validate::{
    clashing_symbols, kernel_errno, unresolved_symbols, validate, validate_with_symbols, Target,
};

/// Mutants per fixture; bounded so the test stays quick.
const MUTANTS_PER_FIXTURE: usize = 150;
const RANDOM_BUFFERS: usize = 600;

/// xorshift64*: small, seeded, reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

fn fixture_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|e| e == "kmod" || e == "o") {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures"),
        &mut out,
    );
    assert!(out.len() > 50, "fixtures missing");
    out
}

/// Values that tend to break offset and size arithmetic.
fn edge_value(rng: &mut Rng, len: usize) -> u64 {
    let len = len as u64;
    let choices = [
        0,
        1,
        2,
        3,
        7,
        0x7f,
        0xff,
        0x100,
        0x7fff,
        0x8000,
        0xffff,
        0x7fff_ffff,
        0x8000_0000,
        0xffff_ffff,
        0x1_0000_0000,
        u64::MAX,
        u64::MAX - 1,
        i64::MAX as u64,
        len,
        len.wrapping_sub(1),
        len + 1,
        len / 2,
        rng.next(),
    ];
    choices[rng.below(choices.len())]
}

fn put(data: &mut [u8], at: usize, value: u64, width: usize, big: bool) {
    for i in 0..width {
        let shift = if big { (width - 1 - i) * 8 } else { i * 8 };
        if let Some(b) = data.get_mut(at + i) {
            *b = (value >> shift) as u8;
        }
    }
}

fn mutate(rng: &mut Rng, orig: &[u8]) -> Vec<u8> {
    let mut d = orig.to_vec();
    let big = d.get(5) == Some(&2);
    let wide = d.get(4) == Some(&2);
    let len = d.len();
    match rng.below(6) {
        0 => {
            for _ in 0..1 + rng.below(8) {
                let at = rng.below(len);
                if let Some(b) = d.get_mut(at) {
                    *b = rng.next() as u8;
                }
            }
        }
        1 => {
            // An ELF header field.
            let at = rng.below(64.min(len));
            let width = [1, 2, 4, 8][rng.below(4)];
            let v = edge_value(rng, len);
            put(&mut d, at, v, width, big);
        }
        2 => {
            // A field of one section header.
            let (shoff, entsize) = if wide {
                (read(&d, 0x28, 8, big), 64)
            } else {
                (read(&d, 0x20, 4, big), 40)
            };
            let shnum = read(&d, if wide { 0x3c } else { 0x30 }, 2, big).max(1);
            let index = rng.below(shnum as usize) as u64;
            let field = rng.below(entsize);
            let width = [2, 4, 8][rng.below(3)];
            let at = shoff
                .saturating_add(index * entsize as u64)
                .saturating_add(field as u64);
            let v = edge_value(rng, len);
            put(&mut d, at as usize, v, width, big);
        }
        3 => {
            d.truncate(rng.below(len + 1));
        }
        4 => {
            // Scribble over the tail, where relocations and tables live.
            let start = len - len / 3;
            for _ in 0..1 + rng.below(16) {
                let at = start + rng.below(len - start);
                if let Some(b) = d.get_mut(at) {
                    *b = rng.next() as u8;
                }
            }
        }
        _ => {
            // Several header and section fields at once.
            for _ in 0..3 {
                let at = rng.below(len);
                let width = [2, 4, 8][rng.below(3)];
                let v = edge_value(rng, len);
                put(&mut d, at, v, width, big);
            }
        }
    }
    d
}

fn read(d: &[u8], at: usize, width: usize, big: bool) -> u64 {
    let mut v = 0u64;
    for i in 0..width {
        let b = u64::from(*d.get(at + i).unwrap_or(&0));
        let shift = if big { (width - 1 - i) * 8 } else { i * 8 };
        v |= b << shift;
    }
    v
}

fn targets() -> Vec<Target> {
    vec![
        Target::new(1001000000, "amd64"),
        Target::new(903000000, "i386"),
        Target::new(703000000, "amd64"),
        Target::new(1099001200, "sparc64"),
        Target::new(1001000000, "evbarm"),
        Target::new(1001000000, "vax"),
    ]
}

/// Calls everything a caller might call on an object.
fn exercise(bytes: Vec<u8>, targets: &[Target]) {
    let k = Kmod::from_bytes(bytes);
    let _ = (
        k.machine(),
        k.class(),
        k.endian(),
        k.e_type(),
        k.file_size(),
    );
    if let Some(mi) = k.modinfo() {
        assert!(mi.name.len() <= 64 * 1024);
        let _ = modobj::kmod::version_text(mi.version);
    }
    let _ = (k.text_size(), k.regions());
    let _ = (
        k.defined_globals(),
        k.undefined_globals(),
        k.undefined_weak(),
    );
    for s in k.sections() {
        let _ = s.type_name();
    }
    let _ = k.relocation_types();
    let known = |n: &str| n.starts_with('p') || n == "hello_greet";
    let _ = unresolved_symbols(&k, &known);
    let _ = clashing_symbols(&k, &known);
    for t in targets {
        let findings = validate(&k, t);
        for f in &findings {
            assert!(
                !f.reason().is_empty() && !f.reason().contains('\n'),
                "{f:?}"
            );
        }
        if let Some(errno) = kernel_errno(&findings, false) {
            let kernel_errnos = [
                Errno::ENOEXEC,
                Errno::EINVAL,
                Errno::ENOENT,
                Errno::EPROGMISMATCH,
                Errno::EDEADLK,
            ];
            assert!(kernel_errnos.contains(&errno), "{errno:?}");
        }
        let _ = validate_with_symbols(&k, t, &known);
    }
}

#[test]
fn mutated_fixtures_never_panic() {
    let targets = targets();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for file in fixture_files() {
        let orig = std::fs::read(&file).unwrap();
        exercise(orig.clone(), &targets);
        for _ in 0..MUTANTS_PER_FIXTURE {
            let mutant = mutate(&mut rng, &orig);
            exercise(mutant, &targets);
        }
    }
}

#[test]
fn random_buffers_never_panic() {
    let targets = targets();
    let mut rng = Rng(0x1234_5678_9abc_def1);
    for i in 0..RANDOM_BUFFERS {
        let len = rng.below(if i % 2 == 0 { 128 } else { 4096 });
        let mut d: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        // Half of them look like ELF headers of either class and order.
        if i % 2 == 1 && d.len() >= 16 {
            d[..4].copy_from_slice(b"\x7fELF");
            d[4] = 1 + (rng.next() % 2) as u8;
            d[5] = 1 + (rng.next() % 2) as u8;
            d[6] = 1;
        }
        exercise(d, &targets);
    }
    exercise(Vec::new(), &targets);
}

/// The boot loader's read (the whole file at once, `kobj::load_boot`)
/// gives the same verdict, findings and all, as `kobj_load`'s reads of
/// ranges (`kobj::load`): the emulator boots with the one and loads with
/// the other.
#[test]
fn whole_file_reads_judge_like_range_reads() {
    use modobj::kobj;
    let dir = std::env::temp_dir().join(format!("kmod-whole-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let targets = targets();
    let mut rng = Rng(0x5eed_0b00_7000_0001);
    let mut compared = 0;
    for (n, f) in fixture_files().iter().enumerate() {
        let orig = std::fs::read(f).unwrap();
        for m in 0..8 {
            let path = dir.join(format!("{n}-{m}.kmod"));
            let bytes = if m == 0 {
                orig.clone()
            } else {
                mutate(&mut rng, &orig)
            };
            std::fs::write(&path, &bytes).unwrap();
            for t in &targets {
                assert_eq!(
                    kobj::load(&path, t),
                    kobj::load_boot(&path, t).expect("a regular file"),
                    "{} (mutant {m}) for {} {}",
                    f.display(),
                    t.machine,
                    t.osrevision
                );
                compared += 1;
            }
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(compared > 400);
}
