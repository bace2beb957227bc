/*
 * sink_mysql_stmt.c - SQL text and parameter bindings of the MySQL sink.
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

#include "sink_mysql_stmt.h"

static MYSQL_STMT *prepare(MYSQL *db, const char *sql, char *err, size_t errlen)
{
	MYSQL_STMT *s = mysql_stmt_init(db);

	if (s && mysql_stmt_prepare(s, sql, strlen(sql)) == 0)
		return s;
	snprintf(err, errlen, "preparing statement: %s", s ? mysql_stmt_error(s) : mysql_error(db));
	if (s)
		mysql_stmt_close(s);
	return NULL;
}

static const char *PROC_COLS =
    "pid, start_ns, uid, comm, first_seen_ns, last_seen_ns, exited, net_bytes, net_bytes_raw, "
    "mapped_bytes, vm_size_bytes, requested_bytes, heap_bytes, heap_base_bytes, heap_known, "
    "n_mmap, n_munmap, n_mremap, n_brk, n_failed";
#define PROC_NCOLS 20

int stmts_prepare(struct mysql_stmts *st, MYSQL *db, unsigned int host_id, char *err, size_t errlen)
{
	char sql[2048];

	snprintf(sql, sizeof(sql),
		 "INSERT IGNORE INTO calls (host_id, session, seq, ts_ns, pid, tid, uid, start_ns, "
		 "comm, "
		 "thread_comm, syscall, addr, len_bytes, new_addr, new_len_bytes, offset_bytes, "
		 "prot, flags, "
		 "fd, result, total_vm_bytes) VALUES (%u,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
		 host_id);
	st->calls = prepare(db, sql, err, errlen);
	snprintf(sql, sizeof(sql),
		 "INSERT INTO processes (host_id, %s) VALUES "
		 "(%u,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) "
		 "ON DUPLICATE KEY UPDATE uid=VALUES(uid), comm=VALUES(comm), "
		 "last_seen_ns=VALUES(last_seen_ns), exited=VALUES(exited), "
		 "net_bytes=VALUES(net_bytes), "
		 "net_bytes_raw=VALUES(net_bytes_raw), mapped_bytes=VALUES(mapped_bytes), "
		 "vm_size_bytes=VALUES(vm_size_bytes), requested_bytes=VALUES(requested_bytes), "
		 "heap_bytes=VALUES(heap_bytes), heap_base_bytes=VALUES(heap_base_bytes), "
		 "heap_known=VALUES(heap_known), n_mmap=VALUES(n_mmap), n_munmap=VALUES(n_munmap), "
		 "n_mremap=VALUES(n_mremap), n_brk=VALUES(n_brk), n_failed=VALUES(n_failed)",
		 PROC_COLS, host_id);
	st->proc = st->calls ? prepare(db, sql, err, errlen) : NULL;
	snprintf(
	    sql, sizeof(sql),
	    "INSERT INTO capture_stats (host_id, session, source, committed_seq, rows_committed, "
	    "seen, "
	    "drops, queued, spilled_total, lag_ms, rate_eps, lost, lost_before, gap_before_ms, "
	    "prev_session, skipped) VALUES (%u,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) "
	    "ON DUPLICATE KEY UPDATE committed_seq=GREATEST(committed_seq, VALUES(committed_seq)), "
	    "rows_committed=rows_committed+VALUES(rows_committed), "
	    "seen=GREATEST(seen, VALUES(seen)), drops=GREATEST(drops, VALUES(drops)), "
	    "queued=VALUES(queued), spilled_total=VALUES(spilled_total), lag_ms=VALUES(lag_ms), "
	    "rate_eps=VALUES(rate_eps), lost=GREATEST(lost, VALUES(lost)), "
	    "lost_before=GREATEST(lost_before, VALUES(lost_before)), "
	    "gap_before_ms=GREATEST(gap_before_ms, VALUES(gap_before_ms)), "
	    "prev_session=GREATEST(prev_session, VALUES(prev_session)), "
	    "skipped=GREATEST(skipped, VALUES(skipped)), updated_at=NOW(6)",
	    host_id);
	st->stats = st->proc ? prepare(db, sql, err, errlen) : NULL;
	if (!st->stats)
		return -EIO;
	return ranges_prepare(st, db, host_id, err, errlen);
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
	memset(st, 0, sizeof(*st));
}

static void bind_num(MYSQL_BIND *b, enum enum_field_types t, const void *p, bool is_unsigned)
{
	b->buffer_type = t;
	b->buffer = (void *)p;
	b->is_unsigned = is_unsigned;
}

static void bind_bytes(MYSQL_BIND *b, enum enum_field_types t, const void *p, unsigned long *len)
{
	b->buffer_type = t;
	b->buffer = (void *)p;
	b->buffer_length = len ? *len : 0;
	b->length = len;
}

int stmts_insert_calls(struct mysql_stmts *st, const struct qent *e, size_t n)
{
	const struct memprobe_record *r = &e[0].rec;
	MYSQL_BIND b[20];
	unsigned int rows = (unsigned int)n;
	size_t row_bytes = sizeof(struct qent);

	memset(b, 0, sizeof(b));
	bind_num(&b[0], MYSQL_TYPE_LONGLONG, &e[0].session, true);
	bind_num(&b[1], MYSQL_TYPE_LONGLONG, &r->seq, true);
	bind_num(&b[2], MYSQL_TYPE_LONGLONG, &r->ts_ns, true);
	bind_num(&b[3], MYSQL_TYPE_LONG, &r->pid, true);
	bind_num(&b[4], MYSQL_TYPE_LONG, &r->tid, true);
	bind_num(&b[5], MYSQL_TYPE_LONG, &r->uid, true);
	bind_num(&b[6], MYSQL_TYPE_LONGLONG, &r->start_ns, true);
	bind_bytes(&b[7], MYSQL_TYPE_BLOB, r->comm, (unsigned long *)&e[0].comm_len);
	bind_bytes(&b[8], MYSQL_TYPE_BLOB, r->thread_comm, (unsigned long *)&e[0].thread_comm_len);
	bind_num(&b[9], MYSQL_TYPE_SHORT, &r->call, true); /* ENUM index = MP_CALL_* */
	bind_num(&b[10], MYSQL_TYPE_LONGLONG, &r->addr, true);
	bind_num(&b[11], MYSQL_TYPE_LONGLONG, &r->len, true);
	bind_num(&b[12], MYSQL_TYPE_LONGLONG, &r->new_addr, true);
	bind_num(&b[13], MYSQL_TYPE_LONGLONG, &r->new_len, true);
	bind_num(&b[14], MYSQL_TYPE_LONGLONG, &r->offset, true);
	bind_num(&b[15], MYSQL_TYPE_LONG, &r->prot, true);
	bind_num(&b[16], MYSQL_TYPE_LONG, &r->mflags, true);
	bind_num(&b[17], MYSQL_TYPE_LONG, &r->fd, false);
	bind_num(&b[18], MYSQL_TYPE_LONGLONG, &r->ret, false);
	bind_num(&b[19], MYSQL_TYPE_LONGLONG, &r->total_vm_bytes, true);
	for (int i = 7; i <= 8; i++)
		b[i].buffer_length = MEMPROBE_COMM_LEN;
	if (mysql_stmt_attr_set(st->calls, STMT_ATTR_ARRAY_SIZE, &rows) ||
	    mysql_stmt_attr_set(st->calls, STMT_ATTR_ROW_SIZE, &row_bytes) ||
	    mysql_stmt_bind_param(st->calls, b) || mysql_stmt_execute(st->calls))
		return -EIO;
	return 0;
}

/* Processes go in bulk, column-wise: numbers as one u64 array per column
 * (the server converts to each column's type), comm as pointer + length
 * arrays.  Their ranges are written apart, only what changed
 * (sink_mysql_ranges.c). */
#define PROC_CHUNK_MAX 256
#define PROC_NNUM      (PROC_NCOLS - 1) /* all but comm */

struct proc_cols {
	uint64_t num[PROC_NNUM][PROC_CHUNK_MAX];
	const char *comm[PROC_CHUNK_MAX];
	unsigned long comm_len[PROC_CHUNK_MAX];
};

static void proc_row(struct proc_cols *c, size_t i, const struct acct_proc *p)
{
	const uint64_t v[PROC_NNUM] = {p->pid,
				       p->start_ns,
				       p->uid,
				       p->first_seen_ns,
				       p->last_seen_ns,
				       p->exited,
				       acct_net_bytes_shown(p),
				       (uint64_t)p->net_bytes,
				       acct_mapped_bytes(p),
				       p->vm_size_bytes,
				       p->requested_bytes,
				       p->heap_bytes,
				       p->heap_base_bytes,
				       p->heap_known,
				       p->count[0],
				       p->count[1],
				       p->count[2],
				       p->count[3],
				       p->count[4]};

	for (int j = 0; j < PROC_NNUM; j++)
		c->num[j][i] = v[j];
	c->comm[i] = p->comm;
	c->comm_len[i] = strnlen(p->comm, MEMPROBE_COMM_LEN);
}

static int proc_execute(MYSQL_STMT *s, struct proc_cols *c, unsigned int rows)
{
	MYSQL_BIND b[PROC_NCOLS];
	int j = 0;

	memset(b, 0, sizeof(b));
	for (int col = 0; col < PROC_NCOLS; col++) {
		if (col == 3) {
			b[col].buffer_type = MYSQL_TYPE_BLOB;
			b[col].buffer = (void *)c->comm;
			b[col].length = c->comm_len;
			continue;
		}
		b[col].buffer_type = MYSQL_TYPE_LONGLONG;
		b[col].buffer = c->num[j];
		b[col].is_unsigned = col != 8; /* net_bytes_raw is signed */
		j++;
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
	MYSQL_BIND b[15];
	uint64_t session = n ? e[0].session : cs->session;
	uint64_t zero = 0;
	const uint64_t *own[5] = {&cs->lost, &cs->lost_before, &cs->gap_before_ms,
				  &cs->prev_session, &cs->skipped};
	uint64_t seq = n ? e[n - 1].rec.seq : 0, rows = n;
	uint64_t seen = cs->current ? cs->seen : 0, drops = cs->current ? cs->drops : 0;
	const char *src = (n == 0 || cs->current) ? cs->source : "replay";
	unsigned long src_len = strlen(src);

	memset(b, 0, sizeof(b));
	bind_num(&b[0], MYSQL_TYPE_LONGLONG, &session, true);
	bind_bytes(&b[1], MYSQL_TYPE_STRING, src, &src_len);
	bind_num(&b[2], MYSQL_TYPE_LONGLONG, &seq, true);
	bind_num(&b[3], MYSQL_TYPE_LONGLONG, &rows, true);
	bind_num(&b[4], MYSQL_TYPE_LONGLONG, &seen, true);
	bind_num(&b[5], MYSQL_TYPE_LONGLONG, &drops, true);
	bind_num(&b[6], MYSQL_TYPE_LONGLONG, &cs->queued, true);
	bind_num(&b[7], MYSQL_TYPE_LONGLONG, &cs->spilled_total, true);
	bind_num(&b[8], MYSQL_TYPE_LONGLONG, &cs->lag_ms, true);
	bind_num(&b[9], MYSQL_TYPE_DOUBLE, &cs->rate_eps, false);
	for (int i = 0; i < 5; i++) /* like seen/drops: only for this session's row */
		bind_num(&b[10 + i], MYSQL_TYPE_LONGLONG, cs->current ? own[i] : &zero, true);
	if (mysql_stmt_bind_param(st->stats, b) || mysql_stmt_execute(st->stats))
		return -EIO;
	return 0;
}
