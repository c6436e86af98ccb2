//! modunload(8): unload kernel modules, as NetBSD's r1.6.

use std::process::ExitCode;

use libmodctl::modctl::Modctl;
use libmodctl::{cli, tool};

fn main() -> ExitCode {
    let args: Vec<_> = std::env::args_os().collect();
    let prog = cli::progname(args.first().map(|a| a.as_os_str()).unwrap_or_default());
    // No option parsing at all: `-f` is a module name, `--` is not special.
    let names = args.get(1..).unwrap_or_default();
    if names.is_empty() {
        eprintln!("Usage: {prog} <module_name ...>");
        return ExitCode::FAILURE;
    }
    let backend = match tool::connect_without_loader(&prog) {
        Ok(b) => b,
        Err(e) => {
            for line in e.messages(&prog, "init failed") {
                eprintln!("{line}");
            }
            return ExitCode::FAILURE;
        }
    };
    let mc = Modctl::new(backend);
    for name in names {
        let bytes = name.as_encoded_bytes();
        if let Err(e) = mc.unload(bytes) {
            eprintln!("{prog}: {}: {}", name.to_string_lossy(), e.errno());
            if let Some(reason) = libmodctl::diagnose::unload(&mc, bytes, e.errno()) {
                eprintln!("{prog}: {}: {reason}", name.to_string_lossy());
            }
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}
