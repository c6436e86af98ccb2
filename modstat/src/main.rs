//! modstat(8): display the status of kernel modules, as NetBSD's r1.24.

use std::ffi::OsString;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::process::ExitCode;

use libmodctl::abi::{class_name, flag_name, source_name, EXISTS_AUTOLOAD, EXISTS_LOAD};
use libmodctl::backend::{Backend, Sysctl, SysctlValue};
use libmodctl::modctl::Modctl;
use libmodctl::stat::ModStat;
use libmodctl::Errno;
use modtools::getopt::{self as cli, Getopt};
use modtools::{json, msg};

const OPTSTRING: &str = "Aaekn:";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Query {
    Autoload,
    AutoloadIgnoringSysctl,
    Load,
}

fn usage(prog: &str) -> ExitCode {
    msg::stderr(format!("Usage: {prog} [-Aaen] [name]\n").as_bytes());
    ExitCode::FAILURE
}

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().collect();
    let prog = cli::progname(args.first().map(|a| a.as_os_str()).unwrap_or_default());
    let (rest, json) =
        cli::remove_long_flag(args.get(1..).unwrap_or_default(), OPTSTRING, "--json");

    let mut query = None;
    let mut show_addr = false;
    let mut name: Option<OsString> = None;
    let mut opts = Getopt::new(&rest, OPTSTRING);
    while let Some(opt) = opts.next_opt() {
        match opt {
            Ok(o) => match o.letter {
                'A' => query = Some(Query::Autoload),
                'a' => query = Some(Query::AutoloadIgnoringSysctl),
                'e' => query = Some(Query::Load),
                'k' => show_addr = true,
                'n' => name = o.arg,
                _ => return usage(&prog),
            },
            Err(e) => {
                msg::getopt_error(&prog, &e);
                return usage(&prog);
            }
        }
    }
    match (opts.operands(), &name) {
        ([], _) => {}
        ([one], None) => name = Some(one.clone()),
        _ => return usage(&prog),
    }

    let kernel = match msg::connect_without_loader(&prog, "prog init failed") {
        Ok(k) => k,
        Err(code) => return code,
    };
    let mc = kernel.modctl();

    if let Some(q) = query {
        return run_query(&prog, mc, q);
    }

    let list = match mc.stat() {
        Ok(l) => l,
        Err(e) => {
            msg::warnx(
                &prog,
                format!("modctl(MODCTL_STAT): {}", e.errno()).as_bytes(),
            );
            if let Some(why) = kernel.failure_detail() {
                msg::warnx(&prog, why.as_bytes());
            }
            return ExitCode::FAILURE;
        }
    };
    // The operand's bytes as given: names are compared with them exactly.
    let filter = name.as_ref().map(|n| n.as_bytes());
    if json {
        // The extension's document is relied on whole: a failed write is
        // exit 1.
        let out = json::stat_listing(&list, filter).into_bytes();
        return match msg::stdout_checked(&prog, &out) {
            Ok(()) => ExitCode::SUCCESS,
            Err(code) => code,
        };
    }
    // NetBSD's modstat does not check its printf's either (exit 0 after
    // a failed write); the compatible listing keeps that.
    msg::stdout(&listing(&list.modules, filter, show_addr));
    ExitCode::SUCCESS
}

/// `-A`, `-a`, `-e`: every answer goes to stderr with the program's name.
fn run_query<B: Backend>(prog: &str, mc: &Modctl<B>, q: Query) -> ExitCode {
    let which = if q == Query::Load {
        EXISTS_LOAD
    } else {
        EXISTS_AUTOLOAD
    };
    match mc.exists(which) {
        Ok(()) => {}
        Err(Errno::ENOSYS) => {
            msg::warnx(prog, b"The kernel was compiled without options MODULAR.");
            return ExitCode::FAILURE;
        }
        Err(Errno::EPERM) => {
            if q == Query::Load {
                msg::warnx(prog, b"You are not allowed to load modules right now.");
            } else {
                msg::warnx(prog, b"Modules can not be autoloaded right now.");
            }
            return ExitCode::FAILURE;
        }
        Err(e) => {
            // NetBSD prints the autoload text for -e too.
            msg::warnx(prog, format!("modctl_exists for autoload: {e}").as_bytes());
            return ExitCode::FAILURE;
        }
    }
    if q == Query::Load {
        msg::warnx(prog, b"You can load modules.");
        return ExitCode::SUCCESS;
    }
    let mut enabled = true;
    if q == Query::Autoload {
        match mc.sysctl(Sysctl::ModuleAutoload) {
            Ok(v) => enabled = !matches!(v, SysctlValue::Bool(false) | SysctlValue::Int(0)),
            Err(e) => {
                msg::warnx(
                    prog,
                    format!("sysctl kern.module.autoload failed.: {e}").as_bytes(),
                );
                return ExitCode::FAILURE;
            }
        }
    }
    let but = if enabled {
        ""
    } else {
        ", but kern.module.autoload = 0"
    };
    msg::warnx(prog, format!("Modules can be autoloaded{but}.").as_bytes());
    ExitCode::SUCCESS
}

/// The r1.24 listing: sorted by name, NAME as wide as the longest name of
/// all modules (at least 16), REFS and SIZE right-aligned. Bytes, as
/// printf's `%s` writes them: names and required lists are not decoded.
fn listing(mods: &[ModStat], filter: Option<&[u8]>, show_addr: bool) -> Vec<u8> {
    let mut sorted: Vec<&ModStat> = mods.iter().collect();
    // strcmp order: the bytes'.
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    let width = mods.iter().map(|m| m.name.len()).max().unwrap_or(0).max(16);
    // Written into one buffer (a Vec's io::Write cannot fail): a
    // listing may have thousands of rows.
    let mut out = Vec::with_capacity(80 * (mods.len() + 1));
    let _ = write!(
        out,
        "{:<width$} {:<8} {:<8} {:<4} {:>5} ",
        "NAME", "CLASS", "SOURCE", "FLAG", "REFS"
    );
    if show_addr {
        let _ = write!(out, "{:<16} ", "ADDRESS");
    }
    let _ = writeln!(out, "{:>7} REQUIRES ", "SIZE");
    for m in sorted {
        if filter.is_some_and(|f| m.name != f) {
            continue;
        }
        // printf's %-*s pads by bytes (strlen), not characters.
        out.extend_from_slice(m.name.as_bytes());
        out.resize(out.len() + (width - m.name.len()), b' ');
        let _ = write!(
            out,
            " {:<8} {:<8} {:<4} {:>5} ",
            class_name(m.class),
            source_name(m.source),
            flag_name(m.flags),
            m.refcnt as i32
        );
        if show_addr {
            let _ = write!(out, "{:<16x} ", m.addr);
        }
        if m.size == 0 {
            let _ = write!(out, "{:>7} ", "-");
        } else {
            let _ = write!(out, "{:>7} ", m.size);
        }
        if m.required.is_empty() {
            out.push(b'-');
        } else {
            out.extend_from_slice(&m.required);
        }
        out.push(b'\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(mods: &[ModStat], filter: Option<&[u8]>, show_addr: bool) -> String {
        String::from_utf8(listing(mods, filter, show_addr)).unwrap()
    }

    #[allow(clippy::too_many_arguments)]
    fn m(
        name: &str,
        class: i32,
        source: i32,
        flags: u32,
        refcnt: u32,
        addr: u64,
        size: u32,
        req: &str,
    ) -> ModStat {
        ModStat {
            name: name.into(),
            class,
            source,
            flags,
            refcnt,
            addr,
            size,
            required: req.into(),
        }
    }

    fn sample() -> Vec<ModStat> {
        vec![
            m("nfs", 2, 2, 0, 1, 0xffffffff81e2a000, 123456, ""),
            m("k_helper", 1, 2, 1, 0, 0xffffffff82000000, 3410, ""),
            m("ffs", 2, 0, 0, 0, 0, 0, ""),
            m(
                "compat_netbsd32",
                1,
                2,
                2,
                0,
                0xffffffff81c00000,
                21436,
                "compat_util,ksem,compat_80",
            ),
            m("accf_dataready", 1, 0, 0, u32::MAX, 0, 0, ""),
        ]
    }

    #[test]
    fn worked_example_of_the_reference() {
        // NetBSD's r1.24 listing of these modules, byte for byte.
        let want = "NAME             CLASS    SOURCE   FLAG  REFS    SIZE REQUIRES \n\
accf_dataready   misc     builtin  -       -1       - -\n\
compat_netbsd32  misc     filesys  a        0   21436 compat_util,ksem,compat_80\n\
ffs              vfs      builtin  -        0       - -\n\
k_helper         misc     filesys  f        0    3410 -\n\
nfs              vfs      filesys  -        1  123456 -\n";
        assert_eq!(text(&sample(), None, false), want);
        let want_k =
            "NAME             CLASS    SOURCE   FLAG  REFS ADDRESS             SIZE REQUIRES \n\
accf_dataready   misc     builtin  -       -1 0                      - -\n\
compat_netbsd32  misc     filesys  a        0 ffffffff81c00000   21436 compat_util,ksem,compat_80\n\
ffs              vfs      builtin  -        0 0                      - -\n\
k_helper         misc     filesys  f        0 ffffffff82000000    3410 -\n\
nfs              vfs      filesys  -        1 ffffffff81e2a000  123456 -\n";
        assert_eq!(text(&sample(), None, true), want_k);
        let one = text(&sample(), Some(b"nfs"), false);
        assert_eq!(one.lines().count(), 2);
        assert!(one.ends_with("nfs              vfs      filesys  -        1  123456 -\n"));
    }

    #[test]
    fn long_names_widen_every_row_even_when_filtered_out() {
        let mut mods = sample();
        mods.push(m("a_very_long_module_name", 9, 7, 3, 0, 0, 0, ""));
        let out = text(&mods, Some(b"ffs"), false);
        assert_eq!(
            out,
            "NAME                    CLASS    SOURCE   FLAG  REFS    SIZE REQUIRES \n\
ffs                     vfs      builtin  -        0       - -\n"
        );
        let all = text(&mods, None, false);
        assert!(all.contains("a_very_long_module_name UNKNOWN  UNKNOWN  af       0       - -\n"));
    }

    #[test]
    fn header_only_when_nothing_matches() {
        assert_eq!(
            text(&sample(), Some(b"nosuch"), false),
            "NAME             CLASS    SOURCE   FLAG  REFS    SIZE REQUIRES \n"
        );
        assert_eq!(
            text(&[], None, false),
            "NAME             CLASS    SOURCE   FLAG  REFS    SIZE REQUIRES \n"
        );
    }

    /// Names and required lists are bytes: written as they are, padded by
    /// their length in bytes, sorted and filtered by bytes.
    #[test]
    fn names_that_are_not_utf8_are_written_as_bytes() {
        let mut mods = sample();
        let mut ff = m("", 1, 2, 0, 1, 0, 0, "");
        ff.name = b"h\xffllo".to_vec().into();
        mods.push(ff);
        let mut needy = m("needy", 1, 2, 0, 0, 0, 0, "");
        needy.required = b"h\xffllo".to_vec();
        mods.push(needy);
        let out = listing(&mods, None, false);
        let rows: Vec<&[u8]> = out.split(|&b| b == b'\n').collect();
        assert_eq!(
            rows[4],
            b"h\xffllo            misc     filesys  -        1       - -"
        );
        assert_eq!(
            rows[6],
            b"needy            misc     filesys  -        0       - h\xffllo"
        );
        // In strcmp's order, the bytes'.
        let names: Vec<&[u8]> = rows[1..rows.len() - 1]
            .iter()
            .map(|r| &r[..r.iter().position(|&b| b == b' ').unwrap()])
            .collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted);
        let one = listing(&mods, Some(b"h\xffllo"), false);
        assert_eq!(one.split(|&b| b == b'\n').count(), 3);
        assert!(one.ends_with(b"h\xffllo            misc     filesys  -        1       - -\n"));
        let none = listing(&mods, Some("h\u{fffd}llo".as_bytes()), false);
        assert_eq!(none.split(|&b| b == b'\n').count(), 2);
    }
}
