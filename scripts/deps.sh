#!/usr/bin/env bash
# deps.sh GROUP... - install the Debian packages memprobe needs, only those
# missing.  Groups: build kernel bpf db web browser install all.  Needs root (or sudo) the
# first time; prints what it installs.
set -euo pipefail

declare -A GROUP=(
	[build]="gcc make pkg-config"
	[kernel]="systemtap systemtap-runtime linux-headers-amd64 qemu-system-x86 busybox-static cpio kmod"
	[bpf]="clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev libclang-rt-14-dev"
	[db]="mariadb-server mariadb-client libmariadb-dev strace python3"
	[web]="libcivetweb-dev libcjson-dev libssl-dev openssl prometheus curl python3 wrk"
	[browser]="chromium nodejs"
	[install]="systemd util-linux"
)

want=()
for g in "$@"; do
	if [ "$g" = all ]; then
		for k in build kernel bpf db web browser install; do want+=(${GROUP[$k]}); done
	elif [ -n "${GROUP[$g]:-}" ]; then
		want+=(${GROUP[$g]})
	else
		echo "deps.sh: unknown group '$g' (build kernel bpf db web browser install all)" >&2
		exit 2
	fi
done

missing=()
for p in "${want[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq || { echo "deps: apt-get update failed; check the network/apt sources" >&2; exit 1; }
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
	{ echo "deps: apt-get install ${missing[*]} failed" >&2; exit 1; }
