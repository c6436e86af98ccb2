#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# usage: tests/venv.sh WORK_DIR
#
# Makes WORK_DIR/venv a venv with the pinned ansible-core and pytest from
# PyPI, unless it is one already (same pins, same Python), and prints its
# path.  Used by ci.sh and bench/fleet.  The Python is $PYTHON, or the first
# of python3.11, python3.12, python3.10 and python3 that ansible-core
# supports as a controller.
set -euo pipefail

ANSIBLE_CORE_VERSION=2.17.14 # controller Python 3.10 to 3.12
PYTEST_VERSION=8.3.5

if [ $# -ne 1 ]; then
	echo "usage: $0 WORK_DIR" >&2
	exit 2
fi
mkdir -p "$1"
work=$(cd "$1" && pwd)

python=
for p in ${PYTHON:-} python3.11 python3.12 python3.10 python3; do
	if command -v "$p" >/dev/null 2>&1 &&
		"$p" -c 'import sys; sys.exit(not (3, 10) <= sys.version_info[:2] <= (3, 12))' 2>/dev/null; then
		python=$(command -v "$p")
		break
	fi
done
if [ -z "$python" ]; then
	echo "venv.sh: ansible-core $ANSIBLE_CORE_VERSION needs Python 3.10, 3.11 or 3.12" >&2
	exit 1
fi
pyver=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
venv=$work/venv
stamp="ansible-core==$ANSIBLE_CORE_VERSION pytest==$PYTEST_VERSION python$pyver"
if [ "$(cat "$venv/.kmod-ci-stamp" 2>/dev/null)" != "$stamp" ]; then
	echo "venv.sh: creating $venv ($stamp)" >&2
	rm -rf "$venv"
	if ! "$python" -m venv "$venv" >/dev/null 2>&1; then
		# Debian without python3-venv: virtualenv from PyPI does it.
		rm -rf "$venv" "$work/virtualenv"
		"$python" -m pip install -q --target "$work/virtualenv" virtualenv >&2
		PYTHONPATH=$work/virtualenv "$python" -m virtualenv -q "$venv" >&2
	fi
	"$venv/bin/python" -m pip install -q --disable-pip-version-check \
		"ansible-core==$ANSIBLE_CORE_VERSION" "pytest==$PYTEST_VERSION" >&2
	echo "$stamp" >"$venv/.kmod-ci-stamp"
fi
echo "$venv"
