#!/usr/bin/env bash
# db-accounts.sh - sourced by db-start.sh (one MariaDB) and cluster.sh (a
# Galera cluster): the memprobe schema and its accounts, made the same way
# for both.  db_accounts SOCK DIR HOSTLINES: through root's unix socket
# SOCK, the first time (no DIR/lector.conf yet) create the database
# "memprobe", a writer user for lector and a read-only user for the
# server, with generated passwords written to DIR/lector.conf and
# DIR/reader.conf (mode 0600, never in git) after the lines HOSTLINES
# (how to reach the server: db_host, db_socket, db_port).  Every call makes
# sure the writers' lock schema memprobe_lock exists and only the writer
# has a grant on it (migration 014; a DIR made by an older memprobe has
# none).  Needs a die() that prints and exits.

db_accounts() {
	local sock=$1 dir=$2 hostlines=$3 wpw rpw who user pw
	if [ ! -f "$dir/lector.conf" ]; then
		wpw=$(head -c 18 /dev/urandom | base64 | tr '+/' 'xy')
		rpw=$(head -c 18 /dev/urandom | base64 | tr '+/' 'xy')
		# --skip-name-resolve: TCP logins come from '127.0.0.1', socket ones from 'localhost'
		mariadb --no-defaults -uroot --socket="$sock" <<SQL || die "creating users failed"
CREATE DATABASE IF NOT EXISTS memprobe;
CREATE OR REPLACE USER 'memprobe_writer'@'localhost' IDENTIFIED BY '$wpw';
CREATE OR REPLACE USER 'memprobe_writer'@'127.0.0.1' IDENTIFIED BY '$wpw';
CREATE OR REPLACE USER 'memprobe_reader'@'localhost' IDENTIFIED BY '$rpw';
CREATE OR REPLACE USER 'memprobe_reader'@'127.0.0.1' IDENTIFIED BY '$rpw';
GRANT ALL ON memprobe.* TO 'memprobe_writer'@'localhost', 'memprobe_writer'@'127.0.0.1';
GRANT SELECT ON memprobe.* TO 'memprobe_reader'@'localhost', 'memprobe_reader'@'127.0.0.1';
SQL
		(
			umask 077
			for who in lector reader; do
				user=memprobe_writer pw=$wpw
				[ $who = reader ] && user=memprobe_reader pw=$rpw
				cat >"$dir/$who.conf" <<CONF
# written by scripts/$(basename "$0"): credentials of the private MariaDB
$hostlines
db_name = memprobe
db_user = $user
db_password = $pw
CONF
			done
		)
	fi
	# '_' is a wildcard in a GRANT's database name: escaped, it names this one.
	mariadb --no-defaults -uroot --socket="$sock" <<SQL || die "creating the lock schema memprobe_lock failed"
CREATE DATABASE IF NOT EXISTS memprobe_lock;
GRANT ALL ON \`memprobe\\_lock\`.* TO 'memprobe_writer'@'localhost', 'memprobe_writer'@'127.0.0.1';
SQL
}
