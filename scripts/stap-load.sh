#!/usr/bin/env bash
# stap-load.sh check|load|unload [--ko FILE.ko] [--ring-records N] - insert
# the memprobe module with staprun (detached) or remove it.
#
# Owns: the "can this machine load it at all" checks (module support,
# lockdown/Secure Boot, already loaded) with a sentence that says what to do,
# and the pid file of the detached staprun, so unload stops exactly the
# staprun we started.  Pid file: $MEMPROBE_RUN_DIR/staprun.pid
# (default /run/memprobe: writable even when the tree is read-only).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# MEMPROBE_DATADIR: the installed copy (make install) of memprobe.stp,
# tapset/, include/ and these scripts; default: the tree they sit in.
top=${MEMPROBE_DATADIR:-$(cd "$here/.." && pwd)}
ko="$top/build/memprobe.ko"
ring_records=""
run_dir=${MEMPROBE_RUN_DIR:-/run/memprobe}
pidfile="$run_dir/staprun.pid"
# Overridable for tests (tests/stap/run-host fakes a locked-down kernel).
proc_modules=${MEMPROBE_PROC_MODULES:-/proc/modules}
lockdown=${MEMPROBE_LOCKDOWN_FILE:-/sys/kernel/security/lockdown}
sig_enforce=${MEMPROBE_SIG_ENFORCE_FILE:-/sys/module/module/parameters/sig_enforce}
ebpf_hint="use the eBPF source instead: memprobe-cat --source=bpf (lector --source=bpf)"

usage() {
	cat <<USAGE
usage: stap-load.sh check|load|unload [--ko FILE.ko] [--ring-records N]
  check   say whether this kernel can load the memprobe module
  load    check, then staprun -D the module (ring_records=N if given)
  unload  stop the staprun started by load; the module goes with it
USAGE
}

die() {
	echo "memprobe: $*" >&2
	exit 2
}

module_loaded() {
	grep -q '^memprobe ' "$proc_modules" 2>/dev/null
}

check() {
	[ -e "$proc_modules" ] ||
		die "this kernel cannot load modules (built without CONFIG_MODULES: no /proc/modules); $ebpf_hint"
	if [ -r "$lockdown" ] && grep -qE '\[(integrity|confidentiality)\]' "$lockdown"; then
		die "kernel lockdown ($(grep -oE '\[[a-z]+\]' "$lockdown")) refuses unsigned modules" \
		    "(Secure Boot); $ebpf_hint, or sign the module with a key enrolled with mokutil"
	fi
	if [ "$(cat "$sig_enforce" 2>/dev/null)" = Y ]; then
		die "module signatures are enforced (module.sig_enforce=1) and memprobe.ko is unsigned;" \
		    "$ebpf_hint, or sign the module with a key the kernel trusts"
	fi
	command -v staprun >/dev/null 2>&1 ||
		die "staprun is missing: apt-get install systemtap-runtime (or: make deps)"
}

load() {
	check
	module_loaded && die "memprobe is already loaded: run make unload first"
	[ -e /proc/memprobe ] && die "/proc/memprobe exists but no memprobe module: another tool owns it"
	[ -f "$ko" ] || die "no module at $ko: run make module first"
	local want have
	want=$(modinfo -F vermagic "$ko" 2>/dev/null | cut -d' ' -f1)
	have=$(uname -r)
	[ -z "$want" ] || [ "$want" = "$have" ] ||
		die "$ko was built for $want but this kernel is $have: run make module KVER=$have"
	mkdir -p "$run_dir"
	local opts=() pid
	[ -n "$ring_records" ] && opts+=("ring_records=$ring_records")
	if ! pid=$(staprun -D -o "$run_dir/stap.out" "$ko" "${opts[@]}" 2> "$run_dir/staprun.err"); then
		cat "$run_dir/staprun.err" >&2
		grep -qi 'key was rejected\|Required key not available' "$run_dir/staprun.err" &&
			die "the kernel refused the unsigned module (Secure Boot?); $ebpf_hint"
		die "staprun could not insert $ko (messages above; dmesg may say more)"
	fi
	pid=$(echo "$pid" | tr -dc 0-9)
	echo "$pid" > "$pidfile"
	local i
	for i in $(seq 1 100); do
		[ -e /proc/memprobe ] && break
		sleep 0.1
	done
	[ -e /proc/memprobe ] || die "module inserted but /proc/memprobe did not appear (dmesg may say why)"
	echo "memprobe: loaded ($ko, staprun pid $pid); read it with memprobe-cat"
}

unload() {
	local pid="" i
	[ -f "$pidfile" ] && pid=$(cat "$pidfile")
	if ! module_loaded && { [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; }; then
		rm -f "$pidfile"
		echo "memprobe: not loaded (nothing to do)"
		return 0
	fi
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid"
		for i in $(seq 1 100); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -0 "$pid" 2>/dev/null && die "staprun (pid $pid) did not stop within 10 s"
	fi
	rm -f "$pidfile"
	if module_loaded; then # staprun died without cleaning up
		staprun -d memprobe 2>/dev/null || rmmod memprobe 2>/dev/null ||
			die "memprobe is still loaded and could not be removed (is a reader holding it?)"
	fi
	echo "memprobe: unloaded"
}

cmd=${1:-}
[ $# -gt 0 ] && shift
while [ $# -gt 0 ]; do
	case $1 in
	--ko) ko=${2:?--ko needs a path}; shift 2 ;;
	--ring-records) ring_records=${2:?--ring-records needs N}; shift 2 ;;
	-h | --help) usage; exit 0 ;;
	*) echo "stap-load.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
	esac
done
case $cmd in
check) check; echo "memprobe: this kernel can load modules" ;;
load) load ;;
unload) unload ;;
-h | --help) usage ;;
*) usage >&2; exit 2 ;;
esac
