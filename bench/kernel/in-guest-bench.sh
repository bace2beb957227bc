#!/usr/bin/env bash
# bench/kernel/in-guest-bench.sh PAIRS RUNS - the guest benchmark, run as
# root inside the qemu guest by bench/kernel/run.  Owns two measurements,
# printed as figures (never pass/fail):
#   1. an mmap+munmap loop pinned to CPU 1, untraced vs traced by the
#      module with memprobe-cat --raw draining on CPU 0: ns per pair, the
#      traced/untraced ratio, and whether every call was recorded
#      (records of the loop == 2 * pairs, no seq gap);
#   2. the highest event rate held with zero drops: 2 producer threads at
#      doubling rates, then flat out, with one reader draining.
set -uo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
B=${BUILD:-$TOP/build}
PAIRS=${1:-200000}
RUNS=${2:-3}
LEN_BYTES=69632
T=$(mktemp -d /tmp/kb.XXXXXX)
exec 3>>"$MEMPROBE_RESULTS/in-guest-bench.log"
. "$TOP/tests/kernel/guest-lib.sh"

kv() { sed -n "s/^$1=//p" "$2" | head -n1; }
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# reader_start OUT FILTER...: memprobe-cat --raw on CPU 0 into a counting
# ringcheck (seq gaps there are exactly the drops the reader saw).
reader_start() {
	local out=$1
	shift
	rm -f "$T/fifo"
	mkfifo "$T/fifo"
	taskset -c 0 "$B/tests/ringcheck" count "$@" <"$T/fifo" >"$out" 2>&3 &
	COUNT_PID=$!
	taskset -c 0 "$MEMPROBE_CAT" $CAT_SOURCE --raw >"$T/fifo" 2>&3 &
	CAT_PID=$!
	sleep 0.5
}

reader_stop() {
	sleep 1 # let the deferred wakeup drain the tail
	cat_stop
	wait "$COUNT_PID"
}

# One pinned loop run; prints ns_per_pair.
loop_run() {
	taskset -c 1 "$B/bench/mmap-flood" --pairs "$PAIRS" --cpu 1 --len $LEN_BYTES >"$T/loop" 2>&3
	cat "$T/loop" >&3
	kv ns_per_pair "$T/loop"
}

bench_overhead() {
	local untraced=() traced=() i recorded=yes ns
	for i in $(seq 1 "$RUNS"); do
		untraced+=("$(loop_run)")
	done
	mod_load || { echo "module failed to load; see $MEMPROBE_RESULTS"; return 1; }
	for i in $(seq 1 "$RUNS"); do
		reader_start "$T/count$i" --comm mmap-flood --len $LEN_BYTES
		ns=$(loop_run)
		traced+=("$ns")
		reader_stop
		cat "$T/count$i" >&3
		local mm mu gaps
		mm=$(kv mmap_ok "$T/count$i") mu=$(kv munmap_ok "$T/count$i")
		gaps=$(kv seq_gaps "$T/count$i")
		printf 'traced run %d: %s ns/pair, %s mmap + %s munmap records of %s pairs, %s seq gaps (drops)\n' \
			"$i" "$ns" "$mm" "$mu" "$PAIRS" "$gaps"
		[ "$mm" = "$PAIRS" ] && [ "$mu" = "$PAIRS" ] && [ "$gaps" = 0 ] || recorded=no
	done
	"$B/tests/ringcheck" hdr >"$T/hdr" 2>&3
	mod_unload
	local mu_ns mt_ns
	mu_ns=$(median "${untraced[@]}") mt_ns=$(median "${traced[@]}")
	echo "untraced ns/pair: ${untraced[*]} (median $mu_ns)"
	echo "traced   ns/pair: ${traced[*]} (median $mt_ns)"
	awk -v t="$mt_ns" -v u="$mu_ns" 'BEGIN { printf "ratio traced/untraced: %.2fx\n", t / u }'
	echo "every call recorded (2 records per pair, zero drops, all runs): $recorded" \
		"(header drops at the end: $(kv drops "$T/hdr"))"
}

# One rate step: 2 threads at RATE pairs/s each (0 = flat out) for ~2 s.
rate_step() {
	local rate=$1 pairs=$2 drops0 drops1
	"$B/tests/ringcheck" hdr >"$T/h0" 2>&3
	reader_start "$T/rc" --comm mmap-flood --len $LEN_BYTES
	"$B/bench/mmap-flood" --threads 2 --pairs "$pairs" --rate "$rate" --len $LEN_BYTES \
		>"$T/loop" 2>&3
	reader_stop
	"$B/tests/ringcheck" hdr >"$T/h1" 2>&3
	drops0=$(kv drops "$T/h0") drops1=$(kv drops "$T/h1")
	STEP_EVS=$(kv events_per_s "$T/loop")
	STEP_DROPS=$((drops1 - drops0))
	STEP_GAPS=$(kv seq_gaps "$T/rc")
	STEP_REC=$(($(kv mmap_ok "$T/rc") + $(kv munmap_ok "$T/rc")))
	STEP_WANT=$((2 * $(kv pairs "$T/loop")))
}

bench_rate() {
	local rate best=0
	mod_load || return 1
	"$B/tests/ringcheck" hdr >"$T/hdr" 2>&3
	echo "ring: $(kv capacity "$T/hdr") slots, wakeup every $(kv wakeup_interval_us "$T/hdr") us"
	printf '%-14s %-14s %-10s %-10s %s\n' "target ev/s" "achieved ev/s" "drops" "seq gaps" \
		"records/expected"
	for rate in 2500 5000 10000 20000 40000 80000 160000 0; do
		# 2 threads x 2 events per pair; about 2 s per step.
		local pairs=$((rate ? rate * 2 : 100000))
		rate_step "$rate" "$pairs"
		printf '%-14s %-14s %-10s %-10s %s/%s\n' "$([ "$rate" -gt 0 ] && echo $((rate * 4)) || echo flat-out)" \
			"$STEP_EVS" "$STEP_DROPS" "$STEP_GAPS" "$STEP_REC" "$STEP_WANT"
		if [ "$STEP_DROPS" -eq 0 ] && [ "$STEP_GAPS" = 0 ] && [ "$STEP_REC" -eq "$STEP_WANT" ] &&
			[ "$STEP_EVS" -gt "$best" ]; then
			best=$STEP_EVS
		fi
		[ "$rate" -gt 0 ] && [ "$STEP_EVS" -lt $((rate * 4 * 8 / 10)) ] && break
	done
	mod_unload
	echo "highest event rate held with zero drops: $best events/s (2 producer threads, 1 reader)"
}

echo "guest: $(uname -r), $(nproc) vCPUs (qemu TCG: absolute times are emulated, compare ratios)"
echo "loop: $PAIRS mmap+munmap pairs of $LEN_BYTES bytes on CPU 1, reader on CPU 0, $RUNS runs each"
bench_overhead
bench_rate
dmesg | grep -E 'BUG:|WARNING:|Oops|sleeping function called' | head -n 3
rm -rf "$T"
