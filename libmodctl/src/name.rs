//! Module names as the kernel has them: C strings, compared with strcmp
//! and printed with `%s`, never decoded. A name need not be UTF-8.

use std::borrow::{Borrow, Cow};
use std::fmt;

/// A module name: its bytes, without the terminating NUL.
///
/// Equality and order are those of the bytes (strcmp's). `Display` is
/// lossy (invalid UTF-8 shows as U+FFFD) and is for messages only; what
/// must be exact (a listing, a state file) takes [`ModName::as_bytes`].
///
/// Names the kernel accepts are shorter than `MAXMODNAME` (32) and are
/// held inline, without an allocation: the module lists copy names a
/// lot (a boot with 100,000 modules spent a tenth of its time in
/// allocating, copying and freeing them). Longer ones, which only a
/// refusal names, are on the heap.
#[derive(Clone)]
pub struct ModName(Repr);

/// The longest name held inline.
const INLINE: usize = 30;

#[derive(Clone)]
enum Repr {
    Inline { len: u8, bytes: [u8; INLINE] },
    Heap(Box<[u8]>),
}

impl ModName {
    pub fn new(bytes: impl Into<Vec<u8>>) -> ModName {
        let bytes = bytes.into();
        if bytes.len() <= INLINE {
            ModName::from(bytes.as_slice())
        } else {
            ModName(Repr::Heap(bytes.into_boxed_slice()))
        }
    }

    pub fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            Repr::Inline { len, bytes } => &bytes[..usize::from(*len)],
            Repr::Heap(b) => b,
        }
    }

    pub fn into_bytes(self) -> Vec<u8> {
        match self.0 {
            Repr::Heap(b) => b.into_vec(),
            Repr::Inline { .. } => self.as_bytes().to_vec(),
        }
    }

    /// The length in bytes (strlen).
    pub fn len(&self) -> usize {
        self.as_bytes().len()
    }

    pub fn is_empty(&self) -> bool {
        self.as_bytes().is_empty()
    }

    /// The name as text, when it is UTF-8.
    pub fn to_str(&self) -> Option<&str> {
        std::str::from_utf8(self.as_bytes()).ok()
    }

    /// The name as text, invalid UTF-8 replaced by U+FFFD.
    pub fn to_string_lossy(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(self.as_bytes())
    }
}

impl Default for ModName {
    fn default() -> ModName {
        ModName::from(&[][..])
    }
}

// Equality, order and hash are the bytes', as `Borrow<[u8]>` requires.
impl PartialEq for ModName {
    fn eq(&self, other: &ModName) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for ModName {}

impl PartialOrd for ModName {
    fn partial_cmp(&self, other: &ModName) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ModName {
    fn cmp(&self, other: &ModName) -> std::cmp::Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}

impl std::hash::Hash for ModName {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state);
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
        write!(f, "\"{}\"", self.as_bytes().escape_ascii())
    }
}

impl From<&str> for ModName {
    fn from(s: &str) -> ModName {
        ModName::from(s.as_bytes())
    }
}

impl From<String> for ModName {
    fn from(s: String) -> ModName {
        ModName::new(s.into_bytes())
    }
}

impl From<&[u8]> for ModName {
    fn from(b: &[u8]) -> ModName {
        if b.len() <= INLINE {
            let mut bytes = [0; INLINE];
            bytes[..b.len()].copy_from_slice(b);
            ModName(Repr::Inline {
                len: b.len() as u8,
                bytes,
            })
        } else {
            ModName(Repr::Heap(b.into()))
        }
    }
}

impl From<Vec<u8>> for ModName {
    fn from(b: Vec<u8>) -> ModName {
        ModName::new(b)
    }
}

impl From<&ModName> for ModName {
    fn from(n: &ModName) -> ModName {
        n.clone()
    }
}

impl AsRef<[u8]> for ModName {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

/// Lets sets and maps of names be searched with a byte slice.
impl Borrow<[u8]> for ModName {
    fn borrow(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl PartialEq<[u8]> for ModName {
    fn eq(&self, other: &[u8]) -> bool {
        self.as_bytes() == other
    }
}

impl PartialEq<&[u8]> for ModName {
    fn eq(&self, other: &&[u8]) -> bool {
        self.as_bytes() == *other
    }
}

impl PartialEq<str> for ModName {
    fn eq(&self, other: &str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl PartialEq<&str> for ModName {
    fn eq(&self, other: &&str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl PartialEq<ModName> for str {
    fn eq(&self, other: &ModName) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl PartialEq<ModName> for &str {
    fn eq(&self, other: &ModName) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl PartialEq<ModName> for [u8] {
    fn eq(&self, other: &ModName) -> bool {
        *self == *other.as_bytes()
    }
}

impl PartialEq<ModName> for &[u8] {
    fn eq(&self, other: &ModName) -> bool {
        **self == *other.as_bytes()
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

    #[test]
    fn long_and_short_names_behave_alike() {
        use std::collections::HashSet;
        let long = "n".repeat(40);
        for text in [
            "",
            "ffs",
            &"m".repeat(INLINE),
            &"m".repeat(INLINE + 1),
            &long,
        ] {
            let n = ModName::from(text);
            assert_eq!(n.as_bytes(), text.as_bytes());
            assert_eq!(n, ModName::new(text.as_bytes().to_vec()));
            assert_eq!(n.clone().into_bytes(), text.as_bytes());
            let set: HashSet<ModName> = [n.clone()].into();
            assert!(set.contains(text.as_bytes()));
        }
        let (long, short) = (ModName::from("m".repeat(INLINE + 1)), ModName::from("m"));
        assert!(long > short);
        assert_eq!(ModName::default(), "");
    }
}
