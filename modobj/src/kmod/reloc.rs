//! Relocation tables: their entries decoded straight from the table's
//! bytes, read with the file or streamed a chunk at a time, and the
//! record of what whole passes met at the descriptor's pointers.

use std::cell::RefCell;

use object::elf;

use super::elf::{Elf, RelEnt, Shdr};
use super::{ElfClass, Endian};
use crate::image::Image;

impl<'a> Elf<'a> {
    /// The entries of a REL or RELA section that lie inside the file
    /// (whole entries only, as the kernel rounds the size down): from
    /// what was read, or for a large table read from the file in chunks as
    /// they are needed ([`super::file::STREAMED_TABLE`]).
    pub fn relocs(&self, s: &Shdr) -> RelIter<'a> {
        let rela = s.sh_type == elf::SHT_RELA;
        let entsize = self.rel_size(rela);
        let fmt = RelFormat {
            class: self.l.class,
            endian: self.l.endian,
            rela,
        };
        let inside = s.size.min(self.data.len().saturating_sub(s.offset));
        let len = inside - inside % entsize;
        let recorder = self
            .descriptor_relocs
            .filter(|d| d.section == s.info)
            .map(|relocs| PassRecorder {
                relocs,
                table: s.index,
                found: [None; 3],
            });
        let table = match self.data.get(s.offset, len) {
            Some(t) => t,
            None if self.data.can_read() => {
                return RelIter::streamed(
                    self.data,
                    s.offset,
                    s.offset + len,
                    entsize,
                    fmt,
                    recorder,
                )
            }
            // Cut short by a read that was: whole entries of what is there.
            None => {
                let t = self.data.available(s.offset, len);
                &t[..t.len() - t.len() % entsize as usize]
            }
        };
        RelIter {
            entries: Entries::Read(table.chunks_exact(entsize as usize), table),
            fmt,
            recorder,
        }
    }
}

/// How the entries of one REL or RELA table are laid out.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RelFormat {
    class: ElfClass,
    endian: Endian,
    rela: bool,
}

impl RelFormat {
    fn entsize(self) -> usize {
        match (self.class, self.rela) {
            (ElfClass::Elf32, false) => 8,
            (ElfClass::Elf32, true) => 12,
            (ElfClass::Elf64, false) => 16,
            (ElfClass::Elf64, true) => 24,
        }
    }

    /// One entry (`r` is exactly one entry long), decoded with the
    /// layout fixed at compile time: there may be millions.
    #[inline(always)]
    fn decode(self, r: &[u8]) -> RelEnt {
        match (self.class, self.endian) {
            (ElfClass::Elf64, Endian::Little) => decode64(r, self.rela, u64::from_le_bytes),
            (ElfClass::Elf64, Endian::Big) => decode64(r, self.rela, u64::from_be_bytes),
            (ElfClass::Elf32, Endian::Little) => decode32(r, self.rela, u32::from_le_bytes),
            (ElfClass::Elf32, Endian::Big) => decode32(r, self.rela, u32::from_be_bytes),
        }
    }
}

#[inline(always)]
fn decode64(r: &[u8], rela: bool, word: impl Fn([u8; 8]) -> u64) -> RelEnt {
    let head: [u8; 16] = r[..16].try_into().unwrap_or([0; 16]);
    let at = |i: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&head[i..i + 8]);
        word(w)
    };
    let info = at(8);
    RelEnt {
        offset: at(0),
        sym: (info >> 32) as u32,
        r_type: info as u32,
        addend: rela.then(|| word(r[16..24].try_into().unwrap_or([0; 8])) as i64),
    }
}

#[inline(always)]
fn decode32(r: &[u8], rela: bool, word: impl Fn([u8; 4]) -> u32) -> RelEnt {
    let head: [u8; 8] = r[..8].try_into().unwrap_or([0; 8]);
    let info = word([head[4], head[5], head[6], head[7]]);
    RelEnt {
        offset: u64::from(word([head[0], head[1], head[2], head[3]])),
        sym: info >> 8,
        r_type: info & 0xff,
        addend: rela.then(|| i64::from(word(r[8..12].try_into().unwrap_or([0; 4])) as i32)),
    }
}

/// How much of a streamed relocation table is read at a time.
const RELOC_CHUNK: usize = 128 << 10;

/// The entries of one REL or RELA table, decoded straight from the
/// table's bytes (cut to whole entries inside the file): all of them
/// when they were read with the file, else a chunk at a time.
pub(crate) struct RelIter<'a> {
    entries: Entries<'a>,
    fmt: RelFormat,
    /// Records the descriptor's relocations on the way (see
    /// [`DescriptorRelocs`]).
    recorder: Option<PassRecorder<'a>>,
}

enum Entries<'a> {
    /// The table as read with the file: its entries still to come, and
    /// all of it.
    Read(std::slice::ChunksExact<'a, u8>, &'a [u8]),
    /// Read a chunk at a time.
    Streamed(Stream<'a>),
}

/// A relocation table read a chunk at a time through one buffer (its
/// memory touched once).
struct Stream<'a> {
    /// The chunk at hand, and where in it the next entry starts.
    chunk: Vec<u8>,
    pos: usize,
    entsize: usize,
    image: &'a Image,
    /// The next offset to read, and the table's end.
    next: u64,
    end: u64,
}

impl Stream<'_> {
    /// Reads the next chunk; false at the table's end, or when the read
    /// came up short (the image says so).
    #[inline(never)]
    fn refill(&mut self) -> bool {
        if self.next >= self.end {
            return false;
        }
        let step = (RELOC_CHUNK - RELOC_CHUNK % self.entsize) as u64;
        let n = (self.end - self.next).min(step) as usize;
        self.chunk.resize(n, 0);
        let got = self.image.read_at(self.next, &mut self.chunk);
        self.chunk.truncate(got - got % self.entsize);
        self.pos = 0;
        // After a short read, nothing more.
        self.next = if got == n {
            self.next + n as u64
        } else {
            self.end
        };
        !self.chunk.is_empty()
    }

    /// The rest of the chunk at hand, or the next chunk: whole entries.
    fn next_chunk(&mut self) -> Option<&[u8]> {
        if self.pos >= self.chunk.len() && !self.refill() {
            return None;
        }
        let at = self.pos;
        self.pos = self.chunk.len();
        Some(&self.chunk[at..])
    }
}

impl<'a> RelIter<'a> {
    fn streamed(
        image: &'a Image,
        from: u64,
        to: u64,
        entsize: u64,
        fmt: RelFormat,
        recorder: Option<PassRecorder<'a>>,
    ) -> Self {
        RelIter {
            entries: Entries::Streamed(Stream {
                chunk: Vec::new(),
                pos: 0,
                entsize: entsize as usize,
                image,
                next: from,
                end: to,
            }),
            fmt,
            recorder,
        }
    }

    /// The whole table was passed over: the recorder, if any, reports.
    #[cold]
    fn end_of_table(&mut self) {
        let whole = match &self.entries {
            Entries::Read(..) => true,
            Entries::Streamed(s) => !s.image.changed(),
        };
        if let Some(recorder) = self.recorder.take().filter(|_| whole) {
            recorder.finish();
        }
    }

    /// The raw bytes of the next run of entries (whole entries; the rest
    /// of the table, or of the chunk read last).
    fn next_chunk(&mut self) -> Option<&[u8]> {
        match &mut self.entries {
            Entries::Read(entries, table) => {
                let entsize = self.fmt.entsize();
                let rest = &table[table.len() - entries.len() * entsize..];
                *entries = rest[rest.len()..].chunks_exact(entsize);
                (!rest.is_empty()).then_some(rest)
            }
            Entries::Streamed(s) => s.next_chunk(),
        }
    }
}

impl Iterator for RelIter<'_> {
    type Item = RelEnt;

    #[inline]
    fn next(&mut self) -> Option<RelEnt> {
        let fmt = self.fmt;
        let r = match &mut self.entries {
            Entries::Read(entries, _) => entries.next().map(|r| fmt.decode(r)),
            Entries::Streamed(s) => {
                let end = s.pos + s.entsize;
                if end > s.chunk.len() {
                    if s.refill() {
                        return self.next();
                    }
                    None
                } else {
                    let r = &s.chunk[s.pos..end];
                    s.pos = end;
                    Some(fmt.decode(r))
                }
            }
        };
        match (&r, &mut self.recorder) {
            (Some(r), Some(recorder)) => recorder.record(r),
            (None, Some(_)) => self.end_of_table(),
            _ => {}
        }
        r
    }

    /// Internal iteration (`for_each`, `fold`): a chunk at a time, as a
    /// table may hold millions of entries.
    fn fold<B, F>(mut self, mut acc: B, mut f: F) -> B
    where
        F: FnMut(B, RelEnt) -> B,
    {
        let fmt = self.fmt;
        let entsize = fmt.entsize();
        let mut recorder = self.recorder.take();
        while let Some(run) = self.next_chunk() {
            for entry in run.chunks_exact(entsize) {
                let r = fmt.decode(entry);
                if let Some(recorder) = &mut recorder {
                    recorder.record(&r);
                }
                acc = f(acc, r);
            }
        }
        self.recorder = recorder;
        self.end_of_table();
        acc
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = match &self.entries {
            Entries::Read(entries, _) => entries.len(),
            Entries::Streamed(s) => {
                (s.chunk.len() - s.pos) / s.entsize + ((s.end - s.next) / s.entsize as u64) as usize
            }
        };
        (n, Some(n))
    }
}

/// The places of the descriptor's pointers, found when the file is
/// opened, and the relocations at them that passes over whole relocation
/// tables of their section have met. The validator makes such a pass over
/// every table; decoding the descriptor after it then needs no pass of
/// its own over what may be millions of entries, read from the file a
/// chunk at a time. A table not passed over whole is scanned as before.
/// It is filled through shared references while its [`Kmod`](super::Kmod)
/// is read, on one thread: a `RefCell`, not a lock.
#[derive(Debug)]
pub(crate) struct DescriptorRelocs {
    section: u32,
    places: [u64; 3],
    lo: u64,
    hi: u64,
    /// Per table (its section index): the last entry at each place.
    pub(super) met: RefCell<Vec<(u32, [Option<RelEnt>; 3])>>,
}

impl DescriptorRelocs {
    pub(super) fn new(section: u32, places: [u64; 3]) -> DescriptorRelocs {
        DescriptorRelocs {
            section,
            places,
            lo: places.iter().copied().min().unwrap_or(0),
            hi: places.iter().copied().max().unwrap_or(0),
            met: RefCell::new(Vec::new()),
        }
    }

    /// What a whole pass over `table` met at `places` of `section`.
    fn met_by_pass(&self, section: u32, places: &[u64], table: u32) -> Option<[Option<RelEnt>; 3]> {
        if section != self.section || places != self.places {
            return None;
        }
        let met = self.met.borrow();
        met.iter().find(|(t, _)| *t == table).map(|(_, r)| *r)
    }
}

/// A pass over one relocation table of the descriptor's section,
/// recording the last entry at each of the descriptor's places.
pub(super) struct PassRecorder<'a> {
    relocs: &'a DescriptorRelocs,
    table: u32,
    found: [Option<RelEnt>; 3],
}

impl PassRecorder<'_> {
    #[inline(always)]
    fn record(&mut self, r: &RelEnt) {
        if r.offset >= self.relocs.lo && r.offset <= self.relocs.hi {
            for (slot, p) in self.found.iter_mut().zip(self.relocs.places) {
                if r.offset == p {
                    *slot = Some(*r);
                }
            }
        }
    }

    /// The pass reached the table's end: what it met is now known.
    fn finish(self) {
        let mut met = self.relocs.met.borrow_mut();
        if !met.iter().any(|(t, _)| *t == self.table) {
            met.push((self.table, self.found));
        }
    }
}

/// The relocation the kernel applies last at each of `places` in `sec`
/// (it applies only relocation sections whose target is PROGBITS), in one
/// pass over the section's relocations.
pub(super) fn relocs_at(elf: &Elf<'_>, sec: &Shdr, places: &[u64]) -> Vec<Option<RelEnt>> {
    let mut found = vec![None; places.len()];
    if sec.sh_type != elf::SHT_PROGBITS {
        return found;
    }
    for i in 0..u32::from(elf.l.e_shnum) {
        let Some(rs) = elf.shdr(i) else { continue };
        let is_rel = rs.sh_type == elf::SHT_REL || rs.sh_type == elf::SHT_RELA;
        if !is_rel || rs.info != sec.index {
            continue;
        }
        // Found by a pass over the whole table made before (the
        // validator's): no pass of its own.
        if let Some(seen) = elf
            .descriptor_relocs
            .and_then(|d| d.met_by_pass(sec.index, places, rs.index))
        {
            for (slot, r) in found.iter_mut().zip(seen) {
                if r.is_some() {
                    *slot = r;
                }
            }
            continue;
        }
        // Only the offsets matter until one matches: compare them raw.
        let table = elf.relocs(&rs);
        // Offsets are read with the layout fixed outside the loop (a
        // generic reader, inlined: a function pointer cost a call per
        // entry), and most fall outside the places' range.
        fn scan<const N: usize>(
            mut table: RelIter<'_>,
            places: &[u64],
            found: &mut [Option<RelEnt>],
            offset: impl Fn([u8; N]) -> u64,
        ) {
            let lo = places.iter().copied().min().unwrap_or(u64::MAX);
            let hi = places.iter().copied().max().unwrap_or(0);
            let fmt = table.fmt;
            let entsize = fmt.entsize();
            while let Some(run) = table.next_chunk() {
                for entry in run.chunks_exact(entsize) {
                    let mut head = [0u8; N];
                    head.copy_from_slice(&entry[..N]);
                    let at = offset(head);
                    if at < lo || at > hi {
                        continue;
                    }
                    if let Some(slot) = places.iter().position(|p| *p == at) {
                        found[slot] = Some(fmt.decode(entry));
                    }
                }
            }
        }
        match (table.fmt.class, table.fmt.endian) {
            (ElfClass::Elf64, Endian::Little) => {
                scan(table, places, &mut found, u64::from_le_bytes)
            }
            (ElfClass::Elf64, Endian::Big) => scan(table, places, &mut found, u64::from_be_bytes),
            (ElfClass::Elf32, Endian::Little) => scan(table, places, &mut found, |b| {
                u64::from(u32::from_le_bytes(b))
            }),
            (ElfClass::Elf32, Endian::Big) => scan(table, places, &mut found, |b| {
                u64::from(u32::from_be_bytes(b))
            }),
        }
    }
    found
}
