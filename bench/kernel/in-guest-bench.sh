#!/usr/bin/env bash
# bench/kernel/in-guest-bench.sh PAIRS RUNS - the guest benchmark, run as
# root inside the qemu guest by bench/kernel/run.  Owns two measurements,
# printed as figures (never pass/fail):
#   1. an mmap+munmap loop pinned to CPU 1, in interleaved rounds:
#      untraced, traced with no reader (the probe's own cost), the same with
#      the ABI 2 memory fields off (mem_fields=0: their cost per event),
#      traced with memprobe-cat --raw draining on CPU 0: ns per pair (median and
#      best-of-N), the ratios to untraced, and whether every call was
#      recorded (records of the loop == 2 * pairs, no seq gap); each
#      round's ratio, with median and spread; and where the probe's time
#      goes: the module with parts of its syscall path left out
#      (bench_parts=1: tracepoint + filter only; 2: record filled, not
#      committed), against untraced runs of the same length; and the
#      extra time of a getppid call (not recorded) with the module loaded;
#   2. the highest event rate held with zero drops: 2 producer threads at
#      doubling rates, then flat out (threads, then processes), with one
#      reader draining; the 2-producer flat-out rates beside the same
#      producers untraced.
# Ends with one "summary:" line (ratios, the 2-producer zero-drop rates).
set -uo pipefail
case "${1:-}" in
-h | --help)
	echo "usage: in-guest-bench.sh [PAIRS] [RUNS]  (in a guest: use bench/kernel/run)"
	exit 0 ;;
esac
[ -d "${MEMPROBE_RESULTS:-}" ] || { echo "in-guest-bench.sh: run me through bench/kernel/run" >&2; exit 2; }

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
B=${BUILD:-$TOP/build}
PAIRS=${1:-100000}
RUNS=${2:-9}
export RUNS
LEN_BYTES=69632
T=$(mktemp -d /tmp/kb.XXXXXX)
exec 3>>"$MEMPROBE_RESULTS/in-guest-bench.log"
. "$TOP/tests/kernel/guest-lib.sh"

kv() { sed -n "s/^$1=//p" "$2" | head -n1; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# spread N...: "median (min..max)"
spread() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {printf "%s (%s..%s)", a[int((NR+1)/2)], a[1], a[NR]}'; }

# round_ratios NUM DEN: each round's NUM/DEN (two arrays by name, same
# length), then their median and spread (lowest-highest).
round_ratios() {
	local -n num=$1 den=$2
	local rs=() j
	for j in "${!den[@]}"; do
		rs+=("$(awk -v t="${num[$j]}" -v u="${den[$j]}" 'BEGIN { printf "%.3f", t / u }')")
	done
	printf '%s (median %sx, spread %s-%s)' "${rs[*]}" "$(median "${rs[@]}")" \
		"$(printf '%s\n' "${rs[@]}" | sort -g | head -n1)" "$(printf '%s\n' "${rs[@]}" | sort -g | tail -n1)"
}

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

# One pinned loop run of PAIRS (or $1) pairs; prints ns_per_pair.
loop_run() {
	taskset -c 1 "$B/bench/mmap-flood" --pairs "${1:-$PAIRS}" --cpu 1 --len $LEN_BYTES >"$T/loop" 2>&3
	cat "$T/loop" >&3
	kv ns_per_pair "$T/loop"
}

# One pinned run of getppid calls, a syscall memprobe does not record;
# prints ns per call.
PPID_CALLS=300000
ppid_run() {
	taskset -c 1 "$B/bench/mmap-flood" --getppid --pairs $PPID_CALLS --cpu 1 >"$T/ppid" 2>&3
	kv ns_per_pair "$T/ppid"
}

# One traced run with a reader draining into a counting ringcheck; sets
# RUN_NS and RUN_ALL (1 when every call of the loop was recorded).
traced_run() {
	local i=$1 mm mu gaps
	reader_start "$T/count$i" --comm mmap-flood --len $LEN_BYTES
	RUN_NS=$(loop_run)
	reader_stop
	cat "$T/count$i" >&3
	mm=$(kv mmap_ok "$T/count$i") mu=$(kv munmap_ok "$T/count$i")
	gaps=$(kv seq_gaps "$T/count$i")
	printf 'round %d traced+reader: %s ns/pair, %s mmap + %s munmap records of %s pairs, %s seq gaps\n' \
		"$i" "$RUN_NS" "$mm" "$mu" "$PAIRS" "$gaps"
	RUN_ALL=0
	[ "$mm" = "$PAIRS" ] && [ "$mu" = "$PAIRS" ] && [ "$gaps" = 0 ] && RUN_ALL=1
}

# Rounds of: untraced; traced with no reader (BARE_PAIRS, few enough to fit
# the default ring: the probe's own cost; a ring sized for all PAIRS would
# measure qemu's soft-TLB misses over 144 MB instead); traced with a reader
# (the real setup); and the module with parts of its syscall path left out
# (bench_parts, tapset/memprobe_record.stp), untraced again beside them.
# Interleaved so a change in host load hits all alike.
bench_overhead() {
	local untraced=() bare=() bare1=() traced=() i recorded=yes
	local bare_pairs=30000 untraced_b=() filter_only=() no_commit=()
	local ppid_u=() ppid_f=() ppid_m=()
	loop_run >/dev/null # warm-up: first-touch costs, not measured
	for i in $(seq 1 "$RUNS"); do
		# where the probe's time goes: the tracepoint and the syscall-number
		# filter alone (bench_parts=1), the record filled but not committed
		# (bench_parts=2), against untraced runs of the same length
		untraced_b+=("$(loop_run $bare_pairs)")
		ppid_u+=("$(ppid_run)")
		mod_load bench_parts=1 || { echo "module failed to load (bench_parts=1)"; return 1; }
		filter_only+=("$(loop_run $bare_pairs)")
		ppid_f+=("$(ppid_run)")
		mod_unload
		mod_load bench_parts=2 || { echo "module failed to load (bench_parts=2)"; return 1; }
		no_commit+=("$(loop_run $bare_pairs)")
		mod_unload
		untraced+=("$(loop_run)")
		mod_load || { echo "module failed to load"; return 1; }
		bare+=("$(loop_run $bare_pairs)")
		ppid_m+=("$(ppid_run)")
		"$B/tests/ringcheck" consume-all >&3 2>&1
		traced_run "$i"
		traced+=("$RUN_NS")
		[ "$RUN_ALL" = 1 ] || recorded=no
		"$B/tests/ringcheck" hdr >"$T/hdr" 2>&3
		mod_unload
		# the same module with the ABI 2 memory fields left 0: their cost
		mod_load mem_fields=0 || { echo "module failed to load (mem_fields=0)"; return 1; }
		bare1+=("$(loop_run $bare_pairs)")
		mod_unload
	done
	local mu_ns mb_ns mt_ns
	mu_ns=$(median "${untraced[@]}") mb_ns=$(median "${bare[@]}") mt_ns=$(median "${traced[@]}")
	echo "untraced          ns/pair: ${untraced[*]} (median $mu_ns)"
	echo "no reader ($bare_pairs) ns/pair: ${bare[*]} (median $mb_ns)"
	local mb1_ns
	mb1_ns=$(median "${bare1[@]}")
	echo "no reader, memory fields off (mem_fields=0) ns/pair: ${bare1[*]} (median $mb1_ns)"
	# Paired per round (neighbours in time share the host's load): the
	# median of (fields on - fields off) / 2 per event, and its spread.
	local diffs=() k
	for k in "${!bare[@]}"; do
		diffs+=("$(( (bare[k] - bare1[k]) / 2 ))")
	done
	echo "ABI 2 memory fields (rss, swap, cgroup), ns per event, per round (on - off) / 2:" \
		"${diffs[*]} (median $(median "${diffs[@]}"); medians of the runs: $(( (mb_ns - mb1_ns) / 2 )))"
	echo "traced + reader   ns/pair: ${traced[*]} (median $mt_ns)"
	awk -v t="$mt_ns" -v b="$mb_ns" -v u="$mu_ns" 'BEGIN {
		printf "ratio traced+reader/untraced: %.2fx   traced-no-reader/untraced: %.2fx\n", t / u, b / u }'
	local bu bb bt
	bu=$(printf '%s\n' "${untraced[@]}" | sort -n | head -n1)
	bb=$(printf '%s\n' "${bare[@]}" | sort -n | head -n1)
	bt=$(printf '%s\n' "${traced[@]}" | sort -n | head -n1)
	awk -v t="$bt" -v b="$bb" -v u="$bu" 'BEGIN {
		printf "best-of-%d (least disturbed) ns/pair: untraced %d, no reader %d, +reader %d; +reader/untraced %.2fx, no-reader/untraced %.2fx\n",
			ENVIRON["RUNS"], u, b, t, t / u, b / u }'
	# Each round's traced/untraced ratio: neighbours in time share the
	# host's load, so their median is the steadiest figure here.
	local ratios=() bratios=() j
	for j in "${!untraced[@]}"; do
		ratios+=("$(awk -v t="${traced[$j]}" -v u="${untraced[$j]}" 'BEGIN { printf "%.3f", t / u }')")
		bratios+=("$(awk -v t="${bare[$j]}" -v u="${untraced_b[$j]}" 'BEGIN { printf "%.3f", t / u }')")
	done
	echo "ratio traced+reader/untraced per round, median and spread: $(round_ratios traced untraced)"
	echo "where the time goes ($bare_pairs pairs, each round against its own untraced run of" \
		"$bare_pairs: ${untraced_b[*]} ns/pair, median $(median "${untraced_b[@]}")):"
	echo "  tracepoint + syscall filter only (bench_parts=1): $(round_ratios filter_only untraced_b)"
	echo "  record filled, not committed (bench_parts=2):    $(round_ratios no_commit untraced_b)"
	echo "  whole probe, no reader:                          $(round_ratios bare untraced_b)"
	echo "  whole probe, memory fields off (mem_fields=0):   $(round_ratios bare1 untraced_b)"
	RATIO_READER="$(spread "${ratios[@]}")"
	RATIO_BARE="$(spread "${bratios[@]}")"
	# The tax on every other syscall of the machine: getppid is not recorded,
	# so this is the tracepoint, the handler's wrapper and its filter.
	local ppid_extra=() k2
	for k2 in "${!ppid_u[@]}"; do
		ppid_extra+=("$((ppid_m[k2] - ppid_u[k2]))")
	done
	echo "unrelated syscall (getppid, $PPID_CALLS calls) ns/call: untraced ${ppid_u[*]}," \
		"module loaded ${ppid_m[*]}; extra ns per call per round: ${ppid_extra[*]}" \
		"(median $(median "${ppid_extra[@]}"))"
	echo "  getppid, module loaded / untraced:               $(round_ratios ppid_m ppid_u)"
	echo "  getppid, bench_parts=1 / untraced:               $(round_ratios ppid_f ppid_u)"
	echo "every call recorded (2 records per pair, zero drops, all rounds): $recorded" \
		"(header drops of the last round: $(kv drops "$T/hdr"))"
}

# rate_step PROCS THREADS RATE PAIRS: PROCS processes of THREADS threads,
# each thread doing PAIRS pairs at RATE pairs/s (0 = flat out).  Separate
# processes do not share an mmap lock, threads of one process do.
rate_step() {
	local procs=$1 threads=$2 rate=$3 pairs=$4 drops0 drops1 p pids=()
	"$B/tests/ringcheck" hdr >"$T/h0" 2>&3
	reader_start "$T/rc" --comm mmap-flood --len $LEN_BYTES
	for ((p = 0; p < procs; p++)); do
		"$B/bench/mmap-flood" --threads "$threads" --pairs "$pairs" --rate "$rate" \
			--len $LEN_BYTES >"$T/loop$p" 2>&3 &
		pids+=($!)
	done
	wait "${pids[@]}"
	reader_stop
	"$B/tests/ringcheck" hdr >"$T/h1" 2>&3
	drops0=$(kv drops "$T/h0") drops1=$(kv drops "$T/h1")
	STEP_EVS=0 STEP_WANT=0
	for ((p = 0; p < procs; p++)); do
		STEP_EVS=$((STEP_EVS + $(kv events_per_s "$T/loop$p")))
		STEP_WANT=$((STEP_WANT + 2 * $(kv pairs "$T/loop$p")))
	done
	STEP_DROPS=$((drops1 - drops0))
	STEP_GAPS=$(kv seq_gaps "$T/rc")
	STEP_REC=$(($(kv mmap_ok "$T/rc") + $(kv munmap_ok "$T/rc")))
}

# rate_row PROCS THREADS RATE: one step as a table row; keeps BEST (zero
# drops, every record present, no seq gap) and ANY_DROPS up to date.
rate_row() {
	local procs=$1 threads=$2 rate=$3 n=$(($1 * $2))
	# 2 events per pair; about 2 s per paced step.
	rate_step "$procs" "$threads" "$rate" $((rate ? rate * 2 : 100000 / n))
	printf '%-18s %-14s %-14s %-8s %-9s %s/%s\n' "$procs proc x $threads thr" \
		"$([ "$rate" -gt 0 ] && echo $((rate * n * 2)) || echo flat-out)" \
		"$STEP_EVS" "$STEP_DROPS" "$STEP_GAPS" "$STEP_REC" "$STEP_WANT"
	if [ "$STEP_DROPS" -eq 0 ] && [ "$STEP_GAPS" = 0 ] && [ "$STEP_REC" -eq "$STEP_WANT" ]; then
		[ "$STEP_EVS" -gt "$BEST" ] && BEST=$STEP_EVS
		# the 2-producer figures: 2 threads of one process, 2 processes
		[ "$n" = 2 ] && [ "$procs" = 1 ] && [ "$STEP_EVS" -gt "$BEST_2T" ] && BEST_2T=$STEP_EVS
		[ "$n" = 2 ] && [ "$procs" = 2 ] && [ "$STEP_EVS" -gt "$BEST_2P" ] && BEST_2P=$STEP_EVS
	else
		ANY_DROPS=1
	fi
}

# step_verdict: the last rate_step in words (for the 2-producer line).
step_verdict() {
	if [ "$STEP_DROPS" -eq 0 ] && [ "$STEP_GAPS" = 0 ] && [ "$STEP_REC" -eq "$STEP_WANT" ]; then
		echo "0 drops"
	else
		echo "$STEP_DROPS drops, $STEP_REC/$STEP_WANT records"
	fi
}

# untraced_rate PROCS THREADS: events/s of the same flat-out producers
# with no module loaded (prints it).
untraced_rate() {
	local procs=$1 threads=$2 p pids=() evs=0
	for ((p = 0; p < procs; p++)); do
		"$B/bench/mmap-flood" --threads "$threads" --pairs $((100000 / (procs * threads))) \
			--len $LEN_BYTES >"$T/uloop$p" 2>&3 &
		pids+=($!)
	done
	wait "${pids[@]}"
	for ((p = 0; p < procs; p++)); do
		evs=$((evs + $(kv events_per_s "$T/uloop$p")))
	done
	echo "$evs"
}

# Doubling paced rates (2 threads) until the producers cannot keep up,
# then flat out: threads of one process, then separate processes.
bench_rate() {
	local rate two_procs_u two_thr_u two_procs two_thr two_procs_ok two_thr_ok
	BEST=0 ANY_DROPS=0 BEST_2T=0 BEST_2P=0
	two_procs_u=$(untraced_rate 2 1) two_thr_u=$(untraced_rate 1 2)
	mod_load || return 1
	"$B/tests/ringcheck" hdr >"$T/hdr" 2>&3
	echo "ring: $(kv capacity "$T/hdr") slots, wakeup every $(kv wakeup_interval_us "$T/hdr") us"
	printf '%-18s %-14s %-14s %-8s %-9s %s\n' producers "target ev/s" "achieved ev/s" drops \
		"seq gaps" "records/expected"
	for rate in 2500 5000 10000 20000 40000 80000 160000; do
		rate_row 1 2 "$rate"
		[ "$STEP_EVS" -lt $((rate * 4 * 8 / 10)) ] && break
	done
	rate_row 1 2 0
	two_thr=$STEP_EVS two_thr_ok=$(step_verdict)
	rate_row 1 4 0
	rate_row 2 1 0
	two_procs=$STEP_EVS two_procs_ok=$(step_verdict)
	rate_row 4 1 0
	mod_unload
	awk -v a="$two_procs" -v au="$two_procs_u" -v b="$two_thr" -v bu="$two_thr_u" \
		-v ao="$two_procs_ok" -v bo="$two_thr_ok" 'BEGIN {
		printf "2 producer CPUs, flat out, traced+reader: 2 processes %d events/s (%s; untraced %d, untraced/traced %.2fx), 1 process x 2 threads %d events/s (%s; untraced %d, untraced/traced %.2fx)\n",
			a, ao, au, a ? au / a : 0, b, bo, bu, b ? bu / b : 0 }'
	echo "highest event rate held with zero drops: $BEST events/s" \
		"($([ $ANY_DROPS = 0 ] && echo "no drop in any step: the producers saturate first" ||
			echo "drops in the steps marked above"))"
}

echo "guest: $(uname -r), $(nproc) vCPUs (qemu TCG: absolute times are emulated, compare ratios)"
echo "loop: $PAIRS mmap+munmap pairs of $LEN_BYTES bytes on CPU 1, reader on CPU 0, $RUNS interleaved rounds"
RATIO_READER=n/a RATIO_BARE=n/a BEST_2T=n/a BEST_2P=n/a
bench_overhead
bench_rate
echo "summary: module ratio_reader=${RATIO_READER} ratio_no_reader=${RATIO_BARE}" \
	"zero_drop_2threads=${BEST_2T} zero_drop_2procs=${BEST_2P} (TCG guest: ratios, not ns)"
dmesg | grep -E 'BUG:|WARNING:|Oops|sleeping function called' | head -n 3
rm -rf "$T"
