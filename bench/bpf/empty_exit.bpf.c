// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * empty_exit.bpf.c - a program that does nothing, on the same hook as the
 * eBPF source's regs mode (tp_btf/sys_exit).  Attaching anything to the
 * sys_exit tracepoint switches every task onto the syscall-tracepoint slow
 * path; this program measures that part of the tax alone (bench/bpf/run).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("tp_btf/sys_exit")
int mp_empty_exit(void *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
