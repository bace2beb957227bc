# shellcheck shell=bash
# tests/kernel/ring-guard.sh - sourced by in-guest.sh.  Owns the checks of
# who may use /proc/memprobe and of what the module leaves behind when it
# goes while waiters are attached:
#   t_ring_access     root in a user namespace and uid 0 without capabilities
#                     are refused; CAP_PERFMON or CAP_SYS_ADMIN alone is
#                     enough; executable mappings are refused
#   t_unload_waiters  epoll (plain and EPOLLEXCLUSIVE), aio and a select()
#                     that no wakeup ends wait on the ring while the module
#                     unloads; they close after it, the kernel log stays
#                     clean, and only the select()'s wait entry was left
# Needs B, T, fd 3 and guest-lib.sh.

RINGGUARD=$B/tests/ringguard

# as_caps CAPS CMD...: CMD as uid 0 whose capabilities are only CAPS
# ("-all" for none): an empty inheritable/ambient set and a bounding set
# of CAPS, so exec gives it exactly those.
as_caps() {
	local caps=$1
	shift
	setpriv --inh-caps=-all --ambient-caps=-all --bounding-set="$caps" "$@"
}

# in_userns CMD...: CMD as root of a new user namespace.  The kernel
# refuses to make one from a chroot, and guest-init runs us chrooted into
# the shared root (mounted on /root of its initramfs): so step out to PID
# 1's root, unshare there with the initramfs's static busybox, and chroot
# back in, which the new namespace's root may do.
in_userns() {
	nsenter -t 1 -m -r -- /bin/busybox unshare -r -m /bin/busybox chroot /root "$@"
}

t_ring_access() {
	local out
	out=$(in_userns "$RINGGUARD" open 2>&1)
	check "access: root in a user namespace (unshare -r) cannot open $PROC ($out)" \
		test "$out" = open=EPERM
	out=$(as_caps -all "$RINGGUARD" open 2>&1)
	check "access: uid 0 without capabilities cannot open $PROC although it owns it ($out)" \
		test "$out" = open=EPERM
	out=$(as_caps -all "$MEMPROBE_CAT" $CAT_SOURCE --stats 2>&1)
	check "access: refused, memprobe-cat says which capability it needs ($out)" \
		grep -q 'needs CAP_PERFMON or CAP_SYS_ADMIN' <<<"$out"
	out=$(as_caps -all,+perfmon "$RINGGUARD" open 2>&1)
	check "access: uid 0 with only CAP_PERFMON opens $PROC ($out)" test "$out" = open=ok
	out=$(as_caps -all,+sys_admin "$RINGGUARD" open 2>&1)
	check "access: uid 0 with only CAP_SYS_ADMIN opens $PROC ($out)" test "$out" = open=ok
	"$RINGGUARD" exec-map >"$T/exec-map" 2>&1
	out=$(tr '\n' ' ' <"$T/exec-map")
	check "mapping: mmap with PROT_EXEC is refused with EPERM ($out)" \
		grep -qx map_exec=EPERM "$T/exec-map"
	check "mapping: a read-only mapping works and mprotect to PROT_EXEC is refused ($out)" \
		bash -c "grep -qx map_read=ok '$T/exec-map' && grep -qx mprotect_exec=EACCES '$T/exec-map'"
}

# The kernel log lines printed after line $1 that show a kernel problem.
kernel_trouble_since() {
	dmesg | tail -n +"$(($1 + 1))" |
		grep -E 'BUG:|WARNING:|Oops|general protection|Call Trace|list_(add|del) corruption|refcount_t:'
}

# Load, park the waiters (ringguard waiters), unload under them, then let
# them close.  Sets W_UNLOAD_RC, W_RC, W_LOG_AT; their lines are in OUT.
waiters_round() {
	local out=$1 pid child
	W_UNLOAD_RC=1 W_RC=1 W_LOG_AT=$(dmesg | wc -l)
	"$RINGGUARD" waiters >"$out" 2>&1 &
	pid=$!
	wait_for "grep -q '^ready child=' '$out'" 100
	child=$(sed -n 's/^ready child=//p' "$out")
	# the child asleep in select (syscall 23) or pselect6 (270)
	wait_for "grep -qE '^(23|270) ' /proc/${child:-0}/syscall 2>/dev/null" 100
	mod_unload
	W_UNLOAD_RC=$?
	kill -USR1 "$pid" 2>/dev/null
	wait_for "! kill -0 $pid 2>/dev/null" 150 || kill -KILL "$pid" 2>/dev/null
	wait "$pid"
	W_RC=$?
	cat "$out" >&3
}

t_unload_waiters() {
	local out=$T/waiters.out label="unload under waiters" trouble
	mod_load || { tap_fail "$label: module loads"; return 1; }
	waiters_round "$out"
	check "$label: the module unloads under two epolls (one EPOLLEXCLUSIVE), an aio poll and a select() no wakeup ends" \
		test "$W_UNLOAD_RC" = 0
	check "$label: then they all close, after the module is gone ($(tr '\n' ' ' <"$out")status $W_RC)" \
		bash -c "[ $W_RC = 0 ] && grep -qx closed=all '$out' && grep -qx child_select=EINTR '$out'"
	trouble=$(kernel_trouble_since "$W_LOG_AT" | head -n 5)
	check "$label: the kernel log stays clean through the unload and the closes" test -z "$trouble"
	[ -z "$trouble" ] || echo "$trouble" | sed 's/^/# /'
	dmesg | tail -n +"$((W_LOG_AT + 1))" | grep 'memprobe: ' >&3
	check "$label: every unload before it, readers attached or not, freed its wait queue" \
		bash -c "! dmesg | head -n $W_LOG_AT | grep -q 'memprobe: .*keeping its wait queue'"
	check "$label: POLLFREE detached the epoll entries; the module kept its wait queue for the one select() left" \
		bash -c "dmesg | tail -n +$((W_LOG_AT + 1)) | grep -q 'memprobe: 1 waiter.* keeping its wait queue'"
}
