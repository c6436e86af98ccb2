//! `peak_rss OUT PROGRAM [ARG...]`: runs PROGRAM with its standard
//! streams inherited, writes its peak resident set size in KiB (as
//! `wait4(2)` reports it) to the file OUT, and exits as it did (128 plus
//! the signal's number when a signal ended it).
//!
//! A program of its own because Linux charges a process, when it execs,
//! with the peak RSS of the address space it leaves: a tool spawned
//! straight from a test process (with `vfork`, as posix_spawn does) is
//! charged with the whole test process's size, and
//! `getrusage(RUSAGE_CHILDREN)` there would report the largest child the
//! test process ever waited for. Spawned from this small program, a tool
//! is charged at most with this program's size.

use std::ffi::OsString;
use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let [out, program, rest @ ..] = &args[..] else {
        eprintln!("usage: peak_rss OUT PROGRAM [ARG...]");
        return ExitCode::from(2);
    };
    let child = match Command::new(program).args(rest).spawn() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("peak_rss: {}: {e}", program.to_string_lossy());
            return ExitCode::from(127);
        }
    };
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid out-parameter.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: our own child's pid and valid out-pointers.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if r == pid {
            break;
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            eprintln!("peak_rss: wait4: {e}");
            return ExitCode::from(126);
        }
    }
    if let Err(e) = std::fs::write(out, format!("{}\n", usage.ru_maxrss)) {
        eprintln!("peak_rss: {}: {e}", out.to_string_lossy());
        return ExitCode::from(126);
    }
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        128 + libc::WTERMSIG(status)
    };
    ExitCode::from(code as u8)
}
