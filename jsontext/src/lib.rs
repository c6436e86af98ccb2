//! JSON text: a value type, a strict parser and a pretty writer.
//!
//! This replaces serde and serde_json, whose generic code cost each tool
//! tens of KiB. Everything here is plain functions over [`Value`]; the
//! documents involved (`--json` output, the emulator's `state.json` and
//! `profile.json`) hold only integers, so numbers are integers kept exact
//! and a fraction or exponent is refused.
//!
//! The writer's output is byte for byte what `serde_json::to_string_pretty`
//! wrote for the same document, so files and `--json` output did not
//! change when serde went.

use std::fmt;

/// How deeply arrays and objects may nest; a deeper document is refused
/// rather than recursed into (a hostile state file must not overflow the
/// stack). serde_json's limit was the same.
pub const MAX_DEPTH: usize = 128;

/// A JSON value. Objects keep their members in document order, duplicates
/// included (see [`Value::get`]).
#[derive(Debug, Clone)]
pub enum Value {
    Null,
    Bool(bool),
    /// An integer; the parser gives negative ones as `Int`, the others as
    /// `UInt`. Equality compares the numbers, not the variants.
    Int(i64),
    UInt(u64),
    String(String),
    Array(Vec<Value>),
    Object(Vec<(String, Value)>),
}

impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        use Value::*;
        match (self, other) {
            (Null, Null) => true,
            (Bool(a), Bool(b)) => a == b,
            (String(a), String(b)) => a == b,
            (Array(a), Array(b)) => a == b,
            (Object(a), Object(b)) => a == b,
            (Int(_) | UInt(_), Int(_) | UInt(_)) => {
                (self.as_i64(), self.as_u64()) == (other.as_i64(), other.as_u64())
            }
            _ => false,
        }
    }
}

impl Value {
    /// The member `key` of an object (the last one if the key repeats, as
    /// serde_json's maps kept it); `None` for other values.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_object()?
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            Value::UInt(u) => Some(u),
            Value::Int(i) => u64::try_from(i).ok(),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            Value::Int(i) => Some(i),
            Value::UInt(u) => i64::try_from(u).ok(),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    pub fn as_object(&self) -> Option<&[(String, Value)]> {
        match self {
            Value::Object(o) => Some(o),
            _ => None,
        }
    }

    /// What kind of value this is, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) | Value::UInt(_) => "an integer",
            Value::String(_) => "a string",
            Value::Array(_) => "an array",
            Value::Object(_) => "an object",
        }
    }

    /// The document as serde_json's `to_string_pretty` wrote it: two-space
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

/// An object with these members, in this order.
pub fn object(members: Vec<(&str, Value)>) -> Value {
    Value::Object(
        members
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    )
}

/// An array of strings.
pub fn strings<S: AsRef<str>>(items: &[S]) -> Value {
    Value::Array(items.iter().map(|s| Value::from(s.as_ref())).collect())
}

/// Bytes as an array of their values, `[104, 255]`.
pub fn byte_array(b: &[u8]) -> Value {
    Value::Array(b.iter().map(|&x| Value::UInt(x.into())).collect())
}

/// Bytes that are usually text but need not be UTF-8 (a module name): a
/// string when they are UTF-8, so that such files read as they always
/// did, else [`byte_array`]. JSON strings cannot hold other bytes, and an
/// array is never a string, so the two cannot be confused;
/// [`Fields::bytes`] reads either.
pub fn text_or_bytes(b: &[u8]) -> Value {
    match std::str::from_utf8(b) {
        Ok(s) => s.into(),
        Err(_) => byte_array(b),
    }
}

/// An array of [`text_or_bytes`].
pub fn texts_or_bytes<B: AsRef<[u8]>>(items: &[B]) -> Value {
    Value::Array(items.iter().map(|b| text_or_bytes(b.as_ref())).collect())
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
        Value::Object(o) if o.is_empty() => out.push_str("{}"),
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
            for (i, (k, item)) in o.iter().enumerate() {
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

// ---------------------------------------------------------------------
// Parsing

/// Why a text is not JSON, and where: 1-based line and byte column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub message: &'static str,
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at line {} column {}",
            self.message, self.line, self.column
        )
    }
}

impl std::error::Error for ParseError {}

/// Parses one JSON document (RFC 8259, integers only) with nothing but
/// whitespace after it.
pub fn parse(text: &[u8]) -> Result<Value, ParseError> {
    let mut p = Parser {
        s: text,
        pos: 0,
        items: Vec::new(),
        members: Vec::new(),
    };
    p.skip_ws();
    let v = p.value(0)?;
    p.skip_ws();
    if p.pos < text.len() {
        return Err(p.error("trailing characters"));
    }
    Ok(v)
}

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
    /// The elements and members of the arrays and objects being read,
    /// innermost last: each is moved out at its end into a vector of
    /// its exact size, rather than grown in steps.
    items: Vec<Value>,
    members: Vec<(String, Value)>,
}

impl Parser<'_> {
    fn error(&self, message: &'static str) -> ParseError {
        self.error_at(self.pos, message)
    }

    fn error_at(&self, pos: usize, message: &'static str) -> ParseError {
        let before = &self.s[..pos.min(self.s.len())];
        let line_start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        ParseError {
            message,
            line: 1 + before.iter().filter(|&&b| b == b'\n').count(),
            column: 1 + before.len() - line_start,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    /// Consumes `b` if it is next.
    fn eat(&mut self, b: u8) -> bool {
        let found = self.peek() == Some(b);
        if found {
            self.pos += 1;
        }
        found
    }

    fn value(&mut self, depth: usize) -> Result<Value, ParseError> {
        match self.peek() {
            None => Err(self.error("unexpected end of input, expected a value")),
            Some(b'{') => self.object(depth + 1),
            Some(b'[') => self.array(depth + 1),
            Some(b'"') => self.string().map(Value::String),
            Some(b't') => self.literal("true", Value::Bool(true)),
            Some(b'f') => self.literal("false", Value::Bool(false)),
            Some(b'n') => self.literal("null", Value::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.error("expected a value")),
        }
    }

    fn literal(&mut self, word: &str, v: Value) -> Result<Value, ParseError> {
        let start = self.pos;
        for &b in word.as_bytes() {
            if !self.eat(b) {
                return Err(self.error_at(start, "expected a value"));
            }
        }
        Ok(v)
    }

    fn enter(&mut self, depth: usize) -> Result<(), ParseError> {
        if depth > MAX_DEPTH {
            return Err(self.error("arrays and objects nested too deeply"));
        }
        self.pos += 1; // the opening bracket
        self.skip_ws();
        Ok(())
    }

    /// After a member: `,` (then whitespace) or the closing bracket.
    fn next_member(&mut self, close: u8) -> Result<bool, ParseError> {
        self.skip_ws();
        if self.eat(close) {
            return Ok(false);
        }
        if !self.eat(b',') {
            return Err(self.error(match (self.peek(), close) {
                (None, _) => "unexpected end of input in an array or object",
                (Some(_), b']') => "expected `,' or `]'",
                (Some(_), _) => "expected `,' or `}'",
            }));
        }
        self.skip_ws();
        if self.peek() == Some(close) {
            return Err(self.error("trailing comma"));
        }
        Ok(true)
    }

    fn array(&mut self, depth: usize) -> Result<Value, ParseError> {
        self.enter(depth)?;
        let start = self.items.len();
        if self.eat(b']') {
            return Ok(Value::Array(Vec::new()));
        }
        loop {
            let v = self.value(depth)?;
            self.items.push(v);
            if !self.next_member(b']')? {
                return Ok(Value::Array(self.items.split_off(start)));
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Value, ParseError> {
        self.enter(depth)?;
        let start = self.members.len();
        if self.eat(b'}') {
            return Ok(Value::Object(Vec::new()));
        }
        loop {
            if self.peek() != Some(b'"') {
                return Err(self.error("expected a string as object key"));
            }
            let key = self.string()?;
            self.skip_ws();
            if !self.eat(b':') {
                return Err(self.error("expected `:' after an object key"));
            }
            self.skip_ws();
            let v = self.value(depth)?;
            self.members.push((key, v));
            if !self.next_member(b'}')? {
                return Ok(Value::Object(self.members.split_off(start)));
            }
        }
    }

    /// An integer: `-?(0|[1-9][0-9]*)`, within i64 or u64.
    fn number(&mut self) -> Result<Value, ParseError> {
        let start = self.pos;
        let negative = self.eat(b'-');
        let first = self.pos;
        let mut magnitude: u64 = 0;
        while let Some(d @ b'0'..=b'9') = self.peek() {
            if self.pos > first && self.s[first] == b'0' {
                return Err(self.error_at(first, "number with a leading zero"));
            }
            magnitude = magnitude
                .checked_mul(10)
                .and_then(|m| m.checked_add(u64::from(d - b'0')))
                .ok_or_else(|| self.error_at(start, "integer out of range"))?;
            self.pos += 1;
        }
        if self.pos == first {
            return Err(self.error("expected a digit"));
        }
        if let Some(b'.' | b'e' | b'E') = self.peek() {
            return Err(self.error_at(start, "only integers are supported"));
        }
        if !negative {
            return Ok(Value::UInt(magnitude));
        }
        if magnitude == 0 {
            return Ok(Value::UInt(0));
        }
        // -magnitude fits in i64 down to i64::MIN, whose magnitude is 2^63.
        match 0i64.checked_sub_unsigned(magnitude) {
            Some(i) => Ok(Value::Int(i)),
            None => Err(self.error_at(start, "integer out of range")),
        }
    }

    /// A string literal, the cursor on its opening quote.
    fn string(&mut self) -> Result<String, ParseError> {
        self.pos += 1;
        let mut out = String::new();
        let mut run = self.pos;
        loop {
            let Some(b) = self.peek() else {
                return Err(self.error("unexpected end of input in a string"));
            };
            if b != b'"' && b != b'\\' && b >= 0x20 {
                self.pos += 1;
                continue;
            }
            // Escapes and quotes are ASCII, so runs between them must be
            // valid UTF-8 on their own.
            let text = std::str::from_utf8(&self.s[run..self.pos])
                .map_err(|e| self.error_at(run + e.valid_up_to(), "invalid UTF-8"))?;
            match b {
                // Most strings have no escapes: one allocation of the size.
                b'"' if out.is_empty() => {
                    self.pos += 1;
                    return Ok(text.to_owned());
                }
                b'"' => {
                    out.push_str(text);
                    self.pos += 1;
                    return Ok(out);
                }
                b'\\' => {
                    out.push_str(text);
                    out.push(self.escape()?);
                }
                _ => return Err(self.error("control character in a string")),
            }
            run = self.pos;
        }
    }

    /// One escape sequence, the cursor on its backslash.
    fn escape(&mut self) -> Result<char, ParseError> {
        let at = self.pos;
        self.pos += 1;
        let Some(b) = self.peek() else {
            return Err(self.error("unexpected end of input in a string"));
        };
        self.pos += 1;
        Ok(match b {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let unit = self.hex4()?;
                let code = match unit {
                    0xd800..=0xdbff => {
                        if !(self.eat(b'\\') && self.eat(b'u')) {
                            return Err(self.error_at(at, "lone surrogate in \\u escape"));
                        }
                        let low = self.hex4()?;
                        if !(0xdc00..=0xdfff).contains(&low) {
                            return Err(self.error_at(at, "lone surrogate in \\u escape"));
                        }
                        0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00)
                    }
                    0xdc00..=0xdfff => {
                        return Err(self.error_at(at, "lone surrogate in \\u escape"))
                    }
                    _ => unit,
                };
                // Surrogates were combined or refused above.
                char::from_u32(code).ok_or_else(|| self.error_at(at, "invalid \\u escape"))?
            }
            _ => return Err(self.error_at(at, "invalid escape")),
        })
    }

    fn hex4(&mut self) -> Result<u32, ParseError> {
        let mut unit = 0;
        for _ in 0..4 {
            let digit = self
                .peek()
                .and_then(|b| char::from(b).to_digit(16))
                .ok_or_else(|| self.error("expected four hex digits after \\u"))?;
            unit = unit * 16 + digit;
            self.pos += 1;
        }
        Ok(unit)
    }
}

// ---------------------------------------------------------------------
// Reading objects into structs

/// Where an object is in the document, for messages. Kept as parts and
/// written only when an error is reported: formatting a place for each of
/// a thousand records cost more than reading them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place<'p> {
    /// The document itself.
    Root,
    /// A member of the document (`builtins`).
    Named(&'p str),
    /// An element of an array member (`builtins[2]`).
    Item(&'p str, usize),
}

impl fmt::Display for Place<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::Root => Ok(()),
            Place::Named(name) => f.write_str(name),
            Place::Item(name, i) => write!(f, "{name}[{i}]"),
        }
    }
}

impl<'p> From<&'p str> for Place<'p> {
    fn from(s: &'p str) -> Place<'p> {
        if s.is_empty() {
            Place::Root
        } else {
            Place::Named(s)
        }
    }
}

/// Reads an object's members as a struct's fields, the way serde's derive
/// did: a repeated field is an error, and so (when `deny_unknown`) is a
/// field the struct does not have. Every error names the field, prefixed
/// with the object's own place in the document (`builtins[2].class`).
///
/// The getters return `None` for an absent field. The `opt_` ones stand for
/// `Option` fields and take `null` as absent; the others refuse `null`.
pub struct Fields<'a> {
    place: Place<'a>,
    members: &'a [(String, Value)],
}

impl<'a> Fields<'a> {
    /// `place` is where the object is (`""` or [`Place::Root`] for the
    /// document itself).
    pub fn new(
        v: &'a Value,
        place: impl Into<Place<'a>>,
        known: &[&str],
        deny_unknown: bool,
    ) -> Result<Fields<'a>, String> {
        let place = place.into();
        let members = v.as_object().ok_or_else(|| {
            let what = match place {
                Place::Root => "the document".to_string(),
                p => p.to_string(),
            };
            format!("{what}: expected an object, found {}", v.kind())
        })?;
        let f = Fields { place, members };
        // Which known fields were met, by index (a struct has fewer than
        // 128): a repeat is found without comparing names again.
        let mut met = 0u128;
        for (i, (k, _)) in members.iter().enumerate() {
            match known.iter().position(|n| *n == k.as_str()) {
                None if deny_unknown => {
                    return Err(f.error(&format!("unknown field `{k}'")));
                }
                None => {}
                Some(j) if j < 128 => {
                    if met & (1 << j) != 0 {
                        return Err(f.error(&format!("duplicate field `{k}'")));
                    }
                    met |= 1 << j;
                }
                Some(_) if members[..i].iter().any(|(seen, _)| seen == k) => {
                    return Err(f.error(&format!("duplicate field `{k}'")));
                }
                Some(_) => {}
            }
        }
        Ok(f)
    }

    /// `place` followed by `.name`: where a field is.
    pub fn place_of(&self, name: &str) -> String {
        match self.place {
            Place::Root => name.to_string(),
            p => format!("{p}.{name}"),
        }
    }

    /// An error about the object itself.
    fn error(&self, message: &str) -> String {
        match self.place {
            Place::Root => message.to_string(),
            p => format!("{p}: {message}"),
        }
    }

    /// An error about field `name`.
    pub fn field_error(&self, name: &str, message: &str) -> String {
        format!("{}: {message}", self.place_of(name))
    }

    /// The error for a required field that is absent.
    pub fn missing(&self, name: &str) -> String {
        self.error(&format!("missing field `{name}'"))
    }

    fn type_error(&self, name: &str, expected: &dyn fmt::Display, found: &Value) -> String {
        self.field_error(
            name,
            &format!("expected {expected}, found {}", found.kind()),
        )
    }

    /// The field's value, `null` included.
    pub fn value(&self, name: &str) -> Option<&'a Value> {
        self.members.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    /// The field's value, `null` counting as absent.
    pub fn opt_value(&self, name: &str) -> Option<&'a Value> {
        self.value(name).filter(|v| !v.is_null())
    }

    fn with<T>(
        &self,
        name: &str,
        v: Option<&'a Value>,
        expected: &dyn fmt::Display,
        get: impl Fn(&'a Value) -> Option<T>,
    ) -> Result<Option<T>, String> {
        match v {
            None => Ok(None),
            Some(v) => get(v)
                .map(Some)
                .ok_or_else(|| self.type_error(name, expected, v)),
        }
    }

    pub fn string(&self, name: &str) -> Result<Option<String>, String> {
        self.str_of(name, self.value(name))
    }

    pub fn opt_string(&self, name: &str) -> Result<Option<String>, String> {
        self.str_of(name, self.opt_value(name))
    }

    fn str_of(&self, name: &str, v: Option<&'a Value>) -> Result<Option<String>, String> {
        self.with(name, v, &"a string", |v| v.as_str().map(str::to_string))
    }

    pub fn bool(&self, name: &str) -> Result<Option<bool>, String> {
        self.with(name, self.value(name), &"a boolean", Value::as_bool)
    }

    pub fn opt_bool(&self, name: &str) -> Result<Option<bool>, String> {
        self.with(name, self.opt_value(name), &"a boolean", Value::as_bool)
    }

    /// An integer from 0 to `max`.
    pub fn uint(&self, name: &str, max: u64) -> Result<Option<u64>, String> {
        self.uint_of(name, self.value(name), max)
    }

    pub fn opt_uint(&self, name: &str, max: u64) -> Result<Option<u64>, String> {
        self.uint_of(name, self.opt_value(name), max)
    }

    fn uint_of(&self, name: &str, v: Option<&'a Value>, max: u64) -> Result<Option<u64>, String> {
        // format_args! inline: a `let` of it needs Rust 1.89, above our MSRV.
        let within = |v: &Value| v.as_u64().filter(|&u| u <= max);
        self.with(name, v, &format_args!("an integer from 0 to {max}"), within)
    }

    /// An integer from `min` to `max`.
    pub fn int(&self, name: &str, min: i64, max: i64) -> Result<Option<i64>, String> {
        self.int_of(name, self.value(name), min, max)
    }

    pub fn opt_int(&self, name: &str, min: i64, max: i64) -> Result<Option<i64>, String> {
        self.int_of(name, self.opt_value(name), min, max)
    }

    fn int_of(
        &self,
        name: &str,
        v: Option<&'a Value>,
        min: i64,
        max: i64,
    ) -> Result<Option<i64>, String> {
        let within = |v: &Value| v.as_i64().filter(|i| (min..=max).contains(i));
        self.with(
            name,
            v,
            &format_args!("an integer from {min} to {max}"),
            within,
        )
    }

    /// An array; its elements are the caller's to check.
    pub fn array(&self, name: &str) -> Result<Option<&'a [Value]>, String> {
        self.with(name, self.value(name), &"an array", Value::as_array)
    }

    pub fn opt_array(&self, name: &str) -> Result<Option<&'a [Value]>, String> {
        self.with(name, self.opt_value(name), &"an array", Value::as_array)
    }

    /// Bytes written by [`text_or_bytes`]: a string (its UTF-8 bytes) or
    /// an array of integers from 0 to 255.
    pub fn bytes(&self, name: &str) -> Result<Option<Vec<u8>>, String> {
        self.value(name)
            .map(|v| self.bytes_of(&name, v))
            .transpose()
    }

    pub fn opt_bytes(&self, name: &str) -> Result<Option<Vec<u8>>, String> {
        self.opt_value(name)
            .map(|v| self.bytes_of(&name, v))
            .transpose()
    }

    /// An array of [`Fields::bytes`] values.
    pub fn bytes_list(&self, name: &str) -> Result<Option<Vec<Vec<u8>>>, String> {
        let Some(items) = self.array(name)? else {
            return Ok(None);
        };
        items
            .iter()
            .enumerate()
            .map(|(i, v)| self.bytes_of(&format_args!("{name}[{i}]"), v))
            .collect::<Result<_, _>>()
            .map(Some)
    }

    /// `place` is the field, or an element of one (`deps[2]`), written
    /// only for an error.
    fn bytes_of(&self, place: &dyn fmt::Display, v: &Value) -> Result<Vec<u8>, String> {
        match v {
            Value::String(s) => Ok(s.as_bytes().to_vec()),
            Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, b)| {
                    // The `as` narrows a value checked to fit.
                    b.as_u64()
                        .filter(|&u| u <= 255)
                        .map(|u| u as u8)
                        .ok_or_else(|| {
                            let at = format!("{place}[{i}]");
                            self.type_error(&at, &"an integer from 0 to 255", b)
                        })
                })
                .collect(),
            other => {
                Err(self.type_error(&place.to_string(), &"a string or an array of bytes", other))
            }
        }
    }

    /// An array of strings.
    pub fn strings(&self, name: &str) -> Result<Option<Vec<String>>, String> {
        let Some(items) = self.array(name)? else {
            return Ok(None);
        };
        items
            .iter()
            .enumerate()
            .map(|(i, v)| {
                v.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| self.type_error(&format!("{name}[{i}]"), &"a string", v))
            })
            .collect::<Result<_, _>>()
            .map(Some)
    }
}

#[cfg(test)]
mod tests;
