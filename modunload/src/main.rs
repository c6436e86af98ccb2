//! modunload(8): unload kernel modules, as NetBSD's r1.6.

use std::process::ExitCode;

use libmodctl::modctl::Modctl;
use libmodctl::{cli, diagnose};

fn main() -> ExitCode {
    let args: Vec<_> = std::env::args_os().collect();
    let prog = cli::progname(args.first().map(|a| a.as_os_str()).unwrap_or_default());
    // No option parsing at all: `-f` is a module name, `--` is not special.
    let names = args.get(1..).unwrap_or_default();
    if names.is_empty() {
        eprintln!("Usage: {prog} <module_name ...>");
        return ExitCode::FAILURE;
    }
    let backend = match cmdutil::connect_without_loader(&prog, "init failed") {
        Ok(b) => b,
        Err(code) => return code,
    };
    let mc = Modctl::new(backend);
    for name in names {
        let bytes = name.as_encoded_bytes();
        if let Err(e) = mc.unload(bytes) {
            let said = |what: &str| {
                let mut msg = bytes.to_vec();
                msg.extend_from_slice(b": ");
                msg.extend_from_slice(what.as_bytes());
                cmdutil::warnx(&prog, &msg);
            };
            said(&e.errno().to_string());
            if let Some(reason) = diagnose::unload(&mc, bytes, e.errno()) {
                said(&reason);
            }
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}
