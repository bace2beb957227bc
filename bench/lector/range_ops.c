/*
 * range-ops - what one call costs lector's accounting of a process's ranges
 * (model/range.c), by how many separate ranges the process holds: one page
 * moved per call pair (munmap, mmap one page over), at random slots, the
 * way bench/lector/ranges' map-holder moves them, each mmap its own call
 * (the ledger's attributes: a new created_ns each).  The same run measures
 * range.c as it is (a sorted array up to RANGE_ARRAY_MAX ranges, a tree
 * past it) and range.c kept a sorted array at every size, the baseline;
 * and the heap a set of that many ranges holds, per range (glibc's
 * mallinfo2, slack of the doubling array or pool included).
 *
 * It builds against the range set before the ledger too (no attributes:
 * model= says which), so that one run can set the two side by side.
 *
 *   range-ops [--calls N]
 * Prints key=value figures: nanoseconds per call, best of 5 runs; bytes
 * per range.
 */
#include <getopt.h>
#include <malloc.h>
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

#ifdef MP_VIAS /* the ledger: each range carries its call's attributes */
#define MODEL "ledger"
static void add(struct range_set *s, uint64_t start, uint64_t end, uint64_t call)
{
	const struct range_attr at = {
	    .created_ns = call, .prot = 3, .flags = 0x22, .via = MP_VIA_MMAP};

	range_add_attr(s, start, end, &at);
}
#else
#define MODEL "plain"
static void add(struct range_set *s, uint64_t start, uint64_t end, uint64_t call)
{
	(void)call;
	range_add(s, start, end);
}
#endif

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
		add(&s, BASE_ADDR + 3 * i * PAGE_BYTES, BASE_ADDR + (3 * i + 1) * PAGE_BYTES,
		    i + 1);
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
		add(&s, to, to + PAGE_BYTES, n + k + 1);
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

/* The heap a set of n separate ranges holds, per range (log off: it is
 * emptied at every commit). */
static double bytes_per_range(uint64_t n, size_t array_max)
{
	struct range_set s;
	struct mallinfo2 m0, m1;

	range_set_init(&s);
	s.array_max = array_max;
	m0 = mallinfo2();
	for (uint64_t i = 0; i < n; i++)
		add(&s, BASE_ADDR + 3 * i * PAGE_BYTES, BASE_ADDR + (3 * i + 1) * PAGE_BYTES,
		    i + 1);
	m1 = mallinfo2();
	range_set_free(&s);
	return ((double)(m1.uordblks + m1.hblkhd) - (double)(m0.uordblks + m0.hblkhd)) / (double)n;
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

		printf("model=%s ranges=%llu ns_per_call=%.0f sorted_array_ns_per_call=%.0f "
		       "ratio=%.2f bytes_per_range=%.1f\n",
		       MODEL, (unsigned long long)sizes[i], now, array, now / array,
		       bytes_per_range(sizes[i], RANGE_ARRAY_MAX));
	}
	return 0;
}
