/*
 * db.c - the read-only connection pool.  Each connection keeps a few
 * prepared statements keyed by their SQL text, so a request costs one
 * round trip (execute + fetch), not three.  A connection that fails is
 * closed and reopened by the next user: a restarted MariaDB costs one
 * failed request, not a restarted server.  Waiting for a free connection
 * is bounded (wait_ms): a few slow queries cost other requests a 503 with
 * Retry-After, never a thread stuck for as long as the slow ones last.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"

#define STMT_CACHE    24
#define COL_MAX	      40
#define COL_BUF_BYTES 512

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
	unsigned int timeout_s = 5;

	c->my = mysql_init(NULL);
	if (!c->my) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	mysql_options(c->my, MYSQL_OPT_CONNECT_TIMEOUT, &timeout_s);
	mysql_options(c->my, MYSQL_SET_CHARSET_NAME, "binary");
	/* No join buffer: with a one-row hosts table the optimizer chose a
	 * block-nested-loop join, which cannot use the cid index order, and
	 * "newest 100 calls" became a full scan + filesort of every call. */
	mysql_options(c->my, MYSQL_INIT_COMMAND, "SET SESSION join_cache_level = 0");
	if (!mysql_real_connect(c->my, s->host, s->user, s->password, s->name, s->port,
				s->socket[0] ? s->socket : NULL, 0)) {
		snprintf(err, errlen, "cannot connect to MariaDB as '%s' (%s): %s", s->user,
			 s->socket[0] ? s->socket : s->host, mysql_error(c->my));
		conn_close(c);
		return -ECONNREFUSED;
	}
	return 0;
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
	st = mysql_stmt_init(c->my);
	if (!st || mysql_stmt_prepare(st, sql, strlen(sql))) {
		snprintf(err, errlen, "prepare failed: %s", mysql_error(c->my));
		if (st)
			mysql_stmt_close(st);
		return NULL;
	}
	slot = c->next_slot++ % STMT_CACHE;
	if (c->cache[slot].st)
		mysql_stmt_close(c->cache[slot].st);
	c->cache[slot].sql = sql;
	c->cache[slot].st = st;
	return st;
}

static void bind_params(MYSQL_BIND *b, const struct db_param *ps, unsigned int n)
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

/* Results are fetched as text into one heap block (worker stacks are
 * 100 KiB).  NULL columns come back as empty strings of length 0. */
struct fetch_buf {
	MYSQL_BIND bind[COL_MAX];
	unsigned long len[COL_MAX];
	my_bool is_null[COL_MAX];
	char *col[COL_MAX];
	char data[COL_MAX][COL_BUF_BYTES];
};

static int run_stmt(MYSQL_STMT *st, const struct db_param *ps, unsigned int n, db_row_fn fn,
		    void *arg, char *err, size_t errlen)
{
	MYSQL_BIND pb[16];
	struct fetch_buf *fb = NULL;
	unsigned int ncols = mysql_stmt_field_count(st);
	int rc = 0, frc;

	if (n > 16 || ncols > COL_MAX) {
		snprintf(err, errlen, "query shape out of bounds");
		return -E2BIG;
	}
	bind_params(pb, ps, n);
	if ((n && mysql_stmt_bind_param(st, pb)) || mysql_stmt_execute(st)) {
		snprintf(err, errlen, "query failed: %s", mysql_stmt_error(st));
		return -EIO;
	}
	fb = calloc(1, sizeof(*fb));
	if (!fb) {
		rc = -ENOMEM;
		goto out;
	}
	for (unsigned int i = 0; i < ncols; i++) {
		fb->bind[i].buffer_type = MYSQL_TYPE_STRING;
		fb->bind[i].buffer = fb->data[i];
		fb->bind[i].buffer_length = COL_BUF_BYTES - 1;
		fb->bind[i].length = &fb->len[i];
		fb->bind[i].is_null = &fb->is_null[i];
		fb->col[i] = fb->data[i];
	}
	if (ncols && mysql_stmt_bind_result(st, fb->bind)) {
		snprintf(err, errlen, "bind failed: %s", mysql_stmt_error(st));
		rc = -EIO;
		goto out;
	}
	while (ncols && (frc = mysql_stmt_fetch(st)) != MYSQL_NO_DATA) {
		if (frc == 1) {
			snprintf(err, errlen, "fetch failed: %s", mysql_stmt_error(st));
			rc = -EIO;
			break;
		}
		for (unsigned int i = 0; i < ncols; i++) {
			if (fb->is_null[i])
				fb->len[i] = 0;
			if (fb->len[i] > COL_BUF_BYTES - 1)
				fb->len[i] = COL_BUF_BYTES - 1; /* truncated: columns are short */
			fb->data[i][fb->len[i]] = 0;
		}
		rc = fn(arg, fb->col, fb->len, ncols);
		if (rc)
			break;
	}
out:
	mysql_stmt_free_result(st);
	mysql_stmt_reset(st);
	free(fb);
	return rc < 0 ? rc : 0;
}

int db_select(struct db_pool *p, const char *sql, const struct db_param *ps, unsigned int n,
	      db_row_fn fn, void *arg, char *err, size_t errlen)
{
	struct db_conn *c = conn_get(p);
	MYSQL_STMT *st;
	int rc;

	if (!c) {
		snprintf(err, errlen, "all %u database connections stayed busy for %u ms", p->size,
			 p->wait_ms);
		return -ETIMEDOUT;
	}
	if (!c->my && (rc = conn_open(p, c, err, errlen)) < 0)
		goto out;
	st = stmt_get(c, sql, err, errlen);
	if (!st) {
		rc = -EIO;
		if (mysql_errno(c->my) >= 2000) /* client-side: connection lost */
			conn_close(c);
		goto out;
	}
	rc = run_stmt(st, ps, n, fn, arg, err, errlen);
	if (rc == -EIO && mysql_stmt_errno(st) >= 2000)
		conn_close(c);
out:
	conn_put(p, c);
	return rc;
}
