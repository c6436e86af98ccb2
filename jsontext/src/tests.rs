use super::*;

fn p(text: &str) -> Result<Value, ParseError> {
    parse(text.as_bytes())
}

fn err(text: &str) -> ParseError {
    p(text).expect_err(text)
}

#[test]
fn scalars() {
    assert_eq!(p("null").unwrap(), Value::Null);
    assert_eq!(p(" true ").unwrap(), Value::Bool(true));
    assert_eq!(p("\t\r\nfalse\n").unwrap(), Value::Bool(false));
    assert_eq!(p("0").unwrap(), Value::UInt(0));
    assert_eq!(p("-0").unwrap(), Value::UInt(0));
    assert_eq!(p("18446744073709551615").unwrap(), Value::UInt(u64::MAX));
    assert_eq!(p("-9223372036854775808").unwrap(), Value::Int(i64::MIN));
    assert_eq!(p("-1").unwrap(), Value::from(-1));
    assert_eq!(p("\"a\"").unwrap(), Value::from("a"));
    // Numbers compare by value whichever variant holds them.
    assert_eq!(Value::Int(5), Value::UInt(5));
    assert_ne!(Value::Int(-1), Value::UInt(u64::MAX));
    assert_ne!(Value::UInt(0), Value::Bool(false));
}

#[test]
fn escapes_and_surrogates() {
    let v = p(r#""\"\\\/\b\f\n\r\t\u0041\u00e9\u20ac\ud83d\ude00\u0000""#).unwrap();
    assert_eq!(v.as_str().unwrap(), "\"\\/\u{8}\u{c}\n\r\tAé€😀\u{0}");
    // Raw UTF-8 passes through.
    assert_eq!(p("\"é😀\"").unwrap().as_str(), Some("é😀"));
    assert_eq!(p(r#""\uD83D\uDE00""#).unwrap().as_str(), Some("😀"));
}

#[test]
fn containers_keep_order_and_duplicates() {
    let v = p(r#"{"b": [1, {"x": []}, {}], "a": null, "b": 2}"#).unwrap();
    let o = v.as_object().unwrap();
    assert_eq!(o.len(), 3);
    assert_eq!(o[0].0, "b");
    assert_eq!(o[1].0, "a");
    assert_eq!(v.get("b"), Some(&Value::UInt(2)));
    assert_eq!(v.get("a"), Some(&Value::Null));
    assert_eq!(v.get("c"), None);
    assert_eq!(o[0].1.as_array().unwrap().len(), 3);
}

#[test]
fn malformed_inputs_are_errors() {
    let cases: &[(&str, &str)] = &[
        ("", "unexpected end of input, expected a value"),
        ("   ", "unexpected end of input, expected a value"),
        ("{", "expected a string as object key"),
        ("[", "unexpected end of input, expected a value"),
        ("[1", "unexpected end of input in an array or object"),
        ("{\"a\"", "expected `:' after an object key"),
        ("{\"a\":", "unexpected end of input, expected a value"),
        ("{\"a\":1", "unexpected end of input in an array or object"),
        ("\"abc", "unexpected end of input in a string"),
        ("\"abc\\", "unexpected end of input in a string"),
        ("[1,]", "trailing comma"),
        ("{\"a\":1,}", "trailing comma"),
        ("[1 2]", "expected `,' or `]'"),
        ("{\"a\":1 \"b\":2}", "expected `,' or `}'"),
        ("{a:1}", "expected a string as object key"),
        ("{1:1}", "expected a string as object key"),
        ("[,1]", "expected a value"),
        ("\"\\x\"", "invalid escape"),
        ("\"\\u12\"", "expected four hex digits after \\u"),
        ("\"\\u12G4\"", "expected four hex digits after \\u"),
        ("\"\\ud800\"", "lone surrogate in \\u escape"),
        ("\"\\ud800x\"", "lone surrogate in \\u escape"),
        ("\"\\ud800\\n\"", "lone surrogate in \\u escape"),
        ("\"\\ud800\\u0041\"", "lone surrogate in \\u escape"),
        ("\"\\udc00\"", "lone surrogate in \\u escape"),
        ("\"a\nb\"", "control character in a string"),
        ("\"\t\"", "control character in a string"),
        ("01", "number with a leading zero"),
        ("-01", "number with a leading zero"),
        ("00", "number with a leading zero"),
        ("-", "expected a digit"),
        ("-a", "expected a digit"),
        ("+1", "expected a value"),
        ("1.5", "only integers are supported"),
        ("1e3", "only integers are supported"),
        ("18446744073709551616", "integer out of range"),
        ("-9223372036854775809", "integer out of range"),
        ("99999999999999999999999999999", "integer out of range"),
        ("tru", "expected a value"),
        ("nul", "expected a value"),
        ("True", "expected a value"),
        ("1 2", "trailing characters"),
        ("{} x", "trailing characters"),
        ("\u{feff}{}", "expected a value"),
        ("'a'", "expected a value"),
        ("NaN", "expected a value"),
        ("[1]\u{0}", "trailing characters"),
    ];
    for (text, message) in cases {
        assert_eq!(err(text).message, *message, "{text:?}");
    }
}

#[test]
fn invalid_utf8_in_a_string_is_an_error() {
    let e = parse(b"\"ab\xff\"").unwrap_err();
    assert_eq!((e.message, e.column), ("invalid UTF-8", 4));
    let e = parse(b"\"\\n\xc3\"").unwrap_err();
    assert_eq!((e.message, e.column), ("invalid UTF-8", 4));
    // Outside strings a stray byte is just not JSON.
    assert!(parse(b"\xff").is_err());
}

#[test]
fn errors_carry_line_and_column() {
    let e = err("{\n  \"a\": 1,\n  \"b\": tru\n}");
    assert_eq!((e.line, e.column), (3, 8));
    assert_eq!(e.to_string(), "expected a value at line 3 column 8");
    let e = err("[1,\n]");
    assert_eq!((e.message, e.line, e.column), ("trailing comma", 2, 1));
    let e = err("[1");
    assert_eq!((e.line, e.column), (1, 3));
    let e = err("\"\\ud800\"");
    assert_eq!((e.line, e.column), (1, 2));
}

#[test]
fn nesting_depth_is_limited() {
    let nested = |n: usize, open: &str, close: &str| open.repeat(n) + &close.repeat(n);
    assert!(p(&nested(MAX_DEPTH, "[", "]")).is_ok());
    assert!(p(&nested(MAX_DEPTH, "{\"a\":", "}").replace(":}", ":1}")).is_ok());
    assert_eq!(
        err(&nested(MAX_DEPTH + 1, "[", "]")).message,
        "arrays and objects nested too deeply"
    );
    assert_eq!(
        err(&nested(MAX_DEPTH + 1, "{\"a\":", "}")).message,
        "arrays and objects nested too deeply"
    );
    // Far deeper input is refused the same way, without recursing.
    assert!(p(&"[".repeat(1_000_000)).is_err());
}

#[test]
fn every_prefix_of_a_document_is_handled() {
    let doc = r#"{"a": [1, -2, "x\u00e9\ud83d\ude00\n"], "b": {"c": null, "d": true}}"#;
    assert!(p(doc).is_ok());
    for end in 0..doc.len() {
        // Truncated documents are errors; none may panic.
        assert!(parse(&doc.as_bytes()[..end]).is_err(), "{end}");
    }
    // Every byte value at every position: no panic.
    for i in 0..doc.len() {
        for b in 0..=255u8 {
            let mut bytes = doc.as_bytes().to_vec();
            bytes[i] = b;
            let _ = parse(&bytes);
        }
    }
}

#[test]
fn pretty_layout() {
    let v = object(vec![
        ("name", "x".into()),
        ("list", Value::Array(vec![1u32.into(), (-2i32).into()])),
        ("empty_list", Value::Array(vec![])),
        ("empty_object", Value::Object(vec![])),
        (
            "nested",
            object(vec![("n", Value::Null), ("t", true.into())]),
        ),
    ]);
    assert_eq!(
        v.to_pretty(),
        concat!(
            "{\n",
            "  \"name\": \"x\",\n",
            "  \"list\": [\n",
            "    1,\n",
            "    -2\n",
            "  ],\n",
            "  \"empty_list\": [],\n",
            "  \"empty_object\": {},\n",
            "  \"nested\": {\n",
            "    \"n\": null,\n",
            "    \"t\": true\n",
            "  }\n",
            "}"
        )
    );
    assert_eq!(Value::from("").to_pretty(), "\"\"");
    assert_eq!(Value::UInt(u64::MAX).to_pretty(), "18446744073709551615");
    assert_eq!(Value::Int(i64::MIN).to_pretty(), "-9223372036854775808");
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
    assert_eq!(parse(text.as_bytes()).unwrap().as_str(), Some(all.as_str()));
}

/// Both writers print the same text for the same document. Keys are
/// sorted here because serde_json's maps sort them and ours keep
/// document order.
#[test]
fn pretty_matches_serde_json() {
    let controls: String = (0u8..0x20).map(char::from).collect();
    let texts = [
        r#"{"modules": [], "schema": 1, "x": {}, "y": [[], [{}], [1, [2, []]]]}"#.to_string(),
        r#"[{"big": 18446744073709551615, "f": false, "min": -9223372036854775808,
            "n": null, "name": "ffs", "refcnt": -1, "required": ["wapbl"], "t": true}]"#
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
        let ours = parse(text.as_bytes()).unwrap().to_pretty();
        let theirs: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(
            ours,
            serde_json::to_string_pretty(&theirs).unwrap(),
            "{text}"
        );
    }
}

#[test]
fn round_trip() {
    let text =
        r#"{"a": [1, -2, "x\u00e9\ud83d\ude00\n\u0001"], "b": {"c": null, "d": true}, "e": []}"#;
    let v = p(text).unwrap();
    let pretty = v.to_pretty();
    assert_eq!(p(&pretty).unwrap(), v);
    assert_eq!(p(&pretty).unwrap().to_pretty(), pretty);
}

#[test]
fn fields() {
    let v = p(r#"{"s": "x", "n": null, "u": 7, "i": -3, "b": true,
                 "l": ["a", "b"], "bad": ["a", 1]}"#)
    .unwrap();
    let known = ["s", "n", "u", "i", "b", "l", "bad", "absent"];
    let f = Fields::new(&v, "", &known, true).unwrap();
    assert_eq!(f.string("s").unwrap().as_deref(), Some("x"));
    assert_eq!(f.string("absent").unwrap(), None);
    assert_eq!(f.opt_string("n").unwrap(), None);
    assert_eq!(
        f.string("n").unwrap_err(),
        "n: expected a string, found null"
    );
    assert_eq!(f.uint("u", 7).unwrap(), Some(7));
    assert_eq!(
        f.uint("u", 6).unwrap_err(),
        "u: expected an integer from 0 to 6, found an integer"
    );
    assert!(f.uint("i", u64::MAX).is_err());
    assert_eq!(f.int("i", -3, 0).unwrap(), Some(-3));
    assert!(f.int("i", -2, 0).is_err());
    assert_eq!(f.opt_int("n", 0, 1).unwrap(), None);
    assert!(f.int("n", 0, 1).is_err());
    assert_eq!(f.bool("b").unwrap(), Some(true));
    assert_eq!(f.opt_bool("absent").unwrap(), None);
    assert!(f.bool("s").is_err());
    assert_eq!(f.strings("l").unwrap(), Some(vec!["a".into(), "b".into()]));
    assert_eq!(
        f.strings("bad").unwrap_err(),
        "bad[1]: expected a string, found an integer"
    );
    assert!(f.array("n").is_err());
    assert_eq!(f.opt_array("n").unwrap(), None);
    assert_eq!(f.missing("absent"), "missing field `absent'");

    let inner = Fields::new(&v, Place::Item("outer", 2), &known, true).unwrap();
    assert_eq!(
        inner.string("u").unwrap_err(),
        "outer[2].u: expected a string, found an integer"
    );
    assert_eq!(inner.missing("q"), "outer[2]: missing field `q'");
    let named = Fields::new(&v, "outer", &known, true).unwrap();
    assert_eq!(named.missing("q"), "outer: missing field `q'");
}

#[test]
fn fields_refuse_unknown_and_repeated_names() {
    let v = p(r#"{"a": 1, "zz": 2}"#).unwrap();
    assert_eq!(
        Fields::new(&v, "", &["a"], true).err().unwrap(),
        "unknown field `zz'"
    );
    assert!(Fields::new(&v, "", &["a"], false).is_ok());
    let v = p(r#"{"a": 1, "a": 2}"#).unwrap();
    assert_eq!(
        Fields::new(&v, "x", &["a"], false).err().unwrap(),
        "x: duplicate field `a'"
    );
    assert_eq!(
        Fields::new(&Value::UInt(1), "", &["a"], true)
            .err()
            .unwrap(),
        "the document: expected an object, found an integer"
    );
}

#[test]
fn bytes_as_text_or_array() {
    assert_eq!(text_or_bytes(b"ffs"), Value::from("ffs"));
    assert_eq!(text_or_bytes(b"h\xff").to_pretty(), "[\n  104,\n  255\n]");
    assert_eq!(
        texts_or_bytes(&[&b"a"[..], b"\xfe"]),
        Value::Array(vec!["a".into(), byte_array(b"\xfe")])
    );
    let v = p(r#"{"s": "h\u00e9", "a": [104, 255], "e": [], "n": null,
                 "big": [256], "neg": [-1], "num": 1, "l": ["x", [255], []],
                 "badl": ["x", {}], "badb": [[1, "2"]]}"#)
    .unwrap();
    let known = [
        "s", "a", "e", "n", "big", "neg", "num", "l", "badl", "badb", "absent",
    ];
    let f = Fields::new(&v, Place::Item("active", 1), &known, true).unwrap();
    assert_eq!(f.bytes("s").unwrap(), Some("hé".as_bytes().to_vec()));
    assert_eq!(f.bytes("a").unwrap(), Some(b"h\xff".to_vec()));
    assert_eq!(f.bytes("e").unwrap(), Some(Vec::new()));
    assert_eq!(f.bytes("absent").unwrap(), None);
    assert_eq!(f.opt_bytes("n").unwrap(), None);
    assert_eq!(
        f.bytes("n").unwrap_err(),
        "active[1].n: expected a string or an array of bytes, found null"
    );
    assert_eq!(
        f.bytes("big").unwrap_err(),
        "active[1].big[0]: expected an integer from 0 to 255, found an integer"
    );
    assert!(f.bytes("neg").is_err());
    assert!(f.bytes("num").is_err());
    assert_eq!(
        f.bytes_list("l").unwrap(),
        Some(vec![b"x".to_vec(), vec![255], Vec::new()])
    );
    assert_eq!(
        f.bytes_list("badl").unwrap_err(),
        "active[1].badl[1]: expected a string or an array of bytes, found an object"
    );
    assert_eq!(
        f.bytes_list("badb").unwrap_err(),
        "active[1].badb[0][1]: expected an integer from 0 to 255, found a string"
    );
    // Written and read back, whatever the bytes.
    for b in [
        &b""[..],
        b"ffs",
        b"\xff",
        b"a\x00b",
        "é".as_bytes(),
        &[0xe9],
    ] {
        let doc = object(vec![("x", text_or_bytes(b))]).to_pretty();
        let v = p(&doc).unwrap();
        let f = Fields::new(&v, "", &["x"], true).unwrap();
        assert_eq!(f.bytes("x").unwrap().as_deref(), Some(b));
    }
}
