/*
 * api_groups.c - /api/groups: the processes rows summed per (host,
 * cgroup), the way people think of a server's memory (a service, a
 * container, a pod).  A process counts in the group of its latest
 * record's cgroup (rows.h, GROUP_NAME); sums are over the processes
 * that match the filters, so a group's figures are exactly the sum of
 * the /api/processes rows with that host and cgroup_id.
 */
#include <stdio.h>
#include <stdlib.h>

#include "host_id.h"
#include "rows.h"
#include "server.h"

static const char *const sort_names[] = {"rss", "swap",	     "vm",   "mapped",
					 "net", "processes", "name", NULL};
static const char *const order_names[] = {"desc", "asc", NULL};
static const char *const state_names[] = {"all", "alive", "exited", NULL};

/* host ('' = all), uid (-1 = all), state (0 all, 1 alive, 2 exited),
 * group name ('' = all), substring of the group name ('' = all). */
#define GROUPS_WHERE                                                                               \
	PROC_FROM                                                                                  \
	" WHERE (? = '' OR h.name = ?) AND (? < 0 OR p.uid = ?) AND (? = 0 OR p.exited = ? - 1)"   \
	" AND (? = '' OR " PROC_GROUP_NAME " = ?) AND (? = '' OR LOCATE(?, " PROC_GROUP_NAME       \
	") > 0)"
#define GROUPS_WHERE_PARAMS 10

/* The columns add_group_row() reads.  MAX() of a value that is the same
 * in every row of the group (it depends on host_id and cgroup_id only). */
#define GROUPS_COLUMNS                                                                             \
	"MAX(h.name), p.cgroup_id, MAX(" GROUP_PATH_P "), MAX(" PROC_GROUP_NAME ") AS gname,"      \
	" MAX(" GROUP_KIND_P "), COUNT(*) AS n, SUM(p.rss_bytes) AS rss, SUM(p.rss_anon_bytes),"   \
	" SUM(p.rss_file_bytes), SUM(p.rss_shmem_bytes), SUM(p.swap_bytes) AS swap,"               \
	" SUM(p.net_bytes) AS net, SUM(p.mapped_bytes) AS mapped, SUM(p.vm_size_bytes) AS vm,"     \
	" SUM(p.requested_bytes), MAX(h.mem_total_bytes)"
#define GROUP_PATH_P GROUP_PATH("p")
#define GROUP_KIND_P GROUP_KIND("p")

#define GROUPS_SQL(col, dir)                                                                       \
	"SELECT STRAIGHT_JOIN " GROUPS_COLUMNS GROUPS_WHERE " GROUP BY p.host_id, p.cgroup_id"     \
	" ORDER BY " col " " dir ", p.host_id, p.cgroup_id LIMIT ? OFFSET ?"
#define GROUPS_SQL_BOTH(col)                                                                       \
	{                                                                                          \
		GROUPS_SQL(col, "DESC"), GROUPS_SQL(col, "ASC")                                    \
	}
/* [sort][order], in sort_names[] and order_names[] order. */
static const char *const groups_sql[7][2] = {
    GROUPS_SQL_BOTH("rss"),    GROUPS_SQL_BOTH("swap"), GROUPS_SQL_BOTH("vm"),
    GROUPS_SQL_BOTH("mapped"), GROUPS_SQL_BOTH("net"),	GROUPS_SQL_BOTH("n"),
    GROUPS_SQL_BOTH("gname"),
};
static const char groups_count_sql[] =
    "SELECT STRAIGHT_JOIN COUNT(DISTINCT p.host_id, p.cgroup_id)" GROUPS_WHERE;

static int add_group_row(void *arg, char **c, unsigned long *len, unsigned int n)
{
	cJSON *o = cJSON_CreateObject();

	(void)n;
	json_add_bytes_str(o, "host", c[0], len[0]);
	group_json(o, c + 1, len + 1);
	cJSON_AddNumberToObject(o, "processes", json_num(c[5]));
	rss_json(o, c + 6);
	cJSON_AddNumberToObject(o, "memory_held_bytes", json_num(c[11]));
	cJSON_AddNumberToObject(o, "mapped_bytes", json_num(c[12]));
	cJSON_AddNumberToObject(o, "vm_size_bytes", json_num(c[13]));
	cJSON_AddNumberToObject(o, "requested_bytes", json_num(c[14]));
	pct_of_ram_json(o, json_num(c[6]), json_num(c[15]));
	cJSON_AddItemToArray(arg, o);
	return 0;
}

struct group_filter {
	char host[MP_HOST_ID_MAX + 1], group[GROUP_NAME_MAX_BYTES + 1],
	    name[GROUP_NAME_MAX_BYTES + 1];
	uint64_t uid;
	int state;
};

static void group_params(struct db_param *p, const struct group_filter *f)
{
	p[0] = DB_STR(f->host);
	p[1] = DB_STR(f->host);
	p[2] =
	    (struct db_param){.type = DBP_I64, .i64 = f->uid == UINT64_MAX ? -1 : (int64_t)f->uid};
	p[3] = DB_U64(f->uid == UINT64_MAX ? 0 : f->uid);
	p[4] = DB_U64((uint64_t)f->state);
	p[5] = DB_U64((uint64_t)f->state);
	p[6] = DB_STR(f->group);
	p[7] = DB_STR(f->group);
	p[8] = DB_STR(f->name);
	p[9] = DB_STR(f->name);
}

int api_groups(struct req *r)
{
	static const char *const allowed[] = {"host", "uid",   "user",	"state",  "group", "name",
					      "sort", "order", "limit", "offset", NULL};
	struct group_filter f;
	struct db_param p[GROUPS_WHERE_PARAMS + 2];
	uint64_t limit, offset, total = 0;
	int sort, order, rc;
	char err[256];
	cJSON *rows, *o;

	if (http_check_params(r, allowed) ||
	    param_str(r, "host", f.host, sizeof(f.host), MP_HOST_ID_CHARSET) < 0 ||
	    param_u64(r, "uid", 0, 4294967295u, UINT64_MAX, &f.uid) || param_user(r, &f.uid) ||
	    param_enum(r, "state", state_names, 1, &f.state) ||
	    param_str(r, "group", f.group, sizeof(f.group), NULL) < 0 ||
	    param_str(r, "name", f.name, sizeof(f.name), NULL) < 0 ||
	    param_enum(r, "sort", sort_names, 0, &sort) ||
	    param_enum(r, "order", order_names, 0, &order) ||
	    param_u64(r, "limit", 1, 1000, 100, &limit) ||
	    param_u64(r, "offset", 0, 1000000, 0, &offset))
		return 400;
	group_params(p, &f);
	p[GROUPS_WHERE_PARAMS] = DB_U64(limit);
	p[GROUPS_WHERE_PARAMS + 1] = DB_U64(offset);
	rows = cJSON_CreateArray();
	rc = db_select(r->db, groups_sql[sort][order], p, GROUPS_WHERE_PARAMS + 2, add_group_row,
		       rows, err, sizeof(err));
	if (rc == 0)
		rc = db_select(r->db, groups_count_sql, p, GROUPS_WHERE_PARAMS, row_first_u64,
			       &total, err, sizeof(err));
	if (rc < 0) {
		cJSON_Delete(rows);
		return reply_db_error(r, rc, err);
	}
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "total", (double)total);
	cJSON_AddNumberToObject(o, "limit", (double)limit);
	cJSON_AddNumberToObject(o, "offset", (double)offset);
	cJSON_AddStringToObject(o, "sort", sort_names[sort]);
	cJSON_AddStringToObject(o, "order", order_names[order]);
	cJSON_AddItemToObject(o, "groups", rows);
	return reply_json(r, 200, o);
}
