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
mod tests {
    use super::*;

    const HEAD: &str = concat!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n",
        "<!DOCTYPE plist PUBLIC \"-//Apple Computer//DTD PLIST 1.0//EN\" ",
        "\"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n",
        "<plist version=\"1.0\">\n"
    );

    fn doc(body: &str) -> Vec<u8> {
        format!("{HEAD}{body}</plist>\n").into_bytes()
    }

    fn err_kind(xml: &[u8]) -> PlistErrorKind {
        match Dict::internalize(xml) {
            Ok(d) => panic!("accepted {:?} as {d:?}", String::from_utf8_lossy(xml)),
            Err(e) => e.kind(),
        }
    }

    fn parse_ok(xml: &[u8]) -> Dict {
        match Dict::internalize(xml) {
            Ok(d) => d,
            Err(e) => panic!("rejected {:?}: {e}", String::from_utf8_lossy(xml)),
        }
    }

    /// A dictionary holding one value under "k", written as plist body.
    fn one(value_xml: &str) -> Vec<u8> {
        doc(&format!("<dict>\n\t<key>k</key>\n\t{value_xml}\n</dict>\n"))
    }

    fn one_value(value_xml: &str) -> Value {
        parse_ok(&one(value_xml)).get(b"k").cloned().expect("key k")
    }

    fn one_err(value_xml: &str) -> PlistErrorKind {
        err_kind(&one(value_xml))
    }

    fn round_trip(d: &Dict) {
        let xml = d.externalize();
        assert_eq!(
            Dict::internalize(&xml).as_ref(),
            Ok(d),
            "{}",
            String::from_utf8_lossy(&xml)
        );
    }

    // --- externalize ---------------------------------------------------

    #[test]
    fn empty_dict_is_190_bytes() {
        let xml = Dict::new().externalize();
        assert_eq!(xml, doc("<dict/>\n"));
        assert_eq!(xml.len(), 190);
        assert_eq!(&xml[..HEAD.len()], HEAD.as_bytes());
        assert!(xml.ends_with(b"<plist version=\"1.0\">\n<dict/>\n</plist>\n"));
    }

    #[test]
    fn modload_worked_example() {
        // modload -p -b verbose=YES -i count=4k -s 'name=a<b & "c"' -s empty= -i neg=-5
        let mut d = Dict::new();
        assert!(d.set("verbose", Value::Bool(true)));
        assert!(d.set("count", Value::Int(4096)));
        assert!(d.set("name", Value::String(b"a<b & \"c\"".to_vec())));
        assert!(d.set("empty", Value::String(Vec::new())));
        assert!(d.set("neg", Value::Int(-5)));
        let expected = doc(concat!(
            "<dict>\n",
            "\t<key>count</key>\n",
            "\t<integer>4096</integer>\n",
            "\t<key>empty</key>\n",
            "\t<string/>\n",
            "\t<key>name</key>\n",
            "\t<string>a&lt;b &amp; \"c\"</string>\n",
            "\t<key>neg</key>\n",
            "\t<integer>-5</integer>\n",
            "\t<key>verbose</key>\n",
            "\t<true/>\n",
            "</dict>\n"
        ));
        assert_eq!(
            String::from_utf8(d.externalize()).unwrap(),
            String::from_utf8(expected).unwrap()
        );
        round_trip(&d);
    }

    #[test]
    fn observed_rump_modload_output() {
        // rump.modload -p -b a=yes -i n=4k -s s=hello, as NetBSD printed it
        let mut d = Dict::new();
        d.set("s", Value::String(b"hello".to_vec()));
        d.set("n", Value::Int(4096));
        d.set("a", Value::Bool(true));
        let expected = doc(concat!(
            "<dict>\n",
            "\t<key>a</key>\n",
            "\t<true/>\n",
            "\t<key>n</key>\n",
            "\t<integer>4096</integer>\n",
            "\t<key>s</key>\n",
            "\t<string>hello</string>\n",
            "</dict>\n"
        ));
        assert_eq!(d.externalize(), expected);
        round_trip(&d);
    }

    #[test]
    fn kernel_abi_example() {
        let mut d = Dict::new();
        d.set("prop_str", Value::String(b"1st string".to_vec()));
        d.set("prop_int", Value::Int(5));
        let expected = doc(concat!(
            "<dict>\n",
            "\t<key>prop_int</key>\n",
            "\t<integer>5</integer>\n",
            "\t<key>prop_str</key>\n",
            "\t<string>1st string</string>\n",
            "</dict>\n"
        ));
        assert_eq!(d.externalize(), expected);
        round_trip(&d);
    }

    #[test]
    fn nested_containers_indent_one_tab_per_level() {
        let mut inner = Dict::new();
        inner.set("x", Value::Bool(false));
        inner.set("deeper", Value::Dict(Dict::new()));
        let mut d = Dict::new();
        d.set(
            "list",
            Value::Array(vec![
                Value::Int(1),
                Value::Dict(inner.clone()),
                Value::Array(vec![]),
                Value::Array(vec![Value::String(b"s".to_vec())]),
            ]),
        );
        d.set("sub", Value::Dict(inner));
        let expected = doc(concat!(
            "<dict>\n",
            "\t<key>list</key>\n",
            "\t<array>\n",
            "\t\t<integer>1</integer>\n",
            "\t\t<dict>\n",
            "\t\t\t<key>deeper</key>\n",
            "\t\t\t<dict/>\n",
            "\t\t\t<key>x</key>\n",
            "\t\t\t<false/>\n",
            "\t\t</dict>\n",
            "\t\t<array/>\n",
            "\t\t<array>\n",
            "\t\t\t<string>s</string>\n",
            "\t\t</array>\n",
            "\t</array>\n",
            "\t<key>sub</key>\n",
            "\t<dict>\n",
            "\t\t<key>deeper</key>\n",
            "\t\t<dict/>\n",
            "\t\t<key>x</key>\n",
            "\t\t<false/>\n",
            "\t</dict>\n",
            "</dict>\n"
        ));
        assert_eq!(
            String::from_utf8(d.externalize()).unwrap(),
            String::from_utf8(expected).unwrap()
        );
        round_trip(&d);
    }

    #[test]
    fn integers_signed_decimal_unsigned_hex() {
        let mut d = Dict::new();
        d.set("a", Value::UInt(0));
        d.set("b", Value::UInt(255));
        d.set("c", Value::UInt(u64::MAX));
        d.set("d", Value::Int(i64::MIN));
        d.set("e", Value::Int(i64::MAX));
        d.set("f", Value::Int(0));
        let xml = String::from_utf8(d.externalize()).unwrap();
        assert!(xml.contains("\t<key>a</key>\n\t<integer>0x0</integer>\n"));
        assert!(xml.contains("\t<key>b</key>\n\t<integer>0xff</integer>\n"));
        assert!(xml.contains("\t<key>c</key>\n\t<integer>0xffffffffffffffff</integer>\n"));
        assert!(xml.contains("\t<key>d</key>\n\t<integer>-9223372036854775808</integer>\n"));
        assert!(xml.contains("\t<key>e</key>\n\t<integer>9223372036854775807</integer>\n"));
        assert!(xml.contains("\t<key>f</key>\n\t<integer>0</integer>\n"));
        round_trip(&d);
    }

    #[test]
    fn data_is_padded_base64() {
        let cases: [(&[u8], &str); 6] = [
            (b"f", "Zg=="),
            (b"fo", "Zm8="),
            (b"foo", "Zm9v"),
            (b"foob", "Zm9vYg=="),
            (b"fooba", "Zm9vYmE="),
            (b"\x00\xff\xfe\x80", "AP/+gA=="),
        ];
        for (raw, b64) in cases {
            let mut d = Dict::new();
            d.set("d", Value::Data(raw.to_vec()));
            let expected = doc(&format!(
                "<dict>\n\t<key>d</key>\n\t<data>{b64}</data>\n</dict>\n"
            ));
            assert_eq!(d.externalize(), expected, "{raw:?}");
            round_trip(&d);
        }
    }

    #[test]
    fn empty_data_externalizes_as_empty_tag_that_proplib_rejects() {
        let mut d = Dict::new();
        d.set("d", Value::Data(Vec::new()));
        let xml = d.externalize();
        assert_eq!(xml, doc("<dict>\n\t<key>d</key>\n\t<data/>\n</dict>\n"));
        assert_eq!(
            Dict::internalize(&xml).unwrap_err().kind(),
            PlistErrorKind::BadEmptiness
        );
        // The other spelling of empty data is accepted.
        assert_eq!(one_value("<data></data>"), Value::Data(Vec::new()));
    }

    #[test]
    fn holds_empty_data_looks_into_arrays_and_dictionaries() {
        let mut d = Dict::new();
        d.set("full", Value::Data(vec![1]));
        assert!(!d.holds_empty_data());
        let mut inner = Dict::new();
        inner.set("e", Value::Data(Vec::new()));
        let mut nested = d.clone();
        nested.set("a", Value::Array(vec![Value::Dict(inner)]));
        assert!(nested.holds_empty_data());
    }

    #[test]
    fn only_amp_lt_gt_are_escaped() {
        let mut d = Dict::new();
        d.set("k<&>'\"", Value::String(b"<>&'\"\t\x01\xc3\xa9".to_vec()));
        let xml = d.externalize();
        let body = "<dict>\n\t<key>k&lt;&amp;&gt;'\"</key>\n\t<string>&lt;&gt;&amp;'\"\t\x01\u{e9}</string>\n</dict>\n";
        assert_eq!(xml, doc(body));
        round_trip(&d);
    }

    #[test]
    fn keys_sorted_by_bytes() {
        let mut d = Dict::new();
        for k in ["b", "B", "a", "ab", "", "\u{e9}", "_", "A"] {
            d.set(k, Value::Bool(true));
        }
        let keys: Vec<&[u8]> = d.iter().map(|(k, _)| k).collect();
        let expected: [&[u8]; 8] = [
            b"",
            b"A",
            b"B",
            b"_",
            b"a",
            b"ab",
            b"b",
            "\u{e9}".as_bytes(),
        ];
        assert_eq!(keys, expected);
        round_trip(&d);
    }

    #[test]
    fn strings_are_c_strings() {
        let mut d = Dict::new();
        assert!(d.set(&b"ke\0junk"[..], Value::String(b"ab\0cd".to_vec())));
        assert_eq!(
            d.iter().map(|(k, _)| k.to_vec()).collect::<Vec<_>>(),
            vec![b"ke".to_vec()]
        );
        assert!(d.get(b"ke").is_some());
        assert!(d.get(b"ke\0other").is_some());
        assert_eq!(
            d.externalize(),
            doc("<dict>\n\t<key>ke</key>\n\t<string>ab</string>\n</dict>\n")
        );
        let mut e = Dict::new();
        e.set("s", Value::String(b"\0x".to_vec()));
        assert_eq!(
            e.externalize(),
            doc("<dict>\n\t<key>s</key>\n\t<string/>\n</dict>\n")
        );
        // Input ends at a NUL, as a C buffer does.
        let mut xml = doc("<dict/>\n");
        let cut = xml.len() - "</plist>\n".len();
        xml.insert(cut, 0);
        assert_eq!(err_kind(&xml), PlistErrorKind::UnexpectedEof);
    }

    // --- Dict ----------------------------------------------------------

    #[test]
    fn set_rejects_keys_over_128_bytes() {
        let mut d = Dict::new();
        assert!(d.set(vec![b'k'; 128], Value::Int(1)));
        assert!(!d.set(vec![b'k'; 129], Value::Int(2)));
        assert_eq!(d.len(), 1);
        assert_eq!(d.get(&[b'k'; 128]), Some(&Value::Int(1)));
        assert_eq!(d.get(&[b'k'; 129]), None);
        round_trip(&d);
    }

    #[test]
    fn set_get_remove_replace() {
        let mut d = Dict::new();
        assert!(d.is_empty());
        assert!(d.set("a", Value::Int(1)));
        assert!(d.set("a", Value::UInt(2)));
        assert_eq!(d.len(), 1);
        assert_eq!(d.get(b"a"), Some(&Value::UInt(2)));
        assert_eq!(d.remove(b"a"), Some(Value::UInt(2)));
        assert_eq!(d.remove(b"a"), None);
        assert!(d.is_empty());
    }

    #[test]
    fn merge_other_wins_and_keeps_the_rest() {
        let mut file = Dict::new();
        file.set("keep", Value::String(b"file".to_vec()));
        file.set("both", Value::String(b"file".to_vec()));
        let mut nested = Dict::new();
        nested.set("n", Value::Int(1));
        file.set("nested", Value::Dict(nested.clone()));
        let mut cli = Dict::new();
        cli.set("both", Value::Int(7));
        cli.set("new", Value::Bool(false));
        file.merge(&cli);
        assert_eq!(file.len(), 4);
        assert_eq!(file.get(b"keep"), Some(&Value::String(b"file".to_vec())));
        assert_eq!(file.get(b"both"), Some(&Value::Int(7)));
        assert_eq!(file.get(b"new"), Some(&Value::Bool(false)));
        assert_eq!(file.get(b"nested"), Some(&Value::Dict(nested)));
        // `other` is untouched.
        assert_eq!(cli.len(), 2);
    }

    // --- internalize: acceptance ----------------------------------------

    #[test]
    fn internalizes_without_preamble_and_with_comments() {
        let d =
            parse_ok(b"  \n<plist><!-- hi --><dict><key>a</key><!-- c --><true/></dict></plist>");
        assert_eq!(d.get(b"a"), Some(&Value::Bool(true)));
        let d = parse_ok(
            b"<plist version=\"anything\">\n<!-- a\n-- b -->\n<dict/>\n</plist>trailing junk",
        );
        assert!(d.is_empty());
        let d = parse_ok(
            b"<?xml version=\"1.0\"?>\r\n<!DOCTYPE plist SYSTEM \"x\">\r\n<plist>\r\n<dict>\r\n\t<key>a</key>\r\n\t<false/>\r\n</dict>\r\n</plist>\r\n",
        );
        assert_eq!(d.get(b"a"), Some(&Value::Bool(false)));
    }

    #[test]
    fn integer_parsing_follows_strtoll_base_0() {
        assert_eq!(one_value("<integer>010</integer>"), Value::Int(8));
        assert_eq!(one_value("<integer>0x10</integer>"), Value::UInt(16));
        assert_eq!(one_value("<integer>0X10</integer>"), Value::Int(16));
        assert_eq!(one_value("<integer>-5</integer>"), Value::Int(-5));
        assert_eq!(one_value("<integer>-0x10</integer>"), Value::Int(-16));
        assert_eq!(one_value("<integer>+7</integer>"), Value::Int(7));
        assert_eq!(one_value("<integer> \t42 \n</integer>"), Value::Int(42));
        assert_eq!(one_value("<integer>0</integer>"), Value::Int(0));
        // strtoll converts nothing: 0, as proplib.
        assert_eq!(one_value("<integer></integer>"), Value::Int(0));
        assert_eq!(
            one_value("<integer>9223372036854775807</integer>"),
            Value::Int(i64::MAX)
        );
        assert_eq!(
            one_value("<integer>-9223372036854775808</integer>"),
            Value::Int(i64::MIN)
        );
        // Overflowing signed falls back to unsigned.
        assert_eq!(
            one_value("<integer>9223372036854775808</integer>"),
            Value::UInt(1 << 63)
        );
        assert_eq!(
            one_value("<integer>18446744073709551615</integer>"),
            Value::UInt(u64::MAX)
        );
        assert_eq!(
            one_value("<integer>0xffffffffffffffff</integer>"),
            Value::UInt(u64::MAX)
        );
        // strtoull negates modulo 2^64 when a blank hides the '-' from proplib.
        assert_eq!(
            one_value("<integer> -9223372036854775809</integer>"),
            Value::UInt(9223372036854775807)
        );
    }

    #[test]
    fn integer_rejections() {
        for bad in [
            "<integer>08</integer>",
            "<integer>12a</integer>",
            "<integer>abc</integer>",
            "<integer>0x</integer>",
            "<integer>1.5</integer>",
            "<integer>-9223372036854775809</integer>",
            "<integer>18446744073709551616</integer>",
            "<integer>0x10000000000000000</integer>",
        ] {
            assert_eq!(one_err(bad), PlistErrorKind::BadInteger, "{bad}");
        }
        assert_eq!(one_err("<integer/>"), PlistErrorKind::BadEmptiness);
        assert_eq!(
            one_err("<integer a=\"1\">1</integer>"),
            PlistErrorKind::UnexpectedAttribute
        );
        assert_eq!(
            one_err("<integer>1</string>"),
            PlistErrorKind::MismatchedEndTag
        );
    }

    #[test]
    fn entities_decode() {
        assert_eq!(
            one_value("<string>&amp;&lt;&gt;&apos;&quot;x'\"></string>"),
            Value::String(b"&<>'\"x'\">".to_vec())
        );
        let d = parse_ok(&doc("<dict><key>a&amp;b</key><string/></dict>"));
        assert_eq!(d.get(b"a&b"), Some(&Value::String(Vec::new())));
    }

    #[test]
    fn strings_keep_whitespace() {
        assert_eq!(
            one_value("<string> a \n b </string>"),
            Value::String(b" a \n b ".to_vec())
        );
        assert_eq!(one_value("<string></string>"), Value::String(Vec::new()));
        let d = parse_ok(&doc("<dict><key> k </key><true/></dict>"));
        assert_eq!(d.get(b" k "), Some(&Value::Bool(true)));
    }

    #[test]
    fn empty_key_element_with_end_tag_is_the_empty_key() {
        let d = parse_ok(&doc("<dict><key></key><true/></dict>"));
        assert_eq!(d.get(b""), Some(&Value::Bool(true)));
    }

    #[test]
    fn key_of_128_bytes_accepted_after_entity_decoding() {
        let key = "&amp;".repeat(128);
        let d = parse_ok(&doc(&format!("<dict><key>{key}</key><true/></dict>")));
        assert_eq!(d.get(&[b'&'; 128]), Some(&Value::Bool(true)));
    }

    #[test]
    fn duplicate_keys_last_wins() {
        let d = parse_ok(&doc(
            "<dict><key>a</key><integer>1</integer><key>a</key><integer>2</integer></dict>",
        ));
        assert_eq!(d.len(), 1);
        assert_eq!(d.get(b"a"), Some(&Value::Int(2)));
    }

    #[test]
    fn data_decoding() {
        assert_eq!(one_value("<data>Zm9v</data>"), Value::Data(b"foo".to_vec()));
        assert_eq!(
            one_value("<data> Zm\n9v Yg = = </data>"),
            Value::Data(b"foob".to_vec())
        );
        assert_eq!(
            one_value("<data>Zm9vYmE=</data>"),
            Value::Data(b"fooba".to_vec())
        );
        assert_eq!(
            one_value("<data size=\"3\">Zm9v</data>"),
            Value::Data(b"foo".to_vec())
        );
        assert_eq!(
            one_value("<data size=\"0x3\">Zm9v</data>"),
            Value::Data(b"foo".to_vec())
        );
        assert_eq!(one_value("<data>\n</data>"), Value::Data(Vec::new()));
        for bad in [
            "<data>Zm9</data>",
            "<data>Z===</data>",
            "<data>Zg=</data>",
            "<data>Zg==x</data>",
            "<data>Zm*v</data>",
        ] {
            assert_eq!(one_err(bad), PlistErrorKind::BadBase64, "{bad}");
        }
        assert_eq!(
            one_err("<data size=\"4\">Zm9v</data>"),
            PlistErrorKind::DataSizeMismatch
        );
        assert_eq!(
            one_err("<data size=\"3x\">Zm9v</data>"),
            PlistErrorKind::MalformedAttribute
        );
        assert_eq!(
            one_err("<data len=\"3\">Zm9v</data>"),
            PlistErrorKind::UnexpectedAttribute
        );
        assert_eq!(
            one_err("<data size=\"\">Zm9v</data>"),
            PlistErrorKind::UnexpectedAttribute
        );
    }

    #[test]
    fn nested_input_parses() {
        let d = parse_ok(&doc(concat!(
            "<dict><key>a</key><array><integer>1</integer><array/><dict><key>x</key>",
            "<string>y</string></dict><data>AA==</data></array></dict>"
        )));
        let mut inner = Dict::new();
        inner.set("x", Value::String(b"y".to_vec()));
        assert_eq!(
            d.get(b"a"),
            Some(&Value::Array(vec![
                Value::Int(1),
                Value::Array(vec![]),
                Value::Dict(inner),
                Value::Data(vec![0]),
            ]))
        );
    }

    #[test]
    fn attribute_quirks_of_proplib() {
        // proplib ignores an attribute on <key> and on end tags.
        let d = parse_ok(&doc("<dict><key id=\"1\">a</key><true/></dict x=\"y\">"));
        assert_eq!(d.get(b"a"), Some(&Value::Bool(true)));
    }

    // --- internalize: rejection ------------------------------------------

    #[test]
    fn rejects_structural_errors() {
        use PlistErrorKind::*;
        assert_eq!(err_kind(b""), Empty);
        assert_eq!(err_kind(b" \n\t"), Empty);
        assert_eq!(err_kind(b"garbage"), NotXml);
        assert_eq!(err_kind(b"{\"a\": 1}"), NotXml);
        assert_eq!(err_kind(b"<dict/>"), ExpectedPlist);
        assert_eq!(err_kind(b"<plist/>"), BadEmptiness);
        assert_eq!(
            err_kind(b"<plist version=\"1.0\" x=\"y\"><dict/></plist>"),
            MalformedAttribute
        );
        assert_eq!(
            err_kind(b"<plist foo=\"1.0\"><dict/></plist>"),
            UnexpectedAttribute
        );
        assert_eq!(err_kind(&doc("<array/>\n")), NotDict);
        assert_eq!(err_kind(&doc("<string>x</string>\n")), NotDict);
        assert_eq!(
            err_kind(&doc("<dict/>\n").replace_tail(b"</plist>\n", b"")),
            UnexpectedEof
        );
        assert_eq!(
            err_kind(&doc("<dict/>\n").replace_tail(b"</plist>\n", b"</plst>")),
            MismatchedEndTag
        );
        assert_eq!(err_kind(&doc("<dict>")), ExpectedKey);
        assert_eq!(err_kind(&doc("<dict a=\"b\"/>")), MalformedAttribute);
        assert_eq!(err_kind(&doc("<dict a=\"b\"></dict>")), UnexpectedAttribute);
        assert_eq!(
            err_kind(b"<plist><!-- never ends <dict/></plist>"),
            UnterminatedComment
        );
        assert_eq!(err_kind(b"<plist><!x><dict/></plist>"), MalformedTag);
        // A declaration after a comment is not skipped (proplib's preamble
        // loop stops at the comment), so it fails as a malformed tag.
        assert_eq!(
            err_kind(b"<!-- c --><?xml version=\"1.0\"?><plist><dict/></plist>"),
            MalformedAttribute
        );
        assert_eq!(
            err_kind(b"<!-- c --><!DOCTYPE plist><plist><dict/></plist>"),
            MalformedTag
        );
        assert_eq!(err_kind(b"<?xml version=\"1.0\""), UnexpectedEof);
        assert_eq!(err_kind(b"<?xml version=\"1.0\"?>\n"), UnexpectedEof);
        assert_eq!(err_kind(b"<?xml version=\"1.0\"?>junk"), ExpectedTag);
    }

    #[test]
    fn rejects_unknown_elements_and_bad_values() {
        use PlistErrorKind::*;
        assert_eq!(one_err("<real>1.0</real>"), UnknownElement);
        assert_eq!(one_err("<date>2020</date>"), UnknownElement);
        assert_eq!(one_err("<key>x</key>"), UnknownElement);
        assert_eq!(one_err("<plist/>"), UnknownElement);
        assert_eq!(one_err("<true>"), BadEmptiness);
        assert_eq!(one_err("<false></false>"), BadEmptiness);
        assert_eq!(one_err("<string>a&nbsp;b</string>"), BadEntity);
        assert_eq!(one_err("<string>a&#65;b</string>"), BadEntity);
        assert_eq!(one_err("<string>a & b</string>"), BadEntity);
        assert_eq!(one_err("<string><![CDATA[x]]></string>"), MalformedTag);
        assert_eq!(one_err("<string a=\"b\">x</string>"), UnexpectedAttribute);
        assert_eq!(one_err("<string>x</strin>"), MismatchedEndTag);
        assert_eq!(one_err("<array><true/></dict>"), UnexpectedEndTag);
        assert_eq!(one_err("</string>"), UnexpectedEndTag);
    }

    #[test]
    fn rejects_bad_keys() {
        use PlistErrorKind::*;
        assert_eq!(err_kind(&doc("<dict><key/><true/></dict>")), EmptyKey);
        let long = "k".repeat(129);
        assert_eq!(
            err_kind(&doc(&format!("<dict><key>{long}</key><true/></dict>"))),
            KeyTooLong
        );
        let long = "&lt;".repeat(129);
        assert_eq!(
            err_kind(&doc(&format!("<dict><key>{long}</key><true/></dict>"))),
            KeyTooLong
        );
        assert_eq!(err_kind(&doc("<dict><true/></dict>")), ExpectedKey);
        assert_eq!(
            err_kind(&doc("<dict><key>a</key></dict>")),
            UnexpectedEndTag
        );
        assert_eq!(
            err_kind(&doc("<dict><key>a</key><!-- x --></dict>")),
            UnexpectedEndTag
        );
        assert_eq!(
            err_kind(&doc("<dict><key>a<!-- x --></key><true/></dict>")),
            ExpectedEndTag
        );
    }

    #[test]
    fn rejects_unterminated_tags() {
        use PlistErrorKind::*;
        for cut in [
            "<dict><key>a</key><true/",
            "<dict><key>a</ke",
            "<dict><key>a",
            "<dict",
            "<dict><key>a</key><string>abc",
        ] {
            let mut xml = HEAD.as_bytes().to_vec();
            xml.extend_from_slice(cut.as_bytes());
            assert_eq!(err_kind(&xml), UnexpectedEof, "{cut}");
        }
        assert_eq!(
            err_kind(&doc("<dict><key>a</key><true/ ></dict>")),
            MalformedTag
        );
        assert_eq!(
            err_kind(&doc("<dict><key>a</key><string a=b>x</string></dict>")),
            MalformedAttribute
        );
    }

    #[test]
    fn nesting_depth_is_bounded() {
        let nest = |levels: usize| {
            let mut body = String::from("<dict><key>k</key>");
            body.push_str(&"<array>".repeat(levels - 1));
            body.push_str(&"</array>".repeat(levels - 1));
            body.push_str("</dict>");
            doc(&body)
        };
        assert!(Dict::internalize(&nest(MAX_DEPTH)).is_ok());
        assert_eq!(err_kind(&nest(MAX_DEPTH + 1)), PlistErrorKind::TooDeep);
        // Far deeper than any stack would survive unbounded.
        assert_eq!(err_kind(&nest(200_000)), PlistErrorKind::TooDeep);
    }

    #[test]
    fn error_reports_offset_and_reason() {
        let xml = doc("<dict><key>a</key><bogus/></dict>");
        let err = Dict::internalize(&xml).unwrap_err();
        let at = HEAD.len() + "<dict><key>a</key>".len();
        assert_eq!(err.offset(), at);
        assert_eq!(err.to_string(), format!("unknown element at byte {at}"));
    }

    trait ReplaceTail {
        fn replace_tail(self, old: &[u8], new: &[u8]) -> Vec<u8>;
    }

    impl ReplaceTail for Vec<u8> {
        fn replace_tail(mut self, old: &[u8], new: &[u8]) -> Vec<u8> {
            assert!(self.ends_with(old));
            self.truncate(self.len() - old.len());
            self.extend_from_slice(new);
            self
        }
    }

    // --- randomized robustness -------------------------------------------

    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            let mut x = self.0;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            self.0 = x;
            x
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    #[test]
    fn mutated_input_never_panics_and_accepted_input_round_trips() {
        let mut seed_dict = Dict::new();
        seed_dict.set("count", Value::Int(-42));
        seed_dict.set("hex", Value::UInt(0xdead));
        seed_dict.set("name", Value::String(b"a<b & 'c'".to_vec()));
        seed_dict.set("blob", Value::Data(b"\x00\x01binary".to_vec()));
        let mut inner = Dict::new();
        inner.set("flag", Value::Bool(true));
        seed_dict.set(
            "list",
            Value::Array(vec![
                Value::Dict(inner),
                Value::Array(vec![]),
                Value::Bool(false),
            ]),
        );
        let seed = seed_dict.externalize();

        const SNIPPETS: [&[u8]; 14] = [
            b"<",
            b">",
            b"/",
            b"&",
            b"\"",
            b"=",
            b" ",
            b"\0",
            b"<!--",
            b"-->",
            b"&amp;",
            b"<dict>",
            b"</array>",
            b"0x",
        ];
        let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
        let mut accepted = 0;
        for _ in 0..20_000 {
            let mut xml = seed.clone();
            for _ in 0..1 + rng.below(4) {
                let at = rng.below(xml.len() + 1);
                match rng.below(5) {
                    0 if at < xml.len() => xml[at] = rng.next() as u8,
                    1 if at < xml.len() => {
                        xml.remove(at);
                    }
                    2 => {
                        let s = SNIPPETS[rng.below(SNIPPETS.len())];
                        xml.splice(at..at, s.iter().copied());
                    }
                    3 => xml.truncate(at),
                    _ => {
                        // Duplicate a slice elsewhere, to grow nesting.
                        let from = rng.below(xml.len() + 1);
                        let to = (from + rng.below(40)).min(xml.len());
                        let piece = xml[from..to].to_vec();
                        xml.splice(at..at, piece);
                    }
                }
            }
            if let Ok(d) = Dict::internalize(&xml) {
                accepted += 1;
                if !d.holds_empty_data() {
                    round_trip(&d);
                }
            }
        }
        // The mutations must leave some documents valid, or the round-trip
        // half of this test checks nothing.
        assert!(accepted > 200, "only {accepted} mutants parsed");
    }
}
