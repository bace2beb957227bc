# tests/lector/fleet.sh - the simulated hosts' generator (capture/synth_gen.c,
# used by bench/fleet and lector --source=synthetic; sourced by run-tests):
# its records are reproducible from a seed, follow the measured mix, and
# are valid: through lector's accounting and sink into MariaDB, each host's
# stored calls, processes, exits and mapped bytes equal the generator's own
# totals; lector --source=synthetic runs them through the whole daemon.
FLEET=$BUILD/bench/fleet

# host lines of `fleet --totals` without the session (the same for a seed)
fleet_totals() { "$FLEET" --totals "$@" 2>&1 | grep '^host ' | sed 's/ session=[0-9]*//'; }

# share_ok TOTALS_FILE CALL LO HI: the call's share of all calls, in %
share_ok() {
	awk -v c="$2" -v lo="$3" -v hi="$4" '
		{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] += kv[2] } }
		END { s = 100 * v[c] / v["calls"]; printf "# %s %.2f%%\n", c, s > "/dev/stderr"; exit !(s >= lo && s <= hi) }' "$1"
}

fleet_tests() {
	local a b c t s name want got
	[ -x "$FLEET" ] || { tap_fail "fleet: $FLEET is built (make all)"; return; }
	fleet_totals --dry-run --hosts=3 --calls=20000 --seed=7 >"$WORK/fleet.a"
	fleet_totals --dry-run --hosts=3 --calls=20000 --seed=7 --threads=1 --batch=777 >"$WORK/fleet.b"
	fleet_totals --dry-run --hosts=3 --calls=20000 --seed=8 >"$WORK/fleet.c"
	check "fleet: the same seed makes the same records whatever the threads and batches (3 hosts x 20000)" \
		cmp -s "$WORK/fleet.a" "$WORK/fleet.b"
	check "fleet: another seed makes other records" \
		test "$(cut -d' ' -f2,14 "$WORK/fleet.a")" != "$(cut -d' ' -f2,14 "$WORK/fleet.c")"
	check "fleet: each host's records differ from the others'" \
		test "$(grep -o 'hash=[0-9a-f]*' "$WORK/fleet.a" | sort -u | wc -l)" = 3
	# the measured mix (capture/synth_gen.c): mmap 69.16, brk 14.39,
	# munmap 10.69, exit 3.35, exec 2.36, mremap 0.05 (%)
	fleet_totals --dry-run --hosts=3 --calls=100000 --seed=7 >"$WORK/fleet.mix"
	check "fleet: the mix is the measured one (mmap 69.2 %, brk 14.4, munmap 10.7, exit 3.35, exec 2.36, mremap 0.05; 300k calls)" \
		eval 'share_ok "$WORK/fleet.mix" mmap 66 72.5 && share_ok "$WORK/fleet.mix" brk 12.5 16.5 &&
			share_ok "$WORK/fleet.mix" munmap 9 12.5 && share_ok "$WORK/fleet.mix" exit 2.8 3.9 &&
			share_ok "$WORK/fleet.mix" exec 1.9 2.8 && share_ok "$WORK/fleet.mix" mremap 0.01 0.15'

	# through lector's accounting and sink: the database holds the totals
	fleet_totals --config="$CONF" --hosts=3 --calls=20000 --seed=7 --host-prefix=fleetcheck- \
		>"$WORK/fleet.db" 2>"$WORK/fleet.err"
	check "fleet: 3 hosts' records commit through the sink with the same totals as the dry run" \
		cmp -s <(sed 's/^host fleetcheck-/host fleet-/' "$WORK/fleet.db") "$WORK/fleet.a"
	while read -r _ name rest; do
		want=$(tr ' ' '\n' <<<"$rest" | grep -E '^(calls|mmap|munmap|mremap|brk|exec|exit|failed)=' | tr '\n' ' ')
		got=$(sql "SELECT CONCAT('calls=', COUNT(*), ' mmap=', SUM(syscall='mmap'), ' munmap=', SUM(syscall='munmap'),
			' mremap=', SUM(syscall='mremap'), ' brk=', SUM(syscall='brk'), ' exec=', SUM(syscall='exec'),
			' exit=', SUM(syscall='exit'), ' failed=', SUM(syscall='mmap' AND result < 0), ' ')
			FROM calls c JOIN hosts h USING (host_id) WHERE h.name='$name'")
		check "fleet: $name's calls by kind in MariaDB are the generator's ($want)" test "$got" = "$want"
		want=$(tr ' ' '\n' <<<"$rest" | grep -E '^(procs|exited|live_mapped)=' | tr '\n' ' ')
		got=$(sql "SELECT CONCAT('procs=', COUNT(*), ' exited=', SUM(exited), ' live_mapped=',
			SUM(IF(exited, 0, mapped_bytes)), ' ') FROM processes p JOIN hosts h USING (host_id)
			WHERE h.name='$name'")
		check "fleet: $name's processes, exits and live mapped bytes (lector's accounting) are the generator's ($want)" \
			test "$got" = "$want"
		s=$(sql "SELECT CONCAT(MIN(seq), ' ', MAX(seq), ' ', COUNT(DISTINCT seq)) FROM calls c JOIN hosts h USING (host_id) WHERE h.name='$name'")
		check "fleet: $name's session is seq 0..19999 with no hole ($s)" test "$s" = "0 19999 20000"
	done <"$WORK/fleet.db"
	check "fleet: three hosts registered, one session each" \
		test "$(sql "SELECT COUNT(DISTINCT h.host_id), COUNT(*) FROM capture_stats s JOIN hosts h USING (host_id) WHERE h.name LIKE 'fleetcheck-%'")" = "3	3"

	# paced by the wall clock: rate x hosts x seconds, bursts around it
	t=$(date +%s%N)
	a=$("$FLEET" --config="$CONF" --hosts=4 --rate=300 --seconds=3 --seed=9 --host-prefix=fleetpace- 2>>"$WORK/fleet.err")
	b=$(sed -n 's/.* rows=\([0-9]*\) .*/\1/p' <<<"$a")
	c=$(sed -n 's/.* lag_p99_ms=\([0-9]*\) .*/\1/p' <<<"$a")
	tap_diag "$a"
	check "fleet: paced, 4 hosts x 300/s x 3 s commit 3600 calls, give or take the bursts (${b:-none})" \
		test "${b:-0}" -ge 1800 -a "${b:-0}" -le 5400
	check "fleet: paced, every row committed within 5 s of its record time (p99 ${c:-none} ms)" \
		test "${c:-99999}" -lt 5000
	s=$(sql "SELECT COUNT(*) FROM calls c JOIN hosts h USING (host_id) WHERE h.name LIKE 'fleetpace-%'
		AND ts_ns BETWEEN $t AND $t + 8000000000")
	check "fleet: paced records carry the wall time they were made at ($s of $b)" test "$s" = "$b"
	fleet_synthetic_tests
}

# lector --source=synthetic: one simulated host through the whole daemon
# (capture thread, queue, writer), no /proc read for its made-up pids.
fleet_synthetic_tests() {
	local log=$WORK/synth.log s rows procs
	"$LECTOR" --source=bpf --rate=10 >/dev/null 2>"$WORK/synth-rate.err"
	check "lector: --rate without --source=synthetic is refused (exit 2)" \
		bash -c "[ $? -eq 2 ] && grep -q 'go with --source=synthetic' '$WORK/synth-rate.err'"
	"$LECTOR" --source=synthetic --rate=fast --host-id=synthetic-1 >/dev/null 2>&1
	check "lector: --rate takes a number" test $? -eq 2
	# with the production config (its host_id or the hostname): refused before any record
	timeout 5 "$LECTOR" --source=synthetic --rate=1000 --config="$CONF" --sink=jsonl \
		>"$WORK/synth-nohost.out" 2>"$WORK/synth-nohost.err" </dev/null
	check "lector --source=synthetic without --host-id is refused (exit 2, says to name it; no record written)" \
		bash -c "[ $? -eq 2 ] && grep -q 'needs --host-id' '$WORK/synth-nohost.err' && ! [ -s '$WORK/synth-nohost.out' ]"
	tl_lector_start "$log" --source=synthetic --rate=2000 --seed=5 --host-id=synthetic-1 ||
		{ tap_fail "lector --source=synthetic starts"; cat "$log" >&2; return; }
	sleep 3
	tl_lector_stop
	s=$(sql "SELECT session FROM capture_stats JOIN hosts USING (host_id) WHERE name='synthetic-1' AND source='synthetic'")
	rows=$(sql "SELECT rows_committed FROM capture_stats WHERE session='${s:-0}'")
	check "lector --source=synthetic: ~2000 calls/s for ~3 s committed under its host (${rows:-none} rows, source synthetic)" \
		test "${rows:-0}" -ge 2000 -a "${rows:-0}" -le 20000
	check "lector --source=synthetic: the session is seq 0..N with no hole" tl_no_holes "${s:-0}"
	procs=$(sql "SELECT COUNT(*), SUM(exited) > 0, SUM(rss_ts_ns > 0 AND rss_ts_ns NOT IN (SELECT ts_ns FROM calls c WHERE c.session = '${s:-0}' AND c.pid = p.pid)) FROM processes p JOIN hosts h USING (host_id) WHERE h.name='synthetic-1'")
	check "lector --source=synthetic: processes come and go, and no /proc reading was stored for the made-up pids ($procs: processes, some exited, readings not from a call)" \
		bash -c "set -- $procs; [ \"\$1\" -gt 10 ] && [ \"\$2\" = 1 ] && [ \"\$3\" = 0 ]"
}
