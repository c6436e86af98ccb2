//! modload(8). The command line and what each mode does are in the
//! library; the boot and release checks run in `modload-check`.

use std::ffi::OsString;
use std::process::ExitCode;

use modload::{load, output_mode, parse_args, run_checker, usage};

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().collect();
    let a = match parse_args(&args) {
        Ok(a) => a,
        Err(code) => return code,
    };
    if a.output_mode {
        return output_mode(&a);
    }
    if a.kernel_image.is_some() || a.root.is_some() || a.boot_cfg.is_some() {
        return run_checker(&a.prog, &args);
    }
    let [module] = a.operands.as_slice() else {
        return usage(&a.prog);
    };
    load(&a, module.as_encoded_bytes())
}
