/*
 * mmap-loop - the mmap+munmap loop that the eBPF tests (flood) and
 * benchmark (bench/bpf) run: ITERATIONS times mmap one anonymous page and
 * munmap it, raw syscalls, optionally pinned to one CPU.  Prints
 *   loop iterations=N calls=2N elapsed_ns=T ns_per_call=X
 * so that a traced and an untraced run compare on the same work.
 *
 *   mmap-loop [--cpu N] ITERATIONS
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/syscall.h>

static unsigned long long mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	unsigned long long i, iterations, t0, t1;
	int a = 1, cpu = -1;
	cpu_set_t set;

	if (argc > 2 && !strcmp(argv[1], "--cpu")) {
		cpu = atoi(argv[2]);
		a = 3;
	}
	if (argc - a != 1 || argv[a][0] == '-') {
		fprintf(argc > 1 && !strcmp(argv[1], "--help") ? stdout : stderr,
			"usage: mmap-loop [--cpu N] ITERATIONS\n"
			"mmap+munmap one anonymous page ITERATIONS times; prints the time taken.\n");
		return argc > 1 && !strcmp(argv[1], "--help") ? 0 : 2;
	}
	iterations = strtoull(argv[a], NULL, 10);
	if (cpu >= 0) {
		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set) < 0) {
			perror("mmap-loop: sched_setaffinity (is that CPU online?)");
			return 1;
		}
	}
	t0 = mono_ns();
	for (i = 0; i < iterations; i++) {
		long p = syscall(SYS_mmap, 0, 4096, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == -1 || syscall(SYS_munmap, p, 4096) != 0) {
			perror("mmap-loop: mmap/munmap failed");
			return 1;
		}
	}
	t1 = mono_ns();
	printf("loop iterations=%llu calls=%llu elapsed_ns=%llu ns_per_call=%.1f\n", iterations,
	       2 * iterations, t1 - t0, iterations ? (double)(t1 - t0) / (2.0 * iterations) : 0.0);
	return 0;
}
