#!/usr/bin/env bash
# tests/browser/oom-hog.sh MEMFIELDS TMPDIR - one real OOM kill for the
# browser suite: tests/workload/mem-fields' hog in a new memory cgroup of
# 48 MiB without swap (tests/lib/mem-fields.sh makes it, under this
# process's own memory cgroup, so only the test's cgroup hits its limit).
# Prints "PID STATUS CGROUP_ID" of the hog (STATUS 137: killed), and removes
# the cgroups it made.  Bounded: the hog stops at 1 GiB if no limit held.
set -uo pipefail
here=$(dirname "$(realpath "$0")")
tap_diag() { echo "# $*" >&2; }
tap_fail() { echo "not ok - $*" >&2; }
[ $# -eq 2 ] || { echo "usage: oom-hog.sh MEMFIELDS TMPDIR" >&2; exit 2; }
MEMFIELDS=$1 MF_TMP=$2
. "$here/../lib/mem-fields.sh"

name=memprobe-browser-oom-$$
if ! mf_mem_cgroup "$name" || ! mf_cg2_root; then
	echo "oom-hog.sh: could not make a memory cgroup limited to ${MF_OOM_LIMIT_MIB} MiB (is cgroup2 there?)" >&2
	[ -z "$MF_MEM" ] || mf_rmdir "$MF_MEM"
	mf_umount
	exit 1
fi
mem=$MF_MEM cg=$MF_MEM
if [ "${mem#"$MF_CG2"/}" = "$mem" ]; then # v1 memory: its own v2 cgroup too, for the id
	cg=$MF_CG2/$name
	mkdir "$cg" || { echo "oom-hog.sh: could not make $cg" >&2; mf_rmdir "$mem"; mf_umount; exit 1; }
fi
id=$(stat -c %i "$cg")
dirs=("$mem")
[ "$cg" = "$mem" ] || dirs+=("$cg")
mf_run_in "${dirs[@]}" -- "$MEMFIELDS" hog 1024 2>/dev/null &
hog=$!
{ wait "$hog"; rc=$?; } 2>/dev/null # no "Killed" job notice
mf_rmdir "$mem"
[ "$cg" = "$mem" ] || mf_rmdir "$cg"
mf_umount
echo "$hog $rc $id"
