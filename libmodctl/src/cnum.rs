//! C's rules for numbers and white space, as NetBSD's libc applies them in
//! the C locale: `isspace`, the scan of `strtoll`/`strtoull` (base 10 or
//! base 0), `atoi`, and `dehumanize_number(3)`. One home for the parsers
//! that must read a number exactly as a C program would: proplib's
//! `<integer>` ([`crate::plist`]), modload's `-i` values and the boot
//! loader's `boot.cfg` numbers (in `modtools`).
//!
//! Everything works on bytes; a byte past the end reads as the C string's
//! NUL.

use crate::errno::Errno;

/// `isspace()` in the C locale.
pub fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// What `strtoll`/`strtoull` read before their range checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CNumber {
    pub negative: bool,
    /// The digits' value; `None` when they overflow 64 bits.
    pub magnitude: Option<u64>,
    /// Offset just past the digits; 0 when there were none (even if blanks
    /// or a sign were skipped), as the C functions' `endptr`.
    pub end: usize,
}

/// The scan of `strtoll`/`strtoull` with `base` 10 or 0 (0: `0x` hex,
/// `0` octal, else decimal): optional blanks and sign, then digits.
pub fn scan(s: &[u8], base: u32) -> CNumber {
    let at = |i: usize| s.get(i).copied().unwrap_or(0);
    let mut p = 0;
    while is_c_space(at(p)) {
        p += 1;
    }
    let negative = at(p) == b'-';
    if matches!(at(p), b'-' | b'+') {
        p += 1;
    }
    // "0x" not followed by a hex digit is the number 0 followed by junk.
    let (radix, digits) = if base != 0 {
        (base, p)
    } else if at(p) == b'0' && (at(p + 1) | 0x20) == b'x' && at(p + 2).is_ascii_hexdigit() {
        (16, p + 2)
    } else if at(p) == b'0' {
        (8, p)
    } else {
        (10, p)
    };
    let mut magnitude = Some(0u64);
    let mut q = digits;
    while let Some(d) = char::from(at(q)).to_digit(radix) {
        magnitude = magnitude
            .and_then(|m| m.checked_mul(u64::from(radix)))
            .and_then(|m| m.checked_add(u64::from(d)));
        q += 1;
    }
    if q == digits {
        return CNumber {
            negative: false,
            magnitude: Some(0),
            end: 0,
        };
    }
    CNumber {
        negative,
        magnitude,
        end: q,
    }
}

impl CNumber {
    /// `strtoll`'s value, clamped to the range as C clamps it, and whether
    /// it set ERANGE.
    pub fn to_i64(self) -> (i64, bool) {
        let clamped = if self.negative { i64::MIN } else { i64::MAX };
        match self.magnitude {
            None => (clamped, true),
            Some(m) if self.negative => {
                if m > i64::MIN.unsigned_abs() {
                    (clamped, true)
                } else {
                    (0i64.wrapping_sub_unsigned(m), false)
                }
            }
            Some(m) => i64::try_from(m).map_or((clamped, true), |v| (v, false)),
        }
    }

    /// `strtoull`'s value, `None` on ERANGE; a `-` negates modulo 2^64,
    /// as in C.
    pub fn to_u64(self) -> Option<u64> {
        let m = self.magnitude?;
        Some(if self.negative { m.wrapping_neg() } else { m })
    }
}

/// C's `atoi` as a 64-bit `strtol(s, NULL, 10)`: blanks, a sign, digits;
/// what follows is ignored, an overflow clamps.
pub fn atoi(s: &[u8]) -> i64 {
    scan(s, 10).to_i64().0
}

/// Whether NetBSD's libc `dehumanize_number` r1.8 (2020-08-18) is followed
/// for malformed numbers. r1.7 (2014, the version whose behaviour was verified)
/// leaves errno as strtoll left it, normally 0, so modload prints
/// `Undefined error: 0`; r1.8 sets EINVAL. Dated after the netbsd-9
/// branch, so likely in NetBSD 10 and later: UNVERIFIED which release
/// ships which, hence one switch.
const JUNK_SETS_EINVAL: bool = false;

/// NetBSD libc's `dehumanize_number(3)` (r1.7): a decimal int64 with an
/// optional one-letter binary suffix `b`, `k`, `m`, `g` (either case).
///
/// Quirks kept on purpose, since modload's messages show them:
/// * a trailing letter that is no suffix (`1t`, `123a`) → EINVAL;
/// * junk elsewhere (`5 `, `0x10`, `-k`) → the errno strtoll left, which is
///   `Errno(0)` ("Undefined error: 0"), or ERANGE if the digits overflowed;
/// * a bare suffix letter (`k`) is 0;
/// * leading whitespace and a sign are accepted.
///
/// The input is the bytes of one argument (argv strings hold no NUL).
pub fn dehumanize_number(s: &[u8]) -> Result<i64, Errno> {
    let Some(&unit) = s.last() else {
        return Err(Errno::EINVAL);
    };
    let (multiplier, suffix_at): (i64, Option<usize>) = if unit.is_ascii_alphabetic() {
        let m = match unit.to_ascii_lowercase() {
            b'b' => 1,
            b'k' => 1 << 10,
            b'm' => 1 << 20,
            b'g' => 1 << 30,
            _ => return Err(Errno::EINVAL),
        };
        (m, Some(s.len() - 1))
    } else {
        (1, None)
    };

    let scanned = scan(s, 10);
    let (value, overflow) = scanned.to_i64();
    if Some(scanned.end) != suffix_at && scanned.end != s.len() {
        return Err(if JUNK_SETS_EINVAL {
            Errno::EINVAL
        } else if overflow {
            Errno::ERANGE
        } else {
            Errno(0)
        });
    }
    if overflow {
        return Err(Errno::ERANGE);
    }
    value.checked_mul(multiplier).ok_or(Errno::ERANGE)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dh(s: &str) -> Result<i64, Errno> {
        dehumanize_number(s.as_bytes())
    }

    #[test]
    fn scans_like_strtoll() {
        assert_eq!(scan(b"  -12x", 10).to_i64(), (-12, false));
        assert_eq!(scan(b"  -12x", 10).end, 5);
        assert_eq!(scan(b" +", 10).end, 0);
        assert_eq!(scan(b"0x1f", 0).to_u64(), Some(31));
        assert_eq!(scan(b"0x1f", 10).to_i64(), (0, false));
        assert_eq!(scan(b"0x1f", 10).end, 1);
        assert_eq!(scan(b"017", 0).to_u64(), Some(15));
        assert_eq!(scan(b"0xg", 0).end, 1);
        assert_eq!(scan(b"-1", 0).to_u64(), Some(u64::MAX));
        assert_eq!(scan(b"9223372036854775808", 10).to_i64(), (i64::MAX, true));
        assert_eq!(
            scan(b"-9223372036854775808", 10).to_i64(),
            (i64::MIN, false)
        );
        assert_eq!(
            scan(b"-99999999999999999999", 10).to_i64(),
            (i64::MIN, true)
        );
        assert_eq!(scan(b"99999999999999999999", 10).to_u64(), None);
    }

    #[test]
    fn atoi_ignores_what_follows() {
        assert_eq!(atoi(b" 5 and more"), 5);
        assert_eq!(atoi(b"-3"), -3);
        assert_eq!(atoi(b"x"), 0);
        assert_eq!(atoi(b""), 0);
        assert_eq!(atoi(b"99999999999999999999"), i64::MAX);
    }

    #[test]
    fn dehumanize_plain_and_suffixed() {
        assert_eq!(dh("5"), Ok(5));
        assert_eq!(dh("10"), Ok(10));
        assert_eq!(dh("-5"), Ok(-5));
        assert_eq!(dh("+7"), Ok(7));
        assert_eq!(dh(" 12"), Ok(12));
        assert_eq!(dh("\t\n\x0b\x0c\r 3"), Ok(3));
        assert_eq!(dh("4k"), Ok(4096));
        assert_eq!(dh("4K"), Ok(4096));
        assert_eq!(dh("2m"), Ok(2 << 20));
        assert_eq!(dh("3G"), Ok(3 << 30));
        assert_eq!(dh("7b"), Ok(7));
        assert_eq!(dh("-1k"), Ok(-1024));
        assert_eq!(dh("-9223372036854775808"), Ok(i64::MIN));
        assert_eq!(dh("9223372036854775807"), Ok(i64::MAX));
        // -2^33 GiB is exactly i64::MIN.
        assert_eq!(dh("-8589934592g"), Ok(i64::MIN));
    }

    #[test]
    fn dehumanize_bare_suffix_is_zero() {
        assert_eq!(dh("k"), Ok(0));
        assert_eq!(dh("M"), Ok(0));
        assert_eq!(dh("b"), Ok(0));
    }

    #[test]
    fn dehumanize_bad_suffix_is_einval() {
        assert_eq!(dh(""), Err(Errno::EINVAL));
        assert_eq!(dh("123a"), Err(Errno::EINVAL));
        assert_eq!(dh("1t"), Err(Errno::EINVAL));
        assert_eq!(dh("bar"), Err(Errno::EINVAL));
        assert_eq!(dh("abc"), Err(Errno::EINVAL));
        assert_eq!(dh("1e"), Err(Errno::EINVAL));
    }

    #[test]
    fn dehumanize_junk_keeps_strtoll_errno() {
        assert_eq!(dh("5 "), Err(Errno(0)));
        assert_eq!(dh("0x10"), Err(Errno(0)));
        assert_eq!(dh("-k"), Err(Errno(0)));
        assert_eq!(dh(" k"), Err(Errno(0)));
        assert_eq!(dh("+"), Err(Errno(0)));
        assert_eq!(dh("1.5"), Err(Errno(0)));
        assert_eq!(dh("4kk"), Err(Errno(0)));
        assert_eq!(Errno(0).to_string(), "Undefined error: 0");
        // strtoll had already set ERANGE before the junk was noticed.
        assert_eq!(dh("99999999999999999999 "), Err(Errno::ERANGE));
    }

    #[test]
    fn dehumanize_overflow_is_erange() {
        assert_eq!(dh("9223372036854775808"), Err(Errno::ERANGE));
        assert_eq!(dh("-9223372036854775809"), Err(Errno::ERANGE));
        assert_eq!(dh("99999999999999999999k"), Err(Errno::ERANGE));
        assert_eq!(dh("8589934592g"), Err(Errno::ERANGE));
        assert_eq!(dh("9007199254740992k"), Err(Errno::ERANGE));
        assert_eq!(dh("8589934591g"), Ok(8589934591 << 30));
    }

    #[test]
    fn dehumanize_non_ascii_does_not_panic() {
        assert_eq!(dehumanize_number(b"\xff"), Err(Errno(0)));
        assert_eq!(dehumanize_number(b"1\xe9"), Err(Errno(0)));
    }
}
