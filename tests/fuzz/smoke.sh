# tests/fuzz/smoke.sh - the sanitizer smoke runs of tests/fuzz/run-tests
# (source it after lib.sh; WORK set): a real capture through the ASan
# builds of memprobe-cat, check-records, ringcheck and lector; lector on
# bad inputs; memprobe-server on a private MariaDB.

# memprobe-cat (eBPF) -> check-records -> ringcheck wrap -> lector jsonl.
chain_tests() {
	local d=$WORK/chain wl rc drops i
	mkdir -p "$d"
	env "${SAN_ENV[@]}" "$ASAN/memprobe-cat" --source=bpf --raw --stats >"$d/raw" 2>"$d/cat.err" &
	CAT_PID=$!
	for ((i = 0; i < 300; i++)); do # the first record says capture started
		[ -s "$d/raw" ] && break
		sleep 0.1
	done
	"$BUILD/workload/known-calls" "$d/exp"
	wl=$?
	sleep 0.3
	kill -INT "$CAT_PID"
	wait "$CAT_PID"
	rc=$?
	CAT_PID=
	check_san "memprobe-cat --source=bpf --raw (ASan) captures a known-calls run and exits 0 (workload $wl, cat $rc)" \
		test "$wl" -eq 0 -a "$rc" -eq 0
	drops=$(grep -o 'drops=[0-9]*' "$d/cat.err" | tail -1 | cut -d= -f2)
	san_run "$ASAN/check-records" --drops "${drops:-0}" "$d/exp" "$d/raw" >"$d/check.out" 2>&1
	check_san "check-records (ASan): the capture holds every known call, field by field ($(grep -c '^ok' "$d/check.out") checks)" \
		test $? -eq 0
	san_run "$ASAN/ringcheck" wrap "$d/ring.bin" <"$d/raw" >"$d/wrap.out" 2>&1
	check_san "ringcheck wrap (ASan) turns the capture into a ring file" test $? -eq 0
	san_run "$ASAN/lector" --sink=jsonl --source=ring --ring-path="$d/ring.bin" \
		--spill="$d/l.spill" >"$d/out.jsonl" 2>"$d/lector.err"
	check_san "lector --source=ring --sink=jsonl (ASan) drains the ring file and exits 0 (status $?)" \
		grep -q . "$d/out.jsonl"
	check "lector's JSONL is the capture, record by record, every field ($(wc -l <"$d/out.jsonl") records)" \
		python3 "$HERE/jsonl_vs_raw.py" "$d/out.jsonl" "$d/raw"
}

lector_bad_input_tests() {
	local d=$WORK/bad rc
	mkdir -p "$d"
	python3 "$HERE/mkinput.py" truncated "$d/trunc.bin"
	san_run "$ASAN/lector" --sink=jsonl --source=ring --ring-path="$d/trunc.bin" \
		--spill="$d/t.spill" >/dev/null 2>"$d/trunc.err"
	rc=$?
	check_san "lector (ASan) refuses a truncated ring file, saying so (status $rc)" \
		bash -c "[ $rc -ne 0 ] && grep -q 'ring file is truncated' '$d/trunc.err'"
	python3 "$HERE/mkinput.py" ring1 "$d/one.bin"
	python3 "$HERE/mkinput.py" spill "$d/c.spill"
	san_run "$ASAN/lector" --sink=jsonl --source=ring --ring-path="$d/one.bin" \
		--spill="$d/c.spill" >"$d/c.jsonl" 2>"$d/c.err"
	check_san "lector (ASan) replays a corrupt spill (comm_len 2^40) with the names' real lengths, then the ring" \
		python3 -c "import json,sys; l=[json.loads(x) for x in open(sys.argv[1])]
sys.exit(not (len(l) == 3 and sorted(x['comm'] for x in l) == ['ring', 'spilled', 'spilled']))" "$d/c.jsonl"
}

# http_expect STATUS PATH [curl args]: appends to $WORK/http.bad when the
# answer differs.  The token goes with it unless NOAUTH=1.
http_expect() {
	local want=$1 path=$2 got auth=(-H @"$WORK/api-auth")
	shift 2
	[ "${NOAUTH:-0}" = 1 ] && auth=()
	got=$(curl -s -o "$WORK/http.body" -w '%{http_code}' "${auth[@]}" "$@" "http://127.0.0.1:$PORT$path")
	[ "$got" = "$want" ] || echo "$path: $got, not $want" >>"$WORK/http.bad"
}

server_requests() {
	local kpid
	kpid=$(sql "SELECT pid FROM calls WHERE comm = 'known-calls' LIMIT 1")
	: >"$WORK/http.bad"
	http_expect 200 "/api/processes?limit=5&sort=net&order=asc"
	http_expect 200 "/api/processes/${kpid:-1}?points=10"
	http_expect 200 "/api/top"
	http_expect 200 "/api/calls?limit=20&pid=${kpid:-1}"
	http_expect 200 "/api/stats"
	http_expect 200 "/metrics"
	http_expect 400 "/api/calls?limit=0"
	http_expect 400 "/api/calls?%6cimit=5"
	http_expect 400 "/api/calls?limit"
	http_expect 400 "/api/processes?name=a%00b"
	http_expect 400 "/api/processes/%0D5"
	http_expect 400 "/api/events" -H "Last-Event-ID: x1"
	NOAUTH=1 http_expect 401 "/api/processes"
	NOAUTH=1 http_expect 303 "/?token=$(cat "$WORK/api-token")"
	NOAUTH=1 http_expect 401 "/?token=wrong-wrong-wrong-wrong"
	http_expect 421 "/api/top" -H "Host: rebound.example"
	http_expect 403 "/api/events" -H "Origin: http://rebound.example"
	# SSE catch-up from id 1: at least one call event before curl gives up
	curl -s -N --max-time 3 -H @"$WORK/api-auth" -H "Last-Event-ID: 1" "http://127.0.0.1:$PORT/api/events" \
		>"$WORK/sse.out" 2>/dev/null
	grep -q '^id: ' "$WORK/sse.out" || echo "/api/events: no call event in 3 s" >>"$WORK/http.bad"
	[ ! -s "$WORK/http.bad" ]
}

server_tests() {
	local rc n_raw i
	. "$TOP/tests/lector/lib.sh" # tl_db_start, tl_db_stop, sql
	tl_db_start "$WORK/db" || { tap_fail "a private MariaDB starts (server smoke)"; return; }
	san_run "$ASAN/lector" --config="$CONF" --migrate 2>"$WORK/mig.err"
	check_san "lector --migrate (ASan) creates the schema" test $? -eq 0
	san_run "$ASAN/lector" --config="$CONF" --source=ring --ring-path="$WORK/chain/ring.bin" \
		--spill="$WORK/db.spill" 2>"$WORK/store.err"
	n_raw=$(($(stat -c %s "$WORK/chain/raw") / 192))
	check_san "lector (ASan) stores the capture's $n_raw records in MariaDB" \
		test "$(sql 'SELECT COUNT(*) FROM calls')" = "$n_raw"
	(umask 077 && head -c 24 /dev/urandom | base64 | tr '+/' '-_' >"$WORK/api-token" &&
		printf 'Authorization: Bearer %s\n' "$(cat "$WORK/api-token")" >"$WORK/api-auth")
	env "${SAN_ENV[@]}" "$ASAN/memprobe-server" --config "$DB_DIR/reader.conf" --port 0 \
		--token-file "$WORK/api-token" >"$WORK/srv.out" 2>"$WORK/srv.err" &
	SRV_PID=$!
	for ((i = 0; i < 300; i++)); do
		PORT=$(sed -n 's|.*http://[^:]*:\([0-9]*\)/.*|\1|p' "$WORK/srv.out" | head -1)
		[ -n "$PORT" ] && break
		sleep 0.1
	done
	if [ -z "$PORT" ]; then
		tap_fail "memprobe-server (ASan) starts: $(tail -2 "$WORK/srv.err" | tr '\n' ' ')$(san_news)"
		kill -KILL "$SRV_PID"
		return
	fi
	server_requests
	check "memprobe-server (ASan): 17 requests (6 good, 6 bad params/header, 5 without or with a wrong token, Host or Origin) and SSE catch-up answered as documented $(tr '\n' ' ' <"$WORK/http.bad")" \
		test ! -s "$WORK/http.bad"
	kill -TERM "$SRV_PID"
	wait "$SRV_PID"
	rc=$?
	SRV_PID=
	check_san "memprobe-server (ASan) stops on SIGTERM with status 0 (status $rc), no sanitizer report" \
		test "$rc" -eq 0
}
