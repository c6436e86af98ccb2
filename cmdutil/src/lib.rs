//! The printing modload, modunload and modstat share. `libmodctl` never
//! prints; these helpers write what it returns the way NetBSD's err(3)
//! family does.

use std::io::Write;
use std::process::ExitCode;

use libmodctl::backend::Backend;
use libmodctl::cli::GetoptError;
use libmodctl::tool;

/// Writes `prog: ` + `msg` + newline to stderr as raw bytes (a message may
/// hold bytes of an argument that are not UTF-8).
pub fn warnx(prog: &str, msg: &[u8]) {
    let mut line = Vec::with_capacity(prog.len() + msg.len() + 3);
    line.extend_from_slice(prog.as_bytes());
    line.extend_from_slice(b": ");
    line.extend_from_slice(msg);
    line.push(b'\n');
    let _ = std::io::stderr().write_all(&line);
}

/// getopt(3)'s own complaint, before the tool's usage text.
pub fn getopt_error(prog: &str, e: &GetoptError) {
    warnx(prog, &e.message_bytes());
}

/// The kernel to talk to, or the NetBSD-style complaint and exit 1.
/// `init_label` is the tool's word for a failed rump init.
pub fn connect(prog: &str, init_label: &str) -> Result<Box<dyn Backend>, ExitCode> {
    complain(prog, init_label, tool::connect(prog))
}

/// [`connect`] for modstat and modunload, which never load a module: an
/// emulated kernel is opened without the module reader, which keeps them
/// about 90 KB smaller.
pub fn connect_without_loader(prog: &str, init_label: &str) -> Result<Box<dyn Backend>, ExitCode> {
    complain(prog, init_label, tool::connect_without_loader(prog))
}

fn complain(
    prog: &str,
    init_label: &str,
    r: Result<Box<dyn Backend>, tool::ConnectError>,
) -> Result<Box<dyn Backend>, ExitCode> {
    r.map_err(|e| {
        for line in e.messages(prog, init_label) {
            let _ = writeln!(std::io::stderr(), "{line}");
        }
        ExitCode::FAILURE
    })
}
