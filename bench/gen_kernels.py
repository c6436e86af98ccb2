#!/usr/bin/env python3
"""bench/gen_kernels.py KIND DIR: an emulated kernel's state directory
for one of bench/run's engine figures.

  due50k     50,000 auto-loaded modules, all due for auto-unload
  builtins   a profile with 100,000 built-in modules
  boot100k   100,000 boot modules (from the template fixture), none
             requiring another
  chain15k   a 15,000-deep chain of boot modules, the top listed first
"""
import json
import os
import struct
import sys

TEMPLATE = os.path.join(os.path.dirname(__file__), "..", "modobj", "tests",
                        "fixtures", "amd64", "template.kmod")
TEMPLATE_VERSION = 0x7E3A1B2C


def module(template, name, required):
    d = bytearray(template)

    def put(marker, size, value):
        at = d.index(marker)
        d[at:at + size] = value.encode().ljust(size, b"\0")

    put(b"TMPL_NAME_", 16, name)
    put(b"TMPL_REQUIRED_", 64, required)
    at = d.index(struct.pack("<I", TEMPLATE_VERSION))
    d[at:at + 4] = struct.pack("<I", 1001000000)
    return bytes(d)


def boot_modules(d, names, required):
    """Writes the modules to one directory, /mods below the module root
    (a directory per module would cost a disk block each), and returns
    the paths boot.cfg names them by."""
    template = open(TEMPLATE, "rb").read()
    base = os.path.join(d, "root", "mods")
    os.makedirs(base)
    for name in names:
        with open(os.path.join(base, name + ".kmod"), "wb") as f:
            f.write(module(template, name, required(name)))
    return ["/mods/%s.kmod" % n for n in names]


def main():
    kind, d = sys.argv[1], sys.argv[2]
    os.makedirs(d, mode=0o700, exist_ok=True)
    profile = {"auto_unload": False}
    if kind == "due50k":
        profile = {"auto_unload": True, "autotime": 10}
        # flags 2: MODFLG_AUTO_LOADED; a deadline long past.
        active = [{"name": "auto%05d" % i, "class": 1, "source": 2,
                   "flags": 2, "addr": 0, "size": 4096,
                   "version": 1001000000, "autotime": 1}
                  for i in range(50000)]
        json.dump({"format": 1, "serial": 1, "active": active,
                   "builtins": []}, open(os.path.join(d, "state.json"), "w"))
    elif kind == "builtins":
        classes = ["misc", "vfs", "driver", "exec", "secmodel"]
        profile["builtins"] = [
            {"name": "b%06d" % i, "class": classes[i % 5],
             "requires": "b%06d" % (i - 1) if i % 3 == 0 and i else ""}
            for i in range(100000)]
    elif kind == "boot100k":
        names = ["m%06d" % i for i in range(100000)]
        profile["boot_modules"] = boot_modules(d, names, lambda n: "")
    elif kind == "chain15k":
        names = ["c%05d" % i for i in range(15000)]
        paths = boot_modules(
            d, names, lambda n: "" if n == "c00000" else "c%05d" % (int(n[1:]) - 1))
        profile["boot_modules"] = list(reversed(paths))
    else:
        sys.exit("unknown kind " + kind)
    json.dump(profile, open(os.path.join(d, "profile.json"), "w"))


main()
