/*
 * sink_mysql.c - store records in MariaDB/MySQL through libmariadb.
 *
 * One commit = one transaction: the calls (bulk array binding, row-wise
 * straight from the queue entries; a record already stored under the
 * unique key (host_id, session, seq), re-delivered, is left as it is) and an
 * oom_kills row for each oom_kill among them (sink_mysql_oom.c), the
 * checkpoints their calls made (sink_mysql_ckpt.c), the processes those
 * calls changed (upsert), and the session's capture
 * statistics including committed_seq, the resume point.  A deadlock with
 * another writer is rolled back and retried at once on the same
 * connection; any other error rolls back, drops the connection and returns
 * -EIO; the caller keeps the batch and retries, reconnecting here at most
 * once per second.
 * SQL is always parameterized; names are bound as bytes.
 *
 * Many lectors (hosts) may write one database, and commit at the same
 * time.  The server reads calls by cid (the primary key since migration
 * 018, with (host_id, session, seq) the unique key by_seq) and trusts that
 * a cid at or below its watermark never commits later (SSE, /api/calls
 * keyset pages).  Each data transaction therefore inserts explicit cids
 * from a block reserved just before it, and clears its lease on that block
 * in the same commit (sink_mysql_lease.c, migration 020).  Until 020 every
 * lector locked one shared row (commit_order, migration 014) for its whole
 * transaction, so the fleet committed one transaction at a time; the
 * environment variable MEMPROBE_LECTOR_ORDER=lock brings that order back,
 * for bench/lector/writers alone.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>
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
#define COMMIT_LOCK_WAIT_S                                                                         \
	20 /* a row lock (another writer's, a reader's); below the read timeout */
#define ER_LOCK_WAIT_TIMEOUT  1205
#define ER_LOCK_DEADLOCK      1213
#define ER_SUBQUERY_NO_1_ROW  1242 /* the calls insert met a cid taken (sink_mysql_stmt.c) */
#define DEADLOCK_RETRIES      20   /* at once, on the same connection and cids */
#define SNAP_INSERT_ROWS      4096 /* snapshot rows per INSERT */
#define WRITER_IDLE_TIMEOUT_S 60   /* lector commits at least once a second */
#define SESSION_TIMEOUTS_SQL                                                                       \
	"SET SESSION wait_timeout = " STR(                                                         \
	    WRITER_IDLE_TIMEOUT_S) ", innodb_lock_wait_timeout = " STR(COMMIT_LOCK_WAIT_S)

struct sink_mysql {
	struct sink base;
	struct lector_config cfg;
	MYSQL *db;
	unsigned int host_id;
	struct mysql_stmts st;
	char lock_sql[256]; /* locks the commit_order row (MEMPROBE_LECTOR_ORDER=lock) */
	struct cid_lease lease;
	uint64_t last_attempt_ms;
	bool ever_connected;
	bool commit_lock;    /* MEMPROBE_LECTOR_ORDER=lock: the order before 020 */
	uint64_t lector_id;  /* this process's lease rows: random, one per sink */
	uint64_t deadlocks;  /* transactions retried after a deadlock */
	uint64_t cids_taken; /* blocks found taken by rows stored without a lease */
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
	snprintf(sql, sql_len, "SELECT id FROM `%s_lock`.commit_order WHERE id = 1 FOR UPDATE",
		 name);
}

/* Lock the commit_order row for this transaction (COMMIT releases it). */
static int take_commit_lock(struct sink_mysql *m)
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

/* A session holding this host's lease rows (lock wait) is waited out as an
 * outage: capture goes on, the writer connects again later. */
static int lease_reset_failed(struct sink_mysql *m)
{
	if (mysql_errno(m->db) == ER_LOCK_WAIT_TIMEOUT) {
		fail(m, "clearing this lector's cid lease (is a session holding this host's "
			"cid_leases rows?)");
		return -ECONNREFUSED;
	}
	return fail(m,
		    "clearing this lector's cid lease (cid_leases, <db>_lock.cid_alloc: "
		    "migration 020; the writer needs a grant on the lock schema, see INSTALL.md)");
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
	if (rc == 0) {
		lease_init(&m->lease, c->db_name, m->host_id, m->lector_id, m->commit_lock);
		rc = lease_reset(&m->lease, m->db);
		/* two lectors of one new host at once: their first rows' gap
		 * locks can deadlock; the one refused tries again */
		for (int i = 0;
		     rc < 0 && i < DEADLOCK_RETRIES && mysql_errno(m->db) == ER_LOCK_DEADLOCK;
		     i++) {
			mysql_rollback(m->db);
			usleep((useconds_t)(1000 + mono_ms() % 4000));
			rc = lease_reset(&m->lease, m->db);
		}
		if (rc < 0)
			rc = lease_reset_failed(m);
	}
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

/* A statement of the data or allocation transaction failed: a deadlock
 * (two writers' gap locks; Galera: a certification conflict) is rolled back
 * and retried at once on the same connection (-EDEADLK); anything else
 * drops the connection (fail). */
static int tx_error(struct sink_mysql *m, const char *what)
{
	if (m->db && mysql_errno(m->db) == ER_LOCK_DEADLOCK) {
		snprintf(m->base.err, sizeof(m->base.err), "%s: %s", what, mysql_error(m->db));
		mysql_rollback(m->db);
		return -EDEADLK;
	}
	return fail(m, what);
}

/* A cid of our block is held by a row stored without a lease (AUTO_INCREMENT
 * by hand while lectors run): take a new block above every stored cid and
 * retry at once. */
#define CIDS_TAKEN_RETRIES 5 /* new blocks in a row, each above every stored cid */

static int cids_taken(struct sink_mysql *m)
{
	snprintf(m->base.err, sizeof(m->base.err),
		 "cids %" PRIu64 "..%" PRIu64 " were taken by rows not stored by a lector: "
		 "retried with new cids",
		 m->lease.lo, m->lease.hi);
	fprintf(stderr, "lector: %s\n", m->base.err);
	mysql_rollback(m->db);
	m->lease.held = false;
	m->cids_taken++;
	return lease_reset(&m->lease, m->db) < 0 ? tx_error(m, "moving cid_alloc") : -EEXIST;
}

static int reserve_cids(struct sink_mysql *m, struct qext *ext, size_t n)
{
	int rc = lease_take(&m->lease, m->db, ext, n);

	if (rc == -ENOENT) {
		snprintf(m->base.err, sizeof(m->base.err),
			 "the cid allocation row is missing from %s_lock.cid_alloc: run "
			 "lector --migrate",
			 m->cfg.db_name);
		mysql_rollback(m->db);
		return -EIO;
	}
	if (rc < 0 && mysql_errno(m->db) == ER_LOCK_WAIT_TIMEOUT) {
		snprintf(m->base.err, sizeof(m->base.err),
			 "reserving cids: %s (is a session holding this host's cid_leases row?)",
			 mysql_error(m->db));
		mysql_rollback(m->db);
		return -EAGAIN;
	}
	return rc < 0 ? tx_error(m, "reserving cids (cid_leases, <db>_lock.cid_alloc)") : 0;
}

static int commit_once(struct sink_mysql *m, const struct qent *e, size_t n,
		       const struct batch_extra *x, struct acct_proc *dirty,
		       const struct capture_stats *cs)
{
	int rc;

	if (n && (rc = reserve_cids(m, x->ext, n)) < 0)
		return rc;
	if (m->commit_lock && (rc = take_commit_lock(m)) < 0)
		return rc;
	if (n && stmts_insert_calls(&m->st, e, x->ext, n) < 0)
		return mysql_errno(m->db) == ER_SUBQUERY_NO_1_ROW ? cids_taken(m)
								  : tx_error(m, "inserting calls");
	if (n && (rc = lease_check(&m->lease, m->db, m->st.calls_stored)) < 0)
		return rc == -EEXIST ? cids_taken(m) : tx_error(m, "checking this block's cids");
	if (x && x->n_ckpt && ckpt_insert(&m->st, x->ckpt, x->n_ckpt) < 0)
		return tx_error(m, "inserting checkpoints");
	/* a snapshot of a host holding many processes: in parts, each well
	 * under max_allowed_packet (about 300 bytes a row) */
	for (size_t i = 0; x && i < x->n_snap; i += SNAP_INSERT_ROWS)
		if (snap_insert(&m->st, x->snap + i,
				x->n_snap - i < SNAP_INSERT_ROWS ? x->n_snap - i : SNAP_INSERT_ROWS) < 0)
			return tx_error(m, "inserting snapshots");
	if (n && oom_insert(&m->st, e, n) < 0)
		return tx_error(m, "inserting oom_kills");
	if (stmts_upsert_procs(&m->st, dirty) < 0)
		return tx_error(m, "updating processes");
	if (stmts_upsert_stats(&m->st, cs, e, n) < 0)
		return tx_error(m, "updating capture_stats");
	rc = n ? lease_release(&m->lease, m->db) : 0;
	if (rc == -ESTALE) {
		snprintf(m->base.err, sizeof(m->base.err),
			 "this transaction's cid lease was fenced (older than %d s) or cleared: "
			 "retried with new cids",
			 lease_fence_s());
		mysql_rollback(m->db);
		return -EAGAIN;
	}
	if (rc < 0)
		return tx_error(m, "clearing this host's cid lease");
	if (mysql_commit(m->db))
		return tx_error(m, "commit");
	m->base.stored = n ? m->st.calls_stored : 0;
	lease_committed(&m->lease);
	return 0;
}

static int mysql_commit_batch(struct sink *s, const struct qent *e, size_t n,
			      const struct batch_extra *x, struct acct_proc *dirty,
			      const struct capture_stats *cs)
{
	struct sink_mysql *m = (struct sink_mysql *)s;
	int rc = ensure_connected(m);

	for (int attempt = 1, taken = 0; rc == 0; attempt++) {
		rc = commit_once(m, e, n, x, dirty, cs);
		if (rc == -EEXIST) { /* cids taken by a row stored without a lease */
			if (++taken >= CIDS_TAKEN_RETRIES)
				return -EAGAIN;
			attempt--; /* not a deadlock: its own budget, retried at once */
			rc = 0;
			continue;
		}
		if (rc != -EDEADLK)
			return rc;
		if (attempt >= DEADLOCK_RETRIES)
			return -EAGAIN;
		m->deadlocks++;
		usleep((useconds_t)(attempt * 1000 + mono_ms() % 1000));
		rc = 0;
	}
	return rc;
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

	if (m->db && lease_close(&m->lease, m->db) < 0)
		fprintf(stderr,
			"lector: could not clear this lector's cid lease (%s): streaming "
			"waits until another lector's allocation fences it\n",
			mysql_error(m->db));
	if (m->deadlocks)
		fprintf(stderr,
			"lector: %" PRIu64 " transactions were retried after a deadlock "
			"with another writer\n",
			m->deadlocks);
	if (m->cids_taken)
		fprintf(stderr,
			"lector: %" PRIu64 " blocks of cids were taken by rows not stored by a "
			"lector, and replaced\n",
			m->cids_taken);
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

static void sink_mysql_init(struct sink_mysql *m, const struct lector_config *cfg)
{
	const char *order = getenv("MEMPROBE_LECTOR_ORDER");

	m->base.ops = &mysql_ops;
	m->cfg = *cfg;
	m->commit_lock = order && !strcmp(order, "lock");
	if (getrandom(&m->lector_id, sizeof(m->lector_id), 0) != sizeof(m->lector_id))
		m->lector_id = wall_ns() ^ ((uint64_t)getpid() << 40);
	if (m->lector_id == 0 || m->lector_id == UINT64_MAX) /* the bounds' rows */
		m->lector_id = 1;
	sink_mysql_lock_sql(cfg->db_name, m->lock_sql, sizeof(m->lock_sql));
}

int sink_mysql_open(struct sink **out, const struct lector_config *cfg, char *err, size_t errlen)
{
	struct sink_mysql *m = calloc(1, sizeof(*m));
	int rc;

	if (!m)
		return -ENOMEM;
	sink_mysql_init(m, cfg);
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
	sink_mysql_init(m, cfg);
	*out = &m->base;
	return 0;
}
