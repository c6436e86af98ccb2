//! The project's example modules, installed under a new state directory's
//! default `module_root` so that a new user can load them by name.

use std::fs;
use std::path::Path;

use super::EmulError;

/// (name, object file) of each example module.
fn example_modules() -> &'static [(&'static str, &'static [u8])] {
    // The amd64 builds of the fixtures' example modules (build.sh).
    &[
        (
            "example",
            include_bytes!("../../../tests/fixtures/modules/example/example.kmod"),
        ),
        (
            "hello",
            include_bytes!("../../../tests/fixtures/modules/hello/hello.kmod"),
        ),
        (
            "needy",
            include_bytes!("../../../tests/fixtures/modules/needy/needy.kmod"),
        ),
    ]
}

/// Writes each example to `<root>/<module_path>/<name>/<name>.kmod` unless
/// a file is already there.
pub fn install(root: &Path, module_path: &str) -> Result<(), EmulError> {
    let base = root.join(module_path.trim_start_matches('/'));
    for (name, bytes) in example_modules() {
        let dir = base.join(name);
        let file = dir.join(format!("{name}.kmod"));
        if file.exists() {
            continue;
        }
        fs::create_dir_all(&dir).map_err(|e| EmulError::io(&dir, "cannot create", e))?;
        fs::write(&file, bytes).map_err(|e| EmulError::io(&file, "cannot write", e))?;
    }
    Ok(())
}
