/*
 * host.c - the hosts table: a host's id by its name, and a lector's
 * registration of its own host (host.h).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_core.h"
#include "host.h"

#define HOST_FIND_SQL "SELECT host_id FROM hosts WHERE name=?"

static void meminfo(uint64_t *mem_total_bytes, uint64_t *swap_total_bytes)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[256];
	unsigned long long kib;

	*mem_total_bytes = *swap_total_bytes = 0;
	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "MemTotal: %llu kB", &kib) == 1)
			*mem_total_bytes = kib * 1024;
		else if (sscanf(line, "SwapTotal: %llu kB", &kib) == 1)
			*swap_total_bytes = kib * 1024;
	}
	if (f)
		fclose(f);
}

/* Run SQL with (name[, mem, swap]) bound; with out, fetch one u32 column. */
static int host_stmt(MYSQL *db, const char *sql, const char *name, uint64_t *mem_swap,
		     unsigned int *out, char *err, size_t errlen)
{
	MYSQL_STMT *s = mysql_stmt_init(db);
	MYSQL_BIND b[3], res;
	unsigned long name_len = strlen(name);
	int rc = -EIO;

	memset(b, 0, sizeof(b));
	b[0].buffer_type = MYSQL_TYPE_STRING;
	b[0].buffer = (void *)name;
	b[0].length = &name_len;
	for (int i = 1; i < 3; i++) {
		b[i].buffer_type = MYSQL_TYPE_LONGLONG;
		b[i].buffer = mem_swap ? &mem_swap[i - 1] : NULL;
		b[i].is_unsigned = true;
	}
	memset(&res, 0, sizeof(res));
	res.buffer_type = MYSQL_TYPE_LONG;
	res.buffer = out;
	res.is_unsigned = true;
	if (!s || mysql_stmt_prepare(s, sql, strlen(sql)) || mysql_stmt_bind_param(s, b) ||
	    mysql_stmt_execute(s))
		goto out;
	rc = 0;
	if (out) {
		if (mysql_stmt_store_result(s) || mysql_stmt_bind_result(s, &res))
			rc = -EIO;
		else
			rc = mysql_stmt_fetch(s) == 0 ? 1 : 0;
	}
out:
	if (rc < 0) {
		unsigned int code = s ? mysql_stmt_errno(s) : mysql_errno(db);

		snprintf(err, errlen, "registering host '%s': %s", name,
			 s ? mysql_stmt_error(s) : mysql_error(db));
		if (code == 1213 || code == 1205) /* deadlock, lock wait timeout */
			rc = -EAGAIN;
	}
	if (s)
		mysql_stmt_close(s);
	return rc;
}

/* Find or create this host's row.  Looked up first: an INSERT ... ON
 * DUPLICATE KEY UPDATE would burn a SMALLINT AUTO_INCREMENT value at every
 * reconnect.  Two lectors registering at once may both insert: INSERT
 * IGNORE lets one win and both read the same id.  A deadlock between
 * concurrent first registrations is retried. */
int db_host_register(MYSQL *db, const char *name, unsigned int *host_id, char *err, size_t errlen)
{
	static const char ins[] =
	    "INSERT IGNORE INTO hosts (name, mem_total_bytes, swap_total_bytes) VALUES (?,?,?)";
	static const char upd[] = "UPDATE hosts SET mem_total_bytes=?, swap_total_bytes=?, "
				  "last_seen=NOW(6) WHERE host_id=?";
	uint64_t ms[2];
	unsigned int id = 0;
	char why[256];
	int rc = -EAGAIN;

	meminfo(&ms[0], &ms[1]);
	for (int attempt = 0; attempt < 5 && rc == -EAGAIN; attempt++) {
		rc = host_stmt(db, HOST_FIND_SQL, name, NULL, &id, err, errlen);
		if (rc == 0 && (rc = host_stmt(db, ins, name, ms, NULL, err, errlen)) == 0)
			rc = host_stmt(db, HOST_FIND_SQL, name, NULL, &id, err, errlen);
		if (rc == 0) {
			snprintf(err, errlen, "registering host '%s': no row after insert", name);
			rc = -EIO;
		}
		if (rc == 1) {
			const struct db_param up[3] = {DB_U64(ms[0]), DB_U64(ms[1]), DB_U64(id)};

			rc = db_query_rows(db, upd, up, 3, NULL, NULL, why, sizeof(why));
			if (rc == 0 && mysql_commit(db)) {
				snprintf(why, sizeof(why), "%s", mysql_error(db));
				rc = -EIO;
			}
			if (rc < 0) {
				snprintf(err, errlen, "registering host '%s': %s", name, why);
				rc = -EIO;
			}
		}
		if (rc < 0)
			mysql_rollback(db);
	}
	if (rc == 0)
		*host_id = id;
	return rc == -EAGAIN ? -EIO : rc;
}

int db_host_find(MYSQL *db, const char *name, unsigned int *host_id, char *err, size_t errlen)
{
	unsigned int id = 0;
	int rc = host_stmt(db, HOST_FIND_SQL, name, NULL, &id, err, errlen);

	if (rc == 1)
		*host_id = id;
	return rc;
}
