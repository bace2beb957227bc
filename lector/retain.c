/*
 * retain.c - purge what is older than --retain-days, for this host only,
 * and keep the day partitions of calls (calls_part.c; the thread runs for
 * that even without retention).
 *
 * Whole days of calls go by DROP PARTITION once every host is done with
 * them (the fleet's rule: calls_days() below).  What is left to this host
 * is deleted row by row, as follows.
 * Calls have no time index (migration 011 dropped it: it cost inserts
 * dearly), but cid is commit-ordered and commits follow capture time, so the
 * old calls are at the low end of cid, the primary key (migration 018).  A
 * pass walks cids upward in chunks of RETAIN_CHUNK_ROWS from a cursor,
 * deleting this host's rows of the chunk whose ts_ns (CLOCK_REALTIME) is
 * before the cutoff, and stops at the first chunk holding a recent row of this host; the next
 * pass resumes there.  Other hosts' rows are only stepped over.  The walk
 * stops below the lowest cid lease in flight (migration 020): a block
 * still uncommitted must not end up behind the cursor.  Each
 * DELETE is its own short transaction (autocommit, READ COMMITTED: no gap
 * locks near the rows lector inserts), and the thread rests twice as long
 * as the last batch took, so it takes at most about a third of the
 * database's time from ingest (bench/lector/retain measures it).  The
 * statements are prepared once per connection (db/db_core.h) and the
 * host's id is db/host.c's lookup, as the sink's.
 * Capture sessions not updated since the cutoff go the same way.
 * Checkpoints are the long history (README.md, "What the numbers mean"):
 * they go after --retain-checkpoint-days (at least --retain-days), by
 * their time index, in batches of RETAIN_CHUNK_ROWS, except the newest
 * before that cutoff of each process whose row stays, which is its state
 * for every instant from the cutoff to its next checkpoint.  Exited
 * processes, what a look at the past lists, go with their checkpoints:
 * last seen before that cutoff (index by_live).
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <mysql.h>

#include "calls_part.h"
#include "clock.h"
#include "db_core.h"
#include "host.h"
#include "resolve.h"
#include "retain.h"

#define RETAIN_CHUNK_ROWS   5000
#define RETAIN_PAUSE_MIN_MS 20
#define RETAIN_PAUSE_FACTOR 2	/* rest twice as long as a batch took */
#define RETAIN_FIRST_S	    2	/* first pass soon after start */
#define RETAIN_EVERY_S	    600 /* then every ten minutes */
#define RETAIN_RETRY_S	    30	/* database down or host not registered yet */

/* The statements of a pass, prepared once per connection. */
enum retain_stmt {
	CHUNK_SPAN,	/* the next chunk of cids: its last cid, its rows */
	CHUNK_MINE,	/* this host's rows of the chunk, and the old ones */
	CHUNK_DELETE,	/* this host's old rows of the chunk */
	PROCS_DELETE,	/* exited processes last seen before the checkpoints' cutoff */
	STATS_DELETE,	/* sessions not updated since the cutoff */
	OOM_DELETE,	/* OOM kills before the cutoff */
	CGROUPS_DELETE, /* names of cgroups no process row holds, looked up before */
	FILES_DELETE,	/* names of files last looked up before (cutoff - an hour) */
	CKPT_DELETE,	/* checkpoints before their cutoff, but a live process's newest */
	SNAP_DELETE,	/* snapshots before the calls' cutoff (their calls are purged) */
	RETAIN_NSTMTS
};

static const char *const retain_sql[RETAIN_NSTMTS] = {
    /* never past a cid lease in flight (migration 020), however old: its
     * block may still commit below it (stale leases are fenced by the
     * writers, sink_mysql_lease.c) */
    [CHUNK_SPAN] = "SELECT MAX(cid), COUNT(*) FROM (SELECT cid FROM calls FORCE INDEX (PRIMARY) "
		   "WHERE cid > ? AND cid < (SELECT COALESCE(MIN(IF(live = 1, lo, NULL)), ~0) "
		   "FROM cid_leases) "
		   "ORDER BY cid LIMIT ?) t",
    [CHUNK_MINE] = "SELECT COUNT(*), COALESCE(SUM(ts_ns < ?), 0) FROM calls FORCE INDEX "
		   "(PRIMARY) WHERE cid > ? AND cid <= ? AND host_id = ?",
    [CHUNK_DELETE] = "DELETE FROM calls WHERE cid > ? AND cid <= ? AND host_id = ? AND ts_ns < ?",
    [PROCS_DELETE] = "DELETE FROM processes WHERE host_id = ? AND exited = 1 AND "
		     "last_seen_ns < ? LIMIT ?",
    [STATS_DELETE] = "DELETE FROM capture_stats WHERE host_id = ? AND updated_at < NOW(6) - "
		     "INTERVAL ? DAY LIMIT ?",
    [OOM_DELETE] = "DELETE FROM oom_kills WHERE host_id = ? AND ts_ns < ? LIMIT ?",
    /* a cgroup a kept process row names stays (calls after the cutoff
     * belong to kept processes) */
    [CGROUPS_DELETE] = "DELETE FROM cgroups WHERE host_id = ? AND resolved_ns < ? AND NOT EXISTS "
		       "(SELECT 1 FROM processes p WHERE p.host_id = cgroups.host_id AND "
		       "p.cgroup_id = cgroups.cgroup_id) LIMIT ?",
    /* lector looks a file up again, and rewrites resolved_ns, the first
     * time it meets it in each RESOLVE_FORGET_NS (lector/resolve.h): a file
     * met since the cutoff was written at most that long before it */
    [FILES_DELETE] = "DELETE FROM files WHERE host_id = ? AND resolved_ns < ? LIMIT ?",
    /* by_time, oldest first.  The newest checkpoint before the cutoff of
     * a process whose row stays (live, or exited since the cutoff: see
     * PROCS_DELETE) is its state for every instant from the cutoff to its
     * next checkpoint, so it stays: a checkpoint goes when a newer one of
     * its process is before the cutoff too, or when its process's row goes
     * (or is gone).  At most one per kept process is stepped over. */
    [CKPT_DELETE] =
	"DELETE FROM checkpoints WHERE host_id = ? AND ts_ns < ? AND ("
	"EXISTS (SELECT 1 FROM checkpoints n WHERE n.host_id = checkpoints.host_id AND "
	"n.pid = checkpoints.pid AND n.start_ns = checkpoints.start_ns AND "
	"n.ts_ns > checkpoints.ts_ns AND n.ts_ns < ?) OR NOT EXISTS (SELECT 1 FROM "
	"processes p WHERE p.host_id = checkpoints.host_id AND p.pid = checkpoints.pid "
	"AND p.start_ns = checkpoints.start_ns AND (p.exited = 0 OR p.last_seen_ns >= ?))) "
	"ORDER BY ts_ns LIMIT ?",
    /* a snapshot answers an instant with the calls after it: once those
     * are purged it has nothing to stand on (server/tt_snap.c checks its
     * call is still stored) */
    [SNAP_DELETE] = "DELETE FROM snapshots WHERE host_id = ? AND ts_ns < ? LIMIT ?",
};

struct retain {
	struct lector_config cfg;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	atomic_bool stopping;
	MYSQL *db;
	MYSQL_STMT *st[RETAIN_NSTMTS];
	unsigned int host_id;
	uint64_t cursor_cid; /* cids below this: nothing of ours to purge */
	char err[512];	     /* why the last step failed */
};

struct purged {
	uint64_t calls, procs, sessions, ooms, cgroups, files, ckpts, snaps;
	unsigned int days_dropped, rule_days; /* day partitions of calls, by the fleet's rule */
	char first_day[65], last_day[65];
	uint64_t drop_ns;	 /* how long the DROP PARTITION took */
	uint64_t drop_cutoff_ns; /* the days before it went (the database's clock) */
};

/* Sleep up to ms; returns true when asked to stop. */
static bool rest(struct retain *r, uint64_t ms)
{
	struct timespec dl;
	uint64_t until = mono_ns() + ms * 1000000ULL;

	dl.tv_sec = (time_t)(until / 1000000000ULL);
	dl.tv_nsec = (long)(until % 1000000000ULL);
	pthread_mutex_lock(&r->lock);
	while (!atomic_load(&r->stopping) && mono_ns() < until)
		pthread_cond_timedwait(&r->wake, &r->lock, &dl);
	pthread_mutex_unlock(&r->lock);
	return atomic_load(&r->stopping);
}

static void retain_disconnect(struct retain *r)
{
	for (int i = 0; i < RETAIN_NSTMTS; i++)
		if (r->st[i])
			mysql_stmt_close(r->st[i]);
	memset(r->st, 0, sizeof(r->st));
	if (r->db)
		mysql_close(r->db);
	r->db = NULL;
}

/* Connect, find this host's id (the sink registers it: -ENOENT until
 * then), prepare the statements. */
static int retain_connect(struct retain *r)
{
	const struct lector_config *c = &r->cfg;
	int rc;

	r->db = db_connect_config(c, 5, 0, r->err, sizeof(r->err));
	if (!r->db)
		return -EIO;
	if (mysql_query(r->db, "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")) {
		snprintf(r->err, sizeof(r->err), "%s", mysql_error(r->db));
		return -EIO;
	}
	rc = db_host_find(r->db, c->host_id, &r->host_id, r->err, sizeof(r->err));
	if (rc <= 0)
		return rc < 0 ? rc : -ENOENT;
	for (int i = 0; i < RETAIN_NSTMTS; i++)
		if (!(r->st[i] = db_prepare(r->db, retain_sql[i], r->err, sizeof(r->err))))
			return -EIO;
	return 0;
}

/* One chunk of cids after lo.  Returns 1 to go on, 0 when the pass is
 * done (recent rows of ours, or the end of the table), -errno. */
static int calls_chunk(struct retain *r, uint64_t cutoff_ns, uint64_t *lo, uint64_t *purged)
{
	uint64_t span[2] = {0, 0}, mine[2] = {0, 0}, gone = 0;
	const struct db_param after[2] = {DB_U64(*lo), DB_U64(RETAIN_CHUNK_ROWS)};
	char *err = r->err;
	size_t errlen = sizeof(r->err);
	int rc = db_stmt_u64(r->st[CHUNK_SPAN], after, 2, span, 2, err, errlen);

	if (rc < 0 || !span[1])
		return rc < 0 ? rc : 0;
	const struct db_param chunk[4] = {DB_U64(cutoff_ns), DB_U64(*lo), DB_U64(span[0]),
					  DB_U64(r->host_id)};

	rc = db_stmt_u64(r->st[CHUNK_MINE], chunk, 4, mine, 2, err, errlen);
	if (rc < 0)
		return rc;
	if (mine[1]) {
		const struct db_param old[4] = {DB_U64(*lo), DB_U64(span[0]), DB_U64(r->host_id),
						DB_U64(cutoff_ns)};

		rc = db_stmt_exec(r->st[CHUNK_DELETE], old, 4, &gone, err, errlen);
		if (rc < 0)
			return rc;
		*purged += gone;
	}
	if (mine[0] > mine[1])
		return 0; /* recent rows of ours: resume at this chunk next time */
	*lo = span[0];
	return span[1] == RETAIN_CHUNK_ROWS;
}

/* How long to rest after a batch that started at t0_ns. */
static uint64_t pause_ms(uint64_t t0_ns)
{
	return RETAIN_PAUSE_MIN_MS + RETAIN_PAUSE_FACTOR * (mono_ns() - t0_ns) / 1000000;
}

/* Batches of one DELETE ... LIMIT until fewer rows than the limit go. */
static int purge_limited(struct retain *r, MYSQL_STMT *st, const struct db_param *ps,
			 unsigned int n, uint64_t *purged)
{
	uint64_t gone;

	do {
		uint64_t t0 = mono_ns();
		int rc = db_stmt_exec(st, ps, n, &gone, r->err, sizeof(r->err));

		if (rc < 0)
			return rc;
		*purged += gone;
		if (rest(r, pause_ms(t0)))
			return 0;
	} while (gone == RETAIN_CHUNK_ROWS);
	return 0;
}

/* OOM kills and snapshots before the cutoff, and the names no kept row
 * needs. */
static int purge_names(struct retain *r, uint64_t cutoff_ns, struct purged *p)
{
	uint64_t files_ns = cutoff_ns > RESOLVE_FORGET_NS ? cutoff_ns - RESOLVE_FORGET_NS : 0;
	const struct db_param cut[3] = {DB_U64(r->host_id), DB_U64(cutoff_ns),
					DB_U64(RETAIN_CHUNK_ROWS)};
	const struct db_param files[3] = {DB_U64(r->host_id), DB_U64(files_ns),
					  DB_U64(RETAIN_CHUNK_ROWS)};
	int rc = purge_limited(r, r->st[OOM_DELETE], cut, 3, &p->ooms);

	if (rc == 0)
		rc = purge_limited(r, r->st[SNAP_DELETE], cut, 3, &p->snaps);
	if (rc == 0)
		rc = purge_limited(r, r->st[CGROUPS_DELETE], cut, 3, &p->cgroups);
	return rc < 0 ? rc : purge_limited(r, r->st[FILES_DELETE], files, 3, &p->files);
}

/* Checkpoints and exited processes older than ckpt_cutoff_ns. */
static int purge_history(struct retain *r, uint64_t ckpt_cutoff_ns, struct purged *p)
{
	const struct db_param cut[3] = {DB_U64(r->host_id), DB_U64(ckpt_cutoff_ns),
					DB_U64(RETAIN_CHUNK_ROWS)};
	const struct db_param ckpt[5] = {DB_U64(r->host_id), DB_U64(ckpt_cutoff_ns),
					 DB_U64(ckpt_cutoff_ns), DB_U64(ckpt_cutoff_ns),
					 DB_U64(RETAIN_CHUNK_ROWS)};
	int rc = purge_limited(r, r->st[CKPT_DELETE], ckpt, 5, &p->ckpts);

	return rc < 0 ? rc : purge_limited(r, r->st[PROCS_DELETE], cut, 3, &p->procs);
}

/* The day partitions of calls (calls_part.c): this host's retention in
 * calls_retention, the days ahead, and the days every host is done with
 * dropped.  *walk_ns: the cutoff of this host's row-by-row purge.  A host
 * that keeps its calls for less than the fleet's rule, or when no day can
 * be dropped (a host keeps everything), deletes its rows older than its
 * own cutoff as before.  A host whose retention is the rule lets its calls
 * go by whole days (so they stay up to a day longer than --retain-days)
 * and deletes only its rows older than the oldest day kept: rows that came
 * in late or before migration 021, in the first partition.  A failure here
 * (the writer may not ALTER or DROP calls, a metadata lock not granted in
 * time) is logged and leaves the row-by-row purge with this host's own
 * cutoff; the next pass tries again. */
static void calls_days(struct retain *r, uint64_t cutoff_ns, struct purged *p, uint64_t *walk_ns)
{
	unsigned int added = 0;
	uint64_t kept_ns = 0, t0 = mono_ns(), now_ns = 0;
	char err[sizeof(r->err)];
	int rc = calls_part_register(r->db, r->host_id, r->cfg.retain_days, err, sizeof(err));

	*walk_ns = cutoff_ns;
	/* days are the database's: one host's clock far ahead would drop
	 * every day of every host */
	if (rc == 0 && (rc = db_query_u64(r->db, "SELECT UNIX_TIMESTAMP()", NULL, 0, &now_ns, 1,
					  err, sizeof(err))) > 0)
		rc = 0;
	now_ns *= 1000000000ULL;
	if (rc == 0)
		rc = calls_part_ahead(r->db, now_ns, &added, err, sizeof(err));
	if (rc == 0 && added)
		fprintf(stderr,
			"lector: calls: %u day partitions added, up to %u days ahead, in %.3f s\n",
			added, CALLS_PART_AHEAD_DAYS, (mono_ns() - t0) / 1e9);
	if (rc == 0 && r->cfg.retain_days)
		rc = calls_part_rule(r->db, &p->rule_days, err, sizeof(err));
	if (rc == 0 && r->cfg.retain_days && p->rule_days) {
		t0 = mono_ns();
		p->drop_cutoff_ns = retain_cutoff_ns(now_ns, p->rule_days);
		rc = calls_part_drop(r->db, p->drop_cutoff_ns, &p->days_dropped, &kept_ns,
				     p->first_day, p->last_day, sizeof(p->first_day), err,
				     sizeof(err));
		p->drop_ns = mono_ns() - t0;
	}
	if (rc == 0 && kept_ns && r->cfg.retain_days >= p->rule_days && kept_ns < cutoff_ns)
		*walk_ns = kept_ns;
	if (rc < 0)
		fprintf(
		    stderr,
		    "lector: calls: day partitions: %s; this host's old calls are deleted row by "
		    "row meanwhile, the next pass tries again\n",
		    err);
}

/* cutoff_ns: of the calls (--retain-days), ckpt_cutoff_ns: of the
 * checkpoints; 0 keeps them. */
static int retain_pass(struct retain *r, uint64_t cutoff_ns, uint64_t ckpt_cutoff_ns,
		       struct purged *p)
{
	const struct db_param stats[3] = {DB_U64(r->host_id), DB_U64(r->cfg.retain_days),
					  DB_U64(RETAIN_CHUNK_ROWS)};
	uint64_t lo = r->cursor_cid, walk_ns = cutoff_ns;
	int rc = r->cfg.retain_days ? 1 : 0;

	calls_days(r, cutoff_ns, p, &walk_ns);

	while (rc > 0) {
		uint64_t t0 = mono_ns();

		rc = calls_chunk(r, walk_ns, &lo, &p->calls);
		r->cursor_cid = lo;
		if (rc > 0 && rest(r, pause_ms(t0)))
			return 0;
	}
	if (rc == 0 && r->cfg.retain_checkpoint_days)
		rc = purge_history(r, ckpt_cutoff_ns, p);
	if (rc < 0 || !r->cfg.retain_days)
		return rc;
	rc = purge_limited(r, r->st[STATS_DELETE], stats, 3, &p->sessions);
	return rc < 0 ? rc : purge_names(r, cutoff_ns, p);
}

/* Said when something was purged, and after the first whole pass (which
 * shows the cutoff in effect even when nothing is that old). */
static void utc(char *buf, size_t len, uint64_t ns)
{
	time_t s = (time_t)(ns / 1000000000ULL);

	strftime(buf, len, "%Y-%m-%d %H:%M:%S", gmtime(&s));
}

static void report(const struct retain *r, const struct purged *p, uint64_t cutoff_ns,
		   uint64_t ckpt_cutoff_ns, bool first_pass, uint64_t took_ns)
{
	char when[32], ckpt_when[32], ckpts[160] = "; checkpoints are kept";

	if (p->days_dropped) {
		utc(when, sizeof(when), p->drop_cutoff_ns);
		fprintf(
		    stderr,
		    "lector: retention: dropped %u days of calls of every host (%s to %s), all "
		    "older than %s UTC (the fleet's rule: %u days, the longest --retain-days in "
		    "calls_retention) in %.3f s\n",
		    p->days_dropped, p->first_day, p->last_day, when, p->rule_days,
		    p->drop_ns / 1e9);
	}
	if (!r->cfg.retain_days && !r->cfg.retain_checkpoint_days)
		return; /* the thread only keeps the day partitions */
	if (!p->calls && !p->procs && !p->sessions && !p->ooms && !p->cgroups && !p->files &&
	    !p->ckpts && !p->snaps && !first_pass)
		return;
	utc(when, sizeof(when), cutoff_ns);
	utc(ckpt_when, sizeof(ckpt_when), ckpt_cutoff_ns);
	if (!r->cfg.retain_days) { /* checkpoints only */
		fprintf(
		    stderr,
		    "lector: retention: purged %" PRIu64 " checkpoints and %" PRIu64
		    " exited processes of host '%s' older than %s UTC (%u days) in %.1f s; calls "
		    "are kept\n",
		    p->ckpts, p->procs, r->cfg.host_id, ckpt_when, r->cfg.retain_checkpoint_days,
		    took_ns / 1e9);
		return;
	}
	if (r->cfg.retain_checkpoint_days)
		snprintf(ckpts, sizeof(ckpts),
			 "; and %" PRIu64 " checkpoints (exited processes with them) older than %s "
			 "UTC (%u days)",
			 p->ckpts, ckpt_when, r->cfg.retain_checkpoint_days);
	fprintf(stderr,
		"lector: retention: purged %" PRIu64 " calls, %" PRIu64
		" exited processes and %" PRIu64 " sessions of host '%s' older than %s UTC "
		"(%u days) in %.1f s; and %" PRIu64 " OOM kills, %" PRIu64 " snapshots, %" PRIu64
		" cgroup names, %" PRIu64 " file names%s\n",
		p->calls, p->procs, p->sessions, r->cfg.host_id, when, r->cfg.retain_days,
		took_ns / 1e9, p->ooms, p->snaps, p->cgroups, p->files, ckpts);
}

static void *retain_main(void *arg)
{
	struct retain *r = arg;
	uint64_t wait_s = RETAIN_FIRST_S;
	bool passed = false;

	while (!rest(r, wait_s * 1000)) {
		struct purged p = {0};
		uint64_t t0 = mono_ns();
		uint64_t now_ns = wall_ns();
		uint64_t cutoff_ns = retain_cutoff_ns(now_ns, r->cfg.retain_days);
		uint64_t ckpt_cutoff_ns = retain_cutoff_ns(now_ns, r->cfg.retain_checkpoint_days);
		int rc = r->db ? 0 : retain_connect(r);

		if (rc == 0)
			rc = retain_pass(r, cutoff_ns, ckpt_cutoff_ns, &p);
		report(r, &p, cutoff_ns, ckpt_cutoff_ns, rc == 0 && !passed, mono_ns() - t0);
		passed = passed || rc == 0;
		if (rc < 0 && rc != -ENOENT)
			fprintf(stderr, "lector: retention: %s; retrying in %d s\n", r->err,
				RETAIN_RETRY_S);
		if (rc < 0)
			retain_disconnect(r);
		wait_s = rc < 0 ? RETAIN_RETRY_S : RETAIN_EVERY_S;
	}
	retain_disconnect(r);
	return NULL;
}

int retain_start(struct retain **out, const struct lector_config *cfg)
{
	struct retain *r;
	pthread_condattr_t a;
	int rc;

	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->cfg = *cfg;
	pthread_mutex_init(&r->lock, NULL);
	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC); /* rest() deadlines */
	pthread_cond_init(&r->wake, &a);
	pthread_condattr_destroy(&a);
	rc = -pthread_create(&r->thread, NULL, retain_main, r);
	if (rc < 0) {
		free(r);
		return rc;
	}
	if (cfg->retain_days)
		fprintf(stderr,
			"lector: retention: calls and sessions of host '%s' older than %u days are "
			"purged in the background\n",
			cfg->host_id, cfg->retain_days);
	if (!cfg->retain_days && !cfg->retain_checkpoint_days)
		; /* calls and checkpoints kept: nothing to say */
	else if (cfg->retain_checkpoint_days)
		fprintf(stderr,
			"lector: retention: checkpoints and exited processes of host '%s' older "
			"than %u days are purged in the background (a kept process keeps its "
			"newest checkpoint before them)\n",
			cfg->host_id, cfg->retain_checkpoint_days);
	else
		fprintf(stderr, "lector: retention: checkpoints and exited processes are kept "
				"(--retain-checkpoint-days=0)\n");
	*out = r;
	return 0;
}

void retain_stop(struct retain *r)
{
	if (!r)
		return;
	pthread_mutex_lock(&r->lock);
	atomic_store(&r->stopping, true);
	pthread_cond_signal(&r->wake);
	pthread_mutex_unlock(&r->lock);
	pthread_join(r->thread, NULL);
	pthread_cond_destroy(&r->wake);
	pthread_mutex_destroy(&r->lock);
	free(r);
}
