# -*- coding: utf-8 -*-
# SPDX-License-Identifier: BSD-2-Clause
"""Shared logic of netbsd.kmod.kmod and netbsd.kmod.kmod_info.

Nothing here talks to a kernel: the modules run modload(8), modunload(8)
and modstat(8) and this file builds their argument vectors, reads their
JSON documents and edits /etc/modules.conf.  Everything in it is plain
Python so that the unit tests can exercise it without Ansible running.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re

try:
    from shlex import quote as _sh_quote
except ImportError:  # pragma: no cover - Python 2 is not supported, kept for the linters
    from pipes import quote as _sh_quote

TOOLS = ('modload', 'modunload', 'modstat')

# The directories searched after PATH when no bindir is given.
SBIN_DIRS = ('/sbin', '/usr/sbin')

MODULES_CONF = '/etc/modules.conf'

# NetBSD's MAXMODNAME is 32 including the NUL.
MAX_NAME = 31


class KmodError(Exception):
    """A request that cannot be carried out, with the message for msg."""


# ---------------------------------------------------------------------------
# Finding the tools


def _is_exe(path):
    return os.path.isfile(path) and os.access(path, os.X_OK)


def find_tool(name, bindir=None, path=None):
    """The path of tool `name`.

    With `bindir`, only that directory is used.  Otherwise the directories of
    `path` (the PATH environment variable when None) are searched, then
    /sbin and /usr/sbin.  Raises KmodError when it is not found.
    """
    if bindir:
        candidate = os.path.join(bindir, name)
        if _is_exe(candidate):
            return candidate
        raise KmodError('%s: no executable %s in bindir %s' % (name, name, bindir))
    if path is None:
        path = os.environ.get('PATH', '')
    dirs = [d for d in path.split(os.pathsep) if d]
    for d in SBIN_DIRS:
        if d not in dirs:
            dirs.append(d)
    for d in dirs:
        candidate = os.path.join(d, name)
        if _is_exe(candidate):
            return candidate
    raise KmodError('%s: not found in PATH, %s (set bindir to the directory of the tools)'
                    % (name, ', '.join(SBIN_DIRS)))


# ---------------------------------------------------------------------------
# Module names and properties


def check_name(name):
    """Raise KmodError unless `name` is a module name the tools take as one."""
    if not name:
        raise KmodError('name must not be empty')
    if '/' in name:
        raise KmodError('name must be a module name as modstat shows it, not a path: %s' % name)
    if name.startswith('-'):
        raise KmodError('name must not begin with "-": %s' % name)
    if any(c.isspace() for c in name) or '#' in name:
        raise KmodError('name must not contain white space or "#": %r' % name)
    # rc.d/modules reads modules.conf with `read name args` (no -r): a
    # backslash quotes the next character and goes, and one at the end
    # joins the next line, so the name read back would not be this one.
    if '\\' in name:
        raise KmodError('name must not contain a backslash: /etc/rc.d/modules reads '
                        'modules.conf with `read`, which removes it (%r would be read '
                        'back as %r)' % (name, read_name_args(name)[0]))
    if '\0' in name:
        raise KmodError('name must not contain a NUL character: %r' % name)
    if len(name.encode('utf-8')) > MAX_NAME:
        raise KmodError('module names are at most %d bytes; %s has %d'
                        % (MAX_NAME, name, len(name.encode('utf-8'))))


def property_options(params):
    """modload's -b/-i/-s options for the typed dict `params`, sorted by name.

    A bool becomes `-b name=true|false`, an int `-i name=N` and a str
    `-s name=str`.  Anything else (float, list, dict, None) is refused:
    modload has no option for it.
    """
    opts = []
    for key in sorted(params or {}):
        value = params[key]
        if not isinstance(key, str) or not key:
            raise KmodError('params: property names must be non-empty strings: %r' % (key,))
        if '=' in key:
            raise KmodError('params: property name %r contains "=", which modload '
                            'takes as the end of the name' % key)
        # bool first: True is an int in Python.
        if isinstance(value, bool):
            opts.extend(['-b', '%s=%s' % (key, 'true' if value else 'false')])
        elif isinstance(value, int):
            if not -(2 ** 63) <= value < 2 ** 63:
                raise KmodError('params: %s=%d does not fit in a signed 64-bit integer' % (key, value))
            opts.extend(['-i', '%s=%d' % (key, value)])
        elif isinstance(value, str):
            opts.extend(['-s', '%s=%s' % (key, value)])
        else:
            raise KmodError('params: %s has a value of type %s; only booleans (-b), integers (-i) '
                            'and strings (-s) can be passed to a module'
                            % (key, type(value).__name__))
    return opts


def modload_options(params=None, force=False, no_plist=False):
    """The modload options of a load, without the program and the operand."""
    opts = []
    if force:
        opts.append('-f')
    if no_plist:
        opts.append('-P')
    return opts + property_options(params)


def modload_argv(modload, name, params=None, force=False, no_plist=False, dry_run=False):
    """The argument vector of `modload [-n --json] options name`."""
    argv = [modload]
    if dry_run:
        argv.extend(['-n', '--json'])
    argv.extend(modload_options(params, force, no_plist))
    argv.append(name)
    return argv


def modunload_argv(modunload, name):
    return [modunload, name]


def modstat_argv(modstat, name=None):
    argv = [modstat, '--json']
    if name is not None:
        # After `--`, as getopt(3) takes it: a name starting with "-" is
        # an operand, not options.
        argv.extend(['--', name])
    return argv


# ---------------------------------------------------------------------------
# modstat --json and modload -n --json


def parse_modstat(text):
    """The `modstat --json` document (schema 1) as a dict."""
    try:
        doc = json.loads(text)
    except ValueError as e:
        raise KmodError('modstat --json printed no JSON document: %s' % e)
    if not isinstance(doc, dict) or doc.get('schema') != 1 or not isinstance(doc.get('modules'), list):
        raise KmodError('modstat --json printed a document of an unknown format (schema %r)'
                        % (doc.get('schema') if isinstance(doc, dict) else None))
    return doc


def parse_dryrun(text):
    """The `modload -n --json` report (schema 1) as a dict, or None if there is none."""
    if not text.strip():
        return None
    try:
        doc = json.loads(text)
    except ValueError as e:
        raise KmodError('modload -n --json printed no JSON document: %s' % e)
    if not isinstance(doc, dict) or doc.get('schema') != 1 or 'would_load' not in doc:
        raise KmodError('modload -n --json printed a document of an unknown format')
    return doc


def filter_modules(doc, names):
    """A copy of the modstat document with only the modules named in `names`
    (all of them when `names` is empty), in the document's order."""
    out = dict(doc)
    if names:
        wanted = set(names)
        out['modules'] = [m for m in doc['modules'] if m.get('name') in wanted]
    else:
        out['modules'] = list(doc['modules'])
    return out


def find_module(doc, name):
    for m in doc['modules']:
        if m.get('name') == name:
            return m
    return None


def is_disabled_builtin(entry):
    """A builtin module disabled by modunload: modstat shows it with REFS -1."""
    return entry.get('source') == 'builtin' and entry.get('refcnt', 0) < 0


def module_status(doc, name):
    """'present', 'absent' or 'disabled' (a builtin disabled by modunload)."""
    entry = find_module(doc, name)
    if entry is None:
        return 'absent'
    if is_disabled_builtin(entry):
        return 'disabled'
    return 'present'


def required_by(doc, name):
    """The names of the listed modules that require `name`, sorted."""
    return sorted(m['name'] for m in doc['modules']
                  if name in (m.get('required') or []) and not is_disabled_builtin(m))


def dryrun_failure(doc):
    """(error line, reason line) for a dry run that says the load would fail.

    The lines are those a real load prints: modload's first stderr line is
    the system error message and the second names the operand and gives
    the reason of the first fatal finding.
    """
    err = doc.get('error') or {}
    message = err.get('message') or 'the kernel would refuse it'
    line1 = 'modload: %s' % message
    reason = None
    for f in doc.get('findings') or []:
        if f.get('fatal'):
            reason = f.get('reason')
            break
    line2 = 'modload: %s: %s' % (doc.get('operand'), reason) if reason else None
    return line1, line2


def predict_unload(doc, name, may_load=True, may_load_answer=None):
    """What `modunload name` would do, from the modstat document.

    Returns a dict: action ('none', 'unload', 'disable' or 'fail') and,
    for 'fail', error and reason, the two lines modunload would print.  The
    checks follow the kernel's order: permission, existence, references,
    builtin security models.  A module whose own finalisation refuses cannot
    be predicted.
    """
    entry = find_module(doc, name)
    if entry is None or is_disabled_builtin(entry):
        return {'action': 'none'}
    if not may_load:
        answer = may_load_answer or 'you are not allowed to unload modules right now'
        return {
            'action': 'fail',
            'error': 'modunload: %s: Operation not permitted' % name,
            'reason': 'modunload: %s: %s (modstat -e)' % (name, answer),
        }
    refcnt = entry.get('refcnt', 0)
    if refcnt > 0:
        users = required_by(doc, name)
        if users:
            why = 'required by %s; unload %s first' % (', '.join(users), 'it' if len(users) == 1 else 'them')
        else:
            why = 'held by %d reference(s) from inside the kernel' % refcnt
        return {
            'action': 'fail',
            'error': 'modunload: %s: Device busy' % name,
            'reason': 'modunload: %s: %s' % (name, why),
        }
    if entry.get('source') == 'builtin' and entry.get('class') == 'secmodel':
        return {
            'action': 'fail',
            'error': 'modunload: %s: Operation not permitted' % name,
            'reason': "modunload: %s: `%s' is a security model built into the kernel and cannot be unloaded"
                      % (name, name),
        }
    if entry.get('source') == 'builtin':
        return {'action': 'disable'}
    return {'action': 'unload'}


def stderr_lines(stderr):
    """(first line, second line or None) of a tool's standard error."""
    lines = [ln for ln in (stderr or '').splitlines() if ln.strip()]
    first = lines[0] if lines else None
    second = lines[1] if len(lines) > 1 else None
    return first, second


def failure_msg(error, reason, extra=None):
    """msg of a failed task: NetBSD's error line, then the reason line."""
    parts = [p for p in (error, reason, extra) if p]
    return '\n'.join(parts) if parts else 'failed without a message'


# ---------------------------------------------------------------------------
# /etc/modules.conf
#
# NetBSD's /etc/rc.d/modules (src/etc/rc.d/modules revision 1.2,
# 2015/04/06) reads the file with
#     while read name args; do case $name in ''|"#"*) ;; *) ... esac
# and, for each other line, runs in a subshell
#     set -o noglob; eval set -- $args; modload "$@" "$name"
# So a line is `name [modload options]` and the options are given to
# modload before the name.  Three layers of the shell handle a line:
#   1. `read` (without -r): a backslash-newline joins the next line, any
#      other backslash quotes the next character and is removed; the first
#      field is the name, the rest (trimmed) is args;
#   2. the unquoted $args is split at white space and `eval` joins the
#      fields with single spaces (runs of white space inside quotes shrink
#      to one space, a tab becomes a space);
#   3. `eval` parses the result as shell words: quotes, backslashes, and a
#      word starting with '#' begins a comment.
# A line whose name is empty or starts with '#' is skipped.

IFS_WS = ' \t\n'


def read_name_args(text):
    """(name, args) as `read name args` sets them from the logical line `text`."""
    chars = []  # (character, quoted by a backslash)
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c == '\\':
            if i + 1 < n:
                if text[i + 1] != '\n':
                    chars.append((text[i + 1], True))
                i += 2
            else:
                i += 1
            continue
        chars.append((c, False))
        i += 1

    def is_ws(k):
        return not chars[k][1] and chars[k][0] in IFS_WS

    k = 0
    while k < len(chars) and is_ws(k):
        k += 1
    start = k
    while k < len(chars) and not is_ws(k):
        k += 1
    name = ''.join(ch[0] for ch in chars[start:k])
    while k < len(chars) and is_ws(k):
        k += 1
    end = len(chars)
    while end > k and is_ws(end - 1):
        end -= 1
    args = ''.join(ch[0] for ch in chars[k:end])
    return name, args


def shell_words(text):
    """Split `text` into words as `eval set -- text` would, without expansions.

    Returns (words, comment) where comment is the offset of a '#' that
    starts a comment, or None.  Single and double quotes and backslashes
    are honoured; an unterminated quote raises KmodError.  Parameter,
    command and arithmetic expansions are not performed (a word keeps its
    '$' as written): lines written by this module never need them.
    """
    words = []
    i = 0
    n = len(text)
    while True:
        while i < n and text[i] in IFS_WS:
            i += 1
        if i >= n:
            return words, None
        if text[i] == '#':
            return words, i
        word = []
        while i < n and text[i] not in IFS_WS:
            c = text[i]
            if c == "'":
                j = text.find("'", i + 1)
                if j < 0:
                    raise KmodError('unterminated single quote')
                word.append(text[i + 1:j])
                i = j + 1
            elif c == '"':
                i += 1
                while True:
                    if i >= n:
                        raise KmodError('unterminated double quote')
                    c = text[i]
                    if c == '"':
                        i += 1
                        break
                    if c == '\\' and i + 1 < n and text[i + 1] in '$`"\\\n':
                        if text[i + 1] != '\n':
                            word.append(text[i + 1])
                        i += 2
                        continue
                    word.append(c)
                    i += 1
            elif c == '\\':
                if i + 1 < n and text[i + 1] != '\n':
                    word.append(text[i + 1])
                i += 2
            else:
                word.append(c)
                i += 1
        words.append(''.join(word))


def line_words(args):
    """The modload options rc.d/modules passes for the `args` that `read` set."""
    return shell_words(' '.join(args.split()))[0]


_SAFE_WORD = re.compile(r'^[A-Za-z0-9_@%+=:,./-]+$')


def quote_word(word):
    """`word` written so that rc.d/modules hands it to modload unchanged.

    It is quoted for `eval` (bare when it needs no quotes) and then its
    backslashes are doubled for `read`.  A word that rc.d cannot pass on
    unchanged (a tab, a newline or a run of spaces, which step 2 above
    changes) raises KmodError.
    """
    if '\t' in word or '\n' in word or '\r' in word or '  ' in word:
        raise KmodError('%r cannot be written to modules.conf: /etc/rc.d/modules splits its '
                        'lines at white space and would pass a different value' % word)
    if not _SAFE_WORD.match(word):
        word = _sh_quote(word)
    return word.replace('\\', '\\\\')


def render_line(name, options):
    """The modules.conf line for module `name` loaded with `options`."""
    return ' '.join([name] + [quote_word(w) for w in options])


_INT_RE = re.compile(r'^\s*([+-]?[0-9]+)([bBkKmMgG]?)$')
_INT_MUL = {'': 1, 'b': 1, 'k': 1024, 'm': 1024 ** 2, 'g': 1024 ** 3}


def _parse_bool(value):
    v = value.lower()
    if v in ('true', 'yes', '1'):
        return True
    if v in ('false', 'no', '0'):
        return False
    return None


def _parse_int(value):
    m = _INT_RE.match(value)
    if not m:
        return None
    n = int(m.group(1)) * _INT_MUL[m.group(2).lower()]
    if not -(2 ** 63) <= n < 2 ** 63:
        return None
    return n


def normalize_options(words):
    """What a list of modload options asks for, as (force, no_plist, props).

    props maps each property name to (kind, value), kind being 'b', 'i' or
    's' and the value as modload reads it; the last option for a name wins,
    as with modload.  Returns None for a list that is not only load options
    (an operand, an unknown option, -n, -p, a bad value): such a line never
    equals one this module writes.
    """
    force = no_plist = False
    props = {}
    i = 0
    while i < len(words):
        w = words[i]
        if w == '--':
            if i + 1 != len(words):
                return None
            break
        if w == '--json':
            i += 1
            continue
        if not w.startswith('-') or w == '-':
            return None
        j = 1
        while j < len(w):
            c = w[j]
            if c == 'f':
                force = True
            elif c == 'P':
                no_plist = True
            elif c in 'bis':
                arg = w[j + 1:]
                if not arg:
                    i += 1
                    if i >= len(words):
                        return None
                    arg = words[i]
                if '=' not in arg:
                    return None
                key, value = arg.split('=', 1)
                if c == 'b':
                    parsed = _parse_bool(value)
                elif c == 'i':
                    parsed = _parse_int(value)
                else:
                    parsed = value
                if parsed is None:
                    return None
                props[key] = (c, parsed)
                break
            else:
                return None
            j += 1
        i += 1
    return force, no_plist, props


class ConfLine(object):
    """One logical line of modules.conf (physical lines joined by backslash-newline)."""

    def __init__(self, text):
        self.text = text  # without its final newline
        self._fields = None

    def _read(self):
        if self._fields is None:
            self._fields = read_name_args(self.text)
        return self._fields

    @property
    def name(self):
        """The module name rc.d/modules loads from it, or None for a comment or blank line."""
        name = self._read()[0]
        if not name or name.startswith('#'):
            return None
        return name

    @property
    def args(self):
        return self._read()[1]

    def options(self):
        """The options rc.d/modules passes to modload for this line."""
        return line_words(self.args)


def split_conf(text):
    """(logical lines of a modules.conf text, whether it ends with a newline)."""
    lines = []
    pending = None
    raw = text.split('\n')
    ends_nl = text.endswith('\n')
    if ends_nl or text == '':
        raw = raw[:-1]
    for ln in raw:
        joined = ln if pending is None else pending + '\n' + ln
        trailing = len(joined) - len(joined.rstrip('\\'))
        if trailing % 2 == 1:
            pending = joined
            continue
        pending = None
        lines.append(ConfLine(joined))
    if pending is not None:
        lines.append(ConfLine(pending))
    return lines, ends_nl


def join_conf(lines, ends_nl=True):
    if not lines:
        return ''
    text = '\n'.join(ln.text for ln in lines)
    return text + '\n' if ends_nl else text


def line_matches(line, options):
    """Whether an existing line already makes rc.d/modules pass `options`."""
    try:
        have = normalize_options(line.options())
    except KmodError:
        return False
    return have is not None and have == normalize_options(list(options))


def _inline_comment(line):
    """The inline comment of a line ('# ...'), or None."""
    text = line.text
    fields = text.split(None, 1)
    if len(fields) < 2:
        return None
    rest = fields[1]
    try:
        at = shell_words(rest)[1]
    except KmodError:
        return None
    return rest[at:] if at is not None else None


def edit_modules_conf(text, name, state, options=()):
    """The modules.conf text with the line of module `name` made to match.

    state 'present': the first line for `name` is kept when it already
    makes rc.d/modules pass `options`, and rewritten (keeping an inline
    comment) when not; a missing line is appended; later lines for the
    same module are removed, since rc.d would load the module again and
    fail.  state 'absent': every line for `name` is removed.  Comments,
    blank lines and the lines of other modules are kept as they are.
    Returns (new text, the module's line after the edit or None).
    """
    options = list(options)
    lines, ends_nl = split_conf(text)
    out = []
    kept = None
    for ln in lines:
        if ln.name != name:
            out.append(ln)
            continue
        if state == 'absent' or kept is not None:
            continue
        if line_matches(ln, options):
            kept = ln
        else:
            new = render_line(name, options)
            comment = _inline_comment(ln)
            if comment:
                new = new + '  ' + comment
            kept = ConfLine(new)
        out.append(kept)
    if state == 'present' and kept is None:
        kept = ConfLine(render_line(name, options))
        out.append(kept)
        ends_nl = True
    return join_conf(out, ends_nl), (kept.text if kept is not None else None)


def modules_conf_entries(text):
    """[(name, [modload options])] in file order, as rc.d/modules would run them."""
    result = []
    for ln in split_conf(text)[0]:
        if ln.name is not None:
            result.append((ln.name, ln.options()))
    return result
