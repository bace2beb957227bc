/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * clock.h - the time helpers, one definition: nanoseconds and milliseconds
 * of the wall clock (CLOCK_REALTIME, what records and rows carry) and of
 * the monotonic clock (CLOCK_MONOTONIC, for intervals and deadlines).
 */
#ifndef MEMPROBE_CLOCK_H
#define MEMPROBE_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t clock_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline uint64_t wall_ns(void) { return clock_ns(CLOCK_REALTIME); }
static inline uint64_t wall_ms(void) { return wall_ns() / 1000000ull; }
static inline uint64_t mono_ns(void) { return clock_ns(CLOCK_MONOTONIC); }
static inline uint64_t mono_ms(void) { return mono_ns() / 1000000ull; }

#endif /* MEMPROBE_CLOCK_H */
