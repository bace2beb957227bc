/*
 * queue.h - records waiting to be committed: memory first, then disk.
 *
 * The capture thread pushes, the writer thread takes batches from the
 * front and pops them only after its sink committed them.  Up to mem_cap
 * entries wait in memory; past that (the database is down or slower than
 * capture) entries are appended to a spill file, and while the spill file
 * holds anything every new entry goes there too, so order is kept.  A
 * spill file left by a previous run is replayed first (the sink's unique
 * key makes the overlap with what was already committed harmless).
 * mem_cap 0 is journal mode: every entry is written to the file first, so
 * a kill -9 loses nothing a ring source has already released.
 */
#ifndef MEMPROBE_QUEUE_H
#define MEMPROBE_QUEUE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "memprobe_abi.h"

/* One queued record with what the sink binds directly (row-wise). */
struct qent {
	uint64_t session;
	struct memprobe_record rec;
	unsigned long comm_len; /* strnlen(rec.comm), bytes */
	unsigned long thread_comm_len;
};

struct queue_stats {
	uint64_t mem_len;
	uint64_t spill_len;
	uint64_t spilled_total; /* entries ever written to the spill file */
	uint64_t lost_total;	/* entries refused: the spill file's disk was full */
	bool spill_full;	/* the last spill write failed for lack of space */
};

struct queue;

int queue_open(struct queue **out, size_t mem_cap, const char *spill_path);
void queue_close(struct queue *q);

/* Append n entries prepared by queue_entry_fill (one lock, at most one
 * write).  -errno when the spill file cannot be written.  -ENOSPC (or
 * -EDQUOT, -EFBIG): the disk is full; the entries that did not fit are
 * dropped and counted in lost_total, and the caller may go on (what is
 * queued drains once the sink is back).  Any other error: the caller must
 * stop, nothing may be lost silently. */
int queue_push_many(struct queue *q, const struct qent *e, size_t n);
/* The spill failed for lack of space (ENOSPC, EDQUOT, EFBIG). */
bool queue_err_is_full(int rc);
void queue_entry_fill(struct qent *e, uint64_t session, const struct memprobe_record *rec);

/* Copy up to max oldest entries, all of one session, into out; wait up to
 * timeout_ms while empty.  Returns the count (0 on timeout) or -errno. */
int queue_peek(struct queue *q, struct qent *out, size_t max, int timeout_ms);
/* Drop the n entries last peeked. */
void queue_pop(struct queue *q, size_t n);

/* The seqs the spill file (a previous run's journal, at start) holds of
 * its newest entry's session: 1 with *session, *first_seq (of the file's
 * tail block of that session) and *last_seq (the newest entry's), 0 when
 * the file is empty, -errno. */
int queue_spilled_span(struct queue *q, uint64_t *session, uint64_t *first_seq, uint64_t *last_seq);

/* Move what waits in memory to the front of the spill file (shutdown with
 * the sink down): nothing queued is lost across a restart. */
int queue_spill_all(struct queue *q);

void queue_get_stats(struct queue *q, struct queue_stats *st);
/* Wake a writer sleeping in queue_peek (shutdown). */
void queue_wake(struct queue *q);

#endif
