// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * syscall-loop - the unrelated-syscall tax of bench/bpf: N getppid calls
 * through syscall(2) (no libc caching, no vDSO), optionally pinned to one
 * CPU.  getppid is not a memory call: whatever a capture adds to it is a
 * tax on every other syscall of the machine.  Owns only the loop and its
 * timing (CLOCK_MONOTONIC); prints key=value figures and never judges them:
 * the mean over all calls, and the best chunk of CHUNK_CALLS calls (the
 * least disturbed by other work on a shared machine).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "clock.h"

#define CHUNK_CALLS 1000ULL

static void usage(FILE *out)
{
	fprintf(out, "usage: syscall-loop [--calls N] [--cpu C]\n"
		     "  --calls N  getppid calls through syscall(2) (default 2000000, rounded\n"
		     "             down to whole chunks of 1000)\n"
		     "  --cpu C    pin to CPU C (default: not pinned)\n"
		     "Prints calls, elapsed_ns, ns_per_call and best_chunk_ns_per_call\n"
		     "(the fastest chunk of 1000 calls).\n");
}

static int pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) != 0) {
		fprintf(stderr, "syscall-loop: cannot pin to CPU %d: %s\n", cpu, strerror(errno));
		return -errno;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"calls", required_argument, NULL, 'n'},
	    {"cpu", required_argument, NULL, 'c'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	unsigned long long calls = 2000000, i, j, start_ns, chunk_ns, elapsed_ns;
	unsigned long long best_chunk_ns = ~0ULL;
	int c, cpu = -1;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			calls = strtoull(optarg, NULL, 0);
			break;
		case 'c':
			cpu = atoi(optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (calls == 0 || (cpu >= 0 && pin(cpu) < 0))
		return 2;
	if (calls < CHUNK_CALLS)
		calls = CHUNK_CALLS;
	calls -= calls % CHUNK_CALLS;
	start_ns = mono_ns();
	for (i = 0; i < calls; i += CHUNK_CALLS) {
		chunk_ns = mono_ns();
		for (j = 0; j < CHUNK_CALLS; j++)
			syscall(SYS_getppid);
		chunk_ns = mono_ns() - chunk_ns;
		if (chunk_ns < best_chunk_ns)
			best_chunk_ns = chunk_ns;
	}
	elapsed_ns = mono_ns() - start_ns;
	printf("calls=%llu\nelapsed_ns=%llu\nns_per_call=%.1f\nbest_chunk_ns_per_call=%.1f\n", calls,
	       elapsed_ns, (double)elapsed_ns / calls, (double)best_chunk_ns / CHUNK_CALLS);
	return 0;
}
