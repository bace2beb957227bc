/*
 * db_core.h - the one MariaDB layer (libmariadb underneath): connect,
 * prepare, typed parameters, rows handed out as text, statements without
 * rows, and the column lists of a table written once as an X-macro
 * (db_columns.h).  lector's sinks and retention, its migrations and the
 * server's pool (server/db.c) all go through it.  SQL is always
 * parameterized: values are bound, never printed into the text.
 */
#ifndef MEMPROBE_DB_CORE_H
#define MEMPROBE_DB_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <mysql.h>

#include "config.h"

/* Where and how to connect.  Strings may be "" (socket: use host, port).
 * host may list several servers, "a[:port],b[:port]" (config_db_hosts;
 * port is the default of an entry without one): db_connect tries them in
 * order and takes the first that accepts the login and, when it is a
 * Galera node, is ready for queries (wsrep_ready: a joining, donor-blocked
 * or partitioned node is skipped). */
struct db_target {
	const char *host, *user, *password, *name, *socket;
	unsigned int port;
	unsigned int connect_timeout_s, rw_timeout_s; /* 0: the library's default */
	const char *charset;			      /* NULL: the library's default */
	const char *init_sql;			      /* run at each connect, NULL: none */
	int *used;    /* out, NULL: not wanted: the index in host's list connected */
	int *n_hosts; /* out, NULL: not wanted: the number of entries in host */
	bool reader;  /* only reads: may take a Galera node that is not Synced
		       * (a donor) when no node is (db_core.c, node_ready) */
};

/* A connection, or NULL with MariaDB's reason in err (each server's, when
 * host lists several).  On success err says why the servers before the
 * one connected were skipped ("" when none was). */
MYSQL *db_connect(const struct db_target *t, char *err, size_t errlen);
/* lector's settings (model/config.h): a connection, or NULL with a
 * sentence saying what to do in err.  Timeouts 0: the library's default. */
MYSQL *db_connect_config(const struct lector_config *c, unsigned int connect_timeout_s,
			 unsigned int rw_timeout_s, char *err, size_t errlen);

enum db_param_type { DBP_U64, DBP_I64, DBP_STR };

struct db_param {
	enum db_param_type type;
	uint64_t u64;
	int64_t i64;
	const char *str;
	unsigned long len_bytes;
};

#define DB_U64(v)     ((struct db_param){.type = DBP_U64, .u64 = (v)})
#define DB_I64(v)     ((struct db_param){.type = DBP_I64, .i64 = (v)})
#define DB_STR(s)     ((struct db_param){.type = DBP_STR, .str = (s), .len_bytes = strlen(s)})
#define DB_PARAMS_MAX 16

/* Each row of a result, its columns as text (NULL: "" of length 0).
 * Return 0 to go on, > 0 to stop early, < 0 to abort with that error. */
typedef int (*db_row_fn)(void *arg, char **col, unsigned long *len, unsigned int ncols);

/* MariaDB's error number of this thread's last failed db_prepare or
 * statement execution (0: none since), e.g. ER_NO_SUCH_TABLE. */
unsigned int db_error_code(void);
/* A prepared statement, or NULL with the reason in err. */
MYSQL_STMT *db_prepare(MYSQL *db, const char *sql, char *err, size_t errlen);
/* Bind ps[0..n) as the statement's parameters (b: n entries). */
void db_bind_params(MYSQL_BIND *b, const struct db_param *ps, unsigned int n);
/* Execute st with ps; hand each row to fn (NULL: rows are discarded).
 * 0 or -errno (-EIO: err says what MariaDB said). */
int db_stmt_rows(MYSQL_STMT *st, const struct db_param *ps, unsigned int n, db_row_fn fn, void *arg,
		 char *err, size_t errlen);
/* Execute st with ps, no rows; *affected (NULL: not wanted). */
int db_stmt_exec(MYSQL_STMT *st, const struct db_param *ps, unsigned int n, uint64_t *affected,
		 char *err, size_t errlen);
/* The first row's first ncols columns as numbers (NULL reads as 0):
 * returns the columns read, 0 for no row, or -errno. */
int db_stmt_u64(MYSQL_STMT *st, const struct db_param *ps, unsigned int n, uint64_t *out,
		unsigned int ncols, char *err, size_t errlen);
/* One-off forms: prepare sql, run it as above, close. */
int db_query_rows(MYSQL *db, const char *sql, const struct db_param *ps, unsigned int n,
		  db_row_fn fn, void *arg, char *err, size_t errlen);
int db_query_u64(MYSQL *db, const char *sql, const struct db_param *ps, unsigned int n,
		 uint64_t *out, unsigned int ncols, char *err, size_t errlen);

#endif
