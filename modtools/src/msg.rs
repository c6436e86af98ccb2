//! Printing as NetBSD's err(3) family does: `prog: message` on standard
//! error, the message's bytes as given (an operand need not be UTF-8).
//! A failed write to stderr is ignored, as warn(3) ignores it: a tool
//! never dies of a closed or full stream.

use std::io::Write;
use std::process::ExitCode;

use libmodctl::errno::Errno;

use crate::getopt::GetoptError;
use crate::kernel::{self, KernelConnection};

/// Writes `text` to stderr as it is.
pub fn stderr(text: &[u8]) {
    let _ = std::io::stderr().write_all(text);
}

/// Writes `text` to stdout as it is; false when it could not be written.
pub fn stdout(text: &[u8]) -> bool {
    write_stdout(text).is_ok()
}

fn write_stdout(text: &[u8]) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text).and_then(|()| out.flush())
}

/// Writes `text` to stdout as it is, for output a caller relies on (a
/// report, a document): a failed write is `prog: stdout: <error>`, as
/// err(3) says it, and `Err` with exit status 1, never silently cut
/// output with status 0.
pub fn stdout_checked(prog: &str, text: &[u8]) -> Result<(), ExitCode> {
    write_stdout(text).map_err(|e| {
        warnx(prog, format!("stdout: {}", Errno::from_io(&e)).as_bytes());
        ExitCode::FAILURE
    })
}

/// warnx(3): `prog: msg`.
pub fn warnx(prog: &str, msg: &[u8]) {
    let mut line = Vec::with_capacity(prog.len() + msg.len() + 3);
    line.extend_from_slice(prog.as_bytes());
    line.extend_from_slice(b": ");
    line.extend_from_slice(msg);
    line.push(b'\n');
    stderr(&line);
}

/// `prog: operand: msg`: warn(3) about an operand, and the reason lines.
pub fn warn_operand(prog: &str, operand: &[u8], msg: &str) {
    let mut m = Vec::with_capacity(operand.len() + msg.len() + 2);
    m.extend_from_slice(operand);
    m.extend_from_slice(b": ");
    m.extend_from_slice(msg.as_bytes());
    warnx(prog, &m);
}

/// errx(3): `prog: msg`, exit 1.
pub fn errx(prog: &str, msg: &[u8]) -> ExitCode {
    warnx(prog, msg);
    ExitCode::FAILURE
}

/// getopt(3)'s own complaint, before the tool's usage text.
pub fn getopt_error(prog: &str, e: &GetoptError) {
    warnx(prog, &e.message_bytes());
}

/// The kernel to talk to, or the NetBSD-style complaint and exit 1.
/// `init_label` is the tool's word for a failed rump init.
pub fn connect(prog: &str, init_label: &str) -> Result<KernelConnection, ExitCode> {
    complain(prog, init_label, kernel::connect(prog))
}

/// [`connect`] for modstat and modunload, which never load a module: an
/// emulated kernel is opened with loads refused.
pub fn connect_without_loader(prog: &str, init_label: &str) -> Result<KernelConnection, ExitCode> {
    complain(prog, init_label, kernel::connect_without_loader(prog))
}

fn complain(
    prog: &str,
    init_label: &str,
    r: Result<KernelConnection, kernel::ConnectError>,
) -> Result<KernelConnection, ExitCode> {
    match r {
        Ok(k) => {
            if let Some(notice) = k.notice() {
                warnx(prog, notice.as_bytes());
            }
            Ok(k)
        }
        Err(e) => {
            for line in e.messages(prog, init_label) {
                stderr(format!("{line}\n").as_bytes());
            }
            Err(ExitCode::FAILURE)
        }
    }
}
