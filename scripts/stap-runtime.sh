#!/usr/bin/env bash
# stap-runtime.sh KVER [HEADERS_DIR] - print the SystemTap runtime directory to build the
# memprobe module against KVER's headers (the argument for stap -R), or
# nothing when the stock runtime works.
#
# Why: SystemTap 4.8's runtime (stp_task_work.c) calls task_work_cancel(task,
# func).  Kernels from 6.11 (and 6.1.y/6.6.y stable backports) renamed that
# behaviour to task_work_cancel_func() and made task_work_cancel() take a
# struct callback_head *, so pass 4 fails.  When the target headers declare
# task_work_cancel_func(), we make a copy of the runtime whose
# stp_task_work.c looks up and calls task_work_cancel_func instead.  The copy
# is named by a hash of the stock runtime and of this script, so it stays
# byte-identical between builds and stap's compile cache stays valid.
set -euo pipefail

kver=${1:?usage: stap-runtime.sh KVER [HEADERS_DIR]}
self=$(readlink -f "$0")
cache=${CACHE_DIR:-/var/cache/memprobe}
stock=${STAP_RUNTIME_STOCK:-/usr/share/systemtap/runtime}

hdr=""
for d in ${2:+"$2"} "/lib/modules/$kver/build" "/lib/modules/$kver/source" \
	 "/usr/src/linux-headers-$kver" "/usr/src/linux-headers-${kver%-*}-common"; do
	if [ -f "$d/include/linux/task_work.h" ]; then
		hdr="$d/include/linux/task_work.h"
		break
	fi
done
if [ -z "$hdr" ]; then
	echo "stap-runtime.sh: no include/linux/task_work.h for kernel $kver;" \
	     "install linux-headers-$kver" >&2
	exit 1
fi

# Old prototype: the stock runtime is right.
grep -q 'task_work_cancel_func' "$hdr" || exit 0

twc="$stock/stp_task_work.c"
if grep -q 'task_work_cancel_func' "$twc"; then
	exit 0 # this SystemTap already knows the new API
fi

hash=$( (cd "$stock" && find . -type f -print0 | sort -z | xargs -0 sha256sum;
	 sha256sum <"$self") | sha256sum | cut -c1-16)
out="$cache/stap-runtime-$hash"
if [ -f "$out/.memprobe-patched" ]; then
	echo "$out"
	exit 0
fi

mkdir -p "$cache"
tmp=$(mktemp -d "$cache/.stap-runtime-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cp -a "$stock/." "$tmp/"
# The three spots that name the old API; fail loudly if any is missing so a
# different SystemTap release is noticed instead of silently half-patched.
for pat in 'typeof(&task_work_cancel)' \
	   'kallsyms_lookup_name("task_work_cancel")' \
	   'twork = task_work_cancel(task, func);'; do
	grep -qF "$pat" "$tmp/stp_task_work.c" || {
		echo "stap-runtime.sh: $twc does not contain '$pat';" \
		     "this SystemTap version needs a different fix" >&2
		exit 1
	}
done
sed -i \
	-e 's/typeof(&task_work_cancel) task_work_cancel_fn;/typeof(\&task_work_cancel_func) task_work_cancel_fn; \/* memprobe: new task_work API *\//' \
	-e 's/kallsyms_lookup_name("task_work_cancel")/kallsyms_lookup_name("task_work_cancel_func")/' \
	-e 's/_stp_error("Can.t resolve task_work_cancel!");/_stp_error("Can'"'"'t resolve task_work_cancel_func!");/' \
	"$tmp/stp_task_work.c"
# If the symbol were ever exported, STAPCONF_TASK_WORK_CANCEL_EXPORTED would
# make the runtime call the new-style task_work_cancel directly: never do.
sed -i 's/#if !defined(STAPCONF_TASK_WORK_CANCEL_EXPORTED)/#if 1 \/* memprobe: always via task_work_cancel_func *\//' \
	"$tmp/stp_task_work.c" "$tmp/linux/runtime.h"
touch "$tmp/.memprobe-patched"
chmod -R a+rX "$tmp"
if ! mv -T "$tmp" "$out" 2>/dev/null; then
	rm -rf "$tmp" # another build made it first; theirs is identical
fi
trap - EXIT
echo "$out"
