/*
 * retain.c - purge what is older than --retain-days, for this host only.
 *
 * Calls have no time index (migration 011 dropped it: it halved the insert
 * rate), but cid is commit-ordered and commits follow capture time, so the
 * old calls are at the low end of by_cid.  A pass walks by_cid upward in
 * chunks of RETAIN_CHUNK_ROWS cids from a cursor, deleting this host's rows
 * of the chunk whose ts_ns (CLOCK_REALTIME) is before the cutoff, and
 * stops at the first chunk holding a recent row of this host; the next
 * pass resumes there.  Other hosts' rows are only stepped over.  Each
 * DELETE is its own short transaction (autocommit, READ COMMITTED: no gap
 * locks near the rows lector inserts), and the thread rests twice as long
 * as the last batch took, so it takes at most about a third of the
 * database's time from ingest (bench/lector/retain).
 * Exited processes last seen before the cutoff (index by_live) and capture
 * sessions not updated since the cutoff go the same way.
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

#include "retain.h"
#include "sink_mysql_stmt.h"

#define RETAIN_CHUNK_ROWS   5000
#define RETAIN_PAUSE_MIN_MS 20
#define RETAIN_PAUSE_FACTOR 2	/* rest twice as long as a batch took */
#define RETAIN_FIRST_S	    2	/* first pass soon after start */
#define RETAIN_EVERY_S	    600 /* then every ten minutes */
#define RETAIN_RETRY_S	    30	/* database down or host not registered yet */

struct retain {
	struct lector_config cfg;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	atomic_bool stopping;
	MYSQL *db;
	unsigned int host_id;
	uint64_t cursor_cid; /* by_cid below this: nothing of ours to purge */
	char err[512];	     /* why the last connect failed */
};

struct purged {
	uint64_t calls, procs, sessions;
};

static uint64_t clock_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Sleep up to ms; returns true when asked to stop. */
static bool rest(struct retain *r, uint64_t ms)
{
	struct timespec dl;
	uint64_t until = clock_ns(CLOCK_MONOTONIC) + ms * 1000000ULL;

	dl.tv_sec = (time_t)(until / 1000000000ULL);
	dl.tv_nsec = (long)(until % 1000000000ULL);
	pthread_mutex_lock(&r->lock);
	while (!atomic_load(&r->stopping) && clock_ns(CLOCK_MONOTONIC) < until)
		pthread_cond_timedwait(&r->wake, &r->lock, &dl);
	pthread_mutex_unlock(&r->lock);
	return atomic_load(&r->stopping);
}

/* A query whose first row's columns are numbers; NULL reads as 0.
 * Returns the number of columns read, 0 for no row, -EIO. */
static int query_u64(struct retain *r, const char *sql, uint64_t *out, int n)
{
	MYSQL_RES *res;
	MYSQL_ROW row;
	int got = 0;

	if (mysql_query(r->db, sql) || !(res = mysql_store_result(r->db)))
		return -EIO;
	row = mysql_fetch_row(res);
	for (int i = 0; row && i < n && i < (int)mysql_num_fields(res); i++, got++)
		out[i] = row[i] ? strtoull(row[i], NULL, 10) : 0;
	mysql_free_result(res);
	return got;
}

static int exec_count(struct retain *r, const char *sql, uint64_t *affected)
{
	if (mysql_query(r->db, sql))
		return -EIO;
	*affected = mysql_affected_rows(r->db);
	return 0;
}

/* Connect and find this host's id (the sink registers it). */
static int retain_connect(struct retain *r)
{
	const struct lector_config *c = &r->cfg;
	char name[2 * sizeof(c->host_id) + 1], sql[256];
	uint64_t id = 0;

	r->db = sink_mysql_connect(c, 5, 0, r->err, sizeof(r->err));
	if (!r->db || mysql_query(r->db, "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED"))
		return -EIO;
	mysql_real_escape_string(r->db, name, c->host_id, strlen(c->host_id));
	snprintf(sql, sizeof(sql), "SELECT host_id FROM hosts WHERE name = '%s'", name);
	if (query_u64(r, sql, &id, 1) != 1)
		return -ENOENT;
	r->host_id = (unsigned int)id;
	return 0;
}

static void retain_disconnect(struct retain *r)
{
	if (r->db)
		mysql_close(r->db);
	r->db = NULL;
}

/* One chunk of by_cid after lo.  Returns 1 to go on, 0 when the pass is
 * done (recent rows of ours, or the end of the table), -EIO. */
static int calls_chunk(struct retain *r, uint64_t cutoff_ns, uint64_t *lo, uint64_t *purged)
{
	char sql[512];
	uint64_t span[2] = {0, 0}, mine[2] = {0, 0}, gone = 0;

	snprintf(sql, sizeof(sql),
		 "SELECT MAX(cid), COUNT(*) FROM (SELECT cid FROM calls FORCE INDEX (by_cid) "
		 "WHERE cid > %" PRIu64 " ORDER BY cid LIMIT %d) t",
		 *lo, RETAIN_CHUNK_ROWS);
	if (query_u64(r, sql, span, 2) < 0)
		return -EIO;
	if (!span[1])
		return 0;
	snprintf(sql, sizeof(sql),
		 "SELECT COUNT(*), COALESCE(SUM(ts_ns < %" PRIu64 "), 0) FROM calls FORCE INDEX "
		 "(by_cid) WHERE cid > %" PRIu64 " AND cid <= %" PRIu64 " AND host_id = %u",
		 cutoff_ns, *lo, span[0], r->host_id);
	if (query_u64(r, sql, mine, 2) < 0)
		return -EIO;
	if (mine[1]) {
		snprintf(sql, sizeof(sql),
			 "DELETE FROM calls WHERE cid > %" PRIu64 " AND cid <= %" PRIu64
			 " AND host_id = %u AND ts_ns < %" PRIu64,
			 *lo, span[0], r->host_id, cutoff_ns);
		if (exec_count(r, sql, &gone) < 0)
			return -EIO;
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
	return RETAIN_PAUSE_MIN_MS +
	       RETAIN_PAUSE_FACTOR * (clock_ns(CLOCK_MONOTONIC) - t0_ns) / 1000000;
}

/* Batches of one DELETE ... LIMIT until fewer rows than the limit go. */
static int purge_limited(struct retain *r, const char *sql, uint64_t *purged)
{
	uint64_t n;

	do {
		uint64_t t0 = clock_ns(CLOCK_MONOTONIC);

		if (exec_count(r, sql, &n) < 0)
			return -EIO;
		*purged += n;
		if (rest(r, pause_ms(t0)))
			return 0;
	} while (n == RETAIN_CHUNK_ROWS);
	return 0;
}

static int retain_pass(struct retain *r, uint64_t cutoff_ns, struct purged *p)
{
	uint64_t lo = r->cursor_cid;
	char sql[384];
	int rc = 1;

	while (rc > 0) {
		uint64_t t0 = clock_ns(CLOCK_MONOTONIC);

		rc = calls_chunk(r, cutoff_ns, &lo, &p->calls);
		r->cursor_cid = lo;
		if (rc > 0 && rest(r, pause_ms(t0)))
			return 0;
	}
	if (rc < 0)
		return rc;
	snprintf(
	    sql, sizeof(sql),
	    "DELETE FROM processes WHERE host_id = %u AND exited = 1 AND last_seen_ns < %" PRIu64
	    " LIMIT %d",
	    r->host_id, cutoff_ns, RETAIN_CHUNK_ROWS);
	if (purge_limited(r, sql, &p->procs) < 0)
		return -EIO;
	snprintf(
	    sql, sizeof(sql),
	    "DELETE FROM capture_stats WHERE host_id = %u AND updated_at < NOW(6) - INTERVAL %u "
	    "DAY LIMIT %d",
	    r->host_id, r->cfg.retain_days, RETAIN_CHUNK_ROWS);
	return purge_limited(r, sql, &p->sessions);
}

/* Said when something was purged, and after the first whole pass (which
 * shows the cutoff in effect even when nothing is that old). */
static void report(const struct retain *r, const struct purged *p, uint64_t cutoff_ns,
		   bool first_pass, uint64_t took_ns)
{
	time_t cutoff_s = (time_t)(cutoff_ns / 1000000000ULL);
	char when[32];

	if (!p->calls && !p->procs && !p->sessions && !first_pass)
		return;
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", gmtime(&cutoff_s));
	fprintf(stderr,
		"lector: retention: purged %" PRIu64 " calls, %" PRIu64
		" exited processes and %" PRIu64 " sessions of host '%s' older than %s UTC "
		"(%u days) in %.1f s\n",
		p->calls, p->procs, p->sessions, r->cfg.host_id, when, r->cfg.retain_days,
		took_ns / 1e9);
}

static void *retain_main(void *arg)
{
	struct retain *r = arg;
	uint64_t wait_s = RETAIN_FIRST_S;
	bool passed = false;

	while (!rest(r, wait_s * 1000)) {
		struct purged p = {0, 0, 0};
		uint64_t t0 = clock_ns(CLOCK_MONOTONIC);
		uint64_t cutoff_ns = retain_cutoff_ns(clock_ns(CLOCK_REALTIME), r->cfg.retain_days);
		int rc = r->db ? 0 : retain_connect(r);

		if (rc == 0)
			rc = retain_pass(r, cutoff_ns, &p);
		report(r, &p, cutoff_ns, rc == 0 && !passed, clock_ns(CLOCK_MONOTONIC) - t0);
		passed = passed || rc == 0;
		if (rc < 0 && rc != -ENOENT)
			fprintf(stderr, "lector: retention: %s; retrying in %d s\n",
				r->db ? mysql_error(r->db) : r->err, RETAIN_RETRY_S);
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
	if (!cfg->retain_days)
		return 0;
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
	fprintf(stderr,
		"lector: retention: calls, exited processes and sessions of host '%s' "
		"older than %u days are purged in the background\n",
		cfg->host_id, cfg->retain_days);
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
