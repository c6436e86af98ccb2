//! modunload(8): unload kernel modules, as NetBSD's r1.6.

use std::process::ExitCode;

use modtools::explain::diagnose;
use modtools::getopt as cli;
use modtools::msg;

fn main() -> ExitCode {
    let args: Vec<_> = std::env::args_os().collect();
    let prog = cli::progname(args.first().map(|a| a.as_os_str()).unwrap_or_default());
    // No option parsing at all: `-f` is a module name, `--` is not special.
    let names = args.get(1..).unwrap_or_default();
    if names.is_empty() {
        msg::stderr(format!("Usage: {prog} <module_name ...>\n").as_bytes());
        return ExitCode::FAILURE;
    }
    let kernel = match msg::connect_without_loader(&prog, "init failed") {
        Ok(k) => k,
        Err(code) => return code,
    };
    for name in names {
        let bytes = name.as_encoded_bytes();
        if let Err(e) = kernel.modctl().unload(bytes) {
            msg::warn_operand(&prog, bytes, &e.errno().to_string());
            if let Some(reason) = diagnose::unload(&kernel, bytes, e.errno()) {
                msg::warn_operand(&prog, bytes, &reason);
            }
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}
