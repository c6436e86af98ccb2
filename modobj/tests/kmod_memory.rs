//! Memory stays at most at the file's size plus a small constant: a module
//! with a 40 MiB text section is opened, inspected and validated while a
//! counting allocator records the peak (its text is never read); and a
//! small file claiming enormous sections allocates next to nothing. One test function, so no other test in this
//! binary allocates concurrently.

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use modobj::kmod::Kmod;
use modobj::validate::{validate, validate_with_symbols, Target};

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is passed on to `System` unchanged; the counters
// only watch.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's layout, as GlobalAlloc::alloc requires.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = CURRENT.fetch_add(layout.size(), Ordering::SeqCst) + layout.size();
            PEAK.fetch_max(now, Ordering::SeqCst);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` with this layout (alloc above).
        unsafe { System.dealloc(ptr, layout) };
        CURRENT.fetch_sub(layout.size(), Ordering::SeqCst);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as dealloc; `new_size` is the caller's, checked by it.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size > layout.size() {
                let now = CURRENT.fetch_add(new_size - layout.size(), Ordering::SeqCst) + new_size
                    - layout.size();
                PEAK.fetch_max(now, Ordering::SeqCst);
            } else {
                CURRENT.fetch_sub(layout.size() - new_size, Ordering::SeqCst);
            }
        }
        p
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Peak bytes allocated above the level at the start, while running `f`.
fn peak_during(f: impl FnOnce()) -> usize {
    let base = CURRENT.load(Ordering::SeqCst);
    PEAK.store(base, Ordering::SeqCst);
    f();
    PEAK.load(Ordering::SeqCst) - base
}

const BIG_TEXT: usize = 40 << 20;
/// What inspection may use beyond the file itself.
const SLACK: usize = 256 << 10;

fn le(d: &[u8], at: usize, width: usize) -> u64 {
    (0..width).fold(0, |v, i| v | u64::from(d[at + i]) << (8 * i))
}

fn set_le(d: &mut [u8], at: usize, width: usize, v: u64) {
    for i in 0..width {
        d[at + i] = (v >> (8 * i)) as u8;
    }
}

/// The amd64 `hello` module with its .text moved to the end of the file
/// and grown to `BIG_TEXT` bytes (its code followed by zeros).
fn big_module() -> Vec<u8> {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut d = std::fs::read(fixtures.join("modules/hello/hello.kmod")).unwrap();
    let shoff = le(&d, 0x28, 8) as usize;
    // Section 1 is .text in every fixture built by build.sh.
    let text = shoff + 64;
    assert_eq!(le(&d, text + 4, 4), 1, "section 1 is PROGBITS");
    let (old_off, old_size) = (
        le(&d, text + 0x18, 8) as usize,
        le(&d, text + 0x20, 8) as usize,
    );
    let code = d[old_off..old_off + old_size].to_vec();
    let new_off = (d.len() + 15) & !15;
    d.resize(new_off, 0);
    d.extend_from_slice(&code);
    d.resize(new_off + BIG_TEXT, 0);
    set_le(&mut d, text + 0x18, 8, new_off as u64);
    set_le(&mut d, text + 0x20, 8, BIG_TEXT as u64);
    d
}

/// The `example` module with section headers claiming huge sizes.
fn lying_module() -> Vec<u8> {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut d = std::fs::read(fixtures.join("modules/example/example.kmod")).unwrap();
    let shoff = le(&d, 0x28, 8) as usize;
    let shnum = le(&d, 0x3c, 2) as usize;
    for i in 1..shnum {
        set_le(&mut d, shoff + i * 64 + 0x20, 8, 1 << 40);
    }
    d
}

#[test]
fn memory_is_bounded_by_the_file_size() {
    let dir = std::env::temp_dir().join(format!("libmodctl-mem-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let big = dir.join("big.kmod");
    std::fs::write(&big, big_module()).unwrap();
    let size = std::fs::metadata(&big).unwrap().len() as usize;
    assert!(size > BIG_TEXT);
    let target = Target::new(1001000000, "amd64");

    let peak = peak_during(|| {
        let k = Kmod::open(&big).unwrap();
        assert_eq!(k.modinfo().unwrap().name, "hello");
        assert_eq!(k.text_size(), BIG_TEXT as u64);
        let findings = validate(&k, &target);
        assert!(findings.iter().all(|f| !f.certain), "{findings:#?}");
        let known = |n: &str| n == "printf";
        let _ = validate_with_symbols(&k, &target, &known);
        let _ = (k.sections(), k.relocation_types(), k.defined_globals());
        let _ = k.undefined_globals();
    });
    assert!(
        peak <= size + SLACK,
        "peak {peak} bytes for a {size}-byte file (allowed {})",
        size + SLACK
    );
    // The file is read in the ranges the checks need: the 40 MiB of text
    // never are.
    assert!(peak <= SLACK, "peak {peak} bytes: the text was read");

    // Sizes claimed by section headers are never allocated.
    let lying = lying_module();
    let len = lying.len();
    let peak = peak_during(move || {
        let k = Kmod::from_bytes(lying);
        let _ = validate(&k, &target);
        let _ = (k.sections(), k.relocation_types(), k.defined_globals());
    });
    assert!(peak <= len + SLACK, "peak {peak} for a {len}-byte file");

    std::fs::remove_dir_all(&dir).ok();
}
