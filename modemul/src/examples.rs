//! The project's example modules, installed under a new state directory's
//! default `module_root` so that a new user can load them by name.

use std::fs;
use std::path::Path;

use super::EmulError;

type Examples = [(&'static str, &'static [u8]); 3];

/// NetBSD 10.1 amd64 builds of `example`, `hello` and `needy` (requires
/// hello), from the test fixtures.
const AMD64: Examples = [
    (
        "example",
        include_bytes!("../../modobj/tests/fixtures/modules/example/example.kmod"),
    ),
    (
        "hello",
        include_bytes!("../../modobj/tests/fixtures/modules/hello/hello.kmod"),
    ),
    (
        "needy",
        include_bytes!("../../modobj/tests/fixtures/modules/needy/needy.kmod"),
    ),
];

/// The same modules built for i386.
const I386: Examples = [
    (
        "example",
        include_bytes!("../../modobj/tests/fixtures/i386/example.kmod"),
    ),
    (
        "hello",
        include_bytes!("../../modobj/tests/fixtures/i386/hello.kmod"),
    ),
    (
        "needy",
        include_bytes!("../../modobj/tests/fixtures/i386/needy.kmod"),
    ),
];

/// The examples for a machine. Other machines get the amd64 objects,
/// which their kernel refuses as the real one would (ENOEXEC).
fn example_modules(machine: &str) -> &'static Examples {
    match machine {
        "i386" => &I386,
        _ => &AMD64,
    }
}

/// Writes each example to `<root>/<module_path>/<name>/<name>.kmod` unless
/// a file is already there.
pub fn install(root: &Path, module_path: &str, machine: &str) -> Result<(), EmulError> {
    let base = root.join(module_path.trim_start_matches('/'));
    for (name, bytes) in example_modules(machine) {
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
