/*
 * sink_mysql_ranges.c - each live process's mapped ranges in MariaDB
 * (table process_ranges, migrations 015 and 019): one row per range, keyed
 * by its start, with the attributes of the call that made it (created_ns,
 * prot, flags, file_dev, file_ino, offset_bytes, via: the ledger), so a
 * commit writes only the ranges that changed (range.h's log), however many
 * the process holds.  Restore reads them back in key order, attributes
 * and all.
 *
 * Per commit, for the dirty processes: first the processes whose ranges all
 * went (exit, exec, pid reuse) or whose log could not keep up lose every
 * row, then the logged ends are deleted, then the logged ranges are
 * upserted; the log holds one entry per start (range_log_compact), so the
 * deletes and upserts touch different rows and their order does not
 * matter.  An upsert rewrites the whole row: a start unmapped and mapped
 * again by another call between two commits is one log entry.  All of it
 * runs in the commit's transaction: a kill or a failed commit leaves the
 * rows as the previous commit left them.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_core.h"
#include "sink_mysql_stmt.h"

#define RANGE_CHUNK_ROWS 8192 /* rows per bulk execute: up to 720 KiB */

/* The columns of an upsert, in its order; a delete binds the first two
 * (a process) or three (a range). */
enum {
	RCOL_PID,
	RCOL_START_NS,
	RCOL_START,
	RCOL_END,
	RCOL_CREATED_NS,
	RCOL_PROT,
	RCOL_FLAGS,
	RCOL_FILE_DEV,
	RCOL_FILE_INO,
	RCOL_OFFSET,
	RCOL_VIA, /* the ENUM's index: MP_VIA_* + 1 */
	RCOL_MAX
};

/* Column-wise rows of one bulk statement. */
struct range_rows {
	MYSQL_STMT *stmt;
	int ncols;
	uint64_t col[RCOL_MAX][RANGE_CHUNK_ROWS];
	unsigned int n;
};

struct range_batch {
	struct range_rows clear, del, put;
};

int ranges_prepare(struct mysql_stmts *st, MYSQL *db, unsigned int host_id, char *err,
		   size_t errlen)
{
	MYSQL_STMT **stmt[3] = {&st->ranges_clear, &st->ranges_del, &st->ranges_put};
	char sql[3][512];

	snprintf(sql[0], sizeof(sql[0]),
		 "DELETE FROM process_ranges WHERE host_id=%u AND pid=? AND start_ns=?", host_id);
	snprintf(sql[1], sizeof(sql[1]),
		 "DELETE FROM process_ranges WHERE host_id=%u AND pid=? AND start_ns=? AND "
		 "start_addr=?",
		 host_id);
	snprintf(sql[2], sizeof(sql[2]),
		 "INSERT INTO process_ranges (host_id, pid, start_ns, start_addr, end_addr, "
		 "created_ns, prot, flags, file_dev, file_ino, offset_bytes, via) VALUES "
		 "(%u,?,?,?,?,?,?,?,?,?,?,?) ON DUPLICATE KEY UPDATE end_addr=VALUES(end_addr), "
		 "created_ns=VALUES(created_ns), prot=VALUES(prot), flags=VALUES(flags), "
		 "file_dev=VALUES(file_dev), file_ino=VALUES(file_ino), "
		 "offset_bytes=VALUES(offset_bytes), via=VALUES(via)",
		 host_id);
	for (int i = 0; i < 3; i++) {
		char why[256];

		*stmt[i] = db_prepare(db, sql[i], why, sizeof(why));
		if (!*stmt[i]) {
			snprintf(err, errlen, "preparing the ranges statements: %s", why);
			return -EIO;
		}
	}
	st->ranges = malloc(sizeof(*st->ranges)); /* reused by every commit */
	if (!st->ranges) {
		snprintf(err, errlen, "out of memory for the ranges statements");
		return -ENOMEM;
	}
	st->ranges->clear = (struct range_rows){.stmt = st->ranges_clear, .ncols = 2};
	st->ranges->del = (struct range_rows){.stmt = st->ranges_del, .ncols = 3};
	st->ranges->put = (struct range_rows){.stmt = st->ranges_put, .ncols = RCOL_MAX};
	return 0;
}

void ranges_close(struct mysql_stmts *st)
{
	MYSQL_STMT *stmt[3] = {st->ranges_clear, st->ranges_del, st->ranges_put};

	for (int i = 0; i < 3; i++)
		if (stmt[i])
			mysql_stmt_close(stmt[i]);
	free(st->ranges);
	st->ranges_clear = st->ranges_del = st->ranges_put = NULL;
	st->ranges = NULL;
}

static int rows_flush(struct range_rows *r)
{
	MYSQL_BIND b[RCOL_MAX];

	if (!r->n)
		return 0;
	memset(b, 0, sizeof(b));
	for (int c = 0; c < r->ncols; c++) {
		b[c].buffer_type = MYSQL_TYPE_LONGLONG;
		b[c].buffer = r->col[c];
		b[c].is_unsigned = true;
	}
	if (mysql_stmt_attr_set(r->stmt, STMT_ATTR_ARRAY_SIZE, &r->n) ||
	    mysql_stmt_bind_param(r->stmt, b) || mysql_stmt_execute(r->stmt))
		return -EIO;
	r->n = 0;
	return 0;
}

/* Clears before deletes before upserts: a process's clear always runs
 * before the rows logged after it. */
static int batch_flush(struct range_batch *rb)
{
	int rc = rows_flush(&rb->clear);

	if (rc == 0)
		rc = rows_flush(&rb->del);
	if (rc == 0)
		rc = rows_flush(&rb->put);
	return rc;
}

/* A row of rows r for process p: range g (its start only for a delete;
 * NULL for a clear). */
static int batch_add(struct range_batch *rb, struct range_rows *r, const struct acct_proc *p,
		     const struct range *g)
{
	const struct range none = {0};
	const struct range *x = g ? g : &none;
	const uint64_t v[RCOL_MAX] = {
	    [RCOL_PID] = p->pid,
	    [RCOL_START_NS] = p->start_ns,
	    [RCOL_START] = x->start,
	    [RCOL_END] = x->end,
	    [RCOL_CREATED_NS] = x->attr.created_ns,
	    [RCOL_PROT] = x->attr.prot,
	    [RCOL_FLAGS] = x->attr.flags,
	    [RCOL_FILE_DEV] = x->attr.file_dev,
	    [RCOL_FILE_INO] = x->attr.file_ino,
	    [RCOL_OFFSET] = x->attr.offset_bytes,
	    [RCOL_VIA] = x->attr.via + 1ULL,
	};
	int rc = r->n == RANGE_CHUNK_ROWS ? batch_flush(rb) : 0;

	if (rc < 0)
		return rc;
	for (int c = 0; c < r->ncols; c++)
		r->col[c][r->n] = v[c];
	r->n++;
	return 0;
}

struct whole_set {
	struct range_batch *rb;
	const struct acct_proc *p;
};

static int put_range(void *arg, const struct range *r)
{
	struct whole_set *w = arg;

	return batch_add(w->rb, &w->rb->put, w->p, r);
}

/* One process: its logged changes, or all of it when the log overflowed. */
static int proc_ranges(struct range_batch *rb, struct acct_proc *p)
{
	struct range_log *l = &p->mapped.log;
	struct whole_set w = {rb, p};
	int rc = 0;

	range_log_compact(&p->mapped);
	if (l->cleared || l->overflow)
		rc = batch_add(rb, &rb->clear, p, NULL);
	if (l->overflow)
		return rc ? rc : range_set_each(&p->mapped, put_range, &w);
	for (size_t i = 0; i < l->n && rc == 0; i++)
		rc = batch_add(rb, l->e[i].end ? &rb->put : &rb->del, p, &l->e[i]);
	return rc;
}

int ranges_write(struct mysql_stmts *st, struct acct_proc *dirty)
{
	struct range_batch *rb = st->ranges;
	int rc = 0;

	rb->clear.n = rb->del.n = rb->put.n = 0; /* a failed commit left rows behind */
	for (struct acct_proc *p = dirty; p && rc == 0; p = p->next_dirty)
		rc = proc_ranges(rb, p);
	if (rc == 0)
		rc = batch_flush(rb);
	return rc;
}

static int cmp_key(uint32_t pid, uint64_t start_ns, const struct acct_proc *p)
{
	if (pid != p->pid)
		return pid < p->pid ? -1 : 1;
	return start_ns < p->start_ns ? -1 : start_ns > p->start_ns;
}

struct range_merge {
	struct acct_proc *procs;
	size_t n, i, rows;
};

/* The columns restore reads, in RCOL_ order (via as its ENUM index). */
#define RESTORE_COLUMNS                                                                            \
	"pid, start_ns, start_addr, end_addr, created_ns, prot, flags, file_dev, file_ino, "       \
	"offset_bytes, via + 0"

static uint64_t col_u64(char **col, int i)
{
	return col[i] ? strtoull(col[i], NULL, 10) : 0;
}

/* The range of a row; a row stored before 019 has created_ns 0 and via
 * 'unknown' (its prot, flags, file and offset 0). */
static struct range row_range(char **col)
{
	uint64_t via = col_u64(col, RCOL_VIA); /* 1-based; 0: not a known name */

	return (struct range){.start = col_u64(col, RCOL_START),
			      .end = col_u64(col, RCOL_END),
			      .attr = {.created_ns = col_u64(col, RCOL_CREATED_NS),
				       .offset_bytes = col_u64(col, RCOL_OFFSET),
				       .file_ino = col_u64(col, RCOL_FILE_INO),
				       .prot = (uint32_t)col_u64(col, RCOL_PROT),
				       .flags = (uint32_t)col_u64(col, RCOL_FLAGS),
				       .file_dev = (uint32_t)col_u64(col, RCOL_FILE_DEV),
				       .via = via >= 1 && via <= MP_VIA_MAX + 1 ? (uint8_t)(via - 1)
										: MP_VIA_UNKNOWN}};
}

/* One row (RESTORE_COLUMNS), in key order. */
static int merge_row(void *arg, char **col, unsigned long *len, unsigned int ncols)
{
	struct range_merge *m = arg;
	uint32_t pid;
	int c = 1;
	uint64_t start_ns;
	struct range r;

	(void)len;
	if (ncols != RCOL_MAX)
		return -EIO;
	pid = (uint32_t)col_u64(col, RCOL_PID);
	start_ns = col_u64(col, RCOL_START_NS);
	while (m->i < m->n && (c = cmp_key(pid, start_ns, &m->procs[m->i])) > 0) {
		m->procs[m->i].mapped.log.overflow = m->rows != m->procs[m->i].mapped.n;
		m->i++, m->rows = 0;
	}
	if (c != 0)
		return 0; /* not a live process */
	m->rows++;
	r = row_range(col);
	return range_add_attr(&m->procs[m->i].mapped, r.start, r.end, &r.attr);
}

/* Load this host's ranges into procs[] (sorted by pid, start_ns, as the
 * rows come in key order): a merge join.  A process whose rows were not
 * kept one for one (a row that continues the one before it merges with
 * it) gets its whole set stored at its next commit.  Rows of no live
 * process are left alone.  0 or -errno. */
int ranges_restore(MYSQL *db, unsigned int host_id, struct acct_proc *procs, size_t n)
{
	const struct db_param key[1] = {DB_U64(host_id)};
	struct range_merge m = {procs, n, 0, 0};
	char err[256];
	int rc = db_query_rows(db,
			       "SELECT " RESTORE_COLUMNS " FROM process_ranges "
			       "WHERE host_id=? ORDER BY pid, start_ns, start_addr",
			       key, 1, merge_row, &m, err, sizeof(err));

	if (m.i < n)
		procs[m.i].mapped.log.overflow = m.rows != procs[m.i].mapped.n;
	return rc;
}
