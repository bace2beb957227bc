/*
 * sink_mysql_oom.c - the oom_kills table: one row per oom_kill record, in
 * the transaction that inserts its calls row (migration 017), so that the
 * OOM history is read from a small table, not from calls.  INSERT IGNORE
 * on (host_id, session, seq), like calls: a re-delivered record is
 * harmless.  OOM kills are rare: rows are inserted one by one, and a batch
 * without one costs a scan of its entries' call field.
 */
#include <errno.h>
#include <stdio.h>

#include "db_columns.h"
#include "db_core.h"
#include "sink_mysql_stmt.h"

/* oom_kills: the victim as the record carries it (e: the entry, r: its
 * record).  comm is bound with its length beside it in the entry. */
#define OOM_TABLE(X)                                                                               \
	X(session, U64, e->session, KEEP)                                                          \
	X(seq, U64, r->seq, KEEP)                                                                  \
	X(ts_ns, U64, r->ts_ns, KEEP)                                                              \
	X(pid, U64, r->pid, KEEP)                                                                  \
	X(start_ns, U64, r->start_ns, KEEP)                                                        \
	X(uid, U64, r->uid, KEEP)                                                                  \
	X(comm, BYTES, r->comm, KEEP)                                                              \
	X(cgroup_id, U64, r->cgroup_id, KEEP)                                                      \
	X(rss_anon_bytes, U64, r->rss_anon_bytes, KEEP)                                            \
	X(rss_file_bytes, U64, r->rss_file_bytes, KEEP)                                            \
	X(rss_shmem_bytes, U64, r->rss_shmem_bytes, KEEP)                                          \
	X(swap_bytes, U64, r->swap_bytes, KEEP)                                                    \
	X(total_vm_bytes, U64, r->total_vm_bytes, KEEP)

int oom_prepare(struct mysql_stmts *st, MYSQL *db, unsigned int host_id, char *err, size_t errlen)
{
	char sql[1024];

	/* host_id: a number we looked up ourselves, part of the text */
	snprintf(sql, sizeof(sql), "INSERT IGNORE INTO oom_kills (host_id%s) VALUES (%u%s)",
		 DB_COLUMNS(OOM_TABLE), host_id, DB_MARKS(OOM_TABLE));
	st->oom = db_prepare(db, sql, err, errlen);
	return st->oom ? 0 : -EIO;
}

void oom_close(struct mysql_stmts *st)
{
	if (st->oom)
		mysql_stmt_close(st->oom);
	st->oom = NULL;
}

static int oom_insert_one(struct mysql_stmts *st, const struct qent *e)
{
	const struct memprobe_record *r = &e->rec;
	char err[256];
#define OOM_U64(v)   DB_U64(v)
#define OOM_BYTES(v) ((struct db_param){.type = DBP_STR, .str = (v), .len_bytes = e->comm_len})
#define PARAM_(name, kind, value, upd) OOM_##kind(value),
	const struct db_param ps[] = {OOM_TABLE(PARAM_)};
#undef PARAM_
#undef OOM_BYTES
#undef OOM_U64

	return db_stmt_exec(st->oom, ps, DB_NCOLS(OOM_TABLE), NULL, err, sizeof(err));
}

int oom_insert(struct mysql_stmts *st, const struct qent *e, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (e[i].rec.call == MP_CALL_OOM_KILL && oom_insert_one(st, &e[i]) < 0)
			return -EIO;
	return 0;
}
