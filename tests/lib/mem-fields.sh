# tests/lib/mem-fields.sh - the ABI v2 memory fields and the oom_kill
# record against the kernel's own view, for any capture source (source it
# after tap.sh).  The caller defines:
#   mf_capture_start DIR   start capturing raw records into DIR/raw; return
#                          non-zero if it did not start
#   mf_capture_stop DIR    stop it (after the last record is in the ring)
# and sets MEMFIELDS (the tests/workload/mem-fields binary) and MF_TMP (a
# directory on a regular file system).
#
# Transient cgroups are made under the cgroup2 mount (the id is the
# directory's inode) and, for the OOM test, under this shell's own memory
# cgroup (v2 memory.max or v1 memory.limit_in_bytes), so only the test's
# cgroup hits its limit.  Every cgroup made is removed again.

MF_MIB=${MF_MIB:-16}
MF_OOM_LIMIT_MIB=${MF_OOM_LIMIT_MIB:-48}

# A chroot (tests/fresh) may have no cgroup file system mounted: the
# hierarchies are the kernel's, so mount them under MF_TMP for the test,
# and unmount them at its end (mf_umount).
MF_MOUNTS=()
mf_mount() { # mf_mount TYPE OPTIONS DIR
	mkdir -p "$3" && mount -t "$1" -o "$2" none "$3" || return 1
	MF_MOUNTS+=("$3")
}
mf_umount() {
	local m
	for m in "${MF_MOUNTS[@]}"; do umount "$m" || tap_diag "could not unmount $m"; done
	MF_MOUNTS=()
}
mf_cg2_root() { # sets MF_CG2: where the cgroup2 hierarchy is mounted
	MF_CG2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
	[ -n "$MF_CG2" ] && return 0
	mf_mount cgroup2 rw "$MF_TMP/cgroup2" && MF_CG2=$MF_TMP/cgroup2
}

# mf_run_in CGDIR... -- CMD...: become CMD inside each CGDIR (exec: call it
# in a subshell or with &, so $! is CMD's pid).
mf_run_in() {
	local dirs=()
	while [ "$1" != "--" ]; do dirs+=("$1"); shift; done
	shift
	exec sh -c 'for d in "$@"; do [ "$d" = -- ] && break; echo $$ >"$d/cgroup.procs" || exit 97; done
		while [ "$1" != -- ]; do shift; done; shift; exec "$@"' \
		sh "${dirs[@]}" -- "$@"
}

# mf_rmdir DIR: remove a cgroup once its processes are gone (bounded).
mf_rmdir() {
	local i
	[ -d "$1" ] || return 0
	for ((i = 0; i < 50; i++)); do
		rmdir "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	tap_diag "could not remove cgroup $1"
}

# RSS, swap, a mapped file and the cgroup id of a process in a new cgroup.
t_mem_fields() { mf_mem_fields "$@"; mf_umount; }
mf_mem_fields() {
	local label=$1 d=$MF_TMP/memfields cg id
	mkdir -p "$d"
	if ! mf_cg2_root; then
		tap_fail "$label: a cgroup2 hierarchy is mounted or can be"
		return
	fi
	cg=$MF_CG2/memprobe-test-mem-$$
	mkdir "$cg" || { tap_fail "$label: made cgroup $cg"; return; }
	id=$(stat -c %i "$cg")
	if ! mf_capture_start "$d"; then
		tap_fail "$label: capture started"
		mf_rmdir "$cg"
		return
	fi
	(mf_run_in "$cg" -- "$MEMFIELDS" touch "$d" "$MF_MIB" "$d/out")
	local rc=$?
	sleep 0.3 # > one poll slice of the reader
	mf_capture_stop "$d"
	mf_rmdir "$cg"
	check "$label: the workload touched ${MF_MIB} MiB anon/file and $((MF_MIB / 2)) MiB shmem (exit $rc)" \
		test "$rc" -eq 0
	tap_diag "$(tr '\n' ' ' <"$d/out" 2>/dev/null)"
	"$MEMFIELDS" check "$d/out" "$d/raw" "$id" >"$d/check" 2>&1
	mf_tap_lines "$label" "$d/check" $?
}

# mf_tap_lines LABEL FILE STATUS: the checker's TAP lines, renumbered
# here; a checker that printed no result, or failed (STATUS) without a
# failing line (it could not read its input), is a failure too.
mf_tap_lines() {
	local line n=0 failed=0
	while IFS= read -r line; do
		case $line in
		"ok "*) tap_ok "$1: ${line#ok * - }"; n=$((n + 1)) ;;
		"not ok "*) tap_fail "$1: ${line#not ok * - }"; n=$((n + 1)) failed=1 ;;
		*) tap_diag "$line" ;;
		esac
	done <"$2"
	[ "$n" -gt 0 ] && { [ "$3" -eq 0 ] || [ "$failed" = 1 ]; } ||
		tap_fail "$1: the checker ran and reported (status $3, $n results)"
}

# mf_mem_cgroup NAME: set MF_MEM to a new memory cgroup limited to
# MF_OOM_LIMIT_MIB and without swap, under this shell's own one (v2 or v1).
mf_mem_cgroup() {
	local mnt rel dir bytes=$((MF_OOM_LIMIT_MIB << 20))
	MF_MEM=
	mf_cg2_root || MF_CG2=
	if [ -n "$MF_CG2" ] && grep -qw memory "$MF_CG2/cgroup.controllers" 2>/dev/null; then
		rel=$(sed -n 's/^0:://p' /proc/self/cgroup)
		dir=$MF_CG2$rel/$1
		mkdir "$dir" && echo "$bytes" >"$dir/memory.max" || return 1
		[ -e "$dir/memory.swap.max" ] && echo 0 >"$dir/memory.swap.max"
	else
		mnt=$(awk '$3 == "cgroup" && $4 ~ /(^|,)memory(,|$)/ { print $2; exit }' /proc/mounts)
		rel=$(awk -F: '$2 ~ /(^|,)memory(,|$)/ { print $3; exit }' /proc/self/cgroup)
		[ -n "$rel" ] || return 1
		if [ -z "$mnt" ]; then
			mf_mount cgroup memory "$MF_TMP/cgroup-memory" || return 1
			mnt=$MF_TMP/cgroup-memory
		fi
		dir=$mnt$rel/$1
		mkdir "$dir" && echo "$bytes" >"$dir/memory.limit_in_bytes" || return 1
		[ -e "$dir/memory.memsw.limit_in_bytes" ] &&
			echo "$bytes" >"$dir/memory.memsw.limit_in_bytes"
	fi
	MF_MEM=$dir
}

# An OOM kill inside a small memory cgroup: one oom_kill record, the victim's.
t_oom_kill() { mf_oom_kill "$@"; mf_umount; }
mf_oom_kill() {
	local label=$1 d=$MF_TMP/oom cg mem id
	mkdir -p "$d"
	mf_mem_cgroup "memprobe-test-oom-$$" && mf_cg2_root || {
		tap_fail "$label: made a memory cgroup with a ${MF_OOM_LIMIT_MIB} MiB limit (and cgroup2 is there)"
		[ -z "$MF_MEM" ] || mf_rmdir "$MF_MEM"
		return
	}
	mem=$MF_MEM cg=$MF_MEM
	if [ "${mem#"$MF_CG2"/}" = "$mem" ]; then # v1 memory: its own v2 cgroup too
		cg=$MF_CG2/memprobe-test-oom-$$
		mkdir "$cg" || { tap_fail "$label: made cgroup $cg"; mf_rmdir "$mem"; return; }
	fi
	id=$(stat -c %i "$cg")
	if ! mf_capture_start "$d"; then
		tap_fail "$label: capture started"
		mf_rmdir "$mem"; [ "$cg" = "$mem" ] || mf_rmdir "$cg"
		return
	fi
	local dirs=("$mem")
	[ "$cg" = "$mem" ] || dirs+=("$cg")
	mf_run_in "${dirs[@]}" -- "$MEMFIELDS" hog 1024 2>"$d/hog.err" &
	local hog=$! rc
	{ wait "$hog"; rc=$?; } 2>/dev/null # no "Killed" job notice
	sleep 0.3
	mf_capture_stop "$d"
	mf_rmdir "$mem"
	[ "$cg" = "$mem" ] || mf_rmdir "$cg"
	check "$label: the hog in a ${MF_OOM_LIMIT_MIB} MiB memory cgroup was killed by SIGKILL (status $rc)" \
		test "$rc" -eq 137
	"$MEMFIELDS" check-oom "$d/raw" "$hog" "$id" >"$d/check" 2>&1
	mf_tap_lines "$label" "$d/check" $?
}
