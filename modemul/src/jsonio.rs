//! The emulator's JSON files (`state.json`, `profile.json`), read and
//! written with serde_json. The emulator is not in the programs built for
//! NetBSD, so serde's size does not bind here; those programs only write
//! JSON, with `jsontext`.
//!
//! Reading is strict where serde's derive is lenient: a struct is read
//! only from an object ([`Obj`]; the derive also takes an array of the
//! fields in order). Every error says where it is: the place in the
//! document (`builtins[2].class`, from serde_path_to_error) and serde_json's
//! line and column.
//!
//! Writing is serde_json's pretty printer, with members in the order the
//! writing struct declares them, and a final newline.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeOwned, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, Serializer};
use serde::Deserialize;

/// Reads one document with nothing but whitespace after it.
///
/// Read first without keeping the place (serde_path_to_error keeps each
/// member name it passes, an allocation each: a thousand built-ins are
/// read on every call); only a document that fails is read again to say
/// where.
pub fn read<T: DeserializeOwned>(text: &[u8]) -> Result<T, String> {
    serde_json::from_slice(text).map_err(|e| placed::<T>(text).unwrap_or_else(|| e.to_string()))
}

/// The error reading `text` gives, with its place in the document.
fn placed<T: DeserializeOwned>(text: &[u8]) -> Option<String> {
    let mut de = serde_json::Deserializer::from_slice(text);
    let e = match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Ok(_) => return de.end().err().map(|e| e.to_string()),
        Err(e) => e,
    };
    // The place is left out where there is none, or none known (an error
    // in the syntax is placed by its line and column).
    let known = e
        .path()
        .iter()
        .any(|s| !matches!(s, serde_path_to_error::Segment::Unknown));
    let path = e.path().to_string();
    let original = e.into_inner();
    Some(if known {
        format!("{path}: {original}")
    } else {
        original.to_string()
    })
}

/// `v` as serde_json's `to_string_pretty` writes it (two-space indent),
/// ending with a newline as a file does.
pub fn write<T: Serialize>(v: &T) -> Vec<u8> {
    // Serializing into memory fails only for maps with keys that are not
    // strings, which these documents do not have.
    let mut out = serde_json::to_vec_pretty(v).expect("a JSON document");
    out.push(b'\n');
    out
}

/// `v` with the top object's members and their arrays' elements one per
/// line, anything deeper on its element's line: `state.json`, whose
/// 100,000 modules would take 2.5 million lines pretty-printed (twice
/// the bytes, a tenth of a boot's time to write and to read back). Keys
/// and values are spaced as the pretty printer spaces them.
pub fn write_outline<T: Serialize>(v: &T) -> Vec<u8> {
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, Outline::default());
    // As in `write`: only maps with keys that are not strings fail.
    v.serialize(&mut ser).expect("a JSON document");
    out.push(b'\n');
    out
}

/// The formatter of [`write_outline`].
#[derive(Default)]
struct Outline {
    /// Containers open, the one being written included.
    depth: usize,
    /// The container being written has an element.
    has_value: bool,
}

/// Containers up to this depth have an element per line.
const OUTLINE_DEPTH: usize = 2;

impl Outline {
    fn open<W: ?Sized + std::io::Write>(&mut self, w: &mut W, b: &[u8]) -> std::io::Result<()> {
        self.depth += 1;
        self.has_value = false;
        w.write_all(b)
    }

    fn close<W: ?Sized + std::io::Write>(&mut self, w: &mut W, b: &[u8]) -> std::io::Result<()> {
        if self.has_value && self.depth <= OUTLINE_DEPTH {
            w.write_all(b"\n")?;
            indent(w, self.depth - 1)?;
        }
        self.depth -= 1;
        w.write_all(b)
    }

    fn element<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if self.depth <= OUTLINE_DEPTH {
            w.write_all(if first { b"\n" } else { b",\n" })?;
            indent(w, self.depth)
        } else if first {
            Ok(())
        } else {
            w.write_all(b", ")
        }
    }
}

fn indent<W: ?Sized + std::io::Write>(w: &mut W, depth: usize) -> std::io::Result<()> {
    (0..depth).try_for_each(|_| w.write_all(b"  "))
}

impl serde_json::ser::Formatter for Outline {
    fn begin_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.open(w, b"[")
    }

    fn end_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.close(w, b"]")
    }

    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.element(w, first)
    }

    fn end_array_value<W: ?Sized + std::io::Write>(&mut self, _w: &mut W) -> std::io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.open(w, b"{")
    }

    fn end_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.close(w, b"}")
    }

    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.element(w, first)
    }

    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        w.write_all(b": ")
    }

    fn end_object_value<W: ?Sized + std::io::Write>(&mut self, _w: &mut W) -> std::io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

/// A `T` read only from a JSON object.
pub struct Obj<T>(pub T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Obj<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Obj<T>, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = T;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map))
            }
        }
        d.deserialize_map(V(PhantomData)).map(Obj)
    }
}

/// Bytes that are usually text but need not be UTF-8 (a module name): a
/// string when they are UTF-8, so that such files read as they always
/// did, else an array of the byte values, `[104, 255]`. JSON strings
/// cannot hold other bytes, and an array is never a string, so the two
/// cannot be confused; [`Bytes`] reads either.
pub struct TextOrBytes<'a>(pub &'a [u8]);

impl Serialize for TextOrBytes<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match std::str::from_utf8(self.0) {
            Ok(text) => s.serialize_str(text),
            Err(_) => s.collect_seq(self.0),
        }
    }
}

/// A list of [`TextOrBytes`].
pub struct TextsOrBytes<'a, B>(pub &'a [B]);

impl<B: AsRef<[u8]>> Serialize for TextsOrBytes<'_, B> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(|b| TextOrBytes(b.as_ref())))
    }
}

/// Bytes written by [`TextOrBytes`]: a string (its UTF-8 bytes) or an
/// array of integers from 0 to 255.
#[derive(Debug)]
pub struct Bytes(pub Vec<u8>);

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Bytes, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Bytes;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or an array of bytes")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Bytes, E> {
                Ok(Bytes(s.as_bytes().to_vec()))
            }
            fn visit_string<E: de::Error>(self, s: String) -> Result<Bytes, E> {
                Ok(Bytes(s.into_bytes()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Bytes, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
                while let Some(Byte(b)) = seq.next_element()? {
                    out.push(b);
                }
                Ok(Bytes(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// One element of a [`Bytes`] array.
struct Byte(u8);

impl<'de> Deserialize<'de> for Byte {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Byte, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Byte;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an integer from 0 to 255")
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Byte, E> {
                u8::try_from(n)
                    .map(Byte)
                    .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(n), &self))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Byte, E> {
                u8::try_from(n)
                    .map(Byte)
                    .map_err(|_| E::invalid_value(de::Unexpected::Signed(n), &self))
            }
        }
        d.deserialize_u8(V)
    }
}

/// For `#[serde(deserialize_with)]`: one [`Bytes`].
pub fn bytes<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
    Bytes::deserialize(d).map(|b| b.0)
}

/// For `#[serde(deserialize_with)]`: [`Bytes`] or `null`.
pub fn opt_bytes<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
    Option::<Bytes>::deserialize(d).map(|b| b.map(|b| b.0))
}

/// For `#[serde(deserialize_with)]`: an array of [`Bytes`].
pub fn bytes_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<u8>>, D::Error> {
    Vec::<Bytes>::deserialize(d).map(|v| v.into_iter().map(|b| b.0).collect())
}

/// For `skip_serializing_if`: numbers of 0 are left out.
pub fn is_zero<T: Default + PartialEq>(n: &T) -> bool {
    *n == T::default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outline_puts_each_element_of_the_top_arrays_on_a_line() {
        let v: serde_json::Value = serde_json::from_str(
            r#"{"format": 1, "active": [{"name": "a", "deps": ["x", "y"], "p": {}},
                {"name": "b", "deps": []}], "builtins": [], "messages": ["m"]}"#,
        )
        .unwrap();
        let text = write_outline(&v);
        assert_eq!(
            String::from_utf8(text.clone()).unwrap(),
            // (serde_json's `Value` orders members by name.)
            "{\n  \"active\": [\n    \
             {\"deps\": [\"x\", \"y\"], \"name\": \"a\", \"p\": {}},\n    \
             {\"deps\": [], \"name\": \"b\"}\n  ],\n  \"builtins\": [],\n  \
             \"format\": 1,\n  \"messages\": [\n    \"m\"\n  ]\n}\n"
        );
        let back: serde_json::Value = serde_json::from_slice(&text).unwrap();
        assert_eq!(back, v);
    }
}
