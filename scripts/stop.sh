#!/usr/bin/env bash
# stop.sh - what `make stop` does: stop lector (SIGTERM: it commits what
# is queued) and the private MariaDB that scripts/run.sh started.
set -uo pipefail
TOP=${TOP:-$(cd "$(dirname "$0")/.." && pwd)}
VAR=$TOP/var
if [ -f "$VAR/lector.pid" ] && pid=$(cat "$VAR/lector.pid") && kill -0 "$pid" 2>/dev/null; then
	kill -TERM "$pid"
	for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$pid" 2>/dev/null; then
		echo "stop: lector (pid $pid) still running after 30 s; see $VAR/lector.log" >&2
	else
		echo "stop: lector stopped"
	fi
else
	echo "stop: lector not running"
fi
rm -f "$VAR/lector.pid"
if [ -f "$VAR/server.pid" ] && pid=$(cat "$VAR/server.pid") && kill -0 "$pid" 2>/dev/null; then
	kill -TERM "$pid"
	for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	echo "stop: server stopped"
fi
rm -f "$VAR/server.pid"
"$TOP/scripts/db-stop.sh" "$VAR"
