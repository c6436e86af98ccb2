//! Where the kernel looks for a module (kern_module_vfs.c, kern_module.c).
//!
//! An operand containing `/` is a path, opened as given. Anything else is
//! a module name, looked up only as `<module_path>/<name>/<name>.kmod` —
//! never in the current directory. The property list beside it is
//! [`crate::plistfile`]'s.

/// Whether the kernel treats the operand as a path (it contains `/`).
pub fn is_path(operand: &str) -> bool {
    operand.contains('/')
}

/// `<module_path>/<name>/<name>.kmod`, formed as the kernel forms it (no
/// slashes are added or removed).
pub fn module_file(module_path: &str, name: &str) -> String {
    format!("{module_path}/{name}/{name}.kmod")
}

/// [`module_file`] of bytes: a name need not be UTF-8.
pub fn module_file_bytes(module_path: &[u8], name: &[u8]) -> Vec<u8> {
    [module_path, b"/", name, b"/", name, b".kmod"].concat()
}

/// The file the kernel opens for an operand: the operand itself when it
/// is a path, otherwise the module file under `module_path`.
pub fn module_location(module_path: &str, operand: &str) -> String {
    if is_path(operand) {
        operand.to_string()
    } else {
        module_file(module_path, operand)
    }
}

/// Where a kernel path lies below `root`, the host directory standing for
/// `/`: namei reads a run of slashes as one, so every leading slash goes
/// (`//stand/x` is `/stand/x`, never the host's `/stand/x`).
pub fn below_root(root: &std::path::Path, kernel_path: &[u8]) -> std::path::PathBuf {
    use std::os::unix::ffi::OsStrExt;
    let start = kernel_path
        .iter()
        .position(|&c| c != b'/')
        .unwrap_or(kernel_path.len());
    root.join(std::ffi::OsStr::from_bytes(&kernel_path[start..]))
}

/// The kernel's default module directory (`kern.module.path`) for a
/// release and machine: `/stand/<machine>/<major>.<minor>/modules` for a
/// release (patch level and suffixes such as `_STABLE` dropped), and the
/// full `osrelease` for -current (minor 99), e.g.
/// `/stand/amd64/10.99.12/modules`.
pub fn default_module_path(osrelease: &str, machine: &str) -> String {
    let release = match major_minor(osrelease) {
        Some((major, minor)) if minor != "99" => format!("{major}.{minor}"),
        _ => osrelease.to_string(),
    };
    format!("/stand/{machine}/{release}/modules")
}

/// The leading `<digits>.<digits>` of an osrelease string.
fn major_minor(osrelease: &str) -> Option<(&str, &str)> {
    let digits = |s: &str| s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let m = digits(osrelease);
    let major = &osrelease[..m];
    let rest = osrelease[m..].strip_prefix('.')?;
    let minor = &rest[..digits(rest)];
    (!major.is_empty() && !minor.is_empty()).then_some((major, minor))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_paths_stay_below_the_root() {
        let root = std::path::Path::new("/r");
        assert_eq!(
            below_root(root, b"/stand/m"),
            std::path::Path::new("/r/stand/m")
        );
        assert_eq!(
            below_root(root, b"//stand/m"),
            std::path::Path::new("/r/stand/m")
        );
        assert_eq!(below_root(root, b"///"), std::path::Path::new("/r"));
    }

    #[test]
    fn operands_with_a_slash_are_paths() {
        assert!(is_path("./example.kmod"));
        assert!(is_path("/stand/amd64/10.1/modules/example/example.kmod"));
        assert!(is_path("dir/"));
        assert!(!is_path("example"));
        assert!(!is_path("example.kmod"));
        assert!(!is_path(""));
    }

    #[test]
    fn names_live_in_their_own_directory() {
        assert_eq!(
            module_file("/stand/amd64/10.1/modules", "example"),
            "/stand/amd64/10.1/modules/example/example.kmod"
        );
        // Formed as given, like the kernel's snprintf.
        assert_eq!(module_file("/m/", "x"), "/m//x/x.kmod");
        assert_eq!(module_location("/m", "x"), "/m/x/x.kmod");
        assert_eq!(module_location("/m", "./x.kmod"), "./x.kmod");
        // A bare file name is a name, not a file in the current directory.
        assert_eq!(module_location("/m", "x.kmod"), "/m/x.kmod/x.kmod.kmod");
    }

    #[test]
    fn plist_beside_the_module() {}

    #[test]
    fn default_paths_for_releases_and_current() {
        assert_eq!(
            default_module_path("10.1", "amd64"),
            "/stand/amd64/10.1/modules"
        );
        assert_eq!(
            default_module_path("9.3", "i386"),
            "/stand/i386/9.3/modules"
        );
        assert_eq!(
            default_module_path("10.0_STABLE", "amd64"),
            "/stand/amd64/10.0/modules"
        );
        assert_eq!(
            default_module_path("6.1.5", "amd64"),
            "/stand/amd64/6.1/modules"
        );
        assert_eq!(
            default_module_path("10.99.12", "amd64"),
            "/stand/amd64/10.99.12/modules"
        );
        assert_eq!(
            default_module_path("weird", "evbarm"),
            "/stand/evbarm/weird/modules"
        );
    }
}
