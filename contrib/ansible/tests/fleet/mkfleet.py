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
built for each host's release at the kernel's first boot.
"""

import os
import shutil
import subprocess
import sys

RELEASES = {
    '10.1': {'profile': {}},
    '9.3': {'profile': {'osrelease': '9.3'}},
    '7.99.34': {'profile': {'osrelease': '7.99.34', 'stat_abi': 'v1'}},
}

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
