//! The project's example modules, installed under a new state directory's
//! default `module_root` so that a new user can load them by name.

use std::fs;
use std::path::Path;

use super::{statedir, EmulError};

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
    let base = modobj::path::below_root(root, module_path.as_bytes());
    for (name, bytes) in example_modules(machine) {
        let dir = base.join(name);
        let file = dir.join(format!("{name}.kmod"));
        if fs::symlink_metadata(&file).is_ok() {
            continue;
        }
        statedir::create_dirs(&dir)?;
        statedir::write_new(&file, bytes)?;
    }
    Ok(())
}
