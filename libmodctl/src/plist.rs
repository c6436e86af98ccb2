//! NetBSD proplib property lists: the XML that `prop_dictionary_externalize`
//! writes and the XML that `prop_dictionary_internalize` accepts.
//!
//! `modload -p` prints externalized dictionaries and scripts compare them,
//! so [`Dict::externalize`] is byte-exact: the "Apple Computer" DOCTYPE, one
//! TAB per depth, keys in `strcmp` order, `<dict/>` for empty containers.
//! [`Dict::internalize`] reads `modload -m` files and `<module>.plist` files
//! and accepts what proplib's hand-written XML scanner accepts, quirks
//! included (see the notes on [`Dict::internalize`]).
//!
//! Strings and keys are byte strings: proplib stores C strings and assumes
//! UTF-8 without checking it.

use std::collections::BTreeMap;
use std::fmt;

use crate::cnum;

/// Longest dictionary key proplib stores (`PDK_MAXKEY` in the 2016
/// prop_dictionary.c). UNVERIFIED for the 2020+ proplib rewrite.
pub const MAX_KEY_LEN: usize = 128;

/// Deepest container nesting `internalize` accepts, counting the top-level
/// dictionary as 1. proplib itself has no limit (it parses with an explicit
/// stack); we bound it so hostile input cannot exhaust the Rust stack in the
/// recursive parser, `Drop`, `Clone` or `externalize`. Real plists nest a
/// handful of levels.
pub const MAX_DEPTH: usize = 64;

/// The fixed text before the top-level object (prop_object.c/prop_extern.c).
const HEADER: &[u8] = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
<!DOCTYPE plist PUBLIC \"-//Apple Computer//DTD PLIST 1.0//EN\" \
\"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n\
<plist version=\"1.0\">\n";

/// The fixed text after the top-level object.
const FOOTER: &[u8] = b"</plist>\n";

const BASE64_ALPHABET: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// One property-list object.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Bool(bool),
    /// A number created signed: externalized in decimal.
    Int(i64),
    /// A number created unsigned: externalized as `0x` + lowercase hex.
    UInt(u64),
    /// A C string: bytes after an embedded NUL are not externalized.
    String(Vec<u8>),
    Data(Vec<u8>),
    Array(Vec<Value>),
    Dict(Dict),
}

/// A proplib dictionary: keys are unique and kept in `strcmp` order, which
/// for byte strings without NUL is the byte order `BTreeMap` uses.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Dict {
    entries: BTreeMap<Vec<u8>, Value>,
}

/// Keys are C strings in proplib: whatever follows a NUL is not part of them.
fn c_string(bytes: &[u8]) -> &[u8] {
    match bytes.iter().position(|&b| b == 0) {
        Some(nul) => &bytes[..nul],
        None => bytes,
    }
}

impl Dict {
    pub fn new() -> Dict {
        Dict::default()
    }

    /// Stores `value` under `key`, replacing an earlier value.
    ///
    /// Returns false, storing nothing, when the key is longer than
    /// [`MAX_KEY_LEN`] bytes, as `prop_dictionary_set` does. The key is cut
    /// at its first NUL, as the C string proplib would see.
    pub fn set(&mut self, key: impl Into<Vec<u8>>, value: Value) -> bool {
        let mut key = key.into();
        let len = c_string(&key).len();
        key.truncate(len);
        if key.len() > MAX_KEY_LEN {
            return false;
        }
        self.entries.insert(key, value);
        true
    }

    pub fn get(&self, key: &[u8]) -> Option<&Value> {
        self.entries.get(c_string(key))
    }

    pub fn remove(&mut self, key: &[u8]) -> Option<Value> {
        self.entries.remove(c_string(key))
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Entries in ascending key byte order (the order proplib keeps).
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &Value)> {
        self.entries.iter().map(|(k, v)| (k.as_slice(), v))
    }

    /// Copies every entry of `other` into `self`; on equal keys `other`
    /// wins. This is how `modload -m` lays command-line properties over a
    /// file's dictionary.
    pub fn merge(&mut self, other: &Dict) {
        for (key, value) in &other.entries {
            self.entries.insert(key.clone(), value.clone());
        }
    }

    /// Whether empty data is held anywhere in the dictionary. Such data
    /// externalizes as `<data/>`, which proplib's internalizer (and
    /// [`Dict::internalize`]) refuses, so these dictionaries do not
    /// survive a round trip through text.
    pub fn holds_empty_data(&self) -> bool {
        fn value(v: &Value) -> bool {
            match v {
                Value::Data(d) => d.is_empty(),
                Value::Array(items) => items.iter().any(value),
                Value::Dict(d) => d.holds_empty_data(),
                _ => false,
            }
        }
        self.iter().any(|(_, v)| value(v))
    }

    /// The XML `prop_dictionary_externalize()` produces, without the
    /// trailing NUL (so its length is what `modload` passes as
    /// `ml_propslen`).
    pub fn externalize(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(256);
        out.extend_from_slice(HEADER);
        extern_dict(&mut out, self, 0);
        out.extend_from_slice(FOOTER);
        out
    }

    /// Parses XML the way `prop_dictionary_internalize()` does; the top-level
    /// object must be a `<dict>`.
    ///
    /// What is accepted, following proplib's scanner (prop_intern.c and the
    /// per-type internalizers): leading whitespace; `<?xml ` and
    /// `<!DOCTYPE plist` preambles skipped up to their first `>`; comments
    /// `<!-- -->` wherever a start tag may come; `<plist>` with no attribute
    /// other than `version`; `<name>`, `</name>`, `<name/>` and at most one
    /// `attr="value"`; entities `&amp; &lt; &gt; &apos; &quot;` only; keys of
    /// at most 128 bytes (`<key></key>` is the empty key, `<key/>` is an
    /// error); integers as strtoll/strtoull with base 0 (leading `0` is
    /// octal, `0x` makes an unsigned number); `<data>` base64, optionally with
    /// a `size` attribute that must match; anything after `</plist>` ignored.
    /// The input ends at its first NUL byte, as a C string does.
    ///
    /// Deliberate differences from proplib: nesting deeper than
    /// [`MAX_DEPTH`] is rejected; an end tag (other than `</array>`) where an
    /// array element should start is rejected (proplib would treat e.g.
    /// `</string>` there as a start tag); JSON input, which only the 2025
    /// proplib understands, is rejected (kernels of NetBSD <= 10 read XML
    /// only).
    pub fn internalize(xml: &[u8]) -> Result<Dict, PlistError> {
        Parser::new(xml).document()
    }
}

// ---------------------------------------------------------------------------
// Externalize

fn indent(out: &mut Vec<u8>, depth: usize) {
    out.resize(out.len() + depth, b'\t');
}

/// `<name/>` on a line of its own.
fn empty_tag(out: &mut Vec<u8>, depth: usize, name: &str) {
    indent(out, depth);
    out.push(b'<');
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"/>\n");
}

/// `<name>text</name>` on a line of its own.
fn text_element(out: &mut Vec<u8>, depth: usize, name: &str, text: &[u8]) {
    indent(out, depth);
    out.push(b'<');
    out.extend_from_slice(name.as_bytes());
    out.push(b'>');
    out.extend_from_slice(text);
    out.extend_from_slice(b"</");
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b">\n");
}

/// proplib escapes only these three; quotes, control characters and
/// non-ASCII bytes pass through.
fn escape(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    for &b in text {
        match b {
            b'<' => out.extend_from_slice(b"&lt;"),
            b'>' => out.extend_from_slice(b"&gt;"),
            b'&' => out.extend_from_slice(b"&amp;"),
            _ => out.push(b),
        }
    }
    out
}

fn base64_encode(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b0 = chunk[0];
        let b1 = chunk.get(1).copied().unwrap_or(0);
        let b2 = chunk.get(2).copied().unwrap_or(0);
        let sextets = [
            b0 >> 2,
            (b0 & 0x03) << 4 | b1 >> 4,
            (b1 & 0x0f) << 2 | b2 >> 6,
            b2 & 0x3f,
        ];
        // A chunk of n bytes carries n + 1 meaningful sextets.
        for (i, &s) in sextets.iter().enumerate() {
            if i <= chunk.len() {
                out.push(BASE64_ALPHABET[usize::from(s)]);
            } else {
                out.push(b'=');
            }
        }
    }
    out
}

fn extern_dict(out: &mut Vec<u8>, dict: &Dict, depth: usize) {
    if dict.is_empty() {
        empty_tag(out, depth, "dict");
        return;
    }
    indent(out, depth);
    out.extend_from_slice(b"<dict>\n");
    for (key, value) in dict.iter() {
        text_element(out, depth + 1, "key", &escape(key));
        extern_value(out, value, depth + 1);
    }
    indent(out, depth);
    out.extend_from_slice(b"</dict>\n");
}

fn extern_value(out: &mut Vec<u8>, value: &Value, depth: usize) {
    match value {
        Value::Bool(true) => empty_tag(out, depth, "true"),
        Value::Bool(false) => empty_tag(out, depth, "false"),
        Value::Int(n) => text_element(out, depth, "integer", n.to_string().as_bytes()),
        Value::UInt(n) => text_element(out, depth, "integer", format!("0x{n:x}").as_bytes()),
        Value::String(s) => {
            let s = c_string(s);
            if s.is_empty() {
                empty_tag(out, depth, "string");
            } else {
                text_element(out, depth, "string", &escape(s));
            }
        }
        // proplib writes `<data/>` for empty data although its own
        // internalizer rejects that; we reproduce both halves.
        Value::Data(d) if d.is_empty() => empty_tag(out, depth, "data"),
        Value::Data(d) => text_element(out, depth, "data", &base64_encode(d)),
        Value::Array(items) if items.is_empty() => empty_tag(out, depth, "array"),
        Value::Array(items) => {
            indent(out, depth);
            out.extend_from_slice(b"<array>\n");
            for item in items {
                extern_value(out, item, depth + 1);
            }
            indent(out, depth);
            out.extend_from_slice(b"</array>\n");
        }
        Value::Dict(d) => extern_dict(out, d, depth),
    }
}

// ---------------------------------------------------------------------------
// Errors

/// What was wrong with a property list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PlistErrorKind {
    /// Nothing but whitespace.
    Empty,
    /// The first non-blank byte is not `<` (newer proplib would try JSON).
    NotXml,
    UnexpectedEof,
    /// Text where a tag should start.
    ExpectedTag,
    MalformedTag,
    MalformedAttribute,
    UnterminatedComment,
    /// A comment or start tag where an end tag must come.
    ExpectedEndTag,
    /// An end tag where a start tag must come.
    UnexpectedEndTag,
    /// An end tag for a different element.
    MismatchedEndTag,
    /// The document does not start with `<plist>`.
    ExpectedPlist,
    /// The top-level object is not a `<dict>`.
    NotDict,
    UnknownElement,
    /// An attribute the element does not take.
    UnexpectedAttribute,
    /// `<true>`/`<false>` with content, or `<plist/>`, `<integer/>`, `<data/>`.
    BadEmptiness,
    /// Something other than `<key>` or `</dict>` inside a dictionary.
    ExpectedKey,
    /// `<key/>`.
    EmptyKey,
    KeyTooLong,
    /// `&` not starting one of the five entities.
    BadEntity,
    BadInteger,
    BadBase64,
    /// `<data size="N">` with N not the decoded length.
    DataSizeMismatch,
    TooDeep,
}

impl PlistErrorKind {
    fn text(self) -> &'static str {
        match self {
            PlistErrorKind::Empty => "empty property list",
            PlistErrorKind::NotXml => "not an XML property list",
            PlistErrorKind::UnexpectedEof => "unexpected end of data",
            PlistErrorKind::ExpectedTag => "expected a tag",
            PlistErrorKind::MalformedTag => "malformed tag",
            PlistErrorKind::MalformedAttribute => "malformed attribute",
            PlistErrorKind::UnterminatedComment => "unterminated comment",
            PlistErrorKind::ExpectedEndTag => "expected an end tag",
            PlistErrorKind::UnexpectedEndTag => "unexpected end tag",
            PlistErrorKind::MismatchedEndTag => "end tag does not match element",
            PlistErrorKind::ExpectedPlist => "expected <plist>",
            PlistErrorKind::NotDict => "top-level object is not a <dict>",
            PlistErrorKind::UnknownElement => "unknown element",
            PlistErrorKind::UnexpectedAttribute => "unexpected attribute",
            PlistErrorKind::BadEmptiness => "element cannot be empty, or must be",
            PlistErrorKind::ExpectedKey => "expected <key> or </dict>",
            PlistErrorKind::EmptyKey => "empty <key/>",
            PlistErrorKind::KeyTooLong => "key longer than 128 bytes",
            PlistErrorKind::BadEntity => "unknown entity",
            PlistErrorKind::BadInteger => "invalid integer",
            PlistErrorKind::BadBase64 => "invalid base64 data",
            PlistErrorKind::DataSizeMismatch => "data size attribute does not match",
            PlistErrorKind::TooDeep => "nesting too deep",
        }
    }
}

/// A rejected property list: where (byte offset into the input) and why.
#[derive(Debug, Clone, PartialEq)]
pub struct PlistError {
    offset: usize,
    kind: PlistErrorKind,
}

impl PlistError {
    /// Byte offset into the input at which the problem was found.
    pub fn offset(&self) -> usize {
        self.offset
    }

    pub fn kind(&self) -> PlistErrorKind {
        self.kind
    }
}

impl fmt::Display for PlistError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.kind.text(), self.offset)
    }
}

impl std::error::Error for PlistError {}

// ---------------------------------------------------------------------------
// Internalize

/// proplib's `_PROP_ISSPACE` (without NUL, which ends our input instead).
fn is_xml_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Want {
    Start,
    End,
    Either,
}

struct Attr<'a> {
    name: &'a [u8],
    value: &'a [u8],
    value_at: usize,
}

struct Tag<'a> {
    at: usize,
    end: bool,
    name: &'a [u8],
    empty: bool,
    attr: Option<Attr<'a>>,
}

struct Parser<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Parser<'a> {
    fn new(xml: &'a [u8]) -> Parser<'a> {
        Parser {
            buf: c_string(xml),
            pos: 0,
        }
    }

    /// The byte at `i`, or NUL past the end: the C code's view of its
    /// NUL-terminated buffer, which keeps every look-ahead in bounds.
    fn at(&self, i: usize) -> u8 {
        self.buf.get(i).copied().unwrap_or(0)
    }

    fn starts_with_at(&self, i: usize, s: &[u8]) -> bool {
        self.buf.get(i..).is_some_and(|rest| rest.starts_with(s))
    }

    fn skip_space(&mut self) {
        while is_xml_space(self.at(self.pos)) {
            self.pos += 1;
        }
    }

    fn fail<T>(at: usize, kind: PlistErrorKind) -> Result<T, PlistError> {
        Err(PlistError { offset: at, kind })
    }

    fn document(&mut self) -> Result<Dict, PlistError> {
        self.skip_space();
        match self.at(self.pos) {
            0 => return Self::fail(self.pos, PlistErrorKind::Empty),
            b'<' => {}
            _ => return Self::fail(self.pos, PlistErrorKind::NotXml),
        }
        self.skip_preamble()?;

        let plist = self.find_tag(Want::Start)?;
        if plist.name != b"plist" {
            return Self::fail(plist.at, PlistErrorKind::ExpectedPlist);
        }
        if plist.empty {
            return Self::fail(plist.at, PlistErrorKind::BadEmptiness);
        }
        if let Some(attr) = &plist.attr {
            if attr.name != b"version" {
                return Self::fail(plist.at, PlistErrorKind::UnexpectedAttribute);
            }
        }

        let top = self.find_tag(Want::Start)?;
        if top.name != b"dict" {
            return Self::fail(top.at, PlistErrorKind::NotDict);
        }
        let dict = self.dict(&top, 1)?;

        let close = self.find_tag(Want::End)?;
        if close.name != b"plist" {
            return Self::fail(close.at, PlistErrorKind::MismatchedEndTag);
        }
        // proplib does not look past </plist>.
        Ok(dict)
    }

    /// Skips `<?xml ` and `<!DOCTYPE plist` declarations up to their first
    /// `>`. Comments are left to `find_tag` (proplib's own preamble check
    /// for comments can never match), so a declaration after a comment is
    /// an error, as in proplib.
    fn skip_preamble(&mut self) -> Result<(), PlistError> {
        loop {
            self.skip_space();
            let start = self.pos;
            match self.at(start) {
                b'<' => {}
                0 => return Self::fail(start, PlistErrorKind::UnexpectedEof),
                _ => return Self::fail(start, PlistErrorKind::ExpectedTag),
            }
            if !(self.starts_with_at(start + 1, b"?xml ")
                || self.starts_with_at(start + 1, b"!DOCTYPE plist"))
            {
                return Ok(());
            }
            match self.buf[start..].iter().position(|&b| b == b'>') {
                Some(gt) => self.pos = start + gt + 1,
                None => return Self::fail(start, PlistErrorKind::UnexpectedEof),
            }
        }
    }

    /// Scans the next tag as proplib's `_prop_xml_intern_find_tag` does,
    /// skipping whitespace and (unless an end tag is wanted) comments.
    fn find_tag(&mut self, want: Want) -> Result<Tag<'a>, PlistError> {
        use PlistErrorKind::*;
        loop {
            self.skip_space();
            let start = self.pos;
            match self.at(start) {
                0 => return Self::fail(start, UnexpectedEof),
                b'<' => {}
                _ => return Self::fail(start, ExpectedTag),
            }
            match self.at(start + 1) {
                0 => return Self::fail(start + 1, UnexpectedEof),
                b'!' => {
                    self.skip_comment(start, want)?;
                    continue;
                }
                _ => return self.tag_at(start, want),
            }
        }
    }

    /// Skips the comment at `start` (`<!--` ... `-->`).
    fn skip_comment(&mut self, start: usize, want: Want) -> Result<(), PlistError> {
        use PlistErrorKind::*;
        if self.at(start + 2) != b'-' || self.at(start + 3) != b'-' {
            return Self::fail(start, MalformedTag);
        }
        if want == Want::End {
            return Self::fail(start, ExpectedEndTag);
        }
        let body = start + 4;
        match self
            .buf
            .get(body..)
            .and_then(|rest| rest.windows(3).position(|w| w == b"-->"))
        {
            Some(i) => {
                self.pos = body + i + 3;
                Ok(())
            }
            None => Self::fail(start, UnterminatedComment),
        }
    }

    /// The start, end or empty tag at `start` (its `<` already seen).
    fn tag_at(&mut self, start: usize, want: Want) -> Result<Tag<'a>, PlistError> {
        use PlistErrorKind::*;
        let mut p = start + 1;
        let end = self.at(p) == b'/';
        if end {
            if want == Want::Start {
                return Self::fail(start, UnexpectedEndTag);
            }
            p += 1;
        } else if want == Want::End {
            return Self::fail(start, ExpectedEndTag);
        }
        let name_start = p;
        p = self.scan_until(p, |c| c == b'/' || c == b'>' || is_xml_space(c))?;
        let name = &self.buf[name_start..p];
        let mut empty = false;
        if self.at(p) == b'/' {
            if end {
                return Self::fail(start, MalformedTag);
            }
            empty = true;
            p += 1;
            match self.at(p) {
                b'>' => {}
                0 => return Self::fail(p, UnexpectedEof),
                _ => return Self::fail(p, MalformedTag),
            }
        }
        let attr = if self.at(p) == b'>' {
            self.pos = p + 1;
            None
        } else {
            Some(self.attribute(p)?)
        };
        Ok(Tag {
            at: start,
            end,
            name,
            empty,
            attr,
        })
    }

    /// The one attribute a tag may have, `name="value"`, from `p` (the
    /// byte after the tag name), through the closing `>`. Like proplib,
    /// the byte after the tag name is skipped whatever it is.
    fn attribute(&mut self, mut p: usize) -> Result<Attr<'a>, PlistError> {
        use PlistErrorKind::*;
        p += 1;
        while is_xml_space(self.at(p)) {
            p += 1;
        }
        let attr_start = p;
        p = self.scan_until(p, |c| c == b'=' || is_xml_space(c))?;
        let attr_name = &self.buf[attr_start..p];
        p += 1;
        match self.at(p) {
            b'"' => {}
            0 => return Self::fail(p, UnexpectedEof),
            _ => return Self::fail(p, MalformedAttribute),
        }
        let value_at = p + 1;
        p = self.scan_until(value_at, |c| c == b'"')?;
        let value = &self.buf[value_at..p];
        p += 1;
        match self.at(p) {
            b'>' => {}
            0 => return Self::fail(p, UnexpectedEof),
            _ => return Self::fail(p, MalformedAttribute),
        }
        self.pos = p + 1;
        Ok(Attr {
            name: attr_name,
            value,
            value_at,
        })
    }

    /// The position of the first byte from `p` on for which `stop` holds;
    /// the end of the text is an error.
    fn scan_until(&self, mut p: usize, stop: impl Fn(u8) -> bool) -> Result<usize, PlistError> {
        loop {
            match self.at(p) {
                0 => return Self::fail(p, PlistErrorKind::UnexpectedEof),
                c if stop(c) => return Ok(p),
                _ => p += 1,
            }
        }
    }

    /// Expects `</name>` next.
    fn end_tag(&mut self, name: &[u8]) -> Result<(), PlistError> {
        let tag = self.find_tag(Want::End)?;
        if tag.name != name {
            return Self::fail(tag.at, PlistErrorKind::MismatchedEndTag);
        }
        Ok(())
    }

    /// The object that starts with `tag` (already consumed).
    fn value(&mut self, tag: &Tag<'a>, depth: usize) -> Result<Value, PlistError> {
        use PlistErrorKind::*;
        match tag.name {
            b"dict" => self.dict(tag, depth).map(Value::Dict),
            b"array" => self.array(tag, depth).map(Value::Array),
            b"true" | b"false" => {
                if tag.attr.is_some() {
                    return Self::fail(tag.at, UnexpectedAttribute);
                }
                if !tag.empty {
                    return Self::fail(tag.at, BadEmptiness);
                }
                Ok(Value::Bool(tag.name == b"true"))
            }
            b"string" => {
                if tag.empty {
                    return Ok(Value::String(Vec::new()));
                }
                if tag.attr.is_some() {
                    return Self::fail(tag.at, UnexpectedAttribute);
                }
                let text = self.text(None)?;
                self.end_tag(b"string")?;
                Ok(Value::String(text))
            }
            b"integer" => {
                if tag.attr.is_some() {
                    return Self::fail(tag.at, UnexpectedAttribute);
                }
                if tag.empty {
                    return Self::fail(tag.at, BadEmptiness);
                }
                let value = self.integer()?;
                self.end_tag(b"integer")?;
                Ok(value)
            }
            b"data" => self.data(tag).map(Value::Data),
            _ => Self::fail(tag.at, UnknownElement),
        }
    }

    fn dict(&mut self, tag: &Tag<'a>, depth: usize) -> Result<Dict, PlistError> {
        use PlistErrorKind::*;
        if depth > MAX_DEPTH {
            return Self::fail(tag.at, TooDeep);
        }
        if tag.attr.is_some() {
            return Self::fail(tag.at, UnexpectedAttribute);
        }
        let mut dict = Dict::new();
        if tag.empty {
            return Ok(dict);
        }
        loop {
            let key_tag = self.find_tag(Want::Either)?;
            if key_tag.end && key_tag.name == b"dict" {
                return Ok(dict);
            }
            // proplib ignores an attribute on <key>.
            if key_tag.end || key_tag.name != b"key" {
                return Self::fail(key_tag.at, ExpectedKey);
            }
            if key_tag.empty {
                return Self::fail(key_tag.at, EmptyKey);
            }
            let key = self.text(Some(MAX_KEY_LEN))?;
            self.end_tag(b"key")?;
            let value_tag = self.find_tag(Want::Start)?;
            let value = self.value(&value_tag, depth + 1)?;
            // A later duplicate replaces the earlier value, as
            // prop_dictionary_set does. The key fits: checked above.
            dict.entries.insert(key, value);
        }
    }

    fn array(&mut self, tag: &Tag<'a>, depth: usize) -> Result<Vec<Value>, PlistError> {
        use PlistErrorKind::*;
        if depth > MAX_DEPTH {
            return Self::fail(tag.at, TooDeep);
        }
        if tag.attr.is_some() {
            return Self::fail(tag.at, UnexpectedAttribute);
        }
        let mut items = Vec::new();
        if tag.empty {
            return Ok(items);
        }
        loop {
            let item = self.find_tag(Want::Either)?;
            if item.end {
                if item.name == b"array" {
                    return Ok(items);
                }
                return Self::fail(item.at, UnexpectedEndTag);
            }
            items.push(self.value(&item, depth + 1)?);
        }
    }

    /// Character data up to the next `<`, with entities decoded. `limit`
    /// bounds the decoded length (keys).
    fn text(&mut self, limit: Option<usize>) -> Result<Vec<u8>, PlistError> {
        let start = self.pos;
        let mut out = Vec::new();
        loop {
            let p = self.pos;
            match self.at(p) {
                0 => return Self::fail(p, PlistErrorKind::UnexpectedEof),
                b'<' => return Ok(out),
                b'&' => {
                    let entities: [(&[u8], u8); 5] = [
                        (b"amp;", b'&'),
                        (b"lt;", b'<'),
                        (b"gt;", b'>'),
                        (b"apos;", b'\''),
                        (b"quot;", b'"'),
                    ];
                    let found = entities
                        .iter()
                        .find(|(name, _)| self.starts_with_at(p + 1, name));
                    match found {
                        Some((name, byte)) => {
                            out.push(*byte);
                            self.pos = p + 1 + name.len();
                        }
                        None => return Self::fail(p, PlistErrorKind::BadEntity),
                    }
                }
                b => {
                    out.push(b);
                    self.pos = p + 1;
                }
            }
            if limit.is_some_and(|max| out.len() > max) {
                return Self::fail(start, PlistErrorKind::KeyTooLong);
            }
        }
    }

    /// C `strtoll` with base 0 from `start` ([`cnum`]): `None` on ERANGE,
    /// else the value and the index past the digits (`start` when none).
    fn c_strtoll(&self, start: usize) -> Option<(i64, usize)> {
        let n = cnum::scan(&self.buf[start.min(self.buf.len())..], 0);
        match n.to_i64() {
            (_, true) => None,
            (v, false) => Some((v, start + n.end)),
        }
    }

    /// C `strtoull` with base 0: `None` on ERANGE; a `-` negates modulo
    /// 2^64, as in C.
    fn c_strtoull(&self, start: usize) -> Option<(u64, usize)> {
        let n = cnum::scan(&self.buf[start.min(self.buf.len())..], 0);
        Some((n.to_u64()?, start + n.end))
    }

    /// The text of `<integer>`: `-` → signed; `0x` → unsigned; otherwise
    /// signed, and unsigned when that overflows. Userland proplib rejects
    /// overflow (ERANGE); kernel proplib cannot see ERANGE and would keep
    /// a clamped value (UNVERIFIED what exactly it keeps).
    fn integer(&mut self) -> Result<Value, PlistError> {
        let start = self.pos;
        let bad = || PlistError {
            offset: start,
            kind: PlistErrorKind::BadInteger,
        };
        let (value, end) = if self.at(start) == b'-' {
            let (v, end) = self.c_strtoll(start).ok_or_else(bad)?;
            (Value::Int(v), end)
        } else if self.at(start) == b'0' && self.at(start + 1) == b'x' {
            let (v, end) = self.c_strtoull(start).ok_or_else(bad)?;
            (Value::UInt(v), end)
        } else if let Some((v, end)) = self.c_strtoll(start) {
            (Value::Int(v), end)
        } else {
            let (v, end) = self.c_strtoull(start).ok_or_else(bad)?;
            (Value::UInt(v), end)
        };
        // Junk after the digits surfaces as a missing </integer>; report
        // it as a bad integer, which is what it is.
        self.pos = end;
        self.skip_space();
        match self.at(self.pos) {
            b'<' => {}
            0 => return Self::fail(self.pos, PlistErrorKind::UnexpectedEof),
            _ => return Err(bad()),
        }
        Ok(value)
    }

    fn data(&mut self, tag: &Tag<'a>) -> Result<Vec<u8>, PlistError> {
        use PlistErrorKind::*;
        if tag.empty {
            return Self::fail(tag.at, BadEmptiness);
        }
        let size = match &tag.attr {
            None => None,
            Some(attr) => {
                if attr.name != b"size" || attr.value.is_empty() {
                    return Self::fail(tag.at, UnexpectedAttribute);
                }
                match self.c_strtoull(attr.value_at) {
                    Some((n, end)) if end == attr.value_at + attr.value.len() => Some(n),
                    _ => return Self::fail(attr.value_at, MalformedAttribute),
                }
            }
        };
        let start = self.pos;
        let bytes = self.base64()?;
        if size.is_some_and(|n| n != bytes.len() as u64) {
            return Self::fail(start, DataSizeMismatch);
        }
        self.end_tag(b"data")?;
        Ok(bytes)
    }

    /// Base64 up to the next `<`, as proplib decodes it: blanks anywhere,
    /// `=` padding required for a partial final group, nothing but blanks
    /// after the padding. Unused low bits of the last sextet are ignored.
    fn base64(&mut self) -> Result<Vec<u8>, PlistError> {
        use PlistErrorKind::{BadBase64, UnexpectedEof};
        let mut out = Vec::new();
        // Sextets seen in the current group of four.
        let mut state = 0u8;
        let mut partial = 0u8;
        let padded = loop {
            let p = self.pos;
            let c = self.at(p);
            match c {
                0 => return Self::fail(p, UnexpectedEof),
                b'<' => break false,
                b'=' => {
                    self.pos = p + 1;
                    break true;
                }
                c if is_xml_space(c) => self.pos = p + 1,
                _ => {
                    let Some(v) = BASE64_ALPHABET.iter().position(|&a| a == c) else {
                        return Self::fail(p, BadBase64);
                    };
                    let v = v as u8;
                    match state {
                        0 => partial = v << 2,
                        1 => {
                            out.push(partial | v >> 4);
                            partial = (v & 0x0f) << 4;
                        }
                        2 => {
                            out.push(partial | v >> 2);
                            partial = (v & 0x03) << 6;
                        }
                        _ => out.push(partial | v),
                    }
                    state = (state + 1) % 4;
                    self.pos = p + 1;
                }
            }
        };
        if !padded {
            if state != 0 {
                return Self::fail(self.pos, BadBase64);
            }
            return Ok(out);
        }
        // Just past the first '='.
        if self.at(self.pos) == 0 {
            return Self::fail(self.pos, UnexpectedEof);
        }
        match state {
            2 => {
                // A second '=' must follow, blanks allowed in between.
                self.skip_space();
                match self.at(self.pos) {
                    0 => return Self::fail(self.pos, UnexpectedEof),
                    b'=' => self.pos += 1,
                    _ => return Self::fail(self.pos, BadBase64),
                }
            }
            3 => {}
            _ => return Self::fail(self.pos - 1, BadBase64),
        }
        self.skip_space();
        match self.at(self.pos) {
            0 => Self::fail(self.pos, UnexpectedEof),
            b'<' => Ok(out),
            _ => Self::fail(self.pos, BadBase64),
        }
    }
}

#[cfg(test)]
mod tests;
