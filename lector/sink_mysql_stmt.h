/*
 * sink_mysql_stmt.h - the prepared statements of the MySQL sink and the
 * bindings between queue entries / processes and their columns.
 */
#ifndef MEMPROBE_SINK_MYSQL_STMT_H
#define MEMPROBE_SINK_MYSQL_STMT_H

#include <mysql.h>

#include "acct.h"
#include "queue.h"
#include "sink.h"

struct range_batch;

struct mysql_stmts {
	MYSQL_STMT *calls;
	MYSQL_STMT *proc;
	MYSQL_STMT *stats;
	MYSQL_STMT *ranges_clear, *ranges_del, *ranges_put;
	struct range_batch *ranges; /* rows of the three, reused */
};

int stmts_prepare(struct mysql_stmts *st, MYSQL *db, unsigned int host_id, char *err,
		  size_t errlen);
void stmts_close(struct mysql_stmts *st);
int stmts_host_id(MYSQL *db, const char *name, unsigned int *host_id, char *err, size_t errlen);
int stmts_insert_calls(struct mysql_stmts *st, const struct qent *e, size_t n);
int stmts_upsert_procs(struct mysql_stmts *st, struct acct_proc *dirty);
int stmts_upsert_stats(struct mysql_stmts *st, const struct capture_stats *cs, const struct qent *e,
		       size_t n);
int stmts_committed_seq(MYSQL *db, unsigned int host_id, uint64_t session, uint64_t *seq);
int stmts_session_rows(MYSQL *db, unsigned int host_id, uint64_t session, uint64_t *rows);
int stmts_restore_procs(MYSQL *db, unsigned int host_id, struct acct *a);
/* sink_mysql_ranges.c: the processes' ranges, one row per range. */
int ranges_prepare(struct mysql_stmts *st, MYSQL *db, unsigned int host_id, char *err,
		   size_t errlen);
void ranges_close(struct mysql_stmts *st);
/* Write what changed in the dirty processes' ranges (in the commit). */
int ranges_write(struct mysql_stmts *st, struct acct_proc *dirty);
/* Load ranges into procs[0..n), sorted by (pid, start_ns). */
int ranges_restore(MYSQL *db, unsigned int host_id, struct acct_proc *procs, size_t n);
int sink_mysql_migrate(const struct lector_config *c, char *err, size_t errlen);
MYSQL *sink_mysql_connect(const struct lector_config *c, unsigned int connect_timeout_s,
			  unsigned int rw_timeout_s, char *err, size_t errlen);
/* The statement that locks the writers' commit_order row (migration 014). */
void sink_mysql_lock_sql(const char *db_name, char *sql, size_t sql_len);
/* A MariaDB sink that connects on first use (the database is down at start). */
int sink_mysql_open_lazy(struct sink **out, const struct lector_config *cfg);

#endif
