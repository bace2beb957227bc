#!/usr/bin/env bash
# cluster.sh - a 3-node MariaDB Galera cluster on this machine, for trying
# memprobe against several database servers and for tests/cluster.  Node N
# (1..3) lives in DIR/nodeN (datadir, socket, log), listens on its own
# loopback address 127.0.0.(N+1) with its own ports there: mysqld
# $MEMPROBE_CLUSTER_PORT (default 3306), Galera 4567, IST 4568, SST 4444.
# Only 127.0.0.0/8: cluster traffic never leaves the machine.  The memprobe
# schema and accounts are made as db-start.sh makes them (db-accounts.sh);
# DIR/lector.conf and DIR/reader.conf list the three nodes in db_host.
set -euo pipefail
HERE=$(dirname "$0")
PORT=${MEMPROBE_CLUSTER_PORT:-3306}
POOL=${MEMPROBE_CLUSTER_POOL:-128M}
PROVIDER=${MEMPROBE_GALERA:-/usr/lib/galera/libgalera_smm.so}
NODES="1 2 3"
# As root, the nodes run as the mysql account: the joiner's rsync daemon
# (state transfer) started by root would write as nobody and be refused.
RUN_AS=$(id -un)
[ "$(id -u)" -eq 0 ] && RUN_AS=mysql
die() { echo "cluster: $*" >&2; exit 1; }

usage() {
	cat <<USAGE
usage: cluster.sh COMMAND DIR [N]
A 3-node MariaDB Galera cluster, node N in DIR/nodeN on 127.0.0.(N+1).
  start DIR     create (first time) and start the three nodes: node 1
                bootstraps a new cluster (--wsrep-new-cluster), 2 and 3 join
                (state transfer by rsync); waits until wsrep_cluster_size=3
                and every node is Synced, then makes the memprobe database,
                its accounts and DIR/lector.conf, DIR/reader.conf
  stop DIR      shut the nodes down cleanly (3, 2, then 1: the last to
                leave is the one a later start bootstraps from)
  status DIR    each node: pid, address, wsrep state, cluster size
  kill DIR N    SIGKILL node N (a crash: no shutdown, no goodbye)
  rejoin DIR N  start node N again; it joins the running cluster (IST or
                SST) and this waits until it is Synced
Environment: MEMPROBE_CLUSTER_PORT (mysqld port on each address, 3306),
MEMPROBE_CLUSTER_POOL (InnoDB buffer pool per node, 128M),
MEMPROBE_GALERA (the wsrep provider, $PROVIDER).
Needs galera-4 and rsync: bash scripts/deps.sh cluster.
USAGE
}

addr() { echo "127.0.0.$(($1 + 1))"; }
ndir() { echo "$DIR/node$1"; }
sock() { echo "$(ndir "$1")/mysqld.sock"; }
pidof_node() { cat "$(ndir "$1")/launch.pid" 2>/dev/null || true; }
alive() { local p; p=$(pidof_node "$1"); [ -n "$p" ] && kill -0 "$p" 2>/dev/null; }
sqln() { mariadb --no-defaults -uroot --socket="$(sock "$1")" -N -B -e "$2" 2>/dev/null; }
status_var() { sqln "$1" "SHOW GLOBAL STATUS LIKE '$2'" | cut -f2; }
gcomm() {
	local n list=""
	for n in $NODES; do list="$list${list:+,}$(addr "$n"):4567"; done
	echo "gcomm://$list"
}

check_deps() {
	command -v mariadbd >/dev/null || die "mariadbd missing: run bash scripts/deps.sh db"
	[ -f "$PROVIDER" ] || die "no Galera provider at $PROVIDER: run bash scripts/deps.sh cluster (galera-4)"
	command -v rsync >/dev/null || die "rsync missing (state transfer): run bash scripts/deps.sh cluster"
	command -v wsrep_sst_rsync >/dev/null || die "wsrep_sst_rsync missing: reinstall mariadb-server"
}

# start_node N [--wsrep-new-cluster]: mariadbd in the background
start_node() {
	local n=$1 d a
	shift
	d=$(ndir "$n") a=$(addr "$n")
	alive "$n" && { echo "cluster: node $n already running (pid $(pidof_node "$n"))"; return 0; }
	mkdir -p "$d/mysql"
	[ "$RUN_AS" = "$(id -un)" ] || chown -R "$RUN_AS:" "$d"
	# shellcheck disable=SC2086 # MEMPROBE_DB_ARGS: options are words
	mariadbd --no-defaults ${MEMPROBE_DB_ARGS:-} --user="$RUN_AS" --datadir="$d/mysql" --socket="$(sock "$n")" \
		--pid-file="$d/mysqld.pid" --port="$PORT" --bind-address="$a" --skip-name-resolve \
		--log-error="$d/mysqld.log" --innodb-buffer-pool-size="$POOL" --innodb-log-file-size=128M \
		--innodb-flush-log-at-trx-commit=2 --max-connections=200 \
		--binlog-format=ROW --default-storage-engine=InnoDB --innodb-autoinc-lock-mode=2 \
		--wsrep-on=ON --wsrep-provider="$PROVIDER" --wsrep-cluster-name=memprobe \
		--wsrep-cluster-address="$(gcomm)" --wsrep-node-name="node$n" --wsrep-node-address="$a:4567" \
		--wsrep-provider-options="gmcast.listen_addr=tcp://$a:4567;ist.recv_addr=$a:4568;gcache.size=256M" \
		--wsrep-sst-method=rsync --wsrep-sst-receive-address="$a:4444" --wsrep-slave-threads=2 \
		"$@" </dev/null >/dev/null 2>&1 &
	echo $! >"$d/launch.pid" # mariadbd does not fork: the pid it writes to mysqld.pid
	echo "cluster: node $n starting (pid $!, $a:$PORT, log $d/mysqld.log)"
}

# wait_synced N TIMEOUT_S: node N answers, is Synced and sees 3 nodes
wait_synced() {
	local n=$1 t_end=$((SECONDS + $2)) st size
	while [ $SECONDS -lt $t_end ]; do
		st=$(status_var "$n" wsrep_local_state_comment || true)
		size=$(status_var "$n" wsrep_cluster_size || true)
		[ "$st" = Synced ] && [ "$size" = 3 ] && return 0
		alive "$n" || die "node $n exited before it was Synced; see $(ndir "$n")/mysqld.log"
		sleep 0.2
	done
	die "node $n not Synced in a 3-node cluster within $2 s (state '${st:-no answer}', size '${size:-?}'); see $(ndir "$n")/mysqld.log"
}

# A node that crashed leaves grastate.dat with safe_to_bootstrap: 0; the
# one to bootstrap from after a clean stop of all is the last one stopped.
bootstrap_ok() {
	local g
	g="$(ndir 1)/mysql/grastate.dat"
	[ ! -f "$g" ] || grep -q '^safe_to_bootstrap: 1' "$g"
}

cmd_start() {
	local n t0=$SECONDS
	check_deps
	mkdir -p "$DIR"
	chmod 0711 "$DIR" # the nodes' account reaches its own DIR/nodeN, lists nothing
	if ! alive 1; then
		for n in 2 3; do alive "$n" && die "node $n runs without node 1: cluster.sh rejoin $DIR 1"; done
		if [ ! -d "$(ndir 1)/mysql/mysql" ]; then
			echo "cluster: creating node 1's datadir $(ndir 1)/mysql"
			mkdir -p "$(ndir 1)"
			mariadb-install-db --no-defaults --user="$RUN_AS" --datadir="$(ndir 1)/mysql" \
				--auth-root-authentication-method=socket >"$(ndir 1)/install.log" 2>&1 ||
				die "mariadb-install-db failed; see $(ndir 1)/install.log"
		fi
		bootstrap_ok || die "node 1 did not leave the cluster last ($(ndir 1)/mysql/grastate.dat:" \
			"safe_to_bootstrap: 0); if no node runs, set it to 1 in the node with the highest seqno and start from it"
		start_node 1 --wsrep-new-cluster
	fi
	for _ in $(seq 1 300); do
		[ "$(status_var 1 wsrep_ready || true)" = ON ] && break
		alive 1 || die "node 1 exited at start; see $(ndir 1)/mysqld.log (port $PORT on $(addr 1) in use? set MEMPROBE_CLUSTER_PORT)"
		sleep 0.1
	done
	[ "$(status_var 1 wsrep_ready || true)" = ON ] || die "node 1 not ready within 30 s; see $(ndir 1)/mysqld.log"
	for n in 2 3; do
		# one joiner at a time: each takes a state transfer from a donor
		start_node "$n"
		wait_node_ready "$n" 120
	done
	for n in $NODES; do wait_synced "$n" 120; done
	# shellcheck source=scripts/db-accounts.sh
	. "$HERE/db-accounts.sh"
	db_accounts "$(sock 1)" "$DIR" "db_host = $(addr 1):$PORT,$(addr 2):$PORT,$(addr 3):$PORT
db_port = $PORT"
	echo "cluster: 3 nodes Synced in $((SECONDS - t0)) s; lector: --config=$DIR/lector.conf, server: --db-config=$DIR/reader.conf"
}

# wait_node_ready N TIMEOUT_S: node N answers SQL with wsrep_ready=ON
wait_node_ready() {
	local n=$1 t_end=$((SECONDS + $2))
	while [ $SECONDS -lt $t_end ]; do
		[ "$(status_var "$n" wsrep_ready || true)" = ON ] && return 0
		alive "$n" || die "node $n exited while joining; see $(ndir "$n")/mysqld.log"
		sleep 0.2
	done
	die "node $n did not join within $2 s; see $(ndir "$n")/mysqld.log"
}

cmd_stop() {
	local n p
	for n in 3 2 1; do
		alive "$n" || continue
		p=$(pidof_node "$n")
		kill -TERM "$p"
		for _ in $(seq 1 300); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -0 "$p" 2>/dev/null && die "node $n (pid $p) did not stop within 30 s"
		echo "cluster: node $n stopped"
	done
}

cmd_status() {
	local n
	for n in $NODES; do
		if alive "$n"; then
			printf 'node %s: pid %s, %s:%s, %s, ready %s, cluster size %s\n' "$n" "$(pidof_node "$n")" \
				"$(addr "$n")" "$PORT" "$(status_var "$n" wsrep_local_state_comment)" \
				"$(status_var "$n" wsrep_ready)" "$(status_var "$n" wsrep_cluster_size)"
		else
			printf 'node %s: down\n' "$n"
		fi
	done
}

cmd_kill() {
	local n=$1 p
	alive "$n" || die "node $n is not running"
	p=$(pidof_node "$n")
	kill -KILL "$p"
	for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
	rm -f "$(ndir "$n")/launch.pid"
	echo "cluster: node $n (pid $p) killed"
}

cmd_rejoin() {
	local n=$1 t0=$SECONDS
	check_deps
	alive "$n" && die "node $n is running"
	start_node "$n"
	wait_node_ready "$n" 300
	wait_synced "$n" 60
	echo "cluster: node $n rejoined and Synced in $((SECONDS - t0)) s"
}

case ${1:-} in
-h | --help | help) usage; exit 0 ;;
esac
[ $# -ge 2 ] || { usage >&2; exit 2; }
cmd=$1
DIR=$(realpath -m "$2")
case $cmd in
start) cmd_start ;;
stop) cmd_stop ;;
status) cmd_status ;;
kill | rejoin)
	if [ $# -ne 3 ] || ! [[ $3 =~ ^[123]$ ]]; then die "$cmd needs a node number 1, 2 or 3"; fi
	"cmd_$cmd" "$3"
	;;
*) usage >&2; exit 2 ;;
esac
