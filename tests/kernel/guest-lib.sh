# shellcheck shell=bash disable=SC2034
# tests/kernel/guest-lib.sh - helpers shared by the in-guest test and the
# in-guest benchmark (source it; needs TOP, B, T and fd 3 for the log).
# Owns how the module is loaded/unloaded in the guest, how memprobe-cat is
# started/stopped, and how the workload + checker of tests/workload are
# invoked, so those interfaces are written down once.

PROC=/proc/memprobe
MODULE=$B/memprobe.ko
MODULE_NAME=memprobe
MEMPROBE_CAT=$B/memprobe-cat
# Always the module's ring: in the guest "auto" could fall back to eBPF.
CAT_SOURCE=--source=ring
# Module parameter that sets the ring size in slots (power of two).
RING_PARAM=${RING_PARAM:-ring_records}
SMALL_RING_SLOTS=256
CAT_PID=""

# Wait up to $2 tenths of a second for command $1 to succeed.
wait_for() {
	local cond=$1 tenths=$2 i
	for ((i = 0; i < tenths; i++)); do
		eval "$cond" && return 0
		sleep 0.1
	done
	return 1
}

# mod_load [PARAM=VALUE...]: insert the module detached (staprun -L) and
# wait for the ring file.
mod_load() {
	staprun -L "$MODULE" "$@" >&3 2>&1 || return 1
	wait_for "[ -e $PROC ]" 300
}

mod_unload() {
	staprun -d "$MODULE_NAME" >&3 2>&1
	wait_for "! grep -q '^$MODULE_NAME ' /proc/modules" 300 && [ ! -e "$PROC" ]
}

# cat_start FILE ARGS...: memprobe-cat ARGS > FILE in the background.
cat_start() {
	local out=$1
	shift
	"$MEMPROBE_CAT" $CAT_SOURCE "$@" >"$out" 2>&3 &
	CAT_PID=$!
	# Give it time to open and map the ring before the workload starts.
	sleep 0.5
}

# cat_stop: SIGINT the reader, wait for it; returns its exit status.
cat_stop() {
	local rc
	kill -INT "$CAT_PID" 2>/dev/null
	wait_for "! kill -0 $CAT_PID 2>/dev/null" 100 || kill -KILL "$CAT_PID" 2>/dev/null
	wait "$CAT_PID"
	rc=$?
	CAT_PID=""
	return $rc
}

# cat_wait_gone TENTHS: the reader left by itself (module going away).
cat_wait_gone() {
	local rc=0
	wait_for "! kill -0 $CAT_PID 2>/dev/null" "$1" || rc=1
	[ $rc -eq 0 ] || kill -KILL "$CAT_PID" 2>/dev/null
	wait "$CAT_PID" 2>/dev/null
	CAT_PID=""
	return $rc
}

# cat_wait_exit_record FILE PID: wait (max 10 s) until the capture holds
# the exit record of PID, i.e. everything PID did has been drained.
cat_wait_exit_record() {
	wait_for "\"$B/tests/ringcheck\" count --pid $2 <\"$1\" 2>/dev/null | grep -qx exit_seen=1" 100
}

# --- tests/workload: the known-calls workload and its checker ------------
WORKLOAD=$B/workload/known-calls
CHECKER=$B/workload/check-records
WORKLOAD_COMM=known-calls
WORKLOAD_THREAD_NAME='we "q" a\b'

# run_workload EXPECT: do the known calls, write down what they returned.
run_workload() { "$WORKLOAD" "$1" >&3 2>&1; }
# The workload's pid: header record (workload.h) field pid, at byte 24.
workload_pid() { od -An -tu4 -j24 -N4 "$1" | tr -d ' '; }
# check_capture EXPECT RAW: prints the checker's TAP lines.
check_capture() { "$CHECKER" "$1" "$2"; }
