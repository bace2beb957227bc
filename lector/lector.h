/*
 * lector.h - the daemon's pipeline: the capture thread (capture.h) pushes
 * records into the queue; the writer thread (writer.h) takes batches,
 * applies accounting and commits them through the sink, popping them only
 * once committed.  struct lector holds what both threads share; each
 * thread's own state is its member (cap, w).  Who owns what:
 * docs/ARCHITECTURE.md, "Threads and who owns which state".
 */
#ifndef MEMPROBE_LECTOR_H
#define MEMPROBE_LECTOR_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>

#include "capture.h"
#include "config.h"
#include "queue.h"
#include "runstate.h"
#include "source.h"
#include "writer.h"

struct lector {
	/* set by main before the threads start, read-only after */
	struct lector_config cfg;
	volatile sig_atomic_t *stop_signal; /* set by SIGTERM/SIGINT */
	struct queue *q;		    /* locks itself */
	struct runstate_rec prev;	    /* what a previous run left in the state file */
	/* between the threads */
	atomic_bool stopping;	      /* main -> writer: drain and end */
	atomic_bool writer_failed;    /* writer -> capture, main: give up */
	atomic_ullong committed_rows; /* writer counts, capture's progress log reads */
	/* the session: written by the capture thread under stats_lock, read by
	 * the writer (its stats row) */
	pthread_mutex_t stats_lock;
	struct source_stats src_stats; /* snapshot from the capture thread */
	uint64_t session;
	uint64_t prev_session;	/* the one before on this spill file, 0 none */
	uint64_t gap_before_ms; /* nothing captured between it and this one */
	uint64_t lost_base;	/* queue lost_total when this session began */
	/* each thread's own */
	struct capture cap;
	struct writer w;
};

#endif
