/*
 * sink_mysql_stmt.c - SQL text and parameter bindings of the MySQL sink:
 * each table's columns are listed once (CALLS_TABLE, PROC_TABLE,
 * STATS_TABLE), and its column list, placeholders, upsert clause and
 * bindings are made from that list (db/db_columns.h).
 *
 * The calls insert binds row-wise (STMT_ATTR_ROW_SIZE = sizeof(struct
 * qent)) straight onto the queue entries: no copy, one bulk round trip per
 * batch.  host_id is a number we looked up ourselves, so it is part of the
 * statement text; everything that comes from a record or a name is bound.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_columns.h"
#include "db_core.h"
#include "sink_mysql_stmt.h"

/* calls: one row per record, bound row-wise on the queue entry (e: the
 * first entry, r: its record; x: the first entry's extra, bound row-wise
 * beside them, checkpoint.h); kind U64, U32, U16, S64, S32, or BYTES (a
 * name and its length beside it in the entry).  syscall: the ENUM's index
 * is MP_CALL_* (include/memprobe_abi.h, tests/lector checks the ENUM). */
#define CALLS_TABLE(X)                                                                             \
	X(cid, U64, x->cid, KEEP)                                                                  \
	X(session, U64, e->session, KEEP)                                                          \
	X(seq, U64, r->seq, KEEP)                                                                  \
	X(ts_ns, U64, r->ts_ns, KEEP)                                                              \
	X(pid, U32, r->pid, KEEP)                                                                  \
	X(tid, U32, r->tid, KEEP)                                                                  \
	X(uid, U32, r->uid, KEEP)                                                                  \
	X(start_ns, U64, r->start_ns, KEEP)                                                        \
	X(comm, BYTES, comm, KEEP)                                                                 \
	X(thread_comm, BYTES, thread_comm, KEEP)                                                   \
	X(syscall, U16, r->call, KEEP)                                                             \
	X(addr, U64, r->addr, KEEP)                                                                \
	X(len_bytes, U64, r->len, KEEP)                                                            \
	X(new_addr, U64, r->new_addr, KEEP)                                                        \
	X(new_len_bytes, U64, r->new_len, KEEP)                                                    \
	X(offset_bytes, U64, r->offset, KEEP)                                                      \
	X(prot, U32, r->prot, KEEP)                                                                \
	X(flags, U32, r->mflags, KEEP)                                                             \
	X(fd, S32, r->fd, KEEP)                                                                    \
	X(result, S64, r->ret, KEEP)                                                               \
	X(total_vm_bytes, U64, r->total_vm_bytes, KEEP)                                            \
	X(rss_anon_bytes, U64, r->rss_anon_bytes, KEEP)                                            \
	X(rss_file_bytes, U64, r->rss_file_bytes, KEEP)                                            \
	X(rss_shmem_bytes, U64, r->rss_shmem_bytes, KEEP)                                          \
	X(swap_bytes, U64, r->swap_bytes, KEEP)                                                    \
	X(cgroup_id, U64, r->cgroup_id, KEEP)                                                      \
	X(file_dev, U32, r->file_dev, KEEP)                                                        \
	X(file_ino, U64, r->file_ino, KEEP)                                                        \
	X(rec_flags, U16, r->flags, KEEP)                                                          \
	X(mapped_bytes, U64, x->mapped_bytes, KEEP)

/* capture_stats: one row per session, kind U (u64), TEXT or DOUBLE.  The
 * counters of this session's own row only grow (MAX), whoever commits. */
#define STATS_TABLE(X)                                                                             \
	X(session, U, session, KEEP)                                                               \
	X(source, TEXT, src, KEEP)                                                                 \
	X(committed_seq, U, seq, MAX)                                                              \
	X(rows_committed, U, rows, ADD)                                                            \
	X(seen, U, seen, MAX)                                                                      \
	X(drops, U, drops, MAX)                                                                    \
	X(queued, U, cs->queued, SET)                                                              \
	X(spilled_total, U, cs->spilled_total, SET)                                                \
	X(lag_ms, U, cs->lag_ms, SET)                                                              \
	X(rate_eps, DOUBLE, cs->rate_eps, SET)                                                     \
	X(lost, U, own(cs->lost), MAX)                                                             \
	X(lost_before, U, own(cs->lost_before), MAX)                                               \
	X(gap_before_ms, U, own(cs->gap_before_ms), MAX)                                           \
	X(prev_session, U, own(cs->prev_session), MAX)                                             \
	X(skipped, U, own(cs->skipped), MAX)

#define PCOL_(name, ...) PCOL_##name,
#define SCOL_(name, ...) SCOL_##name,
enum { PROC_TABLE(PCOL_) PROC_NCOLS };
enum { STATS_TABLE(SCOL_) STATS_NCOLS };

int stmts_prepare(struct mysql_stmts *st, MYSQL *db, unsigned int host_id, char *err, size_t errlen)
{
	char sql[2048];
	int rc;

	/* host_id: a number we looked up ourselves, part of the text */
	/* A record stored before (same host, session, seq: re-delivered) is
	 * left as it is, as INSERT IGNORE did; a cid of our block held by any
	 * other row (stored without a lease) is an error, ER_SUBQUERY_NO_1_ROW,
	 * where IGNORE would have dropped our row silently (sink_mysql.c). */
	snprintf(
	    sql, sizeof(sql),
	    "INSERT INTO calls (host_id%s) VALUES (%u%s) ON DUPLICATE KEY UPDATE host_id = "
	    "IF(host_id = VALUES(host_id) AND session = VALUES(session) AND seq = VALUES(seq), "
	    "host_id, (SELECT 1 UNION ALL SELECT 2))",
	    DB_COLUMNS(CALLS_TABLE), host_id, DB_MARKS(CALLS_TABLE));
	st->calls = db_prepare(db, sql, err, errlen);
	snprintf(sql, sizeof(sql),
		 "INSERT INTO processes (host_id%s) VALUES (%u%s) ON DUPLICATE KEY UPDATE %s",
		 DB_COLUMNS(PROC_TABLE), host_id, DB_MARKS(PROC_TABLE), DB_UPDATE_LIST(PROC_TABLE));
	st->proc = st->calls ? db_prepare(db, sql, err, errlen) : NULL;
	snprintf(sql, sizeof(sql),
		 "INSERT INTO capture_stats (host_id%s) VALUES (%u%s) ON DUPLICATE KEY UPDATE "
		 "%s, updated_at=NOW(6)",
		 DB_COLUMNS(STATS_TABLE), host_id, DB_MARKS(STATS_TABLE),
		 DB_UPDATE_LIST(STATS_TABLE));
	st->stats = st->proc ? db_prepare(db, sql, err, errlen) : NULL;
	if (!st->stats || oom_prepare(st, db, host_id, err, errlen) < 0)
		return -EIO;
	rc = ranges_prepare(st, db, host_id, err, errlen);
	if (rc == 0)
		rc = ckpt_prepare(st, db, host_id, err, errlen);
	return rc < 0 ? rc : names_prepare(st, db, host_id, err, errlen);
}

void stmts_close(struct mysql_stmts *st)
{
	if (st->calls)
		mysql_stmt_close(st->calls);
	if (st->proc)
		mysql_stmt_close(st->proc);
	if (st->stats)
		mysql_stmt_close(st->stats);
	ranges_close(st);
	ckpt_close(st);
	oom_close(st);
	names_close(st);
	memset(st, 0, sizeof(*st));
}

static void bind_num(MYSQL_BIND *b, enum enum_field_types t, const void *p, bool is_unsigned)
{
	b->buffer_type = t;
	b->buffer = (void *)p;
	b->is_unsigned = is_unsigned;
}

/* A name of up to MEMPROBE_COMM_LEN bytes, its length beside it. */
static void bind_bytes(MYSQL_BIND *b, const void *p, const unsigned long *len)
{
	b->buffer_type = MYSQL_TYPE_BLOB;
	b->buffer = (void *)p;
	b->buffer_length = MEMPROBE_COMM_LEN;
	b->length = (unsigned long *)len;
}

int stmts_insert_calls(struct mysql_stmts *st, const struct qent *e, const struct qext *x, size_t n)
{
	const struct memprobe_record *r = &e[0].rec;
	MYSQL_BIND b[DB_NCOLS(CALLS_TABLE)], *c = b;
	unsigned int rows = (unsigned int)n;
	size_t row_bytes = sizeof(struct qent);

	memset(b, 0, sizeof(b));
#define CALL_U64(v)		      bind_num(c++, MYSQL_TYPE_LONGLONG, &(v), true)
#define CALL_U32(v)		      bind_num(c++, MYSQL_TYPE_LONG, &(v), true)
#define CALL_U16(v)		      bind_num(c++, MYSQL_TYPE_SHORT, &(v), true)
#define CALL_S64(v)		      bind_num(c++, MYSQL_TYPE_LONGLONG, &(v), false)
#define CALL_S32(v)		      bind_num(c++, MYSQL_TYPE_LONG, &(v), false)
#define CALL_BYTES(f)		      bind_bytes(c++, r->f, &e->f##_len)
#define BIND_(name, kind, value, upd) CALL_##kind(value);
	CALLS_TABLE(BIND_)
#undef BIND_
#undef CALL_BYTES
#undef CALL_S32
#undef CALL_S64
#undef CALL_U16
#undef CALL_U32
#undef CALL_U64
	if (mysql_stmt_attr_set(st->calls, STMT_ATTR_ARRAY_SIZE, &rows) ||
	    mysql_stmt_attr_set(st->calls, STMT_ATTR_ROW_SIZE, &row_bytes) ||
	    mysql_stmt_bind_param(st->calls, b) || mysql_stmt_execute(st->calls))
		return -EIO;
	st->calls_stored = mysql_stmt_affected_rows(st->calls);
	return 0;
}

/* Processes go in bulk, column-wise: numbers as one u64 array per column
 * (the server converts to each column's type), comm as pointer + length
 * arrays.  Their ranges are written apart, only what changed
 * (sink_mysql_ranges.c). */
#define PROC_CHUNK_MAX 256

struct proc_cols {
	uint64_t num[PROC_NCOLS][PROC_CHUNK_MAX]; /* comm's unused */
	const char *comm[PROC_CHUNK_MAX];
	unsigned long comm_len[PROC_CHUNK_MAX];
};

static void proc_row(struct proc_cols *c, size_t i, const struct acct_proc *p)
{
#define FILL_U(col, value)	      c->num[col][i] = (uint64_t)(value)
#define FILL_S(col, value)	      c->num[col][i] = (uint64_t)(value)
#define FILL_COMM(col, value)	      c->num[col][i] = 0 /* bound apart */
#define FILL_(name, kind, value, ...) FILL_##kind(PCOL_##name, value);
	PROC_TABLE(FILL_)
#undef FILL_
#undef FILL_COMM
#undef FILL_S
#undef FILL_U
	c->comm[i] = p->comm;
	c->comm_len[i] = strnlen(p->comm, MEMPROBE_COMM_LEN);
}

#define KIND_(name, kind, ...) PROC_KIND_##kind,
enum proc_kind { PROC_KIND_U, PROC_KIND_S, PROC_KIND_COMM };
static const enum proc_kind proc_kind[PROC_NCOLS] = {PROC_TABLE(KIND_)};
#undef KIND_

static int proc_execute(MYSQL_STMT *s, struct proc_cols *c, unsigned int rows)
{
	MYSQL_BIND b[PROC_NCOLS];

	memset(b, 0, sizeof(b));
	for (int col = 0; col < PROC_NCOLS; col++) {
		if (proc_kind[col] == PROC_KIND_COMM) {
			b[col].buffer_type = MYSQL_TYPE_BLOB;
			b[col].buffer = (void *)c->comm;
			b[col].length = c->comm_len;
			continue;
		}
		b[col].buffer_type = MYSQL_TYPE_LONGLONG;
		b[col].buffer = c->num[col];
		b[col].is_unsigned = proc_kind[col] == PROC_KIND_U;
	}
	if (mysql_stmt_attr_set(s, STMT_ATTR_ARRAY_SIZE, &rows) || mysql_stmt_bind_param(s, b) ||
	    mysql_stmt_execute(s))
		return -EIO;
	return 0;
}

/* Upsert every process of the dirty list (one round trip per chunk), then
 * what changed in their ranges. */
int stmts_upsert_procs(struct mysql_stmts *st, struct acct_proc *dirty)
{
	struct proc_cols *c;
	struct acct_proc *p = dirty;
	int rc = 0;

	if (!p)
		return 0;
	c = malloc(sizeof(*c));
	if (!c)
		return -ENOMEM;
	while (rc == 0 && p) {
		unsigned int n = 0;

		for (; p && n < PROC_CHUNK_MAX; p = p->next_dirty, n++)
			proc_row(c, n, p);
		rc = proc_execute(st->proc, c, n);
	}
	free(c);
	return rc == 0 ? ranges_write(st, dirty) : rc;
}

int stmts_upsert_stats(struct mysql_stmts *st, const struct capture_stats *cs, const struct qent *e,
		       size_t n)
{
	MYSQL_BIND b[STATS_NCOLS];
	uint64_t v[STATS_NCOLS];
	uint64_t session = n ? e[0].session : cs->session;
	uint64_t seq = n ? e[n - 1].rec.seq : 0, rows = n ? st->calls_stored : 0;
	uint64_t seen = cs->current ? cs->seen : 0, drops = cs->current ? cs->drops : 0;
	const char *src = (n == 0 || cs->current) ? cs->source : "replay";
	unsigned long src_len = strlen(src);

	memset(b, 0, sizeof(b));
	/* like seen/drops: only for this session's row */
#define own(x)		    (cs->current ? (x) : 0)
#define STAT_U(col, x)	    (v[col] = (x), bind_num(&b[col], MYSQL_TYPE_LONGLONG, &v[col], true))
#define STAT_DOUBLE(col, x) bind_num(&b[col], MYSQL_TYPE_DOUBLE, &(x), false)
#define STAT_TEXT(col, x)                                                                          \
	(b[col].buffer_type = MYSQL_TYPE_STRING, b[col].buffer = (void *)(x),                      \
	 b[col].buffer_length = src_len, b[col].length = &src_len)
#define BIND_(name, kind, value, upd) STAT_##kind(SCOL_##name, value);
	STATS_TABLE(BIND_)
#undef BIND_
#undef STAT_TEXT
#undef STAT_DOUBLE
#undef STAT_U
#undef own
	if (mysql_stmt_bind_param(st->stats, b) || mysql_stmt_execute(st->stats))
		return -EIO;
	return 0;
}
