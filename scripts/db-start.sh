#!/usr/bin/env bash
# db-start.sh [DIR] - start memprobe's private MariaDB under DIR (default
# ./var), creating it the first time: data in DIR/mysql, socket
# DIR/mysqld.sock, TCP 127.0.0.1:$MEMPROBE_DB_PORT (default 3307), no
# systemd, no /etc/mysql (--no-defaults).  The first start creates the
# database "memprobe", a writer user for lector and a read-only user for the
# server, with generated passwords written to DIR/lector.conf and
# DIR/reader.conf (mode 0600, never in git).  Every start makes sure the
# writers' lock schema memprobe_lock exists and only the writer has a grant
# on it (migration 014; a DIR made by an older memprobe has none).
set -euo pipefail
DIR=$(realpath -m "${1:-${TOP:-$(dirname "$0")/..}/var}")
PORT=${MEMPROBE_DB_PORT:-3307}
SOCK=$DIR/mysqld.sock PIDF=$DIR/mysqld.pid LOG=$DIR/mysqld.log DATA=$DIR/mysql
die() { echo "db-start: $*" >&2; exit 1; }

command -v mariadbd >/dev/null || die "mariadbd missing: run scripts/deps.sh db"
mkdir -p "$DIR"
chmod 0700 "$DIR"
ping_db() { mariadb-admin --no-defaults -uroot --socket="$SOCK" ping >/dev/null 2>&1; }

if [ -f "$PIDF" ] && kill -0 "$(cat "$PIDF")" 2>/dev/null && ping_db; then
	echo "db-start: MariaDB already running (pid $(cat "$PIDF"), socket $SOCK)"
	exit 0
fi
if [ ! -d "$DATA/mysql" ]; then
	echo "db-start: creating a private MariaDB in $DATA"
	mariadb-install-db --no-defaults --user=root --datadir="$DATA" \
		--auth-root-authentication-method=socket >"$DIR/install.log" 2>&1 ||
		die "mariadb-install-db failed; see $DIR/install.log"
fi
# Big batched inserts: a buffer pool that holds the hot index pages, and
# group commit to the OS rather than fsync per transaction.
# MEMPROBE_DB_ARGS: more server options (bench/lector/variants loads MyRocks
# with --plugin-load-add=ha_rocksdb: INSTALL SONAME of it crashes 10.11).
# shellcheck disable=SC2086 # options are words
mariadbd --no-defaults ${MEMPROBE_DB_ARGS:-} --user=root --datadir="$DATA" --socket="$SOCK" --pid-file="$PIDF" \
	--port="$PORT" --bind-address=127.0.0.1 --skip-name-resolve --log-error="$LOG" \
	--innodb-buffer-pool-size="${MEMPROBE_DB_POOL:-512M}" --innodb-log-file-size=256M \
	--innodb-flush-log-at-trx-commit=2 --max-connections=200 </dev/null >/dev/null 2>&1 &
for _ in $(seq 1 300); do
	ping_db && break
	kill -0 $! 2>/dev/null || die "mariadbd exited at start; see $LOG (port $PORT in use? set MEMPROBE_DB_PORT)"
	sleep 0.1
done
ping_db || die "MariaDB did not answer within 30 s; see $LOG"

# shellcheck source=scripts/db-accounts.sh
. "$(dirname "$0")/db-accounts.sh"
db_accounts "$SOCK" "$DIR" "db_host = localhost
db_socket = $SOCK
db_port = $PORT"
echo "db-start: MariaDB running (pid $(cat "$PIDF"), socket $SOCK, 127.0.0.1:$PORT)"
