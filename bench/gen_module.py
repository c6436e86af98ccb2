#!/usr/bin/env python3
"""Writes the C source of a ~20 MB NetBSD amd64 module for bench/run.

usage: gen_module.py OUT.c

The module is valid (it loads into a NetBSD 10.1 amd64 kernel as far as the
validator can tell): a MODULE() descriptor, a 6 MB read-only blob, a table
of 400,000 pointers into it (one R_X86_64_64 relocation each), 4,000
functions in their own sections calling each other and printf (PLT32/PC32
relocations across sections) and 20,000 global data symbols.
"""
import sys

BLOB = 6 << 20
POINTERS = 400_000
FUNCTIONS = 4_000
GLOBALS = 20_000

out = open(sys.argv[1], "w")
w = out.write
w('#include "fixture.h"\n')
w("FIXTURE_MODULE(MODULE_CLASS_MISC, bench, NULL);\n")
w("static int bench_modcmd(modcmd_t cmd, void *arg)\n")
w("{ (void)arg; return cmd == MODULE_CMD_INIT || cmd == MODULE_CMD_FINI ? 0 : ENOTTY; }\n")
w('const char bench_blob[%d] = "bench";\n' % BLOB)
w("const void *const bench_table[%d] = {\n" % POINTERS)
step = BLOB // POINTERS
for i in range(POINTERS):
    w("&bench_blob[%d],\n" % (i * step))
w("};\n")
for i in range(GLOBALS):
    w("const int bench_g%d = %d;\n" % (i, i))
for i in range(FUNCTIONS):
    w("int bench_f%d(int);\n" % i)
for i in range(FUNCTIONS):
    a, b = (i * 7 + 1) % FUNCTIONS, (i * 13 + 5) % FUNCTIONS
    w("__attribute__((noinline)) int bench_f%d(int x)\n" % i)
    w("{ if (x <= 0) return printf(\"%%d\", bench_blob[%d]);" % (i * 97))
    w(" return bench_f%d(x - 1) + bench_f%d(x - 2); }\n" % (a, b))
out.close()
