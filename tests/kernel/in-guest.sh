#!/usr/bin/env bash
# tests/kernel/in-guest.sh FIRST - the kernel test proper, run as root
# inside the qemu guest by run-tests (through guest-run).  Prints TAP lines
# numbered from FIRST+1 on stdout (guest-run replays them on the host).
# Owns the checks of the module against a real kernel:
# load, exact records through the mmap+poll and the read() paths, a renamed
# thread, ring overflow, load/unload under load, who may open the ring and
# map it (ring-guard.sh), unload under waiters, the ABI 2 memory fields and
# OOM kill records (tests/lib/mem-fields.sh), and a clean kernel log.
set -uo pipefail
case "${1:-}" in
-h | --help)
	echo "usage: in-guest.sh [FIRST]  (in a guest started by tests/kernel/guest-run;"
	echo "needs \$MEMPROBE_RESULTS and the module + tools built under build/)"
	exit 0 ;;
esac
[ -d "${MEMPROBE_RESULTS:-}" ] || { echo "in-guest.sh: run me through tests/kernel/guest-run" >&2; exit 2; }

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
B=${BUILD:-$TOP/build}
. "$TOP/tests/lib/tap.sh"
_tap_n=${1:-0}
. "$TOP/tests/kernel/guest-lib.sh"
. "$TOP/tests/kernel/lector-unload.sh"
. "$TOP/tests/kernel/ring-guard.sh"
. "$TOP/tests/lib/mem-fields.sh"

T=$(mktemp -d /tmp/kt.XXXXXX)
LOG=$MEMPROBE_RESULTS/in-guest.log
exec 3>>"$LOG"
note() { echo "$*" >&3; }

# 1. Load, and the /proc file the ABI promises.
t_load() {
	if mod_load; then
		tap_ok "module loads with staprun -L and creates $PROC"
	else
		tap_fail "module loads with staprun -L and creates $PROC"
		return 1
	fi
	local mode
	mode=$(stat -c %a "$PROC")
	check "$PROC is mode 0400 (got $mode)" test "$mode" = 400
	"$B/tests/ringcheck" hdr >"$T/hdr" 2>&3
	check "ring header: magic/version/record size accepted, running=1" \
		grep -qx 'running=1' "$T/hdr"
	cat "$T/hdr" >&3
}

# Re-number a TAP stream from the checker into ours, labelled.
tap_merge() {
	local label=$1 line
	while IFS= read -r line; do
		case "$line" in
		"ok "*) tap_ok "$label: ${line#ok * - }" ;;
		"not ok "*) tap_fail "$label: ${line#not ok * - }" ;;
		"#"*) echo "$line" ;;
		esac
	done
}

# 2./3. The workload's calls, captured through one reader path, checked
# record by record against what the workload says it did.
t_workload() {
	local path=$1 what=$2 cap="$T/cap-$2.raw" exp="$T/expect-$2.bin"
	cat_start "$cap" --raw $path
	run_workload "$exp"
	local wl_status=$?
	cat_wait_exit_record "$cap" "$(workload_pid "$exp")"
	cat_stop
	local cat_status=$?
	cp "$cap" "$exp" "$MEMPROBE_RESULTS/" 2>/dev/null
	check "$what path: known-calls workload ran (status $wl_status)" test "$wl_status" -eq 0
	check "$what path: memprobe-cat --raw exits 0 on SIGINT (status $cat_status)" \
		test "$cat_status" -eq 0
	check_capture "$exp" "$cap" >"$T/check-$what.out" 2>&1
	local rc=$?
	tap_merge "$what path" <"$T/check-$what.out"
	check "$what path: checker exits 0 (status $rc)" test $rc -eq 0
	"$B/tests/ringcheck" count <"$cap" >"$T/count-$what" 2>&3
	check "$what path: whole capture has no seq gap and no partial record" \
		grep -qx 'seq_gaps=0' "$T/count-$what"
}

# 4. A thread named with quotes and spaces keeps its name, byte for byte,
# while comm stays the leader's name.
t_thread_name() {
	local cap="$T/cap-mmap.raw" name=$WORKLOAD_THREAD_NAME
	"$B/tests/ringcheck" count --thread-comm "$name" --comm "$WORKLOAD_COMM" \
		<"$cap" >"$T/count-name" 2>&3
	cat "$T/count-name" >&3
	check "renamed thread: records carry thread_comm $name and the leader's comm" \
		grep -qE '^matched=[1-9]' "$T/count-name"
}

# 4b. Probe runs SystemTap skipped (skipped_count(): reentrancy, low stack)
# are copied into the header.  After the known-calls runs nothing was
# skipped, and both the header and memprobe-cat --stats say so, next to the
# drops.  (Provoking a real skip is not possible from user space.)
t_skipped() {
	"$B/tests/ringcheck" hdr >"$T/hdr-skip" 2>&3
	cat "$T/hdr-skip" >&3
	check "skipped: the ring header's skipped field reads 0 after the known-calls runs" \
		grep -qx 'skipped=0' "$T/hdr-skip"
	"$MEMPROBE_CAT" $CAT_SOURCE --stats >"$T/stats-skip" 2>&1
	cat "$T/stats-skip" >&3
	check "skipped: memprobe-cat --stats prints drops and skipped (skipped=0)" \
		grep -qE ' drops=[0-9]+ .* skipped=0$' "$T/stats-skip"
}

# 5. Overflow: small ring, nobody reading, a flood.  Drops are counted,
# the oldest records are kept intact and contiguous, the seq gap after
# them equals the drop count, and memprobe-cat --stats shows the drops.
t_overflow() {
	mod_unload || { tap_fail "overflow: module unloads before reload"; return 1; }
	if ! mod_load "$RING_PARAM=$SMALL_RING_SLOTS"; then
		tap_fail "overflow: module loads with $RING_PARAM=$SMALL_RING_SLOTS"
		return 1
	fi
	"$B/bench/mmap-flood" --pairs 20000 >&3 2>&1
	"$B/tests/ringcheck" hdr >"$T/hdr-small" 2>&3
	cat "$T/hdr-small" >&3
	check "overflow: ring has the requested capacity $SMALL_RING_SLOTS" \
		grep -qx "capacity=$SMALL_RING_SLOTS" "$T/hdr-small"
	local drops stats_drops before
	drops=$(sed -n 's/^drops=//p' "$T/hdr-small")
	check "overflow: drops counted in the header (drops=$drops)" test "${drops:-0}" -gt 0
	"$MEMPROBE_CAT" $CAT_SOURCE --stats >"$T/stats" 2>&1
	cat "$T/stats" >&3
	stats_drops=$(grep -oE 'drops=[0-9]+' "$T/stats" | head -n1 | cut -d= -f2)
	"$B/tests/ringcheck" overflow >"$T/overflow" 2>&3
	local rc=$?
	cat "$T/overflow" >&3
	before=$(sed -n 's/^drops_before=//p' "$T/overflow")
	check "overflow: memprobe-cat --stats shows the header's drop count ($drops <= ${stats_drops:-none} <= $before)" \
		test -n "$stats_drops" -a "${stats_drops:-0}" -ge "${drops:-1}" -a "${stats_drops:-0}" -le "${before:-0}"
	check "overflow: retained records are the oldest (seq 0..capacity-1), contiguous" \
		grep -qx 'contiguous=1' "$T/overflow"
	check "overflow: seq gap after the retained records equals the drop counter" \
		test $rc -eq 0
	mod_unload
}

# 6. Load/unload 20 times with a mmap loop running and a reader attached
# half of the time; the reader must leave when the module goes.
t_load_unload() {
	local i ok=0 reader_ok=0
	"$B/bench/mmap-flood" --pairs 0 --threads 2 >/dev/null 2>&3 &
	local loop_pid=$!
	for i in $(seq 1 20); do
		mod_load || { note "cycle $i: load failed"; break; }
		if [ $((i % 2)) -eq 0 ]; then
			cat_start "$T/cycle.raw" --raw
			sleep 0.3
			mod_unload || { note "cycle $i: unload failed"; break; }
			cat_wait_gone 10 && reader_ok=$((reader_ok + 1))
		else
			sleep 0.3
			mod_unload || { note "cycle $i: unload failed"; break; }
		fi
		ok=$((ok + 1))
	done
	kill "$loop_pid" 2>/dev/null
	wait "$loop_pid" 2>/dev/null
	check "20 load/unload cycles under a running mmap loop ($ok done)" test $ok -eq 20
	check "an attached reader exits by itself when the module unloads ($reader_ok/10)" \
		test $reader_ok -eq 10
}

# 7. The ABI 2 memory fields (RSS, swap, cgroup, mapped file) against
# /proc and stat(2), and an OOM kill in a small memory cgroup: the same
# checks as the eBPF source's (tests/lib/mem-fields.sh), through the ring.
MEMFIELDS=$B/workload/mem-fields
MF_TMP=$T
mf_capture_start() { cat_start "$1/raw" --raw; }
mf_capture_stop() { cat_stop; }
t_mem() {
	grep -q " /sys/fs/cgroup cgroup2 " /proc/mounts ||
		mount -t cgroup2 none /sys/fs/cgroup 2>&3 || tap_diag "cannot mount cgroup2"
	grep -qw memory /sys/fs/cgroup/cgroup.subtree_control 2>/dev/null ||
		echo +memory >/sys/fs/cgroup/cgroup.subtree_control 2>&3
	mod_load || { tap_fail "module: memory fields: module loads"; return 1; }
	t_mem_fields "module: memory fields"
	t_oom_kill "module: oom kill"
	mod_unload
}

t_dmesg() {
	dmesg >"$MEMPROBE_RESULTS/dmesg.txt"
	local bad
	# The OOM kill of t_mem prints its own report with a Call Trace just
	# after "invoked oom-killer": that one is expected.
	bad=$(awk '/invoked oom-killer:/ { oom = NR }
		/Call Trace/ && oom && NR - oom <= 5 { next }
		/BUG:|WARNING:|Oops|sleeping function called|general protection|Call Trace|refcount_t:|list_(add|del) corruption/' \
		"$MEMPROBE_RESULTS/dmesg.txt" | head -n 5)
	check "kernel log has no BUG/WARNING/Oops/sleeping-in-atomic" test -z "$bad"
	[ -z "$bad" ] || echo "$bad" | sed 's/^/# /'
}

t_load || exit 1
t_ring_access
t_workload "" mmap
t_workload --read read
t_thread_name
t_skipped
t_overflow
t_load_unload
t_lector_unload
t_unload_waiters
t_mem
t_dmesg
rm -rf "$T"
