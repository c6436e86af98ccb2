//! modload(8): load a kernel module, as NetBSD's r1.15, plus `-n` (dry run),
//! `--json` for the dry run's report, and `-n --boot-cfg FILE` (what the
//! next boot would do with the modules a boot.cfg names), and `-n --kernel
//! FILE [--root DIR] module ...` (would a fresh boot of that kernel image
//! load each module).
//!
//! Two programs share this command line: `modload`, and `modload-check`,
//! which `modload` runs (with its own arguments) for `--boot-cfg` and
//! `--kernel`. The checks' code (the boot.cfg reader, the kernel image
//! reader and their reports) is then only in `modload-check`, which keeps
//! `modload` within its size guard (bench/README.md).

use std::ffi::OsString;
use std::process::ExitCode;

use libmodctl::abi::{MODCTL_LOAD_FORCE, MODCTL_NO_PROP};
use libmodctl::plist::{Dict, Value};
use libmodctl::Errno;
use modtools::explain::{bootcfg, diagnose, dryrun, release};
use modtools::getopt::{self as cli, Getopt};
use modtools::msg::{self, errx};
use modtools::params;
use modtools::propfile;

const OPTSTRING: &str = "Pb:d:fi:m:nps:";

pub fn usage(prog: &str) -> ExitCode {
    let text = format!(
        "Usage: {prog} [-fP] [-b var=boolean] [-i var=integer] [-s var=string] module\n       \
         {prog} -p [-b var=boolean] [-d var] [-i var=integer] [-m plist]\n               \
         [-s var=string]\n"
    );
    msg::stderr(text.as_bytes());
    ExitCode::FAILURE
}

/// `what `arg'` as NetBSD's messages quote an argument, bytes as given.
fn quoted(what: &str, arg: &[u8]) -> Vec<u8> {
    let mut m = format!("{what} `").into_bytes();
    m.extend_from_slice(arg);
    m.push(b'\'');
    m
}

/// Parses one `-b`/`-i`/`-s` argument into the dictionary, or says why not.
fn add_property(dict: &mut Dict, letter: char, arg: &[u8]) -> Result<(), Vec<u8>> {
    let (key, value) = params::split_param(arg).ok_or_else(|| quoted("Invalid parameter", arg))?;
    let value = match letter {
        'b' => Value::Bool(
            params::parse_bool(value).ok_or_else(|| quoted("Invalid boolean value", value))?,
        ),
        'i' => Value::Int(params::dehumanize_number(value).map_err(|e: Errno| {
            let mut m = quoted("Invalid integer value", value);
            m.extend_from_slice(format!(": {e}").as_bytes());
            m
        })?),
        _ => Value::String(value.to_vec()),
    };
    // Like NetBSD, a key proplib cannot store (over 128 bytes) is dropped.
    dict.set(key.to_vec(), value);
    Ok(())
}

/// A report of the dry run, the boot check or the release check.
trait Report {
    fn to_text(&self) -> String;
    fn to_json(&self) -> String;
    fn would_load(&self) -> bool;
}

macro_rules! report {
    ($($t:ty),*) => {$(
        impl Report for $t {
            fn to_text(&self) -> String {
                <$t>::to_text(self)
            }
            fn to_json(&self) -> String {
                <$t>::to_json(self)
            }
            fn would_load(&self) -> bool {
                <$t>::would_load(self)
            }
        }
    )*};
}
report!(dryrun::Report, bootcfg::Report, release::ReleaseReport);

/// A report on stdout, as text or JSON; exit 0 when everything would
/// load and the report was written whole.
fn print_report(a: &Args, report: &dyn Report) -> ExitCode {
    let out = if a.json {
        report.to_json()
    } else {
        report.to_text()
    };
    if let Err(code) = msg::stdout_checked(&a.prog, out.as_bytes()) {
        return code;
    }
    if report.would_load() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// The command line, parsed.
pub struct Args {
    pub prog: String,
    pub dict: Dict,
    pub flags: i32,
    pub output_mode: bool,
    pub dry_run: bool,
    pub merge_file: Option<OsString>,
    pub deletes: Vec<Vec<u8>>,
    pub boot_cfg: Option<OsString>,
    pub kernel_image: Option<OsString>,
    pub root: Option<OsString>,
    pub json: bool,
    pub operands: Vec<OsString>,
}

/// Takes out the long options (which NetBSD's modload does not have),
/// then parses the rest as NetBSD's getopt does. `Err` is the exit
/// status, the message printed.
pub fn parse_args(args: &[OsString]) -> Result<Args, ExitCode> {
    let prog = cli::progname(args.first().map(|a| a.as_os_str()).unwrap_or_default());
    let mut rest = args.get(1..).unwrap_or_default().to_vec();
    let mut long_values = Vec::new();
    for name in ["--boot-cfg", "--kernel", "--root"] {
        match cli::remove_long_option(&rest, OPTSTRING, name) {
            Ok((r, v)) => {
                rest = r;
                long_values.push(v);
            }
            Err(name) => {
                msg::warnx(
                    &prog,
                    format!("option requires an argument -- {name}").as_bytes(),
                );
                return Err(usage(&prog));
            }
        }
    }
    let (rest, json) = cli::remove_long_flag(&rest, OPTSTRING, "--json");
    let mut a = Args {
        prog,
        dict: Dict::new(),
        flags: 0,
        output_mode: false,
        dry_run: false,
        merge_file: None,
        deletes: Vec::new(),
        boot_cfg: long_values[0].take(),
        kernel_image: long_values[1].take(),
        root: long_values[2].take(),
        json,
        operands: Vec::new(),
    };
    let mut opts = Getopt::new(&rest, OPTSTRING);
    while let Some(opt) = opts.next_opt() {
        let o = match opt {
            Ok(o) => o,
            Err(e) => {
                msg::getopt_error(&a.prog, &e);
                return Err(usage(&a.prog));
            }
        };
        let arg = o
            .arg
            .as_ref()
            .map(|a| a.as_encoded_bytes())
            .unwrap_or_default();
        match o.letter {
            'P' => a.flags |= MODCTL_NO_PROP,
            'f' => a.flags |= MODCTL_LOAD_FORCE,
            'p' => a.output_mode = true,
            'n' => a.dry_run = true,
            'm' => a.merge_file = o.arg.clone(),
            'd' => a.deletes.push(arg.to_vec()),
            'b' | 'i' | 's' => {
                if let Err(msg) = add_property(&mut a.dict, o.letter, arg) {
                    return Err(errx(&a.prog, &msg));
                }
            }
            _ => return Err(usage(&a.prog)),
        }
    }
    a.operands = opts.operands().to_vec();
    Ok(a)
}

/// `-p`: the property list on standard output. Operands are not looked
/// at, and no kernel is needed.
pub fn output_mode(a: &Args) -> ExitCode {
    let out = match &a.merge_file {
        Some(file) => {
            let mut merged = match propfile::read_dictionary(file.as_ref()) {
                Some(d) => d,
                None => return errx(&a.prog, b"Failed to read existing property list"),
            };
            merged.merge(&a.dict);
            for key in &a.deletes {
                merged.remove(key);
            }
            merged.externalize()
        }
        None => a.dict.externalize(),
    };
    // NetBSD's modload does not check this write; a property list cut
    // short by a full disk is worse than an exit status NetBSD's would
    // not give, so a failed write is exit 1 here.
    match msg::stdout_checked(&a.prog, &out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(code) => code,
    }
}

/// `-n --kernel FILE [--root DIR] module ...`: a release's modules
/// against its kernel image.
pub fn release_check(a: &Args) -> ExitCode {
    let plain = a.flags == 0 && a.dict.is_empty() && a.boot_cfg.is_none();
    let (Some(image), true, true, false) =
        (&a.kernel_image, a.dry_run, plain, a.operands.is_empty())
    else {
        return errx(
            &a.prog,
            b"--kernel FILE [--root DIR] checks modules against a kernel image: use it with \
              -n and one or more modules, without -f, -P, -b, -i, -s or --boot-cfg",
        );
    };
    let root = a.root.clone().unwrap_or_else(|| "/".into());
    let operands: Vec<&[u8]> = a.operands.iter().map(|o| o.as_encoded_bytes()).collect();
    let report = match release::check(image.as_ref(), root.as_ref(), &operands) {
        Ok(r) => r,
        Err(why) => return errx(&a.prog, why.as_bytes()),
    };
    print_report(a, &report)
}

/// `-n --boot-cfg FILE`: what the next boot does with its modules.
pub fn boot_cfg_check(a: &Args, file: &OsString) -> ExitCode {
    if !a.dry_run || !a.operands.is_empty() {
        return errx(
            &a.prog,
            b"--boot-cfg FILE checks a boot configuration: use it with -n and no module",
        );
    }
    let kernel = match msg::connect(&a.prog, "prog init failed") {
        Ok(k) => k,
        Err(code) => return code,
    };
    let report = match bootcfg::check(&kernel, std::path::Path::new(file)) {
        Ok(r) => r,
        Err(why) => return errx(&a.prog, why.as_bytes()),
    };
    print_report(a, &report)
}

/// Loads `module`, or with `-n` says what loading it would do.
pub fn load(a: &Args, module: &[u8]) -> ExitCode {
    let prog = &a.prog;
    let kernel = match msg::connect(prog, "prog init failed") {
        Ok(k) => k,
        Err(code) => return code,
    };
    if a.dry_run {
        let report = dryrun::dry_run(&kernel, module, a.flags, &a.dict);
        return print_report(a, &report);
    }

    // Refuse what the kernel certainly would, without touching it. (Not
    // for a rump kernel: it opens files in its own namespace, not ours.)
    if let Some(refusal) = diagnose::prevalidate(&kernel, module, a.flags) {
        msg::warnx(prog, refusal.errno.to_string().as_bytes());
        msg::warn_operand(prog, module, &refusal.finding.to_string());
        return ExitCode::FAILURE;
    }

    let props = a.dict.externalize();
    if let Err(e) = kernel.modctl().load(module, a.flags, Some(&props)) {
        msg::warnx(prog, e.errno().to_string().as_bytes());
        if let Some(reason) = diagnose::load(&kernel, module, a.flags, &a.dict, e.errno()) {
            msg::warn_operand(prog, module, &reason);
        }
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

/// The program that runs the boot and release checks, beside this one.
pub const CHECKER: &str = "modload-check";

/// `--boot-cfg` and `--kernel` in `modload`: runs [`CHECKER`] from the
/// directory `modload` itself was run from, with the same arguments and
/// `argv[0]` (so its messages and its choice of kernel, rump or not, are
/// `modload`'s). Returns only when it cannot be run.
pub fn run_checker(prog: &str, args: &[OsString]) -> ExitCode {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let path = match std::env::current_exe() {
        Ok(exe) => exe.with_file_name(CHECKER),
        Err(e) => {
            let why = format!("cannot find {CHECKER}: {}", Errno::from_io(&e));
            return errx(prog, why.as_bytes());
        }
    };
    // execv(2) itself: std's process spawning would add 20 KB to modload.
    // An argument cannot hold a NUL, so none is lost here.
    let c = |b: &[u8]| CString::new(b).unwrap_or_default();
    let file = c(path.as_os_str().as_bytes());
    let argv: Vec<CString> = args.iter().map(|a| c(a.as_bytes())).collect();
    let mut ptrs: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
    ptrs.push(std::ptr::null());
    // SAFETY: `file` and every pointer in `ptrs` point to NUL-terminated
    // strings that outlive the call, and `ptrs` ends with a null pointer,
    // as execv(2) requires. It returns only on failure.
    unsafe { libc::execv(file.as_ptr(), ptrs.as_ptr()) };
    let why = format!(
        "cannot run {} (the boot and release checks): {}",
        path.display(),
        Errno::from_io(&std::io::Error::last_os_error())
    );
    errx(prog, why.as_bytes())
}
