//! `__NetBSD_Version__` (`kern.osrevision`, a module's `mi_version`): the
//! one place a release number is read, compared and shown.
//!
//! sys/sys/param.h (r1.486, 2015/08/29) encodes it as `MMmmrrpp00`: M the
//! major version, m the minor (99 is -current), `r` 0 since 2.0I and `p`
//! the patch level. `__NetBSD_Prereq__(M,m,p)` there computes
//! `M * 100000000 + m * 1000000 + p * 100`, so the patch level takes the
//! `rrpp` digits together: NetBSD 9.99.112 is 999011200, not 9.99.12.
//!
//! Depends on nothing else in the crate.

use std::fmt;

/// A `__NetBSD_Version__` value. Ordered as the number is, which is the
/// order of the releases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct OsRevision(pub u32);

impl OsRevision {
    /// `major.minor.patch` (`__NetBSD_Prereq__`'s arithmetic).
    pub const fn new(major: u32, minor: u32, patch: u32) -> OsRevision {
        OsRevision(major * 100_000_000 + minor * 1_000_000 + patch * 100)
    }

    /// The raw number, as `kern.osrevision` and `mi_version` hold it.
    pub const fn get(self) -> u32 {
        self.0
    }

    pub const fn major(self) -> u32 {
        self.0 / 100_000_000
    }

    pub const fn minor(self) -> u32 {
        self.0 / 1_000_000 % 100
    }

    /// The patch level: the `rrpp` digits read together (param.h).
    pub const fn patch(self) -> u32 {
        self.0 / 100 % 10_000
    }

    /// A -current version: minor number 99 (param.h).
    pub const fn is_current(self) -> bool {
        self.minor() == 99
    }

    /// The release a release string such as `kern.osrelease` names:
    /// "10.1", "9.99.112", "7.99.34"; letters after the patch level are
    /// ignored. `None` for anything else, or a part too large for the
    /// encoding.
    pub fn parse(text: &str) -> Option<OsRevision> {
        let mut parts = text.split('.');
        let major: u32 = parts.next()?.parse().ok()?;
        let minor: u32 = parts.next().map_or(Some(0), |s| s.parse().ok())?;
        let patch: u32 = parts.next().map_or(Some(0), |s| {
            s.trim_end_matches(|c: char| c.is_ascii_alphabetic())
                .parse()
                .ok()
        })?;
        // 42 * 100000000 no longer fits the 32 bits of the number.
        if major > 41 || minor > 99 || patch > 9999 {
            return None;
        }
        Some(OsRevision::new(major, minor, patch))
    }
}

impl From<u32> for OsRevision {
    fn from(v: u32) -> OsRevision {
        OsRevision(v)
    }
}

/// As NetBSD writes a release: "10.1", "6.1.5" (a patch level shown only
/// when not 0), and -current always with its patch level: "10.99.12",
/// "9.99.112".
impl fmt::Display for OsRevision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (major, minor, patch) = (self.major(), self.minor(), self.patch());
        if patch != 0 || self.is_current() {
            write!(f, "{major}.{minor}.{patch}")
        } else {
            write!(f, "{major}.{minor}")
        }
    }
}

/// [`OsRevision`]'s text of a raw `__NetBSD_Version__`.
pub fn version_text(v: u32) -> String {
    OsRevision(v).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_as_netbsd_writes_it() {
        for (v, text) in [
            (1_001_000_000, "10.1"),
            (1_000_000_000, "10.0"),
            (903_000_000, "9.3"),
            (800_000_000, "8.0"),
            (601_000_500, "6.1.5"),
            (799_003_400, "7.99.34"),
            (1_099_001_200, "10.99.12"),
            (999_011_200, "9.99.112"),
            (1_099_000_400, "10.99.4"),
            (999_000_000, "9.99.0"),
            (903_010_000, "9.3.100"),
        ] {
            assert_eq!(OsRevision(v).to_string(), text, "{v}");
            assert_eq!(version_text(v), text);
            assert_eq!(OsRevision::parse(text), Some(OsRevision(v)), "{text}");
        }
    }

    #[test]
    fn parts_and_current() {
        let v = OsRevision::new(9, 99, 112);
        assert_eq!(v.get(), 999_011_200);
        assert_eq!((v.major(), v.minor(), v.patch()), (9, 99, 112));
        assert!(v.is_current());
        assert!(!OsRevision::new(10, 1, 0).is_current());
        assert!(OsRevision::new(9, 99, 112) < OsRevision::new(10, 0, 0));
        assert!(OsRevision::new(7, 99, 34) < OsRevision::new(8, 0, 0));
    }

    #[test]
    fn parse_refuses_what_the_encoding_cannot_hold() {
        assert_eq!(OsRevision::parse("10"), Some(OsRevision::new(10, 0, 0)));
        assert_eq!(
            OsRevision::parse("1.6ZK"),
            None,
            "the minor part is not a number"
        );
        assert_eq!(
            OsRevision::parse("10.99.12a"),
            Some(OsRevision(1_099_001_200))
        );
        assert_eq!(OsRevision::parse("x"), None);
        assert_eq!(OsRevision::parse("42.0"), None);
        assert_eq!(OsRevision::parse("9.100"), None);
        assert_eq!(OsRevision::parse("9.99.10000"), None);
        assert_eq!(
            OsRevision::parse("9.99.9999"),
            Some(OsRevision(999_999_900))
        );
    }
}
