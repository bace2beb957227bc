/*
 * map-holder - the load of bench/lector/ranges: one process holding many
 * separate mappings (one page each in a slot of three pages; the third
 * always stays free, so neither the kernel nor lector's accounting merges
 * two slots) that keeps moving one of them, round robin, at a steady rate:
 * munmap the page, mmap it at the slot's other page.  Each call changes
 * the process's ranges (a pair does not undo itself); a lector that
 * rewrote all of them at every commit would write them all each time.
 *
 *   map-holder [--mappings N] [--rate PAIRS_PER_S (0: as fast as it can)]
 * Prints "ready N" once the N mappings exist, then moves pages (a munmap
 * and an mmap each) until SIGTERM or SIGINT, then "pairs=P".  N must fit
 * vm.max_map_count.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define PAGE_BYTES 4096UL

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int map_page(char *addr)
{
	void *p = mmap(addr, PAGE_BYTES, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);

	return p == MAP_FAILED ? -errno : 0;
}

/* Reserve 3N pages, give them back, map the first page of each slot. */
static char *map_all(unsigned long n)
{
	char *base = mmap(NULL, 3 * n * PAGE_BYTES, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (base == MAP_FAILED || munmap(base, 3 * n * PAGE_BYTES))
		return NULL;
	for (unsigned long i = 0; i < n; i++) {
		int rc = map_page(base + 3 * i * PAGE_BYTES);

		if (rc < 0) {
			fprintf(stderr,
				"map-holder: mapping %lu of %lu: %s (vm.max_map_count too low?)\n",
				i + 1, n, strerror(-rc));
			return NULL;
		}
	}
	return base;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"mappings", 1, 0, 'n'}, {"rate", 1, 0, 'r'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
	unsigned long n = 65000, rate = 500, pairs = 0;
	struct timespec due;
	char *base;
	int o;

	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (o == 'n') {
			n = strtoul(optarg, NULL, 0);
		} else if (o == 'r') {
			rate = strtoul(optarg, NULL, 0);
		} else {
			puts("usage: map-holder [--mappings N] [--rate PAIRS_PER_S (0: flat out)]");
			return o == 'h' ? 0 : 2;
		}
	}
	if (n < 1 || n > 1000000 || rate > 1000000) {
		fprintf(stderr, "map-holder: --mappings 1..1000000, --rate 0..1000000\n");
		return 2;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	base = map_all(n);
	if (!base)
		return 1;
	printf("ready %lu\n", n);
	fflush(stdout);
	clock_gettime(CLOCK_MONOTONIC, &due);
	while (!stop) {
		unsigned long slot = pairs % n, moved = pairs / n; /* times round */
		char *from = base + (3 * slot + moved % 2) * PAGE_BYTES;
		char *to = base + (3 * slot + (moved + 1) % 2) * PAGE_BYTES;

		if (munmap(from, PAGE_BYTES) || map_page(to) < 0) {
			perror("map-holder: munmap/mmap");
			return 1;
		}
		pairs++;
		if (!rate)
			continue;
		due.tv_nsec += (long)(1000000000UL / rate);
		if (due.tv_nsec >= 1000000000L) {
			due.tv_sec++;
			due.tv_nsec -= 1000000000L;
		}
		while (!stop &&
		       clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &due, NULL) == EINTR)
			;
	}
	printf("pairs=%lu\n", pairs);
	return 0;
}
