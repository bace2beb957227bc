/*
 * range-ops - what one call costs lector's accounting of a process's ranges
 * (model/range.c), by how many separate ranges the process holds: one page
 * moved per call pair (munmap, mmap one page over), at random slots, the
 * way bench/lector/ranges' map-holder moves them.  The same run measures
 * range.c as it is (a sorted array up to RANGE_ARRAY_MAX ranges, a tree
 * past it) and range.c kept a sorted array at every size, the baseline.
 *
 *   range-ops [--calls N]
 * Prints key=value figures: nanoseconds per call, best of 5 runs.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "clock.h"
#include "range.h"

#define PAGE_BYTES 4096ULL
#define BASE_ADDR  0x200000000000ULL

static double now_ns(void)
{
	return (double)mono_ns();
}

/* ns per call on a set of n ranges, with array_max as given. */
static double run(uint64_t n, size_t array_max, uint64_t calls)
{
	struct range_set s;
	uint64_t x = 88172645463325252ULL;
	double t0, t;

	range_set_init(&s);
	s.array_max = array_max;
	range_log_start(&s);
	for (uint64_t i = 0; i < n; i++) /* slot i: page 3i mapped, 3i+1 and 3i+2 free */
		range_add(&s, BASE_ADDR + 3 * i * PAGE_BYTES, BASE_ADDR + (3 * i + 1) * PAGE_BYTES);
	range_log_reset(&s);
	t0 = now_ns();
	for (uint64_t k = 0; k < calls / 2; k++) {
		uint64_t slot, from, to;

		x ^= x << 13, x ^= x >> 7, x ^= x << 17; /* xorshift64 */
		slot = x % n;
		from = BASE_ADDR + 3 * slot * PAGE_BYTES;
		to = from + PAGE_BYTES;
		if (range_remove(&s, from, from + PAGE_BYTES, NULL) == 0) { /* moved before */
			range_remove(&s, to, to + PAGE_BYTES, NULL);
			to = from;
		}
		range_add(&s, to, to + PAGE_BYTES);
		if (s.log.n > 100000)
			range_log_reset(&s); /* a commit */
	}
	t = (now_ns() - t0) / (double)calls;
	range_set_free(&s);
	return t;
}

static double best_of_5(uint64_t n, size_t array_max, uint64_t calls)
{
	double best = 0;

	for (int i = 0; i < 5; i++) {
		double t = run(n, array_max, calls);

		best = i == 0 || t < best ? t : best;
	}
	return best;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"calls", 1, 0, 'n'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
	static const uint64_t sizes[] = {10, 100, 1000, 10000, 65000};
	uint64_t calls = 200000;
	int o;

	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (o == 'n') {
			calls = strtoull(optarg, NULL, 10);
		} else {
			puts("usage: range-ops [--calls N]");
			return o == 'h' ? 0 : 2;
		}
	}
	if (calls < 2 || calls > 100000000) {
		fprintf(stderr, "range-ops: --calls 2..100000000\n");
		return 2;
	}
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		double now = best_of_5(sizes[i], RANGE_ARRAY_MAX, calls);
		double array = best_of_5(sizes[i], (size_t)-1, calls);

		printf("ranges=%llu ns_per_call=%.0f sorted_array_ns_per_call=%.0f ratio=%.2f\n",
		       (unsigned long long)sizes[i], now, array, now / array);
	}
	return 0;
}
