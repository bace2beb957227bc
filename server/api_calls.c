/*
 * api_calls.c - /api/calls: captured calls newest first, keyset
 * paginated on cid (the commit-ordered id of migration 010), so page N
 * costs the same as page 1 and rows committed meanwhile never shift a
 * page.  The row format is shared with the SSE stream (sse.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"

#define HOST_CHARSET "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_"

static const char *const call_names[] = {"mmap", "munmap", "mremap", "brk", "exec", "exit", NULL};

static void add_hex(cJSON *o, const char *key, const char *dec)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "0x%llx", strtoull(dec, NULL, 10));
	cJSON_AddStringToObject(o, key, buf);
}

/* One calls row (calls_columns order).  Addresses and the session id are
 * strings: JSON numbers lose precision above 2^53. */
cJSON *calls_row_json(char **c, unsigned long *len)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "id", strtod(c[0], NULL));
	json_add_bytes_str(o, "host", c[1], len[1]);
	add_hex(o, "session", c[2]);
	cJSON_AddNumberToObject(o, "seq", strtod(c[3], NULL));
	json_add_int_raw(o, "ts_ns", c[4]);
	cJSON_AddNumberToObject(o, "pid", strtod(c[5], NULL));
	cJSON_AddNumberToObject(o, "tid", strtod(c[6], NULL));
	cJSON_AddNumberToObject(o, "uid", strtod(c[7], NULL));
	cJSON_AddStringToObject(o, "start_ns", c[8]);
	json_add_bytes_str(o, "name", c[9], len[9]);
	json_add_bytes_str(o, "thread_name", c[10], len[10]);
	cJSON_AddStringToObject(o, "call", c[11]);
	add_hex(o, "addr", c[12]);
	cJSON_AddNumberToObject(o, "len_bytes", strtod(c[13], NULL));
	add_hex(o, "new_addr", c[14]);
	cJSON_AddNumberToObject(o, "new_len_bytes", strtod(c[15], NULL));
	cJSON_AddNumberToObject(o, "offset_bytes", strtod(c[16], NULL));
	cJSON_AddNumberToObject(o, "prot", strtod(c[17], NULL));
	cJSON_AddNumberToObject(o, "flags", strtod(c[18], NULL));
	cJSON_AddNumberToObject(o, "fd", strtod(c[19], NULL));
	if (c[20][0] == '-') {
		cJSON_AddNumberToObject(o, "error", -strtod(c[20], NULL));
		cJSON_AddBoolToObject(o, "ok", 0);
	} else {
		/* brk never returns -errno: a refused brk returns the old break,
		 * which differs from the requested one (addr 0 is a query). */
		int refused_brk = !strcmp(c[11], "brk") && strtoull(c[12], NULL, 10) != 0 &&
				  strcmp(c[12], c[20]) != 0;

		add_hex(o, "result", c[20]);
		cJSON_AddBoolToObject(o, "ok", !refused_brk);
	}
	cJSON_AddNumberToObject(o, "vm_size_bytes", strtod(c[21], NULL));
	return o;
}

/* The index is forced: on a freshly bulk-loaded table the optimizer was
 * seen to pick a plan that took seconds for "newest 100 rows". */
#define CALLS_SQL(index)                                                                           \
	"SELECT STRAIGHT_JOIN " CALLS_COLUMNS " FROM calls c FORCE INDEX (" index ")"              \
	" JOIN hosts h ON h.host_id = c.host_id"                                                   \
	" WHERE (? = 0 OR c.cid < ?) AND (? = '' OR h.name = ?) AND (? = 0 OR c.pid = ?)"          \
	" AND (? = '' OR c.syscall = ?) AND (? = 0 OR c.ts_ns >= ?)"                               \
	" AND (? = 0 OR c.ts_ns < ?) ORDER BY c.cid DESC LIMIT ?"
static const char calls_all_sql[] = CALLS_SQL("by_cid");
static const char calls_by_pid_sql[] = CALLS_SQL("by_pid_cid");

struct page {
	cJSON *rows;
	uint64_t last_cid;
};

static int add_call(void *arg, char **c, unsigned long *len, unsigned int n)
{
	struct page *pg = arg;

	(void)n;
	cJSON_AddItemToArray(pg->rows, calls_row_json(c, len));
	pg->last_cid = strtoull(c[0], NULL, 10);
	return 0;
}

int api_calls(struct req *r)
{
	static const char *const allowed[] = {"host",	  "pid",    "call",  "since_ns",
					      "until_ns", "before", "limit", NULL};
	uint64_t pid, since_ns, until_ns, before, limit;
	char host[65], err[256];
	const char *call = "";
	struct page pg = {0};
	struct db_param p[13];
	int ci, rc;
	cJSON *o;

	if (http_check_params(r, allowed) ||
	    param_str(r, "host", host, sizeof(host), HOST_CHARSET) < 0 ||
	    param_u64(r, "pid", 1, 4194304, 0, &pid) ||
	    param_enum(r, "call", call_names, -1, &ci) ||
	    param_u64(r, "since_ns", 1, INT64_MAX, 0, &since_ns) ||
	    param_u64(r, "until_ns", 1, INT64_MAX, 0, &until_ns) ||
	    param_u64(r, "before", 1, INT64_MAX, 0, &before) ||
	    param_u64(r, "limit", 1, 1000, 100, &limit))
		return 400;
	if (since_ns && until_ns && until_ns <= since_ns)
		return http_send_error(r->conn, 400, "bad parameter", "until_ns",
				       "must be greater than since_ns");
	if (ci >= 0)
		call = call_names[ci];
	p[0] = DB_U64(before);
	p[1] = DB_U64(before);
	p[2] = DB_STR(host);
	p[3] = DB_STR(host);
	p[4] = DB_U64(pid);
	p[5] = DB_U64(pid);
	p[6] = DB_STR(call);
	p[7] = DB_STR(call);
	p[8] = DB_U64(since_ns);
	p[9] = DB_U64(since_ns);
	p[10] = DB_U64(until_ns);
	p[11] = DB_U64(until_ns);
	p[12] = DB_U64(limit);
	pg.rows = cJSON_CreateArray();
	rc = db_select(r->db, pid ? calls_by_pid_sql : calls_all_sql, p, 13, add_call, &pg, err,
		       sizeof(err));
	if (rc < 0) {
		cJSON_Delete(pg.rows);
		return http_db_error(r, rc, err);
	}
	o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "calls", pg.rows);
	cJSON_AddNumberToObject(o, "limit", (double)limit);
	/* A full page may have more behind it: hand out the cursor. */
	if ((uint64_t)cJSON_GetArraySize(pg.rows) == limit)
		cJSON_AddNumberToObject(o, "next_before", (double)pg.last_cid);
	else
		cJSON_AddNullToObject(o, "next_before");
	return http_send_json(r->conn, 200, o);
}
