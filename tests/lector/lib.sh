# tests/lector/lib.sh - helpers of the lector suite (source it): a private
# MariaDB in a temp dir, lector started and stopped in the background, SQL.
TOP=${TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BUILD=${BUILD:-$TOP/build}
LECTOR=$BUILD/bin/lector
WL=$BUILD/workload

# tl_db_start DIR: private MariaDB on a free port; sets DB_DIR, SOCK, CONF.
tl_db_start() {
	DB_DIR=$1
	SOCK=$DB_DIR/mysqld.sock CONF=$DB_DIR/lector.conf
	local port=${TL_PORT:-$((3400 + $$ % 500))} try
	for try in 1 2 3 4 5; do # another suite may hold the port: try the next ones
		MEMPROBE_DB_PORT=$port MEMPROBE_DB_POOL=${MEMPROBE_DB_POOL:-256M} \
			"$TOP/scripts/db-start.sh" "$DB_DIR" >/dev/null 2>"$DB_DIR.err" && return 0
		port=$((port + 500 + try))
	done
	cat "$DB_DIR.err" >&2
	return 1
}
tl_db_stop() { "$TOP/scripts/db-stop.sh" "$DB_DIR" >/dev/null; }

# sql "statement": root over the socket, batch output.
sql() { mariadb --no-defaults -uroot --socket="$SOCK" -N -B memprobe -e "$1"; }

# tl_lector_start LOG [args]: lector in the background; waits until it
# captures.  Sets LECTOR_PID.
tl_lector_start() {
	local log=$1; shift
	: >"$log"
	"$LECTOR" --config="$CONF" --spill="$DB_DIR/lector.spill" "$@" 2>"$log" &
	LECTOR_PID=$!
	for _ in $(seq 1 100); do
		grep -q "capturing from" "$log" && return 0
		kill -0 "$LECTOR_PID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}
tl_lector_stop() {
	kill -TERM "$LECTOR_PID" 2>/dev/null
	wait "$LECTOR_PID" 2>/dev/null
}
# session of the lector whose log is $1
tl_session() { sed -n 's/.*(session \([0-9]*\)).*/\1/p' "$1" | head -1; }

# tl_wait_committed SESSION SEQ: until the session's committed_seq >= SEQ
# or 20 s passed.
tl_wait_seq() {
	for _ in $(seq 1 200); do
		[ "$(sql "SELECT committed_seq >= $2 FROM capture_stats WHERE session=$1")" = 1 ] && return 0
		sleep 0.1
	done
	return 1
}
# tl_wait_quiet SESSION: until everything the source had seen a moment ago
# is committed (the queue is FIFO, so rows_committed >= that count means
# it is all in), or 60 s passed.  A writer still reconnecting gets up to
# 20 s to write the session's row first.  Works under background load,
# where the row count never stops growing.
tl_wait_quiet() {
	local target c
	sleep 1.2 # the writer refreshes capture_stats at least once a second
	# a writer that is still reconnecting (backoff up to 4 s) has not
	# written the session's row yet: wait for it, up to 20 s
	for _ in $(seq 1 200); do
		target=$(sql "SELECT seen FROM capture_stats WHERE session=$1" 2>/dev/null)
		[ -n "$target" ] && break
		sleep 0.1
	done
	[ -n "$target" ] || return 1
	for _ in $(seq 1 600); do
		c=$(sql "SELECT rows_committed FROM capture_stats WHERE session=$1")
		[ "$c" -ge "$target" ] && return 0
		sleep 0.1
	done
	return 1
}
# tl_no_holes SESSION: rows of the session are exactly seq 0..committed_seq.
tl_no_holes() {
	[ "$(sql "SELECT COUNT(*) = MAX(seq) + 1 AND MIN(seq) = 0 FROM calls WHERE session=$1")" = 1 ]
}
# header fields of a known-calls expectation file
tl_exp_pid() { python3 -c "import struct,sys;print(struct.unpack_from('<I',open(sys.argv[1],'rb').read(144),24)[0])" "$1"; }
