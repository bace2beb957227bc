/*
 * migrate.c - apply and check schema migrations.
 *
 * DDL in MariaDB commits implicitly, so a migration is not atomic with its
 * schema_migrations row: every migration is written to be safe to run
 * again (IF NOT EXISTS), and GET_LOCK keeps two lectors from racing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_core.h"
#include "migrate.h"

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
	return db_query_rows(db, "INSERT IGNORE INTO schema_migrations (version, name) VALUES (?, ?)",
			     row, 2, NULL, NULL, err, errlen);
}

/* One migrator at a time.  A lock not granted within 30 s is an error,
 * not a licence to migrate concurrently with whoever holds it. */
static int take_lock(MYSQL *db, char *err, size_t errlen)
{
	uint64_t got = 0;
	char why[256];

	if (db_query_u64(db, "SELECT GET_LOCK('memprobe_migrate', 30)", NULL, 0, &got, 1, why,
			 sizeof(why)) < 0) {
		snprintf(err, errlen, "cannot take the migration lock: %s", why);
		return -EIO;
	}
	if (got != 1) {
		snprintf(err, errlen,
			 "another client has held the migration lock 'memprobe_migrate' for 30 s "
			 "(a lector migrating, or a stuck session: see SHOW PROCESSLIST); retry later");
		return -EBUSY;
	}
	return 0;
}

int migrate_apply(MYSQL *db, char *err, size_t errlen)
{
	long have;
	int rc = 0;

	rc = take_lock(db, err, errlen);
	if (rc < 0)
		return rc;
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
		fprintf(stderr, "lector: applying migration %s\n", migrations[i].name);
		rc = apply_one(db, &migrations[i], err, errlen);
	}
out:
	run_sql(db, "DO RELEASE_LOCK('memprobe_migrate')", err + strlen(err), errlen - strlen(err));
	return rc;
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
	rc = migrate_apply(db, err, errlen);
	mysql_close(db);
	return rc;
}
