//! The emulated kernel's state: the two module lists of kern_module.c, as
//! `state.json` holds them (how the file is kept is [`crate::statedir`]'s).
//!
//! Module names (`name`, `required`, `deps`) are bytes, as the kernel's
//! are. JSON strings hold only UTF-8, so a name that is UTF-8 is written
//! as a string (files written before names were bytes read unchanged) and
//! any other as an array of its byte values, `"name": [104, 255]`; both
//! forms are read ([`jsontext::text_or_bytes`]).

use jsontext::{self, object, strings, text_or_bytes, texts_or_bytes, Fields, Place, Value};
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
/// [`rec_to_json`]).
pub use modobj::engine::Module as ModRec;

/// Reads one record; unknown fields are errors. `place` names it in
/// messages (`active[3]`).
fn rec_from_json(v: &Value, place: Place<'_>) -> Result<ModRec, String> {
    let f = Fields::new(v, place, MODREC_FIELDS, true)?;
    // The `as` casts narrow values whose range was checked.
    let u32_or_0 = |name| Ok::<_, String>(f.uint(name, U32_MAX)?.unwrap_or(0) as u32);
    let u64_or_0 = |name| Ok::<_, String>(f.uint(name, u64::MAX)?.unwrap_or(0));
    let i32_needed = |name| {
        let i = f.int(name, i32::MIN.into(), i32::MAX.into())?;
        i.map(|i| i as i32).ok_or_else(|| f.missing(name))
    };
    Ok(ModRec {
        name: ModName::new(f.bytes("name")?.ok_or_else(|| f.missing("name"))?),
        class: i32_needed("class")?,
        source: i32_needed("source")?,
        flags: u32_or_0("flags")?,
        refcnt: u32_or_0("refcnt")?,
        required: f.opt_bytes("required")?,
        deps: f
            .bytes_list("deps")?
            .unwrap_or_default()
            .into_iter()
            .map(ModName::new)
            .collect(),
        addr: u64_or_0("addr")?,
        size: u64_or_0("size")?,
        version: u32_or_0("version")?,
        path: f.opt_string("path")?,
        globals: f.strings("globals")?.unwrap_or_default(),
        autotime: u64_or_0("autotime")?,
        props: f.opt_string("props")?,
    })
}

/// The record in field order, leaving out unset options, empty lists
/// and numbers that are 0 (read back as 0): a kernel with a thousand
/// built-ins is read on every call, and most of their numbers are 0.
fn rec_to_json(rec: &ModRec) -> Value {
    let this = rec;
    let mut m = vec![
        ("name", text_or_bytes(this.name.as_bytes())),
        ("class", this.class.into()),
        ("source", this.source.into()),
    ];
    let number = |m: &mut Vec<(&str, Value)>, name, n: u64| {
        if n != 0 {
            m.push((name, n.into()));
        }
    };
    number(&mut m, "flags", this.flags.into());
    number(&mut m, "refcnt", this.refcnt.into());
    if let Some(r) = &this.required {
        m.push(("required", text_or_bytes(r)));
    }
    if !this.deps.is_empty() {
        m.push(("deps", texts_or_bytes(&this.deps)));
    }
    number(&mut m, "addr", this.addr);
    number(&mut m, "size", this.size);
    number(&mut m, "version", this.version.into());
    if let Some(p) = &this.path {
        m.push(("path", p.as_str().into()));
    }
    if !this.globals.is_empty() {
        m.push(("globals", strings(&this.globals)));
    }
    number(&mut m, "autotime", this.autotime);
    if let Some(p) = &this.props {
        m.push(("props", p.as_str().into()));
    }
    object(m)
}

const MODREC_FIELDS: &[&str] = &[
    "name", "class", "source", "flags", "refcnt", "required", "deps", "addr", "size", "version",
    "path", "globals", "autotime", "props",
];

const U32_MAX: u64 = u32::MAX as u64;

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
        let doc = jsontext::parse(text).map_err(|e| e.to_string())?;
        let st = State::from_json(&doc)?;
        st.check()?;
        Ok(st)
    }

    /// Reads the document; every field is required, unknown ones are errors.
    fn from_json(v: &Value) -> Result<State, String> {
        let f = Fields::new(
            v,
            "",
            &["format", "serial", "active", "builtins", "boot_messages"],
            true,
        )?;
        let list = |name| -> Result<Vec<ModRec>, String> {
            let items = f.array(name)?.ok_or_else(|| f.missing(name))?;
            let rec = |(i, m)| rec_from_json(m, Place::Item(name, i));
            items.iter().enumerate().map(rec).collect()
        };
        Ok(State {
            format: f
                .uint("format", U32_MAX)?
                .ok_or_else(|| f.missing("format"))? as u32,
            serial: f
                .uint("serial", u64::MAX)?
                .ok_or_else(|| f.missing("serial"))?,
            active: list("active")?,
            builtins: list("builtins")?,
            boot_messages: f.strings("boot_messages")?.unwrap_or_default(),
        })
    }

    /// The file's contents.
    pub fn encode(&self) -> Vec<u8> {
        let recs = |l: &[ModRec]| Value::Array(l.iter().map(rec_to_json).collect());
        let mut members = vec![
            ("format", self.format.into()),
            ("serial", self.serial.into()),
            ("active", recs(&self.active)),
            ("builtins", recs(&self.builtins)),
        ];
        if !self.boot_messages.is_empty() {
            members.push(("boot_messages", strings(&self.boot_messages)));
        }
        let doc = object(members);
        let mut v = doc.to_pretty().into_bytes();
        v.push(b'\n');
        v
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
    /// it before it was replaced), but for numbers of 0, now left out: the
    /// format must not change otherwise, and what that writer wrote must
    /// still read the same.
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
        assert_eq!(String::from_utf8(st.encode()).unwrap(), expected);
        assert_eq!(
            State::from_json(&jsontext::parse(expected.as_bytes()).unwrap()),
            Ok(st.clone())
        );
        // Files written before numbers of 0 were left out read the same.
        let zeros = expected.replace(
            "\"source\": 0\n",
            "\"source\": 0,\n      \"flags\": 0,\n      \"refcnt\": 0,\n      \"addr\": 0,\n      \
             \"size\": 0,\n      \"version\": 0,\n      \"autotime\": 0\n",
        );
        assert!(zeros.contains("\"autotime\": 0"), "{zeros}");
        assert_eq!(
            State::from_json(&jsontext::parse(zeros.as_bytes()).unwrap()),
            Ok(st)
        );
    }

    /// Defaults and `null`s read as the serde-based reader read them; each
    /// error names the field.
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
            "active[0].flags: expected an integer from 0 to 4294967295, found null"
        );
        assert_eq!(
            one(r#"{"name": "m", "class": 1, "source": 2, "deps": null}"#).unwrap_err(),
            "active[0].deps: expected an array, found null"
        );
        assert_eq!(
            one(r#"{"name": "m", "source": 2}"#).unwrap_err(),
            "active[0]: missing field `class'"
        );
        assert_eq!(
            one(r#"{"name": "m", "class": 1, "source": 2, "x": 0}"#).unwrap_err(),
            "active[0]: unknown field `x'"
        );
        assert_eq!(
            State::parse(br#"{"format": 1, "serial": 2, "active": []}"#).unwrap_err(),
            "missing field `builtins'"
        );
        assert_eq!(
            State::parse(br#"{"format": 1, "serial": 2, "active": [], "builtins": [], "z": 1}"#)
                .unwrap_err(),
            "unknown field `z'"
        );
        assert_eq!(
            State::parse(b"{\"format\": 1,\n \"serial\": 01}").unwrap_err(),
            "number with a leading zero at line 2 column 12"
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
        assert!(
            text.contains("\"name\": [\n        104,\n        255,\n"),
            "{text}"
        );
        assert!(
            text.contains("\"deps\": [\n        [\n          104,\n"),
            "{text}"
        );
        assert!(text.contains("\"name\": [\n        254\n      ]"), "{text}");
        assert!(
            text.contains("\"required\": [\n        97,\n        44,\n        255\n"),
            "{text}"
        );
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
            "active[0].name[1]: expected an integer from 0 to 255, found an integer"
        );
        assert_eq!(
            one("7").unwrap_err(),
            "active[0].name: expected a string or an array of bytes, found an integer"
        );
        assert_eq!(
            one(r#"["h"]"#).unwrap_err(),
            "active[0].name[0]: expected an integer from 0 to 255, found a string"
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
            "active[0].deps[1]: expected a string or an array of bytes, found an object"
        );
    }
}
