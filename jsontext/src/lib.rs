//! JSON text written: a value type and a pretty writer, for the tools'
//! `--json` documents.
//!
//! The programs built for NetBSD only write JSON; serde and serde_json
//! cost each of them tens of KiB, so they write with this instead. (The
//! emulator, which is not in those programs, reads and writes its files
//! with serde_json.) The documents hold only integers, so numbers are
//! integers.
//!
//! The order of an object's members is the writer's, not the caller's:
//! [`object`] puts them in byte order of their names, the order
//! serde_json's sorted maps gave the documents before, and the output is
//! byte for byte what `serde_json::to_string_pretty` writes for the same
//! document, so `--json` output did not change when serde went.

/// A JSON value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Null,
    Bool(bool),
    /// An integer; negative ones are `Int`, the others `UInt` (see the
    /// `From` impls).
    Int(i64),
    UInt(u64),
    String(String),
    Array(Vec<Value>),
    /// Made by [`object`], which orders the members.
    Object(Members),
}

/// An object's members, in byte order of their names, each name once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Members(Vec<(String, Value)>);

impl Members {
    pub fn iter(&self) -> impl Iterator<Item = &(String, Value)> {
        self.0.iter()
    }
}

impl Value {
    /// The document as serde_json's `to_string_pretty` writes it: two-space
    /// indent, `"key": value`, `[]` and `{}` when empty, no final newline.
    pub fn to_pretty(&self) -> String {
        let mut out = String::new();
        write_pretty(&mut out, self, 0);
        out
    }

    /// [`Value::to_pretty`] as a file or a program's output holds it:
    /// ending with a newline.
    pub fn to_document(&self) -> String {
        let mut out = self.to_pretty();
        out.push('\n');
        out
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<u64> for Value {
    fn from(u: u64) -> Value {
        Value::UInt(u)
    }
}

impl From<u32> for Value {
    fn from(u: u32) -> Value {
        Value::UInt(u.into())
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Value {
        match u64::try_from(i) {
            Ok(u) => Value::UInt(u),
            Err(_) => Value::Int(i),
        }
    }
}

impl From<i32> for Value {
    fn from(i: i32) -> Value {
        Value::from(i64::from(i))
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::String(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::String(s)
    }
}

impl From<Vec<Value>> for Value {
    fn from(a: Vec<Value>) -> Value {
        Value::Array(a)
    }
}

/// `None` is `null`.
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(o: Option<T>) -> Value {
        o.map_or(Value::Null, Into::into)
    }
}

/// An object with these members, whatever order they are given in: it
/// is written with them in byte order of their names (as serde_json's
/// sorted maps wrote them). A name must not repeat.
pub fn object(members: Vec<(&str, Value)>) -> Value {
    let mut members: Vec<(String, Value)> = members
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    // An insertion sort: an object has a few dozen members at most, and
    // std's sort would add about 4 KB to each program built for NetBSD.
    for i in 1..members.len() {
        let mut j = i;
        while j > 0 && members[j - 1].0.as_bytes() > members[j].0.as_bytes() {
            members.swap(j - 1, j);
            j -= 1;
        }
    }
    debug_assert!(
        members.windows(2).all(|w| w[0].0 != w[1].0),
        "a member name repeats"
    );
    Value::Object(Members(members))
}

/// An array of strings.
pub fn strings<S: AsRef<str>>(items: &[S]) -> Value {
    Value::Array(items.iter().map(|s| Value::from(s.as_ref())).collect())
}

/// Bytes as an array of their values, `[104, 255]`.
pub fn byte_array(b: &[u8]) -> Value {
    Value::Array(b.iter().map(|&x| Value::UInt(x.into())).collect())
}

// ---------------------------------------------------------------------
// Writing

fn write_pretty(out: &mut String, v: &Value, indent: usize) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::UInt(u) => out.push_str(&u.to_string()),
        Value::String(s) => write_string(out, s),
        Value::Array(a) if a.is_empty() => out.push_str("[]"),
        Value::Object(o) if o.0.is_empty() => out.push_str("{}"),
        Value::Array(a) => {
            out.push('[');
            for (i, item) in a.iter().enumerate() {
                member_start(out, i, indent + 2);
                write_pretty(out, item, indent + 2);
            }
            line_start(out, indent);
            out.push(']');
        }
        Value::Object(o) => {
            out.push('{');
            for (i, (k, item)) in o.0.iter().enumerate() {
                member_start(out, i, indent + 2);
                write_string(out, k);
                out.push_str(": ");
                write_pretty(out, item, indent + 2);
            }
            line_start(out, indent);
            out.push('}');
        }
    }
}

fn member_start(out: &mut String, index: usize, indent: usize) {
    if index > 0 {
        out.push(',');
    }
    line_start(out, indent);
}

fn line_start(out: &mut String, indent: usize) {
    out.push('\n');
    out.extend(std::iter::repeat_n(' ', indent));
}

/// A string literal with serde_json's escapes: the two-character ones it
/// has, `\u00xx` (lowercase) for other control characters, everything else
/// (`/`, DEL, non-ASCII) as is.
fn write_string(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    let mut run = 0;
    for (i, &b) in s.as_bytes().iter().enumerate() {
        let esc = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0..=0x1f => "",
            _ => continue,
        };
        // Escaped bytes are ASCII, so `run..i` lies on char boundaries.
        out.push_str(&s[run..i]);
        run = i + 1;
        if esc.is_empty() {
            out.push_str("\\u00");
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        } else {
            out.push_str(esc);
        }
    }
    out.push_str(&s[run..]);
    out.push('"');
}

#[cfg(test)]
mod tests;
