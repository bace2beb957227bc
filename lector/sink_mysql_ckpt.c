/*
 * sink_mysql_ckpt.c - the checkpoints table (migration 019) and the
 * snapshots table (022): the rows lector/checkpoint.c made for a batch,
 * inserted in the transaction of its calls, in bulk, row-wise straight from
 * the struct ckpt array.  INSERT IGNORE on the primary keys (host_id, pid,
 * start_ns, ts_ns, session, seq; host_id, ts_ns, session, seq, pid,
 * start_ns): a row stored already (a batch re-committed after a lost
 * reply) is harmless.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "db_columns.h"
#include "db_core.h"
#include "sink_mysql_stmt.h"

/* checkpoints: one row per struct ckpt (c: the first); kind U (u64), S
 * (s64) or COMM (bytes, the length beside them). */
#define CKPT_TABLE(X)                                                                              \
	X(pid, U, c->pid, KEEP)                                                                    \
	X(start_ns, U, c->start_ns, KEEP)                                                          \
	X(ts_ns, U, c->ts_ns, KEEP)                                                                \
	X(session, U, c->session, KEEP)                                                            \
	X(seq, U, c->seq, KEEP)                                                                    \
	X(uid, U, c->uid, KEEP)                                                                    \
	X(comm, COMM, c->comm, KEEP)                                                               \
	X(exited, U, c->exited, KEEP)                                                              \
	X(net_bytes_raw, S, c->net_bytes_raw, KEEP)                                                \
	X(mapped_bytes, U, c->mapped_bytes, KEEP)                                                  \
	X(vm_size_bytes, U, c->vm_size_bytes, KEEP)                                                \
	X(requested_bytes, U, c->requested_bytes, KEEP)                                            \
	X(heap_bytes, U, c->heap_bytes, KEEP)                                                      \
	X(heap_base_bytes, U, c->heap_base_bytes, KEEP)                                            \
	X(heap_known, U, c->heap_known, KEEP)                                                      \
	X(n_mmap, U, c->n_mmap, KEEP)                                                              \
	X(n_munmap, U, c->n_munmap, KEEP)                                                          \
	X(n_mremap, U, c->n_mremap, KEEP)                                                          \
	X(n_brk, U, c->n_brk, KEEP)                                                                \
	X(n_failed, U, c->n_failed, KEEP)                                                          \
	X(rss_anon_bytes, U, c->rss_anon_bytes, KEEP)                                              \
	X(rss_file_bytes, U, c->rss_file_bytes, KEEP)                                              \
	X(rss_shmem_bytes, U, c->rss_shmem_bytes, KEEP)                                            \
	X(swap_bytes, U, c->swap_bytes, KEEP)                                                      \
	X(rss_ts_ns, U, c->rss_ts_ns, KEEP)                                                        \
	X(cgroup_id, U, c->cgroup_id, KEEP)

/* snapshots: the same, and the process's last call (a checkpoint's is its
 * ts_ns; a snapshot's ts_ns is the snapshot's) */
#define SNAP_TABLE(X) CKPT_TABLE(X) X(last_seen_ns, U, c->last_seen_ns, KEEP)

int ckpt_prepare(struct mysql_stmts *st, MYSQL *db, unsigned int host_id, char *err, size_t errlen)
{
	char sql[1024];

	/* host_id: a number we looked up ourselves, part of the text */
	snprintf(sql, sizeof(sql), "INSERT IGNORE INTO checkpoints (host_id%s) VALUES (%u%s)",
		 DB_COLUMNS(CKPT_TABLE), host_id, DB_MARKS(CKPT_TABLE));
	st->ckpt = db_prepare(db, sql, err, errlen);
	if (!st->ckpt)
		return -EIO;
	snprintf(sql, sizeof(sql), "INSERT IGNORE INTO snapshots (host_id%s) VALUES (%u%s)",
		 DB_COLUMNS(SNAP_TABLE), host_id, DB_MARKS(SNAP_TABLE));
	st->snap = db_prepare(db, sql, err, errlen);
	return st->snap ? 0 : -EIO;
}

void ckpt_close(struct mysql_stmts *st)
{
	if (st->ckpt)
		mysql_stmt_close(st->ckpt);
	if (st->snap)
		mysql_stmt_close(st->snap);
	st->ckpt = st->snap = NULL;
}

/* The rows c[0..n) into stmt, bound row-wise by TABLE's columns. */
#define ROWS_INSERT(TABLE, stmt, c, n)                                                             \
	do {                                                                                       \
		MYSQL_BIND b[DB_NCOLS(TABLE)], *p = b;                                             \
		unsigned int rows = (unsigned int)(n);                                             \
		size_t row_bytes = sizeof(struct ckpt);                                            \
                                                                                                   \
		memset(b, 0, sizeof(b));                                                           \
		TABLE(BIND_)                                                                       \
		if (mysql_stmt_attr_set(stmt, STMT_ATTR_ARRAY_SIZE, &rows) ||                      \
		    mysql_stmt_attr_set(stmt, STMT_ATTR_ROW_SIZE, &row_bytes) ||                   \
		    mysql_stmt_bind_param(stmt, b) || mysql_stmt_execute(stmt))                    \
			return -EIO;                                                               \
		return 0;                                                                          \
	} while (0)

#define CK_U(v)                                                                                    \
	(p->buffer_type = MYSQL_TYPE_LONGLONG, p->buffer = (void *)&(v), p->is_unsigned = true, p++)
#define CK_S(v) (p->buffer_type = MYSQL_TYPE_LONGLONG, p->buffer = (void *)&(v), p++)
#define CK_COMM(v)                                                                                 \
	(p->buffer_type = MYSQL_TYPE_BLOB, p->buffer = (void *)(v),                                \
	 p->buffer_length = MEMPROBE_COMM_LEN, p->length = (unsigned long *)&c->comm_len, p++)
#define BIND_(name, kind, value, upd) CK_##kind(value);

int ckpt_insert(struct mysql_stmts *st, const struct ckpt *c, size_t n)
{
	ROWS_INSERT(CKPT_TABLE, st->ckpt, c, n);
}

int snap_insert(struct mysql_stmts *st, const struct ckpt *c, size_t n)
{
	ROWS_INSERT(SNAP_TABLE, st->snap, c, n);
}
