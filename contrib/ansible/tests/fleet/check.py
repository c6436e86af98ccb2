#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Checks of the fleet run (run.sh).

usage: check.py sums WORK_DIR NAME   record the checksums of every host's
                                     kernel state and modules.conf
       check.py verify WORK_DIR      check everything; prints one line per
                                     failed check and a closing
                                     `fleet: N passed, M failed' line;
                                     exits 1 when a check failed

WORK_DIR is the directory mkfleet.py laid out; run.sh leaves there the
results of each phase (results-<phase>.json, written by the playbooks)
and Ansible's output (<phase>.log).
"""

import hashlib
import json
import os
import re
import sys

from mkfleet import MODULES_CONF

SECURELEVEL_REASON = 'kern.securelevel is 1; modules can be loaded and unloaded only at securelevel 0 or below'


class Checks(object):
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, ok, what):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            print('FAIL %s' % what)
        return ok

    def eq(self, got, want, what):
        return self.check(got == want, '%s: got %r, want %r' % (what, got, want))


def hosts(work):
    """{name: {'release', 'securelevel', 'dir'}} from the inventory."""
    out = {}
    with open(os.path.join(work, 'inventory.ini')) as f:
        for line in f:
            if not line.startswith('h') or 'ansible_connection' not in line:
                continue
            words = line.split()
            kv = dict(w.split('=', 1) for w in words[1:])
            out[words[0]] = {'release': kv['release'], 'securelevel': int(kv['securelevel']),
                             'dir': kv['host_dir']}
    return out


def sums(work, name):
    result = {}
    for host, h in sorted(hosts(work).items()):
        files = {}
        kernel = os.path.join(h['dir'], 'kernel')
        for root, dirs, names in os.walk(kernel):
            dirs.sort()
            for n in sorted(names):
                p = os.path.join(root, n)
                with open(p, 'rb') as f:
                    files[os.path.relpath(p, h['dir'])] = hashlib.sha256(f.read()).hexdigest()
        conf = os.path.join(h['dir'], 'etc/modules.conf')
        with open(conf, 'rb') as f:
            files['etc/modules.conf'] = hashlib.sha256(f.read()).hexdigest()
        result[host] = files
    with open(os.path.join(work, 'sums-%s.json' % name), 'w') as f:
        json.dump(result, f, indent=1, sort_keys=True)


def load(work, name):
    with open(os.path.join(work, name)) as f:
        return json.load(f)


def recap(work, phase):
    """{host: {'ok': n, 'changed': n, 'failed': n, ...}} from the PLAY RECAP of <phase>.log."""
    out = {}
    with open(os.path.join(work, phase + '.log')) as f:
        text = f.read()
    part = text.split('PLAY RECAP', 1)[-1]
    for m in re.finditer(r'^(\S+)\s+:\s+(.*)$', part, re.M):
        out[m.group(1)] = dict((k, int(v)) for k, v in re.findall(r'(\w+)=(\d+)', m.group(2)))
    return out, text


def mods(info):
    return dict((m['name'], m) for m in info['modules'])


def conf_text(h):
    with open(os.path.join(h['dir'], 'etc/modules.conf')) as f:
        return f.read()


def verify(work):
    c = Checks()
    hs = hosts(work)
    c.check(len(hs) >= 20, 'at least 20 hosts, got %d' % len(hs))
    c.check(set(h['release'] for h in hs.values()) == {'10.1', '9.3', '7.99.34'}, 'releases mixed')
    c.check(any(h['securelevel'] for h in hs.values()), 'a host at securelevel 1')

    s = dict((n, load(work, 'sums-%s.json' % n))
             for n in ('boot', 'check', 'apply', 'again', 'remove-check', 'remove', 'finish'))
    for host in hs:
        c.eq(s['check'][host], s['boot'][host], '%s: check mode of site.yml changed nothing' % host)
        c.eq(s['again'][host], s['apply'][host], '%s: the second run of site.yml changed nothing' % host)
        c.eq(s['remove-check'][host], s['again'][host], '%s: check mode of remove.yml changed nothing' % host)
        c.eq(s['remove'][host]['etc/modules.conf'], s['boot'][host]['etc/modules.conf'],
             '%s: modules.conf back as it was after remove.yml' % host)
        if hs[host]['securelevel']:
            c.eq(s['finish'][host], s['boot'][host], '%s (securelevel 1): kernel never changed' % host)
        else:
            c.check(s['apply'][host] != s['boot'][host], '%s: site.yml changed the kernel' % host)

    r = dict((n, load(work, 'results-%s.json' % n))
             for n in ('check', 'apply', 'again', 'remove-check', 'remove', 'finish'))
    logs = dict((n, recap(work, n)) for n in r)
    for host, h in sorted(hs.items()):
        locked = h['securelevel'] > 0
        abi = 'v1' if h['release'] == '7.99.34' else 'v2'
        conf0 = MODULES_CONF.format(host=host)
        line_example = "example -i count=3 -s 'greeting=hello %s' -b verbose=true" % host
        chk, app, again = r['check'][host], r['apply'][host], r['again'][host]

        # site.yml in check mode: predictions, nothing loaded
        for task in ('example', 'needy'):
            res = chk[task]
            if locked:
                c.check(res.get('failed') is True, '%s: check mode %s fails' % (host, task))
                c.eq(res.get('msg'), 'modload: Operation not permitted\nmodload: %s: %s' % (task, SECURELEVEL_REASON),
                     '%s: check mode %s msg' % (host, task))
            else:
                c.check(res.get('changed') is True and not res.get('failed'), '%s: check mode %s changed' % (host, task))
                c.eq(res.get('action'), 'load', '%s: check mode %s action' % (host, task))
                c.eq(res.get('predicted'), True, '%s: check mode %s predicted' % (host, task))
                c.check(res.get('dry_run', {}).get('would_load') is True, '%s: %s dry run would load' % (host, task))
        if not locked:
            c.eq(chk['example'].get('diff', {}).get('after'), conf0 + line_example + '\n',
                 '%s: check mode diff of modules.conf' % host)
            c.eq([o['name'] for o in chk['needy']['dry_run']['load_order']], ['hello', 'needy'],
                 '%s: dry run load order of needy' % host)
        c.eq(chk['tmpfs'].get('changed'), False, '%s: check mode tmpfs unchanged' % host)
        c.eq(chk['tmpfs'].get('status_before'), 'present', '%s: the active builtin tmpfs is present' % host)

        # site.yml for real: what check mode said
        for task in ('example', 'needy', 'tmpfs'):
            for key in ('changed', 'failed', 'msg', 'action'):
                c.eq(app[task].get(key), chk[task].get(key), '%s: %s %s as predicted' % (host, task, key))
        c.eq(app['info']['stat_abi'], abi, '%s: stat ABI' % host)
        m = mods(app['info'])
        if locked:
            c.eq(sorted(m), ['tmpfs'], '%s: nothing loaded at securelevel 1' % host)
            c.eq(conf_text(h), conf0, '%s: modules.conf untouched when the load failed' % host)
        else:
            c.eq(sorted(m), ['example', 'hello', 'needy', 'tmpfs'], '%s: modules loaded' % host)
            c.eq((m['hello']['auto_loaded'], m['hello']['refcnt']), (True, 1), '%s: hello loaded for needy' % host)
            c.eq(m['example']['source'], 'filesys', '%s: example from the file system' % host)
            c.eq(app['needy'].get('persistent_line'), 'needy', '%s: needy line' % host)
            c.eq(app['example'].get('persistent_line'), line_example, '%s: example line' % host)

        # site.yml again: nothing changes
        for task in ('example', 'needy', 'tmpfs'):
            c.eq(again[task].get('changed'), False, '%s: second run %s unchanged' % (host, task))
            c.eq(bool(again[task].get('failed')), locked and task != 'tmpfs',
                 '%s: second run %s failed only for loads at securelevel 1' % (host, task))
        c.eq(logs['again'][0].get(host, {}).get('changed'), 0, '%s: second run recap changed=0' % host)

        # failures name the host and carry the reason
        if locked:
            text = logs['apply'][1]
            c.check(re.search(r'^fatal: \[%s\]: FAILED! => .*%s' % (host, re.escape(SECURELEVEL_REASON)), text, re.M)
                    is not None, '%s: the failure in the log names the host and the reason' % host)

        # remove.yml in check mode, then for real
        rc, rr = r['remove-check'][host], r['remove'][host]
        if locked:
            want = {'hello': (False, False, 'none'), 'needy': (False, False, 'none'),
                    'example': (False, False, 'none'), 'tmpfs': (False, True, None)}
        else:
            want = {'hello': (False, True, None), 'needy': (True, False, 'unload'),
                    'example': (True, False, 'unload'), 'tmpfs': (True, False, 'disable')}
        for task, (changed, failed, action) in sorted(want.items()):
            for phase, res in (('check mode', rc[task]), ('real', rr[task])):
                c.eq((bool(res.get('changed')), bool(res.get('failed'))), (changed, failed),
                     '%s: remove %s %s changed/failed' % (host, phase, task))
                if action:
                    c.eq(res.get('action'), action, '%s: remove %s %s action' % (host, phase, task))
            c.eq(rr[task].get('error'), rc[task].get('error'), '%s: remove %s error line as predicted' % (host, task))
        if locked:
            c.eq(rr['tmpfs'].get('msg'), 'modunload: tmpfs: Operation not permitted\nmodunload: tmpfs: %s'
                 % SECURELEVEL_REASON, '%s: unload at securelevel 1' % host)
            c.check('not allowed' in (rc['tmpfs'].get('reason') or ''), '%s: predicted EPERM reason' % host)
        else:
            busy = 'modunload: hello: Device busy\nmodunload: hello: required by needy; unload it first'
            c.eq(rc['hello'].get('msg'), busy, '%s: predicted EBUSY' % host)
            c.eq(rr['hello'].get('msg'), busy, '%s: EBUSY' % host)
        c.eq(conf_text(h), conf0, '%s: modules.conf as it was' % host)

        # finish.yml: a disabled builtin needs force; hello can go now
        fin = r['finish'][host]
        m = mods(fin['info'])
        c.eq(sorted(m), ['tmpfs'], '%s: only tmpfs left' % host)
        c.eq(m['tmpfs']['refcnt'], 0, '%s: tmpfs active' % host)
        if locked:
            for task in ('noforce', 'force', 'hello'):
                c.eq((bool(fin[task].get('changed')), bool(fin[task].get('failed'))), (False, False),
                     '%s: finish %s nothing to do' % (host, task))
        else:
            c.check(fin['noforce'].get('failed') is True, '%s: disabled builtin without force fails' % host)
            c.eq(fin['noforce'].get('msg', '').split('\n'), [
                'modload: Operation not permitted',
                "modload: tmpfs: builtin module `tmpfs' was disabled by modunload; use modload -f to reinstate it",
                "builtin module `tmpfs' was disabled by modunload; set force: true to reinstate it"],
                '%s: the failure says to set force' % host)
            c.eq((fin['force'].get('changed'), fin['force'].get('action')), (True, 'reinstate'),
                 '%s: force reinstates' % host)
            c.eq((fin['hello'].get('changed'), fin['hello'].get('action')), (True, 'unload'),
                 '%s: hello unloaded' % host)

    # concurrent.yml: eight tasks on one modules.conf at once
    conc = load(work, 'results-concurrent.json')
    want = ['cd9660', 'coredump', 'ffs', 'kernfs', 'msdos', 'nfs', 'null', 'procfs']
    c.eq(len(conc), 8, 'concurrent: eight tasks ran')
    for name, res in sorted(conc.items()):
        c.eq((res.get('changed'), bool(res.get('failed'))), (True, False),
             'concurrent %s: changed, not failed (%s)' % (name, res.get('msg')))
    conf = os.path.join(work, 'concurrent', 'modules.conf')
    with open(conf) as f:
        lines = f.read().splitlines()
    c.eq(lines[:1], ['# eight tasks at once'], 'concurrent: the comment kept')
    c.eq(len([ln for ln in lines if ln.startswith('# filler ')]), 20000, 'concurrent: the filler kept')
    c.eq(sorted(ln for ln in lines if not ln.startswith('#')), want,
         'concurrent: every task\'s line in modules.conf')
    c.eq(oct(os.stat(conf).st_mode & 0o777), oct(0o640), 'concurrent: modules.conf keeps its mode')
    print('fleet: %d passed, %d failed' % (c.passed, c.failed))
    return c.failed == 0


def main():
    if len(sys.argv) == 4 and sys.argv[1] == 'sums':
        sums(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 3 and sys.argv[1] == 'verify':
        sys.exit(0 if verify(sys.argv[2]) else 1)
    else:
        sys.exit(__doc__.split('\n\n')[1])


if __name__ == '__main__':
    main()
