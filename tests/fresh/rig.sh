# tests/fresh/rig.sh - the bare rootfs of tests/fresh/run (sourced): the
# cached tarball, unpacking it, the few host files it gets, the clone, the
# mounts, running a command in the chroot, and a cleanup that kills every
# process inside, unmounts in reverse order and deletes the rootfs only
# when no mount is left under it.  Expects TOP, FRESH, SUITE, MIRROR,
# INCLUDE, TARBALL and HOST_FILES from the caller.

ROOT="" WORK="" MOUNTS=() KEEP=${KEEP:-0}

# rig_tarball: build the rootfs tarball once (one builder at a time; a
# concurrent run waits for it); later runs only unpack it.
rig_tarball() {
	mkdir -p "$FRESH"
	exec 9>"$FRESH/lock"
	flock -w 900 9 || { echo "another run has held $FRESH/lock for 15 min"; return 1; }
	if [ ! -s "$TARBALL" ]; then
		local tmp=$FRESH/build.$$.tar
		if ! command -v mmdebstrap >/dev/null; then
			echo "mmdebstrap missing: scripts/deps.sh fresh (make test installs it)"
			flock -u 9
			return 1
		fi
		if ! timeout 900 mmdebstrap --variant=minbase --format=tar --include="$INCLUDE" \
			"$SUITE" "$tmp" "$MIRROR" >"$WORK/mmdebstrap.log" 2>&1; then
			rm -f "$tmp"
			tail -n 5 "$WORK/mmdebstrap.log"
			flock -u 9
			return 1
		fi
		mv "$tmp" "$TARBALL"
	fi
	flock -u 9
}

# rig_unpack REV: a fresh rootfs in ROOT with the host files, the rig's
# policy-rc.d and a clean clone of REV in /root/memprobe.
rig_unpack() {
	local rev=$1 f sha
	tar -C "$ROOT" -xpf "$TARBALL" || return 1
	# Debian's archive through the host's deb822 source only (the
	# tarball's sources.list names the same archive once more).
	rm -f "$ROOT/etc/apt/sources.list"
	for f in $HOST_FILES; do
		[ -e "$f" ] && install -D -m 0644 "$f" "$ROOT$f"
	done
	printf '#!/bin/sh\n# tests/fresh: no init in a chroot, start no service\nexit 101\n' \
		>"$ROOT/usr/sbin/policy-rc.d"
	chmod 0755 "$ROOT/usr/sbin/policy-rc.d"
	sha=$(git -C "$TOP" rev-parse --verify "$rev^{commit}") || return 1
	git clone -q "$TOP" "$ROOT/root/memprobe" &&
		git -C "$ROOT/root/memprobe" checkout -q --detach "$sha" || return 1
	echo "$sha"
}

# rig_mount ARGS... TARGET: mount, and remember TARGET for the unmount.
rig_mount() {
	mount "$@" || return 1
	MOUNTS+=("${!#}")
}

rig_mount_all() {
	local npm_cache=$FRESH/npm-cache
	mkdir -p "$npm_cache" "$ROOT/root/.npm" "$ROOT/var/cache/apt/archives" &&
		rig_mount --bind /proc "$ROOT/proc" &&
		rig_mount --bind /sys "$ROOT/sys" &&
		rig_mount -t tracefs nodev "$ROOT/sys/kernel/tracing" &&
		rig_mount -t bpf bpf "$ROOT/sys/fs/bpf" &&
		rig_mount --bind /dev "$ROOT/dev" &&
		rig_mount --bind /dev/pts "$ROOT/dev/pts" &&
		rig_mount --bind /dev/shm "$ROOT/dev/shm" &&
		rig_mount --bind /var/cache/apt/archives "$ROOT/var/cache/apt/archives" &&
		rig_mount --bind "$npm_cache" "$ROOT/root/.npm"
}

# in_root TIMEOUT_S CMD: CMD by bash in /root/memprobe inside the chroot,
# with the environment of a root login (none of this host's variables)
# plus the rig's free ports.
in_root() {
	timeout "$1" chroot "$ROOT" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		MEMPROBE_SERVER_PORT="$SPORT" MEMPROBE_DB_PORT="$DPORT" \
		/bin/bash -c "cd /root/memprobe && $2"
}

# The processes whose root is the rootfs (make run's daemons among them).
rig_pids() {
	local p
	[ -n "$ROOT" ] || return 0
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/root" 2>/dev/null)" = "$ROOT" ] && echo "${p#/proc/}"
	done
}

rig_kill_all() {
	local pids i
	pids=$(rig_pids)
	[ -n "$pids" ] || return 0
	kill -TERM $pids 2>/dev/null
	for i in $(seq 1 100); do
		[ -n "$(rig_pids)" ] || return 0
		sleep 0.1
	done
	kill -KILL $(rig_pids) 2>/dev/null
	for i in $(seq 1 50); do
		[ -n "$(rig_pids)" ] || return 0
		sleep 0.1
	done
}

rig_mounted() { findmnt -rn -o TARGET | grep -E "^$ROOT(/|$)"; }

# Reverse order; then whatever findmnt still lists (deepest first), lazily
# as a last resort.  rm -rf only with nothing mounted under ROOT: a bound
# /dev or apt archive would be emptied on the host.
rig_cleanup() {
	local i m
	[ -n "$ROOT" ] || return 0
	rig_kill_all
	for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do
		umount "${MOUNTS[i]}" 2>/dev/null || umount -l "${MOUNTS[i]}" 2>/dev/null
	done
	for m in $(rig_mounted | sort -r); do umount -R -l "$m" 2>/dev/null; done
	if [ -n "$(rig_mounted)" ]; then
		tap_diag "mounts still under $ROOT, so it is not deleted: $(rig_mounted | tr '\n' ' ')"
		return 0
	fi
	if [ "$KEEP" = 1 ]; then
		tap_diag "rootfs kept (nothing mounted): $ROOT; logs: $WORK"
		return 0
	fi
	rm -rf --one-file-system "$ROOT"
	if [ "${FAILED:-0}" = 1 ]; then tap_diag "logs kept: $WORK"; else rm -rf "$WORK"; fi
}

# A port nobody listens on (other stacks run on this machine).
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
pick_port() {
	local i p
	for i in $(seq 1 100); do
		p=$((20000 + RANDOM % 40000))
		[ "$p" != "${1:-}" ] && port_free "$p" && { echo "$p"; return 0; }
	done
	return 1
}

# installed_kib: Installed-Size of every package in the rootfs.
installed_kib() {
	dpkg-query --admindir="$ROOT/var/lib/dpkg" -W -f='${db:Status-Abbrev} ${Installed-Size}\n' |
		awk '/^ii/ { s += $2 } END { print s + 0 }'
}
installed_count() { dpkg-query --admindir="$ROOT/var/lib/dpkg" -W -f='${db:Status-Abbrev}\n' | grep -c '^ii'; }
