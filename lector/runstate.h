/*
 * runstate.h - a tiny mmaped file next to the spill file (SPILL.state)
 * that says how far this lector has read: session, records read, the
 * producer's counters, time of the last poll.  Updated per poll batch
 * with plain stores into a shared mapping (no syscall), so after a
 * kill -9 the next lector knows what the killed one had read but not
 * committed, and since when nothing captured (the gap).
 */
#ifndef MEMPROBE_RUNSTATE_H
#define MEMPROBE_RUNSTATE_H

#include <stdbool.h>
#include <stdint.h>

struct runstate_rec {
	uint64_t magic;
	uint64_t session;
	uint64_t read_count; /* records of the session handed to the queue */
	uint64_t seen;	     /* producer's counters at the last poll */
	uint64_t drops;
	uint64_t started_ns; /* CLOCK_REALTIME */
	uint64_t updated_ns; /* CLOCK_REALTIME of the last poll, written last */
};

struct runstate;

/* Open (create) SPILL.state; *prev gets what a previous run left
 * (prev->magic == 0 when nothing).  -errno on failure. */
int runstate_open(struct runstate **out, const char *spill_path, struct runstate_rec *prev);
/* A new capture session starts (lector start, module loaded again). */
void runstate_begin(struct runstate *rs, uint64_t session);
/* After a poll: records read so far and the producer's counters. */
void runstate_update(struct runstate *rs, uint64_t read_count, uint64_t seen, uint64_t drops);
void runstate_close(struct runstate *rs);

#endif
