#!/usr/bin/env bash
# spider.sh start|stop|status DIR - memprobe's calls sharded by host with
# MariaDB's Spider engine, on this machine only (127.0.0.1, own ports).
#
# Owns the topology, nothing else: N backends (SPIDER_BACKENDS, default 2)
# and one head, each a private MariaDB of scripts/db-start.sh in DIR/bK and
# DIR/head (own datadir, socket, port, accounts).  Every backend gets the
# whole memprobe schema from `lector --migrate`; the head too, and then its
# `calls` becomes a Spider table PARTITION BY HASH (host_id) with one
# partition per backend (COMMENT 'srv "bK"'), so lector and memprobe-server
# use the head's lector.conf / reader.conf as they would a single MariaDB.
# Everything else (hosts, processes, capture_stats, cid_leases, the
# memprobe_lock.cid_alloc row, ...) stays in the head's InnoDB.
#
# Environment: SPIDER_PORT (default 3340: head; backends 3341, 3342, ...),
# SPIDER_BACKENDS (1-3), LECTOR (default $BUILD/bin/lector, BUILD default
# build), MEMPROBE_DB_POOL as for db-start.sh.  Needs mariadb-plugin-spider
# (scripts/deps.sh spider).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(dirname "$HERE")
die() { echo "spider: $*" >&2; exit 1; }

usage() {
	sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'
}

case ${1:-} in
-h | --help) usage; exit 0 ;;
start | stop | status) ;;
*) usage >&2; exit 2 ;;
esac
[ $# -eq 2 ] || { usage >&2; exit 2; }
CMD=$1
DIR=$(realpath -m "$2")
BASE=${SPIDER_PORT:-3340}
NB=${SPIDER_BACKENDS:-2}
[[ $NB =~ ^[1-3]$ ]] || die "SPIDER_BACKENDS must be 1, 2 or 3"
LECTOR=${LECTOR:-${BUILD:-$TOP/build}/bin/lector}

root() { # root SUBDIR SQL...: SQL as root over SUBDIR's socket
	local d=$1
	shift
	mariadb --no-defaults -uroot --socket="$DIR/$d/mysqld.sock" -N -B "$@"
}
conf_val() { sed -n "s/^$2 = //p" "$DIR/$1/lector.conf"; }
nodes() {
	local k
	for k in $(seq 1 "$NB"); do echo "b$k"; done
	echo head
}

if [ "$CMD" = status ]; then
	rc=0
	for d in $(nodes); do
		if [ -f "$DIR/$d/mysqld.pid" ] && kill -0 "$(cat "$DIR/$d/mysqld.pid")" 2>/dev/null; then
			echo "$d: running (pid $(cat "$DIR/$d/mysqld.pid"), $DIR/$d/mysqld.sock)"
		else
			echo "$d: stopped"
			rc=1
		fi
	done
	exit $rc
fi
if [ "$CMD" = stop ]; then
	# the head first: its Spider connections to the backends close cleanly
	for d in head $(nodes | grep -v head); do
		[ -d "$DIR/$d" ] && "$HERE/db-stop.sh" "$DIR/$d"
	done
	exit 0
fi

[ -x "$LECTOR" ] || die "$LECTOR missing: make (BUILD=...) or set LECTOR"
[ -f /usr/lib/mysql/plugin/ha_spider.so ] || die "the Spider plugin is missing: scripts/deps.sh spider"
mkdir -p "$DIR"
k=0
for d in $(nodes | grep -v head); do
	k=$((k + 1))
	MEMPROBE_DB_PORT=$((BASE + k)) "$HERE/db-start.sh" "$DIR/$d"
	"$LECTOR" --config="$DIR/$d/lector.conf" --migrate >/dev/null || die "lector --migrate on $d failed"
done
MEMPROBE_DB_PORT=$BASE MEMPROBE_DB_ARGS="--plugin-load-add=ha_spider ${MEMPROBE_DB_ARGS:-}" \
	"$HERE/db-start.sh" "$DIR/head"
if [ "$(root head -e "SELECT COUNT(*) FROM memprobe.calls" 2>/dev/null || true)" != "" ] &&
	[ "$(root head -e "SELECT ENGINE FROM information_schema.TABLES WHERE TABLE_SCHEMA='memprobe' AND TABLE_NAME='calls'")" = SPIDER ]; then
	echo "spider: head already has calls as a Spider table over $NB backend(s)"
	exit 0
fi
"$LECTOR" --config="$DIR/head/lector.conf" --migrate >/dev/null || die "lector --migrate on the head failed"

# One SERVER per backend, the backend's writer account over TCP.
parts=""
k=0
for d in $(nodes | grep -v head); do
	k=$((k + 1))
	pw=$(conf_val "$d" db_password)
	root head memprobe -e "CREATE OR REPLACE SERVER $d FOREIGN DATA WRAPPER mysql OPTIONS
		(HOST '127.0.0.1', PORT $((BASE + k)), USER 'memprobe_writer', PASSWORD '$pw', DATABASE 'memprobe')" ||
		die "CREATE SERVER $d failed"
	parts+="${parts:+, }PARTITION p$k COMMENT = 'srv \"$d\"'"
done
# The head's calls: the migrated definition with ENGINE=SPIDER, without
# migration 021's day partitions (the head's are by HASH (host_id) below;
# each backend keeps the days its --migrate made, up to 7 ahead: lectors
# write only through the head, where calls_part.c leaves a HASH table
# alone, so nothing adds or drops a backend's days later - by hand, or a
# lector run against each backend).  A partitioned table's unique keys must
# hold host_id, so the head's primary key is (cid, ts_ns, host_id); each
# backend keeps 021's PRIMARY KEY (cid, ts_ns).
ddl=$(root head memprobe -e "SHOW CREATE TABLE calls" | cut -f2- | sed 's/\\n/\n/g')
# shellcheck disable=SC2016 # backquotes are SQL's, not the shell's
ddl=$(printf '%s\n' "$ddl" | sed -E \
	-e '/^ *PARTITION BY/,$d' \
	-e 's/PRIMARY KEY \(`cid`,`ts_ns`\)/PRIMARY KEY (`cid`,`ts_ns`,`host_id`)/' \
	-e 's/^\) ENGINE=.*$/) ENGINE=SPIDER COMMENT='"'"'wrapper "mysql", table "calls"'"'"'/')
# shellcheck disable=SC2016
printf '%s' "$ddl" | grep -q 'PRIMARY KEY (`cid`,`ts_ns`,`host_id`)' || die "unexpected calls definition on the head: $ddl"
root head memprobe <<SQL || die "making calls a Spider table failed"
DROP TABLE calls;
$ddl
PARTITION BY HASH (host_id) ($parts);
SQL
echo "spider: head 127.0.0.1:$BASE, calls sharded by HASH(host_id) over $NB backend(s) (ports $((BASE + 1))..$((BASE + NB)))"
