/*
 * api_proc.c - /api/processes (list), /api/processes/{pid} (one process;
 * its memory over time is proc_series.c's replay) and /api/top (the pie).  Numbers come from
 * lector's processes rows; "memory held" is net_bytes, which lector
 * already clamps at 0 (net_bytes_raw keeps the signed value).  Resident
 * and swapped bytes are lector's latest reading (the process's last
 * record, or its sampler); the group is the process's cgroup
 * (rows.h, GROUP_NAME).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host_id.h"
#include "rows.h"
#include "server.h"
#include "timetravel.h"

static const char *const sort_names[] = {"net",	 "mapped",    "vm",  "requested", "pid",
					 "name", "last_seen", "rss", "swap",	  NULL};
static const char *const order_names[] = {"desc", "asc", NULL};
static const char *const state_names[] = {"all", "alive", "exited", NULL};

/* host name ('' = all), pid (0 = all), uid (-1 = all), name substring,
 * state, then group name ('' = all): the same twelve parameters in every
 * list query.  Without group=, the count reads no cgroups row (the first
 * ten parameters). */
#define PROC_FILTER                                                                                \
	" WHERE (? = '' OR h.name = ?) AND (? = 0 OR p.pid = ?) AND (? < 0 OR p.uid = ?)"          \
	" AND (? = '' OR LOCATE(?, p.comm) > 0) AND (? = 0 OR p.exited = ? - 1)"
#define PROC_WHERE	  PROC_FROM PROC_FILTER " AND (? = '' OR " PROC_GROUP_NAME " = ?)"
#define PROC_WHERE_PARAMS 12

#define LIST_SQL(col, dir)                                                                         \
	"SELECT STRAIGHT_JOIN " PROC_COLUMNS PROC_WHERE " ORDER BY " col " " dir                   \
	", p.host_id, p.pid, p.start_ns LIMIT ? OFFSET ?"
#define LIST_SQL_BOTH(col)                                                                         \
	{                                                                                          \
		LIST_SQL(col, "DESC"), LIST_SQL(col, "ASC")                                        \
	}
/* [sort][order], in sort_names[] and order_names[] order. */
static const char *const list_sql[9][2] = {
    LIST_SQL_BOTH("p.net_bytes"),     LIST_SQL_BOTH("p.mapped_bytes"),
    LIST_SQL_BOTH("p.vm_size_bytes"), LIST_SQL_BOTH("p.requested_bytes"),
    LIST_SQL_BOTH("p.pid"),	      LIST_SQL_BOTH("p.comm"),
    LIST_SQL_BOTH("p.last_seen_ns"),  LIST_SQL_BOTH("p.rss_bytes"),
    LIST_SQL_BOTH("p.swap_bytes")};
static const char count_sql[] = "SELECT STRAIGHT_JOIN COUNT(*)" PROC_WHERE;
static const char count_all_groups_sql[] = "SELECT STRAIGHT_JOIN COUNT(*) FROM processes p JOIN "
					   "hosts h ON h.host_id = p.host_id" PROC_FILTER;

static int add_proc_row(void *arg, char **c, unsigned long *len, unsigned int n)
{
	(void)n;
	cJSON_AddItemToArray(arg, proc_row_json(c, len));
	return 0;
}

struct proc_filter {
	char host[MP_HOST_ID_MAX + 1], name[17], group[GROUP_NAME_MAX_BYTES + 1];
	uint64_t pid, uid, state;
};

static void filter_params(struct db_param *p, struct proc_filter *f)
{
	p[0] = DB_STR(f->host);
	p[1] = DB_STR(f->host);
	p[2] = DB_U64(f->pid);
	p[3] = DB_U64(f->pid);
	p[4] =
	    (struct db_param){.type = DBP_I64, .i64 = f->uid == UINT64_MAX ? -1 : (int64_t)f->uid};
	p[5] = DB_U64(f->uid == UINT64_MAX ? 0 : f->uid);
	p[6] = DB_STR(f->name);
	p[7] = DB_STR(f->name);
	p[8] = DB_U64(f->state);
	p[9] = DB_U64(f->state);
	p[10] = DB_STR(f->group);
	p[11] = DB_STR(f->group);
}

int api_processes(struct req *r)
{
	static const char *const allowed[] = {"host",  "pid",	"uid",	  "user",  "name",
					      "state", "group", "sort",	  "order", "limit",
					      "offset", "at",	NULL};
	struct proc_filter f;
	struct db_param p[PROC_WHERE_PARAMS + 2];
	uint64_t limit, offset, at;
	int sort, order, state;

	if (http_check_params(r, allowed) ||
	    param_str(r, "host", f.host, sizeof(f.host), MP_HOST_ID_CHARSET) < 0 ||
	    param_u64(r, "pid", 1, 4194304, 0, &f.pid) ||
	    param_u64(r, "uid", 0, 4294967295u, UINT64_MAX, &f.uid) || param_user(r, &f.uid) ||
	    param_str(r, "name", f.name, sizeof(f.name), NULL) < 0 ||
	    param_enum(r, "state", state_names, 0, &state) ||
	    param_str(r, "group", f.group, sizeof(f.group), NULL) < 0 ||
	    param_enum(r, "sort", sort_names, 0, &sort) ||
	    param_enum(r, "order", order_names, 0, &order) ||
	    param_u64(r, "limit", 1, 1000, 100, &limit) ||
	    param_u64(r, "offset", 0, 1000000, 0, &offset) ||
	    param_u64(r, "at", 1, INT64_MAX, 0, &at))
		return 400;
	if (at)
		return api_processes_at(r, &(struct at_list){.host = f.host,
							     .name = f.name,
							     .group = f.group,
							     .sort_name = sort_names[sort],
							     .order_name = order_names[order],
							     .pid = f.pid,
							     .uid = f.uid,
							     .at_ns = at,
							     .limit = limit,
							     .offset = offset,
							     .state = state,
							     .sort = sort,
							     .order = order});
	f.state = (uint64_t)state;
	filter_params(p, &f);
	p[PROC_WHERE_PARAMS] = DB_U64(limit);
	p[PROC_WHERE_PARAMS + 1] = DB_U64(offset);
	return reply_list(r, &(struct list_page){
				 .rows_sql = list_sql[sort][order],
				 .count_sql = f.group[0] ? count_sql : count_all_groups_sql,
				 .p = p,
				 .n_filter = PROC_WHERE_PARAMS,
				 .n_count = f.group[0] ? PROC_WHERE_PARAMS : PROC_WHERE_PARAMS - 2,
				 .limit = limit,
				 .offset = offset,
				 .add_row = add_proc_row,
				 .key = "processes",
				 .sort = sort_names[sort],
				 .order = order_names[order]});
}

static const char one_sql[] =
    "SELECT " PROC_COLUMNS PROC_FROM
    " WHERE p.pid = ? AND (? = '' OR h.name = ?) AND (? = 0 OR p.start_ns = ?)"
    " ORDER BY p.start_ns DESC, p.last_seen_ns DESC LIMIT 1";
static int keep_proc(void *arg, char **c, unsigned long *len, unsigned int n)
{
	char **host = arg;

	(void)n;
	*(cJSON **)(host + 1) = proc_row_json(c, len);
	snprintf(*host, MP_HOST_ID_MAX + 1, "%.*s", (int)len[0], c[0]);
	return 1;
}

/* points is rounded down to 1-2-5 steps (2, 5, 10 ... 5000): the few
 * answers a process can have are cached, whatever the client asks. */
static uint64_t points_step(uint64_t want)
{
	uint64_t step = 2;

	for (uint64_t decade = 1; decade <= 1000; decade *= 10)
		for (uint64_t m = 1; m <= 5; m += m == 2 ? 3 : 1)
			if (m * decade >= 2 && m * decade <= want)
				step = m * decade;
	return step;
}

static int parse_pid_path(struct req *r, uint64_t *pid)
{
	char *end;

	errno = 0;
	*pid = strtoull(r->path_arg, &end, 10);
	/* digits only: strtoull also takes leading blanks ("%0D5"), signs */
	if (isdigit((unsigned char)r->path_arg[0]) && !*end && !errno && *pid >= 1 &&
	    *pid <= 4194304)
		return 0;
	reply_error(r, 400, "bad parameter", "pid",
		    "the path must be /api/processes/PID, PID from 1 to 4194304");
	return -EINVAL;
}

/* /api/processes/{pid}?at=T: the newest process with this pid (and host,
 * start_ns) seen by T, its values at T, its series up to T. */
static int process_at(struct req *r, uint64_t pid, const char *host, uint64_t start_ns,
		      uint64_t points, uint64_t at)
{
	struct tt_query q = {.host = host,
			     .pid = pid,
			     .start_ns = start_ns,
			     .at_ns = at,
			     .max_calls = series_max_calls()};
	const struct tt_proc *best = NULL;
	struct tt_set s;
	char err[256];
	cJSON *proc;
	int rc = tt_states(r->db, &q, &s, err, sizeof(err));

	if (rc < 0)
		return reply_tt_error(r, rc, err);
	best = tt_newest(&s);
	if (!best) {
		tt_set_free(&s);
		return reply_error(r, 404, "no such process", "pid",
				   "no process with this pid (and host/start_ns) was seen at or "
				   "before at");
	}
	proc = tt_proc_json(best);
	tt_add_ns_str(proc, "at_ns", at);
	rc = proc_series_add(r->db, proc, best->host, points, at, err, sizeof(err));
	tt_set_free(&s);
	if (rc < 0) {
		cJSON_Delete(proc);
		return reply_db_error(r, rc, err);
	}
	return reply_json(r, 200, proc);
}

int api_process_one(struct req *r)
{
	static const char *const allowed[] = {"host", "start_ns", "points", "at", NULL};
	char host[MP_HOST_ID_MAX + 1], found_host[MP_HOST_ID_MAX + 1], err[256],
	    key[CACHE_KEY_BYTES];
	void *found[2] = {found_host, NULL};
	uint64_t pid, start_ns, points, at;
	struct db_param p[5];
	const char *body;
	size_t len_bytes;
	void *owner;
	cJSON *proc;
	int rc;

	if (strchr(r->path_arg, '/')) /* /api/processes/PID/mappings */
		return api_mappings(r);
	if (parse_pid_path(r, &pid) || http_check_params(r, allowed) ||
	    param_str(r, "host", host, sizeof(host), MP_HOST_ID_CHARSET) < 0 ||
	    param_u64(r, "start_ns", 1, UINT64_MAX, 0, &start_ns) ||
	    param_u64(r, "points", 2, 5000, 500, &points) ||
	    param_u64(r, "at", 1, INT64_MAX, 0, &at))
		return 400;
	points = points_step(points);
	/* The key from the values, not the query text: no spelling of the
	 * same question (order, repeats, points=499) misses the cache; at=0
	 * is now, never an instant. */
	snprintf(key, sizeof(key), "/api/processes/%llu?host=%s&start_ns=%llu&points=%llu&at=%llu",
		 (unsigned long long)pid, host, (unsigned long long)start_ns,
		 (unsigned long long)points, (unsigned long long)at);
	if (cache_lookup(key, &r->cache, &body, &len_bytes, &owner))
		return reply_borrowed(r, 200, "application/json", body, len_bytes, cache_release,
				      owner);
	if (at)
		return process_at(r, pid, host, start_ns, points, at);
	p[0] = DB_U64(pid);
	p[1] = DB_STR(host);
	p[2] = DB_STR(host);
	p[3] = DB_U64(start_ns);
	p[4] = DB_U64(start_ns);
	rc = db_select(r->db, one_sql, p, 5, keep_proc, found, err, sizeof(err));
	if (rc < 0)
		return reply_db_error(r, rc, err);
	proc = found[1];
	if (!proc)
		return reply_error(r, 404, "no such process", "pid",
				   "no process with this pid (and host/start_ns) was captured");
	rc = proc_series_add(r->db, proc, found_host, points, UINT64_MAX, err, sizeof(err));
	if (rc < 0) {
		cJSON_Delete(proc);
		return reply_db_error(r, rc, err);
	}
	return reply_json(r, 200, proc);
}

#define TOP_WHERE                                                                                  \
	" FROM processes p JOIN hosts h ON h.host_id = p.host_id"                                  \
	" WHERE (? = '' OR h.name = ?) AND p.requested_bytes > 0"
static const char top_sql[] =
    "SELECT STRAIGHT_JOIN h.name, p.pid, p.comm, p.requested_bytes, p.start_ns" TOP_WHERE
    " ORDER BY p.requested_bytes DESC, p.host_id, p.pid, p.start_ns LIMIT 10";
static const char top_sum_sql[] =
    "SELECT STRAIGHT_JOIN COALESCE(SUM(p.requested_bytes), 0), COUNT(*)" TOP_WHERE;

static int add_top_row(void *arg, char **c, unsigned long *len, unsigned int n)
{
	cJSON *o = cJSON_CreateObject();

	(void)n;
	json_add_bytes_str(o, "host", c[0], len[0]);
	cJSON_AddNumberToObject(o, "pid", json_num(c[1]));
	json_add_bytes_str(o, "name", c[2], len[2]);
	cJSON_AddNumberToObject(o, "requested_bytes", json_num(c[3]));
	cJSON_AddStringToObject(o, "start_ns", c[4]);
	cJSON_AddItemToArray(arg, o);
	return 0;
}

int api_top(struct req *r)
{
	static const char *const allowed[] = {"host", NULL};
	char host[MP_HOST_ID_MAX + 1], err[256];
	struct db_param p[2];
	double sum[2] = {0, 0}, top_bytes = 0;
	cJSON *rows = cJSON_CreateArray(), *o, *it;
	int rc;

	if (http_check_params(r, allowed) ||
	    param_str(r, "host", host, sizeof(host), MP_HOST_ID_CHARSET) < 0) {
		cJSON_Delete(rows);
		return 400;
	}
	p[0] = DB_STR(host);
	p[1] = DB_STR(host);
	rc = db_select(r->db, top_sql, p, 2, add_top_row, rows, err, sizeof(err));
	if (rc == 0)
		rc = db_select(r->db, top_sum_sql, p, 2, row_two_nums, sum, err, sizeof(err));
	if (rc < 0) {
		cJSON_Delete(rows);
		return reply_db_error(r, rc, err);
	}
	cJSON_ArrayForEach(it, rows)
	{
		double b = cJSON_GetObjectItem(it, "requested_bytes")->valuedouble;

		top_bytes += b;
		cJSON_AddNumberToObject(it, "share", sum[0] > 0 ? b / sum[0] : 0);
	}
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "total_requested_bytes", sum[0]);
	cJSON_AddNumberToObject(o, "processes", sum[1]);
	cJSON_AddItemToObject(o, "top", rows);
	it = cJSON_AddObjectToObject(o, "others");
	cJSON_AddNumberToObject(it, "processes", sum[1] - cJSON_GetArraySize(rows));
	cJSON_AddNumberToObject(it, "requested_bytes", sum[0] - top_bytes);
	cJSON_AddNumberToObject(it, "share", sum[0] > 0 ? (sum[0] - top_bytes) / sum[0] : 0);
	return reply_json(r, 200, o);
}
