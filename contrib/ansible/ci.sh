#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# Tests of the netbsd.kmod Ansible collection (contrib/ansible).
#
# usage: contrib/ansible/ci.sh [TOOLS_DIR]
#
# TOOLS_DIR holds the built modload, modunload and modstat; without it they
# are built with `cargo build --release` into the cargo target directory.
#
# 1. A venv with the pinned ansible-core and pytest from PyPI (the pins are
#    in tests/venv.sh), in $KMOD_ANSIBLE_CI_DIR (default target/ansible-ci),
#    kept for the next run while the pins and the Python version stay the
#    same.
# 2. `ansible-test sanity --local --requirements` for the collection, on this
#    Python only.  No sanity test is skipped: none of those that apply to
#    the collection needs docker or a network other than the package index
#    (pslint and shellcheck find no PowerShell or shell files in it and pass
#    without running a linter).  ansible-test installs each test's
#    requirements into a venv of its own, under a HOME of ours, and
#    bootstraps pip there with a script it downloads from a server outside
#    the package index; tests/pip_bootstrap.py stands in for that script.
#    This runs in the background, next to 3 and 4.
# 3. The unit tests, with pytest.
# 4. The fleet: tests/fleet/run.sh, 21 hosts with emulated kernels.
#
# The last line is `ansible: N passed, M failed' (sanity tests, unit tests
# and fleet checks); the exit status is non-zero when anything failed.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
collection=$here/ansible_collections/netbsd/kmod
start=$(date +%s)

if [ $# -gt 1 ]; then
	echo "usage: $0 [TOOLS_DIR]" >&2
	exit 2
fi
if [ $# -eq 1 ]; then
	tools=$(cd "$1" && pwd)
else
	echo "ansible: building the tools (cargo build --release)"
	(cd "$repo" && cargo build --release --locked -p modload -p modunload -p modstat)
	tools=${CARGO_TARGET_DIR:-$repo/target}/release
	tools=$(cd "$tools" && pwd)
fi
for t in modload modload-check modunload modstat; do
	if [ ! -x "$tools/$t" ]; then
		echo "ansible: no $t in $tools" >&2
		exit 1
	fi
done

work=${KMOD_ANSIBLE_CI_DIR:-$repo/target/ansible-ci}
mkdir -p "$work"
work=$(cd "$work" && pwd)

# --- 1. the venv -----------------------------------------------------------

venv=$(bash "$here/tests/venv.sh" "$work")
export PATH="$venv/bin:$PATH"
pyver=$(python -c 'import sys; print("%d.%d" % sys.version_info[:2])')
echo "ansible: $(ansible --version | head -n 1), $(python --version), pytest $(python -m pytest --version 2>&1 | awk '{print $NF}')"

# --- 2. sanity, in the background -------------------------------------------

home=$work/home
mkdir -p "$home"
# The per-test venvs see only HOME, PATH and LC_ALL of our environment, so
# the pip settings in force here (index, proxy certificates) go into a pip
# configuration file under that HOME, and git's configuration along.
python - "$home/.config/pip/pip.conf" <<'EOF'
import re, subprocess, sys, os
out = subprocess.run([sys.executable, '-m', 'pip', 'config', 'list'], capture_output=True, text=True).stdout
sections = {}
for line in out.splitlines():
    m = re.match(r"^([^.]*)\.([^=]+)='(.*)'$", line)
    if m:
        section = 'global' if m.group(1) in (':env:', 'global', 'user', 'site') else m.group(1)
        sections.setdefault(section, {})[m.group(2)] = m.group(3)
os.makedirs(os.path.dirname(sys.argv[1]), exist_ok=True)
with open(sys.argv[1], 'w') as f:
    for section, items in sorted(sections.items()):
        f.write('[%s]\n' % section)
        for k, v in sorted(items.items()):
            f.write('%s = %s\n' % (k, v))
EOF
if [ -f "$HOME/.gitconfig" ]; then
	cp "$HOME/.gitconfig" "$home/.gitconfig"
fi
pipver=$(sed -n "s/^ *pip='\([0-9.]*\)',.*/\1/p" \
	"$(python -c 'import ansible_test, os; print(os.path.dirname(ansible_test.__file__))')/_internal/python_requirements.py" |
	head -n 1)
mkdir -p "$home/.ansible/test/cache"
cp "$here/tests/pip_bootstrap.py" "$home/.ansible/test/cache/get_pip_${pipver//./_}.py"
python -c 'import sys; print(sys.executable)' >"$home/.ansible/test/cache/host_python"

sanity_log=$work/sanity.log
rm -f "$work/sanity.rc"
(
	cd "$collection"
	if HOME=$home ansible-test sanity --local --python "$pyver" --requirements >"$sanity_log" 2>&1; then
		echo 0
	else
		echo $?
	fi >"$work/sanity.rc"
) &
sanity_pid=$!

# --- 3. unit tests ----------------------------------------------------------

units_ok=0 units_failed=0
echo "ansible: unit tests"
set +e
(cd "$collection" && python -m pytest -q -p no:cacheprovider --junitxml="$work/units.xml" tests/unit)
units_rc=$?
set -e
read -r units_ok units_failed < <(python - "$work/units.xml" <<'EOF'
import sys, xml.etree.ElementTree as ET
try:
    root = ET.parse(sys.argv[1]).getroot()
except Exception:
    print(0, 1)
    sys.exit()
s = root if root.tag == 'testsuite' else root.find('testsuite')
tests, bad = int(s.get('tests')), int(s.get('failures')) + int(s.get('errors'))
print(tests - bad - int(s.get('skipped')), bad)
EOF
)
if [ "$units_rc" -ne 0 ] && [ "$units_failed" -eq 0 ]; then
	units_failed=1
fi
echo "units: $units_ok passed, $units_failed failed"

# --- 4. the fleet -----------------------------------------------------------

fleet_ok=0 fleet_failed=0
set +e
bash "$here/tests/fleet/run.sh" "$tools" "$work/fleet" | tee "$work/fleet.log"
fleet_rc=${PIPESTATUS[0]}
set -e
line=$(grep -E '^fleet: [0-9]+ passed, [0-9]+ failed$' "$work/fleet.log" | tail -n 1 || true)
if [ -n "$line" ]; then
	fleet_ok=$(echo "$line" | awk '{print $2}')
	fleet_failed=$(echo "$line" | awk '{print $4}')
fi
if [ "$fleet_rc" -ne 0 ] && [ "$fleet_failed" -eq 0 ]; then
	fleet_failed=1
fi

# --- 2. sanity, the result --------------------------------------------------

wait "$sanity_pid" || true
sanity_rc=$(cat "$work/sanity.rc" 2>/dev/null || echo 1)
ran=$(grep -c '^Running sanity test' "$sanity_log" || true)
bad=$(sed -n 's/^FATAL: The \([0-9]*\) sanity test(s) listed below.*/\1/p' "$sanity_log" | tail -n 1)
bad=${bad:-0}
if [ "$sanity_rc" -ne 0 ]; then
	grep -E '^(ERROR|FATAL)' "$sanity_log" | head -n 60 || tail -n 40 "$sanity_log"
	[ "$bad" -eq 0 ] && bad=1
fi
sanity_ok=$((ran - bad))
[ "$sanity_ok" -lt 0 ] && sanity_ok=0
echo "sanity: $sanity_ok passed, $bad failed (ansible-test sanity --python $pyver, log: $sanity_log)"

passed=$((sanity_ok + units_ok + fleet_ok))
failed=$((bad + units_failed + fleet_failed))
echo "ansible: $(($(date +%s) - start)) s; sanity $sanity_ok/$((sanity_ok + bad)), units $units_ok/$((units_ok + units_failed)), fleet checks $fleet_ok/$((fleet_ok + fleet_failed))"
echo "ansible: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
