# tests/lib/tap.sh - tiny TAP helpers for shell test suites (source it).
#   ok COND_EXIT_STATUS "what it pins down"   e.g.  check "name" cmd args...
_tap_n=0
tap_ok()   { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n - $*"; }
tap_fail() { _tap_n=$((_tap_n + 1)); echo "not ok $_tap_n - $*"; }
# check "description" command...: ok when the command exits 0
check() {
	local what=$1; shift
	if "$@"; then tap_ok "$what"; else tap_fail "$what"; fi
}
tap_diag() { echo "# $*"; }
