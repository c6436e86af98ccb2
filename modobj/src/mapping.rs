//! Read-only file mappings that survive the file being truncated.
//!
//! Touching a mapped page past the end of a file raises SIGBUS, which
//! would kill the tools if someone truncated a module while it was being
//! read. A process-wide handler turns such a fault inside a live
//! [`Mapping`] into zeros and marks the mapping damaged, so that whatever
//! was computed from it can be thrown away ([`Mapping::damaged`]). Any
//! other SIGBUS goes to whatever handled it before, as if the handler were
//! not there.
//!
//! The handler may only use what is async-signal-safe, so live mappings
//! are kept in a fixed table of atomics rather than behind a lock.
//! Rewriting a file in place without shrinking it raises no signal and is
//! not detected (a `read` racing such a rewrite would be torn as well).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::OnceLock;

/// How many mappings can be alive at once; a file that finds the table
/// full is read instead. The tools hold one or two at a time.
const SLOTS: usize = 32;

/// One live mapping, as the signal handler sees it.
struct Slot {
    /// Address of the first byte; 0 when the slot is free.
    start: AtomicUsize,
    /// Bytes mapped, in whole pages; 0 while the slot is being filled.
    span: AtomicUsize,
    /// A page past the end of the file was touched and replaced by zeros.
    damaged: AtomicBool,
}

impl Slot {
    const fn new() -> Slot {
        Slot {
            start: AtomicUsize::new(0),
            span: AtomicUsize::new(0),
            damaged: AtomicBool::new(false),
        }
    }
}

static TABLE: [Slot; SLOTS] = [const { Slot::new() }; SLOTS];
static PAGE_SIZE: AtomicUsize = AtomicUsize::new(0);
/// The SIGBUS action in place before ours, restored for faults not ours.
static PREVIOUS: OnceLock<libc::sigaction> = OnceLock::new();
/// Whether the handler is installed (decided once).
static INSTALLED: OnceLock<bool> = OnceLock::new();

/// Takes a free slot for `span` bytes at `start`; `None` when all are
/// taken.
fn claim(table: &[Slot], start: usize, span: usize) -> Option<usize> {
    table.iter().position(|s| {
        if s.start
            .compare_exchange(0, start, Ordering::AcqRel, Ordering::Relaxed)
            .is_err()
        {
            return false;
        }
        s.damaged.store(false, Ordering::Release);
        // Published last: until then the slot matches no address.
        s.span.store(span, Ordering::Release);
        true
    })
}

fn release(table: &[Slot], slot: usize) {
    if let Some(s) = table.get(slot) {
        s.span.store(0, Ordering::Release);
        s.start.store(0, Ordering::Release);
    }
}

/// The slot whose mapping holds `addr`, and the end of that mapping.
/// Called from the signal handler: atomics only.
fn lookup(table: &[Slot], addr: usize) -> Option<(usize, usize)> {
    table.iter().enumerate().find_map(|(i, s)| {
        let start = s.start.load(Ordering::Acquire);
        let span = s.span.load(Ordering::Acquire);
        (start != 0 && addr.wrapping_sub(start) < span).then(|| (i, start + span))
    })
}

extern "C" fn on_sigbus(sig: libc::c_int, info: *mut libc::siginfo_t, _ctx: *mut libc::c_void) {
    // SAFETY: with SA_SIGINFO the kernel passes a valid siginfo_t.
    let (code, addr) = unsafe { ((*info).si_code, (*info).si_addr() as usize) };
    // A positive si_code is a fault the kernel reports; zero or negative
    // means kill(2), sigqueue(2) and the like, where si_addr means nothing.
    let fault = code > 0;
    if fault {
        if let Some((slot, end)) = lookup(&TABLE, addr) {
            let page = PAGE_SIZE.load(Ordering::Relaxed);
            let from = addr & !(page - 1);
            // Zeros over the faulting page and the rest of the mapping
            // (all past the new end of file): one fault per truncation.
            // mmap changes errno only when it fails, and then the process
            // dies below as it would have without this handler.
            // SAFETY: replaces pages of our own read-only mapping, which
            // stays registered (so mapped) while anything reads it.
            let zeros = unsafe {
                libc::mmap(
                    from as *mut libc::c_void,
                    end - from,
                    libc::PROT_READ,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
                    -1,
                    0,
                )
            };
            if zeros != libc::MAP_FAILED {
                if let Some(s) = TABLE.get(slot) {
                    s.damaged.store(true, Ordering::Release);
                }
                return;
            }
        }
    }
    // Not ours: put back the previous action. A fault then repeats when
    // we return and meets that action (the default kills the process);
    // a sent signal is sent again, and stays pending until we return.
    // SAFETY: sigaction and raise are async-signal-safe; a zeroed
    // sigaction is SIG_DFL with an empty mask.
    unsafe {
        let default: libc::sigaction = std::mem::zeroed();
        let previous = PREVIOUS.get().unwrap_or(&default);
        libc::sigaction(sig, previous, std::ptr::null_mut());
        if !fault {
            libc::raise(sig);
        }
    }
}

/// Installs the handler once; false when that failed (then nothing is
/// mapped).
fn install() -> bool {
    *INSTALLED.get_or_init(|| {
        // SAFETY: plain libc calls on local, fully initialised structs.
        unsafe {
            let page = libc::sysconf(libc::_SC_PAGESIZE);
            let Ok(page) = usize::try_from(page) else {
                return false;
            };
            if !page.is_power_of_two() {
                return false;
            }
            PAGE_SIZE.store(page, Ordering::Relaxed);
            let mut old: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(libc::SIGBUS, std::ptr::null(), &mut old) != 0 {
                return false;
            }
            let _ = PREVIOUS.set(old);
            let mut new: libc::sigaction = std::mem::zeroed();
            let handler: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                on_sigbus;
            new.sa_sigaction = handler as libc::sighandler_t;
            // SA_ONSTACK: run on the alternate stack when the thread has
            // one (Rust's threads do), so a SIGBUS from a stack overflow
            // still reaches the previous handler instead of faulting here.
            new.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
            libc::sigemptyset(&mut new.sa_mask);
            libc::sigaction(libc::SIGBUS, &new, std::ptr::null_mut()) == 0
        }
    })
}

/// A private read-only mapping of the start of a file.
///
/// If the file is truncated while mapped, reading past its new end gives
/// zeros instead of killing the process, and [`Mapping::damaged`] turns
/// true for good.
pub(crate) struct Mapping {
    ptr: *mut libc::c_void,
    len: usize,
    slot: usize,
}

// The mapping is read-only and owned by this value alone.
unsafe impl Send for Mapping {}
unsafe impl Sync for Mapping {}

impl Mapping {
    /// Maps the first `len` bytes of `file`; `None` when that cannot be
    /// done safely (the caller reads the file instead).
    pub(crate) fn new(file: &std::fs::File, len: usize) -> Option<Mapping> {
        use std::os::fd::AsRawFd;
        if len == 0 || !install() {
            return None;
        }
        let page = PAGE_SIZE.load(Ordering::Relaxed);
        let span = len.checked_next_multiple_of(page)?;
        // SAFETY: a fresh private read-only mapping of `len` bytes of an
        // open file; failure is reported as MAP_FAILED and checked.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ,
                libc::MAP_PRIVATE,
                file.as_raw_fd(),
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return None;
        }
        // Registered before anything reads it, so every fault is caught.
        match claim(&TABLE, ptr as usize, span) {
            Some(slot) => Some(Mapping { ptr, len, slot }),
            None => {
                // SAFETY: unmaps the mapping just made; nothing refers to it.
                unsafe { libc::munmap(ptr, len) };
                None
            }
        }
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        // SAFETY: `ptr` maps `len` readable bytes until `drop` (pages past
        // a truncated end read as zeros).
        unsafe { std::slice::from_raw_parts(self.ptr.cast::<u8>(), self.len) }
    }

    /// Whether the file shrank under the mapping and zeros were read in
    /// place of its contents.
    pub(crate) fn damaged(&self) -> bool {
        TABLE[self.slot].damaged.load(Ordering::Acquire)
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // Unregistered first: once unmapped, the addresses may be reused.
        release(&TABLE, self.slot);
        // SAFETY: unmaps exactly the mapping made in `new` (including any
        // zero pages the handler put over it).
        unsafe { libc::munmap(self.ptr, self.len) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> [Slot; 4] {
        [const { Slot::new() }; 4]
    }

    #[test]
    fn lookup_finds_only_addresses_inside_a_live_mapping() {
        let t = table();
        assert_eq!(lookup(&t, 0x1000), None);
        let a = claim(&t, 0x10000, 0x3000).unwrap();
        let b = claim(&t, 0x40000, 0x1000).unwrap();
        assert_ne!(a, b);
        assert_eq!(lookup(&t, 0x10000), Some((a, 0x13000)));
        assert_eq!(lookup(&t, 0x12fff), Some((a, 0x13000)));
        assert_eq!(lookup(&t, 0x13000), None);
        assert_eq!(lookup(&t, 0xffff), None);
        assert_eq!(lookup(&t, 0x40800), Some((b, 0x41000)));
        // Address 0 (what kill(2) leaves in si_addr on some systems)
        // matches no free slot.
        assert_eq!(lookup(&t, 0), None);
        release(&t, a);
        assert_eq!(lookup(&t, 0x10000), None);
        assert_eq!(lookup(&t, 0x40800), Some((b, 0x41000)));
    }

    #[test]
    fn a_full_table_refuses_and_a_released_slot_is_reused() {
        let t = table();
        let slots: Vec<usize> = (1..=4).map(|i| claim(&t, i << 20, 4096).unwrap()).collect();
        assert_eq!(claim(&t, 5 << 20, 4096), None);
        t[slots[2]].damaged.store(true, Ordering::Relaxed);
        release(&t, slots[2]);
        assert_eq!(claim(&t, 5 << 20, 4096), Some(slots[2]));
        // A reused slot starts undamaged.
        assert!(!t[slots[2]].damaged.load(Ordering::Relaxed));
        assert_eq!(
            lookup(&t, (5 << 20) + 1),
            Some((slots[2], (5 << 20) + 4096))
        );
        assert_eq!(lookup(&t, (3 << 20) + 1), None);
    }

    /// Run in a child process (the test binary again): a SIGBUS at an
    /// address outside every registered mapping must still kill.
    #[test]
    fn a_sigbus_outside_our_mappings_still_kills() {
        use std::os::fd::AsRawFd;
        use std::os::unix::process::ExitStatusExt;
        const CHILD: &str = "LIBMODCTL_MAPPING_TEST_CHILD";
        const NAME: &str = "mapping::tests::a_sigbus_outside_our_mappings_still_kills";
        if std::env::var_os(CHILD).is_none() {
            let status = std::process::Command::new(std::env::current_exe().unwrap())
                .args([NAME, "--exact", "--test-threads=1"])
                .env(CHILD, "1")
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status()
                .unwrap();
            assert_eq!(status.signal(), Some(libc::SIGBUS), "{status:?}");
            return;
        }
        let path = std::env::temp_dir().join(format!("mapping-child-{}.bin", std::process::id()));
        std::fs::write(&path, vec![1u8; 8192]).unwrap();
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .unwrap();
        std::fs::remove_file(&path).unwrap();
        // Our handler is installed and a registered mapping is alive.
        let ours = Mapping::new(&file, 8192).unwrap();
        // SAFETY: a plain mapping of the same file, not registered; no core
        // file from the fault below.
        let other = unsafe {
            let no_core = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            libc::setrlimit(libc::RLIMIT_CORE, &no_core);
            libc::mmap(
                std::ptr::null_mut(),
                8192,
                libc::PROT_READ,
                libc::MAP_PRIVATE,
                file.as_raw_fd(),
                0,
            )
        };
        assert_ne!(other, libc::MAP_FAILED);
        file.set_len(0).unwrap();
        // SAFETY: reads a mapped page past the end of the file: SIGBUS.
        let byte = unsafe { std::ptr::read_volatile(other.cast::<u8>().add(4096)) };
        // Only reached if the signal was swallowed.
        assert!(!ours.damaged());
        std::process::exit(i32::from(byte) + 100);
    }

    #[test]
    fn dropping_a_mapping_frees_its_slot() {
        let dir = std::env::temp_dir();
        let path = dir.join(format!("mapping-slots-{}.bin", std::process::id()));
        std::fs::write(&path, vec![7u8; 10_000]).unwrap();
        let file = std::fs::File::open(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        // Twice as many as there are slots, one after the other: each
        // drop must give its slot back.
        for _ in 0..2 * SLOTS {
            let m = Mapping::new(&file, 10_000).expect("a free slot");
            assert_eq!(m.bytes()[9_999], 7);
            assert!(!m.damaged());
            let start = m.ptr as usize;
            let span = 10_000usize.next_multiple_of(PAGE_SIZE.load(Ordering::Relaxed));
            assert_eq!(lookup(&TABLE, start + 5), Some((m.slot, start + span)));
        }
    }
}
