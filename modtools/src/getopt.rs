//! The command-line layer the three tools share: the program name and a
//! getopt(3) that behaves like NetBSD's. The values modload's `-b`, `-i`
//! and `-s` take are read in [`crate::params`].
//!
//! Nothing here prints. Errors come back as values; the binaries turn them
//! into NetBSD's messages and exit statuses.
//!
//! Everything works on the bytes of the arguments, so arguments that are
//! not UTF-8 are handled the way a C program would handle them.

use std::borrow::Cow;
use std::ffi::{OsStr, OsString};
use std::fmt;

/// The bytes of an OS string. Unix hands them over untouched; elsewhere
/// (never a target, but it keeps the crate building) they go through UTF-8.
fn os_bytes(s: &OsStr) -> Cow<'_, [u8]> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        Cow::Borrowed(s.as_bytes())
    }
    #[cfg(not(unix))]
    {
        match s.to_string_lossy() {
            Cow::Borrowed(t) => Cow::Borrowed(t.as_bytes()),
            Cow::Owned(t) => Cow::Owned(t.into_bytes()),
        }
    }
}

fn os_from_bytes(b: &[u8]) -> OsString {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        OsStr::from_bytes(b).to_os_string()
    }
    #[cfg(not(unix))]
    {
        OsString::from(String::from_utf8_lossy(b).into_owned())
    }
}

/// The name used when `argv[0]` yields none (empty, or ending in `/`) and
/// the running executable's file name is not available either.
pub const FALLBACK_PROGNAME: &str = "modctl";

/// The program name for messages, as NetBSD's `getprogname()` gives it:
/// everything after the last `/` of `argv[0]`.
///
/// When that is empty (an empty `argv[0]` or one ending in `/`), NetBSD
/// would print an empty name; we use the executable's file name instead,
/// or [`FALLBACK_PROGNAME`], so messages keep a recognisable prefix.
pub fn progname(argv0: &OsStr) -> String {
    let exe = std::env::current_exe().ok();
    let exe_name = exe
        .as_deref()
        .and_then(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned());
    progname_or(argv0, exe_name.as_deref().unwrap_or(FALLBACK_PROGNAME))
}

/// [`progname`] with an explicit name for the case where `argv[0]` has none.
pub fn progname_or(argv0: &OsStr, fallback: &str) -> String {
    let bytes = os_bytes(argv0);
    let base = match bytes.iter().rposition(|&b| b == b'/') {
        Some(slash) => &bytes[slash + 1..],
        None => &bytes[..],
    };
    if base.is_empty() {
        fallback.to_string()
    } else {
        String::from_utf8_lossy(base).into_owned()
    }
}

/// One option getopt recognised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opt {
    /// The option letter (always one of the option string's ASCII letters).
    pub letter: char,
    /// Its argument, for letters followed by `:` in the option string.
    /// `None` for flags, and for a `::` (optional) argument left out.
    pub arg: Option<OsString>,
}

/// Why getopt stopped with an error. The byte is the offending option
/// character exactly as it appeared, which need not be ASCII.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GetoptError {
    /// The letter is not in the option string (`unknown option -- x`).
    Unknown(u8),
    /// The letter needs an argument and the command line ended
    /// (`option requires an argument -- x`).
    MissingArgument(u8),
}

impl GetoptError {
    /// The option character the error is about.
    pub fn letter(&self) -> u8 {
        match *self {
            GetoptError::Unknown(c) | GetoptError::MissingArgument(c) => c,
        }
    }

    /// The message text (without program name or newline) as raw bytes.
    /// NetBSD prints the offending byte as it is, so this is exact even
    /// for a non-ASCII byte, where [`fmt::Display`] has to substitute.
    pub fn message_bytes(&self) -> Vec<u8> {
        let mut m = self.prefix().as_bytes().to_vec();
        m.push(self.letter());
        m
    }

    fn prefix(&self) -> &'static str {
        match self {
            GetoptError::Unknown(_) => "unknown option -- ",
            GetoptError::MissingArgument(_) => "option requires an argument -- ",
        }
    }
}

impl fmt::Display for GetoptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = self.letter();
        let shown = if c.is_ascii() {
            char::from(c)
        } else {
            char::REPLACEMENT_CHARACTER
        };
        write!(f, "{}{}", self.prefix(), shown)
    }
}

impl std::error::Error for GetoptError {}

/// How an option letter takes its argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ArgSpec {
    None,
    Required,
    /// `x::`, NetBSD's GNU-compatible optional argument: only an attached
    /// one counts.
    Optional,
}

/// Looks a byte up in an option string as NetBSD's getopt does: `:` is
/// never an option, and a letter's spec is given by the colons after it.
fn lookup(optstring: &[u8], letter: u8) -> Option<ArgSpec> {
    if letter == b':' || !letter.is_ascii() {
        return None;
    }
    let at = optstring.iter().position(|&b| b == letter)?;
    let colon = |n: usize| optstring.get(at + n) == Some(&b':');
    Some(match (colon(1), colon(2)) {
        (false, _) => ArgSpec::None,
        (true, false) => ArgSpec::Required,
        (true, true) => ArgSpec::Optional,
    })
}

/// NetBSD's getopt(3) as an iterator over options, strictly left to right.
///
/// * Clusters: `-fP` is `-f` then `-P`.
/// * An option argument is the rest of the word (`-bfoo=1`) or, when that
///   is empty, the whole next word (`-b foo=1`), even if it starts with `-`.
/// * No permutation: parsing stops at the first word that does not start
///   with `-`, at a lone `-` (an operand, unless the option string lists
///   `-`), or at `--`, which is consumed.
/// * After the first error, parsing stops: every later call returns `None`.
///
/// The caller can hand in any slice, e.g. argv without `argv[0]` and with
/// project-specific long options taken out first (see [`remove_long_flag`]).
pub struct Getopt<'a> {
    args: &'a [OsString],
    optstring: &'a [u8],
    /// Index of the word being scanned (getopt's `optind`, 0-based here).
    index: usize,
    /// Byte offset of the next option letter inside `args[index]`; 0 when
    /// the next call starts a new word.
    pos: usize,
    finished: bool,
}

impl<'a> Getopt<'a> {
    /// `args` excludes `argv[0]`. `optstring` is a getopt(3) option string
    /// such as `"Pb:d:fi:m:ps:"`; a leading `:` only means that `:` is not
    /// an option (errors are always returned as values here).
    pub fn new(args: &'a [OsString], optstring: &'a str) -> Self {
        Getopt {
            args,
            optstring: optstring.as_bytes(),
            index: 0,
            pos: 0,
            finished: false,
        }
    }

    /// The next option, an error (after which parsing is over), or `None`
    /// when options have ended.
    pub fn next_opt(&mut self) -> Option<Result<Opt, GetoptError>> {
        if self.finished {
            return None;
        }
        let args = self.args;
        let Some(word_os) = args.get(self.index) else {
            self.finished = true;
            return None;
        };
        let word = os_bytes(word_os);

        let letter = if self.pos == 0 {
            if word.first() != Some(&b'-') {
                self.finished = true;
                return None;
            }
            match word.get(1) {
                None => {
                    // A lone "-" is an operand unless '-' is itself an option.
                    if !self.optstring.contains(&b'-') {
                        self.finished = true;
                        return None;
                    }
                    self.pos = 1;
                    b'-'
                }
                Some(b'-') if word.len() == 2 => {
                    self.index += 1;
                    self.finished = true;
                    return None;
                }
                Some(&c) => {
                    self.pos = 2;
                    c
                }
            }
        } else {
            // pos > 0 always points inside the word (the word end resets it).
            let Some(&c) = word.get(self.pos) else {
                self.finish_word();
                self.finished = true;
                return None;
            };
            self.pos += 1;
            c
        };
        let rest = word.get(self.pos..).unwrap_or(&[]);

        let Some(spec) = lookup(self.optstring, letter) else {
            if rest.is_empty() {
                self.finish_word();
            }
            self.finished = true;
            return Some(Err(GetoptError::Unknown(letter)));
        };
        let arg = match spec {
            ArgSpec::None => {
                if rest.is_empty() {
                    self.finish_word();
                }
                None
            }
            ArgSpec::Optional if rest.is_empty() => {
                self.finish_word();
                None
            }
            ArgSpec::Required | ArgSpec::Optional if !rest.is_empty() => {
                let arg = os_from_bytes(rest);
                self.finish_word();
                Some(arg)
            }
            ArgSpec::Required | ArgSpec::Optional => {
                // The argument is the whole next word, whatever it looks like.
                self.finish_word();
                match args.get(self.index) {
                    Some(next) => {
                        self.index += 1;
                        Some(next.clone())
                    }
                    None => {
                        self.finished = true;
                        return Some(Err(GetoptError::MissingArgument(letter)));
                    }
                }
            }
        };
        Some(Ok(Opt {
            letter: char::from(letter),
            arg,
        }))
    }

    fn finish_word(&mut self) {
        self.index += 1;
        self.pos = 0;
    }

    /// getopt's `optind` minus one: how many words of `args` were consumed.
    /// Mid-cluster, the current word counts as not yet consumed.
    pub fn index(&self) -> usize {
        self.index
    }

    /// The words after the options: the operands once [`Getopt::next_opt`]
    /// has returned `None`. (After an error: the words not yet consumed.)
    pub fn operands(&self) -> &'a [OsString] {
        self.args.get(self.index..).unwrap_or(&[])
    }
}

impl Iterator for Getopt<'_> {
    type Item = Result<Opt, GetoptError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_opt()
    }
}

/// Removes a long flag such as `--json` from `args` wherever getopt would
/// meet it as an option word, i.e. before options end and not as the
/// argument of an option (`-s --json` keeps it as `-s`'s argument). After
/// the first operand or `--`, it is an operand and stays.
///
/// Returns the remaining words and whether the flag was present. Without
/// this, getopt would report `unknown option -- -`.
pub fn remove_long_flag(args: &[OsString], optstring: &str, flag: &str) -> (Vec<OsString>, bool) {
    let mut found = false;
    let kept = remove_long(args, optstring, |word, _next| {
        (word == flag.as_bytes()).then(|| {
            found = true;
            Ok(1)
        })
    });
    (kept.unwrap_or_default(), found)
}

/// [`remove_long_flag`] for a long option that takes a value: `--name
/// VALUE` or `--name=VALUE`, wherever getopt would meet it as an option
/// word. Returns the remaining words and the value (the last one given),
/// or the name of the option whose value is missing.
pub fn remove_long_option(
    args: &[OsString],
    optstring: &str,
    name: &str,
) -> Result<(Vec<OsString>, Option<OsString>), String> {
    let mut value = None;
    let kept = remove_long(args, optstring, |word, next| {
        if word == name.as_bytes() {
            return Some(match next {
                Some(v) => {
                    value = Some(v.clone());
                    Ok(2)
                }
                None => Err(name.to_string()),
            });
        }
        let v = word
            .strip_prefix(name.as_bytes())
            .and_then(|rest| rest.strip_prefix(b"="))?;
        value = Some(os_from_bytes(v));
        Some(Ok(1))
    })?;
    Ok((kept, value))
}

/// The words of `args` without those `take` claims among the option words
/// getopt would meet. `take(word, next word)` answers `Some(Ok(n))` to drop
/// `n` words there, `Some(Err(..))` to stop with an error, `None` to leave
/// the word to getopt.
fn remove_long(
    args: &[OsString],
    optstring: &str,
    mut take: impl FnMut(&[u8], Option<&OsString>) -> Option<Result<usize, String>>,
) -> Result<Vec<OsString>, String> {
    let opts = optstring.as_bytes();
    let mut kept = Vec::with_capacity(args.len());
    let mut i = 0;
    while let Some(word_os) = args.get(i) {
        let word = os_bytes(word_os);
        if let Some(taken) = take(&word, args.get(i + 1)) {
            i += taken?;
            continue;
        }
        let in_options = word.len() >= 2 && word[0] == b'-';
        if !in_options || word.as_ref() == b"--" {
            break;
        }
        kept.push(word_os.clone());
        i += 1;
        // Skip the next word when the cluster's last letter consumes it.
        for (at, &c) in word.iter().enumerate().skip(1) {
            match lookup(opts, c) {
                Some(ArgSpec::Required) => {
                    if at + 1 == word.len() {
                        if let Some(next) = args.get(i) {
                            kept.push(next.clone());
                            i += 1;
                        }
                    }
                    break;
                }
                Some(ArgSpec::Optional) => break,
                _ => {}
            }
        }
    }
    kept.extend(args.get(i..).unwrap_or(&[]).iter().cloned());
    Ok(kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MODLOAD: &str = "Pb:d:fi:m:ps:";

    /// What getopt produced for one option, with the argument as UTF-8.
    type Seen = Result<(char, Option<String>), GetoptError>;

    fn argv(words: &[&str]) -> Vec<OsString> {
        words.iter().map(OsString::from).collect()
    }

    /// Runs getopt to the end; options as (letter, arg) and the operands.
    fn run(words: &[&str], optstring: &str) -> (Vec<Seen>, Vec<String>) {
        let args = argv(words);
        let mut g = Getopt::new(&args, optstring);
        let mut seen = Vec::new();
        while let Some(r) = g.next_opt() {
            seen.push(r.map(|o| (o.letter, o.arg.map(|a| a.into_string().unwrap()))));
        }
        let ops = g
            .operands()
            .iter()
            .map(|o| o.clone().into_string().unwrap())
            .collect();
        (seen, ops)
    }

    fn flag(c: char) -> Seen {
        Ok((c, None))
    }

    fn with(c: char, a: &str) -> Seen {
        Ok((c, Some(a.to_string())))
    }

    #[test]
    fn cluster_of_flags() {
        let (opts, ops) = run(&["-fP", "tmpfs"], MODLOAD);
        assert_eq!(opts, vec![flag('f'), flag('P')]);
        assert_eq!(ops, ["tmpfs"]);
    }

    #[test]
    fn attached_and_separate_arguments() {
        let (opts, ops) = run(&["-bfoo=1", "-b", "bar=0", "-p"], MODLOAD);
        assert_eq!(
            opts,
            vec![with('b', "foo=1"), with('b', "bar=0"), flag('p')]
        );
        assert!(ops.is_empty());
    }

    #[test]
    fn argument_ends_a_cluster() {
        // "-fbx=1": f is a flag, b takes the rest of the word.
        let (opts, _) = run(&["-fbx=1", "-fb", "y=2"], MODLOAD);
        assert_eq!(
            opts,
            vec![flag('f'), with('b', "x=1"), flag('f'), with('b', "y=2")]
        );
    }

    #[test]
    fn argument_may_start_with_dash() {
        let (opts, ops) = run(&["-s", "-f", "-i", "--", "m"], MODLOAD);
        assert_eq!(opts, vec![with('s', "-f"), with('i', "--")]);
        assert_eq!(ops, ["m"]);
    }

    #[test]
    fn double_dash_is_consumed_and_ends_options() {
        let (opts, ops) = run(&["-f", "--", "-P", "x"], MODLOAD);
        assert_eq!(opts, vec![flag('f')]);
        assert_eq!(ops, ["-P", "x"]);
    }

    #[test]
    fn lone_dash_is_an_operand() {
        let (opts, ops) = run(&["-f", "-", "-P"], MODLOAD);
        assert_eq!(opts, vec![flag('f')]);
        assert_eq!(ops, ["-", "-P"]);
    }

    #[test]
    fn lone_dash_is_an_option_when_listed() {
        let (opts, ops) = run(&["-", "x"], "-f");
        assert_eq!(opts, vec![flag('-')]);
        assert_eq!(ops, ["x"]);
    }

    #[test]
    fn no_permutation_stops_at_first_operand() {
        let (opts, ops) = run(&["tmpfs", "-f"], MODLOAD);
        assert!(opts.is_empty());
        assert_eq!(ops, ["tmpfs", "-f"]);
    }

    #[test]
    fn empty_command_line() {
        let (opts, ops) = run(&[], MODLOAD);
        assert!(opts.is_empty());
        assert!(ops.is_empty());
    }

    #[test]
    fn empty_word_is_an_operand() {
        let (opts, ops) = run(&["-f", ""], MODLOAD);
        assert_eq!(opts, vec![flag('f')]);
        assert_eq!(ops, [""]);
    }

    #[test]
    fn missing_argument_at_end_of_cluster() {
        let (opts, _) = run(&["-fi"], MODLOAD);
        assert_eq!(
            opts,
            vec![flag('f'), Err(GetoptError::MissingArgument(b'i'))]
        );
    }

    #[test]
    fn missing_argument_alone() {
        let (opts, _) = run(&["-n"], "Aaekn:");
        assert_eq!(opts, vec![Err(GetoptError::MissingArgument(b'n'))]);
        assert_eq!(
            GetoptError::MissingArgument(b'n').to_string(),
            "option requires an argument -- n"
        );
    }

    #[test]
    fn unknown_option_inside_cluster_stops_parsing() {
        let (opts, ops) = run(&["-fxP", "-b", "a=1", "m"], MODLOAD);
        assert_eq!(opts, vec![flag('f'), Err(GetoptError::Unknown(b'x'))]);
        // The cluster was not finished, so it is not consumed.
        assert_eq!(ops, ["-fxP", "-b", "a=1", "m"]);
        assert_eq!(
            GetoptError::Unknown(b'x').to_string(),
            "unknown option -- x"
        );
    }

    #[test]
    fn unknown_option_at_end_of_word_consumes_it() {
        let args = argv(&["-h", "x"]);
        let mut g = Getopt::new(&args, "Aaekn:");
        assert_eq!(g.next_opt(), Some(Err(GetoptError::Unknown(b'h'))));
        assert_eq!(g.next_opt(), None);
        assert_eq!(g.index(), 1);
        assert_eq!(g.operands(), &argv(&["x"])[..]);
    }

    #[test]
    fn left_to_right_first_error_wins() {
        // The caller sees -b's argument before getopt meets the unknown -x.
        let (opts, _) = run(&["-b", "bad", "-x"], MODLOAD);
        assert_eq!(
            opts,
            vec![with('b', "bad"), Err(GetoptError::Unknown(b'x'))]
        );
    }

    #[test]
    fn colon_is_never_an_option() {
        let (opts, _) = run(&["-:"], ":ab:");
        assert_eq!(opts, vec![Err(GetoptError::Unknown(b':'))]);
    }

    #[test]
    fn long_option_is_unknown_dash() {
        let (opts, _) = run(&["--json"], MODLOAD);
        assert_eq!(opts, vec![Err(GetoptError::Unknown(b'-'))]);
    }

    #[test]
    fn optional_argument_only_attached() {
        let (opts, ops) = run(&["-ofoo", "-o", "bar"], "o::");
        assert_eq!(opts, vec![with('o', "foo"), flag('o')]);
        assert_eq!(ops, ["bar"]);
    }

    #[test]
    fn iterator_interface_matches_next_opt() {
        let args = argv(&["-k", "-n", "ffs"]);
        let letters: Vec<char> = Getopt::new(&args, "Aaekn:")
            .map(|r| r.unwrap().letter)
            .collect();
        assert_eq!(letters, ['k', 'n']);
    }

    #[cfg(unix)]
    #[test]
    fn non_utf8_bytes_do_not_panic() {
        use std::os::unix::ffi::{OsStrExt, OsStringExt};
        let args = vec![
            OsString::from_vec(b"-b\xffk=\xfe".to_vec()),
            OsString::from_vec(b"-s".to_vec()),
            OsString::from_vec(b"\x80".to_vec()),
            OsString::from_vec(b"-\xe9".to_vec()),
        ];
        let mut g = Getopt::new(&args, MODLOAD);
        let b = g.next_opt().unwrap().unwrap();
        assert_eq!(b.arg.unwrap().as_bytes(), b"\xffk=\xfe");
        let s = g.next_opt().unwrap().unwrap();
        assert_eq!(s.arg.unwrap().as_bytes(), b"\x80");
        let err = g.next_opt().unwrap().unwrap_err();
        assert_eq!(err, GetoptError::Unknown(0xe9));
        assert_eq!(err.message_bytes(), b"unknown option -- \xe9");
        assert_eq!(err.to_string(), "unknown option -- \u{fffd}");
        assert_eq!(g.next_opt(), None);
    }

    #[test]
    fn remove_json_before_getopt() {
        let (rest, found) =
            remove_long_flag(&argv(&["-f", "--json", "-bx=1", "m"]), MODLOAD, "--json");
        assert!(found);
        assert_eq!(rest, argv(&["-f", "-bx=1", "m"]));
    }

    #[test]
    fn remove_json_leaves_option_arguments_and_operands() {
        let words = ["-s", "--json", "-b", "--json", "m", "--json"];
        let (rest, found) = remove_long_flag(&argv(&words), MODLOAD, "--json");
        assert!(!found);
        assert_eq!(rest, argv(&words));

        let words = ["-fs", "--json", "--json", "--", "--json"];
        let (rest, found) = remove_long_flag(&argv(&words), MODLOAD, "--json");
        assert!(found);
        assert_eq!(rest, argv(&["-fs", "--json", "--", "--json"]));

        // An attached argument does not consume the next word.
        let (rest, found) = remove_long_flag(&argv(&["-sx=1", "--json"]), MODLOAD, "--json");
        assert!(found);
        assert_eq!(rest, argv(&["-sx=1"]));
    }

    #[test]
    fn remove_long_option_with_its_value() {
        let take = |words: &[&str]| remove_long_option(&argv(words), MODLOAD, "--boot-cfg");
        assert_eq!(
            take(&["-n", "--boot-cfg", "/boot.cfg", "--json"]),
            Ok((argv(&["-n", "--json"]), Some("/boot.cfg".into())))
        );
        assert_eq!(
            take(&["--boot-cfg=b.cfg", "-n"]),
            Ok((argv(&["-n"]), Some("b.cfg".into())))
        );
        // The last one counts; an option's argument and operands stay.
        assert_eq!(
            take(&[
                "--boot-cfg",
                "a",
                "-s",
                "--boot-cfg",
                "--boot-cfg=b",
                "m",
                "--boot-cfg"
            ]),
            Ok((
                argv(&["-s", "--boot-cfg", "m", "--boot-cfg"]),
                Some("b".into())
            ))
        );
        assert_eq!(take(&["-n", "--boot-cfg"]), Err("--boot-cfg".to_string()));
        assert_eq!(take(&["-n"]), Ok((argv(&["-n"]), None)));
    }

    #[test]
    fn progname_is_the_basename() {
        assert_eq!(progname_or(OsStr::new("/sbin/modload"), "x"), "modload");
        assert_eq!(progname_or(OsStr::new("rump.modstat"), "x"), "rump.modstat");
        assert_eq!(
            progname_or(OsStr::new("./bin/rump.modunload"), "x"),
            "rump.modunload"
        );
        assert_eq!(progname_or(OsStr::new(""), "modload"), "modload");
        assert_eq!(progname_or(OsStr::new("/sbin/"), "modload"), "modload");
        assert!(!progname(OsStr::new("")).is_empty());
        assert_eq!(progname(OsStr::new("/a/b/modstat")), "modstat");
    }
}
