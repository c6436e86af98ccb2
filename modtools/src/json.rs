//! `--json` documents. Not part of the NetBSD-compatible surface; every
//! document carries a top-level `"schema"` number that changes when a
//! field changes meaning.
//!
//! Module names are bytes and need not be UTF-8, but a document is UTF-8
//! JSON: a member naming modules stays a string (or an array of strings)
//! for every reader, with U+FFFD where a name is not UTF-8, and only then
//! a member beside it, named with `_bytes`, holds the exact bytes
//! ([`text_and_bytes`], [`texts_and_bytes`]).

use jsontext::{byte_array, object, Value};
use modobj::rules::split_required;

use libmodctl::abi::{class_name, source_name, MODFLG_AUTO_LOADED, MODFLG_MUST_FORCE};
use libmodctl::errno::Errno;
use libmodctl::modctl::StatList;
use libmodctl::stat::{ModStat, StatAbi};

/// Version of the `modstat --json` document.
pub const STAT_SCHEMA: u64 = 1;

/// `key` as text (bytes that are not UTF-8 shown as U+FFFD) and, only
/// when the bytes are not UTF-8, `bytes_key` with them exactly, as an
/// array of byte values.
pub fn text_and_bytes(
    key: &'static str,
    bytes_key: &'static str,
    b: &[u8],
) -> Vec<(&'static str, Value)> {
    match std::str::from_utf8(b) {
        Ok(s) => vec![(key, s.into())],
        Err(_) => vec![
            (key, String::from_utf8_lossy(b).into_owned().into()),
            (bytes_key, byte_array(b)),
        ],
    }
}

/// [`text_and_bytes`] of a list: `key` an array of strings and, when any
/// item is not UTF-8, `bytes_key` the array of every item's bytes, in
/// the same order.
pub fn texts_and_bytes<B: AsRef<[u8]>>(
    key: &'static str,
    bytes_key: &'static str,
    items: &[B],
) -> Vec<(&'static str, Value)> {
    let text = items
        .iter()
        .map(|b| Value::from(String::from_utf8_lossy(b.as_ref()).into_owned()))
        .collect::<Vec<_>>();
    let mut out = vec![(key, Value::Array(text))];
    if items
        .iter()
        .any(|b| std::str::from_utf8(b.as_ref()).is_err())
    {
        let bytes = items.iter().map(|b| byte_array(b.as_ref())).collect();
        out.push((bytes_key, Value::Array(bytes)));
    }
    out
}

/// One module as a JSON object (shared with the dry-run report). The
/// members are written in byte order of their names, as serde_json's
/// sorted maps wrote them before: [`object`] orders them, not this list.
pub fn module(m: &ModStat) -> Value {
    let mut members = text_and_bytes("name", "name_bytes", m.name.as_bytes());
    members.extend([
        ("class", class_name(m.class).into()),
        ("class_id", m.class.into()),
        ("source", source_name(m.source).into()),
        ("source_id", m.source.into()),
        ("flags", m.flags.into()),
        ("must_force", (m.flags & MODFLG_MUST_FORCE != 0).into()),
        ("auto_loaded", (m.flags & MODFLG_AUTO_LOADED != 0).into()),
        ("refcnt", (m.refcnt as i32).into()),
        ("address", format!("{:#x}", m.addr).into()),
        ("size", m.size.into()),
    ]);
    members.extend(text_and_bytes("requires", "requires_bytes", &m.required));
    members.extend(texts_and_bytes(
        "required",
        "required_bytes",
        &split_required(&m.required),
    ));
    object(members)
}

/// `modstat --json`: the same rows as the listing (sorted by name, the
/// same name filter), as one document.
pub fn stat_listing(list: &StatList, filter: Option<&[u8]>) -> String {
    let mut mods: Vec<&ModStat> = list
        .modules
        .iter()
        .filter(|m| filter.is_none_or(|f| m.name == f))
        .collect();
    mods.sort_by(|a, b| a.name.cmp(&b.name));
    let abi = match list.abi {
        StatAbi::V1 => "v1",
        StatAbi::V2 => "v2",
    };
    let doc = object(vec![
        ("schema", STAT_SCHEMA.into()),
        ("stat_abi", abi.into()),
        (
            "modules",
            mods.into_iter().map(module).collect::<Vec<_>>().into(),
        ),
    ]);
    doc.to_document()
}

/// An errno in a JSON document: its number, NetBSD's text and its name.
pub fn errno(e: Errno) -> Value {
    object(vec![
        ("errno", e.0.into()),
        ("message", e.strerror().into()),
        ("name", e.name().into()),
    ])
}

/// One finding of a report as a JSON object: the module it concerns,
/// its check, whether it is fatal, the errno and the reason in words.
/// Every document that lists findings writes them here, so their members
/// are named in one place.
pub fn finding(
    module: &[u8],
    check: &str,
    fatal: bool,
    errno_of: Option<Errno>,
    reason: &str,
) -> Value {
    let mut members = text_and_bytes("module", "module_bytes", module);
    members.extend([
        ("check", check.into()),
        ("fatal", fatal.into()),
        ("errno", errno_of.map(errno).into()),
        ("reason", reason.into()),
    ]);
    object(members)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> StatList {
        StatList {
            abi: StatAbi::V2,
            modules: vec![
                ModStat {
                    name: "tmpfs".into(),
                    class: 2,
                    source: 0,
                    flags: 0,
                    refcnt: u32::MAX,
                    addr: 0,
                    size: 0,
                    required: Vec::new(),
                },
                ModStat {
                    name: "ffs".into(),
                    class: 2,
                    source: 2,
                    flags: 3,
                    refcnt: 1,
                    addr: 0xffffffff82000000,
                    size: 100,
                    required: "wapbl,x".into(),
                },
                ModStat {
                    name: "zz\"\u{1}é".into(),
                    class: 99,
                    source: -5,
                    flags: u32::MAX,
                    refcnt: 0x8000_0000,
                    addr: u64::MAX,
                    size: u32::MAX,
                    required: ",,a\\b,".into(),
                },
            ],
        }
    }

    #[test]
    fn listing_document() {
        let list = sample();
        let doc: serde_json::Value = serde_json::from_str(&stat_listing(&list, None)).unwrap();
        assert_eq!(doc["schema"], 1);
        assert_eq!(doc["stat_abi"], "v2");
        let mods = doc["modules"].as_array().unwrap();
        assert_eq!(mods[0]["name"], "ffs");
        assert_eq!(mods[0]["must_force"], true);
        assert_eq!(mods[0]["auto_loaded"], true);
        assert_eq!(mods[0]["address"], "0xffffffff82000000");
        assert_eq!(mods[0]["required"], json!(["wapbl", "x"]));
        assert_eq!(mods[1]["refcnt"], -1);
        assert_eq!(mods[1]["source"], "builtin");
        assert_eq!(mods[2]["refcnt"], i32::MIN);
        let one: serde_json::Value =
            serde_json::from_str(&stat_listing(&list, Some(b"tmpfs"))).unwrap();
        assert_eq!(one["modules"].as_array().unwrap().len(), 1);
    }

    /// The document as the serde_json code that used to build it wrote it.
    fn listing_by_serde_json(list: &StatList, filter: Option<&[u8]>) -> String {
        let mut mods: Vec<&ModStat> = list
            .modules
            .iter()
            .filter(|m| filter.is_none_or(|f| f == m.name.as_bytes()))
            .collect();
        mods.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
        let mods: Vec<_> = mods
            .into_iter()
            .map(|m| {
                let required: Vec<String> = split_required(&m.required)
                    .iter()
                    .map(ToString::to_string)
                    .collect();
                json!({
                    "name": m.name.to_string(),
                    "class": class_name(m.class),
                    "class_id": m.class,
                    "source": source_name(m.source),
                    "source_id": m.source,
                    "flags": m.flags,
                    "must_force": m.flags & MODFLG_MUST_FORCE != 0,
                    "auto_loaded": m.flags & MODFLG_AUTO_LOADED != 0,
                    "refcnt": m.refcnt as i32,
                    "address": format!("{:#x}", m.addr),
                    "size": m.size,
                    "requires": String::from_utf8_lossy(&m.required),
                    "required": required,
                })
            })
            .collect();
        let doc = json!({
            "schema": STAT_SCHEMA,
            "stat_abi": match list.abi { StatAbi::V1 => "v1", StatAbi::V2 => "v2" },
            "modules": mods,
        });
        serde_json::to_string_pretty(&doc).unwrap() + "\n"
    }

    #[test]
    fn same_text_as_serde_json() {
        let mut list = sample();
        for filter in [None, Some(&b"ffs"[..]), Some(b"none")] {
            assert_eq!(
                stat_listing(&list, filter),
                listing_by_serde_json(&list, filter)
            );
        }
        list.abi = StatAbi::V1;
        list.modules.clear();
        assert_eq!(
            stat_listing(&list, None),
            listing_by_serde_json(&list, None)
        );
    }

    /// A name that is not UTF-8: valid UTF-8 JSON, `name` with U+FFFD,
    /// `name_bytes` exact; sorted and filtered by bytes.
    #[test]
    fn names_that_are_not_utf8() {
        let mut list = sample();
        list.modules[2].name = b"a\xff".to_vec().into();
        list.modules[2].required = b"ffs,h\xfe".to_vec();
        let text = stat_listing(&list, None);
        let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
        let mods = doc["modules"].as_array().unwrap();
        assert_eq!(mods[0]["name"], "a\u{fffd}");
        assert_eq!(mods[0]["name_bytes"], json!([97, 255]));
        assert_eq!(mods[0]["requires"], "ffs,h\u{fffd}");
        assert_eq!(
            mods[0]["requires_bytes"],
            json!([102, 102, 115, 44, 104, 254])
        );
        assert_eq!(mods[0]["required"], json!(["ffs", "h\u{fffd}"]));
        assert_eq!(
            mods[0]["required_bytes"],
            json!([[102, 102, 115], [104, 254]])
        );
        // Members stay in byte order of their names.
        let at = |key: &str| text.find(&format!("\"{key}\"")).unwrap();
        assert!(at("name") < at("name_bytes") && at("name_bytes") < at("refcnt"));
        assert!(at("required_bytes") < at("requires") && at("requires_bytes") < at("size"));
        // The others have no *_bytes member.
        assert!(mods[1].get("name_bytes").is_none());
        assert!(mods[1].get("required_bytes").is_none());
        let one: serde_json::Value =
            serde_json::from_str(&stat_listing(&list, Some(b"a\xff"))).unwrap();
        assert_eq!(one["modules"].as_array().unwrap().len(), 1);
        let none: serde_json::Value =
            serde_json::from_str(&stat_listing(&list, Some("a\u{fffd}".as_bytes()))).unwrap();
        assert!(none["modules"].as_array().unwrap().is_empty());
    }

    #[test]
    fn a_finding_has_its_members_in_byte_order() {
        let v = finding(b"m\xff", "Version", true, Some(Errno::ENOEXEC), "r \"q\"");
        let text = object(vec![("f", v)]).to_document();
        let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
        let f = &doc["f"];
        assert_eq!(f["module"], "m\u{fffd}");
        assert_eq!(f["module_bytes"], json!([109, 255]));
        assert_eq!(f["check"], "Version");
        assert_eq!(f["fatal"], true);
        assert_eq!(f["errno"]["name"], "ENOEXEC");
        assert_eq!(f["reason"], "r \"q\"");
        let at = |key: &str| text.find(&format!("\"{key}\"")).unwrap();
        assert!(at("check") < at("errno") && at("errno") < at("fatal"));
        assert!(at("fatal") < at("module") && at("module_bytes") < at("reason"));
        let plain = finding(b"m", "File", false, None, "");
        let text = object(vec![("f", plain)]).to_document();
        assert!(!text.contains("module_bytes") && text.contains("\"errno\": null"));
    }
}
