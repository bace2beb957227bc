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

#include "server.h"

#define BATCH_PROCS 256

struct msg {
	atomic_int ref;
	uint64_t cid; /* clients skip messages they already had */
	uint64_t pid; /* what a client's filter looks at */
	char host[65], name[65];
	size_t len;
	char data[];
};

/* A batch read from the database, formatted once for every client. */
struct batch {
	struct msg **calls, **procs;
	size_t n_calls, n_procs;
	uint64_t last_cid;
	struct {
		char host[65];
		uint64_t pid, start_ns;
	} key[BATCH_PROCS];
};

void msg_put(struct msg *m);
void batch_init(void);
/* Calls with after < cid <= upto (at most max_rows), and the rows of the
 * processes they touched. */
int batch_fetch(struct db_pool *db, uint64_t after, uint64_t upto, unsigned int max_rows,
		struct batch **out, char *err, size_t errlen);
void batch_free(struct batch *b);

#endif
