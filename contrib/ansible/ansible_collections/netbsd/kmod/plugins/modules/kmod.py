#!/usr/bin/python
# -*- coding: utf-8 -*-
# SPDX-License-Identifier: BSD-2-Clause

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: kmod
short_description: Load and unload NetBSD kernel modules
version_added: 1.0.0
description:
  - Makes sure a NetBSD kernel module is loaded (O(state=present)) or not
    (O(state=absent)), by running C(modload), C(modunload) and C(modstat).
    The module never talks to the kernel itself.
  - Optionally keeps the module's line in C(/etc/modules.conf), the file
    C(/etc/rc.d/modules) reads at boot, so that the module is loaded at the
    next boot too (O(persistent)).
  - Idempotent. The module list of C(modstat --json) decides what is to be
    done. A builtin module that is active counts as present. A builtin module
    disabled by C(modunload) counts as absent, and O(state=present) enables it
    again only with O(force=true); without it the task fails saying so.
  - Check mode asks C(modload -n --json) (a dry run that makes every check the
    kernel would make, without loading anything) whether a load would
    succeed, and fails when the real run would fail. For O(state=absent) it
    predicts the outcome of C(modunload) from C(modstat --json) and
    C(modstat -e).
  - "On failure, C(msg) holds the error line that NetBSD's tool prints
    (the first line of its standard error, such as
    C(modload: Operation not permitted)) and, on the next line, the reason
    line these tools add (such as
    C(modload: example: kern.securelevel is 1; modules can be loaded and
    unloaded only at securelevel 0 or below))."
  - It needs the Rust C(modload), C(modunload) and C(modstat) that this
    collection ships with, drop-in replacements for NetBSD's that add the
    JSON documents and the dry run it relies on (C(modstat --json),
    C(modload -n --json)). The environment of the task is passed to them, so
    C(MODCTL_EMUL) set with the C(environment) keyword selects an emulated
    kernel.
author:
  - The authors of this modload, modunload and modstat (!UNKNOWN)
options:
  name:
    description:
      - The module's name, as C(modstat) shows it and as C(modload) takes it
        (loaded from C(<kern.module.path>/<name>/<name>.kmod)). A path is not
        accepted.
    type: str
    required: true
  state:
    description:
      - V(present) loads the module unless it is loaded or an active builtin.
        V(absent) unloads it with C(modunload) unless it is not loaded; a
        builtin module is then disabled, which is what NetBSD does.
    type: str
    choices: [present, absent]
    default: present
  params:
    description:
      - Properties handed to the module when it is loaded. The type of each
        value selects the C(modload) option; a boolean becomes
        C(-b name=true) or C(-b name=false), an integer C(-i name=N), a
        string C(-s name=str). Quote a number in YAML to pass it as a string.
        Other types are refused.
      - Properties are passed only when the module is loaded. A module that
        is already loaded is not loaded again because they changed.
    type: dict
    default: {}
  force:
    description:
      - Pass C(-f) to C(modload). It skips the kernel's compatibility checks
        and is required to enable a builtin module disabled by C(modunload)
        again.
    type: bool
    default: false
  no_plist:
    description:
      - Pass C(-P) to C(modload), so that the kernel does not read the
        C(.plist) file beside the module.
    type: bool
    default: false
  persistent:
    description:
      - V(present) makes sure O(modules_conf) has one line for the module,
        C(name [options]), with the same C(modload) options as the load
        (O(force), O(no_plist), O(params)); a line that already asks for the
        same options, however written, is left alone, a different one is
        rewritten in place, keeping its comment, and further lines for the
        same module are removed. A missing line is appended.
      - V(absent) removes every line for the module.
      - When not given, the file is not looked at.
      - Comments, blank lines and the lines of other modules are kept.
    type: str
    choices: [present, absent]
  modules_conf:
    description:
      - The file that O(persistent) manages.
    type: path
    default: /etc/modules.conf
  backup:
    description:
      - Make a backup copy of O(modules_conf) before changing it.
    type: bool
    default: false
  bindir:
    description:
      - The directory of C(modload), C(modunload) and C(modstat). By default
        they are looked up in E(PATH), then in C(/sbin) and C(/usr/sbin).
    type: path
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
    details:
      - A load is predicted by C(modload -n --json), an unload from
        C(modstat --json). The failure of a module's own initialisation or
        finalisation cannot be predicted.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check mode), when in diff mode.
    support: full
    details:
      - Shows the change to O(modules_conf).
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: netbsd
notes:
  - Works on NetBSD, and on other systems against an emulated NetBSD kernel
    selected by the E(MODCTL_EMUL) environment variable.
  - A line of O(modules_conf) is read the way C(/etc/rc.d/modules) reads it
    (C(read name args), then C(eval set -- $args)); lines that use shell
    expansions are compared as written. A O(name) that C(read) would
    change (one with a backslash) is refused.
  - O(modules_conf) is changed under an exclusive lock on a lock file
    beside it (C(.modules.conf.lock) in the same directory, left in place),
    read again under the lock, written to a temporary file and renamed over
    it, keeping its mode and owner; tasks that edit it at the same time
    each see the others' lines.
seealso:
  - module: netbsd.kmod.kmod_info
  - name: modload(8)
    description: The modload manual page, with the dry run and its JSON report.
    link: https://man.netbsd.org/modload.8
'''

EXAMPLES = r'''
- name: Load the example module with properties
  netbsd.kmod.kmod:
    name: example
    params:
      verbose: true
      count: 3
      greeting: hello world

- name: Load nfs now and at every boot
  netbsd.kmod.kmod:
    name: nfs
    persistent: present

- name: Unload a module and stop loading it at boot
  netbsd.kmod.kmod:
    name: example
    state: absent
    persistent: absent

- name: Enable a builtin module again after modunload disabled it
  netbsd.kmod.kmod:
    name: tmpfs
    force: true

- name: Use the tools of an emulated kernel
  netbsd.kmod.kmod:
    name: example
    bindir: /opt/modctl/bin
  environment:
    MODCTL_EMUL: /var/tmp/netbsd-kernel
'''

RETURN = r'''
name:
  description: The module's name.
  returned: always
  type: str
  sample: example
action:
  description:
    - What was done to the kernel, or in check mode what would be done.
    - V(none), V(load), V(reinstate) (a disabled builtin enabled again with
      C(-f)), V(unload), or V(disable) (a builtin module disabled by
      C(modunload)).
  returned: success
  type: str
  sample: load
status_before:
  description: The module's state before the task, from C(modstat --json).
  returned: always
  type: str
  choices: [present, absent, disabled]
  sample: absent
cmd:
  description: The command that changed, or in check mode would change, the kernel.
  returned: when a command was or would be run
  type: list
  elements: str
  sample: [/sbin/modload, -b, verbose=true, example]
rc:
  description: Exit status of the command that was run.
  returned: when a command was run
  type: int
  sample: 0
stderr:
  description: Standard error of the command that was run.
  returned: when a command was run
  type: str
  sample: ''
error:
  description: The first line of the tool's standard error, as NetBSD prints it.
  returned: failure
  type: str
  sample: 'modload: Operation not permitted'
reason:
  description: The tool's reason line, when it gave one.
  returned: failure
  type: str
  sample: "modload: tmpfs: builtin module `tmpfs' was disabled by modunload; use modload -f to reinstate it"
dry_run:
  description: The C(modload -n --json) report, in the format of C(tests/schema/dryrun.schema.json).
  returned: when a dry run was made (check mode loads, and refused reinstatements)
  type: dict
  sample: {"schema": 1, "operand": "example", "would_load": true, "error": null}
predicted:
  description: True when the result is a prediction of check mode, not the outcome of a run.
  returned: always
  type: bool
  sample: false
persistent_line:
  description: The module's line in O(modules_conf) after the task, or null when there is none.
  returned: when O(persistent) is set
  type: str
  sample: example -b verbose=true -i count=3 -s 'greeting=hello world'
modules_conf:
  description: The file that O(persistent) manages.
  returned: when O(persistent) is set
  type: str
  sample: /etc/modules.conf
backup_file:
  description: The backup copy of O(modules_conf).
  returned: when O(backup=true) and the file was changed
  type: str
  sample: /etc/modules.conf.12345.2026-01-01@00:00:00~
'''

import fcntl
import os
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_native

from ansible_collections.netbsd.kmod.plugins.module_utils.netbsd_kmod import (
    KmodError,
    check_name,
    dryrun_failure,
    edit_modules_conf,
    failure_msg,
    find_tool,
    modload_argv,
    modload_options,
    module_status,
    modstat_argv,
    modunload_argv,
    parse_dryrun,
    parse_modstat,
    predict_unload,
    stderr_lines,
)


class Runner(object):
    """Runs the tools for one task and fails the task with their words."""

    def __init__(self, module):
        self.module = module
        self.bindir = module.params['bindir']
        self.result = {'changed': False, 'predicted': module.check_mode}

    def tool(self, name):
        try:
            return find_tool(name, self.bindir)
        except KmodError as e:
            self.fail(to_native(e))

    def run(self, argv):
        # No expansion of ~ or $VAR: property values are passed as written.
        return self.module.run_command(argv, expand_user_and_vars=False)

    def fail(self, msg, **extra):
        self.result.update(extra)
        self.result['changed'] = False
        self.module.fail_json(msg=msg, **self.result)

    def fail_tool(self, argv, rc, stderr, extra=None):
        error, reason = stderr_lines(stderr)
        if error is None:
            error = '%s exited with status %d' % (os.path.basename(argv[0]), rc)
        self.fail(failure_msg(error, reason, extra), cmd=argv, rc=rc, stderr=stderr,
                  error=error, reason=reason)

    def modstat(self):
        argv = modstat_argv(self.tool('modstat'))
        rc, out, err = self.run(argv)
        if rc != 0:
            self.fail_tool(argv, rc, err)
        try:
            return parse_modstat(out)
        except KmodError as e:
            self.fail(to_native(e), cmd=argv)

    def may_load(self):
        """(allowed, answer) of `modstat -e`."""
        argv = [self.tool('modstat'), '-e']
        rc, out, err = self.run(argv)
        answer = (err or out).strip()
        prefix = os.path.basename(argv[0]) + ': '
        if answer.startswith(prefix):
            answer = answer[len(prefix):]
        return rc == 0, answer

    def dry_run(self, name, params, force, no_plist):
        argv = modload_argv(self.tool('modload'), name, params, force, no_plist, dry_run=True)
        rc, out, err = self.run(argv)
        try:
            doc = parse_dryrun(out)
        except KmodError as e:
            self.fail(to_native(e), cmd=argv, rc=rc, stderr=err)
        if doc is None:
            # The dry run could not be made; modload said why.
            self.fail_tool(argv, rc, err)
        self.result['dry_run'] = doc
        return argv, doc


def do_present(r, p, status):
    name = p['name']
    argv = modload_argv(r.tool('modload'), name, p['params'], p['force'], p['no_plist'])
    if status == 'present':
        r.result['action'] = 'none'
        return
    action = 'reinstate' if status == 'disabled' else 'load'
    if status == 'disabled' and not p['force']:
        # modload would refuse it with EPERM; the dry run gives its lines.
        dargv, doc = r.dry_run(name, p['params'], p['force'], p['no_plist'])
        error, reason = dryrun_failure(doc) if not doc['would_load'] else (None, None)
        r.fail(failure_msg(error, reason,
                           "builtin module `%s' was disabled by modunload; set force: true to reinstate it"
                           % name),
               cmd=dargv, error=error, reason=reason)
    if r.module.check_mode:
        dargv, doc = r.dry_run(name, p['params'], p['force'], p['no_plist'])
        if not doc['would_load']:
            error, reason = dryrun_failure(doc)
            r.fail(failure_msg(error, reason), cmd=argv, error=error, reason=reason)
        r.result.update(changed=True, action=action, cmd=argv)
        return
    rc, out, err = r.run(argv)
    if rc != 0:
        r.fail_tool(argv, rc, err)
    r.result.update(changed=True, action=action, cmd=argv, rc=rc, stderr=err)


def do_absent(r, p, doc):
    name = p['name']
    argv = modunload_argv(r.tool('modunload'), name)
    if r.module.check_mode:
        entry_status = module_status(doc, name)
        allowed, answer = (True, None) if entry_status != 'present' else r.may_load()
        guess = predict_unload(doc, name, allowed, answer)
        if guess['action'] == 'fail':
            r.fail(failure_msg(guess['error'], guess['reason']), cmd=argv,
                   error=guess['error'], reason=guess['reason'])
        r.result['action'] = guess['action']
        if guess['action'] != 'none':
            r.result.update(changed=True, cmd=argv)
        return
    status = module_status(doc, name)
    if status != 'present':
        r.result['action'] = 'none'
        return
    builtin = (next(m for m in doc['modules'] if m['name'] == name).get('source') == 'builtin')
    rc, out, err = r.run(argv)
    if rc != 0:
        r.fail_tool(argv, rc, err)
    r.result.update(changed=True, action='disable' if builtin else 'unload', cmd=argv, rc=rc, stderr=err)


def lock_path(path):
    """The lock file beside `path` that every task editing `path` takes."""
    directory, base = os.path.split(os.path.abspath(path))
    return os.path.join(directory, '.%s.lock' % base)


def do_persistent(r, p):
    path = p['modules_conf']
    r.result['modules_conf'] = path
    if r.module.check_mode:
        edit_persistent(r, p)
        return
    # The file is replaced by a rename, so a lock on it would be a lock on
    # the old file: the lock is on a file beside it that is never
    # replaced.  Read, edit and rename all happen under it, so tasks at
    # the same time do not lose each other's lines.
    try:
        fd = os.open(lock_path(path), os.O_RDWR | os.O_CREAT, 0o600)
    except (IOError, OSError) as e:
        r.fail('%s: cannot lock: %s' % (path, to_native(e)))
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX)
        edit_persistent(r, p)
    finally:
        os.close(fd)


def edit_persistent(r, p):
    module = r.module
    path = p['modules_conf']
    want = p['persistent']
    options = modload_options(p['params'], p['force'], p['no_plist']) if want == 'present' else []
    try:
        with open(path, 'rb') as f:
            before = f.read().decode('utf-8')
        exists = True
    except (IOError, OSError) as e:
        if getattr(e, 'errno', None) != 2:
            r.fail('%s: cannot read: %s' % (path, to_native(e)))
        before = ''
        exists = False
    except UnicodeDecodeError:
        r.fail('%s: not UTF-8 text' % path)
    try:
        after, line = edit_modules_conf(before, p['name'], want, options)
    except KmodError as e:
        r.fail('%s: %s' % (path, to_native(e)))
    r.result['persistent_line'] = line
    if after == before:
        return
    r.result['changed'] = True
    if module._diff:
        r.result['diff'] = {
            'before': before,
            'after': after,
            'before_header': path if exists else '%s (absent)' % path,
            'after_header': path,
        }
    if module.check_mode:
        return
    if p['backup'] and exists:
        r.result['backup_file'] = module.backup_local(path)
    directory = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix='.modules.conf.', dir=directory)
        with os.fdopen(fd, 'wb') as f:
            f.write(to_bytes(after))
    except (IOError, OSError) as e:
        r.fail('%s: cannot write: %s' % (path, to_native(e)))
    if not exists:
        os.chmod(tmp, 0o644)
    # atomic_move gives the new file the old one's mode and owner.
    module.atomic_move(tmp, path)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type='str', required=True),
            state=dict(type='str', default='present', choices=['present', 'absent']),
            params=dict(type='dict', default={}),
            force=dict(type='bool', default=False),
            no_plist=dict(type='bool', default=False),
            persistent=dict(type='str', choices=['present', 'absent']),
            modules_conf=dict(type='path', default='/etc/modules.conf'),
            backup=dict(type='bool', default=False),
            bindir=dict(type='path'),
        ),
        supports_check_mode=True,
    )
    p = module.params
    r = Runner(module)
    r.result['name'] = p['name']
    try:
        check_name(p['name'])
        # Refuse bad params before anything runs.
        modload_options(p['params'], p['force'], p['no_plist'])
    except KmodError as e:
        r.fail(to_native(e))
    doc = r.modstat()
    status = module_status(doc, p['name'])
    r.result['status_before'] = status
    if p['state'] == 'present':
        do_present(r, p, status)
    else:
        do_absent(r, p, doc)
    if p['persistent']:
        do_persistent(r, p)
    module.exit_json(**r.result)


if __name__ == '__main__':
    main()
