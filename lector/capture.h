/*
 * capture.h - the capture thread (capture.c): source -> queue.  lector's
 * main thread runs it once the writer thread is started.  struct capture
 * is its own state: nobody else reads or writes it (docs/ARCHITECTURE.md,
 * "Threads and who owns which state").
 */
#ifndef MEMPROBE_CAPTURE_H
#define MEMPROBE_CAPTURE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "queue.h"
#include "runstate.h"
#include "source.h"

struct lector;

struct capture {
	struct runstate *rs; /* the state file; NULL when it cannot be kept */
	uint64_t read_kept;  /* records kept (queued) this session */
	/* a ring session resumed after a kill: its records from_seq..through_seq
	 * are in the spill file already (kept, killed before their release), so
	 * the ring's second delivery of them is skipped (capture.c) */
	bool skip_kept;
	uint64_t skip_from_seq;
	uint64_t skip_through_seq;
	/* records staged for the queue, pushed together before a release */
	struct qent *stage;
	size_t stage_n;
	uint64_t lost_known; /* the queue's lost_total already taken off read_kept */
	bool spill_was_full; /* the last push found the spill disk full */
	time_t spill_full_logged;
};

/* The stage buffer: 0 or -ENOMEM.  capture_free releases it. */
int capture_init(struct capture *c);
void capture_free(struct capture *c);
/* A session begins (start, module loaded again); prev_* say what came
 * before (0: nothing known). */
void capture_begin_session(struct lector *l, struct source *src, uint64_t prev_session,
			   uint64_t prev_end_ns);
/* Capture until stopped, across module reloads unless exit_on_unload.
 * *src may be replaced (closed, reopened).  0 or -errno. */
int capture_run(struct lector *l, const struct source_opts *so, bool exit_on_unload,
		struct source **src);

#endif
