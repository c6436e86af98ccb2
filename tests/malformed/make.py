#!/usr/bin/env python3
"""Regenerates the malformed-module corpus and its MANIFEST.

Every object here is a broken NetBSD amd64 kernel module, named for what is
wrong with it. Most are one-field mutations of the good example module
(modobj/tests/fixtures/modules/example/example.kmod); a few need their own
source and are compiled with the fixtures' amd64 flags (gcc, ld).

MANIFEST has one line per object, tab separated:

    file  errno  reason-words  setup

* errno: what NetBSD 10.1's kernel returns for it (subr_kobj.c,
  kern_module.c). Where the kernel has no defined answer because it would read or
  write outside the module or call through a NULL pointer, the tools refuse
  the object before the kernel sees it with ENOEXEC, the kernel's errno for
  a malformed object (§8.1).
* reason-words: '|'-separated words the second stderr line must contain (it
  must name the offending thing).
* setup: '-' or a comma list of `install=<corpus file>:<name>` (copy into the
  kernel's module directory as <name>/<name>.kmod) and `release=<x.y>` (a
  kernel profile for that release).

Run from anywhere: python3 tests/malformed/make.py
"""
import os
import shutil
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "..", "libmodctl", "tests", "fixtures")
EXAMPLE = os.path.join(FIXTURES, "modules", "example", "example.kmod")

EHDR = 64
SHDR = 64
SYM = 24
RELA = 24


class Elf:
    """A little-endian ELF64 object, patched in place."""

    def __init__(self, data):
        self.d = bytearray(data)

    def copy(self):
        return Elf(bytes(self.d))

    # ELF header
    def h(self, fmt, off):
        return struct.unpack_from("<" + fmt, self.d, off)[0]

    def set_h(self, fmt, off, v):
        struct.pack_into("<" + fmt, self.d, off, v)

    @property
    def shoff(self):
        return self.h("Q", 0x28)

    @property
    def shnum(self):
        return self.h("H", 0x3C)

    @property
    def shstrndx(self):
        return self.h("H", 0x3E)

    # Section headers: name type flags addr offset size link info align entsize
    SH = {"name": ("I", 0), "type": ("I", 4), "flags": ("Q", 8), "addr": ("Q", 16),
          "offset": ("Q", 24), "size": ("Q", 32), "link": ("I", 40), "info": ("I", 44),
          "align": ("Q", 48), "entsize": ("Q", 56)}

    def sh(self, i, field):
        fmt, off = self.SH[field]
        return self.h(fmt, self.shoff + i * SHDR + off)

    def set_sh(self, i, field, v):
        fmt, off = self.SH[field]
        self.set_h(fmt, self.shoff + i * SHDR + off, v)

    def name(self, i):
        base = self.sh(self.shstrndx, "offset") + self.sh(i, "name")
        return bytes(self.d[base:self.d.index(b"\0", base)]).decode()

    def sec(self, name):
        for i in range(self.shnum):
            if self.name(i) == name:
                return i
        raise KeyError(name)

    def contents(self, i):
        o, s = self.sh(i, "offset"), self.sh(i, "size")
        return self.d[o:o + s]

    # Symbols: name(I) info(B) other(B) shndx(H) value(Q) size(Q)
    SY = {"name": ("I", 0), "info": ("B", 4), "shndx": ("H", 6), "value": ("Q", 8)}

    def sym_off(self, n):
        return self.sh(self.sec(".symtab"), "offset") + n * SYM

    def set_sym(self, n, field, v):
        fmt, off = self.SY[field]
        self.set_h(fmt, self.sym_off(n) + off, v)

    def sym_index(self, name):
        st = self.sec(".symtab")
        strtab = self.sh(st, "link")
        for n in range(self.sh(st, "size") // SYM):
            o = self.sh(strtab, "offset") + self.h("I", self.sym_off(n))
            if bytes(self.d[o:self.d.index(b"\0", o)]).decode() == name:
                return n
        raise KeyError(name)

    # Relocations (RELA): offset(Q) info(Q) addend(q)
    def rela_off(self, sec, n):
        return self.sh(self.sec(sec), "offset") + n * RELA

    def rela(self, sec, n):
        o = self.rela_off(sec, n)
        off, info, add = struct.unpack_from("<QQq", self.d, o)
        return off, info >> 32, info & 0xFFFFFFFF, add

    def set_rela(self, sec, n, offset=None, sym=None, rtype=None, addend=None):
        o0, s0, t0, a0 = self.rela(sec, n)
        o = self.rela_off(sec, n)
        struct.pack_into("<QQq", self.d, o,
                         o0 if offset is None else offset,
                         ((s0 if sym is None else sym) << 32) | (t0 if rtype is None else rtype),
                         a0 if addend is None else addend)

    def truncate(self, n):
        del self.d[n:]

    def table_first(self):
        """The same object with the section header table right after the
        ELF header, so that truncations cut into section contents."""
        table = bytes(self.d[self.shoff:self.shoff + self.shnum * SHDR])
        body = bytes(self.d[EHDR:self.shoff])
        out = Elf(bytes(self.d[:EHDR]) + table + body)
        out.set_h("Q", 0x28, EHDR)
        shift = len(table)
        for i in range(1, out.shnum):
            if out.sh(i, "offset") >= EHDR:
                out.set_sh(i, "offset", out.sh(i, "offset") + shift)
        return out


CASES = []


def case(file, errno, words, data, setup="-"):
    assert file.endswith(".kmod") and "\t" not in words
    CASES.append((file, errno, words, setup, bytes(data)))


def mutate(base, file, errno, words, fn, setup="-"):
    e = base.copy()
    fn(e)
    case(file, errno, words, e.d, setup)


# ---------------------------------------------------------------------------
# Objects built from source.

CFLAGS = ("-O2 -ffreestanding -fno-builtin -nostdinc -fno-common -fno-pic "
          "-fno-stack-protector -fno-asynchronous-unwind-tables -fno-unwind-tables "
          "-fno-ident -Wall -Werror -m64 -mcmodel=kernel -mno-red-zone -mno-sse "
          "-mno-mmx -fcf-protection=none").split()


def build(src, *defines):
    with tempfile.TemporaryDirectory() as tmp:
        c = os.path.join(tmp, "m.c")
        with open(c, "w") as f:
            f.write(src)
        o = os.path.join(tmp, "m.o")
        k = os.path.join(tmp, "m.kmod")
        subprocess.run(["gcc", *CFLAGS, "-I", os.path.join(FIXTURES, "src"),
                        *defines, "-c", "-o", o, c], check=True)
        subprocess.run(["ld", "-m", "elf_x86_64", "-r", "-d", "-o", k, o], check=True)
        with open(k, "rb") as f:
            return f.read()


GENERIC = open(os.path.join(FIXTURES, "src", "module.c")).read()


def generic(name, req=None, version=None, cls=None):
    d = ["-DMODNAME=" + name]
    if req is not None:
        d.append('-DMODREQ="%s"' % req)
    if version is not None:
        d.append("-DFIXTURE_VERSION=%d" % version)
    if cls is not None:
        d.append("-DMODCLASS=%d" % cls)
    return build(GENERIC, *d)


NAME_WITHOUT_NUL = r'''
#include "fixture.h"
static const char bad_name[%(n)d] __attribute__((section(".rodata.name"), nonstring)) =
    "%(text)s";
static int nonul_modcmd(modcmd_t, void *);
static const struct modinfo nonul_modinfo = {
	FIXTURE_VERSION, MODULE_CLASS_MISC, nonul_modcmd, bad_name, NULL
};
FIXTURE_LINK(nonul_modinfo);
static int
nonul_modcmd(modcmd_t cmd, void *arg)
{
	(void)arg;
	return cmd == MODULE_CMD_INIT || cmd == MODULE_CMD_FINI ? 0 : ENOTTY;
}
'''


def name_without_nul(text):
    return build(NAME_WITHOUT_NUL % {"n": len(text), "text": text})


# ---------------------------------------------------------------------------


def main():
    with open(EXAMPLE, "rb") as f:
        ex = Elf(f.read())
    size = len(ex.d)
    text, rodata = ex.sec(".text"), ex.sec(".rodata")
    strs = ex.sec(".rodata.str1.1")
    link_set = ex.sec("link_set_modules")
    rela_text, rela_link = ".rela.text", ".relalink_set_modules"
    symtab, strtab, shstrtab = ex.sec(".symtab"), ex.sec(".strtab"), ex.shstrndx
    printf = ex.sym_index("printf")
    assert ex.shoff + ex.shnum * SHDR == size, "section table expected at the end"

    # -- Truncated at every header boundary (§8.1: a short read is EINVAL).
    for n, what in [(0, "empty"), (4, "after_magic"), (16, "after_e_ident"),
                    (24, "after_e_version"), (40, "after_e_phoff"), (63, "one_byte_short_of_elf_header")]:
        mutate(ex, "truncated_%s_%d_bytes.kmod" % (what, n), "EINVAL",
               "%d bytes|ELF header" % n, lambda e, n=n: e.truncate(n))
    mutate(ex, "truncated_after_elf_header.kmod", "EINVAL", "section header table|end of the file",
           lambda e: e.truncate(EHDR))
    mutate(ex, "truncated_before_section_header_table.kmod", "EINVAL",
           "section header table|end of the file", lambda e: e.truncate(ex.shoff))
    for i in range(1, ex.shnum):
        mutate(ex, "truncated_before_section_header_%d.kmod" % i, "EINVAL",
               "section header table|end of the file",
               lambda e, i=i: e.truncate(ex.shoff + i * SHDR))
    mutate(ex, "truncated_inside_section_header_5.kmod", "EINVAL", "section header table",
           lambda e: e.truncate(ex.shoff + 5 * SHDR + 30))
    mutate(ex, "truncated_one_byte_short.kmod", "EINVAL", "section header table",
           lambda e: e.truncate(size - 1))
    # With the table first, each cut leaves a section's contents past EOF.
    tf = ex.table_first()
    for name in [".text", ".rodata", ".rodata.str1.1", ".symtab", ".strtab", ".rela.text",
                 ".shstrtab"]:
        i = tf.sec(name)
        cut = tf.sh(i, "offset") + tf.sh(i, "size") // 2
        label = name.strip(".").replace(".", "_")
        mutate(tf, "truncated_in_%s_contents.kmod" % label, "EINVAL", "end of the file",
               lambda e, cut=cut: e.truncate(cut))

    # -- ELF header (§8.1 steps 2–6).
    mutate(ex, "bad_magic.kmod", "ENOEXEC", "not an ELF object", lambda e: e.d.__setitem__(1, ord("X")))
    mutate(ex, "ei_version_0.kmod", "ENOEXEC", "ELF version",
           lambda e: e.d.__setitem__(6, 0))
    mutate(ex, "e_version_2.kmod", "ENOEXEC", "ELF version", lambda e: e.set_h("I", 0x14, 2))
    mutate(ex, "e_type_exec.kmod", "ENOEXEC", "ET_EXEC", lambda e: e.set_h("H", 0x10, 2))
    mutate(ex, "e_type_dyn.kmod", "ENOEXEC", "ET_DYN", lambda e: e.set_h("H", 0x10, 3))
    mutate(ex, "e_type_core.kmod", "ENOEXEC", "ET_CORE", lambda e: e.set_h("H", 0x10, 4))
    mutate(ex, "e_machine_i386.kmod", "ENOEXEC", "i386|EM_X86_64", lambda e: e.set_h("H", 0x12, 3))
    mutate(ex, "e_machine_aarch64.kmod", "ENOEXEC", "aarch64", lambda e: e.set_h("H", 0x12, 183))
    with open(os.path.join(FIXTURES, "amd64", "wrong_class.kmod"), "rb") as f:
        case("elfclass32_x32_object.kmod", "ENOEXEC", "ELF32", f.read())
    mutate(ex, "e_shnum_0.kmod", "ENOEXEC", "e_shnum is 0", lambda e: e.set_h("H", 0x3C, 0))
    mutate(ex, "e_shnum_65535.kmod", "ENOEXEC", "e_shnum is 65535", lambda e: e.set_h("H", 0x3C, 65535))
    mutate(ex, "e_shnum_32769.kmod", "ENOEXEC", "e_shnum is 32769", lambda e: e.set_h("H", 0x3C, 32769))
    mutate(ex, "e_shnum_past_eof.kmod", "EINVAL", "section header table",
           lambda e: e.set_h("H", 0x3C, ex.shnum + 3))
    mutate(ex, "e_shoff_0.kmod", "ENOEXEC", "e_shoff is 0", lambda e: e.set_h("Q", 0x28, 0))
    mutate(ex, "e_shoff_past_eof.kmod", "EINVAL", "section header table",
           lambda e: e.set_h("Q", 0x28, size + 4096))
    mutate(ex, "e_shoff_near_u64_max.kmod", "EINVAL", "section header table",
           lambda e: e.set_h("Q", 0x28, 2**64 - 64))
    mutate(ex, "e_shentsize_40.kmod", "ENOEXEC", "e_shentsize is 40", lambda e: e.set_h("H", 0x3A, 40))
    mutate(ex, "e_shentsize_0.kmod", "ENOEXEC", "e_shentsize is 0", lambda e: e.set_h("H", 0x3A, 0))
    mutate(ex, "e_shstrndx_equals_shnum.kmod", "ENOEXEC", "e_shstrndx is 14",
           lambda e: e.set_h("H", 0x3E, ex.shnum))
    mutate(ex, "e_shstrndx_65535.kmod", "ENOEXEC", "e_shstrndx is 65535",
           lambda e: e.set_h("H", 0x3E, 65535))
    # Without section names the kernel cannot find link_set_modules (§8.1.10).
    mutate(ex, "e_shstrndx_0_no_section_names.kmod", "ENOENT", "link_set_modules",
           lambda e: e.set_h("H", 0x3E, 0))
    mutate(ex, "e_shstrndx_names_symbol_strings.kmod", "ENOENT", "link_set_modules",
           lambda e: e.set_h("H", 0x3E, strtab))

    # -- Section table (§8.1 steps 7–8, 10–11, 13).
    def no_contents(e):
        for i in range(1, e.shnum):
            if e.sh(i, "type") in (1, 8):
                e.set_sh(i, "type", 7)  # SHT_NOTE
    mutate(ex, "no_progbits_or_nobits.kmod", "ENOEXEC", "no contents", no_contents)
    mutate(ex, "no_symbol_table.kmod", "ENOEXEC", "no symbol table", lambda e: e.set_sh(symtab, "type", 0))
    mutate(ex, "two_symbol_tables.kmod", "ENOEXEC", "2 symbol tables",
           lambda e: e.set_sh(ex.sec(".note.GNU-stack"), "type", 2))
    mutate(ex, "symtab_link_0.kmod", "ENOEXEC", "sh_link 0", lambda e: e.set_sh(symtab, "link", 0))
    mutate(ex, "symtab_link_out_of_range.kmod", "ENOEXEC", "sh_link 99",
           lambda e: e.set_sh(symtab, "link", 99))
    mutate(ex, "symtab_link_to_progbits.kmod", "ENOEXEC", "sh_link 1",
           lambda e: e.set_sh(symtab, "link", text))
    mutate(ex, "symtab_empty.kmod", "ENOEXEC", "symbol table has no entries",
           lambda e: e.set_sh(symtab, "size", 0))
    mutate(ex, "symtab_smaller_than_one_symbol.kmod", "ENOEXEC", "symbol table has no entries",
           lambda e: e.set_sh(symtab, "size", SYM - 1))
    mutate(ex, "strtab_empty.kmod", "ENOEXEC", "string table is empty",
           lambda e: e.set_sh(strtab, "size", 0))
    mutate(ex, "shstrtab_empty.kmod", "ENOENT", "link_set_modules",
           lambda e: e.set_sh(shstrtab, "size", 0))
    mutate(ex, "shstrtab_not_strtab.kmod", "ENOENT", "link_set_modules",
           lambda e: e.set_sh(shstrtab, "type", 1))
    for name, idx in [("symtab", symtab), ("strtab", strtab), ("shstrtab", shstrtab),
                      ("text", text), ("rela_text", ex.sec(rela_text))]:
        mutate(ex, "%s_offset_past_eof.kmod" % name, "EINVAL", "end of the file",
               lambda e, idx=idx: e.set_sh(idx, "offset", size + 100))
    mutate(ex, "text_size_past_eof.kmod", "EINVAL", ".text|end of the file",
           lambda e: e.set_sh(text, "size", size))
    mutate(ex, "text_offset_near_u64_max.kmod", "EINVAL", ".text|end of the file",
           lambda e: e.set_sh(text, "offset", 2**64 - 16))
    mutate(ex, "text_not_executable.kmod", "ENOEXEC", "no text",
           lambda e: e.set_sh(text, "flags", 2))
    mutate(ex, "text_size_0.kmod", "ENOEXEC", "no text", lambda e: e.set_sh(text, "size", 0))
    mutate(ex, "text_alignment_0.kmod", "ENOEXEC", ".text|alignment 0",
           lambda e: e.set_sh(text, "align", 0))
    mutate(ex, "text_alignment_3.kmod", "ENOEXEC", ".text|alignment 3",
           lambda e: e.set_sh(text, "align", 3))
    mutate(ex, "relocation_section_targets_section_99.kmod", "ENOEXEC", "section 99",
           lambda e: e.set_sh(e.sec(rela_text), "info", 99))

    # -- Overlapping sections: no linker writes them; the tools refuse.
    mutate(ex, "overlapping_rela_text_and_rela_rodata.kmod", "ENOEXEC", "overlaps|.rela.text|.rela.rodata",
           lambda e: e.set_sh(e.sec(rela_text), "offset", e.sh(e.sec(".rela.rodata"), "offset")))
    mutate(ex, "overlapping_rodata_and_text.kmod", "ENOEXEC", "overlaps|.text|.rodata.str1.1",
           lambda e: e.set_sh(strs, "offset", e.sh(text, "offset") + 8))
    mutate(ex, "section_overlaps_elf_header.kmod", "ENOEXEC", "overlaps|ELF header",
           lambda e: (e.set_sh(e.sec(".data"), "offset", 0), e.set_sh(e.sec(".data"), "size", 16)))
    mutate(ex, "section_overlaps_section_header_table.kmod", "ENOEXEC",
           "overlaps|section header table",
           lambda e: (e.set_sh(e.sec(".note.GNU-stack"), "offset", ex.shoff),
                      e.set_sh(e.sec(".note.GNU-stack"), "size", 64)))

    # -- String tables.
    mutate(ex, "strtab_without_nul.kmod", "ENOEXEC", ".strtab|NUL",
           lambda e: e.set_sh(strtab, "size", e.sh(strtab, "size") - 1))
    mutate(ex, "shstrtab_without_nul.kmod", "ENOEXEC", ".shstrtab|NUL",
           lambda e: e.set_sh(shstrtab, "size", e.sh(shstrtab, "size") - 1))
    mutate(ex, "symbol_name_offset_past_strtab.kmod", "ENOEXEC", "symbol 12|string table",
           lambda e: e.set_sym(printf, "name", 0x10000))
    mutate(ex, "section_name_offset_past_shstrtab.kmod", "ENOEXEC", "section 1|.shstrtab",
           lambda e: e.set_sh(text, "name", 0x10000))

    # -- Symbols and relocations (§8.1.15, §8.2, §8.3, §13.10).
    mutate(ex, "relocation_symbol_index_out_of_range.kmod", "ENOEXEC", "symbol 99",
           lambda e: e.set_rela(rela_text, 1, sym=99))
    mutate(ex, "link_set_relocation_symbol_index_out_of_range.kmod", "ENOEXEC", "symbol 99",
           lambda e: e.set_rela(rela_link, 0, sym=99))
    mutate(ex, "modinfo_symbol_in_section_200.kmod", "ENOEXEC", "section 200",
           lambda e: e.set_sym(2, "shndx", 200))
    mutate(ex, "relocation_offset_outside_text.kmod", "ENOEXEC", "offset 0x1000|.text",
           lambda e: e.set_rela(rela_text, 0, offset=0x1000))
    mutate(ex, "relocation_offset_straddles_text_end.kmod", "ENOEXEC", "offset 0x40|.text",
           lambda e: e.set_rela(rela_text, 0, offset=0x40))
    mutate(ex, "link_set_relocation_offset_past_section.kmod", "ENOEXEC",
           "offset 0x8|link_set_modules", lambda e: e.set_rela(rela_link, 0, offset=8))
    mutate(ex, "unsupported_local_relocation_type_24.kmod", "ENOEXEC", "relocation type 24",
           lambda e: e.set_rela(rela_text, 0, rtype=24))
    mutate(ex, "unsupported_global_relocation_type_42.kmod", "ENOEXEC", "relocation type 42|printf",
           lambda e: e.set_rela(rela_text, 1, rtype=42))
    mutate(ex, "link_set_relocation_type_gotpcrel.kmod", "ENOEXEC", "relocation type 9",
           lambda e: e.set_rela(rela_link, 0, rtype=9))
    mutate(ex, "relocation_against_undefined_local_symbol.kmod", "ENOEXEC", "undefined|symbol 3",
           lambda e: e.set_sym(3, "shndx", 0))
    with open(os.path.join(FIXTURES, "amd64", "weak.kmod"), "rb") as f:
        case("undefined_weak_symbol.kmod", "ENOEXEC", "weak", f.read())
    with open(os.path.join(FIXTURES, "amd64", "common.kmod"), "rb") as f:
        case("common_symbol.kmod", "ENOEXEC", "common symbol", f.read())

    # -- link_set_modules and the descriptor (§7.3, §4.3 step 4–5).
    mutate(ex, "link_set_modules_renamed.kmod", "ENOENT", "link_set_modules",
           lambda e: e.d.__setitem__(slice(e.sh(shstrtab, "offset") + e.sh(link_set, "name") + 15,
                                           e.sh(shstrtab, "offset") + e.sh(link_set, "name") + 16), b"z"))
    mutate(ex, "link_set_modules_16_bytes.kmod", "ENOEXEC", "link_set_modules is 16 bytes",
           lambda e: e.set_sh(link_set, "size", 16))
    mutate(ex, "link_set_modules_empty.kmod", "ENOEXEC", "link_set_modules is 0 bytes",
           lambda e: e.set_sh(link_set, "size", 0))
    mutate(ex, "link_set_modules_nobits.kmod", "ENOEXEC", "link_set_modules|NULL",
           lambda e: e.set_sh(link_set, "type", 8))
    mutate(ex, "link_set_modules_points_outside_rodata.kmod", "ENOEXEC", ".rodata|0x1000",
           lambda e: e.set_rela(rela_link, 0, addend=0x1000))
    mutate(ex, "link_set_modules_points_before_rodata.kmod", "ENOEXEC", ".rodata",
           lambda e: e.set_rela(rela_link, 0, addend=-8))
    mutate(ex, "link_set_relocation_not_applied.kmod", "ENOEXEC", "link_set_modules|NULL",
           lambda e: e.set_sh(e.sec(rela_link), "info", 0))
    mutate(ex, "link_set_relocation_type_none.kmod", "ENOEXEC", "link_set_modules|type 0",
           lambda e: e.set_rela(rela_link, 0, rtype=0))
    with open(os.path.join(FIXTURES, "amd64", "global_modinfo.kmod"), "rb") as f:
        case("modinfo_relocated_against_global_symbol.kmod", "ENOEXEC", "global symbol", f.read())
    with open(os.path.join(FIXTURES, "amd64", "nomodcmd.kmod"), "rb") as f:
        case("modcmd_null.kmod", "ENOEXEC", "mi_modcmd", f.read())
    mutate(ex, "name_pointer_outside_section.kmod", "ENOEXEC", "descriptor cannot be read|mi_name|0x1000",
           lambda e: e.set_rela(".rela.rodata", 1, addend=0x1000))
    case("name_without_nul_40_bytes.kmod", "EINVAL", "name|40",
         name_without_nul("x" * 40))
    case("name_without_nul_at_section_end.kmod", "ENOEXEC", "descriptor cannot be read|mi_name|NUL",
         name_without_nul("shortname"))
    case("name_32_chars.kmod", "EINVAL", "32 characters",
         generic("name_exactly_thirty_two_chars_xx"))
    mutate(ex, "class_0_any.kmod", "EINVAL", "class 0", lambda e: e.set_h("i", e.sh(rodata, "offset") + 4, 0))
    mutate(ex, "class_7.kmod", "EINVAL", "class 7", lambda e: e.set_h("i", e.sh(rodata, "offset") + 4, 7))
    mutate(ex, "class_negative.kmod", "EINVAL", "class -1",
           lambda e: e.set_h("i", e.sh(rodata, "offset") + 4, -1))
    mutate(ex, "version_netbsd_9_3.kmod", "EPROGMISMATCH", "9.3",
           lambda e: e.set_h("I", e.sh(rodata, "offset"), 903000000))
    mutate(ex, "version_0.kmod", "EPROGMISMATCH", "built for",
           lambda e: e.set_h("I", e.sh(rodata, "offset"), 0))
    case("required_name_31_chars.kmod", "EINVAL", "required_module_name_is_31_char",
         generic("longreq", req="hello,required_module_name_is_31_char"))
    case("requires_itself.kmod", "EDEADLK", "itself", generic("selfreq", req="hello,selfreq"))
    req11 = ",".join("r%d" % i for i in range(1, 12))
    case("requires_11_modules_netbsd_8.kmod", "EINVAL", "11 modules",
         generic("req11", req=req11, version=800000000), "release=8.0")
    case("requires_11_missing_modules.kmod", "ENOENT", "r1",
         generic("req11", req=req11))
    case("requires_cycle_companion.kmod", "-", "-", generic("cycb", req="cyca"), "companion")
    case("requires_cycle_between_two_files.kmod", "EDEADLK", "cyca|cycb",
         generic("cyca", req="cycb"),
         "install=requires_cycle_companion.kmod:cycb,install=requires_cycle_between_two_files.kmod:cyca")

    # Write everything out.
    for f in os.listdir(HERE):
        if f.endswith(".kmod"):
            os.remove(os.path.join(HERE, f))
    seen = set()
    lines = []
    for file, errno, words, setup, data in CASES:
        assert file not in seen, file
        seen.add(file)
        with open(os.path.join(HERE, file), "wb") as f:
            f.write(data)
        if setup != "companion":
            lines.append("\t".join([file, errno, words, setup]))
    with open(os.path.join(HERE, "MANIFEST"), "w") as f:
        f.write("# file\terrno\treason words ('|'-separated)\tsetup -- made by make.py\n")
        f.write("\n".join(lines) + "\n")
    print("%d objects" % len(lines))


if __name__ == "__main__":
    main()
