/*
 * lector.h - the daemon's pipeline: the capture thread pushes records into
 * the queue; the writer thread takes batches, applies accounting and
 * commits them through the sink, popping them only once committed.
 */
#ifndef MEMPROBE_LECTOR_H
#define MEMPROBE_LECTOR_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>

#include "acct.h"
#include "config.h"
#include "queue.h"
#include "runstate.h"
#include "sink.h"
#include "source.h"

struct lector {
	struct lector_config cfg;
	volatile sig_atomic_t *stop_signal; /* set by SIGTERM/SIGINT */
	struct queue *q;
	struct acct *acct;
	struct sink *sink;
	pthread_t writer;
	atomic_bool stopping;
	atomic_bool writer_failed;
	pthread_mutex_t stats_lock;
	struct source_stats src_stats; /* snapshot from the capture thread */
	uint64_t session;
	/* set by the capture thread under stats_lock at each session start */
	uint64_t prev_session;	/* the one before on this spill file, 0 none */
	uint64_t gap_before_ms; /* nothing captured between it and this one */
	uint64_t lost_base;	/* queue lost_total when this session began */
	/* the capture thread's: records kept (queued) this session */
	struct runstate *rs;
	uint64_t read_kept;
	/* a ring session resumed after a kill: its records up to this seq are
	 * in the journal already (kept, killed before their release), so the
	 * ring's second delivery of them is skipped */
	bool skip_kept;
	uint64_t skip_through_seq;
	/* what a previous run left in the state file; the writer counts its
	 * uncommitted records once the spill file's older sessions are in */
	struct runstate_rec prev;
	bool prev_pending;
	uint64_t lost_before;
	/* writer-only state */
	struct qent *batch;
	size_t pending_n, pending_raw;
	bool pending;
	bool db_down;
	bool restore_pending; /* started with the database down */
	uint64_t cached_session, cached_seq;
	int cached_found;
	bool cached_valid;
	atomic_ullong committed_rows;
	uint64_t last_commit_ts_ns;
	double rate_eps;
	uint64_t stop_deadline_ns;
};

/* Reload live processes from the sink, close out the dead ones, log. */
int lector_restore(struct lector *l);
int lector_writer_start(struct lector *l);

/* capture.c: the capture thread.  A session begins (start, module loaded
 * again); prev_* say what came before (0: nothing known). */
void capture_begin_session(struct lector *l, struct source *src, uint64_t prev_session,
			   uint64_t prev_end_ns);
/* Capture until stopped, across module reloads unless exit_on_unload.
 * *src may be replaced (closed, reopened).  0 or -errno. */
int capture_run(struct lector *l, const struct source_opts *so, bool exit_on_unload,
		struct source **src);
/* Drain what is queued (or spill it when the sink is down), then join. */
int lector_writer_stop(struct lector *l);

#endif
