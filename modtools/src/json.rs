//! `--json` documents. Not part of the NetBSD-compatible surface; every
//! document carries a top-level `"schema"` number that changes when a
//! field changes meaning.

use jsontext::{object, strings, Value};
use modobj::rules::split_required;

use libmodctl::abi::{class_name, source_name, MODFLG_AUTO_LOADED, MODFLG_MUST_FORCE};
use libmodctl::modctl::StatList;
use libmodctl::stat::{ModStat, StatAbi};

/// Version of the `modstat --json` document.
pub const STAT_SCHEMA: u64 = 1;

/// One module as a JSON object (shared with the dry-run report).
///
/// Members are in byte order of their names, the order serde_json's sorted
/// maps gave the documents before; keep it when adding one (the tests
/// compare with serde_json's output).
pub fn module(m: &ModStat) -> Value {
    object(vec![
        ("address", format!("{:#x}", m.addr).into()),
        ("auto_loaded", (m.flags & MODFLG_AUTO_LOADED != 0).into()),
        ("class", class_name(m.class).into()),
        ("class_id", m.class.into()),
        ("flags", m.flags.into()),
        ("must_force", (m.flags & MODFLG_MUST_FORCE != 0).into()),
        ("name", m.name.as_str().into()),
        ("refcnt", (m.refcnt as i32).into()),
        ("required", strings(&split_required(&m.required))),
        ("requires", m.required.as_str().into()),
        ("size", m.size.into()),
        ("source", source_name(m.source).into()),
        ("source_id", m.source.into()),
    ])
}

/// `modstat --json`: the same rows as the listing (sorted by name, the
/// same name filter), as one document.
pub fn stat_listing(list: &StatList, filter: Option<&[u8]>) -> String {
    let mut mods: Vec<&ModStat> = list
        .modules
        .iter()
        .filter(|m| filter.is_none_or(|f| f == m.name.as_bytes()))
        .collect();
    mods.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
    let abi = match list.abi {
        StatAbi::V1 => "v1",
        StatAbi::V2 => "v2",
    };
    let doc = object(vec![
        (
            "modules",
            mods.into_iter().map(module).collect::<Vec<_>>().into(),
        ),
        ("schema", STAT_SCHEMA.into()),
        ("stat_abi", abi.into()),
    ]);
    doc.to_document()
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
                    required: String::new(),
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
                json!({
                    "name": m.name,
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
                    "requires": m.required,
                    "required": split_required(&m.required),
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
}
