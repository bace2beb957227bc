# tests/fuzz/lib.sh - helpers of the fuzz/sanitizer suite (source it):
# running a program under ASan/UBSan with its reports collected, and the
# TAP lines that fail on any report.
TOP=${TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BUILD=${BUILD:-$TOP/build}
ASAN=$BUILD/asan
SAN_DIR=$BUILD/fuzz/san-reports # kept after the run: "not ok" names the file
rm -rf "$SAN_DIR"
mkdir -p "$SAN_DIR"

# san_run CMD...: CMD with sanitizer reports written to $SAN_DIR/report.PID
# (LeakSanitizer included).  In the background use env "${SAN_ENV[@]}" CMD &
# instead, so that $! is the program's own pid.
SAN_ENV=(ASAN_OPTIONS="log_path=$SAN_DIR/report:detect_leaks=1:halt_on_error=1"
	UBSAN_OPTIONS="log_path=$SAN_DIR/report:print_stacktrace=1:halt_on_error=1")
san_run() {
	env "${SAN_ENV[@]}" "$@"
}

# san_news: empty when no new report since the last call; else ", sanitizer
# report FILE: first error line".  Reports seen are renamed *.seen.
san_news() {
	local f
	for f in "$SAN_DIR"/report.*; do
		[ -e "$f" ] || continue
		case $f in *.seen) continue ;; esac
		mv "$f" "$f.seen"
		printf ', sanitizer report %s: %s' "$f.seen" \
			"$(grep -m1 -E 'ERROR|runtime error|SUMMARY' "$f.seen" | cut -c1-160)"
		return
	done
}

# check_san "what" CMD...: ok when CMD exits 0 and no sanitizer reported.
check_san() {
	local what=$1 news rc
	shift
	"$@"
	rc=$?
	news=$(san_news)
	if [ $rc -eq 0 ] && [ -z "$news" ]; then
		tap_ok "$what"
	else
		tap_fail "$what${news:- (check failed)}"
	fi
}

# san_tap "what" PROGRAM ARGS...: a TAP-printing test program under the
# sanitizers; one line: how many of its tests passed, and no report.
san_tap() {
	local what=$1 out=$WORK/san_tap.out p f rc news
	shift
	san_run "$@" >"$out" 2>&1
	rc=$?
	p=$(grep -c '^ok ' "$out")
	f=$(grep -c '^not ok ' "$out")
	news=$(san_news)
	if [ $rc -eq 0 ] && [ "$f" -eq 0 ] && [ "$p" -gt 0 ] && [ -z "$news" ]; then
		tap_ok "$what under ASan+UBSan: $p passed, no sanitizer report"
	else
		tap_fail "$what under ASan+UBSan: $p passed, $f failed, status $rc$news"
		grep '^not ok' "$out" | head -5 | sed 's/^/# /'
	fi
}
