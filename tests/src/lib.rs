//! Helpers for the end-to-end tests: run the built tools against an
//! emulated NetBSD kernel in a temporary state directory, directly or
//! through the rump stand-in library.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The directory holding the built binaries (`target/<profile>`).
pub fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    // target/<profile>/deps/<test> -> target/<profile>
    exe.parent()
        .and_then(Path::parent)
        .expect("target directory")
        .to_path_buf()
}

/// The path of a built tool: from `MODCTL_TEST_BINDIR` when set (to test
/// the binaries `make install` installs, from target/dist), else the ones
/// cargo built for this test run.
pub fn bin(name: &str) -> PathBuf {
    let dir = std::env::var_os("MODCTL_TEST_BINDIR").map_or_else(target_dir, PathBuf::from);
    let p = dir.join(name);
    assert!(
        p.exists(),
        "{} is not built; run `cargo test --workspace`",
        p.display()
    );
    p
}

/// The stand-in librumpclient. `cargo test` does not build cdylib crates,
/// so its shared object is built here once per test process (cargo does
/// not hold its build lock while tests run; an up-to-date one is not
/// rebuilt, a stale one from older sources is).
pub fn rumpstub() -> PathBuf {
    // Tests run on several threads and share it: a OnceLock.
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            let so = target_dir().join("librumpstub.so");
            {
                let target = target_dir()
                    .parent()
                    .expect("target directory")
                    .to_path_buf();
                let mut cargo = Command::new(env!("CARGO"));
                cargo.args(["build", "--quiet", "-p", "rumpstub"]);
                if target_dir().ends_with("release") {
                    cargo.arg("--release");
                }
                let status = cargo
                    .arg("--manifest-path")
                    .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.toml"))
                    .env("CARGO_TARGET_DIR", target)
                    .status()
                    .expect("run cargo to build the rump stand-in library");
                assert!(status.success(), "building rumpstub failed");
            }
            so
        })
        .clone()
}

/// What a finished command printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    pub stdout: String,
    pub stderr: String,
    pub status: i32,
}

impl Output {
    /// The first stderr line (NetBSD's), without its newline.
    pub fn first_err(&self) -> &str {
        self.stderr.lines().next().unwrap_or("")
    }
}

/// How the tools reach the emulated kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// `MODCTL_EMUL` with the plain program names.
    Emul,
    /// `rump.<tool>` names, the stand-in librumpclient and `RUMP_SERVER`.
    Rump,
}

/// An emulated kernel in a fresh directory.
pub struct EmulatedKernel {
    pub dir: tempfile::TempDir,
    pub via: Via,
    bindir: tempfile::TempDir,
}

impl EmulatedKernel {
    /// A kernel with the default profile.
    pub fn new(via: Via) -> EmulatedKernel {
        let k = EmulatedKernel {
            dir: tempfile::tempdir().unwrap(),
            via,
            bindir: tempfile::tempdir().unwrap(),
        };
        for tool in ["modload", "modunload", "modstat"] {
            std::os::unix::fs::symlink(bin(tool), k.bindir.path().join(format!("rump.{tool}")))
                .unwrap();
        }
        std::os::unix::fs::symlink(rumpstub(), k.bindir.path().join("librumpclient.so.0")).unwrap();
        k
    }

    /// A kernel whose profile.json is `profile` (other keys default).
    pub fn with_profile(via: Via, profile: &str) -> EmulatedKernel {
        let k = EmulatedKernel::new(via);
        std::fs::write(k.dir.path().join("profile.json"), profile).unwrap();
        k
    }

    pub fn state_dir(&self) -> &Path {
        self.dir.path()
    }

    /// The name a tool is invoked as (`modload` or `rump.modload`).
    pub fn prog(&self, tool: &str) -> String {
        match self.via {
            Via::Emul => tool.to_string(),
            Via::Rump => format!("rump.{tool}"),
        }
    }

    /// A command for `tool` set up to reach this kernel.
    pub fn command(&self, tool: &str) -> Command {
        let mut c = match self.via {
            Via::Emul => Command::new(bin(tool)),
            Via::Rump => {
                let mut c = Command::new(self.bindir.path().join(format!("rump.{tool}")));
                c.env("LD_LIBRARY_PATH", self.bindir.path())
                    .env("RUMP_SERVER", "unix://emulated");
                c
            }
        };
        c.env("MODCTL_EMUL", self.dir.path())
            .env_remove("RUST_BACKTRACE")
            .stdin(Stdio::null());
        c
    }

    /// Runs `tool args...` and collects its output.
    pub fn run<S: AsRef<OsStr>>(&self, tool: &str, args: &[S]) -> Output {
        let out = self.command(tool).args(args).output().expect("run tool");
        Output {
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            status: out.status.code().unwrap_or(-1),
        }
    }

    /// Fills `{modload}`, `{modunload}` and `{modstat}` in an expected
    /// text with the names the tools run as, so one text serves both ways
    /// of reaching the kernel.
    pub fn expect(&self, text: &str) -> String {
        text.replace("{modload}", &self.prog("modload"))
            .replace("{modunload}", &self.prog("modunload"))
            .replace("{modstat}", &self.prog("modstat"))
    }
}

/// Where the committed fixture modules are.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../modobj/tests/fixtures")
        .canonicalize()
        .expect("fixtures directory")
}

/// xorshift64*: small, seedable, good enough to pick operations and to
/// generate cases; every randomised test prints its seed on failure.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number below `n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// An index below `n`.
    pub fn index(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// True `percent` times in a hundred.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }
}

/// `__NetBSD_Version__` placeholder in the template fixture, found and
/// overwritten by [`template_module`].
const TEMPLATE_VERSION: u32 = 0x7e3a_1b2c;

/// A module file made from the template fixture (`amd64/template.kmod`,
/// built from `template.c`): its name, `mi_required`, class and version
/// overwritten where the template keeps them.
pub fn template_module(name: &str, required: &str, class: i32, version: u32) -> Vec<u8> {
    let mut d = std::fs::read(fixtures().join("amd64/template.kmod")).expect("template.kmod");
    let put = |d: &mut Vec<u8>, marker: &[u8], size: usize, value: &str| {
        let at = d
            .windows(marker.len())
            .position(|w| w == marker)
            .expect("marker in the template");
        assert!(value.len() < size);
        d[at..at + size].fill(0);
        d[at..at + value.len()].copy_from_slice(value.as_bytes());
    };
    put(&mut d, b"TMPL_NAME_", 16, name);
    put(&mut d, b"TMPL_REQUIRED_", 64, required);
    let v = TEMPLATE_VERSION.to_le_bytes();
    let at = d.windows(4).position(|w| w == v).expect("version");
    d[at..at + 4].copy_from_slice(&version.to_le_bytes());
    d[at + 4..at + 8].copy_from_slice(&class.to_le_bytes());
    d
}

/// An absolute path of exactly `len` bytes, in components short enough
/// for namei, naming nothing.
pub fn path_of_len(len: usize) -> String {
    let mut p = String::from("/");
    while p.len() < len {
        let part = (len - p.len()).min(200);
        p.push_str(&"d".repeat(part.saturating_sub(1)));
        p.push('/');
    }
    p.truncate(len);
    p
}
