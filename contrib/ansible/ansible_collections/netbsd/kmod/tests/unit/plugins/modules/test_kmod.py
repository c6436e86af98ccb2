# -*- coding: utf-8 -*-
# SPDX-License-Identifier: BSD-2-Clause
"""The modules' decisions, against stand-ins for modload, modunload and modstat."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json
import os
import time

import pytest

from ansible.module_utils import basic
from ansible.module_utils.common.text.converters import to_bytes

from ansible_collections.netbsd.kmod.plugins.modules import kmod, kmod_info


class Exit(Exception):
    def __init__(self, result):
        Exception.__init__(self)
        self.result = result


class Fail(Exception):
    def __init__(self, result):
        Exception.__init__(self)
        self.result = result


def _mod(name, source='filesys', refcnt=0, required=(), cls='misc', auto=False):
    return {
        'address': '0x0', 'auto_loaded': auto, 'class': cls, 'class_id': 1,
        'flags': 2 if auto else 0, 'must_force': False, 'name': name, 'refcnt': refcnt,
        'required': list(required), 'requires': ','.join(required), 'size': 0,
        'source': source, 'source_id': 0 if source == 'builtin' else 2,
    }


class FakeTools(object):
    """modstat, modload and modunload with the behaviour the module relies on."""

    def __init__(self, modules, may_load=True):
        self.modules = {m['name']: m for m in modules}
        self.may_load = may_load
        self.calls = []
        self.refuse = {}  # module name -> (stderr of modload) for loads that fail

    def doc(self):
        return {'modules': [self.modules[n] for n in sorted(self.modules)], 'schema': 1,
                'stat_abi': 'v2'}

    def run(self, argv):
        self.calls.append(list(argv))
        tool = os.path.basename(argv[0])
        args = argv[1:]
        if tool == 'modstat':
            if args == ['-e']:
                if self.may_load:
                    return 0, '', 'modstat: You can load modules.\n'
                return 1, '', 'modstat: You are not allowed to load modules right now.\n'
            assert args[0] == '--json'
            d = self.doc()
            rest = args[1:]
            # As modstat's getopt(3) takes them: after `--' an operand,
            # else a word starting with "-" is options.
            if rest[:1] == ['--']:
                rest = rest[1:]
            elif rest[:1] == ['-A']:
                return 0, '', 'modstat: Modules can be autoloaded.\n'
            elif rest and rest[0].startswith('-n'):
                rest = [rest[0][2:]]
            if len(rest) == 1:
                d['modules'] = [m for m in d['modules'] if m['name'] == rest[0]]
            return 0, json.dumps(d), ''
        if tool == 'modload':
            return self.modload(args)
        if tool == 'modunload':
            return self.modunload(args[0])
        raise AssertionError('unexpected command %r' % argv)

    def _refusal(self, name, force):
        m = self.modules.get(name)
        if not self.may_load:
            return ('Operation not permitted', 'EPERM', 1,
                    'kern.securelevel is 1; modules can be loaded and unloaded only at securelevel 0 or below')
        if m and m['refcnt'] >= 0:
            return ('File exists', 'EEXIST', 17, "module `%s' is already loaded" % name)
        if m and not force:
            return ('Operation not permitted', 'EPERM', 1,
                    "builtin module `%s' was disabled by modunload; use modload -f to reinstate it" % name)
        if name in self.refuse:
            return self.refuse[name]
        return None

    def modload(self, args):
        dry = args[:2] == ['-n', '--json']
        name = args[-1]
        force = '-f' in args
        refusal = self._refusal(name, force)
        if dry:
            report = {
                'schema': 1, 'operand': name, 'file': None, 'kernel': 'NetBSD 10.1 (1001000000) amd64',
                'module': None, 'properties': None, 'load_order': [], 'findings': [],
                'would_load': refusal is None, 'error': None,
            }
            if refusal:
                message, ename, errno, reason = refusal
                err = {'errno': errno, 'name': ename, 'message': message}
                report['error'] = err
                report['findings'] = [{'module': name, 'check': 'X', 'fatal': True, 'errno': err,
                                       'reason': reason}]
                return 1, json.dumps(report), ''
            return 0, json.dumps(report), ''
        if refusal:
            message, reason = refusal[0], refusal[3]
            return 1, '', 'modload: %s\nmodload: %s: %s\n' % (message, name, reason)
        if name in self.modules:
            self.modules[name]['refcnt'] = 0
        else:
            self.modules[name] = _mod(name)
        return 0, '', ''

    def modunload(self, name):
        m = self.modules.get(name)
        if not self.may_load:
            return 1, '', ('modunload: %s: Operation not permitted\nmodunload: %s: kern.securelevel is 1; '
                           'modules can be loaded and unloaded only at securelevel 0 or below\n' % (name, name))
        if m is None or m['refcnt'] < 0:
            return 1, '', 'modunload: %s: No such file or directory\n' % name
        if m['refcnt'] > 0:
            return 1, '', 'modunload: %s: Device busy\nmodunload: %s: required by someone\n' % (name, name)
        if m['source'] == 'builtin':
            m['refcnt'] = -1
        else:
            del self.modules[name]
        return 0, '', ''

    def kernel_calls(self):
        """The calls that could change the kernel (no dry runs, no modstat)."""
        return [c for c in self.calls
                if os.path.basename(c[0]) in ('modload', 'modunload') and '-n' not in c]


@pytest.fixture
def tools(monkeypatch, tmp_path):
    fake = FakeTools([
        _mod('ffs', 'builtin', 1, ['wapbl'], 'vfs'),
        _mod('wapbl', 'builtin', 1, cls='vfs'),
        _mod('tmpfs', 'builtin', -1, cls='vfs'),
        _mod('mfs', 'builtin', 0, ['ffs'], 'vfs'),
        _mod('hello', refcnt=1, auto=True),
        _mod('needy', required=['hello']),
    ])

    def run_command(self, args, **kw):
        assert kw.get('expand_user_and_vars') is False
        return fake.run(args)

    def exit_json(self, **kw):
        raise Exit(kw)

    def fail_json(self, **kw):
        kw['failed'] = True
        raise Fail(kw)

    monkeypatch.setattr(basic.AnsibleModule, 'run_command', run_command)
    monkeypatch.setattr(basic.AnsibleModule, 'exit_json', exit_json)
    monkeypatch.setattr(basic.AnsibleModule, 'fail_json', fail_json)
    for name in ('modload', 'modunload', 'modstat'):
        path = tmp_path / name
        path.write_text(u'#!/bin/sh\nexit 99\n')
        path.chmod(0o755)
    fake.bindir = str(tmp_path)
    return fake


def run_module(mod, args, check=False, diff=False):
    args = dict(args)
    args['_ansible_check_mode'] = check
    args['_ansible_diff'] = diff
    basic._ANSIBLE_ARGS = to_bytes(json.dumps({'ANSIBLE_MODULE_ARGS': args}))
    try:
        mod.main()
    except Exit as e:
        return e.result
    except Fail as e:
        return e.result
    raise AssertionError('the module neither exited nor failed')


def kmod_run(tools, check=False, diff=False, **args):
    args.setdefault('bindir', tools.bindir)
    return run_module(kmod, args, check, diff)


# ---------------------------------------------------------------------------
# state: present


def test_present_when_loaded_does_nothing(tools):
    r = kmod_run(tools, name='needy', params={'x': 1})
    assert r['changed'] is False and r['action'] == 'none'
    assert r['status_before'] == 'present'
    assert tools.kernel_calls() == []


def test_active_builtin_counts_as_present(tools):
    r = kmod_run(tools, name='ffs')
    assert r['changed'] is False and r['action'] == 'none'
    assert tools.kernel_calls() == []


def test_present_loads_with_options(tools):
    r = kmod_run(tools, name='example', params={'verbose': True, 'count': 3, 'greeting': 'hi $HOME'},
                 no_plist=True)
    assert r['changed'] is True and r['action'] == 'load' and r['predicted'] is False
    want = [os.path.join(tools.bindir, 'modload'), '-P', '-i', 'count=3', '-s', 'greeting=hi $HOME',
            '-b', 'verbose=true', 'example']
    assert r['cmd'] == want
    assert tools.kernel_calls() == [want]
    assert 'example' in tools.modules
    again = kmod_run(tools, name='example', params={'verbose': True, 'count': 3, 'greeting': 'hi $HOME'})
    assert again['changed'] is False


def test_present_check_mode_uses_dry_run_only(tools):
    r = kmod_run(tools, check=True, name='example', params={'n': 2})
    assert r['changed'] is True and r['predicted'] is True and r['action'] == 'load'
    assert r['dry_run']['would_load'] is True
    assert tools.kernel_calls() == []
    assert [os.path.basename(c[0]) for c in tools.calls] == ['modstat', 'modload']
    assert tools.calls[1][1:] == ['-n', '--json', '-i', 'n=2', 'example']
    assert 'example' not in tools.modules


def test_present_check_mode_fails_when_load_would_fail(tools):
    tools.refuse['old93'] = ('Program version wrong', 'EPROGMISMATCH', 75,
                             'built for NetBSD 9.3 (903000000) but the kernel is NetBSD 10.1 (1001000000)')
    r = kmod_run(tools, check=True, name='old93')
    assert r['failed'] is True and r['changed'] is False
    assert r['msg'] == ('modload: Program version wrong\n'
                        'modload: old93: built for NetBSD 9.3 (903000000) but the kernel is NetBSD 10.1 '
                        '(1001000000)')
    assert r['error'] == 'modload: Program version wrong'
    assert tools.kernel_calls() == []


def test_present_failure_carries_error_and_reason(tools):
    tools.may_load = False
    r = kmod_run(tools, name='example')
    assert r['failed'] is True and r['rc'] == 1
    assert r['msg'].split('\n') == [
        'modload: Operation not permitted',
        'modload: example: kern.securelevel is 1; modules can be loaded and unloaded only at securelevel 0 '
        'or below']
    assert r['reason'].startswith('modload: example: kern.securelevel is 1')


def test_check_mode_prediction_matches_real_failure(tools):
    tools.may_load = False
    predicted = kmod_run(tools, check=True, name='example')
    real = kmod_run(tools, name='example')
    assert predicted['failed'] and real['failed']
    assert predicted['msg'] == real['msg']


def test_disabled_builtin_needs_force(tools):
    r = kmod_run(tools, name='tmpfs')
    assert r['failed'] is True
    assert r['msg'].split('\n') == [
        'modload: Operation not permitted',
        "modload: tmpfs: builtin module `tmpfs' was disabled by modunload; use modload -f to reinstate it",
        "builtin module `tmpfs' was disabled by modunload; set force: true to reinstate it"]
    assert tools.kernel_calls() == []
    assert r['status_before'] == 'disabled'


def test_disabled_builtin_check_mode_fails_too(tools):
    r = kmod_run(tools, check=True, name='tmpfs')
    assert r['failed'] is True and 'set force: true' in r['msg']


def test_disabled_builtin_reinstated_with_force(tools):
    r = kmod_run(tools, check=True, name='tmpfs', force=True)
    assert r['changed'] is True and r['action'] == 'reinstate'
    assert tools.kernel_calls() == []
    r = kmod_run(tools, name='tmpfs', force=True)
    assert r['changed'] is True and r['action'] == 'reinstate'
    assert tools.kernel_calls() == [[os.path.join(tools.bindir, 'modload'), '-f', 'tmpfs']]
    assert kmod_run(tools, name='tmpfs', force=True)['changed'] is False


@pytest.mark.parametrize('args, words', [
    ({'name': 'example', 'params': {'x': 1.5}}, 'float'),
    ({'name': 'example', 'params': {'a=b': 'c'}}, '"="'),
    ({'name': './example.kmod'}, 'not a path'),
    ({'name': '-f'}, 'begin'),
])
def test_bad_arguments_fail_before_running_anything(tools, args, words):
    r = kmod_run(tools, **args)
    assert r['failed'] is True and words in r['msg']
    assert tools.calls == []


def test_missing_tool_in_bindir(tools, tmp_path):
    empty = tmp_path / 'empty'
    empty.mkdir()
    r = kmod_run(tools, name='example', bindir=str(empty))
    assert r['failed'] is True and 'bindir' in r['msg']


# ---------------------------------------------------------------------------
# state: absent


def test_absent_when_not_loaded(tools):
    r = kmod_run(tools, name='example', state='absent')
    assert r['changed'] is False and r['action'] == 'none'
    r = kmod_run(tools, name='tmpfs', state='absent')   # disabled builtin counts as absent
    assert r['changed'] is False and r['action'] == 'none'
    assert tools.kernel_calls() == []


def test_absent_unloads(tools):
    r = kmod_run(tools, check=True, name='needy', state='absent')
    assert r['changed'] is True and r['action'] == 'unload' and r['predicted'] is True
    assert tools.kernel_calls() == []
    r = kmod_run(tools, name='needy', state='absent')
    assert r['changed'] is True and r['action'] == 'unload'
    assert tools.kernel_calls() == [[os.path.join(tools.bindir, 'modunload'), 'needy']]


def test_absent_builtin_is_disabled(tools):
    r = kmod_run(tools, check=True, name='mfs', state='absent')
    assert r['changed'] is True and r['action'] == 'disable'
    r = kmod_run(tools, name='mfs', state='absent')
    assert r['changed'] is True and r['action'] == 'disable'
    assert tools.modules['mfs']['refcnt'] == -1
    assert kmod_run(tools, name='mfs', state='absent')['changed'] is False


def test_absent_check_mode_predicts_busy(tools):
    r = kmod_run(tools, check=True, name='hello', state='absent')
    assert r['failed'] is True
    assert r['msg'] == 'modunload: hello: Device busy\nmodunload: hello: required by needy; unload it first'
    assert tools.kernel_calls() == []
    real = kmod_run(tools, name='hello', state='absent')
    assert real['failed'] is True and real['error'] == 'modunload: hello: Device busy'


def test_absent_check_mode_predicts_permission(tools):
    tools.may_load = False
    r = kmod_run(tools, check=True, name='needy', state='absent')
    assert r['failed'] is True
    assert r['error'] == 'modunload: needy: Operation not permitted'
    assert 'You are not allowed to load modules right now.' in r['reason']
    real = kmod_run(tools, name='needy', state='absent')
    assert real['error'] == r['error']


# ---------------------------------------------------------------------------
# persistent


def test_persistent_check_mode_diff_leaves_file(tools, tmp_path):
    conf = tmp_path / 'modules.conf'
    conf.write_text(u'# boot modules\nffs\n')
    r = kmod_run(tools, check=True, diff=True, name='example', params={'v': True}, persistent='present',
                 modules_conf=str(conf))
    assert r['changed'] is True
    assert r['diff']['before'] == '# boot modules\nffs\n'
    assert r['diff']['after'] == '# boot modules\nffs\nexample -b v=true\n'
    assert r['persistent_line'] == 'example -b v=true'
    assert conf.read_text() == u'# boot modules\nffs\n'


def test_persistent_written_and_idempotent(tools, tmp_path):
    conf = tmp_path / 'modules.conf'
    r = kmod_run(tools, name='needy', persistent='present', modules_conf=str(conf), params={'g': 'a b'})
    assert r['changed'] is True and r['action'] == 'none'
    assert conf.read_text() == u"needy -s 'g=a b'\n"
    assert oct(conf.stat().st_mode & 0o777) == oct(0o644)
    r = kmod_run(tools, diff=True, name='needy', persistent='present', modules_conf=str(conf),
                 params={'g': 'a b'})
    assert r['changed'] is False and 'diff' not in r
    r = kmod_run(tools, name='needy', state='absent', persistent='absent', modules_conf=str(conf))
    assert r['changed'] is True and r['persistent_line'] is None
    assert conf.read_text() == u''


def test_persistent_backup(tools, tmp_path):
    conf = tmp_path / 'modules.conf'
    conf.write_text(u'ffs\n')
    r = kmod_run(tools, name='needy', persistent='present', modules_conf=str(conf), backup=True)
    assert r['changed'] is True
    with open(r['backup_file']) as f:
        assert f.read() == 'ffs\n'


def test_persistent_not_written_when_load_fails(tools, tmp_path):
    conf = tmp_path / 'modules.conf'
    tools.may_load = False
    r = kmod_run(tools, name='example', persistent='present', modules_conf=str(conf))
    assert r['failed'] is True
    assert not conf.exists()


@pytest.mark.parametrize('name', ['ex\\ample', 'example\\'])
def test_name_that_read_changes_is_refused(tools, tmp_path, name):
    # rc.d/modules' `read' would load `example' (or join the next line).
    conf = tmp_path / 'modules.conf'
    r = kmod_run(tools, name=name, persistent='present', modules_conf=str(conf))
    assert r['failed'] is True and 'backslash' in r['msg']
    assert tools.calls == [] and not conf.exists()


def test_persistent_keeps_mode(tools, tmp_path):
    conf = tmp_path / 'modules.conf'
    conf.write_text(u'ffs\n')
    conf.chmod(0o640)
    r = kmod_run(tools, name='needy', persistent='present', modules_conf=str(conf))
    assert r['changed'] is True
    assert conf.read_text() == u'ffs\nneedy\n'
    assert oct(conf.stat().st_mode & 0o777) == oct(0o640)


def test_persistent_concurrent_tasks_keep_every_line(tools, tmp_path, monkeypatch):
    # Eight tasks on one file at once, each in its own process as on a
    # host; the time between reading the file and renaming the new one
    # is made long, so that without the lock every task reads the same
    # text and all but one line are lost.
    conf = tmp_path / 'modules.conf'
    conf.write_text(u'# modules\n')
    conf.chmod(0o640)
    real = kmod.edit_modules_conf

    def slow(*a, **kw):
        time.sleep(0.2)
        return real(*a, **kw)

    monkeypatch.setattr(kmod, 'edit_modules_conf', slow)
    pids = []
    for i in range(8):
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                r = kmod_run(tools, name='m%d' % i, persistent='present', modules_conf=str(conf))
                code = 0 if r.get('changed') is True and not r.get('failed') else 2
            finally:
                os._exit(code)
        pids.append(pid)
    codes = [os.waitpid(pid, 0)[1] for pid in pids]
    assert codes == [0] * 8
    lines = conf.read_text().splitlines()
    assert lines[0] == '# modules'
    assert sorted(lines[1:]) == ['m%d' % i for i in range(8)]
    assert oct(conf.stat().st_mode & 0o777) == oct(0o640)
    # No temporary file is left; the lock file stays.
    assert sorted(os.listdir(str(tmp_path))) == sorted(
        ['.modules.conf.lock', 'modules.conf', 'modload', 'modstat', 'modunload'])


def test_persistent_refuses_value_rc_d_cannot_pass(tools, tmp_path):
    conf = tmp_path / 'modules.conf'
    r = kmod_run(tools, name='needy', persistent='present', modules_conf=str(conf),
                 params={'s': 'two  spaces'})
    assert r['failed'] is True and 'white space' in r['msg']


# ---------------------------------------------------------------------------
# kmod_info


def test_info_all_and_filtered(tools):
    r = run_module(kmod_info, {'bindir': tools.bindir})
    assert r['changed'] is False and r['schema'] == 1 and r['stat_abi'] == 'v2'
    assert [m['name'] for m in r['modules']] == sorted(tools.modules)
    r = run_module(kmod_info, {'bindir': tools.bindir, 'name': ['needy', 'ffs', 'nosuch']})
    assert [m['name'] for m in r['modules']] == ['ffs', 'needy']
    r = run_module(kmod_info, {'bindir': tools.bindir, 'names': ['hello']}, check=True)
    assert [m['name'] for m in r['modules']] == ['hello']
    assert tools.calls[-1][1:] == ['--json', '--', 'hello']


@pytest.mark.parametrize('name', ['-A', '-nffs'])
def test_info_names_starting_with_dash_are_operands(tools, name):
    # Not options of modstat: `modstat --json -A' is another query and
    # `-nffs' would ask for ffs.
    tools.modules['-nffs'] = _mod('-nffs')
    r = run_module(kmod_info, {'bindir': tools.bindir, 'name': [name]})
    assert r.get('failed') is not True, r
    assert [m['name'] for m in r['modules']] == ([name] if name == '-nffs' else [])
    assert tools.calls[-1][1:] == ['--json', '--', name]


def test_info_document_unchanged(tools):
    before = copy.deepcopy(tools.doc())
    r = run_module(kmod_info, {'bindir': tools.bindir})
    assert {'schema': r['schema'], 'stat_abi': r['stat_abi'], 'modules': r['modules']} == before
