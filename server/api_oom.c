/*
 * api_oom.c - /api/oom: the kernel's OOM kills, newest first, from lector's
 * oom_kills table (one row per victim, written in the transaction of its
 * calls row): who was killed, in which group, holding what at the kill.
 */
#include <stdio.h>
#include <stdlib.h>

#include "host_id.h"
#include "rows.h"
#include "server.h"

/* host ('' = all), pid (0 = all), since_ns (0 = all). */
#define OOM_WHERE                                                                                  \
	" FROM oom_kills o JOIN hosts h ON h.host_id = o.host_id" OOM_GROUP_JOIN                   \
	" WHERE (? = '' OR h.name = ?) AND (? = 0 OR o.pid = ?) AND (? = 0 OR o.ts_ns >= ?)"
#define OOM_WHERE_PARAMS  6
#define OOM_GROUP_JOIN	  GROUP_JOIN("o")
#define OOM_GROUP_COLUMNS GROUP_COLUMNS("o")
/* The columns oom_row_add() reads. */
#define OOM_COLUMNS                                                                                \
	"h.name, o.ts_ns, o.pid, o.start_ns, o.uid, o.comm, " OOM_GROUP_COLUMNS                    \
	", o.rss_anon_bytes + o.rss_file_bytes + o.rss_shmem_bytes, o.rss_anon_bytes,"             \
	" o.rss_file_bytes, o.rss_shmem_bytes, o.swap_bytes, o.total_vm_bytes, o.session, o.seq"

static const char oom_sql[] =
    "SELECT STRAIGHT_JOIN " OOM_COLUMNS OOM_WHERE
    " ORDER BY o.ts_ns DESC, o.host_id, o.session, o.seq LIMIT ? OFFSET ?";
/* One kill by its identity, with its host_id and its calls row's cid
 * (NULL: purged) after the columns oom_row_add reads. */
const char oom_one_sql[] =
    "SELECT STRAIGHT_JOIN " OOM_COLUMNS ", o.host_id, (SELECT c.cid FROM calls c"
    " WHERE c.host_id = o.host_id AND c.session = o.session AND c.seq = o.seq)"
    " FROM oom_kills o JOIN hosts h ON h.host_id = o.host_id" OOM_GROUP_JOIN
    " WHERE h.name = ? AND o.session = ? AND o.seq = ?";
static const char oom_count_sql[] = "SELECT STRAIGHT_JOIN COUNT(*)" OOM_WHERE;

int oom_row_add(void *arg, char **c, unsigned long *len, unsigned int n)
{
	cJSON *o = cJSON_CreateObject();
	char hex[24];

	(void)n;
	json_add_bytes_str(o, "host", c[0], len[0]);
	json_add_int_raw(o, "ts_ns", c[1]);
	cJSON_AddNumberToObject(o, "pid", json_num(c[2]));
	cJSON_AddStringToObject(o, "start_ns", c[3]);
	cJSON_AddNumberToObject(o, "uid", json_num(c[4]));
	json_add_bytes_str(o, "name", c[5], len[5]);
	group_json(o, c + 6, len + 6);
	rss_json(o, c + 10);
	json_add_num(o, "vm_size_bytes", c[15]);
	/* the session in hex, as /api/calls and /api/stats give it */
	snprintf(hex, sizeof(hex), "0x%llx", strtoull(c[16], NULL, 10));
	cJSON_AddStringToObject(o, "session", hex);
	cJSON_AddStringToObject(o, "seq", c[17]);
	cJSON_AddItemToArray(arg, o);
	return 0;
}

int api_oom(struct req *r)
{
	static const char *const allowed[] = {"host", "pid", "since_ns", "limit", "offset", NULL};
	char host[MP_HOST_ID_MAX + 1];
	uint64_t pid, since_ns, limit, offset;
	struct db_param p[OOM_WHERE_PARAMS + 2];

	if (http_check_params(r, allowed) ||
	    param_str(r, "host", host, sizeof(host), MP_HOST_ID_CHARSET) < 0 ||
	    param_u64(r, "pid", 1, 4194304, 0, &pid) ||
	    param_u64(r, "since_ns", 1, INT64_MAX, 0, &since_ns) ||
	    param_u64(r, "limit", 1, 1000, 100, &limit) ||
	    param_u64(r, "offset", 0, 1000000, 0, &offset))
		return 400;
	p[0] = DB_STR(host);
	p[1] = DB_STR(host);
	p[2] = DB_U64(pid);
	p[3] = DB_U64(pid);
	p[4] = DB_U64(since_ns);
	p[5] = DB_U64(since_ns);
	p[6] = DB_U64(limit);
	p[7] = DB_U64(offset);
	return reply_list(r, &(struct list_page){.rows_sql = oom_sql,
						 .count_sql = oom_count_sql,
						 .p = p,
						 .n_filter = OOM_WHERE_PARAMS,
						 .n_count = OOM_WHERE_PARAMS,
						 .limit = limit,
						 .offset = offset,
						 .add_row = oom_row_add,
						 .key = "oom_kills"});
}
