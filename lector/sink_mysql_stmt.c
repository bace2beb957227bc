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
    "n_mmap, n_munmap, n_mremap, n_brk, n_failed, mapped_ranges";
#define PROC_NCOLS 21

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
		 "(%u,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) "
		 "ON DUPLICATE KEY UPDATE uid=VALUES(uid), comm=VALUES(comm), "
		 "last_seen_ns=VALUES(last_seen_ns), exited=VALUES(exited), "
		 "net_bytes=VALUES(net_bytes), "
		 "net_bytes_raw=VALUES(net_bytes_raw), mapped_bytes=VALUES(mapped_bytes), "
		 "vm_size_bytes=VALUES(vm_size_bytes), requested_bytes=VALUES(requested_bytes), "
		 "heap_bytes=VALUES(heap_bytes), heap_base_bytes=VALUES(heap_base_bytes), "
		 "heap_known=VALUES(heap_known), n_mmap=VALUES(n_mmap), n_munmap=VALUES(n_munmap), "
		 "n_mremap=VALUES(n_mremap), n_brk=VALUES(n_brk), n_failed=VALUES(n_failed), "
		 "mapped_ranges=VALUES(mapped_ranges)",
		 PROC_COLS, host_id);
	st->proc = st->calls ? prepare(db, sql, err, errlen) : NULL;
	snprintf(
	    sql, sizeof(sql),
	    "INSERT INTO capture_stats (host_id, session, source, committed_seq, rows_committed, "
	    "seen, "
	    "drops, queued, spilled_total, lag_ms, rate_eps) VALUES (%u,?,?,?,?,?,?,?,?,?,?) "
	    "ON DUPLICATE KEY UPDATE committed_seq=GREATEST(committed_seq, VALUES(committed_seq)), "
	    "rows_committed=rows_committed+VALUES(rows_committed), "
	    "seen=GREATEST(seen, VALUES(seen)), drops=GREATEST(drops, VALUES(drops)), "
	    "queued=VALUES(queued), spilled_total=VALUES(spilled_total), lag_ms=VALUES(lag_ms), "
	    "rate_eps=VALUES(rate_eps), updated_at=NOW(6)",
	    host_id);
	st->stats = st->proc ? prepare(db, sql, err, errlen) : NULL;
	return st->stats ? 0 : -EIO;
}

void stmts_close(struct mysql_stmts *st)
{
	if (st->calls)
		mysql_stmt_close(st->calls);
	if (st->proc)
		mysql_stmt_close(st->proc);
	if (st->stats)
		mysql_stmt_close(st->stats);
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

int stmts_upsert_proc(struct mysql_stmts *st, const struct acct_proc *p)
{
	MYSQL_BIND b[PROC_NCOLS];
	unsigned long comm_len = strnlen(p->comm, MEMPROBE_COMM_LEN);
	unsigned long ranges_len = range_set_blob_len(&p->mapped);
	uint64_t net = acct_net_bytes_shown(p), mapped = acct_mapped_bytes(p);
	signed char exited = p->exited, heap_known = p->heap_known;
	unsigned char stack_blob[256], *blob = stack_blob;
	int rc = 0;

	if (ranges_len > sizeof(stack_blob) && !(blob = malloc(ranges_len)))
		return -ENOMEM;
	range_set_to_blob(&p->mapped, blob);
	memset(b, 0, sizeof(b));
	bind_num(&b[0], MYSQL_TYPE_LONG, &p->pid, true);
	bind_num(&b[1], MYSQL_TYPE_LONGLONG, &p->start_ns, true);
	bind_num(&b[2], MYSQL_TYPE_LONG, &p->uid, true);
	bind_bytes(&b[3], MYSQL_TYPE_BLOB, p->comm, &comm_len);
	bind_num(&b[4], MYSQL_TYPE_LONGLONG, &p->first_seen_ns, true);
	bind_num(&b[5], MYSQL_TYPE_LONGLONG, &p->last_seen_ns, true);
	bind_num(&b[6], MYSQL_TYPE_TINY, &exited, false);
	bind_num(&b[7], MYSQL_TYPE_LONGLONG, &net, true);
	bind_num(&b[8], MYSQL_TYPE_LONGLONG, &p->net_bytes, false);
	bind_num(&b[9], MYSQL_TYPE_LONGLONG, &mapped, true);
	bind_num(&b[10], MYSQL_TYPE_LONGLONG, &p->vm_size_bytes, true);
	bind_num(&b[11], MYSQL_TYPE_LONGLONG, &p->requested_bytes, true);
	bind_num(&b[12], MYSQL_TYPE_LONGLONG, &p->heap_bytes, true);
	bind_num(&b[13], MYSQL_TYPE_LONGLONG, &p->heap_base_bytes, true);
	bind_num(&b[14], MYSQL_TYPE_TINY, &heap_known, false);
	for (int i = 0; i < 5; i++)
		bind_num(&b[15 + i], MYSQL_TYPE_LONGLONG, &p->count[i], true);
	bind_bytes(&b[20], MYSQL_TYPE_BLOB, blob, &ranges_len);
	if (mysql_stmt_bind_param(st->proc, b) || mysql_stmt_execute(st->proc))
		rc = -EIO;
	if (blob != stack_blob)
		free(blob);
	return rc;
}

int stmts_upsert_stats(struct mysql_stmts *st, const struct capture_stats *cs, const struct qent *e,
		       size_t n)
{
	MYSQL_BIND b[10];
	uint64_t session = n ? e[0].session : cs->session;
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
	if (mysql_stmt_bind_param(st->stats, b) || mysql_stmt_execute(st->stats))
		return -EIO;
	return 0;
}
