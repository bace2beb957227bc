#!/usr/bin/env bash
# run.sh - what `make run` does after deps and build: start the private
# MariaDB under ./var, apply migrations, start lector in the background with
# the automatic capture source (the stap ring if /proc/memprobe exists, else
# eBPF), and print where everything is.  `make stop` undoes it.
# The server needs a token: var/api-token (the secret, mode 0600) and
# var/api-auth (the same as a header line for curl -H @var/api-auth) are
# made once and kept; TLS=1 serves HTTPS with a self-signed certificate
# (var/tls-cert.pem, var/tls-key.pem), made once as well.
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

# The server: read-only DB user, 127.0.0.1, the token, TLS on request.
SPORT=${MEMPROBE_SERVER_PORT:-8080}
(
	umask 077
	if [ ! -s "$VAR/api-token" ]; then
		head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n' >"$VAR/api-token.tmp"
		echo >>"$VAR/api-token.tmp"
		mv "$VAR/api-token.tmp" "$VAR/api-token"
		rm -f "$VAR/api-auth"
	fi
	[ -s "$VAR/api-auth" ] || printf 'Authorization: Bearer %s\n' "$(cat "$VAR/api-token")" >"$VAR/api-auth"
	chmod 0600 "$VAR/api-token" "$VAR/api-auth"
)
TOKEN=$(cat "$VAR/api-token")
SARGS=(--token-file="$VAR/api-token")
SCHEME=http
if [ "${TLS:-0}" = 1 ]; then
	command -v openssl >/dev/null || die "TLS=1 needs openssl: apt-get install openssl"
	if [ ! -s "$VAR/tls-key.pem" ] || [ ! -s "$VAR/tls-cert.pem" ]; then
		(umask 077 && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 825 \
			-subj "/CN=memprobe on $(hostname)" -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
			-keyout "$VAR/tls-key.pem" -out "$VAR/tls-cert.pem" 2>/dev/null) ||
			die "openssl could not make a self-signed certificate in $VAR"
		echo "run: made a self-signed certificate for 127.0.0.1 and localhost: $VAR/tls-cert.pem"
	fi
	SARGS+=(--tls-cert="$VAR/tls-cert.pem" --tls-key="$VAR/tls-key.pem")
	SCHEME=https
fi
if [ -f "$VAR/server.pid" ] && kill -0 "$(cat "$VAR/server.pid")" 2>/dev/null; then
	echo "run: server already running (pid $(cat "$VAR/server.pid")), log $VAR/server.log"
	grep -q "listening on $SCHEME:" "$VAR/server.log" ||
		echo "run: it does not serve $SCHEME: make stop first to switch (TLS=1 or not)"
else
	[ -x "$BUILD/memprobe-server" ] || die "$BUILD/memprobe-server is not built: run make"
	: >"$VAR/server.log"
	(cd "$TOP" && exec nohup "$BUILD/memprobe-server" --config="$VAR/reader.conf" --port="$SPORT" \
		"${SARGS[@]}" </dev/null >>"$VAR/server.log" 2>&1) &
	echo $! >"$VAR/server.pid"
	for _ in $(seq 1 50); do
		grep -q "listening on" "$VAR/server.log" && break
		kill -0 "$(cat "$VAR/server.pid")" 2>/dev/null ||
			{ tail -n 5 "$VAR/server.log" >&2; die "server exited at start (port $SPORT in use? set MEMPROBE_SERVER_PORT)"; }
		sleep 0.1
	done
fi
CURL="curl -s -H @$VAR/api-auth"
[ "$SCHEME" = https ] && CURL="$CURL --cacert $VAR/tls-cert.pem"
echo "run: dashboard (the token URL; it opens a session cookie): $SCHEME://127.0.0.1:$SPORT/?token=$TOKEN"
echo "run: API: $CURL $SCHEME://127.0.0.1:$SPORT/api/processes"
echo "run: the token is in $VAR/api-token (mode 0600): whoever can read it can read every process's calls"
