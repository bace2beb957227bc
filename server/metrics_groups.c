/*
 * metrics_groups.c - /metrics' per-group series: resident and virtual
 * bytes of the live processes of each cgroup, for the top N groups by
 * resident bytes of each host only (--metrics-groups N), so the number of
 * series stays bounded however many cgroups a host makes; and the OOM
 * kills counted per host.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "metrics_text.h"
#include "rows.h"
#include "server.h"

static unsigned int groups_max = 20;

void metrics_groups_init(unsigned int max_per_host)
{
	groups_max = max_per_host;
}

/* Live processes summed per (host, cgroup), ranked per host by resident
 * bytes (ties: cgroup id); the first N of each host. */
static const char groups_sql[] =
    "SELECT host, cgroup_id, gname, rss, vm FROM (SELECT STRAIGHT_JOIN MAX(h.name) AS host,"
    " p.host_id, p.cgroup_id, MAX(" PROC_GROUP_NAME ") AS gname, SUM(p.rss_bytes) AS rss,"
    " SUM(p.vm_size_bytes) AS vm, ROW_NUMBER() OVER (PARTITION BY p.host_id"
    " ORDER BY SUM(p.rss_bytes) DESC, p.cgroup_id) AS rn" PROC_FROM
    " WHERE p.exited = 0 AND (? = '' OR h.name = ?) GROUP BY p.host_id, p.cgroup_id) t"
    " WHERE rn <= ? ORDER BY host_id, rn";
/* Every host (0 when it had none), so rate() sees the first kill. */
static const char oom_sql[] =
    "SELECT MAX(h.name), COUNT(o.host_id) FROM hosts h LEFT JOIN oom_kills o"
    " ON o.host_id = h.host_id WHERE (? = '' OR h.name = ?) GROUP BY h.host_id ORDER BY 1";

static int add_group(void *arg, char **c, unsigned long *len, unsigned int n)
{
	struct mlines *m = arg;
	double val[2] = {json_num(c[3]), json_num(c[4])};

	(void)n;
	if (mlines_add(m, val, 2))
		return -ENOMEM;
	sb_printf(&m->lab, "host=\"");
	sb_label(&m->lab, c[0], len[0]);
	sb_printf(&m->lab, "\",group=\"");
	sb_label(&m->lab, c[2], len[2]);
	sb_printf(&m->lab, "\",cgroup_id=\"%s\"", c[1]);
	return mlines_end(m);
}

static int add_oom(void *arg, char **c, unsigned long *len, unsigned int n)
{
	struct mlines *m = arg;
	double val = json_num(c[1]);

	(void)n;
	if (mlines_add(m, &val, 1))
		return -ENOMEM;
	sb_printf(&m->lab, "host=\"");
	sb_label(&m->lab, c[0], len[0]);
	sb_printf(&m->lab, "\"");
	return mlines_end(m);
}

/* hp: the host filter's two parameters.  0, or a db_select error. */
int metrics_groups(struct sbuf *b, struct db_pool *db, const struct db_param *hp, char *err,
		   size_t errlen)
{
	struct mlines grp = {0}, oom = {0};
	struct db_param p[3] = {hp[0], hp[1], DB_U64(groups_max)};
	int rc = 0;

	if (groups_max)
		rc = db_select(db, groups_sql, p, 3, add_group, &grp, err, errlen);
	if (rc == 0)
		rc = db_select(db, oom_sql, p, 2, add_oom, &oom, err, errlen);
	if (rc == 0) {
		mlines_write(b, &grp, 0, "memprobe_group_resident_bytes", "gauge",
			     "resident bytes (RssAnon+RssFile+RssShmem) of the alive processes of "
			     "a cgroup; the top --metrics-groups groups by it per host");
		mlines_write(
		    b, &grp, 1, "memprobe_group_virtual_bytes", "gauge",
		    "sum of total_vm (VmSize) of the alive processes of a cgroup; the same "
		    "groups");
		mlines_write(b, &oom, 0, "memprobe_oom_kills_total", "counter",
			     "processes the kernel's OOM killer chose, as lector recorded them");
	}
	mlines_free(&grp);
	mlines_free(&oom);
	return rc;
}
