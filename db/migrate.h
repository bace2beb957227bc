/*
 * migrate.h - schema migrations compiled into lector (migrations/NNN_name.sql,
 * embedded at build time by migrations/embed.sh), applied in order and
 * recorded in schema_migrations.
 */
#ifndef MEMPROBE_MIGRATE_H
#define MEMPROBE_MIGRATE_H

#include <stddef.h>
#include <mysql.h>

#include "config.h"

struct migration {
	unsigned int version;
	const char *name;
	const char *sql;
};

extern const struct migration migrations[];
extern const unsigned int migrations_count;

/* Newest schema version this binary knows. */
unsigned int migrate_known_version(void);

/* Apply every missing migration (safe to run twice, serialized with a
 * named lock).  -EPROTO if the database is newer than this binary. */
int migrate_apply(MYSQL *db, char *err, size_t errlen);

/* 0 when the schema is exactly the known version; -EPROTO when newer,
 * -ENOENT when older or empty (run lector --migrate); err says which. */
int migrate_check(MYSQL *db, char *err, size_t errlen);

/* lector --migrate: connect with c's settings, migrate_apply, close. */
int db_migrate_config(const struct lector_config *c, char *err, size_t errlen);

#endif
