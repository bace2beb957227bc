/*
 * watermark.c - how far the server may read calls by cid: the highest cid
 * below which nothing can still commit (migration 020; lector's side is
 * lector/sink_mysql_lease.c, the reasoning docs/SCALE-OUT.md).
 *
 * Lectors commit at the same time, each with explicit cids from a block
 * it reserved before its transaction, and a lease row per host says which
 * block is still in flight (live).  The watermark, read in one statement:
 * the lowest lo of a live lease minus 1; with no live lease the highest
 * hi handed out; with no lease row at all (a database no lector of 020
 * or later wrote) no cap.  A live lease is never skipped, however old:
 * the writers fence stale ones (lector/sink_mysql_lease.c, lease_fence),
 * so a COMMIT that takes long cannot land below a watermark passed.  A
 * live lease older than --cid-lease-expiry-s is only counted (/api/stats,
 * /metrics): an alert that streaming is held back (a dead lector's lease
 * waits for the next allocation of any lector to fence it).
 * The SSE poller and /api/calls read only cids <= the watermark; below it
 * a cid never appears later, so a cursor that passed it misses nothing.
 * MEMPROBE_SERVER_NO_WATERMARK=1 (tests/hosts only) reads without it, to
 * show what it prevents.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <mysqld_error.h>

#include "server.h"

static const char watermark_sql[] =
    "SELECT COUNT(*), MIN(CASE WHEN live = 1 THEN lo END), COALESCE(MAX(hi), 0), "
    "COALESCE(SUM(live = 1 AND made <= UTC_TIMESTAMP(6) - INTERVAL ? SECOND), 0) FROM cid_leases";

static atomic_ullong expired_now, last_mark;
static unsigned int expiry_s = 120;
static int disabled;

void watermark_init(unsigned int expiry_seconds)
{
	const char *e = getenv("MEMPROBE_SERVER_NO_WATERMARK");

	expiry_s = expiry_seconds;
	disabled = e && !strcmp(e, "1");
}

static int read_row(void *arg, char **c, unsigned long *len, unsigned int n)
{
	uint64_t *out = arg;

	(void)len;
	if (n < 4)
		return -EIO;
	if (!strtoull(c[0], NULL, 10))
		out[0] = UINT64_MAX; /* no lease rows: nothing to wait for */
	else if (c[1] && c[1][0])    /* db_select hands NULL as "" */
		out[0] = strtoull(c[1], NULL, 10) - 1;
	else
		out[0] = strtoull(c[2], NULL, 10);
	out[1] = strtoull(c[3], NULL, 10);
	return 0;
}

int watermark_read(struct db_pool *db, uint64_t *mark, char *err, size_t errlen)
{
	struct db_param p[1] = {DB_U64(expiry_s)};
	uint64_t out[2] = {UINT64_MAX, 0};
	int rc;

	if (disabled) {
		*mark = UINT64_MAX;
		return 0;
	}
	rc = db_select(db, watermark_sql, p, 1, read_row, out, err, errlen);
	if (rc == -EIO && db_error_code() == ER_NO_SUCH_TABLE) {
		out[0] = UINT64_MAX; /* a schema before 020: one writer, no leases */
		rc = 0;
	}
	if (rc < 0)
		return rc;
	atomic_store_explicit(&expired_now, out[1], memory_order_relaxed);
	atomic_store_explicit(&last_mark, out[0], memory_order_relaxed);
	*mark = out[0];
	return 0;
}

uint64_t watermark_expired_leases(void)
{
	return atomic_load_explicit(&expired_now, memory_order_relaxed);
}

uint64_t watermark_last(void)
{
	return atomic_load_explicit(&last_mark, memory_order_relaxed);
}
