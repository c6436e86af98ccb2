#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Lay out a simulated fleet of NetBSD hosts for the Ansible tests.

usage: mkfleet.py TOOLS_DIR OUT_DIR [HOSTS]

Each host gets OUT_DIR/hosts/<name>/ with
  kernel/          its emulated kernel (MODCTL_EMUL): profile.json, and the
                   module tree for its release below kernel/root
  etc/modules.conf a modules.conf with comments and a line of its own
and OUT_DIR/inventory.ini lists them (ansible_connection=local).

The hosts cycle through NetBSD 10.1, 9.3 and 7.99.34 (stat ABI v1); the
last host is a 10.1 kernel at securelevel 1, where loads must fail.

The emulator installs the bundled example modules (example, hello, needy)
for every release, but they are NetBSD 10.1 builds: a 9.3 kernel refuses
them with EPROGMISMATCH, a 7.99.34 one too and also for their
R_X86_64_PLT32 relocations, which kernels before 9.0 do not know.  So the
9.3 and 7.99.34 hosts get copies made for their release, as a module
built for it would be: the version in the module's descriptor (the only
place the 10.1 version number occurs in the files, which is checked)
changed to the host's, and for 7.99.34 each R_X86_64_PLT32 relocation
written as R_X86_64_PC32, the type older binutils emit for the same call
(the two compute the same value in a kernel module, which has no PLT).
They are put in place before the kernel's first boot, so the emulator
keeps them.
"""

import os
import shutil
import struct
import subprocess
import sys

RELEASES = {
    '10.1': {'version': 1001000000, 'profile': {}},
    '9.3': {'version': 903000000, 'profile': {'osrelease': '9.3'}},
    '7.99.34': {'version': 799003400, 'profile': {'osrelease': '7.99.34', 'stat_abi': 'v1'}},
}
MODULES = ('example', 'hello', 'needy')
BUNDLED_VERSION = 1001000000

R_X86_64_PC32 = 2
R_X86_64_PLT32 = 4
SHT_RELA = 4

MODULES_CONF = """\
# /etc/modules.conf of {host}
#
# Modules loaded at boot by /etc/rc.d/modules: one per line,
# `name [modload options]'.

#nfs -P
if_wg
"""


def profile_json(extra):
    # auto_unload off: the emulated kernel's auto-unload thread would
    # otherwise change the state on its own clock, between the checksums.
    items = dict(extra)
    items['auto_unload'] = False
    return '{%s}\n' % ', '.join('"%s": %s' % (k, to_json(v)) for k, v in sorted(items.items()))


def to_json(v):
    if isinstance(v, bool):
        return 'true' if v else 'false'
    if isinstance(v, int):
        return str(v)
    return '"%s"' % v


def rela_plt32_to_pc32(data):
    """Rewrite the R_X86_64_PLT32 relocations of an ELF64 LE object as R_X86_64_PC32."""
    assert data[:4] == b'\x7fELF' and data[4] == 2 and data[5] == 1, 'not an ELF64 LE object'
    shoff, = struct.unpack_from('<Q', data, 0x28)
    shentsize, shnum = struct.unpack_from('<HH', data, 0x3A)
    count = 0
    for i in range(shnum):
        base = shoff + i * shentsize
        sh_type, = struct.unpack_from('<I', data, base + 4)
        if sh_type != SHT_RELA:
            continue
        offset, size = struct.unpack_from('<QQ', data, base + 0x18)
        entsize, = struct.unpack_from('<Q', data, base + 0x38)
        for at in range(offset, offset + size, entsize or 24):
            info, = struct.unpack_from('<Q', data, at + 8)
            if info & 0xffffffff == R_X86_64_PLT32:
                struct.pack_into('<Q', data, at + 8, (info & ~0xffffffff) | R_X86_64_PC32)
                count += 1
    return count


def module_for(release, data):
    want = RELEASES[release]['version']
    data = bytearray(data)
    if want == BUNDLED_VERSION:
        return bytes(data)
    old = struct.pack('<I', BUNDLED_VERSION)
    if data.count(old) != 1:
        raise SystemExit('mkfleet: the bundled module holds the version %d %d times, not once'
                         % (BUNDLED_VERSION, data.count(old)))
    at = data.index(old)
    data[at:at + 4] = struct.pack('<I', want)
    if want < 900000000:
        rela_plt32_to_pc32(data)
    return bytes(data)


def host_plan(count):
    """[(name, release, securelevel)]: the releases in turn, the last host at securelevel 1."""
    order = ['10.1', '9.3', '7.99.34']
    plan = []
    for i in range(count - 1):
        plan.append(('h%02d' % (i + 1), order[i % len(order)], 0))
    plan.append(('h%02d' % count, '10.1', 1))
    return plan


def main():
    if len(sys.argv) not in (3, 4):
        raise SystemExit(__doc__.split('\n\n')[1])
    tools = os.path.abspath(sys.argv[1])
    out = os.path.abspath(sys.argv[2])
    count = int(sys.argv[3]) if len(sys.argv) == 4 else 21
    if count < 2:
        raise SystemExit('mkfleet: at least 2 hosts')
    if os.path.exists(out):
        shutil.rmtree(out)
    os.makedirs(out)

    # The bundled modules, from a kernel booted with the default profile.
    seed = os.path.join(out, 'seed')
    env = dict(os.environ, MODCTL_EMUL=seed)
    subprocess.check_call([os.path.join(tools, 'modstat')], env=env, stdout=subprocess.DEVNULL)
    bundled = {}
    for name in MODULES:
        with open(os.path.join(seed, 'root/stand/amd64/10.1/modules', name, name + '.kmod'), 'rb') as f:
            bundled[name] = f.read()

    lines = ['[fleet]']
    for host, release, securelevel in host_plan(count):
        hdir = os.path.join(out, 'hosts', host)
        kernel = os.path.join(hdir, 'kernel')
        os.makedirs(os.path.join(hdir, 'etc'))
        os.makedirs(kernel)
        prof = dict(RELEASES[release]['profile'])
        if securelevel:
            prof['securelevel'] = securelevel
        with open(os.path.join(kernel, 'profile.json'), 'w') as f:
            f.write(profile_json(prof))
        for name in MODULES:
            mdir = os.path.join(kernel, 'root/stand/amd64', release, 'modules', name)
            os.makedirs(mdir)
            with open(os.path.join(mdir, name + '.kmod'), 'wb') as f:
                f.write(module_for(release, bundled[name]))
        with open(os.path.join(hdir, 'etc/modules.conf'), 'w') as f:
            f.write(MODULES_CONF.format(host=host))
        # First boot, so that the state exists before anything is compared.
        subprocess.check_call([os.path.join(tools, 'modstat')], env=dict(os.environ, MODCTL_EMUL=kernel),
                              stdout=subprocess.DEVNULL)
        lines.append('%s ansible_connection=local host_dir=%s release=%s securelevel=%d'
                     % (host, hdir, release, securelevel))
    lines += [
        '',
        '[fleet:vars]',
        'ansible_python_interpreter={{ ansible_playbook_python }}',
        'modctl_emul={{ host_dir }}/kernel',
        'modules_conf={{ host_dir }}/etc/modules.conf',
        '',
    ]
    with open(os.path.join(out, 'inventory.ini'), 'w') as f:
        f.write('\n'.join(lines))


if __name__ == '__main__':
    main()
