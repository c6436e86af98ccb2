//! modload(8): load a kernel module, as NetBSD's r1.15, plus `-n` (dry run),
//! `--json` for the dry run's report, and `-n --boot-cfg FILE` (what the
//! next boot would do with the modules a boot.cfg names), and `-n --kernel
//! FILE [--root DIR] module ...` (would a fresh boot of that kernel image
//! load each module).

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

fn usage(prog: &str) -> ExitCode {
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

/// A dry run's report on stdout; exit 0 when everything would load and
/// the report was written whole.
fn print_report(prog: &str, out: &str, would_load: bool) -> ExitCode {
    if let Err(code) = msg::stdout_checked(prog, out.as_bytes()) {
        return code;
    }
    if would_load {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().collect();
    let prog = cli::progname(args.first().map(|a| a.as_os_str()).unwrap_or_default());
    let (rest, boot_cfg) =
        match cli::remove_long_option(args.get(1..).unwrap_or_default(), OPTSTRING, "--boot-cfg") {
            Ok(v) => v,
            Err(name) => {
                msg::warnx(
                    &prog,
                    format!("option requires an argument -- {name}").as_bytes(),
                );
                return usage(&prog);
            }
        };
    let mut long_values = Vec::new();
    let mut rest = rest;
    for name in ["--kernel", "--root"] {
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
                return usage(&prog);
            }
        }
    }
    let (kernel_image, root) = (long_values[0].take(), long_values[1].take());
    let (rest, json) = cli::remove_long_flag(&rest, OPTSTRING, "--json");

    let mut dict = Dict::new();
    let mut flags = 0;
    let mut output_mode = false;
    let mut dry_run = false;
    let mut merge_file: Option<OsString> = None;
    let mut deletes: Vec<Vec<u8>> = Vec::new();
    let mut opts = Getopt::new(&rest, OPTSTRING);
    while let Some(opt) = opts.next_opt() {
        let o = match opt {
            Ok(o) => o,
            Err(e) => {
                msg::getopt_error(&prog, &e);
                return usage(&prog);
            }
        };
        let arg = o
            .arg
            .as_ref()
            .map(|a| a.as_encoded_bytes())
            .unwrap_or_default();
        match o.letter {
            'P' => flags |= MODCTL_NO_PROP,
            'f' => flags |= MODCTL_LOAD_FORCE,
            'p' => output_mode = true,
            'n' => dry_run = true,
            'm' => merge_file = o.arg.clone(),
            'd' => deletes.push(arg.to_vec()),
            'b' | 'i' | 's' => {
                if let Err(msg) = add_property(&mut dict, o.letter, arg) {
                    return errx(&prog, &msg);
                }
            }
            _ => return usage(&prog),
        }
    }

    if output_mode {
        // Operands are not looked at, and no kernel is needed.
        let out = match merge_file {
            Some(file) => {
                let mut merged = match propfile::read_dictionary(file.as_ref()) {
                    Some(d) => d,
                    None => return errx(&prog, b"Failed to read existing property list"),
                };
                merged.merge(&dict);
                for key in &deletes {
                    merged.remove(key);
                }
                merged.externalize()
            }
            None => dict.externalize(),
        };
        // NetBSD's modload does not check this write; a property list cut
        // short by a full disk is worse than an exit status NetBSD's
        // would not give, so a failed write is exit 1 here.
        return match msg::stdout_checked(&prog, &out) {
            Ok(()) => ExitCode::SUCCESS,
            Err(code) => code,
        };
    }

    if kernel_image.is_some() || root.is_some() {
        let plain = flags == 0 && dict.is_empty() && boot_cfg.is_none();
        let (Some(image), true, true, false) =
            (kernel_image, dry_run, plain, opts.operands().is_empty())
        else {
            return errx(
                &prog,
                b"--kernel FILE [--root DIR] checks modules against a kernel image: use it with \
                  -n and one or more modules, without -f, -P, -b, -i, -s or --boot-cfg",
            );
        };
        let root = root.unwrap_or_else(|| "/".into());
        let operands: Vec<&[u8]> = opts
            .operands()
            .iter()
            .map(|o| o.as_encoded_bytes())
            .collect();
        let report = match release::check(image.as_ref(), root.as_ref(), &operands) {
            Ok(r) => r,
            Err(why) => return errx(&prog, why.as_bytes()),
        };
        let out = if json {
            report.to_json()
        } else {
            report.to_text()
        };
        return print_report(&prog, &out, report.would_load());
    }

    if let Some(file) = boot_cfg {
        if !dry_run || !opts.operands().is_empty() {
            return errx(
                &prog,
                b"--boot-cfg FILE checks a boot configuration: use it with -n and no module",
            );
        }
        let kernel = match msg::connect(&prog, "prog init failed") {
            Ok(k) => k,
            Err(code) => return code,
        };
        let report = match bootcfg::check(&kernel, std::path::Path::new(&file)) {
            Ok(r) => r,
            Err(why) => return errx(&prog, why.as_bytes()),
        };
        let out = if json {
            report.to_json()
        } else {
            report.to_text()
        };
        return print_report(&prog, &out, report.would_load());
    }

    let [module] = opts.operands() else {
        return usage(&prog);
    };
    let module = module.as_encoded_bytes();

    let kernel = match msg::connect(&prog, "prog init failed") {
        Ok(k) => k,
        Err(code) => return code,
    };
    let props = dict.externalize();

    if dry_run {
        let report = dryrun::dry_run(&kernel, module, flags, &dict);
        let out = if json {
            report.to_json()
        } else {
            report.to_text()
        };
        return print_report(&prog, &out, report.would_load());
    }

    // Refuse what the kernel certainly would, without touching it. (Not
    // for a rump kernel: it opens files in its own namespace, not ours.)
    if let Some(refusal) = diagnose::prevalidate(&kernel, module, flags) {
        msg::warnx(&prog, refusal.errno.to_string().as_bytes());
        msg::warn_operand(&prog, module, &refusal.reason);
        return ExitCode::FAILURE;
    }

    if let Err(e) = kernel.modctl().load(module, flags, Some(&props)) {
        msg::warnx(&prog, e.errno().to_string().as_bytes());
        if let Some(reason) = diagnose::load(&kernel, module, flags, &dict, e.errno()) {
            msg::warn_operand(&prog, module, &reason);
        }
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
