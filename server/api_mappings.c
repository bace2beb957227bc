/*
 * api_mappings.c - /api/processes/{pid}/mappings: a process's ledger, the
 * ranges it mapped while memprobe watched and still holds, each with the
 * call that made it (docs/API.md).  Now: the live rows of process_ranges
 * (lector keeps them in the transaction of the calls), sorted and paged
 * by a keyset in SQL.  At an instant T: the process's calls up to T
 * replayed through model/ (proc_series.c's proc_replay, bounded by
 * --series-max-calls), sorted and paged here: "exact": false when the
 * process's first call (processes.first_seen_ns) is no longer in calls
 * (retention: the ranges it and the purged calls after it made are not
 * known).  The cursor is opaque to clients: sort, order and the last row's
 * key.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "host_id.h"
#include "ledger.h"
#include "rows.h"
#include "server.h"
#include "timetravel.h"

static const char *const sort_names[] = {"age", "size", NULL};
static const char *const order_names[] = {"asc", "desc", NULL};

struct page_args {
	int sort, desc, has_after;
	uint64_t k1, k2, limit, at;
	char host[MP_HOST_ID_MAX + 1];
	uint64_t pid, start_ns;
};

/* The cursor: "<a|s><a|d>.<key hex>.<start hex>", exactly as made here. */
static void cursor_of(char *buf, size_t cap, const struct page_args *a, const struct range *r)
{
	uint64_t k1 = a->sort ? r->end - r->start : r->attr.created_ns;

	snprintf(buf, cap, "%c%c.%llx.%llx", a->sort ? 's' : 'a', a->desc ? 'd' : 'a',
		 (unsigned long long)k1, (unsigned long long)r->start);
}

static int parse_cursor(struct req *r, struct page_args *a)
{
	char buf[64], again[64], s, o;
	unsigned long long k1, k2;
	int rc = param_str(r, "after", buf, sizeof(buf), "0123456789abcdefsd.");

	if (rc <= 0)
		return rc;
	if (sscanf(buf, "%c%c.%llx.%llx", &s, &o, &k1, &k2) == 4) {
		snprintf(again, sizeof(again), "%c%c.%llx.%llx", s, o, k1, k2);
		if (!strcmp(again, buf) && s == (a->sort ? 's' : 'a') && o == (a->desc ? 'd' : 'a')) {
			a->has_after = 1;
			a->k1 = k1;
			a->k2 = k2;
			return 0;
		}
	}
	reply_error(r, 400, "bad parameter", "after",
		    "not a cursor this endpoint gave for this sort and order: pass the 'next' of "
		    "the previous page, with the same sort and order");
	return -EINVAL;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void add_header(cJSON *o, const char *host, uint64_t pid, uint64_t start_ns,
		       const char *comm, unsigned long comm_len, uint64_t at)
{
	json_add_bytes_str(o, "host", host, strlen(host));
	cJSON_AddNumberToObject(o, "pid", (double)pid);
	tt_add_ns_str(o, "start_ns", start_ns);
	json_add_bytes_str(o, "name", comm, comm_len);
	if (at)
		tt_add_ns_str(o, "at_ns", at);
	else
		cJSON_AddNullToObject(o, "at_ns");
}

static void add_totals(cJSON *o, const struct page_args *a, uint64_t total, uint64_t ledger,
		       uint64_t vm)
{
	cJSON *c = cJSON_AddObjectToObject(o, "coverage");

	cJSON_AddNumberToObject(c, "ledger_bytes", (double)ledger);
	cJSON_AddNumberToObject(c, "vm_size_bytes", (double)vm);
	if (vm)
		cJSON_AddNumberToObject(c, "ratio", (double)ledger / (double)vm);
	else
		cJSON_AddNullToObject(c, "ratio");
	cJSON_AddNumberToObject(o, "total", (double)total);
	cJSON_AddNumberToObject(o, "ledger_bytes", (double)ledger);
	cJSON_AddStringToObject(o, "sort", sort_names[a->sort]);
	cJSON_AddStringToObject(o, "order", a->desc ? "desc" : "asc");
	cJSON_AddNumberToObject(o, "limit", (double)a->limit);
}

/* ---- now: process_ranges ---- */

static const char proc_sql[] =
    "SELECT h.name, p.host_id, p.pid, p.start_ns, p.comm, p.vm_size_bytes, p.exited"
    " FROM processes p JOIN hosts h ON h.host_id = p.host_id"
    " WHERE p.pid = ? AND (? = '' OR h.name = ?) AND (? = 0 OR p.start_ns = ?)"
    " ORDER BY p.start_ns DESC, p.last_seen_ns DESC LIMIT 1";

#define RANGE_WHERE " WHERE r.host_id = ? AND r.pid = ? AND r.start_ns = ?"
static const char totals_sql[] =
    "SELECT COUNT(*), COALESCE(SUM(r.end_addr - r.start_addr), 0) FROM process_ranges r" RANGE_WHERE;

#define PAGE_SQL(key, cmp, dir)                                                                    \
	"SELECT r.start_addr, r.end_addr, r.created_ns, r.prot, r.flags, r.file_dev, r.file_ino,"  \
	" r.offset_bytes, r.via, f.path FROM process_ranges r LEFT JOIN files f"                   \
	" ON r.file_ino <> 0 AND f.host_id = r.host_id AND f.file_dev = r.file_dev"                \
	" AND f.file_ino = r.file_ino" RANGE_WHERE " AND (? = 0 OR " key " " cmp " ? OR (" key     \
	" = ? AND r.start_addr " cmp " ?)) ORDER BY " key " " dir ", r.start_addr " dir " LIMIT ?"
#define AGE_KEY	 "r.created_ns"
#define SIZE_KEY "(r.end_addr - r.start_addr)"
/* [sort][desc] */
static const char *const page_sql[2][2] = {
    {PAGE_SQL(AGE_KEY, ">", "ASC"), PAGE_SQL(AGE_KEY, "<", "DESC")},
    {PAGE_SQL(SIZE_KEY, ">", "ASC"), PAGE_SQL(SIZE_KEY, "<", "DESC")},
};

struct found {
	char host[MP_HOST_ID_MAX + 1], comm[MEMPROBE_COMM_LEN + 1];
	unsigned long comm_len;
	uint64_t host_id, pid, start_ns, vm, exited;
	int ok;
};

static int keep_found(void *arg, char **c, unsigned long *len, unsigned int n)
{
	struct found *f = arg;

	(void)n;
	snprintf(f->host, sizeof(f->host), "%.*s", (int)len[0], c[0]);
	f->host_id = strtoull(c[1], NULL, 10);
	f->pid = strtoull(c[2], NULL, 10);
	f->start_ns = strtoull(c[3], NULL, 10);
	f->comm_len = len[4] < MEMPROBE_COMM_LEN ? len[4] : MEMPROBE_COMM_LEN;
	memcpy(f->comm, c[4], f->comm_len);
	f->vm = strtoull(c[5], NULL, 10);
	f->exited = c[6][0] == '1';
	f->ok = 1;
	return 1;
}

static int row_two_u64(void *arg, char **c, unsigned long *len, unsigned int n)
{
	(void)len;
	(void)n;
	((uint64_t *)arg)[0] = strtoull(c[0], NULL, 10);
	((uint64_t *)arg)[1] = strtoull(c[1], NULL, 10);
	return 1;
}

struct page {
	struct range *r;
	char **path;
	unsigned long *path_len;
	size_t n, cap;
};

static int keep_row(void *arg, char **c, unsigned long *len, unsigned int ncol)
{
	struct page *pg = arg;
	struct range *r;

	(void)ncol;
	if (pg->n == pg->cap)
		return 1;
	r = &pg->r[pg->n];
	memset(r, 0, sizeof(*r));
	r->start = strtoull(c[0], NULL, 10);
	r->end = strtoull(c[1], NULL, 10);
	r->attr.created_ns = strtoull(c[2], NULL, 10);
	r->attr.prot = (uint32_t)strtoul(c[3], NULL, 10);
	r->attr.flags = (uint32_t)strtoul(c[4], NULL, 10);
	r->attr.file_dev = (uint32_t)strtoul(c[5], NULL, 10);
	r->attr.file_ino = strtoull(c[6], NULL, 10);
	r->attr.offset_bytes = strtoull(c[7], NULL, 10);
	r->attr.via = !strcmp(c[8], "mmap") ? MP_VIA_MMAP : !strcmp(c[8], "mremap") ? MP_VIA_MREMAP
										 : MP_VIA_UNKNOWN;
	pg->path[pg->n] = NULL;
	if (len[9] && (pg->path[pg->n] = malloc(len[9])))
		memcpy(pg->path[pg->n], c[9], pg->path_len[pg->n] = len[9]);
	pg->n++;
	return 0;
}

static int mappings_now(struct req *r, struct page_args *a)
{
	struct found f = {0};
	struct db_param p[8];
	uint64_t tot[2] = {0, 0};
	struct page pg = {calloc(a->limit + 1, sizeof(struct range)),
			  calloc(a->limit + 1, sizeof(char *)),
			  calloc(a->limit + 1, sizeof(unsigned long)), 0, a->limit + 1};
	char err[256], next[64];
	cJSON *o, *arr;
	int rc;

	if (!pg.r || !pg.path || !pg.path_len) {
		rc = reply_error(r, 500, "out of memory", NULL, "ask for a smaller limit");
		goto out;
	}
	p[0] = DB_U64(a->pid);
	p[1] = DB_STR(a->host);
	p[2] = DB_STR(a->host);
	p[3] = DB_U64(a->start_ns);
	p[4] = DB_U64(a->start_ns);
	rc = db_select(r->db, proc_sql, p, 5, keep_found, &f, err, sizeof(err));
	if (rc == 0 && !f.ok) {
		rc = reply_error(r, 404, "no such process", "pid",
				 "no process with this pid (and host/start_ns) was captured");
		goto out;
	}
	p[0] = DB_U64(f.host_id);
	p[1] = DB_U64(f.pid);
	p[2] = DB_U64(f.start_ns);
	p[3] = DB_U64(a->has_after);
	p[4] = DB_U64(a->k1);
	p[5] = DB_U64(a->k1);
	p[6] = DB_U64(a->k2);
	p[7] = DB_U64(a->limit + 1);
	if (rc == 0)
		rc = db_select(r->db, totals_sql, p, 3, row_two_u64, tot, err, sizeof(err));
	if (rc == 0)
		rc = db_select(r->db, page_sql[a->sort][a->desc], p, 8, keep_row, &pg, err,
			       sizeof(err));
	if (rc < 0) {
		rc = reply_db_error(r, rc, err);
		goto out;
	}
	o = cJSON_CreateObject();
	add_header(o, f.host, f.pid, f.start_ns, f.comm, f.comm_len, 0);
	add_totals(o, a, tot[0], tot[1], f.exited ? 0 : f.vm);
	arr = cJSON_AddArrayToObject(o, "mappings");
	for (size_t i = 0; i < pg.n && i < a->limit; i++)
		cJSON_AddItemToArray(arr, ledger_row_json(&pg.r[i], pg.path[i], pg.path_len[i],
							  now_ns()));
	if (pg.n > a->limit) {
		cursor_of(next, sizeof(next), a, &pg.r[a->limit - 1]);
		cJSON_AddStringToObject(o, "next", next);
	} else
		cJSON_AddNullToObject(o, "next");
	rc = reply_json(r, 200, o);
out:
	for (size_t i = 0; pg.path && i < pg.n; i++)
		free(pg.path[i]);
	free(pg.r);
	free(pg.path);
	free(pg.path_len);
	return rc;
}

/* ---- at T: a replay ---- */

/* The first range after the cursor in the sorted array. */
static size_t after_cursor(const struct range *v, size_t n, const struct page_args *a)
{
	size_t i = 0;

	if (!a->has_after)
		return 0;
	for (; i < n; i++) {
		uint64_t k1 = a->sort ? v[i].end - v[i].start : v[i].attr.created_ns;

		if (a->desc ? (k1 < a->k1 || (k1 == a->k1 && v[i].start < a->k2))
			    : (k1 > a->k1 || (k1 == a->k1 && v[i].start > a->k2)))
			break;
	}
	return i;
}

static int mappings_at(struct req *r, struct page_args *a)
{
	struct tt_query q = {.host = a->host, .pid = a->pid, .start_ns = a->start_ns,
			     .at_ns = a->at, .max_calls = series_max_calls()};
	const struct tt_proc *best = NULL;
	struct replay_result res = {0};
	struct range *v = NULL;
	size_t n = 0, from;
	struct tt_set s;
	char err[256], next[64];
	cJSON *o, *arr;
	int rc = tt_states(r->db, &q, &s, err, sizeof(err));

	if (rc < 0)
		return reply_tt_error(r, rc, err);
	best = tt_newest(&s);
	if (!best) {
		rc = reply_error(r, 404, "no such process", "pid",
				 "no process with this pid (and host/start_ns) was seen at or "
				 "before at");
		goto out;
	}
	rc = proc_replay(r->db, best->host, best->pid, best->start_ns, a->at, NULL, NULL, &res,
			 err, sizeof(err));
	if (rc == 0 && res.proc && !res.proc->exited)
		rc = ledger_ranges_of(&res.proc->mapped, &v, &n);
	if (rc < 0) {
		rc = rc == -ENOMEM ? reply_error(r, 500, "out of memory", NULL, "ask again later")
				   : reply_db_error(r, rc, err);
		goto out;
	}
	uint64_t ledger = 0;

	for (size_t i = 0; i < n; i++)
		ledger += v[i].end - v[i].start;
	ledger_sort(v, n, a->sort, a->desc);
	from = after_cursor(v, n, a);
	o = cJSON_CreateObject();
	add_header(o, best->host, best->pid, best->start_ns, best->comm, best->comm_len, a->at);
	add_totals(o, a, n, ledger, best->state == TT_ALIVE ? best->vm_size_bytes : 0);
	cJSON_AddBoolToObject(o, "truncated", res.calls > res.replayed);
	/* the replay starts at the oldest call kept: is it the first? */
	cJSON_AddBoolToObject(o, "exact",
			      res.proc && res.proc->first_seen_ns == best->first_seen_ns);
	arr = cJSON_AddArrayToObject(o, "mappings");
	rc = ledger_add_rows(r->db, best->host_id, v + from,
			     n - from < a->limit ? n - from : a->limit, a->at, arr, err,
			     sizeof(err));
	if (rc < 0) {
		cJSON_Delete(o);
		rc = reply_db_error(r, rc, err);
		goto out;
	}
	if (n - from > a->limit) {
		cursor_of(next, sizeof(next), a, &v[from + a->limit - 1]);
		cJSON_AddStringToObject(o, "next", next);
	} else
		cJSON_AddNullToObject(o, "next");
	rc = reply_json(r, 200, o);
out:
	free(v);
	acct_free(res.acct);
	tt_set_free(&s);
	return rc;
}

/* path_arg: "PID/mappings" (routes.c hands /api/processes/ to
 * api_process_one, which passes this form on). */
int api_mappings(struct req *r)
{
	static const char *const allowed[] = {"host",  "start_ns", "sort", "order",
					      "limit", "after",	   "at",   NULL};
	struct page_args a = {0};
	char *end, key[CACHE_KEY_BYTES];
	const char *body;
	size_t len_bytes;
	void *owner;
	int order, n;

	a.pid = strtoull(r->path_arg, &end, 10);
	if (!isdigit((unsigned char)r->path_arg[0]) || strcmp(end, "/mappings") || a.pid < 1 ||
	    a.pid > 4194304)
		return reply_error(r, 400, "bad parameter", "pid",
				   "the path must be /api/processes/PID/mappings, PID from 1 to "
				   "4194304");
	if (http_check_params(r, allowed) ||
	    param_str(r, "host", a.host, sizeof(a.host), MP_HOST_ID_CHARSET) < 0 ||
	    param_u64(r, "start_ns", 1, UINT64_MAX, 0, &a.start_ns) ||
	    param_enum(r, "sort", sort_names, 0, &a.sort) ||
	    param_enum(r, "order", order_names, -1, &order) ||
	    param_u64(r, "limit", 1, 1000, 100, &a.limit) ||
	    param_u64(r, "at", 1, INT64_MAX, 0, &a.at))
		return 400;
	a.desc = order < 0 ? a.sort == 1 : order == 1;
	if (parse_cursor(r, &a) < 0)
		return 400;
	/* cached as the routes of routes.c are: by path and query */
	n = snprintf(key, sizeof(key), "%s?%s", r->ri->local_uri,
		     r->ri->query_string ? r->ri->query_string : "");
	if (n > 0 && (size_t)n < sizeof(key) &&
	    cache_lookup(key, &r->cache, &body, &len_bytes, &owner))
		return reply_borrowed(r, 200, "application/json", body, len_bytes, cache_release,
				      owner);
	return a.at ? mappings_at(r, &a) : mappings_now(r, &a);
}
