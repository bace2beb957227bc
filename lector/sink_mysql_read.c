/*
 * sink_mysql_read.c - what the MySQL sink reads back: a session's resume
 * point, and the live processes of a previous run (resume after restart or
 * kill -9), their ranges read by sink_mysql_ranges.c.  The host's row is
 * db/host.c's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_core.h"
#include "sink_mysql_stmt.h"

int stmts_committed_seq(MYSQL *db, unsigned int host_id, uint64_t session, uint64_t *seq)
{
	const struct db_param key[2] = {DB_U64(host_id), DB_U64(session)};
	char err[256];
	int found = db_query_u64(db,
				 "SELECT committed_seq FROM capture_stats WHERE host_id=? AND "
				 "session=? AND rows_committed > 0",
				 key, 2, seq, 1, err, sizeof(err));

	if (found < 0)
		return -EIO;
	mysql_commit(db);
	return found ? 1 : 0;
}

int stmts_session_rows(MYSQL *db, unsigned int host_id, uint64_t session, uint64_t *rows)
{
	const struct db_param key[2] = {DB_U64(host_id), DB_U64(session)};
	char err[256];
	int found = db_query_u64(db,
				 "SELECT rows_committed FROM capture_stats WHERE host_id=? AND "
				 "session=?",
				 key, 2, rows, 1, err, sizeof(err));

	if (found < 0)
		return -EIO;
	if (!found)
		*rows = 0;
	mysql_commit(db);
	return 0;
}

/* What a restart reads back of a live process: PROC_TABLE's R columns. */
#define RNAME_R(name)  ", " #name
#define RNAME_W(name)
#define RNAME_(name, kind, value, upd, rw) RNAME_##rw(name)
#define RESTORE_COLUMNS (&(PROC_TABLE(RNAME_))[2]) /* without the first ", " */
#define RCOL_R(name)   RCOL_##name,
#define RCOL_W(name)
#define RCOL_(name, kind, value, upd, rw) RCOL_##rw(name)
enum { PROC_TABLE(RCOL_) RESTORE_NCOLS };

static void restore_row(struct acct_proc *p, char **col, const unsigned long *len)
{
	memset(p, 0, sizeof(*p));
#define READ_R_U(name, field)	 field = strtoull(col[RCOL_##name], NULL, 10)
#define READ_R_S(name, field)	 field = strtoll(col[RCOL_##name], NULL, 10)
#define READ_R_COMM(name, field)                                                                   \
	memcpy(field, col[RCOL_##name],                                                            \
	       len[RCOL_##name] < MEMPROBE_COMM_LEN ? len[RCOL_##name] : MEMPROBE_COMM_LEN)
#define READ_W_U(name, field)
#define READ_W_S(name, field)
#define READ_W_COMM(name, field)
#define READ_(name, kind, field, upd, rw) READ_##rw##_##kind(name, field);
	PROC_TABLE(READ_)
#undef READ_
	range_set_init(&p->mapped);
}

struct proc_array {
	struct acct_proc *p;
	size_t n, cap;
};

static int add_proc(void *arg, char **col, unsigned long *len, unsigned int ncols)
{
	struct proc_array *a = arg;

	if (ncols != RESTORE_NCOLS)
		return -EIO;
	if (a->n == a->cap) {
		size_t cap = a->cap ? 2 * a->cap : 256;
		struct acct_proc *more = realloc(a->p, cap * sizeof(*more));

		if (!more)
			return -ENOMEM;
		a->p = more;
		a->cap = cap;
	}
	restore_row(&a->p[a->n++], col, len);
	return 0;
}

/* This host's live processes, in key order (pid, start_ns); *n of them. */
static int read_procs(MYSQL *db, unsigned int host_id, struct acct_proc **procs, size_t *n)
{
	static const char sql[] = "SELECT %s FROM processes WHERE host_id=? AND exited=0 "
				  "ORDER BY pid, start_ns";
	const struct db_param key[1] = {DB_U64(host_id)};
	struct proc_array a = {NULL, 0, 0};
	char text[512], err[256];
	int rc;

	snprintf(text, sizeof(text), sql, RESTORE_COLUMNS);
	rc = db_query_rows(db, text, key, 1, add_proc, &a, err, sizeof(err));
	*procs = a.p;
	*n = a.n;
	return rc;
}

/* Returns how many processes were restored, with their ranges. */
int stmts_restore_procs(MYSQL *db, unsigned int host_id, struct acct *a)
{
	struct acct_proc *procs;
	size_t n;
	int rc = read_procs(db, host_id, &procs, &n), restored = 0;

	if (rc == 0)
		rc = ranges_restore(db, host_id, procs, n);
	for (size_t i = 0; i < n; i++) {
		if (rc == 0 && acct_restore(a, &procs[i]) == 0) {
			restored++;
			continue; /* acct owns the ranges now */
		}
		range_set_free(&procs[i].mapped);
	}
	free(procs);
	return rc < 0 ? rc : restored;
}
