//! The values modload's `-b`, `-i` and `-s` options take (modload r1.15
//! `main.c`): `var=value` split at its first `=`, a boolean word, and a
//! number read by libc's `dehumanize_number(3)` ([`libmodctl::cnum`], the
//! C number rules shared with proplib and the boot.cfg reader).

pub use libmodctl::cnum::dehumanize_number;

/// modload's `-b` values: `1`/`true`/`yes` and `0`/`false`/`no`, ignoring
/// ASCII case. Anything else, the empty string included, is `None`.
pub fn parse_bool(s: &[u8]) -> Option<bool> {
    const TRUE: [&[u8]; 3] = [b"1", b"true", b"yes"];
    const FALSE: [&[u8]; 3] = [b"0", b"false", b"no"];
    if TRUE.iter().any(|t| t.eq_ignore_ascii_case(s)) {
        Some(true)
    } else if FALSE.iter().any(|f| f.eq_ignore_ascii_case(s)) {
        Some(false)
    } else {
        None
    }
}

/// Splits a `var=value` argument at its first `=`. Either side may be
/// empty, and the value may contain more `=`. `None` when there is no `=`.
pub fn split_param(arg: &[u8]) -> Option<(&[u8], &[u8])> {
    let eq = arg.iter().position(|&b| b == b'=')?;
    Some((&arg[..eq], &arg[eq + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booleans() {
        assert_eq!(parse_bool(b"YES"), Some(true));
        assert_eq!(parse_bool(b"True"), Some(true));
        assert_eq!(parse_bool(b"1"), Some(true));
        assert_eq!(parse_bool(b"0"), Some(false));
        assert_eq!(parse_bool(b"No"), Some(false));
        assert_eq!(parse_bool(b"FALSE"), Some(false));
        assert_eq!(parse_bool(b"falsea"), None);
        assert_eq!(parse_bool(b"truea"), None);
        assert_eq!(parse_bool(b"maybe"), None);
        assert_eq!(parse_bool(b""), None);
        assert_eq!(parse_bool(b" 1"), None);
    }

    #[test]
    fn params_split_at_the_first_equals() {
        assert_eq!(split_param(b"foo=1"), Some((&b"foo"[..], &b"1"[..])));
        assert_eq!(split_param(b"a=b=c"), Some((&b"a"[..], &b"b=c"[..])));
        assert_eq!(split_param(b"=x"), Some((&b""[..], &b"x"[..])));
        assert_eq!(split_param(b"empty="), Some((&b"empty"[..], &b""[..])));
        assert_eq!(split_param(b"novalue"), None);
        assert_eq!(split_param(b""), None);
    }
}
