/*
 * sink_mysql_lease.c - the cids of the MariaDB sink's calls: a block of
 * cids reserved before each data transaction (migration 020), and this
 * host's lease on it, which the server reads to know how far it may
 * stream (server/watermark.c; docs/SCALE-OUT.md, "cid order").
 *
 * The invariant the server relies on: a cid at or below the watermark
 * (the lowest lo of a live lease minus 1, else the highest hi) never
 * commits later.  What keeps it:
 * - lease_take() allocates in a short transaction of its own: this
 *   host's lease row is locked first, then <db>_lock.cid_alloc (every
 *   allocator's one row, held only until this COMMIT), then the lease is
 *   set live with the block.  Allocations therefore commit in block order,
 *   and a block's lease is visible as soon as the block is.  Own row
 *   first: a reader that locks a lease row (it can: SELECT on the data
 *   schema) stalls that host alone, never the allocation row.
 * - lease_release() clears the lease inside the data transaction, as its
 *   last statement before COMMIT, so rows and "no longer live" become
 *   visible together.  It matches only a live lease of its own block: when
 *   the lease was fenced meanwhile it refuses (the batch is retried with a
 *   new block).
 * - lease_fence() (before allocations, at most once a second, and on every
 *   reconnect) clears any host's live lease older than lease_fence_s()
 *   (100 s): a lector that died or hangs between reserving and committing.
 *   The writers fence, the server never skips a live lease: a release in
 *   flight holds its lease row until COMMIT or rollback, and the fence,
 *   a locking UPDATE, waits for it (committed: live is already 0; rolled
 *   back: fenced, and that lector's retry takes a new block).  So however
 *   long a COMMIT takes (FTWRL, a donor, fsync), a block either commits
 *   while its lease holds the stream back, or never.  The fence runs in
 *   READ COMMITTED: it locks only the rows it clears, no gaps.
 * - lease_reset() on every (re)connect clears this lector's lease: a batch
 *   in flight when the connection died is retried with a new block.  The
 *   old transaction either never commits, or had already cleared its
 *   lease (then the reset waits for its row lock until it has committed).
 * A lease row is keyed by (host_id, lector_id), lector_id random per lector
 * process: two lectors with the same host name (a restart overlapping the
 * old lector's drain) must not clear each other's lease.
 * The same block is reused when a data transaction fails and is retried
 * on the same connection (deadlock, lock wait): it was rolled back, so
 * its cids are still unused, and the lease still live.
 * Numbers in statement text are our own (host_id, counts, cids); the
 * schema names are quoted identifiers.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "sink_mysql_stmt.h"

/* The writers' schema name, quoted: `<db>_lock` with backticks doubled. */
void lease_init(struct cid_lease *l, const char *db_name, unsigned int host_id, uint64_t lector_id,
		bool commit_lock)
{
	size_t j = 0;

	memset(l, 0, sizeof(*l));
	l->lockdb[j++] = '`';
	for (const char *p = db_name; *p && j + 8 < sizeof(l->lockdb); p++) {
		if (*p == '`')
			l->lockdb[j++] = '`';
		l->lockdb[j++] = *p;
	}
	memcpy(&l->lockdb[j], "_lock`", 7);
	l->host_id = host_id;
	l->lector_id = lector_id;
	l->commit_lock = commit_lock;
}

static int run(MYSQL *db, const char *sql)
{
	return mysql_query(db, sql) ? -EIO : 0;
}

/* One statement's single unsigned value, by the text protocol: one round
 * trip, where db_query_u64() (db/db_core.c) prepares, runs and closes a
 * statement (three) - lease_check() runs once per data transaction. */
static int query_u64(MYSQL *db, const char *sql, uint64_t *v)
{
	MYSQL_RES *res;
	MYSQL_ROW row;
	int rc = -EIO;

	if (mysql_query(db, sql) || !(res = mysql_store_result(db)))
		return -EIO;
	row = mysql_fetch_row(res);
	if (row && row[0]) {
		*v = strtoull(row[0], NULL, 10);
		rc = 0;
	}
	mysql_free_result(res);
	return rc;
}

int lease_fence_s(void)
{
	static int s;
	const char *e;

	if (!s) {
		e = getenv("MEMPROBE_LECTOR_LEASE_FENCE_S");
		s = e && atoi(e) > 0 ? atoi(e) : LEASE_USE_MAX_S;
	}
	return s;
}

int lease_fence(struct cid_lease *l, MYSQL *db)
{
	char sql[384];
	uint64_t key[64][3];
	size_t n = 0;
	MYSQL_RES *res;
	MYSQL_ROW row;

	l->fenced_ms = mono_ms();
	/* what came before (nothing of the data transaction's) ends here, as
	 * the allocation's COMMIT used to end it */
	if (mysql_commit(db) || run(db, "SET TRANSACTION ISOLATION LEVEL READ COMMITTED"))
		return -EIO;
	/* the candidates by a plain read, then each by its whole key: a scan
	 * that locks would wait for rows a reader holds */
	snprintf(sql, sizeof(sql),
		 "SELECT host_id, lector_id, lo FROM cid_leases WHERE live = 1 AND made < "
		 "UTC_TIMESTAMP(6) - INTERVAL %d SECOND LIMIT 64",
		 lease_fence_s());
	if (mysql_query(db, sql) || !(res = mysql_store_result(db)))
		return -EIO;
	while (n < 64 && (row = mysql_fetch_row(res)) && row[0] && row[1] && row[2]) {
		for (int i = 0; i < 3; i++)
			key[n][i] = strtoull(row[i], NULL, 10);
		n++;
	}
	mysql_free_result(res);
	for (size_t i = 0; i < n; i++) {
		/* waits for a transaction that already released this lease: then
		 * live is 0 and this clears nothing */
		snprintf(sql, sizeof(sql),
			 "UPDATE cid_leases SET live = 0 WHERE host_id = %" PRIu64
			 " AND lector_id = %" PRIu64 " AND lo = %" PRIu64
			 " AND live = 1 AND made < UTC_TIMESTAMP(6) - INTERVAL %d SECOND",
			 key[i][0], key[i][1], key[i][2], lease_fence_s());
		if (run(db, sql))
			return -EIO;
	}
	return mysql_commit(db) ? -EIO : 0;
}

int lease_reset(struct cid_lease *l, MYSQL *db)
{
	char sql[512];
	uint64_t next = 0;

	l->held = false;
	if (l->commit_lock)
		return 0;
	if (lease_fence(l, db) < 0)
		return -EIO;
	/* READ COMMITTED: the DELETE below locks the rows it removes, not the
	 * gap up to the next host's rows (a reader may hold those) */
	if (run(db, "SET TRANSACTION ISOLATION LEVEL READ COMMITTED"))
		return -EIO;
	/* Two rows that never change bound this host's range of the primary
	 * key, (host_id, 0) and (host_id, 2^64-1): a new lector's row then goes
	 * between its own host's rows, never into the gap before the next
	 * host's rows, which a reader locking those rows holds. */
	snprintf(sql, sizeof(sql),
		 "SELECT COUNT(*) FROM cid_leases WHERE host_id = %u AND lector_id IN (0, %" PRIu64
		 ")",
		 l->host_id, UINT64_MAX);
	if (query_u64(db, sql, &next) < 0)
		return -EIO;
	snprintf(sql, sizeof(sql),
		 "INSERT IGNORE INTO cid_leases (host_id, lector_id, lo, hi, live, made) VALUES "
		 "(%u, 0, 0, 0, 0, UTC_TIMESTAMP(6)), (%u, %" PRIu64 ", 0, 0, 0, UTC_TIMESTAMP(6))",
		 l->host_id, l->host_id, UINT64_MAX);
	if (next < 2 && run(db, sql))
		return -EIO;
	snprintf(sql, sizeof(sql),
		 "INSERT INTO cid_leases (host_id, lector_id, lo, hi, live, made) VALUES (%u, "
		 "%" PRIu64 ", 0, 0, 0, UTC_TIMESTAMP(6)) ON DUPLICATE KEY UPDATE live = 0",
		 l->host_id, l->lector_id);
	if (run(db, sql))
		return -EIO;
	/* This host's other lectors' rows unused for a day: lectors long
	 * gone (a live one was fenced above first).  One per reset (each adds
	 * one), found by a plain read and deleted by its whole key: no range
	 * lock reaching the next host's rows. */
	snprintf(sql, sizeof(sql),
		 "SELECT lector_id FROM cid_leases WHERE host_id = %u AND lector_id > 0 AND "
		 "lector_id < %" PRIu64 " AND lector_id <> %" PRIu64
		 " AND live = 0 AND made < UTC_TIMESTAMP(6) - INTERVAL 86400 SECOND LIMIT 1",
		 l->host_id, UINT64_MAX, l->lector_id);
	next = 0;
	if (query_u64(db, sql, &next) < 0 && mysql_errno(db))
		return -EIO;
	snprintf(sql, sizeof(sql),
		 "DELETE FROM cid_leases WHERE host_id = %u AND lector_id = %" PRIu64
		 " AND live = 0 AND made < UTC_TIMESTAMP(6) - INTERVAL 86400 SECOND",
		 l->host_id, next);
	if ((next && run(db, sql)) ||
	    query_u64(db, "SELECT COALESCE(MAX(cid), 0) + 1 FROM calls FORCE INDEX (PRIMARY)",
		      &next) < 0)
		return -EIO;
	/* rows stored without a lease (by hand, an older lector): stay above them */
	snprintf(sql, sizeof(sql),
		 "UPDATE %s.cid_alloc SET next = GREATEST(next, %" PRIu64 ") WHERE id = 1",
		 l->lockdb, next);
	if (run(db, sql) || mysql_commit(db))
		return -EIO;
	return 0;
}

int lease_take(struct cid_lease *l, MYSQL *db, struct qext *x, size_t n)
{
	char sql[512];
	uint64_t end;

	if (l->commit_lock) { /* the old order: AUTO_INCREMENT under the lock */
		for (size_t i = 0; i < n; i++)
			x[i].cid = 0;
		return 0;
	}
	if (!l->held || l->hi - l->lo + 1 != n) {
		if (mono_ms() - l->fenced_ms >= 1000 && lease_fence(l, db) < 0)
			return -EIO;
		/* this lector's row only: other lectors of the host keep theirs */
		snprintf(sql, sizeof(sql),
			 "INSERT INTO cid_leases (host_id, lector_id, lo, hi, live, made) VALUES "
			 "(%u, %" PRIu64 ", 0, 0, 1, UTC_TIMESTAMP(6)) ON DUPLICATE KEY UPDATE "
			 "live = 1, made = UTC_TIMESTAMP(6)",
			 l->host_id, l->lector_id);
		if (run(db, sql))
			return -EIO;
		snprintf(sql, sizeof(sql),
			 "UPDATE %s.cid_alloc SET next = LAST_INSERT_ID(next + %zu) WHERE id = 1",
			 l->lockdb, n);
		if (run(db, sql))
			return -EIO;
		if (mysql_affected_rows(db) != 1)
			return -ENOENT; /* no allocation row: migration 020 missing */
		end = mysql_insert_id(db);
		snprintf(sql, sizeof(sql),
			 "UPDATE cid_leases SET lo = %" PRIu64 ", hi = %" PRIu64
			 ", live = 1, made = UTC_TIMESTAMP(6) WHERE host_id = %u AND lector_id = "
			 "%" PRIu64,
			 end - n, end - 1, l->host_id, l->lector_id);
		if (run(db, sql) || mysql_commit(db))
			return -EIO;
		l->lo = end - n;
		l->hi = end - 1;
		l->held = true;
	}
	for (size_t i = 0; i < n; i++)
		x[i].cid = l->lo + i;
	return 0;
}

int lease_check(struct cid_lease *l, MYSQL *db, uint64_t stored)
{
	char sql[256];
	uint64_t rows = 0;

	if (l->commit_lock || !l->held)
		return 0;
	/* calls' primary key is (cid, ts_ns) since the day partitions (021):
	 * a row stored by hand with one of our cids and another ts_ns is no
	 * duplicate key, so count the block's rows (every partition's) */
	snprintf(sql, sizeof(sql),
		 "SELECT COUNT(*) FROM calls WHERE cid BETWEEN %" PRIu64 " AND %" PRIu64, l->lo,
		 l->hi);
	if (query_u64(db, sql, &rows) < 0)
		return -EIO;
	return rows > stored ? -EEXIST : 0;
}

int lease_release(struct cid_lease *l, MYSQL *db)
{
	char sql[512];

	if (l->commit_lock || !l->held)
		return 0;
	snprintf(sql, sizeof(sql),
		 "UPDATE cid_leases SET live = 0 WHERE host_id = %u AND lector_id = %" PRIu64
		 " AND lo = %" PRIu64 " AND live = 1",
		 l->host_id, l->lector_id, l->lo);
	if (run(db, sql))
		return -EIO;
	if (mysql_affected_rows(db) != 1) {
		l->held = false; /* fenced, or cleared: the retry takes a new block */
		return -ESTALE;
	}
	return 0;
}

void lease_committed(struct cid_lease *l)
{
	l->held = false;
}

int lease_close(struct cid_lease *l, MYSQL *db)
{
	char sql[256];

	l->held = false;
	if (l->commit_lock)
		return 0;
	mysql_rollback(db);
	snprintf(sql, sizeof(sql),
		 "UPDATE cid_leases SET live = 0 WHERE host_id = %u AND lector_id = %" PRIu64,
		 l->host_id, l->lector_id);
	return run(db, sql) || mysql_commit(db) ? -EIO : 0;
}
