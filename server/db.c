/*
 * db.c - the read-only connection pool.  Each connection keeps a few
 * prepared statements keyed by their SQL text, so a request costs one
 * round trip (execute + fetch), not three.  A connection that fails is
 * closed and reopened by the next user: a restarted MariaDB costs one
 * failed request, not a restarted server.  Waiting for a free connection
 * is bounded (wait_ms): a few slow queries cost other requests a 503 with
 * Retry-After, never a thread stuck for as long as the slow ones last.
 * Connecting, binding and fetching are db/db_core.c's.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"

#define STMT_CACHE 24

struct db_conn {
	MYSQL *my;
	struct {
		const char *sql;
		MYSQL_STMT *st;
	} cache[STMT_CACHE];
	unsigned int next_slot;
	struct db_conn *next_free;
};

struct db_pool {
	struct db_settings set;
	pthread_mutex_t lock;
	pthread_cond_t freed;
	struct db_conn *free_list;
	struct db_conn *conns;
	unsigned int size;
	unsigned int wait_ms;
};

static void conn_close(struct db_conn *c)
{
	for (unsigned int i = 0; i < STMT_CACHE; i++) {
		if (c->cache[i].st)
			mysql_stmt_close(c->cache[i].st);
		c->cache[i].st = NULL;
		c->cache[i].sql = NULL;
	}
	if (c->my)
		mysql_close(c->my);
	c->my = NULL;
}

static int conn_open(struct db_pool *p, struct db_conn *c, char *err, size_t errlen)
{
	const struct db_settings *s = &p->set;
	/* No join buffer: with a one-row hosts table the optimizer chose a
	 * block-nested-loop join, which cannot use the cid index order, and
	 * "newest 100 calls" became a full scan + filesort of every call. */
	const struct db_target t = {.host = s->host,
				    .user = s->user,
				    .password = s->password,
				    .name = s->name,
				    .socket = s->socket,
				    .port = s->port,
				    .connect_timeout_s = 5,
				    .charset = "binary",
				    .init_sql = "SET SESSION join_cache_level = 0",
				    .reader = true};
	char why[512];

	c->my = db_connect(&t, why, sizeof(why));
	if (!c->my) {
		snprintf(err, errlen, "cannot connect to MariaDB as '%s' (%s): %s", s->user,
			 s->socket[0] ? s->socket : s->host, why);
		return -ECONNREFUSED;
	}
	return 0;
}

/*
 * The server's SQL names indexes and tables of schema version
 * SERVER_SCHEMA_MIN (migration 018 made cid the primary key of calls:
 * FORCE INDEX (PRIMARY) on an older table is a scan of every call; 019
 * added the checkpoints, calls.mapped_bytes and the ledger's columns that
 * time travel and /mappings read).  A database that says it is
 * older is refused with what to do; one without schema_migrations, or that
 * this account may not read, is left to the queries (lector creates it).
 */
#define SERVER_SCHEMA_MIN 19

static int schema_check(MYSQL *my, char *err, size_t errlen)
{
	uint64_t have = 0;
	char why[256];

	if (db_query_u64(my, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations", NULL, 0,
			 &have, 1, why, sizeof(why)) < 0 ||
	    have >= SERVER_SCHEMA_MIN)
		return 0;
	snprintf(err, errlen,
		 "the database schema is version %llu, this server needs %d or newer: run "
		 "'lector --migrate' first (docs/INSTALL.md, upgrading)",
		 (unsigned long long)have, SERVER_SCHEMA_MIN);
	return -EPROTO;
}

int db_pool_create(struct db_pool **out, const struct db_settings *s, unsigned int size,
		   unsigned int wait_ms, char *err, size_t errlen)
{
	struct db_pool *p = calloc(1, sizeof(*p));
	pthread_condattr_t ca;
	int rc = 0;

	if (!p || !(p->conns = calloc(size, sizeof(*p->conns)))) {
		free(p);
		return -ENOMEM;
	}
	p->set = *s;
	p->size = size;
	p->wait_ms = wait_ms;
	pthread_mutex_init(&p->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->freed, &ca);
	pthread_condattr_destroy(&ca);
	for (unsigned int i = 0; i < size; i++) {
		p->conns[i].next_free = p->free_list;
		p->free_list = &p->conns[i];
	}
	/* Open one now so a wrong password is reported at start-up. */
	rc = conn_open(p, &p->conns[size - 1], err, errlen);
	if (rc == 0)
		rc = schema_check(p->conns[size - 1].my, err, errlen);
	if (rc < 0) {
		db_pool_destroy(p);
		return rc;
	}
	*out = p;
	return 0;
}

void db_pool_destroy(struct db_pool *p)
{
	if (!p)
		return;
	for (unsigned int i = 0; i < p->size; i++)
		conn_close(&p->conns[i]);
	free(p->conns);
	free(p);
}

/* A free connection, or NULL when none came free within wait_ms. */
static struct db_conn *conn_get(struct db_pool *p)
{
	struct db_conn *c;
	struct timespec dl;
	int rc = 0;

	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += p->wait_ms / 1000;
	dl.tv_nsec += (long)(p->wait_ms % 1000) * 1000000L;
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&p->lock);
	while (!p->free_list && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&p->freed, &p->lock, &dl);
	c = p->free_list;
	if (c)
		p->free_list = c->next_free;
	pthread_mutex_unlock(&p->lock);
	return c;
}

static void conn_put(struct db_pool *p, struct db_conn *c)
{
	pthread_mutex_lock(&p->lock);
	c->next_free = p->free_list;
	p->free_list = c;
	pthread_cond_signal(&p->freed);
	pthread_mutex_unlock(&p->lock);
}

static MYSQL_STMT *stmt_get(struct db_conn *c, const char *sql, char *err, size_t errlen)
{
	MYSQL_STMT *st;
	unsigned int slot;

	for (unsigned int i = 0; i < STMT_CACHE; i++)
		if (c->cache[i].sql == sql)
			return c->cache[i].st;
	st = db_prepare(c->my, sql, err, errlen);
	if (!st)
		return NULL;
	slot = c->next_slot++ % STMT_CACHE;
	if (c->cache[slot].st)
		mysql_stmt_close(c->cache[slot].st);
	c->cache[slot].sql = sql;
	c->cache[slot].st = st;
	return st;
}

/* Counts the rows handed out, so that a query is retried only when none was. */
struct counted {
	db_row_fn fn;
	void *arg;
	uint64_t rows;
};

static int count_row(void *arg, char **col, unsigned long *len, unsigned int ncols)
{
	struct counted *k = arg;

	k->rows++;
	return k->fn ? k->fn(k->arg, col, len, ncols) : 0;
}

/* One query on one connection: 1 when the connection was lost (client-side
 * error: MariaDB restarted or went away), which is then closed. */
static int run_on(struct db_pool *p, struct db_conn *c, const char *sql, const struct db_param *ps,
		  unsigned int n, struct counted *k, char *err, size_t errlen, int *rc)
{
	MYSQL_STMT *st;

	if (!c->my && (*rc = conn_open(p, c, err, errlen)) < 0)
		return 0;
	st = stmt_get(c, sql, err, errlen);
	if (!st) {
		/* a failed prepare leaves its error on the statement (gone with it),
		 * not always on the connection: ask the connection */
		*rc = -EIO;
		if (mysql_errno(c->my) < 2000 && !mysql_ping(c->my))
			return 0;
	} else {
		*rc = db_stmt_rows(st, ps, n, count_row, k, err, errlen);
		if (*rc != -EIO || mysql_stmt_errno(st) < 2000)
			return 0;
	}
	conn_close(c);
	return 1;
}

/* A pooled connection that MariaDB dropped (a restart: every idle one of
 * them) is opened again and the query run once more, unless it had handed
 * out rows already: one restart costs no request a 503 (it cost one per
 * connection the pool had open, tests/server db_outage). */
int db_select(struct db_pool *p, const char *sql, const struct db_param *ps, unsigned int n,
	      db_row_fn fn, void *arg, char *err, size_t errlen)
{
	struct db_conn *c = conn_get(p);
	struct counted k = {fn, arg, 0};
	int rc = 0;

	if (!c) {
		snprintf(err, errlen, "all %u database connections stayed busy for %u ms", p->size,
			 p->wait_ms);
		return -ETIMEDOUT;
	}
	if (run_on(p, c, sql, ps, n, &k, err, errlen, &rc) && !k.rows)
		run_on(p, c, sql, ps, n, &k, err, errlen, &rc);
	conn_put(p, c);
	return rc;
}
