#!/usr/bin/env bash
# run.sh - what `make run` does after deps and build: start the private
# MariaDB under ./var, apply migrations, start lector in the background with
# the automatic capture source (the stap ring if /proc/memprobe exists, else
# eBPF), and print where everything is.  `make stop` undoes it.
set -euo pipefail
TOP=${TOP:-$(cd "$(dirname "$0")/.." && pwd)}
BUILD=${BUILD:-$TOP/build}
VAR=$TOP/var
LECTOR=$BUILD/bin/lector
die() { echo "run: $*" >&2; exit 1; }

[ -x "$LECTOR" ] || die "$LECTOR is not built: run make"
[ "$(id -u)" = 0 ] || die "capture needs root (eBPF or the stap module): run as root"
"$TOP/scripts/db-start.sh" "$VAR"
"$LECTOR" --config="$VAR/lector.conf" --migrate || die "migrations failed (see above)"
if [ -f "$VAR/lector.pid" ] && kill -0 "$(cat "$VAR/lector.pid")" 2>/dev/null; then
	echo "run: lector already running (pid $(cat "$VAR/lector.pid")), log $VAR/lector.log"
else
	nohup "$LECTOR" --config="$VAR/lector.conf" --source=auto --spill="$VAR/lector.spill" \
		</dev/null >>"$VAR/lector.log" 2>&1 &
	echo $! >"$VAR/lector.pid"
	for _ in $(seq 1 100); do
		tail -n 20 "$VAR/lector.log" | grep -q "capturing from" && break
		kill -0 "$(cat "$VAR/lector.pid")" 2>/dev/null ||
			{ tail -n 5 "$VAR/lector.log" >&2; die "lector exited at start (log: $VAR/lector.log)"; }
		sleep 0.1
	done
	echo "run: lector running (pid $(cat "$VAR/lector.pid")), log $VAR/lector.log"
fi
tail -n 20 "$VAR/lector.log" | grep "capturing from" | tail -1
echo "run: database: mariadb --no-defaults -uroot --socket=$VAR/mysqld.sock memprobe"
echo "run: server credentials (read-only): $VAR/reader.conf; stop everything with: make stop"

# The server (server/, added by its owner): read-only DB user, 127.0.0.1.
SPORT=${MEMPROBE_SERVER_PORT:-8080}
if [ -f "$VAR/server.pid" ] && kill -0 "$(cat "$VAR/server.pid")" 2>/dev/null; then
	echo "run: server already running (pid $(cat "$VAR/server.pid")), log $VAR/server.log"
else
	[ -x "$BUILD/memprobe-server" ] || die "$BUILD/memprobe-server is not built: run make"
	: >"$VAR/server.log"
	(cd "$TOP" && exec nohup "$BUILD/memprobe-server" --config="$VAR/reader.conf" --port="$SPORT" \
		</dev/null >>"$VAR/server.log" 2>&1) &
	echo $! >"$VAR/server.pid"
	for _ in $(seq 1 50); do
		grep -q "listening on" "$VAR/server.log" && break
		kill -0 "$(cat "$VAR/server.pid")" 2>/dev/null ||
			{ tail -n 5 "$VAR/server.log" >&2; die "server exited at start (port $SPORT in use? set MEMPROBE_SERVER_PORT)"; }
		sleep 0.1
	done
fi
echo "run: dashboard: http://127.0.0.1:$SPORT/   (API: curl http://127.0.0.1:$SPORT/api/processes)"
