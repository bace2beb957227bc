// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * mmap-flood - the event generator of the guest benchmark (and the load of
 * the guest test): T threads each do N mmap+munmap pairs of one anonymous
 * mapping, flat out or paced to a rate, optionally pinned to one CPU.
 * Owns only the loop and its timing (CLOCK_MONOTONIC); it prints
 * key=value figures and never judges them.  --getppid makes getppid calls
 * instead, a syscall memprobe does not record: what capture costs the
 * machine's other syscalls.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"

#define PACE_BATCH_PAIRS 32

struct loop_cfg {
	unsigned long long pairs;	     /* per thread; 0 = until killed */
	unsigned long long len_bytes;	     /* size of each mapping */
	unsigned long long rate_pairs_per_s; /* per thread; 0 = flat out */
	int cpu;			     /* -1 = not pinned */
	int threads;
	int getppid;			     /* one getppid call per "pair" instead */
};

/* One per thread: what to do, and what it did. */
struct loop_slot {
	const struct loop_cfg *cfg;
	unsigned long long done_pairs;
	int err;
};

/* Sleep until start + done/rate, so a thread never runs ahead of its rate. */
static void pace(const struct loop_cfg *cfg, unsigned long long start_ns,
		 unsigned long long done_pairs)
{
	unsigned long long due_ns = start_ns + done_pairs * 1000000000ULL / cfg->rate_pairs_per_s;
	struct timespec ts = {.tv_sec = due_ns / 1000000000ULL, .tv_nsec = due_ns % 1000000000ULL};

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static void *loop_thread(void *arg)
{
	struct loop_slot *slot = arg;
	const struct loop_cfg *cfg = slot->cfg;
	unsigned long long start_ns = mono_ns(), i;

	if (cfg->getppid) {
		for (i = 0; i < cfg->pairs; i++)
			syscall(SYS_getppid); /* not a libc wrapper: a real syscall each time */
		slot->done_pairs = i;
		return NULL;
	}
	for (i = 0; cfg->pairs == 0 || i < cfg->pairs; i++) {
		void *p = mmap(NULL, cfg->len_bytes, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED || munmap(p, cfg->len_bytes) != 0) {
			slot->err = errno;
			break;
		}
		if (cfg->rate_pairs_per_s && (i + 1) % PACE_BATCH_PAIRS == 0)
			pace(cfg, start_ns, i + 1);
	}
	slot->done_pairs = i;
	return NULL;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: mmap-flood [--pairs N] [--threads T] [--rate R] [--cpu C] [--len BYTES]\n"
		"  --pairs N    mmap+munmap pairs per thread (default 100000; 0 = forever)\n"
		"  --threads T  producer threads (default 1)\n"
		"  --rate R     pairs per second per thread (default 0 = flat out)\n"
		"  --cpu C      pin every thread to CPU C (default: not pinned)\n"
		"  --len BYTES  length of each mapping (default 69632, 17 pages: a size\n"
		"               nothing else uses, so its records are easy to count)\n"
		"  --getppid    make N getppid calls per thread instead of pairs (a syscall\n"
		"               memprobe does not record; N must be > 0; ns_per_pair is\n"
		"               then ns per call)\n"
		"Prints pairs, elapsed_ns, ns_per_pair and events_per_s (2 per pair).\n");
}

static int parse_args(int argc, char **argv, struct loop_cfg *cfg)
{
	static const struct option opts[] = {
	    {"pairs", required_argument, NULL, 'n'},
	    {"threads", required_argument, NULL, 't'},
	    {"rate", required_argument, NULL, 'r'},
	    {"cpu", required_argument, NULL, 'c'},
	    {"len", required_argument, NULL, 'l'},
	    {"getppid", no_argument, NULL, 'g'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	*cfg = (struct loop_cfg){.pairs = 100000, .len_bytes = 69632, .cpu = -1, .threads = 1};
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			cfg->pairs = strtoull(optarg, NULL, 0);
			break;
		case 't':
			cfg->threads = atoi(optarg);
			break;
		case 'r':
			cfg->rate_pairs_per_s = strtoull(optarg, NULL, 0);
			break;
		case 'c':
			cfg->cpu = atoi(optarg);
			break;
		case 'l':
			cfg->len_bytes = strtoull(optarg, NULL, 0);
			break;
		case 'g':
			cfg->getppid = 1;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (cfg->threads < 1 || cfg->threads > 256 || cfg->len_bytes == 0) {
		fprintf(stderr, "mmap-flood: --threads must be 1..256 and --len > 0\n");
		return -EINVAL;
	}
	if (cfg->getppid && (cfg->pairs == 0 || cfg->rate_pairs_per_s)) {
		fprintf(stderr, "mmap-flood: --getppid needs --pairs > 0 and no --rate\n");
		return -EINVAL;
	}
	return 0;
}

static int pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) != 0) {
		fprintf(stderr, "mmap-flood: cannot pin to CPU %d: %s\n", cpu, strerror(errno));
		return -errno;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct loop_cfg cfg;
	struct loop_slot *slot;
	pthread_t *tids;
	unsigned long long start_ns, elapsed_ns, total = 0;
	int err = 0;

	if (parse_args(argc, argv, &cfg) < 0 || (cfg.cpu >= 0 && pin(cfg.cpu) < 0))
		return 2;
	slot = calloc(cfg.threads, sizeof(*slot));
	tids = calloc(cfg.threads, sizeof(*tids));
	if (!slot || !tids)
		return 2;
	start_ns = mono_ns();
	for (int i = 0; i < cfg.threads; i++) {
		slot[i].cfg = &cfg;
		if (pthread_create(&tids[i], NULL, loop_thread, &slot[i]) != 0)
			return 2;
	}
	for (int i = 0; i < cfg.threads; i++) {
		pthread_join(tids[i], NULL);
		total += slot[i].done_pairs;
		if (slot[i].err)
			err = slot[i].err;
	}
	elapsed_ns = mono_ns() - start_ns;
	printf("pid=%d\nthreads=%d\npairs=%llu\nelapsed_ns=%llu\nns_per_pair=%llu\n"
	       "events_per_s=%llu\n",
	       getpid(), cfg.threads, total, elapsed_ns, total ? elapsed_ns / total : 0,
	       elapsed_ns ? total * 2 * 1000000000ULL / elapsed_ns : 0);
	if (err)
		fprintf(stderr, "mmap-flood: mmap/munmap failed: %s\n", strerror(err));
	free(slot);
	free(tids);
	return err ? 1 : 0;
}
