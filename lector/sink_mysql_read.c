/*
 * sink_mysql_read.c - what the MySQL sink reads back: this host's id (and
 * its memory size for "% of system VM"), a session's resume point, and the
 * live processes of a previous run (resume after restart or kill -9), their
 * ranges read by sink_mysql_ranges.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sink_mysql_stmt.h"

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
int stmts_host_id(MYSQL *db, const char *name, unsigned int *host_id, char *err, size_t errlen)
{
	static const char sel[] = "SELECT host_id FROM hosts WHERE name=?";
	static const char ins[] =
	    "INSERT IGNORE INTO hosts (name, mem_total_bytes, swap_total_bytes) VALUES (?,?,?)";
	uint64_t ms[2];
	unsigned int id = 0;
	char sql[192];
	int rc = -EAGAIN;

	meminfo(&ms[0], &ms[1]);
	for (int attempt = 0; attempt < 5 && rc == -EAGAIN; attempt++) {
		rc = host_stmt(db, sel, name, NULL, &id, err, errlen);
		if (rc == 0 && (rc = host_stmt(db, ins, name, ms, NULL, err, errlen)) == 0)
			rc = host_stmt(db, sel, name, NULL, &id, err, errlen);
		if (rc == 0) {
			snprintf(err, errlen, "registering host '%s': no row after insert", name);
			rc = -EIO;
		}
		if (rc == 1) {
			/* numbers we computed ourselves: plain text is safe */
			snprintf(sql, sizeof(sql),
				 "UPDATE hosts SET mem_total_bytes=%" PRIu64 ", swap_total_bytes=%" PRIu64
				 ", last_seen=NOW(6) WHERE host_id=%u",
				 ms[0], ms[1], id);
			rc = mysql_query(db, sql) || mysql_commit(db) ? -EIO : 0;
			if (rc < 0)
				snprintf(err, errlen, "registering host '%s': %s", name,
					 mysql_error(db));
		}
		if (rc < 0)
			mysql_rollback(db);
	}
	if (rc == 0)
		*host_id = id;
	return rc == -EAGAIN ? -EIO : rc;
}

int stmts_committed_seq(MYSQL *db, unsigned int host_id, uint64_t session, uint64_t *seq)
{
	char sql[256];
	MYSQL_RES *res;
	MYSQL_ROW row;
	int found = 0;

	snprintf(sql, sizeof(sql),
		 "SELECT committed_seq FROM capture_stats WHERE host_id=%u AND session=%" PRIu64
		 " AND rows_committed > 0",
		 host_id, session);
	if (mysql_query(db, sql) || !(res = mysql_store_result(db)))
		return -EIO;
	row = mysql_fetch_row(res);
	if (row && row[0]) {
		*seq = strtoull(row[0], NULL, 10);
		found = 1;
	}
	mysql_free_result(res);
	mysql_commit(db);
	return found;
}

/* rows_committed of a session (0 when it has no row). */
int stmts_session_rows(MYSQL *db, unsigned int host_id, uint64_t session, uint64_t *rows)
{
	char sql[256];
	MYSQL_RES *res;
	MYSQL_ROW row;

	snprintf(sql, sizeof(sql),
		 "SELECT rows_committed FROM capture_stats WHERE host_id=%u AND session=%" PRIu64,
		 host_id, session);
	if (mysql_query(db, sql) || !(res = mysql_store_result(db)))
		return -EIO;
	row = mysql_fetch_row(res);
	*rows = row && row[0] ? strtoull(row[0], NULL, 10) : 0;
	mysql_free_result(res);
	mysql_commit(db);
	return 0;
}

static uint64_t u64(const char *s)
{
	return s ? strtoull(s, NULL, 10) : 0;
}

static void restore_row(struct acct_proc *p, MYSQL_ROW row, unsigned long *len)
{
	memset(p, 0, sizeof(*p));
	p->pid = (uint32_t)u64(row[0]);
	p->start_ns = u64(row[1]);
	p->uid = (uint32_t)u64(row[2]);
	memcpy(p->comm, row[3], len[3] < MEMPROBE_COMM_LEN ? len[3] : MEMPROBE_COMM_LEN);
	p->first_seen_ns = u64(row[4]);
	p->last_seen_ns = u64(row[5]);
	p->net_bytes = row[6] ? strtoll(row[6], NULL, 10) : 0;
	p->vm_size_bytes = u64(row[7]);
	p->requested_bytes = u64(row[8]);
	p->heap_bytes = u64(row[9]);
	p->heap_base_bytes = u64(row[10]);
	p->heap_known = u64(row[11]) != 0;
	for (int i = 0; i < ACCT_N_MAX; i++)
		p->count[i] = u64(row[12 + i]);
	range_set_init(&p->mapped);
}

/* This host's live processes, in key order (pid, start_ns); *n of them. */
static int read_procs(MYSQL *db, unsigned int host_id, struct acct_proc **procs, size_t *n)
{
	char sql[512];
	MYSQL_RES *res;
	MYSQL_ROW row;
	size_t cap = 0;
	int rc = 0;

	*procs = NULL;
	*n = 0;
	snprintf(sql, sizeof(sql),
		 "SELECT pid, start_ns, uid, comm, first_seen_ns, last_seen_ns, net_bytes_raw, "
		 "vm_size_bytes, requested_bytes, heap_bytes, heap_base_bytes, heap_known, n_mmap, "
		 "n_munmap, n_mremap, n_brk, n_failed FROM processes "
		 "WHERE host_id=%u AND exited=0 ORDER BY pid, start_ns",
		 host_id);
	if (mysql_query(db, sql) || !(res = mysql_use_result(db)))
		return -EIO;
	while ((row = mysql_fetch_row(res)) && rc == 0) {
		if (*n == cap) {
			struct acct_proc *more =
			    realloc(*procs, (cap ? 2 * cap : 256) * sizeof(*more));

			if (!more) {
				rc = -ENOMEM;
				break;
			}
			*procs = more;
			cap = cap ? 2 * cap : 256;
		}
		restore_row(&(*procs)[(*n)++], row, mysql_fetch_lengths(res));
	}
	if (rc == 0 && mysql_errno(db))
		rc = -EIO;
	mysql_free_result(res);
	return rc;
}

/* Returns how many processes were restored, with their ranges. */
int stmts_restore_procs(MYSQL *db, unsigned int host_id, struct acct *a)
{
	struct acct_proc *procs;
	size_t n;
	int rc = read_procs(db, host_id, &procs, &n), restored = 0;

	if (rc == 0)
		rc = ranges_restore(db, host_id, procs, n);
	for (size_t i = 0; i < n; i++) {
		if (rc == 0 && acct_restore(a, &procs[i]) == 0) {
			restored++;
			continue; /* acct owns the ranges now */
		}
		range_set_free(&procs[i].mapped);
	}
	free(procs);
	return rc < 0 ? rc : restored;
}
