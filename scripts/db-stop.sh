#!/usr/bin/env bash
# db-stop.sh [DIR] - stop the private MariaDB that db-start.sh started in
# DIR (default ./var).  Waits for a clean shutdown (up to 60 s).
set -euo pipefail
DIR=$(realpath -m "${1:-${TOP:-$(dirname "$0")/..}/var}")
PIDF=$DIR/mysqld.pid
if [ ! -f "$PIDF" ] || ! kill -0 "$(cat "$PIDF")" 2>/dev/null; then
	echo "db-stop: no MariaDB running in $DIR"
	exit 0
fi
pid=$(cat "$PIDF")
kill -TERM "$pid"
for _ in $(seq 1 600); do
	kill -0 "$pid" 2>/dev/null || { echo "db-stop: MariaDB stopped"; exit 0; }
	sleep 0.1
done
echo "db-stop: MariaDB (pid $pid) did not stop within 60 s; see $DIR/mysqld.log" >&2
exit 1
