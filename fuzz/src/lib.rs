//! The fuzz targets' bodies, one function per target. Each parses its
//! input with libmodctl and asserts properties that must hold for any
//! input, beyond not panicking. The same functions replay the regression
//! inputs in `fuzz/regressions/<target>/` under `cargo test` (see
//! tests/tests/fuzz_regressions.rs, which includes this file), so
//! nothing here may need nightly or libFuzzer.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

use libmodctl::plist::{Dict, PlistErrorKind};
use libmodctl::stat::{self, ModStat};
use modemul::{Profile, State};
use modobj::kmod::{split_required, Kmod};
use modobj::validate::{self, Target};
use modtools::getopt::{self, Getopt, GetoptError};
use modtools::params;

// ---------------------------------------------------------------------
// Module objects.

/// Kernels each object is judged for: both pointer sizes, both byte
/// orders, the version-dependent rules, and a machine nobody models.
fn targets() -> Vec<Target> {
    vec![
        Target::new(1_001_000_000, "amd64"),
        Target::new(800_000_000, "amd64"),
        Target::new(1_099_001_200, "i386"),
        Target::new(1_000_000_000, "aarch64"),
        Target::new(903_000_000, "evbarm"),
        Target::new(1_001_000_000, "sparc64"),
        Target::new(1_001_000_000, "macppc"),
        Target::new(1_001_000_000, "vax"),
    ]
}

/// Everything the tools do with a module file, with its invariants.
pub fn check_kmod(bytes: &[u8]) {
    let k = Kmod::from_bytes(bytes.to_vec());
    assert_eq!(k.file_size(), bytes.len() as u64);
    let _ = (k.machine(), k.e_type(), k.class(), k.endian(), k.regions());
    let sections = k.sections();
    let _ = k.relocation_types();
    let globals = k.defined_globals();
    let undefined = k.undefined_globals();
    let _ = k.undefined_weak();
    assert!(globals.windows(2).all(|w| w[0] < w[1]), "sorted, unique");
    assert!(undefined.windows(2).all(|w| w[0] < w[1]), "sorted, unique");
    for s in &sections {
        let _ = s.type_name();
    }
    if let Some(mi) = k.modinfo() {
        assert!(!mi.name.as_bytes().contains(&0));
        assert_eq!(
            mi.required,
            mi.required_raw
                .as_deref()
                .map(split_required)
                .unwrap_or_default()
        );
    }
    for t in targets() {
        let findings = validate::validate(&k, &t);
        for f in &findings {
            // The reason is printed as one line after `modload: <path>: `.
            assert!(
                !f.reason().is_empty(),
                "{} without a reason",
                f.check.name()
            );
            assert!(
                !f.reason().contains(['\n', '\r']),
                "{} reason spans lines: {:?}",
                f.check.name(),
                f.reason()
            );
        }
        // Deterministic, and the errno the tools print is a certain
        // finding's whenever there is one.
        assert_eq!(findings, validate::validate(&k, &t));
        let blocking = modobj::validate::blocking_finding(&findings, 0);
        if let Some(c) = findings.iter().find(|f| f.certain && f.blocks(false)) {
            assert_eq!(blocking.map(|b| b.errno), Some(c.errno));
        }
        let with_syms = validate::validate_with_symbols(&k, &t, &|s| s.len() % 2 == 0);
        assert!(with_syms.len() >= findings.len());
        let _ = validate::file_findings("/nonexistent/dir/x.kmod", &k);
    }
    let _ = validate::unresolved_symbols(&k, &|s| s.starts_with('p'));
    let _ = validate::clashing_symbols(&k, &|s| s.starts_with('f'));
}

pub fn kmod_bytes(data: &[u8]) {
    check_kmod(data);
}

/// Good objects of every port the fixtures cover, as mutation bases.
const BASES: &[&[u8]] = &[
    include_bytes!("../../modobj/tests/fixtures/modules/example/example.kmod"),
    include_bytes!("../../modobj/tests/fixtures/modules/needy/needy.kmod"),
    include_bytes!("../../modobj/tests/fixtures/amd64/manyreq.kmod"),
    include_bytes!("../../modobj/tests/fixtures/i386/example.kmod"),
    include_bytes!("../../modobj/tests/fixtures/i386/needy.kmod"),
    include_bytes!("../../modobj/tests/fixtures/aarch64/needy.kmod"),
    include_bytes!("../../modobj/tests/fixtures/arm/needy.kmod"),
    include_bytes!("../../modobj/tests/fixtures/powerpc/needy.kmod"),
    include_bytes!("../../modobj/tests/fixtures/sparc64/needy.kmod"),
];

/// One header field of an object: where it is and how wide.
#[derive(Clone, Copy, Debug)]
struct Field {
    at: usize,
    width: usize,
}

/// Reads the object's own layout (trusting it: the bases are good) and
/// lists the fields worth mutating: ELF header, every section header,
/// symbol and relocation entry.
fn fields(d: &[u8]) -> (Vec<Field>, bool) {
    let is64 = d[4] == 2;
    let big = d[5] == 2;
    let rd = |at: usize, w: usize| -> usize {
        let b = &d[at..at + w];
        let mut v: u64 = 0;
        for i in 0..w {
            let byte = if big { b[i] } else { b[w - 1 - i] };
            v = v << 8 | u64::from(byte);
        }
        v as usize
    };
    let f = |at, width| Field { at, width };
    let (addr, half) = if is64 { (8, 2) } else { (4, 2) };
    let mut out = vec![
        f(4, 1),
        f(5, 1),
        f(6, 1),
        f(0x10, half),
        f(0x12, half),
        f(0x14, 4),
    ];
    let (shoff, shentsize, shnum, shstrndx) = if is64 {
        (rd(0x28, 8), 0x3A, 0x3C, 0x3E)
    } else {
        (rd(0x20, 4), 0x2E, 0x30, 0x32)
    };
    out.extend([
        f(if is64 { 0x28 } else { 0x20 }, addr),
        f(shentsize, 2),
        f(shnum, 2),
        f(shstrndx, 2),
    ]);
    let n = rd(shnum, 2);
    let shsize = if is64 { 64 } else { 40 };
    // (name, type, flags, addr, offset, size, link, info, align, entsize)
    let sh: &[(usize, usize)] = if is64 {
        &[
            (0, 4),
            (4, 4),
            (8, 8),
            (24, 8),
            (32, 8),
            (40, 4),
            (44, 4),
            (48, 8),
        ]
    } else {
        &[
            (0, 4),
            (4, 4),
            (8, 4),
            (16, 4),
            (20, 4),
            (24, 4),
            (28, 4),
            (32, 4),
        ]
    };
    for i in 0..n {
        let base = shoff + i * shsize;
        out.extend(sh.iter().map(|&(o, w)| f(base + o, w)));
        let ty = rd(base + 4, 4);
        let (off, size) = if is64 {
            (rd(base + 24, 8), rd(base + 32, 8))
        } else {
            (rd(base + 16, 4), rd(base + 20, 4))
        };
        // Symbols: name, info, shndx, value; relocations: offset, info.
        let entries: (usize, &[(usize, usize)]) = match (ty, is64) {
            (2, true) => (24, &[(0, 4), (4, 1), (6, 2), (8, 8)]),
            (2, false) => (16, &[(0, 4), (4, 4), (12, 1), (14, 2)]),
            (4, true) => (24, &[(0, 8), (8, 8), (16, 8)]),
            (4, false) => (12, &[(0, 4), (4, 4), (8, 4)]),
            (9, true) => (16, &[(0, 8), (8, 8)]),
            (9, false) => (8, &[(0, 4), (4, 4)]),
            _ => (0, &[]),
        };
        if let Some(count) = size.checked_div(entries.0) {
            for e in 0..count {
                let b = off + e * entries.0;
                out.extend(entries.1.iter().map(|&(o, w)| f(b + o, w)));
            }
        }
    }
    (out, big)
}

/// Values that find edge cases in offsets, sizes, indexes and counts.
const EDGES: &[u64] = &[
    0,
    1,
    2,
    3,
    4,
    7,
    8,
    0x10,
    0x7f,
    0x80,
    0xff,
    0x100,
    0x7fff,
    0x8000,
    0x8001,
    0xffff,
    0x1_0000,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_ffff,
    0x1_0000_0000,
    0x7fff_ffff_ffff_ffff,
    0x8000_0000_0000_0000,
    u64::MAX - 7,
    u64::MAX,
];

/// Structure-aware mutations of good objects: the input picks a base and
/// a list of edits to header, section, symbol and relocation fields (edge
/// values, small deltas, raw bytes, another field's value), truncations
/// and appended bytes; the result goes through [`check_kmod`].
pub fn kmod_mutate(data: &[u8]) {
    let Some((&pick, mut ops)) = data.split_first() else {
        return;
    };
    let mut obj = BASES[usize::from(pick) % BASES.len()].to_vec();
    let (fields, big) = fields(&obj);
    let put = |obj: &mut Vec<u8>, f: Field, v: u64| {
        if let Some(dst) = obj.get_mut(f.at..f.at + f.width) {
            for (i, b) in dst.iter_mut().enumerate() {
                let shift = if big { f.width - 1 - i } else { i } * 8;
                *b = (v >> shift) as u8;
            }
        }
    };
    let get = |obj: &[u8], f: Field| -> u64 {
        let Some(src) = obj.get(f.at..f.at + f.width) else {
            return 0;
        };
        let mut v = 0u64;
        for i in 0..f.width {
            let byte = if big { src[i] } else { src[f.width - 1 - i] };
            v = v << 8 | u64::from(byte);
        }
        v
    };
    while let [kind, a, b, c, rest @ ..] = ops {
        ops = rest;
        let field = fields[(usize::from(*a) << 8 | usize::from(*b)) % fields.len()];
        match kind % 8 {
            0 | 1 => put(&mut obj, field, EDGES[usize::from(*c) % EDGES.len()]),
            2 | 3 => {
                let delta = i64::from(*c as i8);
                let v = get(&obj, field).wrapping_add(delta as u64);
                put(&mut obj, field, v);
            }
            4 => {
                let mut v = 0u64;
                for _ in 0..field.width {
                    let Some((&byte, r)) = ops.split_first() else {
                        break;
                    };
                    ops = r;
                    v = v << 8 | u64::from(byte);
                }
                put(&mut obj, field, v);
            }
            5 => {
                let other = fields[usize::from(*c) * fields.len() / 256];
                let v = get(&obj, other);
                put(&mut obj, field, v);
            }
            6 => {
                // Cut at a field (a header boundary) or at a fraction.
                let at = if *c & 1 == 0 {
                    field.at
                } else {
                    obj.len() * usize::from(*c) / 256
                };
                obj.truncate(at);
            }
            _ => obj.extend(std::iter::repeat_n(*c, usize::from(*a) * 4)),
        }
    }
    check_kmod(&obj);
}

// ---------------------------------------------------------------------
// Property lists.

/// Internalizing never panics; what it accepts externalizes to text it
/// accepts again as the same dictionary, and externalizing is stable.
/// The one exception is proplib's own: empty data is written as `<data/>`,
/// which its internalizer refuses (plist.rs reproduces both halves).
pub fn plist(data: &[u8]) {
    let Ok(dict) = Dict::internalize(data) else {
        return;
    };
    let text = dict.externalize();
    if dict.holds_empty_data() {
        let e = Dict::internalize(&text).expect_err("<data/> is refused, as proplib does");
        assert_eq!(e.kind(), PlistErrorKind::BadEmptiness);
        return;
    }
    let again = Dict::internalize(&text).unwrap_or_else(|e| {
        panic!(
            "own output refused: {e}\n{}",
            String::from_utf8_lossy(&text)
        )
    });
    assert_eq!(again, dict, "round trip changed the dictionary");
    assert_eq!(again.externalize(), text, "externalizing is not stable");
    let mut merged = dict.clone();
    merged.merge(&again);
    assert_eq!(merged, dict, "merging a dictionary into itself changed it");
}

// ---------------------------------------------------------------------
// JSON (the emulator's state.json and profile.json).

/// The state and profile readers (serde_json) never panic, deep nesting
/// included, and what they accept they write as text they read back the
/// same.
pub fn json(data: &[u8]) {
    if let Ok(st) = State::parse(data) {
        let text = st.encode();
        assert_eq!(State::parse(&text).as_ref(), Ok(&st), "state round trip");
    }
    if let Ok(Ok(p)) = std::str::from_utf8(data).map(Profile::from_json) {
        // What goes into host paths cannot climb out of them.
        for token in [&p.machine, &p.osrelease] {
            assert!(
                !token.contains('/') && !token.contains('\0') && token != ".." && token != ".",
                "profile accepted a path-like {token:?}"
            );
        }
        assert!(
            !p.module_path.contains('\0') && !p.module_path.split('/').any(|c| c == ".."),
            "profile accepted module_path {:?}",
            p.module_path
        );
        let text = p.to_json();
        assert_eq!(
            Profile::from_json(&text).as_ref(),
            Ok(&p),
            "profile round trip"
        );
    }
}

// ---------------------------------------------------------------------
// Stat buffers.

fn same_numbers(a: &ModStat, b: &ModStat) {
    assert_eq!(
        (a.class, a.source, a.flags, a.refcnt, a.addr, a.size),
        (b.class, b.source, b.flags, b.refcnt, b.addr, b.size)
    );
}

/// NetBSD ≤ 8 records: decoding never panics, accepts exactly the whole
/// multiples of 392 bytes, and re-encoding what it read decodes again to
/// the same records (strings are C strings, so only they may be cut).
pub fn stat_v1(data: &[u8]) {
    let decoded = stat::decode(stat::StatAbi::V1, data);
    // `%`, not is_multiple_of: that needs Rust 1.87 (MSRV 1.82).
    #[allow(clippy::manual_is_multiple_of)]
    let whole = data.len() % 392 == 0;
    assert_eq!(decoded.is_ok(), whole);
    let Ok(mods) = decoded else { return };
    assert_eq!(mods.len(), data.len() / 392);
    for ostat in [false, true] {
        let again = stat::decode_v1(&stat::encode_v1(&mods, ostat)).expect("own encoding");
        assert_eq!(again.len(), mods.len());
        for (a, b) in mods.iter().zip(&again) {
            same_numbers(a, b);
        }
    }
}

/// NetBSD ≥ 9 buffers: decoding never panics; what it accepts
/// re-encodes to a buffer that decodes to the same records.
pub fn stat_v2(data: &[u8]) {
    let Ok(mods) = stat::decode(stat::StatAbi::V2, data) else {
        return;
    };
    let again = stat::decode_v2(&stat::encode_v2(&mods)).expect("own encoding");
    assert_eq!(again.len(), mods.len());
    for (a, b) in mods.iter().zip(&again) {
        same_numbers(a, b);
        assert!(b.required.is_empty() == a.required.is_empty() || a.required.contains(&0));
    }
}

// ---------------------------------------------------------------------
// getopt.

/// What NetBSD's getopt(3) returns, written from its manual and source
/// independently of libmodctl's parser: letters, arguments and the first
/// error, with the index reached.
#[derive(Debug, PartialEq)]
enum Step {
    Opt(u8, Option<Vec<u8>>),
    Unknown(u8),
    Missing(u8),
}

fn reference_getopt(args: &[Vec<u8>], optstring: &[u8]) -> (Vec<Step>, usize) {
    let mut steps = Vec::new();
    let mut optind = 0;
    let mut place: &[u8] = &[];
    loop {
        let opt;
        if place.is_empty() {
            let Some(word) = args.get(optind) else {
                return (steps, optind);
            };
            if word.first() != Some(&b'-') {
                return (steps, optind);
            }
            place = &word[1..];
            match place.first() {
                Some(b'-') if place.len() == 1 => return (steps, optind + 1),
                None => {
                    if !optstring.contains(&b'-') {
                        return (steps, optind);
                    }
                    opt = b'-';
                }
                Some(&c) => {
                    opt = c;
                    place = &place[1..];
                }
            }
        } else {
            opt = place[0];
            place = &place[1..];
        }
        let spec = optstring
            .iter()
            .position(|&c| c == opt && c != b':')
            .map(|i| optstring.get(i + 1) == Some(&b':'));
        match spec {
            None => {
                if place.is_empty() {
                    optind += 1;
                }
                steps.push(Step::Unknown(opt));
                return (steps, optind);
            }
            Some(false) => {
                if place.is_empty() {
                    optind += 1;
                }
                steps.push(Step::Opt(opt, None));
            }
            Some(true) => {
                let arg = if !place.is_empty() {
                    place.to_vec()
                } else if let Some(next) = args.get(optind + 1) {
                    optind += 1;
                    next.clone()
                } else {
                    steps.push(Step::Missing(opt));
                    return (steps, optind + 1);
                };
                place = &[];
                optind += 1;
                steps.push(Step::Opt(opt, Some(arg)));
            }
        }
    }
}

/// The tools' option strings, and one the input makes (single `:` only,
/// as NetBSD's tools use; `::` is an extension they do not).
fn optstrings(spec: &[u8]) -> Vec<Vec<u8>> {
    let mut made = Vec::new();
    for &b in spec.iter().take(12) {
        let c = b"abfikmnpsPdz-?0x"[usize::from(b & 0x0f)];
        if c != b':' && !made.contains(&c) {
            made.push(c);
            if b & 0x10 != 0 {
                made.push(b':');
            }
        }
    }
    vec![
        b"Pb:d:fi:m:nps:".to_vec(),
        b"".to_vec(),
        b"Aakn".to_vec(),
        made,
    ]
}

/// libmodctl's getopt agrees with the reference on every word list; the
/// helpers for option values never panic and agree with simple rules.
pub fn getopt(data: &[u8]) {
    let mut parts = data.split(|&b| b == 0);
    let spec = parts.next().unwrap_or_default();
    let words: Vec<Vec<u8>> = parts.map(<[u8]>::to_vec).take(16).collect();
    let args: Vec<OsString> = words.iter().cloned().map(OsString::from_vec).collect();
    for optstring in optstrings(spec) {
        let ostr = String::from_utf8(optstring.clone()).expect("ASCII");
        let mut g = Getopt::new(&args, &ostr);
        let mut got = Vec::new();
        for r in g.by_ref() {
            match r {
                Ok(o) => got.push(Step::Opt(o.letter as u8, o.arg.map(OsStringExt::into_vec))),
                Err(GetoptError::Unknown(c)) => got.push(Step::Unknown(c)),
                Err(GetoptError::MissingArgument(c)) => got.push(Step::Missing(c)),
            }
        }
        let (want, index) = reference_getopt(&words, &optstring);
        assert_eq!(got, want, "options of {words:?} with {ostr:?}");
        assert_eq!(g.index(), index, "index after {words:?} with {ostr:?}");
        let (kept, found) = getopt::remove_long_flag(&args, &ostr, "--json");
        if found {
            assert!(kept.len() < args.len() && args.iter().any(|a| a == "--json"));
        } else {
            assert_eq!(kept, args);
        }
    }
    for w in &words {
        let lower = w.to_ascii_lowercase();
        let want = match lower.as_slice() {
            b"1" | b"true" | b"yes" => Some(true),
            b"0" | b"false" | b"no" => Some(false),
            _ => None,
        };
        assert_eq!(params::parse_bool(w), want, "{w:?}");
        if let Some((k, v)) = params::split_param(w) {
            assert!(k.len() + v.len() < w.len(), "the = is dropped");
        }
        if let Ok(n) = params::dehumanize_number(w) {
            // A plain decimal number means itself.
            if let Ok(s) = std::str::from_utf8(w) {
                if let Ok(plain) = s.parse::<i64>() {
                    if s.bytes().all(|c| c.is_ascii_digit()) {
                        assert_eq!(n, plain);
                    }
                }
            }
        }
    }
}
