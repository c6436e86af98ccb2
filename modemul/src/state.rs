//! The emulated kernel's state: the two module lists of kern_module.c, as
//! `state.json` holds them (how the file is kept is [`crate::statedir`]'s).
//!
//! Module names (`name`, `required`, `deps`) are bytes, as the kernel's
//! are. JSON strings hold only UTF-8, so a name that is UTF-8 is written
//! as a string (files written before names were bytes read unchanged) and
//! any other as an array of its byte values, `"name": [104, 255]`; both
//! forms are read ([`crate::jsonio::Bytes`]).

use serde::{Deserialize, Serialize, Serializer};

use crate::jsonio::{self, is_zero, Obj, TextOrBytes, TextsOrBytes};
use libmodctl::ModName;

pub const STATE_FILE: &str = "state.json";
pub const PROFILE_FILE: &str = "profile.json";
pub const LOCK_FILE: &str = "lock";

/// The state file's format version.
pub const FORMAT: u32 = 1;

/// One module record: the engine's (`struct module` plus what the
/// emulator keeps). In the file, `name`, `class` and `source` are
/// required and the other fields default to zero, none or empty; the
/// `Option` ones and the lists are left out when none or empty (see
/// [`RecOut`]).
pub use modobj::engine::Module as ModRec;

/// A record as the file holds it; unknown fields are errors, `null` is
/// none for the `Option` fields and an error for the others.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RecIn {
    #[serde(deserialize_with = "jsonio::bytes")]
    name: Vec<u8>,
    class: i32,
    source: i32,
    #[serde(default)]
    flags: u32,
    #[serde(default)]
    refcnt: u32,
    #[serde(default, deserialize_with = "jsonio::opt_bytes")]
    required: Option<Vec<u8>>,
    #[serde(default, deserialize_with = "jsonio::bytes_list")]
    deps: Vec<Vec<u8>>,
    #[serde(default)]
    addr: u64,
    #[serde(default)]
    size: u64,
    #[serde(default)]
    version: u32,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    globals: Vec<String>,
    #[serde(default)]
    autotime: u64,
    #[serde(default)]
    props: Option<String>,
}

impl From<Obj<RecIn>> for ModRec {
    fn from(Obj(r): Obj<RecIn>) -> ModRec {
        ModRec {
            name: ModName::new(r.name),
            class: r.class,
            source: r.source,
            flags: r.flags,
            refcnt: r.refcnt,
            required: r.required,
            deps: r.deps.into_iter().map(ModName::new).collect(),
            addr: r.addr,
            size: r.size,
            version: r.version,
            path: r.path,
            globals: r.globals,
            autotime: r.autotime,
            props: r.props,
        }
    }
}

/// A record as it is written, in this order, leaving out unset options,
/// empty lists and numbers that are 0 (read back as 0): a kernel with a
/// thousand built-ins is read on every call, and most of their numbers
/// are 0.
#[derive(Serialize)]
struct RecOut<'a> {
    name: TextOrBytes<'a>,
    class: i32,
    source: i32,
    #[serde(skip_serializing_if = "is_zero")]
    flags: u32,
    #[serde(skip_serializing_if = "is_zero")]
    refcnt: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    required: Option<TextOrBytes<'a>>,
    #[serde(skip_serializing_if = "<[_]>::is_empty", serialize_with = "names")]
    deps: &'a [ModName],
    #[serde(skip_serializing_if = "is_zero")]
    addr: u64,
    #[serde(skip_serializing_if = "is_zero")]
    size: u64,
    #[serde(skip_serializing_if = "is_zero")]
    version: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<&'a str>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    globals: &'a [String],
    #[serde(skip_serializing_if = "is_zero")]
    autotime: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    props: Option<&'a str>,
}

impl<'a> RecOut<'a> {
    fn of(m: &'a ModRec) -> RecOut<'a> {
        RecOut {
            name: TextOrBytes(m.name.as_bytes()),
            class: m.class,
            source: m.source,
            flags: m.flags,
            refcnt: m.refcnt,
            required: m.required.as_deref().map(TextOrBytes),
            deps: &m.deps,
            addr: m.addr,
            size: m.size,
            version: m.version,
            path: m.path.as_deref(),
            globals: &m.globals,
            autotime: m.autotime,
            props: m.props.as_deref(),
        }
    }
}

/// `deps`: names as [`TextOrBytes`].
fn names<S: Serializer>(l: &&[ModName], s: S) -> Result<S::Ok, S::Error> {
    TextsOrBytes(l).serialize(s)
}

/// A list of records, written as [`RecOut`]s.
fn records<S: Serializer>(l: &&[ModRec], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(l.iter().map(RecOut::of))
}

/// The document as read: every field is required but `boot_messages`,
/// unknown ones are errors.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StateIn {
    format: u32,
    serial: u64,
    active: Vec<Obj<RecIn>>,
    builtins: Vec<Obj<RecIn>>,
    #[serde(default)]
    boot_messages: Vec<String>,
}

/// The document as written, in this order.
#[derive(Serialize)]
struct StateOut<'a> {
    format: u32,
    serial: u64,
    #[serde(serialize_with = "records")]
    active: &'a [ModRec],
    #[serde(serialize_with = "records")]
    builtins: &'a [ModRec],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    boot_messages: &'a [String],
}

/// The kernel's module lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    pub format: u32,
    /// Number of state changes applied since boot.
    pub serial: u64,
    /// `module_list`: active modules, newest first.
    pub active: Vec<ModRec>,
    /// `module_builtins`: built-ins that are not active, in list order.
    pub builtins: Vec<ModRec>,
    /// What the boot loader and the kernel printed while booting (the
    /// boot loader's warnings, `module_prime` and `module_init_class`
    /// errors), as `dmesg` would show them. Left out of the file when
    /// empty.
    pub boot_messages: Vec<String>,
}

impl State {
    pub fn empty() -> State {
        State {
            format: FORMAT,
            serial: 0,
            active: Vec::new(),
            builtins: Vec::new(),
            boot_messages: Vec::new(),
        }
    }

    /// The active module of exactly that name (bytes, as strcmp).
    pub fn active(&self, name: impl AsRef<[u8]>) -> Option<&ModRec> {
        let name = name.as_ref();
        self.active.iter().find(|m| m.name == name)
    }

    pub fn active_mut(&mut self, name: impl AsRef<[u8]>) -> Option<&mut ModRec> {
        let name = name.as_ref();
        self.active.iter_mut().find(|m| m.name == name)
    }

    /// Parses and checks a state file's contents.
    pub fn parse(text: &[u8]) -> Result<State, String> {
        let st = State::from_json(text)?;
        st.check()?;
        Ok(st)
    }

    /// Reads the document, unchecked.
    fn from_json(text: &[u8]) -> Result<State, String> {
        let Obj(doc) = jsonio::read::<Obj<StateIn>>(text)?;
        Ok(State {
            format: doc.format,
            serial: doc.serial,
            active: doc.active.into_iter().map(ModRec::from).collect(),
            builtins: doc.builtins.into_iter().map(ModRec::from).collect(),
            boot_messages: doc.boot_messages,
        })
    }

    /// The file's contents.
    pub fn encode(&self) -> Vec<u8> {
        jsonio::write_outline(&StateOut {
            format: self.format,
            serial: self.serial,
            active: &self.active,
            builtins: &self.builtins,
            boot_messages: &self.boot_messages,
        })
    }

    #[cfg(test)]
    pub fn to_json(&self) -> Vec<u8> {
        self.encode()
    }

    /// The invariants the emulator relies on; a file that breaks them was
    /// not written by it.
    fn check(&self) -> Result<(), String> {
        if self.format != FORMAT {
            return Err(format!(
                "unsupported format {} (expected {FORMAT})",
                self.format
            ));
        }
        let mut seen = std::collections::BTreeSet::new();
        for m in &self.active {
            if !seen.insert(m.name.as_bytes()) {
                return Err(format!("module `{}' is active twice", m.name));
            }
        }
        for m in &self.builtins {
            if !m.is_builtin() {
                return Err(format!(
                    "`{}' is on the built-in list but not built in",
                    m.name
                ));
            }
            if seen.contains(m.name.as_bytes()) {
                return Err(format!("module `{}' is both active and disabled", m.name));
            }
        }
        // How many active modules hold each one, counted in one pass (a
        // kernel may list thousands of modules).
        let mut holders: std::collections::BTreeMap<&[u8], u64> = std::collections::BTreeMap::new();
        for m in &self.active {
            for d in &m.deps {
                if !seen.contains(d.as_bytes()) {
                    return Err(format!("`{}' requires `{d}', which is not active", m.name));
                }
                *holders.entry(d.as_bytes()).or_default() += 1;
            }
        }
        for m in &self.active {
            let held = holders.get(m.name.as_bytes()).copied().unwrap_or(0);
            if held > u64::from(m.refcnt) {
                return Err(format!(
                    "`{}' has refcount {} but {held} modules require it",
                    m.name, m.refcnt
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(name: &str, refcnt: u32, deps: &[&str]) -> ModRec {
        let mut m = ModRec::builtin(name, 1, None);
        m.source = 2;
        m.refcnt = refcnt;
        m.deps = deps.iter().map(|&s| s.into()).collect();
        m
    }

    #[test]
    fn round_trip_and_invariants() {
        let mut st = State::empty();
        st.active = vec![rec("needy", 0, &["hello"]), rec("hello", 1, &[])];
        st.builtins = vec![ModRec::builtin("tmpfs", 2, None)];
        assert_eq!(State::parse(&st.to_json()).unwrap(), st);

        let mut bad = st.clone();
        bad.active[1].refcnt = 0;
        assert!(State::parse(&bad.to_json())
            .unwrap_err()
            .contains("refcount"));
        let mut bad = st.clone();
        bad.active.pop();
        assert!(State::parse(&bad.to_json())
            .unwrap_err()
            .contains("not active"));
        let mut bad = st.clone();
        bad.builtins.push(ModRec::builtin("hello", 1, None));
        assert!(State::parse(&bad.to_json()).is_err());
        let mut bad = st.clone();
        bad.format = 99;
        assert!(State::parse(&bad.to_json()).is_err());
        assert!(State::parse(b"{\"format\":1").is_err());
        assert!(State::parse(b"").is_err());
    }

    /// The text the serde-based writer produced for this state (taken from
    /// it before it was replaced), but for numbers of 0, now left out, and
    /// what is written now (a module a line, members in the same order):
    /// what either wrote must read the same.
    #[test]
    fn written_as_before() {
        let mut st = State::empty();
        let mut full = ModRec::builtin("full\"\\\u{1}\u{1f}\u{7f}é😀/", -3, Some("a,b".into()));
        full.source = 2;
        full.flags = u32::MAX;
        full.refcnt = 7;
        full.deps = vec!["x".into(), "y\n".into()];
        full.addr = u64::MAX;
        full.size = 12345;
        full.version = 1001000000;
        full.path = Some("/tmp/p\tq".into());
        full.globals = vec!["g1".into()];
        full.autotime = 99;
        full.props = Some("<?xml version=\"1.0\"?>\n<plist>\n\t<dict/>\n</plist>\n".into());
        st.active.push(full);
        st.builtins.push(ModRec::builtin("tmpfs", 2, None));
        st.serial = u64::MAX;
        let expected = concat!(
            r#"{
  "format": 1,
  "serial": 18446744073709551615,
  "active": [
    {
      "name": "full\"\\\u0001\u001f"#,
            "\u{7f}",
            r#"é😀/",
      "class": -3,
      "source": 2,
      "flags": 4294967295,
      "refcnt": 7,
      "required": "a,b",
      "deps": [
        "x",
        "y\n"
      ],
      "addr": 18446744073709551615,
      "size": 12345,
      "version": 1001000000,
      "path": "/tmp/p\tq",
      "globals": [
        "g1"
      ],
      "autotime": 99,
      "props": "<?xml version=\"1.0\"?>\n<plist>\n\t<dict/>\n</plist>\n"
    }
  ],
  "builtins": [
    {
      "name": "tmpfs",
      "class": 2,
      "source": 0
    }
  ]
}
"#
        );
        // Written now with a module a line; what was written before reads
        // the same.
        let outline = concat!(
            "{\n  \"format\": 1,\n  \"serial\": 18446744073709551615,\n  \"active\": [\n    ",
            r#"{"name": "full\"\\\u0001\u001f"#,
            "\u{7f}",
            r#"é😀/", "class": -3, "source": 2, "flags": 4294967295, "refcnt": 7, "required": "a,b", "deps": ["x", "y\n"], "addr": 18446744073709551615, "size": 12345, "version": 1001000000, "path": "/tmp/p\tq", "globals": ["g1"], "autotime": 99, "props": "<?xml version=\"1.0\"?>\n<plist>\n\t<dict/>\n</plist>\n"}"#,
            "\n  ],\n  \"builtins\": [\n    ",
            r#"{"name": "tmpfs", "class": 2, "source": 0}"#,
            "\n  ]\n}\n"
        );
        assert_eq!(String::from_utf8(st.encode()).unwrap(), outline);
        assert_eq!(State::from_json(outline.as_bytes()), Ok(st.clone()));
        assert_eq!(State::from_json(expected.as_bytes()), Ok(st.clone()));
        // Files written before numbers of 0 were left out read the same.
        let zeros = expected.replace(
            "\"source\": 0\n",
            "\"source\": 0,\n      \"flags\": 0,\n      \"refcnt\": 0,\n      \"addr\": 0,\n      \
             \"size\": 0,\n      \"version\": 0,\n      \"autotime\": 0\n",
        );
        assert!(zeros.contains("\"autotime\": 0"), "{zeros}");
        assert_eq!(State::from_json(zeros.as_bytes()), Ok(st));
    }

    /// Defaults and `null`s read as the serde-based reader read them; each
    /// error names the field and its place in the file.
    #[test]
    fn accepted_shapes_and_errors() {
        let one = |rec: &str| {
            let text =
                format!(r#"{{"format": 1, "serial": 2, "active": [{rec}], "builtins": []}}"#);
            State::parse(text.as_bytes()).map(|s| s.active[0].clone())
        };
        let m = one(
            r#"{"name": "m", "class": 1, "source": 2, "required": null, "path": null,
                        "props": null, "deps": []}"#,
        )
        .unwrap();
        let mut expected = ModRec::builtin("m", 1, None);
        expected.source = 2;
        assert_eq!(m, expected);
        assert_eq!(
            one(r#"{"name": "m", "class": 1, "source": 2, "flags": null}"#).unwrap_err(),
            "active[0].flags: invalid type: null, expected u32 at line 1 column 90"
        );
        assert_eq!(
            one(r#"{"name": "m", "class": 1, "source": 2, "deps": null}"#).unwrap_err(),
            "active[0].deps: invalid type: null, expected a sequence at line 1 column 89"
        );
        assert_eq!(
            one(r#"{"name": "m", "source": 2}"#).unwrap_err(),
            "active[0]: missing field `class` at line 1 column 64"
        );
        let unknown = one(r#"{"name": "m", "class": 1, "source": 2, "x": 0}"#).unwrap_err();
        assert!(
            unknown.starts_with("active[0].x: unknown field `x`, expected one of `name`, "),
            "{unknown}"
        );
        assert_eq!(
            one(r#"["m", 1, 2]"#).unwrap_err(),
            "active[0]: invalid type: sequence, expected an object at line 1 column 38"
        );
        assert_eq!(
            State::parse(br#"{"format": 1, "serial": 2, "active": []}"#).unwrap_err(),
            "missing field `builtins` at line 1 column 40"
        );
        let unknown =
            State::parse(br#"{"format": 1, "serial": 2, "active": [], "builtins": [], "z": 1}"#)
                .unwrap_err();
        assert!(
            unknown.starts_with("z: unknown field `z`, expected one of `format`, "),
            "{unknown}"
        );
        assert_eq!(
            State::parse(b"[]").unwrap_err(),
            "invalid type: sequence, expected an object at line 1 column 0"
        );
        assert_eq!(
            State::parse(br#"{"format": 1, "serial": 0, "active": [], "builtins": []} x"#)
                .unwrap_err(),
            "trailing characters at line 1 column 58"
        );
        assert_eq!(
            State::parse(b"{\"format\": 1,\n \"serial\": 01}").unwrap_err(),
            "serial: invalid number at line 2 column 13"
        );
    }

    /// A name that is not UTF-8 is written as its bytes and read back
    /// exactly; UTF-8 names stay strings.
    #[test]
    fn names_that_are_not_utf8_round_trip() {
        let mut st = State::empty();
        let mut m = rec("needy", 0, &[]);
        m.deps = vec![ModName::new(b"h\xffllo".to_vec())];
        m.required = Some(b"h\xffllo".to_vec());
        let mut h = ModRec::builtin(ModName::new(b"h\xffllo".to_vec()), 1, None);
        h.source = 2;
        h.refcnt = 1;
        st.active = vec![m, h];
        st.builtins = vec![ModRec::builtin(
            ModName::new(b"\xfe".to_vec()),
            2,
            Some(b"a,\xff".to_vec()),
        )];
        let text = String::from_utf8(st.encode()).expect("the file is UTF-8");
        assert!(text.contains("\"name\": \"needy\""), "{text}");
        assert!(text.contains("\"name\": [104, 255, "), "{text}");
        assert!(text.contains("\"deps\": [[104, "), "{text}");
        assert!(text.contains("\"name\": [254]"), "{text}");
        assert!(text.contains("\"required\": [97, 44, 255]"), "{text}");
        let back = State::parse(text.as_bytes()).unwrap();
        assert_eq!(back, st);
        assert_eq!(back.active(b"h\xffllo").unwrap().refcnt, 1);
        assert!(back.active("h\u{fffd}llo").is_none());
        // Either form reads; a string is its UTF-8 bytes.
        let one = |name: &str| {
            let text = format!(
                r#"{{"format": 1, "serial": 0, "active": [{{"name": {name}, "class": 1, "source": 2}}], "builtins": []}}"#
            );
            State::parse(text.as_bytes()).map(|s| s.active[0].name.clone())
        };
        assert_eq!(one("[104, 255]").unwrap(), &b"h\xff"[..]);
        assert_eq!(one("[104, 105]").unwrap(), "hi");
        assert_eq!(one(r#""h\u00e9""#).unwrap(), "hé");
        assert_eq!(
            one("[104, 256]").unwrap_err(),
            "active[0].name[1]: invalid value: integer `256`, expected an integer from 0 to 255 \
             at line 1 column 56"
        );
        assert_eq!(
            one("7").unwrap_err(),
            "active[0].name: invalid type: integer `7`, expected a string or an array of bytes \
             at line 1 column 48"
        );
        assert_eq!(
            one(r#"["h"]"#).unwrap_err(),
            "active[0].name[0]: invalid type: string \"h\", expected an integer from 0 to 255 \
             at line 1 column 51"
        );
        // Two spellings of one name are one name.
        let twice = br#"{"format": 1, "serial": 0, "builtins": [], "active": [
            {"name": "hi", "class": 1, "source": 2},
            {"name": [104, 105], "class": 1, "source": 2}]}"#;
        assert_eq!(
            State::parse(twice).unwrap_err(),
            "module `hi' is active twice"
        );
        let bad_deps = br#"{"format": 1, "serial": 0, "builtins": [], "active": [
            {"name": "a", "class": 1, "source": 2, "deps": [[104], {}]}]}"#;
        assert_eq!(
            State::parse(bad_deps).unwrap_err(),
            "active[0].deps[1]: invalid type: map, expected a string or an array of bytes \
             at line 2 column 69"
        );
    }
}
