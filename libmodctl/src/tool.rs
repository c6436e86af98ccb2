//! What the three tools share beyond option parsing: picking the kernel to
//! talk to and the words for failing to reach it. Nothing here prints; the
//! tools print the lines this returns.

use std::ffi::OsString;
use std::fmt;
use std::path::PathBuf;

use crate::backend::emul::{Emul, EmulError};
use crate::backend::rump::{Rump, RumpError};
use crate::backend::Backend;
use crate::errno::Errno;

/// The environment variable naming an emulated kernel's state directory.
pub const EMUL_ENV: &str = "MODCTL_EMUL";

/// Which kernel a tool talks to, by NetBSD's conventions plus ours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice {
    /// Invoked as `rump.<tool>`: librumpclient and `RUMP_SERVER`.
    Rump,
    /// `MODCTL_EMUL` names a state directory.
    Emul(PathBuf),
    /// The running NetBSD kernel.
    NetBsd,
    /// None of the above is possible on this host.
    None,
}

/// Decides the backend from the program name and environment.
pub fn choose(progname: &str, emul_dir: Option<OsString>) -> Choice {
    if progname.starts_with("rump.") {
        Choice::Rump
    } else if let Some(dir) = emul_dir.filter(|d| !d.is_empty()) {
        Choice::Emul(PathBuf::from(dir))
    } else if cfg!(target_os = "netbsd") {
        Choice::NetBsd
    } else {
        Choice::None
    }
}

/// Why no kernel could be reached.
#[derive(Debug)]
pub enum ConnectError {
    Rump(RumpError),
    Emul(EmulError),
    NoBackend,
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConnectError::Rump(e) => write!(f, "{e}"),
            ConnectError::Emul(e) => write!(f, "{e}"),
            ConnectError::NoBackend => write!(
                f,
                "no kernel module interface on this host: set {EMUL_ENV} to a directory \
                 for an emulated NetBSD kernel, run as rump.<tool> with RUMP_SERVER set, \
                 or run on NetBSD"
            ),
        }
    }
}

impl ConnectError {
    /// The lines to print, NetBSD's first. `init_label` is the tool's word
    /// for a failed rump init: `prog init failed` (modload, modstat) or
    /// `init failed` (modunload).
    pub fn messages(&self, prog: &str, init_label: &str) -> Vec<String> {
        match self {
            ConnectError::Rump(e) => {
                let mut lines = vec![format!("{prog}: {init_label}: {}", e.errno())];
                if !matches!(e, RumpError::InitFailed(_)) {
                    lines.push(format!("{prog}: {e}"));
                }
                lines
            }
            other => vec![format!("{prog}: {other}")],
        }
    }

    pub fn errno(&self) -> Errno {
        match self {
            ConnectError::Rump(e) => e.errno(),
            ConnectError::Emul(_) => Errno::EIO,
            ConnectError::NoBackend => Errno::ENOSYS,
        }
    }
}

/// Opens the chosen backend.
pub fn connect(progname: &str) -> Result<Box<dyn Backend>, ConnectError> {
    connect_with(progname, Emul::open)
}

/// [`connect`] for programs that never load a module (modstat, modunload):
/// an emulated kernel is opened without the module reader, which keeps
/// it out of these programs.
pub fn connect_without_loader(progname: &str) -> Result<Box<dyn Backend>, ConnectError> {
    connect_with(progname, Emul::open_without_loader)
}

fn connect_with(
    progname: &str,
    open_emul: fn(&std::path::Path) -> Result<Emul, EmulError>,
) -> Result<Box<dyn Backend>, ConnectError> {
    match choose(progname, std::env::var_os(EMUL_ENV)) {
        Choice::Rump => Ok(Box::new(Rump::connect().map_err(ConnectError::Rump)?)),
        Choice::Emul(dir) => Ok(Box::new(open_emul(&dir).map_err(ConnectError::Emul)?)),
        Choice::NetBsd => netbsd(),
        Choice::None => Err(ConnectError::NoBackend),
    }
}

#[cfg(target_os = "netbsd")]
fn netbsd() -> Result<Box<dyn Backend>, ConnectError> {
    Ok(Box::new(crate::backend::netbsd::NetBsd))
}

#[cfg(not(target_os = "netbsd"))]
fn netbsd() -> Result<Box<dyn Backend>, ConnectError> {
    Err(ConnectError::NoBackend)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choice_follows_name_then_environment() {
        assert_eq!(choose("rump.modstat", Some("/x".into())), Choice::Rump);
        assert_eq!(
            choose("modstat", Some("/x".into())),
            Choice::Emul("/x".into())
        );
        let host = if cfg!(target_os = "netbsd") {
            Choice::NetBsd
        } else {
            Choice::None
        };
        assert_eq!(choose("modstat", Some("".into())), host);
        assert_eq!(choose("modstat", None), host);
    }

    #[test]
    fn connect_messages() {
        let e = ConnectError::Rump(RumpError::InitFailed(Errno::ENOENT));
        assert_eq!(
            e.messages("rump.modload", "prog init failed"),
            vec!["rump.modload: prog init failed: No such file or directory"]
        );
        let e = ConnectError::Rump(RumpError::LibraryMissing("nope".into()));
        assert_eq!(
            e.messages("rump.modunload", "init failed"),
            vec![
                "rump.modunload: init failed: No such file or directory",
                "rump.modunload: cannot load librumpclient: nope"
            ]
        );
    }
}
