//! Tests of the emulated kernel through the same API the tools use
//! ([`Modctl`] over [`Emul`]), plus the raw ABI and multi-process tests.
//!
//! Most module objects here are "fake" objects: a file starting with
//! `FAKEKMOD` followed by JSON saying what the object reader would find.
//! They let every path of the kernel algorithm be driven (odd classes,
//! long names, link failures) while file lookup, `.plist` handling and the
//! state directory stay real.

use std::collections::BTreeSet;
use std::ffi::CString;
use std::os::raw::{c_char, c_void};
use std::path::{Path, PathBuf};

use super::glue::{ObjectLoader, Target};
use super::*;
use crate::statedir::SYNC_HOOK_ENV;
use libmodctl::modctl::Modctl;
use libmodctl::stat::StatAbi;
use modobj::kobj;

/// A scratch directory removed on drop.
pub(crate) struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        let p = std::env::temp_dir().join(format!(
            "emul-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&p);
        fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

// ---------------------------------------------------------------------
// Fake objects

const FAKE_MAGIC: &str = "FAKEKMOD\n";
const FAKE_KSYMS: &str = "FAKEKSYMS\n";

/// Every field may be left out; unknown fields are errors.
#[derive(Default, Clone, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
struct FakeSpec {
    name: String,
    version: Option<u32>,
    class: Option<i32>,
    required: Option<String>,
    text: Option<u64>,
    globals: Vec<String>,
    undefined: Vec<String>,
    load_errno: Option<i32>,
    fetch_errno: Option<i32>,
    link_errno: Option<i32>,
}

impl FakeSpec {
    fn parse(json: &str) -> Result<FakeSpec, String> {
        serde_json::from_str(json).map_err(|e| e.to_string())
    }
}

/// Reads fake objects; anything else is not an object (ENOEXEC).
struct FakeLoader;

impl ObjectLoader for FakeLoader {
    fn load(&self, path: &Path, target: &Target) -> Result<kobj::Loaded, kobj::Refusal> {
        // Only the errno of a fake's refusal matters; its words are never
        // shown.
        let refusal = |errno: Errno| kobj::Refusal {
            errno,
            cause: kobj::Cause::Unreadable {
                path: path.display().to_string(),
                error: modobj::kmod::KmodError::Io(errno),
            },
        };
        let data = fs::read(path).map_err(|e| refusal(Errno::from_io(&e)))?;
        let text = String::from_utf8(data).map_err(|_| refusal(Errno::ENOEXEC))?;
        let json = text
            .strip_prefix(FAKE_MAGIC)
            .ok_or(refusal(Errno::ENOEXEC))?;
        let spec = FakeSpec::parse(json).map_err(|_| refusal(Errno::ENOEXEC))?;
        if let Some(e) = spec.load_errno {
            return Err(refusal(Errno(e)));
        }
        let info = match spec.fetch_errno {
            Some(e) => Err(refusal(Errno(e))),
            None => Ok(kobj::Info {
                name: spec.name.as_str().into(),
                version: spec.version.unwrap_or(target.osrevision),
                class: spec.class.unwrap_or(ModClass::Misc as i32),
                required_raw: spec.required.clone().map(String::into_bytes),
                required: spec
                    .required
                    .as_deref()
                    .map(|r| modobj::rules::split_required(r.as_bytes()))
                    .unwrap_or_default(),
                has_modcmd: true,
            }),
        };
        Ok(kobj::Loaded {
            text_size: spec.text.unwrap_or(1000),
            defined: spec.globals.clone(),
            undefined: spec.undefined.clone(),
            info,
            link: spec.link_errno.map(|e| refusal(Errno(e))),
            findings: Vec::new(),
        })
    }

    fn ksyms(&self, path: &Path) -> Result<BTreeSet<String>, String> {
        let text = fs::read_to_string(path).map_err(|e| e.to_string())?;
        let syms = text.strip_prefix(FAKE_KSYMS).ok_or("not a symbol table")?;
        Ok(syms.lines().map(str::to_string).collect())
    }

    fn boot_loader(&self) -> &dyn ObjectLoader {
        self
    }
}

// ---------------------------------------------------------------------
// Helpers

struct Env {
    dir: TempDir,
    mc: Modctl<Emul>,
    /// Real module objects rather than fake ones.
    real: bool,
}

/// A state directory with `profile` (JSON) and fake modules, opened.
fn env_with(tag: &str, profile: &str, modules: &[(&str, &str)]) -> Env {
    let dir = TempDir::new(tag);
    fs::write(dir.path().join(PROFILE_FILE), profile).unwrap();
    let p = Profile::from_json(profile).unwrap();
    for (name, spec) in modules {
        put_module(dir.path(), &p, name, spec);
    }
    let emul = Emul::open_with(dir.path(), Box::new(FakeLoader)).unwrap();
    Env {
        dir,
        mc: Modctl::new(emul),
        real: false,
    }
}

/// Writes a fake module at `<root>/<module_path>/<name>/<name>.kmod`.
fn put_module(dir: &Path, p: &Profile, name: &str, spec: &str) -> PathBuf {
    let d = dir
        .join(&p.module_root)
        .join(p.module_path.trim_start_matches('/'))
        .join(name);
    fs::create_dir_all(&d).unwrap();
    let f = d.join(format!("{name}.kmod"));
    fs::write(&f, format!("{FAKE_MAGIC}{spec}")).unwrap();
    f
}

/// A small kernel with the modules most tests use.
const SMALL: &str = r#"{"builtins": [
    {"name": "suser", "class": "secmodel"},
    {"name": "wapbl", "class": "vfs"},
    {"name": "ffs", "class": "vfs", "requires": "wapbl"},
    {"name": "tmpfs", "class": "vfs"},
    {"name": "kernfs", "class": "vfs"}],
  "auto_unload": false}"#;

fn std_modules() -> Vec<(&'static str, &'static str)> {
    vec![
        (
            "example",
            r#"{"name": "example", "text": 1234, "globals": ["example_hook"]}"#,
        ),
        ("hello", r#"{"name": "hello", "text": 124}"#),
        (
            "needy",
            r#"{"name": "needy", "required": "hello", "text": 84}"#,
        ),
    ]
}

fn small(tag: &str) -> Env {
    env_with(tag, SMALL, &std_modules())
}

impl Env {
    fn emul(&self) -> &Emul {
        self.mc.backend()
    }

    fn state(&self) -> State {
        self.emul().state().unwrap()
    }

    fn load(&self, name: &str) -> Result<(), Errno> {
        self.load_with(name, 0, Some(EMPTY_PROPS))
    }

    fn load_with(&self, name: &str, flags: i32, props: Option<&str>) -> Result<(), Errno> {
        self.mc
            .load(name.as_bytes(), flags, props.map(str::as_bytes))
            .map_err(|e| e.errno())
    }

    fn unload(&self, name: &str) -> Result<(), Errno> {
        self.mc.unload(name.as_bytes()).map_err(|e| e.errno())
    }

    /// (name, flags, refcnt as modstat prints it) of every module, sorted.
    fn rows(&self) -> Vec<(String, String, i32)> {
        let mut v: Vec<_> = self
            .mc
            .stat()
            .unwrap()
            .modules
            .into_iter()
            .map(|m| {
                (
                    m.name.to_string(),
                    flag_name(m.flags).to_string(),
                    m.refcnt as i32,
                )
            })
            .collect();
        v.sort();
        v
    }

    fn row(&self, name: &str) -> Option<ModStat> {
        self.mc
            .stat()
            .unwrap()
            .modules
            .into_iter()
            .find(|m| m.name == name)
    }

    fn active_names(&self) -> Vec<String> {
        self.state()
            .active
            .into_iter()
            .map(|m| m.name.to_string())
            .collect()
    }

    /// Asserts `f` fails with `e` and leaves the state as it was.
    fn fails_cleanly(&self, e: Errno, f: impl FnOnce(&Env) -> Result<(), Errno>) {
        let before = self.state();
        assert_eq!(f(self), Err(e));
        assert_eq!(self.state(), before, "state changed by a failing call");
    }

    fn set_profile(&mut self, profile: &str) {
        fs::write(self.dir.path().join(PROFILE_FILE), profile).unwrap();
        let emul = if self.real {
            Emul::open(self.dir.path())
        } else {
            Emul::open_with(self.dir.path(), Box::new(FakeLoader))
        };
        let emul = emul.unwrap();
        self.mc = Modctl::new(emul);
    }
}

/// What modload sends with no -b/-i/-s options.
const EMPTY_PROPS: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE plist PUBLIC \"-//Apple Computer//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n<plist version=\"1.0\">\n<dict/>\n</plist>\n";

fn props_with(body: &str) -> String {
    format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE plist PUBLIC \"-//Apple Computer//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n<plist version=\"1.0\">\n<dict>\n{body}</dict>\n</plist>\n")
}

/// A raw `MODCTL_LOAD` with exactly these pointers and length.
fn raw_load(
    e: &Emul,
    name: *const c_char,
    flags: i32,
    props: *const c_char,
    len: usize,
) -> Result<(), Errno> {
    let mut ml = ModctlLoad {
        ml_filename: name,
        ml_flags: flags,
        ml_props: props,
        ml_propslen: len,
    };
    // SAFETY: `ml` outlives the call; its pointers are the caller's
    // (null or NUL-terminated strings, see above).
    unsafe { e.modctl(MODCTL_LOAD, &mut ml as *mut ModctlLoad as *mut c_void) }
}

// ---------------------------------------------------------------------
// Initialisation, profile, state files

#[test]
fn new_directory_is_initialised() {
    let dir = TempDir::new("init");
    let sub = dir.path().join("a/b");
    let e = Emul::open(&sub).unwrap();
    assert_eq!(e.profile(), &Profile::default());
    let written = fs::read_to_string(sub.join(PROFILE_FILE)).unwrap();
    assert_eq!(Profile::from_json(&written).unwrap(), Profile::default());
    let st = State::parse(&fs::read(sub.join(STATE_FILE)).unwrap()).unwrap();
    assert_eq!(st.active.len(), 20);
    assert!(st.builtins.is_empty());
    // Opening again changes nothing.
    let before = fs::read(sub.join(STATE_FILE)).unwrap();
    Emul::open(&sub).unwrap();
    assert_eq!(fs::read(sub.join(STATE_FILE)).unwrap(), before);
    // Sysctls come from the profile.
    let mc = Modctl::new(e);
    assert_eq!(
        mc.sysctl(Sysctl::ModulePath).unwrap(),
        SysctlValue::Str("/stand/amd64/10.1/modules".into())
    );
    assert_eq!(
        mc.sysctl(Sysctl::OsRevision).unwrap(),
        SysctlValue::Int(1_001_000_000)
    );
    assert_eq!(
        mc.sysctl(Sysctl::OsRelease).unwrap(),
        SysctlValue::Str("10.1".into())
    );
    assert_eq!(
        mc.sysctl(Sysctl::Machine).unwrap(),
        SysctlValue::Str("amd64".into())
    );
    assert_eq!(
        mc.sysctl(Sysctl::ModuleAutoload).unwrap(),
        SysctlValue::Bool(true)
    );
    assert_eq!(mc.sysctl(Sysctl::Securelevel).unwrap(), SysctlValue::Int(0));
}

#[test]
fn user_profile_keys_default_and_derive() {
    let env = env_with(
        "userprof",
        r#"{"osrelease": "9.3", "machine": "i386", "builtins": []}"#,
        &[],
    );
    let p = env.emul().profile();
    assert_eq!(p.osrevision, 903_000_000);
    assert_eq!(p.module_path, "/stand/i386/9.3/modules");
    assert_eq!(p.autotime, 10);
    // The file the user wrote is left alone.
    let text = fs::read_to_string(env.dir.path().join(PROFILE_FILE)).unwrap();
    assert!(text.contains("9.3") && !text.contains("autotime"));
    assert!(env.state().active.is_empty());
}

#[test]
fn corrupt_state_is_an_error_naming_the_file() {
    let env = small("corrupt");
    env.load("example").unwrap();
    let spath = env.dir.path().join(STATE_FILE);
    fs::write(&spath, b"{\"format\": 1, \"serial\": ").unwrap();

    // A call reports EIO, names the file, and leaves it alone.
    assert_eq!(env.unload("example"), Err(Errno::EIO));
    let why = env.emul().last_error().unwrap();
    assert!(why.contains(&spath.display().to_string()), "{why}");
    assert!(why.contains("corrupt"), "{why}");
    assert_eq!(env.mc.stat().map_err(|e| e.errno()), Err(Errno::EIO));
    assert_eq!(fs::read(&spath).unwrap(), b"{\"format\": 1, \"serial\": ");

    // Opening fails the same way.
    let err = Emul::open_with(env.dir.path(), Box::new(FakeLoader)).unwrap_err();
    assert_eq!(err.path(), spath);
    assert!(err
        .to_string()
        .starts_with(&format!("{}: corrupt", spath.display())));

    // Invariant violations count as corruption too.
    let mut st = State::empty();
    st.active.push(ModRec::builtin("x", 1, None));
    st.active[0].deps.push("nosuch".into());
    fs::write(&spath, st.to_json()).unwrap();
    let err = Emul::open_with(env.dir.path(), Box::new(FakeLoader)).unwrap_err();
    assert!(err.to_string().contains("nosuch"), "{err}");

    // Removing the file reboots the kernel.
    fs::remove_file(&spath).unwrap();
    let e = Emul::open_with(env.dir.path(), Box::new(FakeLoader)).unwrap();
    assert_eq!(e.state().unwrap().active.len(), 5);
}

#[test]
fn corrupt_and_unreadable_profile() {
    let dir = TempDir::new("badprof");
    let ppath = dir.path().join(PROFILE_FILE);
    fs::write(&ppath, "{\"osrelease\": 10}").unwrap();
    let err = Emul::open(dir.path()).unwrap_err();
    assert_eq!(err.path(), ppath);
    assert!(err.to_string().contains("invalid kernel profile"), "{err}");
    assert!(!dir.path().join(STATE_FILE).exists());

    fs::remove_file(&ppath).unwrap();
    fs::create_dir(&ppath).unwrap();
    let err = Emul::open(dir.path()).unwrap_err();
    assert_eq!(err.path(), ppath);
}

#[test]
fn unreadable_ksyms_is_eio_with_the_file_named() {
    let env = env_with(
        "badksyms",
        r#"{"builtins": [], "ksyms": "nosuch.o"}"#,
        &std_modules(),
    );
    assert_eq!(env.load("hello"), Err(Errno::EIO));
    let why = env.emul().last_error().unwrap();
    assert!(why.contains("nosuch.o"), "{why}");
    assert!(env.state().active.is_empty());
}

// ---------------------------------------------------------------------
// MODCTL_LOAD errno rows

#[test]
fn load_by_name_and_by_path() {
    let env = small("loadname");
    env.load("example").unwrap();
    let m = env.row("example").unwrap();
    assert_eq!((m.class, m.source, m.flags, m.refcnt), (1, 2, 0, 0));
    assert_eq!(m.size, 1234);
    assert_eq!(m.addr, 0xffff_ffff_8200_0000);
    let rec = env.state().active.into_iter().next().unwrap();
    assert_eq!(rec.name, "example");
    assert_eq!(rec.globals, ["example_hook"]);
    assert_eq!(rec.version, 1_001_000_000);
    assert_eq!(rec.props.as_deref(), Some(EMPTY_PROPS));

    // By path (host path), anywhere.
    let other = env.dir.path().join("elsewhere/hello.kmod");
    fs::create_dir_all(other.parent().unwrap()).unwrap();
    fs::write(
        &other,
        format!("{FAKE_MAGIC}{{\"name\": \"hello\", \"text\": 5000}}"),
    )
    .unwrap();
    env.load(other.to_str().unwrap()).unwrap();
    let rec = env.state().active.into_iter().next().unwrap();
    assert_eq!(rec.path.as_deref(), other.to_str());
    // Text follows the previous module's page-rounded text.
    assert_eq!(env.row("hello").unwrap().addr, 0xffff_ffff_8200_1000);
    assert_eq!(env.active_names()[..2], ["hello", "example"]);
}

#[test]
fn load_enoent_rows() {
    let env = small("enoent");
    for name in ["nosuch", "", " ", "/nonexistent/foo.kmod", "non-existent.o"] {
        env.fails_cleanly(Errno::ENOENT, |e| e.load(name));
    }
    // A path is not retried as a name: "./example" does not exist in the
    // cwd even though `example` exists under the module path.
    env.fails_cleanly(Errno::ENOENT, |e| e.load("./example"));
    // A path to a module's directory entry that is not there either.
    let p = env.emul().profile().clone();
    let f = put_module(
        env.dir.path(),
        &p,
        "nolinkset",
        r#"{"name": "x", "fetch_errno": 2}"#,
    );
    env.fails_cleanly(Errno::ENOENT, |e| e.load("nolinkset"));
    env.fails_cleanly(Errno::ENOENT, |e| e.load(f.to_str().unwrap()));
    assert!(env.emul().last_messages()[0].contains("cannot fetch info for"));
}

#[test]
fn load_eexist_rows() {
    let env = small("eexist");
    env.load("example").unwrap();
    // The name of an active module, checked first.
    env.fails_cleanly(Errno::EEXIST, |e| e.load("example"));
    // An active built-in.
    env.fails_cleanly(Errno::EEXIST, |e| e.load("tmpfs"));
    // The same module by path: found by mi_name after reading the file.
    let p = env.emul().profile().clone();
    let f = put_module(env.dir.path(), &p, "example", r#"{"name": "example"}"#);
    env.fails_cleanly(Errno::EEXIST, |e| e.load(f.to_str().unwrap()));
    assert!(env.emul().last_messages()[0].contains("module with name `example' already loaded"));
    // A file whose modinfo names an active module.
    put_module(env.dir.path(), &p, "alias", r#"{"name": "example"}"#);
    env.fails_cleanly(Errno::EEXIST, |e| e.load("alias"));
    // EEXIST is answered before authorization.
    let mut env = env;
    env.set_profile(&SMALL.replace("\"auto_unload\"", "\"euid\": 1000, \"auto_unload\""));
    env.fails_cleanly(Errno::EEXIST, |e| e.load("example"));
    env.fails_cleanly(Errno::EPERM, |e| e.load("hello"));
}

#[test]
fn load_eperm_rows() {
    for extra in [r#""euid": 1000"#, r#""securelevel": 1"#] {
        let profile = SMALL.replace("\"auto_unload\"", &format!("{extra}, \"auto_unload\""));
        let env = env_with("eperm", &profile, &std_modules());
        env.fails_cleanly(Errno::EPERM, |e| e.load("example"));
        env.fails_cleanly(Errno::EPERM, |e| e.load("nosuch"));
        env.fails_cleanly(Errno::EPERM, |e| e.unload("tmpfs"));
        env.fails_cleanly(Errno::EPERM, |e| e.unload("nosuch"));
    }
}

#[test]
fn disabled_builtin_needs_force() {
    let env = small("force");
    env.unload("tmpfs").unwrap();
    let st = env.state();
    assert_eq!(st.builtins.len(), 1);
    assert_eq!(st.builtins[0].flags, MODFLG_MUST_FORCE);
    let m = env.row("tmpfs").unwrap();
    assert_eq!((m.refcnt, m.flags, m.source), (u32::MAX, 0, 0));

    env.fails_cleanly(Errno::EPERM, |e| e.load("tmpfs"));
    assert!(env.emul().last_messages()[0].contains("use -f to reinstate builtin module `tmpfs'"));
    env.load_with("tmpfs", MODCTL_LOAD_FORCE, None).unwrap();
    let m = env.row("tmpfs").unwrap();
    assert_eq!((m.refcnt, m.flags), (0, MODFLG_MUST_FORCE));
    assert_eq!(env.active_names()[0], "tmpfs");
    assert!(env.state().builtins.is_empty());
    env.fails_cleanly(Errno::EEXIST, |e| e.load("tmpfs"));
}

#[test]
fn reinstated_builtin_reinstates_its_requirements() {
    let env = small("reinstate");
    env.unload("ffs").unwrap();
    env.unload("wapbl").unwrap();
    let names: Vec<_> = env.state().builtins.into_iter().map(|m| m.name).collect();
    assert_eq!(names, ["ffs", "wapbl"]);
    // module_do_builtin initializes wapbl without asking for force again.
    env.load_with("ffs", MODCTL_LOAD_FORCE, None).unwrap();
    assert_eq!(env.active_names()[..2], ["ffs", "wapbl"]);
    assert_eq!(env.row("wapbl").unwrap().refcnt, 1);
    assert_eq!(env.state().active("ffs").unwrap().deps, ["wapbl"]);
}

#[test]
fn builtin_init_failure_on_reinstatement() {
    let mut env = small("builtinfail");
    env.unload("kernfs").unwrap();
    env.set_profile(&SMALL.replace(
        "\"auto_unload\"",
        r#""fail_init": {"kernfs": "EBUSY"}, "auto_unload""#,
    ));
    env.fails_cleanly(Errno::EBUSY, |e| {
        e.load_with("kernfs", MODCTL_LOAD_FORCE, None)
    });
    assert!(env.emul().last_messages()[0].contains("failed its MODULE_CMD_INIT"));
}

#[test]
fn builtin_with_a_missing_builtin_dependency() {
    let env = env_with(
        "missingdep",
        r#"{"builtins": [
            {"name": "orphan", "class": "misc", "requires": "gone"},
            {"name": "fine", "class": "misc"}],
          "auto_unload": false}"#,
        &[],
    );
    // It failed at boot, so it needs force, and then fails the same way.
    assert_eq!(env.row("orphan").unwrap().refcnt, u32::MAX);
    env.fails_cleanly(Errno::EPERM, |e| e.load("orphan"));
    env.fails_cleanly(Errno::ENOENT, |e| {
        e.load_with("orphan", MODCTL_LOAD_FORCE, None)
    });
    let log = env.emul().last_messages().join("\n");
    assert!(
        log.contains("can't find builtin dependency `gone'"),
        "{log}"
    );
}

#[test]
fn load_enoexec_rows() {
    let env = env_with(
        "enoexec",
        r#"{"builtins": [], "ksyms": "ksyms.o", "auto_unload": false}"#,
        &[
            (
                "example",
                r#"{"name": "example", "globals": ["example_hook"]}"#,
            ),
            ("dup", r#"{"name": "dup", "globals": ["example_hook"]}"#),
            ("dupk", r#"{"name": "dupk", "globals": ["printf"]}"#),
            (
                "user",
                r#"{"name": "user", "undefined": ["printf", "example_hook"]}"#,
            ),
            (
                "lost",
                r#"{"name": "lost", "undefined": ["printf", "no_such_symbol"]}"#,
            ),
            ("reloc", r#"{"name": "reloc", "link_errno": 8}"#),
            ("wrongsize", r#"{"name": "x", "fetch_errno": 8}"#),
            ("elfbad", r#"{"name": "x", "load_errno": 8}"#),
        ],
    );
    fs::write(
        env.dir.path().join("ksyms.o"),
        format!("{FAKE_KSYMS}printf\nmemcpy\n"),
    )
    .unwrap();
    let p = env.emul().profile().clone();
    let garbage = put_module(env.dir.path(), &p, "garbage", "");
    fs::write(garbage, b"\x7fELF garbage").unwrap();

    for name in ["garbage", "elfbad", "wrongsize", "dupk", "lost", "reloc"] {
        env.fails_cleanly(Errno::ENOEXEC, |e| e.load(name));
    }
    assert!(env
        .emul()
        .last_messages()
        .iter()
        .any(|m| m.contains("unable to affix module `reloc'")));
    env.load("lost").unwrap_err();
    assert!(env
        .emul()
        .last_messages()
        .iter()
        .any(|m| m.contains("symbol `no_such_symbol' not found")));
    // Symbols of loaded modules resolve and clash too.
    env.fails_cleanly(Errno::ENOEXEC, |e| e.load("user"));
    env.load("example").unwrap();
    env.fails_cleanly(Errno::ENOEXEC, |e| e.load("dup"));
    assert!(env.emul().last_messages()[0].contains("global symbol `example_hook' redefined"));
    env.load("user").unwrap();
    assert_eq!(env.active_names(), ["user", "example"]);
}

#[test]
fn without_ksyms_symbols_are_not_checked() {
    let env = env_with(
        "noksyms",
        r#"{"builtins": [], "auto_unload": false}"#,
        &[
            (
                "a",
                r#"{"name": "a", "globals": ["same"], "undefined": ["nowhere"]}"#,
            ),
            ("b", r#"{"name": "b", "globals": ["same"]}"#),
        ],
    );
    env.load("a").unwrap();
    env.load("b").unwrap();
}

#[test]
fn load_einval_rows() {
    let env = env_with(
        "einval",
        r#"{"builtins": [], "auto_unload": false}"#,
        &[
            ("longname", &format!(r#"{{"name": "{}"}}"#, "n".repeat(32))),
            ("class0", r#"{"name": "class0", "class": 0}"#),
            ("class7", r#"{"name": "class7", "class": 7}"#),
            ("classneg", r#"{"name": "classneg", "class": -1}"#),
            (
                "longreq",
                &format!(r#"{{"name": "longreq", "required": "{}"}}"#, "r".repeat(31)),
            ),
            ("short", r#"{"name": "x", "load_errno": 22}"#),
            ("bufq", r#"{"name": "bufq", "class": 6}"#),
            ("okname", &format!(r#"{{"name": "{}"}}"#, "n".repeat(31))),
        ],
    );
    for name in [
        "longname", "class0", "class7", "classneg", "longreq", "short",
    ] {
        env.fails_cleanly(Errno::EINVAL, |e| e.load(name));
    }
    // Props pointer/length mismatch.
    let n = CString::new("okname").unwrap();
    let props = CString::new(EMPTY_PROPS).unwrap();
    env.fails_cleanly(Errno::EINVAL, |e| {
        raw_load(e.emul(), n.as_ptr(), 0, props.as_ptr(), 0)
    });
    env.fails_cleanly(Errno::EINVAL, |e| {
        raw_load(e.emul(), n.as_ptr(), 0, std::ptr::null(), 5)
    });
    // Props that are not a dictionary.
    env.fails_cleanly(Errno::EINVAL, |e| {
        e.load_with("okname", 0, Some("<plist><array/></plist>"))
    });
    env.fails_cleanly(Errno::EINVAL, |e| e.load_with("okname", 0, Some("garbage")));
    // The longest legal names, and bufq on a kernel that has it.
    env.load("okname").unwrap();
    env.load("bufq").unwrap();
    assert_eq!(env.active_names(), ["bufq", &"n".repeat(31)]);
}

#[test]
fn class_range_follows_the_kernel_version() {
    // NetBSD 8: classes 1..6 (bufq is 6).
    let env = env_with(
        "bufq8",
        r#"{"osrelease": "8.2", "builtins": [], "auto_unload": false}"#,
        &[
            (
                "bufq",
                r#"{"name": "bufq", "class": 6, "version": 802000000}"#,
            ),
            (
                "seven",
                r#"{"name": "seven", "class": 7, "version": 802000000}"#,
            ),
        ],
    );
    env.load("bufq").unwrap();
    env.fails_cleanly(Errno::EINVAL, |e| e.load("seven"));
    // Kernels before 8.0 (kern_module.c 1.106) did not check the class.
    let env = env_with(
        "class799",
        r#"{"osrelease": "7.99.34", "builtins": [], "auto_unload": false}"#,
        &[("odd", r#"{"name": "odd", "class": 9}"#)],
    );
    env.load("odd").unwrap();
    assert_eq!(env.row("odd").unwrap().class, 9);
}

#[test]
fn old_kernels_refuse_a_tenth_requirement() {
    let spec = |name: &str, req: &str| {
        format!(r#"{{"name": "{name}", "required": "{req}", "version": 802000000}}"#)
    };
    let mut mods: Vec<(String, String)> = (0..10)
        .map(|i| {
            (
                format!("d{i}"),
                format!(r#"{{"name": "d{i}", "version": 802000000}}"#),
            )
        })
        .collect();
    let nine: Vec<String> = (0..9).map(|i| format!("d{i}")).collect();
    let ten: Vec<String> = (0..10).map(|i| format!("d{i}")).collect();
    mods.push(("nine".into(), spec("nine", &nine.join(","))));
    mods.push(("ten".into(), spec("ten", &ten.join(","))));
    let refs: Vec<(&str, &str)> = mods.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let profile = r#"{"osrelease": "8.2", "builtins": [], "auto_unload": false}"#;
    let env = env_with("maxreq", profile, &refs);
    assert_eq!(env.load("ten"), Err(Errno::EINVAL));
    let log = env.emul().last_messages().join("\n");
    assert!(log.contains("too many required modules for `ten'"), "{log}");
    // The nine loaded before the tenth was refused stay loaded.
    assert_eq!(env.state().active.len(), 9);
    env.load("nine").unwrap();
    assert_eq!(env.row("d0").unwrap().refcnt, 1);
}

#[test]
fn load_enametoolong_rows() {
    let env = small("toolong");
    // No NUL within MAXPATHLEN bytes.
    let mut buf = vec![b'a'; 1100];
    buf[1050] = 0;
    env.fails_cleanly(Errno::ENAMETOOLONG, |e| {
        raw_load(
            e.emul(),
            buf.as_ptr() as *const c_char,
            0,
            std::ptr::null(),
            0,
        )
    });
    // 1023 characters fit the copy but not namei (t_modctl's case).
    let name = "a".repeat(1023);
    env.fails_cleanly(Errno::ENAMETOOLONG, |e| e.load(&name));
    let long_component = format!("/tmp/{}/x.kmod", "c".repeat(300));
    env.fails_cleanly(Errno::ENAMETOOLONG, |e| e.load(&long_component));
    // Props longer than ml_propslen.
    let n = CString::new("example").unwrap();
    let props = CString::new(EMPTY_PROPS).unwrap();
    env.fails_cleanly(Errno::ENAMETOOLONG, |e| {
        raw_load(
            e.emul(),
            n.as_ptr(),
            0,
            props.as_ptr(),
            EMPTY_PROPS.len() - 1,
        )
    });
    // A shorter string than ml_propslen is fine.
    raw_load(
        env.emul(),
        n.as_ptr(),
        0,
        props.as_ptr(),
        EMPTY_PROPS.len() + 10,
    )
    .unwrap();
    assert_eq!(env.active_names()[0], "example");
    // Components of up to 255 bytes are looked up and simply not found.
    env.fails_cleanly(Errno::ENOENT, |e| e.load(&"b".repeat(250)));
    env.fails_cleanly(Errno::ENAMETOOLONG, |e| e.load(&"b".repeat(251)));
}

#[test]
fn load_enomem_and_efault_rows() {
    let env = small("enomem");
    let n = CString::new("example").unwrap();
    let big = props_with(&format!(
        "\t<key>k</key>\n\t<string>{}</string>\n",
        "x".repeat(4100)
    ));
    let big = CString::new(big).unwrap();
    env.fails_cleanly(Errno::ENOMEM, |e| {
        raw_load(e.emul(), n.as_ptr(), 0, big.as_ptr(), MAXPROPSLEN + 1)
    });
    // Exactly 4096 bytes is accepted.
    let body = "x".repeat(4096 - props_with("\t<key>k</key>\n\t<string></string>\n").len());
    let max = props_with(&format!("\t<key>k</key>\n\t<string>{body}</string>\n"));
    assert_eq!(max.len(), MAXPROPSLEN);
    env.load_with("example", 0, Some(&max)).unwrap();

    // SAFETY: a null argument, which the emulator refuses unread.
    env.fails_cleanly(Errno::EFAULT, |e| unsafe {
        e.emul().modctl(MODCTL_LOAD, std::ptr::null_mut())
    });
    env.fails_cleanly(Errno::EFAULT, |e| {
        raw_load(e.emul(), std::ptr::null(), 0, std::ptr::null(), 0)
    });
}

#[test]
fn version_mismatch_and_force() {
    let env = env_with(
        "version",
        r#"{"builtins": [], "auto_unload": false}"#,
        &[
            ("old93", r#"{"name": "old93", "version": 903000000}"#),
            ("patch", r#"{"name": "patch", "version": 1001000100}"#),
        ],
    );
    env.fails_cleanly(Errno::EPROGMISMATCH, |e| e.load("old93"));
    assert!(env.emul().last_messages()[0]
        .contains("module `old93' built for `903000000', system `1001000000'"));
    env.load("patch").unwrap();
    env.load_with("old93", MODCTL_LOAD_FORCE, Some(EMPTY_PROPS))
        .unwrap();
    assert!(env.emul().last_messages()[1].contains("forced load"));
    assert_eq!(env.active_names(), ["old93", "patch"]);
    // Loading the same file again: the version check comes before EEXIST.
    let p = env.emul().profile().clone();
    let f = put_module(
        env.dir.path(),
        &p,
        "old93b",
        r#"{"name": "old93", "version": 903000000}"#,
    );
    env.fails_cleanly(Errno::EPROGMISMATCH, |e| e.load(f.to_str().unwrap()));
}

#[test]
fn current_kernels_need_the_exact_version() {
    let env = env_with(
        "current",
        r#"{"osrelease": "10.99.12", "builtins": [], "auto_unload": false}"#,
        &[
            ("a", r#"{"name": "a", "version": 1099001100}"#),
            ("b", r#"{"name": "b", "version": 1099001200}"#),
        ],
    );
    env.fails_cleanly(Errno::EPROGMISMATCH, |e| e.load("a"));
    env.load("b").unwrap();
}

#[test]
fn dependencies_load_through_the_autoload_path() {
    let env = small("deps");
    env.load("needy").unwrap();
    assert_eq!(env.active_names()[..2], ["needy", "hello"]);
    let hello = env.row("hello").unwrap();
    assert_eq!((hello.flags, hello.refcnt), (MODFLG_AUTO_LOADED, 1));
    let needy = env.row("needy").unwrap();
    assert_eq!(
        (needy.flags, needy.refcnt, &needy.required[..]),
        (0, 0, &b"hello"[..])
    );
    let st = env.state();
    assert!(st.active("hello").unwrap().autotime > 0);
    assert_eq!(st.active("needy").unwrap().deps, ["hello"]);
    // Busy while required; dependencies are not unloaded with their user.
    env.fails_cleanly(Errno::EBUSY, |e| e.unload("hello"));
    env.unload("needy").unwrap();
    assert_eq!(env.row("hello").unwrap().refcnt, 0);
    env.unload("hello").unwrap();
    // An already loaded dependency just gains a reference (no `a`).
    env.load("hello").unwrap();
    env.load("needy").unwrap();
    let hello = env.row("hello").unwrap();
    assert_eq!((hello.flags, hello.refcnt), (0, 1));
}

#[test]
fn dependency_on_builtins() {
    let env = env_with(
        "depbuiltin",
        SMALL,
        &[("fsuser", r#"{"name": "fsuser", "required": "ffs,tmpfs"}"#)],
    );
    env.load("fsuser").unwrap();
    assert_eq!(env.row("ffs").unwrap().refcnt, 1);
    assert_eq!(env.row("tmpfs").unwrap().refcnt, 1);
    env.unload("fsuser").unwrap();
    // A disabled built-in dependency needs force, which the user's flags carry.
    env.unload("tmpfs").unwrap();
    env.fails_cleanly(Errno::EPERM, |e| e.load("fsuser"));
    assert!(env.emul().last_messages()[0].contains("(`tmpfs' required), error 1"));
    env.load_with("fsuser", MODCTL_LOAD_FORCE, None).unwrap();
    assert_eq!(env.row("tmpfs").unwrap().flags, MODFLG_MUST_FORCE);
}

#[test]
fn dependency_failures() {
    let env = env_with(
        "depfail",
        SMALL,
        &[
            ("wants", r#"{"name": "wants", "required": "hello,nosuch"}"#),
            ("hello", r#"{"name": "hello"}"#),
            ("mism", r#"{"name": "mism", "required": "alias"}"#),
            ("alias", r#"{"name": "other"}"#),
            ("stops", r#"{"name": "stops", "required": "hello,,nosuch"}"#),
        ],
    );
    // ENOENT naming the module that failed; what loaded stays loaded.
    assert_eq!(env.load("wants"), Err(Errno::ENOENT));
    let log = env.emul().last_messages().join("\n");
    assert!(
        log.contains("recursive load failed for `wants' (`nosuch' required), error 2"),
        "{log}"
    );
    assert_eq!(env.active_names()[0], "hello");
    assert!(env.state().active("wants").is_none());
    assert_eq!(env.row("hello").unwrap().flags, MODFLG_AUTO_LOADED);
    // A dependency whose modinfo has another name.
    env.fails_cleanly(Errno::ENOENT, |e| e.load("mism"));
    assert!(env.emul().last_messages()[0].contains("dependency name mismatch (`alias' != `other')"));
    // An empty component ends the list.
    env.load("stops").unwrap();
    assert_eq!(env.state().active("stops").unwrap().deps, ["hello"]);
}

#[test]
fn dependency_plist_noautoload_is_eperm() {
    let env = small("noautoload");
    let p = env.emul().profile().clone();
    let f = put_module(env.dir.path(), &p, "hello", r#"{"name": "hello"}"#);
    fs::write(
        f.with_extension("plist"),
        props_with("\t<key>noautoload</key>\n\t<true/>\n"),
    )
    .unwrap();
    env.fails_cleanly(Errno::EPERM, |e| e.load("needy"));
    // Loading it by hand is fine.
    env.load("hello").unwrap();
    env.load("needy").unwrap();
}

#[test]
fn cycles_and_self_dependency_are_edeadlk() {
    let env = env_with(
        "cycles",
        r#"{"builtins": [], "auto_unload": false}"#,
        &[
            ("cyc_a", r#"{"name": "cyc_a", "required": "cyc_b"}"#),
            ("cyc_b", r#"{"name": "cyc_b", "required": "cyc_a"}"#),
            ("selfdep", r#"{"name": "selfdep", "required": "selfdep"}"#),
            ("chain_a", r#"{"name": "chain_a", "required": "chain_b"}"#),
            ("chain_b", r#"{"name": "chain_b", "required": "chain_c"}"#),
            ("chain_c", r#"{"name": "chain_c"}"#),
        ],
    );
    env.fails_cleanly(Errno::EDEADLK, |e| e.load("cyc_a"));
    let log = env.emul().last_messages().join("\n");
    assert!(
        log.contains("circular dependency detected for `cyc_a'"),
        "{log}"
    );
    env.fails_cleanly(Errno::EDEADLK, |e| e.load("selfdep"));
    assert!(env.emul().last_messages()[0].contains("self-dependency detected for `selfdep'"));
    env.load("chain_a").unwrap();
    assert_eq!(env.active_names(), ["chain_a", "chain_b", "chain_c"]);
    let rows = env.rows();
    assert_eq!(
        rows,
        [
            ("chain_a".to_string(), "-".to_string(), 0),
            ("chain_b".into(), "a".into(), 1),
            ("chain_c".into(), "a".into(), 1)
        ]
    );
}

#[test]
fn plist_files_next_to_modules() {
    let env = small("plist");
    let p = env.emul().profile().clone();
    let f = put_module(env.dir.path(), &p, "example", r#"{"name": "example"}"#);
    let plist = f.with_extension("plist");

    // Not a dictionary: EINVAL.
    fs::write(&plist, "<plist version=\"1.0\"><array/></plist>").unwrap();
    env.fails_cleanly(Errno::EINVAL, |e| e.load("example"));
    // ... unless MODCTL_NO_PROP.
    env.load_with("example", MODCTL_NO_PROP, Some(EMPTY_PROPS))
        .unwrap();
    assert_eq!(
        env.state().active("example").unwrap().props.as_deref(),
        Some(EMPTY_PROPS)
    );
    env.unload("example").unwrap();

    // Too large: EFBIG from 8191 bytes on.
    let file = props_with("\t<key>msg</key>\n\t<string>fromfile</string>\n");
    let pad = |n: usize| format!("{file}{}", " ".repeat(n - file.len()));
    fs::write(&plist, pad(8191)).unwrap();
    env.fails_cleanly(Errno::EFBIG, |e| e.load("example"));
    fs::write(&plist, pad(8190)).unwrap();
    env.load("example").unwrap();
    // INIT got the file's dictionary (stored externalized).
    assert_eq!(
        env.state().active("example").unwrap().props.as_deref(),
        Some(file.as_str())
    );
    env.unload("example").unwrap();

    // User keys win when merged.
    fs::write(&plist, &file).unwrap();
    let user = props_with("\t<key>msg</key>\n\t<string>fromuser</string>\n");
    env.load_with("example", 0, Some(&user)).unwrap();
    let got = env
        .state()
        .active("example")
        .unwrap()
        .props
        .clone()
        .unwrap();
    assert!(
        got.contains("fromuser") && !got.contains("fromfile"),
        "{got}"
    );
}

#[test]
fn init_failure_leaves_nothing_loaded() {
    let env = env_with(
        "initfail",
        r#"{"builtins": [], "auto_unload": false, "fail_init": {"needy": "ENXIO"}}"#,
        &std_modules(),
    );
    assert_eq!(env.load("needy"), Err(Errno::ENXIO));
    assert!(env.emul().last_messages()[0].contains("modcmd(CMD_INIT) failed for `needy', error 6"));
    // The dependency loaded before INIT failed stays.
    assert_eq!(env.active_names(), ["hello"]);
    assert_eq!(env.row("hello").unwrap().refcnt, 0);
}

// ---------------------------------------------------------------------
// MODCTL_UNLOAD errno rows

#[test]
fn unload_rows() {
    let env = env_with(
        "unload",
        &SMALL.replace(
            "\"auto_unload\"",
            r#""fail_fini": {"kernfs": "EBUSY"}, "auto_unload""#,
        ),
        &std_modules(),
    );
    for name in ["nosuch", "", "example.kmod", "example"] {
        env.fails_cleanly(Errno::ENOENT, |e| e.unload(name));
    }
    env.fails_cleanly(Errno::ENAMETOOLONG, |e| e.unload(&"a".repeat(32)));
    env.fails_cleanly(Errno::ENOENT, |e| e.unload(&"a".repeat(31)));
    // SAFETY: a null argument, which the emulator refuses unread.
    env.fails_cleanly(Errno::EFAULT, |e| unsafe {
        e.emul().modctl(MODCTL_UNLOAD, std::ptr::null_mut())
    });
    // Referenced; built-in secmodel; FINI failing (a mounted file system).
    env.fails_cleanly(Errno::EBUSY, |e| e.unload("wapbl"));
    env.fails_cleanly(Errno::EPERM, |e| e.unload("suser"));
    env.fails_cleanly(Errno::EBUSY, |e| e.unload("kernfs"));
    // A disabled built-in is not active.
    env.unload("tmpfs").unwrap();
    env.fails_cleanly(Errno::ENOENT, |e| e.unload("tmpfs"));
    // A loaded module is freed.
    env.load("example").unwrap();
    env.unload("example").unwrap();
    assert!(env.state().active("example").is_none());
    assert!(env.row("example").is_none());
}

#[test]
fn helpers_for_the_tools() {
    let env = env_with(
        "helpers",
        r#"{"builtins": [], "ksyms": "k.o", "euid": 7, "auto_unload": false}"#,
        &std_modules(),
    );
    fs::write(env.dir.path().join("k.o"), format!("{FAKE_KSYMS}printf\n")).unwrap();
    assert_eq!(env.emul().euid(), 7);
    assert_eq!(
        env.emul().module_dir(),
        env.dir.path().join("root/stand/amd64/10.1/modules")
    );
    assert_eq!(
        env.emul().kernel_symbols().unwrap().unwrap(),
        BTreeSet::from(["printf".to_string()])
    );
    let env = small("helpers2");
    assert_eq!(env.emul().kernel_symbols().unwrap(), None);
    env.load("example").unwrap();
    assert_eq!(env.emul().euid(), 0);
}

// ---------------------------------------------------------------------
// MODCTL_EXISTS, unknown commands, sysctl

#[test]
fn exists_rows() {
    let check = |extra: &str, load: Result<(), Errno>, auto: Result<(), Errno>| {
        let profile = SMALL.replace("\"auto_unload\"", &format!("{extra} \"auto_unload\""));
        let env = env_with("exists", &profile, &[]);
        assert_eq!(env.mc.exists(EXISTS_LOAD), load, "{extra}");
        assert_eq!(env.mc.exists(EXISTS_AUTOLOAD), auto, "{extra}");
        assert_eq!(env.mc.exists(2), Err(Errno::EINVAL));
        assert_eq!(env.mc.exists(usize::MAX), Err(Errno::EINVAL));
    };
    check("", Ok(()), Ok(()));
    check(r#""euid": 1000,"#, Err(Errno::EPERM), Ok(()));
    check(r#""securelevel": 1,"#, Err(Errno::EPERM), Err(Errno::EPERM));
    // kern.module.autoload is not consulted.
    check(r#""autoload": false,"#, Ok(()), Ok(()));
}

#[test]
fn unknown_commands_are_einval() {
    let env = small("unknown");
    let before = env.state();
    for cmd in [5, 99, -1] {
        assert_eq!(
            // SAFETY: unknown commands read no argument.
            unsafe { env.emul().modctl(cmd, std::ptr::null_mut()) },
            Err(Errno::EINVAL)
        );
    }
    assert_eq!(env.state(), before);
}

// ---------------------------------------------------------------------
// Stat buffers

fn raw_stat(e: &Emul, cmd: i32, buf: &mut [u8], len: usize) -> (Result<(), Errno>, usize) {
    let mut iov = IoVec {
        iov_base: buf.as_mut_ptr() as *mut c_void,
        iov_len: len,
    };
    // SAFETY: `iov` covers `buf`, and both outlive the call.
    let r = unsafe { e.modctl(cmd, &mut iov as *mut IoVec as *mut c_void) };
    (r, iov.iov_len)
}

fn put(buf: &mut Vec<u8>, b: &[u8]) {
    buf.extend_from_slice(b);
}

/// A v2 record by hand.
#[allow(clippy::too_many_arguments)]
fn v2_record(
    name: &str,
    addr: u64,
    source: i32,
    class: i32,
    size: u32,
    refcnt: u32,
    flags: u32,
    reqoff: u32,
) -> Vec<u8> {
    let mut r = Vec::new();
    let mut n = [0u8; 32];
    n[..name.len()].copy_from_slice(name.as_bytes());
    put(&mut r, &n);
    put(&mut r, &addr.to_ne_bytes());
    put(&mut r, &source.to_ne_bytes());
    put(&mut r, &class.to_ne_bytes());
    put(&mut r, &size.to_ne_bytes());
    put(&mut r, &refcnt.to_ne_bytes());
    put(&mut r, &flags.to_ne_bytes());
    put(&mut r, &reqoff.to_ne_bytes());
    assert_eq!(r.len(), 64);
    r
}

/// A v1 record by hand.
#[allow(clippy::too_many_arguments)]
fn v1_record(
    name: &str,
    required: &str,
    addr: u64,
    source: i32,
    class: i32,
    size: u32,
    refcnt: u32,
    flags: u32,
) -> Vec<u8> {
    let mut r = Vec::new();
    let mut n = [0u8; 32];
    n[..name.len()].copy_from_slice(name.as_bytes());
    put(&mut r, &n);
    let mut q = [0u8; 320];
    q[..required.len()].copy_from_slice(required.as_bytes());
    put(&mut r, &q);
    put(&mut r, &addr.to_ne_bytes());
    put(&mut r, &source.to_ne_bytes());
    put(&mut r, &class.to_ne_bytes());
    put(&mut r, &size.to_ne_bytes());
    put(&mut r, &refcnt.to_ne_bytes());
    put(&mut r, &flags.to_ne_bytes());
    put(&mut r, &[0u8; 12]);
    assert_eq!(r.len(), 392);
    r
}

const TINY: &str = r#"{"builtins": [
    {"name": "wapbl", "class": "vfs"},
    {"name": "ffs", "class": "vfs", "requires": "wapbl"},
    {"name": "tmpfs", "class": "vfs"}],
  "auto_unload": false}"#;

#[test]
fn stat_v2_byte_exact() {
    let env = env_with("statv2", TINY, &std_modules());
    env.load("needy").unwrap();
    env.unload("tmpfs").unwrap();
    let base = 0xffff_ffff_8200_0000u64;
    let mut want = Vec::new();
    put(&mut want, &5i32.to_ne_bytes());
    put(
        &mut want,
        &v2_record("needy", base + 0x1000, 2, 1, 84, 0, 0, 1),
    );
    put(
        &mut want,
        &v2_record("hello", base, 2, 1, 124, 1, MODFLG_AUTO_LOADED, 0),
    );
    put(&mut want, &v2_record("ffs", 0, 0, 2, 0, 0, 0, 7));
    put(&mut want, &v2_record("wapbl", 0, 0, 2, 0, 1, 0, 0));
    put(&mut want, &v2_record("tmpfs", 0, 0, 2, 0, u32::MAX, 0, 0));
    put(&mut want, b"\0hello\0wapbl\0");

    let got = env.mc.stat_raw(MODCTL_STAT).unwrap();
    assert_eq!(got, want);
    let list = env.mc.stat().unwrap();
    assert_eq!(list.abi, StatAbi::V2);
    assert_eq!(list.modules.len(), 5);

    // An unprivileged caller sees no addresses or sizes.
    let mut env = env;
    env.set_profile(&TINY.replace("\"auto_unload\"", "\"euid\": 5, \"auto_unload\""));
    let got = env.mc.stat_raw(MODCTL_STAT).unwrap();
    let rec = |i: usize| &got[4 + 64 * i..4 + 64 * (i + 1)];
    assert_eq!(rec(0), v2_record("needy", 0, 2, 1, 0, 0, 0, 1));
    assert_eq!(
        rec(1),
        v2_record("hello", 0, 2, 1, 0, 1, MODFLG_AUTO_LOADED, 0)
    );
}

#[test]
fn stat_v2_present_but_empty_required_gets_an_offset() {
    let env = env_with(
        "emptyreq",
        r#"{"builtins": [{"name": "x", "class": "misc", "requires": ""}], "auto_unload": false}"#,
        &[],
    );
    let got = env.mc.stat_raw(MODCTL_STAT).unwrap();
    let mut want = 1i32.to_ne_bytes().to_vec();
    put(&mut want, &v2_record("x", 0, 0, 1, 0, 0, 0, 1));
    put(&mut want, b"\0\0");
    assert_eq!(got, want);
}

#[test]
fn stat_v2_truncation_and_iov_len() {
    let env = env_with("trunc", TINY, &std_modules());
    env.load("needy").unwrap();
    let full = env.mc.stat_raw(MODCTL_STAT).unwrap();
    let total = full.len();
    assert_eq!(total, 4 + 64 * 5 + 13);
    for len in [1usize, 3, 4, 5, 68, 200, total - 1, total, total + 50] {
        let mut buf = vec![0xAAu8; total + 64];
        let (r, newlen) = raw_stat(env.emul(), MODCTL_STAT, &mut buf, len);
        assert_eq!(r, Ok(()));
        assert_eq!(newlen, total, "len {len}");
        let n = len.min(total);
        assert_eq!(&buf[..n], &full[..n], "len {len}");
        assert!(buf[n..].iter().all(|&b| b == 0xAA), "wrote past {n}");
    }
    // Zero length: root gets the size; nothing is written.
    let mut buf = vec![0xAAu8; 8];
    assert_eq!(
        raw_stat(env.emul(), MODCTL_STAT, &mut buf, 0),
        (Ok(()), total)
    );
    assert!(buf.iter().all(|&b| b == 0xAA));
    // NULL buffer with a length, NULL iovec.
    let mut iov = IoVec {
        iov_base: std::ptr::null_mut(),
        iov_len: 16,
    };
    // SAFETY: `iov` outlives the call; its null base is refused unwritten.
    let r = unsafe {
        env.emul()
            .modctl(MODCTL_STAT, &mut iov as *mut IoVec as *mut c_void)
    };
    assert_eq!((r, iov.iov_len), (Err(Errno::EFAULT), 16));
    assert_eq!(
        // SAFETY: a null argument, which the emulator refuses unread.
        unsafe { env.emul().modctl(MODCTL_STAT, std::ptr::null_mut()) },
        Err(Errno::EFAULT)
    );
}

#[test]
fn stat_v2_zero_length_quirk_for_unprivileged_callers() {
    let env = env_with(
        "quirk",
        &TINY.replace("\"auto_unload\"", "\"euid\": 1000, \"auto_unload\""),
        &[],
    );
    let mut buf = vec![0u8; 8];
    assert_eq!(
        raw_stat(env.emul(), MODCTL_STAT, &mut buf, 0),
        (Err(Errno::EPERM), 0)
    );
    // With a buffer the listing works.
    assert_eq!(env.mc.stat().unwrap().modules.len(), 3);
}

#[test]
fn ostat_on_v2_kernels() {
    // compat_80 present: old records, addresses hidden from non-root,
    // long required lists cut with "...".
    let deps: Vec<String> = (0..12)
        .map(|i| format!("dependency_module_number_{i:02}"))
        .collect();
    let mut builtins: Vec<String> = deps
        .iter()
        .map(|d| format!(r#"{{"name": "{d}", "class": "misc"}}"#))
        .collect();
    builtins.push(format!(
        r#"{{"name": "big", "class": "misc", "requires": "{}"}}"#,
        deps.join(",")
    ));
    let profile = format!(
        r#"{{"builtins": [{}], "auto_unload": false}}"#,
        builtins.join(",")
    );
    let env = env_with("ostat", &profile, &std_modules());
    env.load("hello").unwrap();
    let buf = env.mc.stat_raw(MODCTL_OSTAT).unwrap();
    assert_eq!(buf.len(), 14 * 392);
    let base = 0xffff_ffff_8200_0000u64;
    assert_eq!(&buf[..392], v1_record("hello", "", base, 2, 1, 124, 0, 0));
    let big = &buf[392..2 * 392];
    let req = &big[32..352];
    let text =
        String::from_utf8_lossy(&req[..req.iter().position(|&c| c == 0).unwrap()]).into_owned();
    assert_eq!(text.len(), 319);
    assert!(text.ends_with("...") && text.starts_with("dependency_module_number_00,"));

    let mut env = env;
    env.set_profile(&profile.replace("\"auto_unload\"", "\"euid\": 1, \"auto_unload\""));
    let buf = env.mc.stat_raw(MODCTL_OSTAT).unwrap();
    assert_eq!(&buf[..392], v1_record("hello", "", 0, 2, 1, 0, 0, 0));

    // Without compat_80: EINVAL.
    env.set_profile(r#"{"builtins": [], "compat_80": false}"#);
    let mut b = vec![0u8; 100];
    assert_eq!(
        raw_stat(env.emul(), MODCTL_OSTAT, &mut b, 100),
        (Err(Errno::EINVAL), 100)
    );
}

#[test]
fn stat_v1_byte_exact_and_truncation() {
    let profile = r#"{"osrelease": "7.99.34", "euid": 1000, "auto_unload": false, "builtins": [
        {"name": "wapbl", "class": "vfs"},
        {"name": "ffs", "class": "vfs", "requires": "wapbl"}]}"#;
    let mut env = env_with(
        "statv1",
        &profile.replace("\"euid\": 1000,", ""),
        &std_modules(),
    );
    env.load("needy").unwrap();
    env.unload("ffs").unwrap();
    // The 7.x kernel showed addresses to everyone.
    env.set_profile(profile);
    let base = 0xffff_ffff_8200_0000u64;
    let mut want = Vec::new();
    put(
        &mut want,
        &v1_record("needy", "hello", base + 0x1000, 2, 1, 84, 0, 0),
    );
    put(
        &mut want,
        &v1_record("hello", "", base, 2, 1, 124, 1, MODFLG_AUTO_LOADED),
    );
    put(&mut want, &v1_record("wapbl", "", 0, 0, 2, 0, 0, 0));
    put(
        &mut want,
        &v1_record("ffs", "wapbl", 0, 0, 2, 0, u32::MAX, 0),
    );
    let got = env.mc.stat_raw(MODCTL_OSTAT).unwrap();
    assert_eq!(got, want);
    assert_eq!(env.mc.stat().unwrap().abi, StatAbi::V1);
    // Command 4 does not exist on this kernel.
    let mut b = vec![0u8; 64];
    assert_eq!(
        raw_stat(env.emul(), MODCTL_STAT, &mut b, 64),
        (Err(Errno::EINVAL), 64)
    );
    // Truncated copies, full length reported, zero length fine for anyone.
    for len in [0usize, 10, 392, 500, want.len() + 8] {
        let mut buf = vec![0x55u8; want.len() + 16];
        let (r, newlen) = raw_stat(env.emul(), MODCTL_OSTAT, &mut buf, len);
        assert_eq!((r, newlen), (Ok(()), want.len()));
        let n = len.min(want.len());
        assert_eq!(&buf[..n], &want[..n]);
        assert!(buf[n..].iter().all(|&b| b == 0x55));
    }
}

// ---------------------------------------------------------------------
// What a real NetBSD 7.99.34 kernel did, at the API level

const NB799: &str = r#"{"osrelease": "7.99.34", "autoload": false, "auto_unload": false,
  "builtins": [
    {"name": "ffs", "class": "vfs", "requires": "wapbl"},
    {"name": "kernfs", "class": "vfs"},
    {"name": "ksem", "class": "misc"},
    {"name": "layerfs", "class": "misc"},
    {"name": "null", "class": "vfs", "requires": "layerfs"},
    {"name": "suser", "class": "secmodel"},
    {"name": "tmpfs", "class": "vfs"},
    {"name": "wapbl", "class": "vfs"}]}"#;

fn full_rows(
    env: &Env,
) -> Vec<(
    String,
    &'static str,
    &'static str,
    &'static str,
    i32,
    u32,
    String,
)> {
    let mut v: Vec<_> = env
        .mc
        .stat()
        .unwrap()
        .modules
        .into_iter()
        .map(|m| {
            (
                m.name.to_string(),
                class_name(m.class),
                source_name(m.source),
                flag_name(m.flags),
                m.refcnt as i32,
                m.size,
                String::from_utf8(m.required).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn netbsd_7_99_34_transcript() {
    let env = env_with("nb799", NB799, &std_modules());
    let p = env.emul().profile();
    assert_eq!(p.stat_abi, StatAbiEra::V1);
    assert_eq!(p.module_path, "/stand/amd64/7.99.34/modules");
    let row = |n: &str, c, f, r, q: &str| (n.to_string(), c, "builtin", f, r, 0u32, q.to_string());
    assert_eq!(
        full_rows(&env),
        [
            row("ffs", "vfs", "-", 0, "wapbl"),
            row("kernfs", "vfs", "-", 0, ""),
            row("ksem", "misc", "-", 0, ""),
            row("layerfs", "misc", "-", 1, ""),
            row("null", "vfs", "-", 0, "layerfs"),
            row("suser", "secmodel", "-", 0, ""),
            row("tmpfs", "vfs", "-", 0, ""),
            row("wapbl", "vfs", "-", 1, ""),
        ]
    );
    assert_eq!(env.mc.stat().unwrap().abi, StatAbi::V1);
    assert_eq!(env.mc.exists(EXISTS_LOAD), Ok(()));
    assert_eq!(env.mc.exists(EXISTS_AUTOLOAD), Ok(()));
    assert_eq!(
        env.mc.sysctl(Sysctl::ModuleAutoload).unwrap(),
        SysctlValue::Bool(false)
    );

    // §7.2
    env.unload("tmpfs").unwrap();
    let tmpfs = || {
        full_rows(&env)
            .into_iter()
            .find(|r| r.0 == "tmpfs")
            .unwrap()
    };
    assert_eq!(tmpfs(), row("tmpfs", "vfs", "-", -1, ""));
    env.fails_cleanly(Errno::ENOENT, |e| e.unload("tmpfs"));
    env.fails_cleanly(Errno::EPERM, |e| e.load("tmpfs"));
    env.load_with("tmpfs", MODCTL_LOAD_FORCE, Some(EMPTY_PROPS))
        .unwrap();
    assert_eq!(tmpfs(), row("tmpfs", "vfs", "f", 0, ""));
    env.fails_cleanly(Errno::EEXIST, |e| e.load("tmpfs"));
    env.fails_cleanly(Errno::EBUSY, |e| e.unload("wapbl"));
    env.fails_cleanly(Errno::EBUSY, |e| e.unload("layerfs"));

    // §7.3
    env.fails_cleanly(Errno::ENOENT, |e| e.unload("nosuch"));
    env.fails_cleanly(Errno::ENOENT, |e| e.load("nosuch"));
    env.fails_cleanly(Errno::ENOENT, |e| e.load("/nonexistent/foo.kmod"));
    env.fails_cleanly(Errno::ENOENT, |e| e.load(""));
    env.fails_cleanly(Errno::ENOENT, |e| e.unload(""));

    // §7.4: needy pulls in hello as a dependency.
    env.load("needy").unwrap();
    let rows = full_rows(&env);
    let fs_row =
        |n: &str, f, r, s, q: &str| (n.to_string(), "misc", "filesys", f, r, s, q.to_string());
    assert!(rows.contains(&fs_row("hello", "a", 1, 124, "")));
    assert!(rows.contains(&fs_row("needy", "-", 0, 84, "hello")));
}

// ---------------------------------------------------------------------
// Auto-unload

#[test]
fn auto_unload_pass_unloads_expired_dependencies() {
    let mut env = env_with(
        "autounload",
        r#"{"builtins": [], "auto_unload": true, "autotime": 10}"#,
        &std_modules(),
    );
    env.load("needy").unwrap();
    // Pretend the deadline passed long ago.
    let spath = env.dir.path().join(STATE_FILE);
    let mut st = env.state();
    st.active_mut("hello").unwrap().autotime = 1;
    fs::write(&spath, st.to_json()).unwrap();
    // Busy: one attempt, then the deadline is cleared and it stays.
    assert_eq!(env.rows().len(), 2);
    assert_eq!(env.state().active("hello").unwrap().autotime, 0);
    env.unload("needy").unwrap();
    assert_eq!(env.rows().len(), 1);

    // Expired and free: gone at the next call.
    env.unload("hello").unwrap();
    env.load("needy").unwrap();
    env.unload("needy").unwrap();
    let mut st = env.state();
    st.active_mut("hello").unwrap().autotime = 1;
    fs::write(&spath, st.to_json()).unwrap();
    assert!(env.rows().is_empty());

    // autotime 0: no `a` flag, nothing scheduled.
    env.set_profile(r#"{"builtins": [], "auto_unload": true, "autotime": 0}"#);
    env.load("needy").unwrap();
    assert_eq!(env.row("hello").unwrap().flags, 0);
}

// ---------------------------------------------------------------------
// Real module objects (the kmod fixtures)

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../modobj/tests/fixtures")
}

/// A state directory over real objects, with `modules/` of the fixtures
/// as the module directory.
fn real_env(tag: &str, profile: &str) -> Env {
    let dir = TempDir::new(tag);
    fs::write(dir.path().join(PROFILE_FILE), profile).unwrap();
    let p = Profile::from_json(profile).unwrap();
    if p.module_root != profile::DEFAULT_MODULE_ROOT {
        let base = dir
            .path()
            .join(&p.module_root)
            .join(p.module_path.trim_start_matches('/'));
        for entry in fs::read_dir(fixtures().join("modules")).unwrap() {
            let entry = entry.unwrap();
            let name = entry.file_name();
            fs::create_dir_all(base.join(&name)).unwrap();
            let file = Path::new(&name).with_extension("kmod");
            fs::copy(entry.path().join(&file), base.join(&name).join(&file)).unwrap();
        }
    }
    let emul = Emul::open(dir.path()).unwrap();
    Env {
        dir,
        mc: Modctl::new(emul),
        real: true,
    }
}

fn text_size_of(path: &Path) -> u32 {
    modobj::kmod::Kmod::open(path).unwrap().text_size() as u32
}

#[test]
fn a_new_user_loads_the_examples_by_name() {
    let env = real_env("examples", "{}");
    let modules = fixtures().join("modules");
    env.load("example").unwrap();
    env.load("needy").unwrap();
    let example = env.row("example").unwrap();
    let hello = env.row("hello").unwrap();
    let needy = env.row("needy").unwrap();
    assert_eq!((example.flags, example.refcnt, example.source), (0, 0, 2));
    assert_eq!((hello.flags, hello.refcnt), (MODFLG_AUTO_LOADED, 1));
    assert_eq!(
        (needy.flags, needy.refcnt, &needy.required[..]),
        (0, 0, &b"hello"[..])
    );
    assert_eq!(
        example.size,
        text_size_of(&modules.join("example/example.kmod"))
    );
    assert_eq!(hello.size, text_size_of(&modules.join("hello/hello.kmod")));
    assert!(needy.size > 0 && needy.size == text_size_of(&modules.join("needy/needy.kmod")));
    // Plausible, distinct, page-aligned, stable text addresses.
    let addrs = [example.addr, hello.addr, needy.addr];
    assert!(addrs
        .iter()
        .all(|a| a % 4096 == 0 && *a >= 0xffff_ffff_8200_0000));
    assert_eq!(addrs.iter().collect::<BTreeSet<_>>().len(), 3);
    assert_eq!(env.row("needy").unwrap().addr, needy.addr);
    // The installed files are the fixtures.
    let installed = env
        .dir
        .path()
        .join("root/stand/amd64/10.1/modules/hello/hello.kmod");
    assert_eq!(
        fs::read(installed).unwrap(),
        fs::read(modules.join("hello/hello.kmod")).unwrap()
    );
    env.fails_cleanly(Errno::EBUSY, |e| e.unload("hello"));
    env.unload("needy").unwrap();
    env.unload("hello").unwrap();
    env.unload("example").unwrap();
    assert_eq!(env.state().active.len(), 20);
}

#[test]
fn i386_kernels_get_i386_examples() {
    let env = real_env("examples386", r#"{"machine": "i386"}"#);
    env.load("needy").unwrap();
    let hello = env.row("hello").unwrap();
    assert_eq!((hello.flags, hello.refcnt), (MODFLG_AUTO_LOADED, 1));
    assert!(hello.addr >= 0xc200_0000 && hello.addr < 0x1_0000_0000);
}

#[test]
fn real_objects_follow_the_kernel() {
    let env = real_env(
        "realobj",
        r#"{"module_root": "mods", "auto_unload": false}"#,
    );
    env.fails_cleanly(Errno::EPROGMISMATCH, |e| e.load("old93"));
    env.load_with("old93", MODCTL_LOAD_FORCE, Some(EMPTY_PROPS))
        .unwrap();
    env.fails_cleanly(Errno::EDEADLK, |e| e.load("cyc_a"));
    env.fails_cleanly(Errno::EDEADLK, |e| e.load("cyc_b"));
    env.fails_cleanly(Errno::EDEADLK, |e| e.load("selfdep"));
    env.load("chain_a").unwrap();
    assert_eq!(
        env.active_names()[..4],
        ["chain_a", "chain_b", "chain_c", "old93"]
    );
    assert_eq!(env.row("chain_b").unwrap().flags, MODFLG_AUTO_LOADED);
    assert_eq!(env.row("chain_c").unwrap().refcnt, 1);
}

#[test]
fn broken_objects_get_the_kernels_errno() {
    let env = real_env("broken", r#"{"module_root": "mods", "auto_unload": false}"#);
    let amd64 = fixtures().join("amd64");
    let cases = [
        ("no_linkset", Errno::ENOENT),
        ("no_shstrtab", Errno::ENOENT),
        ("linkset_size", Errno::ENOEXEC),
        ("unknown_reloc", Errno::ENOEXEC),
        ("weak", Errno::ENOEXEC),
        ("notext", Errno::ENOEXEC),
        ("et_exec", Errno::ENOEXEC),
        ("et_dyn", Errno::ENOEXEC),
        ("wrong_machine", Errno::ENOEXEC),
        ("bad_ident_version", Errno::ENOEXEC),
        ("no_symtab", Errno::ENOEXEC),
        ("huge_shnum", Errno::ENOEXEC),
        ("truncated", Errno::EINVAL),
        ("truncated_header", Errno::EINVAL),
        ("name32", Errno::EINVAL),
        ("badclass", Errno::EINVAL),
        ("current", Errno::EPROGMISMATCH),
        ("manyreq", Errno::ENOENT),
    ];
    for (file, errno) in cases {
        let path = amd64.join(format!("{file}.kmod"));
        let path = path.to_str().unwrap();
        let before = env.state();
        assert_eq!(env.load(path), Err(errno), "{file}");
        assert_eq!(env.state(), before, "{file} changed the state");
    }
    // A 31-character name and the bufq class are fine on NetBSD 10.
    env.load(amd64.join("name31.kmod").to_str().unwrap())
        .unwrap();
    env.load(amd64.join("bufq.kmod").to_str().unwrap()).unwrap();
    // An empty component ends the required list: only hello is loaded.
    env.load(amd64.join("reqparse.kmod").to_str().unwrap())
        .unwrap();
    assert_eq!(env.state().active("reqparse").unwrap().deps, ["hello"]);
    assert_eq!(
        env.state().active("reqparse").unwrap().required.as_deref(),
        Some(&b",hello,,ignored"[..])
    );
    // A 31-character requirement is refused after hello was loaded.
    env.unload("reqparse").unwrap();
    env.unload("hello").unwrap();
    assert_eq!(
        env.load(amd64.join("longreq.kmod").to_str().unwrap()),
        Err(Errno::EINVAL)
    );
    assert_eq!(env.row("hello").unwrap().flags, MODFLG_AUTO_LOADED);
    // -f overrides the version, nothing else.
    env.load_with(
        amd64.join("current.kmod").to_str().unwrap(),
        MODCTL_LOAD_FORCE,
        None,
    )
    .unwrap();
    let badclass = amd64.join("badclass.kmod");
    assert_eq!(
        env.load_with(badclass.to_str().unwrap(), MODCTL_LOAD_FORCE, None),
        Err(Errno::EINVAL)
    );
}

#[test]
fn real_objects_and_kernel_symbols() {
    let ksyms = fixtures().join("ksyms.o");
    let profile = format!(
        r#"{{"module_root": "mods", "auto_unload": false, "ksyms": "{}"}}"#,
        ksyms.display()
    );
    let env = real_env("realksyms", &profile);
    // printf comes from the kernel, hello_greet from hello.
    env.load("needy").unwrap();
    env.load("example").unwrap();
    assert!(env
        .emul()
        .kernel_symbols()
        .unwrap()
        .unwrap()
        .contains("hello_greet"));
    // A second copy of hello redefines hello_greet: kobj_load refuses it
    // before the module's name is even looked at.
    let copy = env.dir.path().join("copy/hello.kmod");
    fs::create_dir_all(copy.parent().unwrap()).unwrap();
    fs::copy(fixtures().join("modules/hello/hello.kmod"), &copy).unwrap();
    env.fails_cleanly(Errno::ENOEXEC, |e| e.load(copy.to_str().unwrap()));
    assert!(env.emul().last_messages()[0].contains("global symbol `hello_greet' redefined"));

    // A kernel without printf cannot link example.
    let mut env = env;
    fs::write(env.dir.path().join("small.syms"), "memcpy\n").unwrap();
    env.set_profile(r#"{"module_root": "mods", "auto_unload": false, "ksyms": "small.syms"}"#);
    env.unload("example").unwrap();
    env.fails_cleanly(Errno::ENOEXEC, |e| e.load("example"));
    assert!(env
        .emul()
        .last_messages()
        .iter()
        .any(|m| m.contains("symbol `printf' not found")));
    // Without ksyms nothing is checked and the copy is just a duplicate.
    env.set_profile(r#"{"module_root": "mods", "auto_unload": false}"#);
    env.fails_cleanly(Errno::EEXIST, |e| e.load(copy.to_str().unwrap()));
}

// ---------------------------------------------------------------------
// Multi-process tests: the test binary re-runs itself as a worker.

const WORKER_ENV: &str = "MODCTL_EMUL_TEST_WORKER";

/// One call a worker made.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Call {
    op: String,
    arg: String,
    errno: i32,
    serial: u64,
    changed: bool,
    /// For stat: the listing.
    listing: Option<String>,
}

fn listing_of(mc: &Modctl<Emul>) -> String {
    let list = mc.stat().unwrap();
    list.modules
        .iter()
        .map(|m| {
            format!(
                "{}:{}:{}:{}:{:x}",
                m.name, m.flags, m.refcnt as i32, m.size, m.addr
            )
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Performs one operation and reports it.
fn perform(mc: &Modctl<Emul>, op: &str, arg: &str) -> Call {
    let mut listing = None;
    let r = match op {
        "load" => mc
            .load(arg.as_bytes(), 0, Some(EMPTY_PROPS.as_bytes()))
            .map_err(|e| e.errno()),
        "loadf" => mc
            .load(arg.as_bytes(), MODCTL_LOAD_FORCE, None)
            .map_err(|e| e.errno()),
        "unload" => mc.unload(arg.as_bytes()).map_err(|e| e.errno()),
        "stat" => {
            listing = Some(listing_of(mc));
            Ok(())
        }
        _ => panic!("unknown op {op}"),
    };
    let rec = mc.backend().last_call().unwrap();
    Call {
        op: op.into(),
        arg: arg.into(),
        errno: r.err().map_or(0, |e| e.0),
        serial: rec.serial,
        changed: rec.changed,
        listing,
    }
}

const CONC_MODULES: [&str; 6] = ["example", "hello", "needy", "tmpfs", "ffs", "nosuch"];

/// The worker: `MODCTL_EMUL_TEST_WORKER=<mode>:<dir>:<seed>:<count>:<log>`.
#[test]
fn emul_worker() {
    let Ok(spec) = std::env::var(WORKER_ENV) else {
        return;
    };
    let parts: Vec<&str> = spec.split(':').collect();
    let (mode, dir, seed, count, log) = (parts[0], parts[1], parts[2], parts[3], parts[4]);
    let mc = Modctl::new(Emul::open_with(Path::new(dir), Box::new(FakeLoader)).unwrap());
    match mode {
        "mixed" => {
            let mut x: u64 = seed
                .parse::<u64>()
                .unwrap()
                .wrapping_mul(0x9E37_79B9_7F4A_7C15)
                | 1;
            let mut calls = Vec::new();
            for _ in 0..count.parse::<usize>().unwrap() {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let module = CONC_MODULES[(x >> 8) as usize % CONC_MODULES.len()];
                let op = ["load", "unload", "stat", "loadf"][(x >> 20) as usize % 4];
                calls.push(perform(&mc, op, module));
            }
            fs::write(log, serde_json::to_vec_pretty(&calls).unwrap()).unwrap();
        }
        "one" => {
            // Signals the parent through the sync-point hook and waits there.
            perform(&mc, "load", seed);
        }
        _ => panic!("unknown worker mode {mode}"),
    }
}

fn spawn_worker(spec: &str, extra_env: Option<(&str, &Path)>) -> std::process::Child {
    let mut cmd = std::process::Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--exact",
        "tests::emul_worker",
        "--nocapture",
        "--test-threads=1",
    ])
    .env(WORKER_ENV, spec)
    .stdout(std::process::Stdio::null());
    if let Some((k, v)) = extra_env {
        cmd.env(k, v);
    }
    cmd.spawn().unwrap()
}

/// The state with host-specific paths removed, for comparing directories.
fn portable(mut st: State) -> State {
    for m in st.active.iter_mut().chain(st.builtins.iter_mut()) {
        m.path = None;
        m.autotime = 0;
    }
    st
}

#[test]
fn concurrent_processes_match_a_serial_replay() {
    const WORKERS: usize = 4;
    const CALLS: usize = 200;
    let profile = SMALL;
    let env = env_with("conc", profile, &std_modules());
    let logs: Vec<PathBuf> = (0..WORKERS)
        .map(|i| env.dir.path().join(format!("log{i}.json")))
        .collect();
    let children: Vec<_> = (0..WORKERS)
        .map(|i| {
            let spec = format!(
                "mixed:{}:{}:{CALLS}:{}",
                env.dir.path().display(),
                i + 1,
                logs[i].display()
            );
            spawn_worker(&spec, None)
        })
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success(), "a worker failed");
    }
    let mut calls: Vec<Call> = Vec::new();
    for l in &logs {
        let v: Vec<Call> = serde_json::from_slice(&fs::read(l).unwrap()).unwrap();
        assert_eq!(v.len(), CALLS);
        calls.extend(v);
    }
    let final_state = env.state();

    // Every change got its own serial: no update was lost or interleaved.
    let mut changes: Vec<&Call> = calls.iter().filter(|c| c.changed).collect();
    changes.sort_by_key(|c| c.serial);
    let serials: Vec<u64> = changes.iter().map(|c| c.serial).collect();
    assert_eq!(serials, (1..=changes.len() as u64).collect::<Vec<_>>());
    assert_eq!(final_state.serial, changes.len() as u64);
    assert!(
        changes.len() > 50,
        "too few changes to mean anything: {}",
        changes.len()
    );

    // Replay serially: each change in serial order, and each read-only call
    // against the state it saw; every result must be the same.
    let replay = env_with("conc-replay", profile, &std_modules());
    let mut readonly: Vec<&Call> = calls.iter().filter(|c| !c.changed).collect();
    readonly.sort_by_key(|c| c.serial);
    let mut ro = readonly.iter().peekable();
    for s in 0..=changes.len() as u64 {
        if s > 0 {
            let c = changes[s as usize - 1];
            let got = perform(&replay.mc, &c.op, &c.arg);
            assert_eq!(
                (got.errno, got.serial, got.changed),
                (c.errno, s, true),
                "{c:?}"
            );
        }
        while let Some(c) = ro.next_if(|c| c.serial == s) {
            let got = perform(&replay.mc, &c.op, &c.arg);
            assert_eq!(got, **c, "read-only call at serial {s}");
        }
    }
    assert!(ro.next().is_none());
    assert_eq!(portable(replay.state()), portable(final_state));
}

#[test]
fn killed_writer_leaves_the_old_state() {
    let env = small("kill");
    env.load("example").unwrap();
    let before = fs::read(env.dir.path().join(STATE_FILE)).unwrap();
    let marker = env.dir.path().join("at-sync-point");
    let spec = format!("one:{}:needy:1:-", env.dir.path().display());
    let mut child = spawn_worker(&spec, Some((SYNC_HOOK_ENV, &marker)));
    let start = std::time::Instant::now();
    while !marker.exists() {
        if start.elapsed() > std::time::Duration::from_secs(20) {
            let _ = child.kill();
            panic!("worker never reached the sync point");
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    // The new state is written and synced but not yet renamed: kill it.
    let tmp = env.dir.path().join(format!("{STATE_FILE}.tmp"));
    assert!(tmp.exists());
    child.kill().unwrap();
    child.wait().unwrap();

    assert_eq!(fs::read(env.dir.path().join(STATE_FILE)).unwrap(), before);
    assert_eq!(env.active_names()[0], "example");
    assert!(env.state().active("needy").is_none());
    // The lock died with the process; the kernel carries on.
    env.load("needy").unwrap();
    assert_eq!(env.active_names()[..3], ["needy", "hello", "example"]);
    assert!(!tmp.exists());
}

// ---------------------------------------------------------------------
// Boot-loader modules

/// SMALL with these `boot_modules` and extra profile keys.
fn boot_profile(modules: &[&str], extra: &str) -> String {
    let list: Vec<String> = modules.iter().map(|m| format!("{m:?}")).collect();
    SMALL.replace(
        "\"auto_unload\": false}",
        &format!(
            "\"auto_unload\": false, \"boot_modules\": [{}]{extra}}}",
            list.join(", ")
        ),
    )
}

#[test]
fn boots_with_boot_modules_initialised_in_the_any_pass() {
    let env = env_with(
        "bootmods",
        &boot_profile(&["needy", "hello", "example"], ""),
        &std_modules(),
    );
    let st = env.state();
    let boot: Vec<(&str, i32, u32, u32)> = st
        .active
        .iter()
        .filter(|m| !m.is_builtin())
        .map(|m| (m.name.to_str().unwrap(), m.source, m.flags, m.refcnt))
        .collect();
    // needy is taken first and pulls hello off the boot list, as a
    // dependency (autoload path, flagged `a`); example comes last.
    assert_eq!(
        boot,
        [
            ("example", 1, 0, 0),
            ("needy", 1, 0, 0),
            ("hello", 1, MODFLG_AUTO_LOADED, 1)
        ]
    );
    let hello = st.active("hello").unwrap();
    assert!(hello.autotime > 0);
    assert_eq!(hello.addr, 0xffff_ffff_8200_0000);
    assert_eq!(st.active("needy").unwrap().addr, 0xffff_ffff_8200_1000);
    assert_eq!(st.active("needy").unwrap().deps, ["hello"]);
    assert!(st.boot_messages.is_empty(), "{:?}", st.boot_messages);
    // Built-ins first (they were initialised before the boot modules).
    assert_eq!(st.active.last().unwrap().name, "suser");
    let row = env.row("needy").unwrap();
    assert_eq!((row.source, row.size), (1, 84));
}

#[test]
fn boot_modules_unload_for_good_and_reload_from_the_file_system() {
    let env = env_with(
        "bootunload",
        &boot_profile(&["needy", "hello"], ""),
        &std_modules(),
    );
    assert_eq!(env.unload("hello"), Err(Errno::EBUSY));
    env.unload("needy").unwrap();
    env.unload("hello").unwrap();
    assert!(env.row("hello").is_none());
    // Nothing is left on the boot list: the file is read now.
    env.load("hello").unwrap();
    let row = env.row("hello").unwrap();
    assert_eq!((row.source, row.flags), (2, 0));
}

#[test]
fn boot_modules_that_fail_are_dropped_with_the_kernel_message() {
    let mut modules = std_modules();
    modules.push(("ffs", r#"{"name": "ffs"}"#));
    modules.push(("old", r#"{"name": "old", "version": 903000000}"#));
    modules.push(("bad", r#"{"name": "bad"}"#));
    modules.push(("broken", r#"{"name": "broken", "load_errno": 8}"#));
    modules.push(("lonely", r#"{"name": "lonely", "required": "needy"}"#));
    let env = env_with(
        "bootfail",
        &boot_profile(
            &["ffs", "old", "bad", "nosuch", "broken", "hello", "lonely"],
            r#", "fail_init": {"bad": "ENXIO"}"#,
        ),
        &modules,
    );
    let booted: Vec<String> = env
        .state()
        .active
        .iter()
        .filter(|m| !m.is_builtin())
        .map(|m| m.name.to_string())
        .collect();
    assert_eq!(booted, ["hello"]);
    let log = env.emul().boot_messages().unwrap();
    let expect = [
        "WARNING: couldn't open nosuch (/stand/amd64/10.1/modules/nosuch/nosuch.kmod)",
        "WARNING: 1 module failed to load",
        "WARNING: module error: module `ffs' pushed by boot loader already exists",
        "WARNING: module error: unable to load `broken' pushed by boot loader, error 8",
        "WARNING: module error: module `old' built for `903000000', system `1001000000'",
        "WARNING: module error: modcmd(CMD_INIT) failed for `bad', error 6",
        "WARNING: module error: recursive load failed for `lonely' (`needy' required), error 45",
    ];
    assert_eq!(log, expect);
    // The call that booted reports them as its messages.
    assert_eq!(env.emul().last_messages(), expect);
    // Opened again, nothing boots twice.
    let again = Emul::open_with(env.dir.path(), Box::new(FakeLoader)).unwrap();
    assert!(again.last_messages().is_empty());
    assert_eq!(again.boot_messages().unwrap(), expect);
}

#[test]
fn boot_module_symbols_are_checked_against_the_kernel_when_known() {
    let dir = TempDir::new("bootksyms");
    let profile = boot_profile(&["example", "user"], r#", "ksyms": "ksyms.txt""#);
    fs::write(dir.path().join(PROFILE_FILE), &profile).unwrap();
    fs::write(
        dir.path().join("ksyms.txt"),
        format!("{FAKE_KSYMS}printf\n"),
    )
    .unwrap();
    let p = Profile::from_json(&profile).unwrap();
    put_module(
        dir.path(),
        &p,
        "example",
        r#"{"name": "example", "globals": ["printf"]}"#,
    );
    put_module(
        dir.path(),
        &p,
        "user",
        r#"{"name": "user", "undefined": ["printf", "example_hook"]}"#,
    );
    let e = Emul::open_with(dir.path(), Box::new(FakeLoader)).unwrap();
    let log = e.boot_messages().unwrap();
    assert!(
        log[0].contains("global symbol `printf' redefined"),
        "{log:?}"
    );
    assert!(
        log.iter()
            .any(|l| l.contains("symbol `example_hook' not found")),
        "{log:?}"
    );
    assert!(e.state().unwrap().active.iter().all(|m| m.is_builtin()));
}

#[test]
fn programs_without_a_loader_still_boot_with_boot_modules() {
    let dir = TempDir::new("bootnoloader");
    fs::write(
        dir.path().join(PROFILE_FILE),
        r#"{"boot_modules": ["needy", "hello"], "auto_unload": false}"#,
    )
    .unwrap();
    // The bundled examples are installed before the boot loader looks.
    let e = Emul::open_without_loader(dir.path()).unwrap();
    let mc = Modctl::new(e);
    let rows: Vec<(String, i32, u32)> = mc
        .stat()
        .unwrap()
        .modules
        .into_iter()
        .filter(|m| m.source == 1)
        .map(|m| (m.name.to_string(), m.source, m.flags))
        .collect();
    assert_eq!(
        rows,
        [
            ("needy".to_string(), 1, 0),
            ("hello".to_string(), 1, MODFLG_AUTO_LOADED)
        ]
    );
}

/// Names are bytes: builtins named and required by bytes that are not
/// UTF-8 boot, list, unload and reinstate by exactly those bytes, through
/// state.json between every call.
#[test]
fn names_that_are_not_utf8_are_kept_as_bytes() {
    let env = env_with(
        "bytenames",
        r#"{"builtins": [
            {"name": [255], "class": "misc"},
            {"name": "holder", "class": "misc", "requires": [[255]]}],
          "auto_unload": false}"#,
        &[],
    );
    let unload = |name: &[u8]| env.mc.unload(name).map_err(|e| e.errno());
    let ff = env.row("\u{fffd}");
    assert!(ff.is_none(), "no module is named U+FFFD");
    let mods = env.mc.stat().unwrap().modules;
    let ff = mods.iter().find(|m| m.name == b"\xff"[..]).unwrap();
    assert_eq!(ff.refcnt, 1);
    let holder = mods.iter().find(|m| m.name == "holder").unwrap();
    assert_eq!(holder.required, b"\xff");
    assert_eq!(env.state().active("holder").unwrap().deps, [&b"\xff"[..]]);
    assert_eq!(unload("\u{fffd}".as_bytes()), Err(Errno::ENOENT));
    assert_eq!(unload(b"\xff"), Err(Errno::EBUSY));
    unload(b"holder").unwrap();
    unload(b"\xff").unwrap();
    let st = env.state();
    assert!(st.active(b"\xff").is_none());
    assert!(st.builtins.iter().any(|m| m.name == b"\xff"[..]));
    assert_eq!(
        env.mc.load(b"\xff", 0, None).map_err(|e| e.errno()),
        Err(Errno::EPERM)
    );
    env.mc.load(b"\xff", MODCTL_LOAD_FORCE, None).unwrap();
    assert!(env.state().active(b"\xff").is_some());
}
