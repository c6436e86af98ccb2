use super::*;

/// Notes in words.
fn words(notes: &[Note]) -> Vec<String> {
    notes.iter().map(ToString::to_string).collect()
}

#[test]
fn parses_as_the_boot_loader_does() {
    let cfg = parse(
        b"banner=Welcome\nmenu=Boot normally:boot\nmenu=:load /foo.kmod;boot\n\
          menu=no colon\nload=hello # a comment\n# load=commented\nloadx=chain_a\n\
          load=dos\r\ndefault=2\ntimeout=-1\nnokey\n",
    );
    assert_eq!(cfg.loads, [&b"hello "[..], b"chain_a", b"dos\r"]);
    assert_eq!(
        cfg.menu,
        [
            MenuEntry {
                desc: "Boot normally".into(),
                command: b"boot".to_vec()
            },
            MenuEntry {
                desc: "load /foo.kmod;boot".into(),
                command: b"load /foo.kmod;boot".to_vec()
            }
        ]
    );
    assert_eq!(cfg.default, Some(1));
    assert_eq!(cfg.timeout, -1);
    assert_eq!(
        words(&cfg.notes),
        ["line 4: a menu line without `:' is not a menu entry"]
    );
    // The default is clamped to the menu.
    assert_eq!(parse(b"menu=a:boot\ndefault=7\n").default, Some(0));
    assert_eq!(parse(b"menu=a:boot\ndefault=x\n").default, Some(0));
    assert_eq!(parse(b"load=x\n").default, None);
    let big = vec![b'#'; BOOTCFG_MAX_SIZE as usize + 1];
    assert!(parse(&big).ignored.is_some());
    let many: String = (0..12).map(|i| format!("menu={i}:boot\n")).collect();
    assert_eq!(parse(many.as_bytes()).menu.len(), 12);
    let numbered = format!("{many}format=n\ntimeout=5\n");
    assert_eq!(parse(numbered.as_bytes()).menu.len(), 9);
}

#[test]
fn entries_collect_their_modules() {
    let cfg = parse(
        b"load=hello\nmenu=Plain:boot\nmenu=Extra:load needy; load hello ;boot netbsd.old -s\n\
          menu=Off:modules off;boot\nmenu=Xen:load /netbsd-XEN3_DOM0;multiboot /xen.gz\n\
          menu=Prompt:prompt\nmenu=Nothing:load x\nmenu=Via default:load y;boot\n\
          menu=Odd: load z;boot\n",
    );
    let p = |i| plan(&cfg, Some(i));
    assert_eq!(p(0).modules, [&b"hello"[..]]);
    assert_eq!(p(0).ends, Ends::Boots(None));
    assert_eq!(p(1).modules, [&b"hello"[..], b"needy"]);
    assert_eq!(p(1).ends, Ends::Boots(Some("netbsd.old".into())));
    assert!(!p(2).enabled);
    assert_eq!(p(3).ends, Ends::Multiboot("/xen.gz".into()));
    assert!(matches!(p(4).ends, Ends::Stays(_)));
    assert!(matches!(p(5).ends, Ends::Stays(_)));
    assert_eq!(p(5).modules, [&b"hello"[..], b"x"]);
    // `boot' alone runs the default entry first (here it just boots).
    assert_eq!(p(6).modules, [&b"hello"[..], b"y"]);
    assert_eq!(p(6).ends, Ends::Boots(None));
    // The first command keeps its leading blank: ` load' is unknown.
    assert_eq!(p(7).modules, [&b"hello"[..]]);
    assert_eq!(
        words(&p(7).notes),
        [
            "` load z' starts with a blank, which the boot loader does not skip there: \
             an unknown command",
            "`boot' without a kernel or flags first runs the default entry (1) (bootdefault)"
        ]
    );
    assert_eq!(plan(&cfg, None).modules, [&b"hello"[..]]);
}

#[test]
fn boot_alone_runs_the_default_entry_once() {
    let cfg = parse(b"menu=Default:load d;boot\nmenu=Other:load o;boot\n");
    assert_eq!(plan(&cfg, Some(1)).modules, [&b"o"[..], b"d"]);
    assert_eq!(plan(&cfg, Some(0)).modules, [&b"d"[..]]);
}
