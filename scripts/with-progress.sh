#!/usr/bin/env bash
# with-progress.sh LABEL CMD... - run CMD, saying every 10 s that it is
# still at work (one updating line on a terminal), so a long download is
# never a silent minute; prints how long it took.  Exits with CMD's status.
set -uo pipefail
case ${1:-} in
-h | --help)
	echo "usage: with-progress.sh LABEL CMD...: run CMD, print 'LABEL: still running (N s)' every 10 s"
	exit 0
	;;
esac
[ $# -ge 2 ] || { echo "usage: with-progress.sh LABEL CMD... (see --help)" >&2; exit 2; }
label=$1
shift
t0=$SECONDS
echo "$label ..."
"$@" &
pid=$!
# a background job does not get the terminal's ^C: pass it on
trap 'kill -TERM "$pid" 2>/dev/null; wait "$pid"; exit 130' INT TERM
tty=0
[ -t 1 ] && tty=1
while kill -0 "$pid" 2>/dev/null; do
	for _ in $(seq 1 20); do
		kill -0 "$pid" 2>/dev/null || break 2
		sleep 0.5
	done
	if [ $tty = 1 ]; then
		printf '\r\033[K%s: %d s' "$label" $((SECONDS - t0))
	else
		echo "$label: still running ($((SECONDS - t0)) s)"
	fi
done
wait "$pid"
rc=$?
[ $tty = 1 ] && printf '\r\033[K'
[ $rc -eq 0 ] && echo "$label: done in $((SECONDS - t0)) s"
exit $rc
