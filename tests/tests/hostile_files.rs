//! Operands that are not module files, or are one hidden in something
//! huge: `modload -n` and `modload` answer each as the kernel would see it
//! (the reads of `kobj_load`, sys/kern/subr_kobj.c r1.76), return at once
//! without waiting on anything, and stay small: a character device that
//! never ends, a FIFO without a writer, a pipe, a socket, a directory, and
//! a 100 GB sparse file with a module at its start.
//!
//! Each run is bounded by a deadline (the test fails instead of hanging)
//! and its peak RSS is measured by the `peak_rss` program of this crate
//! (`wait4(2)` in a small parent; see there why not
//! `getrusage(RUSAGE_CHILDREN)` here).

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use e2e::{fixtures, EmulatedKernel, Output, Via};

/// Far more than any run needs (they take milliseconds); only there so a
/// run that waits fails the test instead of hanging it.
const DEADLINE: Duration = Duration::from_secs(20);

/// Peak RSS allowed for one run, in KiB.
const MAX_RSS_KB: u64 = 16 * 1024;

/// Runs `tool args...` as `k.command(tool)` would, under `peak_rss`, to
/// its end or the deadline; what it printed and its peak RSS in KiB.
fn run_bounded(
    k: &EmulatedKernel,
    tool: &str,
    args: &[&str],
    stdin: Option<Stdio>,
) -> (Output, u64) {
    let plain = k.command(tool);
    let dir = tempfile::tempdir().unwrap();
    let rss_file = dir.path().join("rss");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_peak_rss"));
    cmd.arg(&rss_file).arg(plain.get_program()).args(args);
    for (key, value) in plain.get_envs() {
        match value {
            Some(v) => cmd.env(key, v),
            None => cmd.env_remove(key),
        };
    }
    // Its own process group, so the deadline can end the tool too.
    cmd.process_group(0)
        .stdin(stdin.unwrap_or_else(Stdio::null))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn peak_rss");
    // Kept open (never written to) until the tool is gone: a reader of
    // the pipe would wait for data, not see its end.
    let writer = child.stdin.take();
    let collect = |r: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut s = Vec::new();
            if let Some(mut r) = r {
                r.read_to_end(&mut s).unwrap();
            }
            String::from_utf8_lossy(&s).into_owned()
        })
    };
    let stdout = collect(child.stdout.take().map(|r| Box::new(r) as _));
    let stderr = collect(child.stderr.take().map(|r| Box::new(r) as _));
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > DEADLINE {
            // SAFETY: signals the process group made for this run.
            unsafe { libc::kill(-(child.id() as libc::pid_t), libc::SIGKILL) };
            let _ = child.wait();
            panic!("{tool} {args:?} still ran after {DEADLINE:?}: it waits on its operand");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    drop(writer);
    let rss = std::fs::read_to_string(&rss_file)
        .expect("peak_rss wrote the peak")
        .trim()
        .parse()
        .unwrap();
    let out = Output {
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
        status: status.code().unwrap_or(-1),
    };
    (out, rss)
}

/// `modload args...` against `k`, bounded; checks the peak RSS.
fn modload(k: &EmulatedKernel, args: &[&str], stdin: Option<Stdio>) -> Output {
    let (out, rss) = run_bounded(k, "modload", args, stdin);
    assert!(
        rss < MAX_RSS_KB,
        "modload {args:?}: peak RSS {rss} KiB (at most {MAX_RSS_KB})\n{out:?}"
    );
    out
}

/// The dry run refuses `path` with `errno` (its symbolic name) for
/// `reason`, with `verdict`, and a real load says the same on stderr.
fn refused(
    k: &EmulatedKernel,
    path: &str,
    errno: &str,
    reason: &str,
    verdict: &str,
    message: &str,
) {
    let out = modload(k, &["-n", path], None);
    assert_eq!(out.status, 1, "{out:?}");
    assert!(
        out.stdout
            .contains(&format!("  error {errno}: {path}: {reason}\n")),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.ends_with(&format!("verdict:    {verdict}\n")),
        "{}",
        out.stdout
    );
    let out = modload(k, &[path], None);
    assert_eq!(out.status, 1, "{out:?}");
    assert_eq!(
        out.stderr,
        format!("modload: {message}\nmodload: {path}: {reason}\n")
    );
}

#[test]
fn a_device_that_never_ends_is_read_as_far_as_its_header() {
    let k = EmulatedKernel::new(Via::Emul);
    // /dev/zero: a character device of size 0 whose reads give zeros. The
    // kernel reads an ELF header of zeros: not ELF.
    refused(
        &k,
        "/dev/zero",
        "ENOEXEC",
        "not an ELF object: it starts with 00 00 00 00, not 7f 45 4c 46",
        "the kernel would refuse it: Exec format error",
        "Exec format error",
    );
}

#[test]
fn a_fifo_without_a_writer_is_not_waited_on() {
    let k = EmulatedKernel::new(Via::Emul);
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo.kmod");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let path = fifo.to_str().unwrap();
    // The kernel's open would wait for a writer; the load would end only
    // when interrupted, with EINTR (which the emulator returns at once).
    refused(
        &k,
        path,
        "EINTR",
        &format!("{path} is a FIFO or pipe: the kernel would wait for a writer (not done here)"),
        "the kernel would wait, and end only when interrupted: Interrupted system call",
        "Interrupted system call",
    );
}

#[test]
fn a_pipe_operand_is_a_fifo() {
    let k = EmulatedKernel::new(Via::Emul);
    // /dev/stdin on a pipe whose writer stays open and silent: reading it
    // would wait for data. It cannot be read at offsets either; it is
    // refused as a FIFO, unread.
    let out = modload(&k, &["-n", "/dev/stdin"], Some(Stdio::piped()));
    assert_eq!(out.status, 1, "{out:?}");
    assert!(
        out.stdout.contains(
            "  error EINTR: /dev/stdin: /dev/stdin is a FIFO or pipe: the kernel would wait for a \
             writer (not done here)\n"
        ),
        "{}",
        out.stdout
    );
}

#[test]
fn a_socket_cannot_be_opened() {
    let k = EmulatedKernel::new(Via::Emul);
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("sock.kmod");
    let _listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    let path = sock.to_str().unwrap();
    // NetBSD's vn_open refuses a socket with EOPNOTSUPP.
    refused(
        &k,
        path,
        "EOPNOTSUPP",
        &format!("{path} is a socket, which the kernel cannot open: Operation not supported"),
        "the kernel would refuse it: Operation not supported",
        "Operation not supported",
    );
}

#[test]
fn a_directory_is_not_a_module() {
    let k = EmulatedKernel::new(Via::Emul);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_str().unwrap();
    refused(
        &k,
        path,
        "EISDIR",
        &format!("{path} is a directory: Is a directory"),
        "the kernel would refuse it: Is a directory",
        "Is a directory",
    );
}

#[test]
fn a_module_at_the_start_of_a_100_gb_sparse_file_loads() {
    let k = EmulatedKernel::new(Via::Emul);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sparse.kmod");
    std::fs::copy(
        fixtures().join("modules/example/example.kmod"),
        Path::new(&file),
    )
    .unwrap();
    let f = std::fs::OpenOptions::new().write(true).open(&file).unwrap();
    if let Err(e) = f.set_len(100 << 30) {
        eprintln!("skipped: the temporary file system has no 100 GB files ({e})");
        return;
    }
    drop(f);
    let path = file.to_str().unwrap();
    // Its sections lie in its first kilobyte; nothing is read, or
    // allocated, by the file's size.
    let out = modload(&k, &["-n", path], None);
    assert_eq!(out.status, 0, "{out:?}");
    assert!(
        out.stdout.contains("name:       example\n"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .ends_with("load order: example\nverdict:    the kernel would load it\n"),
        "{}",
        out.stdout
    );
    let out = modload(&k, &[path], None);
    assert_eq!((out.status, &*out.stderr), (0, ""), "{out:?}");
    let out = k.run("modstat", &["example"]);
    assert_eq!(out.status, 0, "{out:?}");
    assert!(out.stdout.contains("example"), "{out:?}");
}
