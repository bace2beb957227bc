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

/* The processes that match host ('' = all), uid (-1 = all) and state (0
 * all, 1 alive, 2 exited) are summed per (host, cgroup) first; only then
 * are the sums named (hosts, cgroups: one lookup per group, not per
 * process) and filtered by group name ('' = all) and by a substring of it
 * ('' = all). */
#define GROUPS_WHERE                                                                               \
	" FROM (SELECT p.host_id, p.cgroup_id, COUNT(*) AS n, SUM(p.rss_bytes) AS rss,"            \
	" SUM(p.rss_anon_bytes) AS anon, SUM(p.rss_file_bytes) AS file,"                           \
	" SUM(p.rss_shmem_bytes) AS shmem, SUM(p.swap_bytes) AS swap, SUM(p.net_bytes) AS net,"    \
	" SUM(p.mapped_bytes) AS mapped, SUM(p.vm_size_bytes) AS vm,"                              \
	" SUM(p.requested_bytes) AS requested FROM processes p"                                    \
	" WHERE (? = '' OR p.host_id = (SELECT host_id FROM hosts WHERE name = ?))"                \
	" AND (? < 0 OR p.uid = ?) AND (? = 0 OR p.exited = ? - 1)"                                \
	" GROUP BY p.host_id, p.cgroup_id) a JOIN hosts h ON h.host_id = "                         \
	"a.host_id" SUMS_GROUP_JOIN " WHERE (? = '' OR " SUMS_GROUP_NAME                           \
	" = ?) AND (? = '' OR LOCATE(?, " SUMS_GROUP_NAME ") > 0)"
#define GROUPS_WHERE_PARAMS 10
#define SUMS_GROUP_JOIN	    GROUP_JOIN("a")
#define SUMS_GROUP_NAME	    GROUP_NAME("a")
#define SUMS_GROUP_COLUMNS  GROUP_COLUMNS("a")

/* The columns add_group_row() reads. */
#define GROUPS_COLUMNS                                                                             \
	"h.name, " SUMS_GROUP_COLUMNS ", a.n, a.rss, a.anon, a.file, a.shmem, a.swap, a.net,"      \
	" a.mapped, a.vm, a.requested, h.mem_total_bytes"

#define GROUPS_SQL(col, dir)                                                                       \
	"SELECT " GROUPS_COLUMNS GROUPS_WHERE " ORDER BY " col " " dir                             \
	", a.host_id, a.cgroup_id LIMIT ? OFFSET ?"
#define GROUPS_SQL_BOTH(col)                                                                       \
	{                                                                                          \
		GROUPS_SQL(col, "DESC"), GROUPS_SQL(col, "ASC")                                    \
	}
/* [sort][order], in sort_names[] and order_names[] order. */
static const char *const groups_sql[7][2] = {
    GROUPS_SQL_BOTH("a.rss"),	      GROUPS_SQL_BOTH("a.swap"), GROUPS_SQL_BOTH("a.vm"),
    GROUPS_SQL_BOTH("a.mapped"),      GROUPS_SQL_BOTH("a.net"),	 GROUPS_SQL_BOTH("a.n"),
    GROUPS_SQL_BOTH(SUMS_GROUP_NAME),
};
static const char groups_count_sql[] = "SELECT COUNT(*)" GROUPS_WHERE;

static int add_group_row(void *arg, char **c, unsigned long *len, unsigned int n)
{
	cJSON *o = cJSON_CreateObject();

	(void)n;
	json_add_bytes_str(o, "host", c[0], len[0]);
	group_json(o, c + 1, len + 1);
	json_add_num(o, "processes", c[5]);
	rss_json(o, c + 6);
	json_add_num(o, "memory_held_bytes", c[11]);
	json_add_num(o, "mapped_bytes", c[12]);
	json_add_num(o, "vm_size_bytes", c[13]);
	json_add_num(o, "requested_bytes", c[14]);
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
	uint64_t limit, offset;
	int sort, order;

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
	return reply_list(r, &(struct list_page){.rows_sql = groups_sql[sort][order],
						 .count_sql = groups_count_sql,
						 .p = p,
						 .n_filter = GROUPS_WHERE_PARAMS,
						 .n_count = GROUPS_WHERE_PARAMS,
						 .limit = limit,
						 .offset = offset,
						 .add_row = add_group_row,
						 .key = "groups",
						 .sort = sort_names[sort],
						 .order = order_names[order]});
}
