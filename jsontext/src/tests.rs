use super::*;

#[test]
fn pretty_layout() {
    let v = object(vec![
        ("name", "x".into()),
        ("list", Value::Array(vec![1u32.into(), (-2i32).into()])),
        ("empty_list", Value::Array(vec![])),
        ("empty_object", object(vec![])),
        (
            "nested",
            object(vec![("t", true.into()), ("n", Value::Null)]),
        ),
    ]);
    assert_eq!(
        v.to_pretty(),
        concat!(
            "{\n",
            "  \"empty_list\": [],\n",
            "  \"empty_object\": {},\n",
            "  \"list\": [\n",
            "    1,\n",
            "    -2\n",
            "  ],\n",
            "  \"name\": \"x\",\n",
            "  \"nested\": {\n",
            "    \"n\": null,\n",
            "    \"t\": true\n",
            "  }\n",
            "}"
        )
    );
    assert_eq!(v.to_document(), v.to_pretty() + "\n");
    assert_eq!(Value::from("").to_pretty(), "\"\"");
    assert_eq!(Value::UInt(u64::MAX).to_pretty(), "18446744073709551615");
    assert_eq!(Value::Int(i64::MIN).to_pretty(), "-9223372036854775808");
    assert_eq!(Value::from(-1i64), Value::Int(-1));
    assert_eq!(Value::from(1i64), Value::UInt(1));
    assert_eq!(Value::from(None::<&str>), Value::Null);
}

/// Members are in byte order of their names whatever order they were
/// given in: `name` before `name_bytes` before `refcnt`, `_` (0x5f)
/// before lowercase letters, uppercase before both, non-ASCII last.
#[test]
fn object_orders_members_by_bytes() {
    let v = object(vec![
        ("refcnt", 1u32.into()),
        ("é", 2u32.into()),
        ("name_bytes", 3u32.into()),
        ("ab", 4u32.into()),
        ("a_b", 5u32.into()),
        ("name", 6u32.into()),
        ("Z", 7u32.into()),
        ("", 8u32.into()),
    ]);
    let Value::Object(m) = &v else {
        panic!("not an object")
    };
    let names: Vec<&str> = m.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names,
        ["", "Z", "a_b", "ab", "name", "name_bytes", "refcnt", "é"]
    );
}

#[test]
fn string_escapes() {
    let all: String = (0u8..0x80).map(char::from).collect::<String>() + "é€😀\u{7f}";
    let text = Value::from(all.as_str()).to_pretty();
    assert!(text.starts_with(
        "\"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f\\r\\u000e"
    ));
    assert!(text.contains("\\u001f !\\\"#"));
    assert!(text.contains("./0"), "slash is not escaped");
    assert!(text.contains("[\\\\]"));
    assert!(text.ends_with("~\u{7f}é€😀\u{7f}\""));
    assert_eq!(text, serde_json::to_string(&all).unwrap());
    assert_eq!(serde_json::from_str::<String>(&text).unwrap(), all);
}

/// The same document as jsontext builds it (members in any order).
fn ours(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => (*b).into(),
        serde_json::Value::Number(n) => match n.as_u64() {
            Some(u) => u.into(),
            None => n.as_i64().expect("an integer").into(),
        },
        serde_json::Value::String(s) => s.as_str().into(),
        serde_json::Value::Array(a) => Value::Array(a.iter().map(ours).collect()),
        // Given in reverse, to show the order is the writer's.
        serde_json::Value::Object(o) => {
            object(o.iter().rev().map(|(k, v)| (k.as_str(), ours(v))).collect())
        }
    }
}

/// Both writers print the same text for the same document.
#[test]
fn pretty_matches_serde_json() {
    let controls: String = (0u8..0x20).map(char::from).collect();
    let texts = [
        r#"{"modules": [], "schema": 1, "x": {}, "y": [[], [{}], [1, [2, []]]]}"#.to_string(),
        r#"[{"big": 18446744073709551615, "f": false, "min": -9223372036854775808,
            "n": null, "name": "ffs", "refcnt": -1, "required": ["wapbl"], "t": true}]"#
            .to_string(),
        r#"{"z": 1, "a": 2, "name_bytes": [104], "name": "h", "é": 0, "Z": 3, "a_b": 4}"#
            .to_string(),
        r#""\u007f \" \\ / é € 😀""#.to_string(),
        serde_json::to_string(&controls).unwrap(),
        r#"{"": "", "nested": {"deeper": {"deepest": ["a", "b"]}}}"#.to_string(),
        "[]".to_string(),
        "{}".to_string(),
        "0".to_string(),
        "null".to_string(),
    ];
    for text in &texts {
        let theirs: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(
            ours(&theirs).to_pretty(),
            serde_json::to_string_pretty(&theirs).unwrap(),
            "{text}"
        );
    }
}

#[test]
fn strings_and_bytes() {
    assert_eq!(strings(&["a", "b"]).to_pretty(), "[\n  \"a\",\n  \"b\"\n]");
    assert_eq!(byte_array(b"h\xff").to_pretty(), "[\n  104,\n  255\n]");
    assert_eq!(byte_array(b"").to_pretty(), "[]");
}
