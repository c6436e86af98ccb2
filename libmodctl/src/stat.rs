//! The stat buffers of both ABI eras: decoding what a kernel wrote, and
//! encoding them byte for byte as the kernel does (for the emulator).
//!
//! * v2 (NetBSD ≥ 9, `MODCTL_STAT` = 4): `int count`, then `count` 64-byte
//!   records starting at byte 4 (unaligned), then a strings area whose first
//!   byte is NUL; `ms_reqoffset` is relative to that area, 0 = none.
//! * v1 (NetBSD ≤ 8 `MODCTL_STAT` = 2, ≥ 9 `MODCTL_OSTAT`): bare 392-byte
//!   records with the required list inline.

use std::fmt;

use crate::abi::*;
use crate::name::ModName;

/// One module as the kernel reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModStat {
    /// `ms_name`: the bytes before its NUL, never decoded.
    pub name: ModName,
    /// Raw `modclass_t`; see [`crate::abi::class_name`].
    pub class: i32,
    /// Raw `modsrc_t`; see [`crate::abi::source_name`].
    pub source: i32,
    pub flags: u32,
    /// The kernel's `u_int`; a disabled builtin has `u32::MAX` (prints -1).
    pub refcnt: u32,
    pub addr: u64,
    pub size: u32,
    /// The comma-separated required list, empty when none (bytes, as the
    /// names in it).
    pub required: Vec<u8>,
}

/// Which stat ABI a buffer is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatAbi {
    V1,
    V2,
}

/// A stat buffer that does not hold what it claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatError {
    /// Shorter than its 4-byte count.
    NoCount { len: usize },
    /// A negative record count.
    NegativeCount(i32),
    /// `count` records do not fit in the buffer.
    RecordsOverrun { count: usize, len: usize },
    /// v1: the length is not a whole number of 392-byte records.
    PartialRecord { len: usize },
    /// v2: a record's `ms_reqoffset` points outside the strings area.
    BadReqOffset {
        record: usize,
        offset: u32,
        area: usize,
    },
    /// v2: a required string runs to the end of the buffer without a NUL.
    UnterminatedRequired { record: usize },
    /// v2: the strings area is missing its leading NUL.
    NoStringsArea,
}

impl fmt::Display for StatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StatError::NoCount { len } => write!(f, "stat buffer of {len} bytes has no count"),
            StatError::NegativeCount(n) => write!(f, "stat buffer claims {n} records"),
            StatError::RecordsOverrun { count, len } => {
                write!(f, "{count} records do not fit in a {len}-byte stat buffer")
            }
            StatError::PartialRecord { len } => {
                write!(f, "{len} bytes is not a whole number of 392-byte records")
            }
            StatError::BadReqOffset {
                record,
                offset,
                area,
            } => write!(
                f,
                "record {record}: required offset {offset} is outside the {area}-byte strings area"
            ),
            StatError::UnterminatedRequired { record } => {
                write!(f, "record {record}: required string is not terminated")
            }
            StatError::NoStringsArea => write!(f, "stat buffer has no strings area"),
        }
    }
}

impl std::error::Error for StatError {}

fn u32_at(b: &[u8], off: usize) -> u32 {
    u32::from_ne_bytes(b[off..off + 4].try_into().unwrap())
}

fn i32_at(b: &[u8], off: usize) -> i32 {
    i32::from_ne_bytes(b[off..off + 4].try_into().unwrap())
}

fn u64_at(b: &[u8], off: usize) -> u64 {
    u64::from_ne_bytes(b[off..off + 8].try_into().unwrap())
}

/// The C string at the start of `b` (up to its NUL or the end of `b`).
fn cstr(b: &[u8]) -> Vec<u8> {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    b[..end].to_vec()
}

/// Decodes a buffer in the given ABI.
pub fn decode(abi: StatAbi, buf: &[u8]) -> Result<Vec<ModStat>, StatError> {
    match abi {
        StatAbi::V1 => decode_v1(buf),
        StatAbi::V2 => decode_v2(buf),
    }
}

/// Decodes a NetBSD ≥ 9 `MODCTL_STAT` buffer.
pub fn decode_v2(buf: &[u8]) -> Result<Vec<ModStat>, StatError> {
    if buf.len() < 4 {
        return Err(StatError::NoCount { len: buf.len() });
    }
    let count = i32_at(buf, 0);
    let count = usize::try_from(count).map_err(|_| StatError::NegativeCount(count))?;
    let records_end = count
        .checked_mul(MODSTAT_V2_SIZE)
        .and_then(|n| n.checked_add(4))
        .filter(|&end| end <= buf.len())
        .ok_or(StatError::RecordsOverrun {
            count,
            len: buf.len(),
        })?;
    let strings = &buf[records_end..];
    let mut out = Vec::with_capacity(count);
    for i in 0..count {
        let r = &buf[4 + i * MODSTAT_V2_SIZE..4 + (i + 1) * MODSTAT_V2_SIZE];
        let reqoff = u32_at(r, V2_REQOFFSET);
        let required = if reqoff == 0 {
            Vec::new()
        } else {
            let tail = strings
                .get(reqoff as usize..)
                .filter(|t| !t.is_empty())
                .ok_or(StatError::BadReqOffset {
                    record: i,
                    offset: reqoff,
                    area: strings.len(),
                })?;
            if !tail.contains(&0) {
                return Err(StatError::UnterminatedRequired { record: i });
            }
            cstr(tail)
        };
        out.push(ModStat {
            name: ModName::new(cstr(&r[V2_NAME..V2_NAME + MAXMODNAME])),
            addr: u64_at(r, V2_ADDR),
            source: i32_at(r, V2_SOURCE),
            class: i32_at(r, V2_CLASS),
            size: u32_at(r, V2_SIZE),
            refcnt: u32_at(r, V2_REFCNT),
            flags: u32_at(r, V2_FLAGS),
            required,
        });
    }
    Ok(out)
}

/// Decodes a NetBSD ≤ 8 `MODCTL_STAT` / ≥ 9 `MODCTL_OSTAT` buffer.
pub fn decode_v1(buf: &[u8]) -> Result<Vec<ModStat>, StatError> {
    if buf.len() % MODSTAT_V1_SIZE != 0 {
        return Err(StatError::PartialRecord { len: buf.len() });
    }
    Ok(buf
        .chunks_exact(MODSTAT_V1_SIZE)
        .map(|r| ModStat {
            name: ModName::new(cstr(&r[V1_NAME..V1_NAME + MAXMODNAME])),
            required: cstr(&r[V1_REQUIRED..V1_REQUIRED + MAXMODNAME * MAXMODDEPS]),
            addr: u64_at(r, V1_ADDR),
            source: i32_at(r, V1_SOURCE),
            class: i32_at(r, V1_CLASS),
            size: u32_at(r, V1_SIZE),
            refcnt: u32_at(r, V1_REFCNT),
            flags: u32_at(r, V1_FLAGS),
        })
        .collect())
}

/// Copies `src` into a fixed C char array as strlcpy does (truncate, NUL).
fn strlcpy(dst: &mut [u8], src: &[u8]) {
    let n = src.len().min(dst.len() - 1);
    dst[..n].copy_from_slice(&src[..n]);
    dst[n..].fill(0);
}

/// Encodes the full v2 buffer the kernel builds (before truncation), for
/// modules whose required list is present exactly when it is non-empty.
pub fn encode_v2(mods: &[ModStat]) -> Vec<u8> {
    encode_v2_present(mods.iter().map(|m| (m, !m.required.is_empty())))
}

/// [`encode_v2`] with the kernel's distinction kept: a module whose
/// `mi_required` is present (`true`) gets a strings-area offset even when
/// the list is empty; only a NULL `mi_required` has offset 0.
pub fn encode_v2_present<'a>(mods: impl ExactSizeIterator<Item = (&'a ModStat, bool)>) -> Vec<u8> {
    let count = mods.len();
    let mut strings = vec![0u8];
    let mut records = Vec::with_capacity(count * MODSTAT_V2_SIZE);
    for (m, present) in mods {
        let mut r = [0u8; MODSTAT_V2_SIZE];
        strlcpy(&mut r[V2_NAME..V2_NAME + MAXMODNAME], m.name.as_bytes());
        r[V2_ADDR..V2_ADDR + 8].copy_from_slice(&m.addr.to_ne_bytes());
        r[V2_SOURCE..V2_SOURCE + 4].copy_from_slice(&m.source.to_ne_bytes());
        r[V2_CLASS..V2_CLASS + 4].copy_from_slice(&m.class.to_ne_bytes());
        r[V2_SIZE..V2_SIZE + 4].copy_from_slice(&m.size.to_ne_bytes());
        r[V2_REFCNT..V2_REFCNT + 4].copy_from_slice(&m.refcnt.to_ne_bytes());
        r[V2_FLAGS..V2_FLAGS + 4].copy_from_slice(&m.flags.to_ne_bytes());
        let reqoff = if present {
            let off = u32::try_from(strings.len()).unwrap_or(u32::MAX);
            strings.extend_from_slice(&m.required);
            strings.push(0);
            off
        } else {
            0
        };
        r[V2_REQOFFSET..V2_REQOFFSET + 4].copy_from_slice(&reqoff.to_ne_bytes());
        records.extend_from_slice(&r);
    }
    let mut buf = Vec::with_capacity(4 + records.len() + strings.len());
    buf.extend_from_slice(&i32::try_from(count).unwrap_or(i32::MAX).to_ne_bytes());
    buf.extend_from_slice(&records);
    buf.extend_from_slice(&strings);
    buf
}

/// Encodes the full v1 buffer. `ostat` selects NetBSD ≥ 9's compat_80
/// behaviour, which marks a cut required list with a trailing `...`;
/// NetBSD ≤ 8 cuts it silently (strlcpy).
pub fn encode_v1(mods: &[ModStat], ostat: bool) -> Vec<u8> {
    let mut buf = Vec::with_capacity(mods.len() * MODSTAT_V1_SIZE);
    let reqlen = MAXMODNAME * MAXMODDEPS;
    for m in mods {
        let mut r = [0u8; MODSTAT_V1_SIZE];
        strlcpy(&mut r[V1_NAME..V1_NAME + MAXMODNAME], m.name.as_bytes());
        let req = &mut r[V1_REQUIRED..V1_REQUIRED + reqlen];
        strlcpy(req, &m.required);
        if ostat && m.required.len() >= reqlen {
            req[reqlen - 4..reqlen - 1].copy_from_slice(b"...");
        }
        r[V1_ADDR..V1_ADDR + 8].copy_from_slice(&m.addr.to_ne_bytes());
        r[V1_SOURCE..V1_SOURCE + 4].copy_from_slice(&m.source.to_ne_bytes());
        r[V1_CLASS..V1_CLASS + 4].copy_from_slice(&m.class.to_ne_bytes());
        r[V1_SIZE..V1_SIZE + 4].copy_from_slice(&m.size.to_ne_bytes());
        r[V1_REFCNT..V1_REFCNT + 4].copy_from_slice(&m.refcnt.to_ne_bytes());
        r[V1_FLAGS..V1_FLAGS + 4].copy_from_slice(&m.flags.to_ne_bytes());
        buf.extend_from_slice(&r);
    }
    buf
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(name: &str, required: &str) -> ModStat {
        ModStat {
            name: name.into(),
            class: 2,
            source: 2,
            flags: MODFLG_AUTO_LOADED,
            refcnt: 1,
            addr: 0xffff_ffff_8200_0000,
            size: 1234,
            required: required.into(),
        }
    }

    #[test]
    fn v2_layout_by_hand() {
        let mods = [m("ffs", "wapbl"), m("wapbl", ""), m("null", "layerfs")];
        let buf = encode_v2(&mods);
        // count, 3 records, "\0wapbl\0layerfs\0"
        assert_eq!(buf.len(), 4 + 3 * 64 + 1 + 6 + 8);
        assert_eq!(&buf[0..4], &3i32.to_ne_bytes());
        assert_eq!(&buf[4..7], b"ffs");
        // records start at byte 4: ms_addr of record 0 sits at 36, unaligned.
        assert_eq!(u64_at(&buf, 4 + 32), 0xffff_ffff_8200_0000);
        assert_eq!(u32_at(&buf, 4 + 60), 1);
        assert_eq!(u32_at(&buf, 4 + 64 + 60), 0);
        assert_eq!(u32_at(&buf, 4 + 128 + 60), 7);
        assert_eq!(&buf[4 + 192..], b"\0wapbl\0layerfs\0");
        assert_eq!(decode_v2(&buf).unwrap(), mods);
    }

    #[test]
    fn v2_misaligned_start_and_empty() {
        let buf = encode_v2(&[]);
        assert_eq!(buf, [0, 0, 0, 0, 0]);
        assert_eq!(decode_v2(&buf).unwrap(), vec![]);
        // The same bytes at an odd address decode the same.
        let mods = [m("a", "b")];
        let enc = encode_v2(&mods);
        let mut shifted = vec![0xAAu8];
        shifted.extend_from_slice(&enc);
        assert_eq!(decode_v2(&shifted[1..]).unwrap(), mods);
    }

    #[test]
    fn v2_reqoffset_at_last_byte() {
        // The last byte of the buffer is the NUL of an empty string: valid.
        let mut buf = encode_v2(&[m("a", "")]);
        buf.push(0);
        let last = (buf.len() - (4 + 64)) as u32 - 1;
        buf[4 + 60..4 + 64].copy_from_slice(&last.to_ne_bytes());
        assert_eq!(decode_v2(&buf).unwrap()[0].required, b"");
        // Pointing at a last byte that is not NUL: unterminated.
        let n = buf.len();
        buf[n - 1] = b'x';
        assert_eq!(
            decode_v2(&buf),
            Err(StatError::UnterminatedRequired { record: 0 })
        );
    }

    #[test]
    fn v2_malformed() {
        assert_eq!(decode_v2(&[1, 0]), Err(StatError::NoCount { len: 2 }));
        assert_eq!(
            decode_v2(&(-1i32).to_ne_bytes()),
            Err(StatError::NegativeCount(-1))
        );
        // Count that does not fit.
        let mut buf = encode_v2(&[m("a", "")]);
        buf[0..4].copy_from_slice(&2i32.to_ne_bytes());
        assert!(matches!(
            decode_v2(&buf),
            Err(StatError::RecordsOverrun { count: 2, .. })
        ));
        buf[0..4].copy_from_slice(&i32::MAX.to_ne_bytes());
        assert!(matches!(
            decode_v2(&buf),
            Err(StatError::RecordsOverrun { .. })
        ));
        // Truncated buffer.
        let buf = encode_v2(&[m("a", "b")]);
        assert!(decode_v2(&buf[..buf.len() - 1]).is_err());
        assert!(matches!(
            decode_v2(&buf[..60]),
            Err(StatError::RecordsOverrun { .. })
        ));
        // Offset past the end.
        let mut buf = encode_v2(&[m("a", "b")]);
        buf[4 + 60..4 + 64].copy_from_slice(&1000u32.to_ne_bytes());
        assert!(matches!(
            decode_v2(&buf),
            Err(StatError::BadReqOffset { offset: 1000, .. })
        ));
        buf[4 + 60..4 + 64].copy_from_slice(&u32::MAX.to_ne_bytes());
        assert!(decode_v2(&buf).is_err());
    }

    #[test]
    fn v2_name_of_32_bytes_without_nul() {
        let mut buf = encode_v2(&[m("a", "")]);
        buf[4..36].fill(b'n');
        assert_eq!(decode_v2(&buf).unwrap()[0].name, "n".repeat(32).as_str());
    }

    #[test]
    fn v1_layout_and_truncation() {
        let mods = [m("ffs", "wapbl"), m("wapbl", "")];
        let buf = encode_v1(&mods, false);
        assert_eq!(buf.len(), 2 * 392);
        assert_eq!(&buf[32..38], b"wapbl\0");
        assert_eq!(u64_at(&buf, 352), 0xffff_ffff_8200_0000);
        assert_eq!(i32_at(&buf, 360), 2);
        assert_eq!(u32_at(&buf, 372), 1);
        assert_eq!(u32_at(&buf, 376), MODFLG_AUTO_LOADED);
        assert_eq!(decode_v1(&buf).unwrap(), mods);
        assert_eq!(
            decode_v1(&buf[..391]),
            Err(StatError::PartialRecord { len: 391 })
        );
        assert_eq!(decode_v1(&[]).unwrap(), vec![]);

        let long = vec!["abcdefghij"; 40].join(",");
        let cut = decode_v1(&encode_v1(&[m("x", &long)], false)).unwrap();
        assert_eq!(cut[0].required, &long.as_bytes()[..319]);
        let dots = decode_v1(&encode_v1(&[m("x", &long)], true)).unwrap();
        assert_eq!(dots[0].required.len(), 319);
        assert!(dots[0].required.ends_with(b"..."));
    }

    /// A name or required list that is not UTF-8 keeps its bytes both ways.
    fn not_utf8() -> ModStat {
        let mut x = m("", "");
        x.name = ModName::new(b"h\xffllo".to_vec());
        x.required = b"a,\xfe\xff".to_vec();
        x
    }

    #[test]
    fn v2_names_are_bytes() {
        let mods = [not_utf8(), m("ffs", "")];
        let buf = encode_v2(&mods);
        assert_eq!(&buf[4..10], b"h\xffllo\0");
        assert_eq!(&buf[4 + 128..], b"\0a,\xfe\xff\0");
        let back = decode_v2(&buf).unwrap();
        assert_eq!(back, mods);
        assert_eq!(back[0].name.as_bytes(), b"h\xffllo");
        // 32 bytes of 0xFF without a NUL: all of them, nothing replaced.
        let mut buf = encode_v2(&[m("a", "")]);
        buf[4..36].fill(0xff);
        assert_eq!(decode_v2(&buf).unwrap()[0].name.as_bytes(), [0xff; 32]);
    }

    #[test]
    fn v1_names_are_bytes() {
        let mods = [not_utf8(), m("ffs", "wapbl")];
        let buf = encode_v1(&mods, true);
        assert_eq!(&buf[..6], b"h\xffllo\0");
        assert_eq!(&buf[32..37], b"a,\xfe\xff\0");
        assert_eq!(decode_v1(&buf).unwrap(), mods);
        let mut buf = encode_v1(&[m("a", "")], false);
        buf[..32].fill(0xff);
        assert_eq!(decode_v1(&buf).unwrap()[0].name.as_bytes(), [0xff; 32]);
    }
}
