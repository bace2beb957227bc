/*
 * sink_mysql_names.c - the cgroups and files tables (migration 017): the
 * names lector's resolver found (resolve.h), written in bulk, column-wise,
 * in a short transaction right after the commit of the calls that carried
 * the ids.
 *
 * A row met again keeps what an earlier lookup found when the new one
 * found nothing: a file keeps its path (a path found replaces it: an
 * inode number is reused once its file is deleted, and the resolver
 * looks files up again every RESOLVE_FORGET_NS), and its resolved_ns is
 * the last lookup's (retention purges by it); a cgroup keeps a path found
 * since this boot (ids start again at a reboot; a restarted lector
 * replaying old records may look up a cgroup removed meanwhile).  MariaDB
 * evaluates the assignments of ON DUPLICATE KEY UPDATE from left to
 * right, each seeing the ones before: the column the conditions read
 * (path) is assigned last.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "db_core.h"
#include "sink_mysql_stmt.h"

#define NAMES_CHUNK_ROWS 256

#define CG_KEEP "(VALUES(path) IS NULL AND path IS NOT NULL AND resolved_ns >= %llu)"

/* Wall-clock ns of this boot (CLOCK_REALTIME - CLOCK_BOOTTIME). */
static unsigned long long boot_wall_ns(void)
{
	struct timespec t;
	uint64_t up;

	clock_gettime(CLOCK_BOOTTIME, &t);
	up = (uint64_t)t.tv_sec * 1000000000ULL + (uint64_t)t.tv_nsec;
	return (unsigned long long)(wall_ns() - up);
}

int names_prepare(struct mysql_stmts *st, MYSQL *db, unsigned int host_id, char *err,
		  size_t errlen)
{
	unsigned long long boot = boot_wall_ns();
	char sql[1024], why[256];

	/* host_id and boot: numbers of our own, part of the text */
	snprintf(sql, sizeof(sql),
		 "INSERT INTO cgroups (host_id, cgroup_id, path, name, kind, resolved_ns) VALUES "
		 "(%u,?,?,?,?,?) ON DUPLICATE KEY UPDATE name = IF(" CG_KEEP ", name, VALUES(name)), "
		 "kind = IF(" CG_KEEP ", kind, VALUES(kind)), path = IF(" CG_KEEP
		 ", path, VALUES(path)), resolved_ns = IF(path <=> VALUES(path), "
		 "VALUES(resolved_ns), resolved_ns)",
		 host_id, boot, boot, boot);
	st->cgroups = db_prepare(db, sql, why, sizeof(why));
	snprintf(sql, sizeof(sql),
		 "INSERT INTO files (host_id, file_dev, file_ino, path, how, resolved_ns) VALUES "
		 "(%u,?,?,?,?,?) ON DUPLICATE KEY UPDATE "
		 "how = IF(path IS NULL OR VALUES(path) IS NOT NULL, VALUES(how), how), "
		 "resolved_ns = VALUES(resolved_ns), "
		 "path = IF(VALUES(path) IS NULL, path, VALUES(path))",
		 host_id);
	st->files = st->cgroups ? db_prepare(db, sql, why, sizeof(why)) : NULL;
	if (!st->files) {
		snprintf(err, errlen, "preparing the cgroups/files statements: %s", why);
		return -EIO;
	}
	return 0;
}

void names_close(struct mysql_stmts *st)
{
	if (st->cgroups)
		mysql_stmt_close(st->cgroups);
	if (st->files)
		mysql_stmt_close(st->files);
	st->cgroups = st->files = NULL;
}

/* Column-wise rows of one chunk: two numbers, a path that may be NULL, a
 * name (cgroups only), the ENUM's index, the time. */
struct names_cols {
	uint64_t key[2][NAMES_CHUNK_ROWS], kind[NAMES_CHUNK_ROWS], ns[NAMES_CHUNK_ROWS];
	const char *path[NAMES_CHUNK_ROWS], *name[NAMES_CHUNK_ROWS];
	unsigned long path_len[NAMES_CHUNK_ROWS], name_len[NAMES_CHUNK_ROWS];
	char path_null[NAMES_CHUNK_ROWS];
};

static void bind_u64s(MYSQL_BIND *b, uint64_t *v)
{
	b->buffer_type = MYSQL_TYPE_LONGLONG;
	b->buffer = v;
	b->is_unsigned = 1;
}

static void bind_strs(MYSQL_BIND *b, const char **v, unsigned long *len, char *ind)
{
	b->buffer_type = MYSQL_TYPE_BLOB;
	b->buffer = (void *)v;
	b->length = len;
	b->u.indicator = ind;
}

static int cols_execute(MYSQL_STMT *s, struct names_cols *c, unsigned int rows, bool with_name)
{
	MYSQL_BIND b[6], *p = b;

	memset(b, 0, sizeof(b));
	bind_u64s(p++, c->key[0]);
	if (with_name) /* cgroups: id, path, name, kind, ns */
		bind_strs(p++, c->path, c->path_len, c->path_null);
	else /* files: dev, ino, path, how, ns */
		bind_u64s(p++, c->key[1]);
	bind_strs(p++, with_name ? c->name : c->path, with_name ? c->name_len : c->path_len,
		  with_name ? NULL : c->path_null);
	bind_u64s(p++, c->kind);
	bind_u64s(p++, c->ns);
	if (mysql_stmt_attr_set(s, STMT_ATTR_ARRAY_SIZE, &rows) || mysql_stmt_bind_param(s, b) ||
	    mysql_stmt_execute(s))
		return -EIO;
	return 0;
}

static void set_path(struct names_cols *c, unsigned int i, const char *path)
{
	c->path[i] = path ? path : "";
	c->path_len[i] = path ? strlen(path) : 0;
	c->path_null[i] = path ? STMT_INDICATOR_NONE : STMT_INDICATOR_NULL;
}

int names_write(struct mysql_stmts *st, const struct names_batch *nb)
{
	struct names_cols *c = malloc(sizeof(*c));
	size_t i = 0;
	int rc = 0;

	if (!c)
		return -ENOMEM;
	while (rc == 0 && i < nb->n_cgroups) {
		unsigned int n = 0;

		for (; i < nb->n_cgroups && n < NAMES_CHUNK_ROWS; i++, n++) {
			const struct cgroup_row *r = &nb->cgroups[i];

			c->key[0][n] = r->id;
			set_path(c, n, r->path);
			c->name[n] = r->name;
			c->name_len[n] = strlen(r->name);
			c->kind[n] = r->kind;
			c->ns[n] = r->resolved_ns;
		}
		rc = cols_execute(st->cgroups, c, n, true);
	}
	for (i = 0; rc == 0 && i < nb->n_files;) {
		unsigned int n = 0;

		for (; i < nb->n_files && n < NAMES_CHUNK_ROWS; i++, n++) {
			const struct file_row *r = &nb->files[i];

			c->key[0][n] = r->dev;
			c->key[1][n] = r->ino;
			set_path(c, n, r->path);
			c->kind[n] = r->how;
			c->ns[n] = r->resolved_ns;
		}
		rc = cols_execute(st->files, c, n, false);
	}
	free(c);
	return rc;
}
