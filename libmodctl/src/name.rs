//! Module names as the kernel has them: C strings, compared with strcmp
//! and printed with `%s`, never decoded. A name need not be UTF-8.

use std::borrow::{Borrow, Cow};
use std::fmt;

/// A module name: its bytes, without the terminating NUL.
///
/// Equality and order are those of the bytes (strcmp's). `Display` is
/// lossy (invalid UTF-8 shows as U+FFFD) and is for messages only; what
/// must be exact (a listing, a state file) takes [`ModName::as_bytes`].
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ModName(Vec<u8>);

impl ModName {
    pub fn new(bytes: impl Into<Vec<u8>>) -> ModName {
        ModName(bytes.into())
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }

    /// The length in bytes (strlen).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The name as text, when it is UTF-8.
    pub fn to_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.0).ok()
    }

    /// The name as text, invalid UTF-8 replaced by U+FFFD.
    pub fn to_string_lossy(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.0)
    }
}

impl fmt::Display for ModName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `pad` keeps width and alignment working for messages.
        f.pad(&self.to_string_lossy())
    }
}

impl fmt::Debug for ModName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{}\"", self.0.escape_ascii())
    }
}

impl From<&str> for ModName {
    fn from(s: &str) -> ModName {
        ModName(s.as_bytes().to_vec())
    }
}

impl From<String> for ModName {
    fn from(s: String) -> ModName {
        ModName(s.into_bytes())
    }
}

impl From<&[u8]> for ModName {
    fn from(b: &[u8]) -> ModName {
        ModName(b.to_vec())
    }
}

impl From<Vec<u8>> for ModName {
    fn from(b: Vec<u8>) -> ModName {
        ModName(b)
    }
}

impl From<&ModName> for ModName {
    fn from(n: &ModName) -> ModName {
        n.clone()
    }
}

impl AsRef<[u8]> for ModName {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// Lets sets and maps of names be searched with a byte slice.
impl Borrow<[u8]> for ModName {
    fn borrow(&self) -> &[u8] {
        &self.0
    }
}

impl PartialEq<[u8]> for ModName {
    fn eq(&self, other: &[u8]) -> bool {
        self.0 == other
    }
}

impl PartialEq<&[u8]> for ModName {
    fn eq(&self, other: &&[u8]) -> bool {
        self.0 == *other
    }
}

impl PartialEq<str> for ModName {
    fn eq(&self, other: &str) -> bool {
        self.0 == other.as_bytes()
    }
}

impl PartialEq<&str> for ModName {
    fn eq(&self, other: &&str) -> bool {
        self.0 == other.as_bytes()
    }
}

impl PartialEq<ModName> for str {
    fn eq(&self, other: &ModName) -> bool {
        self.as_bytes() == other.0
    }
}

impl PartialEq<ModName> for &str {
    fn eq(&self, other: &ModName) -> bool {
        self.as_bytes() == other.0
    }
}

impl PartialEq<ModName> for [u8] {
    fn eq(&self, other: &ModName) -> bool {
        *self == *other.0
    }
}

impl PartialEq<ModName> for &[u8] {
    fn eq(&self, other: &ModName) -> bool {
        **self == *other.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_compare_and_show_lossily() {
        let n = ModName::new(b"h\xffi".to_vec());
        assert_eq!(n.len(), 3);
        assert_eq!(n, &b"h\xffi"[..]);
        assert_ne!(n, "h\u{fffd}i");
        assert_eq!(n.to_str(), None);
        assert_eq!(n.to_string(), "h\u{fffd}i");
        assert_eq!(format!("{n:<5}|"), "h\u{fffd}i  |");
        assert_eq!(format!("{n:?}"), r#""h\xffi""#);
        assert_eq!(ModName::from("ffs"), "ffs");
        let mut sorted = [ModName::new(b"\xff".to_vec()), ModName::from("z")];
        sorted.sort();
        assert_eq!(sorted[0], "z");
        let set: std::collections::BTreeSet<ModName> = [n.clone()].into();
        assert!(set.contains(&b"h\xffi"[..]));
    }
}
