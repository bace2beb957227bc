/*
 * api_calls.c - /api/calls: captured calls newest first, keyset
 * paginated on cid (the commit-ordered id of migration 010), so page N
 * costs the same as page 1 and rows committed meanwhile never shift a
 * page.  The row format (rows.c) is shared with the event stream.  No
 * row above the watermark (watermark.c) is listed: several lectors commit
 * at once, and a cursor must never pass a cid that can still appear.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host_id.h"
#include "memprobe_abi.h"
#include "rows.h"
#include "server.h"

/* ?call= values: the calls' names (MEMPROBE_CALLS), in their order. */
static const char *const call_names[] = {
#define CALL_NAME(e, v, n) n,
    MEMPROBE_CALLS(CALL_NAME)
#undef CALL_NAME
	NULL};

/* The index is forced: on a freshly bulk-loaded table the optimizer was
 * seen to pick a plan that took seconds for "newest 100 rows". */
#define CALLS_SQL(index)                                                                           \
	"SELECT STRAIGHT_JOIN " CALLS_COLUMNS " FROM calls c FORCE INDEX (" index ")"              \
	" JOIN hosts h ON h.host_id = c.host_id"                                                   \
	" WHERE c.cid <= ? AND (? = 0 OR c.cid < ?) AND (? = '' OR h.name = ?) AND (? = 0 OR "     \
	"c.pid = ?)"                                                                               \
	" AND (? = '' OR c.syscall = ?) AND (? = 0 OR c.ts_ns >= ?)"                               \
	" AND (? = 0 OR c.ts_ns < ?) ORDER BY c.cid DESC LIMIT ?"
static const char calls_all_sql[] = CALLS_SQL("PRIMARY"); /* cid (migration 018) */
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
	char host[MP_HOST_ID_MAX + 1], err[256];
	const char *call = "";
	struct page pg = {0};
	struct db_param p[14];
	uint64_t mark = 0;
	int ci, rc;
	cJSON *o;

	if (http_check_params(r, allowed) ||
	    param_str(r, "host", host, sizeof(host), MP_HOST_ID_CHARSET) < 0 ||
	    param_u64(r, "pid", 1, 4194304, 0, &pid) ||
	    param_enum(r, "call", call_names, -1, &ci) ||
	    param_u64(r, "since_ns", 1, INT64_MAX, 0, &since_ns) ||
	    param_u64(r, "until_ns", 1, INT64_MAX, 0, &until_ns) ||
	    param_u64(r, "before", 1, INT64_MAX, 0, &before) ||
	    param_u64(r, "limit", 1, 1000, 100, &limit))
		return 400;
	if (since_ns && until_ns && until_ns <= since_ns)
		return reply_error(r, 400, "bad parameter", "until_ns",
				   "must be greater than since_ns");
	if (ci >= 0)
		call = call_names[ci];
	/* the newest page stops at the watermark: rows still committing
	 * below a newer cid would be skipped by a tailer's next page */
	rc = watermark_read(r->db, &mark, err, sizeof(err));
	if (rc < 0)
		return reply_db_error(r, rc, err);
	p[0] = DB_U64(mark);
	p[1] = DB_U64(before);
	p[2] = DB_U64(before);
	p[3] = DB_STR(host);
	p[4] = DB_STR(host);
	p[5] = DB_U64(pid);
	p[6] = DB_U64(pid);
	p[7] = DB_STR(call);
	p[8] = DB_STR(call);
	p[9] = DB_U64(since_ns);
	p[10] = DB_U64(since_ns);
	p[11] = DB_U64(until_ns);
	p[12] = DB_U64(until_ns);
	p[13] = DB_U64(limit);
	pg.rows = cJSON_CreateArray();
	rc = db_select(r->db, pid ? calls_by_pid_sql : calls_all_sql, p, 14, add_call, &pg, err,
		       sizeof(err));
	if (rc < 0) {
		cJSON_Delete(pg.rows);
		return reply_db_error(r, rc, err);
	}
	o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "calls", pg.rows);
	cJSON_AddNumberToObject(o, "limit", (double)limit);
	/* A full page may have more behind it: hand out the cursor. */
	if ((uint64_t)cJSON_GetArraySize(pg.rows) == limit)
		cJSON_AddNumberToObject(o, "next_before", (double)pg.last_cid);
	else
		cJSON_AddNullToObject(o, "next_before");
	return reply_json(r, 200, o);
}
