/*
 * capture.c - the capture thread: source -> queue.
 *
 * Records are staged and pushed together when the source asks before a
 * release (batch_end, source.h): the producer gets a record back only once
 * it is in the journal (journal mode) or the queue, and counted in the
 * state file (runstate.c), which also follows every poll.  A full spill
 * disk loses records but not the capture: the loss is counted
 * (capture_stats.lost) and said.
 * Sessions: one per ring load or eBPF attach; when the module is unloaded
 * the thread waits for /proc/memprobe to come back and captures the new
 * session (unless told to exit), saying so.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "lector.h"

/* Records are staged and handed to the queue together, before the source
 * releases them: one lock and at most one spill write per batch instead of
 * per record.  The sources release at most every 4096 records; a fuller
 * stage is pushed at once (kept early, released later: harmless). */
#define STAGE_MAX 4096

int capture_init(struct capture *c)
{
	c->stage = calloc(STAGE_MAX, sizeof(*c->stage));
	return c->stage ? 0 : -ENOMEM;
}

void capture_free(struct capture *c)
{
	free(c->stage);
	c->stage = NULL;
}

#define SPILL_FULL_LOG_EVERY_S 5

/* A full spill disk loses records but must not stop capture: say so
 * (once, then every few seconds with the count), and when it has room
 * again.  The count is in capture_stats.lost. */
static void report_spill_full(struct lector *l, bool full)
{
	struct capture *c = &l->cap;
	struct queue_stats qs;

	if (!full && !c->spill_was_full)
		return;
	queue_get_stats(l->q, &qs);
	if (full &&
	    (!c->spill_was_full || time(NULL) - c->spill_full_logged >= SPILL_FULL_LOG_EVERY_S)) {
		fprintf(stderr,
			"lector: the spill disk is full (%s): records that do not fit are LOST, "
			"%" PRIu64 " so far (counted in capture_stats.lost); free space there or "
			"bring the database back\n",
			l->cfg.spill_path, qs.lost_total);
		c->spill_full_logged = time(NULL);
	} else if (!full) {
		fprintf(stderr,
			"lector: the spill file takes records again; %" PRIu64
			" were lost while its disk was full\n",
			qs.lost_total);
	}
	c->spill_was_full = full;
}

static int stage_flush(struct lector *l)
{
	struct capture *c = &l->cap;
	struct queue_stats qs;
	bool full;
	int rc;

	if (!c->stage_n)
		return 0;
	/* counted as kept before they are queued: the state file never says
	 * less was read than the writer may already have committed */
	c->read_kept += c->stage_n;
	if (c->rs)
		runstate_update(c->rs, c->read_kept, l->src_stats.seen, l->src_stats.drops);
	rc = queue_push_many(l->q, c->stage, c->stage_n);
	full = queue_err_is_full(rc);
	if (full) {
		queue_get_stats(l->q, &qs);
		c->read_kept -= qs.lost_total - c->lost_known;
		c->lost_known = qs.lost_total;
		if (c->rs)
			runstate_update(c->rs, c->read_kept, l->src_stats.seen,
					l->src_stats.drops);
		rc = 0;
	} else if (rc < 0) {
		fprintf(stderr,
			"lector: cannot spill to %s: %s; stopping so nothing is lost silently\n",
			l->cfg.spill_path, strerror(-rc));
	}
	report_spill_full(l, full);
	c->stage_n = 0;
	return rc;
}

static int on_record(const struct memprobe_record *rec, void *ctx)
{
	struct lector *l = ctx;
	struct capture *c = &l->cap;

	if (c->skip_kept) {
		if (rec->seq > c->skip_through_seq)
			c->skip_kept = false;
		else if (rec->seq >= c->skip_from_seq)
			return 0; /* in the spill file already */
	}
	queue_entry_fill(&c->stage[c->stage_n++], l->session, rec);
	return c->stage_n == STAGE_MAX ? stage_flush(l) : 0;
}

/* The source is about to release what it delivered: keep it first. */
static int on_batch_end(void *ctx)
{
	return stage_flush(ctx);
}

static void snapshot_stats(struct lector *l, struct source *src)
{
	pthread_mutex_lock(&l->stats_lock);
	source_get_stats(src, &l->src_stats);
	pthread_mutex_unlock(&l->stats_lock);
}

static void log_progress(struct lector *l)
{
	struct queue_stats qs;
	char skipped[96] = "";

	queue_get_stats(l->q, &qs);
	if (l->src_stats.skipped) /* docs/FAULTS.md: an upper bound */
		snprintf(skipped, sizeof(skipped),
			 ", probe runs skipped %" PRIu64 " (up to that many events missing)",
			 l->src_stats.skipped);
	fprintf(stderr,
		"lector: seen %" PRIu64 ", dropped by the producer %" PRIu64 "%s"
		", committed %llu, waiting %" PRIu64 " (spilled %" PRIu64 ")\n",
		l->src_stats.seen, l->src_stats.drops, skipped,
		(unsigned long long)atomic_load(&l->committed_rows), qs.mem_len + qs.spill_len, qs.spill_len);
}

static int capture_loop(struct lector *l, struct source *src)
{
	uint64_t last_drops = 0, last_skipped = 0;
	time_t last_log = time(NULL);
	int rc = 0;

	while (!*l->stop_signal && !atomic_load(&l->writer_failed)) {
		rc = source_poll(src, 100, on_record, on_batch_end, l);
		if (stage_flush(l) < 0)
			break;
		if (rc == -EINTR)
			rc = 0;
		if (rc < 0)
			break;
		snapshot_stats(l, src);
		if (l->cap.rs) /* every poll: the time of the last one bounds the gap */
			runstate_update(l->cap.rs, l->cap.read_kept, l->src_stats.seen,
					l->src_stats.drops);
		if (l->src_stats.drops != last_drops || l->src_stats.skipped != last_skipped ||
		    time(NULL) - last_log >= 10) {
			log_progress(l);
			last_drops = l->src_stats.drops;
			last_skipped = l->src_stats.skipped;
			last_log = time(NULL);
		}
	}
	/* stopping: take what the producer already holds before detaching */
	for (int i = 0; rc >= 0 && i < 100; i++) {
		int n = source_poll(src, 0, on_record, on_batch_end, l);

		if (stage_flush(l) < 0 || n <= 0)
			break;
	}
	return rc;
}

/* A ring outlives its reader: after a kill, the next lector resumes the
 * same session at the ring's consumer position, while the spill file may
 * hold records past it (kept, not yet released when the kill came).  The
 * ring delivers in seq order, so skip its records in the span of seqs the
 * file holds of this session; the file's replay stores them.  What comes
 * before the span is either committed (journal mode: the writer's
 * committed seq drops it) or was held in memory and lost with the kill
 * (--mem-queue=N: memory holds the older records, the file the newer), so
 * the ring's second delivery is the one copy and is kept. */
static void skip_journaled(struct lector *l)
{
	uint64_t session = 0, first = 0, last = 0;
	int rc = queue_spilled_span(l->q, &session, &first, &last);

	l->cap.skip_kept = rc == 1 && session == l->session;
	l->cap.skip_from_seq = l->cap.skip_kept ? first : 0;
	l->cap.skip_through_seq = l->cap.skip_kept ? last : 0;
	if (l->cap.skip_kept)
		fprintf(stderr,
			"lector: the spill file holds session %" PRIu64 " seq %" PRIu64 "..%" PRIu64
			": the ring's second delivery of those is skipped\n",
			l->session, first, last);
}

/* A new capture session begins (start, module loaded again): the stats
 * row it writes says which session came before and how long nothing was
 * captured in between; the state file follows it. */
void capture_begin_session(struct lector *l, struct source *src, uint64_t prev_session,
			   uint64_t prev_end_ns)
{
	struct queue_stats qs;
	uint64_t now_ns = wall_ns();

	queue_get_stats(l->q, &qs);
	pthread_mutex_lock(&l->stats_lock);
	source_get_stats(src, &l->src_stats);
	l->session = l->src_stats.session_id;
	l->prev_session = prev_session != l->session ? prev_session : 0;
	l->gap_before_ms = 0;
	if (l->prev_session && prev_end_ns)
		l->gap_before_ms = now_ns > prev_end_ns ? (now_ns - prev_end_ns) / 1000000 : 0;
	l->lost_base = qs.lost_total;
	pthread_mutex_unlock(&l->stats_lock);
	l->cap.read_kept = 0;
	skip_journaled(l);
	if (l->cap.rs)
		runstate_begin(l->cap.rs, l->session);
	fprintf(stderr, "lector: capturing from %s%s%s%s (session %" PRIu64 "), %s %s\n",
		l->src_stats.name, l->src_stats.attach ? "(" : "",
		l->src_stats.attach ? l->src_stats.attach : "", l->src_stats.attach ? ")" : "",
		l->session,
		l->cfg.mem_queue_max ? "spill file" : "journal (every record on disk first)",
		l->cfg.spill_path);
	if (l->gap_before_ms)
		fprintf(stderr,
			"lector: nothing was captured for %" PRIu64 " ms before this session "
			"(since session %" PRIu64 " ended): counted in capture_stats.gap_before_ms\n",
			l->gap_before_ms, l->prev_session);
}

#define UNLOAD_LOG_EVERY_S 30
#define UNLOAD_CHECK_MS	   200

/* The module was unloaded: wait until /proc/memprobe is back and opens
 * (a new load, a new session), or a stop signal.  1 reopened, 0 stopped. */
static int wait_for_ring(struct lector *l, const struct source_opts *so, struct source **src)
{
	time_t last_log = time(NULL);
	char err[512], last_err[512] = "";

	fprintf(stderr,
		"lector: the capture source went away (module unloaded); waiting for %s to "
		"come back (make load); what was read is still being written\n",
		MEMPROBE_PROC_PATH);
	while (!*l->stop_signal && !atomic_load(&l->writer_failed)) {
		struct source_opts ring = *so;

		ring.kind = SOURCE_RING;
		if (access(MEMPROBE_PROC_PATH, F_OK) == 0) {
			err[0] = 0;
			if (source_open(src, &ring, err, sizeof(err)) == 0) {
				fprintf(stderr, "lector: %s is back: a new capture session\n",
					MEMPROBE_PROC_PATH);
				return 1;
			}
			if (strcmp(err, last_err))
				fprintf(stderr, "lector: %s is back but: %s; retrying\n",
					MEMPROBE_PROC_PATH, err);
			snprintf(last_err, sizeof(last_err), "%s", err);
		}
		if (time(NULL) - last_log >= UNLOAD_LOG_EVERY_S) {
			fprintf(stderr, "lector: still waiting for %s (module not loaded)\n",
				MEMPROBE_PROC_PATH);
			last_log = time(NULL);
		}
		usleep(UNLOAD_CHECK_MS * 1000);
	}
	return 0;
}

/* Capture until stopped; across module reloads unless told to exit. */
int capture_run(struct lector *l, const struct source_opts *so, bool exit_on_unload,
		struct source **src)
{
	const char *path = so->ring_path ? so->ring_path : MEMPROBE_PROC_PATH;
	int rc;

	for (;;) {
		uint64_t prev = l->session, end_ns;

		rc = capture_loop(l, *src);
		snapshot_stats(l, *src);
		/* a ring file's producer never comes back: only the module's */
		if (rc != -ESHUTDOWN || exit_on_unload || strcmp(path, MEMPROBE_PROC_PATH))
			break;
		end_ns = wall_ns();
		source_close(*src);
		*src = NULL;
		if (wait_for_ring(l, so, src) <= 0)
			return 0;
		capture_begin_session(l, *src, prev, end_ns);
	}
	if (rc == -ESHUTDOWN)
		fprintf(stderr, "lector: the capture source went away (module unloaded)\n");
	else if (rc < 0)
		fprintf(stderr, "lector: capture failed: %s\n",
			source_error(*src) ? source_error(*src) : strerror(-rc));
	return rc == -ESHUTDOWN ? 0 : rc;
}

