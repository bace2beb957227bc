/*
 * writer.c - the writer thread: queue -> accounting -> sink (writer.h).
 *
 * Exactly-once: a batch is applied to the accounting once (with each
 * call's mapped_bytes and the checkpoints it makes, checkpoint.h), then
 * committed (calls + checkpoints + processes + resume point in one
 * transaction) as many times as it takes; it leaves the queue only after
 * a commit succeeded.  Records a previous run already committed (a
 * replayed spill file, a re-delivered ring) are recognised by seq <= the
 * committed_seq the database held for their session when this run first
 * met it, and skipped before accounting, so totals are never applied
 * twice.  The bound is not advanced by this run's own commits: the eBPF
 * ring delivers per-CPU records slightly out of seq order, and within one
 * run nothing is delivered twice.
 * Started with the database down, the writer first connects (with backoff)
 * and does what a normal start does (schema check, host row, processes
 * reloaded) before it takes any record: until then records only wait.
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
#include "procfs.h"

#define IDLE_WAIT_MS   200
#define RETRY_WAIT_MS  250
#define STATS_EVERY_MS 1000
#define STOP_DRAIN_MS  10000 /* on SIGTERM, commit for at most this long */

/* started with the database down: connect backoff, log interval */
#define RESTORE_WAIT_MAX_MS  4000
#define RESTORE_LOG_EVERY_MS 5000

static void fill_stats(struct lector *l, struct capture_stats *cs)
{
	struct queue_stats qs;
	uint64_t now = wall_ns();

	queue_get_stats(l->q, &qs);
	pthread_mutex_lock(&l->stats_lock);
	cs->session = l->session;
	cs->source = l->src_stats.name ? l->src_stats.name : "?";
	cs->drops = l->src_stats.drops;
	cs->seen = l->src_stats.seen;
	cs->skipped = l->src_stats.skipped;
	cs->prev_session = l->prev_session;
	cs->gap_before_ms = l->gap_before_ms;
	cs->lost = qs.lost_total - l->lost_base;
	pthread_mutex_unlock(&l->stats_lock);
	cs->lost_before = l->w.lost_before;
	cs->current = !l->w.pending_n || l->w.batch[0].session == l->session;
	cs->queued = qs.mem_len + qs.spill_len;
	cs->spilled_total = qs.spilled_total;
	/* lag: age of the newest committed record while records still wait */
	cs->lag_ms = cs->queued && l->w.last_commit_ts_ns && now > l->w.last_commit_ts_ns
			 ? (now - l->w.last_commit_ts_ns) / 1000000
			 : 0;
	cs->rate_eps = l->w.rate_eps;
}

/* Take a batch from the queue and fold it into the accounting, once.
 * Returns 1 when a batch is pending, 0 when the queue was empty, -1 when
 * the sink cannot tell what was already committed (down). */
static int take_batch(struct lector *l)
{
	int n = queue_peek(l->q, l->w.batch, l->cfg.batch_max, IDLE_WAIT_MS);
	size_t k = 0;

	if (n <= 0)
		return 0;
	if (l->w.batch[0].session != l->w.cached_session || !l->w.cached_valid) {
		uint64_t seq = 0;
		int found = l->w.sink->ops->committed_seq(l->w.sink, l->w.batch[0].session, &seq);

		if (found < 0)
			return -1; /* sink down: try again later, nothing taken */
		l->w.cached_session = l->w.batch[0].session;
		l->w.cached_valid = true;
		l->w.cached_found = found;
		l->w.cached_seq = seq;
	}
	l->w.ckpts.n = l->w.snaps.n = 0;
	for (int i = 0; i < n; i++) {
		if (l->w.cached_found && l->w.batch[i].rec.seq <= l->w.cached_seq)
			continue; /* committed by an earlier run */
		l->w.batch[k] = l->w.batch[i];
		if (acct_cap_mem_fields(&l->w.batch[k].rec) && !l->w.mem_capped++)
			fprintf(
			    stderr,
			    "lector: record %" PRIu64 " of session %016" PRIx64
			    " has memory fields past 2^52 bytes (a damaged ring?): stored capped"
			    " at 2^52; more are counted at stop\n",
			    (uint64_t)l->w.batch[k].rec.seq, l->w.batch[k].session);
		ckpt_apply(l->w.acct, &l->w.batch[k], &l->w.ext[k], &l->w.ckpts, &l->w.ckpt_policy);
		if (snap_after(l->w.acct, &l->w.batch[k], &l->w.snap, &l->w.snaps,
			       &l->w.ckpt_policy) < 0 &&
		    !l->w.snaps_dropped++)
			fprintf(stderr,
				"lector: out of memory for a snapshot: not taken (time "
				"travel reads checkpoints instead); more are counted at stop\n");
		k++;
	}
	if (l->w.res)
		resolve_batch(l->w.res, l->w.batch, k);
	l->w.pending = true;
	l->w.pending_n = k;
	l->w.pending_raw = (size_t)n;
	return 1;
}

/* The previous run on this spill file (killed, or stopped) held records
 * of its session that never reached the database: read into memory, or
 * still in the producer's ring when it died.  Once every older entry of
 * the spill file is committed, stored-by-the-producer minus committed is
 * exactly that loss.  Counted once, in this session's lost_before. */
static void count_prev_loss(struct lector *l)
{
	uint64_t rows = 0, stored = 0;

	if (!l->w.sink->ops->session_rows) {
		l->w.prev_pending = false; /* JSON lines: the sink cannot tell */
		return;
	}
	if (l->w.sink->ops->session_rows(l->w.sink, l->prev.session, &rows) < 0)
		return; /* down: try again with the next batch */
	l->w.prev_pending = false;
	if (l->prev.seen > l->prev.drops)
		stored = l->prev.seen - l->prev.drops;
	if (stored < l->prev.read_count) /* counters one poll older than read_count */
		stored = l->prev.read_count;
	l->w.lost_before = stored > rows ? stored - rows : 0;
	if (l->w.lost_before)
		fprintf(stderr,
			"lector: the previous lector (session %" PRIu64 ") ended without "
			"committing %" PRIu64 " records it had read or its ring held: lost, "
			"counted in capture_stats.lost_before of session %" PRIu64 "\n",
			l->prev.session, l->w.lost_before, l->session);
	else
		fprintf(stderr,
			"lector: the previous lector (session %" PRIu64
			") committed everything it read\n",
			l->prev.session);
}

static void committed(struct lector *l)
{
	struct writer *w = &l->w;
	uint64_t now = mono_ns();

	queue_pop(l->q, l->w.pending_raw);
	acct_clean(l->w.acct);
	if (l->w.pending_n)
		l->w.last_commit_ts_ns = l->w.batch[l->w.pending_n - 1].rec.ts_ns;
	l->committed_rows += l->w.sink->stored; /* not pending_n: a resent batch */
	w->rate_window_rows += w->pending_n;
	if (now - w->rate_window_start_ns >= 1000000000ULL) {
		w->rate_eps = w->rate_window_start_ns ? w->rate_window_rows * 1e9 /
							    (double)(now - w->rate_window_start_ns)
						      : 0;
		w->rate_window_start_ns = now;
		w->rate_window_rows = 0;
	}
	l->w.pending = false;
	l->w.pending_n = l->w.pending_raw = 0;
	l->w.ckpts.n = l->w.snaps.n = 0;
	if (l->w.db_down) {
		fprintf(stderr, "lector: sink is back; writing what waited\n");
		l->w.db_down = false;
	}
}

static int commit_pending(struct lector *l)
{
	struct capture_stats cs;
	int rc;

	struct batch_extra x = {.ext = l->w.ext,
				.ckpt = l->w.ckpts.row,
				.n_ckpt = l->w.ckpts.n,
				.snap = l->w.snaps.row,
				.n_snap = l->w.snaps.n};

	fill_stats(l, &cs);
	l->w.sink->stored = l->w.pending_n;
	rc = l->w.sink->ops->commit(l->w.sink, l->w.batch, l->w.pending_n, &x,
				    acct_dirty_list(l->w.acct), &cs);
	if (rc == 0) {
		committed(l);
		if (l->w.res)
			resolve_store(l->w.res, l->w.sink);
	} else if (!l->w.db_down) {
		fprintf(stderr,
			"lector: sink unavailable (%s); records wait in memory (%zu), then in %s\n",
			l->w.sink->err, l->cfg.mem_queue_max, l->cfg.spill_path);
		l->w.db_down = true;
	}
	return rc;
}

/* Same process iff /proc/PID exists and started at start_ns; one whose
 * stat cannot be read is kept. */
static bool proc_alive(uint32_t pid, uint64_t start_ns)
{
	return procfs_same_process(pid, start_ns) != 0;
}

static void report_restored(struct lector *l, int resumed)
{
	fprintf(stderr,
		"lector: storing in MariaDB %s as host '%s'; %d live processes resumed, "
		"%d closed out (ended while lector was stopped)\n",
		l->cfg.db_name, l->cfg.host_id, resumed, acct_close_dead(l->w.acct, proc_alive));
}

int writer_restore(struct lector *l)
{
	int rc = l->w.sink->ops->restore(l->w.sink, l->w.acct);

	if (rc < 0) {
		fprintf(stderr, "lector: cannot reload processes: %s\n", l->w.sink->err);
		return rc;
	}
	report_restored(l, rc);
	return 0;
}

/* Started with the database down: connect (schema check, host row),
 * reload processes, before any record is taken for accounting.  Backoff
 * up to RESTORE_WAIT_MAX_MS; a refusal (newer schema) is final. */
static int restore_late(struct lector *l)
{
	struct writer *w = &l->w;
	struct queue_stats qs;
	int rc = l->w.sink->ops->restore(l->w.sink, l->w.acct);

	if (rc >= 0) {
		fprintf(stderr, "lector: the database is reachable now; resuming\n");
		l->w.restore_pending = false;
		report_restored(l, rc);
		return 0;
	}
	if (rc != -ECONNREFUSED && rc != -EAGAIN && rc != -EIO) {
		fprintf(stderr, "lector: %s\n", l->w.sink->err);
		atomic_store(&l->writer_failed, true);
		return rc;
	}
	if (mono_ns() - w->restore_logged_ns >= RESTORE_LOG_EVERY_MS * 1000000ULL &&
	    rc != -EAGAIN) {
		queue_get_stats(l->q, &qs);
		fprintf(stderr,
			"lector: database still not reachable (%s); %" PRIu64
			" records waiting (%" PRIu64 " in %s)\n",
			l->w.sink->err, qs.mem_len + qs.spill_len, qs.spill_len, l->cfg.spill_path);
		w->restore_logged_ns = mono_ns();
	}
	usleep((useconds_t)w->restore_wait_ms * 1000);
	w->restore_wait_ms = w->restore_wait_ms * 2 > RESTORE_WAIT_MAX_MS ? RESTORE_WAIT_MAX_MS
									  : w->restore_wait_ms * 2;
	return rc;
}

static void *writer_main(void *arg)
{
	struct lector *l = arg;
	uint64_t last_stats_ns = 0;

	for (;;) {
		int taken;

		if (l->w.restore_pending) {
			if (atomic_load(&l->stopping))
				break; /* what waits stays in the spill file */
			if (restore_late(l) < 0 && atomic_load(&l->writer_failed))
				break;
			continue;
		}
		sampler_tick(l->w.sampler, l->w.acct); /* bounded; marks what it read dirty */
		if (atomic_load(&l->stopping) && !l->w.stop_deadline_ns)
			l->w.stop_deadline_ns = mono_ns() + STOP_DRAIN_MS * 1000000ULL;
		if (l->w.stop_deadline_ns && !l->w.pending && mono_ns() > l->w.stop_deadline_ns)
			break; /* a long backlog stays in the spill file for the next start */
		taken = l->w.pending ? 1 : take_batch(l);
		if (l->w.prev_pending && taken >= 0 &&
		    (taken == 0 || l->w.batch[0].session == l->session))
			count_prev_loss(l);

		if (taken < 0) {
			if (atomic_load(&l->stopping))
				break;
			usleep(RETRY_WAIT_MS * 1000);
			continue;
		}
		if (taken == 0) {
			struct queue_stats qs;

			queue_get_stats(l->q, &qs);
			if (atomic_load(&l->stopping) && qs.mem_len + qs.spill_len == 0) {
				l->w.pending = true; /* last word: final drops and counts */
				commit_pending(l);
				break;
			}
			if (mono_ns() - last_stats_ns < STATS_EVERY_MS * 1000000ULL)
				continue;
			/* nothing to write: still record drops and lag */
			l->w.pending = true;
		}
		last_stats_ns = mono_ns();
		if (commit_pending(l) < 0) {
			if (atomic_load(&l->stopping))
				break; /* what is queued stays in the spill file */
			usleep(RETRY_WAIT_MS * 1000);
		}
	}
	return NULL;
}

int writer_start(struct lector *l)
{
	l->w.ckpt_policy = (struct ckpt_policy){.every_calls = l->cfg.checkpoint_calls,
						.every_ns = l->cfg.checkpoint_secs * 1000000000ULL,
						.snap_calls = l->cfg.snapshot_calls};
	l->w.batch = calloc(l->cfg.batch_max, sizeof(*l->w.batch));
	l->w.ext = calloc(l->cfg.batch_max, sizeof(*l->w.ext));
	if (!l->w.batch || !l->w.ext ||
	    ckpt_list_init(&l->w.ckpts, l->cfg.batch_max, &l->w.ckpt_policy) < 0)
		return -ENOMEM;
	l->w.restore_wait_ms = RETRY_WAIT_MS;
	if (l->w.names && l->w.sink->ops->put_names && resolve_new(&l->w.res) < 0)
		return -ENOMEM;
	return -pthread_create(&l->w.thread, NULL, writer_main, l);
}

int writer_stop(struct lector *l)
{
	struct queue_stats qs;
	int rc;

	atomic_store(&l->stopping, true);
	queue_wake(l->q);
	pthread_join(l->w.thread, NULL);
	queue_get_stats(l->q, &qs);
	rc = queue_spill_all(l->q);
	if (qs.mem_len + qs.spill_len)
		fprintf(stderr,
			"lector: %" PRIu64
			" records not committed, kept in %s for the next start (%s)\n",
			qs.mem_len + qs.spill_len, l->cfg.spill_path,
			rc < 0 ? strerror(-rc) : "ok");
	if (l->w.mem_capped)
		fprintf(stderr,
			"lector: %" PRIu64 " records had memory fields past 2^52 bytes,"
			" stored capped\n",
			l->w.mem_capped);
	free(l->w.batch);
	free(l->w.ext);
	ckpt_list_free(&l->w.ckpts);
	ckpt_list_free(&l->w.snaps);
	if (l->w.snaps_dropped)
		fprintf(stderr, "lector: %" PRIu64 " snapshots were not taken (out of memory)\n",
			l->w.snaps_dropped);
	resolve_free(l->w.res);
	l->w.res = NULL;
	return rc;
}
