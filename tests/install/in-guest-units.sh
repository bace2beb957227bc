#!/bin/bash
# tests/install/in-guest-units.sh RESULTS - the test driver that
# in-guest-systemd.sh's systemd runs (mp-check.service): the installed
# memprobe units under a real systemd, with the distribution's MariaDB.
# TAP lines go to RESULTS/tap.txt.
set -uo pipefail
OUT=$1/tap.txt
: >"$OUT"
n=0
tap() { # tap OK|FAIL "what"
	n=$((n + 1))
	if [ "$1" = OK ]; then echo "ok $n - $2" >>"$OUT"; else echo "not ok $n - $2" >>"$OUT"; fi
}
check() {
	local what=$1
	shift
	if "$@"; then tap OK "$what"; else tap FAIL "$what"; fi
}
wait_for() { # wait_for SECONDS CMD...: until CMD succeeds
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		[ $SECONDS -ge $end ] && return 1
		sleep 0.5
	done
}
mainpid() { systemctl show -p MainPID --value "$1"; }
capeff() { sed -n 's/^CapEff:\t//p' "/proc/$1/status"; }
jlog() { journalctl -q -o cat -u "$1" 2>/dev/null; }
dbq() { mariadb -N -B memprobe -e "$1" 2>/dev/null; }
# A process of a name of its own: this driver is in systemd's PID namespace,
# the capture sees the kernel's pids.  Prints its pid as the database has it.
probe_pid() { dbq "SELECT MAX(pid) FROM processes WHERE comm='$1' AND exited=1" | grep -v NULL; }
run_probe() {
	cp /bin/true "/tmp/$1"
	"/tmp/$1"
}
WWW=/usr/local/share/memprobe/www
AUTH=/etc/memprobe/api-auth # made by make install: the token as a curl header

systemctl start mariadb.service
check "the distribution's mariadb.service starts" systemctl is-active -q mariadb.service
if memprobe-db-setup >"$1/db-setup.out" 2>&1; then
	tap OK "memprobe-db-setup against the system MariaDB (socket login as root)"
else
	tap FAIL "memprobe-db-setup: $(tail -c 300 "$1/db-setup.out")"
fi

t0=$SECONDS
systemctl start memprobe-lector.service memprobe-server.service
if wait_for 180 bash -c 'journalctl -q -o cat -u memprobe-lector | grep -q "capturing from"'; then
	tap OK "memprobe-lector.service starts and captures ($(jlog memprobe-lector | grep -o 'capturing from [a-z]*' |
		tail -n1), $((SECONDS - t0)) s under TCG)"
else
	tap FAIL "memprobe-lector.service captures: $(jlog memprobe-lector | tail -n 5 | tr '\n' ' ')"
fi
lp=$(mainpid memprobe-lector)
check "lector runs as root with exactly CAP_BPF, CAP_PERFMON, CAP_SYS_RESOURCE (CapEff $(capeff "$lp"))" \
	test "$(capeff "$lp")" = 000000c001000000
wait_for 60 curl -sf -o /dev/null http://127.0.0.1:8080/healthz
journalctl -q --no-pager -u memprobe-server >"$1/server-journal.txt" 2>&1
sp=$(mainpid memprobe-server)
check "memprobe-server.service runs as a dynamic user (uid $(stat -c %u "/proc/$sp")) without capabilities" \
	bash -c "[ $(stat -c %u "/proc/$sp") -ne 0 ] && [ '$(capeff "$sp")' = 0000000000000000 ]"
check "the server (config copied by ExecStartPre, --static) serves the installed dashboard on 127.0.0.1:8080" \
	cmp -s <(curl -sf -H @$AUTH http://127.0.0.1:8080/) "$WWW/index.html"
check "... and nothing without the token (401), /healthz open (200)" \
	test "$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:8080/api/stats) $(curl -s -o /dev/null \
		-w '%{http_code}' http://127.0.0.1:8080/healthz)" = "401 200"
run_probe mp-unit-probe1
if wait_for 180 probe_pid mp-unit-probe1 >/dev/null; then
	wp=$(probe_pid mp-unit-probe1)
	tap OK "a process (mp-unit-probe1, pid $wp) reaches MariaDB through the lector unit"
	check "... and the server unit's /api/processes/$wp shows it" \
		bash -c "curl -sf -H @$AUTH http://127.0.0.1:8080/api/processes/$wp | grep -q '\"pid\":$wp'"
else
	tap FAIL "mp-unit-probe1 in the database: $(jlog memprobe-lector | tail -n 3 | tr '\n' ' ')"
fi

# Restart=on-failure after SIGKILL, both units.
for u in memprobe-server memprobe-lector; do
	old=$(mainpid $u)
	t0=$SECONDS
	if [ "$old" = 0 ]; then
		tap FAIL "$u is running before the SIGKILL test"
		continue
	fi
	kill -KILL "$old"
	if wait_for 60 bash -c "p=\$(systemctl show -p MainPID --value $u); [ \$p != 0 ] && [ \$p != $old ] &&
		systemctl is-active -q $u"; then
		tap OK "$u killed with SIGKILL is restarted by systemd ($((SECONDS - t0)) s)"
	else
		tap FAIL "$u restarted after SIGKILL: $(systemctl status --no-pager $u | tail -n 5 | tr '\n' ' ')"
	fi
done
wait_for 60 curl -sf -o /dev/null http://127.0.0.1:8080/healthz
check "the restarted server answers again" curl -sf -o /dev/null -H @$AUTH http://127.0.0.1:8080/api/stats
systemctl stop memprobe-lector.service
check "systemctl stop memprobe-lector: a clean stop (SIGTERM, queue committed), not a failure" \
	bash -c "[ \"\$(systemctl show -p Result --value memprobe-lector)\" = success ]"

# The module unit: compile (stap cache from the host), staprun, lector on the ring.
t0=$SECONDS
systemctl start memprobe-module.service
if systemctl is-active -q memprobe-module.service && [ -e /proc/memprobe ]; then
	tap OK "memprobe-module.service builds and loads the module: /proc/memprobe ($((SECONDS - t0)) s under TCG)"
	systemctl start memprobe-lector.service
	if wait_for 180 bash -c 'journalctl -q -o cat -u memprobe-lector | grep -q "capturing from stap"'; then
		tap OK "the lector unit started after it reads the module's ring (capturing from stap: /proc/memprobe, 0400, opened with the unit's CAP_PERFMON)"
	else
		tap FAIL "lector on the ring: $(jlog memprobe-lector | tail -n 4 | tr '\n' ' ')"
	fi
	run_probe mp-unit-probe2
	check "a process (mp-unit-probe2) reaches MariaDB through the module and the lector unit" \
		wait_for 180 probe_pid mp-unit-probe2
	systemctl stop memprobe-lector.service memprobe-module.service
	check "systemctl stop memprobe-module unloads it (no /proc/memprobe, not in /proc/modules)" \
		bash -c "[ ! -e /proc/memprobe ] && ! grep -q '^memprobe ' /proc/modules"
else
	tap FAIL "memprobe-module.service: $(jlog memprobe-module | tail -n 6 | tr '\n' ' ')"
fi
check "no unit was killed by its system call filter (no SIGSYS in the journal)" \
	bash -c "! journalctl -q -o cat | grep -q 'status=31/SYS'"
journalctl -q --no-pager -u 'memprobe-*' >"$1/journal.txt" 2>&1
