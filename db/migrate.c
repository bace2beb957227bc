/*
 * migrate.c - apply and check schema migrations.
 *
 * DDL in MariaDB commits implicitly, so a migration is not atomic with its
 * schema_migrations row: every migration is written to be safe to run
 * again (IF NOT EXISTS), and a lock keeps two lectors from racing: the
 * named lock GET_LOCK('memprobe_migrate') on one server.  In a Galera
 * cluster a named lock is the node's own (MariaDB 10.11 grants it on every
 * node at once; other versions refuse GET_LOCK there, MDEV-30473) and a
 * row lock does not outlive the implicit commit of the DDL, so there the
 * lock is a lease: a row of schema_migrate_lease naming its owner until a
 * time, written by an autocommitted upsert.  Galera certifies that write
 * cluster-wide: of two migrators on different nodes taking it at once, one
 * fails certification (a deadlock error) and tries again, and then sees
 * the other's lease.  A migrator that dies leaves its lease to expire
 * (MIGRATE_LEASE_S); the holder renews it from a second connection while
 * it migrates (apply_all).  The row lives in the writers' lock schema
 * <db>_lock, out of the read-only account's reach (take_lease).
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db_core.h"
#include "migrate.h"

#define STR_(x) #x
#define STR(x)	STR_(x)

unsigned int migrate_known_version(void)
{
	unsigned int v = 0;

	for (unsigned int i = 0; i < migrations_count; i++)
		if (migrations[i].version > v)
			v = migrations[i].version;
	return v;
}

static int run_sql(MYSQL *db, const char *sql, char *err, size_t errlen)
{
	int st;

	if (mysql_real_query(db, sql, strlen(sql))) {
		snprintf(err, errlen, "SQL failed: %s", mysql_error(db));
		return -EIO;
	}
	do {
		MYSQL_RES *res = mysql_store_result(db);

		if (res)
			mysql_free_result(res);
		st = mysql_next_result(db);
	} while (st == 0);
	if (st > 0) {
		snprintf(err, errlen, "SQL failed: %s", mysql_error(db));
		return -EIO;
	}
	return 0;
}

/* Highest applied version (0 if none) or -errno. */
static long applied_version(MYSQL *db, char *err, size_t errlen)
{
	uint64_t v = 0;
	char why[256];

	if (run_sql(db,
		    "CREATE TABLE IF NOT EXISTS schema_migrations ("
		    "version INT UNSIGNED NOT NULL PRIMARY KEY, name VARCHAR(128) NOT NULL, "
		    "applied_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)) ENGINE=InnoDB",
		    err, errlen) < 0)
		return -EIO;
	if (db_query_u64(db, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations", NULL, 0, &v,
			 1, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "cannot read schema_migrations: %s", why);
		return -EIO;
	}
	return (long)v;
}

static int newer_error(long have, char *err, size_t errlen)
{
	snprintf(err, errlen,
		 "database schema is version %ld, newer than this lector knows (%u): "
		 "it was written by a newer memprobe; upgrade lector or use another database",
		 have, migrate_known_version());
	return -EPROTO;
}

static int apply_one(MYSQL *db, const struct migration *m, char *err, size_t errlen)
{
	const struct db_param row[2] = {DB_U64(m->version), DB_STR(m->name)};
	int rc;

	mysql_set_server_option(db, MYSQL_OPTION_MULTI_STATEMENTS_ON);
	rc = run_sql(db, m->sql, err, errlen);
	mysql_set_server_option(db, MYSQL_OPTION_MULTI_STATEMENTS_OFF);
	if (rc < 0)
		return rc;
	return db_query_rows(db,
			     "INSERT IGNORE INTO schema_migrations (version, name) VALUES (?, ?)",
			     row, 2, NULL, NULL, err, errlen);
}

/* One migrator at a time.  A lock not granted within 30 s is an error,
 * not a licence to migrate concurrently with whoever holds it. */
#define MIGRATE_LOCK_WAIT_S 30
#define MIGRATE_LEASE_S	    600	 /* the longest one migration may run */
#define ER_LOCK_DEADLOCK    1213 /* Galera: lost certification to another node's write */

static int busy_error(char *err, size_t errlen)
{
	snprintf(
	    err, errlen,
	    "another client has held the migration lock 'memprobe_migrate' for %d s "
	    "(a lector migrating, or a stuck session: see SHOW PROCESSLIST; in a Galera "
	    "cluster, the row of memprobe_lock.schema_migrate_lease, which expires by itself); "
	    "retry later",
	    MIGRATE_LOCK_WAIT_S);
	return -EBUSY;
}

static int take_named_lock(MYSQL *db, char *err, size_t errlen)
{
	uint64_t got = 0;
	char why[256];

	if (db_query_u64(db, "SELECT GET_LOCK('memprobe_migrate', 30)", NULL, 0, &got, 1, why,
			 sizeof(why)) < 0) {
		snprintf(err, errlen, "cannot take the migration lock: %s", why);
		return -EIO;
	}
	return got == 1 ? 0 : busy_error(err, errlen);
}

/* 1 when db is a Galera node (wsrep_on), 0 when not or unknown. */
static int is_galera(MYSQL *db)
{
	uint64_t on = 0;
	char why[256];

	return db_query_u64(db, "SELECT @@wsrep_on", NULL, 0, &on, 1, why, sizeof(why)) > 0 &&
	       on == 1;
}

struct lease_owner {
	char token[64];	 /* "": the named lock is held instead */
	char table[160]; /* `<db>_lock`.schema_migrate_lease */
};

static int keep_text(void *arg, char **col, unsigned long *len, unsigned int ncols)
{
	char *out = arg;

	(void)len;
	snprintf(out, 64, "%s", ncols && col[0] ? col[0] : "");
	return 1;
}

static int keep_table(void *arg, char **col, unsigned long *len, unsigned int ncols)
{
	struct lease_owner *lo = arg;

	(void)len;
	snprintf(lo->table, sizeof(lo->table), "%s.schema_migrate_lease",
		 ncols && col[0] ? col[0] : "``");
	return 1;
}

/* Take or renew the lease: 0 when lo holds it, 1 when another does, 2 on
 * losing certification to a concurrent write (try again), -errno on any
 * other error. */
static int lease_try(MYSQL *db, const struct lease_owner *lo, char *err, size_t errlen)
{
	const struct db_param me[1] = {DB_STR(lo->token)};
	char owner[64] = "", sql[512];
	int rc;

	snprintf(sql, sizeof(sql),
		 "INSERT INTO %s (id, owner, expires_at) VALUES (1, ?, NOW(6) + INTERVAL " STR(
		     MIGRATE_LEASE_S) " SECOND) ON DUPLICATE KEY UPDATE "
				      "owner = IF(expires_at < NOW(6), VALUES(owner), owner), "
				      "expires_at = IF(owner = VALUES(owner), VALUES(expires_at), "
				      "expires_at)",
		 lo->table);
	rc = db_query_rows(db, sql, me, 1, NULL, NULL, err, errlen);
	if (rc < 0)
		return mysql_errno(db) == ER_LOCK_DEADLOCK || strstr(err, "Deadlock") ? 2 : rc;
	snprintf(sql, sizeof(sql), "SELECT owner FROM %s WHERE id = 1", lo->table);
	rc = db_query_rows(db, sql, NULL, 0, keep_text, owner, err, errlen);
	if (rc < 0)
		return rc;
	return strcmp(owner, lo->token) ? 1 : 0;
}

/* The lease row lives in the writers' lock schema <db>_lock (migration 014),
 * not beside the data: there the read-only account has no grant, so it
 * cannot hold the row (SELECT ... FOR UPDATE needs only SELECT) and stall
 * --migrate.  migrate.c creates the table itself, so it needs no migration
 * number; the schema is the administrator's (scripts/db-accounts.sh). */
static int take_lease(MYSQL *db, struct lease_owner *lo, char *err, size_t errlen)
{
	char sql[512];
	int rc =
	    db_query_rows(db,
			  "SELECT CONCAT('`', REPLACE(CONCAT(DATABASE(), '_lock'), '`', '``'), "
			  "'`')",
			  NULL, 0, keep_table, lo, err, errlen);

	if (rc == 0) {
		snprintf(sql, sizeof(sql),
			 "CREATE TABLE IF NOT EXISTS %s ("
			 "id TINYINT UNSIGNED NOT NULL PRIMARY KEY, owner VARCHAR(64) NOT NULL, "
			 "expires_at TIMESTAMP(6) NOT NULL) ENGINE=InnoDB",
			 lo->table);
		rc = run_sql(db, sql, err, errlen);
		if (rc < 0) {
			char why[256];

			snprintf(why, sizeof(why), "%s", err);
			snprintf(
			    err, errlen,
			    "%s (the lease is a table of the writers' lock schema %.64s: as an "
			    "administrator create that schema and GRANT ALL on it to the writer "
			    "account, docs/INSTALL.md)",
			    why, lo->table);
		}
	}
	if (rc == 0)
		rc = db_query_rows(db, "SELECT UUID()", NULL, 0, keep_text, lo->token, err, errlen);
	for (int i = 0; rc == 0 && i < MIGRATE_LOCK_WAIT_S * 4; i++) {
		rc = lease_try(db, lo, err, errlen);
		if (rc <= 0)
			break;
		rc = 0;
		nanosleep(&(struct timespec){.tv_nsec = 250 * 1000 * 1000}, NULL);
		if (i + 1 == MIGRATE_LOCK_WAIT_S * 4)
			rc = busy_error(err, errlen);
	}
	if (rc < 0 && rc != -EBUSY) {
		char why[384];

		snprintf(why, sizeof(why), "%s", err);
		snprintf(err, errlen, "cannot take the migration lease (Galera): %s", why);
	}
	if (rc < 0)
		lo->token[0] = 0; /* not ours: nothing to release */
	return rc;
}

static int take_lock(MYSQL *db, struct lease_owner *lo, char *err, size_t errlen)
{
	lo->token[0] = 0;
	return is_galera(db) ? take_lease(db, lo, err, errlen) : take_named_lock(db, err, errlen);
}

static int lost_error(char *err, size_t errlen)
{
	snprintf(err, errlen,
		 "the migration lease expired and another migrator holds it: the lease was not "
		 "renewed for %d s; run lector --migrate again once it is done",
		 MIGRATE_LEASE_S);
	return -EBUSY;
}

/* Renew: the lease is still ours, for MIGRATE_LEASE_S more. */
static int renew_lock(MYSQL *db, const struct lease_owner *lo, char *err, size_t errlen)
{
	int rc = 2;

	if (!lo->token[0])
		return 0;
	for (int i = 0; rc == 2 && i < 20; i++) {
		if (i)
			nanosleep(&(struct timespec){.tv_nsec = 250 * 1000 * 1000}, NULL);
		rc = lease_try(db, lo, err, errlen);
	}
	if (rc == 1)
		return lost_error(err, errlen);
	if (rc == 2)
		snprintf(err + strlen(err), errlen - strlen(err),
			 " (renewing the migration lease)");
	return rc == 2 ? -EIO : rc;
}

static void release_lock(MYSQL *db, const struct lease_owner *lo, char *err, size_t errlen)
{
	const struct db_param me[1] = {DB_STR(lo->token)};
	char sql[256];

	if (lo->token[0]) {
		snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE id = 1 AND owner = ?", lo->table);
		db_query_rows(db, sql, me, 1, NULL, NULL, err, errlen);
	} else {
		run_sql(db, "DO RELEASE_LOCK('memprobe_migrate')", err, errlen);
	}
}

/*
 * While a migration runs (021 rebuilds calls: it may take longer than the
 * lease), a thread renews the lease every MIGRATE_RENEW_S through a
 * connection of its own, the migrating one being busy with the DDL.  If
 * it finds the lease taken (it could not renew for MIGRATE_LEASE_S) it
 * says so and the migrator stops before its next migration.
 */
#define MIGRATE_RENEW_S 60

struct renewer {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop, lost, running;
	const struct lector_config *cfg;
	const struct lease_owner *lo;
};

static void *renew_main(void *arg)
{
	struct renewer *r = arg;
	MYSQL *db = NULL;
	struct timespec at;

	pthread_mutex_lock(&r->mu);
	while (!r->stop && !r->lost) {
		char err[512];
		int rc;

		clock_gettime(CLOCK_REALTIME, &at);
		at.tv_sec += MIGRATE_RENEW_S;
		while (!r->stop && pthread_cond_timedwait(&r->cv, &r->mu, &at) != ETIMEDOUT)
			;
		if (r->stop)
			break;
		pthread_mutex_unlock(&r->mu);
		if (!db)
			db = db_connect_config(r->cfg, 10, 30, err, sizeof(err));
		rc = db ? renew_lock(db, r->lo, err, sizeof(err)) : -EIO;
		if (rc < 0 && rc != -EBUSY && db) {
			mysql_close(db); /* a fresh connection next time */
			db = NULL;
		}
		if (rc < 0)
			fprintf(stderr, "lector: renewing the migration lease: %s\n", err);
		pthread_mutex_lock(&r->mu);
		if (rc == -EBUSY)
			r->lost = true;
	}
	pthread_mutex_unlock(&r->mu);
	if (db)
		mysql_close(db);
	return NULL;
}

static void renewer_start(struct renewer *r, const struct lector_config *c,
			  const struct lease_owner *lo)
{
	*r = (struct renewer){.cfg = c, .lo = lo};
	if (!c || !lo->token[0])
		return;
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	r->running = pthread_create(&r->th, NULL, renew_main, r) == 0;
}

static bool renewer_lost(struct renewer *r)
{
	bool lost;

	if (!r->running)
		return r->lost;
	pthread_mutex_lock(&r->mu);
	lost = r->lost;
	pthread_mutex_unlock(&r->mu);
	return lost;
}

/* Stops the thread; then renewer_lost reads r->lost without the lock. */
static void renewer_stop(struct renewer *r)
{
	if (!r->running)
		return;
	pthread_mutex_lock(&r->mu);
	r->stop = true;
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
	pthread_join(r->th, NULL);
	pthread_cond_destroy(&r->cv);
	pthread_mutex_destroy(&r->mu);
	r->running = false;
}

/* c: the settings a renewing thread connects with (NULL: renew only
 * between migrations, on db). */
static int apply_all(MYSQL *db, const struct lector_config *c, char *err, size_t errlen)
{
	struct lease_owner lo;
	struct renewer r;
	long have;
	int rc = 0;

	rc = take_lock(db, &lo, err, errlen);
	if (rc < 0)
		return rc;
	renewer_start(&r, c, &lo);
	have = applied_version(db, err, errlen);
	if (have < 0) {
		rc = (int)have;
		goto out;
	}
	if (have > (long)migrate_known_version()) {
		rc = newer_error(have, err, errlen);
		goto out;
	}
	for (unsigned int i = 0; i < migrations_count && rc == 0; i++) {
		if (migrations[i].version <= (unsigned long)have)
			continue;
		if (renewer_lost(&r))
			rc = lost_error(err, errlen);
		else if (!r.running)
			rc = renew_lock(db, &lo, err, errlen);
		if (rc < 0)
			break;
		fprintf(stderr, "lector: applying migration %s\n", migrations[i].name);
		rc = apply_one(db, &migrations[i], err, errlen);
	}
out:
	renewer_stop(&r);
	if (rc == 0 && renewer_lost(&r))
		rc = lost_error(err, errlen);
	release_lock(db, &lo, err + strlen(err), errlen - strlen(err));
	return rc;
}

int migrate_apply(MYSQL *db, char *err, size_t errlen)
{
	return apply_all(db, NULL, err, errlen);
}

int migrate_check(MYSQL *db, char *err, size_t errlen)
{
	long have = applied_version(db, err, errlen);

	if (have < 0)
		return (int)have;
	if (have > (long)migrate_known_version())
		return newer_error(have, err, errlen);
	if (have < (long)migrate_known_version()) {
		snprintf(
		    err, errlen,
		    "database schema is version %ld, lector needs %u: run 'lector --migrate' first",
		    have, migrate_known_version());
		return -ENOENT;
	}
	return 0;
}

int db_migrate_config(const struct lector_config *c, char *err, size_t errlen)
{
	MYSQL *db = db_connect_config(c, 0, 0, err, errlen);
	int rc;

	if (!db)
		return -ECONNREFUSED;
	rc = apply_all(db, c, err, errlen);
	mysql_close(db);
	return rc;
}
