//! What the kernel's linker makes of a module file: `kobj_load` (or
//! `kobj_load_mem` for an object the boot loader read into memory, whose
//! reads are bounded by its size just as a file's are by its length) and
//! `module_fetch_info`, told apart from what `kobj_affix` refuses later.
//!
//! The verdicts are the validator's certain findings, split by where the
//! kernel makes them; the emulator and the boot check both use this split.

use std::fmt::{self, Display, Formatter};
use std::path::Path;

use libmodctl::errno::Errno;

use crate::findings::Detail;
use crate::kmod::{self, Kmod, KmodError};
use crate::validate::{self, Check, Finding, Stage, Target};

/// The `modinfo_t` the kernel found: the reader's, one type for it.
pub use crate::kmod::ModInfo as Info;

/// Why the kernel refuses the object: its errno and what caused it.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub errno: Errno,
    pub cause: Cause,
}

/// What made the path lookup, the read or the linker refuse an object,
/// with the values it names; worded by its `Display` alone.
#[derive(Debug, Clone, PartialEq)]
pub enum Cause {
    /// A certain finding of the validator (a file that changed while it
    /// was read is [`Detail::FileChanged`]); boxed, as findings are large
    /// and refusals are carried around.
    Finding(Box<Detail>),
    /// The file cannot be read; `path` as it is shown.
    Unreadable { path: String, error: KmodError },
    /// There is no file at `path` (as it is shown).
    NoFile { path: String },
    /// The validator passed it, but its `modinfo_t` cannot be decoded.
    DescriptorUnreadable,
    /// An autoload was given a path, not a module name.
    AutoloadPath,
    /// A component of the path is longer than namei allows (`max`).
    ComponentTooLong { max: usize },
    /// The root file system is not mounted, so no file can be opened.
    RootNotMounted,
    /// The program does not load modules (modstat, modunload).
    NoLoader,
}

impl Refusal {
    fn of(f: &Finding) -> Refusal {
        Refusal {
            errno: f.errno,
            cause: Cause::Finding(Box::new(f.detail.clone())),
        }
    }
}

impl Display for Cause {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Cause::Finding(d) => d.fmt(f),
            Cause::Unreadable { path, error } => write!(f, "cannot read {path}: {error}"),
            Cause::NoFile { path } => write!(f, "no file {path}"),
            Cause::DescriptorUnreadable => f.write_str("the module descriptor cannot be read"),
            Cause::AutoloadPath => f.write_str("an autoload takes a module name, not a path"),
            Cause::ComponentTooLong { max } => {
                write!(f, "a component of the path is longer than {max} bytes")
            }
            Cause::RootNotMounted => f.write_str("the root file system is not mounted"),
            Cause::NoLoader => f.write_str("this program loads no module"),
        }
    }
}

/// An object `kobj_load` accepted.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    /// Total size of the executable sections (what `kobj_stat` reports).
    pub text_size: u64,
    /// Defined `STB_GLOBAL` symbols.
    pub defined: Vec<String>,
    /// Undefined `STB_GLOBAL` symbols.
    pub undefined: Vec<String>,
    /// `module_fetch_info`: the descriptor, or why it cannot be had.
    pub info: Result<Info, Refusal>,
    /// A certain refusal of `kobj_affix` other than symbol resolution
    /// (an unsupported relocation, say).
    pub link: Option<Refusal>,
    /// Every finding of the validator, for explanations.
    pub findings: Vec<Finding>,
}

/// The checks `module_fetch_info` makes (the rest of the validator's Load
/// stage is `kobj_load`'s).
fn is_fetch_info(check: Check) -> bool {
    matches!(check, Check::LinkSetMissing | Check::LinkSetSize)
}

/// Reads `path` and judges it as `kobj_load` and `module_fetch_info` do
/// for `target`. Symbol clashes are left to the caller, who knows which
/// symbols exist at the time.
pub fn load(path: &Path, target: &Target) -> Result<Loaded, Refusal> {
    // A FIFO, which the kernel would wait on, ends the load as an
    // interrupted wait would (EINTR); nothing here waits.
    let k = Kmod::open(path).map_err(|e| open_refusal(path, e))?;
    judge(&k, target)
}

/// [`load`] of a module file the boot loader looks for: it reads a
/// regular file whole into memory, which `kobj_load_mem` reads as
/// `kobj_load` reads a file, so the verdict is [`load`]'s
/// ([`Kmod::open_whole`]). `None` when there is no regular file at `path`,
/// which the loader passes over; one it cannot read is refused.
pub fn load_boot(path: &Path, target: &Target) -> Option<Result<Loaded, Refusal>> {
    match Kmod::open_whole(path) {
        Ok(Some(k)) => Some(judge(&k, target)),
        Ok(None) => None,
        // Opened and looked at in one go: only when that fails is the
        // file's type asked for (a FIFO, a directory or a missing file is
        // passed over as the loader's look passes over it).
        Err(e) => crate::boot::loader_takes(path).then(|| Err(open_refusal(path, e))),
    }
}

/// Why a file that cannot be read is refused.
fn open_refusal(path: &Path, error: KmodError) -> Refusal {
    Refusal {
        errno: error.errno(),
        cause: Cause::Unreadable {
            path: path.display().to_string(),
            error,
        },
    }
}

/// [`load`] of an object already open.
pub fn judge(k: &Kmod, target: &Target) -> Result<Loaded, Refusal> {
    judge_findings(k, validate::validate(k, target))
}

/// [`judge`] with the validator's `findings` for `k` already made.
pub fn judge_findings(k: &Kmod, findings: Vec<Finding>) -> Result<Loaded, Refusal> {
    judge_with(k, findings, true)
}

/// [`judge_findings`]; without `symbols` the symbol lists are left empty
/// (a dry run that knows no kernel symbols checks none, and a module's
/// 20,000 names cost more than the rest of its checks).
pub fn judge_with(k: &Kmod, findings: Vec<Finding>, symbols: bool) -> Result<Loaded, Refusal> {
    let certain = || findings.iter().filter(|f| f.certain);
    if let Some(f) = certain().find(|f| {
        f.stage == Stage::Load && !is_fetch_info(f.check) && f.check != Check::SymbolClash
    }) {
        return Err(Refusal::of(f));
    }
    let fetch = certain().find(|f| f.stage == Stage::Load && is_fetch_info(f.check));
    let info = match (fetch, k.modinfo()) {
        (Some(f), _) => Err(Refusal::of(f)),
        (None, Some(mi)) => Ok(mi.clone()),
        // A descriptor the reader could not decode: the kernel would read
        // garbage; report what the validator expects it to say.
        (None, None) => Err(certain().find(|f| f.stage == Stage::Info).map_or_else(
            || Refusal {
                errno: Errno::ENOEXEC,
                cause: Cause::DescriptorUnreadable,
            },
            Refusal::of,
        )),
    };
    let link = certain()
        .find(|f| f.stage == Stage::Link && f.check != Check::UnresolvedSymbol)
        .map(Refusal::of);
    let (defined, undefined) = if symbols {
        (k.defined_globals(), k.undefined_globals())
    } else {
        (Vec::new(), Vec::new())
    };
    // The validator said so if the file shrank before it finished; this
    // covers the symbol tables read since.
    if k.changed_while_read() {
        return Err(Refusal {
            errno: kmod::FILE_CHANGED_ERRNO,
            cause: Cause::Finding(Box::new(Detail::FileChanged)),
        });
    }
    Ok(Loaded {
        text_size: k.text_size(),
        defined,
        undefined,
        info,
        link,
        findings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The boot loader reads regular files only; anything else at a path
    /// is passed over, without waiting on a FIFO or reading a device.
    #[test]
    fn the_boot_loader_reads_regular_files_only() {
        let dir = std::env::temp_dir().join(format!("kobj-boot-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let t = Target::new(1_001_000_000, "amd64");
        let file = dir.join("junk.kmod");
        std::fs::write(&file, [b'x'; 64]).unwrap();
        let fifo = dir.join("fifo.kmod");
        let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: `c` is a NUL-terminated path that outlives the call.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let refused = load_boot(&file, &t).expect("a regular file is read");
        assert_eq!(refused.map(|_| ()).unwrap_err().errno, Errno::ENOEXEC);
        for nothing in [
            dir.join("missing.kmod"),
            dir.clone(),
            fifo,
            "/dev/null".into(),
        ] {
            assert!(load_boot(&nothing, &t).is_none(), "{}", nothing.display());
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Each cause's words, as they were written where refusals were made.
    #[test]
    fn every_cause_has_its_words() {
        let cases = [
            (
                Cause::Finding(Box::new(Detail::FileChanged)),
                kmod::FILE_CHANGED_REASON.to_string(),
            ),
            (
                Cause::Unreadable {
                    path: "/m.kmod".into(),
                    error: KmodError::Io(Errno::EACCES),
                },
                format!("cannot read /m.kmod: {}", Errno::EACCES),
            ),
            (
                Cause::NoFile {
                    path: "/m.kmod".into(),
                },
                "no file /m.kmod".into(),
            ),
            (
                Cause::DescriptorUnreadable,
                "the module descriptor cannot be read".into(),
            ),
            (
                Cause::AutoloadPath,
                "an autoload takes a module name, not a path".into(),
            ),
            (
                Cause::ComponentTooLong { max: 511 },
                "a component of the path is longer than 511 bytes".into(),
            ),
            (
                Cause::RootNotMounted,
                "the root file system is not mounted".into(),
            ),
            (Cause::NoLoader, "this program loads no module".into()),
        ];
        for (cause, words) in cases {
            assert_eq!(cause.to_string(), words, "{cause:?}");
        }
    }
}
