/*
 * sampler.h - keeps the resident and swapped memory of live processes
 * fresh between their calls (sampler.c): page faults change RSS without a
 * syscall, so no record would say so.  Runs in the writer's thread,
 * between batches: each tick reads a bounded share of the processes acct
 * tracks from /proc/PID/status, and a reading newer than what a process
 * holds marks it dirty, so the next commit writes it.
 */
#ifndef MEMPROBE_SAMPLER_H
#define MEMPROBE_SAMPLER_H

#include <stdint.h>
#include <stdio.h>

#include "acct.h"

#define SAMPLER_INTERVAL_DEFAULT_MS 2000
#define SAMPLER_INTERVAL_MIN_MS	    50
#define SAMPLER_INTERVAL_MAX_MS	    5000 /* every process at least every 5 s */

struct sampler_stats {
	uint64_t reads;	       /* readings taken (newer ones replace a record's) */
	uint64_t gone;	       /* no longer in /proc, or a zombie: its exit record will come */
	uint64_t reused;       /* the pid is another process's now */
	uint64_t failed;       /* /proc/PID/status or stat not readable or not parsed */
	uint64_t rounds;       /* passes over every live process */
	uint64_t late_rounds;  /* passes that took longer than the interval */
	uint64_t pass_max_ns;  /* the longest pass: no process waited twice that long */
	uint64_t busy_ns;      /* time spent in ticks */
	uint64_t tick_max_ns;  /* the longest tick: what a commit waited at most */
	uint64_t tick_max_cpu_ns; /* the most CPU time of one tick (the rest: preempted) */
	uint64_t procs_max;    /* the most live processes of one pass */
	uint64_t not_sampled;  /* live processes beyond SAMPLER_PROCS_MAX, per pass */
};

struct sampler;

/* A sampler reading every live process once per interval_ms (0: off,
 * then *out is NULL and the calls below do nothing). */
int sampler_new(struct sampler **out, unsigned int interval_ms);
void sampler_free(struct sampler *s);
/* Read the processes due now, at most SAMPLER_TICK_PROCS and for about
 * SAMPLER_TICK_BUDGET_NS. */
void sampler_tick(struct sampler *s, struct acct *a);
void sampler_get_stats(const struct sampler *s, struct sampler_stats *st);
/* One line of its counters to f, prefixed by "lector: rss sampler: ". */
void sampler_log(const struct sampler *s, FILE *f);

#endif
