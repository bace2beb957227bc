#!/usr/bin/env bash
# install/install.sh install|uninstall|list - what `make install` and
# `make uninstall` do (install/part.mk passes the directories in the
# environment: DESTDIR PREFIX BINDIR SBINDIR DATADIR SYSCONFDIR
# SYSTEMD_UNITDIR STATEDIR CACHE_DIR, and TOP BUILD).
#
# Owns: the list of installed files and their modes (plan below), the
# @DIR@ substitution of templates, never overwriting a config, the API
# token (made once, kept like a config), and the manifest
# ($DATADIR/MANIFEST) that uninstall removes exactly.
set -euo pipefail
: "${TOP:?} ${BUILD:?} ${PREFIX:?} ${BINDIR:?} ${SBINDIR:?} ${DATADIR:?} ${SYSCONFDIR:?}"
: "${SYSTEMD_UNITDIR:?} ${STATEDIR:?} ${CACHE_DIR:?}"
DESTDIR=${DESTDIR:-}
umask 022 # an installed tree is readable by all, whatever the caller's umask
UNITS="memprobe-lector.service memprobe-server.service memprobe-module.service"
die() { echo "install: $*" >&2; exit 1; }

# plan: "SOURCE DEST MODE KIND" lines; KIND is file, subst (a template) or
# conf (a template never overwritten).  DEST is without DESTDIR.
plan() {
	echo "$BUILD/bin/lector $SBINDIR/lector 0755 file"
	echo "$BUILD/memprobe-cat $SBINDIR/memprobe-cat 0755 file"
	echo "$BUILD/memprobe-server $BINDIR/memprobe-server 0755 file"
	echo "$TOP/install/memprobe-module.in $SBINDIR/memprobe-module 0755 subst"
	echo "$TOP/install/memprobe-db-setup.in $SBINDIR/memprobe-db-setup 0755 subst"
	echo "$TOP/memprobe.stp $DATADIR/memprobe.stp 0644 file"
	local f
	for f in "$TOP"/tapset/*.stp; do
		echo "$f $DATADIR/tapset/${f##*/} 0644 file"
	done
	echo "$TOP/include/memprobe_abi.h $DATADIR/include/memprobe_abi.h 0644 file"
	for f in stap-build.sh stap-load.sh stap-runtime.sh; do
		echo "$TOP/scripts/$f $DATADIR/scripts/$f 0755 file"
	done
	(cd "$TOP/frontend/dist" && find . -type f | sort) | while read -r f; do
		echo "$TOP/frontend/dist/${f#./} $DATADIR/www/${f#./} 0644 file"
	done
	echo "$TOP/docs/INSTALL.md $DATADIR/doc/INSTALL.md 0644 file"
	for f in $UNITS; do
		echo "$TOP/install/systemd/$f.in $SYSTEMD_UNITDIR/$f 0644 subst"
	done
	echo "$TOP/install/etc/lector.conf.in $SYSCONFDIR/memprobe/lector.conf 0600 conf"
	echo "$TOP/install/etc/lector.env.in $SYSCONFDIR/memprobe/lector.env 0644 conf"
	echo "$TOP/install/etc/server.conf.in $SYSCONFDIR/memprobe/server.conf 0600 conf"
	echo "$TOP/install/etc/server.env.in $SYSCONFDIR/memprobe/server.env 0600 conf"
}

subst() {
	sed -e "s|@BINDIR@|$BINDIR|g" -e "s|@SBINDIR@|$SBINDIR|g" -e "s|@DATADIR@|$DATADIR|g" \
	    -e "s|@SYSCONFDIR@|$SYSCONFDIR|g" -e "s|@STATEDIR@|$STATEDIR|g" \
	    -e "s|@CACHE_DIR@|$CACHE_DIR|g" "$1"
}

systemd_live() { [ -z "$DESTDIR" ] && [ -d /run/systemd/system ]; }

# The server's token: api-token (the secret; the server and Prometheus read
# it) and api-auth (the same as a curl header line: curl -H @FILE).  Made
# once and kept.  Mode 0600 root, or 0640 root:memprobe when this machine
# has a memprobe group: its members may then read the API.
make_token() {
	local d=$DESTDIR$SYSCONFDIR/memprobe tok mode=0600 group=
	if [ -z "$DESTDIR" ] && getent group memprobe >/dev/null; then
		mode=0640 group=memprobe
	fi
	if [ -s "$d/api-token" ] && [ -s "$d/api-auth" ]; then
		echo "install: kept your API token ($d/api-token)"
		return
	fi
	tok=$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
	(umask 077 && echo "$tok" >"$d/api-token.tmp" &&
		printf 'Authorization: Bearer %s\n' "$tok" >"$d/api-auth.tmp")
	for f in api-token api-auth; do
		[ -n "$group" ] && chgrp "$group" "$d/$f.tmp"
		chmod "$mode" "$d/$f.tmp"
		mv -f "$d/$f.tmp" "$d/$f"
	done
	echo "install: made the API token $d/api-token (mode $mode${group:+, group $group})"
}

need_root() {
	[ -n "$DESTDIR" ] || [ "$(id -u)" = 0 ] ||
		die "$1 writes to $PREFIX, $SYSCONFDIR and $SYSTEMD_UNITDIR: run it as root" \
		    "(sudo make $1), or stage it with DESTDIR=DIR"
}

do_install() {
	local src dst mode kind manifest kept=()
	need_root install
	[ -f "$TOP/frontend/dist/index.html" ] || die "frontend/dist is not built: run make"
	manifest=$(mktemp)
	trap 'rm -f "$manifest"' RETURN
	while read -r src dst mode kind; do
		[ -f "$src" ] || die "$src is missing: run make first"
		if [ "$kind" = conf ] && [ -e "$DESTDIR$dst" ]; then
			kept+=("$dst")
			continue
		fi
		install -d -m 0755 "$DESTDIR${dst%/*}"
		if [ "$kind" = file ]; then
			install -m "$mode" "$src" "$DESTDIR$dst"
		else
			subst "$src" >"$DESTDIR$dst.tmp"
			chmod "$mode" "$DESTDIR$dst.tmp"
			mv -f "$DESTDIR$dst.tmp" "$DESTDIR$dst"
		fi
		[ "$kind" = conf ] || echo "$dst" >>"$manifest"
	done < <(plan)
	echo "$DATADIR/MANIFEST" >>"$manifest"
	install -m 0644 "$manifest" "$DESTDIR$DATADIR/MANIFEST"
	make_token
	echo "install: $(wc -l <"$manifest") files under ${DESTDIR:-/}" \
	     "(programs in $SBINDIR and $BINDIR, data in $DATADIR, units in $SYSTEMD_UNITDIR)"
	local k
	for k in "${kept[@]}"; do echo "install: kept your $DESTDIR$k (not overwritten)"; done
	if systemd_live; then
		systemctl daemon-reload
	fi
	[ -n "$DESTDIR" ] && return 0
	cat <<NEXT
install: next steps (docs: $DATADIR/doc/INSTALL.md):
  apt-get install mariadb-server && memprobe-db-setup    # database, users, passwords, schema
  systemctl enable --now memprobe-lector memprobe-server
  systemctl enable --now memprobe-module                 # optional: the stap module instead of eBPF
install: the dashboard: http://127.0.0.1:8080/?token=TOKEN, TOKEN from $SYSCONFDIR/memprobe/api-token;
  scripts: curl -H @$SYSCONFDIR/memprobe/api-auth http://127.0.0.1:8080/api/stats
NEXT
}

do_uninstall() {
	local manifest=$DESTDIR$DATADIR/MANIFEST f list
	need_root uninstall
	if systemd_live; then
		for f in $UNITS; do
			if [ -e "$SYSTEMD_UNITDIR/$f" ]; then systemctl disable --now "$f" 2>/dev/null || true; fi
		done
	fi
	if [ -f "$manifest" ]; then
		list=$(cat "$manifest")
	else
		echo "install: no $manifest; removing what this tree would install"
		list=$(plan | awk '$4 != "conf" { print $2 }'; echo "$DATADIR/MANIFEST")
	fi
	local n=0
	for f in $list; do
		if [ -e "$DESTDIR$f" ] || [ -L "$DESTDIR$f" ]; then
			rm -f "$DESTDIR$f"
			n=$((n + 1))
		fi
	done
	# Empty directories of ours (DATADIR and below); shared ones (bin, lib) stay.
	[ -d "$DESTDIR$DATADIR" ] && find "$DESTDIR$DATADIR" -depth -type d -empty -delete
	systemd_live && systemctl daemon-reload
	cat <<KEPT
install: removed $n files
install: kept $DESTDIR$SYSCONFDIR/memprobe/ (database credentials, the API token, your settings):
  remove it yourself with: rm -r $DESTDIR$SYSCONFDIR/memprobe
install: kept the databases "memprobe" and "memprobe_lock" and their users, and $STATEDIR
  (records lector had not committed, if any); to drop them: DROP DATABASE memprobe;
  DROP DATABASE memprobe_lock;
  DROP USER memprobe_writer@localhost, memprobe_writer@'127.0.0.1',
  memprobe_reader@localhost, memprobe_reader@'127.0.0.1'; rm -r $STATEDIR
KEPT
}

case ${1:-} in
install) do_install ;;
uninstall) do_uninstall ;;
list) plan | awk '{ print $2, $3 }' ;;
*) echo "usage: install.sh install|uninstall|list (run through make install/uninstall)" >&2; exit 2 ;;
esac
