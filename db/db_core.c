/*
 * db_core.c - connect, prepare, bind, run (db_core.h).  Rows come back as
 * text, fetched into one heap block: callers may run on small thread
 * stacks (the server's workers).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_core.h"

#define COL_MAX	      40
#define COL_BUF_BYTES 512

static MYSQL *connect_one(const struct db_target *t, const struct config_db_host *h, char *err,
			  size_t errlen)
{
	MYSQL *db = mysql_init(NULL);

	if (!db) {
		snprintf(err, errlen, "out of memory for a MariaDB connection");
		return NULL;
	}
	if (t->connect_timeout_s)
		mysql_optionsv(db, MYSQL_OPT_CONNECT_TIMEOUT, &t->connect_timeout_s);
	if (t->rw_timeout_s) {
		mysql_optionsv(db, MYSQL_OPT_READ_TIMEOUT, &t->rw_timeout_s);
		mysql_optionsv(db, MYSQL_OPT_WRITE_TIMEOUT, &t->rw_timeout_s);
	}
	if (t->charset)
		mysql_optionsv(db, MYSQL_SET_CHARSET_NAME, t->charset);
	if (t->init_sql)
		mysql_optionsv(db, MYSQL_INIT_COMMAND, t->init_sql);
	if (!mysql_real_connect(db, h->host, t->user, t->password, t->name, h->port,
				t->socket && t->socket[0] ? t->socket : NULL, 0)) {
		snprintf(err, errlen, "%s", mysql_error(db));
		mysql_close(db);
		return NULL;
	}
	return db;
}

/* The value of a one-row, text-column result (why: the error). */
static int query_text(MYSQL *db, const char *sql, unsigned int col, char *out, size_t len)
{
	MYSQL_RES *res;
	MYSQL_ROW row;

	out[0] = 0;
	if (mysql_query(db, sql) || !(res = mysql_store_result(db)))
		return -EIO;
	row = mysql_fetch_row(res);
	if (row && mysql_num_fields(res) > col && row[col])
		snprintf(out, len, "%s", row[col]);
	mysql_free_result(res);
	return 0;
}

enum node_state {
	NODE_DOWN,     /* refuses queries or, for a writer, blocks writes */
	NODE_READABLE, /* a reader may use it when no node is Synced */
	NODE_SYNCED,   /* Galera Synced, or no Galera */
};

/* A Galera node answers logins while it joins, donates by rsync or has
 * lost the primary component (every query fails with "WSREP has not yet
 * prepared node for application use").  wsrep_ready stays ON on a donor
 * (Donor/Desynced): an rsync donor holds FLUSH TABLES WITH READ LOCK, so
 * its reads answer but every write waits for the whole SST.  A writer
 * therefore takes only a Synced node (wsrep_local_state 4); a reader takes
 * a Synced node first and a ready, not Synced one when none is Synced.  A
 * server without Galera (no @@wsrep_on, or off) is Synced. */
static enum node_state node_ready(MYSQL *db, bool writer, char *why, size_t len)
{
	char on[8], ready[16], state[8], comment[48];

	if (query_text(db, "SELECT @@wsrep_on", 0, on, sizeof(on)) < 0 || strcmp(on, "1"))
		return NODE_SYNCED;
	if (query_text(db, "SHOW GLOBAL STATUS LIKE 'wsrep_ready'", 1, ready, sizeof(ready)) < 0 ||
	    strcmp(ready, "ON")) {
		snprintf(why, len,
			 "a Galera node not ready for queries (wsrep_ready %s: joining, or cut "
			 "off from the cluster's majority)",
			 ready[0] ? ready : "unknown");
		return NODE_DOWN;
	}
	if (query_text(db, "SHOW GLOBAL STATUS LIKE 'wsrep_local_state'", 1, state,
		       sizeof(state)) == 0 &&
	    !strcmp(state, "4"))
		return NODE_SYNCED;
	query_text(db, "SHOW GLOBAL STATUS LIKE 'wsrep_local_state_comment'", 1, comment,
		   sizeof(comment));
	snprintf(why, len,
		 "a Galera node not Synced (wsrep_local_state %s, %s: a donor's writes wait "
		 "for the whole state transfer)%s",
		 state[0] ? state : "unknown", comment[0] ? comment : "unknown",
		 writer ? "" : "; used only if no node is Synced");
	return writer ? NODE_DOWN : NODE_READABLE;
}

MYSQL *db_connect(const struct db_target *t, char *err, size_t errlen)
{
	struct config_db_host hs[CONFIG_DB_HOSTS_MAX];
	int n =
	    config_db_hosts(t->host ? t->host : "", t->port, hs, CONFIG_DB_HOSTS_MAX, err, errlen);
	size_t off = 0;	     /* of err */
	MYSQL *spare = NULL; /* a reader's first ready, not Synced node */
	int spare_i = 0;

	if (t->n_hosts)
		*t->n_hosts = n;
	if (n < 0)
		return NULL;
	err[0] = 0;
	for (int i = 0; i < n; i++) {
		char why[384];
		MYSQL *db = connect_one(t, &hs[i], why, sizeof(why));
		enum node_state st = db ? node_ready(db, !t->reader, why, sizeof(why)) : NODE_DOWN;

		if (st == NODE_SYNCED) {
			if (spare)
				mysql_close(spare);
			if (t->used)
				*t->used = i;
			return db;
		}
		if (st == NODE_READABLE && !spare) {
			spare = db;
			spare_i = i;
		} else if (db) {
			mysql_close(db);
		}
		if (n == 1)
			snprintf(err, errlen, "%s", why);
		else if (off < errlen)
			off += (size_t)snprintf(err + off, errlen - off, "%s%s:%u: %s",
						i ? "; " : "", hs[i].host, hs[i].port, why);
	}
	if (spare && t->used)
		*t->used = spare_i;
	return spare;
}

/* lector on a Galera node: READ COMMITTED, so its statements take no gap
 * locks.  A replicated transaction applied on this node (another node's
 * writer) aborts any local one holding a lock it needs, and with the
 * default REPEATABLE READ the next-key locks of one host's upserts and
 * deletes reach into the neighbouring host's keys (tests/cluster saw one
 * abort every few hundred commits).  Nothing lector reads needs a snapshot
 * over several statements. */
static int galera_writer(MYSQL *db, char *why, size_t len)
{
	char on[8];

	if (query_text(db, "SELECT @@wsrep_on", 0, on, sizeof(on)) < 0 || strcmp(on, "1"))
		return 0;
	if (mysql_query(db, "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED") == 0)
		return 0;
	snprintf(why, len, "setting READ COMMITTED: %s", mysql_error(db));
	return -EIO;
}

MYSQL *db_connect_config(const struct lector_config *c, unsigned int connect_timeout_s,
			 unsigned int rw_timeout_s, char *err, size_t errlen)
{
	int used = 0, n_hosts = 0;
	const struct db_target t = {.host = c->db_host,
				    .user = c->db_user,
				    .password = c->db_password,
				    .name = c->db_name,
				    .socket = c->db_socket,
				    .port = c->db_port,
				    .connect_timeout_s = connect_timeout_s,
				    .rw_timeout_s = rw_timeout_s,
				    .used = &used,
				    .n_hosts = &n_hosts};
	char why[1024];
	MYSQL *db = db_connect(&t, why, sizeof(why));

	if (!db)
		snprintf(err, errlen,
			 "cannot connect to MariaDB %s@%s (%s): %s; is it running? (make run "
			 "starts it)",
			 c->db_user, c->db_socket[0] && n_hosts == 1 ? c->db_socket : c->db_host,
			 c->db_name, why);
	else if (galera_writer(db, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "MariaDB at %s: %s", mysql_get_host_info(db), why);
		mysql_close(db);
		return NULL;
	} else if (n_hosts > 1) /* which server of several, and why not those before it */
		fprintf(
		    stderr, "lector: connected to MariaDB at %s (server %d of %d in db_host)%s%s\n",
		    mysql_get_host_info(db), used + 1, n_hosts, why[0] ? "; skipped " : "", why);
	return db;
}

static _Thread_local unsigned int last_code;

unsigned int db_error_code(void)
{
	return last_code;
}

MYSQL_STMT *db_prepare(MYSQL *db, const char *sql, char *err, size_t errlen)
{
	MYSQL_STMT *st = mysql_stmt_init(db);

	last_code = 0;
	if (st && mysql_stmt_prepare(st, sql, strlen(sql)) == 0)
		return st;
	last_code = st ? mysql_stmt_errno(st) : mysql_errno(db);
	snprintf(err, errlen, "prepare failed: %s", st ? mysql_stmt_error(st) : mysql_error(db));
	if (st)
		mysql_stmt_close(st);
	return NULL;
}

void db_bind_params(MYSQL_BIND *b, const struct db_param *ps, unsigned int n)
{
	memset(b, 0, n * sizeof(*b));
	for (unsigned int i = 0; i < n; i++) {
		switch (ps[i].type) {
		case DBP_U64:
			b[i].buffer_type = MYSQL_TYPE_LONGLONG;
			b[i].buffer = (void *)&ps[i].u64;
			b[i].is_unsigned = 1;
			break;
		case DBP_I64:
			b[i].buffer_type = MYSQL_TYPE_LONGLONG;
			b[i].buffer = (void *)&ps[i].i64;
			break;
		case DBP_STR:
			b[i].buffer_type = MYSQL_TYPE_STRING;
			b[i].buffer = (void *)ps[i].str;
			b[i].buffer_length = ps[i].len_bytes;
			b[i].length = (unsigned long *)&ps[i].len_bytes;
			break;
		}
	}
}

static int execute(MYSQL_STMT *st, const struct db_param *ps, unsigned int n, char *err,
		   size_t errlen)
{
	MYSQL_BIND pb[DB_PARAMS_MAX];

	if (n > DB_PARAMS_MAX || mysql_stmt_field_count(st) > COL_MAX) {
		snprintf(err, errlen, "query shape out of bounds");
		return -E2BIG;
	}
	db_bind_params(pb, ps, n);
	last_code = 0;
	if ((n && mysql_stmt_bind_param(st, pb)) || mysql_stmt_execute(st)) {
		last_code = mysql_stmt_errno(st);
		snprintf(err, errlen, "query failed: %s", mysql_stmt_error(st));
		return -EIO;
	}
	return 0;
}

/* NULL columns come back as empty strings of length 0.  A value longer
 * than COL_BUF_BYTES - 1 (a cgroup path, up to 4 KiB) is fetched again
 * whole into long_col[i], which lasts until the next row. */
struct fetch_buf {
	MYSQL_BIND bind[COL_MAX];
	unsigned long len[COL_MAX];
	my_bool is_null[COL_MAX];
	char *col[COL_MAX];
	char *long_col[COL_MAX];
	char data[COL_MAX][COL_BUF_BYTES];
};

#define COL_LONG_MAX_BYTES (1u << 20) /* longer still: cut (no column is) */

/* Column i of the current row, which did not fit data[i], in full. */
static int fetch_long(MYSQL_STMT *st, struct fetch_buf *fb, unsigned int i)
{
	unsigned long want = fb->len[i] < COL_LONG_MAX_BYTES ? fb->len[i] : COL_LONG_MAX_BYTES;
	char *p = realloc(fb->long_col[i], want + 1);
	MYSQL_BIND b = {.buffer_type = MYSQL_TYPE_STRING, .buffer = p, .buffer_length = want};

	if (!p)
		return -ENOMEM;
	fb->long_col[i] = p;
	b.length = &fb->len[i];
	if (mysql_stmt_fetch_column(st, &b, i, 0))
		return -EIO;
	if (fb->len[i] > want)
		fb->len[i] = want;
	p[fb->len[i]] = 0;
	fb->col[i] = p;
	return 0;
}

static void fetch_bind(struct fetch_buf *fb, unsigned int ncols)
{
	for (unsigned int i = 0; i < ncols; i++) {
		fb->bind[i].buffer_type = MYSQL_TYPE_STRING;
		fb->bind[i].buffer = fb->data[i];
		fb->bind[i].buffer_length = COL_BUF_BYTES - 1;
		fb->bind[i].length = &fb->len[i];
		fb->bind[i].is_null = &fb->is_null[i];
		fb->col[i] = fb->data[i];
	}
}

static int fetch_rows(MYSQL_STMT *st, struct fetch_buf *fb, unsigned int ncols, db_row_fn fn,
		      void *arg, char *err, size_t errlen)
{
	int rc = 0, frc;

	while ((frc = mysql_stmt_fetch(st)) != MYSQL_NO_DATA) {
		if (frc == 1) {
			snprintf(err, errlen, "fetch failed: %s", mysql_stmt_error(st));
			return -EIO;
		}
		for (unsigned int i = 0; i < ncols; i++) {
			fb->col[i] = fb->data[i];
			if (fb->is_null[i])
				fb->len[i] = 0;
			if (fb->len[i] > COL_BUF_BYTES - 1 && (rc = fetch_long(st, fb, i)) < 0) {
				snprintf(err, errlen, "fetch of a long column failed: %s",
					 mysql_stmt_error(st));
				return rc;
			}
			if (fb->len[i] <= COL_BUF_BYTES - 1)
				fb->data[i][fb->len[i]] = 0;
		}
		rc = fn ? fn(arg, fb->col, fb->len, ncols) : 0;
		if (rc)
			break;
	}
	return rc;
}

int db_stmt_rows(MYSQL_STMT *st, const struct db_param *ps, unsigned int n, db_row_fn fn, void *arg,
		 char *err, size_t errlen)
{
	unsigned int ncols = mysql_stmt_field_count(st);
	struct fetch_buf *fb = NULL;
	int rc = execute(st, ps, n, err, errlen);

	if (rc < 0)
		return rc;
	if (ncols && !(fb = calloc(1, sizeof(*fb)))) {
		rc = -ENOMEM;
		goto out;
	}
	if (ncols)
		fetch_bind(fb, ncols);
	if (ncols && mysql_stmt_bind_result(st, fb->bind)) {
		snprintf(err, errlen, "bind failed: %s", mysql_stmt_error(st));
		rc = -EIO;
		goto out;
	}
	if (ncols)
		rc = fetch_rows(st, fb, ncols, fn, arg, err, errlen);
out:
	mysql_stmt_free_result(st);
	mysql_stmt_reset(st);
	for (unsigned int i = 0; fb && i < ncols; i++)
		free(fb->long_col[i]);
	free(fb);
	return rc < 0 ? rc : 0;
}

int db_stmt_exec(MYSQL_STMT *st, const struct db_param *ps, unsigned int n, uint64_t *affected,
		 char *err, size_t errlen)
{
	int rc = execute(st, ps, n, err, errlen);

	if (rc == 0 && affected)
		*affected = mysql_stmt_affected_rows(st);
	mysql_stmt_free_result(st);
	mysql_stmt_reset(st);
	return rc;
}

struct first_row {
	uint64_t *out;
	unsigned int want, got;
};

static int keep_first_row(void *arg, char **col, unsigned long *len, unsigned int ncols)
{
	struct first_row *f = arg;

	(void)len;
	for (f->got = 0; f->got < f->want && f->got < ncols; f->got++)
		f->out[f->got] = strtoull(col[f->got], NULL, 10);
	return 1; /* the first row is enough */
}

int db_stmt_u64(MYSQL_STMT *st, const struct db_param *ps, unsigned int n, uint64_t *out,
		unsigned int ncols, char *err, size_t errlen)
{
	struct first_row f = {out, ncols, 0};
	int rc = db_stmt_rows(st, ps, n, keep_first_row, &f, err, errlen);

	return rc < 0 ? rc : (int)f.got;
}

int db_query_rows(MYSQL *db, const char *sql, const struct db_param *ps, unsigned int n,
		  db_row_fn fn, void *arg, char *err, size_t errlen)
{
	MYSQL_STMT *st = db_prepare(db, sql, err, errlen);
	int rc;

	if (!st)
		return -EIO;
	rc = db_stmt_rows(st, ps, n, fn, arg, err, errlen);
	mysql_stmt_close(st);
	return rc;
}

int db_query_u64(MYSQL *db, const char *sql, const struct db_param *ps, unsigned int n,
		 uint64_t *out, unsigned int ncols, char *err, size_t errlen)
{
	MYSQL_STMT *st = db_prepare(db, sql, err, errlen);
	int rc;

	if (!st)
		return -EIO;
	rc = db_stmt_u64(st, ps, n, out, ncols, err, errlen);
	mysql_stmt_close(st);
	return rc;
}
