//! The second hardening round (issue 22), through the built programs:
//! the boot.cfg reader bounded and never waiting, its paths as bytes, a
//! default entry that never boots, and output never cut without a word.

use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use e2e::{fixtures, EmulatedKernel as Kernel, Via};
use serde_json::Value;

/// What a run cost: its exit status (`None` when it had to be killed),
/// its stderr, its wall time and its peak resident memory in KB (`None`
/// without GNU time).
struct Cost {
    status: Option<i32>,
    stderr: String,
    elapsed: Duration,
    max_rss_kb: Option<u64>,
}

/// Where GNU time is, if it is.
fn gnu_time() -> Option<&'static Path> {
    let p = Path::new("/usr/bin/time");
    p.exists().then_some(p)
}

/// Runs `modload -n --boot-cfg cfg` on `k` with `stdin`, to its end,
/// killed after 10 s. The peak memory is GNU time's `%M`: the program
/// runs as its child, forked from a small process (a process forked from
/// this test inherits the test's resident size in its rusage).
fn measured(k: &Kernel, cfg: &Path, stdin: Stdio) -> Cost {
    let out = tempfile::NamedTempFile::new().unwrap();
    let mut cmd = match gnu_time() {
        Some(time) => {
            let mut c = Command::new(time);
            c.arg("-f").arg("%M").arg("-o").arg(out.path());
            c.arg(e2e::bin("modload"));
            c
        }
        None => Command::new(e2e::bin("modload")),
    };
    cmd.args(["-n", "--boot-cfg"])
        .arg(cfg)
        .env("MODCTL_EMUL", k.state_dir())
        .stdin(stdin)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .process_group(0);
    let start = Instant::now();
    let mut child = cmd.spawn().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = std::io::Read::read_to_end(&mut stderr, &mut s);
        s
    });
    let mut killed = false;
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if !killed && start.elapsed() > Duration::from_secs(10) {
            // SAFETY: signals our child's process group.
            unsafe { libc::kill(-(child.id() as libc::pid_t), libc::SIGKILL) };
            killed = true;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let elapsed = start.elapsed();
    let stderr = String::from_utf8_lossy(&reader.join().unwrap()).into_owned();
    let max_rss_kb = gnu_time().and_then(|_| {
        let text = std::fs::read_to_string(out.path()).ok()?;
        text.lines().last()?.trim().parse().ok()
    });
    Cost {
        status: if killed { None } else { status.code() },
        stderr,
        elapsed,
        max_rss_kb,
    }
}

/// Under 1 s and 16 MB, whatever the boot.cfg operand is.
fn assert_cheap(what: &str, c: &Cost) {
    assert!(
        c.elapsed < Duration::from_secs(1),
        "{what}: {:?} (status {:?}, {})",
        c.elapsed,
        c.status,
        c.stderr
    );
    match c.max_rss_kb {
        Some(kb) => assert!(kb < 16 * 1024, "{what}: {kb} KB peak ({})", c.stderr),
        None => eprintln!("{what}: no /usr/bin/time, peak memory not checked"),
    }
}

/// GNU time says so when the program was killed or failed; the
/// program's own stderr is what comes before.
fn own_stderr(c: &Cost) -> &str {
    match c.stderr.find("Command exited with non-zero status") {
        Some(at) => &c.stderr[..at],
        None => &c.stderr,
    }
}

// ---------------------------------------------------------------------
// 1. The boot.cfg reader: bounded, and never waiting

#[test]
fn boot_cfg_of_dev_zero_is_refused_unread() {
    let k = Kernel::new(Via::Emul);
    let cost = measured(&k, Path::new("/dev/zero"), Stdio::null());
    assert_cheap("/dev/zero", &cost);
    assert_eq!(cost.status, Some(1));
    assert_eq!(
        own_stderr(&cost),
        "modload: /dev/zero: a device, not a file: not read (the boot loader reads boot.cfg \
         from a file system)\n"
    );
}

#[test]
fn boot_cfg_of_a_fifo_is_refused_without_waiting() {
    let k = Kernel::new(Via::Emul);
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("boot.fifo");
    let c = std::ffi::CString::new(fifo.as_os_str().as_bytes()).unwrap();
    // SAFETY: a valid C string.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let cost = measured(&k, &fifo, Stdio::null());
    assert_cheap("FIFO", &cost);
    assert_eq!(cost.status, Some(1));
    assert_eq!(
        own_stderr(&cost),
        format!(
            "modload: {}: a FIFO or pipe, not a file: not read (the boot loader reads a file; \
             a FIFO would wait for a writer)\n",
            fifo.display()
        )
    );
}

#[test]
fn boot_cfg_on_a_pipe_is_not_read_to_its_end() {
    let k = Kernel::new(Via::Emul);
    // An endless writer on the pipe: reading it to its end never ends.
    let mut yes = Command::new("yes")
        .arg("load=hello")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let pipe = yes.stdout.take().unwrap();
    let cost = measured(&k, Path::new("/dev/stdin"), Stdio::from(pipe));
    let _ = yes.kill();
    let _ = yes.wait();
    assert_cheap("pipe", &cost);
    assert_eq!(cost.status, Some(1));
    assert_eq!(
        own_stderr(&cost),
        "modload: /dev/stdin: a FIFO or pipe, not a file: not read (the boot loader reads a \
         file; a FIFO would wait for a writer)\n"
    );
}

#[test]
fn boot_cfg_of_two_gigabytes_is_ignored_unread() {
    let k = Kernel::new(Via::Emul);
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("boot.cfg");
    let f = std::fs::File::create(&big).unwrap();
    f.set_len(2 << 30).unwrap();
    drop(f);
    let cost = measured(&k, &big, Stdio::null());
    assert_cheap("2 GB sparse file", &cost);
    // The boot loader ignores it whole: no menu, no module, a boot.
    assert_eq!(cost.status, Some(0), "{}", cost.stderr);
    let out = k.run("modload", &["-n", "--boot-cfg", big.to_str().unwrap()]);
    assert!(out.stdout.contains(
        "note:        the file has 2147483648 bytes; the boot loader ignores a boot.cfg of \
         more than 32768 bytes\n"
    ));
}

#[test]
fn boot_cfg_at_the_limit_is_read_and_past_it_ignored() {
    let k = Kernel::new(Via::Emul);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("boot.cfg");
    let mut text = b"menu=A:boot\n".to_vec();
    text.resize(32768, b'#');
    std::fs::write(&file, &text).unwrap();
    let out = k.run("modload", &["-n", "--boot-cfg", file.to_str().unwrap()]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert!(out.stdout.contains("entry 1 (default): A\n"));
    text.push(b'#');
    std::fs::write(&file, &text).unwrap();
    let out = k.run("modload", &["-n", "--boot-cfg", file.to_str().unwrap()]);
    assert!(
        out.stdout.contains("the file has 32769 bytes"),
        "{}",
        out.stdout
    );
}

#[test]
fn boot_cfg_of_a_directory_or_socket_is_refused() {
    let k = Kernel::new(Via::Emul);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("d");
    std::fs::create_dir(&dir).unwrap();
    let out = k.run("modload", &["-n", "--boot-cfg", dir.to_str().unwrap()]);
    assert_eq!(
        (out.stderr.as_str(), out.status),
        (
            format!("modload: {}: Is a directory\n", dir.display()).as_str(),
            1
        )
    );
    let sock = tmp.path().join("s");
    let _l = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    let cost = measured(&k, &sock, Stdio::null());
    assert_cheap("socket", &cost);
    assert_eq!(cost.status, Some(1));
    assert_eq!(
        own_stderr(&cost),
        format!(
            "modload: {}: a socket, not a file: not read\n",
            sock.display()
        )
    );
}

// ---------------------------------------------------------------------
// 2. Paths are bytes

/// A kernel over a root holding the fixture `hello` at `/h\xe9llo.kmod`.
fn latin1_root() -> (Kernel, tempfile::TempDir) {
    let root = tempfile::tempdir().unwrap();
    let name = std::ffi::OsStr::from_bytes(b"h\xe9llo.kmod");
    std::fs::copy(
        fixtures().join("modules/hello/hello.kmod"),
        root.path().join(name),
    )
    .unwrap();
    let k = Kernel::with_profile(
        Via::Emul,
        &format!(
            r#"{{"module_root": "{}", "auto_unload": false}}"#,
            root.path().display()
        ),
    );
    (k, root)
}

#[test]
fn load_paths_that_are_not_utf8_are_found() {
    let (k, _root) = latin1_root();
    let file = k.state_dir().join("boot.cfg");
    std::fs::write(&file, b"load=/h\xe9llo.kmod\n").unwrap();
    let out = k.run("modload", &["-n", "--boot-cfg", file.to_str().unwrap()]);
    assert_eq!(out.status, 0, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout
            .contains("loaded as `hello' (1st, pass any) from /h\u{fffd}llo.kmod\n"),
        "{}",
        out.stdout
    );
    let out = k.run(
        "modload",
        &["-n", "--json", "--boot-cfg", file.to_str().unwrap()],
    );
    assert_eq!(out.status, 0, "{}", out.stderr);
    let doc: Value = serde_json::from_str(&out.stdout).unwrap();
    let m = &doc["entries"][0]["modules"][0];
    assert_eq!(m["status"], "loaded");
    assert_eq!(m["operand"], "/h\u{fffd}llo.kmod");
    let bytes: Vec<u8> = b"/h\xe9llo.kmod".to_vec();
    assert_eq!(m["operand_bytes"], serde_json::json!(bytes));
    assert_eq!(m["file_bytes"], serde_json::json!(bytes));
    assert_eq!(m["tried_bytes"], serde_json::json!([bytes]));
}

#[test]
fn menu_commands_that_are_not_utf8_load_their_paths() {
    let (k, _root) = latin1_root();
    let file = k.state_dir().join("boot.cfg");
    std::fs::write(&file, b"menu=Latin-1:load /h\xe9llo.kmod;boot\n").unwrap();
    let out = k.run(
        "modload",
        &["-n", "--json", "--boot-cfg", file.to_str().unwrap()],
    );
    assert_eq!(out.status, 0, "{}{}", out.stdout, out.stderr);
    let doc: Value = serde_json::from_str(&out.stdout).unwrap();
    let e = &doc["entries"][0];
    assert_eq!(e["modules"][0]["status"], "loaded");
    assert_eq!(
        e["commands_bytes"],
        serde_json::json!(b"load /h\xe9llo.kmod;boot".to_vec())
    );
}

// ---------------------------------------------------------------------
// 3. A default entry that never boots

#[test]
fn default_entry_without_boot_is_a_failure() {
    let k = Kernel::new(Via::Emul);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("boot.cfg");
    std::fs::write(&file, "timeout=5\nmenu=Normal:load hello\n").unwrap();
    let out = k.run("modload", &["-n", "--boot-cfg", file.to_str().unwrap()]);
    assert_eq!(out.status, 1, "{}", out.stdout);
    assert!(out.stdout.contains(
        "  note:       does not boot: its commands end without booting, so the menu comes back\n"
    ));
    assert!(out
        .stdout
        .ends_with("  verdict:    no kernel boots, so no module is loaded\n"));
    let out = k.run(
        "modload",
        &["-n", "--json", "--boot-cfg", file.to_str().unwrap()],
    );
    assert_eq!(out.status, 1);
    let doc: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(doc["would_load"], false);
    assert_eq!(doc["entries"][0]["ends"], "none");
    assert_eq!(doc["entries"][0]["would_load"], false);
    // With a boot at the end, the same entry is a success.
    std::fs::write(&file, "timeout=5\nmenu=Normal:load hello;boot\n").unwrap();
    let out = k.run("modload", &["-n", "--boot-cfg", file.to_str().unwrap()]);
    assert_eq!(out.status, 0, "{}", out.stdout);
}

// ---------------------------------------------------------------------
// 4. Output never cut without a word

/// Runs `tool args` with stdout on /dev/full.
fn to_full_disk(k: &Kernel, tool: &str, args: &[&str]) -> (i32, String) {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full");
    let out = k
        .command(tool)
        .args(args)
        .stdout(full)
        .output()
        .expect("run tool");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn extensions_fail_on_a_full_disk() {
    if !Path::new("/dev/full").exists() {
        eprintln!("no /dev/full: nothing checked");
        return;
    }
    let k = Kernel::new(Via::Emul);
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("boot.cfg");
    std::fs::write(&cfg, "load=hello\n").unwrap();
    let cfg = cfg.to_str().unwrap();
    for (tool, args) in [
        ("modstat", vec!["--json"]),
        ("modload", vec!["-n", "hello"]),
        ("modload", vec!["-n", "--json", "hello"]),
        ("modload", vec!["-n", "--boot-cfg", cfg]),
        ("modload", vec!["-n", "--json", "--boot-cfg", cfg]),
        ("modload", vec!["-p", "-b", "verbose=true"]),
    ] {
        assert_eq!(
            to_full_disk(&k, tool, &args),
            (1, format!("{tool}: stdout: No space left on device\n")),
            "{tool} {args:?}"
        );
    }
    // NetBSD's modstat does not check its listing's writes: neither does
    // the compatible listing.
    assert_eq!(to_full_disk(&k, "modstat", &[]), (0, String::new()));
}

#[test]
fn a_closed_pipe_is_a_write_error_for_a_report() {
    let k = Kernel::new(Via::Emul);
    // A pipe whose reading end is closed before the tool starts: every
    // write is EPIPE (Rust programs ignore SIGPIPE).
    let mut fds = [0; 2];
    // SAFETY: fds has room for the two descriptors.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: both descriptors are ours, each owned once.
    let (reader, writer) = unsafe {
        use std::os::fd::FromRawFd;
        (
            std::os::fd::OwnedFd::from_raw_fd(fds[0]),
            std::os::fd::OwnedFd::from_raw_fd(fds[1]),
        )
    };
    drop(reader);
    let out = k
        .command("modstat")
        .arg("--json")
        .stdout(Stdio::from(writer))
        .output()
        .unwrap();
    assert_eq!(
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).as_ref()
        ),
        (Some(1), "modstat: stdout: Broken pipe\n")
    );
}
