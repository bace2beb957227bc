/*
 * sse_batch.h - what the SSE stream sends: messages formatted once and
 * shared (refcounted) by every client queue, and batches of them read
 * from the database by cid.  Used by sse.c (poller, catch-up).
 */
#ifndef MEMPROBE_SSE_BATCH_H
#define MEMPROBE_SSE_BATCH_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "host_id.h"
#include "server.h"

struct msg {
	atomic_int ref;
	uint64_t cid; /* clients skip messages they already had */
	uint64_t pid; /* what a client's filter looks at */
	char host[MP_HOST_ID_MAX + 1], name[65];
	size_t len;
	char data[];
};

/* A process a batch touched: at most one per call, so a batch of
 * max_rows calls has room for max_rows of them (no cap below that). */
struct batch_key {
	uint64_t host_id, pid, start_ns;
};

/* A batch read from the database, formatted once for every client:
 * procs[k] is the row of key[k] (NULL if the row is missing). */
struct batch {
	struct msg **calls, **procs;
	size_t n_calls, n_procs;
	uint64_t last_cid;
	struct batch_key *key;
	unsigned int *slot; /* hash of key: index + 1, 0 = empty */
	size_t n_slots;	    /* a power of two, >= 2 * max_rows */
};

void msg_put(struct msg *m);
/* Calls with after < cid <= upto (at most max_rows), and the rows of the
 * processes they touched. */
int batch_fetch(struct db_pool *db, uint64_t after, uint64_t upto, unsigned int max_rows,
		struct batch **out, char *err, size_t errlen);
void batch_free(struct batch *b);

#endif
