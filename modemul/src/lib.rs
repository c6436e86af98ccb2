//! An emulated NetBSD kernel module subsystem, kept in a state directory.
//!
//! Selected with `MODCTL_EMUL=<dir>`. It decodes the same `modctl_load_t`,
//! `iovec` and name arguments as the kernel (LP64/ILP32 host layout) and
//! writes the same stat buffers byte for byte, so everything above the
//! [`Backend`] seam runs as it would on NetBSD. Its semantics are
//! kern_module.c's (NetBSD 10, r1.155): built-ins and disabling them,
//! `MODCTL_LOAD_FORCE` to reinstate them, dependencies loaded through the
//! autoload path and flagged `a`, reference counts and `EBUSY`, version
//! checks and `EPROGMISMATCH`, `.plist` files next to modules,
//! `MODCTL_NO_PROP`, the property size limits, `MODCTL_EXISTS`, and
//! securelevel / non-root `EPERM`.
//!
//! # The state directory
//!
//! * `profile.json` — the kernel profile (below). Write it before the first
//!   call to choose a kernel; it is created with the defaults when absent.
//! * `state.json` — the kernel's module lists (written by the emulator),
//!   and `boot_messages`, what the boot loader and the kernel printed at
//!   boot. Remove it to "reboot": the next call boots a fresh kernel from
//!   the profile. A corrupt or unreadable file is an error naming it,
//!   never silently replaced.
//! * `lock` — every call holds an exclusive `flock(2)` on it while it reads,
//!   changes and atomically replaces `state.json`.
//! * `root/` — the default `module_root`, holding the project's example
//!   modules (`example`, `hello`, `needy`) under `module_path`, so that
//!   `modload example` works on a new directory.
//!
//! # The kernel profile (`profile.json`)
//!
//! Every key is optional; missing keys take their defaults, and defaults
//! that depend on other keys are derived as the kernel derives them.
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `osrelease` | `"10.1"` (or from `osrevision`) | `kern.osrelease` |
//! | `osrevision` | from `osrelease` (`1001000000`) | `kern.osrevision`, `__NetBSD_Version__`; the version modules must match |
//! | `machine` | `"amd64"` | `hw.machine`; also picks the text addresses |
//! | `stat_abi` | `"v2"` for ≥ 9.0, else `"v1"` | `"v2"`: command 4 (+ command 2 `MODCTL_OSTAT` if `compat_80`); `"v1"`: command 2 only |
//! | `compat_80` | `true` | whether `MODCTL_OSTAT` is served on a v2 kernel |
//! | `module_path` | `/stand/<machine>/<release>/modules` as module_init() builds it | `kern.module.path` |
//! | `module_root` | `"root"` | host directory standing for `/` when names are looked up under `module_path` (relative = relative to the state directory); paths given by the user are host paths |
//! | `builtins` | 20 modules of a NetBSD 10.1 amd64 kernel | list of `{"name", "class" ("vfs" or a number), "requires" ("a,b" or ["a","b"])}` in link-set order; a name that is not UTF-8 as the array of its bytes (`[104, 255]`) |
//! | `autoload` | `true` | `kern.module.autoload` |
//! | `autotime` | `10` | `kern.module.autotime`; 0 = no `a` flag and no auto-unload |
//! | `auto_unload` | `true` | emulate the auto-unload thread (switch off for clock-independent runs) |
//! | `securelevel` | `0` | `kern.securelevel`; > 0 forbids load/unload and hides addresses |
//! | `euid` | `0` | the emulated caller's uid (not the host's); ≠ 0 = `EPERM` for load/unload |
//! | `ksyms` | none | ELF file whose symbol table stands for the kernel's; when set, loads check unresolved and duplicate global symbols |
//! | `fail_init` | `{}` | module name → errno (`"EBUSY"` or 16) its `MODULE_CMD_INIT` returns |
//! | `fail_fini` | `{}` | module name → errno its `MODULE_CMD_FINI` returns (e.g. `EBUSY` for a mounted file system) |
//! | `boot_modules` | `[]` | what the boot loader passes, as `boot.cfg` `load=` lines give it (a path, or a module name found in the loader's `/stand/<machine>/<release>/modules`), below `module_root` |
//!
//! Changes to `builtins` and `boot_modules` take effect at the next boot
//! (after `state.json` is removed); the other keys are read when the
//! emulator is opened.
//!
//! # Booting
//!
//! A new kernel boots as NetBSD's does ([`modobj::boot`]): the boot loader
//! finds each of `boot_modules`, the kernel primes what it read
//! (`module_prime`: `kobj_load_mem`, refusing a name equal to a built-in
//! or to a module already on the boot list with `EEXIST`), adds its
//! built-ins, and initialises both class by class (`module_init_class`),
//! a boot module's requirements coming from the built-ins and the boot
//! list (the file system is not mounted yet: anything else fails with
//! `EOPNOTSUPP`). A boot module that fails is dropped; the console lines
//! say why. Survivors are listed with source `boot`; unloaded, they are
//! gone, and loading one again reads it from the file system.
//!
//! # Not emulated
//!
//! Module code does not run: `MODULE_CMD_INIT`/`FINI` succeed unless the
//! profile says otherwise, `MODULE_CMD_AUTOUNLOAD` always agrees, modules
//! publish no sysctl nodes, and a module's INIT never loads other modules
//! (so no nested pending lists and no "recursive load causes duplicate").
//! Kernel-initiated autoloads (mount, exec), the memory-pressure branch of
//! auto-unload, non-`MODULAR` kernels (`ENOSYS`) and NetBSD ≤ 7's order
//! of authorization before the `EEXIST` pre-check are not emulated.
//! Version-dependent rules shared with the validator
//! ([`modobj::rules`]) are: the class range (unchecked before 8.0, bufq
//! from 8.0), the 9-requirement limit and the recursion depth limit
//! (`EMLINK`) before 9.0; a boot module's requirement outside the boot
//! list fails with `EOPNOTSUPP` (see Booting). Bad user pointers other than
//! NULL cannot be detected (`EFAULT` only for NULL). A malformed `.plist`
//! gives `EINVAL` (a DIAGNOSTIC kernel would panic).

use std::collections::BTreeSet;
use std::fmt;
use std::fs;
use std::io::{self, Read};
use std::os::raw::{c_char, c_int, c_void};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use libmodctl::abi::*;
use libmodctl::backend::{Backend, Sysctl, SysctlValue};
use libmodctl::errno::Errno;
use libmodctl::stat::{self, ModStat};

mod examples;
mod glue;
mod jsonio;
mod kernel;
mod par;
mod profile;
mod state;
pub mod statedir;

pub use profile::{default_builtins, BuiltinModule, Profile, StatAbiEra};
pub use state::{ModRec, State, LOCK_FILE, PROFILE_FILE, STATE_FILE};
use statedir::DirLock;

use glue::{ObjectLoader, Props};
use kernel::{Ctx, Kernel, StatRecord};

/// Why the state directory cannot be used.
#[derive(Debug)]
pub enum EmulError {
    /// A file or directory could not be read, written or locked.
    Io {
        path: PathBuf,
        what: &'static str,
        err: io::Error,
    },
    /// `profile.json` is not a valid profile.
    Profile { path: PathBuf, reason: String },
    /// `state.json` is not a state the emulator wrote.
    Corrupt { path: PathBuf, reason: String },
    /// The profile's `ksyms` file cannot be read.
    Ksyms { path: PathBuf, reason: String },
    /// Someone other than the caller could change this file or directory
    /// (or it is not what the emulator keeps there): it is not used.
    Untrusted { path: PathBuf, why: String },
    /// Another process held the state directory's lock for this long.
    LockTimeout {
        path: PathBuf,
        waited: std::time::Duration,
    },
}

impl EmulError {
    fn io(path: &Path, what: &'static str, err: io::Error) -> EmulError {
        EmulError::Io {
            path: path.to_path_buf(),
            what,
            err,
        }
    }

    /// The file the error is about.
    pub fn path(&self) -> &Path {
        match self {
            EmulError::Io { path, .. }
            | EmulError::Profile { path, .. }
            | EmulError::Corrupt { path, .. }
            | EmulError::Ksyms { path, .. }
            | EmulError::Untrusted { path, .. }
            | EmulError::LockTimeout { path, .. } => path,
        }
    }
}

impl fmt::Display for EmulError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EmulError::Io { path, what, err } => {
                write!(f, "{}: {what}: {}", path.display(), Errno::from_io(err))
            }
            EmulError::Profile { path, reason } => {
                write!(f, "{}: invalid kernel profile: {reason}", path.display())
            }
            EmulError::Corrupt { path, reason } => write!(
                f,
                "{}: corrupt emulator state: {reason} (remove the file to reboot the emulated kernel)",
                path.display()
            ),
            EmulError::Ksyms { path, reason } => {
                write!(f, "{}: cannot read kernel symbols: {reason}", path.display())
            }
            EmulError::Untrusted { path, why } => write!(
                f,
                "{}: not used as emulator state: {why} (a state directory must be yours and \
                 writable only by you)",
                path.display()
            ),
            EmulError::LockTimeout { path, waited } => write!(
                f,
                "{}: held by another process for {:.1} s; giving up",
                path.display(),
                waited.as_secs_f64()
            ),
        }
    }
}

impl std::error::Error for EmulError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            EmulError::Io { err, .. } => Some(err),
            _ => None,
        }
    }
}

/// What the last state-taking call did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallRecord {
    /// The state's serial after the call (one more per change since boot).
    pub serial: u64,
    /// Whether the call changed the state.
    pub changed: bool,
}

/// The emulated kernel behind a state directory.
pub struct Emul {
    dir: PathBuf,
    profile: Profile,
    loader: Box<dyn ObjectLoader + Send + Sync>,
    last_error: Mutex<Option<String>>,
    last_call: Mutex<Option<CallRecord>>,
    last_messages: Mutex<Vec<String>>,
    /// The state as last read by this process, with the file it came from
    /// held open and what identified it then (see [`Emul::read_state_file`]).
    state_cache: Mutex<Option<(fs::File, FileVersion, Arc<State>)>>,
}

impl fmt::Debug for Emul {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Emul")
            .field("dir", &self.dir)
            .field("profile", &self.profile)
            .finish_non_exhaustive()
    }
}

/// What tells one version of a file from another without reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileVersion {
    dev: u64,
    ino: u64,
    len: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

impl FileVersion {
    fn of(m: &fs::Metadata) -> FileVersion {
        FileVersion {
            dev: m.dev(),
            ino: m.ino(),
            len: m.len(),
            mtime: (m.mtime(), m.mtime_nsec()),
            ctime: (m.ctime(), m.ctime_nsec()),
        }
    }
}

impl Emul {
    /// Opens the state directory, creating and initialising it when it is
    /// missing or empty (default profile, freshly booted kernel, example
    /// modules). Errors name the offending file.
    pub fn open(dir: &Path) -> Result<Emul, EmulError> {
        Emul::open_with(dir, Box::new(glue::FileLoader))
    }

    /// [`Emul::open`] for a program that never loads modules (modstat,
    /// modunload): loads are refused with `ENOSYS` and kernel symbols are
    /// not read. Booting a kernel whose profile names boot modules still
    /// reads them (so the module reader is linked into these programs).
    pub fn open_without_loader(dir: &Path) -> Result<Emul, EmulError> {
        Emul::open_with(dir, Box::new(glue::NoLoader))
    }

    fn open_with(
        dir: &Path,
        loader: Box<dyn ObjectLoader + Send + Sync>,
    ) -> Result<Emul, EmulError> {
        let dir = statedir::prepare(dir)?;
        let _lock = DirLock::acquire(&dir)?;

        let ppath = dir.join(PROFILE_FILE);
        let profile = match statedir::read_optional(&ppath, statedir::MAX_PROFILE_FILE)? {
            Some(text) => {
                let text = String::from_utf8(text).map_err(|_| EmulError::Profile {
                    path: ppath.clone(),
                    reason: "not UTF-8".into(),
                })?;
                Profile::from_json(&text).map_err(|reason| EmulError::Profile {
                    path: ppath.clone(),
                    reason,
                })?
            }
            None => {
                let p = Profile::default();
                statedir::write_atomic(&ppath, p.to_json().as_bytes())?;
                p
            }
        };

        let emul = Emul {
            dir,
            profile,
            loader,
            last_error: Mutex::new(None),
            last_call: Mutex::new(None),
            last_messages: Mutex::new(Vec::new()),
            state_cache: Mutex::new(None),
        };
        match emul.read_state_file()? {
            Some(_) => {}
            None => {
                if emul.profile.module_root == profile::DEFAULT_MODULE_ROOT {
                    examples::install(
                        &emul.module_root(),
                        &emul.profile.module_path,
                        &emul.profile.machine,
                        emul.profile.osrevision,
                    )?;
                }
                let st = Arc::new(emul.boot()?);
                emul.store_state(&st, || Arc::clone(&st))?;
                if let Ok(mut g) = emul.last_messages.lock() {
                    g.clone_from(&st.boot_messages);
                }
            }
        }
        Ok(emul)
    }

    /// A freshly booted kernel for the profile, with its boot modules.
    /// The boot loader is the emulator's own: it reads module objects
    /// whatever loader this process was opened with.
    fn boot(&self) -> Result<State, EmulError> {
        let loader = self.loader.boot_loader();
        let ksyms = if self.profile.boot_modules.is_empty() {
            None
        } else {
            self.ksyms_with(loader)?
        };
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Ok(kernel::boot(
            &self.profile,
            loader,
            &self.module_root(),
            ksyms.as_ref(),
            now,
        ))
    }

    /// What the boot loader and the kernel printed when this kernel booted
    /// (kept in `state.json`).
    pub fn boot_messages(&self) -> Result<Vec<String>, EmulError> {
        Ok(self.state()?.boot_messages)
    }

    /// The host directory standing for `/` (the profile's `module_root`).
    pub fn root_dir(&self) -> PathBuf {
        self.module_root()
    }

    /// The kernel's own global symbols (the profile's `ksyms`), without
    /// those of loaded modules; `None` when the profile names none.
    pub fn boot_symbols(&self) -> Result<Option<BTreeSet<String>>, EmulError> {
        self.ksyms_with(self.loader.boot_loader())
    }

    /// The kernel profile in use.
    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// The state directory (absolute).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Why the last call returned `EIO`, when the state could not be used.
    pub fn last_error(&self) -> Option<String> {
        self.last_error.lock().ok().and_then(|g| g.clone())
    }

    /// The serial and change flag of the last call that took the state.
    pub fn last_call(&self) -> Option<CallRecord> {
        self.last_call.lock().ok().and_then(|g| *g)
    }

    /// What the emulated kernel printed during the last call that took the
    /// state (`WARNING: module error: ...` lines, linker errors), e.g. the
    /// name of a dependency that failed to load.
    pub fn last_messages(&self) -> Vec<String> {
        self.last_messages
            .lock()
            .map(|g| g.clone())
            .unwrap_or_default()
    }

    /// The emulated caller's uid (the profile's, not the host's).
    pub fn euid(&self) -> u32 {
        self.profile.euid
    }

    /// The host directory where names are looked up:
    /// `module_root` joined with `module_path`.
    pub fn module_dir(&self) -> PathBuf {
        modobj::path::below_root(&self.module_root(), self.profile.module_path.as_bytes())
    }

    /// The global symbols a load resolves against: the profile's ksyms plus
    /// those of every loaded module; `None` when the profile names no ksyms
    /// file (the emulator then checks no symbols).
    pub fn kernel_symbols(&self) -> Result<Option<BTreeSet<String>>, EmulError> {
        let Some(mut syms) = self.ksyms()? else {
            return Ok(None);
        };
        let st = self.state()?;
        syms.extend(st.active.into_iter().flat_map(|m| m.globals));
        Ok(Some(syms))
    }

    /// Reads the current state (under the lock).
    pub fn state(&self) -> Result<State, EmulError> {
        let _lock = DirLock::acquire(&self.dir)?;
        self.read_state().map(Arc::unwrap_or_clone)
    }

    fn state_path(&self) -> PathBuf {
        self.dir.join(STATE_FILE)
    }

    /// `module_root` as a host directory.
    fn module_root(&self) -> PathBuf {
        self.resolve(&self.profile.module_root)
    }

    fn resolve(&self, p: &str) -> PathBuf {
        let p = Path::new(p);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.dir.join(p)
        }
    }

    fn read_state(&self) -> Result<Arc<State>, EmulError> {
        self.read_state_file()?.ok_or_else(|| EmulError::Corrupt {
            path: self.state_path(),
            reason: "the file is missing".into(),
        })
    }

    /// Reads `state.json` (under the lock), `None` when it is missing.
    ///
    /// A tool makes several calls, each reading the state afresh, and
    /// parsing a large state took most of `modstat`'s time. The emulator
    /// replaces the file by rename, so the same inode (kept from reuse by
    /// holding the old file open) with the same size and times as at the
    /// last read is the same state; the times catch a file edited in place.
    /// The state is shared with the cache: a call copies it only to change
    /// it.
    fn read_state_file(&self) -> Result<Option<Arc<State>>, EmulError> {
        let path = self.state_path();
        let Some((mut file, meta)) = statedir::open_regular(&path, statedir::MAX_STATE_FILE)?
        else {
            return Ok(None);
        };
        let mut cache = self.state_cache.lock().unwrap_or_else(|e| e.into_inner());
        let version = FileVersion::of(&meta);
        if let Some((_, cached, st)) = cache.as_ref() {
            if *cached == version {
                return Ok(Some(Arc::clone(st)));
            }
        }
        let mut bytes = Vec::with_capacity(meta.len() as usize);
        file.read_to_end(&mut bytes)
            .map_err(|e| EmulError::io(&path, "cannot read", e))?;
        let st = State::parse(&bytes).map_err(|reason| EmulError::Corrupt {
            path: path.clone(),
            reason,
        })?;
        let st = Arc::new(st);
        *cache = Some((file, version, Arc::clone(&st)));
        Ok(Some(st))
    }

    /// Replaces `state.json` with `st` (under the lock) and keeps `st` as
    /// what the new file holds: a state reads back as it was written
    /// (`state::tests::round_trip_and_invariants`), so the next call need
    /// not parse what this one wrote.
    fn write_state(&self, st: &State) -> Result<(), EmulError> {
        self.store_state(st, || Arc::new(st.clone()))
    }

    /// [`Emul::write_state`], keeping `shared()` as the cache of what was
    /// written (a state already shared need not be copied: 100,000
    /// modules take a while).
    fn store_state(
        &self,
        st: &State,
        shared: impl FnOnce() -> Arc<State>,
    ) -> Result<(), EmulError> {
        let mut cache = self.state_cache.lock().unwrap_or_else(|e| e.into_inner());
        *cache = None;
        let path = self.state_path();
        statedir::write_atomic(&path, &st.encode())?;
        if let Some((file, meta)) = statedir::open_regular(&path, statedir::MAX_STATE_FILE)? {
            *cache = Some((file, FileVersion::of(&meta), shared()));
        }
        Ok(())
    }

    fn ksyms(&self) -> Result<Option<BTreeSet<String>>, EmulError> {
        self.ksyms_with(self.loader.as_ref())
    }

    /// The profile's ksyms, read with `loader`.
    fn ksyms_with(&self, loader: &dyn ObjectLoader) -> Result<Option<BTreeSet<String>>, EmulError> {
        let Some(k) = &self.profile.ksyms else {
            return Ok(None);
        };
        let path = self.resolve(k);
        // Neither a FIFO nor a device: those could block or never end.
        let meta = fs::metadata(&path).map_err(|e| EmulError::Ksyms {
            path: path.clone(),
            reason: Errno::from_io(&e).to_string(),
        })?;
        if !meta.is_file() || meta.len() > statedir::MAX_KSYMS_FILE {
            return Err(EmulError::Ksyms {
                path,
                reason: format!(
                    "not a regular file of at most {} bytes",
                    statedir::MAX_KSYMS_FILE
                ),
            });
        }
        loader
            .ksyms(&path)
            .map(Some)
            .map_err(|reason| EmulError::Ksyms { path, reason })
    }

    /// Runs one operation under the lock: read, auto-unload pass, `op`,
    /// atomic replace if anything changed. Failures to use the state become
    /// `EIO`, with the detail in [`Emul::last_error`].
    fn with_kernel<R>(
        &self,
        need_ksyms: bool,
        op: impl Fn(&mut Kernel<'_, '_>) -> R,
    ) -> Result<R, Errno> {
        let r = self.with_kernel_inner(need_ksyms, op);
        if let Ok(mut g) = self.last_error.lock() {
            *g = r.as_ref().err().map(ToString::to_string);
        }
        r.map_err(|_| Errno::EIO)
    }

    fn with_kernel_inner<R>(
        &self,
        need_ksyms: bool,
        op: impl Fn(&mut Kernel<'_, '_>) -> R,
    ) -> Result<R, EmulError> {
        let _lock = DirLock::acquire(&self.dir)?;
        let before = self.read_state()?;
        let mut st = State::clone(&before);
        let mut cx = Ctx::new(&self.profile, self.loader.as_ref(), &self.module_root());
        cx.now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        if need_ksyms {
            cx.ksyms = self.ksyms()?;
        }
        let r = {
            let mut k = Kernel::new(&mut st, &cx);
            if self.profile.auto_unload {
                k.autounload_pass();
            }
            let r = op(&mut k);
            if let Ok(mut g) = self.last_messages.lock() {
                *g = k.messages().to_vec();
            }
            r
        };
        let mut changed = st != *before;
        if changed {
            st.serial += 1;
            if let Err(e) = self.write_state(&st) {
                // A state that cannot be written (a read-only directory or
                // file system) can still be looked at: a call that changes
                // nothing itself answers from the state as stored, as if
                // the auto-unload thread had not run yet.
                let mut stored = State::clone(&before);
                let mut k = Kernel::new(&mut stored, &cx);
                let again = op(&mut k);
                if stored != *before {
                    return Err(e);
                }
                st = stored;
                changed = false;
                if let Ok(mut g) = self.last_call.lock() {
                    *g = Some(CallRecord {
                        serial: st.serial,
                        changed,
                    });
                }
                return Ok(again);
            }
        }
        if let Ok(mut g) = self.last_call.lock() {
            *g = Some(CallRecord {
                serial: st.serial,
                changed,
            });
        }
        Ok(r)
    }

    /// Whether the caller may see kernel addresses in a NetBSD ≥ 9 listing.
    fn stat_privileged(&self) -> bool {
        kernel::kauth_module(&self.profile, false)
    }

    /// `MODCTL_LOAD`.
    ///
    /// # Safety
    /// `arg` is null or points to a readable `ModctlLoad` whose
    /// `ml_filename` (and `ml_props`, when not null) are null or
    /// NUL-terminated strings, as [`Backend::modctl`] requires.
    unsafe fn do_load(&self, arg: *mut c_void) -> Result<(), Errno> {
        if arg.is_null() {
            return Err(Errno::EFAULT);
        }
        // SAFETY: not null, and the caller passes a readable ModctlLoad;
        // read unaligned, as the kernel's copyin makes no demand either.
        let ml = unsafe { std::ptr::read_unaligned(arg as *const ModctlLoad) };
        if ml.ml_props.is_null() != (ml.ml_propslen == 0) {
            return Err(Errno::EINVAL);
        }
        // SAFETY: the caller's ml_filename is null or a NUL-terminated string.
        let path = unsafe { copyinstr(ml.ml_filename, MAXPATHLEN) }?;
        let props = if ml.ml_props.is_null() {
            None
        } else if ml.ml_propslen > MAXPROPSLEN {
            // Not copied in: the engine refuses the length (ENOMEM).
            Some(Props::from(libmodctl::plist::Dict::new()))
        } else {
            // SAFETY: the caller's ml_props is a NUL-terminated string.
            let text = unsafe { copyinstr(ml.ml_props, ml.ml_propslen + 1) }?;
            Some(Props::internalize(&text).ok_or(Errno::EINVAL)?)
        };
        let props = props.as_ref().map(|p| (p, ml.ml_propslen));
        let flags = ml.ml_flags;
        self.with_kernel(true, |k| k.load(&path, flags, props))?
    }

    /// `MODCTL_UNLOAD`.
    ///
    /// # Safety
    /// `arg` is null or a NUL-terminated name.
    unsafe fn do_unload(&self, arg: *mut c_void) -> Result<(), Errno> {
        // SAFETY: the caller passes null or a NUL-terminated name.
        let name = unsafe { copyinstr(arg as *const c_char, MAXMODNAME) }?;
        self.with_kernel(false, |k| k.unload(&name))?
    }

    /// The records of a listing, from the state under the lock.
    fn records(&self, show_addr: bool) -> Result<Vec<StatRecord>, Errno> {
        match self.records_unchanged(show_addr) {
            Ok(Some(r)) => {
                if let Ok(mut g) = self.last_error.lock() {
                    *g = None;
                }
                Ok(r)
            }
            Ok(None) => self.with_kernel(false, |k| k.stat(show_addr)),
            Err(e) => {
                if let Ok(mut g) = self.last_error.lock() {
                    *g = Some(e.to_string());
                }
                Err(Errno::EIO)
            }
        }
    }

    /// A listing changes nothing unless the auto-unload thread has work:
    /// then it is made from the state as stored, with no copy of it (a
    /// kernel may list a hundred thousand modules). `None` when the
    /// thread has work, for [`Emul::with_kernel`].
    fn records_unchanged(&self, show_addr: bool) -> Result<Option<Vec<StatRecord>>, EmulError> {
        let _lock = DirLock::acquire(&self.dir)?;
        let st = self.read_state()?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        if self.profile.auto_unload && self.profile.autotime > 0 && kernel::any_due(&st, now) {
            return Ok(None);
        }
        if let Ok(mut g) = self.last_messages.lock() {
            g.clear();
        }
        if let Ok(mut g) = self.last_call.lock() {
            *g = Some(CallRecord {
                serial: st.serial,
                changed: false,
            });
        }
        Ok(Some(kernel::stat_records(&st, show_addr)))
    }

    /// `MODCTL_STAT` of NetBSD ≥ 9.
    ///
    /// # Safety
    /// `arg` is null or points to a readable and writable `IoVec` whose
    /// `iov_base` is null or `iov_len` writable bytes.
    unsafe fn stat_v2(&self, arg: *mut c_void) -> Result<(), Errno> {
        if arg.is_null() {
            return Err(Errno::EFAULT);
        }
        // SAFETY: not null, and the caller passes a readable IoVec.
        let iov = unsafe { std::ptr::read_unaligned(arg as *const IoVec) };
        let privileged = self.stat_privileged();
        let recs = self.records(privileged)?;
        // `mi_required` present but empty still gets an offset, as in the kernel.
        let full = stat::encode_v2_present(recs.iter().map(|(m, present)| (m, *present)));
        // With nothing to copy, the result of the address check stands.
        if iov.iov_len == 0 && !privileged {
            return Err(Errno::EPERM);
        }
        // SAFETY: the caller's iovec describes `iov_len` writable bytes.
        unsafe { copyout(&full, &iov) }?;
        // SAFETY: `arg` is the caller's writable IoVec, not null.
        unsafe { set_iov_len(arg, full.len()) };
        Ok(())
    }

    /// `MODCTL_STAT` of NetBSD ≤ 8 (`ostat` false) or `MODCTL_OSTAT`.
    ///
    /// # Safety
    /// As [`Emul::stat_v2`].
    unsafe fn stat_v1(&self, arg: *mut c_void, ostat: bool) -> Result<(), Errno> {
        if arg.is_null() {
            return Err(Errno::EFAULT);
        }
        // SAFETY: not null, and the caller passes a readable IoVec.
        let iov = unsafe { std::ptr::read_unaligned(arg as *const IoVec) };
        // The ≤ 8 code showed addresses to everyone; compat_80 hides them.
        let show = !ostat || self.stat_privileged();
        let recs = self.records(show)?;
        let mods: Vec<ModStat> = recs.into_iter().map(|(m, _)| m).collect();
        let full = stat::encode_v1(&mods, ostat);
        // SAFETY: the caller's iovec describes `iov_len` writable bytes.
        unsafe { copyout(&full, &iov) }?;
        // SAFETY: `arg` is the caller's writable IoVec, not null.
        unsafe { set_iov_len(arg, full.len()) };
        Ok(())
    }
}

/// copyinstr(9): the string at `p`, at most `max` bytes with its NUL.
///
/// # Safety
/// `p` is null or a NUL-terminated string (or `max` readable bytes).
unsafe fn copyinstr(p: *const c_char, max: usize) -> Result<Vec<u8>, Errno> {
    if p.is_null() {
        return Err(Errno::EFAULT);
    }
    let mut out = Vec::new();
    for i in 0..max {
        // SAFETY: the caller passes a NUL-terminated string; we stop at
        // its NUL or after `max` bytes, whichever comes first.
        let c = unsafe { *p.add(i) } as u8;
        if c == 0 {
            return Ok(out);
        }
        out.push(c);
    }
    Err(Errno::ENAMETOOLONG)
}

/// Copies as much of `full` as fits in the caller's buffer.
///
/// # Safety
/// `iov.iov_base` is null or `iov.iov_len` writable bytes that do not
/// overlap `full`.
unsafe fn copyout(full: &[u8], iov: &IoVec) -> Result<(), Errno> {
    let n = full.len().min(iov.iov_len);
    if n == 0 {
        return Ok(());
    }
    if iov.iov_base.is_null() {
        return Err(Errno::EFAULT);
    }
    // SAFETY: the caller's iovec describes `iov_len` >= n writable bytes,
    // apart from `full`, which holds >= n bytes.
    unsafe { std::ptr::copy_nonoverlapping(full.as_ptr(), iov.iov_base as *mut u8, n) };
    Ok(())
}

/// Stores the full size into the caller's `iov_len`.
///
/// # Safety
/// `arg` points to a writable `IoVec` (not necessarily aligned).
unsafe fn set_iov_len(arg: *mut c_void, len: usize) {
    // SAFETY: the field's offset lies inside the caller's IoVec, and the
    // write is unaligned, as the IoVec may be.
    unsafe {
        let field = (arg as *mut u8).add(std::mem::offset_of!(IoVec, iov_len)) as *mut usize;
        std::ptr::write_unaligned(field, len);
    }
}

impl Backend for Emul {
    unsafe fn modctl(&self, cmd: c_int, arg: *mut c_void) -> Result<(), Errno> {
        // Each handler's `# Safety` is the trait's contract for its command.
        match (cmd, self.profile.stat_abi) {
            // SAFETY: the trait's contract: a ModctlLoad for MODCTL_LOAD.
            (MODCTL_LOAD, _) => unsafe { self.do_load(arg) },
            // SAFETY: the trait's contract: a NUL-terminated name.
            (MODCTL_UNLOAD, _) => unsafe { self.do_unload(arg) },
            // SAFETY: the trait's contract: an IoVec over writable memory.
            (MODCTL_STAT, StatAbiEra::V2) => unsafe { self.stat_v2(arg) },
            // SAFETY: the trait's contract: an IoVec over writable memory.
            (MODCTL_OSTAT, StatAbiEra::V1) => unsafe { self.stat_v1(arg, false) },
            (MODCTL_OSTAT, StatAbiEra::V2) if self.profile.compat_80 => {
                // SAFETY: the trait's contract: an IoVec over writable memory.
                unsafe { self.stat_v1(arg, true) }
            }
            (MODCTL_EXISTS, _) => match arg as usize {
                which @ (EXISTS_LOAD | EXISTS_AUTOLOAD) => {
                    if kernel::kauth_module(&self.profile, which == EXISTS_AUTOLOAD) {
                        Ok(())
                    } else {
                        Err(Errno::EPERM)
                    }
                }
                _ => Err(Errno::EINVAL),
            },
            _ => Err(Errno::EINVAL),
        }
    }

    fn sysctl(&self, node: Sysctl) -> Result<SysctlValue, Errno> {
        let p = &self.profile;
        Ok(match node {
            Sysctl::ModulePath => SysctlValue::Str(p.module_path.clone()),
            Sysctl::ModuleAutoload => SysctlValue::Bool(p.autoload),
            Sysctl::OsRevision => SysctlValue::Int(i64::from(p.osrevision)),
            Sysctl::OsRelease => SysctlValue::Str(p.osrelease.clone()),
            Sysctl::Machine => SysctlValue::Str(p.machine.clone()),
            Sysctl::Securelevel => SysctlValue::Int(i64::from(p.securelevel)),
        })
    }
}

#[cfg(test)]
mod tests;
