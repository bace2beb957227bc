# shellcheck shell=bash
# tests/kernel/lector-unload.sh - sourced by in-guest.sh.  Owns the check
# that lector survives the module being unloaded under it: it
# says so, keeps waiting, reopens /proc/memprobe when the module is loaded
# again (a new capture session) and captures on.  MariaDB does not run in
# the guest: lector writes JSON lines.  Needs B, T, fd 3 and guest-lib.sh.

LU_LEN1=1257472 # mapping sizes nothing else uses: one per workload
LU_LEN2=1261568

# lu_count FILE LEN: JSON lines of mmap calls of LEN bytes.
lu_count() { grep -c "\"call\":\"mmap\",\"addr\":[0-9]*,\"len\":$2," "$1"; }
# lu_sessions FILE LEN: distinct sessions of those lines.
lu_sessions() {
	grep "\"call\":\"mmap\",\"addr\":[0-9]*,\"len\":$2," "$1" |
		sed 's/.*"session":\([0-9]*\),.*/\1/' | sort -u | tr '\n' ' '
}

t_lector_unload() {
	local out=$T/lu.jsonl err=$T/lu.err pid s1 s2 rc
	mod_load || { tap_fail "lector/unload: module loads"; return 1; }
	"$B/bin/lector" --source=ring --sink=jsonl --spill="$T/lu.spill" >"$out" 2>"$err" &
	pid=$!
	if ! wait_for "grep -q 'capturing from' '$err'" 100; then
		tap_fail "lector/unload: lector captures from the module's ring"
		sed 's/^/# /' "$err"
		kill -KILL $pid 2>/dev/null
		mod_unload
		return 1
	fi
	"$B/bench/mmap-flood" --len $LU_LEN1 --pairs 1000 >&3 2>&1
	wait_for "[ \$(lu_count '$out' $LU_LEN1) -ge 1000 ]" 100
	mod_unload
	check "lector/unload: the module unloads while lector reads it" test $? = 0
	wait_for "grep -q 'waiting for /proc/memprobe to come back' '$err'" 100
	check "lector/unload: lector says the module went away and that it waits" \
		grep -q "capture source went away (module unloaded); waiting" "$err"
	sleep 1
	check "lector/unload: lector stays alive while the module is unloaded" kill -0 $pid
	mod_load
	wait_for "grep -q 'is back: a new capture session' '$err'" 100
	check "lector/unload: lector reopens the ring when the module is loaded again" \
		grep -q "/proc/memprobe is back: a new capture session" "$err"
	"$B/bench/mmap-flood" --len $LU_LEN2 --pairs 1000 >&3 2>&1
	wait_for "[ \$(lu_count '$out' $LU_LEN2) -ge 1000 ]" 100
	kill -TERM $pid
	wait $pid
	rc=$?
	cat "$err" >&3
	check "lector/unload: lector stops cleanly on SIGTERM afterwards (status $rc)" test $rc = 0
	# --exit-on-unload: the old behaviour, for scripts
	"$B/bin/lector" --source=ring --sink=jsonl --spill="$T/lu2.spill" --exit-on-unload \
		>/dev/null 2>"$T/lu2.err" &
	local pid2=$!
	wait_for "grep -q 'capturing from' '$T/lu2.err'" 100
	mod_unload
	wait_for "! kill -0 $pid2 2>/dev/null" 100 || kill -KILL $pid2 2>/dev/null
	wait $pid2
	rc=$?
	cat "$T/lu2.err" >&3
	check "lector/unload: with --exit-on-unload lector exits 0 when the module goes (status $rc)" \
		bash -c "[ $rc = 0 ] && grep -q 'went away (module unloaded)\$' '$T/lu2.err'"
	check "lector/unload: the workload before the unload is captured whole ($(lu_count "$out" $LU_LEN1) of 1000 mmaps)" \
		test "$(lu_count "$out" $LU_LEN1)" = 1000
	check "lector/unload: the workload after the reload is captured whole ($(lu_count "$out" $LU_LEN2) of 1000 mmaps)" \
		test "$(lu_count "$out" $LU_LEN2)" = 1000
	s1=$(lu_sessions "$out" $LU_LEN1) s2=$(lu_sessions "$out" $LU_LEN2)
	check "lector/unload: the two workloads carry two different sessions, each one ($s1/ $s2)" \
		bash -c "[ \$(wc -w <<<'$s1') = 1 ] && [ \$(wc -w <<<'$s2') = 1 ] && [ '$s1' != '$s2' ]"
	check "lector/unload: the sessions are the ones lector logged" \
		bash -c "grep -q 'session ${s1% }' '$err' && grep -q 'session ${s2% }' '$err'"
}
