/*
 * api_hosts.c - /api/hosts: every machine whose lector writes this
 * database (hosts table), with when it was first and last heard from, its
 * memory size (the "% of system VM" denominator of its processes), its
 * processes and its capture sessions.  The dashboard's host selector is
 * built from it.
 */
#include <stdlib.h>

#include "server.h"

/* A host is "active" when its lector committed (calls or, idle, its
 * once-a-second statistics) within this many seconds. */
#define HOST_ACTIVE_S 10

/* Counted per host from small indexes: capture_stats (one row per
 * session) and processes' by_live (host_id, exited, ...).  Calls are not
 * counted row by row (millions): calls_committed sums the sessions'
 * rows_committed, which also counts rows retention purged since. */
static const char hosts_sql[] =
    "SELECT h.name, UNIX_TIMESTAMP(h.first_seen),"
    " UNIX_TIMESTAMP(GREATEST(h.last_seen, COALESCE(s.upd, h.last_seen))),"
    " UNIX_TIMESTAMP(NOW(6)) - UNIX_TIMESTAMP(GREATEST(h.last_seen, COALESCE(s.upd, "
    "h.last_seen))),"
    " h.mem_total_bytes, h.swap_total_bytes, COALESCE(s.n, 0), COALESCE(s.rows_c, 0),"
    " (SELECT COUNT(*) FROM processes p WHERE p.host_id = h.host_id AND p.exited = 0),"
    " (SELECT COUNT(*) FROM processes p WHERE p.host_id = h.host_id)"
    " FROM hosts h LEFT JOIN (SELECT host_id, COUNT(*) AS n, SUM(rows_committed) AS rows_c,"
    " MAX(updated_at) AS upd FROM capture_stats GROUP BY host_id) s ON s.host_id = h.host_id"
    " ORDER BY h.name";

static int add_host(void *arg, char **c, unsigned long *len, unsigned int n)
{
	cJSON *o = cJSON_CreateObject();

	(void)n;
	json_add_bytes_str(o, "name", c[0], len[0]);
	cJSON_AddNumberToObject(o, "first_seen_s", json_num(c[1]));
	cJSON_AddNumberToObject(o, "last_seen_s", json_num(c[2]));
	cJSON_AddBoolToObject(o, "active", json_num(c[3]) < HOST_ACTIVE_S);
	cJSON_AddNumberToObject(o, "mem_total_bytes", json_num(c[4]));
	cJSON_AddNumberToObject(o, "swap_total_bytes", json_num(c[5]));
	cJSON_AddNumberToObject(o, "sessions", json_num(c[6]));
	cJSON_AddNumberToObject(o, "calls_committed", json_num(c[7]));
	cJSON_AddNumberToObject(o, "processes_alive", json_num(c[8]));
	cJSON_AddNumberToObject(o, "processes", json_num(c[9]));
	cJSON_AddItemToArray(arg, o);
	return 0;
}

int api_hosts(struct req *r)
{
	static const char *const allowed[] = {NULL};
	cJSON *o, *hosts = cJSON_CreateArray();
	char err[256];
	int rc;

	if (http_check_params(r, allowed)) {
		cJSON_Delete(hosts);
		return 400;
	}
	rc = db_select(r->db, hosts_sql, NULL, 0, add_host, hosts, err, sizeof(err));
	if (rc < 0) {
		cJSON_Delete(hosts);
		return reply_db_error(r, rc, err);
	}
	o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "hosts", hosts);
	cJSON_AddNumberToObject(o, "active_within_s", HOST_ACTIVE_S);
	return reply_json(r, 200, o);
}
