/*
 * retain.h - retention: a background thread with its own MariaDB
 * connection that keeps the day partitions of calls (days ahead; whole days
 * dropped by the fleet's rule) and deletes this host's remaining calls,
 * exited processes and capture sessions older than --retain-days, in small
 * batches, so ingest never waits for it.
 */
#ifndef MEMPROBE_RETAIN_H
#define MEMPROBE_RETAIN_H

#include <stdint.h>

#include "config.h"

struct retain;

/* Starts the thread (with the MariaDB sink: the day partitions need it
 * even without retention).  It connects (and reconnects) by itself. */
int retain_start(struct retain **out, const struct lector_config *cfg);
/* The purge's cutoff: what is older than now_ns - days is purged.  A
 * horizon reaching back past the epoch saturates at 0 (nothing is older);
 * it never wraps around to a cutoff in the future. */
static inline uint64_t retain_cutoff_ns(uint64_t now_ns, unsigned int days)
{
	uint64_t horizon_ns;

	if (__builtin_mul_overflow((uint64_t)days, CONFIG_NS_PER_DAY, &horizon_ns))
		return 0;
	return horizon_ns < now_ns ? now_ns - horizon_ns : 0;
}
/* Stops the thread (at most one batch later) and frees it; NULL is fine. */
void retain_stop(struct retain *r);

#endif
