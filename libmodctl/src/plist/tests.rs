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
    let d = parse_ok(b"  \n<plist><!-- hi --><dict><key>a</key><!-- c --><true/></dict></plist>");
    assert_eq!(d.get(b"a"), Some(&Value::Bool(true)));
    let d =
        parse_ok(b"<plist version=\"anything\">\n<!-- a\n-- b -->\n<dict/>\n</plist>trailing junk");
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
