/*
 * db.h - a small pool of read-only MariaDB connections and one query
 * helper: prepared statement, bound parameters (struct db_param, DB_U64,
 * DB_STR: db/db_core.h), every column fetched as text and handed row by
 * row to a callback (db_row_fn).
 */
#ifndef MEMPROBE_SERVER_DB_H
#define MEMPROBE_SERVER_DB_H

#include <stddef.h>
#include <stdint.h>
#include <mysql.h>

#include "db_core.h"

struct db_pool;

struct db_settings {
	char host[256];
	unsigned int port;
	char socket[512];
	char name[64];
	char user[64];
	char password[128];
};

/* wait_ms: how long db_select waits for a free connection before it
 * fails with -ETIMEDOUT. */
int db_pool_create(struct db_pool **out, const struct db_settings *s, unsigned int size,
		   unsigned int wait_ms, char *err, size_t errlen);
void db_pool_destroy(struct db_pool *p);
/* sql must be a string that lives for the program (the statement cache
 * keys on its address).  -ETIMEDOUT: no connection came free in time. */
int db_select(struct db_pool *p, const char *sql, const struct db_param *ps, unsigned int n,
	      db_row_fn fn, void *arg, char *err, size_t errlen);

#endif
