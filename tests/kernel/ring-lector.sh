# tests/kernel/ring-lector.sh - sourced by tests/kernel/run-tests (host
# side, after the guest run).  Owns the exact-storage check through the RING path:
# the real module's capture of the known-calls workload (cap-mmap.raw, with
# the workload's own account expect-mmap.bin) is wrapped in a ring file with
# the real header layout (ringcheck wrap: running = 0, so lector drains it
# and exits), stored by lector --source=ring into a private MariaDB
# (tests/lector/lib.sh), read back and checked: every record exactly
# (check-records, and byte for byte against the capture: every field of
# ABI 2 has its column), the workload's
# totals against an independent recomputation (tests/lector/dbtool.py),
# and a clean stop.  Needs $TOP, $work and tests/lib/tap.sh loaded.

. "$TOP/tests/lector/lib.sh"
RING_DBT=$TOP/tests/lector/dbtool.py
RING_SESSION=$((0x6b65726e656c)) # ringcheck wrap's default session id

ring_cleanup() {
	[ -n "${DB_DIR:-}" ] && tl_db_stop
	DB_DIR=
}

# Relabel a checker's TAP stream into ours.
ring_tap_merge() {
	local label=$1 line
	while IFS= read -r line; do
		case $line in
		"ok "*) tap_ok "$label: ${line#ok * - }" ;;
		"not ok "*) tap_fail "$label: ${line#not ok * - }" ;;
		"#"*) echo "$line" ;;
		esac
	done
}

# ring_lector_tests RESULTS_DIR
ring_lector_tests() {
	local res=$1 dir=$work/ring n wp log committed delivered
	local cap=$res/cap-mmap.raw exp=$res/expect-mmap.bin
	mkdir -p "$dir"
	if [ ! -s "$cap" ] || [ ! -s "$exp" ]; then
		tap_fail "ring->lector: the guest kept its known-calls capture ($cap, $exp)"
		return 1
	fi
	"$BUILD/tests/ringcheck" wrap "$dir/ring.bin" <"$cap" >"$dir/wrap.out" 2>&1
	local rc=$?
	n=$(sed -n 's/^records=//p' "$dir/wrap.out")
	if [ $rc -ne 0 ] || [ "${n:-0}" -eq 0 ] || ! grep -qx 'drops=0' "$dir/wrap.out"; then
		tap_fail "ring->lector: the guest's capture wrapped in a ring file (ringcheck wrap)"
		sed 's/^/# /' "$dir/wrap.out"
		return 1
	fi
	tap_ok "ring->lector: the guest's capture ($n records) wrapped in a ring file, running=0, no drops"
	wp=$(tl_exp_pid "$exp")
	if ! tl_db_start "$dir/db" 2>"$dir/db.err"; then
		tap_fail "ring->lector: a private MariaDB starts"
		sed 's/^/# /' "$dir/db.err"
		return 1
	fi
	tap_ok "ring->lector: a private MariaDB starts in a temp dir"
	log=$dir/lector.log
	"$LECTOR" --config="$CONF" --migrate 2>"$log"
	timeout 120 "$LECTOR" --config="$CONF" --source=ring --ring-path="$dir/ring.bin" \
		--spill="$dir/lector.spill" 2>>"$log"
	rc=$?
	read -r committed delivered < <(sed -n 's/.*stopped; \([0-9]*\) records committed this run, \([0-9]*\) delivered.*/\1 \2/p' "$log")
	check "ring->lector: lector drains the ring and stops cleanly (status $rc, ${committed:-?} of ${delivered:-?} delivered records committed, of $n)" \
		test "$rc" = 0 -a "${committed:-x}" = "$n" -a "${delivered:-y}" = "$n"
	sed 's/^/# /' "$log"
	check "ring->lector: the database holds the $n records once, seq 0..$((n - 1)) without a hole" \
		test "$(sql "SELECT COUNT(*) = $n AND COUNT(DISTINCT seq) = $n AND MIN(seq) = 0 AND MAX(seq) = $((n - 1)) FROM calls WHERE session=$RING_SESSION")" = 1
	"$RING_DBT" raw "$SOCK" "$RING_SESSION" "$dir/raw.bin"
	check "ring->lector: records read back from MariaDB equal the module's capture byte for byte (every field: resident, swap, cgroup, file and flags too)" \
		"$RING_DBT" same "$cap" "$dir/raw.bin"
	"$WL/check-records" "$exp" "$dir/raw.bin" >"$dir/check.out" 2>&1
	rc=$?
	ring_tap_merge "ring->lector known-calls from MariaDB" <"$dir/check.out"
	check "ring->lector: check-records exits 0 on the stored rows (status $rc)" test $rc -eq 0
	check "ring->lector: known-calls pid $wp totals (net, mapped, vm_size, requested, counts, exited) equal an independent recomputation" \
		"$RING_DBT" oracle "$SOCK" "$RING_SESSION" "$wp"
	check "ring->lector: known-calls pid $wp is closed out: exited, 0 net, 0 mapped, 0 vm" \
		test "$(sql "SELECT exited=1 AND mapped_bytes=0 AND vm_size_bytes=0 AND net_bytes=0 FROM processes WHERE pid=$wp")" = 1
	check "ring->lector: capture_stats of the session: $n seen, 0 drops" \
		test "$(sql "SELECT CONCAT_WS(',', seen, drops) FROM capture_stats WHERE session=$RING_SESSION")" = "$n,0"
	ring_cleanup
}
