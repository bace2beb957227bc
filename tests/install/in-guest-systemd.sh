#!/bin/bash
# tests/install/in-guest-systemd.sh - runs inside the qemu guest of
# tests/kernel/guest-run (Debian's kernel; the host root read-only over 9p):
# lays a writable overlay over that root, runs `make install`'s
# install/install.sh into it, then boots systemd as PID 1 of a PID
# namespace there (what a container manager does) with a target that runs
# in-guest-units.sh: the installed units started, checked and killed
# under a real systemd.  Its TAP lines come back through $MEMPROBE_RESULTS.
set -uo pipefail
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export TOP
RES=${MEMPROBE_RESULTS:?run through tests/kernel/guest-run}
M=/tmp/ovl/merged
say() { echo "# in-guest: $*"; }

kdir=/var/cache/memprobe/kernel/$(uname -r)/lib/modules
insmod "$(find "$kdir" -name 'overlay.ko*' | head -n1)" 2>/dev/null
mkdir -p /tmp/ovl/upper /tmp/ovl/work $M
mount -t overlay overlay -o lowerdir=/,upperdir=/tmp/ovl/upper,workdir=/tmp/ovl/work $M ||
	{ echo "not ok - overlay over the host root (overlay.ko from $kdir)"; exit 1; }
ip link set lo up
[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd # bash process substitution

# The install, as `make install` does it (the build is the host's).
DESTDIR=$M PREFIX=/usr/local BINDIR=/usr/local/bin SBINDIR=/usr/local/sbin \
	DATADIR=/usr/local/share/memprobe SYSCONFDIR=/etc STATEDIR=/var/lib/memprobe \
	SYSTEMD_UNITDIR=/usr/local/lib/systemd/system CACHE_DIR=/var/cache/memprobe \
	BUILD=$TOP/build "$TOP/install/install.sh" install >"$RES/install.out" 2>&1 ||
	{ echo "not ok - install.sh into the overlay: $(tail -c 300 "$RES/install.out")"; exit 1; }
# Only what the test asks for starts: no enabled service of the host.
rm -rf $M/etc/systemd/system/multi-user.target.wants $M/etc/systemd/system/*.wants/postgresql*
mkdir -p $M/mp-results $M/mp-top
mount --bind "$RES" $M/mp-results
mount --bind "$TOP" $M/mp-top
cat >$M/etc/systemd/system/mp-test.target <<UNIT
[Unit]
Description=memprobe install test
Wants=mp-check.service
UNIT
cat >$M/etc/systemd/system/mp-check.service <<UNIT
[Unit]
Description=memprobe install test driver
After=sysinit.target
[Service]
Type=oneshot
ExecStart=/bin/bash /mp-top/tests/install/in-guest-units.sh /mp-results
ExecStopPost=/bin/systemctl --no-block poweroff
TimeoutStartSec=20min
UNIT
say "booting systemd in a PID namespace"
t0=$SECONDS
timeout 1500 unshare --pid --fork --mount --propagation private -- \
	chroot $M /usr/bin/env -i container=memprobe-test /lib/systemd/systemd \
	--unit=mp-test.target --log-level=warning --show-status=false >"$RES/systemd.log" 2>&1
say "systemd exited with status $? after $((SECONDS - t0)) s"
cat "$RES/tap.txt" 2>/dev/null || echo "not ok - the unit test driver wrote no results"
