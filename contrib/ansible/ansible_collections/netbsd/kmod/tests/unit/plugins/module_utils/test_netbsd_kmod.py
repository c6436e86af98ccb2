# -*- coding: utf-8 -*-
# SPDX-License-Identifier: BSD-2-Clause

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import stat
import subprocess

import pytest

from ansible_collections.netbsd.kmod.plugins.module_utils import netbsd_kmod as k


# A modstat --json document as the tools print it (abridged).
MODSTAT = {
    "modules": [
        {"address": "0xffffffff82000000", "auto_loaded": False, "class": "misc", "class_id": 1,
         "flags": 0, "must_force": False, "name": "example", "refcnt": 0, "required": [],
         "requires": "", "size": 66, "source": "filesys", "source_id": 2},
        {"address": "0x0", "auto_loaded": False, "class": "vfs", "class_id": 2, "flags": 0,
         "must_force": False, "name": "ffs", "refcnt": 1, "required": ["wapbl"],
         "requires": "wapbl", "size": 0, "source": "builtin", "source_id": 0},
        {"address": "0xffffffff82001000", "auto_loaded": True, "class": "misc", "class_id": 1,
         "flags": 2, "must_force": False, "name": "hello", "refcnt": 1, "required": [],
         "requires": "", "size": 81, "source": "filesys", "source_id": 2},
        {"address": "0x0", "auto_loaded": False, "class": "vfs", "class_id": 2, "flags": 0,
         "must_force": False, "name": "mfs", "refcnt": 0, "required": ["ffs"],
         "requires": "ffs", "size": 0, "source": "builtin", "source_id": 0},
        {"address": "0xffffffff82002000", "auto_loaded": False, "class": "misc", "class_id": 1,
         "flags": 0, "must_force": False, "name": "needy", "refcnt": 0, "required": ["hello"],
         "requires": "hello", "size": 47, "source": "filesys", "source_id": 2},
        {"address": "0x0", "auto_loaded": False, "class": "secmodel", "class_id": 5, "flags": 0,
         "must_force": False, "name": "secmodel_bsd44", "refcnt": 0,
         "required": ["suser", "securelevel", "extensions"],
         "requires": "suser,securelevel,extensions", "size": 0, "source": "builtin", "source_id": 0},
        {"address": "0x0", "auto_loaded": False, "class": "vfs", "class_id": 2, "flags": 0,
         "must_force": False, "name": "tmpfs", "refcnt": -1, "required": [], "requires": "",
         "size": 0, "source": "builtin", "source_id": 0},
        {"address": "0x0", "auto_loaded": False, "class": "vfs", "class_id": 2, "flags": 0,
         "must_force": False, "name": "wapbl", "refcnt": 1, "required": [], "requires": "",
         "size": 0, "source": "builtin", "source_id": 0},
        {"address": "0x0", "auto_loaded": False, "class": "misc", "class_id": 1, "flags": 0,
         "must_force": False, "name": "held", "refcnt": 2, "required": [], "requires": "",
         "size": 0, "source": "builtin", "source_id": 0},
    ],
    "schema": 1,
    "stat_abi": "v2",
}


def doc():
    return k.parse_modstat(json.dumps(MODSTAT))


# ---------------------------------------------------------------------------
# argv


def test_property_options_types_and_order():
    opts = k.property_options({'verbose': True, 'count': 3, 'greeting': 'hi there', 'off': False,
                               'neg': -5})
    assert opts == ['-i', 'count=3', '-s', 'greeting=hi there', '-i', 'neg=-5',
                    '-b', 'off=false', '-b', 'verbose=true']


def test_property_options_bool_is_not_int():
    assert k.property_options({'x': True}) == ['-b', 'x=true']
    assert k.property_options({'x': 1}) == ['-i', 'x=1']
    assert k.property_options({'x': '1'}) == ['-s', 'x=1']


def test_property_options_string_kept_verbatim():
    assert k.property_options({'s': 'a=b=c $HOME ~'}) == ['-s', 's=a=b=c $HOME ~']
    assert k.property_options({'s': ''}) == ['-s', 's=']


@pytest.mark.parametrize('params, words', [
    ({'x': 1.5}, 'float'),
    ({'x': [1]}, 'list'),
    ({'x': None}, 'NoneType'),
    ({'x': {'a': 1}}, 'dict'),
    ({'a=b': 1}, 'contains "="'),
    ({'': 1}, 'non-empty'),
    ({'x': 2 ** 63}, '64-bit'),
])
def test_property_options_refused(params, words):
    with pytest.raises(k.KmodError) as e:
        k.property_options(params)
    assert words in str(e.value)


def test_property_options_int_limits():
    assert k.property_options({'x': -(2 ** 63)}) == ['-i', 'x=%d' % -(2 ** 63)]
    assert k.property_options({'x': 2 ** 63 - 1}) == ['-i', 'x=%d' % (2 ** 63 - 1)]


def test_modload_argv():
    assert k.modload_argv('/sbin/modload', 'example') == ['/sbin/modload', 'example']
    assert k.modload_argv('/sbin/modload', 'example', {'v': True}, force=True, no_plist=True) == [
        '/sbin/modload', '-f', '-P', '-b', 'v=true', 'example']
    assert k.modload_argv('m', 'example', {'n': 2}, dry_run=True) == [
        'm', '-n', '--json', '-i', 'n=2', 'example']


def test_other_argv():
    assert k.modunload_argv('/sbin/modunload', 'hello') == ['/sbin/modunload', 'hello']
    assert k.modstat_argv('/sbin/modstat') == ['/sbin/modstat', '--json']
    assert k.modstat_argv('/sbin/modstat', 'ffs') == ['/sbin/modstat', '--json', '--', 'ffs']
    # A name that starts with "-" is an operand, not options.
    assert k.modstat_argv('/sbin/modstat', '-A') == ['/sbin/modstat', '--json', '--', '-A']


@pytest.mark.parametrize('name', ['', './x.kmod', '/stand/x', '-f', 'a b', 'a#b', 'x' * 32])
def test_check_name_refused(name):
    with pytest.raises(k.KmodError):
        k.check_name(name)


@pytest.mark.parametrize('name', ['ffs', 'x' * 31, 'compat_netbsd32', 'if_wg'])
def test_check_name_accepted(name):
    k.check_name(name)


@pytest.mark.parametrize('name, read_back', [('ex\\ample', 'example'), ('example\\', 'example'),
                                             ('\\\\x', '\\x')])
def test_check_name_refuses_what_read_changes(name, read_back):
    # rc.d/modules' `read name args` would give another name (or join the
    # next line): refused, saying what it would read.
    assert k.read_name_args(name)[0] == read_back
    with pytest.raises(k.KmodError) as e:
        k.check_name(name)
    assert 'backslash' in str(e.value) and repr(read_back) in str(e.value)


def test_check_name_refuses_nul():
    with pytest.raises(k.KmodError) as e:
        k.check_name('a\0b')
    assert 'NUL' in str(e.value)


# ---------------------------------------------------------------------------
# finding the tools


def _exe(path):
    with open(path, 'w') as f:
        f.write('#!/bin/sh\n')
    os.chmod(path, stat.S_IRWXU)
    return path


def test_find_tool_bindir(tmp_path):
    tool = _exe(str(tmp_path / 'modload'))
    assert k.find_tool('modload', str(tmp_path)) == tool
    with pytest.raises(k.KmodError) as e:
        k.find_tool('modstat', str(tmp_path))
    assert 'bindir' in str(e.value)


def test_find_tool_path_order(tmp_path):
    a = tmp_path / 'a'
    b = tmp_path / 'b'
    a.mkdir()
    b.mkdir()
    (a / 'modstat').write_text(u'not executable')
    want = _exe(str(b / 'modstat'))
    assert k.find_tool('modstat', path=os.pathsep.join([str(a), str(b)])) == want


def test_find_tool_missing(tmp_path):
    with pytest.raises(k.KmodError) as e:
        k.find_tool('no-such-tool-here', path=str(tmp_path))
    assert '/sbin' in str(e.value)


# ---------------------------------------------------------------------------
# modstat --json


def test_parse_modstat():
    d = doc()
    assert d['stat_abi'] == 'v2'
    assert len(d['modules']) == 9


@pytest.mark.parametrize('text', ['', 'NAME CLASS', '[]', '{"schema": 2, "modules": []}',
                                  '{"schema": 1}'])
def test_parse_modstat_refused(text):
    with pytest.raises(k.KmodError):
        k.parse_modstat(text)


def test_parse_modstat_v1_empty():
    d = k.parse_modstat('{"modules": [], "schema": 1, "stat_abi": "v1"}\n')
    assert d['modules'] == [] and d['stat_abi'] == 'v1'


def test_module_status():
    d = doc()
    assert k.module_status(d, 'example') == 'present'
    assert k.module_status(d, 'ffs') == 'present'          # active builtin
    assert k.module_status(d, 'tmpfs') == 'disabled'       # modunload'ed builtin
    assert k.module_status(d, 'nosuch') == 'absent'


def test_filter_modules():
    d = doc()
    assert [m['name'] for m in k.filter_modules(d, ['ffs', 'nosuch', 'example'])['modules']] == [
        'example', 'ffs']
    assert len(k.filter_modules(d, [])['modules']) == 9
    assert k.filter_modules(d, ['ffs'])['stat_abi'] == 'v2'
    assert len(d['modules']) == 9  # not changed


def test_required_by():
    d = doc()
    assert k.required_by(d, 'hello') == ['needy']
    assert k.required_by(d, 'ffs') == ['mfs']
    assert k.required_by(d, 'example') == []


def test_predict_unload():
    d = doc()
    assert k.predict_unload(d, 'nosuch') == {'action': 'none'}
    assert k.predict_unload(d, 'tmpfs') == {'action': 'none'}
    assert k.predict_unload(d, 'example') == {'action': 'unload'}
    assert k.predict_unload(d, 'mfs') == {'action': 'disable'}
    busy = k.predict_unload(d, 'hello')
    assert busy['action'] == 'fail'
    assert busy['error'] == 'modunload: hello: Device busy'
    assert busy['reason'] == 'modunload: hello: required by needy; unload it first'
    held = k.predict_unload(d, 'held')
    assert held['reason'] == 'modunload: held: held by 2 reference(s) from inside the kernel'
    sec = k.predict_unload(d, 'secmodel_bsd44')
    assert sec['error'] == 'modunload: secmodel_bsd44: Operation not permitted'
    assert 'security model' in sec['reason']
    perm = k.predict_unload(d, 'example', may_load=False,
                            may_load_answer='You are not allowed to load modules right now.')
    assert perm['error'] == 'modunload: example: Operation not permitted'
    assert 'not allowed' in perm['reason']
    # Permission comes first, as in the kernel; nothing to do needs none.
    assert k.predict_unload(d, 'hello', may_load=False)['error'].endswith('Operation not permitted')
    assert k.predict_unload(d, 'nosuch', may_load=False) == {'action': 'none'}


# ---------------------------------------------------------------------------
# modload -n --json


DRYRUN_REFUSED = {
    "error": {"errno": 75, "message": "Program version wrong", "name": "EPROGMISMATCH"},
    "file": "/stand/amd64/10.1/modules/old93/old93.kmod",
    "findings": [
        {"check": "Version", "errno": None, "fatal": False, "module": "old93", "reason": "a warning"},
        {"check": "Version",
         "errno": {"errno": 75, "message": "Program version wrong", "name": "EPROGMISMATCH"},
         "fatal": True, "module": "old93",
         "reason": "built for NetBSD 9.3 (903000000) but the kernel is NetBSD 10.1 (1001000000)"},
    ],
    "kernel": "NetBSD 10.1 (1001000000) amd64", "load_order": [], "module": None,
    "operand": "old93", "properties": None, "schema": 1, "would_load": False,
}


def test_parse_dryrun_and_failure_lines():
    d = k.parse_dryrun(json.dumps(DRYRUN_REFUSED))
    assert d['would_load'] is False
    assert k.dryrun_failure(d) == (
        'modload: Program version wrong',
        'modload: old93: built for NetBSD 9.3 (903000000) but the kernel is NetBSD 10.1 (1001000000)')


def test_parse_dryrun_empty_and_bad():
    assert k.parse_dryrun('') is None
    with pytest.raises(k.KmodError):
        k.parse_dryrun('{"schema": 1}')
    with pytest.raises(k.KmodError):
        k.parse_dryrun('module: x')


def test_dryrun_failure_without_findings():
    d = dict(DRYRUN_REFUSED, findings=[])
    assert k.dryrun_failure(d) == ('modload: Program version wrong', None)


def test_stderr_lines_and_msg():
    err = ('modload: Operation not permitted\n'
           'modload: example: kern.securelevel is 1; modules can be loaded and unloaded only at '
           'securelevel 0 or below\n')
    first, second = k.stderr_lines(err)
    assert first == 'modload: Operation not permitted'
    assert second.startswith('modload: example: kern.securelevel is 1')
    assert k.failure_msg(first, second) == err.rstrip('\n')
    assert k.stderr_lines('modload: File exists\n') == ('modload: File exists', None)
    assert k.stderr_lines('') == (None, None)
    assert k.failure_msg(None, None) == 'failed without a message'


# ---------------------------------------------------------------------------
# modules.conf: the shell's reading of a line


@pytest.mark.parametrize('text, words, comment', [
    ('', [], None),
    ('  -f   -P ', ['-f', '-P'], None),
    ("-s 'greeting=hi there'", ['-s', 'greeting=hi there'], None),
    ('-s "a=\\"q\\" \\$x"', ['-s', 'a="q" $x'], None),
    ('-s a=b\\ c', ['-s', 'a=b c'], None),
    ("-s x='it'\"'\"'s'", ['-s', "x=it's"], None),
    ('-b v=true # a comment', ['-b', 'v=true'], 10),
    ('-s color=#fff', ['-s', 'color=#fff'], None),
    ('# all comment', [], 0),
    ("-s ''", ['-s', ''], None),
])
def test_shell_words(text, words, comment):
    assert k.shell_words(text) == (words, comment)


@pytest.mark.parametrize('text', ["-s 'open", '-s "open'])
def test_shell_words_unterminated(text):
    with pytest.raises(k.KmodError):
        k.shell_words(text)


@pytest.mark.parametrize('text, name, args', [
    ('hello -b v=1', 'hello', '-b v=1'),
    ('  hello\t-b v=1  ', 'hello', '-b v=1'),
    ('hello', 'hello', ''),
    ('', '', ''),
    ('# hello', '#', 'hello'),
    ('#hello -f', '#hello', '-f'),
    ('he\\llo -s x=a\\\\b', 'hello', '-s x=a\\b'),
    ('hello -f \\\n -P', 'hello', '-f  -P'),
    ('my\\ mod -f', 'my mod', '-f'),
])
def test_read_name_args(text, name, args):
    assert k.read_name_args(text) == (name, args)


def test_line_words_collapse_white_space():
    # $args is split and eval joins the fields with one space.
    assert k.line_words("-s 'x=a   b'") == ['-s', 'x=a b']
    assert k.line_words("-s 'x=a\tb'") == ['-s', 'x=a b']


@pytest.mark.parametrize('word, written', [
    ('-f', '-f'),
    ('verbose=true', 'verbose=true'),
    ('greeting=hi there', "'greeting=hi there'"),
    ("x=it's", "'x=it'\"'\"'s'"),
    ('x=$HOME', "'x=$HOME'"),
    ('x=a\\b', "'x=a\\\\b'"),
    ('x=', 'x='),
    ('x=*', "'x=*'"),
])
def test_quote_word(word, written):
    assert k.quote_word(word) == written


@pytest.mark.parametrize('word', ['x=a  b', 'x=a\tb', 'x=a\nb'])
def test_quote_word_refuses_what_rc_d_would_change(word):
    with pytest.raises(k.KmodError):
        k.quote_word(word)


# ---------------------------------------------------------------------------
# modules.conf: comparing options


@pytest.mark.parametrize('a, b', [
    (['-b', 'v=true'], ['-b', 'v=yes']),
    (['-b', 'v=true'], ['-bv=TRUE']),
    (['-b', 'v=false'], ['-b', 'v=0']),
    (['-i', 'n=4096'], ['-i', 'n=4k']),
    (['-i', 'n=3'], ['-i', 'n=+3']),
    (['-f', '-P'], ['-fP']),
    (['-f', '-P'], ['-P', '-f', '--']),
    (['-s', 'a=1', '-b', 'v=true'], ['-b', 'v=true', '-s', 'a=1']),
    (['-s', 'a=2'], ['-s', 'a=1', '-s', 'a=2']),  # the last one wins
    ([], []),
])
def test_normalize_options_equal(a, b):
    assert k.normalize_options(a) == k.normalize_options(b)
    assert k.normalize_options(a) is not None


@pytest.mark.parametrize('a, b', [
    (['-s', 'v=true'], ['-b', 'v=true']),
    (['-i', 'n=1'], ['-s', 'n=1']),
    (['-f'], []),
    (['-P'], []),
    (['-b', 'v=true'], []),
])
def test_normalize_options_different(a, b):
    assert k.normalize_options(a) != k.normalize_options(b)


@pytest.mark.parametrize('words', [
    ['hello'], ['-n'], ['-p'], ['-x'], ['-b'], ['-b', 'novalue'], ['-b', 'v=maybe'],
    ['-i', 'n=ten'], ['-i', 'n=1t'], ['-i', 'n=%d' % 2 ** 63], ['-', '-f'], ['--', '-f'],
])
def test_normalize_options_not_load_options(words):
    assert k.normalize_options(words) is None


# ---------------------------------------------------------------------------
# modules.conf: editing


CONF = (
    '# $NetBSD$\n'
    '#\n'
    '# Modules loaded at boot by /etc/rc.d/modules.\n'
    '\n'
    'ffs\n'
    '   # indented comment\n'
    '#example -b verbose=true\n'
    'example -b verbose=yes   # keep quiet\n'
    'nfs -P\n'
    'example -b verbose=false\n'
)


def test_edit_append_to_empty_and_missing():
    assert k.edit_modules_conf('', 'example', 'present') == ('example\n', 'example')
    text, line = k.edit_modules_conf('', 'example', 'present', ['-i', 'n=3', '-s', 'g=hi there'])
    assert text == "example -i n=3 -s 'g=hi there'\n"
    assert line == "example -i n=3 -s 'g=hi there'"
    assert k.edit_modules_conf('', 'example', 'absent') == ('', None)


def test_edit_append_keeps_everything_else():
    text, line = k.edit_modules_conf(CONF, 'hello', 'present', ['-f'])
    assert text == CONF + 'hello -f\n'
    assert line == 'hello -f'


def test_edit_append_to_file_without_final_newline():
    text = k.edit_modules_conf('ffs\n# end', 'hello', 'present')[0]
    assert text == 'ffs\n# end\nhello\n'


def test_edit_equivalent_line_left_alone_and_duplicates_removed():
    text, line = k.edit_modules_conf(CONF, 'example', 'present', ['-b', 'verbose=true'])
    assert line == 'example -b verbose=yes   # keep quiet'
    assert text == CONF.replace('example -b verbose=false\n', '')


def test_edit_rewrites_line_keeping_comment():
    text, line = k.edit_modules_conf(CONF, 'example', 'present', ['-i', 'n=2'])
    assert line == 'example -i n=2  # keep quiet'
    assert text == CONF.replace('example -b verbose=yes   # keep quiet\n', line + '\n').replace(
        'example -b verbose=false\n', '')


def test_edit_idempotent():
    once = k.edit_modules_conf(CONF, 'example', 'present', ['-s', 'g=a b', '-f'])[0]
    twice = k.edit_modules_conf(once, 'example', 'present', ['-s', 'g=a b', '-f'])[0]
    assert once == twice
    gone = k.edit_modules_conf(once, 'example', 'absent')[0]
    assert k.edit_modules_conf(gone, 'example', 'absent') == (gone, None)


def test_edit_absent_removes_every_line_but_not_comments():
    text, line = k.edit_modules_conf(CONF, 'example', 'absent')
    assert line is None
    assert '#example -b verbose=true\n' in text
    assert 'example -b' not in text.replace('#example -b', '')
    assert text.count('\n') == CONF.count('\n') - 2


def test_edit_unchanged_file_is_byte_identical():
    text = k.edit_modules_conf(CONF, 'nfs', 'present', ['-P'])[0]
    assert text == CONF.replace('example -b verbose=false\n', '', 0)
    assert k.edit_modules_conf('nfs -P', 'nfs', 'present', ['-P']) == ('nfs -P', 'nfs -P')


def test_edit_continuation_lines():
    conf = 'example -f \\\n  -b v=true\nffs\n'
    assert k.modules_conf_entries(conf) == [('example', ['-f', '-b', 'v=true']), ('ffs', [])]
    assert k.edit_modules_conf(conf, 'example', 'present', ['-b', 'v=1', '-f'])[0] == conf
    assert k.edit_modules_conf(conf, 'example', 'absent')[0] == 'ffs\n'


def test_edit_unparsable_line_is_rewritten():
    text, line = k.edit_modules_conf("example -s 'open\n", 'example', 'present', [])
    assert (text, line) == ('example\n', 'example')


def test_edit_refuses_value_rc_d_cannot_pass():
    with pytest.raises(k.KmodError):
        k.edit_modules_conf('', 'example', 'present', ['-s', 'x=a\tb'])


def test_modules_conf_entries():
    assert k.modules_conf_entries(CONF) == [
        ('ffs', []),
        ('example', ['-b', 'verbose=yes']),
        ('nfs', ['-P']),
        ('example', ['-b', 'verbose=false']),
    ]


# ---------------------------------------------------------------------------
# modules.conf as /bin/sh reads it
#
# The loop below does what NetBSD's /etc/rc.d/modules does with each line
# (read name args; skip '' and '#*'; set -o noglob; eval set -- $args) and
# prints the arguments modload would get, NUL-separated, one line per module.

RC_LOOP = r'''
while read name args; do
    case $name in
    ''|"#"*) ;;
    *) ( set -o noglob; eval set -- $args; printf '%s\0' "$@" "$name"; printf '\n' ) ;;
    esac
done < "$1"
'''


def _sh_argvs(tmp_path, text):
    conf = tmp_path / 'modules.conf'
    conf.write_bytes(text.encode('utf-8'))
    out = subprocess.check_output(['/bin/sh', '-c', RC_LOOP, 'sh', str(conf)]).decode('utf-8')
    result = []
    for ln in out.split('\n')[:-1]:
        words = ln.split('\0')[:-1]
        result.append((words[-1], words[:-1]))
    return result


@pytest.mark.skipif(not os.path.exists('/bin/sh'), reason='needs /bin/sh')
@pytest.mark.parametrize('params', [
    {},
    {'verbose': True, 'count': -4},
    {'greeting': 'hello world'},
    {'q': "it's \"quoted\""},
    {'expand': '$HOME `id` $(id) ~ *'},
    {'back': 'a\\b\\\\c\\'},
    {'hash': '#not a comment', 'eq': 'a=b=c', 'empty': ''},
    {'semi': 'a; echo b | c & d'},
])
def test_written_lines_are_what_rc_d_passes(tmp_path, params):
    opts = k.modload_options(params, force=True, no_plist=bool(params))
    text = k.edit_modules_conf(CONF, 'mine', 'present', opts)[0]
    got = _sh_argvs(tmp_path, text)
    assert ('mine', opts) in got
    # What this module reads is what the shell reads, for every line.
    assert got == k.modules_conf_entries(text)


@pytest.mark.skipif(not os.path.exists('/bin/sh'), reason='needs /bin/sh')
def test_reading_matches_the_shell(tmp_path):
    text = CONF + ("odd -s 'x=a   b' -s y=\"q\\\\\"r\" \\\n  -i n=1 # trailing\n"
                   "   indented -f\n"
                   "back\\slash -s 'z=\\\\'\n")
    assert _sh_argvs(tmp_path, text) == k.modules_conf_entries(text)
