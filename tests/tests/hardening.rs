//! Hostile neighbours and clumsy administrators: the cases of the
//! hardening issue, each through the built programs. The ones that need a
//! second user run a process as `nobody` with setpriv(1) and need root;
//! without root they say so and check nothing else.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use e2e::{bin, EmulatedKernel, Via};

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

const NOBODY: u32 = 65534;

/// A copy of a program that `nobody` may run (target/ may not be).
fn program_for_all(dir: &Path, tool: &str) -> PathBuf {
    let p = dir.join(tool);
    // Copied by another process: a file this (threaded) process held open
    // for writing could be inherited by a concurrent fork, and then fail
    // to run with ETXTBSY ("Text file busy").
    let copied = Command::new("cp").arg(bin(tool)).arg(&p).status().unwrap();
    assert!(copied.success());
    fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).unwrap();
    p
}

/// Runs `program args` as nobody with `MODCTL_EMUL=state`.
fn as_nobody(program: &Path, state: &Path, args: &[&str]) -> std::process::Output {
    Command::new("setpriv")
        .args([
            format!("--reuid={NOBODY}"),
            format!("--regid={NOBODY}"),
            "--clear-groups".into(),
        ])
        .arg(program)
        .args(args)
        .env("MODCTL_EMUL", state)
        .stdin(Stdio::null())
        .output()
        .expect("setpriv")
}

fn shell_as_nobody(script: &str) {
    let st = Command::new("setpriv")
        .args([
            format!("--reuid={NOBODY}"),
            format!("--regid={NOBODY}"),
            "--clear-groups".into(),
            "sh".into(),
            "-c".into(),
            script.into(),
        ])
        .status()
        .unwrap();
    assert!(st.success(), "as nobody: {script}");
}

fn run_emul(state: &Path, tool: &str, args: &[&str]) -> std::process::Output {
    Command::new(bin(tool))
        .args(args)
        .env("MODCTL_EMUL", state)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// 1. A directory someone else set up, with links where the emulator
///    writes, is refused before anything is written.
#[test]
fn a_state_directory_set_up_by_someone_else_is_refused() {
    if !is_root() {
        eprintln!("skipped: needs root to run a process as nobody");
        return;
    }
    let base = tempfile::tempdir().unwrap();
    fs::set_permissions(base.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let public = base.path().join("pub");
    let k = public.join("k");
    let victim = base.path().join("victim");
    fs::write(&victim, b"root's secret\n").unwrap();
    fs::set_permissions(&victim, fs::Permissions::from_mode(0o600)).unwrap();
    let c1 = base.path().join("c1");
    // As if nobody had made it in /tmp: theirs, writable by all.
    fs::create_dir(&public).unwrap();
    std::os::unix::fs::chown(&public, Some(NOBODY), Some(NOBODY)).unwrap();
    fs::set_permissions(&public, fs::Permissions::from_mode(0o777)).unwrap();
    let script = format!(
        "mkdir {k} && cd {k} && ln -s {v} profile.json.tmp && \
         ln -s {c1} state.json.tmp && ln -s {c1} lock",
        k = k.display(),
        v = victim.display(),
        c1 = c1.display()
    );
    shell_as_nobody(&script);
    let out = run_emul(&k, "modstat", &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.starts_with(&format!(
            "modstat: {}: not used as emulator state: ",
            k.display()
        )),
        "{err}"
    );
    assert_eq!(fs::read(&victim).unwrap(), b"root's secret\n");
    assert!(!c1.exists());
    // A profile by nobody naming a machine that climbs out: never read,
    // the directory being refused first; and refused by itself too.
    let own = tempfile::tempdir().unwrap();
    fs::write(
        own.path().join("profile.json"),
        br#"{"machine": "../../../../../../tmp/pwn"}"#,
    )
    .unwrap();
    let out = run_emul(own.path(), "modload", &["-n", "example"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("is not a NetBSD machine name"));
}

/// 2. An existing directory that is not a state directory is left alone.
#[test]
fn a_directory_holding_other_files_is_not_initialised() {
    let d = tempfile::tempdir().unwrap();
    fs::write(d.path().join("notes.txt"), b"mine\n").unwrap();
    let out = run_emul(d.path(), "modload", &["-n", "example"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("not an emulator state directory"));
    let names: Vec<_> = fs::read_dir(d.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["notes.txt"]);
}

/// 3. Modes do not follow the umask; a rewrite keeps the file's mode.
#[test]
fn state_files_are_private_whatever_the_umask() {
    let base = tempfile::tempdir().unwrap();
    let k = base.path().join("k");
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!("umask 000; exec '{}'", bin("modstat").display()))
        .env("MODCTL_EMUL", &k)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let mode = |p: &Path| fs::metadata(p).unwrap().mode() & 0o777;
    assert_eq!(mode(&k), 0o700);
    for f in ["profile.json", "state.json", "lock"] {
        assert_eq!(mode(&k.join(f)), 0o600, "{f}");
    }
    fs::set_permissions(k.join("state.json"), fs::Permissions::from_mode(0o640)).unwrap();
    assert!(run_emul(&k, "modload", &["example"]).status.success());
    assert_eq!(mode(&k.join("state.json")), 0o640);
    assert!(!k.join("state.json.tmp").exists());
}

/// 4. The kill test's sync point does nothing in the binaries `make
///    install` installs (run against them with MODCTL_TEST_BINDIR).
#[test]
fn release_binaries_have_no_test_hook() {
    if std::env::var_os("MODCTL_TEST_BINDIR").is_none() {
        eprintln!("skipped: runs against the release binaries (MODCTL_TEST_BINDIR)");
        return;
    }
    let k = EmulatedKernel::new(Via::Emul);
    let marker = k.state_dir().join("marker");
    let start = std::time::Instant::now();
    let out = k
        .command("modload")
        .arg("example")
        .env("MODCTL_EMUL_TEST_SYNC_POINT", &marker)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(!marker.exists());
    assert!(start.elapsed() < std::time::Duration::from_secs(30));
}

/// 5. Nobody else can even open the lock; a lock held too long by a
///    process of the owner ends the call with a message.
#[test]
fn a_held_lock_is_given_up_with_a_message() {
    if std::env::var_os("MODCTL_TEST_BINDIR").is_some() {
        eprintln!("skipped: the short lock wait is a debug-build setting");
        return;
    }
    let k = EmulatedKernel::new(Via::Emul);
    assert_eq!(k.run("modstat", &[] as &[&str]).status, 0);
    let lock = k.state_dir().join("lock");
    let mut holder = Command::new("flock")
        .arg(&lock)
        .args(["sleep", "30"])
        .spawn()
        .unwrap();
    // Wait until it holds the lock.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while Command::new("flock")
        .args(["-n"])
        .arg(&lock)
        .arg("true")
        .status()
        .unwrap()
        .success()
    {
        assert!(
            std::time::Instant::now() < deadline,
            "flock never took the lock"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let out = k
        .command("modstat")
        .env("MODCTL_EMUL_TEST_LOCK_WAIT_MS", "200")
        .output()
        .unwrap();
    let _ = holder.kill();
    let _ = holder.wait();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("lock: held by another process for 0.2 s; giving up"),
        "{err}"
    );
    if is_root() {
        let out = Command::new("setpriv")
            .args([
                format!("--reuid={NOBODY}"),
                format!("--regid={NOBODY}"),
                "--clear-groups".into(),
                "flock".into(),
                "-n".into(),
            ])
            .arg(&lock)
            .arg("true")
            .output()
            .unwrap();
        assert!(!out.status.success(), "nobody could open the lock");
    }
}

/// 6. A closed or full standard error never kills a tool.
#[test]
fn unwritable_stderr_is_not_fatal() {
    let k = EmulatedKernel::new(Via::Emul);
    let full = || {
        fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap()
    };
    let status = |tool: &str, args: &[&str]| {
        k.command(tool)
            .args(args)
            .stderr(full())
            .status()
            .unwrap()
            .code()
    };
    assert_eq!(status("modstat", &["-e"]), Some(0));
    assert_eq!(status("modload", &["nosuch"]), Some(1));
    assert_eq!(status("modload", &["-x"]), Some(1));
    assert_eq!(status("modunload", &["nosuch"]), Some(1));
    assert_eq!(status("modstat", &["-x"]), Some(1));
    // A pipe whose reader is gone.
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "'{}' -e 2>&1 | true; echo ${{PIPESTATUS:-x}}",
            bin("modstat").display()
        ))
        .env("MODCTL_EMUL", k.state_dir())
        .output()
        .unwrap();
    assert!(out.status.success());
    let mut c = k
        .command("modstat")
        .arg("-e")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(c.stderr.take());
    assert_eq!(c.wait().unwrap().code(), Some(0));
}

/// 8, 9. A state that cannot be written can still be listed, even after
///    an auto-unload deadline; a write that fails says why and leaves no
///    temporary file.
#[test]
fn a_read_only_state_lists_and_failed_writes_say_why() {
    if !is_root() {
        eprintln!("skipped: needs root to run a process as nobody");
        return;
    }
    let base = tempfile::tempdir().unwrap();
    fs::set_permissions(base.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let bins = base.path().join("bin");
    fs::create_dir(&bins).unwrap();
    fs::set_permissions(&bins, fs::Permissions::from_mode(0o755)).unwrap();
    let modstat = program_for_all(&bins, "modstat");
    let modload = program_for_all(&bins, "modload");
    let k = base.path().join("k");
    fs::create_dir(&k).unwrap();
    std::os::unix::fs::chown(&k, Some(NOBODY), Some(NOBODY)).unwrap();
    // Examples installed where nobody can read them.
    let out = as_nobody(&modload, &k, &["needy"]);
    assert!(out.status.success(), "{}", stderr(&out));
    // hello was loaded as a dependency: make its deadline long past.
    let state = fs::read_to_string(k.join("state.json")).unwrap();
    let hello_at = format!("\"autotime\": {}", autotime_of(&state, "hello"));
    assert_ne!(hello_at, "\"autotime\": 0", "hello has no deadline");
    let state = state.replacen(&hello_at, "\"autotime\": 1", 1);
    fs::write(k.join("state.json"), state).unwrap();
    std::os::unix::fs::chown(k.join("state.json"), Some(NOBODY), Some(NOBODY)).unwrap();
    fs::set_permissions(&k, fs::Permissions::from_mode(0o500)).unwrap();
    let out = as_nobody(&modstat, &k, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("\nhello "));
    // needy can be unloaded in memory but not written: the cause is said.
    let modunload = program_for_all(&bins, "modunload");
    let out = as_nobody(&modunload, &k, &["needy"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    let mut lines = err.lines();
    assert_eq!(lines.next(), Some("modunload: needy: Input/output error"));
    let why = lines.next().unwrap_or("");
    assert!(
        why.starts_with("modunload: needy: ")
            && why.contains("state.json.tmp: cannot write: Permission denied"),
        "{err}"
    );
    assert!(!k.join("state.json.tmp").exists());
    fs::set_permissions(&k, fs::Permissions::from_mode(0o700)).unwrap();
}

fn autotime_of(state: &str, name: &str) -> u64 {
    let at = state.find(&format!("\"name\": \"{name}\"")).unwrap();
    let rest = &state[at..];
    let t = rest.find("\"autotime\": ").unwrap() + "\"autotime\": ".len();
    rest[t..]
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

/// 9. A ksyms file that cannot be read is an error, not "would load".
#[test]
fn an_unreadable_ksyms_file_is_reported() {
    let k = EmulatedKernel::with_profile(Via::Emul, r#"{"ksyms": "/tmp"}"#);
    let out = k.run("modload", &["-n", "example"]);
    assert_eq!(out.status, 1, "{}", out.stdout);
    assert!(
        out.stdout
            .contains("error EIO: example: /tmp: cannot read kernel symbols: not a regular file"),
        "{}",
        out.stdout
    );
    let out = k.run("modload", &["example"]);
    assert_eq!(out.status, 1);
    assert_eq!(out.first_err(), "modload: Input/output error");
    assert!(out
        .stderr
        .contains("modload: example: /tmp: cannot read kernel symbols"));
}

/// 13. `//stand/...` is `/stand/...` below module_root, never the host's.
#[test]
fn double_slashes_stay_below_the_module_root() {
    let k = EmulatedKernel::with_profile(
        Via::Emul,
        r#"{"module_path": "//stand/amd64/10.1/modules"}"#,
    );
    let out = k.run("modload", &["-n", "example"]);
    assert_eq!(out.status, 0, "{}", out.stdout);
    assert!(k
        .state_dir()
        .join("root/stand/amd64/10.1/modules/example/example.kmod")
        .exists());
}

/// 20. Profile errors say what is wrong with the profile.
#[test]
fn profile_errors_name_the_key() {
    let k = EmulatedKernel::with_profile(Via::Emul, "{\"machine\": \"am\\u0000d64\"}");
    let out = k.run("modstat", &[] as &[&str]);
    assert_eq!(out.status, 1);
    assert!(
        out.stderr
            .contains("invalid kernel profile: machine `am\\0d64' is not a NetBSD machine name"),
        "{}",
        out.stderr
    );
}

/// The default kernel's module directory.
fn modules(k: &EmulatedKernel) -> PathBuf {
    assert_eq!(k.run("modstat", &[] as &[&str]).status, 0);
    k.state_dir().join("root/stand/amd64/10.1/modules")
}

/// 10. A dependency's bad `.plist` is found by the dry run, with the
///     errno the load then gets.
#[test]
fn a_dependencys_bad_plist_is_found_by_the_dry_run() {
    let k = EmulatedKernel::new(Via::Emul);
    let m = modules(&k);
    for (contents, errno, text) in [
        (b"garbage".to_vec(), "EINVAL", "Invalid argument"),
        (vec![b' '; 8191], "EFBIG", "File too large"),
    ] {
        fs::write(m.join("hello/hello.plist"), &contents).unwrap();
        let dry = k.run("modload", &["-n", "needy"]);
        assert_eq!(dry.status, 1, "{}", dry.stdout);
        assert!(
            dry.stdout.contains(&format!(
                "  error {errno}: hello: /stand/amd64/10.1/modules/hello/hello.plist "
            )),
            "{}",
            dry.stdout
        );
        let out = k.run("modload", &["needy"]);
        assert_eq!(out.status, 1);
        assert_eq!(out.first_err(), format!("modload: {text}"));
    }
}

/// 11. A `.plist` that is a symbolic link loop: the dry run and the load
///     agree, and the module's initialisation is not blamed.
#[test]
fn a_plist_symlink_loop_is_a_file_error() {
    let k = EmulatedKernel::new(Via::Emul);
    let m = modules(&k);
    std::os::unix::fs::symlink("example.plist", m.join("example/example.plist")).unwrap();
    let dry = k.run("modload", &["-n", "example"]);
    assert_eq!(dry.status, 1, "{}", dry.stdout);
    assert!(
        dry.stdout.contains("  error ELOOP: example: "),
        "{}",
        dry.stdout
    );
    let out = k.run("modload", &["example"]);
    assert_eq!(out.status, 1);
    assert_eq!(
        out.first_err(),
        "modload: Too many levels of symbolic links"
    );
    assert!(!out.stderr.contains("initialisation"), "{}", out.stderr);
}

/// 12. A dependency that cannot be read is not called missing.
#[test]
fn an_unreadable_dependency_is_not_called_missing() {
    let k = EmulatedKernel::new(Via::Emul);
    let m = modules(&k);
    fs::remove_file(m.join("hello/hello.kmod")).unwrap();
    fs::create_dir(m.join("hello/hello.kmod")).unwrap();
    let dry = k.run("modload", &["-n", "needy"]);
    assert_eq!(dry.status, 1);
    let out = k.run("modload", &["needy"]);
    assert_eq!(out.status, 1);
    let load_errno = out.first_err().trim_start_matches("modload: ").to_string();
    assert_ne!(load_errno, "No such file or directory");
    assert!(
        dry.stdout.ends_with(&format!(
            "verdict:    the kernel would refuse it: {load_errno}\n"
        )),
        "{}\n{}",
        dry.stdout,
        out.stderr
    );
}

/// 15. NAME is padded by bytes, as printf pads by strlen.
#[test]
fn names_are_padded_by_bytes() {
    let k = EmulatedKernel::with_profile(
        Via::Emul,
        r#"{"builtins": [{"name": "café", "class": "misc"}, {"name": "tmpfs", "class": "vfs"}]}"#,
    );
    let out = k.run("modstat", &[] as &[&str]);
    assert_eq!(out.status, 0);
    let header = out.stdout.lines().next().unwrap();
    let row = out.stdout.lines().find(|l| l.starts_with("café")).unwrap();
    let class_at = header.find("CLASS").unwrap();
    assert_eq!(
        &row.as_bytes()[class_at..class_at + 4],
        b"misc",
        "{}",
        out.stdout
    );
}

/// 19. A rump kernel's dry run names what it would load.
#[test]
fn rump_dry_runs_list_what_would_be_loaded() {
    let k = EmulatedKernel::new(Via::Rump);
    let out = k.run("modload", &["-n", "example"]);
    assert_eq!(out.status, 0, "{}", out.stdout);
    assert!(
        out.stdout.contains("\nload order: example\n"),
        "{}",
        out.stdout
    );
    assert!(out
        .stdout
        .ends_with("verdict:    the kernel would load it\n"));
}

/// 7. A chain of 15,000 modules, each requiring the next, is walked
///    without running out of stack (a kernel without a depth limit).
#[test]
fn very_long_dependency_chains_do_not_overflow() {
    const N: usize = 15_000;
    let root = tempfile::tempdir().unwrap();
    let template = fs::read(e2e::fixtures().join("amd64/chain_template.kmod")).unwrap();
    // The two names sit at fixed places: find them once.
    let at = |name: &[u8]| {
        template
            .windows(name.len())
            .position(|w| w == name)
            .expect("name in template")
    };
    let (name_at, req_at) = (at(b"z00000\0"), at(b"z00001\0"));
    for i in 0..N {
        let name = format!("z{i:05}");
        let mut data = template.clone();
        data[req_at..req_at + 6].copy_from_slice(format!("z{:05}", i + 1).as_bytes());
        data[name_at..name_at + 6].copy_from_slice(name.as_bytes());
        let dir = root.path().join("m").join(&name);
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join(format!("{name}.kmod")), data).unwrap();
    }
    let k = EmulatedKernel::with_profile(
        Via::Emul,
        &format!(
            r#"{{"module_path": "/m", "module_root": "{}", "auto_unload": false}}"#,
            root.path().display()
        ),
    );
    let dry = k.run("modload", &["-n", "z00000"]);
    assert_eq!(dry.status, 1, "{}", dry.stderr);
    assert!(
        dry.stdout
            .contains("  error ENOENT: z15000: required module `z15000' is not loaded"),
        "{}",
        &dry.stdout[dry.stdout.len().saturating_sub(400)..]
    );
    // The emulated kernel walks the same chain to its missing end.
    let out = k.run("modload", &["z00000"]);
    assert_eq!(out.status, 1, "{}", out.stderr);
    assert_eq!(out.first_err(), "modload: No such file or directory");
    assert!(!k.run("modstat", &["z14999"]).stdout.contains("z14999"));
}

/// 18. A failure explained from a state read afterwards must not blame the
///     module when the state changed meanwhile: `hello` never refuses to
///     unload here (no `fail_fini`), so that reason would be untrue.
#[test]
fn a_lost_race_is_not_blamed_on_the_module() {
    let k = EmulatedKernel::with_profile(Via::Emul, r#"{"auto_unload": false}"#);
    assert_eq!(k.run("modstat", &[] as &[&str]).status, 0);
    let dir = k.state_dir().to_path_buf();
    let churn = std::thread::spawn(move || {
        for _ in 0..150 {
            for (tool, arg) in [("modload", "needy"), ("modunload", "needy")] {
                let _ = Command::new(bin(tool))
                    .arg(arg)
                    .env("MODCTL_EMUL", &dir)
                    .output();
            }
        }
    });
    let mut busy = 0;
    while !churn.is_finished() {
        let out = k.run("modunload", &["hello"]);
        if out.first_err() == "modunload: hello: Device busy" {
            busy += 1;
            assert!(
                !out.stderr.contains("refused to unload itself"),
                "{}",
                out.stderr
            );
        }
    }
    churn.join().unwrap();
    eprintln!("{busy} busy unloads");
}

/// Runs a command, failing the test if it has not ended within 20 s (a
/// hang, not a speed limit), and returns (status, stderr).
fn run_bounded(mut c: Command) -> (Option<i32>, String) {
    let mut child = c
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            let mut err = String::new();
            std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
            return (st.code(), err);
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("{c:?} hung");
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

fn mkfifo(p: &Path) {
    let c = std::ffi::CString::new(p.to_str().unwrap()).unwrap();
    // SAFETY: a valid path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
}

/// Unbounded reads and hangs: `/dev/zero` and FIFOs where a `.plist`, a
/// `-m` property list, the state, the profile or the kernel symbols are
/// read. Each is read within its size and never waited on.
#[test]
fn devices_and_fifos_are_read_bounded_and_never_waited_on() {
    // modload -p -m
    let fifo_dir = tempfile::tempdir().unwrap();
    let fifo = fifo_dir.path().join("fifo");
    mkfifo(&fifo);
    for special in [Path::new("/dev/zero"), fifo.as_path()] {
        let mut c = Command::new(bin("modload"));
        c.args(["-p", "-m"]).arg(special);
        let (code, err) = run_bounded(c);
        assert_eq!(code, Some(1));
        assert_eq!(err, "modload: Failed to read existing property list\n");
    }
    // A module's .plist.
    let k = EmulatedKernel::new(Via::Emul);
    let m = modules(&k);
    std::os::unix::fs::symlink("/dev/zero", m.join("example/example.plist")).unwrap();
    let mut c = k.command("modload");
    c.arg("example");
    let (code, err) = run_bounded(c);
    assert_eq!(
        (code, err.lines().next()),
        (Some(1), Some("modload: Invalid argument"))
    );
    fs::remove_file(m.join("example/example.plist")).unwrap();
    mkfifo(&m.join("example/example.plist"));
    for args in [&["-n", "example"][..], &["example"][..]] {
        let mut c = k.command("modload");
        c.args(args);
        let (code, _) = run_bounded(c);
        assert_eq!(code, Some(1), "{args:?}");
    }
    // state.json, profile.json, ksyms.
    for (file, profile) in [
        ("state.json", None),
        ("profile.json", None),
        ("ksyms", Some(r#"{"ksyms": "ksyms"}"#)),
    ] {
        for special in ["zero", "fifo"] {
            let k = match profile {
                Some(p) => EmulatedKernel::with_profile(Via::Emul, p),
                None => EmulatedKernel::new(Via::Emul),
            };
            if file != "profile.json" {
                assert_eq!(k.run("modstat", &[] as &[&str]).status, 0);
            }
            let p = k.state_dir().join(file);
            let _ = fs::remove_file(&p);
            if special == "zero" {
                std::os::unix::fs::symlink("/dev/zero", &p).unwrap();
            } else {
                mkfifo(&p);
            }
            let mut c = k.command("modload");
            c.args(["-n", "example"]);
            let (code, err) = run_bounded(c);
            assert_eq!(code, Some(1), "{file} as {special}: {err}");
        }
    }
}

/// 14. Names are bytes: one that is not UTF-8 matches no module, and a
///     dry run reads the file the load would.
#[test]
fn names_that_are_not_utf8_are_taken_as_bytes() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let k = EmulatedKernel::with_profile(
        Via::Emul,
        r#"{"builtins": [{"name": "\ufffd", "class": "misc"}, {"name": "tmpfs", "class": "vfs"}]}"#,
    );
    assert_eq!(k.run("modstat", &[] as &[&str]).status, 0);
    let ff = OsStr::from_bytes(b"\xff");
    let out = k.command("modunload").arg(ff).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("No such file or directory"));
    let listing = k.run("modstat", &[] as &[&str]).stdout;
    assert!(
        listing.contains("\n\u{fffd}   "),
        "the builtin was disabled:\n{listing}"
    );
    // ./\xff.kmod: the dry run reads that file, as the load does.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(OsStr::from_bytes(b"\xff.kmod"));
    fs::copy(e2e::fixtures().join("modules/example/example.kmod"), &file).unwrap();
    let dry = k.command("modload").arg("-n").arg(&file).output().unwrap();
    assert_eq!(
        dry.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&dry.stdout)
    );
    let out = k.command("modload").arg(&file).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
}

/// A JSON document on stdout, checked against `tests/schema/<schema>.schema.json`.
fn valid_json(schema: &str, stdout: &[u8]) -> serde_json::Value {
    let doc: serde_json::Value = serde_json::from_slice(stdout).expect("UTF-8 JSON");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("schema/{schema}.schema.json"));
    let schema: serde_json::Value = serde_json::from_slice(&fs::read(path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    doc
}

/// A copy of a bundled module whose one `from\0` (its `mi_name` or
/// `mi_required`, whose length the file fixes) is made `to\0`.
fn renamed(module: &str, from: &[u8], to: &[u8]) -> Vec<u8> {
    assert_eq!(from.len(), to.len());
    let fixture = e2e::fixtures().join(format!("modules/{module}/{module}.kmod"));
    let mut data = fs::read(fixture).unwrap();
    let needle = [from, b"\0"].concat();
    let at: Vec<usize> = (0..data.len())
        .filter(|&i| data[i..].starts_with(&needle))
        .collect();
    assert_eq!(
        at.len(),
        1,
        "one `{}' in {module}.kmod",
        from.escape_ascii()
    );
    data[at[0]..at[0] + to.len()].copy_from_slice(to);
    data
}

/// 14. Names are bytes end to end: a module whose `mi_name` is not UTF-8
///     is listed, found, required, kept in state.json and unloaded by
///     exactly its bytes, and the JSON documents stay valid UTF-8.
#[test]
fn module_names_are_bytes_end_to_end() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    const NAME: &[u8] = b"h\xffllo";
    let name = OsStr::from_bytes(NAME);
    let k = EmulatedKernel::new(Via::Emul);
    let m = modules(&k);
    // h\xffllo/h\xffllo.kmod, and a needy that requires it, loaded by path.
    let dir = m.join(name);
    fs::create_dir(&dir).unwrap();
    let kmod = [NAME, b".kmod"].concat();
    fs::write(
        dir.join(OsStr::from_bytes(&kmod)),
        renamed("hello", b"hello", NAME),
    )
    .unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let needy = elsewhere.path().join("needy.kmod");
    fs::write(&needy, renamed("needy", b"hello", NAME)).unwrap();
    let run = |tool: &str, args: &[&OsStr]| k.command(tool).args(args).output().unwrap();

    let dry = run("modload", &["-n".as_ref(), needy.as_os_str()]);
    let text = String::from_utf8_lossy(&dry.stdout);
    assert_eq!(dry.status.code(), Some(0), "{text}");
    assert!(
        text.contains("\nload order: h\u{fffd}llo -> needy\n"),
        "{text}"
    );
    let dry = run(
        "modload",
        &["-n".as_ref(), "--json".as_ref(), needy.as_os_str()],
    );
    let doc = valid_json("dryrun", &dry.stdout);
    assert_eq!(doc["load_order"][0]["name"], "h\u{fffd}llo");
    assert_eq!(doc["load_order"][0]["name_bytes"], serde_json::json!(NAME));
    assert_eq!(
        doc["module"]["required"],
        serde_json::json!(["h\u{fffd}llo"])
    );
    assert_eq!(doc["module"]["required_bytes"], serde_json::json!([NAME]));
    assert!(doc["load_order"][1].get("name_bytes").is_none());
    let out = run("modload", &[needy.as_os_str()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    // The listing: the raw bytes, padded by strlen (7 bytes, not 9).
    let out = run("modstat", &[]);
    assert_eq!(out.status.code(), Some(0));
    let listing = out.stdout;
    assert!(
        !listing.windows(3).any(|w| w == "\u{fffd}".as_bytes()),
        "{}",
        listing.escape_ascii()
    );
    let pad = [b' '; 16 - NAME.len()];
    let row: Vec<u8> = [NAME, &pad, b" misc     filesys  a        1 "].concat();
    let rows: Vec<&[u8]> = listing.split(|&b| b == b'\n').collect();
    assert!(
        rows.iter().any(|r| r.starts_with(&row)),
        "{}",
        listing.escape_ascii()
    );
    let needy_row = rows.iter().find(|r| r.starts_with(b"needy ")).unwrap();
    assert!(
        needy_row.ends_with(b" h\xffllo"),
        "{}",
        needy_row.escape_ascii()
    );
    assert!(listing.starts_with(b"NAME             CLASS "));

    // `modstat NAME` finds it by its bytes, and only by them.
    let one = run("modstat", &[name]);
    assert_eq!(one.status.code(), Some(0));
    let lines: Vec<&[u8]> = one.stdout.split(|&b| b == b'\n').collect();
    assert_eq!(lines.len(), 3, "{}", one.stdout.escape_ascii());
    assert!(lines[1].starts_with(&row));
    let lossy = OsStr::new("h\u{fffd}llo");
    let none = run("modstat", &[lossy]);
    assert_eq!(none.stdout.split(|&b| b == b'\n').count(), 2);

    // state.json keeps the bytes: the name, the requirement, the hold.
    let state: serde_json::Value =
        serde_json::from_slice(&fs::read(k.state_dir().join("state.json")).unwrap()).unwrap();
    let bytes = serde_json::json!([104, 255, 108, 108, 111]);
    let active = state["active"].as_array().unwrap();
    let rec = active
        .iter()
        .find(|r| r["name"] == bytes)
        .expect("h\\xffllo");
    assert_eq!(rec["refcnt"], 1);
    let needy_rec = active.iter().find(|r| r["name"] == "needy").unwrap();
    assert_eq!(needy_rec["required"], bytes);
    assert_eq!(needy_rec["deps"], serde_json::json!([bytes]));

    // modstat --json: valid UTF-8 JSON, "name" lossy, the exact bytes beside.
    let json = run("modstat", &["--json".as_ref(), name]);
    assert_eq!(json.status.code(), Some(0));
    let doc: serde_json::Value = serde_json::from_slice(&json.stdout).expect("UTF-8 JSON");
    let mods = doc["modules"].as_array().unwrap();
    assert_eq!(mods.len(), 1);
    assert_eq!(mods[0]["name"], "h\u{fffd}llo");
    assert_eq!(mods[0]["name_bytes"], bytes);
    let all = run("modstat", &["--json".as_ref()]);
    let doc = valid_json("modstat", &all.stdout);
    let n = doc["modules"].as_array().unwrap();
    let needy_doc = n.iter().find(|m| m["name"] == "needy").unwrap();
    assert_eq!(needy_doc["requires"], "h\u{fffd}llo");
    assert_eq!(needy_doc["requires_bytes"], bytes);
    assert!(n.iter().filter(|m| m.get("name_bytes").is_some()).count() == 1);

    // modunload: the lossy spelling names nothing; the bytes name the
    // module, busy while needy holds it and gone after.
    // NetBSD's warn(3) line names the operand as given, byte for byte.
    let out = run("modunload", &[lossy]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        out.stderr
            .starts_with("modunload: h\u{fffd}llo: No such file or directory\n".as_bytes()),
        "{}",
        out.stderr.escape_ascii()
    );
    let out = run("modunload", &[name]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        out.stderr
            .starts_with(b"modunload: h\xffllo: Device busy\n"),
        "{}",
        out.stderr.escape_ascii()
    );
    assert_eq!(run("modunload", &["needy".as_ref()]).status.code(), Some(0));
    let out = run("modunload", &[name]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let gone = run("modstat", &[name]);
    assert_eq!(gone.stdout.split(|&b| b == b'\n').count(), 2);

    // Loaded again by its name: the file the kernel looks up is bytes too.
    let dry = run("modload", &["-n".as_ref(), name]);
    assert_eq!(
        dry.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&dry.stdout)
    );
    assert_eq!(run("modload", &[name]).status.code(), Some(0));
    let again = run("modstat", &[name]);
    let lines: Vec<&[u8]> = again.stdout.split(|&b| b == b'\n').collect();
    let row: Vec<u8> = [NAME, &pad, b" misc     filesys  -        0 "].concat();
    assert!(
        lines[1].starts_with(&row),
        "{}",
        again.stdout.escape_ascii()
    );
}

/// 14. Boot modules are named by bytes too: one whose `mi_name` is not
///     UTF-8 is found on the boot list as another's requirement, listed
///     and unloaded by its bytes, and the boot.cfg check reports it in
///     valid JSON.
#[test]
fn boot_modules_named_by_bytes() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    const NAME: &[u8] = b"h\xffllo";
    let name = OsStr::from_bytes(NAME);
    let root = tempfile::tempdir().unwrap();
    fs::create_dir(root.path().join("b")).unwrap();
    fs::write(
        root.path().join("b/hello.kmod"),
        renamed("hello", b"hello", NAME),
    )
    .unwrap();
    fs::write(
        root.path().join("b/needy.kmod"),
        renamed("needy", b"hello", NAME),
    )
    .unwrap();
    let k = EmulatedKernel::with_profile(
        Via::Emul,
        &format!(
            r#"{{"module_root": "{}", "auto_unload": false,
                "boot_modules": ["/b/needy.kmod", "/b/hello.kmod"]}}"#,
            root.path().display()
        ),
    );
    let run = |tool: &str, args: &[&OsStr]| k.command(tool).args(args).output().unwrap();

    // Booted as needy's dependency from the boot list, hence flag a.
    let out = run("modstat", &[name]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let pad = [b' '; 16 - NAME.len()];
    let row = [NAME, &pad, b" misc     boot     a        1 "].concat();
    let lines: Vec<&[u8]> = out.stdout.split(|&b| b == b'\n').collect();
    assert_eq!(lines.len(), 3, "{}", out.stdout.escape_ascii());
    assert!(lines[1].starts_with(&row), "{}", out.stdout.escape_ascii());
    let json = run("modstat", &["--json".as_ref()]);
    let doc = valid_json("modstat", &json.stdout);
    let mods = doc["modules"].as_array().unwrap();
    let m = mods
        .iter()
        .find(|m| m["name_bytes"] == serde_json::json!(NAME));
    assert_eq!(m.expect("by its bytes")["source"], "boot");

    // The boot.cfg check agrees, byte for byte in the JSON.
    let cfg = root.path().join("boot.cfg");
    fs::write(&cfg, "load=/b/needy.kmod\nload=/b/hello.kmod\n").unwrap();
    let out = run(
        "modload",
        &[
            "-n".as_ref(),
            "--json".as_ref(),
            "--boot-cfg".as_ref(),
            cfg.as_os_str(),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", out.stdout.escape_ascii());
    let doc = valid_json("bootcfg", &out.stdout);
    let entry = &doc["entries"][0];
    assert_eq!(
        entry["load_order"],
        serde_json::json!(["h\u{fffd}llo", "needy"])
    );
    assert_eq!(
        entry["load_order_bytes"],
        serde_json::json!([NAME, b"needy"])
    );
    let hello = &entry["modules"][1];
    assert_eq!(hello["name_bytes"], serde_json::json!(NAME));
    assert_eq!(hello["dependency_of"], "needy");
    assert!(hello.get("dependency_of_bytes").is_none());
    assert!(entry["modules"][0].get("name_bytes").is_none());

    // Unloaded by its bytes once needy lets go.
    assert_eq!(run("modunload", &["needy".as_ref()]).status.code(), Some(0));
    let out = run("modunload", &[name]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let gone = run("modstat", &[name]);
    assert_eq!(gone.stdout.split(|&b| b == b'\n').count(), 2);
}
