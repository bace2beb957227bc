/*
 * sink_mysql.c - store records in MariaDB/MySQL through libmariadb.
 *
 * One commit = one transaction: the calls (bulk array binding, row-wise
 * straight from the queue entries, INSERT IGNORE on the unique key
 * (host_id, session, seq) so a re-delivered record is harmless) and an
 * oom_kills row for each oom_kill among them (sink_mysql_oom.c), the
 * checkpoints their calls made (sink_mysql_ckpt.c), the processes those
 * calls changed (upsert), and the session's capture
 * statistics including committed_seq, the resume point.  Any error rolls
 * back, drops the connection and returns -EIO; the caller keeps the batch
 * and retries, reconnecting here at most once per second.
 * SQL is always parameterized; names are bound as bytes.
 *
 * Many lectors (hosts) may write one database.  The server reads calls by
 * cid (AUTO_INCREMENT, migration 010; the primary key since 018, with
 * (host_id, session, seq) the unique key by_seq) and trusts that a cid,
 * once seen, has no smaller cid committed after it (SSE, /api/calls keyset
 * pages).
 * Two transactions inserting at once interleave their cids and commit in
 * either order, so every lector locks the one row of commit_order in the
 * writers' schema <db>_lock (migration 014) before its first INSERT, and
 * COMMIT releases it: cids are then handed out and made visible one
 * transaction at a time, across all writers.  Only accounts with a grant on
 * that schema can take the row; the read-only account has none (a named
 * lock, GET_LOCK, needed no privilege at all).  The writer session's
 * wait_timeout is short, so a lector that vanishes while holding the lock
 * (host down, network cut) frees it within that time.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <mysql.h>

#include "clock.h"
#include "db_core.h"
#include "host.h"
#include "migrate.h"
#include "sink.h"
#include "sink_mysql_stmt.h"

#define STR_(x)		      #x
#define STR(x)		      STR_(x)
#define RECONNECT_INTERVAL_MS 1000
#define COMMIT_LOCK_WAIT_S    20 /* another writer's transaction; below the read timeout */
#define ER_LOCK_WAIT_TIMEOUT  1205
#define WRITER_IDLE_TIMEOUT_S 60 /* lector commits at least once a second */
#define SESSION_TIMEOUTS_SQL                                                                       \
	"SET SESSION wait_timeout = " STR(                                                         \
	    WRITER_IDLE_TIMEOUT_S) ", innodb_lock_wait_timeout = " STR(COMMIT_LOCK_WAIT_S)

struct sink_mysql {
	struct sink base;
	struct lector_config cfg;
	MYSQL *db;
	unsigned int host_id;
	struct mysql_stmts st;
	char lock_sql[256]; /* locks the commit_order row */
	uint64_t last_attempt_ms;
	bool ever_connected;
};

static void disconnect(struct sink_mysql *m)
{
	stmts_close(&m->st);
	if (m->db)
		mysql_close(m->db);
	m->db = NULL;
}

static int fail(struct sink_mysql *m, const char *what)
{
	snprintf(m->base.err, sizeof(m->base.err), "%s: %s", what,
		 m->db ? mysql_error(m->db) : "not connected");
	if (m->db)
		mysql_rollback(m->db);
	disconnect(m);
	return -EIO;
}

static int check_bulk(struct sink_mysql *m)
{
	uint64_t caps = 0;

	mariadb_get_infov(m->db, MARIADB_CONNECTION_EXTENDED_SERVER_CAPABILITIES, &caps);
	if (!(caps & (MARIADB_CLIENT_STMT_BULK_OPERATIONS >> 32))) {
		snprintf(m->base.err, sizeof(m->base.err),
			 "the server does not support bulk statements (MariaDB >= 10.2 needed)");
		return -ENOTSUP;
	}
	return 0;
}

/* 1 when the query's single value is 1 (the lock row), 0 otherwise. */
static int query_is_one(MYSQL *db, const char *sql)
{
	MYSQL_RES *res;
	MYSQL_ROW row;
	int one = 0;

	if (mysql_query(db, sql) || !(res = mysql_store_result(db)))
		return 0;
	row = mysql_fetch_row(res);
	one = row && row[0] && !strcmp(row[0], "1");
	mysql_free_result(res);
	return one;
}

/* The statement that takes the commit lock: the database name is an
 * identifier, quoted here (backticks doubled), not a bound value. */
void sink_mysql_lock_sql(const char *db_name, char *sql, size_t sql_len)
{
	char name[2 * sizeof(((struct lector_config *)0)->db_name)];
	size_t j = 0;

	for (const char *p = db_name; *p && j + 2 < sizeof(name); p++) {
		if (*p == '`')
			name[j++] = '`';
		name[j++] = *p;
	}
	name[j] = 0;
	snprintf(sql, sql_len, "SELECT id FROM `%s_lock`.commit_order WHERE id = 1 FOR UPDATE", name);
}

/* Lock the commit_order row for this transaction (COMMIT releases it). */
static int commit_lock(struct sink_mysql *m)
{
	unsigned int code;

	if (query_is_one(m->db, m->lock_sql))
		return 0;
	code = mysql_errno(m->db);
	if (code == ER_LOCK_WAIT_TIMEOUT) {
		snprintf(
		    m->base.err, sizeof(m->base.err),
		    "the commit lock (%s_lock.commit_order) was held by another writer for over "
		    "%d s: is another lector stuck on this database?",
		    m->cfg.db_name, COMMIT_LOCK_WAIT_S);
		mysql_rollback(m->db);
		return -EAGAIN;
	}
	if (code)
		return fail(m, "taking the commit lock (the writer needs a grant on the lock "
			       "schema, see INSTALL.md)");
	snprintf(m->base.err, sizeof(m->base.err),
		 "the commit lock row is missing from %s_lock.commit_order: run lector --migrate",
		 m->cfg.db_name);
	mysql_rollback(m->db);
	return -EIO;
}

static int sink_connect(struct sink_mysql *m)
{
	const struct lector_config *c = &m->cfg;
	unsigned int timeout_s = 3, rw_timeout_s = 30;
	int rc;

	m->last_attempt_ms = mono_ms();
	m->db = db_connect_config(c, timeout_s, rw_timeout_s, m->base.err, sizeof(m->base.err));
	if (!m->db)
		return -ECONNREFUSED;
	rc = migrate_check(m->db, m->base.err, sizeof(m->base.err));
	if (rc == 0)
		rc = check_bulk(m);
	if (rc == 0)
		rc = db_host_register(m->db, c->host_id, &m->host_id, m->base.err,
				      sizeof(m->base.err));
	if (rc == 0)
		rc = stmts_prepare(&m->st, m->db, m->host_id, m->base.err, sizeof(m->base.err));
	if (rc == 0 && mysql_query(m->db, SESSION_TIMEOUTS_SQL))
		rc = fail(m, "setting the session's timeouts");
	if (rc == 0 && mysql_autocommit(m->db, 0))
		rc = fail(m, "autocommit off");
	if (rc < 0) {
		disconnect(m);
		return rc;
	}
	m->ever_connected = true;
	return 0;
}

static int ensure_connected(struct sink_mysql *m)
{
	if (m->db)
		return 0;
	if (mono_ms() - m->last_attempt_ms < RECONNECT_INTERVAL_MS)
		return -EAGAIN;
	return sink_connect(m);
}

static int mysql_commit_batch(struct sink *s, const struct qent *e, size_t n,
			      const struct batch_extra *x, struct acct_proc *dirty,
			      const struct capture_stats *cs)
{
	struct sink_mysql *m = (struct sink_mysql *)s;
	int rc = ensure_connected(m);

	if (rc < 0)
		return rc;
	rc = commit_lock(m);
	if (rc < 0)
		return rc;
	if (n && stmts_insert_calls(&m->st, e, x->ext, n) < 0)
		return fail(m, "inserting calls");
	if (x && x->n_ckpt && ckpt_insert(&m->st, x->ckpt, x->n_ckpt) < 0)
		return fail(m, "inserting checkpoints");
	if (n && oom_insert(&m->st, e, n) < 0)
		return fail(m, "inserting oom_kills");
	if (stmts_upsert_procs(&m->st, dirty) < 0)
		return fail(m, "updating processes");
	if (stmts_upsert_stats(&m->st, cs, e, n) < 0)
		return fail(m, "updating capture_stats");
	if (mysql_commit(m->db))
		return fail(m, "commit");
	return 0;
}

static int mysql_committed_seq(struct sink *s, uint64_t session, uint64_t *seq)
{
	struct sink_mysql *m = (struct sink_mysql *)s;
	int rc = ensure_connected(m);

	if (rc < 0)
		return rc;
	rc = stmts_committed_seq(m->db, m->host_id, session, seq);
	if (rc < 0)
		return fail(m, "reading capture_stats");
	return rc;
}

static int mysql_session_rows(struct sink *s, uint64_t session, uint64_t *rows)
{
	struct sink_mysql *m = (struct sink_mysql *)s;
	int rc = ensure_connected(m);

	if (rc < 0)
		return rc;
	if (stmts_session_rows(m->db, m->host_id, session, rows) < 0)
		return fail(m, "reading capture_stats");
	return 0;
}

static int mysql_put_names(struct sink *s, const struct names_batch *nb)
{
	struct sink_mysql *m = (struct sink_mysql *)s;
	int rc = ensure_connected(m);

	if (rc < 0)
		return rc;
	if (names_write(&m->st, nb) < 0)
		return fail(m, "storing cgroup and file names");
	if (mysql_commit(m->db))
		return fail(m, "commit");
	return 0;
}

static int mysql_restore(struct sink *s, struct acct *a)
{
	struct sink_mysql *m = (struct sink_mysql *)s;
	int rc = ensure_connected(m);

	if (rc < 0)
		return rc;
	rc = stmts_restore_procs(m->db, m->host_id, a);
	if (rc < 0)
		return fail(m, "reading processes");
	mysql_commit(m->db); /* end the read snapshot */
	return rc;
}

static void mysql_sink_close(struct sink *s)
{
	struct sink_mysql *m = (struct sink_mysql *)s;

	disconnect(m);
	free(m);
}

static const struct sink_ops mysql_ops = {
    .commit = mysql_commit_batch,
    .committed_seq = mysql_committed_seq,
    .session_rows = mysql_session_rows,
    .put_names = mysql_put_names,
    .restore = mysql_restore,
    .close = mysql_sink_close,
};

int sink_mysql_open(struct sink **out, const struct lector_config *cfg, char *err, size_t errlen)
{
	struct sink_mysql *m = calloc(1, sizeof(*m));
	int rc;

	if (!m)
		return -ENOMEM;
	m->base.ops = &mysql_ops;
	m->cfg = *cfg;
	sink_mysql_lock_sql(cfg->db_name, m->lock_sql, sizeof(m->lock_sql));
	rc = sink_connect(m);
	if (rc < 0) {
		snprintf(err, errlen, "%s", m->base.err);
		free(m);
		return rc;
	}
	*out = &m->base;
	return 0;
}

/* The database is down at start: a sink that connects on first use (the
 * writer's restore), exactly as sink_connect() does after an outage. */
int sink_mysql_open_lazy(struct sink **out, const struct lector_config *cfg)
{
	struct sink_mysql *m = calloc(1, sizeof(*m));

	if (!m)
		return -ENOMEM;
	m->base.ops = &mysql_ops;
	m->cfg = *cfg;
	sink_mysql_lock_sql(cfg->db_name, m->lock_sql, sizeof(m->lock_sql));
	*out = &m->base;
	return 0;
}
