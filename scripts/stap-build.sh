#!/usr/bin/env bash
# stap-build.sh [--kver KVER] [--out FILE.ko] - compile memprobe.stp + tapset/
# into a kernel module for KVER's headers (default: the running kernel).
#
# Owns: the stap command line.  The ABI header is #included by absolute path
# through a one-block prelude (-E); its sha256 is in that block so stap's
# compile cache (keyed on the script text, not on #included files) misses
# whenever the header changes.  SYSTEMTAP_DIR=$CACHE_DIR/stap keeps that
# cache across fresh clones; stap-runtime.sh supplies a patched runtime when
# the headers need one.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# MEMPROBE_DATADIR: the installed copy (make install) of memprobe.stp,
# tapset/, include/ and these scripts; default: the tree they sit in.
top=${MEMPROBE_DATADIR:-$(cd "$here/.." && pwd)}
kver=$(uname -r)
out="$top/build/memprobe.ko"
cache=${CACHE_DIR:-/var/cache/memprobe}
stap=${STAP:-stap}

usage() {
	cat <<USAGE
usage: stap-build.sh [--kver KVER] [--out FILE.ko]
Compiles memprobe.stp and tapset/*.stp with SystemTap (guru mode) into a
kernel module for KVER (default: uname -r).  Cache: \$CACHE_DIR/stap
(default /var/cache/memprobe/stap).
USAGE
}

while [ $# -gt 0 ]; do
	case $1 in
	--kver) kver=${2:?--kver needs a version}; shift 2 ;;
	--out) out=${2:?--out needs a path}; shift 2 ;;
	-h | --help) usage; exit 0 ;;
	*) echo "stap-build.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
	esac
done
[ -n "$kver" ] || kver=$(uname -r)

# The kernels the module is written for; tapset/memprobe_ring.stp has the
# same bound as an #error, for builds that do not come through here.
if [[ $kver =~ ^([0-9]+)\.([0-9]+)([.-]|$) ]] &&
	((BASH_REMATCH[1] < 5 || (BASH_REMATCH[1] == 5 && BASH_REMATCH[2] < 6))); then
	echo "memprobe: the module needs Linux 5.6 or later (struct proc_ops) and $kver is" \
	     "older: upgrade the kernel (the eBPF source, --source=bpf, needs 5.8 or later with BTF)" >&2
	exit 2
fi
if ! command -v "$stap" >/dev/null 2>&1; then
	echo "memprobe: SystemTap is not installed: apt-get install systemtap systemtap-runtime" \
	     "(or: make deps)" >&2
	exit 2
fi
if [ ! -e "/lib/modules/$kver/build/Makefile" ]; then
	echo "memprobe: no kernel headers for $kver: apt-get install linux-headers-$kver" >&2
	exit 2
fi

runtime=$("$here/stap-runtime.sh" "$kver")
rt_opt=()
[ -n "$runtime" ] && rt_opt=(-R "$runtime")

abi="$top/include/memprobe_abi.h"
abi_sha=$(sha256sum "$abi" | cut -c1-16)
prelude="%{ /* memprobe ABI header, sha256 $abi_sha */
#define MEMPROBE_ABI_HEADER \"$abi\"
%}"

export SYSTEMTAP_DIR="$cache/stap"
mkdir -p "$SYSTEMTAP_DIR" "$(dirname "$out")"
work=$(mktemp -d "$(dirname "$out")/.stap-build-XXXXXX")
trap 'rm -rf "$work"' EXIT

# STP_NO_OVERLOAD: a capture that holds every event must not be killed by
# stap's CPU-share watchdog under a syscall storm; drops are counted instead.
if ! (cd "$work" && "$stap" -g -p4 -m memprobe -r "$kver" "${rt_opt[@]}" \
	-I "$top/tapset" -E "$prelude" -DSTP_NO_OVERLOAD \
	"$top/memprobe.stp" > "$work/stap.out" 2> "$work/stap.err"); then
	grep -v 'Kernel function symbol table missing' "$work/stap.err" >&2 || true
	echo "memprobe: stap could not build the module for $kver (messages above)" >&2
	exit 1
fi
mv -f "$work/memprobe.ko" "$out"
echo "memprobe: built $out for $kver${runtime:+ (patched runtime $runtime)}"
