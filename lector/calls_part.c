/*
 * calls_part.c - the day partitions of calls (migration 021).
 *
 * calls is partitioned by RANGE on ts_ns, one partition per UTC day named
 * pYYYYMMDD (bound: the next midnight in ns), and pmax (MAXVALUE) last.
 * Every lector keeps CALLS_PART_AHEAD_DAYS days ahead of today by splitting
 * pmax, which is empty and so splits at once; a row only lands in pmax when
 * no lector ran for that long, and the split then copies those rows.
 * Whole days go by DROP PARTITION once every host is done with them: the
 * rule is the largest --retain-days recorded in calls_retention, and none
 * while a host keeps everything (0).  Both ALTERs need the metadata lock
 * of calls, which waits for the open transactions on it and holds new ones
 * behind it: they wait LOCK_WAIT_S at most and are retried on the next
 * pass, so a long reader can delay a drop but not stall ingest for longer.
 * Two lectors may split pmax at once: the loser's ALTER fails on a bound
 * that now exists, and reading the partitions again shows the days there.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "calls_part.h"
#include "db_core.h"

#define LOCK_WAIT_S   3	   /* an ALTER's wait for the metadata lock */
#define PARTS_MAX     8192 /* MariaDB's limit of partitions per table */
#define ADD_DAYS_MAX  64   /* days added by one ALTER */
#define DROP_DAYS_MAX 64   /* days dropped by one ALTER */

struct part {
	char name[65];
	uint64_t bound_ns; /* VALUES LESS THAN; UINT64_MAX for MAXVALUE */
};

struct parts {
	struct part *p;
	unsigned int n;
};

void calls_part_name(char *buf, size_t len, uint64_t day)
{
	time_t s = (time_t)(day * 86400);
	struct tm tm;

	gmtime_r(&s, &tm);
	strftime(buf, len, "p%Y%m%d", &tm);
}

int calls_part_register(MYSQL *db, unsigned int host_id, unsigned int retain_days, char *err,
			size_t errlen)
{
	const struct db_param ps[2] = {DB_U64(host_id), DB_U64(retain_days)};

	return db_query_rows(db,
			     "INSERT INTO calls_retention (host_id, retain_days) VALUES (?, ?) ON "
			     "DUPLICATE KEY UPDATE retain_days = VALUES(retain_days), updated_at = "
			     "NOW(6)",
			     ps, 2, NULL, NULL, err, errlen);
}

int calls_part_rule(MYSQL *db, unsigned int *days, char *err, size_t errlen)
{
	uint64_t v[2] = {0, 0};
	int rc = db_query_u64(db,
			      "SELECT COALESCE(MAX(retain_days), 0), COALESCE(MIN(retain_days), 0) "
			      "FROM calls_retention",
			      NULL, 0, v, 2, err, errlen);

	if (rc < 0)
		return rc;
	*days = v[1] ? (unsigned int)v[0] : 0; /* a host that keeps all keeps every day */
	return 0;
}

static int part_row(void *arg, char **col, unsigned long *len, unsigned int ncols)
{
	struct parts *ps = arg;
	struct part *p;

	(void)len;
	if (ncols < 2 || !col[0][0])
		return 0; /* not partitioned: one row, NULL name */
	if (ps->n == PARTS_MAX)
		return -E2BIG;
	p = &ps->p[ps->n++];
	snprintf(p->name, sizeof(p->name), "%s", col[0]);
	p->bound_ns = strcmp(col[1], "MAXVALUE") ? strtoull(col[1], NULL, 10) : UINT64_MAX;
	return 0;
}

/* The partitions of calls in order; n == 0 when it is not partitioned. */
static int parts_read(MYSQL *db, struct parts *ps, char *err, size_t errlen)
{
	int rc;

	ps->n = 0;
	if (!ps->p && !(ps->p = calloc(PARTS_MAX, sizeof(*ps->p))))
		return -ENOMEM;
	rc = db_query_rows(db,
			   "SELECT PARTITION_NAME, PARTITION_DESCRIPTION FROM "
			   "information_schema.PARTITIONS WHERE TABLE_SCHEMA = DATABASE() AND "
			   "TABLE_NAME = 'calls' ORDER BY PARTITION_ORDINAL_POSITION",
			   NULL, 0, part_row, ps, err, errlen);
	if (rc == -E2BIG)
		snprintf(err, errlen, "calls has more than %d partitions", PARTS_MAX);
	/* the day partitions then pmax, as migration 021 makes them */
	if (rc == 0 && ps->n && (ps->n < 2 || ps->p[ps->n - 1].bound_ns != UINT64_MAX)) {
		snprintf(err, errlen,
			 "calls is partitioned, but not by day with pmax last "
			 "(migration 021): its partitions are left alone");
		rc = -EINVAL;
	}
	return rc;
}

static int alter(MYSQL *db, const char *sql, char *err, size_t errlen)
{
	if (mysql_query(db, sql)) {
		snprintf(err, errlen, "%s: %s", sql, mysql_error(db));
		return -EIO;
	}
	return 0;
}

/* "PARTITION pD VALUES LESS THAN (B), " for the days [from, to]; the first
 * one also takes any gap below it. */
static size_t days_sql(char *buf, size_t len, uint64_t from_day, uint64_t to_day)
{
	size_t at = 0;

	for (uint64_t d = from_day; d <= to_day && at < len; d++) {
		char name[16];

		calls_part_name(name, sizeof(name), d);
		at += (size_t)snprintf(buf + at, len - at,
				       "PARTITION %s VALUES LESS THAN (%" PRIu64 "), ", name,
				       (uint64_t)((d + 1) * CALLS_PART_DAY_NS));
	}
	return at;
}

int calls_part_ahead(MYSQL *db, uint64_t now_ns, unsigned int *added, char *err, size_t errlen)
{
	struct parts ps = {0};
	uint64_t today = now_ns / CALLS_PART_DAY_NS, last_day, from_day, to_day;
	char *sql = NULL;
	size_t len = 128 + ADD_DAYS_MAX * 64, at;
	int rc = parts_read(db, &ps, err, errlen);

	*added = 0;
	if (rc < 0 || !ps.n)
		goto out;
	/* the day after the last day partition's (its bound is that day's start) */
	last_day = ps.n > 1 ? ps.p[ps.n - 2].bound_ns / CALLS_PART_DAY_NS : 0;
	to_day = today + CALLS_PART_AHEAD_DAYS;
	if (last_day > to_day)
		goto out;
	/* a gap of days nobody added (every lector stopped) goes whole into
	 * the first new partition, named after yesterday */
	from_day = last_day + 1 < today ? today - 1 : last_day;
	if (to_day - from_day >= ADD_DAYS_MAX)
		to_day = from_day + ADD_DAYS_MAX - 1;
	if (!(sql = malloc(len))) {
		rc = -ENOMEM;
		goto out;
	}
	at = (size_t)snprintf(
	    sql, len,
	    "SET STATEMENT lock_wait_timeout = %d FOR ALTER TABLE calls REORGANIZE "
	    "PARTITION pmax INTO (",
	    LOCK_WAIT_S);
	at += days_sql(sql + at, len - at, from_day, to_day);
	snprintf(sql + at, len - at, "PARTITION pmax VALUES LESS THAN MAXVALUE)");
	rc = alter(db, sql, err, errlen);
	if (rc < 0) { /* another lector may have added them meanwhile */
		char why[256];

		if (parts_read(db, &ps, why, sizeof(why)) == 0 && ps.n > 1 &&
		    ps.p[ps.n - 2].bound_ns / CALLS_PART_DAY_NS > to_day)
			rc = 0;
		goto out;
	}
	*added = (unsigned int)(to_day - from_day + 1);
out:
	free(sql);
	free(ps.p);
	return rc;
}

int calls_part_drop(MYSQL *db, uint64_t cutoff_ns, unsigned int *dropped, uint64_t *kept_ns,
		    char *first, char *last, size_t namelen, char *err, size_t errlen)
{
	struct parts ps = {0};
	char *sql = NULL;
	size_t len = 128 + DROP_DAYS_MAX * 70, at;
	unsigned int n = 0;
	int rc = parts_read(db, &ps, err, errlen);

	*dropped = 0;
	*kept_ns = 0;
	first[0] = last[0] = '\0';
	if (rc < 0 || !ps.n)
		goto out;
	/* never the last day partition: a RANGE table keeps one besides pmax */
	while (n + 2 < ps.n && n < DROP_DAYS_MAX && ps.p[n].bound_ns <= cutoff_ns)
		n++;
	*kept_ns = ps.p[n].bound_ns - CALLS_PART_DAY_NS;
	if (!n)
		goto out;
	if (!(sql = malloc(len))) {
		rc = -ENOMEM;
		goto out;
	}
	at = (size_t)snprintf(sql, len,
			      "SET STATEMENT lock_wait_timeout = %d FOR ALTER TABLE calls DROP "
			      "PARTITION ",
			      LOCK_WAIT_S);
	for (unsigned int i = 0; i < n && at < len; i++)
		at += (size_t)snprintf(sql + at, len - at, "%s%s", i ? ", " : "", ps.p[i].name);
	rc = alter(db, sql, err, errlen);
	if (rc < 0)
		goto out;
	*dropped = n;
	snprintf(first, namelen, "%s", ps.p[0].name);
	snprintf(last, namelen, "%s", ps.p[n - 1].name);
out:
	free(sql);
	free(ps.p);
	return rc;
}
