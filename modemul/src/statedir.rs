//! The state directory on disk, kept so that nobody but its owner can
//! steer what the emulator reads or writes, whoever runs the tools.
//!
//! * The directory must be the caller's and writable by nobody else, and
//!   so must be every directory above it unless it is sticky (like /tmp);
//!   no symbolic link on the way may belong to another user. A new one is
//!   created 0700.
//! * Only a new, empty or already set-up directory (one holding
//!   `profile.json` or `state.json`) is initialised.
//! * Files inside are opened without following symbolic links, created
//!   0600 whatever the umask, read only when they are regular files and
//!   then at most as many bytes as their size says and a limit allows.
//! * Every call holds a `flock` on `lock` (shared when the directory can
//!   only be read); a lock held elsewhere for [`LOCK_WAIT`] is an error.
//! * `state.json` is replaced atomically: a new temporary file (exclusive
//!   create), fsync, rename, fsync of the directory; it keeps the old
//!   file's mode and group. A process killed at any point leaves the old or
//!   the new state, and a failed write leaves no temporary file.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::os::unix::io::AsRawFd;
use std::path::{Component, Path, PathBuf};
use std::time::{Duration, Instant};

use crate::state::{LOCK_FILE, PROFILE_FILE, STATE_FILE};
use crate::EmulError;

/// How long a call waits for another process's lock before giving up.
pub const LOCK_WAIT: Duration = Duration::from_secs(10);

/// The largest `state.json` read (a state of 100,000 modules is ~30 MB).
pub const MAX_STATE_FILE: u64 = 256 << 20;
/// The largest file read as the kernel's symbol table (`ksyms`).
pub const MAX_KSYMS_FILE: u64 = 1 << 30;
/// The largest `profile.json` read.
pub const MAX_PROFILE_FILE: u64 = 16 << 20;

const TMP_SUFFIX: &str = ".tmp";

/// Test hook: when set to a path, the writer creates that file after the
/// new state is written and synced but before it is renamed into place,
/// then sleeps, so a test can kill it at that point. Compiled into debug
/// builds only (the tests'), never into a release build.
#[cfg(debug_assertions)]
pub const SYNC_HOOK_ENV: &str = "MODCTL_EMUL_TEST_SYNC_POINT";

fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() }
}

fn untrusted(path: &Path, why: String) -> EmulError {
    EmulError::Untrusted {
        path: path.to_path_buf(),
        why,
    }
}

/// Makes `dir` ready: creates it (0700) when missing, then checks that it
/// and the way to it are private to the caller, and that it is empty or
/// already a state directory. Returns its absolute path.
pub fn prepare(dir: &Path) -> Result<PathBuf, EmulError> {
    let dir = std::path::absolute(dir).map_err(|e| EmulError::io(dir, "bad directory", e))?;
    check_links(&dir)?;
    if fs::symlink_metadata(&dir).is_err() {
        // Nothing is created where someone else could move it.
        if let Some(up) = dir.ancestors().skip(1).find(|a| a.exists()) {
            check_ancestors(up)?;
        }
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .map_err(|e| EmulError::io(&dir, "cannot create", e))?;
        // The umask may have taken bits away, never added: set exactly.
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o700))
            .map_err(|e| EmulError::io(&dir, "cannot create", e))?;
    }
    check_private(&dir)?;
    check_is_state_dir(&dir)?;
    Ok(dir)
}

/// No symbolic link on the way to `dir` may belong to someone else: its
/// owner could point it elsewhere at any time.
fn check_links(dir: &Path) -> Result<(), EmulError> {
    let me = euid();
    let mut prefix = PathBuf::new();
    for c in dir.components() {
        prefix.push(c);
        if matches!(c, Component::RootDir) {
            continue;
        }
        let Ok(m) = fs::symlink_metadata(&prefix) else {
            break;
        };
        if m.file_type().is_symlink() && m.uid() != me && m.uid() != 0 {
            return Err(untrusted(
                &prefix,
                format!("a symbolic link owned by uid {}, not by you", m.uid()),
            ));
        }
    }
    Ok(())
}

/// The directory is the caller's and only the caller may write it, and
/// every directory above it is the caller's or root's and not writable by
/// others unless sticky (so nobody can rename it away).
fn check_private(dir: &Path) -> Result<(), EmulError> {
    let me = euid();
    let real = fs::canonicalize(dir).map_err(|e| EmulError::io(dir, "cannot open", e))?;
    let m = fs::metadata(&real).map_err(|e| EmulError::io(&real, "cannot open", e))?;
    if !m.is_dir() {
        return Err(untrusted(&real, "not a directory".into()));
    }
    if m.uid() != me {
        return Err(untrusted(
            &real,
            format!("owned by uid {}, not by you (uid {me})", m.uid()),
        ));
    }
    if m.mode() & 0o022 != 0 {
        return Err(untrusted(
            &real,
            format!(
                "writable by others (mode {:03o}); chmod go-w it",
                m.mode() & 0o777
            ),
        ));
    }
    match real.parent() {
        Some(up) => check_ancestors(up),
        None => Ok(()),
    }
}

/// `dir` and every directory above it are the caller's or root's, and not
/// writable by others unless sticky.
fn check_ancestors(dir: &Path) -> Result<(), EmulError> {
    let me = euid();
    let real = fs::canonicalize(dir).map_err(|e| EmulError::io(dir, "cannot open", e))?;
    for up in real.ancestors() {
        let m = fs::metadata(up).map_err(|e| EmulError::io(up, "cannot open", e))?;
        if m.uid() != me && m.uid() != 0 {
            return Err(untrusted(
                up,
                format!(
                    "a directory above the state directory owned by uid {}",
                    m.uid()
                ),
            ));
        }
        if m.mode() & 0o022 != 0 && m.mode() & 0o1000 == 0 {
            return Err(untrusted(
                up,
                format!(
                    "a directory above the state directory writable by others and not sticky (mode {:o})",
                    m.mode() & 0o7777
                ),
            ));
        }
    }
    Ok(())
}

/// Entries a state directory may hold when it is first set up.
fn check_is_state_dir(dir: &Path) -> Result<(), EmulError> {
    let mut entries = fs::read_dir(dir).map_err(|e| EmulError::io(dir, "cannot read", e))?;
    let set_up = dir.join(PROFILE_FILE).exists() || dir.join(STATE_FILE).exists();
    if set_up || entries.next().is_none() {
        return Ok(());
    }
    Err(untrusted(
        dir,
        format!(
            "not an emulator state directory (it holds files but no {PROFILE_FILE} or \
             {STATE_FILE}); name a new or empty directory"
        ),
    ))
}

/// A `flock` on the state directory, released on drop.
pub struct DirLock {
    _file: Option<File>,
}

impl DirLock {
    /// Exclusive when the lock file can be written, shared when the
    /// directory can only be read; none at all on a read-only file system
    /// where no lock file exists (nobody can change the state there).
    pub fn acquire(dir: &Path) -> Result<DirLock, EmulError> {
        let path = dir.join(LOCK_FILE);
        let rw = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(&path);
        let (file, op) = match rw {
            Ok(f) => (f, libc::LOCK_EX),
            Err(e) if is_read_only(&e) => match open_read(&path) {
                Ok(f) => (f, libc::LOCK_SH),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    return Ok(DirLock { _file: None })
                }
                Err(e) => return Err(EmulError::io(&path, "cannot open lock file", e)),
            },
            Err(e) => return Err(EmulError::io(&path, "cannot open lock file", e)),
        };
        let start = Instant::now();
        let wait = lock_wait();
        loop {
            // SAFETY: flock on a descriptor we own.
            if unsafe { libc::flock(file.as_raw_fd(), op | libc::LOCK_NB) } == 0 {
                return Ok(DirLock { _file: Some(file) });
            }
            let err = io::Error::last_os_error();
            match err.raw_os_error() {
                Some(libc::EWOULDBLOCK) | Some(libc::EINTR) => {}
                _ => return Err(EmulError::io(&path, "cannot lock", err)),
            }
            if start.elapsed() >= wait {
                return Err(EmulError::LockTimeout { path, waited: wait });
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

/// [`LOCK_WAIT`]; debug builds (the tests') take a shorter one from
/// `MODCTL_EMUL_TEST_LOCK_WAIT_MS`.
fn lock_wait() -> Duration {
    #[cfg(debug_assertions)]
    if let Some(ms) = std::env::var("MODCTL_EMUL_TEST_LOCK_WAIT_MS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        return Duration::from_millis(ms);
    }
    LOCK_WAIT
}

fn is_read_only(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::PermissionDenied || e.raw_os_error() == Some(libc::EROFS)
}

fn open_read(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
}

/// Opens a file of the state directory for reading, `None` when it does
/// not exist: a regular file only (not a link, FIFO or device) of at most
/// `limit` bytes.
pub fn open_regular(path: &Path, limit: u64) -> Result<Option<(File, fs::Metadata)>, EmulError> {
    let file = match open_read(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            return Err(untrusted(
                path,
                "a symbolic link; the emulator follows none here".into(),
            ))
        }
        Err(e) => return Err(EmulError::io(path, "cannot read", e)),
    };
    let m = file
        .metadata()
        .map_err(|e| EmulError::io(path, "cannot read", e))?;
    if !m.is_file() {
        return Err(untrusted(path, "not a regular file".into()));
    }
    if m.len() > limit {
        return Err(untrusted(
            path,
            format!("{} bytes; the emulator reads at most {limit}", m.len()),
        ));
    }
    Ok(Some((file, m)))
}

/// Reads a file of the state directory as [`open_regular`] allows.
pub fn read_optional(path: &Path, limit: u64) -> Result<Option<Vec<u8>>, EmulError> {
    let Some((mut file, m)) = open_regular(path, limit)? else {
        return Ok(None);
    };
    let mut data = Vec::with_capacity(m.len() as usize);
    (&mut file)
        .take(limit)
        .read_to_end(&mut data)
        .map_err(|e| EmulError::io(path, "cannot read", e))?;
    Ok(Some(data))
}

/// Replaces `path` with `data` atomically. Callers hold the directory
/// lock; a temporary file left by a killed writer is removed first.
pub fn write_atomic(path: &Path, data: &[u8]) -> Result<(), EmulError> {
    let tmp = tmp_path(path);
    let old = fs::symlink_metadata(path).ok().filter(|m| m.is_file());
    match fs::remove_file(&tmp) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(EmulError::io(&tmp, "cannot remove", e)),
    }
    let write = || -> io::Result<()> {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&tmp)?;
        if let Some(old) = &old {
            // The replacement keeps what its owner chose for the old file.
            let _ = fchown_group(&f, old.gid());
            f.set_permissions(fs::Permissions::from_mode(old.mode() & 0o7777))?;
        } else {
            f.set_permissions(fs::Permissions::from_mode(0o600))?;
        }
        f.write_all(data)?;
        f.sync_all()
    };
    if let Err(e) = write() {
        let _ = fs::remove_file(&tmp);
        return Err(EmulError::io(&tmp, "cannot write", e));
    }
    sync_point(path);
    if let Err(e) = fs::rename(&tmp, path) {
        let _ = fs::remove_file(&tmp);
        return Err(EmulError::io(path, "cannot replace", e));
    }
    if let Some(dir) = path.parent() {
        // Makes the rename durable; not every file system supports it.
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

fn fchown_group(f: &File, gid: u32) -> io::Result<()> {
    // SAFETY: fchown on a descriptor we own; uid -1 leaves the owner.
    if unsafe { libc::fchown(f.as_raw_fd(), u32::MAX, gid) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Creates a directory of the module tree (0700 for new ones) and every
/// missing one above it inside the state directory.
pub fn create_dirs(dir: &Path) -> Result<(), EmulError> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| EmulError::io(dir, "cannot create", e))
}

/// Writes a new file (0600), failing if anything is there already.
pub fn write_new(path: &Path, data: &[u8]) -> Result<(), EmulError> {
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .map_err(|e| EmulError::io(path, "cannot write", e))?;
    f.write_all(data)
        .map_err(|e| EmulError::io(path, "cannot write", e))
}

fn tmp_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_os_string();
    s.push(TMP_SUFFIX);
    PathBuf::from(s)
}

/// The test hook of [`SYNC_HOOK_ENV`]; only the state file pauses.
#[cfg(debug_assertions)]
fn sync_point(path: &Path) {
    if path.file_name().and_then(|n| n.to_str()) != Some(STATE_FILE) {
        return;
    }
    if let Some(marker) = std::env::var_os(SYNC_HOOK_ENV) {
        let _ = fs::write(&marker, b"at sync point\n");
        std::thread::sleep(std::time::Duration::from_secs(60));
    }
}

#[cfg(not(debug_assertions))]
fn sync_point(_path: &Path) {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::TempDir;
    use std::ffi::CString;

    fn c_path(p: &Path) -> Option<CString> {
        use std::os::unix::ffi::OsStrExt;
        CString::new(p.as_os_str().as_bytes()).ok()
    }

    #[test]
    fn atomic_write_replaces_keeps_mode_and_leaves_no_temp() {
        let dir = TempDir::new("state-write");
        let p = dir.path().join(STATE_FILE);
        write_atomic(&p, b"one").unwrap();
        assert_eq!(fs::metadata(&p).unwrap().mode() & 0o777, 0o600);
        fs::set_permissions(&p, fs::Permissions::from_mode(0o640)).unwrap();
        // A stale temporary file (a killed writer's) is replaced, not reused.
        fs::write(tmp_path(&p), b"stale").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        assert_eq!(fs::metadata(&p).unwrap().mode() & 0o777, 0o640);
        assert!(!tmp_path(&p).exists());
        assert_eq!(read_optional(&dir.path().join("absent"), 10).unwrap(), None);
    }

    #[test]
    fn links_fifos_and_oversized_files_are_not_read() {
        let dir = TempDir::new("state-read");
        let target = dir.path().join("target");
        fs::write(&target, b"x").unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert!(matches!(
            read_optional(&link, 10),
            Err(EmulError::Untrusted { .. })
        ));
        let fifo = dir.path().join("fifo");
        let c = c_path(&fifo).unwrap();
        // SAFETY: a valid path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        assert!(matches!(
            read_optional(&fifo, 10),
            Err(EmulError::Untrusted { .. })
        ));
        fs::write(&target, vec![0u8; 11]).unwrap();
        assert!(matches!(
            read_optional(&target, 10),
            Err(EmulError::Untrusted { .. })
        ));
        assert_eq!(read_optional(&target, 11).unwrap().unwrap().len(), 11);
    }

    #[test]
    fn only_private_empty_or_set_up_directories_are_used() {
        let base = TempDir::new("state-prepare");
        // New: created 0700 whatever the umask.
        let new = base.path().join("a/b");
        let got = prepare(&new).unwrap();
        assert_eq!(fs::metadata(&got).unwrap().mode() & 0o777, 0o700);
        // Writable by others: refused.
        let open = base.path().join("open");
        fs::create_dir(&open).unwrap();
        fs::set_permissions(&open, fs::Permissions::from_mode(0o777)).unwrap();
        let e = prepare(&open).unwrap_err().to_string();
        assert!(e.contains("writable by others"), "{e}");
        // Holding other files and no profile or state: refused.
        let other = base.path().join("other");
        fs::create_dir(&other).unwrap();
        fs::set_permissions(&other, fs::Permissions::from_mode(0o700)).unwrap();
        fs::write(other.join("notes.txt"), b"x").unwrap();
        let e = prepare(&other).unwrap_err().to_string();
        assert!(e.contains("not an emulator state directory"), "{e}");
        // With a profile written first: a state directory being set up.
        fs::write(other.join(PROFILE_FILE), b"{}").unwrap();
        prepare(&other).unwrap();
        // Below a directory writable by others and not sticky: refused.
        let shared = base.path().join("shared");
        fs::create_dir(&shared).unwrap();
        fs::set_permissions(&shared, fs::Permissions::from_mode(0o777)).unwrap();
        let e = prepare(&shared.join("k")).unwrap_err().to_string();
        assert!(e.contains("not sticky"), "{e}");
        fs::set_permissions(&shared, fs::Permissions::from_mode(0o1777)).unwrap();
        prepare(&shared.join("k2")).unwrap();
    }
}
