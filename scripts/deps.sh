#!/usr/bin/env bash
# deps.sh [--check] GROUP... - install the Debian packages memprobe needs,
# only those missing, and say which and why.  Needs root (or sudo) when it
# installs.  `deps.sh --help` lists the groups.
#
# Running (make run) needs only the "run" groups; what only the tests or
# the benchmarks use is in groups of its own, so a first `make run` does
# not install a gigabyte of qemu and Chromium.  Node and npm are looked
# for as commands: a Node the user installed (NodeSource, nvm) is used as
# it is, and Debian's npm package (separate from its nodejs) is installed
# only when no npm is on PATH.
set -euo pipefail

# group -> "packages | why" (what running needs first, then the rest)
declare -A GROUP=(
	[build]="gcc libc6-dev make pkg-config | the C compiler and pkg-config"
	[bpf]="clang libbpf-dev bpftool libelf-dev zlib1g-dev | the eBPF capture source (clang, libbpf, bpftool)"
	[db]="mariadb-server mariadb-client libmariadb-dev | the private MariaDB and its C client library"
	[web]="libcivetweb-dev libcjson-dev libssl-dev openssl curl | memprobe-server's HTTP, JSON and TLS libraries, openssl for make run TLS=1, curl for the API"
	[node]="nodejs npm | the dashboard build (npm ci, Vite)"
	[stap]="systemtap systemtap-runtime kmod | the SystemTap module (make module, make load)"
	[kernel]="systemtap systemtap-runtime kmod linux-headers-amd64 qemu-system-x86 busybox-static cpio
		| tests: the SystemTap module in a qemu guest kernel"
	[tools]="python3 strace prometheus llvm libclang-rt-14-dev
		| tests: python3 checkers, strace, promtool, the fuzzers' runtime"
	[browser]="chromium | tests: the dashboard in Chromium"
	[install]="systemd util-linux | tests: make install's systemd units"
	[fresh]="mmdebstrap | tests: a bare Debian 12 rootfs (tests/fresh)"
	[cluster]="galera-4 rsync iproute2 | a 3-node Galera cluster (scripts/cluster.sh, tests/cluster): the wsrep provider, rsync and ss for state transfers"
	[bench]="wrk bpftrace linux-perf mariadb-plugin-rocksdb | benchmarks: wrk, bpftrace, perf, MyRocks (bench/lector/variants)"
	[spider]="mariadb-plugin-spider | tests: the Spider engine head of scripts/spider.sh (make test-spider)"
)
pkgs_of() { echo ${GROUP[$1]%%|*}; }
why_of() { local w=${GROUP[$1]#*| }; echo "$w"; }
declare -A ALIAS=(
	[run]="build bpf db web node"
	[test]="build bpf db web node kernel tools browser install fresh"
	[all]="build bpf db web node stap kernel tools browser install fresh cluster bench spider"
)
ORDER="build bpf db web node stap kernel tools browser install fresh cluster bench spider"

usage() {
	cat <<USAGE
usage: deps.sh [--check] GROUP...
Installs the Debian packages of each GROUP that are missing (apt-get, as
root or through sudo).  --check only lists them and exits 1 if any is.
Groups:
USAGE
	local g
	for g in $ORDER; do printf '  %-8s %s\n           (%s)\n' "$g" "$(pkgs_of "$g")" "$(why_of "$g")"; done
	for g in run test all; do printf '  %-8s = %s\n' "$g" "${ALIAS[$g]}"; done
	echo "stap also takes the headers of the running kernel (or \$KVER's) when apt knows them."
}

check_only=0
groups=()
for a in "$@"; do
	case $a in
	-h | --help) usage; exit 0 ;;
	--check) check_only=1 ;;
	*)
		if [ -n "${ALIAS[$a]:-}" ]; then
			groups+=(${ALIAS[$a]})
		elif [ -n "${GROUP[$a]:-}" ]; then
			groups+=("$a")
		else
			echo "deps.sh: unknown group '$a' (deps.sh --help lists them)" >&2
			exit 2
		fi
		;;
	esac
done
[ ${#groups[@]} -gt 0 ] || { usage >&2; exit 2; }

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
# has PKG: the package is there; nodejs and npm count as there when their
# command is on PATH, whoever installed it.
has() {
	case $1 in
	nodejs) command -v node >/dev/null ;;
	npm) command -v npm >/dev/null ;;
	*) installed "$1" ;;
	esac
}

# The module is built against the running kernel's headers (KVER: another
# kernel's); a kernel Debian does not package (a custom or cloud kernel)
# has none to install, and stap-build.sh says what to do.
headers_pkg() {
	local p="linux-headers-${KVER:-$(uname -r)}"
	installed "$p" && return 0
	# no package lists yet (a new machine): try it, apt-get update runs first
	if apt-cache show "$p" >/dev/null 2>&1 || ! ls /var/lib/apt/lists/*_Packages* >/dev/null 2>&1; then
		echo "$p"
	else
		echo "deps: no package $p in apt's lists; the module needs that kernel's headers" >&2
	fi
}

missing=() reasons=() seen=" "
for g in "${groups[@]}"; do
	pkgs=$(pkgs_of "$g")
	[ "$g" = stap ] && pkgs="$pkgs $(headers_pkg)"
	want=()
	for p in $pkgs; do
		case $seen in *" $p "*) continue ;; esac
		seen="$seen$p "
		has "$p" || want+=("$p")
	done
	[ ${#want[@]} -eq 0 ] && continue
	missing+=("${want[@]}")
	reasons+=("deps:   ${want[*]}: $(why_of "$g")")
done
if [ ${#missing[@]} -eq 0 ]; then
	[ $check_only = 1 ] || echo "deps: nothing to install for: ${groups[*]}"
	exit 0
fi
if [ $check_only = 1 ]; then
	echo "deps: missing ${#missing[@]} packages:"
	printf '%s\n' "${reasons[@]}"
	exit 1
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp /tmp/memprobe-deps.XXXXXX)
installed_kib() { dpkg-query -W -f='${db:Status-Abbrev} ${Installed-Size}\n' | awk '/^ii/ { s += $2 } END { print s + 0 }'; }

# progress WHAT: apt's status lines (APT::Status-Fd=1) become one line that
# updates on a terminal, or a line per 10% step otherwise; apt's other
# output goes to the log.
progress() {
	local what=$1 line kind pct msg step last=-1 tty=0
	[ -t 1 ] && tty=1
	while IFS= read -r line; do
		case $line in
		dlstatus:* | pmstatus:*) ;;
		*) printf '%s\n' "$line" >>"$log"; continue ;;
		esac
		kind=${line%%:*} line=${line#*:} line=${line#*:}
		pct=${line%%:*} pct=${pct%%.*} msg=${line#*:}
		[ "$kind" = dlstatus ] && kind=downloading || kind=$what
		if [ $tty = 1 ]; then
			printf '\r\033[Kdeps: %s %3d%% %.60s' "$kind" "$pct" "$msg"
		else
			step="$kind $((pct / 10))"
			[ "$step" = "$last" ] && continue
			last=$step
			printf 'deps: %s %3d%% %s\n' "$kind" "$pct" "$msg"
		fi
	done
	[ $tty = 1 ] && printf '\r\033[K'
	return 0
}

# apt_get WHAT ARG...: apt-get ARG... with its progress; another apt or
# dpkg holding the lock (unattended-upgrades at boot, a second install) is
# waited for, up to 10 minutes: 40 tries 15 s apart, each failing at once
# on a held lock (apt's own lock wait is off, so the two waits do not
# multiply).
apt_get() {
	local what=$1 try rc
	shift
	for try in $(seq 1 40); do
		echo "deps: apt-get $1 ($what)"
		set +e # apt-get's own status, not pipefail's exit
		$SUDO apt-get -q -o APT::Status-Fd=1 -o DPkg::Lock::Timeout=0 "$@" 2>>"$log" | progress "$what"
		rc=${PIPESTATUS[0]}
		set -e
		[ "$rc" -eq 0 ] && return 0
		tail -n 5 "$log" | grep -q "Could not get lock" || break
		echo "deps: apt is busy elsewhere (another apt-get or dpkg); trying again in 15 s ($try/40)"
		sleep 15
	done
	echo "deps: apt-get $* failed (status $rc); the end of its log ($log):" >&2
	tail -n 15 "$log" >&2
	exit 1
}

echo "deps: ${#missing[@]} Debian packages to install, for:"
printf '%s\n' "${reasons[@]}"
t0=$SECONDS
kib0=$(installed_kib)
apt_get "package lists" update
apt_get "installing" install -y --no-install-recommends "${missing[@]}"
echo "deps: installed ${#missing[@]} packages and their dependencies," \
	"$((($(installed_kib) - kib0) / 1024)) MB, in $((SECONDS - t0)) s"
rm -f "$log"
