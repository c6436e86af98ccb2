//! modload-check: `modload -n --boot-cfg FILE` and `modload -n --kernel
//! FILE [--root DIR] module ...`, which `modload` runs with its own
//! arguments. Run alone, it takes the same command line and does only
//! those two checks.

use std::ffi::OsString;
use std::process::ExitCode;

use modload::{boot_cfg_check, parse_args, release_check};
use modtools::msg::errx;

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().collect();
    let a = match parse_args(&args) {
        Ok(a) => a,
        Err(code) => return code,
    };
    if a.kernel_image.is_some() || a.root.is_some() {
        return release_check(&a);
    }
    if let Some(file) = &a.boot_cfg {
        return boot_cfg_check(&a, file);
    }
    errx(
        &a.prog,
        b"runs modload's -n --boot-cfg and -n --kernel checks: use it with one of them",
    )
}
