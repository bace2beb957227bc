/*
 * writer.h - the writer thread (writer.c): queue -> accounting -> sink.
 * struct writer is its own state; main touches it only before the thread
 * starts (opening the sink, reloading processes) and after it is joined
 * (docs/ARCHITECTURE.md, "Threads and who owns which state").
 */
#ifndef MEMPROBE_WRITER_H
#define MEMPROBE_WRITER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "acct.h"
#include "checkpoint.h"
#include "queue.h"
#include "sampler.h"
#include "resolve.h"
#include "sink.h"

struct lector;

struct writer {
	struct acct *acct;
	struct sink *sink;
	struct sampler *sampler; /* resident memory between calls; NULL: off */
	bool names;	      /* look up cgroups and files (this machine's records) */
	struct resolver *res; /* names of cgroups and files; NULL: not looked up */
	pthread_t thread;
	struct qent *batch;   /* cfg.batch_max entries */
	struct qext *ext;     /* beside them: what accounting said of each */
	struct ckpt_list ckpts;	       /* the pending batch's checkpoints */
	struct ckpt_policy ckpt_policy; /* --checkpoint-calls, --checkpoint-secs, --snapshot-calls */
	struct ckpt_list snaps;		/* the pending batch's snapshots' rows */
	struct snap_state snap;		/* calls since the last snapshot */
	uint64_t snaps_dropped;		/* snapshots not taken: no memory */
	size_t pending_n;     /* entries of batch to commit (not committed before) */
	size_t pending_raw;   /* entries taken from the queue for them */
	bool pending;	      /* a batch is applied and waits for its commit */
	bool db_down;	      /* the last commit failed (said once) */
	bool restore_pending; /* started with the database down */
	/* the committed_seq the sink held for cached_session, when first met */
	uint64_t cached_session, cached_seq;
	int cached_found;
	bool cached_valid;
	uint64_t last_commit_ts_ns; /* ts_ns of the newest committed record */
	double rate_eps;	    /* rows committed per second, last window */
	uint64_t rate_window_start_ns, rate_window_rows;
	uint64_t stop_deadline_ns;  /* stopping: commit until then */
	uint64_t restore_logged_ns; /* started with the database down: last log */
	int restore_wait_ms;	    /* ...and the next backoff */
	/* the previous run's uncommitted records, counted once its spill is in */
	bool prev_pending;
	uint64_t lost_before;
	uint64_t mem_capped; /* records whose memory fields were capped */
};

/* Reload live processes from the sink, close out the dead ones, log. */
int writer_restore(struct lector *l);
int writer_start(struct lector *l);
/* Drain what is queued (or spill it when the sink is down), then join. */
int writer_stop(struct lector *l);

#endif
