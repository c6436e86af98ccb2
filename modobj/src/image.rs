//! The parts of a module file that were read, each at its file offset.
//!
//! The kernel's `kobj_load` reads a module in pieces at the offsets its
//! headers name (sys/kern/subr_kobj.c r1.76): the ELF header, the section
//! header table, then section contents. A read that comes up short (the
//! file is shorter than an offset plus a size) fails the load with
//! EINVAL (`kobj_read_vfs`, sys/kern/subr_kobj_vfs.c r1.7.6.4). [`Image`] is what such reads leave behind: a sparse copy of the
//! file, a list of byte ranges read once each, never the whole file and
//! never a mapping. What to read is decided by the ELF reader
//! ([`crate::kmod`]); this module opens the file as the kernel's `vn_open`
//! would see it and does the reads, each bounded by what was asked for and
//! by the file's size (`fstat` after opening), so a file that claims
//! enormous sections or is mostly a hole costs only what it really holds.
//! What is looked at only a part at a time (a large relocation table) is
//! read into the caller's buffer instead, not kept ([`Image::read_at`]).
//!
//! A read that comes up short on a regular file means it shrank after the
//! `fstat`: the reads stop and [`Image::changed`] says so, so that nothing
//! computed from the image is trusted. Rewriting a file in place without
//! shrinking it is not detected (the kernel's reads would be torn too).

use std::borrow::Cow;
use std::cell::Cell;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;
use std::rc::Rc;

use libmodctl::errno::Errno;

/// Failure to read a module file. Problems with its contents are not
/// errors: they are reported by the validator.
#[derive(Debug, Clone, PartialEq)]
pub enum KmodError {
    Io(Errno),
    /// The kernel would wait instead of reading the file; it is not read,
    /// and nothing here waits.
    WouldWait(Waits),
}

/// What the kernel would wait for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Waits {
    /// A FIFO or a pipe: its open waits for a writer, and it can only be
    /// read as a stream, not at the offsets the ELF headers name.
    Fifo,
    /// A device with nothing to read yet (a terminal): its read waits for
    /// input.
    Device,
}

impl KmodError {
    /// The errno the load would end with. A wait ends only when the
    /// process is interrupted: EINTR.
    pub fn errno(&self) -> Errno {
        match self {
            KmodError::Io(e) => *e,
            KmodError::WouldWait(_) => Errno::EINTR,
        }
    }
}

impl std::fmt::Display for KmodError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KmodError::Io(e) => write!(f, "{e}"),
            KmodError::WouldWait(Waits::Fifo) => write!(
                f,
                "a FIFO or pipe: the kernel would wait for a writer (not done here)"
            ),
            KmodError::WouldWait(Waits::Device) => write!(
                f,
                "a device with nothing to read yet: the kernel would wait for input (not done here)"
            ),
        }
    }
}

impl std::error::Error for KmodError {}

/// At most this much of a device is read. A device has no size to bound
/// the reads by (`st_size` is 0 for `/dev/zero` and for disks alike), and
/// one like `/dev/zero` never ends; the kernel has no such limit, but no
/// module comes near it.
pub(crate) const DEVICE_LIMIT: u64 = 64 << 20;

/// How much [`Image::scan`] reads at a time.
const SCAN_CHUNK: usize = 128 << 10;

/// What kind of file the bytes come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Bytes held in memory: all of them are there.
    Memory,
    /// A regular file: read at the offsets asked for, up to its size.
    Regular,
    /// A character or block device: read from its start, as far as the
    /// furthest range asked for (at most [`DEVICE_LIMIT`]); its size is
    /// what it gave.
    Device,
}

/// One range of the file, as read.
#[derive(Debug, Clone)]
struct Piece {
    offset: u64,
    bytes: Vec<u8>,
}

impl Piece {
    fn end(&self) -> u64 {
        self.offset + self.bytes.len() as u64
    }
}

/// A sparse copy of a file: the ranges read so far. Read through shared
/// references by the one thread that opened it: what those reads learn
/// is kept in `Cell`s.
#[derive(Debug)]
pub(crate) struct Image {
    kind: Kind,
    /// The file's size: `st_size` of a regular file, the bytes a device
    /// gave, the length of bytes held in memory.
    size: u64,
    /// Sorted by offset; disjoint and never touching (touching or
    /// overlapping ranges are merged into one), so any range inside what
    /// was read lies in one piece.
    pieces: Vec<Piece>,
    /// A read of a regular file came up short: it shrank while read.
    changed: Cell<bool>,
    /// The errno of a read that failed in [`Image::fetch`] (0: none).
    failed: Cell<i32>,
    /// The piece the last lookup found (a hint).
    last: Cell<usize>,
    /// A device gave fewer bytes than asked for: it has no more.
    ended: bool,
    /// The open file (none for bytes in memory).
    file: Option<Rc<File>>,
}

impl Clone for Image {
    fn clone(&self) -> Image {
        Image {
            kind: self.kind,
            size: self.size,
            pieces: self.pieces.clone(),
            changed: Cell::new(self.changed()),
            failed: Cell::new(self.failed.get()),
            last: Cell::new(0),
            ended: self.ended,
            file: self.file.clone(),
        }
    }
}

/// Why a run of reads stopped.
enum Stop {
    /// The file ended before the range did.
    Short,
    Failed(KmodError),
}

fn io_error(e: &std::io::Error) -> KmodError {
    KmodError::Io(Errno::from_io(e))
}

impl Image {
    /// All of `bytes`, as if read from a file of their length.
    pub(crate) fn from_bytes(bytes: Vec<u8>) -> Image {
        Image {
            kind: Kind::Memory,
            size: bytes.len() as u64,
            pieces: vec![Piece { offset: 0, bytes }],
            changed: Cell::new(false),
            failed: Cell::new(0),
            last: Cell::new(0),
            ended: true,
            file: None,
        }
    }

    /// Opens a module file as the kernel's `vn_open` would find it, and
    /// reads nothing yet.
    ///
    /// Opened with `O_NONBLOCK`, so that opening a FIFO does not wait for
    /// a writer. A FIFO or pipe is refused unread
    /// ([`KmodError::WouldWait`]): the kernel would wait for a writer,
    /// then read it as a stream, not at the offsets the headers name. (A
    /// pipe operand, such as `/dev/stdin` on a pipe, is a FIFO here: on
    /// Linux it opens as one, and it cannot be read at offsets either.) A
    /// socket is EOPNOTSUPP as NetBSD's `vn_open` says (Linux's `open`
    /// says ENXIO), a directory EISDIR.
    pub(crate) fn open(path: &Path) -> Result<Image, KmodError> {
        let file = match File::options()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(path)
        {
            Ok(f) => f,
            Err(e) => {
                let socket = std::fs::metadata(path).is_ok_and(|m| m.file_type().is_socket());
                return Err(if socket {
                    KmodError::Io(Errno::EOPNOTSUPP)
                } else {
                    io_error(&e)
                });
            }
        };
        let meta = file.metadata().map_err(|e| io_error(&e))?;
        let t = meta.file_type();
        let (kind, size) = if t.is_file() {
            (Kind::Regular, meta.len())
        } else if t.is_dir() {
            return Err(KmodError::Io(Errno::EISDIR));
        } else if t.is_fifo() {
            return Err(KmodError::WouldWait(Waits::Fifo));
        } else if t.is_socket() {
            return Err(KmodError::Io(Errno::EOPNOTSUPP));
        } else {
            (Kind::Device, 0)
        };
        Ok(Image {
            kind,
            size,
            pieces: Vec::new(),
            changed: Cell::new(false),
            failed: Cell::new(0),
            last: Cell::new(0),
            ended: false,
            file: Some(Rc::new(file)),
        })
    }

    /// The file's size, as far as it is known: `st_size` when the file
    /// was opened, for a device the bytes it gave.
    pub(crate) fn len(&self) -> u64 {
        self.size
    }

    /// A read came up short: the file shrank while it was being read, and
    /// nothing read from it is trusted.
    pub(crate) fn changed(&self) -> bool {
        self.changed.get()
    }

    /// Reads all of a regular file of at most `max` bytes, as the boot
    /// loader reads a module into memory; anything else is left to be read
    /// by ranges. Either way the same bytes are looked at.
    pub(crate) fn read_whole_up_to(&mut self, max: u64) -> Result<(), KmodError> {
        if self.kind == Kind::Regular && self.size <= max {
            self.read(&[(0, self.size)])
        } else {
            Ok(())
        }
    }

    /// A character or block device, read from its start.
    pub(crate) fn is_device(&self) -> bool {
        self.kind == Kind::Device
    }

    /// How many bytes were read (and are held).
    #[cfg(test)]
    pub(crate) fn held(&self) -> u64 {
        self.pieces.iter().map(|p| p.bytes.len() as u64).sum()
    }

    /// The largest size a read can reach: the file's size, or for a
    /// device the most that is read of it.
    fn limit(&self) -> u64 {
        match self.kind {
            Kind::Device => DEVICE_LIMIT,
            Kind::Memory | Kind::Regular => self.size,
        }
    }

    /// Whether more can be read: a regular file that has not come up
    /// short ([`Image::read_at`], [`Image::fetch`]).
    pub(crate) fn can_read(&self) -> bool {
        self.kind == Kind::Regular && self.file.is_some() && !self.changed()
    }

    /// Passes the `len` bytes at `offset` to `f` a chunk at a time, each
    /// a whole number of `unit`s, through one buffer (not kept): for what
    /// is decoded as it is read (a section header table). A read that
    /// comes up short ends it, as [`Image::read_at`] says.
    pub(crate) fn scan(&self, offset: u64, len: u64, unit: usize, mut f: impl FnMut(&[u8])) {
        if let Some(b) = self.get(offset, len) {
            return f(b);
        }
        let step = (SCAN_CHUNK - SCAN_CHUNK % unit.max(1)) as u64;
        let mut buf = vec![0u8; len.min(step) as usize];
        let end = offset.saturating_add(len);
        let mut at = offset;
        while at < end {
            let n = (end - at).min(step) as usize;
            let got = self.read_at(at, &mut buf[..n]);
            f(&buf[..got - got % unit.max(1)]);
            if got < n {
                return;
            }
            at += n as u64;
        }
    }

    /// Reads the file's bytes at `offset` into `buf` (not kept), for what
    /// is looked at a part at a time (large relocation tables). Returns
    /// how many were read: fewer than asked when the file ends first
    /// (then [`Image::changed`]: the caller asks only for bytes inside
    /// the size the file had) or a read fails (likewise: what it holds
    /// can no longer be read whole).
    pub(crate) fn read_at(&self, offset: u64, buf: &mut [u8]) -> usize {
        let Some(file) = self.file.as_ref().filter(|_| self.can_read()) else {
            return 0;
        };
        let got = pread_full(file, offset, buf).unwrap_or(0);
        if got < buf.len() {
            self.changed.set(true);
        }
        got
    }

    /// The piece holding `offset`, if any.
    fn piece_at(&self, offset: u64) -> Option<&Piece> {
        // Most lookups are in the piece of the one before (a table looked
        // at entry by entry).
        let hint = self.last.get();
        if let Some(p) = self.pieces.get(hint) {
            if p.offset <= offset && offset < p.end() {
                return Some(p);
            }
        }
        let i = self.pieces.partition_point(|p| p.offset <= offset);
        let p = self.pieces.get(i.checked_sub(1)?)?;
        self.last.set(i - 1);
        (offset < p.end()).then_some(p)
    }

    /// The `len` bytes at `offset`, when they were read (all in one
    /// piece). An empty range is there anywhere up to the file's end.
    pub(crate) fn get(&self, offset: u64, len: u64) -> Option<&[u8]> {
        if len == 0 {
            return (offset <= self.size).then_some(&[]);
        }
        let p = self.piece_at(offset)?;
        let start = usize::try_from(offset - p.offset).ok()?;
        let end = start.checked_add(usize::try_from(len).ok()?)?;
        p.bytes.get(start..end)
    }

    /// The bytes read from `offset` on, at most `max` of them: those of a
    /// range cut short by the end of the file.
    pub(crate) fn available(&self, offset: u64, max: u64) -> &[u8] {
        let Some(p) = self.piece_at(offset) else {
            return &[];
        };
        let rest = &p.bytes[(offset - p.offset) as usize..];
        &rest[..usize::try_from(max).map_or(rest.len(), |m| m.min(rest.len()))]
    }

    /// The `len` bytes at `offset`: from what was read, or else read now
    /// (not kept) while the file is open. `None` when they lie past the
    /// file's end, the file is closed, or the read comes up short (then
    /// [`Image::changed`]) or fails ([`Image::failure`]). For the few
    /// small ranges found only while the object is decoded (the module
    /// descriptor and its strings).
    pub(crate) fn fetch(&self, offset: u64, len: u64) -> Option<Cow<'_, [u8]>> {
        if let Some(b) = self.get(offset, len) {
            return Some(Cow::Borrowed(b));
        }
        let end = offset.checked_add(len)?;
        if self.kind != Kind::Regular || end > self.size || self.changed() {
            return None;
        }
        let file = self.file.as_ref()?;
        // Small (a descriptor, a name): zeroed first costs nothing.
        let mut buf = vec![0u8; usize::try_from(len).ok()?];
        match pread_full(file, offset, &mut buf) {
            Ok(got) if got == buf.len() => Some(Cow::Owned(buf)),
            Ok(_) => {
                self.changed.set(true);
                None
            }
            Err(e) => {
                let errno = Errno::from_io(&e).0;
                // The first failure is the one reported.
                if self.failed.get() == 0 {
                    self.failed.set(errno);
                }
                None
            }
        }
    }

    /// The error of the first read [`Image::fetch`] could not do.
    pub(crate) fn failure(&self) -> Option<Errno> {
        match self.failed.get() {
            0 => None,
            e => Some(Errno(e)),
        }
    }

    /// Reads the ranges `(offset, len)`, each cut to the file's size (a
    /// device: to [`DEVICE_LIMIT`]); what was read before is not read
    /// again. Only an I/O error is an error: a short read marks the image
    /// [`Image::changed`] and ends the reading.
    pub(crate) fn read(&mut self, ranges: &[(u64, u64)]) -> Result<(), KmodError> {
        if self.changed() || self.file.is_none() {
            return Ok(());
        }
        let limit = self.limit();
        let mut want: Vec<(u64, u64)> = ranges
            .iter()
            .filter_map(|&(offset, len)| {
                let end = offset.saturating_add(len).min(limit);
                (offset < end).then_some((offset, end))
            })
            .collect();
        if want.is_empty() {
            return Ok(());
        }
        match self.kind {
            Kind::Memory => Ok(()),
            Kind::Device => {
                let end = want.iter().map(|r| r.1).max().unwrap_or(0);
                self.extend_prefix(end)
            }
            Kind::Regular => {
                want.extend(self.pieces.iter().map(|p| (p.offset, p.end())));
                self.read_regular(merge(want))
            }
        }
    }

    /// Reads `spans` (sorted, disjoint, each covering whatever pieces it
    /// touches) into one piece each: the pieces already read are moved or
    /// copied in, only the gaps between them are read from the file.
    fn read_regular(&mut self, spans: Vec<(u64, u64)>) -> Result<(), KmodError> {
        let Some(file) = self.file.clone() else {
            return Ok(());
        };
        let enomem = || KmodError::Io(Errno::ENOMEM);
        let mut old = std::mem::take(&mut self.pieces).into_iter().peekable();
        for (start, end) in spans {
            // A piece that starts the span is kept, not copied.
            let mut buf = old
                .next_if(|p| p.offset == start)
                .map_or_else(Vec::new, |p| p.bytes);
            let need = usize::try_from(end - start).map_err(|_| enomem())? - buf.len();
            buf.try_reserve_exact(need).map_err(|_| enomem())?;
            let mut result = Ok(());
            let mut kept = Vec::new();
            while let Some(p) = old.next_if(|p| p.offset < end) {
                if result.is_ok() {
                    let pos = start + buf.len() as u64;
                    result = read_range(&file, &mut buf, pos, p.offset);
                }
                if result.is_ok() {
                    buf.extend_from_slice(&p.bytes);
                } else {
                    kept.push(p);
                }
            }
            if result.is_ok() {
                let pos = start + buf.len() as u64;
                result = read_range(&file, &mut buf, pos, end);
            }
            if !buf.is_empty() {
                self.pieces.push(Piece {
                    offset: start,
                    bytes: buf,
                });
            }
            if let Err(stop) = result {
                // Whatever was read stays, in order; nothing more is read.
                self.pieces.extend(kept);
                self.pieces.extend(old);
                return match stop {
                    Stop::Short => {
                        self.changed.set(true);
                        Ok(())
                    }
                    Stop::Failed(e) => Err(e),
                };
            }
        }
        Ok(())
    }

    /// Reads a device on from what was read of it, up to `end`. It ends
    /// where it stops giving bytes, and that is its size.
    fn extend_prefix(&mut self, end: u64) -> Result<(), KmodError> {
        let Some(file) = self.file.clone() else {
            return Ok(());
        };
        if self.ended || end <= self.size {
            return Ok(());
        }
        if self.pieces.is_empty() {
            self.pieces.push(Piece {
                offset: 0,
                bytes: Vec::new(),
            });
        }
        let buf = &mut self.pieces[0].bytes;
        let want = end - self.size;
        let need = usize::try_from(want).map_err(|_| KmodError::Io(Errno::ENOMEM))?;
        buf.try_reserve_exact(need)
            .map_err(|_| KmodError::Io(Errno::ENOMEM))?;
        // On from where the last read ended, without a seek: a device
        // that cannot seek reads the same.
        let got = (&*file).take(want).read_to_end(buf);
        self.size = buf.len() as u64;
        match got {
            Ok(n) => {
                self.ended = (n as u64) < want;
                Ok(())
            }
            // Opened with O_NONBLOCK: a terminal or the like with nothing
            // to read yet, where the kernel would wait for input.
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                Err(KmodError::WouldWait(Waits::Device))
            }
            Err(e) => Err(io_error(&e)),
        }
    }
}

/// Sorted, merged: overlapping or touching ranges become one.
fn merge(mut ranges: Vec<(u64, u64)>) -> Vec<(u64, u64)> {
    ranges.sort_unstable();
    let mut out: Vec<(u64, u64)> = Vec::with_capacity(ranges.len());
    for (start, end) in ranges {
        match out.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => out.push((start, end)),
        }
    }
    out
}

/// Fills `buf` with the file's bytes at `offset` as far as the file goes,
/// at that offset whatever else reads the file (no seek): how many.
fn pread_full(file: &File, offset: u64, buf: &mut [u8]) -> std::io::Result<usize> {
    use std::os::unix::fs::FileExt;
    let mut got = 0;
    while got < buf.len() {
        match file.read_at(&mut buf[got..], offset + got as u64) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// Ranges up to this size are read with one `pread`.
const SMALL_RANGE: u64 = 64 * 1024;

/// Appends the file's bytes `from..to` to `buf` (capacity reserved by the
/// caller), with as few reads as the system allows and no copy. It moves
/// the file's offset: only [`Image::read`] uses it, with the image its
/// own (`&mut`), before anything else reads the file.
fn read_range(file: &File, buf: &mut Vec<u8>, from: u64, to: u64) -> Result<(), Stop> {
    if from >= to {
        return Ok(());
    }
    let want = to - from;
    // A small range in one pread (no seek): a boot with many small modules
    // makes a few of these per module, and the system calls were most of
    // its time. Zeroing a few KB first costs nothing next to that.
    if want <= SMALL_RANGE {
        let at = buf.len();
        buf.resize(at + want as usize, 0);
        let got = pread_full(file, from, &mut buf[at..]).map_err(|e| Stop::Failed(io_error(&e)))?;
        buf.truncate(at + got);
        return if (got as u64) < want {
            Err(Stop::Short)
        } else {
            Ok(())
        };
    }
    let mut f = file;
    f.seek(SeekFrom::Start(from))
        .map_err(|e| Stop::Failed(io_error(&e)))?;
    // Into the reserved capacity directly: nothing is zeroed first.
    let got = f
        .take(want)
        .read_to_end(buf)
        .map_err(|e| Stop::Failed(io_error(&e)))?;
    if (got as u64) < want {
        return Err(Stop::Short);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(tag: &str, bytes: &[u8]) -> std::path::PathBuf {
        let p = std::env::temp_dir().join(format!(
            "image-{tag}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::write(&p, bytes).unwrap();
        p
    }

    fn pattern(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i * 7 % 251) as u8).collect()
    }

    #[test]
    fn ranges_are_read_once_merged_and_cut_to_the_file() {
        let data = pattern(10_000);
        let path = temp("ranges", &data);
        let mut im = Image::open(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(im.len(), 10_000);
        im.read(&[(0, 64)]).unwrap();
        im.read(&[(5000, 100), (9000, 1 << 40), (u64::MAX - 5, 10)])
            .unwrap();
        // 9000.. is cut to the file's end; past the end, nothing.
        assert_eq!(im.pieces.len(), 3);
        assert_eq!(im.get(9000, 1000), Some(&data[9000..]));
        assert_eq!(im.get(9000, 1001), None);
        assert_eq!(im.available(9000, 1 << 40), &data[9000..]);
        // Overlapping and touching ranges join what was read.
        im.read(&[(40, 100), (140, 4860)]).unwrap();
        assert_eq!(im.pieces.len(), 2);
        assert_eq!(im.get(0, 5100), Some(&data[..5100]));
        assert_eq!(im.get(100, 0), Some(&[][..]));
        assert_eq!(im.get(10_001, 0), None);
        // Never more than the file holds.
        let held: usize = im.pieces.iter().map(|p| p.bytes.len()).sum();
        assert!(held <= data.len());
        assert!(!im.changed());
        // Not read: not there, but fetched while the file is open.
        assert_eq!(im.get(6000, 10), None);
        assert_eq!(im.fetch(6000, 10).as_deref(), Some(&data[6000..6010]));
        assert_eq!(im.fetch(9999, 2), None);
        let mut buf = [0u8; 100];
        assert_eq!(im.read_at(7000, &mut buf), 100);
        assert_eq!(&buf[..], &data[7000..7100]);
        assert!(!im.changed());
        // Past the end: short, so the file changed.
        assert_eq!(im.read_at(9950, &mut buf), 50);
        assert!(im.changed());
        assert!(!im.can_read());
    }

    #[test]
    fn a_file_shrinking_between_reads_is_a_short_read() {
        let data = pattern(50_000);
        let path = temp("shrink", &data);
        let mut im = Image::open(&path).unwrap();
        im.read(&[(0, 64)]).unwrap();
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(20_000)
            .unwrap();
        std::fs::remove_file(&path).unwrap();
        // Still inside the size fstat gave: read, short, marked.
        im.read(&[(10_000, 30_000)]).unwrap();
        assert!(im.changed());
        assert_eq!(im.get(0, 64), Some(&data[..64]));
        // What the short read got stays, the rest was never there.
        assert_eq!(im.get(10_000, 10_000), Some(&data[10_000..20_000]));
        assert_eq!(im.get(10_000, 30_000), None);
        // No more reads after a short one.
        im.read(&[(100, 100)]).unwrap();
        assert_eq!(im.get(100, 100), None);
    }

    #[test]
    fn a_device_is_read_from_its_start_as_far_as_asked() {
        let mut im = Image::open(Path::new("/dev/zero")).unwrap();
        assert_eq!(im.len(), 0);
        im.read(&[(0, 64)]).unwrap();
        assert_eq!(im.len(), 64);
        assert_eq!(im.get(0, 64), Some(&[0u8; 64][..]));
        im.read(&[(1000, 24)]).unwrap();
        assert_eq!(im.len(), 1024);
        // Never past the limit, however much is asked for.
        im.read(&[(0, u64::MAX)]).unwrap();
        assert_eq!(im.len(), DEVICE_LIMIT);
        let mut null = Image::open(Path::new("/dev/null")).unwrap();
        null.read(&[(0, 64)]).unwrap();
        assert_eq!(null.len(), 0);
        assert!(!null.changed());
    }

    #[test]
    fn what_the_kernel_cannot_read_is_refused_unread() {
        let dir = std::env::temp_dir().join(format!("image-kinds-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        assert_eq!(Image::open(&dir).unwrap_err(), KmodError::Io(Errno::EISDIR));
        let fifo = dir.join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        assert_eq!(
            Image::open(&fifo).unwrap_err(),
            KmodError::WouldWait(Waits::Fifo)
        );
        let sock = dir.join("sock");
        let _listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
        assert_eq!(
            Image::open(&sock).unwrap_err(),
            KmodError::Io(Errno::EOPNOTSUPP)
        );
        assert_eq!(
            Image::open(&dir.join("absent")).unwrap_err(),
            KmodError::Io(Errno::ENOENT)
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn merged_ranges() {
        assert_eq!(
            merge(vec![(10, 20), (0, 5), (5, 7), (15, 30), (40, 41)]),
            vec![(0, 7), (10, 30), (40, 41)]
        );
    }
}
