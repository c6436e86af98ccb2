#!/usr/bin/python
# -*- coding: utf-8 -*-
# SPDX-License-Identifier: BSD-2-Clause

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: kmod_info
short_description: List the kernel modules of a NetBSD kernel
version_added: 1.0.0
description:
  - Returns the module list of C(modstat --json), optionally only the modules
    with the given names.
  - Changes nothing. The environment of the task is passed to C(modstat), so
    C(MODCTL_EMUL) set with the C(environment) keyword selects an emulated
    kernel.
author:
  - The authors of this modload, modunload and modstat (!UNKNOWN)
options:
  name:
    description:
      - Only the modules with these names. A name that matches no module is
        not an error; it is just not in RV(modules).
      - All modules when not given or empty.
    type: list
    elements: str
    aliases: [names]
    default: []
  bindir:
    description:
      - The directory of C(modstat). By default it is looked up in E(PATH),
        then in C(/sbin) and C(/usr/sbin).
    type: path
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
    details:
      - The module only reads the module list.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check mode), when in diff mode.
    support: none
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: netbsd
notes:
  - Needs the Rust C(modstat) that this collection ships with (a drop-in
    replacement for NetBSD's), for its C(--json) document; NetBSD's own
    C(modstat) has no C(--json).
seealso:
  - module: netbsd.kmod.kmod
  - name: modstat(8)
    description: The modstat manual page.
    link: https://man.netbsd.org/modstat.8
'''

EXAMPLES = r'''
- name: All modules
  netbsd.kmod.kmod_info:
  register: kmods

- name: Is nfs loaded?
  netbsd.kmod.kmod_info:
    name: nfs
  register: nfs

- name: Say so
  ansible.builtin.debug:
    msg: "nfs is {{ 'loaded' if nfs.modules else 'not loaded' }}"

- name: Names of the modules loaded from the file system
  ansible.builtin.debug:
    msg: "{{ kmods.modules | selectattr('source', 'equalto', 'filesys') | map(attribute='name') | list }}"
'''

RETURN = r'''
schema:
  description: The version of the C(modstat --json) document.
  returned: success
  type: int
  sample: 1
stat_abi:
  description:
    - V(v2) when the kernel answered the C(MODCTL_STAT) call of NetBSD 9.0
      and later, V(v1) for the older call of NetBSD 8 and earlier.
  returned: success
  type: str
  sample: v2
modules:
  description: One entry per module, sorted by name, as C(modstat --json) gives them.
  returned: success
  type: list
  elements: dict
  contains:
    name:
      description: The module's name.
      type: str
      returned: always
      sample: ffs
    class:
      description: Its class, V(any), V(misc), V(vfs), V(driver), V(exec), V(secmodel), V(bufq) or V(UNKNOWN).
      type: str
      returned: always
      sample: vfs
    class_id:
      description: The class as the kernel's number.
      type: int
      returned: always
      sample: 2
    source:
      description: V(builtin), V(boot), V(filesys) or V(UNKNOWN).
      type: str
      returned: always
      sample: builtin
    source_id:
      description: The source as the kernel's number.
      type: int
      returned: always
      sample: 0
    flags:
      description: The kernel's flag word, 1 for must-force and 2 for auto-loaded.
      type: int
      returned: always
      sample: 0
    must_force:
      description: Whether the C(f) flag is set.
      type: bool
      returned: always
      sample: false
    auto_loaded:
      description: Whether the C(a) flag is set (loaded on demand or as a dependency).
      type: bool
      returned: always
      sample: false
    refcnt:
      description: The number of modules that depend on it; -1 for a builtin disabled by C(modunload).
      type: int
      returned: always
      sample: 1
    address:
      description: The kernel address of its text, as C(0x) and lowercase hexadecimal digits.
      type: str
      returned: always
      sample: '0x0'
    size:
      description: The size of its text in bytes, 0 when unknown.
      type: int
      returned: always
      sample: 0
    requires:
      description: The modules it requires, separated by commas.
      type: str
      returned: always
      sample: wapbl
    required:
      description: The same list as strings.
      type: list
      elements: str
      returned: always
      sample: [wapbl]
'''

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.netbsd.kmod.plugins.module_utils.netbsd_kmod import (
    KmodError,
    failure_msg,
    filter_modules,
    find_tool,
    modstat_argv,
    parse_modstat,
    stderr_lines,
)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type='list', elements='str', aliases=['names'], default=[]),
            bindir=dict(type='path'),
        ),
        supports_check_mode=True,
    )
    names = module.params['name'] or []
    try:
        modstat = find_tool('modstat', module.params['bindir'])
    except KmodError as e:
        module.fail_json(msg=to_native(e))
    # One name can be asked for directly; several are filtered here.
    argv = modstat_argv(modstat, names[0] if len(names) == 1 else None)
    rc, out, err = module.run_command(argv, expand_user_and_vars=False)
    if rc != 0:
        error, reason = stderr_lines(err)
        module.fail_json(msg=failure_msg(error or 'modstat exited with status %d' % rc, reason),
                         cmd=argv, rc=rc, stderr=err)
    try:
        doc = parse_modstat(out)
    except KmodError as e:
        module.fail_json(msg=to_native(e), cmd=argv)
    doc = filter_modules(doc, names)
    module.exit_json(changed=False, **doc)


if __name__ == '__main__':
    main()
