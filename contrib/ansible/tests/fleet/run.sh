#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# The netbsd.kmod collection against a simulated fleet of NetBSD hosts.
#
# usage: run.sh TOOLS_DIR [WORK_DIR]
#
# TOOLS_DIR holds the built modload, modunload and modstat.  ansible-playbook
# and python3 are taken from PATH (ci.sh puts its venv first).  WORK_DIR
# (default: a new temporary directory) receives the fleet: one emulated
# kernel (MODCTL_EMUL) and one modules.conf per host, see mkfleet.py.
#
# Phases, each an ansible-playbook run with ANSIBLE_FORKS (default 5) forks
# over all hosts (ansible_connection=local):
#   check         site.yml in check mode (--diff): predicts, changes nothing
#   apply         site.yml: loads example and needy, writes modules.conf
#   again         site.yml once more: no host reports changed
#   remove-check  remove.yml in check mode: predicts the unloads
#   remove        remove.yml: state absent, the modules.conf lines go
#   finish        finish.yml: reinstating a disabled builtin needs force
#   concurrent    concurrent.yml: eight tasks at once (eight forks, eight
#                 inventory names for h01) add eight lines to one
#                 modules.conf; none may be lost
# The checksums of every host's kernel state and modules.conf are taken
# after each phase.  check.py then verifies it all and prints
# `fleet: N passed, M failed'; the exit status is non-zero on any mismatch.
set -eu

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	echo "usage: $0 TOOLS_DIR [WORK_DIR]" >&2
	exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
tools=$(cd "$1" && pwd)
if [ $# -eq 2 ]; then
	work=$2
	mkdir -p "$work"
	work=$(cd "$work" && pwd)
else
	work=$(mktemp -d "${TMPDIR:-/tmp}/kmod-fleet.XXXXXX")
fi
hosts=${KMOD_FLEET_HOSTS:-21}

ANSIBLE_COLLECTIONS_PATH=$(cd "$here/../.." && pwd)
ANSIBLE_FORKS=${ANSIBLE_FORKS:-5}
ANSIBLE_PIPELINING=True
ANSIBLE_NOCOLOR=1
ANSIBLE_RETRY_FILES_ENABLED=False
ANSIBLE_HOME=$work/.ansible
ANSIBLE_LOCAL_TEMP=$work/.ansible-tmp
ANSIBLE_REMOTE_TEMP=$work/.ansible-tmp
export ANSIBLE_COLLECTIONS_PATH ANSIBLE_FORKS ANSIBLE_PIPELINING ANSIBLE_NOCOLOR \
	ANSIBLE_RETRY_FILES_ENABLED ANSIBLE_HOME ANSIBLE_LOCAL_TEMP ANSIBLE_REMOTE_TEMP

python3 "$here/mkfleet.py" "$tools" "$work" "$hosts"
python3 "$here/check.py" sums "$work" boot
echo "fleet: $hosts hosts in $work, $ANSIBLE_FORKS forks"

play() { # play PHASE PLAYBOOK [ansible-playbook options]
	phase=$1 book=$2
	shift 2
	if ! ansible-playbook -i "$work/inventory.ini" -e "kmod_bindir=$tools" -e "phase=$phase" \
		-e "fleet_dir=$work" "$@" "$here/$book" >"$work/$phase.log" 2>&1; then
		echo "fleet: ansible-playbook $book ($phase) failed:" >&2
		tail -n 40 "$work/$phase.log" >&2
		exit 1
	fi
	python3 "$here/check.py" sums "$work" "$phase"
	echo "fleet: $phase done"
}

play check site.yml --check --diff
play apply site.yml --diff
play again site.yml
play remove-check remove.yml --check --diff
play remove remove.yml --diff
play finish finish.yml

# Eight names for one host, each with a builtin of its own to make
# persistent in one modules.conf.  Ansible starts its forks one after
# another; 20000 comment lines make each task's read-edit-rename long
# enough that the eight overlap (without the module's lock, all but one
# or two lines are lost).
mkdir -p "$work/concurrent"
{
	echo '# eight tasks at once'
	awk 'BEGIN { for (i = 1; i <= 20000; i++) printf "# filler %d: a long file takes a while to edit\n", i }'
} >"$work/concurrent/modules.conf"
chmod 640 "$work/concurrent/modules.conf"
{
	echo '[same_host]'
	n=0
	for b in cd9660 coredump ffs kernfs msdos nfs null procfs; do
		n=$((n + 1))
		echo "c$n ansible_connection=local builtin=$b"
	done
	echo
	echo '[same_host:vars]'
	echo 'ansible_python_interpreter={{ ansible_playbook_python }}'
	echo "modctl_emul=$work/hosts/h01/kernel"
	echo "modules_conf=$work/concurrent/modules.conf"
} >"$work/concurrent.ini"
if ! ansible-playbook -i "$work/concurrent.ini" -f 8 -e "kmod_bindir=$tools" -e phase=concurrent \
	-e "fleet_dir=$work" "$here/concurrent.yml" >"$work/concurrent.log" 2>&1; then
	echo "fleet: ansible-playbook concurrent.yml (concurrent) failed:" >&2
	tail -n 40 "$work/concurrent.log" >&2
	exit 1
fi
echo "fleet: concurrent done"

python3 "$here/check.py" verify "$work"
