# -*- coding: utf-8 -*-
# SPDX-License-Identifier: BSD-2-Clause
"""A stand-in for the pip bootstrap script that ansible-test downloads.

`ansible-test sanity` creates one virtual environment per test without
pip and, to put pip in it, runs a get-pip script that it downloads from
its own CI file server, which is not reachable here (only the package
index is).  ansible-test looks for the script in
~/.ansible/test/cache/get_pip_<version>.py first, so ci.sh puts this file
there, with HOME pointing at its own scratch directory.

It is run with the new environment's python and the arguments of
`pip install`, such as
`--disable-pip-version-check pip==23.1.2 setuptools==67.7.2 wheel==0.37.1`.
It puts the pip bundled with Python into the environment (ensurepip) and
lets it install those from the package index.  Where Python has no
ensurepip (Debian without python3-venv), it uses the pip of the python
named in the file `host_python` beside it (ci.sh's venv) through
`pip --python`.
"""

import os
import subprocess
import sys


def main():
    args = sys.argv[1:]
    # ensurepip sets PIP_CONFIG_FILE=/dev/null in the process that runs it;
    # run it in its own so that the pip configuration (index, certificates)
    # still counts for the install.
    env = dict(os.environ)
    env.pop('PIP_CONFIG_FILE', None)
    env.pop('ENSUREPIP_OPTIONS', None)
    try:
        import ensurepip  # noqa: F401 pylint: disable=unused-import
        have_ensurepip = True
    except ImportError:
        have_ensurepip = False
    if have_ensurepip:
        rc = subprocess.call([sys.executable, '-m', 'ensurepip', '--default-pip'], env=env)
        if rc != 0:
            sys.exit(rc)
        cmd = [sys.executable, '-m', 'pip', 'install'] + args
    else:
        here = os.path.dirname(os.path.abspath(__file__))
        with open(os.path.join(here, 'host_python')) as f:
            host = f.read().strip()
        cmd = [host, '-m', 'pip', '--python', sys.executable, 'install'] + args
    sys.exit(subprocess.call(cmd, env=env))


if __name__ == '__main__':
    main()
